//! The x86-64 back end: the assembler and the RISC-V to x86-64 code
//! generator.

pub mod encode;
