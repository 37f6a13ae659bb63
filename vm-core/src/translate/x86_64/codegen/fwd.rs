//! Forwarding of a guest register that is not cached in a host register
//! from the host register that just wrote (or read) it, instead of
//! reading it back from the `Cpu`.
//!
//! A guest register outside the region's cached set lives in the `Cpu`:
//! an instruction computes its new value in a scratch register and
//! stores it there, and the next instruction that reads it loads it
//! back. When that next instruction comes right after, the load waits
//! for the store (store-to-load forwarding, several cycles), often on
//! the way to an address (`srli a3,a5,29; add a3,a3,s8; ld a5,16(a3)`
//! in glibc's `free`). The generator remembers which host register
//! holds which such guest register ([`Fwd`]) and reads it from there.
//!
//! The record is valid only where the code emitted since it was made
//! cannot have changed either: it names the code offset it was made at,
//! and only emitters known to write neither that host register nor any
//! guest register, nor to be jump targets, move it along (`get` into
//! another register, the instruction count's `add r14`, see
//! [`Gen::carry`]). Any other code emitted, and any label bound at its
//! offset (code reached by a jump, whose host registers may hold
//! anything), ends it. The `Cpu` copy is still written as before, so
//! exits, helpers and host faults see the same guest state.

use super::super::encode::Reg;
use super::{Gen, GuestInst, int_rd, int_regs};
use crate::decode::Inst;

/// Host register `h` holds uncached guest register `r` at code offset
/// `at`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Fwd {
    pub(super) r: u8,
    pub(super) h: Reg,
    at: usize,
}

/// The integer registers the two instructions from `insts[i]` on read.
pub(super) fn reads_after(insts: &[GuestInst], i: usize) -> u32 {
    insts
        .iter()
        .skip(i)
        .take(2)
        .fold(0, |m, n| m | reads(&n.inst))
}

/// The integer registers `inst` reads (bit per register; x0 left out).
pub(super) fn reads(inst: &Inst) -> u32 {
    let regs = int_regs(inst);
    // `int_regs` lists the destination first when there is one.
    let from = usize::from(int_rd(inst) != 0);
    let mut m = 0u32;
    for &r in &regs[from..] {
        m |= 1 << r;
    }
    m & !1
}

impl Gen {
    /// The record, if still valid here.
    pub(super) fn fwd_live(&self) -> Option<Fwd> {
        let f = self.fwd?;
        (f.at == self.a.pos() && self.a.last_bind() != Some(f.at)).then_some(f)
    }

    /// The host register holding uncached guest register `r` here, if
    /// one is known to.
    pub(super) fn fwd(&self, r: u8) -> Option<Reg> {
        match self.fwd_live() {
            Some(f) if f.r == r && r != 0 && self.map[r as usize].is_none() => Some(f.h),
            _ => None,
        }
    }

    /// Host `h` holds guest register `r` (just stored to, or loaded
    /// from, the `Cpu`); only uncached registers are worth a record.
    pub(super) fn fwd_note(&mut self, r: u8, h: Reg) {
        if r != 0 && self.map[r as usize].is_none() {
            self.fwd = Some(Fwd {
                r,
                h,
                at: self.a.pos(),
            });
        }
    }

    /// Emit with `emit` code that writes no host register but `writes`
    /// (and the flags, or `r14`), no guest register, and binds no label:
    /// a valid record stays valid unless it is of `writes`. Returns
    /// whether a record was kept.
    pub(super) fn carry(&mut self, writes: Option<Reg>, emit: impl FnOnce(&mut Self)) -> bool {
        let live = self.fwd_live();
        emit(self);
        match live {
            Some(f) if Some(f.h) != writes => {
                self.fwd = Some(Fwd {
                    at: self.a.pos(),
                    ..f
                });
                true
            }
            _ => false,
        }
    }

    /// Will the code of `inst` leave `rax` and the `Cpu` copy of `r`
    /// alone (so a record of `rax` holding `r` outlives it)? The simple
    /// integer instructions whose destination is a cached register other
    /// than `r`: they compute in that register (reading others from
    /// their host registers, the `Cpu` or `rcx`), never in `rax`, but
    /// for a subtraction whose second operand is its destination, which
    /// is computed in `rax`; and the integer stores, and loads into such
    /// a register (the prologue of a function stores callee-saved
    /// registers between a value's computation and its use).
    pub(super) fn spares_rax(&self, inst: &Inst, r: u8) -> bool {
        use Inst::*;
        let cached = |d: u8| d != 0 && d != r && self.map[d as usize].is_some();
        match *inst {
            Lui(u) | Auipc(u) => cached(u.rd),
            Addi(i) | Xori(i) | Ori(i) | Andi(i) | Addiw(i) | Slli(i) | Srli(i) | Srai(i)
            | Slliw(i) | Srliw(i) | Sraiw(i) => cached(i.rd),
            Add(x) | And(x) | Or(x) | Xor(x) | Addw(x) => cached(x.rd),
            Sub(x) | Subw(x) => cached(x.rd) && (x.rs2 != x.rd || x.rs1 == x.rd),
            // A plain access computes its address in `rsi` (or uses the
            // base's register) and a store's value in `rdx`; a load into
            // a cached register loads there. Only the slow path (a helper
            // call) touches `rax`, and it comes back to a label bound
            // after the access, which ends the record anyway.
            Sb(_) | Sh(_) | Sw(_) | Sd(_) => true,
            Lb(i) | Lh(i) | Lw(i) | Ld(i) | Lbu(i) | Lhu(i) | Lwu(i) => cached(i.rd),
            _ => false,
        }
    }

    /// `f`, live before the code just emitted, which left it alone,
    /// holds after it.
    pub(super) fn fwd_moved(&mut self, f: Fwd) {
        self.fwd = Some(Fwd {
            at: self.a.pos(),
            ..f
        });
    }

    /// Should `rd op= ...` be one read-modify-write of the `Cpu` copy?
    /// Not when the value is in a host register already, nor when one
    /// of the next two instructions reads it (computed in a scratch register and
    /// stored, it is then forwarded from there).
    pub(super) fn in_place(&self, rd: u8) -> bool {
        self.fwd(rd).is_none() && self.next_reads >> rd & 1 == 0
    }
}

#[cfg(test)]
mod tests {
    use crate::cpu::Trap;
    use crate::translate::tests::{DATA, run_fresh, rv};

    /// A value computed into a register outside the cached set, then two
    /// stores (one through a base checked for the first time, whose slow
    /// path calls a helper that clobbers `rax`), then read: the read sees
    /// the value at every iteration, first tier and region alike. (Fails
    /// when a label bound after an access does not end the record.)
    #[test]
    fn a_value_read_after_stores_is_the_one_computed() {
        use rv::*;
        let code = [
            addi(11, 0, 200), // 0: a1 = 200
            addi(29, 29, 1),  // 4: loop: t4, t5, t6 are used most
            addi(30, 30, 2),  // 8
            addi(31, 31, 3),  // 12
            addi(29, 29, 1),  // 16
            addi(30, 30, 2),  // 20
            addi(31, 31, 3),  // 24
            addi(28, 11, 7),  // 28: t3 = a1 + 7
            sd(12, 28, 0),    // 32: [a2] = t3
            sd(13, 31, 8),    // 36: [a3 + 8] = t6
            add(10, 10, 28),  // 40: a0 += t3
            addi(11, 11, -1), // 44
            bne(11, 0, -44),  // 48: loop while a1 != 0
            ECALL,            // 52
        ];
        let (t, cpu, _) = run_fresh(&code, |c| {
            c.x[12] = DATA;
            c.x[13] = DATA + 0x800;
        });
        assert_eq!(t, Trap::Ecall);
        assert_eq!(cpu.x[10], (1..=200).map(|n| n + 7).sum::<u64>());
        assert_eq!(cpu.x[31], 6 * 200);
    }
}
