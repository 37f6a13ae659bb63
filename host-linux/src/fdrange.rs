//! Where pvm's own descriptors live (`ownfd`: the sandbox's roots, the GDB
//! stub's connection and files): above the `RLIMIT_NOFILE` hard limit the
//! guest is shown, so that none takes a number the guest's own `open`s
//! would get. The first time pvm needs one, it sets the range up: with
//! the host's hard limit `H`, the guest's hard limit becomes
//! `B = min(H, CEILING) - RESERVED` (and its soft limit at most that), and
//! pvm's descriptors go to `B` and up (raising its soft limit to `H` just
//! for the move). The guest's limit is then pvm's to keep
//! ([`guest_limit`], [`set_guest_limit`]): it may lower its hard limit and
//! set its soft one up to it, as Linux lets a process, but never raise the
//! hard one, so numbers from `B` up stay out of its reach (a `dup2` or
//! `F_DUPFD` there fails as past any limit). The host's hard limit itself
//! is left as it was, so a pvm that the guest's `execve` starts finds the
//! same `B`.

use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

/// Numbers kept for pvm at the top of the range.
const RESERVED: u64 = 64;
/// The highest hard limit the range is put under (a higher one would make
/// every `fork` copy a descriptor table of that size).
const CEILING: u64 = 1 << 16;

/// `B`, or 0 while there is no range (or the host's limit is too low).
static BASE: AtomicI32 = AtomicI32::new(0);
/// The guest's hard limit while there is a range.
static GUEST_HARD: AtomicU64 = AtomicU64::new(0);

fn getrlimit() -> (u64, u64) {
    // SAFETY: an all-zero rlimit is a valid value.
    let mut rl: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `rl` is one writable rlimit.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) };
    (rl.rlim_cur, rl.rlim_max)
}

fn set_soft(cur: u64, max: u64) -> bool {
    let rl = libc::rlimit {
        rlim_cur: cur,
        rlim_max: max,
    };
    // SAFETY: `rl` is one initialised rlimit.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) == 0 }
}

/// The range's base, setting it up on the first call (`None`: the host's
/// hard limit leaves no room for one).
fn base() -> Option<i32> {
    let b = BASE.load(Ordering::Acquire);
    if b > 0 {
        return Some(b);
    }
    let (cur, max) = getrlimit();
    if max < 2 * RESERVED || max == libc::RLIM_INFINITY {
        return None;
    }
    let b = max.min(CEILING) - RESERVED;
    if cur > b && !set_soft(b, max) {
        return None;
    }
    GUEST_HARD.store(b, Ordering::Release);
    crate::fdtable::range_set_up(b as i32);
    BASE.store(b as i32, Ordering::Release);
    Some(b as i32)
}

/// The lowest number pvm's own descriptors may have (0 without a range).
pub fn lowest() -> i32 {
    BASE.load(Ordering::Acquire)
}

/// A duplicate of `fd` (close-on-exec) in pvm's range, `fd` closed; or
/// `fd` itself where there is no range or no room in it.
pub fn move_high(fd: i32) -> i32 {
    let Some(b) = base() else {
        return fd;
    };
    let (cur, max) = getrlimit();
    // F_DUPFD takes numbers below the soft limit only.
    set_soft(max, max);
    // SAFETY: duplicates a descriptor the caller owns.
    let high = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, b) };
    set_soft(cur, max);
    if high < 0 {
        return fd;
    }
    // SAFETY: the caller hands `fd` over; `high` replaces it.
    unsafe { libc::close(fd) };
    high
}

/// The guest's `RLIMIT_NOFILE` (soft, hard) when pvm keeps it (there is a
/// range): the host's soft limit, and the hard limit pvm shows.
pub fn guest_limit() -> Option<(u64, u64)> {
    let hard = GUEST_HARD.load(Ordering::Acquire);
    if BASE.load(Ordering::Acquire) == 0 {
        return None;
    }
    let (cur, _) = getrlimit();
    Some((cur.min(hard), hard))
}

/// The guest sets its `RLIMIT_NOFILE` to (`cur`, `max`) while pvm keeps it:
/// `EINVAL` if `cur > max`, `EPERM` if `max` is above its hard limit; else
/// the host's soft limit becomes `cur` and the guest's hard limit `max`.
/// Returns the previous (soft, hard).
pub fn set_guest_limit(cur: u64, max: u64) -> Result<(u64, u64), i32> {
    let old = guest_limit().ok_or(libc::ENOSYS)?;
    if cur > max {
        return Err(libc::EINVAL);
    }
    if max > old.1 {
        return Err(libc::EPERM);
    }
    let (_, host_max) = getrlimit();
    if !set_soft(cur, host_max) {
        return Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EINVAL));
    }
    GUEST_HARD.store(max, Ordering::Release);
    Ok(old)
}
