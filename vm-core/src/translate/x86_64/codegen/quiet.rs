//! Quiet floating-point compares: `frflags t; flt.d rd, a, b; fsflags t`
//! (and `fle`, `feq`, singles), what gcc emits for `isless` and friends,
//! and for the `x < 0` test before an inline `sqrt` (errno), as one
//! operation.
//!
//! The three together leave `fflags` as they were, set `t` to them and
//! `rd` to the compare (0 when an operand is a NaN, or for a single that
//! is not NaN-boxed, which RISC-V reads as the canonical NaN). One by one,
//! the first reads MXCSR (`stmxcsr`) and the last writes it back
//! (`ldmxcsr`) to drop the compare's flags: together they stall the
//! pipeline every time (in the `float` benchmark's inner loop, half of
//! the run). Fused, MXCSR is read once and never written: NaN operands
//! are found on their bits (an x86 compare would raise IE for a signaling
//! one), and a compare of two non-NaN operands raises no flag RISC-V has
//! (DE, the denormal-operand flag, means nothing here, see `float`).
//! Even that one read is costly; a region may leave `t` pending instead
//! and write it only where something can see it (see `qpend`).

use super::super::encode::{Alu, Cond, Mem, Reg, Shift, W, Xmm};
use super::super::{MXCSR_RARE, emit_mxcsr_fflags, off};
use super::{Gen, GuestInst};
use crate::decode::{Inst, R};

/// CSR number of `fflags`.
const FFLAGS: u16 = 0x001;

/// A fused `frflags t; compare; fsflags t`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Quiet {
    /// The integer register given the flags (`t`).
    pub t: u8,
    /// The compare's operands and destination.
    pub r: R,
    /// The host condition after `ucomis a, b`.
    pub cond: Cond,
    pub double: bool,
}

/// The fused sequence starting at `insts[i]`, if there is one.
pub(super) fn find(insts: &[GuestInst], i: usize) -> Option<Quiet> {
    use Inst::*;
    let [read, cmp, write] = insts.get(i..i + 3)? else {
        return None;
    };
    let t = match read.inst {
        Csrrs(c) if c.csr == FFLAGS && c.rs1 == 0 && c.rd != 0 => c.rd,
        _ => return None,
    };
    match write.inst {
        Csrrw(c) if c.csr == FFLAGS && c.rd == 0 && c.rs1 == t => {}
        _ => return None,
    }
    let (r, cond, double) = match cmp.inst {
        FltD(r) => (r, Cond::B, true),
        FleD(r) => (r, Cond::Be, true),
        FeqD(r) => (r, Cond::E, true),
        FltS(r) => (r, Cond::B, false),
        FleS(r) => (r, Cond::Be, false),
        FeqS(r) => (r, Cond::E, false),
        _ => return None,
    };
    // The compare must not overwrite the saved flags.
    (r.rd != t).then_some(Quiet { t, r, cond, double })
}

impl Gen {
    /// Emit `q` (see the module doc); with `defer`, `t` is left pending
    /// (see `qpend`).
    pub(super) fn quiet_compare(&mut self, q: Quiet, defer: bool) {
        if defer {
            self.qpend_defer(q.t);
        } else {
            self.quiet_flags(q.t);
        }
        self.quiet_cmp(q);
    }

    /// t = fflags as `frflags` reads them: Cpu::fflags and MXCSR's
    /// flags (PE as NX; the rare others mapped out of the common path),
    /// nothing folded or cleared.
    fn quiet_flags(&mut self, t: u8) {
        let tmp = Mem::base(Reg::Rbp, off::MXCSR_TMP);
        let fflags = Mem::base(Reg::Rbx, off::FFLAGS);
        let common = self.a.label();
        let merge = self.a.label();
        self.a.mxcsr(false, tmp);
        self.a.load(W::B32, Reg::Rax, tmp);
        self.a.test_ri(W::B32, Reg::Rax, MXCSR_RARE as i32);
        self.a.jcc(Cond::E, common);
        emit_mxcsr_fflags(&mut self.a, Reg::Rax, Reg::Rcx, Reg::Rdx);
        self.a.mov_rr(W::B32, Reg::Rax, Reg::Rcx);
        self.a.jmp(merge);
        self.a.bind(common);
        self.a.shift_ri(W::B32, Shift::Shr, Reg::Rax, 5);
        self.a.alu_ri(W::B32, Alu::And, Reg::Rax, 1);
        self.a.bind(merge);
        self.a.alu_rm(W::B32, Alu::Or, Reg::Rax, fflags);
        self.a.alu_ri(W::B32, Alu::And, Reg::Rax, 0x1f);
        self.put(t, Reg::Rax);
    }

    /// rd = the compare of `q`.
    fn quiet_cmp(&mut self, q: Quiet) {
        // rd = the compare, 0 for a NaN (or unboxed single) operand.
        let xa = self.fsrc(q.r.rs1, Xmm(0));
        let xb = self.fsrc(q.r.rs2, Xmm(1));
        let nan = self.a.label();
        self.a.mov_imm(Reg::Rdx, 0);
        if q.double {
            // A NaN's bits, the sign shifted out, are above an infinity's.
            self.a.mov_imm(Reg::Rcx, 0xffe0_0000_0000_0000);
        }
        for x in [xa, xb] {
            self.a.mov_x2r(W::B64, Reg::Rax, x);
            if q.double {
                self.a.alu_rr(W::B64, Alu::Add, Reg::Rax, Reg::Rax);
                self.a.alu_rr(W::B64, Alu::Cmp, Reg::Rax, Reg::Rcx);
            } else {
                self.a.mov_rr(W::B64, Reg::Rcx, Reg::Rax);
                self.a.shift_ri(W::B64, Shift::Shr, Reg::Rcx, 32);
                self.a.alu_ri(W::B32, Alu::Cmp, Reg::Rcx, -1);
                self.a.jcc(Cond::Ne, nan);
                self.a.alu_rr(W::B32, Alu::Add, Reg::Rax, Reg::Rax);
                self.a
                    .alu_ri(W::B32, Alu::Cmp, Reg::Rax, 0xff00_0000u32 as i32);
            }
            self.a.jcc(Cond::A, nan);
        }
        self.a.ucomis(q.double, xa, xb);
        self.a.setcc(q.cond, Reg::Rdx);
        self.a.bind(nan);
        self.put(q.r.rd, Reg::Rdx);
    }
}
