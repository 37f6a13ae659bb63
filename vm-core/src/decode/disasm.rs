//! Disassembly of [`Inst`] in the style of `objdump -d -M no-aliases`
//! (ABI register names, the base mnemonic of compressed instructions).
//!
//! `Display` prints pc-relative targets as `.+8`/`.-8` (GNU as syntax);
//! [`Inst::at`] gives a printer that knows the instruction's address and
//! prints absolute targets as objdump does.

use super::{A, Csr, F, FenceArgs, I, Inst, S, U};
use core::fmt;

const XREG: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];
const FREG: [&str; 32] = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2",
    "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9",
    "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];
const RM: [&str; 8] = ["rne", "rtz", "rdn", "rup", "rmm", "rm5", "rm6", "dyn"];

fn x(r: u8) -> &'static str {
    XREG[(r & 31) as usize]
}
fn fr(r: u8) -> &'static str {
    FREG[(r & 31) as usize]
}

/// The name objdump gives a user-level CSR, if it is one pvm knows.
pub fn csr_name(csr: u16) -> Option<&'static str> {
    Some(match csr {
        0x001 => "fflags",
        0x002 => "frm",
        0x003 => "fcsr",
        0xc00 => "cycle",
        0xc01 => "time",
        0xc02 => "instret",
        _ => return None,
    })
}

/// Printer for an instruction at a known address: branch and jump targets
/// are absolute (hex without prefix, as objdump prints them).
#[derive(Clone, Copy, Debug)]
pub struct At {
    inst: Inst,
    pc: u64,
}

impl Inst {
    /// Print this instruction as located at `pc`.
    pub fn at(self, pc: u64) -> At {
        At { inst: self, pc }
    }
}

/// A pc-relative target, absolute when the address is known.
struct Target(Option<u64>, i32);

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(pc) => write!(f, "{:x}", pc.wrapping_add(self.1 as i64 as u64)),
            None if self.1 < 0 => write!(f, ".{}", self.1),
            None => write!(f, ".+{}", self.1),
        }
    }
}

/// Optional `,rm` suffix: omitted for DYN (and, for the conversions that
/// are always exact, for RNE too), as objdump does.
struct RmSuffix(u8, bool);

impl fmt::Display for RmSuffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 7 || (self.1 && self.0 == 0) {
            Ok(())
        } else {
            write!(f, ",{}", RM[(self.0 & 7) as usize])
        }
    }
}

fn fence_set(f: &mut fmt::Formatter<'_>, s: u8) -> fmt::Result {
    if s == 0 {
        return f.write_str("0");
    }
    for (bit, c) in [(8, "i"), (4, "o"), (2, "r"), (1, "w")] {
        if s & bit != 0 {
            f.write_str(c)?;
        }
    }
    Ok(())
}

fn fmt_inst(inst: &Inst, pc: Option<u64>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    use Inst::*;
    let m = inst.mnemonic();
    match *inst {
        Lui(U { rd, imm }) | Auipc(U { rd, imm }) => {
            write!(f, "{m} {},0x{:x}", x(rd), (imm as u32) >> 12)
        }
        Jal(U { rd, imm }) => write!(f, "{m} {},{}", x(rd), Target(pc, imm)),
        Jalr(I { rd, rs1, imm }) => write!(f, "{m} {},{}({})", x(rd), imm, x(rs1)),
        Beq(S { rs1, rs2, imm })
        | Bne(S { rs1, rs2, imm })
        | Blt(S { rs1, rs2, imm })
        | Bge(S { rs1, rs2, imm })
        | Bltu(S { rs1, rs2, imm })
        | Bgeu(S { rs1, rs2, imm }) => {
            write!(f, "{m} {},{},{}", x(rs1), x(rs2), Target(pc, imm))
        }
        Lb(I { rd, rs1, imm })
        | Lh(I { rd, rs1, imm })
        | Lw(I { rd, rs1, imm })
        | Ld(I { rd, rs1, imm })
        | Lbu(I { rd, rs1, imm })
        | Lhu(I { rd, rs1, imm })
        | Lwu(I { rd, rs1, imm }) => write!(f, "{m} {},{}({})", x(rd), imm, x(rs1)),
        Sb(S { rs1, rs2, imm })
        | Sh(S { rs1, rs2, imm })
        | Sw(S { rs1, rs2, imm })
        | Sd(S { rs1, rs2, imm }) => write!(f, "{m} {},{}({})", x(rs2), imm, x(rs1)),
        Flw(I { rd, rs1, imm }) | Fld(I { rd, rs1, imm }) => {
            write!(f, "{m} {},{}({})", fr(rd), imm, x(rs1))
        }
        Fsw(S { rs1, rs2, imm }) | Fsd(S { rs1, rs2, imm }) => {
            write!(f, "{m} {},{}({})", fr(rs2), imm, x(rs1))
        }
        Slli(I { rd, rs1, imm })
        | Srli(I { rd, rs1, imm })
        | Srai(I { rd, rs1, imm })
        | Slliw(I { rd, rs1, imm })
        | Srliw(I { rd, rs1, imm })
        | Sraiw(I { rd, rs1, imm }) => write!(f, "{m} {},{},0x{:x}", x(rd), x(rs1), imm),
        Addi(I { rd, rs1, imm })
        | Slti(I { rd, rs1, imm })
        | Sltiu(I { rd, rs1, imm })
        | Xori(I { rd, rs1, imm })
        | Ori(I { rd, rs1, imm })
        | Andi(I { rd, rs1, imm })
        | Addiw(I { rd, rs1, imm }) => write!(f, "{m} {},{},{}", x(rd), x(rs1), imm),
        Add(r) | Sub(r) | Sll(r) | Slt(r) | Sltu(r) | Xor(r) | Srl(r) | Sra(r) | Or(r) | And(r)
        | Addw(r) | Subw(r) | Sllw(r) | Srlw(r) | Sraw(r) | Mul(r) | Mulh(r) | Mulhsu(r)
        | Mulhu(r) | Div(r) | Divu(r) | Rem(r) | Remu(r) | Mulw(r) | Divw(r) | Divuw(r)
        | Remw(r) | Remuw(r) => {
            write!(f, "{m} {},{},{}", x(r.rd), x(r.rs1), x(r.rs2))
        }
        Fence(FenceArgs { pred, succ, fm }) => {
            if fm == 8 && pred == 3 && succ == 3 {
                return f.write_str("fence.tso");
            }
            f.write_str("fence ")?;
            fence_set(f, pred)?;
            f.write_str(",")?;
            fence_set(f, succ)
        }
        FenceI | Ecall | Ebreak => f.write_str(m),
        LrW(a) | LrD(a) => write!(f, "{m}{} {},({})", Order(a), x(a.rd), x(a.rs1)),
        ScW(a) | AmoswapW(a) | AmoaddW(a) | AmoxorW(a) | AmoandW(a) | AmoorW(a) | AmominW(a)
        | AmomaxW(a) | AmominuW(a) | AmomaxuW(a) | ScD(a) | AmoswapD(a) | AmoaddD(a)
        | AmoxorD(a) | AmoandD(a) | AmoorD(a) | AmominD(a) | AmomaxD(a) | AmominuD(a)
        | AmomaxuD(a) => write!(f, "{m}{} {},{},({})", Order(a), x(a.rd), x(a.rs2), x(a.rs1)),
        FmaddS(q) | FmsubS(q) | FnmsubS(q) | FnmaddS(q) | FmaddD(q) | FmsubD(q) | FnmsubD(q)
        | FnmaddD(q) => write!(
            f,
            "{m} {},{},{},{}{}",
            fr(q.rd),
            fr(q.rs1),
            fr(q.rs2),
            fr(q.rs3),
            RmSuffix(q.rm, false)
        ),
        FaddS(F { rd, rs1, rs2, rm })
        | FsubS(F { rd, rs1, rs2, rm })
        | FmulS(F { rd, rs1, rs2, rm })
        | FdivS(F { rd, rs1, rs2, rm })
        | FaddD(F { rd, rs1, rs2, rm })
        | FsubD(F { rd, rs1, rs2, rm })
        | FmulD(F { rd, rs1, rs2, rm })
        | FdivD(F { rd, rs1, rs2, rm }) => write!(
            f,
            "{m} {},{},{}{}",
            fr(rd),
            fr(rs1),
            fr(rs2),
            RmSuffix(rm, false)
        ),
        FsqrtS(F { rd, rs1, rm, .. })
        | FsqrtD(F { rd, rs1, rm, .. })
        | FcvtSD(F { rd, rs1, rm, .. }) => {
            write!(f, "{m} {},{}{}", fr(rd), fr(rs1), RmSuffix(rm, false))
        }
        FcvtDS(F { rd, rs1, rm, .. }) => {
            write!(f, "{m} {},{}{}", fr(rd), fr(rs1), RmSuffix(rm, true))
        }
        FsgnjS(r) | FsgnjnS(r) | FsgnjxS(r) | FminS(r) | FmaxS(r) | FsgnjD(r) | FsgnjnD(r)
        | FsgnjxD(r) | FminD(r) | FmaxD(r) => {
            write!(f, "{m} {},{},{}", fr(r.rd), fr(r.rs1), fr(r.rs2))
        }
        FeqS(r) | FltS(r) | FleS(r) | FeqD(r) | FltD(r) | FleD(r) => {
            write!(f, "{m} {},{},{}", x(r.rd), fr(r.rs1), fr(r.rs2))
        }
        FcvtWS(F { rd, rs1, rm, .. })
        | FcvtWuS(F { rd, rs1, rm, .. })
        | FcvtLS(F { rd, rs1, rm, .. })
        | FcvtLuS(F { rd, rs1, rm, .. })
        | FcvtWD(F { rd, rs1, rm, .. })
        | FcvtWuD(F { rd, rs1, rm, .. })
        | FcvtLD(F { rd, rs1, rm, .. })
        | FcvtLuD(F { rd, rs1, rm, .. }) => {
            write!(f, "{m} {},{}{}", x(rd), fr(rs1), RmSuffix(rm, false))
        }
        FcvtSW(F { rd, rs1, rm, .. })
        | FcvtSWu(F { rd, rs1, rm, .. })
        | FcvtSL(F { rd, rs1, rm, .. })
        | FcvtSLu(F { rd, rs1, rm, .. })
        | FcvtDL(F { rd, rs1, rm, .. })
        | FcvtDLu(F { rd, rs1, rm, .. }) => {
            write!(f, "{m} {},{}{}", fr(rd), x(rs1), RmSuffix(rm, false))
        }
        FcvtDW(F { rd, rs1, rm, .. }) | FcvtDWu(F { rd, rs1, rm, .. }) => {
            write!(f, "{m} {},{}{}", fr(rd), x(rs1), RmSuffix(rm, true))
        }
        FmvXW(r) | FmvXD(r) | FclassS(r) | FclassD(r) => {
            write!(f, "{m} {},{}", x(r.rd), fr(r.rs1))
        }
        FmvWX(r) | FmvDX(r) => write!(f, "{m} {},{}", fr(r.rd), x(r.rs1)),
        Csrrw(c) | Csrrs(c) | Csrrc(c) => {
            write!(f, "{m} {},{},{}", x(c.rd), CsrName(c), x(c.rs1))
        }
        Csrrwi(c) | Csrrsi(c) | Csrrci(c) => {
            write!(f, "{m} {},{},{}", x(c.rd), CsrName(c), c.rs1)
        }
        Illegal(bits) => {
            if bits & 3 == 3 {
                write!(f, ".word 0x{bits:08x}")
            } else {
                write!(f, ".short 0x{bits:04x}")
            }
        }
    }
}

/// `.aq`, `.rl`, `.aqrl` or nothing.
struct Order(A);

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.aq, self.0.rl) {
            (true, true) => f.write_str(".aqrl"),
            (true, false) => f.write_str(".aq"),
            (false, true) => f.write_str(".rl"),
            (false, false) => Ok(()),
        }
    }
}

struct CsrName(Csr);

impl fmt::Display for CsrName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match csr_name(self.0.csr) {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:x}", self.0.csr),
        }
    }
}

impl fmt::Display for Inst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_inst(self, None, f)
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_inst(&self.inst, Some(self.pc), f)
    }
}
