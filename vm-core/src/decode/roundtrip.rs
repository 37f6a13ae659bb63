//! Round trip of the disassembler through GNU as: every valid 16-bit
//! parcel and a large sample of 32-bit words (random bits under every
//! major opcode) are disassembled (`Display`, GNU as syntax), assembled
//! again with `riscv64-linux-gnu-as -march=rv64gc` (no compressed
//! encodings), and must come back as the same word; a compressed parcel,
//! which disassembles to its base instruction, must come back as a word
//! that decodes to the same instruction. The fuzz target `decode` (in
//! `fuzz/`) checks the decoder and disassembler on every word without an
//! assembler; this test needs the cross binutils, which the set-up step
//! of `cargo xtask test` installs (`binutils-riscv64-linux-gnu`, part of
//! `gcc-riscv64-linux-gnu`).

extern crate std;

use super::*;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::process::Command;

/// The words to check: every valid compressed parcel, and `per_opcode`
/// random words under each 32-bit major opcode.
/// Words with no round trip: a `fence` with an empty predecessor or
/// successor set (objdump prints `0`, which GNU as does not take), and
/// the reserved rounding modes 5 and 6 (decoded; the engines raise
/// SIGILL when they run; objdump prints `rm5`, `rm6`, which have no
/// assembler syntax).
fn no_round_trip(inst: &Inst) -> bool {
    let t = inst.to_string();
    (matches!(inst, Inst::Fence(_)) && (t.contains(",0") || t.contains(" 0,")))
        || t.ends_with(",rm5")
        || t.ends_with(",rm6")
}

fn sample(per_opcode: usize) -> Vec<u32> {
    let mut v: Vec<u32> = (0..=0xffffu32)
        .filter(|w| w & 3 != 3 && !matches!(decode(*w).0, Inst::Illegal(_)))
        .collect();
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    for op in (0..32u32).map(|o| (o << 2) | 3) {
        for _ in 0..per_opcode {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let w = (s as u32 & !0x7f) | op;
            let i = decode32(w);
            if !matches!(i, Inst::Illegal(_)) && !no_round_trip(&i) {
                v.push(w);
            }
        }
    }
    v
}

fn tool(name: &str) -> String {
    format!("riscv64-linux-gnu-{name}")
}

/// Assemble `lines` (one instruction each); the words of `.text`, or the
/// assembler's complaints.
fn assemble(lines: &[String], dir: &std::path::Path) -> Result<Vec<u32>, String> {
    let src = dir.join("rt.s");
    let obj = dir.join("rt.o");
    let bin = dir.join("rt.bin");
    let mut text = String::from(".option norvc\n.text\n");
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    std::fs::write(&src, text).unwrap();
    let out = Command::new(tool("as"))
        .args(["-march=rv64gc", "-o"])
        .arg(&obj)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{} not found ({e}): install gcc-riscv64-linux-gnu",
                tool("as")
            )
        });
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let st = Command::new(tool("objcopy"))
        .args(["-O", "binary", "-j", ".text"])
        .arg(&obj)
        .arg(&bin)
        .status()
        .unwrap();
    assert!(st.success());
    let b = std::fs::read(&bin).unwrap();
    Ok(b.chunks(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect())
}

#[test]
fn disassembly_reassembles_with_gnu_as() {
    let words = sample(3000);
    // Branch and jump targets print as `.+N`, relative to the line's own
    // address: every line is 4 bytes (norvc), so they stay right.
    let lines: Vec<String> = words.iter().map(|w| decode(*w).0.to_string()).collect();
    let dir = std::env::temp_dir().join(format!("pvm-roundtrip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let got = assemble(&lines, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let got = match got {
        Ok(g) => g,
        Err(e) => {
            // Name the lines GNU as refused (its messages give line numbers:
            // two lines of header).
            let mut shown = Vec::new();
            for l in e.lines().take(20) {
                let n = l
                    .split(':')
                    .nth(1)
                    .and_then(|n| n.trim().parse::<usize>().ok());
                match n.and_then(|n| n.checked_sub(3)) {
                    Some(i) if i < words.len() => {
                        shown.push(format!("{:08x} `{}`: {l}", words[i], lines[i]))
                    }
                    _ => shown.push(l.to_string()),
                }
            }
            panic!("GNU as refused the disassembly:\n{}", shown.join("\n"));
        }
    };
    assert_eq!(got.len(), words.len());
    let mut bad = Vec::new();
    for ((w, text), g) in words.iter().zip(&lines).zip(&got) {
        // Fields a `fence` or `fence.i` ignores (fm other than TSO, rd,
        // rs1, the immediate) do not survive the text; what it prints must.
        let ok = if matches!(decode(*w).0, Inst::Fence(_) | Inst::FenceI) {
            decode32(*g).to_string() == *text
        } else if w & 3 == 3 {
            g == w
        } else {
            decode32(*g) == decode(*w).0
        };
        if !ok {
            bad.push(format!("{w:08x} `{text}` -> {g:08x} `{}`", decode32(*g)));
        }
    }
    assert!(words.len() > 40_000, "{} words", words.len());
    assert!(
        bad.is_empty(),
        "{} of {} words do not round-trip:\n{}",
        bad.len(),
        words.len(),
        bad.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
}
