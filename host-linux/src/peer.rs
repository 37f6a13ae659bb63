//! Requests between the pvm processes of one guest tree for each other's
//! `/proc/<pid>` files (`HostOs::peer`; what is asked and answered is
//! `vm_core::syscall::peer`'s).
//!
//! Each pvm runs one helper thread ([`start_server`], again in a forked
//! child and after `execve`) that waits on the tree's request channel
//! (`tree::Channel`, in the tree's System V segment, so no descriptor
//! is involved) and answers the requests addressed to its process from
//! its guest's state. A reader ([`ask`]) takes the channel (one request
//! at a time in the tree), writes the request, wakes the servers and
//! waits for the answer. The channel's `state` word is the futex both
//! sides wait on: a sequence number and a phase, `REQUESTED` (written by
//! the reader), `CLAIMED` (taken by the server asked, which then alone
//! writes the buffer), `DONE`, and `IDLE`. A reader that gets no answer
//! in [`WAIT`] (a stopped process, one busy in a fork) withdraws a
//! request nobody claimed and answers `None`: the caller then shows what
//! the host has (or refuses it). A channel whose owner died is taken
//! over; a claim whose server died is given up.
//!
//! The server thread is no guest thread: it is recorded as such in the
//! tree's thread table (`tree::server_started`), so that `/proc/<pid>/task`
//! and thread counts leave it out, and it blocks every host signal.

use crate::tree::{self, Channel};
use std::sync::atomic::Ordering;
use std::sync::{OnceLock, Weak};
use std::time::{Duration, Instant};
use vm_core::host::{Errno, PeerAsk, SysResult};
use vm_core::process::Process;

const IDLE: u32 = 0;
const REQUESTED: u32 = 1;
const CLAIMED: u32 = 2;
const DONE: u32 = 3;

/// How long a reader waits for an answer nobody claimed.
const WAIT: Duration = Duration::from_secs(2);
/// How long a reader waits for a process of the tree to start its server.
const STARTING: Duration = Duration::from_millis(200);
/// How much longer it waits for an answer being made.
const CLAIMED_WAIT: Duration = Duration::from_secs(30);

/// The process this pvm runs (set once, at launch; a forked child has
/// the same one).
static PROCESS: OnceLock<Weak<Process>> = OnceLock::new();

fn futex_wait(word: &std::sync::atomic::AtomicU32, val: u32, timeout: Option<Duration>) {
    let ts = timeout.map(|d| libc::timespec {
        tv_sec: d.as_secs() as libc::time_t,
        tv_nsec: d.subsec_nanos() as libc::c_long,
    });
    let tp = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a live u32 (in the shared segment, mapped for
    // the life of the process); FUTEX_WAIT (shared: other processes map
    // it) only reads it; `tp` is null or a live timespec.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            val,
            tp,
            0usize,
            0u32,
        )
    };
}

fn futex_wake(word: &std::sync::atomic::AtomicU32) {
    // SAFETY: as in `futex_wait`; FUTEX_WAKE touches no memory.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            i32::MAX,
            0usize,
            0usize,
            0u32,
        )
    };
}

fn put_bytes(ch: &Channel, data: &[u8]) {
    for (i, c) in data.chunks(8).take(tree::CHANNEL_WORDS).enumerate() {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        ch.buf[i].store(u64::from_le_bytes(w), Ordering::Relaxed);
    }
}

fn get_bytes(ch: &Channel, n: usize) -> Vec<u8> {
    let n = n.min(tree::CHANNEL_WORDS * 8);
    let mut v = Vec::with_capacity(n + 8);
    for w in &ch.buf[..n.div_ceil(8)] {
        v.extend_from_slice(&w.load(Ordering::Relaxed).to_le_bytes());
    }
    v.truncate(n);
    v
}

fn me() -> i32 {
    std::process::id() as i32
}

/// Take the channel, or `None` after [`WAIT`].
fn take(ch: &Channel, until: Instant) -> Option<()> {
    loop {
        let holder = ch.owner.load(Ordering::Acquire);
        if holder == 0 {
            if ch
                .owner
                .compare_exchange(0, me(), Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                return Some(());
            }
            continue;
        }
        if !tree::is_alive(holder) {
            // Its owner died with it: whatever it held is void.
            if ch
                .owner
                .compare_exchange(holder, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                let s = ch.state.load(Ordering::Acquire);
                ch.state.store(s & !3, Ordering::Release);
            }
            continue;
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Ask process `pid` of the tree (see the module's doc).
pub fn ask(
    pid: i32,
    what: PeerAsk,
    addr: u64,
    len: u64,
    data: &[u8],
) -> Option<SysResult<Vec<u8>>> {
    let ch = tree::channel()?;
    if pid <= 0 || pid == me() {
        return None;
    }
    let until = Instant::now() + WAIT;
    // A process of the tree just forked may not have its server yet
    // (a vfork child never has one: it runs until its execve).
    let soon = Instant::now() + STARTING;
    while !tree::serves(pid) {
        if !tree::is_member(pid) || Instant::now() >= soon {
            return None;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    take(ch, until)?;
    let release = || ch.owner.store(0, Ordering::Release);
    ch.to.store(pid, Ordering::Relaxed);
    ch.ask.store(what.code(), Ordering::Relaxed);
    ch.addr.store(addr, Ordering::Relaxed);
    ch.len.store(len, Ordering::Relaxed);
    ch.result.store(0, Ordering::Relaxed);
    put_bytes(ch, data);
    let seq = (ch.state.load(Ordering::Acquire) >> 2).wrapping_add(1) << 2;
    ch.state.store(seq | REQUESTED, Ordering::Release);
    futex_wake(&ch.state);
    loop {
        let s = ch.state.load(Ordering::Acquire);
        if s == seq | DONE {
            break;
        }
        // A claimed request is being answered: it gets longer (a big
        // file, a process that is slow to run), unless its server died.
        let claimed = s == seq | CLAIMED;
        let give_up = if claimed {
            !tree::is_alive(pid) || Instant::now() >= until + CLAIMED_WAIT
        } else {
            Instant::now() >= until
        };
        if give_up {
            // Withdraw it (a server that claims it now fails its
            // compare-exchange).
            if ch
                .state
                .compare_exchange(s, seq | IDLE, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                release();
                return None;
            }
            continue;
        }
        futex_wait(&ch.state, s, Some(Duration::from_millis(50)));
    }
    let r = ch.result.load(Ordering::Relaxed);
    let out = if r < 0 {
        Err(Errno((-r) as i32))
    } else {
        Ok(get_bytes(ch, r as usize))
    };
    ch.state.store(seq | IDLE, Ordering::Release);
    release();
    Some(out)
}

/// Answer the request in the channel (claimed by this process).
fn answer(ch: &Channel) {
    let what = PeerAsk::from_code(ch.ask.load(Ordering::Relaxed));
    let (addr, len) = (
        ch.addr.load(Ordering::Relaxed),
        ch.len.load(Ordering::Relaxed),
    );
    let data = if what == Some(PeerAsk::MemWrite) {
        get_bytes(ch, len as usize)
    } else {
        Vec::new()
    };
    let p = PROCESS.get().and_then(Weak::upgrade);
    let r = match (what, p) {
        (Some(w), Some(p)) => vm_core::syscall::peer::serve(&p, w, addr, len, &data),
        (None, _) => Err(Errno::EINVAL),
        (_, None) => Err(Errno::ESRCH),
    };
    match r {
        Ok(v) => {
            let n = v.len().min(tree::CHANNEL_WORDS * 8);
            put_bytes(ch, &v[..n]);
            ch.result.store(n as i64, Ordering::Relaxed);
        }
        Err(e) => ch.result.store(-(e.0 as i64), Ordering::Relaxed),
    }
}

/// Start this process's server thread (at launch with its `process`; in
/// a forked child, which has only the forking thread, with `None`).
pub fn start_server(process: Option<&Process>) {
    if let Some(p) = process {
        let _ = PROCESS.set(p.weak());
    }
    let Some(ch) = tree::channel() else {
        return;
    };
    // The server is recorded before this returns (a parent that reads
    // the child's files as soon as it runs finds it).
    let (started, up) = std::sync::mpsc::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("pvm-procfs".into())
        .stack_size(256 << 10)
        .spawn(move || {
            // Host signals are for the guest's threads.
            crate::signals::helper_thread();
            // SAFETY: cannot fail.
            tree::server_started(unsafe { libc::gettid() });
            let _ = started.send(());
            let me = me();
            loop {
                let s = ch.state.load(Ordering::Acquire);
                if s & 3 == REQUESTED
                    && ch.to.load(Ordering::Relaxed) == me
                    && ch
                        .state
                        .compare_exchange(s, s & !3 | CLAIMED, Ordering::AcqRel, Ordering::Relaxed)
                        .is_ok()
                {
                    answer(ch);
                    ch.state.store(s & !3 | DONE, Ordering::Release);
                    futex_wake(&ch.state);
                    continue;
                }
                futex_wait(&ch.state, s, None);
            }
        });
    if spawned.is_ok() {
        let _ = up.recv_timeout(Duration::from_secs(1));
    }
}
