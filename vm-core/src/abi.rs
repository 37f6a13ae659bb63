//! The guest's (Linux riscv64, asm-generic) binary interface: constants and
//! the byte layouts of the structures system calls exchange with the guest.
//!
//! Encoders build little-endian byte images, so the rest of the emulator
//! writes a whole structure with one checked `write_bytes` (one EFAULT
//! check, no partial structures) and never depends on host layouts.

use crate::host::{
    FileStat, IpcKind, IpcPerm, IpcStat, MqAttr, SysInfo, Termios, Timespec, WinSize,
};

/// Size of the riscv64 `struct stat` (asm-generic layout).
pub const STAT_SIZE: usize = 128;
/// Size of `struct statx`.
pub const STATX_SIZE: usize = 256;

// File status flags (`open`, `fcntl(F_SETFL)`), identical on asm-generic
// and x86-64.
pub const O_RDONLY: i32 = 0;
pub const O_WRONLY: i32 = 0o1;
pub const O_RDWR: i32 = 0o2;
pub const O_ACCMODE: i32 = 0o3;
pub const O_CREAT: i32 = 0o100;
pub const O_EXCL: i32 = 0o200;
pub const O_NOCTTY: i32 = 0o400;
pub const O_TRUNC: i32 = 0o1000;
pub const O_APPEND: i32 = 0o2000;
pub const O_NONBLOCK: i32 = 0o4000;
pub const O_ASYNC: i32 = 0o20000;
pub const O_DIRECTORY: i32 = 0o200000;
pub const O_NOFOLLOW: i32 = 0o400000;
pub const O_CLOEXEC: i32 = 0o2000000;
pub const O_PATH: i32 = 0o10000000;
/// Set by the kernel on every open file of a 64-bit process (visible in
/// `/proc/<pid>/fdinfo`).
pub const O_LARGEFILE: i32 = 0o100000;
/// `__O_TMPFILE`, the bit that with `O_DIRECTORY` makes [`O_TMPFILE`].
pub const O_TMPFILE_BIT: i32 = 0o20000000;
pub const O_TMPFILE: i32 = O_TMPFILE_BIT | O_DIRECTORY;

// `*at` calls.
pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: i32 = 0x100;
pub const AT_EACCESS: i32 = 0x200;
pub const AT_REMOVEDIR: i32 = 0x200;
pub const AT_SYMLINK_FOLLOW: i32 = 0x400;
pub const AT_NO_AUTOMOUNT: i32 = 0x800;
pub const AT_EMPTY_PATH: i32 = 0x1000;
/// `statfs`'s `f_type` of procfs.
pub const PROC_SUPER_MAGIC: i64 = 0x9fa0;
pub const AT_STATX_SYNC_TYPE: i32 = 0x6000;
/// `renameat2` flag.
pub const RENAME_NOREPLACE: u32 = 1;
/// `access` mode.
pub const X_OK: i32 = 1;
/// `utimensat` special nanosecond values.
pub const UTIME_NOW: i64 = (1 << 30) - 1;
pub const UTIME_OMIT: i64 = (1 << 30) - 2;

// File types (`st_mode`).
pub const S_IFMT: u32 = 0o170000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;

// Limits.
/// Longest path the kernel accepts, NUL included.
pub const PATH_MAX: usize = 4096;
/// Longest file name.
pub const NAME_MAX: usize = 255;
/// Symbolic links one path walk follows (`MAXSYMLINKS`).
pub const MAXSYMLINKS: u32 = 40;
/// Largest byte count one read or write moves (`MAX_RW_COUNT`).
pub const MAX_RW_COUNT: u64 = 0x7fff_f000;
/// Longest single argument or environment string of `execve`.
pub const MAX_ARG_STRLEN: usize = 32 * 4096;
/// Largest `getgroups`/`setgroups` list.
pub const NGROUPS_MAX: usize = 65536;
pub const XATTR_NAME_MAX: usize = 255;
pub const XATTR_SIZE_MAX: usize = 65536;

// `poll` events.
pub const POLLIN: i16 = 0x1;
pub const POLLPRI: i16 = 0x2;
pub const POLLOUT: i16 = 0x4;
pub const POLLERR: i16 = 0x8;
pub const POLLHUP: i16 = 0x10;
pub const POLLNVAL: i16 = 0x20;
pub const POLLRDNORM: i16 = 0x40;
pub const POLLRDBAND: i16 = 0x80;
pub const POLLWRNORM: i16 = 0x100;
pub const POLLWRBAND: i16 = 0x200;

// `clone` flags.
pub const CLONE_VM: u64 = 0x100;
pub const CLONE_FS: u64 = 0x200;
pub const CLONE_FILES: u64 = 0x400;
pub const CLONE_SIGHAND: u64 = 0x800;
pub const CLONE_PIDFD: u64 = 0x1000;
pub const CLONE_VFORK: u64 = 0x4000;
pub const CLONE_THREAD: u64 = 0x10000;
pub const CLONE_NEWNS: u64 = 0x20000;
pub const CLONE_SETTLS: u64 = 0x80000;
pub const CLONE_PARENT_SETTID: u64 = 0x100000;
pub const CLONE_CHILD_CLEARTID: u64 = 0x200000;
pub const CLONE_DETACHED: u64 = 0x400000;
pub const CLONE_CHILD_SETTID: u64 = 0x1000000;
/// `sizeof(struct clone_args)` of version 2 (with `cgroup`), `clone3`'s
/// second argument.
pub const CLONE_ARGS_SIZE_VER2: usize = 88;
/// `clone3` only: create the child in the cgroup `clone_args.cgroup` names.
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

pub const PROT_READ: u64 = 1;
pub const PROT_WRITE: u64 = 2;
pub const PROT_EXEC: u64 = 4;
pub const PROT_GROWSDOWN: u64 = 0x0100_0000;
pub const PROT_GROWSUP: u64 = 0x0200_0000;

pub const MAP_SHARED: u64 = 0x01;
pub const MAP_PRIVATE: u64 = 0x02;
pub const MAP_SHARED_VALIDATE: u64 = 0x03;
pub const MAP_TYPE: u64 = 0x0f;
pub const MAP_FIXED: u64 = 0x10;
pub const MAP_ANONYMOUS: u64 = 0x20;
pub const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;
/// Every flag Linux knows for `MAP_SHARED_VALIDATE` (which rejects others).
pub const MAP_KNOWN: u64 = 0x1f_ff3f;

pub const MREMAP_MAYMOVE: u64 = 1;
pub const MREMAP_FIXED: u64 = 2;
pub const MREMAP_DONTUNMAP: u64 = 4;

pub const MADV_DONTNEED: u64 = 4;

pub const F_DUPFD: i32 = 0;
pub const F_GETFD: i32 = 1;
pub const F_SETFD: i32 = 2;
pub const F_GETFL: i32 = 3;
pub const F_SETFL: i32 = 4;
pub const F_GETLK: i32 = 5;
pub const F_SETLK: i32 = 6;
pub const F_SETLKW: i32 = 7;
pub const F_OFD_GETLK: i32 = 36;
pub const F_OFD_SETLK: i32 = 37;
pub const F_OFD_SETLKW: i32 = 38;
pub const F_DUPFD_CLOEXEC: i32 = 1030;
pub const FD_CLOEXEC: i64 = 1;
/// Size of `struct flock` (riscv64 and x86-64 alike).
pub const FLOCK_SIZE: usize = 32;
// `fcntl` owner and seals (`memfd`), `memfd_create` flags.
pub const F_SETSIG: i32 = 10;
pub const F_SETOWN_EX: i32 = 15;
pub const F_OWNER_TID: i32 = 0;
pub const F_ADD_SEALS: i32 = 1033;
pub const F_GET_SEALS: i32 = 1034;
pub const F_SEAL_SEAL: u32 = 1;
pub const F_SEAL_SHRINK: u32 = 2;
pub const F_SEAL_GROW: u32 = 4;
pub const F_SEAL_WRITE: u32 = 8;
pub const F_SEAL_FUTURE_WRITE: u32 = 16;
pub const MFD_CLOEXEC: u32 = 1;
pub const MFD_ALLOW_SEALING: u32 = 2;

// `flock` operations, `setxattr` flags, `preadv2`/`pwritev2` flags.
pub const LOCK_SH: i32 = 1;
pub const LOCK_EX: i32 = 2;
pub const LOCK_NB: i32 = 4;
pub const LOCK_UN: i32 = 8;
pub const XATTR_CREATE: i32 = 1;
pub const XATTR_REPLACE: i32 = 2;
pub const RWF_NOWAIT: i32 = 0x8;
pub const RWF_APPEND: i32 = 0x10;
pub const CLOSE_RANGE_UNSHARE: u32 = 2;
pub const CLOSE_RANGE_CLOEXEC: u32 = 4;

// `eventfd`, `timerfd` and `epoll`.
pub const EFD_SEMAPHORE: i32 = 1;
pub const TFD_TIMER_ABSTIME: i32 = 1;
pub const EPOLL_CTL_ADD: i32 = 1;
pub const EPOLL_CTL_DEL: i32 = 2;
pub const EPOLL_CTL_MOD: i32 = 3;
pub const EPOLLERR: u32 = 0x8;
pub const EPOLLHUP: u32 = 0x10;
pub const EPOLLONESHOT: u32 = 1 << 30;
pub const EPOLLET: u32 = 1 << 31;

// Sockets.
pub const AF_UNIX: i32 = 1;
pub const SOCK_STREAM: i32 = 1;
pub const SOCK_DGRAM: i32 = 2;
pub const SOCK_SEQPACKET: i32 = 5;
pub const SOL_SOCKET: i32 = 1;
pub const SCM_RIGHTS: i32 = 1;
pub const SCM_CREDENTIALS: i32 = 2;
/// Most descriptors one `SCM_RIGHTS` message carries.
pub const SCM_MAX_FD: usize = 253;
pub const SO_TYPE: i32 = 3;
pub const SO_ERROR: i32 = 4;
pub const SO_SNDBUF: i32 = 7;
pub const SO_RCVBUF: i32 = 8;
pub const SO_PASSCRED: i32 = 16;
pub const SO_PEERCRED: i32 = 17;
pub const SO_ACCEPTCONN: i32 = 30;
pub const SO_PROTOCOL: i32 = 38;
pub const SO_DOMAIN: i32 = 39;
pub const AF_UNSPEC: i32 = 0;
pub const AF_INET: i32 = 2;
pub const AF_INET6: i32 = 10;
pub const SO_REUSEADDR: i32 = 2;
pub const SO_BROADCAST: i32 = 6;
pub const SO_KEEPALIVE: i32 = 9;
pub const SO_OOBINLINE: i32 = 10;
pub const SO_LINGER: i32 = 13;
pub const SO_REUSEPORT: i32 = 15;
/// `SO_RCVTIMEO`/`SO_SNDTIMEO` on a 64-bit target (`struct timeval`).
pub const SO_RCVTIMEO: i32 = 20;
pub const SO_SNDTIMEO: i32 = 21;
pub const IPPROTO_IP: i32 = 0;
pub const IPPROTO_TCP: i32 = 6;
pub const IPPROTO_UDP: i32 = 17;
pub const IPPROTO_IPV6: i32 = 41;
pub const IP_TOS: i32 = 1;
pub const IP_TTL: i32 = 2;
pub const IPV6_V6ONLY: i32 = 26;
pub const TCP_NODELAY: i32 = 1;
pub const TCP_CORK: i32 = 3;
pub const TCP_KEEPIDLE: i32 = 4;
pub const TCP_KEEPINTVL: i32 = 5;
pub const TCP_KEEPCNT: i32 = 6;
pub const MSG_PEEK: i32 = 0x2;
pub const MSG_CTRUNC: i32 = 0x8;
pub const MSG_TRUNC: i32 = 0x20;
pub const MSG_DONTWAIT: i32 = 0x40;
pub const MSG_NOSIGNAL: i32 = 0x4000;
pub const MSG_CMSG_CLOEXEC: i32 = 0x4000_0000;
pub const SOCK_RAW: i32 = 3;

// Network interfaces: the `SIOCGIF*` ioctls on a socket (`struct ifreq`,
// 40 bytes: the name, then a union at 16), and rtnetlink.
pub const SIOCGIFNAME: u32 = 0x8910;
pub const SIOCGIFCONF: u32 = 0x8912;
pub const SIOCGIFFLAGS: u32 = 0x8913;
pub const SIOCGIFADDR: u32 = 0x8915;
pub const SIOCGIFDSTADDR: u32 = 0x8917;
pub const SIOCGIFBRDADDR: u32 = 0x8919;
pub const SIOCGIFNETMASK: u32 = 0x891b;
pub const SIOCGIFMETRIC: u32 = 0x891d;
pub const SIOCGIFMTU: u32 = 0x8921;
pub const SIOCGIFHWADDR: u32 = 0x8927;
pub const SIOCGIFINDEX: u32 = 0x8933;
pub const SIOCGIFTXQLEN: u32 = 0x8942;
/// `sizeof(struct ifreq)`, and `IFNAMSIZ`.
pub const IFREQ_SIZE: usize = 40;
pub const IFNAMSIZ: usize = 16;
pub const IFF_UP: u32 = 0x1;
pub const IFF_LOOPBACK: u32 = 0x8;
pub const IFF_RUNNING: u32 = 0x40;
pub const IFF_LOWER_UP: u32 = 0x1_0000;
pub const ARPHRD_LOOPBACK: u16 = 772;
pub const AF_NETLINK: i32 = 16;
pub const NETLINK_ROUTE: i32 = 0;
/// Netlink protocols are below this (`MAX_LINKS`).
pub const NETLINK_MAX: i32 = 32;
pub const SOL_NETLINK: i32 = 270;
pub const NETLINK_ADD_MEMBERSHIP: i32 = 1;
pub const NETLINK_DROP_MEMBERSHIP: i32 = 2;
pub const NETLINK_PKTINFO: i32 = 3;
pub const NETLINK_BROADCAST_ERROR: i32 = 4;
pub const NETLINK_NO_ENOBUFS: i32 = 5;
pub const NETLINK_LISTEN_ALL_NSID: i32 = 8;
pub const NETLINK_CAP_ACK: i32 = 10;
pub const NETLINK_EXT_ACK: i32 = 11;
pub const NETLINK_GET_STRICT_CHK: i32 = 12;
/// Types below this are control messages.
pub const NLMSG_MIN_TYPE: u16 = 0x10;
/// An acknowledgement without the request's payload.
pub const NLM_F_CAPPED: u16 = 0x100;
/// `sizeof(struct sockaddr_nl)`, `sizeof(struct nlmsghdr)`.
pub const SOCKADDR_NL_SIZE: usize = 12;
pub const NLMSG_HDRLEN: usize = 16;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_MULTI: u16 = 0x2;
pub const NLM_F_ACK: u16 = 0x4;
/// `NLM_F_ROOT | NLM_F_MATCH`.
pub const NLM_F_DUMP: u16 = 0x300;
pub const RTM_NEWLINK: u16 = 16;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_GETADDR: u16 = 22;
pub const IFLA_ADDRESS: u16 = 1;
pub const IFLA_BROADCAST: u16 = 2;
pub const IFLA_IFNAME: u16 = 3;
pub const IFLA_MTU: u16 = 4;
pub const IFLA_QDISC: u16 = 6;
pub const IFLA_TXQLEN: u16 = 13;
pub const IFLA_OPERSTATE: u16 = 16;
pub const IFLA_LINKMODE: u16 = 17;
pub const IFLA_GROUP: u16 = 27;
pub const IFLA_PROMISCUITY: u16 = 30;
pub const IFLA_NUM_TX_QUEUES: u16 = 31;
pub const IFLA_NUM_RX_QUEUES: u16 = 32;
pub const IFLA_CARRIER: u16 = 33;
pub const IFLA_MIN_MTU: u16 = 50;
pub const IFLA_MAX_MTU: u16 = 51;
pub const IFA_ADDRESS: u16 = 1;
pub const IFA_LOCAL: u16 = 2;
pub const IFA_LABEL: u16 = 3;
pub const IFA_CACHEINFO: u16 = 6;
pub const IFA_FLAGS: u16 = 8;
pub const IFA_F_PERMANENT: u32 = 0x80;
/// `RT_SCOPE_HOST`.
pub const RT_SCOPE_HOST: u8 = 254;

// Auxiliary vector entry types.
pub const AT_NULL: u64 = 0;
pub const AT_PHDR: u64 = 3;
pub const AT_PHENT: u64 = 4;
pub const AT_PHNUM: u64 = 5;
pub const AT_PAGESZ: u64 = 6;
pub const AT_BASE: u64 = 7;
pub const AT_FLAGS: u64 = 8;
pub const AT_ENTRY: u64 = 9;
pub const AT_UID: u64 = 11;
pub const AT_EUID: u64 = 12;
pub const AT_GID: u64 = 13;
pub const AT_EGID: u64 = 14;
pub const AT_HWCAP: u64 = 16;
pub const AT_CLKTCK: u64 = 17;
pub const AT_SECURE: u64 = 23;
pub const AT_RANDOM: u64 = 25;
pub const AT_EXECFN: u64 = 31;
/// Bit of `AT_FLAGS` in an interpreter's auxv: binfmt_misc's `P` flag
/// passed the original argv[0] (Linux 5.12 and later).
pub const AT_FLAGS_PRESERVE_ARGV0: u64 = 1;

pub const TCGETS: u64 = 0x5401;
pub const TCSETS: u64 = 0x5402;
pub const TCSETSW: u64 = 0x5403;
pub const TCSETSF: u64 = 0x5404;
pub const TIOCGWINSZ: u64 = 0x5413;
pub const TIOCGPGRP: u64 = 0x540f;
pub const TIOCSPGRP: u64 = 0x5410;
pub const FIONREAD: u32 = 0x541b;
pub const FIONBIO: u32 = 0x5421;
pub const FIONCLEX: u32 = 0x5450;
pub const FIOCLEX: u32 = 0x5451;
pub const FIOASYNC: u32 = 0x5452;
/// Size of the kernel `struct termios` (asm-generic).
pub const TERMIOS_SIZE: usize = 36;

pub const SIG_BLOCK: u64 = 0;
pub const SIG_UNBLOCK: u64 = 1;
pub const SIG_SETMASK: u64 = 2;
pub const SS_ONSTACK: u32 = 1;
pub const SS_DISABLE: u32 = 2;
pub const SS_AUTODISARM: u32 = 1 << 31;
pub const MINSIGSTKSZ: u64 = 2048;

pub const FUTEX_CMD_MASK: u64 = !(128 | 256);
pub const FUTEX_CLOCK_REALTIME: u64 = 256;
/// The owner's thread id in a robust or PI futex word.
pub const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

pub const CLOCK_REALTIME: i32 = 0;
pub const CLOCK_MONOTONIC: i32 = 1;
pub const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
pub const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

/// `RLIM64_INFINITY`.
pub const RLIM_INFINITY: u64 = u64::MAX;
pub const RLIMIT_DATA: u32 = 2;
pub const RLIMIT_STACK: u32 = 3;
pub const RLIMIT_AS: u32 = 9;
pub const RLIMIT_SIGPENDING: u32 = 11;
pub const RLIMIT_NLIMITS: u64 = 16;

fn put_u16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}
fn put_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}
fn put_u64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}
fn get_u32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap_or([0; 4]))
}
fn get_u64(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap_or([0; 8]))
}

/// Encode `st` as the riscv64 `struct stat`.
pub fn encode_stat(st: &FileStat) -> [u8; STAT_SIZE] {
    let mut b = [0u8; STAT_SIZE];
    put_u64(&mut b, 0, st.dev);
    put_u64(&mut b, 8, st.ino);
    put_u32(&mut b, 16, st.mode);
    put_u32(&mut b, 20, st.nlink);
    put_u32(&mut b, 24, st.uid);
    put_u32(&mut b, 28, st.gid);
    put_u64(&mut b, 32, st.rdev);
    // 40: __pad1
    put_u64(&mut b, 48, st.size as u64);
    put_u32(&mut b, 56, st.blksize as u32);
    // 60: __pad2
    put_u64(&mut b, 64, st.blocks as u64);
    for (i, t) in [st.atime, st.mtime, st.ctime].iter().enumerate() {
        put_u64(&mut b, 72 + 16 * i, t.sec as u64);
        put_u64(&mut b, 80 + 16 * i, t.nsec as u64);
    }
    b
}

/// Major number of a Linux `dev_t` (the kernel's `new_encode_dev` inverse).
pub fn dev_major(dev: u64) -> u32 {
    (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)) as u32
}
/// Minor number of a Linux `dev_t`.
pub fn dev_minor(dev: u64) -> u32 {
    ((dev & 0xff) | ((dev >> 12) & !0xff)) as u32
}

/// `STATX_BASIC_STATS`: everything [`FileStat`] carries (no birth time).
pub const STATX_BASIC_STATS: u32 = 0x7ff;

/// Encode `st` as `struct statx` (arch-independent). The mask reports the
/// basic fields, which is what a host `stat` provides.
pub fn encode_statx(st: &FileStat) -> [u8; STATX_SIZE] {
    let mut b = [0u8; STATX_SIZE];
    put_u32(&mut b, 0, STATX_BASIC_STATS);
    put_u32(&mut b, 4, st.blksize as u32);
    // 8: stx_attributes = 0
    put_u32(&mut b, 16, st.nlink);
    put_u32(&mut b, 20, st.uid);
    put_u32(&mut b, 24, st.gid);
    put_u16(&mut b, 28, st.mode as u16);
    put_u64(&mut b, 32, st.ino);
    put_u64(&mut b, 40, st.size as u64);
    put_u64(&mut b, 48, st.blocks as u64);
    // 56: stx_attributes_mask = 0
    // 64 atime, 80 btime (not reported), 96 ctime, 112 mtime:
    // struct statx_timestamp { i64 tv_sec; u32 tv_nsec; i32 reserved; }
    for (off, t) in [(64, st.atime), (96, st.ctime), (112, st.mtime)] {
        put_u64(&mut b, off, t.sec as u64);
        put_u32(&mut b, off + 8, t.nsec as u32);
    }
    put_u32(&mut b, 128, dev_major(st.rdev));
    put_u32(&mut b, 132, dev_minor(st.rdev));
    put_u32(&mut b, 136, dev_major(st.dev));
    put_u32(&mut b, 140, dev_minor(st.dev));
    b
}

/// `struct timespec` (two `i64`).
pub fn encode_timespec(t: Timespec) -> [u8; 16] {
    let mut b = [0u8; 16];
    put_u64(&mut b, 0, t.sec as u64);
    put_u64(&mut b, 8, t.nsec as u64);
    b
}
/// Decode `struct timespec`.
pub fn decode_timespec(b: &[u8; 16]) -> Timespec {
    Timespec {
        sec: get_u64(b, 0) as i64,
        nsec: get_u64(b, 8) as i64,
    }
}

/// Encode the kernel `struct termios` (asm-generic: 4 flags, line, 19 cc).
pub fn encode_termios(t: &Termios) -> [u8; TERMIOS_SIZE] {
    let mut b = [0u8; TERMIOS_SIZE];
    put_u32(&mut b, 0, t.iflag);
    put_u32(&mut b, 4, t.oflag);
    put_u32(&mut b, 8, t.cflag);
    put_u32(&mut b, 12, t.lflag);
    b[16] = t.line;
    b[17..36].copy_from_slice(&t.cc);
    b
}
/// Decode the kernel `struct termios`.
pub fn decode_termios(b: &[u8; TERMIOS_SIZE]) -> Termios {
    let mut cc = [0u8; 19];
    cc.copy_from_slice(&b[17..36]);
    Termios {
        iflag: get_u32(b, 0),
        oflag: get_u32(b, 4),
        cflag: get_u32(b, 8),
        lflag: get_u32(b, 12),
        line: b[16],
        cc,
    }
}

/// `struct winsize`.
pub fn encode_winsize(w: &WinSize) -> [u8; 8] {
    let mut b = [0u8; 8];
    put_u16(&mut b, 0, w.rows);
    put_u16(&mut b, 2, w.cols);
    put_u16(&mut b, 4, w.xpixel);
    put_u16(&mut b, 6, w.ypixel);
    b
}

/// Size of the riscv64 `struct statfs`.
pub const STATFS_SIZE: usize = 120;

/// Encode the riscv64 `struct statfs` (all fields 64-bit but `f_fsid`).
pub fn encode_statfs(s: &crate::host::StatFs) -> [u8; STATFS_SIZE] {
    let mut b = [0u8; STATFS_SIZE];
    put_u64(&mut b, 0, s.fs_type as u64);
    put_u64(&mut b, 8, s.bsize as u64);
    put_u64(&mut b, 16, s.blocks);
    put_u64(&mut b, 24, s.bfree);
    put_u64(&mut b, 32, s.bavail);
    put_u64(&mut b, 40, s.files);
    put_u64(&mut b, 48, s.ffree);
    put_u32(&mut b, 56, s.fsid[0] as u32);
    put_u32(&mut b, 60, s.fsid[1] as u32);
    put_u64(&mut b, 64, s.namelen as u64);
    put_u64(&mut b, 72, s.frsize as u64);
    put_u64(&mut b, 80, s.flags as u64);
    // 88..120: f_spare[4]
    b
}

/// Size of the riscv64 `struct sysinfo`.
pub const SYSINFO_SIZE: usize = 112;

/// Encode the riscv64 `struct sysinfo` (longs are 64-bit; `procs` is a
/// `u16` followed by padding up to the 64-bit `totalhigh`).
pub fn encode_sysinfo(s: &SysInfo) -> [u8; SYSINFO_SIZE] {
    let mut b = [0u8; SYSINFO_SIZE];
    put_u64(&mut b, 0, s.uptime as u64);
    for (i, l) in s.loads.iter().enumerate() {
        put_u64(&mut b, 8 + 8 * i, *l);
    }
    put_u64(&mut b, 32, s.totalram);
    put_u64(&mut b, 40, s.freeram);
    put_u64(&mut b, 48, s.sharedram);
    put_u64(&mut b, 56, s.bufferram);
    put_u64(&mut b, 64, s.totalswap);
    put_u64(&mut b, 72, s.freeswap);
    put_u16(&mut b, 80, s.procs);
    // 88 totalhigh, 96 freehigh: 0 on 64-bit.
    put_u32(&mut b, 104, s.mem_unit);
    b
}

/// `struct utsname`: six 65-byte fields.
pub const UTSNAME_SIZE: usize = 6 * 65;

/// `struct sigaction` for riscv64: handler, flags, mask (no `sa_restorer`).
pub const SIGACTION_SIZE: usize = 24;
/// riscv64 `stack_t`: `ss_sp`, `ss_flags` (int + padding), `ss_size`.
pub const STACK_T_SIZE: usize = 24;

/// Read a little-endian `u64` at `off` of `b` (for decoding guest structs).
pub fn le_u64(b: &[u8], off: usize) -> u64 {
    get_u64(b, off)
}
/// Read a little-endian `u32` at `off` of `b`.
pub fn le_u32(b: &[u8], off: usize) -> u32 {
    get_u32(b, off)
}
/// Write a little-endian `u64` at `off` of `b`.
pub fn set_u64(b: &mut [u8], off: usize, v: u64) {
    put_u64(b, off, v)
}
/// Write a little-endian `u32` at `off` of `b`.
pub fn set_u32(b: &mut [u8], off: usize, v: u32) {
    put_u32(b, off, v)
}

// ---- System V IPC and POSIX message queues ----------------------------
//
// asm-generic has no `ipc_parse_version`: a command with the `IPC_64` bit
// (0x100) is an unknown one (`EINVAL`), and glibc for riscv64 never sets
// it. The structures are the 64-bit asm-generic ones; of them only
// `semid64_ds` differs from x86-64's (which has a padding word after each
// time).

pub const IPC_PRIVATE: i32 = 0;
pub const IPC_CREAT: i32 = 0o1000;
pub const IPC_EXCL: i32 = 0o2000;
pub const IPC_NOWAIT: i32 = 0o4000;
pub const IPC_RMID: i32 = 0;
pub const IPC_SET: i32 = 1;
pub const IPC_STAT: i32 = 2;
pub const IPC_INFO: i32 = 3;
pub const MSG_STAT: i32 = 11;
pub const MSG_INFO: i32 = 12;
pub const MSG_STAT_ANY: i32 = 13;
pub const MSG_NOERROR: i32 = 0o10000;
pub const MSG_EXCEPT: i32 = 0o20000;
pub const MSG_COPY: i32 = 0o40000;
pub const GETPID: i32 = 11;
pub const GETVAL: i32 = 12;
pub const GETALL: i32 = 13;
pub const GETNCNT: i32 = 14;
pub const GETZCNT: i32 = 15;
pub const SETVAL: i32 = 16;
pub const SETALL: i32 = 17;
pub const SEM_STAT: i32 = 18;
pub const SEM_INFO: i32 = 19;
pub const SEM_STAT_ANY: i32 = 20;
pub const SEM_UNDO: i16 = 0x1000;
pub const SHM_LOCK: i32 = 11;
pub const SHM_UNLOCK: i32 = 12;
pub const SHM_STAT: i32 = 13;
pub const SHM_INFO: i32 = 14;
pub const SHM_STAT_ANY: i32 = 15;
pub const SHM_RDONLY: i32 = 0o10000;
pub const SHM_RND: i32 = 0o20000;
pub const SHM_REMAP: i32 = 0o40000;
pub const SHM_EXEC: i32 = 0o100000;
/// `SHMLBA`: asm-generic aligns attachments to the page.
pub const SHMLBA: u64 = 4096;
/// Size of `struct sembuf`.
pub const SEMBUF_SIZE: usize = 6;
/// Offset of `semopm` (most operations in one `semop`) in `struct seminfo`.
pub const SEMINFO_SEMOPM: usize = 20;
/// Size of `struct msginfo`, `seminfo`, `shminfo64`, `shm_info`.
pub const MSGINFO_SIZE: usize = 32;
pub const SEMINFO_SIZE: usize = 40;
pub const SHMINFO64_SIZE: usize = 72;
pub const SHM_INFO_SIZE: usize = 48;
/// Size of `struct mq_attr` (`struct sigevent` and the `SIGEV_*` values
/// are [`crate::ptimer`]'s).
pub const MQ_ATTR_SIZE: usize = 64;
/// Bytes of the cookie a `SIGEV_THREAD` notice carries (`NOTIFY_COOKIE_LEN`).
pub const NOTIFY_COOKIE_LEN: usize = 32;

/// `SHM_DEST` and `SHM_LOCKED` in a segment's `ipc_perm.mode`.
pub const SHM_DEST: u32 = 0o1000;
pub const SHM_LOCKED: u32 = 0o2000;
/// Linux's default System V limits (`include/uapi/linux/msg.h`, `sem.h`,
/// `shm.h`), which a kernel's IPC namespace starts with.
pub const MSGMNI: usize = 32_000;
pub const MSGMAX: usize = 8192;
pub const MSGMNB: usize = 16_384;
pub const SEMMNI: usize = 32_000;
pub const SEMMSL: usize = 32_000;
pub const SEMOPM: usize = 500;
pub const SEMVMX: i32 = 32_767;
pub const SEMAEM: i32 = SEMVMX;
pub const SHMMNI: usize = 4096;
pub const SHMMIN: u64 = 1;
pub const SHMMAX: u64 = u64::MAX - (1 << 24);
pub const SHMALL: u64 = u64::MAX - (1 << 24);
/// An IPC id is the slot index plus the slot's sequence number times
/// this (`IPCMNI`, Linux without `ipcmni_extend`).
pub const IPCMNI_SHIFT: u32 = 15;
/// POSIX message queues: priorities below `MQ_PRIO_MAX`; the defaults of
/// a queue opened without attributes; the ceilings a privileged caller
/// may ask for (`HARD_MSGMAX`, `HARD_MSGSIZEMAX`) and an unprivileged one
/// (`msg_max`, `msgsize_max`).
pub const MQ_PRIO_MAX: u32 = 32_768;
pub const MQ_MAXMSG_DEFAULT: i64 = 10;
pub const MQ_MSGSIZE_DEFAULT: i64 = 8192;
pub const MQ_HARD_MSGMAX: i64 = 65_536;
pub const MQ_HARD_MSGSIZEMAX: i64 = 16 << 20;
/// Linux's default `RLIMIT_MSGQUEUE`: bytes of message queues (their
/// messages and bookkeeping, `struct msg_msg` of 48 bytes per message and
/// a priority tree node of 40 per message up to `MQ_PRIO_MAX`) one user
/// may have.
pub const MQ_BYTES_MAX: u64 = 819_200;
pub const MQ_MSG_OVERHEAD: u64 = 48;
pub const MQ_PRIO_NODE: u64 = 40;
/// The last byte of a `SIGEV_THREAD` notice's cookie: a message came, or
/// the registration was removed.
pub const NOTIFY_WOKENUP: u8 = 1;
pub const NOTIFY_REMOVED: u8 = 2;

/// Size of the guest's `msqid64_ds`, `semid64_ds` or `shmid64_ds`.
pub const fn ipc_ds_size(kind: IpcKind) -> usize {
    match kind {
        IpcKind::Msg => 120,
        IpcKind::Sem => 88,
        IpcKind::Shm => 112,
    }
}

fn put_ipc_perm(b: &mut [u8], p: &IpcPerm) {
    put_u32(b, 0, p.key as u32);
    put_u32(b, 4, p.uid);
    put_u32(b, 8, p.gid);
    put_u32(b, 12, p.cuid);
    put_u32(b, 16, p.cgid);
    put_u32(b, 20, p.mode);
    put_u16(b, 24, p.seq);
}

/// Encode `st` as the guest's `msqid64_ds`, `semid64_ds` or `shmid64_ds`
/// ([`ipc_ds_size`] bytes).
pub fn encode_ipc_ds(kind: IpcKind, st: &IpcStat) -> [u8; 120] {
    let mut b = [0u8; 120];
    put_ipc_perm(&mut b, &st.perm);
    let [t0, t1, t2] = st.times.map(|t| t as u64);
    let [c0, c1, c2] = st.counts;
    match kind {
        IpcKind::Msg => {
            for (i, v) in [t0, t1, t2, c0, c1, c2].into_iter().enumerate() {
                put_u64(&mut b, 48 + 8 * i, v);
            }
            put_u32(&mut b, 96, st.pids[0] as u32);
            put_u32(&mut b, 100, st.pids[1] as u32);
        }
        IpcKind::Sem => {
            put_u64(&mut b, 48, t0);
            put_u64(&mut b, 56, t2);
            put_u64(&mut b, 64, c0);
        }
        IpcKind::Shm => {
            for (i, v) in [c0, t0, t1, t2].into_iter().enumerate() {
                put_u64(&mut b, 48 + 8 * i, v);
            }
            put_u32(&mut b, 80, st.pids[0] as u32);
            put_u32(&mut b, 84, st.pids[1] as u32);
            put_u64(&mut b, 88, c1);
        }
    }
    b
}

/// Decode what `IPC_SET` takes from the guest's `*id64_ds`: the owner,
/// the mode and (a message queue's) byte limit.
pub fn decode_ipc_set(kind: IpcKind, b: &[u8]) -> IpcStat {
    let mut st = IpcStat::default();
    st.perm.uid = get_u32(b, 4);
    st.perm.gid = get_u32(b, 8);
    st.perm.mode = get_u32(b, 20);
    if kind == IpcKind::Msg {
        st.counts[2] = get_u64(b, 88);
    }
    st
}

/// Encode `struct mq_attr`.
pub fn encode_mq_attr(a: &MqAttr) -> [u8; MQ_ATTR_SIZE] {
    let mut b = [0u8; MQ_ATTR_SIZE];
    for (i, v) in [a.flags, a.maxmsg, a.msgsize, a.curmsgs]
        .into_iter()
        .enumerate()
    {
        put_u64(&mut b, 8 * i, v as u64);
    }
    b
}

/// Decode `struct mq_attr`.
pub fn decode_mq_attr(b: &[u8; MQ_ATTR_SIZE]) -> MqAttr {
    MqAttr {
        flags: get_u64(b, 0) as i64,
        maxmsg: get_u64(b, 8) as i64,
        msgsize: get_u64(b, 16) as i64,
        curmsgs: get_u64(b, 24) as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FileStat {
        FileStat {
            dev: 0x0000_0012_3456_7890,
            ino: 0x1122_3344_5566_7788,
            mode: S_IFREG | 0o644,
            nlink: 3,
            uid: 1000,
            gid: 100,
            rdev: (8 << 8) | 1,
            size: 123_456,
            blksize: 4096,
            blocks: 248,
            atime: Timespec { sec: 1, nsec: 2 },
            mtime: Timespec { sec: 3, nsec: 4 },
            ctime: Timespec { sec: 5, nsec: 6 },
        }
    }

    #[test]
    fn stat_layout_matches_riscv64() {
        let b = encode_stat(&sample());
        assert_eq!(le_u64(&b, 0), 0x0000_0012_3456_7890);
        assert_eq!(le_u64(&b, 8), 0x1122_3344_5566_7788);
        assert_eq!(le_u32(&b, 16), S_IFREG | 0o644);
        assert_eq!(le_u32(&b, 20), 3);
        assert_eq!(le_u32(&b, 24), 1000);
        assert_eq!(le_u32(&b, 28), 100);
        assert_eq!(le_u64(&b, 32), 0x801);
        assert_eq!(le_u64(&b, 40), 0, "__pad1");
        assert_eq!(le_u64(&b, 48), 123_456);
        assert_eq!(le_u32(&b, 56), 4096);
        assert_eq!(le_u32(&b, 60), 0, "__pad2");
        assert_eq!(le_u64(&b, 64), 248);
        let times: [u64; 6] = core::array::from_fn(|i| le_u64(&b, 72 + 8 * i));
        assert_eq!(times, [1, 2, 3, 4, 5, 6]);
        assert_eq!(&b[120..], &[0; 8]);
    }

    #[test]
    fn statx_layout() {
        let b = encode_statx(&sample());
        assert_eq!(le_u32(&b, 0), STATX_BASIC_STATS);
        assert_eq!(le_u32(&b, 4), 4096);
        assert_eq!(le_u32(&b, 16), 3);
        assert_eq!(u16::from_le_bytes([b[28], b[29]]), (S_IFREG | 0o644) as u16);
        assert_eq!(le_u64(&b, 32), 0x1122_3344_5566_7788);
        assert_eq!(le_u64(&b, 40), 123_456);
        assert_eq!(le_u64(&b, 48), 248);
        assert_eq!((le_u64(&b, 64), le_u32(&b, 72)), (1, 2)); // atime
        assert_eq!((le_u64(&b, 80), le_u32(&b, 88)), (0, 0)); // btime absent
        assert_eq!((le_u64(&b, 96), le_u32(&b, 104)), (5, 6)); // ctime
        assert_eq!((le_u64(&b, 112), le_u32(&b, 120)), (3, 4)); // mtime
        assert_eq!((le_u32(&b, 128), le_u32(&b, 132)), (8, 1)); // rdev
        // glibc's gnu_dev_major/minor of 0x12_3456_7890.
        assert_eq!(le_u32(&b, 136), 0x678);
        assert_eq!(le_u32(&b, 140), 0x123_4590);
        assert!(b[144..].iter().all(|&x| x == 0));
    }

    #[test]
    fn dev_numbers_round_trip_glibc_makedev() {
        // glibc makedev(maj, min): the inverse of dev_major/dev_minor.
        let mk = |ma: u64, mi: u64| {
            ((ma & 0xfff) << 8) | ((ma & !0xfff) << 32) | (mi & 0xff) | ((mi & !0xff) << 12)
        };
        for (ma, mi) in [(0, 0), (8, 1), (259, 65536), (0xfffff, 0xfffff)] {
            let d = mk(ma, mi);
            assert_eq!((dev_major(d) as u64, dev_minor(d) as u64), (ma, mi));
        }
    }

    #[test]
    fn statfs_layout() {
        let s = crate::host::StatFs {
            fs_type: 0xef53,
            bsize: 4096,
            blocks: 10,
            bfree: 9,
            bavail: 8,
            files: 7,
            ffree: 6,
            fsid: [-1, 2],
            namelen: 255,
            frsize: 4096,
            flags: 0x1020,
        };
        let b = encode_statfs(&s);
        assert_eq!(le_u64(&b, 0), 0xef53);
        assert_eq!(le_u64(&b, 16), 10);
        assert_eq!(le_u64(&b, 48), 6);
        assert_eq!((le_u32(&b, 56), le_u32(&b, 60)), (u32::MAX, 2));
        assert_eq!(le_u64(&b, 64), 255);
        assert_eq!(le_u64(&b, 80), 0x1020);
        assert!(b[88..].iter().all(|&x| x == 0));
    }

    #[test]
    fn termios_round_trip_and_sysinfo() {
        let t = Termios {
            iflag: 1,
            oflag: 2,
            cflag: 3,
            lflag: 4,
            line: 5,
            cc: core::array::from_fn(|i| i as u8 + 10),
        };
        let b = encode_termios(&t);
        assert_eq!(b[16], 5);
        assert_eq!(b[17], 10);
        assert_eq!(decode_termios(&b), t);
        let s = SysInfo {
            uptime: 7,
            procs: 9,
            mem_unit: 1,
            totalram: 42,
            ..Default::default()
        };
        let b = encode_sysinfo(&s);
        assert_eq!(le_u64(&b, 0), 7);
        assert_eq!(le_u64(&b, 32), 42);
        assert_eq!(u16::from_le_bytes([b[80], b[81]]), 9);
        assert_eq!(le_u32(&b, 104), 1);
    }

    #[test]
    fn ipc_structures_have_the_riscv64_layout() {
        // Offsets as riscv64-linux-gnu-gcc's offsetof gives them for
        // struct msqid_ds, semid_ds and shmid_ds (x86-64's semid_ds has a
        // padding word after each time instead).
        let st = IpcStat {
            perm: IpcPerm {
                key: 7,
                uid: 1,
                mode: 0o600,
                seq: 3,
                ..Default::default()
            },
            times: [11, 12, 13],
            counts: [21, 22, 23],
            pids: [31, 32],
        };
        let m = encode_ipc_ds(IpcKind::Msg, &st);
        assert_eq!(
            (le_u32(&m, 0), le_u32(&m, 4), le_u32(&m, 20)),
            (7, 1, 0o600)
        );
        assert_eq!(u16::from_le_bytes([m[24], m[25]]), 3);
        assert_eq!(
            (le_u64(&m, 48), le_u64(&m, 64), le_u64(&m, 88)),
            (11, 13, 23)
        );
        assert_eq!((le_u32(&m, 96), le_u32(&m, 100)), (31, 32));
        let s = encode_ipc_ds(IpcKind::Sem, &st);
        assert_eq!(
            (le_u64(&s, 48), le_u64(&s, 56), le_u64(&s, 64)),
            (11, 13, 21)
        );
        let h = encode_ipc_ds(IpcKind::Shm, &st);
        assert_eq!(
            (le_u64(&h, 48), le_u64(&h, 56), le_u64(&h, 72)),
            (21, 11, 13)
        );
        assert_eq!(
            (le_u32(&h, 80), le_u32(&h, 84), le_u64(&h, 88)),
            (31, 32, 22)
        );
        assert_eq!(ipc_ds_size(IpcKind::Sem), 88);
        let set = decode_ipc_set(IpcKind::Msg, &m);
        assert_eq!((set.perm.uid, set.perm.mode, set.counts[2]), (1, 0o600, 23));
        let a = MqAttr {
            flags: 0o4000,
            maxmsg: 4,
            msgsize: 64,
            curmsgs: 1,
        };
        assert_eq!(decode_mq_attr(&encode_mq_attr(&a)), a);
    }
}
