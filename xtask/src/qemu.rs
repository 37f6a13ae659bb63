//! The bare-metal host driver: `cargo xtask qemu` and the test suite's hook.
//!
//! A run is: build the kernel (`host-baremetal`, stable, for
//! x86_64-unknown-none) and the image builder (`host-baremetal/image-builder`,
//! pinned nightly: the `bootloader` crate builds its boot stages with
//! -Zbuild-std) once; pack a newc cpio ramdisk with the program, a boot
//! record (argv, environment, directory, options) and any extra files; wrap
//! kernel and ramdisk into a BIOS disk image; boot it in
//! `qemu-system-x86_64` (TCG) with three serial ports on files: COM1 is the
//! guest's stdout, COM2 its stderr (and the kernel's log), COM3 a status
//! record. The exit status comes from isa-debug-exit (QEMU exits with
//! `(v << 1) | 1`), whose 7 usable bits the COM3 record completes.
//!
//! Everything missing is installed first: rustup target and toolchain, and
//! Debian's `qemu-system-x86` when running as root.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The test suite runs every guest on the bare-metal host too.
pub const READY: bool = true;

/// The nightly that builds `bootloader` 0.11.17's stages (it pins x86_64
/// 0.15.5, which needs a nightly from about July 2026 on).
pub const NIGHTLY: &str = "nightly-2026-10-01";
const KERNEL_TARGET: &str = "x86_64-unknown-none";
/// Where Debian's cross glibc lives; dynamic guests get its libraries.
const SYSROOT: &str = "/usr/riscv64-linux-gnu";
/// Default limit for one guest run from the test suite (`PVM_QEMU_TIMEOUT`
/// overrides it, in seconds; for `cargo xtask qemu` there is none unless set).
const SUITE_TIMEOUT: Duration = Duration::from_secs(300);
/// QEMU's exit code for a kernel failure: isa-debug-exit value 0x7e.
const KERNEL_FAILURE_CODE: i32 = (0x7e << 1) | 1;

/// What one guest run on the unikernel produced.
#[derive(Debug)]
pub struct GuestOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The guest's exit status as a shell reports it (128+signal if killed).
    pub status: i32,
}

struct Tools {
    kernel: PathBuf,
    image_builder: PathBuf,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Run a set-up command quietly; its output is shown only if it fails.
fn quiet(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

pub(crate) fn output_of(cmd: &mut Command) -> Option<String> {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

fn is_root() -> bool {
    output_of(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}

fn ensure_qemu() -> Result<(), String> {
    if on_path("qemu-system-x86_64") {
        return Ok(());
    }
    if !is_root() {
        return Err("qemu-system-x86_64 is missing: install Debian's qemu-system-x86".into());
    }
    let install = || {
        quiet(
            Command::new("apt-get")
                .args([
                    "install",
                    "-y",
                    "-qq",
                    "--no-install-recommends",
                    "qemu-system-x86",
                ])
                .env("DEBIAN_FRONTEND", "noninteractive"),
            "apt-get install qemu-system-x86",
        )
    };
    if install().is_err() {
        quiet(
            Command::new("apt-get").args(["update", "-qq"]),
            "apt-get update",
        )?;
        install()?;
    }
    Ok(())
}

fn ensure_rust() -> Result<(), String> {
    let installed = output_of(Command::new("rustup").args(["target", "list", "--installed"]))
        .ok_or("rustup is needed to build the bare-metal kernel")?;
    if !installed.lines().any(|l| l.trim() == KERNEL_TARGET) {
        quiet(
            Command::new("rustup").args(["target", "add", KERNEL_TARGET]),
            "rustup target add",
        )?;
    }
    let toolchains =
        output_of(Command::new("rustup").args(["toolchain", "list"])).unwrap_or_default();
    if !toolchains.lines().any(|l| l.starts_with(NIGHTLY)) {
        quiet(
            Command::new("rustup").args([
                "toolchain",
                "install",
                NIGHTLY,
                "--profile",
                "minimal",
                "--component",
                "rust-src,llvm-tools-preview",
            ]),
            "rustup toolchain install",
        )?;
    }
    Ok(())
}

fn build() -> Result<Tools, String> {
    let hb = root().join("host-baremetal");
    let target_dir = hb.join("target");
    quiet(
        Command::new("cargo")
            .args(["build", "--release", "--quiet", "--target", KERNEL_TARGET])
            .arg("--manifest-path")
            .arg(hb.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir),
        "building the bare-metal kernel",
    )?;
    let builder_dir = target_dir.join("image-builder");
    quiet(
        Command::new("cargo")
            .arg(format!("+{NIGHTLY}"))
            .args(["build", "--release", "--quiet"])
            .args(["--target", crate::util::HOST_TARGET])
            .arg("--manifest-path")
            .arg(hb.join("image-builder/Cargo.toml"))
            .arg("--target-dir")
            .arg(&builder_dir)
            .env_remove("RUSTUP_TOOLCHAIN"),
        "building the disk image builder",
    )?;
    Ok(Tools {
        kernel: target_dir.join(KERNEL_TARGET).join("release/pvm-kernel"),
        image_builder: builder_dir
            .join(crate::util::HOST_TARGET)
            .join("release/pvm-image-builder"),
    })
}

fn tools() -> Result<&'static Tools, String> {
    static TOOLS: OnceLock<Result<Tools, String>> = OnceLock::new();
    TOOLS
        .get_or_init(|| {
            ensure_qemu()?;
            ensure_rust()?;
            build()
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// One-time preparation (tools, kernel and image builder), called once by
/// `cargo xtask test` before any `run_guest`.
pub fn setup() -> Result<(), String> {
    tools().map(|_| ())
}

// ---- the ramdisk ------------------------------------------------------------

/// A newc cpio archive being written (the kernel's `archive` module reads it).
struct Cpio {
    out: Vec<u8>,
    ino: u32,
    names: BTreeSet<Vec<u8>>,
}

impl Cpio {
    fn new() -> Cpio {
        Cpio {
            out: Vec::new(),
            ino: 1,
            names: BTreeSet::new(),
        }
    }

    fn member(&mut self, name: &[u8], mode: u32, data: &[u8]) -> Result<(), String> {
        let name = name.strip_prefix(b"/").unwrap_or(name);
        if !self.names.insert(name.to_vec()) {
            return Ok(()); // first one wins (a file named twice)
        }
        let size = u32::try_from(data.len()).map_err(|_| "file too large for the ramdisk")?;
        let fields = [
            self.ino,
            mode,
            0,
            0,
            1,
            0,
            size,
            0,
            0,
            0,
            0,
            name.len() as u32 + 1,
            0,
        ];
        self.ino += 1;
        self.out.extend_from_slice(b"070701");
        for f in fields {
            self.out.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        self.out.extend_from_slice(name);
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
        Ok(())
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    /// Add the host file `host` at `guest` (absolute), following symlinks.
    fn file(&mut self, host: &Path, guest: &Path) -> Result<(), String> {
        let data = fs::read(host).map_err(|e| format!("{}: {e}", host.display()))?;
        let mode = fs::metadata(host)
            .map(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.permissions().mode() & 0o7777
            })
            .unwrap_or(0o644);
        self.member(guest.as_os_str().as_encoded_bytes(), 0o100000 | mode, &data)
    }

    fn finish(mut self) -> Vec<u8> {
        let _ = self.member(b"TRAILER!!!", 0, b"");
        self.out
    }
}

/// Minimal ELF64 reading for dynamic guests: PT_INTERP and DT_NEEDED.
mod elf {
    fn u16_at(b: &[u8], o: usize) -> Option<u64> {
        Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?) as u64)
    }
    fn u32_at(b: &[u8], o: usize) -> Option<u64> {
        Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?) as u64)
    }
    fn u64_at(b: &[u8], o: usize) -> Option<u64> {
        Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
    }
    fn cstr(b: &[u8], o: usize) -> Option<String> {
        let s = b.get(o..)?;
        let end = s.iter().position(|&c| c == 0)?;
        Some(String::from_utf8_lossy(&s[..end]).into_owned())
    }

    /// (PT_INTERP, DT_NEEDED names) of a little-endian ELF64, if it is one.
    pub fn deps(b: &[u8]) -> Option<(Option<String>, Vec<String>)> {
        if b.get(..6)? != b"\x7fELF\x02\x01" {
            return None;
        }
        let phoff = u64_at(b, 0x20)? as usize;
        let phentsize = u16_at(b, 0x36)? as usize;
        let phnum = u16_at(b, 0x38)? as usize;
        let mut interp = None;
        let mut dynamic = None;
        let mut loads = Vec::new();
        for i in 0..phnum {
            let ph = phoff + i * phentsize;
            let (ty, off, vaddr, filesz) = (
                u32_at(b, ph)?,
                u64_at(b, ph + 8)?,
                u64_at(b, ph + 16)?,
                u64_at(b, ph + 32)?,
            );
            match ty {
                1 => loads.push((vaddr, off, filesz)),
                2 => dynamic = Some((off as usize, filesz as usize)),
                3 => interp = cstr(b, off as usize),
                _ => {}
            }
        }
        let mut needed = Vec::new();
        if let Some((off, size)) = dynamic {
            let mut strtab = None;
            let mut offsets = Vec::new();
            for e in (off..off + size).step_by(16) {
                match u64_at(b, e)? {
                    0 => break,
                    1 => offsets.push(u64_at(b, e + 8)?),
                    5 => strtab = Some(u64_at(b, e + 8)?),
                    _ => {}
                }
            }
            let file_off = |va: u64| {
                loads
                    .iter()
                    .find(|(v, _, sz)| va >= *v && va < v + sz)
                    .map(|(v, o, _)| (va - v + o) as usize)
            };
            if let Some(st) = strtab.and_then(file_off) {
                needed.extend(offsets.iter().filter_map(|&o| cstr(b, st + o as usize)));
            }
        }
        Some((interp, needed))
    }
}

/// Put a dynamic guest's interpreter and libraries (from the sysroot) at
/// `/lib` in the ramdisk, where the guest's ld.so looks by default.
fn add_libraries(cpio: &mut Cpio, program: &[u8]) -> Result<(), String> {
    let Some((Some(interp), needed)) = elf::deps(program) else {
        return Ok(());
    };
    let sysroot = Path::new(SYSROOT);
    let interp_name = Path::new(&interp)
        .file_name()
        .ok_or("bad PT_INTERP")?
        .to_owned();
    // Libraries the program or its libraries may dlopen: sysroot library
    // names that appear as strings in them (`dlopen("libm.so.6", ...)`,
    // glibc's `libgcc_s.so.1` for `pthread_cancel`).
    let names: Vec<String> = fs::read_dir(sysroot.join("lib"))
        .map(|dir| {
            dir.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".so"))
                .collect()
        })
        .unwrap_or_default();
    let dlopened = |data: &[u8]| -> Vec<String> {
        names
            .iter()
            .filter(|name| {
                let mut needle = name.as_bytes().to_vec();
                needle.push(0);
                data.windows(needle.len()).any(|w| w == needle)
            })
            .cloned()
            .collect()
    };
    let mut todo: Vec<String> = needed;
    todo.extend(dlopened(program));
    let mut seen = BTreeSet::new();
    cpio.file(
        &sysroot.join("lib").join(&interp_name),
        &Path::new("/lib").join(&interp_name),
    )?;
    cpio.file(&sysroot.join("lib").join(&interp_name), Path::new(&interp))?;
    while let Some(lib) = todo.pop() {
        if !seen.insert(lib.clone()) {
            continue;
        }
        let host = sysroot.join("lib").join(&lib);
        let data = fs::read(&host).map_err(|e| format!("{}: {e}", host.display()))?;
        if let Some((_, more)) = elf::deps(&data) {
            todo.extend(more);
        }
        todo.extend(dlopened(&data));
        cpio.file(&host, &Path::new("/lib").join(&lib))?;
    }
    Ok(())
}

struct Request<'a> {
    program: &'a Path,
    args: &'a [String],
    env: &'a [String],
    stdin: &'a [u8],
    files: &'a [PathBuf],
    options: &'a [String],
    /// A line of the kernel log after which the run is stopped
    /// (`MARK_WATCH` later) and QEMU's CPU time since then reported (used
    /// to show that a wait is idle).
    mark: Option<&'a str>,
}

fn ramdisk(req: &Request<'_>) -> Result<Vec<u8>, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
    let mut cpio = Cpio::new();
    let mut boot = Vec::new();
    let mut record = |key: &str, value: &[u8]| {
        boot.extend_from_slice(key.as_bytes());
        boot.push(b'=');
        boot.extend_from_slice(value);
        boot.push(0);
    };
    let selftest = req.options.iter().any(|o| o == "selftest");
    if !selftest {
        let program =
            fs::read(req.program).map_err(|e| format!("{}: {e}", req.program.display()))?;
        let abs = std::path::absolute(req.program).map_err(|e| e.to_string())?;
        cpio.file(req.program, &abs)?;
        add_libraries(&mut cpio, &program)?;
        record("program", req.program.as_os_str().as_encoded_bytes());
        record("arg", req.program.as_os_str().as_encoded_bytes());
    }
    for a in req.args {
        record("arg", a.as_bytes());
        // An argument naming a host file travels along, so `prog FILE` works.
        let p = Path::new(a);
        if p.is_file() && fs::metadata(p).is_ok_and(|m| m.len() < 64 << 20) {
            let abs = std::path::absolute(p).map_err(|e| e.to_string())?;
            cpio.file(p, &abs)?;
        }
    }
    for e in req.env {
        record("env", e.as_bytes());
    }
    record("cwd", cwd.as_os_str().as_encoded_bytes());
    for o in req.options {
        record("option", o.as_bytes());
    }
    for f in req.files {
        let abs = std::path::absolute(f).map_err(|e| e.to_string())?;
        cpio.file(f, &abs)?;
    }
    cpio.member(b".pvm/boot", 0o100444, &boot)?;
    if !req.stdin.is_empty() {
        cpio.member(b".pvm/stdin", 0o100444, req.stdin)?;
    }
    Ok(cpio.finish())
}

// ---- booting ----------------------------------------------------------------

/// A private scratch directory for one run, removed when dropped.
struct RunDir(PathBuf);

impl RunDir {
    fn new() -> Result<RunDir, String> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = root().join("host-baremetal/target/runs").join(format!(
            "{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(RunDir(dir))
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Follows a growing file, handing new bytes to `sink`.
struct Tail {
    file: Option<fs::File>,
    path: PathBuf,
    pos: u64,
    data: Vec<u8>,
}

impl Tail {
    fn new(path: PathBuf) -> Tail {
        Tail {
            file: None,
            path,
            pos: 0,
            data: Vec::new(),
        }
    }
    fn poll(&mut self, sink: Option<&mut dyn Write>) {
        if self.file.is_none() {
            self.file = fs::File::open(&self.path).ok();
        }
        let Some(f) = self.file.as_mut() else {
            return;
        };
        let mut buf = Vec::new();
        if f.seek(SeekFrom::Start(self.pos)).is_ok() && f.read_to_end(&mut buf).is_ok() {
            self.pos += buf.len() as u64;
            if let Some(s) = sink {
                let _ = s.write_all(&buf);
                let _ = s.flush();
            }
            self.data.extend_from_slice(&buf);
        }
    }
}

fn timeout_from_env(default: Option<Duration>) -> Option<Duration> {
    std::env::var("PVM_QEMU_TIMEOUT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs)
        .or(default)
}

/// How long a run goes on after its mark (see `Request::mark`) before it
/// is stopped and its CPU time reported.
const MARK_WATCH: Duration = Duration::from_secs(4);

/// CPU time (user + system) process `pid` has used, from /proc.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are
    // fields 14 and 15, in clock ticks (USER_HZ, 100 on Linux).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// QEMU on `image`, the three serial ports going to `out`, `err` and
/// `status`.
fn start_qemu(
    image: &Path,
    out: &Path,
    err: &Path,
    status: &Path,
) -> Result<std::process::Child, String> {
    let serial = |p: &Path| format!("file:{}", p.display());
    Command::new("qemu-system-x86_64")
        .arg("-drive")
        .arg(format!("format=raw,file={}", image.display()))
        .args(["-serial", &serial(out), "-serial", &serial(err)])
        .args(["-serial", &serial(status)])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
        .args([
            "-display",
            "none",
            "-no-reboot",
            "-monitor",
            "none",
            "-net",
            "none",
        ])
        // `max`: RDRAND for getrandom, and AVX/FMA3 for the translator's
        // fused multiply-adds (it falls back to the interpreter's without).
        .args(["-cpu", "max", "-m", "2G"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start qemu-system-x86_64: {e}"))
}

/// Boot the request; with `stream`, forward output as it comes.
fn boot(req: &Request<'_>, stream: bool, timeout: Option<Duration>) -> Result<GuestOutput, String> {
    let tools = tools()?;
    let dir = RunDir::new()?;
    let ramdisk_path = dir.0.join("ramdisk.cpio");
    fs::write(&ramdisk_path, ramdisk(req)?).map_err(|e| format!("writing the ramdisk: {e}"))?;
    let image = dir.0.join("disk.img");
    quiet(
        Command::new(&tools.image_builder)
            .arg(&tools.kernel)
            .arg(&ramdisk_path)
            .arg(&image),
        "building the disk image",
    )?;
    let [out, err, status] = ["stdout", "stderr", "status"].map(|n| dir.0.join(n));
    let mut qemu = start_qemu(&image, &out, &err, &status)?;
    let mut qemu_err = qemu.stderr.take();
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(e) = qemu_err.as_mut() {
            let _ = e.read_to_end(&mut s);
        }
        s
    });
    let (mut tout, mut terr) = (Tail::new(out), Tail::new(err));
    let start = Instant::now();
    // (time, CPU seconds) when the mark appeared in the kernel log.
    let mut marked: Option<(Instant, f64)> = None;
    let (mut stdout, mut stderr) = (io::stdout(), io::stderr());
    let exit = loop {
        let done = qemu.try_wait().map_err(|e| e.to_string())?;
        tout.poll(stream.then_some(&mut stdout as &mut dyn Write));
        terr.poll(stream.then_some(&mut stderr as &mut dyn Write));
        if let Some(s) = done {
            break s;
        }
        if marked.is_none()
            && let Some(m) = req.mark
            && String::from_utf8_lossy(&terr.data).contains(m)
        {
            marked = cpu_seconds(qemu.id()).map(|c| (Instant::now(), c));
        }
        let watched = marked.is_some_and(|(t, _)| t.elapsed() > MARK_WATCH);
        if watched || timeout.is_some_and(|t| start.elapsed() > t) {
            let cpu = cpu_seconds(qemu.id());
            let since_mark = match (marked, cpu) {
                (Some((t, c0)), Some(c1)) => format!(
                    "; {:.1} s of CPU in the {:.1} s after the mark",
                    c1 - c0,
                    t.elapsed().as_secs_f64()
                ),
                _ => String::new(),
            };
            let _ = qemu.kill();
            let _ = qemu.wait();
            return Err(format!(
                "{} after {} s on the bare-metal host (QEMU used {} s of CPU{since_mark}){}",
                if watched {
                    "stopped as planned"
                } else {
                    "timed out"
                },
                start.elapsed().as_secs(),
                cpu.map_or("?".into(), |c| format!("{c:.1}")),
                if stream {
                    String::new()
                } else {
                    format!("\n{}", String::from_utf8_lossy(&terr.data).trim_end())
                }
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let qemu_stderr = err_reader.join().unwrap_or_default();
    let record = fs::read_to_string(&status).unwrap_or_default();
    let code = exit.code().unwrap_or(-1);
    let failure = |why: &str| {
        format!(
            "{why} (QEMU exit code {code}){}{}",
            if qemu_stderr.is_empty() {
                ""
            } else {
                "\nqemu: "
            },
            String::from_utf8_lossy(&qemu_stderr).trim_end()
        )
    };
    if record.contains("pvm-panic") || code == KERNEL_FAILURE_CODE {
        let mut msg = failure("the pvm kernel failed");
        if !stream {
            msg.push('\n');
            msg.push_str(String::from_utf8_lossy(&terr.data).trim_end());
        }
        return Err(msg);
    }
    let Some(guest) = record
        .lines()
        .find_map(|l| l.strip_prefix("pvm-exit "))
        .and_then(|v| v.trim().parse::<i32>().ok())
    else {
        return Err(failure(
            "QEMU stopped without an exit status from the kernel",
        ));
    };
    // isa-debug-exit carried the low 7 bits: the two must agree.
    if code != ((guest << 1) | 1) & 0xff {
        return Err(failure(&format!("exit status {guest} does not match")));
    }
    Ok(GuestOutput {
        stdout: tout.data,
        stderr: terr.data,
        status: guest,
    })
}

/// Boots `program` with `args` (argv[1..]), `env` ("NAME=value"), `stdin`
/// and extra read-only `files` in the ramdisk, with `engine` (`interp` or
/// `jit`); returns its output.
pub fn run_guest(
    program: &Path,
    args: &[String],
    env: &[String],
    stdin: &[u8],
    files: &[PathBuf],
    engine: &str,
) -> Result<GuestOutput, String> {
    let options = [format!("engine={engine}")];
    let req = Request {
        program,
        args,
        env,
        stdin,
        files,
        options: &options,
        mark: None,
    };
    boot(&req, false, timeout_from_env(Some(SUITE_TIMEOUT)))
}

// ---- batch boots ------------------------------------------------------------

/// One guest of a batch boot (see [`run_batch`]).
pub struct BatchJob<'a> {
    pub program: &'a Path,
    pub args: &'a [String],
    /// "NAME=value"
    pub env: &'a [String],
    pub stdin: &'a [u8],
}

/// Runs `jobs` with `engine`, one after the other in as few boots as
/// possible: one ramdisk holds them all (libraries shared), the kernel
/// runs each on a fresh file system and host state (`run_batch` in
/// host-baremetal's `main.rs`) and writes a mark after each job's output.
/// Booting takes seconds under QEMU's TCG (the BIOS reads the disk slowly,
/// about 0.6 s per MB here), so one boot per guest cost most of the
/// suite's time. A job that ends the machine (kernel failure, timeout)
/// gets that as its result and the jobs after it run in a new boot.
pub fn run_batch(jobs: &[BatchJob<'_>], engine: &str) -> Vec<Result<GuestOutput, String>> {
    let mut results = Vec::with_capacity(jobs.len());
    while results.len() < jobs.len() {
        let rest = &jobs[results.len()..];
        match boot_batch(rest, engine) {
            Ok(done) => results.extend(done),
            // The batch could not even start: every job gets the reason.
            Err(e) => results.extend(rest.iter().map(|_| Err(e.clone()))),
        }
    }
    results
}

fn batch_ramdisk(jobs: &[BatchJob<'_>], engine: &str, mark: &str) -> Result<Vec<u8>, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
    let mut cpio = Cpio::new();
    cpio.member(b".pvm/batch", 0o100444, mark.as_bytes())?;
    for (k, job) in jobs.iter().enumerate() {
        let mut boot = Vec::new();
        let mut record = |key: &str, value: &[u8]| {
            boot.extend_from_slice(key.as_bytes());
            boot.push(b'=');
            boot.extend_from_slice(value);
            boot.push(0);
        };
        let program =
            fs::read(job.program).map_err(|e| format!("{}: {e}", job.program.display()))?;
        let abs = std::path::absolute(job.program).map_err(|e| e.to_string())?;
        cpio.file(job.program, &abs)?;
        add_libraries(&mut cpio, &program)?;
        record("program", job.program.as_os_str().as_encoded_bytes());
        record("arg", job.program.as_os_str().as_encoded_bytes());
        for a in job.args {
            record("arg", a.as_bytes());
            let p = Path::new(a);
            if p.is_file() && fs::metadata(p).is_ok_and(|m| m.len() < 64 << 20) {
                let abs = std::path::absolute(p).map_err(|e| e.to_string())?;
                cpio.file(p, &abs)?;
            }
        }
        for e in job.env {
            record("env", e.as_bytes());
        }
        record("cwd", cwd.as_os_str().as_encoded_bytes());
        record("option", format!("engine={engine}").as_bytes());
        cpio.member(format!(".pvm/boot.{k}").as_bytes(), 0o100444, &boot)?;
        if !job.stdin.is_empty() {
            cpio.member(format!(".pvm/stdin.{k}").as_bytes(), 0o100444, job.stdin)?;
        }
    }
    Ok(cpio.finish())
}

/// Splits `data` at each `mark`: the finished jobs' outputs, then what
/// follows the last mark (the job in progress when the machine stopped).
fn split_marks(data: &[u8], mark: &[u8]) -> (Vec<Vec<u8>>, Vec<u8>) {
    let mut done = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + mark.len() <= data.len() {
        if &data[i..i + mark.len()] == mark {
            done.push(data[start..i].to_vec());
            i += mark.len();
            start = i;
        } else {
            i += 1;
        }
    }
    (done, data[start..].to_vec())
}

/// One boot of a batch: the results of the jobs it got through (at least
/// one: the job in progress when it stopped, if any, gets why).
fn boot_batch(
    jobs: &[BatchJob<'_>],
    engine: &str,
) -> Result<Vec<Result<GuestOutput, String>>, String> {
    let tools = tools()?;
    let dir = RunDir::new()?;
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ ((std::process::id() as u64) << 32);
    let mark = format!("\x1epvm-batch-{nonce:016x}\x1e");
    let ramdisk_path = dir.0.join("ramdisk.cpio");
    fs::write(&ramdisk_path, batch_ramdisk(jobs, engine, &mark)?)
        .map_err(|e| format!("writing the ramdisk: {e}"))?;
    let image = dir.0.join("disk.img");
    quiet(
        Command::new(&tools.image_builder)
            .arg(&tools.kernel)
            .arg(&ramdisk_path)
            .arg(&image),
        "building the disk image",
    )?;
    let [out, err, status] = ["stdout", "stderr", "status"].map(|n| dir.0.join(n));
    let mut qemu = start_qemu(&image, &out, &err, &status)?;
    let mut qemu_err = qemu.stderr.take();
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(e) = qemu_err.as_mut() {
            let _ = e.read_to_end(&mut s);
        }
        s
    });
    let (mut tout, mut terr, mut tstatus) = (Tail::new(out), Tail::new(err), Tail::new(status));
    let limit = timeout_from_env(Some(SUITE_TIMEOUT)).unwrap_or(SUITE_TIMEOUT);
    let mut job_start = Instant::now();
    let mut finished = 0;
    let mut timed_out = false;
    let exit = loop {
        let done = qemu.try_wait().map_err(|e| e.to_string())?;
        tout.poll(None);
        terr.poll(None);
        tstatus.poll(None);
        if let Some(s) = done {
            break s;
        }
        let n = String::from_utf8_lossy(&tstatus.data)
            .lines()
            .filter(|l| l.starts_with("pvm-exit "))
            .count();
        if n != finished {
            finished = n;
            job_start = Instant::now();
        }
        if job_start.elapsed() > limit {
            timed_out = true;
            let _ = qemu.kill();
            break qemu.wait().map_err(|e| e.to_string())?;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    tout.poll(None);
    terr.poll(None);
    tstatus.poll(None);
    let qemu_stderr = err_reader.join().unwrap_or_default();
    let record = String::from_utf8_lossy(&tstatus.data).into_owned();
    let statuses: Vec<i32> = record
        .lines()
        .filter_map(|l| l.strip_prefix("pvm-exit "))
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let (outs, out_rest) = split_marks(&tout.data, mark.as_bytes());
    let (errs, err_rest) = split_marks(&terr.data, mark.as_bytes());
    let complete = outs
        .len()
        .min(errs.len())
        .min(statuses.len())
        .min(jobs.len());
    let mut results: Vec<Result<GuestOutput, String>> = (0..complete)
        .map(|k| {
            Ok(GuestOutput {
                stdout: outs[k].clone(),
                stderr: errs[k].clone(),
                status: statuses[k],
            })
        })
        .collect();
    if complete < jobs.len() && !record.contains("pvm-batch-done") {
        // The job in progress ended the machine (or was stopped).
        let code = exit.code().unwrap_or(-1);
        let stderr = format!(
            "{}{}",
            String::from_utf8_lossy(&err_rest).trim_end(),
            String::from_utf8_lossy(&qemu_stderr).trim_end()
        );
        results.push(if timed_out {
            Err(format!(
                "timed out after {} s on the bare-metal host (batch boot)\n{stderr}",
                limit.as_secs()
            ))
        } else if record.contains("pvm-panic") || code == KERNEL_FAILURE_CODE {
            Err(format!("the pvm kernel failed (QEMU exit code {code})\n{stderr}"))
        } else if let Some(&st) = statuses.get(complete) {
            if code != ((st << 1) | 1) & 0xff {
                Err(format!("exit status {st} does not match (QEMU exit code {code})"))
            } else {
                Ok(GuestOutput {
                    stdout: out_rest,
                    stderr: err_rest,
                    status: st,
                })
            }
        } else {
            Err(format!(
                "QEMU stopped without an exit status from the kernel (QEMU exit code {code})\n{stderr}"
            ))
        });
    } else if complete < jobs.len() {
        return Err(format!(
            "the batch boot ended after {complete} of {} jobs without saying why",
            jobs.len()
        ));
    }
    Ok(results)
}

const USAGE: &str = "usage: cargo xtask qemu [OPTIONS] PROGRAM [ARGS]...
       cargo xtask qemu --selftest [--status N]

Runs a RISC-V Linux program on pvm's bare-metal host (a unikernel booted in
qemu-system-x86_64). Prints the guest's stdout and stderr, exits with its
status. Arguments naming host files are copied into the ramdisk.

options:
  --file PATH      also put PATH in the ramdisk (same absolute path)
  --stdin PATH     the guest's stdin (default: empty)
  -E VAR=VAL       set a guest environment variable
  -U VAR           remove one from the guest environment
  --strace         log the guest's system calls on stderr
  --engine E       interp (default) or jit
  --selftest       check the kernel itself instead of running a guest
  --status N       with --selftest: exit status to report when all passes
  --selftest-fault the self-test, then a deliberate kernel page fault
environment: PVM_QEMU_TIMEOUT=SECONDS stops a run that takes longer.";

/// `cargo xtask qemu [OPTIONS] PROGRAM [ARGS]...`.
pub fn main(args: &[String]) -> ExitCode {
    match parse_and_run(args) {
        Ok(status) => ExitCode::from(status as u8),
        Err(e) => {
            eprintln!("cargo xtask qemu: {e}");
            ExitCode::from(125)
        }
    }
}

fn parse_and_run(args: &[String]) -> Result<i32, String> {
    let mut files = Vec::new();
    let mut stdin = Vec::new();
    let mut options = Vec::new();
    let mut env: Vec<String> = std::env::vars_os()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_str()?, v.to_str()?)))
        .collect();
    let mut it = args.iter();
    let mut program = None;
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or(format!("{a} needs a value\n\n{USAGE}"))
        };
        match a.as_str() {
            "--file" => files.push(PathBuf::from(value()?)),
            "--stdin" => {
                let p = value()?;
                stdin = fs::read(&p).map_err(|e| format!("{p}: {e}"))?;
            }
            "-E" => {
                let kv = value()?;
                let key = kv.split('=').next().unwrap_or_default().to_string();
                env.retain(|e| e.split('=').next() != Some(key.as_str()));
                env.push(kv);
            }
            "-U" => {
                let key = value()?;
                env.retain(|e| e.split('=').next() != Some(key.as_str()));
            }
            "--strace" => options.push("strace".to_string()),
            "--engine" => options.push(format!("engine={}", value()?)),
            "--selftest" => options.push("selftest".to_string()),
            "--selftest-fault" => {
                options.push("selftest".to_string());
                options.push("selftest-fault".to_string());
            }
            "--status" => options.push(format!("selftest-status={}", value()?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(0);
            }
            _ if a.starts_with('-') && program.is_none() => {
                return Err(format!("unknown option {a}\n\n{USAGE}"));
            }
            _ => {
                program = Some(PathBuf::from(a));
                break;
            }
        }
    }
    if let Some(p) = &program
        && !p.exists()
    {
        // As pvm (and a shell) report a missing program.
        eprintln!(
            "cargo xtask qemu: {}: No such file or directory",
            p.display()
        );
        return Ok(127);
    }
    let rest: Vec<String> = it.cloned().collect();
    let selftest = options.iter().any(|o| o == "selftest");
    let program = match program {
        Some(p) => p,
        None if selftest => PathBuf::new(),
        None => return Err(format!("no program given\n\n{USAGE}")),
    };
    let req = Request {
        program: &program,
        args: &rest,
        env: &env,
        stdin: &stdin,
        files: &files,
        options: &options,
        mark: None,
    };
    boot(&req, true, timeout_from_env(None)).map(|o| o.status)
}

// ---- the kernel's own checks -------------------------------------------------

/// A boot of the kernel with no guest program, for its own checks.
fn kernel_check<'a>(options: &'a [String], mark: Option<&'a str>) -> Request<'a> {
    Request {
        program: Path::new(""),
        args: &[],
        env: &[],
        stdin: b"",
        files: &[],
        options,
        mark,
    }
}

fn selftest(options: &[String]) -> Result<GuestOutput, String> {
    boot(&kernel_check(options, None), false, Some(SUITE_TIMEOUT))
}

/// Boots the kernel's self-test (`--selftest`): every check passes (the
/// ones that must be there are named), stdout and stderr stay apart, and
/// a status above 127 (beyond isa-debug-exit's 7 bits) comes back whole.
pub fn check_selftest() -> Result<(), String> {
    let out = selftest(&["selftest".into(), "selftest-status=200".into()])?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    if out.status != 200 {
        problems.push(format!("status {} (expected 200)", out.status));
    }
    for check in [
        "contents survive PROT_NONE",
        "discard gives zeroes, neighbours kept",
        "nanosleep 20ms",
        "sleep halts between timer ticks",
        "wall clock",
        "getrandom",
        "/tmp write and read back",
        "starting directory",
        "page cache: two views of a file",
        "page cache: a store is seen through the other view and by pread",
        "page cache: pwrite is seen through both views",
        "page cache: 200 rounds of map, touch, unmap free every frame",
        "page cache: the last view's bytes reach the file",
        "sse2 arithmetic, default mxcsr",
    ] {
        if !stdout.contains(&format!("selftest {check}: ok")) {
            problems.push(format!("no \"selftest {check}: ok\""));
        }
    }
    problems.extend(
        stdout
            .lines()
            .filter(|l| l.ends_with("FAILED"))
            .map(str::to_string),
    );
    if stdout.contains("on stderr") {
        problems.push("the stderr line came out on stdout".into());
    }
    if !stderr.contains("selftest: this line is on stderr") {
        problems.push("the stderr line is missing from stderr".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\nstdout:\n{stdout}stderr:\n{stderr}",
            problems.join("\n")
        ))
    }
}

/// A `poll` with no timeout that nothing can satisfy waits for good with
/// the CPU halted (`option=selftest-idle`): once the kernel logs that it
/// waits, QEMU must use a small fraction of the wall time in CPU.
pub fn check_idle_wait() -> Result<(), String> {
    let options = ["selftest".to_string(), "selftest-idle".to_string()];
    let req = kernel_check(&options, Some("selftest-idle: polling"));
    // The run stops MARK_WATCH after the kernel logs that it waits.
    let err = match boot(&req, false, Some(SUITE_TIMEOUT)) {
        Ok(o) => return Err(format!("the wait ended, with status {}", o.status)),
        Err(e) => e,
    };
    if !err.contains("selftest-idle: polling") || err.contains("poll returned") {
        return Err(format!(
            "the kernel did not reach the wait or left it:\n{err}"
        ));
    }
    // "...; C s of CPU in the W s after the mark)"
    let measured = err.split_once("; ").and_then(|(_, r)| {
        let mut w = r.split_whitespace();
        let cpu = w.next()?.parse::<f64>().ok()?;
        let secs = w.nth(5)?.parse::<f64>().ok()?;
        Some((cpu, secs))
    });
    let Some((cpu, secs)) = measured else {
        return Err(format!("no CPU time measured during the wait:\n{err}"));
    };
    // Halted, QEMU wakes only for the 1 kHz tick: a few percent of a CPU.
    // Spinning takes a whole one, or whatever a loaded machine leaves it.
    if secs >= 2.0 && cpu < secs * 0.2 {
        Ok(())
    } else {
        Err(format!(
            "QEMU used {cpu:.1} s of CPU in the {secs:.1} s of the wait: it spins\n{err}"
        ))
    }
}

/// A fault in kernel code (`--selftest-fault`) is reported on COM2 and
/// fails the run with the kernel-failure status.
pub fn check_fault_report() -> Result<(), String> {
    let err = match selftest(&["selftest".into(), "selftest-fault".into()]) {
        Ok(o) => return Err(format!("the run succeeded with status {}", o.status)),
        Err(e) => e,
    };
    let wanted = [
        "the pvm kernel failed",
        "fatal: page fault (vector 14)",
        "fault address 0x7f8000000000",
    ];
    match wanted.iter().find(|w| !err.contains(*w)) {
        None => Ok(()),
        Some(w) => Err(format!("the report lacks {w:?}:\n{err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpio_layout_is_newc() {
        let mut c = Cpio::new();
        c.member(b"/a/b", 0o100644, b"xyz").unwrap();
        c.member(b"a/b", 0o100644, b"ignored: same name").unwrap();
        let out = c.finish();
        assert_eq!(&out[..6], b"070701");
        // name "a/b\0" starts at 110, data padded to 116.
        assert_eq!(&out[110..114], b"a/b\0");
        assert_eq!(&out[116..119], b"xyz");
        // Next header (the trailer) is 4-aligned, right after the data.
        assert_eq!(&out[120..126], b"070701");
        assert!(out.windows(10).any(|w| w == b"TRAILER!!!"));
        assert_eq!(out.len() % 4, 0);
    }

    #[test]
    fn elf_deps_of_a_dynamic_guest() {
        // Any dynamic RISC-V binary from the sysroot will do (Debian's
        // libc6-riscv64-cross, which `cargo xtask setup` installs).
        let b = fs::read(Path::new(SYSROOT).join("lib/libm.so.6"))
            .expect("the riscv64 sysroot's libm.so.6");
        let (interp, needed) = elf::deps(&b).unwrap();
        assert_eq!(interp, None);
        assert!(needed.iter().any(|n| n == "libc.so.6"), "{needed:?}");
        assert!(elf::deps(b"not an elf").is_none());
    }
}
