//! `cargo xtask`: SKELETON.
fn main() {}
