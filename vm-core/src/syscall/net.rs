//! Socket system calls, forwarded to the host.
//!
//! The guest's structures here need no translation, only copying:
//! `sockaddr_*` are architecture-independent; `struct msghdr` (56 bytes)
//! and `struct cmsghdr` (16 bytes, data aligned to 8) have the same layout
//! on riscv64 and x86-64, and so have the ancillary data pvm passes
//! (`SCM_RIGHTS` descriptors, which are host descriptors, and `struct
//! ucred` for `SCM_CREDENTIALS`), and the option values (`int`, `struct
//! linger`, `struct timeval`, `struct ucred`). The socket constants
//! (`SOCK_*`, `SOL_SOCKET`, `SO_*`, `MSG_*`) are asm-generic's on both.
//! `sendto`/`recvfrom` are `sendmsg`/`recvmsg` without ancillary data.
//! A send on a broken stream raises SIGPIPE unless `MSG_NOSIGNAL`.
//! An `AF_UNIX` path that reaches one of the host's own descriptors'
//! `/proc/self/fd` entries names a closed one ([`hide_sockaddr`]).

use super::abi::{le_u32, le_u64, set_u32, set_u64};
use super::ownfd::hide_sockaddr;
use super::{Ctx, R, get, guest_ref, put, usable};
use crate::host::{Errno, RecvMsg, SendMsg, SysResult};
use crate::memory::Access;
use crate::signal::SIGPIPE;
use alloc::vec;
use alloc::vec::Vec;

/// `sizeof(struct sockaddr_storage)`: the largest address.
const SOCKADDR_MAX: usize = 128;
/// Largest ancillary data accepted (Linux's default `optmem_max`).
const CONTROL_MAX: usize = 20480;
/// Largest message staged through pvm at once; a stream may take less,
/// and a larger datagram does not exist (64 KiB).
const STAGE_MAX: usize = 16 << 20;
/// `struct msghdr` size.
const MSGHDR_SIZE: usize = 56;
use crate::abi::MSG_NOSIGNAL;

/// A guest socket address of `len` bytes (`EINVAL` if too long).
fn sockaddr(cx: &Ctx<'_>, addr: u64, len: u64) -> SysResult<Vec<u8>> {
    let len = len as u32 as i32;
    if len < 0 || len as usize > SOCKADDR_MAX {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(Vec::new());
    }
    super::read_vec(cx.mem(), addr, len as usize)
}

/// Copy an address the host returned (`full` its real length) to guest
/// `addr` with room in `*lenp`, and store the real length, as the kernel's
/// `move_addr_to_user`.
fn put_sockaddr(cx: &Ctx<'_>, addr: u64, lenp: u64, room: usize, b: &[u8], full: usize) -> R {
    let n = room.min(full).min(b.len());
    put(cx.mem(), addr, &b[..n])?;
    put(cx.mem(), lenp, &(full as u32).to_le_bytes())?;
    Ok(0)
}

/// The room the guest gives for an address: `*lenp` (`EINVAL` if negative).
fn addr_room(cx: &Ctx<'_>, lenp: u64) -> SysResult<usize> {
    let l = u32::from_le_bytes(get(cx.mem(), lenp)?) as i32;
    if l < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(l as usize)
}

pub(super) fn socket(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    if !cx.p.options.policy.sockets() {
        // --sandbox without --allow-net: as a security module refusing it.
        return Err(Errno::EACCES);
    }
    cx.p.host
        .socket(a[0] as i32, a[1] as i32, a[2] as i32)
        .map(|fd| fd as u64)
}

pub(super) fn socketpair(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    // Check the destination first so a bad pointer leaks no host fds.
    cx.mem()
        .check(a[3], 8, Access::Write)
        .map_err(|_| Errno::EFAULT)?;
    let [x, y] =
        cx.p.host
            .socketpair(a[0] as i32, a[1] as i32, a[2] as i32)?;
    let mut b = [0u8; 8];
    set_u32(&mut b, 0, x as u32);
    set_u32(&mut b, 4, y as u32);
    put(cx.mem(), a[3], &b)?;
    Ok(0)
}

pub(super) fn bind(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    // `bind` makes its socket file where the path ends: no link followed.
    let addr = hide_sockaddr(cx, sockaddr(cx, a[1], a[2])?, false);
    cx.p.host.bind(a[0] as i32, &addr).map(|_| 0)
}

pub(super) fn connect(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let addr = hide_sockaddr(cx, sockaddr(cx, a[1], a[2])?, true);
    cx.p.host.connect(a[0] as i32, &addr).map(|_| 0)
}

pub(super) fn listen(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.p.host.listen(a[0] as i32, a[1] as i32).map(|_| 0)
}

/// `accept4(fd, addr, addrlen, flags)` (`accept` has flags 0).
pub(super) fn accept4(cx: &mut Ctx<'_>, a: &[u64; 6], flags: i32) -> R {
    let (fd, addr, lenp) = (a[0] as i32, a[1], a[2]);
    // SOCK_NONBLOCK | SOCK_CLOEXEC
    if flags & !(crate::abi::O_NONBLOCK | crate::abi::O_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let room = if addr != 0 { addr_room(cx, lenp)? } else { 0 };
    let mut buf = vec![0u8; if addr != 0 { SOCKADDR_MAX } else { 0 }];
    let (nfd, full) = cx.p.host.accept4(fd, &mut buf, flags)?;
    if addr != 0
        && let Err(e) = put_sockaddr(cx, addr, lenp, room, &buf, full)
    {
        let _ = cx.p.host.close(nfd);
        return Err(e);
    }
    Ok(nfd as u64)
}

/// `getsockname` (`peer` false) and `getpeername`.
pub(super) fn sockname(cx: &mut Ctx<'_>, a: &[u64; 6], peer: bool) -> R {
    let room = addr_room(cx, a[2])?;
    let mut buf = vec![0u8; SOCKADDR_MAX];
    let full = cx.p.host.sockname(a[0] as i32, peer, &mut buf)?;
    put_sockaddr(cx, a[1], a[2], room, &buf, full)
}

/// After a send: a broken stream raises SIGPIPE unless `MSG_NOSIGNAL`.
fn after_send(cx: &mut Ctx<'_>, r: SysResult<usize>, flags: i32) -> R {
    if r == Err(Errno::EPIPE) && flags & MSG_NOSIGNAL == 0 {
        super::sys::raise(cx, SIGPIPE);
    }
    r.map(|n| n as u64)
}

/// `sendto(fd, buf, len, flags, addr, addrlen)`.
pub(super) fn sendto(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (fd, flags) = (a[0] as i32, a[3] as i32);
    let name = if a[4] != 0 {
        hide_sockaddr(cx, sockaddr(cx, a[4], a[5])?, true)
    } else {
        Vec::new()
    };
    let n = if a[2] == 0 {
        0
    } else {
        usable(cx.mem(), a[1], a[2].min(STAGE_MAX as u64), Access::Read)?
    };
    let data = guest_ref(cx.mem(), a[1], n)?;
    let msg = SendMsg {
        name: &name,
        data,
        control: &[],
    };
    let r = cx.p.host.sendmsg(fd, &msg, flags);
    after_send(cx, r, flags)
}

/// `recvfrom(fd, buf, len, flags, addr, addrlen)`.
pub(super) fn recvfrom(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (fd, flags, addr, lenp) = (a[0] as i32, a[3] as i32, a[4], a[5]);
    recv_wait(cx, fd, flags)?;
    let room = if addr != 0 { addr_room(cx, lenp)? } else { 0 };
    let n = if a[2] == 0 {
        0
    } else {
        usable(cx.mem(), a[1], a[2].min(STAGE_MAX as u64), Access::Write)?
    };
    let mut name = vec![0u8; if addr != 0 { SOCKADDR_MAX } else { 0 }];
    let host = cx.p.host;
    let recv = |data: &mut [u8]| {
        let mut msg = RecvMsg {
            name: &mut name,
            data,
            control: &mut [],
            name_len: 0,
            control_len: 0,
            flags: 0,
        };
        let got = host.recvmsg(fd, &mut msg, flags)?;
        Ok((got, msg.name_len))
    };
    // What a datagram socket takes off its queue is lost if the copy out
    // fails: see `fill_taking`.
    let (got, full) = super::fill_taking(cx, fd, a[1], n, recv, |&(got, _)| got)?;
    // A connected stream reports no address: leave the guest's alone.
    if addr != 0 && full != 0 {
        put_sockaddr(cx, addr, lenp, room, &name, full)?;
    } else if addr != 0 {
        put(cx.mem(), lenp, &0u32.to_le_bytes())?;
    }
    Ok(got as u64)
}

/// The guest's `struct msghdr` at `addr`: name, namelen, iovecs, control,
/// controllen.
struct MsgHdr {
    name: u64,
    namelen: u32,
    iov: Vec<(u64, u64)>,
    control: u64,
    controllen: u64,
}

fn msghdr(cx: &Ctx<'_>, addr: u64) -> SysResult<MsgHdr> {
    let b: [u8; MSGHDR_SIZE] = get(cx.mem(), addr)?;
    let iovlen = le_u64(&b, 24);
    if iovlen > 1024 {
        return Err(Errno::EMSGSIZE);
    }
    let iov = super::fs::iovecs(cx, le_u64(&b, 16), iovlen)?;
    Ok(MsgHdr {
        name: le_u64(&b, 0),
        namelen: le_u32(&b, 8),
        iov,
        control: le_u64(&b, 32),
        controllen: le_u64(&b, 40),
    })
}

/// `sendmsg(fd, msg, flags)`.
pub(super) fn sendmsg(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    send_one(cx, a[0] as i32, a[1], a[2] as i32)
}

/// Send the message the guest's `struct msghdr` at `hdr` describes.
fn send_one(cx: &mut Ctx<'_>, fd: i32, hdr: u64, flags: i32) -> R {
    let h = msghdr(cx, hdr)?;
    let name = if h.name != 0 {
        hide_sockaddr(cx, sockaddr(cx, h.name, h.namelen as u64)?, true)
    } else {
        Vec::new()
    };
    if h.controllen > i32::MAX as u64 {
        return Err(Errno::ENOBUFS);
    }
    if h.controllen as usize > CONTROL_MAX {
        return Err(Errno::ENOBUFS);
    }
    let control = if h.controllen > 0 {
        super::read_vec(cx.mem(), h.control, h.controllen as usize)?
    } else {
        Vec::new()
    };
    // Gather the data into one buffer: one host send, one datagram.
    let mut data = Vec::new();
    for &(base, len) in &h.iov {
        if len == 0 {
            continue;
        }
        let room = (STAGE_MAX - data.len()) as u64;
        let n = usable(cx.mem(), base, len.min(room), Access::Read)?;
        // A page gone under a file mapping: a socket takes nothing (Linux
        // copies the whole message or fails).
        if !super::gather(cx.mem(), base, n, &mut data) {
            return Err(Errno::EFAULT);
        }
        if (n as u64) < len || data.len() >= STAGE_MAX {
            break;
        }
    }
    let msg = SendMsg {
        name: &name,
        data: &data,
        control: &control,
    };
    let r = cx.p.host.sendmsg(fd, &msg, flags);
    after_send(cx, r, flags)
}

/// `recvmsg(fd, msg, flags)`.
pub(super) fn recvmsg(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    recv_wait(cx, a[0] as i32, a[2] as i32)?;
    recv_one(cx, a[0] as i32, a[1], a[2] as i32)
}

/// Before a receive that may block (no `MSG_DONTWAIT`): where guest
/// threads take turns on one host thread, park until there is something
/// to take, as `read` does (see `wait_readable`); a host call that
/// blocked there would stop every guest thread.
fn recv_wait(cx: &mut Ctx<'_>, fd: i32, flags: i32) -> SysResult<()> {
    if flags & crate::abi::MSG_DONTWAIT != 0 {
        return Ok(());
    }
    super::wait_readable(cx, fd)
}

/// Receive one message into the guest's `struct msghdr` at `addr`, and
/// give back its `msg_namelen`, `msg_controllen` and `msg_flags`.
fn recv_one(cx: &mut Ctx<'_>, fd: i32, addr: u64, flags: i32) -> R {
    let h = msghdr(cx, addr)?;
    if h.namelen as i32 > SOCKADDR_MAX as i32 || (h.namelen as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let want: u64 = h.iov.iter().map(|&(_, l)| l).sum::<u64>();
    let mut data = vec![0u8; want.min(STAGE_MAX as u64) as usize];
    let mut name = vec![0u8; if h.name != 0 { h.namelen as usize } else { 0 }];
    let mut control = vec![0u8; (h.controllen as usize).min(CONTROL_MAX)];
    if h.controllen != 0 && h.control == 0 {
        control.clear();
    }
    let mut msg = RecvMsg {
        name: &mut name,
        data: &mut data,
        control: &mut control,
        name_len: 0,
        control_len: 0,
        flags: 0,
    };
    let got = cx.p.host.recvmsg(fd, &mut msg, flags)?;
    let (name_len, control_len, mflags) = (msg.name_len, msg.control_len, msg.flags);
    // Scatter what arrived over the iovecs.
    let copied = got.min(data.len());
    let mut done = 0;
    for &(base, len) in &h.iov {
        if done >= copied {
            break;
        }
        let k = (len as usize).min(copied - done);
        put(cx.mem(), base, &data[done..done + k])?;
        done += k;
    }
    if h.name != 0 && name_len != 0 {
        put(cx.mem(), h.name, &name[..name_len.min(name.len())])?;
    }
    if control_len != 0 {
        put(cx.mem(), h.control, &control[..control_len])?;
    }
    // msg_namelen, msg_controllen and msg_flags go back to the guest.
    let mut b = [0u8; 4];
    set_u32(&mut b, 0, if h.name != 0 { name_len as u32 } else { 0 });
    put(cx.mem(), addr + 8, &b)?;
    let mut c = [0u8; 8];
    set_u64(&mut c, 0, control_len as u64);
    put(cx.mem(), addr + 40, &c)?;
    put(cx.mem(), addr + 48, &mflags.to_le_bytes())?;
    Ok(got as u64)
}

/// `struct mmsghdr`: a `struct msghdr` and the `msg_len` the call fills
/// in (padded to 64 bytes, the same on riscv64 and x86-64).
const MMSGHDR_SIZE: u64 = 64;
/// The most messages one `sendmmsg`/`recvmmsg` handles (`UIO_MAXIOV`;
/// Linux cuts a longer vector to it).
const MMSG_MAX: u64 = 1024;
/// `recvmmsg`: after the first message, do not wait for more.
const MSG_WAITFORONE: i32 = 0x10000;

/// Store message `i`'s `msg_len` into the guest's vector at `vec`.
fn put_msg_len(cx: &Ctx<'_>, vec: u64, i: u64, len: u64) -> SysResult<()> {
    put(
        cx.mem(),
        vec + i * MMSGHDR_SIZE + MSGHDR_SIZE as u64,
        &(len as u32).to_le_bytes(),
    )
}

/// The result of a batch that did `done` messages and then stopped with
/// `end`: the count once one went through (Linux drops the error then,
/// or keeps it on the socket for the next call), else the error.
fn batch_result(done: u64, end: SysResult<()>) -> R {
    match end {
        Err(e) if done == 0 => Err(e),
        _ => Ok(done),
    }
}

/// Run `one` on each `struct mmsghdr` of the guest's vector at `vec`
/// (at most `vlen`, cut to [`MMSG_MAX`]) in turn, storing its count in
/// the message's `msg_len`, until one fails or `one` says it was the
/// last (`(count, true)`); the result is [`batch_result`]'s.
fn each_message(
    cx: &mut Ctx<'_>,
    vec: u64,
    vlen: u64,
    mut one: impl FnMut(&mut Ctx<'_>, u64) -> SysResult<(u64, bool)>,
) -> R {
    let vlen = (vlen as u32 as u64).min(MMSG_MAX);
    let mut done = 0;
    let end = loop {
        if done == vlen {
            break Ok(());
        }
        let (n, last) = match one(cx, vec + done * MMSGHDR_SIZE) {
            Ok(r) => r,
            Err(e) => break Err(e),
        };
        if let Err(e) = put_msg_len(cx, vec, done, n) {
            break Err(e);
        }
        done += 1;
        if last {
            break Ok(());
        }
    };
    batch_result(done, end)
}

/// `sendmmsg(fd, msgvec, vlen, flags)`: `sendmsg` of each message in
/// turn, its byte count stored in its `msg_len`, until one fails.
pub(super) fn sendmmsg(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (fd, flags) = (a[0] as i32, a[3] as i32);
    each_message(cx, a[1], a[2], |cx, hdr| {
        Ok((send_one(cx, fd, hdr, flags)?, false))
    })
}

/// `recvmmsg(fd, msgvec, vlen, flags, timeout)`: `recvmsg` into each
/// message in turn until one fails (after the first, `MSG_WAITFORONE`
/// makes the rest non-blocking). As Linux does, the timeout is looked at
/// only after each message arrives (it never cuts a wait short), and the
/// time left is written back.
pub(super) fn recvmmsg(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    use crate::abi::{CLOCK_MONOTONIC, MSG_DONTWAIT};
    let (fd, tsp) = (a[0] as i32, a[4]);
    let wait_for_one = a[3] as i32 & MSG_WAITFORONE != 0;
    let mut flags = a[3] as i32 & !MSG_WAITFORONE;
    let now_ns = |cx: &Ctx<'_>| -> SysResult<i128> {
        let t = cx.p.host.clock_gettime(CLOCK_MONOTONIC)?;
        Ok(t.sec as i128 * 1_000_000_000 + t.nsec as i128)
    };
    let deadline = if tsp != 0 {
        let t = super::event::read_timespec(cx, tsp)?;
        Some(now_ns(cx)? + t.sec as i128 * 1_000_000_000 + t.nsec as i128)
    } else {
        None
    };
    let r = each_message(cx, a[1], a[2], |cx, hdr| {
        let got = recv_one(cx, fd, hdr, flags)?;
        if wait_for_one {
            flags |= MSG_DONTWAIT;
        }
        let past = match deadline {
            Some(d) => now_ns(cx)? >= d,
            None => false,
        };
        Ok((got, past))
    });
    if let Some(d) = deadline {
        let left = (d - now_ns(cx)?).max(0);
        let t = crate::host::Timespec {
            sec: (left / 1_000_000_000) as i64,
            nsec: (left % 1_000_000_000) as i64,
        };
        put(cx.mem(), tsp, &crate::abi::encode_timespec(t))?;
    }
    r
}

pub(super) fn shutdown(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.p.host.shutdown(a[0] as i32, a[1] as i32).map(|_| 0)
}

/// Largest option value passed through (the kernel's own are far smaller).
const OPT_MAX: usize = 4096;

pub(super) fn setsockopt(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let len = a[4] as u32 as i32;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let value = if len == 0 {
        Vec::new()
    } else {
        super::read_vec(cx.mem(), a[3], (len as usize).min(OPT_MAX))?
    };
    cx.p.host
        .setsockopt(a[0] as i32, a[1] as i32, a[2] as i32, &value)
        .map(|_| 0)
}

pub(super) fn getsockopt(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let room = addr_room(cx, a[4])?;
    let mut buf = vec![0u8; room.min(OPT_MAX)];
    let n =
        cx.p.host
            .getsockopt(a[0] as i32, a[1] as i32, a[2] as i32, &mut buf)?;
    let n = n.min(buf.len());
    put(cx.mem(), a[3], &buf[..n])?;
    put(cx.mem(), a[4], &(n as u32).to_le_bytes())?;
    Ok(0)
}
