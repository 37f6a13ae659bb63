//! Exact IEEE-754 arithmetic for the F and D extensions, as RISC-V defines it.
//!
//! Values are raw bit patterns (`u32` for single, `u64` for double; NaN
//! boxing is the caller's business). Every operation takes the *resolved*
//! rounding mode (never DYN) and ORs the exception flags it raises into
//! `fl` (the `fflags` bits of [`crate::cpu::fflags`]). Any NaN result is the
//! RISC-V canonical NaN (0x7fc00000 / 0x7ff8000000000000).
//!
//! Design: two layers.
//! - `soft`: a complete software implementation, written once for both
//!   formats over a `soft::Format` parameter. Integer arithmetic only
//!   (significands in `u64`, products and fused sums in `u128`, shifted-out
//!   bits kept in a sticky bit), so it is exact by construction in all five
//!   rounding modes, needs no host FP state and runs unchanged on the
//!   soft-float bare-metal target.
//! - `native` (x86-64 with SSE2 only): fast paths on plain Rust float
//!   operations, which are IEEE round-to-nearest-even. They answer only
//!   when the host result is provably the RISC-V one and its flags are
//!   known (finite, clear of the overflow and underflow ranges, and exact,
//!   or inexact under RNE), which covers almost every operation of ordinary
//!   programs; everything else falls through to `soft`. Single fma goes
//!   through doubles with rounding to odd (all modes); double fma under RNE
//!   is emulated with double operations (or uses a hardware FMA if the build
//!   targets one) once NX has been accrued, so callers should pass the
//!   guest's `fflags` itself as `fl`, not a fresh zero.
//!
//! The alternative, running the x86 instruction under a guest-chosen MXCSR
//! rounding mode and mapping its flags, was rejected: x86 has no
//! ties-to-max-magnitude mode, no unsigned conversions and no canonical NaN,
//! so a software twin is needed anyway; writing MXCSR costs more than the
//! checks above; and host FP state would have to be kept consistent around
//! every guest operation.
//!
//! Exactness is checked, for both layers, in `tests` against reference
//! vectors from two implementations: RISC-V instructions run under
//! qemu-riscv64 (QEMU's softfloat; `testdata/gen.c`) and Berkeley SoftFloat
//! (`testdata/softfloat_gen.py`).

use soft::{F32, F64};

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod native;
mod soft;

/// Return the host fast path's answer when it has one (see `native`), else
/// run the software path, kept out of line so the fast path stays small
/// enough to inline into the interpreter.
macro_rules! fast_or_soft {
    ($fast:expr, $soft:expr) => {{
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        {
            if let Some(r) = $fast {
                return r as _;
            }
            cold(|| $soft)
        }
        #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
        {
            $soft
        }
    }};
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[cold]
#[inline(never)]
fn cold<R>(f: impl FnOnce() -> R) -> R {
    f()
}
#[cfg(test)]
pub(crate) mod tests;

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

#[inline]
pub fn f32_add(a: u32, b: u32, rm: Rm, fl: &mut u32) -> u32 {
    fast_or_soft!(
        native::add32(a as u64, b as u64, rm, fl),
        soft::add::<F32>(a as u64, b as u64, rm, fl) as u32
    )
}
#[inline]
pub fn f32_sub(a: u32, b: u32, rm: Rm, fl: &mut u32) -> u32 {
    fast_or_soft!(
        native::add32(a as u64, (b ^ 0x8000_0000) as u64, rm, fl),
        soft::add::<F32>(a as u64, (b ^ 0x8000_0000) as u64, rm, fl) as u32
    )
}
#[inline]
pub fn f32_mul(a: u32, b: u32, rm: Rm, fl: &mut u32) -> u32 {
    fast_or_soft!(
        native::mul32(a as u64, b as u64, rm, fl),
        soft::mul::<F32>(a as u64, b as u64, rm, fl) as u32
    )
}
#[inline]
pub fn f32_div(a: u32, b: u32, rm: Rm, fl: &mut u32) -> u32 {
    fast_or_soft!(
        native::div32(a as u64, b as u64, rm, fl),
        soft::div::<F32>(a as u64, b as u64, rm, fl) as u32
    )
}
#[inline]
pub fn f32_sqrt(a: u32, rm: Rm, fl: &mut u32) -> u32 {
    fast_or_soft!(
        native::sqrt32(a as u64, rm, fl),
        soft::sqrt::<F32>(a as u64, rm, fl) as u32
    )
}
/// `a * b + c` with a single rounding (fmadd). The other fused ops flip
/// operand signs (checked against RISC-V in the tests): fmsub = fma(a, b, -c),
/// fnmsub = fma(-a, b, c), fnmadd = fma(-a, b, -c).
#[inline]
pub fn f32_fma(a: u32, b: u32, c: u32, rm: Rm, fl: &mut u32) -> u32 {
    fast_or_soft!(
        native::fma32(a as u64, b as u64, c as u64, rm, fl),
        soft::fma::<F32>(a as u64, b as u64, c as u64, rm, fl) as u32
    )
}
/// fmin: -0 < +0; one NaN operand gives the other; NV on signaling NaN.
#[inline]
pub fn f32_min(a: u32, b: u32, fl: &mut u32) -> u32 {
    soft::min_max::<F32>(a as u64, b as u64, false, fl) as u32
}
#[inline]
pub fn f32_max(a: u32, b: u32, fl: &mut u32) -> u32 {
    soft::min_max::<F32>(a as u64, b as u64, true, fl) as u32
}
/// feq: quiet (NV only for signaling NaN).
#[inline]
pub fn f32_eq(a: u32, b: u32, fl: &mut u32) -> bool {
    soft::eq::<F32>(a as u64, b as u64, fl)
}
/// flt: signaling (NV for any NaN).
#[inline]
pub fn f32_lt(a: u32, b: u32, fl: &mut u32) -> bool {
    soft::lt::<F32>(a as u64, b as u64, fl)
}
#[inline]
pub fn f32_le(a: u32, b: u32, fl: &mut u32) -> bool {
    soft::le::<F32>(a as u64, b as u64, fl)
}
/// fclass: the 10-bit class mask.
#[inline]
pub fn f32_class(a: u32) -> u64 {
    soft::class::<F32>(a as u64)
}
/// fcvt to i32: rounds with rm; out of range or NaN saturates and raises NV; inexact raises NX.
#[inline]
pub fn f32_to_i32(a: u32, rm: Rm, fl: &mut u32) -> i32 {
    fast_or_soft!(
        native::f32_to_i32(a as u64, rm, fl),
        soft::to_int::<F32>(a as u64, rm, true, 32, fl) as i32
    )
}
#[inline]
pub fn i32_to_f32(v: i32, rm: Rm, fl: &mut u32) -> u32 {
    soft::from_int::<F32>(v < 0, v.unsigned_abs() as u64, rm, fl) as u32
}
/// fcvt to u32: rounds with rm; out of range or NaN saturates and raises NV; inexact raises NX.
#[inline]
pub fn f32_to_u32(a: u32, rm: Rm, fl: &mut u32) -> u32 {
    soft::to_int::<F32>(a as u64, rm, false, 32, fl) as u32
}
#[inline]
pub fn u32_to_f32(v: u32, rm: Rm, fl: &mut u32) -> u32 {
    soft::from_int::<F32>(false, v as u64, rm, fl) as u32
}
/// fcvt to i64: rounds with rm; out of range or NaN saturates and raises NV; inexact raises NX.
#[inline]
pub fn f32_to_i64(a: u32, rm: Rm, fl: &mut u32) -> i64 {
    fast_or_soft!(
        native::f32_to_i64(a as u64, rm, fl),
        soft::to_int::<F32>(a as u64, rm, true, 64, fl) as i64
    )
}
#[inline]
pub fn i64_to_f32(v: i64, rm: Rm, fl: &mut u32) -> u32 {
    soft::from_int::<F32>(v < 0, v.unsigned_abs(), rm, fl) as u32
}
/// fcvt to u64: rounds with rm; out of range or NaN saturates and raises NV; inexact raises NX.
#[inline]
pub fn f32_to_u64(a: u32, rm: Rm, fl: &mut u32) -> u64 {
    soft::to_int::<F32>(a as u64, rm, false, 64, fl)
}
#[inline]
pub fn u64_to_f32(v: u64, rm: Rm, fl: &mut u32) -> u32 {
    soft::from_int::<F32>(false, v, rm, fl) as u32
}
#[inline]
pub fn f64_add(a: u64, b: u64, rm: Rm, fl: &mut u32) -> u64 {
    fast_or_soft!(native::add64(a, b, rm, fl), soft::add::<F64>(a, b, rm, fl))
}
#[inline]
pub fn f64_sub(a: u64, b: u64, rm: Rm, fl: &mut u32) -> u64 {
    fast_or_soft!(
        native::add64(a, b ^ (1 << 63), rm, fl),
        soft::add::<F64>(a, b ^ (1 << 63), rm, fl)
    )
}
#[inline]
pub fn f64_mul(a: u64, b: u64, rm: Rm, fl: &mut u32) -> u64 {
    fast_or_soft!(native::mul64(a, b, rm, fl), soft::mul::<F64>(a, b, rm, fl))
}
#[inline]
pub fn f64_div(a: u64, b: u64, rm: Rm, fl: &mut u32) -> u64 {
    fast_or_soft!(native::div64(a, b, rm, fl), soft::div::<F64>(a, b, rm, fl))
}
#[inline]
pub fn f64_sqrt(a: u64, rm: Rm, fl: &mut u32) -> u64 {
    fast_or_soft!(native::sqrt64(a, rm, fl), soft::sqrt::<F64>(a, rm, fl))
}
/// `a * b + c` with a single rounding (fmadd). The other fused ops flip
/// operand signs (checked against RISC-V in the tests): fmsub = fma(a, b, -c),
/// fnmsub = fma(-a, b, c), fnmadd = fma(-a, b, -c).
#[inline]
pub fn f64_fma(a: u64, b: u64, c: u64, rm: Rm, fl: &mut u32) -> u64 {
    fast_or_soft!(
        native::fma64(a, b, c, rm, fl),
        soft::fma::<F64>(a, b, c, rm, fl)
    )
}
/// fmin: -0 < +0; one NaN operand gives the other; NV on signaling NaN.
#[inline]
pub fn f64_min(a: u64, b: u64, fl: &mut u32) -> u64 {
    soft::min_max::<F64>(a, b, false, fl)
}
#[inline]
pub fn f64_max(a: u64, b: u64, fl: &mut u32) -> u64 {
    soft::min_max::<F64>(a, b, true, fl)
}
/// feq: quiet (NV only for signaling NaN).
#[inline]
pub fn f64_eq(a: u64, b: u64, fl: &mut u32) -> bool {
    soft::eq::<F64>(a, b, fl)
}
/// flt: signaling (NV for any NaN).
#[inline]
pub fn f64_lt(a: u64, b: u64, fl: &mut u32) -> bool {
    soft::lt::<F64>(a, b, fl)
}
#[inline]
pub fn f64_le(a: u64, b: u64, fl: &mut u32) -> bool {
    soft::le::<F64>(a, b, fl)
}
/// fclass: the 10-bit class mask.
#[inline]
pub fn f64_class(a: u64) -> u64 {
    soft::class::<F64>(a)
}
/// fcvt to i32: rounds with rm; out of range or NaN saturates and raises NV; inexact raises NX.
#[inline]
pub fn f64_to_i32(a: u64, rm: Rm, fl: &mut u32) -> i32 {
    fast_or_soft!(
        native::f64_to_i32(a, rm, fl),
        soft::to_int::<F64>(a, rm, true, 32, fl) as i32
    )
}
#[inline]
pub fn i32_to_f64(v: i32, rm: Rm, fl: &mut u32) -> u64 {
    soft::from_int::<F64>(v < 0, v.unsigned_abs() as u64, rm, fl)
}
/// fcvt to u32: rounds with rm; out of range or NaN saturates and raises NV; inexact raises NX.
#[inline]
pub fn f64_to_u32(a: u64, rm: Rm, fl: &mut u32) -> u32 {
    soft::to_int::<F64>(a, rm, false, 32, fl) as u32
}
#[inline]
pub fn u32_to_f64(v: u32, rm: Rm, fl: &mut u32) -> u64 {
    soft::from_int::<F64>(false, v as u64, rm, fl)
}
/// fcvt to i64: rounds with rm; out of range or NaN saturates and raises NV; inexact raises NX.
#[inline]
pub fn f64_to_i64(a: u64, rm: Rm, fl: &mut u32) -> i64 {
    fast_or_soft!(
        native::f64_to_i64(a, rm, fl),
        soft::to_int::<F64>(a, rm, true, 64, fl) as i64
    )
}
#[inline]
pub fn i64_to_f64(v: i64, rm: Rm, fl: &mut u32) -> u64 {
    soft::from_int::<F64>(v < 0, v.unsigned_abs(), rm, fl)
}
/// fcvt to u64: rounds with rm; out of range or NaN saturates and raises NV; inexact raises NX.
#[inline]
pub fn f64_to_u64(a: u64, rm: Rm, fl: &mut u32) -> u64 {
    soft::to_int::<F64>(a, rm, false, 64, fl)
}
#[inline]
pub fn u64_to_f64(v: u64, rm: Rm, fl: &mut u32) -> u64 {
    soft::from_int::<F64>(false, v, rm, fl)
}
/// fcvt.d.s (exact; NV on signaling NaN).
#[inline]
pub fn f32_to_f64(a: u32, fl: &mut u32) -> u64 {
    soft::convert::<F32, F64>(a as u64, Rm::Rne, fl)
}
/// fcvt.s.d.
#[inline]
pub fn f64_to_f32(a: u64, rm: Rm, fl: &mut u32) -> u32 {
    soft::convert::<F64, F32>(a, rm, fl) as u32
}
