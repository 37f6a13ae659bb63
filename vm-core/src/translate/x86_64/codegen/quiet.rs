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
//! the run). Fused, MXCSR is read once, before the compare, and written
//! only when an operand is a NaN: a compare of two non-NaN operands
//! raises no flag RISC-V has (DE, the denormal-operand flag, means nothing
//! here, see `float`), and an unordered one (which may have raised IE, for
//! a signaling NaN) goes out of line, where MXCSR is put back to the value
//! read just before it ([`QuietNan`]; nothing between that read and the
//! compare touches MXCSR), and `rd` is 0.
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
        // Where MXCSR was stored just before the compare.
        let snap = if defer {
            self.qpend_defer(q.t);
            Mem::base(Reg::Rbp, off::QUIET_MXCSR)
        } else {
            self.quiet_flags(q.t);
            Mem::base(Reg::Rbp, off::MXCSR_TMP)
        };
        self.quiet_cmp(q, snap);
    }

    /// t = fflags as `frflags` reads them: Cpu::fflags and MXCSR's
    /// flags (PE as NX; the rare others mapped out of the common path),
    /// nothing folded or cleared.
    fn quiet_flags(&mut self, t: u8) {
        let tmp = Mem::base(Reg::Rbp, off::MXCSR_TMP);
        let fflags = Mem::base(Reg::Rbp, off::FFLAGS);
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

    /// rd = the compare of `q`; `snap` holds MXCSR as it was just before.
    fn quiet_cmp(&mut self, q: Quiet, snap: Mem) {
        // rd = the compare, 0 for a NaN (or unboxed single) operand.
        let xa = self.fsrc(q.r.rs1, Xmm(0));
        let xb = self.fsrc(q.r.rs2, Xmm(1));
        let done = self.a.label();
        let unordered = self.a.label();
        self.a.mov_imm(Reg::Rdx, 0);
        if !q.double {
            // An unboxed single is the canonical NaN: 0, no compare made.
            for x in [xa, xb] {
                self.a.mov_x2r(W::B64, Reg::Rax, x);
                self.a.shift_ri(W::B64, Shift::Shr, Reg::Rax, 32);
                self.a.alu_ri(W::B32, Alu::Cmp, Reg::Rax, -1);
                self.a.jcc(Cond::Ne, done);
            }
        }
        self.a.ucomis(q.double, xa, xb);
        self.a.jcc(Cond::P, unordered);
        self.a.setcc(q.cond, Reg::Rdx);
        self.a.bind(done);
        self.put(q.r.rd, Reg::Rdx);
        self.cold
            .push(super::Cold::F(super::fcache::ColdF::QuietNan(QuietNan {
                label: unordered,
                back: done,
                snap,
            })));
    }
}

/// The out-of-line half of a fused compare with a NaN operand: the
/// compare may have raised IE (a signaling NaN), which the `fsflags` of
/// the fused group drops, so MXCSR goes back to `snap`, the value stored
/// just before the compare; `rdx` is still 0 (the compare's result).
pub(super) struct QuietNan {
    pub label: super::Label,
    pub back: super::Label,
    pub snap: Mem,
}

impl Gen {
    pub(super) fn emit_quiet_nan(&mut self, c: QuietNan) {
        self.a.bind(c.label);
        self.a.mxcsr(true, c.snap);
        self.a.jmp(c.back);
    }
}

#[cfg(test)]
mod tests {
    use crate::cpu::Trap;
    use crate::rv::*;
    use crate::translate::tests::run_fresh;

    /// `frflags rd` / `fsflags rs`.
    fn frflags(rd: u8) -> u32 {
        0x73 | (rd as u32) << 7 | 2 << 12 | 0x001 << 20
    }
    fn fsflags(rs: u8) -> u32 {
        0x73 | 1 << 12 | (rs as u32) << 15 | 0x001 << 20
    }
    /// `f{lt,le}.{d,s} rd, f1, f2` (`funct3` 1: lt, 0: le).
    fn fcmp(rd: u8, funct3: u32, double: bool) -> u32 {
        let f7 = if double { 0x51 } else { 0x50 };
        0x53 | (rd as u32) << 7 | funct3 << 12 | 1 << 15 | 2 << 20 | f7 << 25
    }

    /// Fused quiet compares on a signaling NaN, in a loop (first tier,
    /// then a region: the first compare's `t` deferred, the second's
    /// written at once): the host compare raises IE, the fused group must
    /// leave no flag behind, and `frflags` after them reads 0.
    #[test]
    fn signaling_nan_operand_leaves_no_flag() {
        for (double, snan) in [
            (true, 0x7ff4_0000_0000_0000u64),
            (false, 0xffff_ffff_7fa0_0000),
        ] {
            let one = if double {
                1f64.to_bits()
            } else {
                0xffff_ffff_0000_0000 | 1f32.to_bits() as u64
            };
            let code = [
                addi(11, 0, 0),            // 0: a1 = 0
                addi(31, 0, 300),          // 4: t6 = 300
                frflags(1),                // 8: loop
                fcmp(12, 1, double),       // 12: flt a2, f1, f2
                fsflags(1),                // 16
                frflags(15),               // 20
                fcmp(13, 0, double),       // 24: fle a3, f1, f2
                fsflags(15),               // 28
                frflags(16),               // 32: a6 = fflags
                r(0x33, 0, 0, 14, 14, 16), // 36: a4 += a6
                r(0x33, 0, 0, 14, 14, 12), // 40: a4 += a2
                r(0x33, 0, 0, 14, 14, 13), // 44: a4 += a3
                addi(11, 11, 1),           // 48
                b(1, 11, 31, -44),         // 52: bne a1, t6, loop
                ECALL,                     // 56
            ];
            let (t, cpu, _) = run_fresh(&code, |c| {
                c.f[1] = snan;
                c.f[2] = one;
            });
            assert_eq!(t, Trap::Ecall);
            assert_eq!(cpu.fflags, 0, "double {double}");
            assert_eq!(
                (cpu.x[14], cpu.x[1], cpu.x[15]),
                (0, 0, 0),
                "double {double}"
            );
        }
    }
}
