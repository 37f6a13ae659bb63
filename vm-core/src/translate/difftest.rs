//! Differential test: random valid RV64IM(+A, Zicsr) instruction
//! sequences, from fixed seeds, run under the interpreter and under the
//! translator; both must end with the same trap, the same `Cpu` (every
//! register, pc, instret, reservation) and the same data memory.
//!
//! The generated programs loop a few times (so chained and
//! indirect-jump paths run), branch forward inside the sequence, load and
//! store at random offsets from a data base register, sometimes through an
//! unmapped base (faults must be precise in both engines), and mix in
//! fallback instructions (atomics, CSR reads).

extern crate std;

use super::tests::{CODE, DATA, rv};
use super::*;
use crate::interp::Interpreter;
use crate::memory::Perm;
use crate::testhost::TestHost;

/// xorshift64*: small, deterministic, good enough to pick instructions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Registers the generated code never writes: loop counter, an unmapped
/// base, the data base.
const LOOP: u8 = 29;
const BAD: u8 = 30;
const BASE: u8 = 31;

fn interesting(r: &mut Rng) -> u64 {
    match r.below(10) {
        0 => 0,
        1 => u64::MAX,
        2 => i64::MIN as u64,
        3 => i64::MAX as u64,
        4 => 0xffff_ffff_8000_0000,
        5 => 0x7fff_ffff,
        6 => r.below(64),
        7 => (r.below(64) as i64 - 32) as u64,
        _ => r.next(),
    }
}

fn dst(r: &mut Rng) -> u8 {
    r.below(29) as u8 // x0..x28, x0 included on purpose
}

fn src(r: &mut Rng) -> u8 {
    r.below(32) as u8
}

/// One random instruction at index `at` of a body of `n` instructions.
fn random_inst(r: &mut Rng, at: usize, n: usize) -> u32 {
    let rd = dst(r);
    let rs1 = src(r);
    let rs2 = src(r);
    let imm = (r.below(4096) as i32) - 2048;
    match r.below(100) {
        // OP and OP-32 (with M): (f3, f7) pairs
        0..=29 => {
            const OPS: [(u32, u32); 18] = [
                (0, 0),
                (0, 0x20),
                (1, 0),
                (2, 0),
                (3, 0),
                (4, 0),
                (5, 0),
                (5, 0x20),
                (6, 0),
                (7, 0),
                (0, 1),
                (1, 1),
                (2, 1),
                (3, 1),
                (4, 1),
                (5, 1),
                (6, 1),
                (7, 1),
            ];
            const OPS32: [(u32, u32); 10] = [
                (0, 0),
                (0, 0x20),
                (1, 0),
                (5, 0),
                (5, 0x20),
                (0, 1),
                (4, 1),
                (5, 1),
                (6, 1),
                (7, 1),
            ];
            if r.chance(60) {
                let (f3, f7) = OPS[r.below(OPS.len() as u64) as usize];
                rv::r(0x33, f3, f7, rd, rs1, rs2 as u32)
            } else {
                let (f3, f7) = OPS32[r.below(OPS32.len() as u64) as usize];
                rv::r(0x3b, f3, f7, rd, rs1, rs2 as u32)
            }
        }
        // OP-IMM
        30..=49 => match r.below(9) {
            0 => rv::i(0x13, 0, rd, rs1, imm),
            1 => rv::i(0x13, 2, rd, rs1, imm),
            2 => rv::i(0x13, 3, rd, rs1, imm),
            3 => rv::i(0x13, 4, rd, rs1, imm),
            4 => rv::i(0x13, 6, rd, rs1, imm),
            5 => rv::i(0x13, 7, rd, rs1, imm),
            6 => {
                let sh = r.below(64) as i32;
                match r.below(3) {
                    0 => rv::i(0x13, 1, rd, rs1, sh),
                    1 => rv::i(0x13, 5, rd, rs1, sh),
                    _ => rv::i(0x13, 5, rd, rs1, sh | 0x400),
                }
            }
            7 => rv::i(0x1b, 0, rd, rs1, imm),
            _ => {
                let sh = r.below(32) as i32;
                match r.below(3) {
                    0 => rv::i(0x1b, 1, rd, rs1, sh),
                    1 => rv::i(0x1b, 5, rd, rs1, sh),
                    _ => rv::i(0x1b, 5, rd, rs1, sh | 0x400),
                }
            }
        },
        // LUI / AUIPC
        50..=54 => {
            let u = (r.next() as u32) & 0xfffff000;
            if r.chance(50) {
                0x37 | (rd as u32) << 7 | u
            } else {
                0x17 | (rd as u32) << 7 | u
            }
        }
        // loads: f3 0..=6 except 7
        55..=69 => {
            let f3 = [0, 1, 2, 3, 4, 5, 6][r.below(7) as usize];
            let base = if r.chance(3) { BAD } else { BASE };
            rv::i(0x03, f3, rd, base, r.below(2040) as i32)
        }
        // stores
        70..=81 => {
            let f3 = r.below(4) as u32;
            let base = if r.chance(3) { BAD } else { BASE };
            rv::s(0x23, f3, base, rs2, r.below(2040) as i32)
        }
        // forward branches and jal inside the body
        82..=91 => {
            let left = (n - at) as u64; // instructions after this one, plus the tail
            let k = 1 + r.below(left.min(6)) as i32;
            if r.chance(20) {
                rv::jal(rd, 4 * k)
            } else {
                let f3 = [0, 1, 4, 5, 6, 7][r.below(6) as usize];
                rv::b(f3, rs1, rs2, 4 * k)
            }
        }
        // atomics on aligned data (fallback path)
        92..=95 => {
            let f5 = [0x00, 0x01, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c][r.below(9) as usize];
            let d = r.chance(50);
            rv::r(0x2f, if d { 3 } else { 2 }, f5 << 2, rd, BASE, rs2 as u32)
        }
        // csrr instret / cycle (fallback)
        96..=97 => rv::i(0x73, 2, rd, 0, if r.chance(50) { 0xc02 } else { 0xc00 }),
        // fence
        _ => 0x0ff0_000f,
    }
}

/// A random F/D instruction (the single-step fallback path).
fn random_fp(r: &mut Rng) -> u32 {
    // Integer results (fmv.x, fcvt to int, compares) must not hit the
    // reserved registers either.
    let rd = r.below(29) as u32;
    let rs1 = r.below(32) as u32;
    let rs2 = r.below(32) as u32;
    let rs3 = r.below(32) as u32;
    let fmt = r.below(2) as u32;
    // Mostly valid rounding modes, DYN often, reserved ones rarely.
    let rm = match r.below(200) {
        0 => 5,
        1..=80 => 7,
        _ => r.below(5) as u32,
    };
    let op = |f5: u32, f3: u32, rs2: u32| {
        0x53 | rd << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | (f5 << 2 | fmt) << 25
    };
    match r.below(16) {
        0..=3 => op(r.below(4) as u32, rm, rs2), // fadd/fsub/fmul/fdiv
        4 => op(0x0b, rm, 0),                    // fsqrt
        5 => op(0x04, r.below(3) as u32, rs2),   // fsgnj[n|x]
        6 => op(0x05, r.below(2) as u32, rs2),   // fmin/fmax
        7 => op(0x14, r.below(3) as u32, rs2),   // fle/flt/feq
        8 => op(0x18, rm, r.below(4) as u32),    // fcvt.{w,wu,l,lu}.fmt
        9 => op(0x1a, rm, r.below(4) as u32),    // fcvt.fmt.{w,wu,l,lu}
        10 => op(0x1c, r.below(2) as u32, 0),    // fmv.x / fclass
        11 => op(0x1e, 0, 0),                    // fmv.fmt.x
        12 => {
            // fcvt.s.d / fcvt.d.s
            let f7 = if fmt == 0 { 0x20 } else { 0x21 };
            0x53 | rd << 7 | rm << 12 | rs1 << 15 | (1 - fmt) << 20 | f7 << 25
        }
        13 => {
            let opc = [0x43, 0x47, 0x4b, 0x4f][r.below(4) as usize];
            opc | rd << 7 | rm << 12 | rs1 << 15 | rs2 << 20 | fmt << 25 | rs3 << 27
        }
        14 => rv::i(0x07, 2 + fmt, rd as u8, BASE, r.below(2040) as i32 & !7),
        _ => rv::s(0x27, 2 + fmt, BASE, rs2 as u8, r.below(2040) as i32 & !7),
    }
}

fn interesting_fp(r: &mut Rng) -> u64 {
    const D: [u64; 10] = [
        0,
        0x8000_0000_0000_0000,
        0x3ff0_0000_0000_0000, // 1.0
        0xc000_0000_0000_0000, // -2.0
        0x7ff0_0000_0000_0000, // inf
        0x7ff8_0000_0000_0000, // qNaN
        0x7ff4_0000_0000_0000, // sNaN
        0x0000_0000_0000_0001, // smallest subnormal
        0x41e0_0000_0000_0000, // 2^31
        0x43e0_0000_0000_0000, // 2^63
    ];
    const S: [u32; 8] = [
        0,
        0x8000_0000,
        0x3f80_0000,
        0x7f80_0000,
        0x7fc0_0000,
        0x7fa0_0000,
        0x0000_0001,
        0x4f00_0000,
    ];
    match r.below(6) {
        0 => D[r.below(D.len() as u64) as usize],
        1 => 0xffff_ffff_0000_0000 | S[r.below(S.len() as u64) as usize] as u64,
        2 => 0xffff_ffff_0000_0000 | (r.next() as u32) as u64,
        3 => r.next() & 0x43ff_ffff_ffff_ffff, // moderate doubles
        _ => r.next(),
    }
}

/// A program: `LOOP` = iterations; body; decrement; branch back; ecall.
fn program(r: &mut Rng, fp: bool) -> Vec<u32> {
    let n = 4 + r.below(60) as usize;
    let mut code = vec![rv::addi(LOOP, 0, 1 + r.below(3) as i32)];
    for at in 0..n {
        code.push(if fp && r.chance(40) {
            random_fp(r)
        } else {
            random_inst(r, at, n)
        });
    }
    code.push(rv::addi(LOOP, LOOP, -1));
    code.push(rv::bne(LOOP, 0, -(4 * (n as i32 + 1))));
    code.push(rv::ECALL);
    code
}

fn run_engine(e: &mut dyn Engine, cpu: &mut Cpu, mem: &GuestMemory) -> Trap {
    for _ in 0..4 {
        match e.run(cpu, mem) {
            Trap::Budget => continue,
            t => return t,
        }
    }
    panic!("guest did not stop");
}

#[test]
fn random_programs_agree_with_the_interpreter() {
    differential(false, if cfg!(debug_assertions) { 3000 } else { 10000 });
}

#[test]
fn random_fp_programs_agree_with_the_interpreter() {
    differential(true, if cfg!(debug_assertions) { 2000 } else { 10000 });
}

fn differential(fp: bool, cases: u64) {
    let host = TestHost::leak();
    let mem_i = GuestMemory::new(host, 1 << 24).unwrap();
    let mem_j = GuestMemory::new(host, 1 << 24).unwrap();
    let mut interp = Interpreter::new();
    // A small cache, so flushes happen along the way too.
    let mut jit = Jit::new(host, MIN_CACHE_SIZE).unwrap();
    let mut insts = 0;
    let (mut ecalls, mut faults) = (0, 0);
    for seed in 0..cases {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15 ^ (seed + 1));
        let code = program(&mut r, fp);
        insts += code.len();
        let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut data = vec![0u8; 4096];
        for b in data.iter_mut() {
            *b = r.next() as u8;
        }
        let mut cpu0 = Cpu {
            pc: CODE,
            ..Cpu::default()
        };
        for x in 1..32 {
            cpu0.x[x] = interesting(&mut r);
        }
        if fp {
            for f in 0..32 {
                cpu0.f[f] = interesting_fp(&mut r);
            }
            cpu0.frm = if r.chance(2) {
                5 + r.below(3) as u32
            } else {
                r.below(5) as u32
            };
            cpu0.fflags = if r.chance(20) { r.below(32) as u32 } else { 0 };
        }
        cpu0.x[BASE as usize] = DATA;
        cpu0.x[BAD as usize] = 0x80_0000;
        for mem in [&mem_i, &mem_j] {
            // Fresh mappings: the code change bumps the code epoch, so both
            // engines must drop what they cached for the previous case.
            mem.map(CODE, 0x10000, Perm::READ | Perm::EXEC, true)
                .unwrap();
            mem.map(DATA, 0x1000, Perm::READ | Perm::WRITE, true)
                .unwrap();
            mem.write_bytes_privileged(CODE, &bytes).unwrap();
            mem.write_bytes(DATA, &data).unwrap();
        }
        let mut ci = cpu0.clone();
        let mut cj = cpu0.clone();
        let ti = run_engine(&mut interp, &mut ci, &mem_i);
        let tj = run_engine(&mut jit, &mut cj, &mem_j);
        let mut di = vec![0u8; 4096];
        let mut dj = vec![0u8; 4096];
        mem_i.read_bytes(DATA, &mut di).unwrap();
        mem_j.read_bytes(DATA, &mut dj).unwrap();
        match ti {
            Trap::Ecall => ecalls += 1,
            Trap::MemFault(_) => faults += 1,
            _ => {}
        }
        if ti != tj || ci != cj || di != dj {
            let listing: Vec<std::string::String> = code
                .iter()
                .enumerate()
                .map(|(k, w)| std::format!("{:#x}: {}", CODE + 4 * k as u64, decode(*w).0))
                .collect();
            let mut regs: Vec<std::string::String> = (0..32)
                .filter(|&k| ci.x[k] != cj.x[k])
                .map(|k| std::format!("x{k}: interp {:#x} jit {:#x}", ci.x[k], cj.x[k]))
                .collect();
            regs.extend(
                (0..32)
                    .filter(|&k| ci.f[k] != cj.f[k])
                    .map(|k| std::format!("f{k}: interp {:#x} jit {:#x}", ci.f[k], cj.f[k])),
            );
            regs.push(std::format!("fflags {} / {}", ci.fflags, cj.fflags));
            panic!(
                "seed {seed}: traps {ti:?} / {tj:?}\npc {:#x} / {:#x}, instret {} / {}\n{}\nmemory equal: {}\n{}",
                ci.pc,
                cj.pc,
                ci.instret,
                cj.instret,
                regs.join("\n"),
                di == dj,
                listing.join("\n")
            );
        }
    }
    assert!(insts > cases as usize * 4);
    // Both outcomes are well represented.
    assert!(
        ecalls > cases / 4 && faults > cases / 10,
        "{ecalls} {faults}"
    );
    assert!(jit.counters().flushes > 0);
    assert!(jit.counters().chained > 0);
}
