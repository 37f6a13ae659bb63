//! `pvm binfmt --print|--install|--uninstall`: registering pvm with the
//! kernel's binfmt_misc, so that RISC-V 64 programs run by name.
//!
//! The registration matches the first 20 bytes of an ELF header: class
//! ELF64, little-endian, version 1, any OS ABI (masked), `e_type` 2 or 3
//! (`ET_EXEC` and `ET_DYN`: the mask's `0xfe` drops the low bit), machine
//! 243 (`EM_RISCV`). The interpreter is this pvm, by absolute path.
//!
//! Flags `FP`. `F` ("fix binary") makes the kernel open pvm once, at
//! registration, and use that open file for every launch: RISC-V programs
//! then also run inside containers and chroots where pvm's path does not
//! exist. `P` ("preserve argv[0]") keeps the program's own argv[0]: the
//! kernel starts `pvm PATH ARGV0 ARGS...` and sets bit 0 of `AT_FLAGS`
//! (`AT_FLAGS_PRESERVE_ARGV0`, Linux 5.12 and later) in pvm's auxv, which
//! pvm reads at start ([`launch_args`]) and then runs PATH with the guest
//! argv `ARGV0 ARGS...`, as the program would get natively (a login
//! shell's `-bash`, a multi-call binary's applet name). Without `P` the
//! kernel starts `pvm PATH ARGS...` and the program's argv[0] is its path.
//!
//! A binfmt launch passes no options: the sysroot comes from
//! `PVM_SYSROOT` or a config file (see [`crate::cli::config_sysroot`]), the
//! rest from the `PVM_*` environment variables.

use std::ffi::OsString;
use std::path::Path;

/// The name of the registration (`/proc/sys/fs/binfmt_misc/<NAME>`).
pub const NAME: &str = "pvm-riscv64";
const DIR: &str = "/proc/sys/fs/binfmt_misc";

/// ELF64 LSB, version 1, OS ABI (masked), padding, `e_type` ET_EXEC/ET_DYN,
/// `e_machine` EM_RISCV.
pub const MAGIC: [u8; 20] = [
    0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0xf3, 0,
];
pub const MASK: [u8; 20] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xfe, 0xff, 0xff, 0xff,
];

fn escaped(b: &[u8]) -> String {
    b.iter().map(|x| format!("\\x{x:02x}")).collect()
}

/// The line to write into `register` for the interpreter at `pvm`.
pub fn registration(pvm: &Path) -> String {
    format!(
        ":{NAME}:M::{}:{}:{}:FP",
        escaped(&MAGIC),
        escaped(&MASK),
        pvm.display()
    )
}

#[cfg(test)]
/// Does `header` (a file's first bytes) match the registration?
pub fn matches(header: &[u8]) -> bool {
    header.len() >= MAGIC.len()
        && MAGIC
            .iter()
            .zip(MASK.iter())
            .zip(header)
            .all(|((m, k), h)| h & k == m & k)
}

pub use vm_core::abi::AT_FLAGS_PRESERVE_ARGV0;

/// pvm's command line for its own argv `args`, given its `AT_FLAGS`: with
/// [`AT_FLAGS_PRESERVE_ARGV0`] pvm was started by binfmt_misc's `P` flag
/// as `pvm PATH ARGV0 ARGS...` (no options: they come from `PVM_*`), which
/// becomes `pvm --argv0=ARGV0 -- PATH ARGS...`; otherwise `args` as they
/// are. A launch with no ARGV0 (an `execve` with an empty argv on a kernel
/// that allows it) gets an empty one, as Linux 5.18+ gives such a program.
pub fn launch_args(at_flags: u64, args: Vec<OsString>) -> Vec<OsString> {
    if at_flags & AT_FLAGS_PRESERVE_ARGV0 == 0 || args.len() < 2 {
        return args;
    }
    let mut it = args.into_iter();
    let pvm = it.next().unwrap_or_default();
    let program = it.next().unwrap_or_default();
    let mut argv0 = OsString::from("--argv0=");
    argv0.push(it.next().unwrap_or_default());
    let mut out = vec![pvm, argv0, "--".into(), program];
    out.extend(it);
    out
}

const USAGE: &str = "usage: pvm binfmt --print|--install|--uninstall";

/// `pvm binfmt ...`; the exit status.
pub fn main(args: &[std::ffi::OsString]) -> i32 {
    let args: Vec<&str> = args.iter().map(|a| a.to_str().unwrap_or("")).collect();
    let pvm = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("pvm binfmt: cannot find pvm's own path: {e}");
            return 1;
        }
    };
    match args[..] {
        ["--print"] => {
            println!("{}", registration(&pvm));
            println!(
                "# write that line into {DIR}/register (as root) to run RISC-V 64 programs by name;"
            );
            println!(
                "# F: the kernel opens {} now and uses it for every launch (works in containers and chroots).",
                pvm.display()
            );
            println!(
                "# P: the program keeps its own argv[0] (the kernel passes it after the program's path and sets AT_FLAGS_PRESERVE_ARGV0, Linux 5.12+)."
            );
            println!(
                "# The sysroot comes from PVM_SYSROOT or `sysroot = DIR` in /etc/pvm.conf or $XDG_CONFIG_HOME/pvm/config."
            );
            0
        }
        ["--install"] => write(
            &format!("{DIR}/register"),
            &registration(&pvm),
            &format!(
                "registered {NAME}: RISC-V 64 programs now run through {}",
                pvm.display()
            ),
        ),
        ["--uninstall"] => write(&format!("{DIR}/{NAME}"), "-1", &format!("removed {NAME}")),
        _ => {
            eprintln!("{USAGE}");
            2
        }
    }
}

fn write(path: &str, what: &str, done: &str) -> i32 {
    if !Path::new(DIR).join("register").exists() {
        eprintln!(
            "pvm binfmt: {DIR} is not mounted (as root: mount -t binfmt_misc binfmt_misc {DIR})"
        );
        return 1;
    }
    match std::fs::write(path, what) {
        Ok(()) => {
            println!("{done}");
            0
        }
        Err(e) => {
            eprintln!("pvm binfmt: cannot write {path}: {e} (needs root and a writable {DIR})");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rv64_headers_match() {
        let mut h = MAGIC.to_vec();
        assert!(matches(&h));
        h[16] = 3; // ET_DYN
        assert!(matches(&h));
        h[7] = 3; // OS ABI: GNU/Linux
        assert!(matches(&h));
        h[16] = 1; // ET_REL
        assert!(!matches(&h));
        h[16] = 2;
        h[18] = 0x3e; // x86-64
        assert!(!matches(&h));
        h[18] = 0xf3;
        h[4] = 1; // ELF32
        assert!(!matches(&h));
        let line = registration(Path::new("/usr/bin/pvm"));
        assert!(line.starts_with(":pvm-riscv64:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00"));
        assert!(line.ends_with(":/usr/bin/pvm:FP"));
    }

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn preserved_argv0_becomes_the_guests() {
        use clap::Parser;
        // binfmt_misc with P: pvm, the program's path, its argv[0], args;
        // words that look like options are the guest's.
        let argv = os(&["/usr/bin/pvm", "/bin/rv", "-bash", "--help", "-0", "x"]);
        let line = launch_args(AT_FLAGS_PRESERVE_ARGV0, argv.clone());
        let c = crate::cli::Cli::try_parse_from(crate::cli::qemu_spellings(line)).unwrap();
        assert_eq!(c.program(), "/bin/rv");
        assert_eq!(c.argv0.as_deref(), Some(std::ffi::OsStr::new("-bash")));
        assert_eq!(c.args(), os(&["--help", "-0", "x"]));
        assert!(c.help.is_none());
        // Other AT_FLAGS bits, or none: a direct launch, left alone (the
        // program's argv[0] is then its path, as binfmt_misc without P).
        assert_eq!(launch_args(0, argv.clone()), argv);
        assert_eq!(launch_args(2, argv.clone()), argv);
        // No argv[0] at all: an empty one.
        let line = launch_args(1, os(&["pvm", "/p"]));
        let c = crate::cli::Cli::try_parse_from(line).unwrap();
        assert_eq!(c.argv0.as_deref(), Some(std::ffi::OsStr::new("")));
        assert!(c.args().is_empty());
        // A program named like pvm's own commands is the program.
        let line = launch_args(1, os(&["pvm", "binfmt", "binfmt", "--print"]));
        assert_eq!(line[1], "--argv0=binfmt");
        let c = crate::cli::Cli::try_parse_from(line).unwrap();
        assert_eq!(
            (c.program().to_str(), c.args()),
            (Some("binfmt"), &os(&["--print"])[..])
        );
        // Nothing after pvm: left to the usage error.
        assert_eq!(launch_args(1, os(&["pvm"])), os(&["pvm"]));
    }
}
