//! `--sandbox`: which host files the guest may reach, how its paths are
//! resolved so that none leads out of them, and the host's defence in
//! depth on pvm itself (Landlock, seccomp). See README "Sandbox mode".
//!
//! The allowed set is a list of roots: the `--allow-read` and
//! `--allow-write` directories, the sysroot (read), the program (read),
//! and a few harmless devices (`/dev/null`, `/dev/zero`, `/dev/full`
//! read-write; `/dev/random`, `/dev/urandom` read). Each root is held open
//! as an `O_PATH` descriptor (of the directory, or of a file root's
//! directory) from the start, at a high number.
//!
//! A guest path (after the sysroot rule of `host::LinuxHost::map`) is
//! walked as the kernel walks it, one component at a time on the real
//! file system (`Sandbox::walk`): from `/` or the guest's directory, each
//! name is looked up in the directory reached with `O_PATH | O_NOFOLLOW`,
//! a symbolic link is read and its target walked, `..` is the real parent
//! of where the walk stands (`f/..` of a file is `ENOTDIR`, `link/..` the
//! parent of the link's target). Where the walk stands is a real path
//! and, inside a root, a descriptor reached from the root's own (after a
//! `..`, or where a relative path starts: the kernel's directory, by its
//! real path opened again from the root with `RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS` and compared by device and inode, looked for again
//! if a rename came in between, `Sandbox::settle`); outside every root it
//! may only pass through
//! the directories leading to one, by names, and the name of a root is
//! that root's descriptor, whatever the name holds now (under
//! `RESOLVE_NO_XDEV`, a move by names or an absolute link's jump to `/`
//! between directories on different mounts is `EXDEV`, [`same_mount`]).
//! The access (read, or write) is checked on the place the walk recorded
//! for what it reached (SECURITY.md says what a rename meanwhile does). Calls that work on a
//! name (create, remove, rename, link, read a link) walk to its directory
//! and act on the last component relative to that descriptor (a slash
//! after it, or a last component `.` or `..`, is kept for the kernel to
//! answer as for the whole path); `open` opens the last component the
//! same way, without following a link there (one is read and walked
//! instead). Calls without a `*at`-on-descriptor
//! form (chmod, chown, utimes, xattrs) reach the resolved object through
//! its `/proc/self/fd/N` name. `openat2`'s `RESOLVE_BENEATH` and
//! `RESOLVE_IN_ROOT` are the kernel's, from the guest's own directory
//! (which must be inside a root).
//!
//! The program of a pvm started by a guest's `execve` is a root held open
//! (`Allow::held`, `--program-fd`): the file the exec'ing pvm checked,
//! reopened through its descriptor, whatever its name names later; so is
//! its dynamic linker (`--interp-fd`).

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;
use vm_core::host::{Errno, SysResult};

/// What a call needs of a root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    Read,
    Write,
}

/// One allowed place.
#[derive(Debug)]
struct Root {
    /// Absolute path, no trailing slash ("/" for the root): canonical, or
    /// the path as given (made absolute) where that differs.
    path: Vec<u8>,
    /// Its canonical path, as components: where a walk that enters it
    /// stands (see `walk`).
    real: Vec<Vec<u8>>,
    /// `O_PATH` descriptor of the directory (of the file's directory for
    /// a file root).
    dir: OwnedFd,
    /// A file root: its name in `dir`.
    file: Option<CString>,
    /// A file root held open: `dir` is the file itself (reopened through
    /// its `/proc/self/fd` link), which `/proc/self/fd/N` of `dir` names
    /// too.
    whole: bool,
    write: bool,
}

/// The sandbox's file rules.
#[derive(Debug)]
pub struct Sandbox {
    /// Longest path first.
    roots: Vec<Root>,
    pub allow_net: bool,
}

static SANDBOX: OnceLock<Sandbox> = OnceLock::new();

/// The sandbox, when `--sandbox` is on.
pub fn get() -> Option<&'static Sandbox> {
    SANDBOX.get()
}

fn os_err() -> Errno {
    Errno(
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO),
    )
}

fn cstr(b: &[u8]) -> SysResult<CString> {
    CString::new(b).map_err(|_| Errno::ENOENT)
}

fn open_path(path: &[u8], dir: bool) -> Result<OwnedFd, String> {
    let c = cstr(path).map_err(|_| "bad path".to_string())?;
    let flags = libc::O_PATH | libc::O_CLOEXEC | if dir { libc::O_DIRECTORY } else { 0 };
    // SAFETY: `c` is NUL-terminated.
    let fd = unsafe { libc::open(c.as_ptr(), flags) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    // Out of the guest's way (`fdrange`).
    let fd = crate::fdrange::move_high(fd);
    // SAFETY: `fd` is a descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A duplicate of a root's descriptor, in pvm's range (`fdrange`), out
/// of the guest's way as the root's own.
fn dup_high(fd: &OwnedFd) -> Result<OwnedFd, String> {
    let d = fd.try_clone().map_err(|e| e.to_string())?;
    Ok(own(crate::fdrange::move_high(
        std::os::fd::IntoRawFd::into_raw_fd(d),
    )))
}

/// One place to allow, as given.
#[derive(Clone, Debug)]
pub struct Allow {
    pub path: std::path::PathBuf,
    pub write: bool,
    /// A missing path is skipped (the defaults) instead of an error.
    pub optional: bool,
    /// The file, held open at this descriptor (pvm's own, at a high
    /// number): the place is that file, whatever its name names later.
    pub held: Option<RawFd>,
}

/// Set the sandbox up (once, before the guest runs). Each place is
/// matched under its canonical path and, if that differs, under the path
/// as given (made absolute): a guest that names it either way reaches it.
pub fn install(allow: &[Allow], allow_net: bool) -> Result<(), String> {
    SANDBOX
        .set(build(allow, allow_net)?)
        .map_err(|_| "sandbox set up twice".to_string())
}

fn build(allow: &[Allow], allow_net: bool) -> Result<Sandbox, String> {
    let mut roots = Vec::new();
    for a in allow {
        if let Some(fd) = a.held {
            // SAFETY: the descriptor is handed over to the sandbox.
            let dir = unsafe { OwnedFd::from_raw_fd(fd) };
            let shown = |e: String| format!("{}: {e}", a.path.display());
            let path = fd_path(fd).map_err(|e| shown(e.to_string()))?;
            // The name it was given by (the exec'ing guest's path), where
            // that is not its real path: the same file by that name too,
            // as on Linux the name reaches the file it ran.
            let given = a.path.as_os_str().as_encoded_bytes();
            let (parts, _) = absolute(libc::AT_FDCWD, given).map_err(|e| shown(e.to_string()))?;
            let mut lexical = b"/".to_vec();
            lexical.extend_from_slice(&join(&parts, false));
            if !given.is_empty() && lexical != path && !lexical.starts_with(b"/proc/") {
                roots.push(Root {
                    path: lexical,
                    real: comps(&path),
                    dir: dup_high(&dir).map_err(shown)?,
                    file: None,
                    whole: true,
                    write: false,
                });
            }
            roots.push(Root {
                real: comps(&path),
                path,
                dir,
                file: None,
                whole: true,
                write: false,
            });
            continue;
        }
        let canon = match std::fs::canonicalize(&a.path) {
            Ok(c) => c,
            Err(_) if a.optional => continue,
            Err(e) => return Err(format!("{}: {e}", a.path.display())),
        };
        let shown = |e: String| format!("{}: {e}", a.path.display());
        let path = canon.clone().into_os_string().into_encoded_bytes();
        let given = a.path.as_os_str().as_encoded_bytes();
        let (parts, _) = absolute(libc::AT_FDCWD, given).map_err(|e| shown(e.to_string()))?;
        let mut lexical = b"/".to_vec();
        lexical.extend_from_slice(&join(&parts, false));
        let (dir, file) = if canon.is_dir() {
            (open_path(&path, true).map_err(shown)?, None)
        } else {
            let cut = path.iter().rposition(|&c| c == b'/').unwrap_or(0);
            let parent = if cut == 0 { &b"/"[..] } else { &path[..cut] };
            let name = cstr(&path[cut + 1..]).map_err(|_| shown("bad path".into()))?;
            (open_path(parent, true).map_err(shown)?, Some(name))
        };
        if lexical != path {
            roots.push(Root {
                path: lexical,
                real: comps(&path),
                dir: dup_high(&dir).map_err(shown)?,
                file: file.clone(),
                whole: false,
                write: a.write,
            });
        }
        roots.push(Root {
            real: comps(&path),
            path,
            dir,
            file,
            whole: false,
            write: a.write,
        });
    }
    roots.sort_by_key(|r| std::cmp::Reverse(r.path.len()));
    Ok(Sandbox { roots, allow_net })
}

trait FromEncoded {
    fn from_encoded_bytes_checked(b: &[u8]) -> &std::ffi::OsStr;
}
impl FromEncoded for std::ffi::OsStr {
    fn from_encoded_bytes_checked(b: &[u8]) -> &std::ffi::OsStr {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(b)
    }
}

/// The host path of what descriptor `fd` names.
fn fd_path(fd: i32) -> SysResult<Vec<u8>> {
    let link = format!("/proc/self/fd/{fd}\0");
    let mut buf = vec![0u8; 4096];
    // SAFETY: `link` is NUL-terminated, `buf` writable for its length.
    let n = unsafe { libc::readlink(link.as_ptr().cast(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(Errno::EBADF);
    }
    buf.truncate(n as usize);
    if !buf.starts_with(b"/") {
        // A pipe, a socket, a deleted directory: no path below any root.
        return Err(Errno::EACCES);
    }
    Ok(buf)
}

fn cwd() -> SysResult<Vec<u8>> {
    std::env::current_dir()
        .map(|p| p.into_os_string().into_encoded_bytes())
        .map_err(|e| Errno(e.raw_os_error().unwrap_or(libc::EIO)))
}

/// `path` made absolute against `dirfd` and normalised lexically: the
/// components, and whether it ended with a slash.
fn absolute(dirfd: i32, path: &[u8]) -> SysResult<(Vec<Vec<u8>>, bool)> {
    let mut full = if path.starts_with(b"/") {
        Vec::new()
    } else if dirfd == libc::AT_FDCWD {
        cwd()?
    } else {
        fd_path(dirfd)?
    };
    full.push(b'/');
    full.extend_from_slice(path);
    let mut parts: Vec<Vec<u8>> = Vec::new();
    for c in full.split(|&c| c == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c.to_vec()),
        }
    }
    // A slash or a `.` after the last name: it must be a directory.
    let slash = (path.ends_with(b"/") || last_name(path) == b".") && !parts.is_empty();
    Ok((parts, slash))
}

/// The last component of `path` as written (trailing slashes left out).
pub fn last_name(path: &[u8]) -> &[u8] {
    let end = path.iter().rposition(|&c| c != b'/').map_or(0, |i| i + 1);
    let start = path[..end]
        .iter()
        .rposition(|&c| c == b'/')
        .map_or(0, |i| i + 1);
    &path[start..end]
}

/// Does `path` end in a way that makes the kernel look at (follow to)
/// what its last name is, a call that works on the name included: a
/// slash after it, or a last name `.` or `..`?
pub fn ends_as_dir(path: &[u8]) -> bool {
    path.ends_with(b"/") || matches!(last_name(path), b"." | b"..")
}

/// Does root path `root` contain `parts` (component-wise)? The rest.
fn below<'a>(root: &[u8], parts: &'a [Vec<u8>]) -> Option<&'a [Vec<u8>]> {
    let mut n = 0;
    for c in root.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
        if parts.get(n).map(|p| &p[..]) != Some(c) {
            return None;
        }
        n += 1;
    }
    Some(&parts[n..])
}

fn join(parts: &[Vec<u8>], slash: bool) -> Vec<u8> {
    let mut v = parts.join(&b'/');
    if slash && !v.is_empty() {
        v.push(b'/');
    }
    v
}

/// `struct open_how` of `openat2`.
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

const RESOLVE_NO_XDEV: u64 = 0x01;
const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_NO_SYMLINKS: u64 = 0x04;
const RESOLVE_BENEATH: u64 = 0x08;
/// The open flags `openat2` accepts (it refuses unknown bits, which
/// `openat` ignores).
const OPEN_FLAGS: i32 = libc::O_ACCMODE
    | libc::O_CREAT
    | libc::O_EXCL
    | libc::O_NOCTTY
    | libc::O_TRUNC
    | libc::O_APPEND
    | libc::O_NONBLOCK
    | libc::O_DSYNC
    | libc::O_ASYNC
    | libc::O_DIRECT
    | libc::O_LARGEFILE
    | libc::O_DIRECTORY
    | libc::O_NOFOLLOW
    | libc::O_NOATIME
    | libc::O_CLOEXEC
    | libc::O_PATH
    | libc::O_TMPFILE
    | libc::O_SYNC;

fn openat2(dir: RawFd, rest: &[u8], flags: i32, mode: u32, resolve: u64) -> SysResult<RawFd> {
    let rest = if rest.is_empty() { &b"."[..] } else { rest };
    // A rename or mount anywhere meanwhile makes a `RESOLVE_BENEATH`
    // lookup through `..` (a link's) fail with `EAGAIN`, for its caller to
    // try again: the sandbox's lookup does (a plain open never fails so).
    let mut r = openat2_as_is(dir, rest, flags, mode, resolve);
    for _ in 0..1000 {
        if r != Err(Errno::EAGAIN) {
            break;
        }
        r = openat2_as_is(dir, rest, flags, mode, resolve);
    }
    r.map_err(|e| {
        // Leaving the root: as a security module refusing it.
        if e == Errno::EXDEV { Errno::EACCES } else { e }
    })
}

/// A held file opened again (`flags` without creation; it is a regular
/// file, so following or not is the same; `slash`: a slash after its
/// name, `ENOTDIR`).
fn reopen(fd: &OwnedFd, flags: i32, slash: bool) -> SysResult<RawFd> {
    if slash {
        return Err(Errno::ENOTDIR);
    }
    let link = format!("/proc/self/fd/{}", fd.as_raw_fd());
    let flags = flags & !(libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_TMPFILE);
    openat2_as_is(libc::AT_FDCWD, link.as_bytes(), flags, 0, 0)
}

/// The kernel's `openat2(dir, path, {flags, mode, resolve})`.
fn openat2_as_is(dir: RawFd, path: &[u8], flags: i32, mode: u32, resolve: u64) -> SysResult<RawFd> {
    let c = cstr(path)?;
    let creates = flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE;
    let how = OpenHow {
        flags: (flags & OPEN_FLAGS) as u32 as u64,
        mode: if creates { (mode & 0o7777) as u64 } else { 0 },
        resolve,
    };
    // SAFETY: `c` is NUL-terminated; `how` is a valid open_how of the
    // size given.
    let r = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            c.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if r < 0 {
        return Err(os_err());
    }
    Ok(r as RawFd)
}

/// How a walk opens a directory it stands in.
const DIR_FLAGS: i32 = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;

/// How many times [`Sandbox::settle`] looks before it gives up.
const SETTLE_TRIES: usize = 100;

/// The device and inode of `name` in `dir` (`""`: of `dir` itself).
fn file_id(dir: RawFd, name: &[u8]) -> SysResult<(u64, u64)> {
    let c = cstr(name)?;
    // SAFETY: all-zero is a valid `stat`, which the call writes.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a C string, `st` writable.
    let r = unsafe { libc::fstatat(dir, c.as_ptr(), &mut st, libc::AT_EMPTY_PATH) };
    if r < 0 {
        return Err(os_err());
    }
    Ok((st.st_dev, st.st_ino))
}

/// The mount `name` in `dir` (`""`: `dir` itself) is on (`statx`'s
/// mount id), not following a link there.
fn mount_id(dir: RawFd, name: &[u8]) -> SysResult<u64> {
    let c = cstr(name)?;
    // SAFETY: all-zero is a valid `statx`, which the call writes.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a C string, `stx` writable.
    let r = unsafe {
        libc::statx(
            dir,
            c.as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
            libc::STATX_MNT_ID,
            &mut stx,
        )
    };
    if r < 0 {
        return Err(os_err());
    }
    Ok(stx.stx_mnt_id)
}

/// Symbolic links one lookup follows at most (Linux's `MAXSYMLINKS`).
const MAX_LINKS: u32 = 40;

/// Where a walk stands: a real absolute path (no link, `.` or `..` in
/// it), and, inside a root, an `O_PATH` descriptor of that directory
/// reached from the root's; outside every root (on the way to one), none.
struct Pos {
    path: Vec<Vec<u8>>,
    fd: Option<OwnedFd>,
}

impl Pos {
    /// The mount the walk stands on: its directory's (by its path
    /// outside every root).
    fn mount(&self) -> SysResult<u64> {
        match &self.fd {
            Some(fd) => mount_id(fd.as_raw_fd(), b""),
            None => mount_id(
                libc::AT_FDCWD,
                &[b"/", &join(&self.path, false)[..]].concat(),
            ),
        }
    }
}

/// With `RESOLVE_NO_XDEV` in `extra`: `EXDEV` if `from` and `to` (where
/// a walk moves by names, or jumps to `/`) are on different mounts, as
/// the kernel's lookup refuses to cross a mount point then.
fn same_mount(extra: u64, from: &Pos, to: &Pos) -> SysResult<()> {
    if extra & RESOLVE_NO_XDEV != 0 && from.mount()? != to.mount()? {
        return Err(Errno::EXDEV);
    }
    Ok(())
}

/// What a name is, looked up without following it.
enum Found {
    /// A directory: the walk may stand there.
    Dir(Pos),
    /// A symbolic link: its descriptor, its target, its real place.
    Link(OwnedFd, Vec<u8>, Vec<Vec<u8>>),
    /// Anything else, and its real place.
    Other(OwnedFd, Vec<Vec<u8>>),
}

/// The components of a path.
fn comps(p: &[u8]) -> Vec<Vec<u8>> {
    p.split(|&c| c == b'/')
        .filter(|c| !c.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn own(fd: RawFd) -> OwnedFd {
    // SAFETY: a new descriptor the caller owns.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// The target of the symbolic link `name` in `dir` (`EINVAL` if it is
/// not one); `name` empty: of the link `dir` is.
fn readlink_at(dir: RawFd, name: &[u8]) -> SysResult<Vec<u8>> {
    let c = cstr(name)?;
    let mut buf = vec![0u8; 4096];
    // SAFETY: `c` is NUL-terminated, `buf` writable for its length.
    let n = unsafe { libc::readlinkat(dir, c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(os_err());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// What `fd` (opened `O_PATH | O_NOFOLLOW` at `path`) is.
fn classify(fd: OwnedFd, path: Vec<Vec<u8>>) -> SysResult<Found> {
    // SAFETY: `st` is written by the call; the empty path is a C string.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::fstatat(fd.as_raw_fd(), c"".as_ptr(), &mut st, libc::AT_EMPTY_PATH) };
    if r < 0 {
        return Err(os_err());
    }
    Ok(match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => Found::Dir(Pos { path, fd: Some(fd) }),
        libc::S_IFLNK => {
            let target = readlink_at(fd.as_raw_fd(), b"")?;
            Found::Link(fd, target, path)
        }
        _ => Found::Other(fd, path),
    })
}

/// An object the guest names, resolved inside an allowed root.
#[derive(Debug)]
pub struct Resolved {
    pub fd: OwnedFd,
}

impl Resolved {
    /// Its `/proc/self/fd/N` name (NUL-terminated), for calls that take
    /// only paths.
    pub fn proc_path(&self) -> Vec<u8> {
        format!("/proc/self/fd/{}\0", self.fd.as_raw_fd()).into_bytes()
    }
}

impl Sandbox {
    /// The root for `parts` that grants `need`, and the rest of the path.
    fn locate<'a>(&self, parts: &'a [Vec<u8>], need: Need) -> SysResult<(&Root, &'a [Vec<u8>])> {
        // A held file by its descriptor's link.
        if let [p, s, f, n] = parts
            && (&p[..], &s[..], &f[..]) == (b"proc", b"self", b"fd")
            && let Some(r) = self
                .roots
                .iter()
                .find(|r| r.whole && n[..] == *r.dir.as_raw_fd().to_string().as_bytes())
        {
            return if need == Need::Write {
                Err(Errno::EACCES)
            } else {
                Ok((r, &parts[4..]))
            };
        }
        for r in &self.roots {
            if need == Need::Write && !r.write {
                continue;
            }
            if let Some(rest) = below(&r.path, parts) {
                if (r.file.is_some() || r.whole) && !rest.is_empty() {
                    continue;
                }
                return Ok((r, rest));
            }
        }
        Err(Errno::EACCES)
    }

    /// `openat(dirfd, path, flags, mode)` inside the allowed roots.
    pub fn open(&self, dirfd: i32, path: &[u8], flags: i32, mode: u32) -> SysResult<RawFd> {
        self.open2(dirfd, path, flags, mode, 0)
    }

    /// The held file `parts` names by its descriptor's link
    /// (`/proc/self/fd/N` of a `whole` root), if it does.
    fn held(&self, parts: &[Vec<u8>]) -> Option<&Root> {
        match parts {
            [p, s, f, n] if (&p[..], &s[..], &f[..]) == (b"proc", b"self", b"fd") => self
                .roots
                .iter()
                .find(|r| r.whole && n[..] == *r.dir.as_raw_fd().to_string().as_bytes()),
            _ => None,
        }
    }

    /// The root whose place is `path` (by its path as given or its real
    /// one): a walk that reaches that name takes the root's descriptor,
    /// not what the name holds now.
    fn root_at(&self, path: &[Vec<u8>]) -> Option<&Root> {
        self.roots
            .iter()
            .find(|r| r.real == path || below(&r.path, path).is_some_and(|rest| rest.is_empty()))
    }

    /// Does a root grant `need` on the real place `path`?
    fn grants(&self, path: &[Vec<u8>], need: Need) -> SysResult<()> {
        let ok = self.roots.iter().any(|r| {
            (need == Need::Read || r.write)
                && if r.file.is_some() || r.whole {
                    r.real == path
                } else {
                    path.starts_with(&r.real)
                }
        });
        if ok { Ok(()) } else { Err(Errno::EACCES) }
    }

    /// The walk's position at the real directory `path`: inside the
    /// deepest directory root that holds it, opened from that root's
    /// descriptor (the kernel keeps the rest beneath it and follows no
    /// link); outside every root, no descriptor.
    fn enter(&self, path: Vec<Vec<u8>>) -> SysResult<Pos> {
        let root = self
            .roots
            .iter()
            .filter(|r| r.file.is_none() && !r.whole && path.starts_with(&r.real))
            .max_by_key(|r| r.real.len());
        let Some(r) = root else {
            return Ok(Pos { path, fd: None });
        };
        let rest = join(&path[r.real.len()..], false);
        let fd = openat2(
            r.dir.as_raw_fd(),
            &rest,
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            0,
            RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        )?;
        Ok(Pos {
            path,
            fd: Some(own(fd)),
        })
    }

    /// The walk's position at the directory `name` (`""`: `at` itself, or
    /// `..`) names from the descriptor `at`, as the kernel's own lookup
    /// finds it (with `xdev`, `RESOLVE_NO_XDEV`: `EXDEV` over a mount
    /// point): `guess`, the path the walk expects it at, entered from its
    /// root ([`Sandbox::enter`]) if that is the same directory (device and
    /// inode; outside every root, by that path); else its real path now,
    /// entered the same way, once that is.
    /// Another process that renames a directory on the way in between
    /// makes them differ, and the walk looks again, as Linux's lookup
    /// retries on a rename; `EAGAIN` if they never agree, as `openat2`'s
    /// `RESOLVE_BENEATH` answers then (`ENOENT` if the path kept failing:
    /// a directory removed).
    fn settle(&self, guess: Vec<Vec<u8>>, at: RawFd, name: &[u8], xdev: u64) -> SysResult<Pos> {
        // Outside every root the walk goes by names only.
        let same = |pos: &Pos, id: (u64, u64)| match &pos.fd {
            Some(fd) => file_id(fd.as_raw_fd(), b"").map(|p| p == id),
            None => Ok(true),
        };
        if xdev == 0
            && let Ok(pos) = self.enter(guess)
            && same(&pos, file_id(at, name)?)?
        {
            return Ok(pos);
        }
        let name = if name.is_empty() { &b"."[..] } else { name };
        let mut last = Errno::EAGAIN;
        for _ in 0..SETTLE_TRIES {
            let fd = own(openat2_as_is(at, name, DIR_FLAGS, 0, xdev)?);
            let pos = match self.enter(comps(&fd_path(fd.as_raw_fd())?)) {
                Err(Errno::ENOENT) => {
                    last = Errno::ENOENT;
                    continue;
                }
                r => r?,
            };
            if same(&pos, file_id(fd.as_raw_fd(), b"")?)? {
                return Ok(pos);
            }
            last = Errno::EAGAIN;
        }
        Err(last)
    }

    /// Where a walk of a path relative to `dirfd` starts (absolute paths
    /// start again at `/` in `walk`): the directory itself ([`settle`]).
    fn start(&self, dirfd: i32, path: &[u8]) -> SysResult<Pos> {
        if path.starts_with(b"/") {
            return Ok(Pos {
                path: Vec::new(),
                fd: None,
            });
        }
        let base = if dirfd == libc::AT_FDCWD {
            cwd()?
        } else {
            // A descriptor without a path (a pipe, a socket): `EACCES`.
            fd_path(dirfd)?
        };
        self.settle(comps(&base), dirfd, b"", 0)
    }

    /// `..` from `pos`: the real parent (of `/`, `/` itself). Inside a
    /// root, the kernel's `..` of the directory held ([`settle`]; with
    /// `RESOLVE_NO_XDEV` in `extra`, `EXDEV` over a mount point, as the
    /// kernel's lookup answers); outside every root (on the way to one)
    /// the parent of its path.
    fn dotdot(&self, pos: Pos, extra: u64) -> SysResult<Pos> {
        let Some(fd) = &pos.fd else {
            let mut path = pos.path.clone();
            path.pop();
            let up = self.enter(path)?;
            same_mount(extra, &pos, &up)?;
            return Ok(up);
        };
        let mut path = pos.path.clone();
        path.pop();
        self.settle(path, fd.as_raw_fd(), b"..", extra & RESOLVE_NO_XDEV)
    }

    /// What the name `name` is in the directory at `pos`: a root's place
    /// is that root (its descriptor); outside every root only the way to
    /// one may be taken (`EACCES` otherwise); inside, the kernel looks
    /// the one name up without following it.
    fn step(&self, pos: &Pos, name: &[u8], extra: u64) -> SysResult<Found> {
        let mut path = pos.path.clone();
        path.push(name.to_vec());
        if let Some(r) = self.root_at(&path) {
            if r.whole {
                let fd = r.dir.try_clone().map_err(|_| Errno::EMFILE)?;
                if extra & RESOLVE_NO_XDEV != 0 && pos.mount()? != mount_id(fd.as_raw_fd(), b"")? {
                    return Err(Errno::EXDEV);
                }
                return Ok(Found::Other(fd, r.real.clone()));
            }
            return match &r.file {
                Some(f) => {
                    let fd = openat2_as_is(
                        r.dir.as_raw_fd(),
                        f.as_bytes(),
                        libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                        0,
                        extra & !RESOLVE_NO_SYMLINKS,
                    )?;
                    classify(own(fd), r.real.clone())
                }
                None => {
                    let fd = r.dir.try_clone().map_err(|_| Errno::EMFILE)?;
                    let to = Pos {
                        path: r.real.clone(),
                        fd: Some(fd),
                    };
                    same_mount(extra, pos, &to)?;
                    Ok(Found::Dir(to))
                }
            };
        }
        let Some(dir) = &pos.fd else {
            let on_the_way = self
                .roots
                .iter()
                .any(|r| r.real.starts_with(&path) || comps(&r.path).starts_with(&path));
            return if on_the_way {
                let to = Pos { path, fd: None };
                same_mount(extra, pos, &to)?;
                Ok(Found::Dir(to))
            } else {
                Err(Errno::EACCES)
            };
        };
        let fd = openat2_as_is(
            dir.as_raw_fd(),
            name,
            libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            0,
            (extra & !RESOLVE_NO_SYMLINKS) | RESOLVE_NO_MAGICLINKS,
        )?;
        classify(own(fd), path)
    }

    /// Walk every component of `path` but the last from `pos`, as the
    /// kernel does: `..` is the real parent of where the walk stands, a
    /// symbolic link is read and its target walked from the link's
    /// directory (at most `MAX_LINKS` in one lookup, `ELOOP` past it, or
    /// at the first with `RESOLVE_NO_SYMLINKS` in `extra`), a name that
    /// is not a directory with more after it is `ENOTDIR`. The directory
    /// reached and the last name (`None` when the path ends with `.` or
    /// `..`, applied, or names `/`).
    fn walk(
        &self,
        pos: Pos,
        path: &[u8],
        links: &mut u32,
        extra: u64,
    ) -> SysResult<(Pos, Option<Vec<u8>>)> {
        let mut pos = if path.starts_with(b"/") {
            self.enter(Vec::new())?
        } else {
            pos
        };
        let parts: Vec<&[u8]> = path
            .split(|&c| c == b'/')
            .filter(|c| !c.is_empty())
            .collect();
        let Some((last, dirs)) = parts.split_last() else {
            return Ok((pos, None));
        };
        for c in dirs {
            pos = self.descend(pos, c, links, extra)?;
        }
        match *last {
            b"." => Ok((pos, None)),
            b".." => Ok((self.dotdot(pos, extra)?, None)),
            name => Ok((pos, Some(name.to_vec()))),
        }
    }

    /// Move from `pos` into the directory `c` names (through links).
    fn descend(&self, pos: Pos, c: &[u8], links: &mut u32, extra: u64) -> SysResult<Pos> {
        match c {
            b"." => Ok(pos),
            b".." => self.dotdot(pos, extra),
            name => match self.step(&pos, name, extra)? {
                Found::Dir(p) => Ok(p),
                Found::Other(..) => Err(Errno::ENOTDIR),
                Found::Link(_, target, _) => {
                    let (p, last) = self.follow(pos, &target, links, extra)?;
                    match last {
                        None => Ok(p),
                        Some(n) => self.descend(p, &n, links, extra),
                    }
                }
            },
        }
    }

    /// Walk a symbolic link's `target` from the directory holding it.
    fn follow(
        &self,
        pos: Pos,
        target: &[u8],
        links: &mut u32,
        extra: u64,
    ) -> SysResult<(Pos, Option<Vec<u8>>)> {
        *links += 1;
        if extra & RESOLVE_NO_SYMLINKS != 0 || *links > MAX_LINKS {
            return Err(Errno::ELOOP);
        }
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.starts_with(b"/") {
            // The jump to `/`, from the link's directory.
            same_mount(extra, &pos, &self.enter(Vec::new())?)?;
        }
        self.walk(pos, target, links, extra)
    }

    /// `openat2(dirfd, path, how)` inside the allowed roots: the guest's
    /// own `RESOLVE_*` flags hold on top of the sandbox's. With
    /// `RESOLVE_BENEATH` or `RESOLVE_IN_ROOT` the kernel resolves from the
    /// guest's directory (`dirfd`, or the current directory) itself, which
    /// must be inside a root granting the access: the result stays below
    /// that directory, so inside the root, with Linux's own semantics
    /// (links, `..`, absolute paths and links under `RESOLVE_IN_ROOT`).
    /// Otherwise the path is walked (`walk`) and the last name opened by
    /// the kernel from the directory reached, following no link (a link
    /// there is read and walked, unless `O_NOFOLLOW`, `O_CREAT | O_EXCL`
    /// or `RESOLVE_NO_SYMLINKS` make it the kernel's to refuse); the
    /// access is checked on the real place of what is opened.
    pub fn open2(
        &self,
        dirfd: i32,
        path: &[u8],
        flags: i32,
        mode: u32,
        resolve: u64,
    ) -> SysResult<RawFd> {
        const RESOLVE_IN_ROOT: u64 = 0x10;
        let write = flags & libc::O_ACCMODE != libc::O_RDONLY
            || flags & (libc::O_CREAT | libc::O_TRUNC) != 0
            || flags & libc::O_TMPFILE == libc::O_TMPFILE;
        let need = if write { Need::Write } else { Need::Read };
        if resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT) != 0 {
            // The anchor's place (its path now: the guest can move a
            // directory only from one allowed place to another).
            let (parts, _) = absolute(dirfd, b".")?;
            self.locate(&parts, need)?;
            return openat2_as_is(dirfd, path, flags, mode, resolve | RESOLVE_NO_MAGICLINKS);
        }
        let extra = resolve;
        let (parts, slash) = absolute(dirfd, path)?;
        if let Some(r) = self.held(&parts) {
            return if need == Need::Write {
                Err(Errno::EACCES)
            } else {
                reopen(&r.dir, flags, slash)
            };
        }
        let mut dir = path.ends_with(b"/");
        let follow = dir
            || flags & libc::O_NOFOLLOW == 0
                && flags & (libc::O_CREAT | libc::O_EXCL) != libc::O_CREAT | libc::O_EXCL
                && extra & RESOLVE_NO_SYMLINKS == 0;
        let mut links = 0;
        let (mut pos, mut last) = self.walk(self.start(dirfd, path)?, path, &mut links, extra)?;
        if dir && last.is_some() && flags & libc::O_CREAT != 0 {
            // The kernel's answer before it looks at the last name.
            return Err(Errno::EISDIR);
        }
        let mut tries = 0;
        loop {
            let Some(name) = last else {
                // The directory itself (`.`, `..`, `/`).
                self.grants(&pos.path, need)?;
                let fd = pos.fd.ok_or(Errno::EACCES)?;
                return openat2_as_is(fd.as_raw_fd(), b".", flags, mode, extra);
            };
            let mut at = pos.path.clone();
            at.push(name.clone());
            if let Some(r) = self.root_at(&at) {
                self.grants(&r.real, need)?;
                return match &r.file {
                    _ if r.whole => reopen(&r.dir, flags, dir),
                    Some(f) => {
                        let mut n = f.as_bytes().to_vec();
                        if dir {
                            n.push(b'/');
                        }
                        openat2(
                            r.dir.as_raw_fd(),
                            &n,
                            flags,
                            mode,
                            extra | RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
                        )
                    }
                    None => openat2(
                        r.dir.as_raw_fd(),
                        b".",
                        flags,
                        mode,
                        extra | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
                    ),
                };
            }
            let Some(dfd) = &pos.fd else {
                return Err(Errno::EACCES);
            };
            if follow && let Ok(target) = readlink_at(dfd.as_raw_fd(), &name) {
                dir |= target.ends_with(b"/");
                (pos, last) = self.follow(pos, &target, &mut links, extra)?;
                continue;
            }
            self.grants(&at, need)?;
            let mut n = name.clone();
            if dir {
                n.push(b'/');
            }
            let r = openat2_as_is(
                dfd.as_raw_fd(),
                &n,
                flags,
                mode,
                extra | RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
            );
            // A link made there meanwhile: look again.
            if r == Err(Errno::ELOOP)
                && follow
                && tries < 100
                && readlink_at(dfd.as_raw_fd(), &name).is_ok()
            {
                tries += 1;
                last = Some(name);
                continue;
            }
            return r;
        }
    }

    /// The object `path` names (through a last symbolic link if
    /// `follow`, or if a slash follows it), as an `O_PATH` descriptor,
    /// walked as `walk` does; `need` is checked on its real place.
    pub fn object(&self, dirfd: i32, path: &[u8], need: Need, follow: bool) -> SysResult<Resolved> {
        let (parts, slash) = absolute(dirfd, path)?;
        if let Some(r) = self.held(&parts) {
            if need == Need::Write {
                return Err(Errno::EACCES);
            }
            let flags = libc::O_PATH | libc::O_CLOEXEC;
            return Ok(Resolved {
                fd: own(reopen(&r.dir, flags, slash)?),
            });
        }
        let mut dir = path.ends_with(b"/");
        let follow = follow || dir;
        let mut links = 0;
        let (mut pos, mut last) = self.walk(self.start(dirfd, path)?, path, &mut links, 0)?;
        let (fd, at) = loop {
            let Some(name) = last else {
                break (pos.fd.ok_or(Errno::EACCES)?, pos.path);
            };
            match self.step(&pos, &name, 0)? {
                Found::Dir(p) => break (p.fd.ok_or(Errno::EACCES)?, p.path),
                Found::Other(..) if dir => return Err(Errno::ENOTDIR),
                Found::Other(fd, at) => break (fd, at),
                Found::Link(_, target, _) if follow => {
                    dir |= target.ends_with(b"/");
                    (pos, last) = self.follow(pos, &target, &mut links, 0)?;
                }
                Found::Link(fd, _, at) => break (fd, at),
            }
        };
        self.grants(&at, need)?;
        Ok(Resolved { fd })
    }

    /// The directory that holds the last component of `path` (walked as
    /// `walk` does; the name's real place must be in a root granting
    /// `need`) and that component, for calls that work on a name: create,
    /// remove, rename, link, read a link.
    ///
    /// The name keeps a slash written after it (`unlinkat(dir, "f/")`), and
    /// a last name `.` or `..` is the name itself in the directory written
    /// before it (`rmdir("d/.")`): the kernel then answers as for the
    /// whole path (`ENOTDIR`, `EINVAL`, `EEXIST`, ...) without following
    /// a link there or acting on the directory.
    pub fn parent(&self, dirfd: i32, path: &[u8], need: Need) -> SysResult<(Resolved, CString)> {
        let last = last_name(path);
        if matches!(last, b"." | b"..") {
            let cut = path.len() - path.iter().rev().take_while(|&&c| c == b'/').count();
            let before = &path[..cut - last.len()];
            // `before` is empty or ends with a slash: a directory.
            let before = if before.is_empty() {
                &b"./"[..]
            } else {
                before
            };
            let dir = self.object(dirfd, before, need, true)?;
            return Ok((dir, cstr(last)?));
        }
        let (parts, _) = absolute(dirfd, path)?;
        if self.held(&parts).is_some() {
            // A held file is not a name pvm can act on.
            return Err(Errno::EACCES);
        }
        let slash = path.ends_with(b"/");
        let trimmed = &path[..path.len() - path.iter().rev().take_while(|&&c| c == b'/').count()];
        let mut links = 0;
        let (pos, name) = self.walk(self.start(dirfd, path)?, trimmed, &mut links, 0)?;
        // The root itself: not a name inside it.
        let name = name.ok_or(Errno::EACCES)?;
        let mut at = pos.path.clone();
        at.push(name.clone());
        let (dir, name) = match self.root_at(&at) {
            Some(r) if r.whole => return Err(Errno::EACCES),
            Some(Root {
                file: Some(f),
                dir,
                real,
                ..
            }) => {
                self.grants(real, need)?;
                let fd = openat2(
                    dir.as_raw_fd(),
                    b".",
                    libc::O_PATH | libc::O_CLOEXEC | libc::O_DIRECTORY,
                    0,
                    RESOLVE_BENEATH,
                )?;
                (own(fd), f.as_bytes().to_vec())
            }
            Some(_) => return Err(Errno::EACCES),
            None => {
                self.grants(&at, need)?;
                (pos.fd.ok_or(Errno::EACCES)?, name)
            }
        };
        let mut name = name;
        if slash {
            name.push(b'/');
        }
        Ok((Resolved { fd: dir }, cstr(&name)?))
    }

    /// An `AF_UNIX` socket address (`bind` if `bind`, else `connect` or a
    /// send's destination) as the host is to see it. A path is resolved
    /// by the rules, write access needed (Linux asks for write permission
    /// on the socket file; `bind` makes one): the address then names the
    /// resolved object (`connect`) or its directory (`bind`) through its
    /// `/proc/self/fd` link, kept open by the `Resolved` returned, so the
    /// kernel follows no link the rules did not. A path outside every
    /// root is `EACCES`, or, with `--allow-net`, goes to the host as given
    /// unless it is under `/proc` (where no socket lives, but the links to
    /// descriptors do). Any other address (another family, an abstract or
    /// empty name) as it is, with `None`.
    pub fn unix_addr(&self, addr: &[u8], bind: bool) -> SysResult<(Vec<u8>, Option<Resolved>)> {
        let unix = addr.len() > 2 && u16::from_le_bytes([addr[0], addr[1]]) == libc::AF_UNIX as u16;
        if !unix || addr[2] == 0 {
            return Ok((addr.to_vec(), None));
        }
        let raw = &addr[2..];
        let path = &raw[..raw.iter().position(|&b| b == 0).unwrap_or(raw.len())];
        let (parts, _) = absolute(libc::AT_FDCWD, path)?;
        let resolved = if bind {
            self.parent(libc::AT_FDCWD, path, Need::Write)
                .map(|(dir, name)| {
                    let mut p = format!("/proc/self/fd/{}/", dir.fd.as_raw_fd()).into_bytes();
                    p.extend_from_slice(name.as_bytes());
                    (p, dir)
                })
        } else {
            self.object(libc::AT_FDCWD, path, Need::Write, true)
                .map(|o| {
                    let p = format!("/proc/self/fd/{}", o.fd.as_raw_fd()).into_bytes();
                    (p, o)
                })
        };
        let outside = self.locate(&parts, Need::Write).is_err();
        match resolved {
            Ok((p, keep)) => {
                // sun_path holds 108 bytes with its NUL.
                if p.len() >= 108 {
                    return Err(Errno::ENAMETOOLONG);
                }
                let mut v = addr[..2].to_vec();
                v.extend_from_slice(&p);
                v.push(0);
                Ok((v, Some(keep)))
            }
            Err(_)
                if outside && self.allow_net && parts.first().map(|c| &c[..]) != Some(b"proc") =>
            {
                Ok((addr.to_vec(), None))
            }
            Err(e) => Err(e),
        }
    }

    /// The roots, for the Landlock rules: (path, write).
    fn places(&self) -> impl Iterator<Item = (&[u8], bool)> {
        self.roots.iter().map(|r| (&r.path[..], r.write))
    }

    /// Lines describing the allowed places, for `--strace`.
    pub fn describe(&self) -> Vec<String> {
        self.roots
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    if r.write { "read-write" } else { "read-only" },
                    String::from_utf8_lossy(&r.path)
                )
            })
            .collect()
    }
}

/// Is `fd` one of the sandbox's own descriptors (a root)? The guest
/// cannot see, close, replace or duplicate those: calls on them fail
/// with `EBADF`, as on a descriptor that is not open.
pub fn is_own_fd(fd: i32) -> bool {
    fd >= crate::fdrange::lowest()
        && get().is_some_and(|sb| sb.roots.iter().any(|r| r.dir.as_raw_fd() == fd))
}

/// The sandbox's own descriptors in `[first, last]`, in order.
pub fn own_fds_in(first: u32, last: u32) -> Vec<u32> {
    let mut v: Vec<u32> = get()
        .map(|sb| {
            sb.roots
                .iter()
                .map(|r| r.dir.as_raw_fd() as u32)
                .filter(|&f| f >= first && f <= last)
                .collect()
        })
        .unwrap_or_default();
    v.sort_unstable();
    v.dedup();
    v
}

/// Is `path` `/proc/self/fd/N`? (The core reads those links to name a
/// descriptor's directory; they show only where the guest's own
/// descriptors point.)
pub fn is_fd_link(path: &[u8]) -> bool {
    path.strip_prefix(b"/proc/self/fd/")
        .is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
}

/// The Landlock ABI version of this kernel (0: none).
pub fn landlock_abi() -> i64 {
    const LANDLOCK_CREATE_RULESET_VERSION: u32 = 1;
    // SAFETY: the version query takes no memory.
    let r = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    r.max(0)
}

/// Does the kernel keep this sandboxed tree's signals inside it
/// (Landlock's signal scope, ABI 6, Linux 6.12+)? pvm restricts itself
/// with it in sandbox mode, and the tree inherits it.
pub fn signal_scoped() -> bool {
    get().is_some() && landlock_abi() >= 6
}

/// The host files pvm itself needs after the guest started: its own
/// binary and shared libraries (a guest `execve` runs pvm again), which
/// `/proc/self/maps` lists.
fn own_files() -> Vec<std::path::PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let mut v: Vec<std::path::PathBuf> = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter(|p| p.starts_with('/'))
        .map(std::path::PathBuf::from)
        .collect();
    v.push("/etc/ld.so.cache".into());
    v.sort();
    v.dedup();
    v
}

/// Restrict pvm itself with Landlock to the allowed roots (read-only or
/// read-write, as given), its own binary and libraries (read, execute),
/// no TCP unless `--allow-net`, and no signals to processes outside this
/// tree. Best effort: a kernel without Landlock (before 5.13) or with an
/// older ABI enforces what it can; the returned text says what (and the
/// flag whether all of it holds).
pub fn landlock(sb: &Sandbox) -> (bool, String) {
    use landlock::{
        ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
        RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
    };
    let abi = ABI::V6;
    let run = || -> Result<RulesetStatus, landlock::RulesetError> {
        let mut rs = Ruleset::default()
            .set_compatibility(CompatLevel::BestEffort)
            .handle_access(AccessFs::from_all(abi))?
            .scope(Scope::from_all(abi))?;
        if !sb.allow_net {
            rs = rs.handle_access(AccessNet::from_all(abi))?;
        }
        let mut created = rs.create()?;
        let read = AccessFs::from_read(abi);
        let all = AccessFs::from_all(abi);
        for (p, write) in sb.places() {
            let path = std::path::Path::new(std::ffi::OsStr::from_encoded_bytes_checked(p));
            let Ok(fd) = PathFd::new(path) else { continue };
            let is_dir = path.is_dir();
            let mut access = if write { all } else { read };
            if !is_dir {
                access &= AccessFs::from_file(abi);
            }
            created = created.add_rule(PathBeneath::new(fd, access))?;
        }
        for f in own_files() {
            let Ok(fd) = PathFd::new(&f) else { continue };
            let access = (AccessFs::ReadFile | AccessFs::Execute) & AccessFs::from_file(abi);
            created = created.add_rule(PathBeneath::new(fd, access))?;
        }
        Ok(created.restrict_self()?.ruleset)
    };
    match run() {
        Ok(RulesetStatus::FullyEnforced) => (true, "Landlock: enforced".into()),
        Ok(RulesetStatus::PartiallyEnforced) => (
            false,
            "Landlock: partly enforced (this kernel's Landlock lacks some rights)".into(),
        ),
        Ok(RulesetStatus::NotEnforced) => (
            false,
            "Landlock: not available on this kernel (Linux 5.13+ with Landlock enabled)".into(),
        ),
        Err(e) => (false, format!("Landlock: not enforced: {e}")),
    }
}

/// System calls pvm never makes while it runs a guest: each fails with
/// `EPERM` under the filter, so a bug in pvm cannot reach them.
const DENIED: &[i64] = &[
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_bpf,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_reboot,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_setns,
    libc::SYS_unshare,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
    libc::SYS_iopl,
    libc::SYS_ioperm,
    libc::SYS_quotactl,
    libc::SYS_acct,
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_adjtimex,
    libc::SYS_syslog,
    libc::SYS_vhangup,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_fanotify_init,
    libc::SYS_lookup_dcookie,
    libc::SYS_personality,
    libc::SYS_seccomp,
    libc::SYS_pidfd_getfd,
    libc::SYS_fsopen,
    libc::SYS_fsmount,
    libc::SYS_fsconfig,
    libc::SYS_fspick,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
];

/// Install the seccomp filter on every thread of pvm (and so on every
/// process of the tree: it is inherited). `socket` is refused too
/// (`EACCES`) without `--allow-net` (pvm makes no socket of its own).
pub fn seccomp(allow_net: bool) -> (bool, String) {
    use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch};
    use std::collections::BTreeMap;
    let build = |nrs: &[i64], errno: i32| -> Result<BpfProgram, seccompiler::BackendError> {
        let rules: BTreeMap<i64, Vec<seccompiler::SeccompRule>> =
            nrs.iter().map(|&n| (n, Vec::new())).collect();
        SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(errno as u32),
            TargetArch::x86_64,
        )?
        .try_into()
    };
    let run = || -> Result<(), String> {
        // The refusal of `seccomp` itself comes last.
        if !allow_net {
            let net = build(&[libc::SYS_socket], libc::EACCES).map_err(|e| e.to_string())?;
            seccompiler::apply_filter_all_threads(&net).map_err(|e| e.to_string())?;
        }
        let deny = build(DENIED, libc::EPERM).map_err(|e| e.to_string())?;
        seccompiler::apply_filter_all_threads(&deny).map_err(|e| e.to_string())?;
        Ok(())
    };
    match run() {
        Ok(()) => (
            true,
            format!(
                "seccomp: {} system calls refused",
                DENIED.len() + !allow_net as usize
            ),
        ),
        Err(e) => (false, format!("seccomp: not installed: {e}")),
    }
}

/// Is a seccomp filter on this process already (inherited from the
/// pvm that started this one)? Then it is not stacked again.
pub fn seccomp_active() -> bool {
    // SAFETY: no memory is involved; 2 is filter mode.
    unsafe { libc::prctl(libc::PR_GET_SECCOMP) == 2 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A scratch tree: `ro/` (read-only root) with `ro/f` and `ro/up`
    /// (a link out), `rw/` (read-write root), `out/secret` outside both.
    fn scratch(name: &str) -> (std::path::PathBuf, Sandbox) {
        let d = std::env::temp_dir().join(format!("pvm-sbx-unit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        for sub in ["ro", "rw", "out"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        std::fs::write(d.join("ro/f"), "ro").unwrap();
        std::fs::write(d.join("out/secret"), "s").unwrap();
        symlink("../out/secret", d.join("ro/up")).unwrap();
        symlink(d.join("out/secret"), d.join("rw/abs")).unwrap();
        let allow = [
            Allow {
                path: d.join("ro"),
                write: false,
                optional: false,
                held: None,
            },
            Allow {
                path: d.join("rw"),
                write: true,
                optional: false,
                held: None,
            },
        ];
        (d.clone(), build(&allow, false).unwrap())
    }

    fn p(d: &std::path::Path, rel: &str) -> Vec<u8> {
        d.join(rel).into_os_string().into_encoded_bytes()
    }

    #[test]
    fn paths_stay_below_their_roots() {
        let (d, sb) = scratch("paths");
        let rd = libc::O_RDONLY | libc::O_CLOEXEC;
        let wr = libc::O_WRONLY | libc::O_CREAT | libc::O_CLOEXEC;
        let ok = |r: SysResult<RawFd>| r.map(|fd| unsafe { libc::close(fd) }).is_ok();
        assert!(ok(sb.open(libc::AT_FDCWD, &p(&d, "ro/f"), rd, 0)));
        assert_eq!(
            sb.open(libc::AT_FDCWD, &p(&d, "ro/f"), wr, 0o600),
            Err(Errno::EACCES)
        );
        assert_eq!(
            sb.open(libc::AT_FDCWD, &p(&d, "out/secret"), rd, 0),
            Err(Errno::EACCES)
        );
        // Links out (relative, absolute) and `..` out.
        assert_eq!(
            sb.open(libc::AT_FDCWD, &p(&d, "ro/up"), rd, 0),
            Err(Errno::EACCES)
        );
        assert_eq!(
            sb.open(libc::AT_FDCWD, &p(&d, "rw/abs"), rd, 0),
            Err(Errno::EACCES)
        );
        assert_eq!(
            sb.open(libc::AT_FDCWD, &p(&d, "ro/../out/secret"), rd, 0),
            Err(Errno::EACCES)
        );
        // `..` that stays inside another root is fine.
        assert!(ok(sb.open(libc::AT_FDCWD, &p(&d, "rw/../ro/f"), rd, 0)));
        assert!(ok(sb.open(libc::AT_FDCWD, &p(&d, "rw/new"), wr, 0o600)));
        assert!(d.join("rw/new").exists());
        // Names: creating in the read-only root, or naming a root itself.
        assert_eq!(
            sb.parent(libc::AT_FDCWD, &p(&d, "ro/x"), Need::Write).err(),
            Some(Errno::EACCES)
        );
        assert!(
            sb.parent(libc::AT_FDCWD, &p(&d, "rw/x"), Need::Write)
                .is_ok()
        );
        assert_eq!(
            sb.parent(libc::AT_FDCWD, &p(&d, "rw"), Need::Write).err(),
            Some(Errno::EACCES)
        );
        // The link itself (no follow) is inside and may be looked at.
        assert!(
            sb.object(libc::AT_FDCWD, &p(&d, "ro/up"), Need::Read, false)
                .is_ok()
        );
        assert!(
            sb.object(libc::AT_FDCWD, &p(&d, "ro/up"), Need::Read, true)
                .is_err()
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    /// `..` is the real parent of what the walk reached: after a file,
    /// `ENOTDIR`; after a link, the parent of its target, checked there.
    #[test]
    fn dotdot_is_the_real_parent() {
        let (d, sb) = scratch("dotdot");
        std::fs::create_dir_all(d.join("rw/a/b")).unwrap();
        std::fs::write(d.join("rw/a/m"), "m").unwrap();
        symlink("a/b", d.join("rw/l")).unwrap();
        symlink(".", d.join("rw/self")).unwrap();
        symlink(d.join("rw/a/b"), d.join("ro/in")).unwrap();
        let rd = libc::O_RDONLY | libc::O_CLOEXEC;
        let ok = |r: SysResult<RawFd>| r.map(|fd| unsafe { libc::close(fd) }).is_ok();
        assert_eq!(
            sb.open(libc::AT_FDCWD, &p(&d, "ro/f/.."), rd, 0),
            Err(Errno::ENOTDIR)
        );
        assert!(ok(sb.open(libc::AT_FDCWD, &p(&d, "rw/l/../m"), rd, 0)));
        // `self/..` is the roots' parent, outside.
        assert_eq!(
            sb.object(libc::AT_FDCWD, &p(&d, "rw/self/.."), Need::Read, true)
                .err(),
            Some(Errno::EACCES)
        );
        // From the read-only root into the read-write one by an absolute
        // link: the access is that of the place reached.
        assert!(ok(sb.open(libc::AT_FDCWD, &p(&d, "ro/in/../m"), rd, 0)));
        assert!(
            sb.parent(libc::AT_FDCWD, &p(&d, "ro/in/../new"), Need::Write)
                .is_ok()
        );
        assert_eq!(
            sb.open2(
                libc::AT_FDCWD,
                &p(&d, "rw/l/../m"),
                rd,
                0,
                RESOLVE_NO_SYMLINKS
            ),
            Err(Errno::ELOOP)
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn relative_paths_use_the_directory_descriptor() {
        let (d, sb) = scratch("rel");
        let dir = open_path(&p(&d, "rw"), true).unwrap();
        let rd = libc::O_RDONLY | libc::O_CLOEXEC;
        let fd = dir.as_raw_fd();
        assert_eq!(sb.open(fd, b"../out/secret", rd, 0), Err(Errno::EACCES));
        let r = sb.open(fd, b"../ro/f", rd, 0);
        assert!(r.is_ok());
        unsafe { libc::close(r.unwrap()) };
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn fd_links() {
        assert!(is_fd_link(b"/proc/self/fd/12"));
        assert!(!is_fd_link(b"/proc/self/fd/"));
        assert!(!is_fd_link(b"/proc/self/fd/1/../../mem"));
        assert!(!is_fd_link(b"/proc/self/mem"));
    }

    /// Run `f` in a forked child (the restrictions below stay there);
    /// its exit status.
    fn in_child(f: impl FnOnce() -> i32) -> i32 {
        // SAFETY: the child only makes plain system calls and exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let code = f();
            unsafe { libc::_exit(code) };
        }
        let mut st = 0;
        unsafe { libc::waitpid(pid, &mut st, 0) };
        libc::WEXITSTATUS(st)
    }

    /// The host's layers hold by themselves: with pvm's own checks out of
    /// the way (direct system calls), Landlock refuses files outside the
    /// roots and seccomp refuses the calls on its list.
    #[test]
    fn host_layers_refuse_by_themselves() {
        let (d, sb) = scratch("layers");
        let landlock_abi = landlock_abi();
        let secret = std::ffi::CString::new(p(&d, "out/secret")).unwrap();
        let inside = std::ffi::CString::new(p(&d, "ro/f")).unwrap();
        let code = in_child(|| {
            let (full, _) = landlock(&sb);
            let (sc, _) = seccomp(false);
            let open = |c: &std::ffi::CString| unsafe { libc::open(c.as_ptr(), libc::O_RDONLY) };
            let mut bad = 0;
            if full && open(&secret) >= 0 {
                bad |= 1;
            }
            if open(&inside) < 0 {
                bad |= 2;
            }
            if sc {
                let r = unsafe { libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) };
                if r != -1 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EPERM) {
                    bad |= 4;
                }
                let s = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
                if s != -1 {
                    bad |= 8;
                }
            } else {
                bad |= 16;
            }
            if landlock_abi >= 1 && !full {
                bad |= 32;
            }
            bad
        });
        assert_eq!(
            code, 0,
            "bits: 1 Landlock let a file out, 2 refused one in, 4/8 seccomp let a call through, 16 no seccomp, 32 Landlock not enforced"
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}
