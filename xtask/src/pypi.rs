//! ruff's and uv's riscv64 and x86-64 builds from PyPI, for the
//! real-program cases (`realprogs`): both are Rust programs linked against
//! glibc (and, on riscv64, libatomic) that run their work on thread pools
//! (rayon, tokio), and uv starts interpreters and resolves dependencies,
//! so they exercise threads, futexes, epoll, processes and a large
//! dynamically linked program under pvm. The x86-64 build of the same
//! version is the oracle for their output.
//!
//! `/usr/bin/python3 -m pip download --only-binary=:all: --no-deps --platform P
//! NAME==VERSION` into `tests/build/pypi/`, each wheel checked against
//! the SHA-256 recorded here (so a changed upload is an error, not a
//! different program), then unpacked with Python's `zipfile`. Cached until
//! the versions change.

use crate::sysroot::FetchError;
use crate::util::{root, run_captured};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A wheel: (name, version, pip platform tag, SHA-256 of the file).
struct Wheel {
    name: &'static str,
    version: &'static str,
    platform: &'static str,
    sha256: &'static str,
}

pub const RUFF_VERSION: &str = "0.17.6";
pub const UV_VERSION: &str = "0.13.9";
const RV: &str = "manylinux_2_31_riscv64";
const X64: &str = "manylinux_2_17_x86_64";

const RUFF_RV: Wheel = Wheel {
    name: "ruff",
    version: RUFF_VERSION,
    platform: RV,
    sha256: "0692088e6b33455572fb18465e891b443f196e98dc1986825685c77ff6f4c5ac",
};
const RUFF_X64: Wheel = Wheel {
    name: "ruff",
    version: RUFF_VERSION,
    platform: X64,
    sha256: "aa3b08254a732acba246891089a152c47c5733dc36b8ecb76ce8602f8326e5e4",
};
const UV_RV: Wheel = Wheel {
    name: "uv",
    version: UV_VERSION,
    platform: RV,
    sha256: "6b0c7b9f47a5d011939d61e324d3fe18a8bc155d8dd53add738709a92f290a7c",
};
const UV_X64: Wheel = Wheel {
    name: "uv",
    version: UV_VERSION,
    platform: X64,
    sha256: "d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19",
};

/// The host's Debian python3, whose pip (`python3-pip`, which set-up
/// installs) downloads the wheels: not whatever `python3` is first on
/// `PATH`, which may lack pip.
const PYTHON: &str = "/usr/bin/python3";

/// Each wheel is 10 to 20 MB; anything far larger is not what we asked for.
const MAX_WHEEL: u64 = 64 << 20;

/// The executables of both tools in both builds, and the directory of
/// the wheels (a `--find-links` for uv's resolver).
pub struct Wheels {
    pub ruff_riscv64: PathBuf,
    pub ruff_x64: PathBuf,
    pub uv_riscv64: PathBuf,
    pub uv_x64: PathBuf,
    pub dir: PathBuf,
}

fn dir() -> PathBuf {
    root().join("tests/build/pypi")
}

/// Fetches (once) and returns both tools' builds.
pub fn ensure() -> Result<Wheels, FetchError> {
    let d = dir();
    Ok(Wheels {
        ruff_riscv64: fetch(&d, &RUFF_RV, "ruff")?,
        ruff_x64: fetch(&d, &RUFF_X64, "ruff")?,
        uv_riscv64: fetch(&d, &UV_RV, "uv")?,
        uv_x64: fetch(&d, &UV_X64, "uv")?,
        dir: d.join("wheels"),
    })
}

/// The first `*.whl` in `d` whose name starts `NAME-VERSION-` and holds
/// the platform tag.
fn find_wheel(d: &Path, w: &Wheel) -> Option<PathBuf> {
    let prefix = format!("{}-{}-", w.name, w.version);
    fs::read_dir(d)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            n.starts_with(&prefix) && n.contains(w.platform) && n.ends_with(".whl")
        })
}

fn sha256(path: &Path) -> Result<String, String> {
    let mut c = Command::new("sha256sum");
    c.arg(path);
    let r = run_captured(&mut c, b"", Duration::from_secs(60))?;
    let out = String::from_utf8_lossy(&r.stdout);
    match out.split_whitespace().next() {
        Some(h) if r.status == 0 => Ok(h.to_string()),
        _ => Err(format!("sha256sum {} failed", path.display())),
    }
}

/// Fetches wheel `w` into `d/wheels` and unpacks it into
/// `d/NAME-VERSION-PLATFORM`; returns its executable `exe` (under the
/// wheel's `*.data/scripts/`).
fn fetch(d: &Path, w: &Wheel, exe: &str) -> Result<PathBuf, FetchError> {
    let failed = FetchError::Failed;
    let unpacked = d.join(format!("{}-{}-{}", w.name, w.version, w.platform));
    let bin = unpacked.join(format!("{}-{}.data/scripts/{exe}", w.name, w.version));
    if bin.is_file() {
        return Ok(bin);
    }
    let wheels = d.join("wheels");
    fs::create_dir_all(&wheels).map_err(|e| failed(format!("{}: {e}", wheels.display())))?;
    if find_wheel(&wheels, w).is_none() {
        let spec = format!("{}=={}", w.name, w.version);
        println!("fetching {spec} ({}) with pip download", w.platform);
        let mut c = Command::new(PYTHON);
        c.args(["-m", "pip", "download", "--only-binary=:all:", "--no-deps"])
            .args(["--platform", w.platform, "--dest"])
            .arg(&wheels)
            .args([
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--retries",
                "2",
            ])
            .args(["--timeout", "30", &spec]);
        let r = run_captured(&mut c, b"", Duration::from_secs(600)).map_err(failed)?;
        if r.status != 0 {
            let err = String::from_utf8_lossy(&r.stderr);
            let msg = format!(
                "pip download {spec} failed (status {}): {}",
                r.status,
                err.trim()
            );
            let offline = [
                "NewConnectionError",
                "Temporary failure",
                "Name or service",
                "ConnectTimeout",
            ];
            return Err(FetchError::from_output(msg, &err, &offline));
        }
    }
    let whl = find_wheel(&wheels, w).ok_or_else(|| {
        failed(format!(
            "pip download left no {} wheel for {}",
            w.name, w.platform
        ))
    })?;
    let size = fs::metadata(&whl)
        .map_err(|e| failed(format!("{}: {e}", whl.display())))?
        .len();
    if size > MAX_WHEEL {
        return Err(failed(format!(
            "{} is {} MiB, over the limit",
            whl.display(),
            size >> 20
        )));
    }
    let got = sha256(&whl).map_err(failed)?;
    if got != w.sha256 {
        let _ = fs::remove_file(&whl);
        return Err(failed(format!(
            "{}: SHA-256 {got}, expected {} (removed)",
            whl.display(),
            w.sha256
        )));
    }
    let tmp = d.join(format!("{}-{}-{}.tmp", w.name, w.version, w.platform));
    let _ = fs::remove_dir_all(&tmp);
    let mut z = Command::new(PYTHON);
    z.args(["-m", "zipfile", "-e"]).arg(&whl).arg(&tmp);
    let r = run_captured(&mut z, b"", Duration::from_secs(120)).map_err(failed)?;
    if r.status != 0 {
        return Err(failed(format!(
            "unpacking {} failed: {}",
            whl.display(),
            String::from_utf8_lossy(&r.stderr).trim()
        )));
    }
    let tmp_bin = tmp.join(bin.strip_prefix(&unpacked).expect("under unpacked"));
    if !tmp_bin.is_file() {
        return Err(failed(format!(
            "{} has no {}",
            whl.display(),
            tmp_bin.display()
        )));
    }
    // zipfile keeps no modes.
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&tmp_bin, fs::Permissions::from_mode(0o755))
        .map_err(|e| failed(format!("{}: {e}", tmp_bin.display())))?;
    let _ = fs::remove_dir_all(&unpacked);
    fs::rename(&tmp, &unpacked).map_err(|e| failed(format!("{}: {e}", unpacked.display())))?;
    Ok(bin)
}
