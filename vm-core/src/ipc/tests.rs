//! The namespace's rules without a host: ids, keys, permissions, message
//! selection, atomic semaphore operations and undo, segment lifetime,
//! message queue priorities and notification.

use super::mq::Notice;
use super::*;
use crate::abi::*;
use crate::host::{IpcCtl, IpcStat, MqAttr, SemBuf};
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

/// A host that never waits (a wait is a signal: `EINTR`).
#[derive(Default)]
struct Env {
    who: Cell<Caller>,
    next: Cell<u64>,
    freed: RefCell<Vec<u64>>,
    signals: RefCell<Vec<(i32, i32, u64, i32)>>,
}

impl IpcEnv for Env {
    fn caller(&self) -> Caller {
        self.who.get()
    }
    fn realtime(&self) -> Timespec {
        Timespec { sec: 1000, nsec: 0 }
    }
    fn now_ns(&self) -> u64 {
        0
    }
    fn wait(&self, _d: Option<u64>, ready: &mut dyn FnMut() -> bool) -> SysResult<bool> {
        if ready() { Ok(true) } else { Err(Errno::EINTR) }
    }
    fn shm_create(&self, _size: u64) -> SysResult<u64> {
        self.next.set(self.next.get() + 1);
        Ok(self.next.get())
    }
    fn shm_destroy(&self, handle: u64) {
        self.freed.borrow_mut().push(handle);
    }
    fn mq_signal(&self, pid: i32, signo: i32, value: u64, sender: Caller) {
        self.signals
            .borrow_mut()
            .push((pid, signo, value, sender.pid));
    }
}

fn env(pid: i32, uid: u32) -> Env {
    let e = Env::default();
    e.who.set(Caller { pid, uid, gid: uid });
    e
}

fn stat(ipc: &Ipc, e: &Env, kind: IpcKind, id: i32) -> SysResult<IpcStat> {
    let mut st = IpcStat::default();
    ipc.ctl(e, kind, id, 0, IPC_STAT, IpcCtl::Stat(&mut st))?;
    Ok(st)
}

#[test]
fn ids_keys_and_exclusive_creation() {
    let (ipc, e) = (Ipc::new(), env(5, 0));
    let a = ipc.get(&e, IpcKind::Msg, IPC_PRIVATE, 0, 0o600).unwrap();
    let b = ipc.get(&e, IpcKind::Msg, IPC_PRIVATE, 0, 0o600).unwrap();
    assert_ne!(a, b);
    assert_eq!(ipc.get(&e, IpcKind::Msg, 77, 0, 0), Err(Errno::ENOENT));
    let k = ipc.get(&e, IpcKind::Msg, 77, 0, IPC_CREAT | 0o640).unwrap();
    assert_eq!(ipc.get(&e, IpcKind::Msg, 77, 0, 0), Ok(k));
    let excl = IPC_CREAT | IPC_EXCL;
    assert_eq!(ipc.get(&e, IpcKind::Msg, 77, 0, excl), Err(Errno::EEXIST));
    assert_eq!(stat(&ipc, &e, IpcKind::Msg, k).unwrap().perm.mode, 0o640);
    // A removed id is not given again at once: the next object in the
    // same slot has another sequence number.
    ipc.ctl(&e, IpcKind::Msg, a, 0, IPC_RMID, IpcCtl::None)
        .unwrap();
    assert_eq!(stat(&ipc, &e, IpcKind::Msg, a), Err(Errno::EINVAL));
    for _ in 0..70 {
        let id = ipc.get(&e, IpcKind::Msg, IPC_PRIVATE, 0, 0).unwrap();
        assert_ne!(id, a);
    }
}

#[test]
fn permissions_of_another_user() {
    let (ipc, root) = (Ipc::new(), env(5, 0));
    let id = ipc
        .get(&root, IpcKind::Msg, 9, 0, IPC_CREAT | 0o600)
        .unwrap();
    let other = env(6, 1000);
    assert_eq!(
        ipc.get(&other, IpcKind::Msg, 9, 0, 0o400),
        Err(Errno::EACCES)
    );
    assert_eq!(stat(&ipc, &other, IpcKind::Msg, id), Err(Errno::EACCES));
    let rm = ipc.ctl(&other, IpcKind::Msg, id, 0, IPC_RMID, IpcCtl::None);
    assert_eq!(rm, Err(Errno::EPERM));
    let mut m = 1i64.to_le_bytes().to_vec();
    m.extend_from_slice(b"x");
    assert_eq!(ipc.msgsnd(&other, id, &m, IPC_NOWAIT), Err(Errno::EACCES));
}

fn send(ipc: &Ipc, e: &Env, id: i32, ty: i64, text: &[u8]) -> SysResult<()> {
    let mut m = ty.to_le_bytes().to_vec();
    m.extend_from_slice(text);
    ipc.msgsnd(e, id, &m, IPC_NOWAIT)
}

fn recv(
    ipc: &Ipc,
    e: &Env,
    id: i32,
    room: usize,
    typ: i64,
    flags: i32,
) -> SysResult<(i64, Vec<u8>)> {
    let mut b = vec![0u8; 8 + room];
    let n = ipc.msgrcv(e, id, &mut b, typ, flags | IPC_NOWAIT)?;
    Ok((
        i64::from_le_bytes(b[..8].try_into().unwrap()),
        b[8..8 + n].to_vec(),
    ))
}

#[test]
fn messages_by_type() {
    let (ipc, e) = (Ipc::new(), env(5, 0));
    let q = ipc.get(&e, IpcKind::Msg, IPC_PRIVATE, 0, 0o600).unwrap();
    for (t, s) in [
        (3, "three"),
        (1, "one"),
        (2, "two"),
        (5, "five"),
        (4, "four!"),
    ] {
        send(&ipc, &e, q, t, s.as_bytes()).unwrap();
    }
    assert_eq!(recv(&ipc, &e, q, 64, 2, 0).unwrap().1, b"two");
    assert_eq!(recv(&ipc, &e, q, 64, -4, 0).unwrap().0, 1);
    assert_eq!(recv(&ipc, &e, q, 64, 3, MSG_EXCEPT).unwrap().0, 5);
    assert_eq!(recv(&ipc, &e, q, 2, 4, 0), Err(Errno::E2BIG));
    assert_eq!(recv(&ipc, &e, q, 2, 4, MSG_NOERROR).unwrap().1, b"fo");
    assert_eq!(recv(&ipc, &e, q, 64, 0, MSG_COPY).unwrap().0, 3);
    assert_eq!(recv(&ipc, &e, q, 64, 0, 0).unwrap().0, 3);
    assert_eq!(recv(&ipc, &e, q, 64, 0, 0), Err(Errno::ENOMSG));
    // A wait that nothing ends is cut short (the test host's "signal").
    let mut b = [0u8; 16];
    assert_eq!(ipc.msgrcv(&e, q, &mut b, 0, 0), Err(Errno::EINTR));
    // The byte limit: a message that does not fit waits (here: EAGAIN).
    let mut st = stat(&ipc, &e, IpcKind::Msg, q).unwrap();
    st.counts[2] = 4;
    ipc.ctl(&e, IpcKind::Msg, q, 0, IPC_SET, IpcCtl::Set(&st))
        .unwrap();
    assert_eq!(send(&ipc, &e, q, 1, b"12345"), Err(Errno::EAGAIN));
}

#[test]
fn semaphores_all_or_nothing_and_undo() {
    let (ipc, e) = (Ipc::new(), env(5, 0));
    let s = ipc.get(&e, IpcKind::Sem, IPC_PRIVATE, 2, 0o600).unwrap();
    let op = |num, op, flg| SemBuf { num, op, flg };
    let mut v = [1u16, 0];
    ipc.ctl(&e, IpcKind::Sem, s, 0, SETALL, IpcCtl::Values(&mut v))
        .unwrap();
    // The second would block: the first is not done either.
    let nw = IPC_NOWAIT as i16;
    assert_eq!(
        ipc.semop(&e, s, &[op(0, -1, 0), op(1, -1, nw)], None),
        Err(Errno::EAGAIN)
    );
    let val = |n| {
        ipc.ctl(&e, IpcKind::Sem, s, n, GETVAL, IpcCtl::None)
            .unwrap()
    };
    assert_eq!(val(0), 1);
    assert_eq!(
        ipc.semop(&e, s, &[op(0, 32767, 0)], None),
        Err(Errno::ERANGE)
    );
    assert_eq!(ipc.semop(&e, s, &[op(5, 1, 0)], None), Err(Errno::EFBIG));
    // Process 7 takes one with SEM_UNDO and ends: it is given back.
    let e7 = env(7, 0);
    ipc.semop(&e7, s, &[op(0, -1, SEM_UNDO)], None).unwrap();
    assert_eq!(val(0), 0);
    assert_eq!(ipc.ctl(&e, IpcKind::Sem, s, 0, GETPID, IpcCtl::None), Ok(7));
    ipc.exit(7);
    assert_eq!(val(0), 1);
    assert_eq!(
        ipc.ctl(&e, IpcKind::Sem, s, 0, SETVAL, IpcCtl::Val(40000)),
        Err(Errno::ERANGE)
    );
}

#[test]
fn segment_lives_until_last_detach_after_rmid() {
    let (ipc, e) = (Ipc::new(), env(5, 0));
    let id = ipc
        .get(&e, IpcKind::Shm, IPC_PRIVATE, 10000, 0o600)
        .unwrap();
    assert_eq!(
        ipc.get(&e, IpcKind::Shm, IPC_PRIVATE, 0, 0o600),
        Err(Errno::EINVAL)
    );
    let (h, size) = ipc.shm_attach(&e, id, false).unwrap();
    assert_eq!(size, 10000);
    ipc.shm_inherited(&e, id, 5);
    assert_eq!(stat(&ipc, &e, IpcKind::Shm, id).unwrap().counts[1], 2);
    ipc.ctl(&e, IpcKind::Shm, id, 0, IPC_RMID, IpcCtl::None)
        .unwrap();
    let st = stat(&ipc, &e, IpcKind::Shm, id).unwrap();
    assert!(st.perm.mode & SHM_DEST != 0);
    ipc.shm_detach(&e, id, 6);
    assert!(e.freed.borrow().is_empty());
    ipc.shm_detach(&e, id, 5);
    assert_eq!(*e.freed.borrow(), [h]);
    assert_eq!(stat(&ipc, &e, IpcKind::Shm, id), Err(Errno::EINVAL));
}

#[test]
fn message_queue_priorities_and_notice() {
    let (ipc, e) = (Ipc::new(), env(5, 0));
    let attr = MqAttr {
        maxmsg: 2,
        msgsize: 8,
        ..MqAttr::default()
    };
    let q = ipc
        .mq_open(&e, b"q", O_CREAT | O_RDWR, 0o600, Some(&attr))
        .unwrap();
    let again = ipc.mq_open(&e, b"q", O_CREAT | O_EXCL, 0o600, None);
    assert_eq!(again.err(), Some(Errno::EEXIST));
    assert_eq!(
        ipc.mq_open(&e, b"a/b", O_CREAT, 0o600, None).err(),
        Some(Errno::EACCES)
    );
    let sig = Notice::Signal {
        signo: 10,
        value: 42,
    };
    ipc.mq_notify(&e, &q, Some(sig)).unwrap();
    let busy = ipc.mq_notify(&e, &q, Some(Notice::Quiet));
    assert_eq!(busy, Err(Errno::EBUSY));
    let e9 = env(9, 0);
    ipc.mq_send(&e9, &q, true, b"low", 1, None).unwrap();
    ipc.mq_send(&e9, &q, true, b"high", 7, None).unwrap();
    assert_eq!(
        ipc.mq_send(&e9, &q, true, b"x", 0, None),
        Err(Errno::EAGAIN)
    );
    assert_eq!(*e9.signals.borrow(), [(5, 10, 42, 9)]);
    let mut b = [0u8; 8];
    assert_eq!(
        ipc.mq_receive(&e, &q, true, &mut b[..4], None),
        Err(Errno::EMSGSIZE)
    );
    assert_eq!(ipc.mq_receive(&e, &q, true, &mut b, None), Ok((4, 7)));
    assert_eq!(ipc.mq_receive(&e, &q, true, &mut b, None), Ok((3, 1)));
    assert_eq!(
        ipc.mq_receive(&e, &q, true, &mut b, None),
        Err(Errno::EAGAIN)
    );
    assert_eq!(
        ipc.mq_deadline(&e, Some(MQ_PRIO_MAX), None),
        Err(Errno::EINVAL)
    );
    // The user's RLIMIT_MSGQUEUE bytes bound what queues may hold.
    let big = MqAttr {
        maxmsg: 65536,
        msgsize: 16,
        ..MqAttr::default()
    };
    let r = ipc.mq_open(&e, b"big", O_CREAT | O_RDWR, 0o600, Some(&big));
    assert_eq!(r.err(), Some(Errno::EMFILE));
    ipc.mq_unlink(&e, b"q").unwrap();
    assert_eq!(ipc.mq_unlink(&e, b"q"), Err(Errno::ENOENT));
}

#[test]
fn a_semop_waits_on_its_first_operation_that_cannot_go_on() {
    use super::sem::waits_on;
    let op = |num, op| SemBuf { num, op, flg: 0 };
    // Goes on: no wait.
    assert_eq!(waits_on(&[1, 0], &[op(0, -1), op(1, 0)]), None);
    // For sem 0 to grow; for sem 1 to be zero.
    assert_eq!(waits_on(&[0, 0], &[op(0, -1)]), Some((0, false)));
    assert_eq!(waits_on(&[0, 2], &[op(1, 0)]), Some((1, true)));
    // The first goes on, the second cannot: counted on the second.
    assert_eq!(waits_on(&[0, 1], &[op(0, 0), op(1, -2)]), Some((1, false)));
    // An earlier operation of the call changes what a later one sees.
    assert_eq!(waits_on(&[0, 0], &[op(0, 1), op(0, 0)]), Some((0, true)));
    // Out of range, or past SEMVMX: the call fails, it does not wait.
    assert_eq!(waits_on(&[0], &[op(3, -1)]), None);
    assert_eq!(waits_on(&[32767], &[op(0, 1)]), None);
}
