//! System V IPC and POSIX message queues on the unikernel: the machine's
//! one IPC namespace is the core's ([`vm_core::ipc::Ipc`], which keeps
//! the objects and Linux's rules); this module gives it what it needs of
//! a kernel ([`Env`]: the calling process, the clocks, waits through
//! [`BareMetal::block`], a segment's memory from [`crate::memory`],
//! `mq_notify`'s signals through the process table) and keeps the
//! per-process side: each process's shared memory attachments
//! ([`Attachment`], in [`Proc::shm`]), so that the segment's count of
//! attachments follows `shmat`, `shmdt` and any unmap of the range, a
//! fork's copy of the range (the core shares it as a `MAP_SHARED` range,
//! [`BareMetal::shm_forked`]), `mremap` moving it ([`BareMetal::shm_moved`]),
//! and the end of an address space (`execve`,
//! exit: [`BareMetal::shm_unmapped`]). `SEM_UNDO` adjustments are applied
//! when a process ends ([`crate::procs::end`]). A message queue
//! descriptor is an object of the process's descriptor table
//! ([`host_baremetal::fs::MqDesc`]).

use crate::host::BareMetal;
use crate::procs::Proc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use vm_core::abi::{O_ACCMODE, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY};
use vm_core::host::{
    Errno, HostSignal, IpcCtl, IpcKind, MqAttr, MqNotify, SemBuf, SysResult, Timespec,
};
use vm_core::ipc::mq::Notice;
use vm_core::ipc::{Caller, Ipc, IpcEnv};
use vm_core::ptimer::{SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD};
use vm_core::sigstate::SI_MESGQ;

/// The machine's IPC namespace.
pub static IPC: Ipc = Ipc::new();

/// Numbers that tell attachments apart (the pieces of one attachment
/// that a fork copies range by range are one attachment in the child).
static TAGS: AtomicU64 = AtomicU64::new(1);

/// One `shmat` of a process: the segment, and the parts of the range
/// still mapped (an unmap may split it; it ends with its last part).
#[derive(Clone, Debug)]
pub struct Attachment {
    id: i32,
    tag: u64,
    parts: Vec<(u64, u64)>,
}

/// What the namespace needs of the kernel, for the calling process.
struct Env<'a>(&'a BareMetal);

impl IpcEnv for Env<'_> {
    fn caller(&self) -> Caller {
        // The machine's only user, root, runs every process.
        Caller {
            pid: self.0.p().pid,
            uid: 0,
            gid: 0,
        }
    }
    fn realtime(&self) -> Timespec {
        crate::clock::realtime()
    }
    fn now_ns(&self) -> u64 {
        crate::clock::uptime_ns()
    }
    fn wait(&self, deadline: Option<u64>, ready: &mut dyn FnMut() -> bool) -> SysResult<bool> {
        self.0.block(deadline, ready)
    }
    fn shm_create(&self, _size: u64) -> SysResult<u64> {
        crate::memory::shm_object_new()
    }
    fn shm_destroy(&self, handle: u64) {
        crate::memory::shm_object_put(handle);
    }
    fn readable(&self, msg: &[u8]) -> SysResult<()> {
        // Copied under the namespace's lock, where a fault on a gone page
        // could not be resumed.
        match crate::memory::gone_from(msg.as_ptr() as u64, msg.len()) {
            Some(_) => Err(Errno::EFAULT),
            None => Ok(()),
        }
    }
    fn mq_signal(&self, pid: i32, signo: i32, value: u64, sender: Caller) {
        if let Some(p) = crate::procs::live(pid) {
            p.signals.lock().raise_from(HostSignal {
                signo,
                code: SI_MESGQ,
                pid: sender.pid,
                uid: sender.uid,
                status: 0,
                value,
            });
        }
    }
}

/// Remove `[start, end)` from `parts`.
fn cut(parts: &mut Vec<(u64, u64)>, start: u64, end: u64) {
    let mut kept = Vec::new();
    for &(s, e) in parts.iter() {
        if e <= start || s >= end {
            kept.push((s, e));
            continue;
        }
        if s < start {
            kept.push((s, start));
        }
        if e > end {
            kept.push((end, e));
        }
    }
    *parts = kept;
}

impl BareMetal {
    fn env(&self) -> Env<'_> {
        Env(self)
    }

    /// A new machine (the next job of a batch boot): no IPC objects.
    pub fn ipc_reset(&self) {
        IPC.reset(&self.env());
    }

    /// `[start, end)` of the calling process is unmapped (`munmap`,
    /// `shmdt`, a mapping over it, the end of its address space): the
    /// attachments with no part left end.
    pub fn shm_unmapped(&self, start: u64, end: u64) {
        let p = self.p();
        let mut ended = Vec::new();
        p.shm.lock().retain_mut(|a| {
            cut(&mut a.parts, start, end);
            if a.parts.is_empty() {
                ended.push(a.id);
            }
            !a.parts.is_empty()
        });
        for id in ended {
            IPC.shm_detach(&self.env(), id, p.pid);
        }
    }

    /// `mremap` moved `[from, from+len)` of the calling process to `[to,
    /// to+len)`: the attachments' parts there move along.
    pub fn shm_moved(&self, from: u64, to: u64, len: u64) {
        for a in self.p().shm.lock().iter_mut() {
            let mut parts = Vec::new();
            for &(s, e) in &a.parts {
                let (is, ie) = (s.max(from), e.min(from + len));
                if is >= ie {
                    parts.push((s, e));
                    continue;
                }
                if s < is {
                    parts.push((s, is));
                }
                if e > ie {
                    parts.push((ie, e));
                }
                parts.push((to + (is - from), to + (ie - from)));
            }
            a.parts = parts;
        }
    }

    /// A fork shares `[from, from+len)` of the parent with `[to, to+len)`
    /// of the child (the calling process now): the parent's attachments
    /// there are the child's too.
    pub fn shm_forked(&self, parent: &Proc, from: u64, to: u64, len: u64) {
        let child = self.p();
        let theirs: Vec<Attachment> = parent.shm.lock().clone();
        for a in theirs {
            let parts: Vec<(u64, u64)> = a
                .parts
                .iter()
                .filter_map(|&(s, e)| {
                    let (s, e) = (s.max(from), e.min(from + len));
                    (s < e).then(|| (to + (s - from), to + (e - from)))
                })
                .collect();
            if parts.is_empty() {
                continue;
            }
            let mut mine = child.shm.lock();
            match mine.iter_mut().find(|m| m.tag == a.tag) {
                Some(m) => m.parts.extend(parts),
                None => {
                    mine.push(Attachment {
                        id: a.id,
                        tag: a.tag,
                        parts,
                    });
                    drop(mine);
                    IPC.shm_inherited(&self.env(), a.id, parent.pid);
                }
            }
        }
    }

    pub(crate) fn ipc_get(&self, kind: IpcKind, key: i32, arg: u64, flags: i32) -> SysResult<i32> {
        IPC.get(&self.env(), kind, key, arg, flags)
    }

    pub(crate) fn ipc_ctl(
        &self,
        kind: IpcKind,
        id: i32,
        semnum: i32,
        cmd: i32,
        arg: IpcCtl<'_>,
    ) -> SysResult<i64> {
        IPC.ctl(&self.env(), kind, id, semnum, cmd, arg)
    }

    pub(crate) fn ipc_msgsnd(&self, id: i32, msg: &[u8], flags: i32) -> SysResult<()> {
        IPC.msgsnd(&self.env(), id, msg, flags)
    }

    pub(crate) fn ipc_msgrcv(
        &self,
        id: i32,
        buf: &mut [u8],
        typ: i64,
        flags: i32,
    ) -> SysResult<usize> {
        IPC.msgrcv(&self.env(), id, buf, typ, flags)
    }

    pub(crate) fn ipc_semop(
        &self,
        id: i32,
        ops: &[SemBuf],
        timeout: Option<Timespec>,
    ) -> SysResult<()> {
        IPC.semop(&self.env(), id, ops, timeout)
    }

    pub(crate) fn ipc_shm_attach(
        &self,
        id: i32,
        addr: *mut u8,
        len: usize,
        readonly: bool,
    ) -> SysResult<()> {
        let env = self.env();
        let (handle, _) = IPC.shm_attach(&env, id, readonly)?;
        let p = self.p();
        if let Err(e) = crate::memory::shm_object_map(handle, addr, len, 0) {
            IPC.shm_detach(&env, id, p.pid);
            return Err(e);
        }
        let start = addr as u64;
        p.shm.lock().push(Attachment {
            id,
            tag: TAGS.fetch_add(1, Ordering::Relaxed),
            parts: alloc::vec![(start, start + len as u64)],
        });
        Ok(())
    }

    pub(crate) fn ipc_mq_open(
        &self,
        name: &[u8],
        flags: i32,
        mode: u32,
        attr: Option<&MqAttr>,
    ) -> SysResult<i32> {
        let p = self.p();
        let umask = {
            let mut fs = p.fs.lock();
            let m = fs.umask(0);
            fs.umask(m);
            m
        };
        let q = IPC.mq_open(&self.env(), name, flags, mode & !umask, attr)?;
        p.fs.lock().mq_install(&IPC, q, name, flags)
    }

    pub(crate) fn ipc_mq_unlink(&self, name: &[u8]) -> SysResult<()> {
        IPC.mq_unlink(&self.env(), name)
    }

    pub(crate) fn ipc_mq_send(
        &self,
        fd: i32,
        msg: &[u8],
        prio: u32,
        deadline: Option<Timespec>,
    ) -> SysResult<()> {
        let env = self.env();
        let deadline = IPC.mq_deadline(&env, Some(prio), deadline)?;
        let d = self.p().fs.lock().mq_desc(fd)?;
        if !matches!(d.flags & O_ACCMODE, O_WRONLY | O_RDWR) {
            return Err(Errno::EBADF);
        }
        let nonblock = d.flags & O_NONBLOCK != 0;
        IPC.mq_send(&env, &d.queue, nonblock, msg, prio, deadline)
    }

    pub(crate) fn ipc_mq_receive(
        &self,
        fd: i32,
        buf: &mut [u8],
        deadline: Option<Timespec>,
    ) -> SysResult<(usize, u32)> {
        let env = self.env();
        let deadline = IPC.mq_deadline(&env, None, deadline)?;
        let d = self.p().fs.lock().mq_desc(fd)?;
        if !matches!(d.flags & O_ACCMODE, O_RDONLY | O_RDWR) {
            return Err(Errno::EBADF);
        }
        let nonblock = d.flags & O_NONBLOCK != 0;
        IPC.mq_receive(&env, &d.queue, nonblock, buf, deadline)
    }

    pub(crate) fn ipc_mq_notify(&self, fd: i32, notice: Option<&MqNotify>) -> SysResult<()> {
        let p = self.p();
        let notice = match notice {
            None => None,
            Some(n) => Some(match n.notify {
                SIGEV_NONE => Notice::Quiet,
                SIGEV_SIGNAL if (0..=64).contains(&n.signo) => Notice::Signal {
                    signo: n.signo,
                    value: n.value,
                },
                SIGEV_THREAD => Notice::Thread {
                    sink: p.fs.lock().notice_sink(n.signo)?,
                    cookie: n.cookie,
                },
                _ => return Err(Errno::EINVAL),
            }),
        };
        let d = p.fs.lock().mq_desc(fd)?;
        IPC.mq_notify(&self.env(), &d.queue, notice)
    }

    pub(crate) fn ipc_mq_getsetattr(&self, fd: i32, new: Option<&MqAttr>) -> SysResult<MqAttr> {
        let p = self.p();
        let fs = p.fs.lock();
        let d = fs.mq_desc(fd)?;
        let mut old = d.queue.attr();
        old.flags = i64::from(d.flags & O_NONBLOCK);
        if let Some(n) = new {
            fs.set_nonblock(fd, n.flags & i64::from(O_NONBLOCK) != 0)?;
        }
        Ok(old)
    }
}
