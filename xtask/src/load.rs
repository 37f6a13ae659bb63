//! Load test and soak run (`cargo xtask load`, also a step of `cargo
//! xtask test`).
//!
//! Load: [`PROCESSES`] pvm processes started at once, a mix of the
//! benchmark programs at small sizes (`tests/bench/`, their output checked
//! against qemu-riscv64's) and the thread tests (`tests/guests/thr_*`,
//! static and dynamic, checked against `tests/expected/`), under the
//! translator, the interpreter and the translator with a 64 KiB cache in
//! turn. Every one must finish within [`LOAD_TIMEOUT`] with the right
//! output and status; the peak RSS of each pvm process (`ru_maxrss` from
//! `wait4`) is reported.
//!
//! Soak: `tests/soak/jit_forever.c`, a guest that writes and runs fresh
//! code without end (new addresses and overwritten ones, `fence.i`), runs
//! for [`SOAK_SECONDS`] under the translator with a 64 KiB code cache
//! (flushing all the time). pvm's RSS (`VmRSS`) after [`WARM_UP`] and at
//! the end must be within [`soak_margin`]: nothing grows with the number
//! of translations, flushes or code invalidations.

use crate::guests::{self, CC, Case, SYSROOT};
use crate::suite::{base_env, engine_args, pvm_binary};
use crate::util::root;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// pvm processes running at once in the load test.
pub const PROCESSES: usize = 40;
/// Each must end within this.
const LOAD_TIMEOUT: Duration = Duration::from_secs(120);
/// The soak run's length, and when its RSS is first taken.
pub const SOAK_SECONDS: u64 = 12;
const WARM_UP: Duration = Duration::from_secs(3);
/// Engines the load test's processes take in turn.
const ENGINES: [&str; 3] = ["jit", "interp", "jit-64K"];
/// Benchmarks at small sizes (argv[1]): a few tens of milliseconds each
/// under the translator.
const BENCH: [(&str, &str); 5] = [
    ("branch", "100000"),
    ("float", "200000"),
    ("int", "1000000"),
    ("memory", "1"),
    ("strings", "2"),
];

/// RSS growth the soak run may show after warm-up: 2% or 512 KiB,
/// whichever is more (allocator noise: a hash table of the profile
/// doubling once on a loaded machine gave 272 KiB). A leak of even 8
/// bytes per round of fresh code passes that within the run's 60,000 or
/// more rounds after warm-up.
pub fn soak_margin(warm_kb: u64) -> u64 {
    (warm_kb / 50).max(512)
}

/// One program of the mix.
struct Job {
    name: String,
    binary: PathBuf,
    args: Vec<String>,
    stdin: Vec<u8>,
    env: Vec<(String, String)>,
    vm_args: Vec<String>,
    dynamic: bool,
    stdout: Vec<u8>,
    status: i32,
}

/// What one process did.
pub struct Run {
    pub name: String,
    pub engine: String,
    pub max_rss_kb: u64,
    pub seconds: f64,
}

/// Wait for child `pid` (WNOHANG when `block` is false): its shell-style
/// status and peak RSS in KiB, or None while it runs.
fn reap(pid: u32, block: bool) -> Result<Option<(i32, u64)>, String> {
    crate::util::try_reap(pid as i32, block)
        .map(|r| r.map(|r| (r.shell_status(), r.max_rss_kib)))
        .map_err(|e| format!("wait4: {e}"))
}

fn bench_jobs() -> Result<Vec<Job>, String> {
    let dir = root().join("tests/build/bench");
    let mut jobs = Vec::new();
    for (name, arg) in BENCH {
        let src = root().join(format!("tests/bench/{name}.c"));
        let bin = dir.join(format!("{name}.rv64"));
        // The same command as `cargo xtask bench`, so the build is shared.
        let cmd: Vec<String> = [
            CC,
            "-O2",
            "-g0",
            "-Wall",
            "-ffp-contract=off",
            "-static",
            &src.display().to_string(),
            "-lm",
        ]
        .map(String::from)
        .to_vec();
        guests::build_cached(&cmd, &src, &[], &bin)?;
        let out = Command::new("qemu-riscv64")
            .arg(&bin)
            .arg(arg)
            .output()
            .map_err(|e| format!("qemu-riscv64: {e}"))?;
        if !out.status.success() {
            return Err(format!("{name} {arg} under qemu-riscv64: {}", out.status));
        }
        jobs.push(Job {
            name: format!("bench/{name} {arg}"),
            binary: bin,
            args: vec![arg.to_string()],
            stdin: Vec::new(),
            env: Vec::new(),
            vm_args: Vec::new(),
            dynamic: false,
            stdout: out.stdout,
            status: 0,
        });
    }
    Ok(jobs)
}

fn thread_jobs(jobs: usize) -> Result<Vec<Job>, String> {
    let mut cases: Vec<Case> = guests::discover()?
        .into_iter()
        .filter(|c| c.stem.starts_with("thr_"))
        .collect();
    if let Some((_, e)) = guests::build_all(&cases, jobs).first() {
        return Err(e.clone());
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
        .into_iter()
        .map(|c| {
            let stdout = std::fs::read(c.expected_stdout_path())
                .map_err(|e| format!("{}: {e}", c.expected_stdout_path().display()))?;
            Ok(Job {
                dynamic: c.is_dynamic(),
                name: c.name.clone(),
                binary: c.binary,
                args: c.args,
                stdin: c.stdin,
                env: c.env,
                vm_args: c.vm_args,
                stdout,
                status: c.status,
            })
        })
        .collect()
}

/// Start one job under `engine`; its output and end, checked.
fn start(job: &Job, engine: &str, dir: &Path) -> Result<std::process::Child, String> {
    let mut c = Command::new(pvm_binary());
    c.args(engine_args(engine));
    if job.dynamic {
        c.args(["-L", SYSROOT]);
    }
    c.args(&job.vm_args)
        .arg(&job.binary)
        .args(&job.args)
        .current_dir(dir)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in base_env().iter().chain(job.env.iter()) {
        c.env(k, v);
    }
    c.spawn().map_err(|e| format!("pvm: {e}"))
}

fn finish(
    job: &Job,
    engine: &str,
    mut child: std::process::Child,
    t0: Instant,
) -> Result<Run, String> {
    let mut sin = child.stdin.take().expect("piped");
    let input = job.stdin.clone();
    let w = std::thread::spawn(move || {
        let _ = sin.write_all(&input);
    });
    let mut out = child.stdout.take().expect("piped");
    let r = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let pid = child.id();
    let (status, rss) = loop {
        if let Some(x) = reap(pid, false)? {
            break x;
        }
        if t0.elapsed() > LOAD_TIMEOUT {
            let _ = child.kill();
            let _ = reap(pid, true);
            return Err(format!(
                "{} [{engine}]: still running after {LOAD_TIMEOUT:?}",
                job.name
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let seconds = t0.elapsed().as_secs_f64();
    let _ = w.join();
    let stdout = r.join().unwrap_or_default();
    if status != job.status || stdout != job.stdout {
        return Err(format!(
            "{} [{engine}]: status {status} (want {}), stdout {}",
            job.name,
            job.status,
            if stdout == job.stdout {
                "right".to_string()
            } else {
                format!("wrong: {:?}", String::from_utf8_lossy(&stdout))
            }
        ));
    }
    Ok(Run {
        name: job.name.clone(),
        engine: engine.to_string(),
        max_rss_kb: rss,
        seconds,
    })
}

/// The load test: every run, or what went wrong (all failures).
pub fn load(jobs: usize) -> Result<Vec<Run>, String> {
    let mut mix = bench_jobs()?;
    mix.extend(thread_jobs(jobs)?);
    let dir = std::env::temp_dir().join(format!("pvm-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let t0 = Instant::now();
    let mut started = Vec::new();
    for i in 0..PROCESSES {
        let job = &mix[i % mix.len()];
        let engine = ENGINES[i % ENGINES.len()];
        let d = dir.join(i.to_string());
        let _ = std::fs::create_dir_all(&d);
        started.push((job, engine, start(job, engine, &d)));
    }
    let results: Vec<Result<Run, String>> = std::thread::scope(|s| {
        let hs: Vec<_> = started
            .into_iter()
            .map(|(job, engine, child)| {
                s.spawn(move || child.and_then(|c| finish(job, engine, c, t0)))
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("panicked".into())))
            .collect()
    });
    let _ = std::fs::remove_dir_all(&dir);
    let errs: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err().cloned())
        .collect();
    if !errs.is_empty() {
        return Err(errs.join("\n"));
    }
    Ok(results.into_iter().map(|r| r.unwrap()).collect())
}

/// Print the load test's table: per process its peak RSS.
pub fn print_load(runs: &[Run]) {
    let wall = runs.iter().map(|r| r.seconds).fold(0.0, f64::max);
    println!(
        "load: {} pvm processes started at once, all right, the last done after {wall:.1} s",
        runs.len()
    );
    println!(
        "  {:<28} {:<8} {:>10} {:>8}",
        "program", "engine", "peak RSS", "time"
    );
    for r in runs {
        println!(
            "  {:<28} {:<8} {:>7} KB {:>6.2} s",
            r.name, r.engine, r.max_rss_kb, r.seconds
        );
    }
    let mut rss: Vec<u64> = runs.iter().map(|r| r.max_rss_kb).collect();
    rss.sort();
    if let (Some(min), Some(max)) = (rss.first(), rss.last()) {
        println!(
            "  peak RSS per pvm process: min {min} KB, median {} KB, max {max} KB",
            rss[rss.len() / 2]
        );
    }
}

fn vm_rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// The soak run: (RSS after warm-up, RSS at the end) in KiB.
pub fn soak(seconds: u64) -> Result<(u64, u64), String> {
    let src = root().join("tests/soak/jit_forever.c");
    let bin = root().join("tests/build/soak/jit_forever");
    let cmd: Vec<String> = [CC, "-O2", "-static", &src.display().to_string()]
        .map(String::from)
        .to_vec();
    if let Some(d) = bin.parent() {
        let _ = std::fs::create_dir_all(d);
    }
    guests::build_cached(&cmd, &src, &[], &bin)?;
    let mut child = Command::new(pvm_binary())
        .args(["--engine", "jit", "--code-cache-size", "64K"])
        .arg(&bin)
        .arg(seconds.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("pvm: {e}"))?;
    let pid = child.id();
    let t0 = Instant::now();
    let mut warm = None;
    let mut last = None;
    let status = loop {
        if let Some((st, _)) = reap(pid, false)? {
            break st;
        }
        if let Some(kb) = vm_rss_kb(pid) {
            if t0.elapsed() >= WARM_UP && warm.is_none() {
                warm = Some(kb);
            }
            last = Some(kb);
        }
        if t0.elapsed() > Duration::from_secs(seconds * 3 + 30) {
            let _ = child.kill();
            let _ = reap(pid, true);
            return Err("soak guest did not end".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut out = String::new();
    let mut err = String::new();
    let _ = child.stdout.take().unwrap().read_to_string(&mut out);
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let want = "rounds: many\nresults match the model: yes\n";
    if status != 0 || out != want {
        return Err(format!(
            "soak guest: status {status}, stdout {out:?}, stderr {err:?}"
        ));
    }
    let (Some(warm), Some(end)) = (warm, last) else {
        return Err("soak guest ended before its RSS could be read".into());
    };
    println!(
        "soak: {seconds} s of fresh code in a 64 KiB cache ({}): RSS {warm} KB after {} s, {end} KB at the end",
        err.trim(),
        WARM_UP.as_secs()
    );
    if end > warm + soak_margin(warm) {
        return Err(format!(
            "soak: RSS grew from {warm} KB to {end} KB (more than {} KB)",
            soak_margin(warm)
        ));
    }
    Ok((warm, end))
}
