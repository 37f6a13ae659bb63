//! Robust futexes at `execve`, released by the host kernel past its point
//! of no return.
//!
//! Linux walks the robust lists of an exec'ing process only once the exec
//! can no longer fail: `de_thread` kills the other threads (each walks its
//! list as it dies) and `exec_mmap` calls `exec_mm_release`, which walks
//! the caller's list in the old memory. An exec that fails before that
//! point (`E2BIG`, a missing interpreter, `ENOEXEC`) leaves every lock
//! held. pvm's exec is the host's, and only the host kernel knows when it
//! has passed that point; so, on a host that lets a thread name its
//! robust list ([`HostOs::swap_robust_list`]), pvm hands the guest's
//! lists to the host kernel just before the host exec:
//!
//! * the other threads are stopped first (on host threads of their own,
//!   they park at their next stop, see `Process::exec_prepare`), so no
//!   list changes meanwhile and a lock taken for the first time during
//!   the exec is in its thread's list by then;
//! * every guest list (the caller's, then each parked thread's) is
//!   chained into one list for the calling host thread, built in
//!   pvm-private memory so that nothing of guest memory but the lock
//!   words changes (a process sharing the lists' memory, a `MAP_SHARED`
//!   process-shared mutex, must not see a host address in a link). The
//!   kernel finds each lock word at `entry + futex_offset` and walks
//!   `entry->next`; so pvm reserves a shadow range (inaccessible, backed
//!   only where written) spanning the listed lock words' pages, at a
//!   distance `D` from them, writes for each lock word at host address `L` a
//!   private `struct robust_list` node at `L - D` naming the next one,
//!   and names a private head whose `futex_offset` is `D` (its
//!   `list_op_pending` likewise a shadow address). The kernel then reads
//!   only the private nodes and touches only the lock words, as Linux
//!   does to the guest's. A lock word a thread other than the caller
//!   holds gets the caller's host thread id (the kernel releases only
//!   what the dying thread owns). A second lock under way
//!   (`list_op_pending` of another thread) becomes a plain entry of the
//!   chain;
//! * the host exec then either succeeds, and the kernel marks each lock
//!   owner-died and wakes a waiter, as Linux does for the guest, or fails,
//!   and [`HostRobust::undo`] puts back the lock words still naming the
//!   caller and the host thread's own list and gives the shadow range
//!   back, before the parked threads go on.
//!
//! Limits: all lists must use one `futex_offset` (glibc's do); a list
//! with another is walked in place before the exec, as on hosts without
//! this. A PI lock (bit 0 of its link) held by a thread other than the
//! caller keeps its owner (the kernel's PI state names that thread), so
//! the host does not release it. The chain holds at most the kernel's
//! `ROBUST_LIST_LIMIT` entries, each lock word once; a lock word less
//! than 8 bytes past another listed one (their nodes would overlap; no
//! libc lays mutexes out so) is left out, as is one outside the guest's
//! mapped memory or not 4-byte aligned (which Linux skips too).

use crate::abi::FUTEX_TID_MASK;
use crate::host::{HostOs, HostProt};
use crate::memory::{Access, GuestMemory, PAGE_SIZE};
use crate::process::Process;
use alloc::boxed::Box;
use alloc::vec::Vec;

/// The kernel's `ROBUST_LIST_LIMIT`.
const ROBUST_LIST_LIMIT: usize = 2048;
/// Size of a `struct robust_list` node.
const NODE: u64 = 8;

/// One guest robust list: its head and the guest thread that owns it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GuestList {
    pub head: u64,
    pub tid: i32,
}

/// The guest lists handed to the host kernel for one exec, with what it
/// takes to give them back.
pub(crate) struct HostRobust {
    /// The host's `struct robust_list_head` the calling host thread names.
    head: Box<[u64; 3]>,
    /// The robust list the host thread named before.
    before: usize,
    /// The shadow range holding the private nodes: host address and size
    /// as reserved (0, 0 when none).
    shadow: (usize, usize),
    /// `(guest address, owner)` of each lock word given the caller's id.
    owners: Vec<(u64, i32)>,
    /// The caller's host thread id.
    me: i32,
}

/// The entries of the guest list at `head`: `(entry, is PI)` for each,
/// the pending one (if any) and the list's `futex_offset`. `None` when the
/// head cannot be read.
type Walk = (Vec<(u64, bool)>, Option<(u64, bool)>, u64);

fn walk(mem: &GuestMemory, head: u64) -> Option<Walk> {
    let read = |a: u64| mem.read_u64(a).ok();
    let (mut entry, offset, pending) = (read(head)?, read(head + 8)?, read(head + 16)?);
    let mut out = Vec::new();
    let mut left = ROBUST_LIST_LIMIT;
    while entry & !1 != head && entry != 0 && left > 0 {
        out.push((entry & !1, entry & 1 != 0));
        match read(entry & !1) {
            Some(n) => entry = n,
            None => break,
        }
        left -= 1;
    }
    let pending = (pending != 0).then_some((pending & !1, pending & 1 != 0));
    Some((out, pending, offset))
}

impl HostRobust {
    /// Chain `lists` (the caller's first) into one private host list and
    /// name it for the calling host thread. Returns it, and the lists it
    /// could not take (another `futex_offset`), which the caller walks in
    /// place. `None` when the host names no robust lists, or nothing is
    /// held.
    pub(crate) fn hand_over(
        p: &Process,
        lists: &[GuestList],
    ) -> (Option<HostRobust>, Vec<GuestList>) {
        let mem = &p.mem;
        let mut rest = Vec::new();
        let mut offset = None;
        // (entry, is PI, owner)
        let mut nodes: Vec<(u64, bool, i32)> = Vec::new();
        let mut pending = None;
        for l in lists {
            if l.head == 0 {
                continue;
            }
            let Some((entries, pend, off)) = walk(mem, l.head) else {
                continue;
            };
            if entries.is_empty() && pend.is_none() {
                continue;
            }
            if *offset.get_or_insert(off) != off {
                rest.push(*l);
                continue;
            }
            nodes.extend(entries.iter().map(|&(e, pi)| (e, pi, l.tid)));
            if let Some((e, pi)) = pend
                && !entries.iter().any(|&(x, _)| x == e)
            {
                if pending.is_none() {
                    pending = Some((e, pi, l.tid));
                } else {
                    nodes.push((e, pi, l.tid));
                }
            }
        }
        let Some(offset) = offset else {
            return (None, rest);
        };
        // The lock words, as guest addresses: each must be a mapped,
        // aligned word, its node apart from every other's.
        let word = |e: u64| {
            let g = e.wrapping_add(offset);
            (g.is_multiple_of(4) && mem.check(g, 4, Access::Read).is_ok()).then_some(g)
        };
        let mut words: Vec<(u64, bool, i32)> = nodes
            .iter()
            .filter_map(|&(e, pi, owner)| word(e).map(|g| (g, pi, owner)))
            .collect();
        words.sort_by_key(|w| w.0);
        let mut last: Option<u64> = None;
        words.retain(|&(g, _, _)| {
            let apart = last.is_none_or(|l| g >= l + NODE);
            if apart {
                last = Some(g);
            }
            apart
        });
        words.truncate(ROBUST_LIST_LIMIT);
        let pending = pending.and_then(|(e, pi, owner)| word(e).map(|g| (g, pi, owner)));
        // The shadow range spans the listed words' pages, from `lo`.
        let all = || words.iter().chain(pending.iter()).map(|w| w.0);
        let (Some(lo), Some(hi)) = (all().min(), all().max()) else {
            return (None, rest);
        };
        let lo = lo & !(PAGE_SIZE - 1);
        let size = (hi + NODE - lo).next_multiple_of(PAGE_SIZE) as usize;
        let host = p.host;
        let Ok(shadow) = host.reserve(size) else {
            return (None, lists.to_vec());
        };
        let shadow = shadow as usize;
        let mut head = Box::new([0u64; 3]);
        let head_at = head.as_ptr() as u64;
        // futex_offset: the lock word at guest address g is at host
        // address base + g, its node at shadow + (g - lo).
        head[1] = (mem.host_base() as u64)
            .wrapping_add(lo)
            .wrapping_sub(shadow as u64);
        let me = host.gettid();
        let mut hr = HostRobust {
            before: 0,
            head,
            shadow: (shadow, size),
            owners: Vec::new(),
            me,
        };
        let node = |g: u64| shadow as u64 + (g - lo);
        // Back the shadow pages the nodes lie on (words are sorted, so
        // a page already backed is the last one).
        let mut backed = None;
        let mut ok = true;
        for &(g, _, _) in &words {
            let first = node(g) & !(PAGE_SIZE - 1);
            let end = (node(g) + NODE).next_multiple_of(PAGE_SIZE);
            let from = backed.map_or(first, |b: u64| b.max(first));
            if from < end {
                let rw = HostProt::READ | HostProt::WRITE;
                if host
                    .protect(from as *mut u8, (end - from) as usize, rw)
                    .is_err()
                {
                    ok = false;
                    break;
                }
                backed = Some(end);
            }
        }
        if !ok {
            hr.put_back(p);
            return (None, lists.to_vec());
        }
        // Link backwards: each node names the one after it.
        let mut next = head_at;
        for &(g, pi, owner) in words.iter().rev() {
            // SAFETY: node(g)..node(g)+8 lies inside the shadow range this
            // value reserved (lo <= g, g + 8 <= lo + size) and the loop
            // above made its pages readable and writable; nothing else
            // refers to the range. Nodes are 4-byte aligned, hence the
            // unaligned store.
            unsafe { core::ptr::write_unaligned(node(g) as *mut u64, next) };
            if !pi {
                hr.take_owner(mem, g, owner);
            }
            next = node(g) | pi as u64;
        }
        hr.head[0] = next;
        if let Some((g, pi, owner)) = pending {
            // The kernel reads no link at the pending node, only the lock
            // word it names.
            hr.head[2] = node(g) | pi as u64;
            if !pi {
                hr.take_owner(mem, g, owner);
            }
        }
        match host.swap_robust_list(hr.head.as_ptr() as usize) {
            Some(before) => {
                hr.before = before;
                (Some(hr), rest)
            }
            None => {
                hr.put_back(p);
                (None, lists.to_vec())
            }
        }
    }

    /// The lock word at `addr`, if `owner` holds it, now names this host
    /// thread (see the module documentation).
    fn take_owner(&mut self, mem: &GuestMemory, addr: u64, owner: i32) {
        if owner == self.me || !addr.is_multiple_of(4) {
            return;
        }
        if swap_owner(mem, addr, owner, self.me) {
            self.owners.push((addr, owner));
        }
    }

    /// The host exec failed: give the guest its lock words back and the
    /// host thread its own robust list.
    pub(crate) fn undo(mut self, p: &Process) {
        let _ = p.host.swap_robust_list(self.before);
        self.put_back(p);
    }

    /// Give the lock words back to their owners and the shadow range to
    /// the host (no robust list names it any more).
    fn put_back(&mut self, p: &Process) {
        for &(addr, owner) in &self.owners {
            swap_owner(&p.mem, addr, self.me, owner);
        }
        self.owners.clear();
        let (at, size) = core::mem::take(&mut self.shadow);
        if size != 0 && !p.host.release(at as *mut u8, size) {
            let _ = p.host.discard(at as *mut u8, size);
        }
    }
}

/// Give the lock word at `addr` owner `to` if `from` owns it, keeping its
/// other bits (a waiter may set `FUTEX_WAITERS` meanwhile). Whether it did.
fn swap_owner(mem: &GuestMemory, addr: u64, from: i32, to: i32) -> bool {
    let Ok(w) = mem.check(addr, 4, Access::Write) else {
        return false;
    };
    // SAFETY (both): `check` proved the aligned 4 bytes lie inside the
    // guest reservation and writable; other threads touch a lock word
    // only atomically. A host fault is returned, not raised.
    let Ok(mut cur) = (unsafe { crate::guarded::load32(w) }) else {
        return false;
    };
    loop {
        if cur & FUTEX_TID_MASK != from as u32 {
            return false;
        }
        let new = (cur & !FUTEX_TID_MASK) | to as u32;
        match unsafe { crate::guarded::cas32(w, cur, new) } {
            Ok(now) if now == cur => return true,
            Ok(now) => cur = now,
            Err(_) => return false,
        }
    }
}

/// Whether `host` names robust lists for its threads (so exec hands the
/// guest's to it).
pub(crate) fn supported(host: &dyn HostOs) -> bool {
    host.host_robust_lists()
}

/// What [`Process::exec_prepare`] did with the robust lists before the
/// host's exec, for [`Process::exec_failed`].
pub(crate) enum ExecHold {
    /// Nothing was held, or nothing needed doing.
    Nothing,
    /// Walked in place: the old image cannot go on.
    Released,
    /// Handed to the host kernel (`host`, when anything was held), after
    /// stopping the other threads (`stopped`); `released`: a list that
    /// could not be handed over was walked in place.
    Handed {
        host: Option<HostRobust>,
        stopped: bool,
        released: bool,
    },
}
