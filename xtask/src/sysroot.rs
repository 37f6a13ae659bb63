//! A Debian 13 (trixie) riscv64 sysroot of real programs, for judging pvm
//! by programs no one here wrote (see `realprogs`).
//!
//! The `.deb` files come from Debian's own archive through apt, with a
//! private configuration under `tests/build/debian-riscv64/apt/`: its own
//! `sources.list` (`arch=riscv64`, signed by the host's Debian archive
//! keyring), its own lists, cache, state and an empty dpkg status file, all
//! reached through `APT_CONFIG`. That configuration file sets
//! `Dir::Etc::Parts` and `Dir::Etc::main` too, so nothing of the host's
//! `/etc/apt` is read, and nothing of it is ever written.
//!
//! apt resolves the dependency closure of [`PACKAGES`] (as on a machine
//! with nothing installed; no recommends), the size of the download is
//! checked against [`MAX_DOWNLOAD`] before anything is fetched, and every
//! package is unpacked with `dpkg-deb -x` (no maintainer scripts run).
//! trixie ships its files under `/usr`; the sysroot gets the merged-`/usr`
//! links (`bin`, `sbin`, `lib` to `usr/...`) so that `/bin/sh` and
//! `/lib/ld-linux-riscv64-lp64d.so.1` resolve, and anything a package still
//! ships in a top-level directory is moved under `usr/` first.
//!
//! What the packages' maintainer scripts would have added and the programs
//! need is done here: Python's standard library is byte-compiled, as
//! Debian's `py3compile` does at installation, by the sysroot's own
//! python3.13 under qemu-riscv64 (without it every Python case compiles
//! the modules it imports from source on each run, several times slower).
//!
//! The result is cached: `tests/build/debian-riscv64/root/` is built once
//! and rebuilt only when [`cache_key`] changes (the package list, the suite
//! or the layout of this module's output). A run with no registry in reach
//! and no cached sysroot reports [`FetchError::NoRegistry`], which callers
//! count as a skip; every other problem is a failure.

use crate::util::{fnv1a, root, run_captured, which};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The Debian release: 13, where riscv64 is an official architecture.
pub const SUITE: &str = "trixie";
/// Debian's archive; `PVM_DEBIAN_MIRROR` names another (a local mirror).
pub const MIRROR: &str = "http://deb.debian.org/debian";

fn mirror() -> String {
    std::env::var("PVM_DEBIAN_MIRROR")
        .ok()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| MIRROR.to_string())
}
/// Verifies the archive's signature; the host's `debian-archive-keyring`
/// (Debian 12's carries the trixie keys).
pub const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// The programs asked for; apt adds their dependency closure (libc6,
/// libtinfo6, libselinux1, libpcre2-8-0, libssl3t64, libffi8, ...).
pub const PACKAGES: &[&str] = &[
    "busybox-static",
    "bash",
    "dash",
    "coreutils",
    "make",
    "sed",
    "grep",
    "findutils",
    "python3.13-minimal",
    "libpython3.13-minimal",
    "libpython3.13-stdlib",
    "python3-minimal",
    // CPython's own regression tests (see `cpython`).
    "libpython3.13-testsuite",
    // More programs real users run, each for the OS features it exercises
    // (see `realprogs`): perl (fork, pipes, sockets, signals), gawk, tar
    // with gzip and xz (threads), diff, cmp and patch, sqlite3 (mmap and
    // locks of a WAL database) and git (about 28 MB more with their
    // closure, git's curl and gnutls the most of it).
    "perl",
    "gawk",
    "tar",
    "gzip",
    "xz-utils",
    "diffutils",
    "patch",
    "sqlite3",
    "git",
    // ruff's and uv's riscv64 builds (`pypi`) link it.
    "libatomic1",
    // Go programs, static (about 3.6 MB): the Go runtime's threads,
    // SIGURG preemption, epoll and futexes, on both hosts.
    "shfmt",
    "fzf",
    "age",
    // Node.js (about 24 MB more with libnode and ICU): V8's JIT writes,
    // flushes and runs RISC-V code in several threads (see `realprogs`).
    "nodejs",
    // OpenJDK 21's JVM (about 49 MB more, 190 MB unpacked).
    "openjdk-21-jre-headless",
    // Ruby 3.3 (about 8 MB more).
    "ruby3.3",
    // GCC 14 with binutils and libc6-dev (about 66 MB more): a compiler
    // driver that execs cc1, as and ld, all RISC-V programs.
    "gcc-14",
    "binutils",
    "libc6-dev",
];

/// The most the sysroot may download (the closure is about 205 MB today).
pub const MAX_DOWNLOAD: u64 = 280 << 20;

/// Bumped when the layout this module produces changes, so old caches are
/// rebuilt.
const LAYOUT_VERSION: &str = "2";

/// The dynamic linker every riscv64 program names in `PT_INTERP`.
pub const LD_SO: &str = "lib/ld-linux-riscv64-lp64d.so.1";

/// Why there is no sysroot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// No package registry could be reached and nothing is cached: a skip.
    NoRegistry(String),
    /// Anything else: a failure.
    Failed(String),
}

impl FetchError {
    /// A fetch that failed with `msg`: no registry when the tool's own
    /// output (`output`) names one of the network failures `offline`,
    /// else a failure.
    pub fn from_output(msg: String, output: &str, offline: &[&str]) -> FetchError {
        if offline.iter().any(|n| output.contains(n)) {
            FetchError::NoRegistry(msg)
        } else {
            FetchError::Failed(msg)
        }
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::NoRegistry(m) => write!(f, "no package registry: {m}"),
            FetchError::Failed(m) => f.write_str(m),
        }
    }
}

/// `tests/build/debian-riscv64`, where the apt state and the sysroot live.
pub fn base_dir() -> PathBuf {
    root().join("tests/build/debian-riscv64")
}

/// The sysroot itself (give it to `pvm -L` and `qemu-riscv64 -L`).
pub fn sysroot_dir() -> PathBuf {
    base_dir().join("root")
}

/// What the cached sysroot was built from.
pub fn cache_key() -> String {
    // Not the mirror: every mirror serves the same packages.
    let mut parts: Vec<&[u8]> = vec![LAYOUT_VERSION.as_bytes(), SUITE.as_bytes()];
    parts.extend(PACKAGES.iter().map(|p| p.as_bytes()));
    format!("{:016x}", fnv1a(&parts))
}

/// The sysroot, built first when it is missing or stale.
pub fn ensure() -> Result<PathBuf, FetchError> {
    let base = base_dir();
    let root_dir = sysroot_dir();
    let stamp = base.join("root.stamp");
    let key = cache_key();
    if root_dir.join(LD_SO).exists() && fs::read_to_string(&stamp).ok().as_deref() == Some(&key) {
        return Ok(root_dir);
    }
    for tool in ["apt-get", "dpkg-deb"] {
        if which(tool).is_none() {
            return Err(FetchError::Failed(format!(
                "{tool} is missing: the real-program sysroot needs Debian's apt and dpkg"
            )));
        }
    }
    println!(
        "building the Debian {SUITE} riscv64 sysroot in {}",
        root_dir.display()
    );
    let apt = AptConfig::write(&base.join("apt")).map_err(FetchError::Failed)?;
    apt.update()?;
    // The archive cache keeps only this package list's files.
    for e in read_dir(&apt.archives()).map_err(FetchError::Failed)? {
        if e.extension().is_some_and(|x| x == "deb") {
            let _ = fs::remove_file(&e);
        }
    }
    let total = apt.download_size(PACKAGES)?;
    if total > MAX_DOWNLOAD {
        return Err(FetchError::Failed(format!(
            "the sysroot's packages would download {} MiB, over the limit of {} MiB",
            total >> 20,
            MAX_DOWNLOAD >> 20
        )));
    }
    println!(
        "downloading {:.1} MiB of packages",
        total as f64 / 1048576.0
    );
    apt.download(PACKAGES)?;
    let mut debs: Vec<PathBuf> = read_dir(&apt.archives())
        .map_err(FetchError::Failed)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    debs.sort();
    if debs.is_empty() {
        return Err(FetchError::Failed("apt downloaded no package".into()));
    }
    let tmp = base.join("root.tmp");
    unpack(&debs, &tmp).map_err(FetchError::Failed)?;
    if !tmp.join(LD_SO).exists() {
        return Err(FetchError::Failed(format!(
            "the unpacked sysroot has no /{LD_SO}"
        )));
    }
    compile_python(&tmp).map_err(FetchError::Failed)?;
    let _ = fs::remove_file(&stamp);
    if root_dir.exists() {
        fs::remove_dir_all(&root_dir).map_err(|e| FetchError::Failed(format!("{e}")))?;
    }
    fs::rename(&tmp, &root_dir).map_err(|e| FetchError::Failed(format!("{e}")))?;
    let manifest: String = debs
        .iter()
        .filter_map(|d| d.file_name())
        .map(|n| format!("{}\n", n.to_string_lossy()))
        .collect();
    fs::write(base.join("packages.txt"), manifest)
        .and_then(|_| fs::write(&stamp, &key))
        .map_err(|e| FetchError::Failed(format!("{}: {e}", stamp.display())))?;
    println!("sysroot ready: {} packages", debs.len());
    Ok(root_dir)
}

fn read_dir(d: &Path) -> Result<Vec<PathBuf>, String> {
    fs::read_dir(d)
        .map_err(|e| format!("{}: {e}", d.display()))?
        .map(|e| {
            e.map(|e| e.path())
                .map_err(|e| format!("{}: {e}", d.display()))
        })
        .collect()
}

/// A private apt: every directory apt reads or writes, under `dir`.
struct AptConfig {
    dir: PathBuf,
}

impl AptConfig {
    fn write(dir: &Path) -> Result<AptConfig, String> {
        let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
        for sub in [
            "etc/apt.conf.d",
            "etc/preferences.d",
            "etc/sources.list.d",
            "etc/trusted.gpg.d",
            "state/lists/partial",
            "cache/archives/partial",
            "log",
        ] {
            let p = dir.join(sub);
            fs::create_dir_all(&p).map_err(|e| io(&p, e))?;
        }
        let status = dir.join("state/status");
        if !status.exists() {
            fs::write(&status, "").map_err(|e| io(&status, e))?;
        }
        let sources = dir.join("etc/sources.list");
        fs::write(&sources, sources_line()).map_err(|e| io(&sources, e))?;
        let conf = dir.join("apt.conf");
        fs::write(&conf, apt_conf(dir)).map_err(|e| io(&conf, e))?;
        Ok(AptConfig {
            dir: dir.to_path_buf(),
        })
    }

    fn archives(&self) -> PathBuf {
        self.dir.join("cache/archives")
    }

    fn apt_get(&self) -> Command {
        let mut c = Command::new("apt-get");
        c.env("APT_CONFIG", self.dir.join("apt.conf"))
            .env("DEBIAN_FRONTEND", "noninteractive")
            .env("LC_ALL", "C");
        c
    }

    fn run(&self, args: &[&str], timeout: u64) -> Result<String, FetchError> {
        let mut c = self.apt_get();
        c.args(args);
        let r = run_captured(&mut c, b"", Duration::from_secs(timeout))
            .map_err(|e| FetchError::Failed(format!("apt-get {}: {e}", args[0])))?;
        let out = String::from_utf8_lossy(&r.stdout).into_owned();
        let err = String::from_utf8_lossy(&r.stderr).into_owned();
        // apt-get update exits 0 even when a source failed, with a W: or E:
        // line naming it.
        let fetch_failed = err.lines().any(|l| {
            (l.starts_with("E:") || l.starts_with("W:"))
                && (l.contains("Failed to fetch") || l.contains("Some index files failed"))
        });
        if r.status == 0 && !fetch_failed {
            return Ok(out);
        }
        let msg = format!(
            "apt-get {} failed (status {}): {}",
            args.join(" "),
            r.status,
            err.trim()
        );
        if is_network_error(&err) || is_network_error(&out) {
            Err(FetchError::NoRegistry(msg))
        } else {
            Err(FetchError::Failed(msg))
        }
    }

    fn update(&self) -> Result<(), FetchError> {
        self.run(&["update", "-q"], 300).map(|_| ())
    }

    /// The total size of what `apt-get install --download-only` would
    /// fetch, from its `--print-uris` listing (`'URI' FILE SIZE HASH`).
    fn download_size(&self, pkgs: &[&str]) -> Result<u64, FetchError> {
        let mut args = vec!["install", "--download-only", "--print-uris", "-qq", "-y"];
        args.extend_from_slice(pkgs);
        let out = self.run(&args, 120)?;
        let sizes = parse_print_uris(&out);
        if sizes.is_empty() {
            return Err(FetchError::Failed(format!(
                "apt-get --print-uris listed no package: {out}"
            )));
        }
        Ok(sizes.iter().sum())
    }

    fn download(&self, pkgs: &[&str]) -> Result<(), FetchError> {
        let mut args = vec!["install", "--download-only", "-q", "-y"];
        args.extend_from_slice(pkgs);
        self.run(&args, 600).map(|_| ())
    }
}

/// The one source: Debian's main archive for riscv64, signature-checked.
fn sources_line() -> String {
    let trust = if Path::new(KEYRING).exists() {
        format!("signed-by={KEYRING}")
    } else {
        // Without the keyring package there is nothing to check against;
        // the packages' hashes still come from the Release file.
        "trusted=yes".to_string()
    };
    format!("deb [arch=riscv64 {trust}] {} {SUITE} main\n", mirror())
}

fn apt_conf(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "// Written by cargo xtask (xtask/src/sysroot.rs): a private apt for the
// riscv64 sysroot. Nothing here reads or writes the host's apt state.
Dir \"/\";
Dir::Etc \"{d}/etc\";
Dir::Etc::main \"/dev/null\";
Dir::Etc::Parts \"{d}/etc/apt.conf.d\";
Dir::Etc::SourceList \"{d}/etc/sources.list\";
Dir::Etc::SourceParts \"{d}/etc/sources.list.d\";
Dir::Etc::Preferences \"{d}/etc/preferences\";
Dir::Etc::PreferencesParts \"{d}/etc/preferences.d\";
Dir::Etc::Trusted \"{d}/etc/trusted.gpg\";
Dir::Etc::TrustedParts \"{d}/etc/trusted.gpg.d\";
Dir::State \"{d}/state\";
Dir::State::status \"{d}/state/status\";
Dir::Cache \"{d}/cache\";
Dir::Log \"{d}/log\";
APT::Architecture \"riscv64\";
APT::Architectures {{ \"riscv64\"; }};
APT::Install-Recommends \"false\";
APT::Install-Suggests \"false\";
Acquire::Languages \"none\";
Acquire::Retries \"2\";
Acquire::http::Timeout \"30\";
"
    )
}

fn is_network_error(s: &str) -> bool {
    [
        "Could not resolve",
        "Temporary failure resolving",
        "Failed to fetch",
        "Unable to connect",
        "Network is unreachable",
        "Connection timed out",
        "Connection refused",
        "No route to host",
    ]
    .iter()
    .any(|n| s.contains(n))
}

/// Sizes from `apt-get --print-uris` lines: `'URI' FILE SIZE HASH`.
fn parse_print_uris(out: &str) -> Vec<u64> {
    out.lines()
        .filter(|l| l.starts_with('\''))
        .filter_map(|l| l.split_whitespace().nth(2)?.parse().ok())
        .collect()
}

/// Unpacks every package into a fresh `dest` and gives it the merged-/usr
/// layout.
fn unpack(debs: &[PathBuf], dest: &Path) -> Result<(), String> {
    if dest.exists() {
        fs::remove_dir_all(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    }
    fs::create_dir_all(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    for d in debs {
        let mut c = Command::new("dpkg-deb");
        c.arg("-x").arg(d).arg(dest);
        let r = run_captured(&mut c, b"", Duration::from_secs(120))?;
        if r.status != 0 {
            return Err(format!(
                "dpkg-deb -x {} failed: {}",
                d.display(),
                String::from_utf8_lossy(&r.stderr).trim()
            ));
        }
    }
    merge_usr(dest)
}

/// Byte-compiles the Python standard library in `root`, as Debian's
/// `py3compile` does when the packages are installed. The file names in
/// the code objects are the guest's (`/usr/lib/python3.13/...`).
fn compile_python(root: &Path) -> Result<(), String> {
    let python = root.join("usr/bin/python3.13");
    let lib = root.join("usr/lib/python3.13");
    if !python.exists() || !lib.is_dir() {
        return Ok(());
    }
    println!("byte-compiling Python's standard library (py3compile's job)");
    let mut c = Command::new("qemu-riscv64");
    c.arg("-L")
        .arg(root)
        .arg(&python)
        .args(["-m", "compileall", "-q", "-d", "/usr/lib/python3.13"])
        // The test package is compiled by `cpython::prepare`, only the
        // modules it runs.
        .args(["-x", r"/python3\.13/test/"])
        .arg(&lib)
        .env_clear()
        .env("LC_ALL", "C")
        .env("PATH", "/usr/bin:/bin");
    let r = run_captured(&mut c, b"", Duration::from_secs(900))?;
    if r.status != 0 {
        return Err(format!(
            "python3.13 -m compileall failed (status {}): {}",
            r.status,
            crate::util::show(&r.stderr, 600)
        ));
    }
    Ok(())
}

/// Top-level directories that merged /usr makes links to `usr/<name>`.
const MERGED: &[&str] = &["bin", "sbin", "lib", "lib64"];

/// Makes `/bin`, `/sbin`, `/lib` (and `/lib64` where `usr/lib64` exists)
/// links into `usr/`, first moving anything a package shipped there.
pub fn merge_usr(root: &Path) -> Result<(), String> {
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    for name in MERGED {
        let top = root.join(name);
        let usr = root.join("usr").join(name);
        let meta = fs::symlink_metadata(&top).ok();
        match meta {
            Some(m) if m.file_type().is_symlink() => {
                let t = fs::read_link(&top).map_err(|e| io(&top, e))?;
                if t == Path::new("usr").join(name) {
                    continue;
                }
                fs::remove_file(&top).map_err(|e| io(&top, e))?;
            }
            Some(m) if m.is_dir() => {
                fs::create_dir_all(&usr).map_err(|e| io(&usr, e))?;
                move_into(&top, &usr)?;
                fs::remove_dir_all(&top).map_err(|e| io(&top, e))?;
            }
            Some(_) => return Err(format!("{} is not a directory", top.display())),
            None => {}
        }
        if *name == "lib64" && !usr.exists() {
            continue;
        }
        fs::create_dir_all(&usr).map_err(|e| io(&usr, e))?;
        std::os::unix::fs::symlink(Path::new("usr").join(name), &top).map_err(|e| io(&top, e))?;
    }
    Ok(())
}

/// Moves every entry of `from` into `to`, merging directories; where both
/// have a file of the same name, `to`'s (the /usr one) is kept.
fn move_into(from: &Path, to: &Path) -> Result<(), String> {
    for src in read_dir(from)? {
        let name = src.file_name().expect("a directory entry has a name");
        let dst = to.join(name);
        let src_dir = fs::symlink_metadata(&src).is_ok_and(|m| m.is_dir());
        match fs::symlink_metadata(&dst) {
            Err(_) => fs::rename(&src, &dst).map_err(|e| format!("{}: {e}", src.display()))?,
            Ok(m) if m.is_dir() && src_dir => move_into(&src, &dst)?,
            Ok(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn print_uris_sizes() {
        let out = "'http://deb.debian.org/debian/pool/main/b/bash/bash_5.2.37-2%2bb10_riscv64.deb' bash_5.2.37-2+b10_riscv64.deb 1500000 SHA256:ab\n\
                   'http://x/y.deb' y.deb 20 SHA256:cd\nnoise\n";
        assert_eq!(parse_print_uris(out), vec![1_500_000, 20]);
    }

    #[test]
    fn config_is_private() {
        let c = apt_conf(Path::new("/p"));
        for k in [
            "Dir::Etc::main \"/dev/null\"",
            "Dir::Etc::Parts \"/p/etc/apt.conf.d\"",
            "Dir::State::status \"/p/state/status\"",
            "APT::Architectures { \"riscv64\"; }",
        ] {
            assert!(c.contains(k), "{k} missing from\n{c}");
        }
        assert!(sources_line().starts_with("deb [arch=riscv64 "));
    }

    #[test]
    fn merged_usr_layout() {
        let d = std::env::temp_dir().join(format!("xtask-usrmerge-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(d.join("usr/bin")).unwrap();
        fs::create_dir_all(d.join("bin/sub")).unwrap();
        fs::write(d.join("usr/bin/kept"), "usr").unwrap();
        fs::write(d.join("bin/kept"), "top").unwrap();
        fs::write(d.join("bin/moved"), "m").unwrap();
        fs::write(d.join("bin/sub/f"), "f").unwrap();
        merge_usr(&d).unwrap();
        assert_eq!(fs::read_link(d.join("bin")).unwrap(), Path::new("usr/bin"));
        assert_eq!(fs::read_link(d.join("lib")).unwrap(), Path::new("usr/lib"));
        assert_eq!(fs::read_to_string(d.join("bin/kept")).unwrap(), "usr");
        assert_eq!(fs::read_to_string(d.join("bin/moved")).unwrap(), "m");
        assert_eq!(fs::read_to_string(d.join("usr/bin/sub/f")).unwrap(), "f");
        assert!(!d.join("lib64").exists());
        // Idempotent.
        merge_usr(&d).unwrap();
        fs::remove_dir_all(&d).unwrap();
    }
}
