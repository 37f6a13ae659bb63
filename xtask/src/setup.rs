//! First-run set-up on a fresh Debian machine: installs the cross
//! compilers, qemu and the RISC-V glibc when they are missing.
//!
//! Run as root it calls apt-get itself; otherwise it names the command to
//! run. The bare-metal host adds its rustup toolchains through
//! `crate::qemu::setup`, called from `cargo xtask test` when that host is
//! enabled.

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
];

fn present(what: &str) -> bool {
    if what.starts_with('/') {
        Path::new(what).exists()
    } else {
        which(what).is_some()
    }
}

/// Installs whatever of `NEEDS` is missing.
pub fn ensure() -> Result<(), String> {
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
