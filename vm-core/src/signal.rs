//! Exception emulator: guest signal dispositions (`rt_sigaction`,
//! `sigaltstack` state) and the conversion of engine traps (illegal
//! instruction, memory fault, ebreak) into guest signals.
//!
//! Handler delivery (building a signal frame on the guest stack and
//! `rt_sigreturn`) is a later issue. Until then every trap takes the default
//! action of its signal, which for SIGILL, SIGSEGV, SIGBUS and SIGTRAP is to
//! kill the process; that is also what Linux does for a synchronous fault
//! whose signal is ignored or blocked. A signal a guest sends itself
//! (`kill`, `tgkill`: `abort()`) is handled by the OS-call emulator with the
//! same rule, and recorded here in [`SignalTable::fatal`].

use crate::cpu::Trap;
use crate::process::{Process, Thread};
use alloc::collections::BTreeMap;

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGILL: i32 = 4;
pub const SIGTRAP: i32 = 5;
pub const SIGABRT: i32 = 6;
pub const SIGBUS: i32 = 7;
pub const SIGFPE: i32 = 8;
pub const SIGKILL: i32 = 9;
pub const SIGSEGV: i32 = 11;
pub const SIGPIPE: i32 = 13;
pub const SIGTERM: i32 = 15;
pub const SIGCHLD: i32 = 17;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGTSTP: i32 = 20;
pub const SIGTTIN: i32 = 21;
pub const SIGTTOU: i32 = 22;
pub const SIGURG: i32 = 23;
pub const SIGWINCH: i32 = 28;
/// Highest signal number.
pub const NSIG: i32 = 64;

/// `SIG_DFL` and `SIG_IGN` handler values.
pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

/// One `rt_sigaction` record, in the guest's (riscv64) `struct sigaction` terms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub mask: u64,
}

/// An alternate signal stack (`sigaltstack`), riscv64 `stack_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AltStack {
    pub sp: u64,
    pub flags: u32,
    pub size: u64,
}

impl Default for AltStack {
    fn default() -> Self {
        AltStack {
            sp: 0,
            flags: crate::syscall::abi::SS_DISABLE,
            size: 0,
        }
    }
}

/// Dispositions of signals 1..=64 (index `signo - 1`).
#[derive(Clone, Debug)]
pub struct SignalTable {
    pub actions: [SigAction; 64],
    /// Alternate stacks by thread id (a per-thread property in Linux; kept
    /// here until `Thread` carries it).
    pub altstacks: BTreeMap<i32, AltStack>,
    /// Set when the process was killed by a signal outside a trap (a signal
    /// it sent itself, SIGPIPE): the run loop then sees a `Flow::Exit` of
    /// 128 + signo, and the host reports the signal from here.
    pub fatal: Option<Report>,
}

impl Default for SignalTable {
    fn default() -> Self {
        SignalTable {
            actions: [SigAction::default(); 64],
            altstacks: BTreeMap::new(),
            fatal: None,
        }
    }
}

/// What killed a process: for the one-line report and the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    pub signo: i32,
    /// Guest pc of the faulting instruction.
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

/// Is the instruction at `pc` an A-extension access (opcode AMO, LR/SC
/// included) that `addr` does not align?
fn misaligned_atomic(process: &Process, pc: u64, addr: u64) -> bool {
    let mem = &process.mem;
    let (Ok(lo), Ok(hi)) = (mem.fetch_u16(pc), mem.fetch_u16(pc.wrapping_add(2))) else {
        return false;
    };
    let bits = lo as u32 | (hi as u32) << 16;
    let size = match (bits & 0x7f, (bits >> 12) & 7) {
        (0x2f, 2) => 4,
        (0x2f, 3) => 8,
        _ => return false,
    };
    !addr.is_multiple_of(size)
}

/// The signal and fault address a trap at `pc` raises, or `None` for traps
/// that are not faults (`Ecall`, `Budget`).
pub fn trap_signal(process: &Process, pc: u64, trap: Trap) -> Option<(i32, Option<u64>)> {
    match trap {
        Trap::IllegalInstruction(_) => Some((SIGILL, None)),
        Trap::Ebreak => Some((SIGTRAP, None)),
        Trap::MemFault(f) => {
            // LR/SC/AMO must be naturally aligned: a misaligned one is
            // SIGBUS on Linux (whatever the page), every other fault
            // SIGSEGV.
            let signo = if misaligned_atomic(process, pc, f.addr) {
                SIGBUS
            } else {
                SIGSEGV
            };
            Some((signo, Some(f.addr)))
        }
        Trap::Ecall | Trap::Budget => None,
    }
}

/// Turn a trap into a guest signal. Returns `Some` when the signal kills the
/// process (default action), `None` when the guest goes on.
///
/// Until handler delivery lands every fault takes its default action, which
/// is fatal for all signals a trap raises.
pub fn deliver_trap(process: &Process, thread: &mut Thread, trap: Trap) -> Option<Report> {
    let (signo, addr) = trap_signal(process, thread.cpu.pc, trap)?;
    Some(Report {
        signo,
        pc: thread.cpu.pc,
        addr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{Access, GuestMemory, MemFault, Perm};
    use crate::process::Options;
    use crate::testhost::TestHost;

    fn process() -> Process {
        let host = TestHost::leak();
        let mem = GuestMemory::new(host, 1 << 24).unwrap();
        mem.map(0x1000, 0x1000, Perm::READ | Perm::WRITE, true)
            .unwrap();
        // amoadd.w a0, a1, (a2) at 0x2000, then a plain sw a1, 0(a2).
        mem.map(0x2000, 0x1000, Perm::READ | Perm::EXEC, true)
            .unwrap();
        mem.write_bytes_privileged(0x2000, &0x00b6_252fu32.to_le_bytes())
            .unwrap();
        mem.write_bytes_privileged(0x2004, &0x00b6_2023u32.to_le_bytes())
            .unwrap();
        Process::new(host, mem, alloc::vec::Vec::new(), Options::default())
    }

    #[test]
    fn traps_map_to_default_fatal_signals() {
        let p = process();
        let mut t = Thread::default();
        t.cpu.pc = 0x1234;
        let r = deliver_trap(&p, &mut t, Trap::IllegalInstruction(0)).unwrap();
        assert_eq!((r.signo, r.pc, r.addr), (SIGILL, 0x1234, None));
        assert_eq!(
            deliver_trap(&p, &mut t, Trap::Ebreak).unwrap().signo,
            SIGTRAP
        );
        let segv = MemFault {
            addr: 0x5000,
            access: Access::Read,
            mapped: false,
        };
        let r = deliver_trap(&p, &mut t, Trap::MemFault(segv)).unwrap();
        assert_eq!((r.signo, r.addr), (SIGSEGV, Some(0x5000)));
        let misaligned = MemFault {
            addr: 0x1003,
            access: Access::Write,
            mapped: true,
        };
        t.cpu.pc = 0x2000;
        let r = deliver_trap(&p, &mut t, Trap::MemFault(misaligned)).unwrap();
        assert_eq!((r.signo, r.addr), (SIGBUS, Some(0x1003)));
        // Misaligned and unmapped: still SIGBUS (alignment is checked first).
        let far = MemFault {
            addr: 0x9_0002,
            ..misaligned
        };
        assert_eq!(
            deliver_trap(&p, &mut t, Trap::MemFault(far)).unwrap().signo,
            SIGBUS
        );
        // An aligned AMO on an unmapped page, or a plain store: SIGSEGV.
        let aligned = MemFault {
            addr: 0x9_0000,
            ..misaligned
        };
        assert_eq!(
            deliver_trap(&p, &mut t, Trap::MemFault(aligned))
                .unwrap()
                .signo,
            SIGSEGV
        );
        t.cpu.pc = 0x2004;
        assert_eq!(
            deliver_trap(&p, &mut t, Trap::MemFault(far)).unwrap().signo,
            SIGSEGV
        );
        assert_eq!(deliver_trap(&p, &mut t, Trap::Budget), None);
    }

    #[test]
    fn names() {
        assert_eq!(name(11), Some("SIGSEGV"));
        assert_eq!(name(31), Some("SIGSYS"));
        assert_eq!(name(34), Some("SIGRT_2"));
        assert_eq!(name(0), None);
        assert_eq!(description(SIGSEGV), "Segmentation fault");
        assert_eq!(description(SIGABRT), "Aborted");
        assert_eq!(default_action(SIGCHLD), DefaultAction::Ignore);
        assert_eq!(default_action(SIGPIPE), DefaultAction::Terminate);
    }
}
