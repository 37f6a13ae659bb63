//! Fast paths on the host's own floating-point unit, compiled in only where
//! float arithmetic is IEEE-754 hardware (x86-64 with SSE2; the bare-metal
//! target `x86_64-unknown-none` is soft-float and uses `soft` alone).
//!
//! Rust's `+ - * /` on `f32`/`f64` are correctly rounded to nearest-even,
//! which is all these paths rely on: no host FP state (MXCSR) is read or
//! changed; it must keep its default (round to nearest, no flush-to-zero or
//! denormals-are-zero), which Rust code never alters. Each path answers only when the host's result is provably the
//! RISC-V result and its flags are known:
//! - the result is finite and strictly above the smallest normal in
//!   magnitude, so no overflow, no underflow (even with RISC-V's
//!   after-rounding tininess rule) and no NaN is involved;
//! - it is then either exact (checked with integer arithmetic or an
//!   error-free transformation), which makes it the answer in every rounding
//!   mode with no flag, or inexact in RNE, which is the answer with NX.
//!
//! Everything else (directed or RMM rounding of inexact results, special
//! operands, results near the range limits) returns `None` and goes to the
//! software implementation in `soft`. The fma paths have their own
//! arguments, given at each.

use super::Rm;
use super::soft::{F32, F64, Format, unpack};
use crate::cpu::fflags::NX;
use core::cmp::Ordering;

/// The integer significand (implicit bit included) of a finite non-zero value.
#[inline(always)]
fn int_sig<F: Format>(a: u64) -> u64 {
    let frac = a & F::FRAC_MASK;
    if a & F::EXP_MASK == 0 {
        frac
    } else {
        frac | 1 << F::M
    }
}

#[inline(always)]
fn odd(x: u64) -> u64 {
    // Masked so that 0 (an operand the caller will reject) cannot overflow.
    x >> (x.trailing_zeros() & 63)
}

/// Exact iff the odd part of the product of the significands fits in M+1 bits.
#[inline(always)]
fn product_exact<F: Format>(a: u64, b: u64) -> bool {
    let p = odd(int_sig::<F>(a)) as u128 * odd(int_sig::<F>(b)) as u128;
    p >> (F::M + 1) == 0
}

/// The rounded quotient `q` of `a / b` is exact iff `q * b == a`, i.e. iff the
/// odd parts of the significands satisfy odd(q) * odd(b) == odd(a) (the
/// exponents then agree, since q * b is within an ulp of a).
#[inline(always)]
fn quotient_exact<F: Format>(q: u64, a: u64, b: u64) -> bool {
    odd(int_sig::<F>(q)) as u128 * odd(int_sig::<F>(b)) as u128 == odd(int_sig::<F>(a)) as u128
}

macro_rules! arith {
    ($ty:ty, $fmt:ty, $add:ident, $mul:ident, $div:ident) => {
        #[inline(always)]
        fn accept(r: $ty, exact: bool, rm: Rm, fl: &mut u32) -> Option<u64> {
            // NaN fails both comparisons. Exactness is data-dependent and
            // unpredictable, so it feeds the flags without a branch.
            let m = r.abs();
            let in_range = m > <$ty>::MIN_POSITIVE && m < <$ty>::INFINITY;
            if !in_range | (!exact & (rm != Rm::Rne)) {
                return None;
            }
            *fl |= NX * !exact as u32;
            Some(r.to_bits() as u64)
        }

        #[inline(always)]
        pub(crate) fn $add(a: u64, b: u64, rm: Rm, fl: &mut u32) -> Option<u64> {
            let x = <$ty>::from_bits(a as _);
            let y = <$ty>::from_bits(b as _);
            let s = x + y;
            // Knuth's TwoSum: err is the exact rounding error of s.
            let bb = s - x;
            let err = (x - (s - bb)) + (y - bb);
            accept(s, err == 0.0, rm, fl)
        }

        #[inline(always)]
        pub(crate) fn $mul(a: u64, b: u64, rm: Rm, fl: &mut u32) -> Option<u64> {
            let p = <$ty>::from_bits(a as _) * <$ty>::from_bits(b as _);
            accept(p, product_exact::<$fmt>(a, b), rm, fl)
        }

        #[inline(always)]
        pub(crate) fn $div(a: u64, b: u64, rm: Rm, fl: &mut u32) -> Option<u64> {
            let q = <$ty>::from_bits(a as _) / <$ty>::from_bits(b as _);
            accept(q, quotient_exact::<$fmt>(q.to_bits() as u64, a, b), rm, fl)
        }
    };
}

mod single {
    use super::*;
    arith!(f32, F32, add, mul, div);
}
mod double {
    use super::*;
    arith!(f64, F64, add, mul, div);
}
pub(super) use double::{add as add64, div as div64, mul as mul64};
pub(super) use single::{add as add32, div as div32, mul as mul32};

/// Compare `r * r` with `a` exactly (both positive, finite, non-zero).
#[inline(always)]
fn square_cmp<F: Format>(r: u64, a: u64) -> Ordering {
    let (er, sr) = unpack::<F>(r);
    let (ea, sa) = unpack::<F>(a);
    // r*r = sr^2 * 2^(2er - 124), a = (sa << 62) * 2^(ea - 124); r is within
    // an ulp of sqrt(a), so d = 2er - ea lies in -2..=1.
    let sq = sr as u128 * sr as u128;
    let aa = (sa as u128) << 62;
    let d = 2 * er - ea;
    if d >= 0 {
        (sq << d).cmp(&aa)
    } else {
        sq.cmp(&(aa << -d))
    }
}

/// Square root from the host's correctly rounded (RNE) one: a square root is
/// never a tie, so every mode's result is that one or its neighbour, chosen
/// by comparing its square with the operand exactly. Only NX can arise.
#[inline(always)]
fn sqrt_from_rne<F: Format>(a: u64, r: u64, rm: Rm, fl: &mut u32) -> u64 {
    let c = square_cmp::<F>(r, a);
    if c == Ordering::Equal {
        return r;
    }
    *fl |= NX;
    match rm {
        Rm::Rne | Rm::Rmm => r,
        Rm::Rup if c == Ordering::Less => r + 1,
        Rm::Rdn | Rm::Rtz if c == Ordering::Greater => r - 1,
        _ => r,
    }
}

/// Positive, finite and non-zero: the only operands the sqrt paths take.
#[inline(always)]
fn sqrt_operand<F: Format>(a: u64) -> bool {
    a != 0 && a < F::EXP_MASK
}

mod hw_sqrt {
    use core::arch::x86_64::{
        _mm_cvtsd_f64, _mm_cvtss_f32, _mm_set_sd, _mm_set_ss, _mm_sqrt_sd, _mm_sqrt_ss,
    };

    #[inline(always)]
    pub(super) fn sqrt64(x: f64) -> f64 {
        // SAFETY: these intrinsics only need SSE2, which the cfg on this
        // module (in mod.rs) guarantees the target has.
        unsafe {
            let v = _mm_set_sd(x);
            _mm_cvtsd_f64(_mm_sqrt_sd(v, v))
        }
    }

    #[inline(always)]
    pub(super) fn sqrt32(x: f32) -> f32 {
        // SAFETY: as above (SSE, implied by SSE2).
        unsafe { _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(x))) }
    }
}

#[inline(always)]
pub(super) fn sqrt64(a: u64, rm: Rm, fl: &mut u32) -> Option<u64> {
    if !sqrt_operand::<F64>(a) {
        return None;
    }
    let r = hw_sqrt::sqrt64(f64::from_bits(a)).to_bits();
    Some(sqrt_from_rne::<F64>(a, r, rm, fl))
}

#[inline(always)]
pub(super) fn sqrt32(a: u64, rm: Rm, fl: &mut u32) -> Option<u64> {
    if !sqrt_operand::<F32>(a) {
        return None;
    }
    let r = hw_sqrt::sqrt32(f32::from_bits(a as u32)).to_bits() as u64;
    Some(sqrt_from_rne::<F32>(a, r, rm, fl))
}

/// Truncating conversions (C casts compile to `fcvt` with `rtz`): when the
/// value is well inside the target range, Rust's `as` is the answer.
macro_rules! trunc {
    ($name:ident, $ty:ty, $int:ty, $limit:expr) => {
        #[inline(always)]
        pub(super) fn $name(a: u64, rm: Rm, fl: &mut u32) -> Option<$int> {
            let x = <$ty>::from_bits(a as _);
            if rm != Rm::Rtz || x.is_nan() || x.abs() >= $limit {
                return None;
            }
            let i = x as $int;
            *fl |= NX * (i as $ty != x) as u32;
            Some(i)
        }
    };
}
trunc!(f64_to_i32, f64, i32, 2147483648.0);
trunc!(f64_to_i64, f64, i64, 9223372036854775808.0);
trunc!(f32_to_i32, f32, i32, 2147483648.0);
trunc!(f32_to_i64, f32, i64, 9223372036854775808.0);

/// The bits of `s + err` rounded to odd, where `s` is a non-zero RNE sum
/// and `err` its exact error: if inexact and even, the neighbour towards the
/// exact value (adjacent doubles alternate in parity). Branch-free, since
/// exactness and parity are unpredictable.
#[inline(always)]
fn round_to_odd(s: f64, err: f64) -> u64 {
    let bits = s.to_bits();
    let adjust = (err != 0.0) & (bits & 1 == 0);
    // +1 moves away from zero, -1 towards it.
    let step = if (err > 0.0) == (s > 0.0) {
        1
    } else {
        u64::MAX
    };
    bits.wrapping_add(step & (adjust as u64).wrapping_neg())
}

/// Single-precision fma through doubles, in every rounding mode: the product
/// of two singles is exact in a double; the sum with the addend is made
/// exact-or-odd (TwoSum gives its rounding error; an inexact even result is
/// moved one double ulp towards the exact value, i.e. rounded to odd), and
/// rounding to odd at 53 bits followed by rounding to 24 bits is the same as
/// rounding the exact value once (53 >= 24 + 2), flags included.
#[inline(always)]
pub(super) fn fma32(a: u64, b: u64, c: u64, rm: Rm, fl: &mut u32) -> Option<u64> {
    let finite_nonzero = |v: u64| (v & 0x7fff_ffff).wrapping_sub(1) < 0x7f7f_ffff;
    if !(finite_nonzero(a) & finite_nonzero(b) & finite_nonzero(c)) {
        return None;
    }
    let x = f32::from_bits(a as u32) as f64;
    let y = f32::from_bits(b as u32) as f64;
    let z = f32::from_bits(c as u32) as f64;
    let p = x * y;
    let s = p + z;
    let bb = s - p;
    let err = (p - (s - bb)) + (z - bb);
    if s == 0.0 {
        // An exact zero, whose sign depends on the rounding mode.
        return None;
    }
    let bits = round_to_odd(s, err);
    Some(super::soft::convert::<F64, F32>(bits, rm, fl))
}

/// Double-precision fma, round-to-nearest-even only, and only when NX is
/// already among the accrued flags (the caller passes `fflags` itself): then
/// an inexact result changes no flag and no exactness test is needed (the
/// trick QEMU's hardfloat uses). The range checks rule out OF, UF and NaNs.
///
/// With a hardware FMA in the build's target features (e.g. `-C
/// target-cpu=native`) that instruction does the work. Otherwise the fma is
/// emulated with plain double operations after Boldo and Melquiond
/// ("Emulation of FMA and correctly rounded sums: proved algorithms using
/// rounding to odd", IEEE TC 2008): the exact product as ph + pl (Dekker),
/// (th, tl) = TwoSum(c, ph), v = tl + pl rounded to odd, result th + v.
#[inline(always)]
pub(super) fn fma64(a: u64, b: u64, c: u64, rm: Rm, fl: &mut u32) -> Option<u64> {
    if rm != Rm::Rne || *fl & NX == 0 {
        return None;
    }
    let r = fma64_rne(a, b, c)?;
    let m = r.abs();
    if m > f64::MIN_POSITIVE && m < f64::INFINITY {
        Some(r.to_bits())
    } else {
        None
    }
}

#[cfg(target_feature = "fma")]
#[inline(always)]
fn fma64_rne(a: u64, b: u64, c: u64) -> Option<f64> {
    use core::arch::x86_64::{_mm_cvtsd_f64, _mm_fmadd_sd, _mm_set_sd};
    // SAFETY: the FMA instructions are enabled for this build (cfg).
    Some(unsafe {
        _mm_cvtsd_f64(_mm_fmadd_sd(
            _mm_set_sd(f64::from_bits(a)),
            _mm_set_sd(f64::from_bits(b)),
            _mm_set_sd(f64::from_bits(c)),
        ))
    })
}

#[cfg(not(target_feature = "fma"))]
#[inline(always)]
fn fma64_rne(a: u64, b: u64, c: u64) -> Option<f64> {
    // Moderate exponents only (this also excludes zeros, subnormals,
    // infinities and NaNs): Dekker's splitting cannot overflow, the product's
    // error term cannot underflow, and no sum below can overflow.
    let moderate = |v: u64, r: u64| ((v >> 52) & 0x7ff).wrapping_sub(1023 - r) <= 2 * r;
    if !(moderate(a, 450) & moderate(b, 450) & moderate(c, 900)) {
        return None;
    }
    let (x, y, z) = (f64::from_bits(a), f64::from_bits(b), f64::from_bits(c));
    // Dekker's exact product: x * y = ph + pl.
    let split = |v: f64| {
        let t = 134217729.0 * v; // 2^27 + 1
        let hi = t - (t - v);
        (hi, v - hi)
    };
    let ph = x * y;
    let (xh, xl) = split(x);
    let (yh, yl) = split(y);
    let pl = ((xh * yh - ph) + xh * yl + xl * yh) + xl * yl;
    let two_sum = |p: f64, q: f64| {
        let s = p + q;
        let bb = s - p;
        (s, (p - (s - bb)) + (q - bb))
    };
    let (th, tl) = two_sum(z, ph);
    let (v, ve) = two_sum(tl, pl);
    Some(th + f64::from_bits(round_to_odd(v, ve)))
}
