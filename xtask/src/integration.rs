//! pvm as a qemu-user replacement: `binfmt --print` (and `--install` /
//! `--uninstall` where the kernel allows), shell completions, the
//! `-d`/`-D` logs under both engines, the `PVM_*` environment
//! equivalents, `-cpu`, `--version` and `--help`.

use crate::suite::{Outcome, pvm_binary};
use crate::util::{root, run_captured, show};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The guest these checks run (built by `crate::gdbtest`).
fn guest(link: &str) -> std::path::PathBuf {
    root().join(format!("tests/build/gdb/gdbprog.{link}"))
}

fn pvm(args: &[&str], env: &[(&str, &str)]) -> Result<crate::util::Captured, String> {
    let mut cmd = Command::new(pvm_binary());
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_captured(&mut cmd, b"", Duration::from_secs(60))
}

/// The guest ran normally: "sum=55" and status 3.
fn ran(c: &crate::util::Captured) -> Result<(), String> {
    if c.stdout != b"sum=55\n" || c.status != 3 {
        return Err(format!(
            "guest printed {:?} and ended with {} (want \"sum=55\" and 3); stderr: {}",
            show(&c.stdout, 200),
            c.status,
            show(&c.stderr, 400)
        ));
    }
    Ok(())
}

/// One check: pass (`None`), skipped with a reason, or failed.
type Check = fn() -> Result<Option<String>, String>;

pub fn run() -> Vec<Outcome> {
    let checks: Vec<(&str, Check)> = vec![
        ("binfmt-print", binfmt_print),
        ("binfmt-install", binfmt_install),
        ("completions", completions),
        ("logs", logs),
        ("environment", environment),
        ("cpu-version-help", cpu_version_help),
    ];
    let mut out = Vec::new();
    for (case, f) in checks {
        let r = f();
        match &r {
            Err(e) => eprintln!("FAIL {case} [integration]\n      {e}"),
            Ok(Some(why)) => println!("skip {case} [integration]: {why}"),
            Ok(None) => println!("ok   {case} [integration]"),
        }
        out.push(Outcome {
            runner: "integration".into(),
            case: case.into(),
            result: r,
        });
    }
    out
}

/// Un-escape the kernel's `\xNN` notation.
fn unescape(s: &str) -> Option<Vec<u8>> {
    s.split("\\x")
        .skip(1)
        .map(|h| u8::from_str_radix(h, 16).ok())
        .collect()
}

fn binfmt_print() -> Result<Option<String>, String> {
    let c = pvm(&["binfmt", "--print"], &[])?;
    let text = String::from_utf8_lossy(&c.stdout).into_owned();
    let line = text.lines().next().unwrap_or("");
    let f: Vec<&str> = line.split(':').collect();
    // :name:type:offset:magic:mask:interpreter:flags
    if c.status != 0 || f.len() != 8 || f[1] != "pvm-riscv64" || f[2] != "M" || f[7] != "FP" {
        return Err(format!(
            "bad registration line {line:?} (status {})",
            c.status
        ));
    }
    let pvm_path = std::fs::canonicalize(pvm_binary()).map_err(|e| e.to_string())?;
    if Path::new(f[6]) != pvm_path {
        return Err(format!(
            "interpreter {:?}, want {}",
            f[6],
            pvm_path.display()
        ));
    }
    let (Some(magic), Some(mask)) = (unescape(f[4]), unescape(f[5])) else {
        return Err(format!("magic or mask not in \\xNN form: {line:?}"));
    };
    if magic.len() != mask.len() || magic.len() < 20 {
        return Err("magic and mask must cover the 20 bytes up to e_machine".into());
    }
    let matches = |file: &Path| -> Result<bool, String> {
        let data = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        Ok(data.len() >= magic.len()
            && magic
                .iter()
                .zip(&mask)
                .zip(&data)
                .all(|((m, k), d)| d & k == m & k))
    };
    // RV64 ET_EXEC and ET_DYN (PIE) match; an x86-64 program does not.
    for link in ["static", "dynamic"] {
        if !matches(&guest(link))? {
            return Err(format!("the {link} RISC-V guest does not match {line:?}"));
        }
    }
    if matches(&pvm_path)? {
        return Err("pvm itself (x86-64) matches the registration".into());
    }
    if !text.contains("F:") || !text.contains("P:") || !text.contains("PVM_SYSROOT") {
        return Err(format!(
            "--print does not explain F, P and the sysroot: {text:?}"
        ));
    }
    let bad = pvm(&["binfmt", "--bogus"], &[])?;
    if bad.status != 2 {
        return Err(format!(
            "pvm binfmt --bogus ended with {}, want 2",
            bad.status
        ));
    }
    Ok(None)
}

fn binfmt_install() -> Result<Option<String>, String> {
    let reg = Path::new("/proc/sys/fs/binfmt_misc/register");
    let writable = std::fs::OpenOptions::new().write(true).open(reg).is_ok();
    if !writable {
        // pvm must say so clearly, and fail.
        let c = pvm(&["binfmt", "--install"], &[])?;
        let err = String::from_utf8_lossy(&c.stderr);
        if c.status == 0 || !err.contains("binfmt_misc") {
            return Err(format!(
                "--install without a writable binfmt_misc: status {}, stderr {err:?}",
                c.status
            ));
        }
        return Ok(Some(
            "/proc/sys/fs/binfmt_misc/register is not writable here".into(),
        ));
    }
    let c = pvm(&["binfmt", "--install"], &[])?;
    if c.status != 0 {
        return Err(format!("--install failed: {}", show(&c.stderr, 400)));
    }
    // Now the RISC-V program runs by name (sysroot from PVM_SYSROOT).
    let r = run_captured(
        Command::new(guest("dynamic")).env("PVM_SYSROOT", crate::guests::SYSROOT),
        b"",
        Duration::from_secs(60),
    );
    // With `P` the program keeps its own argv[0] (not its path), and
    // its arguments follow unchanged.
    let hello = root().join("tests/build/hello.static");
    let argv0 = {
        use std::os::unix::process::CommandExt;
        run_captured(
            Command::new(&hello)
                .arg0("other-name")
                .args(["--help", "b"]),
            b"",
            Duration::from_secs(60),
        )
    };
    let u = pvm(&["binfmt", "--uninstall"], &[])?;
    ran(&r?)?;
    let argv0 = argv0?;
    let want =
        "hello, world\nargc=3\nargv[1]=\"--help\"\nargv[2]=\"b\"\nargv[0] ends with hello: no\n";
    if argv0.stdout != want.as_bytes() || argv0.status != 0 {
        return Err(format!(
            "{} run by name with argv[0] \"other-name\" printed {:?} and ended with {} (want {want:?})",
            hello.display(),
            show(&argv0.stdout, 300),
            argv0.status
        ));
    }
    if u.status != 0 {
        return Err(format!("--uninstall failed: {}", show(&u.stderr, 400)));
    }
    Ok(None)
}

fn completions() -> Result<Option<String>, String> {
    for shell in ["bash", "zsh", "fish"] {
        let c = pvm(&["completions", shell], &[])?;
        let s = String::from_utf8_lossy(&c.stdout);
        if c.status != 0 || !s.contains("gdb") || !s.contains("sysroot") {
            return Err(format!(
                "completions {shell}: status {}, {} bytes",
                c.status,
                s.len()
            ));
        }
    }
    if pvm(&["completions"], &[])?.status != 2 {
        return Err("`pvm completions` without a shell must fail with 2".into());
    }
    // A guest program named `completions` (or `binfmt`) runs as ./NAME.
    let dir = std::env::temp_dir().join(format!("pvm-integration-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let prog = dir.join("completions");
    std::fs::copy(guest("static"), &prog).map_err(|e| e.to_string())?;
    let c = run_captured(
        Command::new(pvm_binary())
            .args(["./completions", "bash"])
            .current_dir(&dir),
        b"",
        Duration::from_secs(60),
    );
    let _ = std::fs::remove_dir_all(&dir);
    ran(&c?)?;
    Ok(None)
}

fn logs() -> Result<Option<String>, String> {
    let dir = std::env::temp_dir();
    for (engine, want) in [
        (
            "interp",
            &[
                "IN: interpreter block 0x",
                "Trace: 0x",
                "page: map 0x",
                "  0x",
            ][..],
        ),
        (
            "jit",
            &[
                "IN: translated block 0x",
                "OUT: [size=",
                "Trace: 0x",
                "[host 0x",
                "page: map 0x",
            ][..],
        ),
    ] {
        let file = dir.join(format!("pvm-log-{}-{engine}.txt", std::process::id()));
        let g = guest("dynamic");
        let c = pvm(
            &[
                "--engine",
                engine,
                "-d",
                "in_asm,out_asm,exec,cache,page,unimp",
                "-D",
                file.to_str().unwrap_or_default(),
                g.to_str().unwrap_or_default(),
            ],
            &[],
        )?;
        let log = std::fs::read_to_string(&file).unwrap_or_default();
        let _ = std::fs::remove_file(&file);
        ran(&c)?;
        if !c.stderr.is_empty() {
            return Err(format!(
                "with -D the log must not go to stderr: {}",
                show(&c.stderr, 300)
            ));
        }
        for w in want {
            if !log.contains(w) {
                return Err(format!(
                    "{engine}: the log has no {w:?} ({} bytes)",
                    log.len()
                ));
            }
        }
    }
    // strace as a log item, to stderr without -D.
    let g = guest("static");
    let c = pvm(&["-d", "strace", g.to_str().unwrap_or_default()], &[])?;
    ran(&c)?;
    if !String::from_utf8_lossy(&c.stderr).contains("exit_group(") {
        return Err("-d strace printed no exit_group".into());
    }
    if pvm(&["-d", "bogus", "x"], &[])?.status != 2 {
        return Err("-d bogus must be a usage error".into());
    }
    // `cache` under both policies: a flush, and a FIFO unit eviction (the
    // C++ guest of the suite, whose translations overflow a 64 KiB cache).
    let cxx = root().join("tests/build/cxx.static");
    if !cxx.exists() {
        return Ok(Some(
            "-d cache evictions not checked: tests/build/cxx.static is built by the guest phase"
                .into(),
        ));
    }
    for (policy, want) in [
        ("flush", "cache: code cache flushed ("),
        ("fifo", "cache: unit evicted ("),
    ] {
        let c = pvm(
            &[
                "--code-cache-size",
                "64K",
                "--code-cache-policy",
                policy,
                "-d",
                "cache",
                cxx.to_str().unwrap_or_default(),
            ],
            &[],
        )?;
        let err = String::from_utf8_lossy(&c.stderr);
        if c.status != 0 || !err.contains(want) {
            return Err(format!(
                "-d cache with --code-cache-policy {policy}: status {}, no {want:?} in {}",
                c.status,
                show(&c.stderr, 300)
            ));
        }
    }
    Ok(None)
}

fn environment() -> Result<Option<String>, String> {
    let g = guest("dynamic");
    let g = g.to_str().unwrap_or_default();
    let c = pvm(&["--stats", g], &[("PVM_ENGINE", "interp")])?;
    ran(&c)?;
    if !String::from_utf8_lossy(&c.stderr).contains("interp_blocks_decoded") {
        return Err("PVM_ENGINE=interp did not select the interpreter".into());
    }
    let c = pvm(
        &["--engine", "jit", "--stats", g],
        &[("PVM_ENGINE", "interp")],
    )?;
    if !String::from_utf8_lossy(&c.stderr).contains("jit_translations") {
        return Err("--engine must win over PVM_ENGINE".into());
    }
    let c = pvm(&[g], &[("PVM_STRACE", "1")])?;
    ran(&c)?;
    if !String::from_utf8_lossy(&c.stderr).contains("exit_group(") {
        return Err("PVM_STRACE=1 did not trace".into());
    }
    let file = std::env::temp_dir().join(format!("pvm-envlog-{}.txt", std::process::id()));
    let f = file.to_str().unwrap_or_default();
    let c = pvm(
        &[g],
        &[
            ("PVM_LOG", "page"),
            ("PVM_LOG_FILE", f),
            ("PVM_SYSROOT", "/nonexistent"),
        ],
    )?;
    let log = std::fs::read_to_string(&file).unwrap_or_default();
    let _ = std::fs::remove_file(&file);
    // A wrong PVM_SYSROOT: the dynamic linker is not found there (the
    // plain path is tried after it, and does not exist on an x86 host).
    if c.status == 3 && !Path::new("/lib/ld-linux-riscv64-lp64d.so.1").exists() {
        return Err("PVM_SYSROOT=/nonexistent was not used".into());
    }
    if !log.contains("page: map") {
        return Err("PVM_LOG/PVM_LOG_FILE wrote no page log".into());
    }
    Ok(None)
}

fn cpu_version_help() -> Result<Option<String>, String> {
    let v = pvm(&["--version"], &[])?;
    let vs = String::from_utf8_lossy(&v.stdout);
    if v.status != 0 || vs.lines().count() != 1 || !vs.starts_with("pvm ") {
        return Err(format!("--version printed {vs:?}"));
    }
    let h = pvm(&["--help"], &[])?;
    let hs = String::from_utf8_lossy(&h.stdout);
    // One line per option: the options block has no blank line and no
    // continuation lines.
    let opts: Vec<&str> = hs
        .lines()
        .skip_while(|l| !l.starts_with("Options:"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    for want in [
        "--gdb",
        "--log",
        "--log-file",
        "--cpu",
        "--sysroot",
        "--engine",
        "--strace",
        "--version",
        "--help",
    ] {
        if !opts.iter().any(|l| l.contains(want)) {
            return Err(format!("--help has no line for {want}: {hs:?}"));
        }
    }
    if let Some(l) = opts.iter().find(|l| !l.trim_start().starts_with('-')) {
        return Err(format!("--help option line continued: {l:?}"));
    }
    let c = pvm(&["-cpu", "help"], &[])?;
    let cs = String::from_utf8_lossy(&c.stdout);
    if c.status != 0 || !cs.contains("rv64") || !cs.contains("Zifencei") {
        return Err(format!("-cpu help printed {cs:?}"));
    }
    let g = guest("static");
    ran(&pvm(
        &["-cpu", "rv64", g.to_str().unwrap_or_default()],
        &[],
    )?)?;
    // After any option that takes a value, qemu's spellings still work.
    ran(&pvm(
        &[
            "--max-memory",
            "1G",
            "-cpu",
            "rv64",
            "--profile",
            "/dev/null",
            "-strace",
            g.to_str().unwrap_or_default(),
        ],
        &[],
    )?)?;
    if pvm(&["-cpu", "rv32", "x"], &[])?.status != 2 {
        return Err("-cpu rv32 must be a usage error".into());
    }
    Ok(None)
}
