//! Fused pairs: two adjacent instructions of a block run by one handler.
//!
//! Most guest code is short chains of simple integer operations, and an
//! interpreter pays per instruction for the dispatch (an indirect jump)
//! and for the round trip of each result through the in-memory register
//! file into the next instruction. A fused handler does both
//! instructions, with the first result handed to the second in a host
//! register, for the pairs that are both one of the common ALU [`KINDS`]
//! (`alu op alu`), or an ALU operation and a conditional branch
//! (`alu op branch`, the typical loop step).
//!
//! Each pair of kinds is its own monomorphised handler (const generics),
//! so no handler `match`es on the kind at run time; the table of them is
//! built at compile time. Neither instruction of a pair can trap, so a
//! pair either retires both instructions or (a taken branch) leaves the
//! block after both, and state stays precise. Pairs whose destination is
//! `x0` are never fused (they need the `x0` handling of single uops).

use super::fast::{set, x};
use super::{Cx, Handler, Inst, Op, Uop, goto, next, sext32};
use crate::cpu::Cpu;
use crate::decode::{I, R, S, U};

/// The ALU operations that fuse: `(operation, second operand is the
/// immediate)`. The kind number is the index here.
const KINDS: [(Alu, bool); 16] = [
    (Alu::Add, true),
    (Alu::Sll, true),
    (Alu::Srl, true),
    (Alu::Sra, true),
    (Alu::And, true),
    (Alu::Addw, true),
    (Alu::Sllw, true),
    (Alu::Srlw, true),
    (Alu::Add, false),
    (Alu::Sub, false),
    (Alu::And, false),
    (Alu::Or, false),
    (Alu::Xor, false),
    (Alu::Addw, false),
    (Alu::Subw, false),
    (Alu::Mul, false),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Alu {
    Add,
    Sub,
    Sll,
    Srl,
    Sra,
    And,
    Or,
    Xor,
    Addw,
    Subw,
    Sllw,
    Srlw,
    Mul,
}

/// Conditional branch conditions, numbered as in the table.
const BEQ: u8 = 0;
const BNE: u8 = 1;
const BLT: u8 = 2;
const BGE: u8 = 3;
const BLTU: u8 = 4;
const BGEU: u8 = 5;

#[inline(always)]
fn alu<const K: u8>(a: u64, b: u64) -> u64 {
    match KINDS[K as usize].0 {
        Alu::Add => a.wrapping_add(b),
        Alu::Sub => a.wrapping_sub(b),
        Alu::Sll => a << (b & 63),
        Alu::Srl => a >> (b & 63),
        Alu::Sra => ((a as i64) >> (b & 63)) as u64,
        Alu::And => a & b,
        Alu::Or => a | b,
        Alu::Xor => a ^ b,
        Alu::Addw => sext32(a.wrapping_add(b) as u32),
        Alu::Subw => sext32(a.wrapping_sub(b) as u32),
        Alu::Sllw => sext32((a as u32) << (b & 31)),
        Alu::Srlw => sext32((a as u32) >> (b & 31)),
        Alu::Mul => a.wrapping_mul(b),
    }
}

#[inline(always)]
fn cond<const C: u8>(a: u64, b: u64) -> bool {
    match C {
        BEQ => a == b,
        BNE => a != b,
        BLT => (a as i64) < (b as i64),
        BGE => (a as i64) >= (b as i64),
        BLTU => a < b,
        _ => a >= b,
    }
}

/// The first instruction's result, and the second instruction's two
/// register sources as they are after the first wrote its `rd`: all
/// register reads happen before any write, and a source that is the
/// first's `rd` takes the result directly (no store-to-load round trip).
#[inline(always)]
fn first<const K: u8>(cpu: &Cpu, u: &Uop) -> (u64, u64, u64) {
    let a = x(cpu, u.rs1);
    let b = if KINDS[K as usize].1 {
        u.imm
    } else {
        x(cpu, u.rs2)
    };
    let a2 = x(cpu, u.rs1b);
    let b2 = x(cpu, u.rs2b);
    let v = alu::<K>(a, b);
    let a2 = if u.rs1b == u.rd { v } else { a2 };
    let b2 = if u.rs2b == u.rd { v } else { b2 };
    (v, a2, b2)
}

/// `alu` then `alu`.
fn h_aa<const K1: u8, const K2: u8>(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
    let (v, a2, b2) = first::<K1>(cpu, &u);
    let b2 = if KINDS[K2 as usize].1 {
        u.imm2 as i64 as u64
    } else {
        b2
    };
    let v2 = alu::<K2>(a2, b2);
    set(cpu, u.rd, v);
    set(cpu, u.rd2, v2);
    next(cpu, cx, u, n)
}

/// `alu` then a conditional branch (target at `pc + imm2`).
fn h_ab<const K: u8, const C: u8>(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
    let (v, a2, b2) = first::<K>(cpu, &u);
    set(cpu, u.rd, v);
    if cond::<C>(a2, b2) {
        let target = u.pc.wrapping_add(u.imm2 as i64 as u64);
        goto(cpu, cx, u, target, n.wrapping_add(u.idx as u64 + 2))
    } else {
        next(cpu, cx, u, n)
    }
}

macro_rules! table {
    ($h:ident; $($a:literal)*; $bs:tt) => {
        [$(table!(@row $h; $a; $bs)),*]
    };
    (@row $h:ident; $a:literal; [$($b:literal)*]) => {
        [$($h::<$a, $b> as Handler),*]
    };
}

const AA: [[Handler; 16]; 16] = table!(h_aa;
    0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15;
    [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15]);

const AB: [[Handler; 6]; 16] = table!(h_ab;
    0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15;
    [0 1 2 3 4 5]);

/// An instruction that can be the first of a pair: its kind, `rd`, `rs1`,
/// `rs2` and immediate. `lui` is `addi rd, x0, imm`, `auipc` the same
/// with the pc folded in, `mv`/`li` are already `addi`.
fn alu_of(inst: Inst, pc: u64) -> Option<(u8, u8, u8, u8, u64)> {
    use Inst::*;
    let ri = |k: u8, i: I| Some((k, i.rd, i.rs1, 0, i.imm as i64 as u64));
    let rr = |k: u8, r: R| Some((k, r.rd, r.rs1, r.rs2, 0));
    match inst {
        Addi(i) => ri(0, i),
        Slli(i) => ri(1, i),
        Srli(i) => ri(2, i),
        Srai(i) => ri(3, i),
        Andi(i) => ri(4, i),
        Addiw(i) => ri(5, i),
        Slliw(i) => ri(6, i),
        Srliw(i) => ri(7, i),
        Add(r) => rr(8, r),
        Sub(r) => rr(9, r),
        And(r) => rr(10, r),
        Or(r) => rr(11, r),
        Xor(r) => rr(12, r),
        Addw(r) => rr(13, r),
        Subw(r) => rr(14, r),
        Mul(r) => rr(15, r),
        Lui(U { rd, imm }) => Some((0, rd, 0, 0, imm as i64 as u64)),
        Auipc(U { rd, imm }) => Some((0, rd, 0, 0, pc.wrapping_add(imm as i64 as u64))),
        _ => None,
    }
}

/// The fused uop for `a` (at `pc`, `idx`th of its block, `len` bytes)
/// followed by `b` (at `pc_b`), if the pair fuses.
pub(super) fn pair(a: Inst, pc: u64, idx: u16, len: u8, b: Inst, pc_b: u64) -> Option<Uop> {
    let (k1, rd, rs1, rs2, imm) = alu_of(a, pc)?;
    if rd == 0 {
        return None;
    }
    let mut u = Uop::generic(a, pc, idx, len);
    u.rd = rd;
    u.rs1 = rs1;
    u.rs2 = rs2;
    u.imm = imm;
    if let Some((k2, rd2, rs1b, rs2b, imm2)) = alu_of(b, pc_b) {
        // The second immediate must fit the narrower field.
        let imm2 = i32::try_from(imm2 as i64).ok()?;
        if rd2 == 0 {
            return None;
        }
        u.rd2 = rd2;
        u.rs1b = rs1b;
        u.rs2b = rs2b;
        u.imm2 = imm2;
        u.h = AA[k1 as usize][k2 as usize];
        return Some(u);
    }
    use Inst::*;
    let (c, S { rs1, rs2, imm }) = match b {
        Beq(s) => (BEQ, s),
        Bne(s) => (BNE, s),
        Blt(s) => (BLT, s),
        Bge(s) => (BGE, s),
        Bltu(s) => (BLTU, s),
        Bgeu(s) => (BGEU, s),
        _ => return None,
    };
    let target = pc_b.wrapping_add(imm as i64 as u64);
    u.imm2 = i32::try_from(target.wrapping_sub(pc) as i64).ok()?;
    u.rs1b = rs1;
    u.rs2b = rs2;
    u.h = AB[k1 as usize][c as usize];
    Some(u)
}
