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

/// Every RV64GC (IMAFDC + Zicsr + Zifencei) instruction, as objdump names
/// it without aliases. AMO and LR/SC ordering suffixes are stripped before
/// comparing.
const RV64GC: &str = "
lui auipc jal jalr beq bne blt bge bltu bgeu lb lh lw lbu lhu lwu ld sb sh sw sd
addi slti sltiu xori ori andi slli srli srai add sub sll slt sltu xor srl sra or and
fence fence.tso fence.i ecall ebreak addiw slliw srliw sraiw addw subw sllw srlw sraw
mul mulh mulhsu mulhu div divu rem remu mulw divw divuw remw remuw
lr.w sc.w amoswap.w amoadd.w amoxor.w amoand.w amoor.w amomin.w amomax.w amominu.w amomaxu.w
lr.d sc.d amoswap.d amoadd.d amoxor.d amoand.d amoor.d amomin.d amomax.d amominu.d amomaxu.d
flw fsw fmadd.s fmsub.s fnmsub.s fnmadd.s fadd.s fsub.s fmul.s fdiv.s fsqrt.s fsgnj.s fsgnjn.s
fsgnjx.s fmin.s fmax.s fcvt.w.s fcvt.wu.s fmv.x.w feq.s flt.s fle.s fclass.s fcvt.s.w fcvt.s.wu
fmv.w.x fcvt.l.s fcvt.lu.s fcvt.s.l fcvt.s.lu
fld fsd fmadd.d fmsub.d fnmsub.d fnmadd.d fadd.d fsub.d fmul.d fdiv.d fsqrt.d fsgnj.d fsgnjn.d
fsgnjx.d fmin.d fmax.d fcvt.s.d fcvt.d.s feq.d flt.d fle.d fclass.d fcvt.w.d fcvt.wu.d fcvt.d.w
fcvt.d.wu fcvt.l.d fcvt.lu.d fmv.x.d fcvt.d.l fcvt.d.lu fmv.d.x
csrrw csrrs csrrc csrrwi csrrsi csrrci
c.addi4spn c.fld c.lw c.ld c.fsd c.sw c.sd c.nop c.addi c.addiw c.li c.addi16sp c.lui c.srli
c.srai c.andi c.sub c.xor c.or c.and c.subw c.addw c.j c.beqz c.bnez c.slli c.fldsp c.lwsp
c.ldsp c.jr c.mv c.ebreak c.jalr c.add c.fsdsp c.swsp c.sdsp
";

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
    Ok(RV64GC
        .split_whitespace()
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
        let all: Vec<&str> = RV64GC.split_whitespace().collect();
        let set: BTreeSet<&str> = all.iter().copied().collect();
        assert_eq!(all.len(), set.len());
    }
}
