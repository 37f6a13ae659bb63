//! Checks the software FPU against reference vectors from two independent
//! implementations, plus hand-picked corner cases:
//! - `testdata/vectors.bin`: RISC-V F/D instructions run by `testdata/gen.c`
//!   under qemu-riscv64, so computed by QEMU's softfloat (not recorded on
//!   RISC-V hardware);
//! - `testdata/softfloat.bin`: other operand choices from the same pools,
//!   computed by Berkeley SoftFloat 3 (RISC-V specialization) through
//!   `testdata/softfloat_gen.py`, which also confirms that SoftFloat agrees
//!   with every record of `vectors.bin` (`cargo xtask test` re-runs it).
//!
//! A bug QEMU and pvm shared would pass the first set, not the second.

extern crate std;

use super::*;
use crate::cpu::fflags::{DZ, NV, NX, OF, UF};
use std::format;
use std::string::String;
use std::vec::Vec;

static VECTORS: &[u8] = include_bytes!("testdata/vectors.bin");
static SOFTFLOAT_VECTORS: &[u8] = include_bytes!("testdata/softfloat.bin");

const RMS: [Rm; 5] = [Rm::Rne, Rm::Rtz, Rm::Rdn, Rm::Rup, Rm::Rmm];

struct Reader<'a> {
    d: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn bytes(&mut self, n: usize) -> u64 {
        let mut v = 0u64;
        for i in 0..n {
            v |= (self.d[self.pos + i] as u64) << (8 * i);
        }
        self.pos += n;
        v
    }
    fn pool(&mut self, width: usize) -> Vec<u64> {
        let n = self.bytes(4) as usize;
        (0..n).map(|_| self.bytes(width)).collect()
    }
}

/// One record of a vector file in `gen.c`'s format.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Vector {
    /// Op number of the generator's table ([`OP_NAMES`]).
    pub op: u8,
    /// Rounding mode it was recorded with (0..=4).
    pub rm: u8,
    /// Operands used (the first `arity` of `x`).
    pub arity: usize,
    pub x: [u64; 3],
    /// Bytes of the result.
    pub width: usize,
    pub want: u64,
    pub want_fl: u32,
}

/// Call `f` on every record of vector file `data`, in order.
pub(crate) fn for_each_vector(data: &[u8], mut f: impl FnMut(&Vector)) {
    assert_eq!(&data[..8], b"RVFPVEC1");
    let mut r = Reader { d: data, pos: 8 };
    let p32 = r.pool(4);
    let p64 = r.pool(8);
    let pint = r.pool(8);
    while r.pos < data.len() {
        let op = r.bytes(1) as u8;
        let rm = r.bytes(1) as u8;
        let arity = r.bytes(1) as usize;
        let width = r.bytes(1) as usize;
        let count = r.bytes(4) as usize;
        let pool = match op {
            16..=19 | 48..=51 => &pint,
            0..=23 => &p32,
            _ => &p64,
        };
        for _ in 0..count {
            let mut x = [0u64; 3];
            for v in x.iter_mut().take(arity) {
                *v = pool[r.bytes(2) as usize];
            }
            let want = r.bytes(width);
            let want_fl = r.bytes(1) as u32;
            f(&Vector {
                op,
                rm,
                arity,
                x,
                width,
                want,
                want_fl,
            });
        }
    }
}

const S32: u32 = 1 << 31;
const S64: u64 = 1 << 63;

/// Run op `op` of the generator's table; `(result, flags)`.
fn run(op: u8, rm: Rm, x: [u64; 3]) -> (u64, u32) {
    run_with(op, rm, x, 0)
}

/// As [`run`], with NX already set in the accrued flags.
fn run_nx(op: u8, rm: Rm, x: [u64; 3]) -> (u64, u32) {
    run_with(op, rm, x, NX)
}

fn run_with(op: u8, rm: Rm, x: [u64; 3], initial_flags: u32) -> (u64, u32) {
    let mut fl = initial_flags;
    let (a32, b32, c32) = (x[0] as u32, x[1] as u32, x[2] as u32);
    let (a, b, c) = (x[0], x[1], x[2]);
    let r: u64 = match op {
        0 => f32_add(a32, b32, rm, &mut fl) as u64,
        1 => f32_sub(a32, b32, rm, &mut fl) as u64,
        2 => f32_mul(a32, b32, rm, &mut fl) as u64,
        3 => f32_div(a32, b32, rm, &mut fl) as u64,
        4 => f32_sqrt(a32, rm, &mut fl) as u64,
        5 => f32_fma(a32, b32, c32, rm, &mut fl) as u64,
        6 => f32_min(a32, b32, &mut fl) as u64,
        7 => f32_max(a32, b32, &mut fl) as u64,
        8 => f32_eq(a32, b32, &mut fl) as u64,
        9 => f32_lt(a32, b32, &mut fl) as u64,
        10 => f32_le(a32, b32, &mut fl) as u64,
        11 => f32_class(a32),
        12 => f32_to_i32(a32, rm, &mut fl) as u32 as u64,
        13 => f32_to_u32(a32, rm, &mut fl) as u64,
        14 => f32_to_i64(a32, rm, &mut fl) as u64,
        15 => f32_to_u64(a32, rm, &mut fl),
        16 => i32_to_f32(a as i32, rm, &mut fl) as u64,
        17 => u32_to_f32(a as u32, rm, &mut fl) as u64,
        18 => i64_to_f32(a as i64, rm, &mut fl) as u64,
        19 => u64_to_f32(a, rm, &mut fl) as u64,
        20 => f32_to_f64(a32, &mut fl),
        // The sign conventions the interpreter uses for the other fused ops.
        21 => f32_fma(a32, b32, c32 ^ S32, rm, &mut fl) as u64,
        22 => f32_fma(a32 ^ S32, b32, c32, rm, &mut fl) as u64,
        23 => f32_fma(a32 ^ S32, b32, c32 ^ S32, rm, &mut fl) as u64,
        32 => f64_add(a, b, rm, &mut fl),
        33 => f64_sub(a, b, rm, &mut fl),
        34 => f64_mul(a, b, rm, &mut fl),
        35 => f64_div(a, b, rm, &mut fl),
        36 => f64_sqrt(a, rm, &mut fl),
        37 => f64_fma(a, b, c, rm, &mut fl),
        38 => f64_min(a, b, &mut fl),
        39 => f64_max(a, b, &mut fl),
        40 => f64_eq(a, b, &mut fl) as u64,
        41 => f64_lt(a, b, &mut fl) as u64,
        42 => f64_le(a, b, &mut fl) as u64,
        43 => f64_class(a),
        44 => f64_to_i32(a, rm, &mut fl) as u32 as u64,
        45 => f64_to_u32(a, rm, &mut fl) as u64,
        46 => f64_to_i64(a, rm, &mut fl) as u64,
        47 => f64_to_u64(a, rm, &mut fl),
        48 => i32_to_f64(a as i32, rm, &mut fl),
        49 => u32_to_f64(a as u32, rm, &mut fl),
        50 => i64_to_f64(a as i64, rm, &mut fl),
        51 => u64_to_f64(a, rm, &mut fl),
        52 => f64_to_f32(a, rm, &mut fl) as u64,
        53 => f64_fma(a, b, c ^ S64, rm, &mut fl),
        54 => f64_fma(a ^ S64, b, c, rm, &mut fl),
        55 => f64_fma(a ^ S64, b, c ^ S64, rm, &mut fl),
        _ => panic!("unknown op {op} in vector file"),
    };
    (r, fl)
}

/// The software implementation alone, for the ops that also have a host
/// fast path (so that both are checked against every vector).
fn run_soft(op: u8, rm: Rm, x: [u64; 3]) -> Option<(u64, u32)> {
    use soft::{F32, F64};
    let mut fl = 0;
    let (a, b) = (x[0], x[1]);
    let r = match op {
        0 => soft::add::<F32>(a, b, rm, &mut fl),
        1 => soft::add::<F32>(a, b ^ 0x8000_0000, rm, &mut fl),
        2 => soft::mul::<F32>(a, b, rm, &mut fl),
        3 => soft::div::<F32>(a, b, rm, &mut fl),
        4 => soft::sqrt::<F32>(a, rm, &mut fl),
        5 => soft::fma::<F32>(a, b, x[2], rm, &mut fl),
        21 => soft::fma::<F32>(a, b, x[2] ^ S32 as u64, rm, &mut fl),
        22 => soft::fma::<F32>(a ^ S32 as u64, b, x[2], rm, &mut fl),
        23 => soft::fma::<F32>(a ^ S32 as u64, b, x[2] ^ S32 as u64, rm, &mut fl),
        12 => soft::to_int::<F32>(a, rm, true, 32, &mut fl),
        14 => soft::to_int::<F32>(a, rm, true, 64, &mut fl),
        32 => soft::add::<F64>(a, b, rm, &mut fl),
        33 => soft::add::<F64>(a, b ^ 1 << 63, rm, &mut fl),
        34 => soft::mul::<F64>(a, b, rm, &mut fl),
        35 => soft::div::<F64>(a, b, rm, &mut fl),
        36 => soft::sqrt::<F64>(a, rm, &mut fl),
        44 => soft::to_int::<F64>(a, rm, true, 32, &mut fl),
        46 => soft::to_int::<F64>(a, rm, true, 64, &mut fl),
        _ => return None,
    };
    Some((r, fl))
}

const OP_NAMES: &[(u8, &str)] = &[
    (0, "fadd.s"),
    (1, "fsub.s"),
    (2, "fmul.s"),
    (3, "fdiv.s"),
    (4, "fsqrt.s"),
    (5, "fmadd.s"),
    (6, "fmin.s"),
    (7, "fmax.s"),
    (8, "feq.s"),
    (9, "flt.s"),
    (10, "fle.s"),
    (11, "fclass.s"),
    (12, "fcvt.w.s"),
    (13, "fcvt.wu.s"),
    (14, "fcvt.l.s"),
    (15, "fcvt.lu.s"),
    (16, "fcvt.s.w"),
    (17, "fcvt.s.wu"),
    (18, "fcvt.s.l"),
    (19, "fcvt.s.lu"),
    (20, "fcvt.d.s"),
    (21, "fmsub.s"),
    (22, "fnmsub.s"),
    (23, "fnmadd.s"),
    (32, "fadd.d"),
    (33, "fsub.d"),
    (34, "fmul.d"),
    (35, "fdiv.d"),
    (36, "fsqrt.d"),
    (37, "fmadd.d"),
    (38, "fmin.d"),
    (39, "fmax.d"),
    (40, "feq.d"),
    (41, "flt.d"),
    (42, "fle.d"),
    (43, "fclass.d"),
    (44, "fcvt.w.d"),
    (45, "fcvt.wu.d"),
    (46, "fcvt.l.d"),
    (47, "fcvt.lu.d"),
    (48, "fcvt.d.w"),
    (49, "fcvt.d.wu"),
    (50, "fcvt.d.l"),
    (51, "fcvt.d.lu"),
    (52, "fcvt.s.d"),
    (53, "fmsub.d"),
    (54, "fnmsub.d"),
    (55, "fnmadd.d"),
];

fn op_name(op: u8) -> &'static str {
    OP_NAMES
        .iter()
        .find(|(o, _)| *o == op)
        .map_or("?", |(_, n)| n)
}

/// Every recorded vector must match bit for bit, flags included. Ops whose
/// instruction takes no rounding mode (min/max, compares, fclass, exact
/// conversions) are checked in all five modes against the one recording.
#[test]
fn reference_vectors() {
    let checked = check_vector_file(VECTORS);
    assert!(checked > 300_000, "only {checked} vectors");
}

/// The same, against Berkeley SoftFloat's results (`softfloat_gen.py`).
#[test]
fn softfloat_reference_vectors() {
    let checked = check_vector_file(SOFTFLOAT_VECTORS);
    assert!(checked > 100_000, "only {checked} vectors");
}

/// A larger one-off set made by `gen OUT SEED SCALE`, when `PVM_FPU_VECTORS`
/// names one.
#[test]
fn soak_vectors_from_env() {
    if let Ok(path) = std::env::var("PVM_FPU_VECTORS") {
        let data = std::fs::read(&path).expect("PVM_FPU_VECTORS file");
        let checked = check_vector_file(&data);
        std::println!("{path}: {checked} vectors match");
    }
}

/// Check every vector of a file in `gen.c`'s format; the number checked.
fn check_vector_file(data: &[u8]) -> usize {
    let mut checked = 0usize;
    let mut ops_seen = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut nfail = 0usize;
    for_each_vector(data, |v| {
        let &Vector {
            op,
            rm,
            arity,
            x,
            width,
            want,
            want_fl,
        } = v;
        let rm = rm as usize;
        let no_rm = matches!(op, 6..=11 | 20 | 38..=43 | 48 | 49);
        if !ops_seen.contains(&op) {
            ops_seen.push(op);
        }
        let modes: &[Rm] = if no_rm { &RMS } else { &RMS[rm..rm + 1] };
        for &mode in modes {
            let soft = run_soft(op, mode, x).map(|r| (r, "soft "));
            // Also with NX already accrued: paths may rely on it.
            let nx = run_nx(op, mode, x);
            let all = [(run(op, mode, x), ""), (nx, "nx-set ")]
                .into_iter()
                .chain(soft);
            for ((got, got_fl), path) in all {
                let want_fl = if path == "nx-set " {
                    want_fl | NX
                } else {
                    want_fl
                };
                let got = if width < 8 {
                    got & ((1u64 << (8 * width)) - 1)
                } else {
                    got
                };
                checked += 1;
                if (got, got_fl) != (want, want_fl) {
                    nfail += 1;
                    if failures.len() < 40 {
                        failures.push(format!(
                            "{path}{} {mode:?} {:x?}: got {got:#x} fl {got_fl:#x}, \
                             want {want:#x} fl {want_fl:#x}",
                            op_name(op),
                            &x[..arity],
                        ));
                    }
                }
            }
        }
    });
    assert_eq!(
        ops_seen.len(),
        OP_NAMES.len(),
        "vector file covers every op"
    );
    assert!(
        nfail == 0,
        "{nfail} of {checked} vectors fail:\n{}",
        failures.join("\n")
    );
    checked
}

fn f32r(op: fn(u32, u32, Rm, &mut u32) -> u32, a: f32, b: f32, rm: Rm) -> (u32, u32) {
    let mut fl = 0;
    (op(a.to_bits(), b.to_bits(), rm, &mut fl), fl)
}

fn f64r(op: fn(u64, u64, Rm, &mut u32) -> u64, a: f64, b: f64, rm: Rm) -> (u64, u32) {
    let mut fl = 0;
    (op(a.to_bits(), b.to_bits(), rm, &mut fl), fl)
}

const SNAN32: u32 = 0x7f80_0001;
const QNAN32: u32 = 0xffc0_1234;
const SNAN64: u64 = 0x7ff0_0000_0000_0001;

#[test]
fn invalid_operations_give_canonical_nan() {
    assert_eq!(f32r(f32_div, 0.0, 0.0, Rm::Rne), (CANONICAL_NAN_32, NV));
    assert_eq!(f64r(f64_div, 0.0, -0.0, Rm::Rtz), (CANONICAL_NAN_64, NV));
    assert_eq!(
        f64r(f64_add, f64::INFINITY, f64::NEG_INFINITY, Rm::Rne),
        (CANONICAL_NAN_64, NV)
    );
    assert_eq!(
        f32r(f32_mul, f32::INFINITY, 0.0, Rm::Rne),
        (CANONICAL_NAN_32, NV)
    );
    let mut fl = 0;
    assert_eq!(
        f64_sqrt((-1.0f64).to_bits(), Rm::Rne, &mut fl),
        CANONICAL_NAN_64
    );
    assert_eq!(fl, NV);
    // sqrt(-0) is -0 and valid.
    fl = 0;
    assert_eq!(
        f64_sqrt((-0.0f64).to_bits(), Rm::Rne, &mut fl),
        (-0.0f64).to_bits()
    );
    assert_eq!(fl, 0);
    // A quiet NaN operand propagates silently (as the canonical NaN) ...
    fl = 0;
    assert_eq!(
        f32_add(QNAN32, 1.0f32.to_bits(), Rm::Rne, &mut fl),
        CANONICAL_NAN_32
    );
    assert_eq!(fl, 0);
    // ... a signaling one raises NV.
    assert_eq!(
        f32_mul(1.0f32.to_bits(), SNAN32, Rm::Rne, &mut fl),
        CANONICAL_NAN_32
    );
    assert_eq!(fl, NV);
    // fma: inf * 0 is invalid even with a quiet NaN addend.
    fl = 0;
    let r = f64_fma(
        f64::INFINITY.to_bits(),
        0,
        CANONICAL_NAN_64,
        Rm::Rne,
        &mut fl,
    );
    assert_eq!((r, fl), (CANONICAL_NAN_64, NV));
    fl = 0;
    let r = f64_fma(
        1.0f64.to_bits(),
        1.0f64.to_bits(),
        CANONICAL_NAN_64,
        Rm::Rne,
        &mut fl,
    );
    assert_eq!((r, fl), (CANONICAL_NAN_64, 0));
}

#[test]
fn divide_by_zero() {
    assert_eq!(
        f32r(f32_div, 1.0, 0.0, Rm::Rne),
        (f32::INFINITY.to_bits(), DZ)
    );
    assert_eq!(
        f64r(f64_div, -1.0, 0.0, Rm::Rne),
        (f64::NEG_INFINITY.to_bits(), DZ)
    );
    assert_eq!(
        f64r(f64_div, f64::INFINITY, 0.0, Rm::Rne),
        (f64::INFINITY.to_bits(), 0)
    );
}

#[test]
fn overflow_per_rounding_mode() {
    let max = f64::MAX;
    let inf = f64::INFINITY.to_bits();
    let fmax = max.to_bits();
    let n = |x: u64| x | 1 << 63;
    for (rm, pos, neg) in [
        (Rm::Rne, inf, n(inf)),
        (Rm::Rmm, inf, n(inf)),
        (Rm::Rtz, fmax, n(fmax)),
        (Rm::Rdn, fmax, n(inf)),
        (Rm::Rup, inf, n(fmax)),
    ] {
        assert_eq!(f64r(f64_mul, max, 2.0, rm), (pos, OF | NX), "{rm:?}");
        assert_eq!(f64r(f64_mul, -max, 2.0, rm), (neg, OF | NX), "{rm:?}");
    }
    // Rounding up across the largest finite value overflows too.
    let (r, fl) = f32r(f32_add, f32::MAX, f32::from_bits(0x7280_0000), Rm::Rup);
    assert_eq!((r, fl), (f32::INFINITY.to_bits(), OF | NX));
    let (r, fl) = f32r(f32_add, f32::MAX, f32::from_bits(0x7280_0000), Rm::Rne);
    assert_eq!((r, fl), (f32::MAX.to_bits(), NX));
}

#[test]
fn underflow_is_detected_after_rounding() {
    // 0x007fffff * (1 + 2^-23) = (2^-126)(1 - 2^-23)(1 + 2^-23): rounds (RNE)
    // to the smallest normal, so it is not tiny after rounding: NX only.
    let mut fl = 0;
    assert_eq!(
        f32_mul(0x007f_ffff, 0x3f80_0001, Rm::Rne, &mut fl),
        0x0080_0000
    );
    assert_eq!(fl, NX);
    // Rounding towards zero leaves it subnormal: UF.
    fl = 0;
    assert_eq!(
        f32_mul(0x007f_ffff, 0x3f80_0001, Rm::Rtz, &mut fl),
        0x007f_ffff
    );
    assert_eq!(fl, UF | NX);
    // An exact subnormal result raises nothing.
    fl = 0;
    assert_eq!(
        f64_mul(0x0010_0000_0000_0000, 0.5f64.to_bits(), Rm::Rne, &mut fl),
        0x0008_0000_0000_0000
    );
    assert_eq!(fl, 0);
    // Underflow to zero.
    fl = 0;
    assert_eq!(f64_mul(1, 0.25f64.to_bits(), Rm::Rne, &mut fl), 0);
    assert_eq!(fl, UF | NX);
    fl = 0;
    assert_eq!(f64_mul(1, 0.25f64.to_bits(), Rm::Rup, &mut fl), 1);
    assert_eq!(fl, UF | NX);
}

#[test]
fn ties_and_signed_zeros() {
    // 1 + 2^-24 is halfway between 1 and 1 + 2^-23.
    let half_ulp = f32::from_bits(0x3380_0000);
    assert_eq!(f32r(f32_add, 1.0, half_ulp, Rm::Rne), (0x3f80_0000, NX));
    assert_eq!(f32r(f32_add, 1.0, half_ulp, Rm::Rmm), (0x3f80_0001, NX));
    assert_eq!(f32r(f32_add, -1.0, -half_ulp, Rm::Rmm), (0xbf80_0001, NX));
    assert_eq!(f32r(f32_add, -1.0, -half_ulp, Rm::Rup), (0xbf80_0000, NX));
    assert_eq!(f32r(f32_add, -1.0, -half_ulp, Rm::Rdn), (0xbf80_0001, NX));
    // x - x is +0, except -0 when rounding down.
    assert_eq!(f64r(f64_sub, 3.0, 3.0, Rm::Rne), (0, 0));
    assert_eq!(f64r(f64_sub, 3.0, 3.0, Rm::Rdn), (1 << 63, 0));
    assert_eq!(f64r(f64_add, -0.0, -0.0, Rm::Rne), (1 << 63, 0));
    assert_eq!(f64r(f64_add, -0.0, 0.0, Rm::Rne), (0, 0));
    assert_eq!(f64r(f64_add, -0.0, 0.0, Rm::Rdn), (1 << 63, 0));
    // fma with a single rounding: 0.1 * 10 - 1 is not 0.
    let mut fl = 0;
    let r = f64_fma(
        0.1f64.to_bits(),
        10.0f64.to_bits(),
        (-1.0f64).to_bits(),
        Rm::Rne,
        &mut fl,
    );
    assert_eq!(f64::from_bits(r), 5.551115123125783e-17);
    assert_eq!(fl, 0);
}

#[test]
fn min_max_compare() {
    let (p0, n0) = (0.0f64.to_bits(), (-0.0f64).to_bits());
    let one = 1.0f64.to_bits();
    let mut fl = 0;
    assert_eq!(f64_min(p0, n0, &mut fl), n0);
    assert_eq!(f64_min(n0, p0, &mut fl), n0);
    assert_eq!(f64_max(n0, p0, &mut fl), p0);
    assert_eq!(f64_max(p0, n0, &mut fl), p0);
    assert_eq!(f64_min(CANONICAL_NAN_64, one, &mut fl), one);
    assert_eq!(f64_max(one, CANONICAL_NAN_64, &mut fl), one);
    assert_eq!(fl, 0);
    assert_eq!(f64_min(SNAN64, one, &mut fl), one);
    assert_eq!(fl, NV);
    fl = 0;
    assert_eq!(f32_max(QNAN32, QNAN32, &mut fl), CANONICAL_NAN_32);
    assert_eq!(fl, 0);
    assert_eq!(f32_min(SNAN32, QNAN32, &mut fl), CANONICAL_NAN_32);
    assert_eq!(fl, NV);

    fl = 0;
    assert!(f64_eq(p0, n0, &mut fl));
    assert!(!f64_lt(n0, p0, &mut fl));
    assert!(f64_le(n0, p0, &mut fl));
    assert!(f64_lt((-2.0f64).to_bits(), (-1.0f64).to_bits(), &mut fl));
    assert!(!f32_eq(QNAN32, QNAN32, &mut fl));
    assert_eq!(fl, 0, "feq is quiet");
    assert!(!f32_eq(SNAN32, 0, &mut fl));
    assert_eq!(fl, NV, "feq signals on sNaN");
    fl = 0;
    assert!(!f32_lt(QNAN32, 0, &mut fl));
    assert_eq!(fl, NV, "flt signals on any NaN");
    fl = 0;
    assert!(!f64_le(0, CANONICAL_NAN_64, &mut fl));
    assert_eq!(fl, NV, "fle signals on any NaN");
}

#[test]
fn classify() {
    let cases32: [(u32, u64); 10] = [
        (0xff80_0000, 1 << 0),
        (0xbf80_0000, 1 << 1),
        (0x8000_0001, 1 << 2),
        (0x8000_0000, 1 << 3),
        (0x0000_0000, 1 << 4),
        (0x007f_ffff, 1 << 5),
        (0x7f7f_ffff, 1 << 6),
        (0x7f80_0000, 1 << 7),
        (SNAN32, 1 << 8),
        (QNAN32, 1 << 9),
    ];
    for (v, c) in cases32 {
        assert_eq!(f32_class(v), c, "{v:#x}");
    }
    assert_eq!(f64_class(SNAN64), 1 << 8);
    assert_eq!(f64_class(CANONICAL_NAN_64), 1 << 9);
    assert_eq!(f64_class(1), 1 << 5);
    assert_eq!(f64_class(f64::MIN_POSITIVE.to_bits() | 1 << 63), 1 << 1);
}

#[test]
fn float_to_int_saturation_and_rounding() {
    let cv = |a: f64, rm: Rm| {
        let mut fl = 0;
        (f64_to_i32(a.to_bits(), rm, &mut fl), fl)
    };
    let cvu = |a: f64, rm: Rm| {
        let mut fl = 0;
        (f64_to_u32(a.to_bits(), rm, &mut fl), fl)
    };
    assert_eq!(cv(f64::NAN, Rm::Rne), (i32::MAX, NV));
    assert_eq!(cv(f64::INFINITY, Rm::Rne), (i32::MAX, NV));
    assert_eq!(cv(f64::NEG_INFINITY, Rm::Rne), (i32::MIN, NV));
    assert_eq!(cv(2147483648.0, Rm::Rne), (i32::MAX, NV));
    assert_eq!(cv(-2147483648.0, Rm::Rne), (i32::MIN, 0));
    assert_eq!(cv(-2147483648.5, Rm::Rtz), (i32::MIN, NX));
    assert_eq!(cv(-2147483648.5, Rm::Rdn), (i32::MIN, NV));
    assert_eq!(cv(2.5, Rm::Rne), (2, NX));
    assert_eq!(cv(2.5, Rm::Rmm), (3, NX));
    assert_eq!(cv(-2.5, Rm::Rmm), (-3, NX));
    assert_eq!(cv(-2.5, Rm::Rdn), (-3, NX));
    assert_eq!(cv(-2.5, Rm::Rup), (-2, NX));
    assert_eq!(cv(3.5, Rm::Rne), (4, NX));
    assert_eq!(cv(-0.0, Rm::Rne), (0, 0));
    assert_eq!(cvu(f64::NAN, Rm::Rne), (u32::MAX, NV));
    assert_eq!(cvu(f64::NEG_INFINITY, Rm::Rne), (0, NV));
    assert_eq!(cvu(-1.0, Rm::Rne), (0, NV));
    assert_eq!(cvu(-0.5, Rm::Rne), (0, NX));
    assert_eq!(cvu(-0.5, Rm::Rdn), (0, NV));
    assert_eq!(cvu(4294967295.5, Rm::Rtz), (u32::MAX, NX));
    assert_eq!(cvu(4294967295.5, Rm::Rne), (u32::MAX, NV));
    let mut fl = 0;
    assert_eq!(f32_to_i64(0xdf00_0000, Rm::Rne, &mut fl), i64::MIN);
    assert_eq!(f32_to_i64(0x5f00_0000, Rm::Rne, &mut fl), i64::MAX);
    assert_eq!(fl, NV);
    fl = 0;
    assert_eq!(
        f32_to_u64(0x5f7f_ffff, Rm::Rne, &mut fl),
        0xffff_ff00_0000_0000
    );
    assert_eq!(f64_to_u64(f64::NAN.to_bits(), Rm::Rne, &mut fl), u64::MAX);
    assert_eq!(fl, NV);
}

#[test]
fn int_to_float_rounding() {
    let mut fl = 0;
    assert_eq!(i64_to_f32(i64::MIN, Rm::Rne, &mut fl), 0xdf00_0000);
    assert_eq!(
        i32_to_f64(i32::MIN, Rm::Rne, &mut fl),
        (-2147483648.0f64).to_bits()
    );
    assert_eq!(fl, 0);
    assert_eq!(u64_to_f32(u64::MAX, Rm::Rtz, &mut fl), 0x5f7f_ffff);
    assert_eq!(fl, NX);
    assert_eq!(u64_to_f32(u64::MAX, Rm::Rne, &mut fl), 0x5f80_0000);
    fl = 0;
    // 2^24 + 1 is a tie between 2^24 and 2^24 + 2.
    assert_eq!(i32_to_f32(16_777_217, Rm::Rne, &mut fl), 0x4b80_0000);
    assert_eq!(i32_to_f32(16_777_217, Rm::Rmm, &mut fl), 0x4b80_0001);
    assert_eq!(i32_to_f32(-16_777_217, Rm::Rup, &mut fl), 0xcb80_0000);
    assert_eq!(fl, NX);
    fl = 0;
    assert_eq!(
        u32_to_f32(0, Rm::Rdn, &mut fl),
        0,
        "integer zero converts to +0"
    );
    assert_eq!(fl, 0);
}

#[test]
fn format_conversions() {
    let mut fl = 0;
    assert_eq!(f32_to_f64(SNAN32, &mut fl), CANONICAL_NAN_64);
    assert_eq!(fl, NV);
    fl = 0;
    assert_eq!(f32_to_f64(QNAN32, &mut fl), CANONICAL_NAN_64);
    assert_eq!(f32_to_f64(0x8000_0000, &mut fl), 1 << 63);
    assert_eq!(f32_to_f64(1, &mut fl), (f32::from_bits(1) as f64).to_bits());
    assert_eq!(fl, 0);
    assert_eq!(f64_to_f32(SNAN64, Rm::Rne, &mut fl), CANONICAL_NAN_32);
    assert_eq!(fl, NV);
    fl = 0;
    assert_eq!(
        f64_to_f32(f64::MAX.to_bits(), Rm::Rne, &mut fl),
        0x7f80_0000
    );
    assert_eq!(fl, OF | NX);
    fl = 0;
    assert_eq!(
        f64_to_f32(f64::MAX.to_bits(), Rm::Rtz, &mut fl),
        0x7f7f_ffff
    );
    fl = 0;
    assert_eq!(f64_to_f32(1e-300f64.to_bits(), Rm::Rne, &mut fl), 0);
    assert_eq!(fl, UF | NX);
    fl = 0;
    assert_eq!(
        f64_to_f32(0.1f64.to_bits(), Rm::Rne, &mut fl),
        0.1f32.to_bits()
    );
    assert_eq!(fl, NX);
}

mod fast_vs_soft {
    //! The host fast paths must agree with the software implementation
    //! (which the reference vectors pin to RISC-V) on arbitrary operands.
    use super::*;
    use proptest::prelude::*;

    /// Doubles with exponents spread over the whole range, biased towards
    /// the region around 1 where fast paths apply and results collide.
    fn f64_bits() -> impl Strategy<Value = u64> {
        prop_oneof![
            any::<u64>(),
            (any::<bool>(), 1000u64..1050, any::<u64>())
                .prop_map(|(s, e, f)| (s as u64) << 63 | e << 52 | f >> 12),
            (any::<bool>(), 1010u64..1030, 0u64..16, 0u64..52)
                .prop_map(|(s, e, f, sh)| (s as u64) << 63 | e << 52 | (f << sh) & ((1 << 52) - 1)),
        ]
    }

    fn f32_bits() -> impl Strategy<Value = u32> {
        prop_oneof![
            any::<u32>(),
            (any::<bool>(), 110u32..145, any::<u32>())
                .prop_map(|(s, e, f)| (s as u32) << 31 | e << 23 | f >> 9),
        ]
    }

    fn rm() -> impl Strategy<Value = Rm> {
        (0u32..5).prop_map(|v| Rm::from_bits(v).unwrap())
    }

    fn same(fast: (u64, u32), soft: (u64, u32)) -> Result<(), TestCaseError> {
        prop_assert_eq!(
            fast,
            soft,
            "fast {:#x}/{:#x} soft {:#x}/{:#x}",
            fast.0,
            fast.1,
            soft.0,
            soft.1
        );
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn double(a in f64_bits(), b in f64_bits(), c in f64_bits(), rm in rm()) {
            use soft::F64;
            let (mut f1, mut f2) = (0, 0);
            same((f64_add(a, b, rm, &mut f1), f1), (soft::add::<F64>(a, b, rm, &mut f2), f2))?;
            let (mut f1, mut f2) = (0, 0);
            same((f64_mul(a, b, rm, &mut f1), f1), (soft::mul::<F64>(a, b, rm, &mut f2), f2))?;
            let (mut f1, mut f2) = (0, 0);
            same((f64_div(a, b, rm, &mut f1), f1), (soft::div::<F64>(a, b, rm, &mut f2), f2))?;
            let (mut f1, mut f2) = (0, 0);
            same((f64_sqrt(a, rm, &mut f1), f1), (soft::sqrt::<F64>(a, rm, &mut f2), f2))?;
            let (mut f1, mut f2) = (0, 0);
            same((f64_to_i64(c, rm, &mut f1) as u64, f1),
                 (soft::to_int::<F64>(c, rm, true, 64, &mut f2), f2))?;
            let (mut f1, mut f2) = (0, 0);
            same((f64_to_i32(c, rm, &mut f1) as u32 as u64, f1),
                 (soft::to_int::<F64>(c, rm, true, 32, &mut f2), f2))?;
        }

        /// Double fma with NX already accrued (the fast path's condition),
        /// addends chosen to cancel the product to varying depths.
        #[test]
        fn double_fma(a in f64_bits(), b in f64_bits(), c in f64_bits(),
                      pick in 0u32..4, ulps in -3i64..=3, scale in 0u64..120, rm in rm()) {
            use soft::F64;
            let p = (f64::from_bits(a) * f64::from_bits(b)).to_bits();
            let c = match pick {
                0 => c,
                1 => (p ^ 1 << 63).wrapping_add(ulps as u64),
                2 => (p ^ 1 << 63).wrapping_sub(scale << 52).wrapping_add(ulps as u64),
                _ => p.wrapping_add(scale << 52) ^ (c & 1 << 63),
            };
            for initial in [0, NX] {
                let (mut f1, mut f2) = (initial, initial);
                same((f64_fma(a, b, c, rm, &mut f1), f1), (soft::fma::<F64>(a, b, c, rm, &mut f2), f2))?;
                let (mut f1, mut f2) = (initial, initial);
                same((f64_fma(a, b, c, Rm::Rne, &mut f1), f1),
                     (soft::fma::<F64>(a, b, c, Rm::Rne, &mut f2), f2))?;
            }
        }

        #[test]
        fn single(a in f32_bits(), b in f32_bits(), c in f32_bits(), rm in rm()) {
            use soft::F32;
            let (a, b, c) = (a as u64, b as u64, c as u64);
            let (a32, b32, c32) = (a as u32, b as u32, c as u32);
            let (mut f1, mut f2) = (0, 0);
            same((f32_add(a32, b32, rm, &mut f1) as u64, f1), (soft::add::<F32>(a, b, rm, &mut f2), f2))?;
            let (mut f1, mut f2) = (0, 0);
            same((f32_mul(a32, b32, rm, &mut f1) as u64, f1), (soft::mul::<F32>(a, b, rm, &mut f2), f2))?;
            let (mut f1, mut f2) = (0, 0);
            same((f32_div(a32, b32, rm, &mut f1) as u64, f1), (soft::div::<F32>(a, b, rm, &mut f2), f2))?;
            let (mut f1, mut f2) = (0, 0);
            same((f32_sqrt(a32, rm, &mut f1) as u64, f1), (soft::sqrt::<F32>(a, rm, &mut f2), f2))?;
            let (mut f1, mut f2) = (0, 0);
            same((f32_fma(a32, b32, c32, rm, &mut f1) as u64, f1),
                 (soft::fma::<F32>(a, b, c, rm, &mut f2), f2))?;
            let (mut f1, mut f2) = (0, 0);
            same((f32_to_i32(c32, rm, &mut f1) as u32 as u64, f1),
                 (soft::to_int::<F32>(c, rm, true, 32, &mut f2), f2))?;
            let (mut f1, mut f2) = (0, 0);
            same((f32_to_i64(c32, rm, &mut f1) as u64, f1),
                 (soft::to_int::<F32>(c, rm, true, 64, &mut f2), f2))?;
        }
    }
}
