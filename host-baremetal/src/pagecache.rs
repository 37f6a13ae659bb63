//! The page caches of mapped files: one per file, for the whole machine.
//! A cache is a shared memory object of the page tables
//! ([`crate::memory`]'s `Shm`, as a System V segment's memory is) with a
//! frame for each page of the file that a mapping covers, and every
//! shared mapping of the file (in any process, the same file mapped
//! twice, a view inherited across `fork`) names those frames: a store
//! through one view is seen at once through every other, as on Linux. A
//! private mapping's pages show the same frames copy-on-write, so they
//! see the file's later changes until the guest writes them.
//!
//! The file's own bytes (the file system's, [`host_baremetal::fs`]) stay
//! what `read`, `write` and the rest use: before a file call on a cached
//! file its cache is written back to them ([`PageCache::flush`]), and
//! after a call that may change them it is loaded again from them
//! ([`PageCache::refresh`]), so `read` sees the mappings' stores and the
//! mappings see `write`'s bytes ([`crate::host`]'s `coherent`).
//!
//! The cost of keeping the two apart: a mapped file's bytes are held
//! twice, once by the file system and once in the cache's frames (one
//! frame for each page of the file a mapping has covered, loaded when
//! it is mapped, until the last mapping of the file goes). The file
//! system cannot lend its bytes instead: a file's data is one heap
//! buffer ([`host_baremetal::fs`]'s `Data`, or a ramdisk file's bytes
//! inside the boot archive until its first write), not page-aligned
//! frames, and the buffer moves when the file grows, while a page table
//! entry must name a frame that stays put. Sharing would make the page
//! cache the file's storage (the file system keeping its regular files
//! in frames, as Linux's tmpfs keeps them in the page cache): a change
//! of the file system's `Data`, not of this module. What it costs now,
//! for a dynamic C program (its `ld-linux-riscv64-lp64d.so.1`, 140 KiB,
//! and `libc.so.6`, 1.35 MiB, mapped whole by the loader): about 1.5
//! MiB, 370 frames, while the program runs; for `python3.13`, add its
//! own 6.1 MiB executable (about 1,560 frames more). (Figures: the
//! files' sizes in Debian 13's riscv64 packages, every page of which
//! the loader's mappings cover.)
//!
//! When the file's last page moves (a truncation, a growth), the
//! mappings follow ([`PageCache::resized`], then `crate::host`'s
//! `resized` over every process's file mappings): pages wholly past the
//! new end are gone from every mapping (`crate::memory::file_pages_gone`:
//! a touch is the guest's `SIGBUS`, as Linux unmaps them) and from the
//! cache; pages the file grew over again show its pages again.
//!
//! A cache lives while a mapping holds it ([`Arc`], in each process's
//! list of file mappings, which `mremap` and `fork` carry along); the last holder's drop writes it back and
//! gives up the object's own use of its frames, which are then freed
//! once no page table entry names them either (the object's count of
//! users), so each frame is freed once, by whoever lets it go last.

use alloc::sync::{Arc, Weak};
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use host_baremetal::fs::FileRef;
use vm_core::host::{Errno, HostProt, SysResult};

const PAGE: u64 = 4096;

/// One file's page cache.
#[derive(Debug)]
pub struct PageCache {
    file: FileRef,
    /// Its memory object (`memory::shm_object_new`'s handle).
    handle: u64,
    /// The pages that mappings have covered, `[first, end)` page indices
    /// (empty at first): those the cache holds, where the file reaches.
    span: spin::Mutex<(u64, u64)>,
    /// Has a shared mapping shown it (so the guest may have stored to
    /// it)? Until then there is nothing to write back.
    stored: AtomicBool,
    /// How many pages the file reached into when its mappings last
    /// followed its size ([`PageCache::resized`]).
    pages: AtomicU64,
}

/// Every cache alive (dead entries are dropped on the next lookup).
static CACHES: spin::Mutex<Vec<Weak<PageCache>>> = spin::Mutex::new(Vec::new());

/// The page cache of `file`, made (empty) if it has none.
pub fn of(file: &FileRef) -> SysResult<Arc<PageCache>> {
    let mut all = CACHES.lock();
    all.retain(|w| w.strong_count() > 0);
    if let Some(c) = all
        .iter()
        .filter_map(Weak::upgrade)
        .find(|c| c.file.same(file))
    {
        return Ok(c);
    }
    // No room for another object is a mapping's want of memory.
    let handle = crate::memory::shm_object_new().map_err(|_| Errno::ENOMEM)?;
    let c = Arc::new(PageCache {
        file: file.clone(),
        handle,
        span: spin::Mutex::new((0, 0)),
        stored: AtomicBool::new(false),
        pages: AtomicU64::new(file.size().div_ceil(PAGE)),
    });
    all.push(Arc::downgrade(&c));
    Ok(c)
}

/// The cache of `file` (none if it has none), as a list.
pub fn caches(file: &FileRef) -> Vec<Arc<PageCache>> {
    CACHES
        .lock()
        .iter()
        .filter_map(Weak::upgrade)
        .filter(|c| c.file.same(file))
        .collect()
}

/// How many page caches are alive (for the self-test's leak check).
pub fn count() -> usize {
    CACHES
        .lock()
        .iter()
        .filter(|w| w.strong_count() > 0)
        .count()
}

impl PageCache {
    /// Show the file from byte `offset` (page aligned) at `[addr,
    /// addr+len)` (inside a reservation, its protection set): the pages
    /// the cache did not hold yet are loaded from the file first. Pages
    /// wholly past the file's end are gone from the start ([`Self::past_end`]).
    pub fn map(&self, addr: u64, len: u64, offset: u64) -> SysResult<()> {
        let first = self.load(len, offset)?;
        self.stored.store(true, Ordering::Relaxed);
        let inside = self.inside(len, first);
        crate::memory::shm_object_map(self.handle, addr as *mut u8, inside as usize, first)?;
        self.past_end(addr, len, inside)
    }

    /// Show the file from byte `offset` (page aligned) at `[addr,
    /// addr+len)` privately, with protection `prot`: each page shows the
    /// cache's page (so later changes to the file) until the guest
    /// writes it, which gives it a copy of its own, as Linux's
    /// `MAP_PRIVATE` does. Pages wholly past the file's end are gone
    /// from the start ([`Self::past_end`]).
    pub fn map_private(&self, addr: u64, len: u64, offset: u64, prot: HostProt) -> SysResult<()> {
        let first = self.load(len, offset)?;
        let inside = self.inside(len, first);
        crate::memory::shm_object_map_private(
            self.handle,
            addr as *mut u8,
            inside as usize,
            first,
            prot,
        )?;
        self.past_end(addr, len, inside)
    }

    /// How many bytes of a mapping of `len` bytes from page `first` of
    /// the file lie in pages the file reaches into now.
    fn inside(&self, len: u64, first: u64) -> u64 {
        let pages = self.file.size().div_ceil(PAGE).saturating_sub(first);
        pages.saturating_mul(PAGE).min(len)
    }

    /// The pages of a new mapping `[addr, addr+len)` from byte `inside`
    /// on lie wholly past the file's end: they are gone (a touch is the
    /// guest's `SIGBUS`, a host call given them `EFAULT`), as Linux maps
    /// them, until the file grows over them (`crate::host`'s `resized`
    /// then shows the file's pages there, the mapping's whole length
    /// being recorded).
    fn past_end(&self, addr: u64, len: u64, inside: u64) -> SysResult<()> {
        if inside >= len {
            return Ok(());
        }
        crate::memory::file_pages_gone(addr + inside, len - inside)
    }

    /// Load the pages of `len` bytes from `offset` (page aligned) that
    /// the cache does not hold yet from the file: their first index.
    fn load(&self, len: u64, offset: u64) -> SysResult<u64> {
        if !offset.is_multiple_of(PAGE) {
            return Err(Errno::EINVAL);
        }
        let first = offset / PAGE;
        let end = first.checked_add(len.div_ceil(PAGE)).ok_or(Errno::EINVAL)?;
        {
            let mut span = self.span.lock();
            let (lo, hi) = *span;
            let (nlo, nhi) = if lo == hi {
                (first, end)
            } else {
                (lo.min(first), hi.max(end))
            };
            // The pages new to the cache come from the file; those it
            // holds may be newer than the file and stay.
            let size = self.file.size();
            let mut buf = vec![0u8; PAGE as usize];
            for i in nlo..nhi {
                if lo != hi && (lo..hi).contains(&i) {
                    continue;
                }
                if i * PAGE >= size {
                    break;
                }
                let n = self.file.read_at(i * PAGE, &mut buf);
                crate::memory::shm_object_store(self.handle, i, &buf[..n], true)?;
            }
            *span = (nlo, nhi);
        }
        Ok(first)
    }

    /// The file's size now.
    pub fn size(&self) -> u64 {
        self.file.size()
    }

    /// Its memory object (for [`crate::memory::file_pages_back`]).
    pub fn handle(&self) -> u64 {
        self.handle
    }

    /// Has the file's last page moved since the mappings last followed
    /// its size? Then `(old, new)` page counts, and the mappings must
    /// follow now (the caller's job): the cache has let go of its pages
    /// past the new end already (a growth after reads them as the file
    /// does, zeroes in a hole).
    pub fn resized(&self) -> Option<(u64, u64)> {
        let new = self.file.size().div_ceil(PAGE);
        let old = self.pages.swap(new, Ordering::AcqRel);
        if old == new {
            return None;
        }
        if new < old {
            crate::memory::shm_object_trim(self.handle, new);
        }
        Some((old, new))
    }

    /// The page indices of the cache that hold bytes `[start, end)` of
    /// the file (`None`: every page the cache holds).
    fn pages(&self, bytes: Option<(u64, u64)>) -> core::ops::Range<u64> {
        let (lo, hi) = *self.span.lock();
        match bytes {
            Some((start, end)) => (start / PAGE).max(lo)..end.div_ceil(PAGE).min(hi),
            None => lo..hi,
        }
    }

    /// Write the pages of the cache that hold `bytes` of the file (`None`:
    /// all) back to it, within the file's size (what a page holds past
    /// the end is not file data).
    pub fn flush(&self, bytes: Option<(u64, u64)>) {
        if !self.stored.load(Ordering::Relaxed) {
            // Only private mappings: their stores go to copies.
            return;
        }
        let size = self.file.size();
        let mut buf = vec![0u8; PAGE as usize];
        for i in self.pages(bytes) {
            if i * PAGE >= size {
                break;
            }
            if crate::memory::shm_object_load(self.handle, i, &mut buf) == Ok(true) {
                self.file.write_within(i * PAGE, &buf);
            }
        }
    }

    /// Load the pages of the cache that hold `bytes` of the file (`None`:
    /// all) again from it, after a call that may have changed them: the
    /// pages the file reaches into get its bytes, those past its end (it
    /// shrank) read as zeroes.
    pub fn refresh(&self, bytes: Option<(u64, u64)>) {
        let size = self.file.size();
        let mut buf = vec![0u8; PAGE as usize];
        for i in self.pages(bytes) {
            let (n, make) = if i * PAGE < size {
                (self.file.read_at(i * PAGE, &mut buf), true)
            } else {
                (0, false)
            };
            // Out of frames: the page keeps what it had (a later touch
            // of a page with none is the machine's out-of-memory end).
            let _ = crate::memory::shm_object_store(self.handle, i, &buf[..n], make);
        }
    }
}

impl Drop for PageCache {
    fn drop(&mut self) {
        self.flush(None);
        crate::memory::shm_object_put(self.handle);
    }
}
