//! CPython's own regression tests under pvm: the `test` package Debian
//! ships in `libpython3.13-testsuite`, run by the sysroot's riscv64
//! `python3.13 -m test MODULE` (see `sysroot`).
//!
//! These modules are the judge: each checks threads, signals, processes,
//! sockets or polling the way CPython's developers check their own
//! runtime on Linux, and `python3 -m test` ends with `Result: SUCCESS`
//! and status 0 only when every test it ran passed. A test that CPython
//! itself skips on this configuration (no network resource, not root)
//! is counted in the `skipped=` figure it prints, which the report shows.
//!
//! `cargo xtask test` runs [`MODULES`] under pvm's translator. qemu-riscv64
//! is not the oracle here: it fails several of these modules itself
//! (it cannot run a RISC-V child, and its signal and thread emulation
//! gives wrong answers some tests notice), so `cargo xtask cpython --qemu`
//! runs it beside pvm only to print the side-by-side table the README
//! keeps.
//!
//! The sysroot byte-compiles the standard library but not the test
//! package (34 MB of sources, most never run here); [`prepare`] compiles
//! the modules run here and what they import, once.

use crate::suite::{Outcome, engine_args, pvm_binary};
use crate::sysroot::{self, FetchError};
use crate::util::{run_captured, show};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The modules run in `cargo xtask test`, with what each exercises.
pub const MODULES: &[(&str, &str)] = &[
    (
        "test_thread",
        "the _thread module: locks, thread start and exit",
    ),
    ("test_queue", "queue.Queue across threads"),
    (
        "test_signal",
        "handlers, masks, sigwait, timers, signals and threads",
    ),
    ("test_fork1", "fork from a thread, with threads running"),
    ("test_wait4", "wait4 and its rusage"),
    ("test_select", "select on pipes"),
    (
        "test_selectors",
        "every selector class (select, poll, epoll)",
    ),
    ("test_epoll", "epoll on sockets"),
    ("test_poll", "poll on pipes and sockets"),
    ("test_popen", "os.popen through the shell"),
    (
        "test_posix",
        "the posix module: files, ids, scheduling, posix_spawn",
    ),
    (
        "test_os",
        "the os module: files, descriptors, processes, environment",
    ),
    (
        "test_pty",
        "pseudo-terminals, fork with a controlling terminal",
    ),
    (
        "test_shutil",
        "copying, moving, archives, permissions, xattrs",
    ),
    ("test_fcntl", "fcntl, flock, lockf, F_SETPIPE_SZ"),
    ("test_tempfile", "temporary files and directories"),
];

/// Modules worth running by hand (`cargo xtask cpython --all`): minutes
/// each under emulation on two cores.
pub const LONG_MODULES: &[&str] = &[
    // Passes alone (57 run, 5 skipped); three of its timer tests fail when
    // another module runs beside it on two cores.
    "test_signal",
    "test_subprocess",
    "test_socket",
    "test_tarfile",
    "test_threading",
    "test_concurrent_futures",
];

/// The guest's path of the interpreter.
const PYTHON: &str = "usr/bin/python3.13";

/// How one module ended.
#[derive(Debug, Clone)]
pub struct ModuleRun {
    pub status: i32,
    pub success: bool,
    /// The `Total tests: ...` line's figures (`run=N failures=M ...`).
    pub totals: String,
    pub secs: f64,
    pub tail: String,
    /// What unittest reported, when the module ran in verbose mode
    /// (`cargo xtask cpython`'s table); `None` in quiet mode.
    pub counts: Option<Counts>,
}

/// One module's first run as unittest reports it in verbose mode (`-v`):
/// the `Ran N tests` and `OK (...)`/`FAILED (...)` lines, summed over
/// the module's test files, and the `FAIL:`/`ERROR:` headers of its error
/// list. The re-run of failing tests that `--rerun` starts is kept apart
/// (`failing_again`), so the figures are those of one plain run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub run: u64,
    pub failures: u64,
    pub errors: u64,
    pub skipped: u64,
    /// `Ran N tests` was never printed: the interpreter died (or hung)
    /// before unittest finished.
    pub unfinished: bool,
    /// The first run's failing tests, as `KIND: name (id)[ (subtest)]`
    /// headers with the kind dropped.
    pub failing: Vec<String>,
    /// The tests of `failing` that failed in `--rerun`'s second run too.
    pub failing_again: Vec<String>,
}

/// Parses a verbose regrtest run's stdout into [`Counts`].
///
/// A unittest report (error list, `Ran N tests`, `OK`/`FAILED`) counts
/// only when regrtest's progress line (`[1/1] test_x passed`) follows its
/// last line: a forked child whose `exec` failed and that went on running
/// the rest of the suite (seen under qemu-riscv64) prints a report of its
/// own, which is dropped.
pub fn parse_verbose(out: &str) -> Counts {
    let mut c = Counts::default();
    let mut pending = Counts::default();
    let mut summary_seen = false;
    let mut reports = 0;
    let mut rerun = false;
    let mut prev = "";
    for line in out.lines() {
        if line.contains("Re-running ") && line.contains(" in verbose mode") {
            rerun = true;
        }
        let failed = line
            .strip_prefix("FAIL: ")
            .or_else(|| line.strip_prefix("ERROR: "))
            .filter(|_| prev.len() >= 70 && prev.bytes().all(|b| b == b'='));
        prev = line;
        if let Some(name) = failed {
            let list = if rerun {
                &mut c.failing_again
            } else {
                &mut pending.failing
            };
            if !list.iter().any(|n| n == name) {
                list.push(name.to_string());
            }
        }
        if rerun {
            continue;
        }
        if summary_seen && !line.trim().is_empty() {
            summary_seen = false;
            if is_progress(line) {
                reports += 1;
                c.run += pending.run;
                c.failures += pending.failures;
                c.errors += pending.errors;
                c.skipped += pending.skipped;
                c.failing.append(&mut pending.failing);
            }
            pending = Counts::default();
        }
        if let Some(rest) = line.strip_prefix("Ran ")
            && let Some(n) = rest.split(' ').next().and_then(|n| n.parse::<u64>().ok())
        {
            pending.run += n;
        }
        let summary = if line == "OK" {
            Some("")
        } else {
            line.strip_prefix("FAILED (")
                .or_else(|| line.strip_prefix("OK ("))
                .and_then(|r| r.strip_suffix(')'))
        };
        summary_seen |= summary.is_some();
        for field in summary.into_iter().flat_map(|s| s.split(", ")) {
            let Some((k, v)) = field.split_once('=') else {
                continue;
            };
            let Ok(v) = v.parse::<u64>() else { continue };
            match k {
                "failures" => pending.failures += v,
                "errors" => pending.errors += v,
                "skipped" => pending.skipped += v,
                _ => {}
            }
        }
    }
    c.unfinished = reports == 0;
    c
}

/// Is `line` regrtest's progress line after a test file, as
/// `0:00:32 load avg: 6.72 [1/1/1] test_os failed (1 failure) in 33.0 s`?
fn is_progress(line: &str) -> bool {
    let Some((_, rest)) = line.split_once(" [") else {
        return false;
    };
    let Some((count, after)) = rest.split_once("] ") else {
        return false;
    };
    count.split('/').all(|n| n.parse::<u32>().is_ok()) && after.starts_with("test")
}

/// Which interpreter runs the module.
#[derive(Debug, Clone)]
pub enum Runner {
    Pvm(String),
    Qemu,
}

impl Runner {
    pub fn label(&self) -> String {
        match self {
            Runner::Pvm(e) => format!("cpython:{e}"),
            Runner::Qemu => "cpython:qemu".into(),
        }
    }
}

/// Byte-compiles the test package's support code and the modules about
/// to run (compileall skips what is already up to date).
pub fn prepare(root_dir: &Path, modules: &[&str]) -> Result<(), String> {
    let lib = root_dir.join("usr/lib/python3.13");
    let test = lib.join("test");
    if !test.join("__main__.py").exists() {
        return Err(format!(
            "{} has no test package: libpython3.13-testsuite was not unpacked",
            root_dir.display()
        ));
    }
    let mut targets: Vec<PathBuf> = vec![
        test.join("__init__.py"),
        test.join("__main__.py"),
        test.join("support"),
        test.join("libregrtest"),
    ];
    for m in modules {
        let file = test.join(format!("{m}.py"));
        let dir = test.join(m);
        targets.push(if dir.is_dir() { dir } else { file });
    }
    let mut c = Command::new("qemu-riscv64");
    c.arg("-L")
        .arg(root_dir)
        .arg(root_dir.join(PYTHON))
        .args(["-m", "compileall", "-q", "-s"])
        .arg(root_dir)
        .args(["-p", "/"])
        .args(&targets)
        .env_clear()
        .env("LC_ALL", "C")
        .env("PATH", "/usr/bin:/bin");
    let r = run_captured(&mut c, b"", Duration::from_secs(900))?;
    if r.status != 0 {
        return Err(format!(
            "compileall of the test package failed (status {}): {}",
            r.status,
            show(&r.stderr, 600)
        ));
    }
    Ok(())
}

/// A host shell script that runs the sysroot's python3.13 under
/// qemu-riscv64, given to qemu as the guest's `argv[0]` (`-0`), so that
/// `sys.executable` names it.
///
/// qemu-user runs `execve` on the host: without a binfmt_misc entry for
/// RISC-V (which needs root and changes the host), the exec of a RISC-V
/// program fails with ENOEXEC, and most tests that start a Python child
/// (`subprocess`, `multiprocessing`, regrtest's own re-run worker) fail
/// under qemu for that reason alone. Through this wrapper those children
/// run under qemu too; the exec of another RISC-V program still fails
/// there. pvm needs no wrapper: it runs RISC-V children itself.
fn qemu_python_wrapper(root_dir: &Path) -> Result<PathBuf, String> {
    let dir = crate::util::root().join("target/cpython");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("qemu-python3.13");
    let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', "'\\''"));
    let script = format!(
        "#!/bin/sh\nexec qemu-riscv64 -L {} -0 \"$0\" {} \"$@\"\n",
        quote(root_dir),
        quote(&root_dir.join(PYTHON))
    );
    // Written once: a shell already reading it (another job) must not see
    // it change.
    if std::fs::read_to_string(&path).ok().as_deref() != Some(script.as_str()) {
        std::fs::write(&path, script).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Runs `python3.13 -m test MODULE` under `runner`.
///
/// `verbose`: regrtest's `-v`, so that unittest names every test and
/// prints its figures ([`parse_verbose`]); the whole output is then kept
/// in `target/cpython/MODULE.RUNNER.log`.
pub fn run_module(
    root_dir: &Path,
    runner: &Runner,
    module: &str,
    timeout: Duration,
    verbose: bool,
) -> ModuleRun {
    let python = root_dir.join(PYTHON);
    // Started through env(1) with SIGHUP, SIGINT and SIGQUIT at their
    // defaults: a shell starts a background job with SIGINT and SIGQUIT
    // ignored, Python then installs no KeyboardInterrupt handler, and
    // test_signal's SIGINT cases fail under every runner.
    let mut cmd = Command::new("env");
    cmd.arg("--default-signal=HUP,INT,QUIT");
    match runner {
        Runner::Pvm(engine) => {
            cmd.arg(pvm_binary())
                .args(engine_args(engine))
                .arg("-L")
                .arg(root_dir);
        }
        Runner::Qemu => {
            let wrapper = match qemu_python_wrapper(root_dir) {
                Ok(w) => w,
                Err(e) => {
                    return ModuleRun {
                        status: -1,
                        success: false,
                        totals: String::new(),
                        secs: 0.0,
                        tail: e,
                        counts: None,
                    };
                }
            };
            cmd.arg("qemu-riscv64")
                .arg("-L")
                .arg(root_dir)
                .arg("-0")
                .arg(wrapper);
        }
    }
    let work = std::env::temp_dir()
        .join(format!("pvm-cpython-{}", std::process::id()))
        .join(format!("{module}.{}", runner.label().replace(':', "-")));
    let _ = std::fs::remove_dir_all(&work);
    let start = Instant::now();
    if let Err(e) = std::fs::create_dir_all(&work) {
        return ModuleRun {
            status: -1,
            success: false,
            totals: String::new(),
            secs: 0.0,
            tail: format!("{}: {e}", work.display()),
            counts: None,
        };
    }
    cmd.arg(&python)
        // `--rerun`: a test that fails is run once more, alone and verbose,
        // as CPython's own CI runs them; a few test_os cases measure wall
        // time round a timer and fail when the host preempts the process
        // for a millisecond (seen under load average 8 in one run of ten,
        // with the same test passing in the next). A test that fails again
        // fails the module; one that passes on its second run is named in
        // the totals (`passed-on-rerun=`), never hidden.
        .args(["-m", "test", "--timeout", "600", "--rerun"])
        .args(verbose.then_some("-v"))
        .arg(module)
        .current_dir(&work)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LANG", "C.UTF-8")
        .env("TZ", "UTC")
        .env("HOME", &work)
        .env("TMPDIR", &work)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONNOUSERSITE", "1");
    let r = run_captured(&mut cmd, b"", timeout);
    let secs = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&work);
    match r {
        Ok(c) => {
            let out = String::from_utf8_lossy(&c.stdout).into_owned();
            let mut totals = out
                .lines()
                .find_map(|l| l.strip_prefix("Total tests: "))
                .unwrap_or("")
                .to_string();
            let result = out.lines().find_map(|l| l.trim().strip_prefix("Result: "));
            let success =
                c.status == 0 && matches!(result, Some("SUCCESS") | Some("FAILURE then SUCCESS"));
            if result == Some("FAILURE then SUCCESS") {
                let reran: Vec<&str> = out.lines().filter_map(rerun_matching).collect();
                totals = format!("{totals} passed-on-rerun={}", reran.join(","));
            }
            let err = String::from_utf8_lossy(&c.stderr);
            let counts = verbose.then(|| {
                let log = crate::util::root().join("target/cpython");
                let _ = std::fs::create_dir_all(&log);
                let name = format!("{module}.{}.log", runner.label().replace("cpython:", ""));
                let _ = std::fs::write(log.join(name), format!("{out}\n--- stderr ---\n{err}"));
                parse_verbose(&out)
            });
            let mut tail = String::new();
            if !success {
                let lines: Vec<&str> = out.lines().chain(err.lines()).collect();
                tail = lines[lines.len().saturating_sub(12)..].join("\n");
            }
            ModuleRun {
                status: c.status,
                success,
                totals,
                secs,
                tail,
                counts,
            }
        }
        Err(e) => ModuleRun {
            status: -1,
            success: false,
            totals: String::new(),
            secs,
            tail: e,
            counts: verbose.then(|| Counts {
                unfinished: true,
                ..Counts::default()
            }),
        },
    }
}

/// The test cases of a regrtest line `Re-running MODULE in verbose mode
/// (matching: A, B)`, as `A, B`.
fn rerun_matching(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("Re-running ")?;
    let m = rest.split_once("(matching: ")?.1;
    Some(m.strip_suffix(')').unwrap_or(m))
}

/// Runs `modules` under every runner with `jobs` workers; results in
/// (module, runner) order.
pub fn run_all(
    root_dir: &Path,
    modules: &[&str],
    runners: &[Runner],
    jobs: usize,
    timeout: Duration,
    verbose: bool,
) -> Vec<Vec<ModuleRun>> {
    let work: Vec<(usize, usize)> = (0..modules.len())
        .flat_map(|m| (0..runners.len()).map(move |r| (m, r)))
        .collect();
    let results: Mutex<Vec<Vec<Option<ModuleRun>>>> =
        Mutex::new(vec![vec![None; runners.len()]; modules.len()]);
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(m, r)) = work.get(i) else { break };
                    let run = run_module(root_dir, &runners[r], modules[m], timeout, verbose);
                    println!(
                        "{:<6} {:<28} {:<14} {:>6.1}s  {}",
                        if run.success { "ok" } else { "FAIL" },
                        modules[m],
                        runners[r].label(),
                        run.secs,
                        run.totals
                    );
                    results.lock().unwrap()[m][r] = Some(run);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|r| r.expect("every run done"))
                .collect()
        })
        .collect()
}

/// The step of `cargo xtask test`: one outcome per module, under the
/// runner label `cpython:ENGINE`.
pub fn test_step(filter: Option<&str>, engine: &str, jobs: usize) -> Vec<Outcome> {
    let modules: Vec<&str> = MODULES
        .iter()
        .map(|(m, _)| *m)
        .filter(|m| filter.is_none_or(|f| "cpython".contains(f) || m.contains(f)))
        .collect();
    if modules.is_empty() {
        return Vec::new();
    }
    let runner = Runner::Pvm(engine.into());
    let fail_all = |msg: String| -> Vec<Outcome> {
        modules
            .iter()
            .map(|m| Outcome {
                runner: runner.label(),
                case: format!("cpython.{m}"),
                result: Err(msg.clone()),
            })
            .collect()
    };
    let root_dir = match sysroot::ensure() {
        Ok(r) => r,
        Err(FetchError::NoRegistry(m)) => {
            return modules
                .iter()
                .map(|m2| Outcome {
                    runner: runner.label(),
                    case: format!("cpython.{m2}"),
                    result: Ok(Some(format!("no package registry: {m}"))),
                })
                .collect();
        }
        Err(FetchError::Failed(m)) => return fail_all(m),
    };
    if let Err(e) = prepare(&root_dir, &modules) {
        return fail_all(e);
    }
    let runs = run_all(
        &root_dir,
        &modules,
        std::slice::from_ref(&runner),
        jobs,
        Duration::from_secs(900),
        false,
    );
    modules
        .iter()
        .zip(runs)
        .map(|(m, r)| {
            let r = &r[0];
            Outcome {
                runner: runner.label(),
                case: format!("cpython.{m}"),
                result: if r.success {
                    Ok(None)
                } else {
                    Err(format!(
                        "python3 -m test {m}: status {} ({})\n{}",
                        r.status, r.totals, r.tail
                    ))
                },
            }
        })
        .collect()
}

/// `cargo xtask cpython [--qemu] [--all] [--engine E] [MODULE...]`: the
/// side-by-side table.
pub fn command(
    modules: &[String],
    qemu: bool,
    all: bool,
    engine: &str,
    jobs: usize,
) -> Result<bool, String> {
    let root_dir = sysroot::ensure().map_err(|e| e.to_string())?;
    let mut list: Vec<&str> = if modules.is_empty() {
        MODULES.iter().map(|(m, _)| *m).collect()
    } else {
        modules.iter().map(|s| s.as_str()).collect()
    };
    if all {
        for m in LONG_MODULES {
            if !list.contains(m) {
                list.push(m);
            }
        }
    }
    prepare(&root_dir, &list)?;
    let mut runners = vec![Runner::Pvm(engine.into())];
    if qemu {
        runners.push(Runner::Qemu);
    }
    let runs = run_all(
        &root_dir,
        &list,
        &runners,
        jobs,
        Duration::from_secs(3600),
        true,
    );
    println!();
    print!("| module |");
    for r in &runners {
        let l = r.label().replace("cpython:", "");
        print!(" {l} run | {l} failures | {l} errors | {l} skipped |");
    }
    if runners.len() > 1 {
        print!(
            " failing under {} only |",
            runners[0].label().replace("cpython:", "pvm ")
        );
    }
    println!();
    print!("|---|");
    for _ in &runners {
        print!("---|---|---|---|");
    }
    if runners.len() > 1 {
        print!("---|");
    }
    println!();
    let mut ok = true;
    for (m, row) in list.iter().zip(&runs) {
        print!("| {m} |");
        for r in row {
            print!(" {} |", figures(r));
        }
        if let [pvm, others @ ..] = &row[..]
            && !others.is_empty()
        {
            print!(" {} |", only_in(pvm, others));
        }
        println!();
        ok &= row[0].success;
    }
    for (m, row) in list.iter().zip(&runs) {
        for (r, run) in runners.iter().zip(row) {
            if !run.success {
                println!(
                    "\n{m} under {} (status {}, {:.0} s):\n{}",
                    r.label(),
                    run.status,
                    run.secs,
                    run.tail
                );
                if let Some(c) = &run.counts {
                    for f in &c.failing {
                        let again = if c.failing_again.contains(f) {
                            " (failed again)"
                        } else {
                            ""
                        };
                        println!("  failing: {f}{again}");
                    }
                }
            }
        }
    }
    println!(
        "\nfull outputs: {}",
        crate::util::root().join("target/cpython").display()
    );
    Ok(ok)
}

/// One runner's four table cells: run, failures, errors, skipped (the
/// first run's, as unittest counts them), with a note when the module
/// did not finish.
fn figures(r: &ModuleRun) -> String {
    match &r.counts {
        Some(c) if !c.unfinished => {
            format!("{} | {} | {} | {}", c.run, c.failures, c.errors, c.skipped)
        }
        _ => format!(
            "did not finish (status {}, {:.0} s) | | |",
            r.status, r.secs
        ),
    }
}

/// The tests failing in `first`'s run and in none of `others`', or a note
/// that an other runner did not finish (its list is then incomplete).
fn only_in(first: &ModuleRun, others: &[ModuleRun]) -> String {
    let Some(c) = &first.counts else {
        return String::new();
    };
    let mut names: Vec<&str> = c
        .failing
        .iter()
        .filter(|f| {
            !others
                .iter()
                .any(|o| o.counts.as_ref().is_some_and(|oc| oc.failing.contains(f)))
        })
        .map(|f| f.as_str())
        .collect();
    if names.is_empty() {
        names.push("none");
    }
    let mut s = names.join("; ");
    if others
        .iter()
        .any(|o| o.counts.as_ref().is_none_or(|oc| oc.unfinished))
    {
        s.push_str(" (the other runner did not finish)");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::{Counts, parse_verbose, rerun_matching};

    const EQ: &str = "======================================================================";

    #[test]
    fn verbose_output() {
        let out = format!(
            "test_a (test.test_x.T.test_a) ... ok\n\
             test_b (test.test_x.T.test_b) ... FAIL\n\
             test_c (test.test_x.T.test_c) ... skipped 'no'\n\
             FAIL: printed by a test, not a header\n\
             {EQ}\nFAIL: test_b (test.test_x.T.test_b)\n---\n\
             {EQ}\nERROR: test_d (test.test_x.T.test_d) (n=1)\n---\n\
             Ran 4 tests in 0.280s\n\nFAILED (failures=1, errors=1, skipped=1)\n\
             0:00:01 load avg: 1.00 [1/2] test_x failed (1 failure)\n\
             {EQ}\nERROR: test_e (test.test_y.T.test_e)\n---\n\
             Ran 3 tests in 0.1s\n\nFAILED (errors=1)\n\
             test_f (test.test_y.T.test_f) ... ok\n\
             Ran 3 tests in 0.1s\n\nOK (skipped=2, expected failures=1)\n\n\
             0:00:02 load avg: 1.00 [2/2] test_y passed\n\
             0:00:01 load avg: 1.00 Re-running test_x in verbose mode (matching: test_b, test_d)\n\
             {EQ}\nFAIL: test_b (test.test_x.T.test_b)\n\
             Ran 2 tests in 0.1s\n\nFAILED (failures=1)\n"
        );
        assert_eq!(
            parse_verbose(&out),
            Counts {
                run: 7,
                failures: 1,
                errors: 1,
                skipped: 3,
                unfinished: false,
                failing: vec![
                    "test_b (test.test_x.T.test_b)".into(),
                    "test_d (test.test_x.T.test_d) (n=1)".into()
                ],
                failing_again: vec!["test_b (test.test_x.T.test_b)".into()],
            }
        );
        assert!(parse_verbose("test_a (test.test_x.T.test_a) ... ").unfinished);
    }

    #[test]
    fn rerun_lines() {
        assert_eq!(
            rerun_matching(
                "Re-running test_os in verbose mode (matching: test_timerfd_TFD_TIMER_ABSTIME)"
            ),
            Some("test_timerfd_TFD_TIMER_ABSTIME")
        );
        assert_eq!(
            rerun_matching("Re-running test_x in verbose mode (matching: a, b)"),
            Some("a, b")
        );
        assert_eq!(
            rerun_matching("Re-running 1 failed tests in verbose mode"),
            None
        );
        assert_eq!(rerun_matching("ok"), None);
    }
}
