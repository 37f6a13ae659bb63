//! Bases a block starts knowing near the guest space, so that a loop
//! checks its pointers once on the way in instead of once per iteration.
//!
//! An access through a base register the code knows nothing of compares
//! it with `Ctx::mem_limit` (see `bounds`), and every block start forgets
//! what was known, as paths join there. So `strcmp`'s loop compared both
//! of its pointers on every byte, and a matrix multiply both of its
//! row pointers on every element, though each iteration had just
//! accessed through them and only added a few bytes.
//!
//! Here a block may start *assuming* some registers near the space
//! (within `NEAR_SLACK` of `[0, size)`, as every block assumes of `sp`
//! and `tp`): its own accesses through them need no compare. Every way
//! into such a block keeps the assumption:
//! * a host jump or fall-through from a block of the region (`Gen::goto`,
//!   `Gen::branch`) compares each assumed register the code there does
//!   not know near ([`Gen::near_edge`]); a loop's back edge, after an
//!   access and an `addi` through the register, knows it, so only the way
//!   into the loop compares;
//! * a side entry's stub compares every assumed register (`entries`).
//!
//! A failed compare (a wild value) leaves the region for the dispatcher
//! with `exit::WILD`, which interprets the block before entering
//! translated code again, so the guest sees exactly what the interpreter
//! would give it (a fault at the address it computed, or nothing: a wild
//! value that is never accessed through). A block whose assumption failed
//! again and again (a tagged value that is sometimes a pointer, say) is
//! translated again without it (`SharedCodeOn::wild`).
//!
//! Which registers ([`near_at_start`]): those a block accesses through
//! (directly, or through an `addi` or a move of them) before writing them
//! (its own needs), and, backwards along the region's edges, those a
//! successor assumes and the block leaves alone. Then, until nothing
//! changes, an assumption is dropped
//! * where a backward edge (a loop's) would have to compare a need that
//!   is not the block's own, so that a loop never pays for a register
//!   only a later block uses;
//! * where no way into the block from the region knows it already: every
//!   way in would compare, as the access itself did, and a compare on a
//!   branch's way is out of line (one jump more).
//!
//! Not at return points (entered without a compare), nor in a block of
//! `wild`.

use super::super::encode::{AsmError, Cond, Label, Reg, W};
use super::bounds::{Known, access_of};
use super::dirty;
use super::{Cold, Gen, GuestInst};
use crate::memory::GUARD;
use crate::translate::backend::exit;
use crate::translate::backend::{NEAR_REGS, NEAR_SLACK};
use alloc::vec::Vec;

/// Registers that may be assumed: not `x0`, nor `sp` and `tp` (assumed
/// at every block start already).
fn candidates() -> u32 {
    let mut m = !1u32;
    for r in NEAR_REGS {
        m &= !(1 << r);
    }
    m
}

/// The registers block `b` accesses through (directly, or through a
/// register an `addi` or a move made from one) before writing them
/// otherwise, with an offset the guards cover from a near base; and those
/// whose value at its end is still their value at its start plus what
/// `addi`s added.
fn own_needs(b: &[GuestInst]) -> (u32, u32) {
    use crate::decode::Inst::*;
    let mut needs = 0u32;
    // `origin[r]`: the register whose start value `r` holds (give or take
    // an `addi`'s offset), if any.
    let mut origin: [Option<u8>; 32] = core::array::from_fn(|r| Some(r as u8));
    // Only `after`'s mask of what each instruction writes is used here.
    let mut k = Known::new();
    for gi in b {
        if let Some((rs1, imm)) = access_of(&gi.inst)
            && let Some(r0) = origin[rs1 as usize]
            && NEAR_SLACK + imm.unsigned_abs() as u64 + 8 <= GUARD
        {
            needs |= 1 << r0;
        }
        let from = match gi.inst {
            Addi(i) if i.rd != 0 => Some((i.rd, origin[i.rs1 as usize])),
            Add(r) | Or(r) | Xor(r) if r.rd != 0 && (r.rs1 == 0 || r.rs2 == 0) => {
                Some((r.rd, origin[(r.rs1 | r.rs2) as usize]))
            }
            _ => None,
        };
        for r in super::bits(k.after(gi)) {
            origin[r as usize] = None;
        }
        if let Some((rd, o)) = from {
            origin[rd as usize] = o;
        }
    }
    let keeps = (0..32u8)
        .filter(|&r| origin[r as usize] == Some(r))
        .fold(0u32, |m, r| m | 1 << r);
    (needs & candidates(), keeps)
}

/// For each of `blocks` (in address order) the mask of registers its code
/// starts assuming near the guest space (see the module documentation).
pub(super) fn near_at_start(blocks: &[&[GuestInst]], returns: &[u64], wild: &[u64]) -> Vec<u32> {
    let n = blocks.len();
    let index = |pc: u64| blocks.binary_search_by_key(&pc, |b| b[0].pc).ok();
    let eligible: Vec<bool> = blocks
        .iter()
        .map(|b| {
            let pc = b[0].pc;
            !returns.contains(&pc) && wild.binary_search(&pc).is_err()
        })
        .collect();
    let succs: Vec<Vec<usize>> = blocks
        .iter()
        .map(|b| {
            dirty::successors(b, returns)
                .into_iter()
                .filter_map(index)
                .collect()
        })
        .collect();
    // Without a loop, an assumption saves a compare only where a block
    // goes on to another that accesses through the same base, which is
    // rare and not worth the analysis (start-up translates thousands of
    // such regions, each run once or a few times).
    let looping = succs
        .iter()
        .enumerate()
        .any(|(i, ss)| ss.iter().any(|&s| s <= i));
    if !looping {
        return alloc::vec![0; n];
    }
    let (own, keeps): (Vec<u32>, Vec<u32>) = blocks.iter().map(|b| own_needs(b)).unzip();
    // Propagated needs a backward edge ruled out, per block.
    let mut banned = alloc::vec![0u32; n];
    // Per block, the last assumptions its end was worked out for, and
    // what it knows there (the outer loop mostly changes a few blocks).
    let mut ends: Vec<Option<(u32, u32)>> = alloc::vec![None; n];
    loop {
        // Backwards: a block assumes its own needs and what its successors
        // assume that it leaves alone.
        let mut at: Vec<u32> = (0..n)
            .map(|i| if eligible[i] { own[i] } else { 0 })
            .collect();
        loop {
            let mut changed = false;
            for i in (0..n).rev() {
                if !eligible[i] {
                    continue;
                }
                let mut m = at[i];
                for &s in &succs[i] {
                    m |= at[s] & keeps[i];
                }
                m &= !banned[i];
                if m != at[i] {
                    at[i] = m;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // Forwards: what each block knows at its end from its assumptions.
        let mut more = false;
        // Per block, what some way into it from the region knows.
        let mut free = alloc::vec![0u32; n];
        for (i, b) in blocks.iter().enumerate() {
            let known = match ends[i] {
                Some((a, known)) if a == at[i] => known,
                _ => {
                    let mut k = Known::new();
                    k.assume_near(at[i]);
                    for gi in b.iter() {
                        if let Some((rs1, imm)) = access_of(&gi.inst) {
                            k.accessed(rs1, imm);
                        }
                        k.after(gi);
                    }
                    let known = k.near_mask();
                    ends[i] = Some((at[i], known));
                    known
                }
            };
            for &s in &succs[i] {
                free[s] |= known;
                if blocks[s][0].pc > b[0].pc {
                    continue;
                }
                // A backward edge: a propagated need it does not know is
                // dropped rather than compared on every iteration.
                let lost = at[s] & !own[s] & !known;
                if lost != 0 {
                    banned[s] |= lost;
                    more = true;
                }
            }
        }
        // Where every way in would compare, the access compares instead
        // (the same count, without a jump to an out-of-line compare).
        for i in 0..n {
            let lost = at[i] & !free[i];
            if lost != 0 {
                banned[i] |= lost;
                more = true;
            }
        }
        if !more {
            return at;
        }
    }
}

/// A way into a block assuming `regs` near the space: compare them, and
/// leave for the dispatcher at `target` with `exit::WILD` (storing back
/// `dirty`, counting `retired` more instructions) if one is not; `to`:
/// where the way goes on when all are, if the compares are out of line
/// (a branch's), else back inline.
pub(super) struct Edge {
    label: Label,
    to: Option<Label>,
    regs: u32,
    target: u64,
    dirty: u32,
    retired: u32,
}

impl Gen {
    /// The registers the block at `pc` assumes near the space.
    pub(super) fn near_at(&self, pc: u64) -> u32 {
        match self.near_in.binary_search_by_key(&pc, |e| e.0) {
            Ok(i) => self.near_in[i].1,
            Err(_) => 0,
        }
    }

    /// Guest register `r` for a compare: its host register, or `rsi`
    /// loaded from the `Cpu` (not `Gen::src`, whose forwarded values do
    /// not hold in out-of-line code).
    fn near_reg(&mut self, r: u8) -> Reg {
        match self.map[r as usize] {
            Some(c) => c,
            None => {
                self.a.load(W::B64, Reg::Rsi, super::x(r));
                Reg::Rsi
            }
        }
    }

    /// The assumptions of block `target` the code here does not know.
    fn near_missing(&self, target: u64) -> u32 {
        self.near_at(target) & !self.known.near_mask()
    }

    /// Inline, before a jump or fall-through to `target` (a block of the
    /// region), or in a side entry's stub (`stub`: nothing written or
    /// pending there): compare what it assumes and the code does not know.
    pub(super) fn near_edge(&mut self, target: u64, stub: Option<()>) {
        let regs = if stub.is_some() {
            self.near_at(target)
        } else {
            self.near_missing(target)
        };
        if regs == 0 {
            return;
        }
        let label = self.a.label();
        for r in super::bits(regs) {
            let b = self.near_reg(r);
            self.cmp_limit(b);
            self.a.jcc(Cond::A, label);
            self.known.checked(r);
        }
        let (dirty, retired) = match stub {
            Some(()) => (0, 0),
            None => (self.written & self.path & self.exit_mask(), self.carry_out),
        };
        self.cold.push(Cold::NearEdge(Edge {
            label,
            to: None,
            regs,
            target,
            dirty,
            retired,
        }));
    }

    /// A label for a conditional jump to `l` (guest `target`) to take: `l`
    /// itself, or the out-of-line compares on the way there.
    pub(super) fn near_branch_to(&mut self, l: Label, target: u64) -> Label {
        let regs = self.near_missing(target);
        if regs == 0 {
            return l;
        }
        let label = self.a.label();
        self.cold.push(Cold::NearEdge(Edge {
            label,
            to: Some(l),
            regs,
            target,
            dirty: self.written & self.path & self.exit_mask(),
            retired: 0,
        }));
        label
    }

    pub(super) fn emit_near_edge(&mut self, e: Edge) -> Result<(), AsmError> {
        let fail = match e.to {
            Some(to) => {
                self.a.bind(e.label);
                let fail = self.a.label();
                for r in super::bits(e.regs) {
                    let b = self.near_reg(r);
                    self.cmp_limit(b);
                    self.a.jcc(Cond::A, fail);
                }
                self.a.jmp(to);
                fail
            }
            None => e.label,
        };
        self.leave_region_at(fail, e.dirty, e.retired);
        self.leave_at(e.target, exit::WILD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::tests::block;
    use crate::translate::tests::rv::*;

    fn near(blocks: &[Vec<GuestInst>], wild: &[u64]) -> Vec<u32> {
        let refs: Vec<&[GuestInst]> = blocks.iter().map(|b| b.as_slice()).collect();
        near_at_start(&refs, &[], wild)
    }

    const A0: u32 = 1 << 10;
    const A1: u32 = 1 << 11;

    /// `strcmp`'s byte loop, the region's entry: it reads through both
    /// pointers (one after an `addi`) and moves both by 1, so its back
    /// edge knows them and it assumes both.
    #[test]
    fn a_loop_that_walks_its_pointers_assumes_them() {
        let blocks = [
            block(
                0x00,
                &[
                    i(0x03, 4, 15, 10, 0), // lbu a5, 0(a0)
                    addi(11, 11, 1),
                    addi(10, 10, 1),
                    i(0x03, 4, 14, 11, -1), // lbu a4, -1(a1)
                    b(0, 15, 0, 0x0c),      // beq a5, x0, out
                ],
            ),
            block(0x14, &[b(0, 15, 14, -0x14)]), // beq a5, a4, loop
            block(0x18, &[jalr(0, 1, 0)]),       // out: ret
        ];
        let at = near(&blocks, &[]);
        assert_eq!(at[0], A0 | A1);
        // Carried through the block after (its one way in knows them).
        assert_eq!(at[1], A0 | A1);
        // A block of `wild` assumes nothing.
        assert_eq!(near(&blocks, &[0x00])[0], 0);
    }

    /// A top-tested loop: the head tests the count and the body reads
    /// through `a0`. The head assumes `a0` for its body (the back edge
    /// knows it; the way into the loop compares), the body too.
    #[test]
    fn a_loop_head_assumes_what_its_body_reads() {
        let blocks = [
            block(0x00, &[addi(6, 0, 0)]),     // entry: t1 = 0
            block(0x04, &[b(0, 11, 0, 0x18)]), // head: beqz a1, out
            block(
                0x08,
                &[
                    ld(5, 10, 0), // ld t0, 0(a0)
                    add(6, 6, 5),
                    addi(10, 10, 8),
                    addi(11, 11, -1),
                    jal(0, 0x04 - 0x18), // j head
                ],
            ),
            block(0x1c, &[jalr(0, 1, 0)]),
        ];
        let at = near(&blocks, &[]);
        assert_eq!(at[1], A0);
        assert_eq!(at[2], A0);
        // No way into the entry knows it: the access compares instead.
        assert_eq!(at[0], 0);
    }

    /// A value read from a table and read through only when even (a
    /// tagged integer otherwise): no block assumes it, since no way into
    /// the block that reads through it knows it. (Nor the table pointer
    /// here: it moves in a block after the one that reads through it, so
    /// the back edge knows it only within `NEAR_SLACK` plus 8, more than
    /// a block start assumes; the read compares it on every trip.)
    #[test]
    fn a_value_read_through_on_one_path_is_not_assumed() {
        let blocks = [
            block(0x00, &[b(0, 11, 0, 0x24)]), // head: beqz a1, out
            block(
                0x04,
                &[
                    ld(12, 10, 0),        // ld a2, 0(a0)
                    i(0x13, 7, 5, 12, 1), // andi t0, a2, 1
                    b(1, 5, 0, 0x08),     // bnez t0, skip
                ],
            ),
            block(0x10, &[ld(12, 12, 0)]), // ld a2, 0(a2)
            block(
                0x14,
                &[
                    add(6, 6, 12),
                    addi(10, 10, 8),
                    addi(11, 11, -1),
                    jal(0, -0x20), // j head
                ],
            ),
            block(0x24, &[jalr(0, 1, 0)]),
        ];
        assert_eq!(near(&blocks, &[]), [0; 5]);
    }
}
