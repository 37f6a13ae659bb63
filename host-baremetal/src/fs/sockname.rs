//! Where sockets are found by name: the addresses of `AF_UNIX` (a path in
//! the tree, whose node is a socket inode, [`SockNode`]; or a name in the
//! abstract namespace) and of the loopback `AF_INET`/`AF_INET6` (a port of
//! `127.0.0.1`, `::1` or the wildcard address), as `bind` records them
//! and `connect`/`sendto` look them up, with Linux's errnos for what a
//! lookup or a binding meets (`ENOENT`, `ECONNREFUSED`, `EADDRINUSE`,
//! `EADDRNOTAVAIL`, `ENETUNREACH`); and the port ids of netlink sockets.
//!
//! Every process's [`Fs`] holds the one [`Names`] (shared at `fork`, as
//! the tree is). A binding holds its socket weakly: a closed socket's
//! path stays in the tree (connecting to it is `ECONNREFUSED`, as on
//! Linux) and its abstract name becomes free; its port too, unless it
//! closed a TCP connection first: then the binding stays, with the
//! socket's `SO_REUSEADDR`, until its `TIME_WAIT` ends (a bind meets it
//! as Linux's bind conflict rule says: taken unless both have
//! `SO_REUSEADDR`). The server's end of an accepted connection is bound
//! to the listener's port as well, as Linux's shares the listener's bind
//! bucket. Ports: an ephemeral port comes from Linux's default range
//! (32768-60999), in turn. Not modelled: addresses other than the
//! loopback's (`bind` is `EADDRNOTAVAIL`, `connect` `ENETUNREACH`),
//! IPv4-mapped IPv6 addresses.

use super::netlink::Netlink;
use super::object::*;
use super::socket::Sock;
use super::*;
use core::sync::atomic::{AtomicU64, Ordering};
use vm_core::abi::{AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM};

/// `offsetof(struct sockaddr_un, sun_path)`.
const SUN_PATH: usize = 2;
/// `sizeof(struct sockaddr_un)`.
const SUN_MAX: usize = 110;
/// `sizeof(struct sockaddr_in)`, `sizeof(struct sockaddr_in6)`.
const SIN_LEN: usize = 16;
const SIN6_LEN: usize = 28;
/// The smallest `sockaddr_in6` Linux takes (RFC 2133's, without scope).
const SIN6_MIN: usize = 24;
const EPHEMERAL: core::ops::RangeInclusive<u16> = 32768..=60999;

/// An `AF_UNIX` address as `bind`/`connect` name it.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum UnixName {
    /// Just the family: `bind` picks an abstract name (autobind).
    Auto,
    /// A path in the tree.
    Path(Vec<u8>),
    /// An abstract name: the bytes after the leading NUL... with it.
    Abstract(Vec<u8>),
}

/// Parse an `AF_UNIX` address (`EINVAL` for a wrong family or length).
pub(super) fn unix_name(addr: &[u8]) -> SysResult<UnixName> {
    if addr.len() < SUN_PATH || u16::from_le_bytes([addr[0], addr[1]]) != AF_UNIX as u16 {
        return Err(Errno::EINVAL);
    }
    if addr.len() > SUN_MAX {
        return Err(Errno::EINVAL);
    }
    let path = &addr[SUN_PATH..];
    if path.is_empty() {
        return Ok(UnixName::Auto);
    }
    if path[0] == 0 {
        return Ok(UnixName::Abstract(path.to_vec()));
    }
    let end = path.iter().position(|&c| c == 0).unwrap_or(path.len());
    Ok(UnixName::Path(path[..end].to_vec()))
}

/// The `sockaddr_un` `getsockname` gives for a name: the family and the
/// path with its NUL (a path), or the bytes as bound (an abstract name).
pub(super) fn unix_addr(name: &UnixName) -> Vec<u8> {
    let mut a = (AF_UNIX as u16).to_le_bytes().to_vec();
    match name {
        UnixName::Auto => {}
        UnixName::Path(p) => {
            a.extend_from_slice(p);
            a.push(0);
        }
        UnixName::Abstract(n) => a.extend_from_slice(n),
    }
    a
}

/// An unnamed socket's address: the family alone (`AF_UNIX`), or the
/// wildcard address and port 0.
pub(super) fn unnamed(family: i32) -> Vec<u8> {
    match family {
        AF_INET => inet_addr(AF_INET, &[0; 16], 0),
        AF_INET6 => inet_addr(AF_INET6, &[0; 16], 0),
        _ => (family as u16).to_le_bytes().to_vec(),
    }
}

/// An internet address and port (IPv4's in the first 4 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Inet {
    pub(super) family: i32,
    pub(super) ip: [u8; 16],
    pub(super) port: u16,
}

impl Inet {
    fn wildcard(&self) -> bool {
        self.ip == [0; 16]
    }
    /// Is it this machine's loopback (`127.0.0.0/8`, `::1`)?
    fn loopback(&self) -> bool {
        if self.family == AF_INET {
            self.ip[0] == 127
        } else {
            self.ip[..15] == [0; 15] && self.ip[15] == 1
        }
    }
    /// The loopback address of its family.
    pub(super) fn local_ip(family: i32) -> [u8; 16] {
        let mut ip = [0; 16];
        if family == AF_INET {
            ip[..4].copy_from_slice(&[127, 0, 0, 1]);
        } else {
            ip[15] = 1;
        }
        ip
    }
    pub(super) fn bytes(&self) -> Vec<u8> {
        inet_addr(self.family, &self.ip, self.port)
    }
}

/// A `sockaddr_in` or `sockaddr_in6`.
fn inet_addr(family: i32, ip: &[u8; 16], port: u16) -> Vec<u8> {
    let mut a = (family as u16).to_le_bytes().to_vec();
    a.extend_from_slice(&port.to_be_bytes());
    if family == AF_INET {
        a.extend_from_slice(&ip[..4]);
        a.resize(SIN_LEN, 0);
    } else {
        a.extend_from_slice(&[0; 4]); // flow info
        a.extend_from_slice(ip);
        a.resize(SIN6_LEN, 0); // scope id
    }
    a
}

/// Parse a `sockaddr_in`/`sockaddr_in6` for a socket of `family`:
/// `EINVAL` when too short, `EAFNOSUPPORT` for another family.
pub(super) fn inet_name(family: i32, addr: &[u8]) -> SysResult<Inet> {
    let min = if family == AF_INET { SIN_LEN } else { SIN6_MIN };
    if addr.len() < min {
        return Err(Errno::EINVAL);
    }
    if u16::from_le_bytes([addr[0], addr[1]]) != family as u16 {
        return Err(Errno::EAFNOSUPPORT);
    }
    let port = u16::from_be_bytes([addr[2], addr[3]]);
    let mut ip = [0; 16];
    if family == AF_INET {
        ip[..4].copy_from_slice(&addr[4..8]);
    } else {
        ip.copy_from_slice(&addr[8..24]);
    }
    Ok(Inet { family, ip, port })
}

/// One bound internet socket.
#[derive(Debug)]
struct Bound {
    at: Inet,
    ty: i32,
    reuse: bool,
    v6only: bool,
    sock: Weak<Sock>,
    /// Until when the port stays taken once the socket is gone (its
    /// `TIME_WAIT`; see [`Sock::hold`]).
    hold: Arc<AtomicU64>,
}

impl Bound {
    /// May it and a binding to `at` (with `v6only`) take the same packets?
    fn overlaps(&self, at: &Inet, v6only: bool) -> bool {
        if self.at.family == at.family {
            return self.at.wildcard() || at.wildcard() || self.at.ip == at.ip;
        }
        // A dual-stack IPv6 wildcard overlaps every IPv4 address.
        let (v6, only) = if self.at.family == AF_INET6 {
            (&self.at, self.v6only)
        } else {
            (at, v6only)
        };
        v6.wildcard() && !only
    }
    /// Does a packet or connection for `to` reach it?
    fn takes(&self, ty: i32, to: &Inet) -> bool {
        self.ty == ty
            && self.at.port == to.port
            && if self.at.family == to.family {
                self.at.wildcard() || self.at.ip == to.ip
            } else {
                // A dual-stack IPv6 wildcard takes IPv4 too.
                self.at.family == AF_INET6 && self.at.wildcard() && !self.v6only
            }
    }
}

/// The names every process sees: abstract `AF_UNIX` names and internet
/// ports.
#[derive(Debug)]
pub(super) struct Names {
    abstract_names: BTreeMap<Vec<u8>, Weak<Sock>>,
    bound: Vec<Bound>,
    next_port: u16,
    next_auto: u32,
    /// Netlink sockets by port id.
    netlink: BTreeMap<u32, Weak<Netlink>>,
    /// The monotonic time of the last `bind_inet`, for [`Bound::hold`].
    now: u64,
}

impl Default for Names {
    fn default() -> Names {
        Names {
            abstract_names: BTreeMap::new(),
            bound: Vec::new(),
            next_port: *EPHEMERAL.start(),
            next_auto: 0,
            netlink: BTreeMap::new(),
            now: 0,
        }
    }
}

impl Names {
    fn forget_closed(&mut self) {
        self.abstract_names.retain(|_, s| s.strong_count() > 0);
        let now = self.now;
        self.bound
            .retain(|b| b.sock.strong_count() > 0 || b.hold.load(Ordering::Relaxed) > now);
        self.netlink.retain(|_, s| s.strong_count() > 0);
    }

    /// Record a netlink socket under `port` (`EADDRINUSE` when taken); 0
    /// picks one: `pid` if free, else the first free one from `rover`
    /// down, as Linux's autobind. Returns the port.
    pub(super) fn bind_netlink(
        &mut self,
        port: u32,
        pid: u32,
        rover: u32,
        sock: &Arc<Netlink>,
    ) -> SysResult<u32> {
        self.forget_closed();
        let port = if port != 0 {
            if self.netlink.contains_key(&port) {
                return Err(Errno::EADDRINUSE);
            }
            port
        } else if !self.netlink.contains_key(&pid) {
            pid
        } else {
            let mut p = rover;
            while self.netlink.contains_key(&p) {
                p -= 1;
            }
            p
        };
        self.netlink.insert(port, Arc::downgrade(sock));
        Ok(port)
    }

    /// The live netlink socket bound to `port`.
    pub(super) fn find_netlink(&self, port: u32) -> Option<Arc<Netlink>> {
        self.netlink.get(&port).and_then(Weak::upgrade)
    }

    /// Record `sock` under an abstract name (`None`: autobind, a fresh
    /// one of five hex digits); returns the name.
    pub(super) fn bind_abstract(
        &mut self,
        name: Option<Vec<u8>>,
        sock: &Arc<Sock>,
    ) -> SysResult<Vec<u8>> {
        self.forget_closed();
        let name = match name {
            Some(n) => {
                if self.abstract_names.contains_key(&n) {
                    return Err(Errno::EADDRINUSE);
                }
                n
            }
            None => loop {
                let n = alloc::format!("\0{:05x}", self.next_auto & 0xf_ffff).into_bytes();
                self.next_auto = self.next_auto.wrapping_add(1);
                if !self.abstract_names.contains_key(&n) {
                    break n;
                }
            },
        };
        self.abstract_names
            .insert(name.clone(), Arc::downgrade(sock));
        Ok(name)
    }

    /// The live socket bound to an abstract name.
    pub(super) fn find_abstract(&self, name: &[u8]) -> Option<Arc<Sock>> {
        self.abstract_names.get(name).and_then(Weak::upgrade)
    }

    /// Bind `sock` (of type `ty`) to `at`; port 0 takes an ephemeral
    /// port. Returns the address bound.
    pub(super) fn bind_inet(
        &mut self,
        mut at: Inet,
        ty: i32,
        reuse: bool,
        v6only: bool,
        sock: &Arc<Sock>,
        now: u64,
    ) -> SysResult<Inet> {
        if !at.wildcard() && !at.loopback() {
            return Err(Errno::EADDRNOTAVAIL);
        }
        self.now = self.now.max(now);
        self.forget_closed();
        let clash = |names: &Names, at: &Inet| {
            names.bound.iter().any(|b| {
                // SO_REUSEADDR on both lets them share it, unless the one
                // there listens (TCP).
                let shared = reuse
                    && b.reuse
                    && !(ty == SOCK_STREAM && b.sock.upgrade().is_some_and(|s| s.listening()));
                b.ty == ty && b.at.port == at.port && b.overlaps(at, v6only) && !shared
            })
        };
        if at.port == 0 {
            let span = EPHEMERAL.end() - EPHEMERAL.start() + 1;
            let mut found = false;
            for _ in 0..span {
                let p = self.next_port;
                self.next_port = if p == *EPHEMERAL.end() {
                    *EPHEMERAL.start()
                } else {
                    p + 1
                };
                at.port = p;
                // An ephemeral port is one nobody has, whatever the address.
                if !self.bound.iter().any(|b| b.ty == ty && b.at.port == p) {
                    found = true;
                    break;
                }
            }
            if !found {
                return Err(Errno::EADDRINUSE);
            }
        } else if clash(self, &at) {
            return Err(Errno::EADDRINUSE);
        }
        self.bound.push(Bound {
            at,
            ty,
            reuse,
            v6only,
            sock: Arc::downgrade(sock),
            hold: sock.hold(),
        });
        Ok(at)
    }

    /// Record the server's end of a TCP connection at `at`, the
    /// listener's address, as sharing its port (no conflict checked).
    pub(super) fn bind_accepted(
        &mut self,
        at: Inet,
        ty: i32,
        reuse: bool,
        v6only: bool,
        sock: &Arc<Sock>,
    ) {
        self.bound.push(Bound {
            at,
            ty,
            reuse,
            v6only,
            sock: Arc::downgrade(sock),
            hold: sock.hold(),
        });
    }

    /// The live socket of type `ty` that a packet or connection for `to`
    /// reaches (a listening one first); `ENETUNREACH` off the loopback.
    pub(super) fn find_inet(&self, ty: i32, to: &Inet) -> SysResult<Option<Arc<Sock>>> {
        if to.wildcard() {
            // Linux takes the wildcard address as this machine's.
            let here = Inet {
                ip: Inet::local_ip(to.family),
                ..*to
            };
            return self.find_inet(ty, &here);
        }
        if !to.loopback() {
            return Err(Errno::ENETUNREACH);
        }
        let mut found = None;
        for b in self.bound.iter().filter(|b| b.takes(ty, to)) {
            if let Some(s) = b.sock.upgrade() {
                if s.listening() {
                    return Ok(Some(s));
                }
                found.get_or_insert(s);
            }
        }
        Ok(found)
    }
}

/// A socket inode: what `bind` of an `AF_UNIX` path makes. It holds the
/// bound socket weakly; `open` of it is `ENXIO`.
#[derive(Debug)]
pub(super) struct SockNode(pub(super) Weak<Sock>);

impl NodeKind for SockNode {
    fn type_bits(&self) -> u32 {
        S_IFSOCK
    }
    fn open(&self, node: Arc<Node>) -> Arc<dyn Object> {
        Arc::new(SockPath(node))
    }
    fn openable(&self) -> SysResult<()> {
        Err(Errno::ENXIO)
    }
    fn socket(&self) -> Option<Arc<Sock>> {
        self.0.upgrade()
    }
}

/// A socket inode open with `O_PATH`.
#[derive(Debug)]
pub(super) struct SockPath(Arc<Node>);

impl Object for SockPath {
    fn inode(&self) -> Option<&Arc<Node>> {
        Some(&self.0)
    }
    fn kind(&self) -> &'static str {
        "socket"
    }
}

impl Fs {
    /// Make the socket inode for `bind` of `path` (`EADDRINUSE` when the
    /// name exists).
    pub(super) fn bind_path(&mut self, path: &[u8], sock: &Arc<Sock>) -> SysResult<()> {
        let r = self.resolve(AT_FDCWD, path, false)?;
        if r.node.is_some() {
            return Err(Errno::EADDRINUSE);
        }
        if r.trailing_slash || r.name.is_empty() {
            return Err(Errno::EISDIR);
        }
        if !r.parent.lock().writable {
            return Err(Errno::EROFS);
        }
        let now = (self.clock)();
        let node = self.new_node(
            0o777 & !self.umask,
            true,
            now,
            alloc::boxed::Box::new(SockNode(Arc::downgrade(sock))),
        );
        self.insert_child(&r.parent, &r.name, node)
            .map_err(|_| Errno::ENOTDIR)?;
        let mut p = r.parent.lock();
        p.mtime = now;
        p.ctime = now;
        Ok(())
    }

    /// The socket an `AF_UNIX` name reaches: `ENOENT` for a missing path,
    /// `ECONNREFUSED` for what is not a live socket.
    pub(super) fn find_unix(&self, name: &UnixName) -> SysResult<Arc<Sock>> {
        match name {
            UnixName::Path(p) => {
                let node = self.resolve(AT_FDCWD, p, true)?.existing()?;
                let s = node.lock().kind.socket();
                s.ok_or(Errno::ECONNREFUSED)
            }
            UnixName::Abstract(n) => self
                .names
                .lock()
                .find_abstract(n)
                .ok_or(Errno::ECONNREFUSED),
            UnixName::Auto => Err(Errno::EINVAL),
        }
    }
}
