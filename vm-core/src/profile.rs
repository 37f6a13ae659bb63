//! The profile database: what the translator has seen the guest run, and
//! when a piece of code is hot enough to deserve a region.
//!
//! Translation is two-tier (see [`crate::translate`]). The first time the
//! dispatcher reaches a guest pc it translates just the basic block there,
//! with a counter prologue: the block's execution counter (a slot of
//! [`Profile::counters`], decremented by the translated code itself) runs
//! out after [`HOT`] executions, and the block then exits to the
//! dispatcher, which translates a *region* at that pc. Region formation
//! follows only successors the profile has seen run ([`Profile::seen`]):
//! paths never taken stay exits, so regions hold the code that matters
//! and no translation time or cache space goes to cold paths.
//!
//! The counters live in one fixed allocation whose address translated
//! code reaches through the context block; slots are handed out until
//! they run out, after which new code is translated as regions directly
//! (as it also is in caches too small for two tiers). Seen pcs outlive
//! cache flushes: they describe the program, not the cache.
//!
//! Before all that, code starts cold (staged emulation): the first
//! [`crate::translate::SharedCode`]'s `cold_runs` times the dispatcher
//! reaches a block, it interprets it instead of translating it
//! ([`Profile::run_cold`] counts), so code that runs only a few times
//! (start-up code, most of a dynamic linker's and an interpreter's
//! initialisation) never costs a translation or cache space. Those counts
//! survive flushes too.
//!
//! And after it: code whose translation the cache manager evicted (or a
//! flush for room dropped) is not translated again at once when it is
//! next reached, but interpreted for a while, the wait doubling with
//! each loss ([`Profile::back_off`]), so a working set larger than the
//! code cache, run in a cycle, settles into mostly interpreted cold code
//! and a cache of code that stays, instead of translating every block on
//! every pass (measured with a 64 KiB cache: perl's split and hash loop
//! made 30.9 million translations, 113 s of translating, before; 6,815
//! after). Losses to guest code changes do not count.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use hashbrown::{HashMap, HashSet};

/// Executions of a first-tier block before its region is translated.
pub const HOT: i32 = 50;
/// Counter slots (first-tier blocks alive at once).
pub const SLOTS: usize = 1 << 16;

/// Most cold runs counted per block (a count is one byte).
pub const MAX_COLD: u32 = 255;

/// The first slot to probe for block start `pc` in an open-addressing
/// table of `n` slots (a power of two): the pc's halfword index within its
/// 64 KiB, offset by a hash of which 64 KiB it is in, so the blocks of a
/// function land in nearby slots (see [`ColdCounts`]; other per-block
/// tables use it too).
pub(crate) fn home_slot(pc: u64, n: usize) -> usize {
    let chunk = (pc >> 16).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
    ((pc >> 1).wrapping_add(chunk) as usize) & (n - 1)
}

/// Cold runs per block start pc: an open-addressing table of one word per
/// block, `pc << 8 | count` (0: empty; bit 8, where an even pc has a 0,
/// marks a block done with cold runs), probed linearly from a slot that
/// keeps nearby pcs in nearby slots (the pc's halfword index within its
/// 64 KiB, offset by a hash of which 64 KiB it is in). The dispatcher asks
/// it at every dispatch while code starts; a general hash map put each
/// block's count in a cache line of its own, where here the blocks of one
/// function share a few lines, so interpreting a function's blocks in turn
/// touches little memory (measured: the map's probe was 9% of
/// `python3.13 -c pass`'s CPU time).
#[derive(Debug)]
struct ColdCounts {
    slots: Vec<u64>,
    len: usize,
}

impl ColdCounts {
    /// Pcs at or above this are not counted (no guest code lives there;
    /// the top byte of a slot holds the count).
    const PC_LIMIT: u64 = 1 << 56;
    /// A slot's mark that its block is done with cold runs (see
    /// [`Profile::end_cold`]): the bit a pc's bit 0 takes, free because
    /// block starts are even.
    const DONE: u64 = 1 << 8;

    fn new() -> ColdCounts {
        ColdCounts {
            slots: Vec::new(),
            len: 0,
        }
    }

    /// First slot to probe for `pc` in a table of `n` (a power of two).
    fn home(pc: u64, n: usize) -> usize {
        home_slot(pc, n)
    }

    /// The slot holding `pc`, or the empty slot where it would go.
    fn find(&self, pc: u64) -> usize {
        let n = self.slots.len();
        let mut i = Self::home(pc, n);
        loop {
            let s = self.slots[i];
            if s == 0 || (s & !Self::DONE) >> 8 == pc {
                return i;
            }
            i = (i + 1) & (n - 1);
        }
    }

    /// Runs counted for the block at `pc`, if it ran cold at all.
    fn count(&self, pc: u64) -> Option<u8> {
        if self.len == 0 || pc >= Self::PC_LIMIT {
            return None;
        }
        match self.slots[self.find(pc)] {
            0 => None,
            s => Some(s as u8),
        }
    }

    /// Count one more run of `pc` if fewer than `limit` (at least 1) were
    /// counted; says whether it did.
    fn bump(&mut self, pc: u64, limit: u8) -> bool {
        // (An odd pc, which only a guest's signal frame or handler
        // address can produce, is not counted: its bit 0 is the mark.)
        if pc >= Self::PC_LIMIT || pc & 1 != 0 {
            return false;
        }
        // At most half full, so probes stay short and one is always empty.
        if 2 * (self.len + 1) > self.slots.len() {
            self.grow();
        }
        let i = self.find(pc);
        let s = self.slots[i];
        if s == 0 {
            self.slots[i] = pc << 8 | 1;
            self.len += 1;
            return true;
        }
        if (s as u8) >= limit || s & Self::DONE != 0 {
            return false;
        }
        self.slots[i] = s + 1;
        true
    }

    /// Four times the slots (at least 1024), the counts moved over. Each
    /// growth rehashes everything into a fresh table, whose pages fault in
    /// anew: growing fourfold instead of twofold skips every other size
    /// (measured on `python3.13 -c pass`, 30,000 blocks: 129 fewer page
    /// faults, 2.0 M fewer host instructions under callgrind).
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let n = (self.slots.len() * 4).max(1024);
        let old = core::mem::replace(&mut self.slots, vec![0; n]);
        for s in old.into_iter().filter(|&s| s != 0) {
            let i = self.find((s & !Self::DONE) >> 8);
            self.slots[i] = s;
        }
    }

    /// Mark the block at `pc`, if counted, done with cold runs.
    fn done(&mut self, pc: u64) {
        if self.len == 0 || pc >= Self::PC_LIMIT || pc & 1 != 0 {
            return;
        }
        let i = self.find(pc);
        if self.slots[i] != 0 {
            self.slots[i] |= Self::DONE;
        }
    }

    /// Every counted pc and its count.
    fn iter(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.slots
            .iter()
            .filter(|&&s| s != 0)
            .map(|&s| ((s & !Self::DONE) >> 8, s as u8 as u32))
    }
}

/// Execution profile of one guest thread's code.
#[derive(Debug)]
pub struct Profile {
    /// Countdown per first-tier block: translated code decrements its own
    /// slot at each entry and leaves for promotion when it goes negative.
    counters: Box<[i32]>,
    /// Slots in use since the last [`Profile::reset_slots`].
    used: usize,
    /// Guest pcs of blocks that have run.
    seen: HashSet<u64>,
    /// Regions made from hot first-tier blocks.
    pub promotions: u64,
    /// Times each block was interpreted while cold.
    cold: ColdCounts,
    /// Cold block executions (interpreted by the dispatcher).
    pub cold_runs: u64,
    /// What was translated at each guest pc, to count retranslations and
    /// back off from them.
    translated: HashMap<u64, Made>,
    /// Translations of a pc and kind made before (the earlier one was
    /// flushed): the work a cache manager costs.
    pub retranslations: u64,
    /// Dispatches of code whose translation was evicted or flushed that
    /// were interpreted instead of translating it again (see
    /// [`Profile::back_off`]).
    pub backoff_runs: u64,
    /// Flushes because guest code changed (see [`Profile::code_changed`]).
    code_changes: u32,
    /// With `--profile` on ([`crate::sampling::on`]): every translation
    /// made, by guest pc and kind (region or not).
    records: HashMap<(u64, bool), TranslationRecord>,
}

/// Most doublings of a block's back-off (see [`Profile::back_off`]):
/// at most `base << 10` interpreted runs between two translations.
pub const MAX_BACKOFF_SHIFT: u32 = 10;

/// What was translated at one guest pc.
#[derive(Clone, Copy, Debug, Default)]
struct Made {
    /// The kinds of translation (bit 0: single block, bit 1: region)
    /// ever made there.
    kinds: u8,
    /// Times its translation was found gone (evicted or flushed).
    misses: u8,
    /// Since the last miss, interpreted runs still to go before it is
    /// translated again (counting down while `waiting`).
    wait: u32,
    waiting: bool,
    /// [`Profile::code_changes`] when it was last translated: a loss to a
    /// flush because guest code changed is no reason to wait.
    code: u32,
    /// Its last translation was killed because its own guest code changed
    /// ([`Profile::code_lost`]): no reason to wait either.
    lost: bool,
}

/// What the translator made at one guest pc, of one kind, over the run
/// (for `--profile`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TranslationRecord {
    /// Guest entry pc and the end of the highest block (`[pc, end)` holds
    /// every instruction translated, not necessarily contiguous).
    pub pc: u64,
    pub end: u64,
    /// A region (else a single basic block).
    pub region: bool,
    /// Times translated (more than one: retranslated after a flush).
    pub times: u32,
    /// Guest instructions in the last translation.
    pub guest_insts: u32,
    /// Host code bytes and translation time, summed over every time.
    pub host_bytes: u64,
    pub ns: u64,
}

/// What an engine's profile database learned, for `--profile`.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub translations: Vec<TranslationRecord>,
    /// Blocks the dispatcher interpreted while cold, and how many times.
    pub cold: Vec<(u64, u32)>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile::new()
    }
}

impl Profile {
    /// An empty profile.
    pub fn new() -> Profile {
        Profile {
            counters: vec![0; SLOTS].into_boxed_slice(),
            used: 0,
            seen: HashSet::new(),
            promotions: 0,
            cold: ColdCounts::new(),
            cold_runs: 0,
            translated: HashMap::new(),
            retranslations: 0,
            backoff_runs: 0,
            code_changes: 0,
            records: HashMap::new(),
        }
    }

    /// Record a translation for `--profile` (see [`TranslationRecord`]).
    pub fn record(&mut self, pc: u64, end: u64, region: bool, insts: u32, bytes: u64, ns: u64) {
        let r = self.records.entry((pc, region)).or_default();
        r.pc = pc;
        r.end = r.end.max(end);
        r.region = region;
        r.times += 1;
        r.guest_insts = insts;
        r.host_bytes += bytes;
        r.ns += ns;
    }

    /// The translations recorded and the cold blocks, for `--profile`.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            translations: self.records.values().copied().collect(),
            cold: self.cold.iter().collect(),
        }
    }

    /// Address of the counter array (fixed for the profile's life).
    pub fn counters_ptr(&mut self) -> *mut i32 {
        self.counters.as_mut_ptr()
    }

    /// A counter slot for a new first-tier block, armed with [`HOT`], or
    /// `None` when every slot is taken.
    pub fn new_slot(&mut self) -> Option<u32> {
        if self.used == SLOTS {
            return None;
        }
        let slot = self.used as u32;
        self.used += 1;
        self.counters[slot as usize] = HOT;
        Some(slot)
    }

    /// The code cache was flushed: first-tier blocks are gone, and their
    /// slots can be handed out again.
    pub fn reset_slots(&mut self) {
        self.used = 0;
    }

    /// Record that the block at `pc` runs (it is about to).
    pub fn saw(&mut self, pc: u64) {
        self.seen.insert(pc);
    }

    /// Has the block at `pc` run (translated, or interpreted while cold)?
    pub fn has_seen(&self, pc: u64) -> bool {
        // Under staged emulation `seen` is empty (and most blocks are in
        // `cold`); without it, `cold` is.
        self.cold.count(pc).is_some() || self.seen.contains(&pc)
    }

    /// How many times the block at `pc` ran cold (interpreted), if it
    /// did: the translator weighs the region's blocks by it.
    pub fn cold_count(&self, pc: u64) -> Option<u32> {
        self.cold.count(pc).map(u32::from)
    }

    /// Should the block at `pc` be interpreted this time, because it has
    /// been reached fewer than `limit` times? Counts the run if so (and
    /// records the block as seen).
    /// Limits above [`MAX_COLD`] act as [`MAX_COLD`]. (Inlined into the
    /// dispatcher, which asks at every dispatch of cold code.)
    #[inline]
    pub fn run_cold(&mut self, pc: u64, limit: u32) -> bool {
        if limit == 0 {
            return false;
        }
        let counted = self.cold.bump(pc, limit.min(MAX_COLD) as u8);
        self.cold_runs += counted as u64;
        counted
    }

    /// The block at `pc` can be entered in a translation (at its entry or
    /// a side entry) made before its own cold runs were used up (it
    /// joined the region of a block that got there first): from now on
    /// the dispatcher enters that translation instead of interpreting
    /// it. Its count stays as it was, for `--profile`.
    pub fn end_cold(&mut self, pc: u64) {
        self.cold.done(pc);
    }

    /// Record a translation at `pc` (`region`: a region, else a single
    /// block), counting it in [`Profile::retranslations`] when one of that
    /// kind was made there before.
    pub fn translated(&mut self, pc: u64, region: bool) {
        let bit = 1u8 << region as u8;
        let made = self.translated.entry(pc).or_default();
        if made.kinds & bit != 0 {
            self.retranslations += 1;
        }
        made.kinds |= bit;
        made.waiting = false;
        if made.code != self.code_changes || made.lost {
            made.lost = false;
            made.code = self.code_changes;
            made.misses = 0;
        }
    }

    /// The code cache was flushed because guest code changed (or a new
    /// program was loaded): translations lost that way are not the cache
    /// manager's doing, so [`Profile::back_off`] does not count them.
    pub fn code_changed(&mut self) {
        self.code_changes = self.code_changes.wrapping_add(1);
    }

    /// The translation entered at `pc` was killed because guest code it
    /// was made from changed (invalidation by page): as after
    /// [`Profile::code_changed`], not the cache manager's doing.
    pub fn code_lost(&mut self, pc: u64) {
        if let Some(made) = self.translated.get_mut(&pc) {
            made.lost = true;
        }
    }

    /// The dispatcher reached `pc`, past its cold runs, and found no
    /// translation there: should it interpret the block this time instead
    /// of translating it? Code translated before lost its translation to
    /// an eviction or a flush; when that keeps happening (a working set
    /// larger than the code cache, reached in a cycle, so that FIFO evicts
    /// each block just before it is needed again), translating it again
    /// each time costs far more than interpreting it: a block's first loss
    /// makes it wait `base` interpreted runs (at least 1) before it is
    /// translated again, and each further loss doubles the wait (up to
    /// `base << MAX_BACKOFF_SHIFT`). Code that stays in the cache once
    /// translated pays nothing; code that thrashes ends up mostly
    /// interpreted, and the cache keeps the code that stays.
    pub fn back_off(&mut self, pc: u64, base: u32) -> bool {
        let Some(made) = self.translated.get_mut(&pc) else {
            return false;
        };
        if made.code != self.code_changes || made.lost {
            return false;
        }
        if !made.waiting {
            made.waiting = true;
            made.misses = made.misses.saturating_add(1);
            let shift = (made.misses as u32 - 1).min(MAX_BACKOFF_SHIFT);
            made.wait = base.max(1) << shift;
        }
        if made.wait == 0 {
            return false;
        }
        made.wait -= 1;
        self.backoff_runs += 1;
        true
    }

    /// Distinct block start pcs seen run.
    pub fn seen_count(&self) -> usize {
        self.seen.len()
            + self
                .cold
                .iter()
                .filter(|(pc, _)| !self.seen.contains(pc))
                .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_armed_and_recycled() {
        let mut p = Profile::new();
        let s = p.new_slot().unwrap();
        // SAFETY: the slot is inside the counter array.
        assert_eq!(unsafe { *p.counters_ptr().add(s as usize) }, HOT);
        for _ in 1..SLOTS {
            assert!(p.new_slot().is_some());
        }
        assert_eq!(p.new_slot(), None);
        p.reset_slots();
        assert_eq!(p.new_slot(), Some(0));
    }

    #[test]
    fn cold_blocks_run_limit_times_then_translate() {
        let mut p = Profile::new();
        assert!(!p.run_cold(0x1000, 0));
        for _ in 0..3 {
            assert!(p.run_cold(0x1000, 3));
        }
        assert!(!p.run_cold(0x1000, 3));
        assert!(p.has_seen(0x1000));
        assert_eq!(p.cold_runs, 3);
        p.reset_slots();
        assert!(!p.run_cold(0x1000, 3), "counts survive flushes");
    }

    #[test]
    fn cold_counts_keep_every_block_apart_through_growth() {
        let mut p = Profile::new();
        // Nearby pcs (one function's blocks), pcs 64 KiB apart (the same
        // home slot modulo a small table), a far library, and pc 0.
        let mut pcs: Vec<u64> = (0..3000).map(|i| 0x10000 + 2 * i).collect();
        pcs.extend((0..3000).map(|i| 0x20_0000 + (i << 16)));
        pcs.extend((0..500).map(|i| 0xf_ff50_0000 + 6 * i));
        pcs.push(0);
        for round in 1..=3u32 {
            for &pc in &pcs {
                assert!(p.run_cold(pc, 3), "{pc:#x} round {round}");
            }
        }
        for &pc in &pcs {
            assert!(!p.run_cold(pc, 3), "{pc:#x} ran out");
            assert!(p.has_seen(pc));
        }
        assert!(!p.has_seen(0x10001));
        assert_eq!(p.cold_runs, 3 * pcs.len() as u64);
        assert_eq!(p.seen_count(), pcs.len());
        let mut cold = p.snapshot().cold;
        cold.sort();
        let mut want: Vec<(u64, u32)> = pcs.iter().map(|&pc| (pc, 3)).collect();
        want.sort();
        assert_eq!(cold, want);
    }

    #[test]
    fn blocks_ended_cold_stop_counting_and_keep_their_count() {
        let mut p = Profile::new();
        for pc in [0x1000, 0x1002, 0x1004] {
            assert!(p.run_cold(pc, 16));
        }
        assert!(p.run_cold(0x1000, 16));
        p.end_cold(0x1000);
        p.end_cold(0x1003); // odd: no block starts there
        p.end_cold(0x9000); // never ran cold
        assert!(!p.run_cold(0x1000, 16), "translated: no more cold runs");
        assert!(p.run_cold(0x1002, 16), "its neighbours still count");
        assert!(p.has_seen(0x1000) && !p.has_seen(0x9000));
        let mut cold = p.snapshot().cold;
        cold.sort();
        assert_eq!(cold, [(0x1000, 2), (0x1002, 2), (0x1004, 1)]);
        assert_eq!(p.cold_runs, 5);
        // Growing the table keeps the mark.
        for i in 0..2000 {
            p.run_cold(0x10_0000 + 2 * i, 16);
        }
        assert!(!p.run_cold(0x1000, 16));
        assert!(p.run_cold(0x1002, 16));
    }

    #[test]
    fn cold_limits_saturate_and_wild_pcs_are_not_counted() {
        let mut p = Profile::new();
        for _ in 0..MAX_COLD {
            assert!(p.run_cold(0x4000, 1000));
        }
        assert!(!p.run_cold(0x4000, 1000));
        assert!(!p.run_cold(u64::MAX - 1, 16));
        assert!(!p.has_seen(u64::MAX - 1));
        assert!(!p.run_cold(0x4001, 16), "odd pcs are not counted");
        assert!(!p.has_seen(0x4001));
    }

    #[test]
    fn retranslations_count_repeats_per_kind() {
        let mut p = Profile::new();
        p.translated(0x1000, false);
        p.translated(0x1000, true);
        assert_eq!(p.retranslations, 0);
        p.translated(0x1000, true);
        p.translated(0x2000, false);
        p.translated(0x1000, false);
        assert_eq!(p.retranslations, 2);
    }

    #[test]
    fn lost_translations_wait_twice_as_long_each_time() {
        let mut p = Profile::new();
        assert!(!p.back_off(0x1000, 4), "never translated: translate now");
        p.translated(0x1000, false);
        for loss in 0..MAX_BACKOFF_SHIFT + 3 {
            let wait = 4u64 << loss.min(MAX_BACKOFF_SHIFT);
            for _ in 0..wait {
                assert!(p.back_off(0x1000, 4), "loss {loss}");
            }
            assert!(!p.back_off(0x1000, 4), "loss {loss}: translate again");
            // Asked again before translating: still no wait.
            assert!(!p.back_off(0x1000, 4));
            p.translated(0x1000, false);
        }
        let total: u64 = (0..MAX_BACKOFF_SHIFT + 3)
            .map(|l| 4u64 << l.min(MAX_BACKOFF_SHIFT))
            .sum();
        assert_eq!(p.backoff_runs, total);
        assert_eq!(p.retranslations, (MAX_BACKOFF_SHIFT + 3) as u64);
        // Base 0 (no staged emulation) still waits at least once.
        p.translated(0x2000, true);
        assert!(p.back_off(0x2000, 0));
        assert!(!p.back_off(0x2000, 0));
        // Lost to a code change: no wait, and the count starts over.
        p.translated(0x2000, true);
        p.code_changed();
        assert!(!p.back_off(0x2000, 4));
        p.translated(0x2000, true);
        for _ in 0..4 {
            assert!(p.back_off(0x2000, 4));
        }
        assert!(!p.back_off(0x2000, 4));
    }

    #[test]
    fn records_sum_retranslations() {
        let mut p = Profile::new();
        p.record(0x1000, 0x1010, true, 4, 100, 7);
        p.record(0x1000, 0x1020, true, 6, 120, 5);
        p.record(0x1000, 0x1008, false, 2, 30, 1);
        let mut t = p.snapshot().translations;
        t.sort_by_key(|r| r.region);
        assert_eq!(t.len(), 2);
        assert_eq!((t[1].times, t[1].end, t[1].guest_insts), (2, 0x1020, 6));
        assert_eq!((t[1].host_bytes, t[1].ns), (220, 12));
        assert_eq!((t[0].times, t[0].host_bytes), (1, 30));
    }

    #[test]
    fn seen_survives_slot_reset() {
        let mut p = Profile::new();
        p.saw(0x2000);
        p.reset_slots();
        assert!(p.has_seen(0x2000));
        assert!(!p.has_seen(0x2004));
        assert_eq!(p.seen_count(), 1);
    }
}
