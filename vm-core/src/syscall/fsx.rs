//! The rest of the file, device and credential calls real programs reach
//! for: device `ioctl`s beyond the terminal attributes, `memfd_create`,
//! `flock`, in-kernel copies (`sendfile`, `copy_file_range`, `splice`,
//! `tee`), `fallocate`, `close_range`, ownership (`fchownat`, `fchown`),
//! extended attributes, `sync`/`syncfs`, `preadv2`/`pwritev2`, user and
//! group ids, and scheduling priority. Each forwards to the host after the
//! argument checks the kernel makes first; the structures involved are the
//! same on riscv64 and x86-64.
//!
//! `ioctl`: `FIONBIO`, `FIOASYNC`, `FIOCLEX` and `FIONCLEX` are file
//! status and descriptor flags, done here with `fcntl` (so every host has
//! them); the others in [`IOCTL_PTR`] and [`IOCTL_VAL`] go to the host as
//! they are (x86-64 uses the asm-generic numbers and layouts for all of
//! them), the rest are `ENOTTY`.

use super::abi;
use super::{Ctx, MAX_RW, R, get, put, usable};
use crate::abi::{
    F_SETFD, F_SETFL, FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX, NGROUPS_MAX, O_ASYNC, O_CLOEXEC,
    O_NONBLOCK, O_PATH, SIOCGIFCONF, XATTR_NAME_MAX, XATTR_SIZE_MAX,
};
use crate::host::{AT_EMPTY_PATH, Errno, SysResult, XattrTarget};
use crate::memory::Access;
use crate::signal::SIGPIPE;
use alloc::vec;
use alloc::vec::Vec;

/// Whether an `ioctl` argument structure goes to the host, comes back, or
/// both.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    In,
    Out,
    /// Read from the guest, then written back (the `SIOCGIF*` requests
    /// name the interface in the same `struct ifreq` they fill).
    InOut,
}

/// `ioctl`s whose argument points to a structure of this size.
const IOCTL_PTR: &[(u32, usize, Dir)] = &[
    (0x541B, 4, Dir::Out),      // FIONREAD / TIOCINQ
    (0x5411, 4, Dir::Out),      // TIOCOUTQ
    (0x8004_5430, 4, Dir::Out), // TIOCGPTN
    (0x4004_5431, 4, Dir::In),  // TIOCSPTLCK
    (0x8004_5439, 4, Dir::Out), // TIOCGPTLCK
    (0x8004_5438, 4, Dir::Out), // TIOCGPKT
    (0x8004_5440, 4, Dir::Out), // TIOCGEXCL
    (0x5420, 4, Dir::In),       // TIOCPKT
    (0x540F, 4, Dir::Out),      // TIOCGPGRP
    (0x5410, 4, Dir::In),       // TIOCSPGRP
    (0x5429, 4, Dir::Out),      // TIOCGSID
    (0x5414, 8, Dir::In),       // TIOCSWINSZ
    (0x5424, 4, Dir::Out),      // TIOCGETD
    (0x5423, 4, Dir::In),       // TIOCSETD
    (0x5415, 4, Dir::Out),      // TIOCMGET
    (0x5416, 4, Dir::In),       // TIOCMBIS
    (0x5417, 4, Dir::In),       // TIOCMBIC
    (0x5418, 4, Dir::In),       // TIOCMSET
    (0x5412, 1, Dir::In),       // TIOCSTI
    // Network interface queries on a socket: `struct ifreq` (40 bytes,
    // the same layout on riscv64 and x86-64), what `if_nametoindex`,
    // `if_indextoname` and `ip link`-style tools ask.
    (0x8910, 40, Dir::InOut), // SIOCGIFNAME
    (0x8913, 40, Dir::InOut), // SIOCGIFFLAGS
    (0x8915, 40, Dir::InOut), // SIOCGIFADDR
    (0x8917, 40, Dir::InOut), // SIOCGIFDSTADDR
    (0x8919, 40, Dir::InOut), // SIOCGIFBRDADDR
    (0x891b, 40, Dir::InOut), // SIOCGIFNETMASK
    (0x891d, 40, Dir::InOut), // SIOCGIFMETRIC
    (0x8942, 40, Dir::InOut), // SIOCGIFTXQLEN
    (0x8921, 40, Dir::InOut), // SIOCGIFMTU
    (0x8927, 40, Dir::InOut), // SIOCGIFHWADDR
    (0x8933, 40, Dir::InOut), // SIOCGIFINDEX
];

/// `ioctl`s whose argument is a plain value.
const IOCTL_VAL: &[u32] = &[
    0x540E, // TIOCSCTTY
    0x5422, // TIOCNOTTY
    0x540C, // TIOCEXCL
    0x540D, // TIOCNXCL
    0x5409, // TCSBRK
    0x5425, // TCSBRKP
    0x540A, // TCXONC
    0x540B, // TCFLSH
    0x5427, // TIOCSBRK
    0x5428, // TIOCCBRK
    0x5441, // TIOCGPTPEER
    0x5437, // TIOCVHANGUP
];

/// The `ioctl`s `fs::ioctl` leaves to this module.
pub(super) fn ioctl(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (fd, req) = (a[0] as i32, a[1] as u32);
    let host = cx.p.host;
    let status_flag = |cx: &Ctx<'_>, bit: i64| -> R {
        let on = u32::from_le_bytes(get(cx.mem(), a[2])?) != 0;
        let fl = host.fcntl(fd, abi::F_GETFL, 0)?;
        let new = if on { fl | bit } else { fl & !bit };
        host.fcntl(fd, F_SETFL, new).map(|_| 0)
    };
    match req {
        FIONBIO => {
            host.fcntl(fd, 1, 0)?;
            status_flag(cx, O_NONBLOCK as i64)
        }
        FIOASYNC => {
            host.fcntl(fd, 1, 0)?;
            status_flag(cx, O_ASYNC as i64)
        }
        FIOCLEX => host.fcntl(fd, F_SETFD, 1).map(|_| 0),
        FIONCLEX => host.fcntl(fd, F_SETFD, 0).map(|_| 0),
        SIOCGIFCONF => ifconf(cx, fd, a[2]),
        _ => {
            if let Some(&(_, size, dir)) = IOCTL_PTR.iter().find(|e| e.0 == req) {
                host.fcntl(fd, 1, 0)?;
                let mut buf = vec![0u8; size];
                if dir == Dir::In || dir == Dir::InOut {
                    cx.mem()
                        .read_bytes(a[2], &mut buf)
                        .map_err(|_| Errno::EFAULT)?;
                }
                if dir != Dir::In {
                    cx.mem()
                        .check(a[2], size as u64, Access::Write)
                        .map_err(|_| Errno::EFAULT)?;
                }
                let r = host.ioctl_ptr(fd, req, &mut buf)?;
                if dir != Dir::In {
                    put(cx.mem(), a[2], &buf)?;
                }
                Ok(r as u64)
            } else if IOCTL_VAL.contains(&req) {
                host.ioctl_val(fd, req, a[2]).map(|r| r as u64)
            } else {
                host.fcntl(fd, 1, 0)?;
                Err(Errno::ENOTTY)
            }
        }
    }
}

/// `ioctl(fd, SIOCGIFCONF, ifc)`: `struct ifconf` is `{ int ifc_len;
/// char *ifc_buf; }` (16 bytes, the pointer at 8), a guest pointer the
/// host cannot take, so the records come through a buffer of the core's.
/// A null `ifc_buf` asks for the length of them all; a negative length is
/// room for none, as in Linux's `dev_ifconf`.
fn ifconf(cx: &mut Ctx<'_>, fd: i32, arg: u64) -> R {
    let host = cx.p.host;
    let ifc: [u8; 16] = get(cx.mem(), arg)?;
    let len = i32::from_le_bytes(ifc[..4].try_into().expect("4 bytes"));
    let buf = u64::from_le_bytes(ifc[8..].try_into().expect("8 bytes"));
    let n = if buf == 0 {
        host.ifconf(fd, None)?
    } else {
        let room = (len.max(0) as usize).min(MAX_IFCONF);
        cx.mem()
            .check(buf, room as u64, Access::Write)
            .map_err(|_| Errno::EFAULT)?;
        let mut out = vec![0u8; room];
        let n = host.ifconf(fd, Some(&mut out))?.min(room);
        put(cx.mem(), buf, &out[..n])?;
        n
    };
    put(cx.mem(), arg, &(n as i32).to_le_bytes())?;
    Ok(0)
}

/// The most `SIOCGIFCONF` fills at once: 1024 records.
const MAX_IFCONF: usize = 40 * 1024;

/// `memfd_create(name, flags)`.
pub(super) fn memfd_create(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    // MFD_NAME_MAX_LEN: 249 bytes (255 less the "memfd:" prefix).
    let name = cx.mem().read_cstr(a[0], 250).map_err(|_| Errno::EFAULT)?;
    if name.len() > 249 {
        return Err(Errno::EINVAL);
    }
    cx.p.host
        .memfd_create(&name, a[1] as u32)
        .map(|fd| fd as u64)
}

pub(super) fn flock(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.p.host.flock(a[0] as i32, a[1] as i32).map(|_| 0)
}

/// A guest `loff_t *` (null: none).
fn offset_in(cx: &Ctx<'_>, p: u64) -> SysResult<Option<i64>> {
    if p == 0 {
        return Ok(None);
    }
    Ok(Some(i64::from_le_bytes(get(cx.mem(), p)?)))
}

fn offset_out(cx: &Ctx<'_>, p: u64, v: Option<i64>) -> SysResult<()> {
    match v {
        Some(v) if p != 0 => put(cx.mem(), p, &v.to_le_bytes()),
        _ => Ok(()),
    }
}

/// A broken pipe raises SIGPIPE for the writer, as for `write`.
fn after_copy(cx: &mut Ctx<'_>, r: SysResult<usize>) -> R {
    if r == Err(Errno::EPIPE) {
        super::sys::raise(cx, SIGPIPE);
    }
    r.map(|n| n as u64)
}

/// `sendfile(out_fd, in_fd, offset, count)`.
pub(super) fn sendfile(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let mut off = offset_in(cx, a[2])?;
    let want = a[3].min(MAX_RW) as usize;
    let (room, counted) = super::fs::output_room(cx, a[0] as i32, want);
    let r =
        cx.p.host
            .sendfile(a[0] as i32, a[1] as i32, off.as_mut(), room);
    super::fs::output_done(cx, counted, want, room, *r.as_ref().unwrap_or(&0));
    offset_out(cx, a[2], off)?;
    after_copy(cx, r)
}

/// `copy_file_range` (`splice` false) and `splice`: `(fd_in, off_in,
/// fd_out, off_out, len, flags)`.
pub(super) fn copy_range(cx: &mut Ctx<'_>, a: &[u64; 6], splice: bool) -> R {
    let mut oi = offset_in(cx, a[1])?;
    let mut oo = offset_in(cx, a[3])?;
    let want = a[4].min(MAX_RW) as usize;
    let (room, counted) = super::fs::output_room(cx, a[2] as i32, want);
    let r = cx.p.host.copy_range(
        splice,
        a[0] as i32,
        oi.as_mut(),
        a[2] as i32,
        oo.as_mut(),
        room,
        a[5] as u32,
    );
    super::fs::output_done(cx, counted, want, room, *r.as_ref().unwrap_or(&0));
    offset_out(cx, a[1], oi)?;
    offset_out(cx, a[3], oo)?;
    after_copy(cx, r)
}

pub(super) fn tee(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let want = a[2].min(MAX_RW) as usize;
    let (room, counted) = super::fs::output_room(cx, a[1] as i32, want);
    let r = cx.p.host.tee(a[0] as i32, a[1] as i32, room, a[3] as u32);
    super::fs::output_done(cx, counted, want, room, *r.as_ref().unwrap_or(&0));
    after_copy(cx, r)
}

pub(super) fn fallocate(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (off, len) = (a[2] as i64, a[3] as i64);
    if off < 0 || len <= 0 {
        // The fd is checked first.
        cx.p.host.fcntl(a[0] as i32, 1, 0)?;
        return Err(Errno::EINVAL);
    }
    cx.p.host
        .fallocate(a[0] as i32, a[1] as i32, off, len)
        .map(|_| 0)
}

/// `close_range(first, last, flags)`: closed descriptors leave the core's
/// own tables too.
pub(super) fn close_range(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (first, last, flags) = (a[0] as u32, a[1] as u32, a[2] as u32);
    // CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC
    if flags & !6 != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    cx.p.host.close_range(first, last, flags)?;
    if flags & 4 == 0 {
        cx.p.io.forget_range(first, last);
        cx.p.procfs.forget_range(first, last);
    }
    Ok(0)
}

/// `fchownat(dirfd, path, uid, gid, flags)`.
pub(super) fn fchownat(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let flags = a[4] as i32;
    if flags & !(abi::AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let p = cx.path(a[1])?;
    cx.p.host
        .fchownat(a[0] as i32, &p, a[2] as u32, a[3] as u32, flags)
        .map(|_| 0)
}

/// `fchown(fd, uid, gid)`.
pub(super) fn fchown(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.p.host
        .fchownat(a[0] as i32, b"", a[1] as u32, a[2] as u32, AT_EMPTY_PATH)
        .map(|_| 0)
}

/// What the xattr call `nr` works on: a path (first argument) following
/// links or not, or a descriptor.
fn xattr_target(cx: &Ctx<'_>, a0: u64, form: u64) -> SysResult<(Vec<u8>, Option<bool>)> {
    match form {
        0 => Ok((cx.path(a0)?, Some(true))),
        1 => Ok((cx.path(a0)?, Some(false))),
        _ => Ok((Vec::new(), None)),
    }
}

fn target<'a>(p: &'a [u8], follow: Option<bool>, a0: u64) -> XattrTarget<'a> {
    match follow {
        Some(follow) => XattrTarget::Path { path: p, follow },
        None => XattrTarget::Fd(a0 as i32),
    }
}

/// An attribute name: 1 to 255 bytes, else `ERANGE`.
fn xattr_name(cx: &Ctx<'_>, addr: u64) -> SysResult<Vec<u8>> {
    let n = cx
        .mem()
        .read_cstr(addr, XATTR_NAME_MAX + 1)
        .map_err(|_| Errno::EFAULT)?;
    if n.is_empty() || n.len() > XATTR_NAME_MAX {
        return Err(Errno::ERANGE);
    }
    Ok(n)
}

/// `setxattr`, `lsetxattr`, `fsetxattr` (`form` 0, 1, 2).
pub(super) fn setxattr(cx: &mut Ctx<'_>, a: &[u64; 6], form: u64) -> R {
    let (p, follow) = xattr_target(cx, a[0], form)?;
    let name = xattr_name(cx, a[1])?;
    let (size, flags) = (a[3] as usize, a[4] as i32);
    // XATTR_CREATE | XATTR_REPLACE
    if flags & !3 != 0 {
        return Err(Errno::EINVAL);
    }
    if size > XATTR_SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    let value = if size == 0 {
        Vec::new()
    } else {
        super::read_vec(cx.mem(), a[2], size)?
    };
    cx.p.host
        .setxattr(target(&p, follow, a[0]), &name, &value, flags)
        .map(|_| 0)
}

/// `getxattr`, `lgetxattr`, `fgetxattr`.
pub(super) fn getxattr(cx: &mut Ctx<'_>, a: &[u64; 6], form: u64) -> R {
    let (p, follow) = xattr_target(cx, a[0], form)?;
    let name = xattr_name(cx, a[1])?;
    let size = (a[3] as usize).min(XATTR_SIZE_MAX);
    let mut buf = vec![0u8; size];
    let n =
        cx.p.host
            .getxattr(target(&p, follow, a[0]), &name, &mut buf)?;
    if size != 0 {
        put(cx.mem(), a[2], &buf[..n.min(size)])?;
    }
    Ok(n as u64)
}

/// `listxattr`, `llistxattr`, `flistxattr`.
pub(super) fn listxattr(cx: &mut Ctx<'_>, a: &[u64; 6], form: u64) -> R {
    let (p, follow) = xattr_target(cx, a[0], form)?;
    let size = (a[2] as usize).min(XATTR_SIZE_MAX);
    let mut buf = vec![0u8; size];
    let n = cx.p.host.listxattr(target(&p, follow, a[0]), &mut buf)?;
    if size != 0 {
        put(cx.mem(), a[1], &buf[..n.min(size)])?;
    }
    Ok(n as u64)
}

/// `removexattr`, `lremovexattr`, `fremovexattr`.
pub(super) fn removexattr(cx: &mut Ctx<'_>, a: &[u64; 6], form: u64) -> R {
    let (p, follow) = xattr_target(cx, a[0], form)?;
    let name = xattr_name(cx, a[1])?;
    cx.p.host
        .removexattr(target(&p, follow, a[0]), &name)
        .map(|_| 0)
}

/// `RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND`.
const RWF_KNOWN: i32 = 0x1f;

/// `preadv2(fd, iov, iovcnt, pos_l, pos_h, flags)` (`write` false) and
/// `pwritev2`. On a 64-bit kernel the position is `pos_l` alone; -1
/// means the file position. Without flags they are `preadv`/`readv` and
/// `pwritev`/`writev`.
pub(super) fn rw2(cx: &mut Ctx<'_>, a: &[u64; 6], write: bool) -> R {
    let (fd, pos, flags) = (a[0] as i32, a[3] as i64, a[5] as i32);
    if pos < -1 {
        return Err(Errno::EINVAL);
    }
    let offset = (pos != -1).then_some(pos);
    if flags == 0 {
        return if write {
            super::fs::writev(cx, a, offset)
        } else {
            super::fs::readv(cx, a, offset)
        };
    }
    if flags & !RWF_KNOWN != 0 {
        return Err(Errno::ENOTSUP);
    }
    let iov = super::fs::iovecs(cx, a[1], a[2])?;
    const STAGE: usize = 16 << 20;
    let mut parts = Vec::new();
    let mut total = 0usize;
    for &(base, len) in &iov {
        if len == 0 {
            continue;
        }
        let access = if write { Access::Read } else { Access::Write };
        let n = usable(cx.mem(), base, len.min((STAGE - total) as u64), access)?;
        parts.push((base, n));
        total += n;
        if (n as u64) < len || total >= STAGE {
            break;
        }
    }
    let mut stage = vec![0u8; total];
    if write {
        // As `writev` gathers (a page gone under a file mapping stops it).
        stage.clear();
        for &(base, n) in &parts {
            if !super::gather(cx.mem(), base, n, &mut stage) {
                if stage.is_empty() || !super::fs::regular_file(cx, fd) {
                    return Err(Errno::EFAULT);
                }
                break;
            }
        }
        let total = stage.len();
        let (room, counted) = super::fs::output_room(cx, fd, total);
        let r = cx.p.host.rw2(fd, &mut stage[..room], pos, flags, true);
        super::fs::output_done(cx, counted, total, room, *r.as_ref().unwrap_or(&0));
        return after_copy(cx, r);
    }
    let got = cx.p.host.rw2(fd, &mut stage, pos, flags, false)?.min(total);
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

/// `setresuid` (`uid` true) and `setresgid`.
pub(super) fn setres(cx: &mut Ctx<'_>, a: &[u64; 6], uid: bool) -> R {
    let ids = [a[0] as u32, a[1] as u32, a[2] as u32];
    cx.p.host.setresid(uid, ids).map(|_| 0)
}

/// `setuid`, `setgid`, `setreuid`, `setregid`, `setfsuid`, `setfsgid`.
pub(super) fn set_id(cx: &mut Ctx<'_>, call: crate::host::SetId) -> R {
    cx.p.host.set_id(call)
}

/// `getresuid` (`uid` true) and `getresgid`.
pub(super) fn getres(cx: &mut Ctx<'_>, a: &[u64; 6], uid: bool) -> R {
    let ids = cx.p.host.getresid(uid);
    for (ptr, v) in [a[0], a[1], a[2]].into_iter().zip(ids) {
        put(cx.mem(), ptr, &v.to_le_bytes())?;
    }
    Ok(0)
}

/// `getgroups(size, list)`.
pub(super) fn getgroups(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let size = a[0] as i32;
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    let mut list = vec![0u32; (size as usize).min(NGROUPS_MAX)];
    let n = cx.p.host.getgroups(&mut list)?;
    if size != 0 {
        let b: Vec<u8> = list[..n.min(list.len())]
            .iter()
            .flat_map(|g| g.to_le_bytes())
            .collect();
        put(cx.mem(), a[1], &b)?;
    }
    Ok(n as u64)
}

/// `setgroups(size, list)`.
pub(super) fn setgroups(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let size = a[0] as usize;
    if size > NGROUPS_MAX {
        return Err(Errno::EINVAL);
    }
    let raw = if size == 0 {
        Vec::new()
    } else {
        super::read_vec(cx.mem(), a[1], size * 4)?
    };
    let list: Vec<u32> = raw
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    cx.p.host.setgroups(&list).map(|_| 0)
}

/// `getpriority(which, who)`: the kernel's answer is `20 - nice`, which
/// the C library turns back into the nice value.
pub(super) fn getpriority(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let nice = cx.p.host.getpriority(a[0] as i32, a[1] as i32)?;
    Ok((20 - nice) as u64)
}

/// `setpriority(which, who, nice)`; the kernel clamps `nice` to -20..=19.
pub(super) fn setpriority(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let nice = (a[2] as i32).clamp(-20, 19);
    cx.p.host
        .setpriority(a[0] as i32, a[1] as i32, nice)
        .map(|_| 0)
}

/// `sync()`.
pub(super) fn sync(cx: &mut Ctx<'_>) -> R {
    cx.p.host.sync();
    Ok(0)
}

/// `syncfs(fd)`.
pub(super) fn syncfs(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.p.host.syncfs(a[0] as i32).map(|_| 0)
}

/// `sync_file_range(fd, offset, nbytes, flags)`.
pub(super) fn sync_file_range(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (off, n, flags) = (a[1] as i64, a[2] as i64, a[3] as u32);
    // SYNC_FILE_RANGE_WAIT_BEFORE 1, _WRITE 2, _WAIT_AFTER 4.
    if flags & !7 != 0 || off < 0 || n < 0 || off.checked_add(n).is_none() {
        return Err(Errno::EINVAL);
    }
    cx.p.host
        .sync_file_range(a[0] as i32, off, n, flags)
        .map(|_| 0)
}

/// `readahead(fd, offset, count)`.
pub(super) fn readahead(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.p.host
        .readahead(a[0] as i32, a[1] as i64, a[2] as usize)
        .map(|_| 0)
}

/// `RESOLVE_*` flags of `openat2` Linux 6.x knows.
const RESOLVE_KNOWN: u64 = 0x3f;
const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
/// The `O_*` flags Linux knows (`VALID_OPEN_FLAGS`), which `openat2`
/// checks strictly: the access mode, `O_CREAT`, `O_EXCL`, `O_NOCTTY`,
/// `O_TRUNC`, `O_APPEND`, `O_NONBLOCK`, `O_DSYNC`, `FASYNC`, `O_DIRECT`,
/// `O_LARGEFILE`, `O_DIRECTORY`, `O_NOFOLLOW`, `O_NOATIME`, `O_CLOEXEC`,
/// `__O_SYNC`, `O_PATH` and `__O_TMPFILE`.
const OPEN_FLAGS_KNOWN: u64 = 0o3
    | 0o100
    | 0o200
    | 0o400
    | 0o1000
    | 0o2000
    | 0o4000
    | 0o10000
    | 0o20000
    | 0o40000
    | 0o100000
    | 0o200000
    | 0o400000
    | 0o1000000
    | 0o2000000
    | 0o4000000
    | 0o10000000
    | 0o20000000;

/// `openat2(dirfd, path, how, size)`: `struct open_how { u64 flags, mode,
/// resolve }`, checked strictly as Linux does (unknown flags, a mode
/// without `O_CREAT`/`O_TMPFILE`, a short or oversized struct with
/// non-zero tail). Without `RESOLVE_*` flags it is `openat` (the same
/// path rules); with them the host resolves.
pub(super) fn openat2(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (dirfd, pathp, howp, size) = (a[0], a[1], a[2], a[3]);
    const VER0: u64 = 24;
    if size < VER0 {
        return Err(Errno::EINVAL);
    }
    if size > 4096 {
        return Err(Errno::E2BIG);
    }
    let mut how = vec![0u8; size as usize];
    cx.mem()
        .read_bytes(howp, &mut how)
        .map_err(|_| Errno::EFAULT)?;
    if how[VER0 as usize..].iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    let word = |i: usize| u64::from_le_bytes(how[i * 8..i * 8 + 8].try_into().unwrap());
    let (flags, mode, resolve) = (word(0), word(1), word(2));
    // A name the link walk found missing is created, not followed
    // (`ownfd::pin`), as `openat`'s.
    let flags = if cx.create_nofollow {
        flags | crate::abi::O_NOFOLLOW as u64
    } else {
        flags
    };
    let (o_creat, o_tmpfile) = (crate::abi::O_CREAT as u64, crate::abi::O_TMPFILE as u64);
    if flags & !OPEN_FLAGS_KNOWN != 0 {
        return Err(Errno::EINVAL);
    }
    let creating = flags & o_creat != 0 || flags & o_tmpfile == o_tmpfile;
    if mode & !0o7777 != 0 || (mode != 0 && !creating) {
        return Err(Errno::EINVAL);
    }
    if resolve & !RESOLVE_KNOWN != 0 || resolve & 0x18 == 0x18 {
        // RESOLVE_BENEATH | RESOLVE_IN_ROOT together is refused.
        return Err(Errno::EINVAL);
    }
    if resolve == 0 {
        return super::fs::openat(cx, &[dirfd, pathp, flags, mode, 0, 0]);
    }
    // The same path rules as `openat`: the guest's own /proc files are
    // the guest's view, never pvm's, however they are reached.
    let p = super::fs::host_path_at(cx, dirfd as i32, cx.path(pathp)?);
    if let Some(r) = super::procfs::open_lexical(cx, &p, flags as i32) {
        // The kernel's lookup of the path first, so that the flags hold
        // as on Linux (`RESOLVE_NO_XDEV` from `/` into `/proc` is `EXDEV`,
        // `RESOLVE_BENEATH` from elsewhere too); where the host confines
        // paths itself, `/proc` is the emulation's only (as on a host
        // without `openat2`).
        let host = cx.p.host;
        if !host.confines_paths() {
            let fd = host.openat2(dirfd as i32, &p, O_PATH | O_CLOEXEC, 0, resolve);
            match fd {
                Ok(fd) => {
                    let _ = host.close(fd);
                }
                // A host without `openat2`: the emulation's answer.
                Err(Errno::ENOSYS) => {}
                Err(e) => {
                    if let Ok(fd) = r {
                        let _ = host.close(fd);
                    }
                    return Err(e);
                }
            }
        }
        return r.map(|fd| fd as u64);
    }
    // The object a link walk found, by its descriptor's `/proc/self/fd`
    // link (`ownfd::pin`): not a magic link of the guest's path, which
    // the walk checked under the guest's flags.
    let resolve = if super::ownfd::is_held_object(cx, &p) {
        resolve & !RESOLVE_NO_MAGICLINKS
    } else {
        resolve
    };
    let fd =
        cx.p.host
            .openat2(dirfd as i32, &p, flags as i32, mode as u32, resolve)?;
    super::procfs::after_open(cx, fd, flags as i32).map(|fd| fd as u64)
}

/// `inotify_init1(flags)` (`IN_NONBLOCK`, `IN_CLOEXEC`).
pub(super) fn inotify_init1(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let flags = a[0] as i32;
    if flags & !(crate::abi::O_NONBLOCK | crate::abi::O_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    cx.p.host.inotify_init1(flags).map(|fd| fd as u64)
}

/// `inotify_add_watch(fd, path, mask)`.
pub(super) fn inotify_add_watch(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let p = super::fs::host_path(cx, cx.path(a[1])?);
    cx.p.host
        .inotify_add_watch(a[0] as i32, &p, a[2] as u32)
        .map(|wd| wd as u64)
}

/// `inotify_rm_watch(fd, wd)`.
pub(super) fn inotify_rm_watch(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.p.host
        .inotify_rm_watch(a[0] as i32, a[1] as i32)
        .map(|_| 0)
}
