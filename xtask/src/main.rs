//! `cargo xtask`: pvm's build, test and benchmark driver (std only).
//!
//! - `cargo xtask test`  the one test command: set-up, release build, unit
//!   tests, then the guest suite (differential against qemu-riscv64 and the
//!   checked-in expectations) and the loader's bad-input cases.
//! - `cargo xtask bench` guest benchmarks: native vs qemu-riscv64 vs pvm.
//! - `cargo xtask demo`  builds the bundled demo guest and runs it under pvm.
//! - `cargo xtask qemu`  the bare-metal host (see `qemu.rs`).
//! - `cargo xtask realprogs` real programs (Debian riscv64 packages,
//!   esbuild) under pvm against an oracle (see `realprogs.rs`).

mod badinput;
mod bench;
mod bench_cache;
mod bench_startup;
mod cli;
mod coverage;
mod cpython;
mod esbuild;
mod fpuref;
mod fuzz;
mod gdbtest;
mod guests;
mod integration;
mod layering;
mod load;
mod profile;
mod pypi;
mod qemu;
mod realprogs;
mod setup;
mod suite;
mod sysroot;
mod util;

use std::process::{Command, ExitCode};
use suite::{Outcome, Runner};
use util::{HOST_TARGET, root, run_inherit};

const USAGE: &str = "usage: cargo xtask <command> [options]

commands:
  test   [--engine E]... [--baremetal-engine E]... [--filter S] [--jobs N]
         [--bless] [--no-setup] [--no-unit] [--no-baremetal]
         [--fuzz | --fuzz-time SECS]
         set up (apt, when root), cargo build --release, cargo test
         --workspace, then run every guest under qemu-riscv64, pvm
         (one run per engine; default: interp, jit, jit-64K = the
         translator with a 64 KiB code cache, jit-1cpu = guest threads
         in turn on one host thread) and the bare-metal host
         (default engines: interp, jit) and compare.
         --bless rewrites tests/expected/ from qemu-riscv64's output.
         The fuzz targets (fuzz/) run 10 s each; --fuzz: 30 s each,
         --fuzz-time SECS: that long each.
  gdbtest [--filter S]
         only gdb-multiarch (the cases whose name contains S) against pvm's GDB stub (pvm must be built:
         cargo build --release -p host-linux); also a step of `test`.
  load   [--soak-seconds S]
         load test (40 pvm processes at once: benchmarks at small sizes
         and the thread tests; output checked, peak RSS per process) and
         soak run (a guest writing fresh code for S seconds, default 12,
         in a 64 KiB code cache: pvm's RSS must stay flat). Also a step
         of `test`.
  fuzz   [--time SECS] [--target T]
         build the fuzz targets and run each (or those named like T)
         for SECS seconds (default 30); prints executions and coverage.
  bench  [--engine E]... [--runs N] [--filter S]
         benchmarks under native, qemu-riscv64 and pvm (median of N runs),
         then start-up rows (hello world; python3.13 -c pass and a bash
         pipeline from the realprogs sysroot; --filter startup: only those).
  realprogs [--engine E]... [--filter S] [--jobs N]
         fetch a Debian 13 riscv64 sysroot (busybox, bash, coreutils,
         make, python3.13) and esbuild, run real programs under pvm and
         compare with qemu-riscv64 (or a host oracle); prints a table.
         Also a step of `test` (engine jit).
  cpython [--qemu] [--all] [--engine E] [--jobs N] [MODULE]...
         run CPython's own regression tests (Debian's test package) under
         pvm (and qemu-riscv64 with --qemu, side by side); --all adds the
         long modules. Also a step of `test` (engine jit, the short list).
  demo   [ARGS]...   build tests/demo/hello.c for RISC-V and run it under pvm.
  qemu   PROGRAM [ARGS]...   run a guest on the bare-metal host.
  setup  install the packages the other commands need and add the rustup
         target of the Rust guests (riscv64gc-unknown-linux-gnu).";

/// Engines every guest runs under by default: the interpreter, the
/// translator, the translator with a 64 KiB code cache (which makes the
/// code cache manager flush in the middle of real programs, while threads
/// run), and the translator with every guest thread on one host thread
/// (the core's own scheduler, as on the bare-metal host).
const DEFAULT_TEST_ENGINES: [&str; 4] = ["interp", "jit", "jit-64K", "jit-1cpu"];

/// Engines every guest runs under on the bare-metal host (boot option
/// `engine=`): the interpreter and the translator.
const DEFAULT_BAREMETAL_ENGINES: [&str; 2] = ["interp", "jit"];

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Parses `--flag value` style options; returns an error for unknown ones.
struct Args {
    v: Vec<String>,
}

impl Args {
    fn flag(&mut self, name: &str) -> bool {
        if let Some(i) = self.v.iter().position(|a| a == name) {
            self.v.remove(i);
            true
        } else {
            false
        }
    }
    fn values(&mut self, name: &str) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        while let Some(i) = self
            .v
            .iter()
            .position(|a| a == name || a.starts_with(&format!("{name}=")))
        {
            let a = self.v.remove(i);
            if let Some((_, val)) = a.split_once('=') {
                out.push(val.to_string());
            } else if i < self.v.len() {
                out.push(self.v.remove(i));
            } else {
                return Err(format!("{name} needs a value"));
            }
        }
        Ok(out)
    }
    fn value(&mut self, name: &str) -> Result<Option<String>, String> {
        Ok(self.values(name)?.pop())
    }
    fn done(self) -> Result<(), String> {
        match self.v.first() {
            Some(a) => Err(format!("unexpected argument {a:?}\n\n{USAGE}")),
            None => Ok(()),
        }
    }
}

fn main() -> ExitCode {
    let mut argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let cmd = argv.remove(0);
    let r = match cmd.as_str() {
        "test" => test(Args { v: argv }),
        "bench" => bench_cmd(Args { v: argv }),
        "realprogs" => realprogs_cmd(Args { v: argv }),
        "cpython" => cpython_cmd(Args { v: argv }),
        "fuzz" => fuzz_cmd(Args { v: argv }),
        "load" => load_cmd(Args { v: argv }),
        "demo" => return demo(&argv),
        "qemu" => return qemu::main(&argv),
        "setup" => setup::ensure().map(|_| true),
        "gdbtest" => {
            let filter = match argv.as_slice() {
                [] => None,
                [f, s] if f == "--filter" => Some(s.as_str()),
                _ => {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                }
            };
            Ok(gdbtest::run(false, filter).iter().all(|o| o.result.is_ok()))
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(true)
        }
        other => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    match r {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The race check of the structures guest threads share without a lock
/// (the translator's append-only lists, the one-CPU run queue): their unit
/// tests, which run several threads, under Miri, which reports data races
/// and undefined behaviour. Installs Miri on the pinned nightly.
fn miri() -> Result<(), String> {
    let nightly = qemu::NIGHTLY;
    let has = qemu::output_of(Command::new("rustup").args([
        "component",
        "list",
        "--installed",
        "--toolchain",
        nightly,
    ]))
    .unwrap_or_default();
    if !has.lines().any(|l| l.starts_with("miri")) {
        run_inherit(Command::new("rustup").args([
            "toolchain",
            "install",
            nightly,
            "--profile",
            "minimal",
            "--component",
            "rust-src,llvm-tools-preview,miri",
        ]))?;
    }
    // The rustup proxy (not `$CARGO`, the stable toolchain's own cargo),
    // which understands `+toolchain`.
    run_inherit(
        Command::new("cargo")
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("CARGO")
            .env_remove("RUSTC")
            // Miri ignores optimisation; the dev profile's opt-level only
            // makes it say so.
            .env("CARGO_PROFILE_DEV_OPT_LEVEL", "0")
            .args([
                &format!("+{nightly}"),
                "miri",
                "test",
                "--quiet",
                "-p",
                "vm-core",
                "--lib",
            ])
            .args(["--", "cache::tests::append_only", "sched::"])
            .current_dir(root()),
    )
}

fn test(mut a: Args) -> Result<bool, String> {
    let mut engines = a.values("--engine")?;
    if engines.is_empty() {
        engines.extend(DEFAULT_TEST_ENGINES.iter().map(|e| e.to_string()));
    }
    let mut baremetal_engines = a.values("--baremetal-engine")?;
    if baremetal_engines.is_empty() {
        baremetal_engines.extend(DEFAULT_BAREMETAL_ENGINES.iter().map(|e| e.to_string()));
    }
    let filter = a.value("--filter")?;
    let jobs: usize = a
        .value("--jobs")?
        .map_or(Ok(2), |j| j.parse().map_err(|_| "bad --jobs".to_string()))?;
    let bless = a.flag("--bless");
    let no_setup = a.flag("--no-setup");
    let no_unit = a.flag("--no-unit");
    let no_baremetal = a.flag("--no-baremetal");
    let long_fuzz = a.flag("--fuzz");
    let fuzz_seconds = match a.value("--fuzz-time")? {
        Some(s) => s.parse().map_err(|_| "bad --fuzz-time".to_string())?,
        None if long_fuzz => fuzz::LONG_SECONDS,
        None => fuzz::CI_SECONDS,
    };
    a.done()?;
    let start = std::time::Instant::now();
    let mut phases = Phases::default();

    if !no_setup {
        setup::ensure()?;
    }
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut labels: Vec<String> = vec!["cargo".into()];
    phases.start("cargo build --release");
    let built = run_inherit(cargo().args(["build", "--release"]).current_dir(root()));
    let build_ok = built.is_ok();
    outcomes.push(Outcome {
        runner: "cargo".into(),
        case: "build --release".into(),
        result: built.map(|_| None),
    });
    if !no_unit {
        phases.start("cargo test --workspace");
        let r = run_inherit(
            cargo()
                .args(["test", "--workspace", "--quiet"])
                .current_dir(root()),
        );
        outcomes.push(Outcome {
            runner: "cargo".into(),
            case: "test --workspace".into(),
            result: r.map(|_| None),
        });
        // host-baremetal is its own workspace (built for x86_64-unknown-none);
        // its hardware-independent library is tested on this machine.
        phases.start("cargo test host-baremetal --lib");
        let r = run_inherit(
            cargo()
                .args(["test", "--quiet", "--lib", "--target", HOST_TARGET])
                .arg("--manifest-path")
                .arg(root().join("host-baremetal/Cargo.toml"))
                .current_dir(root()),
        );
        outcomes.push(Outcome {
            runner: "cargo".into(),
            case: "test host-baremetal --lib".into(),
            result: r.map(|_| None),
        });
        phases.start("miri: shared structures of the threads");
        outcomes.push(Outcome {
            runner: "cargo".into(),
            case: "miri".into(),
            result: miri().map(|_| None),
        });
    }

    let mut runners: Vec<Runner> = Vec::new();
    if build_ok {
        runners.extend(engines.iter().map(|e| Runner::Pvm(e.clone())));
    } else {
        eprintln!("release build failed: pvm runs skipped (counted as failures)");
        for e in &engines {
            outcomes.push(Outcome {
                runner: Runner::Pvm(e.clone()).label(),
                case: "all".into(),
                result: Err("not run: cargo build --release failed".into()),
            });
        }
    }
    let baremetal: Vec<Runner> = if qemu::READY && !no_baremetal {
        baremetal_engines
            .iter()
            .map(|e| Runner::Baremetal(e.clone()))
            .collect()
    } else {
        Vec::new()
    };
    if !baremetal.is_empty() {
        phases.start("bare-metal host setup");
        let ready = qemu::setup();
        if let Err(e) = &ready {
            outcomes.extend(baremetal.iter().map(|r| Outcome {
                runner: r.label(),
                case: "setup".into(),
                result: Err(e.clone()),
            }));
        }
        let kernel_checks = match ready {
            Ok(()) => {
                runners.extend(baremetal.iter().cloned());
                phases.start("bare-metal kernel self-test");
                vec![
                    ("selftest", qemu::check_selftest()),
                    ("fault-report", qemu::check_fault_report()),
                    ("idle-wait", qemu::check_idle_wait()),
                ]
            }
            Err(_) => vec![],
        };
        for (case, r) in kernel_checks {
            if let Err(e) = &r {
                eprintln!("FAIL {case} [kernel]\n      {e}");
            }
            outcomes.push(Outcome {
                runner: "kernel".into(),
                case: case.into(),
                result: r.map(|_| None),
            });
        }
        labels.push("kernel".into());
    }
    labels.push(Runner::Qemu.label());
    labels.extend(engines.iter().map(|e| Runner::Pvm(e.clone()).label()));
    labels.extend(baremetal.iter().map(Runner::label));

    phases.start("building guests");
    let mut cases = guests::discover()?;
    if let Some(f) = &filter {
        cases.retain(|c| c.name.contains(f.as_str()));
    }
    let failed_builds = guests::build_all(&cases, jobs);
    for (name, err) in &failed_builds {
        eprintln!("{err}");
        outcomes.push(Outcome {
            runner: "build".into(),
            case: name.clone(),
            result: Err("guest build failed".into()),
        });
    }
    // A failed build must not run a stale binary from an earlier build.
    cases.retain(|c| !failed_builds.iter().any(|(n, _)| *n == c.name));
    for c in &cases {
        outcomes.push(Outcome {
            runner: "build".into(),
            case: c.name.clone(),
            result: Ok(None),
        });
    }
    labels.insert(1, "build".into());

    phases.start(&format!(
        "running {} guest programs under {}",
        cases.len(),
        {
            let mut l = vec![Runner::Qemu.label()];
            l.extend(runners.iter().map(|r| r.label()));
            l.join(", ")
        }
    ));
    outcomes.extend(suite::run_all(&cases, &runners, jobs, bless));
    if !bless
        && cases
            .iter()
            .any(|c| suite::STRESS.contains(&c.name.as_str()))
    {
        phases.start("thread stress (the same guests again and again)");
        let stress_engines: Vec<String> = engines
            .iter()
            .filter(|e| e.starts_with("jit"))
            .cloned()
            .collect();
        let before = outcomes.len();
        outcomes.extend(suite::stress(
            &cases,
            &stress_engines,
            std::time::Duration::from_secs(8),
            jobs,
        ));
        if outcomes.len() > before {
            labels.push("stress".into());
        }
    }
    if filter
        .as_ref()
        .is_none_or(|f| "badinput".contains(f.as_str()))
    {
        phases.start("bad-input cases");
        outcomes.extend(badinput::run(&runners));
    }
    if filter.as_ref().is_none_or(|f| "cli".contains(f.as_str())) {
        phases.start("pvm command-line checks");
        outcomes.extend(cli::run_all(&cases, &runners));
    }
    if build_ok
        && filter
            .as_ref()
            .is_none_or(|f| "gdb".contains(f.as_str()) || "integration".contains(f.as_str()))
    {
        phases.start("gdb-multiarch against the GDB stub");
        outcomes.extend(gdbtest::run(!no_setup, None));
        labels.push("gdb".into());
        // Uses the guests gdbtest built.
        phases.start("pvm as a qemu-user replacement (binfmt, logs, environment)");
        outcomes.extend(integration::run());
        labels.push("integration".into());
    }
    if build_ok
        && filter
            .as_ref()
            .is_none_or(|f| "profile".contains(f.as_str()))
    {
        phases.start("pvm --profile and pvm report");
        outcomes.extend(profile::run());
        labels.push("profile".into());
    }
    if build_ok {
        let before = outcomes.len();
        phases.start("real programs (Debian riscv64 packages, esbuild, ruff, uv)");
        let real: Vec<String> = DEFAULT_REALPROGS_ENGINES
            .iter()
            .map(|e| e.to_string())
            .collect();
        // The bare-metal cases run once, on the first bare-metal engine
        // (each run boots the unikernel under TCG).
        let real_bm: Vec<String> = runners
            .iter()
            .find_map(|r| match r {
                Runner::Baremetal(e) => Some(e.clone()),
                _ => None,
            })
            .into_iter()
            .collect();
        outcomes.extend(realprogs::test_step(
            filter.as_deref(),
            &real,
            &real_bm,
            jobs,
        ));
        if outcomes.len() > before {
            labels.extend(real.iter().map(|e| realprogs::label(e)));
        }
        for e in &real_bm {
            let l = realprogs::label(&format!("baremetal:{e}"));
            if outcomes[before..].iter().any(|o| o.runner == l) {
                labels.push(l);
            }
        }
        let before = outcomes.len();
        phases.start("CPython's regression tests (threads, signals, processes)");
        outcomes.extend(cpython::test_step(filter.as_deref(), "jit", jobs));
        if outcomes.len() > before {
            labels.push(cpython::Runner::Pvm("jit".into()).label());
        }
    }
    if filter.is_none() {
        phases.start("RV64GC instruction coverage of the ISA tests");
        let r = match coverage::missing() {
            Ok(m) if m.is_empty() => Ok(None),
            Ok(m) => Err(format!("instructions no ISA test uses: {}", m.join(" "))),
            Err(e) => Err(e),
        };
        if let Err(e) = &r {
            eprintln!("FAIL coverage\n      {e}");
        }
        outcomes.push(Outcome {
            runner: "coverage".into(),
            case: "rv64gc".into(),
            result: r,
        });
        labels.insert(2, "coverage".into());
    }
    if filter
        .as_ref()
        .is_none_or(|f| "fpu.softfloat".contains(f.as_str()))
    {
        phases.start("FPU reference vectors against Berkeley SoftFloat");
        let r = fpuref::check();
        if let Err(e) = &r {
            eprintln!("FAIL fpu.softfloat\n      {e}");
        }
        outcomes.push(Outcome {
            runner: "fpu".into(),
            case: "softfloat".into(),
            result: r,
        });
        labels.insert(2, "fpu".into());
    }
    if build_ok && filter.as_ref().is_none_or(|f| "load".contains(f.as_str())) {
        phases.start("load test and soak run");
        outcomes.extend(load_step(jobs, load::SOAK_SECONDS));
        labels.push("load".into());
    }
    let fuzz_filter = filter
        .as_deref()
        .filter(|f| !"fuzz".contains(f))
        .map(|f| f.strip_prefix("fuzz.").unwrap_or(f));
    if fuzz_filter.is_none_or(|f| fuzz::TARGETS.iter().any(|(t, _)| t.contains(f))) {
        phases.start(&format!("fuzz targets, {fuzz_seconds} s each"));
        for r in fuzz::run_all(fuzz_seconds, fuzz_filter) {
            outcomes.push(Outcome {
                runner: "fuzz".into(),
                case: r.as_ref().map_or("fuzz".into(), |r| r.target.clone()),
                result: r.map(|_| None),
            });
        }
        labels.push("fuzz".into());
    }
    phases.start("");
    let ok = suite::summarize(&outcomes, &labels);
    phases.print();
    println!(
        "\n{} in {:.0} s, {}",
        if ok { "ALL PASSED" } else { "FAILED" },
        start.elapsed().as_secs_f64(),
        suite::skipped_summary(&outcomes)
    );
    Ok(ok)
}

/// Wall time per phase of `cargo xtask test`, to keep an eye on the CI
/// budget (20 minutes on 2 cores).
#[derive(Default)]
struct Phases {
    done: Vec<(String, f64)>,
    current: Option<(String, std::time::Instant)>,
}

impl Phases {
    /// Ends the running phase and, unless `name` is empty, starts another.
    fn start(&mut self, name: &str) {
        if let Some((n, t)) = self.current.take() {
            self.done.push((n, t.elapsed().as_secs_f64()));
        }
        if !name.is_empty() {
            println!("== {name}");
            self.current = Some((name.to_string(), std::time::Instant::now()));
        }
    }
    fn print(&self) {
        println!("\ntime per phase:");
        for (n, t) in &self.done {
            println!("  {t:7.1} s  {n}");
        }
    }
}

/// Engines the real programs run under by default (each case is a whole
/// program: the translator is what users run).
const DEFAULT_REALPROGS_ENGINES: [&str; 1] = ["jit"];

fn realprogs_cmd(mut a: Args) -> Result<bool, String> {
    let mut engines = a.values("--engine")?;
    if engines.is_empty() {
        engines.extend(DEFAULT_REALPROGS_ENGINES.iter().map(|e| e.to_string()));
    }
    let filter = a.value("--filter")?;
    let jobs: usize = a
        .value("--jobs")?
        .map_or(Ok(2), |j| j.parse().map_err(|_| "bad --jobs".to_string()))?;
    a.done()?;
    run_inherit(
        cargo()
            .args(["build", "--release", "-p", "host-linux"])
            .current_dir(root()),
    )?;
    let cases = realprogs::select(filter.as_deref());
    if cases.is_empty() {
        return Err("no real-program case matches the filter".into());
    }
    let inp = realprogs::Inputs::fetch(&cases);
    let runs = realprogs::run(&cases, &engines, &inp, jobs);
    Ok(realprogs::report(&cases, &engines, &runs))
}

/// The load test and the soak run as outcomes (printing their figures).
fn load_step(jobs: usize, soak_seconds: u64) -> Vec<Outcome> {
    let l = load::load(jobs).map(|runs| load::print_load(&runs));
    if let Err(e) = &l {
        eprintln!("FAIL load\n      {e}");
    }
    let s = load::soak(soak_seconds);
    if let Err(e) = &s {
        eprintln!("FAIL soak\n      {e}");
    }
    vec![
        Outcome {
            runner: "load".into(),
            case: format!("{} processes", load::PROCESSES),
            result: l.map(|_| None),
        },
        Outcome {
            runner: "load".into(),
            case: "soak".into(),
            result: s.map(|_| None),
        },
    ]
}

fn load_cmd(mut a: Args) -> Result<bool, String> {
    let soak = a
        .value("--soak-seconds")?
        .map_or(Ok(load::SOAK_SECONDS), |s| {
            s.parse().map_err(|_| "bad --soak-seconds".to_string())
        })?;
    a.done()?;
    setup::ensure()?;
    run_inherit(
        cargo()
            .args(["build", "--release", "-p", "host-linux"])
            .current_dir(root()),
    )?;
    Ok(load_step(2, soak).iter().all(|o| o.result.is_ok()))
}

fn fuzz_cmd(mut a: Args) -> Result<bool, String> {
    let seconds = a.value("--time")?.map_or(Ok(fuzz::LONG_SECONDS), |s| {
        s.parse().map_err(|_| "bad --time".to_string())
    })?;
    let target = a.value("--target")?;
    a.done()?;
    let reports = fuzz::run_all(seconds, target.as_deref());
    Ok(!reports.is_empty() && reports.iter().all(|r| r.is_ok()))
}

fn cpython_cmd(mut a: Args) -> Result<bool, String> {
    let qemu = a.flag("--qemu");
    let all = a.flag("--all");
    let engine = a.value("--engine")?.unwrap_or_else(|| "jit".into());
    let jobs: usize = a
        .value("--jobs")?
        .map_or(Ok(2), |j| j.parse().map_err(|_| "bad --jobs".to_string()))?;
    let modules = std::mem::take(&mut a.v);
    if let Some(m) = modules.iter().find(|m| m.starts_with('-')) {
        return Err(format!("unknown option {m:?}\n\n{USAGE}"));
    }
    run_inherit(
        cargo()
            .args(["build", "--release", "-p", "host-linux"])
            .current_dir(root()),
    )?;
    cpython::command(&modules, qemu, all, &engine, jobs)
}

fn bench_cmd(mut a: Args) -> Result<bool, String> {
    let mut engines = a.values("--engine")?;
    if engines.is_empty() {
        engines.extend(["interp".to_string(), "jit".to_string()]);
    }
    let runs = a
        .value("--runs")?
        .map_or(Ok(5), |r| r.parse().map_err(|_| "bad --runs".to_string()))?;
    let filter = a.value("--filter")?;
    a.done()?;
    setup::ensure()?;
    run_inherit(
        cargo()
            .args(["build", "--release", "-p", "host-linux"])
            .current_dir(root()),
    )?;
    bench::run(&bench::Options {
        runs,
        engines,
        filter,
    })
}

/// Builds the bundled demo guest and runs it under pvm with inherited stdio.
fn demo(args: &[String]) -> ExitCode {
    let go = || -> Result<i32, String> {
        setup::ensure()?;
        run_inherit(
            cargo()
                .args(["build", "--release", "-p", "host-linux"])
                .current_dir(root()),
        )?;
        let out = guests::build_demo()?;
        let args: Vec<String> = if args.is_empty() {
            vec!["from".into(), "pvm".into()]
        } else {
            args.to_vec()
        };
        let pvm = suite::pvm_binary();
        let shown = pvm.strip_prefix(root()).unwrap_or(&pvm);
        println!(
            "$ {} tests/build/demo/hello {}",
            shown.display(),
            args.join(" ")
        );
        let st = Command::new(&pvm)
            .arg(&out)
            .args(&args)
            .status()
            .map_err(|e| format!("cannot run pvm: {e}"))?;
        Ok(util::shell_status(st))
    };
    match go() {
        Ok(s) => ExitCode::from(s.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("xtask demo: {e}");
            ExitCode::FAILURE
        }
    }
}
