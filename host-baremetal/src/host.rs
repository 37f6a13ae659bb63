//! `HostOs` for the unikernel: memory from [`crate::memory`], files from
//! the in-kernel [`host_baremetal::fs::Fs`], time from [`crate::clock`],
//! entropy from [`crate::random`], and the serial console.
//!
//! Nothing guest-visible is decided here: this layer only forwards, and
//! answers the identity questions (pid, uname) a machine with one process
//! and no users answers.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt::{self, Write as _};
use host_baremetal::fs::{Console, FileRef, Fs, MAX_FDS, MAX_FDS_HARD};
use vm_core::abi::FIONREAD;
use vm_core::host::*;

/// The serial console: stdout on COM1, stderr on COM2.
#[derive(Debug)]
pub struct SerialConsole;

impl Console for SerialConsole {
    fn stdout(&self, data: &[u8]) {
        crate::serial::COM1.lock().write_bytes(data);
    }
    fn stderr(&self, data: &[u8]) {
        crate::serial::COM2.lock().write_bytes(data);
    }
}

/// The unikernel host.
#[derive(Debug)]
pub struct BareMetal {
    pub fs: spin::Mutex<Fs>,
    /// (soft, hard) per Linux resource number, for `prlimit`.
    pub limits: spin::Mutex<[(u64, u64); 16]>,
    /// Shared file mappings (`MAP_SHARED`), kept coherent with their files.
    shared: spin::Mutex<Vec<SharedMap>>,
}

/// `[addr, addr+len)` shows file bytes from `offset`.
#[derive(Debug)]
struct SharedMap {
    file: FileRef,
    addr: u64,
    len: u64,
    offset: u64,
}

impl SharedMap {
    /// Mapping -> file (before the file is read or written).
    fn flush(&self) {
        let mut buf = vec![0u8; self.len as usize];
        if crate::memory::copy_out(self.addr, &mut buf).is_ok() {
            self.file.write_within(self.offset, &buf);
        }
    }
    /// File -> mapping (after the file may have changed).
    fn refresh(&self) {
        let mut buf = vec![0u8; self.len as usize];
        let n = self.file.read_at(self.offset, &mut buf);
        let _ = crate::memory::copy_in(self.addr, &buf[..n]);
    }
}

impl BareMetal {
    /// A host around the file system, with Linux's default limits.
    pub fn new(fs: Fs) -> BareMetal {
        const INF: u64 = u64::MAX;
        let mut limits = [(INF, INF); 16];
        limits[3] = (8 << 20, INF); // RLIMIT_STACK
        limits[4] = (0, INF); // RLIMIT_CORE
        limits[6] = (63_535, 63_535); // RLIMIT_NPROC
        limits[7] = (MAX_FDS as u64, MAX_FDS_HARD as u64); // RLIMIT_NOFILE
        limits[8] = (8 << 20, 8 << 20); // RLIMIT_MEMLOCK
        limits[11] = (63_535, 63_535); // RLIMIT_SIGPENDING
        limits[12] = (819_200, 819_200); // RLIMIT_MSGQUEUE
        limits[13] = (0, 0); // RLIMIT_NICE
        limits[14] = (0, 0); // RLIMIT_RTPRIO
        BareMetal {
            fs: spin::Mutex::new(fs),
            limits: spin::Mutex::new(limits),
            shared: spin::Mutex::new(Vec::new()),
        }
    }

    /// Run a file call with shared mappings flushed to their files first
    /// and refreshed from them after (a no-op without shared mappings).
    fn coherent<T>(&self, call: impl FnOnce(&mut Fs) -> T) -> T {
        let shared = self.shared.lock();
        shared.iter().for_each(SharedMap::flush);
        let r = call(&mut self.fs.lock());
        shared.iter().for_each(SharedMap::refresh);
        r
    }
}

fn field(s: &str) -> [u8; 65] {
    let mut f = [0u8; 65];
    let n = s.len().min(64);
    f[..n].copy_from_slice(&s.as_bytes()[..n]);
    f
}

impl HostOs for BareMetal {
    fn reserve(&self, size: usize) -> SysResult<*mut u8> {
        crate::memory::reserve(size)
    }
    fn protect(&self, addr: *mut u8, len: usize, prot: HostProt) -> SysResult<()> {
        crate::memory::protect(addr, len, prot)
    }
    fn discard(&self, addr: *mut u8, len: usize) -> SysResult<()> {
        // Unmapping part of a shared file mapping: its bytes reach the file
        // first, then the rest of the mapping stays (split if needed).
        let (start, end) = (addr as u64, addr as u64 + len as u64);
        let mut shared = self.shared.lock();
        let mut kept = Vec::new();
        for m in shared.drain(..) {
            let (ms, me) = (m.addr, m.addr + m.len);
            if me <= start || ms >= end {
                kept.push(m);
                continue;
            }
            m.flush();
            if ms < start {
                kept.push(SharedMap {
                    file: m.file.clone(),
                    addr: ms,
                    len: start - ms,
                    offset: m.offset,
                });
            }
            if me > end {
                kept.push(SharedMap {
                    file: m.file.clone(),
                    addr: end,
                    len: me - end,
                    offset: m.offset + (end - ms),
                });
            }
        }
        *shared = kept;
        crate::memory::discard(addr, len)
    }
    fn map_file(
        &self,
        addr: *mut u8,
        len: usize,
        fd: i32,
        offset: i64,
        prot: HostProt,
        shared: bool,
    ) -> SysResult<()> {
        if !shared {
            // Private mappings are copies: the core fills them itself.
            return Err(Errno::ENODEV);
        }
        let file = self.fs.lock().file_ref(fd)?;
        let offset = u64::try_from(offset).map_err(|_| Errno::EINVAL)?;
        crate::memory::protect(addr, len, prot)?;
        let mut all = self.shared.lock();
        // Other mappings may hold newer bytes of the same file.
        all.iter().for_each(SharedMap::flush);
        let m = SharedMap {
            file,
            addr: addr as u64,
            len: len as u64,
            offset,
        };
        m.refresh();
        all.push(m);
        Ok(())
    }

    fn alloc_code(&self, size: usize) -> SysResult<*mut u8> {
        crate::memory::alloc_code(size)
    }

    fn openat(&self, dirfd: i32, path: &[u8], flags: i32, mode: u32) -> SysResult<i32> {
        // O_TRUNC may empty a mapped file.
        self.coherent(|fs| fs.openat(dirfd, path, flags, mode))
    }
    fn close(&self, fd: i32) -> SysResult<()> {
        self.fs.lock().close(fd)
    }
    fn read(&self, fd: i32, buf: &mut [u8]) -> SysResult<usize> {
        self.coherent(|fs| fs.read(fd, buf))
    }
    fn write(&self, fd: i32, buf: &[u8]) -> SysResult<usize> {
        self.coherent(|fs| fs.write(fd, buf))
    }
    fn pread(&self, fd: i32, buf: &mut [u8], offset: i64) -> SysResult<usize> {
        self.coherent(|fs| fs.pread(fd, buf, offset))
    }
    fn pwrite(&self, fd: i32, buf: &[u8], offset: i64) -> SysResult<usize> {
        self.coherent(|fs| fs.pwrite(fd, buf, offset))
    }
    fn lseek(&self, fd: i32, offset: i64, whence: i32) -> SysResult<i64> {
        self.fs.lock().lseek(fd, offset, whence)
    }
    fn fstatat(&self, dirfd: i32, path: &[u8], flags: i32) -> SysResult<FileStat> {
        self.fs.lock().fstatat(dirfd, path, flags)
    }
    fn faccessat(&self, dirfd: i32, path: &[u8], mode: i32, flags: i32) -> SysResult<()> {
        self.fs.lock().faccessat(dirfd, path, mode, flags)
    }
    fn readlinkat(&self, dirfd: i32, path: &[u8], buf: &mut [u8]) -> SysResult<usize> {
        self.fs.lock().readlinkat(dirfd, path, buf)
    }
    fn getdents64(&self, fd: i32, buf: &mut [u8]) -> SysResult<usize> {
        self.fs.lock().getdents64(fd, buf)
    }
    fn mkdirat(&self, dirfd: i32, path: &[u8], mode: u32) -> SysResult<()> {
        self.fs.lock().mkdirat(dirfd, path, mode)
    }
    fn unlinkat(&self, dirfd: i32, path: &[u8], flags: i32) -> SysResult<()> {
        self.fs.lock().unlinkat(dirfd, path, flags)
    }
    fn renameat2(
        &self,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: u32,
    ) -> SysResult<()> {
        self.fs
            .lock()
            .renameat2(olddirfd, oldpath, newdirfd, newpath, flags)
    }
    fn symlinkat(&self, target: &[u8], newdirfd: i32, linkpath: &[u8]) -> SysResult<()> {
        self.fs.lock().symlinkat(target, newdirfd, linkpath)
    }
    fn linkat(
        &self,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: i32,
    ) -> SysResult<()> {
        self.fs
            .lock()
            .linkat(olddirfd, oldpath, newdirfd, newpath, flags)
    }
    fn fchmodat(&self, dirfd: i32, path: &[u8], mode: u32) -> SysResult<()> {
        self.fs.lock().fchmodat(dirfd, path, mode)
    }
    fn fchmod(&self, fd: i32, mode: u32) -> SysResult<()> {
        self.fs.lock().fchmod(fd, mode)
    }
    fn utimensat(
        &self,
        dirfd: i32,
        path: &[u8],
        times: Option<[Timespec; 2]>,
        flags: i32,
    ) -> SysResult<()> {
        self.fs.lock().utimensat(dirfd, path, times, flags)
    }
    fn ftruncate(&self, fd: i32, len: i64) -> SysResult<()> {
        self.coherent(|fs| fs.ftruncate(fd, len))
    }
    fn fsync(&self, fd: i32) -> SysResult<()> {
        self.fs.lock().fsync(fd)
    }
    fn fcntl(&self, fd: i32, cmd: i32, arg: i64) -> SysResult<i64> {
        self.fs.lock().fcntl(fd, cmd, arg)
    }
    fn fcntl_lock(&self, fd: i32, cmd: i32, lock: &mut Flock) -> SysResult<()> {
        // One process: no lock can conflict with another's. F_GETLK and
        // F_OFD_GETLK answer "nothing would block" as Linux does then.
        self.fs.lock().check_fd(fd)?;
        if cmd == 5 || cmd == 36 {
            lock.l_type = 2; // F_UNLCK
        }
        Ok(())
    }
    fn poll(&self, fds: &mut [PollFd], timeout: Option<Timespec>) -> SysResult<usize> {
        let ready = self.fs.lock().poll(fds);
        if ready > 0 {
            return Ok(ready);
        }
        match timeout {
            // Nothing else runs on this machine: what is not ready now
            // stays so for the whole timeout (spent halted, see `clock`).
            Some(t) => crate::clock::sleep(t).map(|()| 0),
            // Nothing can make them ready and no signal can come: Linux
            // would block the process for good. So does this machine, idle.
            None => crate::clock::wait_forever(),
        }
    }
    fn statfs(&self, fd: i32, path: &[u8]) -> SysResult<StatFs> {
        let st = if path.is_empty() {
            self.fs.lock().fstatat(fd, b"", AT_EMPTY_PATH)?
        } else {
            self.fs.lock().fstatat(AT_FDCWD, path, 0)?
        };
        let (total, free) = crate::memory::usage();
        // The ramdisk and /tmp both live in RAM: report a ramfs, read-only
        // (ST_RDONLY) outside the writable directories.
        Ok(StatFs {
            fs_type: 0x8584_58f6, // RAMFS_MAGIC
            bsize: 4096,
            blocks: total / 4096,
            bfree: free / 4096,
            bavail: free / 4096,
            files: 0,
            ffree: 0,
            fsid: [st.dev as i32, 0],
            namelen: 255,
            frsize: 4096,
            flags: if st.dev == 1 { 1 } else { 0 },
        })
    }
    fn dup(&self, fd: i32) -> SysResult<i32> {
        self.fs.lock().dup(fd)
    }
    fn dup3(&self, oldfd: i32, newfd: i32, flags: i32) -> SysResult<i32> {
        self.fs.lock().dup3(oldfd, newfd, flags)
    }
    fn pipe2(&self, flags: i32) -> SysResult<[i32; 2]> {
        self.fs.lock().pipe2(flags)
    }
    fn tcgetattr(&self, fd: i32) -> SysResult<Termios> {
        Err(self.fs.lock().not_a_tty(fd))
    }
    fn tcsetattr(&self, fd: i32, _action: u32, _termios: &Termios) -> SysResult<()> {
        Err(self.fs.lock().not_a_tty(fd))
    }
    fn winsize(&self, fd: i32) -> SysResult<WinSize> {
        Err(self.fs.lock().not_a_tty(fd))
    }
    fn ioctl_ptr(&self, fd: i32, req: u32, buf: &mut [u8]) -> SysResult<i32> {
        if req == FIONREAD && buf.len() == 4 {
            let n = self.fs.lock().pipe_bytes(fd)?;
            buf.copy_from_slice(&n.to_le_bytes());
            return Ok(0);
        }
        Err(self.fs.lock().not_a_tty(fd))
    }
    fn getcwd(&self, buf: &mut [u8]) -> SysResult<usize> {
        self.fs.lock().getcwd(buf)
    }
    fn chdir(&self, path: &[u8]) -> SysResult<()> {
        self.fs.lock().chdir(path)
    }
    fn fchdir(&self, fd: i32) -> SysResult<()> {
        self.fs.lock().fchdir(fd)
    }
    fn umask(&self, mask: u32) -> u32 {
        self.fs.lock().umask(mask)
    }

    fn clock_gettime(&self, clock: i32) -> SysResult<Timespec> {
        crate::clock::gettime(clock)
    }
    fn clock_getres(&self, clock: i32) -> SysResult<Timespec> {
        crate::clock::getres(clock)
    }
    fn sleep(&self, duration: Timespec) -> SysResult<()> {
        crate::clock::sleep(duration)
    }
    fn random(&self, buf: &mut [u8]) -> SysResult<usize> {
        crate::random::fill(buf);
        Ok(buf.len())
    }
    fn ids(&self) -> Ids {
        // The only process on the machine, run by its only user; its
        // parent is the kernel's notional init.
        Ids {
            pid: 2,
            ppid: 1,
            uid: 0,
            euid: 0,
            gid: 0,
            egid: 0,
        }
    }
    fn gettid(&self) -> i32 {
        2
    }
    fn uname(&self) -> HostUname {
        HostUname {
            sysname: field("Linux"),
            nodename: field("pvm"),
            release: field("6.1.0-pvm"),
            version: field("#1 pvm-baremetal"),
            domainname: field("(none)"),
        }
    }
    fn sysinfo(&self) -> SysInfo {
        let (total, free) = crate::memory::usage();
        SysInfo {
            uptime: (crate::clock::uptime_ns() / 1_000_000_000) as i64,
            loads: [0; 3],
            totalram: total,
            freeram: free,
            sharedram: 0,
            bufferram: 0,
            totalswap: 0,
            freeswap: 0,
            procs: 1,
            mem_unit: 1,
        }
    }
    fn cpu_count(&self) -> usize {
        1
    }

    fn prlimit(&self, resource: u32, new: Option<(u64, u64)>) -> SysResult<(u64, u64)> {
        let mut limits = self.limits.lock();
        let slot = limits.get_mut(resource as usize).ok_or(Errno::EINVAL)?;
        let old = *slot;
        if let Some((soft, hard)) = new {
            if soft > hard {
                return Err(Errno::EINVAL);
            }
            // The guest is root, so it may raise hard limits, except where
            // the kernel has a fixed ceiling.
            if resource == 7 {
                if hard > MAX_FDS_HARD as u64 {
                    return Err(Errno::EPERM);
                }
                self.fs.lock().set_fd_limit(soft as usize)?;
            }
            *slot = (soft, hard);
        }
        Ok(old)
    }

    fn log(&self, args: fmt::Arguments<'_>) {
        let mut port = crate::serial::COM2.lock();
        let _ = port.write_fmt(args);
        let _ = port.write_str("\n");
    }
}
