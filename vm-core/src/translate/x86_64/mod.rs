//! The x86-64 back end: the assembler ([`encode`]), the RISC-V to x86-64
//! code generator ([`codegen`]), and the run-time glue they share: the
//! context block generated code reaches through `rbp`, the exit codes it
//! returns to the dispatcher, the fixed entry/exit code at the start of the
//! code cache, and the memory-access helpers.
//!
//! Register convention inside translated code:
//! * `rbx` = `*mut Cpu` (guest registers live there; every guest
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
    /// A guest memory access faulted: `Cpu::pc` is the faulting
    /// instruction, `Ctx::fault` says why.
    pub const FAULT: u64 = 3;
    /// The block budget ran out: `Cpu::pc` is the block not yet run.
    pub const BUDGET: u64 = 4;
}

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
    use super::Ctx;
    use crate::cpu::Cpu;
    use core::mem::offset_of;
    pub const PC: i32 = offset_of!(Cpu, pc) as i32;
    pub const INSTRET: i32 = offset_of!(Cpu, instret) as i32;
    pub const MEM_BASE: i32 = offset_of!(Ctx, mem_base) as i32;
    pub const BUDGET: i32 = offset_of!(Ctx, budget) as i32;
    pub const EXIT_SITE: i32 = offset_of!(Ctx, exit_site) as i32;
    pub const IND_TABLE: i32 = offset_of!(Ctx, ind_table) as i32;
    pub const IND_HITS: i32 = offset_of!(Ctx, ind_hits) as i32;
    /// Guest register `x[r]`.
    pub const fn x(r: u8) -> i32 {
        offset_of!(Cpu, x) as i32 + 8 * r as i32
    }
}

/// Signature of the entry code: run translated code at `code` on `cpu`
/// with context `ctx`; returns an [`exit`] code.
pub type EntryFn = unsafe extern "sysv64" fn(cpu: *mut Cpu, ctx: *mut Ctx, code: u64) -> u64;

/// Emit the fixed code at the start of the cache: the entry (saves the
/// callee-saved registers, loads the fixed registers, jumps to the
/// translation) and the shared exit (restores and returns `rax`).
/// Returns the code and the offset of the exit.
pub fn fixed_code(base: u64) -> (alloc::vec::Vec<u8>, usize) {
    let mut a = Asm::new(base);
    for r in SAVED {
        a.push(r);
    }
    // 6 pushes + the return address leave rsp 8 mod 16: realign.
    a.alu_ri(W::B64, encode::Alu::Sub, Reg::Rsp, 8);
    a.mov_rr(W::B64, Reg::Rbx, Reg::Rdi);
    a.mov_rr(W::B64, Reg::Rbp, Reg::Rsi);
    a.load(W::B64, Reg::R12, Mem::base(Reg::Rbp, off::MEM_BASE));
    a.jmp_r(Reg::Rdx);
    while !a.pos().is_multiple_of(16) {
        a.int3();
    }
    let exit = a.pos();
    a.alu_ri(W::B64, encode::Alu::Add, Reg::Rsp, 8);
    for r in SAVED.iter().rev() {
        a.pop(*r);
    }
    a.ret();
    (a.code, exit)
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
