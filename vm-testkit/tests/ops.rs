//! Each operation against its semantic function, on the test host (see
//! [`vm_testkit::ops`]; the Linux host's tests run it with host faults).

use vm_testkit::difftest::Harness;

#[test]
fn every_operation_matches_its_semantic_function() {
    let per_word = if cfg!(debug_assertions) { 4 } else { 8 };
    vm_testkit::ops::check_every_operation(&mut Harness::new(), per_word);
}
