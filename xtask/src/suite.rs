//! The guest test suite: runs every built guest under the oracle
//! (`qemu-riscv64`) and under each pvm runner, and compares.
//!
//! A case passes on a runner when its stdout and exit status (and stderr for
//! cases marked `//@ stderr`) equal both the checked-in expectation
//! (`tests/expected/<stem>.out`, status from the `//@ status:` directive) and
//! what qemu-riscv64 produced in the same run. qemu itself is checked against
//! the expectation too, so a drifting oracle or a stale expectation shows up.

use crate::guests::{Case, SYSROOT};
use crate::util::{Captured, first_diff, root, run_captured, show};
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Something that runs a guest program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runner {
    /// `qemu-riscv64`, the reference.
    Qemu,
    /// pvm ([`pvm_binary`]) with `--engine <engine>` on the Linux host.
    Pvm(String),
    /// The bare-metal unikernel host with boot option `engine=<engine>`
    /// (`interp` or `jit`), through `xtask::qemu::run_guest`.
    Baremetal(String),
}

/// pvm's options for an engine name of the suite: `interp` or `jit`,
/// then optional `-` parts: a code cache size (`jit-64K`, the translator
/// with a 64 KiB code cache, which forces the code cache manager to flush
/// inside real programs), `flush` or `fifo` (the code cache policy, e.g.
/// `jit-64K-flush`) or `1cpu` (every guest thread in turn on one host
/// thread, as on the bare-metal host: `--threads one`).
pub fn engine_args(engine: &str) -> Vec<String> {
    let mut parts = engine.split('-');
    let mut args = vec!["--engine".into(), parts.next().unwrap_or(engine).into()];
    for p in parts {
        if p == "1cpu" {
            args.extend(["--threads".into(), "one".into()]);
        } else if p == "flush" || p == "fifo" {
            args.extend(["--code-cache-policy".into(), p.into()]);
        } else {
            args.extend(["--code-cache-size".into(), p.into()]);
        }
    }
    args
}

impl Runner {
    pub fn label(&self) -> String {
        match self {
            Runner::Qemu => "qemu-riscv64".into(),
            Runner::Pvm(e) => format!("pvm:{e}"),
            Runner::Baremetal(e) => format!("baremetal:{e}"),
        }
    }
}

/// Guests the bare-metal host cannot run, with the reason: the one place
/// issue 4 asks for. A pattern is a case name, `*.<variant>` or `<stem>.*`;
/// an entry binds every bare-metal engine, or the one it names.
///
/// What the unikernel lacks, and answers as a Linux kernel built without
/// it does (the guests that show it have a `.baremetal.out` of their own):
/// - network interfaces but the loopback: its sockets are local ones
///   (`AF_UNIX`, and `AF_INET`/`AF_INET6` on the loopback only: `bind`
///   elsewhere is `EADDRNOTAVAIL`, `connect` `ENETUNREACH`); `lo` is
///   described by the `SIOCGIF*` ioctls and `NETLINK_ROUTE` dumps, and
///   other netlink protocols are `EPROTONOSUPPORT`;
/// - programs of the machine's own: `execve` of an x86-64 program is
///   `ENOEXEC` (`lacks_net_native`), and the host's `/bin/sh`, `/bin/echo`
///   are not in its ramdisk (`ENOENT`, `proc_exec`);
/// - directory notification and file leases: `fcntl`'s `F_NOTIFY`,
///   `F_SETLEASE` and `F_GETLEASE` are `EINVAL`, as without
///   `CONFIG_DNOTIFY` and `CONFIG_FILE_LOCKING` (`dnotify`).
pub const BAREMETAL_SKIP: &[(&str, Option<&str>, &str)] = &[
    (
        "proc_spawn.*",
        None,
        "runs host programs (/bin/sh, echo), which the unikernel does not have (posix_spawn gives ENOENT there)",
    ),
    (
        "misc_calls.*",
        None,
        "no RESOLVE_* path walk (openat2), inotify or ioprio on the unikernel (its pidfds: proc_pidfd)",
    ),
    (
        "sched_ids.*",
        None,
        "no FIFOs or other special files (mknodat) on the unikernel's file systems",
    ),
    ("pty.*", None, "no /dev/ptmx on the unikernel"),
    (
        "exec_setuid.*",
        None,
        "the unikernel's guest cannot become another user: its ids never change (setresuid to another id is EPERM, HostOs::setresid's default)",
    ),
    (
        "esc_clone3_cgroup.*",
        None,
        "no cgroup file system on the unikernel (every CLONE_INTO_CGROUP descriptor is EBADF there)",
    ),
    (
        "esc_fd_linkrace.*",
        None,
        "races two processes, which take turns on the unikernel's one CPU (its flipper might not run in the time the probe races), and the unikernel holds no descriptors of pvm's own",
    ),
    (
        "esc_fd_execrace.*",
        None,
        "races two processes as esc_fd_linkrace does, and the unikernel holds no descriptors of pvm's own",
    ),
    (
        "esc_fd_walkrace.*",
        None,
        "races two processes as esc_fd_linkrace does, runs an x86-64 program, and the unikernel holds no descriptors of pvm's own",
    ),
    (
        "esc_openat2_resolve.*",
        None,
        "the unikernel's file system has no openat2 with RESOLVE_* flags (ENOSYS) and no mount points or /proc links of the host's",
    ),
    (
        "sbx_*",
        None,
        "--sandbox is pvm's on Linux (host paths, Landlock, seccomp): the unikernel has no host files to guard",
    ),
    (
        "lim_*",
        None,
        "the limits are options of pvm on Linux; the unikernel's boot line has none",
    ),
    // The bare-metal interpreter only. It runs in QEMU's TCG two to
    // three times as long as the translator (summed over the suite,
    // 1340 s against 888 s before these two), and most of what a case
    // shows there is the unikernel's (its loader, file system, processes,
    // signals), which `baremetal:jit` runs as well; the interpreter itself
    // runs every case under `pvm:interp`.
    (
        "*.dynamic",
        Some("interp"),
        "the interpreter does not depend on how a guest was linked: on the unikernel the dynamic build runs under baremetal:jit (the same loader, ld.so and file system), the static one under both engines",
    ),
    (
        "jit_code_syscall.*",
        Some("interp"),
        "probes a Linux host's race (its kernel refusing copies into write-protected code pages), which the unikernel has not; baremetal:jit runs it, and the interpreter's run takes over 200 s in TCG",
    ),
];

/// Does pattern `pat` (a case name, `*.<variant>` or `<stem>.*`, or a
/// prefix ending in `*`) name `case`?
fn pattern_names(pat: &str, case: &str) -> bool {
    if let Some(suffix) = pat.strip_prefix('*') {
        case.ends_with(suffix)
    } else if let Some(prefix) = pat.strip_suffix('*') {
        case.starts_with(prefix)
    } else {
        case == pat
    }
}

fn skip_reason(runner: &Runner, case: &str) -> Option<&'static str> {
    let Runner::Baremetal(engine) = runner else {
        return None;
    };
    BAREMETAL_SKIP.iter().find_map(|(pat, only, why)| {
        (only.is_none_or(|e| e == engine) && pattern_names(pat, case)).then_some(*why)
    })
}

/// Where `cargo build --release` puts pvm (under the named host target,
/// see `util::HOST_TARGET`).
pub fn pvm_binary() -> PathBuf {
    root()
        .join("target")
        .join(crate::util::HOST_TARGET)
        .join("release/pvm")
}

/// A scratch working directory for one run, so file-system tests start
/// clean and cannot see each other.
fn scratch_dir(case: &str, runner: &Runner) -> Result<PathBuf, String> {
    let d = std::env::temp_dir()
        .join(format!("pvm-tests-{}", std::process::id()))
        .join(format!("{case}.{}", runner.label().replace(':', "-")));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
    Ok(d)
}

/// The small, fixed environment every guest starts with, so that qemu and
/// pvm see the same one and outputs do not depend on the caller's shell.
pub fn base_env() -> Vec<(String, String)> {
    vec![
        ("PATH".into(), "/usr/bin:/bin".into()),
        ("LANG".into(), "C".into()),
        ("LC_ALL".into(), "C".into()),
    ]
}

/// Applies `-E VAR=VAL` / `-U VAR` to an environment, for the runner that
/// has no command line of its own (the bare-metal host).
fn apply_vm_args(mut env: Vec<(String, String)>, vm_args: &[String]) -> Vec<(String, String)> {
    let mut it = vm_args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next()) {
            ("-E", Some(kv)) => {
                if let Some((k, v)) = kv.split_once('=') {
                    env.retain(|(ek, _)| ek != k);
                    env.push((k.to_string(), v.to_string()));
                }
            }
            ("-U", Some(k)) => env.retain(|(ek, _)| ek != k),
            _ => {}
        }
    }
    env
}

/// The environment a case's guest gets on the bare-metal host.
fn baremetal_env(case: &Case) -> Vec<String> {
    let env = base_env()
        .into_iter()
        .chain(case.env.iter().cloned())
        .collect();
    apply_vm_args(env, &case.vm_args)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

/// Runs one case under one runner.
pub fn run_case(case: &Case, runner: &Runner) -> Result<Captured, String> {
    let dir = scratch_dir(&case.name, runner)?;
    let mut cmd = match runner {
        Runner::Qemu => {
            let mut c = Command::new("qemu-riscv64");
            if case.is_dynamic() {
                c.args(["-L", SYSROOT]);
            }
            c
        }
        Runner::Pvm(engine) => {
            let pvm = pvm_binary();
            if !pvm.is_file() {
                return Err(format!(
                    "{} is missing (cargo build --release failed?)",
                    pvm.display()
                ));
            }
            let mut c = Command::new(pvm);
            // An option the guest's `pvm-args` give too (`--threads one`
            // of a guest that needs it under every engine) is the
            // guest's: pvm takes each option once.
            let ea = engine_args(engine);
            for pair in ea.chunks(2) {
                if !case.pvm_args.contains(&pair[0]) {
                    c.args(pair);
                }
            }
            let d = dir.display().to_string();
            c.args(case.pvm_args.iter().map(|a| a.replace("{dir}", &d)));
            if case.is_dynamic() {
                c.args(["-L", SYSROOT]);
            }
            c
        }
        Runner::Baremetal(engine) => {
            let env = baremetal_env(case);
            let r =
                crate::qemu::run_guest(&case.binary, &case.args, &env, &case.stdin, &[], engine)
                    .map(|o| Captured {
                        stdout: o.stdout,
                        stderr: o.stderr,
                        status: o.status,
                        ..Default::default()
                    });
            let _ = fs::remove_dir_all(&dir);
            return r;
        }
    };
    cmd.args(&case.vm_args)
        .arg(&case.binary)
        .args(&case.args)
        .current_dir(&dir)
        .env_clear();
    for (k, v) in base_env().iter().chain(case.env.iter()) {
        cmd.env(k, v);
    }
    let r = run_captured(&mut cmd, &case.stdin, case.timeout);
    let _ = fs::remove_dir_all(&dir);
    r
}

/// What was expected of a case: the checked-in files and directive.
struct Expectation {
    stdout: Option<Vec<u8>>,
    stderr: Option<Vec<u8>>,
    status: i32,
}

fn expectation(case: &Case) -> Expectation {
    Expectation {
        stdout: fs::read(case.expected_stdout_path()).ok(),
        stderr: if case.compare_stderr {
            fs::read(case.expected_stderr_path()).ok()
        } else {
            None
        },
        status: case.status,
    }
}

/// The bare-metal host's own expected stdout, where what it lacks (host
/// programs, the network) changes a guest's output:
/// `tests/expected/<stem>.baremetal.out`, written by hand (`--bless` leaves
/// it alone), which is then the only judge of the bare-metal runs (qemu's
/// output is Linux's). `None`: the common one.
fn baremetal_expectation(case: &Case, runner: &Runner) -> Option<Expectation> {
    if !matches!(runner, Runner::Baremetal(_)) {
        return None;
    }
    let path = root()
        .join("tests/expected")
        .join(format!("{}.baremetal.out", case.stem));
    let stdout = fs::read(path).ok()?;
    Some(Expectation {
        stdout: Some(stdout),
        ..expectation(case)
    })
}

/// Checks one run against the expectation and (for pvm runners) qemu's run.
fn check(
    case: &Case,
    exp: &Expectation,
    got: &Captured,
    oracle: Option<&Captured>,
) -> Result<(), String> {
    let mut problems = Vec::new();
    if String::from_utf8_lossy(&got.stderr).contains("panicked") {
        problems.push(format!("panicked: {}", show(&got.stderr, 400)));
    }
    if got.status != exp.status {
        problems.push(format!(
            "exit status {} (expected {})",
            got.status, exp.status
        ));
    }
    match &exp.stdout {
        Some(want) if *want != got.stdout => problems.push(format!(
            "stdout differs from {}: {}",
            case.expected_stdout_path()
                .strip_prefix(root())
                .unwrap()
                .display(),
            first_diff(want, &got.stdout)
        )),
        Some(_) => {}
        None => problems.push(format!(
            "no expectation {} (create it with `cargo xtask test --bless`)",
            case.expected_stdout_path()
                .strip_prefix(root())
                .unwrap()
                .display()
        )),
    }
    if case.compare_stderr {
        match &exp.stderr {
            Some(want) if *want != got.stderr => problems.push(format!(
                "stderr differs from expectation: {}",
                first_diff(want, &got.stderr)
            )),
            Some(_) => {}
            None => problems.push("no stderr expectation (use --bless)".into()),
        }
    }
    if let Some(q) = oracle {
        if q.status != got.status {
            problems.push(format!(
                "exit status {} but qemu-riscv64 gave {}",
                got.status, q.status
            ));
        }
        if q.stdout != got.stdout {
            problems.push(format!(
                "stdout differs from qemu-riscv64: {}",
                first_diff(&q.stdout, &got.stdout)
            ));
        }
        if case.compare_stderr && q.stderr != got.stderr {
            problems.push(format!(
                "stderr differs from qemu-riscv64: {}",
                first_diff(&q.stderr, &got.stderr)
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        if exp.status != got.status || !got.stderr.is_empty() {
            problems.push(format!("stderr was: {}", show(&got.stderr, 600).trim_end()));
        }
        Err(problems.join("\n      "))
    }
}

/// One result line of the suite.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub runner: String,
    pub case: String,
    /// Ok(None) pass, Ok(Some(reason)) skipped, Err(reason) failed.
    pub result: Result<Option<String>, String>,
}

/// Guests per boot of the bare-metal host (see `qemu::run_batch`): big
/// enough that booting stops dominating (a boot takes 6 s of TCG alone,
/// 9 s with another beside it: at 12 per boot, boots were a quarter of
/// the bare-metal runs' time), small enough that both workers stay busy
/// to the end and a failing boot reruns little.
const BAREMETAL_BATCH: usize = 24;

/// Wall time spent per runner (summed over the workers) and the slowest
/// single runs, printed after the guests so that the suite's share of the
/// CI budget stays visible.
#[derive(Default)]
struct Timing {
    per_runner: std::collections::BTreeMap<String, (f64, usize)>,
    slowest: Vec<(f64, String)>,
}

impl Timing {
    fn add(&mut self, runner: &str, what: String, secs: f64, runs: usize) {
        let e = self.per_runner.entry(runner.to_string()).or_default();
        e.0 += secs;
        e.1 += runs;
        self.slowest.push((secs, what));
    }

    fn print(mut self) {
        let parts: Vec<String> = self
            .per_runner
            .iter()
            .map(|(r, (t, n))| format!("{r} {t:.0} s ({n} runs)"))
            .collect();
        println!(
            "guest time by runner, summed over workers: {}",
            parts.join(", ")
        );
        self.slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
        let top: Vec<String> = self
            .slowest
            .iter()
            .take(8)
            .map(|(t, w)| format!("{w} {t:.1} s"))
            .collect();
        println!("slowest: {}", top.join(", "));
    }
}

/// Runs every case under qemu and every runner with `workers` threads.
/// With `bless`, qemu's output becomes the new expectation. The bare-metal
/// runners go last, in batches (one boot runs several guests), checked
/// against the same qemu runs.
pub fn run_all(cases: &[Case], runners: &[Runner], workers: usize, bless: bool) -> Vec<Outcome> {
    let (baremetal, hosted): (Vec<Runner>, Vec<Runner>) = runners
        .iter()
        .cloned()
        .partition(|r| matches!(r, Runner::Baremetal(_)));
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    let oracles: Mutex<Vec<Option<Captured>>> = Mutex::new(vec![None; cases.len()]);
    let report = |out: &[Outcome]| {
        for o in out {
            if let Err(e) = &o.result {
                eprintln!("FAIL {} [{}]\n      {e}", o.case, o.runner);
            }
        }
    };
    let timing = Mutex::new(Timing::default());
    // A case marked `//@ alone` runs while no other hosted case does.
    let host_wide = std::sync::RwLock::new(());
    std::thread::scope(|s| {
        for _ in 0..workers.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    let (_shared, _alone) = if case.alone.is_some() {
                        (
                            None,
                            Some(host_wide.write().unwrap_or_else(|e| e.into_inner())),
                        )
                    } else {
                        (
                            Some(host_wide.read().unwrap_or_else(|e| e.into_inner())),
                            None,
                        )
                    };
                    let (out, oracle) = run_one(case, &hosted, bless, &timing);
                    report(&out);
                    oracles.lock().unwrap()[i] = oracle;
                    results.lock().unwrap().extend(out);
                }
            });
        }
    });
    let oracles = oracles.into_inner().unwrap();
    let mut batches: Vec<(&Runner, Vec<usize>)> = Vec::new();
    for r in &baremetal {
        let mut run = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            match skip_reason(r, &case.name) {
                Some(why) => results.lock().unwrap().push(Outcome {
                    runner: r.label(),
                    case: case.name.clone(),
                    result: Ok(Some(why.to_string())),
                }),
                None => run.push(i),
            }
        }
        // PVM_BAREMETAL_BATCH=1 boots once per guest (to compare, or to
        // isolate a guest that disturbs the ones after it).
        let per_boot = std::env::var("PVM_BAREMETAL_BATCH")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n: &usize| n > 0)
            .unwrap_or(BAREMETAL_BATCH);
        batches.extend(run.chunks(per_boot).map(|c| (r, c.to_vec())));
    }
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..workers.max(1) {
            s.spawn(|| {
                loop {
                    let b = next.fetch_add(1, Ordering::Relaxed);
                    let Some((runner, idx)) = batches.get(b) else {
                        break;
                    };
                    let Runner::Baremetal(engine) = runner else {
                        break;
                    };
                    let envs: Vec<Vec<String>> =
                        idx.iter().map(|&i| baremetal_env(&cases[i])).collect();
                    let jobs: Vec<crate::qemu::BatchJob<'_>> = idx
                        .iter()
                        .zip(&envs)
                        .map(|(&i, env)| crate::qemu::BatchJob {
                            program: &cases[i].binary,
                            args: &cases[i].args,
                            env,
                            stdin: &cases[i].stdin,
                        })
                        .collect();
                    let t0 = std::time::Instant::now();
                    let got = crate::qemu::run_batch(&jobs, engine);
                    timing.lock().unwrap().add(
                        &runner.label(),
                        format!(
                            "{} guests from {} [{}]",
                            idx.len(),
                            cases[idx[0]].name,
                            runner.label()
                        ),
                        t0.elapsed().as_secs_f64(),
                        idx.len(),
                    );
                    let out: Vec<Outcome> = idx
                        .iter()
                        .zip(got)
                        .map(|(&i, g)| {
                            let case = &cases[i];
                            let res = g
                                .map(|o| Captured {
                                    stdout: o.stdout,
                                    stderr: o.stderr,
                                    status: o.status,
                                    ..Default::default()
                                })
                                .and_then(|got| {
                                    let own = baremetal_expectation(case, runner);
                                    // A hand-written expectation of its own is
                                    // the judge where Linux's output differs.
                                    let oracle = oracles[i].as_ref().filter(|_| own.is_none());
                                    let exp = own.unwrap_or_else(|| expectation(case));
                                    check(case, &exp, &got, oracle)
                                });
                            Outcome {
                                runner: runner.label(),
                                case: case.name.clone(),
                                result: res.map(|_| None),
                            }
                        })
                        .collect();
                    report(&out);
                    results.lock().unwrap().extend(out);
                }
            });
        }
    });
    timing.into_inner().unwrap().print();
    let mut v = results.into_inner().unwrap();
    v.sort_by(|a, b| (&a.case, &a.runner).cmp(&(&b.case, &b.runner)));
    v
}

/// One case under qemu (the oracle, also returned) and `runners`.
fn run_one(
    case: &Case,
    runners: &[Runner],
    bless: bool,
    timing: &Mutex<Timing>,
) -> (Vec<Outcome>, Option<Captured>) {
    let timed = |r: &Runner| {
        let t0 = std::time::Instant::now();
        let got = run_case(case, r);
        let secs = t0.elapsed().as_secs_f64();
        let label = r.label();
        let what = format!("{} [{label}]", case.name);
        timing.lock().unwrap().add(&label, what, secs, 1);
        got
    };
    let mut out = Vec::new();
    let q = match &case.no_qemu {
        Some(why) => Err(format!("not run: {why}")),
        None => timed(&Runner::Qemu),
    };
    if bless && let Ok(q) = &q {
        let _ = fs::create_dir_all(root().join("tests/expected"));
        let _ = fs::write(case.expected_stdout_path(), &q.stdout);
        if case.compare_stderr {
            let _ = fs::write(case.expected_stderr_path(), &q.stderr);
        }
    }
    let exp = expectation(case);
    let oracle = match &q {
        Ok(q) => {
            out.push(Outcome {
                runner: Runner::Qemu.label(),
                case: case.name.clone(),
                result: check(case, &exp, q, None).map(|_| None),
            });
            Some(q)
        }
        Err(e) => {
            let result = if case.no_qemu.is_some() {
                Ok(Some(e.clone()))
            } else {
                Err(e.clone())
            };
            out.push(Outcome {
                runner: Runner::Qemu.label(),
                case: case.name.clone(),
                result,
            });
            None
        }
    };
    for r in runners {
        if let Some(why) = skip_reason(r, &case.name) {
            out.push(Outcome {
                runner: r.label(),
                case: case.name.clone(),
                result: Ok(Some(why.to_string())),
            });
            continue;
        }
        let own = baremetal_expectation(case, r);
        let oracle = oracle.filter(|_| own.is_none());
        let exp = own.as_ref().unwrap_or(&exp);
        let res = timed(r).and_then(|got| check(case, exp, &got, oracle));
        out.push(Outcome {
            runner: r.label(),
            case: case.name.clone(),
            result: res.map(|_| None),
        });
    }
    let oracle = oracle.cloned();
    (out, oracle)
}

/// Prints the per-runner summary; returns true when nothing failed.
pub fn summarize(outcomes: &[Outcome], labels: &[String]) -> bool {
    println!();
    let w = labels.iter().map(String::len).max().unwrap_or(0).max(16);
    println!(
        "{:<w$} {:>7} {:>7} {:>7}",
        "runner", "passed", "failed", "skipped"
    );
    let mut ok = true;
    for l in labels {
        let mine: Vec<&Outcome> = outcomes.iter().filter(|o| &o.runner == l).collect();
        let pass = mine.iter().filter(|o| matches!(o.result, Ok(None))).count();
        let skip = mine
            .iter()
            .filter(|o| matches!(o.result, Ok(Some(_))))
            .count();
        let fail = mine.iter().filter(|o| o.result.is_err()).count();
        ok &= fail == 0;
        println!("{l:<w$} {pass:>7} {fail:>7} {skip:>7}");
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.result.is_err()).collect();
    if !failed.is_empty() {
        println!("\nfailed:");
        for o in failed {
            println!("  {} [{}]", o.case, o.runner);
        }
    }
    ok
}

/// The skipped cases for the summary line: their count and, for each
/// reason, how many and on which runners ("0 skipped" when none).
pub fn skipped_summary(outcomes: &[Outcome]) -> String {
    use std::collections::{BTreeMap, BTreeSet};
    let mut by: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
    for o in outcomes {
        if let Ok(Some(why)) = &o.result {
            let e = by.entry(why.as_str()).or_default();
            e.0 += 1;
            e.1.insert(o.runner.as_str());
        }
    }
    let total: usize = by.values().map(|(n, _)| n).sum();
    if total == 0 {
        return "0 skipped".into();
    }
    let parts: Vec<String> = by
        .iter()
        .map(|(why, (n, runners))| {
            let r: Vec<&str> = runners.iter().copied().collect();
            format!("{n} on {}: {why}", r.join(", "))
        })
        .collect();
    format!("{total} skipped ({})", parts.join("; "))
}

/// Guests run again and again by the stress step: races between guest
/// threads and the shared code cache (rewritten code, flushes, signals to
/// parked threads) show up in some runs only.
pub const STRESS: &[&str] = &["thr_smc.static", "thr_many.static", "thr_sigsuspend.static"];

/// The stress step of `cargo xtask test`: each of [`STRESS`] under each
/// engine, run until `budget` has passed (at least once), every run
/// checked against the expectation as in the suite. One outcome per case
/// and engine, under the runner label `stress`, naming the runs made.
pub fn stress(
    cases: &[Case],
    engines: &[String],
    budget: std::time::Duration,
    workers: usize,
) -> Vec<Outcome> {
    let work: Vec<(&Case, &String)> = cases
        .iter()
        .filter(|c| STRESS.contains(&c.name.as_str()))
        .flat_map(|c| engines.iter().map(move |e| (c, e)))
        .collect();
    let next = AtomicUsize::new(0);
    let out = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(case, engine)) = work.get(i) else {
                        break;
                    };
                    let runner = Runner::Pvm(engine.clone());
                    let exp = expectation(case);
                    let start = std::time::Instant::now();
                    let mut runs = 0u32;
                    let mut result = Ok(None);
                    while runs == 0 || start.elapsed() < budget {
                        runs += 1;
                        let r =
                            run_case(case, &runner).and_then(|got| check(case, &exp, &got, None));
                        if let Err(e) = r {
                            result = Err(format!("run {runs}: {e}"));
                            break;
                        }
                    }
                    println!(
                        "{:<6} {} [{}] x{runs}",
                        if result.is_ok() { "ok" } else { "FAIL" },
                        case.name,
                        runner.label()
                    );
                    out.lock().unwrap().push(Outcome {
                        runner: "stress".into(),
                        case: format!("{} [{}] x{runs}", case.name, runner.label()),
                        result,
                    });
                }
            });
        }
    });
    out.into_inner().unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_cases_are_counted_with_reasons() {
        let o = |runner: &str, result: Result<Option<String>, String>| Outcome {
            runner: runner.into(),
            case: "c".into(),
            result,
        };
        assert_eq!(skipped_summary(&[o("a", Ok(None))]), "0 skipped");
        let all = [
            o("baremetal:jit", Ok(Some("no timers".into()))),
            o("baremetal:interp", Ok(Some("no timers".into()))),
            o("qemu-riscv64", Ok(Some("not run: too old".into()))),
            o("pvm:jit", Err("failed".into())),
            o("pvm:jit", Ok(None)),
        ];
        assert_eq!(
            skipped_summary(&all),
            "3 skipped (2 on baremetal:interp, baremetal:jit: no timers; \
             1 on qemu-riscv64: not run: too old)"
        );
    }

    fn cap(out: &str, err: &str, status: i32) -> Captured {
        Captured {
            stdout: out.into(),
            stderr: err.into(),
            status,
            ..Default::default()
        }
    }

    fn exp(out: &str, status: i32) -> Expectation {
        Expectation {
            stdout: Some(out.into()),
            stderr: None,
            status,
        }
    }

    #[test]
    fn check_passes_only_when_all_agree() {
        let case = Case::for_test("t", 0);
        let q = cap("a\nb\n", "", 0);
        assert!(check(&case, &exp("a\nb\n", 0), &cap("a\nb\n", "", 0), Some(&q)).is_ok());
        // Differs from qemu and from the expectation.
        let e = check(&case, &exp("a\nb\n", 0), &cap("a\nc\n", "", 0), Some(&q)).unwrap_err();
        assert!(e.contains("qemu-riscv64") && e.contains("line 2"), "{e}");
        // Agrees with the expectation but not with qemu (qemu drifted).
        let q2 = cap("x\n", "", 0);
        assert!(check(&case, &exp("a\nb\n", 0), &cap("a\nb\n", "", 0), Some(&q2)).is_err());
        // Wrong status, a panic, a missing expectation.
        assert!(check(&case, &exp("a\nb\n", 0), &cap("a\nb\n", "", 1), None).is_err());
        assert!(
            check(
                &case,
                &exp("", 0),
                &cap("", "thread 'main' panicked at x", 0),
                None
            )
            .is_err()
        );
        let none = Expectation {
            stdout: None,
            stderr: None,
            status: 0,
        };
        assert!(
            check(&case, &none, &cap("", "", 0), None)
                .unwrap_err()
                .contains("--bless")
        );
    }

    #[test]
    fn stderr_compared_only_when_asked() {
        let mut case = Case::for_test("t", 0);
        let q = cap("o", "e1", 0);
        assert!(check(&case, &exp("o", 0), &cap("o", "e2", 0), Some(&q)).is_ok());
        case.compare_stderr = true;
        let e = Expectation {
            stdout: Some("o".into()),
            stderr: Some("e1".into()),
            status: 0,
        };
        assert!(check(&case, &e, &cap("o", "e2", 0), Some(&q)).is_err());
        assert!(check(&case, &e, &cap("o", "e1", 0), Some(&q)).is_ok());
    }

    #[test]
    fn vm_args_edit_environment() {
        let env = vec![
            ("A".to_string(), "1".to_string()),
            ("B".to_string(), "2".to_string()),
        ];
        let args: Vec<String> = ["-E", "A=x", "-U", "B", "-E", "C=3"]
            .map(String::from)
            .to_vec();
        let got = apply_vm_args(env, &args);
        assert_eq!(
            got,
            vec![("A".into(), "x".into()), ("C".into(), "3".into())]
        );
    }

    #[test]
    fn baremetal_skips_only_baremetal() {
        assert!(skip_reason(&Runner::Pvm("interp".into()), "hello.dynamic").is_none());
        for (pat, only, _) in BAREMETAL_SKIP {
            let name = pat.replace('*', "x");
            assert!(skip_reason(&Runner::Baremetal("interp".into()), &name).is_some());
            // An entry naming the interpreter binds it alone.
            let jit = skip_reason(&Runner::Baremetal("jit".into()), &name);
            assert_eq!(jit.is_some(), only.is_none());
            assert!(skip_reason(&Runner::Pvm("interp".into()), &name).is_none());
        }
        assert!(skip_reason(&Runner::Baremetal("interp".into()), "hello.static").is_none());
    }
}
