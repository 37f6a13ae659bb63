//! `pvm --profile` and `pvm report` end to end, on `tests/profile/hotfn.c`
//! (a guest that spends nearly all its time in one function, `spin_hot`):
//! under the translator (dynamic, so symbols come from the program's ELF
//! mapped by the dynamic linker) and the interpreter (static), the report
//! must name `spin_hot` as the hottest function, and the hottest
//! translation must lie in it and list its guest and host code with
//! `--block`; `--profile -` prints the same report on
//! stderr; a corrupt profile is one line on stderr and exit status 1.
//! A few seconds in all.

use crate::guests::CC;
use crate::suite::{Outcome, pvm_binary};
use crate::util::{root, run_captured, show};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const FUNCTION: &str = "spin_hot";

pub fn run() -> Vec<Outcome> {
    let dir = root().join("tests/build/profile");
    let mut out = Vec::new();
    let mut record = |case: &str, r: Result<(), String>| {
        match &r {
            Ok(()) => println!("ok   {case} [profile]"),
            Err(e) => eprintln!("FAIL {case} [profile]\n      {e}"),
        }
        out.push(Outcome {
            runner: "profile".into(),
            case: case.into(),
            result: r.map(|()| None),
        });
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        record("build", Err(format!("{}: {e}", dir.display())));
        return out;
    }
    let src = root().join("tests/profile/hotfn.c");
    for (link, engine, n) in [
        ("dynamic", "jit", "60000000"),
        ("static", "interp", "12000000"),
    ] {
        let bin = dir.join(format!("hotfn.{link}"));
        let case = format!("hotfn.{link}.{engine}");
        let r = build(&src, &bin, link == "static").and_then(|()| check(&bin, engine, n, &dir));
        record(&case, r);
    }
    record("corrupt-profile", corrupt(&dir));
    out
}

fn build(src: &Path, bin: &Path, static_: bool) -> Result<(), String> {
    let mut cmd = Command::new(CC);
    cmd.args(["-O2", "-o"]).arg(bin).arg(src);
    if static_ {
        cmd.arg("-static");
    }
    let c = run_captured(&mut cmd, b"", Duration::from_secs(120))?;
    if c.status != 0 {
        return Err(format!("{CC} failed: {}", show(&c.stderr, 2000)));
    }
    Ok(())
}

fn pvm(args: &[&std::ffi::OsStr]) -> Result<crate::util::Captured, String> {
    run_captured(
        Command::new(pvm_binary()).args(args),
        b"",
        Duration::from_secs(120),
    )
}

/// The first row of the functions table of a report: its symbol.
fn hottest_function(report: &str) -> Option<String> {
    let mut lines = report
        .lines()
        .skip_while(|l| !l.starts_with("Hottest functions"));
    let row = lines.nth(2)?;
    // share, samples, in-jit share, symbol, object
    row.split_whitespace().nth(3).map(str::to_string)
}

/// The symbol of the first row of the translations table.
fn hottest_translation(report: &str) -> Option<String> {
    let mut lines = report
        .lines()
        .skip_while(|l| !l.starts_with("Hottest translations"));
    lines.nth(2)?.split_whitespace().last().map(str::to_string)
}

fn check(bin: &Path, engine: &str, n: &str, dir: &Path) -> Result<(), String> {
    let file: PathBuf = dir.join(format!(
        "{}.{engine}.json",
        bin.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&file);
    let run = pvm(&[
        "--engine".as_ref(),
        engine.as_ref(),
        "--profile".as_ref(),
        file.as_os_str(),
        bin.as_os_str(),
        n.as_ref(),
    ])?;
    if run.status != 0 || run.stdout.is_empty() || !run.stderr.is_empty() {
        return Err(format!(
            "the profiled guest printed {:?}, {:?} and ended with {}",
            show(&run.stdout, 200),
            show(&run.stderr, 1000),
            run.status
        ));
    }
    let rep = pvm(&["report".as_ref(), file.as_os_str()])?;
    let text = String::from_utf8_lossy(&rep.stdout).into_owned();
    if rep.status != 0 {
        return Err(format!(
            "pvm report ended with {}: {}",
            rep.status,
            show(&rep.stderr, 1000)
        ));
    }
    match hottest_function(&text) {
        Some(f) if f == FUNCTION => {}
        other => {
            return Err(format!(
                "the hottest function is {other:?}, not {FUNCTION}:\n{text}"
            ));
        }
    }
    if engine == "jit" {
        match hottest_translation(&text) {
            Some(s) if s == FUNCTION || s.starts_with(&format!("{FUNCTION}+")) => {}
            other => {
                return Err(format!(
                    "the hottest translation is in {other:?}, not {FUNCTION}:\n{text}"
                ));
            }
        }
        for what in ["Translation:", "Cold code:", "System calls:"] {
            if !text.contains(what) {
                return Err(format!("no {what:?} in the report:\n{text}"));
            }
        }
        // The hottest translation, guest instructions beside host code.
        let pc = text
            .lines()
            .skip_while(|l| !l.starts_with("Hottest translations"))
            .nth(2)
            .and_then(|l| {
                l.split_whitespace()
                    .nth(2)?
                    .split('-')
                    .next()
                    .map(str::to_string)
            })
            .ok_or_else(|| format!("no translation row:\n{text}"))?;
        let blk = pvm(&[
            "report".as_ref(),
            file.as_os_str(),
            "--block".as_ref(),
            pc.as_ref(),
        ])?;
        let b = String::from_utf8_lossy(&blk.stdout);
        if blk.status != 0
            || !b.contains(FUNCTION)
            || !b.contains("\nguest:\n")
            || !b.contains("\nhost:\n")
        {
            return Err(format!(
                "pvm report --block {pc} ended with {} and printed:\n{b}",
                blk.status
            ));
        }
    }
    // The same run's summary on stderr, without a file.
    let sum = pvm(&[
        "--engine".as_ref(),
        engine.as_ref(),
        "--profile".as_ref(),
        "-".as_ref(),
        bin.as_os_str(),
        n.as_ref(),
    ])?;
    let err = String::from_utf8_lossy(&sum.stderr).into_owned();
    if sum.status != 0 || hottest_function(&err).as_deref() != Some(FUNCTION) {
        return Err(format!(
            "--profile - ended with {} and printed:\n{err}",
            sum.status
        ));
    }
    Ok(())
}

/// A file that is not a profile: one line on stderr, status 1.
fn corrupt(dir: &Path) -> Result<(), String> {
    let bad = dir.join("corrupt.json");
    for content in [
        &b"{\"format\":\"pvm-profile\",\"version\":1,"[..],
        b"\xff\xfe",
        b"[]",
    ] {
        std::fs::write(&bad, content).map_err(|e| e.to_string())?;
        let c = pvm(&["report".as_ref(), bad.as_os_str()])?;
        let err = String::from_utf8_lossy(&c.stderr);
        if c.status != 1 || err.lines().count() != 1 || !c.stdout.is_empty() {
            return Err(format!(
                "pvm report on {:?} ended with {} and printed {:?} / {:?}",
                show(content, 100),
                c.status,
                show(&c.stdout, 200),
                err
            ));
        }
    }
    let c = pvm(&["report".as_ref(), dir.join("no-such-file").as_os_str()])?;
    if c.status != 1 {
        return Err(format!("a missing file ended with {}", c.status));
    }
    Ok(())
}
