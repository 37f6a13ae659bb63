//! What a descriptor refers to: one trait, [`Object`], that every kind of
//! open file implements (regular files and directories of the ramdisk,
//! `/tmp` and `/proc`: [`super::regular`], [`super::dir`]; the devices and
//! the console: [`super::dev`]; pipe ends: [`super::pipe`]; eventfds,
//! timerfds and epoll instances: [`super::event`]; socket pairs:
//! [`super::socket`]). An open file description ([`super::fdtable`])
//! holds an `Arc<dyn Object>` with its offset and status flags, so the
//! descriptor calls (`read`, `write`, `pread`, `lseek`, `fstat`, `poll`,
//! `ioctl(FIONREAD)`, `ftruncate`, `getdents64`, a `/proc/self/fd` reopen)
//! reach each kind through the trait, and a new kind adds a type, not a
//! case to every call. What is particular to a kind (`timerfd_settime`,
//! `epoll_ctl`, `sendmsg`) finds it with [`AsAny::as_any`].
//!
//! The Linux-visible answers of a kind that lacks an operation are the
//! trait's defaults, here and nowhere else: `EINVAL` for `read`/`write`
//! (Linux's answer for a file without that operation), `ESPIPE` for
//! `lseek`/`pread`/`pwrite` on what has no position, `ENOTTY` for an
//! ioctl, `ENOTDIR` for `getdents64`, `ENXIO` for reopening through
//! `/proc/self/fd`. What the descriptor's access mode forbids (`EBADF`:
//! reading a write end, writing `O_RDONLY` or `O_PATH`) is checked once,
//! before the object is asked. The inode calls (xattrs, `fchmod`,
//! `flock`, seals...) on a descriptor without an inode answer as
//! [`InodeCall::without_inode`] says.

use super::*;
use core::any::Any;

pub(super) use vm_core::abi::{POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT};

/// One entry a directory lists: name, inode number, `d_type`.
pub(super) type DirEntry = (Vec<u8>, u64, u8);

/// `as_any` for every object, written once: what is particular to a kind
/// (`timerfd_settime`, `epoll_ctl`, `sendmsg`) downcasts through it. Only
/// objects implement it (not `Arc<dyn Object>`, which is `Any` too), so
/// `obj.as_any()` on an `Arc` reaches the object inside.
pub(super) trait AsAny {
    fn as_any(&self) -> &dyn Any;
}

impl<T: Object + Any> AsAny for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A file-like object a descriptor can refer to.
pub(super) trait Object: AsAny + core::fmt::Debug + Send + Sync {
    /// `read(2)` at `*pos` (the description's offset; a kind without
    /// positions ignores it). `EAGAIN` when it would block (the kernel
    /// waits, unless `O_NONBLOCK`, and calls again).
    fn read(&self, _fs: &Fs, _pos: &mut u64, _buf: &mut [u8]) -> SysResult<usize> {
        Err(Errno::EINVAL)
    }
    /// `write(2)` at `*pos`, or at the end when `append`; `EAGAIN` as for
    /// `read`.
    fn write(&self, _fs: &Fs, _pos: &mut u64, _append: bool, _buf: &[u8]) -> SysResult<usize> {
        Err(Errno::EINVAL)
    }
    /// May `pread`/`pwrite` name a position (else `ESPIPE`)? Whatever has
    /// an inode may.
    fn positional(&self) -> bool {
        self.inode().is_some()
    }
    /// `lseek(2)` of the position `*pos`. A file with an inode seeks
    /// within its size (`SEEK_DATA`/`SEEK_HOLE`: all data, one hole at the
    /// end); anything else is `ESPIPE`.
    fn seek(&self, pos: &mut u64, offset: i64, whence: i32) -> SysResult<i64> {
        match self.inode() {
            Some(n) => {
                let size = n.lock().size();
                seek_within(pos, size, offset, whence)
            }
            None => Err(Errno::ESPIPE),
        }
    }
    /// `fstat`: the inode's, else an anonymous inode of [`Object::mode`]
    /// (as Linux's eventfd, timerfd, epoll and sockets).
    fn stat(&self, fs: &Fs) -> FileStat {
        match self.inode() {
            Some(n) => fs.stat_node(&n.lock()),
            None => FileStat {
                dev: 4,
                ino: self as *const Self as *const u8 as usize as u64,
                mode: self.mode(),
                nlink: 1,
                blksize: 4096,
                ..FileStat::default()
            },
        }
    }
    /// `st_mode` of an anonymous inode (type and permission bits).
    fn mode(&self) -> u32 {
        0o600
    }
    /// The events it has now (`POLLIN`, `POLLOUT`, `POLLHUP`, `POLLERR`),
    /// before masking with what the caller asked for. `depth` counts
    /// epoll instances polling each other (Linux stops at 5 levels).
    /// Files, devices and the console never block.
    fn poll(&self, _fs: &Fs, _depth: u32) -> i16 {
        POLLIN | POLLOUT
    }
    /// `ioctl(FIONREAD)`: bytes ready to read, where that means anything.
    fn bytes_ready(&self) -> SysResult<usize> {
        Err(Errno::ENOTTY)
    }
    /// `ftruncate` (the descriptor was opened for writing): the inode's
    /// rules, else `EINVAL`.
    fn truncate(&self, fs: &Fs, len: i64) -> SysResult<()> {
        match self.inode() {
            Some(n) => fs.truncate_node(n, len),
            None => Err(Errno::EINVAL),
        }
    }
    /// The entries `getdents64` lists, `.` and `..` first.
    fn list(&self, _fs: &Fs) -> SysResult<Vec<DirEntry>> {
        Err(Errno::ENOTDIR)
    }
    /// Up to `len` bytes it holds, not taken (`tee` from a pipe).
    fn peek(&self, _len: usize) -> SysResult<Vec<u8>> {
        Err(Errno::EINVAL)
    }
    /// The regular file behind it, for a shared mapping.
    fn mapping(&self) -> SysResult<FileRef> {
        Err(if self.inode().is_some() {
            Errno::ENODEV
        } else {
            Errno::EACCES
        })
    }
    /// `open` of its `/proc/self/fd` link with access mode `acc`, where
    /// the link has no file to walk to (see [`super::procfs`]).
    fn reopen(&self, _acc: i32) -> SysResult<Arc<dyn Object>> {
        Err(Errno::ENXIO)
    }
    /// The node in the tree it is open on, if any (for the inode calls).
    fn inode(&self) -> Option<&Arc<Node>> {
        None
    }
    /// What `/proc/self/fd` calls it; `path` is the path it was opened by.
    /// An inode's path (`(deleted)` once unlinked), else
    /// `anon_inode:[kind]`.
    fn link_name(&self, path: &[u8]) -> Vec<u8> {
        match self.inode() {
            Some(n) => {
                let mut p = path.to_vec();
                if n.lock().nlink == 0 {
                    p.extend_from_slice(b" (deleted)");
                }
                p
            }
            None => alloc::format!("anon_inode:[{}]", self.kind()).into_bytes(),
        }
    }
    /// Its kind's name (`anon_inode:[kind]`).
    fn kind(&self) -> &'static str;
    /// A descriptor of it was closed by process `pid` (`close`, `dup2`
    /// over it, close-on-exec, `close_range`, the process's end): Linux's
    /// `flush` file operation, run at every such close, not only the last.
    fn flush(&self, _pid: i32) {}
}

/// A name for an object without an inode, from its address: `what:[N]`.
pub(super) fn anon_name(what: &str, p: *const u8) -> Vec<u8> {
    alloc::format!("{what}:[{}]", p as usize % 1_000_000).into_bytes()
}

/// `lseek` within a file of `size` bytes.
pub(super) fn seek_within(pos: &mut u64, size: u64, offset: i64, whence: i32) -> SysResult<i64> {
    let base: i64 = match whence {
        0 => 0,
        1 => *pos as i64,
        2 => size as i64,
        3 => {
            // SEEK_DATA: everything is data.
            if offset < 0 || offset as u64 >= size {
                return Err(Errno::ENXIO);
            }
            0
        }
        4 => {
            // SEEK_HOLE: the only hole is at the end.
            if offset < 0 || offset as u64 > size {
                return Err(Errno::ENXIO);
            }
            *pos = size;
            return Ok(size as i64);
        }
        _ => return Err(Errno::EINVAL),
    };
    let new = base.checked_add(offset).ok_or(Errno::EOVERFLOW)?;
    if new < 0 {
        return Err(Errno::EINVAL);
    }
    *pos = new as u64;
    Ok(new)
}

/// A call on a descriptor that works on its inode, and fails without
/// one. (`fchmod`, `fchown(AT_EMPTY_PATH)` and `utimensat` of a
/// descriptor without an inode succeed and change nothing: a pipe's,
/// socket's or the console's owner, mode and times are nobody's to keep;
/// see [`Fs::attr_inode`].)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum InodeCall {
    /// `fgetxattr` and friends.
    Xattr,
    /// `flock`.
    Flock,
    /// `fallocate`.
    Fallocate,
    /// `linkat(AT_EMPTY_PATH)`.
    Link,
    /// `F_ADD_SEALS`, `F_GET_SEALS`.
    Seals,
}

impl InodeCall {
    /// What the call answers on a pipe, socket, anonymous inode or the
    /// console.
    pub(super) fn without_inode(self) -> Errno {
        match self {
            InodeCall::Xattr => Errno::ENOTSUP,
            InodeCall::Flock | InodeCall::Seals => Errno::EINVAL,
            InodeCall::Fallocate => Errno::ESPIPE,
            InodeCall::Link => Errno::EXDEV,
        }
    }
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
        if f.obj.as_any().is::<T>() {
            Ok(f.obj.clone())
        } else {
            Err(err)
        }
    }

    /// The inode `fd` is open on, for `call`.
    pub(super) fn inode_of(&self, fd: i32, call: InodeCall) -> SysResult<Arc<Node>> {
        let file = self.file(fd)?;
        let f = file.lock();
        f.obj.inode().cloned().ok_or(call.without_inode())
    }

    /// The inode whose owner, mode or times a call on `fd` changes;
    /// `None`: there is nothing to change (the call succeeds).
    pub(super) fn attr_inode(&self, fd: i32) -> SysResult<Option<Arc<Node>>> {
        Ok(self.file(fd)?.lock().obj.inode().cloned())
    }

    /// Install a new object as a descriptor (`O_RDWR` plus `O_NONBLOCK`
    /// from `flags`; close-on-exec from `O_CLOEXEC`).
    pub(super) fn install_object(&mut self, o: Arc<dyn Object>, flags: i32) -> SysResult<i32> {
        self.install(
            o,
            O_RDWR | (flags & O_NONBLOCK),
            Vec::new(),
            flags & O_CLOEXEC != 0,
        )
    }
}
