//! The machine's one network interface, the loopback `lo` (index 1,
//! `127.0.0.1/8` and `::1/128`, `UP|LOOPBACK|RUNNING`, MTU 65536), as
//! Linux describes its own: the `SIOCGIF*` ioctls on any socket
//! (`SIOCGIFCONF`, `SIOCGIFINDEX`, `SIOCGIFNAME`, `SIOCGIFFLAGS`,
//! `SIOCGIFMTU`, `SIOCGIFHWADDR`, `SIOCGIFMETRIC`, `SIOCGIFTXQLEN`; the
//! address ones, `SIOCGIFADDR`, `SIOCGIFNETMASK`, `SIOCGIFBRDADDR`,
//! `SIOCGIFDSTADDR`, only on an `AF_INET` socket, as Linux's
//! `inet_ioctl`), and the rtnetlink records that [`super::netlink`]
//! answers dumps with (`RTM_NEWLINK`, `RTM_NEWADDR`), with the
//! attributes Linux gives for its loopback.
//!
//! Not kept: traffic counters (no `IFLA_STATS`, so `getifaddrs` gives
//! the `AF_PACKET` entry no `ifa_data`); the address's creation time
//! (`IFA_CACHEINFO` stamps are 0: it exists from boot); changes (no
//! `SIOCSIF*`: the interface is as booted).

use super::*;
use vm_core::abi::{
    AF_INET, AF_INET6, AF_UNSPEC, ARPHRD_LOOPBACK, IFA_ADDRESS, IFA_CACHEINFO, IFA_F_PERMANENT,
    IFA_FLAGS, IFA_LABEL, IFA_LOCAL, IFF_LOOPBACK, IFF_LOWER_UP, IFF_RUNNING, IFF_UP, IFLA_ADDRESS,
    IFLA_BROADCAST, IFLA_CARRIER, IFLA_GROUP, IFLA_IFNAME, IFLA_LINKMODE, IFLA_MAX_MTU,
    IFLA_MIN_MTU, IFLA_MTU, IFLA_NUM_RX_QUEUES, IFLA_NUM_TX_QUEUES, IFLA_OPERSTATE,
    IFLA_PROMISCUITY, IFLA_QDISC, IFLA_TXQLEN, IFNAMSIZ, IFREQ_SIZE, RT_SCOPE_HOST, SIOCGIFADDR,
    SIOCGIFBRDADDR, SIOCGIFDSTADDR, SIOCGIFFLAGS, SIOCGIFHWADDR, SIOCGIFINDEX, SIOCGIFMETRIC,
    SIOCGIFMTU, SIOCGIFNAME, SIOCGIFNETMASK, SIOCGIFTXQLEN,
};

/// The loopback's name, index, flags (`ifi_flags`; `SIOCGIFFLAGS` gives
/// the low 16 bits), MTU and transmit queue length.
pub(super) const LO_NAME: &[u8] = b"lo";
pub(super) const LO_INDEX: i32 = 1;
const LO_FLAGS: u32 = IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP;
const LO_MTU: u32 = 65536;
const LO_TXQLEN: u32 = 1000;
/// Its hardware address: `ETH_ALEN` zero bytes.
const LO_HWADDR: [u8; 6] = [0; 6];
const V4: [u8; 4] = [127, 0, 0, 1];
const V4_PREFIX: u8 = 8;
const V6: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const V6_PREFIX: u8 = 128;

/// Is `req` one of the interface ioctls answered here?
pub fn is_ifreq(req: u32) -> bool {
    matches!(
        req,
        SIOCGIFNAME
            | SIOCGIFINDEX
            | SIOCGIFFLAGS
            | SIOCGIFMTU
            | SIOCGIFHWADDR
            | SIOCGIFMETRIC
            | SIOCGIFTXQLEN
            | SIOCGIFADDR
            | SIOCGIFNETMASK
            | SIOCGIFBRDADDR
            | SIOCGIFDSTADDR
    )
}

/// A `sockaddr_in` of `ip`, port 0.
fn sockaddr_in(ip: [u8; 4]) -> [u8; 16] {
    let mut a = [0; 16];
    a[..2].copy_from_slice(&(AF_INET as u16).to_le_bytes());
    a[4..8].copy_from_slice(&ip);
    a
}

/// The name in a `struct ifreq` (at most `IFNAMSIZ - 1` bytes, as the
/// kernel terminates it).
fn ifr_name(r: &[u8]) -> &[u8] {
    let n = &r[..IFNAMSIZ - 1];
    &n[..n.iter().position(|&c| c == 0).unwrap_or(n.len())]
}

/// Answer an interface ioctl into `r` (a `struct ifreq`) for a socket
/// of `family`: `ENODEV` for an interface that does not exist, `ENOTTY`
/// for an address ioctl on a socket that is not `AF_INET`.
pub(super) fn ifreq(family: i32, req: u32, r: &mut [u8]) -> SysResult<()> {
    if r.len() < IFREQ_SIZE {
        return Err(Errno::EFAULT);
    }
    let address = matches!(
        req,
        SIOCGIFADDR | SIOCGIFNETMASK | SIOCGIFBRDADDR | SIOCGIFDSTADDR
    );
    if address && family != AF_INET {
        return Err(Errno::ENOTTY);
    }
    if req == SIOCGIFNAME {
        let index = i32::from_le_bytes(r[16..20].try_into().expect("4 bytes"));
        if index != LO_INDEX {
            return Err(Errno::ENODEV);
        }
        r[..IFNAMSIZ].fill(0);
        r[..LO_NAME.len()].copy_from_slice(LO_NAME);
        return Ok(());
    }
    if ifr_name(r) != LO_NAME {
        return Err(Errno::ENODEV);
    }
    let u = &mut r[16..];
    let int = |u: &mut [u8], v: u32| u[..4].copy_from_slice(&v.to_le_bytes());
    match req {
        SIOCGIFINDEX => int(u, LO_INDEX as u32),
        SIOCGIFFLAGS => u[..2].copy_from_slice(&(LO_FLAGS as u16).to_le_bytes()),
        SIOCGIFMTU => int(u, LO_MTU),
        SIOCGIFMETRIC => int(u, 0),
        SIOCGIFTXQLEN => int(u, LO_TXQLEN),
        SIOCGIFHWADDR => {
            u[..16].fill(0);
            u[..2].copy_from_slice(&ARPHRD_LOOPBACK.to_le_bytes());
            u[2..8].copy_from_slice(&LO_HWADDR);
        }
        SIOCGIFADDR | SIOCGIFDSTADDR => u[..16].copy_from_slice(&sockaddr_in(V4)),
        SIOCGIFNETMASK => {
            let mask = (u32::MAX << (32 - V4_PREFIX)).to_be_bytes();
            u[..16].copy_from_slice(&sockaddr_in(mask));
        }
        // The loopback has no broadcast address: 0.0.0.0.
        SIOCGIFBRDADDR => u[..16].copy_from_slice(&sockaddr_in([0; 4])),
        _ => return Err(Errno::ENOTTY),
    }
    Ok(())
}

/// `SIOCGIFCONF`: one `struct ifreq` per IPv4 address (the loopback's),
/// as many whole ones as fit in `buf` (`None`: the size of them all).
pub(super) fn ifconf(buf: Option<&mut [u8]>) -> usize {
    let mut rec = [0u8; IFREQ_SIZE];
    rec[..LO_NAME.len()].copy_from_slice(LO_NAME);
    rec[16..32].copy_from_slice(&sockaddr_in(V4));
    match buf {
        None => rec.len(),
        Some(b) if b.len() >= rec.len() => {
            b[..rec.len()].copy_from_slice(&rec);
            rec.len()
        }
        Some(_) => 0,
    }
}

/// An rtnetlink message under construction: a `nlmsghdr` and a body of
/// attributes, each `rtattr` (length, type) padded to 4 bytes.
pub(super) struct NlMsg(Vec<u8>);

impl NlMsg {
    /// A message of `ty` with `flags`, for the request `seq` of the
    /// socket `port`, whose fixed part is `head`.
    pub(super) fn new(ty: u16, flags: u16, seq: u32, port: u32, head: &[u8]) -> NlMsg {
        let mut v = alloc::vec![0u8; 16];
        v[4..6].copy_from_slice(&ty.to_le_bytes());
        v[6..8].copy_from_slice(&flags.to_le_bytes());
        v[8..12].copy_from_slice(&seq.to_le_bytes());
        v[12..16].copy_from_slice(&port.to_le_bytes());
        v.extend_from_slice(head);
        let mut m = NlMsg(v);
        m.pad();
        m
    }
    fn pad(&mut self) {
        while !self.0.len().is_multiple_of(4) {
            self.0.push(0);
        }
    }
    pub(super) fn attr(&mut self, ty: u16, data: &[u8]) -> &mut NlMsg {
        self.0
            .extend_from_slice(&((4 + data.len()) as u16).to_le_bytes());
        self.0.extend_from_slice(&ty.to_le_bytes());
        self.0.extend_from_slice(data);
        self.pad();
        self
    }
    fn u32(&mut self, ty: u16, v: u32) -> &mut NlMsg {
        self.attr(ty, &v.to_le_bytes())
    }
    /// The finished message, its length filled in.
    pub(super) fn done(mut self) -> Vec<u8> {
        let len = self.0.len() as u32;
        self.0[..4].copy_from_slice(&len.to_le_bytes());
        self.0
    }
}

/// A `RTM_NEWLINK` message describing the loopback (`ifinfomsg`, then
/// the attributes `ip link` shows).
pub(super) fn link_msg(ty: u16, flags: u16, seq: u32, port: u32) -> Vec<u8> {
    let mut head = [0u8; 16];
    head[0] = AF_UNSPEC as u8;
    head[2..4].copy_from_slice(&ARPHRD_LOOPBACK.to_le_bytes());
    head[4..8].copy_from_slice(&LO_INDEX.to_le_bytes());
    head[8..12].copy_from_slice(&LO_FLAGS.to_le_bytes());
    let mut m = NlMsg::new(ty, flags, seq, port, &head);
    m.attr(IFLA_IFNAME, b"lo\0")
        .u32(IFLA_TXQLEN, LO_TXQLEN)
        // IF_OPER_UNKNOWN, as Linux's loopback (it has no carrier state).
        .attr(IFLA_OPERSTATE, &[0])
        .attr(IFLA_LINKMODE, &[0])
        .u32(IFLA_MTU, LO_MTU)
        .u32(IFLA_MIN_MTU, 0)
        .u32(IFLA_MAX_MTU, 0)
        .u32(IFLA_GROUP, 0)
        .u32(IFLA_PROMISCUITY, 0)
        .u32(IFLA_NUM_TX_QUEUES, 1)
        .u32(IFLA_NUM_RX_QUEUES, 1)
        .attr(IFLA_CARRIER, &[1])
        .attr(IFLA_QDISC, b"noqueue\0")
        .attr(IFLA_ADDRESS, &LO_HWADDR)
        .attr(IFLA_BROADCAST, &LO_HWADDR);
    m.done()
}

/// Does the interface `index` or, with index 0, the name `name` exist?
pub(super) fn link_exists(index: i32, name: Option<&[u8]>) -> bool {
    if index != 0 {
        return index == LO_INDEX;
    }
    name.is_some_and(|n| n.split(|&c| c == 0).next() == Some(LO_NAME))
}

/// The `RTM_NEWADDR` messages of the loopback's addresses of `family`
/// (`AF_UNSPEC`: IPv4, then IPv6).
pub(super) fn addr_msgs(family: i32, flags: u16, seq: u32, port: u32) -> Vec<Vec<u8>> {
    // ifa_cacheinfo: preferred and valid forever, created at boot.
    let mut cache = [0u8; 16];
    cache[..8].fill(0xff);
    let mut out = Vec::new();
    let head = |fam: i32, prefix: u8| {
        [
            fam as u8,
            prefix,
            IFA_F_PERMANENT as u8,
            RT_SCOPE_HOST,
            LO_INDEX as u8,
            0,
            0,
            0,
        ]
    };
    // One RTM_NEWADDR per address, attributes in Linux's order for its
    // family.
    let new = |fam, prefix| {
        NlMsg::new(
            vm_core::abi::RTM_NEWADDR,
            flags,
            seq,
            port,
            &head(fam, prefix),
        )
    };
    if family == AF_INET || family == AF_UNSPEC {
        let mut m = new(AF_INET, V4_PREFIX);
        m.attr(IFA_ADDRESS, &V4)
            .attr(IFA_LOCAL, &V4)
            .attr(IFA_LABEL, b"lo\0")
            .u32(IFA_FLAGS, IFA_F_PERMANENT)
            .attr(IFA_CACHEINFO, &cache);
        out.push(m.done());
    }
    if family == AF_INET6 || family == AF_UNSPEC {
        let mut m = new(AF_INET6, V6_PREFIX);
        m.attr(IFA_ADDRESS, &V6)
            .attr(IFA_CACHEINFO, &cache)
            .u32(IFA_FLAGS, IFA_F_PERMANENT);
        out.push(m.done());
    }
    out
}

impl Fs {
    /// `ioctl(fd, req, r)` of an interface request (`SIOCGIF*` but
    /// `SIOCGIFCONF`) on `r`, a `struct ifreq`: `ENOTTY` when `fd` is not
    /// a socket or `req` not one of them.
    pub fn netif_ioctl(&self, fd: i32, req: u32, r: &mut [u8]) -> SysResult<i32> {
        let family = self.socket_family(fd)?.ok_or(Errno::ENOTTY)?;
        if !is_ifreq(req) {
            return Err(Errno::ENOTTY);
        }
        ifreq(family, req, r).map(|()| 0)
    }

    /// `ioctl(fd, SIOCGIFCONF)` (see [`ifconf`]): `ENOTTY` when `fd` is
    /// not a socket.
    pub fn ifconf(&self, fd: i32, buf: Option<&mut [u8]>) -> SysResult<usize> {
        self.socket_family(fd)?.ok_or(Errno::ENOTTY)?;
        Ok(ifconf(buf))
    }
}
