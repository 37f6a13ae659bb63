//! Where a region checks its block budget (`r14` against
//! `Ctx::instret_limit`), so that it comes back to the dispatcher in time
//! whatever it loops on: every cycle of the region's own edges must pass
//! a check. The checks sit at block starts, the *loop heads*:
//!
//! * the region's entry. A cycle that leaves the region goes through
//!   some translation's entry or side entry, whose stub checks too (see
//!   `entries`), or through a call's return point, entered by the host
//!   `ret` without a check (see `ras`); but that return pops a frame its
//!   call pushed, and the call entered its callee through a checked entry.
//!   So the region's own edges (`dirty::successors`: a call leaving the
//!   region has no successor here) need heads only for cycles of their own;
//! * the return points of calls traced through: a predicted return to
//!   one can close a loop that has no backward edge (a return to a return
//!   point before it, `ra` unchanged);
//! * the target of each backward branch or jump (target at or before the
//!   branch) that closes a cycle, that is, whose target reaches the branch
//!   along the region's edges. Every cycle has a backward edge (its pcs
//!   cannot all increase), and that edge's target reaches its source round
//!   the cycle, so every cycle passes a head.
//!
//! A backward edge that closes no cycle is only code layout: gcc puts a
//! function's rare paths after its return and jumps back from them into
//! the function, and glibc's `malloc` had two such budget checks on its
//! tcache path before the cycle test (tree, depth 15, under callgrind:
//! 4145.3 M to 4115.1 M host instructions, -0.7%).

use super::GuestInst;
use super::dirty;
use super::weight::direct_target;
use alloc::vec::Vec;

/// The pcs of the loop heads (see the module documentation) of the region
/// made of `blocks` (in address order), entered at `entry`, whose traced
/// calls return to `returns`: sorted, without repeats.
pub(super) fn loop_heads(blocks: &[&[GuestInst]], entry: u64, returns: &[u64]) -> Vec<u64> {
    // (Room for every head at once: a list of one grew at the first
    // return point or loop head.)
    let mut heads = Vec::with_capacity(1 + returns.len() + blocks.len());
    heads.push(entry);
    heads.extend_from_slice(returns);
    let mut seen = Seen {
        mark: Vec::new(),
        stamp: 0,
        work: Vec::new(),
    };
    for (bi, b) in blocks.iter().enumerate() {
        let last = b[b.len() - 1];
        let Some((target, _)) = direct_target(&last) else {
            continue;
        };
        // A head already (the entry, a return point, the target of an
        // earlier backward edge): no search.
        if target <= last.pc
            && !heads.contains(&target)
            && let Ok(ti) = blocks.binary_search_by_key(&target, |b| b[0].pc)
            && reaches(blocks, returns, (ti, bi), &mut seen)
        {
            heads.push(target);
        }
    }
    heads.sort_unstable();
    heads.dedup();
    heads
}

/// Scratch of [`reaches`], kept across its calls for one region: a block
/// is marked seen by the current search when its mark is the search's
/// stamp, so no search clears the marks of the one before.
struct Seen {
    mark: Vec<u32>,
    stamp: u32,
    work: Vec<usize>,
}

/// Whether block `to` of the region can be reached from block `from`
/// along the region's own edges (`dirty::successors`: branches, jumps,
/// traced calls, predicted returns), `from` counting as reached.
fn reaches(
    blocks: &[&[GuestInst]],
    returns: &[u64],
    (from, to): (usize, usize),
    seen: &mut Seen,
) -> bool {
    if from == to {
        return true;
    }
    if seen.mark.len() != blocks.len() {
        seen.mark.clear();
        seen.mark.resize(blocks.len(), 0);
    }
    seen.stamp += 1;
    let stamp = seen.stamp;
    seen.work.clear();
    seen.work.push(from);
    seen.mark[from] = stamp;
    while let Some(i) = seen.work.pop() {
        for pc in dirty::successors(blocks[i], returns) {
            // Most edges go to the next block: no search for those.
            let j = match blocks.get(i + 1) {
                Some(b) if b[0].pc == pc => i + 1,
                _ => match blocks.binary_search_by_key(&pc, |b| b[0].pc) {
                    Ok(j) => j,
                    Err(_) => continue,
                },
            };
            if j == to {
                return true;
            }
            if seen.mark[j] != stamp {
                seen.mark[j] = stamp;
                seen.work.push(j);
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::tests::block;
    use crate::translate::tests::rv::*;

    fn heads_of(blocks: &[Vec<GuestInst>], entry: u64) -> Vec<u64> {
        let refs: Vec<&[GuestInst]> = blocks.iter().map(|b| b.as_slice()).collect();
        loop_heads(&refs, entry, &[])
    }

    /// A loop that does not pass the region's entry, whose two backward
    /// edges reach their sources only through a forward jump over them:
    /// both targets are heads.
    #[test]
    fn cycles_closed_over_a_forward_jump_have_heads() {
        let blocks = [
            block(0x00, &[addi(13, 13, 1)]),                      // P (entry)
            block(0x04, &[addi(10, 10, 1), jal(0, 0x18 - 0x08)]), // X: j Z
            block(0x0c, &[addi(11, 11, 1), b(4, 13, 15, 0x10)]),  // Y: blt a3,a5 (out)
            block(0x14, &[jal(0, 0x04 - 0x14)]),                  // j X (back)
            block(0x18, &[addi(12, 12, 1), jal(0, 0x0c - 0x1c)]), // Z: j Y (back)
        ];
        assert_eq!(heads_of(&blocks, 0x00), [0x00, 0x04, 0x0c]);
    }

    /// A function's rare path placed after its return jumps back into it:
    /// no cycle, so no head but the entry.
    #[test]
    fn backward_jumps_that_close_no_cycle_are_not_heads() {
        let blocks = [
            block(0x00, &[b(0, 10, 0, 0x10)]),              // beqz a0, R (rare)
            block(0x04, &[addi(11, 11, 1)]),                // M: a1 += 1
            block(0x08, &[addi(12, 12, 1), jalr(0, 1, 0)]), // ret
            block(0x10, &[addi(13, 13, 1), jal(0, 0x04 - 0x14)]), // R: j M (back)
        ];
        assert_eq!(heads_of(&blocks, 0x00), [0x00]);
        // The same jump back to the entry closes a cycle: a head (the
        // entry's, already).
        let mut looped = blocks.clone();
        looped[1] = block(0x04, &[b(1, 11, 0, 0x10 - 0x04)]); // M: bnez a1, R
        assert_eq!(heads_of(&looped, 0x00), [0x00, 0x04]);
    }
}
