//! Fused pairs: two adjacent instructions of a block run by one handler.
//!
//! Most guest code is short chains of simple integer operations, loads,
//! stores and branches, and an interpreter pays per instruction for the
//! dispatch (an indirect jump) and for the round trip of each result
//! through the in-memory register file into the next instruction. A fused
//! handler does both instructions, with the first result handed to the
//! second in a host register. Each instruction of a pair is one of the
//! common ALU operations ([`KINDS`]), a load, a store or a conditional
//! branch (not both branches: a pair has one link for its taken branch).
//!
//! Each pair of kinds is its own monomorphised handler (const generics),
//! so no handler `match`es on the kinds at run time; the table of them is
//! built at compile time. State stays precise: a fault in the first
//! instruction leaves everything untouched at it, a fault in the second
//! leaves the first retired and `pc` at the second; a taken branch first
//! leaves the block with only itself retired. Instructions whose
//! destination is `x0` are never fused (they need the `x0` handling of
//! single uops).

use super::fast::{fast_ptr, fault, set, x};
use super::{Cx, Handler, Inst, Op, Uop, goto, next};
use crate::cpu::{Cpu, Trap};
use crate::decode::{I, R, S, U};
use crate::guarded;
use crate::memory::{GuestMemory, MemFault, Perm};
use crate::semantics as sem;

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
// 5 is bgeu, the remaining case.

#[inline(always)]
fn alu(k: u8, a: u64, b: u64) -> u64 {
    match KINDS[k as usize % KINDS.len()].0 {
        Alu::Add => sem::add(a, b),
        Alu::Sub => sem::sub(a, b),
        Alu::Sll => sem::sll(a, b),
        Alu::Srl => sem::srl(a, b),
        Alu::Sra => sem::sra(a, b),
        Alu::And => sem::and(a, b),
        Alu::Or => sem::or(a, b),
        Alu::Xor => sem::xor(a, b),
        Alu::Addw => sem::addw(a, b),
        Alu::Subw => sem::subw(a, b),
        Alu::Sllw => sem::sllw(a, b),
        Alu::Srlw => sem::srlw(a, b),
        Alu::Mul => sem::mul(a, b),
    }
}

#[inline(always)]
fn cond(c: u8, a: u64, b: u64) -> bool {
    match c {
        BEQ => sem::beq(a, b),
        BNE => sem::bne(a, b),
        BLT => sem::blt(a, b),
        BGE => sem::bge(a, b),
        BLTU => sem::bltu(a, b),
        _ => sem::bgeu(a, b),
    }
}

/// Kind numbers: ALU operations (indices into [`KINDS`]), then loads,
/// stores and branch conditions.
const LOAD0: u8 = 16;
const STORE0: u8 = LOAD0 + 7;
const BRANCH0: u8 = STORE0 + 4;
const NKINDS: usize = BRANCH0 as usize + 6;

/// Loads (from `LOAD0`): size in bytes and whether the value is
/// sign-extended.
const LOADS: [(u64, bool); 7] = [
    (1, true),
    (2, true),
    (4, true),
    (8, false),
    (1, false),
    (2, false),
    (4, false),
];
/// Stores (from `STORE0`): size in bytes.
const STORES: [u64; 4] = [1, 2, 4, 8];
// The kind tables are indexed modulo their length below: every handler is
// compiled for all its code paths, and the lookups on paths that do not
// apply to its kinds (which fold away) must still be in bounds.

#[inline(always)]
const fn is_alu(k: u8) -> bool {
    k < LOAD0
}
#[inline(always)]
const fn is_load(k: u8) -> bool {
    k >= LOAD0 && k < STORE0
}
#[inline(always)]
const fn is_store(k: u8) -> bool {
    k >= STORE0 && k < BRANCH0
}
#[inline(always)]
const fn is_branch(k: u8) -> bool {
    k >= BRANCH0
}

/// Load of kind `k` at `a` if it needs no more than the fast check.
#[inline(always)]
fn load_fast(k: u8, mem: &GuestMemory, a: u64) -> Option<u64> {
    let (size, signed) = LOADS[k.wrapping_sub(LOAD0) as usize % LOADS.len()];
    let p = fast_ptr(mem, a, size, Perm::READ)?;
    // SAFETY: fast_ptr vouched for `size` bytes at `p` (a host fault on
    // them is `None`: the full path reports it).
    unsafe {
        Some(match (size, signed) {
            (1, true) => sem::lb(guarded::load8(p).ok()?),
            (1, false) => sem::lbu(guarded::load8(p).ok()?),
            (2, true) => sem::lh(guarded::load16(p).ok()?),
            (2, false) => sem::lhu(guarded::load16(p).ok()?),
            (4, true) => sem::lw(guarded::load32(p).ok()?),
            (4, false) => sem::lwu(guarded::load32(p).ok()?),
            _ => sem::ld(guarded::load64(p).ok()?),
        })
    }
}

/// Load of kind `k` at `a` through the full checks.
#[cold]
#[inline(never)]
fn load_full(k: u8, mem: &GuestMemory, a: u64) -> Result<u64, MemFault> {
    Ok(match LOADS[k.wrapping_sub(LOAD0) as usize % LOADS.len()] {
        (1, true) => sem::lb(mem.read_u8(a)?),
        (1, false) => sem::lbu(mem.read_u8(a)?),
        (2, true) => sem::lh(mem.read_u16(a)?),
        (2, false) => sem::lhu(mem.read_u16(a)?),
        (4, true) => sem::lw(mem.read_u32(a)?),
        (4, false) => sem::lwu(mem.read_u32(a)?),
        _ => sem::ld(mem.read_u64(a)?),
    })
}

/// Store of kind `k` of (the low bytes of) `v` at `a` if it needs no more
/// than the fast check; `false` if it was not done.
#[inline(always)]
fn store_fast(k: u8, mem: &GuestMemory, a: u64, v: u64) -> bool {
    let size = STORES[k.wrapping_sub(STORE0) as usize % STORES.len()];
    let Some(p) = fast_ptr(mem, a, size, Perm::WRITE) else {
        return false;
    };
    // SAFETY: fast_ptr vouched for `size` bytes at `p` (a host fault on
    // them is `false`: the full path reports it).
    unsafe {
        match size {
            1 => guarded::store8(p, v as u8),
            2 => guarded::store16(p, v as u16),
            4 => guarded::store32(p, v as u32),
            _ => guarded::store64(p, v),
        }
    }
    .is_ok()
}

/// Store of kind `k` through the full checks.
#[cold]
#[inline(never)]
fn store_full(k: u8, mem: &GuestMemory, a: u64, v: u64) -> Result<(), MemFault> {
    match STORES[k.wrapping_sub(STORE0) as usize % STORES.len()] {
        1 => mem.write_u8(a, v as u8),
        2 => mem.write_u16(a, v as u16),
        4 => mem.write_u32(a, v as u32),
        _ => mem.write_u64(a, v),
    }
}

/// A fault in the second instruction of a pair: the first retired.
#[cold]
#[inline(never)]
fn fault2(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64, f: MemFault) {
    cpu.pc = u.pc.wrapping_add(u.len as u64);
    cpu.instret = n.wrapping_add(u.idx as u64 + 1);
    cx.trap = Some(Trap::MemFault(f));
}

/// The pair of kinds `k1`, `k2` (constants in the fast handlers, so all
/// the kind tests fold away). Fields: the first instruction's `rd`,
/// `rs1`, `rs2` (store data), `imm` (ALU immediate or address offset);
/// the second's `rd2`, `rs1b`, `rs2b` and `imm2` (for a branch, the
/// target's offset from `pc`). With `fast`, a memory access the fast
/// check does not clear goes (by tail call, so the hot path needs no
/// stack frame) to [`pair_slow`] or [`second_slow`], which redo it with
/// the full checks.
#[inline(always)]
fn pair_body(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64, k1: u8, k2: u8, fast: bool) {
    // Every register read happens before any write; a source of the
    // second instruction that is the first's `rd` takes the result
    // directly (no store-to-load round trip).
    let a = x(cpu, u.rs1);
    let b = x(cpu, u.rs2);
    let a2 = x(cpu, u.rs1b);
    let b2 = x(cpu, u.rs2b);
    let v = if is_branch(k1) {
        if cond(k1.wrapping_sub(BRANCH0), a, b) {
            return goto(cpu, cx, u, u.imm, n.wrapping_add(u.idx as u64 + 1));
        }
        0
    } else if is_alu(k1) {
        let b = if KINDS[k1 as usize % KINDS.len()].1 {
            u.imm
        } else {
            b
        };
        alu(k1, a, b)
    } else if is_load(k1) {
        let addr = a.wrapping_add(u.imm);
        if fast {
            match load_fast(k1, cx.mem, addr) {
                Some(v) => v,
                None => return pair_slow(cpu, cx, u, n),
            }
        } else {
            match load_full(k1, cx.mem, addr) {
                Ok(v) => v,
                Err(f) => return fault(cpu, cx, u, n, f),
            }
        }
    } else {
        let addr = a.wrapping_add(u.imm);
        if fast {
            if !store_fast(k1, cx.mem, addr, b) {
                return pair_slow(cpu, cx, u, n);
            }
        } else if let Err(f) = store_full(k1, cx.mem, addr, b) {
            return fault(cpu, cx, u, n, f);
        }
        0
    };
    let writes = is_alu(k1) || is_load(k1);
    let a2 = if writes && u.rs1b == u.rd { v } else { a2 };
    let b2 = if writes && u.rs2b == u.rd { v } else { b2 };
    if writes {
        set(cpu, u.rd, v);
    }
    let imm2 = u.imm2 as i64 as u64;
    if is_alu(k2) {
        let b2 = if KINDS[k2 as usize % KINDS.len()].1 {
            imm2
        } else {
            b2
        };
        set(cpu, u.rd2, alu(k2, a2, b2));
    } else if is_load(k2) || is_store(k2) {
        if !fast {
            return second_slow(cpu, cx, u, n, a2, b2);
        }
        let addr = a2.wrapping_add(imm2);
        if is_load(k2) {
            match load_fast(k2, cx.mem, addr) {
                Some(v2) => set(cpu, u.rd2, v2),
                None => return second_slow(cpu, cx, u, n, a2, b2),
            }
        } else if !store_fast(k2, cx.mem, addr, b2) {
            return second_slow(cpu, cx, u, n, a2, b2);
        }
    } else if cond(k2.wrapping_sub(BRANCH0), a2, b2) {
        let target = u.pc.wrapping_add(imm2);
        return goto(cpu, cx, u, target, n.wrapping_add(u.idx as u64 + 2));
    }
    next(cpu, cx, u, n)
}

/// The pair's fast handler, one per pair of kinds.
fn h_pair<const K1: u8, const K2: u8>(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
    pair_body(cpu, cx, u, n, K1, K2, true)
}

/// The whole pair with full memory checks (the first instruction's access
/// missed the fast check; nothing has been done yet).
#[cold]
#[inline(never)]
fn pair_slow(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
    pair_body(cpu, cx, u, n, u.k1, u.k2, false)
}

/// The second instruction (a load or store) with full memory checks; the
/// first has retired. `a2`, `b2` are its register sources.
#[cold]
#[inline(never)]
fn second_slow(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64, a2: u64, b2: u64) {
    let addr = a2.wrapping_add(u.imm2 as i64 as u64);
    if is_load(u.k2) {
        match load_full(u.k2, cx.mem, addr) {
            Ok(v) => set(cpu, u.rd2, v),
            Err(f) => return fault2(cpu, cx, u, n, f),
        }
    } else if let Err(f) = store_full(u.k2, cx.mem, addr, b2) {
        return fault2(cpu, cx, u, n, f);
    }
    next(cpu, cx, u, n)
}

macro_rules! table {
    ($($a:literal)*; $bs:tt) => {
        [$(table!(@row $a; $bs)),*]
    };
    (@row $a:literal; [$($b:literal)*]) => {
        [$(h_pair::<$a, $b> as Handler),*]
    };
}

/// `PAIRS[k1][k2]`: the handler for kind `k1` followed by kind `k2` (two
/// branches never pair: a pair has one link for a taken branch).
static PAIRS: [[Handler; NKINDS]; NKINDS] = table!(
    0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32;
    [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32]
);

/// An instruction as a pair member: kind, `rd` (0 for stores and
/// branches), `rs1`, `rs2`, immediate (for a branch, its target). `lui`
/// is `addi rd, x0, imm`, `auipc` the same with the pc folded in,
/// `mv`/`li` are already `addi`.
fn classify(inst: Inst, pc: u64) -> Option<(u8, u8, u8, u8, u64)> {
    use Inst::*;
    let ri = |k: u8, i: I| Some((k, i.rd, i.rs1, 0, i.imm as i64 as u64));
    let rr = |k: u8, r: R| Some((k, r.rd, r.rs1, r.rs2, 0));
    let st = |k: u8, s: S| Some((STORE0 + k, 0, s.rs1, s.rs2, s.imm as i64 as u64));
    let br = |k: u8, s: S| {
        let target = pc.wrapping_add(s.imm as i64 as u64);
        Some((BRANCH0 + k, 0, s.rs1, s.rs2, target))
    };
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
        Lb(i) => ri(LOAD0, i),
        Lh(i) => ri(LOAD0 + 1, i),
        Lw(i) => ri(LOAD0 + 2, i),
        Ld(i) => ri(LOAD0 + 3, i),
        Lbu(i) => ri(LOAD0 + 4, i),
        Lhu(i) => ri(LOAD0 + 5, i),
        Lwu(i) => ri(LOAD0 + 6, i),
        Sb(s) => st(0, s),
        Sh(s) => st(1, s),
        Sw(s) => st(2, s),
        Sd(s) => st(3, s),
        Beq(s) => br(0, s),
        Bne(s) => br(1, s),
        Blt(s) => br(2, s),
        Bge(s) => br(3, s),
        Bltu(s) => br(4, s),
        Bgeu(s) => br(5, s),
        _ => None,
    }
}

/// The fused uop for `a` (at `pc`, `idx`th of its block, `len` bytes)
/// followed by `b` (at `pc_b`), if the pair fuses.
pub(super) fn pair(a: Inst, pc: u64, idx: u16, len: u8, b: Inst, pc_b: u64) -> Option<Uop> {
    // Pairs are straight-line code: the second follows the first.
    if pc_b != pc.wrapping_add(len as u64) {
        return None;
    }
    let (k1, rd, rs1, rs2, imm) = classify(a, pc)?;
    let (k2, rd2, rs1b, rs2b, imm2) = classify(b, pc_b)?;
    let writes = |k: u8| k < STORE0;
    if (k1 >= BRANCH0 && k2 >= BRANCH0) || (writes(k1) && rd == 0) || (writes(k2) && rd2 == 0) {
        return None;
    }
    // A branch keeps its target as an offset from the pair's pc.
    let imm2 = if k2 >= BRANCH0 {
        imm2.wrapping_sub(pc)
    } else {
        imm2
    };
    let mut u = Uop::generic(a, pc, idx, len);
    u.h = PAIRS[k1 as usize][k2 as usize];
    u.k1 = k1;
    u.k2 = k2;
    u.rd = rd;
    u.rs1 = rs1;
    u.rs2 = rs2;
    u.imm = imm;
    u.rd2 = rd2;
    u.rs1b = rs1b;
    u.rs2b = rs2b;
    u.imm2 = i32::try_from(imm2 as i64).ok()?;
    Some(u)
}
