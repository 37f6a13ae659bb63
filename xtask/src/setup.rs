//! First-run set-up on a fresh Debian machine: installs the cross
//! compilers, qemu and the RISC-V glibc when they are missing, and adds the
//! rustup target the Rust guests are built for.
//!
//! Run as root it calls apt-get itself; otherwise it names the command to
//! run. The rustup target needs no root; when it cannot be added, set-up
//! says so and goes on, and the Rust guests' builds fail with the command
//! to run. The bare-metal host adds its rustup toolchains through
//! `crate::qemu::setup`, called from `cargo xtask test` when that host is
//! enabled.

use crate::guests::RUST_TARGET;
use crate::util::{euid, run_inherit, which};
use std::path::Path;
use std::process::Command;

/// (how to tell it is present, the Debian package that provides it)
const NEEDS: &[(&str, &str)] = &[
    ("riscv64-linux-gnu-gcc", "gcc-riscv64-linux-gnu"),
    ("riscv64-linux-gnu-g++", "g++-riscv64-linux-gnu"),
    ("qemu-riscv64", "qemu-user"),
    ("qemu-system-x86_64", "qemu-system-x86"),
    (
        "/usr/riscv64-linux-gnu/lib/libc.so.6",
        "libc6-riscv64-cross",
    ),
    ("gcc", "gcc"),
    // The GDB stub's test (`crate::gdbtest`).
    ("gdb-multiarch", "gdb-multiarch"),
    // ruff's and uv's wheels for the real-program cases (`crate::pypi`).
    ("/usr/lib/python3/dist-packages/pip", "python3-pip"),
];

fn present(what: &str) -> bool {
    if what.starts_with('/') {
        Path::new(what).exists()
    } else {
        which(what).is_some()
    }
}

/// Installs whatever of `NEEDS` is missing, then the Rust guests' target.
pub fn ensure() -> Result<(), String> {
    packages()?;
    if let Err(e) = rust_target() {
        eprintln!("xtask setup: warning: {e}");
    }
    Ok(())
}

/// Adds [`RUST_TARGET`] to the active rustup toolchain when it is missing.
fn rust_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| {
            format!("cannot run rustup ({e}): Rust guests need `rustup target add {RUST_TARGET}`")
        })?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == RUST_TARGET)
    {
        return Ok(());
    }
    println!("adding the rustup target {RUST_TARGET}");
    run_inherit(Command::new("rustup").args(["target", "add", RUST_TARGET]))
        .map_err(|e| format!("rustup target add {RUST_TARGET}: {e}"))
}

fn packages() -> Result<(), String> {
    let mut missing: Vec<&str> = NEEDS
        .iter()
        .filter(|(w, _)| !present(w))
        .map(|(_, p)| *p)
        .collect();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    if euid() != Some(0) {
        return Err(format!(
            "missing packages: {}\nrun as root: apt-get install -y {}",
            missing.join(" "),
            missing.join(" ")
        ));
    }
    println!("installing: {}", missing.join(" "));
    run_inherit(
        Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    run_inherit(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    match NEEDS.iter().find(|(w, _)| !present(w)) {
        Some((w, p)) => Err(format!("{w} still missing after installing {p}")),
        None => Ok(()),
    }
}
