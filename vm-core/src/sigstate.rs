//! The guest's signals as data: numbers and flags, dispositions
//! ([`SigAction`], [`SignalTable`]), pending sets ([`Pending`]), the
//! alternate stack, `siginfo` ([`SigInfo`]), what killed a process
//! ([`Report`]), default actions and names, and how the host should treat
//! each signal ([`host_action`]). A leaf: [`crate::process`] holds these,
//! [`crate::signal`] (delivery, which re-exports all of this) works on them.

use crate::abi::{SS_AUTODISARM, SS_DISABLE, SS_ONSTACK};
use crate::host::{HostOs, HostSigAction};
use alloc::vec::Vec;

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGILL: i32 = 4;
pub const SIGTRAP: i32 = 5;
pub const SIGABRT: i32 = 6;
pub const SIGBUS: i32 = 7;
pub const SIGFPE: i32 = 8;
pub const SIGKILL: i32 = 9;
pub const SIGUSR1: i32 = 10;
pub const SIGSEGV: i32 = 11;
pub const SIGUSR2: i32 = 12;
pub const SIGPIPE: i32 = 13;
pub const SIGALRM: i32 = 14;
pub const SIGTERM: i32 = 15;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGTSTP: i32 = 20;
pub const SIGTTIN: i32 = 21;
pub const SIGTTOU: i32 = 22;
pub const SIGURG: i32 = 23;
pub const SIGXCPU: i32 = 24;
pub const SIGXFSZ: i32 = 25;
pub const SIGVTALRM: i32 = 26;
pub const SIGPROF: i32 = 27;
pub const SIGWINCH: i32 = 28;
pub const SIGSYS: i32 = 31;
/// First real-time signal (the kernel's; glibc reserves a few above it).
/// Real-time signals queue; standard ones are pending at most once.
pub const SIGRTMIN: i32 = 32;
/// Highest signal number.
pub const NSIG: i32 = 64;

/// `SIG_DFL` and `SIG_IGN` handler values.
pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

/// `sa_flags` bits (asm-generic).
pub const SA_NOCLDSTOP: u64 = 1;
pub const SA_NOCLDWAIT: u64 = 2;
pub const SA_SIGINFO: u64 = 4;
pub const SA_ONSTACK: u64 = 0x0800_0000;
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;

/// `si_code` values.
pub const SI_USER: i32 = 0;
pub const SI_KERNEL: i32 = 0x80;
pub const SI_QUEUE: i32 = -1;
/// A POSIX message queue's notice (`mq_notify`): pid, uid and value as
/// `SI_QUEUE` carries them.
pub const SI_MESGQ: i32 = -3;
pub const SI_TKILL: i32 = -6;
pub const ILL_ILLOPC: i32 = 1;
pub const TRAP_BRKPT: i32 = 1;
pub const SEGV_MAPERR: i32 = 1;
pub const SEGV_ACCERR: i32 = 2;
pub const BUS_ADRALN: i32 = 1;
/// `SIGBUS`: the address has no backing (a file page past the file's end).
pub const BUS_ADRERR: i32 = 2;
/// `SIGCHLD` codes: exited, killed, killed with a core dump, trapped,
/// stopped, continued.
pub const CLD_EXITED: i32 = 1;
pub const CLD_KILLED: i32 = 2;
pub const CLD_DUMPED: i32 = 3;
pub const CLD_STOPPED: i32 = 5;
pub const CLD_CONTINUED: i32 = 6;

/// The mask bit of `signo`.
pub const fn bit(signo: i32) -> u64 {
    1 << (signo - 1)
}

/// Signals no mask may hold.
pub const UNBLOCKABLE: u64 = bit(SIGKILL) | bit(SIGSTOP);

/// Signals a fault raises: Linux dequeues them before any other, so the
/// handler of a fault runs before those of signals that were already
/// pending (`SYNCHRONOUS_MASK`).
pub(crate) const SYNCHRONOUS: u64 =
    bit(SIGSEGV) | bit(SIGBUS) | bit(SIGILL) | bit(SIGTRAP) | bit(SIGFPE) | bit(SIGSYS);

/// One `rt_sigaction` record, in the guest's (riscv64) `struct sigaction` terms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub mask: u64,
}

/// A thread's alternate signal stack (`sigaltstack`), riscv64 `stack_t`
/// terms. Disabled when `size` is 0; `flags` keeps only `SS_AUTODISARM`
/// (SS_ONSTACK and SS_DISABLE are computed when reported, as in Linux).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AltStack {
    pub sp: u64,
    pub flags: u32,
    pub size: u64,
}

impl AltStack {
    /// Is `sp` inside this stack? Never with `SS_AUTODISARM`: such a stack
    /// is given up once a handler runs on it, so a nested signal may use it
    /// afresh.
    pub fn on_stack(&self, sp: u64) -> bool {
        self.flags & SS_AUTODISARM == 0 && sp > self.sp && sp - self.sp <= self.size
    }

    /// `SS_DISABLE`, `SS_ONSTACK` (`sp` is on it) or 0 (usable).
    pub fn mode(&self, sp: u64) -> u32 {
        if self.size == 0 {
            SS_DISABLE
        } else if self.on_stack(sp) {
            SS_ONSTACK
        } else {
            0
        }
    }

    /// The `ss_flags` `sigaltstack` and a signal frame report for a thread
    /// whose stack pointer is `sp`.
    pub fn reported_flags(&self, sp: u64) -> u32 {
        self.mode(sp) | (self.flags & SS_AUTODISARM)
    }
}

/// The payload of a `siginfo_t` after its first three words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigFields {
    /// Sent by a process (`kill`, `tgkill`) or the kernel for a call.
    Kill { pid: i32, uid: u32 },
    /// Raised by a fault: `si_addr`.
    Fault { addr: u64 },
    /// Given by the sender (`rt_sigqueueinfo`): the bytes after si_code's
    /// padding, kept as they were.
    Raw([u8; SIGINFO_SIZE - 16]),
    /// Queued by a POSIX timer ([`crate::ptimer`]): `si_timerid`,
    /// `si_overrun`, `si_value`.
    Timer { id: i32, overrun: i32, value: u64 },
}

/// A signal with the information its handler gets (`siginfo_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo {
    pub signo: i32,
    pub code: i32,
    pub fields: SigFields,
}

/// Size of the riscv64 `siginfo_t`.
pub const SIGINFO_SIZE: usize = 128;

impl SigInfo {
    /// A signal sent by `pid` (with real uid `uid`).
    pub fn kill(signo: i32, code: i32, pid: i32, uid: u32) -> SigInfo {
        SigInfo {
            signo,
            code,
            fields: SigFields::Kill { pid, uid },
        }
    }

    /// A signal `pid` (real uid `uid`) sent with `sigqueue` and `value`.
    pub fn queued(signo: i32, pid: i32, uid: u32, value: u64) -> SigInfo {
        SigInfo::with_value(signo, SI_QUEUE, pid, uid, value)
    }

    /// A signal of code `code` that carries a sender and a value
    /// (`SI_QUEUE`, `SI_MESGQ`).
    pub fn with_value(signo: i32, code: i32, pid: i32, uid: u32, value: u64) -> SigInfo {
        let mut raw = [0u8; SIGINFO_SIZE - 16];
        raw[0..4].copy_from_slice(&pid.to_le_bytes());
        raw[4..8].copy_from_slice(&uid.to_le_bytes());
        raw[8..16].copy_from_slice(&value.to_le_bytes());
        SigInfo {
            signo,
            code,
            fields: SigFields::Raw(raw),
        }
    }

    /// A `SIGCHLD` about child `pid` (`code` is `CLD_EXITED`...,
    /// `status` the exit code or signal). The child's CPU times are not
    /// reported (zero).
    pub fn child(code: i32, pid: i32, uid: u32, status: i32) -> SigInfo {
        let mut raw = [0u8; SIGINFO_SIZE - 16];
        raw[0..4].copy_from_slice(&pid.to_le_bytes());
        raw[4..8].copy_from_slice(&uid.to_le_bytes());
        raw[8..12].copy_from_slice(&status.to_le_bytes());
        SigInfo {
            signo: SIGCHLD,
            code,
            fields: SigFields::Raw(raw),
        }
    }

    /// A signal raised by a fault at `addr`.
    pub fn fault(signo: i32, code: i32, addr: u64) -> SigInfo {
        SigInfo {
            signo,
            code,
            fields: SigFields::Fault { addr },
        }
    }

    /// The guest `siginfo_t`: si_signo, si_errno, si_code, then the union
    /// at offset 16 (si_pid/si_uid or si_addr).
    pub fn to_bytes(&self) -> [u8; SIGINFO_SIZE] {
        let mut b = [0u8; SIGINFO_SIZE];
        b[0..4].copy_from_slice(&self.signo.to_le_bytes());
        b[8..12].copy_from_slice(&self.code.to_le_bytes());
        match self.fields {
            SigFields::Kill { pid, uid } => {
                b[16..20].copy_from_slice(&pid.to_le_bytes());
                b[20..24].copy_from_slice(&uid.to_le_bytes());
            }
            SigFields::Fault { addr } => b[16..24].copy_from_slice(&addr.to_le_bytes()),
            SigFields::Raw(r) => b[16..].copy_from_slice(&r),
            SigFields::Timer { id, overrun, value } => {
                b[16..20].copy_from_slice(&id.to_le_bytes());
                b[20..24].copy_from_slice(&overrun.to_le_bytes());
                b[24..32].copy_from_slice(&value.to_le_bytes());
            }
        }
        b
    }
}

/// Signals generated but not delivered yet, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pending {
    pub(crate) queue: Vec<SigInfo>,
}

impl Pending {
    /// The pending signals as a mask.
    pub fn set(&self) -> u64 {
        self.queue.iter().fold(0, |m, i| m | bit(i.signo))
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// How many entries count against `RLIMIT_SIGPENDING`: all but the
    /// timers' (Linux's timers bring their own entry).
    pub fn queued(&self) -> usize {
        self.queue
            .iter()
            .filter(|i| !matches!(i.fields, SigFields::Timer { .. }))
            .count()
    }

    /// Make `info` pending: a standard signal already pending is not
    /// queued twice (its first siginfo wins), a real-time one is, and so
    /// is a timer's (Linux queues a timer's own preallocated entry).
    pub fn add(&mut self, info: SigInfo) {
        if info.signo < SIGRTMIN
            && !matches!(info.fields, SigFields::Timer { .. })
            && self.queue.iter().any(|i| i.signo == info.signo)
        {
            return;
        }
        self.queue.push(info);
    }

    /// Take the oldest pending instance of `signo`.
    pub fn take(&mut self, signo: i32) -> Option<SigInfo> {
        let at = self.queue.iter().position(|i| i.signo == signo)?;
        Some(self.queue.remove(at))
    }

    /// Every pending signal, oldest first.
    pub fn drain_all(self) -> impl Iterator<Item = SigInfo> {
        self.queue.into_iter()
    }

    /// Drop every pending instance of `signo`; returns the timers'
    /// (see [`crate::ptimer::discarded`]).
    pub fn discard(&mut self, signo: i32) -> Vec<SigInfo> {
        let timers = self
            .queue
            .iter()
            .filter(|i| i.signo == signo && matches!(i.fields, SigFields::Timer { .. }))
            .copied()
            .collect();
        self.queue.retain(|i| i.signo != signo);
        timers
    }
}

/// Process-wide signal state: dispositions of signals 1..=64 (index
/// `signo - 1`), signals sent to the process as a whole, and the address
/// of the sigreturn trampoline once mapped. Per-thread state (mask,
/// thread-directed pending signals, alternate stack) lives in
/// [`Thread`].
#[derive(Clone, Debug)]
pub struct SignalTable {
    pub actions: [SigAction; 64],
    /// Pending process-directed signals (`kill`).
    pub shared: Pending,
    /// Guest address of the `rt_sigreturn` trampoline page, once mapped.
    pub trampoline: Option<u64>,
}

impl Default for SignalTable {
    fn default() -> Self {
        SignalTable {
            actions: [SigAction::default(); 64],
            shared: Pending::default(),
            trampoline: None,
        }
    }
}

/// What killed a process: for the one-line report and the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    pub signo: i32,
    /// Guest pc of the faulting instruction (of the system call, for a
    /// signal a call raised).
    pub pc: u64,
    /// Fault address, for SIGSEGV/SIGBUS.
    pub addr: Option<u64>,
}

/// What a signal does when its disposition is `SIG_DFL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    Terminate,
    Ignore,
    Stop,
    Continue,
}

/// The default action of `signo` (signal(7)).
pub fn default_action(signo: i32) -> DefaultAction {
    match signo {
        SIGCHLD | SIGURG | SIGWINCH => DefaultAction::Ignore,
        SIGCONT => DefaultAction::Continue,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => DefaultAction::Stop,
        _ => DefaultAction::Terminate,
    }
}

/// Does `signo`'s default action dump core (signal(7)'s "Core": a crash
/// or an explicit quit, which a shell reports), rather than only end the
/// process?
pub fn dumps_core(signo: i32) -> bool {
    matches!(
        signo,
        SIGQUIT
            | SIGILL
            | SIGTRAP
            | SIGABRT
            | SIGBUS
            | SIGFPE
            | SIGSEGV
            | SIGXCPU
            | SIGXFSZ
            | SIGSYS
    )
}

/// The name of `signo` (`SIGSEGV`), `SIGRTMIN`/`SIGRT_n` for real-time ones.
pub fn name(signo: i32) -> Option<&'static str> {
    const NAMES: [&str; 31] = [
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    const RT: [&str; 33] = [
        "SIGRTMIN", "SIGRT_1", "SIGRT_2", "SIGRT_3", "SIGRT_4", "SIGRT_5", "SIGRT_6", "SIGRT_7",
        "SIGRT_8", "SIGRT_9", "SIGRT_10", "SIGRT_11", "SIGRT_12", "SIGRT_13", "SIGRT_14",
        "SIGRT_15", "SIGRT_16", "SIGRT_17", "SIGRT_18", "SIGRT_19", "SIGRT_20", "SIGRT_21",
        "SIGRT_22", "SIGRT_23", "SIGRT_24", "SIGRT_25", "SIGRT_26", "SIGRT_27", "SIGRT_28",
        "SIGRT_29", "SIGRT_30", "SIGRT_31", "SIGRT_32",
    ];
    match signo {
        1..=31 => Some(NAMES[signo as usize - 1]),
        32..=64 => Some(RT[signo as usize - 32]),
        _ => None,
    }
}

/// The `strsignal` text of `signo` (glibc's wording).
pub fn description(signo: i32) -> &'static str {
    const DESC: [&str; 31] = [
        "Hangup",
        "Interrupt",
        "Quit",
        "Illegal instruction",
        "Trace/breakpoint trap",
        "Aborted",
        "Bus error",
        "Floating point exception",
        "Killed",
        "User defined signal 1",
        "Segmentation fault",
        "User defined signal 2",
        "Broken pipe",
        "Alarm clock",
        "Terminated",
        "Stack fault",
        "Child exited",
        "Continued",
        "Stopped (signal)",
        "Stopped",
        "Stopped (tty input)",
        "Stopped (tty output)",
        "Urgent I/O condition",
        "CPU time limit exceeded",
        "File size limit exceeded",
        "Virtual timer expired",
        "Profiling timer expired",
        "Window changed",
        "I/O possible",
        "Power failure",
        "Bad system call",
    ];
    match signo {
        1..=31 => DESC[signo as usize - 1],
        32..=64 => "Real-time signal",
        _ => "Unknown signal",
    }
}

/// Is `signo` discarded when it arrives under `act`?
pub(crate) fn ignored(act: &SigAction, signo: i32) -> bool {
    signo != SIGKILL
        && (act.handler == SIG_IGN
            || (act.handler == SIG_DFL && default_action(signo) != DefaultAction::Terminate))
}

/// Signals the host keeps for itself whatever the guest's disposition:
/// faults (the host reports those as traps), SIGKILL and SIGSTOP (no one
/// can catch them), SIGPIPE (the core raises it for a write to a broken
/// pipe, the host drops its own copy), and the first two real-time
/// signals, which the host's C library reserves. (Another process's
/// SIGPIPE, fault signal, 32 or 33 still reaches the guest: the host's
/// handlers for them hand it over, as any caught signal.)
const HOST_KEEPS: u64 =
    SYNCHRONOUS | UNBLOCKABLE | bit(SIGPIPE) | bit(SIGRTMIN) | bit(SIGRTMIN + 1);

/// How the host should treat `signo` when the guest's disposition is
/// `act`, or `None` for [`HOST_KEEPS`]. A signal that kills by default is
/// caught, not left to the host's default: the guest may block it, and
/// then it must stay pending, and when it does kill, the core reports the
/// death as it does for a fault.
pub fn host_action(signo: i32, act: &SigAction) -> Option<HostSigAction> {
    if !(1..=NSIG).contains(&signo) || HOST_KEEPS & bit(signo) != 0 {
        return None;
    }
    Some(match act.handler {
        SIG_IGN => HostSigAction::Ignore,
        SIG_DFL if default_action(signo) != DefaultAction::Terminate => HostSigAction::Default,
        _ => HostSigAction::Catch,
    })
}

/// Tell `host` how to treat `signo` when the guest's disposition is `act`.
pub fn tell_host(host: &dyn HostOs, signo: i32, act: &SigAction) {
    if signo == SIGCHLD {
        host.set_child_signal_flags(act.flags & SA_NOCLDSTOP != 0, act.flags & SA_NOCLDWAIT != 0);
    }
    if let Some(a) = host_action(signo, act) {
        host.set_signal_action(signo, a);
    }
}
