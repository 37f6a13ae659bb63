//! Fuzz target: the interpreter-versus-translator differential test
//! (`vm_core::difftest`) on programs derived from the fuzz input, run on
//! two hosts: vm-core's heap-backed test host, where the translator checks
//! every guest access in software, and pvm's own Linux host, where it
//! accesses guest memory directly and bad accesses come back through the
//! `SIGSEGV` handler. Any disagreement panics with both end states and the
//! program's listing.
//!
//! `cargo +nightly fuzz run difftest` (from the repository root).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;
use vm_core::difftest::{Harness, fuzz_one};
use vm_core::host::HostOs;

// pvm's Linux host and its fault handler, compiled in from host-linux
// (a binary crate, so not a library this crate could depend on).
#[path = "../../host-linux/src/fault.rs"]
#[allow(dead_code)]
mod fault;
#[path = "../../host-linux/src/host.rs"]
#[allow(dead_code)]
mod host;

static LINUX: host::LinuxHost = host::LinuxHost::new();

thread_local! {
    // One set of guest memories and engines per host for the whole run, as
    // the CI test does: every case remaps its code, so both engines start
    // from a flushed cache (a fresh translator per input would leak its
    // code cache, which no host takes back).
    static HARNESSES: RefCell<[(&'static str, Harness); 2]> = RefCell::new([
        ("test host (checked accesses)", Harness::new()),
        ("Linux host (host faults)", linux_harness()),
    ]);
}

fn linux_harness() -> Harness {
    let h = Harness::with_host(&LINUX);
    // The fault handler is in place (the sanitizers' own handlers did not
    // keep it out), so the translator took the direct-access path.
    assert!(
        LINUX.code_faults(),
        "no SIGSEGV handler for translated code"
    );
    h
}

fuzz_target!(|data: &[u8]| {
    HARNESSES.with_borrow_mut(|hs| {
        for (name, h) in hs.iter_mut() {
            if let Err(m) = fuzz_one(h, data) {
                panic!("on the {name}: {m}");
            }
        }
    });
});
