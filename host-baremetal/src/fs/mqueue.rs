//! POSIX message queue descriptors: an [`Object`] holding a queue of the
//! core's IPC namespace ([`vm_core::ipc`], which keeps the messages and
//! the rules), so that an `mq_open`ed descriptor is one of the process's
//! descriptors like any other (duplicated, inherited by `fork`, closed on
//! exec with `O_CLOEXEC`, polled: readable with a message, writable with
//! room). Its open file description keeps the access mode and
//! `O_NONBLOCK` (`mq_getsetattr` changes that). An `mq_notify`
//! registration goes when the registering process closes any descriptor
//! of the queue ([`Object::flush`]), as on Linux. `/proc/self/fd`
//! names it by the queue's path in the mqueue file system (`/name`), and
//! `fstat` shows a regular file, as on Linux. The `SIGEV_THREAD` notice
//! goes to a netlink socket ([`Fs::notice_sink`]).

use super::object::*;
use super::*;
use vm_core::ipc::mq::MqQueue;
use vm_core::ipc::{Ipc, NoticeSink};

/// A descriptor's object: the queue, its name, and the namespace to tell
/// when the description goes.
#[derive(Debug)]
pub(super) struct MqFile {
    q: Arc<MqQueue>,
    name: Vec<u8>,
    ipc: &'static Ipc,
}


impl Object for MqFile {
    fn poll(&self, _fs: &Fs, _depth: u32) -> i16 {
        let (msg, room) = self.q.ready();
        (if msg { POLLIN } else { 0 }) | (if room { POLLOUT } else { 0 })
    }
    fn mode(&self) -> u32 {
        S_IFREG | 0o600
    }
    fn link_name(&self, _path: &[u8]) -> Vec<u8> {
        let mut p = b"/".to_vec();
        p.extend_from_slice(&self.name);
        p
    }
    fn kind(&self) -> &'static str {
        "mqueue"
    }
    fn flush(&self, pid: i32) {
        self.ipc.mq_flushed(&self.q, pid);
    }
}

/// What the IPC calls need of an open queue descriptor.
#[derive(Debug)]
pub struct MqDesc {
    pub queue: Arc<MqQueue>,
    /// The description's access mode and status flags (`O_NONBLOCK`).
    pub flags: i32,
}

impl Fs {
    /// A new descriptor on queue `q` (named `name`) with `flags`' access
    /// mode, `O_NONBLOCK` and `O_CLOEXEC`.
    pub fn mq_install(
        &mut self,
        ipc: &'static Ipc,
        q: Arc<MqQueue>,
        name: &[u8],
        flags: i32,
    ) -> SysResult<i32> {
        let obj = Arc::new(MqFile {
            q,
            name: name.to_vec(),
            ipc,
        });
        self.install(
            obj,
            flags & (O_ACCMODE | O_NONBLOCK),
            Vec::new(),
            flags & O_CLOEXEC != 0,
        )
    }

    /// The queue open as `fd` (`EBADF` when it is none).
    pub fn mq_desc(&self, fd: i32) -> SysResult<MqDesc> {
        let file = self.file(fd)?;
        let f = file.lock();
        let m = f
            .obj
            .as_any()
            .downcast_ref::<MqFile>()
            .ok_or(Errno::EBADF)?;
        Ok(MqDesc {
            queue: m.q.clone(),
            flags: f.flags,
        })
    }

    /// Set or clear `O_NONBLOCK` of `fd`'s description.
    pub fn set_nonblock(&self, fd: i32, on: bool) -> SysResult<()> {
        let file = self.file(fd)?;
        let mut f = file.lock();
        f.flags = (f.flags & !O_NONBLOCK) | if on { O_NONBLOCK } else { 0 };
        Ok(())
    }

    /// Where a `SIGEV_THREAD` notice registered with socket `fd` goes:
    /// `EBADF` when `fd` is not open, `ENOTSOCK` when it is not a netlink
    /// socket.
    pub fn notice_sink(&self, fd: i32) -> SysResult<Arc<dyn NoticeSink>> {
        self.check_fd(fd)?;
        match self.netlink(fd) {
            Some(s) => Ok(s),
            None => Err(Errno::ENOTSOCK),
        }
    }
}
