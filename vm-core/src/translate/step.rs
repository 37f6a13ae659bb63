//! Single-step fallback: executes one guest instruction that the back end
//! does not translate inline (system instructions, CSRs, atomics), with the
//! interpreter's semantics, on the dispatcher's side of the fence.
//!
//! Contract (the same as the interpreter's, so both engines agree):
//! `Ok(())` means the instruction retired (`pc` advanced, `instret` + 1);
//! `Err(trap)` leaves `pc` at the instruction and the registers untouched,
//! except `ecall`, which counts as retired (the OS-call layer completes it
//! and moves `pc` on).
//!
//! Floating point (F/D) is not handled here yet: see [`step`].

use crate::cpu::{Cpu, Trap};
use crate::decode::{A, Csr, Inst};
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

/// Execute the instruction `inst` (of `len` bytes) at `cpu.pc`.
///
/// F/D instructions are not implemented here: they report an illegal
/// instruction until the interpreter exposes a single-step entry point to
/// delegate to (see the translator's report).
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
        _ => return Err(illegal(mem, pc)),
    }
    cpu.pc = pc.wrapping_add(len as u64);
    cpu.instret = cpu.instret.wrapping_add(1);
    Ok(())
}
