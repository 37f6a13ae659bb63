//! Two results of one host instruction: a quotient and remainder of the
//! same operands (x86 `div` gives both, see `div_partner`), and the low
//! and high halves of the same product (`mul` + `mulh`/`mulhu`, the
//! pair the RISC-V spec recommends for a full product; x86's one-operand
//! `mul`/`imul` gives both in rdx:rax).
//!
//! The partner's result is written where the first instruction is, into
//! the partner's destination, when nothing between reads or writes that
//! register (`early`): the partner then emits no code at all. Otherwise a
//! fused division keeps the other result in `Ctx` for the partner to
//! take (a product pair is then not fused). Only [`pure_int`]
//! instructions stand between, so nothing between can leave the region,
//! call a helper or fault, and no state in between is ever observed.

use super::super::encode::{Reg, Unary, W};
use super::{Gen, div_kind, int_regs, pure_int};
use crate::decode::{Inst, R};
use crate::translate::backend::GuestInst;

/// A fused partner found for the instruction being emitted.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pair {
    /// The partner's pc.
    pub pc: u64,
    /// The partner's destination register.
    pub rd: u8,
    /// Its result is written at the first instruction (see `early`).
    pub early: bool,
    /// A product's high half as the partner: whether it is signed
    /// (`mulh`).
    pub high: Option<bool>,
}

/// Whether the partner `insts[j]` of `insts[i]` may take its result at
/// `insts[i]`: it has a destination other than the first's, and no
/// instruction between names that register (read or written).
fn early(insts: &[GuestInst], i: usize, j: usize) -> bool {
    let rd = int_regs(&insts[j].inst)[0];
    rd != 0
        && rd != int_regs(&insts[i].inst)[0]
        && insts[i + 1..j]
            .iter()
            .all(|gi| !int_regs(&gi.inst).contains(&rd))
}

/// The pair of the division `insts[i]`, if `div_partner` found one.
pub(super) fn div_pair(insts: &[GuestInst], i: usize) -> Option<Pair> {
    let pc = super::div_partner(insts, i)?;
    let j = insts.iter().position(|gi| gi.pc == pc)?;
    Some(Pair {
        pc,
        rd: int_regs(&insts[j].inst)[0],
        early: early(insts, i, j),
        high: None,
    })
}

/// A 64-bit product half: the operands, and which half (`None`: the low
/// one, `mul`; `Some(signed)`: the high one, `mulh` or `mulhu`).
fn mul_kind(inst: &Inst) -> Option<(R, Option<bool>)> {
    match *inst {
        Inst::Mul(r) => Some((r, None)),
        Inst::Mulh(r) => Some((r, Some(true))),
        Inst::Mulhu(r) => Some((r, Some(false))),
        _ => None,
    }
}

/// The partner of the product half `insts[i]`: the other half of the
/// same product (operands in either order: both halves are symmetric)
/// at most four instructions on in the same block, with only
/// [`pure_int`] instructions between that write neither operand, the
/// first not overwriting an operand itself, and the partner's result
/// placeable early (see `early`).
pub(super) fn mul_pair(insts: &[GuestInst], i: usize) -> Option<Pair> {
    let (r, half) = mul_kind(&insts[i].inst)?;
    if r.rd == 0 || r.rd == r.rs1 || r.rd == r.rs2 {
        return None;
    }
    for (j, gi) in insts.iter().enumerate().skip(i + 1).take(4) {
        if let Some((r2, half2)) = mul_kind(&gi.inst) {
            let same = (r2.rs1, r2.rs2) == (r.rs1, r.rs2) || (r2.rs1, r2.rs2) == (r.rs2, r.rs1);
            // One low and one high half (of the same signedness: a low
            // half is the same either way).
            let other = half.is_none() != half2.is_none();
            return (same && other && early(insts, i, j)).then_some(Pair {
                pc: gi.pc,
                rd: r2.rd,
                early: true,
                high: half2,
            });
        }
        if !pure_int(&gi.inst) || div_kind(&gi.inst).is_some() {
            return None;
        }
        let rd = int_regs(&gi.inst)[0];
        if rd != 0 && (rd == r.rs1 || rd == r.rs2) {
            return None;
        }
    }
    None
}

impl Gen {
    /// Both halves of the product `x[r.rs1] * x[r.rs2]` with one x86
    /// multiply: this instruction's half to `r.rd` and the other to the
    /// partner's destination. `signed`: the high half is `mulh`'s.
    pub(super) fn mul_both(&mut self, r: R, high: bool, signed: bool, p: Pair) {
        self.get(Reg::Rax, r.rs1);
        self.get(Reg::Rcx, r.rs2);
        let op = if signed { Unary::Imul } else { Unary::Mul };
        self.a.unary(W::B64, op, Reg::Rcx);
        let (mine, other) = if high {
            (Reg::Rdx, Reg::Rax)
        } else {
            (Reg::Rax, Reg::Rdx)
        };
        self.div_partner = Some(p);
        self.put(p.rd, other);
        self.put(r.rd, mine);
    }
}
