//! The tree: inodes (what every node has, and its [`Kind`]: directory,
//! file, symlink or device, see [`super::kind`]), building it from the
//! ramdisk archive at boot, `stat` of a node, which kind of open file an
//! `open` of a node makes ([`open_object`]), and [`FileRef`], a regular
//! file held by a shared mapping.

use super::*;
use crate::archive;

/// File contents: borrowed from the ramdisk, or owned (in `/tmp`).
#[derive(Debug)]
pub(super) enum Data {
    Static(&'static [u8]),
    Owned(Vec<u8>),
}

impl Data {
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Data::Static(s) => s,
            Data::Owned(v) => v,
        }
    }
    pub(super) fn owned(&mut self) -> &mut Vec<u8> {
        if let Data::Static(s) = self {
            *self = Data::Owned(s.to_vec());
        }
        match self {
            Data::Owned(v) => v,
            Data::Static(_) => unreachable!("converted above"),
        }
    }
}

#[derive(Debug)]
pub(super) struct Inode {
    pub(super) ino: u64,
    /// Permission bits only; the type comes from `kind`.
    pub(super) perm: u32,
    pub(super) nlink: u32,
    /// May this node (and, for a directory, its entry list) change?
    pub(super) writable: bool,
    pub(super) atime: Timespec,
    pub(super) mtime: Timespec,
    pub(super) ctime: Timespec,
    pub(super) kind: Kind,
    /// A memfd's seals (`F_SEAL_*`); `None` for other files.
    pub(super) seals: Option<u32>,
    pub(super) uid: u32,
    pub(super) gid: u32,
    pub(super) xattrs: BTreeMap<Vec<u8>, Vec<u8>>,
    pub(super) flock: super::fileops::FlockState,
    /// What it is in `/proc` (see [`super::procfs`]); `None` elsewhere.
    pub(super) proc: Option<super::procfs::Tag>,
}

impl Inode {
    pub(super) fn type_bits(&self) -> u32 {
        self.kind.type_bits()
    }
    pub(super) fn is_dir(&self) -> bool {
        self.type_bits() == S_IFDIR
    }
    /// A symbolic link's text.
    pub(super) fn link_text(&self) -> Option<&[u8]> {
        self.kind.link_text()
    }
    /// May it be opened for writing (or `W_OK`)? A read-only node may
    /// not, but a device always may.
    pub(super) fn takes_writes(&self) -> bool {
        self.writable || self.kind.writable_anywhere()
    }
    /// Its `d_type` in a directory listing: the file type's bits, as
    /// Linux's `IFTODT` (`DT_DIR` 4, `DT_REG` 8, `DT_LNK` 10, `DT_CHR` 2).
    pub(super) fn dtype(&self) -> u8 {
        (self.type_bits() >> 12) as u8
    }
    pub(super) fn size(&self) -> u64 {
        self.kind.size()
    }
}

/// A file system object.
pub(super) type Node = spin::Mutex<Inode>;

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
            kind: dir_node(Weak::new()),
            seals: None,
            uid: 0,
            gid: 0,
            xattrs: BTreeMap::new(),
            flock: Default::default(),
            proc: None,
        }));
        let mut fs = Fs {
            root,
            fds: Vec::new(),
            fd_limit: MAX_FDS,
            cwd: b"/".to_vec(),
            umask: 0o022,
            next_ino: Arc::new(core::sync::atomic::AtomicU64::new(2)),
            console,
            clock,
            monotonic: None,
            entropy,
            pid: 2,
            procs: None,
            names: Arc::default(),
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
        fs.add_proc(now);
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
            let node = fs.new_node(0o666, false, now, alloc::boxed::Box::new(d));
            if let Ok(entries) = dev.lock().kind.entries_mut() {
                entries.entry(name.to_vec()).or_insert(node);
            }
        }
        // As udev makes them: the descriptors through /proc.
        let links = [
            (&b"fd"[..], &b"/proc/self/fd"[..]),
            (b"stdin", b"/proc/self/fd/0"),
            (b"stdout", b"/proc/self/fd/1"),
            (b"stderr", b"/proc/self/fd/2"),
        ];
        for (name, target) in links {
            let node = fs.new_node(0o777, false, now, link_node(target.to_vec()));
            if let Ok(entries) = dev.lock().kind.entries_mut() {
                entries.entry(name.to_vec()).or_insert(node);
            }
        }
        let console: [(Arc<dyn Object>, i32); 3] = [
            (Arc::new(Stdin(stdin)), 0),
            (Arc::new(ConsoleOut(false)), O_WRONLY),
            (Arc::new(ConsoleOut(true)), O_WRONLY),
        ];
        for (obj, flags) in console {
            fs.install(obj, flags, Vec::new(), false)
                .map_err(|_| BuildError::NotADirectory(Vec::new()))?;
        }
        Ok(fs)
    }

    pub(super) fn new_node(
        &mut self,
        perm: u32,
        writable: bool,
        t: Timespec,
        kind: Kind,
    ) -> Arc<Node> {
        let ino = self
            .next_ino
            .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        let nlink = if kind.type_bits() == S_IFDIR { 2 } else { 1 };
        Arc::new(spin::Mutex::new(Inode {
            ino,
            perm: perm & 0o7777,
            nlink,
            writable,
            atime: t,
            mtime: t,
            ctime: t,
            kind,
            seals: None,
            uid: 0,
            gid: 0,
            xattrs: BTreeMap::new(),
            flock: Default::default(),
            proc: None,
        }))
    }

    /// `/name`, creating it as a read-only directory if missing.
    pub(super) fn ensure_dir(&mut self, name: &[u8]) -> Result<Arc<Node>, ()> {
        let root = self.root.clone();
        self.child_dir(&root, name, 0o755, (self.clock)())
    }

    pub(super) fn child_dir(
        &mut self,
        dir: &Arc<Node>,
        name: &[u8],
        perm: u32,
        t: Timespec,
    ) -> Result<Arc<Node>, ()> {
        let existing = match dir.lock().kind.entries() {
            Ok(entries) => entries.get(name).cloned(),
            Err(_) => return Err(()),
        };
        if let Some(n) = existing {
            return if n.lock().is_dir() { Ok(n) } else { Err(()) };
        }
        let node = self.new_node(perm, false, t, dir_node(Arc::downgrade(dir)));
        let mut d = dir.lock();
        if let Ok(entries) = d.kind.entries_mut() {
            entries.insert(name.to_vec(), node.clone());
        }
        d.nlink += 1;
        Ok(node)
    }

    pub(super) fn add_member(&mut self, e: archive::Entry<'static>) -> Result<(), BuildError> {
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
                let node = self.new_node(perm, false, t, link_node(e.data.to_vec()));
                self.insert_child(&dir, last, node).map_err(|_| not_dir())?;
            }
            // Regular files and anything else (devices, fifos in an archive)
            // become plain read-only files.
            _ => {
                let node = self.new_node(perm, false, t, file_node(Data::Static(e.data)));
                self.insert_child(&dir, last, node).map_err(|_| not_dir())?;
            }
        }
        Ok(())
    }

    pub(super) fn insert_child(
        &self,
        dir: &Arc<Node>,
        name: &[u8],
        node: Arc<Node>,
    ) -> Result<(), ()> {
        match dir.lock().kind.entries_mut() {
            Ok(entries) => {
                entries.insert(name.to_vec(), node);
                Ok(())
            }
            Err(_) => Err(()),
        }
    }

    pub(super) fn stat_node(&self, n: &Inode) -> FileStat {
        let size = n.size();
        FileStat {
            dev: if n.proc.is_some() {
                super::procfs::DEV
            } else if n.writable {
                2
            } else {
                1
            },
            ino: n.ino,
            mode: n.type_bits() | n.perm,
            nlink: n.nlink,
            uid: n.uid,
            gid: n.gid,
            rdev: n.kind.rdev(),
            size: size as i64,
            blksize: 4096,
            blocks: size.div_ceil(512) as i64,
            atime: n.atime,
            mtime: n.mtime,
            ctime: n.ctime,
        }
    }
}

/// The object an `open` of `node` gets: a `/proc` directory's lists what
/// procfs makes; any other's is its kind's ([`NodeKind::open`]).
pub(super) fn open_object(node: Arc<Node>) -> Arc<dyn Object> {
    let n = node.lock();
    if let Some(tag) = Fs::proc_dir(&n) {
        drop(n);
        return Arc::new(super::procfs::ProcDir::new(node, tag));
    }
    n.kind.open(node.clone())
}

/// A regular file held by a shared memory mapping: the kernel keeps the
/// file's page cache (the frames every mapping of it shows) and its bytes
/// here coherent around every file call, so the guest sees one set of
/// bytes through both (one thread runs at a time).
#[derive(Clone, Debug)]
pub struct FileRef(pub(super) Arc<Node>);

impl FileRef {
    /// Is `other` the same file (not merely equal bytes)?
    pub fn same(&self, other: &FileRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The file's size in bytes now.
    pub fn size(&self) -> u64 {
        self.0.lock().kind.contents().map_or(0, |d| d.len() as u64)
    }

    /// Bytes of the file from `offset` into `buf`; returns how many.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        match self.0.lock().kind.contents() {
            Ok(d) => copy_out(d, offset, buf),
            Err(_) => 0,
        }
    }

    /// Overwrite the file from `offset` with `data`, but never past its
    /// end: what a mapping holds beyond end-of-file is not file data.
    pub fn write_within(&self, offset: u64, data: &[u8]) {
        let mut n = self.0.lock();
        let Ok(bytes) = n.kind.contents() else {
            return;
        };
        let size = bytes.len() as u64;
        if offset >= size {
            return;
        }
        let len = (size - offset).min(data.len() as u64) as usize;
        let at = offset as usize;
        // A ramdisk file is copied only when the mapping changed it.
        if bytes[at..at + len] != data[..len]
            && let Ok(v) = n.kind.contents_mut()
        {
            v[at..at + len].copy_from_slice(&data[..len]);
        }
    }
}

pub(super) fn copy_out(data: &[u8], offset: u64, buf: &mut [u8]) -> usize {
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
