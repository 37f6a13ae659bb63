//! Checks the software FPU against reference vectors recorded from real
//! RISC-V instructions (see `testdata/gen.c`), plus hand-picked corner cases.

extern crate std;

use super::*;
use crate::cpu::fflags::{DZ, NV, NX, OF, UF};
use std::format;
use std::string::String;
use std::vec::Vec;

static VECTORS: &[u8] = include_bytes!("testdata/vectors.bin");

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

/// Run op `op` of the generator's table; `(result, flags)`.
fn run(op: u8, rm: Rm, x: [u64; 3]) -> (u64, u32) {
    let mut fl = 0;
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
        _ => panic!("unknown op {op} in vector file"),
    };
    (r, fl)
}

const OP_NAMES: &[(u8, &str)] = &[
    (0, "fadd.s"), (1, "fsub.s"), (2, "fmul.s"), (3, "fdiv.s"), (4, "fsqrt.s"),
    (5, "fmadd.s"), (6, "fmin.s"), (7, "fmax.s"), (8, "feq.s"), (9, "flt.s"),
    (10, "fle.s"), (11, "fclass.s"), (12, "fcvt.w.s"), (13, "fcvt.wu.s"),
    (14, "fcvt.l.s"), (15, "fcvt.lu.s"), (16, "fcvt.s.w"), (17, "fcvt.s.wu"),
    (18, "fcvt.s.l"), (19, "fcvt.s.lu"), (20, "fcvt.d.s"), (32, "fadd.d"),
    (33, "fsub.d"), (34, "fmul.d"), (35, "fdiv.d"), (36, "fsqrt.d"), (37, "fmadd.d"),
    (38, "fmin.d"), (39, "fmax.d"), (40, "feq.d"), (41, "flt.d"), (42, "fle.d"),
    (43, "fclass.d"), (44, "fcvt.w.d"), (45, "fcvt.wu.d"), (46, "fcvt.l.d"),
    (47, "fcvt.lu.d"), (48, "fcvt.d.w"), (49, "fcvt.d.wu"), (50, "fcvt.d.l"),
    (51, "fcvt.d.lu"), (52, "fcvt.s.d"),
];

fn op_name(op: u8) -> &'static str {
    OP_NAMES.iter().find(|(o, _)| *o == op).map_or("?", |(_, n)| n)
}

/// Every recorded vector must match bit for bit, flags included. Ops whose
/// instruction takes no rounding mode (min/max, compares, fclass, exact
/// conversions) are checked in all five modes against the one recording.
#[test]
fn reference_vectors() {
    let mut r = Reader { d: VECTORS, pos: 0 };
    assert_eq!(&VECTORS[..8], b"RVFPVEC1");
    r.pos = 8;
    let p32 = r.pool(4);
    let p64 = r.pool(8);
    let pint = r.pool(8);
    let mut checked = 0usize;
    let mut ops_seen = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut nfail = 0usize;
    while r.pos < VECTORS.len() {
        let op = r.bytes(1) as u8;
        let rm = r.bytes(1) as usize;
        let arity = r.bytes(1) as usize;
        let width = r.bytes(1) as usize;
        let count = r.bytes(4) as usize;
        let pool = match op {
            16..=19 | 48..=51 => &pint,
            0..=20 => &p32,
            _ => &p64,
        };
        let no_rm = matches!(op, 6..=11 | 20 | 38..=43 | 48 | 49);
        if !ops_seen.contains(&op) {
            ops_seen.push(op);
        }
        for _ in 0..count {
            let mut x = [0u64; 3];
            for v in x.iter_mut().take(arity) {
                *v = pool[r.bytes(2) as usize];
            }
            let want = r.bytes(width);
            let want_fl = r.bytes(1) as u32;
            let modes: &[Rm] = if no_rm { &RMS } else { &RMS[rm..rm + 1] };
            for &mode in modes {
                let (got, got_fl) = run(op, mode, x);
                let got = if width < 8 { got & ((1u64 << (8 * width)) - 1) } else { got };
                checked += 1;
                if got != want || got_fl != want_fl {
                    nfail += 1;
                    if failures.len() < 40 {
                        failures.push(format!(
                            "{} {:?} {:x?}: got {:#x} fl {:#x}, want {:#x} fl {:#x}",
                            op_name(op),
                            mode,
                            &x[..arity],
                            got,
                            got_fl,
                            want,
                            want_fl
                        ));
                    }
                }
            }
        }
    }
    assert_eq!(ops_seen.len(), OP_NAMES.len(), "vector file covers every op");
    assert!(checked > 300_000, "only {checked} vectors");
    assert!(nfail == 0, "{nfail} of {checked} vectors fail:\n{}", failures.join("\n"));
}
