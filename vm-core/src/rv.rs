//! RISC-V instruction encoders: the few formats the differential test's
//! generator (`vm_testkit::difftest`) and the translator's hand-assembled
//! unit tests need.
//!
//! Test-only code: built for vm-core's own unit tests and, with vm-core's
//! `testkit` feature, for `vm-testkit`, which re-exports it (see
//! [`crate::testhost`]).

pub fn r(op: u32, f3: u32, f7: u32, rd: u8, rs1: u8, rs2: u8) -> u32 {
    op | (rd as u32) << 7 | f3 << 12 | (rs1 as u32) << 15 | (rs2 as u32) << 20 | f7 << 25
}
pub fn i(op: u32, f3: u32, rd: u8, rs1: u8, imm: i32) -> u32 {
    op | (rd as u32) << 7 | f3 << 12 | (rs1 as u32) << 15 | ((imm as u32) & 0xfff) << 20
}
pub fn s(op: u32, f3: u32, rs1: u8, rs2: u8, imm: i32) -> u32 {
    let imm = imm as u32;
    op | (imm & 0x1f) << 7
        | f3 << 12
        | (rs1 as u32) << 15
        | (rs2 as u32) << 20
        | ((imm >> 5) & 0x7f) << 25
}
pub fn b(f3: u32, rs1: u8, rs2: u8, off: i32) -> u32 {
    let o = off as u32;
    0x63 | ((o >> 11) & 1) << 7
        | ((o >> 1) & 0xf) << 8
        | f3 << 12
        | (rs1 as u32) << 15
        | (rs2 as u32) << 20
        | ((o >> 5) & 0x3f) << 25
        | ((o >> 12) & 1) << 31
}
pub fn jal(rd: u8, off: i32) -> u32 {
    let o = off as u32;
    0x6f | (rd as u32) << 7
        | ((o >> 12) & 0xff) << 12
        | ((o >> 11) & 1) << 20
        | ((o >> 1) & 0x3ff) << 21
        | ((o >> 20) & 1) << 31
}
pub fn addi(rd: u8, rs1: u8, imm: i32) -> u32 {
    i(0x13, 0, rd, rs1, imm)
}
pub fn lui(rd: u8, imm20: u32) -> u32 {
    0x37 | (rd as u32) << 7 | imm20 << 12
}
pub fn auipc(rd: u8, imm20: u32) -> u32 {
    0x17 | (rd as u32) << 7 | imm20 << 12
}
/// An A-extension instruction: `f5` selects the operation, `d` the
/// doubleword form.
pub fn amo(f5: u32, d: bool, aq: bool, rl: bool, rd: u8, rs1: u8, rs2: u8) -> u32 {
    let f7 = f5 << 2 | (aq as u32) << 1 | rl as u32;
    r(0x2f, if d { 3 } else { 2 }, f7, rd, rs1, rs2)
}
pub const ECALL: u32 = 0x73;
pub const FENCE_I: u32 = 0x100f;

/// Compressed (RVC) encoders. Registers named `rd'`/`rs'` are x8..x15,
/// passed as their full number.
pub mod c {
    fn b(v: u32, from: u32, to: u32) -> u32 {
        (v >> from & 1) << to
    }
    fn ci(f3: u32, op: u32, rd: u8, imm6: u32) -> u16 {
        (f3 << 13 | b(imm6, 5, 12) | (rd as u32) << 7 | (imm6 & 0x1f) << 2 | op) as u16
    }
    fn creg(r: u8) -> u32 {
        debug_assert!((8..16).contains(&r));
        (r - 8) as u32
    }
    /// `c.addi rd, imm` (rd != 0, imm != 0, imm in -32..32).
    pub fn addi(rd: u8, imm: i32) -> u16 {
        ci(0, 1, rd, imm as u32 & 0x3f)
    }
    /// `c.addiw rd, imm` (rd != 0).
    pub fn addiw(rd: u8, imm: i32) -> u16 {
        ci(1, 1, rd, imm as u32 & 0x3f)
    }
    /// `c.li rd, imm` (rd != 0).
    pub fn li(rd: u8, imm: i32) -> u16 {
        ci(2, 1, rd, imm as u32 & 0x3f)
    }
    /// `c.lui rd, imm6` (rd not 0 or 2, imm6 != 0): rd = sext(imm6 << 12).
    pub fn lui(rd: u8, imm6: i32) -> u16 {
        ci(3, 1, rd, imm6 as u32 & 0x3f)
    }
    /// `c.slli rd, sh` (rd != 0, sh in 1..64).
    pub fn slli(rd: u8, sh: u32) -> u16 {
        ci(0, 2, rd, sh)
    }
    /// `c.srli`, `c.srai`, `c.andi` (`kind` 0, 1, 2) on rd'.
    pub fn alu_imm(kind: u32, rd: u8, imm6: u32) -> u16 {
        (4 << 13 | b(imm6, 5, 12) | kind << 10 | creg(rd) << 7 | (imm6 & 0x1f) << 2 | 1) as u16
    }
    /// `c.sub/xor/or/and` (`f2` 0..4, `w` false) and `c.subw/addw`
    /// (`f2` 0..2, `w` true) on rd', rs2'.
    pub fn alu(w: bool, f2: u32, rd: u8, rs2: u8) -> u16 {
        (4 << 13 | (w as u32) << 12 | 3 << 10 | creg(rd) << 7 | f2 << 5 | creg(rs2) << 2 | 1) as u16
    }
    /// `c.mv rd, rs2` (`add` false) or `c.add rd, rs2` (both nonzero).
    pub fn mv_add(add: bool, rd: u8, rs2: u8) -> u16 {
        (4 << 13 | (add as u32) << 12 | (rd as u32) << 7 | (rs2 as u32) << 2 | 2) as u16
    }
    /// `c.lw/c.ld/c.sw/c.sd/c.fld/c.fsd`: `f3` 2, 3, 6, 7, 1, 5; `r`
    /// is rd' or rs2', `base` rs1'; `off` a multiple of the size.
    pub fn mem(f3: u32, r: u8, base: u8, off: u32) -> u16 {
        let imm = if f3 & 3 == 2 {
            // word: uimm[5:3] at 12:10, [2] at 6, [6] at 5
            (off >> 3 & 7) << 10 | b(off, 2, 6) | b(off, 6, 5)
        } else {
            // doubleword: uimm[5:3] at 12:10, [7:6] at 6:5
            (off >> 3 & 7) << 10 | (off >> 6 & 3) << 5
        };
        (f3 << 13 | imm | creg(base) << 7 | creg(r) << 2) as u16
    }
    /// `c.lwsp`/`c.ldsp` (`d`) into rd (!= 0), `off` a multiple of the
    /// size.
    pub fn load_sp(d: bool, rd: u8, off: u32) -> u16 {
        let imm = if d {
            b(off, 5, 12) | (off >> 3 & 3) << 5 | (off >> 6 & 7) << 2
        } else {
            b(off, 5, 12) | (off >> 2 & 7) << 4 | (off >> 6 & 3) << 2
        };
        ((2 + d as u32) << 13 | imm | (rd as u32) << 7 | 2) as u16
    }
    /// `c.swsp`/`c.sdsp` (`d`) of rs2.
    pub fn store_sp(d: bool, rs2: u8, off: u32) -> u16 {
        let imm = if d {
            (off >> 3 & 7) << 10 | (off >> 6 & 7) << 7
        } else {
            (off >> 2 & 0xf) << 9 | (off >> 6 & 3) << 7
        };
        ((6 + d as u32) << 13 | imm | (rs2 as u32) << 2 | 2) as u16
    }
    /// `c.j off`.
    pub fn j(off: i32) -> u16 {
        let o = off as u32;
        (5 << 13
            | b(o, 11, 12)
            | b(o, 4, 11)
            | (o >> 8 & 3) << 9
            | b(o, 10, 8)
            | b(o, 6, 7)
            | b(o, 7, 6)
            | (o >> 1 & 7) << 3
            | b(o, 5, 2)
            | 1) as u16
    }
    /// `c.beqz`/`c.bnez` (`ne`) rs1', off.
    pub fn bz(ne: bool, rs1: u8, off: i32) -> u16 {
        let o = off as u32;
        ((6 + ne as u32) << 13
            | b(o, 8, 12)
            | (o >> 3 & 3) << 10
            | creg(rs1) << 7
            | (o >> 6 & 3) << 5
            | (o >> 1 & 3) << 3
            | b(o, 5, 2)
            | 1) as u16
    }
}
