//! What each RV64GC operation computes, once, as small pure functions.
//!
//! An operation whose semantics are written more than once for speed
//! takes them from here: the interpreter's generic executor
//! (`interp::exec_one`), its specialised handlers (`interp::fast`) and
//! its fused pairs (`interp::fuse`) all call these functions (each one
//! `#[inline(always)]`, so the handlers cost what the open-coded
//! expressions did). The x86-64 code generator cannot call them (it
//! emits host instructions); instead the per-operation differential test
//! (`vm-testkit/tests/ops.rs`) names every operation the translator emits
//! inline, case by case, and checks the translator's result (and the
//! interpreter's) against the function here.
//!
//! Register operands are the 64-bit register values; a `W` operation
//! uses the low 32 bits and sign-extends its 32-bit result. Shift
//! amounts are masked as the hardware does (6 bits, 5 for `W`), so the
//! register and the immediate forms share one function (`addi` is
//! [`add`] with the sign-extended immediate, `slliw` is [`sllw`], ...).
//! Floating-point arithmetic is [`crate::fpu`]'s (one function per
//! operation and format); what the F and D instructions do around it
//! (NaN boxing, sign injection, moves, the rounding-mode field) is here.

use crate::fpu::Rm;

/// Sign-extend a 32-bit result to a register value.
#[inline(always)]
pub const fn sext32(v: u32) -> u64 {
    v as i32 as i64 as u64
}

// ---- RV64I / M register operations (`op rd, rs1, rs2|imm`) ----

#[inline(always)]
pub const fn add(a: u64, b: u64) -> u64 {
    a.wrapping_add(b)
}
#[inline(always)]
pub const fn sub(a: u64, b: u64) -> u64 {
    a.wrapping_sub(b)
}
#[inline(always)]
pub const fn sll(a: u64, b: u64) -> u64 {
    a << (b & 63)
}
#[inline(always)]
pub const fn srl(a: u64, b: u64) -> u64 {
    a >> (b & 63)
}
#[inline(always)]
pub const fn sra(a: u64, b: u64) -> u64 {
    ((a as i64) >> (b & 63)) as u64
}
#[inline(always)]
pub const fn slt(a: u64, b: u64) -> u64 {
    ((a as i64) < (b as i64)) as u64
}
#[inline(always)]
pub const fn sltu(a: u64, b: u64) -> u64 {
    (a < b) as u64
}
#[inline(always)]
pub const fn xor(a: u64, b: u64) -> u64 {
    a ^ b
}
#[inline(always)]
pub const fn or(a: u64, b: u64) -> u64 {
    a | b
}
#[inline(always)]
pub const fn and(a: u64, b: u64) -> u64 {
    a & b
}
#[inline(always)]
pub const fn addw(a: u64, b: u64) -> u64 {
    sext32(a.wrapping_add(b) as u32)
}
#[inline(always)]
pub const fn subw(a: u64, b: u64) -> u64 {
    sext32(a.wrapping_sub(b) as u32)
}
#[inline(always)]
pub const fn sllw(a: u64, b: u64) -> u64 {
    sext32((a as u32) << (b & 31))
}
#[inline(always)]
pub const fn srlw(a: u64, b: u64) -> u64 {
    sext32((a as u32) >> (b & 31))
}
#[inline(always)]
pub const fn sraw(a: u64, b: u64) -> u64 {
    ((a as i32) >> (b & 31)) as i64 as u64
}
#[inline(always)]
pub const fn mul(a: u64, b: u64) -> u64 {
    a.wrapping_mul(b)
}
#[inline(always)]
pub const fn mulh(a: u64, b: u64) -> u64 {
    ((a as i64 as i128 * b as i64 as i128) >> 64) as u64
}
#[inline(always)]
pub const fn mulhsu(a: u64, b: u64) -> u64 {
    ((a as i64 as i128).wrapping_mul(b as i128) >> 64) as u64
}
#[inline(always)]
pub const fn mulhu(a: u64, b: u64) -> u64 {
    ((a as u128 * b as u128) >> 64) as u64
}
#[inline(always)]
pub const fn mulw(a: u64, b: u64) -> u64 {
    sext32((a as u32).wrapping_mul(b as u32))
}
/// Signed division: by zero gives -1, `MIN / -1` gives `MIN`.
#[inline(always)]
pub const fn div(a: u64, b: u64) -> u64 {
    if b == 0 {
        u64::MAX
    } else {
        (a as i64).wrapping_div(b as i64) as u64
    }
}
/// Unsigned division: by zero gives all ones.
#[inline(always)]
pub const fn divu(a: u64, b: u64) -> u64 {
    match a.checked_div(b) {
        Some(q) => q,
        None => u64::MAX,
    }
}
/// Signed remainder: by zero gives the dividend, `MIN % -1` gives 0.
#[inline(always)]
pub const fn rem(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        (a as i64).wrapping_rem(b as i64) as u64
    }
}
/// Unsigned remainder: by zero gives the dividend.
#[inline(always)]
pub const fn remu(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { a % b }
}
#[inline(always)]
pub const fn divw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i32, b as i32);
    (if b == 0 { -1 } else { a.wrapping_div(b) }) as i64 as u64
}
#[inline(always)]
pub const fn divuw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as u32, b as u32);
    sext32(match a.checked_div(b) {
        Some(q) => q,
        None => u32::MAX,
    })
}
#[inline(always)]
pub const fn remw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as i32, b as i32);
    (if b == 0 { a } else { a.wrapping_rem(b) }) as i64 as u64
}
#[inline(always)]
pub const fn remuw(a: u64, b: u64) -> u64 {
    let (a, b) = (a as u32, b as u32);
    sext32(if b == 0 { a } else { a % b })
}

// ---- branch conditions ----

#[inline(always)]
pub const fn beq(a: u64, b: u64) -> bool {
    a == b
}
#[inline(always)]
pub const fn bne(a: u64, b: u64) -> bool {
    a != b
}
#[inline(always)]
pub const fn blt(a: u64, b: u64) -> bool {
    (a as i64) < (b as i64)
}
#[inline(always)]
pub const fn bge(a: u64, b: u64) -> bool {
    (a as i64) >= (b as i64)
}
#[inline(always)]
pub const fn bltu(a: u64, b: u64) -> bool {
    a < b
}
#[inline(always)]
pub const fn bgeu(a: u64, b: u64) -> bool {
    a >= b
}

// ---- jumps and addresses ----

/// The address of a load, store or `jalr`: base plus sign-extended offset.
#[inline(always)]
pub const fn ea(base: u64, imm: i32) -> u64 {
    base.wrapping_add(imm as i64 as u64)
}
/// `jalr`'s target: the address with bit 0 cleared.
#[inline(always)]
pub const fn jalr_target(base: u64, imm: i32) -> u64 {
    ea(base, imm) & !1
}

// ---- loads: the register value from the bytes read ----

#[inline(always)]
pub const fn lb(v: u8) -> u64 {
    v as i8 as i64 as u64
}
#[inline(always)]
pub const fn lh(v: u16) -> u64 {
    v as i16 as i64 as u64
}
#[inline(always)]
pub const fn lw(v: u32) -> u64 {
    sext32(v)
}
#[inline(always)]
pub const fn ld(v: u64) -> u64 {
    v
}
#[inline(always)]
pub const fn lbu(v: u8) -> u64 {
    v as u64
}
#[inline(always)]
pub const fn lhu(v: u16) -> u64 {
    v as u64
}
#[inline(always)]
pub const fn lwu(v: u32) -> u64 {
    v as u64
}

// ---- A: the new memory value of an AMO from the old one and rs2 ----
// (the register gets the old value, sign-extended for `.w`)

macro_rules! amo_ops {
    ($t:ty, $s:ty, $swap:ident $add:ident $xor:ident $and:ident $or:ident
     $min:ident $max:ident $minu:ident $maxu:ident) => {
        #[inline(always)]
        pub const fn $swap(_old: $t, v: $t) -> $t {
            v
        }
        #[inline(always)]
        pub const fn $add(old: $t, v: $t) -> $t {
            old.wrapping_add(v)
        }
        #[inline(always)]
        pub const fn $xor(old: $t, v: $t) -> $t {
            old ^ v
        }
        #[inline(always)]
        pub const fn $and(old: $t, v: $t) -> $t {
            old & v
        }
        #[inline(always)]
        pub const fn $or(old: $t, v: $t) -> $t {
            old | v
        }
        #[inline(always)]
        pub const fn $min(old: $t, v: $t) -> $t {
            if (old as $s) < (v as $s) { old } else { v }
        }
        #[inline(always)]
        pub const fn $max(old: $t, v: $t) -> $t {
            if (old as $s) > (v as $s) { old } else { v }
        }
        #[inline(always)]
        pub const fn $minu(old: $t, v: $t) -> $t {
            if old < v { old } else { v }
        }
        #[inline(always)]
        pub const fn $maxu(old: $t, v: $t) -> $t {
            if old > v { old } else { v }
        }
    };
}
amo_ops!(u32, i32, amoswap_w amoadd_w amoxor_w amoand_w amoor_w amomin_w amomax_w amominu_w amomaxu_w);
amo_ops!(u64, i64, amoswap_d amoadd_d amoxor_d amoand_d amoor_d amomin_d amomax_d amominu_d amomaxu_d);

/// `sc`'s result register: 0 when the store happened, 1 when not.
#[inline(always)]
pub const fn sc_result(stored: bool) -> u64 {
    !stored as u64
}

// ---- F/D around the arithmetic ----

pub const SIGN32: u32 = 0x8000_0000;
pub const SIGN64: u64 = 0x8000_0000_0000_0000;

/// Unbox a single from an f register: anything not NaN-boxed reads as the
/// canonical NaN.
#[inline(always)]
pub const fn unbox(v: u64) -> u32 {
    if v >> 32 == 0xffff_ffff {
        v as u32
    } else {
        crate::fpu::CANONICAL_NAN_32
    }
}

/// A single as an f register holds it (NaN-boxed).
#[inline(always)]
pub const fn nanbox(v: u32) -> u64 {
    0xffff_ffff_0000_0000 | v as u64
}

/// An instruction's rounding mode from its `rm` field and `frm`; `None`
/// is an illegal instruction (reserved rm, or DYN with a reserved `frm`).
#[inline(always)]
pub fn resolve_rm(rm: u8, frm: u32) -> Option<Rm> {
    if rm == 7 {
        Rm::from_bits(frm)
    } else {
        Rm::from_bits(rm as u32)
    }
}

#[inline(always)]
pub const fn fsgnj_s(a: u32, b: u32) -> u32 {
    (a & !SIGN32) | (b & SIGN32)
}
#[inline(always)]
pub const fn fsgnjn_s(a: u32, b: u32) -> u32 {
    (a & !SIGN32) | (!b & SIGN32)
}
#[inline(always)]
pub const fn fsgnjx_s(a: u32, b: u32) -> u32 {
    a ^ (b & SIGN32)
}
#[inline(always)]
pub const fn fsgnj_d(a: u64, b: u64) -> u64 {
    (a & !SIGN64) | (b & SIGN64)
}
#[inline(always)]
pub const fn fsgnjn_d(a: u64, b: u64) -> u64 {
    (a & !SIGN64) | (!b & SIGN64)
}
#[inline(always)]
pub const fn fsgnjx_d(a: u64, b: u64) -> u64 {
    a ^ (b & SIGN64)
}

/// `fmv.x.w`: the raw low 32 bits of the f register (boxed or not),
/// sign-extended.
#[inline(always)]
pub const fn fmv_x_w(f: u64) -> u64 {
    sext32(f as u32)
}
/// `fmv.w.x`: the low 32 bits of the x register, NaN-boxed.
#[inline(always)]
pub const fn fmv_w_x(x: u64) -> u64 {
    nanbox(x as u32)
}

/// Negations of the fused multiply-adds, `(negate the product, negate
/// the addend)`: `fmadd`, `fmsub`, `fnmsub`, `fnmadd`.
pub const FMADD: (bool, bool) = (false, false);
pub const FMSUB: (bool, bool) = (false, true);
pub const FNMSUB: (bool, bool) = (true, false);
pub const FNMADD: (bool, bool) = (true, true);

/// A fused multiply-add of singles `a * b + c` with the negations `neg`
/// (one of [`FMADD`], ...).
#[inline(always)]
pub fn fma_s(neg: (bool, bool), a: u32, b: u32, c: u32, rm: Rm, flags: &mut u32) -> u32 {
    let a = a ^ if neg.0 { SIGN32 } else { 0 };
    let c = c ^ if neg.1 { SIGN32 } else { 0 };
    crate::fpu::f32_fma(a, b, c, rm, flags)
}
/// The same for doubles.
#[inline(always)]
pub fn fma_d(neg: (bool, bool), a: u64, b: u64, c: u64, rm: Rm, flags: &mut u32) -> u64 {
    let a = a ^ if neg.0 { SIGN64 } else { 0 };
    let c = c ^ if neg.1 { SIGN64 } else { 0 };
    crate::fpu::f64_fma(a, b, c, rm, flags)
}
