//! Invalidation by page: what the dispatcher does when the code epoch
//! ([`GuestMemory::code_epoch`]) moved, so that no translation of changed
//! guest code runs again while the rest of the cache stays.
//!
//! Each move covers a range of pages ([`GuestMemory::code_changes`]):
//! `riscv_flush_icache(start, end)` the pages of `[start, end)`, a store
//! into a write-protected code page (or, without host faults, a store the
//! store helper saw land on code) that page, unmap, `mmap` over or
//! `mprotect` of executable memory its pages; `fence.i`, whose change has
//! no range, and writes to `/proc/self/mem` the whole address space.
//! * Moves over no page holding translated code leave everything
//!   (`jit_flushes_avoided`);
//! * moves over the whole address space, or moves no longer all in the
//!   memory's log, flush the cache (`jit_cache_flushes`);
//! * otherwise, in a stop-the-world section (other threads may be in the
//!   code), the cache kills the translations made from any of those pages
//!   ([`CodeCache::invalidate`]: each translation lists every page it was
//!   made from, including those of the leaf functions and blocks traced
//!   into it), unchains the chains into them and moves the generation,
//!   which empties each thread's indirect-jump table (its next dispatch)
//!   and drops chains and promotions pending from before. Return frames
//!   (`x86_64/codegen/ras.rs`) never outlive a stay in translated code, so
//!   none names a dead translation. The pages' bits in the code-page map
//!   are cleared (no live translation comes from them any more), decoded
//!   cold blocks are dropped when they came from one of them, and the
//!   profile learns that the pcs killed lost their translation to a code
//!   change, not to the cache manager (no back-off). Counted in
//!   `jit_page_invalidations` and `jit_translations_invalidated`.
//!
//! Exactness: private pages change only by this process's stores, and
//! every store into a page holding translated code is seen (host fault or
//! store helper) and moves the epoch over that page before the store's
//! thread goes on. Writes by system calls do the same over executable
//! pages: pvm's own stores of results, and a host call that fills a guest
//! buffer, which moves the epoch when it returns (its pages are not
//! write-protected while it runs: see `GuestMemory::host_write`). Pages that change otherwise (a second, shared mapping
//! of the same memory, another process) are announced by the guest with
//! `riscv_flush_icache` over the executable range, as the kernel's ABI
//! asks (Linux flushes every hart's whole instruction cache there, and
//! pvm the translations of that range).

use super::backend::{Backend, GuestInst};
use super::{CodeState, SharedCodeOn};
use crate::memory::{GuestMemory, PAGE_SIZE};
use alloc::vec::Vec;

/// The guest pages (sorted, distinct) holding the code of `blocks`.
pub(super) fn pages(blocks: &[&[GuestInst]]) -> Vec<u64> {
    // Room for a page or two per block: the list does not grow (and copy
    // itself) as it is filled.
    let mut v = Vec::with_capacity(2 * blocks.len());
    for b in blocks {
        let l = b[b.len() - 1];
        let end = l.pc.wrapping_add(l.len as u64);
        v.extend(b[0].pc / PAGE_SIZE..=end.wrapping_sub(1) / PAGE_SIZE);
    }
    v.sort_unstable();
    v.dedup();
    v
}

impl<B: Backend> SharedCodeOn<B> {
    /// The code epoch moved from `st.epoch` to `epoch`: flush, kill the
    /// translations of the pages changed, or keep everything (see the
    /// module documentation).
    pub(super) fn code_moved(&self, st: &mut CodeState<B>, mem: &GuestMemory, epoch: u64) {
        let since = core::mem::replace(&mut st.epoch, epoch);
        let pages = (st.code_pages.len() as u64 * 64).max(1);
        let (mut whole, mut cold_stale) = (false, false);
        let mut ranges = Vec::new();
        let known = mem.code_changes(since, epoch, |first, last| {
            if Self::holds_code(st, first, last) {
                if first == 0 && last >= pages - 1 {
                    whole = true;
                } else {
                    ranges.push((first, last));
                }
            }
            cold_stale |= st.cold.holds(first, last);
        });
        if !known || whole {
            self.flush(st);
            st.profile.code_changed();
            return;
        }
        if cold_stale {
            // Threads running a decoded block see the epoch move and
            // leave it (see `cold`).
            st.cold.clear();
        }
        if ranges.is_empty() || !st.cache.touches(&ranges) {
            st.stats.flushes_avoided += 1;
            Self::forget_pages(st, &ranges);
            return;
        }
        self.invalidate(st, &ranges);
    }

    /// The near assumption of the block at `pc` failed once more (see
    /// `exit::WILD`): at the [`super::WILD_LIMIT`]th time, kill the
    /// translations of its page, and make every later one without
    /// assumptions there.
    pub(super) fn wild(&self, st: &mut CodeState<B>, pc: u64) {
        let n = st.wild_runs.entry(pc).or_insert(0);
        *n += 1;
        if *n != super::WILD_LIMIT {
            return;
        }
        if let Err(i) = st.wild_pcs.binary_search(&pc) {
            st.wild_pcs.insert(i, pc);
        }
        let page = pc / PAGE_SIZE;
        if st.cache.touches(&[(page, page)]) {
            self.invalidate(st, &[(page, page)]);
        }
    }

    /// Kill the translations made from pages of `ranges`, in a
    /// stop-the-world section.
    fn invalidate(&self, st: &mut CodeState<B>, ranges: &[(u64, u64)]) {
        let pcs = self.stop_the_world(st, |st| {
            let mut unchained = 0u64;
            let mut unchain = |site: u64| {
                // SAFETY: `site` is a chained jump field in a live
                // translation (the cache checked that its unit was not
                // reused since and that it is not dead), and no thread
                // runs translated code.
                unchained += unsafe { B::unchain(site) } as u64;
            };
            // SAFETY: no thread runs translated code (stopped above; new
            // entries need the lock we hold).
            let pcs = unsafe { st.cache.invalidate(ranges, &mut unchain) };
            st.stats.unchained += unchained;
            pcs
        });
        st.stats.page_invalidations += 1;
        st.stats.invalidated += pcs.len() as u64;
        for &pc in &pcs {
            st.profile.code_lost(pc);
        }
        Self::forget_pages(st, ranges);
        if crate::log::on(crate::log::CACHE) {
            let (f, l) = ranges[0];
            self.host.log(format_args!(
                "cache: {} translations invalidated (guest pages {:#x}..={:#x}{}), {} left",
                pcs.len(),
                f * PAGE_SIZE,
                l * PAGE_SIZE,
                if ranges.len() > 1 { " and more" } else { "" },
                st.cache.len()
            ));
        }
    }

    /// No live translation comes from the pages of `ranges` any more:
    /// clear their bits in the code-page map.
    fn forget_pages(st: &mut CodeState<B>, ranges: &[(u64, u64)]) {
        let words = st.code_pages.len();
        if words == 0 {
            return;
        }
        for &(first, last) in ranges {
            let last = last.min(words as u64 * 64 - 1);
            let mut p = first;
            while p <= last {
                let w = &mut st.code_pages[(p / 64) as usize];
                if p.is_multiple_of(64) && last - p >= 63 {
                    *w = 0;
                    p += 64;
                } else {
                    *w &= !(1 << (p % 64));
                    p += 1;
                }
            }
        }
        let code_pages = &st.code_pages;
        st.code_pages_dirty.retain(|&i| code_pages[i as usize] != 0);
    }
}
