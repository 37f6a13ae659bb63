//! The host boundary: everything `vm-core` needs from the machine it runs on.
//!
//! `vm-core` owns every guest-visible behaviour (what a syscall returns, how
//! memory is laid out, which signal a fault raises). What it cannot do by
//! itself — reserve and protect host memory, talk to a file system, read a
//! clock, get entropy, write to a console — it asks of a [`HostOs`].
//! `host-linux` implements this trait with Linux syscalls; `host-baremetal`
//! implements it inside a small kernel. When a host needs something that is
//! not here, the trait grows: no `cfg` in the core.
//!
//! Conventions:
//! * Errors are Linux errno values ([`Errno`]), because that is what the
//!   guest finally sees; a host without Linux picks the nearest errno.
//! * File descriptors are host descriptors. The guest's fd `n` *is* the
//!   host's fd `n` (as in qemu-user), so the host owns the fd table.
//! * Paths are raw bytes, without the trailing NUL.
//! * Flag and command values use the Linux asm-generic encoding (the guest's);
//!   a host translates them if its own differ.

use alloc::sync::Weak;
use alloc::vec::Vec;
use core::fmt;

/// A Linux errno value (always positive), the error type of every host call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

#[allow(missing_docs)]
impl Errno {
    pub const EPERM: Errno = Errno(1);
    pub const ENOENT: Errno = Errno(2);
    pub const ESRCH: Errno = Errno(3);
    pub const EINTR: Errno = Errno(4);
    pub const EIO: Errno = Errno(5);
    pub const E2BIG: Errno = Errno(7);
    pub const ENOEXEC: Errno = Errno(8);
    pub const EBADF: Errno = Errno(9);
    pub const ECHILD: Errno = Errno(10);
    pub const EAGAIN: Errno = Errno(11);
    pub const ENOMEM: Errno = Errno(12);
    pub const EACCES: Errno = Errno(13);
    pub const EFAULT: Errno = Errno(14);
    pub const EBUSY: Errno = Errno(16);
    pub const EEXIST: Errno = Errno(17);
    pub const EXDEV: Errno = Errno(18);
    pub const ENODEV: Errno = Errno(19);
    pub const ENOTDIR: Errno = Errno(20);
    pub const EISDIR: Errno = Errno(21);
    pub const EINVAL: Errno = Errno(22);
    pub const EMFILE: Errno = Errno(24);
    pub const ENOTTY: Errno = Errno(25);
    pub const EFBIG: Errno = Errno(27);
    pub const ENOSPC: Errno = Errno(28);
    pub const ESPIPE: Errno = Errno(29);
    pub const EROFS: Errno = Errno(30);
    pub const EPIPE: Errno = Errno(32);
    pub const ERANGE: Errno = Errno(34);
    pub const EDEADLK: Errno = Errno(35);
    pub const ENAMETOOLONG: Errno = Errno(36);
    pub const ENOLCK: Errno = Errno(37);
    pub const ENOSYS: Errno = Errno(38);
    pub const ENOTEMPTY: Errno = Errno(39);
    pub const ELOOP: Errno = Errno(40);
    pub const ENOMSG: Errno = Errno(42);
    pub const EIDRM: Errno = Errno(43);
    pub const ENODATA: Errno = Errno(61);
    pub const ELIBBAD: Errno = Errno(80);
    pub const EOVERFLOW: Errno = Errno(75);
    pub const ENOTSUP: Errno = Errno(95);
    pub const ETIMEDOUT: Errno = Errno(110);
    pub const ENXIO: Errno = Errno(6);
    pub const ENOTSOCK: Errno = Errno(88);
    pub const EMSGSIZE: Errno = Errno(90);
    pub const ENOPROTOOPT: Errno = Errno(92);
    pub const EAFNOSUPPORT: Errno = Errno(97);
    pub const ENOBUFS: Errno = Errno(105);
    pub const ENOTCONN: Errno = Errno(107);
    pub const EPROTONOSUPPORT: Errno = Errno(93);
    pub const ESOCKTNOSUPPORT: Errno = Errno(94);
    pub const EISCONN: Errno = Errno(106);
    pub const ECONNREFUSED: Errno = Errno(111);
    pub const ECONNABORTED: Errno = Errno(103);
    pub const EINPROGRESS: Errno = Errno(115);
    pub const EDESTADDRREQ: Errno = Errno(89);
    pub const EPROTOTYPE: Errno = Errno(91);
    pub const EADDRINUSE: Errno = Errno(98);
    pub const EADDRNOTAVAIL: Errno = Errno(99);
    pub const ENETUNREACH: Errno = Errno(101);
    /// Not a Linux errno the guest sees: the system call parked the thread
    /// (see [`crate::sched`]) and runs again from its `ecall` when the
    /// thread resumes (the kernel's internal `ERESTARTSYS`).
    pub const PARK: Errno = Errno(512);
    /// Not a Linux errno the guest sees: [`HostOs::execve`] on a host that
    /// runs the new program itself once this process's run loop has ended
    /// ([`HostOs::builds_children`]); the run loop ends as at `exit_group`,
    /// and the host starts the new image in its place.
    pub const REPLACED: Errno = Errno(513);

    /// The symbolic name, for `--strace`.
    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "EPERM",
            2 => "ENOENT",
            3 => "ESRCH",
            4 => "EINTR",
            5 => "EIO",
            7 => "E2BIG",
            8 => "ENOEXEC",
            9 => "EBADF",
            10 => "ECHILD",
            11 => "EAGAIN",
            12 => "ENOMEM",
            13 => "EACCES",
            14 => "EFAULT",
            16 => "EBUSY",
            17 => "EEXIST",
            18 => "EXDEV",
            19 => "ENODEV",
            20 => "ENOTDIR",
            21 => "EISDIR",
            22 => "EINVAL",
            24 => "EMFILE",
            25 => "ENOTTY",
            27 => "EFBIG",
            28 => "ENOSPC",
            29 => "ESPIPE",
            30 => "EROFS",
            32 => "EPIPE",
            34 => "ERANGE",
            36 => "ENAMETOOLONG",
            37 => "ENOLCK",
            38 => "ENOSYS",
            39 => "ENOTEMPTY",
            40 => "ELOOP",
            42 => "ENOMSG",
            43 => "EIDRM",
            61 => "ENODATA",
            80 => "ELIBBAD",
            75 => "EOVERFLOW",
            95 => "EOPNOTSUPP",
            110 => "ETIMEDOUT",
            6 => "ENXIO",
            88 => "ENOTSOCK",
            90 => "EMSGSIZE",
            92 => "ENOPROTOOPT",
            97 => "EAFNOSUPPORT",
            105 => "ENOBUFS",
            107 => "ENOTCONN",
            89 => "EDESTADDRREQ",
            91 => "EPROTOTYPE",
            98 => "EADDRINUSE",
            99 => "EADDRNOTAVAIL",
            101 => "ENETUNREACH",
            _ => "E?",
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

/// Result of a host call.
pub type SysResult<T> = Result<T, Errno>;

bitflags::bitflags! {
    /// Host page protection requested by the core for part of a guest region.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct HostProt: u8 {
        const READ = 1;
        const WRITE = 2;
        const EXEC = 4;
    }
}

/// Which System V IPC family a call is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpcKind {
    /// Message queues (`msgget`...).
    Msg,
    /// Semaphore sets (`semget`...).
    Sem,
    /// Shared memory segments (`shmget`...).
    Shm,
}

/// The owner and permissions of a System V IPC object (`struct
/// ipc64_perm`, without any architecture's layout).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpcPerm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    /// Permission bits and the `SHM_DEST`/`SHM_LOCKED` flags.
    pub mode: u32,
    pub seq: u16,
}

/// The status of one System V IPC object (`msqid64_ds`, `semid64_ds`,
/// `shmid64_ds` in one: each family uses the fields it has), without any
/// architecture's layout; the core encodes it as the guest's structure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpcStat {
    pub perm: IpcPerm,
    /// Message queue: last send, receive, change. Semaphores: last
    /// `semop`, unused, last change. Shared memory: last attach, detach,
    /// change.
    pub times: [i64; 3],
    /// Message queue: bytes queued, messages queued, bytes allowed.
    /// Semaphores: how many in the set. Shared memory: size in bytes,
    /// attachments.
    pub counts: [u64; 3],
    /// Message queue: last sender, last receiver. Shared memory: creator,
    /// last to attach or detach.
    pub pids: [i32; 2],
}

/// The argument of a System V `*ctl` command.
#[derive(Debug)]
pub enum IpcCtl<'a> {
    /// Commands without one (`IPC_RMID`, `GETVAL`, `SHM_LOCK`...).
    None,
    /// `SETVAL`'s value.
    Val(i32),
    /// `IPC_STAT` and the `*_STAT` commands fill it in.
    Stat(&'a mut IpcStat),
    /// `IPC_SET` takes the owner, mode (and a queue's byte limit) from it.
    Set(&'a IpcStat),
    /// `GETALL` fills it, `SETALL` takes it: one value per semaphore.
    Values(&'a mut [u16]),
    /// `IPC_INFO`, `MSG_INFO`, `SEM_INFO`, `SHM_INFO`: `struct msginfo`,
    /// `seminfo`, `shminfo64` or `shm_info`, whose layouts are the same
    /// on every 64-bit Linux (riscv64 and x86-64 alike).
    Info(&'a mut [u8]),
}

/// One `struct sembuf` (the same on every Linux).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct SemBuf {
    pub num: u16,
    pub op: i16,
    pub flg: i16,
}

/// A POSIX message queue's attributes (`struct mq_attr`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MqAttr {
    pub flags: i64,
    pub maxmsg: i64,
    pub msgsize: i64,
    pub curmsgs: i64,
}

/// What `mq_notify` registers (a `struct sigevent`, the guest's pointers
/// already followed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MqNotify {
    /// `SIGEV_SIGNAL`, `SIGEV_NONE`, `SIGEV_THREAD` (or another value,
    /// which the host refuses with `EINVAL`).
    pub notify: i32,
    /// The signal (`SIGEV_SIGNAL`), or the netlink socket the kernel
    /// writes the notice to (`SIGEV_THREAD`).
    pub signo: i32,
    /// `sigev_value`, handed back in the signal's `si_value`.
    pub value: u64,
    /// `SIGEV_THREAD`: the 32 bytes its value points to, which the notice
    /// carries.
    pub cookie: [u8; 32],
}

/// A point in time or a duration, as `struct timespec`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

/// What `stat` returns, independent of any architecture's `struct stat`
/// layout; the core encodes it as the guest's `struct stat` or `struct statx`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileStat {
    pub dev: u64,
    pub ino: u64,
    /// File type and permission bits (`S_IFMT | 0o7777`).
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i32,
    pub blocks: i64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

/// `struct flock` (the same layout on riscv64 and x86-64).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flock {
    pub l_type: i16,
    pub whence: i16,
    pub start: i64,
    pub len: i64,
    pub pid: i32,
}

/// `statfs` fields (the asm-generic and x86-64 `struct statfs` agree).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatFs {
    pub fs_type: i64,
    pub bsize: i64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub fsid: [i32; 2],
    pub namelen: i64,
    pub frsize: i64,
    pub flags: i64,
}

/// `struct pollfd` (the same layout everywhere).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PollFd {
    pub fd: i32,
    pub events: i16,
    pub revents: i16,
}

/// `struct winsize`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WinSize {
    pub rows: u16,
    pub cols: u16,
    pub xpixel: u16,
    pub ypixel: u16,
}

/// `struct termios` in the asm-generic layout (the same on riscv64 and x86-64).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Termios {
    pub iflag: u32,
    pub oflag: u32,
    pub cflag: u32,
    pub lflag: u32,
    pub line: u8,
    pub cc: [u8; 19],
}

/// Process identity the guest observes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ids {
    pub pid: i32,
    pub ppid: i32,
    pub uid: u32,
    pub euid: u32,
    pub gid: u32,
    pub egid: u32,
}

/// `uname` fields the host decides (the core sets `machine` to `riscv64`).
/// Each is NUL-padded.
/// Another process's threads as its host's procfs misses them (see
/// [`HostOs::tree_threads`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TreeThreads {
    /// Guest threads without a host thread of their own: (tid, name,
    /// NUL-padded).
    pub extra: Vec<(i32, [u8; 16])>,
    /// Host threads that are no guest thread (pvm's helpers).
    pub hidden: Vec<i32>,
}

/// What answers [`PeerAsk`]s for a process: its core
/// (`crate::syscall::peer::serve`).
pub trait PeerServer: Send + Sync {
    /// Answer `ask` (`addr`, `len` and `data` as it needs them).
    fn answer(&self, ask: PeerAsk, addr: u64, len: u64, data: &[u8]) -> SysResult<Vec<u8>>;
}

/// What a process of the guest's tree asks another (another pvm) for,
/// to show its `/proc/<pid>` as Linux shows it (see
/// [`HostOs::peer`] and `crate::syscall::peer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerAsk {
    Maps,
    Smaps,
    Rollup,
    Statm,
    Cmdline,
    Environ,
    Auxv,
    /// The guest program's path.
    Exe,
    /// The memory sizes of `status` and `stat`: five little-endian
    /// words (mapped, resident, data, stack, code bytes).
    Sizes,
    /// `len` bytes of guest memory at `addr` (fewer at an unmapped page).
    MemRead,
    /// The request's data written to guest memory at `addr`: the count
    /// written, a little-endian word.
    MemWrite,
    /// The state letter of guest thread `addr` that waits its turn on
    /// the process's one host thread (empty: the host's state stands).
    ThreadState,
}

impl PeerAsk {
    const ALL: [PeerAsk; 12] = [
        PeerAsk::Maps,
        PeerAsk::Smaps,
        PeerAsk::Rollup,
        PeerAsk::Statm,
        PeerAsk::Cmdline,
        PeerAsk::Environ,
        PeerAsk::Auxv,
        PeerAsk::Exe,
        PeerAsk::Sizes,
        PeerAsk::MemRead,
        PeerAsk::MemWrite,
        PeerAsk::ThreadState,
    ];

    /// Its number, for a host that passes it between processes.
    pub fn code(self) -> u32 {
        Self::ALL.iter().position(|&a| a == self).unwrap_or(0) as u32 + 1
    }

    /// The request numbered `c` ([`PeerAsk::code`]).
    pub fn from_code(c: u32) -> Option<Self> {
        Self::ALL.get((c as usize).checked_sub(1)?).copied()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostUname {
    pub sysname: [u8; 65],
    pub nodename: [u8; 65],
    pub release: [u8; 65],
    pub version: [u8; 65],
    pub domainname: [u8; 65],
}

impl Default for HostUname {
    fn default() -> Self {
        HostUname {
            sysname: [0; 65],
            nodename: [0; 65],
            release: [0; 65],
            version: [0; 65],
            domainname: [0; 65],
        }
    }
}

/// `sysinfo` fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SysInfo {
    pub uptime: i64,
    pub loads: [u64; 3],
    pub totalram: u64,
    pub freeram: u64,
    pub sharedram: u64,
    pub bufferram: u64,
    pub totalswap: u64,
    pub freeswap: u64,
    pub procs: u16,
    pub mem_unit: u32,
}

/// How the host itself treats a signal that reaches pvm from outside (another
/// process, the terminal, a timer), as the core asks from the guest's
/// disposition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostSigAction {
    /// The host's default action (stop, continue, nothing).
    Default,
    /// Discard it.
    Ignore,
    /// Record it for [`HostOs::take_signal`]; a blocking host call it
    /// interrupts fails with `EINTR` (it is not restarted by the host).
    Catch,
}

/// A signal that reached the host, with the sender's `siginfo` fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostSignal {
    pub signo: i32,
    /// `si_code` (`SI_USER`, `SI_KERNEL` for a timer, ...).
    pub code: i32,
    pub pid: i32,
    pub uid: u32,
    /// `si_status` of a `SIGCHLD` (the child's exit code or signal); 0
    /// for other signals.
    pub status: i32,
    /// `si_value` of a signal sent with `sigqueue` (`si_code`
    /// `SI_QUEUE`); 0 for others.
    pub value: u64,
}

/// An interval timer (`struct itimerval`): the reload interval and the time
/// left; zero `value` is disarmed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ITimer {
    pub interval: Timespec,
    pub value: Timespec,
}

/// `struct epoll_event` as values (the guest's riscv64 layout is 16 bytes
/// with padding after `events`; x86-64's is packed to 12: each side
/// encodes its own).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EpollEvent {
    pub events: u32,
    pub data: u64,
}

/// A message to send (`sendmsg`): the destination address (empty: none),
/// the data gathered from the guest's iovecs, and the ancillary data in
/// the Linux `cmsghdr` format, which is the same on riscv64 and x86-64
/// (so `SCM_RIGHTS` descriptors and `SCM_CREDENTIALS` pass as they are:
/// guest fds are host fds).
#[derive(Clone, Copy, Debug)]
pub struct SendMsg<'a> {
    pub name: &'a [u8],
    pub data: &'a [u8],
    pub control: &'a [u8],
}

/// A message to receive (`recvmsg`) into the buffers given; the host sets
/// the lengths and flags the kernel reports.
#[derive(Debug)]
pub struct RecvMsg<'a> {
    /// Room for the source address (empty: not wanted).
    pub name: &'a mut [u8],
    pub data: &'a mut [u8],
    pub control: &'a mut [u8],
    /// Full length of the source address (may exceed `name.len()`).
    pub name_len: usize,
    /// Bytes of `control` used.
    pub control_len: usize,
    /// `msg_flags` (`MSG_TRUNC`, `MSG_CTRUNC`, ...).
    pub flags: i32,
}

impl<'a> RecvMsg<'a> {
    /// A receive into `data` alone (a `read` of a socket): no room for an
    /// address or control data.
    pub fn data_only(data: &'a mut [u8]) -> Self {
        RecvMsg {
            name: &mut [],
            data,
            control: &mut [],
            name_len: 0,
            control_len: 0,
            flags: 0,
        }
    }

    /// Copy one datagram into `data`, cut to its room (`MSG_TRUNC` in
    /// `flags` when it was); returns what the receive call returns: the
    /// bytes copied, or the datagram's whole length when the call's
    /// `recv_flags` hold `MSG_TRUNC`, as Linux's datagram sockets do.
    pub fn put_datagram(&mut self, dgram: &[u8], recv_flags: i32) -> usize {
        let n = dgram.len().min(self.data.len());
        self.data[..n].copy_from_slice(&dgram[..n]);
        if n < dgram.len() {
            self.flags |= crate::abi::MSG_TRUNC;
        }
        if recv_flags & crate::abi::MSG_TRUNC != 0 {
            dgram.len()
        } else {
            n
        }
    }
}

/// What an extended-attribute call works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XattrTarget<'a> {
    /// A path; `follow`: through a final symbolic link (`getxattr`), or
    /// not (`lgetxattr`).
    Path { path: &'a [u8], follow: bool },
    /// An open descriptor (`fgetxattr`).
    Fd(i32),
}

/// The arguments of a `futex` call after the address (see
/// [`HostOs::futex`]).
#[derive(Clone, Copy, Debug)]
pub struct FutexArgs {
    /// Command and flags (`FUTEX_WAIT`, `FUTEX_PRIVATE_FLAG`, ...).
    pub op: i32,
    pub val: u32,
    /// The timeout of the wait commands (relative for `FUTEX_WAIT`,
    /// absolute on the chosen clock for the bitset ones).
    pub timeout: Option<Timespec>,
    /// `val2` of the requeue and wake-op commands (the timeout slot).
    pub val2: u32,
    pub uaddr2: *mut u32,
    pub val3: u32,
}

impl FutexArgs {
    /// `FUTEX_WAIT` (shared) while `*uaddr == val`, without timeout.
    pub fn wait(val: u32) -> FutexArgs {
        FutexArgs {
            op: 0,
            val,
            timeout: None,
            val2: 0,
            uaddr2: core::ptr::null_mut(),
            val3: 0,
        }
    }

    /// `FUTEX_WAKE` (shared) of up to `n` waiters.
    pub fn wake(n: u32) -> FutexArgs {
        FutexArgs {
            op: 1,
            ..FutexArgs::wait(n)
        }
    }
}

/// How a guest process ends, which its host process must mirror so that
/// the parent's `wait` reports it as Linux would: an exit status, or death
/// by a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessEnd {
    Exit(i32),
    Signal(i32),
}

/// What a successful `execve` runs (the core decided it: see
/// `syscall/proc.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecKind {
    /// A RISC-V program: a new guest process, run by the host the way
    /// this one is run (same sysroot, engine and options).
    Guest,
    /// A program of the host's own machine, run natively.
    Native,
}

/// An `execve` the core has checked: `path` exists and is of `kind`.
/// Signal state is the guest's (bit `n-1` for signal `n`): the mask and
/// the ignored signals survive `execve`, and so do pending signals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecRequest {
    pub kind: ExecKind,
    /// The file to run, as the guest names it (the host applies its own
    /// path rules, e.g. a sysroot, as for `openat`).
    pub path: Vec<u8>,
    /// The file the core checked (opened as `openat` opens `path`,
    /// close-on-exec; the core closes it when the exec fails): a host that
    /// can run the new program from it runs exactly what was checked.
    pub fd: i32,
    /// A RISC-V program's interpreter (`PT_INTERP`) as the core checked
    /// it, open the same way (`None` for a static program or a host
    /// program): a host that can load it from there loads what was
    /// checked.
    pub interp_fd: Option<i32>,
    /// The arguments, `argv[0]` included (never empty).
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    pub sigmask: u64,
    pub ignored: u64,
    pub pending: u64,
}

/// Whose use [`HostOs::rusage`] reports (`getrusage`'s `who`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RusageWho {
    /// `RUSAGE_SELF`: the process, all its threads.
    Process,
    /// `RUSAGE_THREAD`: the calling thread.
    Thread,
    /// `RUSAGE_CHILDREN`: the children waited for (and theirs).
    Children,
}

/// A child's state change, as `wait4` and `waitid` report it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WaitInfo {
    pub pid: i32,
    /// The `wait4` status word (Linux's encoding).
    pub status: i32,
    /// `waitid`'s `si_code` (`CLD_EXITED`...) and `si_status`.
    pub code: i32,
    pub si_status: i32,
    pub uid: u32,
    /// `struct rusage` as 18 longs (two timevals, then 14 counters): the
    /// same layout on riscv64 and x86-64.
    pub rusage: [i64; 18],
}

/// An id change other than `setresuid`/`setresgid` ([`HostOs::set_id`]);
/// `u32::MAX` (-1) keeps an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetId {
    Uid(u32),
    Gid(u32),
    ReUid(u32, u32),
    ReGid(u32, u32),
    FsUid(u32),
    FsGid(u32),
}

impl SetId {
    /// Is this a user-id (not a group-id) call?
    pub fn is_uid(self) -> bool {
        matches!(self, SetId::Uid(_) | SetId::ReUid(..) | SetId::FsUid(_))
    }
}

/// Everything `vm-core` needs from the host. See the module documentation
/// for the conventions every method follows.
///
/// The trait is `Sync`: guest threads call into one host
/// from several host threads.
pub trait HostOs: Sync {
    // ---- memory -------------------------------------------------------

    /// Reserve `size` bytes of contiguous host address space, inaccessible,
    /// not yet backed. The guest address space lives inside it.
    fn reserve(&self, size: usize) -> SysResult<*mut u8>;

    /// Give `[addr, addr+len)` (page aligned, inside a reservation) the host
    /// protection `prot`, backing it with zeroed memory the first time it
    /// becomes accessible. `HostProt::empty()` makes it inaccessible but keeps
    /// its contents.
    fn protect(&self, addr: *mut u8, len: usize, prot: HostProt) -> SysResult<()>;

    /// Drop the contents of `[addr, addr+len)` (page aligned, inside a
    /// reservation) and make it inaccessible: a later `protect` sees zeroes.
    fn discard(&self, addr: *mut u8, len: usize) -> SysResult<()>;

    /// Give back a whole reservation from [`HostOs::reserve`] (`size` as
    /// reserved) once nothing refers to it (its `GuestMemory` is dropped):
    /// true when it did. Default: false, a host whose reservations live as
    /// long as the process does (the core then `discard`s the contents).
    fn release(&self, addr: *mut u8, size: usize) -> bool {
        let _ = (addr, size);
        false
    }

    /// Map `len` bytes of file `fd` from `offset` (page aligned) at
    /// `[addr, addr+len)` inside a reservation with protection `prot`,
    /// `shared` as `MAP_SHARED` (writes reach the file) else private; a
    /// later `discard` unmaps it. `len` may reach past the file's end, as
    /// in Linux's `mmap`: a page wholly past it faults when touched (the
    /// guest's `SIGBUS`, a host call's `EFAULT`) until the file grows
    /// over it again. A host that cannot map files keeps the
    /// default, `ENODEV`, and the core copies file contents instead
    /// (read-only shared mappings only).
    fn map_file(
        &self,
        addr: *mut u8,
        len: usize,
        fd: i32,
        offset: i64,
        prot: HostProt,
        shared: bool,
    ) -> SysResult<()> {
        let _ = (addr, len, fd, offset, prot, shared);
        Err(Errno::ENODEV)
    }

    /// Grow the file mapping whose last page ends at `at` over `[at,
    /// at+len)` (page aligned, inside a reservation, just mapped fresh),
    /// as `mremap` grows one: the new pages map the file's next `len`
    /// bytes the way the mapping does (shared, or private
    /// copy-on-write), with protection `prot`, so a page wholly past the
    /// file's end faults when touched until the file grows over it. On
    /// failure the pages are as they were. Default: `ENODEV`, a host
    /// without file mappings (the new pages stay zeroes).
    fn extend_file_map(&self, at: *mut u8, len: usize, prot: HostProt) -> SysResult<()> {
        let _ = (at, len, prot);
        Err(Errno::ENODEV)
    }

    /// Make `[addr, addr+len)` (page aligned, inside a reservation, just
    /// mapped zeroed) shared anonymous memory with protection `prot`
    /// (`MAP_SHARED | MAP_ANONYMOUS`), so that a child the host forks
    /// shares it rather than gets a copy; a later `discard` unmaps it.
    /// Default: `ENODEV`, a host that does not fork itself (the core's
    /// `fork` shares such ranges through [`HostOs::share_pages`]).
    fn map_shared_anon(&self, addr: *mut u8, len: usize, prot: HostProt) -> SysResult<()> {
        let _ = (addr, len, prot);
        Err(Errno::ENODEV)
    }

    /// Move the host pages of `[from, from+len)` to `[to, to+len)` (page
    /// aligned, inside one reservation, not overlapping; `to` mapped or
    /// not) with whatever backs them, as `mremap` moves a mapping: a file
    /// mapping stays a mapping of its file (pages past the file's end
    /// still fault), shared memory stays shared, and the protection
    /// moves along. `from` may be left mapped but emptied: the caller
    /// [`HostOs::discard`]s it next. On failure nothing has changed. Default:
    /// `ENODEV`, a host that cannot move pages (the core copies the
    /// bytes into fresh pages instead).
    fn move_pages(&self, from: *mut u8, to: *mut u8, len: usize) -> SysResult<()> {
        let _ = (from, to, len);
        Err(Errno::ENODEV)
    }

    /// Allocate `size` bytes (a multiple of 4096) of host memory that is
    /// readable, writable and executable, for the translator's code cache.
    /// It stays valid for the life of the process and is never handed to
    /// the guest. The translator writes code there and then runs it, so it
    /// must be RWX (or a host must make sure the instruction stream sees
    /// the writes: x86-64 does this by itself). A host that cannot give
    /// executable memory keeps this default, and the translator reports
    /// `ENOSYS` to whoever chose it.
    fn alloc_code(&self, size: usize) -> SysResult<*mut u8> {
        let _ = size;
        Err(Errno::ENOSYS)
    }

    /// Give back memory from [`HostOs::alloc_code`] (`size` as allocated)
    /// once no translated code runs there. Default: keep it (a host whose
    /// code memory lives as long as the process).
    fn free_code(&self, addr: *mut u8, size: usize) {
        let _ = (addr, size);
    }

    /// Does this host hand a memory fault raised inside code from
    /// `alloc_code` to [`crate::translate::host_fault`]? Then translated
    /// code accesses guest memory directly and lets the host's protection
    /// (which follows the guest's, see `GuestMemory`) catch bad accesses;
    /// otherwise every access checks the guest permissions in software.
    fn code_faults(&self) -> bool {
        false
    }

    // ---- files --------------------------------------------------------

    /// `openat(dirfd, path, flags, mode)`; `dirfd` may be `AT_FDCWD` (-100).
    fn openat(&self, dirfd: i32, path: &[u8], flags: i32, mode: u32) -> SysResult<i32>;
    fn close(&self, fd: i32) -> SysResult<()>;
    fn read(&self, fd: i32, buf: &mut [u8]) -> SysResult<usize>;
    fn write(&self, fd: i32, buf: &[u8]) -> SysResult<usize>;
    fn pread(&self, fd: i32, buf: &mut [u8], offset: i64) -> SysResult<usize>;
    fn pwrite(&self, fd: i32, buf: &[u8], offset: i64) -> SysResult<usize>;
    fn lseek(&self, fd: i32, offset: i64, whence: i32) -> SysResult<i64>;
    /// `fstatat(dirfd, path, flags)`; with an empty path and
    /// `AT_EMPTY_PATH` (0x1000) it is `fstat(dirfd)`.
    fn fstatat(&self, dirfd: i32, path: &[u8], flags: i32) -> SysResult<FileStat>;
    fn faccessat(&self, dirfd: i32, path: &[u8], mode: i32, flags: i32) -> SysResult<()>;
    /// Returns the number of bytes written into `buf` (not NUL terminated).
    fn readlinkat(&self, dirfd: i32, path: &[u8], buf: &mut [u8]) -> SysResult<usize>;
    /// Fills `buf` with `struct linux_dirent64` records (an arch-independent
    /// layout) and returns the number of bytes used; 0 at the end.
    fn getdents64(&self, fd: i32, buf: &mut [u8]) -> SysResult<usize>;
    /// Does the host itself hold descriptor `fd` in the guest's table (a
    /// debugger stub's connection, a sandbox root)? The guest must not
    /// see, use, close or replace it: the core answers `EBADF` for it and
    /// leaves it out of `/proc/self/fd` (see `syscall::ownfd`). Default:
    /// the host holds none.
    fn is_own_fd(&self, _fd: i32) -> bool {
        false
    }
    /// Might [`HostOs::is_own_fd`] say yes to any descriptor (the cheap
    /// test made first, on every call that takes one)? Default: no.
    fn has_own_fds(&self) -> bool {
        false
    }
    /// Does the host resolve every path the guest gives itself, inside
    /// roots and without following `/proc`'s descriptor links (a sandbox:
    /// `openat2` with `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`), so that
    /// the kernel's own lookup cannot reach a descriptor's `/proc` entry?
    /// Then the core only renames such entries (`syscall::ownfd`); else it
    /// makes each path call from the directory it checked. Default: no.
    fn confines_paths(&self) -> bool {
        false
    }
    /// Keep descriptor `fd`, which the core opened for itself for the
    /// length of one call, out of the numbers the guest's own descriptors
    /// get (the call may be an `open`, whose result is the lowest free
    /// number): the descriptor that stands for it from now on (`fd`, or a
    /// duplicate of it among the host's own, [`HostOs::is_own_fd`], with
    /// `fd` closed), closed with [`HostOs::drop_own_fd`]. Default: `fd`.
    fn hold_own_fd(&self, fd: i32) -> i32 {
        fd
    }
    /// Close descriptor `fd` that [`HostOs::hold_own_fd`] gave.
    fn drop_own_fd(&self, fd: i32) {
        let _ = self.close(fd);
    }
    /// The host's own name for the guest's absolute path `path`, as the
    /// host's path calls look it up (a host that lays a sysroot over `/`
    /// names a file there that exists there). Default: `path`.
    fn host_name(&self, path: &[u8]) -> Vec<u8> {
        path.to_vec()
    }
    /// `min(n, max_fds)`, where `max_fds` is the number of entries Linux's
    /// descriptor table would have in a process that owned only the
    /// guest's descriptors (`select` looks at no number past it). `None`:
    /// not known (the core then takes every number below the
    /// `RLIMIT_NOFILE` soft limit, at least 1024, to be inside it).
    /// Default: `None`.
    fn fd_table_end(&self, n: usize) -> Option<usize> {
        let _ = n;
        None
    }
    /// The guest got descriptor `fd` (or asked for that number with
    /// `dup3`): its table now holds it, as Linux's grows to. The core
    /// tells only a host with descriptors of its own
    /// ([`HostOs::has_own_fds`]), whose table is not the guest's.
    /// Default: nothing.
    fn note_guest_fd(&self, fd: i32) {
        let _ = fd;
    }
    fn mkdirat(&self, dirfd: i32, path: &[u8], mode: u32) -> SysResult<()>;
    /// `mknodat`: a regular file, FIFO or socket node (devices need a
    /// privilege the host checks). Default: `EPERM`, as for a process
    /// without it on a file system that allows no special files.
    fn mknodat(&self, dirfd: i32, path: &[u8], mode: u32, dev: u64) -> SysResult<()> {
        let _ = (dirfd, path, mode, dev);
        Err(Errno::EPERM)
    }
    fn unlinkat(&self, dirfd: i32, path: &[u8], flags: i32) -> SysResult<()>;
    fn renameat2(
        &self,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: u32,
    ) -> SysResult<()>;
    fn symlinkat(&self, target: &[u8], newdirfd: i32, linkpath: &[u8]) -> SysResult<()>;
    fn linkat(
        &self,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: i32,
    ) -> SysResult<()>;
    fn fchmodat(&self, dirfd: i32, path: &[u8], mode: u32) -> SysResult<()>;
    fn fchmod(&self, fd: i32, mode: u32) -> SysResult<()>;
    /// `utimensat`; `times` of `None` means "now" for both.
    fn utimensat(
        &self,
        dirfd: i32,
        path: &[u8],
        times: Option<[Timespec; 2]>,
        flags: i32,
    ) -> SysResult<()>;
    fn ftruncate(&self, fd: i32, len: i64) -> SysResult<()>;
    fn fsync(&self, fd: i32) -> SysResult<()>;
    /// `sync_file_range(fd, offset, nbytes, flags)`. Default: the whole
    /// file through [`HostOs::fsync`] (more than was asked, never less).
    fn sync_file_range(&self, fd: i32, offset: i64, nbytes: i64, flags: u32) -> SysResult<()> {
        let _ = (offset, nbytes, flags);
        self.fsync(fd)
    }
    /// `readahead(fd, offset, count)`: a hint. Default: check `fd` only.
    fn readahead(&self, fd: i32, offset: i64, count: usize) -> SysResult<()> {
        let _ = (offset, count);
        self.fcntl(fd, crate::abi::F_GETFD, 0).map(|_| ())
    }
    /// `openat2(dirfd, path, how)` with `RESOLVE_*` flags in `resolve`
    /// (the core sends a call without them to [`HostOs::openat`]).
    /// Default: `ENOSYS`, as a kernel before 5.6 answers.
    fn openat2(
        &self,
        dirfd: i32,
        path: &[u8],
        flags: i32,
        mode: u32,
        resolve: u64,
    ) -> SysResult<i32> {
        let _ = (dirfd, path, flags, mode, resolve);
        Err(Errno::ENOSYS)
    }
    /// `fcntl` for the integer-argument commands (F_DUPFD, F_GETFD, F_SETFD,
    /// F_GETFL, F_SETFL, F_DUPFD_CLOEXEC); the core rejects the others.
    fn fcntl(&self, fd: i32, cmd: i32, arg: i64) -> SysResult<i64>;
    /// `fcntl(fd, cmd, lock)` for the record-lock commands (F_GETLK,
    /// F_SETLK, F_SETLKW and the F_OFD_ ones); F_GETLK updates `lock`.
    /// A host without file locking keeps the default: `ENOLCK`.
    fn fcntl_lock(&self, fd: i32, cmd: i32, lock: &mut Flock) -> SysResult<()> {
        let _ = (fd, cmd, lock);
        Err(Errno::ENOLCK)
    }
    /// `ppoll(fds, timeout)` (no signal mask: the core delivers signals
    /// once it returns, `EINTR` if a caught one cut it short); `None` waits
    /// without limit. Fills `revents` and
    /// returns the number of ready entries. Default: `ENOSYS`.
    fn poll(&self, fds: &mut [PollFd], timeout: Option<Timespec>) -> SysResult<usize> {
        let _ = (fds, timeout);
        Err(Errno::ENOSYS)
    }
    /// `statfs(path)`, or `fstatfs(fd)` when `path` is empty.
    /// Default: `ENOSYS`.
    fn statfs(&self, fd: i32, path: &[u8]) -> SysResult<StatFs> {
        let _ = (fd, path);
        Err(Errno::ENOSYS)
    }
    fn dup(&self, fd: i32) -> SysResult<i32>;
    fn dup3(&self, oldfd: i32, newfd: i32, flags: i32) -> SysResult<i32>;
    fn pipe2(&self, flags: i32) -> SysResult<[i32; 2]>;
    /// `ioctl(fd, TCGETS)`; `ENOTTY` when `fd` is not a terminal.
    fn tcgetattr(&self, fd: i32) -> SysResult<Termios>;
    /// `ioctl(fd, TCSETS + action)`, action 0..=2 (TCSETS, TCSETSW, TCSETSF).
    fn tcsetattr(&self, fd: i32, action: u32, termios: &Termios) -> SysResult<()>;
    /// `ioctl(fd, TIOCGWINSZ)`.
    fn winsize(&self, fd: i32) -> SysResult<WinSize>;
    /// Writes the current directory (no NUL) into `buf`, returns its length.
    fn getcwd(&self, buf: &mut [u8]) -> SysResult<usize>;
    fn chdir(&self, path: &[u8]) -> SysResult<()>;
    fn fchdir(&self, fd: i32) -> SysResult<()>;
    fn umask(&self, mask: u32) -> u32;

    // ---- events: epoll, eventfd, timerfd ------------------------------

    /// `epoll_create1(flags)`. Default: `ENOSYS`.
    fn epoll_create1(&self, flags: i32) -> SysResult<i32> {
        let _ = flags;
        Err(Errno::ENOSYS)
    }
    /// `epoll_ctl(epfd, op, fd, event)`; `event` is `None` for
    /// `EPOLL_CTL_DEL`. Default: `ENOSYS`.
    fn epoll_ctl(&self, epfd: i32, op: i32, fd: i32, event: Option<EpollEvent>) -> SysResult<()> {
        let _ = (epfd, op, fd, event);
        Err(Errno::ENOSYS)
    }
    /// `epoll_pwait2(epfd, events, timeout)` without a signal mask (as
    /// [`HostOs::poll`]): fills the front of `events`, returns how many.
    /// Default: `ENOSYS`.
    fn epoll_wait(
        &self,
        epfd: i32,
        events: &mut [EpollEvent],
        timeout: Option<Timespec>,
    ) -> SysResult<usize> {
        let _ = (epfd, events, timeout);
        Err(Errno::ENOSYS)
    }
    /// `eventfd2(initval, flags)`. Default: `ENOSYS`.
    fn eventfd2(&self, initval: u32, flags: i32) -> SysResult<i32> {
        let _ = (initval, flags);
        Err(Errno::ENOSYS)
    }
    /// `timerfd_create(clock, flags)`. Default: `ENOSYS`.
    fn timerfd_create(&self, clock: i32, flags: i32) -> SysResult<i32> {
        let _ = (clock, flags);
        Err(Errno::ENOSYS)
    }
    /// `timerfd_settime(fd, flags, new)` (an `ITimer` is `struct
    /// itimerspec`), or `timerfd_gettime(fd)` when `new` is `None`:
    /// returns the previous (current) setting. Default: `ENOSYS`.
    fn timerfd_settime(&self, fd: i32, flags: i32, new: Option<ITimer>) -> SysResult<ITimer> {
        let _ = (fd, flags, new);
        Err(Errno::ENOSYS)
    }

    // ---- sockets ---------------------------------------------------------
    // Socket addresses and option values are byte images: `sockaddr_in`,
    // `sockaddr_in6`, `sockaddr_un`, and the option structures (`int`,
    // `linger`, `timeval`, `ucred`) have the same layout on riscv64 and
    // x86-64. A host without sockets keeps the defaults: no address family
    // is supported, and no descriptor is a socket.

    /// `socket(domain, type, protocol)`. Default: `EAFNOSUPPORT`.
    fn socket(&self, domain: i32, ty: i32, protocol: i32) -> SysResult<i32> {
        let _ = (domain, ty, protocol);
        Err(Errno::EAFNOSUPPORT)
    }
    /// `socketpair(domain, type, protocol)`. Default: `EAFNOSUPPORT`.
    fn socketpair(&self, domain: i32, ty: i32, protocol: i32) -> SysResult<[i32; 2]> {
        let _ = (domain, ty, protocol);
        Err(Errno::EAFNOSUPPORT)
    }
    /// `bind(fd, addr)`. Default: `EBADF` or `ENOTSOCK`.
    fn bind(&self, fd: i32, addr: &[u8]) -> SysResult<()> {
        let _ = addr;
        self.not_socket(fd)
    }
    /// `connect(fd, addr)`. Default: `EBADF` or `ENOTSOCK`.
    fn connect(&self, fd: i32, addr: &[u8]) -> SysResult<()> {
        let _ = addr;
        self.not_socket(fd)
    }
    /// `listen(fd, backlog)`. Default: `EBADF` or `ENOTSOCK`.
    fn listen(&self, fd: i32, backlog: i32) -> SysResult<()> {
        let _ = backlog;
        self.not_socket(fd)
    }
    /// `accept4(fd, addr, flags)`: the new descriptor and the full length
    /// of the peer's address (of which the first `addr.len()` bytes are
    /// in `addr`). Default: `EBADF` or `ENOTSOCK`.
    fn accept4(&self, fd: i32, addr: &mut [u8], flags: i32) -> SysResult<(i32, usize)> {
        let _ = (addr, flags);
        self.not_socket(fd).map(|_| (0, 0))
    }
    /// `getsockname(fd)`, or `getpeername(fd)` when `peer`: fills the
    /// front of `addr`, returns the address's full length. Default: `EBADF`
    /// or `ENOTSOCK`.
    fn sockname(&self, fd: i32, peer: bool, addr: &mut [u8]) -> SysResult<usize> {
        let _ = (peer, addr);
        self.not_socket(fd).map(|_| 0)
    }
    /// `sendmsg(fd, msg, flags)`. Default: `EBADF` or `ENOTSOCK`.
    fn sendmsg(&self, fd: i32, msg: &SendMsg<'_>, flags: i32) -> SysResult<usize> {
        let _ = (msg, flags);
        self.not_socket(fd).map(|_| 0)
    }
    /// `recvmsg(fd, msg, flags)`: returns the data length (which may exceed
    /// `msg.data.len()` with `MSG_TRUNC`). Default: `EBADF` or `ENOTSOCK`.
    fn recvmsg(&self, fd: i32, msg: &mut RecvMsg<'_>, flags: i32) -> SysResult<usize> {
        let _ = (msg, flags);
        self.not_socket(fd).map(|_| 0)
    }
    /// `shutdown(fd, how)`. Default: `EBADF` or `ENOTSOCK`.
    fn shutdown(&self, fd: i32, how: i32) -> SysResult<()> {
        let _ = how;
        self.not_socket(fd)
    }
    /// `setsockopt(fd, level, name, value)`. Default: `EBADF` or `ENOTSOCK`.
    fn setsockopt(&self, fd: i32, level: i32, name: i32, value: &[u8]) -> SysResult<()> {
        let _ = (level, name, value);
        self.not_socket(fd)
    }
    /// `getsockopt(fd, level, name)` into `value`: returns the length the
    /// kernel reports. Default: `EBADF` or `ENOTSOCK`.
    fn getsockopt(&self, fd: i32, level: i32, name: i32, value: &mut [u8]) -> SysResult<usize> {
        let _ = (level, name, value);
        self.not_socket(fd).map(|_| 0)
    }
    /// The answer of a host without sockets for a socket call on `fd`:
    /// `EBADF` when `fd` is not open, else `ENOTSOCK`. Not for overriding.
    fn not_socket(&self, fd: i32) -> SysResult<()> {
        self.fcntl(fd, 1, 0)?; // F_GETFD
        Err(Errno::ENOTSOCK)
    }

    // ---- device control -------------------------------------------------

    /// `ioctl(fd, req, buf)` for a command whose argument points to a
    /// structure that riscv64 and x86-64 lay out alike (an `int`, a
    /// `struct winsize`...), which the call reads or fills; the core only
    /// passes commands it knows. Returns the call's non-negative result.
    /// Default: `EBADF` or `ENOTTY`.
    fn ioctl_ptr(&self, fd: i32, req: u32, buf: &mut [u8]) -> SysResult<i32> {
        let _ = (req, buf);
        self.fcntl(fd, 1, 0)?;
        Err(Errno::ENOTTY)
    }
    /// `ioctl(fd, SIOCGIFCONF)`: the IPv4 addresses of the interfaces as
    /// `struct ifreq` records (40 bytes each, alike on riscv64 and
    /// x86-64: name, then a `sockaddr_in`), as many whole records as fit
    /// in `buf`; `None` asks only for the size of them all. Returns the
    /// bytes written (or needed). Default: `EBADF` or `ENOTTY`.
    fn ifconf(&self, fd: i32, buf: Option<&mut [u8]>) -> SysResult<usize> {
        let _ = buf;
        self.fcntl(fd, 1, 0)?;
        Err(Errno::ENOTTY)
    }
    /// `ioctl(fd, req, arg)` for a command whose argument is a plain
    /// value. Default: `EBADF` or `ENOTTY`.
    fn ioctl_val(&self, fd: i32, req: u32, arg: u64) -> SysResult<i32> {
        let _ = (req, arg);
        self.fcntl(fd, 1, 0)?;
        Err(Errno::ENOTTY)
    }

    // ---- more file calls --------------------------------------------------

    /// `memfd_create(name, flags)`. Default: `ENOSYS`.
    fn memfd_create(&self, name: &[u8], flags: u32) -> SysResult<i32> {
        let _ = (name, flags);
        Err(Errno::ENOSYS)
    }
    /// `flock(fd, op)`. Default: `ENOLCK` after the fd check.
    fn flock(&self, fd: i32, op: i32) -> SysResult<()> {
        let _ = op;
        self.fcntl(fd, 1, 0)?;
        Err(Errno::ENOLCK)
    }
    /// `sendfile(out, in, offset, count)`. Default: `ENOSYS`.
    fn sendfile(
        &self,
        out_fd: i32,
        in_fd: i32,
        offset: Option<&mut i64>,
        count: usize,
    ) -> SysResult<usize> {
        let _ = (out_fd, in_fd, offset, count);
        Err(Errno::ENOSYS)
    }
    /// `copy_file_range` (`splice == false`) or `splice` (`true`):
    /// `(fd_in, off_in, fd_out, off_out, len, flags)`. Default: `ENOSYS`.
    #[allow(clippy::too_many_arguments)]
    fn copy_range(
        &self,
        splice: bool,
        fd_in: i32,
        off_in: Option<&mut i64>,
        fd_out: i32,
        off_out: Option<&mut i64>,
        len: usize,
        flags: u32,
    ) -> SysResult<usize> {
        let _ = (splice, fd_in, off_in, fd_out, off_out, len, flags);
        Err(Errno::ENOSYS)
    }
    /// `tee(fd_in, fd_out, len, flags)`. Default: `ENOSYS`.
    fn tee(&self, fd_in: i32, fd_out: i32, len: usize, flags: u32) -> SysResult<usize> {
        let _ = (fd_in, fd_out, len, flags);
        Err(Errno::ENOSYS)
    }
    /// `fallocate(fd, mode, offset, len)`. Default: `EOPNOTSUPP` after
    /// the fd check.
    fn fallocate(&self, fd: i32, mode: i32, offset: i64, len: i64) -> SysResult<()> {
        let _ = (mode, offset, len);
        self.fcntl(fd, 1, 0)?;
        Err(Errno::ENOTSUP)
    }
    /// `close_range(first, last, flags)`. Default: `ENOSYS`.
    fn close_range(&self, first: u32, last: u32, flags: u32) -> SysResult<()> {
        let _ = (first, last, flags);
        Err(Errno::ENOSYS)
    }
    /// `fchownat(dirfd, path, uid, gid, flags)`; with an empty path and
    /// `AT_EMPTY_PATH` it is `fchown(dirfd)`. Default: `ENOSYS`.
    fn fchownat(&self, dirfd: i32, path: &[u8], uid: u32, gid: u32, flags: i32) -> SysResult<()> {
        let _ = (dirfd, path, uid, gid, flags);
        Err(Errno::ENOSYS)
    }
    /// `getxattr`/`lgetxattr`/`fgetxattr` into `value` (empty: only the
    /// size). Default: `ENOTSUP`.
    fn getxattr(&self, t: XattrTarget<'_>, name: &[u8], value: &mut [u8]) -> SysResult<usize> {
        let _ = (t, name, value);
        Err(Errno::ENOTSUP)
    }
    /// `setxattr` and its forms. Default: `ENOTSUP`.
    fn setxattr(&self, t: XattrTarget<'_>, name: &[u8], value: &[u8], flags: i32) -> SysResult<()> {
        let _ = (t, name, value, flags);
        Err(Errno::ENOTSUP)
    }
    /// `listxattr` and its forms into `list` (empty: only the size).
    /// Default: `ENOTSUP`.
    fn listxattr(&self, t: XattrTarget<'_>, list: &mut [u8]) -> SysResult<usize> {
        let _ = (t, list);
        Err(Errno::ENOTSUP)
    }
    /// `removexattr` and its forms. Default: `ENOTSUP`.
    fn removexattr(&self, t: XattrTarget<'_>, name: &[u8]) -> SysResult<()> {
        let _ = (t, name);
        Err(Errno::ENOTSUP)
    }
    /// `sync()`. Default: nothing to write back.
    fn sync(&self) {}
    /// `syncfs(fd)`. Default: the fd check, nothing to write back.
    fn syncfs(&self, fd: i32) -> SysResult<()> {
        self.fcntl(fd, 1, 0).map(|_| ())
    }
    /// `preadv2`/`pwritev2` with `RWF_*` `flags` on one buffer; `offset`
    /// -1 uses and moves the file position. `write` selects the direction
    /// (`buf` is then only read). Default: `EOPNOTSUPP` (flags this host
    /// does not know, as Linux answers unknown flags).
    fn rw2(
        &self,
        fd: i32,
        buf: &mut [u8],
        offset: i64,
        flags: i32,
        write: bool,
    ) -> SysResult<usize> {
        let _ = (fd, buf, offset, flags, write);
        Err(Errno::ENOTSUP)
    }

    // ---- credentials and scheduling --------------------------------------

    /// `setresuid(r, e, s)` (`uid` true) or `setresgid`; -1 (`u32::MAX`)
    /// keeps one. Default: ids that cannot change, so a call that keeps
    /// every id (-1, or an id's present value) succeeds, as it does for an
    /// unprivileged Linux process, and any real change is `EPERM`.
    fn setresid(&self, uid: bool, ids: [u32; 3]) -> SysResult<()> {
        let now = self.getresid(uid);
        if ids.iter().zip(now).all(|(&v, n)| v == u32::MAX || v == n) {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }
    /// `setuid`, `setgid`, `setreuid`, `setregid`, `setfsuid` or
    /// `setfsgid`, with Linux's rules for who may change what; the result
    /// is the call's (0, or the previous id for the `setfs*` calls).
    /// Default: the same change made through [`HostOs::setresid`], as
    /// Linux defines each call in terms of the three ids (and the
    /// file-system id is the effective one).
    fn set_id(&self, call: SetId) -> SysResult<u64> {
        const KEEP: u32 = u32::MAX;
        let uid = call.is_uid();
        let [r, e, _] = self.getresid(uid);
        let root = self.ids().euid == 0;
        match call {
            SetId::Uid(v) | SetId::Gid(v) => {
                let ids = if root { [v, v, v] } else { [KEEP, v, KEEP] };
                self.setresid(uid, ids).map(|_| 0)
            }
            SetId::ReUid(nr, ne) | SetId::ReGid(nr, ne) => {
                // The saved id follows the new effective one when the real
                // one is set or the effective one changes away from it.
                let new_e = if ne == KEEP { e } else { ne };
                let saved = if nr != KEEP || (ne != KEEP && ne != r) {
                    new_e
                } else {
                    KEEP
                };
                self.setresid(uid, [nr, ne, saved]).map(|_| 0)
            }
            SetId::FsUid(_) | SetId::FsGid(_) => Ok(e as u64),
        }
    }
    /// `getresuid` (`uid` true) or `getresgid`. Default: real, effective,
    /// and effective again as the saved id, from [`HostOs::ids`].
    fn getresid(&self, uid: bool) -> [u32; 3] {
        let i = self.ids();
        if uid {
            [i.uid, i.euid, i.euid]
        } else {
            [i.gid, i.egid, i.egid]
        }
    }
    /// `getgroups` into `list` (empty: only the count). Default: none.
    fn getgroups(&self, list: &mut [u32]) -> SysResult<usize> {
        let _ = list;
        Ok(0)
    }
    /// `setgroups(list)`. Default: `EPERM`.
    fn setgroups(&self, list: &[u32]) -> SysResult<()> {
        let _ = list;
        Err(Errno::EPERM)
    }
    /// `getpriority(which, who)`: the nice value (-20..=19). Default: 0
    /// for the process itself.
    fn getpriority(&self, which: i32, who: i32) -> SysResult<i32> {
        match (which, who) {
            (0..=2, 0) => Ok(0),
            (0..=2, _) => Err(Errno::ESRCH),
            _ => Err(Errno::EINVAL),
        }
    }
    /// `setpriority(which, who, nice)`. Default: `EPERM` (no scheduler
    /// priorities to change).
    fn setpriority(&self, which: i32, who: i32, nice: i32) -> SysResult<()> {
        self.getpriority(which, who)?;
        let _ = nice;
        Err(Errno::EPERM)
    }

    // ---- time, randomness, identity ------------------------------------

    /// `clock_gettime(clock)` for the Linux clock ids.
    fn clock_gettime(&self, clock: i32) -> SysResult<Timespec>;
    fn clock_getres(&self, clock: i32) -> SysResult<Timespec>;
    /// Sleep for `duration` on the monotonic clock; `EINTR` when a caught
    /// signal (see [`HostOs::set_signal_action`]) cut it short.
    fn sleep(&self, duration: Timespec) -> SysResult<()>;
    /// Fill `buf` with random bytes (as `getrandom(buf, 0)`).
    fn random(&self, buf: &mut [u8]) -> SysResult<usize>;
    fn ids(&self) -> Ids;
    /// Host thread id of the calling thread.
    fn gettid(&self) -> i32;
    fn uname(&self) -> HostUname;
    fn sysinfo(&self) -> SysInfo;
    /// Number of CPUs the guest may see (`sched_getaffinity`).
    fn cpu_count(&self) -> usize;
    /// `getcpu`: the CPU and NUMA node the calling host thread runs on.
    /// Default: CPU 0, node 0 (a host with one CPU).
    fn getcpu(&self) -> SysResult<(u32, u32)> {
        Ok((0, 0))
    }
    /// Which of the `len` bytes of host memory at `host` (page-aligned, a
    /// range of guest memory the core checked) are resident, one byte per
    /// page into `vec` (`mincore`). Default: all of them (no paging).
    fn mincore(&self, host: *mut u8, len: usize, vec: &mut [u8]) -> SysResult<()> {
        let _ = (host, len);
        vec.fill(1);
        Ok(())
    }
    /// The page-table state of `out.len()` pages of host memory at `host`
    /// (page-aligned, guest memory the core checked): one Linux `pagemap`
    /// entry per page, with bits 0 to 54 (frame or swap numbers) cleared,
    /// as Linux shows them to an unprivileged process. Default: from
    /// [`HostOs::mincore`], the present bit only.
    fn pagemap(&self, host: *mut u8, out: &mut [u64]) -> SysResult<()> {
        let mut v = alloc::vec![0u8; out.len()];
        self.mincore(host, out.len() * 4096, &mut v)?;
        for (e, r) in out.iter_mut().zip(v) {
            *e = if r & 1 != 0 { 1 << 63 } else { 0 };
        }
        Ok(())
    }
    /// `capget`: the capability sets of the process (`pid` 0: this one)
    /// as `[effective, permitted, inheritable]` words, low then high, for
    /// header version `version`. Default: none at all.
    fn capget(&self, version: u32, pid: i32) -> SysResult<[[u32; 3]; 2]> {
        let _ = (version, pid);
        Ok([[0; 3]; 2])
    }
    /// `capset` of this process's sets. Default: only dropping to the
    /// empty sets it has is allowed (`EPERM` otherwise).
    fn capset(&self, version: u32, sets: [[u32; 3]; 2]) -> SysResult<()> {
        let _ = version;
        if sets == [[0; 3]; 2] {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    /// Pin host thread `tid` (0: the caller) to the CPUs in `mask`
    /// (`cpu_set_t` bytes). The core passes only the process's own
    /// threads. Default: accepted and not applied (one CPU or no pinning).
    fn set_affinity(&self, tid: i32, mask: &[u8]) -> SysResult<()> {
        let _ = (tid, mask);
        Ok(())
    }
    /// Host thread `tid`'s CPU mask into `mask`; the bytes written.
    /// Default: `ENOSYS`, and the core reports every CPU.
    fn get_affinity(&self, tid: i32, mask: &mut [u8]) -> SysResult<usize> {
        let _ = (tid, mask);
        Err(Errno::ENOSYS)
    }
    /// Host thread `tid`'s scheduling policy and static priority, after
    /// setting them when `set` is given (`sched_setscheduler`,
    /// `sched_setparam` with policy -1 meaning unchanged). Default: the
    /// normal policy, which is the only one there is; setting it (with
    /// priority 0) is accepted, anything else is `EPERM`.
    fn sched_policy(&self, tid: i32, set: Option<(i32, i32)>) -> SysResult<(i32, i32)> {
        let _ = tid;
        match set {
            Some((-1 | 0 | 3 | 5, 0)) | None => Ok((0, 0)),
            Some(_) => Err(Errno::EPERM),
        }
    }
    /// `sched_rr_get_interval` of host thread `tid`. Default: the
    /// scheduler's 10 ms turn.
    fn rr_interval(&self, tid: i32) -> SysResult<Timespec> {
        let _ = tid;
        Ok(Timespec {
            sec: 0,
            nsec: 10_000_000,
        })
    }

    /// `prlimit` on the whole process for Linux resource `resource`
    /// (0..16): set `new` (soft, hard) if given, return the previous
    /// limits. The default describes a host without limits to change: Linux
    /// defaults (8 MiB stack, 1024 files...), any change refused with EPERM.
    fn prlimit(&self, resource: u32, new: Option<(u64, u64)>) -> SysResult<(u64, u64)> {
        const INF: u64 = u64::MAX;
        let cur = match resource {
            3 => (8 << 20, INF),        // RLIMIT_STACK
            4 => (0, INF),              // RLIMIT_CORE
            6 | 11 => (63_535, 63_535), // RLIMIT_NPROC, RLIMIT_SIGPENDING
            7 => (1024, 1 << 20),       // RLIMIT_NOFILE
            8 => (8 << 20, 8 << 20),    // RLIMIT_MEMLOCK
            12 => (819_200, 819_200),   // RLIMIT_MSGQUEUE
            13 | 14 => (0, 0),          // RLIMIT_NICE, RLIMIT_RTPRIO
            0..=15 => (INF, INF),
            _ => return Err(Errno::EINVAL),
        };
        match new {
            Some(n) if n != cur => Err(Errno::EPERM),
            _ => Ok(cur),
        }
    }

    // ---- asynchronous signals -------------------------------------------

    /// Treat signal `signo` as `action` from now on. The core calls this
    /// for every signal but the synchronous ones (faults), SIGKILL, SIGSTOP
    /// and SIGPIPE, whenever the guest's disposition changes. A host
    /// without signals keeps the default: nothing.
    fn set_signal_action(&self, signo: i32, action: HostSigAction) {
        let _ = (signo, action);
    }

    /// A caught signal that arrived since the last call, lowest number
    /// first (a standard signal at most once; a host that queues
    /// real-time ones hands out each arrival, oldest first). The core
    /// polls this after every trap. Default: never any.
    fn take_signal(&self) -> Option<HostSignal> {
        None
    }

    /// Wait until a caught signal arrives; return at once if one arrived
    /// and was not taken yet (no wake-up may be lost between the core's
    /// check and this wait). May return early. Default: sleep an hour (a
    /// host without signals has nothing to wait for).
    fn wait_signal(&self) {
        let _ = self.sleep(Timespec { sec: 3600, nsec: 0 });
    }

    /// `setitimer(which, new)` (ITIMER_REAL 0, ITIMER_VIRTUAL 1,
    /// ITIMER_PROF 2; `None` only reads it): returns the previous timer.
    /// Its expiry reaches the core through [`HostOs::take_signal`].
    /// Default: `ENOSYS`.
    fn setitimer(&self, which: i32, new: Option<ITimer>) -> SysResult<ITimer> {
        let _ = (which, new);
        Err(Errno::ENOSYS)
    }

    /// Interrupt guest thread `tid` (as [`HostOs::interrupt_thread`])
    /// when `CLOCK_MONOTONIC` reaches `at` (ns), or never (`None`); each
    /// call replaces the process's previous wake-up, and a forked child
    /// starts with none. The core's POSIX timers ([`crate::ptimer`]) ask
    /// for it so that a thread blocked in a host call looks at them when
    /// one expires. Default: nothing (timers then expire only when a
    /// thread stops on its own).
    fn set_wakeup(&self, at: Option<u64>, tid: i32) {
        let _ = (at, tid);
    }

    // ---- threads ----------------------------------------------------------

    /// Does this host run each guest thread on a host thread of its own
    /// ([`HostOs::spawn_thread`], [`HostOs::futex`])? Default: no; the
    /// core then runs every guest thread in turn on the one host thread
    /// (see [`crate::sched`]).
    fn threads(&self) -> bool {
        false
    }

    /// End the whole host process as the guest process ended (`status`;
    /// `exe` is the program, for a report), from a thread other than the
    /// one the host started it on: the only thread of a forked child.
    /// Default: never returns (a host without fork has no such thread).
    fn exit(&self, exe: &[u8], status: crate::process::ExitStatus) -> ! {
        let _ = (exe, status);
        loop {
            let _ = self.sleep(Timespec { sec: 3600, nsec: 0 });
        }
    }

    /// Run `f` on a new host thread (a guest thread runs there). A host
    /// that runs one thread keeps the default, `EAGAIN` (and says so in
    /// [`HostOs::threads`]).
    fn spawn_thread(&self, f: alloc::boxed::Box<dyn FnOnce() + Send + 'static>) -> SysResult<()> {
        drop(f);
        Err(Errno::EAGAIN)
    }

    /// `futex(2)` on host memory: `uaddr` (and `uaddr2`, for the requeue
    /// and wake-op commands) are host addresses inside the guest
    /// reservation or inside pvm's own memory, checked by the caller; the
    /// operation uses Linux's encoding (riscv64 and x86-64 share it). A
    /// host without it keeps the default, `ENOSYS`, and the core falls
    /// back to what one thread can observe.
    fn futex(&self, uaddr: *mut u32, args: &FutexArgs) -> SysResult<i64> {
        let _ = (uaddr, args);
        Err(Errno::ENOSYS)
    }

    /// Interrupt host thread `tid` (a guest thread, see
    /// [`HostOs::gettid`]): a blocking host call it is in, or enters
    /// soon, fails with `EINTR`, and [`HostOs::wait_signal`] returns, so
    /// its run loop looks at what another thread asked of it (a signal,
    /// the end of the process). Default: nothing (one thread).
    fn interrupt_thread(&self, tid: i32) {
        let _ = tid;
    }

    /// The calling host thread runs a guest thread whose current pc the
    /// core keeps at `pc` (valid until the thread's run loop returns):
    /// the profiler's sampler (see [`crate::sampling`]) reads it when it
    /// interrupts the thread outside translated code. Called once per run
    /// loop, profiling or not. Default: nothing.
    fn guest_thread(&self, pc: *const u64) {
        let _ = pc;
    }

    /// Let other host threads run (`sched_yield`): what a thread waiting
    /// for another to reach a point does between looks. On a host that
    /// runs the processes itself ([`HostOs::builds_children`]) the core
    /// also calls it at the end of every instruction budget, so that the
    /// other processes on its CPU get their turn. Default: a spin hint
    /// (one CPU: the scheduler preempts).
    fn yield_now(&self) {
        core::hint::spin_loop();
    }

    /// `membarrier(cmd, flags, cpu_id)` across the host threads that run
    /// guest threads. Default: `ENOSYS` (as a kernel without it).
    fn membarrier(&self, cmd: i32, flags: u32, cpu_id: i32) -> SysResult<i64> {
        let _ = (cmd, flags, cpu_id);
        Err(Errno::ENOSYS)
    }

    // ---- processes ------------------------------------------------------
    //
    // A guest process is one host process (see `syscall/proc.rs`): its
    // children are host children, process ids are host ids. A host
    // without processes keeps the defaults: `ENOSYS`.

    /// Duplicate the whole process, as `fork` does (the guest memory is a
    /// private host mapping, so the child gets a copy-on-write copy): 0 in
    /// the child, the child's pid in the parent. The child's exit raises
    /// `exit_signal` (0: none) in the parent. The child's host state is
    /// the parent's minus what `fork` drops (pending signals, timers).
    /// With `wait_exec` (`CLONE_VFORK` without `CLONE_VM`), the parent
    /// returns only once the child has exec'd or exited. With `cgroup`
    /// (`CLONE_INTO_CGROUP`), the child is created in the cgroup v2
    /// directory open at that descriptor, with Linux's answers when it
    /// cannot be (`EBADF` for a descriptor that is not one, `EACCES`,
    /// `EBUSY`...).
    fn fork(&self, exit_signal: i32, wait_exec: bool, cgroup: Option<i32>) -> SysResult<i32> {
        let _ = (exit_signal, wait_exec, cgroup);
        Err(Errno::ENOSYS)
    }

    /// Does the host kernel walk a robust futex list the calling host
    /// thread names ([`HostOs::swap_robust_list`]) when the thread dies or
    /// execs, as Linux does? Default: no. `execve` then hands the guest's
    /// lists to it, to be released only once the exec succeeded (see
    /// `syscall::exec_robust`).
    fn host_robust_lists(&self) -> bool {
        false
    }

    /// Make `head` (the host address of a `struct robust_list_head` in
    /// host addresses, or 0) the calling host thread's robust list; return
    /// the one it named before. `None` where the host has none (nothing
    /// changed). The core keeps `head` alive while it is named.
    fn swap_robust_list(&self, head: usize) -> Option<usize> {
        let _ = head;
        None
    }

    /// Does this host start child processes the core builds
    /// ([`HostOs::spawn_process`]) rather than duplicate itself
    /// ([`HostOs::fork`])? Default: no. Such a host answers a successful
    /// [`HostOs::execve`] with [`Errno::REPLACED`].
    fn builds_children(&self) -> bool {
        false
    }

    /// `fork` on a host that [`HostOs::builds_children`]: make a new
    /// process context (a new pid whose parent is the caller, a copy of
    /// the caller's descriptor table sharing its open files, its working
    /// directory, limits and signal dispositions, no pending signals or
    /// timers), call `make` with its pid while that context is the
    /// current one (so what `make` asks of the host is the child's), and
    /// run the closure `make` returns as that process, beside this one;
    /// its result is the child's end. Returns the child's pid. The child's
    /// end raises `exit_signal` (0: none) in the parent; with `wait_exec`
    /// (`CLONE_VFORK`) the caller returns only once the child has exec'd
    /// or ended. Default: `ENOSYS`.
    #[allow(clippy::type_complexity)]
    fn spawn_process(
        &self,
        exit_signal: i32,
        wait_exec: bool,
        make: &mut dyn FnMut(
            i32,
        )
            -> SysResult<alloc::boxed::Box<dyn FnOnce() -> ProcessEnd + Send>>,
    ) -> SysResult<i32> {
        let _ = (exit_signal, wait_exec, make);
        Err(Errno::ENOSYS)
    }

    /// Copy the backed pages of `[from, from+len)` (page aligned, inside a
    /// reservation) to `[to, to+len)` (inside another, inaccessible and
    /// never backed there yet), whatever their protection; pages never
    /// backed stay so. The copy stays inaccessible until
    /// [`HostOs::protect`]. For [`HostOs::spawn_process`]. Default: `ENOSYS`.
    fn copy_pages(&self, from: *const u8, to: *mut u8, len: usize) -> SysResult<()> {
        let _ = (from, to, len);
        Err(Errno::ENOSYS)
    }

    /// Like [`HostOs::copy_pages`] for a `MAP_SHARED` range: the pages of
    /// `[to, to+len)` show the same memory as those of `[from, from+len)`
    /// (touched or not), so writes through either are seen through both,
    /// as a forked child shares its parent's shared mappings. A host that
    /// keeps shared file mappings coherent itself carries that over too.
    /// Default: `ENOSYS` (the core copies them instead).
    fn share_pages(&self, from: *const u8, to: *mut u8, len: usize) -> SysResult<()> {
        let _ = (from, to, len);
        Err(Errno::ENOSYS)
    }

    /// A thread id for a new guest thread on a host that runs one thread
    /// and gives out ids of its own (so threads and processes never share
    /// one). Default: `None`, the core numbers threads above the pid.
    fn new_tid(&self) -> Option<i32> {
        None
    }

    /// The guest thread `tid` (one [`HostOs::new_tid`] gave) ended, for a
    /// host that lists a process's threads (its `/proc/<pid>/task`).
    /// Default: nothing.
    fn thread_ended(&self, tid: i32) {
        let _ = tid;
    }

    /// Guest thread `tid` of this process is named `name` (`comm`, at
    /// most 15 bytes): at its start, at the process's start and at
    /// `prctl(PR_SET_NAME)`, so that other processes' `/proc/<pid>/task`
    /// can show it. Default: nothing.
    fn thread_named(&self, tid: i32, name: &[u8]) {
        let _ = (tid, name);
    }

    /// What the host's procfs gets wrong about the threads of process
    /// `pid` of the guest's tree (a process that runs its guest threads
    /// in turn on one host thread, or has host threads of its own):
    /// `None` when it shows them as they are.
    fn tree_threads(&self, pid: i32) -> Option<TreeThreads> {
        let _ = pid;
        None
    }

    /// Might [`HostOs::tree_threads`] ever answer? Default: no.
    fn has_tree_threads(&self) -> bool {
        false
    }

    /// Ask process `pid` of the guest's tree (another pvm) for `ask`
    /// (`addr`, `len` and `data` as it needs them), which that process
    /// answers from its guest's state with
    /// [`crate::syscall::peer::serve`]. `None`: nobody answers (no such
    /// process in the tree, a host program, one that cannot answer now),
    /// and the caller shows what the host has. Default: `None`.
    fn peer(
        &self,
        pid: i32,
        ask: PeerAsk,
        addr: u64,
        len: u64,
        data: &[u8],
    ) -> Option<SysResult<Vec<u8>>> {
        let _ = (pid, ask, addr, len, data);
        None
    }

    /// This process's guest state can answer other processes' `/proc`
    /// reads through `server` (for a host whose [`HostOs::peer`] reaches
    /// the other process's core directly, as the bare-metal kernel's
    /// does). Called as each process starts running. Default: nothing.
    fn serve_peers(&self, server: Weak<dyn PeerServer>) {
        let _ = server;
    }

    /// Run `child` in a new host process that shares this one's memory
    /// (as `clone(CLONE_VM | CLONE_VFORK)`), suspending the caller until
    /// that process calls [`HostOs::execve`] successfully or `child`
    /// returns; the process then ends as `child` says. Returns the child's
    /// pid. Only the calling thread waits; `child` must leave every shared
    /// structure as it found it except guest memory. With `cgroup`
    /// (`CLONE_INTO_CGROUP`), as for [`HostOs::fork`].
    fn vfork(&self, child: &mut dyn FnMut() -> ProcessEnd, cgroup: Option<i32>) -> SysResult<i32> {
        let _ = (child, cgroup);
        Err(Errno::ENOSYS)
    }

    /// May a new thread of this process be created in the cgroup v2
    /// directory open at `cgroup` (`clone3` with `CLONE_THREAD |
    /// CLONE_INTO_CGROUP`)? The host's answer for a thread of its own:
    /// `Ok` for the cgroup the process is in (the thread is created there
    /// as any other), `EOPNOTSUPP` for one of another domain, `EBADF` for a
    /// descriptor that names no cgroup directory, `EACCES`... Default (no
    /// cgroup file system): `EBADF`.
    fn thread_cgroup(&self, cgroup: i32) -> SysResult<()> {
        let _ = cgroup;
        Err(Errno::EBADF)
    }

    /// Replace this process with `req`; returns only on failure, with the
    /// errno for the guest.
    fn execve(&self, req: ExecRequest) -> Errno {
        let _ = req;
        Errno::ENOSYS
    }

    /// `wait4(pid, options)` (Linux `WNOHANG`, `WUNTRACED`, `WCONTINUED`,
    /// `__WALL`, `__WCLONE` values); `None` when `WNOHANG` found nothing.
    fn wait4(&self, pid: i32, options: i32) -> SysResult<Option<WaitInfo>> {
        let _ = (pid, options);
        Err(Errno::ENOSYS)
    }

    /// `waitid(idtype, id, options)`; `None` when `WNOHANG` found nothing.
    fn waitid(&self, idtype: i32, id: i32, options: i32) -> SysResult<Option<WaitInfo>> {
        let _ = (idtype, id, options);
        Err(Errno::ENOSYS)
    }

    /// `kill(pid, sig)` for another process or a process group. Default:
    /// there is no other process (`ESRCH`).
    /// `pidfd_open(pid, flags)`: a descriptor for process `pid`.
    /// Default: `ENOSYS` (no other process to name).
    fn pidfd_open(&self, pid: i32, flags: u32) -> SysResult<i32> {
        let _ = (pid, flags);
        Err(Errno::ENOSYS)
    }
    /// The pid a pidfd names (0 if it has exited; `EBADF` if `fd` is not
    /// one). Default: `EBADF`.
    fn pidfd_pid(&self, fd: i32) -> SysResult<i32> {
        let _ = fd;
        Err(Errno::EBADF)
    }
    /// `pidfd_send_signal(fd, sig, NULL, 0)` to another process.
    fn pidfd_send_signal(&self, fd: i32, sig: i32) -> SysResult<()> {
        let _ = (fd, sig);
        Err(Errno::EBADF)
    }
    /// `inotify_init1(flags)`: a descriptor whose reads give Linux's
    /// `struct inotify_event` records (the same layout on every 64-bit
    /// Linux). Default: `ENOSYS`, as a kernel without inotify answers.
    fn inotify_init1(&self, flags: i32) -> SysResult<i32> {
        let _ = flags;
        Err(Errno::ENOSYS)
    }
    /// `inotify_add_watch(fd, path, mask)`: the watch descriptor.
    fn inotify_add_watch(&self, fd: i32, path: &[u8], mask: u32) -> SysResult<i32> {
        let _ = (fd, path, mask);
        Err(Errno::EBADF)
    }
    /// `inotify_rm_watch(fd, wd)`.
    fn inotify_rm_watch(&self, fd: i32, wd: i32) -> SysResult<()> {
        let _ = (fd, wd);
        Err(Errno::EBADF)
    }
    // ---- System V IPC and POSIX message queues ------------------------
    //
    // Objects of the host's IPC namespace (on Linux the host kernel's, as
    // under qemu-user). Flags and commands use Linux's values; pointers
    // are host buffers the core filled or will copy out. A host without
    // them keeps the defaults: `ENOSYS`, as a kernel built without
    // `CONFIG_SYSVIPC` and `CONFIG_POSIX_MQUEUE` answers.

    /// `msgget(key, flags)`, `semget(key, arg, flags)` (`arg` semaphores)
    /// or `shmget(key, arg, flags)` (`arg` bytes): the object's id.
    fn ipc_get(&self, kind: IpcKind, key: i32, arg: u64, flags: i32) -> SysResult<i32> {
        let _ = (kind, key, arg, flags);
        Err(Errno::ENOSYS)
    }

    /// `msgctl`, `semctl` (with `semnum`) or `shmctl` command `cmd` (a
    /// Linux command, without `IPC_64`) of object `id`: the call's result.
    fn ipc_ctl(
        &self,
        kind: IpcKind,
        id: i32,
        semnum: i32,
        cmd: i32,
        arg: IpcCtl<'_>,
    ) -> SysResult<i64> {
        let _ = (kind, id, semnum, cmd, arg);
        Err(Errno::ENOSYS)
    }

    /// `msgsnd(id, msg, msg.len() - 8, flags)`: `msg` is a `struct
    /// msgbuf` (the 8-byte type, then the text). Blocks (unless
    /// `IPC_NOWAIT`) so that a guest signal ends it with `EINTR`.
    fn msgsnd(&self, id: i32, msg: &[u8], flags: i32) -> SysResult<()> {
        let _ = (id, msg, flags);
        Err(Errno::ENOSYS)
    }

    /// `msgrcv(id, buf, buf.len() - 8, typ, flags)` into a `struct
    /// msgbuf`: the text's length. Blocks as [`HostOs::msgsnd`] does.
    fn msgrcv(&self, id: i32, buf: &mut [u8], typ: i64, flags: i32) -> SysResult<usize> {
        let _ = (id, buf, typ, flags);
        Err(Errno::ENOSYS)
    }

    /// `semtimedop(id, ops, timeout)` (a relative timeout; `None` waits
    /// for good). Blocks as [`HostOs::msgsnd`] does. `SEM_UNDO` changes
    /// are undone when the process ends (every guest process is one of
    /// the host's, or the host undoes them itself).
    fn semop(&self, id: i32, ops: &[SemBuf], timeout: Option<Timespec>) -> SysResult<()> {
        let _ = (id, ops, timeout);
        Err(Errno::ENOSYS)
    }

    /// Attach shared memory segment `id` at `[addr, addr+len)` (page
    /// aligned, inside a reservation, `len` the segment's size in whole
    /// pages), replacing what is mapped there, read-only with `readonly`;
    /// the memory is the segment's, seen by every process that attaches
    /// it and kept by a child this host forks. A later `discard` of the
    /// range detaches it.
    fn shm_attach(&self, id: i32, addr: *mut u8, len: usize, readonly: bool) -> SysResult<()> {
        let _ = (id, addr, len, readonly);
        Err(Errno::ENOSYS)
    }

    /// `mq_open(name, flags, mode, attr)` (the name without the leading
    /// `/`, as glibc passes it): a descriptor.
    fn mq_open(&self, name: &[u8], flags: i32, mode: u32, attr: Option<&MqAttr>) -> SysResult<i32> {
        let _ = (name, flags, mode, attr);
        Err(Errno::ENOSYS)
    }

    /// `mq_unlink(name)`.
    fn mq_unlink(&self, name: &[u8]) -> SysResult<()> {
        let _ = name;
        Err(Errno::ENOSYS)
    }

    /// `mq_timedsend(fd, msg, prio, deadline)` (`deadline` on
    /// `CLOCK_REALTIME`, `None`: none). Blocks as [`HostOs::msgsnd`] does.
    fn mq_timedsend(
        &self,
        fd: i32,
        msg: &[u8],
        prio: u32,
        deadline: Option<Timespec>,
    ) -> SysResult<()> {
        let _ = (fd, msg, prio, deadline);
        Err(Errno::ENOSYS)
    }

    /// `mq_timedreceive(fd, buf, deadline)`: the message's length and
    /// priority. Blocks as [`HostOs::msgsnd`] does.
    fn mq_timedreceive(
        &self,
        fd: i32,
        buf: &mut [u8],
        deadline: Option<Timespec>,
    ) -> SysResult<(usize, u32)> {
        let _ = (fd, buf, deadline);
        Err(Errno::ENOSYS)
    }

    /// `mq_notify(fd, notice)` (`None`: unregister).
    fn mq_notify(&self, fd: i32, notice: Option<&MqNotify>) -> SysResult<()> {
        let _ = (fd, notice);
        Err(Errno::ENOSYS)
    }

    /// `mq_getsetattr(fd, new)`: the attributes before the change.
    fn mq_getsetattr(&self, fd: i32, new: Option<&MqAttr>) -> SysResult<MqAttr> {
        let _ = (fd, new);
        Err(Errno::ENOSYS)
    }

    /// `ioprio_get`/`ioprio_set` of host thread `tid` (0: the caller):
    /// the priority after setting it to `set`, if given. Default: the
    /// kernel's default class and level (`IOPRIO_CLASS_NONE`, 0), which
    /// setting keeps; any other is `EPERM`.
    fn ioprio(&self, tid: i32, set: Option<i32>) -> SysResult<i32> {
        let _ = tid;
        match set {
            None | Some(0) => Ok(0),
            Some(_) => Err(Errno::EPERM),
        }
    }
    fn kill(&self, pid: i32, sig: i32) -> SysResult<()> {
        let _ = (pid, sig);
        Err(Errno::ESRCH)
    }
    /// `tgkill(tgid, tid, sig)` of a thread of another process.
    /// Default: no such process (`ESRCH`).
    fn tgkill(&self, tgid: i32, tid: i32, sig: i32) -> SysResult<()> {
        let _ = (tgid, tid, sig);
        Err(Errno::ESRCH)
    }
    /// `rt_sigqueueinfo(pid, sig, info)` (`tid` `None`) or
    /// `rt_tgsigqueueinfo(pid, tid, sig, info)` to another process, with
    /// the caller's `siginfo_t` as the guest wrote it (riscv64's layout;
    /// the host checks its `si_code` as Linux does). Default: `ESRCH`.
    fn sigqueue(&self, pid: i32, tid: Option<i32>, sig: i32, info: &[u8; 128]) -> SysResult<()> {
        let _ = (pid, tid, sig, info);
        Err(Errno::ESRCH)
    }

    fn setpgid(&self, pid: i32, pgid: i32) -> SysResult<()> {
        let _ = (pid, pgid);
        Err(Errno::ENOSYS)
    }
    fn getpgid(&self, pid: i32) -> SysResult<i32> {
        let _ = pid;
        Err(Errno::ENOSYS)
    }
    fn setsid(&self) -> SysResult<i32> {
        Err(Errno::ENOSYS)
    }
    fn getsid(&self, pid: i32) -> SysResult<i32> {
        let _ = pid;
        Err(Errno::ENOSYS)
    }
    /// `ioctl(fd, TIOCGPGRP)`.
    fn tcgetpgrp(&self, fd: i32) -> SysResult<i32> {
        let _ = fd;
        Err(Errno::ENOTTY)
    }
    /// `ioctl(fd, TIOCSPGRP, pgrp)`.
    fn tcsetpgrp(&self, fd: i32, pgrp: i32) -> SysResult<()> {
        let _ = (fd, pgrp);
        Err(Errno::ENOTTY)
    }
    /// `prctl(PR_SET_PDEATHSIG, sig)` when `set` is given, then the
    /// current value (`PR_GET_PDEATHSIG`).
    fn pdeathsig(&self, set: Option<i32>) -> SysResult<i32> {
        let _ = set;
        Err(Errno::ENOSYS)
    }
    /// CPU time used by the children that were waited for (user and
    /// system, as `getrusage(RUSAGE_CHILDREN)` counts it). Default: none.
    fn children_cpu_time(&self) -> SysResult<Timespec> {
        Ok(Timespec::default())
    }
    /// `getrusage(who)`: what this process (all its threads), the
    /// calling thread, or the children it waited for have used, as
    /// `struct rusage`'s 18 longs: user and system time (two timevals),
    /// then `ru_maxrss` in KiB and the other counters (faults, block I/O,
    /// context switches). The guest process is this host process (or
    /// thread), so what the host counts for it is the guest's, pvm's own
    /// work included as a native process's kernel work is. Default: CPU
    /// time only, as user time; the counters zero.
    fn rusage(&self, who: RusageWho) -> SysResult<[i64; 18]> {
        use crate::abi::CLOCK_PROCESS_CPUTIME_ID;
        let t = match who {
            RusageWho::Process => self.clock_gettime(CLOCK_PROCESS_CPUTIME_ID)?,
            RusageWho::Thread => self
                .clock_gettime(crate::abi::CLOCK_THREAD_CPUTIME_ID)
                .or_else(|_| self.clock_gettime(CLOCK_PROCESS_CPUTIME_ID))?,
            RusageWho::Children => self.children_cpu_time()?,
        };
        let mut ru = [0; 18];
        ru[0] = t.sec;
        ru[1] = t.nsec / 1000;
        Ok(ru)
    }
    /// The guest's `SA_NOCLDSTOP` and `SA_NOCLDWAIT` for `SIGCHLD`, which
    /// decide when the host reports children and whether it reaps them.
    /// Called before [`HostOs::set_signal_action`] for `SIGCHLD`.
    fn set_child_signal_flags(&self, nocldstop: bool, nocldwait: bool) {
        let _ = (nocldstop, nocldwait);
    }

    /// Publish how many signals this process has queued (those that
    /// count against `RLIMIT_SIGPENDING`), for the other guest processes
    /// of its tree: Linux counts the limit per real user, across
    /// processes. Default: nothing to publish.
    fn publish_queued(&self, n: usize) {
        let _ = n;
    }
    /// The signals queued for the other guest processes of this one's
    /// real user, as they published them ([`HostOs::publish_queued`]).
    /// Default: 0 (no other process).
    fn others_queued(&self) -> u64 {
        0
    }

    /// Publish the System V semaphore waits this process's threads are
    /// parked in while they take turns on one host thread (a wait the
    /// host does not count itself; see [`crate::syscall`]'s `ipc`): each
    /// wait once, with how many threads wait so, replacing what was
    /// published before, for the other guest processes' `GETNCNT` and
    /// `GETZCNT` ([`HostOs::others_sem_waiters`]). Default: nothing to
    /// publish (no other process).
    fn publish_sem_waits(&self, waits: &[(crate::process::SemWait, u32)]) {
        let _ = waits;
    }
    /// How many threads of the other guest processes are parked waiting
    /// as `wait` says, as they published them
    /// ([`HostOs::publish_sem_waits`]). Default: 0 (no other process).
    fn others_sem_waiters(&self, wait: crate::process::SemWait) -> u64 {
        let _ = wait;
        0
    }

    // ---- limits -----------------------------------------------------------

    /// The limit counters this guest process shares with the rest of its
    /// process tree (see [`crate::limits`]), in memory every process of
    /// the tree sees. Default: none (each process counts for itself).
    fn tree_counters(&self) -> Option<&crate::limits::TreeCounters> {
        None
    }

    // ---- diagnostics ----------------------------------------------------

    /// Write a diagnostic line (strace output, fatal messages) to the
    /// host's error console. Never fails visibly.
    fn log(&self, args: fmt::Arguments<'_>);

    /// Log translated host code at `addr` (`-d out_asm`): disassembled
    /// where the host can, else as hex bytes.
    fn log_host_code(&self, addr: u64, code: &[u8]) {
        for (i, chunk) in code.chunks(16).enumerate() {
            let mut line = alloc::string::String::new();
            for b in chunk {
                let _ = fmt::Write::write_fmt(&mut line, format_args!("{b:02x} "));
            }
            self.log(format_args!("  {:#x}:  {line}", addr + 16 * i as u64));
        }
    }
}

/// The Linux values of `AT_FDCWD` and `AT_EMPTY_PATH` (defined in
/// [`crate::abi`]), which `HostOs` file calls take.
pub use crate::abi::{AT_EMPTY_PATH, AT_FDCWD};

/// The number of entries Linux's descriptor table has once it must hold
/// descriptor `fd`: the first 64 (`NR_OPEN_DEFAULT`), then a power of two
/// times 128 (`alloc_fdtable`). A table never shrinks while the process
/// lives; a forked child's is sized for the highest descriptor it inherits.
/// Hosts answering [`HostOs::fd_table_end`] use it.
pub const fn linux_fd_table_size(fd: usize) -> usize {
    if fd < 64 {
        64
    } else {
        128 * (fd / 128 + 1).next_power_of_two()
    }
}
