//! The engine differential test (`vm_testkit::difftest`) on the real Linux
//! host: here the translator accesses guest memory directly and guest
//! faults come back through the `SIGSEGV` handler in [`crate::fault`],
//! which must leave the same precise state as the interpreter. (The
//! fixed-seed copy of this test, `vm-testkit/tests/difftest.rs`, runs on
//! the heap-backed test host, where every access is checked in software.) The unbounded version is the fuzz
//! target in `fuzz/`, which runs each input on both hosts.

use crate::host::LinuxHost;
use vm_core::cpu::Trap;
use vm_core::host::HostOs;
use vm_testkit::difftest::{Harness, Rng, Source, fuzz_one, run_hot_seeds, run_seeds};

static HOST: LinuxHost = LinuxHost::new();

fn harness() -> Harness {
    let h = Harness::with_host(&HOST);
    // The translator's code cache is registered with the fault handler,
    // so it took the direct-access path.
    assert!(HOST.code_faults());
    h
}

/// Each operation against its semantic function ([`vm_testkit::ops`]),
/// with the translator's direct guest accesses.
#[test]
fn operations_match_their_semantics_with_host_faults() {
    vm_testkit::ops::check_every_operation(&mut harness(), 4);
}

#[test]
fn engines_agree_with_host_faults() {
    let mut h = harness();
    for (fp, cases) in [(false, 4000), (true, 2000)] {
        let t = run_seeds(&mut h, fp, cases)
            .unwrap_or_else(|(seed, m)| panic!("seed {seed} (fp: {fp}): {m}"));
        // Host faults were taken, and programs ran to their end too.
        assert!(t.faults > cases / 10 && t.ecalls > cases / 5, "{t:?}");
    }
    assert!(h.jit_stat("jit_cache_flushes") > Some(0));
}

#[test]
fn fuzz_inputs_agree_with_host_faults() {
    let mut h = harness();
    let mut r = Rng::seeded(0x11f0);
    let mut faults = 0;
    for k in 0..2000 {
        let len = r.below(600) as usize;
        let input: Vec<u8> = (0..len).map(|_| r.next() as u8).collect();
        match fuzz_one(&mut h, &input) {
            Ok(o) => faults += matches!(o.trap, Trap::MemFault(_)) as u32,
            Err(m) => panic!("input {k} {input:02x?}: {m}"),
        }
    }
    assert!(faults > 100, "{faults}");
}

/// Hot loops in a cache big enough for regions: promotion, cached
/// registers across blocks and host faults inside regions.
#[test]
fn hot_regions_agree_with_host_faults() {
    let mut h = Harness::with_cache(&HOST, 4 << 20);
    assert!(HOST.code_faults());
    for fp in [false, true] {
        let t = run_hot_seeds(&mut h, fp, 800)
            .unwrap_or_else(|(seed, m)| panic!("hot seed {seed} (fp: {fp}): {m}"));
        assert!(t.faults > 50 && t.ecalls > 100, "{t:?}");
    }
    assert!(h.jit_stat("jit_regions_promoted") > Some(100));
}

/// Accesses within +-2048 of both ends of the guest space through a base
/// an earlier access validated (`vm_testkit::edges`): the translator
/// leaves their bounds compare out, and the guard regions must turn each
/// one past an end into the interpreter's precise fault. In first-tier
/// blocks (smallest cache) and in regions.
#[test]
fn edge_accesses_agree_with_host_faults() {
    for cache in [vm_core::translate::MIN_CACHE_SIZE, 4 << 20] {
        let mut h = Harness::with_cache(&HOST, cache);
        assert!(HOST.code_faults());
        let faults = vm_testkit::edges::check_edges(&mut h)
            .unwrap_or_else(|m| panic!("cache {cache}: {m}\n{}", m.case.listing()));
        assert!(faults > 300, "{faults}");
    }
}
