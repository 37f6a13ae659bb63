//! The x86-64 back end: the assembler ([`encode`]), the RISC-V to x86-64
//! code generator ([`codegen`]), and the run-time glue they share: the
//! context block generated code reaches through `rbp`, the exit codes it
//! returns to the dispatcher, the fixed entry/exit code at the start of the
//! code cache, and the memory-access helpers.
//!
//! Register convention inside translated code:
//! * `rbx` = `*mut Cpu` + [`CPU_BIAS`] (the bias puts all 32 integer
//!   registers in reach of a one-byte displacement);
//! * `rbp` = `*mut Ctx` (the context block below);
//! * `r12` = host address of guest address 0;
//! * `r14` = the guest's `instret` (the `Cpu` copy is stored by the exit
//!   code and by the helper trampolines);
//! * [`codegen::ALLOC`] (`r8`-`r11`, `r13`, `r15`, `rdi`) hold the block's
//!   hottest guest registers (see `codegen`);
//! * `rax`, `rcx`, `rdx`, `rsi` are scratch. `rsp` is 16-byte aligned, so
//!   helpers are called directly.

pub mod codegen;
pub mod encode;

use crate::cpu::{Cpu, Trap, fflags};
use crate::decode::Inst;
use crate::memory::{GuestMemory, MemFault, PAGE_SIZE};
use encode::{Asm, Mem, Reg, W};

/// Why translated code returned to the dispatcher (the value in `rax`).
pub mod exit {
    /// `Cpu::pc` holds the next guest pc; nothing to chain.
    pub const NEXT: u64 = 0;
    /// `Cpu::pc` holds the target of a direct jump, and `Ctx::exit_site`
    /// the host address of the `rel32` field that can be chained to it.
    pub const CHAIN: u64 = 1;
    /// `Cpu::pc` holds the target of an indirect jump that missed the
    /// lookup table.
    pub const INDIRECT: u64 = 2;
    /// A guest memory access faulted: `Ctx::exit_host` is a host address
    /// in the faulting instruction's code (the side table gives its pc and
    /// index, and `instret` lacks that index); `Ctx::fault` says why.
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
}

/// MXCSR with every exception masked, round to nearest, no flags: the
/// x86-64 ABI default, which the inline F/D code runs under. Its sticky
/// precision flag (PE, [`MXCSR_PE`]) stands for `fflags.NX` while
/// translated code runs; the exit code and [`step_helper`] fold it into
/// `Cpu::fflags`.
pub const MXCSR_DEFAULT: u32 = 0x1f80;

/// MXCSR's precision (inexact) flag.
pub const MXCSR_PE: u32 = 1 << 5;

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

/// `rbx` points this far into the `Cpu`.
pub const CPU_BIAS: i32 = 128;

/// One entry of the indirect-jump lookup table (guest pc -> host code).
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

/// The context block: what translated code and helpers need besides the
/// `Cpu`. Generated code uses the fields up to `code_pages_words` by
/// offset; the rest only Rust touches.
#[derive(Debug)]
#[repr(C)]
pub struct Ctx {
    /// Host address of guest address 0.
    pub mem_base: u64,
    /// `instret` value at which a block entry returns `exit::BUDGET`
    /// (translated code keeps `instret` in `r14`).
    pub instret_limit: core::sync::atomic::AtomicU64,
    /// See [`exit::CHAIN`].
    pub exit_site: u64,
    /// The indirect-jump table (`IND_ENTRIES` entries).
    pub ind_table: *const IndEntry,
    /// Indirect jumps that hit the table.
    pub ind_hits: u64,
    /// See [`exit::FAULT`], [`exit::BUDGET`], [`exit::CODE`].
    pub exit_host: u64,
    /// The default MXCSR with no exception flags (`0x1f80`), loaded by
    /// the entry code and wherever accrued host flags must go.
    pub mxcsr_clean: u32,
    /// Scratch for `stmxcsr`.
    pub mxcsr_tmp: u32,
    /// Pages recently checked by a helper (see [`TlbEntry`]).
    pub tlb: [TlbEntry; TLB_ENTRIES],
    /// The guest memory (for helpers).
    pub mem: *const GuestMemory,
    /// Bitmap of guest pages holding translated code (one bit a page).
    pub code_pages: *const u64,
    /// Words in `code_pages`.
    pub code_pages_words: usize,
    /// Set by a helper that returns a fault status.
    pub fault: Option<MemFault>,
    /// The guest registers of this run (for the step helper).
    pub cpu: *mut Cpu,
    /// The fallback instructions of the live translations (shared by the
    /// threads whose translators share the cache).
    pub steps: *const crate::cache::AppendOnly<StepInst>,
    /// Value loaded by the last `lr` (kept across runs).
    pub lr_value: u64,
    /// Set by the step helper when the instruction traps.
    pub trap: Option<Trap>,
    /// Largest guest address translated code may access directly with an
    /// access of up to 8 bytes (the guest memory size minus 8); above it,
    /// the checked helper decides. Only used with host faults.
    pub mem_limit: u64,
    /// The code cache's translations (for [`host_fault`]) and the
    /// cache's host address.
    pub blocks: *const crate::cache::AppendOnly<crate::cache::Translation>,
    pub cache_base: u64,
    /// Where [`host_fault`] resumes: the shared fault exit.
    pub fault_exit: u64,
    /// The profile's execution counters (see [`crate::profile`]).
    pub counters: *mut i32,
    /// Set by [`host_fault`]: the guest address and kind (write or not)
    /// of the access that faulted on the host.
    pub host_fault: Option<(u64, bool)>,
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
/// thread's live `Ctx` (translated code keeps it there throughout).
pub unsafe fn host_fault(regs: &mut [u64; 16], rip: u64, addr: u64, write: bool) -> Option<u64> {
    let ctx = regs[Reg::Rbp as usize] as *mut Ctx;
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
    let guest = addr.wrapping_sub(ctx.mem_base);
    if guest >= mem.size() {
        return None;
    }
    let (t, _) = crate::cache::find_host(blocks, ctx.cache_base, rip)?;
    for (slot, &r) in t.regs.iter().enumerate().take(codegen::ALLOC.len()) {
        if r != 0 {
            cpu.x[r as usize] = regs[codegen::ALLOC[slot] as usize];
        }
    }
    ctx.host_fault = Some((guest, write));
    regs[Reg::Rax as usize] = rip;
    Some(ctx.fault_exit)
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
/// Only the helpers fill it, after `GuestMemory` checked the access, and
/// the dispatcher empties it at every entry to translated code and after
/// every translation. That is enough because guest permissions change only
/// through `GuestMemory::map/protect/unmap`, which run between engine runs
/// (system calls end a run). So every direct access stays inside a page
/// `GuestMemory` has just allowed: the sandbox property holds. When guest
/// threads share the memory, another thread's `munmap` could race with a
/// cached entry: then the entry must come from `GuestMemory`'s own
/// permission table instead (or a mapping epoch must empty it).
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

/// Byte offsets used by the generated code.
pub(crate) mod off {
    use super::CPU_BIAS;
    use super::Ctx;
    use crate::cpu::Cpu;
    use core::mem::offset_of;
    pub const PC: i32 = offset_of!(Cpu, pc) as i32 - CPU_BIAS;
    pub const INSTRET: i32 = offset_of!(Cpu, instret) as i32 - CPU_BIAS;
    pub const EXIT_HOST: i32 = offset_of!(Ctx, exit_host) as i32;
    pub const MXCSR_CLEAN: i32 = offset_of!(Ctx, mxcsr_clean) as i32;
    pub const MXCSR_TMP: i32 = offset_of!(Ctx, mxcsr_tmp) as i32;
    pub const TLB: i32 = offset_of!(Ctx, tlb) as i32;
    pub const FFLAGS: i32 = offset_of!(Cpu, fflags) as i32 - CPU_BIAS;
    pub const FRM: i32 = offset_of!(Cpu, frm) as i32 - CPU_BIAS;
    /// Guest register `f[r]`.
    pub const fn f(r: u8) -> i32 {
        offset_of!(Cpu, f) as i32 + 8 * r as i32 - CPU_BIAS
    }
    pub const MEM_BASE: i32 = offset_of!(Ctx, mem_base) as i32;
    pub const MEM_LIMIT: i32 = offset_of!(Ctx, mem_limit) as i32;
    pub const COUNTERS: i32 = offset_of!(Ctx, counters) as i32;
    pub const INSTRET_LIMIT: i32 = offset_of!(Ctx, instret_limit) as i32;
    pub const EXIT_SITE: i32 = offset_of!(Ctx, exit_site) as i32;
    pub const IND_TABLE: i32 = offset_of!(Ctx, ind_table) as i32;
    pub const IND_HITS: i32 = offset_of!(Ctx, ind_hits) as i32;
    /// Guest register `x[r]`.
    pub const fn x(r: u8) -> i32 {
        offset_of!(Cpu, x) as i32 + 8 * r as i32 - CPU_BIAS
    }
}

/// Signature of the entry code: run translated code at `code` on `cpu`
/// with context `ctx`; returns an [`exit`] code.
pub type EntryFn = unsafe extern "sysv64" fn(cpu: *mut Cpu, ctx: *mut Ctx, code: u64) -> u64;

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
    a.lea(W::B64, Reg::Rbx, Mem::base(Reg::Rdi, CPU_BIAS));
    a.mov_rr(W::B64, Reg::Rbp, Reg::Rsi);
    // Translated code runs under the default MXCSR with no flags, and
    // MXCSR.PE accrues NX (see `codegen::float`).
    a.mxcsr(true, Mem::base(Reg::Rbp, off::MXCSR_CLEAN));
    a.load(W::B64, Reg::R12, Mem::base(Reg::Rbp, off::MEM_BASE));
    a.load(W::B64, Reg::R14, Mem::base(Reg::Rbx, off::INSTRET));
    a.jmp_r(Reg::Rdx);
    align(&mut a);
    let exit_addr = a.here();
    a.store(W::B64, Mem::base(Reg::Rbx, off::INSTRET), Reg::R14);
    // Fold MXCSR.PE into fflags.NX (rax holds the exit code).
    let tmp = Mem::base(Reg::Rbp, off::MXCSR_TMP);
    a.mxcsr(false, tmp);
    a.load(W::B32, Reg::Rcx, tmp);
    a.shift_ri(W::B32, encode::Shift::Shr, Reg::Rcx, 5);
    a.alu_ri(W::B32, Alu::And, Reg::Rcx, fflags::NX as i32);
    a.alu_mr(W::B32, Alu::Or, Mem::base(Reg::Rbx, off::FFLAGS), Reg::Rcx);
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
    a.store(W::B64, Mem::base(Reg::Rbx, off::PC), Reg::Rcx);
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
        a.store(W::B64, Mem::base(Reg::Rbx, off::INSTRET), Reg::R14);
        a.mov_rr(W::B64, Reg::Rdi, Reg::Rbp);
        a.mov_imm(Reg::Rax, helper_addr(h));
        a.jmp_r(Reg::Rax);
    }
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
        },
    )
}

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
    ctx.tlb[tlb_slot(page)] = TlbEntry { page, perm };
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
                        mem.invalidate_code();
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
    // NX that translated code accrued in MXCSR. Afterwards MXCSR is reset,
    // so neither that PE (the instruction may have written fflags) nor
    // one Rust code left behind counts again.
    if read_mxcsr() & MXCSR_PE != 0 {
        cpu.fflags |= fflags::NX;
    }
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
