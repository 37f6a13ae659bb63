//! OS-call emulator: Linux riscv64 (asm-generic) system calls, emulated on
//! the [`crate::host::HostOs`].
//!
//! SKELETON: interface fixed, to be filled in.

use crate::process::{Process, Thread};

/// What the run loop does after a system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Resume the guest (its `pc` is past the `ecall`, `a0` holds the result).
    Continue,
    /// The process exits with this status.
    Exit(i32),
}

/// Emulate the system call `thread` is stopped at (`a7` = number,
/// `a0..a5` = arguments), write the result to `a0` and advance `pc`.
pub fn dispatch(_process: &Process, _thread: &mut Thread) -> Flow {
    todo!()
}
