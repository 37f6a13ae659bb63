//! Decoded blocks for code the cache manager keeps out of the code cache:
//! a block whose translation was lost and that waits before it is
//! translated again ([`crate::profile::Profile::back_off`]) is
//! interpreted, often very many times (a working set larger than the
//! cache, run in a cycle), so it is fetched and decoded once into the
//! shared [`Inst`] enum and run from that instead of fetching and
//! decoding every instruction on every run (measured with a 64 KiB cache:
//! half the CPU time of perl's split and hash loop). Ordinary cold runs
//! (staged emulation) do not use it: most start-up blocks run a few times,
//! and decoding them into a table cost more than it saved (measured on
//! `python3.13 -c pass`: 4 to 6% more CPU time and 2 MiB more memory; the
//! pages it write-protects cost `mprotect` calls and page faults, and a
//! dynamic linker's `mprotect`s dropped the whole set). They fetch every
//! instruction and decode it through [`crate::decode::memo`] instead, a
//! per-thread memo keyed by pc that answers only for the same bits, so it
//! needs no protection and no invalidation.
//!
//! A block here is cut as the dispatcher's cold runs cut it
//! ([`super::scan`] up to the first instruction that ends a region). The
//! set is part of a process's [`super::SharedCode`], under its lock, so
//! the threads of a process share it as they share the code cache; a
//! thread copies its block out (a few instructions) and runs it without
//! the lock. Blocks are found through an open-addressing table placed
//! like the profile's cold counts ([`crate::profile::home_slot`]: a
//! function's blocks share a few cache lines) and live in one array; both
//! are emptied together, when code changes or the array reaches
//! [`MAX_INSTS`].
//!
//! Invalidation is the code cache's: the pages a decoded block came from
//! are recorded here and write-protected on the host like pages holding
//! translated code ([`GuestMemory::protect_code`]), so any store into them
//! moves the code epoch; the dispatcher drops every decoded block when
//! the epoch moved over one of these pages (or over pages it no longer
//! knows), and on every flush of the code cache (which covers `exec` and
//! a new guest memory). A decoded block being run checks the epoch before
//! each instruction and leaves at once, precise, when it moved (its own
//! store into a later instruction of itself, or another thread's), so
//! code changed under it never runs stale: the same guarantee translated
//! code gives. Hosts that cannot write-protect code pages
//! (`HostOs::code_faults` false) do not use this set.

use super::{MAX_BLOCK, scan};
use crate::decode::Inst;
use crate::memory::{GuestMemory, MemFault, PAGE_SIZE};
use crate::profile::home_slot;
use alloc::vec;
use alloc::vec::Vec;
use hashbrown::HashSet;

/// Most decoded instructions held (bounds memory for programs that
/// generate code: 4 MiB of them); past it the set starts over.
pub const MAX_INSTS: usize = 1 << 18;

/// One decoded instruction of a cold block (its pc follows from the
/// block's start and the lengths before it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub inst: Inst,
    pub len: u8,
}

/// A table slot: a block's start pc ([`EMPTY`] if none) and where its
/// instructions are in [`ColdBlocks::insts`].
#[derive(Clone, Copy, Debug)]
struct Slot {
    pc: u64,
    first: u32,
    len: u32,
}

/// No block starts there (pcs are even).
const EMPTY: u64 = u64::MAX;

/// The decoded cold blocks of a process, by start pc, and the pages they
/// were decoded from.
#[derive(Debug, Default)]
pub struct ColdBlocks {
    slots: Vec<Slot>,
    used: usize,
    insts: Vec<Decoded>,
    pages: HashSet<u64>,
    /// Blocks decoded.
    pub decoded: u64,
    /// Times every block was dropped because guest code changed.
    pub dropped: u64,
}

impl ColdBlocks {
    /// The slot holding `pc`, or the empty one where it would go.
    fn find(&self, pc: u64) -> usize {
        let n = self.slots.len();
        let mut i = home_slot(pc, n);
        loop {
            let s = self.slots[i].pc;
            if s == EMPTY || s == pc {
                return i;
            }
            i = (i + 1) & (n - 1);
        }
    }

    /// Put the decoded block at `pc` into `out` (emptied first): the one
    /// held, or decoded now (write-protecting its pages). `Err` is a fetch
    /// fault on its first instruction (the guest's fault when it runs).
    pub fn get(
        &mut self,
        mem: &GuestMemory,
        pc: u64,
        out: &mut Vec<Decoded>,
    ) -> Result<(), MemFault> {
        out.clear();
        if self.used != 0 {
            let s = self.slots[self.find(pc)];
            if s.pc == pc {
                out.extend_from_slice(&self.insts[s.first as usize..][..s.len as usize]);
                return Ok(());
            }
        }
        // Protect the first page before reading it, so that a store racing
        // with the decode (another thread's) moves the epoch and is seen.
        mem.protect_code(pc, pc.wrapping_add(1));
        let block = scan(mem, pc, |i| i.facts().ends_region())?;
        debug_assert!(!block.is_empty() && block.len() <= MAX_BLOCK);
        let last = block[block.len() - 1];
        let end = last.pc.wrapping_add(last.len as u64);
        mem.protect_code(pc, end);
        if self.insts.len() + block.len() > MAX_INSTS {
            self.clear();
        }
        // At most half full, so probes stay short and one is always empty.
        if 2 * (self.used + 1) > self.slots.len() {
            self.grow();
        }
        let mut p = pc / PAGE_SIZE;
        while p <= end.wrapping_sub(1) / PAGE_SIZE {
            self.pages.insert(p);
            p += 1;
        }
        let i = self.find(pc);
        self.slots[i] = Slot {
            pc,
            first: self.insts.len() as u32,
            len: block.len() as u32,
        };
        self.used += 1;
        out.extend(block.iter().map(|g| Decoded {
            inst: g.inst,
            len: g.len,
        }));
        self.insts.extend_from_slice(out);
        self.decoded += 1;
        Ok(())
    }

    fn grow(&mut self) {
        let n = (self.slots.len() * 2).max(1024);
        let empty = Slot {
            pc: EMPTY,
            first: 0,
            len: 0,
        };
        let old = core::mem::replace(&mut self.slots, vec![empty; n]);
        for s in old.into_iter().filter(|s| s.pc != EMPTY) {
            let i = self.find(s.pc);
            self.slots[i] = s;
        }
    }

    /// Was any block decoded from a page of `first..=last`?
    pub fn holds(&self, first: u64, last: u64) -> bool {
        if last.saturating_sub(first) < self.pages.len() as u64 {
            (first..=last).any(|p| self.pages.contains(&p))
        } else {
            self.pages.iter().any(|&p| (first..=last).contains(&p))
        }
    }

    /// Drop every block (guest code changed, the cache was flushed, or the
    /// array is full).
    pub fn clear(&mut self) {
        if self.used != 0 {
            self.slots.iter_mut().for_each(|s| s.pc = EMPTY);
            self.used = 0;
            self.insts.clear();
            self.pages.clear();
            self.dropped += 1;
        }
    }

    /// Blocks held.
    pub fn len(&self) -> usize {
        self.used
    }

    /// No block held?
    pub fn is_empty(&self) -> bool {
        self.used == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::Perm;
    use crate::rv;
    use crate::testhost::TestHost;

    #[test]
    fn blocks_are_cut_like_cold_runs_kept_and_dropped_with_their_pages() {
        let mem = GuestMemory::new(TestHost::leak(), 1 << 24).unwrap();
        mem.map(0x10000, 0x2000, Perm::READ | Perm::EXEC, true)
            .unwrap();
        // Two instructions, a branch (ends the block), one more.
        let code = [
            rv::addi(10, 10, 1),
            rv::addi(11, 11, 2),
            rv::b(0, 0, 0, 8),
            rv::ECALL,
        ];
        for (i, w) in code.iter().enumerate() {
            mem.write_bytes_privileged(0x10ffc + 4 * i as u64, &w.to_le_bytes())
                .unwrap();
        }
        let mut c = ColdBlocks::default();
        let mut out = Vec::new();
        c.get(&mem, 0x10ffc, &mut out).unwrap();
        assert_eq!(out.len(), 3, "up to and with the branch");
        assert_eq!((c.len(), c.decoded), (1, 1));
        c.get(&mem, 0x10ffc, &mut out).unwrap();
        assert_eq!((out.len(), c.decoded), (3, 1), "decoded once");
        // The block crosses from page 0x10 into 0x11.
        assert!(c.holds(0x10, 0x10) && c.holds(0x11, 0x11) && c.holds(0, u64::MAX));
        assert!(!c.holds(0x12, 0x20));
        assert!(c.get(&mem, 0x13000, &mut out).is_err(), "unmapped");
        c.clear();
        assert!(c.is_empty() && !c.holds(0, u64::MAX));
        assert_eq!(c.dropped, 1);
    }
}
