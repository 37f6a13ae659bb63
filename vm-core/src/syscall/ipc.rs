//! System V IPC (`msg*`, `sem*`, `shm*`) and POSIX message queues
//! (`mq_*`), on the host's IPC objects ([`crate::host::HostOs::ipc_get`]
//! and its neighbours; on Linux the host kernel's, as under qemu-user).
//!
//! The core reads and writes every guest structure through the checked
//! accessors (a pointer outside the guest's memory is `EFAULT`), encodes
//! the status structures in the guest's layout ([`crate::abi`]), and
//! places shared memory itself: `shmat` picks (or checks) a range of the
//! guest's address space as `mmap` does, and the host attaches the
//! segment there, inside the reservation, never elsewhere. The mapping
//! list remembers each attachment for `shmdt`; a host fork keeps them
//! (the host's own mapping is shared), `execve` and exit drop them with
//! the address space, and an `munmap` or `mmap` over one detaches it.
//!
//! Where guest threads take turns on one host thread (`--threads one`,
//! the bare-metal host; see [`crate::sched`]) a wait must not block the
//! others: the call is made so that it cannot wait (`IPC_NOWAIT`, a
//! deadline long past) and, where it would have waited, the thread parks
//! until the next look ([`Block::Poll`]) and the call runs again, its
//! timeout kept across looks ([`green`]). A `semop` parked so is not
//! counted by the host in `GETNCNT`/`GETZCNT`: the thread records which
//! semaphore it waits on (the first operation that cannot go on, as
//! Linux counts it) and `semctl` adds the waits of the calling process's
//! threads (`green_sem_waiters`) and those the other guest processes
//! published ([`crate::host::HostOs::publish_sem_waits`], each time one
//! of their threads parks or stops waiting).
//!
//! A received message comes into a buffer of pvm's own and then goes to
//! the guest's by a guarded store, as the kernel dequeues it before it
//! copies it out (see `msgrcv`).
//!
//! Where pvm differs from Linux: a `msgrcv` or `mq_timedreceive` into a
//! buffer that is not writable fails with `EFAULT` before it takes a
//! message (Linux takes the message off the queue, then fails to store
//! it and loses it); qemu-user does the same as pvm.

use super::abi::*;
use super::{Ctx, R, get, put, stage_buffer};
use crate::host::{Errno, IpcCtl, IpcKind, IpcStat, MqAttr, MqNotify, SemBuf, SysResult, Timespec};
use crate::memory::{Access, PAGE_SIZE, Perm, page_up};
use crate::process::SemWait;
use crate::ptimer::{SIGEV_THREAD, SIGEVENT_SIZE};
use crate::sched::{Block, IO_TICK};
use alloc::vec;
use alloc::vec::Vec;

/// Longest message `msgsnd` takes (`MSGMAX` can be raised to `INT_MAX`):
/// a larger size is `EINVAL` before the guest's text is read.
const MSG_SIZE_MAX: u64 = i32::MAX as u64;

fn kind_of(n: u64) -> IpcKind {
    use super::nr::*;
    match n {
        MSGGET | MSGCTL => IpcKind::Msg,
        SEMGET | SEMCTL => IpcKind::Sem,
        _ => IpcKind::Shm,
    }
}

/// `msgget`, `semget`, `shmget`.
pub(super) fn get_call(cx: &mut Ctx<'_>, a: &[u64; 6], n: u64) -> R {
    let kind = kind_of(n);
    let arg = match kind {
        IpcKind::Msg => 0,
        IpcKind::Sem => a[1] as i32 as i64 as u64,
        IpcKind::Shm => a[1],
    };
    if kind == IpcKind::Sem && (arg as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let flags = if kind == IpcKind::Msg { a[1] } else { a[2] } as i32;
    cx.p.host
        .ipc_get(kind, a[0] as i32, arg, flags)
        .map(|id| id as u64)
}

/// Does `*ctl` command `cmd` fill in a status structure?
fn is_stat(kind: IpcKind, cmd: i32) -> bool {
    cmd == IPC_STAT
        || match kind {
            IpcKind::Msg => matches!(cmd, MSG_STAT | MSG_STAT_ANY),
            IpcKind::Sem => matches!(cmd, SEM_STAT | SEM_STAT_ANY),
            IpcKind::Shm => matches!(cmd, SHM_STAT | SHM_STAT_ANY),
        }
}

/// The size of the `*info` structure command `cmd` fills, if it is one.
fn info_size(kind: IpcKind, cmd: i32) -> Option<usize> {
    match (kind, cmd) {
        (IpcKind::Msg, IPC_INFO | MSG_INFO) => Some(MSGINFO_SIZE),
        (IpcKind::Sem, IPC_INFO | SEM_INFO) => Some(SEMINFO_SIZE),
        (IpcKind::Shm, IPC_INFO) => Some(SHMINFO64_SIZE),
        (IpcKind::Shm, SHM_INFO) => Some(SHM_INFO_SIZE),
        _ => None,
    }
}

/// The status of object `id` (for the number of semaphores and the size
/// of a segment).
fn stat(cx: &Ctx<'_>, kind: IpcKind, id: i32) -> SysResult<IpcStat> {
    let mut st = IpcStat::default();
    cx.p.host
        .ipc_ctl(kind, id, 0, IPC_STAT, IpcCtl::Stat(&mut st))?;
    Ok(st)
}

/// `msgctl`, `semctl`, `shmctl`.
pub(super) fn ctl_call(cx: &mut Ctx<'_>, a: &[u64; 6], n: u64) -> R {
    let kind = kind_of(n);
    let id = a[0] as i32;
    let (semnum, cmd, ptr) = match kind {
        IpcKind::Sem => (a[1] as i32, a[2] as i32, a[3]),
        _ => (0, a[1] as i32, a[2]),
    };
    if id < 0 || cmd < 0 {
        return Err(Errno::EINVAL);
    }
    let host = cx.p.host;
    let mem = cx.mem();
    if is_stat(kind, cmd) {
        let mut st = IpcStat::default();
        let r = host.ipc_ctl(kind, id, semnum, cmd, IpcCtl::Stat(&mut st))?;
        let b = encode_ipc_ds(kind, &st);
        put(mem, ptr, &b[..ipc_ds_size(kind)])?;
        return Ok(r as u64);
    }
    if let Some(size) = info_size(kind, cmd) {
        let mut b = vec![0u8; size];
        let r = host.ipc_ctl(kind, id, semnum, cmd, IpcCtl::Info(&mut b))?;
        put(mem, ptr, &b)?;
        return Ok(r as u64);
    }
    let arg = match (kind, cmd) {
        (_, IPC_RMID) => IpcCtl::None,
        (_, IPC_SET) => {
            let b = super::read_vec(mem, ptr, ipc_ds_size(kind))?;
            let st = decode_ipc_set(kind, &b);
            return host
                .ipc_ctl(kind, id, semnum, cmd, IpcCtl::Set(&st))
                .map(|r| r as u64);
        }
        (IpcKind::Sem, GETNCNT | GETZCNT) => {
            let r = host.ipc_ctl(kind, id, semnum, cmd, IpcCtl::None)?;
            let wait = SemWait {
                id,
                num: semnum as usize,
                zero: cmd == GETZCNT,
            };
            let others = host.others_sem_waiters(wait);
            return Ok(r as u64 + green_sem_waiters(cx, wait) + others);
        }
        (IpcKind::Sem, GETPID | GETVAL) => IpcCtl::None,
        // semctl's fourth argument is a `union semun`, passed by value.
        (IpcKind::Sem, SETVAL) => IpcCtl::Val(ptr as i32),
        (IpcKind::Sem, GETALL | SETALL) => {
            let nsems = stat(cx, kind, id)?.counts[0] as usize;
            let mut v = vec![0u16; nsems];
            if cmd == SETALL {
                let b = super::read_vec(mem, ptr, 2 * nsems)?;
                for (i, x) in v.iter_mut().enumerate() {
                    *x = u16::from_le_bytes([b[2 * i], b[2 * i + 1]]);
                }
            } else {
                // Linux fails before taking the values when the buffer
                // is not writable.
                super::guest_mut(mem, ptr, 2 * nsems)?;
            }
            let r = host.ipc_ctl(kind, id, semnum, cmd, IpcCtl::Values(&mut v))?;
            if cmd == GETALL {
                let b: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                put(mem, ptr, &b)?;
            }
            return Ok(r as u64);
        }
        (IpcKind::Shm, SHM_LOCK | SHM_UNLOCK) => IpcCtl::None,
        _ => return Err(Errno::EINVAL),
    };
    host.ipc_ctl(kind, id, semnum, cmd, arg).map(|r| r as u64)
}

/// The green-thread wait (see the module documentation): `None` where
/// threads have host threads of their own (make the blocking call);
/// else `f`'s answer made without waiting, or, where `would_wait` says it
/// would have waited, `EINTR` for a deliverable signal, `timed_out` once
/// `timeout` (relative, from the first look) has passed, or a park until
/// the next look.
fn green<T>(
    cx: &mut Ctx<'_>,
    timeout: Option<Timespec>,
    timed_out: Errno,
    f: impl FnOnce(&Ctx<'_>) -> SysResult<T>,
    would_wait: impl Fn(Errno) -> bool,
) -> Option<SysResult<T>> {
    if !cx.p.green_others() {
        cx.t.poll_deadline = None;
        return None;
    }
    let pc = cx.t.cpu.pc;
    let now = super::event::mono_ns(cx);
    let deadline = match cx.t.poll_deadline.take() {
        Some((at, d)) if at == pc => Some(d),
        _ => timeout.map(|t| {
            let ns = (t.sec.max(0) as u64)
                .saturating_mul(1_000_000_000)
                .saturating_add(t.nsec.max(0) as u64);
            now.saturating_add(ns)
        }),
    };
    match f(cx) {
        Err(e) if would_wait(e) => {
            if super::event::deliverable(cx) || cx.p.ending() {
                return Some(Err(Errno::EINTR));
            }
            if deadline.is_some_and(|d| now >= d) {
                return Some(Err(timed_out));
            }
            let mut recheck = now + IO_TICK;
            if let Some(d) = deadline {
                cx.t.poll_deadline = Some((pc, d));
                recheck = recheck.min(d);
            }
            cx.t.block = Some(Block::Poll { recheck });
            Some(Err(Errno::PARK))
        }
        r => Some(r),
    }
}

/// `msgsnd(id, msgp, msgsz, flags)`.
pub(super) fn msgsnd(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (id, ptr, size, flags) = (a[0] as i32, a[1], a[2], a[3] as i32);
    if id < 0 || size > MSG_SIZE_MAX {
        return Err(Errno::EINVAL);
    }
    let ty = i64::from_le_bytes(get::<8>(cx.mem(), ptr)?);
    if ty < 1 {
        return Err(Errno::EINVAL);
    }
    // Straight from the guest's memory: no copy the size of what the
    // guest claims.
    let p = cx.p;
    let msg = super::guest_ref(&p.mem, ptr, 8 + size as usize)?;
    let nowait = flags & IPC_NOWAIT != 0;
    let quick = |cx: &Ctx<'_>| cx.p.host.msgsnd(id, msg, flags | IPC_NOWAIT);
    if let Some(r) = green(cx, None, Errno::EAGAIN, quick, |e| {
        e == Errno::EAGAIN && !nowait
    }) {
        return r.map(|()| 0);
    }
    p.host.msgsnd(id, msg, flags).map(|()| 0)
}

/// `msgrcv(id, msgp, msgsz, msgtyp, flags)`, into a buffer of pvm's own
/// and then into the guest's (as much of it as is writable, at most
/// `msgsz` bytes of text). Not straight into the guest's buffer: the
/// kernel takes the message off the queue before it copies it out, so a
/// copy that failed because another thread code-protected a page of the
/// buffer meanwhile (see [`crate::memory::GuestMemory::host_write`])
/// could not be made again without losing the message.
pub(super) fn msgrcv(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (id, ptr, size, typ, flags) = (a[0] as i32, a[1], a[2], a[3] as i64, a[4] as i32);
    if id < 0 || size > i64::MAX as u64 {
        return Err(Errno::EINVAL);
    }
    let want = size.saturating_add(8);
    let n = super::usable(cx.mem(), ptr, want, Access::Write)?;
    if n < 8 {
        return Err(Errno::EFAULT);
    }
    let mut stage = stage_buffer(n.min(msg_room(cx, id)))?;
    let p = cx.p;
    let nowait = flags & IPC_NOWAIT != 0;
    let buf = &mut stage[..];
    let quick = |cx: &Ctx<'_>| cx.p.host.msgrcv(id, buf, typ, flags | IPC_NOWAIT);
    let ww = |e| e == Errno::ENOMSG && !nowait;
    let got = match green(cx, None, Errno::ENOMSG, quick, ww) {
        Some(r) => r?,
        None => p.host.msgrcv(id, &mut stage, typ, flags)?,
    };
    // The type and the text; a page gone meanwhile loses the message, as
    // on Linux.
    put(cx.mem(), ptr, &stage[..(8 + got).min(stage.len())])?;
    Ok(got as u64)
}

/// The longest `struct msgbuf` (type and text) `msgrcv` can take from
/// queue `id`: no message is longer than the queue's byte limit was when
/// it was sent (`msgsnd` refuses it), nor than the bytes queued now; so
/// the larger of the two, unless the limit is raised between this look
/// and the receive and a longer message sent meanwhile (then the
/// message's end is cut, or `E2BIG`, as if the guest's buffer were that
/// size). A queue pvm cannot look at gives its error from `msgrcv`.
fn msg_room(cx: &Ctx<'_>, id: i32) -> usize {
    let mut st = IpcStat::default();
    match cx
        .p
        .host
        .ipc_ctl(IpcKind::Msg, id, 0, IPC_STAT, IpcCtl::Stat(&mut st))
    {
        Ok(_) => 8usize.saturating_add(st.counts[0].max(st.counts[2]) as usize),
        Err(_) => 8,
    }
}

/// `semop(id, sops, nsops)` and `semtimedop(..., timeout)`.
pub(super) fn semtimedop(cx: &mut Ctx<'_>, a: &[u64; 6], timed: bool) -> R {
    let (id, ptr, nsops) = (a[0] as i32, a[1], a[2]);
    let timeout = match timed && a[3] != 0 {
        true => Some(read_ts(cx, a[3])?),
        false => None,
    };
    if id < 0 || nsops < 1 || nsops > u32::MAX as u64 {
        return Err(Errno::EINVAL);
    }
    if nsops > 64 {
        // Linux checks the host's limit before reading the operations.
        let mut info = [0u8; SEMINFO_SIZE];
        cx.p.host
            .ipc_ctl(IpcKind::Sem, 0, 0, IPC_INFO, IpcCtl::Info(&mut info))?;
        let max = i32::from_le_bytes(
            info[SEMINFO_SEMOPM..SEMINFO_SEMOPM + 4]
                .try_into()
                .unwrap_or([0; 4]),
        );
        if nsops > max.max(0) as u64 {
            return Err(Errno::E2BIG);
        }
    }
    let b = super::read_vec(cx.mem(), ptr, nsops as usize * SEMBUF_SIZE)?;
    let ops: Vec<SemBuf> = b
        .chunks_exact(SEMBUF_SIZE)
        .map(|c| SemBuf {
            num: u16::from_le_bytes([c[0], c[1]]),
            op: i16::from_le_bytes([c[2], c[3]]),
            flg: i16::from_le_bytes([c[4], c[5]]),
        })
        .collect();
    let nowait = IPC_NOWAIT as i16;
    let asked = ops.iter().any(|o| o.flg & nowait != 0);
    let quick_ops: Vec<SemBuf> = ops
        .iter()
        .map(|o| SemBuf {
            flg: o.flg | nowait,
            ..*o
        })
        .collect();
    let quick = |cx: &Ctx<'_>| cx.p.host.semop(id, &quick_ops, None);
    let ww = |e| e == Errno::EAGAIN && !asked;
    if let Some(r) = green(cx, timeout, Errno::EAGAIN, quick, ww) {
        // A parked call is counted where it waits (`green_sem_waiters`).
        let wait = match r {
            Err(Errno::PARK) => sem_waits_on(cx, id, &ops),
            _ => None,
        };
        set_sem_wait(cx, wait);
        return r.map(|()| 0);
    }
    // Blocking in the host, which counts the call itself.
    set_sem_wait(cx, None);
    cx.p.host.semop(id, &ops, timeout).map(|()| 0)
}

/// Record where this thread's parked `semop` waits (`None`: it does
/// not); on a change, publish the process's parked waits for the other
/// processes ([`crate::host::HostOs::publish_sem_waits`]).
fn set_sem_wait(cx: &Ctx<'_>, wait: Option<SemWait>) {
    let Some(sh) = &cx.t.shared else {
        return;
    };
    if core::mem::replace(&mut *sh.sem_wait.lock(), wait) == wait {
        return;
    }
    let mut waits: Vec<(SemWait, u32)> = Vec::new();
    for t in cx.p.threads.lock().iter() {
        let Some(w) = *t.sem_wait.lock() else {
            continue;
        };
        match waits.iter_mut().find(|(x, _)| *x == w) {
            Some((_, n)) => *n += 1,
            None => waits.push((w, 1)),
        }
    }
    cx.p.host.publish_sem_waits(&waits);
}

/// Where a `semop` of `ops` on set `id` that would wait waits, by the
/// set's values now ([`crate::ipc::sem::waits_on`]); `None` when the
/// values cannot be read (no read permission) or it would not wait.
fn sem_waits_on(cx: &Ctx<'_>, id: i32, ops: &[SemBuf]) -> Option<SemWait> {
    let nsems = stat(cx, IpcKind::Sem, id).ok()?.counts[0] as usize;
    let mut vals = vec![0u16; nsems];
    cx.p.host
        .ipc_ctl(IpcKind::Sem, id, 0, GETALL, IpcCtl::Values(&mut vals))
        .ok()?;
    let (num, zero) = crate::ipc::sem::waits_on(&vals, ops)?;
    Some(SemWait { id, num, zero })
}

/// How many threads of this process wait as `wait` says in a `semop`
/// parked while they take turns on one host thread: the host counts
/// only the calls that block in it, so `GETNCNT`/`GETZCNT` add these
/// (and the other processes' as they published them).
fn green_sem_waiters(cx: &Ctx<'_>, wait: SemWait) -> u64 {
    cx.p.threads
        .lock()
        .iter()
        .filter(|t| *t.sem_wait.lock() == Some(wait))
        .count() as u64
}

/// `shmat(id, addr, flags)`: the segment at `addr` (rounded down with
/// `SHM_RND`), or where `mmap` would place it; the guest address.
pub(super) fn shmat(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (id, mut addr, flags) = (a[0] as i32, a[1], a[2] as i32);
    if id < 0 {
        return Err(Errno::EINVAL);
    }
    if !addr.is_multiple_of(SHMLBA) {
        if flags & SHM_RND != 0 && addr >= SHMLBA {
            addr &= !(SHMLBA - 1);
        } else {
            return Err(Errno::EINVAL);
        }
    } else if addr == 0 && flags & SHM_REMAP != 0 {
        return Err(Errno::EINVAL);
    }
    let size = stat(cx, IpcKind::Shm, id)?.counts[0];
    let mem = cx.mem();
    let len = page_up(size);
    if len == 0 || len > mem.size() {
        return Err(Errno::ENOMEM);
    }
    let readonly = flags & SHM_RDONLY != 0;
    let mut perm = Perm::READ;
    if !readonly {
        perm |= Perm::WRITE;
    }
    if flags & SHM_EXEC != 0 {
        perm |= Perm::EXEC;
    }
    let target = if addr != 0 {
        let end = addr.checked_add(len).ok_or(Errno::EINVAL)?;
        if flags & SHM_REMAP == 0 && mem.maps.lock().overlaps(addr, end) {
            return Err(Errno::EINVAL);
        }
        // Past the guest's address space: what Linux answers past the
        // task size.
        if end > mem.size() {
            return Err(Errno::ENOMEM);
        }
        addr
    } else {
        mem.maps.lock().find_free(len).ok_or(Errno::ENOMEM)?
    };
    {
        let m = mem.maps.lock();
        let replaced = m.bytes_where(target, target + len, |_, _, _| true);
        if !m.cap_allows(len - replaced) {
            drop(m);
            cx.p.hit_limit(crate::limits::Limit::Memory);
            return Err(Errno::ENOMEM);
        }
        if !m.may_expand(len - replaced, false) {
            return Err(Errno::ENOMEM);
        }
    }
    mem.map(target, len, perm, true)?;
    // `target + len` lies inside the reservation (checked above).
    let host_addr = mem.host_base().wrapping_add(target as usize);
    if let Err(e) = cx.p.host.shm_attach(id, host_addr, len as usize, readonly) {
        let _ = mem.unmap(target, len);
        return Err(e);
    }
    let mut m = mem.maps.lock();
    m.mark_shared(target, target + len);
    m.shm.insert(target, (target + len, target));
    m.clear_name(target, target + len);
    Ok(target)
}

/// `shmdt(addr)`: the attachment that starts at `addr`.
pub(super) fn shmdt(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let addr = a[0];
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let mem = cx.mem();
    // Every part still left of the attachment made at `addr`.
    let parts: Vec<(u64, u64)> = mem
        .maps
        .lock()
        .shm
        .iter()
        .filter(|(_, (_, at))| *at == addr)
        .map(|(s, (e, _))| (*s, *e))
        .collect();
    if parts.is_empty() {
        return Err(Errno::EINVAL);
    }
    for (s, e) in parts {
        mem.unmap(s, e - s)?;
    }
    Ok(0)
}

/// The guest's message queue name at `addr` (`EFAULT`, `ENAMETOOLONG`).
fn mq_name(cx: &Ctx<'_>, addr: u64) -> SysResult<Vec<u8>> {
    cx.path(addr)
}

/// A guest `struct mq_attr` at `addr`, if `addr` is not NULL.
fn read_attr(cx: &Ctx<'_>, addr: u64) -> SysResult<Option<MqAttr>> {
    match addr {
        0 => Ok(None),
        _ => Ok(Some(decode_mq_attr(&get::<MQ_ATTR_SIZE>(cx.mem(), addr)?))),
    }
}

/// A guest `struct timespec`, as it is (the host checks it where Linux
/// does).
fn read_ts(cx: &Ctx<'_>, addr: u64) -> SysResult<Timespec> {
    Ok(decode_timespec(&get::<16>(cx.mem(), addr)?))
}

/// An absolute timeout at `addr`, if `addr` is not NULL.
fn read_deadline(cx: &Ctx<'_>, addr: u64) -> SysResult<Option<Timespec>> {
    match addr {
        0 => Ok(None),
        _ => Ok(Some(read_ts(cx, addr)?)),
    }
}

/// `mq_open(name, flags, mode, attr)`.
pub(super) fn mq_open(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let name = mq_name(cx, a[0])?;
    let attr = read_attr(cx, a[3])?;
    let fd =
        cx.p.host
            .mq_open(&name, a[1] as i32, a[2] as u32, attr.as_ref())?;
    Ok(fd as u64)
}

/// `mq_unlink(name)`.
pub(super) fn mq_unlink(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let name = mq_name(cx, a[0])?;
    cx.p.host.mq_unlink(&name).map(|()| 0)
}

/// When the guest's buffer of `len` bytes cannot be used: the error
/// Linux finds first (a bad descriptor, a message size the queue refuses),
/// else `EFAULT`.
fn bad_buffer(cx: &Ctx<'_>, fd: i32, len: u64, send: bool) -> Errno {
    match cx.p.host.mq_getsetattr(fd, None) {
        Err(e) => e,
        Ok(at) if send && len > at.msgsize as u64 => Errno::EMSGSIZE,
        Ok(at) if !send && len < at.msgsize as u64 => Errno::EMSGSIZE,
        Ok(_) => Errno::EFAULT,
    }
}

/// Has the absolute `CLOCK_REALTIME` deadline passed?
fn passed(p: &crate::process::Process, deadline: Option<Timespec>) -> bool {
    let now = p.host.clock_gettime(CLOCK_REALTIME).unwrap_or_default();
    deadline.is_some_and(|d| now >= d)
}

/// The deadline of a look that must not wait: the call's own once it has
/// passed (Linux then still checks its argument and the queue), else one
/// long past.
fn quick_deadline(cx: &Ctx<'_>, deadline: Option<Timespec>) -> Timespec {
    match deadline {
        Some(d) if passed(cx.p, deadline) => d,
        _ => Timespec::default(),
    }
}

/// `mq_timedsend(fd, msg, len, prio, deadline)`.
pub(super) fn mq_timedsend(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (fd, ptr, len, prio) = (a[0] as i32, a[1], a[2], a[3]);
    let deadline = read_deadline(cx, a[4])?;
    if prio > u32::MAX as u64 {
        return Err(Errno::EINVAL);
    }
    let p = cx.p;
    let msg = match super::guest_ref(&p.mem, ptr, len as usize) {
        Ok(m) if len <= MSG_SIZE_MAX => m,
        _ => return Err(bad_buffer(cx, fd, len, true)),
    };
    let quick = |cx: &Ctx<'_>| {
        let d = quick_deadline(cx, deadline);
        cx.p.host.mq_timedsend(fd, msg, prio as u32, Some(d))
    };
    if let Some(r) = green(cx, None, Errno::ETIMEDOUT, quick, |e| {
        e == Errno::ETIMEDOUT && !passed(p, deadline)
    }) {
        return r.map(|()| 0);
    }
    p.host
        .mq_timedsend(fd, msg, prio as u32, deadline)
        .map(|()| 0)
}

/// `mq_timedreceive(fd, buf, len, prio_ptr, deadline)`, into a buffer
/// of pvm's own and then into the guest's, for the reason `msgrcv` says.
pub(super) fn mq_timedreceive(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let (fd, ptr, len, prio_ptr) = (a[0] as i32, a[1], a[2], a[3]);
    let deadline = read_deadline(cx, a[4])?;
    let p = cx.p;
    if len > MSG_SIZE_MAX || p.mem.check(ptr, len, Access::Write).is_err() {
        return Err(bad_buffer(cx, fd, len, false));
    }
    // A message is at most the queue's `mq_msgsize` (a shorter buffer is
    // `EMSGSIZE`, which the host gives for the guest's length).
    let room = match p.host.mq_getsetattr(fd, None) {
        Ok(attr) if (attr.msgsize as u64) < len => attr.msgsize as u64,
        _ => len,
    };
    let mut stage = stage_buffer(room as usize)?;
    let buf = &mut stage[..];
    let quick = |cx: &Ctx<'_>| {
        let d = quick_deadline(cx, deadline);
        cx.p.host.mq_timedreceive(fd, buf, Some(d))
    };
    let ww = |e| e == Errno::ETIMEDOUT && !passed(p, deadline);
    let (n, prio) = match green(cx, None, Errno::ETIMEDOUT, quick, ww) {
        Some(r) => r?,
        None => p.host.mq_timedreceive(fd, &mut stage, deadline)?,
    };
    put(cx.mem(), ptr, &stage[..n.min(stage.len())])?;
    if prio_ptr != 0 {
        put(cx.mem(), prio_ptr, &prio.to_le_bytes())?;
    }
    Ok(n as u64)
}

/// `mq_notify(fd, sigevent)`.
pub(super) fn mq_notify(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let fd = a[0] as i32;
    if a[1] == 0 {
        return cx.p.host.mq_notify(fd, None).map(|()| 0);
    }
    let b = get::<SIGEVENT_SIZE>(cx.mem(), a[1])?;
    let value = u64::from_le_bytes(b[0..8].try_into().unwrap_or([0; 8]));
    let signo = i32::from_le_bytes(b[8..12].try_into().unwrap_or([0; 4]));
    let notify = i32::from_le_bytes(b[12..16].try_into().unwrap_or([0; 4]));
    let mut cookie = [0u8; NOTIFY_COOKIE_LEN];
    if notify == SIGEV_THREAD {
        // The kernel reads the cookie the value points to (glibc's
        // helper thread gets it back from the netlink socket).
        cookie = get::<NOTIFY_COOKIE_LEN>(cx.mem(), value)?;
    }
    let n = MqNotify {
        notify,
        signo,
        value,
        cookie,
    };
    cx.p.host.mq_notify(fd, Some(&n)).map(|()| 0)
}

/// `mq_getsetattr(fd, new, old)`.
pub(super) fn mq_getsetattr(cx: &mut Ctx<'_>, a: &[u64; 6]) -> R {
    let new = read_attr(cx, a[1])?;
    if new.is_some_and(|n| n.flags & !(O_NONBLOCK as i64) != 0) {
        return Err(Errno::EINVAL);
    }
    let old = cx.p.host.mq_getsetattr(a[0] as i32, new.as_ref())?;
    if a[2] != 0 {
        put(cx.mem(), a[2], &encode_mq_attr(&old))?;
    }
    Ok(0)
}
