//! Guest test programs: discovery, per-test directives and cached builds.
//!
//! Every source under `tests/guests/` (`.c`, `.cc`, `.S`, `.rs`) is one test
//! program, built with Debian's RISC-V cross compilers in one or more variants
//! (`static`, `dynamic`). Rust guests are built by `rustc` for
//! [`RUST_TARGET`] (added by `cargo xtask setup`), `-O`, linked by Debian's
//! cross gcc (static: `+crt-static`); a missing target fails their build
//! with the command that installs it. A test's expectations live next to its
//! code as directive comments, so adding a test is adding one file:
//!
//! ```text
//! //@ variants: static dynamic   (C and Rust default; C++ and .S default to
//!                                static; .S may add static-pie)
//! //@ args: one "two words"      (argv[1..])
//! //@ stdin: a line              (one line of stdin; may repeat)
//! //@ env: NAME=value            (added to the guest's small fixed environment)
//! //@ status: 139                (expected exit status as a shell shows it)
//! //@ cflags: -lm                (extra compiler/linker flags; rustc's for .rs)
//! //@ stderr                     (stderr is deterministic: compare it too)
//! //@ timeout: 60                (seconds per run; default 60)
//! //@ vmargs: -E X=1 -U Y         (options for qemu-riscv64 and pvm alike)
//! //@ pvm-args: --sandbox --allow-write {dir}
//!                                (options for pvm only; `{dir}` is the
//!                                run's scratch directory, its cwd)
//! //@ no-qemu: reason            (qemu-riscv64 cannot be the oracle: compare
//!                                with the hand-written expectation only)
//! ```
//!
//! Built binaries are cached in `tests/build/` (gitignored) and rebuilt when
//! the source, the shared headers, the compile command or (for Rust) the
//! `rustc` version change.

use crate::util::{fnv1a, root, run_captured};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

pub const CC: &str = "riscv64-linux-gnu-gcc";
pub const CXX: &str = "riscv64-linux-gnu-g++";
pub const SYSROOT: &str = "/usr/riscv64-linux-gnu";
/// The Rust target Rust guests are built for.
pub const RUST_TARGET: &str = "riscv64gc-unknown-linux-gnu";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Static,
    Dynamic,
    /// ET_DYN without an interpreter. Only for assembly guests: Debian's
    /// cross glibc has no rcrt1.o, so C cannot be linked static-pie.
    StaticPie,
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Static => "static",
            Variant::Dynamic => "dynamic",
            Variant::StaticPie => "static-pie",
        }
    }
}

/// One built test program with its expectations.
#[derive(Debug, Clone)]
pub struct Case {
    /// `<stem>.<variant>`, the name used in reports and `--filter`.
    pub name: String,
    /// Source file stem: expected outputs are `tests/expected/<stem>.out`.
    pub stem: String,
    pub source: PathBuf,
    pub variant: Variant,
    pub binary: PathBuf,
    pub args: Vec<String>,
    pub stdin: Vec<u8>,
    pub env: Vec<(String, String)>,
    pub status: i32,
    pub compare_stderr: bool,
    pub timeout: Duration,
    /// Emulator options (`-E`, `-U`) given to qemu-riscv64 and pvm alike.
    pub vm_args: Vec<String>,
    /// Options for pvm only (`//@ pvm-args:`), `{dir}` standing for the
    /// run's scratch directory.
    pub pvm_args: Vec<String>,
    /// Why qemu-riscv64 is not used as the oracle for this case, if so.
    pub no_qemu: Option<String>,
    /// Why this case must run while no other hosted case does (`//@
    /// alone:`), if so: it uses up something the host counts for the
    /// whole user (its message-queue bytes), which another case running
    /// meanwhile would find gone, or take first.
    pub alone: Option<String>,
    cflags: Vec<String>,
}

impl Case {
    pub fn is_dynamic(&self) -> bool {
        self.variant == Variant::Dynamic
    }
    /// A case with defaults, for the harness's own unit tests.
    #[cfg(test)]
    pub fn for_test(stem: &str, status: i32) -> Case {
        Case {
            name: format!("{stem}.static"),
            stem: stem.into(),
            source: PathBuf::from(format!("{stem}.c")),
            variant: Variant::Static,
            binary: PathBuf::from(stem),
            args: Vec::new(),
            stdin: Vec::new(),
            env: Vec::new(),
            status,
            compare_stderr: false,
            timeout: Duration::from_secs(1),
            vm_args: Vec::new(),
            pvm_args: Vec::new(),
            no_qemu: None,
            alone: None,
            cflags: Vec::new(),
        }
    }

    pub fn expected_stdout_path(&self) -> PathBuf {
        root()
            .join("tests/expected")
            .join(format!("{}.out", self.stem))
    }
    pub fn expected_stderr_path(&self) -> PathBuf {
        root()
            .join("tests/expected")
            .join(format!("{}.err", self.stem))
    }
}

/// Splits a directive value into words, honouring double quotes.
fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_q = false;
    let mut any = false;
    for ch in s.chars() {
        match ch {
            '"' => {
                in_q = !in_q;
                any = true;
            }
            c if c.is_whitespace() && !in_q => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// Parses one source file into its cases (one per variant).
fn parse(source: &Path) -> Result<Vec<Case>, String> {
    let text = fs::read_to_string(source).map_err(|e| format!("{}: {e}", source.display()))?;
    let stem = source.file_stem().unwrap().to_string_lossy().into_owned();
    let ext = source
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut variants = match ext.as_str() {
        "c" | "rs" => vec![Variant::Static, Variant::Dynamic],
        _ => vec![Variant::Static],
    };
    let (mut args, mut stdin, mut env, mut status) = (Vec::new(), Vec::new(), Vec::new(), 0);
    let (mut compare_stderr, mut timeout, mut cflags) = (false, 60u64, Vec::new());
    let mut vm_args = Vec::new();
    let mut pvm_args = Vec::new();
    let mut no_qemu = None;
    let mut alone = None;
    for (lineno, line) in text.lines().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("//@") else {
            continue;
        };
        let rest = rest.trim();
        let (key, val) = match rest.split_once(':') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (rest, ""),
        };
        let bad =
            |what: &str| format!("{}:{}: bad directive: {what}", source.display(), lineno + 1);
        match key {
            "variants" => {
                variants = split_words(val)
                    .iter()
                    .map(|v| match v.as_str() {
                        "static" => Ok(Variant::Static),
                        "dynamic" => Ok(Variant::Dynamic),
                        "static-pie" if ext == "S" => Ok(Variant::StaticPie),
                        _ => Err(bad(v)),
                    })
                    .collect::<Result<_, _>>()?
            }
            "args" => args = split_words(val),
            "stdin" => {
                stdin.extend_from_slice(val.as_bytes());
                stdin.push(b'\n');
            }
            "env" => {
                let (k, v) = val.split_once('=').ok_or_else(|| bad(val))?;
                env.push((k.to_string(), v.to_string()));
            }
            "status" => status = val.parse().map_err(|_| bad(val))?,
            "cflags" => cflags = split_words(val),
            "stderr" => compare_stderr = true,
            "timeout" => timeout = val.parse().map_err(|_| bad(val))?,
            "vmargs" => vm_args = split_words(val),
            "pvm-args" => pvm_args = split_words(val),
            "no-qemu" => no_qemu = Some(val.to_string()),
            "alone" if !val.is_empty() => alone = Some(val.to_string()),
            _ => return Err(bad(key)),
        }
    }
    let build = root().join("tests/build");
    Ok(variants
        .into_iter()
        .map(|v| Case {
            name: format!("{stem}.{}", v.name()),
            stem: stem.clone(),
            source: source.to_path_buf(),
            variant: v,
            binary: build.join(format!("{stem}.{}", v.name())),
            args: args.clone(),
            stdin: stdin.clone(),
            env: env.clone(),
            status,
            compare_stderr,
            timeout: Duration::from_secs(timeout),
            vm_args: vm_args.clone(),
            pvm_args: pvm_args.clone(),
            no_qemu: no_qemu.clone(),
            alone: alone.clone(),
            cflags: cflags.clone(),
        })
        .collect())
}

/// All cases under `tests/guests`, sorted by name.
pub fn discover() -> Result<Vec<Case>, String> {
    let dir = root().join("tests/guests");
    let mut sources: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("c" | "cc" | "S" | "rs")
            )
        })
        .collect();
    sources.sort();
    let mut cases = Vec::new();
    for s in &sources {
        cases.extend(parse(s)?);
    }
    Ok(cases)
}

fn is_rust(case: &Case) -> bool {
    case.source.extension().is_some_and(|e| e == "rs")
}

/// The rustc command line for a Rust guest (without the output path).
fn rust_command(case: &Case) -> Vec<String> {
    let mut cmd: Vec<String> = ["rustc", "--edition", "2021", "--target", RUST_TARGET, "-O"]
        .map(String::from)
        .into();
    // Intermediate objects are named after the crate and go next to the
    // output: a crate name per variant keeps the variants' parallel builds
    // apart.
    let crate_name = format!("{}_{}", case.stem, case.variant.name()).replace('-', "_");
    cmd.extend(["--crate-name".into(), crate_name]);
    cmd.extend(["-C".into(), format!("linker={CC}")]);
    cmd.extend(["-C", "debuginfo=0", "-C", "strip=debuginfo"].map(String::from));
    if case.variant == Variant::Static {
        cmd.extend(["-C", "target-feature=+crt-static"].map(String::from));
    }
    cmd.push(case.source.display().to_string());
    cmd.extend(case.cflags.iter().cloned());
    cmd
}

/// What identifies the Rust toolchain a guest was built with (part of the
/// cache key), after checking that it can build for [`RUST_TARGET`]: a
/// missing target is a build failure that says how to install it, never a
/// skip.
fn rust_toolchain() -> Result<String, String> {
    static ID: OnceLock<Result<String, String>> = OnceLock::new();
    ID.get_or_init(|| {
        let out = |args: &[&str]| -> Result<String, String> {
            let o = Command::new("rustc")
                .args(args)
                .output()
                .map_err(|e| format!("cannot run rustc (needed for Rust guests): {e}"))?;
            if !o.status.success() {
                return Err(format!(
                    "rustc {} failed: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&o.stderr).trim()
                ));
            }
            Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
        };
        let version = out(&["-vV"])?;
        let sysroot = out(&["--print", "sysroot"])?;
        let std_dir = Path::new(&sysroot).join("lib/rustlib").join(RUST_TARGET);
        if !std_dir.join("lib").is_dir() {
            return Err(format!(
                "the Rust target {RUST_TARGET} is not installed for {sysroot} \
                 (no {}): run `rustup target add {RUST_TARGET}` or `cargo xtask setup`",
                std_dir.display()
            ));
        }
        Ok(version)
    })
    .clone()
}

/// The compiler command line for a case (without the output path).
fn compile_command(case: &Case) -> Vec<String> {
    if is_rust(case) {
        return rust_command(case);
    }
    let ext = case.source.extension().unwrap().to_string_lossy();
    let mut cmd: Vec<String> = Vec::new();
    match ext.as_ref() {
        "cc" => cmd.push(CXX.into()),
        _ => cmd.push(CC.into()),
    }
    cmd.extend(["-O2", "-g0", "-Wall"].map(String::from));
    if ext == "S" && case.variant == Variant::StaticPie {
        cmd.extend(["-nostdlib", "-static-pie", "-Wl,--no-dynamic-linker"].map(String::from));
    } else if ext == "S" {
        cmd.extend(["-nostdlib", "-static"].map(String::from));
    } else if case.variant == Variant::Static {
        cmd.push("-static".into());
    }
    cmd.push(format!("-I{}", root().join("tests/guests").display()));
    cmd.push(case.source.display().to_string());
    cmd.extend(case.cflags.iter().cloned());
    cmd
}

/// Builds `case.binary` unless the cached one is up to date.
pub fn build(case: &Case) -> Result<bool, String> {
    let mut headers: Vec<PathBuf> = fs::read_dir(root().join("tests/guests"))
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "h"))
        .collect();
    // The `bench_*` guests include a benchmark's source from tests/bench/.
    headers.extend(
        fs::read_dir(root().join("tests/bench"))
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "c" || e == "cc")),
    );
    // A guest may include another guest's source (`sbx_fd_select.c` is
    // `esc_fd_select.c` under `--sandbox`): that source is an input too.
    headers.extend(included_guests(&case.source));
    headers.sort();
    let salt = if is_rust(case) {
        rust_toolchain().map_err(|e| format!("building {} failed: {e}", case.name))?
    } else {
        String::new()
    };
    build_cached_salted(
        &compile_command(case),
        &case.source,
        &headers,
        salt.as_bytes(),
        &case.binary,
    )
    .map_err(|e| format!("building {} failed:\n{e}", case.name))
}

/// The `tests/guests/*.c` files that `source` names in an
/// `#include "..."` line.
fn included_guests(source: &Path) -> Vec<PathBuf> {
    let text = fs::read_to_string(source).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("#include \""))
        .filter_map(|l| l.split('"').next())
        .filter(|name| name.ends_with(".c"))
        .map(|name| root().join("tests/guests").join(name))
        .filter(|p| p.is_file())
        .collect()
}

/// Runs `cmd -o out` unless `out` is newer in content terms: the cache key
/// is a hash of the command line, the source and the extra inputs, kept in
/// `<out>.stamp`. Returns whether it compiled.
pub fn build_cached(
    cmd: &[String],
    source: &Path,
    extra: &[PathBuf],
    out: &Path,
) -> Result<bool, String> {
    build_cached_salted(cmd, source, extra, b"", out)
}

/// [`build_cached`] with `salt` (say, a compiler's version) in the key.
fn build_cached_salted(
    cmd: &[String],
    source: &Path,
    extra: &[PathBuf],
    salt: &[u8],
    out: &Path,
) -> Result<bool, String> {
    let src = fs::read(source).map_err(|e| format!("{}: {e}", source.display()))?;
    let mut parts: Vec<Vec<u8>> = vec![cmd.join(" ").into_bytes(), src];
    if !salt.is_empty() {
        parts.push(salt.to_vec());
    }
    for h in extra {
        parts.push(fs::read(h).unwrap_or_default());
    }
    let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
    let key = format!("{:016x}\n", fnv1a(&refs));
    let mut stamp = out.as_os_str().to_owned();
    stamp.push(".stamp");
    let stamp = PathBuf::from(stamp);
    if out.is_file() && fs::read_to_string(&stamp).ok().as_deref() == Some(key.as_str()) {
        return Ok(false);
    }
    fs::create_dir_all(out.parent().unwrap()).map_err(|e| e.to_string())?;
    let mut c = Command::new(&cmd[0]);
    c.args(&cmd[1..]).arg("-o").arg(out);
    let res = run_captured(&mut c, b"", Duration::from_secs(300))?;
    if res.status != 0 {
        let _ = fs::remove_file(&stamp);
        let _ = fs::remove_file(out);
        return Err(format!(
            "{} -o {}\n{}",
            cmd.join(" "),
            out.display(),
            String::from_utf8_lossy(&res.stderr)
        ));
    }
    fs::write(&stamp, key).map_err(|e| e.to_string())?;
    Ok(true)
}

/// Builds all cases with `workers` threads; returns the build failures.
pub fn build_all(cases: &[Case], workers: usize) -> Vec<(String, String)> {
    let next = Mutex::new(0usize);
    let failures = Mutex::new(Vec::new());
    let built = Mutex::new(0usize);
    std::thread::scope(|s| {
        for _ in 0..workers.max(1) {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(case) = cases.get(i) else { break };
                    match build(case) {
                        Ok(true) => *built.lock().unwrap() += 1,
                        Ok(false) => {}
                        Err(e) => failures.lock().unwrap().push((case.name.clone(), e)),
                    }
                }
            });
        }
    });
    let n = *built.lock().unwrap();
    if n > 0 {
        println!("built {n} guest program(s) in tests/build");
    }
    failures.into_inner().unwrap()
}

/// Build the bundled demo guest (`tests/demo/hello.c`, static) if needed;
/// its path.
pub fn build_demo() -> Result<PathBuf, String> {
    build_static("tests/demo/hello.c", "tests/build/demo/hello")
}

/// `src` (relative to the workspace root) built `-O2 -static` into `out`.
pub fn build_static(src: &str, out: &str) -> Result<PathBuf, String> {
    let src = root().join(src);
    let out = root().join(out);
    let cmd: Vec<String> = [CC, "-O2", "-static", "-Wall"]
        .map(String::from)
        .into_iter()
        .chain([src.display().to_string()])
        .collect();
    build_cached(&cmd, &src, &[], &out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    /// A guest that includes another guest's source depends on it.
    #[test]
    fn included_guest_sources_are_inputs() {
        let sbx = root().join("tests/guests/sbx_fd_select.c");
        assert_eq!(
            super::included_guests(&sbx),
            vec![root().join("tests/guests/esc_fd_select.c")]
        );
        assert!(super::included_guests(&root().join("tests/guests/hello.c")).is_empty());
    }

    use super::*;

    #[test]
    fn words_and_quotes() {
        assert_eq!(split_words(r#"a "b c"  d"#), vec!["a", "b c", "d"]);
        assert_eq!(split_words(r#""""#), vec![""]);
        assert!(split_words("   ").is_empty());
    }

    #[test]
    fn every_guest_source_parses() {
        let cases = discover().unwrap();
        assert!(!cases.is_empty());
        for c in &cases {
            assert!(c.name.starts_with(&c.stem));
        }
        // The message-queue filler runs alone, in both variants.
        let alone: Vec<&str> = cases
            .iter()
            .filter(|c| c.alone.is_some())
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            alone,
            [
                "ipc_mq_bytes_unlinked.static",
                "ipc_mq_bytes_unlinked.dynamic"
            ]
        );
    }
}
