//! End-to-end checks of the `pvm` binary's command line, messages and exit
//! statuses. Guest programs are built with `riscv64-linux-gnu-gcc` (which
//! `cargo xtask setup` installs): a missing compiler fails the checks that
//! need it, naming it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pvm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pvm"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pvm-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Build a static RISC-V program from C source.
fn guest(dir: &Path, name: &str, src: &str) -> PathBuf {
    let c = dir.join(format!("{name}.c"));
    std::fs::write(&c, src).unwrap();
    let exe = dir.join(name);
    let status = Command::new("riscv64-linux-gnu-gcc")
        .args(["-O1", "-static", "-o"])
        .arg(&exe)
        .arg(&c)
        .status();
    match status {
        Ok(s) if s.success() => exe,
        Ok(s) => panic!("riscv64-linux-gnu-gcc could not build {name}: {s}"),
        Err(e) => {
            panic!("riscv64-linux-gnu-gcc is needed to build {name} (cargo xtask setup): {e}")
        }
    }
}

#[test]
fn load_errors_name_the_file() {
    let o = pvm().arg("/nonexistent/prog").output().unwrap();
    assert_eq!(o.status.code(), Some(127));
    let e = stderr(&o);
    assert!(e.starts_with("pvm: /nonexistent/prog: "), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");

    let dir = scratch("errors");
    let o = pvm().arg(&dir).output().unwrap();
    assert_eq!(o.status.code(), Some(126));
    assert_eq!(stderr(&o).lines().count(), 1);

    let text = dir.join("text");
    std::fs::write(&text, "just text\n").unwrap();
    let o = pvm().arg(&text).output().unwrap();
    assert_eq!(o.status.code(), Some(126));
    assert!(stderr(&o).starts_with(&format!("pvm: {}: ", text.display())));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn usage_errors() {
    assert_eq!(pvm().output().unwrap().status.code(), Some(2));
    let o = pvm().args(["--engine", "nope", "x"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn exit_status_args_env_and_strace() {
    let dir = scratch("run");
    let src = r#"
        #include <stdio.h>
        #include <stdlib.h>
        int main(int argc, char **argv) {
            for (int i = 1; i < argc; i++) printf("[%s]", argv[i]);
            const char *v = getenv("PVM_T"), *u = getenv("PVM_U");
            printf(" %s %s\n", v ? v : "-", u ? u : "-");
            return 42;
        }"#;
    let exe = guest(&dir, "args", src);
    let o = pvm()
        .args(["-E", "PVM_T=yes", "-U", "PVM_U", "--strace", "--stats"])
        .arg(&exe)
        .args(["-l", "--strace", "x y"])
        .env("PVM_U", "set")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(42));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "[-l][--strace][x y] yes -\n"
    );
    let e = stderr(&o);
    assert!(
        e.contains("write(1, \"[-l][--strace][x y] yes -\\n\", 26) = 26"),
        "{e}"
    );
    assert!(
        e.contains("exit_group(42) = ?\n+++ exited with 42 +++"),
        "{e}"
    );
    assert!(e.contains("pvm: instructions retired: "), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fatal_signals_are_reported() {
    let dir = scratch("signals");
    let src = r#"
        #include <stdlib.h>
        #include <string.h>
        int main(int argc, char **argv) {
            if (!strcmp(argv[1], "segv")) *(volatile int *)24 = 1;
            if (!strcmp(argv[1], "abort")) abort();
            if (!strcmp(argv[1], "ill")) __asm__ volatile(".word 0");
            return 0;
        }"#;
    let exe = guest(&dir, "sig", src);
    for (arg, code, name) in [
        ("segv", 139, "SIGSEGV (Segmentation fault)"),
        ("abort", 134, "SIGABRT (Aborted)"),
        ("ill", 132, "SIGILL (Illegal instruction)"),
    ] {
        let o = pvm().arg(&exe).arg(arg).output().unwrap();
        // pvm dies of the guest's signal, as the native program would (a
        // shell's status is 128 + signal).
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(o.status.signal(), Some(code - 128), "{arg}");
        let e = stderr(&o);
        let want = format!(
            "pvm: {}: guest terminated by signal {name} at pc 0x",
            exe.display()
        );
        assert!(e.starts_with(&want), "{e}");
        assert_eq!(e.lines().count(), 1, "{e}");
        if arg == "segv" {
            assert!(e.trim_end().ends_with(" fault address 0x18"), "{e}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A guest that prints its argv (argv[0] too) and two variables.
const ARGV_SRC: &str = r#"
    #include <stdio.h>
    #include <stdlib.h>
    int main(int argc, char **argv) {
        for (int i = 0; i < argc; i++) printf("[%s]", argv[i]);
        const char *v = getenv("PVM_T"), *u = getenv("PVM_U");
        printf(" %s %s\n", v ? v : "-", u ? u : "-");
        return 5;
    }"#;

#[test]
fn environment_equivalents_and_argv0() {
    let dir = scratch("envequiv");
    let exe = guest(&dir, "argv", ARGV_SRC);
    // PVM_SET_ENV / PVM_UNSET_ENV (qemu's QEMU_SET_ENV / QEMU_UNSET_ENV),
    // PVM_STATS; -0 sets argv[0].
    let o = pvm()
        .args(["-0", "-my-name"])
        .arg(&exe)
        .arg("a")
        .env("PVM_SET_ENV", "PVM_T=from-env,PVM_W=1")
        .env("PVM_UNSET_ENV", "PVM_U")
        .env("PVM_U", "set")
        .env("PVM_STATS", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "[-my-name][a] from-env -\n"
    );
    assert!(
        stderr(&o).contains("pvm: instructions retired: "),
        "{}",
        stderr(&o)
    );
    // The command line wins: -E over PVM_SET_ENV, and PVM_STATS=0 is off.
    let o = pvm()
        .args(["-E", "PVM_T=cli"])
        .arg(&exe)
        .env("PVM_SET_ENV", "PVM_T=from-env")
        .env("PVM_STATS", "0")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("[{}] cli -\n", exe.display())
    );
    assert!(!stderr(&o).contains("instructions retired"));
    // A limit from the environment (PVM_MAX_OUTPUT): the guest ends, 204.
    let o = pvm().arg(&exe).env("PVM_MAX_OUTPUT", "4").output().unwrap();
    assert_eq!(o.status.code(), Some(204), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_pvm_option_after_program_is_the_guests() {
    let dir = scratch("afterprog");
    let exe = guest(&dir, "argv", ARGV_SRC);
    // Every option `--help` lists, long and short, given after PROGRAM.
    let help = pvm().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let mut words: Vec<String> = Vec::new();
    for line in help.lines().skip_while(|l| !l.starts_with("Options:")) {
        for w in line.split([' ', ',']) {
            if w.starts_with('-') && w.len() > 1 && !w.contains('=') {
                words.push(w.to_string());
            }
        }
    }
    for w in [
        "-cpu", "-strace", "-version", "-help", "-d", "in_asm", "-g", "1",
    ] {
        words.push(w.into());
    }
    assert!(
        words.iter().any(|w| w == "--gdb") && words.len() > 30,
        "{words:?}"
    );
    let o = pvm().arg(&exe).args(&words).output().unwrap();
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    let want: String = std::iter::once(exe.display().to_string())
        .chain(words.iter().cloned())
        .map(|w| format!("[{w}]"))
        .collect();
    assert_eq!(String::from_utf8_lossy(&o.stdout), format!("{want} - -\n"));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cpu_help_and_proc_cpuinfo_agree() {
    let dir = scratch("cpuinfo");
    let src = r#"
        #include <stdio.h>
        #include <string.h>
        int main(void) {
            char line[512];
            FILE *f = fopen("/proc/cpuinfo", "r");
            if (!f) return 1;
            while (fgets(line, sizeof line, f))
                if (strncmp(line, "isa", 3) == 0) { fputs(strchr(line, ':') + 2, stdout); break; }
            return 0;
        }"#;
    let exe = guest(&dir, "isa", src);
    let o = pvm().args(["-cpu", "rv64"]).arg(&exe).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let isa = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let help = pvm().args(["-cpu", "help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    // `rv64    RV64GC (ISA): I, M, A, ...`: the same ISA string, and each
    // multi-letter extension of it listed by name.
    assert!(help.contains(&format!("({isa})")), "{help:?} vs {isa:?}");
    assert!(isa.starts_with("rv64imafdc_"), "{isa}");
    for ext in isa.split('_').skip(1) {
        assert!(
            help.to_lowercase().contains(&format!(" {ext}")),
            "{ext} of {isa} not listed in {help:?}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
