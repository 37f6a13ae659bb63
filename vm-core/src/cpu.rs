//! Architectural state of one guest hart (one guest thread) and the traps
//! that stop an engine.
//!
//! Both engines (the interpreter now, the translator later) read and write
//! guest state only through [`Cpu`]; when they cannot go on by themselves
//! they return a [`Trap`] with `pc` left at the instruction that trapped, so
//! the caller (the run loop in [`crate::process`]) sees precise state.

use crate::memory::MemFault;

/// Floating-point accrued exception flags (`fflags` bits).
pub mod fflags {
    /// Inexact.
    pub const NX: u32 = 1;
    /// Underflow.
    pub const UF: u32 = 2;
    /// Overflow.
    pub const OF: u32 = 4;
    /// Divide by zero.
    pub const DZ: u32 = 8;
    /// Invalid operation.
    pub const NV: u32 = 16;
}

/// One hart's registers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Cpu {
    /// Integer registers; `x[0]` is kept at zero by the engines.
    pub x: [u64; 32],
    /// Floating-point registers, 64 bits each; single-precision values are
    /// NaN-boxed (upper 32 bits all ones).
    pub f: [u64; 32],
    pub pc: u64,
    /// Accrued exception flags (`fflags`, 5 bits).
    pub fflags: u32,
    /// Dynamic rounding mode (`frm`, 3 bits).
    pub frm: u32,
    /// Address reserved by the last `lr`, if any.
    pub reservation: Option<u64>,
    /// Instructions retired (`instret`, also `cycle`).
    pub instret: u64,
}

/// Why an engine stopped. In every case `Cpu::pc` is the address of the
/// instruction that caused it, and that instruction has not retired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trap {
    /// `ecall`: a system call (the OS-call emulator advances `pc`).
    Ecall,
    /// `ebreak`: SIGTRAP for the guest.
    Ebreak,
    /// An instruction that is not valid RV64GC (SIGILL); the raw bits
    /// (16-bit parcels zero-extended).
    IllegalInstruction(u32),
    /// A load, store or fetch the guest may not make (SIGSEGV).
    MemFault(MemFault),
    /// The engine ran for its instruction budget (lets the run loop look
    /// at pending signals or other threads).
    Budget,
}
