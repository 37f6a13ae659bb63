//! `--strace`: one line per guest system call, in strace's style:
//! `openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3`.
//!
//! Lines are formatted after the call returns, so output buffers (`read`,
//! `readlinkat`, `fstat`...) can be shown with what the call put there, as
//! strace does. Every argument is read through the checked
//! [`GuestMemory`] accessors; an unreadable one prints as a hex pointer.
//! Names come from [`super::nr`]; argument decodings are [`spec`].

use super::abi;
use super::nr::*;
use crate::memory::GuestMemory;
use crate::signal;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// strace's default `-s 32`: longest string shown before `...`.
const MAX_STR: usize = 32;

/// How to show one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum A {
    /// `int`, signed decimal.
    Int,
    /// `long`/`off_t`, signed decimal.
    Long,
    /// `size_t`, unsigned decimal.
    ULong,
    /// A pointer: `NULL` or hex.
    Ptr,
    /// A file descriptor.
    Fd,
    /// A directory fd for `*at` calls (`AT_FDCWD`).
    DirFd,
    /// A NUL-terminated path, shown whole.
    Path,
    /// A buffer the call reads; its length is argument `n`.
    InBuf(usize),
    /// A buffer the call fills; its length is the return value.
    OutBuf,
    /// A buffer the call fills with a string whose length, NUL included,
    /// is the return value (`getcwd`).
    OutCStr,
    /// Random bytes the call fills (shown in hex, as strace does).
    RandBuf,
    OpenFlags,
    /// Flags of `dup3`/`pipe2` (`O_CLOEXEC`...), without an access mode.
    FdFlags,
    /// An iovec array the call reads (its length is argument 2).
    IovIn,
    /// An iovec array the call fills with the return value's bytes.
    IovOut,
    /// `mode` of `openat`, shown only with `O_CREAT`/`O_TMPFILE`.
    OpenMode,
    /// Permission bits in octal.
    Mode,
    AtFlags,
    AccessMode,
    Prot,
    MapFlags,
    Whence,
    Signal,
    SigHow,
    /// A `sigset_t *` the call reads.
    SigSet,
    Clock,
    FutexOp,
    FcntlCmd,
    /// The third `fcntl` argument, shown according to the command.
    FcntlArg,
    Ioctl,
    Resource,
    /// A `struct stat *` the call fills.
    StatOut,
    /// A `struct timespec *` the call reads.
    TimespecIn,
    /// A `struct timespec *` the call fills.
    TimespecOut,
    /// `struct utsname *` the call fills.
    Uname,
    /// An `int[2]` the call fills (`pipe2`).
    FdPair,
    Madvise,
    GrndFlags,
    MremapFlags,
    StatxFlags,
    StatxMask,
}

/// How to show the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum R {
    Dec,
    Hex,
}

use A::*;

/// The arguments of call `nr` that are descriptors: (index, is the
/// directory of a path argument `*at`-style, index of that path).
pub(super) fn fd_args(nr: u64) -> impl Iterator<Item = (usize, Option<usize>)> {
    let args: &[A] = spec(nr).map_or(&[], |(a, _)| a);
    args.iter().enumerate().filter_map(move |(i, k)| match k {
        Fd => Some((i, None)),
        DirFd => Some((
            i,
            args[i + 1..]
                .iter()
                .position(|k| *k == Path)
                .map(|j| i + 1 + j),
        )),
        _ => None,
    })
}

/// The decoding of each system call pvm knows how to show.
fn spec(nr: u64) -> Option<(&'static [A], R)> {
    let d = R::Dec;
    Some(match nr {
        READ => (&[Fd, OutBuf, ULong], d),
        WRITE => (&[Fd, InBuf(2), ULong], d),
        PREAD64 => (&[Fd, OutBuf, ULong, Long], d),
        PWRITE64 => (&[Fd, InBuf(2), ULong, Long], d),
        READV => (&[Fd, IovOut, Int], d),
        WRITEV => (&[Fd, IovIn, Int], d),
        OPENAT => (&[DirFd, Path, OpenFlags, OpenMode], d),
        CLOSE | FSYNC | FDATASYNC | DUP | FCHDIR => (&[Fd], d),
        LSEEK => (&[Fd, Long, Whence], d),
        NEWFSTATAT => (&[DirFd, Path, StatOut, AtFlags], d),
        FSTAT => (&[Fd, StatOut], d),
        STATX => (&[DirFd, Path, StatxFlags, StatxMask, Ptr], d),
        FACCESSAT => (&[DirFd, Path, AccessMode], d),
        FACCESSAT2 => (&[DirFd, Path, AccessMode, AtFlags], d),
        READLINKAT => (&[DirFd, Path, OutBuf, ULong], d),
        GETDENTS64 => (&[Fd, Ptr, ULong], d),
        MKDIRAT => (&[DirFd, Path, Mode], d),
        UNLINKAT => (&[DirFd, Path, AtFlags], d),
        RENAMEAT2 => (&[DirFd, Path, DirFd, Path, Int], d),
        SYMLINKAT => (&[Path, DirFd, Path], d),
        LINKAT => (&[DirFd, Path, DirFd, Path, AtFlags], d),
        FCHMODAT => (&[DirFd, Path, Mode], d),
        FCHMOD => (&[Fd, Mode], d),
        UTIMENSAT => (&[DirFd, Path, Ptr, AtFlags], d),
        FTRUNCATE => (&[Fd, Long], d),
        TRUNCATE => (&[Path, Long], d),
        FADVISE64 => (&[Fd, Long, Long, Int], d),
        WAIT4 => (&[Int, Ptr, Int, Ptr], d),
        STATFS => (&[Path, Ptr], d),
        FSTATFS => (&[Fd, Ptr], d),
        FCNTL => (&[Fd, FcntlCmd, FcntlArg], d),
        DUP3 => (&[Fd, Fd, FdFlags], d),
        PIPE2 => (&[FdPair, FdFlags], d),
        IOCTL => (&[Fd, Ioctl, Ptr], d),
        GETCWD => (&[OutCStr, ULong], d),
        CHDIR => (&[Path], d),
        UMASK => (&[Mode], d),
        BRK => (&[Ptr], R::Hex),
        MMAP => (&[Ptr, ULong, Prot, MapFlags, Fd, Long], R::Hex),
        MUNMAP => (&[Ptr, ULong], d),
        MPROTECT => (&[Ptr, ULong, Prot], d),
        MREMAP => (&[Ptr, ULong, ULong, MremapFlags, Ptr], R::Hex),
        MADVISE => (&[Ptr, ULong, Madvise], d),
        MSYNC => (&[Ptr, ULong, Int], d),
        EXIT | EXIT_GROUP => (&[Int], d),
        GETPID | GETTID | GETPPID | GETUID | GETEUID | GETGID | GETEGID | SCHED_YIELD | SETSID
        | GETPGID => (&[], d),
        UNAME => (&[Uname], d),
        CLOCK_GETTIME | CLOCK_GETRES => (&[Clock, TimespecOut], d),
        GETTIMEOFDAY => (&[Ptr, Ptr], d),
        NANOSLEEP => (&[TimespecIn, Ptr], d),
        CLOCK_NANOSLEEP => (&[Clock, Int, TimespecIn, Ptr], d),
        GETRANDOM => (&[RandBuf, ULong, GrndFlags], d),
        SET_TID_ADDRESS => (&[Ptr], d),
        SET_ROBUST_LIST => (&[Ptr, ULong], d),
        RSEQ => (&[Ptr, ULong, Int, Ptr], d),
        PRLIMIT64 => (&[Int, Resource, Ptr, Ptr], d),
        GETRLIMIT | SETRLIMIT => (&[Resource, Ptr], d),
        SYSINFO | TIMES => (&[Ptr], d),
        GETRUSAGE => (&[Int, Ptr], d),
        SCHED_GETAFFINITY => (&[Int, ULong, Ptr], d),
        FUTEX => (&[Ptr, FutexOp, Int, Ptr, Ptr, Int], d),
        RT_SIGACTION => (&[Signal, Ptr, Ptr, ULong], d),
        RT_SIGPROCMASK => (&[SigHow, SigSet, Ptr, ULong], d),
        SIGALTSTACK => (&[Ptr, Ptr], d),
        PPOLL => (&[Ptr, ULong, TimespecIn, Ptr, ULong], d),
        KILL => (&[Int, Signal], d),
        TKILL => (&[Int, Signal], d),
        TGKILL => (&[Int, Int, Signal], d),
        RISCV_HWPROBE => (&[Ptr, ULong, ULong, Ptr, Int], d),
        RISCV_FLUSH_ICACHE => (&[Ptr, Ptr, Int], d),
        EPOLL_CREATE1 => (&[FdFlags], d),
        EPOLL_CTL => (&[Fd, Int, Fd, Ptr], d),
        EPOLL_PWAIT => (&[Fd, Ptr, Int, Int, Ptr, ULong], d),
        EPOLL_PWAIT2 => (&[Fd, Ptr, Int, TimespecIn, Ptr, ULong], d),
        EVENTFD2 => (&[ULong, FdFlags], d),
        TIMERFD_CREATE => (&[Clock, FdFlags], d),
        TIMERFD_SETTIME => (&[Fd, Int, Ptr, Ptr], d),
        TIMERFD_GETTIME => (&[Fd, Ptr], d),
        TIMER_CREATE => (&[Clock, Ptr, Ptr], d),
        TIMER_SETTIME => (&[Int, Int, Ptr, Ptr], d),
        TIMER_GETTIME => (&[Int, Ptr], d),
        TIMER_GETOVERRUN | TIMER_DELETE => (&[Int], d),
        SIGNALFD4 => (&[Fd, SigSet, ULong, FdFlags], d),
        PSELECT6 => (&[Int, Ptr, Ptr, Ptr, TimespecIn, Ptr], d),
        SOCKET => (&[Int, Int, Int], d),
        SOCKETPAIR => (&[Int, Int, Int, FdPair], d),
        BIND | CONNECT => (&[Fd, Ptr, Int], d),
        LISTEN | SHUTDOWN | FLOCK => (&[Fd, Int], d),
        ACCEPT | GETSOCKNAME | GETPEERNAME => (&[Fd, Ptr, Ptr], d),
        ACCEPT4 => (&[Fd, Ptr, Ptr, FdFlags], d),
        SENDTO => (&[Fd, InBuf(2), ULong, Int, Ptr, Int], d),
        RECVFROM => (&[Fd, OutBuf, ULong, Int, Ptr, Ptr], d),
        SENDMSG | RECVMSG => (&[Fd, Ptr, Int], d),
        SENDMMSG => (&[Fd, Ptr, Int, Int], d),
        RECVMMSG => (&[Fd, Ptr, Int, Int, TimespecIn], d),
        SETSOCKOPT => (&[Fd, Int, Int, Ptr, Int], d),
        GETSOCKOPT => (&[Fd, Int, Int, Ptr, Ptr], d),
        MEMFD_CREATE => (&[Path, Int], d),
        SENDFILE => (&[Fd, Fd, Ptr, ULong], d),
        COPY_FILE_RANGE | SPLICE => (&[Fd, Ptr, Fd, Ptr, ULong, Int], d),
        TEE => (&[Fd, Fd, ULong, Int], d),
        FALLOCATE => (&[Fd, Int, Long, Long], d),
        CLOSE_RANGE => (&[Int, Int, Int], d),
        FCHOWNAT => (&[DirFd, Path, Int, Int, AtFlags], d),
        FCHOWN => (&[Fd, Int, Int], d),
        SETXATTR | LSETXATTR => (&[Path, Path, InBuf(3), ULong, Int], d),
        FSETXATTR => (&[Fd, Path, InBuf(3), ULong, Int], d),
        GETXATTR | LGETXATTR => (&[Path, Path, OutBuf, ULong], d),
        FGETXATTR => (&[Fd, Path, OutBuf, ULong], d),
        LISTXATTR | LLISTXATTR => (&[Path, Ptr, ULong], d),
        FLISTXATTR => (&[Fd, Ptr, ULong], d),
        REMOVEXATTR | LREMOVEXATTR => (&[Path, Path], d),
        FREMOVEXATTR => (&[Fd, Path], d),
        SYNC => (&[], d),
        SYNCFS => (&[Fd], d),
        MQ_OPEN => (&[Ptr, OpenFlags, OpenMode, Ptr], d),
        MQ_UNLINK => (&[Ptr], d),
        MQ_TIMEDSEND => (&[Fd, Ptr, ULong, Int, TimespecIn], d),
        MQ_TIMEDRECEIVE => (&[Fd, Ptr, ULong, Ptr, TimespecIn], d),
        MQ_NOTIFY => (&[Fd, Ptr], d),
        MQ_GETSETATTR => (&[Fd, Ptr, Ptr], d),
        MSGGET => (&[Int, Int], d),
        MSGSND => (&[Int, Ptr, ULong, Int], d),
        MSGRCV => (&[Int, Ptr, ULong, Long, Int], d),
        MSGCTL | SHMCTL => (&[Int, Int, Ptr], d),
        SEMGET | SHMGET => (&[Int, ULong, Int], d),
        SEMOP => (&[Int, Ptr, ULong], d),
        SEMTIMEDOP => (&[Int, Ptr, ULong, TimespecIn], d),
        SEMCTL => (&[Int, Int, Int, Ptr], d),
        SHMAT => (&[Int, Ptr, Int], R::Hex),
        SHMDT => (&[Ptr], d),
        SETRESUID | SETRESGID => (&[Int, Int, Int], d),
        GETRESUID | GETRESGID => (&[Ptr, Ptr, Ptr], d),
        GETGROUPS | SETGROUPS => (&[Int, Ptr], d),
        GETPRIORITY => (&[Int, Int], d),
        SETPRIORITY => (&[Int, Int, Int], d),
        _ => return None,
    })
}

/// Format one call. `ret` is `None` for calls that do not return (`exit`).
pub fn format_call(mem: &GuestMemory, nr: u64, a: &[u64; 6], ret: Option<i64>) -> String {
    let mut s = String::new();
    match name(nr) {
        Some(n) => s.push_str(n),
        None => {
            let _ = write!(s, "syscall_{nr:#x}");
        }
    }
    s.push('(');
    let (args, rk): (&[A], R) = match spec(nr) {
        Some((args, rk)) => (args, rk),
        None => (&[Ptr, Ptr, Ptr, Ptr, Ptr, Ptr], R::Dec),
    };
    let nargs = match nr {
        FUTEX => futex_nargs(a[1]),
        MREMAP if a[3] & abi::MREMAP_FIXED == 0 => 4,
        _ => args.len(),
    };
    let mut first = true;
    for (i, kind) in args.iter().take(nargs).enumerate() {
        let mut one = String::new();
        if !format_arg(&mut one, mem, *kind, i, a, ret) {
            continue;
        }
        if !first {
            s.push_str(", ");
        }
        first = false;
        s.push_str(&one);
    }
    s.push_str(") = ");
    match ret {
        None => s.push('?'),
        Some(r) if (-4095..0).contains(&r) => {
            let e = (-r) as i32;
            let (ename, msg) = errno_text(e);
            let _ = write!(s, "-1 {ename} ({msg})");
        }
        Some(r) => match rk {
            R::Hex => {
                let _ = write!(s, "{:#x}", r as u64);
            }
            R::Dec => {
                let _ = write!(s, "{r}");
            }
        },
    }
    s
}

fn futex_nargs(op: u64) -> usize {
    match op & abi::FUTEX_CMD_MASK {
        0 => 4,      // WAIT: uaddr, op, val, timeout
        1 | 7 => 3,  // WAKE, UNLOCK_PI
        6 | 8 => 4,  // LOCK_PI, TRYLOCK_PI
        9 | 10 => 6, // WAIT_BITSET / WAKE_BITSET
        _ => 6,
    }
}

/// Append argument `i` (of kind `k`) to `s`; `false` when it is not shown.
fn format_arg(
    s: &mut String,
    mem: &GuestMemory,
    k: A,
    i: usize,
    a: &[u64; 6],
    ret: Option<i64>,
) -> bool {
    let v = a[i];
    let ok_ret = ret.filter(|r| *r >= 0);
    match k {
        Int => push_fmt(s, format_args!("{}", v as i32)),
        Long => push_fmt(s, format_args!("{}", v as i64)),
        ULong => push_fmt(s, format_args!("{v}")),
        Ptr => ptr(s, v),
        Fd => push_fmt(s, format_args!("{}", v as i32)),
        DirFd => {
            if v as i32 == crate::host::AT_FDCWD {
                s.push_str("AT_FDCWD")
            } else {
                push_fmt(s, format_args!("{}", v as i32))
            }
        }
        Path => match mem.read_cstr(v, 4096) {
            Ok(p) if v != 0 => quote(s, &p, usize::MAX, false),
            _ => ptr(s, v),
        },
        InBuf(n) => buffer(s, mem, v, a[n], false),
        OutBuf => match ok_ret {
            Some(r) => buffer(s, mem, v, r as u64, false),
            None => ptr(s, v),
        },
        OutCStr => match ok_ret {
            Some(r) if r > 0 => buffer(s, mem, v, r as u64 - 1, false),
            _ => ptr(s, v),
        },
        RandBuf => match ok_ret {
            Some(r) => buffer(s, mem, v, r as u64, true),
            None => ptr(s, v),
        },
        OpenFlags => open_flags(s, v as i32),
        FdFlags => flags(
            s,
            v as u32 as u64,
            &[
                (abi::O_CLOEXEC as u64, "O_CLOEXEC"),
                (abi::O_NONBLOCK as u64, "O_NONBLOCK"),
                (0o40000, "O_DIRECT"),
            ],
            "0",
        ),
        IovIn => iovecs(s, mem, v, a[2], None),
        IovOut => match ok_ret {
            Some(r) => iovecs(s, mem, v, a[2], Some(r as u64)),
            None => ptr(s, v),
        },
        OpenMode => {
            if a[2] as i32 & abi::O_CREAT == 0 && a[2] as i32 & abi::O_TMPFILE != abi::O_TMPFILE {
                return false;
            }
            push_fmt(s, format_args!("0{:02o}", v as u32))
        }
        Mode => push_fmt(s, format_args!("0{:02o}", v as u32)),
        AtFlags => flags(
            s,
            v,
            &[
                (0x100, "AT_SYMLINK_NOFOLLOW"),
                (0x200, "AT_REMOVEDIR"),
                (0x400, "AT_SYMLINK_FOLLOW"),
                (0x800, "AT_NO_AUTOMOUNT"),
                (0x1000, "AT_EMPTY_PATH"),
                (0x2000, "AT_STATX_FORCE_SYNC"),
                (0x4000, "AT_STATX_DONT_SYNC"),
            ],
            "0",
        ),
        AccessMode => flags(s, v, &[(4, "R_OK"), (2, "W_OK"), (1, "X_OK")], "F_OK"),
        Prot => flags(
            s,
            v,
            &[
                (1, "PROT_READ"),
                (2, "PROT_WRITE"),
                (4, "PROT_EXEC"),
                (0x0100_0000, "PROT_GROWSDOWN"),
                (0x0200_0000, "PROT_GROWSUP"),
            ],
            "PROT_NONE",
        ),
        MapFlags => {
            let kind = match v & abi::MAP_TYPE {
                1 => "MAP_SHARED",
                2 => "MAP_PRIVATE",
                3 => "MAP_SHARED_VALIDATE",
                _ => "",
            };
            s.push_str(kind);
            let rest = v & !abi::MAP_TYPE;
            let names: &[(u64, &str)] = &[
                (0x10, "MAP_FIXED"),
                (0x20, "MAP_ANONYMOUS"),
                (0x100, "MAP_GROWSDOWN"),
                (0x800, "MAP_DENYWRITE"),
                (0x1000, "MAP_EXECUTABLE"),
                (0x2000, "MAP_LOCKED"),
                (0x4000, "MAP_NORESERVE"),
                (0x8000, "MAP_POPULATE"),
                (0x1_0000, "MAP_NONBLOCK"),
                (0x2_0000, "MAP_STACK"),
                (0x4_0000, "MAP_HUGETLB"),
                (0x8_0000, "MAP_SYNC"),
                (0x10_0000, "MAP_FIXED_NOREPLACE"),
            ];
            if rest != 0 || kind.is_empty() {
                if !kind.is_empty() {
                    s.push('|');
                }
                flags(s, rest, names, "0");
            }
        }
        Whence => match v {
            0 => s.push_str("SEEK_SET"),
            1 => s.push_str("SEEK_CUR"),
            2 => s.push_str("SEEK_END"),
            3 => s.push_str("SEEK_DATA"),
            4 => s.push_str("SEEK_HOLE"),
            _ => push_fmt(s, format_args!("{v:#x} /* SEEK_??? */")),
        },
        Signal => match signal::name(v as i32) {
            Some(n) => s.push_str(n),
            None => push_fmt(s, format_args!("{}", v as i32)),
        },
        SigHow => match v {
            abi::SIG_BLOCK => s.push_str("SIG_BLOCK"),
            abi::SIG_UNBLOCK => s.push_str("SIG_UNBLOCK"),
            abi::SIG_SETMASK => s.push_str("SIG_SETMASK"),
            _ => push_fmt(s, format_args!("{v:#x} /* SIG_??? */")),
        },
        SigSet => match mem.read_u64(v) {
            Ok(set) if v != 0 => sigset(s, set),
            _ => ptr(s, v),
        },
        Clock => {
            let names = [
                "CLOCK_REALTIME",
                "CLOCK_MONOTONIC",
                "CLOCK_PROCESS_CPUTIME_ID",
                "CLOCK_THREAD_CPUTIME_ID",
                "CLOCK_MONOTONIC_RAW",
                "CLOCK_REALTIME_COARSE",
                "CLOCK_MONOTONIC_COARSE",
                "CLOCK_BOOTTIME",
                "CLOCK_REALTIME_ALARM",
                "CLOCK_BOOTTIME_ALARM",
                "CLOCK_SGI_CYCLE",
                "CLOCK_TAI",
            ];
            match names.get(v as usize) {
                Some(n) => s.push_str(n),
                None => push_fmt(s, format_args!("{}", v as i32)),
            }
        }
        FutexOp => {
            let cmd = v & abi::FUTEX_CMD_MASK;
            let names = [
                "FUTEX_WAIT",
                "FUTEX_WAKE",
                "FUTEX_FD",
                "FUTEX_REQUEUE",
                "FUTEX_CMP_REQUEUE",
                "FUTEX_WAKE_OP",
                "FUTEX_LOCK_PI",
                "FUTEX_UNLOCK_PI",
                "FUTEX_TRYLOCK_PI",
                "FUTEX_WAIT_BITSET",
                "FUTEX_WAKE_BITSET",
            ];
            match names.get(cmd as usize) {
                Some(n) => s.push_str(n),
                None => push_fmt(s, format_args!("{cmd}")),
            }
            if v & 128 != 0 {
                s.push_str("_PRIVATE");
            }
            if v & abi::FUTEX_CLOCK_REALTIME != 0 {
                s.push_str("|FUTEX_CLOCK_REALTIME");
            }
        }
        FcntlCmd => match fcntl_name(v as i32) {
            Some(n) => s.push_str(n),
            None => push_fmt(s, format_args!("{:#x} /* F_??? */", v as i32)),
        },
        FcntlArg => match a[1] as i32 {
            1 | 3 | 9 | 1032 | 1034 => return false,
            2 => {
                if v & 1 != 0 {
                    s.push_str("FD_CLOEXEC")
                } else {
                    push_fmt(s, format_args!("{v}"))
                }
            }
            4 => open_flags(s, v as i32),
            5..=7 | 36..=38 => ptr(s, v),
            _ => push_fmt(s, format_args!("{}", v as i64)),
        },
        Ioctl => match v {
            abi::TCGETS => s.push_str("TCGETS"),
            abi::TCSETS => s.push_str("TCSETS"),
            abi::TCSETSW => s.push_str("TCSETSW"),
            abi::TCSETSF => s.push_str("TCSETSF"),
            abi::TIOCGWINSZ => s.push_str("TIOCGWINSZ"),
            0x5414 => s.push_str("TIOCSWINSZ"),
            0x540f => s.push_str("TIOCGPGRP"),
            0x541b => s.push_str("FIONREAD"),
            _ => push_fmt(s, format_args!("{v:#x}")),
        },
        Resource => {
            let names = [
                "RLIMIT_CPU",
                "RLIMIT_FSIZE",
                "RLIMIT_DATA",
                "RLIMIT_STACK",
                "RLIMIT_CORE",
                "RLIMIT_RSS",
                "RLIMIT_NPROC",
                "RLIMIT_NOFILE",
                "RLIMIT_MEMLOCK",
                "RLIMIT_AS",
                "RLIMIT_LOCKS",
                "RLIMIT_SIGPENDING",
                "RLIMIT_MSGQUEUE",
                "RLIMIT_NICE",
                "RLIMIT_RTPRIO",
                "RLIMIT_RTTIME",
            ];
            match names.get(v as usize) {
                Some(n) => s.push_str(n),
                None => push_fmt(s, format_args!("{v:#x} /* RLIMIT_??? */")),
            }
        }
        StatOut => {
            let mut b = [0u8; abi::STAT_SIZE];
            if ok_ret.is_some() && mem.read_bytes(v, &mut b).is_ok() {
                let mode = abi::le_u32(&b, 16);
                s.push_str("{st_mode=");
                file_mode(s, mode);
                let size = abi::le_u64(&b, 48) as i64;
                let rdev = abi::le_u64(&b, 32);
                if matches!(mode & abi::S_IFMT, 0o020000 | 0o060000) {
                    push_fmt(
                        s,
                        format_args!(
                            ", st_rdev=makedev({:#x}, {:#x}), ...}}",
                            abi::dev_major(rdev),
                            abi::dev_minor(rdev)
                        ),
                    );
                } else {
                    push_fmt(s, format_args!(", st_size={size}, ...}}"));
                }
            } else {
                ptr(s, v)
            }
        }
        TimespecIn => timespec(s, mem, v),
        TimespecOut => {
            if ok_ret.is_some() {
                timespec(s, mem, v)
            } else {
                ptr(s, v)
            }
        }
        Uname => {
            let mut b = [0u8; abi::UTSNAME_SIZE];
            if ok_ret.is_some() && mem.read_bytes(v, &mut b).is_ok() {
                let field = |i: usize| {
                    let f = &b[i * 65..(i + 1) * 65];
                    let n = f.iter().position(|&c| c == 0).unwrap_or(65);
                    Vec::from(&f[..n])
                };
                s.push_str("{sysname=");
                quote(s, &field(0), usize::MAX, false);
                s.push_str(", nodename=");
                quote(s, &field(1), usize::MAX, false);
                s.push_str(", ...}");
            } else {
                ptr(s, v)
            }
        }
        FdPair => match (mem.read_u32(v), mem.read_u32(v.wrapping_add(4))) {
            (Ok(r), Ok(w)) if ok_ret.is_some() => {
                push_fmt(s, format_args!("[{}, {}]", r as i32, w as i32))
            }
            _ => ptr(s, v),
        },
        Madvise => {
            let names = [
                "MADV_NORMAL",
                "MADV_RANDOM",
                "MADV_SEQUENTIAL",
                "MADV_WILLNEED",
                "MADV_DONTNEED",
            ];
            match (v, names.get(v as usize)) {
                (_, Some(n)) => s.push_str(n),
                (8, _) => s.push_str("MADV_FREE"),
                (14, _) => s.push_str("MADV_HUGEPAGE"),
                (15, _) => s.push_str("MADV_NOHUGEPAGE"),
                _ => push_fmt(s, format_args!("{}", v as i32)),
            }
        }
        StatxFlags => {
            if v & 0x6000 == 0 {
                s.push_str("AT_STATX_SYNC_AS_STAT");
                if v != 0 {
                    s.push('|');
                }
            }
            if v != 0 {
                format_arg(s, mem, AtFlags, i, a, ret);
            }
        }
        StatxMask => match v as u32 {
            0x7ff => s.push_str("STATX_BASIC_STATS"),
            0xfff => s.push_str("STATX_BASIC_STATS|STATX_BTIME"),
            _ => push_fmt(s, format_args!("{:#x}", v as u32)),
        },
        MremapFlags => flags(
            s,
            v,
            &[
                (1, "MREMAP_MAYMOVE"),
                (2, "MREMAP_FIXED"),
                (4, "MREMAP_DONTUNMAP"),
            ],
            "0",
        ),
        GrndFlags => flags(
            s,
            v,
            &[
                (1, "GRND_NONBLOCK"),
                (2, "GRND_RANDOM"),
                (4, "GRND_INSECURE"),
            ],
            "0",
        ),
    }
    true
}

fn push_fmt(s: &mut String, args: core::fmt::Arguments<'_>) {
    let _ = s.write_fmt(args);
}

fn ptr(s: &mut String, v: u64) {
    if v == 0 {
        s.push_str("NULL")
    } else {
        push_fmt(s, format_args!("{v:#x}"))
    }
}

fn timespec(s: &mut String, mem: &GuestMemory, v: u64) {
    let mut b = [0u8; 16];
    if v != 0 && mem.read_bytes(v, &mut b).is_ok() {
        let t = abi::decode_timespec(&b);
        push_fmt(s, format_args!("{{tv_sec={}, tv_nsec={}}}", t.sec, t.nsec))
    } else {
        ptr(s, v)
    }
}

/// `[{iov_base="...", iov_len=N}, ...]`; with `filled`, only that many
/// bytes of data are shown across the buffers (what `readv` returned).
fn iovecs(s: &mut String, mem: &GuestMemory, addr: u64, count: u64, filled: Option<u64>) {
    let count = count as i32;
    if !(0..=1024).contains(&count) || (addr == 0 && count > 0) {
        return ptr(s, addr);
    }
    let mut entries = Vec::new();
    for i in 0..count as u64 {
        let mut b = [0u8; 16];
        if mem.read_bytes(addr.wrapping_add(16 * i), &mut b).is_err() {
            return ptr(s, addr);
        }
        entries.push((abi::le_u64(&b, 0), abi::le_u64(&b, 8)));
    }
    s.push('[');
    let mut left = filled.unwrap_or(u64::MAX);
    for (i, (base, len)) in entries.into_iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str("{iov_base=");
        let shown = len.min(left);
        left -= shown;
        buffer(s, mem, base, shown, false);
        push_fmt(s, format_args!(", iov_len={len}}}"));
    }
    s.push(']');
}

/// `len` bytes at `addr`, quoted and cut at [`MAX_STR`].
fn buffer(s: &mut String, mem: &GuestMemory, addr: u64, len: u64, hex: bool) {
    let shown = len.min(MAX_STR as u64) as usize;
    let mut b = alloc::vec![0u8; shown];
    if mem.read_bytes(addr, &mut b).is_err() {
        return ptr(s, addr);
    }
    quote(s, &b, shown, hex);
    if len > shown as u64 {
        s.push_str("...");
    }
}

/// Quote `b` as a C string the way strace does (octal escapes for other
/// non-printable bytes, or `\xNN` for every byte when `hex`).
pub fn quote(s: &mut String, b: &[u8], max: usize, hex: bool) {
    s.push('"');
    let shown = &b[..b.len().min(max)];
    for (i, &c) in shown.iter().enumerate() {
        if hex {
            push_fmt(s, format_args!("\\x{c:02x}"));
            continue;
        }
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\r' => s.push_str("\\r"),
            0x0b => s.push_str("\\v"),
            0x0c => s.push_str("\\f"),
            0x20..=0x7e => s.push(c as char),
            _ => {
                // Short octal unless the next byte is an octal digit (which would
                // merge into the escape).
                let next_digit = shown.get(i + 1).is_some_and(|d| (b'0'..=b'7').contains(d));
                if next_digit {
                    push_fmt(s, format_args!("\\{c:03o}"))
                } else {
                    push_fmt(s, format_args!("\\{c:o}"))
                }
            }
        }
    }
    s.push('"');
    if b.len() > max {
        s.push_str("...");
    }
}

/// `A|B|0x40` for a bit set; `zero` when no bit is set.
fn flags(s: &mut String, v: u64, names: &[(u64, &str)], zero: &str) {
    if v == 0 {
        s.push_str(zero);
        return;
    }
    let mut rest = v;
    let mut first = true;
    for &(bit, n) in names {
        if rest & bit == bit {
            if !first {
                s.push('|');
            }
            s.push_str(n);
            rest &= !bit;
            first = false;
        }
    }
    if rest != 0 {
        if !first {
            s.push('|');
        }
        push_fmt(s, format_args!("{rest:#x}"));
    }
}

fn open_flags(s: &mut String, v: i32) {
    let acc = match v & abi::O_ACCMODE {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        2 => "O_RDWR",
        _ => "O_ACCMODE",
    };
    s.push_str(acc);
    let rest = (v & !abi::O_ACCMODE) as u32 as u64;
    if rest != 0 {
        s.push('|');
        flags(
            s,
            rest,
            &[
                (abi::O_CREAT as u64, "O_CREAT"),
                (abi::O_EXCL as u64, "O_EXCL"),
                (abi::O_NOCTTY as u64, "O_NOCTTY"),
                (abi::O_TRUNC as u64, "O_TRUNC"),
                (abi::O_APPEND as u64, "O_APPEND"),
                (abi::O_NONBLOCK as u64, "O_NONBLOCK"),
                (0o4010000, "O_SYNC"),
                (0o10000, "O_DSYNC"),
                (abi::O_ASYNC as u64, "O_ASYNC"),
                (0o40000, "O_DIRECT"),
                (0o100000, "O_LARGEFILE"),
                (0o20200000, "O_TMPFILE"),
                (abi::O_DIRECTORY as u64, "O_DIRECTORY"),
                (abi::O_NOFOLLOW as u64, "O_NOFOLLOW"),
                (0o1000000, "O_NOATIME"),
                (abi::O_CLOEXEC as u64, "O_CLOEXEC"),
                (abi::O_PATH as u64, "O_PATH"),
            ],
            "0",
        );
    }
}

fn file_mode(s: &mut String, mode: u32) {
    let t = match mode & abi::S_IFMT {
        abi::S_IFSOCK => "S_IFSOCK",
        abi::S_IFLNK => "S_IFLNK",
        abi::S_IFREG => "S_IFREG",
        abi::S_IFBLK => "S_IFBLK",
        abi::S_IFDIR => "S_IFDIR",
        abi::S_IFCHR => "S_IFCHR",
        abi::S_IFIFO => "S_IFIFO",
        _ => "",
    };
    push_fmt(s, format_args!("{t}|0{:02o}", mode & 0o7777));
}

fn sigset(s: &mut String, set: u64) {
    s.push('[');
    let mut first = true;
    for signo in 1..=64 {
        if set & (1u64 << (signo - 1)) != 0 {
            if !first {
                s.push(' ');
            }
            first = false;
            match signal::name(signo) {
                Some(n) => s.push_str(n.strip_prefix("SIG").unwrap_or(n)),
                None => push_fmt(s, format_args!("{signo}")),
            }
        }
    }
    s.push(']');
}

fn fcntl_name(cmd: i32) -> Option<&'static str> {
    Some(match cmd {
        0 => "F_DUPFD",
        1 => "F_GETFD",
        2 => "F_SETFD",
        3 => "F_GETFL",
        4 => "F_SETFL",
        5 => "F_GETLK",
        6 => "F_SETLK",
        7 => "F_SETLKW",
        8 => "F_SETOWN",
        9 => "F_GETOWN",
        36 => "F_OFD_GETLK",
        37 => "F_OFD_SETLK",
        38 => "F_OFD_SETLKW",
        1024 => "F_SETLEASE",
        1025 => "F_GETLEASE",
        1026 => "F_NOTIFY",
        1030 => "F_DUPFD_CLOEXEC",
        1031 => "F_SETPIPE_SZ",
        1032 => "F_GETPIPE_SZ",
        1033 => "F_ADD_SEALS",
        1034 => "F_GET_SEALS",
        _ => return None,
    })
}

/// strace's name and `strerror` text for errno `e`.
pub fn errno_text(e: i32) -> (&'static str, &'static str) {
    match e {
        1 => ("EPERM", "Operation not permitted"),
        2 => ("ENOENT", "No such file or directory"),
        3 => ("ESRCH", "No such process"),
        4 => ("EINTR", "Interrupted system call"),
        5 => ("EIO", "Input/output error"),
        6 => ("ENXIO", "No such device or address"),
        7 => ("E2BIG", "Argument list too long"),
        8 => ("ENOEXEC", "Exec format error"),
        9 => ("EBADF", "Bad file descriptor"),
        10 => ("ECHILD", "No child processes"),
        11 => ("EAGAIN", "Resource temporarily unavailable"),
        12 => ("ENOMEM", "Cannot allocate memory"),
        13 => ("EACCES", "Permission denied"),
        14 => ("EFAULT", "Bad address"),
        15 => ("ENOTBLK", "Block device required"),
        16 => ("EBUSY", "Device or resource busy"),
        17 => ("EEXIST", "File exists"),
        18 => ("EXDEV", "Invalid cross-device link"),
        19 => ("ENODEV", "No such device"),
        20 => ("ENOTDIR", "Not a directory"),
        21 => ("EISDIR", "Is a directory"),
        22 => ("EINVAL", "Invalid argument"),
        23 => ("ENFILE", "Too many open files in system"),
        24 => ("EMFILE", "Too many open files"),
        25 => ("ENOTTY", "Inappropriate ioctl for device"),
        26 => ("ETXTBSY", "Text file busy"),
        27 => ("EFBIG", "File too large"),
        28 => ("ENOSPC", "No space left on device"),
        29 => ("ESPIPE", "Illegal seek"),
        30 => ("EROFS", "Read-only file system"),
        31 => ("EMLINK", "Too many links"),
        32 => ("EPIPE", "Broken pipe"),
        33 => ("EDOM", "Numerical argument out of domain"),
        34 => ("ERANGE", "Numerical result out of range"),
        35 => ("EDEADLK", "Resource deadlock avoided"),
        36 => ("ENAMETOOLONG", "File name too long"),
        37 => ("ENOLCK", "No locks available"),
        38 => ("ENOSYS", "Function not implemented"),
        39 => ("ENOTEMPTY", "Directory not empty"),
        40 => ("ELOOP", "Too many levels of symbolic links"),
        42 => ("ENOMSG", "No message of desired type"),
        43 => ("EIDRM", "Identifier removed"),
        61 => ("ENODATA", "No data available"),
        62 => ("ETIME", "Timer expired"),
        71 => ("EPROTO", "Protocol error"),
        74 => ("EBADMSG", "Bad message"),
        75 => ("EOVERFLOW", "Value too large for defined data type"),
        84 => (
            "EILSEQ",
            "Invalid or incomplete multibyte or wide character",
        ),
        88 => ("ENOTSOCK", "Socket operation on non-socket"),
        95 => ("EOPNOTSUPP", "Operation not supported"),
        97 => ("EAFNOSUPPORT", "Address family not supported by protocol"),
        98 => ("EADDRINUSE", "Address already in use"),
        104 => ("ECONNRESET", "Connection reset by peer"),
        110 => ("ETIMEDOUT", "Connection timed out"),
        111 => ("ECONNREFUSED", "Connection refused"),
        115 => ("EINPROGRESS", "Operation now in progress"),
        122 => ("EDQUOT", "Disk quota exceeded"),
        125 => ("ECANCELED", "Operation canceled"),
        512 => ("ERESTARTSYS", "To be restarted"),
        _ => ("E???", "Unknown error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::Perm;
    use crate::testhost::TestHost;

    fn mem() -> GuestMemory {
        let m = GuestMemory::new(TestHost::leak(), 1 << 24).unwrap();
        m.map(0x1000, 0x2000, Perm::READ | Perm::WRITE, true)
            .unwrap();
        m
    }

    #[test]
    fn openat_line() {
        let m = mem();
        m.write_bytes(0x1000, b"/etc/ld.so.cache\0").unwrap();
        let a = [(-100i64) as u64, 0x1000, 0o2000000, 0, 0, 0];
        assert_eq!(
            format_call(&m, OPENAT, &a, Some(3)),
            r#"openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3"#
        );
        let a = [(-100i64) as u64, 0x1000, 0o1101, 0o644, 0, 0];
        assert_eq!(
            format_call(&m, OPENAT, &a, Some(-2)),
            r#"openat(AT_FDCWD, "/etc/ld.so.cache", O_WRONLY|O_CREAT|O_TRUNC, 0644) = -1 ENOENT (No such file or directory)"#
        );
    }

    #[test]
    fn buffers_are_escaped_and_truncated() {
        let m = mem();
        m.write_bytes(0x1000, b"hi\n\"x\\\x1b[0m\x7f\x001").unwrap();
        let a = [1, 0x1000, 13, 0, 0, 0];
        assert_eq!(
            format_call(&m, WRITE, &a, Some(13)),
            r#"write(1, "hi\n\"x\\\33[0m\177\0001", 13) = 13"#
        );
        let long = [b'a'; 40];
        m.write_bytes(0x1000, &long).unwrap();
        let a = [3, 0x1000, 100, 0, 0, 0];
        assert_eq!(
            format_call(&m, READ, &a, Some(40)),
            alloc::format!("read(3, \"{}\"..., 100) = 40", "a".repeat(32))
        );
        // An output buffer is a pointer when the call failed.
        assert_eq!(
            format_call(&m, READ, &a, Some(-9)),
            "read(3, 0x1000, 100) = -1 EBADF (Bad file descriptor)"
        );
    }

    #[test]
    fn iovecs_and_fd_flags() {
        let m = mem();
        m.write_bytes(0x1000, b"abcd").unwrap();
        let mut iov = [0u8; 32];
        iov[0..8].copy_from_slice(&0x1000u64.to_le_bytes());
        iov[8..16].copy_from_slice(&2u64.to_le_bytes());
        iov[16..24].copy_from_slice(&0x1002u64.to_le_bytes());
        iov[24..32].copy_from_slice(&2u64.to_le_bytes());
        m.write_bytes(0x1100, &iov).unwrap();
        let a = [3, 0x1100, 2, 0, 0, 0];
        assert_eq!(
            format_call(&m, WRITEV, &a, Some(4)),
            r#"writev(3, [{iov_base="ab", iov_len=2}, {iov_base="cd", iov_len=2}], 2) = 4"#
        );
        assert_eq!(
            format_call(&m, READV, &a, Some(3)),
            r#"readv(3, [{iov_base="ab", iov_len=2}, {iov_base="c", iov_len=2}], 2) = 3"#
        );
        m.write_bytes(0x1200, &[3, 0, 0, 0, 4, 0, 0, 0]).unwrap();
        assert_eq!(
            format_call(&m, PIPE2, &[0x1200, 0o2000000, 0, 0, 0, 0], Some(0)),
            "pipe2([3, 4], O_CLOEXEC) = 0"
        );
        assert_eq!(
            format_call(&m, DUP3, &[3, 9, 0, 0, 0, 0], Some(9)),
            "dup3(3, 9, 0) = 9"
        );
    }

    #[test]
    fn mmap_and_exit() {
        let m = mem();
        let a = [0, 8192, 3, 0x22, u64::MAX, 0];
        assert_eq!(
            format_call(&m, MMAP, &a, Some(0x7fff_f000)),
            "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff000"
        );
        assert_eq!(
            format_call(&m, EXIT_GROUP, &[0; 6], None),
            "exit_group(0) = ?"
        );
        assert_eq!(
            format_call(&m, 0x1ff, &[1, 2, 0, 0, 0, 0], Some(-38)),
            "syscall_0x1ff(0x1, 0x2, NULL, NULL, NULL, NULL) = -1 ENOSYS (Function not implemented)"
        );
    }

    #[test]
    fn stat_and_fcntl_and_futex() {
        let m = mem();
        m.write_bytes(0x1000, b"\0").unwrap();
        let st = crate::host::FileStat {
            mode: 0o100644,
            size: 1234,
            ..Default::default()
        };
        m.write_bytes(0x1100, &abi::encode_stat(&st)).unwrap();
        let a = [3, 0x1000, 0x1100, 0x1000, 0, 0];
        assert_eq!(
            format_call(&m, NEWFSTATAT, &a, Some(0)),
            r#"newfstatat(3, "", {st_mode=S_IFREG|0644, st_size=1234, ...}, AT_EMPTY_PATH) = 0"#
        );
        assert_eq!(
            format_call(&m, FCNTL, &[3, 1, 0, 0, 0, 0], Some(1)),
            "fcntl(3, F_GETFD) = 1"
        );
        assert_eq!(
            format_call(&m, FCNTL, &[3, 2, 1, 0, 0, 0], Some(0)),
            "fcntl(3, F_SETFD, FD_CLOEXEC) = 0"
        );
        assert_eq!(
            format_call(&m, FUTEX, &[0x1000, 129, 1, 0, 0, 0], Some(0)),
            "futex(0x1000, FUTEX_WAKE_PRIVATE, 1) = 0"
        );
    }
}
