//! Guest loads and stores of translated code: one fast path and one
//! out-of-line slow path for the integer and the F/D accesses alike, and
//! the bounds compare left out where the guard regions make it needless.
//!
//! The fast path accesses host `r12 + base + imm`, or `base + disp + imm`
//! where the guest's address 0 lies below 2 GiB on the host and its host
//! address is the 32-bit displacement `disp` (`Stubs::mem_disp`; the
//! Linux host reserves guest memory there when it can), which leaves
//! `r12` to the register allocator. With host faults it
//! first compares the base register with `Ctx::mem_limit` (guest size - 8)
//! and takes the slow path (the checked helper, which checks the address
//! itself) above it, so a wild address never reaches host memory outside
//! the reservation and its guards (the offset, at most 2 KiB, lands in a
//! guard; see [`base_only`]). Every
//! guest address space has [`GUARD`] bytes of reserved, never accessible
//! host address space on each side ([`crate::memory`]), and a host fault
//! there is the guest's fault at the address it computed (see
//! `super::super::host_fault`). So an access needs no compare when its
//! address is known to lie within `GUARD - 8` bytes of `[0, size)`:
//!
//! * an access through `x0` (address `imm`, `|imm| <= 2048`);
//! * an access through a base register whose value is within `slack`
//!   bytes of `[0, size)`, when `slack + |imm| + 8 <= GUARD`. An access
//!   through a base that completed (fast or slow path: a faulting one
//!   leaves the region) proves `base + imm` was in `[0, size)`, so the
//!   base has slack `|imm|` until it is written; `addi rd, rs, k` gives
//!   `rd` the slack of `rs` plus `|k|`;
//! * an access through a register `lui` or `auipc` set to a constant below
//!   [`MIN_SIZE`], the smallest guest space there is (so inside this one,
//!   whatever its size): slack 0, and an `addi` after it adds its `|k|`
//!   as above. A static program reads its own data this way (`auipc` +
//!   `ld`, or `la` then an access).
//!
//! * an access through `sp` or `tp` at a block start, and on from there
//!   (an `addi` adds its `|k|`, an access proves `|imm|` as above): every
//!   way into a block keeps them within [`NEAR_SLACK`] (32 KiB) of
//!   `[0, size)` ([`crate::translate::backend::near`]). The dispatcher
//!   enters translated code only then (else it interprets the block), and
//!   before the code leaves a block (its jump or branch, or the fall into
//!   the next), each of the two whose value it does not know to be that
//!   near (written by anything but a few small `addi`s, or by the step
//!   helper) is compared with `Ctx::mem_limit`, and above it the code
//!   leaves for the dispatcher (`Gen::near_check`). Nearly every function
//!   accesses its frame through `sp`, and glibc's `malloc` and `free`
//!   their thread's state through `tp`: those accesses were one compare
//!   per block each. A register move (`mv`: `add rd, x0, rs`, also
//!   `or`/`xor` with `x0`) gives `rd` what is known of `rs`.
//!
//! What the code knows ([`Known`]) holds from the access to the next
//! write of the register and is forgotten at every block start (but for
//! `sp` and `tp`, as above, and the bases `nearin` lets a block assume,
//! which every way into it compares), where
//! paths join (so a loop checks its base once per iteration), but at the
//! start of a block whose only way in is the fall-through of the
//! conditional branch ending the block before it (`pending`'s blocks,
//! an error check's way on, say) where that saves a compare
//! ([`inheriting`]): such a block is made no side entry, so nothing
//! joins there and what held at the branch still holds (a branch writes
//! no register); and after
//! any instruction not known to write at most its own `rd` (the step
//! helper's instructions, calls, CSR accesses). Without host faults every
//! access looks its page up in the TLB as before.

use super::super::Helper;
use super::super::encode::{Alu, Cond, Label, Mem, Reg, W, Xmm};
use super::super::off;
use super::{Cold, Gen};
use crate::decode::Inst;
use crate::memory::{GUARD, MIN_SIZE};
use crate::translate::backend::{GuestInst, NEAR_REGS, NEAR_SLACK};
use alloc::vec::Vec;

/// Most bytes one guest access touches.
const MAX_WIDTH: u64 = 8;

/// What the code emitted so far knows of each guest register: `slack[r]`
/// is a bound on how far its value lies outside `[0, size)` (wrapping),
/// `NONE` when nothing is known.
#[derive(Clone, Copy)]
pub(super) struct Known {
    slack: [u32; 32],
}

const NONE: u32 = u32::MAX;

impl Known {
    /// What holds at a block start: `x0` is 0, and `sp` and `tp` are
    /// within [`NEAR_SLACK`] of the space (the invariant every way into a
    /// block keeps, see [`crate::translate::backend`]).
    pub(super) fn new() -> Known {
        let mut k = Known::none();
        for r in NEAR_REGS {
            k.slack[r as usize] = NEAR_SLACK as u32;
        }
        k
    }

    /// Nothing known but that `x0` is 0 (after an instruction that may
    /// have written any register).
    fn none() -> Known {
        let mut slack = [NONE; 32];
        // x0 is 0, inside the space.
        slack[0] = 0;
        Known { slack }
    }

    /// Does an access of up to 8 bytes at `x[rs1] + imm` stay within the
    /// reservation and its guards?
    pub(super) fn covers(&self, rs1: u8, imm: i32) -> bool {
        let s = self.slack[rs1 as usize];
        s != NONE && s as u64 + imm.unsigned_abs() as u64 + MAX_WIDTH <= GUARD
    }

    /// Is `r` known to be within [`NEAR_SLACK`] of the space (what a
    /// block start assumes of `sp` and `tp`)?
    pub(super) fn near(&self, r: u8) -> bool {
        self.slack[r as usize] as u64 <= NEAR_SLACK
    }

    /// The registers known near the space (see [`Known::near`]).
    pub(super) fn near_mask(&self) -> u32 {
        (0..32u8)
            .filter(|&r| self.near(r))
            .fold(0, |m, r| m | 1 << r)
    }

    /// Start assuming the registers of `mask` near the space (a block
    /// start every way into which keeps that, see `nearin`).
    pub(super) fn assume_near(&mut self, mask: u32) {
        for r in super::bits(mask) {
            let s = &mut self.slack[r as usize];
            *s = (*s).min(NEAR_SLACK as u32);
        }
    }

    /// `r` was compared with `Ctx::mem_limit`, and the code goes on only
    /// below it.
    pub(super) fn checked(&mut self, r: u8) {
        self.slack[r as usize] = 0;
    }

    /// An access at `x[rs1] + imm` completed: that address is in
    /// `[0, size)`.
    pub(super) fn accessed(&mut self, rs1: u8, imm: i32) {
        let s = &mut self.slack[rs1 as usize];
        *s = (*s).min(imm.unsigned_abs());
    }

    /// Account for `gi` having run (after its code): forget what it
    /// may have overwritten. Returns the registers it may have written
    /// (for `nearin`, which follows where values came from).
    pub(super) fn after(&mut self, gi: &GuestInst) -> u32 {
        use Inst::*;
        let inst = &gi.inst;
        match *inst {
            Addi(i) if i.rd != 0 => {
                let s = self.slack[i.rs1 as usize];
                self.slack[i.rd as usize] = match s.checked_add(i.imm.unsigned_abs()) {
                    Some(t) if (t as u64) < GUARD => t,
                    _ => NONE,
                };
                1 << i.rd
            }
            // Stores and branches write no register.
            Sb(_) | Sh(_) | Sw(_) | Sd(_) | Fsw(_) | Fsd(_) => 0,
            Beq(_) | Bne(_) | Blt(_) | Bge(_) | Bltu(_) | Bgeu(_) => 0,
            Lui(u) | Auipc(u) if u.rd != 0 => {
                let v = match gi.inst {
                    Lui(_) => u.imm as i64 as u64,
                    _ => gi.pc.wrapping_add(u.imm as i64 as u64),
                };
                self.slack[u.rd as usize] = if v < MIN_SIZE { 0 } else { NONE };
                1 << u.rd
            }
            Lui(_) | Auipc(_) => 0,
            // A register move (`mv`, `c.mv` is `add rd, x0, rs`): `rd`
            // gets what is known of the source.
            Add(r) | Or(r) | Xor(r) if r.rd != 0 && (r.rs1 == 0 || r.rs2 == 0) => {
                self.slack[r.rd as usize] = self.slack[(r.rs1 | r.rs2) as usize];
                1 << r.rd
            }
            Sub(r) if r.rd != 0 && r.rs2 == 0 => {
                self.slack[r.rd as usize] = self.slack[r.rs1 as usize];
                1 << r.rd
            }
            Lb(i) | Lh(i) | Lw(i) | Ld(i) | Lbu(i) | Lhu(i) | Lwu(i) => self.forget(i.rd),
            _ if super::pure_int(inst) || super::div_kind(inst).is_some() => {
                self.forget(super::int_regs(inst)[0])
            }
            // An f register destination: no integer register changes.
            _ if super::fcache::fp_regs(inst).1.is_some() => 0,
            // Instructions that write their integer `rd` and no other
            // integer register, whether inline or by the step helper: F/D
            // compares, classes, conversions and moves to x, atomics, CSR
            // accesses, links. (Forgetting everything there made the
            // `float` and `nbody` loops, whose compares of doubles write
            // an x register, check `sp` and `tp` at every block end.)
            FeqS(r) | FltS(r) | FleS(r) | FclassS(r) | FmvXW(r) | FeqD(r) | FltD(r) | FleD(r)
            | FclassD(r) | FmvXD(r) => self.forget(r.rd),
            FcvtWS(f) | FcvtWuS(f) | FcvtLS(f) | FcvtLuS(f) | FcvtWD(f) | FcvtWuD(f)
            | FcvtLD(f) | FcvtLuD(f) => self.forget(f.rd),
            LrW(a) | ScW(a) | AmoswapW(a) | AmoaddW(a) | AmoxorW(a) | AmoandW(a) | AmoorW(a)
            | AmominW(a) | AmomaxW(a) | AmominuW(a) | AmomaxuW(a) | LrD(a) | ScD(a)
            | AmoswapD(a) | AmoaddD(a) | AmoxorD(a) | AmoandD(a) | AmoorD(a) | AmominD(a)
            | AmomaxD(a) | AmominuD(a) | AmomaxuD(a) => self.forget(a.rd),
            Csrrw(c) | Csrrs(c) | Csrrc(c) | Csrrwi(c) | Csrrsi(c) | Csrrci(c) => self.forget(c.rd),
            Jal(u) => self.forget(u.rd),
            Jalr(i) => self.forget(i.rd),
            _ => {
                *self = Known::none();
                !1
            }
        }
    }

    /// Nothing is known of `r` any more; returns the mask of what was
    /// written (none for `x0`).
    fn forget(&mut self, r: u8) -> u32 {
        if r == 0 {
            return 0;
        }
        self.slack[r as usize] = NONE;
        1 << r
    }
}

/// The base and offset of a plain guest load or store (integer or F/D).
pub(super) fn access_of(inst: &Inst) -> Option<(u8, i32)> {
    use Inst::*;
    match *inst {
        Lb(i) | Lh(i) | Lw(i) | Ld(i) | Lbu(i) | Lhu(i) | Lwu(i) | Flw(i) | Fld(i) => {
            Some((i.rs1, i.imm))
        }
        Sb(s) | Sh(s) | Sw(s) | Sd(s) | Fsw(s) | Fsd(s) => Some((s.rs1, s.imm)),
        _ => None,
    }
}

/// The pcs (in order) of the `blocks` that start knowing what the block
/// before knew at its end: among `continues` (`pending`'s blocks, only
/// entered along the fall-through of the branch ending the block before),
/// those where that saves a compare, found by running [`Known`] over the
/// region ahead of the code generator. The caller makes them no side
/// entry (a way in from outside would skip compares the block leaves
/// out); the others, a side entry as before, start knowing nothing.
pub(super) fn inheriting(blocks: &[&[GuestInst]], continues: &[u64]) -> Vec<u64> {
    let mut out = Vec::new();
    // What the code knows going on from the block before, and what each
    // block would know starting afresh.
    let mut k = Known::new();
    for b in blocks {
        let pc = b[0].pc;
        let cand = continues.binary_search(&pc).is_ok();
        if !cand {
            k = Known::new();
        }
        let mut own = Known::new();
        let mut saves = false;
        for gi in b.iter() {
            if let Some((rs1, imm)) = access_of(&gi.inst) {
                saves |= k.covers(rs1, imm) && !own.covers(rs1, imm);
                k.accessed(rs1, imm);
                own.accessed(rs1, imm);
            }
            k.after(gi);
            own.after(gi);
        }
        if cand && saves {
            out.push(pc);
        } else {
            k = own;
        }
    }
    out
}

/// May an access at `base + imm` compare only the base with
/// `Ctx::mem_limit` (guest size - 8)? A base at most the limit puts
/// every byte of the access within `|imm| + 8` bytes of `[0, size)`,
/// inside the guards, where a host fault is the guest's fault at the
/// address it computed; a base above it takes the slow path, which
/// checks the address itself (so `base` past the end with a negative
/// offset back inside is still a plain access). One host instruction
/// less than computing the address first, and none at all when the base
/// is in a host register and the offset folds into the access.
fn base_only(imm: i32) -> bool {
    imm.unsigned_abs() as u64 + MAX_WIDTH <= GUARD
}

/// The register a guest access loads into or stores from, or zero (a
/// 4- or 8-byte store of `x0`: one `mov` of an immediate, where a zeroed
/// register and its store took two).
#[derive(Clone, Copy)]
pub(super) enum Val {
    Int(Reg),
    X(Xmm),
    Zero,
}

/// The slow path of one access (see [`Gen::access`]).
pub(super) struct Slow {
    label: Label,
    done: Label,
    h: Helper,
    val: Val,
    /// The guest address is `from.0 + from.1` (`rsi` + 0 when the fast
    /// path computed it there).
    from: (Reg, i32),
    gi: GuestInst,
    index: u32,
    /// The cached registers not loaded yet (see `deadload`): loaded
    /// before the helper thunk stores every register the region writes.
    invalid: u32,
}

/// Width, sign extension and direction of the access helper `h` makes.
fn shape(h: Helper) -> (W, bool, bool) {
    match h {
        Helper::LoadI8 => (W::B8, true, false),
        Helper::LoadU8 => (W::B8, false, false),
        Helper::LoadI16 => (W::B16, true, false),
        Helper::LoadU16 => (W::B16, false, false),
        Helper::LoadI32 => (W::B32, true, false),
        Helper::LoadU32 => (W::B32, false, false),
        Helper::LoadU64 => (W::B64, false, false),
        Helper::StoreU8 => (W::B8, false, true),
        Helper::StoreU16 => (W::B16, false, true),
        Helper::StoreU32 => (W::B32, false, true),
        Helper::StoreU64 | Helper::Step => (W::B64, false, true),
    }
}

impl Gen {
    /// The host operand of guest address `b + imm` (`b` a host register
    /// holding a guest address): `[r12 + b + imm]`, or `[b + disp + imm]`
    /// when the translation addresses guest memory by displacement
    /// (`super::super::low_disp`). The same host address either way.
    pub(super) fn guest_mem(&self, b: Reg, imm: i32) -> Mem {
        match self.stubs.mem_disp {
            // In range: `low_disp` leaves room for any `|imm|` of an access.
            Some(d) => Mem::base(b, d + imm),
            None => Mem {
                base: Reg::R12,
                index: Some((b, 0)),
                disp: imm,
            },
        }
    }

    /// Compare guest address `b` with `Ctx::mem_limit` (guest size - 8).
    pub(super) fn cmp_limit(&mut self, b: Reg) {
        self.a
            .alu_rm(W::B64, Alu::Cmp, b, Mem::base(Reg::Rbp, off::MEM_LIMIT));
    }

    /// The guest access helper `h` makes at `x[rs1] + imm`: a load into
    /// `val` or a store of `val` (an xmm value: the low 64 bits, or 32
    /// for a 4-byte store). Straight to guest memory when the probe
    /// allows, else out of line through the checked helper, which faults
    /// precisely; with no probe needed (see the module documentation), as
    /// one host access ([`Gen::guest_mem`]) with no slow path.
    pub(super) fn access(
        &mut self,
        rs1: u8,
        imm: i32,
        h: Helper,
        val: Val,
        gi: &GuestInst,
        index: u32,
    ) {
        let (w, signed, write) = shape(h);
        let checked = !(self.stubs.host_faults && self.known.covers(rs1, imm));
        let slow = self.a.label();
        let done = self.a.label();
        // With host faults, the compare is of the base alone when the
        // offset is within the guards' reach (see `base_only`).
        let base_only = checked && self.stubs.host_faults && base_only(imm);
        let mut from = (Reg::Rsi, 0);
        let m = if base_only {
            let b = self.src(rs1, Reg::Rsi);
            self.cmp_limit(b);
            self.a.jcc(Cond::A, slow);
            from = (b, imm);
            self.guest_mem(b, imm)
        } else if checked {
            self.addr(rs1, imm);
            self.probe(w, if write { super::WRITE } else { super::READ }, slow);
            self.guest_mem(Reg::Rsi, 0)
        } else {
            // No slow path: the address folds into the host access.
            let b = self.src(rs1, Reg::Rsi);
            self.guest_mem(b, imm)
        };
        match (val, write) {
            (Val::Int(d), false) if signed => self.a.load_sx(w, d, m),
            (Val::Int(d), false) => self.a.load_zx(w, d, m),
            (Val::Int(v), true) => self.a.store(w, m, v),
            (Val::X(x), false) => self.a.movq_load(x, m),
            (Val::X(x), true) if w == W::B32 => self.a.movd_store(m, x),
            (Val::X(x), true) => self.a.movq_store(m, x),
            (Val::Zero, _) => self.a.store_imm(w, m, 0),
        }
        if self.stubs.host_faults {
            self.known.accessed(rs1, imm);
        }
        if checked {
            self.a.bind(done);
            self.cold.push(Cold::Access(Slow {
                label: slow,
                done,
                h,
                val,
                from,
                gi: *gi,
                index,
                invalid: self.invalid,
            }));
        }
    }

    /// The slow path of an access: the checked helper (address in `rsi`,
    /// a store's value in `rdx`), then back to the fast path's end, or to
    /// the fault (or code write) exit.
    pub(super) fn emit_slow(&mut self, s: Slow) -> Result<(), super::AsmError> {
        let (_, _, write) = shape(s.h);
        self.a.bind(s.label);
        if s.from != (Reg::Rsi, 0) {
            self.a.lea(W::B64, Reg::Rsi, Mem::base(s.from.0, s.from.1));
        }
        if write {
            match s.val {
                Val::Int(v) if v != Reg::Rdx => self.a.mov_rr(W::B64, Reg::Rdx, v),
                Val::Int(_) => {}
                Val::X(x) => self.a.mov_x2r(W::B64, Reg::Rdx, x),
                Val::Zero => self.a.alu_rr(W::B32, Alu::Xor, Reg::Rdx, Reg::Rdx),
            }
        }
        for r in super::bits(s.invalid) {
            if let Some(c) = self.map[r as usize] {
                self.a.load(W::B64, c, Mem::base(Reg::Rbp, off::x(r)));
            }
        }
        self.call_helper(s.h)?;
        // A load returns its status in rdx, a store in rax.
        let status = if write { Reg::Rax } else { Reg::Rdx };
        let out = self.a.label();
        self.a.test_rr(W::B64, status, status);
        self.a.jcc(Cond::Ne, out);
        self.cold.push(if write {
            Cold::Store {
                label: out,
                gi: s.gi,
                index: s.index,
            }
        } else {
            Cold::Fault {
                label: out,
                gi: s.gi,
                index: s.index,
            }
        });
        if !write {
            match s.val {
                Val::Int(d) if d != Reg::Rax => self.a.mov_rr(W::B64, d, Reg::Rax),
                Val::Int(_) => {}
                Val::X(x) => self.a.mov_r2x(W::B64, x, Reg::Rax),
                Val::Zero => {}
            }
        }
        self.a.jmp(s.done);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rv::r;
    use crate::translate::tests::block;

    fn gi(w: u32) -> GuestInst {
        block(0x1000, &[w])[0]
    }

    /// An instruction that writes only its integer `rd` (here `feq.d`,
    /// `csrrs`, `amoswap.d`) forgets that register and keeps what is
    /// known of `sp` and `tp`, unless `rd` is one of them.
    #[test]
    fn writes_of_rd_alone_keep_sp_and_tp() {
        let feq_d = |rd: u8| r(0x53, 2, 0x51, rd, 10, 11);
        let csrrs = |rd: u8| 0x0010_2073 | (rd as u32) << 7; // csrrs rd, fflags, x0
        let amoswap_d = |rd: u8| r(0x2f, 3, 0x04, rd, 10, 11);
        for w in [feq_d(15), csrrs(15), amoswap_d(15)] {
            let mut k = Known::new();
            k.accessed(15, 0);
            assert!(k.covers(15, 0));
            k.after(&gi(w));
            assert!(!k.covers(15, 0), "{:?}", gi(w).inst);
            assert!(k.covers(2, 0) && k.covers(4, 0), "{:?}", gi(w).inst);
        }
        for w in [feq_d(2), csrrs(4)] {
            let mut k = Known::new();
            k.after(&gi(w));
            assert!(!k.covers(2, 0) || !k.covers(4, 0), "{:?}", gi(w).inst);
        }
    }
}
