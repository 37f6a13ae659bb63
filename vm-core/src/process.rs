//! A guest process: its address space, its threads' state, and the run loop
//! that drives an emulation engine and hands traps to the OS-call emulator
//! and the exception emulator.
//!
//! The loop is the whole control path of pvm after loading:
//! `Engine::run` executes guest code until a [`Trap`]; an `ecall` goes to
//! [`crate::syscall::dispatch`]; a fault becomes a guest signal through
//! [`crate::signal`]. Nothing here is global: several threads (a later
//! issue) each run this loop on their own [`Thread`] against one shared
//! [`Process`].

use crate::cpu::{Cpu, Trap};
use crate::host::HostOs;
use crate::memory::GuestMemory;
use crate::signal::{self, AltStack, Pending, SignalTable};
use crate::syscall::{self, Flow};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

/// An emulation engine: the interpreter, or (later) the translator.
pub trait Engine {
    /// Run guest code on `cpu` until something the engine cannot handle by
    /// itself. Before running, the engine must drop any cached decoding or
    /// translation made stale since it last ran: it compares its own copy of
    /// [`GuestMemory::code_epoch`].
    fn run(&mut self, cpu: &mut Cpu, mem: &GuestMemory) -> Trap;
    /// Engine statistics for `--stats`, as name/value pairs.
    fn stats(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}

/// Options that change what the process reports, not what it does.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Log each system call, strace-style, through `HostOs::log`.
    pub strace: bool,
}

/// Counters for `--stats`.
#[derive(Debug, Default)]
pub struct Stats {
    pub syscalls: AtomicU64,
}

/// One guest process.
pub struct Process {
    pub host: &'static dyn HostOs,
    pub mem: GuestMemory,
    /// Absolute host path of the main executable (`/proc/self/exe`).
    pub exe_path: Vec<u8>,
    pub signals: spin::Mutex<SignalTable>,
    pub options: Options,
    pub stats: Stats,
    /// Descriptors the core emulates (signalfds).
    pub(crate) io: crate::syscall::event::IoState,
}

impl core::fmt::Debug for Process {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Process")
            .field("exe_path", &self.exe_path)
            .finish_non_exhaustive()
    }
}

/// One guest thread.
#[derive(Clone, Debug, Default)]
pub struct Thread {
    pub cpu: Cpu,
    pub tid: i32,
    /// `set_tid_address` / `CLONE_CHILD_CLEARTID` pointer.
    pub clear_child_tid: u64,
    /// Blocked-signal mask (`rt_sigprocmask`), bit `n-1` for signal `n`.
    pub sigmask: u64,
    /// `set_robust_list` head and length.
    pub robust_list: (u64, u64),
    /// Signals sent to this thread (`tgkill`, faults) not delivered yet.
    pub pending: Pending,
    /// Alternate signal stack (`sigaltstack`).
    pub altstack: AltStack,
    /// The mask `rt_sigsuspend` replaced: the next handler's frame saves
    /// it (so `rt_sigreturn` brings it back), or it is put back when no
    /// handler runs.
    pub saved_mask: Option<u64>,
}

/// How a guest process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// `exit`/`exit_group` with this status (0..=255).
    Exited(i32),
    /// Killed by a signal.
    Signaled(signal::Report),
}

impl ExitStatus {
    /// The status a shell reports: the exit code, or 128 + signal number.
    pub fn code(&self) -> i32 {
        match self {
            ExitStatus::Exited(c) => *c & 0xff,
            ExitStatus::Signaled(r) => 128 + r.signo,
        }
    }
}

impl Process {
    /// A process around an (already loaded) address space. Tells the host
    /// how to treat signals from outside under the initial (default)
    /// dispositions.
    pub fn new(
        host: &'static dyn HostOs,
        mem: GuestMemory,
        exe_path: Vec<u8>,
        options: Options,
    ) -> Process {
        let p = Process {
            host,
            mem,
            exe_path,
            signals: spin::Mutex::new(SignalTable::default()),
            options,
            stats: Stats::default(),
            io: Default::default(),
        };
        for signo in 1..=signal::NSIG {
            signal::sync_host(&p, signo);
        }
        p
    }

    /// Run `thread` until the process exits or is killed. After every
    /// stop the thread takes the signals now deliverable to it: a fault's,
    /// those a system call raised or unblocked, those that arrived while
    /// it ran.
    pub fn run(&self, thread: &mut Thread, engine: &mut dyn Engine) -> ExitStatus {
        loop {
            let trap = engine.run(&mut thread.cpu, &self.mem);
            // A fatal signal names the faulting instruction or the `ecall`.
            let at = thread.cpu.pc;
            let killed = match trap {
                Trap::Budget => signal::deliver_pending(self, thread, at),
                Trap::Ecall => {
                    self.stats.syscalls.fetch_add(1, Ordering::Relaxed);
                    match syscall::dispatch(self, thread) {
                        Flow::Continue => signal::deliver_pending(self, thread, at),
                        Flow::Exit(code) => return ExitStatus::Exited(code),
                    }
                }
                other => signal::deliver_trap(self, thread, other),
            };
            if let Some(report) = killed {
                return ExitStatus::Signaled(report);
            }
        }
    }
}
