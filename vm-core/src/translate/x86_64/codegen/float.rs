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
//! operand's payload. x86 raises IE exactly where RISC-V raises NV (a
//! signaling operand or an invalid operation) and nothing else for a NaN,
//! so a NaN result of add, subtract, multiply, divide, square root or a
//! conversion between precisions is simply replaced by the canonical NaN
//! (out of line; for results kept in xmm registers the check is deferred
//! and paired, see `fcache`). A fused multiply-add's NaN, and min, max
//! and compares with a NaN, take the exact path; the flags the abandoned
//! host attempt raised are a subset of RISC-V's, so they do no harm.
//! Other inline forms:
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
use super::{Cold, Gen, GuestInst, fcache};
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

fn fflags() -> Mem {
    Mem::base(Reg::Rbp, off::FFLAGS)
}

fn frm() -> Mem {
    Mem::base(Reg::Rbp, off::FRM)
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
    /// code; `Ok(false)` leaves `gi` to the step helper. Operands come
    /// from the xmm registers caching them when they have one (see
    /// `super::fcache`), else from the `Cpu`.
    pub(super) fn float(
        &mut self,
        gi: &GuestInst,
        index: u32,
        steps: &mut Vec<StepInst>,
    ) -> Result<bool, AsmError> {
        use Inst::*;
        match gi.inst {
            Fld(i) if self.fx(i.rd).is_some() => {
                let x = self.fx(i.rd).expect("cached");
                let v = super::bounds::Val::X(x);
                self.access(i.rs1, i.imm, Helper::LoadU64, v, gi, index);
                self.fdirty |= 1 << i.rd;
                self.fboxed &= !(1 << i.rd);
            }
            Fsd(s) | Fsw(s) if self.fx(s.rs2).is_some() => {
                let x = self.fx(s.rs2).expect("cached");
                let h = if matches!(gi.inst, Fsd(_)) {
                    Helper::StoreU64
                } else {
                    Helper::StoreU32
                };
                self.access(s.rs1, s.imm, h, super::bounds::Val::X(x), gi, index);
            }
            Fld(i) | Flw(i) => {
                let d = matches!(gi.inst, Fld(_));
                let h = if d { Helper::LoadU64 } else { Helper::LoadU32 };
                self.load_to(i.rs1, i.imm, h, gi, index, Reg::Rax)?;
                if !d {
                    self.a.mov_imm(Reg::Rcx, BOX);
                    self.a.alu_rr(W::B64, Alu::Or, Reg::Rax, Reg::Rcx);
                }
                self.fput(i.rd, Reg::Rax, !d);
            }
            Fsd(s) | Fsw(s) => {
                let h = if matches!(gi.inst, Fsd(_)) {
                    Helper::StoreU64
                } else {
                    Helper::StoreU32
                };
                self.fget(Reg::Rdx, s.rs2);
                self.access(
                    s.rs1,
                    s.imm,
                    h,
                    super::bounds::Val::Int(Reg::Rdx),
                    gi,
                    index,
                );
            }
            FmvXD(r) => {
                let d = self.work(r.rd, None);
                self.fget(d, r.rs1);
                self.done(r.rd, d);
            }
            FmvDX(r) => {
                let v = self.src(r.rs1, Reg::Rax);
                self.fput(r.rd, v, false);
            }
            FmvXW(r) => {
                self.fget32(Reg::Rax, r.rs1);
                self.a.movsxd(Reg::Rax, Reg::Rax);
                self.put(r.rd, Reg::Rax);
            }
            FmvWX(r) => {
                self.get(Reg::Rax, r.rs1);
                self.a.mov_rr(W::B32, Reg::Rax, Reg::Rax);
                self.a.mov_imm(Reg::Rcx, BOX);
                self.a.alu_rr(W::B64, Alu::Or, Reg::Rax, Reg::Rcx);
                self.fput(r.rd, Reg::Rax, true);
            }
            FsgnjD(r) if r.rs1 == r.rs2 => {
                // fmv.d: a plain copy.
                let boxed = self.fboxed >> r.rs1 & 1 != 0;
                let x = self.fsrc(r.rs1, Xmm(0));
                self.fstore(r.rd, x, boxed);
            }
            FsgnjD(r) | FsgnjnD(r) | FsgnjxD(r) => {
                self.fget(Reg::Rax, r.rs1);
                self.fget(Reg::Rcx, r.rs2);
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
                self.fput(r.rd, Reg::Rax, false);
            }
            FsgnjS(r) | FsgnjnS(r) | FsgnjxS(r) => {
                let inst = gi.inst;
                self.fast(
                    gi,
                    index,
                    steps,
                    0,
                    Mode::Rne,
                    &[r.rs1, r.rs2],
                    |g, _, _| {
                        // On the boxed value: flip the sign bit (31) where
                        // the wanted sign differs, which keeps the box.
                        g.fget(Reg::Rax, r.rs1);
                        g.fget32(Reg::Rcx, r.rs2);
                        let a = &mut g.a;
                        if !matches!(inst, FsgnjxS(_)) {
                            a.alu_rr(W::B32, Alu::Xor, Reg::Rcx, Reg::Rax);
                        }
                        if matches!(inst, FsgnjnS(_)) {
                            a.unary(W::B32, Unary::Not, Reg::Rcx);
                        }
                        a.alu_ri(W::B32, Alu::And, Reg::Rcx, i32::MIN);
                        a.alu_rr(W::B64, Alu::Xor, Reg::Rax, Reg::Rcx);
                        g.fput(r.rd, Reg::Rax, true);
                    },
                );
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
                self.fast(gi, index, steps, q.rm, Mode::Rne, boxed, |g, _, back| {
                    let x = g.arith(op, d, q.rd, q.rs1, q.rs2);
                    g.nan_result(d, q.rd, x, back);
                });
            }
            FsqrtD(q) | FsqrtS(q) if Mode::Rne.allows(q.rm) => {
                let d = matches!(gi.inst, FsqrtD(_));
                let boxed: &[u8] = if d { &[] } else { &[q.rs1] };
                self.fast(gi, index, steps, q.rm, Mode::Rne, boxed, |g, _, back| {
                    let x = g.arith(SseOp::Sqrt, d, q.rd, q.rs1, q.rs1);
                    g.nan_result(d, q.rd, x, back);
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
                self.fast(gi, index, steps, q.rm, Mode::Rne, boxed, |g, slow, _| {
                    let x = g.fdst(q.rd, &[q.rs1, q.rs2, q.rs3]);
                    g.fload(x, q.rs3);
                    let m = g.fsrc(q.rs1, Xmm(1));
                    match g.fx(q.rs2) {
                        Some(c) => g.a.vfma231_rr(opc, d, x, m, c),
                        None => g.a.vfma231(opc, d, x, m, fcache::fmem(q.rs2)),
                    }
                    // fma(inf, 0, qNaN) may flag differently: a NaN
                    // takes the exact path.
                    g.a.ucomis(d, x, x);
                    g.a.jcc(Cond::P, slow);
                    g.fstore(q.rd, x, !d);
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
                self.fast(gi, index, steps, 0, Mode::Rne, boxed, |g, slow, _| {
                    let (eq, done) = (g.a.label(), g.a.label());
                    let x = g.fdst(r.rd, &[r.rs1, r.rs2]);
                    g.fload(x, r.rs1);
                    let b = g.fsrc(r.rs2, Xmm(1));
                    g.a.ucomis(d, x, b);
                    g.a.jcc(Cond::P, slow);
                    g.a.jcc(Cond::E, eq);
                    let op = if min { SseOp::Min } else { SseOp::Max };
                    g.a.sse_rr(op, d, x, b);
                    g.a.jmp(done);
                    g.a.bind(eq);
                    g.a.mov_x2r(W::B64, Reg::Rax, x);
                    g.a.mov_x2r(W::B64, Reg::Rcx, b);
                    let op = if min { Alu::Or } else { Alu::And };
                    g.a.alu_rr(W::B64, op, Reg::Rax, Reg::Rcx);
                    g.a.mov_r2x(W::B64, x, Reg::Rax);
                    g.a.bind(done);
                    g.fstore(r.rd, x, !d);
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
                self.fast(gi, index, steps, 0, Mode::Rne, boxed, |g, slow, _| {
                    let a = g.fsrc(r.rs1, Xmm(0));
                    let b = g.fsrc(r.rs2, Xmm(1));
                    g.a.mov_imm(Reg::Rax, 0);
                    g.a.ucomis(d, a, b);
                    g.a.jcc(Cond::P, slow);
                    g.a.setcc(c, Reg::Rax);
                    g.put(r.rd, Reg::Rax);
                });
            }
            FcvtDS(q) if Mode::Exact.allows(q.rm) => {
                self.fast(
                    gi,
                    index,
                    steps,
                    q.rm,
                    Mode::Exact,
                    &[q.rs1],
                    |g, _, back| {
                        let x = g.fx(q.rd).unwrap_or(Xmm(0));
                        g.fop(SseOp::Cvt, false, x, q.rs1);
                        g.nan_result(true, q.rd, x, back);
                    },
                );
            }
            FcvtSD(q) if Mode::Rne.allows(q.rm) => {
                self.fast(gi, index, steps, q.rm, Mode::Rne, &[], |g, _, back| {
                    // The box first, so not in the operand's register.
                    let x = g.fdst(q.rd, &[q.rs1]);
                    g.a.mov_imm(Reg::Rcx, BOX);
                    g.a.mov_r2x(W::B64, x, Reg::Rcx);
                    g.fop(SseOp::Cvt, true, x, q.rs1);
                    g.nan_result(false, q.rd, x, back);
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
                self.fast(gi, index, steps, q.rm, Mode::Rne, boxed, |g, slow, _| {
                    let x = g.fsrc(q.rs1, Xmm(0));
                    g.a.cvt_f2i(d, q.rm == 1, w, Reg::Rax, x);
                    // Only the integer indefinite (MIN) overflows here.
                    g.a.alu_ri(w, Alu::Cmp, Reg::Rax, 1);
                    g.a.jcc(Cond::O, slow);
                    if w == W::B32 {
                        g.a.movsxd(Reg::Rax, Reg::Rax);
                    }
                    g.put(q.rd, Reg::Rax);
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
                self.fast(gi, index, steps, q.rm, Mode::Rne, boxed, |g, slow, _| {
                    let (pos, conv) = (g.a.label(), g.a.label());
                    // Bits in rax, magnitude shifted left by one in rcx.
                    if d {
                        g.fget(Reg::Rax, q.rs1);
                        g.a.lea(W::B64, Reg::Rcx, Mem::indexed(Reg::Rax, Reg::Rax));
                        g.a.test_rr(W::B64, Reg::Rax, Reg::Rax);
                    } else {
                        g.fget32(Reg::Rax, q.rs1);
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
                    let x = g.fsrc(q.rs1, Xmm(0));
                    g.a.cvt_f2i(d, q.rm == 1, W::B64, Reg::Rax, x);
                    if !long {
                        // RISC-V sign-extends the 32-bit result.
                        g.a.movsxd(Reg::Rax, Reg::Rax);
                    }
                    g.put(q.rd, Reg::Rax);
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
                self.fast(gi, index, steps, q.rm, mode, &[], |g, slow, _| {
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
                    // The conversion keeps the rest of the register: give
                    // it a fresh value (no dependency on older code), the
                    // box for a single. No exact path after this point,
                    // so the result may go straight to its register.
                    let x = g.fdst(q.rd, &[]);
                    if d {
                        g.a.mov_r2x(W::B64, x, Reg::Rax);
                    } else {
                        g.a.mov_imm(Reg::Rcx, BOX);
                        g.a.mov_r2x(W::B64, x, Reg::Rcx);
                    }
                    g.a.cvt_i2f(d, w, x, Reg::Rax);
                    g.fstore(q.rd, x, !d);
                });
            }
            Csrrw(c) | Csrrs(c) | Csrrc(c) | Csrrwi(c) | Csrrsi(c) | Csrrci(c)
                if matches!(c.csr, FFLAGS | FRM | FCSR) =>
            {
                self.fp_csr(gi.inst);
                // It may have written frm.
                self.frm_rne = false;
            }
            // The `float` rows above whose inline form did not apply here
            // (a rounding mode, a host without FMA, another CSR).
            FaddD(_) | FsubD(_) | FmulD(_) | FdivD(_) | FaddS(_) | FsubS(_) | FmulS(_)
            | FdivS(_) | FsqrtD(_) | FsqrtS(_) | FmaddD(_) | FmsubD(_) | FnmsubD(_)
            | FnmaddD(_) | FmaddS(_) | FmsubS(_) | FnmsubS(_) | FnmaddS(_) | FcvtDS(_)
            | FcvtSD(_) | FcvtWD(_) | FcvtLD(_) | FcvtWS(_) | FcvtLS(_) | FcvtWuD(_)
            | FcvtLuD(_) | FcvtWuS(_) | FcvtLuS(_) | Csrrw(_) | Csrrs(_) | Csrrc(_) | Csrrwi(_)
            | Csrrsi(_) | Csrrci(_) => return Ok(false),
            // Not a `float` row of the instruction table: a new one has
            // to be named above, or this `match` does not compile.
            crate::decode::not_float!() => return Ok(false),
        }
        Ok(true)
    }

    /// An instruction with an inline fast path `body` and the step helper
    /// as its exact path, out of line: `body` jumps to the label it is
    /// given to take the exact path instead. Before it, a `dyn` rounding
    /// mode `rm` is checked against `mode`, and the `boxed` registers must
    /// hold NaN-boxed singles (what is known of the sources' boxes is not
    /// recorded: the exact path comes back also when one is not). What
    /// the body records of its result's box holds after the exact path
    /// too (the same result; a single's is always boxed).
    #[allow(clippy::too_many_arguments)]
    fn fast(
        &mut self,
        gi: &GuestInst,
        index: u32,
        steps: &mut Vec<StepInst>,
        rm: u8,
        mode: Mode,
        boxed: &[u8],
        body: impl FnOnce(&mut Gen, Label, Label),
    ) {
        let slow = self.a.label();
        let back = self.a.label();
        let step = steps.len() as u64;
        steps.push(StepInst {
            inst: gi.inst,
            len: gi.len,
            pc: gi.pc,
            index,
        });
        if rm == 7 && !self.frm_rne {
            match mode {
                Mode::Rne => {
                    // Checked once for the code that follows, up to the
                    // next join or frm write: if frm is another mode,
                    // this instruction runs exactly and the region ends
                    // after it (where nothing assumes frm).
                    let other = self.a.label();
                    self.a.alu_mi(W::B32, Alu::Cmp, frm(), 0);
                    self.a.jcc(Cond::Ne, other);
                    self.cold.push(Cold::F(fcache::ColdF::Frm {
                        label: other,
                        gi: *gi,
                        index,
                        step,
                    }));
                    self.frm_rne = true;
                }
                Mode::Exact => {
                    self.a.alu_mi(W::B32, Alu::Cmp, frm(), 4);
                    self.a.jcc(Cond::A, slow);
                }
            }
        }
        for (i, &r) in boxed.iter().enumerate() {
            if !boxed[..i].contains(&r) {
                self.check_boxed(r, slow);
            }
        }
        body(self, slow, back);
        self.a.bind(back);
        self.cold.push(Cold::StepBack {
            label: slow,
            back,
            gi: *gi,
            index,
            step,
        });
    }

    /// `f[rd]` = the result in `x` (a double, or a single with the box
    /// above it), or RISC-V's canonical NaN when it is a NaN (out of line,
    /// then on to `back`). For the operations that use it (add, subtract,
    /// multiply, divide, square root, conversions between precisions), a
    /// NaN result is one from a NaN operand or an invalid operation, for
    /// which x86 raises IE exactly where RISC-V raises NV (a signaling
    /// operand, or the operation is invalid) and no other flag: only the
    /// value differs.
    fn nan_result(&mut self, double: bool, rd: u8, x: Xmm, back: Label) {
        if self.fx(rd).is_some() {
            // Checked later, with others (see `fcache`).
            self.fstore(rd, x, !double);
            self.fpending.retain(|&(r, _)| r != rd);
            self.fpending.push((rd, double));
            return;
        }
        let nan = self.a.label();
        self.a.ucomis(double, x, x);
        self.a.jcc(Cond::P, nan);
        self.fstore(rd, x, !double);
        self.cold.push(Cold::F(fcache::ColdF::Nan {
            label: nan,
            back,
            rd,
            double,
        }));
    }

    /// `a op b` (for `Sqrt`, of `a`) into `f[rd]`'s cache register, or
    /// xmm0 when it has none; returns that register. A single's box rides
    /// along in the upper half (from `a`). The sources may be overwritten:
    /// a NaN result does not need them (see [`Gen::nan_result`]).
    fn arith(&mut self, op: SseOp, double: bool, rd: u8, a: u8, b: u8) -> Xmm {
        let x = self.fx(rd).unwrap_or(Xmm(0));
        if self.stubs.fma {
            // AVX (every host with FMA3 has it): three operands.
            let sa = self.fsrc(a, Xmm(0));
            let sb = self.fsrc(b, Xmm(1));
            let src2 = if op == SseOp::Sqrt { sa } else { sb };
            self.a.vsse(op, double, x, sa, src2);
            return x;
        }
        if op == SseOp::Sqrt {
            self.fload(x, a);
            self.a.sse_rr(op, double, x, x);
            return x;
        }
        // Sums and products commute bit for bit when not a NaN.
        let commutes = matches!(op, SseOp::Add | SseOp::Mul);
        if self.fx(rd).is_some() && a != rd && b == rd {
            if commutes {
                self.fop(op, double, x, a);
                return x;
            }
            self.fload(Xmm(0), a);
            self.fop(op, double, Xmm(0), b);
            return Xmm(0);
        }
        self.fload(x, a);
        self.fop(op, double, x, b);
        x
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
