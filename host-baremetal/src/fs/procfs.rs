//! `/proc` on the unikernel: the process table and each process's
//! descriptors, working directory and program as Linux's procfs shows them.
//!
//! The core (`vm-core/src/syscall/procfs.rs`) owns every view that comes
//! from guest state: a process's own `maps`, `smaps`, `mem`, `pagemap`,
//! `auxv`, `cmdline`, `environ`, `statm`, `comm`, `syscall`,
//! `personality`, `exe` and `/proc/cpuinfo`, which it substitutes at
//! `open` (another process's memory views it refuses). This file gives it
//! what it needs from a host procfs, as Linux's does for pvm on Linux:
//!
//! * `/proc/self` (a link to the caller's pid), `/proc/thread-self`,
//!   `/proc/<pid>/` of every process of [`ProcSource`], `task/<pid>/`;
//! * `fd/N`: a link naming what the descriptor is open on (the path, or
//!   `pipe:[...]`, `socket:[...]`, `anon_inode:[...]`, `/memfd:NAME
//!   (deleted)`), which opens the descriptor's own file when followed
//!   (a reopen, with its own offset and access mode: the core hands out
//!   its generated files that way, and `execveat` of a memfd runs it);
//!   `fdinfo/N` (`pos`, `flags`, `mnt_id`, `ino`);
//! * `exe`, `cwd`, `root` links; `stat`, `status` and `statm` of the
//!   process (pid, parent, group, session, state, CPU time, ids, and its
//!   memory as the kernel's page tables show it, [`MemFigures`]), which
//!   the core overlays with the guest's own fields for its own process;
//!   `comm` and `cmdline` from the program the process runs;
//! * the names of the core's views (`maps`, `mem`...: empty here, as
//!   their contents are the core's) so that every route to them (a
//!   symbolic link, a directory descriptor) reaches an open the core sees;
//! * `meminfo`, `uptime`, `loadavg`, `stat`, `version`.
//!
//! Nodes are made when a lookup reaches them (files hold a snapshot taken
//! then, as the core's views do), with inode numbers derived from what
//! they name, so a name keeps its number. All of them are on one device
//! ([`DEV`]), which is how the core recognises a procfs file.
//! Its files open as regular files of that snapshot; its directories as
//! [`ProcDir`]s, which list what is there at each `getdents64`.

use super::object::{DirEntry, Object};
use super::*;
use alloc::format;
use alloc::string::String;
use core::fmt::Write;
use vm_core::abi::O_LARGEFILE;

/// procfs's `st_dev` (0:22 here).
pub(super) const DEV: u64 = 22;

/// What a `/proc` node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tag {
    /// `/proc`.
    Root,
    /// `/proc/<pid>`, or `/proc/<pid>/task/<tid>` (with the tid).
    Pid(i32, Option<i32>),
    /// `/proc/<pid>/fd`, `/proc/<pid>/fdinfo`, `/proc/<pid>/task`.
    Fd(i32),
    FdInfo(i32),
    Task(i32),
    /// A file, a plain link, or an empty directory (`map_files`).
    Leaf,
    /// `/proc/<pid>/fd/<fd>`.
    FdLink(i32, i32),
}

impl Tag {
    fn lists(self) -> bool {
        !matches!(self, Tag::Leaf | Tag::FdLink(..))
    }
}

/// What the process table says about one process.
#[derive(Clone, Debug, Default)]
pub struct ProcFacts {
    pub ppid: i32,
    pub pgid: i32,
    pub sid: i32,
    /// `b'R'` (running), `b'S'` (sleeping), `b'T'` (stopped), `b'Z'`.
    pub state: u8,
    /// The program's absolute path (empty when unknown).
    pub exe: Vec<u8>,
    /// Its arguments, each followed by a NUL.
    pub cmdline: Vec<u8>,
    /// CPU time used, nanoseconds.
    pub cpu_ns: u64,
    /// When it started, nanoseconds after boot.
    pub start_ns: u64,
    /// Its threads other than the first (whose id is the pid).
    pub threads: Vec<i32>,
    /// Thread names the guest gave (tid, NUL-padded name).
    pub names: Vec<(i32, [u8; 16])>,
    /// Working directory, umask and descriptor links (number, link text),
    /// when they can be had (not of a zombie).
    pub cwd: Option<Vec<u8>>,
    pub umask: Option<u32>,
    pub fds: Option<Vec<(i32, Vec<u8>)>>,
    /// Its memory, while it has an address space (not a zombie's).
    pub mem: Option<MemFigures>,
}

/// A process's memory as the kernel sees it (its page tables), bytes:
/// what Linux's `statm` and the `Vm*` lines of `status` show of another
/// process. The kernel does not know which mappings are the program's
/// text, its libraries or its stack, nor which pages the guest may
/// execute (the core does, and shows them in a process's own files; the
/// host CPU never runs guest pages): `text` is every page that is
/// readable but not writable (code and read-only data), `data` every
/// writable one, the stack included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemFigures {
    /// Mapped, any protection (`VmSize`); a `PROT_NONE` range with no
    /// page table (address space reserved, never made accessible, which
    /// costs the kernel nothing) is left out.
    pub size: u64,
    /// Backed by memory (`VmRSS`).
    pub resident: u64,
    pub text: u64,
    pub data: u64,
}

/// The process table, as `/proc` needs it (the kernel's; see
/// `src/procs.rs`).
pub trait ProcSource: Sync {
    /// The pids of every process, zombies included, in order.
    fn pids(&self) -> Vec<i32>;
    /// What is known of `pid`; `me` is the caller, whose descriptor table
    /// is busy (its `cwd`, `umask` and `fds` are filled in here).
    fn facts(&self, pid: i32, me: i32) -> Option<ProcFacts>;
    /// Nanoseconds since boot.
    fn uptime_ns(&self) -> u64;
    /// (total, free) bytes of memory.
    fn memory(&self) -> (u64, u64);
    /// How many CPUs there are.
    fn cpus(&self) -> usize;
    /// `pid`'s state as `facts` gives it (`b'Z'` for a zombie), `None`
    /// for no such process; cheaper than `facts`.
    fn state(&self, pid: i32) -> Option<u8> {
        self.facts(pid, 0).map(|f| f.state)
    }
}

/// A child of a `/proc` directory, before it is made.
enum Child {
    Dir(Tag),
    /// An empty directory.
    EmptyDir,
    File(Vec<u8>, bool),
    Link(Vec<u8>),
    FdLink(i32, i32, Vec<u8>, u32),
}

/// A per-process file whose contents are the core's own view.
const CORE_VIEWS: &[&str] = &[
    "auxv",
    "environ",
    "maps",
    "mem",
    "numa_maps",
    "pagemap",
    "personality",
    "smaps",
    "smaps_rollup",
    "stack",
    "syscall",
];

/// What `/proc/<pid>/fd/N` names for an open file description.
pub(super) fn link_name(f: &OpenFile) -> Vec<u8> {
    f.obj.link_name(&f.dir_path)
}

/// Where following `/proc/self/fd/N` leads.
pub(super) enum FdTarget {
    /// A directory: its path, walked as a link's text would be.
    Path(Vec<u8>),
    /// Any other file: the node itself, and the path it was opened by.
    Node(Arc<Node>, Vec<u8>),
    /// A pipe, a socket, an anonymous inode or the console: no node; the
    /// lookup ends at the link, which `open` reopens ([`Fs::reopen`]).
    Object,
}

fn ino_of(parent: Tag, name: &[u8]) -> u64 {
    // FNV-1a of what the node names, above the tree's sequential numbers.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let key = format!("{parent:?}/");
    for &b in key.as_bytes().iter().chain(name) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    (1 << 40) | (h & ((1 << 40) - 1))
}

fn num(b: &[u8]) -> Option<i32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) || b[0] == b'0' {
        return None;
    }
    core::str::from_utf8(b).ok()?.parse().ok()
}

/// Thread `tid`'s name as `comm` shows it: the one the guest gave, else
/// its program's file name, at most 15 bytes.
fn comm(f: &ProcFacts, tid: i32) -> String {
    if let Some((_, n)) = f.names.iter().find(|t| t.0 == tid) {
        let len = n.iter().position(|&b| b == 0).unwrap_or(16).min(15);
        return String::from_utf8_lossy(&n[..len]).into_owned();
    }
    let base = f.exe.rsplit(|&b| b == b'/').next().unwrap_or(&f.exe);
    String::from_utf8_lossy(&base[..base.len().min(15)]).into_owned()
}

impl Fs {
    /// This view belongs to process `pid`, whose table is `procs`.
    pub fn set_proc(&mut self, pid: i32, procs: &'static dyn ProcSource) {
        self.pid = pid;
        self.procs = Some(procs);
    }

    /// The working directory.
    pub fn cwd(&self) -> &[u8] {
        &self.cwd
    }

    /// The file-creation mask.
    pub fn current_umask(&self) -> u32 {
        self.umask
    }

    /// Each open descriptor and what `/proc/<pid>/fd` names it.
    pub fn fd_links(&self) -> Vec<(i32, Vec<u8>)> {
        self.fds
            .iter()
            .enumerate()
            .filter_map(|(i, f)| Some((i as i32, link_name(&f.as_ref()?.file.lock()))))
            .collect()
    }

    /// Add `/proc` to the root.
    pub(super) fn add_proc(&mut self, t: Timespec) {
        let node = self.proc_node(
            1 << 40,
            Tag::Root,
            dir_node(Arc::downgrade(&self.root)),
            0o555,
            t,
        );
        let root = self.root.clone();
        if self.insert_child(&root, b"proc", node).is_ok() {
            root.lock().nlink += 1;
        }
    }

    fn proc_node(&self, ino: u64, tag: Tag, kind: Kind, perm: u32, t: Timespec) -> Arc<Node> {
        let writable = kind.type_bits() == S_IFREG && perm & 0o200 != 0;
        Arc::new(spin::Mutex::new(Inode {
            ino,
            perm,
            nlink: if kind.type_bits() == S_IFDIR { 2 } else { 1 },
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
            proc: Some(tag),
        }))
    }

    /// Process `pid`'s state (`b'Z'`: a zombie), `None` if there is none.
    pub(super) fn process_state(&self, pid: i32) -> Option<u8> {
        match self.procs {
            Some(s) => s.state(pid),
            None => (pid == self.pid).then_some(b'R'),
        }
    }

    fn pids(&self) -> Vec<i32> {
        match self.procs {
            Some(s) => s.pids(),
            None => alloc::vec![self.pid],
        }
    }

    fn facts(&self, pid: i32) -> Option<ProcFacts> {
        let mut f = match self.procs {
            Some(s) => s.facts(pid, self.pid)?,
            None if pid == self.pid => ProcFacts {
                ppid: 1,
                pgid: 1,
                sid: 1,
                state: b'R',
                ..ProcFacts::default()
            },
            None => return None,
        };
        if pid == self.pid {
            f.cwd = Some(self.cwd.clone());
            f.umask = Some(self.umask);
            f.fds = Some(self.fd_links());
        }
        Some(f)
    }

    /// The open descriptor numbers of `pid` (without locking any of
    /// them, for a listing made while one is locked).
    fn fd_numbers(&self, pid: i32) -> Option<Vec<i32>> {
        if pid == self.pid {
            return Some(
                self.fds
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.is_some())
                    .map(|(i, _)| i as i32)
                    .collect(),
            );
        }
        Some(self.facts(pid)?.fds?.into_iter().map(|(n, _)| n).collect())
    }

    /// The names in the `/proc` directory `tag`, with inode and
    /// `d_type`, in order (`.` and `..` not included).
    pub(super) fn proc_list(&self, tag: Tag) -> Vec<(Vec<u8>, u64, u8)> {
        let mut names: Vec<(Vec<u8>, u8)> = Vec::new();
        match tag {
            Tag::Root => {
                for n in ["cpuinfo", "loadavg", "meminfo", "stat", "uptime", "version"] {
                    names.push((n.as_bytes().to_vec(), 8));
                }
                names.push((b"self".to_vec(), 10));
                names.push((b"thread-self".to_vec(), 10));
                for p in self.pids() {
                    names.push((format!("{p}").into_bytes(), 4));
                }
            }
            Tag::Pid(pid, tid) => {
                if self.facts(pid).is_none() {
                    return Vec::new();
                }
                for n in ["fd", "fdinfo", "map_files"] {
                    names.push((n.as_bytes().to_vec(), 4));
                }
                if tid.is_none() {
                    names.push((b"task".to_vec(), 4));
                }
                for n in ["cwd", "exe", "root"] {
                    names.push((n.as_bytes().to_vec(), 10));
                }
                for n in ["cmdline", "comm", "stat", "statm", "status"]
                    .iter()
                    .chain(CORE_VIEWS)
                {
                    names.push((n.as_bytes().to_vec(), 8));
                }
            }
            Tag::Fd(pid) | Tag::FdInfo(pid) => {
                let dtype = if matches!(tag, Tag::Fd(_)) { 10 } else { 8 };
                if matches!(tag, Tag::FdInfo(_)) && pid != self.pid {
                    return Vec::new();
                }
                for n in self.fd_numbers(pid).unwrap_or_default() {
                    names.push((format!("{n}").into_bytes(), dtype));
                }
            }
            Tag::Task(pid) => {
                let Some(f) = self.facts(pid) else {
                    return Vec::new();
                };
                for t in core::iter::once(pid).chain(f.threads) {
                    names.push((format!("{t}").into_bytes(), 4));
                }
            }
            Tag::Leaf | Tag::FdLink(..) => {}
        }
        names.sort();
        names
            .into_iter()
            .map(|(n, d)| {
                let ino = ino_of(tag, &n);
                (n, ino, d)
            })
            .collect()
    }

    /// What `name` in the `/proc` directory `tag` is, if anything.
    fn proc_child(&self, tag: Tag, name: &[u8]) -> Option<Child> {
        let s = core::str::from_utf8(name).ok()?;
        match tag {
            Tag::Root => match s {
                "self" => Some(Child::Link(format!("{}", self.pid).into_bytes())),
                // The host knows the process, not which of its threads
                // runs; the core resolves the guest's own files under
                // thread-self with the calling thread's id.
                "thread-self" => Some(Child::Link(format!("{0}/task/{0}", self.pid).into_bytes())),
                // The core generates cpuinfo from the guest's CPU.
                "cpuinfo" => Some(Child::File(Vec::new(), false)),
                "meminfo" => Some(Child::File(self.meminfo(), false)),
                "uptime" => {
                    let ns = self.procs.map_or(0, |s| s.uptime_ns());
                    let cs = ns / 10_000_000;
                    Some(Child::File(
                        format!(
                            "{}.{:02} {}.{:02}\n",
                            cs / 100,
                            cs % 100,
                            cs / 100,
                            cs % 100
                        )
                        .into_bytes(),
                        false,
                    ))
                }
                "loadavg" => {
                    let n = self.pids().len();
                    let last = self.pids().last().copied().unwrap_or(self.pid);
                    Some(Child::File(
                        format!("0.00 0.00 0.00 1/{n} {last}\n").into_bytes(),
                        false,
                    ))
                }
                "stat" => Some(Child::File(self.system_stat(), false)),
                "version" => Some(Child::File(
                    b"Linux version 6.1.0-pvm (pvm) #1 pvm-baremetal\n".to_vec(),
                    false,
                )),
                _ => {
                    let pid = num(name)?;
                    self.facts(pid).map(|_| Child::Dir(Tag::Pid(pid, None)))
                }
            },
            Tag::Pid(pid, tid) => {
                let f = self.facts(pid)?;
                Some(match s {
                    "fd" if f.fds.is_some() => Child::Dir(Tag::Fd(pid)),
                    "fdinfo" if f.fds.is_some() => Child::Dir(Tag::FdInfo(pid)),
                    "task" if tid.is_none() => Child::Dir(Tag::Task(pid)),
                    "map_files" => Child::EmptyDir,
                    "cwd" => Child::Link(f.cwd?),
                    "exe" if !f.exe.is_empty() => Child::Link(f.exe),
                    "root" => Child::Link(b"/".to_vec()),
                    "cmdline" => Child::File(f.cmdline.clone(), false),
                    "comm" => Child::File(
                        format!("{}\n", comm(&f, tid.unwrap_or(pid))).into_bytes(),
                        false,
                    ),
                    "stat" => Child::File(self.stat_line(tid.unwrap_or(pid), &f), false),
                    "statm" => Child::File(statm(&f), false),
                    "status" => Child::File(self.status(pid, tid.unwrap_or(pid), &f), false),
                    // The core's views: it opens its own in their place
                    // and refuses another process's memory.
                    "mem" => Child::File(Vec::new(), true),
                    v if CORE_VIEWS.contains(&v) => Child::File(Vec::new(), false),
                    _ => return None,
                })
            }
            Tag::Task(pid) => {
                let tid = num(name)?;
                let f = self.facts(pid)?;
                (tid == pid || f.threads.contains(&tid))
                    .then_some(Child::Dir(Tag::Pid(pid, Some(tid))))
            }
            Tag::Fd(pid) => {
                let fd = num(name).or((name == b"0").then_some(0))?;
                if pid == self.pid {
                    let file = self.file(fd).ok()?;
                    let f = file.lock();
                    let mode = if f.flags & O_PATH != 0 {
                        0
                    } else {
                        (if f.readable() { 0o500 } else { 0o100 })
                            | if f.writable() { 0o200 } else { 0 }
                    };
                    Some(Child::FdLink(pid, fd, link_name(&f), mode))
                } else {
                    let (_, t) = self.facts(pid)?.fds?.into_iter().find(|(n, _)| *n == fd)?;
                    Some(Child::FdLink(pid, fd, t, 0o700))
                }
            }
            Tag::FdInfo(pid) => {
                let fd = num(name).or((name == b"0").then_some(0))?;
                if pid != self.pid {
                    return None;
                }
                let cloexec = self.fd(fd).ok()?.cloexec;
                let file = self.file(fd).ok()?;
                let f = file.lock();
                let mut flags = f.flags & !O_DIRECTORY;
                if f.obj.inode().is_some() {
                    flags |= O_LARGEFILE;
                }
                if cloexec {
                    flags |= O_CLOEXEC;
                }
                let ino = f.obj.stat(self).ino;
                Some(Child::File(
                    format!(
                        "pos:\t{}\nflags:\t0{flags:o}\nmnt_id:\t24\nino:\t{ino}\n",
                        f.offset
                    )
                    .into_bytes(),
                    false,
                ))
            }
            Tag::Leaf | Tag::FdLink(..) => None,
        }
    }

    /// The node `name` in the `/proc` directory `tag`, made now.
    pub(super) fn proc_lookup(&self, tag: Tag, name: &[u8]) -> Option<Arc<Node>> {
        let child = self.proc_child(tag, name)?;
        let ino = ino_of(tag, name);
        let t = (self.clock)();
        let dir = || dir_node(Weak::new());
        Some(match child {
            Child::Dir(d) => self.proc_node(ino, d, dir(), 0o555, t),
            Child::EmptyDir => self.proc_node(ino, Tag::Leaf, dir(), 0o500, t),
            Child::File(data, writable) => self.proc_node(
                ino,
                Tag::Leaf,
                file_node(Data::Owned(data)),
                if writable { 0o600 } else { 0o444 },
                t,
            ),
            Child::Link(text) => self.proc_node(ino, Tag::Leaf, link_node(text), 0o777, t),
            Child::FdLink(pid, fd, text, mode) => {
                self.proc_node(ino, Tag::FdLink(pid, fd), link_node(text), mode, t)
            }
        })
    }

    /// The `/proc` directory `dir` is one whose names are made on lookup.
    pub(super) fn proc_dir(dir: &Inode) -> Option<Tag> {
        dir.proc.filter(|t| t.lists())
    }

    /// Following the link `node`: where a descriptor link of this
    /// process leads, `None` for any other link (its text is walked).
    pub(super) fn fd_target(&self, node: &Arc<Node>) -> Option<SysResult<FdTarget>> {
        let Some(Tag::FdLink(pid, fd)) = node.lock().proc else {
            return None;
        };
        if pid != self.pid {
            return None;
        }
        Some((|| {
            let file = self.file(fd).map_err(|_| Errno::ENOENT)?;
            let f = file.lock();
            match f.obj.inode() {
                Some(n) if n.lock().is_dir() => Ok(FdTarget::Path(f.dir_path.clone())),
                Some(n) => Ok(FdTarget::Node(n.clone(), f.dir_path.clone())),
                None => Ok(FdTarget::Object),
            }
        })())
    }

    /// The descriptor a link of this process's `fd/` stands for.
    pub(super) fn own_fd_link(&self, node: &Arc<Node>) -> Option<i32> {
        match node.lock().proc {
            Some(Tag::FdLink(pid, fd)) if pid == self.pid => Some(fd),
            _ => None,
        }
    }

    /// `open` of `/proc/self/fd/N` where `N` has no node: what the
    /// object makes of it ([`Object::reopen`]: a pipe end opens the end
    /// the access mode names, the console reopens itself, stdin reading on
    /// from where `N` is; a socket or an anonymous inode is `ENXIO`).
    pub(super) fn reopen(&mut self, fd: i32, flags: i32) -> SysResult<i32> {
        let file = self.file(fd).map_err(|_| Errno::ENOENT)?;
        let (obj, name, offset) = {
            let f = file.lock();
            (f.obj.reopen(flags & O_ACCMODE)?, link_name(&f), f.offset)
        };
        let kept = flags & (O_ACCMODE | O_NONBLOCK);
        let new = self.install(obj, kept, name, flags & O_CLOEXEC != 0)?;
        self.file(new)?.lock().offset = offset;
        Ok(new)
    }

    fn meminfo(&self) -> Vec<u8> {
        let (total, free) = self.procs.map_or((0, 0), |s| s.memory());
        let mut s = String::new();
        let kb = |b: u64| b / 1024;
        for (k, v) in [
            ("MemTotal", kb(total)),
            ("MemFree", kb(free)),
            ("MemAvailable", kb(free)),
            ("Buffers", 0),
            ("Cached", 0),
            ("SwapCached", 0),
            ("Active", kb(total - free.min(total))),
            ("Inactive", 0),
            ("SwapTotal", 0),
            ("SwapFree", 0),
            ("Shmem", 0),
        ] {
            let _ = writeln!(s, "{:<16}{v:>8} kB", format!("{k}:"));
        }
        s.into_bytes()
    }

    /// `/proc/stat`: CPU time in clock ticks (USER_HZ, 100), per CPU.
    fn system_stat(&self) -> Vec<u8> {
        let cpus = self.procs.map_or(1, |s| s.cpus()).max(1);
        let up = self.procs.map_or(0, |s| s.uptime_ns()) / 10_000_000;
        let busy: u64 = self
            .pids()
            .iter()
            .filter_map(|&p| self.procs?.facts(p, self.pid))
            .map(|f| f.cpu_ns / 10_000_000)
            .sum();
        let idle = (up * cpus as u64).saturating_sub(busy);
        let mut s = format!("cpu  {busy} 0 0 {idle} 0 0 0 0 0 0\n");
        for c in 0..cpus {
            let (b, i) = if c == 0 { (busy, idle) } else { (0, up) };
            let _ = writeln!(s, "cpu{c} {b} 0 0 {i} 0 0 0 0 0 0");
        }
        let _ = write!(
            s,
            "intr 0\nctxt 0\nbtime 0\nprocesses {}\nprocs_running 1\nprocs_blocked 0\n",
            self.pids().len()
        );
        s.into_bytes()
    }

    /// `/proc/<pid>/stat`: Linux's 52 fields, the memory ones from the
    /// page tables (the core fills in its own process's from the guest's
    /// state).
    fn stat_line(&self, id: i32, f: &ProcFacts) -> Vec<u8> {
        let ticks = f.cpu_ns / 10_000_000;
        let start = f.start_ns / 10_000_000;
        let m = f.mem.unwrap_or_default();
        let mut s = format!(
            "{id} ({}) {} {} {} {} 0 -1 4194560 0 0 0 0 {ticks} 0 0 0 20 0 {} 0 {start} {} {} \
             18446744073709551615",
            comm(f, id),
            f.state as char,
            f.ppid,
            f.pgid,
            f.sid,
            1 + f.threads.len(),
            m.size,
            m.resident / 4096,
        );
        // startcode .. exit_code (fields 26 to 52).
        for field in 26..=52 {
            s.push_str(if field == 38 { " 17" } else { " 0" });
        }
        s.push('\n');
        s.into_bytes()
    }

    /// `/proc/<pid>/status` in Linux 6.1's order. The memory lines are
    /// the page tables' figures (the core puts its own in for its own
    /// process), and absent for a zombie, as on Linux.
    fn status(&self, pid: i32, tid: i32, f: &ProcFacts) -> Vec<u8> {
        let state = match f.state {
            b'R' => "R (running)",
            b'T' => "T (stopped)",
            b'Z' => "Z (zombie)",
            _ => "S (sleeping)",
        };
        let mut s = format!("Name:\t{}\n", comm(f, tid));
        if let Some(m) = f.umask {
            let _ = writeln!(s, "Umask:\t{m:04o}");
        }
        let _ = write!(
            s,
            "State:\t{state}\nTgid:\t{pid}\nNgid:\t0\nPid:\t{tid}\nPPid:\t{}\nTracerPid:\t0\n\
             Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t{}\nGroups:\t\nNStgid:\t{pid}\n\
             NSpid:\t{tid}\nNSpgid:\t{}\nNSsid:\t{}\n",
            f.ppid,
            f.fds
                .as_ref()
                .map_or(0, |v| v.last().map_or(64, |l| (l.0 as usize + 64) & !63)),
            f.pgid,
            f.sid,
        );
        if let Some(m) = f.mem {
            // Every page is anonymous memory here (the core copies private
            // file mappings in); the peaks are not kept.
            for (k, v) in [
                ("VmPeak", m.size),
                ("VmSize", m.size),
                ("VmLck", 0),
                ("VmPin", 0),
                ("VmHWM", m.resident),
                ("VmRSS", m.resident),
                ("RssAnon", m.resident),
                ("RssFile", 0),
                ("RssShmem", 0),
                ("VmData", m.data),
                ("VmStk", 0),
                ("VmExe", m.text),
                ("VmLib", 0),
                ("VmPTE", (m.size / 512).max(4096)),
                ("VmSwap", 0),
            ] {
                let _ = writeln!(s, "{k}:\t{:>8} kB", v / 1024);
            }
        }
        let _ = write!(
            s,
            "HugetlbPages:\t       0 kB\nCoreDumping:\t0\nTHP_enabled:\t1\nThreads:\t{}\n\
             SigQ:\t0/31760\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n\
             SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\n\
             CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n\
             CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\n\
             Seccomp_filters:\t0\nSpeculation_Store_Bypass:\tnot vulnerable\n\
             Cpus_allowed:\t1\nCpus_allowed_list:\t0\nMems_allowed:\t1\nMems_allowed_list:\t0\n\
             voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n",
            1 + f.threads.len()
        );
        s.into_bytes()
    }
}

/// `/proc/<pid>/statm`: size, resident, shared, text, lib, data and dt,
/// in pages (all 0 for a zombie, as on Linux).
fn statm(f: &ProcFacts) -> Vec<u8> {
    let m = f.mem.unwrap_or_default();
    let pg = |b: u64| b / 4096;
    format!(
        "{} {} 0 {} 0 {} 0\n",
        pg(m.size),
        pg(m.resident),
        pg(m.text),
        pg(m.data)
    )
    .into_bytes()
}

/// A `/proc` directory whose names are made on lookup: it lists what
/// [`Fs::proc_list`] says is there now, as a [`Directory`] otherwise.
#[derive(Debug)]
pub(super) struct ProcDir {
    dir: Directory,
    tag: Tag,
}

impl ProcDir {
    pub(super) fn new(node: Arc<Node>, tag: Tag) -> ProcDir {
        ProcDir {
            dir: Directory(node),
            tag,
        }
    }
}

impl Object for ProcDir {
    fn read(&self, fs: &Fs, pos: &mut u64, buf: &mut [u8]) -> SysResult<usize> {
        self.dir.read(fs, pos, buf)
    }
    fn write(&self, fs: &Fs, pos: &mut u64, append: bool, buf: &[u8]) -> SysResult<usize> {
        self.dir.write(fs, pos, append, buf)
    }
    fn seek(&self, pos: &mut u64, offset: i64, whence: i32) -> SysResult<i64> {
        self.dir.seek(pos, offset, whence)
    }
    fn list(&self, fs: &Fs) -> SysResult<Vec<DirEntry>> {
        let mut out = Directory::dots(&self.dir.0.lock()).to_vec();
        out.extend(fs.proc_list(self.tag));
        Ok(out)
    }
    fn inode(&self) -> Option<&Arc<Node>> {
        self.dir.inode()
    }
    fn kind(&self) -> &'static str {
        "directory"
    }
}
