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
//! it has of its own, up to [`MAX_COPIED`] instructions of such blocks.

use super::{GuestInst, region_successors, scan_region_with};
use crate::memory::GuestMemory;

/// Most guest instructions with translations of their own that a region
/// translates again to keep a loop nest whole; a bigger nest keeps its
/// exits (start-up code runs many loops only a few times, and translating
/// them twice costs more than it saves).
pub(super) const MAX_COPIED: usize = 48;
use alloc::vec;
use alloc::vec::Vec;

/// Which of the pcs `refused` (sorted), where the scan of the region
/// `blocks` entered at `entry` stopped at code with a translation of its
/// own, lead back into the region's loop through `entry` within
/// [`MAX_COPIED`] instructions along paths `follow` accepts: the start pcs
/// (sorted) of the blocks on those paths, which the region then keeps.
pub(super) fn loop_back(
    mem: &GuestMemory,
    blocks: &[Vec<GuestInst>],
    entry: u64,
    refused: &[u64],
    follow: &dyn Fn(u64) -> bool,
) -> Vec<u64> {
    let home = on_cycle(blocks, entry);
    let back = |t: u64| t == entry || home.binary_search(&t).is_ok();
    let mut kept = Vec::new();
    for &t in refused {
        let Ok(side) = scan_region_with(
            mem,
            t,
            MAX_COPIED,
            follow,
            &|_| false,
            &|_| false,
            super::Calls::NONE,
        ) else {
            continue;
        };
        kept.extend(reaching(&side, &back));
    }
    kept.sort_unstable();
    kept.dedup();
    kept
}

/// The start pcs (sorted) of the blocks of `blocks` (a region entered at
/// `entry`, blocks in address order) from which the region's edges lead
/// back to `entry`. An edge is a branch, a plain jump or a fall-through to
/// a block of the region; a call with its callee in the region returns to
/// the block after it; other calls, indirect jumps and system
/// instructions leave the region, so no cycle goes through them.
pub(super) fn on_cycle(blocks: &[Vec<GuestInst>], entry: u64) -> Vec<u64> {
    reaching(blocks, &|t| t == entry)
}

/// The start pcs (sorted) of the blocks of `blocks` (in address order)
/// from which their edges (as [`on_cycle`] counts them) lead to a pc
/// `target` accepts.
fn reaching(blocks: &[Vec<GuestInst>], target: &dyn Fn(u64) -> bool) -> Vec<u64> {
    let starts: Vec<u64> = blocks.iter().map(|b| b[0].pc).collect();
    let index = |t: u64| starts.binary_search(&t).ok();
    let succ: Vec<[Option<u64>; 2]> = blocks
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
            s.map(|e| e.map(|(t, _)| t))
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
                    .any(|&t| target(t) || index(t).is_some_and(|j| back[j]))
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
