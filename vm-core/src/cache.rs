//! The code cache and its manager: one bounded region of executable host
//! memory holding translations, the map from guest pc to translation, and
//! per-translation metadata (guest range, host range, side table).
//!
//! Allocation is a bump pointer. When a translation does not fit, the
//! manager flushes the whole cache (everything but the fixed prologue at
//! its start) and the translator starts over. Whole flush is chosen
//! because it is simple and obviously safe:
//! * chained exits (patched `jmp rel32` from one translation into another)
//!   and the indirect-jump table only ever point into the current
//!   generation, so dropping every translation at once unlinks every chain
//!   by construction; partial eviction (FIFO regions) would need back
//!   pointers from each translation to the exits that enter it;
//! * a flush only happens in the dispatcher with every thread out of
//!   translated code (see `translate::SharedCode`), so freed code is never
//!   executed;
//! * with a cache of a few MiB, real programs' working sets fit and
//!   flushes are rare; FIFO regions can come later if a workload thrashes.
//!
//! The same flush also serves invalidation: when guest code changes
//! (`fence.i`, unmap/mprotect of code, a store into a page holding code)
//! over a page that holds translated code, the engine flushes the whole
//! cache (changes elsewhere keep it, see `translate`).

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
    pub regs: [u8; 8],
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

/// A code cache over an executable host region.
#[derive(Debug)]
pub struct CodeCache {
    base: *mut u8,
    capacity: usize,
    /// Bytes at the start that survive flushes (entry and exit code).
    reserved: usize,
    used: usize,
    /// Sorted by `host_off`, because allocation only bumps upward; read
    /// without the translator's lock by host fault handlers (see
    /// [`CodeCache::blocks`]).
    blocks: alloc::sync::Arc<AppendOnly<Translation>>,
    /// Guest pc -> index in `blocks`.
    map: HashMap<u64, usize>,
    generation: u64,
}

impl CodeCache {
    /// A cache over `[base, base+capacity)`, which must be writable and
    /// executable and stay so for the cache's life.
    pub fn new(base: *mut u8, capacity: usize) -> CodeCache {
        CodeCache {
            base,
            capacity,
            reserved: 0,
            used: 0,
            // The smallest translation (a one-instruction block and its
            // exits) takes well over 32 bytes of host code.
            blocks: alloc::sync::Arc::new(AppendOnly::new(capacity / 32 + 1)),
            map: HashMap::new(),
            generation: 0,
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

    /// Bytes in use (including the fixed prologue).
    pub fn used(&self) -> usize {
        self.used
    }

    /// Incremented by every flush; a chaining site recorded in an older
    /// generation must not be patched.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The translations, for readers without the translator's lock:
    /// a host fault handler looking up the thread's own running code.
    pub fn blocks(&self) -> alloc::sync::Arc<AppendOnly<Translation>> {
        self.blocks.clone()
    }

    /// Number of live translations.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// No live translations?
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Host address where the next translation will be placed: the code
    /// must be assembled for this address.
    pub fn next_addr(&self) -> u64 {
        self.base as u64 + self.used.next_multiple_of(16) as u64
    }

    /// Copy fixed code that survives flushes (only before any translation).
    pub fn install_fixed(&mut self, code: &[u8]) -> Result<u64, TooBig> {
        debug_assert!(self.blocks.is_empty() && self.used == self.reserved);
        let at = self.write(code).ok_or(TooBig)?;
        self.reserved = self.used;
        Ok(at)
    }

    fn write(&mut self, code: &[u8]) -> Option<u64> {
        // Keep every translation 16-byte aligned (branch targets).
        let start = self.used.next_multiple_of(16);
        let end = start.checked_add(code.len())?;
        if end > self.capacity {
            return None;
        }
        // SAFETY: [start, end) lies inside the region (checked above), the
        // region is writable, and no translated code runs while the
        // dispatcher (the only caller) is here.
        unsafe {
            core::ptr::copy_nonoverlapping(code.as_ptr(), self.base.add(start), code.len());
        }
        self.used = end;
        Some(self.base as u64 + start as u64)
    }

    /// Does a translation of `len` bytes fit without a flush?
    pub fn fits(&self, len: usize) -> bool {
        self.used.next_multiple_of(16) + len <= self.capacity
    }

    /// Add a translation assembled for [`Self::next_addr`]. Returns its
    /// host address, or `None` when it does not fit (the caller flushes and
    /// translates again: the code is position dependent).
    pub fn insert(&mut self, code: &[u8], mut t: Translation) -> Option<u64> {
        if self.blocks.len() == self.blocks.slots.len() {
            return None;
        }
        let used = self.used;
        let at = self.write(code)?;
        t.host_off = (at - self.base as u64) as u32;
        t.host_len = code.len() as u32;
        let start = t.guest_start;
        // SAFETY: `&mut self` makes this the only writer; room was checked.
        match unsafe { self.blocks.push(t) } {
            Ok(i) => {
                self.map.insert(start, i);
                Some(at)
            }
            Err(_) => {
                self.used = used;
                None
            }
        }
    }

    /// Host address of the translation starting at guest `pc`.
    pub fn lookup(&self, pc: u64) -> Option<u64> {
        self.map
            .get(&pc)
            .map(|&i| self.base as u64 + self.blocks.as_slice()[i].host_off as u64)
    }

    /// The translation containing host address `addr`, and the side-table
    /// entry of the guest instruction there.
    pub fn find_host(&self, addr: u64) -> Option<(&Translation, &SideEntry)> {
        find_host(&self.blocks, self.base as u64, addr)
    }

    /// Drop every translation (see the module documentation for why the
    /// whole cache goes at once).
    ///
    /// # Safety
    /// No translated code of this cache runs, and no reader of
    /// [`CodeCache::blocks`] looks, while this runs (the translator stops
    /// every thread first).
    pub unsafe fn flush(&mut self) {
        // SAFETY: the caller's promise; `&mut self` is the only writer.
        unsafe { self.blocks.clear() };
        self.map.clear();
        self.used = self.reserved;
        self.generation += 1;
    }

    /// The host addresses holding live translations: `[lo, hi)`.
    pub fn live_range(&self) -> (u64, u64) {
        let b = self.base as u64;
        (b + self.reserved as u64, b + self.used as u64)
    }
}

/// The translation among `blocks` (of a cache at host address `base`)
/// containing host address `addr`, and the side-table entry of the guest
/// instruction there.
pub fn find_host(
    blocks: &AppendOnly<Translation>,
    base: u64,
    addr: u64,
) -> Option<(&Translation, &SideEntry)> {
    let off = u32::try_from(addr.checked_sub(base)?).ok()?;
    let blocks = blocks.as_slice();
    let i = blocks.partition_point(|t| t.host_off <= off);
    let t = &blocks[i.checked_sub(1)?];
    if off >= t.host_off + t.host_len {
        return None;
    }
    t.at(off - t.host_off).map(|e| (t, e))
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
            guest_start: pc,
            guest_end: pc + 4 * n as u64,
            regs: [0; 8],
            host_off: 0,
            host_len: 0,
            side: (0..n)
                .map(|i| SideEntry {
                    host_off: 10 * i,
                    guest_pc: pc + 4 * i as u64,
                    index: i,
                    len: 4,
                })
                .collect(),
        }
    }

    #[test]
    fn bump_lookup_flush() {
        let host = TestHost::leak();
        let base = host.alloc_code(4096).unwrap();
        let mut c = CodeCache::new(base, 4096);
        let fixed = c.install_fixed(&[0xc3; 20]).unwrap();
        assert_eq!(fixed, base as u64);
        let a = c.insert(&[0x90; 100], t(0x1000, 10)).unwrap();
        assert_eq!(a, base as u64 + 32);
        assert_eq!(c.lookup(0x1000), Some(a));
        assert_eq!(c.lookup(0x1004), None);
        let b = c.insert(&[0x90; 1000], t(0x2000, 3)).unwrap();
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
        assert!(c.insert(&[0x90; 4000], t(0x3000, 1)).is_none());
        assert_eq!(c.lookup(0x3000), None);
        // the live part: from after the fixed code to the last translation
        let (lo, hi) = c.live_range();
        assert!(lo > base as u64 && lo <= a);
        assert_eq!(hi, b + 1000);
        let g = c.generation();
        // SAFETY: no code of this cache runs; nothing reads its blocks.
        unsafe { c.flush() };
        assert_eq!(c.generation(), g + 1);
        assert!(c.is_empty());
        assert_eq!(c.lookup(0x1000), None);
        assert_eq!(c.next_addr(), base as u64 + 32);
        let a2 = c.insert(&[0x90; 10], t(0x1000, 1)).unwrap();
        assert_eq!(a2, a);
        assert_eq!(c.live_range(), (lo, a2 + 10));
    }
}
