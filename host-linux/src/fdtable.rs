//! The size Linux's descriptor table would have for the guest (the
//! kernel's `max_fds`, `FDSize` in `/proc/PID/status`), which `select`
//! looks no further than (`HostOs::fd_table_size`). The table starts with
//! 64 entries, grows to 128, 256, 512... when a number past its end is
//! used (or asked for with `dup2`), never shrinks, and a `fork`'s child
//! gets one just big enough for what is open.
//!
//! Without descriptors of pvm's own, the host's table is the guest's:
//! its `FDSize` is the answer (kept, since it only grows, and read again
//! only for a `select` past it). With them (`fdrange`: above the guest's
//! hard `RLIMIT_NOFILE`), the host's table reaches past them, so pvm
//! keeps the guest's size itself: the host's `FDSize` when the range is
//! set up, grown for each descriptor the guest gets ([`note`], told by
//! the core) and, for a `select` past it, for the highest one open below
//! the `select`'s end (descriptors that came in another way:
//! `SCM_RIGHTS`, a `clone` pidfd). After a `fork`, and when the host's
//! table already reaches the range at its set-up (an `execve` of a pvm
//! that had one), it starts again from what is open, as a `fork`'s child
//! does: a table grown by a descriptor that was closed again before the
//! `execve` is not remembered across it, nor one that came in another
//! way than [`note`] sees, past the `select`'s end, and was closed.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The guest's table size while pvm keeps it (0: not yet known).
static SIZE: AtomicUsize = AtomicUsize::new(0);

/// The table's first size (Linux's `NR_OPEN_DEFAULT`).
const FIRST: usize = 64;

/// The size Linux grows a table to when it must hold `fd`
/// (`alloc_fdtable`: a power of two times 128 entries past the first 64).
pub fn size_for(fd: usize) -> usize {
    vm_core::host::linux_fd_table_size(fd)
}

/// The host's own table size (`FDSize` in `/proc/self/status`).
fn host_size() -> Option<usize> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let l = s.lines().find(|l| l.starts_with("FDSize:"))?;
    l["FDSize:".len()..].trim().parse().ok()
}

/// The highest descriptor open in `[from, to)`, if any.
fn highest_open(from: usize, to: usize) -> Option<usize> {
    // SAFETY: an all-zero rlimit is a valid value; `rl` is writable.
    let mut rl: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) };
    // `poll` refuses more entries than the soft limit.
    let chunk = (rl.rlim_cur as usize).clamp(1, 1024);
    let mut end = to;
    while end > from {
        let start = end.saturating_sub(chunk).max(from);
        let mut p: Vec<libc::pollfd> = (start..end)
            .map(|fd| libc::pollfd {
                fd: fd as i32,
                events: 0,
                revents: 0,
            })
            .collect();
        // SAFETY: `p` holds `p.len()` pollfds; no wait.
        let r = unsafe { libc::poll(p.as_mut_ptr(), p.len() as _, 0) };
        if r < 0 {
            return None;
        }
        if let Some(f) = p.iter().rev().find(|f| f.revents & libc::POLLNVAL == 0) {
            return Some(f.fd as usize);
        }
        end = start;
    }
    None
}

/// The range of pvm's own descriptors starts at `base`: take the guest's
/// table size from the host's now (see the module documentation).
pub fn range_set_up(base: i32) {
    let size = host_size().filter(|&s| s < base as usize).unwrap_or(0);
    SIZE.store(size, Ordering::Release);
}

/// In a `fork`'s child: a table for what is open.
pub fn forked() {
    SIZE.store(0, Ordering::Release);
}

/// The guest got descriptor `fd` (only told while pvm has a range).
pub fn note(fd: i32) {
    if fd >= 0 && fd < crate::fdrange::lowest() {
        SIZE.fetch_max(size_for(fd as usize), Ordering::AcqRel);
    }
}

/// `min(n, the guest's table size)` (`None`: unknown).
pub fn end(n: usize) -> Option<usize> {
    let kept = SIZE.load(Ordering::Acquire);
    if kept >= n {
        return Some(n);
    }
    let base = crate::fdrange::lowest();
    let size = if base <= 0 {
        host_size()?
    } else if kept == 0 {
        highest_open(0, base as usize).map_or(FIRST, size_for)
    } else {
        highest_open(kept, n.min(base as usize)).map_or(kept, size_for)
    };
    let size = SIZE.fetch_max(size, Ordering::AcqRel).max(size);
    Some(n.min(size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_grow_as_linux_grows_them() {
        // Measured on Linux 6.18 (FDSize after dup2 to the number).
        for (fd, size) in [
            (0, 64),
            (63, 64),
            (64, 128),
            (127, 128),
            (128, 256),
            (255, 256),
            (256, 512),
            (880, 1024),
            (1023, 1024),
            (1024, 2048),
            (65471, 65536),
        ] {
            assert_eq!(size_for(fd), size, "fd {fd}");
        }
    }
}
