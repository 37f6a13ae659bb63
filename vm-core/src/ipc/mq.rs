//! POSIX message queues: the names (`mq_open` with `O_CREAT`/`O_EXCL`
//! and attributes checked as Linux checks them, `mq_unlink`), the queues
//! (messages by priority, the highest first, in order of arrival within
//! one), sends and receives that wait (unless the descriptor is
//! `O_NONBLOCK`) until there is room or a message, an absolute
//! `CLOCK_REALTIME` deadline (`ETIMEDOUT`) or a signal, and `mq_notify`:
//! one registration per queue (`EBUSY` for another), which a message
//! arriving in the empty queue while nobody waits to receive uses up, by
//! a signal (`SI_MESGQ`, the sender's pid and uid, the registered value),
//! by a cookie for glibc's `SIGEV_THREAD` helper ([`super::NoticeSink`]),
//! or silently (`SIGEV_NONE`). A user's named queues may take
//! `RLIMIT_MSGQUEUE`'s default bytes (`EMFILE` past it), which bounds the
//! kernel memory messages take: every queue of the user that lives counts,
//! an unlinked one too until its last descriptor closes. A registration goes when the registering
//! process closes any descriptor of the queue (the host calls
//! [`Ipc::mq_flushed`] at every close, as Linux's `flush` runs), not only
//! the one it was made through, and not when another process closes one.
//!
//! The descriptor is the host's (an open file description that holds the
//! queue and its `O_NONBLOCK`); the host checks its access mode.

use super::{Ipc, IpcEnv, NoticeSink, deadline_at};
use crate::abi::{
    MQ_BYTES_MAX, MQ_HARD_MSGMAX, MQ_HARD_MSGSIZEMAX, MQ_MAXMSG_DEFAULT, MQ_MSG_OVERHEAD,
    MQ_MSGSIZE_DEFAULT, MQ_PRIO_MAX, MQ_PRIO_NODE, NOTIFY_COOKIE_LEN, NOTIFY_REMOVED,
    NOTIFY_WOKENUP, O_ACCMODE, O_CREAT, O_EXCL, O_RDWR, O_WRONLY,
};
use crate::host::{Errno, MqAttr, SysResult, Timespec};
use alloc::sync::Arc;
use alloc::vec::Vec;

/// How a registration notifies.
#[derive(Debug)]
pub enum Notice {
    /// `SIGEV_NONE`.
    Quiet,
    /// `SIGEV_SIGNAL`.
    Signal { signo: i32, value: u64 },
    /// `SIGEV_THREAD`: the cookie, to the sink.
    Thread {
        sink: Arc<dyn NoticeSink>,
        cookie: [u8; NOTIFY_COOKIE_LEN],
    },
}

#[derive(Debug)]
struct Registration {
    /// The registering process.
    owner: i32,
    how: Notice,
}

impl Registration {
    /// Tell a `SIGEV_THREAD` helper that the registration is gone.
    fn removed(self) {
        if let Notice::Thread { sink, mut cookie } = self.how {
            cookie[NOTIFY_COOKIE_LEN - 1] = NOTIFY_REMOVED;
            sink.deliver(&cookie);
        }
    }
}

#[derive(Debug)]
struct State {
    maxmsg: i64,
    msgsize: i64,
    /// Highest priority first; in order of arrival within a priority.
    msgs: Vec<(u32, Vec<u8>)>,
    uid: u32,
    gid: u32,
    mode: u32,
    notify: Option<Registration>,
    /// Processes waiting in a receive.
    receivers: u32,
}

/// One message queue (the names hold it, and so do the descriptions
/// open on it).
#[derive(Debug)]
pub struct MqQueue {
    st: spin::Mutex<State>,
}

impl MqQueue {
    /// Its attributes (`mq_flags` is the description's: the host's).
    pub fn attr(&self) -> MqAttr {
        let s = self.st.lock();
        MqAttr {
            flags: 0,
            maxmsg: s.maxmsg,
            msgsize: s.msgsize,
            curmsgs: s.msgs.len() as i64,
        }
    }

    /// (a message waits, there is room for one), for `poll`.
    pub fn ready(&self) -> (bool, bool) {
        let s = self.st.lock();
        (!s.msgs.is_empty(), (s.msgs.len() as i64) < s.maxmsg)
    }
}

/// The bytes a queue of `maxmsg` messages of `msgsize` may take, as
/// Linux counts them for `RLIMIT_MSGQUEUE`.
fn bytes(maxmsg: i64, msgsize: i64) -> u64 {
    let (n, size) = (maxmsg as u64, msgsize as u64);
    n.saturating_mul(size.saturating_add(MQ_MSG_OVERHEAD))
        .saturating_add(n.min(MQ_PRIO_MAX as u64) * MQ_PRIO_NODE)
}

/// A queue name as glibc passes it (without the leading `/`): one
/// component, as the mqueue file system's lookup takes it.
fn check_name(name: &[u8]) -> SysResult<()> {
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
        return Err(Errno::EACCES);
    }
    if name.len() > crate::abi::NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

impl Ipc {
    /// `mq_open(name, flags, mode, attr)`: the queue, for the host to
    /// open a descriptor on.
    pub fn mq_open(
        &self,
        env: &dyn IpcEnv,
        name: &[u8],
        flags: i32,
        mode: u32,
        attr: Option<&crate::host::MqAttr>,
    ) -> SysResult<Arc<MqQueue>> {
        check_name(name)?;
        let who = env.caller();
        let mut names = self.queues.lock();
        if let Some(q) = names.get(name) {
            if flags & O_CREAT != 0 && flags & O_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            if flags & O_ACCMODE == O_ACCMODE {
                return Err(Errno::EINVAL);
            }
            let s = q.st.lock();
            let want: u32 = match flags & O_ACCMODE {
                O_WRONLY => 2,
                O_RDWR => 6,
                _ => 4,
            };
            let bits = if who.uid == s.uid {
                s.mode >> 6
            } else if who.gid == s.gid {
                s.mode >> 3
            } else {
                s.mode
            };
            if want & !bits & 7 != 0 && who.uid != 0 {
                return Err(Errno::EACCES);
            }
            drop(s);
            return Ok(q.clone());
        }
        if flags & O_CREAT == 0 {
            return Err(Errno::ENOENT);
        }
        let (maxmsg, msgsize) = match attr {
            Some(a) => {
                if a.maxmsg <= 0 || a.msgsize <= 0 {
                    return Err(Errno::EINVAL);
                }
                let (mm, ms) = match who.uid {
                    0 => (MQ_HARD_MSGMAX, MQ_HARD_MSGSIZEMAX),
                    _ => (MQ_MAXMSG_DEFAULT, MQ_MSGSIZE_DEFAULT),
                };
                if a.maxmsg > mm || a.msgsize > ms {
                    return Err(Errno::EINVAL);
                }
                (a.maxmsg, a.msgsize)
            }
            None => (MQ_MAXMSG_DEFAULT, MQ_MSGSIZE_DEFAULT),
        };
        // What the user's queues may take at most (`RLIMIT_MSGQUEUE`),
        // counted over every queue that lives (an unlinked one still
        // open counts until its last descriptor closes, as Linux frees
        // the bytes with the inode): `EMFILE` past it, as Linux.
        let mut live = self.live_queues.lock();
        live.retain(|w| w.strong_count() > 0);
        let mine: u64 = live
            .iter()
            .filter_map(alloc::sync::Weak::upgrade)
            .map(|q| {
                let s = q.st.lock();
                if s.uid == who.uid {
                    bytes(s.maxmsg, s.msgsize)
                } else {
                    0
                }
            })
            .sum();
        if mine.saturating_add(bytes(maxmsg, msgsize)) > MQ_BYTES_MAX {
            return Err(Errno::EMFILE);
        }
        let q = Arc::new(MqQueue {
            st: spin::Mutex::new(State {
                maxmsg,
                msgsize,
                msgs: Vec::new(),
                uid: who.uid,
                gid: who.gid,
                mode: mode & 0o777,
                notify: None,
                receivers: 0,
            }),
        });
        live.push(Arc::downgrade(&q));
        names.insert(name.to_vec(), q.clone());
        Ok(q)
    }

    /// `mq_unlink(name)`: the name goes; the queue lives on while open.
    pub fn mq_unlink(&self, env: &dyn IpcEnv, name: &[u8]) -> SysResult<()> {
        check_name(name)?;
        let who = env.caller();
        let mut names = self.queues.lock();
        let q = names.get(name).ok_or(Errno::ENOENT)?;
        if who.uid != 0 && who.uid != q.st.lock().uid {
            return Err(Errno::EACCES);
        }
        names.remove(name);
        Ok(())
    }

    /// What `mq_timedsend` and `mq_timedreceive` check before the
    /// descriptor: the priority (`None` for a receive) and the deadline,
    /// as one on `env`'s monotonic clock (`EINVAL`).
    pub fn mq_deadline(
        &self,
        env: &dyn IpcEnv,
        prio: Option<u32>,
        deadline: Option<Timespec>,
    ) -> SysResult<Option<u64>> {
        if prio.is_some_and(|p| p >= MQ_PRIO_MAX) {
            return Err(Errno::EINVAL);
        }
        deadline.map(|d| deadline_at(env, d)).transpose()
    }

    /// `mq_timedsend` on `q` (`deadline` from [`Ipc::mq_deadline`]).
    pub fn mq_send(
        &self,
        env: &dyn IpcEnv,
        q: &MqQueue,
        nonblock: bool,
        msg: &[u8],
        prio: u32,
        deadline: Option<u64>,
    ) -> SysResult<()> {
        if msg.len() as u64 > q.st.lock().msgsize as u64 {
            return Err(Errno::EMSGSIZE);
        }
        env.readable(msg)?;
        loop {
            let seen = self.seen();
            {
                let mut s = q.st.lock();
                if (s.msgs.len() as i64) < s.maxmsg {
                    let at = s.msgs.partition_point(|(p, _)| *p >= prio);
                    s.msgs.insert(at, (prio, msg.to_vec()));
                    let notice = match s.msgs.len() == 1 && s.receivers == 0 {
                        true => s.notify.take(),
                        false => None,
                    };
                    drop(s);
                    if let Some(r) = notice {
                        notify(env, r);
                    }
                    self.changed();
                    return Ok(());
                }
                if nonblock {
                    return Err(Errno::EAGAIN);
                }
            }
            if !self.wait(env, deadline, seen)? {
                return Err(Errno::ETIMEDOUT);
            }
        }
    }

    /// `mq_timedreceive` on `q` into `buf`: the message's length and
    /// priority.
    pub fn mq_receive(
        &self,
        env: &dyn IpcEnv,
        q: &MqQueue,
        nonblock: bool,
        buf: &mut [u8],
        deadline: Option<u64>,
    ) -> SysResult<(usize, u32)> {
        if (buf.len() as u64) < q.st.lock().msgsize as u64 {
            return Err(Errno::EMSGSIZE);
        }
        loop {
            let seen = self.seen();
            {
                let mut s = q.st.lock();
                if !s.msgs.is_empty() {
                    let (prio, m) = s.msgs.remove(0);
                    drop(s);
                    buf[..m.len()].copy_from_slice(&m);
                    self.changed();
                    return Ok((m.len(), prio));
                }
                if nonblock {
                    return Err(Errno::EAGAIN);
                }
                s.receivers += 1;
            }
            let r = self.wait(env, deadline, seen);
            q.st.lock().receivers -= 1;
            if !r? {
                return Err(Errno::ETIMEDOUT);
            }
        }
    }

    /// `mq_notify` on `q`: register `notice`
    /// (`EBUSY` when there is a registration), or with `None` remove the
    /// caller's.
    pub fn mq_notify(
        &self,
        env: &dyn IpcEnv,
        q: &MqQueue,
        notice: Option<Notice>,
    ) -> SysResult<()> {
        let me = env.caller().pid;
        let mut s = q.st.lock();
        match notice {
            None => {
                if s.notify.as_ref().is_some_and(|r| r.owner == me) {
                    let r = s.notify.take();
                    drop(s);
                    if let Some(r) = r {
                        r.removed();
                    }
                }
                Ok(())
            }
            Some(how) => {
                if s.notify.is_some() {
                    return Err(Errno::EBUSY);
                }
                s.notify = Some(Registration { owner: me, how });
                Ok(())
            }
        }
    }

    /// Process `pid` closed a descriptor of `q` (any: Linux's
    /// `mqueue_flush_file`): its registration, if it has one, goes.
    pub fn mq_flushed(&self, q: &MqQueue, pid: i32) {
        let mut s = q.st.lock();
        if s.notify.as_ref().is_some_and(|r| r.owner == pid) {
            let r = s.notify.take();
            drop(s);
            if let Some(r) = r {
                r.removed();
            }
        }
    }
}

/// Use up registration `r` for a message that just arrived.
fn notify(env: &dyn IpcEnv, r: Registration) {
    match r.how {
        Notice::Quiet => {}
        Notice::Signal { signo, value } => env.mq_signal(r.owner, signo, value, env.caller()),
        Notice::Thread { sink, mut cookie } => {
            cookie[NOTIFY_COOKIE_LEN - 1] = NOTIFY_WOKENUP;
            sink.deliver(&cookie);
        }
    }
}
