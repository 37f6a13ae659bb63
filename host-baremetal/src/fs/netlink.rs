//! `AF_NETLINK` sockets of protocol `NETLINK_ROUTE`, as glibc's
//! `getifaddrs` and `if_nameindex` (and so Python's) use them: port ids
//! (`bind`, autobind to the process id first, as Linux does, then to
//! numbers from -4096 down; `EADDRINUSE` for a taken one), a request to
//! the kernel (port 0) answered at once into the socket's queue of
//! datagrams, and unicast between user sockets by port.
//!
//! The kernel's answers ([`super::netif`] builds the records): a dump of
//! `RTM_GETLINK` or `RTM_GETADDR` (any of `NLM_F_ROOT`/`NLM_F_MATCH`;
//! addresses of the family asked, or all) is one datagram of records
//! flagged `NLM_F_MULTI` and then one of `NLMSG_DONE`, as Linux sends a
//! dump that fits; `RTM_GETLINK` of one interface (by index, else by
//! `IFLA_IFNAME`) is one record, `ENODEV` when there is no such one; any
//! other request is `NLMSG_ERROR` `EOPNOTSUPP` (the interface cannot be
//! changed, and there are no routes or neighbours to ask about); a
//! message without `NLM_F_REQUEST` or of a control type is only
//! acknowledged when it asks (`NLM_F_ACK`). An error carries the request
//! back whole, an acknowledgement its header (`NLM_F_CAPPED`), as Linux
//! without `NETLINK_CAP_ACK`. Multicast groups are recorded (`bind`,
//! `getsockname`) but nothing is ever announced: the interface never
//! changes. `SOL_NETLINK` flag options are kept as set and read back.

use super::netif::{addr_msgs, link_exists, link_msg};
use super::object::*;
use super::*;
use vm_core::abi::{
    AF_INET, AF_INET6, AF_NETLINK, AF_UNSPEC, IFLA_IFNAME, MSG_PEEK, NETLINK_ADD_MEMBERSHIP,
    NETLINK_BROADCAST_ERROR, NETLINK_CAP_ACK, NETLINK_DROP_MEMBERSHIP, NETLINK_EXT_ACK,
    NETLINK_GET_STRICT_CHK, NETLINK_LISTEN_ALL_NSID, NETLINK_MAX, NETLINK_NO_ENOBUFS,
    NETLINK_PKTINFO, NETLINK_ROUTE, NLM_F_ACK, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_MULTI,
    NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLMSG_MIN_TYPE, RTM_GETADDR, RTM_GETLINK,
    RTM_NEWLINK, SO_DOMAIN, SO_ERROR, SO_PROTOCOL, SO_RCVBUF, SO_SNDBUF, SO_TYPE, SOCK_DGRAM,
    SOCK_RAW, SOCKADDR_NL_SIZE, SOL_NETLINK, SOL_SOCKET,
};
use vm_core::host::{RecvMsg, SendMsg};

/// The `SOL_NETLINK` options that are flags, kept as set.
const FLAG_OPTS: &[i32] = &[
    NETLINK_PKTINFO,
    NETLINK_BROADCAST_ERROR,
    NETLINK_NO_ENOBUFS,
    NETLINK_LISTEN_ALL_NSID,
    NETLINK_CAP_ACK,
    NETLINK_EXT_ACK,
    NETLINK_GET_STRICT_CHK,
];
/// Bytes of datagrams one socket holds (Linux's default `rmem_default`);
/// past that a reply is dropped and the next `recv` says `ENOBUFS`.
const NL_BUF: usize = 212_992;
/// Where autobind looks after the process id (Linux's rover).
const ROVER_START: u32 = -4096i32 as u32;

#[derive(Debug, Default)]
struct State {
    /// Its port id, once bound (0: not yet).
    port: u32,
    groups: u32,
    /// Where `send` without an address goes (`connect`): port, groups.
    dst: (u32, u32),
    /// Datagrams: the bytes and the sender's port.
    rx: VecDeque<(Vec<u8>, u32)>,
    bytes: usize,
    /// A reply was dropped for want of room: the next `recv` fails.
    overrun: bool,
    /// `SOL_NETLINK` options as set.
    opts: BTreeMap<i32, u32>,
}

/// A netlink socket.
#[derive(Debug)]
pub(super) struct Netlink {
    ty: i32,
    st: spin::Mutex<State>,
}

/// A `SIGEV_THREAD` notice of a message queue ([`super::mqueue`]).
impl vm_core::ipc::NoticeSink for Netlink {
    fn deliver(&self, cookie: &[u8]) {
        // From the kernel (port 0), as Linux's `netlink_sendskb`.
        Netlink::deliver(self, cookie.to_vec(), 0);
    }
}

/// A `sockaddr_nl`: family, pad, port, groups.
fn nl_addr(port: u32, groups: u32) -> [u8; SOCKADDR_NL_SIZE] {
    let mut a = [0u8; SOCKADDR_NL_SIZE];
    a[..2].copy_from_slice(&(AF_NETLINK as u16).to_le_bytes());
    a[4..8].copy_from_slice(&port.to_le_bytes());
    a[8..12].copy_from_slice(&groups.to_le_bytes());
    a
}

/// Parse a `sockaddr_nl`: (port, groups); `EINVAL` when short or of
/// another family.
fn parse_addr(addr: &[u8]) -> SysResult<(u32, u32)> {
    if addr.len() < SOCKADDR_NL_SIZE || u16::from_le_bytes([addr[0], addr[1]]) != AF_NETLINK as u16
    {
        return Err(Errno::EINVAL);
    }
    let word = |i: usize| u32::from_le_bytes(addr[i..i + 4].try_into().expect("4 bytes"));
    Ok((word(4), word(8)))
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"))
}

impl Netlink {
    /// Queue a datagram from `from`; a full queue drops it and says so
    /// at the next `recv` (`ENOBUFS`), as Linux.
    fn deliver(&self, data: Vec<u8>, from: u32) {
        let mut st = self.st.lock();
        if st.bytes + data.len() > NL_BUF {
            st.overrun = true;
            return;
        }
        st.bytes += data.len();
        st.rx.push_back((data, from));
    }

    /// `NLMSG_ERROR` for the request `req` (its whole message) with
    /// `err` (0: an acknowledgement).
    fn error(&self, req: &[u8], err: Option<Errno>, port: u32) -> Vec<u8> {
        let cap = err.is_none() || self.st.lock().opts.get(&NETLINK_CAP_ACK) == Some(&1);
        let code = err.map_or(0, |e| -e.0);
        let mut body = code.to_le_bytes().to_vec();
        body.extend_from_slice(if cap { &req[..NLMSG_HDRLEN] } else { req });
        super::netif::NlMsg::new(
            NLMSG_ERROR,
            if cap { NLM_F_CAPPED } else { 0 },
            u32_at(req, 8),
            port,
            &body,
        )
        .done()
    }

    /// The kernel's handling of one request `req` (a whole message):
    /// the datagrams it answers with.
    fn answer(&self, req: &[u8], port: u32) -> Vec<Vec<u8>> {
        let ty = u16_at(req, 4);
        let flags = u16_at(req, 6);
        let seq = u32_at(req, 8);
        let ack = flags & NLM_F_ACK != 0;
        if flags & NLM_F_REQUEST == 0 || ty < NLMSG_MIN_TYPE {
            return if ack {
                alloc::vec![self.error(req, None, port)]
            } else {
                Vec::new()
            };
        }
        let body = &req[NLMSG_HDRLEN..];
        let family = body.first().map_or(AF_UNSPEC, |&f| i32::from(f));
        let result: SysResult<Vec<Vec<u8>>> = match ty {
            RTM_GETLINK | RTM_GETADDR if flags & NLM_F_DUMP != 0 => {
                let records = if ty == RTM_GETLINK {
                    alloc::vec![link_msg(RTM_NEWLINK, NLM_F_MULTI, seq, port)]
                } else {
                    let family = if family == AF_INET || family == AF_INET6 {
                        family
                    } else {
                        AF_UNSPEC
                    };
                    addr_msgs(family, NLM_F_MULTI, seq, port)
                };
                let done = super::netif::NlMsg::new(NLMSG_DONE, NLM_F_MULTI, seq, port, &[0; 4]);
                return alloc::vec![records.concat(), done.done()];
            }
            RTM_GETLINK => {
                Self::get_link(body).map(|()| alloc::vec![link_msg(RTM_NEWLINK, 0, seq, port)])
            }
            _ => Err(Errno::ENOTSUP),
        };
        match result {
            Ok(mut out) => {
                if ack {
                    out.push(self.error(req, None, port));
                }
                out
            }
            Err(e) => alloc::vec![self.error(req, Some(e), port)],
        }
    }

    /// `RTM_GETLINK` of one interface: `ifinfomsg`'s index, else the
    /// `IFLA_IFNAME` attribute (`EINVAL` without either, or when the
    /// `ifinfomsg` is short; `ENODEV` when there is no such interface).
    fn get_link(body: &[u8]) -> SysResult<()> {
        if body.len() < 16 {
            return Err(Errno::EINVAL);
        }
        let index = u32_at(body, 4) as i32;
        let mut name = None;
        let mut attrs = &body[16..];
        while attrs.len() >= 4 {
            let len = usize::from(u16_at(attrs, 0));
            if len < 4 || len > attrs.len() {
                break;
            }
            if u16_at(attrs, 2) == IFLA_IFNAME {
                name = Some(&attrs[4..len]);
            }
            attrs = attrs.get((len + 3) & !3..).unwrap_or(&[]);
        }
        if index == 0 && name.is_none() {
            return Err(Errno::EINVAL);
        }
        if link_exists(index, name) {
            Ok(())
        } else {
            Err(Errno::ENODEV)
        }
    }

    /// Take one datagram into `m` (`EAGAIN` when there is none).
    fn recv(&self, m: &mut RecvMsg<'_>, flags: i32) -> SysResult<usize> {
        let mut st = self.st.lock();
        if core::mem::take(&mut st.overrun) {
            return Err(Errno::ENOBUFS);
        }
        let (data, from) = st.rx.front().ok_or(Errno::EAGAIN)?;
        m.flags = 0;
        let got = m.put_datagram(data, flags);
        let full = data.len();
        let addr = nl_addr(*from, 0);
        let k = addr.len().min(m.name.len());
        m.name[..k].copy_from_slice(&addr[..k]);
        m.name_len = addr.len();
        m.control_len = 0;
        if flags & MSG_PEEK == 0 {
            st.bytes -= full;
            st.rx.pop_front();
        }
        Ok(got)
    }
}

/// An open netlink socket: the descriptor's object.
#[derive(Debug)]
pub(super) struct NetlinkFile(Arc<Netlink>);

impl Object for NetlinkFile {
    fn kind(&self) -> &'static str {
        "socket"
    }
    fn read(&self, _fs: &Fs, _pos: &mut u64, buf: &mut [u8]) -> SysResult<usize> {
        self.0.recv(&mut RecvMsg::data_only(buf), 0)
    }
    fn write(&self, fs: &Fs, _pos: &mut u64, _append: bool, buf: &[u8]) -> SysResult<usize> {
        fs.nl_send(&self.0, &[], buf)
    }
    fn poll(&self, _fs: &Fs, _depth: u32) -> i16 {
        let st = self.0.st.lock();
        POLLOUT
            | if st.rx.is_empty() && !st.overrun {
                0
            } else {
                POLLIN
            }
    }
    fn mode(&self) -> u32 {
        S_IFSOCK | 0o777
    }
    fn bytes_ready(&self) -> SysResult<usize> {
        Ok(self.0.st.lock().rx.front().map_or(0, |d| d.0.len()))
    }
    fn link_name(&self, _path: &[u8]) -> Vec<u8> {
        anon_name("socket", Arc::as_ptr(&self.0) as *const u8)
    }
}

impl Fs {
    /// `socket(AF_NETLINK, ty, protocol)`: `SOCK_RAW` or `SOCK_DGRAM`
    /// (`ESOCKTNOSUPPORT`), `NETLINK_ROUTE` (`EPROTONOSUPPORT` for the
    /// others, as a Linux kernel built without them).
    pub(super) fn netlink_socket(&mut self, ty: i32, protocol: i32, flags: i32) -> SysResult<i32> {
        if ty != SOCK_RAW && ty != SOCK_DGRAM {
            return Err(Errno::ESOCKTNOSUPPORT);
        }
        if protocol != NETLINK_ROUTE || !(0..NETLINK_MAX).contains(&protocol) {
            return Err(Errno::EPROTONOSUPPORT);
        }
        let s = Netlink {
            ty,
            st: spin::Mutex::default(),
        };
        self.install_object(Arc::new(NetlinkFile(Arc::new(s))), flags)
    }

    /// The netlink socket open as `fd`, if it is one.
    pub(super) fn netlink(&self, fd: i32) -> Option<Arc<Netlink>> {
        let o = self.object::<NetlinkFile>(fd, Errno::ENOTSOCK).ok()?;
        Some(
            o.as_any()
                .downcast_ref::<NetlinkFile>()
                .expect("checked type")
                .0
                .clone(),
        )
    }

    /// Give `s` a port if it has none (`port` 0: autobind), else check
    /// that `port` is the one it has.
    fn nl_bind_port(&self, s: &Arc<Netlink>, port: u32) -> SysResult<()> {
        let have = s.st.lock().port;
        if have != 0 {
            return if port == 0 || port == have {
                Ok(())
            } else {
                Err(Errno::EINVAL)
            };
        }
        let mut names = self.names.lock();
        let got = names.bind_netlink(port, self.pid as u32, ROVER_START, s)?;
        s.st.lock().port = got;
        Ok(())
    }

    /// `bind` of a netlink socket.
    pub(super) fn nl_bind(&self, s: &Arc<Netlink>, addr: &[u8]) -> SysResult<()> {
        let (port, groups) = parse_addr(addr)?;
        self.nl_bind_port(s, port)?;
        s.st.lock().groups = groups;
        Ok(())
    }

    /// `connect` of a netlink socket (`AF_UNSPEC`: back to the kernel).
    pub(super) fn nl_connect(&self, s: &Arc<Netlink>, addr: &[u8]) -> SysResult<()> {
        if addr.len() >= 2 && u16::from_le_bytes([addr[0], addr[1]]) == AF_UNSPEC as u16 {
            s.st.lock().dst = (0, 0);
            return Ok(());
        }
        let dst = parse_addr(addr)?;
        self.nl_bind_port(s, 0)?;
        s.st.lock().dst = dst;
        Ok(())
    }

    /// `getsockname` (`peer` false) or `getpeername` of a netlink socket.
    pub(super) fn nl_name(&self, s: &Netlink, peer: bool) -> Vec<u8> {
        let st = s.st.lock();
        if peer {
            nl_addr(st.dst.0, st.dst.1).to_vec()
        } else {
            nl_addr(st.port, st.groups).to_vec()
        }
    }

    /// Send `data` to the kernel or to the socket the address `name`
    /// (else the connected one) names.
    pub(super) fn nl_send(&self, s: &Arc<Netlink>, name: &[u8], data: &[u8]) -> SysResult<usize> {
        let (dst, group) = if name.is_empty() {
            s.st.lock().dst
        } else {
            parse_addr(name)?
        };
        self.nl_bind_port(s, 0)?;
        let port = s.st.lock().port;
        if group != 0 {
            // Nobody listens to a group: nothing is announced here.
            return Ok(data.len());
        }
        if dst != 0 {
            let to = self
                .names
                .lock()
                .find_netlink(dst)
                .ok_or(Errno::ECONNREFUSED)?;
            to.deliver(data.to_vec(), port);
            return Ok(data.len());
        }
        // To the kernel: each whole message in turn.
        let mut rest = data;
        while rest.len() >= NLMSG_HDRLEN {
            let len = u32_at(rest, 0) as usize;
            if len < NLMSG_HDRLEN || len > rest.len() {
                break;
            }
            for d in s.answer(&rest[..len], port) {
                s.deliver(d, 0);
            }
            rest = rest.get((len + 3) & !3..).unwrap_or(&[]);
        }
        Ok(data.len())
    }

    /// `sendmsg` on a netlink socket (ancillary data: none taken).
    pub(super) fn nl_sendmsg(&self, s: &Arc<Netlink>, msg: &SendMsg<'_>) -> SysResult<usize> {
        if !msg.control.is_empty() {
            return Err(Errno::EINVAL);
        }
        self.nl_send(s, msg.name, msg.data)
    }

    /// `recvmsg` on a netlink socket.
    pub(super) fn nl_recvmsg(
        &self,
        s: &Netlink,
        msg: &mut RecvMsg<'_>,
        flags: i32,
    ) -> SysResult<usize> {
        s.recv(msg, flags)
    }

    /// `getsockopt` of a netlink socket into `value`.
    pub(super) fn nl_getsockopt(
        &self,
        s: &Netlink,
        level: i32,
        name: i32,
        value: &mut [u8],
    ) -> SysResult<usize> {
        let v: u32 = match (level, name) {
            (SOL_SOCKET, SO_TYPE) => s.ty as u32,
            (SOL_SOCKET, SO_DOMAIN) => AF_NETLINK as u32,
            (SOL_SOCKET, SO_PROTOCOL) => NETLINK_ROUTE as u32,
            (SOL_SOCKET, SO_ERROR) => 0,
            (SOL_SOCKET, SO_SNDBUF | SO_RCVBUF) => NL_BUF as u32,
            (SOL_NETLINK, n) if FLAG_OPTS.contains(&n) => *s.st.lock().opts.get(&n).unwrap_or(&0),
            _ => return Err(Errno::ENOPROTOOPT),
        };
        let b = v.to_le_bytes();
        let n = b.len().min(value.len());
        value[..n].copy_from_slice(&b[..n]);
        Ok(b.len())
    }

    /// `setsockopt` of a netlink socket: buffer sizes accepted as they
    /// are, `SOL_NETLINK` options kept.
    pub(super) fn nl_setsockopt(
        &self,
        s: &Netlink,
        level: i32,
        name: i32,
        value: &[u8],
    ) -> SysResult<()> {
        let v = value
            .get(..4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
            .ok_or(Errno::EINVAL)?;
        match (level, name) {
            (SOL_SOCKET, SO_SNDBUF | SO_RCVBUF) => Ok(()),
            (SOL_NETLINK, n) if FLAG_OPTS.contains(&n) => {
                s.st.lock().opts.insert(n, u32::from(v != 0));
                Ok(())
            }
            // A group to hear: none is ever announced to.
            (SOL_NETLINK, NETLINK_ADD_MEMBERSHIP | NETLINK_DROP_MEMBERSHIP) => Ok(()),
            _ => Err(Errno::ENOPROTOOPT),
        }
    }
}
