//! Checks of pvm's own command line, which qemu-riscv64 cannot serve as an
//! oracle for: `--strace`, `--stats`, the default sysroot and
//! `PVM_SYSROOT`, the one-line report of a crash and the death by the
//! guest's signal, and refusals of
//! bad options (a clean error, never a panic).

use crate::guests::{Case, SYSROOT};
use crate::suite::{Outcome, Runner, base_env, pvm_binary};
use crate::util::{Captured, run_captured, show};
use std::fs;
use std::process::Command;
use std::time::Duration;

fn run(engine: &str, pre: &[&str], case: &Case, env: &[(&str, &str)]) -> Result<Captured, String> {
    let mut cmd = Command::new(pvm_binary());
    cmd.args(crate::suite::engine_args(engine));
    run_cmd(cmd, pre, case, env)
}

fn run_cmd(
    mut cmd: Command,
    pre: &[&str],
    case: &Case,
    env: &[(&str, &str)],
) -> Result<Captured, String> {
    cmd.args(pre).arg(&case.binary).args(&case.args).env_clear();
    for (k, v) in base_env() {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_captured(&mut cmd, &case.stdin, Duration::from_secs(60))
}

/// `case` run by pvm must die of host signal `signo`, with one line on
/// stderr if `line` and none otherwise.
fn signal_end(engine: &str, case: &Case, signo: i32, line: bool) -> Result<(), String> {
    use std::os::unix::process::ExitStatusExt;
    let mut cmd = Command::new(pvm_binary());
    cmd.args(crate::suite::engine_args(engine))
        .arg(&case.binary)
        .args(&case.args)
        .env_clear()
        .envs(base_env())
        .stdin(std::process::Stdio::null());
    let o = cmd.output().map_err(|e| format!("cannot run pvm: {e}"))?;
    let lines = String::from_utf8_lossy(&o.stderr).lines().count();
    if o.status.signal() != Some(signo) || lines != usize::from(line) {
        return Err(format!(
            "ended with {:?} (want death by signal {signo}) and {lines} stderr lines (want {}): {}",
            o.status,
            usize::from(line),
            show(&o.stderr, 300)
        ));
    }
    Ok(())
}

/// The run must look like the plain one: same status and stdout.
fn same_as_expected(case: &Case, got: &Captured) -> Result<(), String> {
    let want = fs::read(case.expected_stdout_path()).map_err(|e| format!("no expectation: {e}"))?;
    if got.status != case.status {
        return Err(format!(
            "exit status {} (expected {})",
            got.status, case.status
        ));
    }
    if got.stdout != want {
        return Err(format!(
            "stdout differs: {}",
            crate::util::first_diff(&want, &got.stdout)
        ));
    }
    Ok(())
}

fn no_panic(got: &Captured) -> Result<(), String> {
    if String::from_utf8_lossy(&got.stderr).contains("panicked") {
        return Err(format!("panicked: {}", show(&got.stderr, 400)));
    }
    Ok(())
}

fn stderr_has(got: &Captured, needles: &[&str]) -> Result<(), String> {
    let err = String::from_utf8_lossy(&got.stderr);
    for n in needles {
        if !err.contains(n) {
            return Err(format!(
                "stderr lacks {n:?}; stderr was: {}",
                show(&got.stderr, 600)
            ));
        }
    }
    Ok(())
}

/// pvm is a static position-independent executable: no program
/// interpreter (the dynamic loader relocating pvm and its libraries was a
/// fifth of a short guest's start-up), and a shared object's type so that
/// the host still places it at a random address.
fn static_pie(path: &std::path::Path) -> Result<(), String> {
    use xmas_elf::header::Type;
    use xmas_elf::program::Type as Segment;
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let elf = xmas_elf::ElfFile::new(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let kind = elf.header.pt2.type_().as_type();
    if kind != Type::SharedObject {
        return Err(format!(
            "pvm's ELF type is {kind:?}, not ET_DYN: not position-independent"
        ));
    }
    if elf
        .program_iter()
        .any(|p| p.get_type() == Ok(Segment::Interp))
    {
        return Err("pvm has a program interpreter: it is linked dynamically".into());
    }
    Ok(())
}

/// Runs the checks for each pvm engine. `cases` are the built guests.
pub fn run_all(cases: &[Case], runners: &[Runner]) -> Vec<Outcome> {
    let find = |n: &str| cases.iter().find(|c| c.name == n);
    let mut out = Vec::new();
    // A property of the binary, checked once (under the first engine's row).
    if let Some(r) = runners.iter().find(|r| matches!(r, Runner::Pvm(_))) {
        let res = static_pie(&pvm_binary());
        if let Err(e) = &res {
            eprintln!("FAIL cli.static-pie [{}]\n      {e}", r.label());
        }
        out.push(Outcome {
            runner: r.label(),
            case: "cli.static-pie".into(),
            result: res.map(|_| None),
        });
    }
    for r in runners {
        let Runner::Pvm(engine) = r else { continue };
        let mut check = |name: &str, res: Result<(), String>| {
            if let Err(e) = &res {
                eprintln!("FAIL cli.{name} [{}]\n      {e}", r.label());
            }
            out.push(Outcome {
                runner: r.label(),
                case: format!("cli.{name}"),
                result: res.map(|_| None),
            });
        };
        if let Some(hello) = find("hello.static") {
            check(
                "strace",
                run(engine, &["--strace"], hello, &[]).and_then(|g| {
                    no_panic(&g)?;
                    same_as_expected(hello, &g)?;
                    stderr_has(&g, &["write(1", "exit_group("])
                }),
            );
            check(
                "stats",
                run(engine, &["--stats"], hello, &[]).and_then(|g| {
                    no_panic(&g)?;
                    same_as_expected(hello, &g)?;
                    if g.stderr.is_empty() {
                        Err("--stats printed nothing on stderr".into())
                    } else {
                        Ok(())
                    }
                }),
            );
            check(
                "unknown-engine",
                run_cmd(Command::new(pvm_binary()), &["--engine", "no-such-engine"], hello, &[]).and_then(|g| {
                    no_panic(&g)?;
                    if g.status == 0 || g.stderr.is_empty() || !g.stdout.is_empty() {
                        return Err(format!(
                            "expected a refusal on stderr and a non-zero status, got status {} stderr {:?}",
                            g.status,
                            show(&g.stderr, 200)
                        ));
                    }
                    Ok(())
                }),
            );
        }
        if let Some(hello) = find("hello.dynamic") {
            // Without -L: PVM_SYSROOT, then the Debian default.
            check(
                "sysroot-env",
                run(engine, &[], hello, &[("PVM_SYSROOT", SYSROOT)]).and_then(|g| {
                    no_panic(&g)?;
                    same_as_expected(hello, &g)
                }),
            );
            check(
                "sysroot-default",
                run(engine, &[], hello, &[]).and_then(|g| {
                    no_panic(&g)?;
                    same_as_expected(hello, &g)
                }),
            );
            check(
                "sysroot-long-option",
                run(engine, &["--sysroot", SYSROOT], hello, &[]).and_then(|g| {
                    no_panic(&g)?;
                    same_as_expected(hello, &g)
                }),
            );
        }
        if let Some(segv) = find("segv.static") {
            check(
                "fatal-signal-report",
                run(engine, &[], segv, &[]).and_then(|g| {
                    no_panic(&g)?;
                    same_as_expected(segv, &g)?;
                    let err = String::from_utf8_lossy(&g.stderr);
                    let lines = err.lines().filter(|l| !l.trim().is_empty()).count();
                    if lines != 1 {
                        return Err(format!(
                            "{lines} lines on stderr, expected one: {}",
                            show(&g.stderr, 400)
                        ));
                    }
                    if !(err.contains("SIGSEGV") || err.contains("Segmentation"))
                        || !err.contains("0x")
                    {
                        return Err(format!(
                            "the line should name SIGSEGV, the pc and the address: {err}"
                        ));
                    }
                    Ok(())
                }),
            );
        }
        // pvm ends as the native program would: killed by the signal that
        // killed its guest (a parent's wait sees WIFSIGNALED), with a line
        // on stderr for a crash only (`yes | head` says nothing natively).
        for (name, signo, line) in [
            ("segv.static", 11, true),
            ("sig_ignore_host.static", 14, false),
        ] {
            let Some(case) = find(name) else { continue };
            check(
                &format!("signal-end.{name}"),
                signal_end(engine, case, signo, line),
            );
        }
        let mut bare = Command::new(pvm_binary());
        check(
            "no-arguments",
            run_captured(&mut bare, b"", Duration::from_secs(10)).and_then(|g| {
                no_panic(&g)?;
                if g.status == 0 {
                    Err("pvm with no program exited 0".into())
                } else {
                    Ok(())
                }
            }),
        );
    }
    out
}
