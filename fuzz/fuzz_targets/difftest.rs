//! Fuzz target: the interpreter-versus-translator differential test
//! (`vm_core::difftest`) on programs derived from the fuzz input. Any
//! disagreement panics with both end states and the program's listing.
//!
//! `cargo +nightly fuzz run difftest` (from the repository root).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;
use vm_core::difftest::{Harness, fuzz_one};

thread_local! {
    // One set of guest memories and engines for the whole run, as the
    // CI test does: every case remaps its code, so both engines start
    // from a flushed cache (a fresh translator per input would leak its
    // code cache, which the host never takes back).
    static HARNESS: RefCell<Harness> = RefCell::new(Harness::new());
}

fuzz_target!(|data: &[u8]| {
    HARNESS.with_borrow_mut(|h| {
        if let Err(m) = fuzz_one(h, data) {
            panic!("{m}");
        }
    });
});
