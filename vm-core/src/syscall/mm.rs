//! Address-space system calls: `brk`, `mmap`, `munmap`, `mprotect`,
//! `mremap`, `madvise`, on top of [`GuestMemory`] and its mapping list.
//!
//! Placement follows Linux: a hint is taken when the range is free,
//! otherwise the top-down search of [`crate::memory::Mappings::find_free`].
//! File mappings are host mappings placed inside the guest reservation
//! ([`crate::host::HostOs::map_file`]): a shared one so that writes
//! reach the file, a private one copy-on-write (on a host without file
//! mappings, a copy read with `pread` into fresh pages). They cover the
//! whole length asked for, as Linux's do: a page wholly past the file's
//! end, when `mmap` is called or after a truncation, raises `SIGBUS`
//! (`BUS_ADRERR`) when touched, until the file grows over it again.
//! `mremap` growing a file mapping (one the guest's `/proc/self/maps`
//! names a file for) maps the file's next pages after it, as Linux does
//! ([`GuestMemory::extend_file`]): those wholly past the file's end
//! raise `SIGBUS` the same way; on a host without file mappings, or one
//! that cannot extend this mapping, they are zeroes. The mapping list
//! records which ranges are shared but not which pages came from a
//! file, so `MADV_DONTNEED` gives zeroes where Linux would re-read a
//! private file mapping. A move by
//! `mremap` moves the host pages with what backs them
//! ([`GuestMemory::move_pages`]): a file mapping stays one (a shared one
//! keeps writing to its file; pages past a truncated file's end still
//! raise `SIGBUS`); on a host that cannot move pages the bytes are
//! copied, and a moved shared mapping becomes a private copy.
//!
//! The guest's `RLIMIT_AS` and `RLIMIT_DATA` bound what these calls map,
//! as Linux's `may_expand_vm` does (see [`crate::memory::Mappings::may_expand`]):
//! over the limit, `mmap`, `mremap` and `mprotect` fail with `ENOMEM` and
//! `brk` leaves the break where it was.

use super::abi::*;
use super::{Ctx, R};
use crate::host::{Errno, HostProt, SysResult};
use crate::memory::{Access, GuestMemory, PAGE_SIZE, Perm, page_up};

/// `vm.mmap_min_addr`: the lowest address a hint may name.
const MMAP_MIN_ADDR: u64 = 0x10000;

fn perm_of(prot: u64) -> Perm {
    Perm::from_bits_truncate((prot & 7) as u8)
}

/// The host protection backing guest pages with `perm` (as
/// `GuestMemory` chooses it: readable whenever accessible at all).
fn host_prot(perm: Perm) -> HostProt {
    let mut p = HostProt::empty();
    if !perm.is_empty() {
        p |= HostProt::READ;
    }
    if perm.contains(Perm::WRITE) {
        p |= HostProt::WRITE;
    }
    p
}

fn aligned(x: u64) -> bool {
    x.is_multiple_of(PAGE_SIZE)
}

pub(super) fn brk(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let mem = cx.mem();
    let want = a[0];
    let (start, cur) = {
        let m = mem.maps.lock();
        (m.brk_start, m.brk)
    };
    // Linux answers every failure with the unchanged break.
    if want < start {
        return Ok(cur);
    }
    let (old_top, new_top) = (page_up(cur), page_up(want));
    if new_top > old_top {
        if new_top > mem.size() {
            return Ok(cur);
        }
        {
            let m = mem.maps.lock();
            // `check_data_rlimit` (without the data segment's size, which
            // `data_vm` counts) and `may_expand_vm`.
            let over_data = m.limits.data.is_some_and(|(soft, _)| want - start > soft);
            if !m.cap_allows(new_top - old_top) {
                drop(m);
                cx.p.hit_limit(crate::limits::Limit::Memory);
                return Ok(cur);
            }
            if m.overlaps(old_top, new_top) || over_data || !m.may_expand(new_top - old_top, true) {
                return Ok(cur);
            }
        }
        if mem
            .map(old_top, new_top - old_top, Perm::READ | Perm::WRITE, true)
            .is_err()
        {
            return Ok(cur);
        }
    } else if new_top < old_top && mem.unmap(new_top, old_top - new_top).is_err() {
        return Ok(cur);
    }
    mem.maps.lock().brk = want;
    Ok(want)
}

/// Where a new mapping of `len` bytes goes, for a non-fixed request.
fn place(mem: &GuestMemory, hint: u64, len: u64) -> SysResult<u64> {
    let maps = mem.maps.lock();
    let hint = page_up(hint);
    if hint >= MMAP_MIN_ADDR
        && hint <= mem.size()
        && len <= mem.size() - hint
        && !maps.overlaps(hint, hint + len)
    {
        return Ok(hint);
    }
    maps.find_free(len).ok_or(Errno::ENOMEM)
}

pub(super) fn mmap(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let target = mmap_inner(cx, a)?;
    // Remember the file for the guest's /proc/self/maps.
    let plen = page_up(a[1]);
    let name = if a[3] & MAP_ANONYMOUS == 0 {
        super::procfs::map_name(cx.p.host, a[4] as i32, target + plen, a[5])
    } else {
        None
    };
    let mut m = cx.mem().maps.lock();
    match name {
        Some(n) => m.set_name(target, n),
        None => m.clear_name(target, target + plen),
    }
    Ok(target)
}

fn mmap_inner(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (addr, len, prot, flags, fd, off) = (a[0], a[1], a[2], a[3], a[4] as i32, a[5]);
    let mem = cx.mem();
    if len == 0 || !aligned(off) {
        return Err(Errno::EINVAL);
    }
    let plen = page_up(len);
    if plen == 0 || plen > mem.size() {
        return Err(Errno::ENOMEM);
    }
    match flags & MAP_TYPE {
        MAP_SHARED | MAP_PRIVATE => {}
        MAP_SHARED_VALIDATE if flags & !MAP_KNOWN == 0 => {}
        MAP_SHARED_VALIDATE => return Err(Errno::ENOTSUP),
        _ => return Err(Errno::EINVAL),
    }
    if prot & !(7 | PROT_GROWSDOWN | PROT_GROWSUP) != 0 {
        return Err(Errno::EINVAL);
    }
    let shared = flags & MAP_TYPE != MAP_PRIVATE;
    let anon = flags & MAP_ANONYMOUS != 0;
    let file_size = if anon {
        0
    } else {
        let st = cx.p.host.fstatat(fd, b"", crate::host::AT_EMPTY_PATH)?;
        if st.mode & S_IFMT != S_IFREG && st.mode & S_IFMT != S_IFBLK {
            return Err(Errno::ENODEV);
        }
        let acc = cx.p.host.fcntl(fd, F_GETFL, 0)? as i32 & O_ACCMODE;
        if acc == O_WRONLY || (shared && prot & PROT_WRITE != 0 && acc != O_RDWR) {
            return Err(Errno::EACCES);
        }
        if off.checked_add(plen).is_none_or(|e| e > i64::MAX as u64) {
            return Err(Errno::EOVERFLOW);
        }
        st.size.max(0) as u64
    };
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    let target = if fixed {
        if !aligned(addr) {
            return Err(Errno::EINVAL);
        }
        if addr > mem.size() || plen > mem.size() - addr {
            return Err(Errno::ENOMEM);
        }
        // MAP_FIXED_NOREPLACE wins over MAP_FIXED, as in Linux.
        if flags & MAP_FIXED_NOREPLACE != 0 && mem.maps.lock().overlaps(addr, addr + plen) {
            return Err(Errno::EEXIST);
        }
        addr
    } else {
        place(mem, addr, plen)?
    };
    let perm = perm_of(prot);
    {
        // The limits count what the mapping adds: pages it replaces were
        // counted already.
        let m = mem.maps.lock();
        let replaced = m.bytes_where(target, target + plen, |_, _, _| true);
        let data = !shared && perm.contains(Perm::WRITE) && target < m.mmap_top;
        if !m.cap_allows(plen - replaced) {
            drop(m);
            cx.p.hit_limit(crate::limits::Limit::Memory);
            return Err(Errno::ENOMEM);
        }
        if !m.may_expand(plen - replaced, data) {
            return Err(Errno::ENOMEM);
        }
    }
    if anon {
        mem.map(target, plen, perm, true)?;
        if shared {
            mem.maps.lock().mark_shared(target, target + plen);
            // `target + plen` lies inside the reservation (placement
            // checked it).
            let host_addr = mem.host_base().wrapping_add(target as usize);
            match cx
                .p
                .host
                .map_shared_anon(host_addr, plen as usize, host_prot(perm))
            {
                Ok(()) | Err(Errno::ENODEV) => {}
                Err(e) => {
                    let _ = mem.unmap(target, plen);
                    return Err(e);
                }
            }
        }
        return Ok(target);
    }
    if shared {
        // The host maps the file itself, so writes reach it (and other
        // mappings of it), over the whole length: pages wholly past the
        // end of the file are the host's too, so a touch raises SIGBUS
        // until the file grows over them, as on Linux.
        mem.map(target, plen, perm, true)?;
        mem.maps.lock().mark_shared(target, target + plen);
        // `target + plen` lies inside the reservation (placement checked it).
        let host_addr = mem.host_base().wrapping_add(target as usize);
        let host = host_prot(perm);
        match cx
            .p
            .host
            .map_file(host_addr, plen as usize, fd, off as i64, host, true)
        {
            Ok(()) => return Ok(target),
            // A host without file mappings: a read-only copy is faithful
            // until someone writes the file.
            Err(Errno::ENODEV) if prot & PROT_WRITE == 0 => {}
            Err(e) => {
                let _ = mem.unmap(target, plen);
                return Err(e);
            }
        }
    }
    // Private: the host's copy-on-write mapping of the file where it can
    // (a page is read in only when touched: most of a shared library
    // never is), over the whole length, so pages wholly past its end
    // raise SIGBUS, as in the shared case.
    mem.map(target, plen, perm, true)?;
    if mem.back_with_file(target, plen, perm, fd, off).is_ok() {
        return Ok(target);
    }
    // Else (a host without file mappings) fill fresh writable pages from
    // the file, then give them their permission: pages past its end are
    // zeroes there, where Linux raises SIGBUS.
    let rw = Perm::READ | Perm::WRITE;
    mem.map(target, plen, rw, true)?;
    let want = file_size.saturating_sub(off).min(len) as usize;
    let r = fill_from_file(cx, target, want, fd, off);
    let mem = cx.mem();
    if let Err(e) = r {
        let _ = mem.unmap(target, plen);
        return Err(e);
    }
    if perm != rw {
        mem.protect(target, plen, perm)?;
    }
    Ok(target)
}

fn fill_from_file(cx: &Ctx<'_>, addr: u64, len: usize, fd: i32, off: u64) -> SysResult<()> {
    let host = cx.p.host;
    super::fill(cx.mem(), addr, len, |buf| {
        let mut done = 0;
        while done < len {
            let n = host.pread(fd, &mut buf[done..], (off + done as u64) as i64)?;
            if n == 0 {
                break; // the file shrank: the rest stays zero
            }
            done = (done + n).min(len);
        }
        Ok(())
    })
}

pub(super) fn munmap(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (addr, len) = (a[0], a[1]);
    let mem = cx.mem();
    let plen = page_up(len);
    if !aligned(addr) || len == 0 || plen == 0 || addr > mem.size() || plen > mem.size() - addr {
        return Err(Errno::EINVAL);
    }
    mem.unmap(addr, plen)?;
    mem.maps.lock().clear_name(addr, addr + plen);
    Ok(0)
}

pub(super) fn mprotect(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (addr, len, prot) = (a[0], a[1], a[2]);
    let mem = cx.mem();
    if !aligned(addr) || prot & !(7 | PROT_GROWSDOWN | PROT_GROWSUP) != 0 {
        return Err(Errno::EINVAL);
    }
    if prot & PROT_GROWSDOWN != 0 && prot & PROT_GROWSUP != 0 {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let plen = page_up(len);
    if plen == 0 || addr > mem.size() || plen > mem.size() - addr {
        return Err(Errno::ENOMEM);
    }
    let perm = perm_of(prot);
    if perm.contains(Perm::WRITE) {
        // Pages that become data count against RLIMIT_DATA.
        let m = mem.maps.lock();
        let newly = m.bytes_where(addr, addr + plen, |s, e, p| {
            !m.is_data(s, e, p) && m.is_data(s, e, p | Perm::WRITE)
        });
        if newly > 0 && !m.data_may_grow(newly) {
            return Err(Errno::ENOMEM);
        }
    }
    mem.protect(addr, plen, perm)?;
    Ok(0)
}

/// The permission of `[start, end)` if one mapping permission covers all of
/// it (Linux wants `mremap`'s source inside one VMA).
fn uniform_perm(mem: &GuestMemory, start: u64, end: u64) -> Option<Perm> {
    let maps = mem.maps.lock();
    if !maps.covers(start, end) {
        return None;
    }
    let mut perms = maps
        .map
        .range(..end)
        .rev()
        .take_while(|(_, m)| m.end > start)
        .map(|(_, m)| m.perm);
    let first = perms.next()?;
    perms.all(|p| p == first).then_some(first)
}

pub(super) fn mremap(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (old, olen, nlen) = (a[0], page_up(a[1]), page_up(a[2]));
    let name = cx
        .mem()
        .maps
        .lock()
        .name_at(old)
        .map(|(s, n)| (s, n.clone()));
    let target = mremap_inner(cx, a)?;
    let mut m = cx.mem().maps.lock();
    if target != old && a[3] & MREMAP_DONTUNMAP == 0 {
        m.clear_name(old, old + olen);
    }
    m.clear_name(target, target + nlen);
    if let Some((s, mut n)) = name {
        n.offset += old - s;
        n.end = target + nlen;
        m.set_name(target, n);
    }
    Ok(target)
}

fn mremap_inner(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (old, old_len, new_len, flags, new_addr) = (a[0], a[1], a[2], a[3], a[4]);
    let mem = cx.mem();
    if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) != 0
        || !aligned(old)
        || (flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0)
        || (flags & MREMAP_DONTUNMAP != 0 && (flags & MREMAP_MAYMOVE == 0 || old_len != new_len))
    {
        return Err(Errno::EINVAL);
    }
    let (olen, nlen) = (page_up(old_len), page_up(new_len));
    if nlen == 0 {
        return Err(Errno::EINVAL);
    }
    // old_len 0 duplicates a shared mapping; pvm has no shared mappings.
    if olen == 0 {
        return Err(Errno::EINVAL);
    }
    if old > mem.size() || olen > mem.size() - old {
        return Err(Errno::EFAULT);
    }
    let perm = uniform_perm(mem, old, old + olen).ok_or(Errno::EFAULT)?;
    // A file mapping grows over the file's next pages, as Linux's does.
    let file = mem.maps.lock().name_at(old + olen - PAGE_SIZE).is_some();
    if nlen > olen {
        // Growing (in place or moved) maps `nlen - olen` more bytes.
        let m = mem.maps.lock();
        let data = m.is_data(old, old + olen, perm);
        if !m.cap_allows(nlen - olen) {
            drop(m);
            cx.p.hit_limit(crate::limits::Limit::Memory);
            return Err(Errno::ENOMEM);
        }
        if !m.may_expand(nlen - olen, data) {
            return Err(Errno::ENOMEM);
        }
    }
    let fixed = flags & MREMAP_FIXED != 0;
    if fixed {
        if !aligned(new_addr) || new_addr > mem.size() || nlen > mem.size() - new_addr {
            return Err(Errno::EINVAL);
        }
        if new_addr < old + olen && old < new_addr + nlen {
            return Err(Errno::EINVAL);
        }
    }
    if !fixed && flags & MREMAP_DONTUNMAP == 0 {
        if nlen <= olen {
            if nlen < olen {
                mem.unmap(old + nlen, olen - nlen)?;
            }
            return Ok(old);
        }
        // A length past the address space cannot grow in place (and the
        // sum may wrap); it falls through to the move, which finds no room.
        let grow_end = old.checked_add(nlen).filter(|&e| e <= mem.size());
        if let Some(grow_end) = grow_end
            && !mem.maps.lock().overlaps(old + olen, grow_end)
        {
            grow(mem, old + olen, nlen - olen, perm, file)?;
            return Ok(old);
        }
        if flags & MREMAP_MAYMOVE == 0 {
            return Err(Errno::ENOMEM);
        }
    }
    // Move: a new range, the old pages moved (or copied) there, the old
    // range gone.
    let target = if fixed {
        mem.unmap(new_addr, nlen)?;
        new_addr
    } else {
        mem.maps.lock().find_free(nlen).ok_or(Errno::ENOMEM)?
    };
    let keep = olen.min(nlen);
    if mem.move_pages(old, target, keep, perm).is_ok() {
        if nlen > keep {
            grow(mem, target + keep, nlen - keep, perm, file)?;
        }
    } else {
        copy_pages(mem, old, olen, target, nlen, perm)?;
    }
    if flags & MREMAP_DONTUNMAP != 0 {
        // The source stays mapped, emptied, as after MADV_DONTNEED.
        mem.map(old, olen, perm, true)?;
    } else {
        mem.unmap(old, olen)?;
    }
    Ok(target)
}

/// Map the `len` bytes `mremap` adds at `at`, after a mapping with
/// permission `perm` that ends there: when it is a `file` mapping, the
/// file's next pages ([`GuestMemory::extend_file`]: those wholly past the
/// file's end raise `SIGBUS`); else, or on a host that cannot, zeroes.
fn grow(mem: &GuestMemory, at: u64, len: u64, perm: Perm, file: bool) -> SysResult<()> {
    mem.map(at, len, perm, true)?;
    if file {
        // On failure the pages stay the zeroes just mapped.
        let _ = mem.extend_file(at, len, perm);
    }
    Ok(())
}

/// `mremap`'s move where the host cannot move the pages: fresh pages at
/// `target` (`nlen` bytes, then `perm`) holding a copy of the first
/// `min(olen, nlen)` bytes at `old` (whose permission is `perm`). A
/// shared mapping becomes a private copy, and a source page whose host
/// page is gone (a file truncated under its mapping) is left zero, where
/// Linux moves the file mapping and the page stays gone.
fn copy_pages(
    mem: &GuestMemory,
    old: u64,
    olen: u64,
    target: u64,
    nlen: u64,
    perm: Perm,
) -> SysResult<()> {
    let keep = olen.min(nlen);
    if !perm.contains(Perm::READ) {
        mem.protect(old, olen, perm | Perm::READ)?;
    }
    mem.map(target, nlen, Perm::READ | Perm::WRITE, true)?;
    let src = mem
        .check(old, keep, Access::Read)
        .map_err(|_| Errno::EFAULT)?;
    let dst = mem
        .check(target, keep, Access::Write)
        .map_err(|_| Errno::EFAULT)?;
    // Page by page, guarded: a gone source page is skipped.
    let mut off = 0;
    while off < keep as usize {
        let n = (keep as usize - off).min(PAGE_SIZE as usize);
        // SAFETY: both ranges were just checked inside the reservation;
        // they do not overlap (the target was free or unmapped above, and
        // a fixed target may not overlap the source); a host fault is
        // returned (a guarded copy).
        let _ = unsafe { crate::guarded::copy(dst.add(off), src.add(off), n) };
        off += n;
    }
    if perm != Perm::READ | Perm::WRITE {
        mem.protect(target, nlen, perm)?;
    }
    Ok(())
}

pub(super) fn madvise(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (addr, len, advice) = (a[0], a[1], a[2]);
    let mem = cx.mem();
    let known = matches!(advice, 0..=4 | 8 | 10..=23 | 100 | 101);
    if !aligned(addr) || !known {
        return Err(Errno::EINVAL);
    }
    let plen = page_up(len);
    if len != 0 && plen == 0 {
        return Err(Errno::EINVAL);
    }
    // A range that wraps is EINVAL before anything is looked at.
    let Some(end) = addr.checked_add(plen) else {
        return Err(Errno::EINVAL);
    };
    // MADV_HWPOISON, MADV_SOFT_OFFLINE: a privileged operation on physical
    // pages, refused as to a process without CAP_SYS_ADMIN.
    if advice == 100 || advice == 101 {
        return Err(Errno::EPERM);
    }
    if plen == 0 {
        return Ok(0);
    }
    let pieces: alloc::vec::Vec<(u64, u64, Perm)> = {
        let maps = mem.maps.lock();
        maps.map
            .range(..end)
            .rev()
            .take_while(|(_, m)| m.end > addr)
            .map(|(&s, m)| (s.max(addr), m.end.min(end), m.perm))
            .collect()
    };
    if advice == MADV_DONTNEED {
        // Private pages read back as zeroes; shared ones keep the file's
        // (or the shared memory's) contents, which only lose their local
        // copy on Linux.
        for &(s, e, perm) in &pieces {
            let shared = mem.maps.lock().shared_parts(s, e);
            let mut at = s;
            for (ss, se) in shared.into_iter().chain([(e, e)]) {
                if ss > at {
                    mem.map(at, ss - at, perm, true)?;
                }
                at = se;
            }
        }
    }
    let mapped: u64 = pieces.iter().map(|(s, e, _)| e - s).sum();
    if mapped < plen {
        return Err(Errno::ENOMEM);
    }
    Ok(0)
}

pub(super) fn msync(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (addr, len, flags) = (a[0], a[1], a[2]);
    // MS_ASYNC 1, MS_INVALIDATE 2, MS_SYNC 4
    if !aligned(addr) || flags & !7 != 0 || flags & 5 == 5 {
        return Err(Errno::EINVAL);
    }
    let plen = page_up(len);
    if plen == 0 {
        return Ok(0);
    }
    let mem = cx.mem();
    if addr > mem.size() || plen > mem.size() - addr || !mem.maps.lock().covers(addr, addr + plen) {
        return Err(Errno::ENOMEM);
    }
    // Shared mappings are host mappings of the file: their writes are in
    // the host's page cache already, which is what other readers see.
    Ok(0)
}

/// `riscv_flush_icache(start, end, flags)`: the translations made from
/// the pages of `[start, end)` may be stale (pvm drops those; an empty
/// range, all: Linux ignores the range and flushes every hart's whole
/// instruction cache, see `GuestMemory::code_flushed`); `flags` may only
/// hold `SYS_RISCV_FLUSH_ICACHE_LOCAL`, and pvm makes the change seen by
/// every thread either way.
pub(super) fn riscv_flush_icache(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    if a[2] & !1 != 0 {
        return Err(Errno::EINVAL);
    }
    cx.mem().code_flushed(a[0], a[1]);
    Ok(0)
}

/// The pages `[addr, addr + len)` rounded out to whole pages, if they lie
/// in the reservation and are all mapped (else `ENOMEM`, as Linux answers
/// for a hole).
fn mapped_pages(cx: &Ctx<'_>, addr: u64, len: u64) -> SysResult<(u64, u64)> {
    let start = addr & !(PAGE_SIZE - 1);
    let end = addr
        .checked_add(len)
        .map(page_up)
        .filter(|&e| e != 0 || len == 0)
        .ok_or(Errno::ENOMEM)?;
    let mem = cx.mem();
    if end > mem.size() || (end > start && !mem.maps.lock().covers(start, end)) {
        return Err(Errno::ENOMEM);
    }
    Ok((start, end))
}

/// `mlock`, `munlock` and `mlock2(addr, len, flags)` (`flags`: only
/// `MLOCK_ONFAULT`). pvm does not pin guest pages in host RAM: the range
/// is checked as Linux checks it and the call succeeds, as it would on a
/// machine without swap, where every page stays resident anyway.
pub(super) fn mlock(cx: &mut Ctx<'_>, a: &[u64; 6], flags: u64) -> R {
    if flags & !1 != 0 {
        return Err(Errno::EINVAL);
    }
    mapped_pages(cx, a[0], a[1]).map(|_| 0)
}

/// `mlockall(flags)`: `MCL_CURRENT` 1, `MCL_FUTURE` 2, `MCL_ONFAULT` 4
/// (which needs one of the others); see [`mlock`].
pub(super) fn mlockall(a: &[u64; 6]) -> R {
    let f = a[0];
    if f == 0 || f & !7 != 0 || f == 4 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// `mincore(addr, len, vec)`: one byte per page, bit 0 set when the page
/// is resident (the host's answer for the guest's pages).
pub(super) fn mincore(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (addr, len, out) = (a[0], a[1], a[2]);
    if !aligned(addr) {
        return Err(Errno::EINVAL);
    }
    let (start, end) = mapped_pages(cx, addr, len)?;
    let pages = ((end - start) / PAGE_SIZE) as usize;
    let mut v = alloc::vec![0u8; pages];
    if pages > 0 {
        let mem = cx.mem();
        // SAFETY of the pointer arithmetic: `start..end` lies inside the
        // reservation (checked above); the host only reads page state.
        let host = mem.host_base().wrapping_add(start as usize);
        mem.host().mincore(host, (end - start) as usize, &mut v)?;
    }
    cx.mem().write_bytes(out, &v).map_err(|_| Errno::EFAULT)?;
    Ok(0)
}
