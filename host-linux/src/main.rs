//! `pvm`: run a RISC-V 64 Linux program on an x86-64 Linux host.
//! (Entry point wiring lands with the loader and interpreter.)
#![allow(dead_code)]

mod cli;
mod host;

fn main() {}
