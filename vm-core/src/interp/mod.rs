//! Interpreter: executes decoded instructions on a [`crate::cpu::Cpu`].
//!
//! Guest code is decoded once into blocks (runs of instructions ending at
//! an indirect jump, a system instruction or a length limit; a taken
//! conditional branch leaves a block early, a branch not taken goes on in
//! it, and direct jumps and calls are followed), which are cached by their
//! guest start address. Each instruction of a block becomes a `Uop`: the
//! decoded [`Inst`], its pc, and a pointer to the handler that runs it;
//! common adjacent pairs (ALU, load, store, then also a conditional
//! branch) become one fused uop (`fuse`). The hot integer instructions
//! have small specialised handlers (`fast`); everything else goes through
//! one generic handler that `match`es on the `Inst` (`exec_one`). Each
//! handler ends by calling the next uop's handler in tail position, so the
//! compiler turns the block into threaded code with one indirect jump per
//! uop, each at its own site (which branch predictors handle far better
//! than one central `match`). Every block ends with a terminator uop, so
//! stepping to the next uop needs no bounds check (see [`Op`]).
//!
//! A direct jump or taken branch enters its target block through a link
//! in the uop, set the first time the target is found in the lookup
//! table; indirect jumps look the table up each time. Blocks live in an
//! arena of chunks that never move, so links are plain pointers, all
//! dropped together when the cache is flushed. Chaining goes on for up to
//! `CHAIN` instructions before control returns to the run loop. Without
//! tail calls (unoptimised builds) the recursion is still bounded, by the
//! (smaller, in such builds) chain limit.
//!
//! The block lookup goes through a small direct-mapped table in front of a
//! hash map, so hot loops rarely hash. The cache is dropped whenever
//! [`GuestMemory::code_epoch`] moves (code was unmapped, re-protected or
//! flushed with `fence.i`), which the run loop checks on entry and each
//! time control comes back to it; indirect jumps leave for the run loop
//! once it moved, so a change another thread announced is seen at this
//! thread's next call through a pointer or return.
//!
//! State stays precise: every instruction either completes or leaves the
//! registers untouched and stops with a [`Trap`] and `cpu.pc` at itself.
//! While blocks run, `instret` travels in a handler argument (the count at
//! block entry; each uop knows its index in the block) and `cpu.instret`
//! and `cpu.pc` are written only when control leaves the blocks.

use crate::cpu::{Cpu, Trap};
use crate::decode::{A, Csr, CsrOp, F, F4, I, Inst, R, S, U, decode};
use crate::fpu;
use crate::guarded;
use crate::memory::{Access, GuestMemory, MemFault};
use crate::semantics::{self as sem, nanbox, resolve_rm, sext32, unbox};
use alloc::vec::Vec;
use core::cell::Cell;
use core::marker::PhantomData;
use core::sync::atomic::Ordering;
use hashbrown::HashMap;

mod fast;
mod fuse;
#[cfg(test)]
mod tests;

/// Longest block, in instructions.
const MAX_BLOCK: usize = 64;
/// Entries in the direct-mapped block lookup table (a power of two).
const FAST_SLOTS: usize = 4096;
/// Instructions to run before returning [`Trap::Budget`], so the run loop
/// gets a regular look at pending signals and other threads.
const BUDGET: u64 = 1 << 24;
/// The pc of an empty slot (odd, so no block starts there; a guest can
/// still be at it, see the run loop).
const NO_PC: u64 = u64::MAX;
/// Cached uops to hold before starting over (bounds memory use for
/// programs that generate code: 32 MiB of uops).
const MAX_OPS: usize = 1 << 19;
/// Uops per arena chunk: blocks are stored in chunks that never move, so
/// links between them can be plain pointers.
const CHUNK: usize = 4096;
/// Instructions blocks may run by chaining into each other before control
/// returns to the run loop (which checks the code epoch and the budget).
/// Without guaranteed tail calls each chained block nests a few stack
/// frames, so unoptimised builds chain less.
const CHAIN: u64 = if cfg!(debug_assertions) { 256 } else { 1 << 16 };

/// Runs the uop `u` (and, by tail call, the rest of its block and the
/// blocks it chains into). The last argument is the number of
/// instructions retired before the running block was entered (`instret`
/// is kept in a host register while blocks run; `cpu.instret` is brought
/// up to date whenever control leaves the blocks).
type Handler = fn(&mut Cpu, &mut Cx<'_>, Op<'_>, u64);

/// A decoded instruction ready to run: its handler, its operands in a
/// uniform shape for the specialised handlers, and where it sits in its
/// block.
#[derive(Clone)]
struct Uop {
    h: Handler,
    /// Guest address of the instruction (of the fall-through pc for the
    /// block terminator).
    pc: u64,
    /// Immediate, sign-extended (shift amount for shifts); the absolute
    /// target for direct branches and jumps.
    imm: u64,
    /// The first uop of the block at this uop's direct target, once
    /// known; null before. Set lazily by [`goto`]; points into the same
    /// arena generation as the uop itself (both are dropped together when
    /// the cache is flushed).
    link: Cell<*const Uop>,
    /// The second instruction's immediate, for fused pairs (`fuse`); for
    /// a branch, its target's offset from `pc`.
    imm2: i32,
    /// Index in the block: instructions retired before this one since the
    /// block was entered.
    idx: u16,
    rd: u8,
    rs1: u8,
    rs2: u8,
    /// The second instruction's registers, for fused pairs.
    rd2: u8,
    rs1b: u8,
    rs2b: u8,
    /// The kinds of a fused pair (for its slow paths).
    k1: u8,
    k2: u8,
    /// Instruction length (2 or 4; of the first instruction of a fused
    /// pair).
    len: u8,
    inst: Inst,
}

// A uop fills one cache line (and `MAX_OPS` counts on the size).
const _: () = assert!(core::mem::size_of::<Uop>() <= 64);

impl core::fmt::Debug for Uop {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:#x}: {}", self.pc, self.inst)
    }
}

impl Uop {
    /// A uop that runs `inst` (at `pc`, `idx`th of its block) through
    /// the generic executor.
    fn generic(inst: Inst, pc: u64, idx: u16, len: u8) -> Uop {
        Uop {
            h: h_generic,
            pc,
            imm: 0,
            link: Cell::new(core::ptr::null()),
            imm2: 0,
            idx,
            rd: 0,
            rs1: 0,
            rs2: 0,
            rd2: 0,
            rs1b: 0,
            rs2b: 0,
            k1: 0,
            k2: 0,
            len,
            inst,
        }
    }
}

/// A handle on a uop inside a block of the arena, from which the handlers
/// step to the next uop without a bounds check.
///
/// Invariant (upheld by [`Interpreter::build`]): every block in the arena
/// ends with a terminator uop ([`h_end`]) whose handler never calls
/// [`next`]; an `Op` is only ever made for the start of a block
/// ([`Op::block`]) or by [`next`] from a uop that is not a terminator. So
/// stepping on from any uop whose handler calls `next` stays inside the
/// block's chunk.
#[derive(Clone, Copy)]
struct Op<'a> {
    p: *const Uop,
    _life: PhantomData<&'a Uop>,
}

impl<'a> Op<'a> {
    /// The block starting at `p` (from a [`Slot`] or a [`Uop::link`]).
    ///
    /// # Safety
    /// `p` is the start of a block of the running interpreter's current
    /// arena generation, made from its chunk's pointer (so it carries the
    /// whole chunk's provenance), and the arena is neither flushed nor
    /// dropped for 'a. The interpreter only flushes in the run loop,
    /// outside the handlers, and every pointer it hands out (slots, links)
    /// is dropped in the same flush as the uops it points to.
    #[inline(always)]
    unsafe fn block(p: *const Uop) -> Op<'a> {
        Op {
            p,
            _life: PhantomData,
        }
    }

    /// The uop after this one in its block. Only handlers of
    /// non-terminator uops call this (see the type's invariant).
    #[inline(always)]
    fn succ(self) -> Op<'a> {
        // SAFETY: by the type's invariant this uop is not its block's
        // terminator, so the next uop of the block exists in the same
        // chunk that `p` has provenance over, alive for 'a.
        Op {
            p: unsafe { self.p.add(1) },
            _life: PhantomData,
        }
    }
}

impl core::ops::Deref for Op<'_> {
    type Target = Uop;
    #[inline(always)]
    fn deref(&self) -> &Uop {
        // SAFETY: `p` points at a live uop of the arena, alive for the
        // handle's lifetime (see `block` and `succ`); uops are only
        // mutated through `Cell`s while blocks run.
        unsafe { &*self.p }
    }
}

/// Context shared by the handlers while blocks run.
struct Cx<'m> {
    mem: &'m GuestMemory,
    /// Set when the block stopped with a trap.
    trap: Option<Trap>,
    /// See [`Interpreter::lr_value`].
    lr_value: u64,
    /// The block lookup table, for jumping straight from one block into
    /// the next ([`goto`], [`goto_indirect`]).
    fast: &'m [Slot],
    /// Chaining stops (control goes back to the run loop) once this many
    /// instructions have retired.
    limit: u64,
    /// The code epoch the blocks were decoded at: an indirect jump leaves
    /// for the run loop (which drops them) once it moved, so code another
    /// thread changed and announced (`riscv_flush_icache`) runs new from
    /// this thread's next indirect jump (a call through a pointer, a
    /// return) on, as on a hart that the kernel's flush reached.
    epoch: u64,
}

impl<'m> Cx<'m> {
    /// The context of instructions run outside any block ([`step`],
    /// [`step_run`]): no lookup table to chain through, no chaining limit.
    fn unchained(mem: &'m GuestMemory, lr_value: u64, epoch: u64) -> Cx<'m> {
        Cx {
            mem,
            trap: None,
            lr_value,
            fast: &[],
            limit: 0,
            epoch,
        }
    }
}

/// Leave the blocks: control goes back to the run loop at `target`.
#[inline(always)]
fn leave(cpu: &mut Cpu, target: u64, n: u64) {
    cpu.pc = target;
    cpu.instret = n;
}

/// Leave the block for `target` with `n` instructions retired: enter the
/// target block directly, through the uop's link (or the lookup table,
/// which then sets the link) while the chain budget allows, else return
/// to the run loop.
#[inline(always)]
fn goto(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, target: u64, n: u64) {
    if n.wrapping_sub(cx.limit) as i64 >= 0 {
        return leave(cpu, target, n);
    }
    let l = u.link.get();
    if l.is_null() {
        return link(cpu, cx, u, target, n);
    }
    // SAFETY: links are only set (in `link`) to block starts taken from
    // the lookup table, of the same arena generation as `u`.
    let t = unsafe { Op::block(l) };
    (t.h)(cpu, cx, t, n)
}

/// [`goto`] for an unlinked uop: link it if the target block is in the
/// lookup table (only direct targets reach here: the link is the same for
/// every later run), else leave it to the run loop.
#[cold]
#[inline(never)]
fn link(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, target: u64, n: u64) {
    let s = cx.fast[Interpreter::slot(target)];
    if s.pc != target {
        return leave(cpu, target, n);
    }
    u.link.set(s.op);
    // SAFETY: a slot whose pc matches holds a block start of the current
    // arena generation.
    let t = unsafe { Op::block(s.op) };
    (t.h)(cpu, cx, t, n)
}

/// Enter the block at `target` (computed at run time: no link) if it is in
/// the lookup table and the chain budget allows, else return to the run
/// loop.
#[inline(always)]
fn goto_indirect(cpu: &mut Cpu, cx: &mut Cx<'_>, target: u64, n: u64) {
    let s = cx.fast[Interpreter::slot(target)];
    if s.pc != target || n.wrapping_sub(cx.limit) as i64 >= 0 || cx.mem.code_epoch() != cx.epoch {
        return leave(cpu, target, n);
    }
    // SAFETY: as in `link`.
    let t = unsafe { Op::block(s.op) };
    (t.h)(cpu, cx, t, n)
}

/// Call the handler of the uop after `u`.
#[inline(always)]
fn next(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
    let t = u.succ();
    (t.h)(cpu, cx, t, n)
}

/// The terminator every block ends with: the block ran to its length
/// limit or to a fetch boundary (or a jump before it left), so go on at
/// the fall-through pc.
fn h_end(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
    goto(cpu, cx, u, u.pc, n.wrapping_add(u.idx as u64))
}

/// The handler for everything without a specialised one.
fn h_generic(cpu: &mut Cpu, cx: &mut Cx<'_>, u: Op<'_>, n: u64) {
    // exec_one works on `cpu.instret` (CSR reads, traps, jumps).
    cpu.instret = n;
    if exec_one(&u, cpu, cx) {
        next(cpu, cx, u, n)
    }
}

/// A direct-mapped lookup entry: the block at `pc` starts at `op`.
#[derive(Clone, Copy, Debug)]
struct Slot {
    pc: u64,
    op: *const Uop,
}

const EMPTY_SLOT: Slot = Slot {
    pc: NO_PC,
    op: core::ptr::null(),
};

/// The interpreter engine. One per guest thread; each keeps its own block
/// cache.
#[derive(Debug)]
pub struct Interpreter {
    /// The code epoch the cache was filled in.
    epoch: u64,
    /// Uops of all cached blocks, in chunks of [`CHUNK`] that never
    /// reallocate (pointers into them stay valid until the flush that
    /// drops them all); each block lies in one chunk and ends with a
    /// terminator (see [`Op`]).
    chunks: Vec<Vec<Uop>>,
    /// Uops in `chunks`.
    nops: usize,
    /// Block start pc -> its first uop.
    map: HashMap<u64, *const Uop>,
    /// Scratch space for the block being built.
    scratch: Vec<Uop>,
    /// Direct-mapped cache in front of `map`.
    fast: Vec<Slot>,
    /// Value the last `lr` read: `sc` succeeds only if memory still holds
    /// it, the way QEMU makes LR/SC atomic across host threads.
    lr_value: u64,
    /// Blocks decoded (for `--stats`).
    decoded: u64,
    /// Cache flushes (for `--stats`).
    flushes: u64,
    /// Run everything through the generic handler (tests compare the two
    /// paths).
    generic_only: bool,
}

// SAFETY: the raw pointers an `Interpreter` holds (lookup slots, block
// map, uop links) all point into its own arena chunks, heap buffers that
// move with it and are never shared with another interpreter; no
// interior mutability is reachable from outside it.
unsafe impl Send for Interpreter {}

impl Default for Interpreter {
    fn default() -> Self {
        Self::new()
    }
}

impl Interpreter {
    /// An interpreter with an empty block cache.
    pub fn new() -> Interpreter {
        Interpreter {
            epoch: 0,
            chunks: Vec::new(),
            nops: 0,
            map: HashMap::new(),
            scratch: Vec::new(),
            fast: alloc::vec![EMPTY_SLOT; FAST_SLOTS],
            lr_value: 0,
            decoded: 0,
            flushes: 0,
            generic_only: false,
        }
    }

    fn flush(&mut self, epoch: u64, mem: &GuestMemory) {
        if crate::log::on(crate::log::CACHE) && !self.map.is_empty() {
            mem.host().log(format_args!(
                "cache: interpreter block cache flushed ({} blocks; {})",
                self.map.len(),
                if epoch != self.epoch {
                    "guest code changed"
                } else {
                    "full"
                }
            ));
        }
        self.epoch = epoch;
        self.map.clear();
        self.chunks.clear();
        self.nops = 0;
        self.fast.fill(EMPTY_SLOT);
        self.flushes += 1;
    }

    #[inline(always)]
    fn slot(pc: u64) -> usize {
        ((pc >> 1) as usize) & (FAST_SLOTS - 1)
    }

    /// Find or decode the block at `pc`.
    #[inline(never)]
    fn lookup_slow(&mut self, pc: u64, mem: &GuestMemory) -> Result<Slot, Trap> {
        let op = match self.map.get(&pc) {
            Some(&b) => b,
            None => self.build(pc, mem)?,
        };
        let s = Slot { pc, op };
        self.fast[Self::slot(pc)] = s;
        Ok(s)
    }

    /// Decode a new block at `pc`. A fetch fault on its first instruction
    /// is the guest's fault; a fault further on just ends the block, so
    /// the fault is raised (and never cached) when execution gets there.
    fn build(&mut self, pc: u64, mem: &GuestMemory) -> Result<*const Uop, Trap> {
        if self.nops >= MAX_OPS {
            self.flush(self.epoch, mem);
        }
        let mut at = pc;
        let mut n = 0;
        let mut insts = Vec::with_capacity(16);
        while n < MAX_BLOCK {
            let bits = match fetch(mem, at) {
                Ok(b) => b,
                Err(f) if n == 0 => return Err(Trap::MemFault(f)),
                Err(_) => break,
            };
            let (inst, len) = decode(bits);
            n += 1;
            if let Inst::Jal(U { imm, .. }) = inst {
                // Follow direct jumps and calls: the block goes on at the
                // target, if there is room and the target can be fetched
                // (so a followed jal is never a block's last instruction).
                let target = at.wrapping_add(imm as i64 as u64);
                if n < MAX_BLOCK && !self.generic_only && fetch(mem, target).is_ok() {
                    insts.push((inst, at, len, true));
                    at = target;
                    continue;
                }
            }
            insts.push((inst, at, len, false));
            at = at.wrapping_add(len as u64);
            if ends_block(&inst) {
                break;
            }
        }
        let ops = &mut self.scratch;
        ops.clear();
        if self.generic_only {
            for (idx, &(inst, at, len, _)) in insts.iter().enumerate() {
                ops.push(Uop::generic(inst, at, idx as u16, len));
            }
        } else {
            fast::lower(&insts, ops);
        }
        // The terminator (see `Op`): reached only when the last
        // instruction falls through.
        let mut end = Uop::generic(Inst::FenceI, at, insts.len() as u16, 0);
        end.h = h_end;
        ops.push(end);
        // Into the last chunk if it has room (never past its capacity, so
        // it never reallocates), else into a new one.
        let room = self
            .chunks
            .last()
            .is_some_and(|c| c.capacity() - c.len() >= ops.len());
        if !room {
            self.chunks.push(Vec::with_capacity(CHUNK.max(ops.len())));
        }
        let last = self.chunks.len() - 1;
        let chunk = &mut self.chunks[last];
        let start = chunk.len();
        self.nops += ops.len();
        chunk.append(ops);
        // SAFETY: `start` is in bounds (the block was just appended); the
        // pointer comes from the chunk's own pointer, so it has the whole
        // chunk's provenance (see `Op::block`).
        let b = unsafe { chunk.as_ptr().add(start) };
        self.map.insert(pc, b);
        self.decoded += 1;
        if crate::log::on(crate::log::IN_ASM) {
            mem.host()
                .log(format_args!("IN: interpreter block {pc:#x}"));
            for &(inst, at, len, _) in &insts {
                crate::log::inst(mem.host(), at, inst, len);
            }
        }
        Ok(b)
    }
}

/// Fetch the instruction bits at `pc` (one or two parcels, see
/// [`GuestMemory::fetch_inst`]).
#[inline]
fn fetch(mem: &GuestMemory, pc: u64) -> Result<u32, MemFault> {
    mem.fetch_inst(pc)
}

/// Does `inst` end an interpreter block (see [`crate::decode::Facts::ends_block`])?
fn ends_block(inst: &Inst) -> bool {
    inst.facts().ends_block()
}

impl crate::process::Engine for Interpreter {
    fn run(&mut self, cpu: &mut Cpu, mem: &GuestMemory) -> Trap {
        let epoch = mem.code_epoch();
        if epoch != self.epoch {
            self.flush(epoch, mem);
        }
        let stop_at = cpu.instret.wrapping_add(BUDGET);
        let mut lr_value = self.lr_value;
        let log_exec = crate::log::on(crate::log::EXEC);
        let trap = loop {
            let pc = cpu.pc;
            if log_exec {
                mem.host().log(format_args!("Trace: {pc:#x}"));
            }
            let mut s = self.fast[Self::slot(pc)];
            // An empty slot's pc, `NO_PC`, is a pc a guest can still
            // reach (an `rt_sigreturn` frame sets any pc; only jumps
            // clear bit 0): an empty slot never matches.
            if s.pc != pc || s.op.is_null() {
                s = match self.lookup_slow(pc, mem) {
                    Ok(s) => s,
                    Err(t) => break t,
                };
            }
            let mut cx = Cx {
                mem,
                trap: None,
                lr_value,
                fast: &self.fast,
                // Logging each block entered (`exec`) needs every block
                // to come back here: no chaining then.
                limit: cpu.instret.wrapping_add(if log_exec { 0 } else { CHAIN }),
                epoch: self.epoch,
            };
            // SAFETY: the slot matched `pc`, so it holds a block start of
            // the current arena generation, which is not flushed before
            // the block returns (flushes happen only here in the loop).
            let op = unsafe { Op::block(s.op) };
            (op.h)(cpu, &mut cx, op, cpu.instret);
            lr_value = cx.lr_value;
            if let Some(t) = cx.trap {
                break t;
            }
            let epoch = mem.code_epoch();
            if epoch != self.epoch {
                self.flush(epoch, mem);
            }
            if cpu.instret.wrapping_sub(stop_at) as i64 >= 0 {
                break Trap::Budget;
            }
        };
        self.lr_value = lr_value;
        trap
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        alloc::vec![
            ("interp_blocks_decoded", self.decoded),
            ("interp_cache_flushes", self.flushes),
        ]
    }
}

// ---- helpers ------------------------------------------------------------

/// The raw bits of the instruction at `pc`, for an illegal-instruction
/// report (it was fetchable when its block was decoded).
#[cold]
fn raw_bits(mem: &GuestMemory, pc: u64) -> u32 {
    fetch(mem, pc).unwrap_or(0)
}

/// Fault for a misaligned atomic access (LR/SC/AMO must be naturally
/// aligned; the address is mapped, so this is not a missing page).
#[cold]
fn misaligned(addr: u64, access: Access) -> MemFault {
    MemFault {
        addr,
        access,
        mapped: true,
        gone: false,
    }
}

/// Host pointer for an atomic access of `size` bytes at `addr`: aligned,
/// readable and writable.
#[inline]
fn atomic_ptr(mem: &GuestMemory, addr: u64, size: u64) -> Result<*mut u8, MemFault> {
    if addr & (size - 1) != 0 {
        return Err(misaligned(addr, Access::Write));
    }
    mem.check(addr, size, Access::Read)?;
    mem.check(addr, size, Access::Write)
}

/// The result of a guarded atomic (see [`guarded`]): the host's fault (a
/// page gone under a file mapping) becomes the guest's.
#[inline(always)]
fn rmw_guarded<T>(mem: &GuestMemory, r: Result<T, guarded::Faulted>) -> Result<T, MemFault> {
    r.map_err(|f| mem.host_fault(f, Access::Write))
}

/// The read-modify-writes of the AMOs (`Swap` and `Add` are one host
/// instruction each; the others a compare-and-swap loop).
#[derive(Clone, Copy)]
enum Rmw {
    Swap,
    Add,
    Xor,
    And,
    Or,
    Min,
    Max,
    Minu,
    Maxu,
}

/// A word an AMO works on: the guarded atomics of its width and the
/// arithmetic of the AMOs that are not one host instruction.
trait AmoWord: guarded::Atomic + Ord {
    /// Its size in bytes, which is also its alignment.
    const SIZE: u64;
    fn apply(op: Rmw, old: Self, v: Self) -> Self;
}

macro_rules! amo_word {
    ($t:ty, $min:path, $max:path) => {
        impl AmoWord for $t {
            const SIZE: u64 = core::mem::size_of::<$t>() as u64;
            fn apply(op: Rmw, old: Self, v: Self) -> Self {
                match op {
                    Rmw::Swap => v,
                    Rmw::Add => old.wrapping_add(v),
                    Rmw::Xor => old ^ v,
                    Rmw::And => old & v,
                    Rmw::Or => old | v,
                    Rmw::Min => $min(old, v),
                    Rmw::Max => $max(old, v),
                    Rmw::Minu => old.min(v),
                    Rmw::Maxu => old.max(v),
                }
            }
        }
    };
}

amo_word!(u32, sem::amomin_w, sem::amomax_w);
amo_word!(u64, sem::amomin_d, sem::amomax_d);

/// An AMO of `W`'s width at guest `addr`; returns the old value.
#[inline]
fn amo<W: AmoWord>(mem: &GuestMemory, addr: u64, op: Rmw, v: W) -> Result<W, MemFault> {
    let p = atomic_ptr(mem, addr, W::SIZE)?;
    // SAFETY (all four): `atomic_ptr` proved the aligned word lies inside
    // the guest reservation and is readable and writable; a host fault
    // there is returned (guarded accesses). Guest memory is only ever
    // accessed by plain copies or atomics of the same size, as on hardware.
    match op {
        Rmw::Swap => rmw_guarded(mem, unsafe { W::swap(p, v) }),
        Rmw::Add => rmw_guarded(mem, unsafe { W::add(p, v) }),
        _ => {
            let mut old = rmw_guarded(mem, unsafe { W::load(p) })?;
            loop {
                let now = rmw_guarded(mem, unsafe { W::cas(p, old, W::apply(op, old, v)) })?;
                if now == old {
                    return Ok(old);
                }
                old = now;
            }
        }
    }
}

/// The store-conditional's compare-and-swap at guest `addr`: whether
/// `expected` (the LR's value) was replaced by `new`.
#[inline]
fn sc<W: AmoWord>(mem: &GuestMemory, addr: u64, expected: W, new: W) -> Result<bool, MemFault> {
    let p = atomic_ptr(mem, addr, W::SIZE)?;
    // SAFETY: as in `amo`.
    let old = rmw_guarded(mem, unsafe { W::cas(p, expected, new) })?;
    Ok(old == expected)
}

/// The read-modify-write of an AMO instruction of either width.
fn rmw_of(inst: &Inst) -> Rmw {
    use Inst::*;
    match inst {
        AmoswapW(_) | AmoswapD(_) => Rmw::Swap,
        AmoaddW(_) | AmoaddD(_) => Rmw::Add,
        AmoxorW(_) | AmoxorD(_) => Rmw::Xor,
        AmoandW(_) | AmoandD(_) => Rmw::And,
        AmoorW(_) | AmoorD(_) => Rmw::Or,
        AmominW(_) | AmominD(_) => Rmw::Min,
        AmomaxW(_) | AmomaxD(_) => Rmw::Max,
        AmominuW(_) | AmominuD(_) => Rmw::Minu,
        _ => Rmw::Maxu,
    }
}

/// The frequency of the `time` CSR (Linux on QEMU's virt machine reports
/// a 10 MHz timebase; `riscv_hwprobe` tells it).
pub const TIME_CSR_HZ: u64 = 10_000_000;

/// CSR numbers pvm implements.
mod csr {
    pub const FFLAGS: u16 = 0x001;
    pub const FRM: u16 = 0x002;
    pub const FCSR: u16 = 0x003;
    pub const CYCLE: u16 = 0xc00;
    pub const TIME: u16 = 0xc01;
    pub const INSTRET: u16 = 0xc02;
}

/// Read a CSR; `None` if it does not exist. `retired` is the number of
/// instructions retired before this one.
fn csr_read(cpu: &Cpu, mem: &GuestMemory, n: u16, retired: u64) -> Option<u64> {
    Some(match n {
        csr::FFLAGS => cpu.fflags as u64 & 0x1f,
        csr::FRM => cpu.frm as u64 & 7,
        csr::FCSR => ((cpu.frm as u64 & 7) << 5) | (cpu.fflags as u64 & 0x1f),
        csr::CYCLE | csr::INSTRET => retired,
        csr::TIME => {
            let t = mem.host().clock_gettime(1).unwrap_or_default();
            (t.sec as u64)
                .wrapping_mul(TIME_CSR_HZ)
                .wrapping_add(t.nsec as u64 / (1_000_000_000 / TIME_CSR_HZ))
        }
        _ => return None,
    })
}

/// Write a CSR; `false` if it does not exist or is read-only.
fn csr_write(cpu: &mut Cpu, n: u16, v: u64) -> bool {
    match n {
        csr::FFLAGS => cpu.fflags = (v & 0x1f) as u32,
        csr::FRM => cpu.frm = (v & 7) as u32,
        csr::FCSR => {
            cpu.fflags = (v & 0x1f) as u32;
            cpu.frm = ((v >> 5) & 7) as u32;
        }
        _ => return false,
    }
    true
}

/// Execute one CSR instruction: `Err(())` means illegal.
fn exec_csr(
    cpu: &mut Cpu,
    mem: &GuestMemory,
    c: Csr,
    kind: CsrOp,
    imm: bool,
    retired: u64,
) -> Result<(), ()> {
    let src = if imm {
        c.rs1 as u64
    } else {
        cpu.x[(c.rs1 & 31) as usize]
    };
    // csrrw always writes; csrrs/csrrc write only with a nonzero source
    // register number (or immediate).
    let writes = kind == CsrOp::Write || c.rs1 != 0;
    let old = csr_read(cpu, mem, c.csr, retired).ok_or(())?;
    if writes {
        let new = match kind {
            CsrOp::Write => src,
            CsrOp::Set => old | src,
            CsrOp::Clear => old & !src,
        };
        if !csr_write(cpu, c.csr, new) {
            return Err(());
        }
    }
    cpu.x[(c.rd & 31) as usize] = old;
    cpu.x[0] = 0;
    Ok(())
}

// ---- single-instruction entry point --------------------------------------

/// Execute the one instruction `inst` (of `len` bytes) at `cpu.pc`, through
/// the same generic executor the interpreter's blocks use, so every
/// instruction's semantics exist once. For engines that run most code
/// themselves and hand the rest over one instruction at a time (the
/// translator's fallback).
///
/// State stays precise, as inside a block: `Ok(())` means the instruction
/// retired (`cpu.pc` moved to the next instruction, or to the target of a
/// jump or taken branch, and `instret` + 1); `Err(trap)` leaves `cpu.pc`
/// at the instruction and the registers, `fflags` and `instret` untouched,
/// except for `ecall`, which counts as retired (`instret` + 1, `pc`
/// unchanged: the OS-call layer completes it and moves `pc` on). `cycle`
/// and `instret` CSR reads see `cpu.instret` as the count retired before
/// this instruction.
///
/// `lr_value` is the value the last `lr` read (the caller keeps it across
/// calls, as the interpreter keeps [`Interpreter::lr_value`]): `sc`
/// succeeds only if memory still holds it.
pub fn step(
    cpu: &mut Cpu,
    mem: &GuestMemory,
    inst: Inst,
    len: u8,
    lr_value: &mut u64,
) -> Result<(), Trap> {
    let pc = cpu.pc;
    // A one-instruction block at `pc`: with no lookup table there is
    // nothing to chain into, and the operand fields only matter to the
    // specialised handlers.
    let op = Uop::generic(inst, pc, 0, len);
    let mut cx = Cx::unchained(mem, *lr_value, mem.code_epoch());
    let went_on = exec_one(&op, cpu, &mut cx);
    *lr_value = cx.lr_value;
    if went_on {
        // Fell through: what `next` does at the end of a block.
        cpu.pc = pc.wrapping_add(len as u64);
        cpu.instret = cpu.instret.wrapping_add(1);
        return Ok(());
    }
    // Left the block: a jump (pc and instret already set) or a trap (pc
    // at the instruction, instret set as the trap requires).
    match cx.trap {
        Some(t) => Err(t),
        None => Ok(()),
    }
}

/// [`step`] over a run of instructions, for an engine that interprets a
/// piece of code one instruction at a time (the translator's cold runs):
/// from `cpu.pc`, each instruction is given by `fetch` (its decoded form
/// and length, fetched at the pc passed) and run as [`step`] runs it, up
/// to `max` instructions, the last being the first that
/// [`crate::decode::Facts::ends_region`] (a basic block: any control
/// transfer, trap or `fence.i` ends it). A fetch fault on the first instruction is the
/// run's trap; one further on ends the run there (raised when execution
/// gets there). State is precise as after each [`step`]; the first trap
/// ends the run. The same as calling [`step`] for each instruction, with
/// the executor's context and operand record set up once for the run
/// instead of once per instruction.
pub fn step_run(
    cpu: &mut Cpu,
    mem: &GuestMemory,
    max: usize,
    lr_value: &mut u64,
    mut fetch: impl FnMut(u64) -> Result<(Inst, u8), MemFault>,
) -> Result<(), Trap> {
    let mut op = Uop::generic(Inst::Illegal(0), 0, 0, 2);
    let mut cx = Cx::unchained(mem, *lr_value, 0);
    let mut result = Ok(());
    for n in 0..max {
        let pc = cpu.pc;
        let (inst, len) = match fetch(pc) {
            Ok(d) => d,
            Err(f) if n == 0 => {
                result = Err(Trap::MemFault(f));
                break;
            }
            // Raised when execution gets there.
            Err(_) => break,
        };
        op.inst = inst;
        op.pc = pc;
        op.len = len;
        if exec(&op, cpu, &mut cx) {
            // Fell through: what `next` does at the end of a block.
            cpu.pc = pc.wrapping_add(len as u64);
            cpu.instret = cpu.instret.wrapping_add(1);
        } else if let Some(t) = cx.trap.take() {
            result = Err(t);
            break;
        }
        // (`Facts::ends_region`, through the inlined `flow`.)
        if !matches!(inst.flow(), crate::decode::Flow::Next) {
            break;
        }
    }
    *lr_value = cx.lr_value;
    result
}

// ---- the generic executor -----------------------------------------------

/// Execute `op` (the `op.idx`th instruction of its block) through
/// one big `match` over [`Inst`]. Returns `true` to go on with the next
/// instruction; `false` when it left the block (jump, branch, trap), with
/// `cpu.pc` and `cpu.instret` updated and any trap in `cx.trap`.
///
/// Every instruction can run here; the hot integer ones have specialised
/// handlers in [`fast`] as well. (One copy, out of line, for the
/// blocks' generic handler and [`step`]; [`step_run`] has its own,
/// inlined into its loop, see [`exec`].)
#[inline(never)]
fn exec_one(op: &Uop, cpu: &mut Cpu, cx: &mut Cx<'_>) -> bool {
    exec(op, cpu, cx)
}

/// [`exec_one`]'s body, inlined where it is called in a loop
/// ([`step_run`]): the registers the big `match` needs are then saved
/// once per run instead of once per instruction (measured on
/// `python3.13 -c pass`, whose start-up code mostly runs cold, under
/// callgrind: 552.4 M to 539.2 M host instructions; pvm 77 KB larger).
#[inline(always)]
fn exec(op: &Uop, cpu: &mut Cpu, cx: &mut Cx<'_>) -> bool {
    use Inst::*;
    let i = op.idx as usize;
    // The pc, the fall-through pc and the block index of this
    // instruction, computed only where needed.
    macro_rules! pc {
        () => {
            op.pc
        };
    }
    macro_rules! next {
        () => {
            pc!().wrapping_add(op.len as u64)
        };
    }

    // Stop with state precise at this instruction.
    macro_rules! trap {
        ($t:expr) => {{
            cpu.pc = pc!();
            cpu.instret = cpu.instret.wrapping_add(i as u64);
            cx.trap = Some($t);
            return false;
        }};
    }
    macro_rules! illegal {
        () => {
            trap!(Trap::IllegalInstruction(raw_bits(cx.mem, pc!())))
        };
    }
    macro_rules! mem {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(f) => trap!(Trap::MemFault(f)),
            }
        };
    }
    // Leave the block for `target` after retiring this instruction.
    macro_rules! jump {
        ($target:expr) => {{
            cpu.pc = $target;
            cpu.instret = cpu.instret.wrapping_add(i as u64 + 1);
            return false;
        }};
    }
    macro_rules! x {
        ($r:expr) => {
            cpu.x[($r & 31) as usize]
        };
    }
    macro_rules! set {
        ($rd:expr, $v:expr) => {{
            let v: u64 = $v;
            cpu.x[($rd & 31) as usize] = v;
            cpu.x[0] = 0;
        }};
    }
    macro_rules! branch {
        ($s:expr, $cond:expr) => {{
            let S { rs1, rs2, imm } = $s;
            let (a, b) = (x!(rs1), x!(rs2));
            #[allow(clippy::redundant_closure_call)]
            let taken = ($cond)(a, b);
            if taken {
                jump!(pc!().wrapping_add(imm as i64 as u64));
            }
        }};
    }
    macro_rules! addr {
        ($rs1:expr, $imm:expr) => {
            x!($rs1).wrapping_add($imm as i64 as u64)
        };
    }
    macro_rules! rr {
        ($r:expr, $f:expr) => {{
            let R { rd, rs1, rs2 } = $r;
            #[allow(clippy::redundant_closure_call)]
            let v = ($f)(x!(rs1), x!(rs2));
            set!(rd, v)
        }};
    }
    macro_rules! ri {
        ($r:expr, $f:expr) => {{
            let I { rd, rs1, imm } = $r;
            #[allow(clippy::redundant_closure_call)]
            let v = ($f)(x!(rs1), imm as i64 as u64);
            set!(rd, v)
        }};
    }
    macro_rules! rm {
        ($rm:expr) => {
            match resolve_rm($rm, cpu.frm) {
                Some(r) => r,
                None => illegal!(),
            }
        };
    }
    macro_rules! fs {
        ($r:expr) => {
            unbox(cpu.f[($r & 31) as usize])
        };
    }
    macro_rules! fd {
        ($r:expr) => {
            cpu.f[($r & 31) as usize]
        };
    }
    macro_rules! set_fs {
        ($rd:expr, $v:expr) => {{
            let v: u32 = $v;
            cpu.f[($rd & 31) as usize] = nanbox(v);
        }};
    }
    macro_rules! set_fd {
        ($rd:expr, $v:expr) => {{
            let v: u64 = $v;
            cpu.f[($rd & 31) as usize] = v;
        }};
    }
    // Two-operand arithmetic with a rounding mode.
    macro_rules! fop_s {
        ($q:expr, $f:path) => {{
            let F { rd, rs1, rs2, rm } = $q;
            let rm = rm!(rm);
            let v = $f(fs!(rs1), fs!(rs2), rm, &mut cpu.fflags);
            set_fs!(rd, v)
        }};
    }
    macro_rules! fop_d {
        ($q:expr, $f:path) => {{
            let F { rd, rs1, rs2, rm } = $q;
            let rm = rm!(rm);
            let v = $f(fd!(rs1), fd!(rs2), rm, &mut cpu.fflags);
            set_fd!(rd, v)
        }};
    }
    // Fused multiply-add: negate the product and/or the addend.
    macro_rules! fma_s {
        ($q:expr, $neg:expr) => {{
            let F4 {
                rd,
                rs1,
                rs2,
                rs3,
                rm,
            } = $q;
            let rm = rm!(rm);
            let v = sem::fma_s($neg, fs!(rs1), fs!(rs2), fs!(rs3), rm, &mut cpu.fflags);
            set_fs!(rd, v)
        }};
    }
    macro_rules! fma_d {
        ($q:expr, $neg:expr) => {{
            let F4 {
                rd,
                rs1,
                rs2,
                rs3,
                rm,
            } = $q;
            let rm = rm!(rm);
            let v = sem::fma_d($neg, fd!(rs1), fd!(rs2), fd!(rs3), rm, &mut cpu.fflags);
            set_fd!(rd, v)
        }};
    }
    // Float to integer conversions; the result is sign-extended.
    macro_rules! f2i {
        ($q:expr, $get:ident, $f:path, $ext:expr) => {{
            let F { rd, rs1, rm, .. } = $q;
            let rm = rm!(rm);
            let v = $f($get!(rs1), rm, &mut cpu.fflags);
            #[allow(clippy::redundant_closure_call)]
            let v = ($ext)(v);
            set!(rd, v)
        }};
    }
    macro_rules! i2s {
        ($q:expr, $f:path, $conv:expr) => {{
            let F { rd, rs1, rm, .. } = $q;
            let rm = rm!(rm);
            #[allow(clippy::redundant_closure_call)]
            let v = $f(($conv)(x!(rs1)), rm, &mut cpu.fflags);
            set_fs!(rd, v)
        }};
    }
    macro_rules! i2d {
        ($q:expr, $f:path, $conv:expr) => {{
            let F { rd, rs1, rm, .. } = $q;
            let rm = rm!(rm);
            #[allow(clippy::redundant_closure_call)]
            let v = $f(($conv)(x!(rs1)), rm, &mut cpu.fflags);
            set_fd!(rd, v)
        }};
    }
    macro_rules! fcmp {
        ($r:expr, $get:ident, $f:path) => {{
            let R { rd, rs1, rs2 } = $r;
            let v = $f($get!(rs1), $get!(rs2), &mut cpu.fflags);
            set!(rd, v as u64)
        }};
    }

    match op.inst {
        // ---- RV64I ----
        Lui(U { rd, imm }) => set!(rd, imm as i64 as u64),
        Auipc(U { rd, imm }) => set!(rd, pc!().wrapping_add(imm as i64 as u64)),
        Jal(U { rd, imm }) => {
            set!(rd, next!());
            jump!(pc!().wrapping_add(imm as i64 as u64));
        }
        Jalr(I { rd, rs1, imm }) => {
            let target = addr!(rs1, imm) & !1;
            set!(rd, next!());
            jump!(target);
        }
        Beq(s) => branch!(s, sem::beq),
        Bne(s) => branch!(s, sem::bne),
        Blt(s) => branch!(s, sem::blt),
        Bge(s) => branch!(s, sem::bge),
        Bltu(s) => branch!(s, sem::bltu),
        Bgeu(s) => branch!(s, sem::bgeu),
        Lb(I { rd, rs1, imm }) => {
            let v = mem!(cx.mem.read_u8(addr!(rs1, imm)));
            set!(rd, sem::lb(v))
        }
        Lh(I { rd, rs1, imm }) => {
            let v = mem!(cx.mem.read_u16(addr!(rs1, imm)));
            set!(rd, sem::lh(v))
        }
        Lw(I { rd, rs1, imm }) => {
            let v = mem!(cx.mem.read_u32(addr!(rs1, imm)));
            set!(rd, sem::lw(v))
        }
        Ld(I { rd, rs1, imm }) => {
            let v = mem!(cx.mem.read_u64(addr!(rs1, imm)));
            set!(rd, sem::ld(v))
        }
        Lbu(I { rd, rs1, imm }) => {
            let v = mem!(cx.mem.read_u8(addr!(rs1, imm)));
            set!(rd, sem::lbu(v))
        }
        Lhu(I { rd, rs1, imm }) => {
            let v = mem!(cx.mem.read_u16(addr!(rs1, imm)));
            set!(rd, sem::lhu(v))
        }
        Lwu(I { rd, rs1, imm }) => {
            let v = mem!(cx.mem.read_u32(addr!(rs1, imm)));
            set!(rd, sem::lwu(v))
        }
        Sb(S { rs1, rs2, imm }) => mem!(cx.mem.write_u8(addr!(rs1, imm), x!(rs2) as u8)),
        Sh(S { rs1, rs2, imm }) => mem!(cx.mem.write_u16(addr!(rs1, imm), x!(rs2) as u16)),
        Sw(S { rs1, rs2, imm }) => mem!(cx.mem.write_u32(addr!(rs1, imm), x!(rs2) as u32)),
        Sd(S { rs1, rs2, imm }) => mem!(cx.mem.write_u64(addr!(rs1, imm), x!(rs2))),
        Addi(q) => ri!(q, sem::add),
        Slti(q) => ri!(q, sem::slt),
        Sltiu(q) => ri!(q, sem::sltu),
        Xori(q) => ri!(q, sem::xor),
        Ori(q) => ri!(q, sem::or),
        Andi(q) => ri!(q, sem::and),
        Slli(q) => ri!(q, sem::sll),
        Srli(q) => ri!(q, sem::srl),
        Srai(q) => ri!(q, sem::sra),
        Addiw(q) => ri!(q, sem::addw),
        Slliw(q) => ri!(q, sem::sllw),
        Srliw(q) => ri!(q, sem::srlw),
        Sraiw(q) => ri!(q, sem::sraw),
        Add(r) => rr!(r, sem::add),
        Sub(r) => rr!(r, sem::sub),
        Sll(r) => rr!(r, sem::sll),
        Slt(r) => rr!(r, sem::slt),
        Sltu(r) => rr!(r, sem::sltu),
        Xor(r) => rr!(r, sem::xor),
        Srl(r) => rr!(r, sem::srl),
        Sra(r) => rr!(r, sem::sra),
        Or(r) => rr!(r, sem::or),
        And(r) => rr!(r, sem::and),
        Addw(r) => rr!(r, sem::addw),
        Subw(r) => rr!(r, sem::subw),
        Sllw(r) => rr!(r, sem::sllw),
        Srlw(r) => rr!(r, sem::srlw),
        Sraw(r) => rr!(r, sem::sraw),
        Fence(_) => core::sync::atomic::fence(Ordering::SeqCst),
        FenceI => {
            cx.mem.invalidate_code();
            jump!(next!());
        }
        Ecall => {
            // Counted as retired: the syscall layer completes it.
            cpu.pc = pc!();
            cpu.instret = cpu.instret.wrapping_add(i as u64 + 1);
            cx.trap = Some(Trap::Ecall);
            return false;
        }
        Ebreak => trap!(Trap::Ebreak),

        // ---- M ----
        Mul(r) => rr!(r, sem::mul),
        Mulh(r) => rr!(r, sem::mulh),
        Mulhsu(r) => rr!(r, sem::mulhsu),
        Mulhu(r) => rr!(r, sem::mulhu),
        Div(r) => rr!(r, sem::div),
        Divu(r) => rr!(r, sem::divu),
        Rem(r) => rr!(r, sem::rem),
        Remu(r) => rr!(r, sem::remu),
        Mulw(r) => rr!(r, sem::mulw),
        Divw(r) => rr!(r, sem::divw),
        Divuw(r) => rr!(r, sem::divuw),
        Remw(r) => rr!(r, sem::remw),
        Remuw(r) => rr!(r, sem::remuw),

        // ---- A ----
        LrW(A { rd, rs1, .. }) => {
            let a = x!(rs1);
            if a & 3 != 0 {
                trap!(Trap::MemFault(misaligned(a, Access::Read)));
            }
            let v = mem!(cx.mem.read_u32(a));
            cpu.reservation = Some(a);
            cx.lr_value = v as u64;
            set!(rd, sext32(v))
        }
        LrD(A { rd, rs1, .. }) => {
            let a = x!(rs1);
            if a & 7 != 0 {
                trap!(Trap::MemFault(misaligned(a, Access::Read)));
            }
            let v = mem!(cx.mem.read_u64(a));
            cpu.reservation = Some(a);
            cx.lr_value = v;
            set!(rd, v)
        }
        ScW(A { rd, rs1, rs2, .. }) => {
            let a = x!(rs1);
            if a & 3 != 0 {
                trap!(Trap::MemFault(misaligned(a, Access::Write)));
            }
            let ok = if cpu.reservation == Some(a) {
                mem!(sc(cx.mem, a, cx.lr_value as u32, x!(rs2) as u32))
            } else {
                false
            };
            cpu.reservation = None;
            set!(rd, sem::sc_result(ok))
        }
        ScD(A { rd, rs1, rs2, .. }) => {
            let a = x!(rs1);
            if a & 7 != 0 {
                trap!(Trap::MemFault(misaligned(a, Access::Write)));
            }
            let ok = if cpu.reservation == Some(a) {
                mem!(sc(cx.mem, a, cx.lr_value, x!(rs2)))
            } else {
                false
            };
            cpu.reservation = None;
            set!(rd, sem::sc_result(ok))
        }
        AmoswapW(q) | AmoaddW(q) | AmoxorW(q) | AmoandW(q) | AmoorW(q) | AmominW(q)
        | AmomaxW(q) | AmominuW(q) | AmomaxuW(q) => {
            let op = rmw_of(&op.inst);
            let old = mem!(amo(cx.mem, x!(q.rs1), op, x!(q.rs2) as u32));
            set!(q.rd, sext32(old))
        }
        AmoswapD(q) | AmoaddD(q) | AmoxorD(q) | AmoandD(q) | AmoorD(q) | AmominD(q)
        | AmomaxD(q) | AmominuD(q) | AmomaxuD(q) => {
            let op = rmw_of(&op.inst);
            let old = mem!(amo(cx.mem, x!(q.rs1), op, x!(q.rs2)));
            set!(q.rd, old)
        }

        // ---- F/D loads, stores, moves and sign injection ----
        Flw(I { rd, rs1, imm }) => {
            let v = mem!(cx.mem.read_u32(addr!(rs1, imm)));
            set_fs!(rd, v)
        }
        Fld(I { rd, rs1, imm }) => {
            let v = mem!(cx.mem.read_u64(addr!(rs1, imm)));
            set_fd!(rd, v)
        }
        // Stores and moves out transfer the raw low bits, boxed or not.
        Fsw(S { rs1, rs2, imm }) => mem!(cx.mem.write_u32(addr!(rs1, imm), fd!(rs2) as u32)),
        Fsd(S { rs1, rs2, imm }) => mem!(cx.mem.write_u64(addr!(rs1, imm), fd!(rs2))),
        FmvXW(R { rd, rs1, .. }) => set!(rd, sem::fmv_x_w(fd!(rs1))),
        FmvWX(R { rd, rs1, .. }) => set_fd!(rd, sem::fmv_w_x(x!(rs1))),
        FmvXD(R { rd, rs1, .. }) => set!(rd, fd!(rs1)),
        FmvDX(R { rd, rs1, .. }) => set_fd!(rd, x!(rs1)),
        FsgnjS(R { rd, rs1, rs2 }) => set_fs!(rd, sem::fsgnj_s(fs!(rs1), fs!(rs2))),
        FsgnjnS(R { rd, rs1, rs2 }) => set_fs!(rd, sem::fsgnjn_s(fs!(rs1), fs!(rs2))),
        FsgnjxS(R { rd, rs1, rs2 }) => set_fs!(rd, sem::fsgnjx_s(fs!(rs1), fs!(rs2))),
        FsgnjD(R { rd, rs1, rs2 }) => set_fd!(rd, sem::fsgnj_d(fd!(rs1), fd!(rs2))),
        FsgnjnD(R { rd, rs1, rs2 }) => set_fd!(rd, sem::fsgnjn_d(fd!(rs1), fd!(rs2))),
        FsgnjxD(R { rd, rs1, rs2 }) => set_fd!(rd, sem::fsgnjx_d(fd!(rs1), fd!(rs2))),
        FclassS(R { rd, rs1, .. }) => set!(rd, fpu::f32_class(fs!(rs1))),
        FclassD(R { rd, rs1, .. }) => set!(rd, fpu::f64_class(fd!(rs1))),

        // ---- F/D arithmetic (through fpu) ----
        FaddS(q) => fop_s!(q, fpu::f32_add),
        FsubS(q) => fop_s!(q, fpu::f32_sub),
        FmulS(q) => fop_s!(q, fpu::f32_mul),
        FdivS(q) => fop_s!(q, fpu::f32_div),
        FaddD(q) => fop_d!(q, fpu::f64_add),
        FsubD(q) => fop_d!(q, fpu::f64_sub),
        FmulD(q) => fop_d!(q, fpu::f64_mul),
        FdivD(q) => fop_d!(q, fpu::f64_div),
        FsqrtS(F { rd, rs1, rm, .. }) => {
            let rm = rm!(rm);
            let v = fpu::f32_sqrt(fs!(rs1), rm, &mut cpu.fflags);
            set_fs!(rd, v)
        }
        FsqrtD(F { rd, rs1, rm, .. }) => {
            let rm = rm!(rm);
            let v = fpu::f64_sqrt(fd!(rs1), rm, &mut cpu.fflags);
            set_fd!(rd, v)
        }
        FmaddS(q) => fma_s!(q, sem::FMADD),
        FmsubS(q) => fma_s!(q, sem::FMSUB),
        FnmsubS(q) => fma_s!(q, sem::FNMSUB),
        FnmaddS(q) => fma_s!(q, sem::FNMADD),
        FmaddD(q) => fma_d!(q, sem::FMADD),
        FmsubD(q) => fma_d!(q, sem::FMSUB),
        FnmsubD(q) => fma_d!(q, sem::FNMSUB),
        FnmaddD(q) => fma_d!(q, sem::FNMADD),
        FminS(R { rd, rs1, rs2 }) => {
            let v = fpu::f32_min(fs!(rs1), fs!(rs2), &mut cpu.fflags);
            set_fs!(rd, v)
        }
        FmaxS(R { rd, rs1, rs2 }) => {
            let v = fpu::f32_max(fs!(rs1), fs!(rs2), &mut cpu.fflags);
            set_fs!(rd, v)
        }
        FminD(R { rd, rs1, rs2 }) => {
            let v = fpu::f64_min(fd!(rs1), fd!(rs2), &mut cpu.fflags);
            set_fd!(rd, v)
        }
        FmaxD(R { rd, rs1, rs2 }) => {
            let v = fpu::f64_max(fd!(rs1), fd!(rs2), &mut cpu.fflags);
            set_fd!(rd, v)
        }
        FeqS(r) => fcmp!(r, fs, fpu::f32_eq),
        FltS(r) => fcmp!(r, fs, fpu::f32_lt),
        FleS(r) => fcmp!(r, fs, fpu::f32_le),
        FeqD(r) => fcmp!(r, fd, fpu::f64_eq),
        FltD(r) => fcmp!(r, fd, fpu::f64_lt),
        FleD(r) => fcmp!(r, fd, fpu::f64_le),
        FcvtWS(q) => f2i!(q, fs, fpu::f32_to_i32, |v: i32| v as i64 as u64),
        FcvtWuS(q) => f2i!(q, fs, fpu::f32_to_u32, sext32),
        FcvtLS(q) => f2i!(q, fs, fpu::f32_to_i64, |v: i64| v as u64),
        FcvtLuS(q) => f2i!(q, fs, fpu::f32_to_u64, |v: u64| v),
        FcvtWD(q) => f2i!(q, fd, fpu::f64_to_i32, |v: i32| v as i64 as u64),
        FcvtWuD(q) => f2i!(q, fd, fpu::f64_to_u32, sext32),
        FcvtLD(q) => f2i!(q, fd, fpu::f64_to_i64, |v: i64| v as u64),
        FcvtLuD(q) => f2i!(q, fd, fpu::f64_to_u64, |v: u64| v),
        FcvtSW(q) => i2s!(q, fpu::i32_to_f32, |v: u64| v as i32),
        FcvtSWu(q) => i2s!(q, fpu::u32_to_f32, |v: u64| v as u32),
        FcvtSL(q) => i2s!(q, fpu::i64_to_f32, |v: u64| v as i64),
        FcvtSLu(q) => i2s!(q, fpu::u64_to_f32, |v: u64| v),
        FcvtDW(q) => i2d!(q, fpu::i32_to_f64, |v: u64| v as i32),
        FcvtDWu(q) => i2d!(q, fpu::u32_to_f64, |v: u64| v as u32),
        FcvtDL(q) => i2d!(q, fpu::i64_to_f64, |v: u64| v as i64),
        FcvtDLu(q) => i2d!(q, fpu::u64_to_f64, |v: u64| v),
        FcvtSD(F { rd, rs1, rm, .. }) => {
            let rm = rm!(rm);
            let v = fpu::f64_to_f32(fd!(rs1), rm, &mut cpu.fflags);
            set_fs!(rd, v)
        }
        FcvtDS(F { rd, rs1, rm, .. }) => {
            // Exact, but a reserved rm is still illegal (as on QEMU).
            let _ = rm!(rm);
            let v = fpu::f32_to_f64(fs!(rs1), &mut cpu.fflags);
            set_fd!(rd, v)
        }

        // ---- Zicsr ----
        Csrrw(_) | Csrrs(_) | Csrrc(_) | Csrrwi(_) | Csrrsi(_) | Csrrci(_) => {
            let Some((c, kind, imm)) = op.inst.csr_op() else {
                unreachable!("a CSR instruction")
            };
            let retired = cpu.instret.wrapping_add(i as u64);
            if exec_csr(cpu, cx.mem, c, kind, imm, retired).is_err() {
                illegal!();
            }
        }
        Illegal(bits) => trap!(Trap::IllegalInstruction(bits)),
    }
    true
}
