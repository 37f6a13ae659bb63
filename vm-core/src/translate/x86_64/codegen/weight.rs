//! How often the register allocator should expect each block of a region
//! to run, relative to the others: a block inside a loop of the region
//! runs many times per entry, one outside runs at most once, so a register
//! used only inside a loop is worth more than one used in the region's
//! prologue or in its exits' restore sequences. Only a heuristic: which
//! registers are cached never changes what the code computes.

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
    blocks
        .iter()
        .map(|b| {
            let pc = b[0].pc;
            let depth = loops
                .iter()
                .filter(|&&(lo, hi)| lo <= pc && pc <= hi)
                .count() as u32;
            PER_LOOP.pow(depth.min(MAX_DEPTH))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;

    fn block(pc: u64, words: &[u32]) -> Vec<GuestInst> {
        words
            .iter()
            .enumerate()
            .map(|(i, &w)| {
                let (inst, len) = decode(w);
                GuestInst {
                    pc: pc + 4 * i as u64,
                    inst,
                    len,
                }
            })
            .collect()
    }

    #[test]
    fn loop_blocks_weigh_more() {
        // 0x1000: addi a0,a0,1 ; 0x1004: bne a0,a1,-4 (to 0x1000)
        // 0x1008: addi a2,a2,1 ; 0x100c: jal x0,+8 (out)
        let body = block(0x1000, &[0x0015_0513, 0xfeb5_1ee3]);
        let after = block(0x1008, &[0x0016_0613, 0x0080_006f]);
        let w = block_weights(&[&body, &after]);
        assert_eq!(w, [PER_LOOP, 1]);
    }
}
