//! Test support for pvm, kept out of the product crate (`vm-core`):
//! * [`testhost`]: a `HostOs` built on `std` (heap-backed guest memory,
//!   the real file system, output collected in memory);
//! * [`difftest`]: the engine differential test, a generator of random
//!   valid RV64GC programs run under the interpreter and the translator,
//!   with the comparison of their end states;
//! * [`ops`]: each operation run alone under both engines against its
//!   semantic function (`vm_core::semantics`, `vm_core::fpu`);
//! * [`rv`]: RISC-V instruction encoders.
//!
//! Users: the fixed-seed differential test (`tests/difftest.rs`), the Linux
//! host's tests (`host-linux/src/difftest.rs`) and the fuzz targets in
//! `fuzz/`. vm-core's own unit tests compile `testhost.rs` and `rv.rs` into
//! themselves instead of depending on this crate (see `vm-core/src/lib.rs`:
//! a dev-dependency cycle would give them a second copy of vm-core's
//! types).

extern crate alloc;

pub mod difftest;
pub mod edges;
pub mod ops;
pub mod rv;
pub mod testhost;
