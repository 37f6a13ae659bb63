//! The code cache and its manager: one bounded region of executable host
//! memory holding translations, the map from guest pc to translation, and
//! per-translation metadata (guest range, host range, side table).
//!
//! The region is split into *units* of equal size ([`CachePolicy`]), filled
//! in turn with a bump pointer each. When a translation does not fit into
//! the rest of the unit being filled, the manager moves on to the next
//! unit and, if it holds translations, evicts them all: FIFO of fixed-size
//! units, as Valgrind's sectors. Hot code evicted that way is translated
//! again into the newest unit and survives the next evictions, while a
//! whole flush (the policy with a single unit, still selectable) drops
//! the whole working set at once. What eviction has to undo:
//! * chained exits (patched `jmp rel32` from one translation into
//!   another) into the unit: every chain made across units is recorded
//!   in the target unit ([`CodeCache::record_chain`]) and repointed to its
//!   own exit on eviction, unless the unit holding the jump was evicted
//!   since (each unit counts its reuses);
//! * the threads' indirect-jump tables: the cache generation moves at
//!   every eviction and each thread empties its table when it sees that;
//! * lookup entries and side tables: the unit's translation list is
//!   emptied; fault handlers read these lists without the lock, so an
//!   eviction, like a flush, only happens in the dispatcher with every
//!   thread out of translated code (see `translate::SharedCode`);
//! * fallback instructions: they live in a ring ([`Ring`]) in translation
//!   order, so those of the oldest unit are the oldest; the manager keeps
//!   each unit's range and never reuses a slot of a live unit.
//!
//! A first-tier block overwritten with a jump to its region (promotion) is
//! older than the region, so FIFO evicts it first (or with it): the jump
//! never outlives its target.
//!
//! Invalidation by page ([`CodeCache::invalidate`]): when guest code
//! changes over some pages (`riscv_flush_icache` of a range, unmap or
//! mprotect of code, a store into a page holding code), only the
//! translations made from those pages die, wherever they are: each
//! translation records every guest page it was made from (the pages of
//! the leaves traced into it too), its lookup entries go, every chain
//! into it is repointed to its own exit (every chain is recorded in its
//! target's unit, within the unit too), a first-tier block redirected to
//! it dies with it, its host code is filled with `int3`, and the
//! generation moves (the threads' indirect tables empty). Its memory and
//! fallback slots stay taken until its unit is evicted. A change over
//! the whole address space (`fence.i`) flushes every unit.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicUsize, Ordering};
use hashbrown::HashMap;

/// A fixed-capacity list that one writer (holding the translator's lock)
/// appends to while other threads read it without a lock: translated code
/// (through the step helper) and host fault handlers. Elements never move
/// and are never changed once published; only [`AppendOnly::clear`], which
/// needs every reader stopped, removes them.
pub struct AppendOnly<T> {
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
    len: AtomicUsize,
}

impl<T> core::fmt::Debug for AppendOnly<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AppendOnly")
            .field("len", &self.len())
            .field("capacity", &self.slots.len())
            .finish()
    }
}

// SAFETY: slots below `len` are immutable once published (Release store
// of `len` after the write, Acquire load by readers); slots at or above it
// are touched only by the single writer, which callers serialise with a
// lock; `clear` requires that no reader runs. So sharing between threads
// is sound when `T` itself may be sent and shared.
unsafe impl<T: Send + Sync> Sync for AppendOnly<T> {}
// SAFETY: as above; the list owns its elements.
unsafe impl<T: Send> Send for AppendOnly<T> {}

impl<T> AppendOnly<T> {
    /// An empty list with room for `capacity` elements (the memory is
    /// allocated now, but pages are only touched as elements are added).
    pub fn new(capacity: usize) -> AppendOnly<T> {
        let mut v = Vec::with_capacity(capacity);
        v.resize_with(capacity, || UnsafeCell::new(MaybeUninit::uninit()));
        AppendOnly {
            slots: v.into_boxed_slice(),
            len: AtomicUsize::new(0),
        }
    }

    /// Published elements.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Nothing published?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i`, if published.
    pub fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len() {
            return None;
        }
        // SAFETY: slots below `len` were initialised before `len` was
        // published (Release/Acquire) and are never written again until
        // `clear`, which no reader overlaps.
        Some(unsafe { (*self.slots[i].get()).assume_init_ref() })
    }

    /// The published elements.
    pub fn as_slice(&self) -> &[T] {
        let n = self.len();
        // SAFETY: as in `get`; `UnsafeCell<MaybeUninit<T>>` has `T`'s
        // layout, and the first `n` slots are initialised.
        unsafe { core::slice::from_raw_parts(self.slots.as_ptr().cast::<T>(), n) }
    }

    /// Append `v`, or give it back when full.
    ///
    /// # Safety
    /// Only one thread appends or clears at a time (the caller holds the
    /// lock that serialises writers).
    pub unsafe fn push(&self, v: T) -> Result<usize, T> {
        let n = self.len.load(Ordering::Relaxed);
        if n == self.slots.len() {
            return Err(v);
        }
        // SAFETY: slot `n` is unpublished, so no reader looks at it, and
        // the caller guarantees no other writer.
        unsafe { (*self.slots[n].get()).write(v) };
        self.len.store(n + 1, Ordering::Release);
        Ok(n)
    }

    /// Drop every element.
    ///
    /// # Safety
    /// No other thread reads the list or holds a reference from it while
    /// this runs (the translator stops every thread first), and the caller
    /// is the only writer.
    pub unsafe fn clear(&self) {
        let n = self.len.swap(0, Ordering::AcqRel);
        for s in &self.slots[..n] {
            // SAFETY: the first `n` slots were initialised; nobody else
            // reads them now.
            unsafe { (*s.get()).assume_init_drop() };
        }
    }
}

impl<T> Drop for AppendOnly<T> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no reader, no other writer.
        unsafe { self.clear() }
    }
}

/// A fixed ring of slots that one writer (holding the translator's lock)
/// fills at positions it chooses while other threads read the slots in
/// use without a lock: the fallback instructions of the live translations,
/// read by the step helper. A slot is written only while no live
/// translation names it (its unit was evicted, or it was never used), so
/// a reader never sees it change. Slots are written contiguously from 0
/// upwards, except that the writer may go back to 0 (wrap).
pub struct Ring<T: Copy> {
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
    /// Slots below this were written at least once.
    init: AtomicUsize,
}

impl<T: Copy> core::fmt::Debug for Ring<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ring")
            .field("init", &self.init.load(Ordering::Relaxed))
            .field("capacity", &self.slots.len())
            .finish()
    }
}

// SAFETY: a slot is written only by the single writer (serialised by the
// caller's lock) while no reader may read it (see `Ring::set`), and the
// reader learns of the write through the same lock (the translation
// naming the slot is published under it) or `init` (Release/Acquire);
// `T: Copy` has no destructor to race with.
unsafe impl<T: Copy + Send + Sync> Sync for Ring<T> {}
// SAFETY: as above; the ring owns its elements.
unsafe impl<T: Copy + Send> Send for Ring<T> {}

impl<T: Copy> Ring<T> {
    /// A ring of `capacity` slots (allocated now, touched as written).
    pub fn new(capacity: usize) -> Ring<T> {
        let mut v = Vec::with_capacity(capacity);
        v.resize_with(capacity, || UnsafeCell::new(MaybeUninit::uninit()));
        Ring {
            slots: v.into_boxed_slice(),
            init: AtomicUsize::new(0),
        }
    }

    /// Slots in the ring.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Slot `i`, if it was ever written. Only meaningful for a slot a live
    /// translation names (the only slots translated code asks for).
    pub fn get(&self, i: usize) -> Option<&T> {
        if i >= self.init.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: slots below `init` were initialised; the writer does not
        // write a slot that a live translation names, and only those are
        // read (see the type's documentation).
        Some(unsafe { (*self.slots[i].get()).assume_init_ref() })
    }

    /// Write slot `i` (at most one past the slots written so far).
    ///
    /// # Safety
    /// Only one thread writes at a time (the caller holds the lock that
    /// serialises writers), and no live translation names slot `i`, so no
    /// thread reads it or holds a reference into it.
    pub unsafe fn set(&self, i: usize, v: T) {
        let init = self.init.load(Ordering::Relaxed);
        assert!(
            i <= init && i < self.slots.len(),
            "ring slots are written in order"
        );
        // SAFETY: nobody reads slot `i` (the caller's promise) and the
        // caller is the only writer.
        unsafe { (*self.slots[i].get()).write(v) };
        if i == init {
            self.init.store(i + 1, Ordering::Release);
        }
    }
}

/// One side-table entry: the host code of guest instruction number `index`
/// (counted from the start of its basic block: the instructions retired
/// since `instret` was last brought up to date) at `guest_pc`, `len` bytes
/// long, begins at `host_off` bytes into the translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SideEntry {
    pub host_off: u32,
    pub guest_pc: u64,
    pub index: u32,
    pub len: u8,
    /// The back end's cached-register slots (`Translation::regs`) that do
    /// not hold their guest register's value here (its entry load was
    /// left out, and it is not written yet): a host fault leaves the
    /// `Cpu` copy, which is then the value, alone (see the x86-64 back
    /// end's `codegen/deadload.rs`).
    pub invalid: u16,
}

/// Metadata of one translation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Translation {
    /// The guest pc the translation is entered at.
    pub guest_start: u64,
    /// One past the last guest byte of its highest block.
    pub guest_end: u64,
    /// Offset of the host code in the cache region.
    pub host_off: u32,
    /// Length of the host code.
    pub host_len: u32,
    /// Sorted by `host_off`; one entry per guest instruction, plus one per
    /// out-of-line exit.
    pub side: Vec<SideEntry>,
    /// The guest register kept in each of the back end's cached-register
    /// slots throughout the translation (0 for none): what a host fault
    /// handler stores back to the `Cpu` for precise state.
    pub regs: [u8; 9],
    /// Offset (from the translation's start) of the back end's code that a
    /// host fault inside the translation resumes at, for state the handler
    /// cannot store itself (0: the back end's shared fault exit).
    pub fault_resume: u32,
    /// Its other entry points: guest pcs of blocks inside it that can be
    /// entered from outside, each with the offset (from the translation's
    /// start) of the code entering there. The map leads to them while no
    /// translation of their own is entered at those pcs.
    pub entries: Vec<(u64, u32)>,
    /// Every guest page (address / `PAGE_SIZE`, sorted, distinct) holding
    /// code it was translated from: a change to any of them kills it
    /// ([`CodeCache::invalidate`]).
    pub pages: Vec<u64>,
}

impl Translation {
    /// The guest instruction whose host code contains `off` (an offset
    /// from the start of this translation). Host code emitted after the
    /// last instruction's own code (its out-of-line exits) belongs to the
    /// instruction that jumps there, which the generator records by
    /// placing those exits' side entries itself; here the answer is the
    /// last instruction starting at or before `off`.
    pub fn at(&self, off: u32) -> Option<&SideEntry> {
        let i = self.side.partition_point(|e| e.host_off <= off);
        i.checked_sub(1).map(|i| &self.side[i])
    }
}

/// The cache does not have room for this translation even when empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooBig;

/// How a full cache makes room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CachePolicy {
    /// Drop every translation at once (one unit).
    Flush,
    /// Evict the oldest of [`FIFO_UNITS`] units (fewer in small caches).
    Fifo,
}

/// Units of a FIFO cache.
pub const FIFO_UNITS: usize = 8;
/// Smallest FIFO unit: the largest single-block translation (caches too
/// small for regions translate blocks of at most 64 instructions) fits
/// into an empty one.
pub const MIN_UNIT: usize = 16 << 10;

/// The policy of caches made without one (`pvm --code-cache-policy`):
/// 0 flush, 1 FIFO.
static DEFAULT_POLICY: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(1);

/// Set the policy of the caches made from now on without one.
pub fn set_default_policy(p: CachePolicy) {
    DEFAULT_POLICY.store((p == CachePolicy::Fifo) as u8, Ordering::Relaxed);
}

/// The policy of caches made without one (FIFO unless set otherwise).
pub fn default_policy() -> CachePolicy {
    match DEFAULT_POLICY.load(Ordering::Relaxed) {
        0 => CachePolicy::Flush,
        _ => CachePolicy::Fifo,
    }
}

impl CachePolicy {
    /// Units a cache of `capacity` bytes is split into.
    pub fn units(self, capacity: usize) -> usize {
        match self {
            CachePolicy::Flush => 1,
            CachePolicy::Fifo => (capacity / MIN_UNIT).clamp(1, FIFO_UNITS),
        }
    }
}

/// The translations of a cache, one list per unit, each sorted by host
/// offset (a unit only bumps upward): what host fault handlers and the
/// sampler search without the translator's lock.
pub struct Blocks {
    unit_size: usize,
    units: Box<[AppendOnly<Translation>]>,
}

impl core::fmt::Debug for Blocks {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Blocks")
            .field("unit_size", &self.unit_size)
            .field("units", &self.units.len())
            .finish()
    }
}

impl Blocks {
    /// The unit holding cache offset `off`.
    fn unit_of(&self, off: usize) -> usize {
        (off / self.unit_size).min(self.units.len() - 1)
    }

    /// Live translations.
    pub fn len(&self) -> usize {
        self.units.iter().map(|u| u.len()).sum()
    }

    /// No live translation?
    pub fn is_empty(&self) -> bool {
        self.units.iter().all(|u| u.is_empty())
    }
}

/// A chained exit into a unit: the `jmp` field at host address `site`, in
/// unit `from` while that unit had been reused `uses` times, leading to
/// cache offset `target`.
#[derive(Clone, Copy, Debug)]
struct Incoming {
    site: u64,
    from: u32,
    target: u32,
    uses: u64,
}

/// Bookkeeping of one unit.
#[derive(Debug, Default)]
struct Unit {
    /// Cache offsets `[start, end)` of the unit; `used` is its bump
    /// pointer (unit 0 starts after the fixed code).
    start: usize,
    end: usize,
    used: usize,
    /// Times the unit was emptied (a chain site recorded at another count
    /// is gone).
    uses: u64,
    /// Its fallback instructions: ring positions `[lo, hi)` (counted
    /// without wrapping, see [`CodeCache::steps_head`]); empty if `lo == hi`.
    steps: (u64, u64),
    /// Chains into this unit (from other units, and from itself, which
    /// only [`CodeCache::invalidate`] undoes).
    incoming: Vec<Incoming>,
    /// Per translation of the unit (by index): killed by
    /// [`CodeCache::invalidate`].
    dead: Vec<bool>,
}

/// A code cache over an executable host region.
#[derive(Debug)]
pub struct CodeCache {
    base: *mut u8,
    capacity: usize,
    /// Bytes at the start that survive flushes (entry and exit code).
    reserved: usize,
    policy: CachePolicy,
    units: Vec<Unit>,
    /// The unit being filled.
    cur: usize,
    /// Read without the translator's lock by host fault handlers (see
    /// [`CodeCache::blocks`]).
    blocks: alloc::sync::Arc<Blocks>,
    /// Guest pc -> (unit, index in its list, offset of the entry from the
    /// translation's start: 0, or one of its `entries`).
    map: HashMap<u64, (u32, u32, u32)>,
    generation: u64,
    /// Slots of the fallback ring and the next position to fill, counted
    /// without wrapping (the slot is this modulo `step_slots`).
    step_slots: usize,
    step_head: u64,
    /// Translations killed by [`CodeCache::invalidate`] whose units were
    /// not emptied since.
    dead: usize,
    /// First-tier blocks overwritten with a jump to their region: (host
    /// address of the block, of the region).
    redirects: Vec<(u64, u64)>,
}

impl CodeCache {
    /// A cache over `[base, base+capacity)`, which must be writable and
    /// executable and stay so for the cache's life, managed by `policy`,
    /// with `step_slots` slots for fallback instructions (see
    /// [`CodeCache::steps_head`]).
    pub fn new(
        base: *mut u8,
        capacity: usize,
        policy: CachePolicy,
        step_slots: usize,
    ) -> CodeCache {
        let n = policy.units(capacity);
        let unit_size = (capacity / n) & !15;
        let units = (0..n)
            .map(|i| {
                let start = i * unit_size;
                let end = if i + 1 == n {
                    capacity
                } else {
                    start + unit_size
                };
                Unit {
                    start,
                    end,
                    used: start,
                    ..Unit::default()
                }
            })
            .collect();
        // The smallest translation (a one-instruction block and its exits)
        // takes well over 32 bytes of host code.
        let lists = (0..n)
            .map(|_| AppendOnly::new(unit_size / 32 + 1 + (capacity - n * unit_size) / 32))
            .collect();
        CodeCache {
            base,
            capacity,
            reserved: 0,
            policy,
            units,
            cur: 0,
            blocks: alloc::sync::Arc::new(Blocks {
                unit_size,
                units: lists,
            }),
            map: HashMap::new(),
            generation: 0,
            step_slots,
            step_head: 0,
            dead: 0,
            redirects: Vec::new(),
        }
    }

    /// Host address of the region start.
    pub fn base(&self) -> u64 {
        self.base as u64
    }

    /// Capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The policy.
    pub fn policy(&self) -> CachePolicy {
        self.policy
    }

    /// Number of units.
    pub fn units(&self) -> usize {
        self.units.len()
    }

    /// Bytes in use (including the fixed prologue).
    pub fn used(&self) -> usize {
        self.reserved
            + self
                .units
                .iter()
                .enumerate()
                .map(|(i, u)| u.used - if i == 0 { self.reserved } else { u.start })
                .sum::<usize>()
    }

    /// Incremented by every flush and every eviction; a chaining site
    /// recorded in an older generation must not be patched, and indirect
    /// tables filled in an older one must be emptied.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The translations, for readers without the translator's lock:
    /// a host fault handler looking up the thread's own running code.
    pub fn blocks(&self) -> alloc::sync::Arc<Blocks> {
        self.blocks.clone()
    }

    /// Number of live translations.
    pub fn len(&self) -> usize {
        self.blocks.len() - self.dead
    }

    /// No live translations?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Host address where the next translation will be placed: the code
    /// must be assembled for this address.
    pub fn next_addr(&self) -> u64 {
        self.base as u64 + self.units[self.cur].used.next_multiple_of(16) as u64
    }

    /// Copy fixed code that survives flushes (only before any translation).
    pub fn install_fixed(&mut self, code: &[u8]) -> Result<u64, TooBig> {
        debug_assert!(self.is_empty() && self.cur == 0 && self.units[0].used == self.reserved);
        let at = self.write(code).ok_or(TooBig)?;
        self.reserved = self.units[0].used;
        Ok(at)
    }

    /// Copy `code` into the unit being filled.
    fn write(&mut self, code: &[u8]) -> Option<u64> {
        // Keep every translation 16-byte aligned (branch targets).
        let u = &mut self.units[self.cur];
        let start = u.used.next_multiple_of(16);
        let end = start.checked_add(code.len())?;
        if end > u.end {
            return None;
        }
        // SAFETY: [start, end) lies inside the region (checked above), the
        // region is writable, and no translated code runs there: the
        // dispatcher (the only caller) writes only unused memory.
        unsafe {
            core::ptr::copy_nonoverlapping(code.as_ptr(), self.base.add(start), code.len());
        }
        u.used = end;
        Some(self.base as u64 + start as u64)
    }

    /// Does a translation of `len` bytes fit into the unit being filled?
    pub fn fits(&self, len: usize) -> bool {
        let u = &self.units[self.cur];
        u.used.next_multiple_of(16) + len <= u.end
    }

    /// The ring slot where the next translation's fallback instructions
    /// start: the code generator numbers them from here. Moves back to
    /// slot 0 when fewer than `max` slots are left before the ring's end,
    /// so one translation's slots never wrap.
    pub fn steps_head(&mut self, max: usize) -> usize {
        let slot = (self.step_head % self.step_slots as u64) as usize;
        if slot + max > self.step_slots {
            self.step_head += (self.step_slots - slot) as u64;
            return 0;
        }
        slot
    }

    /// Can `n` fallback instructions go at [`Self::steps_head`] without
    /// overwriting those of a live translation?
    pub fn steps_fit(&self, n: usize) -> bool {
        let slot = (self.step_head % self.step_slots as u64) as usize;
        let tail = self
            .units
            .iter()
            .filter(|u| u.steps.0 != u.steps.1)
            .map(|u| u.steps.0)
            .min()
            .unwrap_or(self.step_head);
        slot + n <= self.step_slots && self.step_head + n as u64 - tail <= self.step_slots as u64
    }

    /// Add a translation assembled for [`Self::next_addr`], with `steps`
    /// fallback instructions placed at [`Self::steps_head`] (checked with
    /// [`Self::steps_fit`]). Returns its host address, or `None` when it
    /// does not fit into the unit being filled (the caller makes room and
    /// translates again: the code is position dependent).
    pub fn insert(&mut self, code: &[u8], mut t: Translation, steps: usize) -> Option<u64> {
        let list = &self.blocks.units[self.cur];
        if list.len() == list.slots.len() || !self.steps_fit(steps) {
            return None;
        }
        let used = self.units[self.cur].used;
        let at = self.write(code)?;
        t.host_off = (at - self.base as u64) as u32;
        t.host_len = code.len() as u32;
        let start = t.guest_start;
        let entries = t.entries.clone();
        // SAFETY: `&mut self` makes this the only writer; room was checked.
        match unsafe { self.blocks.units[self.cur].push(t) } {
            Ok(i) => {
                let dead = &mut self.units[self.cur].dead;
                dead.truncate(i);
                dead.push(false);
                self.map.insert(start, (self.cur as u32, i as u32, 0));
                for &(pc, off) in &entries {
                    self.map
                        .entry(pc)
                        .or_insert((self.cur as u32, i as u32, off));
                }

                let u = &mut self.units[self.cur];
                if steps > 0 {
                    if u.steps.0 == u.steps.1 {
                        u.steps.0 = self.step_head;
                    }
                    self.step_head += steps as u64;
                    u.steps.1 = self.step_head;
                }
                Some(at)
            }
            Err(_) => {
                self.units[self.cur].used = used;
                None
            }
        }
    }

    /// Host address of the translation starting at guest `pc`.
    pub fn lookup(&self, pc: u64) -> Option<u64> {
        self.translation(pc).map(|(h, _)| h)
    }

    /// The translation entered at guest `pc` (at its start or at one of
    /// its other entries) and the host address entering there.
    pub fn translation(&self, pc: u64) -> Option<(u64, &Translation)> {
        let &(u, i, off) = self.map.get(&pc)?;
        let t = &self.blocks.units[u as usize].as_slice()[i as usize];
        Some((self.base as u64 + t.host_off as u64 + off as u64, t))
    }

    /// The translation containing host address `addr`, and the side-table
    /// entry of the guest instruction there.
    pub fn find_host(&self, addr: u64) -> Option<(&Translation, &SideEntry)> {
        find_host(&self.blocks, self.base as u64, addr)
    }

    /// Does a live translation entered at guest `pc` start at host `addr`?
    pub fn starts_at(&self, addr: u64, pc: u64) -> bool {
        let Some(off) = addr.checked_sub(self.base as u64) else {
            return false;
        };
        let list = &self.blocks.units[self.blocks.unit_of(off as usize)];
        let s = list.as_slice();
        let i = s.partition_point(|t| (t.host_off as u64) < off);
        s.get(i)
            .is_some_and(|t| t.host_off as u64 == off && t.guest_start == pc)
            && !self.is_dead(self.blocks.unit_of(off as usize), i)
    }

    /// Is `[addr, addr + len)` inside the live code of one unit?
    pub fn holds(&self, addr: u64, len: u64) -> bool {
        let Some(off) = addr.checked_sub(self.base as u64) else {
            return false;
        };
        let u = &self.units[self.blocks.unit_of(off as usize)];
        let lo = u.start.max(self.reserved) as u64;
        off >= lo && off + len <= u.used as u64
    }

    /// Record a chain just made: the jump field at `site` now leads to
    /// `target`. It is remembered in the target's unit, to be undone when
    /// that unit is evicted (if the chain comes from another unit) or the
    /// target translation invalidated.
    pub fn record_chain(&mut self, site: u64, target: u64) {
        let b = self.base as u64;
        let from = self.blocks.unit_of((site - b) as usize);
        let to = self.blocks.unit_of((target - b) as usize);
        let uses = self.units[from].uses;
        self.units[to].incoming.push(Incoming {
            site,
            from: from as u32,
            target: (target - b) as u32,
            uses,
        });
    }

    /// Record that the first-tier block at host `at` now jumps to the
    /// region at `target` (see [`Backend::redirect`]): if the region is
    /// invalidated, the block goes with it.
    ///
    /// [`Backend::redirect`]: crate::translate::backend::Backend::redirect
    pub fn record_redirect(&mut self, at: u64, target: u64) {
        self.redirects.push((at, target));
    }

    /// The translation containing host address `addr`: (unit, index).
    fn locate(&self, addr: u64) -> Option<(usize, usize)> {
        let off = u32::try_from(addr.checked_sub(self.base as u64)?).ok()?;
        let u = self.blocks.unit_of(off as usize);
        let list = self.blocks.units[u].as_slice();
        let i = list.partition_point(|t| t.host_off <= off).checked_sub(1)?;
        (off < list[i].host_off + list[i].host_len).then_some((u, i))
    }

    /// Is host address `addr` inside a translation killed by
    /// [`Self::invalidate`]?
    fn in_dead(&self, addr: u64) -> bool {
        self.locate(addr).is_some_and(|(u, i)| self.is_dead(u, i))
    }

    /// Was translation `i` of unit `u` killed by [`Self::invalidate`]?
    fn is_dead(&self, u: usize, i: usize) -> bool {
        self.units[u].dead.get(i).copied().unwrap_or(false)
    }

    /// Does a live translation come from a page of `ranges` (inclusive
    /// page-number ranges)?
    pub fn touches(&self, ranges: &[(u64, u64)]) -> bool {
        (0..self.units.len()).any(|u| {
            self.blocks.units[u]
                .as_slice()
                .iter()
                .enumerate()
                .any(|(i, t)| !self.is_dead(u, i) && meets(t, ranges))
        })
    }

    /// Kill every live translation made from a page of `ranges`
    /// (inclusive page-number ranges), and every first-tier block
    /// redirected to one of them: `unchain` gets each jump field of a
    /// live chain into them, to repoint to its own exit; their lookup
    /// entries go, their host code is filled with `int3`, and the
    /// generation moves. Returns the guest entry pcs of the translations
    /// killed.
    ///
    /// # Safety
    /// No translated code of this cache runs while this runs (the
    /// translator stops every thread first).
    pub unsafe fn invalidate(
        &mut self,
        ranges: &[(u64, u64)],
        mut unchain: impl FnMut(u64),
    ) -> Vec<u64> {
        let mut killed: Vec<(usize, usize)> = Vec::new();
        for u in 0..self.units.len() {
            for (i, t) in self.blocks.units[u].as_slice().iter().enumerate() {
                let d = &mut self.units[u].dead[i];
                if !*d && meets(t, ranges) {
                    *d = true;
                    killed.push((u, i));
                }
            }
        }
        // A first-tier block jumping to a dead region dies too.
        loop {
            let more: Vec<(usize, usize)> = self
                .redirects
                .iter()
                .filter(|r| self.in_dead(r.1) && !self.in_dead(r.0))
                .filter_map(|r| self.locate(r.0))
                .collect();
            if more.is_empty() {
                break;
            }
            for (u, i) in more {
                if !self.units[u].dead[i] {
                    self.units[u].dead[i] = true;
                    killed.push((u, i));
                }
            }
        }
        if killed.is_empty() {
            return Vec::new();
        }
        let redirects = core::mem::take(&mut self.redirects);
        self.redirects = redirects
            .into_iter()
            .filter(|r| !self.in_dead(r.0) && !self.in_dead(r.1))
            .collect();
        let b = self.base as u64;
        let mut units: Vec<usize> = killed.iter().map(|k| k.0).collect();
        units.sort_unstable();
        units.dedup();
        for u in units {
            let incoming = core::mem::take(&mut self.units[u].incoming);
            let mut keep = Vec::with_capacity(incoming.len());
            for c in incoming {
                if !self.in_dead(b + c.target as u64) {
                    keep.push(c);
                } else if self.units[c.from as usize].uses == c.uses && !self.in_dead(c.site) {
                    unchain(c.site);
                }
            }
            self.units[u].incoming = keep;
        }
        let mut pcs = Vec::with_capacity(killed.len());
        for &(u, i) in &killed {
            let t = &self.blocks.units[u].as_slice()[i];
            let mine =
                |e: Option<&(u32, u32, u32)>| e.is_some_and(|e| (e.0, e.1) == (u as u32, i as u32));
            for pc in core::iter::once(t.guest_start).chain(t.entries.iter().map(|e| e.0)) {
                if mine(self.map.get(&pc)) {
                    self.map.remove(&pc);
                }
            }
            pcs.push(t.guest_start);
            // SAFETY: the translation's code lies inside the region, and
            // no code runs (the caller's promise).
            unsafe {
                core::ptr::write_bytes(
                    self.base.add(t.host_off as usize),
                    0xcc,
                    t.host_len as usize,
                )
            };
        }
        self.dead += killed.len();
        self.generation += 1;
        pcs
    }

    /// Move on to the next unit (the oldest); returns whether it holds
    /// translations, which must then be evicted ([`Self::evict_current`])
    /// before anything is inserted.
    pub fn advance(&mut self) -> bool {
        self.cur = (self.cur + 1) % self.units.len();
        !self.blocks.units[self.cur].is_empty()
    }

    /// Evict every translation of the unit being filled (the oldest, after
    /// [`Self::advance`]): `unchain` gets each jump field of a live chain
    /// into it, to repoint to its own exit; the lookup entries, side
    /// tables and fallback slots go. Returns the translations evicted.
    ///
    /// # Safety
    /// No translated code of this cache runs, and no reader of
    /// [`CodeCache::blocks`] looks, while this runs (the translator stops
    /// every thread first).
    pub unsafe fn evict_current(&mut self, mut unchain: impl FnMut(u64)) -> usize {
        let v = self.cur;
        let incoming = core::mem::take(&mut self.units[v].incoming);
        for c in incoming {
            let from = c.from as usize;
            if from != v && self.units[from].uses == c.uses && !self.in_dead(c.site) {
                unchain(c.site);
            }
        }
        let list = &self.blocks.units[v];
        for (i, t) in list.as_slice().iter().enumerate() {
            // A newer translation at the same pc (a region replacing its
            // first-tier block) keeps its entry.
            let mine =
                |e: Option<&(u32, u32, u32)>| e.is_some_and(|e| (e.0, e.1) == (v as u32, i as u32));
            if mine(self.map.get(&t.guest_start)) {
                self.map.remove(&t.guest_start);
            }
            for &(pc, _) in &t.entries {
                if mine(self.map.get(&pc)) {
                    self.map.remove(&pc);
                }
            }
        }
        let dead = core::mem::take(&mut self.units[v].dead);
        let n = list.len() - dead.iter().filter(|&&d| d).count();
        self.dead -= list.len() - n;
        let (lo, hi) = (
            self.base as u64 + self.units[v].start as u64,
            self.base as u64 + self.units[v].end as u64,
        );
        self.redirects
            .retain(|r| !(lo..hi).contains(&r.0) && !(lo..hi).contains(&r.1));
        // SAFETY: the caller's promise; `&mut self` is the only writer.
        unsafe { list.clear() };
        // SAFETY: no thread runs translated code (the caller's promise).
        unsafe { self.poison(v) };
        let u = &mut self.units[v];
        u.used = if v == 0 { self.reserved } else { u.start };
        u.uses += 1;
        u.steps = (0, 0);
        self.generation += 1;
        n
    }

    /// Fill the used part of unit `v` with `int3`, so a jump left
    /// pointing into evicted code traps at once instead of running stale
    /// code (what the cache manager must never let happen).
    ///
    /// # Safety
    /// No translated code runs.
    unsafe fn poison(&mut self, v: usize) {
        let u = &self.units[v];
        let lo = if v == 0 { self.reserved } else { u.start };
        // SAFETY: `[lo, used)` lies inside the writable region and no
        // code runs there (the caller's promise).
        unsafe { core::ptr::write_bytes(self.base.add(lo), 0xcc, u.used - lo) };
    }

    /// Drop every translation.
    ///
    /// # Safety
    /// No translated code of this cache runs, and no reader of
    /// [`CodeCache::blocks`] looks, while this runs (the translator stops
    /// every thread first).
    pub unsafe fn flush(&mut self) {
        for i in 0..self.units.len() {
            // SAFETY: no thread runs translated code (the caller's promise).
            unsafe { self.poison(i) };
        }
        for (i, u) in self.units.iter_mut().enumerate() {
            // SAFETY: the caller's promise; `&mut self` is the only writer.
            unsafe { self.blocks.units[i].clear() };
            u.used = if i == 0 { self.reserved } else { u.start };
            u.uses += 1;
            u.steps = (0, 0);
            u.incoming.clear();
            u.dead.clear();
        }
        self.map.clear();
        self.dead = 0;
        self.redirects.clear();
        self.cur = 0;
        self.step_head = 0;
        self.generation += 1;
    }

    /// The host addresses that may hold translations: `[lo, hi)` (from
    /// the end of the fixed code to the end of the region).
    pub fn live_range(&self) -> (u64, u64) {
        let b = self.base as u64;
        (b + self.reserved as u64, b + self.capacity as u64)
    }
}

/// Was `t` made from a page of `ranges` (inclusive page-number ranges)?
fn meets(t: &Translation, ranges: &[(u64, u64)]) -> bool {
    t.pages
        .iter()
        .any(|&p| ranges.iter().any(|&(f, l)| f <= p && p <= l))
}

/// The translation among `blocks` (of a cache at host address `base`)
/// containing host address `addr`, and the side-table entry of the guest
/// instruction there.
pub fn find_host(blocks: &Blocks, base: u64, addr: u64) -> Option<(&Translation, &SideEntry)> {
    let off = u32::try_from(addr.checked_sub(base)?).ok()?;
    let list = blocks.units[blocks.unit_of(off as usize)].as_slice();
    let i = list.partition_point(|t| t.host_off <= off);
    let t = &list[i.checked_sub(1)?];
    if off >= t.host_off + t.host_len {
        return None;
    }
    t.at(off - t.host_off).map(|e| (t, e))
}

/// The translation holding host address `addr`, as (its entry pc, the
/// guest pc `addr` runs for): [`find_host`]'s answer, and for the entry
/// code a translation runs before its first instruction (loading the
/// registers it keeps in host registers) the entry pc, where `find_host`
/// has none because no guest instruction can fault there. For the
/// profiler, which charges time to guest code.
pub fn translation_pc(blocks: &Blocks, base: u64, addr: u64) -> Option<(u64, u64)> {
    let off = u32::try_from(addr.checked_sub(base)?).ok()?;
    let list = blocks.units[blocks.unit_of(off as usize)].as_slice();
    let i = list.partition_point(|t| t.host_off <= off);
    let t = &list[i.checked_sub(1)?];
    if off >= t.host_off + t.host_len {
        return None;
    }
    let pc = t.at(off - t.host_off).map_or(t.guest_start, |e| e.guest_pc);
    Some((t.guest_start, pc))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One writer appends while readers read what is published: every
    /// element a reader sees is whole and in order (run under Miri, this
    /// also checks the unsafe code for data races and UB).
    #[test]
    fn append_only_concurrent_readers() {
        extern crate std;
        use alloc::sync::Arc;
        let n = if cfg!(miri) { 50 } else { 5000 };
        let list = Arc::new(AppendOnly::<(u64, alloc::vec::Vec<u64>)>::new(n));
        let readers: alloc::vec::Vec<_> = (0..2)
            .map(|_| {
                let l = list.clone();
                std::thread::spawn(move || {
                    let mut seen = 0;
                    while seen < n {
                        let s = l.as_slice();
                        for (i, (k, v)) in s.iter().enumerate() {
                            assert_eq!(*k, i as u64);
                            assert_eq!(v.len(), i % 5);
                            assert!(v.iter().all(|&x| x == *k));
                        }
                        seen = s.len();
                        if seen > 0 {
                            let (k, _) = l.get(seen - 1).expect("published stays");
                            assert_eq!(*k as usize, seen - 1);
                        }
                    }
                })
            })
            .collect();
        for i in 0..n as u64 {
            // SAFETY: this thread is the only writer.
            let r = unsafe { list.push((i, alloc::vec![i; i as usize % 5])) };
            assert_eq!(r.ok(), Some(i as usize));
        }
        // SAFETY: still the only writer; full now.
        assert!(unsafe { list.push((0, alloc::vec::Vec::new())) }.is_err());
        for r in readers {
            r.join().unwrap();
        }
        // SAFETY: the readers are gone.
        unsafe { list.clear() };
        assert!(list.is_empty() && list.get(0).is_none());
    }
    use crate::host::HostOs;
    use crate::testhost::TestHost;

    fn t(pc: u64, n: u32) -> Translation {
        Translation {
            entries: Vec::new(),
            pages: alloc::vec![pc >> 12],
            guest_start: pc,
            guest_end: pc + 4 * n as u64,
            regs: [0; 9],
            fault_resume: 0,
            host_off: 0,
            host_len: 0,
            side: (0..n)
                .map(|i| SideEntry {
                    host_off: 10 * i,
                    guest_pc: pc + 4 * i as u64,
                    index: i,
                    len: 4,
                    invalid: 0,
                })
                .collect(),
        }
    }

    /// Samples in a translation's entry code (before its first side
    /// entry) go to its entry pc; the rest to the instruction's pc;
    /// nothing past its end.
    #[test]
    fn translation_pc_covers_entry_code() {
        let host = TestHost::leak();
        let base = host.alloc_code(4096).unwrap();
        let mut c = CodeCache::new(base, 4096, CachePolicy::Flush, 256);
        c.install_fixed(&[0xc3; 20]).unwrap();
        let mut tr = t(0x1000, 10);
        for e in &mut tr.side {
            e.host_off += 6;
        }
        let a = c.insert(&[0x90; 100], tr, 0).unwrap();
        let b = base as u64;
        assert!(c.find_host(a + 3).is_none());
        assert_eq!(translation_pc(&c.blocks, b, a + 3), Some((0x1000, 0x1000)));
        assert_eq!(translation_pc(&c.blocks, b, a + 17), Some((0x1000, 0x1004)));
        assert_eq!(translation_pc(&c.blocks, b, a + 100), None);
    }

    /// Invalidating a page kills the translations made from it (a page
    /// of any of their blocks) and a first-tier block redirected to one:
    /// their lookup entries go, chains into them (from the same unit
    /// too) are handed back to be undone, their code becomes `int3`;
    /// the others stay, and so do chains from dead code.
    #[test]
    fn invalidate_kills_by_page() {
        let host = TestHost::leak();
        let base = host.alloc_code(1 << 16).unwrap();
        let mut c = CodeCache::new(base, 1 << 16, CachePolicy::Fifo, 256);
        c.install_fixed(&[0xc3; 16]).unwrap();
        let a = c.insert(&[0x90; 64], t(0x1000, 4), 0).unwrap();
        // Entered in page 3, with a block traced in from page 2.
        let mut tr = t(0x3000, 4);
        tr.pages = alloc::vec![2, 3];
        tr.entries = alloc::vec![(0x3008, 20)];
        let b = c.insert(&[0x90; 64], tr, 0).unwrap();
        let first = c.insert(&[0x90; 64], t(0x5000, 2), 0).unwrap();
        let region = c.insert(&[0x90; 64], t(0x2000, 2), 0).unwrap();
        c.record_redirect(first, region);
        // Chains: a -> b (same unit), b -> a, first -> a.
        c.record_chain(a + 10, b);
        c.record_chain(b + 10, a);
        c.record_chain(first + 30, a + 5);
        let g = c.generation();
        assert!(!c.touches(&[(4, 4), (6, 9)]));
        assert!(c.touches(&[(2, 2)]));
        let mut sites = Vec::new();
        // SAFETY: nothing runs the cache's code or reads its blocks.
        let mut pcs = unsafe { c.invalidate(&[(2, 2)], |s| sites.push(s)) };
        pcs.sort_unstable();
        assert_eq!(pcs, [0x2000, 0x3000, 0x5000]);
        assert_eq!(sites, [a + 10]);
        assert_eq!(c.generation(), g + 1);
        assert_eq!(c.len(), 1);
        assert_eq!(c.lookup(0x1000), Some(a));
        for pc in [0x2000, 0x3000, 0x3008, 0x5000] {
            assert_eq!(c.lookup(pc), None, "{pc:#x}");
        }
        assert!(!c.starts_at(b, 0x3000) && c.starts_at(a, 0x1000));
        // SAFETY: `b` is inside the cache's memory.
        assert_eq!(unsafe { *(b as *const [u8; 64]) }, [0xcc; 64]);
        // Nothing left there: a second time kills nothing.
        // SAFETY: as above.
        assert!(unsafe { c.invalidate(&[(2, 3)], |_| panic!()) }.is_empty());
        // Evicting the unit later skips the chain from dead code into `a`.
        assert!((0..c.units()).any(|_| c.advance()));
        // SAFETY: as above.
        assert_eq!(unsafe { c.evict_current(|_| panic!()) }, 1);
        assert!(c.is_empty());
    }

    #[test]
    fn bump_lookup_flush() {
        let host = TestHost::leak();
        let base = host.alloc_code(4096).unwrap();
        let mut c = CodeCache::new(base, 4096, CachePolicy::Flush, 256);
        let fixed = c.install_fixed(&[0xc3; 20]).unwrap();
        assert_eq!(fixed, base as u64);
        let a = c.insert(&[0x90; 100], t(0x1000, 10), 0).unwrap();
        assert_eq!(a, base as u64 + 32);
        assert_eq!(c.lookup(0x1000), Some(a));
        assert_eq!(c.lookup(0x1004), None);
        let b = c.insert(&[0x90; 1000], t(0x2000, 3), 0).unwrap();
        assert_eq!(b, base as u64 + 144);
        // side table: host offset -> guest pc
        let (tr, e) = c.find_host(a + 35).unwrap();
        assert_eq!((tr.guest_start, e.guest_pc, e.index), (0x1000, 0x100c, 3));
        let (_, e) = c.find_host(b + 999).unwrap();
        assert_eq!(e.guest_pc, 0x2008);
        assert!(c.find_host(b + 1000).is_none());
        assert!(c.find_host(base as u64 + 5).is_none());
        // does not fit
        assert!(!c.fits(4000));
        assert!(c.insert(&[0x90; 4000], t(0x3000, 1), 0).is_none());
        assert_eq!(c.lookup(0x3000), None);
        // the live part: from after the fixed code to the last translation
        let (lo, hi) = c.live_range();
        assert!(lo > base as u64 && lo <= a);
        assert_eq!(hi, base as u64 + 4096);
        assert!(c.holds(a, 100) && c.holds(b + 996, 4) && !c.holds(b + 997, 4));
        assert!(!c.holds(base as u64, 4));
        assert!(c.starts_at(b, 0x2000) && !c.starts_at(b, 0x1000) && !c.starts_at(b + 16, 0x2000));
        let g = c.generation();
        // SAFETY: no code of this cache runs; nothing reads its blocks.
        unsafe { c.flush() };
        assert_eq!(c.generation(), g + 1);
        assert!(c.is_empty());
        assert_eq!(c.lookup(0x1000), None);
        assert_eq!(c.next_addr(), base as u64 + 32);
        let a2 = c.insert(&[0x90; 10], t(0x1000, 1), 0).unwrap();
        assert_eq!(a2, a);
        assert!(c.holds(a2, 10) && !c.holds(a2 + 10, 1));
    }
}
