//! The state of a process's `/proc` emulation, as data: what
//! `crate::syscall::procfs` keeps between calls (the initial-stack
//! facts Linux keeps in the `mm`, the open `mem`/`pagemap` descriptors,
//! the personality). A leaf, so that [`crate::process`] can hold it
//! without depending on the system calls that work on it.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64};

/// What the process's `/proc` emulation keeps: the initial-stack facts
/// Linux keeps in the `mm`, the open `mem`/`pagemap` descriptors, the
/// personality.
#[derive(Debug, Default)]
pub struct ProcState {
    pub(crate) info: spin::Mutex<Option<ProcInfo>>,
    /// Set once a `mem` or `pagemap` descriptor was made.
    pub(crate) any: AtomicBool,
    pub(crate) files: spin::Mutex<Vec<(i32, Arc<MemFile>)>>,
    /// `personality(2)`'s value (PER_LINUX and its flags).
    pub personality: AtomicU32,
    /// The host procfs's `st_dev` plus one; 0 until known, 1 for none.
    pub(crate) proc_dev: AtomicU64,
}

/// The process's start as Linux records it in the `mm`: where `argv` and
/// the environment strings lie, the initial stack pointer, and a copy of
/// the auxiliary vector.
#[derive(Clone, Debug, Default)]
pub struct ProcInfo {
    pub arg_start: u64,
    pub arg_end: u64,
    pub env_start: u64,
    pub env_end: u64,
    pub start_stack: u64,
    pub auxv: Vec<u8>,
}

/// An open `mem` or `pagemap` (an open file description: `dup`s share it).
#[derive(Debug)]
pub struct MemFile {
    pub(crate) pagemap: bool,
    pub(crate) pos: spin::Mutex<u64>,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    /// Another process's `mem` (its pid; 0 for this process's own):
    /// reads and writes are its answers (`crate::syscall::peer`).
    pub(crate) peer: i32,
}
