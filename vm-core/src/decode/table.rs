//! The one description of each RV64GC instruction: its mnemonic and its
//! facts (how it moves control, what memory it touches and how wide, its
//! extension, whether it has a rounding-mode field, and how the x86-64
//! translator emits it). [`Inst::mnemonic`], [`Inst::facts`], [`ALL`], the
//! translator's choice between inline code and `interp::step`, the block
//! ends of both engines, the interpreter's hot path
//! ([`Facts::interp_fast`]) and the instruction list of the coverage
//! check in `xtask` all come from this table; the [`Inst`] enum (with operand
//! types) is in the parent module, and a variant missing here does not
//! compile.
//!
//! Rows are grouped by how the translator emits the instruction:
//! `inline` (always inline x86-64 code: the code generator's `match` must
//! have an arm for each, or it does not compile), `float` (inline when
//! the floating-point mode, the rounding mode or the host allows, else a
//! call to `interp::step`: the code generator's floating-point `match`
//! must name each, with its inline code or among the cases that fall
//! back, or it does not compile) and `step` (always `interp::step`).
//! Columns: variant, mnemonic, [`Flow`], [`Access`] and width in bytes,
//! [`Ext`], `rm` if the encoding has a rounding-mode field.

use super::Inst;

/// How an instruction moves control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Falls through to the next instruction.
    Next,
    /// A conditional branch.
    Branch,
    /// An unconditional jump (`jal`, `jalr`).
    Jump,
    /// Always traps to the run loop (`ecall`, `ebreak`, an illegal
    /// instruction).
    Trap,
    /// Makes earlier stores visible to instruction fetch (`fence.i`).
    Sync,
}

/// The memory an instruction accesses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    None,
    Load,
    Store,
    /// An atomic read-modify-write (LR/SC and AMOs).
    Amo,
}

/// The extension an instruction belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Ext {
    I,
    M,
    A,
    F,
    D,
    Zicsr,
    Zifencei,
    /// Not an instruction: a reserved encoding.
    Reserved,
}

/// How the x86-64 translator emits an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lower {
    /// Inline code, always.
    Inline,
    /// Inline code when the floating-point mode allows, else a call to
    /// `interp::step`.
    Float,
    /// A call to `interp::step`.
    Step,
}

/// What the table says of one instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facts {
    /// objdump's mnemonic (no ordering suffixes for A).
    pub mnemonic: &'static str,
    pub flow: Flow,
    pub access: Access,
    /// Bytes accessed (0 without an access).
    pub width: u8,
    pub ext: Ext,
    /// The encoding has a rounding-mode field.
    pub rm: bool,
    pub lower: Lower,
}

impl Facts {
    /// Floating point (F or D)?
    pub const fn fp(&self) -> bool {
        matches!(self.ext, Ext::F | Ext::D)
    }

    /// Does the instruction end a translated region's straight-line run
    /// (any control transfer, trap or `fence.i`)?
    pub const fn ends_region(&self) -> bool {
        !matches!(self.flow, Flow::Next)
    }

    /// Does the instruction end an interpreter block (a jump, a trap or
    /// `fence.i`; conditional branches stay inside)?
    pub const fn ends_block(&self) -> bool {
        matches!(self.flow, Flow::Jump | Flow::Trap | Flow::Sync)
    }

    /// Is the instruction on the interpreter's hot path: does it get a
    /// specialised handler of its own (`interp::fast`) instead of the
    /// generic executor? Exactly the integer (I and M) rows the translator
    /// always emits inline, the instructions most guest code is made of;
    /// a unit test (`interp::tests`) holds the selector to this.
    pub const fn interp_fast(&self) -> bool {
        matches!(self.lower, Lower::Inline) && matches!(self.ext, Ext::I | Ext::M)
    }
}

macro_rules! rm {
    (rm) => {
        true
    };
    (-) => {
        false
    };
}

macro_rules! instructions {
    (inline { $($i:tt)* } float { $($f:tt)* } step { $($s:tt)* }) => {
        instructions!(@facts [Inline $($i)*] [Float $($f)*] [Step $($s)*]);
        instructions!(@pattern not_inline
            "every instruction the translator does not always emit inline \
             (the `float` and `step` rows): the code generator's exhaustive \
             `match` uses it, so a new `inline` row without code there does \
             not compile."
            $($f)* $($s)*);
        instructions!(@pattern not_float
            "every instruction but the `float` rows (the `inline` and `step` \
             rows): the code generator's exhaustive floating-point `match` \
             uses it, so a new `float` row that it does not name does not \
             compile."
            $($i)* $($s)*);
    };
    (@pattern $name:ident $doc:literal
        $($v:ident $m:literal $flow:ident $acc:ident $w:literal $ext:ident $rm:tt;)*) => {
        #[doc = concat!("A pattern matching ", $doc)]
        macro_rules! $name {
            () => {
                $($crate::decode::Inst::$v { .. })|*
            };
        }
        pub(crate) use $name;
    };
    (@facts $([$lower:ident $($v:ident $m:literal $flow:ident $acc:ident $w:literal $ext:ident $rm:tt;)*])*) => {
        /// Every instruction of the table (the reserved encoding last), in
        /// the table's order.
        pub const ALL: &[Facts] = &[$($(Facts {
            mnemonic: $m,
            flow: Flow::$flow,
            access: Access::$acc,
            width: $w,
            ext: Ext::$ext,
            rm: rm!($rm),
            lower: Lower::$lower,
        },)*)*];

        impl Inst {
            /// The table's [`Facts::flow`] of this instruction alone,
            /// inlined (a byte table): the translator's cold runs ask it
            /// after every instruction they interpret.
            #[inline(always)]
            pub const fn flow(&self) -> Flow {
                match self {
                    $($(Inst::$v { .. } => Flow::$flow,)*)*
                }
            }

            /// What the table says of this instruction.
            pub const fn facts(&self) -> &'static Facts {
                match self {
                    $($(Inst::$v { .. } => &Facts {
                        mnemonic: $m,
                        flow: Flow::$flow,
                        access: Access::$acc,
                        width: $w,
                        ext: Ext::$ext,
                        rm: rm!($rm),
                        lower: Lower::$lower,
                    },)*)*
                }
            }

            /// The assembler mnemonic (without ordering suffixes for A).
            pub const fn mnemonic(&self) -> &'static str {
                self.facts().mnemonic
            }
        }
    };
}

instructions! {
    inline {
        Lui        "lui"        Next   None  0  I        -;
        Auipc      "auipc"      Next   None  0  I        -;
        Jal        "jal"        Jump   None  0  I        -;
        Jalr       "jalr"       Jump   None  0  I        -;
        Beq        "beq"        Branch None  0  I        -;
        Bne        "bne"        Branch None  0  I        -;
        Blt        "blt"        Branch None  0  I        -;
        Bge        "bge"        Branch None  0  I        -;
        Bltu       "bltu"       Branch None  0  I        -;
        Bgeu       "bgeu"       Branch None  0  I        -;
        Lb         "lb"         Next   Load  1  I        -;
        Lh         "lh"         Next   Load  2  I        -;
        Lw         "lw"         Next   Load  4  I        -;
        Ld         "ld"         Next   Load  8  I        -;
        Lbu        "lbu"        Next   Load  1  I        -;
        Lhu        "lhu"        Next   Load  2  I        -;
        Lwu        "lwu"        Next   Load  4  I        -;
        Sb         "sb"         Next   Store 1  I        -;
        Sh         "sh"         Next   Store 2  I        -;
        Sw         "sw"         Next   Store 4  I        -;
        Sd         "sd"         Next   Store 8  I        -;
        Addi       "addi"       Next   None  0  I        -;
        Slti       "slti"       Next   None  0  I        -;
        Sltiu      "sltiu"      Next   None  0  I        -;
        Xori       "xori"       Next   None  0  I        -;
        Ori        "ori"        Next   None  0  I        -;
        Andi       "andi"       Next   None  0  I        -;
        Slli       "slli"       Next   None  0  I        -;
        Srli       "srli"       Next   None  0  I        -;
        Srai       "srai"       Next   None  0  I        -;
        Addiw      "addiw"      Next   None  0  I        -;
        Slliw      "slliw"      Next   None  0  I        -;
        Srliw      "srliw"      Next   None  0  I        -;
        Sraiw      "sraiw"      Next   None  0  I        -;
        Add        "add"        Next   None  0  I        -;
        Sub        "sub"        Next   None  0  I        -;
        Sll        "sll"        Next   None  0  I        -;
        Slt        "slt"        Next   None  0  I        -;
        Sltu       "sltu"       Next   None  0  I        -;
        Xor        "xor"        Next   None  0  I        -;
        Srl        "srl"        Next   None  0  I        -;
        Sra        "sra"        Next   None  0  I        -;
        Or         "or"         Next   None  0  I        -;
        And        "and"        Next   None  0  I        -;
        Addw       "addw"       Next   None  0  I        -;
        Subw       "subw"       Next   None  0  I        -;
        Sllw       "sllw"       Next   None  0  I        -;
        Srlw       "srlw"       Next   None  0  I        -;
        Sraw       "sraw"       Next   None  0  I        -;
        Fence      "fence"      Next   None  0  I        -;
        Mul        "mul"        Next   None  0  M        -;
        Mulh       "mulh"       Next   None  0  M        -;
        Mulhsu     "mulhsu"     Next   None  0  M        -;
        Mulhu      "mulhu"      Next   None  0  M        -;
        Div        "div"        Next   None  0  M        -;
        Divu       "divu"       Next   None  0  M        -;
        Rem        "rem"        Next   None  0  M        -;
        Remu       "remu"       Next   None  0  M        -;
        Mulw       "mulw"       Next   None  0  M        -;
        Divw       "divw"       Next   None  0  M        -;
        Divuw      "divuw"      Next   None  0  M        -;
        Remw       "remw"       Next   None  0  M        -;
        Remuw      "remuw"      Next   None  0  M        -;
        LrW        "lr.w"       Next   Amo   4  A        -;
        ScW        "sc.w"       Next   Amo   4  A        -;
        AmoswapW   "amoswap.w"  Next   Amo   4  A        -;
        AmoaddW    "amoadd.w"   Next   Amo   4  A        -;
        AmoxorW    "amoxor.w"   Next   Amo   4  A        -;
        AmoandW    "amoand.w"   Next   Amo   4  A        -;
        AmoorW     "amoor.w"    Next   Amo   4  A        -;
        AmominW    "amomin.w"   Next   Amo   4  A        -;
        AmomaxW    "amomax.w"   Next   Amo   4  A        -;
        AmominuW   "amominu.w"  Next   Amo   4  A        -;
        AmomaxuW   "amomaxu.w"  Next   Amo   4  A        -;
        LrD        "lr.d"       Next   Amo   8  A        -;
        ScD        "sc.d"       Next   Amo   8  A        -;
        AmoswapD   "amoswap.d"  Next   Amo   8  A        -;
        AmoaddD    "amoadd.d"   Next   Amo   8  A        -;
        AmoxorD    "amoxor.d"   Next   Amo   8  A        -;
        AmoandD    "amoand.d"   Next   Amo   8  A        -;
        AmoorD     "amoor.d"    Next   Amo   8  A        -;
        AmominD    "amomin.d"   Next   Amo   8  A        -;
        AmomaxD    "amomax.d"   Next   Amo   8  A        -;
        AmominuD   "amominu.d"  Next   Amo   8  A        -;
        AmomaxuD   "amomaxu.d"  Next   Amo   8  A        -;
    }
    float {
        Flw        "flw"        Next   Load  4  F        -;
        Fsw        "fsw"        Next   Store 4  F        -;
        FsqrtS     "fsqrt.s"    Next   None  0  F        rm;
        FsgnjS     "fsgnj.s"    Next   None  0  F        -;
        FsgnjnS    "fsgnjn.s"   Next   None  0  F        -;
        FsgnjxS    "fsgnjx.s"   Next   None  0  F        -;
        FmvXW      "fmv.x.w"    Next   None  0  F        -;
        FmvWX      "fmv.w.x"    Next   None  0  F        -;
        FeqS       "feq.s"      Next   None  0  F        -;
        FltS       "flt.s"      Next   None  0  F        -;
        FleS       "fle.s"      Next   None  0  F        -;
        FmaddS     "fmadd.s"    Next   None  0  F        rm;
        FmsubS     "fmsub.s"    Next   None  0  F        rm;
        FnmsubS    "fnmsub.s"   Next   None  0  F        rm;
        FnmaddS    "fnmadd.s"   Next   None  0  F        rm;
        FaddS      "fadd.s"     Next   None  0  F        rm;
        FsubS      "fsub.s"     Next   None  0  F        rm;
        FmulS      "fmul.s"     Next   None  0  F        rm;
        FdivS      "fdiv.s"     Next   None  0  F        rm;
        FminS      "fmin.s"     Next   None  0  F        -;
        FmaxS      "fmax.s"     Next   None  0  F        -;
        FcvtWS     "fcvt.w.s"   Next   None  0  F        rm;
        FcvtWuS    "fcvt.wu.s"  Next   None  0  F        rm;
        FcvtLS     "fcvt.l.s"   Next   None  0  F        rm;
        FcvtLuS    "fcvt.lu.s"  Next   None  0  F        rm;
        FcvtSW     "fcvt.s.w"   Next   None  0  F        rm;
        FcvtSWu    "fcvt.s.wu"  Next   None  0  F        rm;
        FcvtSL     "fcvt.s.l"   Next   None  0  F        rm;
        FcvtSLu    "fcvt.s.lu"  Next   None  0  F        rm;
        Fld        "fld"        Next   Load  8  D        -;
        Fsd        "fsd"        Next   Store 8  D        -;
        FsqrtD     "fsqrt.d"    Next   None  0  D        rm;
        FsgnjD     "fsgnj.d"    Next   None  0  D        -;
        FsgnjnD    "fsgnjn.d"   Next   None  0  D        -;
        FsgnjxD    "fsgnjx.d"   Next   None  0  D        -;
        FcvtSD     "fcvt.s.d"   Next   None  0  D        rm;
        FcvtDS     "fcvt.d.s"   Next   None  0  D        rm;
        FmvXD      "fmv.x.d"    Next   None  0  D        -;
        FmvDX      "fmv.d.x"    Next   None  0  D        -;
        FeqD       "feq.d"      Next   None  0  D        -;
        FltD       "flt.d"      Next   None  0  D        -;
        FleD       "fle.d"      Next   None  0  D        -;
        FmaddD     "fmadd.d"    Next   None  0  D        rm;
        FmsubD     "fmsub.d"    Next   None  0  D        rm;
        FnmsubD    "fnmsub.d"   Next   None  0  D        rm;
        FnmaddD    "fnmadd.d"   Next   None  0  D        rm;
        FaddD      "fadd.d"     Next   None  0  D        rm;
        FsubD      "fsub.d"     Next   None  0  D        rm;
        FmulD      "fmul.d"     Next   None  0  D        rm;
        FdivD      "fdiv.d"     Next   None  0  D        rm;
        FminD      "fmin.d"     Next   None  0  D        -;
        FmaxD      "fmax.d"     Next   None  0  D        -;
        FcvtWD     "fcvt.w.d"   Next   None  0  D        rm;
        FcvtWuD    "fcvt.wu.d"  Next   None  0  D        rm;
        FcvtLD     "fcvt.l.d"   Next   None  0  D        rm;
        FcvtLuD    "fcvt.lu.d"  Next   None  0  D        rm;
        FcvtDW     "fcvt.d.w"   Next   None  0  D        rm;
        FcvtDWu    "fcvt.d.wu"  Next   None  0  D        rm;
        FcvtDL     "fcvt.d.l"   Next   None  0  D        rm;
        FcvtDLu    "fcvt.d.lu"  Next   None  0  D        rm;
        Csrrw      "csrrw"      Next   None  0  Zicsr    -;
        Csrrs      "csrrs"      Next   None  0  Zicsr    -;
        Csrrc      "csrrc"      Next   None  0  Zicsr    -;
        Csrrwi     "csrrwi"     Next   None  0  Zicsr    -;
        Csrrsi     "csrrsi"     Next   None  0  Zicsr    -;
        Csrrci     "csrrci"     Next   None  0  Zicsr    -;
    }
    step {
        FenceI     "fence.i"    Sync   None  0  Zifencei -;
        Ecall      "ecall"      Trap   None  0  I        -;
        Ebreak     "ebreak"     Trap   None  0  I        -;
        FclassS    "fclass.s"   Next   None  0  F        -;
        FclassD    "fclass.d"   Next   None  0  D        -;
        Illegal    ".word"      Trap   None  0  Reserved -;
    }
}
