//! Guest F/D registers kept in host xmm registers across a region, as
//! [`super::ALLOC`] keeps integer ones in general registers.
//!
//! The region's most used f registers (two uses at least, up to one per
//! [`FALLOC`] register; xmm0 and xmm1 stay scratch) are loaded at region
//! entry and after every helper call, and the ones the region may write
//! are stored back to the `Cpu` at every exit and before every helper call
//! (`Gen::write_back`, `Gen::reload_all` and the helper thunks do both
//! kinds). So wherever the `Cpu` can be looked at (exits, the step helper,
//! the memory helpers) it holds the precise state. The one place the
//! generated code does not choose is a host fault (a guest access caught
//! by the host's protection, see `super::super::host_fault`): the handler
//! stores the integer registers from the interrupted context, and resumes
//! at the region's fault stub ([`Gen::emit_fault_stub`]), which stores the
//! written f registers and goes on to the shared fault exit.
//!
//! Whether a cached register holds a NaN-boxed single is a run-time
//! property; `Gen::fboxed` records what the code emitted so far knows
//! (set by single-precision results, cleared at block starts, where paths
//! join, and by any other write), so a chain of single operations checks
//! each operand's box once.

use super::super::encode::{Alu, Mem, Reg, Shift, SseOp, W, Xmm};
use super::super::off;
use super::{Gen, GuestInst};
use crate::decode::Inst;

/// Host xmm registers that hold guest f registers, in the order they are
/// handed out.
pub const FALLOC: [Xmm; 14] = [
    Xmm(2),
    Xmm(3),
    Xmm(4),
    Xmm(5),
    Xmm(6),
    Xmm(7),
    Xmm(8),
    Xmm(9),
    Xmm(10),
    Xmm(11),
    Xmm(12),
    Xmm(13),
    Xmm(14),
    Xmm(15),
];

/// No register (in [`fp_regs`]'s lists).
const NONE: u8 = 0xff;

/// The f registers `inst` reads (`NONE` for none) and the one it writes,
/// if any: the allocator's use counts and the prediction of what a region
/// writes.
pub(super) fn fp_regs(inst: &Inst) -> ([u8; 3], Option<u8>) {
    use Inst::*;
    match *inst {
        Flw(i) | Fld(i) => ([NONE; 3], Some(i.rd)),
        Fsw(s) | Fsd(s) => ([s.rs2, NONE, NONE], None),
        FmaddS(q) | FmsubS(q) | FnmsubS(q) | FnmaddS(q) | FmaddD(q) | FmsubD(q) | FnmsubD(q)
        | FnmaddD(q) => ([q.rs1, q.rs2, q.rs3], Some(q.rd)),
        FaddS(q) | FsubS(q) | FmulS(q) | FdivS(q) | FaddD(q) | FsubD(q) | FmulD(q) | FdivD(q) => {
            ([q.rs1, q.rs2, NONE], Some(q.rd))
        }
        FsqrtS(q) | FsqrtD(q) | FcvtSD(q) | FcvtDS(q) => ([q.rs1, NONE, NONE], Some(q.rd)),
        FsgnjS(r) | FsgnjnS(r) | FsgnjxS(r) | FminS(r) | FmaxS(r) | FsgnjD(r) | FsgnjnD(r)
        | FsgnjxD(r) | FminD(r) | FmaxD(r) => ([r.rs1, r.rs2, NONE], Some(r.rd)),
        FeqS(r) | FltS(r) | FleS(r) | FeqD(r) | FltD(r) | FleD(r) => ([r.rs1, r.rs2, NONE], None),
        FcvtWS(q) | FcvtWuS(q) | FcvtLS(q) | FcvtLuS(q) | FcvtWD(q) | FcvtWuD(q) | FcvtLD(q)
        | FcvtLuD(q) => ([q.rs1, NONE, NONE], None),
        FcvtSW(q) | FcvtSWu(q) | FcvtSL(q) | FcvtSLu(q) | FcvtDW(q) | FcvtDWu(q) | FcvtDL(q)
        | FcvtDLu(q) => ([NONE; 3], Some(q.rd)),
        FmvXW(r) | FmvXD(r) | FclassS(r) | FclassD(r) => ([r.rs1, NONE, NONE], None),
        FmvWX(r) | FmvDX(r) => ([NONE; 3], Some(r.rd)),
        _ => ([NONE; 3], None),
    }
}

/// Pick the region's cached f registers: the most used ones (two uses at
/// least), up to one per [`FALLOC`] register. Correctness does not depend
/// on the choice: every cached register is loaded at region entry.
pub(super) fn allocate<'a>(insts: impl Iterator<Item = &'a GuestInst>) -> [Option<Xmm>; 32] {
    let mut uses = [0u32; 32];
    for gi in insts {
        let (srcs, rd) = fp_regs(&gi.inst);
        for r in srcs.into_iter().chain(rd) {
            if r != NONE {
                uses[r as usize] += 1;
            }
        }
    }
    let mut order: alloc::vec::Vec<u8> = (0..32).filter(|&r| uses[r as usize] >= 2).collect();
    order.sort_by_key(|&r| (core::cmp::Reverse(uses[r as usize]), r));
    let mut map = [None; 32];
    for (&r, &x) in order.iter().zip(FALLOC.iter()) {
        map[r as usize] = Some(x);
    }
    map
}

/// Guest register `f[r]` in the `Cpu`.
pub(super) fn fmem(r: u8) -> Mem {
    Mem::base(Reg::Rbp, off::f(r))
}

impl Gen {
    /// The xmm register caching `f[r]`, if any.
    pub(super) fn fx(&self, r: u8) -> Option<Xmm> {
        self.fmap[r as usize]
    }

    /// Copy `f[r]` into `x` (the whole 64 bits; what lies above them in
    /// `x` is of no account anywhere).
    pub(super) fn fload(&mut self, x: Xmm, r: u8) {
        match self.fx(r) {
            Some(c) if c == x => {}
            Some(c) => self.a.movaps(x, c),
            None => self.a.movq_load(x, fmem(r)),
        }
    }

    /// `f[r]` as a register operand: its cache register, else loaded into
    /// `scratch`.
    pub(super) fn fsrc(&mut self, r: u8, scratch: Xmm) -> Xmm {
        match self.fx(r) {
            Some(c) => c,
            None => {
                self.a.movq_load(scratch, fmem(r));
                scratch
            }
        }
    }

    /// `f[r] = x` (the low 64 bits), with what is known of its box.
    pub(super) fn fstore(&mut self, r: u8, x: Xmm, boxed: bool) {
        match self.fx(r) {
            Some(c) => {
                if c != x {
                    self.a.movaps(c, x);
                }
                self.fdirty |= 1 << r;
            }
            None => self.a.movq_store(fmem(r), x),
        }
        self.set_boxed(r, boxed);
    }

    /// The register to compute `f[rd]`'s new value in: its cache register
    /// when it has one and the instruction does not read it (the exact
    /// path rewrites `f[rd]` from the sources), else xmm0.
    pub(super) fn fdst(&self, rd: u8, sources: &[u8]) -> Xmm {
        match self.fx(rd) {
            Some(c) if !sources.contains(&rd) => c,
            _ => Xmm(0),
        }
    }

    /// Scalar `op dst, f[r]` (`double`: `sd`, else `ss`).
    pub(super) fn fop(&mut self, op: SseOp, double: bool, dst: Xmm, r: u8) {
        match self.fx(r) {
            Some(c) => self.a.sse_rr(op, double, dst, c),
            None => self.a.sse_rm(op, double, dst, fmem(r)),
        }
    }

    /// The 64 bits of `f[r]` into general register `h`.
    pub(super) fn fget(&mut self, h: Reg, r: u8) {
        match self.fx(r) {
            Some(c) => self.a.mov_x2r(W::B64, h, c),
            None => self.a.load(W::B64, h, fmem(r)),
        }
    }

    /// The low 32 bits of `f[r]` into general register `h`, zero-extended.
    pub(super) fn fget32(&mut self, h: Reg, r: u8) {
        match self.fx(r) {
            Some(c) => self.a.mov_x2r(W::B32, h, c),
            None => self.a.load(W::B32, h, fmem(r)),
        }
    }

    /// `f[r] =` general register `h` (64 bits).
    pub(super) fn fput(&mut self, r: u8, h: Reg, boxed: bool) {
        match self.fx(r) {
            Some(c) => {
                self.a.mov_r2x(W::B64, c, h);
                self.fdirty |= 1 << r;
            }
            None => self.a.store(W::B64, fmem(r), h),
        }
        self.set_boxed(r, boxed);
    }

    fn set_boxed(&mut self, r: u8, boxed: bool) {
        if boxed {
            self.fboxed |= 1 << r;
        } else {
            self.fboxed &= !(1 << r);
        }
    }

    /// Jump to `slow` unless `f[r]` holds a NaN-boxed single (upper half
    /// all ones); nothing when the code already knows it does. Clobbers
    /// rax.
    pub(super) fn check_boxed(&mut self, r: u8, slow: super::Label) {
        if self.fboxed >> r & 1 != 0 {
            return;
        }
        match self.fx(r) {
            Some(c) => {
                self.a.mov_x2r(W::B64, Reg::Rax, c);
                self.a.shift_ri(W::B64, Shift::Shr, Reg::Rax, 32);
                self.a.alu_ri(W::B32, Alu::Cmp, Reg::Rax, -1);
            }
            None => self
                .a
                .alu_mi(W::B32, Alu::Cmp, Mem::base(Reg::Rbp, off::f(r) + 4), -1),
        }
        self.a.jcc(super::Cond::Ne, slow);
    }

    /// Store the cached f registers the region writes to the `Cpu`.
    pub(super) fn f_write_back(&mut self) {
        for r in super::bits(self.fwritten & self.fcached) {
            if let Some(c) = self.fmap[r as usize] {
                self.a.movq_store(fmem(r), c);
            }
        }
    }

    /// Load every cached f register from the `Cpu` (region entry, after a
    /// helper call).
    pub(super) fn f_reload_all(&mut self) {
        for r in super::bits(self.fcached) {
            if let Some(c) = self.fmap[r as usize] {
                self.a.movq_load(c, fmem(r));
            }
        }
    }

    /// Where a host fault in this region resumes when the region writes
    /// cached f registers or is unpinned: store them and put the pinned
    /// registers back (rax, the faulting host address, is kept) and go to
    /// the shared fault exit. Returns its offset in
    /// the region's code, or 0 when the shared fault exit will do.
    pub(super) fn emit_fault_stub(&mut self) -> Result<u32, super::AsmError> {
        if !self.stubs.host_faults || (self.fwritten == 0 && self.pin) {
            return Ok(0);
        }
        let at = self.a.pos() as u32;
        // An unpinned region puts the pinned registers back (see `pinned`).
        self.restore_homes();
        self.f_write_back();
        self.a.jmp_abs(self.stubs.fault_exit)?;
        Ok(at)
    }
}

/// Out-of-line code of the F/D instructions.
pub(super) enum ColdF {
    /// The host result of an arithmetic instruction was a NaN: RISC-V's
    /// is the canonical NaN, and the flags the host raised are RISC-V's
    /// (see `float`), so set `f[rd]` to it and go `back`.
    Nan {
        label: super::Label,
        back: super::Label,
        rd: u8,
        double: bool,
    },
    /// A NaN among the pending results `regs` (register, double): make
    /// each NaN among them RISC-V's canonical NaN and go `back`.
    NanFlush {
        label: super::Label,
        back: super::Label,
        regs: alloc::vec::Vec<(u8, bool)>,
    },
    /// A fused quiet compare found a NaN operand (see `quiet`).
    QuietNan(super::quiet::QuietNan),
    /// `frm` is not round to nearest even at a `dyn` instruction that the
    /// code after it assumes it is: run the instruction with the step
    /// helper (fallback instruction `step`) and leave the region after it.
    Frm {
        label: super::Label,
        gi: GuestInst,
        index: u32,
        step: u64,
    },
}

/// RISC-V's canonical NaNs: double, and single (NaN-boxed).
const CANON_D: u64 = 0x7ff8_0000_0000_0000;
const CANON_S: u64 = 0xffff_ffff_7fc0_0000;

impl Gen {
    pub(super) fn emit_cold_f(&mut self, c: ColdF) -> Result<(), super::AsmError> {
        match c {
            ColdF::Nan {
                label,
                back,
                rd,
                double,
            } => {
                self.a.bind(label);
                self.a
                    .mov_imm(Reg::Rax, if double { CANON_D } else { CANON_S });
                self.fput(rd, Reg::Rax, !double);
                self.a.jmp(back);
            }
            ColdF::NanFlush { label, back, regs } => {
                self.a.bind(label);
                for (r, double) in regs {
                    let x = self.fx(r).expect("pending registers are cached");
                    let skip = self.a.label();
                    self.a.ucomis(double, x, x);
                    self.a.jcc(super::Cond::Np, skip);
                    self.a
                        .mov_imm(Reg::Rax, if double { CANON_D } else { CANON_S });
                    self.a.mov_r2x(W::B64, x, Reg::Rax);
                    self.a.bind(skip);
                }
                self.a.jmp(back);
            }
            ColdF::QuietNan(q) => self.emit_quiet_nan(q),
            ColdF::Frm {
                label,
                gi,
                index,
                step,
            } => {
                self.a.bind(label);
                self.side_cold(&gi, index);
                self.step_call(&gi, index, step)?;
                self.exit_direct(gi.pc + gi.len as u64, index + 1)?;
            }
        }
        Ok(())
    }
}

/// Deferred NaN checks. The arithmetic that `float` fixes up (add,
/// subtract, multiply, divide, square root, conversions between
/// precisions) gives RISC-V's result and flags whenever the host's result
/// is not a NaN, and for a NaN only the value differs (RISC-V's is the
/// canonical NaN). A NaN the host made is quiet, and such an operation
/// given a quiet NaN gives a NaN and raises nothing, on both: so the
/// check can wait while only such operations follow (and integer
/// register operations, which neither look at f registers nor leave the
/// code), and then covers the registers they wrote, two at a time (an
/// unordered compare of two values is unordered when either is a NaN),
/// with the fix-up out of line. Everything else (an access that may
/// fault, a helper call, an exit, another F/D instruction, the end of a
/// block, and those operations themselves when they may take the exact
/// path) first flushes the checks, so wherever the guest state can be
/// seen, no host NaN is left in it.
impl Gen {
    /// Can `inst` be emitted with results still unchecked (see above)?
    pub(super) fn keeps_pending(&self, inst: &Inst) -> bool {
        use Inst::*;
        // No frm check (static rne, or dyn with frm known to be rne).
        let rne = |rm: u8| rm == 0 || (rm == 7 && self.frm_rne);
        let boxed = |r: u8| self.fboxed >> r & 1 != 0;
        match *inst {
            Lui(_) | Auipc(_) | Addi(_) | Slti(_) | Sltiu(_) | Xori(_) | Ori(_) | Andi(_)
            | Slli(_) | Srli(_) | Srai(_) | Addiw(_) | Slliw(_) | Srliw(_) | Sraiw(_) | Add(_)
            | Sub(_) | Sll(_) | Slt(_) | Sltu(_) | Xor(_) | Srl(_) | Sra(_) | Or(_) | And(_)
            | Addw(_) | Subw(_) | Sllw(_) | Srlw(_) | Sraw(_) | Mul(_) | Mulh(_) | Mulhsu(_)
            | Mulhu(_) | Div(_) | Divu(_) | Rem(_) | Remu(_) | Mulw(_) | Divw(_) | Divuw(_)
            | Remw(_) | Remuw(_) => true,
            FaddD(q) | FsubD(q) | FmulD(q) | FdivD(q) | FsqrtD(q) | FcvtSD(q) => rne(q.rm),
            FaddS(q) | FsubS(q) | FmulS(q) | FdivS(q) => rne(q.rm) && boxed(q.rs1) && boxed(q.rs2),
            FsqrtS(q) => rne(q.rm) && boxed(q.rs1),
            FcvtDS(q) => (q.rm <= 4 || (q.rm == 7 && self.frm_rne)) && boxed(q.rs1),
            _ => false,
        }
    }

    /// Check the pending results (see above): a NaN among them goes to
    /// the out-of-line fix-up, which comes back here.
    pub(super) fn flush_nan(&mut self) {
        if self.fpending.is_empty() {
            return;
        }
        let regs = core::mem::take(&mut self.fpending);
        let fix = self.a.label();
        let back = self.a.label();
        for double in [true, false] {
            let xs: alloc::vec::Vec<Xmm> = regs
                .iter()
                .filter(|p| p.1 == double)
                .map(|p| self.fx(p.0).expect("pending registers are cached"))
                .collect();
            for pair in xs.chunks(2) {
                let b = pair.get(1).copied().unwrap_or(pair[0]);
                self.a.ucomis(double, pair[0], b);
                self.a.jcc(super::Cond::P, fix);
            }
        }
        self.a.bind(back);
        self.cold.push(super::Cold::F(ColdF::NanFlush {
            label: fix,
            back,
            regs,
        }));
    }
}
