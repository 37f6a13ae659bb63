//! `cargo xtask bench`: guest benchmarks under native, qemu-riscv64 and pvm.
//!
//! Each `tests/bench/*.c` is built twice (RISC-V static -O2 and native
//! x86-64 -O2), run `runs` times per runner, and the median wall time is
//! reported with ratios. All runners must print the same output (each
//! benchmark prints a checksum), otherwise the row is marked wrong: a fast
//! but wrong engine must not look good.

use crate::guests::{CC, build_cached};
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
enum Who {
    Native,
    Qemu,
    Pvm(String),
}

impl Who {
    fn label(&self) -> String {
        match self {
            Who::Native => "native".into(),
            Who::Qemu => "qemu".into(),
            Who::Pvm(e) => format!("pvm:{e}"),
        }
    }
}

pub fn run(opts: &Options) -> Result<bool, String> {
    let dir = root().join("tests/bench");
    let mut srcs: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
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
    let mut all_ok = true;
    for src in &srcs {
        let name = src.file_stem().unwrap().to_string_lossy().into_owned();
        let rv = out_dir.join(format!("{name}.rv64"));
        let native = out_dir.join(format!("{name}.x86_64"));
        // No FMA contraction: RISC-V would fuse where x86-64 (baseline) cannot,
        // and the results must agree bit for bit across runners.
        let flags = ["-O2", "-g0", "-Wall", "-ffp-contract=off"].map(String::from);
        let mut rv_cmd = vec![CC.to_string()];
        rv_cmd.extend(flags.iter().cloned());
        rv_cmd.extend(["-static".into(), src.display().to_string(), "-lm".into()]);
        let mut nat_cmd = vec!["gcc".to_string()];
        nat_cmd.extend(flags.iter().cloned());
        nat_cmd.extend([src.display().to_string(), "-lm".into()]);
        build_cached(&rv_cmd, src, &[], &rv)?;
        build_cached(&nat_cmd, src, &[], &native)?;
        let mut reference: Option<Vec<u8>> = None;
        let mut cells = Vec::new();
        for w in &whos {
            let mut times = Vec::new();
            let mut failed = None;
            for _ in 0..opts.runs.max(1) {
                let mut cmd = match w {
                    Who::Native => Command::new(&native),
                    Who::Qemu => {
                        let mut c = Command::new("qemu-riscv64");
                        c.arg(&rv);
                        c
                    }
                    Who::Pvm(e) => {
                        let mut c = Command::new(pvm_binary());
                        c.args(crate::suite::engine_args(e)).arg(&rv);
                        c
                    }
                };
                match run_captured(&mut cmd, b"", Duration::from_secs(900)) {
                    Ok(o) if o.status == 0 => {
                        match &reference {
                            None => reference = Some(o.stdout.clone()),
                            Some(r) if *r != o.stdout => {
                                failed = Some("output differs from native".to_string());
                                break;
                            }
                            Some(_) => {}
                        }
                        times.push(o.elapsed.as_secs_f64());
                    }
                    Ok(o) => {
                        failed = Some(format!("exit status {}", o.status));
                        break;
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            match failed {
                Some(why) => {
                    eprintln!("{name} under {}: {why}", w.label());
                    all_ok = false;
                    cells.push(None);
                }
                None => cells.push(Some(median(&mut times))),
            }
        }
        eprintln!("{name}: {}", fmt_cells(&whos, &cells));
        rows.push((name, cells));
    }
    print_table(&whos, &rows);
    if opts.filter.is_none() {
        all_ok &= startup(opts, &whos[1..])?;
    }
    if opts.engines.iter().any(|e| e.starts_with("jit")) {
        translation_overhead(&srcs, &out_dir)?;
    }
    Ok(all_ok)
}

/// Start-up cost: the bundled demo (a static hello world) under each
/// emulator, median of 20 runs.
fn startup(opts: &Options, whos: &[Who]) -> Result<bool, String> {
    let rv = crate::guests::build_demo()?;
    let mut ok = true;
    let mut cells = Vec::new();
    for w in whos {
        let mut times = Vec::new();
        for _ in 0..20.max(opts.runs) {
            let mut c = match w {
                Who::Pvm(e) => {
                    let mut c = Command::new(pvm_binary());
                    c.args(crate::suite::engine_args(e));
                    c
                }
                _ => Command::new("qemu-riscv64"),
            };
            c.arg(&rv);
            match run_captured(&mut c, b"", Duration::from_secs(60)) {
                Ok(o) if o.status == 0 => times.push(o.elapsed.as_secs_f64()),
                Ok(o) => {
                    eprintln!("hello under {}: exit status {}", w.label(), o.status);
                    ok = false;
                    break;
                }
                Err(e) => {
                    eprintln!("hello under {}: {e}", w.label());
                    ok = false;
                    break;
                }
            }
        }
        if !times.is_empty() {
            cells.push(format!("{} {:.1} ms", w.label(), 1e3 * median(&mut times)));
        }
    }
    println!();
    println!(
        "start-up, static hello world (median of 20): {}",
        cells.join(" | ")
    );
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

fn print_table(whos: &[Who], rows: &[(String, Vec<Option<f64>>)]) {
    let mut head = vec!["benchmark".to_string()];
    for w in whos {
        head.push(format!("{} s", w.label()));
    }
    let pvms: Vec<usize> = (2..whos.len()).collect();
    for &i in &pvms {
        head.push(format!("{}/qemu", whos[i].label()));
        head.push(format!("{}/native", whos[i].label()));
    }
    let mut table: Vec<Vec<String>> = vec![head];
    let fmt = |x: Option<f64>, unit: &str| x.map_or("-".to_string(), |v| format!("{v:.3}{unit}"));
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
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
