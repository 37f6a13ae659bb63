//! Decoder: RV64GC instruction bits to [`Inst`], the one description of
//! each instruction shared by the interpreter, the translator and the
//! disassembler.
//!
//! SKELETON: to be filled in.

/// A decoded instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inst {
    /// Not a valid RV64GC instruction.
    Illegal(u32),
}
