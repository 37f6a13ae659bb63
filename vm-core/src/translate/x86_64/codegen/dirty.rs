//! Which cached guest registers an exit must store back: those some path
//! from one of the region's entries (its own and its side entries, see
//! `entries`) to that exit may have written (the others still hold what
//! was loaded from the `Cpu` at the entry). Computed per
//! block as a forward data flow over the region's own edges (the host
//! jumps `Gen::goto`, `Gen::branch` and `Gen::predict_return` emit);
//! inside a block, `Gen::mark` adds each write as it is emitted.
//!
//! The per-block write sets come from `int_rd`, a prediction of what the
//! code writes; `Gen::mark` records what it does write, and `translate`
//! generates again with the union should a block write more than
//! predicted, so the set stored at an exit is never short. Helper thunks
//! (shared by every call site of a region) and host faults still store
//! every cached register the region may write: correct anywhere, since
//! every cached register is loaded at the entry, or (see `deadload`)
//! written before any of those can come, but for host faults and access
//! slow paths, which `deadload` makes leave the `Cpu` copies of the
//! registers not loaded yet alone.

use super::{Gen, MAX_RETURNS, int_rd};
use crate::decode::Inst;
use crate::translate::backend::GuestInst;
use alloc::vec::Vec;

/// The in-region successors of block `b` (guest pcs; the caller keeps
/// those that start one of the region's blocks), as the code generator
/// links them: both ways of a branch, a `jal`'s target, the first
/// [`MAX_RETURNS`] return points after an indirect jump that links
/// nothing, and the next pc after a block that does not end with a
/// control transfer.
pub(super) fn successors(b: &[GuestInst], returns: &[u64]) -> Succs {
    let last = b[b.len() - 1];
    let next = last.pc.wrapping_add(last.len as u64);
    match last.inst {
        Inst::Beq(s)
        | Inst::Bne(s)
        | Inst::Blt(s)
        | Inst::Bge(s)
        | Inst::Bltu(s)
        | Inst::Bgeu(s) => Succs::of(&[next, last.pc.wrapping_add(s.imm as i64 as u64)]),
        Inst::Jal(u) => Succs::of(&[last.pc.wrapping_add(u.imm as i64 as u64)]),
        Inst::Jalr(i) if i.rd == 0 => Succs::of(&returns[..returns.len().min(MAX_RETURNS)]),
        Inst::Jalr(_) => Succs::of(&[]),
        _ => Succs::of(&[next]),
    }
}

/// A block's successors (see [`successors`]), held inline: the data flows
/// ask for them once per block and edge, and a vector each was a heap
/// allocation and free per block of every region translated.
pub(super) struct Succs {
    pcs: [u64; MAX_RETURNS],
    n: usize,
}

const _: () = assert!(MAX_RETURNS >= 2, "a branch has two successors");

impl Succs {
    fn of(pcs: &[u64]) -> Succs {
        let mut s = Succs {
            pcs: [0; MAX_RETURNS],
            n: pcs.len(),
        };
        s.pcs[..pcs.len()].copy_from_slice(pcs);
        s
    }
}

impl IntoIterator for Succs {
    type Item = u64;
    type IntoIter = core::iter::Take<core::array::IntoIter<u64, MAX_RETURNS>>;
    fn into_iter(self) -> Self::IntoIter {
        self.pcs.into_iter().take(self.n)
    }
}

/// The registers each block of `blocks` may write, by `int_rd`, or-ed
/// with `seen` (what an earlier generation found the code to write).
pub(super) fn block_writes(blocks: &[&[GuestInst]], seen: &[u32]) -> Vec<u32> {
    blocks
        .iter()
        .zip(seen)
        .map(|(b, &s)| {
            b.iter()
                .map(|gi| int_rd(&gi.inst))
                .filter(|&r| r != 0)
                .fold(s, |m, r| m | 1 << r)
        })
        .collect()
}

/// For each of `blocks` (in address order), the registers some path
/// from one of `entries` (the region's entry and its side entries, see
/// `entries`) to the block's start may have written, given what each
/// block may write (`writes`).
pub(super) fn dirty_at_start(
    blocks: &[&[GuestInst]],
    entries: &[u64],
    returns: &[u64],
    writes: &[u32],
) -> Vec<u32> {
    let starts: Vec<u64> = blocks.iter().map(|b| b[0].pc).collect();
    // The edges between blocks, flat: block `i`'s successors are
    // `succ[first[i]..first[i + 1]]` (one allocation, not one per block).
    let mut succ: Vec<usize> = Vec::with_capacity(2 * blocks.len());
    let mut first: Vec<usize> = Vec::with_capacity(blocks.len() + 1);
    for b in blocks {
        first.push(succ.len());
        succ.extend(
            successors(b, returns)
                .into_iter()
                .filter_map(|pc| starts.binary_search(&pc).ok()),
        );
    }
    first.push(succ.len());
    let mut dirty = alloc::vec![0u32; blocks.len()];
    let mut reached = alloc::vec![false; blocks.len()];
    let mut work: Vec<usize> = Vec::with_capacity(blocks.len() + entries.len());
    work.extend(
        entries
            .iter()
            .filter_map(|pc| starts.binary_search(pc).ok()),
    );
    for &e in &work {
        reached[e] = true;
    }
    while let Some(i) = work.pop() {
        let out = dirty[i] | writes[i];
        for &s in &succ[first[i]..first[i + 1]] {
            if !reached[s] || dirty[s] | out != dirty[s] {
                reached[s] = true;
                dirty[s] |= out;
                work.push(s);
            }
        }
    }
    // A block the flow did not reach (none should be): assume anything.
    for (d, r) in dirty.iter_mut().zip(&reached) {
        if !r {
            *d = u32::MAX;
        }
    }
    dirty
}

impl Gen {
    /// Guest register `r`, cached, now differs from the `Cpu`'s copy.
    pub(super) fn mark(&mut self, r: u8) {
        self.dirty |= 1 << r;
        self.path |= 1 << r;
        self.block_dirty |= 1 << r;
    }
}

#[cfg(test)]
mod tests {
    use crate::cpu::Trap;
    use crate::translate::tests::{CODE, run_fresh, rv};

    /// A register written only in a loop's body must be stored back at an
    /// exit from the loop's head: its write reaches the head along the
    /// back edge (a flow that missed it would leave `a0` and `a2` as they
    /// were when the region was entered).
    #[test]
    fn exit_from_a_loop_head_stores_what_the_body_wrote() {
        use rv::*;
        let code = [
            addi(10, 0, 200),    // 0: a0 = 200
            addi(12, 0, 0),      // 4: a2 = 0
            rv::b(0, 10, 0, 16), // 8: loop: beq a0, x0, out
            addi(12, 12, 3),     // 12: a2 += 3
            addi(10, 10, -1),    // 16: a0 -= 1
            jal(0, -12),         // 20: j loop
            ECALL,               // 24: out
        ];
        let (trap, cpu, j) = run_fresh(&code, |_| {});
        assert_eq!(trap, Trap::Ecall);
        assert_eq!((cpu.x[10], cpu.x[12]), (0, 600));
        assert_eq!(cpu.pc, CODE + 24);
        // The loop did run as a region, exiting from its head.
        assert_eq!(j.promotions(), 1, "{:?}", j.counters());
    }
}
