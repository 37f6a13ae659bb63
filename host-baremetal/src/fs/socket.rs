//! Local sockets: `AF_UNIX` stream, datagram and seqpacket sockets
//! (`socketpair`, and named ones: `bind` to a path or an abstract name,
//! `listen`, `accept4`, `connect`), and `AF_INET`/`AF_INET6` TCP and UDP
//! on the loopback; `SCM_RIGHTS` (descriptors in flight hold their open
//! files), `SCM_CREDENTIALS`/`SO_PASSCRED`, `SO_PEERCRED`, `shutdown`,
//! socket options, and names. Where a name leads is [`super::sockname`];
//! `AF_NETLINK` sockets are [`super::netlink`]'s, which the calls here
//! hand them to.
//!
//! Each socket receives into a queue of its own and sends to its peer's
//! (a connected one's) or to the queue of the socket a datagram's address
//! names. A stream reads across message boundaries but not past a
//! message that carries ancillary data (as Linux does not merge them), a
//! datagram reads one message, truncated to the buffer (`MSG_TRUNC`).
//! Each queue holds at most [`SOCK_BUF`] bytes (Linux's default
//! `wmem_default`). `connect` of a stream finds a listener and queues a
//! connected socket for its `accept` at once, so a loopback TCP connect
//! completes in the call; a non-blocking one still answers `EINPROGRESS`
//! as Linux's does (and a refused one `EINPROGRESS`, then `SO_ERROR`
//! `ECONNREFUSED`), and the next `connect` how it ended. The listener's
//! backlog takes `backlog + 1` (`EAGAIN`, or waiting, past that). A
//! loopback TCP connection is such a pair of queues: no segments or
//! windows. The side that closes first (while its peer has not) keeps
//! its port for [`TIME_WAIT_NS`] from that close, as Linux's `TIME_WAIT`
//! (Linux counts from the peer's `FIN`; here there is no `FIN_WAIT_2` to
//! wait out, and `SO_LINGER` with a zero time, Linux's reset, holds the
//! port all the same). Options a program sets and reads back are kept
//! ([`KEPT`]); the rest answer `ENOPROTOOPT`. Not covered: `MSG_OOB`,
//! `MSG_WAITALL` (a read returns what is there), `SO_SNDTIMEO` (kept,
//! not applied: a send waits for room as long as it takes).
//!
//! Locks, in the order they are taken: the names' ([`super::sockname`]),
//! a listener's state, a connecting socket's state, a queue.

use super::object::*;
use super::sockname::{Inet, UnixName, inet_name, unix_addr, unix_name, unnamed};
use super::*;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use vm_core::abi::{
    AF_INET, AF_INET6, AF_NETLINK, AF_UNIX, AF_UNSPEC, IP_TOS, IP_TTL, IPPROTO_IP, IPPROTO_IPV6,
    IPPROTO_TCP, IPPROTO_UDP, IPV6_V6ONLY, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_PEEK, SCM_CREDENTIALS,
    SCM_MAX_FD, SCM_RIGHTS, SO_ACCEPTCONN, SO_BROADCAST, SO_DOMAIN, SO_ERROR, SO_KEEPALIVE,
    SO_LINGER, SO_OOBINLINE, SO_PASSCRED, SO_PEERCRED, SO_PROTOCOL, SO_RCVBUF, SO_RCVTIMEO,
    SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SO_SNDTIMEO, SO_TYPE, SOCK_DGRAM, SOCK_SEQPACKET,
    SOCK_STREAM, SOL_SOCKET, TCP_CORK, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_NODELAY,
};
use vm_core::host::{RecvMsg, SendMsg};

/// Also the kernel's answer to `connect` on a connected socket.
pub const EISCONN: Errno = Errno::EISCONN;

/// Bytes one queue holds.
pub const SOCK_BUF: usize = 212_992;
/// The longest backlog (Linux's `somaxconn`).
const SOMAXCONN: i32 = 4096;

/// Options kept as set and read back: (level, name, size, whether the
/// value is a truth, read back as 0 or 1, and the value before any set).
const KEPT: &[(i32, i32, usize, bool, i32)] = &[
    (SOL_SOCKET, SO_REUSEADDR, 4, true, 0),
    (SOL_SOCKET, SO_REUSEPORT, 4, true, 0),
    (SOL_SOCKET, SO_KEEPALIVE, 4, true, 0),
    (SOL_SOCKET, SO_BROADCAST, 4, true, 0),
    (SOL_SOCKET, SO_OOBINLINE, 4, true, 0),
    (SOL_SOCKET, SO_LINGER, 8, false, 0),
    (SOL_SOCKET, SO_RCVTIMEO, 16, false, 0),
    (SOL_SOCKET, SO_SNDTIMEO, 16, false, 0),
    (IPPROTO_TCP, TCP_NODELAY, 4, true, 0),
    (IPPROTO_TCP, TCP_CORK, 4, true, 0),
    (IPPROTO_TCP, TCP_KEEPIDLE, 4, false, 7200),
    (IPPROTO_TCP, TCP_KEEPINTVL, 4, false, 75),
    (IPPROTO_TCP, TCP_KEEPCNT, 4, false, 9),
    (IPPROTO_IPV6, IPV6_V6ONLY, 4, true, 0),
    (IPPROTO_IP, IP_TOS, 4, false, 0),
    (IPPROTO_IP, IP_TTL, 4, false, 64),
];

/// `struct ucred` of a process: pid, uid 0, gid 0 (the machine's one
/// user runs everything).
fn creds(pid: i32) -> [u8; 12] {
    let mut c = [0; 12];
    c[..4].copy_from_slice(&pid.to_le_bytes());
    c
}

#[derive(Debug, Default)]
struct Msg {
    data: Vec<u8>,
    /// Bytes of `data` already read (streams).
    read: usize,
    fds: Vec<Arc<spin::Mutex<OpenFile>>>,
    /// Credentials the sender gave (`SCM_CREDENTIALS`).
    creds: Option<[u8; 12]>,
    /// The sending process's.
    sender: [u8; 12],
    /// The sender's address (datagrams).
    from: Vec<u8>,
}

#[derive(Debug, Default)]
pub(super) struct Queue {
    msgs: VecDeque<Msg>,
    bytes: usize,
    /// No more data will come: the sender shut down writing or closed.
    eof: bool,
    /// The receiver shut down reading or closed: sends fail.
    closed: bool,
}

type QueueRef = Arc<spin::Mutex<Queue>>;

impl Queue {
    /// Queue `msg`; `stream`: take what fits of it.
    fn push(&mut self, mut msg: Msg, stream: bool) -> SysResult<usize> {
        if self.closed || self.eof {
            return Err(if stream || self.eof {
                Errno::EPIPE
            } else {
                Errno::ECONNREFUSED
            });
        }
        let room = SOCK_BUF - self.bytes.min(SOCK_BUF);
        let len = msg.data.len();
        if !stream {
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
        msg.data.truncate(n);
        self.bytes += n;
        self.msgs.push_back(msg);
        Ok(n)
    }
}

/// Where a connected socket sends.
#[derive(Debug)]
struct Peer {
    /// Its address (`getpeername`).
    addr: Vec<u8>,
    /// Its queue; `None` for a connected UDP socket, whose datagrams go
    /// to whoever has the address when each is sent.
    queue: Option<QueueRef>,
}

#[derive(Debug)]
struct Listen {
    backlog: usize,
    /// Connected sockets for `accept`, in order.
    pending: VecDeque<Arc<Sock>>,
}

#[derive(Debug, Default)]
struct State {
    /// The name it is bound to (`getsockname`).
    local: Option<Vec<u8>>,
    /// Its internet address, once bound.
    inet: Option<Inet>,
    peer: Option<Peer>,
    listen: Option<Listen>,
    /// What `SO_PEERCRED` gives.
    peercred: Option<[u8; 12]>,
    /// Values of [`KEPT`] options that were set.
    opts: BTreeMap<(i32, i32), Vec<u8>>,
    /// A non-blocking TCP `connect` answered `EINPROGRESS` (Linux's
    /// `SS_CONNECTING`): the next `connect` reports how it ended.
    connecting: bool,
    /// ... and was refused: closed, with the error pending.
    refused: bool,
    /// What `SO_ERROR` gives (and clears).
    error: Option<Errno>,
}

/// How long the side that closes a TCP connection first keeps its port
/// (Linux's `TCP_TIMEWAIT_LEN`), in nanoseconds.
const TIME_WAIT_NS: u64 = 60_000_000_000;

/// The monotonic clock a socket reads when it is closed (its `Fs`'s).
#[derive(Clone, Copy, Debug)]
pub(super) struct Mono {
    clock: Clock,
    monotonic: Option<fn() -> u64>,
}

impl Mono {
    pub(super) fn ns(self) -> u64 {
        match self.monotonic {
            Some(f) => f(),
            None => {
                let t = (self.clock)();
                (t.sec as u64).saturating_mul(1_000_000_000) + t.nsec as u64
            }
        }
    }
}

/// A socket.
#[derive(Debug)]
pub(super) struct Sock {
    family: i32,
    ty: i32,
    rx: QueueRef,
    st: spin::Mutex<State>,
    passcred: AtomicBool,
    /// Until when (monotonic ns) its port stays taken once it is gone
    /// (0: not at all): set when it closes a TCP connection first, as
    /// Linux's `TIME_WAIT`; its binding in [`super::sockname`] shares it.
    hold: Arc<AtomicU64>,
    mono: Mono,
}

impl Drop for Sock {
    fn drop(&mut self) {
        let peer_open = {
            let mut rx = self.rx.lock();
            rx.closed = true;
            !rx.eof
        };
        let connected = self
            .st
            .get_mut()
            .peer
            .as_ref()
            .is_some_and(|p| p.queue.is_some());
        if self.inet() && self.stream() && connected && peer_open {
            // It closes first: its port goes into TIME_WAIT.
            let until = self.mono.ns().saturating_add(TIME_WAIT_NS);
            self.hold.store(until, Ordering::Relaxed);
        }
        let peer = self.st.get_mut().peer.take();
        if self.connection()
            && let Some(q) = peer.and_then(|p| p.queue)
        {
            q.lock().eof = true;
        }
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

/// Copy `addr` to the front of `out`; returns its full length.
fn put_addr(out: &mut [u8], addr: &[u8]) -> usize {
    let n = addr.len().min(out.len());
    out[..n].copy_from_slice(&addr[..n]);
    addr.len()
}

impl Sock {
    fn new(family: i32, ty: i32, mono: Mono) -> Sock {
        Sock {
            family,
            ty,
            rx: Arc::default(),
            st: spin::Mutex::new(State::default()),
            passcred: AtomicBool::new(false),
            hold: Arc::default(),
            mono,
        }
    }

    /// When its port is free again once it is gone (shared with its
    /// binding).
    pub(super) fn hold(&self) -> Arc<AtomicU64> {
        self.hold.clone()
    }

    /// A stream or seqpacket socket, which connects to one peer.
    fn connection(&self) -> bool {
        self.ty != SOCK_DGRAM
    }

    fn stream(&self) -> bool {
        self.ty == SOCK_STREAM
    }

    fn inet(&self) -> bool {
        self.family != AF_UNIX
    }

    pub(super) fn listening(&self) -> bool {
        self.st.lock().listen.is_some()
    }

    /// A kept option's value as an `int`.
    fn opt_int(&self, level: i32, name: i32) -> i32 {
        let st = self.st.lock();
        st.opts
            .get(&(level, name))
            .and_then(|v| v.get(..4))
            .map_or(0, |b| i32::from_le_bytes(b.try_into().expect("4 bytes")))
    }

    /// Its receive timeout (`SO_RCVTIMEO`), if set.
    fn rcvtimeo(&self) -> Option<Timespec> {
        let st = self.st.lock();
        let v = st.opts.get(&(SOL_SOCKET, SO_RCVTIMEO))?;
        let sec = i64::from_le_bytes(v[..8].try_into().expect("8 bytes"));
        let usec = i64::from_le_bytes(v[8..16].try_into().expect("8 bytes"));
        (sec > 0 || usec > 0).then_some(Timespec {
            sec,
            nsec: usec * 1000,
        })
    }

    fn local_addr(&self) -> Vec<u8> {
        self.st
            .lock()
            .local
            .clone()
            .unwrap_or_else(|| unnamed(self.family))
    }

    /// Send `msg` to its peer, or to whom `name` names (datagrams).
    fn send(&self, fs: &Fs, this: &Arc<Sock>, name: &[u8], mut msg: Msg) -> SysResult<usize> {
        msg.sender = creds(fs.pid);
        if self.connection() {
            let peer = self.st.lock().peer.as_ref().and_then(|p| p.queue.clone());
            if !name.is_empty() && !self.inet() {
                return Err(if peer.is_some() {
                    EISCONN
                } else {
                    Errno::ENOTSUP
                });
            }
            let q = peer.ok_or(if self.inet() {
                Errno::EPIPE
            } else {
                Errno::ENOTCONN
            })?;
            return q.lock().push(msg, self.stream());
        }
        // A datagram.
        let to = if name.is_empty() {
            // Its own lock is not held while the names are looked at
            // (the names' lock comes first).
            let (queue, addr) = {
                let st = self.st.lock();
                let p = st.peer.as_ref().ok_or(if self.inet() {
                    Errno::EDESTADDRREQ
                } else {
                    Errno::ENOTCONN
                })?;
                (p.queue.clone(), p.addr.clone())
            };
            match queue {
                Some(q) => Some(q),
                None => self.udp_target(fs, &addr)?,
            }
        } else if self.inet() {
            self.udp_target(fs, name)?
        } else {
            let target = fs.find_unix(&unix_name(name)?)?;
            if target.ty != self.ty {
                return Err(Errno::EPROTOTYPE);
            }
            Some(target.rx.clone())
        };
        if self.inet() {
            // The sender gets a port if it has none.
            fs.autobind(this, None)?;
            let st = self.st.lock();
            let mut from = st.inet.expect("bound above");
            if from.ip == [0; 16] {
                from.ip = Inet::local_ip(self.family);
            }
            msg.from = from.bytes();
        } else {
            msg.from = self.st.lock().local.clone().unwrap_or_default();
        }
        match to {
            Some(q) => q.lock().push(msg, false),
            // Nobody has that port: the datagram is lost.
            None => Ok(msg.data.len()),
        }
    }

    /// The queue of the UDP socket `addr` reaches, if any.
    fn udp_target(&self, fs: &Fs, addr: &[u8]) -> SysResult<Option<QueueRef>> {
        let to = inet_name(self.family, addr)?;
        Ok(fs
            .names
            .lock()
            .find_inet(SOCK_DGRAM, &to)?
            .map(|s| s.rx.clone()))
    }

    /// Take data (and the first message's ancillary data) into `m`;
    /// returns the length for the caller and the descriptors received.
    fn recv(
        &self,
        m: &mut RecvMsg<'_>,
        flags: i32,
    ) -> SysResult<(usize, Vec<Arc<spin::Mutex<OpenFile>>>)> {
        m.flags = flags & MSG_CMSG_CLOEXEC;
        m.name_len = 0;
        m.control_len = 0;
        if self.connection() {
            let st = self.st.lock();
            if st.peer.is_none() {
                return Err(if self.inet() {
                    Errno::ENOTCONN
                } else {
                    Errno::EINVAL
                });
            }
        }
        let mut guard = self.rx.lock();
        let q = &mut *guard;
        let Some(first) = q.msgs.front() else {
            return if q.eof {
                Ok((0, Vec::new()))
            } else {
                Err(Errno::EAGAIN)
            };
        };
        let peek = flags & MSG_PEEK != 0;
        let fds = if peek { Vec::new() } else { first.fds.clone() };
        let creds = first.creds.unwrap_or(first.sender);
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
                let len = first.data.len();
                q.bytes -= len;
                &q.msgs.pop_front().expect("checked")
            };
            got = m.put_datagram(&msg.data, flags);
            m.name_len = if msg.from.is_empty() {
                0
            } else {
                put_addr(m.name, &msg.from)
            };
        }
        drop(guard);
        if passcred && !put_cmsg(m.control, &mut m.control_len, SCM_CREDENTIALS, &creds) {
            m.flags |= MSG_CTRUNC;
        }
        Ok((got, fds))
    }
}

/// An open socket: the descriptor's object.
#[derive(Debug)]
pub(super) struct SockFile(Arc<Sock>);

impl Object for SockFile {
    fn kind(&self) -> &'static str {
        "socket"
    }
    fn read(&self, _fs: &Fs, _pos: &mut u64, buf: &mut [u8]) -> SysResult<usize> {
        self.0.recv(&mut RecvMsg::data_only(buf), 0).map(|(n, _)| n)
    }
    fn write(&self, fs: &Fs, _pos: &mut u64, _append: bool, buf: &[u8]) -> SysResult<usize> {
        let msg = Msg {
            data: buf.to_vec(),
            ..Msg::default()
        };
        self.0.send(fs, &self.0, &[], msg)
    }
    fn poll(&self, _fs: &Fs, _depth: u32) -> i16 {
        let s = &self.0;
        let st = s.st.lock();
        if let Some(l) = &st.listen {
            return if l.pending.is_empty() { 0 } else { POLLIN };
        }
        if st.refused {
            // Closed by the refusal: both directions shut down.
            let err = if st.error.is_some() { POLLERR } else { 0 };
            return POLLIN | POLLOUT | POLLHUP | err;
        }
        let peer = st.peer.as_ref().map(|p| p.queue.clone());
        drop(st);
        let rx = s.rx.lock();
        let mut r = 0;
        if !rx.msgs.is_empty() || rx.eof {
            r |= POLLIN;
        }
        let rx_eof = rx.eof;
        drop(rx);
        match peer {
            // An unconnected stream: hung up (and writable, for AF_UNIX).
            None if s.connection() => r | POLLHUP | if s.inet() { 0 } else { POLLOUT },
            Some(Some(q)) => {
                let tx = q.lock();
                if tx.closed || tx.eof {
                    r | if rx_eof { POLLHUP } else { 0 }
                } else if tx.bytes < SOCK_BUF {
                    r | POLLOUT
                } else {
                    r
                }
            }
            _ => r | POLLOUT,
        }
    }
    fn mode(&self) -> u32 {
        S_IFSOCK | 0o777
    }
    fn bytes_ready(&self) -> SysResult<usize> {
        let q = self.0.rx.lock();
        Ok(if self.0.stream() {
            q.bytes
        } else {
            q.msgs.front().map_or(0, |m| m.data.len())
        })
    }
    fn link_name(&self, _path: &[u8]) -> Vec<u8> {
        anon_name("socket", Arc::as_ptr(&self.0) as *const u8)
    }
}

/// `socket`'s family, type and protocol checked: `EAFNOSUPPORT`,
/// `ESOCKTNOSUPPORT`, `EPROTONOSUPPORT` as Linux gives them.
fn check_kind(domain: i32, ty: i32, protocol: i32) -> SysResult<()> {
    match domain {
        AF_UNIX => {
            if !matches!(ty, SOCK_STREAM | SOCK_DGRAM | SOCK_SEQPACKET) {
                return Err(Errno::ESOCKTNOSUPPORT);
            }
            if protocol != 0 && protocol != AF_UNIX {
                return Err(Errno::EPROTONOSUPPORT);
            }
        }
        AF_INET | AF_INET6 => {
            let proto = match ty {
                SOCK_STREAM => IPPROTO_TCP,
                SOCK_DGRAM => IPPROTO_UDP,
                // Raw sockets and SCTP: not on the loopback of this kernel.
                _ => return Err(Errno::ESOCKTNOSUPPORT),
            };
            if protocol != 0 && protocol != proto {
                return Err(Errno::EPROTONOSUPPORT);
            }
        }
        _ => return Err(Errno::EAFNOSUPPORT),
    }
    Ok(())
}

impl Fs {
    /// The family of the socket open as `fd`: `None` for a file that is
    /// not a socket (`EBADF` when nothing is open there).
    pub(super) fn socket_family(&self, fd: i32) -> SysResult<Option<i32>> {
        self.file(fd)?;
        if self.netlink(fd).is_some() {
            return Ok(Some(AF_NETLINK));
        }
        Ok(self.sock(fd).ok().map(|s| s.family))
    }

    /// The clock its sockets read when closed.
    fn mono(&self) -> Mono {
        Mono {
            clock: self.clock,
            monotonic: self.monotonic,
        }
    }

    /// The socket open as `fd` (`EBADF`, `ENOTSOCK`).
    fn sock(&self, fd: i32) -> SysResult<Arc<Sock>> {
        let o = self.object::<SockFile>(fd, Errno::ENOTSOCK)?;
        Ok(o.as_any()
            .downcast_ref::<SockFile>()
            .expect("checked type")
            .0
            .clone())
    }

    /// `socket(domain, type, protocol)`.
    pub fn socket(&mut self, domain: i32, ty: i32, protocol: i32) -> SysResult<i32> {
        let flags = ty & (O_NONBLOCK | O_CLOEXEC);
        let ty = ty & !(O_NONBLOCK | O_CLOEXEC);
        if domain == AF_NETLINK {
            return self.netlink_socket(ty, protocol, flags);
        }
        check_kind(domain, ty, protocol)?;
        self.install_object(
            Arc::new(SockFile(Arc::new(Sock::new(domain, ty, self.mono())))),
            flags,
        )
    }

    /// `socketpair(domain, type, protocol)`.
    pub fn socketpair(&mut self, domain: i32, ty: i32, protocol: i32) -> SysResult<[i32; 2]> {
        if domain != AF_UNIX {
            return Err(if matches!(domain, AF_INET | AF_INET6) {
                Errno::ENOTSUP
            } else {
                Errno::EAFNOSUPPORT
            });
        }
        let flags = ty & (O_NONBLOCK | O_CLOEXEC);
        let ty = ty & !(O_NONBLOCK | O_CLOEXEC);
        check_kind(domain, ty, protocol)?;
        let (a, b) = (
            Sock::new(domain, ty, self.mono()),
            Sock::new(domain, ty, self.mono()),
        );
        for (s, other) in [(&a, &b), (&b, &a)] {
            let mut st = s.st.lock();
            st.peer = Some(Peer {
                addr: unnamed(AF_UNIX),
                queue: Some(other.rx.clone()),
            });
            st.peercred = Some(creds(self.pid));
        }
        let a = self.install_object(Arc::new(SockFile(Arc::new(a))), flags)?;
        match self.install_object(Arc::new(SockFile(Arc::new(b))), flags) {
            Ok(b) => Ok([a, b]),
            Err(e) => {
                self.fds[a as usize] = None;
                Err(e)
            }
        }
    }

    /// Give an internet socket a port if it has none: the wildcard
    /// address, or `local` (the loopback a connection leaves from).
    pub(super) fn autobind(&self, s: &Arc<Sock>, local: Option<[u8; 16]>) -> SysResult<()> {
        if s.st.lock().inet.is_some() {
            return Ok(());
        }
        let at = Inet {
            family: s.family,
            ip: local.unwrap_or([0; 16]),
            port: 0,
        };
        self.bind_inet_sock(s, at)
    }

    fn bind_inet_sock(&self, s: &Arc<Sock>, at: Inet) -> SysResult<()> {
        let reuse = s.opt_int(SOL_SOCKET, SO_REUSEADDR) != 0;
        let v6only = s.opt_int(IPPROTO_IPV6, IPV6_V6ONLY) != 0;
        let now = self.mono().ns();
        let at = self
            .names
            .lock()
            .bind_inet(at, s.ty, reuse, v6only, s, now)?;
        let mut st = s.st.lock();
        st.local = Some(at.bytes());
        st.inet = Some(at);
        Ok(())
    }

    /// `bind(fd, addr)`.
    pub fn bind(&mut self, fd: i32, addr: &[u8]) -> SysResult<()> {
        if let Some(n) = self.netlink(fd) {
            return self.nl_bind(&n, addr);
        }
        let s = self.sock(fd)?;
        if s.inet() {
            let at = inet_name(s.family, addr)?;
            if s.st.lock().inet.is_some() {
                return Err(Errno::EINVAL);
            }
            return self.bind_inet_sock(&s, at);
        }
        let name = unix_name(addr)?;
        if let UnixName::Path(p) = &name {
            // The file first, as Linux makes it: a taken path is
            // EADDRINUSE even for a bound socket.
            if self.resolve(AT_FDCWD, p, false)?.node.is_some() {
                return Err(Errno::EADDRINUSE);
            }
        }
        if s.st.lock().local.is_some() {
            return Err(Errno::EINVAL);
        }
        let bound = match name {
            UnixName::Path(p) => {
                self.bind_path(&p, &s)?;
                UnixName::Path(p)
            }
            UnixName::Abstract(n) => {
                UnixName::Abstract(self.names.lock().bind_abstract(Some(n), &s)?)
            }
            UnixName::Auto => UnixName::Abstract(self.names.lock().bind_abstract(None, &s)?),
        };
        s.st.lock().local = Some(unix_addr(&bound));
        Ok(())
    }

    /// `listen(fd, backlog)`.
    pub fn listen(&mut self, fd: i32, backlog: i32) -> SysResult<()> {
        if self.netlink(fd).is_some() {
            return Err(Errno::ENOTSUP);
        }
        let s = self.sock(fd)?;
        if !s.connection() {
            return Err(Errno::ENOTSUP);
        }
        if s.inet() {
            self.autobind(&s, None)?;
        }
        let mut st = s.st.lock();
        if st.peer.is_some() || st.local.is_none() {
            return Err(Errno::EINVAL);
        }
        let backlog = backlog.clamp(0, SOMAXCONN) as usize;
        match &mut st.listen {
            Some(l) => l.backlog = backlog,
            None => {
                st.listen = Some(Listen {
                    backlog,
                    pending: VecDeque::new(),
                });
            }
        }
        st.peercred = Some(creds(self.pid));
        Ok(())
    }

    /// `connect(fd, addr)`: `EAGAIN` when a listener's backlog is full
    /// (the kernel waits and calls again, unless `O_NONBLOCK`). A
    /// non-blocking TCP connect is `EINPROGRESS`, as on Linux, though it
    /// is done (or refused: then `SO_ERROR` says `ECONNREFUSED`); the next
    /// `connect` gives how it ended (0; the pending error, else
    /// `ECONNABORTED`), the one after `EISCONN`.
    pub fn connect(&mut self, fd: i32, addr: &[u8]) -> SysResult<()> {
        if let Some(n) = self.netlink(fd) {
            return self.nl_connect(&n, addr);
        }
        let s = self.sock(fd)?;
        let tcp = s.inet() && s.stream();
        if tcp {
            let mut st = s.st.lock();
            if core::mem::take(&mut st.refused) {
                st.connecting = false;
                return Err(st.error.take().unwrap_or(Errno::ECONNABORTED));
            }
            if core::mem::take(&mut st.connecting) && st.peer.is_some() {
                return Ok(());
            }
        }
        let r = self.connect_now(fd, addr);
        if !tcp || !self.nonblocking(fd)? {
            return r;
        }
        let mut st = s.st.lock();
        match r {
            Ok(()) => st.connecting = true,
            Err(Errno::ECONNREFUSED) => {
                st.connecting = true;
                st.refused = true;
                st.error = Some(Errno::ECONNREFUSED);
            }
            Err(e) => return Err(e),
        }
        Err(Errno::EINPROGRESS)
    }

    /// `connect` done in the call.
    fn connect_now(&mut self, fd: i32, addr: &[u8]) -> SysResult<()> {
        let s = self.sock(fd)?;
        if !s.connection() {
            return self.connect_dgram(&s, addr);
        }
        {
            let st = s.st.lock();
            if st.listen.is_some() {
                return Err(Errno::EINVAL);
            }
            if st.peer.is_some() {
                return Err(EISCONN);
            }
        }
        let target = if s.inet() {
            let to = inet_name(s.family, addr)?;
            let t = self.names.lock().find_inet(s.ty, &to)?;
            let t = t.filter(|t| t.listening()).ok_or(Errno::ECONNREFUSED)?;
            // The connection leaves from the loopback, on a port of its own.
            self.autobind(&s, Some(Inet::local_ip(s.family)))?;
            t
        } else {
            let name = unix_name(addr)?;
            if name == UnixName::Auto {
                return Err(Errno::EINVAL);
            }
            let t = self.find_unix(&name)?;
            if t.ty != s.ty {
                return Err(Errno::EPROTOTYPE);
            }
            t
        };
        // The server's end, for the listener's accept.
        let srv = Arc::new(Sock::new(s.family, s.ty, self.mono()));
        let server_name = if s.inet() {
            // The address connected to, as the accepted socket's own.
            let mut to = inet_name(s.family, addr)?;
            if to.ip == [0; 16] {
                to.ip = Inet::local_ip(s.family);
            }
            to.bytes()
        } else {
            target.local_addr()
        };
        let mut lst = target.st.lock();
        let listener_creds = lst.peercred;
        let Some(l) = lst.listen.as_mut() else {
            return Err(Errno::ECONNREFUSED);
        };
        if l.pending.len() > l.backlog {
            return Err(Errno::EAGAIN);
        }
        let client_name = s.local_addr();
        {
            let mut ss = srv.st.lock();
            ss.local = Some(server_name.clone());
            ss.peer = Some(Peer {
                addr: client_name,
                queue: Some(s.rx.clone()),
            });
            ss.peercred = Some(creds(self.pid));
        }
        l.pending.push_back(srv.clone());
        drop(lst);
        if s.inet() {
            // The server's end holds the listener's port too (Linux's
            // inherited bind bucket), with its SO_REUSEADDR and
            // IPV6_V6ONLY: what a later bind of that port meets.
            let reuse = target.opt_int(SOL_SOCKET, SO_REUSEADDR) != 0;
            let v6only = target.opt_int(IPPROTO_IPV6, IPV6_V6ONLY) != 0;
            let at = inet_name(s.family, &server_name)?;
            self.names
                .lock()
                .bind_accepted(at, s.ty, reuse, v6only, &srv);
        }
        let mut st = s.st.lock();
        st.peer = Some(Peer {
            addr: server_name,
            queue: Some(srv.rx.clone()),
        });
        st.peercred = listener_creds;
        Ok(())
    }

    /// `connect` of a datagram socket: its default destination
    /// (`AF_UNSPEC`: none).
    fn connect_dgram(&self, s: &Arc<Sock>, addr: &[u8]) -> SysResult<()> {
        if addr.len() >= 2 && u16::from_le_bytes([addr[0], addr[1]]) == AF_UNSPEC as u16 {
            s.st.lock().peer = None;
            return Ok(());
        }
        let peer = if s.inet() {
            let to = inet_name(s.family, addr)?;
            self.autobind(s, Some(Inet::local_ip(s.family)))?;
            Peer {
                addr: to.bytes(),
                queue: None,
            }
        } else {
            let name = unix_name(addr)?;
            let t = self.find_unix(&name)?;
            if t.ty != s.ty {
                return Err(Errno::EPROTOTYPE);
            }
            let addr = t.local_addr();
            Peer {
                addr,
                queue: Some(t.rx.clone()),
            }
        };
        s.st.lock().peer = Some(peer);
        Ok(())
    }

    /// `accept4(fd, addr, flags)`: the new descriptor and the peer's
    /// address's full length (`EAGAIN` when none is waiting).
    pub fn accept4(&mut self, fd: i32, addr: &mut [u8], flags: i32) -> SysResult<(i32, usize)> {
        if self.netlink(fd).is_some() {
            return Err(Errno::ENOTSUP);
        }
        let s = self.sock(fd)?;
        if !s.connection() {
            return Err(Errno::ENOTSUP);
        }
        let srv = {
            let mut st = s.st.lock();
            let l = st.listen.as_mut().ok_or(Errno::EINVAL)?;
            l.pending.pop_front().ok_or(Errno::EAGAIN)?
        };
        let peer = srv
            .st
            .lock()
            .peer
            .as_ref()
            .map(|p| p.addr.clone())
            .unwrap_or_default();
        let nfd = self.install_object(Arc::new(SockFile(srv)), flags)?;
        Ok((nfd, put_addr(addr, &peer)))
    }

    /// `sendmsg(fd, msg, flags)` (`EAGAIN` when it would block).
    pub fn sendmsg(&mut self, fd: i32, msg: &SendMsg<'_>, _flags: i32) -> SysResult<usize> {
        if let Some(n) = self.netlink(fd) {
            return self.nl_sendmsg(&n, msg);
        }
        let s = self.sock(fd)?;
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
                (SOL_SOCKET, SCM_RIGHTS) if !s.inet() => {
                    if !data.len().is_multiple_of(4) || out.fds.len() + data.len() / 4 > SCM_MAX_FD
                    {
                        return Err(Errno::EINVAL);
                    }
                    for c in data.chunks_exact(4) {
                        let n = i32::from_le_bytes(c.try_into().expect("4 bytes"));
                        out.fds.push(self.file(n)?);
                    }
                }
                (SOL_SOCKET, SCM_CREDENTIALS) if !s.inet() => {
                    let cr: [u8; 12] = data.try_into().map_err(|_| Errno::EINVAL)?;
                    out.creds = Some(cr);
                }
                _ => return Err(Errno::EINVAL),
            }
            ctl = ctl.get((len + 7) & !7..).unwrap_or(&[]);
        }
        s.send(self, &s, msg.name, out)
    }

    /// `recvmsg(fd, msg, flags)` (`EAGAIN` when it would block).
    pub fn recvmsg(&mut self, fd: i32, msg: &mut RecvMsg<'_>, flags: i32) -> SysResult<usize> {
        if let Some(n) = self.netlink(fd) {
            return self.nl_recvmsg(&n, msg, flags);
        }
        let s = self.sock(fd)?;
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

    /// The receive timeout of the socket `fd` (`SO_RCVTIMEO`), for the
    /// kernel's wait in `read`, `recvmsg` and `accept4`.
    pub fn sock_rcvtimeo(&self, fd: i32) -> Option<Timespec> {
        self.sock(fd).ok()?.rcvtimeo()
    }

    /// `shutdown(fd, how)`.
    pub fn shutdown(&mut self, fd: i32, how: i32) -> SysResult<()> {
        if self.netlink(fd).is_some() {
            return Err(Errno::ENOTSUP);
        }
        let s = self.sock(fd)?;
        if !(0..=2).contains(&how) {
            return Err(Errno::EINVAL);
        }
        let st = s.st.lock();
        if st.listen.is_some() {
            return Ok(());
        }
        let peer = st.peer.as_ref().ok_or(Errno::ENOTCONN)?.queue.clone();
        drop(st);
        if how != 1 {
            // SHUT_RD: reads see end of file, the peer's sends fail.
            let mut rx = s.rx.lock();
            rx.eof = true;
            rx.closed = true;
        }
        if how != 0
            && let Some(q) = peer
        {
            // SHUT_WR: the peer reads end of file once drained.
            q.lock().eof = true;
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
        if let Some(n) = self.netlink(fd) {
            return self.nl_getsockopt(&n, level, name, value);
        }
        let s = self.sock(fd)?;
        let int = |v: i32| v.to_le_bytes().to_vec();
        let bytes = match (level, name) {
            (SOL_SOCKET, SO_TYPE) => int(s.ty),
            (SOL_SOCKET, SO_ERROR) => int(s.st.lock().error.take().map_or(0, |e| e.0)),
            (SOL_SOCKET, SO_ACCEPTCONN) => int(i32::from(s.listening())),
            (SOL_SOCKET, SO_PROTOCOL) => int(match (s.family, s.ty) {
                (AF_UNIX, _) => 0,
                (_, SOCK_STREAM) => IPPROTO_TCP,
                _ => IPPROTO_UDP,
            }),
            (SOL_SOCKET, SO_DOMAIN) => int(s.family),
            (SOL_SOCKET, SO_SNDBUF | SO_RCVBUF) => int(SOCK_BUF as i32),
            (SOL_SOCKET, SO_PASSCRED) => int(i32::from(s.passcred.load(Ordering::Relaxed))),
            (SOL_SOCKET, SO_PEERCRED) => {
                // An unconnected socket's: pid 0, uid and gid -1.
                let mut none = [0xff; 12];
                none[..4].fill(0);
                s.st.lock().peercred.unwrap_or(none).to_vec()
            }
            _ => {
                let (_, _, size, _, default) = Self::kept(&s, level, name)?;
                let st = s.st.lock();
                match st.opts.get(&(level, name)) {
                    Some(v) => v.clone(),
                    None => {
                        let mut v = alloc::vec![0; size];
                        v[..4].copy_from_slice(&default.to_le_bytes());
                        v
                    }
                }
            }
        };
        let n = bytes.len().min(value.len());
        value[..n].copy_from_slice(&bytes[..n]);
        Ok(bytes.len())
    }

    /// The [`KEPT`] entry of an option, or the errno for one this socket
    /// lacks: `EOPNOTSUPP` for a protocol level an `AF_UNIX` socket does
    /// not have, else `ENOPROTOOPT`.
    fn kept(s: &Sock, level: i32, name: i32) -> SysResult<(i32, i32, usize, bool, i32)> {
        let level_ok = match level {
            SOL_SOCKET => true,
            IPPROTO_TCP => s.inet() && s.stream(),
            IPPROTO_IPV6 => s.family == AF_INET6,
            IPPROTO_IP => s.inet(),
            _ => false,
        };
        if !level_ok {
            return Err(if s.inet() {
                Errno::ENOPROTOOPT
            } else {
                Errno::ENOTSUP
            });
        }
        KEPT.iter()
            .find(|k| k.0 == level && k.1 == name)
            .copied()
            .ok_or(Errno::ENOPROTOOPT)
    }

    /// `setsockopt(fd, level, name, value)`.
    pub fn setsockopt(&mut self, fd: i32, level: i32, name: i32, value: &[u8]) -> SysResult<()> {
        if let Some(n) = self.netlink(fd) {
            return self.nl_setsockopt(&n, level, name, value);
        }
        let s = self.sock(fd)?;
        let int = || {
            value
                .get(..4)
                .map(|b| i32::from_le_bytes(b.try_into().expect("4 bytes")))
                .ok_or(Errno::EINVAL)
        };
        match (level, name) {
            (SOL_SOCKET, SO_PASSCRED) => s.passcred.store(int()? != 0, Ordering::Relaxed),
            // Accepted; the buffers keep their size.
            (SOL_SOCKET, SO_SNDBUF | SO_RCVBUF) => {
                int()?;
            }
            _ => {
                let (_, _, size, truth, _) = Self::kept(&s, level, name)?;
                let v = value.get(..size).ok_or(Errno::EINVAL)?;
                let v = if truth {
                    i32::from(int()? != 0).to_le_bytes().to_vec()
                } else {
                    v.to_vec()
                };
                s.st.lock().opts.insert((level, name), v);
            }
        }
        Ok(())
    }

    /// `getsockname` (`peer` false) or `getpeername` into `addr`: the
    /// address's full length.
    pub fn sockname(&mut self, fd: i32, peer: bool, addr: &mut [u8]) -> SysResult<usize> {
        if let Some(n) = self.netlink(fd) {
            return Ok(put_addr(addr, &self.nl_name(&n, peer)));
        }
        let s = self.sock(fd)?;
        let a = if peer {
            let st = s.st.lock();
            st.peer.as_ref().ok_or(Errno::ENOTCONN)?.addr.clone()
        } else {
            s.local_addr()
        };
        Ok(put_addr(addr, &a))
    }
}
