//! Specialised handlers for the hot integer instructions, and the
//! lowering of a block's instructions to uops ([`lower`]: fused pairs
//! where `fuse` has one, else the handler [`uop`] picks).
//!
//! A handler reads its operands from the [`Uop`]'s uniform fields (no
//! `match` on the instruction), does its work and tail-calls the next
//! uop's handler. Instructions whose `rd` is `x0` and that have no other
//! effect become [`h_nop`]; other `rd = x0` cases go to the generic
//! handler, so the handlers here never need to re-zero `x0` except for
//! jumps (which are common with `rd = x0` and do it explicitly).
//! Semantics must match [`super::exec_one`] exactly; the unit tests run
//! both paths.

use super::{Cx, Handler, Inst, Op, Uop, goto, goto_indirect, next, sext32};
use super::{div32, div64, divu32, divu64, rem32, rem64, remu32, remu64};
use crate::cpu::{Cpu, Trap};
use crate::decode::{I, R, S, U};
use crate::memory::{GuestMemory, MemFault, Perm};

#[inline(always)]
pub(super) fn x(cpu: &Cpu, r: u8) -> u64 {
    cpu.x[(r & 31) as usize]
}

#[inline(always)]
pub(super) fn set(cpu: &mut Cpu, r: u8, v: u64) {
    cpu.x[(r & 31) as usize] = v;
}

/// Stop the block at `u` with a memory fault; state is untouched.
#[cold]
#[inline(never)]
pub(super) fn fault(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64, f: MemFault) {
    cpu.pc = u.pc;
    cpu.instret = n.wrapping_add(u.idx as u64);
    cx.trap = Some(Trap::MemFault(f));
}

fn h_nop(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
    next(cpu, cx, u, n)
}

macro_rules! alu_rr {
    ($name:ident, |$a:ident, $b:ident| $e:expr) => {
        fn $name(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
            let $a = x(cpu, u.rs1);
            let $b = x(cpu, u.rs2);
            set(cpu, u.rd, $e);
            next(cpu, cx, u, n)
        }
    };
}

macro_rules! alu_ri {
    ($name:ident, |$a:ident, $b:ident| $e:expr) => {
        fn $name(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
            let $a = x(cpu, u.rs1);
            let $b = u.imm;
            set(cpu, u.rd, $e);
            next(cpu, cx, u, n)
        }
    };
}

/// Host pointer for an access of `n` bytes at guest `a` that the fast
/// check in [`GuestMemory::fast_ptr`] clears; `None` sends the access to
/// the full path in [`GuestMemory`] (page crossings, faults, code pages),
/// which the hot handlers keep out of line.
#[inline(always)]
pub(super) fn fast_ptr(mem: &GuestMemory, a: u64, n: u64, need: Perm) -> Option<*mut u8> {
    mem.fast_ptr(a, n, need)
}

macro_rules! load {
    ($name:ident, $slow:ident, $read:ident, $t:ty, |$v:ident| $e:expr) => {
        fn $name(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
            let a = x(cpu, u.rs1).wrapping_add(u.imm);
            match fast_ptr(cx.mem, a, size_of::<$t>() as u64, Perm::READ) {
                Some(p) => {
                    // SAFETY: fast_ptr vouched for these bytes.
                    let $v = <$t>::from_le(unsafe { (p as *const $t).read_unaligned() });
                    set(cpu, u.rd, $e);
                    next(cpu, cx, u, n)
                }
                None => $slow(cpu, cx, u, n, a),
            }
        }
        #[cold]
        #[inline(never)]
        fn $slow(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64, a: u64) {
            match cx.mem.$read(a) {
                Ok($v) => {
                    set(cpu, u.rd, $e);
                    next(cpu, cx, u, n)
                }
                Err(f) => fault(cpu, cx, u, n, f),
            }
        }
    };
}

macro_rules! store {
    ($name:ident, $slow:ident, $write:ident, $t:ty) => {
        fn $name(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
            let a = x(cpu, u.rs1).wrapping_add(u.imm);
            let v = x(cpu, u.rs2) as $t;
            match fast_ptr(cx.mem, a, size_of::<$t>() as u64, Perm::WRITE) {
                Some(p) => {
                    // SAFETY: fast_ptr vouched for these bytes.
                    unsafe { (p as *mut $t).write_unaligned(v.to_le()) };
                    next(cpu, cx, u, n)
                }
                None => $slow(cpu, cx, u, n, a, v),
            }
        }
        #[cold]
        #[inline(never)]
        fn $slow(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64, a: u64, v: $t) {
            match cx.mem.$write(a, v) {
                Ok(()) => next(cpu, cx, u, n),
                Err(f) => fault(cpu, cx, u, n, f),
            }
        }
    };
}

macro_rules! branch {
    ($name:ident, |$a:ident, $b:ident| $e:expr) => {
        fn $name(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
            let $a = x(cpu, u.rs1);
            let $b = x(cpu, u.rs2);
            if $e {
                goto(cpu, cx, u, u.imm, n.wrapping_add(u.idx as u64 + 1))
            } else {
                // Blocks go on past conditional branches (superblocks).
                next(cpu, cx, u, n)
            }
        }
    };
}

alu_rr!(h_add, |a, b| a.wrapping_add(b));
alu_rr!(h_sub, |a, b| a.wrapping_sub(b));
alu_rr!(h_sll, |a, b| a << (b & 63));
alu_rr!(h_slt, |a, b| ((a as i64) < (b as i64)) as u64);
alu_rr!(h_sltu, |a, b| (a < b) as u64);
alu_rr!(h_xor, |a, b| a ^ b);
alu_rr!(h_srl, |a, b| a >> (b & 63));
alu_rr!(h_sra, |a, b| ((a as i64) >> (b & 63)) as u64);
alu_rr!(h_or, |a, b| a | b);
alu_rr!(h_and, |a, b| a & b);
alu_rr!(h_addw, |a, b| sext32(a.wrapping_add(b) as u32));
alu_rr!(h_subw, |a, b| sext32(a.wrapping_sub(b) as u32));
alu_rr!(h_sllw, |a, b| sext32((a as u32) << (b & 31)));
alu_rr!(h_srlw, |a, b| sext32((a as u32) >> (b & 31)));
alu_rr!(h_sraw, |a, b| ((a as i32) >> (b & 31)) as i64 as u64);
alu_rr!(h_mul, |a, b| a.wrapping_mul(b));
alu_rr!(h_mulhu, |a, b| ((a as u128 * b as u128) >> 64) as u64);
alu_rr!(h_mulw, |a, b| sext32((a as u32).wrapping_mul(b as u32)));
alu_rr!(h_div, |a, b| div64(a as i64, b as i64) as u64);
alu_rr!(h_divu, |a, b| divu64(a, b));
alu_rr!(h_rem, |a, b| rem64(a as i64, b as i64) as u64);
alu_rr!(h_remu, |a, b| remu64(a, b));
alu_rr!(h_divw, |a, b| div32(a as i32, b as i32) as i64 as u64);
alu_rr!(h_divuw, |a, b| sext32(divu32(a as u32, b as u32)));
alu_rr!(h_remw, |a, b| rem32(a as i32, b as i32) as i64 as u64);
alu_rr!(h_remuw, |a, b| sext32(remu32(a as u32, b as u32)));

alu_ri!(h_addi, |a, b| a.wrapping_add(b));
alu_ri!(h_slti, |a, b| ((a as i64) < (b as i64)) as u64);
alu_ri!(h_sltiu, |a, b| (a < b) as u64);
alu_ri!(h_xori, |a, b| a ^ b);
alu_ri!(h_ori, |a, b| a | b);
alu_ri!(h_andi, |a, b| a & b);
alu_ri!(h_slli, |a, b| a << (b & 63));
alu_ri!(h_srli, |a, b| a >> (b & 63));
alu_ri!(h_srai, |a, b| ((a as i64) >> (b & 63)) as u64);
alu_ri!(h_addiw, |a, b| sext32(a.wrapping_add(b) as u32));
alu_ri!(h_slliw, |a, b| sext32((a as u32) << (b & 31)));
alu_ri!(h_srliw, |a, b| sext32((a as u32) >> (b & 31)));
alu_ri!(h_sraiw, |a, b| ((a as i32) >> (b & 31)) as i64 as u64);

load!(h_lb, s_lb, read_u8, u8, |v| v as i8 as i64 as u64);
load!(h_lh, s_lh, read_u16, u16, |v| v as i16 as i64 as u64);
load!(h_lw, s_lw, read_u32, u32, |v| sext32(v));
load!(h_ld, s_ld, read_u64, u64, |v| v);
load!(h_lbu, s_lbu, read_u8, u8, |v| v as u64);
load!(h_lhu, s_lhu, read_u16, u16, |v| v as u64);
load!(h_lwu, s_lwu, read_u32, u32, |v| v as u64);

store!(h_sb, s_sb, write_u8, u8);
store!(h_sh, s_sh, write_u16, u16);
store!(h_sw, s_sw, write_u32, u32);
store!(h_sd, s_sd, write_u64, u64);

branch!(h_beq, |a, b| a == b);
branch!(h_bne, |a, b| a != b);
branch!(h_blt, |a, b| (a as i64) < (b as i64));
branch!(h_bge, |a, b| (a as i64) >= (b as i64));
branch!(h_bltu, |a, b| a < b);
branch!(h_bgeu, |a, b| a >= b);

fn h_lui(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
    set(cpu, u.rd, u.imm);
    next(cpu, cx, u, n)
}

/// `auipc`: the builder folded the pc into `imm`.
fn h_auipc(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
    set(cpu, u.rd, u.imm);
    next(cpu, cx, u, n)
}

fn h_jal(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
    set(cpu, u.rd, u.pc.wrapping_add(u.len as u64));
    cpu.x[0] = 0;
    goto(cpu, cx, u, u.imm, n.wrapping_add(u.idx as u64 + 1))
}

/// A `jal` the block builder followed: the target's code comes next in
/// the block.
fn h_jal_follow(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
    set(cpu, u.rd, u.pc.wrapping_add(u.len as u64));
    cpu.x[0] = 0;
    next(cpu, cx, u, n)
}

fn h_jalr(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
    let target = x(cpu, u.rs1).wrapping_add(u.imm) & !1;
    set(cpu, u.rd, u.pc.wrapping_add(u.len as u64));
    cpu.x[0] = 0;
    goto_indirect(cpu, cx, target, n.wrapping_add(u.idx as u64 + 1))
}

/// Lower the decoded instructions of one block (instruction, its pc, its
/// length, whether it is a `jal` the builder followed) to uops, appended
/// to `ops`.
pub(super) fn lower(insts: &[(Inst, u64, u8, bool)], ops: &mut alloc::vec::Vec<Uop>) {
    let mut i = 0;
    while i < insts.len() {
        let (inst, pc, len, followed) = insts[i];
        if let Some(&(b, pc_b, _, _)) = insts.get(i + 1)
            && let Some(u) = super::fuse::pair(inst, pc, i as u16, len, b, pc_b)
        {
            ops.push(u);
            i += 2;
            continue;
        }
        let mut u = uop(inst, pc, i as u16, len);
        if followed {
            u.h = h_jal_follow;
        }
        ops.push(u);
        i += 1;
    }
}

/// Build the uop for `inst` at `pc`, the `idx`th of its block.
fn uop(inst: Inst, pc: u64, idx: u16, len: u8) -> Uop {
    use Inst::*;
    let mut u = Uop::generic(inst, pc, idx, len);
    // Pure register writes: nothing happens when rd is x0.
    let pure: Option<(Handler, u8)> = match inst {
        Add(R { rd, rs1, rs2 })
        | Sub(R { rd, rs1, rs2 })
        | Sll(R { rd, rs1, rs2 })
        | Slt(R { rd, rs1, rs2 })
        | Sltu(R { rd, rs1, rs2 })
        | Xor(R { rd, rs1, rs2 })
        | Srl(R { rd, rs1, rs2 })
        | Sra(R { rd, rs1, rs2 })
        | Or(R { rd, rs1, rs2 })
        | And(R { rd, rs1, rs2 })
        | Addw(R { rd, rs1, rs2 })
        | Subw(R { rd, rs1, rs2 })
        | Sllw(R { rd, rs1, rs2 })
        | Srlw(R { rd, rs1, rs2 })
        | Sraw(R { rd, rs1, rs2 })
        | Mul(R { rd, rs1, rs2 })
        | Mulhu(R { rd, rs1, rs2 })
        | Mulw(R { rd, rs1, rs2 })
        | Div(R { rd, rs1, rs2 })
        | Divu(R { rd, rs1, rs2 })
        | Rem(R { rd, rs1, rs2 })
        | Remu(R { rd, rs1, rs2 })
        | Divw(R { rd, rs1, rs2 })
        | Divuw(R { rd, rs1, rs2 })
        | Remw(R { rd, rs1, rs2 })
        | Remuw(R { rd, rs1, rs2 }) => {
            u.rd = rd;
            u.rs1 = rs1;
            u.rs2 = rs2;
            let h: Handler = match inst {
                Add(_) => h_add,
                Sub(_) => h_sub,
                Sll(_) => h_sll,
                Slt(_) => h_slt,
                Sltu(_) => h_sltu,
                Xor(_) => h_xor,
                Srl(_) => h_srl,
                Sra(_) => h_sra,
                Or(_) => h_or,
                And(_) => h_and,
                Addw(_) => h_addw,
                Subw(_) => h_subw,
                Sllw(_) => h_sllw,
                Srlw(_) => h_srlw,
                Sraw(_) => h_sraw,
                Mul(_) => h_mul,
                Mulhu(_) => h_mulhu,
                Mulw(_) => h_mulw,
                Div(_) => h_div,
                Divu(_) => h_divu,
                Rem(_) => h_rem,
                Remu(_) => h_remu,
                Divw(_) => h_divw,
                Divuw(_) => h_divuw,
                Remw(_) => h_remw,
                _ => h_remuw,
            };
            Some((h, rd))
        }
        Addi(I { rd, rs1, imm })
        | Slti(I { rd, rs1, imm })
        | Sltiu(I { rd, rs1, imm })
        | Xori(I { rd, rs1, imm })
        | Ori(I { rd, rs1, imm })
        | Andi(I { rd, rs1, imm })
        | Slli(I { rd, rs1, imm })
        | Srli(I { rd, rs1, imm })
        | Srai(I { rd, rs1, imm })
        | Addiw(I { rd, rs1, imm })
        | Slliw(I { rd, rs1, imm })
        | Srliw(I { rd, rs1, imm })
        | Sraiw(I { rd, rs1, imm }) => {
            u.rd = rd;
            u.rs1 = rs1;
            u.imm = imm as i64 as u64;
            let h: Handler = match inst {
                Addi(_) => h_addi,
                Slti(_) => h_slti,
                Sltiu(_) => h_sltiu,
                Xori(_) => h_xori,
                Ori(_) => h_ori,
                Andi(_) => h_andi,
                Slli(_) => h_slli,
                Srli(_) => h_srli,
                Srai(_) => h_srai,
                Addiw(_) => h_addiw,
                Slliw(_) => h_slliw,
                Srliw(_) => h_srliw,
                _ => h_sraiw,
            };
            Some((h, rd))
        }
        Lui(U { rd, imm }) => {
            u.rd = rd;
            u.imm = imm as i64 as u64;
            Some((h_lui, rd))
        }
        Auipc(U { rd, imm }) => {
            u.rd = rd;
            u.imm = pc.wrapping_add(imm as i64 as u64);
            Some((h_auipc, rd))
        }
        _ => None,
    };
    if let Some((h, rd)) = pure {
        u.h = if rd == 0 { h_nop } else { h };
        return u;
    }
    match inst {
        Lb(I { rd, rs1, imm })
        | Lh(I { rd, rs1, imm })
        | Lw(I { rd, rs1, imm })
        | Ld(I { rd, rs1, imm })
        | Lbu(I { rd, rs1, imm })
        | Lhu(I { rd, rs1, imm })
        | Lwu(I { rd, rs1, imm })
            if rd != 0 =>
        {
            u.rd = rd;
            u.rs1 = rs1;
            u.imm = imm as i64 as u64;
            u.h = match inst {
                Lb(_) => h_lb,
                Lh(_) => h_lh,
                Lw(_) => h_lw,
                Ld(_) => h_ld,
                Lbu(_) => h_lbu,
                Lhu(_) => h_lhu,
                _ => h_lwu,
            };
        }
        Sb(S { rs1, rs2, imm })
        | Sh(S { rs1, rs2, imm })
        | Sw(S { rs1, rs2, imm })
        | Sd(S { rs1, rs2, imm }) => {
            u.rs1 = rs1;
            u.rs2 = rs2;
            u.imm = imm as i64 as u64;
            u.h = match inst {
                Sb(_) => h_sb,
                Sh(_) => h_sh,
                Sw(_) => h_sw,
                _ => h_sd,
            };
        }
        Beq(S { rs1, rs2, imm })
        | Bne(S { rs1, rs2, imm })
        | Blt(S { rs1, rs2, imm })
        | Bge(S { rs1, rs2, imm })
        | Bltu(S { rs1, rs2, imm })
        | Bgeu(S { rs1, rs2, imm }) => {
            u.rs1 = rs1;
            u.rs2 = rs2;
            u.imm = pc.wrapping_add(imm as i64 as u64);
            u.h = match inst {
                Beq(_) => h_beq,
                Bne(_) => h_bne,
                Blt(_) => h_blt,
                Bge(_) => h_bge,
                Bltu(_) => h_bltu,
                _ => h_bgeu,
            };
        }
        Jal(U { rd, imm }) => {
            u.rd = rd;
            u.imm = pc.wrapping_add(imm as i64 as u64);
            u.h = h_jal;
        }
        Jalr(I { rd, rs1, imm }) => {
            u.rd = rd;
            u.rs1 = rs1;
            u.imm = imm as i64 as u64;
            u.h = h_jalr;
        }
        _ => {}
    }
    u
}
