//! `pvm`: the Linux host. SKELETON.
fn main() {}
