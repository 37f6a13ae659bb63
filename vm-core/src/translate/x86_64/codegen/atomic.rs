//! A (LR/SC and the AMOs) in translated code, inline on x86-64's locked
//! instructions, with exactly the interpreter's meaning (see
//! `crate::interp`, the `---- A ----` arms), so translated and interpreted
//! threads of one process interoperate:
//! - `amoswap` is `xchg` (a plain `mov` when the old value is not wanted
//!   and it does not acquire: an atomic store, see `Gen::amo`), `amoadd`
//!   is `lock xadd`; `amoand`/`amoor`/
//!   `amoxor` are `lock and/or/xor` when the old value is not wanted
//!   (`rd` = x0), else a `lock cmpxchg` loop; `amomin`/`amomax` (signed
//!   and unsigned) are a `lock cmpxchg` loop with a `cmov`. Each is one
//!   sequentially consistent read-modify-write, like the interpreter's
//!   `SeqCst` atomics;
//! - `lr` is a plain load that records the reservation in
//!   `Cpu::reservation` and the value read in `Ctx::lr_value` (the very
//!   fields the step helper and the interpreter use), and `sc` is a
//!   `lock cmpxchg` against that value when the reservation is its
//!   address, after which the reservation is gone, success or not: the
//!   contract described in `crate::translate`.
//!
//! The fast path needs a naturally aligned address inside the guest
//! memory (with host faults: below `Ctx::mem_limit`; without: a page the
//! page cache allows both reads and writes on). Anything else (a
//! misaligned address, a wild one, a page not in the cache) runs the
//! instruction through the step helper, out of line, which raises the
//! exact fault or does the access. A host fault inside the fast path
//! leaves the guest state precise (nothing is written before the locked
//! access), and the dispatcher runs the faulting atomic through the step
//! helper's executor too, so its fault kind (read when the page is not
//! readable, else write) is the interpreter's, not the host's (x86
//! reports a locked access as a write).

use super::super::encode::{Alu, AsmError, Cond, Label, Mem, Reg, Shift, W};
use super::super::{Ctx, off};
use super::{Cold, Gen, GuestInst, READ, WRITE};
use crate::cpu::Cpu;
use crate::decode::{A, Inst};
use crate::translate::backend::StepInst;
use alloc::vec::Vec;
use core::mem::{MaybeUninit, offset_of};

/// `Cpu::reservation` (relative to `rbp`): an `Option<u64>`, whose tag
/// word (0: `None`, 1: `Some`) is here and the address at
/// [`RES_ADDR`], as the assertion below checks at compile time.
const RES_TAG: i32 = off::cpu(offset_of!(Cpu, reservation));
const RES_ADDR: i32 = RES_TAG + 8;
/// `Ctx::lr_value` (relative to `rbp`).
const LR_VALUE: i32 = off::ctx(offset_of!(Ctx, lr_value));

/// The layout of `Option<u64>` that the generated code writes and reads:
/// a tag word (0 for `None`, 1 for `Some`) then the value. Rust does not
/// promise it, so the build checks it: any other layout stops the build
/// here (a tag narrower than a word would leave uninitialized bytes in
/// `tag`, which constant evaluation rejects too).
const _: () = {
    #[repr(C)]
    struct Raw {
        tag: u64,
        val: MaybeUninit<u64>,
    }
    const V: u64 = 0x1234_5678_9abc_def0;
    // SAFETY: `Option<u64>` and `Raw` are both 16 bytes (`transmute`
    // checks the sizes), and every bit pattern is a valid `Raw` as far as
    // `val` goes; reading `tag` is checked by constant evaluation, which
    // fails on uninitialized bytes.
    let (some, none): (Raw, Raw) = unsafe {
        (
            core::mem::transmute::<Option<u64>, Raw>(Some(V)),
            core::mem::transmute::<Option<u64>, Raw>(None),
        )
    };
    // SAFETY: the `Some` payload is initialized (constant evaluation
    // would reject it otherwise).
    assert!(some.tag == 1 && none.tag == 0 && unsafe { some.val.assume_init() } == V);
};

/// The read-modify-write an AMO does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rmw {
    Swap,
    Add,
    Bits(Alu),
    /// Min or max: the old value stays when `cmp old, v` meets this
    /// condition.
    Keep(Cond),
}

impl Gen {
    /// Emit `gi`, an LR, SC or AMO (see the module documentation).
    pub(super) fn atomic(
        &mut self,
        gi: &GuestInst,
        index: u32,
        steps: &mut Vec<StepInst>,
    ) -> Result<(), AsmError> {
        use Inst::*;
        let (a, d): (A, bool) = match gi.inst {
            LrW(a) | ScW(a) | AmoswapW(a) | AmoaddW(a) | AmoxorW(a) | AmoandW(a) | AmoorW(a)
            | AmominW(a) | AmomaxW(a) | AmominuW(a) | AmomaxuW(a) => (a, false),
            LrD(a) | ScD(a) | AmoswapD(a) | AmoaddD(a) | AmoxorD(a) | AmoandD(a) | AmoorD(a)
            | AmominD(a) | AmomaxD(a) | AmominuD(a) | AmomaxuD(a) => (a, true),
            _ => unreachable!("not an atomic: {:?}", gi.inst),
        };
        let w = if d { W::B64 } else { W::B32 };
        // The out-of-line path: the same instruction through the step
        // helper.
        let step = steps.len() as u64;
        steps.push(StepInst {
            inst: gi.inst,
            len: gi.len,
            pc: gi.pc,
            index,
        });
        let slow = self.a.label();
        let back = self.a.label();
        self.addr(a.rs1, 0);
        self.atomic_probe(if d { 8 } else { 4 }, slow);
        let m = self.guest_mem(Reg::Rsi, 0);
        match gi.inst {
            LrW(_) | LrD(_) => {
                // The load may fault; nothing is written before it.
                self.a.load(w, Reg::Rax, m);
                self.a
                    .store(W::B64, Mem::base(Reg::Rbp, LR_VALUE), Reg::Rax);
                self.a.store_imm(W::B64, Mem::base(Reg::Rbp, RES_TAG), 1);
                self.a
                    .store(W::B64, Mem::base(Reg::Rbp, RES_ADDR), Reg::Rsi);
                self.result(a.rd, d);
            }
            ScW(_) | ScD(_) => {
                let join = self.a.label();
                // rcx: 1 (failure) unless the compare-and-swap succeeds.
                self.a.mov_imm(Reg::Rcx, 1);
                self.a
                    .alu_mi(W::B64, Alu::Cmp, Mem::base(Reg::Rbp, RES_TAG), 1);
                self.a.jcc(Cond::Ne, join);
                self.a
                    .alu_rm(W::B64, Alu::Cmp, Reg::Rsi, Mem::base(Reg::Rbp, RES_ADDR));
                self.a.jcc(Cond::Ne, join);
                let v = self.src(a.rs2, Reg::Rdx);
                self.a.load(w, Reg::Rax, Mem::base(Reg::Rbp, LR_VALUE));
                self.a.lock_cmpxchg(w, m, v);
                self.a.setcc(Cond::Ne, Reg::Rcx);
                self.a.bind(join);
                self.a.store_imm(W::B64, Mem::base(Reg::Rbp, RES_TAG), 0);
                self.put(a.rd, Reg::Rcx);
            }
            _ => {
                let op = match gi.inst {
                    AmoswapW(_) | AmoswapD(_) => Rmw::Swap,
                    AmoaddW(_) | AmoaddD(_) => Rmw::Add,
                    AmoxorW(_) | AmoxorD(_) => Rmw::Bits(Alu::Xor),
                    AmoandW(_) | AmoandD(_) => Rmw::Bits(Alu::And),
                    AmoorW(_) | AmoorD(_) => Rmw::Bits(Alu::Or),
                    AmominW(_) | AmominD(_) => Rmw::Keep(Cond::L),
                    AmomaxW(_) | AmomaxD(_) => Rmw::Keep(Cond::G),
                    AmominuW(_) | AmominuD(_) => Rmw::Keep(Cond::B),
                    _ => Rmw::Keep(Cond::A),
                };
                self.amo(op, w, a, m);
            }
        }
        self.a.bind(back);
        self.cold.push(Cold::StepBack {
            label: slow,
            back,
            gi: *gi,
            index,
            step,
        });
        Ok(())
    }

    /// An AMO's read-modify-write at `m`, the old value to `a.rd`.
    fn amo(&mut self, op: Rmw, w: W, a: A, m: Mem) {
        // Not rax or rcx (scratch below) nor rsi (the address).
        let v = self.src(a.rs2, Reg::Rdx);
        match op {
            // A swap whose old value is dropped and which does not acquire
            // is a single-copy atomic store that orders nothing after it,
            // which is what an aligned x86 `mov` is (TSO keeps it after
            // every earlier access, as `rl` asks). `xchg` would be a full
            // barrier, draining the store buffer: glibc's `free` does one
            // such `amoswap.w zero` per call.
            Rmw::Swap if a.rd == 0 && !a.aq => {
                self.a.store(w, m, v);
                return;
            }
            Rmw::Swap => {
                self.a.mov_rr(W::B64, Reg::Rax, v);
                self.a.xchg_mr(w, m, Reg::Rax);
            }
            Rmw::Add => {
                self.a.mov_rr(W::B64, Reg::Rax, v);
                self.a.lock_xadd(w, m, Reg::Rax);
            }
            Rmw::Bits(alu) if a.rd == 0 => {
                self.a.lock_alu_mr(w, alu, m, v);
                return;
            }
            Rmw::Bits(_) | Rmw::Keep(_) => {
                // rax: the value last seen; the loop ends when memory still
                // held it as the new value went in.
                let again = self.a.label();
                self.a.load(w, Reg::Rax, m);
                self.a.bind(again);
                match op {
                    Rmw::Bits(alu) => {
                        self.a.mov_rr(W::B64, Reg::Rcx, Reg::Rax);
                        self.a.alu_rr(w, alu, Reg::Rcx, v);
                    }
                    Rmw::Keep(c) => {
                        self.a.mov_rr(W::B64, Reg::Rcx, v);
                        self.a.alu_rr(w, Alu::Cmp, Reg::Rax, v);
                        self.a.cmov(w, c, Reg::Rcx, Reg::Rax);
                    }
                    _ => unreachable!(),
                }
                self.a.lock_cmpxchg(w, m, Reg::Rcx);
                self.a.jcc(Cond::Ne, again);
            }
        }
        self.result(a.rd, w == W::B64);
    }

    /// `rd` = the old value in `rax` (sign-extended from 32 bits unless
    /// `d`).
    fn result(&mut self, rd: u8, d: bool) {
        if rd == 0 {
            return;
        }
        if !d {
            self.a.movsxd(Reg::Rax, Reg::Rax);
        }
        self.put(rd, Reg::Rax);
    }

    /// Jump to `slow` unless the atomic access of `size` bytes at guest
    /// address `rsi` may go straight to guest memory: naturally aligned
    /// (so it stays in one page), and inside the guest memory (with host
    /// faults), or in a page the page cache allows reads and writes on.
    /// Clobbers rax and rcx.
    fn atomic_probe(&mut self, size: i32, slow: Label) {
        self.a.test_ri(W::B32, Reg::Rsi, size - 1);
        self.a.jcc(Cond::Ne, slow);
        if self.stubs.host_faults {
            self.cmp_limit(Reg::Rsi);
            self.a.jcc(Cond::A, slow);
            return;
        }
        let a = &mut self.a;
        a.mov_rr(W::B64, Reg::Rax, Reg::Rsi);
        a.shift_ri(W::B64, Shift::Shr, Reg::Rax, 12);
        a.mov_rr(W::B32, Reg::Rcx, Reg::Rax);
        a.alu_ri(
            W::B32,
            Alu::And,
            Reg::Rcx,
            (super::super::TLB_ENTRIES - 1) as i32,
        );
        a.shift_ri(W::B32, Shift::Shl, Reg::Rcx, 4);
        let entry = |disp: i32| Mem {
            base: Reg::Rbp,
            index: Some((Reg::Rcx, 0)),
            disp: off::TLB + disp,
        };
        a.alu_rm(W::B64, Alu::Cmp, Reg::Rax, entry(0));
        a.jcc(Cond::Ne, slow);
        a.load(W::B32, Reg::Rax, entry(8));
        a.alu_ri(W::B32, Alu::And, Reg::Rax, READ | WRITE);
        a.alu_ri(W::B32, Alu::Cmp, Reg::Rax, READ | WRITE);
        a.jcc(Cond::Ne, slow);
    }
}
