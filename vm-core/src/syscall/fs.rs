//! File-system and file-descriptor system calls. Guest fd `n` is host fd
//! `n`, paths are host paths, flag values are shared with the host (see
//! [`crate::host`]), so most calls decode guest memory, call the host and
//! encode the answer. `/proc/self/exe` names the guest program, not pvm.

use super::abi;
use super::{Ctx, MAX_RW, R, fill, fill_taking, get, guest_mut, guest_ref, put, usable};
use crate::host::{AT_EMPTY_PATH, Errno, Flock, SysResult, Timespec};
use crate::memory::Access;
use crate::signal::SIGPIPE;
use alloc::vec;
use alloc::vec::Vec;

use crate::abi::AT_FDCWD;

/// The host path for a guest path: an `exe` link (`/proc/self/exe`,
/// `/proc/<its pid>/exe`, `/proc/thread-self/exe`, `task/<tid>/exe`,
/// through `/proc/self/root` or a directory under `/proc`) is the guest
/// program, the guest's own or another pvm's of the tree
/// (`procfs::exe_target`).
pub(super) fn host_path(cx: &Ctx<'_>, p: Vec<u8>) -> Vec<u8> {
    host_path_at(cx, AT_FDCWD, p)
}

/// [`host_path`] for a path relative to `dirfd`.
pub(super) fn host_path_at(cx: &Ctx<'_>, dirfd: i32, p: Vec<u8>) -> Vec<u8> {
    super::procfs::exe_target(cx, dirfd, &p).unwrap_or(p)
}

/// A broken pipe raises SIGPIPE for the writer, as the kernel does (pvm
/// itself ignores SIGPIPE on the host).
fn after_write(cx: &mut Ctx<'_>, r: SysResult<usize>) -> R {
    if r == Err(Errno::EPIPE) {
        super::sys::raise(cx, SIGPIPE);
    }
    r.map(|n| n as u64)
}

/// `--max-output`: of `len` bytes for `fd`, how many may be written, and
/// whether they count (`fd` is the tree's standard output or error, by
/// device and inode, so a `dup` or `/dev/stdout` counts too).
pub(super) fn output_room(cx: &Ctx<'_>, fd: i32, len: usize) -> (usize, bool) {
    let Some(max) = cx.p.options.limits.max_output else {
        return (len, false);
    };
    let c = cx.p.counters();
    let counted =
        cx.p.host
            .fstatat(fd, b"", crate::host::AT_EMPTY_PATH)
            .is_ok_and(|st| c.is_output(st.dev, st.ino));
    if !counted {
        return (len, false);
    }
    let used = c.output.load(core::sync::atomic::Ordering::Relaxed);
    let room = max.saturating_sub(used);
    (len.min(room.min(usize::MAX as u64) as usize), true)
}

/// After a write of `wanted` bytes that [`output_room`] cut to what the
/// limit leaves: count `written`; a write the limit cut short (or found
/// no room for) ends the guest.
pub(super) fn output_done(cx: &Ctx<'_>, counted: bool, wanted: usize, room: usize, written: usize) {
    if !counted {
        return;
    }
    let c = cx.p.counters();
    c.output
        .fetch_add(written as u64, core::sync::atomic::Ordering::Relaxed);
    if room < wanted {
        cx.p.hit_limit(crate::limits::Limit::Output);
    }
}

/// A write of `buf` to `fd` through `op`, under `--max-output`.
fn limited_write(
    cx: &mut Ctx<'_>,
    fd: i32,
    buf: &[u8],
    op: impl FnOnce(&[u8]) -> SysResult<usize>,
) -> R {
    let (room, counted) = output_room(cx, fd, buf.len());
    if room == 0 && !buf.is_empty() {
        output_done(cx, counted, buf.len(), room, 0);
        return Err(Errno::EIO);
    }
    let r = op(&buf[..room]);
    output_done(cx, counted, buf.len(), room, *r.as_ref().unwrap_or(&0));
    after_write(cx, r)
}

/// The kernel checks the fd (and its access mode) before the buffer: a
/// bad fd with a bad buffer is EBADF, not EFAULT.
fn fd_first<T>(cx: &Ctx<'_>, fd: i32, writing: bool, r: SysResult<T>) -> SysResult<T> {
    if r.is_ok() {
        return r;
    }
    let flags = match cx.p.host.fcntl(fd, abi::F_GETFL, 0) {
        Ok(f) => f as i32,
        Err(Errno::EBADF) => return Err(Errno::EBADF),
        Err(_) => return r,
    };
    let acc = flags & abi::O_ACCMODE;
    let wrong = if writing {
        acc == 0
    } else {
        acc == abi::O_WRONLY
    };
    if wrong || flags & abi::O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    r
}

pub(super) fn read(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    if let Some(r) = super::procfs::read(cx, a[0] as i32, a[1], a[2], None) {
        return r;
    }
    if let Some(r) = super::event::signalfd_read(cx, a[0] as i32, a[2]) {
        // The records are taken: a bad buffer loses them, as in Linux.
        let b = r?;
        put(cx.mem(), a[1], &b)?;
        return Ok(b.len() as u64);
    }
    super::wait_readable(cx, a[0] as i32)?;
    let n = fd_first(
        cx,
        a[0] as i32,
        false,
        usable(cx.mem(), a[1], a[2], Access::Write),
    )?;
    let host = cx.p.host;
    fill_taking(
        cx,
        a[0] as i32,
        a[1],
        n,
        |buf| host.read(a[0] as i32, buf),
        |&n| n,
    )
    .map(|n| n as u64)
}

pub(super) fn write(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    if let Some(r) = super::procfs::write(cx, a[0] as i32, a[1], a[2], None) {
        return r;
    }
    if let Some(r) = super::event::signalfd_write(cx, a[0] as i32) {
        return r;
    }
    let n = fd_first(
        cx,
        a[0] as i32,
        true,
        usable(cx.mem(), a[1], a[2], Access::Read),
    )?;
    let p = cx.p;
    let buf = guest_ref(&p.mem, a[1], n)?;
    limited_write(cx, a[0] as i32, buf, |b| p.host.write(a[0] as i32, b))
}

pub(super) fn pread(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    if (a[3] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    if let Some(r) = super::procfs::read(cx, a[0] as i32, a[1], a[2], Some(a[3])) {
        return r;
    }
    let n = fd_first(
        cx,
        a[0] as i32,
        false,
        usable(cx.mem(), a[1], a[2], Access::Write),
    )?;
    let host = cx.p.host;
    fill(cx.mem(), a[1], n, |buf| {
        host.pread(a[0] as i32, buf, a[3] as i64)
    })
    .map(|n| n as u64)
}

pub(super) fn pwrite(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    if (a[3] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    if let Some(r) = super::procfs::write(cx, a[0] as i32, a[1], a[2], Some(a[3])) {
        return r;
    }
    let n = fd_first(
        cx,
        a[0] as i32,
        true,
        usable(cx.mem(), a[1], a[2], Access::Read),
    )?;
    let p = cx.p;
    let buf = guest_ref(&p.mem, a[1], n)?;
    limited_write(cx, a[0] as i32, buf, |b| {
        p.host.pwrite(a[0] as i32, b, a[3] as i64)
    })
}

/// Largest temporary buffer `readv` stages through; a shorter read is
/// always a valid answer.
const READV_STAGE: usize = 16 << 20;

/// Largest buffer `writev` gathers into; a shorter write is always a valid
/// answer, and records that must stay whole (PIPE_BUF) are far smaller.
const WRITEV_GATHER: usize = 16 << 20;

/// The guest's `struct iovec` array, validated as the kernel does.
pub(super) fn iovecs(cx: &Ctx<'_>, addr: u64, count: u64) -> SysResult<Vec<(u64, u64)>> {
    let count = count as i32;
    if !(0..=1024).contains(&count) {
        return Err(Errno::EINVAL);
    }
    let mut v = Vec::with_capacity(count as usize);
    let mut total: u64 = 0;
    for i in 0..count as u64 {
        let b: [u8; 16] = get(cx.mem(), addr.wrapping_add(16 * i))?;
        let (base, len) = (abi::le_u64(&b, 0), abi::le_u64(&b, 8));
        if len as i64 <= -1 {
            return Err(Errno::EINVAL);
        }
        // Linux clamps the total to MAX_RW_COUNT, shortening the iovec
        // that crosses it.
        let len = len.min(MAX_RW - total);
        total += len;
        v.push((base, len));
    }
    Ok(v)
}

/// `readv`/`writev` of an emulated `/proc/self/mem` or `pagemap`: one
/// call per iovec, stopping at the first short one.
fn mem_rw_v(cx: &mut Ctx<'_>, a: &[u64; 6], offset: Option<i64>, write: bool) -> R {
    let iov = iovecs(cx, a[1], a[2])?;
    if offset.is_some_and(|o| o < 0) {
        return Err(Errno::EINVAL);
    }
    let fd = a[0] as i32;
    let mut done = 0u64;
    for (base, len) in iov {
        let at = offset.map(|o| (o as u64).wrapping_add(done));
        let r = if write {
            super::procfs::write(cx, fd, base, len, at)
        } else {
            super::procfs::read(cx, fd, base, len, at)
        };
        match r.unwrap_or(Err(Errno::EBADF)) {
            Ok(n) => {
                done += n;
                if n < len {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}

pub(super) fn readv(cx: &mut Ctx<'_>, a: &[u64; 6], offset: Option<i64>) -> R {
    if super::procfs::is_mem(cx, a[0] as i32) {
        return mem_rw_v(cx, a, offset, false);
    }
    if offset.is_none() {
        super::wait_readable(cx, a[0] as i32)?;
    }
    let iov = iovecs(cx, a[1], a[2])?;
    if offset.is_some_and(|o| o < 0) {
        return Err(Errno::EINVAL);
    }
    let total: u64 = iov.iter().map(|&(_, l)| l).sum();
    if offset.is_none()
        && let Some(r) = super::event::signalfd_read(cx, a[0] as i32, total)
    {
        let b = r?;
        let mut done = 0;
        for &(base, len) in &iov {
            let k = (len as usize).min(b.len() - done);
            put(cx.mem(), base, &b[done..done + k])?;
            done += k;
        }
        return Ok(b.len() as u64);
    }
    // The usable prefix of the iovecs, then one host read into a staging
    // buffer, so a pipe or terminal sees a single read as with readv.
    let mut parts = Vec::new();
    let mut want = 0usize;
    for &(base, len) in &iov {
        if len == 0 {
            continue;
        }
        let room = (READV_STAGE - want) as u64;
        let n = match usable(cx.mem(), base, len.min(room), Access::Write) {
            Ok(n) => n,
            Err(e) if want == 0 => return fd_first(cx, a[0] as i32, false, Err(e)),
            Err(_) => break,
        };
        parts.push((base, n));
        want += n;
        if (n as u64) < len || want >= READV_STAGE {
            break;
        }
    }
    let fd = a[0] as i32;
    if parts.len() == 1 {
        let host = cx.p.host;
        let (base, n) = parts[0];
        return match offset {
            Some(o) => fill(cx.mem(), base, n, |buf| host.pread(fd, buf, o)),
            None => fill_taking(cx, fd, base, n, |buf| host.read(fd, buf), |&n| n),
        }
        .map(|n| n as u64);
    }
    let mut stage = vec![0u8; want];
    let got = match offset {
        Some(o) => cx.p.host.pread(fd, &mut stage, o)?,
        None => cx.p.host.read(fd, &mut stage)?,
    }
    .min(want);
    let mut done = 0;
    for (base, n) in parts {
        if done >= got {
            break;
        }
        let k = n.min(got - done);
        put(cx.mem(), base, &stage[done..done + k])?;
        done += k;
    }
    Ok(got as u64)
}

pub(super) fn writev(cx: &mut Ctx<'_>, a: &[u64; 6], offset: Option<i64>) -> R {
    if super::procfs::is_mem(cx, a[0] as i32) {
        return mem_rw_v(cx, a, offset, true);
    }
    let iov = iovecs(cx, a[1], a[2])?;
    if offset.is_some_and(|o| o < 0) {
        return Err(Errno::EINVAL);
    }
    // Gather into one buffer: one host write, so a pipe reader sees the
    // record whole (as writev guarantees for pipes up to PIPE_BUF).
    let mut data = Vec::new();
    for &(base, len) in &iov {
        if len == 0 {
            continue;
        }
        let room = (WRITEV_GATHER - data.len()) as u64;
        let n = match usable(cx.mem(), base, len.min(room), Access::Read) {
            Ok(n) => n,
            Err(e) if data.is_empty() => return fd_first(cx, a[0] as i32, true, Err(e)),
            Err(_) => break,
        };
        if !super::gather(cx.mem(), base, n, &mut data) {
            // A page gone under a file mapping: a regular file takes the
            // bytes before it (a short write, as Linux's page cache copy
            // stops there), a pipe or socket none (Linux copies a whole
            // buffer or fails).
            if data.is_empty() || !regular_file(cx, a[0] as i32) {
                return fd_first(cx, a[0] as i32, true, Err(Errno::EFAULT));
            }
            break;
        }
        if (n as u64) < len || data.len() >= WRITEV_GATHER {
            break;
        }
    }
    let fd = a[0] as i32;
    let host = cx.p.host;
    limited_write(cx, fd, &data, |b| match offset {
        Some(o) => host.pwrite(fd, b, o),
        None => host.write(fd, b),
    })
}

/// Is `fd` a regular file (or a block device, which writes as one)?
pub(super) fn regular_file(cx: &Ctx<'_>, fd: i32) -> bool {
    cx.p.host
        .fstatat(fd, b"", abi::AT_EMPTY_PATH)
        .is_ok_and(|st| matches!(st.mode & abi::S_IFMT, abi::S_IFREG | abi::S_IFBLK))
}

pub(super) fn openat(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let p = host_path_at(cx, a[0] as i32, cx.path(a[1])?);
    if let Some(r) = super::procfs::open_lexical(cx, &p, a[2] as i32) {
        return r.map(|fd| fd as u64);
    }
    let fd =
        cx.p.host
            .openat(a[0] as i32, &p, a[2] as i32, a[3] as u32)?;
    // A file of pvm's own /proc, however reached, becomes the guest's.
    super::procfs::after_open(cx, fd, a[2] as i32).map(|fd| fd as u64)
}

pub(super) fn close(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.p.host.close(a[0] as i32)?;
    cx.p.io.forget(a[0] as i32);
    cx.p.procfs.forget_range(a[0] as u32, a[0] as u32);
    Ok(0)
}

pub(super) fn lseek(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    if let Some(r) = super::procfs::lseek(cx, a[0] as i32, a[1], a[2] as u32) {
        return r;
    }
    cx.p.host
        .lseek(a[0] as i32, a[1] as i64, a[2] as i32)
        .map(|o| o as u64)
}

pub(super) fn newfstatat(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let p = host_path_at(cx, a[0] as i32, cx.path(a[1])?);
    let st = cx.p.host.fstatat(a[0] as i32, &p, a[3] as i32)?;
    put(cx.mem(), a[2], &abi::encode_stat(&st))?;
    Ok(0)
}

pub(super) fn fstat(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let st = cx.p.host.fstatat(a[0] as i32, b"", AT_EMPTY_PATH)?;
    put(cx.mem(), a[1], &abi::encode_stat(&st))?;
    Ok(0)
}

pub(super) fn statx(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (dirfd, flags, mask) = (a[0] as i32, a[2] as i32, a[3] as u32);
    let known =
        abi::AT_SYMLINK_NOFOLLOW | abi::AT_NO_AUTOMOUNT | AT_EMPTY_PATH | abi::AT_STATX_SYNC_TYPE;
    if flags & !known != 0
        || flags & abi::AT_STATX_SYNC_TYPE == abi::AT_STATX_SYNC_TYPE
        || mask & 0x8000_0000 != 0
    {
        return Err(Errno::EINVAL);
    }
    let p = if a[1] == 0 && flags & AT_EMPTY_PATH != 0 {
        Vec::new()
    } else {
        host_path_at(cx, dirfd, cx.path(a[1])?)
    };
    let host_flags = flags & (abi::AT_SYMLINK_NOFOLLOW | abi::AT_NO_AUTOMOUNT | AT_EMPTY_PATH);
    let st = cx.p.host.fstatat(dirfd, &p, host_flags)?;
    put(cx.mem(), a[4], &abi::encode_statx(&st))?;
    Ok(0)
}

pub(super) fn faccessat(cx: &mut Ctx<'_>, a: &[u64; 6], flags: i32) -> R {
    let p = host_path_at(cx, a[0] as i32, cx.path(a[1])?);
    cx.p.host
        .faccessat(a[0] as i32, &p, a[2] as i32, flags)
        .map(|_| 0)
}

pub(super) fn readlinkat(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let p = cx.path(a[1])?;
    let size = a[3] as i32;
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    // A link's target is shorter than PATH_MAX: no bigger buffer is needed.
    let mut buf = vec![0u8; (size as usize).min(super::PATH_MAX)];
    let n = if let Some(exe) = super::procfs::exe_target(cx, a[0] as i32, &p) {
        let n = exe.len().min(buf.len());
        buf[..n].copy_from_slice(&exe[..n]);
        n
    } else {
        cx.p.host
            .readlinkat(a[0] as i32, &p, &mut buf)?
            .min(buf.len())
    };
    put(cx.mem(), a[2], &buf[..n])?;
    Ok(n as u64)
}

/// The most `getdents64` asks the host for at once: the records come into
/// a buffer of pvm's own (a short listing is a correct answer; the guest
/// calls again, as glibc's `readdir` does).
const DIRENTS_AT_ONCE: usize = 64 << 10;

pub(super) fn getdents64(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let len = (a[2] as u32 as u64).min(MAX_RW) as usize;
    fd_first(cx, a[0] as i32, false, guest_mut(cx.mem(), a[1], len))?;
    let host = cx.p.host;
    // Not the guest's buffer: a host call filling it could meet EFAULT
    // when another thread code-protects its page meanwhile, and a
    // `getdents64` cannot be made again (the directory's position may have
    // moved past records the failed call did not deliver). The records go
    // out by a guarded store, which such a moment does not fail.
    let mut buf = vec![0u8; len.min(DIRENTS_AT_ONCE)];
    loop {
        let n = host.getdents64(a[0] as i32, &mut buf)?;
        let recs = &buf[..n];
        // The host's own descriptors are not listed in /proc/self/fd.
        let mut fixed = super::ownfd::filter_dirents(host, a[0] as i32, recs);
        // /proc/self/task lists the guest's threads.
        let seen = fixed.as_deref().unwrap_or(recs);
        if let Some(v) = super::tasks::fix_listing(cx, a[0] as i32, seen, len) {
            fixed = Some(v);
        }
        let out = fixed.as_deref().unwrap_or(recs);
        put(cx.mem(), a[1], out)?;
        if !out.is_empty() || n == 0 {
            return Ok(out.len() as u64);
        }
    }
}

pub(super) fn mkdirat(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let p = cx.path(a[1])?;
    cx.p.host.mkdirat(a[0] as i32, &p, a[2] as u32).map(|_| 0)
}

/// `mknodat(dirfd, path, mode, dev)`: the file type in `mode` must be
/// one Linux knows (0 means a regular file).
pub(super) fn mknodat(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let mode = a[2] as u32;
    match mode & abi::S_IFMT {
        0 | abi::S_IFREG | abi::S_IFIFO | abi::S_IFSOCK | abi::S_IFCHR | abi::S_IFBLK => {}
        abi::S_IFDIR => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    }
    let p = cx.path(a[1])?;
    cx.p.host.mknodat(a[0] as i32, &p, mode, a[3]).map(|_| 0)
}

pub(super) fn unlinkat(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    if a[2] as i32 & !abi::AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    let p = cx.path(a[1])?;
    cx.p.host.unlinkat(a[0] as i32, &p, a[2] as i32).map(|_| 0)
}

pub(super) fn renameat2(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let old = cx.path(a[1])?;
    let new = cx.path(a[3])?;
    cx.p.host
        .renameat2(a[0] as i32, &old, a[2] as i32, &new, a[4] as u32)
        .map(|_| 0)
}

pub(super) fn symlinkat(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let target = cx.path(a[0])?;
    let link = cx.path(a[2])?;
    cx.p.host.symlinkat(&target, a[1] as i32, &link).map(|_| 0)
}

pub(super) fn linkat(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    if a[4] as i32 & !(abi::AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let old = cx.path(a[1])?;
    let new = cx.path(a[3])?;
    cx.p.host
        .linkat(a[0] as i32, &old, a[2] as i32, &new, a[4] as i32)
        .map(|_| 0)
}

pub(super) fn fchmodat(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let p = cx.path(a[1])?;
    cx.p.host.fchmodat(a[0] as i32, &p, a[2] as u32).map(|_| 0)
}

pub(super) fn fchmod(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.p.host.fchmod(a[0] as i32, a[1] as u32).map(|_| 0)
}

pub(super) fn utimensat(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let mut flags = a[3] as i32;
    if flags & !(abi::AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let p = if a[1] == 0 {
        // utimensat(fd, NULL, ...) works on the fd itself and takes no flags.
        if flags != 0 {
            return Err(Errno::EINVAL);
        }
        flags = AT_EMPTY_PATH;
        Vec::new()
    } else {
        cx.path(a[1])?
    };
    let times = if a[2] == 0 {
        None
    } else {
        let b: [u8; 32] = get(cx.mem(), a[2])?;
        let t = |o: usize| Timespec {
            sec: abi::le_u64(&b, o) as i64,
            nsec: abi::le_u64(&b, o + 8) as i64,
        };
        Some([t(0), t(16)])
    };
    cx.p.host
        .utimensat(a[0] as i32, &p, times, flags)
        .map(|_| 0)
}

pub(super) fn ftruncate(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    if (a[1] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    cx.p.host.ftruncate(a[0] as i32, a[1] as i64).map(|_| 0)
}

/// `truncate(path, len)`: through an fd, after the checks the kernel makes
/// on the path (a directory is EISDIR, anything else not regular EINVAL;
/// opening a FIFO to truncate it would block).
pub(super) fn truncate(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let p = cx.path(a[0])?;
    if (a[1] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let st = cx.p.host.fstatat(crate::host::AT_FDCWD, &p, 0)?;
    match st.mode & abi::S_IFMT {
        abi::S_IFREG => {}
        abi::S_IFDIR => return Err(Errno::EISDIR),
        _ => return Err(Errno::EINVAL),
    }
    let flags = abi::O_WRONLY | abi::O_CLOEXEC | abi::O_NOCTTY | abi::O_NONBLOCK;
    let fd = cx.p.host.openat(crate::host::AT_FDCWD, &p, flags, 0)?;
    let r = cx.p.host.ftruncate(fd, a[1] as i64);
    let _ = cx.p.host.close(fd);
    r.map(|_| 0)
}

pub(super) fn statfs(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let p = host_path(cx, cx.path(a[0])?);
    let st = cx.p.host.statfs(crate::host::AT_FDCWD, &p)?;
    put(cx.mem(), a[1], &abi::encode_statfs(&st))?;
    Ok(0)
}

pub(super) fn fstatfs(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let st = cx.p.host.statfs(a[0] as i32, b"")?;
    put(cx.mem(), a[1], &abi::encode_statfs(&st))?;
    Ok(0)
}

/// `fadvise64(fd, offset, len, advice)`: advice only, so after the
/// kernel's checks there is nothing to do.
pub(super) fn fadvise(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let st = cx.p.host.fstatat(a[0] as i32, b"", AT_EMPTY_PATH)?;
    if st.mode & abi::S_IFMT == 0o010000 {
        return Err(Errno::ESPIPE);
    }
    if (a[2] as i64) < 0 || a[3] > 5 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

pub(super) fn fsync(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.p.host.fsync(a[0] as i32).map(|_| 0)
}

pub(super) fn fcntl(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (fd, cmd) = (a[0] as i32, a[1] as i32);
    match cmd {
        // F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_SETOWN, F_GETOWN,
        // F_SETLEASE, F_GETLEASE, F_NOTIFY, F_DUPFD_CLOEXEC, F_SETPIPE_SZ,
        // F_GETPIPE_SZ, F_ADD_SEALS, F_GET_SEALS: integer argument, the
        // same on both sides. A lease break or a watched directory's change
        // (F_NOTIFY) raises SIGIO in the owner, which is the guest's own
        // process: it reaches the guest as a signal from outside does.
        0..=4 | 8 | 9 | 1024..=1026 | 1030..=1034 => {
            let v = cx.p.host.fcntl(fd, cmd, a[2] as i64)?;
            // F_DUPFD, F_DUPFD_CLOEXEC
            if cmd == 0 || cmd == 1030 {
                cx.p.io.dup(fd, v as i32);
                cx.p.procfs.dup(fd, v as i32);
            }
            Ok(v as u64)
        }
        abi::F_GETLK
        | abi::F_SETLK
        | abi::F_SETLKW
        | abi::F_OFD_GETLK
        | abi::F_OFD_SETLK
        | abi::F_OFD_SETLKW => {
            let b: [u8; abi::FLOCK_SIZE] = get(cx.mem(), a[2])?;
            let mut lock = Flock {
                l_type: i16::from_le_bytes([b[0], b[1]]),
                whence: i16::from_le_bytes([b[2], b[3]]),
                start: abi::le_u64(&b, 8) as i64,
                len: abi::le_u64(&b, 16) as i64,
                pid: abi::le_u32(&b, 24) as i32,
            };
            cx.p.host.fcntl_lock(fd, cmd, &mut lock)?;
            if cmd == abi::F_GETLK || cmd == abi::F_OFD_GETLK {
                let mut o = [0u8; abi::FLOCK_SIZE];
                o[0..2].copy_from_slice(&lock.l_type.to_le_bytes());
                o[2..4].copy_from_slice(&lock.whence.to_le_bytes());
                abi::set_u64(&mut o, 8, lock.start as u64);
                abi::set_u64(&mut o, 16, lock.len as u64);
                abi::set_u32(&mut o, 24, lock.pid as u32);
                put(cx.mem(), a[2], &o)?;
            }
            Ok(0)
        }
        _ => {
            // Bad fd first, as the kernel checks it before the command.
            cx.p.host.fcntl(fd, 1, 0)?;
            Err(Errno::EINVAL)
        }
    }
}

pub(super) fn dup(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let v = cx.p.host.dup(a[0] as i32)?;
    cx.p.io.dup(a[0] as i32, v);
    cx.p.procfs.dup(a[0] as i32, v);
    Ok(v as u64)
}

pub(super) fn dup3(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let v = cx.p.host.dup3(a[0] as i32, a[1] as i32, a[2] as i32)?;
    cx.p.io.dup(a[0] as i32, v);
    cx.p.procfs.dup(a[0] as i32, v);
    Ok(v as u64)
}

pub(super) fn pipe2(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    // Check the destination first so a bad pointer leaks no host fds.
    cx.mem()
        .check(a[0], 8, Access::Write)
        .map_err(|_| Errno::EFAULT)?;
    let [r, w] = cx.p.host.pipe2(a[1] as i32)?;
    let mut b = [0u8; 8];
    abi::set_u32(&mut b, 0, r as u32);
    abi::set_u32(&mut b, 4, w as u32);
    put(cx.mem(), a[0], &b)?;
    Ok(0)
}

pub(super) fn ioctl(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (fd, req) = (a[0] as i32, a[1] as u32 as u64);
    match req {
        abi::TCGETS => {
            let t = cx.p.host.tcgetattr(fd)?;
            put(cx.mem(), a[2], &abi::encode_termios(&t))?;
            Ok(0)
        }
        abi::TCSETS | abi::TCSETSW | abi::TCSETSF => {
            let b: [u8; abi::TERMIOS_SIZE] = get(cx.mem(), a[2])?;
            let t = abi::decode_termios(&b);
            cx.p.host
                .tcsetattr(fd, (req - abi::TCSETS) as u32, &t)
                .map(|_| 0)
        }
        abi::TIOCGWINSZ => {
            let w = cx.p.host.winsize(fd)?;
            put(cx.mem(), a[2], &abi::encode_winsize(&w))?;
            Ok(0)
        }
        abi::TIOCGPGRP | abi::TIOCSPGRP => super::proc::ioctl_pgrp(cx, fd, req, a[2]),
        _ => super::fsx::ioctl(cx, a),
    }
}

pub(super) fn getcwd(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let mut buf = vec![0u8; super::PATH_MAX + 1];
    let n =
        cx.p.host
            .getcwd(&mut buf[..super::PATH_MAX])?
            .min(super::PATH_MAX);
    // The kernel returns the length including the NUL.
    if (a[1] as usize) < n + 1 {
        return Err(Errno::ERANGE);
    }
    buf[n] = 0;
    put(cx.mem(), a[0], &buf[..n + 1])?;
    Ok(n as u64 + 1)
}

pub(super) fn chdir(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let p = cx.path(a[0])?;
    cx.p.host.chdir(&p).map(|_| 0)
}

pub(super) fn fchdir(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.p.host.fchdir(a[0] as i32).map(|_| 0)
}
