//! A small x86-64 assembler: exactly the instructions the RISC-V code
//! generator emits, with REX handling, ModRM/SIB memory operands, and rel32
//! labels that are patched when the code is finished.
//!
//! Why hand-written: the generator needs a few dozen instruction forms and
//! nothing else, in `no_std`, with full control over the bytes (chaining
//! patches a known rel32 field in place). The forms are checked against
//! the `iced-x86` disassembler in the tests below.
//!
//! The buffer is position dependent: [`Asm::new`] takes the host address the
//! code will run at, so `rel32` references to absolute targets (the exit
//! stub, other translations) can be resolved while emitting.

use alloc::vec::Vec;

/// A general-purpose register (its hardware number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Reg {
    Rax = 0,
    Rcx = 1,
    Rdx = 2,
    Rbx = 3,
    Rsp = 4,
    Rbp = 5,
    Rsi = 6,
    Rdi = 7,
    R8 = 8,
    R9 = 9,
    R10 = 10,
    R11 = 11,
    R12 = 12,
    R13 = 13,
    R14 = 14,
    R15 = 15,
}

impl Reg {
    fn n(self) -> u8 {
        self as u8
    }
    fn low(self) -> u8 {
        self as u8 & 7
    }
    fn ext(self) -> u8 {
        (self as u8 >> 3) & 1
    }
}

/// An XMM register number (0..=15).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Xmm(pub u8);

/// A memory operand `[base + index*scale + disp]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mem {
    pub base: Reg,
    /// Index register and log2 of the scale (0..=3). `Rsp` cannot index.
    pub index: Option<(Reg, u8)>,
    pub disp: i32,
}

impl Mem {
    /// `[base + disp]`.
    pub const fn base(base: Reg, disp: i32) -> Mem {
        Mem {
            base,
            index: None,
            disp,
        }
    }
    /// `[base + index]`.
    pub const fn indexed(base: Reg, index: Reg) -> Mem {
        Mem {
            base,
            index: Some((index, 0)),
            disp: 0,
        }
    }
}

/// Operand width of an integer operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum W {
    B8,
    B16,
    B32,
    B64,
}

/// The classic two-operand ALU group (the `/digit` of opcodes 0x81/0x83).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Alu {
    Add = 0,
    Or = 1,
    And = 4,
    Sub = 5,
    Xor = 6,
    Cmp = 7,
}

/// Shift group (`/digit` of 0xC1/0xD3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Shift {
    Shl = 4,
    Shr = 5,
    Sar = 7,
}

/// Unary group 3 (`/digit` of 0xF7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Unary {
    Not = 2,
    Neg = 3,
    /// Unsigned `rdx:rax = rax * r/m`.
    Mul = 4,
    /// Signed `rdx:rax = rax * r/m`.
    Imul = 5,
    /// Unsigned `rdx:rax / r/m`.
    Div = 6,
    /// Signed `rdx:rax / r/m`.
    Idiv = 7,
}

/// Condition codes (the low nibble of `jcc`/`setcc`/`cmovcc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Cond {
    O = 0,
    No = 1,
    B = 2,
    Ae = 3,
    E = 4,
    Ne = 5,
    Be = 6,
    A = 7,
    S = 8,
    Ns = 9,
    P = 10,
    Np = 11,
    L = 12,
    Ge = 13,
    Le = 14,
    G = 15,
}

impl Cond {
    /// The opposite condition.
    pub fn inverse(self) -> Cond {
        // Conditions come in pairs differing in the low bit.
        let n = self as u8 ^ 1;
        [
            Cond::O,
            Cond::No,
            Cond::B,
            Cond::Ae,
            Cond::E,
            Cond::Ne,
            Cond::Be,
            Cond::A,
            Cond::S,
            Cond::Ns,
            Cond::P,
            Cond::Np,
            Cond::L,
            Cond::Ge,
            Cond::Le,
            Cond::G,
        ][n as usize]
    }
}

/// A position in the code, bound once with [`Asm::bind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(usize);

/// Register or memory operand.
#[derive(Clone, Copy, Debug)]
enum Rm {
    R(u8),
    M(Mem),
}

/// One instruction's bytes being assembled (the longest [`Asm::op`]
/// makes is 10: prefix, REX, two opcode bytes, ModRM, SIB, disp32; an
/// immediate after it 4 more, appended with them at once).
#[derive(Default)]
struct Bytes {
    buf: [u8; 16],
    n: usize,
}

impl Bytes {
    #[inline(always)]
    fn b(&mut self, x: u8) {
        self.buf[self.n] = x;
        self.n += 1;
    }

    /// Four bytes, little-endian (a displacement or an immediate).
    #[inline(always)]
    fn d32(&mut self, x: i32) {
        self.buf[self.n..self.n + 4].copy_from_slice(&x.to_le_bytes());
        self.n += 4;
    }

    /// ModRM (+SIB, disp) for `reg` (its low 3 bits) and memory `m`.
    #[inline(always)]
    fn modrm_mem(&mut self, reg: u8, m: Mem) {
        let base = m.base.low();
        // rbp/r13 as base have no mod=00 form (it means rip/disp32).
        let md = if m.disp == 0 && base != 5 {
            0
        } else if i8::try_from(m.disp).is_ok() {
            1
        } else {
            2
        };
        match m.index {
            None if base != 4 => self.b(md << 6 | reg << 3 | base),
            None => {
                self.b(md << 6 | reg << 3 | 4);
                self.b(0x24);
            }
            Some((idx, scale)) => {
                debug_assert!(idx != Reg::Rsp);
                self.b(md << 6 | reg << 3 | 4);
                self.b((scale & 3) << 6 | idx.low() << 3 | base);
            }
        }
        match md {
            1 => self.b(m.disp as i8 as u8),
            2 => self.d32(m.disp),
            _ => {}
        }
    }
}

/// The assembler: a byte buffer, its future host address, and labels.
#[derive(Debug)]
pub struct Asm {
    /// The emitted bytes.
    pub code: Vec<u8>,
    base: u64,
    labels: Vec<Option<usize>>,
    /// (offset of a rel32 field, label it refers to)
    fixups: Vec<(usize, Label)>,
    /// Offset the last label was bound at (`usize::MAX`: none yet).
    last_bind: usize,
}

/// Why an assembly could not be finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsmError {
    /// A label was used but never bound.
    UnboundLabel,
    /// An absolute target is further than ±2 GiB from the code.
    OutOfRange,
}

impl Asm {
    /// An empty buffer whose byte 0 will live at host address `base`.
    pub fn new(base: u64) -> Asm {
        Asm::with_capacity(base, 1024)
    }

    /// The same with room for `cap` bytes before the buffer grows (a
    /// region's code is sized from its instruction count, so emitting it
    /// does not reallocate and copy the buffer as it grows).
    pub fn with_capacity(base: u64, cap: usize) -> Asm {
        Asm {
            code: Vec::with_capacity(cap),
            base,
            // About one label and one jump per 32 bytes of code.
            labels: Vec::with_capacity(cap / 32),
            fixups: Vec::with_capacity(cap / 32),
            last_bind: usize::MAX,
        }
    }

    /// An assembler holding no buffers yet (allocates nothing).
    pub fn empty() -> Asm {
        Asm {
            code: Vec::new(),
            base: 0,
            labels: Vec::new(),
            fixups: Vec::new(),
            last_bind: usize::MAX,
        }
    }

    /// Start over, empty, for code at `base` with room for `cap` bytes
    /// (as [`Asm::with_capacity`]), keeping the buffers this one has
    /// (see `codegen::Scratch`).
    pub fn reset(&mut self, base: u64, cap: usize) {
        self.code.clear();
        self.code.reserve(cap);
        self.labels.clear();
        self.labels.reserve(cap / 32);
        self.fixups.clear();
        self.fixups.reserve(cap / 32);
        self.base = base;
        self.last_bind = usize::MAX;
    }

    /// Current offset.
    pub fn pos(&self) -> usize {
        self.code.len()
    }

    /// Host address of the next byte.
    pub fn here(&self) -> u64 {
        self.base + self.code.len() as u64
    }

    /// A fresh unbound label.
    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Bind `l` to the current position.
    pub fn bind(&mut self, l: Label) {
        self.labels[l.0] = Some(self.code.len());
        self.last_bind = self.code.len();
    }

    /// Offset the last label was bound at, if any (code reached there
    /// may come from a jump).
    pub fn last_bind(&self) -> Option<usize> {
        (self.last_bind != usize::MAX).then_some(self.last_bind)
    }

    /// Offset a bound label refers to.
    pub fn label_pos(&self, l: Label) -> Option<usize> {
        self.labels[l.0]
    }

    /// Resolve label references; the code is then ready to copy to `base`.
    pub fn finish(&mut self) -> Result<(), AsmError> {
        for &(at, l) in &self.fixups {
            let target = self.labels[l.0].ok_or(AsmError::UnboundLabel)?;
            let rel = target as i64 - (at as i64 + 4);
            self.code[at..at + 4].copy_from_slice(&(rel as i32).to_le_bytes());
        }
        self.fixups.clear();
        Ok(())
    }

    fn b(&mut self, x: u8) {
        self.code.push(x);
    }
    fn d32(&mut self, x: i32) {
        self.code.extend_from_slice(&x.to_le_bytes());
    }

    /// Emit prefix, REX, opcode and ModRM (+SIB, disp) for `reg` and `rm`.
    /// `byte_regs` forces a REX when a byte register 4..=7 (spl..dil) is
    /// named, so it does not mean ah..bh. (Assembled in a [`Bytes`] and
    /// appended at once: translating is mostly this, and one append costs
    /// less than a checked push per byte. Inlined: its callers pass
    /// constant prefixes, opcodes and widths, which then fold away.)
    #[inline(always)]
    fn op(&mut self, prefix: Option<u8>, w: bool, opc: &[u8], reg: u8, rm: Rm, byte_regs: bool) {
        let o = Self::op_bytes(prefix, w, opc, reg, rm, byte_regs);
        self.append(&o);
    }

    /// The bytes of [`Asm::op`], for a caller to add an immediate to
    /// before they are appended at once.
    #[inline(always)]
    fn op_bytes(
        prefix: Option<u8>,
        w: bool,
        opc: &[u8],
        reg: u8,
        rm: Rm,
        byte_regs: bool,
    ) -> Bytes {
        let mut o = Bytes::default();
        if let Some(p) = prefix {
            o.b(p);
        }
        let r = (reg >> 3) & 1;
        let (x, bb) = match rm {
            Rm::R(n) => (0, (n >> 3) & 1),
            Rm::M(m) => (m.index.map_or(0, |(i, _)| i.ext()), m.base.ext()),
        };
        let force =
            byte_regs && ((4..8).contains(&reg) || matches!(rm, Rm::R(n) if (4..8).contains(&n)));
        let rex = 0x40 | (w as u8) << 3 | r << 2 | x << 1 | bb;
        if rex != 0x40 || force {
            o.b(rex);
        }
        for &c in opc {
            o.b(c);
        }
        match rm {
            Rm::R(n) => o.b(0xc0 | (reg & 7) << 3 | (n & 7)),
            Rm::M(m) => o.modrm_mem(reg & 7, m),
        }
        o
    }

    fn modrm_mem(&mut self, reg: u8, m: Mem) {
        let mut o = Bytes::default();
        o.modrm_mem(reg, m);
        self.append(&o);
    }

    /// Append the bytes assembled in `o`.
    #[inline(always)]
    fn append(&mut self, o: &Bytes) {
        // One fixed-size copy (a capacity check and two vector stores),
        // then the length cut back to the bytes used.
        let len = self.code.len();
        self.code.extend_from_slice(&o.buf);
        self.code.truncate(len + o.n);
    }

    // ---- moves ---------------------------------------------------------

    /// `mov dst, src` (32-bit zero-extends into the full register).
    pub fn mov_rr(&mut self, w: W, dst: Reg, src: Reg) {
        match w {
            W::B64 => self.op(None, true, &[0x89], src.n(), Rm::R(dst.n()), false),
            _ => self.op(None, false, &[0x89], src.n(), Rm::R(dst.n()), false),
        }
    }

    /// Load `dst = [m]`: 64 or 32 bits (32 zero-extends).
    pub fn load(&mut self, w: W, dst: Reg, m: Mem) {
        self.op(None, w == W::B64, &[0x8b], dst.n(), Rm::M(m), false);
    }

    /// Zero-extending load of 8 or 16 bits (`movzx r32, byte/word [m]`);
    /// 32 and 64 are plain moves.
    pub fn load_zx(&mut self, w: W, dst: Reg, m: Mem) {
        match w {
            W::B8 => self.op(None, false, &[0x0f, 0xb6], dst.n(), Rm::M(m), false),
            W::B16 => self.op(None, false, &[0x0f, 0xb7], dst.n(), Rm::M(m), false),
            _ => self.load(w, dst, m),
        }
    }

    /// Sign-extending load to 64 bits (`movsx`/`movsxd`).
    pub fn load_sx(&mut self, w: W, dst: Reg, m: Mem) {
        match w {
            W::B8 => self.op(None, true, &[0x0f, 0xbe], dst.n(), Rm::M(m), false),
            W::B16 => self.op(None, true, &[0x0f, 0xbf], dst.n(), Rm::M(m), false),
            W::B32 => self.op(None, true, &[0x63], dst.n(), Rm::M(m), false),
            W::B64 => self.load(W::B64, dst, m),
        }
    }

    /// Store the low `w` bits of `src` to `[m]`.
    pub fn store(&mut self, w: W, m: Mem, src: Reg) {
        match w {
            W::B8 => self.op(None, false, &[0x88], src.n(), Rm::M(m), true),
            W::B16 => self.op(Some(0x66), false, &[0x89], src.n(), Rm::M(m), false),
            W::B32 => self.op(None, false, &[0x89], src.n(), Rm::M(m), false),
            W::B64 => self.op(None, true, &[0x89], src.n(), Rm::M(m), false),
        }
    }

    /// Store an immediate: `mov dword/qword [m], imm32` (sign-extended for
    /// 64 bits).
    pub fn store_imm(&mut self, w: W, m: Mem, imm: i32) {
        let mut o = Self::op_bytes(None, w == W::B64, &[0xc7], 0, Rm::M(m), false);
        o.d32(imm);
        self.append(&o);
    }

    /// `dst = imm` with the shortest encoding.
    pub fn mov_imm(&mut self, dst: Reg, imm: u64) {
        if imm == 0 {
            self.alu_rr(W::B32, Alu::Xor, dst, dst);
        } else if imm <= u32::MAX as u64 {
            // mov r32, imm32 zero-extends.
            if dst.ext() != 0 {
                self.b(0x41);
            }
            self.b(0xb8 + dst.low());
            self.d32(imm as u32 as i32);
        } else if imm as i64 >= i32::MIN as i64 && (imm as i64) < 0 {
            self.op(None, true, &[0xc7], 0, Rm::R(dst.n()), false);
            self.d32(imm as i64 as i32);
        } else {
            self.b(0x48 | dst.ext());
            self.b(0xb8 + dst.low());
            self.code.extend_from_slice(&imm.to_le_bytes());
        }
    }

    /// `movsxd dst, src32` (sign-extend the low 32 bits).
    pub fn movsxd(&mut self, dst: Reg, src: Reg) {
        self.op(None, true, &[0x63], dst.n(), Rm::R(src.n()), false);
    }

    /// `movsxd dst, dword [m]`.
    pub fn movsxd_m(&mut self, dst: Reg, m: Mem) {
        self.op(None, true, &[0x63], dst.n(), Rm::M(m), false);
    }

    /// `movzx dst32, src8`.
    pub fn movzx_r8(&mut self, dst: Reg, src: Reg) {
        self.op(None, false, &[0x0f, 0xb6], dst.n(), Rm::R(src.n()), true);
    }

    /// `lea dst, [m]`.
    pub fn lea(&mut self, w: W, dst: Reg, m: Mem) {
        self.op(None, w == W::B64, &[0x8d], dst.n(), Rm::M(m), false);
    }

    /// `lea dst, [rip + label]`.
    pub fn lea_label(&mut self, dst: Reg, l: Label) {
        self.b(0x48 | dst.ext() << 2);
        self.b(0x8d);
        self.b(dst.low() << 3 | 5);
        let at = self.pos();
        self.d32(0);
        self.fixups.push((at, l));
    }

    // ---- arithmetic ----------------------------------------------------

    /// `op dst, src`.
    pub fn alu_rr(&mut self, w: W, op: Alu, dst: Reg, src: Reg) {
        let opc = (op as u8) << 3 | 1;
        self.op(None, w == W::B64, &[opc], src.n(), Rm::R(dst.n()), false);
    }

    /// `op dst, [m]`.
    pub fn alu_rm(&mut self, w: W, op: Alu, dst: Reg, m: Mem) {
        let opc = (op as u8) << 3 | 3;
        self.op(None, w == W::B64, &[opc], dst.n(), Rm::M(m), false);
    }

    /// `op [m], src`.
    pub fn alu_mr(&mut self, w: W, op: Alu, m: Mem, src: Reg) {
        let opc = (op as u8) << 3 | 1;
        self.op(None, w == W::B64, &[opc], src.n(), Rm::M(m), false);
    }

    fn alu_imm(&mut self, w: W, op: Alu, rm: Rm, imm: i32) {
        let o = if let Ok(i) = i8::try_from(imm) {
            let mut o = Self::op_bytes(None, w == W::B64, &[0x83], op as u8, rm, false);
            o.b(i as u8);
            o
        } else {
            let mut o = Self::op_bytes(None, w == W::B64, &[0x81], op as u8, rm, false);
            o.d32(imm);
            o
        };
        self.append(&o);
    }

    /// `op dst, imm` (sign-extended imm32).
    pub fn alu_ri(&mut self, w: W, op: Alu, dst: Reg, imm: i32) {
        self.alu_imm(w, op, Rm::R(dst.n()), imm);
    }

    /// `op [m], imm` (sign-extended imm32).
    pub fn alu_mi(&mut self, w: W, op: Alu, m: Mem, imm: i32) {
        self.alu_imm(w, op, Rm::M(m), imm);
    }

    /// `test a, b`.
    pub fn test_rr(&mut self, w: W, a: Reg, b: Reg) {
        self.op(None, w == W::B64, &[0x85], b.n(), Rm::R(a.n()), false);
    }

    /// `test r, imm32`.
    pub fn test_ri(&mut self, w: W, r: Reg, imm: i32) {
        let mut o = Self::op_bytes(None, w == W::B64, &[0xf7], 0, Rm::R(r.n()), false);
        o.d32(imm);
        self.append(&o);
    }

    /// `shift r, imm`.
    pub fn shift_ri(&mut self, w: W, op: Shift, r: Reg, imm: u8) {
        let mut o = Self::op_bytes(None, w == W::B64, &[0xc1], op as u8, Rm::R(r.n()), false);
        o.b(imm);
        self.append(&o);
    }

    /// `shift r, cl`.
    pub fn shift_rcl(&mut self, w: W, op: Shift, r: Reg) {
        self.op(None, w == W::B64, &[0xd3], op as u8, Rm::R(r.n()), false);
    }

    /// `imul dst, src` (low half of the product).
    pub fn imul_rr(&mut self, w: W, dst: Reg, src: Reg) {
        self.op(
            None,
            w == W::B64,
            &[0x0f, 0xaf],
            dst.n(),
            Rm::R(src.n()),
            false,
        );
    }

    /// `bsr dst, src`: the index of `src`'s highest set bit (`src` not 0).
    pub fn bsr(&mut self, w: W, dst: Reg, src: Reg) {
        self.op(
            None,
            w == W::B64,
            &[0x0f, 0xbd],
            dst.n(),
            Rm::R(src.n()),
            false,
        );
    }

    /// Group 3: `not/neg/mul/imul/div/idiv r`.
    pub fn unary(&mut self, w: W, op: Unary, r: Reg) {
        self.op(None, w == W::B64, &[0xf7], op as u8, Rm::R(r.n()), false);
    }

    /// `cqo` (64) or `cdq` (32): sign-extend rax into rdx.
    pub fn cqo(&mut self, w: W) {
        if w == W::B64 {
            self.b(0x48);
        }
        self.b(0x99);
    }

    /// `setcc r8`.
    pub fn setcc(&mut self, c: Cond, r: Reg) {
        self.op(None, false, &[0x0f, 0x90 | c as u8], 0, Rm::R(r.n()), true);
    }

    /// `cmovcc dst, src`.
    pub fn cmov(&mut self, w: W, c: Cond, dst: Reg, src: Reg) {
        self.op(
            None,
            w == W::B64,
            &[0x0f, 0x40 | c as u8],
            dst.n(),
            Rm::R(src.n()),
            false,
        );
    }

    // ---- control flow --------------------------------------------------

    /// `jcc label` (rel32).
    pub fn jcc(&mut self, c: Cond, l: Label) {
        let mut o = Bytes::default();
        o.b(0x0f);
        o.b(0x80 | c as u8);
        o.d32(0);
        self.fixups.push((self.pos() + 2, l));
        self.append(&o);
    }

    /// `jmp label` (rel32).
    pub fn jmp(&mut self, l: Label) {
        let mut o = Bytes::default();
        o.b(0xe9);
        o.d32(0);
        self.fixups.push((self.pos() + 1, l));
        self.append(&o);
    }

    fn rel_to(&self, at: usize, target: u64) -> Result<i32, AsmError> {
        let rel = target.wrapping_sub(self.base + at as u64 + 4) as i64;
        i32::try_from(rel).map_err(|_| AsmError::OutOfRange)
    }

    /// `jmp target` to an absolute host address (rel32). Returns the offset
    /// of the rel32 field, which chaining may later repoint.
    pub fn jmp_abs(&mut self, target: u64) -> Result<usize, AsmError> {
        self.b(0xe9);
        let at = self.pos();
        let rel = self.rel_to(at, target)?;
        self.d32(rel);
        Ok(at)
    }

    /// `call target` to an absolute host address (rel32).
    /// `call rel32` to a label.
    pub fn call_label(&mut self, l: Label) {
        self.b(0xe8);
        let at = self.pos();
        self.d32(0);
        self.fixups.push((at, l));
    }
    pub fn call_abs(&mut self, target: u64) -> Result<(), AsmError> {
        self.b(0xe8);
        let at = self.pos();
        let rel = self.rel_to(at, target)?;
        self.d32(rel);
        Ok(())
    }

    /// Raw little-endian data (a constant placed in the code).
    pub fn data_u64(&mut self, v: u64) {
        self.code.extend_from_slice(&v.to_le_bytes());
    }

    /// `lea dst, [rip]`: the address of the next instruction.
    pub fn lea_rip(&mut self, dst: Reg) {
        self.b(0x48 | dst.ext() << 2);
        self.b(0x8d);
        self.b(dst.low() << 3 | 5);
        self.d32(0);
    }

    /// `jcc target` to an absolute host address (rel32).
    pub fn jcc_abs(&mut self, c: Cond, target: u64) -> Result<(), AsmError> {
        self.b(0x0f);
        self.b(0x80 | c as u8);
        let at = self.pos();
        let rel = self.rel_to(at, target)?;
        self.d32(rel);
        Ok(())
    }

    /// `call r`.
    pub fn call_r(&mut self, r: Reg) {
        self.op(None, false, &[0xff], 2, Rm::R(r.n()), false);
    }

    /// `jmp r`.
    pub fn jmp_r(&mut self, r: Reg) {
        self.op(None, false, &[0xff], 4, Rm::R(r.n()), false);
    }

    /// `jmp qword [m]`.
    pub fn jmp_m(&mut self, m: Mem) {
        self.op(None, false, &[0xff], 4, Rm::M(m), false);
    }

    /// `push r`.
    pub fn push(&mut self, r: Reg) {
        if r.ext() != 0 {
            self.b(0x41);
        }
        self.b(0x50 + r.low());
    }

    /// `pop r`.
    pub fn pop(&mut self, r: Reg) {
        if r.ext() != 0 {
            self.b(0x41);
        }
        self.b(0x58 + r.low());
    }

    /// `ret`.
    pub fn ret(&mut self) {
        self.b(0xc3);
    }

    /// `ret n`: return, then drop `n` more bytes of the stack.
    pub fn ret_pop(&mut self, n: u16) {
        self.b(0xc2);
        self.code.extend_from_slice(&n.to_le_bytes());
    }

    /// `push imm32` (sign-extended to 64 bits).
    pub fn push_imm(&mut self, imm: i32) {
        self.b(0x68);
        self.d32(imm);
    }

    /// `mfence`: orders every earlier load and store before every later one
    /// (the only reordering x86-64 does is a later load passing an earlier
    /// store).
    pub fn mfence(&mut self) {
        self.b(0x0f);
        self.b(0xae);
        self.b(0xf0);
    }

    // ---- atomics (32 or 64 bits; `xchg` with memory is always locked) ---

    /// `xchg [m], r`.
    pub fn xchg_mr(&mut self, w: W, m: Mem, r: Reg) {
        self.op(None, w == W::B64, &[0x87], r.n(), Rm::M(m), false);
    }

    /// `lock xadd [m], r`.
    pub fn lock_xadd(&mut self, w: W, m: Mem, r: Reg) {
        self.op(
            Some(0xf0),
            w == W::B64,
            &[0x0f, 0xc1],
            r.n(),
            Rm::M(m),
            false,
        );
    }

    /// `lock cmpxchg [m], r` (compares with `rax`/`eax`).
    pub fn lock_cmpxchg(&mut self, w: W, m: Mem, r: Reg) {
        self.op(
            Some(0xf0),
            w == W::B64,
            &[0x0f, 0xb1],
            r.n(),
            Rm::M(m),
            false,
        );
    }

    /// `lock op [m], r` (for `add`, `or`, `and`, `sub`, `xor`).
    pub fn lock_alu_mr(&mut self, w: W, op: Alu, m: Mem, r: Reg) {
        let opc = (op as u8) << 3 | 1;
        self.op(Some(0xf0), w == W::B64, &[opc], r.n(), Rm::M(m), false);
    }

    /// `int3` (padding that traps if ever reached).
    pub fn int3(&mut self) {
        self.b(0xcc);
    }

    /// `nop` (one byte).
    pub fn nop(&mut self) {
        self.b(0x90);
    }

    // ---- SSE2 scalar -----------------------------------------------------

    /// `movq xmm, [m]` (64-bit load, upper half zeroed).
    pub fn movq_load(&mut self, x: Xmm, m: Mem) {
        self.op(Some(0xf3), false, &[0x0f, 0x7e], x.0, Rm::M(m), false);
    }

    /// `movq [m], xmm`.
    pub fn movq_store(&mut self, m: Mem, x: Xmm) {
        self.op(Some(0x66), false, &[0x0f, 0xd6], x.0, Rm::M(m), false);
    }

    /// `movd xmm, [m]` (32-bit load).
    pub fn movd_load(&mut self, x: Xmm, m: Mem) {
        self.op(Some(0x66), false, &[0x0f, 0x6e], x.0, Rm::M(m), false);
    }

    /// `movd [m], xmm` (32-bit store).
    pub fn movd_store(&mut self, m: Mem, x: Xmm) {
        self.op(Some(0x66), false, &[0x0f, 0x7e], x.0, Rm::M(m), false);
    }

    /// Scalar SSE arithmetic `op dst, src`: `double` selects `sd` over `ss`.
    pub fn sse_rr(&mut self, op: SseOp, double: bool, dst: Xmm, src: Xmm) {
        let p = if double { 0xf2 } else { 0xf3 };
        self.op(
            Some(p),
            false,
            &[0x0f, op as u8],
            dst.0,
            Rm::R(src.0),
            false,
        );
    }

    /// Scalar SSE arithmetic with a memory source `op dst, [m]`.
    pub fn sse_rm(&mut self, op: SseOp, double: bool, dst: Xmm, m: Mem) {
        let p = if double { 0xf2 } else { 0xf3 };
        self.op(Some(p), false, &[0x0f, op as u8], dst.0, Rm::M(m), false);
    }

    /// FMA3 `vfmXXX231sd dst, src2, [m]` (`double`; `ss` otherwise):
    /// `dst = ±(src2 * [m]) ± dst` with one rounding. `opc` is the opcode
    /// byte of the 231 form: 0xB9 fmadd, 0xBB fmsub, 0xBD fnmadd, 0xBF
    /// fnmsub.
    pub fn vfma231(&mut self, opc: u8, double: bool, dst: Xmm, src2: Xmm, m: Mem) {
        let r = (dst.0 >> 3) & 1;
        let x = m.index.map_or(0, |(i, _)| i.ext());
        let b = m.base.ext();
        // 3-byte VEX: inverted R/X/B, map 0F38; W, inverted vvvv, L=0, pp=66.
        self.b(0xc4);
        self.b((!(r << 7 | x << 6 | b << 5) & 0xe0) | 0x02);
        self.b((double as u8) << 7 | (!src2.0 & 15) << 3 | 0x01);
        self.b(opc);
        self.modrm_mem(dst.0 & 7, m);
    }

    /// FMA3 `vfmXXX231sd dst, src2, src3` (`double`; `ss` otherwise): the
    /// register form of [`Asm::vfma231`].
    pub fn vfma231_rr(&mut self, opc: u8, double: bool, dst: Xmm, src2: Xmm, src3: Xmm) {
        let r = (dst.0 >> 3) & 1;
        let b = (src3.0 >> 3) & 1;
        self.b(0xc4);
        self.b((!(r << 7 | b << 5) & 0xe0) | 0x02);
        self.b((double as u8) << 7 | (!src2.0 & 15) << 3 | 0x01);
        self.b(opc);
        self.b(0xc0 | (dst.0 & 7) << 3 | (src3.0 & 7));
    }

    /// AVX scalar arithmetic `vOPsd dst, src1, src2` (`double`; `ss`
    /// otherwise): `dst` = `src1 op src2` in the low element, the rest of
    /// `src1` above it. Needs AVX (every host with FMA3 has it).
    pub fn vsse(&mut self, op: SseOp, double: bool, dst: Xmm, src1: Xmm, src2: Xmm) {
        let r = (dst.0 >> 3) & 1;
        let b = (src2.0 >> 3) & 1;
        let pp = if double { 3 } else { 2 };
        // 3-byte VEX: inverted R/X/B, map 0F; W0, inverted vvvv, L0, pp.
        self.b(0xc4);
        self.b((!(r << 7 | b << 5) & 0xe0) | 0x01);
        self.b((!src1.0 & 15) << 3 | pp);
        self.b(op as u8);
        self.b(0xc0 | (dst.0 & 7) << 3 | (src2.0 & 7));
    }

    /// `movaps dst, src`: copies the whole register (no dependency on the
    /// old value of `dst`).
    pub fn movaps(&mut self, dst: Xmm, src: Xmm) {
        self.op(None, false, &[0x0f, 0x28], dst.0, Rm::R(src.0), false);
    }

    /// `ucomisd a, b` (or `ucomiss`): unordered compare, flags only.
    pub fn ucomis(&mut self, double: bool, a: Xmm, b: Xmm) {
        let p = if double { Some(0x66) } else { None };
        self.op(p, false, &[0x0f, 0x2e], a.0, Rm::R(b.0), false);
    }

    /// `movq r64, xmm` (`W::B64`) or `movd r32, xmm` (zero-extends).
    pub fn mov_x2r(&mut self, w: W, dst: Reg, src: Xmm) {
        let w = w == W::B64;
        self.op(Some(0x66), w, &[0x0f, 0x7e], src.0, Rm::R(dst.n()), false);
    }

    /// `movq xmm, r64` (`W::B64`) or `movd xmm, r32`; zeroes the rest of
    /// `dst` (so it also breaks a dependency on its old value).
    pub fn mov_r2x(&mut self, w: W, dst: Xmm, src: Reg) {
        let w = w == W::B64;
        self.op(Some(0x66), w, &[0x0f, 0x6e], dst.0, Rm::R(src.n()), false);
    }

    /// `cvtsi2sd xmm, r64/r32` (`double`; `cvtsi2ss` otherwise): signed
    /// integer to float in the MXCSR rounding mode; the bits of `dst` above
    /// the result are kept.
    pub fn cvt_i2f(&mut self, double: bool, w: W, dst: Xmm, src: Reg) {
        let p = if double { 0xf2 } else { 0xf3 };
        self.op(
            Some(p),
            w == W::B64,
            &[0x0f, 0x2a],
            dst.0,
            Rm::R(src.n()),
            false,
        );
    }

    /// `cvtsd2si r64/r32, xmm` (`double`; `cvtss2si` otherwise), or with
    /// `trunc` `cvttsd2si` (round towards zero). Out of range or NaN gives
    /// the "integer indefinite" (only the sign bit set).
    pub fn cvt_f2i(&mut self, double: bool, trunc: bool, w: W, dst: Reg, src: Xmm) {
        let p = if double { 0xf2 } else { 0xf3 };
        let opc = if trunc { 0x2c } else { 0x2d };
        self.op(
            Some(p),
            w == W::B64,
            &[0x0f, opc],
            dst.n(),
            Rm::R(src.0),
            false,
        );
    }

    /// `stmxcsr [m]` / `ldmxcsr [m]`.
    pub fn mxcsr(&mut self, load: bool, m: Mem) {
        self.op(
            None,
            false,
            &[0x0f, 0xae],
            if load { 2 } else { 3 },
            Rm::M(m),
            false,
        );
    }
}

/// Scalar SSE operations (second opcode byte after `0F`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum SseOp {
    Sqrt = 0x51,
    Add = 0x58,
    /// Precision conversion: `cvtsd2ss` with `double` (the source's
    /// precision), `cvtss2sd` without. Keeps the bits of `dst` above the
    /// result.
    Cvt = 0x5a,
    Mul = 0x59,
    Sub = 0x5c,
    /// `minsd`/`minss`: the second operand when unordered or both zero.
    Min = 0x5d,
    Div = 0x5e,
    /// `maxsd`/`maxss`: the second operand when unordered or both zero.
    Max = 0x5f,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};
    extern crate std;
    use std::format;

    const BASE: u64 = 0x1000_0000;

    /// Disassemble exactly one instruction occupying all of `code`.
    fn dis(code: &[u8]) -> String {
        dis_at(code, BASE)
    }

    fn dis_at(code: &[u8], ip: u64) -> String {
        let mut d = Decoder::with_ip(64, code, ip, DecoderOptions::NONE);
        let inst = d.decode();
        assert!(!inst.is_invalid(), "invalid encoding {code:02x?}");
        assert_eq!(inst.len(), code.len(), "length of {code:02x?}");
        let mut out = String::new();
        let mut f = IntelFormatter::new();
        f.options_mut().set_hex_prefix("0x");
        f.options_mut().set_hex_suffix("");
        f.options_mut().set_uppercase_hex(false);
        f.options_mut().set_branch_leading_zeros(false);
        f.options_mut().set_small_hex_numbers_in_decimal(false);
        f.format(&inst, &mut out);
        out
    }

    fn check(emit: impl FnOnce(&mut Asm), want: &str) {
        let mut a = Asm::new(BASE);
        emit(&mut a);
        a.finish().unwrap();
        assert_eq!(dis(&a.code), want, "bytes {:02x?}", a.code);
    }

    const ALL: [Reg; 16] = [
        Reg::Rax,
        Reg::Rcx,
        Reg::Rdx,
        Reg::Rbx,
        Reg::Rsp,
        Reg::Rbp,
        Reg::Rsi,
        Reg::Rdi,
        Reg::R8,
        Reg::R9,
        Reg::R10,
        Reg::R11,
        Reg::R12,
        Reg::R13,
        Reg::R14,
        Reg::R15,
    ];
    const N64: [&str; 16] = [
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
        "r13", "r14", "r15",
    ];
    const N32: [&str; 16] = [
        "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d",
        "r12d", "r13d", "r14d", "r15d",
    ];
    const N8: [&str; 16] = [
        "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b",
        "r13b", "r14b", "r15b",
    ];
    const N16: [&str; 16] = [
        "ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w",
        "r13w", "r14w", "r15w",
    ];

    fn mem_str(base: usize, disp: i32) -> String {
        match disp {
            0 => format!("[{}]", N64[base]),
            d if d < 0 => format!("[{}-0x{:x}]", N64[base], -(d as i64)),
            d => format!("[{}+0x{:x}]", N64[base], d),
        }
    }

    #[test]
    fn register_pairs_every_combination() {
        for (i, &d) in ALL.iter().enumerate() {
            for (j, &s) in ALL.iter().enumerate() {
                check(
                    |a| a.mov_rr(W::B64, d, s),
                    &format!("mov {},{}", N64[i], N64[j]),
                );
                check(
                    |a| a.mov_rr(W::B32, d, s),
                    &format!("mov {},{}", N32[i], N32[j]),
                );
                check(
                    |a| a.alu_rr(W::B64, Alu::Sub, d, s),
                    &format!("sub {},{}", N64[i], N64[j]),
                );
                check(
                    |a| a.imul_rr(W::B32, d, s),
                    &format!("imul {},{}", N32[i], N32[j]),
                );
                check(
                    |a| a.cmov(W::B64, Cond::L, d, s),
                    &format!("cmovl {},{}", N64[i], N64[j]),
                );
                check(|a| a.movsxd(d, s), &format!("movsxd {},{}", N64[i], N32[j]));
                check(|a| a.movzx_r8(d, s), &format!("movzx {},{}", N32[i], N8[j]));
            }
        }
    }

    #[test]
    fn memory_operands_every_base_and_displacement() {
        for (i, &b) in ALL.iter().enumerate() {
            for disp in [0, 8, -8, 127, 128, -129, 0x1234_5678] {
                let m = Mem::base(b, disp);
                let ms = mem_str(i, disp);
                check(|a| a.load(W::B64, Reg::R9, m), &format!("mov r9,{ms}"));
                check(|a| a.load(W::B32, Reg::Rax, m), &format!("mov eax,{ms}"));
                check(|a| a.store(W::B64, m, Reg::Rdx), &format!("mov {ms},rdx"));
                check(|a| a.lea(W::B64, Reg::R14, m), &format!("lea r14,{ms}"));
                check(
                    |a| a.alu_rm(W::B64, Alu::Add, Reg::Rcx, m),
                    &format!("add rcx,{ms}"),
                );
                check(
                    |a| a.alu_mi(W::B64, Alu::Add, m, 1),
                    &format!("add qword ptr {ms},0x1"),
                );
                check(
                    |a| a.alu_mi(W::B64, Alu::Sub, m, 1000),
                    &format!("sub qword ptr {ms},0x3e8"),
                );
                check(
                    |a| a.store_imm(W::B64, m, -2),
                    &format!("mov qword ptr {ms},0xfffffffffffffffe"),
                );
            }
        }
    }

    #[test]
    fn atomics_every_register() {
        let m = Mem::indexed(Reg::R12, Reg::Rsi);
        for (i, &r) in ALL.iter().enumerate() {
            check(
                |a| a.xchg_mr(W::B64, m, r),
                &format!("xchg [r12+rsi],{}", N64[i]),
            );
            check(
                |a| a.xchg_mr(W::B32, m, r),
                &format!("xchg [r12+rsi],{}", N32[i]),
            );
            check(
                |a| a.lock_xadd(W::B64, m, r),
                &format!("lock xadd [r12+rsi],{}", N64[i]),
            );
            check(
                |a| a.lock_xadd(W::B32, m, r),
                &format!("lock xadd [r12+rsi],{}", N32[i]),
            );
            check(
                |a| a.lock_cmpxchg(W::B64, m, r),
                &format!("lock cmpxchg [r12+rsi],{}", N64[i]),
            );
            check(
                |a| a.lock_cmpxchg(W::B32, m, r),
                &format!("lock cmpxchg [r12+rsi],{}", N32[i]),
            );
            for (op, name) in [(Alu::And, "and"), (Alu::Or, "or"), (Alu::Xor, "xor")] {
                check(
                    |a| a.lock_alu_mr(W::B64, op, m, r),
                    &format!("lock {name} [r12+rsi],{}", N64[i]),
                );
                check(
                    |a| a.lock_alu_mr(W::B32, op, m, r),
                    &format!("lock {name} [r12+rsi],{}", N32[i]),
                );
            }
        }
    }

    #[test]
    fn sized_loads_and_stores() {
        for (i, &r) in ALL.iter().enumerate() {
            let m = Mem::indexed(Reg::R12, Reg::Rsi);
            check(
                |a| a.load_zx(W::B8, r, m),
                &format!("movzx {},byte ptr [r12+rsi]", N32[i]),
            );
            check(
                |a| a.load_zx(W::B16, r, m),
                &format!("movzx {},word ptr [r12+rsi]", N32[i]),
            );
            check(
                |a| a.load_sx(W::B8, r, m),
                &format!("movsx {},byte ptr [r12+rsi]", N64[i]),
            );
            check(
                |a| a.load_sx(W::B16, r, m),
                &format!("movsx {},word ptr [r12+rsi]", N64[i]),
            );
            check(
                |a| a.load_sx(W::B32, r, m),
                &format!("movsxd {},[r12+rsi]", N64[i]),
            );
            check(
                |a| a.store(W::B8, m, r),
                &format!("mov [r12+rsi],{}", N8[i]),
            );
            check(
                |a| a.store(W::B16, m, r),
                &format!("mov [r12+rsi],{}", N16[i]),
            );
            check(
                |a| a.store(W::B32, m, r),
                &format!("mov [r12+rsi],{}", N32[i]),
            );
        }
        // index and base with the awkward low bits (r13 base, r12 index is fine).
        check(
            |a| a.load(W::B64, Reg::Rax, Mem::indexed(Reg::R13, Reg::R12)),
            "mov rax,[r13+r12]",
        );
        check(
            |a| {
                a.load(
                    W::B64,
                    Reg::Rax,
                    Mem {
                        base: Reg::Rbp,
                        index: Some((Reg::R9, 3)),
                        disp: 16,
                    },
                )
            },
            "mov rax,[rbp+r9*8+0x10]",
        );
    }

    #[test]
    fn immediates() {
        for (i, &r) in ALL.iter().enumerate() {
            check(|a| a.mov_imm(r, 0), &format!("xor {},{}", N32[i], N32[i]));
            check(
                |a| a.mov_imm(r, 0x8000_0000),
                &format!("mov {},0x80000000", N32[i]),
            );
            check(
                |a| a.mov_imm(r, (-5i64) as u64),
                &format!("mov {},0xfffffffffffffffb", N64[i]),
            );
            check(
                |a| a.mov_imm(r, 0x1_0000_0000),
                &format!("mov {},0x100000000", N64[i]),
            );
            check(
                |a| a.alu_ri(W::B64, Alu::And, r, -4096),
                &format!("and {},0xfffffffffffff000", N64[i]),
            );
            check(
                |a| a.alu_ri(W::B32, Alu::Cmp, r, 5),
                &format!("cmp {},0x5", N32[i]),
            );
            check(
                |a| a.shift_ri(W::B64, Shift::Sar, r, 63),
                &format!("sar {},0x3f", N64[i]),
            );
            check(
                |a| a.shift_rcl(W::B32, Shift::Shl, r),
                &format!("shl {},cl", N32[i]),
            );
            check(
                |a| a.test_ri(W::B64, r, 0x10),
                &format!("test {},0x10", N64[i]),
            );
            check(|a| a.setcc(Cond::B, r), &format!("setb {}", N8[i]));
            check(
                |a| a.unary(W::B64, Unary::Idiv, r),
                &format!("idiv {}", N64[i]),
            );
            check(
                |a| a.unary(W::B32, Unary::Neg, r),
                &format!("neg {}", N32[i]),
            );
            check(|a| a.push(r), &format!("push {}", N64[i]));
            check(|a| a.pop(r), &format!("pop {}", N64[i]));
            check(|a| a.call_r(r), &format!("call {}", N64[i]));
            check(|a| a.jmp_r(r), &format!("jmp {}", N64[i]));
        }
        check(|a| a.cqo(W::B64), "cqo");
        check(|a| a.cqo(W::B32), "cdq");
        check(|a| a.ret(), "ret");
        check(|a| a.ret_pop(8), "ret 0x8");
        check(|a| a.push_imm(0x10f10), "push 0x10f10");
        check(|a| a.push_imm(-2), "push 0xfffffffffffffffe");
    }

    #[test]
    fn labels_and_absolute_jumps() {
        let mut a = Asm::new(BASE);
        let l = a.label();
        a.jcc(Cond::Ne, l); // 6 bytes
        a.jmp(l); // 5 bytes
        a.bind(l);
        a.lea_label(Reg::R11, l);
        a.finish().unwrap();
        assert_eq!(dis(&a.code[0..6]), format!("jne 0x{:x}", BASE + 11));
        assert_eq!(
            dis_at(&a.code[6..11], BASE + 6),
            format!("jmp 0x{:x}", BASE + 11)
        );
        assert_eq!(
            dis_at(&a.code[11..], BASE + 11),
            format!("lea r11,[0x{:x}]", BASE + 11)
        );

        let mut a = Asm::new(BASE);
        a.call_abs(BASE + 0x40).unwrap();
        a.lea_rip(Reg::R9);
        assert_eq!(dis(&a.code[0..5]), format!("call 0x{:x}", BASE + 0x40));
        assert_eq!(
            dis_at(&a.code[5..], BASE + 5),
            format!("lea r9,[0x{:x}]", BASE + 12)
        );

        let mut a = Asm::new(BASE);
        a.jmp_abs(BASE - 0x100).unwrap();
        a.jcc_abs(Cond::Le, BASE + 0x1000).unwrap();
        assert_eq!(dis(&a.code[0..5]), format!("jmp 0x{:x}", BASE - 0x100));
        assert_eq!(
            dis_at(&a.code[5..], BASE + 5),
            format!("jle 0x{:x}", BASE + 0x1000)
        );
        assert_eq!(
            Asm::new(BASE).jmp_abs(BASE + (1 << 40)),
            Err(AsmError::OutOfRange)
        );
        let mut a = Asm::new(BASE);
        let l = a.label();
        a.jmp(l);
        assert_eq!(a.finish(), Err(AsmError::UnboundLabel));
    }

    #[test]
    fn condition_inversion() {
        assert_eq!(Cond::E.inverse(), Cond::Ne);
        assert_eq!(Cond::Ge.inverse(), Cond::L);
        assert_eq!(Cond::A.inverse(), Cond::Be);
    }

    #[test]
    fn sse_forms() {
        let m = Mem::base(Reg::Rbx, 0x108);
        check(|a| a.movq_load(Xmm(9), m), "movq xmm9,[rbx+0x108]");
        check(|a| a.movq_store(m, Xmm(1)), "movq [rbx+0x108],xmm1");
        check(|a| a.movd_load(Xmm(2), m), "movd xmm2,[rbx+0x108]");
        check(|a| a.movd_store(m, Xmm(10)), "movd [rbx+0x108],xmm10");
        check(
            |a| a.sse_rr(SseOp::Add, true, Xmm(0), Xmm(15)),
            "addsd xmm0,xmm15",
        );
        check(
            |a| a.sse_rr(SseOp::Div, false, Xmm(8), Xmm(1)),
            "divss xmm8,xmm1",
        );
        check(
            |a| a.sse_rr(SseOp::Sqrt, true, Xmm(3), Xmm(3)),
            "sqrtsd xmm3,xmm3",
        );
        check(
            |a| a.sse_rm(SseOp::Mul, true, Xmm(0), m),
            "mulsd xmm0,[rbx+0x108]",
        );
        check(
            |a| a.sse_rm(SseOp::Sub, false, Xmm(9), Mem::base(Reg::R13, -8)),
            "subss xmm9,[r13-0x8]",
        );
        check(
            |a| a.vfma231(0xb9, true, Xmm(0), Xmm(1), m),
            "vfmadd231sd xmm0,xmm1,[rbx+0x108]",
        );
        check(
            |a| {
                a.vfma231(
                    0xbf,
                    true,
                    Xmm(9),
                    Xmm(14),
                    Mem::indexed(Reg::R12, Reg::R10),
                )
            },
            "vfnmsub231sd xmm9,xmm14,[r12+r10]",
        );
        check(
            |a| a.vfma231(0xbb, false, Xmm(2), Xmm(3), Mem::base(Reg::R13, 8)),
            "vfmsub231ss xmm2,xmm3,[r13+0x8]",
        );
        check(
            |a| a.vfma231(0xbd, true, Xmm(0), Xmm(1), m),
            "vfnmadd231sd xmm0,xmm1,[rbx+0x108]",
        );
        check(
            |a| a.sse_rm(SseOp::Sqrt, true, Xmm(0), m),
            "sqrtsd xmm0,[rbx+0x108]",
        );
        check(
            |a| a.vfma231_rr(0xb9, true, Xmm(0), Xmm(9), Xmm(14)),
            "vfmadd231sd xmm0,xmm9,xmm14",
        );
        check(
            |a| a.vfma231_rr(0xbf, false, Xmm(10), Xmm(2), Xmm(3)),
            "vfnmsub231ss xmm10,xmm2,xmm3",
        );
        check(
            |a| a.vsse(SseOp::Add, true, Xmm(2), Xmm(9), Xmm(14)),
            "vaddsd xmm2,xmm9,xmm14",
        );
        check(
            |a| a.vsse(SseOp::Div, false, Xmm(12), Xmm(3), Xmm(0)),
            "vdivss xmm12,xmm3,xmm0",
        );
        check(
            |a| a.vsse(SseOp::Sqrt, true, Xmm(0), Xmm(0), Xmm(15)),
            "vsqrtsd xmm0,xmm0,xmm15",
        );
        check(
            |a| a.vsse(SseOp::Sub, false, Xmm(15), Xmm(15), Xmm(8)),
            "vsubss xmm15,xmm15,xmm8",
        );
        check(|a| a.movaps(Xmm(0), Xmm(13)), "movaps xmm0,xmm13");
        check(|a| a.movaps(Xmm(9), Xmm(1)), "movaps xmm9,xmm1");
        check(|a| a.ucomis(true, Xmm(0), Xmm(0)), "ucomisd xmm0,xmm0");
        check(|a| a.ucomis(false, Xmm(1), Xmm(12)), "ucomiss xmm1,xmm12");
        check(|a| a.mxcsr(false, m), "stmxcsr [rbx+0x108]");
        check(|a| a.mxcsr(true, m), "ldmxcsr [rbx+0x108]");
        check(|a| a.mov_x2r(W::B64, Reg::Rax, Xmm(0)), "movq rax,xmm0");
        check(|a| a.mov_x2r(W::B64, Reg::R9, Xmm(12)), "movq r9,xmm12");
        check(|a| a.mov_x2r(W::B32, Reg::Rcx, Xmm(1)), "movd ecx,xmm1");
        check(|a| a.mov_x2r(W::B32, Reg::R15, Xmm(9)), "movd r15d,xmm9");
        check(|a| a.mov_r2x(W::B64, Xmm(0), Reg::Rcx), "movq xmm0,rcx");
        check(|a| a.mov_r2x(W::B64, Xmm(10), Reg::R13), "movq xmm10,r13");
        check(|a| a.mov_r2x(W::B32, Xmm(3), Reg::Rdi), "movd xmm3,edi");
        check(
            |a| a.cvt_i2f(true, W::B64, Xmm(0), Reg::Rax),
            "cvtsi2sd xmm0,rax",
        );
        check(
            |a| a.cvt_i2f(true, W::B32, Xmm(8), Reg::R11),
            "cvtsi2sd xmm8,r11d",
        );
        check(
            |a| a.cvt_i2f(false, W::B64, Xmm(1), Reg::R8),
            "cvtsi2ss xmm1,r8",
        );
        check(
            |a| a.cvt_i2f(false, W::B32, Xmm(0), Reg::Rcx),
            "cvtsi2ss xmm0,ecx",
        );
        check(
            |a| a.cvt_f2i(true, true, W::B64, Reg::Rax, Xmm(0)),
            "cvttsd2si rax,xmm0",
        );
        check(
            |a| a.cvt_f2i(true, false, W::B32, Reg::R10, Xmm(9)),
            "cvtsd2si r10d,xmm9",
        );
        check(
            |a| a.cvt_f2i(false, true, W::B32, Reg::Rdx, Xmm(2)),
            "cvttss2si edx,xmm2",
        );
        check(
            |a| a.cvt_f2i(false, false, W::B64, Reg::Rsi, Xmm(15)),
            "cvtss2si rsi,xmm15",
        );
        check(
            |a| a.sse_rm(SseOp::Cvt, true, Xmm(0), m),
            "cvtsd2ss xmm0,[rbx+0x108]",
        );
        check(
            |a| a.sse_rr(SseOp::Cvt, false, Xmm(0), Xmm(0)),
            "cvtss2sd xmm0,xmm0",
        );
        check(
            |a| a.lea(W::B32, Reg::Rcx, Mem::indexed(Reg::Rax, Reg::Rax)),
            "lea ecx,[rax+rax]",
        );
    }
}
