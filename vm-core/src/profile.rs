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

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use hashbrown::{HashMap, HashSet};

/// Executions of a first-tier block before its region is translated.
pub const HOT: i32 = 50;
/// Counter slots (first-tier blocks alive at once).
pub const SLOTS: usize = 1 << 16;

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
    cold: HashMap<u64, u32>,
    /// Cold block executions (interpreted by the dispatcher).
    pub cold_runs: u64,
    /// The kinds of translation (bit 0: single block, bit 1: region) ever
    /// made at each guest pc, to count retranslations.
    translated: HashMap<u64, u8>,
    /// Translations of a pc and kind made before (the earlier one was
    /// flushed): the work a cache manager costs.
    pub retranslations: u64,
    /// With `--profile` on ([`crate::sampling::on`]): every translation
    /// made, by guest pc and kind (region or not).
    records: HashMap<(u64, bool), TranslationRecord>,
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
            cold: HashMap::new(),
            cold_runs: 0,
            translated: HashMap::new(),
            retranslations: 0,
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
            cold: self.cold.iter().map(|(&pc, &n)| (pc, n)).collect(),
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
        self.cold.contains_key(&pc) || self.seen.contains(&pc)
    }

    /// Should the block at `pc` be interpreted this time, because it has
    /// been reached fewer than `limit` times? Counts the run if so (and
    /// records the block as seen).
    pub fn run_cold(&mut self, pc: u64, limit: u32) -> bool {
        if limit == 0 {
            return false;
        }
        let n = self.cold.entry(pc).or_insert(0);
        if *n >= limit {
            return false;
        }
        *n += 1;
        self.cold_runs += 1;
        true
    }

    /// Record a translation at `pc` (`region`: a region, else a single
    /// block), counting it in [`Profile::retranslations`] when one of that
    /// kind was made there before.
    pub fn translated(&mut self, pc: u64, region: bool) {
        let bit = 1u8 << region as u8;
        let kinds = self.translated.entry(pc).or_insert(0);
        if *kinds & bit != 0 {
            self.retranslations += 1;
        }
        *kinds |= bit;
    }

    /// Distinct block start pcs seen run.
    pub fn seen_count(&self) -> usize {
        self.seen.len()
            + self
                .cold
                .keys()
                .filter(|pc| !self.seen.contains(*pc))
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
