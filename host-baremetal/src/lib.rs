//! The hardware-independent half of the pvm unikernel: the ramdisk archive
//! reader, the in-kernel file system with its descriptor table, and the
//! signals and interval timers the kernel raises.
//!
//! It is `no_std` like the kernel (`src/main.rs`), which links it, and it is
//! also built for the build machine so its unit tests run there:
//! `cargo test --manifest-path host-baremetal/Cargo.toml --lib --target x86_64-unknown-linux-gnu`.
#![cfg_attr(not(test), no_std)]
#![warn(missing_debug_implementations, rust_2018_idioms)]

extern crate alloc;

pub mod archive;
pub mod bootcfg;
pub mod fs;
pub mod signals;
