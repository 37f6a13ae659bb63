//! Test support for pvm, none of it in the product:
//! * [`testhost`]: a `HostOs` built on `std` (heap-backed guest memory,
//!   the real file system, output collected in memory);
//! * [`difftest`]: the engine differential test, a generator of random
//!   valid RV64GC programs run under the interpreter and the translator,
//!   with the comparison of their end states;
//! * [`ops`]: each operation run alone under both engines against its
//!   semantic function (`vm_core::semantics`, `vm_core::fpu`);
//! * [`rv`]: RISC-V instruction encoders.
//!
//! [`testhost`] and [`rv`] are modules of vm-core behind its `testkit`
//! feature (this crate turns it on), re-exported here: vm-core's own unit
//! tests use the same modules, and one copy of them implements one
//! `HostOs`.
//!
//! Users: the fixed-seed differential test (`tests/difftest.rs`), the Linux
//! host's tests (`host-linux/src/difftest.rs`) and the fuzz targets in
//! `fuzz/`.

extern crate alloc;

pub mod difftest;
pub mod ops;
pub use vm_core::{rv, testhost};
