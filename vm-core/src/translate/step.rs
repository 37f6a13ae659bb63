//! Single-step fallback: the instructions the back end does not translate
//! inline (system instructions, CSRs, atomics, most of F/D) run one at a
//! time through the interpreter's single-instruction entry point, so their
//! semantics are written once, in [`crate::interp`].
//!
//! The glue translated code calls is the back end's step helper (on x86-64,
//! `step_helper` in its folder): it puts `pc` and `instret` in the `Cpu`
//! for the instruction (translated code keeps them in its exits), calls
//! [`step`], and encodes the outcome as a status for the generated code
//! (trap, or code changed by `fence.i`).
//!
//! Contract (see [`crate::interp::step`]): `Ok(())` means the instruction
//! retired (`pc` advanced, `instret` + 1); `Err(trap)` leaves `pc` at the
//! instruction and the registers untouched, except `ecall`, which counts
//! as retired (the OS-call layer completes it and moves `pc` on).

pub use crate::interp::step;
