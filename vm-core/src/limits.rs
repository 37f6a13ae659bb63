//! Resource limits and the sandbox policy, as far as the core enforces
//! them (pvm's `--max-memory`, `--max-instructions`, `--max-output` and
//! `--sandbox`; see README "Sandbox mode").
//!
//! What lives here and what in the host:
//! * The core counts what only it sees: guest instructions retired (at
//!   each stop of a thread's run loop, so a limit is noticed within one
//!   engine budget, a few million instructions), guest memory mapped
//!   (`brk`, `mmap`, `mremap` ask [`crate::memory::Mappings::cap_allows`]),
//!   and bytes written to the tree's standard output and error (the
//!   `write` family: see `syscall::fs`). The counters that a whole guest
//!   process tree shares are a [`TreeCounters`], which a host with
//!   processes places in memory shared by the tree
//!   ([`crate::host::HostOs::tree_counters`]); without one each process
//!   counts for itself.
//! * The sandbox policy checks that need no host knowledge are here too:
//!   no `socket` without `allow_net`, no `execve` of a host program.
//! * The host keeps the rest: paths (which directories are allowed, how a
//!   path is resolved), processes (pids, counting the tree), the wall
//!   clock deadline, descriptors (`RLIMIT_NOFILE`), signals to processes
//!   outside the tree, and its own defence in depth.
//!
//! Hitting a limit ends the whole guest (every process of the tree, at
//! its next stop): the first process to hit it writes one line on the
//! host's error console, and each process exits with the limit's status
//! ([`Limit::exit_status`]), so the outermost pvm does.

use core::fmt;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The limits a pvm was started with (`None`: no limit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Guest memory mapped by one process, in bytes (Linux's `total_vm`).
    pub max_memory: Option<u64>,
    /// Guest instructions retired by the whole tree.
    pub max_instructions: Option<u64>,
    /// Bytes the whole tree writes to its standard output and error.
    pub max_output: Option<u64>,
}

impl Limits {
    /// Is any limit set?
    pub fn any(&self) -> bool {
        self.max_memory.is_some() || self.max_instructions.is_some() || self.max_output.is_some()
    }
}

/// The sandbox rules the core checks itself (`--sandbox`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Sandbox mode: `socket` fails with `EACCES` unless `allow_net`, and
    /// `execve` of a program that is not a RISC-V one fails with `EACCES`.
    pub sandbox: bool,
    /// `--allow-net`: the guest may create sockets.
    pub allow_net: bool,
}

impl Policy {
    /// May the guest create a socket?
    pub fn sockets(&self) -> bool {
        !self.sandbox || self.allow_net
    }

    /// May the guest run a host (non-RISC-V) program?
    pub fn host_programs(&self) -> bool {
        !self.sandbox
    }
}

/// A limit that ends the guest when hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Limit {
    /// `--max-memory`.
    Memory = 1,
    /// `--max-instructions`.
    Instructions = 2,
    /// `--timeout` (the host's clock).
    Timeout = 3,
    /// `--max-output`.
    Output = 4,
}

impl Limit {
    /// pvm's exit status when this limit ended the guest: 201 (memory),
    /// 202 (instructions), 203 (timeout), 204 (output). Above every
    /// 128 + signal status, distinct from pvm's own 125-127.
    pub const fn exit_status(self) -> i32 {
        200 + self as i32
    }

    /// The option that sets it.
    pub const fn option(self) -> &'static str {
        match self {
            Limit::Memory => "--max-memory",
            Limit::Instructions => "--max-instructions",
            Limit::Timeout => "--timeout",
            Limit::Output => "--max-output",
        }
    }

    /// What was exceeded, in words.
    pub const fn what(self) -> &'static str {
        match self {
            Limit::Memory => "guest memory",
            Limit::Instructions => "instructions",
            Limit::Timeout => "wall-clock time",
            Limit::Output => "output",
        }
    }

    fn from_code(c: u32) -> Option<Limit> {
        Some(match c {
            1 => Limit::Memory,
            2 => Limit::Instructions,
            3 => Limit::Timeout,
            4 => Limit::Output,
            _ => return None,
        })
    }
}

/// The one line pvm writes when `limit` (set to `value`) ends `program`.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    pub program: &'a [u8],
    pub limit: Limit,
    pub value: u64,
}

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pvm: ")?;
        for c in self.program.utf8_chunks() {
            f.write_str(c.valid())?;
            if !c.invalid().is_empty() {
                f.write_str("\u{fffd}")?;
            }
        }
        let unit = match self.limit {
            Limit::Memory | Limit::Output => " bytes",
            Limit::Instructions => "",
            Limit::Timeout => " s",
        };
        write!(
            f,
            ": guest stopped: {} limit reached ({} {}{unit}), exit status {}",
            self.limit.what(),
            self.limit.option(),
            self.value,
            self.limit.exit_status()
        )
    }
}

/// The counters a guest process tree shares. Only atomics, `repr(C)`, so
/// a host can put it in memory shared by several processes (all zero is
/// the initial state).
#[repr(C)]
#[derive(Debug, Default)]
pub struct TreeCounters {
    /// Guest instructions retired, all processes together.
    pub instructions: AtomicU64,
    /// Bytes written to the tree's standard output and error.
    pub output: AtomicU64,
    /// The first limit hit ([`Limit`] as a number), 0 while none.
    hit: AtomicU32,
    _pad: AtomicU32,
    /// `(dev, ino + 1)` of the first pvm's standard output and error, what
    /// [`Limits::max_output`] counts (0: not open). Set by the host.
    pub outputs: [[AtomicU64; 2]; 2],
}

impl TreeCounters {
    /// Record `limit` as hit: true for the first hit in the tree (whose
    /// process reports it).
    pub fn set_hit(&self, limit: Limit) -> bool {
        self.hit
            .compare_exchange(0, limit as u32, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The limit the tree hit, if any.
    pub fn hit(&self) -> Option<Limit> {
        Limit::from_code(self.hit.load(Ordering::Acquire))
    }

    /// Does `(dev, ino)` name the tree's standard output or error?
    pub fn is_output(&self, dev: u64, ino: u64) -> bool {
        self.outputs.iter().any(|o| {
            o[1].load(Ordering::Relaxed) == ino.wrapping_add(1)
                && o[0].load(Ordering::Relaxed) == dev
        })
    }

    /// Record `(dev, ino)` as output number `i` (0: stdout, 1: stderr).
    pub fn set_output(&self, i: usize, dev: u64, ino: u64) {
        self.outputs[i][0].store(dev, Ordering::Relaxed);
        self.outputs[i][1].store(ino.wrapping_add(1), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn statuses_are_distinct_and_above_signals() {
        let all = [
            Limit::Memory,
            Limit::Instructions,
            Limit::Timeout,
            Limit::Output,
        ];
        for (i, a) in all.iter().enumerate() {
            assert!(a.exit_status() > 128 + 64);
            assert_eq!(Limit::from_code(*a as u32), Some(*a));
            for b in &all[i + 1..] {
                assert_ne!(a.exit_status(), b.exit_status());
            }
        }
    }

    #[test]
    fn first_hit_wins() {
        let t = TreeCounters::default();
        assert_eq!(t.hit(), None);
        assert!(t.set_hit(Limit::Output));
        assert!(!t.set_hit(Limit::Memory));
        assert_eq!(t.hit(), Some(Limit::Output));
        t.set_output(1, 5, 0);
        assert!(t.is_output(5, 0) && !t.is_output(5, 1) && !t.is_output(0, 0));
    }

    #[test]
    fn message_is_one_line() {
        let m = Message {
            program: b"./prog\xff",
            limit: Limit::Instructions,
            value: 1000,
        };
        let s = format!("{m}");
        assert_eq!(
            s,
            "pvm: ./prog\u{fffd}: guest stopped: instructions limit reached \
             (--max-instructions 1000), exit status 202"
        );
    }
}
