//! A `HostOs` for the core's own unit tests, built on `std`: guest memory is
//! a zeroed heap allocation, files are the real file system of the machine
//! running the tests (opened through a small fd table of `std::fs::File`s),
//! and `log` collects lines in memory.
//!
//! Descriptors 0..=2 are not real: writes to 1 and 2 are collected in
//! [`TestHost::out`]. Files opened with `openat` get descriptors from 3 up.
//!
//! Test-only code: a module of vm-core built only for vm-core's own unit
//! tests (`cfg(test)`) and for `vm-testkit`, which turns on vm-core's
//! `testkit` feature and re-exports it (the differential test, the hosts'
//! tests and the fuzz targets use it from there); one copy, so that it
//! implements the very `HostOs` of whoever uses it. The product (`pvm`,
//! the bare-metal kernel) never turns the feature on. Real hosts live in
//! `host-linux` and `host-baremetal`.

extern crate std;

use crate::abi::{
    AT_SYMLINK_NOFOLLOW, F_GETFL, O_ACCMODE, O_APPEND, O_CREAT, O_EXCL, O_RDWR, O_TRUNC, O_WRONLY,
};
use crate::host::*;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::sync::Mutex;

/// The test host. Make one with [`TestHost::leak`].
#[derive(Debug, Default)]
pub struct TestHost {
    /// Lines written through `log`.
    pub log: Mutex<Vec<String>>,
    /// Bytes written to fds 1 and 2.
    pub out: Mutex<Vec<u8>>,
    /// Open files by descriptor.
    files: Mutex<HashMap<i32, File>>,
    /// `openat` flags by descriptor, for `fcntl(F_GETFL)`.
    status_flags: Mutex<HashMap<i32, i32>>,
    /// Host ranges (start -> end) that `protect` has made accessible since
    /// their last `discard`: only these can hold non-zero bytes, so
    /// `discard` zeroes just them instead of a whole (possibly huge)
    /// reservation.
    backed: Mutex<BTreeMap<usize, usize>>,
    /// Live reservations: aligned base -> (the allocation, its size), for
    /// `release`.
    reservations: Mutex<HashMap<usize, (usize, usize)>>,
    /// Set by [`TestHost::confined`]: every path the guest names is looked
    /// up below this directory (as after a `chroot` there).
    root: Option<std::path::PathBuf>,
    /// Host signals `take_signal` hands out, first first.
    pub signals: Mutex<Vec<HostSignal>>,
    /// The latest `set_signal_action` per signal.
    pub sig_actions: Mutex<BTreeMap<i32, HostSigAction>>,
}

impl TestHost {
    /// A fresh host with a `'static` lifetime, as `GuestMemory` wants.
    pub fn leak() -> &'static TestHost {
        Box::leak(Box::new(TestHost::default()))
    }

    /// A host whose files are those below `root` only: an absolute guest
    /// path `/a/b` is `root/a/b`, a relative one is taken from `root`, and
    /// a path with a `..` component is refused (`EACCES`), so no guest
    /// path reaches a file outside `root` (the fuzz target of the system
    /// call layer runs its guests on one, in a temporary directory).
    pub fn confined(root: &std::path::Path) -> &'static TestHost {
        Box::leak(Box::new(TestHost {
            root: Some(root.to_path_buf()),
            ..TestHost::default()
        }))
    }

    /// Where the guest's `path` is on the machine.
    fn path(&self, path: &[u8]) -> SysResult<std::path::PathBuf> {
        let Some(root) = &self.root else {
            return Ok(host_path(path).to_path_buf());
        };
        let mut p = root.clone();
        for c in path.split(|&b| b == b'/') {
            match c {
                b"" | b"." => {}
                b".." => return Err(Errno::EACCES),
                c => p.push(OsStr::from_bytes(c)),
            }
        }
        Ok(p)
    }

    /// Forget what guests did: close every file, drop collected output,
    /// log lines, queued host signals and signal actions (a fuzz target
    /// runs many guests on one host).
    pub fn reset(&self) {
        self.files.lock().unwrap().clear();
        self.status_flags.lock().unwrap().clear();
        self.out.lock().unwrap().clear();
        self.log.lock().unwrap().clear();
        self.signals.lock().unwrap().clear();
        self.sig_actions.lock().unwrap().clear();
    }

    /// Number of descriptors currently open through `openat`/`dup`.
    pub fn open_files(&self) -> usize {
        self.files.lock().unwrap().len()
    }

    fn with_file<T>(
        &self,
        fd: i32,
        f: impl FnOnce(&mut File) -> std::io::Result<T>,
    ) -> SysResult<T> {
        let mut files = self.files.lock().unwrap();
        let file = files.get_mut(&fd).ok_or(Errno::EBADF)?;
        f(file).map_err(errno)
    }

    fn add_file(&self, file: File) -> i32 {
        let mut files = self.files.lock().unwrap();
        let fd = (3..).find(|fd| !files.contains_key(fd)).unwrap_or(3);
        files.insert(fd, file);
        fd
    }
}

fn errno(e: std::io::Error) -> Errno {
    Errno(e.raw_os_error().unwrap_or(Errno::EIO.0))
}

fn host_path(path: &[u8]) -> &std::path::Path {
    std::path::Path::new(OsStr::from_bytes(path))
}

/// Only `AT_FDCWD` (or an absolute path, which ignores `dirfd`) is supported.
fn check_dirfd(dirfd: i32, path: &[u8]) -> SysResult<()> {
    if dirfd == AT_FDCWD || path.first() == Some(&b'/') {
        Ok(())
    } else {
        Err(Errno::ENOSYS)
    }
}

fn timespec(sec: i64, nsec: i64) -> Timespec {
    Timespec { sec, nsec }
}

fn file_stat(m: &std::fs::Metadata) -> FileStat {
    FileStat {
        dev: m.dev(),
        ino: m.ino(),
        mode: m.mode(),
        nlink: m.nlink() as u32,
        uid: m.uid(),
        gid: m.gid(),
        rdev: m.rdev(),
        size: m.size() as i64,
        blksize: m.blksize() as i32,
        blocks: m.blocks() as i64,
        atime: timespec(m.atime(), m.atime_nsec()),
        mtime: timespec(m.mtime(), m.mtime_nsec()),
        ctime: timespec(m.ctime(), m.ctime_nsec()),
    }
}

impl HostOs for TestHost {
    fn reserve(&self, size: usize) -> SysResult<*mut u8> {
        // Page alignment by over-allocating one page: asking the allocator
        // for 4096-byte alignment would make it memset the whole block,
        // while a plain large `calloc` gets untouched zero pages from mmap.
        let total = size.checked_add(4096).ok_or(Errno::ENOMEM)?;
        let layout = std::alloc::Layout::from_size_align(total, 16).map_err(|_| Errno::EINVAL)?;
        // SAFETY: layout has non-zero size; `release` frees it with the
        // same layout.
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        if p.is_null() {
            return Err(Errno::ENOMEM);
        }
        let base = p.wrapping_add(p.align_offset(4096));
        self.reservations
            .lock()
            .unwrap()
            .insert(base as usize, (p as usize, total));
        Ok(base)
    }
    fn release(&self, addr: *mut u8, size: usize) -> bool {
        let Some((p, total)) = self.reservations.lock().unwrap().remove(&(addr as usize)) else {
            return false;
        };
        debug_assert_eq!(total, size + 4096);
        let (start, end) = (addr as usize, addr as usize + size);
        let mut backed = self.backed.lock().unwrap();
        backed.retain(|s, e| *e <= start || *s >= end);
        drop(backed);
        let layout = std::alloc::Layout::from_size_align(total, 16).unwrap();
        // SAFETY: `p` was allocated in `reserve` with this layout, and its
        // `GuestMemory` (the only user) is gone.
        unsafe { std::alloc::dealloc(p as *mut u8, layout) };
        true
    }
    // The trait's contract: `addr` is a mapping `alloc_code` made.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    fn free_code(&self, addr: *mut u8, size: usize) {
        unsafe extern "C" {
            fn munmap(addr: *mut u8, len: usize) -> i32;
        }
        // SAFETY: `addr..addr+size` is a mapping `alloc_code` made, which
        // its translator no longer runs or refers to.
        unsafe {
            munmap(addr, size);
        }
    }
    fn protect(&self, addr: *mut u8, len: usize, prot: HostProt) -> SysResult<()> {
        if !prot.is_empty() && len != 0 {
            let (mut start, mut end) = (addr as usize, addr as usize + len);
            let mut backed = self.backed.lock().unwrap();
            // Merge with every range that touches [start, end).
            let touching: Vec<(usize, usize)> = backed
                .range(..=end)
                .rev()
                .take_while(|(_, e)| **e >= start)
                .map(|(s, e)| (*s, *e))
                .collect();
            for (s, e) in touching {
                backed.remove(&s);
                start = start.min(s);
                end = end.max(e);
            }
            backed.insert(start, end);
        }
        Ok(())
    }
    fn alloc_code(&self, size: usize) -> SysResult<*mut u8> {
        const PROT_RWX: i32 = 1 | 2 | 4;
        const MAP_PRIVATE_ANON: i32 = 0x02 | 0x20;
        unsafe extern "C" {
            fn mmap(addr: *mut u8, len: usize, prot: i32, flags: i32, fd: i32, off: i64)
            -> *mut u8;
        }
        // SAFETY: an anonymous private mapping at a kernel-chosen address
        // touches no existing memory; the result is checked for MAP_FAILED.
        let p = unsafe {
            mmap(
                core::ptr::null_mut(),
                size,
                PROT_RWX,
                MAP_PRIVATE_ANON,
                -1,
                0,
            )
        };
        if p as isize == -1 {
            Err(Errno::ENOMEM)
        } else {
            Ok(p)
        }
    }
    fn discard(&self, addr: *mut u8, len: usize) -> SysResult<()> {
        let (start, end) = (addr as usize, addr as usize + len);
        let mut backed = self.backed.lock().unwrap();
        let overlapping: Vec<(usize, usize)> = backed
            .range(..end)
            .rev()
            .take_while(|(_, e)| **e > start)
            .map(|(s, e)| (*s, *e))
            .collect();
        for (s, e) in overlapping {
            backed.remove(&s);
            let (zs, ze) = (s.max(start), e.min(end));
            // SAFETY: [zs, ze) lies inside [addr, addr+len), which the caller
            // guarantees is inside a reservation from `reserve`, and no
            // guest access runs concurrently with a discard of its range.
            let bytes = unsafe { core::slice::from_raw_parts_mut(zs as *mut u8, ze - zs) };
            // Only write pages that hold data: reading an untouched page
            // costs no memory, writing one would commit it.
            for page in bytes.chunks_mut(4096) {
                if page.iter().any(|&b| b != 0) {
                    page.fill(0);
                }
            }
            if s < start {
                backed.insert(s, start);
            }
            if e > end {
                backed.insert(end, e);
            }
        }
        Ok(())
    }
    fn openat(&self, dirfd: i32, path: &[u8], flags: i32, mode: u32) -> SysResult<i32> {
        check_dirfd(dirfd, path)?;
        let mut o = std::fs::OpenOptions::new();
        match flags & O_ACCMODE {
            O_WRONLY => o.write(true),
            O_RDWR => o.read(true).write(true),
            _ => o.read(true),
        };
        if flags & O_APPEND != 0 {
            o.append(true);
        }
        if flags & O_TRUNC != 0 {
            o.truncate(true);
        }
        if flags & O_CREAT != 0 {
            if flags & O_EXCL != 0 {
                o.create_new(true);
            } else {
                o.create(true);
            }
        }
        o.mode(mode);
        let file = o.open(self.path(path)?).map_err(errno)?;
        let fd = self.add_file(file);
        let kept = O_ACCMODE | O_APPEND;
        self.status_flags.lock().unwrap().insert(fd, flags & kept);
        Ok(fd)
    }
    fn close(&self, fd: i32) -> SysResult<()> {
        self.status_flags.lock().unwrap().remove(&fd);
        match self.files.lock().unwrap().remove(&fd) {
            Some(_) => Ok(()),
            None => Err(Errno::EBADF),
        }
    }
    fn read(&self, fd: i32, b: &mut [u8]) -> SysResult<usize> {
        self.with_file(fd, |f| f.read(b))
    }
    fn write(&self, fd: i32, b: &[u8]) -> SysResult<usize> {
        if fd == 1 || fd == 2 {
            self.out.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        } else {
            self.with_file(fd, |f| f.write(b))
        }
    }
    fn pread(&self, fd: i32, b: &mut [u8], o: i64) -> SysResult<usize> {
        let o = u64::try_from(o).map_err(|_| Errno::EINVAL)?;
        self.with_file(fd, |f| f.read_at(b, o))
    }
    fn pwrite(&self, fd: i32, b: &[u8], o: i64) -> SysResult<usize> {
        let o = u64::try_from(o).map_err(|_| Errno::EINVAL)?;
        self.with_file(fd, |f| f.write_at(b, o))
    }
    fn lseek(&self, fd: i32, o: i64, whence: i32) -> SysResult<i64> {
        let pos = match whence {
            0 => SeekFrom::Start(u64::try_from(o).map_err(|_| Errno::EINVAL)?),
            1 => SeekFrom::Current(o),
            2 => SeekFrom::End(o),
            _ => return Err(Errno::EINVAL),
        };
        self.with_file(fd, |f| f.seek(pos)).map(|p| p as i64)
    }
    fn fstatat(&self, dirfd: i32, path: &[u8], flags: i32) -> SysResult<FileStat> {
        if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
            return self
                .with_file(dirfd, |f| f.metadata())
                .map(|m| file_stat(&m));
        }
        check_dirfd(dirfd, path)?;
        let m = if flags & AT_SYMLINK_NOFOLLOW != 0 {
            std::fs::symlink_metadata(self.path(path)?)
        } else {
            std::fs::metadata(self.path(path)?)
        };
        m.map(|m| file_stat(&m)).map_err(errno)
    }
    /// Existence, and for `X_OK` an execute bit (the tests run as one
    /// user; finer permission checks are the real host's).
    fn faccessat(&self, dirfd: i32, path: &[u8], mode: i32, _f: i32) -> SysResult<()> {
        check_dirfd(dirfd, path)?;
        let m = std::fs::metadata(self.path(path)?).map_err(errno)?;
        if mode & 1 != 0 && m.mode() & 0o111 == 0 {
            return Err(Errno::EACCES);
        }
        Ok(())
    }
    fn readlinkat(&self, _d: i32, _p: &[u8], _b: &mut [u8]) -> SysResult<usize> {
        Err(Errno::ENOSYS)
    }
    fn getdents64(&self, _fd: i32, _b: &mut [u8]) -> SysResult<usize> {
        Err(Errno::ENOSYS)
    }
    fn mkdirat(&self, _d: i32, _p: &[u8], _m: u32) -> SysResult<()> {
        Err(Errno::ENOSYS)
    }
    fn unlinkat(&self, _d: i32, _p: &[u8], _f: i32) -> SysResult<()> {
        Err(Errno::ENOSYS)
    }
    fn renameat2(&self, _a: i32, _b: &[u8], _c: i32, _d: &[u8], _f: u32) -> SysResult<()> {
        Err(Errno::ENOSYS)
    }
    fn symlinkat(&self, _t: &[u8], _d: i32, _l: &[u8]) -> SysResult<()> {
        Err(Errno::ENOSYS)
    }
    fn linkat(&self, _a: i32, _b: &[u8], _c: i32, _d: &[u8], _f: i32) -> SysResult<()> {
        Err(Errno::ENOSYS)
    }
    fn fchmodat(&self, _d: i32, _p: &[u8], _m: u32) -> SysResult<()> {
        Err(Errno::ENOSYS)
    }
    fn fchmod(&self, _fd: i32, _m: u32) -> SysResult<()> {
        Err(Errno::ENOSYS)
    }
    fn utimensat(&self, _d: i32, _p: &[u8], _t: Option<[Timespec; 2]>, _f: i32) -> SysResult<()> {
        Err(Errno::ENOSYS)
    }
    fn ftruncate(&self, fd: i32, len: i64) -> SysResult<()> {
        let len = u64::try_from(len).map_err(|_| Errno::EINVAL)?;
        self.with_file(fd, |f| f.set_len(len))
    }
    fn fsync(&self, fd: i32) -> SysResult<()> {
        self.with_file(fd, |f| f.sync_all())
    }
    fn fcntl(&self, fd: i32, cmd: i32, _a: i64) -> SysResult<i64> {
        // F_GETFL only: what mmap needs to check a file's access mode.
        // 1 and 2 are the collecting sinks: write-only.
        if cmd == F_GETFL && (fd == 1 || fd == 2) {
            return Ok(O_WRONLY as i64);
        }
        if !self.files.lock().unwrap().contains_key(&fd) {
            return Err(Errno::EBADF);
        }
        match (cmd, self.status_flags.lock().unwrap().get(&fd)) {
            (F_GETFL, Some(&f)) => Ok(f as i64),
            _ => Err(Errno::ENOSYS),
        }
    }
    fn dup(&self, fd: i32) -> SysResult<i32> {
        let file = self.with_file(fd, |f| f.try_clone())?;
        Ok(self.add_file(file))
    }
    fn dup3(&self, _o: i32, _n: i32, _f: i32) -> SysResult<i32> {
        Err(Errno::ENOSYS)
    }
    fn pipe2(&self, _f: i32) -> SysResult<[i32; 2]> {
        Err(Errno::ENOSYS)
    }
    fn tcgetattr(&self, _fd: i32) -> SysResult<Termios> {
        Err(Errno::ENOTTY)
    }
    fn tcsetattr(&self, _fd: i32, _a: u32, _t: &Termios) -> SysResult<()> {
        Err(Errno::ENOTTY)
    }
    fn winsize(&self, _fd: i32) -> SysResult<WinSize> {
        Err(Errno::ENOTTY)
    }
    fn getcwd(&self, _b: &mut [u8]) -> SysResult<usize> {
        Err(Errno::ENOSYS)
    }
    fn chdir(&self, _p: &[u8]) -> SysResult<()> {
        Err(Errno::ENOSYS)
    }
    fn fchdir(&self, _fd: i32) -> SysResult<()> {
        Err(Errno::ENOSYS)
    }
    fn umask(&self, _m: u32) -> u32 {
        0o022
    }
    fn clock_gettime(&self, _c: i32) -> SysResult<Timespec> {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Ok(Timespec {
            sec: d.as_secs() as i64,
            nsec: d.subsec_nanos() as i64,
        })
    }
    fn clock_getres(&self, _c: i32) -> SysResult<Timespec> {
        Ok(Timespec { sec: 0, nsec: 1 })
    }
    fn sleep(&self, _d: Timespec) -> SysResult<()> {
        Ok(())
    }
    fn random(&self, buf: &mut [u8]) -> SysResult<usize> {
        // Deterministic bytes: tests must not depend on real entropy.
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        Ok(buf.len())
    }
    fn ids(&self) -> Ids {
        Ids {
            pid: 1000,
            ppid: 999,
            uid: 0,
            euid: 0,
            gid: 0,
            egid: 0,
        }
    }
    fn gettid(&self) -> i32 {
        1000
    }
    fn uname(&self) -> HostUname {
        HostUname::default()
    }
    fn sysinfo(&self) -> SysInfo {
        SysInfo::default()
    }
    fn cpu_count(&self) -> usize {
        1
    }
    fn log(&self, args: fmt::Arguments<'_>) {
        self.log.lock().unwrap().push(alloc::format!("{args}"));
    }
    fn set_signal_action(&self, signo: i32, action: HostSigAction) {
        self.sig_actions.lock().unwrap().insert(signo, action);
    }
    fn take_signal(&self) -> Option<HostSignal> {
        let mut q = self.signals.lock().unwrap();
        (!q.is_empty()).then(|| q.remove(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn files_through_the_fd_table() {
        let host = TestHost::default();
        let dir = std::env::temp_dir().join(alloc::format!("pvm-testhost-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        let p = path.as_os_str().as_bytes();
        let fd = host
            .openat(AT_FDCWD, p, O_RDWR | O_CREAT | O_TRUNC, 0o600)
            .unwrap();
        assert!(fd >= 3);
        assert_eq!(host.write(fd, b"hello world").unwrap(), 11);
        let mut buf = [0u8; 5];
        assert_eq!(host.pread(fd, &mut buf, 6).unwrap(), 5);
        assert_eq!(&buf, b"world");
        assert_eq!(host.lseek(fd, 0, 0).unwrap(), 0);
        assert_eq!(host.read(fd, &mut buf).unwrap(), 5);
        assert_eq!(&buf, b"hello");
        let st = host.fstatat(fd, b"", AT_EMPTY_PATH).unwrap();
        assert_eq!((st.size, st.mode & 0o170777), (11, 0o100600));
        let fd2 = host.dup(fd).unwrap();
        assert_ne!(fd, fd2);
        assert_eq!(host.open_files(), 2);
        host.close(fd).unwrap();
        host.close(fd2).unwrap();
        assert_eq!(host.close(fd), Err(Errno::EBADF));
        assert_eq!(host.open_files(), 0);
        let st = host
            .fstatat(AT_FDCWD, dir.as_os_str().as_bytes(), 0)
            .unwrap();
        assert_eq!(st.mode & 0o170000, 0o040000);
        std::fs::remove_dir_all(&dir).unwrap();
        let missing = host.openat(AT_FDCWD, p, 0, 0);
        assert_eq!(missing, Err(Errno::ENOENT));
        // Console output is still collected.
        host.write(1, b"out").unwrap();
        assert_eq!(&host.out.lock().unwrap()[..], b"out");
    }

    #[test]
    fn reserve_is_aligned_and_discard_zeroes_what_was_backed() {
        let host = TestHost::leak();
        let base = host.reserve(1 << 20).unwrap();
        assert_eq!(base as usize % 4096, 0);
        host.protect(base, 0x3000, HostProt::READ | HostProt::WRITE)
            .unwrap();
        // SAFETY: inside the reservation, backed above.
        unsafe {
            base.write(1);
            base.add(0x2fff).write(2);
        }
        host.discard(base.wrapping_add(0x1000), 0x3000).unwrap();
        // SAFETY: inside the reservation.
        unsafe {
            assert_eq!(base.read(), 1, "outside the discarded range");
            assert_eq!(base.add(0x2fff).read(), 0);
        }
        host.discard(base, 1 << 20).unwrap();
        // SAFETY: inside the reservation.
        assert_eq!(unsafe { base.read() }, 0);
        assert!(host.backed.lock().unwrap().is_empty());
    }
}
