//! A memo of [`decode`] for engines that fetch and decode the same code
//! again and again: the translator's dispatcher interprets each block of
//! cold code its first runs (staged emulation, `crate::translate`),
//! fetching every instruction each time, and decoding was a fifth of
//! that work.
//!
//! A direct-mapped table, one slot per instruction address (placed as the
//! profile's per-block tables are, [`crate::profile::home_slot`], so the
//! instructions of a block share cache lines), holding the bits last
//! decoded there and what they decoded to. A lookup is given the bits
//! just fetched and answers from the slot only when they are the same
//! bits: decoding is a pure function of them, so the answer is exact
//! whatever happened to the code meanwhile, and the memo needs no
//! invalidation (code that changed simply misses). An earlier try kept
//! decoded blocks by pc instead, without the bits, and had to
//! write-protect their pages and drop them on every code change (a
//! dynamic linker's `mprotect`s included): it cost more than it saved
//! (see [`crate::translate::cold`]).

use super::{Inst, decode};
use crate::profile::home_slot;
use alloc::vec;
use alloc::vec::Vec;

/// Slots at first (a power of two, 16 bytes each): a short program's
/// cold code touches only a few pages of memo (each a page fault).
pub const MIN_SLOTS: usize = 1 << 10;
/// Slots at most: 256 KiB.
pub const MAX_SLOTS: usize = 1 << 14;

/// One slot: the bits decoded and the result. The length follows from
/// the bits; bits 0 (the all-zero parcel, illegal) mark an empty slot
/// and are never kept.
#[derive(Clone, Copy, Debug)]
struct Slot {
    bits: u32,
    inst: Inst,
}

const _: () = assert!(core::mem::size_of::<Slot>() == 16);

const EMPTY: Slot = Slot {
    bits: 0,
    inst: Inst::Illegal(0),
};

/// The memo (see the module documentation). Per thread: no lock.
#[derive(Debug, Default)]
pub struct Memo {
    /// Empty until the first lookup, so an engine that never runs cold
    /// code pays nothing; doubled (and emptied) each time it has missed
    /// twice as often as it has slots, up to [`MAX_SLOTS`].
    slots: Vec<Slot>,
    misses: usize,
}

impl Memo {
    /// [`decode`]`(bits)` for the instruction fetched at `pc`.
    #[inline]
    pub fn decode(&mut self, pc: u64, bits: u32) -> (Inst, u8) {
        if self.slots.is_empty() {
            self.grow();
        }
        let n = self.slots.len();
        let i = home_slot(pc, n);
        let s = self.slots[i];
        if s.bits == bits && bits != 0 {
            return (s.inst, if bits & 3 == 3 { 4 } else { 2 });
        }
        let (inst, len) = decode(bits);
        if bits != 0 {
            self.slots[i] = Slot { bits, inst };
        }
        self.misses += 1;
        if self.misses > 2 * n && n < MAX_SLOTS {
            self.grow();
        }
        (inst, len)
    }

    /// Double the slots (at least [`MIN_SLOTS`]), emptied.
    #[cold]
    fn grow(&mut self) {
        self.slots = vec![EMPTY; (2 * self.slots.len()).max(MIN_SLOTS)];
        self.misses = 0;
    }

    /// Slots held now.
    pub fn slots(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_what_decode_does_for_the_bits_given() {
        let mut m = Memo::default();
        let addi = 0x0015_0513; // addi a0, a0, 1
        let c_addi = 0x0505; // c.addi a0, 1
        assert_eq!(m.decode(0x1000, addi), decode(addi));
        assert_eq!(m.decode(0x1000, addi), decode(addi));
        // The code at the same pc changed: the new bits are decoded.
        assert_eq!(m.decode(0x1000, c_addi), decode(c_addi));
        assert_eq!(m.decode(0x1000, 0), decode(0), "the empty slot's bits");
        // Two pcs sharing a slot take turns.
        let n = m.slots();
        let other = 0x1000 + 2 * n as u64;
        assert_eq!(home_slot(other, n), home_slot(0x1000, n));
        assert_eq!(m.decode(other, addi), decode(addi));
        assert_eq!(m.decode(0x1000, c_addi), decode(c_addi));
        assert_eq!(m.decode(other, 0xffff_ffff), decode(0xffff_ffff));
    }

    #[test]
    fn grows_with_misses_up_to_its_bound() {
        let mut m = Memo::default();
        assert_eq!(m.slots(), 0);
        let addi = 0x0015_0513;
        m.decode(0x1000, addi);
        assert_eq!(m.slots(), MIN_SLOTS);
        for i in 0..64 * MAX_SLOTS as u64 {
            let bits = addi | ((i as u32 & 0xfff) << 20);
            assert_eq!(m.decode(0x10_0000 + 4 * i, bits), decode(bits));
        }
        assert_eq!(m.slots(), MAX_SLOTS);
    }
}
