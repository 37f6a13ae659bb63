//! Exception emulator: guest signal dispositions and the conversion of
//! engine traps (illegal instruction, memory fault, ebreak) into guest
//! signals.
//!
//! SKELETON: interface fixed, to be filled in.

use crate::cpu::Trap;
use crate::process::{Process, Thread};

/// One `rt_sigaction` record, in the guest's (riscv64) `struct sigaction` terms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub mask: u64,
}

/// Dispositions of signals 1..=64 (index `signo - 1`).
#[derive(Clone, Debug)]
pub struct SignalTable {
    pub actions: [SigAction; 64],
}

impl Default for SignalTable {
    fn default() -> Self {
        SignalTable {
            actions: [SigAction::default(); 64],
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

/// Turn a trap into a guest signal. Returns `Some` when the signal kills the
/// process (default action), `None` when the guest goes on.
pub fn deliver_trap(_process: &Process, _thread: &mut Thread, _trap: Trap) -> Option<Report> {
    todo!()
}
