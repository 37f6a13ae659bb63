//! `slli rd, rs, 32; srli rd, rd, 32`: the zero extension of a word
//! (`zext.w`) as RISC-V without Zba writes it, common in gcc's code for
//! `uint32_t` values and in libgcc's 128-bit division. One x86 32-bit
//! `mov`, which zero-extends, instead of two shifts (and a copy).

use super::super::encode::W;
use super::{Gen, GuestInst, x};
use crate::decode::Inst;

/// The (`rd`, `rs`) of the pair starting at `insts[i]`, if it is one.
pub(super) fn find(insts: &[GuestInst], i: usize) -> Option<(u8, u8)> {
    let [first, second] = insts.get(i..i + 2)? else {
        return None;
    };
    match (first.inst, second.inst) {
        (Inst::Slli(a), Inst::Srli(b))
            if a.imm == 32 && b.imm == 32 && a.rd != 0 && b.rd == a.rd && b.rs1 == a.rd =>
        {
            Some((a.rd, a.rs1))
        }
        _ => None,
    }
}

impl Gen {
    /// `rd` = the low 32 bits of `rs`, zero-extended.
    pub(super) fn zext_w(&mut self, rd: u8, rs: u8) {
        let d = self.work(rd, None);
        match self.map[rs as usize] {
            Some(c) if rs != 0 => self.a.mov_rr(W::B32, d, c),
            _ if rs == 0 => self.a.mov_imm(d, 0),
            _ => match self.fwd(rs) {
                Some(f) => self.a.mov_rr(W::B32, d, f),
                None => self.a.load(W::B32, d, x(rs)),
            },
        }
        self.done(rd, d);
    }
}
