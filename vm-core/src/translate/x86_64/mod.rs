//! The x86-64 back end: the assembler ([`encode`]), the RISC-V to x86-64
//! code generator ([`codegen`]), and the run-time glue they share: the
//! x86-64 part of the context block ([`Part`]; the block itself and the
//! exit codes are the front end's, see [`crate::translate::backend`]), the
//! fixed entry/exit code at the start of the code cache, the
//! memory-access helpers, chaining and the host fault handler. [`X86_64`]
//! implements [`Backend`] with them; nothing else names this module's
//! items (but the bare-metal host's self-test, which asks
//! [`host_has_fma`]).
//!
//! Register convention inside translated code:
//! * `rbp` = `*mut Ctx` + [`CPU_BIAS`]: the context block ([`Ctx`]),
//!   which begins with the guest registers (`Ctx::guest`, the `Cpu` the
//!   run works on; the bias puts all 32 integer registers in reach of a
//!   one-byte displacement), so one register reaches both;
//! * `r12` = host address of guest address 0, unless that address is
//!   below 2 GiB ([`low_disp`]): guest accesses then carry it as their
//!   32-bit displacement, and `r12` is one more register for guest
//!   registers ([`codegen::ALLOC`]; see `codegen/bounds.rs`);
//! * `r14` = the guest's `instret` (the `Cpu` copy is stored by the exit
//!   code and by the helper trampolines);
//! * [`codegen::ALLOC`] (`r8`-`r11`, `r13`, `r15`, `rbx`, `rdi`, and `r12` as above) hold the block's
//!   hottest guest registers (see `codegen`); `r13`, `r15` and `r8` hold
//!   `sp`, `ra` and `a0`, `rbx` and `r9` hold `a5` and `a4`, and `r11`
//!   holds `s1`, in every translation (pinned: loaded by the entry
//!   code, stored by the exit code, see `codegen/pinned.rs`);
//! * xmm2-xmm15 hold the region's hottest F/D registers (see
//!   `codegen::fcache`); xmm0 and xmm1 are scratch;
//! * `rax`, `rcx`, `rdx`, `rsi` are scratch. `rsp` is 16-byte aligned, so
//!   helpers are called directly; below the entry code's frame it holds
//!   the return frames of guest calls (16 bytes each, see `codegen/ras.rs`),
//!   which the exit code drops.

pub mod codegen;
pub mod encode;

use crate::cpu::Cpu;
use crate::memory::{GuestMemory, PAGE_SIZE};
use crate::translate::backend::{Backend, Emitted, GuestInst, HostAccess, StepInst, exit};
use encode::{Asm, Mem, Reg, W};

/// MXCSR with every exception masked, round to nearest, no flags: the
/// x86-64 ABI default, which the inline F/D code runs under. Its sticky
/// exception flags stand for `fflags` while translated code runs (PE for
/// NX, UE for UF, OE for OF, ZE for DZ, IE for NV; DE, the denormal
/// operand flag, has no RISC-V twin and is ignored): the exit code and
/// [`step_helper`] fold them into `Cpu::fflags` ([`mxcsr_fflags`]).
pub const MXCSR_DEFAULT: u32 = 0x1f80;

/// MXCSR's precision (inexact) flag.
pub const MXCSR_PE: u32 = 1 << 5;

/// MXCSR's exception flags other than PE and DE (IE, ZE, OE, UE): rare in
/// translated code, so the inline `fflags` accesses fold them out of line.
pub const MXCSR_RARE: u32 = 0x1d;

/// The `fflags` that MXCSR value `m`'s exception flags stand for.
pub const fn mxcsr_fflags(m: u32) -> u32 {
    ((m >> 5) & 1) | ((m >> 3) & 2) | ((m >> 1) & 4) | ((m << 1) & 8) | ((m << 4) & 16)
}

/// Code for [`mxcsr_fflags`]: `out` = the fflags of the MXCSR value in
/// `m` (kept); `tmp` is clobbered. All three registers distinct.
pub(crate) fn emit_mxcsr_fflags(a: &mut Asm, m: Reg, out: Reg, tmp: Reg) {
    use encode::{Alu, Shift};
    a.mov_rr(W::B32, out, m);
    a.shift_ri(W::B32, Shift::Shr, out, 5);
    a.alu_ri(W::B32, Alu::And, out, 1);
    for (shift, right, bit) in [(3, true, 2), (1, true, 4), (1, false, 8), (4, false, 16)] {
        a.mov_rr(W::B32, tmp, m);
        let op = if right { Shift::Shr } else { Shift::Shl };
        a.shift_ri(W::B32, op, tmp, shift);
        a.alu_ri(W::B32, Alu::And, tmp, bit);
        a.alu_rr(W::B32, Alu::Or, out, tmp);
    }
}

/// The host's MXCSR.
fn read_mxcsr() -> u32 {
    let mut v = 0u32;
    // SAFETY: `stmxcsr` only stores the 4-byte MXCSR to the local `v`.
    unsafe {
        core::arch::asm!("stmxcsr [{}]", in(reg) &mut v, options(nostack, preserves_flags));
    }
    v
}

/// Reset the host's MXCSR to [`MXCSR_DEFAULT`] (clearing accrued flags)
/// if it is not that already.
fn clean_mxcsr() {
    if read_mxcsr() != MXCSR_DEFAULT {
        let v = MXCSR_DEFAULT;
        // SAFETY: loads the default control state Rust code assumes (all
        // exceptions masked, round to nearest, no FTZ/DAZ), so nothing
        // that follows computes differently; only sticky flags change.
        unsafe {
            core::arch::asm!("ldmxcsr [{}]", in(reg) &v, options(nostack, preserves_flags, readonly));
        }
    }
}

/// `rbp` points this far into the [`Ctx`] (whose first field is the
/// `Cpu`).
pub const CPU_BIAS: i32 = 128;

/// The x86-64 back end (see the module documentation).
#[derive(Clone, Copy, Debug)]
pub struct X86_64;

/// The context block as x86-64 translated code sees it (through `rbp`).
pub type Ctx = crate::translate::backend::Ctx<X86_64>;

/// The x86-64 part of the context block ([`Backend::CtxPart`]).
#[derive(Debug)]
#[repr(C)]
pub struct Part {
    /// The default MXCSR with no exception flags (`0x1f80`), loaded by
    /// the entry code and wherever accrued host flags must go.
    pub mxcsr_clean: u32,
    /// Scratch for `stmxcsr`.
    pub mxcsr_tmp: u32,
    /// MXCSR as a fused quiet compare found it, and the guest register
    /// that compare left pending (0: none); see `codegen/qpend.rs`.
    pub quiet_mxcsr: u32,
    pub quiet_reg: u32,
    /// The other result of a fused division (see `codegen`'s
    /// `Gen::div`), kept from the first instruction of the pair to its
    /// partner a few instructions on.
    pub div_other: u64,
    /// Reciprocals of recent unsigned divisors (see `codegen`'s
    /// `divcache`), one slot per group of division sites.
    pub div_cache: [DivSlot; DIV_SLOTS],
    /// Pages recently checked by a helper (see [`TlbEntry`]).
    pub tlb: [TlbEntry; TLB_ENTRIES],
    /// `GuestMemory::perm_stamp` of the memory when `tlb` was last
    /// emptied (0: never).
    pub tlb_stamp: u64,
    /// Where [`host_fault`] resumes: the shared fault exit.
    pub fault_exit: u64,
    /// The host stack pointer of the entry code's frame: every exit goes
    /// back to it, dropping the return frames of `codegen/ras.rs`.
    pub entry_rsp: u64,
    /// The lowest host stack pointer at which a guest call still pushes a
    /// return frame (see `codegen/ras.rs`).
    pub ras_floor: u64,
}

/// The 32-bit displacement by which translated code addresses a guest
/// memory whose guest address 0 is at host address `mem_base`, when there
/// is one: `[reg + mem_base + imm]` for every guest offset `imm` (at
/// most 2 KiB either way), so `r12` is free for a guest register.
/// `None` (the memory base lives in `r12`) when `mem_base` is 2 GiB or
/// more, out of a displacement's reach.
pub fn low_disp(mem_base: u64) -> Option<i32> {
    // Room for the largest offset of an access on either side.
    const ROOM: u64 = 4096;
    (mem_base >= ROOM && mem_base <= i32::MAX as u64 - ROOM).then_some(mem_base as i32)
}

/// Slots of [`Part::div_cache`] (a power of two).
pub const DIV_SLOTS: usize = 64;

/// A divisor and its reciprocal, so that translated code divides by it
/// with a multiply (see `codegen`'s `divcache`). `d` 0: empty (no
/// division by 0 looks here). Each thread has its own, filled only by its
/// own translated code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct DivSlot {
    /// The divisor (2 or more), or 0.
    pub d: u64,
    /// `floor(2^64 * (2^l - d) / d) + 1`, where `l = ceil(log2(d))`.
    pub m: u64,
    /// `l - 1`.
    pub shift: u64,
    /// The divisor of the last miss: a divisor seen twice in a row is
    /// made the slot's.
    pub cand: u64,
    /// Scratch for the fill: the division's results.
    pub tmp: [u64; 2],
}

impl DivSlot {
    /// No divisor.
    pub const EMPTY: DivSlot = DivSlot {
        d: 0,
        m: 0,
        shift: 0,
        cand: 0,
        tmp: [0; 2],
    };
}

/// Handle a host memory fault raised by translated code: the host's fault
/// handler calls this when the faulting instruction pointer `rip` lies in
/// a code cache (memory from `HostOs::alloc_code`). `regs` are the
/// interrupted general registers by hardware number (`rax` = 0 ... `r15` =
/// 15), `addr` the faulting host address and `write` whether the access
/// was a write.
///
/// When the fault is a guest memory access of a live translation, this
/// stores the guest registers cached in host registers back to the `Cpu`
/// (so it holds the precise state before the faulting instruction),
/// records the fault in the `Ctx`, sets `regs` for the shared fault exit
/// and returns the host address to resume at. Otherwise it returns `None`
/// and changes nothing: the fault is a real host crash.
///
/// # Safety
/// `rip` must be inside a code cache of this process and `regs` the
/// registers of the thread that faulted there, so `rbp` holds that
/// thread's live `Ctx` plus [`CPU_BIAS`] (translated code keeps it there
/// throughout).
pub unsafe fn host_fault(regs: &mut [u64; 16], rip: u64, access: HostAccess) -> Option<u64> {
    let ctx = regs[Reg::Rbp as usize].checked_sub(CPU_BIAS as u64)? as *mut Ctx;
    if ctx.is_null() {
        return None;
    }
    // SAFETY: per the contract, rbp is the faulting thread's `Ctx`, which
    // the dispatcher borrowed for the whole run of translated code; nothing
    // else uses it while that thread is stopped in its fault handler.
    let ctx = unsafe { &mut *ctx };
    if ctx.blocks.is_null() || ctx.mem.is_null() || ctx.cpu.is_null() {
        return None;
    }
    // SAFETY: the translation list, memory and Cpu pointers are the run's
    // (set by the dispatcher before entering translated code), alive for
    // the run. Other threads may append translations meanwhile (the list
    // allows that) but none is removed while this thread runs translated
    // code (a flush waits until no thread does).
    let (blocks, mem, cpu) = unsafe { (&*ctx.blocks, &*ctx.mem, &mut *ctx.cpu) };
    // Inside the reservation, or in a guard region around it (an access
    // whose base was checked before, see `codegen/bounds.rs`): the guest
    // address is what the guest computed, wrapping.
    let guest = access.addr.wrapping_sub(ctx.mem_base);
    if guest >= mem.size() && !mem.in_guard(guest) {
        return None;
    }
    let (t, e) = crate::cache::find_host(blocks, ctx.cache_base, rip)?;
    for (slot, &r) in t.regs.iter().enumerate().take(codegen::ALLOC.len()) {
        // A slot not loaded yet: the `Cpu` copy is the value (see
        // `codegen/deadload.rs`).
        if r != 0 && e.invalid >> slot & 1 == 0 {
            cpu.x[r as usize] = regs[codegen::ALLOC[slot] as usize];
        }
    }
    ctx.host_fault = Some(HostAccess {
        addr: guest,
        ..access
    });
    regs[Reg::Rax as usize] = rip;
    // The guest's f registers cached in xmm registers are stored by the
    // translation's own fault stub (the interrupted xmm registers are
    // intact when the handler returns), which then goes to the fault exit.
    if t.fault_resume != 0 {
        return Some(ctx.cache_base + (t.host_off + t.fault_resume) as u64);
    }
    Some(ctx.arch.fault_exit)
}

/// Store the 4 bytes `v` at host address `p` as one access, so a thread
/// executing the code around it sees either the old or the new bytes
/// (x86-64 makes a store that does not cross a cache line atomic, aligned
/// or not).
///
/// # Safety
/// `p..p+4` is writable memory that does not cross a 64-byte line.
pub unsafe fn store_u32_atomic(p: u64, v: u32) {
    debug_assert!(p % 64 <= 60);
    // SAFETY: the caller's promise; a plain `mov` is one access.
    unsafe {
        core::arch::asm!("mov dword ptr [{p}], {v:e}", p = in(reg) p, v = in(reg) v, options(nostack, preserves_flags));
    }
}

/// Entries in the translation's page cache (a power of two).
pub const TLB_ENTRIES: usize = 1024;

/// A page the helpers found accessible, so translated code may access it
/// directly at `r12 + addr` (within the page): `page` is the guest page
/// number (`u64::MAX` when empty), `perm` its guest permission bits
/// (`Perm`), without WRITE on pages holding translated code (stores there
/// must go through the helper, which notices the code change).
///
/// Used only on hosts without host faults (`Stubs::host_faults` false):
/// with them, translated code never reads it.
/// Only the helpers fill it, after `GuestMemory` checked the access. The
/// dispatcher empties it before a run when the memory's permissions
/// changed since it was last emptied (`GuestMemory::perm_stamp`, which
/// also tells one memory from another), and `mark_code` drops a page's
/// entry in every thread's cache when the page gets translated code. That
/// is enough because guest permissions change only through
/// `GuestMemory::map/protect/unmap`, which run between engine runs (system
/// calls end a run), and the hosts without host faults run one guest
/// thread at a time. So every direct access stays inside a page
/// `GuestMemory` has allowed since its last change: the sandbox property
/// holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct TlbEntry {
    pub page: u64,
    pub perm: u64,
}

impl TlbEntry {
    /// No page.
    pub const EMPTY: TlbEntry = TlbEntry {
        page: u64::MAX,
        perm: 0,
    };
}

/// Slot of guest page `page` (the generated probe computes the same).
pub fn tlb_slot(page: u64) -> usize {
    (page as usize) & (TLB_ENTRIES - 1)
}

/// Byte offsets from `rbp` (`*mut Ctx` + [`CPU_BIAS`]) used by the
/// generated code.
pub(crate) mod off {
    use super::CPU_BIAS;
    use super::Ctx;
    use crate::cpu::Cpu;
    use core::mem::offset_of;
    /// Of a `Ctx` field at byte offset `o`.
    pub const fn ctx(o: usize) -> i32 {
        o as i32 - CPU_BIAS
    }
    /// Of a field of the guest registers (`Ctx::guest`) at byte offset `o`
    /// within the `Cpu`.
    pub const fn cpu(o: usize) -> i32 {
        ctx(offset_of!(Ctx, guest) + o)
    }
    pub const PC: i32 = cpu(offset_of!(Cpu, pc));
    pub const INSTRET: i32 = cpu(offset_of!(Cpu, instret));
    pub const EXIT_HOST: i32 = ctx(offset_of!(Ctx, exit_host));
    pub const MXCSR_CLEAN: i32 = ctx(offset_of!(Ctx, arch.mxcsr_clean));
    pub const MXCSR_TMP: i32 = ctx(offset_of!(Ctx, arch.mxcsr_tmp));
    pub const QUIET_MXCSR: i32 = ctx(offset_of!(Ctx, arch.quiet_mxcsr));
    pub const QUIET_REG: i32 = ctx(offset_of!(Ctx, arch.quiet_reg));
    pub const TLB: i32 = ctx(offset_of!(Ctx, arch.tlb));
    pub const DIV_OTHER: i32 = ctx(offset_of!(Ctx, arch.div_other));
    pub const DIV_CACHE: i32 = ctx(offset_of!(Ctx, arch.div_cache));
    pub const FFLAGS: i32 = cpu(offset_of!(Cpu, fflags));
    pub const FRM: i32 = cpu(offset_of!(Cpu, frm));
    /// Guest register `f[r]`.
    pub const fn f(r: u8) -> i32 {
        cpu(offset_of!(Cpu, f) + 8 * r as usize)
    }
    pub const MEM_LIMIT: i32 = ctx(offset_of!(Ctx, mem_limit));
    pub const COUNTERS: i32 = ctx(offset_of!(Ctx, counters));
    pub const INSTRET_LIMIT: i32 = ctx(offset_of!(Ctx, instret_limit));
    pub const EXIT_SITE: i32 = ctx(offset_of!(Ctx, exit_site));
    pub const IND_TABLE: i32 = ctx(offset_of!(Ctx, ind_table));
    pub const IND_HITS: i32 = ctx(offset_of!(Ctx, ind_hits));
    pub const ENTRY_RSP: i32 = ctx(offset_of!(Ctx, arch.entry_rsp));
    pub const RAS_FLOOR: i32 = ctx(offset_of!(Ctx, arch.ras_floor));
    pub const MEM_BASE: i32 = ctx(offset_of!(Ctx, mem_base));
    /// Guest register `x[r]`.
    pub const fn x(r: u8) -> i32 {
        cpu(offset_of!(Cpu, x) + 8 * r as usize)
    }
    // Every integer register in reach of a one-byte displacement.
    const _: () = assert!(x(0) >= -128 && x(31) <= 127);
}

/// Signature of the entry code: run translated code at `code` with
/// context `ctx` (on the guest registers `ctx.guest`); returns an
/// [`exit`] code.
pub type EntryFn = unsafe extern "sysv64" fn(ctx: *mut Ctx, code: u64) -> u64;

/// The memory-access helpers, in the order of [`Stubs::helpers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
#[allow(missing_docs)]
pub enum Helper {
    LoadI8,
    LoadU8,
    LoadI16,
    LoadU16,
    LoadI32,
    LoadU32,
    LoadU64,
    StoreU8,
    StoreU16,
    StoreU32,
    StoreU64,
    Step,
}

pub(crate) const HELPERS: usize = 12;

fn helper_addr(h: Helper) -> u64 {
    match h {
        Helper::LoadI8 => load_i8 as *const () as u64,
        Helper::LoadU8 => load_u8 as *const () as u64,
        Helper::LoadI16 => load_i16 as *const () as u64,
        Helper::LoadU16 => load_u16 as *const () as u64,
        Helper::LoadI32 => load_i32 as *const () as u64,
        Helper::LoadU32 => load_u32 as *const () as u64,
        Helper::LoadU64 => load_u64 as *const () as u64,
        Helper::StoreU8 => store_u8 as *const () as u64,
        Helper::StoreU16 => store_u16 as *const () as u64,
        Helper::StoreU32 => store_u32 as *const () as u64,
        Helper::StoreU64 => store_u64 as *const () as u64,
        Helper::Step => step_helper as *const () as u64,
    }
}

/// Host addresses of the fixed code that translations jump or call to.
#[derive(Clone, Copy, Debug)]
pub struct Stubs {
    /// The entry code ([`EntryFn`]).
    pub entry: u64,
    /// Restores the host registers and returns `rax` to the dispatcher.
    pub exit: u64,
    /// Called right after a chainable `jmp rel32` slot, followed by the
    /// 8-byte guest target pc: returns [`exit::CHAIN`].
    pub chain_exit: u64,
    /// Jumped to with `rax` = a host address in the code of the guest
    /// instruction concerned: return [`exit::FAULT`], [`exit::BUDGET`],
    /// [`exit::CODE`].
    pub fault_exit: u64,
    pub budget_exit: u64,
    pub code_exit: u64,
    pub trap_exit: u64,
    pub promote_exit: u64,
    /// One trampoline per [`Helper`]: `rdi = ctx`, then on to the helper
    /// (a near `call rel32` from translated code reaches it).
    pub helpers: [u64; HELPERS],
    /// The host has FMA3 (and the OS saves AVX state), so fused
    /// multiply-adds can be inline.
    pub fma: bool,
    /// The host reports faults in translated code (`HostOs::code_faults`):
    /// guest accesses go straight to memory, the host's protection
    /// catching bad ones (see [`host_fault`]).
    pub host_faults: bool,
    /// The displacement guest accesses carry ([`low_disp`]) in the
    /// translation being made, for the memory it is made for; `None` in
    /// the fixed code's copy.
    pub mem_disp: Option<i32>,
    /// Translated code counts its indirect-table hits (`Ctx::ind_hits`,
    /// see [`crate::translate::count_indirect`]).
    pub count_hits: bool,
}

/// Can translated code use FMA3: the CPU has it, and the OS has enabled the
/// AVX state that VEX-encoded instructions need?
pub fn host_has_fma() -> bool {
    use core::arch::x86_64::{__cpuid, _xgetbv};
    #[allow(unused_unsafe)]
    // SAFETY: CPUID exists on every x86-64 processor.
    let c = unsafe { __cpuid(1) };
    let (fma, osxsave, avx) = (1 << 12, 1 << 27, 1 << 28);
    if c.ecx & (fma | osxsave | avx) != fma | osxsave | avx {
        return false;
    }
    // SAFETY: OSXSAVE set means the OS enabled XGETBV.
    let xcr0 = unsafe { _xgetbv(0) };
    // XMM and YMM state enabled.
    xcr0 & 6 == 6
}

impl Stubs {
    /// The trampoline of helper `h`.
    pub fn helper(&self, h: Helper) -> u64 {
        self.helpers[h as usize]
    }
}

/// Emit the fixed code placed at the start of the cache (it survives
/// flushes) for host address `base`: the entry (saves the callee-saved
/// registers, loads the fixed ones, jumps to the translation), the shared
/// exits, and the helper trampolines.
pub fn fixed_code(base: u64, host_faults: bool) -> (alloc::vec::Vec<u8>, Stubs) {
    use encode::Alu;
    let mut a = Asm::new(base);
    let align = |a: &mut Asm| {
        while !a.pos().is_multiple_of(16) {
            a.int3();
        }
    };
    let entry = a.here();
    for r in SAVED {
        a.push(r);
    }
    // 6 pushes + the return address leave rsp 8 mod 16: realign.
    a.alu_ri(W::B64, Alu::Sub, Reg::Rsp, 8);
    a.lea(W::B64, Reg::Rbp, Mem::base(Reg::Rdi, CPU_BIAS));
    // The return-address stack of guest calls (`codegen/ras.rs`) lives
    // below this frame: the exit code drops it by going back here. Its
    // bottom is a sentinel frame whose guest pc (odd) only a return to
    // that very odd address matches (see `Gen::exit_return_in`), and it
    // holds at most `RAS_DEPTH` frames.
    a.store(W::B64, Mem::base(Reg::Rbp, off::ENTRY_RSP), Reg::Rsp);
    let sentinel = a.label();
    a.mov_imm(Reg::Rax, SENTINEL_PC);
    a.push(Reg::Rax);
    a.lea_label(Reg::Rax, sentinel);
    a.push(Reg::Rax);
    a.lea(
        W::B64,
        Reg::Rax,
        Mem::base(Reg::Rsp, -(codegen::RAS_DEPTH as i32) * 16),
    );
    a.store(W::B64, Mem::base(Reg::Rbp, off::RAS_FLOOR), Reg::Rax);
    // Translated code runs under the default MXCSR with no flags, and
    // MXCSR.PE accrues NX (see `codegen::float`).
    a.mxcsr(true, Mem::base(Reg::Rbp, off::MXCSR_CLEAN));
    a.load(W::B64, Reg::R12, Mem::base(Reg::Rbp, off::MEM_BASE));
    a.load(W::B64, Reg::R14, Mem::base(Reg::Rbp, off::INSTRET));
    codegen::pinned::emit_load(&mut a);
    a.jmp_r(Reg::Rsi);
    align(&mut a);
    let exit_addr = a.here();
    // Every way out comes here: the pinned registers' `Cpu` copies were
    // stale (see `codegen/pinned.rs`), and a fused quiet compare's
    // register may be pending (`codegen/qpend.rs`; before MXCSR's flags
    // are folded into fflags below).
    codegen::pinned::emit_store(&mut a);
    codegen::qpend::emit_exit(&mut a);
    a.load(W::B64, Reg::Rsp, Mem::base(Reg::Rbp, off::ENTRY_RSP));
    a.store(W::B64, Mem::base(Reg::Rbp, off::INSTRET), Reg::R14);
    // Fold MXCSR's flags into fflags (rax holds the exit code).
    let tmp = Mem::base(Reg::Rbp, off::MXCSR_TMP);
    a.mxcsr(false, tmp);
    a.load(W::B32, Reg::Rcx, tmp);
    emit_mxcsr_fflags(&mut a, Reg::Rcx, Reg::Rdx, Reg::Rsi);
    a.alu_mr(W::B32, Alu::Or, Mem::base(Reg::Rbp, off::FFLAGS), Reg::Rdx);
    a.alu_ri(W::B64, Alu::Add, Reg::Rsp, 8);
    for r in SAVED.iter().rev() {
        a.pop(*r);
    }
    a.ret();
    let leave = |a: &mut Asm, code: u64| {
        a.mov_imm(Reg::Rax, code);
        // In reach: the fixed code is a few hundred bytes.
        let _ = a.jmp_abs(exit_addr);
    };
    align(&mut a);
    let chain_exit = a.here();
    a.pop(Reg::Rax);
    a.load(W::B64, Reg::Rcx, Mem::base(Reg::Rax, 0));
    a.store(W::B64, Mem::base(Reg::Rbp, off::PC), Reg::Rcx);
    // The slot's rel32 field ends where the 5-byte call begins.
    a.alu_ri(W::B64, Alu::Sub, Reg::Rax, 9);
    a.store(W::B64, Mem::base(Reg::Rbp, off::EXIT_SITE), Reg::Rax);
    leave(&mut a, exit::CHAIN);
    let host_exit = |a: &mut Asm, code: u64| {
        align(a);
        let at = a.here();
        a.store(W::B64, Mem::base(Reg::Rbp, off::EXIT_HOST), Reg::Rax);
        leave(a, code);
        at
    };
    // A return that matched the sentinel frame: its target, cleared of
    // its low bit, is the dispatcher's to find, as after a table miss
    // (the guest state is stored, the frame dropped by `ret 8`).
    align(&mut a);
    a.bind(sentinel);
    a.mov_imm(Reg::Rax, SENTINEL_PC & !1);
    a.store(W::B64, Mem::base(Reg::Rbp, off::PC), Reg::Rax);
    leave(&mut a, exit::INDIRECT);
    let fault_exit = host_exit(&mut a, exit::FAULT);
    let budget_exit = host_exit(&mut a, exit::BUDGET);
    let code_exit = host_exit(&mut a, exit::CODE);
    let trap_exit = host_exit(&mut a, exit::TRAP);
    let promote_exit = host_exit(&mut a, exit::PROMOTE);
    let mut helpers = [0; HELPERS];
    for (i, h) in [
        Helper::LoadI8,
        Helper::LoadU8,
        Helper::LoadI16,
        Helper::LoadU16,
        Helper::LoadI32,
        Helper::LoadU32,
        Helper::LoadU64,
        Helper::StoreU8,
        Helper::StoreU16,
        Helper::StoreU32,
        Helper::StoreU64,
        Helper::Step,
    ]
    .into_iter()
    .enumerate()
    {
        align(&mut a);
        helpers[i] = a.here();
        // The step helper reads `instret` (and any helper may end in a
        // fault exit): bring the `Cpu` up to date.
        a.store(W::B64, Mem::base(Reg::Rbp, off::INSTRET), Reg::R14);
        a.lea(W::B64, Reg::Rdi, Mem::base(Reg::Rbp, -CPU_BIAS));
        a.mov_imm(Reg::Rax, helper_addr(h));
        a.jmp_r(Reg::Rax);
    }
    // The exit's jumps to its labels (`codegen::qpend::emit_exit`).
    a.finish().expect("the fixed code binds its labels");
    (
        a.code,
        Stubs {
            entry,
            exit: exit_addr,
            chain_exit,
            fault_exit,
            budget_exit,
            code_exit,
            trap_exit,
            promote_exit,
            helpers,
            fma: host_has_fma(),
            host_faults,
            mem_disp: None,
            count_hits: crate::translate::count_indirect(),
        },
    )
}

/// The guest pc of the return-address stack's bottom frame: odd, so that
/// no call pushes it.
const SENTINEL_PC: u64 = 1;

const SAVED: [Reg; 6] = [Reg::Rbx, Reg::Rbp, Reg::R12, Reg::R13, Reg::R14, Reg::R15];

/// Result of a load helper: the loaded value (already extended to 64
/// bits) in `rax`, nonzero `fault` in `rdx` when the access faulted.
#[derive(Debug)]
#[repr(C)]
pub struct LoadRet {
    pub val: u64,
    pub fault: u64,
}

/// Store helper status (in `rax`).
pub mod store {
    /// Stored.
    pub const OK: u64 = 0;
    /// Did not store: `Ctx::fault` is set.
    pub const FAULT: u64 = 1;
    /// Stored into a page holding translated code: the code epoch was
    /// bumped and the block must exit after this instruction.
    pub const CODE: u64 = 2;
}

/// Load helpers.
macro_rules! load_helper {
    ($name:ident, $read:ident, $conv:expr) => {
        /// A guest load for translated code (see [`LoadRet`]).
        ///
        /// # Safety
        /// `ctx` must be the live context of the current run, its `mem`
        /// pointing at the guest memory of that run.
        pub unsafe extern "sysv64" fn $name(ctx: *mut Ctx, addr: u64) -> LoadRet {
            // SAFETY: translated code passes the `Ctx` the dispatcher gave it,
            // which is alive and exclusively used by this run; its `mem`
            // points at the `GuestMemory` borrowed for the whole run.
            let ctx = unsafe { &mut *ctx };
            let mem = unsafe { &*ctx.mem };
            match mem.$read(addr) {
                Ok(v) => {
                    fill_tlb(ctx, mem, addr, size_of_val(&v) as u64);
                    LoadRet {
                        val: $conv(v),
                        fault: 0,
                    }
                }
                Err(f) => {
                    ctx.fault = Some(f);
                    LoadRet { val: 0, fault: 1 }
                }
            }
        }
    };
}

load_helper!(load_i8, read_u8, |v: u8| v as i8 as u64);
load_helper!(load_u8, read_u8, |v: u8| v as u64);
load_helper!(load_i16, read_u16, |v: u16| v as i16 as u64);
load_helper!(load_u16, read_u16, |v: u16| v as u64);
load_helper!(load_i32, read_u32, |v: u32| v as i32 as u64);
load_helper!(load_u32, read_u32, |v: u32| v as u64);
load_helper!(load_u64, read_u64, |v: u64| v);

/// Does `[addr, addr+len)` touch a page holding translated code?
fn touches_code(ctx: &Ctx, addr: u64, len: u64) -> bool {
    let first = addr / PAGE_SIZE;
    let last = (addr + len - 1) / PAGE_SIZE;
    (first..=last).any(|p| {
        let w = (p / 64) as usize;
        // SAFETY: `code_pages` has `code_pages_words` words, owned by the
        // engine and alive during the run; the index is bounds-checked.
        w < ctx.code_pages_words && unsafe { *ctx.code_pages.add(w) } >> (p % 64) & 1 != 0
    })
}

/// Remember the page of a successful `len`-byte access at `addr` (unless
/// it crosses into the next page; translated code only goes direct for
/// accesses inside one cached page).
fn fill_tlb(ctx: &mut Ctx, mem: &GuestMemory, addr: u64, len: u64) {
    let page = addr / PAGE_SIZE;
    if (addr + len - 1) / PAGE_SIZE != page {
        return;
    }
    let mut perm = mem.perm(addr).bits() as u64;
    if touches_code(ctx, addr, 1) {
        perm &= !(crate::memory::Perm::WRITE.bits() as u64);
    }
    ctx.arch.tlb[tlb_slot(page)] = TlbEntry { page, perm };
}

macro_rules! store_helper {
    ($name:ident, $write:ident, $ty:ty) => {
        /// A guest store for translated code (returns a [`store`] status).
        ///
        /// # Safety
        /// As for the load helpers.
        pub unsafe extern "sysv64" fn $name(ctx: *mut Ctx, addr: u64, val: u64) -> u64 {
            // SAFETY: as for the load helpers.
            let ctx = unsafe { &mut *ctx };
            let mem = unsafe { &*ctx.mem };
            match mem.$write(addr, val as $ty) {
                Ok(()) => {
                    if touches_code(ctx, addr, size_of::<$ty>() as u64) {
                        mem.invalidate_range(addr, size_of::<$ty>() as u64);
                        store::CODE
                    } else {
                        fill_tlb(ctx, mem, addr, size_of::<$ty>() as u64);
                        store::OK
                    }
                }
                Err(f) => {
                    ctx.fault = Some(f);
                    store::FAULT
                }
            }
        }
    };
}

store_helper!(store_u8, write_u8, u8);
store_helper!(store_u16, write_u16, u16);
store_helper!(store_u32, write_u32, u32);
store_helper!(store_u64, write_u64, u64);

/// Run the fallback instruction number `idx` of `Ctx::steps` with the
/// single-step executor. Returns [`store::OK`], [`store::CODE`] when the
/// code epoch moved (`fence.i`: the block must end after it), or
/// [`store::FAULT`] with `Ctx::trap` set (nothing retired).
///
/// Translated code keeps `pc` and `instret` in its exits, not in the `Cpu`,
/// so this sets them for the instruction and puts `instret` back after.
///
/// # Safety
/// As for the load helpers; `ctx.cpu` and `ctx.steps` are the run's.
pub unsafe extern "sysv64" fn step_helper(ctx: *mut Ctx, idx: u64) -> u64 {
    // SAFETY: the dispatcher set these pointers for this run; translated
    // code calls no helper after the run ends, and nothing else touches the
    // `Cpu` or the step table while translated code runs.
    let ctx = unsafe { &mut *ctx };
    let (cpu, mem, steps) = unsafe { (&mut *ctx.cpu, &*ctx.mem, &*ctx.steps) };
    let s = *steps
        .get(idx as usize)
        .expect("translated code names a published step");
    let instret = cpu.instret;
    cpu.pc = s.pc;
    cpu.instret = instret.wrapping_add(s.index as u64);
    let epoch = mem.code_epoch();
    // The instruction sees the true fflags (it may read them): fold the
    // flags that translated code accrued in MXCSR. Afterwards MXCSR is
    // reset, so neither those (the instruction may have written fflags)
    // nor any Rust code left behind count again.
    // A register a fused quiet compare left pending gets its value first:
    // the instruction may read it (see `codegen/qpend.rs`).
    if ctx.arch.quiet_reg != 0 {
        let r = ctx.arch.quiet_reg as usize & 31;
        cpu.x[r] = (cpu.fflags | mxcsr_fflags(ctx.arch.quiet_mxcsr)) as u64;
        ctx.arch.quiet_reg = 0;
    }
    cpu.fflags |= mxcsr_fflags(read_mxcsr());
    let r = crate::translate::step::step(cpu, mem, s.inst, s.len, &mut ctx.lr_value);
    clean_mxcsr();
    cpu.instret = instret;
    match r {
        Ok(()) if mem.code_epoch() != epoch => store::CODE,
        Ok(()) => store::OK,
        Err(t) => {
            ctx.trap = Some(t);
            store::FAULT
        }
    }
}

impl Backend for X86_64 {
    type CtxPart = Part;
    type Stubs = Stubs;
    type HostRegs = [u64; 16];
    type Error = encode::AsmError;
    type Scratch = codegen::Scratch;
    /// The `rel32` field of a `jmp rel32` slot.
    const CHAIN_LEN: u64 = 4;
    /// A `jmp rel32`.
    const REDIRECT_LEN: u64 = 5;
    /// `rbp` = `*mut Ctx` + [`CPU_BIAS`].
    const CTX_REG_BIAS: u64 = CPU_BIAS as u64;

    /// `fma3`: fused multiply-adds inline ([`host_has_fma`]).
    fn host_features() -> alloc::vec::Vec<(&'static str, bool)> {
        alloc::vec![("fma3", host_has_fma())]
    }

    fn fixed_code(base: u64, host_faults: bool) -> (alloc::vec::Vec<u8>, Stubs) {
        fixed_code(base, host_faults)
    }

    fn entry(stubs: &Stubs) -> u64 {
        stubs.entry
    }

    fn translate<'s>(
        base: u64,
        stubs: &Stubs,
        mem_base: u64,
        entry: u64,
        blocks: &[&[GuestInst]],
        heat: &[u32],
        counter: Option<u32>,
        side_entries: bool,
        wild: &[u64],
        steps: &mut alloc::vec::Vec<StepInst>,
        scratch: &'s mut codegen::Scratch,
    ) -> Result<Emitted<'s>, encode::AsmError> {
        let stubs = Stubs {
            mem_disp: low_disp(mem_base),
            ..*stubs
        };
        let b = codegen::translate(
            base,
            &stubs,
            entry,
            blocks,
            heat,
            counter,
            side_entries,
            wild,
            steps,
            scratch,
        )?;
        Ok(Emitted {
            code: b.code,
            side: b.side,
            regs: b.regs,
            fault_resume: b.fault_resume,
            entries: b.entries,
        })
    }

    fn new_part(stubs: &Stubs) -> Part {
        Part {
            mxcsr_clean: MXCSR_DEFAULT,
            mxcsr_tmp: 0,
            quiet_mxcsr: 0,
            quiet_reg: 0,
            div_other: 0,
            div_cache: [DivSlot::EMPTY; DIV_SLOTS],
            tlb: [TlbEntry::EMPTY; TLB_ENTRIES],
            tlb_stamp: 0,
            fault_exit: stubs.fault_exit,
            entry_rsp: 0,
            ras_floor: 0,
        }
    }

    #[inline]
    fn prepare_run(part: &mut Part, stubs: &Stubs, mem: &GuestMemory) {
        part.mxcsr_clean = MXCSR_DEFAULT;
        part.mxcsr_tmp = 0;
        part.quiet_reg = 0;
        // Permissions may have changed since the last run (system calls
        // end a run): the page cache is emptied when they did, or when
        // the memory is another. Emptying it at every run (16 KiB) made
        // a signal's round trip through a handler cost more than a 20 us
        // timer's period under QEMU's TCG: the guest never got past its
        // handler. With host faults, translated code never reads it.
        if !stubs.host_faults {
            let stamp = mem.perm_stamp();
            if part.tlb_stamp != stamp {
                part.tlb.fill(TlbEntry::EMPTY);
                part.tlb_stamp = stamp;
            }
        }
    }

    fn forget_page(part: &mut Part, page: u64) {
        let slot = tlb_slot(page);
        if part.tlb[slot].page == page {
            part.tlb[slot] = TlbEntry::EMPTY;
        }
    }

    #[inline(always)]
    unsafe fn enter(stubs: &Stubs, cpu: *mut Cpu, ctx: *mut Ctx, code: u64) -> u64 {
        // SAFETY: `stubs.entry` is the start of the entry code written by
        // `fixed_code` into the executable cache memory, which lives as
        // long as the cache (the caller's promise). That code follows the
        // sysv64 ABI exactly as `EntryFn` declares it: it saves and
        // restores every callee-saved register it uses (rbx, rbp,
        // r12-r15), keeps the stack 16-byte aligned across helper calls,
        // and returns a u64 in rax. Translated code only touches the `Cpu`
        // and `Ctx` it is given and guest memory inside the sandbox (see
        // `crate::translate`). The arguments are valid and exclusively
        // ours per the caller, so copying the `Cpu` into the `Ctx` and
        // back (one register reaches both, see the module documentation)
        // touches nothing anyone else holds. A copy, not a swap: `*cpu`
        // keeps the state at the way in, whose `pc` a profiler sample
        // taken in a helper is charged to (see `crate::sampling`). The
        // copies are bitwise, one `memcpy` each instead of the derived
        // `clone_from`'s field by field (two `memcpy`s and the rest, a
        // few percent of `python3.13 -c pass`, which enters translated
        // code 50,000 times): a `Cpu` is plain data, with nothing to drop
        // (checked below), so its bits are its clone, and the two `Cpu`s
        // are distinct objects (one inside the `Ctx`, one the caller's).
        const _: () = assert!(!core::mem::needs_drop::<Cpu>());
        unsafe {
            core::ptr::copy_nonoverlapping(cpu, &raw mut (*ctx).guest, 1);
            (*ctx).cpu = &raw mut (*ctx).guest;
            let entry = core::mem::transmute::<usize, EntryFn>(stubs.entry as usize);
            let why = entry(ctx, code);
            core::ptr::copy_nonoverlapping(&raw const (*ctx).guest, cpu, 1);
            (*ctx).cpu = cpu;
            why
        }
    }

    unsafe fn chain(site: u64, target: u64) -> bool {
        // One store only if the field does not cross a cache line.
        if site % 64 > 60 {
            return false;
        }
        let Ok(rel) = i32::try_from(target as i64 - (site as i64 + 4)) else {
            return false;
        };
        // SAFETY: `site..site+4` is live cache memory (the caller's
        // promise) inside one cache line (checked above).
        unsafe { store_u32_atomic(site, rel as u32) };
        true
    }

    unsafe fn unchain(site: u64) -> bool {
        // An unchained slot jumps to the next byte, the call to the chain
        // exit (see `codegen::Gen::exit_direct`): rel32 0.
        // SAFETY: the caller's promise; `chain` checks the cache line.
        unsafe { Self::chain(site, site + 4) }
    }

    unsafe fn redirect(at: u64, target: u64) -> bool {
        let Ok(rel) = i32::try_from(target as i64 - (at as i64 + 5)) else {
            return false;
        };
        let mut jmp = [0xe9, 0, 0, 0, 0];
        jmp[1..].copy_from_slice(&rel.to_le_bytes());
        // SAFETY: `at..at+5` is live cache memory and no translated code
        // runs (the caller's promise).
        unsafe { (at as *mut [u8; 5]).write_unaligned(jmp) };
        true
    }

    unsafe fn host_fault(regs: &mut [u64; 16], rip: u64, access: HostAccess) -> Option<u64> {
        // SAFETY: the same contract.
        unsafe { host_fault(regs, rip, access) }
    }
}

#[cfg(test)]
mod patch_tests {
    use super::*;

    /// A memory base is a displacement only where every access offset
    /// (at most 2 KiB either way) keeps it a positive 32-bit one.
    #[test]
    fn low_disp_only_within_a_displacement_s_reach() {
        assert_eq!(low_disp(0x1001_0000), Some(0x1001_0000));
        assert_eq!(low_disp(0x7fff_e000), Some(0x7fff_e000));
        for base in [0, 0x800, 0x7fff_f800, 1 << 31, 1 << 32, 0x7f00_0000_0000] {
            assert_eq!(low_disp(base), None, "{base:#x}");
        }
    }

    /// Chaining and redirecting write a `jmp rel32` that reaches the
    /// target, and refuse what one store cannot do.
    #[test]
    fn chain_and_redirect_write_rel32_jumps() {
        let mut buf = alloc::vec![0x90u8; 256];
        let base = buf.as_mut_ptr() as u64;
        // A 64-byte-aligned line start inside the buffer.
        let line = base.next_multiple_of(64);
        let (site, target) = (line + 8, line + 100);
        // SAFETY: all the addresses are inside `buf`; nothing executes it.
        unsafe {
            assert!(X86_64::chain(site, target));
            let rel = (site as *const i32).read_unaligned();
            assert_eq!(site as i64 + 4 + rel as i64, target as i64);
            // Crosses a cache line: left alone.
            assert!(!X86_64::chain(line + 62, target));
            assert!(X86_64::redirect(line + 20, line));
            let at = (line + 20) as *const u8;
            assert_eq!(*at, 0xe9);
            let rel = (at.add(1) as *const i32).read_unaligned();
            assert_eq!(line as i64 + 20 + 5 + rel as i64, line as i64);
        }
    }
}
