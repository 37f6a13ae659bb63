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

use super::{Cx, Handler, Inst, Op, Uop, goto, goto_indirect, next};
use crate::cpu::{Cpu, Trap};
use crate::decode::{I, R, S, U};
use crate::guarded;
use crate::memory::{GuestMemory, MemFault, Perm};
use crate::semantics as sem;

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
    ($name:ident, $f:path) => {
        fn $name(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
            set(cpu, u.rd, $f(x(cpu, u.rs1), x(cpu, u.rs2)));
            next(cpu, cx, u, n)
        }
    };
}

macro_rules! alu_ri {
    ($name:ident, $f:path) => {
        fn $name(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
            set(cpu, u.rd, $f(x(cpu, u.rs1), u.imm));
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
    ($name:ident, $slow:ident, $read:ident, $t:ty, $f:path) => {
        fn $name(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
            let a = x(cpu, u.rs1).wrapping_add(u.imm);
            match fast_ptr(cx.mem, a, size_of::<$t>() as u64, Perm::READ) {
                // SAFETY: fast_ptr vouched for these bytes (a host fault
                // on them takes the full path, which reports it).
                Some(p) => match unsafe { <$t as guarded::Scalar>::load(p) } {
                    Ok(v) => {
                        set(cpu, u.rd, $f(v));
                        next(cpu, cx, u, n)
                    }
                    Err(_) => $slow(cpu, cx, u, n, a),
                },
                None => $slow(cpu, cx, u, n, a),
            }
        }
        #[cold]
        #[inline(never)]
        fn $slow(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64, a: u64) {
            match cx.mem.$read(a) {
                Ok(v) => {
                    set(cpu, u.rd, $f(v));
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
                // SAFETY: fast_ptr vouched for these bytes (a host fault
                // on them takes the full path, which reports it).
                Some(p) => match unsafe { <$t as guarded::Scalar>::store(p, v) } {
                    Ok(()) => next(cpu, cx, u, n),
                    Err(_) => $slow(cpu, cx, u, n, a, v),
                },
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
    ($name:ident, $f:path) => {
        fn $name(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
            if $f(x(cpu, u.rs1), x(cpu, u.rs2)) {
                goto(cpu, cx, u, u.imm, n.wrapping_add(u.idx as u64 + 1))
            } else {
                // Blocks go on past conditional branches (superblocks).
                next(cpu, cx, u, n)
            }
        }
    };
}

alu_rr!(h_add, sem::add);
alu_rr!(h_sub, sem::sub);
alu_rr!(h_sll, sem::sll);
alu_rr!(h_slt, sem::slt);
alu_rr!(h_sltu, sem::sltu);
alu_rr!(h_xor, sem::xor);
alu_rr!(h_srl, sem::srl);
alu_rr!(h_sra, sem::sra);
alu_rr!(h_or, sem::or);
alu_rr!(h_and, sem::and);
alu_rr!(h_addw, sem::addw);
alu_rr!(h_subw, sem::subw);
alu_rr!(h_sllw, sem::sllw);
alu_rr!(h_srlw, sem::srlw);
alu_rr!(h_sraw, sem::sraw);
alu_rr!(h_mul, sem::mul);
alu_rr!(h_mulh, sem::mulh);
alu_rr!(h_mulhsu, sem::mulhsu);
alu_rr!(h_mulhu, sem::mulhu);
alu_rr!(h_mulw, sem::mulw);
alu_rr!(h_div, sem::div);
alu_rr!(h_divu, sem::divu);
alu_rr!(h_rem, sem::rem);
alu_rr!(h_remu, sem::remu);
alu_rr!(h_divw, sem::divw);
alu_rr!(h_divuw, sem::divuw);
alu_rr!(h_remw, sem::remw);
alu_rr!(h_remuw, sem::remuw);

alu_ri!(h_addi, sem::add);
alu_ri!(h_slti, sem::slt);
alu_ri!(h_sltiu, sem::sltu);
alu_ri!(h_xori, sem::xor);
alu_ri!(h_ori, sem::or);
alu_ri!(h_andi, sem::and);
alu_ri!(h_slli, sem::sll);
alu_ri!(h_srli, sem::srl);
alu_ri!(h_srai, sem::sra);
alu_ri!(h_addiw, sem::addw);
alu_ri!(h_slliw, sem::sllw);
alu_ri!(h_srliw, sem::srlw);
alu_ri!(h_sraiw, sem::sraw);

load!(h_lb, s_lb, read_u8, u8, sem::lb);
load!(h_lh, s_lh, read_u16, u16, sem::lh);
load!(h_lw, s_lw, read_u32, u32, sem::lw);
load!(h_ld, s_ld, read_u64, u64, sem::ld);
load!(h_lbu, s_lbu, read_u8, u8, sem::lbu);
load!(h_lhu, s_lhu, read_u16, u16, sem::lhu);
load!(h_lwu, s_lwu, read_u32, u32, sem::lwu);

store!(h_sb, s_sb, write_u8, u8);
store!(h_sh, s_sh, write_u16, u16);
store!(h_sw, s_sw, write_u32, u32);
store!(h_sd, s_sd, write_u64, u64);

branch!(h_beq, sem::beq);
branch!(h_bne, sem::bne);
branch!(h_blt, sem::blt);
branch!(h_bge, sem::bge);
branch!(h_bltu, sem::bltu);
branch!(h_bgeu, sem::bgeu);

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
    let target = sem::jalr_target(x(cpu, u.rs1), u.imm as i32);
    set(cpu, u.rd, u.pc.wrapping_add(u.len as u64));
    cpu.x[0] = 0;
    goto_indirect(cpu, cx, target, n.wrapping_add(u.idx as u64 + 1))
}

/// `fence`: x86-64 is TSO, but the interpreter keeps to the strongest
/// ordering for every fence (as the generic executor does).
fn h_fence(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
    core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
    next(cpu, cx, u, n)
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

/// Build the uop for `inst` at `pc`, the `idx`th of its block: a
/// specialised handler for the instructions of the hot path
/// ([`crate::decode::Facts::interp_fast`], from the instruction table),
/// the generic one for the rest.
pub(super) fn uop(inst: Inst, pc: u64, idx: u16, len: u8) -> Uop {
    use Inst::*;
    let mut u = Uop::generic(inst, pc, idx, len);
    if !inst.facts().interp_fast() {
        return u;
    }
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
        | Mulh(R { rd, rs1, rs2 })
        | Mulhsu(R { rd, rs1, rs2 })
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
                Mulh(_) => h_mulh,
                Mulhsu(_) => h_mulhsu,
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
        Fence(_) => u.h = h_fence,
        _ => {}
    }
    u
}
