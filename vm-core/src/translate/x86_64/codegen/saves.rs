//! A function's saves and restores of registers it does not cache, two at
//! a time: `sd s1, 8(sp); sd s2, 0(sp)` (and the `ld`s that undo them)
//! is one 16-byte copy between the `Cpu` and the guest stack.
//!
//! gcc saves the callee-saved registers a function uses with a run of
//! `sd`s in its prologue and restores them with a run of `ld`s before its
//! return, neighbouring registers to neighbouring slots (`s1` at the
//! higher address, `s2` below it). A guest register the region does not
//! keep in a host register lives in the `Cpu`, where neighbouring
//! registers are neighbouring too, so each save is a load from the `Cpu`
//! and a store to the stack, and each restore the reverse: glibc's
//! `_int_free` spends 52 host instructions a call on its twelve. Two
//! such accesses whose registers and slots are both neighbours become
//! one `movdqu` load, a `pshufd` swapping the halves when the orders
//! differ, and one `movdqu` store: three instructions for four, and one
//! store for two.
//!
//! Only when the base needs no bounds compare (`bounds::Known::covers`,
//! for both offsets: with host faults, `sp` at a block start and on from
//! there), so the 16-byte access has no slow path. Its host fault is
//! the first instruction's (the second has no side entry). Should the
//! copy span two pages and only the second instruction's half fault,
//! the first instruction has not run yet either (x86 writes nothing of
//! a faulting store); the dispatcher sees that the faulting address is
//! not the first instruction's and runs that instruction alone, then
//! goes on to the second, which faults by itself (see
//! `crate::translate`'s `host_fault`).

use super::super::encode::{Mem, Reg, Xmm};
use super::{Gen, GuestInst, x};
use crate::decode::Inst;

/// A pair of neighbouring 8-byte accesses made one copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Pair {
    /// Stores (`Cpu` to memory) or loads.
    store: bool,
    /// The base register and the lower of the two offsets.
    base: u8,
    lo: i32,
    /// The lower of the two guest registers (the other is `reg + 1`).
    reg: u8,
    /// The register at the lower address is the higher one.
    swap: bool,
}

/// The pair starting at `insts[i]`, if the two instructions there make
/// one: `uncached(r)` says register `r` lives in the `Cpu`, `covers(r, k)`
/// that an access at `x[r] + k` needs no bounds compare.
pub(super) fn find(
    insts: &[GuestInst],
    i: usize,
    uncached: impl Fn(u8) -> bool,
    covers: impl Fn(u8, i32) -> bool,
) -> Option<Pair> {
    let [a, b] = insts.get(i..i + 2)? else {
        return None;
    };
    // (register, base, offset) of each.
    let (store, (ra, base, ia), (rb, base_b, ib)) = match (a.inst, b.inst) {
        (Inst::Sd(a), Inst::Sd(b)) => (true, (a.rs2, a.rs1, a.imm), (b.rs2, b.rs1, b.imm)),
        // The first load must leave the second's base alone.
        (Inst::Ld(a), Inst::Ld(b)) if a.rd != a.rs1 => {
            (false, (a.rd, a.rs1, a.imm), (b.rd, b.rs1, b.imm))
        }
        _ => return None,
    };
    let uncached = |r: u8| r != 0 && uncached(r);
    if base != base_b
        || ra.abs_diff(rb) != 1
        || ia.abs_diff(ib) != 8
        || !uncached(ra)
        || !uncached(rb)
        || !covers(base, ia)
        || !covers(base, ib)
    {
        return None;
    }
    let (lo, at_lo) = if ia < ib { (ia, ra) } else { (ib, rb) };
    let reg = ra.min(rb);
    Some(Pair {
        store,
        base,
        lo,
        reg,
        swap: at_lo != reg,
    })
}

impl Gen {
    /// The pair starting at `insts[i]` here (see [`find`]).
    pub(super) fn save_pair(&self, insts: &[GuestInst], i: usize) -> Option<Pair> {
        if !self.stubs.host_faults {
            return None;
        }
        find(
            insts,
            i,
            |r| self.map[r as usize].is_none(),
            |r, k| self.known.covers(r, k),
        )
    }

    /// The code of `p`; the caller accounts for both instructions having
    /// run (`bounds`' knowledge, the quiet compare).
    pub(super) fn save_pair_emit(&mut self, p: Pair) {
        let b = self.src(p.base, Reg::Rsi);
        let mem = Mem {
            base: Reg::R12,
            index: Some((b, 0)),
            disp: p.lo,
        };
        let cpu = x(p.reg);
        let (from, to) = if p.store { (cpu, mem) } else { (mem, cpu) };
        self.a.movdqu_load(Xmm(0), from);
        if p.swap {
            self.a.swap_halves(Xmm(0), Xmm(0));
        }
        self.a.movdqu_store(to, Xmm(0));
        self.known.accessed(p.base, p.lo);
        self.known.accessed(p.base, p.lo + 8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rv::{i, s};
    use crate::translate::tests::block;

    const SD: u32 = 0x23;
    const LD: u32 = 0x03;

    fn sd(rs2: u8, imm: i32, rs1: u8) -> u32 {
        s(SD, 3, rs1, rs2, imm)
    }
    fn ld(rd: u8, imm: i32, rs1: u8) -> u32 {
        i(LD, 3, rd, rs1, imm)
    }

    /// gcc's prologue and epilogue pairs are found, with the halves
    /// swapped when the higher register is at the lower address; and
    /// nothing else is.
    #[test]
    fn neighbouring_saves_and_restores_pair_up() {
        // x10 and x11 are cached; sp (x2) is near the space.
        let pair = |words: &[u32]| {
            find(
                &block(0x1000, words),
                0,
                |r| r != 10 && r != 11,
                |r, _| r == 2,
            )
        };
        // s1 (x9) at 0x70(sp), s2 (x18) below it: not neighbours in the Cpu.
        assert_eq!(pair(&[sd(9, 0x70, 2), sd(18, 0x68, 2)]), None);
        // s2 (x18) at 0x68, s3 (x19) at 0x60: swapped halves.
        assert_eq!(
            pair(&[sd(18, 0x68, 2), sd(19, 0x60, 2)]),
            Some(Pair {
                store: true,
                base: 2,
                lo: 0x60,
                reg: 18,
                swap: true
            })
        );
        // The same order in both: no swap.
        assert_eq!(
            pair(&[ld(18, 0x60, 2), ld(19, 0x68, 2)]),
            Some(Pair {
                store: false,
                base: 2,
                lo: 0x60,
                reg: 18,
                swap: false
            })
        );
        // Slots not neighbours, bases differ, a store and a load.
        assert_eq!(pair(&[sd(18, 0x68, 2), sd(19, 0x58, 2)]), None);
        assert_eq!(pair(&[sd(18, 0x68, 2), sd(19, 0x60, 8)]), None);
        assert_eq!(pair(&[sd(18, 0x68, 2), ld(19, 0x60, 2)]), None);
        // The first load writes the base the second reads.
        assert_eq!(pair(&[ld(2, 0x68, 2), ld(3, 0x60, 2)]), None);
        // x0 has no `Cpu` slot worth copying.
        assert_eq!(pair(&[sd(0, 0x68, 2), sd(1, 0x60, 2)]), None);
        // A base not known near the space would need its compare.
        assert_eq!(pair(&[sd(18, 0x68, 8), sd(19, 0x60, 8)]), None);
        // A register the region caches is in its host register.
        assert_eq!(pair(&[sd(11, 0x68, 2), sd(12, 0x60, 2)]), None);
        assert_eq!(pair(&[ld(12, 0x68, 2), ld(11, 0x60, 2)]), None);
    }
}
