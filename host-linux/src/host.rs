//! `LinuxHost`: the [`HostOs`] of pvm on Linux, one direct host system call
//! per method (through `libc`).
//!
//! Guest fds are host fds, so file calls pass their numbers through. Flag
//! values are shared by the guest (asm-generic) and x86-64 Linux, except
//! for structures, which are converted here: `struct stat` (x86-64 layout
//! to [`FileStat`]), the kernel `struct termios`.
//!
//! With a sysroot (`-L`), absolute paths the guest looks up (open, stat,
//! access, readlink, and so `execve`) are tried inside the sysroot first and used from there
//! when they exist, as qemu-user's `-L` does: that is how the guest's
//! dynamic linker finds its libraries (`/lib/libc.so.6`) in
//! `/usr/riscv64-linux-gnu`.

use std::borrow::Cow;
use std::ffi::CStr;
use std::io::Write;
use std::sync::OnceLock;
use vm_core::host::{
    Errno, ExecRequest, FileStat, Flock, FutexArgs, HostOs, HostProt, HostSigAction, HostSignal,
    HostUname, ITimer, Ids, PollFd, ProcessEnd, StatFs, SysInfo, SysResult, Termios, Timespec,
    WaitInfo, WinSize,
};

/// The Linux host: every call goes to the kernel; its only state is the
/// sysroot, set once before the guest starts.
#[derive(Debug)]
pub struct LinuxHost {
    sysroot: OnceLock<Vec<u8>>,
    /// The fault handler for translated code is in place (see `fault`).
    code_faults: std::sync::atomic::AtomicBool,
    /// Guest threads take turns on one host thread (`--threads one`).
    one_thread: std::sync::atomic::AtomicBool,
}

impl LinuxHost {
    /// A host without a sysroot (usable in a `static`).
    pub const fn new() -> LinuxHost {
        LinuxHost {
            sysroot: OnceLock::new(),
            code_faults: std::sync::atomic::AtomicBool::new(false),
            one_thread: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Run every guest thread in turn on this host thread (the core's own
    /// scheduler) instead of one host thread each.
    pub fn set_one_thread(&self) {
        self.one_thread
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn one_thread(&self) -> bool {
        self.one_thread.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Use `dir` as the sysroot for absolute guest paths (first call wins).
    pub fn set_sysroot(&self, dir: &[u8]) {
        let mut d = dir.to_vec();
        while d.len() > 1 && d.ends_with(b"/") {
            d.pop();
        }
        let _ = self.sysroot.set(d);
    }

    /// `path`, or its copy inside the sysroot when that exists.
    pub(crate) fn map<'a>(&self, path: &'a [u8]) -> Cow<'a, [u8]> {
        let Some(root) = self.sysroot.get() else {
            return Cow::Borrowed(path);
        };
        if !path.starts_with(b"/") || path.iter().all(|&c| c == b'/') {
            return Cow::Borrowed(path);
        }
        let mut full = root.clone();
        full.extend_from_slice(path);
        full.push(0);
        // SAFETY: `full` is NUL-terminated; `st` is written by the call.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        let r = unsafe {
            libc::fstatat(
                libc::AT_FDCWD,
                full.as_ptr().cast(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if r == 0 {
            full.pop();
            Cow::Owned(full)
        } else {
            Cow::Borrowed(path)
        }
    }
}

impl Default for LinuxHost {
    fn default() -> Self {
        LinuxHost::new()
    }
}

/// The errno of the last failed libc call.
fn errno() -> Errno {
    Errno(
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO),
    )
}

/// `r` for a libc return value where -1 means failure.
/// Host stack of each guest thread's host thread (pvm's own frames:
/// the run loop, system call emulation, translation).
const THREAD_STACK: usize = 2 << 20;

/// Does futex command `op` take a timeout (else `val2`) as its fourth
/// argument? The wait and lock commands.
fn takes_timeout(op: i32) -> bool {
    matches!(op & !(128 | 256), 0 | 6 | 9 | 11 | 13)
}

fn check(r: libc::c_int) -> SysResult<libc::c_int> {
    if r == -1 { Err(errno()) } else { Ok(r) }
}

fn check_long(r: libc::c_long) -> SysResult<libc::c_long> {
    if r == -1 { Err(errno()) } else { Ok(r) }
}

fn check_size(r: libc::ssize_t) -> SysResult<usize> {
    if r < 0 { Err(errno()) } else { Ok(r as usize) }
}

/// A NUL-terminated copy of a path. Guest paths come from C strings and
/// cannot hold NUL; a path that does anyway names no file.
fn cpath(p: &[u8]) -> SysResult<Vec<u8>> {
    if p.contains(&0) {
        return Err(Errno::ENOENT);
    }
    let mut v = Vec::with_capacity(p.len() + 1);
    v.extend_from_slice(p);
    v.push(0);
    Ok(v)
}

fn ptr(p: &[u8]) -> *const libc::c_char {
    p.as_ptr().cast()
}

/// The kernel's `struct termios` (what `TCGETS` uses), not glibc's.
#[repr(C)]
#[derive(Default)]
struct KernelTermios {
    iflag: u32,
    oflag: u32,
    cflag: u32,
    lflag: u32,
    line: u8,
    cc: [u8; 19],
}

/// The x86-64 kernel's `struct statfs` (libc's hides `f_flags`).
#[repr(C)]
#[derive(Default)]
struct KernelStatfs {
    f_type: i64,
    f_bsize: i64,
    f_blocks: u64,
    f_bfree: u64,
    f_bavail: u64,
    f_files: u64,
    f_ffree: u64,
    f_fsid: [i32; 2],
    f_namelen: i64,
    f_frsize: i64,
    f_flags: i64,
    f_spare: [i64; 4],
}

fn ts(t: &libc::timespec) -> Timespec {
    Timespec {
        sec: t.tv_sec,
        nsec: t.tv_nsec,
    }
}

fn prot_bits(prot: HostProt) -> libc::c_int {
    let mut p = libc::PROT_NONE;
    if prot.contains(HostProt::READ) {
        p |= libc::PROT_READ;
    }
    if prot.contains(HostProt::WRITE) {
        p |= libc::PROT_WRITE;
    }
    if prot.contains(HostProt::EXEC) {
        p |= libc::PROT_EXEC;
    }
    p
}

fn field(src: &[libc::c_char; 65]) -> [u8; 65] {
    src.map(|c| c as u8)
}

impl HostOs for LinuxHost {
    fn reserve(&self, size: usize) -> SysResult<*mut u8> {
        // SAFETY: a fresh anonymous PROT_NONE mapping touches no existing
        // memory.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            Err(errno())
        } else {
            Ok(p.cast())
        }
    }

    fn alloc_code(&self, size: usize) -> SysResult<*mut u8> {
        // SAFETY: a fresh anonymous mapping at a kernel-chosen address
        // touches no existing memory. It is RWX because the translator
        // patches chained exits in place; it never holds guest data.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(errno());
        }
        let faults = crate::fault::register_code(p as usize, size);
        self.code_faults
            .store(faults, std::sync::atomic::Ordering::Release);
        Ok(p.cast())
    }

    fn free_code(&self, addr: *mut u8, size: usize) {
        crate::fault::unregister_code(addr as usize);
        // SAFETY: `addr..addr+size` is a mapping `alloc_code` made, which
        // its translator no longer runs or refers to.
        unsafe {
            libc::munmap(addr.cast(), size);
        }
    }

    fn exit(&self, exe: &[u8], status: vm_core::process::ExitStatus) -> ! {
        use vm_core::process::ExitStatus;
        match status {
            ExitStatus::Exited(c) => crate::proc::end_process(ProcessEnd::Exit(c & 0xff)),
            ExitStatus::Signaled(r) if crate::proc::is_child() => {
                crate::proc::end_process(ProcessEnd::Signal(r.signo))
            }
            ExitStatus::Signaled(r) => {
                crate::report_signal(&lossy(exe), &r);
                crate::proc::end_process(ProcessEnd::Exit(128 + r.signo))
            }
        }
    }

    fn threads(&self) -> bool {
        !self.one_thread()
    }

    fn spawn_thread(&self, f: Box<dyn FnOnce() + Send + 'static>) -> SysResult<()> {
        if self.one_thread() {
            return Err(Errno::EAGAIN);
        }
        std::thread::Builder::new()
            .stack_size(THREAD_STACK)
            .spawn(f)
            .map(drop)
            .map_err(|e| Errno(e.raw_os_error().unwrap_or(libc::EAGAIN)))
    }

    fn futex(&self, uaddr: *mut u32, a: &FutexArgs) -> SysResult<i64> {
        if self.one_thread() {
            // The core matches waits and wakes itself (`vm_core::sched`).
            return Err(Errno::ENOSYS);
        }
        let t = a.timeout.map(|t| libc::timespec {
            tv_sec: t.sec,
            tv_nsec: t.nsec,
        });
        // The fourth argument is the timeout of the wait commands and
        // `val2` of the others.
        let fourth: usize = if takes_timeout(a.op) {
            t.as_ref()
                .map_or(0, |t| t as *const libc::timespec as usize)
        } else {
            a.val2 as usize
        };
        // SAFETY: the core checked `uaddr` (and `uaddr2`) lie inside the
        // guest reservation or are its own words; the kernel reads and
        // writes only those (EFAULT where the page is inaccessible); the
        // timespec outlives the call.
        let r = unsafe {
            libc::syscall(
                libc::SYS_futex,
                uaddr,
                a.op,
                a.val,
                fourth,
                a.uaddr2,
                a.val3,
            )
        };
        check_long(r).map(|v| v as i64)
    }

    fn yield_now(&self) {
        // SAFETY: no arguments, cannot fail.
        unsafe {
            libc::sched_yield();
        }
    }

    fn interrupt_thread(&self, tid: i32) {
        crate::signals::kick(tid);
    }

    fn membarrier(&self, cmd: i32, flags: u32, cpu_id: i32) -> SysResult<i64> {
        // SAFETY: membarrier takes no pointers.
        let r = unsafe { libc::syscall(libc::SYS_membarrier, cmd, flags, cpu_id) };
        check_long(r).map(|v| v as i64)
    }

    fn code_faults(&self) -> bool {
        self.code_faults.load(std::sync::atomic::Ordering::Acquire)
    }

    fn protect(&self, addr: *mut u8, len: usize, prot: HostProt) -> SysResult<()> {
        let p = prot_bits(prot);
        // SAFETY: the core passes page-aligned ranges inside its own
        // reservation, which no Rust object owns.
        check(unsafe { libc::mprotect(addr.cast(), len, p) }).map(|_| ())
    }

    fn discard(&self, addr: *mut u8, len: usize) -> SysResult<()> {
        // SAFETY: replaces pages inside the core's reservation (as for
        // `protect`) with fresh inaccessible ones.
        let p = unsafe {
            libc::mmap(
                addr.cast(),
                len,
                libc::PROT_NONE,
                libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            Err(errno())
        } else {
            Ok(())
        }
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
        let kind = if shared {
            libc::MAP_SHARED
        } else {
            libc::MAP_PRIVATE
        };
        // SAFETY: replaces pages inside the core's reservation (as for
        // `discard`) with a mapping of the file.
        let p = unsafe {
            libc::mmap(
                addr.cast(),
                len,
                prot_bits(prot),
                libc::MAP_FIXED | kind,
                fd,
                offset,
            )
        };
        if p == libc::MAP_FAILED {
            Err(errno())
        } else {
            Ok(())
        }
    }

    fn openat(&self, dirfd: i32, path: &[u8], flags: i32, mode: u32) -> SysResult<i32> {
        let p = cpath(&self.map(path))?;
        // SAFETY: `p` is NUL-terminated.
        check(unsafe { libc::openat(dirfd, ptr(&p), flags, mode as libc::c_uint) })
    }

    fn close(&self, fd: i32) -> SysResult<()> {
        // SAFETY: closing a number; pvm keeps no fd of its own besides 0-2.
        check(unsafe { libc::close(fd) }).map(|_| ())
    }

    fn read(&self, fd: i32, buf: &mut [u8]) -> SysResult<usize> {
        // SAFETY: `buf` is valid for writes of its length.
        check_size(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) })
    }

    fn write(&self, fd: i32, buf: &[u8]) -> SysResult<usize> {
        // SAFETY: `buf` is valid for reads of its length.
        check_size(unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) })
    }

    fn pread(&self, fd: i32, buf: &mut [u8], offset: i64) -> SysResult<usize> {
        // SAFETY: as `read`.
        check_size(unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), offset) })
    }

    fn pwrite(&self, fd: i32, buf: &[u8], offset: i64) -> SysResult<usize> {
        // SAFETY: as `write`.
        check_size(unsafe { libc::pwrite(fd, buf.as_ptr().cast(), buf.len(), offset) })
    }

    fn lseek(&self, fd: i32, offset: i64, whence: i32) -> SysResult<i64> {
        // SAFETY: no memory is involved.
        let r = unsafe { libc::lseek(fd, offset, whence) };
        if r < 0 { Err(errno()) } else { Ok(r) }
    }

    fn fstatat(&self, dirfd: i32, path: &[u8], flags: i32) -> SysResult<FileStat> {
        let p = cpath(&self.map(path))?;
        // SAFETY: `st` is a plain C struct the call fills; `p` is
        // NUL-terminated.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        check(unsafe { libc::fstatat(dirfd, ptr(&p), &mut st, flags) })?;
        Ok(FileStat {
            dev: st.st_dev,
            ino: st.st_ino,
            mode: st.st_mode,
            nlink: st.st_nlink as u32,
            uid: st.st_uid,
            gid: st.st_gid,
            rdev: st.st_rdev,
            size: st.st_size,
            blksize: st.st_blksize as i32,
            blocks: st.st_blocks,
            atime: Timespec {
                sec: st.st_atime,
                nsec: st.st_atime_nsec,
            },
            mtime: Timespec {
                sec: st.st_mtime,
                nsec: st.st_mtime_nsec,
            },
            ctime: Timespec {
                sec: st.st_ctime,
                nsec: st.st_ctime_nsec,
            },
        })
    }

    fn faccessat(&self, dirfd: i32, path: &[u8], mode: i32, flags: i32) -> SysResult<()> {
        let p = cpath(&self.map(path))?;
        // SAFETY: `p` is NUL-terminated. The raw syscall keeps the kernel's
        // answer (glibc's faccessat emulates flags differently).
        let r = unsafe {
            if flags == 0 {
                libc::syscall(libc::SYS_faccessat, dirfd, ptr(&p), mode)
            } else {
                libc::syscall(libc::SYS_faccessat2, dirfd, ptr(&p), mode, flags)
            }
        };
        check_long(r).map(|_| ())
    }

    fn readlinkat(&self, dirfd: i32, path: &[u8], buf: &mut [u8]) -> SysResult<usize> {
        let p = cpath(&self.map(path))?;
        // SAFETY: `p` is NUL-terminated, `buf` writable for its length.
        check_size(unsafe { libc::readlinkat(dirfd, ptr(&p), buf.as_mut_ptr().cast(), buf.len()) })
    }

    fn getdents64(&self, fd: i32, buf: &mut [u8]) -> SysResult<usize> {
        // SAFETY: `buf` is writable for its length.
        let r = unsafe { libc::syscall(libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len()) };
        check_long(r).map(|n| n as usize)
    }

    fn mkdirat(&self, dirfd: i32, path: &[u8], mode: u32) -> SysResult<()> {
        let p = cpath(path)?;
        // SAFETY: `p` is NUL-terminated.
        check(unsafe { libc::mkdirat(dirfd, ptr(&p), mode) }).map(|_| ())
    }

    fn unlinkat(&self, dirfd: i32, path: &[u8], flags: i32) -> SysResult<()> {
        let p = cpath(path)?;
        // SAFETY: `p` is NUL-terminated.
        check(unsafe { libc::unlinkat(dirfd, ptr(&p), flags) }).map(|_| ())
    }

    fn renameat2(
        &self,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: u32,
    ) -> SysResult<()> {
        let (o, n) = (cpath(oldpath)?, cpath(newpath)?);
        // SAFETY: both paths are NUL-terminated.
        let r = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                olddirfd,
                ptr(&o),
                newdirfd,
                ptr(&n),
                flags,
            )
        };
        check_long(r).map(|_| ())
    }

    fn symlinkat(&self, target: &[u8], newdirfd: i32, linkpath: &[u8]) -> SysResult<()> {
        let (t, l) = (cpath(target)?, cpath(linkpath)?);
        // SAFETY: both paths are NUL-terminated.
        check(unsafe { libc::symlinkat(ptr(&t), newdirfd, ptr(&l)) }).map(|_| ())
    }

    fn linkat(
        &self,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: i32,
    ) -> SysResult<()> {
        let (o, n) = (cpath(oldpath)?, cpath(newpath)?);
        // SAFETY: both paths are NUL-terminated.
        check(unsafe { libc::linkat(olddirfd, ptr(&o), newdirfd, ptr(&n), flags) }).map(|_| ())
    }

    fn fchmodat(&self, dirfd: i32, path: &[u8], mode: u32) -> SysResult<()> {
        let p = cpath(path)?;
        // SAFETY: `p` is NUL-terminated.
        let r = unsafe { libc::syscall(libc::SYS_fchmodat, dirfd, ptr(&p), mode) };
        check_long(r).map(|_| ())
    }

    fn fchmod(&self, fd: i32, mode: u32) -> SysResult<()> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::fchmod(fd, mode) }).map(|_| ())
    }

    fn utimensat(
        &self,
        dirfd: i32,
        path: &[u8],
        times: Option<[Timespec; 2]>,
        flags: i32,
    ) -> SysResult<()> {
        let p = cpath(path)?;
        let t = times.map(|t| {
            t.map(|x| libc::timespec {
                tv_sec: x.sec,
                tv_nsec: x.nsec,
            })
        });
        let tp = t.as_ref().map_or(std::ptr::null(), |t| t.as_ptr());
        // SAFETY: `p` is NUL-terminated; `tp` is null or two timespecs.
        let r = unsafe { libc::syscall(libc::SYS_utimensat, dirfd, ptr(&p), tp, flags) };
        check_long(r).map(|_| ())
    }

    fn ftruncate(&self, fd: i32, len: i64) -> SysResult<()> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::ftruncate(fd, len) }).map(|_| ())
    }

    fn fsync(&self, fd: i32) -> SysResult<()> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::fsync(fd) }).map(|_| ())
    }

    fn fcntl(&self, fd: i32, cmd: i32, arg: i64) -> SysResult<i64> {
        // SAFETY: the core only passes integer-argument commands.
        check_long(unsafe { libc::syscall(libc::SYS_fcntl, fd, cmd, arg) })
    }

    fn fcntl_lock(&self, fd: i32, cmd: i32, lock: &mut Flock) -> SysResult<()> {
        // SAFETY: `fl` is a plain C struct.
        let mut fl: libc::flock = unsafe { std::mem::zeroed() };
        fl.l_type = lock.l_type;
        fl.l_whence = lock.whence;
        fl.l_start = lock.start;
        fl.l_len = lock.len;
        fl.l_pid = lock.pid;
        // SAFETY: `fl` outlives the call; lock commands read and (F_GETLK)
        // write one struct flock.
        check_long(unsafe { libc::syscall(libc::SYS_fcntl, fd, cmd, &mut fl as *mut _) })?;
        *lock = Flock {
            l_type: fl.l_type,
            whence: fl.l_whence,
            start: fl.l_start,
            len: fl.l_len,
            pid: fl.l_pid,
        };
        Ok(())
    }

    fn poll(&self, fds: &mut [PollFd], timeout: Option<Timespec>) -> SysResult<usize> {
        let mut p: Vec<libc::pollfd> = fds
            .iter()
            .map(|f| libc::pollfd {
                fd: f.fd,
                events: f.events,
                revents: 0,
            })
            .collect();
        let t = timeout.map(|t| libc::timespec {
            tv_sec: t.sec,
            tv_nsec: t.nsec,
        });
        let tp = t.as_ref().map_or(std::ptr::null(), |t| t as *const _);
        // As for `sleep`: a signal caught just before the wait ends it.
        // SAFETY: `p` holds `p.len()` pollfds; `tp` is null or a timespec.
        let n = crate::signals::interruptible(|mask| unsafe {
            libc::ppoll(p.as_mut_ptr(), p.len() as _, tp, mask)
        })
        .ok_or(Errno::EINTR)?;
        let n = check(n)?;
        for (f, h) in fds.iter_mut().zip(&p) {
            f.revents = h.revents;
        }
        Ok(n as usize)
    }

    fn statfs(&self, fd: i32, path: &[u8]) -> SysResult<StatFs> {
        let mut s = KernelStatfs::default();
        // SAFETY: the kernel writes one struct statfs into `s`; the path
        // is NUL-terminated.
        let r = if path.is_empty() {
            unsafe { libc::syscall(libc::SYS_fstatfs, fd, &mut s as *mut KernelStatfs) }
        } else {
            let p = cpath(&self.map(path))?;
            unsafe { libc::syscall(libc::SYS_statfs, ptr(&p), &mut s as *mut KernelStatfs) }
        };
        check_long(r)?;
        Ok(StatFs {
            fs_type: s.f_type,
            bsize: s.f_bsize,
            blocks: s.f_blocks,
            bfree: s.f_bfree,
            bavail: s.f_bavail,
            files: s.f_files,
            ffree: s.f_ffree,
            fsid: s.f_fsid,
            namelen: s.f_namelen,
            frsize: s.f_frsize,
            flags: s.f_flags,
        })
    }

    fn dup(&self, fd: i32) -> SysResult<i32> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::dup(fd) })
    }

    fn dup3(&self, oldfd: i32, newfd: i32, flags: i32) -> SysResult<i32> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::dup3(oldfd, newfd, flags) })
    }

    fn pipe2(&self, flags: i32) -> SysResult<[i32; 2]> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for two ints.
        check(unsafe { libc::pipe2(fds.as_mut_ptr(), flags) })?;
        Ok(fds)
    }

    fn tcgetattr(&self, fd: i32) -> SysResult<Termios> {
        let mut k = KernelTermios::default();
        // SAFETY: TCGETS writes one kernel termios into `k`.
        check(unsafe { libc::ioctl(fd, libc::TCGETS, &mut k as *mut KernelTermios) })?;
        Ok(Termios {
            iflag: k.iflag,
            oflag: k.oflag,
            cflag: k.cflag,
            lflag: k.lflag,
            line: k.line,
            cc: k.cc,
        })
    }

    fn tcsetattr(&self, fd: i32, action: u32, t: &Termios) -> SysResult<()> {
        if action > 2 {
            return Err(Errno::EINVAL);
        }
        let k = KernelTermios {
            iflag: t.iflag,
            oflag: t.oflag,
            cflag: t.cflag,
            lflag: t.lflag,
            line: t.line,
            cc: t.cc,
        };
        let req = libc::TCSETS + action as libc::Ioctl;
        // SAFETY: TCSETS* reads one kernel termios from `k`.
        check(unsafe { libc::ioctl(fd, req, &k as *const KernelTermios) }).map(|_| ())
    }

    fn winsize(&self, fd: i32) -> SysResult<WinSize> {
        // SAFETY: TIOCGWINSZ writes one winsize into `w`.
        let mut w: libc::winsize = unsafe { std::mem::zeroed() };
        check(unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut w as *mut libc::winsize) })?;
        Ok(WinSize {
            rows: w.ws_row,
            cols: w.ws_col,
            xpixel: w.ws_xpixel,
            ypixel: w.ws_ypixel,
        })
    }

    fn getcwd(&self, buf: &mut [u8]) -> SysResult<usize> {
        let mut tmp = vec![0u8; buf.len() + 1];
        // SAFETY: `tmp` is writable for its length. The raw call returns
        // the length including the NUL.
        let n = check_long(unsafe { libc::syscall(libc::SYS_getcwd, tmp.as_mut_ptr(), tmp.len()) })?
            as usize;
        let len = n.saturating_sub(1);
        buf[..len].copy_from_slice(&tmp[..len]);
        Ok(len)
    }

    fn chdir(&self, path: &[u8]) -> SysResult<()> {
        let p = cpath(path)?;
        // SAFETY: `p` is NUL-terminated.
        check(unsafe { libc::chdir(ptr(&p)) }).map(|_| ())
    }

    fn fchdir(&self, fd: i32) -> SysResult<()> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::fchdir(fd) }).map(|_| ())
    }

    fn umask(&self, mask: u32) -> u32 {
        // SAFETY: no memory is involved.
        unsafe { libc::umask(mask) }
    }

    fn clock_gettime(&self, clock: i32) -> SysResult<Timespec> {
        // SAFETY: `t` is written by the call.
        let mut t: libc::timespec = unsafe { std::mem::zeroed() };
        check(unsafe { libc::clock_gettime(clock, &mut t) })?;
        Ok(ts(&t))
    }

    fn clock_getres(&self, clock: i32) -> SysResult<Timespec> {
        // SAFETY: `t` is written by the call.
        let mut t: libc::timespec = unsafe { std::mem::zeroed() };
        check(unsafe { libc::clock_getres(clock, &mut t) })?;
        Ok(ts(&t))
    }

    fn sleep(&self, d: Timespec) -> SysResult<()> {
        let now = || self.clock_gettime(libc::CLOCK_MONOTONIC);
        let start = now()?;
        let end = (start.sec as i128 * 1_000_000_000 + start.nsec as i128)
            .saturating_add(d.sec as i128 * 1_000_000_000 + d.nsec as i128);
        loop {
            let t = now()?;
            let left = end - (t.sec as i128 * 1_000_000_000 + t.nsec as i128);
            if left <= 0 {
                return Ok(());
            }
            let req = libc::timespec {
                tv_sec: (left / 1_000_000_000).min(i64::MAX as i128) as i64,
                tv_nsec: (left % 1_000_000_000) as i64,
            };
            // A signal the core catches ends the sleep (the guest's
            // handler may run), even one caught just before it began;
            // any other only interrupted it.
            // SAFETY: no descriptors; `req` and the mask are valid.
            let r = crate::signals::interruptible(|mask| unsafe {
                libc::ppoll(std::ptr::null_mut(), 0, &req, mask)
            });
            match r {
                None => return Err(Errno::EINTR),
                Some(r) if r < 0 => match errno() {
                    Errno::EINTR if crate::signals::pending() => return Err(Errno::EINTR),
                    Errno::EINTR => {}
                    e => return Err(e),
                },
                Some(_) => {}
            }
        }
    }

    fn set_signal_action(&self, signo: i32, action: HostSigAction) {
        crate::signals::set_action(signo, action);
    }

    fn take_signal(&self) -> Option<HostSignal> {
        crate::signals::take()
    }

    fn wait_signal(&self) {
        crate::signals::wait();
    }

    fn setitimer(&self, which: i32, new: Option<ITimer>) -> SysResult<ITimer> {
        crate::signals::setitimer(which, new)
    }

    fn fork(&self, exit_signal: i32, wait_exec: bool) -> SysResult<i32> {
        crate::proc::fork(exit_signal, wait_exec)
    }

    fn vfork(&self, child: &mut dyn FnMut() -> ProcessEnd) -> SysResult<i32> {
        crate::proc::vfork(child)
    }

    fn execve(&self, req: ExecRequest) -> Errno {
        crate::proc::execve(self, req)
    }

    fn wait4(&self, pid: i32, options: i32) -> SysResult<Option<WaitInfo>> {
        crate::proc::wait4(pid, options)
    }

    fn waitid(&self, idtype: i32, id: i32, options: i32) -> SysResult<Option<WaitInfo>> {
        crate::proc::waitid(idtype, id, options)
    }

    fn kill(&self, pid: i32, sig: i32) -> SysResult<()> {
        crate::proc::kill(pid, sig)
    }

    fn setpgid(&self, pid: i32, pgid: i32) -> SysResult<()> {
        crate::proc::setpgid(pid, pgid)
    }

    fn getpgid(&self, pid: i32) -> SysResult<i32> {
        crate::proc::getpgid(pid)
    }

    fn setsid(&self) -> SysResult<i32> {
        crate::proc::setsid()
    }

    fn getsid(&self, pid: i32) -> SysResult<i32> {
        crate::proc::getsid(pid)
    }

    fn tcgetpgrp(&self, fd: i32) -> SysResult<i32> {
        crate::proc::tcgetpgrp(fd)
    }

    fn tcsetpgrp(&self, fd: i32, pgrp: i32) -> SysResult<()> {
        crate::proc::tcsetpgrp(fd, pgrp)
    }

    fn pdeathsig(&self, set: Option<i32>) -> SysResult<i32> {
        crate::proc::pdeathsig(set)
    }

    fn children_cpu_time(&self) -> SysResult<Timespec> {
        crate::proc::children_cpu_time()
    }

    fn set_child_signal_flags(&self, nocldstop: bool, nocldwait: bool) {
        crate::signals::set_child_flags(nocldstop, nocldwait);
    }

    fn random(&self, buf: &mut [u8]) -> SysResult<usize> {
        loop {
            // SAFETY: `buf` is writable for its length.
            let r = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
            match check_size(r) {
                Err(Errno::EINTR) => continue,
                other => return other,
            }
        }
    }

    fn ids(&self) -> Ids {
        // SAFETY: these calls cannot fail and touch no memory.
        unsafe {
            Ids {
                pid: libc::getpid(),
                ppid: libc::getppid(),
                uid: libc::getuid(),
                euid: libc::geteuid(),
                gid: libc::getgid(),
                egid: libc::getegid(),
            }
        }
    }

    fn gettid(&self) -> i32 {
        // SAFETY: cannot fail.
        unsafe { libc::gettid() }
    }

    fn uname(&self) -> HostUname {
        // SAFETY: `u` is written by the call.
        let mut u: libc::utsname = unsafe { std::mem::zeroed() };
        if unsafe { libc::uname(&mut u) } != 0 {
            return HostUname::default();
        }
        HostUname {
            sysname: field(&u.sysname),
            nodename: field(&u.nodename),
            release: field(&u.release),
            version: field(&u.version),
            domainname: field(&u.domainname),
        }
    }

    fn sysinfo(&self) -> SysInfo {
        // SAFETY: `s` is written by the call.
        let mut s: libc::sysinfo = unsafe { std::mem::zeroed() };
        if unsafe { libc::sysinfo(&mut s) } != 0 {
            return SysInfo::default();
        }
        SysInfo {
            uptime: s.uptime,
            loads: s.loads,
            totalram: s.totalram,
            freeram: s.freeram,
            sharedram: s.sharedram,
            bufferram: s.bufferram,
            totalswap: s.totalswap,
            freeswap: s.freeswap,
            procs: s.procs,
            mem_unit: s.mem_unit,
        }
    }

    fn prlimit(&self, resource: u32, new: Option<(u64, u64)>) -> SysResult<(u64, u64)> {
        let n = new.map(|(cur, max)| libc::rlimit64 {
            rlim_cur: cur,
            rlim_max: max,
        });
        // SAFETY: `old` is written by the call; `n` is null or one rlimit.
        let mut old: libc::rlimit64 = unsafe { std::mem::zeroed() };
        let np = n.as_ref().map_or(std::ptr::null(), |n| n as *const _);
        let r = unsafe { libc::syscall(libc::SYS_prlimit64, 0, resource, np, &mut old as *mut _) };
        check_long(r)?;
        Ok((old.rlim_cur, old.rlim_max))
    }

    fn cpu_count(&self) -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    fn log(&self, args: std::fmt::Arguments<'_>) {
        let mut line = args.to_string();
        line.push('\n');
        // One write per line, so lines from several threads never mix.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// A NUL-free byte string for messages.
pub fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(CStr::from_bytes_until_nul(b).map_or(b, |c| c.to_bytes())).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm_core::host::AT_FDCWD;

    static HOST: LinuxHost = LinuxHost::new();

    #[test]
    fn files_round_trip() {
        let dir = std::env::temp_dir().join(format!("pvm-host-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let d = dir.as_os_str().as_encoded_bytes();
        HOST.mkdirat(AT_FDCWD, d, 0o755).unwrap();
        let mut f = d.to_vec();
        f.extend_from_slice(b"/a");
        let fd = HOST
            .openat(AT_FDCWD, &f, libc::O_CREAT | libc::O_RDWR, 0o600)
            .unwrap();
        assert_eq!(HOST.write(fd, b"hello").unwrap(), 5);
        let mut b = [0u8; 5];
        assert_eq!(HOST.pread(fd, &mut b, 0).unwrap(), 5);
        assert_eq!(&b, b"hello");
        let st = HOST.fstatat(fd, b"", vm_core::host::AT_EMPTY_PATH).unwrap();
        assert_eq!((st.size, st.mode & 0o777), (5, 0o600));
        assert_eq!(st.mode & 0o170000, 0o100000);
        assert_eq!(
            HOST.fcntl(fd, libc::F_GETFL, 0).unwrap() as i32 & 3,
            libc::O_RDWR
        );
        let mut lock = Flock {
            l_type: libc::F_WRLCK as i16,
            ..Default::default()
        };
        HOST.fcntl_lock(fd, libc::F_GETLK, &mut lock).unwrap();
        assert_eq!(lock.l_type, libc::F_UNLCK as i16);
        assert_eq!(HOST.tcgetattr(fd), Err(Errno::ENOTTY));
        HOST.close(fd).unwrap();
        assert_eq!(HOST.close(fd), Err(Errno::EBADF));
        let mut dirent = [0u8; 4096];
        let dfd = HOST
            .openat(AT_FDCWD, d, libc::O_RDONLY | libc::O_DIRECTORY, 0)
            .unwrap();
        assert!(HOST.getdents64(dfd, &mut dirent).unwrap() > 0);
        HOST.close(dfd).unwrap();
        HOST.unlinkat(AT_FDCWD, &f, 0).unwrap();
        HOST.unlinkat(AT_FDCWD, d, libc::AT_REMOVEDIR).unwrap();
        assert_eq!(HOST.fstatat(AT_FDCWD, &f, 0), Err(Errno::ENOENT));
    }

    #[test]
    fn sysroot_maps_existing_absolute_paths() {
        let host = LinuxHost::new();
        let dir = std::env::temp_dir().join(format!("pvm-sysroot-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        std::fs::write(dir.join("lib/only-here.so"), b"x").unwrap();
        host.set_sysroot(dir.as_os_str().as_encoded_bytes());
        let mapped = host.map(b"/lib/only-here.so");
        assert!(mapped.starts_with(dir.as_os_str().as_encoded_bytes()));
        assert_eq!(&*host.map(b"/etc/passwd"), b"/etc/passwd");
        assert_eq!(&*host.map(b"lib/only-here.so"), b"lib/only-here.so");
        assert_eq!(&*host.map(b"/"), b"/");
        assert!(host.fstatat(AT_FDCWD, b"/lib/only-here.so", 0).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn memory_reserve_protect_discard() {
        let p = HOST.reserve(1 << 20).unwrap();
        HOST.protect(p, 4096, HostProt::READ | HostProt::WRITE)
            .unwrap();
        // SAFETY: the page was just made writable.
        unsafe { p.write(7) };
        HOST.discard(p, 4096).unwrap();
        HOST.protect(p, 4096, HostProt::READ).unwrap();
        // SAFETY: readable again, and discarded to zero.
        assert_eq!(unsafe { p.read() }, 0);
    }

    #[test]
    fn misc() {
        let mut cwd = [0u8; 4096];
        let n = HOST.getcwd(&mut cwd).unwrap();
        assert_eq!(
            &cwd[..n],
            std::env::current_dir()
                .unwrap()
                .as_os_str()
                .as_encoded_bytes()
        );
        assert!(HOST.clock_gettime(1).unwrap().sec > 0 || HOST.clock_gettime(1).is_ok());
        assert_eq!(HOST.clock_gettime(12345), Err(Errno::EINVAL));
        assert_eq!(&HOST.uname().sysname[..6], b"Linux\0");
        assert!(HOST.cpu_count() >= 1);
        let [r, w] = HOST.pipe2(libc::O_CLOEXEC).unwrap();
        assert_eq!(HOST.write(w, b"x").unwrap(), 1);
        let mut b = [0u8; 4];
        assert_eq!(HOST.read(r, &mut b).unwrap(), 1);
        HOST.close(r).unwrap();
        HOST.close(w).unwrap();
    }
}
