//! Fuzz target: the interpreter-versus-translator differential test
//! (`vm_testkit::difftest`) on programs derived from the fuzz input, run on
//! two hosts: vm-core's heap-backed test host, where the translator checks
//! every guest access in software, and pvm's own Linux host
//! (`host_linux::host::LinuxHost`), where it accesses guest memory directly
//! and bad accesses come back through the `SIGSEGV` handler. Any
//! disagreement panics with both end states and the program's listing.
//!
//! Each input gets fresh guest memories and engines: the translator's code
//! cache goes back to the host when its `Jit` is dropped
//! (`HostOs::free_code`), and the guest memories' reservations when they
//! are (`HostOs::release`), so nothing accumulates over a long run.
//!
//! `cargo +nightly fuzz run difftest` (from the repository root).
#![no_main]

use host_linux::host::LinuxHost;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use vm_testkit::difftest::{Harness, fuzz_one};
use vm_core::host::HostOs;
use vm_testkit::testhost::TestHost;

static LINUX: LinuxHost = LinuxHost::new();

/// One test host for the whole run (a `GuestMemory` wants a `'static`
/// host; a fresh one per input would be leaked).
fn test_host() -> &'static TestHost {
    static HOST: OnceLock<&'static TestHost> = OnceLock::new();
    HOST.get_or_init(TestHost::leak)
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
    let hosts: [(&str, fn() -> Harness); 2] = [
        ("test host (checked accesses)", || {
            Harness::with_host(test_host())
        }),
        ("Linux host (host faults)", linux_harness),
    ];
    for (name, make) in hosts {
        let mut h = make();
        if let Err(m) = fuzz_one(&mut h, data) {
            panic!("on the {name}: {m}");
        }
    }
});
