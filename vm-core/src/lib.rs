//! `vm-core`: the host-independent heart of pvm, a process virtual machine
//! that runs RISC-V 64 (RV64GC, lp64d) Linux programs.
//!
//! The path of a guest program through the core:
//! 1. [`loader`] reads the ELF (and its dynamic linker) through the
//!    [`host::HostOs`] and writes code and data into a [`memory::GuestMemory`],
//!    then builds the initial stack (argv, envp, auxv).
//! 2. [`process`] holds the process and thread state (the data; signal
//!    state as data is [`sigstate`]); [`run`] runs the emulation loop on it.
//! 3. [`decode`] turns instruction bits into one [`decode::Inst`] enum, shared
//!    by the [`interp`]reter (and the translator and disassembly).
//! 4. [`interp`] executes decoded instructions on a [`cpu::Cpu`], using
//!    [`fpu`] for exact IEEE-754 arithmetic, until a [`cpu::Trap`].
//! 5. [`syscall`] emulates Linux riscv64 system calls on the host.
//! 6. [`signal`] records signal dispositions and turns traps into guest
//!    signals.
//!
//! [`abi`] holds the Linux riscv64 constants and structure layouts every
//! part (and both hosts) use. Modules depend downwards: `run` on `syscall`
//! and `signal`, `syscall` on `signal`, both on `process`, which uses
//! neither (the state it holds for them is data in leaf modules:
//! `sigstate`, `procfs_state`, `ptimer`'s timers); xtask's `layering`
//! test checks this.
#![no_std]
#![warn(missing_debug_implementations, rust_2018_idioms)]

extern crate alloc;

pub mod abi;
pub mod cache;
pub mod cpu;
pub mod debug;
pub mod decode;
pub mod fpu;
pub mod guarded;
pub mod host;
pub mod interp;
pub mod ipc;
pub mod launch;
pub mod limits;
pub mod loader;
pub mod log;
pub mod memory;
pub mod process;
pub mod procfs_state;
pub mod profile;
pub mod ptimer;
pub mod run;
pub mod sampling;
pub mod sched;
pub mod semantics;
pub mod signal;
pub mod sigstate;
pub mod syscall;
// Test-only code: the std test host and the RISC-V encoders, built for
// this crate's own unit tests and, with the `testkit` feature (which only
// `vm-testkit` turns on, and re-exports them), for the differential test,
// the hosts' tests and the fuzz targets: one copy, so the test host
// implements this crate's `HostOs` whoever uses it (a dev-dependency on
// vm-testkit, which depends on vm-core, would bring a second copy of every
// type). The rest of the test support (the differential test, the ops
// table) is in vm-testkit.
#[cfg(any(test, feature = "testkit"))]
pub mod rv;
#[cfg(any(test, feature = "testkit"))]
pub mod testhost;
pub mod translate;
