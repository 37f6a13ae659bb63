//! Small process and file helpers shared by the xtask subcommands.
//!
//! xtask deliberately has no dependencies, so running a child with a timeout
//! and capturing its output is done here with std alone.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The captured result of one finished child process.
#[derive(Debug, Clone)]
pub struct Captured {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Exit status as a shell reports it: the exit code, or 128+signal.
    pub status: i32,
    pub elapsed: Duration,
}

/// Converts a wait status into the number a shell prints for `$?`.
pub fn shell_status(st: ExitStatus) -> i32 {
    match (st.code(), st.signal()) {
        (Some(c), _) => c,
        (None, Some(s)) => 128 + s,
        (None, None) => -1,
    }
}

/// Runs `cmd` to completion with `stdin` fed to it, killing it after
/// `timeout`. Output pipes are drained on their own threads so a chatty child
/// cannot deadlock against a full pipe.
pub fn run_captured(
    cmd: &mut Command,
    stdin: &[u8],
    timeout: Duration,
) -> Result<Captured, String> {
    let start = Instant::now();
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    let mut sin = child.stdin.take().expect("piped stdin");
    let input = stdin.to_vec();
    // A child that never reads its stdin closes the pipe; a write error
    // then is expected and harmless.
    let writer = thread::spawn(move || {
        use std::io::Write;
        let _ = sin.write_all(&input);
    });
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_t = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_t = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let mut nap = Duration::from_micros(200);
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) => {}
            Err(e) => return Err(format!("wait failed: {e}")),
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out after {} s", timeout.as_secs()));
        }
        thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let _ = writer.join();
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    Ok(Captured {
        stdout,
        stderr,
        status: shell_status(status),
        elapsed,
    })
}

/// Runs a command with inherited stdio; Err if it cannot start or fails.
pub fn run_inherit(cmd: &mut Command) -> Result<(), String> {
    let st = cmd
        .status()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!(
            "{:?} failed with status {}",
            cmd.get_program(),
            shell_status(st)
        ))
    }
}

/// Looks `name` up in PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// CPU time (user + system, seconds) of this process's waited-for
/// children so far, from `/proc/self/stat` (clock ticks of 1/100 s, which
/// is what Linux reports there on x86-64); `None` off Linux.
pub fn children_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces), from field 3.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let cutime: u64 = f.get(13)?.parse().ok()?;
    let cstime: u64 = f.get(14)?.parse().ok()?;
    Some((cutime + cstime) as f64 / 100.0)
}

/// The workspace root (the parent of xtask's manifest directory).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// A stable 64-bit FNV-1a hash, used for build-cache keys (std's hasher is
/// not promised to be stable across releases).
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in *p {
            h ^= b as u64;
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        // Separate the parts so ("ab","c") and ("a","bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// Shows bytes as text for diagnostics, truncated to a readable length.
pub fn show(bytes: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(bytes);
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}... [{} bytes total]", &s[..cut], bytes.len())
    } else {
        s.into_owned()
    }
}

/// A compact description of the first difference between two outputs.
pub fn first_diff(want: &[u8], got: &[u8]) -> String {
    let w: Vec<&[u8]> = want.split(|&b| b == b'\n').collect();
    let g: Vec<&[u8]> = got.split(|&b| b == b'\n').collect();
    for i in 0..w.len().max(g.len()) {
        let a = w.get(i).copied();
        let b = g.get(i).copied();
        if a != b {
            let f = |x: Option<&[u8]>| {
                x.map_or("<missing>".to_string(), |l| format!("{:?}", show(l, 200)))
            };
            return format!("line {}: expected {} got {}", i + 1, f(a), f(b));
        }
    }
    "outputs differ".to_string()
}

/// The effective user id, read from /proc so xtask needs no libc binding.
pub fn euid() -> Option<u32> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Median of the samples (which must not be empty).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_status() {
        let c = run_captured(
            Command::new("sh").args(["-c", "cat; echo err >&2; exit 3"]),
            b"in\n",
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(c.stdout, b"in\n");
        assert_eq!(c.stderr, b"err\n");
        assert_eq!(c.status, 3);
    }

    #[test]
    fn signal_becomes_128_plus() {
        let c = run_captured(
            Command::new("sh").args(["-c", "kill -SEGV $$"]),
            b"",
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(c.status, 139);
    }

    #[test]
    fn timeout_kills() {
        let r = run_captured(
            Command::new("sleep").arg("5"),
            b"",
            Duration::from_millis(100),
        );
        assert!(r.is_err());
    }

    #[test]
    fn hash_separates_parts() {
        assert_ne!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"a", b"bc"]));
    }

    #[test]
    fn children_cpu_time_grows() {
        let before = children_cpu_seconds().unwrap();
        let st = Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])
            .status()
            .unwrap();
        assert!(st.success());
        assert!(children_cpu_seconds().unwrap() > before);
    }

    #[test]
    fn median_even_odd() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
