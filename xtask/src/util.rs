//! Small process and file helpers shared by the xtask subcommands.
//!
//! xtask deliberately has no dependencies, so running a child with a timeout
//! and capturing its output is done here with std alone (and libc's
//! `wait4`, which std links anyway).

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The captured result of one finished child process.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Exit status as a shell reports it: the exit code, or 128+signal.
    pub status: i32,
    pub elapsed: Duration,
    /// User plus system time of the child and the children it reaped.
    pub cpu: Duration,
    /// Peak resident set of the child (or its largest reaped child), KiB.
    pub max_rss_kib: u64,
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
///
/// The child is reaped by a blocking `wait4` on a thread of its own, so
/// `elapsed` ends when the child does (not at the next poll: start-up times
/// are a few milliseconds) and its resource use comes with the status.
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
    let pid = child.id() as i32;
    let (tx, rx) = mpsc::channel();
    let reaper = thread::spawn(move || {
        let _ = tx.send(reap(pid).map(|w| (w, Instant::now())));
    });
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
    let reaped = match rx.recv_timeout(timeout) {
        Ok(r) => r,
        Err(_) => {
            // The child is not reaped yet, so `pid` is still its own: the
            // kill cannot reach another process.
            let _ = child.kill();
            let _ = reaper.join();
            return Err(format!("timed out after {} s", timeout.as_secs()));
        }
    };
    let _ = reaper.join();
    let (w, end) = reaped.map_err(|e| format!("wait failed: {e}"))?;
    let elapsed = end - start;
    let _ = writer.join();
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    Ok(Captured {
        stdout,
        stderr,
        status: w.shell_status(),
        elapsed,
        cpu: w.cpu,
        max_rss_kib: w.max_rss_kib,
    })
}

/// What `wait4` gives for one reaped child.
pub struct Reaped {
    /// The raw wait status.
    pub status: i32,
    /// User plus system time of the child and of the children it reaped.
    pub cpu: Duration,
    /// Peak resident set of the child or of the largest child it reaped.
    pub max_rss_kib: u64,
}

impl Reaped {
    /// The status as a shell prints it for `$?`.
    pub fn shell_status(&self) -> i32 {
        shell_status(ExitStatus::from_raw(self.status))
    }
}

/// `struct rusage` of x86-64 Linux: two `timeval`s, then fourteen longs.
#[repr(C)]
struct Rusage {
    utime: [i64; 2],
    stime: [i64; 2],
    maxrss: i64,
    rest: [i64; 13],
}

unsafe extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
}

/// Blocks until child `pid` ends and reaps it (std has no `wait4`, and
/// `Child::wait` gives no resource use).
fn reap(pid: i32) -> std::io::Result<Reaped> {
    loop {
        match try_reap(pid, true) {
            Ok(Some(r)) => return Ok(r),
            Ok(None) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reaps child `pid` if it has ended (waiting for it when `block`): None
/// while it runs. `pid` must be a child of this process not yet reaped.
pub fn try_reap(pid: i32, block: bool) -> std::io::Result<Option<Reaped>> {
    const WNOHANG: i32 = 1;
    let mut status = 0;
    let mut ru = Rusage {
        utime: [0; 2],
        stime: [0; 2],
        maxrss: 0,
        rest: [0; 13],
    };
    // SAFETY: both pointers are to live locals of the types the C
    // prototype names (`Rusage` has `struct rusage`'s x86-64 layout), and
    // `wait4` writes nothing else.
    let r = unsafe { wait4(pid, &mut status, if block { 0 } else { WNOHANG }, &mut ru) };
    if r == 0 {
        return Ok(None);
    }
    if r != pid {
        return Err(std::io::Error::last_os_error());
    }
    let tv = |t: [i64; 2]| Duration::from_secs(t[0] as u64) + Duration::from_micros(t[1] as u64);
    Ok(Some(Reaped {
        status,
        cpu: tv(ru.utime) + tv(ru.stime),
        max_rss_kib: ru.maxrss as u64,
    }))
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

/// The machine `cargo xtask test` runs on (pvm's only host). The
/// workspace's `.cargo/config.toml` names it as the build target, so that
/// `pvm` is linked as a static-pie executable (the flag must not reach the
/// proc macros, which are built for the host without it); hence the
/// triple in the paths of what cargo builds.
pub const HOST_TARGET: &str = "x86_64-unknown-linux-gnu";

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
    fn captured_cpu_time_and_rss() {
        let spin = "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done";
        let o = run_captured(
            Command::new("sh").args(["-c", spin]),
            b"",
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(o.status, 0);
        assert!(o.cpu > Duration::from_millis(20), "{:?}", o.cpu);
        assert!(o.cpu <= o.elapsed + Duration::from_millis(20));
        assert!(o.max_rss_kib > 0);
        let o = run_captured(
            Command::new("sh").args(["-c", "kill -TERM $$"]),
            b"",
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(o.status, 128 + 15);
    }

    #[test]
    fn median_even_odd() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
