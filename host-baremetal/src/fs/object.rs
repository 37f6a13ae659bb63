//! Objects a descriptor can refer to that are not in the tree: event
//! counters, timers, epoll instances, sockets ([`super::event`],
//! [`super::socket`]). Each is one [`Object`]; the descriptor calls
//! (`read`, `write`, `poll`, `fstat`) reach it through the trait, so a new
//! kind adds a type, not a case to every call. What is particular to a
//! kind (`timerfd_settime`, `epoll_ctl`, `sendmsg`) finds it with
//! [`Object::as_any`].

use super::*;
use core::any::Any;

pub(super) use vm_core::abi::{POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT};

/// A file-like object without a path.
pub(super) trait Object: core::fmt::Debug + Send + Sync {
    /// `read(2)`; `EAGAIN` when it would block (the kernel waits, unless
    /// `O_NONBLOCK`, and calls again).
    fn read(&self, fs: &Fs, buf: &mut [u8]) -> SysResult<usize>;
    /// `write(2)`, `EAGAIN` as for `read`.
    fn write(&self, fs: &Fs, buf: &[u8]) -> SysResult<usize>;
    /// The events it has now (`POLLIN`, `POLLOUT`, `POLLHUP`, `POLLERR`),
    /// before masking with what the caller asked for. `depth` counts
    /// epoll instances polling each other (Linux stops at 5 levels).
    fn poll(&self, fs: &Fs, depth: u32) -> i16;
    /// `st_mode` for `fstat` (type and permission bits).
    fn mode(&self) -> u32 {
        0o600
    }
    /// `ioctl(FIONREAD)`: bytes ready to read, where that means anything.
    fn bytes_ready(&self) -> Option<usize> {
        None
    }
    /// What `/proc/self/fd` calls it: `anon_inode:[kind]`.
    fn kind(&self) -> &'static str;
    fn as_any(&self) -> &dyn Any;
}

impl Fs {
    /// The object behind `fd`, if it is one of type `T` (else `err`).
    pub(super) fn object<T: Object + 'static>(
        &self,
        fd: i32,
        err: Errno,
    ) -> SysResult<Arc<dyn Object>> {
        let file = self.file(fd)?;
        let f = file.lock();
        match &f.open {
            Open::Object(o) if o.as_any().is::<T>() => Ok(o.clone()),
            _ => Err(err),
        }
    }

    /// Install a new object as a descriptor (`O_RDWR` plus `O_NONBLOCK`
    /// from `flags`; close-on-exec from `O_CLOEXEC`).
    pub(super) fn install_object(&mut self, o: Arc<dyn Object>, flags: i32) -> SysResult<i32> {
        self.install(
            Open::Object(o),
            O_RDWR | (flags & O_NONBLOCK),
            Vec::new(),
            flags & O_CLOEXEC != 0,
        )
    }
}
