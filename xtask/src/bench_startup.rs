//! `cargo xtask bench`'s start-up rows for real programs: Debian 13
//! riscv64 `python3.13 -c pass` and `bash -c` running a short pipeline
//! (builtins only, so qemu-riscv64 can run it without binfmt_misc: the
//! pipeline's stages are forked subshells, not `execve`s), from the sysroot
//! that `cargo xtask realprogs` builds in `tests/build/debian-riscv64/root`.
//!
//! Each runs `runs.max(10)` times natively (the host's own `python3` and
//! `bash`, which are other versions: a yardstick, not a twin), under
//! qemu-riscv64 and under each pvm engine, with the fixed environment of
//! the real-program cases. Reported: median wall time, median peak RSS
//! (`ru_maxrss` of the run, through GNU time's `%M`, which covers waited-for
//! children too), and time and memory over qemu's. All runners must print
//! the same output. For the translator, one `--stats` run shows what start-up
//! spends on translating.

use crate::bench::Who;
use crate::suite::{engine_args, pvm_binary};
use crate::util::{median, run_captured};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const PIPELINE: &str = "for i in 1 2 3 4 5 6 7 8; do echo line $i; done | while read a b; do echo $((b * b)); done | { s=0; while read n; do s=$((s + n)); done; echo sum $s; }";

struct Case {
    name: &'static str,
    /// The program inside the sysroot and its arguments.
    guest: &'static [&'static str],
    /// The host's program and arguments.
    native: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "python3.13 -c pass",
            guest: &["/usr/bin/python3.13", "-c", "pass"],
            native: &["python3", "-c", "pass"],
        },
        Case {
            name: "bash -c pipeline",
            guest: &["/usr/bin/bash", "-c", PIPELINE],
            native: &["bash", "-c", PIPELINE],
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

/// The command for one run of `case` under `w`, wrapped in GNU time
/// writing the peak RSS (KiB) to `rss_file`. `extra` goes to pvm only.
fn command(case: &Case, w: &Who, sysroot: &Path, rss_file: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new("/usr/bin/time");
    c.args(["-f", "%M", "-o"]).arg(rss_file);
    let guest = sysroot.join(case.guest[0].trim_start_matches('/'));
    match w {
        Who::Native => {
            c.args(case.native);
        }
        Who::Qemu => {
            c.arg("qemu-riscv64").arg("-L").arg(sysroot).arg(&guest);
            c.args(&case.guest[1..]);
        }
        Who::Pvm(e) => {
            c.arg(pvm_binary()).args(engine_args(e)).args(extra);
            c.arg("-L").arg(sysroot).arg(&guest).args(&case.guest[1..]);
        }
    }
    c.current_dir(std::env::temp_dir()).env_clear();
    for (k, v) in ENV {
        c.env(k, v);
    }
    c
}

/// Median wall seconds and peak RSS (MiB) of `runs` runs; every run's
/// stdout must equal `reference`.
fn measure(
    case: &Case,
    w: &Who,
    sysroot: &Path,
    runs: usize,
    reference: &mut Option<Vec<u8>>,
) -> Result<(f64, f64), String> {
    let rss_file =
        std::env::temp_dir().join(format!("pvm-bench-startup-rss-{}", std::process::id()));
    let (mut times, mut rss) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let mut c = command(case, w, sysroot, &rss_file, &[]);
        let o = run_captured(&mut c, b"", Duration::from_secs(120))?;
        if o.status != 0 {
            return Err(format!(
                "exit status {}: {}",
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
        match reference {
            None => *reference = Some(o.stdout.clone()),
            Some(r) if *r != o.stdout => {
                return Err(format!(
                    "output differs from the first runner's: {}",
                    crate::util::first_diff(r, &o.stdout)
                ));
            }
            Some(_) => {}
        }
        let kib: f64 = std::fs::read_to_string(&rss_file)
            .ok()
            .and_then(|t| t.lines().last().and_then(|l| l.trim().parse().ok()))
            .ok_or("GNU time wrote no peak RSS")?;
        times.push(o.elapsed.as_secs_f64());
        rss.push(kib / 1024.0);
    }
    let _ = std::fs::remove_file(&rss_file);
    Ok((median(&mut times), median(&mut rss)))
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
    if !Path::new("/usr/bin/time").exists() {
        return Err("start-up rows need GNU time (/usr/bin/time): apt-get install time".into());
    }
    let runs = runs.max(10);
    let mut ok = true;
    let mut table = vec![vec![
        "program".to_string(),
        "runner".into(),
        "ms".into(),
        "peak RSS MiB".into(),
        "time/qemu".into(),
        "RSS/qemu".into(),
    ]];
    for case in cases() {
        let mut reference = None;
        let mut results = Vec::new();
        // qemu first: it is the oracle for the output and the yardstick.
        let mut order: Vec<&Who> = whos.iter().filter(|w| matches!(w, Who::Qemu)).collect();
        order.extend(whos.iter().filter(|w| !matches!(w, Who::Qemu)));
        for w in order {
            let mut r = if matches!(w, Who::Native) {
                None
            } else {
                reference.take()
            };
            let m = measure(&case, w, &sysroot, runs, &mut r);
            if !matches!(w, Who::Native) {
                reference = r;
            }
            match m {
                Ok(m) => results.push((w.clone(), m)),
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
        for (w, (t, m)) in &results {
            let ratio = |a: f64, b: Option<f64>| b.map_or("-".into(), |b| format!("{:.2}x", a / b));
            table.push(vec![
                case.name.to_string(),
                w.label(),
                format!("{:.1}", t * 1e3),
                format!("{m:.1}"),
                ratio(*t, qemu.map(|q| q.0)),
                ratio(*m, qemu.map(|q| q.1)),
            ]);
        }
    }
    println!(
        "start-up of real programs (Debian 13 riscv64 sysroot; native = the host's own python3/bash), median of {runs}:"
    );
    crate::bench::print_rows(&table);
    // What the translator spent, from one --stats run per case.
    for w in whos {
        let Who::Pvm(e) = w else { continue };
        if !e.starts_with("jit") {
            continue;
        }
        for case in cases() {
            let rss_file = std::env::temp_dir()
                .join(format!("pvm-bench-startup-stats-{}", std::process::id()));
            let mut c = command(&case, w, &sysroot, &rss_file, &["--stats"]);
            let o = run_captured(&mut c, b"", Duration::from_secs(120))?;
            let _ = std::fs::remove_file(&rss_file);
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
