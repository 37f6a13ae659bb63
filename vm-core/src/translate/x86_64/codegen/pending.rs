//! Retired instructions carried from one block into the next instead of
//! added to `r14` (the guest's `instret`) at every block's end.
//!
//! Each block used to count itself with one `add r14, n` before its
//! closing branch. Along the path a region runs through a function, most
//! branches leave the region only on a rare path (an error check): there
//! the count can wait. When a conditional branch's only way on inside the
//! region is the next block and that block can be reached no other way
//! inside the region, the branch adds nothing; its out-of-line exit adds
//! the block's count, and the next block starts with that count
//! *pending*: `r14` lags the guest's `instret` by it, and every count the
//! block's code uses (side-table indices, which fault handlers add to
//! `instret`; fallback instructions' indices, which the step helper adds;
//! the retire at each of its exits) includes it, so what any way out
//! sees is exact.
//!
//! Such a block is entered only along that one edge, or from outside at
//! its side entry (see `entries`), whose stub, having checked the budget
//! with the exact `instret`, subtracts the pending count from `r14`
//! before it jumps in, as if it came along the edge. Budget checks read
//! `r14`, so loop heads and return points never start with a count
//! pending, nor does the region's entry; nor does a block whose way in
//! checks `frm` (see `frm`: that check's exit adds nothing).

use super::super::super::backend::GuestInst;
use super::Gen;
use super::dirty::successors;
use alloc::vec::Vec;

/// The pcs of the `blocks` (in address order) that may start with a count
/// pending, in order: entered inside the region only from the block
/// before, which ends with a conditional branch, and none of `entry`,
/// the `returns` points, the loop `headers` or the blocks that start
/// knowing `frm` (`frm_known`).
pub(super) fn blocks(
    blocks: &[&[GuestInst]],
    entry: u64,
    returns: &[u64],
    headers: &[u64],
    frm_known: &[u64],
) -> Vec<u64> {
    let starts: Vec<u64> = blocks.iter().map(|b| b[0].pc).collect();
    // Edges into each block: how many, and from which block (the last).
    let mut into = alloc::vec![(0u32, 0usize); blocks.len()];
    for (i, b) in blocks.iter().enumerate() {
        for pc in successors(b, returns) {
            if let Ok(j) = starts.binary_search(&pc) {
                into[j] = (into[j].0 + 1, i);
            }
        }
    }
    let branch = |b: &[GuestInst]| {
        use crate::decode::Inst::*;
        matches!(
            b[b.len() - 1].inst,
            Beq(_) | Bne(_) | Blt(_) | Bge(_) | Bltu(_) | Bgeu(_)
        )
    };
    (1..blocks.len())
        .filter(|&j| {
            let pc = starts[j];
            into[j] == (1, j - 1)
                && branch(blocks[j - 1])
                && pc != entry
                && !returns.contains(&pc)
                && headers.binary_search(&pc).is_err()
                && frm_known.binary_search(&pc).is_err()
        })
        .map(|j| starts[j])
        .collect()
}

impl Gen {
    /// May the block at `pc` start with a count pending?
    pub(super) fn carries(&self, pc: u64) -> bool {
        self.carry_ok.binary_search(&pc).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use crate::cpu::Trap;
    use crate::translate::tests::{CODE, DATA, run_fresh, rv};

    /// A loop of three blocks, each of the first two ending with a
    /// branch that leaves the region only on a path never taken (so the
    /// blocks after them start with counts pending, whichever of them the
    /// region is entered at), with a load in the third that faults at
    /// iteration `fault_at`, or never: `instret` at the fault, and at the
    /// end, is exact.
    fn run(fault_at: u64) {
        use rv::*;
        let code = [
            addi(11, 0, 200), // 0: a1 = 200
            addi(11, 11, -1), // 4: loop: a1 -= 1
            b(4, 11, 0, 44),  // 8: blt a1, x0, 52 (never)
            addi(14, 14, 64), // 12: a4 += 64
            b(4, 14, 0, 36),  // 16: blt a4, x0, 52 (never)
            ld(13, 14, 0),    // 20: a3 = [a4]
            add(12, 12, 13),  // 24: a2 += a3
            bne(11, 0, -24),  // 28: loop while a1 != 0
            ECALL,            // 32
            ECALL,
            ECALL,
            ECALL,
            ECALL,
            ECALL,
            ECALL, // 56
        ];
        // a4 reaches the end of the data page at iteration `fault_at`.
        let a4 = (DATA + 0x10000).wrapping_sub(fault_at * 64);
        let (t, cpu, j) = run_fresh(&code, |c| c.x[14] = a4);
        if fault_at <= 200 {
            assert!(matches!(t, Trap::MemFault(_)), "{t:?}");
            assert_eq!(cpu.pc, CODE + 20, "at the load");
            assert_eq!(cpu.x[11], 200 - fault_at);
            assert_eq!(cpu.instret, 1 + 7 * (fault_at - 1) + 4);
        } else {
            assert_eq!(t, Trap::Ecall);
            assert_eq!(cpu.instret, 1 + 7 * 200 + 1);
        }
        if fault_at > 60 {
            // Past the first tier, in the region.
            assert!(j.promotions() >= 1, "{:?}", j.counters());
        }
    }

    #[test]
    fn a_pending_count_is_exact_at_faults_and_exits() {
        run(20);
        run(150);
        run(1000);
    }
}
