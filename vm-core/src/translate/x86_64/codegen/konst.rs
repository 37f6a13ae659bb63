//! `lui rd, hi; addi rd, rd, lo` and `auipc rd, hi; addi rd, rd, lo`
//! (and `addiw` after `lui`): how RISC-V builds a 32-bit constant or a
//! pc-relative address (`li`, `la`). One constant, set once, instead of
//! a write of the upper part and an add to it, which for a register
//! the region does not cache is a store and a read-modify-write of the
//! `Cpu` copy.

use super::{Gen, GuestInst};
use crate::decode::Inst;

/// The (`rd`, value) of the pair starting at `insts[i]`, if it is one.
pub(super) fn find(insts: &[GuestInst], i: usize) -> Option<(u8, u64)> {
    let [first, second] = insts.get(i..i + 2)? else {
        return None;
    };
    let (rd, hi) = match first.inst {
        Inst::Lui(u) => (u.rd, u.imm as i64 as u64),
        Inst::Auipc(u) => (u.rd, first.pc.wrapping_add(u.imm as i64 as u64)),
        _ => return None,
    };
    if rd == 0 {
        return None;
    }
    match second.inst {
        Inst::Addi(a) if a.rd == rd && a.rs1 == rd => {
            Some((rd, hi.wrapping_add(a.imm as i64 as u64)))
        }
        Inst::Addiw(a) if a.rd == rd && a.rs1 == rd && matches!(first.inst, Inst::Lui(_)) => {
            Some((
                rd,
                hi.wrapping_add(a.imm as i64 as u64) as i32 as i64 as u64,
            ))
        }
        _ => None,
    }
}

impl Gen {
    /// `rd` = `v`, the pair's constant.
    pub(super) fn konst(&mut self, rd: u8, v: u64) {
        self.put_imm(rd, v);
    }
}
