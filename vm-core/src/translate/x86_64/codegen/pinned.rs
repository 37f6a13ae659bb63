//! Pinned guest registers: a few guest registers that every translation
//! keeps in the same host register, so that going from one translation to
//! another (a chained exit, a call, a return, a hit in the indirect-jump
//! table) neither stores them to the `Cpu` nor loads them again.
//!
//! `sp`, `ra` and `a0` are in nearly every function and cross nearly every
//! call and return (the stack pointer, the link, the first argument and
//! the result): with per-region caching alone, a call-heavy program stores
//! and reloads them at every call and return, and each reload waits for
//! the store just made (store forwarding on the critical path of every
//! stack access).
//!
//! The invariant: while translated code runs, pinned guest register `g`
//! lives in host register `PINNED[g]` and its `Cpu` copy is stale. So
//! * the entry code loads them from the `Cpu` before jumping in, and the
//!   exit code (which every way back to the dispatcher goes through:
//!   chain exit, indirect miss, fault, budget, code change, trap,
//!   promotion) stores them first thing ([`emit_load`], [`emit_store`]);
//! * a region's helper thunks store them with the registers the region
//!   writes and reload them after (a helper may read or write any guest
//!   register), see `Gen::emit_thunks`;
//! * a host fault copies them from the interrupted context like any
//!   cached register (every translation maps them, so `Block::regs`
//!   names them);
//! * a region's entry does not load them and its exits do not store them.
//!
//! A region with a loop whose own registers are worth more than the
//! homes there (by the allocator's weighted use counts, see
//! `allocate`) is *unpinned*: its entry stores the pinned registers to
//! the `Cpu`, it caches what it likes in all of [`super::ALLOC`], and
//! every way out of it (exits, the cold exits to the shared stubs, its
//! host-fault stub) puts them back in their homes from the `Cpu` after
//! its store-back. Hot loops keep all seven registers; the few loads and
//! stores are paid once per entry.

use super::Gen;
use super::super::encode::{Asm, Mem, Reg, W};
use super::super::off;

/// Each pinned guest register and its host register (all of them in
/// [`super::ALLOC`]).
pub const PINNED: [(u8, Reg); 3] = [(2, Reg::R13), (1, Reg::R15), (10, Reg::R8)];

/// The pinned guest registers as a bit set.
pub const MASK: u32 = mask();

const fn mask() -> u32 {
    let mut m = 0;
    let mut i = 0;
    while i < PINNED.len() {
        m |= 1 << PINNED[i].0;
        i += 1;
    }
    m
}

/// Whether a region should be unpinned: it has a loop (a block weighing
/// more than one) and the weighted uses its best unpinned allocation
/// covers (`unpinned`, computed only then) exceed those of the pinned
/// one (`pinned`) by more than one loop iteration's worth of the homes'
/// loads and stores.
pub fn unpin_pays(weights: &[u32], pinned: u64, unpinned: impl FnOnce() -> u64) -> bool {
    let Some(&w) = weights.iter().max() else {
        return false;
    };
    w > 1 && unpinned() > pinned + w as u64
}

/// Whether host register `h` is a pinned register's home.
pub fn is_home(h: Reg) -> bool {
    PINNED.iter().any(|&(_, p)| p == h)
}

/// Load the pinned registers from the `Cpu` (`rbx` set).
pub fn emit_load(a: &mut Asm) {
    for (g, h) in PINNED {
        a.load(W::B64, h, Mem::base(Reg::Rbx, off::x(g)));
    }
}

/// Store the pinned registers to the `Cpu` (`rbx` set).
pub fn emit_store(a: &mut Asm) {
    for (g, h) in PINNED {
        a.store(W::B64, Mem::base(Reg::Rbx, off::x(g)), h);
    }
}

impl Gen {
    /// The cached registers an exit stores back: all the region wrote,
    /// but the pinned ones when they stay in their homes.
    pub(super) fn exit_mask(&self) -> u32 {
        if self.pin { !MASK } else { u32::MAX }
    }

    /// What a helper thunk stores besides what the region writes: the
    /// pinned registers, whose `Cpu` copies are stale while in their
    /// homes.
    pub(super) fn thunk_mask(&self) -> u32 {
        if self.pin { MASK } else { 0 }
    }

    /// At the region's entry, after the first-tier counter: load the
    /// cached registers (an unpinned region first stores the pinned
    /// ones, its homes being its own from here on).
    pub(super) fn entry_load(&mut self) {
        if !self.pin {
            emit_store(&mut self.a);
        }
        self.reload(!self.pin);
    }

    /// On every way out of an unpinned region, after its store-back: the
    /// pinned registers back in their homes (nothing for a pinned one).
    pub(super) fn restore_homes(&mut self) {
        if !self.pin {
            emit_load(&mut self.a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every home is an allocatable register, used once, and no pinned
    /// guest register is x0.
    #[test]
    fn homes_are_distinct_allocatable_registers() {
        for (i, &(g, h)) in PINNED.iter().enumerate() {
            assert_ne!(g, 0);
            assert!(super::super::ALLOC.contains(&h));
            assert!(PINNED[i + 1..].iter().all(|&(g2, h2)| g2 != g && h2 != h));
        }
        assert_eq!(MASK.count_ones() as usize, PINNED.len());
    }
}
