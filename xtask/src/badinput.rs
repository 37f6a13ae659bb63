//! Bad-input cases for the loader: files pvm must refuse cleanly.
//!
//! The files are made here, byte by byte, from one minimal valid RV64 ELF
//! (which must itself run and exit 42 under both qemu-riscv64 and pvm, so a
//! refusal of a mutant is known to come from the mutation). Each bad case
//! must end with status 126 (127 when the file does not exist), exactly one
//! line on stderr that names the file, and no panic.

use crate::suite::{Outcome, Runner, pvm_binary};
use crate::util::{run_captured, show};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const EM_RISCV: u16 = 243;
const EM_AARCH64: u16 = 183;
const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const BASE: u64 = 0x10000;

/// `li a0, 42; li a7, 93; ecall`: exit(42).
const EXIT42: [u32; 3] = [0x02a0_0513, 0x05d0_0893, 0x0000_0073];

/// A program header, in the ELF64 field order.
#[derive(Clone, Copy)]
struct Phdr {
    p_type: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
    align: u64,
}

/// An ELF64 image description that `emit` turns into bytes.
#[derive(Clone)]
struct Elf {
    class64: bool,
    big_endian: bool,
    e_type: u16,
    machine: u16,
    entry: u64,
    phoff: u64,
    phentsize: u16,
    phnum: Option<u16>,
    phdrs: Vec<Phdr>,
    /// Bytes appended after the headers (code, interpreter path).
    payload: Vec<u8>,
}

struct W {
    v: Vec<u8>,
    be: bool,
}

impl W {
    fn n(&mut self, x: u64, size: usize) {
        let b = x.to_le_bytes();
        if self.be {
            self.v.extend(b[..size].iter().rev());
        } else {
            self.v.extend(&b[..size]);
        }
    }
}

impl Elf {
    fn ehsize(&self) -> u64 {
        if self.class64 { 64 } else { 52 }
    }

    /// Where the payload starts in the file for the standard layout.
    fn payload_offset(&self) -> u64 {
        self.ehsize() + self.phentsize as u64 * self.phdrs.len() as u64
    }

    /// The minimal valid executable: one R+X PT_LOAD covering the whole file
    /// and one RW bss segment, entry at the exit(42) code.
    fn valid() -> Elf {
        let mut e = Elf {
            class64: true,
            big_endian: false,
            e_type: 2,
            machine: EM_RISCV,
            entry: 0,
            phoff: 64,
            phentsize: 56,
            phnum: None,
            phdrs: Vec::new(),
            payload: EXIT42.iter().flat_map(|w| w.to_le_bytes()).collect(),
        };
        e.phdrs = vec![
            Phdr {
                p_type: PT_LOAD,
                flags: 5,
                offset: 0,
                vaddr: BASE,
                filesz: 0,
                memsz: 0,
                align: 0x1000,
            },
            Phdr {
                p_type: PT_LOAD,
                flags: 6,
                offset: 0,
                vaddr: BASE + 0x10000,
                filesz: 0,
                memsz: 0x1000,
                align: 0x1000,
            },
        ];
        e.fix_sizes();
        e
    }

    /// Recomputes the text segment's size and the entry for the layout.
    fn fix_sizes(&mut self) {
        let total = self.payload_offset() + self.payload.len() as u64;
        self.phdrs[0].filesz = total;
        self.phdrs[0].memsz = total;
        self.entry = BASE + self.payload_offset();
    }

    fn emit(&self) -> Vec<u8> {
        let mut w = W {
            v: Vec::new(),
            be: self.big_endian,
        };
        w.v.extend(b"\x7fELF");
        w.v.push(if self.class64 { 2 } else { 1 });
        w.v.push(if self.big_endian { 2 } else { 1 });
        w.v.push(1);
        w.v.resize(16, 0);
        let word = if self.class64 { 8 } else { 4 };
        w.n(self.e_type as u64, 2);
        w.n(self.machine as u64, 2);
        w.n(1, 4);
        w.n(self.entry, word);
        w.n(self.phoff, word);
        w.n(0, word); // e_shoff
        w.n(5, 4); // e_flags: RVC, double-float ABI
        w.n(self.ehsize(), 2);
        w.n(self.phentsize as u64, 2);
        w.n(self.phnum.unwrap_or(self.phdrs.len() as u16) as u64, 2);
        w.n(64, 2);
        w.n(0, 2);
        w.n(0, 2);
        for p in &self.phdrs {
            if self.class64 {
                w.n(p.p_type as u64, 4);
                w.n(p.flags as u64, 4);
                w.n(p.offset, 8);
                w.n(p.vaddr, 8);
                w.n(p.vaddr, 8);
                w.n(p.filesz, 8);
                w.n(p.memsz, 8);
                w.n(p.align, 8);
            } else {
                w.n(p.p_type as u64, 4);
                w.n(p.offset, 4);
                w.n(p.vaddr, 4);
                w.n(p.vaddr, 4);
                w.n(p.filesz, 4);
                w.n(p.memsz, 4);
                w.n(p.flags as u64, 4);
                w.n(p.align, 4);
            }
        }
        w.v.extend(&self.payload);
        w.v
    }
}

/// A valid image whose first segment also carries a PT_INTERP naming `path`.
fn with_interp(path: &str) -> Elf {
    let mut e = Elf::valid();
    let code_len = e.payload.len() as u64;
    e.payload.extend(path.as_bytes());
    e.payload.push(0);
    e.phdrs.insert(
        0,
        Phdr {
            p_type: PT_INTERP,
            flags: 4,
            offset: 0,
            vaddr: 0,
            filesz: path.len() as u64 + 1,
            memsz: path.len() as u64 + 1,
            align: 1,
        },
    );
    e.fix_sizes_after_insert(code_len);
    e
}

impl Elf {
    fn fix_sizes_after_insert(&mut self, code_len: u64) {
        let off = self.payload_offset();
        let total = off + self.payload.len() as u64;
        let interp_off = off + code_len;
        for p in &mut self.phdrs {
            match p.p_type {
                PT_INTERP => {
                    p.offset = interp_off;
                    p.vaddr = BASE + interp_off;
                }
                PT_LOAD if p.flags == 5 => {
                    p.filesz = total;
                    p.memsz = total;
                }
                _ => {}
            }
        }
        self.entry = BASE + off;
    }
}

/// What a bad-input case feeds pvm.
enum Input {
    Bytes(Vec<u8>),
    /// A path used as is (a directory, a host binary, a missing file).
    Path(PathBuf),
    /// A program plus a sysroot holding `files` (name, bytes).
    WithSysroot(Vec<u8>, Vec<(&'static str, Vec<u8>)>),
}

struct BadCase {
    name: &'static str,
    input: Input,
    status: i32,
}

fn cases(scratch: &Path) -> Vec<BadCase> {
    let v = Elf::valid();
    let bytes = v.emit();
    let mutate = |f: &dyn Fn(&mut Elf)| {
        let mut e = Elf::valid();
        f(&mut e);
        e.emit()
    };
    let mut rv32 = Elf::valid();
    rv32.class64 = false;
    rv32.phoff = 52;
    rv32.phentsize = 32;
    rv32.fix_sizes();
    let mut big = Elf::valid();
    big.big_endian = true;
    let bad = |name, b: Vec<u8>| BadCase {
        name,
        input: Input::Bytes(b),
        status: 126,
    };
    vec![
        BadCase {
            name: "missing-file",
            input: Input::Path(scratch.join("no-such-program")),
            status: 127,
        },
        BadCase {
            name: "directory",
            input: Input::Path(scratch.to_path_buf()),
            status: 126,
        },
        BadCase {
            name: "x86-64-elf",
            input: Input::Path("/bin/true".into()),
            status: 126,
        },
        bad("empty-file", Vec::new()),
        bad("text-file", b"this is not an ELF file\n".to_vec()),
        bad("elf-magic-only", b"\x7fELF".to_vec()),
        bad("aarch64-elf", mutate(&|e| e.machine = EM_AARCH64)),
        bad("rv32-elf", rv32.emit()),
        bad("big-endian-elf", big.emit()),
        bad("relocatable-elf", mutate(&|e| e.e_type = 1)),
        bad("core-elf", mutate(&|e| e.e_type = 4)),
        bad("truncated-ehdr", bytes[..40].to_vec()),
        bad("truncated-phdrs", bytes[..64 + 30].to_vec()),
        bad("phdrs-out-of-file", mutate(&|e| e.phoff = 0x10_0000)),
        bad("phnum-huge", mutate(&|e| e.phnum = Some(0xffff))),
        bad("phnum-zero", mutate(&|e| e.phnum = Some(0))),
        bad("phentsize-wrong", mutate(&|e| e.phentsize = 32)),
        bad(
            "segment-out-of-file",
            mutate(&|e| e.phdrs[0].offset = 0x10_0000),
        ),
        bad(
            "segment-offset-overflow",
            mutate(&|e| e.phdrs[0].offset = u64::MAX - 8),
        ),
        bad(
            "filesz-exceeds-memsz",
            mutate(&|e| {
                e.phdrs[1].filesz = 16;
                e.phdrs[1].memsz = 8;
            }),
        ),
        bad("overlapping-segments", mutate(&|e| e.phdrs[1].vaddr = BASE)),
        bad("absurd-memsz", mutate(&|e| e.phdrs[1].memsz = 1 << 60)),
        bad(
            "absurd-vaddr",
            mutate(&|e| e.phdrs[1].vaddr = 0xffff_ffff_ffff_0000),
        ),
        bad(
            "vaddr-wraps",
            mutate(&|e| {
                e.phdrs[1].vaddr = !0xfff;
                e.phdrs[1].memsz = 0x3000;
            }),
        ),
        BadCase {
            name: "missing-interpreter",
            input: Input::WithSysroot(with_interp("/lib/ld-missing.so.1").emit(), Vec::new()),
            status: 126,
        },
        BadCase {
            name: "interpreter-not-elf",
            input: Input::WithSysroot(
                with_interp("/lib/ld-text.so.1").emit(),
                vec![("lib/ld-text.so.1", b"not an interpreter\n".to_vec())],
            ),
            status: 126,
        },
        BadCase {
            name: "interpreter-path-unterminated",
            input: Input::Bytes({
                let mut e = with_interp("/lib/ld-x.so.1");
                e.phdrs[0].filesz -= 1;
                e.emit()
            }),
            status: 126,
        },
        BadCase {
            name: "interpreter-path-out-of-file",
            input: Input::Bytes(mutate(&|e| {
                e.phdrs.insert(
                    0,
                    Phdr {
                        p_type: PT_INTERP,
                        flags: 4,
                        offset: 0,
                        vaddr: 0,
                        filesz: 16,
                        memsz: 16,
                        align: 1,
                    },
                );
                e.fix_sizes_after_insert(12);
                e.phdrs[0].offset = 0x10_0000;
            })),
            status: 126,
        },
    ]
}

fn write_exec(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())
}

/// Judges one refusal: status, a single stderr line naming the file, no panic.
fn judge(out: &crate::util::Captured, want_status: i32, names: &[String]) -> Result<(), String> {
    let err = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    if out.status != want_status {
        problems.push(format!(
            "exit status {} (expected {want_status})",
            out.status
        ));
    }
    if err.contains("panicked") {
        problems.push("panicked".into());
    }
    let lines = err.lines().filter(|l| !l.trim().is_empty()).count();
    if lines != 1 {
        problems.push(format!("{lines} lines on stderr (expected exactly one)"));
    }
    if !names.iter().any(|n| err.contains(n.as_str())) {
        problems.push(format!("stderr does not name {}", names.join(" or ")));
    }
    if !out.stdout.is_empty() {
        problems.push("wrote to stdout".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n      stderr was: {}",
            problems.join("; "),
            show(&out.stderr, 400).trim_end()
        ))
    }
}

/// Runs the control and every bad case under each pvm runner.
pub fn run(runners: &[Runner]) -> Vec<Outcome> {
    let scratch = std::env::temp_dir().join(format!("pvm-badinput-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    let mut out = Vec::new();
    if let Err(e) = fs::create_dir_all(&scratch) {
        out.push(Outcome {
            runner: "setup".into(),
            case: "badinput".into(),
            result: Err(e.to_string()),
        });
        return out;
    }
    let timeout = Duration::from_secs(30);
    // The control: the unmutated image must run under both qemu and pvm.
    let control = scratch.join("valid-exit42");
    let setup = write_exec(&control, &Elf::valid().emit());
    let mut all: Vec<Runner> = vec![Runner::Qemu];
    all.extend(
        runners
            .iter()
            .filter(|r| matches!(r, Runner::Pvm(_)))
            .cloned(),
    );
    for r in &all {
        let mut cmd = match r {
            Runner::Qemu => Command::new("qemu-riscv64"),
            Runner::Pvm(e) => {
                let mut c = Command::new(pvm_binary());
                c.args(crate::suite::engine_args(e));
                c
            }
            Runner::Baremetal(_) => continue,
        };
        cmd.arg(&control);
        let res = setup
            .clone()
            .and_then(|_| run_captured(&mut cmd, b"", timeout))
            .and_then(|o| {
                if o.status == 42 && o.stdout.is_empty() {
                    Ok(None)
                } else {
                    Err(format!(
                        "status {} (expected 42), stderr: {}",
                        o.status,
                        show(&o.stderr, 300).trim_end()
                    ))
                }
            });
        out.push(Outcome {
            runner: r.label(),
            case: "badinput.control-valid-elf".into(),
            result: res,
        });
    }
    for case in cases(&scratch) {
        let dir = scratch.join(case.name);
        let _ = fs::create_dir_all(&dir);
        let mut sysroot = None;
        let prog = match &case.input {
            Input::Path(p) => Ok(p.clone()),
            Input::Bytes(b) => {
                let p = dir.join(case.name);
                write_exec(&p, b).map(|_| p)
            }
            Input::WithSysroot(b, files) => {
                let root = dir.join("sysroot");
                let p = dir.join(case.name);
                let mut r = write_exec(&p, b);
                for (name, content) in files {
                    let f = root.join(name);
                    let _ = fs::create_dir_all(f.parent().unwrap());
                    r = r.and_then(|_| write_exec(&f, content));
                }
                let _ = fs::create_dir_all(&root);
                sysroot = Some(root);
                r.map(|_| p)
            }
        };
        for r in runners {
            let Runner::Pvm(engine) = r else { continue };
            let res = prog.clone().and_then(|p| {
                let mut cmd = Command::new(pvm_binary());
                cmd.args(crate::suite::engine_args(engine));
                let mut names = vec![p.display().to_string()];
                if let Some(s) = &sysroot {
                    cmd.arg("-L").arg(s);
                    names.push(s.display().to_string());
                }
                cmd.arg(&p);
                run_captured(&mut cmd, b"", timeout).and_then(|o| judge(&o, case.status, &names))
            });
            if let Err(e) = &res {
                eprintln!("FAIL badinput.{} [{}]\n      {e}", case.name, r.label());
            }
            out.push(Outcome {
                runner: r.label(),
                case: format!("badinput.{}", case.name),
                result: res.map(|_| None),
            });
        }
    }
    let _ = fs::remove_dir_all(&scratch);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(err: &str, status: i32) -> crate::util::Captured {
        crate::util::Captured {
            stdout: Vec::new(),
            stderr: err.into(),
            status,
            ..Default::default()
        }
    }

    #[test]
    fn judge_wants_one_line_naming_the_file() {
        let names = vec!["/x/prog".to_string()];
        assert!(judge(&cap("pvm: /x/prog: not an ELF file\n", 126), 126, &names).is_ok());
        assert!(judge(&cap("pvm: /x/prog: not an ELF file\n", 1), 126, &names).is_err());
        assert!(judge(&cap("pvm: not an ELF file\n", 126), 126, &names).is_err());
        assert!(judge(&cap("pvm: /x/prog: bad\nmore\n", 126), 126, &names).is_err());
        assert!(judge(&cap("", 126), 126, &names).is_err());
        assert!(judge(&cap("/x/prog: panicked at src/x.rs\n", 126), 126, &names).is_err());
    }

    #[test]
    fn valid_image_layout() {
        let b = Elf::valid().emit();
        assert_eq!(&b[..4], b"\x7fELF");
        assert_eq!(b.len(), 64 + 2 * 56 + 12);
        // e_entry points at the code right after the headers.
        assert_eq!(
            u64::from_le_bytes(b[24..32].try_into().unwrap()),
            BASE + 176
        );
        assert_eq!(
            u32::from_le_bytes(b[176..180].try_into().unwrap()),
            EXIT42[0]
        );
    }

    #[test]
    fn rv32_and_big_endian_headers() {
        let mut e = Elf::valid();
        e.class64 = false;
        e.phentsize = 32;
        e.phoff = 52;
        let b = e.emit();
        assert_eq!(b[4], 1);
        assert_eq!(u16::from_le_bytes([b[18], b[19]]), EM_RISCV);
        let mut e = Elf::valid();
        e.big_endian = true;
        let b = e.emit();
        assert_eq!(b[5], 2);
        assert_eq!(u16::from_be_bytes([b[18], b[19]]), EM_RISCV);
    }

    #[test]
    fn interp_segment_points_at_path() {
        let b = with_interp("/x").emit();
        let off = u64::from_le_bytes(b[64 + 8..64 + 16].try_into().unwrap()) as usize;
        assert_eq!(&b[off..off + 3], b"/x\0");
    }
}
