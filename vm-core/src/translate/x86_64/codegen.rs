//! RISC-V to x86-64 code generation for one region.
//!
//! A region is a set of guest basic blocks the front end picked (see
//! [`crate::translate::scan_region`]), entered at one pc. Up to eight of
//! its most-used guest registers (nine where guest memory is addressed by
//! displacement, which frees `r12`: see `bounds`) live in host registers
//! ([`ALLOC`]) for the whole region: loaded at entry (but those the entry block writes
//! before reading, see `deadload`), stored back to the `Cpu` at every exit
//! and before every helper call (the set the region writes), reloaded
//! after; six of them (`sp`, `ra`, `a0`, `a5`, `a4`, `s1`) are pinned, the same host
//! register in every translation, neither loaded at entry nor stored at
//! exits (see `pinned`, which also says when a loop region gives their
//! homes to its own registers); up to fourteen F/D registers live in xmm registers the same way
//! (see `fcache`). Branches and jumps between the region's blocks are host jumps,
//! so a loop inside a region never leaves host registers. Every other
//! guest register is read from and written to the `Cpu` directly.
//!
//! Guest loads and stores go straight to memory when the address is in the
//! guest range (host faults catch permission errors, see
//! [`super::host_fault`]), or through the checked helpers of [`super`] on
//! the out-of-line slow path; the compare is left out where the guard
//! regions make it needless (see `bounds`).
//!
//! Layout of a translation:
//! ```text
//!   load the cached registers
//!   block 0 .. block n-1          (address order; budget check at the
//!                                  entry and at targets of backward edges;
//!                                  side table: one entry per instruction)
//!   exits                         (chainable `jmp rel32` slots, inline)
//!   side entries                  (entry code, budget check, jump to a
//!                                  block; see `entries`)
//!   cold code: slow memory paths, fault / code-write / budget exits
//!   helper thunks                 (write back, call, reload)
//! ```
//! An exit stores the written cached registers, adds the retired
//! instructions to `instret` (kept in `r14`) and leaves through a
//! chainable slot (whose `rel32` never straddles a cache line, so that
//! chaining it is one atomic store) or the indirect-jump probe, which a
//! return first precedes with compares against the region's return
//! points (calls traced through, see [`crate::translate`]); each return
//! point is a loop head (budget check), as a return to it can close a
//! loop with no backward branch. A quotient and remainder of the same
//! operands a few instructions apart take one x86 `div` (`div_partner`),
//! the low and high halves of a product one `mul` (`pair`), and an
//! unsigned division by a divisor seen before a multiply by its cached
//! reciprocal (`divcache`). The cold exits (fault,
//! budget, store into code) only pass a host address inside the
//! instruction concerned; the dispatcher gets the guest pc and instruction
//! index (within its basic block) from the side table.

use super::encode::{Alu, Asm, AsmError, Cond, Label, Mem, Reg, Shift, Unary, W, Xmm};
use super::{Helper, Stubs, off};
use crate::cache::SideEntry;
use crate::decode::{Flow, I, Inst, R, S};
use crate::translate::backend::{GuestInst, NEAR_REGS, StepInst, exit};
use alloc::vec::Vec;

mod atomic;
mod bounds;
mod cmp;
mod deadload;
mod dirty;
mod divcache;
mod entries;
mod fcache;
mod float;
mod frm;
mod fwd;
mod heads;
mod konst;
mod nearin;
mod pair;
mod pcmap;
mod pending;
pub mod pinned;
pub mod qpend;
mod quiet;
mod ras;
mod weight;
mod zext;

/// Guest permission bits (`Perm::READ`, `Perm::WRITE`) as the TLB holds them.
const READ: i32 = 1;
const WRITE: i32 = 2;

/// The host code of one block (the code itself in the [`Scratch`] it was
/// made in).
#[derive(Debug)]
pub struct Block<'s> {
    pub code: &'s [u8],
    pub side: Vec<SideEntry>,
    /// The guest register cached in each [`ALLOC`] register (0: none).
    pub regs: [u8; 9],
    /// Offset of the code a host fault resumes at (0: the shared fault
    /// exit), see `fcache`.
    pub fault_resume: u32,
    /// Number of chainable exits emitted.
    pub exits: u32,
    /// Other entry points: (guest pc of a block, offset of the code
    /// entering there); see `translate`'s `side_entries`.
    pub entries: Vec<(u64, u32)>,
}

/// The buffers [`translate`] fills, kept from one translation to the next
/// (they reach their largest size after a few regions): allocating them
/// afresh for every region cost a malloc and free each, and the pages of
/// the larger ones were faulted in again and again.
pub struct Scratch {
    asm: Asm,
    cold: Vec<Cold>,
    /// The second buffer of `Gen::emit_cold`'s batches.
    cold_batch: Vec<Cold>,
    side: Vec<SideEntry>,
}

impl core::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Scratch")
            .field("code_capacity", &self.asm.code.capacity())
            .finish_non_exhaustive()
    }
}

impl Default for Scratch {
    fn default() -> Scratch {
        Scratch {
            asm: Asm::empty(),
            cold: Vec::new(),
            cold_batch: Vec::new(),
            side: Vec::new(),
        }
    }
}

/// Out-of-line code, emitted after the block body.
enum Cold {
    /// A helper reported a fault in instruction `gi` (number `index`).
    Fault {
        label: Label,
        gi: GuestInst,
        index: u32,
    },
    /// A store returned a nonzero status: fault, or a write into
    /// translated code (exit after the store).
    Store {
        label: Label,
        gi: GuestInst,
        index: u32,
    },
    /// The budget ran out on entry; `dirty`: the cached registers to
    /// store back (see `dirty`).
    Budget {
        label: Label,
        gi: GuestInst,
        dirty: u32,
    },
    /// A first-tier block is hot (nothing loaded or changed yet).
    Promote { label: Label, gi: GuestInst },
    /// A load or store the fast path could not make (see `bounds`).
    Access(bounds::Slow),
    /// The step helper returned a nonzero status: trap, or code changed.
    Step {
        label: Label,
        gi: GuestInst,
        index: u32,
    },
    /// Out-of-line code of the F/D instructions (see `fcache`).
    F(fcache::ColdF),
    /// Divisor 0 or not cached (see `divcache`).
    Div(divcache::ColdDiv),
    /// An edge's `frm` check failed (see `frm`).
    FrmEdge(frm::Edge),
    /// The compares of a way into a block that assumes bases near the
    /// space, or their failure (see `nearin`).
    NearEdge(nearin::Edge),
    /// A conditional branch's exit from the region (see
    /// `Gen::exit_cold`): store back `dirty`, count `retired`
    /// instructions, leave for `target`.
    Exit {
        label: Label,
        target: u64,
        dirty: u32,
        retired: u32,
    },
    /// `sp` or `tp` is wild where the code would go on to another block
    /// (see `Gen::near_check`): store back `dirty`, count `retired`
    /// instructions, and leave for the dispatcher at guest `pc`.
    Leave {
        label: Label,
        pc: u64,
        dirty: u32,
        retired: u32,
    },
    /// A call's chainable exit to its callee `target`, out of line where
    /// the call's return point falls into the next block (see `ras`).
    Slot { label: Label, target: u64 },
    /// The out-of-line path of an inline instruction: run it with the step
    /// helper (fallback instruction `step`) and go `back`.
    StepBack {
        label: Label,
        back: Label,
        gi: GuestInst,
        index: u32,
        step: u64,
    },
}

/// Most return points one return compares its target with (see
/// `Gen::predict_return`).
const MAX_RETURNS: usize = 6;

/// See `ras`.
pub const RAS_DEPTH: usize = ras::RAS_DEPTH;

/// Host registers that hold guest registers inside a block, in the order
/// they are handed out (the callee-saved ones first: they survive helper
/// calls, though the code reloads every one after a call anyway). `r12`,
/// last, only in a translation that addresses guest memory by
/// displacement (`Stubs::mem_disp`): on this machine (AMD Zen 1) the
/// third register of a pinned region's own cut `tree` (depth 14) by 2.4%
/// to 3.7% of CPU time (30 alternating runs, quartile and median).
pub const ALLOC: [Reg; 9] = [
    Reg::R13,
    Reg::R15,
    Reg::R8,
    Reg::Rbx,
    Reg::R9,
    Reg::R10,
    Reg::R11,
    Reg::Rdi,
    // Only where guest memory is addressed by displacement (see
    // `Stubs::mem_disp`); else it holds the memory base.
    Reg::R12,
];

/// The integer guest registers `inst` names (0 for none), for the
/// allocator's use counts (a heuristic there). `deadload` also reads it
/// as what an integer ALU operation, load or store reads (`rd` first but
/// for a store), which must then be complete for those instructions.
fn int_regs(inst: &Inst) -> [u8; 3] {
    use Inst::*;
    match *inst {
        Lui(u) | Auipc(u) | Jal(u) => [u.rd, 0, 0],
        Jalr(i) | Lb(i) | Lh(i) | Lw(i) | Ld(i) | Lbu(i) | Lhu(i) | Lwu(i) | Addi(i) | Slti(i)
        | Sltiu(i) | Xori(i) | Ori(i) | Andi(i) | Slli(i) | Srli(i) | Srai(i) | Addiw(i)
        | Slliw(i) | Srliw(i) | Sraiw(i) => [i.rd, i.rs1, 0],
        Beq(s) | Bne(s) | Blt(s) | Bge(s) | Bltu(s) | Bgeu(s) | Sb(s) | Sh(s) | Sw(s) | Sd(s) => {
            [s.rs1, s.rs2, 0]
        }
        Add(r) | Sub(r) | Sll(r) | Slt(r) | Sltu(r) | Xor(r) | Srl(r) | Sra(r) | Or(r) | And(r)
        | Addw(r) | Subw(r) | Sllw(r) | Srlw(r) | Sraw(r) | Mul(r) | Mulh(r) | Mulhsu(r)
        | Mulhu(r) | Div(r) | Divu(r) | Rem(r) | Remu(r) | Mulw(r) | Divw(r) | Divuw(r)
        | Remw(r) | Remuw(r) => [r.rd, r.rs1, r.rs2],
        Fld(i) | Flw(i) => [i.rs1, 0, 0],
        Fsd(s) | Fsw(s) => [s.rs1, 0, 0],
        FmvXD(r) | FmvXW(r) => [r.rd, 0, 0],
        FmvDX(r) | FmvWX(r) => [r.rs1, 0, 0],
        FeqD(r) | FltD(r) | FleD(r) | FeqS(r) | FltS(r) | FleS(r) => [r.rd, 0, 0],
        FcvtWD(f) | FcvtLD(f) | FcvtWS(f) | FcvtLS(f) => [f.rd, 0, 0],
        FcvtDW(f) | FcvtDWu(f) | FcvtDL(f) | FcvtDLu(f) | FcvtSW(f) | FcvtSWu(f) | FcvtSL(f)
        | FcvtSLu(f) => [f.rs1, 0, 0],
        Csrrw(c) | Csrrs(c) | Csrrc(c) => [c.rd, c.rs1, 0],
        Csrrwi(c) | Csrrsi(c) | Csrrci(c) => [c.rd, 0, 0],
        LrW(a) | ScW(a) | AmoswapW(a) | AmoaddW(a) | AmoxorW(a) | AmoandW(a) | AmoorW(a)
        | AmominW(a) | AmomaxW(a) | AmominuW(a) | AmomaxuW(a) | LrD(a) | ScD(a) | AmoswapD(a)
        | AmoaddD(a) | AmoxorD(a) | AmoandD(a) | AmoorD(a) | AmominD(a) | AmomaxD(a)
        | AmominuD(a) | AmomaxuD(a) => [a.rd, a.rs1, a.rs2],
        _ => [0; 3],
    }
}

/// Pick the block's cached guest registers: the most used ones (two uses
/// at least, or caching does not pay), up to one per [`ALLOC`] register;
/// a use counts as often as its block's weight (see `weight`), so the
/// registers of the region's loops win over those of its straight-line
/// code, times its heat (how often it ran before the region was made, see
/// `translate::block_heat`), so those of the path taken win over those of
/// rare cases (glibc's `_int_free` caches the chunk size its fast path
/// tests, not the registers only its consolidation paths use). The pinned
/// registers keep their homes (see `pinned`) unless the region has a loop
/// whose registers are worth more than those homes there: then it is
/// *unpinned* (the second result false) and caches what its own uses say
/// in all of [`ALLOC`].
fn allocate(
    blocks: &[&[GuestInst]],
    weights: &[u32],
    heat: &[u32],
    r12: bool,
) -> ([Option<Reg>; 32], bool) {
    // Heat scales every use: the thresholds below scale with the hottest.
    let top = heat.iter().copied().max().unwrap_or(1).max(1);
    let mut uses = [0u32; 32];
    for ((b, &w), &h) in blocks.iter().zip(weights).zip(heat) {
        for gi in b.iter() {
            for r in int_regs(&gi.inst) {
                uses[r as usize] = uses[r as usize].saturating_add(w.saturating_mul(h));
            }
        }
    }
    uses[0] = 0;
    let pick = |pin: bool| {
        let mut map = [None; 32];
        let mut worth = 0u64;
        if pin {
            // The pinned ones are everywhere (see `pinned`).
            for (r, h) in pinned::PINNED {
                map[r as usize] = Some(h);
                worth += uses[r as usize] as u64;
            }
        }
        let skip = if pin { pinned::MASK } else { 0 };
        // (In an array: a vector was an allocation per pick, two or three
        // picks per region.)
        let mut candidates = [0u8; 31];
        let mut n = 0;
        for r in (1..32).filter(|&r| uses[r as usize] >= 2 * top && skip >> r & 1 == 0) {
            candidates[n] = r;
            n += 1;
        }
        let order = &mut candidates[..n];
        // Most used first; ties by register number, so output is
        // deterministic (and the keys are distinct: no need for a stable
        // sort).
        order.sort_unstable_by_key(|&r| (core::cmp::Reverse(uses[r as usize]), r));
        let free = ALLOC
            .iter()
            .filter(|&&h| (!pin || !pinned::is_home(h)) && (r12 || h != Reg::R12));
        for (&r, &h) in order.iter().zip(free) {
            map[r as usize] = Some(h);
            worth += uses[r as usize] as u64;
        }
        (map, worth)
    };
    let (map, worth) = pick(true);
    if pinned::unpin_pays(weights, heat, worth, || pick(false).1) {
        return (pick(false).0, false);
    }
    (map, true)
}

struct Gen {
    a: Asm,
    stubs: Stubs,
    cold: Vec<Cold>,
    /// The other buffer of the out-of-line pieces (see `emit_cold`).
    cold_batch: Vec<Cold>,
    side: Vec<SideEntry>,
    exits: u32,
    /// Host register caching each guest register, if any.
    map: [Option<Reg>; 32],
    /// The guest registers `map` caches, as a set (exits and entries
    /// visit only these).
    cached: u32,
    /// The pinned registers are in their homes throughout the region
    /// (else it is unpinned, see `pinned`).
    pin: bool,
    /// Cached guest registers the region may write: the ones stored back
    /// to the `Cpu` at every exit and before every helper call.
    written: u32,
    /// Cached guest registers the code emitted so far does write (checked
    /// against `written` at the end).
    dirty: u32,
    /// Cached guest registers some path from the entry to the code being
    /// emitted may have written: what an exit here stores back (see
    /// `dirty`).
    path: u32,
    /// Those the current block's code has written so far.
    block_dirty: u32,
    /// Host code label of each of the region's blocks, by guest pc.
    labels: pcmap::PcMap,
    /// Guest pc of the block emitted after the current one, if any.
    next_start: Option<u64>,
    /// The region's helper thunks (see `call_helper`), by [`Helper`].
    thunks: [Option<Label>; super::HELPERS],
    /// Set for the division or product about to be emitted: its partner
    /// (see [`div_partner`] and `pair`), to be given the other result.
    div_pair: Option<pair::Pair>,
    /// A partner whose result is kept in `Ctx`, or placed already.
    div_partner: Option<pair::Pair>,
    /// Return points of the calls traced through in this region, in the
    /// order of their calls (see `translate`).
    returns: Vec<u64>,
    /// The xmm register caching each guest f register, if any (see
    /// `fcache`).
    fmap: [Option<Xmm>; 32],
    /// The f registers `fmap` caches, as a set.
    fcached: u32,
    /// Cached f registers the region may write (stored back as `written`).
    fwritten: u32,
    /// Cached f registers the code emitted so far does write.
    fdirty: u32,
    /// f registers the code at this point knows to hold NaN-boxed singles.
    fboxed: u32,
    /// The code at this point knows that `frm` is round to nearest even.
    frm_rne: bool,
    /// Blocks (by pc, sorted) whose code starts knowing it (see `frm`).
    frm_known: Vec<u64>,
    /// Cached f registers written by arithmetic whose NaN results are not
    /// yet made canonical, and their precision (double: true); see
    /// `fcache`.
    fpending: Vec<(u8, bool)>,
    /// Guest registers known to hold an address near the guest space,
    /// whose accesses need no bounds compare (see `bounds`).
    known: bounds::Known,
    /// The register fused quiet compares leave pending (0: none), what
    /// the code at this point knows of it, and the out-of-line code that
    /// writes it (see `qpend`).
    qreg: u8,
    qstate: qpend::QState,
    qthunk: Option<Label>,
    /// The host register known to hold an uncached guest register (see
    /// `fwd`).
    fwd: Option<fwd::Fwd>,
    /// The integer registers the next two instructions after the current
    /// one (in its block) read.
    next_reads: u32,
    /// The blocks (by pc, sorted) that may start with retired
    /// instructions not yet added to `r14`, and the count the block
    /// before hands to the next (see `pending`).
    carry_ok: Vec<u64>,
    carry_out: u32,
    /// Each block that starts with such a count, and the count (for its
    /// side entry's stub).
    carry_in: Vec<(u64, u32)>,
    /// The blocks (by pc, sorted) offered as side entries (see `entries`).
    side_pcs: Vec<u64>,
    /// Cached guest registers whose entry load was left out and that the
    /// code at this point has not written yet (see `deadload`).
    invalid: u32,
    /// The host register whose value the host flags describe as
    /// `test r, r` would set them, and the code position up to which they
    /// do (a 64-bit `and`, `or` or `xor` just wrote it, and nothing but
    /// the store of an uncached result came after): a compare of it with
    /// zero right there is the flags as they are (see `cmp`).
    flags: Option<(Reg, usize)>,
    /// The blocks that start assuming bases near the space, and which
    /// (see `nearin`), by pc.
    near_in: Vec<(u64, u32)>,
}

/// A division or remainder: its operands, signedness, whether it is the
/// remainder, and its width.
fn div_kind(inst: &Inst) -> Option<(R, bool, bool, W)> {
    use Inst::*;
    Some(match *inst {
        Div(r) => (r, true, false, W::B64),
        Divu(r) => (r, false, false, W::B64),
        Rem(r) => (r, true, true, W::B64),
        Remu(r) => (r, false, true, W::B64),
        Divw(r) => (r, true, false, W::B32),
        Divuw(r) => (r, false, false, W::B32),
        Remw(r) => (r, true, true, W::B32),
        Remuw(r) => (r, false, true, W::B32),
        _ => return None,
    })
}

/// Integer instructions that cannot leave the block, call a helper or
/// fault: what may stand between a fused division and its partner.
fn pure_int(inst: &Inst) -> bool {
    use Inst::*;
    int_alu(inst) || matches!(inst, Mul(_) | Mulh(_) | Mulhsu(_) | Mulhu(_) | Mulw(_))
}

/// The base integer operations (register or immediate), which write only
/// their `rd`: [`pure_int`] without the products, which the M extension's
/// fused pairs may make write a partner early (see `deadload`).
fn int_alu(inst: &Inst) -> bool {
    use Inst::*;
    matches!(
        inst,
        Lui(_)
            | Auipc(_)
            | Addi(_)
            | Slti(_)
            | Sltiu(_)
            | Xori(_)
            | Ori(_)
            | Andi(_)
            | Slli(_)
            | Srli(_)
            | Srai(_)
            | Addiw(_)
            | Slliw(_)
            | Srliw(_)
            | Sraiw(_)
            | Add(_)
            | Sub(_)
            | Sll(_)
            | Slt(_)
            | Sltu(_)
            | Xor(_)
            | Srl(_)
            | Sra(_)
            | Or(_)
            | And(_)
            | Addw(_)
            | Subw(_)
            | Sllw(_)
            | Srlw(_)
            | Sraw(_)
    )
}

/// The pc of the partner of the division `insts[i]`: the remainder of
/// the same operands after a quotient (or the quotient after a
/// remainder), at most four instructions on in the same block, with only
/// [`pure_int`] instructions between that write neither operand, and the
/// first not overwriting an operand itself. Then one x86 `div` gives both.
fn div_partner(insts: &[GuestInst], i: usize) -> Option<u64> {
    let (r, signed, rem, w) = div_kind(&insts[i].inst)?;
    if r.rd == 0 || r.rd == r.rs1 || r.rd == r.rs2 {
        return None;
    }
    for gi in insts[i + 1..].iter().take(4) {
        if let Some((r2, s2, rem2, w2)) = div_kind(&gi.inst) {
            let same = (r2.rs1, r2.rs2, s2, w2) == (r.rs1, r.rs2, signed, w);
            return (same && rem2 != rem).then_some(gi.pc);
        }
        if !pure_int(&gi.inst) {
            return None;
        }
        let rd = int_regs(&gi.inst)[0];
        if rd != 0 && (rd == r.rs1 || rd == r.rs2) {
            return None;
        }
    }
    None
}

/// Host code bytes per guest instruction to reserve before emitting a
/// region (about what one takes with its share of exits; start-up of a
/// real program averages 40 to 45).
const CODE_PER_INST: usize = 64;

/// Translate a region into host code placed at host address `base`;
/// `stubs` is the fixed code in the cache. `blocks` are the region's guest
/// basic blocks (non-empty, in address order, only the last instruction of
/// each may be a terminator) and `entry` the pc of the one entered from
/// outside. Edges between the region's blocks become host jumps, so the
/// cached guest registers stay in host registers round a loop; every other
/// successor is a chainable exit. Fallback instructions are appended to
/// `steps` (their index is baked into the code). A block that does not end
/// with a control transfer continues at the pc after its last instruction.
/// The code is left in `scratch` (see [`Scratch`]).
#[allow(clippy::too_many_arguments)]
pub fn translate<'s>(
    base: u64,
    stubs: &Stubs,
    entry: u64,
    blocks: &[&[GuestInst]],
    heat: &[u32],
    counter: Option<u32>,
    side_entries: bool,
    wild: &[u64],
    steps: &mut Vec<StepInst>,
    scratch: &'s mut Scratch,
) -> Result<Block<'s>, AsmError> {
    let all = || blocks.iter().flat_map(|b| b.iter());
    let qreg = qpend::pick(blocks);
    let n_insts = blocks.iter().map(|b| b.len()).sum::<usize>();
    let (map, pin) = allocate(
        blocks,
        &weight::block_weights(blocks),
        heat,
        stubs.mem_disp.is_some(),
    );
    let fmap = fcache::allocate(all());
    let mut written = 0u32;
    let mut fwritten = 0u32;
    for gi in all() {
        let rd = int_rd(&gi.inst);
        if rd != 0 && map[rd as usize].is_some() {
            written |= 1 << rd;
        }
        if let (_, Some(fd)) = fcache::fp_regs(&gi.inst)
            && fmap[fd as usize].is_some()
        {
            fwritten |= 1 << fd;
        }
    }
    // Return points of the calls traced through (callee and return point
    // both in the region): a return whose target is one of them jumps
    // there (see `Gen::predict_return`), so each is a loop head too (see
    // `heads`).
    // Blocks come in address order (see `scan_region`): bisect them.
    let starts = |pc: &u64| blocks.binary_search_by_key(pc, |b| b[0].pc).is_ok();
    let mut returns = Vec::new();
    for b in blocks {
        let last = b[b.len() - 1];
        if let Inst::Jal(u) = last.inst
            && u.rd != 0
        {
            let callee = last.pc.wrapping_add(u.imm as i64 as u64);
            let back = last.pc + last.len as u64;
            if starts(&callee) && starts(&back) && !returns.contains(&back) {
                returns.push(back);
            }
        }
    }
    // Budget checks go where loops can close (see `heads`).
    let headers = heads::loop_heads(blocks, entry, &returns);
    let mut frm_known = frm::known_at_start(blocks, entry, &returns);
    let mut carry_ok = pending::blocks(blocks, entry, &returns, &headers, &frm_known);
    // The blocks also entered from outside (see `entries`), and every way
    // in: the flows below start at each.
    // Blocks that keep what the block before knew of its bases (see
    // `bounds`): no way in from outside.
    let inherit = if side_entries {
        bounds::inheriting(blocks, &carry_ok)
    } else {
        carry_ok.clone()
    };
    let mut side_pcs = if side_entries {
        let mut pcs = entries::choose(blocks, entry, &frm_known);
        pcs.retain(|pc| inherit.binary_search(pc).is_err());
        pcs
    } else {
        Vec::new()
    };
    let roots: Vec<u64> = core::iter::once(entry)
        .chain(side_pcs.iter().copied())
        .collect();
    // Entry loads the entry block makes dead (see `deadload`).
    let dropped = match blocks.binary_search_by_key(&entry, |b| b[0].pc) {
        Ok(e)
            if pin
                && deadload::only_entered(
                    entry,
                    blocks.iter().flat_map(|b| dirty::successors(b, &returns)),
                    &returns,
                    &side_pcs,
                ) =>
        {
            let quiet = if qreg == 0 { 0 } else { 1 << qreg };
            deadload::window(blocks[e], set_of(&map) & !pinned::MASK & !quiet)
        }
        _ => 0,
    };
    // Bases each block starts knowing near the space (see `nearin`).
    let near_in: Vec<(u64, u32)> = if stubs.host_faults {
        let at = nearin::near_at_start(blocks, &returns, wild);
        blocks
            .iter()
            .zip(at)
            .filter(|&(_, m)| m != 0)
            // (The entry loads no register its block writes before
            // reading, nor assumes one: `nearin` propagates none.)
            .map(|(b, m)| (b[0].pc, if b[0].pc == entry { m & !dropped } else { m }))
            .collect()
    } else {
        Vec::new()
    };
    let steps_before = steps.len();
    // What each block writes beyond `int_rd`'s prediction, as found by
    // an earlier generation (see `dirty`); `exact` false: no per-path
    // write-back (a write outside the blocks' own code was seen).
    let mut seen = alloc::vec![0u32; blocks.len()];
    let mut exact = true;
    // `int_rd` predicts what the code writes; `put` records what it does.
    // Should they ever disagree, generate again with the union, so the
    // write-back set is always complete.
    loop {
        let writes = dirty::block_writes(blocks, &seen);
        let dirty_in = if exact {
            dirty::dirty_at_start(blocks, &roots, &returns, &writes)
        } else {
            alloc::vec![u32::MAX; blocks.len()]
        };
        let mut actual = alloc::vec![0u32; blocks.len()];
        let mut a = core::mem::replace(&mut scratch.asm, Asm::empty());
        a.reset(base, CODE_PER_INST * n_insts + 1024);
        // Out-of-line pieces come at about one per instruction at most
        // (slow memory paths, exits): room for them, so the vector does
        // not grow (and copy itself) several times.
        let mut cold = core::mem::take(&mut scratch.cold);
        cold.clear();
        cold.reserve(n_insts + 16);
        let mut cold_batch = core::mem::take(&mut scratch.cold_batch);
        cold_batch.clear();
        cold_batch.reserve(n_insts + 16);
        let mut side = core::mem::take(&mut scratch.side);
        side.clear();
        side.reserve(2 * n_insts + 16);
        let mut g = Gen {
            a,
            stubs: *stubs,
            cold,
            cold_batch,
            side,
            exits: 0,
            map,
            cached: set_of(&map),
            pin,
            written,
            dirty: 0,
            path: 0,
            block_dirty: 0,
            labels: pcmap::PcMap::with_capacity(blocks.len()),
            next_start: None,
            thunks: [None; super::HELPERS],
            div_pair: None,
            div_partner: None,
            // (Lent to the generator, which only reads them, and taken
            // back should it generate again: a copy of each of these four
            // was an allocation and a free per region.)
            returns: core::mem::take(&mut returns),
            fmap,
            fcached: set_of(&fmap),
            fwritten,
            fdirty: 0,
            fboxed: 0,
            frm_rne: false,
            frm_known: core::mem::take(&mut frm_known),
            fpending: Vec::new(),
            known: bounds::Known::new(),
            qreg,
            qstate: qpend::QState::Clear,
            qthunk: None,
            fwd: None,
            next_reads: 0,
            carry_ok: core::mem::take(&mut carry_ok),
            carry_out: 0,
            carry_in: Vec::new(),
            side_pcs: core::mem::take(&mut side_pcs),
            invalid: dropped,
            flags: None,
            near_in: near_in.clone(),
        };
        for b in blocks {
            let l = g.a.label();
            g.labels.insert(b[0].pc, l);
        }
        if let Some(slot) = counter {
            // First tier: count down this block's executions (see
            // `crate::profile`); when hot, leave before doing anything.
            // This prologue is longer than 5 bytes and nothing enters a
            // translation but at its start, so a `jmp` to the region can
            // later be written over it.
            let hot = g.a.label();
            g.a.load(W::B64, Reg::Rax, Mem::base(Reg::Rbp, off::COUNTERS));
            g.a.alu_mi(W::B32, Alu::Sub, Mem::base(Reg::Rax, 4 * slot as i32), 1);
            g.a.jcc(Cond::S, hot);
            g.cold.push(Cold::Promote {
                label: hot,
                gi: blocks[0][0],
            });
        }
        g.entry_load();
        // The entry block's assumed bases (see `nearin`).
        g.near_edge(entry, Some(()));
        if blocks[0][0].pc != entry {
            let l = g.labels[&entry];
            g.a.jmp(l);
        }
        for (bi, insts) in blocks.iter().enumerate() {
            g.a.bind(g.labels[&insts[0].pc]);
            g.invalid = if insts[0].pc == entry { dropped } else { 0 };
            // Paths join here: the flags are no one's.
            g.flags = None;
            // Paths join here: nothing is known of the boxes, nor of frm
            // but in the blocks `frm` checks every way into.
            // (Nothing is pending: every block ends with a flush.)
            g.flush_nan();
            g.fboxed = 0;
            g.frm_rne = g.frm_known.binary_search(&insts[0].pc).is_ok();
            // Paths join here, or the block is entered from outside,
            // unless it continues the block before (see `bounds`).
            if inherit.binary_search(&insts[0].pc).is_err() {
                g.known = bounds::Known::new();
            }
            // Every way in compared these (see `nearin`).
            g.known.assume_near(g.near_at(insts[0].pc));
            g.qstate = if qreg == 0 {
                qpend::QState::Clear
            } else {
                qpend::QState::Unknown
            };
            g.path = dirty_in[bi];
            g.block_dirty = 0;
            // Instructions retired before this block that `r14` lacks
            // (see `pending`): every index below counts them too.
            let base = core::mem::take(&mut g.carry_out);
            if base != 0 {
                g.carry_in.push((insts[0].pc, base));
            }
            g.next_start = blocks.get(bi + 1).map(|b| b[0].pc);
            // A block only reached forward inside the region needs no check
            // for the region to come back to the dispatcher in time.
            if headers.binary_search(&insts[0].pc).is_ok() {
                let budget = g.a.label();
                g.a.alu_rm(
                    W::B64,
                    Alu::Cmp,
                    Reg::R14,
                    Mem::base(Reg::Rbp, off::INSTRET_LIMIT),
                );
                g.a.jcc(Cond::Ae, budget);
                g.cold.push(Cold::Budget {
                    label: budget,
                    gi: insts[0],
                    dirty: g.written & g.path & g.exit_mask(),
                });
            }
            let mut ended = false;
            let mut fused = 0;
            for (i, gi) in insts.iter().enumerate() {
                if fused > 0 {
                    // Emitted with the instruction before (see `quiet`).
                    fused -= 1;
                    g.known.after(gi);
                    g.qpend_after(&gi.inst);
                    continue;
                }
                if !g.keeps_pending(&gi.inst) {
                    g.flush_nan();
                }
                if g.invalid != 0 && i > 0 {
                    g.invalid &= !(1 << int_rd(&insts[i - 1].inst));
                }
                g.side.push(SideEntry {
                    host_off: g.a.pos() as u32,
                    guest_pc: gi.pc,
                    index: base + i as u32,
                    len: gi.len,
                    invalid: g.slots(g.invalid),
                });
                g.next_reads = fwd::reads_after(insts, i + 1);
                if let Some(p) = g.div_partner.filter(|p| p.pc == gi.pc) {
                    g.qpend_before(&gi.inst);
                    g.div_take(p);
                    g.known.after(gi);
                    g.qpend_after(&gi.inst);
                    continue;
                }
                if let Some(q) = quiet::find(insts, i) {
                    let defer = q.t == g.qreg;
                    if !defer {
                        for f in &insts[i..i + 3] {
                            g.qpend_before(&f.inst);
                        }
                    }
                    g.quiet_compare(q, defer);
                    g.known.after(gi);
                    g.qpend_after(&gi.inst);
                    fused = 2;
                    continue;
                }
                if let Some((rd, v)) = konst::find(insts, i) {
                    for f in &insts[i..i + 2] {
                        g.qpend_before(&f.inst);
                    }
                    g.next_reads = fwd::reads_after(insts, i + 2);
                    g.konst(rd, v);
                    g.known.after(gi);
                    g.qpend_after(&gi.inst);
                    fused = 1;
                    continue;
                }
                if let Some((rd, rs)) = zext::find(insts, i) {
                    for f in &insts[i..i + 2] {
                        g.qpend_before(&f.inst);
                    }
                    g.zext_w(rd, rs);
                    g.known.after(gi);
                    g.qpend_after(&gi.inst);
                    fused = 1;
                    continue;
                }
                g.qpend_before(&gi.inst);
                g.div_pair = pair::div_pair(insts, i).or_else(|| pair::mul_pair(insts, i));
                // A record of `rax` this instruction leaves alone outlives
                // it (see `fwd`).
                let keep = g
                    .fwd_live()
                    .filter(|f| f.h == Reg::Rax && g.spares_rax(&gi.inst, f.r));
                let index = base + i as u32;
                if g.stubs.host_faults && is_transfer(&gi.inst) {
                    g.near_check(gi.pc, index, int_rd(&gi.inst));
                }
                ended = match g.inst(gi, index, steps)? {
                    Some(ended) => ended,
                    None => {
                        if !g.float(gi, index, steps)? {
                            g.step(gi, index, steps)?;
                        }
                        false
                    }
                };
                if let Some(f) = keep {
                    g.fwd_moved(f);
                }
                g.known.after(gi);
                g.qpend_after(&gi.inst);
            }
            if !ended {
                g.flush_nan();
                let last = insts[insts.len() - 1];
                let next = last.pc + last.len as u64;
                if g.stubs.host_faults {
                    g.near_check(next, base + insts.len() as u32, 0);
                }
                g.goto(next, base + insts.len() as u32)?;
            }
            actual[bi] = g.block_dirty;
            g.block_dirty = 0;
        }
        // Out-of-line code knows nothing of the mark (see `qpend`).
        if qreg != 0 {
            g.qstate = qpend::QState::Unknown;
        }
        let pcs = core::mem::take(&mut g.side_pcs);
        let entries = g.emit_side_entries(blocks, &pcs);
        g.side_pcs = pcs;
        g.emit_cold()?;
        g.emit_thunks()?;
        g.emit_qthunk();
        let fault_resume = g.emit_fault_stub()?;
        g.a.finish()?;
        let short = actual.iter().zip(&writes).any(|(&a, &w)| a & !w != 0);
        if g.dirty & !g.written != 0
            || g.fdirty & !g.fwritten != 0
            || (exact && (short || g.block_dirty != 0))
        {
            written |= g.dirty;
            fwritten |= g.fdirty;
            for (s, a) in seen.iter_mut().zip(&actual) {
                *s |= a;
            }
            if g.block_dirty != 0 {
                exact = false;
            }
            steps.truncate(steps_before);
            returns = g.returns;
            frm_known = g.frm_known;
            carry_ok = g.carry_ok;
            side_pcs = g.side_pcs;
            scratch.asm = g.a;
            scratch.cold = g.cold;
            scratch.cold_batch = g.cold_batch;
            scratch.side = g.side;
            continue;
        }
        let mut regs = [0u8; 9];
        for (r, h) in map.iter().enumerate() {
            if let Some(h) = h {
                let slot = ALLOC
                    .iter()
                    .position(|a| a == h)
                    .expect("allocated from ALLOC");
                regs[slot] = r as u8;
            }
        }
        // The side table lives as long as the translation: exactly its
        // size (the scratch one has room for the largest region).
        let side = g.side.clone();
        scratch.asm = g.a;
        scratch.cold = g.cold;
        scratch.cold_batch = g.cold_batch;
        scratch.side = g.side;
        return Ok(Block {
            code: &scratch.asm.code,
            side,
            regs,
            fault_resume,
            exits: g.exits,
            entries,
        });
    }
}

/// The registers `map` gives a host register, as a set.
fn set_of<T>(map: &[Option<T>; 32]) -> u32 {
    map.iter()
        .enumerate()
        .filter(|(_, h)| h.is_some())
        .fold(0, |m, (r, _)| m | 1 << r)
}

/// The indices of the bits set in `set`, lowest first (the registers of a
/// register set, visited without testing all 32).
fn bits(mut set: u32) -> impl Iterator<Item = u8> {
    core::iter::from_fn(move || {
        let r = set.trailing_zeros();
        set &= set.wrapping_sub(1);
        (r < 32).then_some(r as u8)
    })
}

/// Does `inst` end its block with a jump or branch (to another block,
/// in the region or not)?
fn is_transfer(inst: &Inst) -> bool {
    matches!(inst.facts().flow, Flow::Branch | Flow::Jump)
}

/// The integer register `inst` writes, if it is inline (0 for none).
fn int_rd(inst: &Inst) -> u8 {
    use Inst::*;
    match *inst {
        Beq(_) | Bne(_) | Blt(_) | Bge(_) | Bltu(_) | Bgeu(_) | Sb(_) | Sh(_) | Sw(_) | Sd(_)
        | Fld(_) | Flw(_) | Fsd(_) | Fsw(_) | FmvDX(_) | FmvWX(_) => 0,
        _ => int_regs(inst)[0],
    }
}

fn x(r: u8) -> Mem {
    Mem::base(Reg::Rbp, off::x(r))
}

impl Gen {
    /// Copy guest register `r` into host `h`.
    fn get(&mut self, h: Reg, r: u8) {
        // Writes `h` only (see `fwd`).
        let kept = self.carry(Some(h), |g| match g.map[r as usize] {
            _ if r == 0 => g.a.mov_imm(h, 0),
            Some(c) => {
                if c != h {
                    g.a.mov_rr(W::B64, h, c)
                }
            }
            None => match g.fwd(r) {
                Some(f) if f == h => {}
                Some(f) => g.a.mov_rr(W::B64, h, f),
                None => g.a.load(W::B64, h, x(r)),
            },
        });
        if !kept {
            self.fwd_note(r, h);
        }
    }

    /// Guest register `r` for reading: its host register when cached,
    /// else loaded into `scratch`.
    fn src(&mut self, r: u8, scratch: Reg) -> Reg {
        match self.map[r as usize] {
            Some(c) if r != 0 => c,
            _ => {
                self.get(scratch, r);
                scratch
            }
        }
    }

    /// Write host `h` to guest register `r` (writes to x0 vanish).
    fn put(&mut self, r: u8, h: Reg) {
        match self.map[r as usize] {
            _ if r == 0 => {}
            Some(c) => {
                if c != h {
                    self.a.mov_rr(W::B64, c, h);
                }
                self.mark(r);
            }
            None => {
                self.a.store(W::B64, x(r), h);
                self.fwd_note(r, h);
            }
        }
    }

    /// The guest address `x[rs1] + imm` into `rsi`.
    fn addr(&mut self, rs1: u8, imm: i32) {
        match self.map[rs1 as usize] {
            Some(c) if rs1 != 0 => self.a.lea(W::B64, Reg::Rsi, Mem::base(c, imm)),
            _ => {
                self.get(Reg::Rsi, rs1);
                if imm != 0 {
                    self.a.alu_ri(W::B64, Alu::Add, Reg::Rsi, imm);
                }
            }
        }
    }

    /// Set guest register `r` to the constant `v`.
    fn put_imm(&mut self, r: u8, v: u64) {
        match self.map[r as usize] {
            _ if r == 0 => {}
            Some(c) => {
                self.a.mov_imm(c, v);
                self.mark(r);
            }
            // Unless the next instruction reads it: then in `rax` too
            // (see `fwd`).
            None if v as i64 == v as i32 as i64 && self.next_reads >> r & 1 == 0 => {
                self.a.store_imm(W::B64, x(r), v as i32);
            }
            None => {
                self.a.mov_imm(Reg::Rax, v);
                self.a.store(W::B64, x(r), Reg::Rax);
                self.fwd_note(r, Reg::Rax);
            }
        }
    }

    /// Store the dirty cached registers to the `Cpu` (before an exit or a
    /// helper call, so the `Cpu` holds the precise guest state).
    /// The pinned ones stay in their host registers (see `pinned`).
    fn write_back(&mut self) {
        self.qpend_exit();
        self.write_back_set(self.written & self.path & self.exit_mask());
        self.restore_homes();
    }

    /// [`Gen::write_back`] of the cached registers in `set` (and every
    /// cached f register the region writes).
    fn write_back_set(&mut self, set: u32) {
        // Only the registers in the set (an exit's is a few of them).
        for r in bits(set & self.cached & !1) {
            if let Some(c) = self.map[r as usize] {
                self.a.store(W::B64, x(r), c);
            }
        }
        self.f_write_back();
    }

    /// Load every cached register from the `Cpu` (at block entry, and after
    /// a helper call, which clobbers the caller-saved ones and may have
    /// written any guest register).
    fn reload_all(&mut self) {
        self.reload(true);
    }

    /// [`Gen::reload_all`], the pinned registers only when `with_pinned` (a
    /// region's entry finds them in place, see `pinned`).
    fn reload(&mut self, with_pinned: bool) {
        self.reload_but(with_pinned, 0);
    }

    /// [`Gen::reload`] but for the registers in `but` (see `deadload`).
    fn reload_but(&mut self, with_pinned: bool, but: u32) {
        let skip = but | if with_pinned { 1 } else { 1 | pinned::MASK };
        for r in bits(self.cached & !skip) {
            if let Some(c) = self.map[r as usize] {
                self.a.load(W::B64, c, x(r));
            }
        }
        self.f_reload_all();
    }

    /// Call helper trampoline `h` with the `Cpu` up to date; afterwards the
    /// cached registers are reloaded. The write-back and reload are the
    /// same everywhere in a region, so they live in one out-of-line thunk
    /// per helper (emitted with the cold code), keeping call sites short.
    fn call_helper(&mut self, h: Helper) -> Result<(), AsmError> {
        let l = match self.thunks[h as usize] {
            Some(l) => l,
            None => {
                let l = self.a.label();
                self.thunks[h as usize] = Some(l);
                l
            }
        };
        self.a.call_label(l);
        Ok(())
    }

    /// The thunks `call_helper` used: `rsp` is 8 off the 16-byte alignment
    /// inside (the call pushed the return address), so realign around the
    /// helper call.
    fn emit_thunks(&mut self) -> Result<(), AsmError> {
        for (i, t) in self.thunks.into_iter().enumerate() {
            let Some(l) = t else { continue };
            self.a.bind(l);
            self.a.alu_ri(W::B64, Alu::Sub, Reg::Rsp, 8);
            // Shared by every call site: all the region may write, and
            // the pinned registers, whose `Cpu` copies are stale.
            self.write_back_set(self.written | self.thunk_mask());
            self.a.call_abs(self.stubs.helpers[i])?;
            self.reload_all();
            self.a.alu_ri(W::B64, Alu::Add, Reg::Rsp, 8);
            self.a.ret();
        }
        Ok(())
    }

    /// The start of an out-of-line way out of the region at `label`
    /// (`Cold::Exit`, `Cold::Leave`): the pending quiet compare settled,
    /// `dirty` stored back, the pinned homes restored, `retired`
    /// instructions counted.
    fn leave_region_at(&mut self, label: Label, dirty: u32, retired: u32) {
        self.a.bind(label);
        self.qpend_exit();
        self.write_back_set(dirty);
        self.restore_homes();
        if retired != 0 {
            self.a.alu_ri(W::B64, Alu::Add, Reg::R14, retired as i32);
        }
    }

    fn retire(&mut self, n: u32) {
        if n != 0 {
            self.carry(None, |g| {
                g.a.alu_ri(W::B64, Alu::Add, Reg::R14, n as i32);
            });
        }
    }

    fn leave(&mut self, code: u64) -> Result<(), AsmError> {
        self.a.mov_imm(Reg::Rax, code);
        self.a.jmp_abs(self.stubs.exit)?;
        Ok(())
    }

    /// Leave for the dispatcher with `code`, `Cpu::pc` set to `pc`.
    fn leave_at(&mut self, pc: u64, code: u64) -> Result<(), AsmError> {
        self.a.mov_imm(Reg::Rax, pc);
        self.a.store(W::B64, Mem::base(Reg::Rbp, off::PC), Reg::Rax);
        self.leave(code)
    }

    /// Exit to guest `target` after `retired` instructions, through a
    /// chainable `jmp rel32` slot. The slot first jumps to the next byte: a
    /// call to the shared chain exit, followed by the target pc as data
    /// (the exit finds both through its return address).
    /// Continue at guest `target` after `retired` more instructions: a
    /// host jump when the region holds `target` (nothing at all when its
    /// block comes next), else a chainable exit.
    fn goto(&mut self, target: u64, retired: u32) -> Result<(), AsmError> {
        if let Some(&l) = self.labels.get(&target) {
            self.retire(retired);
            self.near_edge(target, None);
            if self.frm_edge(target) {
                self.frm_check_inline(target);
            }
            if self.next_start != Some(target) {
                self.a.jmp(l);
            }
            return Ok(());
        }
        self.exit_direct(target, retired)
    }

    fn exit_direct(&mut self, target: u64, retired: u32) -> Result<(), AsmError> {
        self.write_back();
        self.retire(retired);
        self.bare_slot(target)
    }

    /// Before the code leaves the current block for guest `pc` (the
    /// jump or branch ending it, or the next instruction), `index`
    /// instructions of it retired: keep the block-start invariant of
    /// `sp` and `tp` (see `bounds`). Each whose value the code does not
    /// know to be within `NEAR_SLACK` of the space is compared with
    /// `Ctx::mem_limit`; above it, the code stores back and leaves for
    /// the dispatcher at `pc` (not chainable: the dispatcher interprets
    /// while either is wild). A register the jump itself writes
    /// (`link`: its return address, inside the space) is left alone.
    fn near_check(&mut self, pc: u64, index: u32, link: u8) {
        for r in NEAR_REGS {
            if r == link || self.known.near(r) {
                continue;
            }
            let b = self.src(r, Reg::Rsi);
            self.cmp_limit(b);
            let label = self.a.label();
            self.a.jcc(Cond::A, label);
            self.cold.push(Cold::Leave {
                label,
                pc,
                dirty: self.written & self.path & self.exit_mask(),
                retired: index,
            });
            self.known.checked(r);
        }
    }

    /// A conditional exit to guest `target` taken on `c`, `retired`
    /// instructions still to add to `r14`: the jump goes to its
    /// store-back and chainable slot, emitted with the cold code.
    fn exit_cold(&mut self, c: Cond, target: u64, retired: u32) {
        let label = self.a.label();
        self.a.jcc(c, label);
        self.cold.push(Cold::Exit {
            label,
            target,
            dirty: self.written & self.path & self.exit_mask(),
            retired,
        });
    }

    /// Return prediction inside a region: an indirect jump (a `ret`, or
    /// any `jalr` that links nothing) whose target in `rax` is the return
    /// point of one of the region's calls traced through jumps straight
    /// to that block, with the guest registers still in host registers
    /// (the instructions are already retired). Exact, not a guess: the
    /// target is compared, so a mismatched return (`longjmp`, a changed
    /// `ra`) falls through to the lookup table. Only the first
    /// [`MAX_RETURNS`] return points are tried.
    fn predict_return(&mut self) {
        let returns = core::mem::take(&mut self.returns);
        for &back in returns.iter().take(MAX_RETURNS) {
            let l = self.labels[&back];
            if back as i64 == back as i32 as i64 {
                self.a.alu_ri(W::B64, Alu::Cmp, Reg::Rax, back as i32);
            } else {
                self.a.mov_imm(Reg::Rcx, back);
                self.a.alu_rr(W::B64, Alu::Cmp, Reg::Rax, Reg::Rcx);
            }
            self.a.jcc(Cond::E, l);
        }
        self.returns = returns;
    }

    /// Exit to the guest pc in `rax` after `retired` instructions: probe
    /// the indirect-jump table and jump straight there on a hit.
    fn exit_indirect(&mut self, retired: u32) -> Result<(), AsmError> {
        self.write_back();
        self.retire(retired);
        self.probe_indirect()
    }

    /// The probe of [`Gen::exit_indirect`] for guest pc `rax`, the guest
    /// state already stored; a miss stores `Cpu::pc` for the dispatcher
    /// (a hit's translation needs none: no translated code reads it). The slot of pc is `(pc >> 1) &
    /// (IND_ENTRIES - 1)`, 16 bytes each: as guest pcs are even, that is
    /// pc's bits 1 and up masked, scaled by 8 in the addressing mode (two
    /// host instructions fewer than shifting it down and up again).
    fn probe_indirect(&mut self) -> Result<(), AsmError> {
        self.a.mov_rr(W::B32, Reg::Rcx, Reg::Rax);
        self.a.alu_ri(
            W::B32,
            Alu::And,
            Reg::Rcx,
            ((crate::translate::backend::IND_ENTRIES - 1) << 1) as i32,
        );
        self.a
            .load(W::B64, Reg::Rdx, Mem::base(Reg::Rbp, off::IND_TABLE));
        let slot = |disp| Mem {
            base: Reg::Rdx,
            index: Some((Reg::Rcx, 3)),
            disp,
        };
        self.a.alu_rm(W::B64, Alu::Cmp, Reg::Rax, slot(0));
        let miss = self.a.label();
        self.a.jcc(Cond::Ne, miss);
        // A read-modify-write of memory at every hit: only when asked
        // (`Stubs::count_hits`).
        if self.stubs.count_hits {
            self.a
                .alu_mi(W::B64, Alu::Add, Mem::base(Reg::Rbp, off::IND_HITS), 1);
        }
        self.a.jmp_m(slot(8));
        self.a.bind(miss);
        self.a.store(W::B64, Mem::base(Reg::Rbp, off::PC), Reg::Rax);
        self.leave(exit::INDIRECT)
    }

    fn load(&mut self, i: I, h: Helper, gi: &GuestInst, index: u32) -> Result<(), AsmError> {
        if i.rd == 0 {
            // Still performed: it may fault.
            return self.load_to(i.rs1, i.imm, h, gi, index, Reg::Rax);
        }
        let d = self.work(i.rd, None);
        self.load_to(i.rs1, i.imm, h, gi, index, d)?;
        self.done(i.rd, d);
        Ok(())
    }

    /// Load through helper `h` from `x[rs1] + imm` into `dst` (the slow
    /// path, out of line, calls the checked helper; see `bounds`).
    fn load_to(
        &mut self,
        rs1: u8,
        imm: i32,
        h: Helper,
        gi: &GuestInst,
        index: u32,
        dst: Reg,
    ) -> Result<(), AsmError> {
        self.access(rs1, imm, h, bounds::Val::Int(dst), gi, index);
        Ok(())
    }

    /// Jump to `slow` unless the access of width `w` at guest address `rsi`
    /// may go straight to guest memory (`Gen::guest_mem`). With host faults, that is any access
    /// inside the reservation (the host's protection follows the guest's,
    /// and `host_fault` turns a fault into a precise guest fault);
    /// otherwise the page must be in the TLB with permission `need`.
    fn probe(&mut self, w: W, need: i32, slow: Label) {
        if self.stubs.host_faults {
            // Unsigned: a wild address fails too, so the host access stays
            // inside the reservation whatever the guest computed.
            self.cmp_limit(Reg::Rsi);
            self.a.jcc(Cond::A, slow);
        } else {
            self.tlb_probe(w, need, slow);
        }
    }

    /// Jump to `slow` unless the access of width `w` at guest address `rsi`
    /// lies inside a page the TLB allows `need` on. Clobbers rax, rcx.
    fn tlb_probe(&mut self, w: W, need: i32, slow: Label) {
        let n = match w {
            W::B8 => 1,
            W::B16 => 2,
            W::B32 => 4,
            W::B64 => 8,
        };
        let a = &mut self.a;
        a.mov_rr(W::B64, Reg::Rax, Reg::Rsi);
        a.shift_ri(W::B64, Shift::Shr, Reg::Rax, 12);
        a.mov_rr(W::B32, Reg::Rcx, Reg::Rax);
        a.alu_ri(W::B32, Alu::And, Reg::Rcx, (super::TLB_ENTRIES - 1) as i32);
        a.shift_ri(W::B32, Shift::Shl, Reg::Rcx, 4);
        let entry = |disp: i32| Mem {
            base: Reg::Rbp,
            index: Some((Reg::Rcx, 0)),
            disp: off::TLB + disp,
        };
        a.alu_rm(W::B64, Alu::Cmp, Reg::Rax, entry(0));
        a.jcc(Cond::Ne, slow);
        a.load(W::B32, Reg::Rax, entry(8));
        a.test_ri(W::B32, Reg::Rax, need);
        a.jcc(Cond::E, slow);
        if n > 1 {
            a.mov_rr(W::B32, Reg::Rax, Reg::Rsi);
            a.alu_ri(W::B32, Alu::And, Reg::Rax, 0xfff);
            a.alu_ri(W::B32, Alu::Cmp, Reg::Rax, 4096 - n);
            a.jcc(Cond::A, slow);
        }
    }

    fn store(&mut self, s: S, h: Helper, gi: &GuestInst, index: u32) -> Result<(), AsmError> {
        let v = if s.rs2 == 0 && matches!(h, Helper::StoreU32 | Helper::StoreU64) {
            bounds::Val::Zero
        } else {
            bounds::Val::Int(self.src(s.rs2, Reg::Rdx))
        };
        self.access(s.rs1, s.imm, h, v, gi, index);
        Ok(())
    }

    /// Register for computing guest register `rd`'s new value: its host
    /// register when cached (unless that is `avoid`'s, a source still to
    /// be read), else `rax`. Finish with [`Gen::done`].
    fn work(&mut self, rd: u8, avoid: Option<u8>) -> Reg {
        match self.map[rd as usize] {
            Some(c) if rd != 0 && avoid != Some(rd) => c,
            _ => Reg::Rax,
        }
    }

    /// `rd` now holds the value computed in `h` (from [`Gen::work`]).
    fn done(&mut self, rd: u8, h: Reg) {
        if h == Reg::Rax {
            self.put(rd, h);
        } else {
            self.mark(rd);
        }
    }

    /// `rd = rs1 op imm` in 64 (or 32, sign-extended) bits.
    fn alu_imm(&mut self, i: I, op: Alu, w: W) {
        if i.rd == 0 {
            return;
        }
        if i.rs1 == 0 && op == Alu::Add {
            // li
            return self.put_imm(i.rd, i.imm as i64 as u64);
        }
        if w == W::B64 && i.rd == i.rs1 && self.map[i.rd as usize].is_none() && self.in_place(i.rd)
        {
            // In the `Cpu` and updated in place: one read-modify-write.
            self.a.alu_mi(W::B64, op, x(i.rd), i.imm);
            return;
        }
        let d = self.work(i.rd, None);
        if op == Alu::Add && w == W::B32 && i.rs1 != 0 {
            // `addiw`: `sext.w` (imm 0) is one `movsxd`, from the source's
            // host register or straight from the `Cpu`; else the sum in 32
            // bits by `lea` (no copy of the source first), then `movsxd`.
            match self.map[i.rs1 as usize] {
                Some(c) if i.imm == 0 => self.a.movsxd(d, c),
                Some(c) => {
                    self.a.lea(W::B32, d, Mem::base(c, i.imm));
                    self.a.movsxd(d, d);
                }
                None if i.imm == 0 => match self.fwd(i.rs1) {
                    Some(f) => self.a.movsxd(d, f),
                    None => self.a.movsxd_m(d, x(i.rs1)),
                },
                None => {
                    self.get(d, i.rs1);
                    self.a.alu_ri(W::B32, Alu::Add, d, i.imm);
                    self.a.movsxd(d, d);
                }
            }
            return self.done(i.rd, d);
        }
        match self.map[i.rs1 as usize] {
            Some(c) if op == Alu::Add && w == W::B64 && i.rs1 != 0 => {
                self.a.lea(W::B64, d, Mem::base(c, i.imm));
            }
            _ => {
                self.get(d, i.rs1);
                self.a.alu_ri(w, op, d, i.imm);
            }
        }
        if w == W::B32 {
            self.a.movsxd(d, d);
        }
        self.done(i.rd, d);
        // `done` at most stored `d` (a `mov`, which keeps the flags).
        if w == W::B64 && matches!(op, Alu::And | Alu::Or | Alu::Xor) {
            self.flags = Some((d, self.a.pos()));
        }
    }

    fn shift_imm(&mut self, i: I, op: Shift, w: W) {
        if i.rd == 0 {
            return;
        }
        let d = self.work(i.rd, None);
        self.get(d, i.rs1);
        self.a.shift_ri(w, op, d, i.imm as u8);
        if w == W::B32 {
            self.a.movsxd(d, d);
        }
        self.done(i.rd, d);
    }

    fn alu_reg(&mut self, mut r: R, op: Alu, w: W) {
        if r.rd == 0 {
            return;
        }
        if r.rd == r.rs2 && matches!(op, Alu::Add | Alu::And | Alu::Or | Alu::Xor) {
            // Commutes: compute in place (`rd op= rs1`) rather than in a
            // scratch register with `rd` kept to be read.
            core::mem::swap(&mut r.rs1, &mut r.rs2);
        }
        if w == W::B64 {
            // x0 as an operand: a move (`mv` is `add rd, x0, rs`) or zero.
            match op {
                Alu::Add | Alu::Or | Alu::Xor if r.rs1 == 0 => return self.mov_reg(r.rd, r.rs2),
                Alu::Add | Alu::Or | Alu::Xor | Alu::Sub if r.rs2 == 0 => {
                    return self.mov_reg(r.rd, r.rs1);
                }
                Alu::And if r.rs1 == 0 || r.rs2 == 0 => return self.put_imm(r.rd, 0),
                _ => {}
            }
            // `rd` in the `Cpu` is also the first operand and the second
            // is in a host register: one read-modify-write.
            if r.rd == r.rs1
                && r.rs2 != r.rd
                && r.rs2 != 0
                && self.map[r.rd as usize].is_none()
                && self.in_place(r.rd)
                && let Some(b) = self.map[r.rs2 as usize]
            {
                self.a.alu_mr(W::B64, op, x(r.rd), b);
                return;
            }
        }
        if op == Alu::Add
            && w == W::B64
            && let (Some(d), Some(a), Some(b)) = (
                self.map[r.rd as usize],
                self.map[r.rs1 as usize],
                self.map[r.rs2 as usize],
            )
            && d != a
            && d != b
        {
            // Three host registers (none x0: it is never cached).
            self.a.lea(W::B64, d, Mem::indexed(a, b));
            self.mark(r.rd);
            return;
        }
        let d = self.work(r.rd, (r.rs1 != r.rs2).then_some(r.rs2));
        self.get(d, r.rs1);
        match self.map[r.rs2 as usize] {
            // The second operand straight from the `Cpu` (`d` is not
            // written back before this reads it).
            None if r.rs2 != 0 => match self.fwd(r.rs2) {
                Some(f) if f != d => self.a.alu_rr(w, op, d, f),
                _ => self.a.alu_rm(w, op, d, x(r.rs2)),
            },
            _ => {
                let b = self.src(r.rs2, Reg::Rcx);
                self.a.alu_rr(w, op, d, b);
            }
        }
        if w == W::B32 {
            self.a.movsxd(d, d);
        }
        self.done(r.rd, d);
    }

    fn shift_reg(&mut self, r: R, op: Shift, w: W) {
        if r.rd == 0 {
            return;
        }
        // x86 masks the count to 6 (5) bits, exactly as RISC-V does. The
        // count is copied first, so `rd` may be `rs2`.
        self.get(Reg::Rcx, r.rs2);
        let d = self.work(r.rd, None);
        self.get(d, r.rs1);
        self.a.shift_rcl(w, op, d);
        if w == W::B32 {
            self.a.movsxd(d, d);
        }
        self.done(r.rd, d);
    }

    fn set_cmp_imm(&mut self, i: I, c: Cond) {
        if i.rd == 0 {
            return;
        }
        self.get(Reg::Rax, i.rs1);
        self.a.mov_imm(Reg::Rcx, 0);
        self.a.alu_ri(W::B64, Alu::Cmp, Reg::Rax, i.imm);
        self.a.setcc(c, Reg::Rcx);
        self.put(i.rd, Reg::Rcx);
    }

    fn set_cmp_reg(&mut self, r: R, c: Cond) {
        if r.rd == 0 {
            return;
        }
        // Zeroed before the compare (`xor` changes the flags).
        self.carry(Some(Reg::Rdx), |g| g.a.mov_imm(Reg::Rdx, 0));
        let c = self.compare(r.rs1, r.rs2, c);
        self.a.setcc(c, Reg::Rdx);
        self.put(r.rd, Reg::Rdx);
    }

    fn mul(&mut self, r: R, w: W) {
        if r.rd == 0 {
            return;
        }
        if let Some(p) = self.div_pair.take() {
            // With its high half (see `pair`): signed as that is.
            let signed = matches!(p.high, Some(true));
            return self.mul_both(r, false, signed, p);
        }
        let d = self.work(r.rd, (r.rs1 != r.rs2).then_some(r.rs2));
        self.get(d, r.rs1);
        let b = self.src(r.rs2, Reg::Rcx);
        self.a.imul_rr(w, d, b);
        if w == W::B32 {
            self.a.movsxd(d, d);
        }
        self.done(r.rd, d);
    }

    /// `rd = rs` (`rd` is not x0).
    fn mov_reg(&mut self, rd: u8, rs: u8) {
        if rs == 0 {
            return self.put_imm(rd, 0);
        }
        match self.map[rd as usize] {
            Some(c) => {
                self.get(c, rs);
                self.mark(rd);
            }
            None => {
                let v = self.src(rs, Reg::Rax);
                self.a.store(W::B64, x(rd), v);
                self.fwd_note(rd, v);
            }
        }
    }

    /// High half of the 128-bit product: signed x signed, unsigned x
    /// unsigned, or signed x unsigned.
    fn mulh(&mut self, r: R, kind: u8) {
        if r.rd == 0 {
            return;
        }
        if let Some(p) = self.div_pair.take() {
            // With its low half (see `pair`; never `mulhsu`).
            return self.mul_both(r, true, kind == 0, p);
        }
        self.get(Reg::Rax, r.rs1);
        self.get(Reg::Rcx, r.rs2);
        match kind {
            0 => self.a.unary(W::B64, Unary::Imul, Reg::Rcx),
            1 => self.a.unary(W::B64, Unary::Mul, Reg::Rcx),
            _ => {
                // hi_su(a, b) = hi_uu(a, b) - (a < 0 ? b : 0)
                self.a.unary(W::B64, Unary::Mul, Reg::Rcx);
                self.get(Reg::Rax, r.rs1);
                self.a.shift_ri(W::B64, Shift::Sar, Reg::Rax, 63);
                self.a.alu_rr(W::B64, Alu::And, Reg::Rax, Reg::Rcx);
                self.a.alu_rr(W::B64, Alu::Sub, Reg::Rdx, Reg::Rax);
            }
        }
        self.put(r.rd, Reg::Rdx);
    }

    /// Division and remainder with RISC-V's results for the cases x86
    /// traps on: divisor 0 (quotient all ones, remainder the dividend) and
    /// signed overflow MIN / -1 (quotient MIN, remainder 0). x86's `div`
    /// computes both: when [`div_partner`] found the other half of the
    /// pair a few instructions on (`Gen::div_pair`), that result is kept
    /// in `Ctx` for it (`Gen::div_take`), so a quotient and remainder of
    /// the same operands cost one division.
    fn div(&mut self, r: R, signed: bool, rem: bool, w: W) {
        let pair = self.div_pair.take();
        if r.rd == 0 {
            return;
        }
        self.get(Reg::Rax, r.rs1);
        self.get(Reg::Rcx, r.rs2);
        if !signed {
            // Through the divisor cache (see `divcache`).
            self.udiv_cached(w, rem || pair.is_some());
        }
        let a = &mut self.a;
        if signed {
            let zero = a.label();
            let done = a.label();
            a.test_rr(w, Reg::Rcx, Reg::Rcx);
            a.jcc(Cond::E, zero);
            let normal = a.label();
            a.alu_ri(w, Alu::Cmp, Reg::Rcx, -1);
            a.jcc(Cond::Ne, normal);
            // x / -1 = -x (wrapping), x % -1 = 0.
            a.unary(w, Unary::Neg, Reg::Rax);
            a.mov_imm(Reg::Rdx, 0);
            a.jmp(done);
            a.bind(normal);
            a.cqo(w);
            a.unary(w, Unary::Idiv, Reg::Rcx);
            a.jmp(done);
            a.bind(zero);
            a.mov_rr(W::B64, Reg::Rdx, Reg::Rax);
            a.mov_imm(Reg::Rax, u64::MAX);
            a.bind(done);
        }
        // Quotient in rax, remainder in rdx.
        let (mine, other) = if rem {
            (Reg::Rdx, Reg::Rax)
        } else {
            (Reg::Rax, Reg::Rdx)
        };
        if w == W::B32 {
            a.movsxd(mine, mine);
        }
        if let Some(p) = pair {
            if w == W::B32 {
                a.movsxd(other, other);
            }
            if p.early {
                self.put(p.rd, other);
            } else {
                a.store(W::B64, Mem::base(Reg::Rbp, off::DIV_OTHER), other);
            }
            self.div_partner = Some(p);
        }
        self.put(r.rd, mine);
    }

    /// The partner of a fused division (see [`Gen::div`]): its result was
    /// computed and kept already.
    fn div_take(&mut self, p: pair::Pair) {
        self.div_partner = None;
        let rd = p.rd;
        if rd != 0 && !p.early {
            self.a
                .load(W::B64, Reg::Rax, Mem::base(Reg::Rbp, off::DIV_OTHER));
            self.put(rd, Reg::Rax);
        }
    }

    fn branch(&mut self, s: S, c: Cond, gi: &GuestInst, index: u32) -> Result<(), AsmError> {
        let target = gi.pc.wrapping_add(s.imm as i64 as u64);
        let next = gi.pc + gi.len as u64;
        // The one way on inside the region when the other leaves it (the
        // way out was never seen taken, the region holding the blocks
        // that ran): that exit goes out of line, so the path that runs
        // falls through (with the block taken to next, the other way
        // round).
        let on = match (self.labels.get(&target), self.labels.get(&next)) {
            (None, Some(_)) => Some(next),
            (Some(_), None) if self.next_start == Some(target) => Some(target),
            _ => None,
        };
        // Count the block first: `add` must not come between the compare
        // and the jump, and both ways retire the same instructions. Or
        // not at all, when the way on is the next block and may start
        // with the count pending (see `pending`): the exit adds it.
        let carry = on.is_some_and(|pc| self.next_start == Some(pc) && self.carries(pc));
        let (pending, now) = if carry {
            (index + 1, 0)
        } else {
            (0, index + 1)
        };
        self.retire(now);
        let c = self.compare(s.rs1, s.rs2, c);
        if let Some(on) = on {
            let (c, out) = if on == next {
                (c, target)
            } else {
                (c.inverse(), next)
            };
            self.exit_cold(c, out, pending);
            self.carry_out = pending;
            return self.goto(on, 0);
        }
        match self.labels.get(&target) {
            Some(&l) => {
                let l = self.frm_branch_to(l, target);
                let l = self.near_branch_to(l, target);
                self.a.jcc(c, l);
                self.goto(next, 0)
            }
            // Neither way in the region (the other cases are above).
            None => {
                let taken = self.a.label();
                self.a.jcc(c, taken);
                self.exit_direct(next, 0)?;
                self.a.bind(taken);
                self.exit_direct(target, 0)
            }
        }
    }

    /// Emit one instruction of the table's `inline` rows; returns whether
    /// it ended the block, or `None` for the others (`float` and `step`
    /// rows, which the caller hands to [`Gen::float`] or the step helper).
    fn inst(
        &mut self,
        gi: &GuestInst,
        index: u32,
        steps: &mut Vec<StepInst>,
    ) -> Result<Option<bool>, AsmError> {
        use Inst::*;
        let pc = gi.pc;
        let next = pc + gi.len as u64;
        match gi.inst {
            Lui(u) => {
                self.put_imm(u.rd, u.imm as i64 as u64);
            }
            Auipc(u) => {
                self.put_imm(u.rd, pc.wrapping_add(u.imm as i64 as u64));
            }
            Jal(u) => {
                self.put_imm(u.rd, next);
                let target = pc.wrapping_add(u.imm as i64 as u64);
                if ras::is_link(u.rd) && self.labels.get(&target).is_none() {
                    self.call_direct(target, next, index + 1)?;
                } else {
                    self.goto(target, index + 1)?;
                }
                return Ok(Some(true));
            }
            Jalr(i) => {
                // A return out of a region with no return points, its link
                // register in a host register that the write-back leaves
                // alone (see `pinned`): compared as it is.
                if i.rd == 0
                    && i.imm == 0
                    && ras::is_link(i.rs1)
                    && self.returns.is_empty()
                    && self.pin
                    && let Some(h) = self.map[i.rs1 as usize]
                {
                    self.exit_return_in(h, index + 1)?;
                    return Ok(Some(true));
                }
                // The target uses the old rs1 (rd may equal rs1).
                self.get(Reg::Rax, i.rs1);
                if i.imm != 0 {
                    self.a.alu_ri(W::B64, Alu::Add, Reg::Rax, i.imm);
                }
                self.a.alu_ri(W::B64, Alu::And, Reg::Rax, -2);
                if i.rd != 0 {
                    self.a.mov_imm(Reg::Rcx, next);
                    self.put(i.rd, Reg::Rcx);
                }
                let ret = i.rd == 0 && ras::is_link(i.rs1);
                if i.rd == 0 && !self.returns.is_empty() {
                    self.retire(index + 1);
                    self.predict_return();
                    if ret {
                        self.exit_return(0)?;
                    } else {
                        self.exit_indirect(0)?;
                    }
                } else if ret {
                    self.exit_return(index + 1)?;
                } else {
                    self.exit_indirect(index + 1)?;
                }
                return Ok(Some(true));
            }
            Beq(s) => return self.branch(s, Cond::E, gi, index).map(|()| Some(true)),
            Bne(s) => return self.branch(s, Cond::Ne, gi, index).map(|()| Some(true)),
            Blt(s) => return self.branch(s, Cond::L, gi, index).map(|()| Some(true)),
            Bge(s) => return self.branch(s, Cond::Ge, gi, index).map(|()| Some(true)),
            Bltu(s) => return self.branch(s, Cond::B, gi, index).map(|()| Some(true)),
            Bgeu(s) => return self.branch(s, Cond::Ae, gi, index).map(|()| Some(true)),
            Lb(i) => self.load(i, Helper::LoadI8, gi, index)?,
            Lh(i) => self.load(i, Helper::LoadI16, gi, index)?,
            Lw(i) => self.load(i, Helper::LoadI32, gi, index)?,
            Ld(i) => self.load(i, Helper::LoadU64, gi, index)?,
            Lbu(i) => self.load(i, Helper::LoadU8, gi, index)?,
            Lhu(i) => self.load(i, Helper::LoadU16, gi, index)?,
            Lwu(i) => self.load(i, Helper::LoadU32, gi, index)?,
            Sb(s) => self.store(s, Helper::StoreU8, gi, index)?,
            Sh(s) => self.store(s, Helper::StoreU16, gi, index)?,
            Sw(s) => self.store(s, Helper::StoreU32, gi, index)?,
            Sd(s) => self.store(s, Helper::StoreU64, gi, index)?,
            Addi(i) => self.alu_imm(i, Alu::Add, W::B64),
            Slti(i) => self.set_cmp_imm(i, Cond::L),
            Sltiu(i) => self.set_cmp_imm(i, Cond::B),
            Xori(i) => self.alu_imm(i, Alu::Xor, W::B64),
            Ori(i) => self.alu_imm(i, Alu::Or, W::B64),
            Andi(i) => self.alu_imm(i, Alu::And, W::B64),
            Slli(i) => self.shift_imm(i, Shift::Shl, W::B64),
            Srli(i) => self.shift_imm(i, Shift::Shr, W::B64),
            Srai(i) => self.shift_imm(i, Shift::Sar, W::B64),
            Addiw(i) => self.alu_imm(i, Alu::Add, W::B32),
            Slliw(i) => self.shift_imm(i, Shift::Shl, W::B32),
            Srliw(i) => self.shift_imm(i, Shift::Shr, W::B32),
            Sraiw(i) => self.shift_imm(i, Shift::Sar, W::B32),
            Add(r) => self.alu_reg(r, Alu::Add, W::B64),
            Sub(r) => self.alu_reg(r, Alu::Sub, W::B64),
            Sll(r) => self.shift_reg(r, Shift::Shl, W::B64),
            Slt(r) => self.set_cmp_reg(r, Cond::L),
            Sltu(r) => self.set_cmp_reg(r, Cond::B),
            Xor(r) => self.alu_reg(r, Alu::Xor, W::B64),
            Srl(r) => self.shift_reg(r, Shift::Shr, W::B64),
            Sra(r) => self.shift_reg(r, Shift::Sar, W::B64),
            Or(r) => self.alu_reg(r, Alu::Or, W::B64),
            And(r) => self.alu_reg(r, Alu::And, W::B64),
            Addw(r) => self.alu_reg(r, Alu::Add, W::B32),
            Subw(r) => self.alu_reg(r, Alu::Sub, W::B32),
            Sllw(r) => self.shift_reg(r, Shift::Shl, W::B32),
            Srlw(r) => self.shift_reg(r, Shift::Shr, W::B32),
            Sraw(r) => self.shift_reg(r, Shift::Sar, W::B32),
            // x86-64 is TSO: loads are not reordered with loads, stores not
            // with stores, and a store not with an earlier load, so the only
            // RVWMO fence that needs host code is one ordering earlier stores
            // before later loads (pred has W, succ has R; `fence rw,rw`,
            // `fence w,r`); `fence.tso` (fm=8) never does.
            Fence(f) => {
                if f.fm != 8 && f.pred & 1 != 0 && f.succ & 2 != 0 {
                    self.a.mfence();
                }
            }
            Mul(r) => self.mul(r, W::B64),
            Mulh(r) => self.mulh(r, 0),
            Mulhu(r) => self.mulh(r, 1),
            Mulhsu(r) => self.mulh(r, 2),
            Div(r) => self.div(r, true, false, W::B64),
            Divu(r) => self.div(r, false, false, W::B64),
            Rem(r) => self.div(r, true, true, W::B64),
            Remu(r) => self.div(r, false, true, W::B64),
            Mulw(r) => self.mul(r, W::B32),
            Divw(r) => self.div(r, true, false, W::B32),
            Divuw(r) => self.div(r, false, false, W::B32),
            Remw(r) => self.div(r, true, true, W::B32),
            Remuw(r) => self.div(r, false, true, W::B32),
            LrW(_) | ScW(_) | AmoswapW(_) | AmoaddW(_) | AmoxorW(_) | AmoandW(_) | AmoorW(_)
            | AmominW(_) | AmomaxW(_) | AmominuW(_) | AmomaxuW(_) | LrD(_) | ScD(_)
            | AmoswapD(_) | AmoaddD(_) | AmoxorD(_) | AmoandD(_) | AmoorD(_) | AmominD(_)
            | AmomaxD(_) | AmominuD(_) | AmomaxuD(_) => self.atomic(gi, index, steps)?,
            crate::decode::not_inline!() => return Ok(None),
        }
        Ok(Some(false))
    }

    /// A call to the single-step fallback for a non-inline instruction.
    fn step(
        &mut self,
        gi: &GuestInst,
        index: u32,
        steps: &mut Vec<StepInst>,
    ) -> Result<(), AsmError> {
        let idx = steps.len() as u64;
        steps.push(StepInst {
            inst: gi.inst,
            len: gi.len,
            pc: gi.pc,
            index,
        });
        // It may write an f register with anything (or a CSR).
        self.fboxed = 0;
        self.frm_rne = false;
        self.step_call(gi, index, idx)
    }

    /// Call the step helper on fallback instruction `idx` (of `gi`), and
    /// leave through the trap or code-change exit if it says so.
    fn step_call(&mut self, gi: &GuestInst, index: u32, idx: u64) -> Result<(), AsmError> {
        self.a.mov_imm(Reg::Rsi, idx);
        self.call_helper(Helper::Step)?;
        let label = self.a.label();
        self.a.test_rr(W::B64, Reg::Rax, Reg::Rax);
        self.a.jcc(Cond::Ne, label);
        self.cold.push(Cold::Step {
            label,
            gi: *gi,
            index,
        });
        Ok(())
    }

    fn emit_cold(&mut self) -> Result<(), AsmError> {
        // Slow paths add fault exits of their own: go until none is left,
        // a batch at a time (each in the order it was added). The two
        // buffers trade places and keep their room for the next region
        // (see `Scratch`): taking the list left an empty one to grow,
        // here and again in the next region.
        let mut batch = core::mem::take(&mut self.cold_batch);
        while !self.cold.is_empty() {
            core::mem::swap(&mut batch, &mut self.cold);
            self.emit_cold_once(&mut batch)?;
        }
        self.cold_batch = batch;
        Ok(())
    }

    fn emit_cold_once(&mut self, batch: &mut Vec<Cold>) -> Result<(), AsmError> {
        for c in batch.drain(..) {
            match c {
                Cold::F(c) => self.emit_cold_f(c)?,
                Cold::Div(c) => self.emit_cold_div(c),
                Cold::FrmEdge(e) => self.emit_frm_edge(e)?,
                Cold::NearEdge(e) => self.emit_near_edge(e)?,
                Cold::StepBack {
                    label,
                    back,
                    gi,
                    index,
                    step,
                } => {
                    self.a.bind(label);
                    self.side_cold(&gi, index);
                    self.step_call(&gi, index, step)?;
                    self.a.jmp(back);
                }
                Cold::Access(a) => self.emit_slow(a)?,
                Cold::Slot { label, target } => {
                    self.a.bind(label);
                    self.bare_slot(target)?;
                }
                Cold::Exit {
                    label,
                    target,
                    dirty,
                    retired,
                } => {
                    self.leave_region_at(label, dirty, retired);
                    self.bare_slot(target)?;
                }
                Cold::Leave {
                    label,
                    pc,
                    dirty,
                    retired,
                } => {
                    self.leave_region_at(label, dirty, retired);
                    self.leave_at(pc, exit::NEXT)?;
                }
                Cold::Fault { label, gi, index } => {
                    self.a.bind(label);
                    self.side_cold(&gi, index);
                    self.restore_homes();
                    self.host_exit(self.stubs.fault_exit)?;
                }
                Cold::Store { label, gi, index } => {
                    self.a.bind(label);
                    self.side_cold(&gi, index);
                    self.restore_homes();
                    let fault = self.a.label();
                    self.a
                        .alu_ri(W::B32, Alu::Cmp, Reg::Rax, super::store::FAULT as i32);
                    self.a.jcc(Cond::E, fault);
                    self.host_exit(self.stubs.code_exit)?;
                    self.a.bind(fault);
                    self.host_exit(self.stubs.fault_exit)?;
                }
                Cold::Step { label, gi, index } => {
                    self.a.bind(label);
                    self.side_cold(&gi, index);
                    self.restore_homes();
                    let trap = self.a.label();
                    self.a
                        .alu_ri(W::B32, Alu::Cmp, Reg::Rax, super::store::FAULT as i32);
                    self.a.jcc(Cond::E, trap);
                    self.host_exit(self.stubs.code_exit)?;
                    self.a.bind(trap);
                    self.host_exit(self.stubs.trap_exit)?;
                }
                Cold::Promote { label, gi } => {
                    self.a.bind(label);
                    self.side_cold(&gi, 0);
                    self.host_exit(self.stubs.promote_exit)?;
                }
                Cold::Budget { label, gi, dirty } => {
                    self.a.bind(label);
                    self.write_back_set(dirty);
                    self.restore_homes();
                    self.side_cold(&gi, 0);
                    self.host_exit(self.stubs.budget_exit)?;
                }
            }
        }
        Ok(())
    }

    /// The [`ALLOC`] slots of the guest registers in `set` (cached ones),
    /// as a `SideEntry::invalid` mask.
    fn slots(&self, set: u32) -> u16 {
        bits(set)
            .filter_map(|r| self.map[r as usize])
            .filter_map(|h| ALLOC.iter().position(|&a| a == h))
            .fold(0, |m, s| m | 1 << s)
    }

    /// Side entry for out-of-line code of instruction `gi`.
    fn side_cold(&mut self, gi: &GuestInst, index: u32) {
        self.side.push(SideEntry {
            host_off: self.a.pos() as u32,
            guest_pc: gi.pc,
            index,
            len: gi.len,
            invalid: 0,
        });
    }

    /// Go to a shared exit with `rax` = a host address covered by the
    /// current side entry.
    fn host_exit(&mut self, stub: u64) -> Result<(), AsmError> {
        self.a.lea_rip(Reg::Rax);
        self.a.jmp_abs(stub)?;
        Ok(())
    }
}

#[cfg(test)]
mod alloc_tests {
    use super::*;
    use crate::translate::tests::block;
    use crate::translate::tests::rv::*;

    /// A hot path using `s6` three times and a rare case using four
    /// other registers four times each: by heat, `s6` gets a host
    /// register; counted alike (no profile), the rare case's four take
    /// the two left beside the pinned ones.
    #[test]
    fn the_hot_paths_registers_win_by_heat() {
        let hot = block(0x100, &[addi(22, 22, 1), bne(22, 0, 0x40)]);
        let rare = block(
            0x108,
            &[
                add(18, 19, 20),
                add(21, 18, 19),
                add(20, 21, 18),
                add(19, 20, 21),
                add(18, 19, 20),
                add(21, 18, 19),
            ],
        );
        let blocks: [&[GuestInst]; 2] = [&hot, &rare];
        let weights = [1, 1];
        let (map, pin) = allocate(&blocks, &weights, &[16, 1], false);
        assert!(pin);
        assert!(map[22].is_some(), "{map:?}");
        let (map, _) = allocate(&blocks, &weights, &[1, 1], false);
        assert!(map[22].is_none(), "{map:?}");
    }
}
