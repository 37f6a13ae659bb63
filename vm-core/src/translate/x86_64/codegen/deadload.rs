//! Dead entry loads: the cached registers a region's entry need not load
//! from the `Cpu` because its first block writes them before anything
//! reads them (`ld s0, 16(sp)` in an epilogue, `andi a2, s0, 15` after a
//! load: in glibc's `malloc` and `free` two or three of the five loaded
//! registers are such).
//!
//! Until its first write, such a register's host register holds garbage
//! while the `Cpu` holds the guest value (stored there by whatever ran
//! before the region). Everything that copies cached registers to the
//! `Cpu` in that stretch must leave it alone:
//! * a host fault in it: each side-table entry of the stretch records the
//!   [`super::ALLOC`] slots not yet written (`SideEntry::invalid`), which
//!   `host_fault` does not copy;
//! * the slow path of an access in it, whose helper thunk stores every
//!   register the region writes: it first loads the ones not yet written
//!   from the `Cpu` (cold code only, see `bounds`).
//!
//! Nothing else can come in the stretch ([`window`] ends it at the first
//! instruction that is not an integer ALU operation, a load or a store:
//! before any branch, exit, helper call or step-helper instruction), and
//! by its end every dropped register was written. So the `Cpu` is what an
//! exit, a thunk or a fault expects from there on.
//!
//! Only a pinned region's own entry drops loads, and only when its entry
//! block has no way in but the entry (no edge of the region, no return
//! point, no side entry leads to it): a block also reached with every
//! register loaded would need a different mask on each way in. An
//! unpinned region's entry also moves the pinned registers out of their
//! homes; it is entered once per loop, where the loads do not matter.
//! The analysis looks at the entry block's first instructions only, so it
//! costs next to nothing per translation.

use super::{int_rd, int_regs};
use crate::decode::Inst;
use crate::translate::backend::GuestInst;

/// Most instructions of the entry block looked at.
const MAX_WINDOW: usize = 24;

/// Whether `inst` may stand in the stretch: an integer operation that
/// neither leaves the block, nor calls a helper, nor writes anything but
/// its `rd` (the M extension's fused pairs write a partner early, so they
/// end the stretch too), or an integer load or store, which may fault.
fn simple(inst: &Inst) -> bool {
    use Inst::*;
    super::int_alu(inst)
        || matches!(
            inst,
            Lb(_)
                | Lh(_)
                | Lw(_)
                | Ld(_)
                | Lbu(_)
                | Lhu(_)
                | Lwu(_)
                | Sb(_)
                | Sh(_)
                | Sw(_)
                | Sd(_)
        )
}

/// The registers of `candidates` (cached guest registers) that the start
/// of `block` (the region's entry block) writes before reading them, as a
/// set: their entry loads are dead.
pub(super) fn window(block: &[GuestInst], candidates: u32) -> u32 {
    let mut undecided = candidates & !1;
    let mut dead = 0u32;
    for gi in block.iter().take(MAX_WINDOW) {
        if undecided == 0 || !simple(&gi.inst) {
            break;
        }
        // `int_regs` lists `rd` first, but for a store (which writes
        // none): its base and its value.
        let rd = int_rd(&gi.inst);
        let [r0, rs1, rs2] = int_regs(&gi.inst);
        let first = if rd == 0 { 1 << r0 } else { 0 };
        undecided &= !(first | 1 << rs1 | 1 << rs2);
        if rd != 0 && undecided >> rd & 1 != 0 {
            undecided &= !(1 << rd);
            dead |= 1 << rd;
        }
    }
    dead
}

/// Whether the region's entry block, starting at `entry`, is reached only
/// through the entry: no block of the region (`succs` of each) leads to
/// it, it is no return point and no side entry.
pub(super) fn only_entered(
    entry: u64,
    mut succs: impl Iterator<Item = u64>,
    returns: &[u64],
    side_pcs: &[u64],
) -> bool {
    !succs.any(|pc| pc == entry) && !returns.contains(&entry) && !side_pcs.contains(&entry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode32;

    fn block(code: &[u32]) -> alloc::vec::Vec<GuestInst> {
        code.iter()
            .enumerate()
            .map(|(i, &w)| GuestInst {
                pc: 0x1000 + 4 * i as u64,
                len: 4,
                inst: decode32(w),
            })
            .collect()
    }

    /// A register written before it is read is dead; one read first, or
    /// first written after the stretch ends (a branch), is not; nor is
    /// one that a load both reads (as its base) and writes.
    #[test]
    fn written_before_read_only_within_the_stretch() {
        use crate::translate::tests::rv;
        use crate::translate::tests::rv::*;
        let b = block(&[
            ld(8, 15, 128),        // s0 = [a5 + 128]: s0 dead, a5 live
            i(0x13, 7, 12, 8, 15), // andi a2, s0, 15: a2 dead
            ld(14, 14, 0),         // a4 = [a4]: a4 live
            rv::b(1, 12, 0, 8),    // bne a2, x0: ends the stretch
            addi(13, 0, 1),        // a3 = 1: after the branch, live
        ]);
        let all = 1 << 8 | 1 << 12 | 1 << 13 | 1 << 14 | 1 << 15;
        assert_eq!(window(&b, all), 1 << 8 | 1 << 12);
        // A store reads its base and its value.
        let st = block(&[sd(8, 12, 0), ld(8, 15, 0), ld(12, 15, 8)]);
        assert_eq!(window(&st, all), 0);
        // Only candidates count.
        assert_eq!(window(&b, 1 << 12), 1 << 12);
        assert_eq!(window(&b, 1 << 13 | 1 << 14), 0);
    }
}
