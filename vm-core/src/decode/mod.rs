//! Decoder: RV64GC instruction bits to [`Inst`], the one description of
//! each instruction shared by the interpreter, the translator and the
//! disassembler.
//!
//! [`decode`] looks at the low two bits of a fetch to tell a 16-bit
//! compressed parcel from a 32-bit instruction. Compressed instructions are
//! expanded (in `rvc`) to exactly the [`Inst`] of their 32-bit twin, so
//! engines only ever see the base encodings. Register numbers and
//! sign-extended immediates are extracted here once; an `Inst` is small
//! plain data (`Copy`, 12 bytes) that engines can cache by the thousand.
//!
//! What is decided here and what is left to execution: encodings that are
//! reserved by the ISA (bad `funct` fields, `c.addi4spn` with a zero
//! immediate, shifts of 64 or more in W forms, ...) decode to
//! [`Inst::Illegal`]. Properties that depend on state (a reserved or DYN
//! rounding mode, an unknown CSR number) are the engine's to check.

mod disasm;
pub mod memo;
#[cfg(test)]
mod roundtrip;
mod rvc;
mod table;
#[cfg(test)]
mod tests;

pub use disasm::{At, csr_name};
pub use table::{ALL, Access, Ext, Facts, Flow, Lower};
pub(crate) use table::{not_float, not_inline};

/// Register-register operands (`rd`, `rs1`, `rs2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct R {
    pub rd: u8,
    pub rs1: u8,
    pub rs2: u8,
}

/// Register-immediate operands: ALU immediates, loads, `jalr`, and shift
/// amounts (the shamt is `imm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct I {
    pub rd: u8,
    pub rs1: u8,
    pub imm: i32,
}

/// Two sources and an immediate: stores (`mem[rs1 + imm] = rs2`) and
/// conditional branches (`imm` is the pc-relative offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct S {
    pub rs1: u8,
    pub rs2: u8,
    pub imm: i32,
}

/// Destination and a large immediate: `lui`/`auipc` (`imm` is the final
/// value, already shifted left by 12 and sign-extended) and `jal` (`imm` is
/// the pc-relative offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct U {
    pub rd: u8,
    pub imm: i32,
}

/// Atomic memory operation operands: address in `rs1`, value in `rs2`
/// (zero for `lr`), ordering bits `aq`/`rl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct A {
    pub rd: u8,
    pub rs1: u8,
    pub rs2: u8,
    pub aq: bool,
    pub rl: bool,
}

/// Floating-point operation with a rounding mode (`rm` as encoded, 0..=7;
/// 7 is DYN). Single-source operations leave `rs2` as encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct F {
    pub rd: u8,
    pub rs1: u8,
    pub rs2: u8,
    pub rm: u8,
}

/// Fused multiply-add operands (`rs1 * rs2 ± rs3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct F4 {
    pub rd: u8,
    pub rs1: u8,
    pub rs2: u8,
    pub rs3: u8,
    pub rm: u8,
}

/// CSR access: `rs1` is the source register, or the 5-bit immediate for
/// the `*i` forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Csr {
    pub rd: u8,
    pub rs1: u8,
    pub csr: u16,
}

/// What a Zicsr instruction does to its CSR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsrOp {
    /// `csrrw[i]`: write the source.
    Write,
    /// `csrrs[i]`: set the source's bits.
    Set,
    /// `csrrc[i]`: clear the source's bits.
    Clear,
}

/// `fence` ordering sets (bits I=8, O=4, R=2, W=1) and the `fm` field
/// (8 with `pred=succ=rw` is `fence.tso`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FenceArgs {
    pub pred: u8,
    pub succ: u8,
    pub fm: u8,
}

/// A decoded RV64GC instruction. Variant names are the mnemonics
/// (`FcvtWS` is `fcvt.w.s`, `AmoaddD` is `amoadd.d`).
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Inst {
    // ---- RV64I ----
    Lui(U),
    Auipc(U),
    Jal(U),
    Jalr(I),
    Beq(S),
    Bne(S),
    Blt(S),
    Bge(S),
    Bltu(S),
    Bgeu(S),
    Lb(I),
    Lh(I),
    Lw(I),
    Ld(I),
    Lbu(I),
    Lhu(I),
    Lwu(I),
    Sb(S),
    Sh(S),
    Sw(S),
    Sd(S),
    Addi(I),
    Slti(I),
    Sltiu(I),
    Xori(I),
    Ori(I),
    Andi(I),
    Slli(I),
    Srli(I),
    Srai(I),
    Addiw(I),
    Slliw(I),
    Srliw(I),
    Sraiw(I),
    Add(R),
    Sub(R),
    Sll(R),
    Slt(R),
    Sltu(R),
    Xor(R),
    Srl(R),
    Sra(R),
    Or(R),
    And(R),
    Addw(R),
    Subw(R),
    Sllw(R),
    Srlw(R),
    Sraw(R),
    Fence(FenceArgs),
    FenceI,
    Ecall,
    Ebreak,
    // ---- M ----
    Mul(R),
    Mulh(R),
    Mulhsu(R),
    Mulhu(R),
    Div(R),
    Divu(R),
    Rem(R),
    Remu(R),
    Mulw(R),
    Divw(R),
    Divuw(R),
    Remw(R),
    Remuw(R),
    // ---- A ----
    LrW(A),
    ScW(A),
    AmoswapW(A),
    AmoaddW(A),
    AmoxorW(A),
    AmoandW(A),
    AmoorW(A),
    AmominW(A),
    AmomaxW(A),
    AmominuW(A),
    AmomaxuW(A),
    LrD(A),
    ScD(A),
    AmoswapD(A),
    AmoaddD(A),
    AmoxorD(A),
    AmoandD(A),
    AmoorD(A),
    AmominD(A),
    AmomaxD(A),
    AmominuD(A),
    AmomaxuD(A),
    // ---- F ----
    Flw(I),
    Fsw(S),
    FmaddS(F4),
    FmsubS(F4),
    FnmsubS(F4),
    FnmaddS(F4),
    FaddS(F),
    FsubS(F),
    FmulS(F),
    FdivS(F),
    FsqrtS(F),
    FsgnjS(R),
    FsgnjnS(R),
    FsgnjxS(R),
    FminS(R),
    FmaxS(R),
    FcvtWS(F),
    FcvtWuS(F),
    FcvtLS(F),
    FcvtLuS(F),
    FcvtSW(F),
    FcvtSWu(F),
    FcvtSL(F),
    FcvtSLu(F),
    FmvXW(R),
    FmvWX(R),
    FeqS(R),
    FltS(R),
    FleS(R),
    FclassS(R),
    // ---- D ----
    Fld(I),
    Fsd(S),
    FmaddD(F4),
    FmsubD(F4),
    FnmsubD(F4),
    FnmaddD(F4),
    FaddD(F),
    FsubD(F),
    FmulD(F),
    FdivD(F),
    FsqrtD(F),
    FsgnjD(R),
    FsgnjnD(R),
    FsgnjxD(R),
    FminD(R),
    FmaxD(R),
    FcvtSD(F),
    FcvtDS(F),
    FcvtWD(F),
    FcvtWuD(F),
    FcvtLD(F),
    FcvtLuD(F),
    FcvtDW(F),
    FcvtDWu(F),
    FcvtDL(F),
    FcvtDLu(F),
    FmvXD(R),
    FmvDX(R),
    FeqD(R),
    FltD(R),
    FleD(R),
    FclassD(R),
    // ---- Zicsr ----
    Csrrw(Csr),
    Csrrs(Csr),
    Csrrc(Csr),
    Csrrwi(Csr),
    Csrrsi(Csr),
    Csrrci(Csr),
    /// Not a valid RV64GC instruction: the raw bits (a 16-bit parcel
    /// zero-extended).
    Illegal(u32),
}

// Engines keep arrays of these; keep them small.
const _: () = assert!(core::mem::size_of::<Inst>() <= 16);

/// Decode the instruction whose first bytes are `bits` (little-endian; for
/// a compressed parcel only the low 16 bits matter). Returns the
/// instruction and its length in bytes (2 or 4).
#[inline]
pub fn decode(bits: u32) -> (Inst, u8) {
    if bits & 3 == 3 {
        (decode32(bits), 4)
    } else {
        (rvc::expand(bits as u16), 2)
    }
}

#[inline(always)]
fn rd(w: u32) -> u8 {
    ((w >> 7) & 31) as u8
}
#[inline(always)]
fn rs1(w: u32) -> u8 {
    ((w >> 15) & 31) as u8
}
#[inline(always)]
fn rs2(w: u32) -> u8 {
    ((w >> 20) & 31) as u8
}
#[inline(always)]
fn rs3(w: u32) -> u8 {
    (w >> 27) as u8
}
#[inline(always)]
fn funct3(w: u32) -> u32 {
    (w >> 12) & 7
}
#[inline(always)]
fn funct7(w: u32) -> u32 {
    w >> 25
}
#[inline(always)]
fn imm_i(w: u32) -> i32 {
    (w as i32) >> 20
}
#[inline(always)]
fn imm_s(w: u32) -> i32 {
    (((w & 0xfe00_0000) as i32) >> 20) | ((w >> 7) & 0x1f) as i32
}
#[inline(always)]
fn imm_b(w: u32) -> i32 {
    (((w & 0x8000_0000) as i32) >> 19)
        | ((w & 0x80) << 4) as i32
        | ((w >> 20) & 0x7e0) as i32
        | ((w >> 7) & 0x1e) as i32
}
#[inline(always)]
fn imm_j(w: u32) -> i32 {
    (((w & 0x8000_0000) as i32) >> 11)
        | (w & 0xf_f000) as i32
        | ((w >> 9) & 0x800) as i32
        | ((w >> 20) & 0x7fe) as i32
}

fn r(w: u32) -> R {
    R {
        rd: rd(w),
        rs1: rs1(w),
        rs2: rs2(w),
    }
}
fn i(w: u32) -> I {
    I {
        rd: rd(w),
        rs1: rs1(w),
        imm: imm_i(w),
    }
}
fn s(w: u32) -> S {
    S {
        rs1: rs1(w),
        rs2: rs2(w),
        imm: imm_s(w),
    }
}
fn b(w: u32) -> S {
    S {
        rs1: rs1(w),
        rs2: rs2(w),
        imm: imm_b(w),
    }
}
fn f(w: u32) -> F {
    F {
        rd: rd(w),
        rs1: rs1(w),
        rs2: rs2(w),
        rm: funct3(w) as u8,
    }
}
fn f4(w: u32) -> F4 {
    F4 {
        rd: rd(w),
        rs1: rs1(w),
        rs2: rs2(w),
        rs3: rs3(w),
        rm: funct3(w) as u8,
    }
}
fn shamt(w: u32, bits: u32) -> I {
    I {
        rd: rd(w),
        rs1: rs1(w),
        imm: ((w >> 20) & ((1 << bits) - 1)) as i32,
    }
}

/// Decode a 32-bit instruction (low two bits 0b11).
pub fn decode32(w: u32) -> Inst {
    use Inst::*;
    let ill = Illegal(w);
    match (w >> 2) & 31 {
        // LOAD
        0b00000 => match funct3(w) {
            0 => Lb(i(w)),
            1 => Lh(i(w)),
            2 => Lw(i(w)),
            3 => Ld(i(w)),
            4 => Lbu(i(w)),
            5 => Lhu(i(w)),
            6 => Lwu(i(w)),
            _ => ill,
        },
        // LOAD-FP
        0b00001 => match funct3(w) {
            2 => Flw(i(w)),
            3 => Fld(i(w)),
            _ => ill,
        },
        // MISC-MEM
        0b00011 => match funct3(w) {
            // Unused rd/rs1 (and fm values) are ignored for forward
            // compatibility, as the ISA manual asks.
            0 => Fence(FenceArgs {
                pred: ((w >> 24) & 15) as u8,
                succ: ((w >> 20) & 15) as u8,
                fm: (w >> 28) as u8,
            }),
            1 => FenceI,
            _ => ill,
        },
        // OP-IMM
        0b00100 => match funct3(w) {
            0 => Addi(i(w)),
            1 if w >> 26 == 0 => Slli(shamt(w, 6)),
            2 => Slti(i(w)),
            3 => Sltiu(i(w)),
            4 => Xori(i(w)),
            5 if w >> 26 == 0 => Srli(shamt(w, 6)),
            5 if w >> 26 == 0b010000 => Srai(shamt(w, 6)),
            6 => Ori(i(w)),
            7 => Andi(i(w)),
            _ => ill,
        },
        // AUIPC
        0b00101 => Auipc(U {
            rd: rd(w),
            imm: (w & 0xffff_f000) as i32,
        }),
        // OP-IMM-32
        0b00110 => match (funct3(w), funct7(w)) {
            (0, _) => Addiw(i(w)),
            (1, 0) => Slliw(shamt(w, 5)),
            (5, 0) => Srliw(shamt(w, 5)),
            (5, 0b0100000) => Sraiw(shamt(w, 5)),
            _ => ill,
        },
        // STORE
        0b01000 => match funct3(w) {
            0 => Sb(s(w)),
            1 => Sh(s(w)),
            2 => Sw(s(w)),
            3 => Sd(s(w)),
            _ => ill,
        },
        // STORE-FP
        0b01001 => match funct3(w) {
            2 => Fsw(s(w)),
            3 => Fsd(s(w)),
            _ => ill,
        },
        // AMO
        0b01011 => decode_amo(w),
        // OP
        0b01100 => {
            let x = r(w);
            match (funct7(w), funct3(w)) {
                (0, 0) => Add(x),
                (0, 1) => Sll(x),
                (0, 2) => Slt(x),
                (0, 3) => Sltu(x),
                (0, 4) => Xor(x),
                (0, 5) => Srl(x),
                (0, 6) => Or(x),
                (0, 7) => And(x),
                (0b0100000, 0) => Sub(x),
                (0b0100000, 5) => Sra(x),
                (1, 0) => Mul(x),
                (1, 1) => Mulh(x),
                (1, 2) => Mulhsu(x),
                (1, 3) => Mulhu(x),
                (1, 4) => Div(x),
                (1, 5) => Divu(x),
                (1, 6) => Rem(x),
                (1, 7) => Remu(x),
                _ => ill,
            }
        }
        // LUI
        0b01101 => Lui(U {
            rd: rd(w),
            imm: (w & 0xffff_f000) as i32,
        }),
        // OP-32
        0b01110 => {
            let x = r(w);
            match (funct7(w), funct3(w)) {
                (0, 0) => Addw(x),
                (0, 1) => Sllw(x),
                (0, 5) => Srlw(x),
                (0b0100000, 0) => Subw(x),
                (0b0100000, 5) => Sraw(x),
                (1, 0) => Mulw(x),
                (1, 4) => Divw(x),
                (1, 5) => Divuw(x),
                (1, 6) => Remw(x),
                (1, 7) => Remuw(x),
                _ => ill,
            }
        }
        // MADD, MSUB, NMSUB, NMADD
        op @ 0b10000..=0b10011 => {
            let x = f4(w);
            match ((w >> 25) & 3, op) {
                (0, 0b10000) => FmaddS(x),
                (0, 0b10001) => FmsubS(x),
                (0, 0b10010) => FnmsubS(x),
                (0, 0b10011) => FnmaddS(x),
                (1, 0b10000) => FmaddD(x),
                (1, 0b10001) => FmsubD(x),
                (1, 0b10010) => FnmsubD(x),
                (1, 0b10011) => FnmaddD(x),
                _ => ill,
            }
        }
        // OP-FP
        0b10100 => decode_fp(w),
        // BRANCH
        0b11000 => match funct3(w) {
            0 => Beq(b(w)),
            1 => Bne(b(w)),
            4 => Blt(b(w)),
            5 => Bge(b(w)),
            6 => Bltu(b(w)),
            7 => Bgeu(b(w)),
            _ => ill,
        },
        // JALR
        0b11001 if funct3(w) == 0 => Jalr(i(w)),
        // JAL
        0b11011 => Jal(U {
            rd: rd(w),
            imm: imm_j(w),
        }),
        // SYSTEM
        0b11100 => {
            let c = Csr {
                rd: rd(w),
                rs1: rs1(w),
                csr: (w >> 20) as u16,
            };
            match funct3(w) {
                0 => match w {
                    0x0000_0073 => Ecall,
                    0x0010_0073 => Ebreak,
                    _ => ill,
                },
                1 => Csrrw(c),
                2 => Csrrs(c),
                3 => Csrrc(c),
                5 => Csrrwi(c),
                6 => Csrrsi(c),
                7 => Csrrci(c),
                _ => ill,
            }
        }
        _ => ill,
    }
}

fn decode_amo(w: u32) -> Inst {
    use Inst::*;
    let a = A {
        rd: rd(w),
        rs1: rs1(w),
        rs2: rs2(w),
        aq: w & (1 << 26) != 0,
        rl: w & (1 << 25) != 0,
    };
    let double = match funct3(w) {
        2 => false,
        3 => true,
        _ => return Illegal(w),
    };
    let op = w >> 27;
    if op == 0b00010 && a.rs2 != 0 {
        return Illegal(w);
    }
    match (op, double) {
        (0b00010, false) => LrW(a),
        (0b00011, false) => ScW(a),
        (0b00001, false) => AmoswapW(a),
        (0b00000, false) => AmoaddW(a),
        (0b00100, false) => AmoxorW(a),
        (0b01100, false) => AmoandW(a),
        (0b01000, false) => AmoorW(a),
        (0b10000, false) => AmominW(a),
        (0b10100, false) => AmomaxW(a),
        (0b11000, false) => AmominuW(a),
        (0b11100, false) => AmomaxuW(a),
        (0b00010, true) => LrD(a),
        (0b00011, true) => ScD(a),
        (0b00001, true) => AmoswapD(a),
        (0b00000, true) => AmoaddD(a),
        (0b00100, true) => AmoxorD(a),
        (0b01100, true) => AmoandD(a),
        (0b01000, true) => AmoorD(a),
        (0b10000, true) => AmominD(a),
        (0b10100, true) => AmomaxD(a),
        (0b11000, true) => AmominuD(a),
        (0b11100, true) => AmomaxuD(a),
        _ => Illegal(w),
    }
}

fn decode_fp(w: u32) -> Inst {
    use Inst::*;
    let ill = Illegal(w);
    let x = f(w);
    let rr = r(w);
    let rm = funct3(w);
    let src2 = rs2(w);
    match funct7(w) {
        0b0000000 => FaddS(x),
        0b0000001 => FaddD(x),
        0b0000100 => FsubS(x),
        0b0000101 => FsubD(x),
        0b0001000 => FmulS(x),
        0b0001001 => FmulD(x),
        0b0001100 => FdivS(x),
        0b0001101 => FdivD(x),
        0b0101100 if src2 == 0 => FsqrtS(x),
        0b0101101 if src2 == 0 => FsqrtD(x),
        0b0010000 => match rm {
            0 => FsgnjS(rr),
            1 => FsgnjnS(rr),
            2 => FsgnjxS(rr),
            _ => ill,
        },
        0b0010001 => match rm {
            0 => FsgnjD(rr),
            1 => FsgnjnD(rr),
            2 => FsgnjxD(rr),
            _ => ill,
        },
        0b0010100 => match rm {
            0 => FminS(rr),
            1 => FmaxS(rr),
            _ => ill,
        },
        0b0010101 => match rm {
            0 => FminD(rr),
            1 => FmaxD(rr),
            _ => ill,
        },
        0b0100000 if src2 == 1 => FcvtSD(x),
        0b0100001 if src2 == 0 => FcvtDS(x),
        0b1010000 => match rm {
            0 => FleS(rr),
            1 => FltS(rr),
            2 => FeqS(rr),
            _ => ill,
        },
        0b1010001 => match rm {
            0 => FleD(rr),
            1 => FltD(rr),
            2 => FeqD(rr),
            _ => ill,
        },
        0b1100000 => match src2 {
            0 => FcvtWS(x),
            1 => FcvtWuS(x),
            2 => FcvtLS(x),
            3 => FcvtLuS(x),
            _ => ill,
        },
        0b1100001 => match src2 {
            0 => FcvtWD(x),
            1 => FcvtWuD(x),
            2 => FcvtLD(x),
            3 => FcvtLuD(x),
            _ => ill,
        },
        0b1101000 => match src2 {
            0 => FcvtSW(x),
            1 => FcvtSWu(x),
            2 => FcvtSL(x),
            3 => FcvtSLu(x),
            _ => ill,
        },
        0b1101001 => match src2 {
            0 => FcvtDW(x),
            1 => FcvtDWu(x),
            2 => FcvtDL(x),
            3 => FcvtDLu(x),
            _ => ill,
        },
        0b1110000 if src2 == 0 => match rm {
            0 => FmvXW(rr),
            1 => FclassS(rr),
            _ => ill,
        },
        0b1110001 if src2 == 0 => match rm {
            0 => FmvXD(rr),
            1 => FclassD(rr),
            _ => ill,
        },
        0b1111000 if src2 == 0 && rm == 0 => FmvWX(rr),
        0b1111001 if src2 == 0 && rm == 0 => FmvDX(rr),
        _ => ill,
    }
}

impl Inst {
    /// For a Zicsr instruction: its operands, its operation, and whether
    /// `rs1` is a 5-bit immediate (the `*i` forms) rather than a register.
    pub fn csr_op(&self) -> Option<(Csr, CsrOp, bool)> {
        use Inst::*;
        Some(match *self {
            Csrrw(c) => (c, CsrOp::Write, false),
            Csrrs(c) => (c, CsrOp::Set, false),
            Csrrc(c) => (c, CsrOp::Clear, false),
            Csrrwi(c) => (c, CsrOp::Write, true),
            Csrrsi(c) => (c, CsrOp::Set, true),
            Csrrci(c) => (c, CsrOp::Clear, true),
            _ => return None,
        })
    }
}
