//! Interpreter: executes decoded instructions on a [`crate::cpu::Cpu`].
//!
//! SKELETON: to be filled in.
