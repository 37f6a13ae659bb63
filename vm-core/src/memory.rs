//! Guest memory: one contiguous host reservation per guest address space.
//!
//! Guest address `a` lives at host address `base + a`, for `a` in
//! `[0, size)`; [`GUARD`] bytes on each side are reserved and never
//! accessible. Every access goes through a bounds check against `size`
//! *and* a page permission check against `perms`, so no guest address,
//! however wild, can reach host memory outside the reservation: that is the
//! sandbox boundary the rest of pvm (and the translator) relies on.
//!
//! Page permissions are the guest's view (`mmap`/`mprotect`); the host's
//! protection of the backing pages follows them (readable if the guest may
//! read or execute, writable if it may write), so a host fault handler can
//! catch what the software checks would.
//!
//! The mapping list ([`Mappings`]) is the kernel's VMA list in miniature:
//! it answers "where is a free range" for `mmap`, keeps `brk` state, which
//! ranges are shared mappings, and the guest's memory limits (`RLIMIT_AS`,
//! `RLIMIT_DATA`, `RLIMIT_STACK`) with the page counts they bound.

use crate::guarded;
use crate::host::{Errno, HostOs, HostProt, SysResult};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// Bit in the page table marking a mapped page, whatever its permission.
const MAPPED: u8 = 0x80;
/// Bit in the page table marking a guest-writable page that holds
/// translated code and is therefore write-protected on the host (see
/// [`GuestMemory::protect_code`]): the first write through `GuestMemory`
/// lifts the protection and moves the code epoch; a write from translated
/// code faults on the host and the translator does the same.
const CODE: u8 = 0x40;
/// How many times a write refused by a code-protection change of another
/// thread is made again (see [`GuestMemory::write_again`]).
pub(crate) const WRITE_TRIES: usize = 8;

/// Bytes of inaccessible host address space reserved below and above
/// every guest address space (never mapped, whatever the guest does): an
/// access a few KiB outside `[0, size)` faults on the host instead of
/// reaching other host memory. The translator leans on this to skip the
/// bounds compare of an access near an address already checked (see
/// `translate/x86_64/codegen/bounds.rs`); [`GuestMemory::in_guard`] tells
/// a host fault there from a crash.
pub const GUARD: u64 = 64 * 1024;

/// The smallest guest address space [`GuestMemory::new`] makes (16 MiB):
/// an address below it is inside every guest's space, which lets the
/// translator drop the bounds compare of an access through a constant
/// address below it (a static program's `auipc`+`ld` of its own data; see
/// `translate/x86_64/codegen/bounds.rs`) without knowing the space's size.
pub const MIN_SIZE: u64 = 1 << 24;

/// Guest page size (the RISC-V Linux base page).
pub const PAGE_SIZE: u64 = 4096;
const PAGE_SHIFT: u32 = 12;

/// Round `x` up to a page boundary (saturating).
pub const fn page_up(x: u64) -> u64 {
    match x.checked_add(PAGE_SIZE - 1) {
        Some(v) => v & !(PAGE_SIZE - 1),
        None => !(PAGE_SIZE - 1),
    }
}
/// Round `x` down to a page boundary.
pub const fn page_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

bitflags::bitflags! {
    /// Guest page permissions (the `PROT_*` values of Linux).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Perm: u8 {
        const READ = 1;
        const WRITE = 2;
        const EXEC = 4;
    }
}

impl Perm {
    /// The host protection that backs guest pages with this permission.
    fn host(self) -> HostProt {
        let mut p = HostProt::empty();
        if self.intersects(Perm::READ | Perm::EXEC | Perm::WRITE) {
            p |= HostProt::READ;
        }
        if self.contains(Perm::WRITE) {
            p |= HostProt::WRITE;
        }
        p
    }
}

/// Which kind of access faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Exec,
}

/// A guest memory access that the guest is not allowed to make: the
/// exception path turns it into SIGSEGV (or SIGBUS) for the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemFault {
    /// First guest address that could not be accessed.
    pub addr: u64,
    pub access: Access,
    /// `true` when the page is mapped but forbids this access
    /// (`SEGV_ACCERR`), `false` when nothing is mapped (`SEGV_MAPERR`).
    pub mapped: bool,
    /// The page is mapped and allows the access, but what backed it on
    /// the host is gone (a page of a file mapping past the file's end):
    /// `SIGBUS` with `BUS_ADRERR`, as Linux raises.
    pub gone: bool,
}

/// A guest address space.
pub struct GuestMemory {
    base: *mut u8,
    size: u64,
    /// Guest permission of every page (the `Perm` bits), plus [`MAPPED`]
    /// for pages that are mapped at all (so PROT_NONE is told from a hole).
    perms: Box<[AtomicU8]>,
    host: &'static dyn HostOs,
    /// Mapping list, `brk` and placement state.
    pub maps: spin::Mutex<Mappings>,
    /// Held across a whole change of the address space (`mmap`, `munmap`,
    /// `mprotect`, `mremap`, `brk`, `madvise`, a signal trampoline): the
    /// kernel's `mmap_lock`, so two threads never both find the same free
    /// range and map it (see [`GuestMemory::lock_space`]).
    space: spin::Mutex<()>,
    /// Bumped whenever guest code may have changed under an engine
    /// (`fence.i`, `riscv_flush_icache`, unmapping or re-protecting
    /// executable pages); engines drop cached decodings when it moves.
    code_epoch: AtomicU64,
    /// What each recent move of `code_epoch` covered (see
    /// [`GuestMemory::code_changes`]); moves happen under this lock.
    code_log: spin::Mutex<CodeLog>,
    /// Held while a page's [`CODE`] bit and its host protection change
    /// together (code protection set or lifted, `mprotect`), so whoever
    /// holds it sees the two agree: a guest-writable page is host-writable
    /// exactly when its `CODE` bit is clear. A write the host refused on a
    /// page the guest may write is then resolved under it (see
    /// [`GuestMemory::write_refused`]); without it, another thread midway
    /// through protecting or lifting made such a write look like the
    /// guest's fault. It also guards the host calls under way that write
    /// into guest pages ([`Fills`]), whose pages are not protected.
    code_prot: spin::Mutex<Fills>,
    /// Bumped under `code_prot` at every change of a page's code
    /// protection (before the host protects it, after it lifts it), so a
    /// host call that found a page unwritable can tell whether code
    /// protection changed while it ran (see [`GuestMemory::host_write`]).
    code_prot_gen: AtomicU64,
    /// Stamp of the page permissions as they are: a fresh value of
    /// [`PERM_STAMPS`] at creation and after every change of a page's
    /// permission (`set_perms`), so that one stamp never stands for two
    /// states, even of two memories. A cache of permissions taken under a
    /// stamp holds while the stamp does (see [`GuestMemory::perm_stamp`]).
    perm_stamp: AtomicU64,
}

/// Source of [`GuestMemory::perm_stamp`] values, shared by every memory.
static PERM_STAMPS: AtomicU64 = AtomicU64::new(1);

/// The last [`CODE_LOG`] moves of the code epoch: `(epoch after the move,
/// first page, last page)`, whole address space for `fence.i` and the like.
#[derive(Debug, Default)]
struct CodeLog {
    ring: Vec<(u64, u64, u64)>,
    next: usize,
}

/// Code-epoch moves remembered with their page range.
const CODE_LOG: usize = 64;

/// The host calls under way that write into guest pages through a host
/// pointer ([`GuestMemory::host_write`]: a `read` the host kernel fills
/// while it waits). Their pages are left host-writable while they run:
/// [`GuestMemory::protect_code`] skips them (noting it), so code
/// translated there meanwhile does not make the host refuse the copy (a
/// datagram or an eventfd count the host took would be lost), and the
/// call, when it returns, moves the code epoch over its pages (see
/// `host_write`).
#[derive(Debug, Default)]
struct Fills {
    /// `(id, first page, last page, protection skipped meanwhile)`.
    under_way: Vec<(u64, u64, u64, bool)>,
    next: u64,
}

impl Fills {
    fn begin(&mut self, first: u64, last: u64) -> u64 {
        self.next += 1;
        self.under_way.push((self.next, first, last, false));
        self.next
    }

    /// The fill `id` is over: was code protection skipped on its pages?
    fn end(&mut self, id: u64) -> bool {
        match self.under_way.iter().position(|f| f.0 == id) {
            Some(i) => self.under_way.swap_remove(i).3,
            None => false,
        }
    }

    /// Is `page` being filled by a host call? (Each such call notes that
    /// the page was to be protected.)
    fn claim(&mut self, page: u64) -> bool {
        let mut any = false;
        for f in self.under_way.iter_mut() {
            if (f.1..=f.2).contains(&page) {
                f.3 = true;
                any = true;
            }
        }
        any
    }
}

impl core::fmt::Debug for GuestMemory {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GuestMemory")
            .field("base", &self.base)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

// SAFETY: `base` points into a reservation owned by this value for its whole
// life; all mutation of bookkeeping goes through atomics or the mutex, and
// guest data races are the guest's own (as on hardware).
unsafe impl Send for GuestMemory {}
unsafe impl Sync for GuestMemory {}

/// A guest mapping: `[start, end)` with one permission (the VMA).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub end: u64,
    pub perm: Perm,
}

/// The list of mappings plus the heap (`brk`) state.
#[derive(Clone, Debug, Default)]
pub struct Mappings {
    /// start -> mapping; ranges never overlap.
    pub map: BTreeMap<u64, Mapping>,
    /// Start of the `brk` heap (page after the executable's bss).
    pub brk_start: u64,
    /// Current program break (may be unaligned).
    pub brk: u64,
    /// Top of the area `mmap` places mappings in (grows down).
    pub mmap_top: u64,
    /// Lowest address `mmap` may place a mapping at without a hint.
    pub mmap_min: u64,
    /// Ranges (start -> end) mapped `MAP_SHARED`: their contents belong
    /// to a file (or shared memory), so `MADV_DONTNEED` keeps them.
    pub shared: BTreeMap<u64, u64>,
    /// What is left of each System V shared memory attachment, for
    /// `shmdt`: start -> (end, address the attachment was made at); an
    /// `mmap` or `munmap` over part of one carves that part out.
    pub shm: BTreeMap<u64, (u64, u64)>,
    /// The guest's memory limits, once it has set them.
    pub limits: MemLimits,
    /// What file each file-backed range maps (start -> name), for the
    /// guest's `/proc/self/maps`; ranges never overlap. Kept by the loader
    /// and `mmap`/`munmap`/`mremap`, not by `mprotect`, as Linux keeps a
    /// VMA's file across a change of protection.
    pub names: BTreeMap<u64, MapName>,
    /// pvm's own cap on mapped bytes (`--max-memory`), which ends the
    /// guest when a mapping would pass it (see [`crate::limits`]).
    pub cap: Option<u64>,
}

/// The file behind a mapped range: `[start, end)` maps `path` from byte
/// `offset` (the `/proc/self/maps` columns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapName {
    pub end: u64,
    pub path: alloc::sync::Arc<[u8]>,
    pub offset: u64,
    pub dev: u64,
    pub ino: u64,
}

/// A resource limit: (soft, hard), `u64::MAX` for none.
pub type Limit = (u64, u64);

/// Memory limits the guest set with `setrlimit`/`prlimit64`; `None` until
/// it sets one (then the limit it inherited applies, which pvm does not
/// enforce itself). Kept with the mappings they bound, as Linux keeps its
/// counts in the `mm`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemLimits {
    /// `RLIMIT_AS`: bounds all mapped pages (`total_vm`).
    pub address_space: Option<Limit>,
    /// `RLIMIT_DATA`: bounds private writable pages outside the stack
    /// (`data_vm`) and the heap.
    pub data: Option<Limit>,
    /// `RLIMIT_STACK`: remembered; the main stack is the loader's fixed
    /// mapping.
    pub stack: Option<Limit>,
}

/// Remove `[start, end)` from a set of disjoint ranges (start -> end),
/// splitting ranges that straddle it.
fn range_remove(set: &mut BTreeMap<u64, u64>, start: u64, end: u64) {
    let hit: Vec<(u64, u64)> = set
        .range(..end)
        .rev()
        .take_while(|(_, e)| **e > start)
        .map(|(s, e)| (*s, *e))
        .collect();
    for (s, e) in hit {
        set.remove(&s);
        if s < start {
            set.insert(s, start);
        }
        if e > end {
            set.insert(end, e);
        }
    }
}

impl Mappings {
    /// Record `[start, end)` with `perm`, replacing what was there.
    pub fn insert(&mut self, start: u64, end: u64, perm: Perm) {
        self.remove(start, end);
        self.map.insert(start, Mapping { end, perm });
    }

    /// Carve `[start, end)` out of the shared memory attachments.
    pub fn forget_shm(&mut self, start: u64, end: u64) {
        let hit: Vec<(u64, (u64, u64))> = self
            .shm
            .range(..end)
            .rev()
            .take_while(|(_, (e, _))| *e > start)
            .map(|(s, v)| (*s, *v))
            .collect();
        for (s, (e, at)) in hit {
            if e <= start {
                continue;
            }
            self.shm.remove(&s);
            if s < start {
                self.shm.insert(s, (start, at));
            }
            if e > end {
                self.shm.insert(end, (e, at));
            }
        }
    }

    /// Forget `[start, end)`, splitting mappings that straddle it.
    pub fn remove(&mut self, start: u64, end: u64) {
        let overlapping: Vec<(u64, Mapping)> = self
            .map
            .range(..end)
            .rev()
            .take_while(|(_, m)| m.end > start)
            .map(|(s, m)| (*s, *m))
            .collect();
        for (s, m) in overlapping {
            if m.end <= start {
                continue;
            }
            self.map.remove(&s);
            if s < start {
                self.map.insert(
                    s,
                    Mapping {
                        end: start,
                        perm: m.perm,
                    },
                );
            }
            if m.end > end {
                self.map.insert(
                    end,
                    Mapping {
                        end: m.end,
                        perm: m.perm,
                    },
                );
            }
        }
    }

    /// `[start, end)` maps no file any more (unmapped, or replaced by an
    /// anonymous mapping); names straddling it keep their outer parts.
    pub fn clear_name(&mut self, start: u64, end: u64) {
        let hit: Vec<(u64, MapName)> = self
            .names
            .range(..end)
            .rev()
            .take_while(|(_, n)| n.end > start)
            .map(|(s, n)| (*s, n.clone()))
            .collect();
        for (s, n) in hit {
            self.names.remove(&s);
            if s < start {
                let mut left = n.clone();
                left.end = start;
                self.names.insert(s, left);
            }
            if n.end > end {
                let mut right = n;
                right.offset += end - s;
                self.names.insert(end, right);
            }
        }
    }

    /// `[start, name.end)` maps `name`.
    pub fn set_name(&mut self, start: u64, name: MapName) {
        self.clear_name(start, name.end);
        self.names.insert(start, name);
    }

    /// The name covering `addr`, if any, with its start.
    pub fn name_at(&self, addr: u64) -> Option<(u64, &MapName)> {
        self.names
            .range(..=addr)
            .next_back()
            .filter(|(_, n)| n.end > addr)
            .map(|(s, n)| (*s, n))
    }

    /// Is any byte of `[start, end)` mapped?
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.map
            .range(..end)
            .next_back()
            .is_some_and(|(_, m)| m.end > start)
    }

    /// Is every byte of `[start, end)` mapped?
    pub fn covers(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        while at < end {
            match self.map.range(..=at).next_back() {
                Some((_, m)) if m.end > at => at = m.end,
                _ => return false,
            }
        }
        true
    }

    /// Record `[start, end)` as a shared mapping.
    pub fn mark_shared(&mut self, start: u64, end: u64) {
        range_remove(&mut self.shared, start, end);
        self.shared.insert(start, end);
    }

    /// The shared parts of `[start, end)`, in order.
    pub fn shared_parts(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        let mut v: Vec<(u64, u64)> = self
            .shared
            .range(..end)
            .rev()
            .take_while(|(_, e)| **e > start)
            .map(|(s, e)| ((*s).max(start), (*e).min(end)))
            .collect();
        v.reverse();
        v
    }

    /// Bytes of `[start, end)` that are mapped and satisfy `pred` (given
    /// the piece's start, end and permission).
    pub fn bytes_where(&self, start: u64, end: u64, pred: impl Fn(u64, u64, Perm) -> bool) -> u64 {
        self.map
            .range(..end)
            .rev()
            .take_while(|(_, m)| m.end > start)
            .map(|(&s, m)| (s.max(start), m.end.min(end), m.perm))
            .filter(|&(s, e, p)| pred(s, e, p))
            .map(|(s, e, _)| e - s)
            .sum()
    }

    /// Is the mapped piece `[start, end)` with `perm` a data mapping for
    /// `RLIMIT_DATA`: private, writable, not the stack (Linux's
    /// `is_data_mapping`)? The stack is everything above `mmap_top`.
    pub fn is_data(&self, start: u64, end: u64, perm: Perm) -> bool {
        perm.contains(Perm::WRITE)
            && start < self.mmap_top
            && self.shared_parts(start, end).is_empty()
    }

    /// All mapped bytes (Linux's `total_vm`).
    pub fn total_vm(&self) -> u64 {
        self.map.iter().map(|(s, m)| m.end - s).sum()
    }

    /// Mapped bytes that count against `RLIMIT_DATA` (`data_vm`).
    pub fn data_vm(&self) -> u64 {
        self.bytes_where(0, u64::MAX, |s, e, p| self.is_data(s, e, p))
    }

    /// May `bytes` more be mapped (`data` if they count against
    /// `RLIMIT_DATA`) under the guest's limits? Linux's `may_expand_vm`,
    /// with its allowance for a data limit of 0 under a larger hard limit.
    pub fn may_expand(&self, bytes: u64, data: bool) -> bool {
        let total_ok = self
            .limits
            .address_space
            .is_none_or(|(soft, _)| self.total_vm().saturating_add(bytes) <= soft);
        total_ok && (!data || self.data_may_grow(bytes))
    }

    /// May `bytes` more be mapped under pvm's `--max-memory` cap?
    pub fn cap_allows(&self, bytes: u64) -> bool {
        self.cap
            .is_none_or(|cap| self.total_vm().saturating_add(bytes) <= cap)
    }

    /// May `bytes` more count against `RLIMIT_DATA`?
    pub fn data_may_grow(&self, bytes: u64) -> bool {
        self.limits.data.is_none_or(|(soft, hard)| {
            let after = self.data_vm().saturating_add(bytes);
            after <= soft || (soft == 0 && after <= hard)
        })
    }

    /// Find a free page-aligned range of `len` bytes, searching down from
    /// `mmap_top` (the Linux top-down layout).
    pub fn find_free(&self, len: u64) -> Option<u64> {
        let floor = self.mmap_min;
        let lowest_top = floor.checked_add(len)?;
        let mut top = self.mmap_top;
        for (&s, m) in self.map.range(..self.mmap_top).rev() {
            // The gap above this mapping is [max(end, floor), top).
            if m.end <= top && top >= m.end.max(floor).saturating_add(len) {
                return Some(top - len);
            }
            top = top.min(s);
            if top < lowest_top {
                return None;
            }
        }
        (top >= lowest_top).then(|| top - len)
    }
}

impl GuestMemory {
    /// Reserve a guest address space of `size` bytes (a multiple of the page
    /// size, at least [`MIN_SIZE`]) on `host`. Nothing is mapped yet.
    pub fn new(host: &'static dyn HostOs, size: u64) -> SysResult<GuestMemory> {
        if size < MIN_SIZE || !size.is_multiple_of(PAGE_SIZE) || size > (1 << 47) {
            return Err(Errno::EINVAL);
        }
        // The guard regions on both sides are reserved with the space and
        // never made accessible (every mapping stays inside `[0, size)`).
        let whole = size + 2 * GUARD;
        let start = host.reserve(whole as usize)?;
        // SAFETY: `start..start+whole` is the fresh reservation; the guest
        // space begins `GUARD` bytes into it.
        let base = unsafe { start.add(GUARD as usize) };
        let pages = (size >> PAGE_SHIFT) as usize;
        // Zeroed by the allocator: for the 16 Mi pages of a 64 GiB space the
        // host hands out untouched zero pages instead of pvm writing 16 MiB
        // at every start.
        let layout = core::alloc::Layout::array::<AtomicU8>(pages).map_err(|_| Errno::ENOMEM)?;
        // SAFETY: the layout has a nonzero size (size >= one page).
        let raw = unsafe { alloc::alloc::alloc_zeroed(layout) } as *mut AtomicU8;
        if raw.is_null() {
            return Err(Errno::ENOMEM);
        }
        // SAFETY: `raw` is a fresh allocation of `pages` AtomicU8s made with
        // the global allocator and the layout `Box<[AtomicU8]>` uses; all
        // zero bytes are valid `AtomicU8`s (same layout as u8).
        let perms = unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(raw, pages)) };
        Ok(GuestMemory {
            base,
            size,
            perms,
            host,
            maps: spin::Mutex::new(Mappings::default()),
            space: spin::Mutex::new(()),
            code_epoch: AtomicU64::new(0),
            code_log: spin::Mutex::new(CodeLog::default()),
            code_prot: spin::Mutex::new(Fills::default()),
            code_prot_gen: AtomicU64::new(0),
            perm_stamp: AtomicU64::new(PERM_STAMPS.fetch_add(1, Ordering::Relaxed)),
        })
    }

    /// A copy of this address space on `host` for a forked child (a host
    /// that [`HostOs::builds_children`]): the same mappings, permissions,
    /// contents and `brk`/`mmap` state in a new reservation. Pages never
    /// touched stay untouched in the copy ([`HostOs::copy_pages`]).
    /// `MAP_SHARED` ranges stay shared with the parent
    /// ([`HostOs::share_pages`]; copied on a host without it).
    pub fn copy_for_fork(&self, host: &'static dyn HostOs) -> SysResult<GuestMemory> {
        let child = GuestMemory::new(host, self.size)?;
        let _space = self.lock_space();
        let maps = self.maps.lock();
        for (&start, m) in &maps.map {
            // The mapping in pieces, each shared or private.
            let mut pieces = Vec::new();
            let mut at = start;
            for (s, e) in maps.shared_parts(start, m.end) {
                if s > at {
                    pieces.push((at, s, false));
                }
                pieces.push((s, e, true));
                at = e;
            }
            if at < m.end {
                pieces.push((at, m.end, false));
            }
            for (s, e, shared) in pieces {
                let len = (e - s) as usize;
                // SAFETY: every mapping lies inside this reservation, and
                // the child's has the same size.
                let (from, to) = unsafe { (self.base.add(s as usize), child.base.add(s as usize)) };
                match shared {
                    true => match host.share_pages(from, to, len) {
                        Err(Errno::ENOSYS) => host.copy_pages(from, to, len)?,
                        r => r?,
                    },
                    false => host.copy_pages(from, to, len)?,
                }
            }
            let len = (m.end - start) as usize;
            // SAFETY: as above.
            let to = unsafe { child.base.add(start as usize) };
            host.protect(to, len, m.perm.host())?;
            child.set_perms(start, m.end - start, Some(m.perm));
        }
        *child.maps.lock() = maps.clone();
        Ok(child)
    }

    /// Size of the guest address space in bytes.
    /// Take the address-space lock (see [`GuestMemory::space`]) for a
    /// change made of several steps; while another thread holds it, let
    /// the host run others rather than spin.
    pub fn lock_space(&self) -> spin::MutexGuard<'_, ()> {
        loop {
            if let Some(g) = self.space.try_lock() {
                return g;
            }
            self.host.yield_now();
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Is guest address `addr` (as computed, wrapping) in one of the
    /// guard regions: below 0 by at most [`GUARD`] bytes, or at most
    /// [`GUARD`] bytes past the end? Host address `host_base() + addr`
    /// (wrapping) is then reserved and never accessible.
    pub fn in_guard(&self, addr: u64) -> bool {
        (addr >= self.size && addr - self.size < GUARD) || addr >= GUARD.wrapping_neg()
    }

    /// Host address of guest address 0 (for the translator and host fault
    /// handlers).
    pub fn host_base(&self) -> *mut u8 {
        self.base
    }

    /// The host this address space lives on.
    pub fn host(&self) -> &'static dyn HostOs {
        self.host
    }

    /// Current code epoch (see the field's documentation).
    #[inline]
    pub fn code_epoch(&self) -> u64 {
        self.code_epoch.load(Ordering::Acquire)
    }

    /// Tell engines that guest code may have changed.
    pub fn invalidate_code(&self) {
        self.invalidate_pages(0, u64::MAX);
    }

    /// Tell engines that the guest code of pages `first..=last` may have
    /// changed (an engine whose cached code holds none of them keeps it).
    fn invalidate_pages(&self, first: u64, last: u64) {
        let mut log = self.code_log.lock();
        let epoch = self.code_epoch.load(Ordering::Acquire) + 1;
        let entry = (epoch, first, last);
        let at = log.next;
        if log.ring.len() < CODE_LOG {
            log.ring.push(entry);
        } else {
            log.ring[at] = entry;
        }
        log.next = (at + 1) % CODE_LOG;
        self.code_epoch.store(epoch, Ordering::Release);
    }

    /// The guest announced that the code in `[start, end)` changed
    /// (`riscv_flush_icache`): engines drop what they made from its pages.
    /// An empty or reversed range stands for everything (Linux flushes the
    /// whole instruction cache whatever the range).
    pub fn code_flushed(&self, start: u64, end: u64) {
        if start < end {
            self.invalidate_range(start, end - start);
        } else {
            self.invalidate_code();
        }
    }

    /// [`GuestMemory::invalidate_pages`] for the pages of `[addr, addr+len)`:
    /// also what a write into code that nothing write-protects (see
    /// `HostOs::code_faults`) calls.
    pub fn invalidate_range(&self, addr: u64, len: u64) {
        if len != 0 {
            self.invalidate_pages(addr >> PAGE_SHIFT, (addr + len - 1) >> PAGE_SHIFT);
        }
    }

    /// Call `f(first, last)` with the page range of every move of the code
    /// epoch after `since` up to `now` (see [`GuestMemory::code_epoch`]);
    /// false, without calling `f`, when those moves are no longer all
    /// remembered (treat everything as changed then).
    pub fn code_changes(&self, since: u64, now: u64, mut f: impl FnMut(u64, u64)) -> bool {
        let log = self.code_log.lock();
        let wanted = now.saturating_sub(since);
        let found = log
            .ring
            .iter()
            .filter(|e| e.0 > since && e.0 <= now)
            .count() as u64;
        if found != wanted {
            return false;
        }
        for e in log.ring.iter().filter(|e| e.0 > since && e.0 <= now) {
            f(e.1, e.2);
        }
        true
    }

    /// Does any page of `[addr, addr+len)` hold executable code?
    fn any_exec(&self, addr: u64, len: u64) -> bool {
        let maps = self.maps.lock();
        maps.map
            .range(..addr.saturating_add(len))
            .rev()
            .take_while(|(_, m)| m.end > addr)
            .any(|(_, m)| m.perm.contains(Perm::EXEC))
    }

    /// Guest permission of the page holding `addr` (empty when unmapped or
    /// outside the address space).
    #[inline]
    pub fn perm(&self, addr: u64) -> Perm {
        match self.perms.get((addr >> PAGE_SHIFT) as usize) {
            Some(p) => Perm::from_bits_truncate(p.load(Ordering::Relaxed)),
            None => Perm::empty(),
        }
    }

    fn range_ok(&self, addr: u64, len: u64) -> bool {
        addr.is_multiple_of(PAGE_SIZE)
            && len.is_multiple_of(PAGE_SIZE)
            && len != 0
            && addr <= self.size
            && len <= self.size - addr
    }

    /// Make `[addr, addr+len)` accessible with `perm` (page aligned), as
    /// `mmap(MAP_FIXED)` does: old contents are discarded first when
    /// `fresh` is set, so the range reads as zeroes.
    pub fn map(&self, addr: u64, len: u64, perm: Perm, fresh: bool) -> SysResult<()> {
        if !self.range_ok(addr, len) {
            return Err(Errno::ENOMEM);
        }
        // SAFETY: range_ok proved [addr, addr+len) lies inside the reservation.
        let host_addr = unsafe { self.base.add(addr as usize) };
        if fresh {
            if self.any_exec(addr, len) {
                self.invalidate_range(addr, len);
            }
            self.host.discard(host_addr, len as usize)?;
        }
        // Back the pages writable first so the loader can fill them; the
        // final host protection follows the guest's.
        self.host.protect(host_addr, len as usize, perm.host())?;
        self.set_perms(addr, len, Some(perm));
        let mut maps = self.maps.lock();
        maps.insert(addr, addr + len, perm);
        range_remove(&mut maps.shared, addr, addr + len);
        maps.forget_shm(addr, addr + len);
        if crate::log::on(crate::log::PAGE) {
            crate::log::page(self.host, "map", addr, len, Some(perm));
        }
        Ok(())
    }

    /// Back the mapped pages `[addr, addr+len)` (page aligned, just mapped
    /// fresh with `perm`) with host file `fd` from `offset`, copy-on-write:
    /// the host reads a page of the file in when it is first touched,
    /// where copying the file in reads and fills every page at once (a
    /// program's or a library's code, most of which never runs). A page
    /// wholly past the file's end faults when touched (the guest's
    /// `SIGBUS`), as on Linux, until the file grows over it. Fails with the host's error (`ENODEV` on
    /// a host without file mappings), the pages unchanged: the caller
    /// copies instead.
    pub fn back_with_file(
        &self,
        addr: u64,
        len: u64,
        perm: Perm,
        fd: i32,
        offset: u64,
    ) -> SysResult<()> {
        if !self.range_ok(addr, len) || !offset.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        let offset = i64::try_from(offset).map_err(|_| Errno::EOVERFLOW)?;
        // SAFETY: range_ok proved [addr, addr+len) lies inside the reservation.
        let host_addr = unsafe { self.base.add(addr as usize) };
        self.host
            .map_file(host_addr, len as usize, fd, offset, perm.host(), false)
    }

    /// Grow the file mapping that ends at `at` (its last page `[at -
    /// PAGE_SIZE, at)`) over the mapped pages `[at, at+len)` (just mapped
    /// fresh with `perm`), as `mremap` grows one: the host maps the
    /// file's next pages there ([`HostOs::extend_file_map`]), so pages
    /// wholly past the file's end fault (the guest's `SIGBUS`) until it
    /// grows over them; the new pages are shared when the last page is.
    /// Fails with the host's error, the pages unchanged (zeroes).
    pub fn extend_file(&self, at: u64, len: u64, perm: Perm) -> SysResult<()> {
        if at < PAGE_SIZE || !self.range_ok(at - PAGE_SIZE, len + PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        // SAFETY: range_ok proved [at - PAGE_SIZE, at+len) lies inside the
        // reservation.
        let host_at = unsafe { self.base.add(at as usize) };
        self.host
            .extend_file_map(host_at, len as usize, perm.host())?;
        let mut maps = self.maps.lock();
        if !maps.shared_parts(at - PAGE_SIZE, at).is_empty() {
            maps.mark_shared(at, at + len);
        }
        drop(maps);
        if crate::log::on(crate::log::PAGE) {
            crate::log::page(self.host, "extend", at, len, Some(perm));
        }
        Ok(())
    }

    /// Move the mapped pages `[from, from+len)` (one permission, `perm`)
    /// to `[to, to+len)` (page aligned, not overlapping them, nothing
    /// mapped there), as `mremap` moves a mapping: the host moves what
    /// backs them ([`HostOs::move_pages`]), so a file mapping stays one
    /// (its pages past the file's end still fault) and a shared range
    /// stays shared. `from` is then unmapped. Fails with the host's error,
    /// nothing changed (`ENODEV` on a host that cannot move pages, or a
    /// range the host holds in more than one piece): the caller copies.
    pub fn move_pages(&self, from: u64, to: u64, len: u64, perm: Perm) -> SysResult<()> {
        if !self.range_ok(from, len) || !self.range_ok(to, len) {
            return Err(Errno::EINVAL);
        }
        if from < to + len && to < from + len {
            return Err(Errno::EINVAL);
        }
        let shared = self.maps.lock().shared_parts(from, from + len);
        // SAFETY: range_ok proved both ranges lie inside the reservation.
        let (host_from, host_to) =
            unsafe { (self.base.add(from as usize), self.base.add(to as usize)) };
        // Code translated from the old pages is stale wherever they go.
        if self.any_exec(from, len) {
            self.invalidate_range(from, len);
        }
        self.host.move_pages(host_from, host_to, len as usize)?;
        // The pages' own host protection came along, including a write
        // protection for translated code, which the new range does not
        // hold: give them their guest permission's.
        self.host.protect(host_to, len as usize, perm.host())?;
        self.set_perms(to, len, Some(perm));
        let mut maps = self.maps.lock();
        maps.insert(to, to + len, perm);
        range_remove(&mut maps.shared, to, to + len);
        for (s, e) in shared {
            maps.mark_shared(s - from + to, e - from + to);
        }
        drop(maps);
        if crate::log::on(crate::log::PAGE) {
            crate::log::page(self.host, "move", to, len, Some(perm));
        }
        self.unmap(from, len)
    }

    /// Change the permission of `[addr, addr+len)` (`mprotect`). Every page
    /// must be mapped.
    pub fn protect(&self, addr: u64, len: u64, perm: Perm) -> SysResult<()> {
        if !self.range_ok(addr, len) {
            return Err(Errno::ENOMEM);
        }
        let mut maps = self.maps.lock();
        if !maps.covers(addr, addr + len) {
            return Err(Errno::ENOMEM);
        }
        let was_exec = maps
            .map
            .range(..addr + len)
            .rev()
            .take_while(|(_, m)| m.end > addr)
            .any(|(_, m)| m.perm.contains(Perm::EXEC));
        // SAFETY: range_ok proved the range lies inside the reservation.
        let host_addr = unsafe { self.base.add(addr as usize) };
        {
            let _prot = self.code_prot.lock();
            self.host.protect(host_addr, len as usize, perm.host())?;
            self.set_perms(addr, len, Some(perm));
        }
        if was_exec {
            self.invalidate_range(addr, len);
        }
        maps.insert(addr, addr + len, perm);
        if crate::log::on(crate::log::PAGE) {
            crate::log::page(self.host, "protect", addr, len, Some(perm));
        }
        Ok(())
    }

    /// Remove `[addr, addr+len)` (`munmap`): its pages become unmapped and
    /// their contents are dropped.
    pub fn unmap(&self, addr: u64, len: u64) -> SysResult<()> {
        if !addr.is_multiple_of(PAGE_SIZE) || len == 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len);
        if crate::log::on(crate::log::PAGE) {
            crate::log::page(self.host, "unmap", addr, len, None);
        }
        // Linux accepts ranges that are partly or wholly unmapped; clip to
        // the address space.
        if addr >= self.size {
            return Ok(());
        }
        let len = len.min(self.size - addr);
        if self.any_exec(addr, len) {
            self.invalidate_range(addr, len);
        }
        // SAFETY: the range was clipped to the reservation above.
        let host_addr = unsafe { self.base.add(addr as usize) };
        self.host.discard(host_addr, len as usize)?;
        self.set_perms(addr, len, None);
        let mut maps = self.maps.lock();
        maps.remove(addr, addr + len);
        range_remove(&mut maps.shared, addr, addr + len);
        maps.forget_shm(addr, addr + len);
        Ok(())
    }

    fn set_perms(&self, addr: u64, len: u64, perm: Option<Perm>) {
        let first = (addr >> PAGE_SHIFT) as usize;
        let last = ((addr + len) >> PAGE_SHIFT) as usize;
        let raw = perm.map_or(0, |p| p.bits() | MAPPED);
        for p in &self.perms[first..last] {
            p.store(raw, Ordering::Relaxed);
        }
        self.perm_stamp.store(
            PERM_STAMPS.fetch_add(1, Ordering::Relaxed),
            Ordering::Release,
        );
    }

    /// A value that changes whenever any page's guest permission does
    /// (`map`, `protect`, `unmap`, `mremap`), unique across memories. A
    /// cache of permissions filled while this returned `s` (the
    /// translator's page cache on hosts without host faults) holds for as
    /// long as it still returns `s`. (The [`CODE`] bit is not covered:
    /// code protection is followed through `code_epoch` and the engines'
    /// own code pages.)
    #[inline]
    pub fn perm_stamp(&self) -> u64 {
        self.perm_stamp.load(Ordering::Acquire)
    }

    /// Check that `len` bytes at `addr` may be accessed with `need`;
    /// return the host pointer to them.
    #[inline]
    pub fn check(&self, addr: u64, len: u64, access: Access) -> Result<*mut u8, MemFault> {
        let need = match access {
            Access::Read => Perm::READ,
            Access::Write => Perm::WRITE,
            Access::Exec => Perm::EXEC,
        };
        if len == 0 {
            // SAFETY: a zero-length access touches nothing; the pointer is
            // only used for zero-length copies. wrapping_add avoids UB.
            return Ok(self.base.wrapping_add(addr as usize));
        }
        let fault = |a: u64, mapped| MemFault {
            addr: a,
            access,
            mapped,
            gone: false,
        };
        if addr >= self.size || len > self.size - addr {
            let a = addr.max(self.size);
            return Err(fault(a, false));
        }
        let first = addr >> PAGE_SHIFT;
        let last = (addr + len - 1) >> PAGE_SHIFT;
        let mut code = false;
        for page in first..=last {
            let raw = self.perms[page as usize].load(Ordering::Relaxed);
            let p = Perm::from_bits_truncate(raw);
            if !p.contains(need) {
                let a = if page == first {
                    addr
                } else {
                    page << PAGE_SHIFT
                };
                return Err(fault(a, raw & MAPPED != 0));
            }
            code |= raw & CODE != 0;
        }
        if code && access == Access::Write {
            self.release_code(first, last);
        }
        // SAFETY: addr + len <= size, so the pointer stays inside the reservation.
        Ok(unsafe { self.base.add(addr as usize) })
    }

    /// Write-protect on the host the guest-writable pages of
    /// `[start, end)` (they now hold translated code), so a write from
    /// translated code faults on the host instead of changing code behind
    /// the translator's back. Hosts that report such faults to the
    /// translator (`HostOs::code_faults`) need this; the page keeps its
    /// guest permission. A page a host call is filling meanwhile stays
    /// writable: the call moves the code epoch over it when it returns
    /// (see [`GuestMemory::host_write`]).
    pub fn protect_code(&self, start: u64, end: u64) {
        if start >= end || end > self.size {
            return;
        }
        let mut fills = self.code_prot.lock();
        for page in start >> PAGE_SHIFT..=(end - 1) >> PAGE_SHIFT {
            let p = &self.perms[page as usize];
            let raw = p.load(Ordering::Relaxed);
            if raw & (MAPPED | Perm::WRITE.bits() | CODE) == MAPPED | Perm::WRITE.bits()
                && !fills.claim(page)
            {
                // SAFETY: the page is inside the reservation.
                let at = unsafe { self.base.add((page << PAGE_SHIFT) as usize) };
                // Before the host refuses writes there (see `host_write`).
                self.code_prot_gen.fetch_add(1, Ordering::SeqCst);
                if self
                    .host
                    .protect(at, PAGE_SIZE as usize, HostProt::READ)
                    .is_ok()
                {
                    p.fetch_or(CODE, Ordering::Relaxed);
                }
            }
        }
    }

    /// May a page of `[addr, addr + len)` come to hold translated code,
    /// and so be code-protected while a host call writes there: is one
    /// executable, or code-protected already? (Addresses outside the
    /// space count as neither.)
    pub fn may_hold_code(&self, addr: u64, len: u64) -> bool {
        if len == 0 || addr >= self.size {
            return false;
        }
        let last = addr.saturating_add(len - 1).min(self.size - 1);
        (addr >> PAGE_SHIFT..=last >> PAGE_SHIFT).any(|page| {
            self.perms[page as usize].load(Ordering::Relaxed) & (Perm::EXEC.bits() | CODE) != 0
        })
    }

    /// Is the page holding `addr` write-protected because of translated
    /// code (see [`GuestMemory::protect_code`])?
    pub fn is_code_protected(&self, addr: u64) -> bool {
        self.perms
            .get((addr >> PAGE_SHIFT) as usize)
            .is_some_and(|p| p.load(Ordering::Relaxed) & CODE != 0)
    }

    /// Is the page holding `addr` mapped (whatever its permission)?
    pub fn is_mapped(&self, addr: u64) -> bool {
        self.perms
            .get((addr >> PAGE_SHIFT) as usize)
            .is_some_and(|p| p.load(Ordering::Relaxed) & MAPPED != 0)
    }

    /// Give the code-protected pages among `first..=last` (page numbers)
    /// back their guest protection, and tell the engines their code may
    /// change.
    pub fn release_code(&self, first: u64, last: u64) {
        let mut any = false;
        {
            let _prot = self.code_prot.lock();
            for page in first..=last {
                let Some(p) = self.perms.get(page as usize) else {
                    break;
                };
                let raw = p.load(Ordering::Relaxed);
                if raw & CODE != 0 {
                    any = true;
                    // SAFETY: the page is inside the reservation.
                    let at = unsafe { self.base.add((page << PAGE_SHIFT) as usize) };
                    let host = Perm::from_bits_truncate(raw).host();
                    let _ = self.host.protect(at, PAGE_SIZE as usize, host);
                    p.fetch_and(!CODE, Ordering::Relaxed);
                }
            }
            if any {
                self.code_prot_gen.fetch_add(1, Ordering::SeqCst);
            }
        }
        if any {
            self.invalidate_pages(first, last);
        }
    }

    /// The host refused a write at guest `addr` (a protection fault, not
    /// a page gone): should the write be made again? Yes when the guest's
    /// page table lets the guest write there; code protection on the page
    /// is lifted first. The host and the page table can disagree for a
    /// moment only while another thread protects or lifts the page (under
    /// `code_prot`), so a write refused in that moment is made again
    /// rather than given to the guest as a fault.
    #[cold]
    pub fn write_refused(&self, addr: u64) -> bool {
        let page = addr >> PAGE_SHIFT;
        let Some(p) = self.perms.get(page as usize) else {
            return false;
        };
        // release_code takes `code_prot`, so a change under way is
        // complete before the page table is read here. (A page with its
        // CODE bit set is guest-writable: the bit is set only on such
        // pages, and `mprotect` clears it.)
        self.release_code(page, page);
        let need = MAPPED | Perm::WRITE.bits();
        p.load(Ordering::Relaxed) & need == need
    }

    /// A guarded write that faulted with `f`: made again (by `store`) while
    /// the host refused it only because of another thread's change of
    /// code protection (see [`GuestMemory::write_refused`]), else the
    /// guest's fault. A few tries: each retry needs yet another thread to
    /// protect the page again in between.
    #[cold]
    fn write_again(
        &self,
        mut f: guarded::Faulted,
        mut store: impl FnMut() -> Result<(), guarded::Faulted>,
    ) -> Result<(), MemFault> {
        for _ in 0..WRITE_TRIES {
            if f.signo == crate::sigstate::SIGBUS
                || !self.write_refused(f.addr.wrapping_sub(self.base as u64))
            {
                break;
            }
            match store() {
                Ok(()) => return Ok(()),
                Err(e) => f = e,
            }
        }
        Err(self.host_fault(f, Access::Write))
    }

    /// Make `call`, a host call that writes into the guest bytes `[addr,
    /// addr + len)` through the host pointer it is given (a system call
    /// the host kernel fills a guest buffer in), and make it again when
    /// the host refused it with `EFAULT` while code protection changed
    /// on the way: another thread translated code on one of those pages
    /// between the check here (which lifts code protection for a write)
    /// and the host's copy, so the host page was read-only although the
    /// guest may write it. Before a retry, `release_code` on the range
    /// waits under `code_prot` for a change under way and lifts the
    /// protection again; the check of the next try then finds whether
    /// the guest may still write there. At most [`WRITE_TRIES`] tries
    /// more; an `EFAULT` with no change of code protection meanwhile (a
    /// page the guest may not write, a host page gone under a file
    /// mapping) is the guest's. The guarded writes of this module do the
    /// same for the writes pvm makes itself (see `write_again`).
    ///
    /// Only for calls that an `EFAULT` leaves as if not made (the kernel
    /// copies out before it consumes anything, or fails before it
    /// starts): a retry makes the call once more.
    ///
    /// The host kernel writes when the call completes, which may be long
    /// after this check: meanwhile another thread may have made a page of
    /// the range executable and run code there. So the range is recorded
    /// as being filled (`Fills`) for the call's whole length:
    /// [`GuestMemory::protect_code`] leaves its pages host-writable (the
    /// host's copy is never refused for code protection, so a datagram or
    /// an eventfd count it took is not lost), and when the call returns,
    /// if a page of the range is executable now or protection was skipped
    /// on one, the code epoch moves over the range: engines drop what they
    /// made from those pages before the guest runs there again, whether
    /// the host wrote before or after the code was translated. Code made
    /// from such a page while the call runs is not write-protected, so a
    /// guest store there meanwhile is seen only when the call returns (or
    /// at `fence.i`).
    pub fn host_write<T>(
        &self,
        addr: u64,
        len: u64,
        call: impl FnMut(*mut u8) -> SysResult<T>,
    ) -> SysResult<T> {
        if len == 0 || addr >= self.size || len > self.size - addr {
            return self.host_write_once(addr, len, call);
        }
        let (first, last) = (addr >> PAGE_SHIFT, (addr + len - 1) >> PAGE_SHIFT);
        let id = self.code_prot.lock().begin(first, last);
        let r = self.host_write_once(addr, len, call);
        if self.code_prot.lock().end(id) {
            self.invalidate_pages(first, last);
        } else {
            self.wrote_code(addr, len);
        }
        r
    }

    /// [`GuestMemory::host_write`] without the record of the fill: the
    /// check, the call and its retries.
    fn host_write_once<T>(
        &self,
        addr: u64,
        len: u64,
        mut call: impl FnMut(*mut u8) -> SysResult<T>,
    ) -> SysResult<T> {
        let mut tries = 0;
        loop {
            let seen = self.code_prot_gen.load(Ordering::SeqCst);
            let p = self
                .check(addr, len, Access::Write)
                .map_err(|_| Errno::EFAULT)?;
            match call(p) {
                Err(Errno::EFAULT) if tries < WRITE_TRIES && len > 0 => {
                    self.release_code(addr >> PAGE_SHIFT, (addr + len - 1) >> PAGE_SHIFT);
                    if self.code_prot_gen.load(Ordering::SeqCst) == seen {
                        return Err(Errno::EFAULT);
                    }
                    tries += 1;
                }
                r => return r,
            }
        }
    }

    /// Fast check for a naturally sized access of `N` bytes (N <= 8).
    #[inline(always)]
    fn check_small<const N: u64>(
        &self,
        addr: u64,
        access: Access,
        need: Perm,
    ) -> Result<*mut u8, MemFault> {
        let idx = (addr >> PAGE_SHIFT) as usize;
        // A write must also find the page free of translated code.
        let guard = if access == Access::Write { CODE } else { 0 };
        if (addr & (PAGE_SIZE - 1)) <= PAGE_SIZE - N
            && let Some(p) = self.perms.get(idx)
            && p.load(Ordering::Relaxed) & (need.bits() | guard) == need.bits()
        {
            // SAFETY: the page is inside the reservation (perms has one
            // entry per reserved page) and the access does not cross its end.
            return Ok(unsafe { self.base.add(addr as usize) });
        }
        self.check(addr, N, access)
    }

    /// Host pointer for an access of `n` bytes (at most 8) at `addr`
    /// needing `need`, when the fast check alone clears it: the access
    /// stays inside one page the guest may access that way (and, for a
    /// write, holding no write-protected translated code). `None` sends the
    /// access to the full path (`read_*`, `write_*`), which handles page
    /// crossings, faults and code pages. For engines that inline this
    /// check and keep the rest out of line.
    #[inline(always)]
    pub fn fast_ptr(&self, addr: u64, n: u64, need: Perm) -> Option<*mut u8> {
        let guard = if need.contains(Perm::WRITE) { CODE } else { 0 };
        if n <= 8
            && (addr & (PAGE_SIZE - 1)) <= PAGE_SIZE - n
            && let Some(p) = self.perms.get((addr >> PAGE_SHIFT) as usize)
            && p.load(Ordering::Relaxed) & (need.bits() | guard) == need.bits()
        {
            // SAFETY: the page is inside the reservation (perms has one
            // entry per reserved page) and the n <= 8 bytes do not cross
            // its end.
            return Some(unsafe { self.base.add(addr as usize) });
        }
        None
    }

    /// The guest's fault for a guarded access the host faulted on (see
    /// [`guarded`]): `SIGBUS` where the host page is gone, else the fault
    /// the page table now gives (another thread changed it meanwhile).
    #[cold]
    pub(crate) fn host_fault(&self, f: guarded::Faulted, access: Access) -> MemFault {
        let addr = f.addr.wrapping_sub(self.base as u64);
        MemFault {
            addr,
            access,
            mapped: self.is_mapped(addr),
            gone: f.signo == crate::sigstate::SIGBUS,
        }
    }

    /// Load helpers: little-endian, any alignment (accesses the host may
    /// fault on, see [`guarded`]).
    #[inline(always)]
    pub fn read_u8(&self, addr: u64) -> Result<u8, MemFault> {
        let p = self.check_small::<1>(addr, Access::Read, Perm::READ)?;
        // SAFETY: check_small validated the byte.
        unsafe { guarded::load8(p) }.map_err(|f| self.host_fault(f, Access::Read))
    }
    #[inline(always)]
    pub fn read_u16(&self, addr: u64) -> Result<u16, MemFault> {
        let p = self.check_small::<2>(addr, Access::Read, Perm::READ)?;
        // SAFETY: check_small validated the two bytes.
        unsafe { guarded::load16(p) }.map_err(|f| self.host_fault(f, Access::Read))
    }
    #[inline(always)]
    pub fn read_u32(&self, addr: u64) -> Result<u32, MemFault> {
        let p = self.check_small::<4>(addr, Access::Read, Perm::READ)?;
        // SAFETY: check_small validated the four bytes.
        unsafe { guarded::load32(p) }.map_err(|f| self.host_fault(f, Access::Read))
    }
    #[inline(always)]
    pub fn read_u64(&self, addr: u64) -> Result<u64, MemFault> {
        let p = self.check_small::<8>(addr, Access::Read, Perm::READ)?;
        // SAFETY: check_small validated the eight bytes.
        unsafe { guarded::load64(p) }.map_err(|f| self.host_fault(f, Access::Read))
    }
    #[inline(always)]
    pub fn write_u8(&self, addr: u64, v: u8) -> Result<(), MemFault> {
        let p = self.check_small::<1>(addr, Access::Write, Perm::WRITE)?;
        // SAFETY: check_small validated the byte for writing (for
        // the store and its retries alike).
        unsafe { guarded::store8(p, v) }
            .or_else(|f| self.write_again(f, || unsafe { guarded::store8(p, v) }))
    }
    #[inline(always)]
    pub fn write_u16(&self, addr: u64, v: u16) -> Result<(), MemFault> {
        let p = self.check_small::<2>(addr, Access::Write, Perm::WRITE)?;
        // SAFETY: check_small validated the bytes for writing (for
        // the store and its retries alike).
        unsafe { guarded::store16(p, v) }
            .or_else(|f| self.write_again(f, || unsafe { guarded::store16(p, v) }))
    }
    #[inline(always)]
    pub fn write_u32(&self, addr: u64, v: u32) -> Result<(), MemFault> {
        let p = self.check_small::<4>(addr, Access::Write, Perm::WRITE)?;
        // SAFETY: check_small validated the bytes for writing (for
        // the store and its retries alike).
        unsafe { guarded::store32(p, v) }
            .or_else(|f| self.write_again(f, || unsafe { guarded::store32(p, v) }))
    }
    #[inline(always)]
    pub fn write_u64(&self, addr: u64, v: u64) -> Result<(), MemFault> {
        let p = self.check_small::<8>(addr, Access::Write, Perm::WRITE)?;
        // SAFETY: check_small validated the bytes for writing (for
        // the store and its retries alike).
        unsafe { guarded::store64(p, v) }
            .or_else(|f| self.write_again(f, || unsafe { guarded::store64(p, v) }))
    }

    /// Instruction fetch of a 16-bit parcel (needs EXEC).
    #[inline(always)]
    pub fn fetch_u16(&self, addr: u64) -> Result<u16, MemFault> {
        let p = self.check_small::<2>(addr, Access::Exec, Perm::EXEC)?;
        // SAFETY: check_small validated the two bytes.
        unsafe { guarded::load16(p) }.map_err(|f| self.host_fault(f, Access::Exec))
    }

    /// Instruction fetch of the instruction at `pc`: its bits, one parcel
    /// (upper 16 bits zero) for a compressed instruction, two for a 32-bit
    /// one, which may straddle a page end. Inside one executable page (all
    /// but the last 2 bytes of each) it is one check and one 32-bit read,
    /// whatever the length: the upper parcel of a compressed instruction
    /// is read with it and dropped, harmlessly, from the same page. At a
    /// page end it goes parcel by parcel, so a compressed instruction there
    /// needs nothing of the next page and a fault is the parcel's.
    #[inline(always)]
    pub fn fetch_inst(&self, pc: u64) -> Result<u32, MemFault> {
        if let Some(p) = self.fast_ptr(pc, 4, Perm::EXEC) {
            // SAFETY: fast_ptr validated the four bytes (one executable
            // page of the reservation).
            let w = unsafe { guarded::load32(p) }.map_err(|f| self.host_fault(f, Access::Exec))?;
            return Ok(if w & 3 == 3 { w } else { w & 0xffff });
        }
        let lo = self.fetch_u16(pc)? as u32;
        if lo & 3 != 3 {
            return Ok(lo);
        }
        let hi = self.fetch_u16(pc.wrapping_add(2))? as u32;
        Ok(lo | hi << 16)
    }

    /// Copy guest memory into `buf`.
    pub fn read_bytes(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemFault> {
        let p = self.check(addr, buf.len() as u64, Access::Read)?;
        // SAFETY: check validated buf.len() readable bytes; guest memory
        // never overlaps a host buffer.
        unsafe { guarded::copy(buf.as_mut_ptr(), p, buf.len()) }
            .map_err(|f| self.host_fault(f, Access::Read))
    }

    /// Copy `buf` into guest memory.
    pub fn write_bytes(&self, addr: u64, buf: &[u8]) -> Result<(), MemFault> {
        let p = self.check(addr, buf.len() as u64, Access::Write)?;
        // SAFETY: check validated buf.len() writable bytes (for the copy
        // and its retries alike).
        let copy = || unsafe { guarded::copy(p, buf.as_ptr(), buf.len()) };
        let r = copy().or_else(|f| self.write_again(f, copy));
        self.wrote_code(addr, buf.len() as u64);
        r
    }

    /// pvm (a system call's result) or the host kernel wrote the guest
    /// bytes `[addr, addr + len)`: if a page of them is executable, move
    /// the code epoch over them, so that no engine runs what it made from
    /// them before. A page that holds translated code and is
    /// code-protected is released by the write's check already; this
    /// covers the rest: hosts without code protection (the store helper
    /// sees only translated stores), cached decodings, and code
    /// translated from the page between its check and the write.
    fn wrote_code(&self, addr: u64, len: u64) {
        if len == 0 || addr >= self.size || len > self.size - addr {
            return;
        }
        let (first, last) = (addr >> PAGE_SHIFT, (addr + len - 1) >> PAGE_SHIFT);
        if (first..=last)
            .any(|page| self.perms[page as usize].load(Ordering::Relaxed) & Perm::EXEC.bits() != 0)
        {
            self.invalidate_pages(first, last);
        }
    }

    /// Write `buf` ignoring guest permissions (the loader filling read-only
    /// segments). The range must still be mapped.
    pub fn write_bytes_privileged(&self, addr: u64, buf: &[u8]) -> Result<(), MemFault> {
        let len = buf.len() as u64;
        if len == 0 {
            return Ok(());
        }
        if addr >= self.size || len > self.size - addr {
            return Err(MemFault {
                addr,
                access: Access::Write,
                mapped: false,
                gone: false,
            });
        }
        let first = addr >> PAGE_SHIFT;
        let last = (addr + len - 1) >> PAGE_SHIFT;
        let old: Vec<Perm> = (first..=last).map(|p| self.perm(p << PAGE_SHIFT)).collect();
        let unmapped = (first..=last)
            .position(|p| self.perms[p as usize].load(Ordering::Relaxed) & MAPPED == 0);
        if let Some(i) = unmapped {
            return Err(MemFault {
                addr: (first + i as u64) << PAGE_SHIFT,
                access: Access::Write,
                mapped: false,
                gone: false,
            });
        }
        self.release_code(first, last);
        let start = first << PAGE_SHIFT;
        let span = ((last + 1) << PAGE_SHIFT) - start;
        // SAFETY: [start, start+span) is inside the reservation (checked above).
        let host_start = unsafe { self.base.add(start as usize) };
        let rw = HostProt::READ | HostProt::WRITE;
        // Pages already host-writable (code protection was just lifted)
        // need no change of protection, before or after.
        let writable = old.iter().all(|p| p.host() == rw);
        if !writable {
            self.host
                .protect(host_start, span as usize, rw)
                .map_err(|_| MemFault {
                    addr,
                    access: Access::Write,
                    mapped: true,
                    gone: false,
                })?;
        }
        // SAFETY: the range is inside the reservation and now host-writable;
        // a host fault there (a page gone under a file mapping) is returned
        // (a guarded copy).
        let copied =
            unsafe { guarded::copy(self.base.add(addr as usize), buf.as_ptr(), buf.len()) }
                .map_err(|f| self.host_fault(f, Access::Write));
        if !writable {
            // Back to the old protection, one call per run of pages that
            // had the same.
            let mut i = 0;
            while i < old.len() {
                let prot = old[i].host();
                let n = old[i..].iter().take_while(|p| p.host() == prot).count();
                if prot != rw {
                    let a = start + ((i as u64) << PAGE_SHIFT);
                    // SAFETY: the run's pages are inside the reservation.
                    let _ = self.host.protect(
                        unsafe { self.base.add(a as usize) },
                        n << PAGE_SHIFT,
                        prot,
                    );
                }
                i += n;
            }
        }
        copied
    }

    /// Read a NUL-terminated string of at most `max` bytes (without the NUL).
    pub fn read_cstr(&self, addr: u64, max: usize) -> Result<Vec<u8>, MemFault> {
        let mut out = Vec::new();
        let mut a = addr;
        loop {
            let b = self.read_u8(a)?;
            if b == 0 {
                return Ok(out);
            }
            if out.len() >= max {
                return Ok(out);
            }
            out.push(b);
            a = a.wrapping_add(1);
        }
    }
}

impl Drop for GuestMemory {
    fn drop(&mut self) {
        // Give the reservation back; a host that cannot keeps it until
        // the process ends, and only its backing goes. Nothing refers to
        // the guest memory any more: the engines and threads that ran in
        // it borrowed it.
        // SAFETY: the reservation began `GUARD` bytes below `base`.
        let start = unsafe { self.base.sub(GUARD as usize) };
        if !self.host.release(start, (self.size + 2 * GUARD) as usize) {
            let _ = self.host.discard(self.base, self.size as usize);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_ranges_and_limits() {
        let mut m = Mappings {
            mmap_top: 0x100_0000,
            ..Default::default()
        };
        let rw = Perm::READ | Perm::WRITE;
        m.insert(0x1000, 0x9000, rw);
        m.insert(0x10_0000, 0x10_4000, rw);
        m.mark_shared(0x10_0000, 0x10_4000);
        m.insert(0x100_0000, 0x100_8000, rw); // the stack
        m.insert(0x20_0000, 0x20_2000, Perm::READ);
        assert_eq!(
            m.shared_parts(0x10_1000, 0x20_0000),
            alloc::vec![(0x10_1000, 0x10_4000)]
        );
        range_remove(&mut m.shared, 0x10_1000, 0x10_2000);
        assert_eq!(
            m.shared_parts(0, u64::MAX),
            alloc::vec![(0x10_0000, 0x10_1000), (0x10_2000, 0x10_4000)]
        );
        assert_eq!(m.total_vm(), 0x8000 + 0x4000 + 0x8000 + 0x2000);
        // Data: private, writable, below the stack; a mapping with any
        // shared part is not data.
        assert_eq!(m.data_vm(), 0x8000);
        assert!(m.may_expand(1 << 40, true));
        m.limits.address_space = Some((0x2_0000, u64::MAX));
        assert!(m.may_expand(0x2_0000 - 0x1_6000, false));
        assert!(!m.may_expand(0x2_0000 - 0x1_6000 + 1, false));
        m.limits.address_space = None;
        m.limits.data = Some((0x9000, 0x9000));
        assert!(m.may_expand(0x1000, true));
        assert!(!m.may_expand(0x2000, true));
        assert!(m.may_expand(0x2000, false));
        // Valgrind's allowance: a data limit of 0 under a larger hard one.
        m.limits.data = Some((0, 0x10000));
        assert!(m.data_may_grow(0x8000));
        assert!(!m.data_may_grow(0x8001));
    }

    #[test]
    fn find_free_top_down() {
        let mut m = Mappings {
            mmap_top: 0x10_0000,
            mmap_min: 0x1000,
            ..Default::default()
        };
        assert_eq!(m.find_free(0x1000), Some(0xf_f000));
        m.insert(0xf_f000, 0x10_0000, Perm::READ);
        assert_eq!(m.find_free(0x2000), Some(0xf_d000));
        m.insert(0xf_0000, 0xf_d000, Perm::READ);
        assert_eq!(m.find_free(0x1000), Some(0xf_e000));
        assert_eq!(m.find_free(0x3000), Some(0xe_d000));
        assert_eq!(m.find_free(0x100_0000), None);
        // A mapping below the floor never lets a range slip under it.
        let mut m = Mappings {
            mmap_top: 0x10_0000,
            mmap_min: 0xf_0000,
            ..Default::default()
        };
        m.insert(0x1_0000, 0x2_0000, Perm::READ);
        assert_eq!(m.find_free(0x1_0000), Some(0xf_0000));
        assert_eq!(m.find_free(0x1_1000), None);
    }

    #[test]
    fn forget_shm_carves_attachments() {
        let mut m = Mappings::default();
        m.shm.insert(0x4000, (0x7000, 0x4000));
        m.shm.insert(0x8000, (0x9000, 0x8000));
        // A mapping over the middle page of the first attachment.
        m.forget_shm(0x5000, 0x6000);
        let v: Vec<_> = m.shm.iter().map(|(s, v)| (*s, *v)).collect();
        assert_eq!(
            v,
            alloc::vec![
                (0x4000, (0x5000, 0x4000)),
                (0x6000, (0x7000, 0x4000)),
                (0x8000, (0x9000, 0x8000))
            ]
        );
        m.forget_shm(0x0, 0x8800);
        let v: Vec<_> = m.shm.iter().map(|(s, v)| (*s, *v)).collect();
        assert_eq!(v, alloc::vec![(0x8800, (0x9000, 0x8000))]);
    }

    #[test]
    fn remove_splits() {
        let mut m = Mappings::default();
        m.insert(0x1000, 0x5000, Perm::READ);
        m.remove(0x2000, 0x3000);
        assert!(m.covers(0x1000, 0x2000));
        assert!(!m.overlaps(0x2000, 0x3000));
        assert!(m.covers(0x3000, 0x5000));
    }
}

#[cfg(test)]
mod guest_tests {
    use super::*;
    use crate::testhost::TestHost;

    #[test]
    fn bounds_and_permissions() {
        let mem = GuestMemory::new(TestHost::leak(), 1 << 24).unwrap();
        assert!(!mem.read_u8(0x1000).unwrap_err().mapped);
        mem.map(0x1000, 0x2000, Perm::READ | Perm::WRITE, true)
            .unwrap();
        mem.write_u64(0x1ffc, 0x1122_3344_5566_7788).unwrap(); // crosses a page
        assert_eq!(mem.read_u64(0x1ffc).unwrap(), 0x1122_3344_5566_7788);
        mem.protect(0x2000, 0x1000, Perm::empty()).unwrap();
        let f = mem.read_u8(0x2000).unwrap_err();
        assert_eq!((f.addr, f.mapped), (0x2000, true));
        mem.protect(0x2000, 0x1000, Perm::READ).unwrap();
        let f = mem.write_u64(0x1ffc, 0).unwrap_err();
        assert_eq!((f.addr, f.mapped, f.access), (0x2000, true, Access::Write));
        assert!(mem.read_u64(u64::MAX - 3).is_err());
        assert!(mem.read_u8((1 << 24) + 5).is_err());
        mem.unmap(0x1000, 0x1000).unwrap();
        assert!(mem.read_u8(0x1000).is_err());
        assert_eq!(mem.read_u8(0x2000).unwrap(), 0x44);
    }

    #[test]
    fn fast_ptr_clears_only_plain_in_page_accesses() {
        let mem = GuestMemory::new(TestHost::leak(), 1 << 24).unwrap();
        mem.map(0x1000, 0x2000, Perm::READ | Perm::WRITE, true)
            .unwrap();
        mem.protect(0x2000, 0x1000, Perm::READ).unwrap();
        let at = |a: u64| Some(mem.host_base().wrapping_add(a as usize));
        assert_eq!(mem.fast_ptr(0x1ff8, 8, Perm::WRITE), at(0x1ff8));
        assert_eq!(mem.fast_ptr(0x2000, 8, Perm::READ), at(0x2000));
        // Crossing a page, a missing permission, no mapping, outside the
        // reservation, an oversized access: all left to the full path.
        assert_eq!(mem.fast_ptr(0x1ffc, 8, Perm::READ), None);
        assert_eq!(mem.fast_ptr(0x2000, 1, Perm::WRITE), None);
        assert_eq!(mem.fast_ptr(0x1000, 1, Perm::EXEC), None);
        assert_eq!(mem.fast_ptr(0x3000, 1, Perm::READ), None);
        assert_eq!(mem.fast_ptr(1 << 24, 1, Perm::READ), None);
        assert_eq!(mem.fast_ptr(u64::MAX - 7, 8, Perm::READ), None);
        assert_eq!(mem.fast_ptr(0x1000, 16, Perm::READ), None);
        // A page holding translated code is readable but not writable
        // through the fast path (the full path lifts the protection).
        mem.protect_code(0x1000, 0x2000);
        assert!(mem.is_code_protected(0x1000));
        assert_eq!(mem.fast_ptr(0x1000, 8, Perm::READ), at(0x1000));
        assert_eq!(mem.fast_ptr(0x1000, 8, Perm::WRITE), None);
        mem.write_u8(0x1000, 1).unwrap();
        assert_eq!(mem.fast_ptr(0x1000, 8, Perm::WRITE), at(0x1000));
    }

    #[test]
    fn a_page_being_filled_by_the_host_is_not_code_protected_and_its_code_is_dropped_after() {
        let mem = GuestMemory::new(crate::testhost::TestHost::leak(), 1 << 24).unwrap();
        mem.map(0x1000, 0x2000, Perm::READ | Perm::WRITE, true)
            .unwrap();
        let before = mem.code_epoch();
        // A host call waits to fill 0x1000..0x1008 (not executable when it
        // starts); meanwhile the page becomes code and is translated.
        let r = mem.host_write(0x1000, 8, |p| {
            mem.protect(0x1000, 0x1000, Perm::READ | Perm::WRITE | Perm::EXEC)
                .unwrap();
            let seen = mem.code_epoch();
            mem.protect_code(0x1000, 0x1008);
            mem.protect_code(0x2000, 0x2008);
            // The filled page stays writable for the host; the other
            // is protected as usual.
            assert!(!mem.is_code_protected(0x1000));
            assert!(mem.is_code_protected(0x2000));
            // SAFETY: the 8 bytes were checked writable by host_write.
            unsafe { core::ptr::write_bytes(p, 0x13, 8) };
            Ok(seen)
        });
        let seen = r.unwrap();
        assert!(seen >= before);
        // The call moved the code epoch over the page when it returned.
        assert!(mem.code_epoch() > seen);
        let mut covered = false;
        assert!(mem.code_changes(seen, mem.code_epoch(), |f, l| covered |= f <= 1 && 1 <= l));
        assert!(covered);
        // Later translations there are protected again.
        mem.protect_code(0x1000, 0x1008);
        assert!(mem.is_code_protected(0x1000));
    }

    #[test]
    fn instruction_fetch_reads_one_parcel_or_two() {
        let mem = GuestMemory::new(crate::testhost::TestHost::leak(), 1 << 24).unwrap();
        mem.map(0x10000, 0x1000, Perm::READ | Perm::EXEC, true)
            .unwrap();
        mem.map(0x11000, 0x1000, Perm::READ, true).unwrap();
        // c.addi a0, 1 then addi a0, a0, 1 inside the page; c.addi a0, 1
        // in its last two bytes, before a page that is not executable.
        mem.write_bytes_privileged(0x10000, &[0x05, 0x05, 0x13, 0x05, 0x15, 0x00])
            .unwrap();
        mem.write_bytes_privileged(0x10ffe, &[0x05, 0x05]).unwrap();
        assert_eq!(mem.fetch_inst(0x10000), Ok(0x0505), "upper parcel dropped");
        assert_eq!(mem.fetch_inst(0x10002), Ok(0x0015_0513));
        assert_eq!(
            mem.fetch_inst(0x10ffe),
            Ok(0x0505),
            "needs nothing of the next page"
        );
        // A 32-bit instruction there straddles into the page that is not
        // executable: the fault is at its second parcel.
        mem.write_bytes_privileged(0x10ffe, &[0x13, 0x05]).unwrap();
        let f = mem.fetch_inst(0x10ffe).unwrap_err();
        assert_eq!((f.addr, f.access), (0x11000, Access::Exec));
        let f = mem.fetch_inst(0x11000).unwrap_err();
        assert_eq!((f.addr, f.access), (0x11000, Access::Exec));
    }
}
