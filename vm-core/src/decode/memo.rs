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

/// Slots (a power of two), of 20 bytes each: 320 KiB.
pub const SLOTS: usize = 1 << 14;
const _: () = assert!(core::mem::size_of::<Slot>() == 20);

/// One slot: the bits decoded and the result (`len` 0: empty).
#[derive(Clone, Copy, Debug)]
struct Slot {
    bits: u32,
    inst: Inst,
    len: u8,
}

/// The memo (see the module documentation). Per thread: no lock.
#[derive(Debug, Default)]
pub struct Memo {
    /// Empty until the first lookup, so an engine that never runs cold
    /// code pays nothing.
    slots: Vec<Slot>,
}

impl Memo {
    /// [`decode`]`(bits)` for the instruction fetched at `pc`.
    #[inline]
    pub fn decode(&mut self, pc: u64, bits: u32) -> (Inst, u8) {
        if self.slots.is_empty() {
            self.slots = vec![
                Slot {
                    bits: 0,
                    inst: Inst::Illegal(0),
                    len: 0,
                };
                SLOTS
            ];
        }
        let s = &mut self.slots[home_slot(pc, SLOTS)];
        if s.bits == bits && s.len != 0 {
            return (s.inst, s.len);
        }
        let (inst, len) = decode(bits);
        *s = Slot { bits, inst, len };
        (inst, len)
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
        let other = 0x1000 + 2 * SLOTS as u64;
        assert_eq!(home_slot(other, SLOTS), home_slot(0x1000, SLOTS));
        assert_eq!(m.decode(other, addi), decode(addi));
        assert_eq!(m.decode(0x1000, c_addi), decode(c_addi));
        assert_eq!(m.decode(other, 0xffff_ffff), decode(0xffff_ffff));
    }
}
