//! `cargo xtask bench`: guest benchmarks under native, qemu-riscv64 and pvm.
//!
//! Each `tests/bench/*.c` (and `*.cc`, C++) is built twice (RISC-V static -O2 and native
//! x86-64 -O2), run `runs` times per runner, in rounds (every runner once
//! per round: `interleaved`), and the median wall time is reported with
//! ratios. All runners must print the same output (each
//! benchmark prints a checksum), otherwise the row is marked wrong: a fast
//! but wrong engine must not look good.
//!
//! A benchmark with a `//@ threads: 1 2` line takes its number of threads
//! as `argv[1]` and is run once per listed count (its checksum must not
//! depend on the count). It gets its own table: median wall time per runner
//! and thread count, the speed-up over the first count (t1/tN), each
//! runner's time over qemu's, and the median CPU time (user + system) of the
//! runs, which shows what threading costs in work even on a busy machine
//! where wall times cannot show a speed-up; then pvm's ratio to qemu with
//! the most threads next to its single-threaded geomean over qemu, in wall
//! time and in CPU time. It is
//! built with `-pthread` and stays out of that geomean.

use crate::guests::{CC, CXX, build_cached};
use crate::suite::pvm_binary;
use crate::util::{median, root, run_captured};
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

pub struct Options {
    pub runs: usize,
    pub engines: Vec<String>,
    pub filter: Option<String>,
}

#[derive(Clone)]
pub(crate) enum Who {
    Native,
    Qemu,
    Pvm(String),
}

impl Who {
    pub(crate) fn label(&self) -> String {
        match self {
            Who::Native => "native".into(),
            Who::Qemu => "qemu".into(),
            Who::Pvm(e) => format!("pvm:{e}"),
        }
    }
}

/// The thread counts of a `//@ threads:` benchmark, `None` for the others.
fn thread_counts(src: &std::path::Path) -> Result<Option<Vec<usize>>, String> {
    let text = fs::read_to_string(src).map_err(|e| format!("{}: {e}", src.display()))?;
    let Some(line) = text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("//@ threads:"))
    else {
        return Ok(None);
    };
    let counts = line
        .split_whitespace()
        .map(|w| w.parse::<usize>().ok().filter(|&n| n > 0))
        .collect::<Option<Vec<_>>>()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{}: bad `//@ threads:` line", src.display()))?;
    Ok(Some(counts))
}

/// A threaded benchmark's measurements: `cells[k][runner]` (median wall
/// time) and `cpu[k][runner]` (median CPU time) for `counts[k]`.
struct ThreadRow {
    name: String,
    counts: Vec<usize>,
    cells: Vec<Vec<Option<f64>>>,
    cpu: Vec<Vec<Option<f64>>>,
}

/// Medians of one runner's runs: wall time, CPU time (user + system) and
/// peak RSS (MiB).
#[derive(Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) wall: f64,
    pub(crate) cpu: f64,
    pub(crate) rss: f64,
}

/// Runs `runs` rounds in which every runner still standing runs once, in
/// the order given, and returns each runner's medians, or the first error
/// it met (a runner that failed runs no more). Rounds, not all of one
/// runner's runs before the next's: this machine's speed drifts by 10 to
/// 20% within minutes, and a drift between two runners' blocks of runs
/// went straight into their ratio; interleaved, it falls on both alike.
pub(crate) fn interleaved<W>(
    whos: &[W],
    runs: usize,
    mut one: impl FnMut(&W) -> Result<Timing, String>,
) -> Vec<Result<Timing, String>> {
    let mut samples: Vec<Result<Vec<Timing>, String>> =
        whos.iter().map(|_| Ok(Vec::new())).collect();
    for _ in 0..runs.max(1) {
        for (w, s) in whos.iter().zip(samples.iter_mut()) {
            let Ok(v) = s else { continue };
            match one(w) {
                Ok(t) => v.push(t),
                Err(e) => *s = Err(e),
            }
        }
    }
    samples
        .into_iter()
        .map(|s| {
            s.map(|v| {
                let pick = |f: fn(&Timing) -> f64| median(&mut v.iter().map(f).collect::<Vec<_>>());
                Timing {
                    wall: pick(|t| t.wall),
                    cpu: pick(|t| t.cpu),
                    rss: pick(|t| t.rss),
                }
            })
        })
        .collect()
}

/// One run of a benchmark under `w` with `args`: its times, or why it
/// failed. Its stdout must equal `reference` (the first successful run of
/// the benchmark sets it).
fn run_once(
    w: &Who,
    native: &std::path::Path,
    rv: &std::path::Path,
    args: &[String],
    reference: &mut Option<Vec<u8>>,
) -> Result<Timing, String> {
    let mut cmd = match w {
        Who::Native => Command::new(native),
        Who::Qemu => {
            let mut c = Command::new("qemu-riscv64");
            c.arg(rv);
            c
        }
        Who::Pvm(e) => {
            let mut c = Command::new(pvm_binary());
            c.args(crate::suite::engine_args(e)).arg(rv);
            c
        }
    };
    cmd.args(args);
    let o = run_captured(&mut cmd, b"", Duration::from_secs(900))?;
    if o.status != 0 {
        return Err(format!("exit status {}", o.status));
    }
    Timing::checked(&o, reference)
}

impl Timing {
    /// One run's figures, when its stdout equals `reference` (which the
    /// first run sets).
    pub(crate) fn checked(
        o: &crate::util::Captured,
        reference: &mut Option<Vec<u8>>,
    ) -> Result<Timing, String> {
        match reference {
            None => *reference = Some(o.stdout.clone()),
            Some(r) if *r != o.stdout => {
                return Err(format!(
                    "output differs from the first run's: {}",
                    crate::util::first_diff(r, &o.stdout)
                ));
            }
            Some(_) => {}
        }
        Ok(Timing {
            wall: o.elapsed.as_secs_f64(),
            cpu: o.cpu.as_secs_f64(),
            rss: o.max_rss_kib as f64 / 1024.0,
        })
    }
}

pub fn run(opts: &Options) -> Result<bool, String> {
    let dir = root().join("tests/bench");
    let mut srcs: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "c" || e == "cc"))
        .filter(|p| {
            opts.filter.as_ref().is_none_or(|f| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains(f.as_str()))
            })
        })
        .collect();
    srcs.sort();
    let out_dir = root().join("tests/build/bench");
    let mut whos = vec![Who::Native, Who::Qemu];
    whos.extend(opts.engines.iter().map(|e| Who::Pvm(e.clone())));
    // rows: name, then per runner Some(median seconds) or None (failed).
    let mut rows: Vec<(String, Vec<Option<f64>>)> = Vec::new();
    // The same with the median CPU time (user + system) of the runs.
    let mut cpu_rows: Vec<(String, Vec<Option<f64>>)> = Vec::new();
    // And the median peak RSS (MiB).
    let mut rss_rows: Vec<(String, Vec<Option<f64>>)> = Vec::new();
    let mut thread_rows: Vec<ThreadRow> = Vec::new();
    let mut all_ok = true;
    for src in &srcs {
        let name = src.file_stem().unwrap().to_string_lossy().into_owned();
        let threads = thread_counts(src)?;
        let rv = out_dir.join(format!("{name}.rv64"));
        let native = out_dir.join(format!("{name}.x86_64"));
        // No FMA contraction: RISC-V would fuse where x86-64 (baseline) cannot,
        // and the results must agree bit for bit across runners.
        let mut flags = ["-O2", "-g0", "-Wall", "-ffp-contract=off"]
            .map(String::from)
            .to_vec();
        if threads.is_some() {
            flags.push("-pthread".into());
        }
        let cxx = src.extension().is_some_and(|e| e == "cc");
        let mut rv_cmd = vec![if cxx { CXX } else { CC }.to_string()];
        rv_cmd.extend(flags.iter().cloned());
        rv_cmd.extend(["-static".into(), src.display().to_string(), "-lm".into()]);
        let mut nat_cmd = vec![if cxx { "g++" } else { "gcc" }.to_string()];
        nat_cmd.extend(flags.iter().cloned());
        nat_cmd.extend([src.display().to_string(), "-lm".into()]);
        build_cached(&rv_cmd, src, &[], &rv)?;
        build_cached(&nat_cmd, src, &[], &native)?;
        let mut reference: Option<Vec<u8>> = None;
        // One argument list per thread count; a plain benchmark has none.
        let arg_sets: Vec<Vec<String>> = match &threads {
            Some(counts) => counts.iter().map(|n| vec![n.to_string()]).collect(),
            None => vec![Vec::new()],
        };
        let mut per_args = Vec::new();
        let mut cpu_per_args = Vec::new();
        let mut rss_per_args = Vec::new();
        for args in &arg_sets {
            let mut cells = Vec::new();
            let mut cpus = Vec::new();
            let mut rsss = Vec::new();
            let timings = interleaved(&whos, opts.runs, |w| {
                run_once(w, &native, &rv, args, &mut reference)
            });
            for (w, m) in whos.iter().zip(timings) {
                match m {
                    Ok(t) => {
                        cells.push(Some(t.wall));
                        cpus.push(Some(t.cpu));
                        rsss.push(Some(t.rss));
                    }
                    Err(why) => {
                        eprintln!("{name} {} under {}: {why}", args.join(" "), w.label());
                        all_ok = false;
                        cells.push(None);
                        cpus.push(None);
                        rsss.push(None);
                    }
                }
            }
            let label = match args.first() {
                Some(n) => format!("{name} ({n} thread(s))"),
                None => name.clone(),
            };
            eprintln!("{label}: {}", fmt_cells(&whos, &cells));
            per_args.push(cells);
            cpu_per_args.push(cpus);
            rss_per_args.push(rsss);
        }
        match threads {
            Some(counts) => thread_rows.push(ThreadRow {
                name,
                counts,
                cells: per_args,
                cpu: cpu_per_args,
            }),
            None => {
                cpu_rows.push((name.clone(), cpu_per_args.pop().unwrap()));
                rss_rows.push((name.clone(), rss_per_args.pop().unwrap()));
                rows.push((name, per_args.pop().unwrap()));
            }
        }
    }
    if !rows.is_empty() {
        print_table(&whos, &rows, "s");
        println!();
        println!(
            "CPU time (user + system, median of the runs): what each runner costs, \
             less disturbed than wall time on a busy machine"
        );
        print_table(&whos, &cpu_rows, "s");
        println!();
        println!("Peak RSS (MiB, median of the runs; pvm's includes its code cache)");
        print_table(&whos, &rss_rows, "MiB");
    }
    for t in &thread_rows {
        print_threads(&whos, t, &rows, &cpu_rows);
    }
    // `--filter hello` runs only the static hello world and the demo.
    if opts.filter.is_none() || opts.filter.as_deref() == Some("hello") {
        all_ok &= startup(opts, &whos[1..])?;
    }
    if opts.filter.is_none() || opts.filter.as_deref() == Some("startup") {
        all_ok &= crate::bench_startup::run(opts.runs, &whos)?;
    }
    if !srcs.is_empty() && opts.engines.iter().any(|e| e.starts_with("jit")) {
        translation_overhead(&srcs, &out_dir)?;
    }
    // The code cache manager's policies (`--filter cache` runs only this).
    if opts.filter.is_none() || opts.filter.as_deref() == Some("cache") {
        all_ok &= crate::bench_cache::run(opts.runs)?;
    }
    Ok(all_ok)
}

/// Start-up cost: a static hello world (`tests/guests/hello.c`, built
/// `-O2 -static`) and the bundled demo (hello plus a little work: primes
/// and a Mandelbrot set) under each emulator, median wall time, CPU time
/// and peak RSS of 20 runs (`--filter hello` runs only these).
fn startup(opts: &Options, whos: &[Who]) -> Result<bool, String> {
    let programs = [
        (
            "static hello world",
            crate::guests::build_static("tests/guests/hello.c", "tests/build/bench/hello.static")?,
        ),
        ("demo (static)", crate::guests::build_demo()?),
    ];
    let mut ok = true;
    for (name, rv) in &programs {
        let mut cells = Vec::new();
        let mut qemu: Option<Timing> = None;
        // Every runner must print what the first run printed.
        let mut reference = None;
        let timings = interleaved(whos, 20.max(opts.runs), |w| {
            let mut c = match w {
                Who::Pvm(e) => {
                    let mut c = Command::new(pvm_binary());
                    c.args(crate::suite::engine_args(e));
                    c
                }
                _ => Command::new("qemu-riscv64"),
            };
            c.arg(rv);
            let o = run_captured(&mut c, b"", Duration::from_secs(60))?;
            if o.status != 0 {
                return Err(format!("exit status {}", o.status));
            }
            Timing::checked(&o, &mut reference)
        });
        for (w, m) in whos.iter().zip(timings) {
            let t = match m {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("{name} under {}: {e}", w.label());
                    ok = false;
                    continue;
                }
            };
            let ratio = match (w, qemu) {
                (Who::Qemu, _) => {
                    qemu = Some(t);
                    String::new()
                }
                (_, Some(q)) => format!(
                    " ({:.2}x / {:.2}x / {:.2}x of qemu)",
                    t.wall / q.wall,
                    t.cpu / q.cpu,
                    t.rss / q.rss
                ),
                _ => String::new(),
            };
            cells.push(format!(
                "{} {:.1} ms wall, {:.1} ms cpu, {:.1} MiB peak RSS{ratio}",
                w.label(),
                1e3 * t.wall,
                1e3 * t.cpu,
                t.rss
            ));
        }
        println!();
        println!("start-up, {name} (median of 20): {}", cells.join(" | "));
    }
    Ok(ok)
}

/// What translating costs: one `pvm --stats` run of each benchmark.
fn translation_overhead(srcs: &[PathBuf], out_dir: &std::path::Path) -> Result<(), String> {
    println!();
    println!(
        "| benchmark | translations | guest insts translated | host code bytes | translate ms | share of run |"
    );
    println!(
        "|-----------|--------------|------------------------|-----------------|--------------|--------------|"
    );
    for src in srcs {
        let name = src.file_stem().unwrap().to_string_lossy().into_owned();
        let rv = out_dir.join(format!("{name}.rv64"));
        let mut c = Command::new(pvm_binary());
        c.args(["--engine", "jit", "--stats"]).arg(&rv);
        let o = run_captured(&mut c, b"", Duration::from_secs(900))?;
        let text = String::from_utf8_lossy(&o.stderr);
        let stat = |key: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("pvm: {key}: ")))
                .and_then(|v| v.trim().trim_end_matches(" s").parse().ok())
                .unwrap_or(f64::NAN)
        };
        let ns = stat("jit_translate_ns");
        let wall = stat("wall time");
        println!(
            "| {name} | {} | {} | {} | {:.2} | {:.2}% |",
            stat("jit_translations"),
            stat("jit_guest_insts_translated"),
            stat("jit_host_code_bytes"),
            ns / 1e6,
            100.0 * ns / 1e9 / wall
        );
    }
    Ok(())
}

fn fmt_cells(whos: &[Who], cells: &[Option<f64>]) -> String {
    whos.iter()
        .zip(cells)
        .map(|(w, c)| {
            format!(
                "{}={}",
                w.label(),
                c.map_or("failed".into(), |t| format!("{t:.3}s"))
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `a / b` when both are known and `b` is positive.
fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// The geometric mean of runner `i`'s time over qemu's across `rows`
/// (`None` unless every row has both).
fn geomean_over_qemu(rows: &[(String, Vec<Option<f64>>)], i: usize) -> Option<f64> {
    let logs: Option<Vec<f64>> = rows
        .iter()
        .map(|(_, c)| ratio(c[i], c[1]).filter(|r| *r > 0.0).map(f64::ln))
        .collect();
    logs.filter(|l| !l.is_empty())
        .map(|l| (l.iter().sum::<f64>() / l.len() as f64).exp())
}

/// The table of one threaded benchmark: a line per runner with its median
/// time per thread count, the speed-up over the first count, its time over
/// qemu's and its CPU time; then, for each pvm engine, its ratio to qemu
/// with the most threads next to its single-threaded geomean over qemu.
fn print_threads(
    whos: &[Who],
    t: &ThreadRow,
    single: &[(String, Vec<Option<f64>>)],
    single_cpu: &[(String, Vec<Option<f64>>)],
) {
    let first = t.counts[0];
    println!();
    println!(
        "{} with {} thread(s) (T), median wall time; cpu = user + system time",
        t.name,
        t.counts
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" and ")
    );
    let mut head = vec!["runner".to_string()];
    for n in &t.counts {
        head.push(format!("{n}T s"));
    }
    for n in &t.counts[1..] {
        head.push(format!("speed-up {first}T/{n}T"));
    }
    for n in &t.counts {
        head.push(format!("{n}T /qemu"));
    }
    for n in &t.counts {
        head.push(format!("{n}T cpu s"));
    }
    let fmt = |x: Option<f64>, unit: &str| x.map_or("-".to_string(), |v| format!("{v:.3}{unit}"));
    let mut table = vec![head];
    for (i, w) in whos.iter().enumerate() {
        let mut r = vec![w.label()];
        for k in 0..t.counts.len() {
            r.push(fmt(t.cells[k][i], ""));
        }
        for k in 1..t.counts.len() {
            r.push(fmt(ratio(t.cells[0][i], t.cells[k][i]), "x"));
        }
        for k in 0..t.counts.len() {
            r.push(fmt(ratio(t.cells[k][i], t.cells[k][1]), "x"));
        }
        for k in 0..t.counts.len() {
            r.push(fmt(t.cpu[k][i], ""));
        }
        table.push(r);
    }
    print_rows(&table);
    let last = t.counts.len() - 1;
    for (i, w) in whos.iter().enumerate().skip(2) {
        println!(
            "{}/qemu: {} with {} threads, {} on the single-threaded geomean",
            w.label(),
            fmt(ratio(t.cells[last][i], t.cells[last][1]), "x"),
            t.counts[last],
            geomean_over_qemu(single, i)
                .map_or("not measured (--filter)".into(), |g| format!("{g:.3}x")),
        );
        // The same in CPU time, which a busy machine disturbs less.
        println!(
            "{}/qemu in CPU time: {} with {} thread(s), {} with {} threads, {} on the \
             single-threaded CPU geomean",
            w.label(),
            fmt(ratio(t.cpu[0][i], t.cpu[0][1]), "x"),
            t.counts[0],
            fmt(ratio(t.cpu[last][i], t.cpu[last][1]), "x"),
            t.counts[last],
            geomean_over_qemu(single_cpu, i)
                .map_or("not measured (--filter)".into(), |g| format!("{g:.3}x")),
        );
    }
}

/// Prints one benchmark table, `unit` naming what the cells measure ("s",
/// "MiB"), with each pvm column over qemu's and native's and a geomean row.
fn print_table(whos: &[Who], rows: &[(String, Vec<Option<f64>>)], unit: &str) {
    let mut head = vec!["benchmark".to_string()];
    for w in whos {
        head.push(format!("{} {unit}", w.label()));
    }
    let pvms: Vec<usize> = (2..whos.len()).collect();
    for &i in &pvms {
        head.push(format!("{}/qemu", whos[i].label()));
        head.push(format!("{}/native", whos[i].label()));
    }
    let mut table: Vec<Vec<String>> = vec![head];
    let fmt = |x: Option<f64>, unit: &str| x.map_or("-".to_string(), |v| format!("{v:.3}{unit}"));
    let mut logs: Vec<Vec<f64>> = vec![Vec::new(); whos.len() + 2 * pvms.len()];
    for (name, cells) in rows {
        let mut r = vec![name.clone()];
        let mut vals: Vec<Option<f64>> = cells.clone();
        for &i in &pvms {
            vals.push(ratio(cells[i], cells[1]));
            vals.push(ratio(cells[i], cells[0]));
        }
        for (k, v) in vals.iter().enumerate() {
            r.push(fmt(*v, if k < whos.len() { "" } else { "x" }));
            if let Some(v) = v
                && *v > 0.0
            {
                logs[k].push(v.ln());
            }
        }
        table.push(r);
    }
    let mut g = vec!["geomean".to_string()];
    for (k, l) in logs.iter().enumerate() {
        let v = (!l.is_empty() && l.len() == rows.len())
            .then(|| (l.iter().sum::<f64>() / l.len() as f64).exp());
        g.push(fmt(v, if k < whos.len() { "" } else { "x" }));
    }
    table.push(g);
    print_rows(&table);
}

/// Prints a table (first row the header) as Markdown, columns aligned.
pub(crate) fn print_rows(table: &[Vec<String>]) {
    let widths: Vec<usize> = (0..table[0].len())
        .map(|c| table.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    println!();
    for (i, r) in table.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, s)| {
                if c == 0 {
                    format!("{s:<w$}", w = widths[c])
                } else {
                    format!("{s:>w$}", w = widths[c])
                }
            })
            .collect();
        println!("| {} |", line.join(" | "));
        if i == 0 {
            let sep: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            println!("|-{}-|", sep.join("-|-"));
        }
    }
}
