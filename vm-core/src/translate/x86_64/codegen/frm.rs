//! The `frm` check of dynamic-rounding F/D operations, once per way into
//! a loop instead of once per block run.
//!
//! An inline operation with `rm` = DYN needs `frm` = round to nearest even
//! (`float`): the first one after a join compares `frm` with 0, and what
//! follows up to the next join or `frm` write knows it. Every block start
//! is a join, so a loop whose body holds such an operation compared
//! `frm` on every iteration. Here, in a region that has a DYN operation,
//! every block but the entry starts knowing `frm` is round to nearest
//! even, and each host jump into such a block from code that does not
//! know it compares `frm` on that edge (its jump or branch, see
//! `Gen::goto` and `Gen::branch`): when `frm` is another mode, the edge
//! is a chainable exit to its target instead, so the code there runs
//! outside this region (in a translation with its own checks, or
//! interpreted). Inside a loop the check is then on the way in only. The
//! entry block is left out (an exit to it would enter this region again),
//! and so are return points (`Gen::predict_return` jumps there without
//! a check). `frm` changes only by a CSR write (which forgets what is
//! known, as the step helper does), so the knowledge holds along every
//! edge taken without a check.

use super::super::encode::{Alu, AsmError, Cond, Label, Mem, Reg, W};
use super::super::off;
use super::{Cold, Gen, GuestInst};
use crate::decode::Inst;
use alloc::vec::Vec;

/// An operation with the dynamic rounding mode (among those the inline
/// code checks `frm` for).
fn dynamic(inst: &Inst) -> bool {
    use Inst::*;
    match *inst {
        FaddD(q) | FsubD(q) | FmulD(q) | FdivD(q) | FsqrtD(q) | FaddS(q) | FsubS(q) | FmulS(q)
        | FdivS(q) | FsqrtS(q) | FcvtSD(q) => q.rm == 7,
        FmaddD(q) | FmsubD(q) | FnmsubD(q) | FnmaddD(q) | FmaddS(q) | FmsubS(q) | FnmsubS(q)
        | FnmaddS(q) => q.rm == 7,
        _ => false,
    }
}

/// For each of `blocks`, whether its code starts knowing `frm` is round to
/// nearest even (see the module doc).
/// The pcs of the `blocks` (in address order) whose code starts knowing
/// `frm` is round to nearest even (see the module doc), in order.
pub(super) fn known_at_start(blocks: &[&[GuestInst]], entry: u64, returns: &[u64]) -> Vec<u64> {
    if !blocks
        .iter()
        .flat_map(|b| b.iter())
        .any(|gi| dynamic(&gi.inst))
    {
        return Vec::new();
    }
    blocks
        .iter()
        .map(|b| b[0].pc)
        .filter(|&pc| pc != entry && !returns.contains(&pc))
        .collect()
}

/// An edge into a block that starts knowing `frm`, from code that does
/// not: compare it, and leave for `target` (storing back `dirty`) when it
/// is not round to nearest even; `to`: where the edge goes when it is, if
/// the check is out of line (a branch's), else back inline.
pub(super) struct Edge {
    pub label: Label,
    pub to: Option<Label>,
    pub target: u64,
    pub dirty: u32,
}

fn frm() -> Mem {
    Mem::base(Reg::Rbp, off::FRM)
}

impl Gen {
    /// Does an edge to guest `target` (in the region) need the check?
    pub(super) fn frm_edge(&self, target: u64) -> bool {
        !self.frm_rne && self.frm_known.binary_search(&target).is_ok()
    }

    /// The check inline before a jump to `target` (see [`Edge`]).
    pub(super) fn frm_check_inline(&mut self, target: u64) {
        let label = self.a.label();
        self.a.alu_mi(W::B32, Alu::Cmp, frm(), 0);
        self.a.jcc(Cond::Ne, label);
        self.cold.push(Cold::FrmEdge(Edge {
            label,
            to: None,
            target,
            dirty: self.written & self.path,
        }));
    }

    /// A label for a conditional jump to `l` (guest `target`) to take: `l`
    /// itself, or the out-of-line check on the way there.
    pub(super) fn frm_branch_to(&mut self, l: Label, target: u64) -> Label {
        if !self.frm_edge(target) {
            return l;
        }
        let label = self.a.label();
        self.cold.push(Cold::FrmEdge(Edge {
            label,
            to: Some(l),
            target,
            dirty: self.written & self.path,
        }));
        label
    }

    pub(super) fn emit_frm_edge(&mut self, e: Edge) -> Result<(), AsmError> {
        self.a.bind(e.label);
        if let Some(to) = e.to {
            let other = self.a.label();
            self.a.alu_mi(W::B32, Alu::Cmp, frm(), 0);
            self.a.jcc(Cond::Ne, other);
            self.a.jmp(to);
            self.a.bind(other);
        }
        // As every way out (`write_back`): the pinned registers stay in
        // their homes, and an unpinned region puts them back there.
        self.qpend_exit();
        self.write_back_set(e.dirty & self.exit_mask());
        self.restore_homes();
        self.bare_slot(e.target)
    }
}

#[cfg(test)]
mod tests {
    use crate::cpu::Trap;
    use crate::translate::tests::{run_fresh, rv};

    /// A block that writes `frm` jumps to one that starts knowing it is
    /// round to nearest even: that edge must compare it (and leave, the
    /// mode being round towards zero), or the `fadd` after it rounds to
    /// nearest in every iteration from the write on.
    #[test]
    fn an_edge_from_an_frm_write_into_a_known_block_checks_frm() {
        use rv::*;
        let fadd_dyn = rv::r(0x53, 7, 0x01, 1, 2, 3); // fadd.d f1, f2, f3, dyn
        let code = [
            addi(10, 0, 200),        // 0: a0 = 200
            addi(12, 0, 100),        // 4: a2 = 100
            addi(10, 10, -1),        // 8: loop: a0 -= 1
            rv::b(1, 10, 12, 8),     // 12: bne a0, a2, 20
            rv::i(0x73, 5, 0, 1, 2), // 16: csrwi frm, 1 (round towards zero)
            fadd_dyn,                // 20: f1 = f2 + f3
            rv::b(1, 10, 0, -16),    // 24: bne a0, x0, loop
            ECALL,                   // 28
        ];
        // 1 + 3 * 2^-54: up to 1 + 2^-52 to nearest, down to 1 towards zero.
        let (trap, cpu, j) = run_fresh(&code, |cpu| {
            cpu.f[2] = 1f64.to_bits();
            cpu.f[3] = (3.0 * 2f64.powi(-54)).to_bits();
        });
        assert_eq!(trap, Trap::Ecall);
        assert_eq!((cpu.x[10], cpu.frm), (0, 1));
        assert_eq!(cpu.f[1], 1f64.to_bits());
        // The loop did run as a region (more than one: the failed check
        // leaves it).
        assert!(j.promotions() >= 1, "{:?}", j.counters());
    }
}
