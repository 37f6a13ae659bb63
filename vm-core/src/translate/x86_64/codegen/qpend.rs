//! Pending quiet-compare flags: the register a fused quiet compare gives
//! the flags to (`frflags t; flt.d rd, a, b; fsflags t`, see `quiet`)
//! is written only when something can see it.
//!
//! Reading the flags for `t` takes MXCSR's (`stmxcsr`), then folding them
//! into the `fflags` value: the store waits for every SSE operation before
//! it, and the fold and its branch behind it hold up the rest (in the
//! `float` benchmark's inner loop, a quarter of the run). gcc reads `t`
//! back only for the `fsflags`, so `t` is nearly always written again
//! before anything reads it. So a region picks one such register (the
//! first fused compare's `t`, [`Gen::qreg`]); at each fused compare on it,
//! the code only stores MXCSR into the context block
//! (`Part::quiet_mxcsr`) and marks `t` pending (`Part::quiet_reg` = `t`),
//! leaving the register as it was. `t`'s value is then `Cpu::fflags` (which
//! nothing changes meanwhile, see below) plus the flags of that MXCSR
//! value: what `frflags` read, exactly. It is *materialized* (written to
//! the `Cpu` and to its host register, the mark cleared):
//! - before an instruction of the region that reads `t`, a CSR access
//!   (the only inline code that changes `Cpu::fflags`) or one this module
//!   does not know (`int_access`);
//! - at every exit that can chain to another translation (`write_back`
//!   and `frm` edges): the next one knows nothing of the mark;
//! - by the shared exit code for every other way out (faults, budget,
//!   traps, the exits to the dispatcher; `super::super::fixed_code`), and
//!   by the step helper before it runs an instruction (which may read `t`,
//!   `fflags` or trap).
//!
//! A write of `t` clears the mark, after the instruction (a load into `t`
//! that faults leaves `t` pending, as its value was then), or before it for
//! `jal`/`jalr`, which cannot fault and may leave the region. The code
//! knows, along each block, where the mark is surely clear ([`QState`]:
//! after a write or a materialization; not at block starts, where paths
//! join, nor in out-of-line code), and looks at it at run time (a compare
//! and a branch not taken) only elsewhere.

use super::super::encode::{Alu, Cond, Mem, Reg, W};
use super::super::{emit_mxcsr_fflags, off};
use super::{Gen, GuestInst, x};
use crate::decode::Inst;

/// What the code at a point knows of the pending mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum QState {
    /// Clear (or the region has no register to defer): nothing set it
    /// since it was last cleared or looked at.
    Clear,
    /// Set or not: paths join here, a fused compare set it, or an
    /// out-of-line step may have cleared it since.
    Unknown,
}

/// The integer registers `inst` reads (a mask) and the one it writes (0:
/// none), for the instructions whose reads are all in their operands and
/// which leave `fflags` alone; `None` for every other instruction.
fn int_access(inst: &Inst) -> Option<(u32, u8)> {
    use Inst::*;
    let bit = |r: u8| (1u32 << r) & !1;
    Some(match *inst {
        Lui(u) | Auipc(u) | Jal(u) => (0, u.rd),
        Jalr(i) | Lb(i) | Lh(i) | Lw(i) | Ld(i) | Lbu(i) | Lhu(i) | Lwu(i) | Addi(i) | Slti(i)
        | Sltiu(i) | Xori(i) | Ori(i) | Andi(i) | Slli(i) | Srli(i) | Srai(i) | Addiw(i)
        | Slliw(i) | Srliw(i) | Sraiw(i) => (bit(i.rs1), i.rd),
        Beq(s) | Bne(s) | Blt(s) | Bge(s) | Bltu(s) | Bgeu(s) | Sb(s) | Sh(s) | Sw(s) | Sd(s) => {
            (bit(s.rs1) | bit(s.rs2), 0)
        }
        Add(r) | Sub(r) | Sll(r) | Slt(r) | Sltu(r) | Xor(r) | Srl(r) | Sra(r) | Or(r) | And(r)
        | Addw(r) | Subw(r) | Sllw(r) | Srlw(r) | Sraw(r) | Mul(r) | Mulh(r) | Mulhsu(r)
        | Mulhu(r) | Div(r) | Divu(r) | Rem(r) | Remu(r) | Mulw(r) | Divw(r) | Divuw(r)
        | Remw(r) | Remuw(r) => (bit(r.rs1) | bit(r.rs2), r.rd),
        Fence(_) => (0, 0),
        LrW(a) | ScW(a) | AmoswapW(a) | AmoaddW(a) | AmoxorW(a) | AmoandW(a) | AmoorW(a)
        | AmominW(a) | AmomaxW(a) | AmominuW(a) | AmomaxuW(a) | LrD(a) | ScD(a) | AmoswapD(a)
        | AmoaddD(a) | AmoxorD(a) | AmoandD(a) | AmoorD(a) | AmominD(a) | AmomaxD(a)
        | AmominuD(a) | AmomaxuD(a) => (bit(a.rs1) | bit(a.rs2), a.rd),
        Flw(i) | Fld(i) => (bit(i.rs1), 0),
        Fsw(s) | Fsd(s) => (bit(s.rs1), 0),
        FmaddS(_) | FmsubS(_) | FnmsubS(_) | FnmaddS(_) | FaddS(_) | FsubS(_) | FmulS(_)
        | FdivS(_) | FsqrtS(_) | FsgnjS(_) | FsgnjnS(_) | FsgnjxS(_) | FminS(_) | FmaxS(_)
        | FmaddD(_) | FmsubD(_) | FnmsubD(_) | FnmaddD(_) | FaddD(_) | FsubD(_) | FmulD(_)
        | FdivD(_) | FsqrtD(_) | FsgnjD(_) | FsgnjnD(_) | FsgnjxD(_) | FminD(_) | FmaxD(_)
        | FcvtSD(_) | FcvtDS(_) => (0, 0),
        FcvtWS(f) | FcvtWuS(f) | FcvtLS(f) | FcvtLuS(f) | FcvtWD(f) | FcvtWuD(f) | FcvtLD(f)
        | FcvtLuD(f) => (0, f.rd),
        FcvtSW(f) | FcvtSWu(f) | FcvtSL(f) | FcvtSLu(f) | FcvtDW(f) | FcvtDWu(f) | FcvtDL(f)
        | FcvtDLu(f) => (bit(f.rs1), 0),
        FmvXW(r) | FmvXD(r) | FeqS(r) | FltS(r) | FleS(r) | FclassS(r) | FeqD(r) | FltD(r)
        | FleD(r) | FclassD(r) => (0, r.rd),
        FmvWX(r) | FmvDX(r) => (bit(r.rs1), 0),
        _ => return None,
    })
}

/// The register a region defers: the first fused quiet compare's `t` (0:
/// none).
pub(super) fn pick(blocks: &[&[GuestInst]]) -> u8 {
    for insts in blocks {
        for i in 0..insts.len() {
            if let Some(q) = super::quiet::find(insts, i) {
                return q.t;
            }
        }
    }
    0
}

fn mark() -> Mem {
    Mem::base(Reg::Rbp, off::QUIET_REG)
}

/// Code for the shared exit (after the pinned registers are stored, all
/// guest registers in the `Cpu`): materialize the pending register, if
/// any. Keeps `rax`; clobbers `rcx`, `rdx`, `rsi`, `rdi` and the flags.
pub fn emit_exit(a: &mut super::super::encode::Asm) {
    let skip = a.label();
    a.load(W::B32, Reg::Rcx, mark());
    a.test_rr(W::B32, Reg::Rcx, Reg::Rcx);
    a.jcc(Cond::E, skip);
    a.load(W::B32, Reg::Rdx, Mem::base(Reg::Rbp, off::QUIET_MXCSR));
    emit_mxcsr_fflags(a, Reg::Rdx, Reg::Rsi, Reg::Rdi);
    a.alu_rm(W::B32, Alu::Or, Reg::Rsi, Mem::base(Reg::Rbp, off::FFLAGS));
    let slot = Mem {
        base: Reg::Rbp,
        index: Some((Reg::Rcx, 3)),
        disp: off::x(0),
    };
    a.store(W::B64, slot, Reg::Rsi);
    a.store_imm(W::B32, mark(), 0);
    a.bind(skip);
}

impl Gen {
    /// The fused compare at this point defers `t`: MXCSR saved, `t`
    /// marked pending (see the module doc).
    pub(super) fn qpend_defer(&mut self, t: u8) {
        self.a.mxcsr(false, Mem::base(Reg::Rbp, off::QUIET_MXCSR));
        self.a.store_imm(W::B32, mark(), t as i32);
        self.qstate = QState::Unknown;
    }

    /// Materialize `t` if it may be pending (flags clobbered; every other
    /// register kept).
    fn qpend_materialize(&mut self) {
        if self.qstate == QState::Clear {
            return;
        }
        let l = match self.qthunk {
            Some(l) => l,
            None => {
                let l = self.a.label();
                self.qthunk = Some(l);
                l
            }
        };
        // Even right after a fused compare the mark is looked at: the
        // step helper, on an out-of-line path that rejoins this code, may
        // have cleared it.
        let skip = self.a.label();
        self.a.alu_mi(W::B32, Alu::Cmp, mark(), 0);
        self.a.jcc(Cond::E, skip);
        self.a.call_label(l);
        self.a.bind(skip);
    }

    /// Before the inline code of `inst` (each instruction of a fused
    /// group, before the group).
    pub(super) fn qpend_before(&mut self, inst: &Inst) {
        if self.qstate == QState::Clear {
            return;
        }
        let Some((reads, writes)) = int_access(inst) else {
            self.qpend_materialize();
            self.qstate = QState::Clear;
            return;
        };
        if reads >> self.qreg & 1 != 0 {
            self.qpend_materialize();
            self.qstate = QState::Clear;
        } else if writes == self.qreg && matches!(inst, Inst::Jal(_) | Inst::Jalr(_)) {
            self.a.store_imm(W::B32, mark(), 0);
            self.qstate = QState::Clear;
        }
    }

    /// After the code of `inst`.
    pub(super) fn qpend_after(&mut self, inst: &Inst) {
        if self.qstate == QState::Clear {
            return;
        }
        if let Some((_, w)) = int_access(inst)
            && w == self.qreg
        {
            self.a.store_imm(W::B32, mark(), 0);
            self.qstate = QState::Clear;
        }
    }

    /// At an exit that may chain to another translation, before the
    /// registers are written back. The state stays: the code after an
    /// exit is reached from elsewhere.
    pub(super) fn qpend_exit(&mut self) {
        let s = self.qstate;
        self.qpend_materialize();
        self.qstate = s;
    }

    /// The out-of-line materialization `qpend_materialize` calls.
    pub(super) fn emit_qthunk(&mut self) {
        let Some(l) = self.qthunk else { return };
        let t = self.qreg;
        self.a.bind(l);
        self.a.push(Reg::Rax);
        self.a.push(Reg::Rcx);
        self.a.push(Reg::Rdx);
        self.a
            .load(W::B32, Reg::Rdx, Mem::base(Reg::Rbp, off::QUIET_MXCSR));
        emit_mxcsr_fflags(&mut self.a, Reg::Rdx, Reg::Rax, Reg::Rcx);
        self.a
            .alu_rm(W::B32, Alu::Or, Reg::Rax, Mem::base(Reg::Rbp, off::FFLAGS));
        self.a.store(W::B64, x(t), Reg::Rax);
        if let Some(h) = self.map[t as usize] {
            self.a.mov_rr(W::B64, h, Reg::Rax);
        }
        self.a.store_imm(W::B32, mark(), 0);
        self.a.pop(Reg::Rdx);
        self.a.pop(Reg::Rcx);
        self.a.pop(Reg::Rax);
        self.a.ret();
    }
}

#[cfg(test)]
mod tests {
    use crate::cpu::{Cpu, Trap};
    use crate::rv::*;
    use crate::translate::tests::{CODE, DATA, run_fresh};

    const RA: u8 = 1;
    /// `fdiv.d f3, f4, f5` (round to nearest even): 1 / 0 raises DZ.
    const FDIV: u32 = 0x53 | 3 << 7 | 4 << 15 | 5 << 20 | 0x0d << 25;
    /// `flt.d a2, f1, f2`.
    const FLT: u32 = 0x53 | 12 << 7 | 1 << 12 | 1 << 15 | 2 << 20 | 0x51 << 25;
    /// `frflags ra` / `fsflags ra`.
    const FRFLAGS: u32 = 0x73 | (RA as u32) << 7 | 2 << 12 | 0x001 << 20;
    const FSFLAGS: u32 = 0x73 | 1 << 12 | (RA as u32) << 15 | 0x001 << 20;

    /// Run `code` with f1 = 1, f2 = 2, f4 = 1, f5 = 0 before `setup`.
    fn run(code: &[u32], setup: impl FnOnce(&mut Cpu)) -> (Trap, Cpu) {
        let (t, cpu, _) = run_fresh(code, |cpu| {
            cpu.f[1] = 1f64.to_bits();
            cpu.f[2] = 2f64.to_bits();
            cpu.f[4] = 1f64.to_bits();
            cpu.f[5] = 0;
            setup(cpu);
        });
        (t, cpu)
    }

    /// A loop whose fused quiet compare gives `ra` the flags, then raises
    /// DZ (new in the first iteration), loads (faulting in iteration
    /// `fault_at`, `ra` still pending), then reads `ra`; `ra` is written
    /// again at the top. Wherever it ends, `ra` and the sum of its values
    /// are what `frflags` read: 0 in the first iteration, DZ after.
    fn quiet_loop(fault_at: u64) {
        let code = [
            addi(11, 0, 0),            // 0: a1 = 0
            addi(31, 0, 200),          // 4: t6 = 200
            addi(RA, 0, 5),            // 8: loop: ra = 5
            FRFLAGS,                   // 12
            FLT,                       // 16
            FSFLAGS,                   // 20
            FDIV,                      // 24
            i(0x03, 3, 13, 30, 0),     // 28: ld a3, 0(t5)
            r(0x33, 0, 0, 14, 14, RA), // 32: a4 += ra
            addi(30, 30, 64),          // 36
            addi(11, 11, 1),           // 40
            b(1, 11, 31, -36),         // 44: bne a1, t6, loop
            ECALL,                     // 48
        ];
        let t5 = (DATA + 0x10000).wrapping_sub(fault_at * 64);
        let (t, cpu) = run(&code, |c| c.x[30] = t5);
        const DZ: u64 = 0x08;
        assert_eq!(cpu.fflags, DZ as u32, "fault at {fault_at}");
        assert_eq!(cpu.x[12], 1, "flt");
        if fault_at < 200 {
            assert!(matches!(t, Trap::MemFault(_)), "{t:?}");
            assert_eq!(cpu.pc, CODE + 28, "at the load");
            let want = if fault_at == 0 { 0 } else { DZ };
            assert_eq!(cpu.x[1], want, "ra, fault at {fault_at}");
            assert_eq!(cpu.x[14], fault_at.saturating_sub(1) * DZ, "sum");
        } else {
            assert_eq!(t, Trap::Ecall);
            assert_eq!((cpu.x[1], cpu.x[14]), (DZ, 199 * DZ));
        }
    }

    #[test]
    fn pending_flags_are_exact_at_faults_reads_and_exits() {
        // In the first tier (counted blocks), in the region, at the end.
        for fault_at in [0, 1, 20, 150, 1000] {
            quiet_loop(fault_at);
        }
    }

    /// The fused compare, DZ raised, then a jump to code outside the
    /// region (a chained exit) that reads `ra` and `fflags`, in a loop.
    #[test]
    fn pending_flags_cross_chained_exits() {
        const FAR: usize = 0x2000 / 4;
        let mut code = alloc::vec![ECALL; FAR + 8];
        code[..9].copy_from_slice(&[
            addi(11, 0, 0),                // 0: a1 = 0
            addi(31, 0, 100),              // 4: t6 = 100
            FRFLAGS,                       // 8: loop
            FLT,                           // 12
            FSFLAGS,                       // 16
            FDIV,                          // 20
            jal(0, (4 * FAR - 24) as i32), // 24: to FAR
            ECALL,                         // 28
            ECALL,                         // 32
        ]);
        code[FAR..FAR + 5].copy_from_slice(&[
            r(0x33, 0, 0, 14, 14, RA),          // a4 += ra
            i(0x73, 2, 15, 0, 0x001),           // frflags a5
            addi(11, 11, 1),                    // a1 += 1
            b(0, 11, 31, 8),                    // beq a1, t6, +8 (ecall)
            jal(0, -(4 * FAR as i32 - 8) - 16), // to the loop
        ]);
        let (t, cpu) = run(&code, |_| {});
        assert_eq!(t, Trap::Ecall);
        assert_eq!(cpu.pc, CODE + 4 * FAR as u64 + 20);
        assert_eq!((cpu.x[1], cpu.x[15], cpu.x[14]), (8, 8, 99 * 8));
    }
}
