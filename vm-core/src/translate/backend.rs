//! What the translator's front end (region scanning, profile, cache,
//! dispatcher: [`crate::translate`]) needs from a back end that turns
//! guest regions into host code, and the data both sides share.
//!
//! The front end is generic over [`Backend`] and monomorphized for the one
//! back end selected in [`crate::translate`] (`Native`), so the dispatcher
//! loop calls the back end directly, not through a vtable. A back end for
//! another host architecture would be a new folder next to `x86_64/`
//! implementing this trait; nothing else in the front end changes.
//!
//! The contract between translated code and the dispatcher:
//! * translated code is entered through [`Backend::enter`] with the guest
//!   `Cpu` and the thread's context block [`Ctx`], and returns one of the
//!   [`exit`] codes, with the fields that code names set in the `Ctx`;
//! * direct exits report the host address of something
//!   [`Backend::chain`] can repoint to another translation; indirect
//!   exits probe the [`IndEntry`] table (filled by the dispatcher) first;
//! * every translation comes with a side table ([`SideEntry`], one entry
//!   per guest instruction) mapping host offsets to guest pcs, so a fault
//!   or a cold exit inside it can be made precise;
//! * instructions the back end does not translate inline are appended to
//!   the fallback list ([`StepInst`]) and run by the single-step executor
//!   ([`crate::translate::step`]) through the back end's step helper;
//! * `sp` and `tp` ([`NEAR_REGS`]) are near the guest space ([`near`]) at
//!   every way into a translated block: the dispatcher enters translated
//!   code only when they are (else it interprets the block), and
//!   translated code goes from one block to another (chained exits,
//!   branches, indirect jumps, returns) only when they are (else it
//!   leaves for the dispatcher). So the code of a block may access
//!   through them at its start without a bounds compare, the guard regions
//!   catching what lands outside the space.

use crate::cache::{Blocks, Ring, SideEntry};
use crate::cpu::{Cpu, Trap};
use crate::decode::Inst;
use crate::memory::{GuestMemory, MemFault};
use alloc::vec::Vec;
use core::sync::atomic::AtomicU64;

/// The guest registers (`sp`, `tp`) that are [`near`] the guest space
/// at every way into translated code (see the module documentation): the
/// stack and thread pointers, which nearly every function and every
/// `malloc` access through, and which no sane program points elsewhere.
pub const NEAR_REGS: [u8; 2] = [2, 4];

/// How far outside `[0, size)` a [`NEAR_REGS`] register may lie at a way
/// into translated code: half the guard regions (with an offset of at
/// most 2 KiB, and a few small `addi`s on, an access still lands inside
/// the reservation or its guards).
pub const NEAR_SLACK: u64 = crate::memory::GUARD / 2;

/// Is `v` within [`NEAR_SLACK`] bytes of `[0, size)` (wrapping: just
/// below 0 counts)?
pub fn near(v: u64, size: u64) -> bool {
    v.wrapping_add(NEAR_SLACK) < size + 2 * NEAR_SLACK
}

/// Are all of `cpu`'s [`NEAR_REGS`] [`near`] a space of `size` bytes?
pub fn near_regs(cpu: &Cpu, size: u64) -> bool {
    NEAR_REGS.iter().all(|&r| near(cpu.x[r as usize], size))
}

/// One guest instruction of a block: its pc, decoding and length.
#[derive(Clone, Copy, Debug)]
pub struct GuestInst {
    pub pc: u64,
    pub inst: Inst,
    pub len: u8,
}

/// A fallback instruction inside a translation: what the step helper
/// needs to run it with precise state.
#[derive(Clone, Copy, Debug)]
pub struct StepInst {
    pub inst: Inst,
    pub len: u8,
    pub pc: u64,
    /// Its index in its block (instructions the block retired before it).
    pub index: u32,
}

/// Why translated code returned to the dispatcher.
pub mod exit {
    /// `Cpu::pc` holds the next guest pc; nothing to chain.
    pub const NEXT: u64 = 0;
    /// `Cpu::pc` holds the target of a direct jump, and `Ctx::exit_site`
    /// the host address [`super::Backend::chain`] can repoint to it.
    pub const CHAIN: u64 = 1;
    /// `Cpu::pc` holds the target of an indirect jump that missed the
    /// lookup table.
    pub const INDIRECT: u64 = 2;
    /// A guest memory access faulted: `Ctx::exit_host` is a host address
    /// in the faulting instruction's code (the side table gives its pc and
    /// index, and `instret` lacks that index); `Ctx::fault` says why, or
    /// `Ctx::host_fault` when the host's protection caught it.
    pub const FAULT: u64 = 3;
    /// The block budget ran out before the block at `Ctx::exit_host` ran.
    pub const BUDGET: u64 = 4;
    /// A store wrote into a page holding translated code: the instruction
    /// at `Ctx::exit_host` completed but is not yet counted in `instret`
    /// and `pc` is not yet past it.
    pub const CODE: u64 = 5;
    /// A single-stepped instruction trapped (`Ctx::trap`): `Ctx::exit_host`
    /// is in its code, as for [`FAULT`].
    pub const TRAP: u64 = 6;
    /// A first-tier block at `Ctx::exit_host` got hot before running:
    /// translate its region (see [`crate::profile`]).
    pub const PROMOTE: u64 = 7;
    /// A register a block assumes near the guest space was not, on the
    /// way into the block at `Cpu::pc` (see `x86_64/codegen/nearin.rs`):
    /// nothing of it ran; interpret it before entering translated code
    /// again.
    pub const WILD: u64 = 8;
}

/// One entry of the indirect-jump lookup table (guest pc -> host code),
/// filled by the dispatcher and probed by translated code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct IndEntry {
    pub guest: u64,
    pub host: u64,
}

/// Entries in the indirect-jump table (a power of two).
pub const IND_ENTRIES: usize = 4096;

impl IndEntry {
    /// An entry no guest pc matches (guest jump targets are even).
    pub const EMPTY: IndEntry = IndEntry {
        guest: u64::MAX,
        host: 0,
    };
    /// Table slot of guest pc `pc` (the generated probe computes the same).
    pub fn slot(pc: u64) -> usize {
        ((pc as u32 >> 1) as usize) & (IND_ENTRIES - 1)
    }
}

/// The context block of one thread: what translated code and the helpers
/// need, the guest registers first. Translated code reaches the fields it
/// uses by offset (`repr(C)`), so the hottest come first; the back end's
/// own part ([`Backend::CtxPart`]) sits after them.
#[repr(C)]
pub struct Ctx<B: Backend> {
    /// The guest registers while translated code runs: [`Backend::enter`]
    /// copies the caller's `Cpu` in here and back out, so that one host
    /// register reaches both them and the rest of this block (`cpu`
    /// points here meanwhile).
    pub guest: Cpu,
    /// Host address of guest address 0.
    pub mem_base: u64,
    /// `instret` value at which a block entry returns [`exit::BUDGET`].
    /// Other threads store 0 here to bring this one out of translated
    /// code (see `translate::SharedCode`).
    pub instret_limit: AtomicU64,
    /// See [`exit::CHAIN`].
    pub exit_site: u64,
    /// The indirect-jump table ([`IND_ENTRIES`] entries).
    pub ind_table: *const IndEntry,
    /// Indirect jumps that hit the table.
    pub ind_hits: u64,
    /// See [`exit::FAULT`], [`exit::BUDGET`], [`exit::CODE`].
    pub exit_host: u64,
    /// The back end's part.
    pub arch: B::CtxPart,
    /// The guest memory (for helpers).
    pub mem: *const GuestMemory,
    /// Bitmap of guest pages holding translated code (one bit a page).
    pub code_pages: *const u64,
    /// Words in `code_pages`.
    pub code_pages_words: usize,
    /// Set by a helper that returns a fault status.
    pub fault: Option<MemFault>,
    /// The guest registers of this run (for the step helper and host
    /// faults): [`Ctx::guest`] while translated code runs.
    pub cpu: *mut Cpu,
    /// The fallback instructions of the live translations (shared by the
    /// threads whose translators share the cache).
    pub steps: *const Ring<StepInst>,
    /// Value loaded by the last `lr` (kept across runs).
    pub lr_value: u64,
    /// Set by the step helper when the instruction traps.
    pub trap: Option<Trap>,
    /// Largest guest address translated code may access directly with an
    /// access of up to 8 bytes (the guest memory size minus 8); above it,
    /// the checked helper decides. Only used with host faults.
    pub mem_limit: u64,
    /// The code cache's translations (for [`Backend::host_fault`]) and the
    /// cache's host address.
    pub blocks: *const Blocks,
    pub cache_base: u64,
    /// The profile's execution counters (see [`crate::profile`]).
    pub counters: *mut i32,
    /// Set by [`Backend::host_fault`]: the access that faulted on the
    /// host, at its guest address.
    pub host_fault: Option<HostAccess>,
}

/// A guest access of translated code that faulted on the host, as the
/// host's fault handler saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostAccess {
    /// The address (host address to the back end, guest address once
    /// recorded in the [`Ctx`]).
    pub addr: u64,
    /// The access was a write.
    pub write: bool,
    /// The host page is there but what backed it is gone (a file mapping
    /// past the file's end; Linux reports SIGBUS), as opposed to a page
    /// whose protection refused the access (SIGSEGV).
    pub gone: bool,
}

impl<B: Backend> core::fmt::Debug for Ctx<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ctx")
            .field("mem_base", &self.mem_base)
            .field("exit_site", &self.exit_site)
            .field("exit_host", &self.exit_host)
            .field("ind_hits", &self.ind_hits)
            .finish_non_exhaustive()
    }
}

/// The host code of one translation, as the back end emitted it (the
/// code itself still in the back end's [`Backend::Scratch`]).
#[derive(Debug)]
pub struct Emitted<'s> {
    pub code: &'s [u8],
    /// Sorted by host offset; see [`crate::cache::Translation::side`].
    pub side: Vec<SideEntry>,
    /// The guest register cached in each of the back end's cached-register
    /// slots (0: none); see [`crate::cache::Translation::regs`].
    pub regs: [u8; 9],
    /// See [`crate::cache::Translation::fault_resume`].
    pub fault_resume: u32,
    /// See [`crate::cache::Translation::entries`].
    pub entries: Vec<(u64, u32)>,
}

/// A code generator and the run-time glue its code needs, for one host
/// architecture. Every method is called by the front end with its lock
/// held, except [`Backend::enter`] (the dispatcher, outside the lock) and
/// [`Backend::host_fault`] (a host's fault handler).
pub trait Backend: Sized + 'static {
    /// The back end's part of [`Ctx`].
    type CtxPart;
    /// Host addresses of the fixed code at the start of the cache (entry,
    /// shared exits, helper trampolines) that translations use.
    type Stubs: Copy + core::fmt::Debug + Send + Sync;
    /// The interrupted registers a host fault handler passes to
    /// [`Backend::host_fault`].
    type HostRegs;
    /// Why a region could not be emitted (a bug, not a guest error).
    type Error: core::fmt::Debug;
    /// Buffers the code generator reuses from one translation to the next
    /// (kept with the code cache, under its lock), so translating does not
    /// allocate, fault in and free them each time.
    type Scratch: Default + Send;
    /// Bytes at [`exit::CHAIN`]'s `exit_site` that [`Backend::chain`]
    /// rewrites.
    const CHAIN_LEN: u64;
    /// Bytes at the start of a translation that [`Backend::redirect`]
    /// rewrites.
    const REDIRECT_LEN: u64;
    /// What the register that holds the [`Ctx`] in translated code (the
    /// one a sampling signal handler reads, `rbp` on x86-64) holds beyond
    /// the `Ctx`'s address.
    const CTX_REG_BIAS: u64;

    /// The fixed code for a cache at host address `base` (it survives
    /// flushes), and where its parts are. `host_faults`: the host reports
    /// faults in translated code (`HostOs::code_faults`).
    fn fixed_code(base: u64, host_faults: bool) -> (Vec<u8>, Self::Stubs);

    /// Host address of the entry code within the fixed code.
    fn entry(stubs: &Self::Stubs) -> u64;

    /// Translate a region into host code placed at host address `base`,
    /// to run on the guest memory whose address 0 is at host address
    /// `mem_base` (the code may depend on it: the front end flushes the
    /// cache before code runs on another memory).
    /// `blocks` are its guest basic blocks (non-empty, in address order,
    /// only the last instruction of each may end a block) and `entry` the
    /// pc of the one entered from outside; `heat`, one per block, how often
    /// each ran before the region was made (see [`crate::profile`]; all
    /// equal when unknown), which the back end may weigh its choices by.
    /// With `counter`, the code first
    /// counts down that profile slot and leaves with [`exit::PROMOTE`] when
    /// it goes negative. With `side_entries`, blocks other than the
    /// entry's may also be entered from outside, at the offsets given in
    /// [`Emitted::entries`] (the back end chooses which). Fallback
    /// instructions are appended to `steps`. The code is left in
    /// `scratch`, until the next translation.
    #[allow(clippy::too_many_arguments)]
    fn translate<'s>(
        base: u64,
        stubs: &Self::Stubs,
        mem_base: u64,
        entry: u64,
        blocks: &[&[GuestInst]],
        heat: &[u32],
        counter: Option<u32>,
        side_entries: bool,
        wild: &[u64],
        steps: &mut Vec<StepInst>,
        scratch: &'s mut Self::Scratch,
    ) -> Result<Emitted<'s>, Self::Error>;

    /// A fresh back-end part of a thread's context block.
    fn new_part(stubs: &Self::Stubs) -> Self::CtxPart;

    /// Reset the back-end part before a run of translated code on `mem`.
    fn prepare_run(part: &mut Self::CtxPart, stubs: &Self::Stubs, mem: &GuestMemory);

    /// Guest page `page` now holds translated code: forget anything in the
    /// back-end part that would let translated code write it directly.
    fn forget_page(part: &mut Self::CtxPart, page: u64);

    /// Run translated code at host address `code` until it exits; returns
    /// an [`exit`] code.
    ///
    /// # Safety
    /// `stubs` are the fixed code of the live cache `code` is in; `code` is
    /// a live translation of the current cache generation, made for the
    /// guest memory `ctx.mem` points at; `cpu` and `ctx` are valid and
    /// exclusively this call's. Translated code runs on `ctx.guest`: the
    /// back end copies `*cpu` there first and back after.
    unsafe fn enter(stubs: &Self::Stubs, cpu: *mut Cpu, ctx: *mut Ctx<Self>, code: u64) -> u64;

    /// Repoint the chainable exit whose site is `site` (an
    /// [`exit::CHAIN`] `exit_site`) to `target`, so that a thread running
    /// it goes either to the old exit or to `target`. False (nothing
    /// changed) when that cannot be done atomically or `target` is out of
    /// reach.
    ///
    /// # Safety
    /// `site..site + CHAIN_LEN` and `target` lie in live translations of
    /// the current cache generation.
    unsafe fn chain(site: u64, target: u64) -> bool;

    /// Undo [`Backend::chain`] at `site`: the exit goes to the dispatcher
    /// again (its target's code is about to be evicted). False when that
    /// cannot be done with one store.
    ///
    /// # Safety
    /// `site..site + CHAIN_LEN` is a chained exit of a live translation
    /// and no thread runs translated code.
    unsafe fn unchain(site: u64) -> bool;

    /// Overwrite the start of the translation at `at` with a jump to
    /// `target`. False (nothing changed) when `target` is out of reach.
    ///
    /// # Safety
    /// `at..at + REDIRECT_LEN` lies in a live translation and no thread
    /// runs translated code.
    unsafe fn redirect(at: u64, target: u64) -> bool;

    /// Handle a host memory fault raised by translated code at host pc
    /// `rip` (in a code cache), for `access` (at a host address): when it
    /// is a guest access of a live translation, make the guest state
    /// precise, record the fault in the `Ctx`, set `regs` for the shared
    /// fault exit and return the host address to resume at. Otherwise
    /// `None` (a real host crash), changing nothing.
    ///
    /// # Safety
    /// `rip` is inside a code cache of this process and `regs` are the
    /// registers of the thread that faulted there.
    unsafe fn host_fault(regs: &mut Self::HostRegs, rip: u64, access: HostAccess) -> Option<u64>;

    /// The optional host features the back end's code uses when it can,
    /// by name, each with whether this host (its processor, and the state
    /// its OS enabled) lets translated code use it now. For a host's
    /// self-test, which checks that what it enabled is seen; none by
    /// default.
    fn host_features() -> Vec<(&'static str, bool)> {
        Vec::new()
    }
}
