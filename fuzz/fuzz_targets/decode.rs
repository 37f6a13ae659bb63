//! Fuzz target: the decoder and the disassembler on any word. The input
//! is a run of 32-bit little-endian words (libFuzzer's comparisons
//! steer it towards each opcode's cases). For each: `decode` does not
//! panic and gives length 2 exactly when the low bits are not `11`; a
//! compressed parcel decodes the same whatever the upper half holds; the
//! disassembly (`Display`, and `at(pc)` with absolute targets) does not
//! panic, is one line of printable ASCII starting with the mnemonic (then
//! operands, or the `.aq`/`.rl` ordering suffixes), and
//! is the same `Inst`'s text for equal `Inst`s; the translator's
//! facts (`Inst::facts`: region and block ends) answer without panicking.
//!
//! That disassembly re-assembles to the same word is checked against GNU
//! as (`vm-core/src/decode/roundtrip.rs`, in `cargo test`): every valid
//! compressed parcel and a sample of every 32-bit major opcode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::fmt::Write;
use vm_core::decode::{Inst, decode, decode32};

fuzz_target!(|data: &[u8]| {
    let mut text = String::new();
    for c in data.chunks(4) {
        let mut b = [0u8; 4];
        b[..c.len()].copy_from_slice(c);
        let w = u32::from_le_bytes(b);
        let (inst, len) = decode(w);
        assert_eq!(len == 4, w & 3 == 3, "{w:#010x}");
        if len == 2 {
            assert_eq!(decode(w & 0xffff).0, inst, "{w:#010x}: upper half mattered");
            assert_eq!(decode(w | 0xffff_0000).0, inst, "{w:#010x}");
        } else {
            assert_eq!(decode32(w), inst);
        }
        text.clear();
        write!(text, "{inst}").unwrap();
        let at = inst.at(0x1_0000 + (w as u64 & 0xfffe)).to_string();
        for t in [&text, &at] {
            assert!(
                !t.is_empty() && t.bytes().all(|b| (0x20..0x7f).contains(&b)),
                "{w:#010x}: {t:?}"
            );
        }
        let m = inst.mnemonic();
        if !matches!(inst, Inst::Illegal(_)) {
            assert!(
                text.strip_prefix(m)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '.'])),
                "{w:#010x}: `{text}` does not start with `{m}`"
            );
        }
        let f = inst.facts();
        let _ = (f.ends_region(), f.ends_block());
    }
});
