//! Descriptors the host holds for itself in the guest's descriptor table
//! ([`HostOs::is_own_fd`]: a debugger stub's connection and files, a
//! sandbox's roots) are not the guest's: for the guest they are not open.
//!
//! * Every call that takes a descriptor (the argument kinds `--strace`
//!   decodes, plus those below) answers `EBADF` for one of them before its
//!   handler runs ([`gate`]): `read`, `write`, `fstat`, `fcntl`, `close`,
//!   `dup`, `dup3`/`dup2` onto one (as Linux answers a number past the
//!   guest's limit), `lseek`, `ioctl`, `mmap` of one, `*at` calls with one
//!   as the directory of a relative path...
//! * `/proc/self/fd` and `/proc/self/fdinfo` (any spelling: `/proc/PID`,
//!   `task/TID`, `thread-self`) do not list them ([`filter_dirents`]), and
//!   their entries there do not exist (`ENOENT`: [`check_path`]).
//! * `close_range` is the host's to do around them.
//!
//! With no such descriptor ([`HostOs::has_own_fds`] false) none of this
//! runs.

use super::{Ctx, nr, procfs, strace};
use crate::abi::AT_FDCWD;
use crate::host::{Errno, HostOs, SysResult};
use crate::memory::GuestMemory;
use alloc::vec::Vec;

/// Descriptor arguments of calls `--strace` does not decode: (index, the
/// path argument it is the directory of).
fn more_fd_args(n: u64) -> &'static [(usize, Option<usize>)] {
    match n {
        nr::INOTIFY_ADD_WATCH
        | nr::INOTIFY_RM_WATCH
        | nr::PREADV
        | nr::PWRITEV
        | nr::PREADV2
        | nr::PWRITEV2
        | nr::SYNC_FILE_RANGE
        | nr::READAHEAD
        | nr::PIDFD_SEND_SIGNAL
        | nr::FINIT_MODULE => &[(0, None)],
        nr::MKNODAT | nr::EXECVEAT | nr::OPENAT2 | nr::OPEN_TREE | nr::FSPICK => &[(0, Some(1))],
        _ => &[],
    }
}

/// `EBADF` when call `n` would use one of the host's own descriptors.
pub(super) fn gate(cx: &Ctx<'_>, n: u64, a: &[u64; 6]) -> SysResult<()> {
    let host = cx.p.host;
    let own = |i: usize| host.is_own_fd(a[i] as i32);
    for (i, dir_of) in strace::fd_args(n).chain(more_fd_args(n).iter().copied()) {
        // `mmap` ignores the descriptor of an anonymous mapping.
        if n == nr::MMAP && a[3] & crate::abi::MAP_ANONYMOUS != 0 {
            continue;
        }
        if !own(i) {
            continue;
        }
        match dir_of {
            // The directory counts only for a relative (or empty) path.
            Some(p) if (a[i] as i32) != AT_FDCWD => {
                if first_byte(cx.mem(), a[p]) != Some(b'/') {
                    return Err(Errno::EBADF);
                }
            }
            Some(_) => {}
            None => return Err(Errno::EBADF),
        }
    }
    Ok(())
}

fn first_byte(mem: &GuestMemory, addr: u64) -> Option<u8> {
    if addr == 0 {
        return None;
    }
    mem.read_u8(addr).ok()
}

/// If the guest path `p` (relative to `dirfd`) names the entry of one of
/// the host's own descriptors in this process's `fd/` or `fdinfo/`:
/// `ENOENT`, as for a descriptor that is not open.
pub(super) fn check_path(cx: &Ctx<'_>, dirfd: i32, p: &[u8]) -> SysResult<()> {
    let host = cx.p.host;
    let absolute = p.first() == Some(&b'/');
    if !host.has_own_fds() || absolute && !p.windows(2).any(|w| w == b"fd") {
        return Ok(());
    }
    let Some(n) = procfs::lexical(cx, dirfd, p) else {
        return Ok(());
    };
    match own_fd_entry(host.ids().pid, &n) {
        Some(fd) if host.is_own_fd(fd) => Err(Errno::ENOENT),
        _ => Ok(()),
    }
}

/// `/proc/PID[/task/TID]/(fd|fdinfo)/N` of process `pid`: N.
fn own_fd_entry(pid: i32, p: &[u8]) -> Option<i32> {
    let (dir, name) = split_last(p)?;
    if !is_fd_dir(pid, dir) {
        return None;
    }
    number(name)
}

fn split_last(p: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = p.iter().rposition(|&b| b == b'/')?;
    Some((&p[..i], &p[i + 1..]))
}

fn number(s: &[u8]) -> Option<i32> {
    if s.is_empty() || s.len() > 9 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    core::str::from_utf8(s).ok()?.parse().ok()
}

/// Is the canonical path `d` this process's `fd` or `fdinfo` directory
/// (or one of its threads')?
fn is_fd_dir(pid: i32, d: &[u8]) -> bool {
    let Some((base, last)) = split_last(d) else {
        return false;
    };
    if last != b"fd" && last != b"fdinfo" {
        return false;
    }
    let own = alloc::format!("/proc/{pid}");
    if base == own.as_bytes() {
        return true;
    }
    // /proc/PID/task/TID
    base.strip_prefix(own.as_bytes())
        .and_then(|r| r.strip_prefix(b"/task/"))
        .is_some_and(|t| number(t).is_some())
}

/// After `getdents64` on `fd` filled `buf[..n]`: when `fd` is this
/// process's `fd`/`fdinfo` directory, the host's own descriptors' records
/// are taken out (the rest close up). The new length; 0 only when the
/// host's records were all there was, which the caller reads past.
pub(super) fn filter_dirents(host: &dyn HostOs, fd: i32, buf: &mut [u8], n: usize) -> usize {
    if !host.has_own_fds() || n == 0 {
        return n;
    }
    let mut link = [0u8; 256];
    let Ok(len) = host.readlinkat(
        AT_FDCWD,
        alloc::format!("/proc/self/fd/{fd}").as_bytes(),
        &mut link,
    ) else {
        return n;
    };
    if !is_fd_dir(host.ids().pid, &link[..len.min(link.len())]) {
        return n;
    }
    let mut keep: Vec<u8> = Vec::with_capacity(n);
    let mut at = 0;
    while at + 19 <= n {
        let reclen = u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
        if reclen < 19 || at + reclen > n {
            return n;
        }
        let rec = &buf[at..at + reclen];
        let name = &rec[19..];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        if !number(name).is_some_and(|f| host.is_own_fd(f)) {
            keep.extend_from_slice(rec);
        }
        at += reclen;
    }
    buf[..keep.len()].copy_from_slice(&keep);
    keep.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_entries_of_this_process_only() {
        assert_eq!(own_fd_entry(7, b"/proc/7/fd/950"), Some(950));
        assert_eq!(own_fd_entry(7, b"/proc/7/fdinfo/951"), Some(951));
        assert_eq!(own_fd_entry(7, b"/proc/7/task/9/fd/950"), Some(950));
        assert_eq!(own_fd_entry(8, b"/proc/7/fd/950"), None);
        assert_eq!(own_fd_entry(7, b"/proc/7/fd"), None);
        assert_eq!(own_fd_entry(7, b"/proc/7/fd/x"), None);
        assert_eq!(own_fd_entry(7, b"/proc/7/task/fd/950"), None);
        assert_eq!(own_fd_entry(7, b"/tmp/fd/950"), None);
    }

    #[test]
    fn descriptor_arguments() {
        let v: Vec<_> = strace::fd_args(nr::READ).collect();
        assert_eq!(v, [(0, None)]);
        let v: Vec<_> = strace::fd_args(nr::DUP3).collect();
        assert_eq!(v, [(0, None), (1, None)]);
        let v: Vec<_> = strace::fd_args(nr::OPENAT).collect();
        assert_eq!(v, [(0, Some(1))]);
        let v: Vec<_> = strace::fd_args(nr::RENAMEAT2).collect();
        assert_eq!(v, [(0, Some(1)), (2, Some(3))]);
    }
}
