//! System V IPC and POSIX message queues on the host kernel: the guest's
//! objects are the host's (its IPC namespace, as under qemu-user), so a
//! guest and host programs that use the same key or queue name meet.
//!
//! Raw system calls with x86-64's kernel structures (of which only
//! `semid64_ds` differs from the guest's); the calls that wait go through
//! [`crate::signals::blocking`], so a guest signal ends them as it ends
//! a blocking `read`. Shared memory is attached with `SHM_REMAP` at the
//! address the core chose inside the guest reservation; the core's
//! `discard` of the range (an anonymous mapping over it) detaches it, and
//! a host `fork` keeps it attached in the child.

use vm_core::host::{
    Errno, IpcCtl, IpcKind, IpcPerm, IpcStat, MqAttr, MqNotify, SemBuf, SysResult, Timespec,
};

/// x86-64's `struct ipc64_perm`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Perm64 {
    key: i32,
    uid: u32,
    gid: u32,
    cuid: u32,
    cgid: u32,
    mode: u32,
    seq: u16,
    pad: u16,
    unused: [u64; 2],
}

/// x86-64's `msqid64_ds`, `semid64_ds` and `shmid64_ds` as words after
/// the permissions (the largest, `msqid64_ds`, has nine).
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Ds64 {
    perm: Perm64,
    w: [u64; 9],
}

fn perm_in(p: &Perm64) -> IpcPerm {
    IpcPerm {
        key: p.key,
        uid: p.uid,
        gid: p.gid,
        cuid: p.cuid,
        cgid: p.cgid,
        mode: p.mode,
        seq: p.seq,
    }
}

/// The host's structure as the core's.
fn stat_in(kind: IpcKind, d: &Ds64) -> IpcStat {
    let w = d.w;
    let perm = perm_in(&d.perm);
    match kind {
        // stime, rtime, ctime, cbytes, qnum, qbytes, lspid|lrpid
        IpcKind::Msg => IpcStat {
            perm,
            times: [w[0] as i64, w[1] as i64, w[2] as i64],
            counts: [w[3], w[4], w[5]],
            pids: [w[6] as u32 as i32, (w[6] >> 32) as u32 as i32],
        },
        // otime, pad, ctime, pad, nsems
        IpcKind::Sem => IpcStat {
            perm,
            times: [w[0] as i64, 0, w[2] as i64],
            counts: [w[4], 0, 0],
            pids: [0; 2],
        },
        // segsz, atime, dtime, ctime, cpid|lpid, nattch
        IpcKind::Shm => IpcStat {
            perm,
            times: [w[1] as i64, w[2] as i64, w[3] as i64],
            counts: [w[0], w[5], 0],
            pids: [w[4] as u32 as i32, (w[4] >> 32) as u32 as i32],
        },
    }
}

/// What `IPC_SET` takes, in the host's structure.
fn set_out(kind: IpcKind, st: &IpcStat) -> Ds64 {
    let mut d = Ds64::default();
    d.perm.uid = st.perm.uid;
    d.perm.gid = st.perm.gid;
    d.perm.mode = st.perm.mode;
    if kind == IpcKind::Msg {
        d.w[5] = st.counts[2];
    }
    d
}

/// `syscall(nr, args)` with the kernel's answer.
fn raw(nr: libc::c_long, a: [usize; 6]) -> SysResult<i64> {
    // SAFETY: every caller passes pointers to live buffers of the sizes
    // the call `nr` uses.
    let r = unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    if r == -1 {
        Err(crate::host::errno())
    } else {
        Ok(r)
    }
}

/// A call that may wait: ended by a guest signal (see the module doc).
fn waiting(nr: libc::c_long, a: [usize; 6]) -> SysResult<i64> {
    // SAFETY: as for `raw`.
    unsafe { crate::signals::blocking(nr, a) }
}

/// Under `--sandbox` the guest gets no System V objects: they are the
/// host's, reachable by key or id from any process of the user (another
/// program's shared memory, queues and semaphores). Every call answers
/// as a kernel without `CONFIG_SYSVIPC` does, `ENOSYS`; POSIX message
/// queues live in the host's mqueue file system, which the sandbox does
/// not allow: `mq_open` and `mq_unlink` are `EACCES`.
fn sandboxed() -> SysResult<()> {
    match crate::sandbox::get() {
        Some(_) => Err(Errno::ENOSYS),
        None => Ok(()),
    }
}

/// Is `id` the segment pvm keeps its process tree's limits in
/// ([`crate::tree`])? The guest never reaches it: for the guest it does
/// not exist (`EINVAL`, as for an id nobody uses).
fn own(kind: IpcKind, id: i64) -> bool {
    kind == IpcKind::Shm && crate::tree::id().is_some_and(|t| i64::from(t) == id)
}

pub fn get(kind: IpcKind, key: i32, arg: u64, flags: i32) -> SysResult<i32> {
    sandboxed()?;
    let (k, f) = (key as usize, flags as usize);
    let r = match kind {
        IpcKind::Msg => raw(libc::SYS_msgget, [k, f, 0, 0, 0, 0]),
        IpcKind::Sem => raw(libc::SYS_semget, [k, arg as usize, f, 0, 0, 0]),
        IpcKind::Shm => raw(libc::SYS_shmget, [k, arg as usize, f, 0, 0, 0]),
    };
    r.map(|id| id as i32)
}

pub fn ctl(kind: IpcKind, id: i32, semnum: i32, cmd: i32, mut arg: IpcCtl<'_>) -> SysResult<i64> {
    sandboxed()?;
    let mut ds = Ds64::default();
    // Pointers the kernel may write through come from `&mut`s.
    let ptr: usize = match &mut arg {
        IpcCtl::None => 0,
        IpcCtl::Val(v) => *v as usize,
        IpcCtl::Stat(_) => &raw mut ds as usize,
        IpcCtl::Set(st) => {
            ds = set_out(kind, st);
            &raw mut ds as usize
        }
        IpcCtl::Values(v) => v.as_mut_ptr() as usize,
        // The kernel writes one `*info` structure, which the core sized.
        IpcCtl::Info(b) => b.as_mut_ptr() as usize,
    };
    // SHM_STAT and SHM_STAT_ANY take an index and answer with an id.
    let by_index = kind == IpcKind::Shm && matches!(cmd, 13 | 15);
    if !by_index && own(kind, id.into()) {
        return Err(Errno::EINVAL);
    }
    let r = ctl_raw(kind, id, semnum, cmd, ptr)?;
    if by_index && own(kind, r) {
        return Err(Errno::EINVAL);
    }
    if let IpcCtl::Stat(st) = arg {
        *st = stat_in(kind, &ds);
    }
    Ok(r)
}

fn ctl_raw(kind: IpcKind, id: i32, semnum: i32, cmd: i32, ptr: usize) -> SysResult<i64> {
    let (i, c) = (id as usize, cmd as usize);
    match kind {
        IpcKind::Msg => raw(libc::SYS_msgctl, [i, c, ptr, 0, 0, 0]),
        IpcKind::Sem => raw(libc::SYS_semctl, [i, semnum as usize, c, ptr, 0, 0]),
        IpcKind::Shm => raw(libc::SYS_shmctl, [i, c, ptr, 0, 0, 0]),
    }
}

pub fn msgsnd(id: i32, msg: &[u8], flags: i32) -> SysResult<()> {
    sandboxed()?;
    let n = msg.len().saturating_sub(8);
    let a = [id as usize, msg.as_ptr() as usize, n, flags as usize, 0, 0];
    waiting(libc::SYS_msgsnd, a).map(|_| ())
}

pub fn msgrcv(id: i32, buf: &mut [u8], typ: i64, flags: i32) -> SysResult<usize> {
    sandboxed()?;
    let n = buf.len().saturating_sub(8);
    let a = [
        id as usize,
        buf.as_mut_ptr() as usize,
        n,
        typ as usize,
        flags as usize,
        0,
    ];
    waiting(libc::SYS_msgrcv, a).map(|n| n as usize)
}

pub fn semop(id: i32, ops: &[SemBuf], timeout: Option<Timespec>) -> SysResult<()> {
    sandboxed()?;
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.sec,
        tv_nsec: t.nsec,
    });
    let tp = ts
        .as_ref()
        .map_or(0, |t| t as *const libc::timespec as usize);
    let a = [id as usize, ops.as_ptr() as usize, ops.len(), tp, 0, 0];
    waiting(libc::SYS_semtimedop, a).map(|_| ())
}

pub fn shm_attach(id: i32, addr: *mut u8, _len: usize, readonly: bool) -> SysResult<()> {
    sandboxed()?;
    if own(IpcKind::Shm, id.into()) {
        return Err(Errno::EINVAL);
    }
    let mut flags = libc::SHM_REMAP;
    if readonly {
        flags |= libc::SHM_RDONLY;
    }
    let at = raw(
        libc::SYS_shmat,
        [id as usize, addr as usize, flags as usize, 0, 0, 0],
    )?;
    if at as usize != addr as usize {
        // Not where asked (with SHM_REMAP and an address it never is):
        // detach it again.
        let _ = raw(libc::SYS_shmdt, [at as usize, 0, 0, 0, 0, 0]);
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// The name as a C string.
fn cname(name: &[u8]) -> SysResult<std::ffi::CString> {
    std::ffi::CString::new(name).map_err(|_| Errno::EINVAL)
}

fn attr_out(a: &MqAttr) -> libc::mq_attr {
    // SAFETY: a plain C struct; every field set below or zero.
    let mut m: libc::mq_attr = unsafe { std::mem::zeroed() };
    m.mq_flags = a.flags;
    m.mq_maxmsg = a.maxmsg;
    m.mq_msgsize = a.msgsize;
    m.mq_curmsgs = a.curmsgs;
    m
}

pub fn mq_open(name: &[u8], flags: i32, mode: u32, attr: Option<&MqAttr>) -> SysResult<i32> {
    if crate::sandbox::get().is_some() {
        return Err(Errno::EACCES);
    }
    let n = cname(name)?;
    let m = attr.map(attr_out);
    let ap = m.as_ref().map_or(0, |m| m as *const libc::mq_attr as usize);
    let a = [n.as_ptr() as usize, flags as usize, mode as usize, ap, 0, 0];
    raw(libc::SYS_mq_open, a).map(|fd| fd as i32)
}

pub fn mq_unlink(name: &[u8]) -> SysResult<()> {
    if crate::sandbox::get().is_some() {
        return Err(Errno::EACCES);
    }
    let n = cname(name)?;
    raw(libc::SYS_mq_unlink, [n.as_ptr() as usize, 0, 0, 0, 0, 0]).map(|_| ())
}

fn ts(t: Option<Timespec>) -> Option<libc::timespec> {
    t.map(|t| libc::timespec {
        tv_sec: t.sec,
        tv_nsec: t.nsec,
    })
}

pub fn mq_timedsend(fd: i32, msg: &[u8], prio: u32, deadline: Option<Timespec>) -> SysResult<()> {
    let t = ts(deadline);
    let tp = t
        .as_ref()
        .map_or(0, |t| t as *const libc::timespec as usize);
    let a = [
        fd as usize,
        msg.as_ptr() as usize,
        msg.len(),
        prio as usize,
        tp,
        0,
    ];
    waiting(libc::SYS_mq_timedsend, a).map(|_| ())
}

pub fn mq_timedreceive(
    fd: i32,
    buf: &mut [u8],
    deadline: Option<Timespec>,
) -> SysResult<(usize, u32)> {
    let t = ts(deadline);
    let tp = t
        .as_ref()
        .map_or(0, |t| t as *const libc::timespec as usize);
    let mut prio = 0u32;
    let a = [
        fd as usize,
        buf.as_mut_ptr() as usize,
        buf.len(),
        &raw mut prio as usize,
        tp,
        0,
    ];
    let n = waiting(libc::SYS_mq_timedreceive, a)?;
    Ok((n as usize, prio))
}

pub fn mq_notify(fd: i32, notice: Option<&MqNotify>) -> SysResult<()> {
    let Some(n) = notice else {
        return raw(libc::SYS_mq_notify, [fd as usize, 0, 0, 0, 0, 0]).map(|_| ());
    };
    let cookie = n.cookie;
    // SAFETY: a plain C struct, filled below.
    let mut ev: libc::sigevent = unsafe { std::mem::zeroed() };
    ev.sigev_notify = n.notify;
    ev.sigev_signo = n.signo;
    ev.sigev_value = libc::sigval {
        // SIGEV_THREAD: the kernel reads the cookie here, during the call.
        sival_ptr: if n.notify == libc::SIGEV_THREAD {
            cookie.as_ptr() as *mut libc::c_void
        } else {
            n.value as usize as *mut libc::c_void
        },
    };
    raw(
        libc::SYS_mq_notify,
        [fd as usize, &raw const ev as usize, 0, 0, 0, 0],
    )
    .map(|_| ())
}

pub fn mq_getsetattr(fd: i32, new: Option<&MqAttr>) -> SysResult<MqAttr> {
    let m = new.map(attr_out);
    let np = m.as_ref().map_or(0, |m| m as *const libc::mq_attr as usize);
    // SAFETY: a plain C struct the kernel fills.
    let mut old: libc::mq_attr = unsafe { std::mem::zeroed() };
    let a = [fd as usize, np, &raw mut old as usize, 0, 0, 0];
    raw(libc::SYS_mq_getsetattr, a)?;
    Ok(MqAttr {
        flags: old.mq_flags,
        maxmsg: old.mq_maxmsg,
        msgsize: old.mq_msgsize,
        curmsgs: old.mq_curmsgs,
    })
}
