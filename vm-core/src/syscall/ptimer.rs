//! `timer_create`, `timer_settime`, `timer_gettime`, `timer_getoverrun`
//! and `timer_delete`: the guest side (argument checks and layouts, in the
//! kernel's order) of the POSIX timers [`crate::ptimer`] keeps.

use super::abi::{RLIMIT_SIGPENDING, decode_timespec, encode_timespec};
use super::{Ctx, R, get, put};
use crate::host::{Errno, SysResult, Timespec};
use crate::ptimer::{Clock, Notify, SIGEVENT_SIZE, Setting, ktime, timespec};

/// A `struct timespec` of an itimerspec, valid as `timespec64_valid`
/// wants it.
fn valid(t: Timespec) -> SysResult<i64> {
    if t.sec < 0 || !(0..1_000_000_000).contains(&t.nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(ktime(t))
}

/// `struct itimerspec`: interval, then value.
fn encode(s: Setting) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[..16].copy_from_slice(&encode_timespec(timespec(s.interval)));
    b[16..].copy_from_slice(&encode_timespec(timespec(s.value)));
    b
}

/// `timer_create(clockid, sevp, timerid)`.
pub(super) fn timer_create(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (clock, sevp, out) = (a[0] as i32, a[1], a[2]);
    let ev = if sevp != 0 {
        Some(get::<SIGEVENT_SIZE>(cx.mem(), sevp)?)
    } else {
        None
    };
    let clock = Clock::of(cx.p, clock, cx.t.tid)?;
    let p = cx.p;
    let notify = ev.map(|b| Notify::parse(p, &b)).transpose()?;
    // Each timer holds a queued signal's place under RLIMIT_SIGPENDING.
    let limit = p.host.prlimit(RLIMIT_SIGPENDING, None)?.0;
    if !crate::signal::timer_allowed(p, cx.t, limit) {
        return Err(Errno::EAGAIN);
    }
    let id = p.timers.create(clock, notify)?;
    let r = put(cx.mem(), out, &id.to_le_bytes());
    if r.is_err() {
        let _ = p.timers.delete(p, id);
    }
    crate::signal::publish_total(p, cx.t);
    r.map(|()| 0)
}

/// `timer_settime(id, flags, new, old)`.
pub(super) fn timer_settime(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (id, flags, new, old) = (a[0] as i32, a[1] as i32, a[2], a[3]);
    if new == 0 {
        return Err(Errno::EINVAL);
    }
    let b: [u8; 32] = get(cx.mem(), new)?;
    let interval = valid(decode_timespec(b[..16].try_into().unwrap()))?;
    let value = valid(decode_timespec(b[16..].try_into().unwrap()))?;
    let prev =
        cx.p.timers
            .set(cx.p, id, flags, Setting { interval, value })?;
    if old != 0 {
        put(cx.mem(), old, &encode(prev))?;
    }
    Ok(0)
}

/// `timer_gettime(id, cur)`.
pub(super) fn timer_gettime(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let cur = cx.p.timers.get(cx.p, a[0] as i32)?;
    put(cx.mem(), a[1], &encode(cur))?;
    Ok(0)
}

/// `timer_getoverrun(id)`.
pub(super) fn timer_getoverrun(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    Ok(cx.p.timers.overrun(a[0] as i32)? as u64)
}

/// `timer_delete(id)`.
pub(super) fn timer_delete(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.p.timers.delete(cx.p, a[0] as i32)?;
    crate::signal::publish_total(cx.p, cx.t);
    Ok(0)
}

#[cfg(test)]
#[path = "ptimer_tests.rs"]
mod tests;
