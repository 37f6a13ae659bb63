//! A `HostOs` for the core's own unit tests, built on `std`: guest memory is
//! a zeroed heap allocation, files are the real file system of the machine
//! running the tests, and `log` collects lines in memory.
//!
//! It exists only under `cfg(test)`; real hosts live in `host-linux` and
//! `host-baremetal`.

extern crate std;

use crate::host::*;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use std::sync::Mutex;

/// The test host. Make one with [`TestHost::leak`].
#[derive(Debug, Default)]
pub struct TestHost {
    /// Lines written through `log`.
    pub log: Mutex<Vec<String>>,
    /// Bytes written to fds 1 and 2.
    pub out: Mutex<Vec<u8>>,
}

impl TestHost {
    /// A fresh host with a `'static` lifetime, as `GuestMemory` wants.
    pub fn leak() -> &'static TestHost {
        Box::leak(Box::new(TestHost::default()))
    }
}

impl HostOs for TestHost {
    fn reserve(&self, size: usize) -> SysResult<*mut u8> {
        let layout = std::alloc::Layout::from_size_align(size, 4096).map_err(|_| Errno::EINVAL)?;
        // SAFETY: layout has non-zero size (GuestMemory::new checks) and the
        // allocation is intentionally leaked for the test's lifetime.
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        if p.is_null() {
            Err(Errno::ENOMEM)
        } else {
            Ok(p)
        }
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
    fn protect(&self, _addr: *mut u8, _len: usize, _prot: HostProt) -> SysResult<()> {
        Ok(())
    }
    fn discard(&self, addr: *mut u8, len: usize) -> SysResult<()> {
        // SAFETY: the caller passes a range inside a reservation from `reserve`.
        unsafe { core::ptr::write_bytes(addr, 0, len) };
        Ok(())
    }
    fn openat(&self, _d: i32, _p: &[u8], _f: i32, _m: u32) -> SysResult<i32> {
        Err(Errno::ENOSYS)
    }
    fn close(&self, _fd: i32) -> SysResult<()> {
        Err(Errno::ENOSYS)
    }
    fn read(&self, _fd: i32, _b: &mut [u8]) -> SysResult<usize> {
        Err(Errno::ENOSYS)
    }
    fn write(&self, fd: i32, b: &[u8]) -> SysResult<usize> {
        if fd == 1 || fd == 2 {
            self.out.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        } else {
            Err(Errno::EBADF)
        }
    }
    fn pread(&self, _fd: i32, _b: &mut [u8], _o: i64) -> SysResult<usize> {
        Err(Errno::ENOSYS)
    }
    fn pwrite(&self, _fd: i32, _b: &[u8], _o: i64) -> SysResult<usize> {
        Err(Errno::ENOSYS)
    }
    fn lseek(&self, _fd: i32, _o: i64, _w: i32) -> SysResult<i64> {
        Err(Errno::ENOSYS)
    }
    fn fstatat(&self, _d: i32, _p: &[u8], _f: i32) -> SysResult<FileStat> {
        Err(Errno::ENOSYS)
    }
    fn faccessat(&self, _d: i32, _p: &[u8], _m: i32, _f: i32) -> SysResult<()> {
        Err(Errno::ENOSYS)
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
    fn ftruncate(&self, _fd: i32, _l: i64) -> SysResult<()> {
        Err(Errno::ENOSYS)
    }
    fn fsync(&self, _fd: i32) -> SysResult<()> {
        Err(Errno::ENOSYS)
    }
    fn fcntl(&self, _fd: i32, _c: i32, _a: i64) -> SysResult<i64> {
        Err(Errno::ENOSYS)
    }
    fn dup(&self, _fd: i32) -> SysResult<i32> {
        Err(Errno::ENOSYS)
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
}
