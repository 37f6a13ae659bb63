//! The unikernel's file system and file-descriptor table.
//!
//! One tree of nodes ([`node`]): the ramdisk's members, read-only and
//! borrowed in place, plus a writable in-memory `/tmp`, `/dev` and
//! `/proc`, whose nodes are made as lookups reach them ([`procfs`]).
//! Every kind of node implements the one trait [`kind::NodeKind`]
//! (directory entries, a file's bytes, a link's text, a device's number,
//! which open file an `open` makes), whose defaults are the Linux errnos
//! for what a kind lacks, as [`object::Object`] is for open files.
//! Every method of [`Fs`] mirrors one `HostOs` file call (same arguments,
//! Linux errno results, asm-generic flag values), so the kernel's
//! `HostOs` is a thin lock-and-forward layer and all of this is tested on
//! the build machine.
//!
//! A descriptor ([`fdtable`]) names an open file description, which holds
//! an `Arc<dyn Object>`: every kind of open file implements the one trait
//! [`object::Object`] (read, write, seek, stat, poll, `FIONREAD`,
//! truncate, directory listing, reopen through `/proc/self/fd`), and the
//! trait's defaults are the Linux errnos for what a kind lacks. The kinds:
//! [`regular`] (ramdisk, `/tmp`, memfd and `/proc` files; `O_PATH`
//! symlinks), [`dir`] (directories and `getdents64`; `/proc`'s in
//! [`procfs`]), [`dev`] (`/dev/null`, `/dev/zero`, `/dev/urandom` and the
//! console on descriptors 0, 1 and 2), [`pipe`] ends, [`event`]'s
//! eventfds, timerfds and epoll instances, [`socket`]s (whose names are
//! [`sockname`]'s: socket inodes, abstract names, ports), [`netlink`]
//! sockets, which describe the loopback interface ([`netif`], also its
//! `SIOCGIF*` ioctls). An `open` of
//! a node gets the kind its node's type says ([`node::open_object`]).
//!
//! The Linux-visible choices are each made in one place: a lookup's
//! (symlink walking, `ELOOP`, trailing slashes, `..`) in [`path`]; what a
//! kind of open file answers in [`object`]; what an access mode forbids in
//! the calls below (`EBADF`). The rest: [`dirops`] (calls that change the
//! tree), [`fileops`] (xattrs, owners, `flock`, `fallocate`,
//! `close_range`); this file holds `open` and the calls on descriptors.

mod dev;
mod dir;
mod dirops;
mod event;
mod fdtable;
mod fileops;
mod kind;
mod mqueue;
mod netif;
mod netlink;
mod node;
mod object;
mod path;
mod pidfd;
mod pipe;
mod procfs;
mod regular;
mod socket;
mod sockname;

use crate::archive::ArchiveError;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use dev::*;
use dir::*;
use fdtable::*;
use kind::*;
pub use mqueue::MqDesc;
pub use netif::is_ifreq;
pub use node::FileRef;
use node::*;
use object::{InodeCall, Object};
pub use procfs::{MemFigures, ProcFacts, ProcSource};
use regular::*;
pub use socket::EISCONN;
use vm_core::abi::{
    AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD,
    F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, MAXSYMLINKS, NAME_MAX, O_ACCMODE, O_APPEND, O_CLOEXEC,
    O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDWR, O_TMPFILE_BIT, O_TRUNC,
    O_WRONLY, PATH_MAX, RENAME_NOREPLACE, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG,
    S_IFSOCK, UTIME_NOW, UTIME_OMIT,
};
use vm_core::host::{AT_EMPTY_PATH, AT_FDCWD, Errno, FileStat, SysResult, Timespec};

/// Where console output goes.
pub trait Console: Sync {
    fn stdout(&self, data: &[u8]);
    fn stderr(&self, data: &[u8]);
}

/// The source of file timestamps.
pub type Clock = fn() -> Timespec;
/// The source of `/dev/urandom`'s bytes.
pub type Entropy = fn(&mut [u8]);

use vm_core::abi::{
    F_ADD_SEALS, F_GET_SEALS, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK,
    F_SEAL_WRITE,
};

/// Descriptors a guest may hold at first (`RLIMIT_NOFILE`'s usual soft
/// limit); `set_fd_limit` moves it up to [`MAX_FDS_HARD`].
pub const MAX_FDS: usize = 1024;
/// The hard `RLIMIT_NOFILE`.
pub const MAX_FDS_HARD: usize = 1 << 20;
const PIPE_CAPACITY: usize = 65536;

/// The file system plus one process's descriptor table and directory
/// state. Each process has its own `Fs` ([`Fs::fork`]) over the one tree.
pub struct Fs {
    root: Arc<Node>,
    fds: Vec<Option<Fd>>,
    fd_limit: usize,
    cwd: Vec<u8>,
    umask: u32,
    /// Shared by every process's view of the tree (see [`Fs::fork`]).
    next_ino: Arc<core::sync::atomic::AtomicU64>,
    console: &'static dyn Console,
    clock: Clock,
    /// Monotonic nanoseconds, for timers (default: from `clock`).
    monotonic: Option<fn() -> u64>,
    entropy: Entropy,
    /// The process this view belongs to (its `/proc/self`).
    pid: i32,
    /// The process table, for `/proc` (`None`: this process alone).
    procs: Option<&'static dyn procfs::ProcSource>,
    /// Abstract socket names and ports, shared by every process's view.
    names: Arc<spin::Mutex<sockname::Names>>,
}

impl core::fmt::Debug for Fs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Fs")
            .field("cwd", &self.cwd)
            .field("fds", &self.fds.len())
            .finish_non_exhaustive()
    }
}

/// Why the ramdisk could not become a file system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildError {
    Archive(ArchiveError),
    /// A member's path runs through something that is not a directory.
    NotADirectory(Vec<u8>),
}

impl core::fmt::Display for BuildError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BuildError::Archive(e) => write!(f, "{e}"),
            BuildError::NotADirectory(p) => write!(
                f,
                "ramdisk member {:?} lies under a non-directory",
                core::str::from_utf8(p).unwrap_or("?")
            ),
        }
    }
}

fn ts(sec: i64) -> Timespec {
    Timespec { sec, nsec: 0 }
}

impl Fs {
    // ---- HostOs file calls ---------------------------------------------

    pub fn openat(&mut self, dirfd: i32, path: &[u8], flags: i32, mode: u32) -> SysResult<i32> {
        if flags & O_TMPFILE_BIT != 0 {
            return Err(Errno::ENOTSUP);
        }
        let follow = flags & O_NOFOLLOW == 0;
        let r = self.resolve(dirfd, path, follow)?;
        let now = (self.clock)();
        let node = match r.node.clone() {
            Some(n) => {
                if flags & O_CREAT != 0 && flags & O_EXCL != 0 {
                    return Err(Errno::EEXIST);
                }
                n
            }
            None => {
                if flags & O_CREAT == 0 {
                    return Err(Errno::ENOENT);
                }
                if r.trailing_slash {
                    return Err(Errno::EISDIR);
                }
                if !r.parent.lock().writable {
                    return Err(Errno::EROFS);
                }
                let node = self.new_node(
                    mode & !self.umask,
                    true,
                    now,
                    file_node(Data::Owned(Vec::new())),
                );
                self.insert_child(&r.parent, &r.name, node.clone())
                    .map_err(|_| Errno::ENOTDIR)?;
                let mut p = r.parent.lock();
                p.mtime = now;
                p.ctime = now;
                node
            }
        };
        let (is_dir, is_link, takes_writes) = {
            let n = node.lock();
            (n.is_dir(), n.link_text().is_some(), n.takes_writes())
        };
        if is_link
            && follow
            && let Some(fd) = self.own_fd_link(&node)
        {
            return self.reopen(fd, flags);
        }
        if is_link && flags & O_PATH == 0 {
            return Err(Errno::ELOOP); // O_NOFOLLOW on a symlink
        }
        if r.trailing_slash && !is_dir {
            return Err(Errno::ENOTDIR);
        }
        if flags & O_DIRECTORY != 0 && !is_dir {
            return Err(Errno::ENOTDIR);
        }
        let wants_write = matches!(flags & O_ACCMODE, O_WRONLY | O_RDWR);
        if flags & O_PATH == 0 {
            node.lock().kind.openable()?;
            if is_dir && (wants_write || flags & O_CREAT != 0) {
                return Err(Errno::EISDIR);
            }
            if wants_write && !takes_writes {
                if node.lock().proc.is_some() {
                    // procfs is not read-only; its files are.
                    return Err(Errno::EACCES);
                }
                return Err(Errno::EROFS);
            }
            if flags & O_TRUNC != 0 && wants_write {
                let mut n = node.lock();
                if let Ok(v) = n.kind.contents_mut() {
                    v.clear();
                    n.mtime = now;
                    n.ctime = now;
                }
            }
        }
        let dir_path = r.path();
        let kept = flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_PATH | O_DIRECTORY);
        self.install(open_object(node), kept, dir_path, flags & O_CLOEXEC != 0)
    }

    pub fn read(&mut self, fd: i32, buf: &mut [u8]) -> SysResult<usize> {
        let file = self.file(fd)?;
        let mut f = file.lock();
        if !f.readable() {
            return Err(Errno::EBADF);
        }
        let obj = f.obj.clone();
        obj.read(self, &mut f.offset, buf)
    }

    pub fn write(&mut self, fd: i32, buf: &[u8]) -> SysResult<usize> {
        let file = self.file(fd)?;
        let mut f = file.lock();
        if !f.writable() {
            return Err(Errno::EBADF);
        }
        let obj = f.obj.clone();
        let append = f.flags & O_APPEND != 0;
        obj.write(self, &mut f.offset, append, buf)
    }

    pub fn pread(&mut self, fd: i32, buf: &mut [u8], offset: i64) -> SysResult<usize> {
        let file = self.file(fd)?;
        if offset < 0 {
            return Err(Errno::EINVAL);
        }
        let f = file.lock();
        if !f.readable() {
            return Err(Errno::EBADF);
        }
        if !f.obj.positional() {
            return Err(Errno::ESPIPE);
        }
        f.obj.read(self, &mut (offset as u64), buf)
    }

    pub fn pwrite(&mut self, fd: i32, buf: &[u8], offset: i64) -> SysResult<usize> {
        let file = self.file(fd)?;
        if offset < 0 {
            return Err(Errno::EINVAL);
        }
        let mut f = file.lock();
        if !f.obj.positional() {
            return Err(Errno::ESPIPE);
        }
        if !f.writable() {
            return Err(Errno::EBADF);
        }
        let obj = f.obj.clone();
        // Linux ignores the offset of pwrite on O_APPEND files; such a
        // write moves the description's position to the end, as `write`.
        if f.flags & O_APPEND != 0 {
            obj.write(self, &mut f.offset, true, buf)
        } else {
            obj.write(self, &mut (offset as u64), false, buf)
        }
    }

    pub fn lseek(&mut self, fd: i32, offset: i64, whence: i32) -> SysResult<i64> {
        let file = self.file(fd)?;
        let mut f = file.lock();
        let obj = f.obj.clone();
        obj.seek(&mut f.offset, offset, whence)
    }

    pub fn fstatat(&mut self, dirfd: i32, path: &[u8], flags: i32) -> SysResult<FileStat> {
        if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
            if dirfd == AT_FDCWD {
                let r = self.resolve(AT_FDCWD, b".", true)?;
                return Ok(self.stat_node(&r.existing()?.lock()));
            }
            let obj = self.file(dirfd)?.lock().obj.clone();
            return Ok(obj.stat(self));
        }
        let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
        let r = self.resolve(dirfd, path, follow)?;
        let node = r.existing()?;
        if follow && let Some(fd) = self.own_fd_link(&node) {
            // /proc/self/fd/N of a pipe, socket or the console.
            let file = self.file(fd).map_err(|_| Errno::ENOENT)?;
            let obj = file.lock().obj.clone();
            return Ok(obj.stat(self));
        }
        let n = node.lock();
        Ok(self.stat_node(&n))
    }

    pub fn faccessat(&mut self, dirfd: i32, path: &[u8], mode: i32, flags: i32) -> SysResult<()> {
        let r = self.resolve(dirfd, path, flags & AT_SYMLINK_NOFOLLOW == 0)?;
        let node = r.existing()?;
        let n = node.lock();
        if mode & 2 != 0 && !n.takes_writes() {
            return Err(Errno::EROFS);
        }
        // The guest runs as root: execute needs some x bit (or a directory).
        if mode & 1 != 0 && !n.is_dir() && n.perm & 0o111 == 0 {
            return Err(Errno::EACCES);
        }
        Ok(())
    }

    pub fn readlinkat(&mut self, dirfd: i32, path: &[u8], buf: &mut [u8]) -> SysResult<usize> {
        let r = self.resolve(dirfd, path, false)?;
        let node = r.existing()?;
        let n = node.lock();
        let t = n.link_text().ok_or(Errno::EINVAL)?;
        let len = t.len().min(buf.len());
        buf[..len].copy_from_slice(&t[..len]);
        Ok(len)
    }

    pub fn ftruncate(&mut self, fd: i32, len: i64) -> SysResult<()> {
        if len < 0 {
            return Err(Errno::EINVAL);
        }
        let file = self.file(fd)?;
        let obj = {
            let f = file.lock();
            if !f.writable() {
                return Err(Errno::EINVAL);
            }
            f.obj.clone()
        };
        obj.truncate(self, len)
    }

    pub fn fsync(&mut self, fd: i32) -> SysResult<()> {
        self.check_fd(fd)
    }

    /// The regular file open as `fd`, for a shared mapping of it.
    pub fn file_ref(&self, fd: i32) -> SysResult<FileRef> {
        self.file(fd)?.lock().obj.mapping()
    }

    /// The events the description `f` has now, before masking.
    fn poll_file(&self, f: &OpenFile, depth: u32) -> i16 {
        f.obj.poll(self, depth)
    }

    /// `poll` readiness, filling each `revents`; returns how many entries
    /// have any (`POLLHUP`, `POLLERR` and `POLLNVAL` whether asked for or
    /// not).
    pub fn poll(&self, fds: &mut [vm_core::host::PollFd]) -> usize {
        use object::{POLLERR, POLLHUP, POLLNVAL};
        let mut ready = 0;
        for p in fds.iter_mut() {
            p.revents = if p.fd < 0 {
                0
            } else {
                match self.file(p.fd) {
                    Err(_) => POLLNVAL,
                    Ok(file) => self.poll_file(&file.lock(), 0) & (p.events | POLLHUP | POLLERR),
                }
            };
            if p.revents != 0 {
                ready += 1;
            }
        }
        ready
    }

    /// `memfd_create(name, flags)`: a file in memory that no directory
    /// holds (`MFD_CLOEXEC`, `MFD_ALLOW_SEALING`; the name is checked by
    /// the core).
    pub fn memfd_create(&mut self, name: &[u8], flags: u32) -> SysResult<i32> {
        use vm_core::abi::{MFD_ALLOW_SEALING, MFD_CLOEXEC};
        if flags & !(MFD_CLOEXEC | MFD_ALLOW_SEALING) != 0 {
            return Err(Errno::EINVAL);
        }
        let now = (self.clock)();
        let node = self.new_node(0o777, true, now, file_node(Data::Owned(Vec::new())));
        {
            let mut n = node.lock();
            n.nlink = 0;
            n.seals = Some(if flags & MFD_ALLOW_SEALING != 0 {
                0
            } else {
                F_SEAL_SEAL
            });
        }
        let mut path = b"/memfd:".to_vec();
        path.extend_from_slice(name);
        self.install(
            Arc::new(RegularFile(node)),
            O_RDWR,
            path,
            flags & MFD_CLOEXEC != 0,
        )
    }

    /// Monotonic nanoseconds now.
    fn mono_ns(&self) -> u64 {
        match self.monotonic {
            Some(f) => f(),
            None => {
                let t = (self.clock)();
                (t.sec as u64).saturating_mul(1_000_000_000) + t.nsec as u64
            }
        }
    }

    /// Use `f` (nanoseconds) as the monotonic clock timers run on.
    pub fn set_monotonic(&mut self, f: fn() -> u64) {
        self.monotonic = Some(f);
    }

    /// Console and pipes are not terminals; anything else is ENOTTY too,
    /// but a closed descriptor is EBADF.
    pub fn not_a_tty(&self, fd: i32) -> Errno {
        match self.fd(fd) {
            Ok(_) => Errno::ENOTTY,
            Err(e) => e,
        }
    }

    pub fn getcwd(&self, buf: &mut [u8]) -> SysResult<usize> {
        if self.cwd.len() > buf.len() {
            return Err(Errno::ERANGE);
        }
        buf[..self.cwd.len()].copy_from_slice(&self.cwd);
        Ok(self.cwd.len())
    }

    pub fn chdir(&mut self, path: &[u8]) -> SysResult<()> {
        let r = self.resolve(AT_FDCWD, path, true)?;
        let node = r.existing()?;
        if !node.lock().is_dir() {
            return Err(Errno::ENOTDIR);
        }
        self.cwd = r.path();
        Ok(())
    }

    pub fn fchdir(&mut self, fd: i32) -> SysResult<()> {
        let file = self.file(fd)?;
        let f = file.lock();
        match f.obj.inode() {
            Some(n) if n.lock().is_dir() => {
                self.cwd = f.dir_path.clone();
                Ok(())
            }
            _ => Err(Errno::ENOTDIR),
        }
    }

    pub fn umask(&mut self, mask: u32) -> u32 {
        core::mem::replace(&mut self.umask, mask & 0o777)
    }

    /// Set the starting directory, creating it if the ramdisk does not
    /// have it, so relative paths behave as on the build machine. Like a
    /// scratch directory, it is writable (in memory, as `/tmp` is): new
    /// entries may be made there, while ramdisk files stay read-only.
    pub fn set_initial_cwd(&mut self, path: &[u8]) -> SysResult<()> {
        let mut dir = self.root.clone();
        let now = (self.clock)();
        for comp in path
            .split(|&c| c == b'/')
            .filter(|c| !c.is_empty() && *c != b".")
        {
            if comp == b".." {
                return Err(Errno::EINVAL);
            }
            dir = self
                .child_dir(&dir, comp, 0o755, now)
                .map_err(|_| Errno::ENOTDIR)?;
        }
        dir.lock().writable = true;
        self.chdir(path)
    }

    /// Whole contents of a regular file (for the kernel's own start-up
    /// files, read before the guest runs).
    pub fn read_whole(&self, path: &[u8]) -> SysResult<Vec<u8>> {
        let node = self.resolve(AT_FDCWD, path, true)?.existing()?;
        let n = node.lock();
        n.kind.contents().map(|d| d.to_vec())
    }
}

#[cfg(test)]
mod tests;
