//! The x86-64 back end: the assembler ([`encode`]), the RISC-V to x86-64
//! code generator ([`codegen`]), and the run-time glue they share: the
//! context block generated code reaches through `rbp`, the exit codes it
//! returns to the dispatcher, the fixed entry/exit code at the start of the
//! code cache, and the memory-access helpers.
//!
//! Register convention inside translated code:
//! * `rbx` = `*mut Cpu` + [`CPU_BIAS`] (the bias puts all 32 integer
//!   registers in reach of a one-byte displacement; guest registers live
//!   in the `Cpu`; every guest
//!   instruction reads its sources from and writes its result to the `Cpu`,
//!   so the state after any whole instruction is the precise guest state);
//! * `rbp` = `*mut Ctx` (the context block below);
//! * `r12` = host address of guest address 0;
//! * everything else is scratch. `rsp` is 16-byte aligned, so helpers are
//!   called directly.

pub mod codegen;
pub mod encode;

use crate::cpu::Cpu;
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
    /// Blocks left to enter before returning `exit::BUDGET`.
    pub budget: i64,
    /// See [`exit::CHAIN`].
    pub exit_site: u64,
    /// The indirect-jump table (`IND_ENTRIES` entries).
    pub ind_table: *const IndEntry,
    /// Indirect jumps that hit the table.
    pub ind_hits: u64,
    /// See [`exit::FAULT`], [`exit::BUDGET`], [`exit::CODE`].
    pub exit_host: u64,
    /// The guest memory (for helpers).
    pub mem: *const GuestMemory,
    /// Bitmap of guest pages holding translated code (one bit a page).
    pub code_pages: *const u64,
    /// Words in `code_pages`.
    pub code_pages_words: usize,
    /// Set by a helper that returns a fault status.
    pub fault: Option<MemFault>,
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
    pub const MEM_BASE: i32 = offset_of!(Ctx, mem_base) as i32;
    pub const BUDGET: i32 = offset_of!(Ctx, budget) as i32;
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
}

const HELPERS: usize = 11;

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
    /// One trampoline per [`Helper`]: `rdi = ctx`, then on to the helper
    /// (a near `call rel32` from translated code reaches it).
    pub helpers: [u64; HELPERS],
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
pub fn fixed_code(base: u64) -> (alloc::vec::Vec<u8>, Stubs) {
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
    a.load(W::B64, Reg::R12, Mem::base(Reg::Rbp, off::MEM_BASE));
    a.jmp_r(Reg::Rdx);
    align(&mut a);
    let exit_addr = a.here();
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
    ]
    .into_iter()
    .enumerate()
    {
        align(&mut a);
        helpers[i] = a.here();
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
            helpers,
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
                Ok(v) => LoadRet {
                    val: $conv(v),
                    fault: 0,
                },
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
