//! RV64C: expansion of 16-bit compressed parcels to the [`Inst`] of their
//! 32-bit twins (the ISA manual's "RVC instruction set listings", RV64
//! column). Reserved encodings become [`Inst::Illegal`]; HINTs (for
//! example `c.addi` with `rd=x0`) expand to their harmless 32-bit forms.

use super::{I, Inst, R, S, U};

#[inline(always)]
fn bit(p: u32, n: u32) -> u32 {
    (p >> n) & 1
}

/// Bits `hi..=lo` of `p`, shifted down to bit 0.
#[inline(always)]
fn bits(p: u32, hi: u32, lo: u32) -> u32 {
    (p >> lo) & ((1 << (hi - lo + 1)) - 1)
}

/// Sign-extend the low `n` bits of `v`.
#[inline(always)]
fn sext(v: u32, n: u32) -> i32 {
    ((v << (32 - n)) as i32) >> (32 - n)
}

/// The 3-bit register fields name x8..x15.
#[inline(always)]
fn creg(p: u32, lo: u32) -> u8 {
    (bits(p, lo + 2, lo) + 8) as u8
}

/// The 6-bit immediate of CI formats: imm[5] = bit 12, imm[4:0] = bits 6:2.
#[inline(always)]
fn ci_imm(p: u32) -> u32 {
    (bit(p, 12) << 5) | bits(p, 6, 2)
}

/// Expand a compressed parcel (its low two bits are not 0b11).
pub(super) fn expand(parcel: u16) -> Inst {
    use Inst::*;
    let p = parcel as u32;
    let ill = Illegal(p);
    let rd_full = bits(p, 11, 7) as u8;
    let rs2_full = bits(p, 6, 2) as u8;
    match (p & 3, bits(p, 15, 13)) {
        // ---- quadrant 0 ----
        (0, 0b000) => {
            // c.addi4spn: nzuimm[5:4|9:6|2|3]
            let imm = (bits(p, 12, 11) << 4)
                | (bits(p, 10, 7) << 6)
                | (bit(p, 6) << 2)
                | (bit(p, 5) << 3);
            if imm == 0 {
                // Includes the all-zero parcel, defined illegal.
                return ill;
            }
            Addi(I {
                rd: creg(p, 2),
                rs1: 2,
                imm: imm as i32,
            })
        }
        (0, 0b001) => Fld(cl_d(p)),
        (0, 0b010) => Lw(cl_w(p)),
        (0, 0b011) => Ld(cl_d(p)),
        (0, 0b101) => Fsd(cs_d(p)),
        (0, 0b110) => Sw(cs_w(p)),
        (0, 0b111) => Sd(cs_d(p)),
        (0, _) => ill,

        // ---- quadrant 1 ----
        (1, 0b000) => Addi(I {
            rd: rd_full,
            rs1: rd_full,
            imm: sext(ci_imm(p), 6),
        }),
        (1, 0b001) => {
            if rd_full == 0 {
                return ill;
            }
            Addiw(I {
                rd: rd_full,
                rs1: rd_full,
                imm: sext(ci_imm(p), 6),
            })
        }
        (1, 0b010) => Addi(I {
            rd: rd_full,
            rs1: 0,
            imm: sext(ci_imm(p), 6),
        }),
        (1, 0b011) => {
            if rd_full == 2 {
                // c.addi16sp: nzimm[9] = 12, nzimm[4|6|8:7|5] = 6:2
                let imm = (bit(p, 12) << 9)
                    | (bit(p, 6) << 4)
                    | (bit(p, 5) << 6)
                    | (bits(p, 4, 3) << 7)
                    | (bit(p, 2) << 5);
                if imm == 0 {
                    return ill;
                }
                Addi(I {
                    rd: 2,
                    rs1: 2,
                    imm: sext(imm, 10),
                })
            } else {
                // c.lui: nzimm[17] = 12, nzimm[16:12] = 6:2
                let imm = ci_imm(p);
                if imm == 0 {
                    return ill;
                }
                Lui(U {
                    rd: rd_full,
                    imm: sext(imm << 12, 18),
                })
            }
        }
        (1, 0b100) => {
            let rd = creg(p, 7);
            match bits(p, 11, 10) {
                0b00 => Srli(I {
                    rd,
                    rs1: rd,
                    imm: ci_imm(p) as i32,
                }),
                0b01 => Srai(I {
                    rd,
                    rs1: rd,
                    imm: ci_imm(p) as i32,
                }),
                0b10 => Andi(I {
                    rd,
                    rs1: rd,
                    imm: sext(ci_imm(p), 6),
                }),
                _ => {
                    let x = R {
                        rd,
                        rs1: rd,
                        rs2: creg(p, 2),
                    };
                    match (bit(p, 12), bits(p, 6, 5)) {
                        (0, 0b00) => Sub(x),
                        (0, 0b01) => Xor(x),
                        (0, 0b10) => Or(x),
                        (0, 0b11) => And(x),
                        (1, 0b00) => Subw(x),
                        (1, 0b01) => Addw(x),
                        _ => ill,
                    }
                }
            }
        }
        (1, 0b101) => {
            // c.j: offset[11|4|9:8|10|6|7|3:1|5]
            let off = (bit(p, 12) << 11)
                | (bit(p, 11) << 4)
                | (bits(p, 10, 9) << 8)
                | (bit(p, 8) << 10)
                | (bit(p, 7) << 6)
                | (bit(p, 6) << 7)
                | (bits(p, 5, 3) << 1)
                | (bit(p, 2) << 5);
            Jal(U {
                rd: 0,
                imm: sext(off, 12),
            })
        }
        (1, f) => {
            // c.beqz / c.bnez: offset[8|4:3] = 12:10, [7:6|2:1|5] = 6:2
            let off = (bit(p, 12) << 8)
                | (bits(p, 11, 10) << 3)
                | (bits(p, 6, 5) << 6)
                | (bits(p, 4, 3) << 1)
                | (bit(p, 2) << 5);
            let x = S {
                rs1: creg(p, 7),
                rs2: 0,
                imm: sext(off, 9),
            };
            if f == 0b110 { Beq(x) } else { Bne(x) }
        }

        // ---- quadrant 2 ----
        (2, 0b000) => Slli(I {
            rd: rd_full,
            rs1: rd_full,
            imm: ci_imm(p) as i32,
        }),
        (2, 0b001) => Fld(I {
            rd: rd_full,
            rs1: 2,
            imm: sp_imm_d(p),
        }),
        (2, 0b010) => {
            if rd_full == 0 {
                return ill;
            }
            // c.lwsp: uimm[5] = 12, uimm[4:2|7:6] = 6:2
            let imm = (bit(p, 12) << 5) | (bits(p, 6, 4) << 2) | (bits(p, 3, 2) << 6);
            Lw(I {
                rd: rd_full,
                rs1: 2,
                imm: imm as i32,
            })
        }
        (2, 0b011) => {
            if rd_full == 0 {
                return ill;
            }
            Ld(I {
                rd: rd_full,
                rs1: 2,
                imm: sp_imm_d(p),
            })
        }
        (2, 0b100) => match (bit(p, 12), rd_full, rs2_full) {
            (0, 0, 0) => ill,
            (0, rs1, 0) => Jalr(I { rd: 0, rs1, imm: 0 }),
            (0, rd, rs2) => Add(R { rd, rs1: 0, rs2 }),
            (_, 0, 0) => Ebreak,
            (_, rs1, 0) => Jalr(I { rd: 1, rs1, imm: 0 }),
            (_, rd, rs2) => Add(R { rd, rs1: rd, rs2 }),
        },
        (2, 0b101) => Fsd(ss_d(p)),
        (2, 0b110) => {
            // c.swsp: uimm[5:2|7:6] = 12:7
            let imm = (bits(p, 12, 9) << 2) | (bits(p, 8, 7) << 6);
            Sw(S {
                rs1: 2,
                rs2: rs2_full,
                imm: imm as i32,
            })
        }
        (2, _) => Sd(ss_d(p)),
        _ => ill,
    }
}

/// c.ld/c.fld: uimm[5:3] = 12:10, uimm[7:6] = 6:5.
fn cl_d(p: u32) -> I {
    I {
        rd: creg(p, 2),
        rs1: creg(p, 7),
        imm: ((bits(p, 12, 10) << 3) | (bits(p, 6, 5) << 6)) as i32,
    }
}
/// c.lw: uimm[5:3] = 12:10, uimm[2] = 6, uimm[6] = 5.
fn cl_w(p: u32) -> I {
    I {
        rd: creg(p, 2),
        rs1: creg(p, 7),
        imm: ((bits(p, 12, 10) << 3) | (bit(p, 6) << 2) | (bit(p, 5) << 6)) as i32,
    }
}
fn cs_d(p: u32) -> S {
    let l = cl_d(p);
    S {
        rs1: l.rs1,
        rs2: l.rd,
        imm: l.imm,
    }
}
fn cs_w(p: u32) -> S {
    let l = cl_w(p);
    S {
        rs1: l.rs1,
        rs2: l.rd,
        imm: l.imm,
    }
}
/// c.ldsp/c.fldsp: uimm[5] = 12, uimm[4:3|8:6] = 6:2.
fn sp_imm_d(p: u32) -> i32 {
    ((bit(p, 12) << 5) | (bits(p, 6, 5) << 3) | (bits(p, 4, 2) << 6)) as i32
}
/// c.sdsp/c.fsdsp: uimm[5:3|8:6] = 12:7.
fn ss_d(p: u32) -> S {
    S {
        rs1: 2,
        rs2: bits(p, 6, 2) as u8,
        imm: ((bits(p, 12, 10) << 3) | (bits(p, 9, 7) << 6)) as i32,
    }
}
