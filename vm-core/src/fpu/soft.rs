//! Format-generic software IEEE-754 arithmetic behind the public [`super`] API.
//!
//! Both formats are handled by the same code, parameterised by [`Format`];
//! a value's bits travel zero-extended in a `u64`. Finite non-zero operands
//! are unpacked to `(e, sig)` with `value = sig * 2^(e - 62)` and the
//! significand's leading one at bit 62, which leaves bit 63 free for a carry
//! and at least 10 bits below the result's last place for rounding. Bits
//! shifted out of a significand are "jammed" (ORed) into bit 0 so that
//! rounding still sees an inexact value on the correct side of every
//! rounding boundary.

use super::Rm;
use crate::cpu::fflags::{DZ, NV, NX, OF, UF};

/// The parameters of a binary interchange format.
pub(crate) trait Format {
    /// Fraction (stored mantissa) bits.
    const M: u32;
    /// Exponent bits.
    const E: u32;
    const BIAS: i32 = (1 << (Self::E - 1)) - 1;
    /// The all-ones exponent field (infinities and NaNs).
    const EMAX: i32 = (1 << Self::E) - 1;
    const SIGN: u64 = 1 << (Self::M + Self::E);
    const EXP_MASK: u64 = (Self::EMAX as u64) << Self::M;
    const FRAC_MASK: u64 = (1 << Self::M) - 1;
    const QUIET: u64 = 1 << (Self::M - 1);
    const CANONICAL_NAN: u64 = Self::EXP_MASK | Self::QUIET;
}

/// binary32.
pub(crate) struct F32;
impl Format for F32 {
    const M: u32 = 23;
    const E: u32 = 8;
}

/// binary64.
pub(crate) struct F64;
impl Format for F64 {
    const M: u32 = 52;
    const E: u32 = 11;
}

#[inline(always)]
fn is_nan<F: Format>(a: u64) -> bool {
    a & !F::SIGN > F::EXP_MASK
}

#[inline(always)]
fn is_snan<F: Format>(a: u64) -> bool {
    is_nan::<F>(a) && a & F::QUIET == 0
}

#[inline(always)]
fn is_inf<F: Format>(a: u64) -> bool {
    a & !F::SIGN == F::EXP_MASK
}

#[inline(always)]
fn is_zero<F: Format>(a: u64) -> bool {
    a & !F::SIGN == 0
}

#[inline(always)]
fn sign_of<F: Format>(a: u64) -> bool {
    a & F::SIGN != 0
}

/// The NaN result of an operation with NaN operands: NV if any is signaling.
#[inline(always)]
fn nan_result<F: Format>(a: u64, b: u64, fl: &mut u32) -> u64 {
    if is_snan::<F>(a) || is_snan::<F>(b) {
        *fl |= NV;
    }
    F::CANONICAL_NAN
}

#[inline(always)]
fn invalid<F: Format>(fl: &mut u32) -> u64 {
    *fl |= NV;
    F::CANONICAL_NAN
}

/// Unpack a finite non-zero value into `(e, sig)` (see the module doc).
#[inline(always)]
pub(crate) fn unpack<F: Format>(a: u64) -> (i32, u64) {
    let ef = ((a >> F::M) as i32) & F::EMAX;
    let frac = a & F::FRAC_MASK;
    if ef == 0 {
        let sh = frac.leading_zeros() - 1;
        (1 - F::BIAS - F::M as i32 + 62 - sh as i32, frac << sh)
    } else {
        (ef - F::BIAS, (frac | 1 << F::M) << (62 - F::M))
    }
}

/// `x >> n`, ORing any bits shifted out into bit 0. Written without a
/// branch on the (data-dependent) shift amount except for huge shifts.
#[inline(always)]
pub(crate) fn shift_right_jam(x: u64, n: u32) -> u64 {
    if n >= 64 {
        return (x != 0) as u64;
    }
    (x >> n) | (x & ((1u64 << n) - 1) != 0) as u64
}

#[inline(always)]
fn shift_right_jam128(x: u128, n: u32) -> u128 {
    if n >= 128 {
        return (x != 0) as u128;
    }
    (x >> n) | (x & ((1u128 << n) - 1) != 0) as u128
}

/// Narrow a 128-bit significand with its leading one at bit 126 to 64 bits
/// (leading one at bit 62), jamming the dropped bits.
#[inline(always)]
fn narrow(x: u128) -> u64 {
    (x >> 64) as u64 | (x as u64 != 0) as u64
}

/// The overflowed result for `rm`: infinity or the largest finite value.
#[inline(always)]
fn overflow<F: Format>(sign: bool, rm: Rm, fl: &mut u32) -> u64 {
    *fl |= OF | NX;
    let to_inf = match rm {
        Rm::Rne | Rm::Rmm => true,
        Rm::Rtz => false,
        Rm::Rdn => sign,
        Rm::Rup => !sign,
    };
    let s = if sign { F::SIGN } else { 0 };
    s | if to_inf { F::EXP_MASK } else { F::EXP_MASK - 1 }
}

/// Round `sig * 2^(e - 62)` (leading one of `sig` at bit 62, bit 0 sticky)
/// to the format with `rm`, raising NX/UF/OF. Tininess is detected after
/// rounding, as RISC-V requires.
#[inline(always)]
pub(crate) fn round_pack<F: Format>(sign: bool, e: i32, sig: u64, rm: Rm, fl: &mut u32) -> u64 {
    let rb = 62 - F::M;
    let mask = (1u64 << rb) - 1;
    let half = 1u64 << (rb - 1);
    let inc = match rm {
        Rm::Rne | Rm::Rmm => half,
        Rm::Rtz => 0,
        Rm::Rdn => {
            if sign {
                mask
            } else {
                0
            }
        }
        Rm::Rup => {
            if sign {
                0
            } else {
                mask
            }
        }
    };
    let s = if sign { F::SIGN } else { 0 };
    let biased = e + F::BIAS;
    if biased <= 0 {
        // Tiny if, rounded to full precision with an unbounded exponent,
        // the result would still be below the smallest normal.
        let tiny = biased < 0 || sig + inc < 1 << 63;
        let sig = shift_right_jam(sig, (1 - biased) as u32);
        let rbits = sig & mask;
        if rbits != 0 {
            *fl |= NX;
            if tiny {
                *fl |= UF;
            }
        }
        let mut r = (sig + inc) >> rb;
        if rm == Rm::Rne && rbits == half {
            r &= !1;
        }
        // A carry into bit M yields the smallest normal's encoding.
        return s | r;
    }
    if biased >= F::EMAX - 1 && (biased >= F::EMAX || sig + inc >= 1 << 63) {
        return overflow::<F>(sign, rm, fl);
    }
    let rbits = sig & mask;
    if rbits != 0 {
        *fl |= NX;
    }
    let mut r = (sig + inc) >> rb;
    if rm == Rm::Rne && rbits == half {
        r &= !1;
    }
    // `+` rather than `|`: a rounding carry out of the significand bumps
    // the exponent field, which is exactly right.
    s | ((((biased - 1) as u64) << F::M) + r)
}

/// The exact zero of `x - x` (and of `+0 + -0`): -0 only when rounding down.
#[inline(always)]
fn exact_zero<F: Format>(rm: Rm) -> u64 {
    if rm == Rm::Rdn { F::SIGN } else { 0 }
}

pub(crate) fn add<F: Format>(a: u64, b: u64, rm: Rm, fl: &mut u32) -> u64 {
    let sa = sign_of::<F>(a);
    let sb = sign_of::<F>(b);
    if is_nan::<F>(a) || is_nan::<F>(b) {
        return nan_result::<F>(a, b, fl);
    }
    if is_inf::<F>(a) {
        if is_inf::<F>(b) && sa != sb {
            return invalid::<F>(fl);
        }
        return a;
    }
    if is_inf::<F>(b) {
        return b;
    }
    if is_zero::<F>(a) {
        if is_zero::<F>(b) {
            return if sa == sb { a } else { exact_zero::<F>(rm) };
        }
        return b;
    }
    if is_zero::<F>(b) {
        return a;
    }
    let (ea, ma) = unpack::<F>(a);
    let (eb, mb) = unpack::<F>(b);
    if sa == sb {
        let (e, big, small, d) = if ea >= eb {
            (ea, ma, mb, ea - eb)
        } else {
            (eb, mb, ma, eb - ea)
        };
        let mut sum = big + shift_right_jam(small, d as u32);
        let mut e = e;
        if sum >= 1 << 63 {
            sum = (sum >> 1) | (sum & 1);
            e += 1;
        }
        round_pack::<F>(sa, e, sum, rm, fl)
    } else {
        let a_bigger = ea > eb || (ea == eb && ma >= mb);
        let (sign, e, big, small, d) = if a_bigger {
            (sa, ea, ma, mb, ea - eb)
        } else {
            (sb, eb, mb, ma, eb - ea)
        };
        if d == 0 && big == small {
            return exact_zero::<F>(rm);
        }
        let diff = big - shift_right_jam(small, d as u32);
        let sh = diff.leading_zeros() - 1;
        round_pack::<F>(sign, e - sh as i32, diff << sh, rm, fl)
    }
}

pub(crate) fn mul<F: Format>(a: u64, b: u64, rm: Rm, fl: &mut u32) -> u64 {
    let sign = sign_of::<F>(a) != sign_of::<F>(b);
    let s = if sign { F::SIGN } else { 0 };
    if is_nan::<F>(a) || is_nan::<F>(b) {
        return nan_result::<F>(a, b, fl);
    }
    if is_inf::<F>(a) || is_inf::<F>(b) {
        if is_zero::<F>(a) || is_zero::<F>(b) {
            return invalid::<F>(fl);
        }
        return s | F::EXP_MASK;
    }
    if is_zero::<F>(a) || is_zero::<F>(b) {
        return s;
    }
    let (ea, ma) = unpack::<F>(a);
    let (eb, mb) = unpack::<F>(b);
    let p = ma as u128 * mb as u128;
    // p is in [2^124, 2^126): bring its leading one to bit 126 (k is 1 or 2).
    let k = p.leading_zeros() - 1;
    round_pack::<F>(sign, ea + eb + 2 - k as i32, narrow(p << k), rm, fl)
}

pub(crate) fn div<F: Format>(a: u64, b: u64, rm: Rm, fl: &mut u32) -> u64 {
    let sign = sign_of::<F>(a) != sign_of::<F>(b);
    let s = if sign { F::SIGN } else { 0 };
    if is_nan::<F>(a) || is_nan::<F>(b) {
        return nan_result::<F>(a, b, fl);
    }
    if is_inf::<F>(a) {
        if is_inf::<F>(b) {
            return invalid::<F>(fl);
        }
        return s | F::EXP_MASK;
    }
    if is_inf::<F>(b) {
        return s;
    }
    if is_zero::<F>(b) {
        if is_zero::<F>(a) {
            return invalid::<F>(fl);
        }
        *fl |= DZ;
        return s | F::EXP_MASK;
    }
    if is_zero::<F>(a) {
        return s;
    }
    let (ea, na) = unpack::<F>(a);
    let (eb, nb) = unpack::<F>(b);
    let mut e = ea - eb;
    let sig = if F::M < 32 {
        // Single: the significands have at most 24 bits, so a 64-bit
        // division gives a quotient of 39+ bits, more than enough.
        let db = nb >> (62 - F::M);
        let (q, r, sh) = if na >= nb {
            (na / db, na % db, 23)
        } else {
            e -= 1;
            (na / db, na % db, 24)
        };
        (q << sh) | (r != 0) as u64
    } else {
        let num = if na >= nb {
            (na as u128) << 62
        } else {
            e -= 1;
            (na as u128) << 63
        };
        let q = num / nb as u128;
        let r = num - q * nb as u128;
        q as u64 | (r != 0) as u64
    };
    round_pack::<F>(sign, e, sig, rm, fl)
}

/// Integer square root by the digit-by-digit method (const: builds the table).
const fn isqrt_const(n: u128) -> u128 {
    let mut x = n;
    let mut r: u128 = 0;
    let mut bit: u128 = 1 << ((127 - n.leading_zeros()) & !1);
    while bit != 0 {
        if x >= r + bit {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    r
}

/// 1/sqrt(x) at the midpoints of the 96 intervals [j/32, (j+1)/32) of
/// [1, 4), as Q31 (about 8 correct bits): the seed for Newton's iteration.
const RSQRT_SEED: [u32; 96] = {
    let mut t = [0u32; 96];
    let mut i = 0;
    while i < 96 {
        let j = (i + 32) as u128;
        // 1/sqrt((2j+1)/64) * 2^31 = sqrt(2^68 / (2j+1))
        t[i] = isqrt_const((1u128 << 68) / (2 * j + 1)) as u32;
        i += 1;
    }
    t
};

/// `(floor(sqrt(n)), exact)`, given `x` = n scaled into [1, 4) as Q61 and
/// `sh` with sqrt(n) = sqrt(x) * 2^(61 - sh). Newton's iteration for
/// 1/sqrt(x) (multiplications only) gives an estimate within one unit,
/// which exact integer squares then correct.
#[inline(always)]
fn isqrt_newton(n: u128, x: u64, sh: u32, iters: u32) -> (u64, bool) {
    let mut r = (RSQRT_SEED[(x >> 56) as usize - 32] as u64) << 32; // Q63
    for _ in 0..iters {
        let r2 = ((r as u128 * r as u128) >> 63) as u64; // r^2, Q63
        let xr2 = ((x as u128 * r2 as u128) >> 62) as u64; // x r^2, Q62
        let t = (3u64 << 62).wrapping_sub(xr2); // 3 - x r^2, Q62
        r = ((r as u128 * t as u128) >> 63) as u64; // r (3 - x r^2) / 2
    }
    let s = ((x as u128 * r as u128) >> 63) as u64; // sqrt(x), Q61
    let mut root = s >> sh;
    while root as u128 * root as u128 > n {
        root -= 1;
    }
    while (root + 1) as u128 * (root + 1) as u128 <= n {
        root += 1;
    }
    (root, root as u128 * root as u128 == n)
}

pub(crate) fn sqrt<F: Format>(a: u64, rm: Rm, fl: &mut u32) -> u64 {
    if is_nan::<F>(a) {
        return nan_result::<F>(a, a, fl);
    }
    if is_zero::<F>(a) {
        return a;
    }
    if sign_of::<F>(a) {
        return invalid::<F>(fl);
    }
    if is_inf::<F>(a) {
        return a;
    }
    let (e, m) = unpack::<F>(a);
    // a = A * 2^q with A the significand widened to an even number ME of
    // fraction bits; one more shift when q is odd makes x = A / 2^ME a value
    // in [1, 4) with an even exponent, so sqrt(a) = sqrt(x) * 2^((ME + q) / 2).
    let me = F::M + (F::M & 1);
    let mut q = e - me as i32;
    let mut big_a = m >> (62 - me);
    if q & 1 != 0 {
        big_a <<= 1;
        q -= 1;
    }
    // The root to M + 3 bits (result, round bit, one more): floor(sqrt(x) *
    // 2^p) = floor(sqrt(A << (2p - ME))), its remainder the sticky bit.
    let p = F::M + 2;
    let n = (big_a as u128) << (2 * p - me);
    let iters = if F::M < 32 { 3 } else { 4 };
    let (root, exact) = isqrt_newton(n, big_a << (61 - me), 61 - p, iters);
    let sig = (root << (62 - p)) | !exact as u64;
    round_pack::<F>(false, (me as i32 + q) / 2, sig, rm, fl)
}

#[inline(always)]
fn finite_nonzero<F: Format>(a: u64) -> bool {
    (a & !F::SIGN).wrapping_sub(1) < F::EXP_MASK - 1
}

pub(crate) fn fma<F: Format>(a: u64, b: u64, c: u64, rm: Rm, fl: &mut u32) -> u64 {
    if !(finite_nonzero::<F>(a) & finite_nonzero::<F>(b) & finite_nonzero::<F>(c)) {
        return fma_special::<F>(a, b, c, rm, fl);
    }
    let sp = sign_of::<F>(a) != sign_of::<F>(b);
    let sc = sign_of::<F>(c);
    let (ea, ma) = unpack::<F>(a);
    let (eb, mb) = unpack::<F>(b);
    let (ec, mc) = unpack::<F>(c);
    if F::M < 32 {
        // Single: the same scheme in 64 bits, the terms as X * 2^(E - 61)
        // with X < 2^62: the 48-bit product in [2^60, 2^62), the addend in
        // [2^61, 2^62).
        let xp = ((ma >> (62 - F::M)) * (mb >> (62 - F::M))) << (60 - 2 * F::M);
        let xc = mc >> 1;
        let ep = ea + eb + 1;
        let d = ep - ec;
        let xc = shift_right_jam(xc, d.max(0) as u32);
        let xp = shift_right_jam(xp, (-d).max(0) as u32);
        let e = ep.max(ec);
        let neg = |x: u64, s: bool| {
            let m = (s as u64).wrapping_neg();
            (x ^ m).wrapping_sub(m) as i64
        };
        let sum = neg(xp, sp) + neg(xc, sc);
        if sum == 0 {
            return exact_zero::<F>(rm);
        }
        let mag = sum.unsigned_abs();
        let k = mag.leading_zeros() as i32 - 1;
        return round_pack::<F>(sum < 0, e - k + 1, mag << k, rm, fl);
    }
    // Both terms as X * 2^(E - 125) with X < 2^126, so that their signed
    // sum fits an i128: the product p in [2^124, 2^126), the addend in
    // [2^125, 2^126).
    let xp = ma as u128 * mb as u128;
    let xc = (mc as u128) << 63;
    let ep = ea + eb + 1;
    // Align to the larger exponent; both shifts run (one by zero) so that
    // there is no unpredictable branch on which term is larger.
    let d = ep - ec;
    let xc = shift_right_jam128(xc, d.max(0) as u32);
    let xp = shift_right_jam128(xp, (-d).max(0) as u32);
    let e = ep.max(ec);
    // Bits are only jammed away when one term is far smaller than the other,
    // so the sum below cannot cancel into the sticky bit.
    let neg = |x: u128, s: bool| {
        let m = (s as u128).wrapping_neg();
        (x ^ m).wrapping_sub(m) as i128
    };
    let sum = neg(xp, sp) + neg(xc, sc);
    if sum == 0 {
        return exact_zero::<F>(rm);
    }
    let sign = sum < 0;
    let mag = sum.unsigned_abs();
    let k = mag.leading_zeros() as i32 - 1;
    round_pack::<F>(sign, e - k + 1, narrow(mag << k), rm, fl)
}

/// fma with a NaN, infinite or zero operand.
#[inline(never)]
fn fma_special<F: Format>(a: u64, b: u64, c: u64, rm: Rm, fl: &mut u32) -> u64 {
    let sp = sign_of::<F>(a) != sign_of::<F>(b);
    let sc = sign_of::<F>(c);
    let prod_invalid = (is_inf::<F>(a) && is_zero::<F>(b)) || (is_zero::<F>(a) && is_inf::<F>(b));
    if is_nan::<F>(a) || is_nan::<F>(b) || is_nan::<F>(c) {
        // RISC-V: inf * 0 raises NV even when the addend is a quiet NaN.
        if prod_invalid || is_snan::<F>(c) {
            *fl |= NV;
        }
        return nan_result::<F>(a, b, fl);
    }
    if prod_invalid {
        return invalid::<F>(fl);
    }
    if is_inf::<F>(a) || is_inf::<F>(b) {
        if is_inf::<F>(c) && sc != sp {
            return invalid::<F>(fl);
        }
        return if sp { F::SIGN } else { 0 } | F::EXP_MASK;
    }
    if is_inf::<F>(c) {
        return c;
    }
    if is_zero::<F>(a) || is_zero::<F>(b) {
        if is_zero::<F>(c) {
            return if sp == sc { c } else { exact_zero::<F>(rm) };
        }
        return c;
    }
    // Finite non-zero product, zero addend: the product, rounded once.
    mul::<F>(a, b, rm, fl)
}

/// A total-order key for non-NaN values in which -0 < +0.
#[inline(always)]
fn order_key<F: Format>(a: u64) -> u64 {
    let all = F::SIGN.wrapping_shl(1).wrapping_sub(1);
    if sign_of::<F>(a) {
        !a & all
    } else {
        a | F::SIGN
    }
}

pub(crate) fn min_max<F: Format>(a: u64, b: u64, want_max: bool, fl: &mut u32) -> u64 {
    let an = is_nan::<F>(a);
    let bn = is_nan::<F>(b);
    if an || bn {
        if is_snan::<F>(a) || is_snan::<F>(b) {
            *fl |= NV;
        }
        return match (an, bn) {
            (true, true) => F::CANONICAL_NAN,
            (true, false) => b,
            _ => a,
        };
    }
    let a_less = order_key::<F>(a) < order_key::<F>(b);
    if a_less != want_max { a } else { b }
}

pub(crate) fn eq<F: Format>(a: u64, b: u64, fl: &mut u32) -> bool {
    if is_nan::<F>(a) || is_nan::<F>(b) {
        if is_snan::<F>(a) || is_snan::<F>(b) {
            *fl |= NV;
        }
        return false;
    }
    a == b || (is_zero::<F>(a) && is_zero::<F>(b))
}

pub(crate) fn lt<F: Format>(a: u64, b: u64, fl: &mut u32) -> bool {
    if is_nan::<F>(a) || is_nan::<F>(b) {
        *fl |= NV;
        return false;
    }
    !(is_zero::<F>(a) && is_zero::<F>(b)) && order_key::<F>(a) < order_key::<F>(b)
}

pub(crate) fn le<F: Format>(a: u64, b: u64, fl: &mut u32) -> bool {
    if is_nan::<F>(a) || is_nan::<F>(b) {
        *fl |= NV;
        return false;
    }
    (is_zero::<F>(a) && is_zero::<F>(b)) || order_key::<F>(a) <= order_key::<F>(b)
}

pub(crate) fn class<F: Format>(a: u64) -> u64 {
    let neg = sign_of::<F>(a);
    let ef = ((a >> F::M) as i32) & F::EMAX;
    let bit = if is_nan::<F>(a) {
        if a & F::QUIET != 0 { 9 } else { 8 }
    } else if ef == F::EMAX {
        if neg { 0 } else { 7 }
    } else if ef == 0 {
        match (a & F::FRAC_MASK == 0, neg) {
            (true, true) => 3,
            (true, false) => 4,
            (false, true) => 2,
            (false, false) => 5,
        }
    } else if neg {
        1
    } else {
        6
    };
    1 << bit
}

/// Float to integer. `bits` is 32 or 64; the result is the integer's bit
/// pattern zero-extended to 64 bits (the caller truncates).
#[inline(always)]
pub(crate) fn to_int<F: Format>(a: u64, rm: Rm, signed: bool, bits: u32, fl: &mut u32) -> u64 {
    let sign = sign_of::<F>(a);
    // Largest magnitude allowed for positive and negative results.
    let (pos_max, neg_max): (u64, u64) = if signed {
        ((1 << (bits - 1)) - 1, 1 << (bits - 1))
    } else {
        (u64::MAX >> (64 - bits), 0)
    };
    let mask = u64::MAX >> (64 - bits);
    let saturate = |fl: &mut u32, neg: bool| -> u64 {
        *fl |= NV;
        if neg {
            neg_max.wrapping_neg() & mask
        } else {
            pos_max
        }
    };
    if is_nan::<F>(a) {
        return saturate(fl, false);
    }
    if is_inf::<F>(a) {
        return saturate(fl, sign);
    }
    if is_zero::<F>(a) {
        return 0;
    }
    let (e, m) = unpack::<F>(a);
    if e >= 64 {
        return saturate(fl, sign);
    }
    // The value in 64.64 fixed point (jammed), then rounded to an integer.
    let (int, frac) = if e >= 62 {
        (m << (e - 62), 0u64)
    } else {
        let v = shift_right_jam128((m as u128) << 64, (62 - e) as u32);
        ((v >> 64) as u64, v as u64)
    };
    let half = 1u64 << 63;
    let up = match rm {
        Rm::Rne => frac > half || (frac == half && int & 1 != 0),
        Rm::Rmm => frac >= half,
        Rm::Rtz => false,
        Rm::Rdn => sign && frac != 0,
        Rm::Rup => !sign && frac != 0,
    };
    let (mag, carry) = int.overflowing_add(up as u64);
    if carry || mag > if sign { neg_max } else { pos_max } {
        return saturate(fl, sign);
    }
    if frac != 0 {
        *fl |= NX;
    }
    (if sign { mag.wrapping_neg() } else { mag }) & mask
}

/// Integer (sign and magnitude) to float.
#[inline(always)]
pub(crate) fn from_int<F: Format>(sign: bool, mag: u64, rm: Rm, fl: &mut u32) -> u64 {
    if mag == 0 {
        return 0;
    }
    let lz = mag.leading_zeros();
    let sig = if lz == 0 {
        (mag >> 1) | (mag & 1)
    } else {
        mag << (lz - 1)
    };
    round_pack::<F>(sign, 63 - lz as i32, sig, rm, fl)
}

/// Convert between formats: widening is exact, narrowing rounds.
#[inline(always)]
pub(crate) fn convert<From: Format, To: Format>(a: u64, rm: Rm, fl: &mut u32) -> u64 {
    let sign = sign_of::<From>(a);
    let s = if sign { To::SIGN } else { 0 };
    if is_nan::<From>(a) {
        if is_snan::<From>(a) {
            *fl |= NV;
        }
        return To::CANONICAL_NAN;
    }
    if is_inf::<From>(a) {
        return s | To::EXP_MASK;
    }
    if is_zero::<From>(a) {
        return s;
    }
    let (e, m) = unpack::<From>(a);
    round_pack::<To>(sign, e, m, rm, fl)
}
