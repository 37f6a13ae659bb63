//! Unsigned division by a repeated divisor with a multiply.
//!
//! x86's `div` is the slowest integer instruction left in translated
//! code (tens of cycles, and one divider per core), and guest code often
//! divides by the same value over and over: a loop-invariant divisor the
//! compiler could not see as a constant, or the normalised divisor of a
//! multi-word division (`__umodti3`'s two `divu`s per call). Each thread's
//! `Ctx` keeps a small table of divisors with their reciprocals
//! ([`DivSlot`]); an unsigned division site looks in one slot (chosen by
//! its pc) and, when the divisor is the slot's, computes the quotient as
//! Granlund and Montgomery do ("Division by invariant integers using
//! multiplication", 1994, figure 4.1, N = 64), exact for every dividend:
//!
//! ```text
//!   l = ceil(log2 d), m = floor(2^64 (2^l - d) / d) + 1     (d >= 2)
//!   t = (m * n) >> 64
//!   q = (t + ((n - t) >> 1)) >> (l - 1)
//!   r = n - q * d
//! ```
//!
//! A miss runs the hardware `div`; a divisor that misses twice in a row
//! at the slot becomes its divisor (one more `div` computes `m`), so a
//! site whose divisor changes every time pays one compare and one store
//! beyond the division, not a second division. Divisors 0 (RISC-V's
//! defined results, out of line) and 1 never use the table. The 32-bit
//! forms divide the zero-extended low words the same way (their results
//! fit in 32 bits and are sign-extended by the caller).
//!
//! A slot is only read and written by the thread's own translated code,
//! and its fields change only in the fill, which writes `d` last (a
//! single thread: nothing can see a half-written slot); a slot's `d`,
//! `m` and `shift` always belong together, whichever site filled it.

use super::super::encode::{Alu, Cond, Label, Mem, Reg, Shift, Unary, W};
use super::super::{DIV_SLOTS, DivSlot, off};
use super::{Cold, Gen};
use crate::cache::SideEntry;
use core::mem::{offset_of, size_of};

/// The out-of-line part of one cached division.
pub(super) struct ColdDiv {
    /// Divisor 0.
    zero: Label,
    /// Divisor not the slot's.
    miss: Label,
    /// Where both paths continue (quotient in rax, remainder in rdx).
    done: Label,
    /// Offset of the slot from `rbp`.
    slot: i32,
    /// The division's width (a 32-bit `div` is the faster one).
    w: W,
    /// Side entry of the division (for samples in the cold code).
    side: SideEntry,
}

/// Field `field` (a byte offset within [`DivSlot`]) of the slot at `slot`.
fn at(slot: i32, field: usize) -> Mem {
    Mem::base(Reg::Rbp, slot + field as i32)
}

/// The slot of the division at guest `pc`.
fn slot_of(pc: u64) -> i32 {
    let i = (pc >> 1) as usize & (DIV_SLOTS - 1);
    off::DIV_CACHE + (i * size_of::<DivSlot>()) as i32
}

impl Gen {
    /// Unsigned division of rax by rcx in width `w`, through the slot of
    /// the instruction being emitted: quotient in rax and, if `rem`, the
    /// remainder in rdx (for a 32-bit division, zero-extended; divisor 0:
    /// all ones and the dividend). Clobbers rcx and rsi.
    pub(super) fn udiv_cached(&mut self, w: W, rem: bool) {
        let side = *self.side.last().expect("a division has a side entry");
        let slot = slot_of(side.guest_pc);
        let a = &mut self.a;
        if w == W::B32 {
            a.mov_rr(W::B32, Reg::Rax, Reg::Rax);
            a.mov_rr(W::B32, Reg::Rcx, Reg::Rcx);
        }
        let (zero, miss, done) = (a.label(), a.label(), a.label());
        a.test_rr(W::B64, Reg::Rcx, Reg::Rcx);
        a.jcc(Cond::E, zero);
        a.alu_rm(W::B64, Alu::Cmp, Reg::Rcx, at(slot, offset_of!(DivSlot, d)));
        a.jcc(Cond::Ne, miss);
        // t = (m * n) >> 64, with n kept in rsi.
        a.mov_rr(W::B64, Reg::Rsi, Reg::Rax);
        a.load(W::B64, Reg::Rax, at(slot, offset_of!(DivSlot, m)));
        a.unary(W::B64, Unary::Mul, Reg::Rsi);
        // q = (t + ((n - t) >> 1)) >> (l - 1)
        a.mov_rr(W::B64, Reg::Rax, Reg::Rsi);
        a.alu_rr(W::B64, Alu::Sub, Reg::Rax, Reg::Rdx);
        a.shift_ri(W::B64, Shift::Shr, Reg::Rax, 1);
        a.alu_rr(W::B64, Alu::Add, Reg::Rax, Reg::Rdx);
        a.load(W::B64, Reg::Rcx, at(slot, offset_of!(DivSlot, shift)));
        a.shift_rcl(W::B64, Shift::Shr, Reg::Rax);
        if rem {
            // r = n - q * d
            a.load(W::B64, Reg::Rdx, at(slot, offset_of!(DivSlot, d)));
            a.imul_rr(W::B64, Reg::Rdx, Reg::Rax);
            a.unary(W::B64, Unary::Neg, Reg::Rdx);
            a.alu_rr(W::B64, Alu::Add, Reg::Rdx, Reg::Rsi);
        }
        a.bind(done);
        self.cold.push(Cold::Div(ColdDiv {
            zero,
            miss,
            done,
            slot,
            w,
            side,
        }));
    }

    /// The out-of-line code of [`Gen::udiv_cached`]: divisor 0, and the
    /// hardware division of a miss, which may fill the slot.
    pub(super) fn emit_cold_div(&mut self, c: ColdDiv) {
        let pos = self.a.pos() as u32;
        self.side.push(SideEntry {
            host_off: pos,
            ..c.side
        });
        let slot = c.slot;
        let a = &mut self.a;
        a.bind(c.zero);
        a.mov_rr(W::B64, Reg::Rdx, Reg::Rax);
        a.mov_imm(Reg::Rax, u64::MAX);
        a.jmp(c.done);
        a.bind(c.miss);
        // The operands of a 32-bit division are zero-extended: either
        // width gives the same results.
        a.mov_imm(Reg::Rdx, 0);
        a.unary(c.w, Unary::Div, Reg::Rcx);
        let fill = a.label();
        a.alu_rm(
            W::B64,
            Alu::Cmp,
            Reg::Rcx,
            at(slot, offset_of!(DivSlot, cand)),
        );
        a.jcc(Cond::E, fill);
        a.store(W::B64, at(slot, offset_of!(DivSlot, cand)), Reg::Rcx);
        a.jmp(c.done);
        a.bind(fill);
        // The same divisor twice: make it the slot's (not 1: `l - 1`
        // would be -1).
        a.alu_ri(W::B64, Alu::Cmp, Reg::Rcx, 1);
        a.jcc(Cond::E, c.done);
        let tmp = offset_of!(DivSlot, tmp);
        a.store(W::B64, at(slot, tmp), Reg::Rax);
        a.store(W::B64, at(slot, tmp + 8), Reg::Rdx);
        a.mov_rr(W::B64, Reg::Rsi, Reg::Rcx);
        // l - 1 = floor(log2(d - 1)) for d >= 2.
        a.lea(W::B64, Reg::Rcx, Mem::base(Reg::Rsi, -1));
        a.bsr(W::B64, Reg::Rcx, Reg::Rcx);
        a.store(W::B64, at(slot, offset_of!(DivSlot, shift)), Reg::Rcx);
        // rdx = 2^l - d (mod 2^64: 2 << 63 is 0 when l = 64), below d,
        // so the 128-by-64 division of rdx:0 by d cannot overflow.
        a.mov_imm(Reg::Rdx, 2);
        a.shift_rcl(W::B64, Shift::Shl, Reg::Rdx);
        a.alu_rr(W::B64, Alu::Sub, Reg::Rdx, Reg::Rsi);
        a.mov_imm(Reg::Rax, 0);
        a.unary(W::B64, Unary::Div, Reg::Rsi);
        a.alu_ri(W::B64, Alu::Add, Reg::Rax, 1);
        a.store(W::B64, at(slot, offset_of!(DivSlot, m)), Reg::Rax);
        a.store(W::B64, at(slot, offset_of!(DivSlot, d)), Reg::Rsi);
        a.mov_rr(W::B64, Reg::Rcx, Reg::Rsi);
        a.load(W::B64, Reg::Rax, at(slot, tmp));
        a.load(W::B64, Reg::Rdx, at(slot, tmp + 8));
        a.jmp(c.done);
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    /// The slot's arithmetic as the generated code does it.
    fn magic(d: u64) -> (u64, u32) {
        let shift = 63 - (d - 1).leading_zeros();
        let hi = 2u64.wrapping_shl(shift).wrapping_sub(d);
        let m = ((hi as u128) << 64) / d as u128;
        (m as u64 + 1, shift)
    }

    fn quotient(n: u64, d: u64) -> u64 {
        let (m, shift) = magic(d);
        let t = ((m as u128 * n as u128) >> 64) as u64;
        (t + ((n - t) >> 1)) >> shift
    }

    #[test]
    fn reciprocal_quotients_are_exact() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut ds = vec![2, 3, 5, 6, 7, 10, 641, u64::MAX, u64::MAX - 1, 1 << 63];
        ds.extend((1..64).map(|k| 1u64 << k));
        ds.extend((1..64).map(|k| (1u64 << k) + 1));
        ds.extend((2..64).map(|k| (1u64 << k) - 1));
        ds.extend((0..2000).map(|i| next() >> (i % 64)).filter(|&d| d >= 2));
        for d in ds {
            let mut ns = vec![
                0,
                1,
                d - 1,
                d,
                d.wrapping_add(1),
                u64::MAX,
                u64::MAX - 1,
                u64::MAX / d * d,
            ];
            ns.extend((0..200).map(|i| next() >> (i % 64)));
            for n in ns {
                assert_eq!(quotient(n, d), n / d, "{n} / {d}");
            }
        }
    }
}
