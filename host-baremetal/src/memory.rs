//! Physical frames, page tables, the kernel heap and guest reservations.
//!
//! The bootloader maps all physical memory at `phys_offset`, so page tables
//! are edited directly through that window. The lower half of the virtual
//! address space belongs to this module (the bootloader is told to put its
//! own mappings in the upper half): the heap at [`HEAP_START`], then guest
//! reservations handed out from [`RESERVE_START`] upwards.
//!
//! A reservation (`HostOs::reserve`) costs no memory. `protect` only
//! records, in each page's leaf entry, what the page may be used for; the
//! first touch of an accessible page faults, and [`handle_page_fault`]
//! backs it with a zeroed frame. A page made inaccessible keeps its frame
//! (hidden: not present, address kept), so contents survive `PROT_NONE` as
//! the `HostOs` contract wants; `discard` frees the frames.
//!
//! Leaf entry encodings inside reservations:
//! * 0: not mapped (never made accessible, or discarded);
//! * not present, `SW_NONE`: mapped but inaccessible, no frame;
//! * not present, `SW_LAZY` + `SW_LAZY_WRITE`/`SW_LAZY_EXEC`: accessible,
//!   frame allocated on the first touch;
//! * not present, `SW_FRAME` + address: inaccessible, contents kept;
//! * present, `SW_FRAME` + address: backed, hardware flags per protection;
//! * not present, `SW_SHM` + object and page in the address bits (and the
//!   `SW_LAZY` bits when accessible): a page of a shared object ([`Shm`])
//!   that this address space has not touched yet;
//! * not present, `SW_GONE` (and the `SW_LAZY` bits of its protection): a
//!   page of a file mapping wholly past the file's end (the file was
//!   truncated under it, [`file_pages_gone`]): no frame, and a touch is a
//!   fault that is not resolved ([`handle_page_fault`] says no, so the
//!   guest gets `SIGBUS`: see [`crate::interrupts`]) until the file grows
//!   over it again ([`file_pages_back`]).
//!
//! So every mapped page whose table exists has a nonzero entry, which is
//! what [`usage_of`] counts for another process's `/proc/<pid>/statm`
//! (`protect` makes no table to make pages inaccessible, so a PROT_NONE
//! range far from any page ever accessible is not counted).
//!
//! A frame can back pages of several reservations (several processes):
//! `fork` shares `MAP_SHARED` ranges ([`share_pages`]: the frames of the
//! pages touched so far, and a [`Shm`] object for the rest, so a page
//! first touched after the fork, by either side, is one frame for both)
//! and, copy-on-write, the frames of private ranges ([`copy_pages`]).
//! A per-frame
//! count of extra users ([`Paging::refs`]) says when a frame is free. A
//! copy-on-write page carries `SW_COW` (present or hidden) and is never
//! writable in hardware; `SW_COW_WRITE` says that its protection allows
//! writes, so the first write faults and [`handle_page_fault`] gives the
//! page a copy of its own (or, once it is the frame's last user, takes the
//! frame). Kernel code writing guest memory faults the same way, as CR0.WP
//! is on.
//!
//! A shared object is also what a System V segment's memory is
//! ([`shm_object_new`], attached with [`shm_object_map`]) and what a
//! file's page cache is ([`crate::pagecache`]: the frames every
//! `MAP_SHARED` mapping of the file shows, loaded and read back through
//! the physical window by [`shm_object_store`] and [`shm_object_load`]).

use bootloader_api::BootInfo;
use bootloader_api::info::MemoryRegionKind;
use vm_core::host::{Errno, HostProt, SysResult};
use x86_64::instructions::tlb;
use x86_64::registers::control::{Cr0, Cr0Flags, Cr3};
use x86_64::registers::model_specific::{Efer, EferFlags};

const PAGE: u64 = 4096;
const PRESENT: u64 = 1;
const WRITABLE: u64 = 1 << 1;
const NO_EXECUTE: u64 = 1 << 63;
const HUGE: u64 = 1 << 7;
const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
const SW_LAZY: u64 = 1 << 9;
const SW_LAZY_WRITE: u64 = 1 << 10;
const SW_LAZY_EXEC: u64 = 1 << 11;
const SW_FRAME: u64 = 1 << 52;
const SW_COW: u64 = 1 << 53;
const SW_COW_WRITE: u64 = 1 << 54;
const SW_NONE: u64 = 1 << 55;
const SW_SHM: u64 = 1 << 56;
const SW_GONE: u64 = 1 << 57;
/// The protection bits a hidden entry keeps (`SW_SHM`, `SW_GONE`, lazy).
const LAZY_BITS: u64 = SW_LAZY | SW_LAZY_WRITE | SW_LAZY_EXEC;
/// An `SW_SHM` entry's address bits: the object's slot above the page's
/// index in it.
const SHM_INDEX_BITS: u32 = 28;
const SHM_SLOTS: usize = 1 << (40 - SHM_INDEX_BITS);

/// Start of the kernel heap.
pub const HEAP_START: u64 = 0x0000_2000_0000_0000;
/// Guest reservations are placed from here upwards, 1 GiB aligned.
pub const RESERVE_START: u64 = 0x0000_4000_0000_0000;
const RESERVE_END: u64 = 0x0000_7f00_0000_0000;
/// An address that is never mapped (above the reservations), for the
/// self-test of the kernel-fault path.
pub const UNMAPPED_PROBE: u64 = 0x0000_7f80_0000_0000;

/// Frames: a bump pointer through the usable regions plus a free list
/// threaded through the freed frames themselves (no heap needed, so the
/// page-fault handler can allocate).
struct Frames {
    regions: [(u64, u64); 64],
    nregions: usize,
    region: usize,
    next: u64,
    free_head: u64,
    free_count: u64,
    used: u64,
    total: u64,
}

struct Paging {
    phys_offset: u64,
    frames: Frames,
    /// Next free address for a reservation.
    reserve_next: u64,
    /// Reservations given back ([`release`]), (start, size), empty: handed
    /// out again to a reservation of the same size.
    released: alloc::vec::Vec<(u64, u64)>,
    /// Per frame (indexed by physical address / 4096): how many pages
    /// besides the first one it backs (0: one owner, freed with it). In
    /// the heap proper (backed at boot), as the paging code uses it under
    /// its lock, where a fault cannot be served.
    refs: &'static mut [u32],
    /// Shared objects by slot (the slot is in their pages' entries).
    shm: alloc::vec::Vec<Option<Shm>>,
}

/// The pages of a `MAP_SHARED` range that were not backed when a fork
/// shared it ([`share_pages`]). Each sharer's entry for such a page names
/// the object and the page (`SW_SHM`) until the page is first touched
/// through it, which takes the object's frame for the page, made (zeroed)
/// on the first touch of all: so every sharer gets the same frame, and
/// the fork costs no frame for the untouched pages. The object holds one
/// use of each frame it made, and ends (giving those back) when no entry
/// names it any more.
struct Shm {
    /// Page index -> frame, for the pages touched so far.
    frames: alloc::collections::BTreeMap<u64, u64>,
    /// How many entries name it.
    users: u64,
}

static PAGING: spin::Mutex<Option<Paging>> = spin::Mutex::new(None);
/// Has any page ever been made `SW_GONE`? Until then [`gone_from`] has
/// nothing to look for (a walk per host call would cost every call).
static ANY_GONE: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
/// Physical memory window, readable without the lock.
static PHYS_OFFSET: spin::Once<u64> = spin::Once::new();

static HEAP: linked_list_allocator::LockedHeap = linked_list_allocator::LockedHeap::empty();

/// Allocations of at least this many bytes are not carved from the heap
/// but get a reservation of their own, backed page by page on first
/// touch ([`KernelAlloc`]).
const BIG: usize = 1 << 20;

/// The kernel's allocator: small allocations from the heap (mapped at
/// boot), big ones ([`BIG`] and up: a process's page-permission table,
/// the translator's tables, large buffers) from a reservation of their
/// own whose pages get frames when first touched, as `mmap`ed memory does
/// under Linux, so a table that is mostly never used costs what is used.
/// Their pages start zeroed, so `alloc_zeroed` writes nothing. Code that
/// must not fault on them (the paging code under its lock, the page-fault
/// handler's stack) backs them first ([`back_now`]).
struct KernelAlloc;

#[global_allocator]
static ALLOC: KernelAlloc = KernelAlloc;

/// The reservation size for a big allocation of `size` bytes: a power of
/// two, so that freed reservations are handed out again ([`release`]).
fn big_size(size: usize) -> u64 {
    (size as u64).next_power_of_two()
}

// SAFETY: small blocks come from `linked_list_allocator`'s heap; a big
// block is a fresh reservation of `big_size` bytes (1 GiB aligned, so any
// alignment a layout asks for is met), readable and writable, used by
// nothing else until it is freed, and its pages read as zero until
// written.
unsafe impl core::alloc::GlobalAlloc for KernelAlloc {
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        if layout.size() < BIG {
            // SAFETY: forwarded with the caller's guarantees.
            return unsafe { HEAP.alloc(layout) };
        }
        let size = big_size(layout.size());
        let Ok(at) = reserve(size as usize) else {
            return core::ptr::null_mut();
        };
        if protect(at, size as usize, HostProt::READ | HostProt::WRITE).is_err() {
            let _ = release(at, size as usize);
            return core::ptr::null_mut();
        }
        at
    }

    unsafe fn alloc_zeroed(&self, layout: core::alloc::Layout) -> *mut u8 {
        if layout.size() < BIG {
            // SAFETY: forwarded with the caller's guarantees.
            return unsafe { HEAP.alloc_zeroed(layout) };
        }
        // SAFETY: as for `alloc`; fresh pages are zero.
        unsafe { self.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: core::alloc::Layout) {
        if layout.size() < BIG {
            // SAFETY: forwarded with the caller's guarantees.
            return unsafe { HEAP.dealloc(ptr, layout) };
        }
        let size = big_size(layout.size());
        let _ = release(ptr, size as usize);
    }
}

use core::alloc::GlobalAlloc;

impl Frames {
    /// A zeroed frame (page tables and guest pages must start clean).
    fn alloc(&mut self, phys_offset: u64) -> Option<u64> {
        let frame = self.alloc_dirty(phys_offset)?;
        // SAFETY: the frame is ours (usable memory, not handed out) and the
        // physical window maps it.
        unsafe { core::ptr::write_bytes((phys_offset + frame) as *mut u8, 0, PAGE as usize) };
        Some(frame)
    }

    /// A frame with whatever it held (the heap needs no zeroing, and
    /// zeroing hundreds of MiB under TCG costs seconds of boot time).
    fn alloc_dirty(&mut self, phys_offset: u64) -> Option<u64> {
        let frame = if self.free_head != 0 {
            let f = self.free_head;
            // SAFETY: a free frame holds the next free frame's address in
            // its first word, written by `free`.
            self.free_head = unsafe { *((phys_offset + f) as *const u64) };
            self.free_count -= 1;
            f
        } else {
            loop {
                if self.region >= self.nregions {
                    return None;
                }
                let (start, end) = self.regions[self.region];
                let at = self.next.max(start);
                if at + PAGE <= end {
                    self.next = at + PAGE;
                    break at;
                }
                self.region += 1;
            }
        };
        self.used += 1;
        Some(frame)
    }

    fn free(&mut self, phys_offset: u64, frame: u64) {
        // SAFETY: the caller gives back a frame it owned; we keep the list
        // link in its first word.
        unsafe { *((phys_offset + frame) as *mut u64) = self.free_head };
        self.free_head = frame;
        self.free_count += 1;
        self.used -= 1;
    }
}

impl Paging {
    fn table(&self, phys: u64) -> *mut [u64; 512] {
        (self.phys_offset + phys) as *mut [u64; 512]
    }

    /// The leaf entry for `va`, creating intermediate tables when `create`.
    fn leaf(&mut self, va: u64, create: bool) -> SysResult<Option<*mut u64>> {
        let (root, _) = Cr3::read();
        let mut table = root.start_address().as_u64();
        for level in (1..4).rev() {
            let index = ((va >> (12 + 9 * level)) & 0x1ff) as usize;
            // SAFETY: `table` is a page table frame reached from CR3, mapped
            // through the physical window.
            let entry = unsafe { &mut (*self.table(table))[index] };
            if *entry & PRESENT == 0 {
                if !create {
                    return Ok(None);
                }
                let frame = self.frames.alloc(self.phys_offset).ok_or(Errno::ENOMEM)?;
                *entry = frame | PRESENT | WRITABLE;
            } else if *entry & HUGE != 0 {
                // Our ranges never use huge pages; refuse rather than corrupt.
                return Err(Errno::EINVAL);
            }
            table = *entry & ADDR_MASK;
        }
        let index = ((va >> 12) & 0x1ff) as usize;
        // SAFETY: as above, for the last-level table.
        Ok(Some(unsafe {
            &mut (*self.table(table))[index] as *mut u64
        }))
    }

    /// Map `[va, va+len)` to fresh frames, read-write, now (kernel heap).
    fn map_eager(&mut self, va: u64, len: u64) -> SysResult<()> {
        let mut at = va;
        while at < va + len {
            let frame = self
                .frames
                .alloc_dirty(self.phys_offset)
                .ok_or(Errno::ENOMEM)?;
            let leaf = self.leaf(at, true)?.ok_or(Errno::ENOMEM)?;
            // SAFETY: `leaf` points into a live page table.
            unsafe { *leaf = frame | PRESENT | WRITABLE | NO_EXECUTE | SW_FRAME };
            at += PAGE;
        }
        Ok(())
    }

    /// One more page is backed by `frame`.
    fn share(&mut self, frame: u64) {
        self.refs[(frame / PAGE) as usize] += 1;
    }

    /// A page backed by `frame` lets it go: the frame is freed once no
    /// page uses it.
    fn put(&mut self, frame: u64) {
        let r = &mut self.refs[(frame / PAGE) as usize];
        if *r > 0 {
            *r -= 1;
        } else {
            self.frames.free(self.phys_offset, frame);
        }
    }

    /// Does one page alone use `frame`?
    fn exclusive(&self, frame: u64) -> bool {
        self.refs[(frame / PAGE) as usize] == 0
    }

    /// Give the copy-on-write page `*entry` a frame of its own (a copy, or
    /// the shared frame itself when it is the last user), writable in
    /// hardware if present and its protection allows writes. `None`: out
    /// of frames. The caller flushes the page's translation.
    fn unshare(&mut self, entry: &mut u64) -> Option<()> {
        if *entry & SW_COW == 0 {
            return Some(());
        }
        let frame = *entry & ADDR_MASK;
        let own = if self.exclusive(frame) {
            frame
        } else {
            let copy = self.frames.alloc_dirty(self.phys_offset)?;
            // SAFETY: both frames are mapped by the physical window; the
            // new one is ours alone.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    (self.phys_offset + frame) as *const u8,
                    (self.phys_offset + copy) as *mut u8,
                    PAGE as usize,
                )
            };
            self.put(frame);
            copy
        };
        let mut e = (*entry & !(ADDR_MASK | SW_COW | SW_COW_WRITE)) | own;
        if *entry & PRESENT != 0 && *entry & SW_COW_WRITE != 0 {
            e |= WRITABLE;
        }
        *entry = e;
        Some(())
    }

    /// The leaf entry for `va` if its tables exist, else the next address
    /// that may have one (a missing table covers its whole span).
    fn existing(&self, va: u64) -> SysResult<Result<*mut u64, u64>> {
        let (root, _) = Cr3::read();
        let mut table = root.start_address().as_u64();
        for level in (1..4).rev() {
            let shift = 12 + 9 * level;
            let index = ((va >> shift) & 0x1ff) as usize;
            // SAFETY: `table` is a page table frame reached from CR3,
            // mapped through the physical window; only read.
            let entry = unsafe { (*self.table(table))[index] };
            if entry & PRESENT == 0 {
                return Ok(Err((va | ((1 << shift) - 1)) + 1));
            }
            if entry & HUGE != 0 {
                // Our ranges never use huge pages; refuse rather than corrupt.
                return Err(Errno::EINVAL);
            }
            table = entry & ADDR_MASK;
        }
        let index = ((va >> 12) & 0x1ff) as usize;
        // SAFETY: as above, for the last-level table.
        Ok(Ok(unsafe { &mut (*self.table(table))[index] as *mut u64 }))
    }

    /// The one page walk of every range operation: `f` gets the address
    /// and leaf entry of each page of `[start, end)`, every page when
    /// `create` (making the tables that are missing), else only those
    /// whose tables exist (a missing table holds no page ever used).
    fn walk(
        &mut self,
        start: u64,
        end: u64,
        create: bool,
        mut f: impl FnMut(&mut Paging, u64, &mut u64) -> SysResult<()>,
    ) -> SysResult<()> {
        let mut at = start;
        while at < end {
            let leaf = if create {
                self.leaf(at, true)?.ok_or(Errno::ENOMEM)?
            } else {
                match self.existing(at)? {
                    Ok(leaf) => leaf,
                    Err(next) => {
                        at = next.min(end);
                        continue;
                    }
                }
            };
            // SAFETY: `leaf` points into a live page table; `f` may make
            // new tables (which changes no existing entry) but frees none.
            f(self, at, unsafe { &mut *leaf })?;
            at += PAGE;
        }
        Ok(())
    }

    /// A new shared object, empty and unused: its slot.
    fn shm_new(&mut self) -> Option<usize> {
        let obj = Shm {
            frames: alloc::collections::BTreeMap::new(),
            users: 0,
        };
        if let Some(slot) = self.shm.iter().position(Option::is_none) {
            self.shm[slot] = Some(obj);
            return Some(slot);
        }
        if self.shm.len() >= SHM_SLOTS {
            return None;
        }
        self.shm.push(Some(obj));
        Some(self.shm.len() - 1)
    }

    /// A hidden entry naming page `index` of the object in `slot`, which
    /// counts it as a user; `None` if the index does not fit.
    fn shm_entry(&mut self, slot: usize, index: u64) -> Option<u64> {
        if index >= 1 << SHM_INDEX_BITS {
            return None;
        }
        self.shm[slot].as_mut()?.users += 1;
        Some(SW_SHM | ((((slot as u64) << SHM_INDEX_BITS) | index) << 12))
    }

    /// The `SW_SHM` entry `entry` no longer names its object: the object
    /// ends with its last user.
    fn shm_drop(&mut self, entry: u64) {
        let (slot, _) = shm_key(entry);
        self.shm_unuse(slot);
    }

    /// One user of the object in `slot` is gone: the object ends with
    /// its last.
    fn shm_unuse(&mut self, slot: usize) {
        let Some(obj) = self.shm.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        obj.users -= 1;
        if obj.users == 0
            && let Some(obj) = self.shm[slot].take()
        {
            for frame in obj.frames.into_values() {
                self.put(frame);
            }
        }
    }

    /// The frame of page `index` of the object in `slot`, made (zeroed)
    /// if it has none and `make` (`None` then: it has none); `EINVAL` for
    /// no such object, `ENOMEM` when out of frames.
    fn shm_page(&mut self, slot: usize, index: u64, make: bool) -> SysResult<Option<u64>> {
        let obj = self
            .shm
            .get_mut(slot)
            .and_then(Option::as_mut)
            .ok_or(Errno::EINVAL)?;
        if let Some(&f) = obj.frames.get(&index) {
            return Ok(Some(f));
        }
        if !make {
            return Ok(None);
        }
        let f = self.frames.alloc(self.phys_offset).ok_or(Errno::ENOMEM)?;
        obj.frames.insert(index, f);
        Ok(Some(f))
    }

    /// The frame of page `entry` (`SW_SHM`) of its object: made, zeroed,
    /// on the first touch of all; one more page uses it.
    fn shm_frame(&mut self, entry: u64) -> Option<u64> {
        let (slot, index) = shm_key(entry);
        let obj = self.shm.get_mut(slot)?.as_mut()?;
        let frame = match obj.frames.get(&index) {
            Some(&f) => f,
            None => {
                let f = self.frames.alloc(self.phys_offset)?;
                obj.frames.insert(index, f);
                f
            }
        };
        self.share(frame);
        Some(frame)
    }

    /// Back the mapped page `*entry`, which has no frame yet: its shared
    /// object's frame (`SW_SHM`), else a fresh zeroed one; accessible as
    /// its protection says. `None`: out of frames. A not-present entry is
    /// never cached, so no flush is needed.
    fn fill(&mut self, entry: &mut u64) -> Option<()> {
        let frame = if *entry & SW_SHM != 0 {
            let f = self.shm_frame(*entry)?;
            self.shm_drop(*entry);
            f
        } else {
            self.frames.alloc(self.phys_offset)?
        };
        *entry = frame | SW_FRAME | lazy_flags(*entry);
        Some(())
    }

    /// The page `*entry` stops being mapped: its frame, or its use of a
    /// shared object, is given back.
    fn unmap(&mut self, entry: &mut u64) {
        if *entry & SW_FRAME != 0 {
            self.put(*entry & ADDR_MASK);
        } else if *entry & SW_SHM != 0 {
            self.shm_drop(*entry);
        }
        *entry = 0;
    }
}

/// The object slot and page index an `SW_SHM` entry names.
fn shm_key(entry: u64) -> (usize, u64) {
    let key = (entry & ADDR_MASK) >> 12;
    (
        (key >> SHM_INDEX_BITS) as usize,
        key & ((1 << SHM_INDEX_BITS) - 1),
    )
}

fn hardware_flags(prot: HostProt) -> u64 {
    let mut flags = PRESENT;
    if prot.contains(HostProt::WRITE) {
        flags |= WRITABLE;
    }
    if !prot.contains(HostProt::EXEC) {
        flags |= NO_EXECUTE;
    }
    flags
}

/// Take over memory management from the bootloader: frames, NX and
/// write protection, and a heap of `heap_size` bytes.
pub fn init(boot_info: &BootInfo) -> Result<(), &'static str> {
    let phys_offset = boot_info
        .physical_memory_offset
        .into_option()
        .ok_or("bootloader did not map physical memory")?;
    PHYS_OFFSET.call_once(|| phys_offset);
    let mut frames = Frames {
        regions: [(0, 0); 64],
        nregions: 0,
        region: 0,
        next: 0,
        free_head: 0,
        free_count: 0,
        used: 0,
        total: 0,
    };
    for r in boot_info.memory_regions.iter() {
        if r.kind != MemoryRegionKind::Usable {
            continue;
        }
        // Keep frame 0 out: a zero address means "none" in the free list.
        let start = ((r.start + PAGE - 1) & !(PAGE - 1)).max(PAGE);
        let end = r.end & !(PAGE - 1);
        if end > start && frames.nregions < frames.regions.len() {
            frames.regions[frames.nregions] = (start, end);
            frames.nregions += 1;
            frames.total += (end - start) / PAGE;
        }
    }
    // SAFETY: enabling NX (so NO_EXECUTE bits are legal) and supervisor
    // write protection changes no existing mapping's meaning for the kernel.
    unsafe {
        Efer::update(|f| f.insert(EferFlags::NO_EXECUTE_ENABLE));
        Cr0::update(|f| f.insert(Cr0Flags::WRITE_PROTECT));
    }
    let total = frames.total * PAGE;
    // Half of memory for the kernel heap (guest metadata, of which each
    // process has its own, translator tables, /tmp files, loader
    // buffers); the rest backs guest pages on demand.
    let heap_size = (total / 2).clamp(16 << 20, 1 << 30) & !(PAGE - 1);
    let top = frames.regions[..frames.nregions]
        .iter()
        .map(|r| r.1)
        .max()
        .unwrap_or(0);
    let mut paging = Paging {
        phys_offset,
        frames,
        reserve_next: RESERVE_START,
        released: alloc::vec::Vec::new(),
        refs: &mut [],
        shm: alloc::vec::Vec::new(),
    };
    paging
        .map_eager(HEAP_START, heap_size)
        .map_err(|_| "not enough memory for the kernel heap")?;
    // SAFETY: [HEAP_START, +heap_size) was just mapped read-write and is
    // used by nothing else.
    unsafe { HEAP.lock().init(HEAP_START as *mut u8, heap_size as usize) };
    let nrefs = (top / PAGE) as usize;
    let layout = core::alloc::Layout::array::<u32>(nrefs).map_err(|_| "frame table too big")?;
    // SAFETY: the heap was just initialised; the layout is nonzero.
    let refs = unsafe { HEAP.alloc_zeroed(layout) } as *mut u32;
    if refs.is_null() {
        return Err("not enough memory for the frame table");
    }
    // SAFETY: a fresh zeroed allocation of `nrefs` u32s, never freed.
    paging.refs = unsafe { core::slice::from_raw_parts_mut(refs, nrefs) };
    *PAGING.lock() = Some(paging);
    Ok(())
}

/// Memory figures for `sysinfo`: (total bytes, free bytes).
pub fn usage() -> (u64, u64) {
    let paging = PAGING.lock();
    let Some(p) = paging.as_ref() else {
        return (0, 0);
    };
    let heap_free = HEAP.lock().free() as u64;
    let frames_free = p.frames.total - p.frames.used;
    (p.frames.total * PAGE, frames_free * PAGE + heap_free)
}

/// Free bytes in the kernel heap.
pub fn heap_free() -> u64 {
    HEAP.lock().free() as u64
}

/// Give every lazily backed page of `[addr, addr+len)` its frame now, so
/// that touching it cannot fault (a big allocation about to be written
/// under the paging lock, a kernel stack).
fn back_range(p: &mut Paging, addr: u64, len: u64) -> SysResult<()> {
    let mut at = addr & !(PAGE - 1);
    while at < addr + len {
        if (RESERVE_START..RESERVE_END).contains(&at)
            && let Some(leaf) = p.leaf(at, false)?
        {
            // SAFETY: `leaf` points into a live page table.
            let entry = unsafe { &mut *leaf };
            if *entry & SW_LAZY != 0 && *entry & (SW_FRAME | SW_GONE) == 0 {
                p.fill(entry).ok_or(Errno::ENOMEM)?;
            }
        }
        at += PAGE;
    }
    Ok(())
}

/// [`back_range`] for kernel memory (a big allocation) outside the lock.
pub fn back_now(addr: *const u8, len: usize) -> SysResult<()> {
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    back_range(p, addr as u64, len as u64)
}

/// Bytes of memory not yet backing anything (frames free).
pub fn frames_free() -> u64 {
    PAGING
        .lock()
        .as_ref()
        .map_or(0, |p| (p.frames.total - p.frames.used) * PAGE)
}

/// `HostOs::reserve`: a fresh, inaccessible, 1 GiB aligned virtual range.
pub fn reserve(size: usize) -> SysResult<*mut u8> {
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    let size = (size as u64).checked_add(PAGE - 1).ok_or(Errno::ENOMEM)? & !(PAGE - 1);
    if let Some(i) = p.released.iter().position(|&(_, s)| s == size) {
        return Ok(p.released.swap_remove(i).0 as *mut u8);
    }
    let start = p.reserve_next;
    let end = start.checked_add(size).ok_or(Errno::ENOMEM)?;
    if end > RESERVE_END {
        return Err(Errno::ENOMEM);
    }
    p.reserve_next = (end + (1 << 30) - 1) & !((1 << 30) - 1);
    Ok(start as *mut u8)
}

fn check_range(addr: *mut u8, len: usize) -> SysResult<(u64, u64)> {
    let start = addr as u64;
    let end = start.checked_add(len as u64).ok_or(Errno::EINVAL)?;
    if !start.is_multiple_of(PAGE)
        || !end.is_multiple_of(PAGE)
        || start < RESERVE_START
        || end > RESERVE_END
    {
        return Err(Errno::EINVAL);
    }
    Ok((start, end))
}

/// Flush the TLB for `[start, end)`: page by page when short, else all.
fn flush(start: u64, end: u64) {
    if (end - start) / PAGE <= 64 {
        let mut at = start;
        while at < end {
            tlb::flush(x86_64::VirtAddr::new(at));
            at += PAGE;
        }
    } else {
        tlb::flush_all();
    }
}

/// `HostOs::protect`.
pub fn protect(addr: *mut u8, len: usize, prot: HostProt) -> SysResult<()> {
    let (start, end) = check_range(addr, len)?;
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    let mut lazy = 0;
    if !prot.is_empty() {
        lazy |= SW_LAZY;
    }
    if prot.contains(HostProt::WRITE) {
        lazy |= SW_LAZY_WRITE;
    }
    if prot.contains(HostProt::EXEC) {
        lazy |= SW_LAZY_EXEC;
    }
    // Making pages inaccessible never needs new tables: a large PROT_NONE
    // reservation costs none (its pages without a table then read as
    // holes to `usage_of`).
    let r = p.walk(start, end, !prot.is_empty(), |_, _, entry| {
        let frame = (*entry & SW_FRAME != 0).then_some(*entry & ADDR_MASK);
        // A copy-on-write page stays so, read-only in hardware.
        let cow = *entry & SW_COW;
        *entry = match (frame, prot.is_empty()) {
            (Some(f), true) => f | SW_FRAME | cow,
            (Some(f), false) if cow != 0 => {
                let mut e = (f | SW_FRAME | SW_COW | hardware_flags(prot)) & !WRITABLE;
                if prot.contains(HostProt::WRITE) {
                    e |= SW_COW_WRITE;
                }
                e
            }
            (Some(f), false) => f | SW_FRAME | hardware_flags(prot),
            // A shared object's page keeps naming it.
            (None, _) if *entry & SW_SHM != 0 => (*entry & (SW_SHM | ADDR_MASK)) | lazy,
            // A page past its file's end stays gone, with the protection
            // it gets back if the file grows over it again.
            (None, _) if *entry & SW_GONE != 0 => SW_GONE | lazy,
            (None, true) => SW_NONE,
            (None, false) => lazy,
        };
        Ok(())
    });
    flush(start, end);
    r
}

/// Which pages of `[addr, addr + 4096 * out.len())` have a frame (were
/// touched): `true` in `out` for each.
pub fn backed(addr: *mut u8, out: &mut [bool]) -> SysResult<()> {
    let (start, _) = check_range(addr, out.len() * PAGE as usize)?;
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    back_range(p, out.as_ptr() as u64, out.len() as u64)?;
    for (i, b) in out.iter_mut().enumerate() {
        let va = start + i as u64 * PAGE;
        // SAFETY: `leaf` points into a live page table; only read.
        *b = p
            .leaf(va, false)?
            .is_some_and(|l| unsafe { *l } & SW_FRAME != 0);
    }
    Ok(())
}

/// `HostOs::discard`.
pub fn discard(addr: *mut u8, len: usize) -> SysResult<()> {
    let (start, end) = check_range(addr, len)?;
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    let r = p.walk(start, end, false, |p, _, entry| {
        p.unmap(entry);
        Ok(())
    });
    flush(start, end);
    r
}

/// `HostOs::release`: free every frame of the reservation `[addr,
/// addr+len)` (a process's address space that nothing uses any more);
/// returns the bytes that were backed (its resident size at the end).
/// The range, all inaccessible now, is handed out again by [`reserve`].
pub fn release(addr: *mut u8, len: usize) -> SysResult<u64> {
    let (start, end) = check_range(addr, len)?;
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    let mut backed = 0;
    let r = p.walk(start, end, false, |p, _, entry| {
        if *entry & SW_FRAME != 0 {
            backed += PAGE;
        }
        p.unmap(entry);
        Ok(())
    });
    tlb::flush_all();
    r?;
    p.released.push((start, end - start));
    Ok(backed)
}

/// `HostOs::copy_pages`: give each backed page of `[from, from+len)` a
/// copy at the same offset from `to` (whose pages have none yet), hidden
/// (inaccessible, contents kept) until `protect` opens it. The copy is
/// copy-on-write: both pages keep the one frame, read-only in hardware,
/// until either is written.
pub fn copy_pages(from: u64, to: u64, len: u64) -> SysResult<()> {
    let (start, end) = check_range(from as *mut u8, len as usize)?;
    check_range(to as *mut u8, len as usize)?;
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    let r = p.walk(start, end, false, |p, at, src| {
        if *src & SW_GONE != 0 {
            // Past its file's end in the copy too (the copy's mapping of
            // the file gets it back if the file grows).
            let dst = p.leaf(to + (at - start), true)?.ok_or(Errno::ENOMEM)?;
            // SAFETY: as below; a not-present entry is never cached.
            unsafe { *dst = *src };
            return Ok(());
        }
        if *src & SW_SHM != 0 {
            // A private copy of a shared object's page: its contents now.
            p.fill(src).ok_or(Errno::ENOMEM)?;
        }
        if *src & SW_FRAME == 0 {
            return Ok(());
        }
        let frame = *src & ADDR_MASK;
        let dst = p.leaf(to + (at - start), true)?.ok_or(Errno::ENOMEM)?;
        p.share(frame);
        let mut cow = *src | SW_COW;
        if *src & PRESENT != 0 && *src & WRITABLE != 0 {
            cow = (cow & !WRITABLE) | SW_COW_WRITE;
        }
        *src = cow;
        // SAFETY: `dst` points into a live page table (creating it changed
        // no existing entry); the entry was empty (a fresh reservation), so
        // no stale translation of it is cached; the parent's is flushed
        // below.
        unsafe { *dst = frame | SW_FRAME | SW_COW };
        Ok(())
    });
    flush(start, end);
    r
}

/// `HostOs::move_pages`: move the pages of `[from, from+len)` to `[to,
/// to+len)` (not overlapping; what was there is let go) as they are:
/// their frames, a shared object's page still naming it, copy-on-write
/// state and protection, so a file's view stays one and shared memory
/// stays shared. `from` is left with nothing mapped.
pub fn move_pages(from: u64, to: u64, len: u64) -> SysResult<()> {
    let (start, end) = check_range(from as *mut u8, len as usize)?;
    let (to_start, to_end) = check_range(to as *mut u8, len as usize)?;
    if start < to_end && to_start < end {
        return Err(Errno::EINVAL);
    }
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    // The tables `to` needs first, so that nothing fails half-way.
    p.walk(to_start, to_end, true, |p, _, entry| {
        p.unmap(entry);
        Ok(())
    })?;
    let r = p.walk(start, end, false, |p, at, src| {
        let dst = p
            .leaf(to_start + (at - start), false)?
            .ok_or(Errno::ENOMEM)?;
        // SAFETY: `dst` points into a live page table (made above); its
        // translation is flushed below.
        unsafe { *dst = *src };
        *src = 0;
        Ok(())
    });
    flush(start, end);
    flush(to_start, to_end);
    r
}

/// `HostOs::share_pages`: let the page at each offset of `[to, to+len)`
/// (whose pages have none yet) show the same memory as the one at that
/// offset of `[from, from+len)` (a `MAP_SHARED` range), hidden until
/// `protect` opens it, so writes through either are seen through both.
/// A backed page's frame is shared now; the pages never touched are
/// shared lazily through a new shared object ([`Shm`]) that both sides
/// name, so they cost no frame until one side touches them.
pub fn share_pages(from: u64, to: u64, len: u64) -> SysResult<()> {
    let (start, end) = check_range(from as *mut u8, len as usize)?;
    check_range(to as *mut u8, len as usize)?;
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    let mut obj: Option<Option<usize>> = None;
    let r = p.walk(start, end, true, |p, at, entry| {
        let shared = if *entry & SW_GONE != 0 {
            // Past its file's end: so in the copy (whose mapping of the
            // file gets it back if the file grows).
            Some(*entry)
        } else if *entry & SW_SHM != 0 {
            // Already a shared object's page (an earlier fork): the copy
            // names the same page.
            let (slot, index) = shm_key(*entry);
            p.shm_entry(slot, index)
        } else if *entry & SW_FRAME == 0 {
            // Never touched: a page of this range's object (made now, for
            // the first such page), unless there is no room for one.
            let slot = *obj.get_or_insert_with(|| p.shm_new());
            let index = (at - start) / PAGE;
            match slot.and_then(|s| Some((p.shm_entry(s, index)?, p.shm_entry(s, index)?))) {
                Some((mine, theirs)) => {
                    *entry = mine | (*entry & (SW_LAZY | SW_LAZY_WRITE | SW_LAZY_EXEC));
                    Some(theirs)
                }
                None => {
                    p.fill(entry).ok_or(Errno::ENOMEM)?;
                    None
                }
            }
        } else {
            None
        };
        let dst = p.leaf(to + (at - start), true)?.ok_or(Errno::ENOMEM)?;
        let new = match shared {
            Some(e) => e,
            None => {
                p.unshare(entry).ok_or(Errno::ENOMEM)?;
                let frame = *entry & ADDR_MASK;
                p.share(frame);
                frame | SW_FRAME
            }
        };
        // SAFETY: `dst` points into a live page table; the entry was
        // empty (a fresh reservation), so no stale translation is cached.
        unsafe { *dst = new };
        Ok(())
    });
    // An object no page named (a failure half-way) goes again.
    if let Some(Some(slot)) = obj
        && p.shm[slot].as_ref().is_some_and(|o| o.users == 0)
    {
        p.shm[slot] = None;
    }
    flush(start, end);
    r
}

/// A System V segment's memory ([`crate::ipc`]): a new shared object
/// ([`Shm`]) that the segment itself uses until [`shm_object_put`], so
/// its pages live on between attachments; its slot is the handle.
pub fn shm_object_new() -> SysResult<u64> {
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    let slot = p.shm_new().ok_or(Errno::ENOSPC)?;
    if let Some(obj) = p.shm[slot].as_mut() {
        obj.users = 1;
    }
    Ok(slot as u64)
}

/// The segment with memory `handle` is gone: its own use of the object
/// ends (attached pages keep theirs).
pub fn shm_object_put(handle: u64) {
    if let Some(p) = PAGING.lock().as_mut() {
        p.shm_unuse(handle as usize);
    }
}

/// Attach the object `handle` at `[addr, addr+len)` (mapped already, its
/// protection set) from its page `first`: each page names the object's
/// page at its offset, so it shows the frame every attachment shares,
/// made on the first touch by any (a System V segment maps from page 0,
/// a file's page cache from the mapping's offset).
pub fn shm_object_map(handle: u64, addr: *mut u8, len: usize, first: u64) -> SysResult<()> {
    let (start, end) = check_range(addr, len)?;
    let slot = handle as usize;
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    if p.shm.get(slot).is_none_or(Option::is_none) {
        return Err(Errno::EINVAL);
    }
    let r = p.walk(start, end, true, |p, at, entry| {
        let lazy = *entry & (SW_LAZY | SW_LAZY_WRITE | SW_LAZY_EXEC);
        p.unmap(entry);
        let index = first
            .checked_add((at - start) / PAGE)
            .ok_or(Errno::ENOMEM)?;
        let named = p.shm_entry(slot, index).ok_or(Errno::ENOMEM)?;
        *entry = named | lazy;
        Ok(())
    });
    flush(start, end);
    r
}

/// Map the object `handle` at `[addr, addr+len)` from its page `first`
/// copy-on-write, with protection `prot` (a private file mapping of a
/// file's page cache): each page shows the object's frame (made now if
/// it has none), so it sees every later change to it, until the page is
/// first written, which gives it a copy of its own ([`handle_page_fault`]).
/// What was mapped there before is let go.
pub fn shm_object_map_private(
    handle: u64,
    addr: *mut u8,
    len: usize,
    first: u64,
    prot: HostProt,
) -> SysResult<()> {
    let (start, end) = check_range(addr, len)?;
    let slot = handle as usize;
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    let r = p.walk(start, end, true, |p, at, entry| {
        p.unmap(entry);
        let index = first
            .checked_add((at - start) / PAGE)
            .ok_or(Errno::ENOMEM)?;
        let frame = p.shm_page(slot, index, true)?.ok_or(Errno::ENOMEM)?;
        p.share(frame);
        let mut e = frame | SW_FRAME | SW_COW;
        if !prot.is_empty() {
            e |= hardware_flags(prot) & !WRITABLE;
            if prot.contains(HostProt::WRITE) {
                e |= SW_COW_WRITE;
            }
        }
        *entry = e;
        Ok(())
    });
    flush(start, end);
    r
}

/// Write `data` (at most a page) at the start of page `index` of the
/// object `handle`, the rest of the page zero, through the physical
/// window (every page naming it sees the bytes at once). A page with no
/// frame yet gets one when `make`, else is left alone. Returns whether
/// the page has a frame now. For a file's page cache
/// ([`crate::pagecache`]), which loads the file's bytes this way.
pub fn shm_object_store(handle: u64, index: u64, data: &[u8], make: bool) -> SysResult<bool> {
    let n = data.len().min(PAGE as usize);
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    let Some(frame) = p.shm_page(handle as usize, index, make)? else {
        return Ok(false);
    };
    let dst = (p.phys_offset + frame) as *mut u8;
    // SAFETY: the frame is the object's (alive while the lock is held)
    // and the physical window maps it; `n` bytes then the rest of the
    // page stay inside it.
    unsafe {
        core::ptr::copy_nonoverlapping(data.as_ptr(), dst, n);
        core::ptr::write_bytes(dst.add(n), 0, PAGE as usize - n);
    }
    Ok(true)
}

/// Copy page `index` of the object `handle` into `buf` (up to a page),
/// if the page has a frame: whether it had.
pub fn shm_object_load(handle: u64, index: u64, buf: &mut [u8]) -> SysResult<bool> {
    let n = buf.len().min(PAGE as usize);
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    let Some(frame) = p.shm_page(handle as usize, index, false)? else {
        return Ok(false);
    };
    let src = (p.phys_offset + frame) as *const u8;
    // SAFETY: as in `shm_object_store`, read only.
    unsafe { core::ptr::copy_nonoverlapping(src, buf.as_mut_ptr(), n) };
    Ok(true)
}

/// The object `handle` lets go of its pages from `first` on (its file
/// shrank below them: [`crate::pagecache`]); a frame still named by a
/// page table entry lives on with that entry.
pub fn shm_object_trim(handle: u64, first: u64) {
    let mut guard = PAGING.lock();
    let Some(p) = guard.as_mut() else {
        return;
    };
    let Some(obj) = p.shm.get_mut(handle as usize).and_then(Option::as_mut) else {
        return;
    };
    let gone = obj.frames.split_off(&first);
    for frame in gone.into_values() {
        p.put(frame);
    }
}

/// The protection of entry `e` as lazy bits (what it gets back if it is
/// backed again).
fn lazy_of(e: u64) -> u64 {
    if e & SW_FRAME == 0 {
        return e & LAZY_BITS;
    }
    if e & PRESENT == 0 {
        return 0;
    }
    let mut lazy = SW_LAZY;
    if e & (WRITABLE | SW_COW_WRITE) != 0 {
        lazy |= SW_LAZY_WRITE;
    }
    if e & NO_EXECUTE == 0 {
        lazy |= SW_LAZY_EXEC;
    }
    lazy
}

/// The mapped pages of `[addr, addr+len)` (a file mapping's, inside a
/// reservation) lie wholly past their file's end now: each lets go of
/// what backed it (its frame, shared or a private copy, or its name of
/// the file's page) and becomes `SW_GONE`, so the next touch faults for
/// good (`SIGBUS` for the guest), as Linux unmaps such pages when the
/// file is truncated. Pages already gone, or not mapped, stay so.
pub fn file_pages_gone(addr: u64, len: u64) -> SysResult<()> {
    let (start, end) = check_range(addr as *mut u8, len as usize)?;
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    ANY_GONE.store(true, core::sync::atomic::Ordering::Relaxed);
    let r = p.walk(start, end, false, |p, _, entry| {
        if *entry == 0 || *entry & SW_GONE != 0 {
            return Ok(());
        }
        let lazy = lazy_of(*entry);
        p.unmap(entry);
        *entry = SW_GONE | lazy;
        Ok(())
    });
    flush(start, end);
    r
}

/// The `SW_GONE` pages of `[addr, addr+len)` are inside their file again
/// (it grew): each shows page `first + i` of the file's page cache (the
/// object `handle`) again with the protection it kept, as a new touch of
/// the page does on Linux: named as the shared object's page for a
/// shared mapping, copy-on-write of the cache's frame (made now) for a
/// private one. Other pages are left alone.
pub fn file_pages_back(
    addr: u64,
    len: u64,
    handle: u64,
    first: u64,
    private: bool,
) -> SysResult<()> {
    let (start, end) = check_range(addr as *mut u8, len as usize)?;
    let slot = handle as usize;
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    let r = p.walk(start, end, false, |p, at, entry| {
        if *entry & SW_GONE == 0 {
            return Ok(());
        }
        let lazy = *entry & LAZY_BITS;
        let index = first + (at - start) / PAGE;
        *entry = if private {
            let frame = p.shm_page(slot, index, true)?.ok_or(Errno::ENOMEM)?;
            p.share(frame);
            let mut e = frame | SW_FRAME | SW_COW | (lazy_flags(lazy) & !WRITABLE);
            if lazy & SW_LAZY_WRITE != 0 {
                e |= SW_COW_WRITE;
            }
            e
        } else {
            p.shm_entry(slot, index).ok_or(Errno::ENOMEM)? | lazy
        };
        Ok(())
    });
    flush(start, end);
    r
}

/// Where the bytes `[addr, addr+len)` (host addresses; guest memory a
/// host call was handed) first reach a page gone past its file's end:
/// the count of bytes before it, or `None` when no byte does.
pub fn gone_from(addr: u64, len: usize) -> Option<usize> {
    if len == 0 || !ANY_GONE.load(core::sync::atomic::Ordering::Relaxed) {
        return None;
    }
    let end = addr.checked_add(len as u64)?;
    let mut guard = PAGING.lock();
    let p = guard.as_mut()?;
    let mut page = addr & !(PAGE - 1);
    while page < end {
        if (RESERVE_START..RESERVE_END).contains(&page)
            && let Ok(Some(leaf)) = p.leaf(page, false)
            // SAFETY: `leaf` points into a live page table; only read.
            && unsafe { *leaf } & SW_GONE != 0
        {
            return Some((page.max(addr) - addr) as usize);
        }
        page += PAGE;
    }
    None
}

/// Is the page holding `addr` gone past its file's end (`SW_GONE`)? For
/// the fault handler, which may run with the paging lock held elsewhere
/// (then: no).
pub fn is_gone(addr: u64) -> bool {
    if !(RESERVE_START..RESERVE_END).contains(&addr) {
        return false;
    }
    let Some(mut guard) = PAGING.try_lock() else {
        return false;
    };
    let Some(p) = guard.as_mut() else {
        return false;
    };
    // SAFETY: `leaf` points into a live page table; only read.
    matches!(p.leaf(addr & !(PAGE - 1), false), Ok(Some(l)) if unsafe { *l } & SW_GONE != 0)
}

/// The hardware flags a lazily backed entry (`SW_LAZY`...) gets with its
/// frame; none (hidden) for an inaccessible one.
fn lazy_flags(entry: u64) -> u64 {
    if entry & SW_LAZY == 0 {
        return 0;
    }
    let mut prot = HostProt::READ;
    if entry & SW_LAZY_WRITE != 0 {
        prot |= HostProt::WRITE;
    }
    if entry & SW_LAZY_EXEC != 0 {
        prot |= HostProt::EXEC;
    }
    hardware_flags(prot)
}

/// Which pages of `[addr, addr + 4096 * out.len())` have a frame that
/// no other page uses (`HostOs::pagemap`'s exclusive bit).
pub fn exclusive(addr: *mut u8, out: &mut [bool]) -> SysResult<()> {
    let (start, _) = check_range(addr, out.len() * PAGE as usize)?;
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    back_range(p, out.as_ptr() as u64, out.len() as u64)?;
    for (i, b) in out.iter_mut().enumerate() {
        let va = start + i as u64 * PAGE;
        // SAFETY: `leaf` points into a live page table; only read.
        let e = p.leaf(va, false)?.map_or(0, |l| unsafe { *l });
        *b = e & SW_FRAME != 0 && p.exclusive(e & ADDR_MASK);
    }
    Ok(())
}

/// A reservation's pages by what they are, bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    /// Mapped (any protection), backed by a frame, readable but not
    /// writable, writable. (Guest pages are never executable in hardware:
    /// guest code is interpreted or translated, not run in place.)
    pub mapped: u64,
    pub resident: u64,
    pub read_only: u64,
    pub write: u64,
}

/// Add the pages of `[addr, addr+len)` (a process's address space) to
/// `into`, for another process's `/proc/<pid>/statm` and `status`.
pub fn usage_of(addr: u64, len: u64, into: &mut Usage) -> SysResult<()> {
    let (start, end) = check_range(addr as *mut u8, len as usize)?;
    let mut guard = PAGING.lock();
    let p = guard.as_mut().ok_or(Errno::ENOMEM)?;
    p.walk(start, end, false, |_, _, entry| {
        let e = *entry;
        if e == 0 {
            return Ok(());
        }
        into.mapped += PAGE;
        let (open, write) = if e & SW_FRAME != 0 {
            into.resident += PAGE;
            (e & PRESENT != 0, e & (WRITABLE | SW_COW_WRITE) != 0)
        } else {
            (e & SW_LAZY != 0, e & SW_LAZY_WRITE != 0)
        };
        match (open, write) {
            (true, true) => into.write += PAGE,
            (true, false) => into.read_only += PAGE,
            _ => {}
        }
        Ok(())
    })
}

/// `HostOs::alloc_code`: `size` bytes of zeroed read-write-execute memory
/// for the translator's code cache, kept for the life of the machine (or
/// until `free_code`). Its pages get frames as the translator first
/// writes them, so a cache that is mostly empty costs little.
pub fn alloc_code(size: usize) -> SysResult<*mut u8> {
    let start = reserve(size)?;
    let len = (size + PAGE as usize - 1) & !(PAGE as usize - 1);
    protect(
        start,
        len,
        HostProt::READ | HostProt::WRITE | HostProt::EXEC,
    )?;
    Ok(start)
}

/// Why a page fault could not be resolved.
enum Unresolved {
    NotOurs,
    OutOfMemory,
}

/// Page faults resolved so far (a page backed or copied on first touch):
/// the scheduler gives each process those taken while it ran, its
/// `getrusage` minor faults (`crate::task`).
pub static FAULTS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Back an accessible page on its first touch. Returns `true` when the
/// faulting instruction can be retried.
pub fn handle_page_fault(addr: u64, error_code: u64) -> bool {
    match try_back(addr, error_code) {
        Ok(()) => {
            FAULTS.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
            true
        }
        Err(Unresolved::NotOurs) => false,
        Err(Unresolved::OutOfMemory) => {
            // The guest's demand outgrew the machine: end it as Linux's OOM
            // killer would (SIGKILL), without a kernel-fault report.
            let _ = core::fmt::Write::write_fmt(
                &mut crate::serial::emergency_com2(),
                format_args!("pvm-kernel: out of memory backing guest page {addr:#x}\n"),
            );
            crate::exit::exit_guest(128 + 9)
        }
    }
}

fn try_back(addr: u64, error_code: u64) -> Result<(), Unresolved> {
    if !(RESERVE_START..RESERVE_END).contains(&addr) {
        return Err(Unresolved::NotOurs);
    }
    // The lock is free unless the fault hit the paging code itself, which
    // is a kernel bug: report it instead of deadlocking.
    let mut guard = PAGING.try_lock().ok_or(Unresolved::NotOurs)?;
    let p = guard.as_mut().ok_or(Unresolved::NotOurs)?;
    if addr >= p.reserve_next {
        return Err(Unresolved::NotOurs);
    }
    let page = addr & !(PAGE - 1);
    let leaf = match p.leaf(page, false) {
        Ok(Some(leaf)) => leaf,
        _ => return Err(Unresolved::NotOurs),
    };
    // SAFETY: `leaf` points into a live page table.
    let entry = unsafe { &mut *leaf };
    let write = error_code & 2 != 0;
    if error_code & PRESENT != 0 {
        // A write to a present page that may be written: copy-on-write.
        let cow = PRESENT | SW_COW | SW_COW_WRITE;
        if !write || *entry & cow != cow {
            return Err(Unresolved::NotOurs);
        }
        p.unshare(entry).ok_or(Unresolved::OutOfMemory)?;
        tlb::flush(x86_64::VirtAddr::new(page));
        return Ok(());
    }
    if *entry & SW_LAZY == 0 || *entry & SW_GONE != 0 {
        return Err(Unresolved::NotOurs);
    }
    let fetch = error_code & 16 != 0;
    if (write && *entry & SW_LAZY_WRITE == 0) || (fetch && *entry & SW_LAZY_EXEC == 0) {
        return Err(Unresolved::NotOurs);
    }
    p.fill(entry).ok_or(Unresolved::OutOfMemory)
}
