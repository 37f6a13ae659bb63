//! The event objects of `eventfd2`, `timerfd_create` and `epoll_create1`,
//! kept in the kernel as Linux keeps them (the core forwards these calls,
//! and builds `signalfd` on an eventfd).
//!
//! Timers run on the monotonic clock ([`Fs::set_monotonic`]); a
//! `CLOCK_REALTIME` absolute expiry is turned into a monotonic one when it
//! is set (this machine's wall clock is never set, so
//! `TFD_TIMER_CANCEL_ON_SET` never fires). Nothing ticks: a timer's
//! expirations are counted when it is read or polled, from the time.
//!
//! Epoll interests are keyed by descriptor number and remember the open
//! file: one whose descriptor was closed (or now names another file) is
//! dropped at the next wait, as Linux drops it when the file's last
//! descriptor closes. Level-triggered interests report whatever is ready;
//! `EPOLLET` reports an event when it becomes ready after not being ready
//! at the last look (so a second write to an eventfd that was already
//! readable is not a new edge, where Linux would report one);
//! `EPOLLONESHOT` disables the interest after one report, until
//! `EPOLL_CTL_MOD`.

use super::object::*;
use super::*;
use vm_core::host::{EpollEvent, ITimer};

use vm_core::abi::{
    EFD_SEMAPHORE, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLERR, EPOLLET, EPOLLHUP,
    EPOLLONESHOT, TFD_TIMER_ABSTIME,
};
const NSEC: u64 = 1_000_000_000;
/// Epoll instances watching each other deeper than this are not looked
/// into (Linux refuses to build such chains: `EPOLL_MAX_NESTS`).
const MAX_NEST: u32 = 4;

fn ns(t: Timespec) -> u64 {
    (t.sec.max(0) as u64)
        .saturating_mul(NSEC)
        .saturating_add(t.nsec.max(0) as u64)
}

fn ts(ns: u64) -> Timespec {
    Timespec {
        sec: (ns / NSEC) as i64,
        nsec: (ns % NSEC) as i64,
    }
}

// ---- eventfd ------------------------------------------------------------------

#[derive(Debug)]
pub(super) struct EventFd {
    count: spin::Mutex<u64>,
    semaphore: bool,
}

impl Object for EventFd {
    fn kind(&self) -> &'static str {
        "eventfd"
    }
    fn read(&self, _fs: &Fs, _pos: &mut u64, buf: &mut [u8]) -> SysResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let mut c = self.count.lock();
        if *c == 0 {
            return Err(Errno::EAGAIN);
        }
        let v = if self.semaphore { 1 } else { *c };
        *c -= v;
        buf[..8].copy_from_slice(&v.to_le_bytes());
        Ok(8)
    }
    fn write(&self, _fs: &Fs, _pos: &mut u64, _append: bool, buf: &[u8]) -> SysResult<usize> {
        let v = buf
            .get(..8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
            .ok_or(Errno::EINVAL)?;
        if v == u64::MAX {
            return Err(Errno::EINVAL);
        }
        let mut c = self.count.lock();
        if *c > u64::MAX - 1 - v {
            return Err(Errno::EAGAIN);
        }
        *c += v;
        Ok(8)
    }
    fn poll(&self, _fs: &Fs, _depth: u32) -> i16 {
        let c = *self.count.lock();
        let mut r = 0;
        if c > 0 {
            r |= POLLIN;
        }
        if c < u64::MAX - 1 {
            r |= POLLOUT;
        }
        r
    }
}

// ---- timerfd ------------------------------------------------------------------

#[derive(Debug, Default)]
struct TimerState {
    /// Next expiry (monotonic ns); `None`: disarmed.
    next: Option<u64>,
    interval: u64,
    /// Expirations not yet read.
    ticks: u64,
}

impl TimerState {
    fn update(&mut self, now: u64) {
        let Some(n) = self.next.filter(|&n| n <= now) else {
            return;
        };
        match (now - n).checked_div(self.interval) {
            None => {
                self.ticks += 1;
                self.next = None;
            }
            Some(behind) => {
                let k = behind + 1;
                self.ticks = self.ticks.saturating_add(k);
                self.next = Some(n.saturating_add(k.saturating_mul(self.interval)));
            }
        }
    }
}

#[derive(Debug)]
pub(super) struct TimerFd {
    clock: i32,
    st: spin::Mutex<TimerState>,
}

impl Object for TimerFd {
    fn kind(&self) -> &'static str {
        "timerfd"
    }
    fn read(&self, fs: &Fs, _pos: &mut u64, buf: &mut [u8]) -> SysResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let mut st = self.st.lock();
        st.update(fs.mono_ns());
        if st.ticks == 0 {
            return Err(Errno::EAGAIN);
        }
        buf[..8].copy_from_slice(&st.ticks.to_le_bytes());
        st.ticks = 0;
        Ok(8)
    }
    fn poll(&self, fs: &Fs, _depth: u32) -> i16 {
        let mut st = self.st.lock();
        st.update(fs.mono_ns());
        if st.ticks > 0 { POLLIN } else { 0 }
    }
}

// ---- epoll --------------------------------------------------------------------

#[derive(Debug)]
struct Interest {
    file: Weak<spin::Mutex<OpenFile>>,
    events: u32,
    data: u64,
    /// What was ready at the last look (for `EPOLLET`).
    last: u32,
    /// An `EPOLLONESHOT` interest that has reported.
    spent: bool,
}

#[derive(Debug, Default)]
pub(super) struct Epoll {
    interest: spin::Mutex<BTreeMap<i32, Interest>>,
}

impl Epoll {
    /// Fill `out` with ready events; returns how many. `consume`: a real
    /// wait (edge and one-shot state advance), not a look from `poll`.
    fn collect(&self, fs: &Fs, out: &mut [EpollEvent], consume: bool, depth: u32) -> usize {
        let mut interest = self.interest.lock();
        let mut n = 0;
        let mut gone = Vec::new();
        for (&fd, i) in interest.iter_mut() {
            if n == out.len() {
                break;
            }
            let file = match (fs.file(fd), i.file.upgrade()) {
                (Ok(f), Some(w)) if Arc::ptr_eq(&f, &w) => f,
                _ => {
                    gone.push(fd);
                    continue;
                }
            };
            if i.spent {
                continue;
            }
            let ready = (fs.poll_file(&file.lock(), depth + 1) as u16 as u32)
                & (i.events | EPOLLERR | EPOLLHUP);
            let edge = i.events & EPOLLET != 0;
            let report = if edge { ready & !i.last } else { ready };
            if consume {
                i.last = ready;
            }
            if report == 0 {
                continue;
            }
            out[n] = EpollEvent {
                events: if edge { ready } else { report },
                data: i.data,
            };
            n += 1;
            if consume && i.events & EPOLLONESHOT != 0 {
                i.spent = true;
            }
        }
        for fd in gone {
            interest.remove(&fd);
        }
        n
    }
}

impl Object for Epoll {
    fn kind(&self) -> &'static str {
        "eventpoll"
    }
    fn poll(&self, fs: &Fs, depth: u32) -> i16 {
        if depth > MAX_NEST {
            return 0;
        }
        let mut one = [EpollEvent::default()];
        if self.collect(fs, &mut one, false, depth) > 0 {
            POLLIN
        } else {
            0
        }
    }
}

impl Fs {
    /// `eventfd2(initval, flags)` (flags checked by the core).
    pub fn eventfd2(&mut self, initval: u32, flags: i32) -> SysResult<i32> {
        let o = EventFd {
            count: spin::Mutex::new(u64::from(initval)),
            semaphore: flags & EFD_SEMAPHORE != 0,
        };
        self.install_object(Arc::new(o), flags)
    }

    /// `timerfd_create(clock, flags)` (both checked by the core).
    pub fn timerfd_create(&mut self, clock: i32, flags: i32) -> SysResult<i32> {
        let o = TimerFd {
            clock,
            st: spin::Mutex::new(TimerState::default()),
        };
        self.install_object(Arc::new(o), flags)
    }

    /// `timerfd_settime(fd, flags, new)`, or `timerfd_gettime` when `new`
    /// is `None`: the previous setting, with the time that was left.
    pub fn timerfd_settime(
        &mut self,
        fd: i32,
        flags: i32,
        new: Option<ITimer>,
    ) -> SysResult<ITimer> {
        let o = self.object::<TimerFd>(fd, Errno::EINVAL)?;
        let t = o.as_any().downcast_ref::<TimerFd>().expect("checked type");
        let now = self.mono_ns();
        let mut st = t.st.lock();
        st.update(now);
        let old = ITimer {
            interval: ts(st.interval),
            value: st
                .next
                .map_or(Timespec::default(), |n| ts(n.saturating_sub(now).max(1))),
        };
        if let Some(new) = new {
            let value = ns(new.value);
            st.ticks = 0;
            st.interval = ns(new.interval);
            st.next = if value == 0 {
                None
            } else if flags & TFD_TIMER_ABSTIME == 0 {
                Some(now.saturating_add(value))
            } else if matches!(t.clock, 0 | 8) {
                // CLOCK_REALTIME(_ALARM): as far ahead of the wall clock.
                let wall = ns((self.clock)());
                Some(now.saturating_add(value.saturating_sub(wall)))
            } else {
                Some(value)
            };
        }
        Ok(old)
    }

    /// `epoll_create1(flags)`.
    pub fn epoll_create1(&mut self, flags: i32) -> SysResult<i32> {
        self.install_object(Arc::new(Epoll::default()), flags & O_CLOEXEC)
    }

    /// `epoll_ctl(epfd, op, fd, event)`.
    pub fn epoll_ctl(
        &mut self,
        epfd: i32,
        op: i32,
        fd: i32,
        event: Option<EpollEvent>,
    ) -> SysResult<()> {
        let epfile = self.file(epfd)?;
        let file = self.file(fd)?;
        if file.lock().obj.inode().is_some() {
            // Regular files and directories cannot be waited for.
            return Err(Errno::EPERM);
        }
        let o = self.object::<Epoll>(epfd, Errno::EINVAL)?;
        if Arc::ptr_eq(&epfile, &file) {
            return Err(Errno::EINVAL);
        }
        let ep = o.as_any().downcast_ref::<Epoll>().expect("checked type");
        let mut interest = ep.interest.lock();
        match op {
            EPOLL_CTL_ADD | EPOLL_CTL_MOD => {
                let ev = event.ok_or(Errno::EFAULT)?;
                let exists = interest
                    .get(&fd)
                    .is_some_and(|i| i.file.upgrade().is_some_and(|f| Arc::ptr_eq(&f, &file)));
                if op == EPOLL_CTL_ADD && exists {
                    return Err(Errno::EEXIST);
                }
                if op == EPOLL_CTL_MOD && !exists {
                    return Err(Errno::ENOENT);
                }
                interest.insert(
                    fd,
                    Interest {
                        file: Arc::downgrade(&file),
                        events: ev.events,
                        data: ev.data,
                        last: 0,
                        spent: false,
                    },
                );
                Ok(())
            }
            EPOLL_CTL_DEL => interest.remove(&fd).map(|_| ()).ok_or(Errno::ENOENT),
            _ => Err(Errno::EINVAL),
        }
    }

    /// One look for `epoll_wait`: fill `out` with what is ready now;
    /// returns how many (the kernel waits and looks again when none).
    pub fn epoll_wait(&mut self, epfd: i32, out: &mut [EpollEvent]) -> SysResult<usize> {
        let o = self.object::<Epoll>(epfd, Errno::EINVAL)?;
        let ep = o.as_any().downcast_ref::<Epoll>().expect("checked type");
        Ok(ep.collect(self, out, true, 0))
    }
}
