//! pvm's Linux host as a library: [`host::LinuxHost`] (the `HostOs` of
//! pvm on Linux), the fault handler of translated code ([`fault`]), guest
//! processes ([`proc`]) and host signals ([`signals`]). The `pvm` binary
//! (`src/main.rs`: the command line and the launch) is built on it, and so
//! are the fuzz targets in `fuzz/` and the tests that need the real host.

pub mod cancel;
pub mod fault;
pub mod fdrange;
pub mod fdtable;
pub mod host;
pub mod ipc;
pub mod logging;
pub mod ownfd;
pub mod peer;
pub mod proc;
pub mod profile_file;
pub mod profiler;
pub mod sandbox;
pub mod signals;
pub mod tree;
pub mod wakeup;

#[cfg(test)]
mod difftest;

use vm_core::signal::Report;

/// The one-line report of a guest killed by a signal.
pub fn report_signal(program: &str, r: &Report) {
    eprintln!("{}", vm_core::launch::signal_line(program.as_bytes(), r));
}
