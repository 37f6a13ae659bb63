//! The binary translator.

pub mod x86_64;
