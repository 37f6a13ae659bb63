//! Exactness of translated floating point: F/D instructions run under the
//! interpreter and the translator must agree bit for bit, destination
//! registers and accrued flags, and match the reference vectors of
//! `fpu/testdata` (RISC-V instructions run under qemu-riscv64).
//!
//! Each case is a few guest instructions: set `fcsr` (initial flags and
//! `frm`), load the operands, run the instruction, then read the flags one
//! of three ways, which exercise the three places MXCSR.PE is folded into
//! `fflags`: an inline `frflags`, a step-helper instruction before it, or
//! an `ecall` (the exit code; the harness copies `Cpu::fflags` into x12).

extern crate std;

use crate::cpu::{Cpu, Trap};
use crate::interp::Interpreter;
use crate::memory::{GuestMemory, Perm};
use crate::process::Engine;
use crate::testhost::TestHost;
use crate::translate::Jit;
use std::format;
use std::string::String;
use std::vec::Vec;

const BOX: u64 = 0xffff_ffff_0000_0000;
const CODE: u64 = 0x10_0000;
const DATA: u64 = 0x50_0000;
const OUT: u64 = 0x90_0000;
const REGION: u64 = 0x40_0000;
/// Cases per guest program (code, data and results must fit a region).
const BATCH: usize = 8000;

/// Where an operation's operands come from and its result goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// f1..f3 to f4.
    FloatToFloat,
    /// f1, f2 to x11.
    FloatToInt,
    /// x10 to f4.
    IntToFloat,
}

#[derive(Clone, Copy, Debug)]
struct Case {
    /// The instruction (rd f4/x11, rs1 f1/x10, rs2 f2, rs3 f3).
    inst: u32,
    kind: Kind,
    /// Operand register contents (f1..f3, or x10 in `ops[0]`).
    ops: [u64; 3],
    /// Initial `fcsr`.
    fcsr: u64,
    /// How the flags are read afterwards (0..=2, see the module docs).
    variant: u8,
}

/// What one case left: the destination register and the flags.
type Outcome = (u64, u64);

mod rv {
    pub fn opfp(f5: u32, fmt: u32, rm: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
        0x53 | rd << 7 | rm << 12 | rs1 << 15 | rs2 << 20 | fmt << 25 | f5 << 27
    }
    pub fn fma(opc: u32, fmt: u32, rm: u32, rd: u32, rs1: u32, rs2: u32, rs3: u32) -> u32 {
        opc | rd << 7 | rm << 12 | rs1 << 15 | rs2 << 20 | fmt << 25 | rs3 << 27
    }
    pub fn i(op: u32, f3: u32, rd: u32, rs1: u32, imm: i32) -> u32 {
        op | rd << 7 | f3 << 12 | rs1 << 15 | ((imm as u32) & 0xfff) << 20
    }
    pub fn s(op: u32, f3: u32, rs1: u32, rs2: u32, imm: i32) -> u32 {
        let imm = imm as u32;
        op | (imm & 0x1f) << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | ((imm >> 5) & 0x7f) << 25
    }
    pub fn ld(rd: u32, rs1: u32, imm: i32) -> u32 {
        i(0x03, 3, rd, rs1, imm)
    }
    pub fn fld(rd: u32, rs1: u32, imm: i32) -> u32 {
        i(0x07, 3, rd, rs1, imm)
    }
    pub fn sd(rs1: u32, rs2: u32, imm: i32) -> u32 {
        s(0x23, 3, rs1, rs2, imm)
    }
    pub fn fsd(rs1: u32, rs2: u32, imm: i32) -> u32 {
        s(0x27, 3, rs1, rs2, imm)
    }
    pub fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
        i(0x13, 0, rd, rs1, imm)
    }
    /// `csrrw/csrrs` (`f3` 1/2) with a register source.
    pub fn csr(f3: u32, rd: u32, csr: u32, rs1: u32) -> u32 {
        0x73 | rd << 7 | f3 << 12 | rs1 << 15 | csr << 20
    }
    pub const ECALL: u32 = 0x73;
}

/// The instruction for op `op` of the vector generator's table (see
/// `fpu::tests::OP_NAMES`) with rounding-mode field `rm`, or `None` for an
/// op with no instruction of its own.
fn encode(op: u8, rm: u32) -> Option<(u32, Kind)> {
    let fmt = (op >= 32) as u32;
    let (rd, f1, f2, f3, x10) = (4, 1, 2, 3, 10);
    let k = op & 31;
    let ff = Kind::FloatToFloat;
    Some(match k {
        0..=3 => (rv::opfp(k as u32, fmt, rm, rd, f1, f2), ff),
        4 => (rv::opfp(0x0b, fmt, rm, rd, f1, 0), ff),
        5 => (rv::fma(0x43, fmt, rm, rd, f1, f2, f3), ff),
        6 | 7 => (rv::opfp(0x05, fmt, k as u32 - 6, rd, f1, f2), ff),
        8..=10 => (
            rv::opfp(0x14, fmt, 10 - k as u32, 11, f1, f2),
            Kind::FloatToInt,
        ),
        11 => (rv::opfp(0x1c, fmt, 1, 11, f1, 0), Kind::FloatToInt),
        12..=15 => (
            rv::opfp(0x18, fmt, rm, 11, f1, k as u32 - 12),
            Kind::FloatToInt,
        ),
        16..=19 => (
            rv::opfp(0x1a, fmt, rm, rd, x10, k as u32 - 16),
            Kind::IntToFloat,
        ),
        // fcvt.d.s (op 20) / fcvt.s.d (op 52): fmt is the destination's.
        20 => (rv::opfp(0x08, 1 - fmt, rm, rd, f1, fmt), ff),
        21 => (rv::fma(0x47, fmt, rm, rd, f1, f2, f3), ff),
        22 => (rv::fma(0x4b, fmt, rm, rd, f1, f2, f3), ff),
        23 => (rv::fma(0x4f, fmt, rm, rd, f1, f2, f3), ff),
        _ => return None,
    })
}

/// Build the guest program for `cases`: its code, its data, and the pc of
/// the final `ecall`.
fn program(cases: &[Case]) -> (Vec<u32>, Vec<u8>, u64) {
    let mut code = Vec::new();
    let mut data = Vec::new();
    for c in cases {
        code.push(rv::ld(5, 6, 24));
        code.push(rv::csr(1, 0, 0x003, 5)); // fscsr x5
        match c.kind {
            Kind::IntToFloat => code.push(rv::ld(10, 6, 0)),
            _ => {
                for k in 0..3 {
                    code.push(rv::fld(1 + k, 6, 8 * k as i32));
                }
            }
        }
        code.push(c.inst);
        match c.variant {
            0 => code.push(rv::csr(2, 12, 0x001, 0)), // frflags x12
            1 => {
                // fmin.d f31, f31, f31: a step-helper instruction
                code.push(rv::opfp(0x05, 1, 0, 31, 31, 31));
                code.push(rv::csr(2, 12, 0x001, 0));
            }
            _ => code.push(rv::ECALL),
        }
        if c.kind == Kind::FloatToInt {
            code.push(rv::sd(7, 11, 0));
        } else {
            code.push(rv::fsd(7, 4, 0));
        }
        code.push(rv::sd(7, 12, 8));
        code.push(rv::addi(6, 6, 32));
        code.push(rv::addi(7, 7, 16));
        for v in c.ops.iter().chain([&c.fcsr]) {
            data.extend_from_slice(&v.to_le_bytes());
        }
    }
    let end = CODE + 4 * code.len() as u64;
    code.push(rv::ECALL);
    (code, data, end)
}

/// Run `cases` under `engine`: one outcome per case, and the final `Cpu`.
fn run_cases(engine: &mut dyn Engine, cases: &[Case]) -> (Vec<Outcome>, Cpu) {
    let (code, data, end) = program(cases);
    let mem = GuestMemory::new(TestHost::leak(), 1 << 24).unwrap();
    for base in [CODE, DATA, OUT] {
        mem.map(base, REGION, Perm::READ | Perm::WRITE | Perm::EXEC, true)
            .unwrap();
    }
    let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    assert!(bytes.len() as u64 <= REGION && data.len() as u64 <= REGION);
    mem.write_bytes_privileged(CODE, &bytes).unwrap();
    mem.write_bytes_privileged(DATA, &data).unwrap();
    mem.protect(CODE, REGION, Perm::READ | Perm::EXEC).unwrap();
    let mut cpu = Cpu {
        pc: CODE,
        ..Cpu::default()
    };
    cpu.x[6] = DATA;
    cpu.x[7] = OUT;
    loop {
        match engine.run(&mut cpu, &mem) {
            Trap::Budget => {}
            Trap::Ecall if cpu.pc == end => break,
            Trap::Ecall => {
                cpu.x[12] = cpu.fflags as u64;
                cpu.pc += 4;
            }
            Trap::IllegalInstruction(_) => {
                // A reserved dynamic rounding mode: mark and go on.
                cpu.x[12] = 0xdead;
                cpu.pc += 4;
            }
            t => panic!("unexpected {t:?} at {:#x}", cpu.pc),
        }
    }
    let out = (0..cases.len() as u64)
        .map(|i| {
            let r = mem.read_u64(OUT + 16 * i).unwrap();
            let f = mem.read_u64(OUT + 16 * i + 8).unwrap();
            (r, f)
        })
        .collect();
    (out, cpu)
}

fn jit() -> Jit {
    Jit::new(TestHost::leak(), 4 << 20).unwrap()
}

/// Run under both engines; both must agree on every outcome and end in
/// the same state. Returns the outcomes and the translator's statistics.
fn both(cases: &[Case], describe: impl Fn(usize) -> String) -> Vec<Outcome> {
    let (want, cpu_i) = run_cases(&mut Interpreter::new(), cases);
    let mut j = jit();
    let (got, cpu_j) = run_cases(&mut j, cases);
    let mut bad = Vec::new();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        if g != w {
            bad.push(format!(
                "{}: jit {:#018x} flags {:#x}, interp {:#018x} flags {:#x}",
                describe(i),
                g.0,
                g.1,
                w.0,
                w.1
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} cases differ:\n{}",
        bad.len(),
        cases.len(),
        bad[..bad.len().min(30)].join("\n")
    );
    assert_eq!(cpu_i, cpu_j);
    got
}

/// A cheap deterministic mix for picking variants.
fn mix(i: u64) -> u64 {
    let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^= x >> 29;
    x.wrapping_mul(0xbf58_476d_1ce4_e5b9) >> 32
}

/// A sample of the reference vectors (every `stride`-th record; all of
/// them with `PVM_JIT_FP_ALL` set) through both engines: each outcome must
/// be the recorded one, plus the case's initial flags.
#[test]
fn reference_vectors_through_the_translator() {
    static VECTORS: &[u8] = include_bytes!("../../../../fpu/testdata/vectors.bin");
    let stride = if std::env::var_os("PVM_JIT_FP_ALL").is_some() {
        1
    } else {
        9
    };
    // (case, expected outcome without the initial flags, name)
    let mut cases: Vec<(Case, u64, u32, u8)> = Vec::new();
    let mut n = 0u64;
    crate::fpu::tests::for_each_vector(VECTORS, |v| {
        let (op, rm, x, want, want_fl) = (v.op, v.rm as u32, v.x, v.want, v.want_fl);
        n += 1;
        if !n.is_multiple_of(stride) {
            return;
        }
        let h = mix(n);
        // Half the instructions use the dynamic mode (frm = rm).
        let dynamic = h & 1 != 0 && !matches!(op & 31, 6..=11);
        let Some((inst, kind)) = encode(op, if dynamic { 7 } else { rm }) else {
            return;
        };
        let single_in = op < 32 && kind != Kind::IntToFloat;
        let ops = x.map(|v| if single_in { BOX | v } else { v });
        let init_fl = match (h >> 1) % 4 {
            0 | 1 => 0,
            2 => 1,
            _ => (h >> 8) & 31,
        };
        let frm = if dynamic { rm as u64 } else { (h >> 16) % 5 };
        let want = match (op, kind) {
            // Results as they sit in the destination register.
            (20, _) => want,
            (52, _) | (0..=23, Kind::FloatToFloat | Kind::IntToFloat) => BOX | want,
            (12 | 13 | 44 | 45, _) => want as u32 as i32 as i64 as u64,
            _ => want,
        };
        let c = Case {
            inst,
            kind,
            ops,
            fcsr: frm << 5 | init_fl,
            variant: ((h >> 20) % 3) as u8,
        };
        cases.push((c, want, want_fl | init_fl as u32, op));
    });
    assert!(cases.len() > 30_000 / stride as usize, "{}", cases.len());
    let mut ops_seen = Vec::new();
    for chunk in cases.chunks(BATCH) {
        let batch: Vec<Case> = chunk.iter().map(|c| c.0).collect();
        let describe = |i: usize| {
            let (c, w, wf, op) = chunk[i];
            format!(
                "op {op} inst {:#010x} ops {:x?} fcsr {:#x} variant {} (want {w:#x} flags {wf:#x})",
                c.inst, c.ops, c.fcsr, c.variant
            )
        };
        let got = both(&batch, describe);
        let bad: Vec<String> = got
            .iter()
            .enumerate()
            .filter(|&(i, g)| *g != (chunk[i].1, chunk[i].2 as u64))
            .map(|(i, g)| format!("{}: got {:#x} flags {:#x}", describe(i), g.0, g.1))
            .collect();
        assert!(
            bad.is_empty(),
            "{} cases differ from the reference:\n{}",
            bad.len(),
            bad[..bad.len().min(30)].join("\n")
        );
        for c in chunk {
            if !ops_seen.contains(&c.3) {
                ops_seen.push(c.3);
            }
        }
    }
    // Every op of the table with an instruction of its own.
    assert_eq!(ops_seen.len(), 48, "{ops_seen:?}");
}

/// Values at the edges, for operations on hand-made register contents the
/// vectors cannot express: singles that are not NaN-boxed, reserved and
/// non-RNE dynamic rounding modes, results that round into or out of the
/// normal range, and integer conversions at their limits.
#[test]
fn edge_cases_agree() {
    let d = |v: f64| v.to_bits();
    let s = |v: f32| BOX | v.to_bits() as u64;
    let min_d = f64::MIN_POSITIVE;
    let min_s = f32::MIN_POSITIVE;
    let doubles = [
        d(0.0),
        d(-0.0),
        d(1.0),
        d(-1.5),
        d(3.0),
        d(0.1),
        d(min_d),
        d(-min_d),
        d(min_d * 2.0),
        d(min_d * (1.0 + f64::EPSILON)),
        d(min_d / 2.0),
        d(f64::from_bits(1)),
        d(f64::MAX),
        d(-f64::MAX),
        d(f64::INFINITY),
        d(f64::NEG_INFINITY),
        d(f64::NAN),
        0x7ff0_0000_0000_0001, // signaling NaN
        0xfff8_0000_0000_0000, // negative quiet NaN
        d(2147483647.5),
        d(-2147483648.0),
        d(-2147483648.5),
        d(-2147483649.0),
        d(9223372036854774784.0), // the largest double below 2^63
        d(-(2f64.powi(63))),
        d(4294967295.5),
        d(-0.5),
        d(-0.75), // rounds to -1 (out of range unsigned) under rne only
        d(0.5),
        d(2.5),
        d(4294967295.0),
        d(1e-310),
        d(1.4916681462400413e-154), // squares to about the smallest normal
        d(1.0 + f64::EPSILON),
        d(3.4028235677973366e38),  // just above f32::MAX
        d(1.1754942807573643e-38), // just below f32 min normal
        d(min_s as f64),
    ];
    let singles = [
        s(0.0),
        s(-0.0),
        s(1.0),
        s(-1.5),
        s(3.0),
        s(0.1),
        s(min_s),
        s(-min_s),
        s(min_s * 2.0),
        s(min_s / 2.0),
        s(f32::from_bits(1)),
        s(f32::MAX),
        s(f32::INFINITY),
        s(f32::NAN),
        BOX | 0x7f80_0001, // signaling NaN
        s(1.0842022e-19),  // squares to about the smallest normal
        s(2147483520.0),
        s(-2147483648.0),
        s(-0.5),
        s(-0.75),
        s(2.5),
        s(16777217.0),
        // Not NaN-boxed: read as the canonical NaN.
        1.0f32.to_bits() as u64,
        0xffff_fffe_3f80_0000,
        0x7fff_ffff_3f80_0000,
        d(1.0),
    ];
    let ints: [u64; 12] = [
        0,
        1,
        u64::MAX,
        i32::MAX as u64,
        i32::MIN as i64 as u64,
        u32::MAX as u64,
        (1 << 53) + 1,
        (1 << 24) + 1,
        i64::MAX as u64,
        i64::MIN as u64,
        1 << 63 | 1,
        0x1234_5678_9abc_def1,
    ];
    // Every op with an instruction, rm in static rne/rtz/rmm and dyn, over
    // operand pairs (and triples for fma, with a few third operands).
    let mut cases = Vec::new();
    let mut n = 0u64;
    for op in (0u8..24).chain(32..56) {
        let rms: &[u32] = if matches!(op & 31, 6..=11) {
            &[0]
        } else {
            &[0, 1, 4, 7]
        };
        for &rm in rms {
            let Some((inst, kind)) = encode(op, rm) else {
                continue;
            };
            let pool: &[u64] = match kind {
                Kind::IntToFloat => &ints,
                _ if op < 32 => &singles,
                _ => &doubles,
            };
            let thirds: &[u64] = if matches!(op & 31, 5 | 21..=23) {
                &pool[..6]
            } else {
                &pool[..1]
            };
            for &a in pool {
                for &b in pool {
                    for &c in thirds {
                        n += 1;
                        let h = mix(n);
                        let frm = if rm == 7 { h % 8 } else { h % 5 };
                        let init_fl = if h & 0x100 != 0 { 0 } else { (h >> 9) & 31 };
                        cases.push(Case {
                            inst,
                            kind,
                            ops: [a, b, c],
                            fcsr: frm << 5 | init_fl,
                            variant: ((h >> 20) % 3) as u8,
                        });
                    }
                }
            }
        }
    }
    for chunk in cases.chunks(BATCH) {
        both(chunk, |i| {
            let c = chunk[i];
            format!(
                "inst {:#010x} ops {:x?} fcsr {:#x} variant {}",
                c.inst, c.ops, c.fcsr, c.variant
            )
        });
    }
}

/// The floating-point CSRs read and written around inline operations that
/// left MXCSR.PE pending: every form, checked against hand-computed values.
#[test]
fn fp_csrs_see_and_reset_pending_inexact() {
    use rv::csr;
    let csri = |f3: u32, rd: u32, n: u32, imm: u32| csr(f3 | 4, rd, n, imm);
    // fdiv.d f3, f1, f2 with rm = dyn: 1/3 is inexact.
    let div = rv::opfp(0x03, 1, 7, 3, 1, 2);
    let (fflags, frm, fcsr) = (1, 2, 3);
    let code = [
        div,
        csr(2, 10, fflags, 0), // x10 = NX (pending PE counted)
        csr(1, 11, fflags, 0), // x11 = NX; flags = 0
        csr(2, 12, fflags, 0), // x12 = 0 (the PE is gone)
        div,
        csri(1, 13, fflags, 2), // x13 = NX; flags = UF
        csr(2, 14, fflags, 0),  // x14 = UF
        div,
        csri(2, 15, fflags, 4), // x15 = UF|NX; flags = 7
        csri(3, 16, fflags, 1), // x16 = 7; flags = UF|OF
        csr(2, 17, fcsr, 0),    // x17 = 6
        csri(1, 18, frm, 3),    // x18 = 0; frm = rup
        div,                    // exact path (dyn, rup): NX
        csr(2, 19, fcsr, 0),    // x19 = 3 << 5 | 7
        csr(1, 20, fcsr, 21),   // x20 = 0x67; fcsr = 0
        div,                    // inline again: PE
        csr(3, 22, fcsr, 23),   // x22 = NX; clear NX
        csr(2, 24, fflags, 0),  // x24 = 0
        div,
        csr(1, 25, fflags, 26), // x25 = NX; flags = NX (PE may stay)
        csr(2, 27, fflags, 0),  // x27 = NX
        csr(1, 0, fflags, 0),   // flags = 0
        csr(2, 28, frm, 0),     // x28 = 0
        div,
        rv::ECALL,             // the exit folds PE: fflags = NX
        csr(2, 29, fflags, 0), // x29 = NX
        csr(1, 0, fflags, 0),  // flags = 0
        div,
        rv::ld(5, 0, 0), // faults: that exit folds PE too
        rv::ECALL,
    ];
    let want: [(usize, u64); 17] = [
        (10, 1),
        (11, 1),
        (12, 0),
        (13, 1),
        (14, 2),
        (15, 3),
        (16, 7),
        (17, 6),
        (18, 0),
        (19, 3 << 5 | 7),
        (20, 3 << 5 | 7),
        (22, 1),
        (24, 0),
        (25, 1),
        (27, 1),
        (28, 0),
        (29, 1),
    ];
    let mut results = Vec::new();
    for e in 0..2 {
        let mut engine: std::boxed::Box<dyn Engine> = if e == 0 {
            std::boxed::Box::new(Interpreter::new())
        } else {
            std::boxed::Box::new(jit())
        };
        let mem = GuestMemory::new(TestHost::leak(), 1 << 24).unwrap();
        mem.map(CODE, 0x1000, Perm::READ | Perm::EXEC, true)
            .unwrap();
        let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
        mem.write_bytes_privileged(CODE, &bytes).unwrap();
        let mut cpu = Cpu {
            pc: CODE,
            ..Cpu::default()
        };
        cpu.f[1] = 1.0f64.to_bits();
        cpu.f[2] = 3.0f64.to_bits();
        cpu.frm = 0;
        cpu.x[21] = 0;
        cpu.x[23] = 1;
        cpu.x[26] = 1;
        let mut at_first_ecall = None;
        let mut at_fault = None;
        loop {
            match engine.run(&mut cpu, &mem) {
                Trap::Budget => {}
                Trap::MemFault(_) => {
                    at_fault = Some(cpu.fflags);
                    cpu.pc += 4;
                }
                Trap::Ecall if at_first_ecall.is_none() => {
                    at_first_ecall = Some(cpu.fflags);
                    cpu.pc += 4;
                }
                Trap::Ecall => break,
                t => panic!("{t:?}"),
            }
        }
        assert_eq!(at_first_ecall, Some(1), "engine {e}");
        assert_eq!(at_fault, Some(1), "engine {e}");
        for (r, v) in want {
            assert_eq!(cpu.x[r], v, "engine {e}: x{r}");
        }
        assert_eq!((cpu.fflags, cpu.frm), (1, 0), "engine {e}");
        results.push(cpu);
    }
    assert_eq!(results[0], results[1]);
}

/// `beq`/`bne` (`f3` 0/1) `rs1, x0, off`.
fn branch(f3: u32, rs1: u32, off: i32) -> u32 {
    let o = off as u32;
    0x63 | ((o >> 11) & 1) << 7
        | ((o >> 1) & 0xf) << 8
        | f3 << 12
        | rs1 << 15
        | ((o >> 5) & 0x3f) << 25
        | ((o >> 12) & 1) << 31
}

/// Chains of dependent operations, where the translator keeps the last
/// result in xmm0 for the next instruction: random straight-line code
/// around a loop (whose head is reached both by falling in and by the back
/// edge), over register contents that send some operations down the exact
/// path, must end in the interpreter's state.
#[test]
fn dependent_chains_agree() {
    let vals: [u64; 12] = [
        1.5f64.to_bits(),
        (-0.1f64).to_bits(),
        3.0f64.to_bits(),
        f64::MIN_POSITIVE.to_bits(),
        1e300f64.to_bits(),
        0,
        f64::NAN.to_bits(),
        BOX | 1.25f32.to_bits() as u64,
        BOX | (-3.5f32).to_bits() as u64,
        BOX | f32::MIN_POSITIVE.to_bits() as u64,
        1.25f32.to_bits() as u64, // not boxed
        2.0f64.to_bits(),
    ];
    let mut seed = 0x1234_5678u64;
    let mut next = |n: u64| {
        seed = mix(seed);
        seed % n
    };
    for prog in 0..300 {
        let mut code = Vec::new();
        let mut last = 1u32;
        let mut op = |code: &mut Vec<u32>, next: &mut dyn FnMut(u64) -> u64| {
            let pick = |next: &mut dyn FnMut(u64) -> u64, last: u32| {
                if next(2) == 0 {
                    last
                } else {
                    1 + next(7) as u32
                }
            };
            let rd = 1 + next(7) as u32;
            let (a, b, c) = (pick(next, last), pick(next, last), pick(next, last));
            let fmt = next(2) as u32;
            let rm = [0, 7, 7, 1][next(4) as usize];
            code.push(match next(9) {
                0..=3 => rv::opfp(next(4) as u32, fmt, rm, rd, a, b),
                4 => rv::opfp(0x0b, fmt, rm, rd, a, 0),
                5 => rv::fma(
                    [0x43, 0x47, 0x4b, 0x4f][next(4) as usize],
                    fmt,
                    rm,
                    rd,
                    a,
                    b,
                    c,
                ),
                6 => rv::opfp(0x14, fmt, next(3) as u32, 10 + next(3) as u32, a, b),
                7 => rv::opfp(0x08, fmt, rm, rd, a, 1 - fmt),
                _ => rv::opfp(0x04, fmt, next(3) as u32, rd, a, b),
            });
            last = rd;
        };
        for _ in 0..1 + next(6) {
            op(&mut code, &mut next);
        }
        // Maybe skip a few (x6 = 0): the code after them starts a block
        // reached by a jump as well as by falling in.
        let skipped = next(3) as i32;
        if skipped > 0 {
            code.push(branch(0, 6, 4 * (skipped + 1)));
            for _ in 0..skipped {
                op(&mut code, &mut next);
            }
        }
        let head = code.len();
        for _ in 0..1 + next(8) {
            op(&mut code, &mut next);
        }
        code.push(rv::addi(5, 5, -1));
        // bne x5, x0, head
        code.push(branch(1, 5, -4 * (code.len() - head) as i32));
        for _ in 0..next(4) {
            op(&mut code, &mut next);
        }
        code.push(rv::ECALL);
        let mut cpu0 = Cpu {
            pc: CODE,
            ..Cpu::default()
        };
        for r in 1..8 {
            cpu0.f[r] = vals[next(vals.len() as u64) as usize];
        }
        cpu0.x[5] = 3;
        cpu0.x[6] = next(2);
        cpu0.frm = if next(8) == 0 { 1 } else { 0 };
        let mut results = Vec::new();
        for e in 0..2 {
            let mut engine: std::boxed::Box<dyn Engine> = if e == 0 {
                std::boxed::Box::new(Interpreter::new())
            } else {
                std::boxed::Box::new(jit())
            };
            let mem = GuestMemory::new(TestHost::leak(), 1 << 24).unwrap();
            mem.map(CODE, 0x1000, Perm::READ | Perm::EXEC, true)
                .unwrap();
            let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
            mem.write_bytes_privileged(CODE, &bytes).unwrap();
            let mut cpu = cpu0.clone();
            loop {
                match engine.run(&mut cpu, &mem) {
                    Trap::Budget => {}
                    Trap::Ecall => break,
                    t => panic!("program {prog}: {t:?}"),
                }
            }
            results.push(cpu);
        }
        assert_eq!(results[0], results[1], "program {prog}: {code:x?}");
    }
}
