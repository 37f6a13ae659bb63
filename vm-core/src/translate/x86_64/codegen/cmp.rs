//! The compare of a conditional branch, with its operands where they
//! are: a cached register, the `Cpu` (x86 compares a register with
//! memory, or memory with a register or with zero, in one instruction
//! that still fuses with the jump where the host allows; or the host
//! register that just wrote it, see `fwd`), or x0. A compare with zero
//! right after a 64-bit `and`, `or` or `xor` wrote the register (`andi
//! a2, s0, 15; bnez a2`, glibc's alignment and flag checks) is the flags
//! that operation left (`Gen::flags`): no `test`.

use super::super::encode::{Alu, Cond, Reg, W};
use super::{Gen, x};

/// The condition that holds for `b` against `a` when `c` holds for `a`
/// against `b` (the operands of the compare swapped).
fn swapped(c: Cond) -> Cond {
    match c {
        Cond::L => Cond::G,
        Cond::G => Cond::L,
        Cond::Ge => Cond::Le,
        Cond::Le => Cond::Ge,
        Cond::B => Cond::A,
        Cond::A => Cond::B,
        Cond::Ae => Cond::Be,
        Cond::Be => Cond::Ae,
        other => other,
    }
}

impl Gen {
    /// Set the host flags for `x[rs1]` against `x[rs2]` so that the
    /// returned condition holds exactly when `c` holds for them (a 64-bit
    /// compare). Clobbers rax at most.
    pub(super) fn compare(&mut self, rs1: u8, rs2: u8, c: Cond) -> Cond {
        // A register in the `Cpu` may be in a host register already (see
        // `fwd`).
        let reg = |g: &Self, r: u8| {
            if r == 0 {
                None
            } else {
                g.map[r as usize].or_else(|| g.fwd(r))
            }
        };
        match (rs1, rs2) {
            // `test r, r` sets the flags of `cmp r, 0` (CF and OF clear).
            (_, 0) | (0, _) => {
                let (r, c) = if rs2 == 0 {
                    (rs1, c)
                } else {
                    (rs2, swapped(c))
                };
                match reg(self, r) {
                    // The logic operation that just wrote `h` set the
                    // flags as `test` would (ZF and SF of the value, CF
                    // and OF clear).
                    Some(h) if self.flags == Some((h, self.a.pos())) => {}
                    Some(h) => self.a.test_rr(W::B64, h, h),
                    None if r == 0 => {
                        // Both x0: compare zero with zero.
                        self.a.alu_rr(W::B64, Alu::Xor, Reg::Rax, Reg::Rax);
                        self.a.alu_rr(W::B64, Alu::Cmp, Reg::Rax, Reg::Rax);
                    }
                    None => self.a.alu_mi(W::B64, Alu::Cmp, x(r), 0),
                }
                c
            }
            _ => {
                match (reg(self, rs1), reg(self, rs2)) {
                    (Some(a), Some(b)) => self.a.alu_rr(W::B64, Alu::Cmp, a, b),
                    (Some(a), None) => self.a.alu_rm(W::B64, Alu::Cmp, a, x(rs2)),
                    (None, Some(b)) => self.a.alu_mr(W::B64, Alu::Cmp, x(rs1), b),
                    (None, None) => {
                        self.a.load(W::B64, Reg::Rax, x(rs1));
                        self.a.alu_rm(W::B64, Alu::Cmp, Reg::Rax, x(rs2));
                    }
                }
                c
            }
        }
    }
}
