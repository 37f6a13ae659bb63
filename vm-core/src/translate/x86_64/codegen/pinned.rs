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
//! stack access). `a5` and `a4` are gcc's first scratch registers, live
//! across the short translations of call-heavy code (glibc's `malloc` and
//! `free` test chunk bits in them on both sides of a call or a chained
//! exit). Pinning them too cut `tree` (depth 15) by 2.2% in host
//! instructions under callgrind and `sort` by 1.9%, left the other
//! bench rows within 0.6% and `python3.13 -c pass` at -0.06%; `s0`
//! instead of `a4` cut `tree` as much but cost python 0.4%. Each home is
//! a register a pinned region cannot use for its own, so host
//! instructions alone spoke against a sixth. CPU time did not: `s1`
//! (the first callee-saved register after the frame pointer, which
//! recursive functions keep their argument in across their calls) cut
//! `tree` (depth 18) from 1.726 s to 1.615 s (-6.4%, 13 alternating
//! runs; 1.4% fewer host instructions), python start-up unchanged
//! (62.9 ms both, 20 runs), the other rows within noise; `s0` instead
//! cut `tree` 1-2%, `s2` nothing. On this host (AMD Zen 4) a `Cpu` copy
//! stored and soon loaded again costs little (memory renaming), but a
//! pinned register crosses calls and returns with neither.
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
//! A region whose own registers are worth more than the homes there (by
//! the allocator's weighted use counts, see `allocate` and
//! [`unpin_pays`]: a hot loop, or long straight-line code with many
//! registers live) is *unpinned*: its entry stores the pinned registers to
//! the `Cpu`, it caches what it likes in all of [`super::ALLOC`], and
//! every way out of it (exits, the cold exits to the shared stubs, its
//! host-fault stub) puts them back in their homes from the `Cpu` after
//! its store-back. Such regions keep all eight registers; the few loads
//! and stores are paid once per entry.

use super::super::encode::{Asm, Mem, Reg, W};
use super::super::off;
use super::Gen;

/// Each pinned guest register and its host register (all of them in
/// [`super::ALLOC`]).
pub const PINNED: [(u8, Reg); 6] = [
    (2, Reg::R13),
    (1, Reg::R15),
    (10, Reg::R8),
    (15, Reg::Rbx),
    (14, Reg::R9),
    (9, Reg::R11),
];

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

/// Whether a region should be unpinned: the weighted uses its best
/// unpinned allocation covers (`unpinned`) exceed those of the pinned one
/// (`pinned`) by more than what giving the homes up costs, each block's
/// uses counted as often as its `heat` (see `allocate`). (With the cost
/// counted at the region's highest heat instead, `compress`'s hot loop,
/// whose inner blocks ran cold only a few times, stayed pinned: 3.7% more
/// host instructions there, python start-up 0.3% fewer.) In a region
/// with a loop (a block weighing more than one) that is one loop
/// iteration's worth of the homes' loads and stores; in straight-line
/// code it is [`STRAIGHT_COST`] uses, as each covered use saves about one
/// access to the `Cpu` and the homes cost ten (stored at the entry,
/// loaded at the exit). The second case is long straight-line code with
/// many registers live (an unrolled hash round, a codec's inner block):
/// there the homes hold registers it may never touch.
pub fn unpin_pays(
    weights: &[u32],
    heat: &[u32],
    pinned: u64,
    unpinned: impl FnOnce() -> u64,
) -> bool {
    // One iteration of the heaviest block, and straight-line code's cost
    // at the hottest block's heat.
    let Some(iteration) = weights
        .iter()
        .zip(heat)
        .map(|(&w, &h)| w as u64 * h as u64)
        .max()
    else {
        return false;
    };
    let top = heat.iter().copied().max().unwrap_or(1) as u64;
    unpinned() > pinned + iteration.max(STRAIGHT_COST * top)
}

/// What unpinning straight-line code costs, in covered uses: about the
/// ten accesses of the homes, with a small margin for the stores of the
/// pinned registers at the region's helper calls (set when there were
/// three homes, as twice their six accesses, and kept).
const STRAIGHT_COST: u64 = 12;

/// Whether host register `h` is a pinned register's home.
pub fn is_home(h: Reg) -> bool {
    PINNED.iter().any(|&(_, p)| p == h)
}

/// Load the pinned registers from the `Cpu` (`rbp` set).
pub fn emit_load(a: &mut Asm) {
    for (g, h) in PINNED {
        a.load(W::B64, h, Mem::base(Reg::Rbp, off::x(g)));
    }
}

/// Store the pinned registers to the `Cpu` (`rbp` set).
pub fn emit_store(a: &mut Asm) {
    for (g, h) in PINNED {
        a.store(W::B64, Mem::base(Reg::Rbp, off::x(g)), h);
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
    /// cached registers but those whose loads are dead (see `deadload`;
    /// an unpinned region first stores the pinned ones, its homes being
    /// its own from here on).
    pub(super) fn entry_load(&mut self) {
        if !self.pin {
            emit_store(&mut self.a);
        }
        self.reload_but(!self.pin, self.invalid);
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
    use crate::cpu::{Cpu, Trap};
    use crate::translate::tests::{CODE, DATA, run_fresh, rv};

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

    fn run(code: &[u32], setup: impl FnOnce(&mut Cpu)) -> (Trap, Cpu) {
        let (t, cpu, _) = run_fresh(code, setup);
        (t, cpu)
    }

    /// A loop that writes sp, ra and a0 and keeps eight other registers
    /// busy (so its region is unpinned), until its load reaches an
    /// unmapped page at iteration `fault_at` (or ends at 200 with an
    /// `ecall` when that is past 200): whether it ends by the fault or by
    /// the `ecall`, the `Cpu` holds the values of the last iteration.
    fn busy_loop(fault_at: u64) {
        use rv::*;
        let code = [
            addi(11, 0, 1),        // 0: a1 = 1
            addi(31, 0, 200),      // 4: t6 = 200
            add(12, 12, 11),       // 8: loop: a2 += a1
            add(13, 13, 12),       // a3 += a2
            add(14, 14, 13),       // a4 += a3
            add(15, 15, 14),       // a5 += a4
            add(16, 16, 15),       // a6 += a5
            add(17, 17, 16),       // a7 += a6
            add(5, 5, 17),         // t0 += a7
            add(6, 6, 5),          // t1 += t0
            addi(2, 11, 5),        // sp = a1 + 5
            addi(1, 11, 7),        // ra = a1 + 7
            add(10, 10, 11),       // a0 += a1
            i(0x13, 1, 29, 11, 6), // t4 = a1 << 6
            add(29, 29, 30),       // t4 += t5
            ld(7, 29, 0),          // t2 = [t4]
            addi(11, 11, 1),       // a1 += 1
            bne(11, 31, -60),      // loop while a1 != 200
            ECALL,
        ];
        // t5 + fault_at * 64 is the end of the data page.
        let t5 = (DATA + 0x10000).wrapping_sub(fault_at * 64);
        let (t, cpu) = run(&code, |c| c.x[30] = t5);
        let last = fault_at.min(199);
        let mut want = [0u64; 32];
        for a1 in 1..=last {
            want[12] = want[12].wrapping_add(a1);
            want[13] = want[13].wrapping_add(want[12]);
            want[14] = want[14].wrapping_add(want[13]);
            want[15] = want[15].wrapping_add(want[14]);
            want[16] = want[16].wrapping_add(want[15]);
            want[17] = want[17].wrapping_add(want[16]);
            want[5] = want[5].wrapping_add(want[17]);
            want[6] = want[6].wrapping_add(want[5]);
            want[10] += a1;
        }
        want[2] = last + 5;
        want[1] = last + 7;
        if fault_at < 200 {
            let Trap::MemFault(f) = t else {
                panic!("{t:?}")
            };
            assert!(!f.mapped);
            assert_eq!(cpu.pc, CODE + 60, "at the load");
            want[11] = last;
        } else {
            assert_eq!(t, Trap::Ecall);
            want[11] = 200;
        }
        for r in [1, 2, 5, 6, 10, 11, 12, 13, 14, 15, 16, 17] {
            assert_eq!(cpu.x[r], want[r], "x{r}, fault at {fault_at}");
        }
    }

    #[test]
    fn unpinned_loop_leaves_precise_pinned_registers() {
        // Past the first tier (50 runs), inside the region.
        busy_loop(150);
        // In the first tier.
        busy_loop(20);
        busy_loop(1000);
    }

    /// Straight-line code (pinned) that writes every pinned register,
    /// calls a function in another translation which reads them and
    /// faults: the `Cpu` has the values written, at the faulting
    /// instruction.
    #[test]
    fn pinned_registers_cross_translations_and_faults() {
        use rv::*;
        let code = [
            addi(2, 0, 0x100), // 0: sp = 0x100
            addi(10, 2, 1),    // 4: a0 = sp + 1
            addi(15, 2, 5),    // 8: a5 = sp + 5
            addi(14, 15, 9),   // 12: a4 = a5 + 9
            addi(9, 14, 2),    // 16: s1 = a4 + 2
            jal(1, 8),         // 20: call 28 (ra = 24)
            ECALL,             // 24
            add(11, 10, 2),    // 28: a1 = a0 + sp
            add(12, 1, 11),    // 32: a2 = ra + a1
            add(13, 14, 15),   // 36: a3 = a4 + a5
            add(16, 9, 13),    // 40: a6 = s1 + a3
            addi(15, 15, 3),   // 44: a5 += 3
            addi(9, 9, 4),     // 48: s1 += 4
            ld(6, 0, 0),       // 52: faults (address 0)
            ECALL,
        ];
        let (t, cpu) = run(&code, |_| {});
        assert!(matches!(t, Trap::MemFault(_)), "{t:?}");
        assert_eq!(cpu.pc, CODE + 52);
        assert_eq!((cpu.x[2], cpu.x[10], cpu.x[1]), (0x100, 0x101, CODE + 24));
        assert_eq!((cpu.x[11], cpu.x[12]), (0x201, CODE + 24 + 0x201));
        assert_eq!(
            (cpu.x[14], cpu.x[15], cpu.x[13]),
            (0x10e, 0x108, 0x10e + 0x105)
        );
        assert_eq!((cpu.x[9], cpu.x[16]), (0x114, 0x110 + 0x10e + 0x105));
    }
}
