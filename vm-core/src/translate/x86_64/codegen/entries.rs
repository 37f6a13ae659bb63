//! Side entries: which blocks of a region other code may enter directly
//! (not only at the region's entry), and the stub that enters there.
//!
//! Under staged emulation a region copies the code it reaches, so code
//! reached from several places (a return point, the rest of a function
//! after a branch another region leaves by) would be translated again and
//! again, once per region that starts above it. A side entry lets the
//! dispatcher (`cache::CodeCache::translation`), a chained exit and the
//! indirect-jump table enter an existing region at such a block instead.
//!
//! The rule, which makes a side entry exact by construction: an entry is
//! offered only at the start of one of the region's blocks, and the stub
//! there establishes the state the region's own entry establishes, so
//! that nothing the block's code assumes depends on the way in.
//!
//! 1. Host registers: the stub runs `Gen::entry_load`, the code the
//!    region's own entry runs (cached guest and F/D registers loaded from
//!    the `Cpu`; the pinned ones found in their homes, or, in an unpinned
//!    region, stored to the `Cpu` so that every way out puts them back).
//!    Exits store back F/D registers by the region's whole write set, not
//!    by path, so that holds whatever the way in.
//! 2. Nothing the code generator knows is carried into a block start,
//!    where paths join: bounds a base was checked against (`bounds`'s
//!    `Known`, reset at every block), NaN boxes, pending NaN checks,
//!    the quiet-compare mark (`qpend`: unknown at a block start, looked at
//!    at run time, cleared by every way out, so clear at every way in),
//!    a quotient/remainder or product pair (found within one block).
//!    The divisor cache (`divcache`) is per-thread data, valid whichever
//!    code filled it. The one thing a block may assume at its start, the
//!    base registers `nearin` gives it, the stub compares as every edge
//!    into the block does (a wild one leaves with `exit::WILD`).
//! 3. What is computed by a flow over the region from its entry starts
//!    from every offered entry too, or the block is not offered:
//!    * the registers an exit stores back (`dirty::dirty_at_start`): the
//!      flow is seeded with every entry. (Seeding only the region's entry
//!      lost writes: a block after the return point of a call into a
//!      callee that leaves the region with a tail jump is never reached
//!      from the entry inside the region, so a block it jumps to, reached
//!      from the entry, stored back only what the entry's paths wrote;
//!      entered at that return point, the region dropped the writes made
//!      before the jump. That made the guest `bench_oop` loop forever.)
//!    * `frm` known at a block start (`frm::known_at_start`): such blocks
//!      are not offered;
//!    * a count of retired instructions pending at the block's start
//!      (`pending`): the stub subtracts it from `r14`, as if the block
//!      were entered along the one edge that hands it over;
//!    * budget checks, placed at the entry and loop heads so that every
//!      cycle inside the region passes one: the stub checks the budget
//!      itself (a cycle of indirect-table hits into side entries could
//!      otherwise run without ever coming back to the dispatcher).
//! 4. Not offered: the region's own entry; first-tier (counted) blocks
//!    (only a region replaces them).
//! 5. A side entry that is also the return point of a call leaving the
//!    region gets a second stub, the same without the budget check, which
//!    that call's host `ret` jumps to (see `ras`).

use super::super::encode::{Alu, Cond, Mem, Reg, W};
use super::super::off;
use super::{Cold, Gen};
use crate::translate::backend::GuestInst;
use alloc::vec::Vec;

/// The pcs of the blocks of a region entered at `entry` that may also be
/// entered from outside, in address order (see the module comment):
/// `frm_known` are the blocks starting with `frm` known.
pub(super) fn choose(blocks: &[&[GuestInst]], entry: u64, frm_known: &[u64]) -> Vec<u64> {
    // (Room for all at once: collected from a filter, the list grew.)
    let mut pcs = Vec::with_capacity(blocks.len());
    pcs.extend(
        blocks
            .iter()
            .map(|b| b[0].pc)
            .filter(|&pc| pc != entry && frm_known.binary_search(&pc).is_err()),
    );
    pcs
}

impl Gen {
    /// The stubs of the side entries at `pcs` (blocks of the region, see
    /// [`choose`]), each with its offset from the translation's start:
    /// the region's entry code, a budget check, a jump to the block.
    pub(super) fn emit_side_entries(
        &mut self,
        blocks: &[&[GuestInst]],
        pcs: &[u64],
    ) -> Vec<(u64, u32)> {
        let mut entries = Vec::with_capacity(pcs.len());
        for &pc in pcs {
            let i = blocks
                .binary_search_by_key(&pc, |b| b[0].pc)
                .expect("a side entry starts a block");
            entries.push((pc, self.a.pos() as u32));
            self.entry_load();
            let budget = self.a.label();
            self.a.alu_rm(
                W::B64,
                Alu::Cmp,
                Reg::R14,
                Mem::base(Reg::Rbp, off::INSTRET_LIMIT),
            );
            self.a.jcc(Cond::Ae, budget);
            // Nothing written yet: only the pinned-home restore (none in a
            // pinned region) and the exit.
            self.cold.push(Cold::Budget {
                label: budget,
                gi: blocks[i][0],
                dirty: 0,
            });
            // The bases the block assumes near the space (see `nearin`).
            self.near_edge(pc, Some(()));
            // The block may start with instructions pending (see
            // `pending`): `r14` here counts them already.
            if let Some(&(_, n)) = self.carry_in.iter().find(|&&(p, _)| p == pc) {
                self.a.alu_ri(W::B64, Alu::Sub, Reg::R14, n as i32);
            }
            let l = self.labels[&pc];
            self.a.jmp(l);
        }
        entries
    }
}

#[cfg(test)]
mod tests {
    use crate::cpu::{Cpu, Trap};
    use crate::process::Engine;
    use crate::testhost::TestHost;
    use crate::translate::Jit;
    use crate::translate::tests::{CODE, guest, rv};
    use alloc::vec::Vec;

    /// `E` calls `CALLEE`, which leaves with a tail jump to `OUT` (out of
    /// the region's window), so the region made at `E` holds the return
    /// point `B` without reaching it from `E`. `OUT` alternates between
    /// jumping to `E` and to `B`, which, once `E`'s region exists, is
    /// entered there (a side entry): `B` adds 5 to `s2` and calls
    /// `CALLEE` again, whose exit must store `s2` back. (With the
    /// write-back flow seeded only at `E`, it did not: `s2` ended at 10,
    /// the two runs of `B` interpreted while cold.)
    #[test]
    fn side_entry_stores_what_its_path_wrote() {
        use rv::*;
        let out = 0x2000i32;
        let mut code: Vec<u32> = alloc::vec![0x13; out as usize / 4 + 7];
        let mut put = |at: i32, w: u32| code[at as usize / 4] = w;
        put(0x00, addi(10, 10, 1)); // E: a0 += 1
        put(0x04, jal(1, 0x14 - 0x04)); // call CALLEE
        put(0x08, addi(18, 18, 5)); // B: s2 += 5
        put(0x0c, jal(1, 0x14 - 0x0c)); // call CALLEE
        put(0x10, ECALL); // (never reached)
        put(0x14, jal(0, out - 0x14)); // CALLEE: tail jump to OUT
        put(out, i(0x13, 4, 5, 5, 1)); // OUT: t0 ^= 1
        put(out + 4, bne(5, 0, 0x10)); // to B when t0 is 1
        put(out + 8, addi(19, 19, -1)); // s3 -= 1
        put(out + 12, bne(19, 0, 0xc)); // to E while s3 != 0
        put(out + 16, ECALL);
        put(out + 20, jal(0, 0x08 - (out + 20))); // j B
        put(out + 24, jal(0, -(out + 24))); // j E
        let mem = guest(&code);
        let j = Jit::new(TestHost::leak(), 1 << 20).unwrap();
        j.set_cold_runs(2);
        let mut j = j;
        let mut cpu = Cpu {
            pc: CODE,
            ..Cpu::default()
        };
        cpu.x[19] = 40;
        let trap = loop {
            match j.run(&mut cpu, &mem) {
                Trap::Budget => continue,
                t => break t,
            }
        };
        assert_eq!(trap, Trap::Ecall);
        assert_eq!(cpu.pc, CODE + out as u64 + 16);
        assert_eq!((cpu.x[10], cpu.x[18]), (40, 200), "{:?}", j.stats());
        let c = j.counters();
        assert!(c.side_entries > 0 && c.side_entered > 0, "{c:?}");
    }
}
