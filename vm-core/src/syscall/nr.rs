//! The system calls of Linux riscv64 (asm-generic): the one table of
//! numbers, names and handlers. The constants (`nr::READ`...), [`name`]
//! (used by `--strace`) and the dispatcher's [`call`] all come from it, so
//! adding a call is one row: `NR NAME "name" => handler;`, where the
//! handler is a `fn(&mut Ctx, &[u64; 6]) -> R` of a sibling module (or a
//! closure around one). A row without a handler is a call pvm knows by
//! name but does not implement: `-ENOSYS`. `exit` and `exit_group` end
//! the thread or process in [`super::dispatch`] itself.

#![allow(missing_docs)]

use super::{Ctx, R, event, fs, fsx, hwprobe, ipc, mm, net, proc, procfs, ptimer, sys, thread};
use crate::host::{Errno, SetId};

/// A system call handler: the caller's context and `a0..a5`.
type Handler = for<'a, 'b> fn(&'a mut Ctx<'b>, &'a [u64; 6]) -> R;

macro_rules! syscalls {
    ($($nr:literal $name:ident $s:literal $(=> $h:expr)?;)*) => {
        $(pub const $name: u64 = $nr;)*

        /// Every call Linux riscv64 has, `(number, name)`, by number.
        pub const TABLE: &[(u64, &str)] = &[$(($nr, $s)),*];

        /// The name of syscall `nr`, if Linux riscv64 has one.
        pub fn name(nr: u64) -> Option<&'static str> {
            match nr {
                $($nr => Some($s),)*
                _ => None,
            }
        }

        /// Does call `nr` have a handler (or, for `exit` and
        /// `exit_group`, handling in [`super::dispatch`])? The others
        /// answer `-ENOSYS`; `docs/syscalls.md` lists each with the reason.
        pub fn implemented(nr: u64) -> bool {
            match nr {
                93 | 94 => true,
                $($($nr => {
                    let _ = stringify!($h);
                    true
                })?)*
                _ => false,
            }
        }

        /// Run the handler of call `n` (`-ENOSYS` for one without).
        pub(super) fn call(cx: &mut Ctx<'_>, n: u64, a: &[u64; 6]) -> R {
            match n {
                $($($nr => {
                    let h: Handler = $h;
                    h(cx, a)
                })?)*
                _ => Err(Errno::ENOSYS),
            }
        }
    };
}

syscalls! {
//  nr   constant                 name                       handler
    0    IO_SETUP                 "io_setup";
    1    IO_DESTROY               "io_destroy";
    2    IO_SUBMIT                "io_submit";
    3    IO_CANCEL                "io_cancel";
    4    IO_GETEVENTS             "io_getevents";
    5    SETXATTR                 "setxattr"                 => |cx, a| fsx::setxattr(cx, a, 0);
    6    LSETXATTR                "lsetxattr"                => |cx, a| fsx::setxattr(cx, a, 1);
    7    FSETXATTR                "fsetxattr"                => |cx, a| fsx::setxattr(cx, a, 2);
    8    GETXATTR                 "getxattr"                 => |cx, a| fsx::getxattr(cx, a, 0);
    9    LGETXATTR                "lgetxattr"                => |cx, a| fsx::getxattr(cx, a, 1);
    10   FGETXATTR                "fgetxattr"                => |cx, a| fsx::getxattr(cx, a, 2);
    11   LISTXATTR                "listxattr"                => |cx, a| fsx::listxattr(cx, a, 0);
    12   LLISTXATTR               "llistxattr"               => |cx, a| fsx::listxattr(cx, a, 1);
    13   FLISTXATTR               "flistxattr"               => |cx, a| fsx::listxattr(cx, a, 2);
    14   REMOVEXATTR              "removexattr"              => |cx, a| fsx::removexattr(cx, a, 0);
    15   LREMOVEXATTR             "lremovexattr"             => |cx, a| fsx::removexattr(cx, a, 1);
    16   FREMOVEXATTR             "fremovexattr"             => |cx, a| fsx::removexattr(cx, a, 2);
    17   GETCWD                   "getcwd"                   => fs::getcwd;
    18   LOOKUP_DCOOKIE           "lookup_dcookie";
    19   EVENTFD2                 "eventfd2"                 => event::eventfd2;
    20   EPOLL_CREATE1            "epoll_create1"            => event::epoll_create1;
    21   EPOLL_CTL                "epoll_ctl"                => event::epoll_ctl;
    22   EPOLL_PWAIT              "epoll_pwait"              => |cx, a| event::epoll_pwait(cx, a, false);
    23   DUP                      "dup"                      => fs::dup;
    24   DUP3                     "dup3"                     => fs::dup3;
    25   FCNTL                    "fcntl"                    => fs::fcntl;
    26   INOTIFY_INIT1            "inotify_init1"            => fsx::inotify_init1;
    27   INOTIFY_ADD_WATCH        "inotify_add_watch"        => fsx::inotify_add_watch;
    28   INOTIFY_RM_WATCH         "inotify_rm_watch"         => fsx::inotify_rm_watch;
    29   IOCTL                    "ioctl"                    => fs::ioctl;
    30   IOPRIO_SET               "ioprio_set"               => |cx, a| thread::ioprio(cx, a, Some(a[2] as i32));
    31   IOPRIO_GET               "ioprio_get"               => |cx, a| thread::ioprio(cx, a, None);
    32   FLOCK                    "flock"                    => fsx::flock;
    33   MKNODAT                  "mknodat"                  => fs::mknodat;
    34   MKDIRAT                  "mkdirat"                  => fs::mkdirat;
    35   UNLINKAT                 "unlinkat"                 => fs::unlinkat;
    36   SYMLINKAT                "symlinkat"                => fs::symlinkat;
    37   LINKAT                   "linkat"                   => fs::linkat;
    39   UMOUNT2                  "umount2"                  => sys::not_permitted;
    40   MOUNT                    "mount"                    => sys::not_permitted;
    41   PIVOT_ROOT               "pivot_root"               => sys::not_permitted;
    42   NFSSERVCTL               "nfsservctl";
    43   STATFS                   "statfs"                   => fs::statfs;
    44   FSTATFS                  "fstatfs"                  => fs::fstatfs;
    45   TRUNCATE                 "truncate"                 => fs::truncate;
    46   FTRUNCATE                "ftruncate"                => fs::ftruncate;
    47   FALLOCATE                "fallocate"                => fsx::fallocate;
    48   FACCESSAT                "faccessat"                => |cx, a| fs::faccessat(cx, a, 0);
    49   CHDIR                    "chdir"                    => fs::chdir;
    50   FCHDIR                   "fchdir"                   => fs::fchdir;
    51   CHROOT                   "chroot"                   => sys::not_permitted;
    52   FCHMOD                   "fchmod"                   => fs::fchmod;
    53   FCHMODAT                 "fchmodat"                 => fs::fchmodat;
    54   FCHOWNAT                 "fchownat"                 => fsx::fchownat;
    55   FCHOWN                   "fchown"                   => fsx::fchown;
    56   OPENAT                   "openat"                   => fs::openat;
    57   CLOSE                    "close"                    => fs::close;
    58   VHANGUP                  "vhangup"                  => sys::not_permitted;
    59   PIPE2                    "pipe2"                    => fs::pipe2;
    60   QUOTACTL                 "quotactl";
    61   GETDENTS64               "getdents64"               => fs::getdents64;
    62   LSEEK                    "lseek"                    => fs::lseek;
    63   READ                     "read"                     => fs::read;
    64   WRITE                    "write"                    => fs::write;
    65   READV                    "readv"                    => |cx, a| fs::readv(cx, a, None);
    66   WRITEV                   "writev"                   => |cx, a| fs::writev(cx, a, None);
    67   PREAD64                  "pread64"                  => fs::pread;
    68   PWRITE64                 "pwrite64"                 => fs::pwrite;
    69   PREADV                   "preadv"                   => |cx, a| fs::readv(cx, a, Some(a[3] as i64));
    70   PWRITEV                  "pwritev"                  => |cx, a| fs::writev(cx, a, Some(a[3] as i64));
    71   SENDFILE                 "sendfile"                 => fsx::sendfile;
    72   PSELECT6                 "pselect6"                 => event::pselect6;
    73   PPOLL                    "ppoll"                    => event::ppoll;
    74   SIGNALFD4                "signalfd4"                => event::signalfd4;
    75   VMSPLICE                 "vmsplice";
    76   SPLICE                   "splice"                   => |cx, a| fsx::copy_range(cx, a, true);
    77   TEE                      "tee"                      => fsx::tee;
    78   READLINKAT               "readlinkat"               => fs::readlinkat;
    79   NEWFSTATAT               "newfstatat"               => fs::newfstatat;
    80   FSTAT                    "fstat"                    => fs::fstat;
    81   SYNC                     "sync"                     => |cx, _| fsx::sync(cx);
    82   FSYNC                    "fsync"                    => fs::fsync;
    83   FDATASYNC                "fdatasync"                => fs::fsync;
    84   SYNC_FILE_RANGE          "sync_file_range"          => fsx::sync_file_range;
    85   TIMERFD_CREATE           "timerfd_create"           => event::timerfd_create;
    86   TIMERFD_SETTIME          "timerfd_settime"          => event::timerfd_settime;
    87   TIMERFD_GETTIME          "timerfd_gettime"          => event::timerfd_gettime;
    88   UTIMENSAT                "utimensat"                => fs::utimensat;
    89   ACCT                     "acct"                     => sys::not_permitted;
    90   CAPGET                   "capget"                   => sys::capget;
    91   CAPSET                   "capset"                   => sys::capset;
    92   PERSONALITY              "personality"              => procfs::personality;
    93   EXIT                     "exit";
    94   EXIT_GROUP               "exit_group";
    95   WAITID                   "waitid"                   => proc::waitid;
    96   SET_TID_ADDRESS          "set_tid_address"          => thread::set_tid_address;
    97   UNSHARE                  "unshare";
    98   FUTEX                    "futex"                    => thread::futex;
    99   SET_ROBUST_LIST          "set_robust_list"          => thread::set_robust_list;
    100  GET_ROBUST_LIST          "get_robust_list"          => thread::get_robust_list;
    101  NANOSLEEP                "nanosleep"                => sys::nanosleep;
    102  GETITIMER                "getitimer"                => sys::getitimer;
    103  SETITIMER                "setitimer"                => sys::setitimer;
    104  KEXEC_LOAD               "kexec_load"               => sys::not_permitted;
    105  INIT_MODULE              "init_module"              => sys::not_permitted;
    106  DELETE_MODULE            "delete_module"            => sys::not_permitted;
    107  TIMER_CREATE             "timer_create"             => ptimer::timer_create;
    108  TIMER_GETTIME            "timer_gettime"            => ptimer::timer_gettime;
    109  TIMER_GETOVERRUN         "timer_getoverrun"         => ptimer::timer_getoverrun;
    110  TIMER_SETTIME            "timer_settime"            => ptimer::timer_settime;
    111  TIMER_DELETE             "timer_delete"             => ptimer::timer_delete;
    112  CLOCK_SETTIME            "clock_settime"            => sys::not_permitted;
    113  CLOCK_GETTIME            "clock_gettime"            => sys::clock_gettime;
    114  CLOCK_GETRES             "clock_getres"             => sys::clock_getres;
    115  CLOCK_NANOSLEEP          "clock_nanosleep"          => sys::clock_nanosleep;
    116  SYSLOG                   "syslog";
    117  PTRACE                   "ptrace";
    118  SCHED_SETPARAM           "sched_setparam"           => |cx, a| thread::sched_setscheduler(cx, a, None);
    119  SCHED_SETSCHEDULER       "sched_setscheduler"       => |cx, a| thread::sched_setscheduler(cx, a, Some(a[1] as i32));
    120  SCHED_GETSCHEDULER       "sched_getscheduler"       => thread::sched_getscheduler;
    121  SCHED_GETPARAM           "sched_getparam"           => thread::sched_getparam;
    122  SCHED_SETAFFINITY        "sched_setaffinity"        => thread::sched_setaffinity;
    123  SCHED_GETAFFINITY        "sched_getaffinity"        => thread::sched_getaffinity;
    124  SCHED_YIELD              "sched_yield"              => |cx, _| thread::sched_yield(cx);
    125  SCHED_GET_PRIORITY_MAX   "sched_get_priority_max"   => |_, a| thread::sched_priority_range(a, true);
    126  SCHED_GET_PRIORITY_MIN   "sched_get_priority_min"   => |_, a| thread::sched_priority_range(a, false);
    127  SCHED_RR_GET_INTERVAL    "sched_rr_get_interval"    => thread::sched_rr_get_interval;
    128  RESTART_SYSCALL          "restart_syscall";
    129  KILL                     "kill"                     => proc::kill;
    130  TKILL                    "tkill"                    => |cx, a| sys::kill(cx, -1, Some(a[0] as i32), a[1]);
    131  TGKILL                   "tgkill"                   => |cx, a| sys::kill(cx, a[0] as i32, Some(a[1] as i32), a[2]);
    132  SIGALTSTACK              "sigaltstack"              => sys::sigaltstack;
    133  RT_SIGSUSPEND            "rt_sigsuspend"            => sys::rt_sigsuspend;
    134  RT_SIGACTION             "rt_sigaction"             => sys::rt_sigaction;
    135  RT_SIGPROCMASK           "rt_sigprocmask"           => sys::rt_sigprocmask;
    136  RT_SIGPENDING            "rt_sigpending"            => sys::rt_sigpending;
    137  RT_SIGTIMEDWAIT          "rt_sigtimedwait"          => sys::rt_sigtimedwait;
    138  RT_SIGQUEUEINFO          "rt_sigqueueinfo"          => |cx, a| sys::sigqueueinfo(cx, a[0] as i32, None, a[1], a[2]);
    139  RT_SIGRETURN             "rt_sigreturn"             => |cx, _| Ok(crate::signal::sigreturn(cx.p, cx.t));
    140  SETPRIORITY              "setpriority"              => fsx::setpriority;
    141  GETPRIORITY              "getpriority"              => fsx::getpriority;
    142  REBOOT                   "reboot"                   => sys::not_permitted;
    143  SETREGID                 "setregid"                 => |cx, a| fsx::set_id(cx, SetId::ReGid(a[0] as u32, a[1] as u32));
    144  SETGID                   "setgid"                   => |cx, a| fsx::set_id(cx, SetId::Gid(a[0] as u32));
    145  SETREUID                 "setreuid"                 => |cx, a| fsx::set_id(cx, SetId::ReUid(a[0] as u32, a[1] as u32));
    146  SETUID                   "setuid"                   => |cx, a| fsx::set_id(cx, SetId::Uid(a[0] as u32));
    147  SETRESUID                "setresuid"                => |cx, a| fsx::setres(cx, a, true);
    148  GETRESUID                "getresuid"                => |cx, a| fsx::getres(cx, a, true);
    149  SETRESGID                "setresgid"                => |cx, a| fsx::setres(cx, a, false);
    150  GETRESGID                "getresgid"                => |cx, a| fsx::getres(cx, a, false);
    151  SETFSUID                 "setfsuid"                 => |cx, a| fsx::set_id(cx, SetId::FsUid(a[0] as u32));
    152  SETFSGID                 "setfsgid"                 => |cx, a| fsx::set_id(cx, SetId::FsGid(a[0] as u32));
    153  TIMES                    "times"                    => sys::times;
    154  SETPGID                  "setpgid"                  => proc::setpgid;
    155  GETPGID                  "getpgid"                  => proc::getpgid;
    156  GETSID                   "getsid"                   => proc::getsid;
    157  SETSID                   "setsid"                   => |cx, _| proc::setsid(cx);
    158  GETGROUPS                "getgroups"                => fsx::getgroups;
    159  SETGROUPS                "setgroups"                => fsx::setgroups;
    160  UNAME                    "uname"                    => sys::uname;
    161  SETHOSTNAME              "sethostname"              => sys::not_permitted;
    162  SETDOMAINNAME            "setdomainname"            => sys::not_permitted;
    163  GETRLIMIT                "getrlimit"                => |cx, a| sys::prlimit(cx, 0, a[0], 0, a[1]);
    164  SETRLIMIT                "setrlimit"                => |cx, a| sys::prlimit(cx, 0, a[0], a[1], 0);
    165  GETRUSAGE                "getrusage"                => sys::getrusage;
    166  UMASK                    "umask"                    => |cx, a| Ok(cx.p.host.umask(a[0] as u32 & 0o777) as u64);
    167  PRCTL                    "prctl"                    => thread::prctl;
    168  GETCPU                   "getcpu"                   => thread::getcpu;
    169  GETTIMEOFDAY             "gettimeofday"             => sys::gettimeofday;
    170  SETTIMEOFDAY             "settimeofday"             => sys::not_permitted;
    171  ADJTIMEX                 "adjtimex";
    172  GETPID                   "getpid"                   => |cx, _| Ok(cx.p.host.ids().pid as u64);
    173  GETPPID                  "getppid"                  => |cx, _| Ok(cx.p.host.ids().ppid as u64);
    174  GETUID                   "getuid"                   => |cx, _| Ok(cx.p.host.ids().uid as u64);
    175  GETEUID                  "geteuid"                  => |cx, _| Ok(cx.p.host.ids().euid as u64);
    176  GETGID                   "getgid"                   => |cx, _| Ok(cx.p.host.ids().gid as u64);
    177  GETEGID                  "getegid"                  => |cx, _| Ok(cx.p.host.ids().egid as u64);
    178  GETTID                   "gettid"                   => |cx, _| Ok(cx.t.tid as u64);
    179  SYSINFO                  "sysinfo"                  => sys::sysinfo;
    180  MQ_OPEN                  "mq_open"                  => ipc::mq_open;
    181  MQ_UNLINK                "mq_unlink"                => ipc::mq_unlink;
    182  MQ_TIMEDSEND             "mq_timedsend"             => ipc::mq_timedsend;
    183  MQ_TIMEDRECEIVE          "mq_timedreceive"          => ipc::mq_timedreceive;
    184  MQ_NOTIFY                "mq_notify"                => ipc::mq_notify;
    185  MQ_GETSETATTR            "mq_getsetattr"            => ipc::mq_getsetattr;
    186  MSGGET                   "msgget"                   => |cx, a| ipc::get_call(cx, a, MSGGET);
    187  MSGCTL                   "msgctl"                   => |cx, a| ipc::ctl_call(cx, a, MSGCTL);
    188  MSGRCV                   "msgrcv"                   => ipc::msgrcv;
    189  MSGSND                   "msgsnd"                   => ipc::msgsnd;
    190  SEMGET                   "semget"                   => |cx, a| ipc::get_call(cx, a, SEMGET);
    191  SEMCTL                   "semctl"                   => |cx, a| ipc::ctl_call(cx, a, SEMCTL);
    192  SEMTIMEDOP               "semtimedop"               => |cx, a| ipc::semtimedop(cx, a, true);
    193  SEMOP                    "semop"                    => |cx, a| ipc::semtimedop(cx, a, false);
    194  SHMGET                   "shmget"                   => |cx, a| ipc::get_call(cx, a, SHMGET);
    195  SHMCTL                   "shmctl"                   => |cx, a| ipc::ctl_call(cx, a, SHMCTL);
    196  SHMAT                    "shmat"                    => ipc::shmat;
    197  SHMDT                    "shmdt"                    => ipc::shmdt;
    198  SOCKET                   "socket"                   => net::socket;
    199  SOCKETPAIR               "socketpair"               => net::socketpair;
    200  BIND                     "bind"                     => net::bind;
    201  LISTEN                   "listen"                   => net::listen;
    202  ACCEPT                   "accept"                   => |cx, a| net::accept4(cx, a, 0);
    203  CONNECT                  "connect"                  => net::connect;
    204  GETSOCKNAME              "getsockname"              => |cx, a| net::sockname(cx, a, false);
    205  GETPEERNAME              "getpeername"              => |cx, a| net::sockname(cx, a, true);
    206  SENDTO                   "sendto"                   => net::sendto;
    207  RECVFROM                 "recvfrom"                 => net::recvfrom;
    208  SETSOCKOPT               "setsockopt"               => net::setsockopt;
    209  GETSOCKOPT               "getsockopt"               => net::getsockopt;
    210  SHUTDOWN                 "shutdown"                 => net::shutdown;
    211  SENDMSG                  "sendmsg"                  => net::sendmsg;
    212  RECVMSG                  "recvmsg"                  => net::recvmsg;
    213  READAHEAD                "readahead"                => fsx::readahead;
    214  BRK                      "brk"                      => mm::brk;
    215  MUNMAP                   "munmap"                   => mm::munmap;
    216  MREMAP                   "mremap"                   => mm::mremap;
    217  ADD_KEY                  "add_key";
    218  REQUEST_KEY              "request_key";
    219  KEYCTL                   "keyctl";
    220  CLONE                    "clone"                    => thread::clone;
    221  EXECVE                   "execve"                   => proc::execve;
    222  MMAP                     "mmap"                     => mm::mmap;
    223  FADVISE64                "fadvise64"                => fs::fadvise;
    224  SWAPON                   "swapon"                   => sys::not_permitted;
    225  SWAPOFF                  "swapoff"                  => sys::not_permitted;
    226  MPROTECT                 "mprotect"                 => mm::mprotect;
    227  MSYNC                    "msync"                    => mm::msync;
    228  MLOCK                    "mlock"                    => |cx, a| mm::mlock(cx, a, 0);
    229  MUNLOCK                  "munlock"                  => |cx, a| mm::mlock(cx, a, 0);
    230  MLOCKALL                 "mlockall"                 => |_, a| mm::mlockall(a);
    231  MUNLOCKALL               "munlockall"               => |_, _| Ok(0);
    232  MINCORE                  "mincore"                  => mm::mincore;
    233  MADVISE                  "madvise"                  => mm::madvise;
    234  REMAP_FILE_PAGES         "remap_file_pages";
    235  MBIND                    "mbind";
    236  GET_MEMPOLICY            "get_mempolicy";
    237  SET_MEMPOLICY            "set_mempolicy";
    238  MIGRATE_PAGES            "migrate_pages";
    239  MOVE_PAGES               "move_pages";
    240  RT_TGSIGQUEUEINFO        "rt_tgsigqueueinfo"        => |cx, a| sys::sigqueueinfo(cx, a[0] as i32, Some(a[1] as i32), a[2], a[3]);
    241  PERF_EVENT_OPEN          "perf_event_open";
    242  ACCEPT4                  "accept4"                  => |cx, a| net::accept4(cx, a, a[3] as i32);
    243  RECVMMSG                 "recvmmsg"                 => net::recvmmsg;
    258  RISCV_HWPROBE            "riscv_hwprobe"            => hwprobe::riscv_hwprobe;
    259  RISCV_FLUSH_ICACHE       "riscv_flush_icache"       => mm::riscv_flush_icache;
    260  WAIT4                    "wait4"                    => proc::wait4;
    261  PRLIMIT64                "prlimit64"                => |cx, a| sys::prlimit(cx, a[0] as i32, a[1], a[2], a[3]);
    262  FANOTIFY_INIT            "fanotify_init";
    263  FANOTIFY_MARK            "fanotify_mark";
    264  NAME_TO_HANDLE_AT        "name_to_handle_at";
    265  OPEN_BY_HANDLE_AT        "open_by_handle_at";
    266  CLOCK_ADJTIME            "clock_adjtime";
    267  SYNCFS                   "syncfs"                   => fsx::syncfs;
    268  SETNS                    "setns";
    269  SENDMMSG                 "sendmmsg"                 => net::sendmmsg;
    270  PROCESS_VM_READV         "process_vm_readv"         => |cx, a| procfs::process_vm(cx, a, false);
    271  PROCESS_VM_WRITEV        "process_vm_writev"        => |cx, a| procfs::process_vm(cx, a, true);
    272  KCMP                     "kcmp";
    273  FINIT_MODULE             "finit_module"             => sys::not_permitted;
    274  SCHED_SETATTR            "sched_setattr";
    275  SCHED_GETATTR            "sched_getattr";
    276  RENAMEAT2                "renameat2"                => fs::renameat2;
    277  SECCOMP                  "seccomp";
    278  GETRANDOM                "getrandom"                => sys::getrandom;
    279  MEMFD_CREATE             "memfd_create"             => fsx::memfd_create;
    280  BPF                      "bpf";
    281  EXECVEAT                 "execveat"                 => proc::execveat;
    282  USERFAULTFD              "userfaultfd";
    283  MEMBARRIER               "membarrier"               => thread::membarrier;
    284  MLOCK2                   "mlock2"                   => |cx, a| mm::mlock(cx, a, a[2]);
    285  COPY_FILE_RANGE          "copy_file_range"          => |cx, a| fsx::copy_range(cx, a, false);
    286  PREADV2                  "preadv2"                  => |cx, a| fsx::rw2(cx, a, false);
    287  PWRITEV2                 "pwritev2"                 => |cx, a| fsx::rw2(cx, a, true);
    288  PKEY_MPROTECT            "pkey_mprotect";
    289  PKEY_ALLOC               "pkey_alloc";
    290  PKEY_FREE                "pkey_free";
    291  STATX                    "statx"                    => fs::statx;
    292  IO_PGETEVENTS            "io_pgetevents";
    293  RSEQ                     "rseq";  // -ENOSYS, as qemu-user: glibc runs without it
    294  KEXEC_FILE_LOAD          "kexec_file_load"          => sys::not_permitted;
    424  PIDFD_SEND_SIGNAL        "pidfd_send_signal"        => proc::pidfd_send_signal;
    425  IO_URING_SETUP           "io_uring_setup";
    426  IO_URING_ENTER           "io_uring_enter";
    427  IO_URING_REGISTER        "io_uring_register";
    428  OPEN_TREE                "open_tree"                => sys::not_permitted;
    429  MOVE_MOUNT               "move_mount"               => sys::not_permitted;
    430  FSOPEN                   "fsopen"                   => sys::not_permitted;
    431  FSCONFIG                 "fsconfig"                 => sys::not_permitted;
    432  FSMOUNT                  "fsmount"                  => sys::not_permitted;
    433  FSPICK                   "fspick"                   => sys::not_permitted;
    434  PIDFD_OPEN               "pidfd_open"               => proc::pidfd_open;
    435  CLONE3                   "clone3"                   => thread::clone3;
    436  CLOSE_RANGE              "close_range"              => fsx::close_range;
    437  OPENAT2                  "openat2"                  => fsx::openat2;
    438  PIDFD_GETFD              "pidfd_getfd";
    439  FACCESSAT2               "faccessat2"               => |cx, a| fs::faccessat(cx, a, a[3] as i32);
    440  PROCESS_MADVISE          "process_madvise";
    441  EPOLL_PWAIT2             "epoll_pwait2"             => |cx, a| event::epoll_pwait(cx, a, true);
    442  MOUNT_SETATTR            "mount_setattr"            => sys::not_permitted;
    443  QUOTACTL_FD              "quotactl_fd";
    444  LANDLOCK_CREATE_RULESET  "landlock_create_ruleset";
    445  LANDLOCK_ADD_RULE        "landlock_add_rule";
    446  LANDLOCK_RESTRICT_SELF   "landlock_restrict_self";
    447  MEMFD_SECRET             "memfd_secret";
    448  PROCESS_MRELEASE         "process_mrelease";
    449  FUTEX_WAITV              "futex_waitv";
    450  SET_MEMPOLICY_HOME_NODE  "set_mempolicy_home_node";
}
