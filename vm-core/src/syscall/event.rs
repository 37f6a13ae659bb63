//! Waiting for several things at once: `ppoll`, `pselect6`, `epoll_*`,
//! `eventfd2`, `timerfd_*` (forwarded to the host), and `signalfd4`,
//! emulated here because guest signals are.
//!
//! The signal mask argument of `ppoll`, `pselect6` and `epoll_pwait`(2)
//! replaces the thread's mask for the wait, as `rt_sigsuspend` does: when
//! the wait ends with `EINTR` the old mask stays in `saved_mask`, so the
//! handler's frame saves it and `rt_sigreturn` brings it back; otherwise
//! it is put back at once (signals it blocks are not delivered), as
//! Linux's `restore_saved_sigmask_unless`. A signal already deliverable
//! under the wait's mask ends the wait with `EINTR` when no descriptor is
//! ready, without blocking.
//!
//! A signalfd is a host eventfd the core keeps the counter of: 1 while a
//! signal in its mask is pending for the thread or the process, else 0,
//! so a host `poll`/`epoll_wait` sees it readable exactly then. The
//! counter is brought up to date before every wait here and after every
//! read of the signalfd, and a host signal ending a host wait brings it
//! up to date before the wait goes on (another guest thread's `tgkill`
//! interrupts the waiting thread that way too). What is not covered: a
//! process-directed signal that every thread blocks, sent by another
//! guest thread while this one waits, is seen at the wait's next update
//! only. The table is keyed by guest descriptor number: `close`,
//! `dup`, `dup3`, `fcntl(F_DUPFD)` and `close_range` keep it in step.
//! Where guest threads take turns on one host thread, a wait that finds
//! nothing ready parks the thread and looks again every
//! [`IO_TICK`] (or at its deadline, or with a signal) instead of blocking
//! the host.
//!
//! Signals in a signalfd's mask whose default action the host would
//! handle by itself (SIGCHLD, SIGWINCH, SIGCONT...) are caught by the
//! host from then on, so they reach the core.

use super::abi::{self, le_u32, le_u64, set_u32, set_u64};
use super::{Ctx, R, get, put};
use crate::abi::{
    O_CLOEXEC, O_NONBLOCK, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDBAND,
    POLLRDNORM, POLLWRBAND, POLLWRNORM,
};
use crate::host::{EpollEvent, Errno, HostSigAction, ITimer, PollFd, SysResult, Timespec};
use crate::memory::Access;
use crate::process::SignalFd;
use crate::sched::{Block, IO_TICK};
use crate::signal::{self, SigFields, SigInfo, UNBLOCKABLE};
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

const NSEC: i64 = 1_000_000_000;

/// Size of the riscv64 `struct epoll_event` (`u32 events`, padding,
/// `u64 data`; x86-64 packs it into 12 bytes).
pub const EPOLL_EVENT_SIZE: usize = 16;
/// Size of `struct signalfd_siginfo`.
pub const SIGNALFD_SIGINFO_SIZE: usize = 128;

// ---- waiting ---------------------------------------------------------------

fn sub(a: Timespec, b: Timespec) -> Timespec {
    let mut sec = a.sec - b.sec;
    let mut nsec = a.nsec - b.nsec;
    if nsec < 0 {
        nsec += NSEC;
        sec -= 1;
    }
    if sec < 0 {
        Timespec::default()
    } else {
        Timespec { sec, nsec }
    }
}

/// A guest `struct timespec` that must be a valid duration.
pub(super) fn read_timespec(cx: &Ctx<'_>, addr: u64) -> SysResult<Timespec> {
    let t = abi::decode_timespec(&get::<16>(cx.mem(), addr)?);
    if t.sec < 0 || !(0..NSEC).contains(&t.nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(t)
}

/// Is a signal pending that the thread's mask lets through?
pub(super) fn deliverable(cx: &mut Ctx<'_>) -> bool {
    signal::take_host_signals(cx.p, cx.t);
    let shared = cx.p.signals.lock().shared.set();
    (cx.t.pending.set() | shared) & !(cx.t.sigmask & !UNBLOCKABLE) != 0
}

/// Run the host wait `f` (given the time left) until it ends for the
/// guest: a host signal the guest does not take now only interrupts the
/// host's wait, which goes on for the time left. With a deliverable
/// signal already pending, only a non-blocking look is taken and nothing
/// ready is `EINTR`. Signalfd counters are brought up to date before
/// each wait. Returns the result and the time left.
fn wait_loop(
    cx: &mut Ctx<'_>,
    timeout: Option<Timespec>,
    mut f: impl FnMut(&Ctx<'_>, Option<Timespec>) -> SysResult<usize>,
) -> (SysResult<usize>, Option<Timespec>) {
    let start = cx.p.host.clock_gettime(abi::CLOCK_MONOTONIC);
    let mut left = timeout;
    if deliverable(cx) {
        refresh_signalfds(cx);
        return match f(cx, Some(Timespec::default())) {
            Ok(0) => (Err(Errno::EINTR), left),
            r => (r, left),
        };
    }
    if let Some(r) = green_wait(cx, timeout, &mut f) {
        return r;
    }
    loop {
        refresh_signalfds(cx);
        let r = f(cx, left);
        if let (Some(t), Ok(s)) = (timeout, start) {
            let now = cx.p.host.clock_gettime(abi::CLOCK_MONOTONIC).unwrap_or(s);
            left = Some(sub(t, sub(now, s)));
        }
        match r {
            Err(Errno::EINTR) if signal::restart_interrupted(cx.p, cx.t, false) => {}
            r => return (r, left),
        }
    }
}

pub(super) fn mono_ns(cx: &Ctx<'_>) -> u64 {
    let t =
        cx.p.host
            .clock_gettime(abi::CLOCK_MONOTONIC)
            .unwrap_or_default();
    (t.sec as u64)
        .saturating_mul(NSEC as u64)
        .saturating_add(t.nsec as u64)
}

fn from_ns(ns: u64) -> Timespec {
    Timespec {
        sec: (ns / NSEC as u64) as i64,
        nsec: (ns % NSEC as u64) as i64,
    }
}

/// Where guest threads take turns on one host thread (see
/// [`crate::sched`]), a wait must not block it: look once without waiting,
/// and when nothing is ready before the deadline, park the thread
/// ([`Errno::PARK`]) until the next look ([`Block::Poll`]); the call runs
/// again then and keeps its first deadline (`Thread::poll_deadline`, keyed
/// by the call's pc). `None` where threads have host threads of their own.
fn green_wait(
    cx: &mut Ctx<'_>,
    timeout: Option<Timespec>,
    f: &mut impl FnMut(&Ctx<'_>, Option<Timespec>) -> SysResult<usize>,
) -> Option<(SysResult<usize>, Option<Timespec>)> {
    if !cx.p.green_others() {
        cx.t.poll_deadline = None;
        return None;
    }
    let pc = cx.t.cpu.pc;
    let now = mono_ns(cx);
    let deadline = match cx.t.poll_deadline.take() {
        Some((at, d)) if at == pc => Some(d),
        _ => timeout.map(|t| {
            now.saturating_add((t.sec as u64).saturating_mul(NSEC as u64) + t.nsec as u64)
        }),
    };
    refresh_signalfds(cx);
    let r = f(cx, Some(Timespec::default()));
    let left = deadline.map(|d| from_ns(d.saturating_sub(now)));
    match r {
        Ok(0) if deadline.is_none_or(|d| now < d) => {
            let mut recheck = now + IO_TICK;
            if let Some(d) = deadline {
                cx.t.poll_deadline = Some((pc, d));
                recheck = recheck.min(d);
            }
            cx.t.block = Some(Block::Poll { recheck });
            Some((Err(Errno::PARK), left))
        }
        r => Some((r, left)),
    }
}

/// Run `f` with the thread's signal mask replaced by `mask` (when given)
/// and put it back as Linux does (see the module documentation).
fn with_mask<T>(
    cx: &mut Ctx<'_>,
    mask: Option<u64>,
    f: impl FnOnce(&mut Ctx<'_>) -> SysResult<T>,
) -> SysResult<T> {
    let Some(m) = mask else {
        return f(cx);
    };
    cx.t.saved_mask = Some(cx.t.sigmask);
    cx.t.sigmask = m & !UNBLOCKABLE;
    let r = f(cx);
    if !matches!(r, Err(Errno::EINTR))
        && let Some(old) = cx.t.saved_mask.take()
    {
        cx.t.sigmask = old;
    }
    r
}

/// The guest's `sigset_t *` argument with its size: `None` for a null
/// pointer; the size must be 8.
fn sigmask_arg(cx: &Ctx<'_>, ptr: u64, size: u64) -> SysResult<Option<u64>> {
    if ptr == 0 {
        return Ok(None);
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    Ok(Some(u64::from_le_bytes(get(cx.mem(), ptr)?)))
}

/// Write the time left back to a guest timeout (as Linux does for
/// `ppoll` and `pselect6`, not for a zero timeout).
fn put_left(cx: &Ctx<'_>, addr: u64, timeout: Option<Timespec>, left: Option<Timespec>) {
    if let (Some(t), Some(l)) = (timeout, left)
        && (t.sec != 0 || t.nsec != 0)
    {
        let _ = put(cx.mem(), addr, &abi::encode_timespec(l));
    }
}

/// `ppoll(fds, nfds, timeout, sigmask, sigsetsize)`.
pub(super) fn ppoll(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (fds, nfds, tmo) = (a[0], a[1], a[2]);
    let nofile = cx.p.host.prlimit(7, None).map_or(1024, |l| l.0);
    if nfds > nofile || nfds > 1 << 20 {
        return Err(Errno::EINVAL);
    }
    let timeout = if tmo == 0 {
        None
    } else {
        Some(read_timespec(cx, tmo)?)
    };
    let mask = sigmask_arg(cx, a[3], a[4])?;
    let mut raw = vec![0u8; nfds as usize * 8];
    cx.mem()
        .read_bytes(fds, &mut raw)
        .map_err(|_| Errno::EFAULT)?;
    let mut pfds: Vec<PollFd> = raw
        .chunks_exact(8)
        .map(|c| PollFd {
            fd: le_u32(c, 0) as i32,
            events: i16::from_le_bytes([c[4], c[5]]),
            revents: 0,
        })
        .collect();
    let (r, left) = with_mask_wait(cx, mask, timeout, |cx, t| cx.p.host.poll(&mut pfds, t));
    if r != Err(Errno::PARK) {
        put_left(cx, tmo, timeout, left);
    }
    let n = r?;
    for (c, p) in raw.chunks_exact_mut(8).zip(&pfds) {
        c[6..8].copy_from_slice(&p.revents.to_le_bytes());
    }
    put(cx.mem(), fds, &raw)?;
    Ok(n as u64)
}

/// [`wait_loop`] under [`with_mask`], returning the time left too.
fn with_mask_wait(
    cx: &mut Ctx<'_>,
    mask: Option<u64>,
    timeout: Option<Timespec>,
    f: impl FnMut(&Ctx<'_>, Option<Timespec>) -> SysResult<usize>,
) -> (SysResult<usize>, Option<Timespec>) {
    let mut left = None;
    let r = with_mask(cx, mask, |cx| {
        let (r, l) = wait_loop(cx, timeout, f);
        left = l;
        r
    });
    (r, left)
}

/// `pselect6(nfds, readfds, writefds, exceptfds, timeout, sigmask)`,
/// through the host's `poll`; the sixth argument points to `{ const
/// sigset_t *ss; size_t ss_len; }`. As Linux, it looks only up to the
/// end of the guest's descriptor table ([`HostOs::fd_table_end`]): a
/// closed number inside it is `EBADF`, one past it is ignored, and the
/// sets are read and written back only up to it.
///
/// [`HostOs::fd_table_end`]: crate::host::HostOs::fd_table_end
pub(super) fn pselect6(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let nfds = a[0] as i32;
    if nfds < 0 {
        return Err(Errno::EINVAL);
    }
    // Linux looks no further than its table's end (the first 64 entries
    // are always there).
    let nfds = nfds as usize;
    let n = match nfds {
        0..=64 => nfds,
        _ => cx.p.host.fd_table_end(nfds).unwrap_or_else(|| {
            let nofile = cx.p.host.prlimit(7, None).map_or(1024, |l| l.0);
            nfds.min(nofile.max(1024) as usize)
        }),
    };
    let words = n.div_ceil(64);
    let sets = [a[1], a[2], a[3]];
    let mut bits = [vec![0u64; words], vec![0u64; words], vec![0u64; words]];
    for (set, b) in sets.iter().zip(bits.iter_mut()) {
        if *set != 0 && words > 0 {
            let mut raw = vec![0u8; words * 8];
            cx.mem()
                .read_bytes(*set, &mut raw)
                .map_err(|_| Errno::EFAULT)?;
            for (w, c) in b.iter_mut().zip(raw.chunks_exact(8)) {
                *w = le_u64(c, 0);
            }
            // Bits past nfds do not count.
            if !n.is_multiple_of(64) {
                b[words - 1] &= (1u64 << (n % 64)) - 1;
            }
        }
    }
    let tmo = a[4];
    let timeout = if tmo == 0 {
        None
    } else {
        Some(read_timespec(cx, tmo)?)
    };
    let mask = if a[5] != 0 {
        let b: [u8; 16] = get(cx.mem(), a[5])?;
        sigmask_arg(cx, le_u64(&b, 0), le_u64(&b, 8))?
    } else {
        None
    };
    let has = |b: &[Vec<u64>; 3], k: usize, fd: usize| b[k][fd / 64] & (1 << (fd % 64)) != 0;
    let mut pfds = Vec::new();
    for fd in 0..n {
        let mut ev = 0i16;
        if has(&bits, 0, fd) {
            ev |= POLLIN | POLLRDNORM | POLLRDBAND;
        }
        if has(&bits, 1, fd) {
            ev |= POLLOUT | POLLWRNORM | POLLWRBAND;
        }
        if has(&bits, 2, fd) {
            ev |= POLLPRI;
        }
        if ev != 0 {
            pfds.push(PollFd {
                fd: fd as i32,
                events: ev,
                revents: 0,
            });
        }
    }
    let (r, left) = with_mask_wait(cx, mask, timeout, |cx, t| {
        cx.p.host.poll(&mut pfds, t)?;
        if pfds.iter().any(|p| p.revents & POLLNVAL != 0) {
            return Err(Errno::EBADF);
        }
        Ok(pfds
            .iter()
            .map(|p| select_bits(p).count_ones() as usize)
            .sum())
    });
    if r != Err(Errno::PARK) {
        put_left(cx, tmo, timeout, left);
    }
    let count = r?;
    let mut out = [vec![0u64; words], vec![0u64; words], vec![0u64; words]];
    for p in &pfds {
        let b = select_bits(p);
        let fd = p.fd as usize;
        for (k, o) in out.iter_mut().enumerate() {
            if b & (1 << k) != 0 {
                o[fd / 64] |= 1 << (fd % 64);
            }
        }
    }
    for (set, o) in sets.iter().zip(&out) {
        if *set != 0 && words > 0 {
            let raw: Vec<u8> = o.iter().flat_map(|w| w.to_le_bytes()).collect();
            put(cx.mem(), *set, &raw)?;
        }
    }
    Ok(count as u64)
}

/// Which of a `select`'s three sets (bits 0, 1, 2) a polled descriptor is
/// in, as the kernel's `POLLIN_SET`, `POLLOUT_SET` and `POLLEX_SET`.
fn select_bits(p: &PollFd) -> u32 {
    let r = p.revents;
    let mut b = 0;
    if p.events & POLLIN != 0 && r & (POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR) != 0 {
        b |= 1;
    }
    if p.events & POLLOUT != 0 && r & (POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR) != 0 {
        b |= 2;
    }
    if p.events & POLLPRI != 0 && r & POLLPRI != 0 {
        b |= 4;
    }
    b
}

// ---- epoll -------------------------------------------------------------------

pub(super) fn epoll_create1(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    if a[0] as i32 & !O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    cx.p.host.epoll_create1(a[0] as i32).map(|fd| fd as u64)
}

pub(super) fn epoll_ctl(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (epfd, op, fd, ev) = (a[0] as i32, a[1] as i32, a[2] as i32, a[3]);
    // EPOLL_CTL_DEL (2) takes no event.
    let event = if op == 2 {
        None
    } else {
        let b: [u8; EPOLL_EVENT_SIZE] = get(cx.mem(), ev)?;
        Some(EpollEvent {
            events: le_u32(&b, 0),
            data: le_u64(&b, 8),
        })
    };
    cx.p.host.epoll_ctl(epfd, op, fd, event).map(|_| 0)
}

/// Most events one host `epoll_wait` returns; fewer than asked for is
/// always a valid answer.
const EPOLL_BATCH: usize = 1024;

/// `epoll_pwait` (`timespec` false: the timeout is in milliseconds,
/// negative for none) and `epoll_pwait2` (a `struct timespec *`).
pub(super) fn epoll_pwait(cx: &mut Ctx<'_>, a: &[u64; 6], timespec: bool) -> R {
    let (epfd, events, max) = (a[0] as i32, a[1], a[2] as i32);
    if max <= 0 || max as usize > i32::MAX as usize / EPOLL_EVENT_SIZE {
        return Err(Errno::EINVAL);
    }
    cx.mem()
        .check(events, max as u64 * EPOLL_EVENT_SIZE as u64, Access::Write)
        .map_err(|_| Errno::EFAULT)?;
    let timeout = if timespec {
        if a[3] == 0 {
            None
        } else {
            Some(read_timespec(cx, a[3])?)
        }
    } else {
        let ms = a[3] as i32;
        (ms >= 0).then(|| Timespec {
            sec: (ms / 1000) as i64,
            nsec: (ms % 1000) as i64 * 1_000_000,
        })
    };
    let mask = sigmask_arg(cx, a[4], a[5])?;
    let mut evs = vec![EpollEvent::default(); (max as usize).min(EPOLL_BATCH)];
    let (r, _) = with_mask_wait(cx, mask, timeout, |cx, t| {
        cx.p.host.epoll_wait(epfd, &mut evs, t)
    });
    let n = r?;
    let mut raw = vec![0u8; n * EPOLL_EVENT_SIZE];
    for (c, e) in raw.chunks_exact_mut(EPOLL_EVENT_SIZE).zip(&evs[..n]) {
        set_u32(c, 0, e.events);
        set_u64(c, 8, e.data);
    }
    put(cx.mem(), events, &raw)?;
    Ok(n as u64)
}

// ---- eventfd, timerfd ---------------------------------------------------------

pub(super) fn eventfd2(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    // EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC
    if a[1] as i32 & !(1 | O_NONBLOCK | O_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    cx.p.host
        .eventfd2(a[0] as u32, a[1] as i32)
        .map(|fd| fd as u64)
}

pub(super) fn timerfd_create(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (clock, flags) = (a[0] as i32, a[1] as i32);
    if flags & !(O_NONBLOCK | O_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    // REALTIME, MONOTONIC, BOOTTIME, REALTIME_ALARM, BOOTTIME_ALARM
    if !matches!(clock, 0 | 1 | 7 | 8 | 9) {
        return Err(Errno::EINVAL);
    }
    cx.p.host.timerfd_create(clock, flags).map(|fd| fd as u64)
}

/// `struct itimerspec`: interval, then value (two timespecs).
fn encode_itimerspec(t: &ITimer) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[..16].copy_from_slice(&abi::encode_timespec(t.interval));
    b[16..].copy_from_slice(&abi::encode_timespec(t.value));
    b
}

pub(super) fn timerfd_settime(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (fd, flags, new, old) = (a[0] as i32, a[1] as i32, a[2], a[3]);
    // TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET
    if flags & !3 != 0 {
        return Err(Errno::EINVAL);
    }
    let b: [u8; 32] = get(cx.mem(), new)?;
    let t = |o: usize| abi::decode_timespec(b[o..o + 16].try_into().unwrap_or(&[0; 16]));
    let spec = ITimer {
        interval: t(0),
        value: t(16),
    };
    for x in [spec.interval, spec.value] {
        if x.sec < 0 || !(0..NSEC).contains(&x.nsec) {
            return Err(Errno::EINVAL);
        }
    }
    let prev = cx.p.host.timerfd_settime(fd, flags, Some(spec))?;
    if old != 0 {
        put(cx.mem(), old, &encode_itimerspec(&prev))?;
    }
    Ok(0)
}

pub(super) fn timerfd_gettime(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let cur = cx.p.host.timerfd_settime(a[0] as i32, 0, None)?;
    put(cx.mem(), a[1], &encode_itimerspec(&cur))?;
    Ok(0)
}

// ---- signalfd -----------------------------------------------------------------

/// `signalfd4(fd, mask, sizemask, flags)`: a new signalfd (`fd` -1) or a
/// new mask for an existing one.
pub(super) fn signalfd4(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (fd, flags) = (a[0] as i32, a[3] as i32);
    if flags & !(O_NONBLOCK | O_CLOEXEC) != 0 || a[2] != 8 {
        return Err(Errno::EINVAL);
    }
    let mask = u64::from_le_bytes(get(cx.mem(), a[1])?) & !UNBLOCKABLE;
    let io = &cx.p.io;
    let fd = if fd == -1 {
        // EFD_NONBLOCK and EFD_CLOEXEC are O_NONBLOCK and O_CLOEXEC.
        let nfd = cx.p.host.eventfd2(0, flags)?;
        io.signalfds.lock().push(SignalFd {
            fds: vec![nfd],
            mask,
            armed: false,
        });
        io.any.store(true, Ordering::Release);
        nfd
    } else {
        let mut t = io.signalfds.lock();
        match t.iter_mut().find(|s| s.fds.contains(&fd)) {
            Some(s) => s.mask = mask,
            None => {
                drop(t);
                cx.p.host.fcntl(fd, 1, 0)?;
                return Err(Errno::EINVAL);
            }
        }
        fd
    };
    // Make the host catch what it would otherwise handle by itself.
    for signo in 1..=signal::NSIG {
        if mask & signal::bit(signo) != 0 {
            let act = cx.p.signals.lock().actions[(signo - 1) as usize];
            if signal::host_action(signo, &act) == Some(HostSigAction::Default) {
                cx.p.host.set_signal_action(signo, HostSigAction::Catch);
            }
        }
    }
    refresh_signalfds(cx);
    Ok(fd as u64)
}

/// Bring every signalfd's host counter in line with the pending signals.
pub(super) fn refresh_signalfds(cx: &mut Ctx<'_>) {
    if !cx.p.io.any.load(Ordering::Acquire) {
        return;
    }
    signal::take_host_signals(cx.p, cx.t);
    let pending = cx.t.pending.set() | cx.p.signals.lock().shared.set();
    let mut t = cx.p.io.signalfds.lock();
    for s in t.iter_mut() {
        let ready = pending & s.mask != 0;
        let Some(&fd) = s.fds.first() else { continue };
        if ready && !s.armed {
            s.armed = cx.p.host.write(fd, &1u64.to_le_bytes()).is_ok();
        } else if !ready && s.armed {
            // The counter is 1: this read does not block.
            let mut b = [0u8; 8];
            s.armed = cx.p.host.read(fd, &mut b).is_err();
        }
    }
}

/// A `write` to descriptor `fd`: `Some(EINVAL)` for a signalfd, which
/// cannot be written.
pub(super) fn signalfd_write(cx: &Ctx<'_>, fd: i32) -> Option<R> {
    cx.p.io.find(fd).map(|_| Err(Errno::EINVAL))
}

/// A `read` of `len` bytes from descriptor `fd`: `None` when `fd` is no
/// signalfd; else the pending signals of its mask as `struct
/// signalfd_siginfo` records (whole ones, at most `len` bytes), waiting
/// for one unless the descriptor is non-blocking. `readv` scatters them.
pub(super) fn signalfd_read(cx: &mut Ctx<'_>, fd: i32, len: u64) -> Option<SysResult<Vec<u8>>> {
    cx.p.io.find(fd)?;
    Some(read_signals(cx, fd, len))
}

fn read_signals(cx: &mut Ctx<'_>, fd: i32, len: u64) -> SysResult<Vec<u8>> {
    if len < SIGNALFD_SIGINFO_SIZE as u64 {
        return Err(Errno::EINVAL);
    }
    let max = (len / SIGNALFD_SIGINFO_SIZE as u64).min(64) as usize;
    loop {
        signal::take_host_signals(cx.p, cx.t);
        let Some(mask) = cx.p.io.find(fd) else {
            return Err(Errno::EBADF);
        };
        let mut out = Vec::new();
        while out.len() < max * SIGNALFD_SIGINFO_SIZE {
            let pending = cx.t.pending.set() | cx.p.signals.lock().shared.set();
            let ready = pending & mask;
            if ready == 0 {
                break;
            }
            let signo = ready.trailing_zeros() as i32 + 1;
            let taken = {
                let mut table = cx.p.signals.lock();
                crate::ptimer::take(cx.p, &mut cx.t.pending, &mut table, signo)
            };
            let Some(info) = taken else {
                // Only a stale timer signal: look again.
                continue;
            };
            out.extend_from_slice(&encode_signalfd_siginfo(&info));
        }
        if !out.is_empty() {
            refresh_signalfds(cx);
            return Ok(out);
        }
        let fl = cx.p.host.fcntl(fd, abi::F_GETFL, 0)?;
        if fl as i32 & O_NONBLOCK != 0 {
            return Err(Errno::EAGAIN);
        }
        if deliverable(cx) || cx.p.ending() {
            return Err(Errno::EINTR);
        }
        if cx.p.green_others() {
            // Let the other threads run (one may send the signal).
            cx.t.block = Some(Block::Poll {
                recheck: mono_ns(cx) + IO_TICK,
            });
            return Err(Errno::PARK);
        }
        cx.p.host.wait_signal();
    }
}

/// `struct signalfd_siginfo` for `info`, filled as the kernel's
/// `signalfd_copyinfo` does for each kind of siginfo.
pub fn encode_signalfd_siginfo(info: &SigInfo) -> [u8; SIGNALFD_SIGINFO_SIZE] {
    let mut b = [0u8; SIGNALFD_SIGINFO_SIZE];
    set_u32(&mut b, 0, info.signo as u32);
    set_u32(&mut b, 8, info.code as u32);
    match info.fields {
        SigFields::Kill { pid, uid } => {
            set_u32(&mut b, 12, pid as u32);
            set_u32(&mut b, 16, uid);
        }
        SigFields::Fault { addr } => set_u64(&mut b, 72, addr),
        SigFields::Timer { id, overrun, value } => {
            // ssi_tid, ssi_overrun, ssi_int, ssi_ptr.
            set_u32(&mut b, 24, id as u32);
            set_u32(&mut b, 32, overrun as u32);
            set_u32(&mut b, 44, value as u32);
            set_u64(&mut b, 48, value);
        }
        SigFields::Raw(r) => {
            // r is the siginfo from offset 16: pid, uid, then si_value.
            set_u32(&mut b, 12, le_u32(&r, 0));
            set_u32(&mut b, 16, le_u32(&r, 4));
            // SIL_RT (sigqueue and other negative codes but SI_TKILL)
            // carries si_value.
            if info.code < 0 && info.code != signal::SI_TKILL {
                set_u32(&mut b, 44, le_u32(&r, 8));
                set_u64(&mut b, 48, le_u64(&r, 8));
            }
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::IoState;

    #[test]
    fn signalfd_siginfo_layout() {
        let b = encode_signalfd_siginfo(&SigInfo::kill(10, 0, 42, 1000));
        assert_eq!((le_u32(&b, 0), le_u32(&b, 8)), (10, 0));
        assert_eq!((le_u32(&b, 12), le_u32(&b, 16)), (42, 1000));
        let mut raw = [0u8; signal::SIGINFO_SIZE - 16];
        raw[0..4].copy_from_slice(&7u32.to_le_bytes());
        raw[8..16].copy_from_slice(&0x1234_5678_9abc_def0u64.to_le_bytes());
        let q = SigInfo {
            signo: 34,
            code: signal::SI_QUEUE,
            fields: SigFields::Raw(raw),
        };
        let b = encode_signalfd_siginfo(&q);
        assert_eq!(le_u32(&b, 12), 7);
        assert_eq!(le_u32(&b, 44), 0x9abc_def0);
        assert_eq!(le_u64(&b, 48), 0x1234_5678_9abc_def0);
    }

    #[test]
    fn signalfd_table_follows_descriptors() {
        let io = IoState::default();
        io.signalfds.lock().push(SignalFd {
            fds: vec![5],
            mask: 0b10,
            armed: false,
        });
        // Not consulted until a signalfd was announced.
        assert_eq!(io.find(5), None);
        io.any.store(true, Ordering::Release);
        assert_eq!(io.find(5), Some(0b10));
        io.dup(5, 7);
        io.dup(9, 5 + 3); // 9 names nothing: 8 stays untracked
        assert_eq!((io.find(7), io.find(8)), (Some(0b10), None));
        io.forget(5);
        assert_eq!((io.find(5), io.find(7)), (None, Some(0b10)));
        // dup3 onto a signalfd's number replaces it.
        io.dup(3, 7);
        assert_eq!(io.find(7), None);
        assert!(io.signalfds.lock().is_empty(), "no descriptor left: gone");
        io.signalfds.lock().push(SignalFd {
            fds: vec![10, 11, 20],
            mask: 1,
            armed: false,
        });
        io.forget_range(9, 15);
        assert_eq!((io.find(11), io.find(20)), (None, Some(1)));
    }

    #[test]
    fn select_sets_follow_the_kernel() {
        let p = |events, revents| PollFd {
            fd: 3,
            events,
            revents,
        };
        assert_eq!(select_bits(&p(POLLIN, POLLHUP)), 1);
        assert_eq!(select_bits(&p(POLLOUT | POLLIN, POLLERR)), 3);
        assert_eq!(select_bits(&p(POLLOUT, POLLIN)), 0);
        assert_eq!(select_bits(&p(POLLPRI, POLLPRI)), 4);
    }
}
