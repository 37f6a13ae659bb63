//! Where the guest's time goes: the sampling side of `--profile`.
//!
//! Choice: *sampling*, not counters in translated code. The host arms a
//! CPU-time timer on every guest thread (on Linux, `timer_create` with
//! `CLOCK_THREAD_CPUTIME_ID`, see `host-linux/src/profiler.rs`); each tick
//! interrupts the thread wherever it is and the host's signal handler
//! calls [`sample`] with the interrupted `rip` and `rbp`. So:
//! * profiling off costs nothing: no timer, no handler, no instruction
//!   added to translated code, and the few places below that record
//!   anything (translations, system calls) test [`on`] once, off the hot
//!   path;
//! * profiling on costs one signal per tick (about a microsecond, 1,000
//!   times a second: well under 1%), whatever the code does, and it
//!   measures *time* (what a user asks about), under both engines,
//!   including time outside translated code, where a block counter would
//!   see nothing;
//! * it gives no exact execution counts: a share of samples estimates a
//!   share of time. Exact counts would need a counter increment in every
//!   translated region (and in the interpreter), paid on every execution.
//!
//! Resolving a sample: when `rip` lies inside the live part of a code
//! cache (registered by the translator with [`register_area`]), the
//! thread is running translated code, which keeps its context block in
//! `rbp` throughout, plus the back end's `CTX_REG_BIAS` (the contract
//! the back end's `host_fault` relies on too), and the translation's
//! side table maps `rip` to the exact guest pc. The context block is the front end's [`Ctx`] of the
//! [`Native`] back end: nothing here names a back end's own types. Anywhere else (the interpreter, the dispatcher, helpers,
//! system call emulation, the translator itself) the sample goes to the
//! thread's last known guest pc (`Cpu::pc`, which the host reads through
//! the pointer [`crate::host::HostOs::guest_thread`] gave it): for the
//! interpreter that is the current block, for a helper called from
//! translated code the pc where the thread last entered it. Such samples
//! are counted as *runtime* apart from *translated* ones, so the report
//! can say how much is approximate.
//!
//! Everything [`sample`] touches is lock-free (atomics in static tables
//! and the translator's append-only lists), so it is safe in a signal
//! handler that interrupts any code of pvm, including code that holds a
//! lock. A full table drops samples and counts them ([`Totals::dropped`]).

use crate::cache::translation_pc;
use crate::translate::Native;
use crate::translate::backend::{Backend, Ctx};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

static ON: AtomicBool = AtomicBool::new(false);

/// Is profiling on for this process?
#[inline]
pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Turn profiling on (before the guest's first instruction).
pub fn enable() {
    ON.store(true, Ordering::Relaxed);
}

/// Slots of each sample table (a power of two).
const SLOTS: usize = 1 << 15;

/// An open-addressed, insert-only map from a nonzero key to a count,
/// usable from a signal handler (atomics only, no allocation).
struct Table {
    keys: [AtomicU64; SLOTS],
    counts: [AtomicU32; SLOTS],
}

impl Table {
    const fn new() -> Table {
        Table {
            keys: [const { AtomicU64::new(0) }; SLOTS],
            counts: [const { AtomicU32::new(0) }; SLOTS],
        }
    }

    /// Count one more for `key` (nonzero); false when the table is full.
    fn add(&self, key: u64) -> bool {
        let mut i = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 49) as usize & (SLOTS - 1);
        for _ in 0..SLOTS {
            let k = self.keys[i].load(Ordering::Acquire);
            if k == key
                || (k == 0
                    && match self.keys[i].compare_exchange(
                        0,
                        key,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => true,
                        Err(other) => other == key,
                    })
            {
                self.counts[i].fetch_add(1, Ordering::Relaxed);
                return true;
            }
            i = (i + 1) & (SLOTS - 1);
        }
        false
    }

    fn entries(&self) -> Vec<(u64, u32)> {
        let mut v = Vec::new();
        for (k, c) in self.keys.iter().zip(self.counts.iter()) {
            let k = k.load(Ordering::Acquire);
            let c = c.load(Ordering::Relaxed);
            if k != 0 && c != 0 {
                v.push((k, c));
            }
        }
        v
    }
}

/// Keys are never 0 (guest addresses are far below 2^62).
const TAG: u64 = 1 << 63;

/// The [`BY_PC`] key of a sample at guest `pc`.
fn pc_key(pc: u64, runtime: bool) -> u64 {
    TAG | pc << 1 | runtime as u64
}

/// Samples by guest pc ([`pc_key`]); bit 0 set: a runtime sample (the pc
/// is the thread's last known one), clear: in translated code (exact).
static BY_PC: Table = Table::new();
/// Samples in translated code by the guest entry pc of the translation.
static BY_TRANSLATION: Table = Table::new();
/// Samples by host thread id.
static BY_THREAD: Table = Table::new();
/// Runtime samples by host pc (where in pvm the time went).
static BY_HOST: Table = Table::new();
static TRANSLATED: AtomicU64 = AtomicU64::new(0);
static RUNTIME: AtomicU64 = AtomicU64::new(0);
static NO_PC: AtomicU64 = AtomicU64::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Where a code cache's translations live: `[lo, hi)` host addresses.
const AREAS: usize = 16;
static AREA_LO: [AtomicU64; AREAS] = [const { AtomicU64::new(0) }; AREAS];
static AREA_HI: [AtomicU64; AREAS] = [const { AtomicU64::new(0) }; AREAS];

/// The translator's code cache holds translations at host `[lo, hi)`
/// (after its fixed code). Silently ignored when every slot is taken
/// (samples there then count as runtime).
pub fn register_area(lo: u64, hi: u64) {
    for (l, h) in AREA_LO.iter().zip(AREA_HI.iter()) {
        if l.compare_exchange(0, lo, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            h.store(hi, Ordering::Release);
            return;
        }
    }
}

/// The code cache starting at `lo` is going away.
pub fn unregister_area(lo: u64) {
    for (l, h) in AREA_LO.iter().zip(AREA_HI.iter()) {
        if l.load(Ordering::Acquire) == lo {
            h.store(0, Ordering::Release);
            l.store(0, Ordering::Release);
            return;
        }
    }
}

fn in_area(rip: u64) -> bool {
    AREA_LO
        .iter()
        .zip(AREA_HI.iter())
        .any(|(l, h)| (l.load(Ordering::Acquire)..h.load(Ordering::Acquire)).contains(&rip))
}

/// Record one sample of host thread `tid`, interrupted at `rip` with
/// `rbp`; `last_pc` is that thread's last known guest pc, if the host
/// knows it.
///
/// # Safety
/// `rip` and `rbp` must be the interrupted registers of the calling
/// thread (called from its own signal handler), so that when `rip` is in
/// a registered area, `rbp` is this thread's live context block.
pub unsafe fn sample(rip: u64, rbp: u64, last_pc: Option<u64>, tid: i32) {
    BY_THREAD.add(tid as u32 as u64 | 1 << 32);
    if in_area(rip) && rbp > Native::CTX_REG_BIAS {
        // SAFETY: translated code keeps this thread's `Ctx` in rbp, plus
        // the back end's bias (the caller's promise that these are our own
        // registers), and the context and its translation list outlive the
        // run of translated code we interrupted; no flush runs while a
        // thread is inside translated code, and the list is append-only.
        let hit = unsafe {
            let ctx = &*((rbp - Native::CTX_REG_BIAS) as *const Ctx<Native>);
            if ctx.blocks.is_null() {
                None
            } else {
                translation_pc(&*ctx.blocks, ctx.cache_base, rip)
            }
        };
        if let Some((start, pc)) = hit {
            TRANSLATED.fetch_add(1, Ordering::Relaxed);
            let ok = BY_PC.add(pc_key(pc, false)) & BY_TRANSLATION.add(TAG | start);
            if !ok {
                DROPPED.fetch_add(1, Ordering::Relaxed);
            }
            return;
        }
    }
    match last_pc {
        Some(pc) => {
            RUNTIME.fetch_add(1, Ordering::Relaxed);
            BY_HOST.add(TAG | rip);
            if !BY_PC.add(pc_key(pc, true)) {
                DROPPED.fetch_add(1, Ordering::Relaxed);
            }
        }
        None => {
            NO_PC.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Sample totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// In translated code, resolved to the exact guest pc.
    pub translated: u64,
    /// Elsewhere in pvm, charged to the thread's last known guest pc.
    pub runtime: u64,
    /// On a thread with no guest pc yet (start-up, exit).
    pub no_pc: u64,
    /// Not recorded by pc because a table was full.
    pub dropped: u64,
}

/// What the samples say so far.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    pub totals: Totals,
    /// (guest pc, runtime?, samples).
    pub by_pc: Vec<(u64, bool, u32)>,
    /// (translation entry pc, samples in it).
    pub by_translation: Vec<(u64, u32)>,
    /// (host thread id, samples).
    pub by_thread: Vec<(i32, u32)>,
    /// Runtime samples: (host pc, samples).
    pub by_host: Vec<(u64, u32)>,
}

/// Read the samples (while threads may still add some).
pub fn samples() -> Samples {
    Samples {
        totals: Totals {
            translated: TRANSLATED.load(Ordering::Relaxed),
            runtime: RUNTIME.load(Ordering::Relaxed),
            no_pc: NO_PC.load(Ordering::Relaxed),
            dropped: DROPPED.load(Ordering::Relaxed),
        },
        by_pc: BY_PC
            .entries()
            .into_iter()
            .map(|(k, c)| ((k & !TAG) >> 1, k & 1 != 0, c))
            .collect(),
        by_translation: BY_TRANSLATION
            .entries()
            .into_iter()
            .map(|(k, c)| (k & !TAG, c))
            .collect(),
        by_thread: BY_THREAD
            .entries()
            .into_iter()
            .map(|(k, c)| (k as u32 as i32, c))
            .collect(),
        by_host: BY_HOST
            .entries()
            .into_iter()
            .map(|(k, c)| (k & !TAG, c))
            .collect(),
    }
}

/// System call numbers counted (riscv64's go below 512).
const NR_MAX: usize = 512;
static SYS_COUNT: [AtomicU64; NR_MAX] = [const { AtomicU64::new(0) }; NR_MAX];
static SYS_NS: [AtomicU64; NR_MAX] = [const { AtomicU64::new(0) }; NR_MAX];

/// Count a system call `nr` that took `ns` nanoseconds of wall time
/// (emulation and the host's work; a blocking call's wait included).
pub fn syscall(nr: u64, ns: u64) {
    let i = (nr as usize).min(NR_MAX - 1);
    SYS_COUNT[i].fetch_add(1, Ordering::Relaxed);
    SYS_NS[i].fetch_add(ns, Ordering::Relaxed);
}

/// (number, calls, nanoseconds) of every system call made.
pub fn syscalls() -> Vec<(u64, u64, u64)> {
    (0..NR_MAX)
        .filter_map(|i| {
            let n = SYS_COUNT[i].load(Ordering::Relaxed);
            (n != 0).then(|| (i as u64, n, SYS_NS[i].load(Ordering::Relaxed)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_counts_and_fills() {
        let t = alloc::boxed::Box::new(Table::new());
        assert!(t.add(0x1000));
        assert!(t.add(0x1000));
        assert!(t.add(0x2002));
        let mut e = t.entries();
        e.sort();
        assert_eq!(e, [(0x1000, 2), (0x2002, 1)]);
        for k in 1..SLOTS as u64 - 2 + 1 {
            assert!(t.add(k << 4 | 0x8000_0000));
        }
        assert!(!t.add(0x3000), "full");
        assert!(t.add(0x1000), "known keys still count");
    }

    #[test]
    fn runtime_samples_keep_their_kind() {
        // A sample outside any code area goes to the last known pc.
        // SAFETY: rip is outside every registered area, so rbp is unused.
        unsafe { sample(1, 0, Some(0x4000_1234), 7) };
        let s = samples();
        assert!(s.by_pc.contains(&(0x4000_1234, true, 1)));
        assert!(s.by_host.contains(&(1, 1)));
        assert!(s.by_thread.iter().any(|&(t, n)| t == 7 && n >= 1));
        assert!(s.totals.runtime >= 1);
    }
}
