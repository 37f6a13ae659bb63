//! Thread system calls: `clone`/`clone3` of a thread, `futex`, the robust
//! futex list, `membarrier`, affinity and `prctl`.
//!
//! A guest thread is a host thread ([`crate::process::Process::spawn`]),
//! its tid the host thread's. Guest memory is one host mapping shared by
//! all of them, so a guest futex word *is* a host word: `futex` goes to the
//! host's futex at the word's host address, after the same checks Linux
//! makes, and the host kernel does the compare-and-block atomically (as
//! qemu-user does). The wake that `CLONE_CHILD_CLEARTID` asks for at thread
//! exit, and robust-list owner-died handling, are done here as the kernel
//! does them in `mm_release`.
//!
//! What pvm cannot separate: its threads share one host process, so
//! `CLONE_FS` and `CLONE_FILES` are implied (a thread without them still
//! shares the working directory and the descriptor table).

use super::sys::{futex_one_thread, read_timespec};
use super::{Ctx, R, get, put};
use crate::abi::FUTEX_TID_MASK;
pub use crate::abi::{
    CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_FILES, CLONE_FS, CLONE_INTO_CGROUP,
    CLONE_NEWNS, CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_SETTLS, CLONE_SIGHAND, CLONE_THREAD,
    CLONE_VFORK, CLONE_VM,
};
use crate::host::{Errno, FutexArgs, SysResult};
use crate::memory::Access;
use crate::process::{Process, Thread};
use crate::sched::Block;
use core::sync::atomic::Ordering;
/// The namespace flags: pvm cannot make namespaces (EPERM, as for an
/// unprivileged caller).
const CLONE_NEWALL: u64 = 0x7e02_0000 | 0x0200_0000 | CLONE_NEWNS;

/// `clone`'s arguments, from either call.
#[derive(Clone, Copy, Debug, Default)]
pub struct CloneArgs {
    pub flags: u64,
    /// The child's stack pointer (0: the parent's).
    pub sp: u64,
    pub parent_tid: u64,
    pub child_tid: u64,
    pub tls: u64,
    pub exit_signal: u64,
    pub pidfd: u64,
    /// With `CLONE_INTO_CGROUP` (`clone3` only): the cgroup directory's
    /// descriptor, one of the host's own already replaced by a closed
    /// number.
    pub cgroup: Option<i32>,
}

/// `clone(flags, newsp, parent_tid, tls, child_tid)` (the asm-generic
/// argument order riscv64 uses).
pub(super) fn clone(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let args = CloneArgs {
        flags: a[0] & !0xff,
        sp: a[1],
        parent_tid: a[2],
        tls: a[3],
        child_tid: a[4],
        exit_signal: a[0] & 0xff,
        // With CLONE_PIDFD, `clone` stores the pidfd at parent_tid.
        pidfd: a[2],
        cgroup: None,
    };
    do_clone(cx, &args)
}

/// `clone3(struct clone_args *, size)`.
pub(super) fn clone3(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (ptr, size) = (a[0], a[1]);
    // CLONE_ARGS_SIZE_VER0 .. a page; fields past ours must be zero.
    if !(64..=4096).contains(&size) {
        return Err(Errno::EINVAL);
    }
    let b: [u8; 88] = {
        let mut b = [0u8; 88];
        let n = size.min(88) as usize;
        cx.mem()
            .read_bytes(ptr, &mut b[..n])
            .map_err(|_| Errno::EFAULT)?;
        b
    };
    if size > 88 {
        let mut rest = alloc::vec![0u8; (size - 88) as usize];
        cx.mem()
            .read_bytes(ptr + 88, &mut rest)
            .map_err(|_| Errno::EFAULT)?;
        if rest.iter().any(|&x| x != 0) {
            return Err(Errno::E2BIG);
        }
    }
    let f = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    let (flags, pidfd, child_tid, parent_tid, exit_signal) = (f(0), f(1), f(2), f(3), f(4));
    let (stack, stack_size, tls, set_tid, set_tid_size) = (f(5), f(6), f(7), f(8), f(9));
    if exit_signal > 64 || flags & 0xff != 0 {
        return Err(Errno::EINVAL);
    }
    // The cgroup field is version 2's (88 bytes); a descriptor is an int.
    let cgroup = f(10);
    let into = flags & CLONE_INTO_CGROUP != 0;
    if into && (size < 88 || cgroup > i32::MAX as u64) {
        return Err(Errno::EINVAL);
    }
    // One of the host's own descriptors is, for the guest, not open.
    let cgroup = into.then(|| {
        if cx.p.host.is_own_fd(cgroup as i32) {
            super::ownfd::NOT_OPEN
        } else {
            cgroup as i32
        }
    });
    if (stack == 0) != (stack_size == 0) {
        return Err(Errno::EINVAL);
    }
    if set_tid != 0 || set_tid_size != 0 {
        // Choosing the child's pid needs CAP_SYS_ADMIN in its namespace.
        return Err(Errno::EPERM);
    }
    let args = CloneArgs {
        flags,
        sp: stack.wrapping_add(stack_size),
        parent_tid,
        child_tid,
        tls,
        exit_signal,
        pidfd,
        cgroup,
    };
    do_clone(cx, &args)
}

/// The checks `copy_process` makes, then a thread or a new process.
fn do_clone(cx: &mut Ctx<'_>, args: &CloneArgs) -> R {
    let fl = args.flags;
    if fl & (CLONE_NEWNS | CLONE_FS) == CLONE_NEWNS | CLONE_FS {
        return Err(Errno::EINVAL);
    }
    if fl & CLONE_THREAD != 0 && fl & CLONE_SIGHAND == 0 {
        return Err(Errno::EINVAL);
    }
    if fl & CLONE_SIGHAND != 0 && fl & CLONE_VM == 0 {
        return Err(Errno::EINVAL);
    }
    if fl & CLONE_THREAD != 0 && fl & CLONE_PIDFD != 0 {
        return Err(Errno::EINVAL);
    }
    if fl & CLONE_NEWALL != 0 {
        return Err(Errno::EPERM);
    }
    if fl & CLONE_THREAD != 0 {
        if let Some(cg) = args.cgroup {
            // The host's answer for a thread of its own: allowed only into
            // the process's cgroup (where the thread is created anyway).
            cx.p.host.thread_cgroup(cg)?;
        }
        return clone_thread(cx, args);
    }
    super::process_clone(cx, args)
}

/// A new thread of this process.
fn clone_thread(cx: &mut Ctx<'_>, args: &CloneArgs) -> R {
    let parent = &*cx.t;
    let mut child = Thread {
        cpu: parent.cpu.clone(),
        sigmask: parent.sigmask,
        // The parent's instructions are counted already.
        instret_counted: parent.cpu.instret,
        ..Default::default()
    };
    // The child returns 0 from the call, past the `ecall` (dispatch moved
    // `pc` on already), with no reservation and its own stack and TLS.
    child.cpu.x[10] = 0;
    child.cpu.reservation = None;
    if args.sp != 0 {
        child.cpu.x[2] = args.sp;
    }
    if args.flags & CLONE_SETTLS != 0 {
        child.cpu.x[4] = args.tls;
    }
    if args.flags & CLONE_CHILD_CLEARTID != 0 {
        child.clear_child_tid = args.child_tid;
    }
    let p = cx.p;
    let tid = p.spawn(child, |tid| {
        let v = (tid as u32).to_le_bytes();
        if args.flags & CLONE_PARENT_SETTID != 0 {
            put(&p.mem, args.parent_tid, &v)?;
        }
        if args.flags & CLONE_CHILD_SETTID != 0 {
            put(&p.mem, args.child_tid, &v)?;
        }
        Ok(())
    })?;
    Ok(tid as u64)
}

const FUTEX_WAIT: i32 = 0;
const FUTEX_REQUEUE: i32 = 3;
const FUTEX_CMP_REQUEUE: i32 = 4;
const FUTEX_WAKE_OP: i32 = 5;
const FUTEX_LOCK_PI: i32 = 6;
const FUTEX_WAIT_BITSET: i32 = 9;
const FUTEX_WAIT_REQUEUE_PI: i32 = 11;
const FUTEX_CMP_REQUEUE_PI: i32 = 12;
const FUTEX_LOCK_PI2: i32 = 13;
/// `FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME`.
const FUTEX_FLAGS: i32 = 128 | 256;

/// The host address of the aligned guest futex word at `addr`.
fn word(cx: &Ctx<'_>, addr: u64, access: Access) -> SysResult<*mut u32> {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let p = cx.mem().check(addr, 4, access).map_err(|_| Errno::EFAULT)?;
    Ok(p.cast())
}

/// `futex(uaddr, op, val, timeout | val2, uaddr2, val3)`.
pub(super) fn futex(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let op = a[1] as i32;
    let cmd = op & !FUTEX_FLAGS;
    let uaddr = word(cx, a[0], Access::Read)?;
    let waits = matches!(
        cmd,
        FUTEX_WAIT | FUTEX_WAIT_BITSET | FUTEX_LOCK_PI | FUTEX_WAIT_REQUEUE_PI | FUTEX_LOCK_PI2
    );
    let timeout = if waits && a[3] != 0 {
        Some(read_timespec(cx, a[3])?)
    } else {
        None
    };
    let uaddr2 = match cmd {
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE | FUTEX_CMP_REQUEUE_PI | FUTEX_WAIT_REQUEUE_PI => {
            word(cx, a[4], Access::Read)?
        }
        FUTEX_WAKE_OP => word(cx, a[4], Access::Write)?,
        _ => core::ptr::null_mut(),
    };
    let mut args = FutexArgs {
        op,
        val: a[2] as u32,
        timeout,
        val2: a[3] as u32,
        uaddr2,
        val3: a[5] as u32,
    };
    let host = cx.p.host;
    let r = if cmd == FUTEX_WAKE_OP {
        // The host writes the second word: made again when it refused
        // that only because another thread code-protected the page
        // meanwhile (an EFAULT there leaves the call undone: no word
        // changed, no thread woken).
        cx.mem().host_write(a[4], 4, |p| {
            args.uaddr2 = p.cast();
            host.futex(uaddr, &args)
        })
    } else {
        host.futex(uaddr, &args)
    };
    match r {
        Ok(v) => Ok(v as u64),
        // The PI calls keep their state in the word itself, with one
        // thread as with many (another process may own the lock).
        Err(Errno::ENOSYS) if cx.p.green_others() || is_pi(cmd) => futex_green(cx, a, &args),
        Err(Errno::ENOSYS) => futex_one_thread(cx, a),
        Err(e) => Err(e),
    }
}

const FUTEX_UNLOCK_PI: i32 = 7;
const FUTEX_TRYLOCK_PI: i32 = 8;

fn is_pi(cmd: i32) -> bool {
    matches!(
        cmd,
        FUTEX_LOCK_PI | FUTEX_UNLOCK_PI | FUTEX_TRYLOCK_PI | FUTEX_LOCK_PI2
    )
}

/// Must a call cut short by a signal run again once the handler has run,
/// whatever the handler's `SA_RESTART`? Linux restarts an interrupted
/// `FUTEX_LOCK_PI` (`-ERESTARTNOINTR`), and glibc counts on it: any
/// answer but ESRCH and EDEADLK its `pthread_mutex_lock` takes for
/// "locked".
pub(super) fn restarts_always(nr: u64, a: &[u64; 6]) -> bool {
    let cmd = a[1] as i32 & !FUTEX_FLAGS;
    nr == super::nr::FUTEX && matches!(cmd, FUTEX_LOCK_PI | FUTEX_LOCK_PI2)
}

/// The priority-inheritance futex calls where guest threads take turns on
/// one host thread (see [`crate::sched`]): the word holds the owner's tid
/// with the `FUTEX_WAITERS` and `FUTEX_OWNER_DIED` bits, as Linux keeps
/// it, and an unlock hands the lock to the oldest waiter
/// ([`crate::sched::RunQueue::hand_over`]). There is no priority to
/// inherit: the threads have one CPU and equal turns.
fn futex_pi_green(cx: &mut Ctx<'_>, a: &[u64; 6], args: &FutexArgs) -> R {
    let (uaddr, cmd) = (a[0], args.op & !FUTEX_FLAGS);
    let w: *mut u8 = word(cx, uaddr, Access::Write)?.cast();
    let tid = cx.t.tid as u32;
    // SAFETY (all three): `word` proved the aligned word lies inside the
    // guest reservation and is writable; no other guest thread runs while
    // this one does, and a host fault (a page gone under a file mapping)
    // comes back as an error.
    let cur = unsafe { crate::guarded::load32(w) }.map_err(|_| Errno::EFAULT)?;
    let store = |v: u32| unsafe { crate::guarded::store32(w, v) }.map_err(|_| Errno::EFAULT);
    let owner = cur & FUTEX_TID_MASK;
    if cmd == FUTEX_UNLOCK_PI {
        if owner != tid {
            return Err(Errno::EPERM);
        }
        let next = cx.p.green.lock().hand_over(uaddr);
        store(match next {
            Some((t, more)) => t as u32 | if more { FUTEX_WAITERS } else { 0 },
            None => 0,
        })?;
        return Ok(0);
    }
    if owner == tid {
        return Err(Errno::EDEADLK);
    }
    if owner == 0 {
        let waiters = if cx.p.green.lock().pi_waiting(uaddr) {
            FUTEX_WAITERS
        } else {
            0
        };
        store((cur & FUTEX_OWNER_DIED) | tid | waiters)?;
        return Ok(0);
    }
    if cmd == FUTEX_TRYLOCK_PI {
        return Err(Errno::EAGAIN);
    }
    // Held by another: wait for its unlock, until the absolute deadline
    // (CLOCK_REALTIME for LOCK_PI, as for LOCK_PI2 with the flag).
    let now = now_ns(cx)?;
    let deadline = match args.timeout {
        None => None,
        Some(t) => {
            let ns = (t.sec as u64).wrapping_mul(1_000_000_000) + t.nsec as u64;
            Some(if cmd == FUTEX_LOCK_PI || args.op & 256 != 0 {
                let real = cx.p.host.clock_gettime(0)?;
                let real = (real.sec as u64).wrapping_mul(1_000_000_000) + real.nsec as u64;
                now.saturating_add(ns.saturating_sub(real))
            } else {
                ns
            })
        }
    };
    if deadline.is_some_and(|d| d <= now) {
        return Err(Errno::ETIMEDOUT);
    }
    store(cur | FUTEX_WAITERS)?;
    let tick = now + crate::sched::IO_TICK;
    cx.t.block = Some(Block::PiLock {
        addr: uaddr,
        recheck: deadline.map_or(tick, |d| d.min(tick)),
    });
    Err(Errno::PARK)
}

/// Monotonic nanoseconds now.
fn now_ns(cx: &Ctx<'_>) -> SysResult<u64> {
    let t = cx.p.host.clock_gettime(1)?;
    Ok((t.sec as u64).wrapping_mul(1_000_000_000) + t.nsec as u64)
}

/// `futex` where guest threads take turns on one host thread (see
/// [`crate::sched`]): a wait parks the caller in the run queue (the run
/// loop switches when the call returns), a wake marks waiters runnable.
/// The word checks happen here, atomically since no other thread runs.
fn futex_green(cx: &mut Ctx<'_>, a: &[u64; 6], args: &FutexArgs) -> R {
    let (uaddr, cmd) = (a[0], args.op & !FUTEX_FLAGS);
    let load = |addr: u64| cx.mem().read_u32(addr).map_err(|_| Errno::EFAULT);
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT {
                u32::MAX
            } else {
                args.val3
            };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            if load(uaddr)? != args.val {
                return Err(Errno::EAGAIN);
            }
            let deadline = match args.timeout {
                None => None,
                Some(t) => {
                    let ns = (t.sec as u64).wrapping_mul(1_000_000_000) + t.nsec as u64;
                    Some(if cmd == FUTEX_WAIT {
                        now_ns(cx)?.saturating_add(ns)
                    } else if args.op & 256 != 0 {
                        // FUTEX_CLOCK_REALTIME: the same instant on the
                        // monotonic clock.
                        let real = cx.p.host.clock_gettime(0)?;
                        let real = (real.sec as u64).wrapping_mul(1_000_000_000) + real.nsec as u64;
                        now_ns(cx)?.saturating_add(ns.saturating_sub(real))
                    } else {
                        ns
                    })
                }
            };
            if crate::signal::deliverable(cx.p, cx.t) {
                return Err(Errno::EINTR);
            }
            cx.t.block = Some(Block::Futex {
                addr: uaddr,
                bitset,
                deadline,
            });
            Ok(0)
        }
        1 | 10 => {
            let bitset = if cmd == 1 { u32::MAX } else { args.val3 };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(cx.p.green.lock().wake(uaddr, args.val, bitset) as u64)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            if cmd == FUTEX_CMP_REQUEUE && load(uaddr)? != args.val3 {
                return Err(Errno::EAGAIN);
            }
            Ok(cx.p.green.lock().requeue(uaddr, a[4], args.val, args.val2) as u64)
        }
        FUTEX_WAKE_OP => {
            let uaddr2 = a[4];
            let (new, hit) = wake_op(load(uaddr2)?, args.val3)?;
            cx.mem().write_u32(uaddr2, new).map_err(|_| Errno::EFAULT)?;
            let mut q = cx.p.green.lock();
            let mut n = q.wake(uaddr, args.val, u32::MAX);
            if hit {
                n += q.wake(uaddr2, args.val2, u32::MAX);
            }
            Ok(n as u64)
        }
        c if is_pi(c) => futex_pi_green(cx, a, args),
        _ => Err(Errno::ENOSYS),
    }
}

/// `FUTEX_WAKE_OP`'s encoded operation `enc` on the old value `old` of
/// the second word: its new value, and whether the comparison with the
/// old value holds (then waiters of the second word are woken too).
pub(super) fn wake_op(old: u32, enc: u32) -> SysResult<(u32, bool)> {
    let (fop, cmp, cmparg) = ((enc >> 28) & 0xf, (enc >> 24) & 0xf, enc & 0xfff);
    let mut oparg = ((enc << 8) as i32 >> 20) as u32;
    if fop & 8 != 0 {
        oparg = 1u32.checked_shl(oparg).unwrap_or(0);
    }
    let new = match fop & 7 {
        0 => oparg,
        1 => old.wrapping_add(oparg),
        2 => old | oparg,
        3 => old & !oparg,
        4 => old ^ oparg,
        _ => return Err(Errno::ENOSYS),
    };
    let (o, c) = (old as i32, cmparg as i32);
    let hit = match cmp {
        0 => o == c,
        1 => o != c,
        2 => o < c,
        3 => o <= c,
        4 => o > c,
        5 => o >= c,
        _ => return Err(Errno::ENOSYS),
    };
    Ok((new, hit))
}

/// Wake up to `n` waiters of the guest futex word at `addr` (host address
/// `word`), on whichever kind of host (see [`crate::sched`]).
pub fn futex_wake(p: &Process, addr: u64, word: *mut u32, n: u32) {
    if let Err(Errno::ENOSYS) = p.host.futex(word, &FutexArgs::wake(n)) {
        p.green.lock().wake(addr, n, u32::MAX);
    }
}

/// `sched_yield`: where guest threads take turns on one host thread, let
/// the others run first; elsewhere the host schedules its threads.
pub(super) fn sched_yield(cx: &mut Ctx<'_>) -> R {
    if cx.p.green_others() {
        cx.t.block = Some(Block::Yield);
    } else {
        cx.p.host.yield_now();
    }
    Ok(0)
}

/// `set_tid_address(ptr)`: the word the kernel clears (and wakes) when
/// this thread exits; returns the caller's tid.
pub(super) fn set_tid_address(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.t.clear_child_tid = a[0];
    Ok(cx.t.tid as u64)
}

/// `set_robust_list(head, len)`: `len` must be the size of Linux's
/// `struct robust_list_head` (24).
pub(super) fn set_robust_list(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    if a[1] != 24 {
        return Err(Errno::EINVAL);
    }
    cx.t.robust_list = (a[0], a[1]);
    if let Some(s) = &cx.t.shared {
        s.robust_head.store(a[0], Ordering::Relaxed);
    }
    Ok(0)
}

/// `get_robust_list(tid, head_ptr, len_ptr)`: the calling thread's (other
/// threads' lists are not kept where this thread can read them: ESRCH
/// for them, as for a thread pvm does not know).
pub(super) fn get_robust_list(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let tid = a[0] as i32;
    if tid != 0 && tid != cx.t.tid {
        return Err(if cx.p.thread(tid).is_some() {
            Errno::EPERM
        } else {
            Errno::ESRCH
        });
    }
    let (head, len) = cx.t.robust_list;
    put(cx.mem(), a[1], &head.to_le_bytes())?;
    put(cx.mem(), a[2], &len.to_le_bytes())?;
    Ok(0)
}

const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
/// The kernel's `ROBUST_LIST_LIMIT`.
const ROBUST_LIST_LIMIT: usize = 2048;

/// What the kernel does for a thread on its way out: mark the robust
/// futexes it still holds as owner-died (waking a waiter), then clear and
/// wake its `CLONE_CHILD_CLEARTID` word (what `pthread_join` waits on).
/// Faults are ignored, as in Linux.
pub fn exit_cleanup(p: &Process, t: &mut Thread) {
    p.timers.thread_exiting(p, t.tid);
    exit_robust_list(p, t);
    if t.clear_child_tid != 0 {
        let addr = t.clear_child_tid;
        if p.mem.write_u32(addr, 0).is_ok()
            && let Ok(w) = p.mem.check(addr, 4, Access::Write)
        {
            futex_wake(p, addr, w.cast(), 1);
        }
    }
}

/// Mark the robust futexes thread `t` still holds as owner-died (the
/// kernel's `exit_robust_list`, on every way out: `exit`, `exit_group`, a
/// fatal signal).
pub(crate) fn exit_robust_list(p: &Process, t: &Thread) {
    let (head, len) = t.robust_list;
    if len == 24 {
        release_robust_list(p, head, t.tid);
    }
}

/// Mark the robust futexes thread `tid` holds in the list at `head` as
/// owner-died (see [`exit_robust_list`]).
pub(crate) fn release_robust_list(p: &Process, head: u64, tid: i32) {
    if head == 0 {
        return;
    }
    let read = |addr: u64| -> Option<u64> {
        let b: [u8; 8] = get(&p.mem, addr).ok()?;
        Some(u64::from_le_bytes(b))
    };
    let (Some(mut entry), Some(offset), Some(pending)) =
        (read(head), read(head + 8), read(head + 16))
    else {
        return;
    };
    let mut left = ROBUST_LIST_LIMIT;
    // Bit 0 of an entry marks a PI futex; the word is `entry + offset`.
    while entry & !1 != head && left > 0 {
        let next = read(entry & !1);
        if entry & !1 != pending & !1 {
            owner_died(p, tid, (entry & !1).wrapping_add(offset));
        }
        let Some(n) = next else { return };
        entry = n;
        left -= 1;
    }
    if pending != 0 {
        owner_died(p, tid, (pending & !1).wrapping_add(offset));
    }
}

/// Does the robust list at `head` hold anything: an entry, or a lock or
/// unlock under way (`list_op_pending`)? A head that cannot be read holds
/// nothing the kernel's walk would find.
pub(crate) fn robust_list_held(p: &Process, head: u64) -> bool {
    if head == 0 {
        return false;
    }
    match (
        get::<8>(&p.mem, head),
        get::<8>(&p.mem, head.wrapping_add(16)),
    ) {
        (Ok(next), Ok(pending)) => {
            let next = u64::from_le_bytes(next);
            (next & !1 != head && next != 0) || u64::from_le_bytes(pending) != 0
        }
        _ => false,
    }
}

/// `handle_futex_death`: if thread `tid` owns the futex at `addr`, mark
/// it owner-died (keeping the waiters bit) and wake one waiter.
fn owner_died(p: &Process, tid: i32, addr: u64) {
    if !addr.is_multiple_of(4) {
        return;
    }
    let Ok(w) = p.mem.check(addr, 4, Access::Write) else {
        return;
    };
    // SAFETY (both): `check` proved the aligned 4 bytes lie inside the
    // guest reservation and are writable; other guest threads access the
    // word only atomically (it is a futex word), as the kernel assumes. A
    // host fault there (a page gone under a file mapping) is returned
    // (guarded accesses) and ends the walk, as a fault does in Linux.
    let Ok(mut cur) = (unsafe { crate::guarded::load32(w) }) else {
        return;
    };
    let mut tries = 0;
    loop {
        if cur & FUTEX_TID_MASK != tid as u32 {
            return;
        }
        let new = (cur & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        match unsafe { crate::guarded::cas32(w, cur, new) } {
            Ok(now) if now == cur => break,
            Ok(now) => cur = now,
            // The host refused the store only because another thread
            // code-protected the page at that moment (the word shares a
            // page with code being translated): made again, as pvm's
            // other guarded writes are (`GuestMemory::write_refused`).
            Err(f)
                if f.signo != crate::sigstate::SIGBUS
                    && tries < crate::memory::WRITE_TRIES
                    && p.mem.write_refused(addr) =>
            {
                tries += 1
            }
            Err(_) => return,
        }
    }
    if cur & FUTEX_WAITERS != 0 {
        futex_wake(p, addr, w.cast(), 1);
    }
}

/// `membarrier(cmd, flags, cpu_id)`: guest threads are host threads of
/// one host process, so the host's own `membarrier` on pvm gives each
/// command its meaning.
pub(super) fn membarrier(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    cx.p.host
        .membarrier(a[0] as i32, a[1] as u32, a[2] as i32)
        .map(|v| v as u64)
}

/// Is `pid` this process or one of its threads (0: the caller)?
fn own_task(cx: &Ctx<'_>, pid: i32) -> bool {
    pid == 0 || pid == cx.p.host.ids().pid || cx.p.thread(pid).is_some()
}

/// The host thread the scheduling calls act on for task `pid` (0: the
/// caller): for this process's tasks, the task itself where each guest
/// thread is a host thread (guest tid = host tid), else the one host
/// thread every guest thread takes turns on (0), so a mask or policy set
/// there holds for all of them. Another process can be read (`write`
/// false) as Linux lets any process read these, under its own pid; it
/// cannot be changed from a guest (`ESRCH`, as if it were not there).
/// A negative pid is `negative` (Linux answers `EINVAL` for most of these
/// calls and `ESRCH` for the affinity ones).
fn sched_target_for(cx: &Ctx<'_>, pid: i32, write: bool, negative: Errno) -> SysResult<i32> {
    if pid < 0 {
        return Err(negative);
    }
    if !own_task(cx, pid) {
        return if write { Err(Errno::ESRCH) } else { Ok(pid) };
    }
    Ok(if pid == 0 || !cx.p.host.threads() {
        0
    } else {
        pid
    })
}

/// [`sched_target_for`] of a call that changes the task, `EINVAL` for a
/// negative pid.
fn sched_target(cx: &Ctx<'_>, pid: i32) -> SysResult<i32> {
    sched_target_for(cx, pid, true, Errno::EINVAL)
}

/// [`sched_target_for`] of a call that only reads.
fn sched_reader(cx: &Ctx<'_>, pid: i32) -> SysResult<i32> {
    sched_target_for(cx, pid, false, Errno::EINVAL)
}

/// `sched_setaffinity(pid, len, mask)`: the mask must name at least one of
/// the host's CPUs (the CPUs a guest sees); the host pins the thread.
pub(super) fn sched_setaffinity(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (pid, len, ptr) = (a[0] as i32, a[1], a[2]);
    let tid = sched_target_for(cx, pid, true, Errno::ESRCH)?;
    let n = cx.p.host.cpu_count().max(1) as u64;
    let bytes = len.min(n.div_ceil(8)) as usize;
    let mut mask = alloc::vec![0u8; bytes];
    cx.mem()
        .read_bytes(ptr, &mut mask)
        .map_err(|_| Errno::EFAULT)?;
    let any = (0..n.min(bytes as u64 * 8)).any(|c| mask[(c / 8) as usize] & (1 << (c % 8)) != 0);
    if !any {
        return Err(Errno::EINVAL);
    }
    cx.p.host.set_affinity(tid, &mask).map(|_| 0)
}

/// `sched_getaffinity(pid, len, mask)`: the host thread's mask, or every
/// CPU where the host pins nothing; the size written is the kernel's
/// (whole 8-byte words covering the CPUs).
pub(super) fn sched_getaffinity(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (pid, len, ptr) = (a[0] as i32, a[1], a[2]);
    let tid = sched_target_for(cx, pid, false, Errno::ESRCH)?;
    let n = cx.p.host.cpu_count().max(1) as u64;
    if len.saturating_mul(8) < n || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    let size = n.div_ceil(64) * 8;
    let ret = len.min(size);
    let mut mask = alloc::vec![0u8; ret as usize];
    match cx.p.host.get_affinity(tid, &mut mask) {
        Ok(_) => {}
        Err(Errno::ENOSYS) => {
            for cpu in 0..n.min(ret * 8) {
                mask[(cpu / 8) as usize] |= 1 << (cpu % 8);
            }
        }
        Err(e) => return Err(e),
    }
    put(cx.mem(), ptr, &mask)?;
    Ok(ret)
}

/// Linux's scheduling policies.
const SCHED_OTHER: i32 = 0;
const SCHED_FIFO: i32 = 1;
const SCHED_RR: i32 = 2;
const SCHED_BATCH: i32 = 3;
const SCHED_IDLE: i32 = 5;
const SCHED_DEADLINE: i32 = 6;
/// `SCHED_RESET_ON_FORK`, or-ed into a policy.
const SCHED_RESET_ON_FORK: i32 = 0x4000_0000;

/// `sched_get_priority_max(policy)` (`max` true) and `..._min`: Linux's
/// fixed ranges (1..99 for the real-time policies, 0 for the others).
pub(super) fn sched_priority_range(a: &[u64; 6], max: bool) -> R {
    match a[0] as i32 {
        SCHED_FIFO | SCHED_RR => Ok(if max { 99 } else { 1 }),
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// `sched_getscheduler(pid)`.
pub(super) fn sched_getscheduler(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let tid = sched_reader(cx, a[0] as i32)?;
    cx.p.host
        .sched_policy(tid, None)
        .map(|(p, _)| p as u32 as u64)
}

/// `sched_getparam(pid, param)`: the static priority.
pub(super) fn sched_getparam(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let tid = sched_reader(cx, a[0] as i32)?;
    if a[1] == 0 {
        return Err(Errno::EINVAL);
    }
    let (_, prio) = cx.p.host.sched_policy(tid, None)?;
    put(cx.mem(), a[1], &prio.to_le_bytes())?;
    Ok(0)
}

/// `sched_setscheduler(pid, policy, param)` (`policy` given) and
/// `sched_setparam(pid, param)` (`None`: the policy stays).
pub(super) fn sched_setscheduler(cx: &mut Ctx<'_>, a: &[u64; 6], policy: Option<i32>) -> R {
    let tid = sched_target(cx, a[0] as i32)?;
    let param = if policy.is_some() { a[2] } else { a[1] };
    if param == 0 {
        return Err(Errno::EINVAL);
    }
    let mut b = [0u8; 4];
    cx.mem()
        .read_bytes(param, &mut b)
        .map_err(|_| Errno::EFAULT)?;
    let prio = i32::from_le_bytes(b);
    let policy = policy.unwrap_or(-1);
    let base = if policy == -1 {
        -1
    } else {
        policy & !SCHED_RESET_ON_FORK
    };
    let range = match base {
        -1 => None,
        SCHED_FIFO | SCHED_RR => Some(1..=99),
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE => Some(0..=0),
        _ => return Err(Errno::EINVAL),
    };
    if range.is_some_and(|r| !r.contains(&prio)) {
        return Err(Errno::EINVAL);
    }
    cx.p.host.sched_policy(tid, Some((policy, prio))).map(|_| 0)
}

/// `sched_rr_get_interval(pid, tp)`.
pub(super) fn sched_rr_get_interval(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let tid = sched_reader(cx, a[0] as i32)?;
    let t = cx.p.host.rr_interval(tid)?;
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&t.sec.to_le_bytes());
    b[8..].copy_from_slice(&t.nsec.to_le_bytes());
    put(cx.mem(), a[1], &b)?;
    Ok(0)
}

const PR_SET_PDEATHSIG: u64 = 1;
const PR_GET_PDEATHSIG: u64 = 2;
const PR_GET_DUMPABLE: u64 = 3;
const PR_SET_DUMPABLE: u64 = 4;
const PR_SET_NAME: u64 = 15;
const PR_GET_NAME: u64 = 16;
const PR_GET_TIMERSLACK: u64 = 30;
const PR_SET_TIMERSLACK: u64 = 29;
const PR_SET_NO_NEW_PRIVS: u64 = 38;
const PR_GET_NO_NEW_PRIVS: u64 = 39;
const PR_SET_CHILD_SUBREAPER: u64 = 36;
const PR_GET_CHILD_SUBREAPER: u64 = 37;

/// The thread's name (`comm`): the one `PR_SET_NAME` gave, or the
/// program's file name, at most 15 bytes.
fn thread_name(cx: &Ctx<'_>) -> [u8; 16] {
    cx.p.comm(cx.t.name)
}

/// `prctl(option, arg2, ...)`: the options glibc, Go, Python and
/// runtimes use. The process-wide settings that pvm keeps are held in
/// [`crate::process::Prctl`]; the rest are EINVAL, as on a kernel
/// without them.
pub(super) fn prctl(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let st = &cx.p.prctl;
    match a[0] {
        PR_SET_NAME => {
            let mut n = [0u8; 16];
            let s = cx.mem().read_cstr(a[1], 16).map_err(|_| Errno::EFAULT)?;
            let len = s.len().min(15);
            n[..len].copy_from_slice(&s[..len]);
            cx.t.name = Some(n);
            if let Some(s) = &cx.t.shared {
                *s.name.lock() = Some(n);
            }
            cx.p.host.thread_named(cx.t.tid, &n[..len]);
            Ok(0)
        }
        // PR_SET_MM: rewriting the mm's fields needs CAP_SYS_RESOURCE;
        // pvm's own host mm is not the guest's to change.
        35 => Err(Errno::EPERM),
        PR_GET_NAME => {
            let n = thread_name(cx);
            put(cx.mem(), a[1], &n)?;
            Ok(0)
        }
        // The host process's own setting where there is a parent process
        // (the signal arrives as a host signal); kept here otherwise.
        PR_SET_PDEATHSIG => {
            if a[1] > 64 {
                return Err(Errno::EINVAL);
            }
            match cx.p.host.pdeathsig(Some(a[1] as i32)) {
                Ok(_) | Err(Errno::ENOSYS) => {}
                Err(e) => return Err(e),
            }
            st.pdeathsig.store(a[1] as u32, Ordering::Relaxed);
            Ok(0)
        }
        PR_GET_PDEATHSIG => {
            let v = match cx.p.host.pdeathsig(None) {
                Ok(v) => v as u32,
                Err(_) => st.pdeathsig.load(Ordering::Relaxed),
            };
            put(cx.mem(), a[1], &v.to_le_bytes())?;
            Ok(0)
        }
        PR_GET_DUMPABLE => Ok(st.dumpable.load(Ordering::Relaxed) as u64),
        PR_SET_DUMPABLE => {
            if a[1] > 1 {
                return Err(Errno::EINVAL);
            }
            st.dumpable.store(a[1] as u32, Ordering::Relaxed);
            Ok(0)
        }
        PR_GET_TIMERSLACK => Ok(st.timerslack.load(Ordering::Relaxed) as u64),
        PR_SET_TIMERSLACK => {
            // 0 puts back the default (50 us).
            let v = if a[1] == 0 { 50_000 } else { a[1] };
            st.timerslack.store(v as u32, Ordering::Relaxed);
            Ok(0)
        }
        PR_SET_NO_NEW_PRIVS => {
            if a[1] != 1 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
                return Err(Errno::EINVAL);
            }
            st.no_new_privs.store(1, Ordering::Relaxed);
            Ok(0)
        }
        PR_GET_NO_NEW_PRIVS => {
            if a[1] != 0 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
                return Err(Errno::EINVAL);
            }
            Ok(st.no_new_privs.load(Ordering::Relaxed) as u64)
        }
        PR_SET_CHILD_SUBREAPER => {
            st.subreaper.store((a[1] != 0) as u32, Ordering::Relaxed);
            Ok(0)
        }
        PR_GET_CHILD_SUBREAPER => {
            let v = st.subreaper.load(Ordering::Relaxed);
            put(cx.mem(), a[1], &v.to_le_bytes())?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// `getcpu(cpu, node, cache)`: where the calling thread runs now.
pub(super) fn getcpu(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (cpu, node) = cx.p.host.getcpu()?;
    if a[0] != 0 {
        put(cx.mem(), a[0], &cpu.to_le_bytes())?;
    }
    if a[1] != 0 {
        put(cx.mem(), a[1], &node.to_le_bytes())?;
    }
    Ok(0)
}

/// `ioprio_get(which, who)` (`set` None) and `ioprio_set(which, who,
/// prio)`: for `IOPRIO_WHO_PROCESS` and this process's own threads (as
/// the scheduling calls); a process group or user is `EPERM` for
/// setting (other processes are out of the guest's reach) and this
/// process's value for getting.
pub(super) fn ioprio(cx: &mut Ctx<'_>, a: &[u64; 6], set: Option<i32>) -> R {
    const WHO_PROCESS: u64 = 1;
    const WHO_PGRP: u64 = 2;
    const WHO_USER: u64 = 3;
    let (which, who) = (a[0], a[1] as i32);
    let tid = match which {
        WHO_PROCESS if set.is_some() => sched_target(cx, who)?,
        WHO_PROCESS => sched_reader(cx, who)?,
        WHO_PGRP | WHO_USER if set.is_none() => 0,
        WHO_PGRP | WHO_USER => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    };
    cx.p.host
        .ioprio(tid, set)
        .map(|v| if set.is_some() { 0 } else { v as u64 })
}
