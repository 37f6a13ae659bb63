//! `AF_UNIX` socket pairs (`socketpair`): stream, datagram and
//! seqpacket, with `SCM_RIGHTS` (descriptors in flight hold their open
//! files) and `SCM_CREDENTIALS`/`SO_PASSCRED`, `shutdown`, the
//! `SOL_SOCKET` options programs ask such a socket about, and unnamed
//! addresses.
//!
//! Each end receives from its own queue of messages and sends to its
//! peer's. A stream reads across message boundaries but not past a
//! message that carries ancillary data (as Linux does not merge them), a
//! datagram reads one message, truncated to the buffer (`MSG_TRUNC`).
//! Each queue holds at most [`SOCK_BUF`] bytes (Linux's default
//! `wmem_default`). Not covered: `socket`, `bind`, `connect` and `listen`
//! (no named sockets, no network: `socket` answers `EAFNOSUPPORT`),
//! `MSG_OOB`, `MSG_WAITALL` (a read returns what is there).

use super::object::*;
use super::*;
use core::sync::atomic::{AtomicBool, Ordering};
use vm_core::host::{RecvMsg, SendMsg};

const EPROTONOSUPPORT: Errno = Errno::EPROTONOSUPPORT;
const ESOCKTNOSUPPORT: Errno = Errno::ESOCKTNOSUPPORT;
/// Also the kernel's answer to `connect` on a connected pair.
pub const EISCONN: Errno = Errno::EISCONN;
const ECONNREFUSED: Errno = Errno::ECONNREFUSED;

use vm_core::abi::{
    AF_UNIX, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_PEEK, MSG_TRUNC, SCM_CREDENTIALS, SCM_MAX_FD,
    SCM_RIGHTS, SO_ACCEPTCONN, SO_DOMAIN, SO_ERROR, SO_PASSCRED, SO_PEERCRED, SO_PROTOCOL,
    SO_RCVBUF, SO_SNDBUF, SO_TYPE, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM, SOL_SOCKET,
};
/// Bytes one direction of a pair holds.
pub const SOCK_BUF: usize = 212_992;
/// The only process's credentials: pid 2, uid 0, gid 0.
const OWN_CREDS: [u8; 12] = [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

#[derive(Debug, Default)]
struct Msg {
    data: Vec<u8>,
    /// Bytes of `data` already read (streams).
    read: usize,
    fds: Vec<Arc<spin::Mutex<OpenFile>>>,
    creds: Option<[u8; 12]>,
}

#[derive(Debug, Default)]
struct Queue {
    msgs: VecDeque<Msg>,
    bytes: usize,
    /// No more data will come: the sender shut down writing or closed.
    eof: bool,
    /// The receiver shut down reading or closed: sends fail.
    closed: bool,
}

/// One end of a pair: receives from `chan[side]`, sends to the other.
#[derive(Debug)]
pub(super) struct SockEnd {
    chan: Arc<spin::Mutex<[Queue; 2]>>,
    side: usize,
    ty: i32,
    passcred: AtomicBool,
}

impl Drop for SockEnd {
    fn drop(&mut self) {
        let mut c = self.chan.lock();
        c[self.side].closed = true;
        c[1 - self.side].eof = true;
    }
}

/// Append one control message (`cmsghdr`: u64 length, level, type, data,
/// padded to 8) to `out` at `*used`; false when it does not fit whole.
fn put_cmsg(out: &mut [u8], used: &mut usize, ty: i32, data: &[u8]) -> bool {
    let len = 16 + data.len();
    let space = (len + 7) & !7;
    if out.len() - *used < len {
        return false;
    }
    let c = &mut out[*used..];
    c[..8].copy_from_slice(&(len as u64).to_le_bytes());
    c[8..12].copy_from_slice(&SOL_SOCKET.to_le_bytes());
    c[12..16].copy_from_slice(&ty.to_le_bytes());
    c[16..len].copy_from_slice(data);
    *used += space.min(out.len() - *used);
    true
}

impl SockEnd {
    fn stream(&self) -> bool {
        self.ty == SOCK_STREAM
    }

    fn send(&self, msg: Msg) -> SysResult<usize> {
        let mut c = self.chan.lock();
        let q = &mut c[1 - self.side];
        if q.closed || q.eof {
            return Err(if self.stream() || q.eof {
                Errno::EPIPE
            } else {
                ECONNREFUSED
            });
        }
        let room = SOCK_BUF - q.bytes.min(SOCK_BUF);
        let len = msg.data.len();
        if !self.stream() {
            if len > SOCK_BUF {
                return Err(Errno::EMSGSIZE);
            }
            if len > room || (room == 0 && len == 0) {
                return Err(Errno::EAGAIN);
            }
        } else if room == 0 && len > 0 {
            return Err(Errno::EAGAIN);
        }
        let n = len.min(room);
        let mut msg = msg;
        msg.data.truncate(n);
        q.bytes += n;
        q.msgs.push_back(msg);
        Ok(n)
    }
}

impl Object for SockEnd {
    fn kind(&self) -> &'static str {
        "socket"
    }
    fn read(&self, _fs: &Fs, _pos: &mut u64, buf: &mut [u8]) -> SysResult<usize> {
        let mut none = RecvMsg {
            name: &mut [],
            data: buf,
            control: &mut [],
            name_len: 0,
            control_len: 0,
            flags: 0,
        };
        self.recv(&mut none, 0).map(|(n, _)| n)
    }
    fn write(&self, _fs: &Fs, _pos: &mut u64, _append: bool, buf: &[u8]) -> SysResult<usize> {
        self.send(Msg {
            data: buf.to_vec(),
            ..Msg::default()
        })
    }
    fn poll(&self, _fs: &Fs, _depth: u32) -> i16 {
        let c = self.chan.lock();
        let (rx, tx) = (&c[self.side], &c[1 - self.side]);
        let mut r = 0;
        if !rx.msgs.is_empty() || rx.eof {
            r |= POLLIN;
        }
        if tx.closed || tx.eof {
            r |= if rx.eof { POLLHUP } else { 0 };
        } else if tx.bytes < SOCK_BUF {
            r |= POLLOUT;
        }
        r
    }
    fn mode(&self) -> u32 {
        S_IFSOCK | 0o777
    }
    fn bytes_ready(&self) -> SysResult<usize> {
        let c = self.chan.lock();
        let q = &c[self.side];
        Ok(if self.stream() {
            q.bytes
        } else {
            q.msgs.front().map_or(0, |m| m.data.len())
        })
    }
    fn link_name(&self, _path: &[u8]) -> Vec<u8> {
        anon_name("socket", self as *const SockEnd as *const u8)
    }
}

impl SockEnd {
    /// Take data (and the first message's ancillary data) into `m`;
    /// returns the length for the caller and the descriptors received.
    fn recv(
        &self,
        m: &mut RecvMsg<'_>,
        flags: i32,
    ) -> SysResult<(usize, Vec<Arc<spin::Mutex<OpenFile>>>)> {
        let mut c = self.chan.lock();
        let q = &mut c[self.side];
        m.flags = flags & MSG_CMSG_CLOEXEC;
        m.name_len = 0;
        m.control_len = 0;
        let Some(first) = q.msgs.front() else {
            return if q.eof {
                Ok((0, Vec::new()))
            } else {
                Err(Errno::EAGAIN)
            };
        };
        let peek = flags & MSG_PEEK != 0;
        let fds = if peek { Vec::new() } else { first.fds.clone() };
        let creds = first.creds;
        let passcred = self.passcred.load(Ordering::Relaxed);
        let mut got = 0;
        if self.stream() {
            let mut i = 0;
            while got < m.data.len() && i < q.msgs.len() {
                let msg = &q.msgs[i];
                if i > 0 && (!msg.fds.is_empty() || msg.creds.is_some()) {
                    break;
                }
                let avail = &msg.data[msg.read..];
                let n = avail.len().min(m.data.len() - got);
                m.data[got..got + n].copy_from_slice(&avail[..n]);
                got += n;
                i += 1;
            }
            if !peek {
                let mut left = got;
                while let Some(msg) = q.msgs.front_mut() {
                    let avail = msg.data.len() - msg.read;
                    let n = avail.min(left);
                    msg.read += n;
                    left -= n;
                    q.bytes -= n;
                    if msg.read < msg.data.len() {
                        // Its descriptors went with the first read.
                        msg.fds.clear();
                        msg.creds = None;
                        break;
                    }
                    q.msgs.pop_front();
                    if left == 0 {
                        break;
                    }
                }
            }
        } else {
            let msg = if peek {
                q.msgs.front().expect("checked")
            } else {
                q.bytes -= first.data.len();
                &q.msgs.pop_front().expect("checked")
            };
            let n = msg.data.len().min(m.data.len());
            m.data[..n].copy_from_slice(&msg.data[..n]);
            got = if flags & MSG_TRUNC != 0 {
                msg.data.len()
            } else {
                n
            };
            if n < msg.data.len() {
                m.flags |= MSG_TRUNC;
            }
        }
        drop(c);
        if passcred {
            let cr = creds.unwrap_or(OWN_CREDS);
            if !put_cmsg(m.control, &mut m.control_len, SCM_CREDENTIALS, &cr) {
                m.flags |= MSG_CTRUNC;
            }
        }
        Ok((got, fds))
    }
}

impl Fs {
    fn sock(&self, fd: i32) -> SysResult<Arc<dyn Object>> {
        self.object::<SockEnd>(fd, Errno::ENOTSOCK)
    }

    /// `socketpair(domain, type, protocol)`.
    pub fn socketpair(&mut self, domain: i32, ty: i32, protocol: i32) -> SysResult<[i32; 2]> {
        if domain != AF_UNIX {
            return Err(Errno::EAFNOSUPPORT);
        }
        let flags = ty & (O_NONBLOCK | O_CLOEXEC);
        let ty = ty & !(O_NONBLOCK | O_CLOEXEC);
        if !matches!(ty, SOCK_STREAM | SOCK_DGRAM | SOCK_SEQPACKET) {
            return Err(ESOCKTNOSUPPORT);
        }
        if protocol != 0 && protocol != AF_UNIX {
            return Err(EPROTONOSUPPORT);
        }
        let chan = Arc::new(spin::Mutex::new([Queue::default(), Queue::default()]));
        let end = |side| {
            Arc::new(SockEnd {
                chan: chan.clone(),
                side,
                ty,
                passcred: AtomicBool::new(false),
            })
        };
        let a = self.install_object(end(0), flags)?;
        match self.install_object(end(1), flags) {
            Ok(b) => Ok([a, b]),
            Err(e) => {
                self.fds[a as usize] = None;
                Err(e)
            }
        }
    }

    /// `sendmsg(fd, msg, flags)` (`EAGAIN` when it would block).
    pub fn sendmsg(&mut self, fd: i32, msg: &SendMsg<'_>, _flags: i32) -> SysResult<usize> {
        let o = self.sock(fd)?;
        let s = o.as_any().downcast_ref::<SockEnd>().expect("checked type");
        if !msg.name.is_empty() {
            return Err(EISCONN);
        }
        let mut out = Msg {
            data: msg.data.to_vec(),
            ..Msg::default()
        };
        let mut ctl = msg.control;
        while ctl.len() >= 16 {
            let len = u64::from_le_bytes(ctl[..8].try_into().expect("8 bytes")) as usize;
            let level = i32::from_le_bytes(ctl[8..12].try_into().expect("4 bytes"));
            let ty = i32::from_le_bytes(ctl[12..16].try_into().expect("4 bytes"));
            if len < 16 || len > ctl.len() {
                return Err(Errno::EINVAL);
            }
            let data = &ctl[16..len];
            match (level, ty) {
                (SOL_SOCKET, SCM_RIGHTS) => {
                    if !data.len().is_multiple_of(4) || out.fds.len() + data.len() / 4 > SCM_MAX_FD
                    {
                        return Err(Errno::EINVAL);
                    }
                    for c in data.chunks_exact(4) {
                        let n = i32::from_le_bytes(c.try_into().expect("4 bytes"));
                        out.fds.push(self.file(n)?);
                    }
                }
                (SOL_SOCKET, SCM_CREDENTIALS) => {
                    let cr: [u8; 12] = data.try_into().map_err(|_| Errno::EINVAL)?;
                    out.creds = Some(cr);
                }
                _ => return Err(Errno::EINVAL),
            }
            ctl = ctl.get((len + 7) & !7..).unwrap_or(&[]);
        }
        s.send(out)
    }

    /// `recvmsg(fd, msg, flags)` (`EAGAIN` when it would block).
    pub fn recvmsg(&mut self, fd: i32, msg: &mut RecvMsg<'_>, flags: i32) -> SysResult<usize> {
        let o = self.sock(fd)?;
        let s = o.as_any().downcast_ref::<SockEnd>().expect("checked type");
        let (n, files) = s.recv(msg, flags)?;
        if !files.is_empty() {
            // As many as fit (the rest are closed, and MSG_CTRUNC says so).
            let room = msg.control.len().saturating_sub(msg.control_len + 16) / 4;
            let cloexec = flags & MSG_CMSG_CLOEXEC != 0;
            let total = files.len();
            let mut fds = Vec::new();
            for file in files.into_iter().take(room) {
                match self.install_fd(Fd { file, cloexec }, 0) {
                    Ok(fd) => fds.extend_from_slice(&fd.to_le_bytes()),
                    Err(_) => break,
                }
            }
            if fds.len() / 4 < total {
                msg.flags |= MSG_CTRUNC;
            }
            if !fds.is_empty() {
                put_cmsg(msg.control, &mut msg.control_len, SCM_RIGHTS, &fds);
            }
        }
        Ok(n)
    }

    /// `shutdown(fd, how)`.
    pub fn shutdown(&mut self, fd: i32, how: i32) -> SysResult<()> {
        let o = self.sock(fd)?;
        let s = o.as_any().downcast_ref::<SockEnd>().expect("checked type");
        if !(0..=2).contains(&how) {
            return Err(Errno::EINVAL);
        }
        let mut c = s.chan.lock();
        if how != 1 {
            // SHUT_RD: reads see end of file, the peer's sends fail.
            c[s.side].eof = true;
            c[s.side].closed = true;
        }
        if how != 0 {
            // SHUT_WR: the peer reads end of file once drained.
            c[1 - s.side].eof = true;
        }
        Ok(())
    }

    /// `getsockopt(fd, level, name)` into `value`: the length the kernel
    /// reports.
    pub fn getsockopt(
        &mut self,
        fd: i32,
        level: i32,
        name: i32,
        value: &mut [u8],
    ) -> SysResult<usize> {
        let o = self.sock(fd)?;
        let s = o.as_any().downcast_ref::<SockEnd>().expect("checked type");
        if level != SOL_SOCKET {
            return Err(Errno::ENOTSUP);
        }
        let int = |v: i32| v.to_le_bytes().to_vec();
        let bytes = match name {
            SO_TYPE => int(s.ty),
            SO_ERROR | SO_ACCEPTCONN | SO_PROTOCOL => int(0),
            SO_DOMAIN => int(AF_UNIX),
            SO_SNDBUF | SO_RCVBUF => int(SOCK_BUF as i32),
            SO_PASSCRED => int(i32::from(s.passcred.load(Ordering::Relaxed))),
            SO_PEERCRED => OWN_CREDS.to_vec(),
            _ => return Err(Errno::ENOPROTOOPT),
        };
        let n = bytes.len().min(value.len());
        value[..n].copy_from_slice(&bytes[..n]);
        Ok(bytes.len())
    }

    /// `setsockopt(fd, level, name, value)`.
    pub fn setsockopt(&mut self, fd: i32, level: i32, name: i32, value: &[u8]) -> SysResult<()> {
        let o = self.sock(fd)?;
        let s = o.as_any().downcast_ref::<SockEnd>().expect("checked type");
        if level != SOL_SOCKET {
            return Err(Errno::ENOTSUP);
        }
        let int = || {
            value
                .get(..4)
                .map(|b| i32::from_le_bytes(b.try_into().expect("4 bytes")))
                .ok_or(Errno::EINVAL)
        };
        match name {
            SO_PASSCRED => s.passcred.store(int()? != 0, Ordering::Relaxed),
            // Accepted; the buffers keep their size.
            SO_SNDBUF | SO_RCVBUF => {
                int()?;
            }
            _ => return Err(Errno::ENOPROTOOPT),
        }
        Ok(())
    }

    /// `getsockname`/`getpeername`: both ends are unnamed (`sa_family`
    /// only).
    pub fn sockname(&mut self, fd: i32, addr: &mut [u8]) -> SysResult<usize> {
        self.sock(fd)?;
        let a = (AF_UNIX as u16).to_le_bytes();
        let n = a.len().min(addr.len());
        addr[..n].copy_from_slice(&a[..n]);
        Ok(a.len())
    }

    /// A socket call that needs a named or listening socket, on `fd`:
    /// `EBADF`/`ENOTSOCK`, else `err` (a pair is already connected).
    pub fn sock_only(&self, fd: i32, err: Errno) -> SysResult<()> {
        self.sock(fd)?;
        Err(err)
    }
}
