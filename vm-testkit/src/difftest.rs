//! Differential testing of the two engines: random valid RV64GC
//! instruction sequences run under the interpreter and under the
//! translator, which must end with the same trap, the same [`Cpu`] (every
//! register, pc, `instret`, `fflags`, the LR/SC reservation) and the same
//! data memory.
//!
//! The generator draws every choice from a [`Source`]: either the seeded
//! [`Rng`] (the fixed-seed tests that run in CI, in
//! `vm-testkit/tests/difftest.rs`) or the bytes of a fuzz input ([`Bytes`], used
//! by `fuzz/fuzz_targets/difftest.rs` at the repository root and by a
//! stable-toolchain test feeding random byte strings through [`fuzz_one`]).
//! A fuzz input's bytes map directly onto the program, so libFuzzer's
//! mutations stay local.
//!
//! A program loops one to three times over a body of items, so the
//! translator's chained and indirect paths run. Items are plain
//! instructions, forward branches and jumps (`jal`, compressed `c.j` and
//! `c.beqz`/`c.bnez`, `auipc`+`jalr`) between item boundaries, loads and
//! stores at random offsets from a data base register (sometimes through
//! a bad base: unmapped, straddling the end of the data page, or
//! read-only, so faults must be precise in both engines), AMOs and
//! LR/SC sequences on aligned addresses of the data area, compressed
//! instructions, CSR reads, F/D arithmetic, and now and then raw
//! instruction bits (with control transfers and writes to the harness's
//! reserved registers defused; some stay illegal). The code sometimes
//! starts near the end of a page, so blocks (and 32-bit instructions)
//! cross it.
//!
//! Self-modifying code comes only with `fence.i` right after the store
//! (in programs whose code is mapped writable, which then have no raw
//! instruction bits): the interpreter, unlike the translator, sees code
//! writes only at `fence.i`, which RISC-V allows, so without it the two
//! may differ without a bug. Backward branches other than the loop are
//! not generated (both engines must stop).
//!
//! Test-only code: it lives in `vm-testkit`, which vm-core's product build
//! never sees; hosts' tests and the fuzz target depend on it.

use crate::testhost::TestHost;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::{self, Write};
use vm_core::cpu::{Cpu, Trap};
use vm_core::decode::decode;
use vm_core::host::HostOs;
use vm_core::interp::Interpreter;
use vm_core::memory::{GuestMemory, Perm};
use vm_core::process::Engine;
use vm_core::translate::{Jit, MIN_CACHE_SIZE};

/// Where the code is mapped (read + execute, 64 KiB).
pub const CODE: u64 = 0x10000;
const CODE_LEN: u64 = 0x10000;
/// Where the data is mapped (read + write); the base register points here.
pub const DATA: u64 = 0x40000;
/// Size of the data area (compared after every case).
pub const DATA_LEN: usize = 4096;
/// Where the "bad" base register points: right after the data area
/// (never mapped, so accesses fault, and those just below it straddle the
/// end of the data page), or, in some programs, into the read-only code
/// mapping beyond the program (loads read zeroes, stores fault on a
/// mapped page).
const BAD_UNMAPPED: u64 = DATA + DATA_LEN as u64;
const BAD_READ_ONLY: u64 = CODE + 0x8000;

/// Registers the random instructions never write: the loop counter, a
/// bad base, the data base, the address register of atomics
/// (written only by the `addi` that sets it up from the data base), and
/// the base of self-modifying stores (written only by their `auipc`).
const SMC: u8 = 27;
const LOOP: u8 = 29;
const BAD: u8 = 30;
const BASE: u8 = 31;
const ADDR: u8 = 28;

/// Where the random choices come from.
pub trait Source {
    /// 64 random bits.
    fn next(&mut self) -> u64;
    /// A value in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// xorshift64*: small, deterministic, good enough to pick instructions.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// The generator for the fixed-seed case `seed`.
    pub fn seeded(seed: u64) -> Rng {
        Rng(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_add(1))
    }
}

impl Source for Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Choices read from a fuzz input: each choice takes as few bytes as its
/// range needs (one for a choice among at most 256), so a mutated byte
/// changes one decision. Once the input runs out, the rest comes from an
/// [`Rng`] seeded with a hash of the whole input, so short inputs still
/// make complete programs (with registers and data filled in).
#[derive(Clone, Debug)]
pub struct Bytes<'a> {
    data: &'a [u8],
    rest: Rng,
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Bytes<'a> {
        // FNV-1a
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in data {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        Bytes {
            data,
            rest: Rng::seeded(h),
        }
    }

    fn take(&mut self, n: usize) -> Option<u64> {
        if self.data.len() < n {
            self.data = &[];
            return None;
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Some(head.iter().rev().fold(0, |v, &b| v << 8 | b as u64))
    }
}

impl Source for Bytes<'_> {
    fn next(&mut self) -> u64 {
        self.take(8).unwrap_or_else(|| self.rest.next())
    }
    fn below(&mut self, n: u64) -> u64 {
        let len = match n {
            0..=0x100 => 1,
            0x101..=0x1_0000 => 2,
            0x1_0001..=0x1_0000_0000 => 4,
            _ => 8,
        };
        self.take(len).unwrap_or_else(|| self.rest.next()) % n
    }
}

pub use crate::rv;

/// One piece of straight-line code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parcel {
    W(u32),
    H(u16),
}

/// Control transfers whose offset is known only once the code is laid
/// out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Jump {
    B {
        f3: u32,
        rs1: u8,
        rs2: u8,
    },
    Jal {
        rd: u8,
    },
    CJ,
    CBz {
        ne: bool,
        rs1: u8,
    },
    /// `auipc t, 0; jalr rd, off(t)` (`odd` sets bit 0 of the offset,
    /// which `jalr` must clear).
    AuipcJalr {
        t: u8,
        rd: u8,
        odd: bool,
    },
}

impl Jump {
    fn size(self) -> u64 {
        match self {
            Jump::CJ | Jump::CBz { .. } => 2,
            Jump::AuipcJalr { .. } => 8,
            _ => 4,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    Code(Vec<Parcel>),
    /// A jump to the start of item `to` of the whole program.
    Jump(Jump, usize),
    /// Self-modifying code: `auipc SMC, 0; lui v; addiw v; sw v, off(SMC);
    /// fence.i` replaces the 4-byte item `to` with `word` (and makes the
    /// change visible to both engines).
    Smc {
        v: u8,
        word: u32,
        to: usize,
    },
}

impl Item {
    fn size(&self) -> u64 {
        match self {
            Item::Code(ps) => ps
                .iter()
                .map(|p| match p {
                    Parcel::W(_) => 4,
                    Parcel::H(_) => 2,
                })
                .sum(),
            Item::Jump(j, _) => j.size(),
            Item::Smc { .. } => 20,
        }
    }
}

fn interesting(r: &mut impl Source) -> u64 {
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

/// A destination: x0..x26, x0 included on purpose (see [`seldom_sp`]).
fn dst(r: &mut impl Source) -> u8 {
    let d = r.below(27) as u8;
    seldom_sp(r, d)
}

/// A nonzero destination (see [`seldom_sp`]).
fn dst_nz(r: &mut impl Source) -> u8 {
    let d = 1 + r.below(26) as u8;
    seldom_sp(r, d)
}

/// `d`, but `sp` and `tp` only one time in 25 (else the next register):
/// translated code runs only while they are near the guest space (the
/// translator's promise, `backend::near` in vm-core; with a wild one the
/// dispatcher interprets), and the values a program computes are mostly
/// far from it, so a program writing them freely would be mostly
/// interpreted under both engines. Their initial values are near too,
/// but for one case in 25 ([`Case::generate`]).
fn seldom_sp(r: &mut impl Source, d: u8) -> u8 {
    if (d == 2 || d == 4) && !r.chance(4) {
        d + 1
    } else {
        d
    }
}

fn src(r: &mut impl Source) -> u8 {
    r.below(32) as u8
}

/// x8..x15, the registers compressed forms can name.
fn creg(r: &mut impl Source) -> u8 {
    8 + r.below(8) as u8
}

/// OP and OP-32 (with M): (f3, f7) pairs.
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

/// A register-register or register-immediate integer instruction.
fn random_alu(r: &mut impl Source) -> u32 {
    let rd = dst(r);
    let rs1 = src(r);
    let rs2 = src(r);
    let imm = (r.below(4096) as i32) - 2048;
    match r.below(10) {
        0..=3 => {
            let (f3, f7) = OPS[r.below(OPS.len() as u64) as usize];
            rv::r(0x33, f3, f7, rd, rs1, rs2)
        }
        4..=5 => {
            let (f3, f7) = OPS32[r.below(OPS32.len() as u64) as usize];
            rv::r(0x3b, f3, f7, rd, rs1, rs2)
        }
        _ => match r.below(9) {
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
            // addiw, often `sext.w` (imm 0, its own translation)
            7 => rv::i(0x1b, 0, rd, rs1, if r.chance(30) { 0 } else { imm }),
            _ => {
                let sh = r.below(32) as i32;
                match r.below(3) {
                    0 => rv::i(0x1b, 1, rd, rs1, sh),
                    1 => rv::i(0x1b, 5, rd, rs1, sh),
                    _ => rv::i(0x1b, 5, rd, rs1, sh | 0x400),
                }
            }
        },
    }
}

/// Base register and offset of a load or store: mostly anywhere in the
/// first half of the data area, sometimes through the bad base, just
/// below it (straddling the end of the data page) or beyond.
fn mem_operand(r: &mut impl Source) -> (u8, i32) {
    if r.chance(5) {
        let off = if r.chance(50) {
            -1 - r.below(8) as i32
        } else {
            r.below(2040) as i32
        };
        (BAD, off)
    } else {
        (BASE, r.below(2040) as i32)
    }
}

/// A data-area offset for an atomic of `size` bytes: aligned, in the
/// first 256 bytes (so LR/SC, AMOs and plain stores meet), misaligned
/// now and then (a precise misaligned fault).
fn atomic_offset(r: &mut impl Source, size: u32) -> i32 {
    let off = size * r.below(256 / size as u64) as u32;
    if r.chance(3) {
        (off + 1 + r.below(size as u64 - 1) as u32) as i32
    } else {
        off as i32
    }
}

/// `addi ADDR, base, off` for an atomic of `size` bytes: mostly into the
/// data area, sometimes through the bad base (an aligned address that is
/// unmapped or read-only, so the atomic faults as a read or as a write).
/// Returns the instruction and the offset.
fn atomic_addr(r: &mut impl Source, size: u32) -> (Parcel, i32) {
    let off = atomic_offset(r, size);
    if r.chance(6) {
        let off = off & !(size as i32 - 1);
        (Parcel::W(rv::addi(ADDR, BAD, off)), off)
    } else {
        (Parcel::W(rv::addi(ADDR, BASE, off)), off)
    }
}

/// An AMO (not LR/SC) at `ADDR`, set up first most of the time.
fn amo_item(r: &mut impl Source) -> Vec<Parcel> {
    const F5: [u32; 9] = [0x00, 0x01, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c];
    let d = r.chance(50);
    let mut ps = Vec::new();
    if r.chance(80) {
        ps.push(atomic_addr(r, if d { 8 } else { 4 }).0);
    }
    let f5 = F5[r.below(F5.len() as u64) as usize];
    let (aq, rl) = (r.chance(25), r.chance(25));
    ps.push(Parcel::W(rv::amo(f5, d, aq, rl, dst(r), ADDR, src(r))));
    ps
}

/// An LR/SC sequence on the data area: `lr` then `sc` to the same address,
/// to a different one, of the other width, after a store to the reserved
/// address (of a different or the same value), or an `sc` without `lr`,
/// or an `lr` left pending (the next one, maybe in the next iteration,
/// meets it).
fn lrsc_item(r: &mut impl Source) -> Vec<Parcel> {
    const LR: u32 = 0x02;
    const SC: u32 = 0x03;
    let d = r.chance(50);
    let size = if d { 8 } else { 4 };
    let (first, off) = atomic_addr(r, size);
    let mut ps = vec![first];
    let lr_rd = dst(r);
    let (aq, rl) = (r.chance(25), r.chance(25));
    let kind = r.below(8);
    if kind != 0 {
        ps.push(Parcel::W(rv::amo(LR, d, aq, rl, lr_rd, ADDR, 0)));
    }
    for _ in 0..r.below(3) {
        ps.push(Parcel::W(random_alu(r)));
    }
    let mut sc_d = d;
    match kind {
        // lr pending
        1 => return ps,
        // to another (maybe the same) address
        2 => {
            ps.push(atomic_addr(r, size).0);
        }
        // other width (an aligned address still)
        3 => sc_d = !d,
        // a plain store of some register to the reserved word
        4 => {
            let f3 = if d { 3 } else { 2 };
            ps.push(Parcel::W(rv::s(0x23, f3, BASE, src(r), off)));
        }
        // a plain store of the value just loaded (same value again)
        5 => {
            let f3 = if d { 3 } else { 2 };
            ps.push(Parcel::W(rv::s(0x23, f3, BASE, lr_rd, off)));
        }
        // 0: sc without lr; 6, 7: plain lr/sc pair
        _ => {}
    }
    let (aq, rl) = (r.chance(25), r.chance(25));
    ps.push(Parcel::W(rv::amo(SC, sc_d, aq, rl, dst(r), ADDR, src(r))));
    ps
}

/// A compressed instruction, with the 32-bit `addi` that points its base
/// register into the data area for the memory forms.
fn compressed_item(r: &mut impl Source) -> Vec<Parcel> {
    use rv::c;
    let nz6 = |r: &mut dyn Source| {
        let v = 1 + r.below(63) as i32; // 1..=63 as a 6-bit field
        if v >= 32 { v - 64 } else { v }
    };
    let h = match r.below(14) {
        0 => c::addi(dst_nz(r), nz6(r)),
        1 => c::addiw(dst_nz(r), r.below(64) as i32 - 32),
        2 => c::li(dst_nz(r), r.below(64) as i32 - 32),
        3 => {
            let rd = loop {
                let rd = dst_nz(r);
                if rd != 2 {
                    break rd;
                }
            };
            c::lui(rd, nz6(r))
        }
        4 => c::slli(dst_nz(r), 1 + r.below(63) as u32),
        5 => {
            let kind = r.below(3) as u32;
            let imm = if kind == 2 {
                r.below(64) as u32
            } else {
                1 + r.below(63) as u32
            };
            c::alu_imm(kind, creg(r), imm)
        }
        6 => c::alu(false, r.below(4) as u32, creg(r), creg(r)),
        7 => c::alu(true, r.below(2) as u32, creg(r), creg(r)),
        8 => {
            let rd = dst_nz(r);
            let rs2 = 1 + r.below(31) as u8;
            c::mv_add(r.chance(50), rd, rs2)
        }
        9..=11 => {
            // c.lw/c.ld/c.sw/c.sd/c.fld/c.fsd through a base register
            // pointed at the data area by the addi before it.
            let f3 = [2, 3, 6, 7, 1, 5][r.below(6) as usize];
            let size = if f3 & 3 == 2 { 4 } else { 8 };
            let base = creg(r);
            let pre = rv::addi(base, BASE, 8 * r.below(200) as i32);
            let off = size * r.below(32) as u32;
            return vec![Parcel::W(pre), Parcel::H(c::mem(f3, creg(r), base, off))];
        }
        _ => {
            // c.lwsp/c.ldsp/c.swsp/c.sdsp with sp in the data area
            let d = r.chance(50);
            let size = if d { 8 } else { 4 };
            let pre = rv::addi(2, BASE, 8 * r.below(200) as i32);
            let off = size * r.below(64) as u32;
            let h = if r.chance(50) {
                c::load_sp(d, dst_nz(r), off)
            } else {
                c::store_sp(d, src(r), off)
            };
            return vec![Parcel::W(pre), Parcel::H(h)];
        }
    };
    vec![Parcel::H(h)]
}

/// One body item at index `at` (1-based in the whole program) of a body
/// of `n` items; the loop tail is item `n + 1`.
/// With `smc`, some items rewrite others (see [`Item::Smc`]; their target
/// is picked once all items are known), and no raw instruction bits are
/// generated (a raw store through a register holding a code address could
/// change code without `fence.i`).
fn random_item(r: &mut impl Source, at: usize, n: usize, smc: bool) -> Item {
    if smc && r.chance(6) {
        return Item::Smc {
            v: dst_nz(r),
            word: random_alu(r),
            to: r.below(1 << 16) as usize,
        };
    }
    let rd = dst(r);
    let rs2 = src(r);
    let w = |v| Item::Code(vec![Parcel::W(v)]);
    match r.below(100) {
        0..=39 => w(random_alu(r)),
        // LUI / AUIPC
        40..=43 => {
            let u = (r.next() as u32) & 0xfffff000;
            let op = if r.chance(50) { 0x37 } else { 0x17 };
            w(op | (rd as u32) << 7 | u)
        }
        // loads: f3 0..=6
        44..=55 => {
            let f3 = r.below(7) as u32;
            let (base, off) = mem_operand(r);
            w(rv::i(0x03, f3, rd, base, off))
        }
        // stores
        56..=65 => {
            let f3 = r.below(4) as u32;
            let (base, off) = mem_operand(r);
            w(rv::s(0x23, f3, base, rs2, off))
        }
        // forward control transfers, up to six items ahead (at most the
        // loop tail)
        66..=75 => {
            let to = at + 1 + r.below((n + 1 - at).min(6) as u64) as usize;
            let j = match r.below(10) {
                0 => Jump::Jal { rd },
                1 => Jump::CJ,
                2 => Jump::CBz {
                    ne: r.chance(50),
                    rs1: creg(r),
                },
                3 => Jump::AuipcJalr {
                    t: dst_nz(r),
                    rd,
                    odd: r.chance(30),
                },
                _ => Jump::B {
                    f3: [0, 1, 4, 5, 6, 7][r.below(6) as usize],
                    rs1: src(r),
                    rs2,
                },
            };
            Item::Jump(j, to)
        }
        76..=79 => Item::Code(amo_item(r)),
        80..=85 => Item::Code(lrsc_item(r)),
        86..=93 => Item::Code(compressed_item(r)),
        // `zext.w` as `slli rd, rs, 32; srli rd, rd, 32` (fused by the
        // translator, `codegen/zext.rs`); rs sometimes rd
        94..=95 => {
            let rs = if r.chance(30) { rd } else { src(r) };
            Item::Code(vec![
                Parcel::W(rv::i(0x13, 1, rd, rs, 32)),
                Parcel::W(rv::i(0x13, 5, rd, rd, 32)),
            ])
        }
        // csrr instret / cycle
        96..=97 => w(rv::i(
            0x73,
            2,
            rd,
            0,
            if r.chance(50) { 0xc02 } else { 0xc00 },
        )),
        98 => w(0x0ff0_000f), // fence
        _ if smc => w(0x0ff0_000f),
        _ => Item::Code(vec![raw_item(r)]),
    }
}

/// Any instruction bits at all, made safe for the harness: control
/// transfers (which could loop forever) become other instructions, and a
/// destination among the reserved registers loses its top bit. Mostly
/// valid ones; the rest must raise the same illegal-instruction trap in
/// both engines.
fn raw_item(r: &mut impl Source) -> Parcel {
    for _ in 0..4 {
        let p = if r.chance(70) {
            let mut w = r.below(1 << 32) as u32 | 3;
            if matches!(w & 0x7f, 0x63 | 0x67 | 0x6f) {
                // branch, jalr, jal: OP-IMM
                w = w & !0x7f | 0x13;
            }
            if (w >> 7 & 0x1f) >= SMC as u32 {
                w &= !(0x10 << 7);
            }
            Parcel::W(w)
        } else {
            let mut h = r.below(1 << 16) as u16;
            if h & 3 == 3 {
                h &= !1;
            }
            let f3 = h >> 13;
            if h & 3 == 1 && f3 >= 5 {
                // c.j, c.beqz, c.bnez: c.li, c.lui/c.addi16sp, misc-alu
                h = h & !(7 << 13) | (f3 - 3) << 13;
            }
            if h & 3 == 2 && f3 == 4 && (h >> 2 & 0x1f) == 0 && (h >> 7 & 0x1f) != 0 {
                // c.jr, c.jalr: c.mv, c.add from x1
                h |= 1 << 2;
            }
            if (h >> 7 & 0x1f) >= SMC as u16 {
                h &= !(0x10 << 7);
            }
            Parcel::H(h)
        };
        let bits = match p {
            Parcel::W(w) => w,
            Parcel::H(h) => h as u32,
        };
        if !matches!(decode(bits).0, vm_core::decode::Inst::Illegal(_)) || r.chance(20) {
            return p;
        }
    }
    Parcel::W(rv::addi(0, 0, 0))
}

/// An f register: half the time one of six (f8..f13), so values flow
/// from one F/D instruction to the next (the translator keeps them in
/// host registers across a region), else any.
fn freg(r: &mut impl Source) -> u32 {
    if r.chance(50) {
        8 + r.below(6) as u32
    } else {
        r.below(32) as u32
    }
}

/// A random F/D instruction, or an access to the floating-point CSRs.
fn random_fp(r: &mut impl Source) -> u32 {
    // Integer results (fmv.x, fcvt to int, compares) must not hit the
    // reserved registers either (f8..f13 names x8..x13 there: fine).
    let rd = if r.chance(50) {
        8 + r.below(6) as u32
    } else {
        dst(r) as u32
    };
    let rs1 = freg(r);
    let rs2 = freg(r);
    let rs3 = freg(r);
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
    match r.below(20) {
        0..=3 | 19 => op(r.below(4) as u32, rm, rs2), // fadd/fsub/fmul/fdiv
        4 => op(0x0b, rm, 0),                         // fsqrt
        5 => op(0x04, r.below(3) as u32, rs2),        // fsgnj[n|x]
        6 => op(0x05, r.below(2) as u32, rs2),        // fmin/fmax
        7 => op(0x14, r.below(3) as u32, rs2),        // fle/flt/feq
        8 => op(0x18, rm, r.below(4) as u32),         // fcvt.{w,wu,l,lu}.fmt
        9 => op(0x1a, rm, r.below(4) as u32),         // fcvt.fmt.{w,wu,l,lu}
        10 => op(0x1c, r.below(2) as u32, 0),         // fmv.x / fclass
        11 => op(0x1e, 0, 0),                         // fmv.fmt.x
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
        15 => rv::s(0x27, 2 + fmt, BASE, rs2 as u8, r.below(2040) as i32 & !7),
        16 => {
            // Through the bad base: the access faults (or, on the
            // read-only page, a load reads zeroes) mid-region, with
            // f registers written before it.
            let off = r.below(2040) as i32 & !7;
            if r.chance(50) {
                rv::i(0x07, 2 + fmt, rd as u8, BAD, off)
            } else {
                rv::s(0x27, 2 + fmt, BAD, rs2 as u8, off)
            }
        }
        17 => {
            // fflags, frm, fcsr: read, written (frm mostly to a valid
            // mode, round to nearest even most of all), set, cleared.
            let csr = 1 + r.below(3) as i32;
            let f3 = 1 + r.below(3) as u32;
            if r.chance(50) {
                let imm = if csr == 2 && r.chance(60) {
                    0
                } else if csr == 2 {
                    r.below(6) as u8
                } else {
                    r.below(32) as u8
                };
                rv::i(0x73, f3 + 4, rd as u8, imm, csr)
            } else {
                rv::i(0x73, f3, rd as u8, src(r), csr)
            }
        }
        // fmv.d/fneg/fabs (and the single forms): one source.
        _ => op(0x04, r.below(3) as u32, rs1),
    }
}

/// `frflags t; fle/flt/feq.{s,d} rd, a, b; fsflags t`, the quiet compare
/// the translator fuses (`codegen/quiet.rs`); sometimes with `rd` = `t`,
/// which it must not fuse.
fn quiet_compare_item(r: &mut impl Source) -> Vec<Parcel> {
    let t = dst_nz(r);
    let rd = if r.chance(15) { t } else { dst(r) };
    let fmt = r.below(2) as u32;
    let cmp = 0x53
        | (rd as u32) << 7
        | (r.below(3) as u32) << 12
        | freg(r) << 15
        | freg(r) << 20
        | (0x14 << 2 | fmt) << 25;
    vec![
        Parcel::W(rv::i(0x73, 2, t, 0, 1)),
        Parcel::W(cmp),
        Parcel::W(rv::i(0x73, 1, 0, t, 1)),
    ]
}

fn interesting_fp(r: &mut impl Source) -> u64 {
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

/// One generated test: code, initial data and registers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// Machine code, loaded at `cpu.pc`.
    pub code: Vec<u8>,
    /// The initial contents of the data area at [`DATA`].
    pub data: Vec<u8>,
    /// The initial registers (`pc` is where the code starts).
    pub cpu: Cpu,
    /// Whether the code is mapped writable (the program modifies itself).
    pub code_writable: bool,
}

/// Lay the items out from `start`, resolving jump offsets.
fn layout(items: &[Item], start: u64) -> Vec<u8> {
    let mut at = Vec::with_capacity(items.len() + 1);
    let mut pc = start;
    for it in items {
        at.push(pc);
        pc += it.size();
    }
    at.push(pc);
    let mut code = Vec::with_capacity((pc - start) as usize);
    let mut w = |p: Parcel| match p {
        Parcel::W(v) => code.extend_from_slice(&v.to_le_bytes()),
        Parcel::H(v) => code.extend_from_slice(&v.to_le_bytes()),
    };
    for (k, it) in items.iter().enumerate() {
        match *it {
            Item::Code(ref ps) => ps.iter().for_each(|&p| w(p)),
            Item::Jump(j, to) => {
                let off = at[to].wrapping_sub(at[k]) as i64 as i32;
                match j {
                    Jump::B { f3, rs1, rs2 } => w(Parcel::W(rv::b(f3, rs1, rs2, off))),
                    Jump::Jal { rd } => w(Parcel::W(rv::jal(rd, off))),
                    Jump::CJ => w(Parcel::H(rv::c::j(off))),
                    Jump::CBz { ne, rs1 } => w(Parcel::H(rv::c::bz(ne, rs1, off))),
                    Jump::AuipcJalr { t, rd, odd } => {
                        w(Parcel::W(rv::auipc(t, 0)));
                        w(Parcel::W(rv::i(0x67, 0, rd, t, off | odd as i32)));
                    }
                }
            }
            Item::Smc { v, word, to } => {
                let off = at[to].wrapping_sub(at[k]) as i64 as i32;
                w(Parcel::W(rv::auipc(SMC, 0)));
                w(Parcel::W(rv::lui(
                    v,
                    (word.wrapping_add(0x800) >> 12) & 0xfffff,
                )));
                let lo = (word as i32) << 20 >> 20;
                w(Parcel::W(rv::i(0x1b, 0, v, v, lo)));
                w(Parcel::W(rv::s(0x23, 2, SMC, v, off)));
                w(Parcel::W(rv::FENCE_I));
            }
        }
    }
    code
}

impl Case {
    /// A hand-written program: the words `code` at [`CODE`], read-only,
    /// started there with the registers of `cpu` and the data area `data`.
    pub fn program(code: &[u32], data: Vec<u8>, cpu: Cpu) -> Case {
        Case::assembled(
            code.iter().flat_map(|w| w.to_le_bytes()).collect(),
            data,
            cpu,
        )
    }

    /// The same from machine code already laid out.
    pub fn assembled(code: Vec<u8>, data: Vec<u8>, cpu: Cpu) -> Case {
        Case {
            code,
            data,
            cpu: Cpu { pc: CODE, ..cpu },
            code_writable: false,
        }
    }

    /// A program (F/D instructions mixed in if `fp`): `LOOP` = 1..=3
    /// iterations; the body; decrement; branch back; `ecall`.
    pub fn generate(r: &mut impl Source, fp: bool) -> Case {
        let iterations = 1 + r.below(3) as i32;
        Case::generate_looping(r, fp, iterations)
    }

    /// The same with 60..=119 iterations: enough for the translator's
    /// first-tier blocks to get hot and become regions mid-run (see
    /// `vm_core::profile`), given a cache big enough for regions.
    pub fn generate_hot(r: &mut impl Source, fp: bool) -> Case {
        let iterations = 60 + r.below(60) as i32;
        Case::generate_looping(r, fp, iterations)
    }

    fn generate_looping(r: &mut impl Source, fp: bool, iterations: i32) -> Case {
        let n = 4 + r.below(60) as usize;
        let smc = r.chance(15);
        let mut items = vec![Item::Code(vec![Parcel::W(rv::addi(LOOP, 0, iterations))])];
        for at in 1..=n {
            items.push(if fp && r.chance(40) {
                if r.chance(10) {
                    Item::Code(quiet_compare_item(r))
                } else {
                    Item::Code(vec![Parcel::W(random_fp(r))])
                }
            } else {
                random_item(r, at, n, smc)
            });
        }
        // Point the self-modifying stores at body items of exactly one
        // 4-byte instruction (so the new word replaces it whole, and the
        // loop counter's update is never replaced).
        let whole: Vec<usize> = (1..=n)
            .filter(|&k| match &items[k] {
                Item::Code(ps) => matches!(ps[..], [Parcel::W(_)]),
                Item::Jump(j, _) => matches!(j, Jump::B { .. } | Jump::Jal { .. }),
                Item::Smc { .. } => false,
            })
            .collect();
        for it in &mut items[1..] {
            if let Item::Smc { to, .. } = it {
                match whole.get(*to % whole.len().max(1)) {
                    Some(&t) => *to = t,
                    None => *it = Item::Code(vec![Parcel::W(rv::addi(0, 0, 0))]),
                }
            }
        }
        items.push(Item::Code(vec![Parcel::W(rv::addi(LOOP, LOOP, -1))]));
        items.push(Item::Jump(
            Jump::B {
                f3: 1,
                rs1: LOOP,
                rs2: 0,
            },
            1,
        ));
        items.push(Item::Code(vec![Parcel::W(rv::ECALL)]));
        // A quarter of the programs start near the end of a page, so
        // blocks and instructions cross into the next one.
        let start = if r.chance(25) {
            CODE + 0x1000 - 2 * r.below(128)
        } else {
            CODE + 2 * r.below(8)
        };
        let code = layout(&items, start);
        let mut cpu = Cpu {
            pc: start,
            ..Cpu::default()
        };
        for x in 1..32 {
            cpu.x[x] = interesting(r);
        }
        if fp {
            for f in 0..32 {
                cpu.f[f] = interesting_fp(r);
            }
            cpu.frm = if r.chance(2) {
                5 + r.below(3) as u32
            } else {
                r.below(5) as u32
            };
            cpu.fflags = if r.chance(20) { r.below(32) as u32 } else { 0 };
        }
        // Last, as it is the bulk: a fuzz input's bytes go to the code and
        // the registers first.
        let data = (0..DATA_LEN).map(|_| r.below(256) as u8).collect();
        for x in [2, 4] {
            if !r.chance(4) {
                cpu.x[x] = DATA + 8 * r.below(DATA_LEN as u64 / 8);
            }
        }
        cpu.x[BASE as usize] = DATA;
        cpu.x[ADDR as usize] = DATA;
        cpu.x[BAD as usize] = if r.chance(25) {
            BAD_READ_ONLY
        } else {
            BAD_UNMAPPED
        };
        Case {
            code,
            data,
            cpu,
            code_writable: smc,
        }
    }

    /// The code as assembly, one instruction a line.
    pub fn listing(&self) -> String {
        let mut s = String::new();
        let mut off = 0;
        while off + 2 <= self.code.len() {
            let lo = u16::from_le_bytes([self.code[off], self.code[off + 1]]) as u32;
            let bits = if lo & 3 == 3 && off + 4 <= self.code.len() {
                lo | (u16::from_le_bytes([self.code[off + 2], self.code[off + 3]]) as u32) << 16
            } else {
                lo
            };
            let (inst, len) = decode(bits);
            let raw = if len == 2 {
                alloc::format!("    {bits:04x}")
            } else {
                alloc::format!("{bits:08x}")
            };
            let _ = writeln!(s, "{:#x}: {raw}  {inst}", self.cpu.pc + off as u64);
            off += len as usize;
        }
        s
    }
}

/// How a case ended (the same in both engines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub trap: Trap,
    pub instret: u64,
}

/// The engines disagreed (or one did not stop).
#[derive(Clone, Debug)]
pub struct Mismatch {
    pub case: Case,
    pub interp: (Option<Trap>, Cpu),
    pub jit: (Option<Trap>, Cpu),
    pub memory_equal: bool,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (ti, ci) = (&self.interp.0, &self.interp.1);
        let (tj, cj) = (&self.jit.0, &self.jit.1);
        writeln!(f, "interpreter and translator disagree")?;
        writeln!(f, "traps {ti:?} / {tj:?} (None: did not stop)")?;
        writeln!(
            f,
            "pc {:#x} / {:#x}, instret {} / {}",
            ci.pc, cj.pc, ci.instret, cj.instret
        )?;
        for k in 0..32 {
            if ci.x[k] != cj.x[k] {
                writeln!(f, "x{k}: interp {:#x} jit {:#x}", ci.x[k], cj.x[k])?;
            }
        }
        for k in 0..32 {
            if ci.f[k] != cj.f[k] {
                writeln!(f, "f{k}: interp {:#x} jit {:#x}", ci.f[k], cj.f[k])?;
            }
        }
        writeln!(f, "fflags {} / {}", ci.fflags, cj.fflags)?;
        writeln!(
            f,
            "reservation {:x?} / {:x?}",
            ci.reservation, cj.reservation
        )?;
        writeln!(f, "data memory equal: {}", self.memory_equal)?;
        writeln!(f, "initial registers:")?;
        for k in 1..32 {
            writeln!(f, "  x{k} = {:#x}", self.case.cpu.x[k])?;
        }
        write!(f, "code:\n{}", self.case.listing())
    }
}

/// Two guest memories and the two engines, reused from case to case (as
/// in a process: each case remaps the code, which moves the code epoch,
/// so both engines drop what they cached for the previous one).
pub struct Harness {
    mem_i: GuestMemory,
    mem_j: GuestMemory,
    interp: Interpreter,
    jit: Jit,
}

impl fmt::Debug for Harness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness")
            .field("jit", &self.jit)
            .finish_non_exhaustive()
    }
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

/// Run until something other than the budget stops the engine.
fn run_engine(e: &mut dyn Engine, cpu: &mut Cpu, mem: &GuestMemory) -> Option<Trap> {
    // Programs only branch forward apart from the bounded loop, so one
    // budget is plenty; more means the engine went astray.
    for _ in 0..4 {
        match e.run(cpu, mem) {
            Trap::Budget => continue,
            t => return Some(t),
        }
    }
    None
}

impl Harness {
    /// Fresh memories and engines on a [`TestHost`], whose guest memory
    /// is plain heap: the translator checks every access in software.
    pub fn new() -> Harness {
        Harness::with_host(TestHost::leak())
    }

    /// Fresh memories and engines on `host`. With a host that reports
    /// faults in translated code ([`HostOs::code_faults`], e.g. pvm's Linux
    /// host), the translator accesses guest memory directly and bad
    /// accesses come back through the host's fault handler. The translator
    /// gets the smallest code cache, so flushes happen along the way too.
    pub fn with_host(host: &'static dyn HostOs) -> Harness {
        Harness::with_cache(host, MIN_CACHE_SIZE)
    }

    /// The same with a code cache of `cache_size` bytes: from 1 MiB up,
    /// the translator makes regions of hot code, not only single blocks.
    pub fn with_cache(host: &'static dyn HostOs, cache_size: usize) -> Harness {
        Harness {
            mem_i: GuestMemory::new(host, 1 << 24).expect("test guest memory"),
            mem_j: GuestMemory::new(host, 1 << 24).expect("test guest memory"),
            interp: Interpreter::new(),
            jit: Jit::new(host, cache_size).expect("code cache"),
        }
    }

    /// A harness on a [`TestHost`] with a code cache of `cache_size`
    /// bytes whose translator interprets each block `cold_runs` times
    /// before translating it (see [`Harness::set_cold_runs`]).
    pub fn configured(cache_size: usize, cold_runs: u32) -> Harness {
        let mut h = Harness::with_cache(TestHost::leak(), cache_size);
        h.set_cold_runs(cold_runs);
        h
    }

    /// Run a hand-written `case` that must end at its `ecall`, under both
    /// engines, which must agree (a panic naming `what` otherwise).
    pub fn run_to_ecall(&mut self, case: &Case, what: impl fmt::Display) -> Outcome {
        let o = self.run(case).unwrap_or_else(|m| panic!("{what}: {m}"));
        assert_eq!(o.trap, Trap::Ecall, "{what}");
        o
    }

    /// Let the translator interpret each block `n` times before
    /// translating it (staged emulation, as pvm runs; the harness starts
    /// at 0, translating everything at once).
    pub fn set_cold_runs(&mut self, n: u32) {
        self.jit.set_cold_runs(n);
    }

    /// The size of the guest address spaces.
    pub fn space_size(&self) -> u64 {
        self.mem_i.size()
    }

    /// Map `[addr, addr+len)` with `perm` (fresh zeroes) in both engines'
    /// memories, beside the code and data every case maps (see
    /// [`crate::edges`]).
    pub fn map_both(&mut self, addr: u64, len: u64, perm: Perm) {
        for mem in [&self.mem_i, &self.mem_j] {
            mem.map(addr, len, perm, true)
                .expect("map inside the space");
        }
    }

    /// One of the translator's `--stats` counters so far, by name.
    pub fn jit_stat(&self, name: &str) -> Option<u64> {
        self.jit
            .stats()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// Run `case` under both engines and compare.
    pub fn run(&mut self, case: &Case) -> Result<Outcome, Box<Mismatch>> {
        self.run_state(case).map(|(o, _, _)| o)
    }

    /// [`Harness::run`], also giving the end state both engines agreed
    /// on: the registers and the data area.
    pub fn run_state(&mut self, case: &Case) -> Result<(Outcome, Cpu, Vec<u8>), Box<Mismatch>> {
        for mem in [&self.mem_i, &self.mem_j] {
            // Fresh mappings: zeroed, and the code change bumps the code
            // epoch.
            let w = if case.code_writable {
                Perm::WRITE
            } else {
                Perm::empty()
            };
            mem.map(CODE, CODE_LEN, Perm::READ | Perm::EXEC | w, true)
                .expect("map code");
            mem.map(DATA, DATA_LEN as u64, Perm::READ | Perm::WRITE, true)
                .expect("map data");
            mem.write_bytes_privileged(case.cpu.pc, &case.code)
                .expect("code fits its mapping");
            mem.write_bytes(DATA, &case.data).expect("data fits");
        }
        let mut ci = case.cpu.clone();
        let mut cj = case.cpu.clone();
        let ti = run_engine(&mut self.interp, &mut ci, &self.mem_i);
        let tj = run_engine(&mut self.jit, &mut cj, &self.mem_j);
        let mut di = vec![0u8; DATA_LEN];
        let mut dj = vec![0u8; DATA_LEN];
        self.mem_i.read_bytes(DATA, &mut di).expect("data mapped");
        self.mem_j.read_bytes(DATA, &mut dj).expect("data mapped");
        match ti {
            Some(trap) if ti == tj && ci == cj && di == dj => Ok((
                Outcome {
                    trap,
                    instret: ci.instret,
                },
                ci,
                di,
            )),
            _ => Err(Box::new(Mismatch {
                case: case.clone(),
                interp: (ti, ci),
                jit: (tj, cj),
                memory_equal: di == dj,
            })),
        }
    }
}

/// Counts of how the cases of [`run_seeds`] ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub ecalls: u64,
    pub faults: u64,
    pub other: u64,
}

/// Run the fixed-seed cases `0..cases` (with F/D if `fp`); the first
/// disagreement comes back with its seed.
pub fn run_seeds(h: &mut Harness, fp: bool, cases: u64) -> Result<Tally, (u64, Box<Mismatch>)> {
    run_generated(h, cases, |seed| Case::generate(&mut Rng::seeded(seed), fp))
}

/// [`run_seeds`] with [`Case::generate_hot`] programs.
pub fn run_hot_seeds(h: &mut Harness, fp: bool, cases: u64) -> Result<Tally, (u64, Box<Mismatch>)> {
    run_generated(h, cases, |seed| {
        Case::generate_hot(&mut Rng::seeded(seed ^ 0x407), fp)
    })
}

fn run_generated(
    h: &mut Harness,
    cases: u64,
    generate: impl Fn(u64) -> Case,
) -> Result<Tally, (u64, Box<Mismatch>)> {
    let mut t = Tally::default();
    for seed in 0..cases {
        match h.run(&generate(seed)).map_err(|m| (seed, m))?.trap {
            Trap::Ecall => t.ecalls += 1,
            Trap::MemFault(_) => t.faults += 1,
            _ => t.other += 1,
        }
    }
    Ok(t)
}

/// The fuzz entry point: derive a case from `input` (its first choice
/// picks whether F/D instructions are mixed in) and compare the engines.
pub fn fuzz_one(h: &mut Harness, input: &[u8]) -> Result<Outcome, Box<Mismatch>> {
    let mut src = Bytes::new(input);
    let fp = src.chance(50);
    let case = Case::generate(&mut src, fp);
    h.run(&case)
}
