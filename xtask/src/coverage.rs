//! Instruction coverage of the per-instruction tests.
//!
//! What this proves: every RV64GC mnemonic occurs in the guests' own code
//! (the ISA and assembly guests, whose output and status the suite compares
//! with qemu-riscv64's). It compiles them to object files (so libc's code
//! does not count), disassembles them with `objdump -M no-aliases` (so `li`
//! shows as `addi`, `c.addi` as itself) and reports every RV64GC mnemonic
//! that none of them contains.
//!
//! What it does not prove: that the printed result depends on each
//! occurrence (an instruction whose result a test ignored would still
//! count). The ISA guests are written to print what each instruction
//! computes, but that is by review, not by this check.

use crate::guests::{CC, build_cached};
use crate::util::{root, run_captured};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// The compressed (C) instructions, as objdump names them without aliases
/// (they decode to the base instructions of the core's table, so they are
/// listed here).
const RVC: &str = "
c.addi4spn c.fld c.lw c.ld c.fsd c.sw c.sd c.nop c.addi c.addiw c.li c.addi16sp c.lui c.srli
c.srai c.andi c.sub c.xor c.or c.and c.subw c.addw c.j c.beqz c.bnez c.slli c.fldsp c.lwsp
c.ldsp c.jr c.mv c.ebreak c.jalr c.add c.fsdsp c.swsp c.sdsp
";

/// Every RV64GC (IMAFDC + Zicsr + Zifencei) instruction, as objdump names
/// it without aliases: the core's instruction table
/// (`vm_core::decode::ALL`), `fence.tso` (a `fence` encoding objdump
/// names apart) and [`RVC`]. AMO and LR/SC ordering suffixes are stripped
/// before comparing.
fn rv64gc() -> Vec<&'static str> {
    let mut all: Vec<&str> = vm_core::decode::ALL
        .iter()
        .filter(|f| f.ext != vm_core::decode::Ext::Reserved)
        .map(|f| f.mnemonic)
        .collect();
    all.push("fence.tso");
    all.extend(RVC.split_whitespace());
    all
}

/// Strips `.aq`, `.rl`, `.aqrl` from atomics so variants count as the base.
fn base_mnemonic(m: &str) -> &str {
    for suffix in [".aqrl", ".aq", ".rl"] {
        if let Some(b) = m.strip_suffix(suffix) {
            return b;
        }
    }
    m
}

/// Mnemonics in objdump output: the third tab-separated field of lines
/// that hold an instruction.
fn mnemonics(objdump: &str) -> BTreeSet<String> {
    objdump
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            let addr = f.next()?;
            if !addr.trim_end().ends_with(':') {
                return None;
            }
            let _bytes = f.next()?;
            let m = f.next()?.trim();
            let operands = f.next().unwrap_or("").trim();
            // objdump prints c.nop as the c.addi it is an encoding of.
            if m == "c.addi" && operands == "zero,0" {
                return Some("c.nop".to_string());
            }
            (!m.is_empty()).then(|| base_mnemonic(m).to_string())
        })
        .collect()
}

/// Returns the RV64GC instructions no ISA test contains (Err on tool errors).
pub fn missing() -> Result<Vec<String>, String> {
    let dir = root().join("tests/guests");
    let mut srcs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            (name.starts_with("isa_") || name.starts_with("asm_"))
                && matches!(p.extension().and_then(|e| e.to_str()), Some("c" | "S"))
        })
        .collect();
    srcs.sort();
    let mut seen = BTreeSet::new();
    for src in &srcs {
        let stem = src.file_stem().unwrap().to_string_lossy();
        let obj = root()
            .join("tests/build/coverage")
            .join(format!("{stem}.o"));
        // Same -march as the test's own build: the ISA C tests force
        // 32-bit encodings with -march=rv64g.
        let text = std::fs::read_to_string(src).map_err(|e| e.to_string())?;
        let mut cmd: Vec<String> = vec![CC.into(), "-O2".into(), "-c".into()];
        if text.contains("-march=rv64g") {
            cmd.push("-march=rv64g".into());
        }
        cmd.push(format!("-I{}", dir.display()));
        cmd.push(src.display().to_string());
        build_cached(&cmd, src, &[dir.join("isa.h"), dir.join("rvasm.h")], &obj)?;
        let out = run_captured(
            Command::new("riscv64-linux-gnu-objdump")
                .args(["-d", "-M", "no-aliases"])
                .arg(&obj),
            b"",
            Duration::from_secs(60),
        )?;
        if out.status != 0 {
            return Err(format!("objdump {} failed", obj.display()));
        }
        seen.extend(mnemonics(&String::from_utf8_lossy(&out.stdout)));
    }
    Ok(rv64gc()
        .into_iter()
        .filter(|m| !seen.contains(*m))
        .map(String::from)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_objdump_lines() {
        let d = "   0:\t00a50533          \tadd\ta0,a0,a0\n   4:\t8082                \tc.jr\tra\n\
                 \x20  6:\t0c05302f          \tamoadd.d.aqrl\tzero,zero,(a0)\n0000 <f>:\n\
                 \x20  a:\t0001                \tc.addi\tzero,0\n";
        let m = mnemonics(d);
        assert!(m.contains("add") && m.contains("c.jr") && m.contains("amoadd.d"));
        assert!(m.contains("c.nop"));
        assert_eq!(m.len(), 4);
    }

    #[test]
    fn list_has_no_duplicates() {
        let all = rv64gc();
        let set: BTreeSet<&str> = all.iter().copied().collect();
        assert_eq!(all.len(), set.len());
        // RV64G has 156 instructions, and objdump names fence.tso apart.
        assert_eq!(all.len(), 157 + RVC.split_whitespace().count());
    }
}
