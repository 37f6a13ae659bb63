//! Exact IEEE-754 arithmetic for the F and D extensions, as RISC-V defines it.
//!
//! Values are raw bit patterns (`u32` for single, `u64` for double; NaN
//! boxing is the caller's business). Every operation takes the *resolved*
//! rounding mode (never DYN) and ORs the exception flags it raises into
//! `fl` (the `fflags` bits of [`crate::cpu::fflags`]). Any NaN result is the
//! RISC-V canonical NaN (0x7fc00000 / 0x7ff8000000000000).
//!
//! SKELETON: the interface below is fixed; bodies are being implemented.
#![allow(unused_variables)]

/// A static or resolved dynamic rounding mode (`rm` field values 0..=4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Rm {
    /// Round to nearest, ties to even.
    Rne = 0,
    /// Round towards zero.
    Rtz = 1,
    /// Round down (towards -inf).
    Rdn = 2,
    /// Round up (towards +inf).
    Rup = 3,
    /// Round to nearest, ties to max magnitude.
    Rmm = 4,
}

impl Rm {
    /// Decode a 3-bit rm value; `None` for the reserved 5, 6 and for 7 (DYN,
    /// which the caller resolves from `frm` first).
    pub fn from_bits(v: u32) -> Option<Rm> {
        Some(match v {
            0 => Rm::Rne,
            1 => Rm::Rtz,
            2 => Rm::Rdn,
            3 => Rm::Rup,
            4 => Rm::Rmm,
            _ => return None,
        })
    }
}

/// Canonical single-precision NaN.
pub const CANONICAL_NAN_32: u32 = 0x7fc0_0000;
/// Canonical double-precision NaN.
pub const CANONICAL_NAN_64: u64 = 0x7ff8_0000_0000_0000;

pub fn f32_add(a: u32, b: u32, rm: Rm, fl: &mut u32) -> u32 {
    todo!()
}
pub fn f32_sub(a: u32, b: u32, rm: Rm, fl: &mut u32) -> u32 {
    todo!()
}
pub fn f32_mul(a: u32, b: u32, rm: Rm, fl: &mut u32) -> u32 {
    todo!()
}
pub fn f32_div(a: u32, b: u32, rm: Rm, fl: &mut u32) -> u32 {
    todo!()
}
pub fn f32_sqrt(a: u32, rm: Rm, fl: &mut u32) -> u32 {
    todo!()
}
/// `a * b + c` with a single rounding (fmadd; the caller flips signs for fmsub/fnmsub/fnmadd).
pub fn f32_fma(a: u32, b: u32, c: u32, rm: Rm, fl: &mut u32) -> u32 {
    todo!()
}
/// fmin: -0 < +0; one NaN operand gives the other; NV on signaling NaN.
pub fn f32_min(a: u32, b: u32, fl: &mut u32) -> u32 {
    todo!()
}
pub fn f32_max(a: u32, b: u32, fl: &mut u32) -> u32 {
    todo!()
}
/// feq: quiet (NV only for signaling NaN).
pub fn f32_eq(a: u32, b: u32, fl: &mut u32) -> bool {
    todo!()
}
/// flt: signaling (NV for any NaN).
pub fn f32_lt(a: u32, b: u32, fl: &mut u32) -> bool {
    todo!()
}
pub fn f32_le(a: u32, b: u32, fl: &mut u32) -> bool {
    todo!()
}
/// fclass: the 10-bit class mask.
pub fn f32_class(a: u32) -> u64 {
    todo!()
}
/// fcvt to i32: rounds with rm; out of range or NaN saturates and raises NV; inexact raises NX.
pub fn f32_to_i32(a: u32, rm: Rm, fl: &mut u32) -> i32 {
    todo!()
}
pub fn i32_to_f32(v: i32, rm: Rm, fl: &mut u32) -> u32 {
    todo!()
}
/// fcvt to u32: rounds with rm; out of range or NaN saturates and raises NV; inexact raises NX.
pub fn f32_to_u32(a: u32, rm: Rm, fl: &mut u32) -> u32 {
    todo!()
}
pub fn u32_to_f32(v: u32, rm: Rm, fl: &mut u32) -> u32 {
    todo!()
}
/// fcvt to i64: rounds with rm; out of range or NaN saturates and raises NV; inexact raises NX.
pub fn f32_to_i64(a: u32, rm: Rm, fl: &mut u32) -> i64 {
    todo!()
}
pub fn i64_to_f32(v: i64, rm: Rm, fl: &mut u32) -> u32 {
    todo!()
}
/// fcvt to u64: rounds with rm; out of range or NaN saturates and raises NV; inexact raises NX.
pub fn f32_to_u64(a: u32, rm: Rm, fl: &mut u32) -> u64 {
    todo!()
}
pub fn u64_to_f32(v: u64, rm: Rm, fl: &mut u32) -> u32 {
    todo!()
}
pub fn f64_add(a: u64, b: u64, rm: Rm, fl: &mut u32) -> u64 {
    todo!()
}
pub fn f64_sub(a: u64, b: u64, rm: Rm, fl: &mut u32) -> u64 {
    todo!()
}
pub fn f64_mul(a: u64, b: u64, rm: Rm, fl: &mut u32) -> u64 {
    todo!()
}
pub fn f64_div(a: u64, b: u64, rm: Rm, fl: &mut u32) -> u64 {
    todo!()
}
pub fn f64_sqrt(a: u64, rm: Rm, fl: &mut u32) -> u64 {
    todo!()
}
/// `a * b + c` with a single rounding (fmadd; the caller flips signs for fmsub/fnmsub/fnmadd).
pub fn f64_fma(a: u64, b: u64, c: u64, rm: Rm, fl: &mut u32) -> u64 {
    todo!()
}
/// fmin: -0 < +0; one NaN operand gives the other; NV on signaling NaN.
pub fn f64_min(a: u64, b: u64, fl: &mut u32) -> u64 {
    todo!()
}
pub fn f64_max(a: u64, b: u64, fl: &mut u32) -> u64 {
    todo!()
}
/// feq: quiet (NV only for signaling NaN).
pub fn f64_eq(a: u64, b: u64, fl: &mut u32) -> bool {
    todo!()
}
/// flt: signaling (NV for any NaN).
pub fn f64_lt(a: u64, b: u64, fl: &mut u32) -> bool {
    todo!()
}
pub fn f64_le(a: u64, b: u64, fl: &mut u32) -> bool {
    todo!()
}
/// fclass: the 10-bit class mask.
pub fn f64_class(a: u64) -> u64 {
    todo!()
}
/// fcvt to i32: rounds with rm; out of range or NaN saturates and raises NV; inexact raises NX.
pub fn f64_to_i32(a: u64, rm: Rm, fl: &mut u32) -> i32 {
    todo!()
}
pub fn i32_to_f64(v: i32, rm: Rm, fl: &mut u32) -> u64 {
    todo!()
}
/// fcvt to u32: rounds with rm; out of range or NaN saturates and raises NV; inexact raises NX.
pub fn f64_to_u32(a: u64, rm: Rm, fl: &mut u32) -> u32 {
    todo!()
}
pub fn u32_to_f64(v: u32, rm: Rm, fl: &mut u32) -> u64 {
    todo!()
}
/// fcvt to i64: rounds with rm; out of range or NaN saturates and raises NV; inexact raises NX.
pub fn f64_to_i64(a: u64, rm: Rm, fl: &mut u32) -> i64 {
    todo!()
}
pub fn i64_to_f64(v: i64, rm: Rm, fl: &mut u32) -> u64 {
    todo!()
}
/// fcvt to u64: rounds with rm; out of range or NaN saturates and raises NV; inexact raises NX.
pub fn f64_to_u64(a: u64, rm: Rm, fl: &mut u32) -> u64 {
    todo!()
}
pub fn u64_to_f64(v: u64, rm: Rm, fl: &mut u32) -> u64 {
    todo!()
}
/// fcvt.d.s (exact; NV on signaling NaN).
pub fn f32_to_f64(a: u32, fl: &mut u32) -> u64 {
    todo!()
}
/// fcvt.s.d.
pub fn f64_to_f32(a: u64, rm: Rm, fl: &mut u32) -> u32 {
    todo!()
}
