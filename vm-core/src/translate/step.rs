//! Single-step fallback: executes one guest instruction that the back end
//! does not translate inline (system instructions, CSRs, atomics), with the
//! interpreter's semantics, on the dispatcher's side of the fence.
//!
//! This duplicates the interpreter's semantics for those instructions
//! because the interpreter has no single-instruction entry point yet; the
//! differential test checks the two agree. When `interp` exposes one,
//! [`step`] should delegate to it.
//!
//! Contract (the same as the interpreter's, so both engines agree):
//! `Ok(())` means the instruction retired (`pc` advanced, `instret` + 1);
//! `Err(trap)` leaves `pc` at the instruction and the registers untouched,
//! except `ecall`, which counts as retired (the OS-call layer completes it
//! and moves `pc` on).

use crate::cpu::{Cpu, Trap};
use crate::decode::{A, Csr, F, F4, I, Inst, R, S};
use crate::fpu::{self, Rm};
use crate::memory::{Access, GuestMemory, MemFault};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

const FFLAGS: u16 = 0x001;
const FRM: u16 = 0x002;
const FCSR: u16 = 0x003;
const CYCLE: u16 = 0xc00;
const TIME: u16 = 0xc01;
const INSTRET: u16 = 0xc02;

fn illegal(mem: &GuestMemory, pc: u64) -> Trap {
    Trap::IllegalInstruction(super::fetch(mem, pc).unwrap_or(0))
}

fn csr_read(cpu: &Cpu, mem: &GuestMemory, n: u16) -> Option<u64> {
    Some(match n {
        FFLAGS => cpu.fflags as u64 & 0x1f,
        FRM => cpu.frm as u64 & 7,
        FCSR => ((cpu.frm as u64 & 7) << 5) | (cpu.fflags as u64 & 0x1f),
        CYCLE | INSTRET => cpu.instret,
        TIME => {
            // A 10 MHz timebase, as Linux on QEMU's virt machine reports.
            let t = mem.host().clock_gettime(1).unwrap_or_default();
            (t.sec as u64)
                .wrapping_mul(10_000_000)
                .wrapping_add(t.nsec as u64 / 100)
        }
        _ => return None,
    })
}

fn csr(cpu: &mut Cpu, mem: &GuestMemory, c: Csr, kind: u8, imm: bool) -> Result<(), ()> {
    let src = if imm {
        c.rs1 as u64
    } else {
        cpu.x[(c.rs1 & 31) as usize]
    };
    let old = csr_read(cpu, mem, c.csr).ok_or(())?;
    // csrrs/csrrc with x0 (or immediate 0) do not write.
    if kind == 0 || c.rs1 != 0 {
        let v = match kind {
            0 => src,
            1 => old | src,
            _ => old & !src,
        };
        match c.csr {
            FFLAGS => cpu.fflags = (v & 0x1f) as u32,
            FRM => cpu.frm = (v & 7) as u32,
            FCSR => {
                cpu.fflags = (v & 0x1f) as u32;
                cpu.frm = ((v >> 5) & 7) as u32;
            }
            _ => return Err(()),
        }
    }
    set(cpu, c.rd, old);
    Ok(())
}

fn set(cpu: &mut Cpu, rd: u8, v: u64) {
    if rd != 0 {
        cpu.x[(rd & 31) as usize] = v;
    }
}

fn misaligned(addr: u64, access: Access) -> MemFault {
    MemFault {
        addr,
        access,
        mapped: true,
    }
}

/// Host pointer for an aligned read-write atomic access.
fn atomic_ptr(mem: &GuestMemory, addr: u64, size: u64) -> Result<*mut u8, MemFault> {
    if addr & (size - 1) != 0 {
        return Err(misaligned(addr, Access::Write));
    }
    mem.check(addr, size, Access::Read)?;
    mem.check(addr, size, Access::Write)
}

fn atomic32(mem: &GuestMemory, addr: u64) -> Result<&AtomicU32, MemFault> {
    let p = atomic_ptr(mem, addr, 4)?;
    // SAFETY: `check` proved the 4 bytes are inside the guest reservation,
    // which lives as long as `mem`; the address is 4-aligned and the
    // reservation is page aligned, so the pointer is aligned.
    Ok(unsafe { AtomicU32::from_ptr(p as *mut u32) })
}

fn atomic64(mem: &GuestMemory, addr: u64) -> Result<&AtomicU64, MemFault> {
    let p = atomic_ptr(mem, addr, 8)?;
    // SAFETY: as in `atomic32`, with 8-byte alignment.
    Ok(unsafe { AtomicU64::from_ptr(p as *mut u64) })
}

fn rmw32(m: &AtomicU32, f: impl Fn(u32) -> u32) -> u32 {
    let mut old = m.load(Ordering::Relaxed);
    loop {
        match m.compare_exchange_weak(old, f(old), Ordering::SeqCst, Ordering::Relaxed) {
            Ok(o) => return o,
            Err(o) => old = o,
        }
    }
}

fn rmw64(m: &AtomicU64, f: impl Fn(u64) -> u64) -> u64 {
    let mut old = m.load(Ordering::Relaxed);
    loop {
        match m.compare_exchange_weak(old, f(old), Ordering::SeqCst, Ordering::Relaxed) {
            Ok(o) => return o,
            Err(o) => old = o,
        }
    }
}

/// An atomic instruction; `Ok(value for rd)`.
fn atomic(cpu: &mut Cpu, mem: &GuestMemory, inst: Inst, lr_value: &mut u64) -> Result<u64, Trap> {
    use Inst::*;
    let x = |r: u8| cpu.x[(r & 31) as usize];
    let f = Trap::MemFault;
    Ok(match inst {
        LrW(A { rs1, .. }) | LrD(A { rs1, .. }) => {
            let a = x(rs1);
            let d = matches!(inst, LrD(_));
            if a & if d { 7 } else { 3 } != 0 {
                return Err(f(misaligned(a, Access::Read)));
            }
            let v = if d {
                mem.read_u64(a).map_err(f)?
            } else {
                mem.read_u32(a).map_err(f)? as u64
            };
            cpu.reservation = Some(a);
            *lr_value = v;
            if d { v } else { v as u32 as i32 as u64 }
        }
        ScW(A { rs1, rs2, .. }) | ScD(A { rs1, rs2, .. }) => {
            let a = x(rs1);
            let d = matches!(inst, ScD(_));
            if a & if d { 7 } else { 3 } != 0 {
                return Err(f(misaligned(a, Access::Write)));
            }
            let ok = if cpu.reservation == Some(a) {
                if d {
                    atomic64(mem, a)
                        .map_err(f)?
                        .compare_exchange(*lr_value, x(rs2), Ordering::SeqCst, Ordering::Relaxed)
                        .is_ok()
                } else {
                    atomic32(mem, a)
                        .map_err(f)?
                        .compare_exchange(
                            *lr_value as u32,
                            x(rs2) as u32,
                            Ordering::SeqCst,
                            Ordering::Relaxed,
                        )
                        .is_ok()
                }
            } else {
                false
            };
            cpu.reservation = None;
            !ok as u64
        }
        AmoswapW(q) | AmoaddW(q) | AmoxorW(q) | AmoandW(q) | AmoorW(q) | AmominW(q)
        | AmomaxW(q) | AmominuW(q) | AmomaxuW(q) => {
            let m = atomic32(mem, x(q.rs1)).map_err(f)?;
            let v = x(q.rs2) as u32;
            let old = match inst {
                AmoswapW(_) => m.swap(v, Ordering::SeqCst),
                AmoaddW(_) => m.fetch_add(v, Ordering::SeqCst),
                AmoxorW(_) => m.fetch_xor(v, Ordering::SeqCst),
                AmoandW(_) => m.fetch_and(v, Ordering::SeqCst),
                AmoorW(_) => m.fetch_or(v, Ordering::SeqCst),
                AmominW(_) => rmw32(m, |o| (o as i32).min(v as i32) as u32),
                AmomaxW(_) => rmw32(m, |o| (o as i32).max(v as i32) as u32),
                AmominuW(_) => rmw32(m, |o| o.min(v)),
                _ => rmw32(m, |o| o.max(v)),
            };
            old as i32 as u64
        }
        AmoswapD(q) | AmoaddD(q) | AmoxorD(q) | AmoandD(q) | AmoorD(q) | AmominD(q)
        | AmomaxD(q) | AmominuD(q) | AmomaxuD(q) => {
            let m = atomic64(mem, x(q.rs1)).map_err(f)?;
            let v = x(q.rs2);
            match inst {
                AmoswapD(_) => m.swap(v, Ordering::SeqCst),
                AmoaddD(_) => m.fetch_add(v, Ordering::SeqCst),
                AmoxorD(_) => m.fetch_xor(v, Ordering::SeqCst),
                AmoandD(_) => m.fetch_and(v, Ordering::SeqCst),
                AmoorD(_) => m.fetch_or(v, Ordering::SeqCst),
                AmominD(_) => rmw64(m, |o| (o as i64).min(v as i64) as u64),
                AmomaxD(_) => rmw64(m, |o| (o as i64).max(v as i64) as u64),
                AmominuD(_) => rmw64(m, |o| o.min(v)),
                _ => rmw64(m, |o| o.max(v)),
            }
        }
        _ => unreachable!("not an atomic: {inst:?}"),
    })
}

const SIGN32: u32 = 0x8000_0000;
const SIGN64: u64 = 0x8000_0000_0000_0000;

/// A single read from an f register: anything not NaN-boxed is the
/// canonical NaN.
fn unbox(v: u64) -> u32 {
    if v >> 32 == 0xffff_ffff {
        v as u32
    } else {
        fpu::CANONICAL_NAN_32
    }
}

fn nanbox(v: u32) -> u64 {
    0xffff_ffff_0000_0000 | v as u64
}

fn sext32(v: u32) -> u64 {
    v as i32 as i64 as u64
}

/// What an F/D instruction produces.
enum Out {
    X(u64),
    S(u32),
    D(u64),
    None,
}

/// An F/D instruction: `Ok(None)` if `inst` is not one, `Err(None)` for an
/// illegal rounding mode, `Err(Some(trap))` for a memory fault.
fn float(
    cpu: &Cpu,
    mem: &GuestMemory,
    inst: Inst,
    fl: &mut u32,
) -> Result<Option<(u8, Out)>, Option<Trap>> {
    use Inst::*;
    let frm = cpu.frm;
    let rm = |rm: u8| -> Result<Rm, Option<Trap>> {
        Rm::from_bits(if rm == 7 { frm } else { rm as u32 }).ok_or(None)
    };
    let x = |r: u8| cpu.x[(r & 31) as usize];
    let fd = |r: u8| cpu.f[(r & 31) as usize];
    let fs = |r: u8| unbox(cpu.f[(r & 31) as usize]);
    let addr = |r: u8, imm: i32| x(r).wrapping_add(imm as i64 as u64);
    let fault = |f| Some(Trap::MemFault(f));
    Ok(Some(match inst {
        Flw(I { rd, rs1, imm }) => (rd, Out::S(mem.read_u32(addr(rs1, imm)).map_err(fault)?)),
        Fld(I { rd, rs1, imm }) => (rd, Out::D(mem.read_u64(addr(rs1, imm)).map_err(fault)?)),
        Fsw(S { rs1, rs2, imm }) => {
            mem.write_u32(addr(rs1, imm), fd(rs2) as u32)
                .map_err(fault)?;
            (0, Out::None)
        }
        Fsd(S { rs1, rs2, imm }) => {
            mem.write_u64(addr(rs1, imm), fd(rs2)).map_err(fault)?;
            (0, Out::None)
        }
        FmvXW(R { rd, rs1, .. }) => (rd, Out::X(sext32(fd(rs1) as u32))),
        FmvWX(R { rd, rs1, .. }) => (rd, Out::S(x(rs1) as u32)),
        FmvXD(R { rd, rs1, .. }) => (rd, Out::X(fd(rs1))),
        FmvDX(R { rd, rs1, .. }) => (rd, Out::D(x(rs1))),
        FsgnjS(R { rd, rs1, rs2 }) => (rd, Out::S((fs(rs1) & !SIGN32) | (fs(rs2) & SIGN32))),
        FsgnjnS(R { rd, rs1, rs2 }) => (rd, Out::S((fs(rs1) & !SIGN32) | (!fs(rs2) & SIGN32))),
        FsgnjxS(R { rd, rs1, rs2 }) => (rd, Out::S(fs(rs1) ^ (fs(rs2) & SIGN32))),
        FsgnjD(R { rd, rs1, rs2 }) => (rd, Out::D((fd(rs1) & !SIGN64) | (fd(rs2) & SIGN64))),
        FsgnjnD(R { rd, rs1, rs2 }) => (rd, Out::D((fd(rs1) & !SIGN64) | (!fd(rs2) & SIGN64))),
        FsgnjxD(R { rd, rs1, rs2 }) => (rd, Out::D(fd(rs1) ^ (fd(rs2) & SIGN64))),
        FclassS(R { rd, rs1, .. }) => (rd, Out::X(fpu::f32_class(fs(rs1)))),
        FclassD(R { rd, rs1, .. }) => (rd, Out::X(fpu::f64_class(fd(rs1)))),
        FaddS(F {
            rd,
            rs1,
            rs2,
            rm: m,
        }) => (rd, Out::S(fpu::f32_add(fs(rs1), fs(rs2), rm(m)?, fl))),
        FsubS(F {
            rd,
            rs1,
            rs2,
            rm: m,
        }) => (rd, Out::S(fpu::f32_sub(fs(rs1), fs(rs2), rm(m)?, fl))),
        FmulS(F {
            rd,
            rs1,
            rs2,
            rm: m,
        }) => (rd, Out::S(fpu::f32_mul(fs(rs1), fs(rs2), rm(m)?, fl))),
        FdivS(F {
            rd,
            rs1,
            rs2,
            rm: m,
        }) => (rd, Out::S(fpu::f32_div(fs(rs1), fs(rs2), rm(m)?, fl))),
        FaddD(F {
            rd,
            rs1,
            rs2,
            rm: m,
        }) => (rd, Out::D(fpu::f64_add(fd(rs1), fd(rs2), rm(m)?, fl))),
        FsubD(F {
            rd,
            rs1,
            rs2,
            rm: m,
        }) => (rd, Out::D(fpu::f64_sub(fd(rs1), fd(rs2), rm(m)?, fl))),
        FmulD(F {
            rd,
            rs1,
            rs2,
            rm: m,
        }) => (rd, Out::D(fpu::f64_mul(fd(rs1), fd(rs2), rm(m)?, fl))),
        FdivD(F {
            rd,
            rs1,
            rs2,
            rm: m,
        }) => (rd, Out::D(fpu::f64_div(fd(rs1), fd(rs2), rm(m)?, fl))),
        FsqrtS(F { rd, rs1, rm: m, .. }) => (rd, Out::S(fpu::f32_sqrt(fs(rs1), rm(m)?, fl))),
        FsqrtD(F { rd, rs1, rm: m, .. }) => (rd, Out::D(fpu::f64_sqrt(fd(rs1), rm(m)?, fl))),
        FmaddS(q) | FmsubS(q) | FnmsubS(q) | FnmaddS(q) => {
            let F4 {
                rd,
                rs1,
                rs2,
                rs3,
                rm: m,
            } = q;
            let (np, nc) = match inst {
                FmaddS(_) => (false, false),
                FmsubS(_) => (false, true),
                FnmsubS(_) => (true, false),
                _ => (true, true),
            };
            let a = fs(rs1) ^ if np { SIGN32 } else { 0 };
            let c = fs(rs3) ^ if nc { SIGN32 } else { 0 };
            (rd, Out::S(fpu::f32_fma(a, fs(rs2), c, rm(m)?, fl)))
        }
        FmaddD(q) | FmsubD(q) | FnmsubD(q) | FnmaddD(q) => {
            let F4 {
                rd,
                rs1,
                rs2,
                rs3,
                rm: m,
            } = q;
            let (np, nc) = match inst {
                FmaddD(_) => (false, false),
                FmsubD(_) => (false, true),
                FnmsubD(_) => (true, false),
                _ => (true, true),
            };
            let a = fd(rs1) ^ if np { SIGN64 } else { 0 };
            let c = fd(rs3) ^ if nc { SIGN64 } else { 0 };
            (rd, Out::D(fpu::f64_fma(a, fd(rs2), c, rm(m)?, fl)))
        }
        FminS(R { rd, rs1, rs2 }) => (rd, Out::S(fpu::f32_min(fs(rs1), fs(rs2), fl))),
        FmaxS(R { rd, rs1, rs2 }) => (rd, Out::S(fpu::f32_max(fs(rs1), fs(rs2), fl))),
        FminD(R { rd, rs1, rs2 }) => (rd, Out::D(fpu::f64_min(fd(rs1), fd(rs2), fl))),
        FmaxD(R { rd, rs1, rs2 }) => (rd, Out::D(fpu::f64_max(fd(rs1), fd(rs2), fl))),
        FeqS(R { rd, rs1, rs2 }) => (rd, Out::X(fpu::f32_eq(fs(rs1), fs(rs2), fl) as u64)),
        FltS(R { rd, rs1, rs2 }) => (rd, Out::X(fpu::f32_lt(fs(rs1), fs(rs2), fl) as u64)),
        FleS(R { rd, rs1, rs2 }) => (rd, Out::X(fpu::f32_le(fs(rs1), fs(rs2), fl) as u64)),
        FeqD(R { rd, rs1, rs2 }) => (rd, Out::X(fpu::f64_eq(fd(rs1), fd(rs2), fl) as u64)),
        FltD(R { rd, rs1, rs2 }) => (rd, Out::X(fpu::f64_lt(fd(rs1), fd(rs2), fl) as u64)),
        FleD(R { rd, rs1, rs2 }) => (rd, Out::X(fpu::f64_le(fd(rs1), fd(rs2), fl) as u64)),
        FcvtWS(F { rd, rs1, rm: m, .. }) => (
            rd,
            Out::X(fpu::f32_to_i32(fs(rs1), rm(m)?, fl) as i64 as u64),
        ),
        FcvtWuS(F { rd, rs1, rm: m, .. }) => {
            (rd, Out::X(sext32(fpu::f32_to_u32(fs(rs1), rm(m)?, fl))))
        }
        FcvtLS(F { rd, rs1, rm: m, .. }) => {
            (rd, Out::X(fpu::f32_to_i64(fs(rs1), rm(m)?, fl) as u64))
        }
        FcvtLuS(F { rd, rs1, rm: m, .. }) => (rd, Out::X(fpu::f32_to_u64(fs(rs1), rm(m)?, fl))),
        FcvtWD(F { rd, rs1, rm: m, .. }) => (
            rd,
            Out::X(fpu::f64_to_i32(fd(rs1), rm(m)?, fl) as i64 as u64),
        ),
        FcvtWuD(F { rd, rs1, rm: m, .. }) => {
            (rd, Out::X(sext32(fpu::f64_to_u32(fd(rs1), rm(m)?, fl))))
        }
        FcvtLD(F { rd, rs1, rm: m, .. }) => {
            (rd, Out::X(fpu::f64_to_i64(fd(rs1), rm(m)?, fl) as u64))
        }
        FcvtLuD(F { rd, rs1, rm: m, .. }) => (rd, Out::X(fpu::f64_to_u64(fd(rs1), rm(m)?, fl))),
        FcvtSW(F { rd, rs1, rm: m, .. }) => {
            (rd, Out::S(fpu::i32_to_f32(x(rs1) as i32, rm(m)?, fl)))
        }
        FcvtSWu(F { rd, rs1, rm: m, .. }) => {
            (rd, Out::S(fpu::u32_to_f32(x(rs1) as u32, rm(m)?, fl)))
        }
        FcvtSL(F { rd, rs1, rm: m, .. }) => {
            (rd, Out::S(fpu::i64_to_f32(x(rs1) as i64, rm(m)?, fl)))
        }
        FcvtSLu(F { rd, rs1, rm: m, .. }) => (rd, Out::S(fpu::u64_to_f32(x(rs1), rm(m)?, fl))),
        FcvtDW(F { rd, rs1, rm: m, .. }) => {
            (rd, Out::D(fpu::i32_to_f64(x(rs1) as i32, rm(m)?, fl)))
        }
        FcvtDWu(F { rd, rs1, rm: m, .. }) => {
            (rd, Out::D(fpu::u32_to_f64(x(rs1) as u32, rm(m)?, fl)))
        }
        FcvtDL(F { rd, rs1, rm: m, .. }) => {
            (rd, Out::D(fpu::i64_to_f64(x(rs1) as i64, rm(m)?, fl)))
        }
        FcvtDLu(F { rd, rs1, rm: m, .. }) => (rd, Out::D(fpu::u64_to_f64(x(rs1), rm(m)?, fl))),
        FcvtSD(F { rd, rs1, rm: m, .. }) => (rd, Out::S(fpu::f64_to_f32(fd(rs1), rm(m)?, fl))),
        FcvtDS(F { rd, rs1, rm: m, .. }) => {
            // Exact, but a reserved rounding mode is still illegal.
            rm(m)?;
            (rd, Out::D(fpu::f32_to_f64(fs(rs1), fl)))
        }
        _ => return Ok(None),
    }))
}

/// Execute the instruction `inst` (of `len` bytes) at `cpu.pc`.
pub fn step(
    cpu: &mut Cpu,
    mem: &GuestMemory,
    inst: Inst,
    len: u8,
    lr_value: &mut u64,
) -> Result<(), Trap> {
    use Inst::*;
    let pc = cpu.pc;
    match inst {
        Ecall => {
            cpu.instret = cpu.instret.wrapping_add(1);
            return Err(Trap::Ecall);
        }
        Ebreak => return Err(Trap::Ebreak),
        FenceI => mem.invalidate_code(),
        Fence(_) => core::sync::atomic::fence(Ordering::SeqCst),
        Csrrw(c) | Csrrs(c) | Csrrc(c) | Csrrwi(c) | Csrrsi(c) | Csrrci(c) => {
            let (kind, imm) = match inst {
                Csrrw(_) => (0, false),
                Csrrs(_) => (1, false),
                Csrrc(_) => (2, false),
                Csrrwi(_) => (0, true),
                Csrrsi(_) => (1, true),
                _ => (2, true),
            };
            csr(cpu, mem, c, kind, imm).map_err(|()| illegal(mem, pc))?;
        }
        LrW(a) | LrD(a) | ScW(a) | ScD(a) | AmoswapW(a) | AmoaddW(a) | AmoxorW(a) | AmoandW(a)
        | AmoorW(a) | AmominW(a) | AmomaxW(a) | AmominuW(a) | AmomaxuW(a) | AmoswapD(a)
        | AmoaddD(a) | AmoxorD(a) | AmoandD(a) | AmoorD(a) | AmominD(a) | AmomaxD(a)
        | AmominuD(a) | AmomaxuD(a) => {
            let v = atomic(cpu, mem, inst, lr_value)?;
            set(cpu, a.rd, v);
        }
        Illegal(bits) => return Err(Trap::IllegalInstruction(bits)),
        _ => {
            // F/D work on a copy of fflags so a trapping instruction
            // leaves no trace.
            let mut flags = cpu.fflags;
            match float(cpu, mem, inst, &mut flags) {
                Ok(Some((rd, out))) => {
                    cpu.fflags = flags;
                    match out {
                        Out::X(v) => set(cpu, rd, v),
                        Out::S(v) => cpu.f[(rd & 31) as usize] = nanbox(v),
                        Out::D(v) => cpu.f[(rd & 31) as usize] = v,
                        Out::None => {}
                    }
                }
                Ok(None) | Err(None) => return Err(illegal(mem, pc)),
                Err(Some(t)) => return Err(t),
            }
        }
    }
    cpu.pc = pc.wrapping_add(len as u64);
    cpu.instret = cpu.instret.wrapping_add(1);
    Ok(())
}
