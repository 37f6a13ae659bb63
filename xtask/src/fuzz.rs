//! The cargo-fuzz targets in `fuzz/` (its own workspace, built with the
//! pinned nightly and AddressSanitizer), each run for a bounded time:
//! `cargo xtask test` gives each [`CI_SECONDS`], `cargo xtask test
//! --fuzz` [`LONG_SECONDS`], `cargo xtask fuzz [--time S] [--target T]`
//! what it is told. Set-up installs `cargo-fuzz` (`cargo install
//! cargo-fuzz --locked`, once; it stays in `~/.cargo/bin`) and the
//! nightly (the one the Miri and bare-metal steps use).
//!
//! Each run starts from the checked-in seeds (`fuzz/seeds/TARGET/`) and a
//! work corpus kept in `target/fuzz/corpus/TARGET/` (what earlier runs
//! found, so a later run goes on from there). Any crash, panic, leak,
//! timeout (a guest that hangs: 10 s per input) or memory blow-up is a
//! failure, with the input written to `target/fuzz/artifacts/TARGET/`;
//! replay it with `fuzz/target/x86_64-unknown-linux-gnu/release/TARGET
//! FILE` or `cargo +NIGHTLY fuzz run TARGET FILE`. The report gives each
//! target's executions and libFuzzer's coverage (`cov:`, edges reached).

use crate::qemu::{NIGHTLY, output_of};
use crate::util::{root, run_inherit};
use std::path::PathBuf;
use std::process::Command;

/// Seconds per target in the default `cargo xtask test` (CI).
pub const CI_SECONDS: u32 = 10;
/// Seconds per target with `cargo xtask test --fuzz`.
pub const LONG_SECONDS: u32 = 30;

/// The targets, with the longest input libFuzzer may make for each.
pub const TARGETS: [(&str, u32); 5] = [
    ("loader", 16384),
    ("syscalls", 2048),
    ("sigframe", 512),
    ("decode", 4096),
    ("difftest", 2048),
];

/// What one target's run did.
pub struct Report {
    pub target: String,
    pub execs: u64,
    pub cov: u64,
    pub seconds: f64,
}

/// The rustup proxy (not `$CARGO`, the stable toolchain's own cargo),
/// which understands `+toolchain`.
fn nightly_cargo() -> Command {
    let mut c = Command::new("cargo");
    c.env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .arg(format!("+{NIGHTLY}"));
    c
}

/// Installs the nightly and cargo-fuzz when missing.
pub fn setup() -> Result<(), String> {
    let have = output_of(Command::new("rustup").args(["toolchain", "list"])).unwrap_or_default();
    if !have.lines().any(|l| l.starts_with(NIGHTLY)) {
        run_inherit(Command::new("rustup").args([
            "toolchain",
            "install",
            NIGHTLY,
            "--profile",
            "minimal",
        ]))?;
    }
    if output_of(nightly_cargo().args(["fuzz", "--version"])).is_none() {
        println!("installing cargo-fuzz (cargo install cargo-fuzz --locked)");
        run_inherit(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    Ok(())
}

/// Builds every target (release, AddressSanitizer).
pub fn build() -> Result<(), String> {
    run_inherit(nightly_cargo().args(["fuzz", "build"]).current_dir(root()))
}

fn binary(target: &str) -> PathBuf {
    root().join(format!(
        "fuzz/target/x86_64-unknown-linux-gnu/release/{target}"
    ))
}

/// Runs `target` for `seconds`; its report, or why it failed.
pub fn run(target: &str, max_len: u32, seconds: u32) -> Result<Report, String> {
    let work = root().join("target/fuzz/corpus").join(target);
    let artifacts = root().join("target/fuzz/artifacts").join(target);
    for d in [&work, &artifacts] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let start = std::time::Instant::now();
    let out = Command::new(binary(target))
        .arg(format!("-max_total_time={seconds}"))
        .arg("-timeout=10")
        .arg("-rss_limit_mb=2560")
        .arg(format!("-max_len={max_len}"))
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg(&work)
        .arg(root().join("fuzz/seeds").join(target))
        .output()
        .map_err(|e| format!("{target}: {e} (not built?)"))?;
    let seconds = start.elapsed().as_secs_f64();
    let log = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        // The panic message (if any), then the end of libFuzzer's report.
        let mut tail: Vec<&str> = log
            .lines()
            .skip_while(|l| !l.contains("panicked at"))
            .take(2)
            .collect();
        let end: Vec<&str> = log.lines().rev().take(12).collect();
        tail.extend(end.into_iter().rev());
        return Err(format!(
            "fuzz target {target} failed ({}); input in {}/\n{}",
            out.status,
            artifacts.display(),
            tail.join("\n")
        ));
    }
    let execs = log
        .lines()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    // The last status line's `cov: N`.
    let cov = log
        .lines()
        .rev()
        .find_map(|l| l.split_once(" cov: "))
        .and_then(|(_, r)| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if execs == 0 {
        return Err(format!("fuzz target {target} ran no input:\n{log}"));
    }
    Ok(Report {
        target: target.to_string(),
        execs,
        cov,
        seconds,
    })
}

/// Set up, build, and run the targets whose names contain `filter` for
/// `seconds` each; the reports and the failures.
pub fn run_all(seconds: u32, filter: Option<&str>) -> Vec<Result<Report, String>> {
    if let Err(e) = setup().and_then(|_| build()) {
        return vec![Err(format!("fuzz set-up or build: {e}"))];
    }
    TARGETS
        .iter()
        .filter(|(t, _)| filter.is_none_or(|f| t.contains(f)))
        .map(|(t, len)| {
            println!("fuzzing {t} for {seconds} s");
            let r = run(t, *len, seconds);
            match &r {
                Ok(r) => println!(
                    "  {}: {} executions ({:.0}/s), cov {}",
                    r.target,
                    r.execs,
                    r.execs as f64 / r.seconds,
                    r.cov
                ),
                Err(e) => eprintln!("FAIL {e}"),
            }
            r
        })
        .collect()
}
