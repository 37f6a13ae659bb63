//! Loop nests in region formation: which blocks of a region lie on a
//! cycle through its entry.
//!
//! Under staged emulation a region stops at code that has a translation
//! of its own ([`super::scan_region_stopping`]), so that code reached from
//! many entries is translated about once. Inside a loop nest that rule
//! cuts the outer loop in pieces: the inner loop gets hot first and is
//! translated alone, and the outer loop's region then exits to it on each
//! pass and is entered again from its exit, each time storing and
//! reloading the cached registers and checking the budget (a segmented
//! sieve spent most of its time in such transitions). A block from which
//! the region's own edges lead back to the entry is part of the loop the
//! region is translated for, so it joins the region whatever translation
//! it has of its own.

use super::{GuestInst, region_successors};
use alloc::vec;
use alloc::vec::Vec;

/// The start pcs (sorted) of the blocks of `blocks` (a region entered at
/// `entry`, blocks in address order) from which the region's edges lead
/// back to `entry`. An edge is a branch, a plain jump or a fall-through to
/// a block of the region; a call with its callee in the region returns to
/// the block after it; other calls, indirect jumps and system
/// instructions leave the region, so no cycle goes through them.
pub(super) fn on_cycle(blocks: &[Vec<GuestInst>], entry: u64) -> Vec<u64> {
    let starts: Vec<u64> = blocks.iter().map(|b| b[0].pc).collect();
    let index = |t: u64| starts.binary_search(&t).ok();
    let succ: Vec<[Option<usize>; 2]> = blocks
        .iter()
        .map(|b| {
            let last = &b[b.len() - 1];
            let s = region_successors(last, !last.inst.facts().ends_region());
            // A call whose callee is not in the region leaves it.
            let leaves = s
                .iter()
                .flatten()
                .any(|&(t, callee)| callee && index(t).is_none());
            if leaves {
                return [None, None];
            }
            s.map(|e| e.and_then(|(t, _)| index(t)))
        })
        .collect();
    let mut back = vec![false; blocks.len()];
    loop {
        let mut changed = false;
        for i in 0..blocks.len() {
            if !back[i]
                && succ[i]
                    .iter()
                    .flatten()
                    .any(|&j| starts[j] == entry || back[j])
            {
                back[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    starts
        .iter()
        .zip(back)
        .filter_map(|(&s, b)| b.then_some(s))
        .collect()
}
