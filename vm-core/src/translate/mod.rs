//! The binary translator: RISC-V guest code to host machine code, run from
//! the code cache ([`crate::cache`]).
//!
//! This module is the ISA-independent front end and the dispatcher:
//! * [`scan_region`] cuts guest code into a *region*: the basic blocks
//!   reachable from an entry pc by conditional branches and plain jumps
//!   within a window (indirect jumps, system instructions and most calls
//!   end it), decoded with the shared decoder. Loops inside a region run
//!   as host loops with the hottest guest registers in host registers;
//! * calls and returns: a direct call (`jal` with a link register) leaves
//!   the region through a chainable exit, patched to jump straight to the
//!   callee's translation, after pushing a return frame (guest return pc,
//!   host code continuing there) on the host stack with a host `call`; a
//!   return (`jalr x0, 0(ra)`) whose target is the top frame's pc is a
//!   host `ret` (see `x86_64/codegen/ras.rs`), and any other probes the
//!   thread's indirect-jump table inline and jumps to the translation of
//!   the return point on a hit. A region traces a call through (the
//!   callee's blocks and the return point after the call join it) when the
//!   profile saw the callee run and it is a small leaf ([`MAX_LEAF`]
//!   instructions, no calls) or the region's own entry (recursion); then
//!   the call is a host jump and each return first compares its target
//!   with the region's return points and jumps there on a match, guest
//!   registers still in host registers (return prediction inside a
//!   region). The compare is exact, so a mismatched return (`longjmp`, a
//!   changed `ra`) takes the table; and as no host address outlives its
//!   translation, eviction, flushes, other threads, signals and code
//!   changes need nothing more. (Measured: calls and returns between
//!   regions cost a few cycles each once chained; bigger callees copied
//!   into every caller cost more in host code and branch prediction than
//!   they save, hence the leaf rule.)
//! * [`Jit`] is the [`Engine`]: it looks up (or translates) the region at
//!   `cpu.pc`, enters it, and on its return chains direct exits, fills the
//!   indirect-jump table, handles host faults, or hands a trap to the run
//!   loop.
//!
//! The front end (this file, [`crate::profile`], [`crate::cache`]) reaches
//! the code generator and the run-time glue only through the [`Backend`]
//! trait ([`backend`]); it is generic over it ([`JitOn`], [`SharedCodeOn`])
//! and monomorphized for the one back end [`Native`] names, the only place
//! outside its folder that names one. The back end for x86-64 hosts is
//! [`x86_64`] (`codegen` emits a region; the most-used guest registers live
//! in host registers there and are stored back at exits and before helper
//! calls).
//!
//! Inline: RV64I, M, loads and stores, A (host locked instructions; LR/SC
//! as under Threads below; see `codegen/atomic.rs`), most of F and D
//! (arithmetic, fused
//! multiply-adds, compares, sign injection, moves and conversions, with an
//! exact out-of-line path whenever the host result could differ, see
//! `codegen/float.rs`) and the floating-point CSRs. Through the step helper
//! ([`step`], the interpreter's own single-instruction executor, so each
//! instruction's meaning is written once): the other CSRs, the rare
//! F/D cases, misaligned or unusual atomics, and the system instructions.
//!
//! Sandbox: a translated access goes straight to `host base + address`
//! only when its base register is below the guest memory size (minus 8):
//! with the offset (at most 2 KiB) the host access stays inside the
//! reservation and its guard regions whatever the guest computed.
//! The compare is left out only where the address is known to lie within
//! a few KiB of the space (a base register an earlier access checked, see
//! `x86_64/codegen/bounds.rs`): the guard regions reserved around it
//! ([`crate::memory::GUARD`]) then catch the access as a host fault.
//! The page permissions are then enforced by the host, whose protection
//! of the reservation follows the guest's (see [`crate::memory`]): a bad
//! access faults on the host, the host's handler calls [`host_fault`]
//! (the back end's), which stores the cached guest registers back, and
//! the side table maps the faulting host pc to the guest pc and
//! instruction index, so the guest sees a precise [`Trap::MemFault`]. On
//! hosts without that handler (`HostOs::code_faults` false), every access
//! checks a per-run page cache filled by the checked helpers instead.
//!
//! Invalidation ([`inval`]): when [`GuestMemory::code_epoch`] moves over
//! pages that hold translated code ([`GuestMemory::code_changes`] says
//! which pages each move covered: `riscv_flush_icache` of a range, unmap
//! or mprotect of code, a store into a write-protected code page), only
//! the translations made from those pages are killed; `fence.i`, whose
//! change has no range, flushes the whole cache; a library mapped,
//! unmapped or re-protected elsewhere leaves the cache alone
//! (`jit_flushes_avoided`).
//!
//! Staged emulation: a block the dispatcher reaches is interpreted (one
//! instruction at a time, by [`step`]'s executor run over the block,
//! [`crate::interp::step_run`]) its first [`COLD_RUNS`] times
//! and only then translated, as a region along the paths the interpreted
//! runs took, so code that runs only a few times (most of start-up) costs
//! no translation and no cache space, and warm code is translated once
//! instead of as a counted block first and a region later (a block
//! covered by a region before its own cold runs are used up is entered
//! there from then on, [`crate::profile::Profile::end_cold`]; and see
//! [`scan_region_staged`] for calls). With
//! `cold_runs` 0 (tests, the differential test's default) the first tier
//! is a counted translated block, as described in [`crate::profile`].
//! Guest-writable pages holding translated code are write-protected on the
//! host ([`GuestMemory::protect_code`]): a translated store into one
//! faults, the dispatcher lifts the protection (moving the epoch), runs
//! that store alone and invalidates the page, so stale code never runs after a guest
//! write, with or without `fence.i`. Writes through `GuestMemory` (system
//! calls, the step helper) lift the protection the same way. Without host
//! faults, the store helper notices writes into code pages instead.
//!
//! Threads: one [`Jit`] per guest thread (its context block, indirect-jump
//! table and host-fault state) over one [`SharedCode`] per process (the
//! code cache, side tables, fallback table, profile), whose documentation
//! says how translation, chaining, flushes and promotions stay safe while
//! other threads run translated code. A store into code by any thread
//! moves the code epoch, and the next dispatch invalidates its translations, with every thread
//! out of translated code. Atomics are the host's locked instructions in
//! translated code and host atomics in the interpreter, on the same
//! memory; `lr` records its address (`Cpu::reservation`) and the value it
//! read (`Ctx::lr_value`), and `sc` is a compare-and-swap against that
//! value (an ABA change in between goes unnoticed, as in QEMU), in both
//! engines alike, so interpreted and translated code, and threads running
//! either, interoperate.

/// Do caches made from now on count the indirect-table hits of
/// translated code (`jit_indirect_hits`)? A memory increment at every
/// hit, so `pvm` asks for it only with `--stats`; on by default (tests,
/// the bare-metal host).
static COUNT_INDIRECT: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(true);

/// Set whether caches made from now on count indirect-table hits.
pub fn set_count_indirect(on: bool) {
    COUNT_INDIRECT.store(on, core::sync::atomic::Ordering::Relaxed);
}

/// Whether caches made now count indirect-table hits.
pub fn count_indirect() -> bool {
    COUNT_INDIRECT.load(core::sync::atomic::Ordering::Relaxed)
}

pub mod backend;
pub mod cold;
mod inval;
mod nest;
pub mod step;
pub mod x86_64;

/// The back end this build translates with: the one place the front end
/// names a back end (see [`backend`]).
pub type Native = x86_64::X86_64;

/// The optional host features the [`Native`] back end uses when the host
/// allows them, each with whether it does now (see
/// [`Backend::host_features`]).
pub fn host_features() -> alloc::vec::Vec<(&'static str, bool)> {
    <Native as Backend>::host_features()
}

/// The translating engine with the [`Native`] back end.
pub type Jit = JitOn<Native>;

/// The shared code cache of a process's translators, with the [`Native`]
/// back end.
pub type SharedCode = SharedCodeOn<Native>;

/// Handle a host memory fault raised by translated code: the host's fault
/// handler calls this when the faulting instruction pointer `rip` lies in
/// a code cache (memory from `HostOs::alloc_code`), with the interrupted
/// registers (for x86-64: the general registers by hardware number) and
/// the faulting access (at its host address). Returns the
/// host address to resume at (with `regs` changed), or `None` when the
/// fault is not a guest access (a real crash). See [`Backend::host_fault`].
///
/// # Safety
/// `rip` is inside a code cache of this process and `regs` are the
/// registers of the thread that faulted there.
pub unsafe fn host_fault(
    regs: &mut <Native as Backend>::HostRegs,
    rip: u64,
    access: HostAccess,
) -> Option<u64> {
    // SAFETY: the caller's promise, which is the back end's contract.
    unsafe { Native::host_fault(regs, rip, access) }
}

use crate::cache::{Blocks, CachePolicy, CodeCache, Ring, SideEntry, Translation};
use crate::cpu::{Cpu, Trap};
use crate::decode::memo::Memo;
use crate::decode::{Inst, decode};
use crate::host::{Errno, HostOs, SysResult};
use crate::memory::{GuestMemory, MemFault, PAGE_SIZE};
use crate::process::Engine;
use crate::profile::Profile;
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
pub use backend::HostAccess;
use backend::{Backend, Ctx, GuestInst, IND_ENTRIES, IndEntry, StepInst, exit};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Longest block, in guest instructions.
pub const MAX_BLOCK: usize = 64;
/// Default code cache size.
pub const DEFAULT_CACHE_SIZE: usize = 32 << 20;
/// Smallest code cache accepted (a few maximal blocks must fit).
pub const MIN_CACHE_SIZE: usize = 64 << 10;
/// Times a block is interpreted by the dispatcher before it is translated
/// (staged emulation, see [`crate::profile`]): code run only this often is
/// never translated. [`Jit::new`] (tests and the differential test) starts
/// at 0, translating everything; [`Jit::set_cold_runs`] changes it.
pub const COLD_RUNS: u32 = 16;
/// Guest instructions (about) run before `run` returns [`Trap::Budget`],
/// so the run loop looks at signals now and then. Checked at block entry.
const BUDGET: u64 = 1 << 22;

/// Fetch the instruction bits at `pc` (one or two parcels, see
/// [`GuestMemory::fetch_inst`]).
#[inline]
pub fn fetch(mem: &GuestMemory, pc: u64) -> Result<u32, MemFault> {
    mem.fetch_inst(pc)
}

/// Cut the block starting at `pc`. A fetch fault on the first instruction
/// is the guest's fault; one further on ends the block there, so the fault
/// is raised precisely when execution reaches it.
pub fn scan(
    mem: &GuestMemory,
    pc: u64,
    terminator: impl Fn(&Inst) -> bool,
) -> Result<Vec<GuestInst>, MemFault> {
    let mut insts = Vec::new();
    let mut at = pc;
    while insts.len() < MAX_BLOCK {
        let bits = match fetch(mem, at) {
            Ok(b) => b,
            Err(f) if insts.is_empty() => return Err(f),
            Err(_) => break,
        };
        let (inst, len) = decode(bits);
        insts.push(GuestInst { pc: at, inst, len });
        at = at.wrapping_add(len as u64);
        if terminator(&inst) {
            break;
        }
    }
    Ok(insts)
}

/// Most guest instructions in one region.
pub const MAX_REGION: usize = 256;
/// Caches smaller than this translate single blocks, not regions: under a
/// whole flush, a cache that cannot hold the working set spends its time
/// translating, and regions (which include the paths not taken) would
/// multiply that work.
const REGION_MIN_CACHE: usize = 1 << 20;
/// How far (bytes) a region reaches from its entry.
pub const REGION_WINDOW: u64 = 4096;

/// Successors of a block whose last instruction is `last`, when they may
/// join its region: both ways of a conditional branch, the target of a
/// plain jump, the next pc after a block cut short, and for a direct call
/// (`jal` with a link register) the callee and the return point after
/// it, so a call the profile saw run is traced through (see
/// [`scan_region`]). Indirect jumps and system instructions end the
/// region there. Each successor comes with whether it is a callee.
fn region_successors(last: &GuestInst, cut_short: bool) -> [Option<(u64, bool)>; 2] {
    use Inst::*;
    let next = last.pc.wrapping_add(last.len as u64);
    match last.inst {
        Beq(s) | Bne(s) | Blt(s) | Bge(s) | Bltu(s) | Bgeu(s) => [
            Some((next, false)),
            Some((last.pc.wrapping_add(s.imm as i64 as u64), false)),
        ],
        Jal(u) if u.rd == 0 => [
            Some((last.pc.wrapping_add(u.imm as i64 as u64), false)),
            None,
        ],
        // The return point first: the work list is a stack, so the
        // callee is scanned before the caller's code after the call.
        Jal(u) => [
            Some((next, false)),
            Some((last.pc.wrapping_add(u.imm as i64 as u64), true)),
        ],
        _ if cut_short => [Some((next, false)), None],
        _ => [None, None],
    }
}

/// Cut the region entered at `entry`: the basic blocks reachable from it
/// by branches and plain jumps within [`REGION_WINDOW`] bytes to pcs
/// `follow` accepts (the profile's, see [`crate::profile`]), up to
/// `max` instructions, in address order. Direct calls are traced through:
/// a callee `follow` accepts joins the region wherever it is, and the
/// window moves with it (its own branches are followed within
/// [`REGION_WINDOW`] of its entry), as does the return point after the
/// call, so a call and its return become host jumps inside the region
/// (the back end predicts a return by comparing its target with the
/// region's return points). A branch into the middle
/// of a block splits it, so every guest instruction is translated once per
/// region. A fetch fault at `entry` is the guest's fault; one elsewhere
/// leaves that pc out of the region (execution faults when it gets there).
pub fn scan_region(
    mem: &GuestMemory,
    entry: u64,
    max: usize,
    follow: impl Fn(u64) -> bool,
) -> Result<Vec<Vec<GuestInst>>, MemFault> {
    scan_region_with(
        mem,
        entry,
        max,
        &follow,
        &|_| false,
        &|_| false,
        Calls::TRACE,
    )
}

/// [`scan_region`], except that a branch or plain jump to a pc `stop`
/// accepts stays an exit of the region instead of joining it (the
/// translator stops at code that has a translation of its own), unless
/// that pc lies on a loop through `entry` (see [`nest`]: an outer loop
/// keeps its inner loops). A call traced through keeps its callee and
/// return point whatever `stop` says.
pub fn scan_region_stopping(
    mem: &GuestMemory,
    entry: u64,
    max: usize,
    follow: impl Fn(u64) -> bool,
    stop: impl Fn(u64) -> bool,
) -> Result<Vec<Vec<GuestInst>>, MemFault> {
    stopping_with(mem, entry, max, &follow, &stop, &|_| false, false)
}

/// [`scan_region_stopping`] for staged emulation, where regions are made
/// from code that ran [`COLD_RUNS`] times, most of it not to run much
/// more (start-up): a small leaf that `made` says has a translation of
/// its own is not traced through (copied into the region) but called,
/// chained to that translation, unless the call is inside one of the
/// region's loops (see [`in_loop`]), where a traced call is worth its
/// copy. (Measured on `python3.13 -c pass`: a tenth fewer guest
/// instructions translated; `int`, whose loop calls `__umodti3`, keeps
/// its traced call.)
pub fn scan_region_staged(
    mem: &GuestMemory,
    entry: u64,
    max: usize,
    follow: impl Fn(u64) -> bool,
    stop: impl Fn(u64) -> bool,
    made: impl Fn(u64) -> bool,
) -> Result<Vec<Vec<GuestInst>>, MemFault> {
    let declined = core::cell::RefCell::new(Vec::new());
    let blocks = stopping_with(
        mem,
        entry,
        max,
        &follow,
        &stop,
        &|t| {
            let m = made(t);
            if m {
                declined.borrow_mut().push(t);
            }
            m
        },
        true,
    )?;
    // A recursive region (one calling its own entry) keeps the old
    // shape: without the return points of the calls it leaves by, every
    // leaf traced. (With them, `tree`'s recursive functions made 35 times
    // as many indirect-table lookups.)
    let recursive = blocks.iter().any(|b| {
        let last = b[b.len() - 1];
        matches!(last.inst, Inst::Jal(u) if u.rd != 0
            && last.pc.wrapping_add(u.imm as i64 as u64) == entry)
    });
    if recursive {
        return stopping_with(mem, entry, max, &follow, &stop, &|_| false, false);
    }
    let declined = declined.into_inner();
    if declined.is_empty() || !in_loop(&blocks, entry, &declined) {
        return Ok(blocks);
    }
    stopping_with(mem, entry, max, &follow, &stop, &|_| false, true)
}

/// How often each of a region's `blocks` ran before the region was made,
/// for the back end's register choice: its cold runs under staged
/// emulation (`cold_runs` > 0, see [`crate::profile`]), where a path the
/// interpreter took at every run counts `cold_runs` and an error path or a
/// rare case once or twice. A block with no count of its own (split off
/// another block by a branch into it, or entered only in translated code)
/// takes the count of the block falling into it, else `cold_runs`. Without
/// staging every block counts 1.
fn block_heat(profile: &Profile, blocks: &[&[GuestInst]], cold_runs: u32) -> Vec<u32> {
    let mut heat: Vec<u32> = Vec::with_capacity(blocks.len());
    for (i, b) in blocks.iter().enumerate() {
        let h = if cold_runs == 0 {
            1
        } else if let Some(n) = profile.cold_count(b[0].pc) {
            n.clamp(1, cold_runs)
        } else {
            match i.checked_sub(1).map(|p| (blocks[p], heat[p])) {
                Some((prev, h)) if falls_into(prev, b[0].pc) => h,
                _ => cold_runs,
            }
        };
        heat.push(h);
    }
    heat
}

/// Does block `b` continue at `pc` along its fall-through (no control
/// transfer at its end, or a conditional branch not taken)?
fn falls_into(b: &[GuestInst], pc: u64) -> bool {
    let last = b[b.len() - 1];
    last.pc.wrapping_add(last.len as u64) == pc
        && !matches!(last.inst.facts().flow, crate::decode::Flow::Jump)
}

/// Does a block of the region `blocks` (in address order) entered at
/// `entry` end with a call of one of `callees` inside a loop: between the
/// target and the end of a branch or plain jump back to one of the
/// region's blocks, or anywhere in a region that calls its own entry
/// (recursion)?
fn in_loop(blocks: &[Vec<GuestInst>], entry: u64, callees: &[u64]) -> bool {
    use Inst::*;
    let starts = |t: u64| blocks.binary_search_by_key(&t, |b| b[0].pc).is_ok();
    let mut spans = Vec::new();
    let mut calls = Vec::new();
    for b in blocks {
        let last = b[b.len() - 1];
        let (imm, call) = match last.inst {
            Beq(s) | Bne(s) | Blt(s) | Bge(s) | Bltu(s) | Bgeu(s) => (s.imm, false),
            Jal(u) => (u.imm, u.rd != 0),
            _ => continue,
        };
        let t = last.pc.wrapping_add(imm as i64 as u64);
        if call && t == entry {
            return true;
        } else if call {
            if callees.contains(&t) {
                calls.push(last.pc);
            }
        } else if t <= last.pc && starts(t) {
            spans.push((t, last.pc));
        }
    }
    calls
        .iter()
        .any(|&c| spans.iter().any(|&(lo, hi)| (lo..=hi).contains(&c)))
}

/// [`scan_region_stopping`]; `made`, `backs`: see [`scan_region_staged`]
/// and [`scan_region_with`].
fn stopping_with(
    mem: &GuestMemory,
    entry: u64,
    max: usize,
    follow: &dyn Fn(u64) -> bool,
    stop: &dyn Fn(u64) -> bool,
    made: &dyn Fn(u64) -> bool,
    backs: bool,
) -> Result<Vec<Vec<GuestInst>>, MemFault> {
    // The region as the stops cut it, and the pcs they refused.
    let refused = core::cell::RefCell::new(Vec::new());
    let blocks = scan_region_with(
        mem,
        entry,
        max,
        follow,
        &|t| {
            let s = stop(t);
            if s && t != entry {
                refused.borrow_mut().push(t);
            }
            s
        },
        made,
        Calls { trace: true, backs },
    )?;
    let mut refused = refused.into_inner();
    if refused.is_empty() {
        return Ok(blocks);
    }
    refused.sort_unstable();
    refused.dedup();
    let kept = nest::loop_back(mem, &blocks, entry, &refused, follow);
    if kept.is_empty() {
        return Ok(blocks);
    }
    scan_region_with(
        mem,
        entry,
        max,
        follow,
        &|t| stop(t) && kept.binary_search(&t).is_err(),
        made,
        Calls { trace: true, backs },
    )
}

/// Most guest instructions of a callee traced through (see
/// [`small_leaf`]). 96 rather than 48 takes in a run-time library's
/// leaf helpers as the compiler's libgcc builds them (`__umodti3`'s
/// common path is about 70): measured on `int`, whose `powmod` calls it
/// twice per loop trip, 8% less CPU time; `python3.13 -c pass`
/// translates 4% more guest instructions, in the same CPU time. 192
/// rather than 96: `tree` (depth 18) 1.0% to 2.4% less CPU time in three
/// sets of alternating runs (median 1.624 to 1.608 s, 9 runs), python
/// start-up and the other bench rows unchanged within noise (judged by
/// CPU time: by callgrind's host instruction counts, 160 or 256 looked
/// like tree -0.4% and python +0.8%). 400 gained tree less.
pub const MAX_LEAF: usize = 192;

/// Is the function at `callee` a small leaf, worth tracing a call into:
/// the paths `follow` accepts from its entry reach at most [`MAX_LEAF`]
/// instructions and make no call? Tracing through bigger callees copies
/// them into every caller's region (and every region entered at a return
/// point), which costs more in host code and branch prediction than the
/// call and return it saves.
fn small_leaf(mem: &GuestMemory, callee: u64, follow: &dyn Fn(u64) -> bool) -> bool {
    let Ok(blocks) = scan_region_with(
        mem,
        callee,
        MAX_LEAF + 1,
        follow,
        &|_| false,
        &|_| false,
        Calls::NONE,
    ) else {
        return false;
    };
    let n: usize = blocks.iter().map(|b| b.len()).sum();
    n <= MAX_LEAF
        && blocks.iter().all(|b| {
            let last = b[b.len() - 1].inst;
            !matches!(last, Inst::Jal(u) if u.rd != 0)
                && !matches!(last, Inst::Jalr(i) if i.rd != 0)
        })
}

/// What [`scan_region_with`] does at calls (see there).
#[derive(Clone, Copy, Debug)]
struct Calls {
    trace: bool,
    backs: bool,
}

impl Calls {
    const NONE: Calls = Calls {
        trace: false,
        backs: false,
    };
    const TRACE: Calls = Calls {
        trace: true,
        backs: false,
    };
}

/// [`scan_region`]; `calls.trace`: trace calls into small leaves that `made`
/// refuses and into the region's own entry (recursion), else end the
/// region at every call; `calls.backs` (with `trace`): let the return point
/// after a call not traced join the region (see below).
fn scan_region_with(
    mem: &GuestMemory,
    entry: u64,
    max: usize,
    follow: &dyn Fn(u64) -> bool,
    stop: &dyn Fn(u64) -> bool,
    made: &dyn Fn(u64) -> bool,
    calls: Calls,
) -> Result<Vec<Vec<GuestInst>>, MemFault> {
    let Calls {
        trace: calls,
        backs,
    } = calls;
    // The blocks found so far, in address order, with their start pcs
    // apart for the searches (a region has a few dozen blocks at most: a
    // sorted vector, where a `BTreeMap` cost an allocation per node and a
    // tree walk per question, a tenth of the scan).
    // (Room for a typical region's, so that they do not grow: vector
    // growth was a sixth of the scan.)
    let mut starts: Vec<u64> = Vec::with_capacity(16);
    let mut blocks: Vec<Vec<GuestInst>> = Vec::with_capacity(16);
    // Each pc with the centre of its window: the entry, or the callee
    // whose code it belongs to.
    let mut work = Vec::with_capacity(16);
    work.push((entry, entry));
    // Each block is scanned into this buffer, then copied out at its
    // exact size (a vector per block grew, and copied itself, as long
    // blocks were found).
    let mut insts: Vec<GuestInst> = Vec::with_capacity(MAX_BLOCK);
    let mut total = 0usize;
    // `small_leaf` of each callee met so far: a function called from
    // several places in the region is scanned once.
    let mut leaves: Vec<(u64, bool)> = Vec::new();
    let mut leaf = |t: u64| match leaves.iter().find(|l| l.0 == t) {
        Some(&(_, is)) => is,
        None => {
            let is = small_leaf(mem, t, follow);
            leaves.push((t, is));
            is
        }
    };
    while let Some((pc, home)) = work.pop() {
        // Where `pc` is, or would go, among the blocks' starts.
        let at_index = match starts.binary_search(&pc) {
            Ok(_) => continue,
            Err(i) => i,
        };
        // Inside a block already scanned: split it at `pc`, if `pc` starts
        // one of its instructions.
        if let Some(b) = at_index.checked_sub(1).map(|i| &mut blocks[i])
            && let Some(last) = b.last()
            && pc < last.pc.wrapping_add(last.len as u64)
        {
            if let Some(i) = b.iter().position(|gi| gi.pc == pc) {
                let tail = b.split_off(i);
                starts.insert(at_index, pc);
                blocks.insert(at_index, tail);
            }
            continue;
        }
        if total >= max {
            continue;
        }
        // The first block after `pc`. (A start above it: `pc` may be
        // `u64::MAX`, which an `rt_sigreturn` frame can set.)
        let next_start = starts.get(at_index).copied();
        insts.clear();
        let mut at = pc;
        let mut cut_short = true;
        while insts.len() < MAX_BLOCK && total + insts.len() < max {
            if Some(at) == next_start {
                break;
            }
            let bits = match fetch(mem, at) {
                Ok(b) => b,
                Err(f) if pc == entry && insts.is_empty() => return Err(f),
                Err(_) => break,
            };
            let (inst, len) = decode(bits);
            insts.push(GuestInst { pc: at, inst, len });
            at = at.wrapping_add(len as u64);
            if inst.facts().ends_region() {
                cut_short = false;
                break;
            }
        }
        let Some(last) = insts.last().copied() else {
            continue;
        };
        total += insts.len();
        starts.insert(at_index, pc);
        blocks.insert(at_index, insts.clone());
        let succ = region_successors(&last, cut_short);
        // A call joins the region (with its return point) only when it is
        // traced through.
        let traced = succ.iter().flatten().any(|&(t, callee)| {
            callee && calls && t & 1 == 0 && follow(t) && (t == entry || leaf(t) && !made(t))
        });
        let is_call = succ.iter().flatten().any(|&(_, callee)| callee);
        if is_call && !traced {
            // The call leaves the region, but the code it returns to
            // joins it, if it ran (a side entry, which the callee's
            // return reaches through the return frame's chained exit):
            // the rest of a function is translated with the part before
            // the call instead of as a translation of its own once it
            // gets hot (measured on `python3.13 -c pass`: a fifth fewer
            // translations, 1.4% more guest instructions).
            if let [Some((back, false)), _] = succ
                && calls
                && backs
                && home.abs_diff(back) < REGION_WINDOW
                && follow(back)
                && (home != entry || !stop(back))
            {
                work.push((back, home));
            }
            continue;
        }
        for (t, callee) in succ.into_iter().flatten() {
            let home = if callee { t } else { home };
            let near = home.abs_diff(t) < REGION_WINDOW;
            // (A call that got here is traced through.) A traced callee's
            // own code is kept whole, not cut where `stop` says: its blocks
            // are often entered elsewhere (side entries), and a cut would
            // turn the traced call back into an exit.
            if near && t & 1 == 0 && follow(t) && (is_call || home != entry || !stop(t)) {
                work.push((t, home));
            }
        }
    }
    Ok(blocks)
}

/// Counters for `--stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitStats {
    pub blocks: u64,
    pub guest_insts: u64,
    pub host_bytes: u64,
    pub flushes: u64,
    pub chained: u64,
    pub indirect_misses: u64,
    /// Fallback instructions translated (as calls to [`step`]).
    pub steps: u64,
    pub translate_ns: u64,
    /// Moves of the code epoch that touched no page holding translated
    /// code, so the cache was kept.
    pub flushes_avoided: u64,
    /// Side entries offered by the regions made (see the back end's
    /// `codegen::entries`), and dispatches that entered a region there.
    pub side_entries: u64,
    pub side_entered: u64,
    /// Times every thread was brought out of translated code so that the
    /// cache could be flushed or code patched (see [`SharedCode`]).
    pub stop_the_world: u64,
    /// Units evicted to make room (FIFO policy), the translations they
    /// held, and the chains into them that were undone.
    pub evictions: u64,
    pub evicted: u64,
    pub unchained: u64,
    /// Moves of the code epoch over pages holding translated code that
    /// killed only the translations of those pages (see [`inval`]), and
    /// the translations they killed.
    pub page_invalidations: u64,
    pub invalidated: u64,
    /// Dispatches that interpreted a block because `sp` or `tp` was wild
    /// (see [`backend::near`]).
    pub wild_entries: u64,
}

/// Most fallback instructions one translation may number (at most one
/// per guest instruction; twice that for safety: the cache checks).
const MAX_STEPS: usize = 2 * MAX_REGION;

/// What the translators of all threads of a process share: one code
/// cache and everything whose meaning is tied to its contents.
///
/// Concurrency (the mechanism the module documentation refers to):
/// * Translated code runs without any lock. Everything it reads that can
///   grow while it runs (the fallback-instruction table, the translation
///   list a host fault handler searches) is an [`AppendOnly`] list whose
///   published entries never change or move.
/// * Looking up, translating, inserting and chaining happen under
///   [`SharedCodeOn::state`]'s lock, in the dispatcher, outside translated
///   code. A new translation goes into unused cache memory, so threads
///   running other code are unaffected. Chaining rewrites the target of a
///   jump with one store (see [`Backend::chain`]): a thread executing that
///   jump goes to the old exit or the new target, both valid.
/// * Whatever could pull code out from under a running thread (a flush
///   or an invalidation by page because guest code changed (see
///   [`inval`]), or the eviction of a unit because the
///   cache is full (see [`crate::cache`]); overwriting the
///   start of a first-tier block with a jump when it is promoted while
///   other threads run) happens in a *stop-the-world* section, as QEMU's
///   exclusive sections do: holding the lock, the dispatcher sets every
///   thread's instruction budget to zero (each translation checks it at
///   its entry and loop heads), then waits until no thread is inside
///   translated code ([`SharedCodeOn::in_code`] counts them; a thread counts
///   itself in under the lock, so none can enter meanwhile). A thread
///   blocked in a system call is not in translated code and does not delay
///   it. So no thread ever executes freed or half-patched code.
/// * Each thread keeps its own context block, indirect-jump table (emptied
///   when it sees the cache generation move) and host-fault state; the
///   profile's counters are shared (racy decrements only shift when a
///   block is promoted).
pub struct SharedCodeOn<B: Backend> {
    host: &'static dyn HostOs,
    stubs: B::Stubs,
    /// The host reports faults in translated code (`HostOs::code_faults`).
    host_faults: bool,
    /// The cache's translations, for host fault handlers (no lock).
    blocks: Arc<Blocks>,
    /// The fallback instructions of the live translations (no lock), at
    /// the ring slots the cache hands out (see [`CodeCache::steps_head`]).
    steps: Ring<StepInst>,
    cache_base: u64,
    /// Threads between entering translated code and leaving it.
    in_code: AtomicUsize,
    state: spin::Mutex<CodeState<B>>,
}

/// The part of [`SharedCode`] changed under its lock.
struct CodeState<B: Backend> {
    cache: CodeCache,
    /// What codegen appends to, numbering fallback instructions by its
    /// length: kept at the ring slot of the next translation's first one
    /// and mirrored into [`SharedCodeOn::steps`].
    steps: Vec<StepInst>,
    /// One bit per guest page holding translated code.
    code_pages: Vec<u64>,
    /// Host address of guest address 0 in the memory the translations
    /// were made for.
    mem_base: u64,
    /// Indices of the nonzero words of `code_pages`, so a flush clears
    /// only those (the bitmap is 2 MiB for a 64 GiB address space).
    code_pages_dirty: Vec<u32>,
    epoch: u64,
    stats: JitStats,
    /// What has run, and the first-tier counters.
    profile: Profile,
    /// Every thread's context block, to stop them (see [`SharedCode`]).
    ctxs: Vec<*mut Ctx<B>>,
    /// Interpret a block this many times before translating it.
    cold_runs: u32,
    /// Cold blocks decoded once for their cold runs (hosts with
    /// `code_faults` only, see [`cold`]).
    cold: cold::ColdBlocks,
    /// The code generator's buffers, reused by every translation.
    scratch: B::Scratch,
    /// Failed near assumptions per block pc (`exit::WILD`), and the pcs
    /// (sorted) of the blocks translated without any since they failed
    /// [`WILD_LIMIT`] times (see `SharedCodeOn::wild`).
    wild_runs: hashbrown::HashMap<u64, u32>,
    wild_pcs: Vec<u64>,
}

/// Failed near assumptions of one block (`exit::WILD`) after which the
/// translations holding it are made again without them: a register that
/// is sometimes a pointer and often a wild value (a tagged integer, say)
/// would otherwise leave translated code on every way into the block.
const WILD_LIMIT: u32 = 16;

// SAFETY: the raw pointers are the cache memory (owned, freed on drop)
// and the threads' context blocks, which each thread registers while its
// `Jit` lives and only uses to store a budget atomically; everything else
// is behind the lock or is an `AppendOnly` list made for sharing.
unsafe impl<B: Backend> Send for SharedCodeOn<B> {}
// SAFETY: as above.
unsafe impl<B: Backend> Sync for SharedCodeOn<B> {}

impl<B: Backend> core::fmt::Debug for SharedCodeOn<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SharedCode")
            .field("cache_base", &self.cache_base)
            .finish_non_exhaustive()
    }
}

impl<B: Backend> Drop for SharedCodeOn<B> {
    fn drop(&mut self) {
        // No thread has a `Jit` on it any more (each holds an `Arc`), so
        // no translated code runs.
        let st = self.state.get_mut();
        if crate::sampling::on() {
            crate::sampling::unregister_area(st.cache.live_range().0);
        }
        self.host
            .free_code(st.cache.base() as *mut u8, st.cache.capacity());
    }
}

impl<B: Backend> SharedCodeOn<B> {
    /// A code cache of `cache_size` bytes (rounded up to pages) of
    /// executable memory from `host`, with the default policy
    /// ([`crate::cache::default_policy`]). Fails with `EINVAL` below
    /// [`MIN_CACHE_SIZE`], or with the host's error (`ENOSYS` where the
    /// host has no executable memory: use the interpreter there).
    pub fn new(host: &'static dyn HostOs, cache_size: usize) -> SysResult<Arc<Self>> {
        Self::with_policy(host, cache_size, crate::cache::default_policy())
    }

    /// The same with the cache manager's `policy`.
    pub fn with_policy(
        host: &'static dyn HostOs,
        cache_size: usize,
        policy: CachePolicy,
    ) -> SysResult<Arc<Self>> {
        if !(MIN_CACHE_SIZE..=1 << 31).contains(&cache_size) {
            return Err(Errno::EINVAL);
        }
        let cache_size = cache_size.next_multiple_of(PAGE_SIZE as usize);
        let base = host.alloc_code(cache_size)?;
        // At most one fallback per guest instruction, and each takes
        // more than 16 bytes of host code.
        let step_slots = cache_size / 16;
        let mut cache = CodeCache::new(base, cache_size, policy, step_slots);
        let host_faults = host.code_faults();
        let (fixed, stubs) = B::fixed_code(cache.base(), host_faults);
        let entry_addr = cache.install_fixed(&fixed).map_err(|_| Errno::ENOMEM)?;
        debug_assert_eq!(entry_addr, B::entry(&stubs));
        if crate::sampling::on() {
            let (lo, _) = cache.live_range();
            crate::sampling::register_area(lo, cache.base() + cache.capacity() as u64);
        }
        Ok(Arc::new(SharedCodeOn {
            host,
            stubs,
            host_faults,
            blocks: cache.blocks(),
            steps: Ring::new(step_slots),
            cache_base: cache.base(),
            in_code: AtomicUsize::new(0),
            state: spin::Mutex::new(CodeState {
                cache,
                steps: Vec::new(),
                code_pages: Vec::new(),
                mem_base: 0,
                code_pages_dirty: Vec::new(),
                epoch: 0,
                stats: JitStats::default(),
                profile: Profile::new(),
                ctxs: Vec::new(),
                cold_runs: COLD_RUNS,
                cold: cold::ColdBlocks::default(),
                scratch: B::Scratch::default(),
                wild_runs: hashbrown::HashMap::new(),
                wild_pcs: Vec::new(),
            }),
        }))
    }

    /// Hold the lock across a host `fork` (see `Process::fork_with`).
    pub fn lock_for_fork(&self) -> impl Sized + '_ {
        self.lock()
    }

    /// In a forked child, whose only thread is the one that forked (it was
    /// not in translated code): no other thread is inside any more.
    pub fn forked_child(&self) {
        self.in_code.store(0, Ordering::Release);
    }

    /// Take the lock; while another thread holds it (translating, or
    /// waiting for every thread to leave translated code), give the CPU
    /// to the others instead of spinning on it.
    fn lock(&self) -> spin::MutexGuard<'_, CodeState<B>> {
        loop {
            if let Some(g) = self.state.try_lock() {
                return g;
            }
            self.host.yield_now();
        }
    }

    /// Bring every thread out of translated code, then run `f` (with the
    /// lock held and no thread in translated code; see [`SharedCode`]).
    fn stop_the_world<R>(
        &self,
        st: &mut CodeState<B>,
        f: impl FnOnce(&mut CodeState<B>) -> R,
    ) -> R {
        if self.in_code.load(Ordering::Acquire) != 0 {
            for &c in &st.ctxs {
                // SAFETY: registered context blocks live until their Jit
                // unregisters (under this lock, which we hold); the budget
                // field is atomic, so storing it races with nothing.
                unsafe { (*c).instret_limit.store(0, Ordering::SeqCst) };
            }
            while self.in_code.load(Ordering::Acquire) != 0 {
                // The threads to wait for may need this CPU to get out.
                self.host.yield_now();
            }
            st.stats.stop_the_world += 1;
        }
        f(st)
    }

    /// Flush the whole cache (in a stop-the-world section).
    fn flush(&self, st: &mut CodeState<B>) {
        if crate::log::on(crate::log::CACHE) && !st.cache.is_empty() {
            self.host.log(format_args!(
                "cache: code cache flushed ({} translations, {} of {} bytes used)",
                st.cache.len(),
                st.cache.used(),
                st.cache.capacity()
            ));
        }
        self.stop_the_world(st, |st| {
            // SAFETY: no thread runs translated code or reads the lists
            // (stopped above; new entries need the lock we hold). The
            // fallback ring needs no clearing: no live translation names
            // a slot any more, so the cache hands them out again.
            unsafe { st.cache.flush() };
            st.steps.clear();
            st.cold.clear();
            for w in st.code_pages_dirty.drain(..) {
                st.code_pages[w as usize] = 0;
            }
            st.profile.reset_slots();
            st.stats.flushes += 1;
        });
    }

    /// Make room for a translation that did not fit: with one unit (the
    /// flush policy), flush; else move on to the next unit and evict what
    /// it holds (the oldest translations), in a stop-the-world section,
    /// undoing the chains into it.
    fn make_room(&self, st: &mut CodeState<B>) {
        if st.cache.units() == 1 {
            self.flush(st);
            return;
        }
        if !st.cache.advance() {
            return;
        }
        let before = st.cache.len();
        self.stop_the_world(st, |st| {
            let mut unchained = 0u64;
            let mut unchain = |site: u64| {
                // SAFETY: `site` is a chained jump field in a live
                // translation (the cache checked that its unit was not
                // reused since), and no thread runs translated code.
                unchained += unsafe { B::unchain(site) } as u64;
            };
            // SAFETY: no thread runs translated code or reads the lists
            // (stopped above; new entries need the lock we hold).
            let n = unsafe { st.cache.evict_current(&mut unchain) };
            st.stats.evictions += 1;
            st.stats.evicted += n as u64;
            st.stats.unchained += unchained;
        });
        if crate::log::on(crate::log::CACHE) {
            self.host.log(format_args!(
                "cache: unit evicted ({} of {} translations, {} of {} bytes used)",
                before - st.cache.len(),
                before,
                st.cache.used(),
                st.cache.capacity()
            ));
        }
    }

    /// `in_asm` and `out_asm` lines of a new translation.
    fn log_translation(
        &self,
        pc: u64,
        tier: Tier,
        blocks: &[&[GuestInst]],
        host: u64,
        code: &[u8],
    ) {
        let kind = match tier {
            Tier::Region => "region",
            Tier::Block | Tier::Counted(_) => "block",
        };
        if crate::log::on(crate::log::IN_ASM) {
            self.host.log(format_args!("IN: translated {kind} {pc:#x}"));
            for b in blocks {
                for g in b.iter() {
                    crate::log::inst(self.host, g.pc, g.inst, g.len);
                }
            }
        }
        if crate::log::on(crate::log::OUT_ASM) {
            self.host
                .log(format_args!("OUT: [size={}] for guest {pc:#x}", code.len()));
            self.host.log_host_code(host, code);
        }
    }

    fn now_ns(&self) -> u64 {
        // CLOCK_MONOTONIC
        self.host
            .clock_gettime(1)
            .map(|t| (t.sec as u64).wrapping_mul(1_000_000_000) + t.nsec as u64)
            .unwrap_or(0)
    }

    /// What to translate at `pc`, reached from the dispatcher for the first
    /// time since the last flush.
    fn first_tier(st: &mut CodeState<B>) -> Tier {
        // With `exec` logged, every block comes back to the dispatcher.
        if st.cache.capacity() < REGION_MIN_CACHE || crate::log::on(crate::log::EXEC) {
            return Tier::Block;
        }
        // Staged: the interpreter was the first tier, and the profile has
        // seen the paths a region needs.
        if st.cold_runs > 0 {
            return Tier::Region;
        }
        match st.profile.new_slot() {
            Some(slot) => Tier::Counted(slot),
            None => Tier::Region,
        }
    }

    /// Translate at `pc`, as `tier` says.
    fn translate(
        &self,
        st: &mut CodeState<B>,
        pc: u64,
        mem: &GuestMemory,
        tier: Tier,
    ) -> Result<u64, MemFault> {
        let t0 = self.now_ns();
        let blocks = match tier {
            Tier::Region => {
                // A successor with a translation entered there (its own,
                // or a side entry into another region) stays an exit
                // (chained to that translation) instead of being
                // translated again inside this region: code reached from
                // many entries (an interpreter's opcode handlers, the rest
                // of a function after each return point) is translated
                // about once, not once per entry.
                // Calls traced through into small leaves are kept (see
                // `scan_region_stopping`): a leaf usually gets hot, and
                // translated, before its callers.
                // Only under staged emulation: with counted first-tier
                // blocks (`cold_runs` 0), the blocks a hot loop is made of
                // have translations that the region is meant to replace.
                // (Nor are leaves with translations of their own traced
                // then, see `scan_region_staged`.)
                let (p, cache) = (&st.profile, &st.cache);
                let staged = st.cold_runs > 0;
                scan_region_staged(
                    mem,
                    pc,
                    MAX_REGION,
                    |t| p.has_seen(t),
                    |t| staged && t != pc && cache.lookup(t).is_some(),
                    |t| staged && cache.lookup(t).is_some(),
                )?
            }
            Tier::Block | Tier::Counted(_) => {
                st.profile.saw(pc);
                scan_region(mem, pc, MAX_BLOCK, |_| false)?
                    .into_iter()
                    .filter(|b| b[0].pc == pc)
                    .collect()
            }
        };
        let counter = match tier {
            Tier::Counted(slot) => Some(slot),
            _ => None,
        };
        // Under staged emulation, a pc inside a region is entered there
        // (a side entry) rather than translated again with the rest of the
        // region after it; with counted first-tier blocks, a hot block
        // gets a region of its own as before.
        let side_entries = tier == Tier::Region && st.cold_runs > 0;
        let refs: Vec<&[GuestInst]> = blocks.iter().map(|b| b.as_slice()).collect();
        let heat = block_heat(&st.profile, &refs, st.cold_runs);
        let last = *refs[refs.len() - 1].last().expect("blocks are non-empty");
        let end = last.pc.wrapping_add(last.len as u64);
        let mut attempts = 0;
        let host_bytes: u64;
        let host = loop {
            // Regions are at most MAX_REGION instructions of bounded size,
            // far below a unit (see `cache::MIN_UNIT`), so this cannot fail
            // once every unit was tried.
            let steps_before = st.cache.steps_head(MAX_STEPS);
            st.steps.truncate(steps_before);
            assert_eq!(st.steps.len(), steps_before, "steps mirror the ring");
            let block = B::translate(
                st.cache.next_addr(),
                &self.stubs,
                st.mem_base,
                pc,
                &refs,
                &heat,
                counter,
                side_entries,
                &st.wild_pcs,
                &mut st.steps,
                &mut st.scratch,
            )
            .expect("translated region within rel32 reach of the cache");
            let n_steps = st.steps.len() - steps_before;
            let published = st.cache.fits(block.code.len()) && st.cache.steps_fit(n_steps);
            if published {
                for (i, s) in st.steps[steps_before..].iter().enumerate() {
                    // SAFETY: we hold the lock: the only writer; the cache
                    // checked that no live translation names these slots.
                    unsafe { self.steps.set(steps_before + i, *s) };
                }
            }
            let n_entries = block.entries.len() as u64;
            if side_entries {
                // The blocks that joined the region before their own cold
                // runs were used up are entered here from now on, not
                // interpreted until they are (see `Profile::end_cold`).
                for &(at, _) in &block.entries {
                    st.profile.end_cold(at);
                }
            }
            let t = Translation {
                guest_start: pc,
                guest_end: end,
                host_off: 0,
                host_len: 0,
                side: block.side,
                regs: block.regs,
                fault_resume: block.fault_resume,
                entries: block.entries,
                pages: inval::pages(&refs),
            };
            let inserted = if published {
                st.cache.insert(block.code, t, n_steps)
            } else {
                None
            };
            match inserted {
                Some(h) => {
                    if crate::log::on(crate::log::IN_ASM | crate::log::OUT_ASM) {
                        self.log_translation(pc, tier, &refs, h, block.code);
                    }
                    host_bytes = block.code.len() as u64;
                    st.stats.host_bytes += block.code.len() as u64;
                    st.stats.steps += n_steps as u64;
                    st.stats.side_entries += n_entries;
                    break h;
                }
                None => {
                    assert!(
                        attempts <= st.cache.units(),
                        "code cache unit smaller than one region"
                    );
                    self.make_room(st);
                    attempts += 1;
                }
            }
        };
        for b in &refs {
            let l = b[b.len() - 1];
            let end = l.pc.wrapping_add(l.len as u64);
            Self::mark_code(st, b[0].pc, end);
            if self.host_faults {
                mem.protect_code(b[0].pc, end);
            }
        }
        st.stats.blocks += 1;
        st.profile.translated(pc, tier == Tier::Region);
        let insts = refs.iter().map(|b| b.len() as u64).sum::<u64>();
        st.stats.guest_insts += insts;
        let ns = self.now_ns().wrapping_sub(t0);
        st.stats.translate_ns += ns;
        if crate::sampling::on() {
            let region = tier == Tier::Region;
            st.profile
                .record(pc, end, region, insts as u32, host_bytes, ns);
        }
        Ok(host)
    }

    /// Does any page of `first..=last` hold translated code?
    fn holds_code(st: &CodeState<B>, first: u64, last: u64) -> bool {
        let words = &st.code_pages;
        let last = last.min((words.len() as u64 * 64).saturating_sub(1));
        if first > last {
            return false;
        }
        // A range wider than the words holding code (a whole address
        // space, when a program is loaded): look at those words only.
        if (last - first) / 64 > st.code_pages_dirty.len() as u64 {
            return st.code_pages_dirty.iter().any(|&i| {
                let base = i as u64 * 64;
                let (lo, hi) = (first.max(base), last.min(base + 63));
                if lo > hi {
                    return false;
                }
                // The bits of pages `lo..=hi` of this word.
                let bits = u64::MAX >> (63 - (hi - lo)) << (lo - base);
                words[i as usize] & bits != 0
            });
        }
        let mut p = first;
        while p <= last {
            let w = words[(p / 64) as usize];
            if p.is_multiple_of(64) && last - p >= 63 {
                if w != 0 {
                    return true;
                }
                p += 64;
            } else {
                if w >> (p % 64) & 1 != 0 {
                    return true;
                }
                p += 1;
            }
        }
        false
    }

    /// Record that guest `[start, end)` holds translated code.
    fn mark_code(st: &mut CodeState<B>, start: u64, end: u64) {
        let mut p = start / PAGE_SIZE;
        while p <= end.wrapping_sub(1) / PAGE_SIZE {
            // The new code's pages must not stay directly writable through
            // any thread's page cache.
            for &c in &st.ctxs {
                // SAFETY: registered context blocks live while registered
                // (under the lock we hold). The back end's part is only
                // used this way on hosts without host faults, which run one
                // guest thread.
                B::forget_page(unsafe { &mut (*c).arch }, p);
            }
            let i = (p / 64) as usize;
            if let Some(w) = st.code_pages.get_mut(i) {
                if *w == 0 {
                    st.code_pages_dirty.push(i as u32);
                }
                *w |= 1 << (p % 64);
            }
            p += 1;
        }
    }

    /// Repoint the chainable exit at `site` to `target`, with one store
    /// (see [`SharedCodeOn`]); one the back end cannot repoint atomically
    /// is left alone (that exit keeps going through the dispatcher).
    fn chain(st: &mut CodeState<B>, site: u64, target: u64) -> bool {
        if !st.cache.holds(site, B::CHAIN_LEN) || !st.cache.holds(target, 1) {
            return false;
        }
        // SAFETY: `site` and `target` are inside live translations
        // (checked above; the caller checked the generation `site` was
        // recorded in, so its translation was not evicted since).
        let done = unsafe { B::chain(site, target) };
        if done {
            st.cache.record_chain(site, target);
        }
        done
    }

    /// Overwrite the start of the translation at `at` with a jump to
    /// `target` (in a stop-the-world section, see [`SharedCodeOn`]).
    fn redirect(st: &mut CodeState<B>, at: u64, target: u64) -> bool {
        if !st.cache.holds(at, B::REDIRECT_LEN) || !st.cache.holds(target, 1) {
            return false;
        }
        // SAFETY: both are inside the live part of the cache (checked
        // above); the caller stopped every thread.
        let done = unsafe { B::redirect(at, target) };
        if done {
            st.cache.record_redirect(at, target);
        }
        done
    }
}

/// The translating engine of one guest thread: its context block and
/// indirect-jump table, over the process's [`SharedCode`].
pub struct JitOn<B: Backend> {
    shared: Arc<SharedCodeOn<B>>,
    ctx: Box<Ctx<B>>,
    ind: Box<[IndEntry]>,
    /// The cache generation `ind` belongs to.
    generation: u64,
    /// Indirect misses and chains made by this thread.
    indirect_misses: u64,
    /// The decoded cold block this thread runs (see [`cold`]).
    cold_buf: Vec<cold::Decoded>,
    /// What the cold code this thread interprets decoded to (see
    /// [`crate::decode::memo`]).
    memo: Memo,
}

/// What to translate at a pc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tier {
    /// The basic block alone, counting its executions in this slot.
    Counted(u32),
    /// The basic block alone (small caches).
    Block,
    /// A region along the paths the profile has seen.
    Region,
}

// SAFETY: the raw pointers a `Jit` holds (in its context block: its own
// indirect table, the shared step list and translation list; the guest
// memory and `Cpu` of the current `run`, reset at every entry) point into
// memory it owns, memory the `Arc<SharedCode>` it holds keeps alive, or
// memory that outlives the `run` call that set them; none is used outside
// `run`. Moving it to another host thread before it runs there (as
// `clone` does) is therefore sound.
unsafe impl<B: Backend> Send for JitOn<B> {}

impl<B: Backend> Drop for JitOn<B> {
    fn drop(&mut self) {
        let me: *mut Ctx<B> = &mut *self.ctx;
        self.shared.lock().ctxs.retain(|&c| c != me);
    }
}

impl<B: Backend> core::fmt::Debug for JitOn<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Jit")
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

impl<B: Backend> JitOn<B> {
    /// A translator with a code cache of its own, of `cache_size` bytes
    /// (see [`SharedCodeOn::new`]).
    pub fn new(host: &'static dyn HostOs, cache_size: usize) -> SysResult<Self> {
        let jit = Self::with_shared(SharedCodeOn::new(host, cache_size)?);
        jit.set_cold_runs(0);
        Ok(jit)
    }

    /// Interpret each block `n` times before translating it (0: translate
    /// at once), for every thread of the cache.
    pub fn set_cold_runs(&self, n: u32) {
        self.shared.lock().cold_runs = n;
    }

    /// Interpret the basic block at `cpu.pc` (cold code, see
    /// [`COLD_RUNS`]) through the interpreter's single-step executor
    /// ([`crate::interp::step_run`]), outside the lock: each instruction
    /// either retires or stops with its trap,
    /// and stores into translated code go through [`GuestMemory`], which
    /// moves the code epoch as a translated store would.
    ///
    /// With `decoded` (the code epoch at which `cold_buf` holds the block
    /// decoded, see [`cold`]), runs that instead of fetching, and leaves
    /// before any instruction once the epoch moved: the code may have
    /// changed, and the dispatcher drops stale blocks.
    fn run_cold(
        &mut self,
        cpu: &mut Cpu,
        mem: &GuestMemory,
        decoded: Option<u64>,
    ) -> Result<(), Trap> {
        if let Some(epoch) = decoded {
            for d in self.cold_buf.iter() {
                if mem.code_epoch() != epoch {
                    break;
                }
                step::step(cpu, mem, d.inst, d.len, &mut self.ctx.lr_value)?;
            }
            return Ok(());
        }
        let memo = &mut self.memo;
        crate::interp::step_run(cpu, mem, MAX_BLOCK, &mut self.ctx.lr_value, |pc| {
            fetch(mem, pc).map(|bits| memo.decode(pc, bits))
        })
    }

    /// A translator for one more thread, sharing `shared`'s code cache.
    pub fn with_shared(shared: Arc<SharedCodeOn<B>>) -> Self {
        let ind = vec![IndEntry::EMPTY; IND_ENTRIES].into_boxed_slice();
        let mut ctx = Box::new(Ctx {
            guest: Cpu::default(),
            mem_base: 0,
            instret_limit: AtomicU64::new(0),
            exit_site: 0,
            ind_table: ind.as_ptr(),
            ind_hits: 0,
            exit_host: 0,
            arch: B::new_part(&shared.stubs),
            mem: core::ptr::null(),
            cpu: core::ptr::null_mut(),
            steps: &shared.steps,
            lr_value: 0,
            trap: None,
            code_pages: core::ptr::null(),
            code_pages_words: 0,
            fault: None,
            mem_limit: 0,
            blocks: &*shared.blocks,
            cache_base: shared.cache_base,
            host_fault: None,
            counters: core::ptr::null_mut(),
        });
        let generation = {
            let mut st = shared.lock();
            ctx.counters = st.profile.counters_ptr();
            st.ctxs.push(&mut *ctx);
            st.cache.generation()
        };
        JitOn {
            shared,
            ctx,
            ind,
            generation,
            indirect_misses: 0,
            cold_buf: Vec::with_capacity(MAX_BLOCK),
            memo: Memo::default(),
        }
    }

    /// Counters so far (of the shared cache; indirect misses are this
    /// thread's).
    pub fn counters(&self) -> JitStats {
        let mut s = self.shared.lock().stats;
        s.indirect_misses = self.indirect_misses;
        s
    }

    /// Regions translated because a first-tier block got hot.
    pub fn promotions(&self) -> u64 {
        self.shared.lock().profile.promotions
    }

    /// Indirect jumps that found their target in the lookup table.
    pub fn indirect_hits(&self) -> u64 {
        self.ctx.ind_hits
    }

    /// Run `f` on the code cache (for inspection and tests).
    pub fn with_cache<R>(&self, f: impl FnOnce(&CodeCache) -> R) -> R {
        f(&self.shared.lock().cache)
    }

    /// Precise guest state for a host pc inside translated code (what a
    /// host fault handler needs): the guest pc of the instruction whose
    /// code is at `host_pc`, and its index in its block. Because every
    /// translated instruction writes the `Cpu` only at its end, the `Cpu`
    /// then holds exactly the state before that instruction, except
    /// `instret`, which is behind by the returned index.
    pub fn guest_at(&self, host_pc: u64) -> Option<(u64, u32)> {
        crate::cache::find_host(&self.shared.blocks, self.shared.cache_base, host_pc)
            .map(|(_, e)| (e.guest_pc, e.index))
    }

    /// The translation and side entry for `ctx.exit_host` after a cold
    /// exit: its host start and the entry. Only valid while this thread
    /// still counts as in translated code (no flush can intervene).
    fn exit_entry(&self) -> (u64, SideEntry) {
        let (t, e) = crate::cache::find_host(
            &self.shared.blocks,
            self.shared.cache_base,
            self.ctx.exit_host,
        )
        .expect("cold exits come from translated code");
        (self.shared.cache_base + t.host_off as u64, *e)
    }

    /// A guest access from translated code faulted on the host (`access`,
    /// at its guest address; `cpu` is at the faulting instruction). A
    /// write into a page write-protected because it holds translated code
    /// is self-modifying code, not a fault: lift the protection (which
    /// moves the code epoch, so the translations of that page die before
    /// anything else runs), run that one instruction exactly, and go on.
    /// So is a write the host refused only because another thread was
    /// midway through protecting or lifting the page (two threads storing
    /// into one page of a JIT's code heap): [`GuestMemory::write_refused`]
    /// tells both from the guest's own fault. Only a host page whose
    /// backing is gone (`access.gone`: a file truncated under its mapping)
    /// is `SIGBUS`.
    fn host_fault(
        &mut self,
        cpu: &mut Cpu,
        mem: &GuestMemory,
        access: HostAccess,
    ) -> Result<(), Trap> {
        let HostAccess { addr, write, gone } = access;
        let again = write && !gone && mem.write_refused(addr);
        let fetched = fetch(mem, cpu.pc);
        if again {
            // The write goes ahead: an instruction that cannot be fetched
            // (another thread unmapped it meanwhile) faults there.
            fetched.map_err(Trap::MemFault)?;
        }
        if let Ok(bits) = fetched {
            let (inst, len) = decode(bits);
            // The host reports an atomic's locked access as a write even
            // where the guest's fault is a read (a page that is not
            // readable): the single-step executor raises the interpreter's
            // exact fault (the state is precise, nothing of the
            // instruction happened).
            if again || inst.facts().access == crate::decode::Access::Amo {
                return step::step(cpu, mem, inst, len, &mut self.ctx.lr_value);
            }
        }
        Err(Trap::MemFault(MemFault {
            addr,
            access: if write {
                crate::memory::Access::Write
            } else {
                crate::memory::Access::Read
            },
            mapped: mem.is_mapped(addr),
            gone,
        }))
    }
}

/// Why a thread left translated code, with what it needs from the
/// translation it left (read while still counted as inside).
struct Left {
    why: u64,
    /// Host start of the translation and the side entry at `exit_host`.
    exit: Option<(u64, SideEntry)>,
}

impl<B: Backend> Engine for JitOn<B> {
    fn run(&mut self, cpu: &mut Cpu, mem: &GuestMemory) -> Trap {
        let sh = self.shared.clone();
        let limit = cpu.instret.saturating_add(BUDGET);
        {
            let mut st = sh.lock();
            let words = (mem.size() / PAGE_SIZE).div_ceil(64) as usize;
            let base = mem.host_base() as u64;
            if st.code_pages.len() != words || st.mem_base != base {
                // The first run (one guest memory per process). The code
                // may depend on where the memory is (see
                // `Backend::translate`): none made for another survives.
                st.mem_base = base;
                st.code_pages = vec![0; words];
                st.code_pages_dirty.clear();
                sh.flush(&mut st);
                st.profile.code_changed();
            }
            self.ctx.code_pages = st.code_pages.as_ptr();
            self.ctx.code_pages_words = st.code_pages.len();
        }
        let ctx = &mut *self.ctx;
        ctx.mem_base = mem.host_base() as u64;
        ctx.mem_limit = mem.size() - 8;
        ctx.instret_limit.store(limit, Ordering::SeqCst);
        ctx.exit_site = 0;
        ctx.ind_table = self.ind.as_ptr();
        ctx.exit_host = 0;
        B::prepare_run(&mut ctx.arch, &sh.stubs, mem);
        ctx.mem = mem;
        ctx.cpu = cpu;
        ctx.trap = None;
        ctx.fault = None;
        ctx.host_fault = None;
        let log_exec = crate::log::on(crate::log::EXEC);
        // A chainable exit taken last time: (rel32 site, cache generation).
        let mut chain_from: Option<(u64, u64)> = None;
        let mut fill_indirect = false;
        // A first-tier block to promote: (its host start, generation).
        let mut promote: Option<(u64, u64)> = None;
        // The last exit was `exit::WILD`: interpret the block at `pc`.
        let mut wild = false;
        loop {
            let pc = cpu.pc;
            let (host, generation) = {
                let mut st = sh.lock();
                let epoch = mem.code_epoch();
                if epoch != st.epoch {
                    sh.code_moved(&mut st, mem, epoch);
                }
                if let Some((first, generation)) = promote.take() {
                    // Another thread may have promoted it first: then the
                    // map already leads to its region.
                    if generation == st.cache.generation() && st.cache.lookup(pc) == Some(first) {
                        let region = match sh.translate(&mut st, pc, mem, Tier::Region) {
                            Ok(h) => h,
                            Err(f) => return Trap::MemFault(f),
                        };
                        st.profile.promotions += 1;
                        // Whatever is chained to the first tier goes on to
                        // the region (unless translating flushed the
                        // cache or evicted the first tier). Overwriting the
                        // start of code another thread may be running needs
                        // the world stopped.
                        if st.cache.starts_at(first, pc) {
                            sh.stop_the_world(&mut st, |st| {
                                SharedCodeOn::redirect(st, first, region)
                            });
                        }
                    }
                }
                let cold = st.cold_runs;
                // A block still cold has no translation entered at its pc
                // (one is made only once its cold runs are used up, and
                // the counts outlive flushes), so most dispatches of cold
                // code need no cache lookup. Were a translation there
                // after all (`cold_runs` raised at run time), interpreting
                // would still be exact.
                let mut decoded = None;
                // Translated code assumes `sp` and `tp` near the guest
                // space (see `backend::near`): while either is wild, the
                // block is interpreted.
                let host = if sh.host_faults && !backend::near_regs(cpu, mem.size()) {
                    st.stats.wild_entries += 1;
                    None
                } else if core::mem::take(&mut wild) {
                    // A block's near assumption failed on the way in.
                    st.stats.wild_entries += 1;
                    sh.wild(&mut st, pc);
                    None
                } else if st.profile.run_cold(pc, cold) {
                    None
                } else if let Some((h, t)) = st.cache.translation(pc) {
                    if t.guest_start != pc {
                        st.stats.side_entered += 1;
                    }
                    Some(h)
                } else if st.profile.back_off(pc, cold) {
                    // Its translation was lost (evicted or flushed), and
                    // it waits before it is translated again (see
                    // `Profile::back_off`). Such a block runs again and
                    // again: decoded once (a fetch fault is raised by
                    // `run_cold` below).
                    if sh.host_faults && st.cold.get(mem, pc, &mut self.cold_buf).is_ok() {
                        decoded = Some(st.epoch);
                    }
                    None
                } else {
                    let tier = SharedCodeOn::first_tier(&mut st);
                    match sh.translate(&mut st, pc, mem, tier) {
                        Ok(h) => Some(h),
                        Err(f) => return Trap::MemFault(f),
                    }
                };
                let generation = st.cache.generation();
                if generation != self.generation {
                    self.generation = generation;
                    self.ind.fill(IndEntry::EMPTY);
                }
                let Some(host) = host else {
                    // Cold: nothing to chain to or to put in the table.
                    chain_from = None;
                    fill_indirect = false;
                    drop(st);
                    if let Err(t) = self.run_cold(cpu, mem, decoded) {
                        return t;
                    }
                    if cpu.instret >= limit {
                        return Trap::Budget;
                    }
                    continue;
                };
                if let Some((site, g)) = chain_from.take()
                    && g == generation
                    && SharedCodeOn::chain(&mut st, site, host)
                {
                    st.stats.chained += 1;
                }
                sh.in_code.fetch_add(1, Ordering::AcqRel);
                (host, generation)
            };
            if log_exec {
                self.shared
                    .host
                    .log(format_args!("Trace: {pc:#x} [host {host:#x}]"));
                fill_indirect = false;
            }
            if fill_indirect {
                fill_indirect = false;
                self.ind[IndEntry::slot(pc)] = IndEntry { guest: pc, host };
            }
            self.ctx.exit_site = 0;
            // SAFETY: `stubs` are the fixed code of this cache (see
            // `SharedCodeOn::new`); `host` is a live translation of the
            // current cache generation, made for this guest memory, and it
            // stays live while this thread counts itself in `in_code` (a
            // flush waits for that); `cpu` and `ctx` are valid, exclusively
            // borrowed for the call, and `ctx.mem` points at `mem`, which
            // outlives it.
            let why = unsafe { B::enter(&sh.stubs, cpu, &mut *self.ctx, host) };
            let left = Left {
                why,
                exit: match why {
                    exit::CHAIN | exit::INDIRECT | exit::NEXT | exit::WILD => None,
                    _ => Some(self.exit_entry()),
                },
            };
            sh.in_code.fetch_sub(1, Ordering::AcqRel);
            let e = left.exit.map(|(_, e)| e);
            match left.why {
                exit::CHAIN if !log_exec => chain_from = Some((self.ctx.exit_site, generation)),
                exit::CHAIN => {}
                exit::INDIRECT => {
                    self.indirect_misses += 1;
                    fill_indirect = true;
                }
                exit::NEXT => {}
                exit::WILD => wild = true,
                exit::FAULT => {
                    let e = e.expect("fault exits have a side entry");
                    cpu.pc = e.guest_pc;
                    cpu.instret = cpu.instret.wrapping_add(e.index as u64);
                    if let Some(access) = self.ctx.host_fault.take() {
                        if let Err(t) = self.host_fault(cpu, mem, access) {
                            return t;
                        }
                    } else {
                        let f = self.ctx.fault.take().expect("fault exit sets the fault");
                        return Trap::MemFault(f);
                    }
                }
                exit::TRAP => {
                    let e = e.expect("trap exits have a side entry");
                    cpu.pc = e.guest_pc;
                    let t = self.ctx.trap.take().expect("trap exit sets the trap");
                    // An ecall counts as retired (the OS-call layer
                    // completes it), as in the interpreter.
                    let done = e.index as u64 + (t == Trap::Ecall) as u64;
                    cpu.instret = cpu.instret.wrapping_add(done);
                    return t;
                }
                exit::PROMOTE => {
                    // Nothing of the block ran: `cpu` is at its start.
                    let (first, e) = left.exit.expect("promotions have a side entry");
                    cpu.pc = e.guest_pc;
                    promote = Some((first, generation));
                }
                exit::CODE => {
                    let e = e.expect("code exits have a side entry");
                    cpu.pc = e.guest_pc.wrapping_add(e.len as u64);
                    cpu.instret = cpu.instret.wrapping_add(e.index as u64 + 1);
                }
                _ => {
                    cpu.pc = e.expect("budget exits have a side entry").guest_pc;
                    if cpu.instret < limit {
                        // Stopped for another thread (see `SharedCode`),
                        // not for the budget: go on.
                        self.ctx.instret_limit.store(limit, Ordering::SeqCst);
                        continue;
                    }
                    return Trap::Budget;
                }
            }
        }
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        let st = self.shared.lock();
        let s = &st.stats;
        vec![
            ("jit_translations", s.blocks),
            ("jit_guest_insts_translated", s.guest_insts),
            ("jit_host_code_bytes", s.host_bytes),
            ("jit_cache_flushes", s.flushes),
            ("jit_page_invalidations", s.page_invalidations),
            ("jit_translations_invalidated", s.invalidated),
            ("jit_cache_evictions", s.evictions),
            ("jit_translations_evicted", s.evicted),
            ("jit_chains_unlinked", s.unchained),
            ("jit_flushes_avoided", s.flushes_avoided),
            ("jit_side_entries", s.side_entries),
            ("jit_side_entered", s.side_entered),
            ("jit_chained_exits", s.chained),
            ("jit_indirect_hits", self.ctx.ind_hits),
            ("jit_indirect_misses", self.indirect_misses),
            ("jit_fallback_steps", s.steps),
            ("jit_regions_promoted", st.profile.promotions),
            ("jit_cold_blocks_interpreted", st.profile.cold_runs),
            ("jit_retranslations", st.profile.retranslations),
            ("jit_backoff_runs", st.profile.backoff_runs),
            ("jit_backoff_blocks_decoded", st.cold.decoded),
            ("jit_backoff_decoded_dropped", st.cold.dropped),
            ("jit_stop_the_world", s.stop_the_world),
            ("jit_wild_entries", s.wild_entries),
            ("profile_blocks_seen", st.profile.seen_count() as u64),
            ("jit_translate_ns", s.translate_ns),
        ]
    }

    fn profile(&self) -> Option<crate::profile::Snapshot> {
        Some(self.shared.lock().profile.snapshot())
    }

    fn host_code(&self, pc: u64) -> Option<(u64, Vec<u8>)> {
        let st = self.shared.lock();
        let (_, t) = st.cache.translation(pc)?;
        // The whole translation, wherever `pc` enters it.
        let host = st.cache.base() + t.host_off as u64;
        // SAFETY: `[host, host + host_len)` is the live translation's code,
        // inside the cache memory, and nothing rewrites it while we hold
        // the lock (chaining and patching take it).
        let code = unsafe { core::slice::from_raw_parts(host as *const u8, t.host_len as usize) };
        Some((host, code.to_vec()))
    }
}

#[cfg(test)]
mod scan_tests;
#[cfg(test)]
mod tests;
