//! Bare-metal host driver: `cargo xtask qemu` and the suite's hook.
//!
//! PLACEHOLDER owned by the bare-metal work (issue 4), which replaces this
//! file. It exists so the harness compiles and states the interface the
//! test suite calls; until then `READY` is false and the suite does not run
//! the bare-metal host.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// True once `run_guest` works; the test suite then runs every guest on
/// the bare-metal host as well (skips listed in `suite::BAREMETAL_SKIP`).
pub const READY: bool = false;

/// What one guest run on the unikernel produced.
pub struct GuestOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The guest's exit status as a shell reports it (128+signal if killed).
    pub status: i32,
}

/// One-time preparation (rustup toolchains and targets, kernel build),
/// called once by `cargo xtask test` before any `run_guest`.
pub fn setup() -> Result<(), String> {
    Err("the bare-metal host is not available yet".into())
}

/// Boots `program` with `args` (argv[1..]), `env` ("NAME=value"), `stdin`
/// and extra read-only `files` in the ramdisk; returns its output.
pub fn run_guest(
    program: &Path,
    args: &[String],
    env: &[String],
    stdin: &[u8],
    files: &[PathBuf],
) -> Result<GuestOutput, String> {
    let _ = (program, args, env, stdin, files);
    Err("the bare-metal host is not available yet".into())
}

/// `cargo xtask qemu PROGRAM [ARGS]...`.
pub fn main(args: &[String]) -> ExitCode {
    let _ = args;
    eprintln!("cargo xtask qemu: the bare-metal host is not available yet");
    ExitCode::from(2)
}
