//! esbuild's riscv64 and x86-64 builds from the npm registry, for the
//! real-program cases (`realprogs`): esbuild is a static Go program, so it
//! exercises the Go runtime's threads, futexes and signals under pvm, and
//! the x86-64 build of the same version is the oracle for its output.
//!
//! `npm pack @esbuild/linux-riscv64@VERSION` (and `linux-x64`) into
//! `tests/build/esbuild/VERSION/` with a private npm cache there; npm checks
//! each tarball against the registry's integrity hash. Unpacked with `tar`,
//! cached until [`VERSION`] changes.

use crate::sysroot::FetchError;
use crate::util::{root, run_captured, which};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The esbuild release both builds come from.
pub const VERSION: &str = "0.28.2";

/// Each package is about 10 MB; anything far larger is not what we asked for.
const MAX_TARBALL: u64 = 64 << 20;

/// The two executables: (riscv64, x86-64).
pub struct Esbuild {
    pub riscv64: PathBuf,
    pub x64: PathBuf,
}

fn dir() -> PathBuf {
    root().join("tests/build/esbuild").join(VERSION)
}

/// Fetches (once) and returns both builds.
pub fn ensure() -> Result<Esbuild, FetchError> {
    let d = dir();
    Ok(Esbuild {
        riscv64: fetch(&d, "linux-riscv64")?,
        x64: fetch(&d, "linux-x64")?,
    })
}

fn fetch(d: &Path, platform: &str) -> Result<PathBuf, FetchError> {
    let failed = |m: String| FetchError::Failed(m);
    let unpacked = d.join(platform);
    let exe = unpacked.join("package/bin/esbuild");
    if exe.is_file() {
        return Ok(exe);
    }
    if which("npm").is_none() {
        return Err(failed(
            "npm is missing: the esbuild cases fetch esbuild with `npm pack`".into(),
        ));
    }
    fs::create_dir_all(d).map_err(|e| failed(format!("{}: {e}", d.display())))?;
    let spec = format!("@esbuild/{platform}@{VERSION}");
    println!("fetching {spec} with npm pack");
    let mut c = Command::new("npm");
    c.args(["pack", &spec, "--json", "--pack-destination"])
        .arg(d)
        .arg("--cache")
        .arg(d.parent().unwrap().join("npm-cache"))
        .args(["--loglevel", "error", "--no-audit", "--no-fund"])
        // Bounded: without a registry this gives up within seconds.
        .args(["--fetch-retries", "2", "--fetch-retry-maxtimeout", "10000"])
        .current_dir(d);
    let r = run_captured(&mut c, b"", Duration::from_secs(300)).map_err(FetchError::Failed)?;
    let out = String::from_utf8_lossy(&r.stdout);
    let err = String::from_utf8_lossy(&r.stderr);
    if r.status != 0 {
        let msg = format!(
            "npm pack {spec} failed (status {}): {}",
            r.status,
            err.trim()
        );
        let offline = [
            "ENOTFOUND",
            "EAI_AGAIN",
            "ECONNREFUSED",
            "ECONNRESET",
            "ETIMEDOUT",
            "ENETUNREACH",
            "network",
        ];
        return Err(FetchError::from_output(msg, &err, &offline));
    }
    // `--json` names the file it wrote: "filename": "esbuild-linux-x64-0.28.2.tgz".
    let name = json_string(&out, "filename")
        .ok_or_else(|| failed(format!("npm pack {spec}: no filename in {out}")))?;
    let tgz = d.join(&name);
    let size = fs::metadata(&tgz)
        .map_err(|e| failed(format!("{}: {e}", tgz.display())))?
        .len();
    if size > MAX_TARBALL {
        return Err(failed(format!(
            "{} is {} MiB, over the {} MiB limit",
            tgz.display(),
            size >> 20,
            MAX_TARBALL >> 20
        )));
    }
    let tmp = d.join(format!("{platform}.tmp"));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).map_err(|e| failed(format!("{}: {e}", tmp.display())))?;
    let mut t = Command::new("tar");
    t.arg("-xzf").arg(&tgz).arg("-C").arg(&tmp);
    let r = run_captured(&mut t, b"", Duration::from_secs(120)).map_err(FetchError::Failed)?;
    if r.status != 0 {
        return Err(failed(format!(
            "tar -xzf {} failed: {}",
            tgz.display(),
            String::from_utf8_lossy(&r.stderr).trim()
        )));
    }
    if !tmp.join("package/bin/esbuild").is_file() {
        return Err(failed(format!(
            "{} has no package/bin/esbuild",
            tgz.display()
        )));
    }
    let _ = fs::remove_dir_all(&unpacked);
    fs::rename(&tmp, &unpacked).map_err(|e| failed(format!("{}: {e}", unpacked.display())))?;
    Ok(exe)
}

/// The value of the first `"key": "value"` in a JSON text (npm's output;
/// values there have no escapes).
fn json_string(json: &str, key: &str) -> Option<String> {
    let at = json.find(&format!("\"{key}\""))?;
    let rest = &json[at + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filename_from_npm_json() {
        let j = r#"[ { "id": "@esbuild/linux-x64@0.28.2", "name": "@esbuild/linux-x64",
            "filename": "esbuild-linux-x64-0.28.2.tgz", "files": [] } ]"#;
        assert_eq!(
            json_string(j, "filename").as_deref(),
            Some("esbuild-linux-x64-0.28.2.tgz")
        );
        assert_eq!(json_string(j, "missing"), None);
    }
}
