//! Return-address stack: guest calls and returns between regions as host
//! `call` and `ret`, so the host's own return predictor sees them.
//!
//! A direct guest call that leaves its region (`jal` linking `ra` or `t0`,
//! the RISC-V link registers) pushes a *return frame* on the host stack: the guest return pc, then (by a host `call` into the exit to the
//! callee) the host address of the code that continues there, a chainable
//! exit to the return pc right after the call in the caller's translation.
//! A guest return (`jalr x0, 0(ra)` or `0(t0)`) compares its target with
//! the guest pc of the top frame: equal, it is a host `ret 8` into that
//! code, dropping the frame (predicted by the host's return stack buffer,
//! no table probe); else
//! (`longjmp`, an exception's landing pad, a changed `ra`, a call pushed
//! by no frame) it probes the indirect-jump table as any other jump.
//!
//! A match is exact, never a guess: the code a frame names continues at
//! the frame's own guest pc with the guest state in the `Cpu`, whichever
//! call pushed it. The frames live on the host stack below the entry
//! code's frame, whose bottom is a sentinel no return matches (guest pc
//! 1, odd), and every exit to the dispatcher resets `rsp` to the entry
//! frame (`Part::entry_rsp`), dropping them all. So no frame outlives a
//! stay in translated code: flushes, evictions and promotions (which stop
//! every thread outside translated code first), code changes, signals
//! (delivered by the dispatcher) and other threads (a stack each) cannot
//! leave one naming freed code. A call pushes only while `rsp` is above
//! `Part::ras_floor` ([`RAS_DEPTH`] frames); deeper calls exit plainly,
//! and their returns match an older frame or none.
//!
//! The code a frame names is a chainable exit to the return pc, except
//! where the return pc starts a block of the same region offered as a side
//! entry (`entries`): then it is a copy of that entry's stub without its
//! budget check (reload the cached registers, then the block), right
//! after the `call`, falling into the block when that comes next (the
//! call's exit to the callee then goes out of line): no jump on the way
//! back at all. The check is not needed there: a host `ret` comes only from
//! translated code entered, after the frame was pushed, at the callee's
//! translation entry or side entry (the call's exit is a chainable slot;
//! unchained, it goes to the dispatcher, which drops the frame), and each
//! of those checks the budget, so every cycle through the return point
//! still passes a check. Measured (`valgrind --tool=callgrind`, `tree`
//! at depth 15): 0.8% fewer host instructions; the copy in place of a
//! jump to it, 0.8% fewer again.
//!
//! A call pushes its return pc as an immediate (`push imm32`) when it
//! fits, and a return in a region with no return points of its own
//! compares the host register holding the link register with the frame
//! as it is, clearing the target's low bit only on a miss
//! ([`Gen::exit_return_in`]): frames hold even pcs, so an odd link
//! register can match only the sentinel, whose code then leaves for pc
//! `1 & !1` as the miss would. Measured (`tree` at depth 15 under
//! callgrind): 4.471 G to 4.366 G host instructions (-2.4%), four
//! instructions fewer per call and return (`mov`+`push`, the return
//! point's `add rsp`, and the return's `mov`+`and`).
//!
//! Indirect calls (`jalr` linking) push nothing and leave through the
//! indirect-jump probe as before: measured, pushing there made `strings`
//! (`qsort`'s comparison function, `printf`'s internals) 5% slower and
//! nothing faster; their returns then miss the top frame and take the
//! table.

use super::super::encode::{Alu, Cond, Mem, Reg, W};
use super::super::off;
use super::Gen;
use crate::translate::x86_64::encode::AsmError;

/// Most return frames on the host stack (16 bytes each).
pub const RAS_DEPTH: usize = 128;

/// Whether `r` is a link register (a call links it, a return reads it).
pub fn is_link(r: u8) -> bool {
    r == 1 || r == 5
}

impl Gen {
    /// A chainable `jmp rel32` slot to guest `target` with no store-back
    /// and no retire: the guest state is in the `Cpu` and `instret` in
    /// `r14` when control gets here. Chained, it jumps straight to the
    /// translation of `target`; unchained, it leaves through the shared
    /// chain exit. `exit_direct` is this after its store-back and retire.
    pub(super) fn bare_slot(&mut self, target: u64) -> Result<(), AsmError> {
        // The slot's rel32 field must not cross a cache line, or chaining
        // it (one atomic store, see `X86_64::chain`) would be refused and
        // every pass would go through the dispatcher: pad with `nop`s.
        while (self.a.here() + 1) % 64 > 60 {
            self.a.nop();
        }
        let next = self.a.label();
        self.a.jmp(next);
        self.a.bind(next);
        self.a.call_abs(self.stubs.chain_exit)?;
        self.a.data_u64(target);
        self.exits += 1;
        Ok(())
    }

    /// After the store-back and the retire of a call: unless the stack
    /// is full, push guest `ret_pc` and host-`call` the code at `exit`
    /// (which leaves for the callee), and emit the return point the
    /// callee's return lands on (see the module doc); when full, jump to
    /// `exit`. Returns whether the return point falls into the next
    /// block, so that `exit` must be placed out of line.
    fn push_and_call(&mut self, ret_pc: u64, exit: super::Label) -> Result<bool, AsmError> {
        self.a.alu_rm(
            W::B64,
            Alu::Cmp,
            Reg::Rsp,
            Mem::base(Reg::Rbp, off::RAS_FLOOR),
        );
        self.a.jcc(Cond::Be, exit);
        if ret_pc <= i32::MAX as u64 {
            self.a.push_imm(ret_pc as i32);
        } else {
            self.a.mov_imm(Reg::Rcx, ret_pc);
            self.a.push(Reg::Rcx);
        }
        self.a.call_label(exit);
        // The return point: the callee's `ret 8` consumed the host return
        // address and the guest pc; go on at `ret_pc`.
        if self.side_pcs.binary_search(&ret_pc).is_ok() {
            // A block of this region with a side entry: its stub right
            // here, past the budget check (see the module doc), then the
            // block, which is most often the next one. It starts with no
            // count pending (`pending` lets only the way on after a
            // conditional branch carry one; the block before this one
            // ends with the call), and every cached register is loaded
            // (`deadload`'s stretch ends before any jump, so nothing is
            // left unloaded at the call).
            debug_assert!(!self.carries(ret_pc) && self.invalid == 0);
            self.entry_load();
            if self.next_start == Some(ret_pc) {
                return Ok(true);
            }
            self.a.jmp(self.labels[&ret_pc]);
            return Ok(false);
        }
        self.bare_slot(ret_pc)?;
        Ok(false)
    }

    /// A direct call leaving the region: jump to guest `target` after
    /// `retired` instructions, the return pc `ret_pc` pushed.
    pub(super) fn call_direct(
        &mut self,
        target: u64,
        ret_pc: u64,
        retired: u32,
    ) -> Result<(), AsmError> {
        self.write_back();
        self.retire(retired);
        let exit = self.a.label();
        if self.push_and_call(ret_pc, exit)? {
            self.cold.push(super::Cold::Slot {
                label: exit,
                target,
            });
            return Ok(());
        }
        self.a.bind(exit);
        self.bare_slot(target)
    }

    /// A return to the guest pc in `rax` after `retired` instructions: a
    /// host `ret` (dropping the frame) when the top frame is its own, else
    /// the indirect-jump table.
    pub(super) fn exit_return(&mut self, retired: u32) -> Result<(), AsmError> {
        self.write_back();
        self.retire(retired);
        let miss = self.a.label();
        self.a
            .alu_rm(W::B64, Alu::Cmp, Reg::Rax, Mem::base(Reg::Rsp, 8));
        self.a.jcc(Cond::Ne, miss);
        self.a.ret_pop(8);
        self.a.bind(miss);
        self.probe_indirect()
    }

    /// `jalr x0, 0(link)` with the link register in host register `h`
    /// after `retired` instructions, in a region with no return points of
    /// its own: [`Gen::exit_return`] comparing `h` itself with the top
    /// frame, the target's low bit cleared only on a miss. A frame's
    /// guest pc is even, so an odd `h` matches none but the sentinel at
    /// the stack's bottom, whose code goes to pc `h & !1` (0) through the
    /// dispatcher (see `fixed_code`), as the table probe would.
    pub(super) fn exit_return_in(&mut self, h: Reg, retired: u32) -> Result<(), AsmError> {
        self.write_back();
        self.retire(retired);
        let miss = self.a.label();
        self.a.alu_rm(W::B64, Alu::Cmp, h, Mem::base(Reg::Rsp, 8));
        self.a.jcc(Cond::Ne, miss);
        self.a.ret_pop(8);
        self.a.bind(miss);
        self.a.mov_rr(W::B64, Reg::Rax, h);
        self.a.alu_ri(W::B64, Alu::And, Reg::Rax, -2);
        self.probe_indirect()
    }
}
