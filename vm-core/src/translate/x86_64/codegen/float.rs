//! F/D instructions in translated code: the common ones inline on SSE, bit
//! for bit what the interpreter (and so [`crate::fpu`]) computes, results
//! and accrued flags both.
//!
//! Flags without reading MXCSR at every operation: translated code runs
//! with MXCSR = [`MXCSR_DEFAULT`](super::super::MXCSR_DEFAULT) (loaded by
//! the entry code: every exception masked, round to nearest even, no
//! flush-to-zero or denormals-are-zero), and x86's sticky exception flags
//! stand in for RISC-V's while it runs: PE for NX, UE for UF, OE for OF,
//! ZE for DZ, IE for NV (DE, the denormal-operand flag, has no RISC-V twin
//! and is ignored). The true `fflags` are `Cpu::fflags` plus the flags
//! MXCSR holds ([`mxcsr_fflags`](super::super::mxcsr_fflags)). The exit
//! code and the step helper fold MXCSR into `Cpu::fflags` (see
//! `super::super::fixed_code` and `step_helper`), and the inline
//! `fflags`/`fcsr` accesses here take it into account.
//!
//! Under round to nearest even, x86's SSE arithmetic (add, subtract,
//! multiply, divide, square root, fused multiply-add, double to single)
//! is IEEE 754's, as RISC-V's is, and both detect tininess after rounding,
//! so for any result that is not a NaN the two agree on the value and on
//! the flags: an inline operation keeps every non-NaN host result and
//! lets MXCSR accrue its flags. The one difference is the NaN: RISC-V
//! returns the canonical NaN, x86 its default NaN (another sign) or an
//! operand's payload. So a NaN result takes the exact path. The flags the
//! abandoned host attempt raised are then a subset of RISC-V's (x86 raises
//! IE only for a signaling operand or an invalid operation, where RISC-V
//! raises NV as well), so they do no harm. Other inline forms:
//! - float to signed integer: anything but the "integer indefinite" (only
//!   the sign bit set) that x86 returns for NaN and out-of-range values
//!   (with IE, where RISC-V raises NV too); in range, x86 and RISC-V round
//!   alike and both flag only inexactness;
//! - integer to float and single to double: always (single to double only
//!   for non-NaN operands), these never overflow or underflow;
//! - compares, minimum and maximum: ordered operands (no flags at all).
//!
//! Every other case, a dynamic rounding mode other than round to nearest
//! even, and a single operand that is not NaN-boxed (RISC-V reads it as the
//! canonical NaN), run the instruction through the step helper instead,
//! out of line. Float to unsigned conversions are inline only for operands
//! that are in range whatever the rounding (checked on the bits before
//! converting): converting an out-of-range value such as -1.5 through a
//! signed conversion would set PE where RISC-V raises NV alone.

use super::super::encode::{Alu, AsmError, Cond, Label, Mem, Reg, Shift, SseOp, Unary, W, Xmm};
use super::super::{Helper, MXCSR_DEFAULT, MXCSR_RARE, emit_mxcsr_fflags, off};
use super::{Cold, Gen, GuestInst};
use crate::decode::{CsrOp, Inst};
use crate::translate::backend::StepInst;
use alloc::vec::Vec;

/// The upper half of a NaN-boxed single.
const BOX: u64 = 0xffff_ffff_0000_0000;
const SIGN: u64 = 1 << 63;
/// MXCSR.PE (precision, i.e. inexact).
const PE: i32 = 1 << 5;

/// CSR numbers of the floating-point CSRs.
const FFLAGS: u16 = 0x001;
const FRM: u16 = 0x002;
const FCSR: u16 = 0x003;

/// Guest register `f[r]`.
fn f(r: u8) -> Mem {
    Mem::base(Reg::Rbx, off::f(r))
}

/// The upper half of `f[r]` (all ones when it holds a boxed single).
fn f_hi(r: u8) -> Mem {
    Mem::base(Reg::Rbx, off::f(r) + 4)
}

fn fflags() -> Mem {
    Mem::base(Reg::Rbx, off::FFLAGS)
}

fn frm() -> Mem {
    Mem::base(Reg::Rbx, off::FRM)
}

/// The rounding modes an inline operation handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Round to nearest even: static `rne`, or `dyn` with `frm` = 0.
    Rne,
    /// Any valid mode (the result is exact): static 0..=4, or `dyn` with a
    /// valid `frm`. Reserved ones are illegal: the exact path says so.
    Exact,
}

impl Mode {
    /// Can `rm` be inline at all (a `dyn` one is checked at run time)?
    fn allows(self, rm: u8) -> bool {
        match self {
            Mode::Rne => rm == 0 || rm == 7,
            Mode::Exact => rm <= 4 || rm == 7,
        }
    }
}

impl Gen {
    /// The F/D instructions (and floating-point CSR accesses) with inline
    /// code; `Ok(false)` leaves `gi` to the step helper.
    pub(super) fn float(
        &mut self,
        gi: &GuestInst,
        index: u32,
        steps: &mut Vec<StepInst>,
    ) -> Result<bool, AsmError> {
        use Inst::*;
        match gi.inst {
            Fld(i) | Flw(i) => {
                let d = matches!(gi.inst, Fld(_));
                let h = if d { Helper::LoadU64 } else { Helper::LoadU32 };
                self.load_to(i.rs1, i.imm, h, gi, index, Reg::Rax)?;
                if !d {
                    self.a.mov_imm(Reg::Rcx, BOX);
                    self.a.alu_rr(W::B64, Alu::Or, Reg::Rax, Reg::Rcx);
                }
                self.a.store(W::B64, f(i.rd), Reg::Rax);
            }
            Fsd(s) | Fsw(s) => {
                let h = if matches!(gi.inst, Fsd(_)) {
                    Helper::StoreU64
                } else {
                    Helper::StoreU32
                };
                self.addr(s.rs1, s.imm);
                self.a.load(W::B64, Reg::Rdx, f(s.rs2));
                self.store_call(h, gi, index, Reg::Rdx)?;
            }
            FmvXD(r) => {
                self.a.load(W::B64, Reg::Rax, f(r.rs1));
                self.put(r.rd, Reg::Rax);
            }
            FmvDX(r) => {
                self.get(Reg::Rax, r.rs1);
                self.a.store(W::B64, f(r.rd), Reg::Rax);
            }
            FmvXW(r) => {
                self.a.load_sx(W::B32, Reg::Rax, f(r.rs1));
                self.put(r.rd, Reg::Rax);
            }
            FmvWX(r) => {
                self.get(Reg::Rax, r.rs1);
                self.a.mov_rr(W::B32, Reg::Rax, Reg::Rax);
                self.a.mov_imm(Reg::Rcx, BOX);
                self.a.alu_rr(W::B64, Alu::Or, Reg::Rax, Reg::Rcx);
                self.a.store(W::B64, f(r.rd), Reg::Rax);
            }
            FsgnjD(r) | FsgnjnD(r) | FsgnjxD(r) => {
                self.a.load(W::B64, Reg::Rax, f(r.rs1));
                self.a.load(W::B64, Reg::Rcx, f(r.rs2));
                self.a.mov_imm(Reg::Rdx, SIGN);
                if matches!(gi.inst, FsgnjnD(_)) {
                    self.a.unary(W::B64, Unary::Not, Reg::Rcx);
                }
                self.a.alu_rr(W::B64, Alu::And, Reg::Rcx, Reg::Rdx);
                if !matches!(gi.inst, FsgnjxD(_)) {
                    self.a.unary(W::B64, Unary::Not, Reg::Rdx);
                    self.a.alu_rr(W::B64, Alu::And, Reg::Rax, Reg::Rdx);
                }
                self.a.alu_rr(W::B64, Alu::Xor, Reg::Rax, Reg::Rcx);
                self.a.store(W::B64, f(r.rd), Reg::Rax);
            }
            FsgnjS(r) | FsgnjnS(r) | FsgnjxS(r) => {
                let inst = gi.inst;
                self.fast(gi, index, steps, 0, Mode::Rne, &[r.rs1, r.rs2], |g, _| {
                    // On the boxed value: flip the sign bit (31) where
                    // the wanted sign differs, which keeps the box.
                    let a = &mut g.a;
                    a.load(W::B64, Reg::Rax, f(r.rs1));
                    a.load(W::B32, Reg::Rcx, f(r.rs2));
                    if !matches!(inst, FsgnjxS(_)) {
                        a.alu_rr(W::B32, Alu::Xor, Reg::Rcx, Reg::Rax);
                    }
                    if matches!(inst, FsgnjnS(_)) {
                        a.unary(W::B32, Unary::Not, Reg::Rcx);
                    }
                    a.alu_ri(W::B32, Alu::And, Reg::Rcx, i32::MIN);
                    a.alu_rr(W::B64, Alu::Xor, Reg::Rax, Reg::Rcx);
                    a.store(W::B64, f(r.rd), Reg::Rax);
                    None
                });
            }
            FaddD(q) | FsubD(q) | FmulD(q) | FdivD(q) | FaddS(q) | FsubS(q) | FmulS(q)
            | FdivS(q)
                if Mode::Rne.allows(q.rm) =>
            {
                let op = match gi.inst {
                    FaddD(_) | FaddS(_) => SseOp::Add,
                    FsubD(_) | FsubS(_) => SseOp::Sub,
                    FmulD(_) | FmulS(_) => SseOp::Mul,
                    _ => SseOp::Div,
                };
                let d = matches!(gi.inst, FaddD(_) | FsubD(_) | FmulD(_) | FdivD(_));
                let boxed: &[u8] = if d { &[] } else { &[q.rs1, q.rs2] };
                let fwd = self.in_xmm0(gi);
                // Sums and products commute (bit for bit, when no NaN is
                // involved), so either operand can be the one in xmm0.
                let (a, b) = if matches!(op, SseOp::Add | SseOp::Mul)
                    && fwd == Some(q.rs2)
                    && fwd != Some(q.rs1)
                {
                    (q.rs2, q.rs1)
                } else {
                    (q.rs1, q.rs2)
                };
                self.fast(gi, index, steps, q.rm, Mode::Rne, boxed, |g, slow| {
                    // A single's box rides along in the upper half.
                    g.load_xmm0(a, fwd);
                    g.a.sse_rm(op, d, Xmm(0), f(b));
                    g.fp_result(d, q.rd, &[q.rs1, q.rs2], slow);
                    Some(q.rd)
                });
            }
            FsqrtD(q) | FsqrtS(q) if Mode::Rne.allows(q.rm) => {
                let d = matches!(gi.inst, FsqrtD(_));
                let boxed: &[u8] = if d { &[] } else { &[q.rs1] };
                let fwd = self.in_xmm0(gi);
                self.fast(gi, index, steps, q.rm, Mode::Rne, boxed, |g, slow| {
                    g.load_xmm0(q.rs1, fwd);
                    g.a.sse_rr(SseOp::Sqrt, d, Xmm(0), Xmm(0));
                    g.fp_result(d, q.rd, &[q.rs1], slow);
                    Some(q.rd)
                });
            }
            FmaddD(q) | FmsubD(q) | FnmsubD(q) | FnmaddD(q) | FmaddS(q) | FmsubS(q)
            | FnmsubS(q) | FnmaddS(q)
                if self.stubs.fma && Mode::Rne.allows(q.rm) =>
            {
                // RISC-V fnmsub is -(a*b) + c (x86 fnmadd); fnmadd is
                // -(a*b) - c (x86 fnmsub).
                let opc = match gi.inst {
                    FmaddD(_) | FmaddS(_) => 0xb9,
                    FmsubD(_) | FmsubS(_) => 0xbb,
                    FnmsubD(_) | FnmsubS(_) => 0xbd,
                    _ => 0xbf,
                };
                let d = matches!(gi.inst, FmaddD(_) | FmsubD(_) | FnmsubD(_) | FnmaddD(_));
                let boxed: &[u8] = if d { &[] } else { &[q.rs1, q.rs2, q.rs3] };
                let fwd = self.in_xmm0(gi);
                self.fast(gi, index, steps, q.rm, Mode::Rne, boxed, |g, slow| {
                    g.a.movq_load(Xmm(1), f(q.rs1));
                    g.load_xmm0(q.rs3, fwd);
                    g.a.vfma231(opc, d, Xmm(0), Xmm(1), f(q.rs2));
                    g.fp_result(d, q.rd, &[q.rs1, q.rs2, q.rs3], slow);
                    Some(q.rd)
                });
            }
            FminD(r) | FmaxD(r) | FminS(r) | FmaxS(r) => {
                // Ordered operands that differ: x86's min/max. Equal ones
                // (-0 and +0 among them): min is their bitwise or, max
                // their bitwise and (the boxes of singles survive both).
                // A NaN takes the exact path (RISC-V returns the other
                // operand, and raises NV for a signaling one only).
                let d = matches!(gi.inst, FminD(_) | FmaxD(_));
                let min = matches!(gi.inst, FminD(_) | FminS(_));
                let boxed: &[u8] = if d { &[] } else { &[r.rs1, r.rs2] };
                let fwd = self.in_xmm0(gi);
                self.fast(gi, index, steps, 0, Mode::Rne, boxed, |g, slow| {
                    let (eq, done) = (g.a.label(), g.a.label());
                    g.load_xmm0(r.rs1, fwd);
                    g.a.movq_load(Xmm(1), f(r.rs2));
                    g.a.ucomis(d, Xmm(0), Xmm(1));
                    g.a.jcc(Cond::P, slow);
                    g.a.jcc(Cond::E, eq);
                    let op = if min { SseOp::Min } else { SseOp::Max };
                    g.a.sse_rr(op, d, Xmm(0), Xmm(1));
                    g.a.jmp(done);
                    g.a.bind(eq);
                    g.a.mov_x2r(W::B64, Reg::Rax, Xmm(0));
                    g.a.mov_x2r(W::B64, Reg::Rcx, Xmm(1));
                    let op = if min { Alu::Or } else { Alu::And };
                    g.a.alu_rr(W::B64, op, Reg::Rax, Reg::Rcx);
                    g.a.mov_r2x(W::B64, Xmm(0), Reg::Rax);
                    g.a.bind(done);
                    g.a.movq_store(f(r.rd), Xmm(0));
                    Some(r.rd)
                });
            }
            FeqD(r) | FltD(r) | FleD(r) | FeqS(r) | FltS(r) | FleS(r) => {
                // Ordered operands raise no flags; unordered ones (NaNs)
                // take the exact path, which knows signaling from quiet.
                let c = match gi.inst {
                    FeqD(_) | FeqS(_) => Cond::E,
                    FltD(_) | FltS(_) => Cond::B,
                    _ => Cond::Be,
                };
                let d = matches!(gi.inst, FeqD(_) | FltD(_) | FleD(_));
                let boxed: &[u8] = if d { &[] } else { &[r.rs1, r.rs2] };
                let fwd = self.in_xmm0(gi);
                self.fast(gi, index, steps, 0, Mode::Rne, boxed, |g, slow| {
                    g.load_xmm0(r.rs1, fwd);
                    g.a.movq_load(Xmm(1), f(r.rs2));
                    g.a.mov_imm(Reg::Rax, 0);
                    g.a.ucomis(d, Xmm(0), Xmm(1));
                    g.a.jcc(Cond::P, slow);
                    g.a.setcc(c, Reg::Rax);
                    g.put(r.rd, Reg::Rax);
                    // The compare leaves its first operand in xmm0.
                    Some(r.rs1)
                });
            }
            FcvtDS(q) if Mode::Exact.allows(q.rm) => {
                self.fast(gi, index, steps, q.rm, Mode::Exact, &[q.rs1], |g, slow| {
                    g.a.movq_load(Xmm(0), f(q.rs1));
                    g.a.sse_rr(SseOp::Cvt, false, Xmm(0), Xmm(0));
                    g.a.ucomis(true, Xmm(0), Xmm(0));
                    g.a.jcc(Cond::P, slow);
                    g.a.movq_store(f(q.rd), Xmm(0));
                    Some(q.rd)
                });
            }
            FcvtSD(q) if Mode::Rne.allows(q.rm) => {
                self.fast(gi, index, steps, q.rm, Mode::Rne, &[], |g, slow| {
                    g.a.mov_imm(Reg::Rcx, BOX);
                    g.a.mov_r2x(W::B64, Xmm(0), Reg::Rcx);
                    g.a.sse_rm(SseOp::Cvt, true, Xmm(0), f(q.rs1));
                    g.fp_result(false, q.rd, &[q.rs1], slow);
                    Some(q.rd)
                });
            }
            FcvtWD(q) | FcvtLD(q) | FcvtWS(q) | FcvtLS(q)
                if q.rm == 1 || q.rm == 0 || q.rm == 7 =>
            {
                // rtz is C's conversion: x86's truncating one. Otherwise
                // the current MXCSR mode, round to nearest even.
                let d = matches!(gi.inst, FcvtWD(_) | FcvtLD(_));
                let w = if matches!(gi.inst, FcvtWD(_) | FcvtWS(_)) {
                    W::B32
                } else {
                    W::B64
                };
                let boxed: &[u8] = if d { &[] } else { &[q.rs1] };
                self.fast(gi, index, steps, q.rm, Mode::Rne, boxed, |g, slow| {
                    g.a.movq_load(Xmm(0), f(q.rs1));
                    g.a.cvt_f2i(d, q.rm == 1, w, Reg::Rax, Xmm(0));
                    // Only the integer indefinite (MIN) overflows here.
                    g.a.alu_ri(w, Alu::Cmp, Reg::Rax, 1);
                    g.a.jcc(Cond::O, slow);
                    if w == W::B32 {
                        g.a.movsxd(Reg::Rax, Reg::Rax);
                    }
                    g.put(q.rd, Reg::Rax);
                    None
                });
            }
            FcvtWuD(q) | FcvtLuD(q) | FcvtWuS(q) | FcvtLuS(q)
                if q.rm == 1 || q.rm == 0 || q.rm == 7 =>
            {
                // Through the signed 64-bit conversion, only for operands
                // whose rounded value is sure to be in range: above -0.5
                // (which rounds to 0, with NX, as on RISC-V) and below
                // 2^63 (doublewords) or 2^32 - 1 (words; 2^32 for
                // singles, whose largest value below it is 2^32 - 256).
                // Anything else, NaNs included, takes the exact path
                // before any host conversion, which could raise PE or IE
                // where RISC-V raises NV alone, or nothing.
                let d = matches!(gi.inst, FcvtWuD(_) | FcvtLuD(_));
                let long = matches!(gi.inst, FcvtLuD(_) | FcvtLuS(_));
                let boxed: &[u8] = if d { &[] } else { &[q.rs1] };
                self.fast(gi, index, steps, q.rm, Mode::Rne, boxed, |g, slow| {
                    let (pos, conv) = (g.a.label(), g.a.label());
                    // Bits in rax, magnitude shifted left by one in rcx.
                    if d {
                        g.a.load(W::B64, Reg::Rax, f(q.rs1));
                        g.a.lea(W::B64, Reg::Rcx, Mem::indexed(Reg::Rax, Reg::Rax));
                        g.a.test_rr(W::B64, Reg::Rax, Reg::Rax);
                    } else {
                        g.a.load(W::B32, Reg::Rax, f(q.rs1));
                        g.a.lea(W::B32, Reg::Rcx, Mem::indexed(Reg::Rax, Reg::Rax));
                        g.a.test_rr(W::B32, Reg::Rax, Reg::Rax);
                    }
                    g.a.jcc(Cond::Ns, pos);
                    let (half, limit): (u64, u64) = match (d, long) {
                        (true, true) => (0x3fe0_0000_0000_0000, 0x43e0_0000_0000_0000),
                        (true, false) => (0x3fe0_0000_0000_0000, 0x41ef_ffff_ffe0_0000),
                        (false, true) => (0x3f00_0000, 0x5f00_0000),
                        (false, false) => (0x3f00_0000, 0x4f80_0000),
                    };
                    for (bound, next) in [(half, Some(conv)), (limit, None)] {
                        if d {
                            g.a.mov_imm(Reg::Rdx, bound << 1);
                            g.a.alu_rr(W::B64, Alu::Cmp, Reg::Rcx, Reg::Rdx);
                        } else {
                            g.a.alu_ri(W::B32, Alu::Cmp, Reg::Rcx, (bound << 1) as u32 as i32);
                        }
                        g.a.jcc(Cond::Ae, slow);
                        if let Some(next) = next {
                            g.a.jmp(next);
                            g.a.bind(pos);
                        }
                    }
                    g.a.bind(conv);
                    g.a.movq_load(Xmm(0), f(q.rs1));
                    g.a.cvt_f2i(d, q.rm == 1, W::B64, Reg::Rax, Xmm(0));
                    if !long {
                        // RISC-V sign-extends the 32-bit result.
                        g.a.movsxd(Reg::Rax, Reg::Rax);
                    }
                    g.put(q.rd, Reg::Rax);
                    None
                });
            }
            FcvtDW(q) | FcvtDWu(q) | FcvtSW(q) | FcvtSWu(q) | FcvtDL(q) | FcvtSL(q)
            | FcvtDLu(q) | FcvtSLu(q) => {
                let inst = gi.inst;
                let d = matches!(inst, FcvtDW(_) | FcvtDWu(_) | FcvtDL(_) | FcvtDLu(_));
                // 32-bit integers to double are exact; anything else may
                // round.
                let mode = if matches!(inst, FcvtDW(_) | FcvtDWu(_)) {
                    Mode::Exact
                } else {
                    Mode::Rne
                };
                if !mode.allows(q.rm) {
                    return Ok(false);
                }
                self.fast(gi, index, steps, q.rm, mode, &[], |g, slow| {
                    g.get(Reg::Rax, q.rs1);
                    // A signed conversion of the 64-bit value: zero-extend
                    // unsigned words; unsigned doublewords above i64::MAX
                    // take the exact path.
                    let w = match inst {
                        FcvtDW(_) | FcvtSW(_) => W::B32,
                        FcvtDWu(_) | FcvtSWu(_) => {
                            g.a.mov_rr(W::B32, Reg::Rax, Reg::Rax);
                            W::B64
                        }
                        FcvtDLu(_) | FcvtSLu(_) => {
                            g.a.test_rr(W::B64, Reg::Rax, Reg::Rax);
                            g.a.jcc(Cond::S, slow);
                            W::B64
                        }
                        _ => W::B64,
                    };
                    // The conversion keeps the rest of xmm0: give it a
                    // fresh value (no dependency on older code), the box
                    // for a single.
                    if d {
                        g.a.mov_r2x(W::B64, Xmm(0), Reg::Rax);
                    } else {
                        g.a.mov_imm(Reg::Rcx, BOX);
                        g.a.mov_r2x(W::B64, Xmm(0), Reg::Rcx);
                    }
                    g.a.cvt_i2f(d, w, Xmm(0), Reg::Rax);
                    g.a.movq_store(f(q.rd), Xmm(0));
                    Some(q.rd)
                });
            }
            Csrrw(c) | Csrrs(c) | Csrrc(c) | Csrrwi(c) | Csrrsi(c) | Csrrci(c)
                if matches!(c.csr, FFLAGS | FRM | FCSR) =>
            {
                self.fp_csr(gi.inst);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// An instruction with an inline fast path `body` and the step helper
    /// as its exact path, out of line: `body` jumps to the label it is
    /// given to take the exact path instead. Before it, a `dyn` rounding
    /// mode `rm` is checked against `mode`, and the `boxed` registers must
    /// hold NaN-boxed singles.
    #[allow(clippy::too_many_arguments)]
    fn fast(
        &mut self,
        gi: &GuestInst,
        index: u32,
        steps: &mut Vec<StepInst>,
        rm: u8,
        mode: Mode,
        boxed: &[u8],
        body: impl FnOnce(&mut Gen, Label) -> Option<u8>,
    ) {
        let slow = self.a.label();
        let back = self.a.label();
        if rm == 7 {
            match mode {
                Mode::Rne => {
                    self.a.alu_mi(W::B32, Alu::Cmp, frm(), 0);
                    self.a.jcc(Cond::Ne, slow);
                }
                Mode::Exact => {
                    self.a.alu_mi(W::B32, Alu::Cmp, frm(), 4);
                    self.a.jcc(Cond::A, slow);
                }
            }
        }
        for (i, &r) in boxed.iter().enumerate() {
            if !boxed[..i].contains(&r) {
                self.a.alu_mi(W::B32, Alu::Cmp, f_hi(r), -1);
                self.a.jcc(Cond::Ne, slow);
            }
        }
        let xmm0 = body(self, slow);
        self.a.bind(back);
        self.xmm0 = xmm0.map(|r| (self.a.pos(), r));
        let step = steps.len() as u64;
        steps.push(StepInst {
            inst: gi.inst,
            len: gi.len,
            pc: gi.pc,
            index,
        });
        self.cold.push(Cold::Float {
            label: slow,
            back,
            gi: *gi,
            index,
            step,
            xmm0,
        });
    }

    /// The guest register whose value xmm0 holds at the start of `gi`, if
    /// any: the code emitted last was an inline floating-point
    /// instruction that left it there, and nothing else jumps to `gi`
    /// (the start of one of the region's blocks). Saves a store-to-load
    /// round trip on the chains of dependent operations.
    fn in_xmm0(&self, gi: &GuestInst) -> Option<u8> {
        match self.xmm0 {
            Some((p, r)) if p == self.a.pos() && !self.labels.contains_key(&gi.pc) => Some(r),
            _ => None,
        }
    }

    /// Load `f[r]` into xmm0 unless it is there already (`fwd`, see
    /// [`Gen::in_xmm0`]).
    fn load_xmm0(&mut self, r: u8, fwd: Option<u8>) {
        if fwd != Some(r) {
            self.a.movq_load(Xmm(0), f(r));
        }
    }

    /// Store the result in xmm0 (a double, or a single with the box above
    /// it) to `f[rd]` unless it is a NaN, else jump to `slow`. When `rd`
    /// is none of the instruction's `sources`, the store goes first, off
    /// the check's path (the exact path rewrites `f[rd]` anyway).
    fn fp_result(&mut self, double: bool, rd: u8, sources: &[u8], slow: Label) {
        let early = !sources.contains(&rd);
        let a = &mut self.a;
        if early {
            a.movq_store(f(rd), Xmm(0));
        }
        // Only a NaN differs from RISC-V's result (the canonical NaN).
        a.ucomis(double, Xmm(0), Xmm(0));
        a.jcc(Cond::P, slow);
        if !early {
            a.movq_store(f(rd), Xmm(0));
        }
    }

    /// `csrrw/csrrs/csrrc[i]` on `fflags`, `frm` or `fcsr`, as the
    /// interpreter's CSR code does them, with MXCSR's flags counted in
    /// (PE as NX inline, the rare others folded into `fflags` first).
    fn fp_csr(&mut self, inst: Inst) {
        let Some((c, kind, imm)) = inst.csr_op() else {
            unreachable!("a CSR instruction")
        };
        let writes = kind == CsrOp::Write || c.rs1 != 0;
        let has_flags = c.csr != FRM;
        let a = &mut self.a;
        let tmp = Mem::base(Reg::Rbp, off::MXCSR_TMP);
        // Old value into rax.
        if has_flags {
            a.mxcsr(false, tmp);
            a.load(W::B32, Reg::Rax, tmp);
            // Flags other than PE (and DE, which means nothing here): fold
            // them into fflags and clear MXCSR, out of the common path.
            let common = a.label();
            a.test_ri(W::B32, Reg::Rax, MXCSR_RARE as i32);
            a.jcc(Cond::E, common);
            emit_mxcsr_fflags(a, Reg::Rax, Reg::Rcx, Reg::Rdx);
            a.alu_mr(W::B32, Alu::Or, fflags(), Reg::Rcx);
            a.mxcsr(true, Mem::base(Reg::Rbp, off::MXCSR_CLEAN));
            a.mov_imm(Reg::Rax, MXCSR_DEFAULT as u64);
            a.store(W::B32, tmp, Reg::Rax);
            a.bind(common);
            a.shift_ri(W::B32, Shift::Shr, Reg::Rax, 5);
            a.alu_ri(W::B32, Alu::And, Reg::Rax, 1);
            a.alu_rm(W::B32, Alu::Or, Reg::Rax, fflags());
            a.alu_ri(W::B32, Alu::And, Reg::Rax, 0x1f);
        }
        if c.csr != FFLAGS {
            a.load(W::B32, Reg::Rcx, frm());
            a.alu_ri(W::B32, Alu::And, Reg::Rcx, 7);
            if c.csr == FCSR {
                a.shift_ri(W::B32, Shift::Shl, Reg::Rcx, 5);
                a.alu_rr(W::B32, Alu::Or, Reg::Rax, Reg::Rcx);
            } else {
                a.mov_rr(W::B32, Reg::Rax, Reg::Rcx);
            }
        }
        if writes {
            // New value into rdx.
            if imm {
                self.a.mov_imm(Reg::Rdx, c.rs1 as u64);
            } else {
                self.get(Reg::Rdx, c.rs1);
            }
            let a = &mut self.a;
            match kind {
                CsrOp::Write => {}
                CsrOp::Set => a.alu_rr(W::B64, Alu::Or, Reg::Rdx, Reg::Rax),
                CsrOp::Clear => {
                    a.unary(W::B64, Unary::Not, Reg::Rdx);
                    a.alu_rr(W::B64, Alu::And, Reg::Rdx, Reg::Rax);
                }
            }
            if c.csr == FRM {
                a.mov_rr(W::B32, Reg::Rcx, Reg::Rdx);
                a.alu_ri(W::B32, Alu::And, Reg::Rcx, 7);
                a.store(W::B32, frm(), Reg::Rcx);
            } else {
                if c.csr == FCSR {
                    a.mov_rr(W::B32, Reg::Rcx, Reg::Rdx);
                    a.shift_ri(W::B32, Shift::Shr, Reg::Rcx, 5);
                    a.alu_ri(W::B32, Alu::And, Reg::Rcx, 7);
                    a.store(W::B32, frm(), Reg::Rcx);
                }
                a.mov_rr(W::B32, Reg::Rcx, Reg::Rdx);
                a.alu_ri(W::B32, Alu::And, Reg::Rcx, 0x1f);
                a.store(W::B32, fflags(), Reg::Rcx);
                // A PE accrued before the write must not count any more,
                // unless the new flags have NX anyway.
                let keep = a.label();
                a.test_ri(W::B32, Reg::Rdx, 1);
                a.jcc(Cond::Ne, keep);
                a.load(W::B32, Reg::Rcx, tmp);
                a.test_ri(W::B32, Reg::Rcx, PE);
                a.jcc(Cond::E, keep);
                a.mxcsr(true, Mem::base(Reg::Rbp, off::MXCSR_CLEAN));
                a.bind(keep);
            }
        }
        self.put(c.rd, Reg::Rax);
    }
}

#[cfg(test)]
mod tests;
