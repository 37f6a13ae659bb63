//! How often the register allocator should expect each block of a region
//! to run, relative to the others: a block inside a loop of the region
//! runs many times per entry, one outside runs at most once, so a register
//! used only inside a loop is worth more than one used in the region's
//! prologue or in its exits' restore sequences. A callee traced into the
//! region (see `translate::scan_region`) runs as often as its call sites:
//! its blocks, wherever they lie in the address space, weigh at least as
//! much as the heaviest call into them times their own loops. Only a
//! heuristic: which registers are cached never changes what the code
//! computes.

use crate::decode::Inst;
use crate::translate::backend::GuestInst;
use alloc::vec::Vec;

/// Weight of one level of loop nesting (uses inside a loop count this
/// many times one outside it, per level).
const PER_LOOP: u32 = 8;

/// Where `gi` goes when it is a conditional branch or a `jal`, and
/// whether it links (a `jal` with rd other than x0: a call, not a loop).
pub(super) fn direct_target(gi: &GuestInst) -> Option<(u64, bool)> {
    match gi.inst {
        Inst::Beq(s)
        | Inst::Bne(s)
        | Inst::Blt(s)
        | Inst::Bge(s)
        | Inst::Bltu(s)
        | Inst::Bgeu(s) => Some((gi.pc.wrapping_add(s.imm as i64 as u64), false)),
        Inst::Jal(u) => Some((gi.pc.wrapping_add(u.imm as i64 as u64), u.rd != 0)),
        _ => None,
    }
}

/// Most nesting levels counted (so the weights stay small).
const MAX_DEPTH: u32 = 3;

/// The weight of each of `blocks` (in address order): `PER_LOOP` to the
/// power of the number of the region's loops it lies in, a loop being
/// the address range from the target of a backward branch or jump
/// inside the region to that branch.
pub(super) fn block_weights(blocks: &[&[GuestInst]]) -> Vec<u32> {
    let starts: Vec<u64> = blocks.iter().map(|b| b[0].pc).collect();
    let mut loops: Vec<(u64, u64)> = Vec::new();
    for b in blocks {
        let last = b[b.len() - 1];
        let Some((target, false)) = direct_target(&last) else {
            continue;
        };
        if target <= last.pc && starts.binary_search(&target).is_ok() {
            loops.push((target, last.pc));
        }
    }
    // No loop: every block weighs one (and no call site is in a loop).
    if loops.is_empty() {
        return alloc::vec![1; blocks.len()];
    }
    let depths: Vec<u32> = blocks
        .iter()
        .map(|b| {
            let pc = b[0].pc;
            loops
                .iter()
                .filter(|&&(lo, hi)| lo <= pc && pc <= hi)
                .count() as u32
        })
        .collect();
    let mut weights: Vec<u32> = depths
        .iter()
        .map(|&d| PER_LOOP.pow(d.min(MAX_DEPTH)))
        .collect();
    // Traced calls: the callee's blocks inherit the call site's loops.
    for (i, b) in blocks.iter().enumerate() {
        let Some((callee, true)) = direct_target(&b[b.len() - 1]) else {
            continue;
        };
        // A call outside the region's loops adds nothing (its callee's
        // blocks are not walked).
        if depths[i] == 0 {
            continue;
        }
        let Ok(entry) = starts.binary_search(&callee) else {
            continue;
        };
        let body = reachable(blocks, &starts, entry);
        // A call from inside its own callee (recursion) adds nothing.
        if body.contains(&i) {
            continue;
        }
        for j in body {
            let w = PER_LOOP.pow((depths[i] + depths[j]).min(MAX_DEPTH));
            weights[j] = weights[j].max(w);
        }
    }
    weights
}

/// The blocks (indices into `blocks`, whose first pcs are `starts`)
/// reachable from block `from` by the region's branches, plain jumps and
/// fall-throughs, and from a call to its return point (not into the
/// callee); a return or other indirect jump ends a path.
fn reachable(blocks: &[&[GuestInst]], starts: &[u64], from: usize) -> Vec<usize> {
    let mut seen = alloc::vec![false; blocks.len()];
    let mut work = alloc::vec![from];
    let mut out = Vec::new();
    while let Some(i) = work.pop() {
        if core::mem::replace(&mut seen[i], true) {
            continue;
        }
        out.push(i);
        let last = blocks[i][blocks[i].len() - 1];
        let next = last.pc.wrapping_add(last.len as u64);
        let succ = match (last.inst, direct_target(&last)) {
            (Inst::Jalr(_), _) => [None, None],
            (Inst::Jal(u), Some((t, _))) if u.rd == 0 => [Some(t), None],
            (Inst::Jal(_), _) => [Some(next), None],
            (_, Some((t, _))) => [Some(next), Some(t)],
            _ => [Some(next), None],
        };
        for t in succ.into_iter().flatten() {
            if let Ok(j) = starts.binary_search(&t) {
                work.push(j);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::tests::block;

    #[test]
    fn loop_blocks_weigh_more() {
        // 0x1000: addi a0,a0,1 ; 0x1004: bne a0,a1,-4 (to 0x1000)
        // 0x1008: addi a2,a2,1 ; 0x100c: jal x0,+8 (out)
        let body = block(0x1000, &[0x0015_0513, 0xfeb5_1ee3]);
        let after = block(0x1008, &[0x0016_0613, 0x0080_006f]);
        let w = block_weights(&[&body, &after]);
        assert_eq!(w, [PER_LOOP, 1]);
    }

    /// A callee placed after its caller's loop, called from inside the
    /// loop, weighs as much as the loop; its own loop one level more. A
    /// callee called only from outside loops keeps its own weights.
    #[test]
    fn traced_callees_inherit_the_call_sites_loops() {
        // 0x1000: jal ra,+0x100 (call 0x1100) ; 0x1004: bne a0,a1,-4 (loop to 0x1000)
        // 0x1008: jal ra,+0x1f8 (call 0x1200, outside the loop) ; 0x100c: jal x0,+8 (out)
        let caller = block(0x1000, &[0x1000_00ef]);
        let back = block(0x1004, &[0xfeb5_1ee3]);
        let outside = block(0x1008, &[0x1f80_00ef]);
        let after = block(0x100c, &[0x0080_006f]);
        // 0x1100: addi a0,a0,1 ; 0x1104: bne a0,a1,-4 (own loop) ; 0x1108: ret
        let callee = block(0x1100, &[0x0015_0513, 0xfeb5_1ee3]);
        let ret = block(0x1108, &[0x0000_8067]);
        // 0x1200: addi a2,a2,1 ; 0x1204: ret
        let other = block(0x1200, &[0x0016_0613, 0x0000_8067]);
        let w = block_weights(&[&caller, &back, &outside, &after, &callee, &ret, &other]);
        assert_eq!(
            w,
            [PER_LOOP, PER_LOOP, 1, 1, PER_LOOP * PER_LOOP, PER_LOOP, 1]
        );
    }
}
