//! Decoder tests: reference encodings from GNU binutils, an independent
//! model of the RVC expansion checked over every 16-bit parcel, and
//! robustness over random words.

extern crate std;

use super::*;
use alloc::format;
use alloc::string::ToString;
use proptest::prelude::*;

/// `objdump -M no-aliases` text for words GNU as produced (see
/// vm-core/tests/data/gen_decode_vectors.py).
const VECTORS: &str = include_str!("../../tests/data/decode_vectors.txt");

#[test]
fn binutils_vectors() {
    let mut n = 0;
    let mut bad = alloc::vec::Vec::new();
    for line in VECTORS.lines().filter(|l| !l.starts_with('#')) {
        let (word, text) = line.split_once('\t').unwrap();
        let bits = u32::from_str_radix(word, 16).unwrap();
        let (inst, len) = decode(bits);
        assert_eq!(len as usize * 2, word.len(), "{line}");
        let got = inst.to_string();
        if got != text {
            bad.push(format!("{word}: got `{got}` want `{text}` ({inst:?})"));
        }
        n += 1;
    }
    assert!(n > 1500, "only {n} vectors");
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn absolute_targets_and_specials() {
    // jal ra,+8 at 0x1000; beq a0,a1,-4 at 0x2000
    assert_eq!(decode(0x008000ef).0.at(0x1000).to_string(), "jal ra,1008");
    assert_eq!(
        decode(0xfeb50ee3).0.at(0x2000).to_string(),
        "beq a0,a1,1ffc"
    );
    assert_eq!(decode(0xfeb50ee3).0.to_string(), "beq a0,a1,.-4");
    // c.jr a3, c.jalr s4, c.j -2, c.ebreak, c.mv
    assert_eq!(decode(0x8682).0.to_string(), "jalr zero,0(a3)");
    assert_eq!(decode(0x9a02).0.to_string(), "jalr ra,0(s4)");
    assert_eq!(decode(0xbffd).0.to_string(), "jal zero,.-2");
    assert_eq!(decode(0x9002), (Inst::Ebreak, 2));
    assert_eq!(decode(0x0000).0, Inst::Illegal(0));
    assert_eq!(decode(0x0000).0.to_string(), ".short 0x0000");
    assert_eq!(decode(0xffff_ffff).0.to_string(), ".word 0xffffffff");
    // Reserved: W shift with shamt[5] set, srai with a bad funct6.
    assert!(matches!(decode(0x0205951b).0, Inst::Illegal(_))); // slliw a0,a1,32
    assert!(matches!(decode(0x2015d513).0, Inst::Illegal(_)));
    // fence.tso and the rm suffixes.
    assert_eq!(decode(0x8330000f).0.to_string(), "fence.tso");
    assert_eq!(decode(0x00c5f553).0.to_string(), "fadd.s fa0,fa1,fa2");
    assert!(core::mem::size_of::<Inst>() <= 12);
}

// ---- an independent model of RVC, written from the spec's tables -------

/// Gather an immediate from parcel bits `hi..` where the spec lists the
/// immediate bit numbers the parcel bits hold, most significant first,
/// e.g. `"5:4|9:6|2|3"` for bits 12..5 of c.addi4spn.
fn gather(p: u32, hi: u32, spec: &str) -> u32 {
    let mut at = hi as i32;
    let mut v = 0;
    for part in spec.split('|') {
        let (a, b) = match part.split_once(':') {
            Some((a, b)) => (a.parse::<i32>().unwrap(), b.parse::<i32>().unwrap()),
            None => {
                let a = part.parse::<i32>().unwrap();
                (a, a)
            }
        };
        let mut k = a;
        while k >= b {
            v |= ((p >> at) & 1) << k;
            at -= 1;
            k -= 1;
        }
    }
    v
}

fn sx(v: u32, bits: u32) -> i32 {
    ((v << (32 - bits)) as i32) >> (32 - bits)
}

fn enc_r(op: u32, f3: u32, f7: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    op | rd << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | f7 << 25
}
fn enc_i(op: u32, f3: u32, rd: u32, rs1: u32, imm: i32) -> u32 {
    op | rd << 7 | f3 << 12 | rs1 << 15 | ((imm as u32) & 0xfff) << 20
}
fn enc_s(op: u32, f3: u32, rs1: u32, rs2: u32, imm: i32) -> u32 {
    let i = imm as u32;
    op | (i & 31) << 7 | f3 << 12 | rs1 << 15 | rs2 << 20 | ((i >> 5) & 0x7f) << 25
}
fn enc_b(f3: u32, rs1: u32, rs2: u32, imm: i32) -> u32 {
    let i = imm as u32;
    0x63 | ((i >> 11) & 1) << 7
        | ((i >> 1) & 15) << 8
        | f3 << 12
        | rs1 << 15
        | rs2 << 20
        | ((i >> 5) & 63) << 25
        | ((i >> 12) & 1) << 31
}
fn enc_j(rd: u32, imm: i32) -> u32 {
    let i = imm as u32;
    0x6f | rd << 7
        | ((i >> 12) & 0xff) << 12
        | ((i >> 11) & 1) << 20
        | ((i >> 1) & 0x3ff) << 21
        | ((i >> 20) & 1) << 31
}

/// The 32-bit encoding a compressed parcel stands for, or `None` when the
/// parcel is reserved.
fn model_expand(p: u32) -> Option<u32> {
    let op = p & 3;
    let f3 = (p >> 13) & 7;
    let rd = (p >> 7) & 31;
    let rs2 = (p >> 2) & 31;
    let rdp = ((p >> 2) & 7) + 8;
    let rs1p = ((p >> 7) & 7) + 8;
    let ci = gather(p, 12, "5") | gather(p, 6, "4:0");
    const LOAD: u32 = 0x03;
    const LOADFP: u32 = 0x07;
    const STORE: u32 = 0x23;
    const STOREFP: u32 = 0x27;
    const OPIMM: u32 = 0x13;
    const OPIMM32: u32 = 0x1b;
    const OP: u32 = 0x33;
    const OP32: u32 = 0x3b;
    Some(match (op, f3) {
        (0, 0) => {
            let imm = gather(p, 12, "5:4|9:6|2|3");
            if imm == 0 {
                return None;
            }
            enc_i(OPIMM, 0, rdp, 2, imm as i32)
        }
        (0, 1) => enc_i(
            LOADFP,
            3,
            rdp,
            rs1p,
            gather(p, 12, "5:3") as i32 | gather(p, 6, "7:6") as i32,
        ),
        (0, 2) => enc_i(
            LOAD,
            2,
            rdp,
            rs1p,
            gather(p, 12, "5:3") as i32 | gather(p, 6, "2|6") as i32,
        ),
        (0, 3) => enc_i(
            LOAD,
            3,
            rdp,
            rs1p,
            gather(p, 12, "5:3") as i32 | gather(p, 6, "7:6") as i32,
        ),
        (0, 4) => return None,
        (0, 5) => enc_s(
            STOREFP,
            3,
            rs1p,
            rdp,
            gather(p, 12, "5:3") as i32 | gather(p, 6, "7:6") as i32,
        ),
        (0, 6) => enc_s(
            STORE,
            2,
            rs1p,
            rdp,
            gather(p, 12, "5:3") as i32 | gather(p, 6, "2|6") as i32,
        ),
        (0, 7) => enc_s(
            STORE,
            3,
            rs1p,
            rdp,
            gather(p, 12, "5:3") as i32 | gather(p, 6, "7:6") as i32,
        ),
        (1, 0) => enc_i(OPIMM, 0, rd, rd, sx(ci, 6)),
        (1, 1) => {
            if rd == 0 {
                return None;
            }
            enc_i(OPIMM32, 0, rd, rd, sx(ci, 6))
        }
        (1, 2) => enc_i(OPIMM, 0, rd, 0, sx(ci, 6)),
        (1, 3) if rd == 2 => {
            let imm = gather(p, 12, "9") | gather(p, 6, "4|6|8:7|5");
            if imm == 0 {
                return None;
            }
            enc_i(OPIMM, 0, 2, 2, sx(imm, 10))
        }
        (1, 3) => {
            if ci == 0 {
                return None;
            }
            0x37 | rd << 7 | ((sx(ci, 6) as u32) << 12)
        }
        (1, 4) => match (p >> 10) & 3 {
            0 => enc_i(OPIMM, 5, rs1p, rs1p, ci as i32),
            1 => enc_i(OPIMM, 5, rs1p, rs1p, ci as i32 | 0x400),
            2 => enc_i(OPIMM, 7, rs1p, rs1p, sx(ci, 6)),
            _ => {
                let r2 = rdp;
                match ((p >> 12) & 1, (p >> 5) & 3) {
                    (0, 0) => enc_r(OP, 0, 0x20, rs1p, rs1p, r2),
                    (0, 1) => enc_r(OP, 4, 0, rs1p, rs1p, r2),
                    (0, 2) => enc_r(OP, 6, 0, rs1p, rs1p, r2),
                    (0, 3) => enc_r(OP, 7, 0, rs1p, rs1p, r2),
                    (1, 0) => enc_r(OP32, 0, 0x20, rs1p, rs1p, r2),
                    (1, 1) => enc_r(OP32, 0, 0, rs1p, rs1p, r2),
                    _ => return None,
                }
            }
        },
        (1, 5) => enc_j(0, sx(gather(p, 12, "11|4|9:8|10|6|7|3:1|5"), 12)),
        (1, 6) | (1, 7) => {
            let off = sx(gather(p, 12, "8|4:3") | gather(p, 6, "7:6|2:1|5"), 9);
            enc_b(f3 - 6, rs1p, 0, off)
        }
        (2, 0) => enc_i(OPIMM, 1, rd, rd, ci as i32),
        (2, 1) => enc_i(
            LOADFP,
            3,
            rd,
            2,
            (gather(p, 12, "5") | gather(p, 6, "4:3|8:6")) as i32,
        ),
        (2, 2) => {
            if rd == 0 {
                return None;
            }
            enc_i(
                LOAD,
                2,
                rd,
                2,
                (gather(p, 12, "5") | gather(p, 6, "4:2|7:6")) as i32,
            )
        }
        (2, 3) => {
            if rd == 0 {
                return None;
            }
            enc_i(
                LOAD,
                3,
                rd,
                2,
                (gather(p, 12, "5") | gather(p, 6, "4:3|8:6")) as i32,
            )
        }
        (2, 4) => match ((p >> 12) & 1, rd, rs2) {
            (0, 0, 0) => return None,
            (0, _, 0) => enc_i(0x67, 0, 0, rd, 0),
            (0, _, _) => enc_r(OP, 0, 0, rd, 0, rs2),
            (1, 0, 0) => 0x0010_0073,
            (1, _, 0) => enc_i(0x67, 0, 1, rd, 0),
            _ => enc_r(OP, 0, 0, rd, rd, rs2),
        },
        (2, 5) => enc_s(STOREFP, 3, 2, rs2, gather(p, 12, "5:3|8:6") as i32),
        (2, 6) => enc_s(STORE, 2, 2, rs2, gather(p, 12, "5:2|7:6") as i32),
        (2, 7) => enc_s(STORE, 3, 2, rs2, gather(p, 12, "5:3|8:6") as i32),
        _ => unreachable!(),
    })
}

#[test]
fn every_compressed_parcel_matches_its_expansion() {
    let mut legal = 0;
    for p in 0..=0xffffu32 {
        if p & 3 == 3 {
            continue;
        }
        let (inst, len) = decode(p);
        assert_eq!(len, 2);
        // Every parcel prints without panicking.
        let _ = inst.to_string();
        match model_expand(p) {
            None => assert_eq!(inst, Inst::Illegal(p), "parcel {p:04x}"),
            Some(w) => {
                let want = decode32(w);
                assert!(
                    !matches!(want, Inst::Illegal(_)),
                    "model {p:04x} -> {w:08x}"
                );
                assert_eq!(inst, want, "parcel {p:04x} (expansion {w:08x})");
                legal += 1;
            }
        }
    }
    assert!(legal > 40000, "{legal}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20000))]
    #[test]
    fn any_word_decodes_and_prints(w in any::<u32>()) {
        let (inst, len) = decode(w);
        prop_assert_eq!(len, if w & 3 == 3 { 4 } else { 2 });
        let _ = inst.to_string();
        let _ = inst.at(0x1234).to_string();
    }

    #[test]
    fn compressed_ignores_upper_half(w in any::<u32>()) {
        // A fetch may hand the decoder the next parcel in the upper half.
        let w = if w & 3 == 3 { w & !1 } else { w };
        let p = w & 0xffff;
        let (inst, len) = decode(w);
        prop_assert_eq!(len, 2);
        match model_expand(p) {
            None => prop_assert_eq!(inst, Inst::Illegal(p)),
            Some(w) => prop_assert_eq!(inst, decode32(w)),
        }
    }
}

/// The instruction table against the binutils vectors: every instruction
/// of the table decodes from some vector, with the table's facts.
#[test]
fn table_rows_all_decode_from_binutils_vectors() {
    use super::{ALL, Access, Ext, Flow};
    use alloc::collections::BTreeSet;
    let mut seen = BTreeSet::new();
    for line in VECTORS.lines().filter(|l| !l.starts_with('#')) {
        let (word, text) = line.split_once('\t').unwrap();
        let (inst, _) = decode(u32::from_str_radix(word, 16).unwrap());
        let f = inst.facts();
        if f.ext == Ext::Reserved {
            continue;
        }
        // objdump's mnemonic, ordering suffixes stripped.
        let m = text.split([' ', '\t']).next().unwrap();
        let m = [".aqrl", ".aq", ".rl"]
            .iter()
            .find_map(|s| m.strip_suffix(s))
            .unwrap_or(m);
        let m = if m == "fence.tso" { "fence" } else { m };
        assert_eq!(f.mnemonic, m, "{line}");
        seen.insert(f.mnemonic);
    }
    let all: BTreeSet<&str> = ALL
        .iter()
        .filter(|f| f.ext != Ext::Reserved)
        .map(|f| f.mnemonic)
        .collect();
    assert_eq!(all.len(), ALL.len() - 1, "a mnemonic twice in the table");
    let missing: alloc::vec::Vec<_> = all.difference(&seen).collect();
    assert!(missing.is_empty(), "no vector for {missing:?}");
    // Spot checks of the facts.
    let lw = decode(0x0005_a503).0.facts(); // lw a0,0(a1)
    assert_eq!(
        (lw.access, lw.width, lw.flow),
        (Access::Load, 4, Flow::Next)
    );
    assert!(decode(0x0000_0073).0.facts().ends_block()); // ecall
    let beq = decode(0xfeb50ee3).0.facts();
    assert!(beq.ends_region() && !beq.ends_block());
    assert!(
        ALL.iter()
            .filter(|f| f.fp())
            .all(|f| f.mnemonic.starts_with('f'))
    );
}
