//! The unikernel's file system and file-descriptor table.
//!
//! One tree of [`Node`]s: the ramdisk's members, read-only and borrowed in
//! place, plus a writable in-memory `/tmp` (and `/dev/null`, `/dev/zero`).
//! Descriptors 0, 1 and 2 are the console: stdin reads the optional stdin
//! file the runner packed, stdout and stderr go to a [`Console`]. Pipes live
//! here too (single-threaded guests use them to talk to themselves).
//!
//! Every method mirrors one `HostOs` file call (same arguments, Linux errno
//! results, asm-generic flag values), so the kernel's `HostOs` is a thin
//! lock-and-forward layer and all of this is tested on the build machine.

use crate::archive::{self, ArchiveError};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use vm_core::abi::{
    AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD,
    F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, MAXSYMLINKS, NAME_MAX, O_ACCMODE, O_APPEND, O_CLOEXEC,
    O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDWR, O_TMPFILE_BIT, O_TRUNC,
    O_WRONLY, PATH_MAX, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, RENAME_NOREPLACE, S_IFCHR,
    S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, UTIME_NOW, UTIME_OMIT,
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

/// Descriptors a guest may hold at first (`RLIMIT_NOFILE`'s usual soft
/// limit); `set_fd_limit` moves it up to [`MAX_FDS_HARD`].
pub const MAX_FDS: usize = 1024;
/// The hard `RLIMIT_NOFILE`.
pub const MAX_FDS_HARD: usize = 1 << 20;
const PIPE_CAPACITY: usize = 65536;

/// File contents: borrowed from the ramdisk, or owned (in `/tmp`).
#[derive(Debug)]
enum Data {
    Static(&'static [u8]),
    Owned(Vec<u8>),
}

impl Data {
    fn bytes(&self) -> &[u8] {
        match self {
            Data::Static(s) => s,
            Data::Owned(v) => v,
        }
    }
    fn owned(&mut self) -> &mut Vec<u8> {
        if let Data::Static(s) = self {
            *self = Data::Owned(s.to_vec());
        }
        match self {
            Data::Owned(v) => v,
            Data::Static(_) => unreachable!("converted above"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Device {
    Null,
    Zero,
    /// `/dev/urandom` and `/dev/random` (which no longer blocks on Linux).
    Random,
}

#[derive(Debug)]
enum Kind {
    Dir {
        entries: BTreeMap<Vec<u8>, Arc<Node>>,
        parent: Weak<Node>,
    },
    File(Data),
    Symlink(Vec<u8>),
    Device(Device),
}

#[derive(Debug)]
struct Inode {
    ino: u64,
    /// Permission bits only; the type comes from `kind`.
    perm: u32,
    nlink: u32,
    /// May this node (and, for a directory, its entry list) change?
    writable: bool,
    atime: Timespec,
    mtime: Timespec,
    ctime: Timespec,
    kind: Kind,
}

impl Inode {
    fn type_bits(&self) -> u32 {
        match self.kind {
            Kind::Dir { .. } => S_IFDIR,
            Kind::File(_) => S_IFREG,
            Kind::Symlink(_) => S_IFLNK,
            Kind::Device(_) => S_IFCHR,
        }
    }
    fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir { .. })
    }
    fn size(&self) -> u64 {
        match &self.kind {
            Kind::File(d) => d.bytes().len() as u64,
            Kind::Symlink(t) => t.len() as u64,
            Kind::Dir { entries, .. } => 4096.max(entries.len() as u64 * 32),
            Kind::Device(_) => 0,
        }
    }
}

/// A file system object.
type Node = spin::Mutex<Inode>;

#[derive(Debug, Default)]
struct Pipe {
    buf: VecDeque<u8>,
    readers: usize,
    writers: usize,
}

#[derive(Debug)]
enum Open {
    Node(Arc<Node>),
    Stdin(&'static [u8]),
    Stdout,
    Stderr,
    PipeRead(Arc<spin::Mutex<Pipe>>),
    PipeWrite(Arc<spin::Mutex<Pipe>>),
}

/// An open file description (shared by `dup`ed descriptors).
#[derive(Debug)]
struct OpenFile {
    open: Open,
    /// Access mode and status flags (`O_APPEND`, `O_NONBLOCK`, `O_PATH`).
    flags: i32,
    offset: u64,
    /// Absolute path of a directory, for `*at` calls relative to it.
    dir_path: Vec<u8>,
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        match &self.open {
            Open::PipeRead(p) => p.lock().readers -= 1,
            Open::PipeWrite(p) => p.lock().writers -= 1,
            _ => {}
        }
    }
}

impl OpenFile {
    fn readable(&self) -> bool {
        self.flags & O_PATH == 0 && self.flags & O_ACCMODE != O_WRONLY
    }
    fn writable(&self) -> bool {
        self.flags & O_PATH == 0 && matches!(self.flags & O_ACCMODE, O_WRONLY | O_RDWR)
    }
}

#[derive(Clone, Debug)]
struct Fd {
    file: Arc<spin::Mutex<OpenFile>>,
    cloexec: bool,
}

/// Result of resolving a path.
struct Resolved {
    /// Directory that holds (or would hold) the last component.
    parent: Arc<Node>,
    /// Absolute path of `parent`.
    parent_path: Vec<u8>,
    /// The last component (empty when the path named `/`).
    name: Vec<u8>,
    /// The object, if it exists.
    node: Option<Arc<Node>>,
    /// The path ended with a slash: the object must be a directory.
    trailing_slash: bool,
}

impl Resolved {
    fn path(&self) -> Vec<u8> {
        join(&self.parent_path, &self.name)
    }
    fn existing(&self) -> SysResult<Arc<Node>> {
        let node = self.node.clone().ok_or(Errno::ENOENT)?;
        if self.trailing_slash && !node.lock().is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok(node)
    }
}

fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if name.is_empty() {
        return p;
    }
    if p.last() != Some(&b'/') {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// The file system plus the process's descriptor table and directory state.
pub struct Fs {
    root: Arc<Node>,
    fds: Vec<Option<Fd>>,
    fd_limit: usize,
    cwd: Vec<u8>,
    umask: u32,
    next_ino: u64,
    console: &'static dyn Console,
    clock: Clock,
    entropy: Entropy,
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
    /// Build the tree from a newc archive. `/tmp` (writable) and `/dev` are
    /// added; fds 0..=2 are the console, stdin reading `stdin`.
    pub fn new(
        archive: &'static [u8],
        stdin: &'static [u8],
        console: &'static dyn Console,
        clock: Clock,
        entropy: Entropy,
    ) -> Result<Fs, BuildError> {
        let now = clock();
        let root = Arc::new(spin::Mutex::new(Inode {
            ino: 1,
            perm: 0o755,
            nlink: 2,
            writable: false,
            atime: now,
            mtime: now,
            ctime: now,
            kind: Kind::Dir {
                entries: BTreeMap::new(),
                parent: Weak::new(),
            },
        }));
        let mut fs = Fs {
            root,
            fds: Vec::new(),
            fd_limit: MAX_FDS,
            cwd: b"/".to_vec(),
            umask: 0o022,
            next_ino: 2,
            console,
            clock,
            entropy,
        };
        for entry in archive::read(archive) {
            let e = entry.map_err(BuildError::Archive)?;
            fs.add_member(e)?;
        }
        let tmp = fs
            .ensure_dir(b"tmp")
            .map_err(|_| BuildError::NotADirectory(b"/tmp".to_vec()))?;
        {
            let mut t = tmp.lock();
            t.writable = true;
            t.perm = 0o1777;
        }
        let dev = fs
            .ensure_dir(b"dev")
            .map_err(|_| BuildError::NotADirectory(b"/dev".to_vec()))?;
        let devices = [
            (&b"null"[..], Device::Null),
            (b"zero", Device::Zero),
            (b"urandom", Device::Random),
            (b"random", Device::Random),
        ];
        for (name, d) in devices {
            let node = fs.new_node(0o666, false, now, Kind::Device(d));
            if let Kind::Dir { entries, .. } = &mut dev.lock().kind {
                entries.entry(name.to_vec()).or_insert(node);
            }
        }
        for open in [Open::Stdin(stdin), Open::Stdout, Open::Stderr] {
            let flags = if matches!(open, Open::Stdin(_)) {
                0
            } else {
                O_WRONLY
            };
            fs.install(open, flags, Vec::new(), false)
                .map_err(|_| BuildError::NotADirectory(Vec::new()))?;
        }
        Ok(fs)
    }

    fn new_node(&mut self, perm: u32, writable: bool, t: Timespec, kind: Kind) -> Arc<Node> {
        let ino = self.next_ino;
        self.next_ino += 1;
        let nlink = if matches!(kind, Kind::Dir { .. }) {
            2
        } else {
            1
        };
        Arc::new(spin::Mutex::new(Inode {
            ino,
            perm: perm & 0o7777,
            nlink,
            writable,
            atime: t,
            mtime: t,
            ctime: t,
            kind,
        }))
    }

    /// `/name`, creating it as a read-only directory if missing.
    fn ensure_dir(&mut self, name: &[u8]) -> Result<Arc<Node>, ()> {
        let root = self.root.clone();
        self.child_dir(&root, name, 0o755, (self.clock)())
    }

    fn child_dir(
        &mut self,
        dir: &Arc<Node>,
        name: &[u8],
        perm: u32,
        t: Timespec,
    ) -> Result<Arc<Node>, ()> {
        let existing = match &dir.lock().kind {
            Kind::Dir { entries, .. } => entries.get(name).cloned(),
            _ => return Err(()),
        };
        if let Some(n) = existing {
            return if n.lock().is_dir() { Ok(n) } else { Err(()) };
        }
        let node = self.new_node(
            perm,
            false,
            t,
            Kind::Dir {
                entries: BTreeMap::new(),
                parent: Arc::downgrade(dir),
            },
        );
        let mut d = dir.lock();
        if let Kind::Dir { entries, .. } = &mut d.kind {
            entries.insert(name.to_vec(), node.clone());
        }
        d.nlink += 1;
        Ok(node)
    }

    fn add_member(&mut self, e: archive::Entry<'static>) -> Result<(), BuildError> {
        let not_dir = || BuildError::NotADirectory(e.name.to_vec());
        let parts: Vec<&[u8]> = e
            .name
            .split(|&c| c == b'/')
            .filter(|p| !p.is_empty() && *p != b".")
            .collect();
        let Some((last, dirs)) = parts.split_last() else {
            return Ok(()); // "." or "/": the root itself
        };
        if parts.iter().any(|p| *p == b"..") {
            return Err(not_dir());
        }
        let t = ts(i64::from(e.mtime));
        let mut dir = self.root.clone();
        for d in dirs {
            dir = self.child_dir(&dir, d, 0o755, t).map_err(|_| not_dir())?;
        }
        let perm = e.mode & 0o7777;
        match e.mode & S_IFMT {
            S_IFDIR => {
                let n = self.child_dir(&dir, last, perm, t).map_err(|_| not_dir())?;
                let mut n = n.lock();
                n.perm = perm;
                n.mtime = t;
            }
            S_IFLNK => {
                let node = self.new_node(perm, false, t, Kind::Symlink(e.data.to_vec()));
                self.insert_child(&dir, last, node).map_err(|_| not_dir())?;
            }
            // Regular files and anything else (devices, fifos in an archive)
            // become plain read-only files.
            _ => {
                let node = self.new_node(perm, false, t, Kind::File(Data::Static(e.data)));
                self.insert_child(&dir, last, node).map_err(|_| not_dir())?;
            }
        }
        Ok(())
    }

    fn insert_child(&self, dir: &Arc<Node>, name: &[u8], node: Arc<Node>) -> Result<(), ()> {
        match &mut dir.lock().kind {
            Kind::Dir { entries, .. } => {
                entries.insert(name.to_vec(), node);
                Ok(())
            }
            _ => Err(()),
        }
    }

    // ---- descriptors -----------------------------------------------------

    fn install(
        &mut self,
        open: Open,
        flags: i32,
        dir_path: Vec<u8>,
        cloexec: bool,
    ) -> SysResult<i32> {
        let file = Arc::new(spin::Mutex::new(OpenFile {
            open,
            flags,
            offset: 0,
            dir_path,
        }));
        self.install_fd(Fd { file, cloexec }, 0)
    }

    fn install_fd(&mut self, fd: Fd, min: usize) -> SysResult<i32> {
        let slot = (min..self.fd_limit)
            .find(|&i| self.fds.get(i).is_none_or(|f| f.is_none()))
            .ok_or(Errno::EMFILE)?;
        if slot >= self.fds.len() {
            self.fds.resize(slot + 1, None);
        }
        self.fds[slot] = Some(fd);
        Ok(slot as i32)
    }

    fn fd(&self, fd: i32) -> SysResult<&Fd> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.fds.get(i))
            .and_then(|f| f.as_ref())
            .ok_or(Errno::EBADF)
    }

    fn file(&self, fd: i32) -> SysResult<Arc<spin::Mutex<OpenFile>>> {
        Ok(self.fd(fd)?.file.clone())
    }

    // ---- path resolution -------------------------------------------------

    /// Absolute path of the directory `dirfd` stands for.
    fn base_path(&self, dirfd: i32, path: &[u8]) -> SysResult<Vec<u8>> {
        if path.first() == Some(&b'/') {
            return Ok(b"/".to_vec());
        }
        if dirfd == AT_FDCWD {
            return Ok(self.cwd.clone());
        }
        let file = self.file(dirfd)?;
        let f = file.lock();
        match &f.open {
            Open::Node(n) if n.lock().is_dir() => Ok(f.dir_path.clone()),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn resolve(&self, dirfd: i32, path: &[u8], follow_last: bool) -> SysResult<Resolved> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        if path.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let base = self.base_path(dirfd, path)?;
        let mut budget = MAXSYMLINKS;
        // A stack of (name, dir) from the root: ".." pops, like the kernel's
        // walk, so symlinked directories resolve physically.
        let mut stack: Vec<(Vec<u8>, Arc<Node>)> = Vec::new();
        self.walk(&mut stack, &base, true, &mut budget)?;
        self.walk_last(stack, path, follow_last, &mut budget)
    }

    fn current(&self, stack: &[(Vec<u8>, Arc<Node>)]) -> Arc<Node> {
        stack
            .last()
            .map_or_else(|| self.root.clone(), |(_, n)| n.clone())
    }

    fn stack_path(stack: &[(Vec<u8>, Arc<Node>)]) -> Vec<u8> {
        if stack.is_empty() {
            return b"/".to_vec();
        }
        let mut p = Vec::new();
        for (name, _) in stack {
            p.push(b'/');
            p.extend_from_slice(name);
        }
        p
    }

    fn lookup(dir: &Arc<Node>, name: &[u8]) -> SysResult<Option<Arc<Node>>> {
        match &dir.lock().kind {
            Kind::Dir { entries, .. } => Ok(entries.get(name).cloned()),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// Walk every component of `path` (all must exist and be followed).
    fn walk(
        &self,
        stack: &mut Vec<(Vec<u8>, Arc<Node>)>,
        path: &[u8],
        absolute_reset: bool,
        budget: &mut u32,
    ) -> SysResult<()> {
        if path.first() == Some(&b'/') && absolute_reset {
            stack.clear();
        }
        for comp in path.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
            self.step(stack, comp, budget)?;
        }
        Ok(())
    }

    fn step(
        &self,
        stack: &mut Vec<(Vec<u8>, Arc<Node>)>,
        comp: &[u8],
        budget: &mut u32,
    ) -> SysResult<()> {
        if comp.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        match comp {
            b"." => {
                if !self.current(stack).lock().is_dir() {
                    return Err(Errno::ENOTDIR);
                }
            }
            b".." => {
                stack.pop();
            }
            _ => {
                let dir = self.current(stack);
                let node = Self::lookup(&dir, comp)?.ok_or(Errno::ENOENT)?;
                let target = match &node.lock().kind {
                    Kind::Symlink(t) => Some(t.clone()),
                    _ => None,
                };
                match target {
                    Some(t) => {
                        if *budget == 0 {
                            return Err(Errno::ELOOP);
                        }
                        *budget -= 1;
                        self.walk(stack, &t, true, budget)?;
                    }
                    None => stack.push((comp.to_vec(), node)),
                }
            }
        }
        Ok(())
    }

    fn walk_last(
        &self,
        mut stack: Vec<(Vec<u8>, Arc<Node>)>,
        path: &[u8],
        follow_last: bool,
        budget: &mut u32,
    ) -> SysResult<Resolved> {
        if path.first() == Some(&b'/') {
            stack.clear();
        }
        let trailing_slash = path.last() == Some(&b'/');
        let comps: Vec<&[u8]> = path
            .split(|&c| c == b'/')
            .filter(|c| !c.is_empty())
            .collect();
        let Some((&last, init)) = comps.split_last() else {
            // "/" (or "///"): the root.
            return Ok(Resolved {
                parent: self.root.clone(),
                parent_path: b"/".to_vec(),
                name: Vec::new(),
                node: Some(self.root.clone()),
                trailing_slash: false,
            });
        };
        for comp in init {
            self.step(&mut stack, comp, budget)?;
        }
        if !self.current(&stack).lock().is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if last.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        if last == b"." || last == b".." {
            self.step(&mut stack, last, budget)?;
            let node = self.current(&stack);
            let name = stack.last().map(|(n, _)| n.clone()).unwrap_or_default();
            if !stack.is_empty() {
                stack.pop();
            }
            return Ok(Resolved {
                parent: self.current(&stack),
                parent_path: Self::stack_path(&stack),
                name,
                node: Some(node),
                trailing_slash: true,
            });
        }
        let parent = self.current(&stack);
        let node = Self::lookup(&parent, last)?;
        let link = node.as_ref().and_then(|n| match &n.lock().kind {
            Kind::Symlink(t) => Some(t.clone()),
            _ => None,
        });
        if let Some(target) = link
            && (follow_last || trailing_slash)
        {
            if *budget == 0 {
                return Err(Errno::ELOOP);
            }
            *budget -= 1;
            let mut r = self.walk_last(stack, &target, true, budget)?;
            r.trailing_slash |= trailing_slash;
            return Ok(r);
        }
        Ok(Resolved {
            parent,
            parent_path: Self::stack_path(&stack),
            name: last.to_vec(),
            node,
            trailing_slash,
        })
    }

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
                    Kind::File(Data::Owned(Vec::new())),
                );
                self.insert_child(&r.parent, &r.name, node.clone())
                    .map_err(|_| Errno::ENOTDIR)?;
                let mut p = r.parent.lock();
                p.mtime = now;
                p.ctime = now;
                node
            }
        };
        let (is_dir, is_link, writable_node) = {
            let n = node.lock();
            (n.is_dir(), matches!(n.kind, Kind::Symlink(_)), n.writable)
        };
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
            if is_dir && (wants_write || flags & O_CREAT != 0) {
                return Err(Errno::EISDIR);
            }
            let is_device = matches!(node.lock().kind, Kind::Device(_));
            if wants_write && !writable_node && !is_device {
                return Err(Errno::EROFS);
            }
            if flags & O_TRUNC != 0 && wants_write {
                let mut n = node.lock();
                if let Kind::File(d) = &mut n.kind {
                    d.owned().clear();
                    n.mtime = now;
                    n.ctime = now;
                }
            }
        }
        let dir_path = if is_dir { r.path() } else { Vec::new() };
        let kept = flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_PATH | O_DIRECTORY);
        self.install(Open::Node(node), kept, dir_path, flags & O_CLOEXEC != 0)
    }

    pub fn close(&mut self, fd: i32) -> SysResult<()> {
        self.fd(fd)?;
        self.fds[fd as usize] = None;
        Ok(())
    }

    pub fn read(&mut self, fd: i32, buf: &mut [u8]) -> SysResult<usize> {
        let file = self.file(fd)?;
        let mut f = file.lock();
        if !f.readable() {
            return Err(Errno::EBADF);
        }
        let offset = f.offset;
        let n = match &f.open {
            Open::Stdin(data) => copy_out(data, offset, buf),
            Open::Stdout | Open::Stderr | Open::PipeWrite(_) => return Err(Errno::EBADF),
            Open::PipeRead(p) => {
                let mut p = p.lock();
                if p.buf.is_empty() {
                    // No other thread can ever fill it while we wait.
                    return if p.writers == 0 {
                        Ok(0)
                    } else {
                        Err(Errno::EAGAIN)
                    };
                }
                let n = buf.len().min(p.buf.len());
                for (dst, src) in buf.iter_mut().zip(p.buf.drain(..n)) {
                    *dst = src;
                }
                return Ok(n);
            }
            Open::Node(node) => {
                let n = node.lock();
                match &n.kind {
                    Kind::File(d) => copy_out(d.bytes(), offset, buf),
                    Kind::Dir { .. } => return Err(Errno::EISDIR),
                    Kind::Device(Device::Null) => 0,
                    Kind::Device(Device::Zero) => {
                        buf.fill(0);
                        return Ok(buf.len());
                    }
                    Kind::Device(Device::Random) => {
                        (self.entropy)(buf);
                        return Ok(buf.len());
                    }
                    Kind::Symlink(_) => return Err(Errno::EBADF),
                }
            }
        };
        f.offset += n as u64;
        Ok(n)
    }

    pub fn write(&mut self, fd: i32, buf: &[u8]) -> SysResult<usize> {
        let file = self.file(fd)?;
        let mut f = file.lock();
        if !f.writable() {
            return Err(Errno::EBADF);
        }
        match &f.open {
            Open::Stdout => {
                self.console.stdout(buf);
                return Ok(buf.len());
            }
            Open::Stderr => {
                self.console.stderr(buf);
                return Ok(buf.len());
            }
            Open::Stdin(_) | Open::PipeRead(_) => return Err(Errno::EBADF),
            Open::PipeWrite(p) => {
                let mut p = p.lock();
                if p.readers == 0 {
                    return Err(Errno::EPIPE);
                }
                let room = PIPE_CAPACITY - p.buf.len();
                if room == 0 && !buf.is_empty() {
                    return Err(Errno::EAGAIN);
                }
                let n = buf.len().min(room);
                p.buf.extend(&buf[..n]);
                return Ok(n);
            }
            Open::Node(_) => {}
        }
        let Open::Node(node) = &f.open else {
            unreachable!("other kinds returned above")
        };
        let node = node.clone();
        let mut n = node.lock();
        let now = (self.clock)();
        let append = f.flags & O_APPEND != 0;
        match &mut n.kind {
            Kind::File(d) => {
                let v = d.owned();
                let at = if append { v.len() as u64 } else { f.offset };
                let end = at.checked_add(buf.len() as u64).ok_or(Errno::EFBIG)?;
                let end = usize::try_from(end).map_err(|_| Errno::EFBIG)?;
                let at = at as usize;
                if end > v.len() {
                    v.try_reserve(end - v.len()).map_err(|_| Errno::ENOSPC)?;
                    v.resize(end, 0);
                }
                v[at..end].copy_from_slice(buf);
                f.offset = end as u64;
            }
            Kind::Device(_) => return Ok(buf.len()),
            Kind::Dir { .. } => return Err(Errno::EISDIR),
            Kind::Symlink(_) => return Err(Errno::EBADF),
        }
        n.mtime = now;
        n.ctime = now;
        Ok(buf.len())
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
        match &f.open {
            Open::Node(node) => match &node.lock().kind {
                Kind::File(d) => Ok(copy_out(d.bytes(), offset as u64, buf)),
                Kind::Dir { .. } => Err(Errno::EISDIR),
                Kind::Device(Device::Null) => Ok(0),
                Kind::Device(Device::Zero) => {
                    buf.fill(0);
                    Ok(buf.len())
                }
                Kind::Device(Device::Random) => {
                    (self.entropy)(buf);
                    Ok(buf.len())
                }
                Kind::Symlink(_) => Err(Errno::EBADF),
            },
            _ => Err(Errno::ESPIPE),
        }
    }

    pub fn pwrite(&mut self, fd: i32, buf: &[u8], offset: i64) -> SysResult<usize> {
        let file = self.file(fd)?;
        if offset < 0 {
            return Err(Errno::EINVAL);
        }
        let (saved, flags) = {
            let f = file.lock();
            if !matches!(f.open, Open::Node(_)) {
                return Err(Errno::ESPIPE);
            }
            (f.offset, f.flags)
        };
        // Linux ignores the offset of pwrite on O_APPEND files, as we do by
        // reusing `write`; otherwise write at `offset` and restore.
        file.lock().offset = offset as u64;
        let r = self.write(fd, buf);
        if flags & O_APPEND == 0 {
            file.lock().offset = saved;
        }
        r
    }

    pub fn lseek(&mut self, fd: i32, offset: i64, whence: i32) -> SysResult<i64> {
        let file = self.file(fd)?;
        let mut f = file.lock();
        let node = match &f.open {
            Open::Node(n) => Some(n.clone()),
            _ => None,
        };
        let size = match node {
            Some(n) => {
                let n = n.lock();
                match n.kind {
                    Kind::Dir { .. } => {
                        // Only rewinding a directory stream is meaningful.
                        if whence == 0 && offset == 0 {
                            f.offset = 0;
                            return Ok(0);
                        }
                        return Err(Errno::EINVAL);
                    }
                    Kind::Device(_) => {
                        f.offset = 0;
                        return Ok(0);
                    }
                    _ => n.size(),
                }
            }
            None => return Err(Errno::ESPIPE),
        };
        let base: i64 = match whence {
            0 => 0,
            1 => f.offset as i64,
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
                f.offset = size;
                return Ok(size as i64);
            }
            _ => return Err(Errno::EINVAL),
        };
        let new = base.checked_add(offset).ok_or(Errno::EOVERFLOW)?;
        if new < 0 {
            return Err(Errno::EINVAL);
        }
        f.offset = new as u64;
        Ok(new)
    }

    fn stat_node(&self, n: &Inode) -> FileStat {
        let size = n.size();
        FileStat {
            dev: if n.writable { 2 } else { 1 },
            ino: n.ino,
            mode: n.type_bits() | n.perm,
            nlink: n.nlink,
            uid: 0,
            gid: 0,
            rdev: match n.kind {
                Kind::Device(Device::Null) => (1 << 8) | 3,
                Kind::Device(Device::Zero) => (1 << 8) | 5,
                Kind::Device(Device::Random) => (1 << 8) | 9,
                _ => 0,
            },
            size: size as i64,
            blksize: 4096,
            blocks: size.div_ceil(512) as i64,
            atime: n.atime,
            mtime: n.mtime,
            ctime: n.ctime,
        }
    }

    fn stat_open(&self, f: &OpenFile) -> FileStat {
        let pipe_like = |ino| FileStat {
            dev: 3,
            ino,
            mode: S_IFIFO | 0o600,
            nlink: 1,
            blksize: 4096,
            ..FileStat::default()
        };
        match &f.open {
            Open::Node(n) => self.stat_node(&n.lock()),
            // The console looks like the pipes a test harness connects.
            Open::Stdin(d) => FileStat {
                size: 0,
                ..pipe_like(d.len() as u64 ^ 0x5eed)
            },
            Open::Stdout => pipe_like(0x1001),
            Open::Stderr => pipe_like(0x1002),
            Open::PipeRead(p) | Open::PipeWrite(p) => {
                pipe_like(Arc::as_ptr(p) as *const u8 as usize as u64)
            }
        }
    }

    pub fn fstatat(&mut self, dirfd: i32, path: &[u8], flags: i32) -> SysResult<FileStat> {
        if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
            if dirfd == AT_FDCWD {
                let r = self.resolve(AT_FDCWD, b".", true)?;
                return Ok(self.stat_node(&r.existing()?.lock()));
            }
            let file = self.file(dirfd)?;
            let f = file.lock();
            return Ok(self.stat_open(&f));
        }
        let r = self.resolve(dirfd, path, flags & AT_SYMLINK_NOFOLLOW == 0)?;
        let node = r.existing()?;
        let n = node.lock();
        Ok(self.stat_node(&n))
    }

    pub fn faccessat(&mut self, dirfd: i32, path: &[u8], mode: i32, flags: i32) -> SysResult<()> {
        let r = self.resolve(dirfd, path, flags & AT_SYMLINK_NOFOLLOW == 0)?;
        let node = r.existing()?;
        let n = node.lock();
        if mode & 2 != 0 && !n.writable && !matches!(n.kind, Kind::Device(_)) {
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
        match &n.kind {
            Kind::Symlink(t) => {
                let len = t.len().min(buf.len());
                buf[..len].copy_from_slice(&t[..len]);
                Ok(len)
            }
            _ => Err(Errno::EINVAL),
        }
    }

    pub fn getdents64(&mut self, fd: i32, buf: &mut [u8]) -> SysResult<usize> {
        let file = self.file(fd)?;
        let mut f = file.lock();
        let Open::Node(node) = &f.open else {
            return Err(Errno::ENOTDIR);
        };
        let node = node.clone();
        let n = node.lock();
        let Kind::Dir { entries, parent } = &n.kind else {
            return Err(Errno::ENOTDIR);
        };
        let parent_ino = parent.upgrade().map_or(n.ino, |p| p.lock().ino);
        let mut used = 0;
        let mut index = f.offset as usize;
        loop {
            let (ino, dtype, name): (u64, u8, &[u8]) = match index {
                0 => (n.ino, 4, b"."),
                1 => (parent_ino, 4, b".."),
                i => match entries.iter().nth(i - 2) {
                    Some((name, child)) => {
                        let c = child.lock();
                        let dtype = match c.kind {
                            Kind::Dir { .. } => 4,
                            Kind::File(_) => 8,
                            Kind::Symlink(_) => 10,
                            Kind::Device(_) => 2,
                        };
                        (c.ino, dtype, &name[..])
                    }
                    None => break,
                },
            };
            let reclen = (19 + name.len() + 1).next_multiple_of(8);
            if used + reclen > buf.len() {
                if used == 0 {
                    return Err(Errno::EINVAL);
                }
                break;
            }
            let rec = &mut buf[used..used + reclen];
            rec.fill(0);
            rec[0..8].copy_from_slice(&ino.to_le_bytes());
            rec[8..16].copy_from_slice(&(index as i64 + 1).to_le_bytes());
            rec[16..18].copy_from_slice(&(reclen as u16).to_le_bytes());
            rec[18] = dtype;
            rec[19..19 + name.len()].copy_from_slice(name);
            used += reclen;
            index += 1;
        }
        f.offset = index as u64;
        Ok(used)
    }

    /// Resolve for creating `path`: it must not exist and its directory
    /// must be writable.
    fn for_create(&self, dirfd: i32, path: &[u8]) -> SysResult<Resolved> {
        let r = self.resolve(dirfd, path, false)?;
        if r.node.is_some() {
            return Err(Errno::EEXIST);
        }
        if !r.parent.lock().writable {
            return Err(Errno::EROFS);
        }
        Ok(r)
    }

    fn touch_dir(&self, dir: &Arc<Node>) {
        let now = (self.clock)();
        let mut d = dir.lock();
        d.mtime = now;
        d.ctime = now;
    }

    pub fn mkdirat(&mut self, dirfd: i32, path: &[u8], mode: u32) -> SysResult<()> {
        let r = self.for_create(dirfd, path)?;
        let now = (self.clock)();
        let node = self.new_node(
            mode & !self.umask,
            true,
            now,
            Kind::Dir {
                entries: BTreeMap::new(),
                parent: Arc::downgrade(&r.parent),
            },
        );
        self.insert_child(&r.parent, &r.name, node)
            .map_err(|_| Errno::ENOTDIR)?;
        r.parent.lock().nlink += 1;
        self.touch_dir(&r.parent);
        Ok(())
    }

    pub fn unlinkat(&mut self, dirfd: i32, path: &[u8], flags: i32) -> SysResult<()> {
        let r = self.resolve(dirfd, path, false)?;
        let node = r.node.clone().ok_or(Errno::ENOENT)?;
        if Arc::ptr_eq(&node, &self.root) || r.name.is_empty() {
            return Err(Errno::EBUSY);
        }
        let (is_dir, empty) = {
            let n = node.lock();
            match &n.kind {
                Kind::Dir { entries, .. } => (true, entries.is_empty()),
                _ => (false, true),
            }
        };
        if flags & AT_REMOVEDIR != 0 {
            if !is_dir {
                return Err(Errno::ENOTDIR);
            }
            if r.name == b"." {
                return Err(Errno::EINVAL);
            }
            if !empty {
                return Err(Errno::ENOTEMPTY);
            }
        } else if is_dir {
            return Err(Errno::EISDIR);
        } else if r.trailing_slash {
            return Err(Errno::ENOTDIR);
        }
        if !r.parent.lock().writable {
            return Err(Errno::EROFS);
        }
        if let Kind::Dir { entries, .. } = &mut r.parent.lock().kind {
            entries.remove(&r.name);
        }
        if is_dir {
            r.parent.lock().nlink -= 1;
        } else {
            let mut n = node.lock();
            n.nlink = n.nlink.saturating_sub(1);
            n.ctime = (self.clock)();
        }
        self.touch_dir(&r.parent);
        Ok(())
    }

    pub fn renameat2(
        &mut self,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: u32,
    ) -> SysResult<()> {
        if flags & !RENAME_NOREPLACE != 0 {
            return Err(Errno::EINVAL);
        }
        let from = self.resolve(olddirfd, oldpath, false)?;
        let node = from.node.clone().ok_or(Errno::ENOENT)?;
        let to = self.resolve(newdirfd, newpath, false)?;
        if from.name.is_empty() || to.name.is_empty() {
            return Err(Errno::EBUSY);
        }
        if !from.parent.lock().writable || !to.parent.lock().writable {
            return Err(Errno::EROFS);
        }
        let is_dir = node.lock().is_dir();
        if (from.trailing_slash || to.trailing_slash) && !is_dir {
            return Err(Errno::ENOTDIR);
        }
        if let Some(target) = &to.node {
            if Arc::ptr_eq(target, &node) {
                return Ok(());
            }
            if flags & RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            let t = target.lock();
            match (&t.kind, is_dir) {
                (Kind::Dir { entries, .. }, true) if !entries.is_empty() => {
                    return Err(Errno::ENOTEMPTY);
                }
                (Kind::Dir { .. }, false) => return Err(Errno::EISDIR),
                (_, true) if !t.is_dir() => return Err(Errno::ENOTDIR),
                _ => {}
            }
        }
        if is_dir {
            // A directory cannot move below itself.
            let old = from.path();
            let new = to.path();
            if new.starts_with(&old) && new.get(old.len()) == Some(&b'/') {
                return Err(Errno::EINVAL);
            }
        }
        if let Kind::Dir { entries, .. } = &mut from.parent.lock().kind {
            entries.remove(&from.name);
        }
        let replaced = match &mut to.parent.lock().kind {
            Kind::Dir { entries, .. } => entries.insert(to.name.clone(), node.clone()),
            _ => None,
        };
        if is_dir {
            if let Kind::Dir { parent, .. } = &mut node.lock().kind {
                *parent = Arc::downgrade(&to.parent);
            }
            if !Arc::ptr_eq(&from.parent, &to.parent) {
                from.parent.lock().nlink -= 1;
                if replaced.is_none() {
                    to.parent.lock().nlink += 1;
                }
            } else if replaced.is_some() {
                to.parent.lock().nlink -= 1;
            }
        }
        if let Some(old) = replaced {
            let mut o = old.lock();
            o.nlink = o.nlink.saturating_sub(1);
        }
        node.lock().ctime = (self.clock)();
        self.touch_dir(&from.parent);
        self.touch_dir(&to.parent);
        Ok(())
    }

    pub fn symlinkat(&mut self, target: &[u8], newdirfd: i32, linkpath: &[u8]) -> SysResult<()> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        let r = self.for_create(newdirfd, linkpath)?;
        let now = (self.clock)();
        let node = self.new_node(0o777, true, now, Kind::Symlink(target.to_vec()));
        self.insert_child(&r.parent, &r.name, node)
            .map_err(|_| Errno::ENOTDIR)?;
        self.touch_dir(&r.parent);
        Ok(())
    }

    pub fn linkat(
        &mut self,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: i32,
    ) -> SysResult<()> {
        let from = if oldpath.is_empty() && flags & AT_EMPTY_PATH != 0 {
            match &self.file(olddirfd)?.lock().open {
                Open::Node(n) => n.clone(),
                _ => return Err(Errno::EXDEV),
            }
        } else {
            self.resolve(olddirfd, oldpath, flags & AT_SYMLINK_FOLLOW != 0)?
                .existing()?
        };
        if from.lock().is_dir() {
            return Err(Errno::EPERM);
        }
        let to = self.for_create(newdirfd, newpath)?;
        if !from.lock().writable {
            return Err(Errno::EXDEV);
        }
        self.insert_child(&to.parent, &to.name, from.clone())
            .map_err(|_| Errno::ENOTDIR)?;
        let now = (self.clock)();
        let mut n = from.lock();
        n.nlink += 1;
        n.ctime = now;
        drop(n);
        self.touch_dir(&to.parent);
        Ok(())
    }

    fn set_mode(&self, node: &Arc<Node>, mode: u32) -> SysResult<()> {
        let mut n = node.lock();
        if !n.writable {
            return Err(Errno::EROFS);
        }
        n.perm = mode & 0o7777;
        n.ctime = (self.clock)();
        Ok(())
    }

    pub fn fchmodat(&mut self, dirfd: i32, path: &[u8], mode: u32) -> SysResult<()> {
        let node = self.resolve(dirfd, path, true)?.existing()?;
        self.set_mode(&node, mode)
    }

    pub fn fchmod(&mut self, fd: i32, mode: u32) -> SysResult<()> {
        let file = self.file(fd)?;
        let node = match &file.lock().open {
            Open::Node(n) => n.clone(),
            _ => return Ok(()), // console and pipes: nothing to keep
        };
        self.set_mode(&node, mode)
    }

    pub fn utimensat(
        &mut self,
        dirfd: i32,
        path: &[u8],
        times: Option<[Timespec; 2]>,
        flags: i32,
    ) -> SysResult<()> {
        let node = if path.is_empty() {
            match &self.file(dirfd)?.lock().open {
                Open::Node(n) => n.clone(),
                _ => return Ok(()),
            }
        } else {
            self.resolve(dirfd, path, flags & AT_SYMLINK_NOFOLLOW == 0)?
                .existing()?
        };
        let now = (self.clock)();
        let mut n = node.lock();
        if !n.writable {
            return Err(Errno::EROFS);
        }
        let [a, m] = times.unwrap_or(
            [Timespec {
                sec: 0,
                nsec: UTIME_NOW,
            }; 2],
        );
        let inode = &mut *n;
        for (t, slot) in [(a, &mut inode.atime), (m, &mut inode.mtime)] {
            match t.nsec {
                UTIME_OMIT => {}
                UTIME_NOW => *slot = now,
                ns if (0..1_000_000_000).contains(&ns) => *slot = t,
                _ => return Err(Errno::EINVAL),
            }
        }
        n.ctime = now;
        Ok(())
    }

    pub fn ftruncate(&mut self, fd: i32, len: i64) -> SysResult<()> {
        if len < 0 {
            return Err(Errno::EINVAL);
        }
        let file = self.file(fd)?;
        let f = file.lock();
        let Open::Node(node) = &f.open else {
            return Err(Errno::EINVAL);
        };
        if !f.writable() {
            return Err(Errno::EINVAL);
        }
        let mut n = node.lock();
        if !n.writable {
            return Err(Errno::EROFS);
        }
        let now = (self.clock)();
        match &mut n.kind {
            Kind::File(d) => {
                let len = usize::try_from(len).map_err(|_| Errno::EFBIG)?;
                let v = d.owned();
                if len > v.len() {
                    v.try_reserve(len - v.len()).map_err(|_| Errno::ENOSPC)?;
                }
                v.resize(len, 0);
            }
            _ => return Err(Errno::EINVAL),
        }
        n.mtime = now;
        n.ctime = now;
        Ok(())
    }

    pub fn fsync(&mut self, fd: i32) -> SysResult<()> {
        self.check_fd(fd)
    }

    /// `Ok` when `fd` is open, else `EBADF`.
    pub fn check_fd(&self, fd: i32) -> SysResult<()> {
        self.fd(fd).map(|_| ())
    }

    pub fn fcntl(&mut self, fd: i32, cmd: i32, arg: i64) -> SysResult<i64> {
        let entry = self.fd(fd)?.clone();
        match cmd {
            F_DUPFD | F_DUPFD_CLOEXEC => {
                let min = usize::try_from(arg).map_err(|_| Errno::EINVAL)?;
                if min >= self.fd_limit {
                    return Err(Errno::EINVAL);
                }
                let new = Fd {
                    file: entry.file,
                    cloexec: cmd == F_DUPFD_CLOEXEC,
                };
                self.install_fd(new, min).map(i64::from)
            }
            F_GETFD => Ok(if entry.cloexec { FD_CLOEXEC } else { 0 }),
            F_SETFD => {
                if let Some(Some(f)) = self.fds.get_mut(fd as usize) {
                    f.cloexec = arg & FD_CLOEXEC != 0;
                }
                Ok(0)
            }
            F_GETFL => {
                let f = entry.file.lock();
                Ok(i64::from(f.flags & !O_DIRECTORY))
            }
            F_SETFL => {
                let mut f = entry.file.lock();
                // O_ASYNC (0o20000) is kept: no owner for SIGIO can be set
                // here (F_SETOWN), and Linux sends none without one.
                let settable = O_APPEND | O_NONBLOCK | 0o20000;
                f.flags = (f.flags & !settable) | (arg as i32 & settable);
                Ok(0)
            }
            _ => Err(Errno::EINVAL),
        }
    }

    pub fn dup(&mut self, fd: i32) -> SysResult<i32> {
        let entry = self.fd(fd)?.clone();
        self.install_fd(
            Fd {
                file: entry.file,
                cloexec: false,
            },
            0,
        )
    }

    pub fn dup3(&mut self, oldfd: i32, newfd: i32, flags: i32) -> SysResult<i32> {
        let entry = self.fd(oldfd)?.clone();
        if flags & !O_CLOEXEC != 0 {
            return Err(Errno::EINVAL);
        }
        let slot = usize::try_from(newfd).map_err(|_| Errno::EBADF)?;
        if slot >= self.fd_limit {
            return Err(Errno::EBADF);
        }
        if oldfd == newfd {
            return Err(Errno::EINVAL);
        }
        if slot >= self.fds.len() {
            self.fds.resize(slot + 1, None);
        }
        self.fds[slot] = Some(Fd {
            file: entry.file,
            cloexec: flags & O_CLOEXEC != 0,
        });
        Ok(newfd)
    }

    pub fn pipe2(&mut self, flags: i32) -> SysResult<[i32; 2]> {
        if flags & !(O_CLOEXEC | O_NONBLOCK | 0o40000/* O_DIRECT */) != 0 {
            return Err(Errno::EINVAL);
        }
        let pipe = Arc::new(spin::Mutex::new(Pipe {
            buf: VecDeque::new(),
            readers: 1,
            writers: 1,
        }));
        let cloexec = flags & O_CLOEXEC != 0;
        let status = flags & O_NONBLOCK;
        let r = self.install(Open::PipeRead(pipe.clone()), status, Vec::new(), cloexec)?;
        match self.install(
            Open::PipeWrite(pipe),
            status | O_WRONLY,
            Vec::new(),
            cloexec,
        ) {
            Ok(w) => Ok([r, w]),
            Err(e) => {
                self.fds[r as usize] = None;
                Err(e)
            }
        }
    }

    /// The regular file open as `fd`, for a shared mapping of it.
    pub fn file_ref(&self, fd: i32) -> SysResult<FileRef> {
        let file = self.file(fd)?;
        let f = file.lock();
        match &f.open {
            Open::Node(n) if matches!(n.lock().kind, Kind::File(_)) => Ok(FileRef(n.clone())),
            Open::Node(_) => Err(Errno::ENODEV),
            _ => Err(Errno::EACCES),
        }
    }

    /// Set the soft `RLIMIT_NOFILE` (new descriptors stay below it; open
    /// ones above it stay open, as on Linux).
    pub fn set_fd_limit(&mut self, limit: usize) -> SysResult<()> {
        if limit > MAX_FDS_HARD {
            return Err(Errno::EPERM);
        }
        self.fd_limit = limit;
        Ok(())
    }

    /// `poll` readiness, filling each `revents`; returns how many entries
    /// have any. Files, devices and the console never block; a pipe is
    /// readable with data or without writers, writable with room.
    pub fn poll(&self, fds: &mut [vm_core::host::PollFd]) -> usize {
        let mut ready = 0;
        for p in fds.iter_mut() {
            p.revents = if p.fd < 0 {
                0
            } else {
                match self.file(p.fd) {
                    Err(_) => POLLNVAL,
                    Ok(file) => match &file.lock().open {
                        Open::PipeRead(pipe) => {
                            let pipe = pipe.lock();
                            let mut r = 0;
                            if !pipe.buf.is_empty() {
                                r |= POLLIN;
                            }
                            if pipe.writers == 0 {
                                r |= POLLHUP;
                            }
                            r & (p.events | POLLHUP)
                        }
                        Open::PipeWrite(pipe) => {
                            let pipe = pipe.lock();
                            if pipe.readers == 0 {
                                POLLERR
                            } else if pipe.buf.len() < PIPE_CAPACITY {
                                p.events & POLLOUT
                            } else {
                                0
                            }
                        }
                        _ => p.events & (POLLIN | POLLOUT),
                    },
                }
            };
            if p.revents != 0 {
                ready += 1;
            }
        }
        ready
    }

    /// Console and pipes are not terminals; anything else is ENOTTY too,
    /// but a closed descriptor is EBADF.
    /// `ioctl(fd, FIONREAD)`: the bytes a pipe holds (either end);
    /// ENOTTY for anything else.
    pub fn pipe_bytes(&self, fd: i32) -> SysResult<i32> {
        let file = self.file(fd)?;
        let f = file.lock();
        match &f.open {
            Open::PipeRead(p) | Open::PipeWrite(p) => Ok(p.lock().buf.len() as i32),
            _ => Err(Errno::ENOTTY),
        }
    }

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
        match &f.open {
            Open::Node(n) if n.lock().is_dir() => {
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
        match &n.kind {
            Kind::File(d) => Ok(d.bytes().to_vec()),
            Kind::Dir { .. } => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }
}

/// A regular file held by a shared memory mapping: the kernel copies
/// between the mapping and the file around every file call, so the guest
/// sees one set of bytes through both (it is the only thread there is).
#[derive(Clone, Debug)]
pub struct FileRef(Arc<Node>);

impl FileRef {
    /// Bytes of the file from `offset` into `buf`; returns how many.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        match &self.0.lock().kind {
            Kind::File(d) => copy_out(d.bytes(), offset, buf),
            _ => 0,
        }
    }

    /// Overwrite the file from `offset` with `data`, but never past its
    /// end: what a mapping holds beyond end-of-file is not file data.
    pub fn write_within(&self, offset: u64, data: &[u8]) {
        let mut n = self.0.lock();
        if let Kind::File(d) = &mut n.kind {
            let size = d.bytes().len() as u64;
            if offset >= size {
                return;
            }
            let len = (size - offset).min(data.len() as u64) as usize;
            let at = offset as usize;
            if d.bytes()[at..at + len] != data[..len] {
                d.owned()[at..at + len].copy_from_slice(&data[..len]);
            }
        }
    }
}

fn copy_out(data: &[u8], offset: u64, buf: &mut [u8]) -> usize {
    let Ok(start) = usize::try_from(offset) else {
        return 0;
    };
    if start >= data.len() {
        return 0;
    }
    let n = buf.len().min(data.len() - start);
    buf[..n].copy_from_slice(&data[start..start + n]);
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::tests::archive;
    use alloc::boxed::Box;
    use std::sync::Mutex;

    #[derive(Default)]
    struct TestConsole {
        out: Mutex<Vec<u8>>,
        err: Mutex<Vec<u8>>,
    }
    impl Console for TestConsole {
        fn stdout(&self, data: &[u8]) {
            self.out.lock().unwrap().extend_from_slice(data);
        }
        fn stderr(&self, data: &[u8]) {
            self.err.lock().unwrap().extend_from_slice(data);
        }
    }

    fn clock() -> Timespec {
        Timespec {
            sec: 1_800_000_000,
            nsec: 5,
        }
    }

    fn entropy(buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i as u8) ^ 0x5a;
        }
    }

    const RDONLY: i32 = 0;
    const RDWR_CREAT: i32 = O_RDWR | O_CREAT;

    fn fs_with(stdin: &'static [u8]) -> (Fs, &'static TestConsole) {
        let a = archive(&[
            (b"./etc", 0o040755, b""),
            (b"./etc/motd", 0o100644, b"hello from the ramdisk\n"),
            (b"work/bin/prog", 0o100755, b"\x7fELF..."),
            (b"work/link-to-motd", 0o120777, b"../etc/motd"),
            (b"work/abs-link", 0o120777, b"/etc"),
            (b"work/loop", 0o120777, b"loop"),
        ]);
        let a: &'static [u8] = Box::leak(a.into_boxed_slice());
        let console: &'static TestConsole = Box::leak(Box::default());
        (Fs::new(a, stdin, console, clock, entropy).unwrap(), console)
    }

    fn fs() -> Fs {
        fs_with(b"").0
    }

    fn read_all(fs: &mut Fs, fd: i32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            let n = fs.read(fd, &mut buf).unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    fn names(fs: &mut Fs, path: &[u8]) -> Vec<Vec<u8>> {
        let fd = fs.openat(AT_FDCWD, path, O_DIRECTORY, 0).unwrap();
        let mut out = Vec::new();
        // A small buffer forces several getdents64 calls.
        let mut buf = [0u8; 48];
        loop {
            let n = fs.getdents64(fd, &mut buf).unwrap();
            if n == 0 {
                break;
            }
            let mut at = 0;
            while at < n {
                let reclen = u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
                assert_eq!(reclen % 8, 0);
                let name = &buf[at + 19..at + reclen];
                let len = name.iter().position(|&c| c == 0).unwrap();
                out.push(name[..len].to_vec());
                at += reclen;
            }
        }
        fs.close(fd).unwrap();
        out
    }

    #[test]
    fn reads_ramdisk_files_and_follows_symlinks() {
        let mut fs = fs();
        let fd = fs.openat(AT_FDCWD, b"/etc/motd", RDONLY, 0).unwrap();
        assert_eq!(fd, 3, "0..=2 are the console");
        assert_eq!(read_all(&mut fs, fd), b"hello from the ramdisk\n");
        let fd = fs
            .openat(AT_FDCWD, b"/work/link-to-motd", RDONLY, 0)
            .unwrap();
        assert_eq!(read_all(&mut fs, fd), b"hello from the ramdisk\n");
        let fd = fs
            .openat(AT_FDCWD, b"/work/abs-link/motd", RDONLY, 0)
            .unwrap();
        assert_eq!(read_all(&mut fs, fd), b"hello from the ramdisk\n");
        let st = fs.fstatat(AT_FDCWD, b"/work/bin/prog", 0).unwrap();
        assert_eq!(st.mode, S_IFREG | 0o755);
        assert_eq!(st.size, 7);
        let st = fs
            .fstatat(AT_FDCWD, b"/work/link-to-motd", AT_SYMLINK_NOFOLLOW)
            .unwrap();
        assert_eq!(st.mode & S_IFMT, S_IFLNK);
        let mut buf = [0u8; 64];
        let n = fs
            .readlinkat(AT_FDCWD, b"/work/link-to-motd", &mut buf)
            .unwrap();
        assert_eq!(&buf[..n], b"../etc/motd");
        assert_eq!(
            fs.readlinkat(AT_FDCWD, b"/etc/motd", &mut buf),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn path_errors_match_linux() {
        let mut fs = fs();
        let e = |fs: &mut Fs, p: &[u8], f: i32| fs.openat(AT_FDCWD, p, f, 0o644).unwrap_err();
        assert_eq!(e(&mut fs, b"/nope", RDONLY), Errno::ENOENT);
        assert_eq!(e(&mut fs, b"", RDONLY), Errno::ENOENT);
        assert_eq!(e(&mut fs, b"/etc/motd/x", RDONLY), Errno::ENOTDIR);
        assert_eq!(e(&mut fs, b"/etc/motd/", RDONLY), Errno::ENOTDIR);
        assert_eq!(e(&mut fs, b"/etc/motd", O_DIRECTORY), Errno::ENOTDIR);
        assert_eq!(e(&mut fs, b"/work/loop", RDONLY), Errno::ELOOP);
        assert_eq!(e(&mut fs, b"/work/link-to-motd", O_NOFOLLOW), Errno::ELOOP);
        assert_eq!(e(&mut fs, b"/etc/motd", O_WRONLY), Errno::EROFS);
        assert_eq!(e(&mut fs, b"/etc/new", RDWR_CREAT), Errno::EROFS);
        assert_eq!(e(&mut fs, b"/etc", O_RDWR), Errno::EISDIR);
        assert_eq!(e(&mut fs, b"/etc/motd", RDWR_CREAT | O_EXCL), Errno::EEXIST);
        let long = [b'a'; 300];
        assert_eq!(e(&mut fs, &long, RDONLY), Errno::ENAMETOOLONG);
        assert_eq!(fs.read(99, &mut [0; 4]), Err(Errno::EBADF));
        assert_eq!(fs.close(-1), Err(Errno::EBADF));
        assert_eq!(fs.mkdirat(AT_FDCWD, b"/etc/d", 0o755), Err(Errno::EROFS));
        assert_eq!(fs.unlinkat(AT_FDCWD, b"/etc/motd", 0), Err(Errno::EROFS));
    }

    #[test]
    fn tmp_files_can_be_written_truncated_and_appended() {
        let mut fs = fs();
        let fd = fs.openat(AT_FDCWD, b"/tmp/f", RDWR_CREAT, 0o666).unwrap();
        assert_eq!(fs.write(fd, b"hello world"), Ok(11));
        assert_eq!(fs.lseek(fd, 0, 0), Ok(0));
        assert_eq!(read_all(&mut fs, fd), b"hello world");
        // Writing past the end leaves a zero-filled gap.
        assert_eq!(fs.lseek(fd, 2, 2), Ok(13));
        assert_eq!(fs.write(fd, b"!"), Ok(1));
        let mut buf = [9u8; 20];
        assert_eq!(fs.pread(fd, &mut buf, 0), Ok(14));
        assert_eq!(&buf[..14], b"hello world\0\0!");
        assert_eq!(fs.pwrite(fd, b"J", 0), Ok(1));
        assert_eq!(fs.lseek(fd, 0, 1), Ok(14), "pwrite keeps the offset");
        let st = fs.fstatat(fd, b"", AT_EMPTY_PATH).unwrap();
        assert_eq!(st.mode, S_IFREG | 0o644, "umask 022 applied");
        assert_eq!(st.size, 14);
        assert_eq!(st.mtime, clock());
        assert_eq!(fs.ftruncate(fd, 5), Ok(()));
        assert_eq!(fs.fstatat(AT_FDCWD, b"/tmp/f", 0).unwrap().size, 5);
        fs.close(fd).unwrap();
        let fd = fs
            .openat(AT_FDCWD, b"/tmp/f", O_WRONLY | O_APPEND, 0)
            .unwrap();
        assert_eq!(fs.write(fd, b"!!"), Ok(2));
        fs.close(fd).unwrap();
        let fd = fs.openat(AT_FDCWD, b"/tmp/f", RDONLY, 0).unwrap();
        assert_eq!(read_all(&mut fs, fd), b"Jello!!");
        assert_eq!(fs.write(fd, b"x"), Err(Errno::EBADF), "opened read-only");
        let fd = fs
            .openat(AT_FDCWD, b"/tmp/f", O_WRONLY | O_TRUNC, 0)
            .unwrap();
        assert_eq!(
            fs.read(fd, &mut buf),
            Err(Errno::EBADF),
            "opened write-only"
        );
        assert_eq!(fs.fstatat(AT_FDCWD, b"/tmp/f", 0).unwrap().size, 0);
        assert_eq!(fs.lseek(fd, -1, 0), Err(Errno::EINVAL));
        assert_eq!(fs.lseek(1, 0, 0), Err(Errno::ESPIPE));
    }

    #[test]
    fn directories_rename_unlink_and_listing() {
        let mut fs = fs();
        fs.mkdirat(AT_FDCWD, b"/tmp/d", 0o755).unwrap();
        assert_eq!(fs.mkdirat(AT_FDCWD, b"/tmp/d", 0o755), Err(Errno::EEXIST));
        for name in [&b"/tmp/d/b"[..], b"/tmp/d/a", b"/tmp/d/c"] {
            let fd = fs.openat(AT_FDCWD, name, RDWR_CREAT, 0o600).unwrap();
            fs.close(fd).unwrap();
        }
        assert_eq!(
            names(&mut fs, b"/tmp/d"),
            [&b"."[..], b"..", b"a", b"b", b"c"]
        );
        assert_eq!(
            fs.unlinkat(AT_FDCWD, b"/tmp/d", AT_REMOVEDIR),
            Err(Errno::ENOTEMPTY)
        );
        assert_eq!(fs.unlinkat(AT_FDCWD, b"/tmp/d", 0), Err(Errno::EISDIR));
        assert_eq!(
            fs.unlinkat(AT_FDCWD, b"/tmp/d/a", AT_REMOVEDIR),
            Err(Errno::ENOTDIR)
        );
        fs.renameat2(AT_FDCWD, b"/tmp/d/a", AT_FDCWD, b"/tmp/d/z", 0)
            .unwrap();
        assert_eq!(
            fs.renameat2(
                AT_FDCWD,
                b"/tmp/d/b",
                AT_FDCWD,
                b"/tmp/d/c",
                RENAME_NOREPLACE
            ),
            Err(Errno::EEXIST)
        );
        fs.renameat2(AT_FDCWD, b"/tmp/d/b", AT_FDCWD, b"/tmp/d/c", 0)
            .unwrap();
        assert_eq!(names(&mut fs, b"/tmp/d"), [&b"."[..], b"..", b"c", b"z"]);
        assert_eq!(
            fs.renameat2(AT_FDCWD, b"/tmp/d", AT_FDCWD, b"/tmp/d/inner", 0),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            fs.renameat2(AT_FDCWD, b"/etc/motd", AT_FDCWD, b"/tmp/m", 0),
            Err(Errno::EROFS)
        );
        // An open file outlives its name.
        let fd = fs.openat(AT_FDCWD, b"/tmp/d/c", O_RDWR, 0).unwrap();
        fs.unlinkat(AT_FDCWD, b"/tmp/d/c", 0).unwrap();
        assert_eq!(fs.write(fd, b"still here"), Ok(10));
        assert_eq!(fs.fstatat(fd, b"", AT_EMPTY_PATH).unwrap().nlink, 0);
        fs.unlinkat(AT_FDCWD, b"/tmp/d/z", 0).unwrap();
        let tmp_links = fs.fstatat(AT_FDCWD, b"/tmp", 0).unwrap().nlink;
        fs.unlinkat(AT_FDCWD, b"/tmp/d", AT_REMOVEDIR).unwrap();
        assert_eq!(
            fs.fstatat(AT_FDCWD, b"/tmp", 0).unwrap().nlink,
            tmp_links - 1
        );
        assert_eq!(names(&mut fs, b"/tmp"), [&b"."[..], b".."]);
        let root = names(&mut fs, b"/");
        for n in [&b"dev"[..], b"etc", b"tmp", b"work"] {
            assert!(root.iter().any(|r| r == n), "{n:?} in {root:?}");
        }
    }

    #[test]
    fn links_and_modes_in_tmp() {
        let mut fs = fs();
        let fd = fs.openat(AT_FDCWD, b"/tmp/f", RDWR_CREAT, 0o644).unwrap();
        fs.write(fd, b"data").unwrap();
        fs.symlinkat(b"f", AT_FDCWD, b"/tmp/s").unwrap();
        fs.linkat(AT_FDCWD, b"/tmp/f", AT_FDCWD, b"/tmp/h", 0)
            .unwrap();
        assert_eq!(fs.fstatat(AT_FDCWD, b"/tmp/f", 0).unwrap().nlink, 2);
        let s = fs.openat(AT_FDCWD, b"/tmp/s", RDONLY, 0).unwrap();
        assert_eq!(read_all(&mut fs, s), b"data");
        fs.fchmodat(AT_FDCWD, b"/tmp/h", 0o600).unwrap();
        assert_eq!(
            fs.fstatat(AT_FDCWD, b"/tmp/f", 0).unwrap().mode,
            S_IFREG | 0o600
        );
        fs.fchmod(fd, 0o640).unwrap();
        assert_eq!(
            fs.fstatat(fd, b"", AT_EMPTY_PATH).unwrap().mode & 0o777,
            0o640
        );
        assert_eq!(
            fs.fchmodat(AT_FDCWD, b"/etc/motd", 0o600),
            Err(Errno::EROFS)
        );
        assert_eq!(
            fs.faccessat(AT_FDCWD, b"/etc/motd", 2, 0),
            Err(Errno::EROFS)
        );
        assert_eq!(
            fs.faccessat(AT_FDCWD, b"/etc/motd", 1, 0),
            Err(Errno::EACCES)
        );
        assert_eq!(fs.faccessat(AT_FDCWD, b"/work/bin/prog", 1, 0), Ok(()));
        let t = Timespec { sec: 7, nsec: 8 };
        fs.utimensat(
            AT_FDCWD,
            b"/tmp/f",
            Some([
                t,
                Timespec {
                    sec: 0,
                    nsec: UTIME_OMIT,
                },
            ]),
            0,
        )
        .unwrap();
        let st = fs.fstatat(AT_FDCWD, b"/tmp/f", 0).unwrap();
        assert_eq!((st.atime, st.mtime), (t, clock()));
        assert_eq!(
            fs.linkat(AT_FDCWD, b"/tmp", AT_FDCWD, b"/tmp/dirlink", 0),
            Err(Errno::EPERM)
        );
    }

    #[test]
    fn relative_paths_cwd_and_dirfds() {
        let mut fs = fs();
        fs.set_initial_cwd(b"/work/new/dir").unwrap();
        let mut buf = [0u8; 64];
        let n = fs.getcwd(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"/work/new/dir");
        assert_eq!(fs.getcwd(&mut [0u8; 4]), Err(Errno::ERANGE));
        let fd = fs
            .openat(AT_FDCWD, b"../../link-to-motd", RDONLY, 0)
            .unwrap();
        assert_eq!(read_all(&mut fs, fd), b"hello from the ramdisk\n");
        fs.chdir(b"/work/abs-link").unwrap();
        let n = fs.getcwd(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"/etc", "symlinks resolve physically");
        assert_eq!(fs.chdir(b"motd"), Err(Errno::ENOTDIR));
        // The starting directory takes new entries; its parent does not.
        assert_eq!(fs.mkdirat(AT_FDCWD, b"/work/new/dir/sub", 0o755), Ok(()));
        assert_eq!(
            fs.mkdirat(AT_FDCWD, b"/work/new/sub", 0o755),
            Err(Errno::EROFS)
        );
        let dir = fs.openat(AT_FDCWD, b"/work/bin", O_DIRECTORY, 0).unwrap();
        assert!(fs.fstatat(dir, b"prog", 0).is_ok());
        assert!(fs.fstatat(dir, b"../bin/./prog", 0).is_ok());
        assert_eq!(
            fs.fstatat(3, b"x", 0),
            Err(Errno::ENOTDIR),
            "fd 3 is a file"
        );
        fs.fchdir(dir).unwrap();
        let n = fs.getcwd(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"/work/bin");
        assert!(fs.fstatat(AT_FDCWD, b"/..", 0).is_ok(), "/.. is /");
        assert_eq!(fs.umask(0o077), 0o022);
    }

    #[test]
    fn console_stdin_dup_and_fcntl() {
        let (mut fs, console) = fs_with(b"line one\nline two\n");
        assert_eq!(read_all(&mut fs, 0), b"line one\nline two\n");
        assert_eq!(fs.write(1, b"out"), Ok(3));
        assert_eq!(fs.write(2, b"err"), Ok(3));
        assert_eq!(fs.write(0, b"x"), Err(Errno::EBADF));
        let d = fs.dup(1).unwrap();
        assert_eq!(d, 3);
        fs.write(d, b"!").unwrap();
        assert_eq!(fs.dup3(2, 10, O_CLOEXEC), Ok(10));
        fs.write(10, b"?").unwrap();
        assert_eq!(fs.fcntl(10, F_GETFD, 0), Ok(FD_CLOEXEC));
        assert_eq!(fs.fcntl(3, F_GETFD, 0), Ok(0));
        assert_eq!(fs.fcntl(1, F_DUPFD, 20), Ok(20));
        assert_eq!(fs.fcntl(1, F_GETFL, 0), Ok(i64::from(O_WRONLY)));
        assert_eq!(fs.dup3(1, 1, 0), Err(Errno::EINVAL));
        assert_eq!(fs.fcntl(1, 99, 0), Err(Errno::EINVAL));
        assert_eq!(*console.out.lock().unwrap(), b"out!");
        assert_eq!(*console.err.lock().unwrap(), b"err?");
        assert_eq!(fs.not_a_tty(1), Errno::ENOTTY);
        assert_eq!(fs.not_a_tty(50), Errno::EBADF);
        assert_eq!(
            fs.fstatat(1, b"", AT_EMPTY_PATH).unwrap().mode & S_IFMT,
            S_IFIFO
        );
    }

    #[test]
    fn pipes_and_devices() {
        let mut fs = fs();
        let [r, w] = fs.pipe2(O_CLOEXEC).unwrap();
        assert_eq!(fs.write(w, b"through the pipe"), Ok(16));
        let mut buf = [0u8; 7];
        assert_eq!(fs.read(r, &mut buf), Ok(7));
        assert_eq!(&buf, b"through");
        assert_eq!(fs.lseek(r, 0, 0), Err(Errno::ESPIPE));
        let mut rest = [0u8; 32];
        assert_eq!(fs.read(r, &mut rest), Ok(9));
        assert_eq!(
            fs.read(r, &mut rest),
            Err(Errno::EAGAIN),
            "empty, writer open"
        );
        fs.close(w).unwrap();
        assert_eq!(fs.read(r, &mut rest), Ok(0), "empty, no writer: EOF");
        let [r2, w2] = fs.pipe2(0).unwrap();
        fs.close(r2).unwrap();
        assert_eq!(fs.write(w2, b"x"), Err(Errno::EPIPE));
        let null = fs.openat(AT_FDCWD, b"/dev/null", O_RDWR, 0).unwrap();
        assert_eq!(fs.write(null, b"gone"), Ok(4));
        assert_eq!(fs.read(null, &mut rest), Ok(0));
        let zero = fs.openat(AT_FDCWD, b"/dev/zero", RDONLY, 0).unwrap();
        rest.fill(1);
        assert_eq!(fs.read(zero, &mut rest), Ok(32));
        assert_eq!(rest, [0; 32]);
        let urandom = fs.openat(AT_FDCWD, b"/dev/urandom", RDONLY, 0).unwrap();
        assert_eq!(fs.read(urandom, &mut rest[..3]), Ok(3));
        assert_eq!(rest[..3], [0x5a, 0x5b, 0x58]);
        let st = fs.fstatat(AT_FDCWD, b"/dev/null", 0).unwrap();
        let [pr, pw] = fs.pipe2(0).unwrap();
        let mut p = [
            vm_core::host::PollFd {
                fd: pr,
                events: 1,
                revents: 0,
            },
            vm_core::host::PollFd {
                fd: pw,
                events: 4,
                revents: 0,
            },
            vm_core::host::PollFd {
                fd: 77,
                events: 1,
                revents: 0,
            },
            vm_core::host::PollFd {
                fd: -1,
                events: 1,
                revents: 0,
            },
        ];
        assert_eq!(fs.poll(&mut p), 2, "writable pipe end and a bad fd");
        assert_eq!(
            [p[0].revents, p[1].revents, p[2].revents, p[3].revents],
            [0, 4, 0x20, 0]
        );
        fs.write(pw, b"x").unwrap();
        fs.close(pw).unwrap();
        assert_eq!(fs.poll(&mut p[..1]), 1);
        assert_eq!(p[0].revents, 0x11, "data and hang-up");
        assert_eq!((st.mode & S_IFMT, st.rdev), (S_IFCHR, 0x103));
    }

    #[test]
    fn file_refs_read_and_write_within_the_file() {
        let mut fs = fs();
        let fd = fs.openat(AT_FDCWD, b"/tmp/m", RDWR_CREAT, 0o644).unwrap();
        fs.write(fd, b"0123456789").unwrap();
        let r = fs.file_ref(fd).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(r.read_at(4, &mut buf), 6);
        assert_eq!(&buf[..6], b"456789");
        r.write_within(8, b"abcdef");
        assert_eq!(fs.pread(fd, &mut buf, 0), Ok(10), "no growth");
        assert_eq!(&buf[..10], b"01234567ab");
        assert!(matches!(fs.file_ref(1), Err(Errno::EACCES)));
        let d = fs.openat(AT_FDCWD, b"/tmp", O_DIRECTORY, 0).unwrap();
        assert!(matches!(fs.file_ref(d), Err(Errno::ENODEV)));
        // A ramdisk file is copied on first write, the archive untouched.
        let ro = fs.openat(AT_FDCWD, b"/etc/motd", RDONLY, 0).unwrap();
        let r = fs.file_ref(ro).unwrap();
        r.write_within(0, b"J");
        assert_eq!(fs.pread(ro, &mut buf, 0), Ok(16));
        assert_eq!(&buf[..5], b"Jello");
    }

    #[test]
    fn descriptor_limit() {
        let mut fs = fs();
        let mut last = 0;
        for _ in 3..MAX_FDS {
            last = fs.openat(AT_FDCWD, b"/etc/motd", RDONLY, 0).unwrap();
        }
        assert_eq!(last as usize, MAX_FDS - 1);
        assert_eq!(
            fs.openat(AT_FDCWD, b"/etc/motd", RDONLY, 0),
            Err(Errno::EMFILE)
        );
        fs.close(100).unwrap();
        assert_eq!(fs.dup(0), Ok(100), "lowest free descriptor");
        fs.set_fd_limit(MAX_FDS + 1).unwrap();
        assert_eq!(fs.dup(0), Ok(MAX_FDS as i32));
        fs.set_fd_limit(50).unwrap();
        assert_eq!(fs.dup(0), Err(Errno::EMFILE));
        assert_eq!(fs.dup3(0, 60, 0), Err(Errno::EBADF));
        assert_eq!(fs.set_fd_limit(MAX_FDS_HARD + 1), Err(Errno::EPERM));
    }

    #[test]
    fn bad_archives_are_errors() {
        let console: &'static TestConsole = Box::leak(Box::default());
        let a = archive(&[(b"file", 0o100644, b"x"), (b"file/under", 0o100644, b"y")]);
        let a: &'static [u8] = Box::leak(a.into_boxed_slice());
        assert!(matches!(
            Fs::new(a, b"", console, clock, entropy),
            Err(BuildError::NotADirectory(_))
        ));
        assert!(matches!(
            Fs::new(&[b'x'; 200], b"", console, clock, entropy),
            Err(BuildError::Archive(_))
        ));
        let a = archive(&[(b"../escape", 0o100644, b"x")]);
        let a: &'static [u8] = Box::leak(a.into_boxed_slice());
        assert!(Fs::new(a, b"", console, clock, entropy).is_err());
    }
}
