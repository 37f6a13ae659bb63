//! `cargo xtask bench`'s start-up rows for real programs: Debian 13
//! riscv64 `python3.13 -c pass`, `bash -c` running a short pipeline
//! (builtins only, so qemu-riscv64 can run it without binfmt_misc: the
//! pipeline's stages are forked subshells, not `execve`s) and `node -e` with
//! a hot loop (V8 compiling code as it warms up) and GCC 14's `cc1`
//! compiling a 100-line C file at `-O2` (a large program whose code mostly
//! runs once), from the sysroot that `cargo xtask realprogs` builds in
//! `tests/build/debian-riscv64/root`.
//!
//! Each runs `runs.max(10)` times natively (the host's own `python3`,
//! `bash`, `node` and `gcc -S`, which are other versions: a yardstick, not a twin;
//! left out, with a note, where the host lacks the program), under
//! qemu-riscv64 and under each pvm engine, with the fixed environment of
//! the real-program cases, in rounds (every runner once per round, so a
//! drift of the machine's speed falls on all of them alike). Reported: median wall time, median CPU time and
//! median peak RSS (from the `wait4` that reaps the run: they cover its
//! waited-for children too), and time and memory over qemu's. All runners must print
//! the same output. For the translator, one `--stats` run shows what start-up
//! spends on translating.

use crate::bench::{Timing, Who, interleaved};
use crate::realprogs::{CC1, CC1_TARGET};
use crate::suite::{engine_args, pvm_binary};
use crate::util::run_captured;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// A hot loop V8 compiles through its tiers: the start-up of a program that
/// writes machine code and flushes it (`riscv_flush_icache`) as it warms up.
const NODE_LOOP: &str =
    "let s = 0; for (let i = 0; i < 3e7; i++) s = (s + i * 7) % 1000003; console.log(s)";

const PIPELINE: &str = "for i in 1 2 3 4 5 6 7 8; do echo line $i; done | while read a b; do echo $((b * b)); done | { s=0; while read n; do s=$((s + n)); done; echo sum $s; }";

/// The C file the `cc1` row compiles (written to the runs' directory).
const CC1_INPUT: &str = "pvm-bench-cc1-input.c";
const CC1_SOURCE: &str = include_str!("../../tests/bench/hash.c");

struct Case {
    name: &'static str,
    /// The program inside the sysroot and its arguments.
    guest: Vec<&'static str>,
    /// The host's program and arguments.
    native: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "python3.13 -c pass",
            guest: vec!["/usr/bin/python3.13", "-c", "pass"],
            native: &["python3", "-c", "pass"],
        },
        Case {
            name: "bash -c pipeline",
            guest: vec!["/usr/bin/bash", "-c", PIPELINE],
            native: &["bash", "-c", PIPELINE],
        },
        Case {
            name: "node -e hot loop",
            guest: vec!["/usr/bin/node", "-e", NODE_LOOP],
            native: &["node", "-e", NODE_LOOP],
        },
        Case {
            name: "cc1 -O2 hash.c",
            guest: [&[CC1], CC1_TARGET, &["-O2", CC1_INPUT, "-o", "-"]].concat(),
            native: &["gcc", "-S", "-O2", CC1_INPUT, "-o", "-"],
        },
    ]
}

const ENV: &[(&str, &str)] = &[
    ("PATH", "/usr/bin:/bin"),
    ("LANG", "C"),
    ("LC_ALL", "C"),
    ("TZ", "UTC"),
    ("HOME", "/nonexistent"),
    ("PYTHONDONTWRITEBYTECODE", "1"),
    ("PYTHONHASHSEED", "0"),
    ("PYTHONNOUSERSITE", "1"),
];

/// Is `prog` a file in one of the host's `PATH` directories?
fn on_path(prog: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(prog).is_file()))
}

/// The command for one run of `case` under `w`. `extra` goes to pvm only.
fn command(case: &Case, w: &Who, sysroot: &Path, extra: &[&str]) -> Command {
    let guest = sysroot.join(case.guest[0].trim_start_matches('/'));
    let mut c;
    match w {
        Who::Native => {
            c = Command::new(case.native[0]);
            c.args(&case.native[1..]);
        }
        Who::Qemu => {
            c = Command::new("qemu-riscv64");
            c.arg("-L").arg(sysroot).arg(&guest);
            c.args(&case.guest[1..]);
        }
        Who::Pvm(e) => {
            c = Command::new(pvm_binary());
            c.args(engine_args(e)).args(extra);
            c.arg("-L").arg(sysroot).arg(&guest).args(&case.guest[1..]);
        }
    }
    c.current_dir(std::env::temp_dir()).env_clear();
    for (k, v) in ENV {
        c.env(k, v);
    }
    c
}

/// One run of `case` under `w`: wall seconds, CPU seconds (user + system,
/// the runner's and its children's) and peak RSS (MiB, `wait4`'s); its
/// stdout must equal `reference`.
fn run_once(
    case: &Case,
    w: &Who,
    sysroot: &Path,
    reference: &mut Option<Vec<u8>>,
) -> Result<Timing, String> {
    let mut c = command(case, w, sysroot, &[]);
    let o = run_captured(&mut c, b"", Duration::from_secs(120))?;
    if o.status != 0 {
        return Err(format!(
            "exit status {}: {}",
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    Timing::checked(&o, reference)
}

/// The start-up table; false when a runner failed (a missing sysroot is
/// reported and skipped, not a failure: it needs the network once).
pub fn run(runs: usize, whos: &[Who]) -> Result<bool, String> {
    let sysroot = crate::sysroot::sysroot_dir();
    println!();
    if !sysroot.join("usr/bin/python3.13").exists() {
        println!(
            "start-up of real programs: skipped, no sysroot at {} (run `cargo xtask realprogs` once)",
            sysroot.display()
        );
        return Ok(true);
    }
    let runs = runs.max(10);
    let mut ok = true;
    let mut table = vec![vec![
        "program".to_string(),
        "runner".into(),
        "wall ms".into(),
        "cpu ms".into(),
        "peak RSS MiB".into(),
        "wall/qemu".into(),
        "cpu/qemu".into(),
        "RSS/qemu".into(),
    ]];
    std::fs::write(std::env::temp_dir().join(CC1_INPUT), CC1_SOURCE)
        .map_err(|e| format!("writing the cc1 row's input: {e}"))?;
    for case in cases() {
        if !sysroot.join(case.guest[0].trim_start_matches('/')).exists() {
            println!(
                "{}: not in the sysroot (built by an older xtask: run `cargo xtask realprogs`), left out",
                case.name
            );
            continue;
        }
        // qemu first: it is the oracle for the output and the yardstick.
        // The host's own program is another version: its output is only
        // checked to be the same from run to run.
        let mut order: Vec<&Who> = whos.iter().filter(|w| matches!(w, Who::Qemu)).collect();
        for w in whos.iter().filter(|w| !matches!(w, Who::Qemu)) {
            if matches!(w, Who::Native) && !on_path(case.native[0]) {
                println!(
                    "{}: no host `{}`, native left out",
                    case.name, case.native[0]
                );
                continue;
            }
            order.push(w);
        }
        let (mut guest_ref, mut native_ref) = (None, None);
        let timings = interleaved(&order, runs, |w| {
            let r = if matches!(w, Who::Native) {
                &mut native_ref
            } else {
                &mut guest_ref
            };
            run_once(&case, w, &sysroot, r)
        });
        let mut results = Vec::new();
        for (w, m) in order.iter().zip(timings) {
            match m {
                Ok(t) => results.push(((*w).clone(), (t.wall, t.cpu, t.rss))),
                Err(e) => {
                    eprintln!("{} under {}: {e}", case.name, w.label());
                    ok = false;
                }
            }
        }
        let qemu = results
            .iter()
            .find(|(w, _)| matches!(w, Who::Qemu))
            .map(|r| r.1);
        for (w, (t, c, m)) in &results {
            let ratio = |a: f64, b: Option<f64>| b.map_or("-".into(), |b| format!("{:.2}x", a / b));
            table.push(vec![
                case.name.to_string(),
                w.label(),
                format!("{:.1}", t * 1e3),
                format!("{:.1}", c * 1e3),
                format!("{m:.1}"),
                ratio(*t, qemu.map(|q| q.0)),
                ratio(*c, qemu.map(|q| q.1)),
                ratio(*m, qemu.map(|q| q.2)),
            ]);
        }
    }
    println!(
        "start-up of real programs (Debian 13 riscv64 sysroot; native = the host's own python3/bash/node), median of {runs}:"
    );
    crate::bench::print_rows(&table);
    // What the translator spent, from one --stats run per case.
    for w in whos {
        let Who::Pvm(e) = w else { continue };
        if !e.starts_with("jit") {
            continue;
        }
        for case in cases() {
            let mut c = command(&case, w, &sysroot, &["--stats"]);
            let o = run_captured(&mut c, b"", Duration::from_secs(120))?;
            let text = String::from_utf8_lossy(&o.stderr);
            let stat = |key: &str| -> String {
                text.lines()
                    .find_map(|l| l.strip_prefix(&format!("pvm: {key}: ")))
                    .unwrap_or("?")
                    .trim()
                    .to_string()
            };
            let ns: f64 = stat("jit_translate_ns").parse().unwrap_or(f64::NAN);
            println!(
                "{} {}: {} guest instructions, {} translations, {} bytes of host code, {:.1} ms translating, {} flushes",
                w.label(),
                case.name,
                stat("instructions retired"),
                stat("jit_translations"),
                stat("jit_host_code_bytes"),
                ns / 1e6,
                stat("jit_cache_flushes"),
            );
        }
    }
    Ok(ok)
}
