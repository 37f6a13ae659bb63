//! `LinuxHost`: the [`HostOs`] of pvm on Linux, one direct host system call
//! per method (through `libc`).
//!
//! Guest fds are host fds, so file calls pass their numbers through. Flag
//! values are shared by the guest (asm-generic) and x86-64 Linux, except
//! for structures, which are converted here: `struct stat` (x86-64 layout
//! to [`FileStat`]), the kernel `struct termios`.
//!
//! With a sysroot (`-L`), absolute paths the guest looks up (open, stat,
//! access, readlink, and so `execve`) are tried inside the sysroot first and used from there
//! when they exist, as qemu-user's `-L` does: that is how the guest's
//! dynamic linker finds its libraries (`/lib/libc.so.6`) in
//! `/usr/riscv64-linux-gnu`. Unlike qemu-user's, it never stands in for
//! `/proc`, `/sys`, `/dev`, `/run` or `/tmp` (see [`HOST_ONLY`]).

use std::borrow::Cow;
use std::ffi::CStr;
use std::sync::OnceLock;
use vm_core::host::{
    EpollEvent, Errno, ExecRequest, FileStat, Flock, FutexArgs, HostOs, HostProt, HostSigAction,
    HostSignal, HostUname, ITimer, Ids, IpcCtl, IpcKind, MqAttr, MqNotify, PollFd, ProcessEnd,
    RecvMsg, SemBuf, SendMsg, SetId, StatFs, SysInfo, SysResult, Termios, Timespec, TreeThreads,
    WaitInfo, WinSize, XattrTarget,
};

/// The Linux host: every call goes to the kernel; its only state is the
/// sysroot, set once before the guest starts.
#[derive(Debug)]
pub struct LinuxHost {
    sysroot: OnceLock<Vec<u8>>,
    /// The fault handler for translated code is in place (see `fault`).
    code_faults: std::sync::atomic::AtomicBool,
    /// Guest threads take turns on one host thread (`--threads one`).
    one_thread: std::sync::atomic::AtomicBool,
    /// `--max-open-files`.
    nofile_cap: OnceLock<u64>,
}

impl LinuxHost {
    /// A host without a sysroot (usable in a `static`).
    pub const fn new() -> LinuxHost {
        LinuxHost {
            sysroot: OnceLock::new(),
            code_faults: std::sync::atomic::AtomicBool::new(false),
            one_thread: std::sync::atomic::AtomicBool::new(false),
            nofile_cap: OnceLock::new(),
        }
    }

    /// Run every guest thread in turn on this host thread (the core's own
    /// scheduler) instead of one host thread each.
    pub fn set_one_thread(&self) {
        self.one_thread
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn one_thread(&self) -> bool {
        self.one_thread.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `--max-open-files`: set `RLIMIT_NOFILE` (soft and hard) to `n`,
    /// which the guest may lower but never raise past `n`.
    pub fn set_nofile_cap(&self, n: u32) -> std::io::Result<()> {
        let _ = self.nofile_cap.set(n as u64);
        // pvm keeps the guest's limit (its own descriptors are above it):
        // lower that one, not the host's hard limit.
        if let Some((_, hard)) = crate::fdrange::guest_limit() {
            let n = (n as u64).min(hard);
            return crate::fdrange::set_guest_limit(n, n)
                .map(drop)
                .map_err(std::io::Error::from_raw_os_error);
        }
        let rl = libc::rlimit {
            rlim_cur: n as u64,
            rlim_max: n as u64,
        };
        // SAFETY: `rl` is one initialised rlimit.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    fn nofile_cap(&self) -> Option<u64> {
        self.nofile_cap.get().copied()
    }

    /// Use `dir` as the sysroot for absolute guest paths (first call wins).
    pub fn set_sysroot(&self, dir: &[u8]) {
        let mut d = dir.to_vec();
        while d.len() > 1 && d.ends_with(b"/") {
            d.pop();
        }
        let _ = self.sysroot.set(d);
    }

    /// `path`, or its copy inside the sysroot when that exists.
    pub fn map<'a>(&self, path: &'a [u8]) -> Cow<'a, [u8]> {
        let Some(root) = self.sysroot.get() else {
            return Cow::Borrowed(path);
        };
        if !path.starts_with(b"/") || path.iter().all(|&c| c == b'/') {
            return Cow::Borrowed(path);
        }
        let first = path
            .split(|&c| c == b'/')
            .find(|c| !c.is_empty())
            .unwrap_or_default();
        if HOST_ONLY.contains(&first) {
            return Cow::Borrowed(path);
        }
        let mut full = root.clone();
        full.extend_from_slice(path);
        full.push(0);
        // SAFETY: `full` is NUL-terminated; `st` is written by the call.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        let r = unsafe {
            libc::fstatat(
                libc::AT_FDCWD,
                full.as_ptr().cast(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if r == 0 {
            full.pop();
            Cow::Owned(full)
        } else {
            Cow::Borrowed(path)
        }
    }
}

/// The top directories a sysroot never stands in for: the kernel's own
/// file systems and the machine's run-time state. A sysroot unpacked from
/// packages has only their empty mount points (Debian's `base-files`
/// ships `/proc`, `/sys`, `/dev`, `/run` and `/tmp`), which would hide the
/// host's: under `-L`, `ps` found no process in an empty `/proc`, and a
/// file made in `/tmp` was missing from its listing.
const HOST_ONLY: [&[u8]; 5] = [b"proc", b"sys", b"dev", b"run", b"tmp"];

impl Default for LinuxHost {
    fn default() -> Self {
        LinuxHost::new()
    }
}

/// The errno of the last failed libc call.
pub(crate) fn errno() -> Errno {
    Errno(
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO),
    )
}

/// `r` for a libc return value where -1 means failure.
/// Host stack of each guest thread's host thread (pvm's own frames:
/// the run loop, system call emulation, translation).
const THREAD_STACK: usize = 2 << 20;

/// Where [`HostOs::reserve`] first tries to put a guest address space:
/// 256 MiB, above what a non-PIE host program and its heap would take and
/// low enough that the guest's address 0 (64 KiB of guard on) lies below
/// 2 GiB.
const LOW_RESERVATION: usize = 1 << 28;

/// Does futex command `op` take a timeout (else `val2`) as its fourth
/// argument? The wait and lock commands.
fn takes_timeout(op: i32) -> bool {
    matches!(op & !(128 | 256), 0 | 6 | 9 | 11 | 13)
}

fn check(r: libc::c_int) -> SysResult<libc::c_int> {
    if r == -1 { Err(errno()) } else { Ok(r) }
}

fn check_long(r: libc::c_long) -> SysResult<libc::c_long> {
    if r == -1 { Err(errno()) } else { Ok(r) }
}

fn check_size(r: libc::ssize_t) -> SysResult<usize> {
    if r < 0 { Err(errno()) } else { Ok(r as usize) }
}

/// A NUL-terminated copy of a path. Guest paths come from C strings and
/// cannot hold NUL; a path that does anyway names no file.
fn cpath(p: &[u8]) -> SysResult<Vec<u8>> {
    if p.contains(&0) {
        return Err(Errno::ENOENT);
    }
    let mut v = Vec::with_capacity(p.len() + 1);
    v.extend_from_slice(p);
    v.push(0);
    Ok(v)
}

fn ptr(p: &[u8]) -> *const libc::c_char {
    p.as_ptr().cast()
}

use crate::sandbox::{self, Need, Resolved};
use std::os::fd::AsRawFd;

/// A path call's target after the sandbox's resolution (`--sandbox`):
/// the object as a descriptor with an empty path (`AT_EMPTY_PATH`), which
/// `_keep` holds open; without the sandbox, the path as given.
struct Target {
    _keep: Option<Resolved>,
    dirfd: i32,
    path: Vec<u8>,
    flags: i32,
}

/// A name-based call's target (`--sandbox`: the parent directory's
/// descriptor and the last component).
struct Named {
    _keep: Option<Resolved>,
    dirfd: i32,
    path: Vec<u8>,
}

impl LinuxHost {
    /// The object `path` names for a call that accepts `AT_EMPTY_PATH`.
    fn target(&self, dirfd: i32, path: &[u8], flags: i32, need: Need) -> SysResult<Target> {
        let mapped = self.map(path);
        match sandbox::get() {
            Some(sb) if !(path.is_empty() && flags & libc::AT_EMPTY_PATH != 0) => {
                let follow = flags & libc::AT_SYMLINK_NOFOLLOW == 0;
                let o = sb.object(dirfd, &mapped, need, follow)?;
                Ok(Target {
                    dirfd: o.fd.as_raw_fd(),
                    _keep: Some(o),
                    path: Vec::new(),
                    flags: (flags & !libc::AT_SYMLINK_NOFOLLOW) | libc::AT_EMPTY_PATH,
                })
            }
            _ => Ok(Target {
                _keep: None,
                dirfd,
                path: mapped.into_owned(),
                flags,
            }),
        }
    }

    /// The object `path` names as a path for calls that take only paths
    /// (`/proc/self/fd/N` of the resolved object under `--sandbox`).
    fn target_path(&self, dirfd: i32, path: &[u8], follow: bool, need: Need) -> SysResult<Named> {
        match sandbox::get() {
            Some(sb) => {
                let o = sb.object(dirfd, &self.map(path), need, follow)?;
                let mut p = o.proc_path();
                p.pop();
                Ok(Named {
                    _keep: Some(o),
                    dirfd: libc::AT_FDCWD,
                    path: p,
                })
            }
            None => Ok(Named {
                _keep: None,
                dirfd,
                path: path.to_vec(),
            }),
        }
    }

    /// Under `--sandbox`, the resolved object of an xattr call on a path.
    fn xattr_target(&self, t: XattrTarget<'_>, need: Need) -> SysResult<Option<Named>> {
        match t {
            XattrTarget::Path { path, follow } if sandbox::get().is_some() => self
                .target_path(libc::AT_FDCWD, path, follow, need)
                .map(Some),
            _ => Ok(None),
        }
    }

    /// The name `path` gives, for calls that create, remove or rename it.
    fn named(&self, dirfd: i32, path: &[u8], need: Need) -> SysResult<Named> {
        match sandbox::get() {
            Some(sb) => {
                let (dir, name) = sb.parent(dirfd, path, need)?;
                Ok(Named {
                    dirfd: dir.fd.as_raw_fd(),
                    _keep: Some(dir),
                    path: name.into_bytes(),
                })
            }
            None => Ok(Named {
                _keep: None,
                dirfd,
                path: path.to_vec(),
            }),
        }
    }
}

/// The kernel's `struct termios` (what `TCGETS` uses), not glibc's.
#[repr(C)]
#[derive(Default)]
struct KernelTermios {
    iflag: u32,
    oflag: u32,
    cflag: u32,
    lflag: u32,
    line: u8,
    cc: [u8; 19],
}

/// The x86-64 kernel's `struct statfs` (libc's hides `f_flags`).
#[repr(C)]
#[derive(Default)]
struct KernelStatfs {
    f_type: i64,
    f_bsize: i64,
    f_blocks: u64,
    f_bfree: u64,
    f_bavail: u64,
    f_files: u64,
    f_ffree: u64,
    f_fsid: [i32; 2],
    f_namelen: i64,
    f_frsize: i64,
    f_flags: i64,
    f_spare: [i64; 4],
}

fn ts(t: &libc::timespec) -> Timespec {
    Timespec {
        sec: t.tv_sec,
        nsec: t.tv_nsec,
    }
}

fn tspec(t: Timespec) -> libc::timespec {
    libc::timespec {
        tv_sec: t.sec,
        tv_nsec: t.nsec,
    }
}

fn itimerspec(t: &ITimer) -> libc::itimerspec {
    libc::itimerspec {
        it_interval: tspec(t.interval),
        it_value: tspec(t.value),
    }
}

/// A pointer to an optional `i64` offset, for the calls that take `loff_t *`.
fn off_ptr(o: Option<&mut i64>) -> *mut i64 {
    o.map_or(std::ptr::null_mut(), |o| o as *mut i64)
}

/// A `sockaddr` byte image as the pointer and length a socket call takes.
/// A socket address as the host is to see it: under `--sandbox`, an
/// `AF_UNIX` path resolved by its rules (`Sandbox::unix_addr`; the
/// descriptor that names it must stay open until the call is made).
fn unix_addr(addr: &[u8], bind: bool) -> SysResult<(Vec<u8>, Option<sandbox::Resolved>)> {
    match sandbox::get() {
        Some(sb) => sb.unix_addr(addr, bind),
        None => Ok((addr.to_vec(), None)),
    }
}

fn sa(addr: &[u8]) -> (*const libc::sockaddr, libc::socklen_t) {
    if addr.is_empty() {
        (std::ptr::null(), 0)
    } else {
        (addr.as_ptr().cast(), addr.len() as libc::socklen_t)
    }
}

/// An xattr call on a path (following links or not) or on an fd. The
/// three closures make the `path`, `lpath` and `fd` forms.
fn xattr_call(
    t: XattrTarget<'_>,
    map: impl Fn(&[u8]) -> Vec<u8>,
    path: impl FnOnce(*const libc::c_char) -> libc::ssize_t,
    lpath: impl FnOnce(*const libc::c_char) -> libc::ssize_t,
    fd: impl FnOnce(libc::c_int) -> libc::ssize_t,
) -> SysResult<usize> {
    match t {
        XattrTarget::Path { path: p, follow } => {
            let c = cpath(&map(p))?;
            check_size(if follow {
                path(ptr(&c))
            } else {
                lpath(ptr(&c))
            })
        }
        XattrTarget::Fd(f) => check_size(fd(f)),
    }
}

fn prot_bits(prot: HostProt) -> libc::c_int {
    let mut p = libc::PROT_NONE;
    if prot.contains(HostProt::READ) {
        p |= libc::PROT_READ;
    }
    if prot.contains(HostProt::WRITE) {
        p |= libc::PROT_WRITE;
    }
    if prot.contains(HostProt::EXEC) {
        p |= libc::PROT_EXEC;
    }
    p
}

fn field(src: &[libc::c_char; 65]) -> [u8; 65] {
    src.map(|c| c as u8)
}

impl HostOs for LinuxHost {
    fn reserve(&self, size: usize) -> SysResult<*mut u8> {
        crate::fault::install_handler();
        // Low in the address space first, where the guest's address 0 is
        // within a 32-bit displacement's reach (translated code then
        // addresses guest memory by displacement and keeps the bounds
        // limit in a register, see the translator's `low_disp`); anywhere
        // if something is there already (a second reservation, valgrind).
        for (hint, flags) in [
            (
                LOW_RESERVATION as *mut libc::c_void,
                libc::MAP_FIXED_NOREPLACE,
            ),
            (std::ptr::null_mut(), 0),
        ] {
            // SAFETY: a fresh anonymous PROT_NONE mapping touches no
            // existing memory (`MAP_FIXED_NOREPLACE` fails rather than
            // replace a mapping).
            let p = unsafe {
                libc::mmap(
                    hint,
                    size,
                    libc::PROT_NONE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | flags,
                    -1,
                    0,
                )
            };
            // A kernel older than 4.17 takes the flag for a hint and may
            // map elsewhere: as good as the second try.
            if p != libc::MAP_FAILED {
                return Ok(p.cast());
            }
        }
        Err(errno())
    }

    fn release(&self, addr: *mut u8, size: usize) -> bool {
        // SAFETY: `addr..addr+size` is a whole reservation `reserve` made,
        // given back by its `GuestMemory` as it is dropped: no guest code
        // runs in it and nothing refers to it.
        unsafe { libc::munmap(addr.cast(), size) == 0 }
    }

    fn alloc_code(&self, size: usize) -> SysResult<*mut u8> {
        // SAFETY: a fresh anonymous mapping at a kernel-chosen address
        // touches no existing memory. It is RWX because the translator
        // patches chained exits in place; it never holds guest data.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(errno());
        }
        let faults = crate::fault::register_code(p as usize, size);
        self.code_faults
            .store(faults, std::sync::atomic::Ordering::Release);
        Ok(p.cast())
    }

    fn free_code(&self, addr: *mut u8, size: usize) {
        crate::fault::unregister_code(addr as usize);
        // SAFETY: `addr..addr+size` is a mapping `alloc_code` made, which
        // its translator no longer runs or refers to.
        unsafe {
            libc::munmap(addr.cast(), size);
        }
    }

    fn exit(&self, exe: &[u8], status: vm_core::process::ExitStatus) -> ! {
        use vm_core::process::ExitStatus;
        match status {
            ExitStatus::Exited(c) => crate::proc::end_process(ProcessEnd::Exit(c & 0xff)),
            ExitStatus::Signaled(r) if crate::proc::is_child() => {
                crate::proc::end_process(ProcessEnd::Signal(r.signo))
            }
            ExitStatus::Signaled(r) => {
                crate::report_signal(&lossy(exe), &r);
                crate::proc::end_process(ProcessEnd::Exit(128 + r.signo))
            }
        }
    }

    fn threads(&self) -> bool {
        !self.one_thread()
    }

    fn host_robust_lists(&self) -> bool {
        true
    }

    fn swap_robust_list(&self, head: usize) -> Option<usize> {
        let mut before: usize = 0;
        let mut len: libc::size_t = 0;
        // SAFETY: the kernel writes the calling thread's head and its
        // length into the two locals. `head` is a `struct
        // robust_list_head` the core keeps alive while it is named (or
        // the one named before, given back): the kernel only reads it,
        // when this thread dies or execs.
        unsafe {
            if libc::syscall(libc::SYS_get_robust_list, 0, &mut before, &mut len) != 0 {
                return None;
            }
            if libc::syscall(libc::SYS_set_robust_list, head, 24usize) != 0 {
                return None;
            }
        }
        Some(before)
    }

    fn thread_named(&self, tid: i32, name: &[u8]) {
        if tid == self.gettid() {
            // The host thread's own name, which the host's procfs shows
            // to other processes (`comm`, `stat`, `status`).
            let mut n = [0u8; 16];
            let len = name.len().min(15);
            n[..len].copy_from_slice(&name[..len]);
            // SAFETY: `n` is a NUL-terminated string of at most 16 bytes.
            unsafe { libc::prctl(libc::PR_SET_NAME, n.as_ptr()) };
        } else {
            crate::tree::thread_named(tid, name);
        }
    }

    fn thread_ended(&self, tid: i32) {
        if self.one_thread() {
            crate::tree::thread_ended(tid);
        }
    }

    fn tree_threads(&self, pid: i32) -> Option<TreeThreads> {
        crate::tree::threads_of(pid)
    }

    fn has_tree_threads(&self) -> bool {
        crate::tree::has_threads()
    }

    fn peer(
        &self,
        pid: i32,
        ask: vm_core::host::PeerAsk,
        addr: u64,
        len: u64,
        data: &[u8],
    ) -> Option<SysResult<Vec<u8>>> {
        crate::peer::ask(pid, ask, addr, len, data)
    }

    fn spawn_thread(&self, f: Box<dyn FnOnce() + Send + 'static>) -> SysResult<()> {
        if self.one_thread() {
            return Err(Errno::EAGAIN);
        }
        let f: Box<dyn FnOnce() + Send + 'static> = if crate::profiler::on() {
            Box::new(move || {
                // A thread whose timer cannot be made is not sampled.
                let _ = crate::profiler::arm_thread();
                f();
                crate::profiler::disarm_thread();
            })
        } else {
            f
        };
        std::thread::Builder::new()
            .stack_size(THREAD_STACK)
            .spawn(f)
            .map(drop)
            .map_err(|e| Errno(e.raw_os_error().unwrap_or(libc::EAGAIN)))
    }

    fn guest_thread(&self, pc: *const u64) {
        crate::profiler::set_guest_pc(pc);
    }

    // The trait's signature: the core passes only words it checked (of the
    // guest reservation, or its own), and only the kernel touches them.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    fn futex(&self, uaddr: *mut u32, a: &FutexArgs) -> SysResult<i64> {
        if self.one_thread() {
            // The core matches waits and wakes itself (`vm_core::sched`).
            return Err(Errno::ENOSYS);
        }
        let t = a.timeout.map(|t| libc::timespec {
            tv_sec: t.sec,
            tv_nsec: t.nsec,
        });
        // The fourth argument is the timeout of the wait commands and
        // `val2` of the others.
        let fourth: usize = if takes_timeout(a.op) {
            t.as_ref()
                .map_or(0, |t| t as *const libc::timespec as usize)
        } else {
            a.val2 as usize
        };
        // SAFETY: the core checked `uaddr` (and `uaddr2`) lie inside the
        // guest reservation or are its own words; the kernel reads and
        // writes only those (EFAULT where the page is inaccessible); the
        // timespec outlives the call.
        let args = [
            uaddr as usize,
            a.op as usize,
            a.val as usize,
            fourth,
            a.uaddr2 as usize,
            a.val3 as usize,
        ];
        if takes_timeout(a.op) {
            // A wait: a signal or kick arriving just before it must not
            // be slept through.
            unsafe { crate::signals::blocking(libc::SYS_futex, args) }
        } else {
            // A wake or requeue never blocks, and must not be cancelled by
            // a pending kick: the wake at a thread's exit (its
            // `clear_child_tid`) would be lost, and its joiner would hang.
            let [a0, a1, a2, a3, a4, a5] = args;
            check_long(unsafe { libc::syscall(libc::SYS_futex, a0, a1, a2, a3, a4, a5) })
        }
    }

    fn yield_now(&self) {
        // SAFETY: no arguments, cannot fail.
        unsafe {
            libc::sched_yield();
        }
    }

    fn interrupt_thread(&self, tid: i32) {
        crate::signals::kick(tid);
    }

    fn membarrier(&self, cmd: i32, flags: u32, cpu_id: i32) -> SysResult<i64> {
        // SAFETY: membarrier takes no pointers.
        let r = unsafe { libc::syscall(libc::SYS_membarrier, cmd, flags, cpu_id) };
        check_long(r)
    }

    fn code_faults(&self) -> bool {
        self.code_faults.load(std::sync::atomic::Ordering::Acquire)
    }

    fn protect(&self, addr: *mut u8, len: usize, prot: HostProt) -> SysResult<()> {
        let p = prot_bits(prot);
        // SAFETY: the core passes page-aligned ranges inside its own
        // reservation, which no Rust object owns.
        check(unsafe { libc::mprotect(addr.cast(), len, p) }).map(|_| ())
    }

    fn discard(&self, addr: *mut u8, len: usize) -> SysResult<()> {
        // SAFETY: replaces pages inside the core's reservation (as for
        // `protect`) with fresh inaccessible ones.
        let p = unsafe {
            libc::mmap(
                addr.cast(),
                len,
                libc::PROT_NONE,
                libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            Err(errno())
        } else {
            Ok(())
        }
    }

    fn map_shared_anon(&self, addr: *mut u8, len: usize, prot: HostProt) -> SysResult<()> {
        // SAFETY: replaces pages inside the core's reservation (as for
        // `discard`) with fresh shared zero pages, which a host `fork`
        // keeps shared with the child.
        let p = unsafe {
            libc::mmap(
                addr.cast(),
                len,
                prot_bits(prot),
                libc::MAP_FIXED | libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            Err(errno())
        } else {
            Ok(())
        }
    }

    fn move_pages(&self, from: *mut u8, to: *mut u8, len: usize) -> SysResult<()> {
        // SAFETY: both ranges are page aligned inside the core's
        // reservation, which no Rust object owns, and do not overlap.
        // MREMAP_DONTUNMAP keeps `from` mapped (emptied), so the
        // reservation never has a hole another host thread's mmap could
        // land in; `to` is replaced as MAP_FIXED replaces. The kernel
        // refuses a range in more than one host mapping (EFAULT) or,
        // before Linux 5.13, a non-anonymous one (EINVAL), changing
        // nothing: the core copies instead.
        let p = unsafe {
            libc::mremap(
                from.cast(),
                len,
                len,
                libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED | libc::MREMAP_DONTUNMAP,
                to.cast::<libc::c_void>(),
            )
        };
        if p == libc::MAP_FAILED {
            Err(errno())
        } else {
            Ok(())
        }
    }

    fn extend_file_map(&self, at: *mut u8, len: usize, prot: HostProt) -> SysResult<()> {
        const PAGE: usize = 4096;
        // The mapping's last page goes to a page of pvm's own outside the
        // reservation, then comes back grown over `[at, at+len)`: the
        // kernel's `mremap` maps the file's next pages after it (shared
        // or private as the page is), a private page's own copy moving
        // along. MREMAP_DONTUNMAP leaves the last page's place mapped
        // (the file's page again) meanwhile, so the reservation never
        // has a hole another host thread's mmap could land in.
        // SAFETY: a fresh anonymous page no one else knows.
        let tmp = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                PAGE,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if tmp == libc::MAP_FAILED {
            return Err(errno());
        }
        // `at - PAGE` lies inside the reservation (the core checked it).
        let last = at.wrapping_sub(PAGE).cast::<libc::c_void>();
        // SAFETY: `last` is a page of the core's reservation, which no
        // Rust object owns; `tmp` is ours (replaced as MAP_FIXED replaces).
        let p = unsafe {
            libc::mremap(
                last,
                PAGE,
                PAGE,
                libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED | libc::MREMAP_DONTUNMAP,
                tmp,
            )
        };
        if p == libc::MAP_FAILED {
            let e = errno();
            // SAFETY: `tmp` is ours and unused.
            unsafe { libc::munmap(tmp, PAGE) };
            return Err(e);
        }
        // SAFETY: `[last, at+len)` is inside the core's reservation (the
        // last page, emptied, and the new pages, just mapped fresh), and
        // is replaced as MAP_FIXED replaces; `tmp` holds the moved page.
        let p = unsafe {
            libc::mremap(
                tmp,
                PAGE,
                PAGE + len,
                libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
                last,
            )
        };
        if p == libc::MAP_FAILED {
            let e = errno();
            // Put the page back as it was (the new pages untouched).
            // SAFETY: as above, for the last page alone.
            unsafe {
                libc::mremap(
                    tmp,
                    PAGE,
                    PAGE,
                    libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
                    last,
                )
            };
            return Err(e);
        }
        // The new pages took the last page's host protection (which may
        // be a translated-code write protection): give them `prot`.
        self.protect(at, len, prot)
    }

    fn map_file(
        &self,
        addr: *mut u8,
        len: usize,
        fd: i32,
        offset: i64,
        prot: HostProt,
        shared: bool,
    ) -> SysResult<()> {
        let kind = if shared {
            libc::MAP_SHARED
        } else {
            libc::MAP_PRIVATE
        };
        // SAFETY: replaces pages inside the core's reservation (as for
        // `discard`) with a mapping of the file.
        let p = unsafe {
            libc::mmap(
                addr.cast(),
                len,
                prot_bits(prot),
                libc::MAP_FIXED | kind,
                fd,
                offset,
            )
        };
        if p == libc::MAP_FAILED {
            Err(errno())
        } else {
            Ok(())
        }
    }

    fn openat(&self, dirfd: i32, path: &[u8], flags: i32, mode: u32) -> SysResult<i32> {
        if let Some(sb) = sandbox::get() {
            return sb.open(dirfd, &self.map(path), flags, mode);
        }
        let p = cpath(&self.map(path))?;
        // SAFETY: `p` is NUL-terminated.
        check(unsafe { libc::openat(dirfd, ptr(&p), flags, mode as libc::c_uint) })
    }

    fn close(&self, fd: i32) -> SysResult<()> {
        if crate::ownfd::is_own(fd) {
            return Err(Errno::EBADF);
        }
        // SAFETY: closing a number; pvm's own (the sandbox's) are kept
        // out of reach above.
        check(unsafe { libc::close(fd) }).map(|_| ())
    }

    fn read(&self, fd: i32, buf: &mut [u8]) -> SysResult<usize> {
        // SAFETY: `buf` is valid for writes of its length.
        let a = [fd as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0];
        unsafe { crate::signals::blocking(libc::SYS_read, a) }.map(|n| n as usize)
    }

    fn write(&self, fd: i32, buf: &[u8]) -> SysResult<usize> {
        // SAFETY: `buf` is valid for reads of its length.
        let a = [fd as usize, buf.as_ptr() as usize, buf.len(), 0, 0, 0];
        unsafe { crate::signals::blocking(libc::SYS_write, a) }.map(|n| n as usize)
    }

    fn pread(&self, fd: i32, buf: &mut [u8], offset: i64) -> SysResult<usize> {
        // SAFETY: as `read`.
        check_size(unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), offset) })
    }

    fn pwrite(&self, fd: i32, buf: &[u8], offset: i64) -> SysResult<usize> {
        // SAFETY: as `write`.
        check_size(unsafe { libc::pwrite(fd, buf.as_ptr().cast(), buf.len(), offset) })
    }

    fn lseek(&self, fd: i32, offset: i64, whence: i32) -> SysResult<i64> {
        // SAFETY: no memory is involved.
        let r = unsafe { libc::lseek(fd, offset, whence) };
        if r < 0 { Err(errno()) } else { Ok(r) }
    }

    fn fstatat(&self, dirfd: i32, path: &[u8], flags: i32) -> SysResult<FileStat> {
        let t = self.target(dirfd, path, flags, Need::Read)?;
        let p = cpath(&t.path)?;
        // SAFETY: `st` is a plain C struct the call fills; `p` is
        // NUL-terminated.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        check(unsafe { libc::fstatat(t.dirfd, ptr(&p), &mut st, t.flags) })?;
        Ok(FileStat {
            dev: st.st_dev,
            ino: st.st_ino,
            mode: st.st_mode,
            nlink: st.st_nlink as u32,
            uid: st.st_uid,
            gid: st.st_gid,
            rdev: st.st_rdev,
            size: st.st_size,
            blksize: st.st_blksize as i32,
            blocks: st.st_blocks,
            atime: Timespec {
                sec: st.st_atime,
                nsec: st.st_atime_nsec,
            },
            mtime: Timespec {
                sec: st.st_mtime,
                nsec: st.st_mtime_nsec,
            },
            ctime: Timespec {
                sec: st.st_ctime,
                nsec: st.st_ctime_nsec,
            },
        })
    }

    fn faccessat(&self, dirfd: i32, path: &[u8], mode: i32, flags: i32) -> SysResult<()> {
        // W_OK: the sandbox allows writing there.
        let need = if mode & libc::W_OK != 0 {
            Need::Write
        } else {
            Need::Read
        };
        let t = self.target(dirfd, path, flags, need)?;
        let (dirfd, flags) = (t.dirfd, t.flags);
        let p = cpath(&t.path)?;
        // SAFETY: `p` is NUL-terminated. The raw syscall keeps the kernel's
        // answer (glibc's faccessat emulates flags differently).
        let r = unsafe {
            if flags == 0 {
                libc::syscall(libc::SYS_faccessat, dirfd, ptr(&p), mode)
            } else {
                libc::syscall(libc::SYS_faccessat2, dirfd, ptr(&p), mode, flags)
            }
        };
        check_long(r).map(|_| ())
    }

    fn readlinkat(&self, dirfd: i32, path: &[u8], buf: &mut [u8]) -> SysResult<usize> {
        if let Some(sb) = sandbox::get().filter(|_| sandbox::ends_as_dir(path)) {
            // A slash or `.` after the last name follows a link there: the
            // object is then never a link (`EINVAL`), or the lookup fails.
            sb.object(dirfd, &self.map(path), Need::Read, true)?;
            return Err(Errno::EINVAL);
        }
        let n = if path.is_empty() || sandbox::is_fd_link(path) {
            Named {
                _keep: None,
                dirfd,
                path: path.to_vec(),
            }
        } else {
            self.named(dirfd, &self.map(path), Need::Read)?
        };
        let (dirfd, p) = (n.dirfd, cpath(&n.path)?);
        // SAFETY: `p` is NUL-terminated, `buf` writable for its length.
        check_size(unsafe { libc::readlinkat(dirfd, ptr(&p), buf.as_mut_ptr().cast(), buf.len()) })
    }

    fn getdents64(&self, fd: i32, buf: &mut [u8]) -> SysResult<usize> {
        // SAFETY: `buf` is writable for its length.
        let r = unsafe { libc::syscall(libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len()) };
        check_long(r).map(|n| n as usize)
    }

    fn is_own_fd(&self, fd: i32) -> bool {
        crate::ownfd::is_own(fd)
    }

    fn has_own_fds(&self) -> bool {
        crate::ownfd::any()
    }

    fn confines_paths(&self) -> bool {
        sandbox::get().is_some()
    }

    fn hold_own_fd(&self, fd: i32) -> i32 {
        if crate::ownfd::is_own(fd) {
            return fd;
        }
        let high = crate::fdrange::move_high(fd);
        if high != fd {
            crate::ownfd::hold(high);
        }
        high
    }

    fn drop_own_fd(&self, fd: i32) {
        // No longer pvm's own: `close` takes it.
        crate::ownfd::release(fd);
        let _ = self.close(fd);
    }

    fn host_name(&self, path: &[u8]) -> Vec<u8> {
        self.map(path).into_owned()
    }

    fn fd_table_end(&self, n: usize) -> Option<usize> {
        crate::fdtable::end(n)
    }

    fn note_guest_fd(&self, fd: i32) {
        crate::fdtable::note(fd);
    }

    fn mkdirat(&self, dirfd: i32, path: &[u8], mode: u32) -> SysResult<()> {
        let n = self.named(dirfd, path, Need::Write)?;
        let (dirfd, p) = (n.dirfd, cpath(&n.path)?);
        // SAFETY: `p` is NUL-terminated.
        check(unsafe { libc::mkdirat(dirfd, ptr(&p), mode) }).map(|_| ())
    }

    fn unlinkat(&self, dirfd: i32, path: &[u8], flags: i32) -> SysResult<()> {
        let n = self.named(dirfd, path, Need::Write)?;
        let (dirfd, p) = (n.dirfd, cpath(&n.path)?);
        // SAFETY: `p` is NUL-terminated.
        check(unsafe { libc::unlinkat(dirfd, ptr(&p), flags) }).map(|_| ())
    }

    fn renameat2(
        &self,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: u32,
    ) -> SysResult<()> {
        let on = self.named(olddirfd, oldpath, Need::Write)?;
        let nn = self.named(newdirfd, newpath, Need::Write)?;
        let (olddirfd, newdirfd) = (on.dirfd, nn.dirfd);
        let (o, n) = (cpath(&on.path)?, cpath(&nn.path)?);
        // SAFETY: both paths are NUL-terminated.
        let r = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                olddirfd,
                ptr(&o),
                newdirfd,
                ptr(&n),
                flags,
            )
        };
        check_long(r).map(|_| ())
    }

    fn symlinkat(&self, target: &[u8], newdirfd: i32, linkpath: &[u8]) -> SysResult<()> {
        // The link's text is not looked up here; under --sandbox every
        // later lookup through it stays below its root.
        let ln = self.named(newdirfd, linkpath, Need::Write)?;
        let newdirfd = ln.dirfd;
        let (t, l) = (cpath(target)?, cpath(&ln.path)?);
        // SAFETY: both paths are NUL-terminated.
        check(unsafe { libc::symlinkat(ptr(&t), newdirfd, ptr(&l)) }).map(|_| ())
    }

    fn linkat(
        &self,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: i32,
    ) -> SysResult<()> {
        // A new name for a file is a way to write it: the sandbox needs
        // write access to both places.
        let (on, flags) = if oldpath.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
            (
                Named {
                    _keep: None,
                    dirfd: olddirfd,
                    path: Vec::new(),
                },
                flags,
            )
        } else if flags & libc::AT_SYMLINK_FOLLOW != 0
            || sandbox::get().is_some() && sandbox::ends_as_dir(oldpath)
        {
            // (A slash or `.` after the last name follows a link there.)
            (
                self.target_path(olddirfd, oldpath, true, Need::Write)?,
                flags | libc::AT_SYMLINK_FOLLOW,
            )
        } else {
            (self.named(olddirfd, oldpath, Need::Write)?, flags)
        };
        let nn = self.named(newdirfd, newpath, Need::Write)?;
        let (olddirfd, newdirfd) = (on.dirfd, nn.dirfd);
        let (o, n) = (cpath(&on.path)?, cpath(&nn.path)?);
        // SAFETY: both paths are NUL-terminated.
        check(unsafe { libc::linkat(olddirfd, ptr(&o), newdirfd, ptr(&n), flags) }).map(|_| ())
    }

    fn fchmodat(&self, dirfd: i32, path: &[u8], mode: u32) -> SysResult<()> {
        let t = self.target_path(dirfd, path, true, Need::Write)?;
        let (dirfd, p) = (t.dirfd, cpath(&t.path)?);
        // SAFETY: `p` is NUL-terminated.
        let r = unsafe { libc::syscall(libc::SYS_fchmodat, dirfd, ptr(&p), mode) };
        check_long(r).map(|_| ())
    }

    fn fchmod(&self, fd: i32, mode: u32) -> SysResult<()> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::fchmod(fd, mode) }).map(|_| ())
    }

    fn utimensat(
        &self,
        dirfd: i32,
        path: &[u8],
        times: Option<[Timespec; 2]>,
        flags: i32,
    ) -> SysResult<()> {
        let named = if path.is_empty() {
            Named {
                _keep: None,
                dirfd,
                path: Vec::new(),
            }
        } else {
            let follow = flags & libc::AT_SYMLINK_NOFOLLOW == 0;
            self.target_path(dirfd, path, follow, Need::Write)?
        };
        let flags = if named._keep.is_some() { 0 } else { flags };
        let dirfd = named.dirfd;
        let p = cpath(&named.path)?;
        let t = times.map(|t| {
            t.map(|x| libc::timespec {
                tv_sec: x.sec,
                tv_nsec: x.nsec,
            })
        });
        let tp = t.as_ref().map_or(std::ptr::null(), |t| t.as_ptr());
        // SAFETY: `p` is NUL-terminated; `tp` is null or two timespecs.
        let r = unsafe { libc::syscall(libc::SYS_utimensat, dirfd, ptr(&p), tp, flags) };
        check_long(r).map(|_| ())
    }

    fn ftruncate(&self, fd: i32, len: i64) -> SysResult<()> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::ftruncate(fd, len) }).map(|_| ())
    }

    fn fsync(&self, fd: i32) -> SysResult<()> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::fsync(fd) }).map(|_| ())
    }

    fn fcntl(&self, fd: i32, cmd: i32, arg: i64) -> SysResult<i64> {
        if crate::ownfd::is_own(fd) {
            return Err(Errno::EBADF);
        }
        // SAFETY: the core only passes integer-argument commands.
        check_long(unsafe { libc::syscall(libc::SYS_fcntl, fd, cmd, arg) })
    }

    fn fcntl_lock(&self, fd: i32, cmd: i32, lock: &mut Flock) -> SysResult<()> {
        // SAFETY: `fl` is a plain C struct.
        let mut fl: libc::flock = unsafe { std::mem::zeroed() };
        fl.l_type = lock.l_type;
        fl.l_whence = lock.whence;
        fl.l_start = lock.start;
        fl.l_len = lock.len;
        fl.l_pid = lock.pid;
        // SAFETY: `fl` outlives the call; lock commands read and (F_GETLK)
        // write one struct flock.
        let a = [fd as usize, cmd as usize, &raw mut fl as usize, 0, 0, 0];
        unsafe { crate::signals::blocking(libc::SYS_fcntl, a) }?;
        *lock = Flock {
            l_type: fl.l_type,
            whence: fl.l_whence,
            start: fl.l_start,
            len: fl.l_len,
            pid: fl.l_pid,
        };
        Ok(())
    }

    fn poll(&self, fds: &mut [PollFd], timeout: Option<Timespec>) -> SysResult<usize> {
        // pvm's own descriptors are not open for the guest: `POLLNVAL`,
        // which ends the wait at once, as for any closed number.
        let own = |fd: i32| crate::ownfd::any() && crate::ownfd::is_own(fd);
        let invalid = fds.iter().filter(|f| own(f.fd)).count();
        let mut p: Vec<libc::pollfd> = fds
            .iter()
            .map(|f| libc::pollfd {
                fd: if own(f.fd) { -1 } else { f.fd },
                events: f.events,
                revents: 0,
            })
            .collect();
        let timeout = if invalid > 0 {
            Some(Timespec { sec: 0, nsec: 0 })
        } else {
            timeout
        };
        let t = timeout.map(|t| libc::timespec {
            tv_sec: t.sec,
            tv_nsec: t.nsec,
        });
        let tp = t.as_ref().map_or(std::ptr::null(), |t| t as *const _);
        // As for `sleep`: a signal caught just before the wait ends it.
        // SAFETY: `p` holds `p.len()` pollfds; `tp` is null or a timespec.
        let n = crate::signals::interruptible(|mask| unsafe {
            libc::ppoll(p.as_mut_ptr(), p.len() as _, tp, mask)
        })
        .ok_or(Errno::EINTR)?;
        let n = check(n)? as usize + invalid;
        for (f, h) in fds.iter_mut().zip(&p) {
            f.revents = if own(f.fd) { libc::POLLNVAL } else { h.revents };
        }
        Ok(n)
    }

    fn statfs(&self, fd: i32, path: &[u8]) -> SysResult<StatFs> {
        let mut s = KernelStatfs::default();
        // SAFETY: the kernel writes one struct statfs into `s`; the path
        // is NUL-terminated.
        let r = if path.is_empty() {
            unsafe { libc::syscall(libc::SYS_fstatfs, fd, &mut s as *mut KernelStatfs) }
        } else if sandbox::get().is_some() {
            let t = self.target(libc::AT_FDCWD, path, 0, Need::Read)?;
            unsafe { libc::syscall(libc::SYS_fstatfs, t.dirfd, &mut s as *mut KernelStatfs) }
        } else {
            let p = cpath(&self.map(path))?;
            unsafe { libc::syscall(libc::SYS_statfs, ptr(&p), &mut s as *mut KernelStatfs) }
        };
        check_long(r)?;
        Ok(StatFs {
            fs_type: s.f_type,
            bsize: s.f_bsize,
            blocks: s.f_blocks,
            bfree: s.f_bfree,
            bavail: s.f_bavail,
            files: s.f_files,
            ffree: s.f_ffree,
            fsid: s.f_fsid,
            namelen: s.f_namelen,
            frsize: s.f_frsize,
            flags: s.f_flags,
        })
    }

    fn dup(&self, fd: i32) -> SysResult<i32> {
        if crate::ownfd::is_own(fd) {
            return Err(Errno::EBADF);
        }
        // SAFETY: no memory is involved.
        check(unsafe { libc::dup(fd) })
    }

    fn dup3(&self, oldfd: i32, newfd: i32, flags: i32) -> SysResult<i32> {
        if crate::ownfd::is_own(oldfd) || crate::ownfd::is_own(newfd) {
            return Err(Errno::EBADF);
        }
        // SAFETY: no memory is involved.
        check(unsafe { libc::dup3(oldfd, newfd, flags) })
    }

    fn pipe2(&self, flags: i32) -> SysResult<[i32; 2]> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for two ints.
        check(unsafe { libc::pipe2(fds.as_mut_ptr(), flags) })?;
        Ok(fds)
    }

    fn tcgetattr(&self, fd: i32) -> SysResult<Termios> {
        let mut k = KernelTermios::default();
        // SAFETY: TCGETS writes one kernel termios into `k`.
        check(unsafe { libc::ioctl(fd, libc::TCGETS, &mut k as *mut KernelTermios) })?;
        Ok(Termios {
            iflag: k.iflag,
            oflag: k.oflag,
            cflag: k.cflag,
            lflag: k.lflag,
            line: k.line,
            cc: k.cc,
        })
    }

    fn tcsetattr(&self, fd: i32, action: u32, t: &Termios) -> SysResult<()> {
        if action > 2 {
            return Err(Errno::EINVAL);
        }
        let k = KernelTermios {
            iflag: t.iflag,
            oflag: t.oflag,
            cflag: t.cflag,
            lflag: t.lflag,
            line: t.line,
            cc: t.cc,
        };
        let req = libc::TCSETS + action as libc::Ioctl;
        // SAFETY: TCSETS* reads one kernel termios from `k`.
        check(unsafe { libc::ioctl(fd, req, &k as *const KernelTermios) }).map(|_| ())
    }

    fn winsize(&self, fd: i32) -> SysResult<WinSize> {
        // SAFETY: TIOCGWINSZ writes one winsize into `w`.
        let mut w: libc::winsize = unsafe { std::mem::zeroed() };
        check(unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut w as *mut libc::winsize) })?;
        Ok(WinSize {
            rows: w.ws_row,
            cols: w.ws_col,
            xpixel: w.ws_xpixel,
            ypixel: w.ws_ypixel,
        })
    }

    fn getcwd(&self, buf: &mut [u8]) -> SysResult<usize> {
        let mut tmp = vec![0u8; buf.len() + 1];
        // SAFETY: `tmp` is writable for its length. The raw call returns
        // the length including the NUL.
        let n = check_long(unsafe { libc::syscall(libc::SYS_getcwd, tmp.as_mut_ptr(), tmp.len()) })?
            as usize;
        let len = n.saturating_sub(1);
        buf[..len].copy_from_slice(&tmp[..len]);
        Ok(len)
    }

    fn chdir(&self, path: &[u8]) -> SysResult<()> {
        if sandbox::get().is_some() {
            let t = self.target(libc::AT_FDCWD, path, 0, Need::Read)?;
            return self.fchdir(t.dirfd);
        }
        let p = cpath(path)?;
        // SAFETY: `p` is NUL-terminated.
        check(unsafe { libc::chdir(ptr(&p)) }).map(|_| ())
    }

    fn fchdir(&self, fd: i32) -> SysResult<()> {
        if crate::ownfd::is_own(fd) {
            return Err(Errno::EBADF);
        }
        // SAFETY: no memory is involved.
        check(unsafe { libc::fchdir(fd) }).map(|_| ())
    }

    fn umask(&self, mask: u32) -> u32 {
        // SAFETY: no memory is involved.
        unsafe { libc::umask(mask) }
    }

    fn epoll_create1(&self, flags: i32) -> SysResult<i32> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::epoll_create1(flags) })
    }

    fn epoll_ctl(&self, epfd: i32, op: i32, fd: i32, event: Option<EpollEvent>) -> SysResult<()> {
        let mut ev = event.map(|e| libc::epoll_event {
            events: e.events,
            u64: e.data,
        });
        let p = ev.as_mut().map_or(std::ptr::null_mut(), |e| e as *mut _);
        // SAFETY: `p` is null (EPOLL_CTL_DEL) or one epoll_event.
        check(unsafe { libc::epoll_ctl(epfd, op, fd, p) }).map(|_| ())
    }

    fn epoll_wait(
        &self,
        epfd: i32,
        events: &mut [EpollEvent],
        timeout: Option<Timespec>,
    ) -> SysResult<usize> {
        let mut evs = vec![libc::epoll_event { events: 0, u64: 0 }; events.len().max(1)];
        let t = timeout.map(tspec);
        let tp = t
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: `evs` holds `events.len()` epoll_events; `tp` is null or
        // one timespec; no signal mask.
        let args = [
            epfd as usize,
            evs.as_mut_ptr() as usize,
            events.len(),
            tp as usize,
            0,
            8,
        ];
        let n = unsafe { crate::signals::blocking(libc::SYS_epoll_pwait2, args) }? as usize;
        for (o, e) in events.iter_mut().zip(&evs[..n]) {
            let (ev, data) = (e.events, e.u64);
            *o = EpollEvent { events: ev, data };
        }
        Ok(n)
    }

    fn eventfd2(&self, initval: u32, flags: i32) -> SysResult<i32> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::eventfd(initval, flags) })
    }

    fn timerfd_create(&self, clock: i32, flags: i32) -> SysResult<i32> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::timerfd_create(clock, flags) })
    }

    fn timerfd_settime(&self, fd: i32, flags: i32, new: Option<ITimer>) -> SysResult<ITimer> {
        // SAFETY: plain C structs the calls read or fill.
        let mut old: libc::itimerspec = unsafe { std::mem::zeroed() };
        let r = match new {
            Some(n) => {
                let n = itimerspec(&n);
                unsafe { libc::timerfd_settime(fd, flags, &n, &mut old) }
            }
            None => unsafe { libc::timerfd_gettime(fd, &mut old) },
        };
        check(r)?;
        Ok(ITimer {
            interval: ts(&old.it_interval),
            value: ts(&old.it_value),
        })
    }

    fn socket(&self, domain: i32, ty: i32, protocol: i32) -> SysResult<i32> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::socket(domain, ty, protocol) })
    }

    fn socketpair(&self, domain: i32, ty: i32, protocol: i32) -> SysResult<[i32; 2]> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for two ints.
        check(unsafe { libc::socketpair(domain, ty, protocol, fds.as_mut_ptr()) })?;
        Ok(fds)
    }

    fn bind(&self, fd: i32, addr: &[u8]) -> SysResult<()> {
        let (addr, _keep) = unix_addr(addr, true)?;
        let (p, l) = sa(&addr);
        // SAFETY: `p` points to `l` readable bytes (or is null).
        check(unsafe { libc::bind(fd, p, l) }).map(|_| ())
    }

    fn connect(&self, fd: i32, addr: &[u8]) -> SysResult<()> {
        let (addr, _keep) = unix_addr(addr, false)?;
        let (p, l) = sa(&addr);
        // SAFETY: as `bind`.
        let a = [fd as usize, p as usize, l as usize, 0, 0, 0];
        unsafe { crate::signals::blocking(libc::SYS_connect, a) }.map(|_| ())
    }

    fn listen(&self, fd: i32, backlog: i32) -> SysResult<()> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::listen(fd, backlog) }).map(|_| ())
    }

    fn accept4(&self, fd: i32, addr: &mut [u8], flags: i32) -> SysResult<(i32, usize)> {
        let mut len = addr.len() as libc::socklen_t;
        let (p, lp): (*mut libc::sockaddr, *mut libc::socklen_t) = if addr.is_empty() {
            (std::ptr::null_mut(), std::ptr::null_mut())
        } else {
            (addr.as_mut_ptr().cast(), &mut len as *mut libc::socklen_t)
        };
        // SAFETY: `p` is null or `len` writable bytes; `lp` null or `len`.
        let a = [fd as usize, p as usize, lp as usize, flags as usize, 0, 0];
        let nfd = unsafe { crate::signals::blocking(libc::SYS_accept4, a) }? as i32;
        Ok((nfd, len as usize))
    }

    fn sockname(&self, fd: i32, peer: bool, addr: &mut [u8]) -> SysResult<usize> {
        let mut len = addr.len() as libc::socklen_t;
        let p = addr.as_mut_ptr().cast();
        // SAFETY: `p` is writable for `len` bytes.
        let r = unsafe {
            if peer {
                libc::getpeername(fd, p, &mut len)
            } else {
                libc::getsockname(fd, p, &mut len)
            }
        };
        check(r)?;
        Ok(len as usize)
    }

    fn sendmsg(&self, fd: i32, msg: &SendMsg<'_>, flags: i32) -> SysResult<usize> {
        let mut iov = libc::iovec {
            iov_base: msg.data.as_ptr() as *mut libc::c_void,
            iov_len: msg.data.len(),
        };
        // SAFETY: a plain C struct, filled below.
        let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
        let (name, _keep) = unix_addr(msg.name, false)?;
        if !name.is_empty() {
            h.msg_name = name.as_ptr() as *mut libc::c_void;
            h.msg_namelen = name.len() as libc::socklen_t;
        }
        h.msg_iov = &mut iov;
        h.msg_iovlen = 1;
        if !msg.control.is_empty() {
            // pvm's own descriptors cannot be passed on (`SCM_RIGHTS`):
            // for the guest they are not open.
            if crate::ownfd::any() && rights(msg.control).any(crate::ownfd::is_own) {
                return Err(Errno::EBADF);
            }
            h.msg_control = msg.control.as_ptr() as *mut libc::c_void;
            h.msg_controllen = msg.control.len();
        }
        // SAFETY: every pointer in `h` refers to a live buffer of the
        // length given; sendmsg only reads them.
        let a = [fd as usize, &raw const h as usize, flags as usize, 0, 0, 0];
        unsafe { crate::signals::blocking(libc::SYS_sendmsg, a) }.map(|n| n as usize)
    }

    fn recvmsg(&self, fd: i32, msg: &mut RecvMsg<'_>, flags: i32) -> SysResult<usize> {
        let mut iov = libc::iovec {
            iov_base: msg.data.as_mut_ptr().cast(),
            iov_len: msg.data.len(),
        };
        // SAFETY: a plain C struct, filled below.
        let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
        if !msg.name.is_empty() {
            h.msg_name = msg.name.as_mut_ptr().cast();
            h.msg_namelen = msg.name.len() as libc::socklen_t;
        }
        h.msg_iov = &mut iov;
        h.msg_iovlen = 1;
        if !msg.control.is_empty() {
            h.msg_control = msg.control.as_mut_ptr().cast();
            h.msg_controllen = msg.control.len();
        }
        // SAFETY: every pointer in `h` refers to a live writable buffer of
        // the length given.
        let a = [fd as usize, &raw mut h as usize, flags as usize, 0, 0, 0];
        let n = unsafe { crate::signals::blocking(libc::SYS_recvmsg, a) }? as usize;
        msg.name_len = if msg.name.is_empty() {
            0
        } else {
            h.msg_namelen as usize
        };
        msg.control_len = if msg.control.is_empty() {
            0
        } else {
            h.msg_controllen
        };
        msg.flags = h.msg_flags;
        Ok(n)
    }

    fn shutdown(&self, fd: i32, how: i32) -> SysResult<()> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::shutdown(fd, how) }).map(|_| ())
    }

    fn setsockopt(&self, fd: i32, level: i32, name: i32, value: &[u8]) -> SysResult<()> {
        let p = if value.is_empty() {
            std::ptr::null()
        } else {
            value.as_ptr().cast()
        };
        // SAFETY: `p` is null or `value.len()` readable bytes.
        check(unsafe { libc::setsockopt(fd, level, name, p, value.len() as libc::socklen_t) })
            .map(|_| ())
    }

    fn getsockopt(&self, fd: i32, level: i32, name: i32, value: &mut [u8]) -> SysResult<usize> {
        let mut len = value.len() as libc::socklen_t;
        // SAFETY: `value` is writable for `len` bytes.
        check(unsafe { libc::getsockopt(fd, level, name, value.as_mut_ptr().cast(), &mut len) })?;
        Ok(len as usize)
    }

    fn ioctl_ptr(&self, fd: i32, req: u32, buf: &mut [u8]) -> SysResult<i32> {
        // SAFETY: the core passes only commands whose argument is a
        // structure of `buf.len()` bytes with the same layout here.
        check(unsafe { libc::ioctl(fd, req as libc::Ioctl, buf.as_mut_ptr()) })
    }

    fn ifconf(&self, fd: i32, buf: Option<&mut [u8]>) -> SysResult<usize> {
        let (len, p) = match buf {
            Some(b) => (b.len().min(i32::MAX as usize) as i32, b.as_mut_ptr()),
            None => (0, core::ptr::null_mut()),
        };
        let mut ifc = libc::ifconf {
            ifc_len: len,
            ifc_ifcu: libc::__c_anonymous_ifc_ifcu { ifcu_buf: p.cast() },
        };
        // SAFETY: `ifc` points to `len` writable bytes of `buf` (or to
        // none: the kernel then only measures), which outlive the call.
        check(unsafe { libc::ioctl(fd, libc::SIOCGIFCONF as libc::Ioctl, &mut ifc) })?;
        Ok(ifc.ifc_len.max(0) as usize)
    }

    fn ioctl_val(&self, fd: i32, req: u32, arg: u64) -> SysResult<i32> {
        // SAFETY: the core passes only commands whose argument is a value.
        check(unsafe { libc::ioctl(fd, req as libc::Ioctl, arg as libc::c_ulong) })
    }

    fn memfd_create(&self, name: &[u8], flags: u32) -> SysResult<i32> {
        let n = cpath(name)?;
        // SAFETY: `n` is NUL-terminated.
        check_long(unsafe { libc::syscall(libc::SYS_memfd_create, ptr(&n), flags) })
            .map(|f| f as i32)
    }

    fn flock(&self, fd: i32, op: i32) -> SysResult<()> {
        // SAFETY: no memory is involved.
        let a = [fd as usize, op as usize, 0, 0, 0, 0];
        unsafe { crate::signals::blocking(libc::SYS_flock, a) }.map(|_| ())
    }

    fn sendfile(
        &self,
        out_fd: i32,
        in_fd: i32,
        offset: Option<&mut i64>,
        count: usize,
    ) -> SysResult<usize> {
        // SAFETY: the offset is null or one i64.
        check_size(unsafe { libc::sendfile(out_fd, in_fd, off_ptr(offset), count) })
    }

    fn copy_range(
        &self,
        splice: bool,
        fd_in: i32,
        off_in: Option<&mut i64>,
        fd_out: i32,
        off_out: Option<&mut i64>,
        len: usize,
        flags: u32,
    ) -> SysResult<usize> {
        let nr = if splice {
            libc::SYS_splice
        } else {
            libc::SYS_copy_file_range
        };
        // SAFETY: both offsets are null or one i64.
        let r = unsafe {
            libc::syscall(
                nr,
                fd_in,
                off_ptr(off_in),
                fd_out,
                off_ptr(off_out),
                len,
                flags,
            )
        };
        check_long(r).map(|n| n as usize)
    }

    fn tee(&self, fd_in: i32, fd_out: i32, len: usize, flags: u32) -> SysResult<usize> {
        // SAFETY: no memory is involved.
        check_size(unsafe { libc::tee(fd_in, fd_out, len, flags) })
    }

    fn fallocate(&self, fd: i32, mode: i32, offset: i64, len: i64) -> SysResult<()> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::fallocate(fd, mode, offset, len) }).map(|_| ())
    }

    fn close_range(&self, first: u32, last: u32, flags: u32) -> SysResult<()> {
        // pvm's own descriptors (the sandbox's, the gdb stub's) stay:
        // the range is closed around them.
        if first > last {
            return Err(Errno::EINVAL);
        }
        let close = |a: u64, b: u64| {
            // SAFETY: closes descriptors only, none of pvm's own.
            check_long(unsafe { libc::syscall(libc::SYS_close_range, a as u32, b as u32, flags) })
        };
        let mut from = first as u64;
        for o in crate::ownfd::own_in(first, last) {
            if o as u64 > from {
                close(from, o as u64 - 1)?;
            }
            from = o as u64 + 1;
        }
        if from <= last as u64 {
            close(from, last as u64)?;
        }
        Ok(())
    }

    fn fchownat(&self, dirfd: i32, path: &[u8], uid: u32, gid: u32, flags: i32) -> SysResult<()> {
        let named = if path.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
            Named {
                _keep: None,
                dirfd,
                path: Vec::new(),
            }
        } else {
            let follow = flags & libc::AT_SYMLINK_NOFOLLOW == 0;
            self.target_path(dirfd, path, follow, Need::Write)?
        };
        let flags = if named._keep.is_some() { 0 } else { flags };
        let dirfd = named.dirfd;
        let p = cpath(&named.path)?;
        // SAFETY: `p` is NUL-terminated.
        check(unsafe { libc::fchownat(dirfd, ptr(&p), uid, gid, flags) }).map(|_| ())
    }

    fn getxattr(&self, t: XattrTarget<'_>, name: &[u8], value: &mut [u8]) -> SysResult<usize> {
        let held = self.xattr_target(t, Need::Read)?;
        let t = held.as_ref().map_or(t, |h| XattrTarget::Path {
            path: &h.path,
            follow: true,
        });
        let n = cpath(name)?;
        let (v, l) = (value.as_mut_ptr().cast(), value.len());
        // SAFETY: paths and the name are NUL-terminated; `v` is writable
        // for `l` bytes.
        xattr_call(
            t,
            |p| self.map(p).into_owned(),
            |p| unsafe { libc::getxattr(p, ptr(&n), v, l) },
            |p| unsafe { libc::lgetxattr(p, ptr(&n), v, l) },
            |f| unsafe { libc::fgetxattr(f, ptr(&n), v, l) },
        )
    }

    fn setxattr(&self, t: XattrTarget<'_>, name: &[u8], value: &[u8], flags: i32) -> SysResult<()> {
        let held = self.xattr_target(t, Need::Write)?;
        let t = held.as_ref().map_or(t, |h| XattrTarget::Path {
            path: &h.path,
            follow: true,
        });
        let n = cpath(name)?;
        let (v, l) = (value.as_ptr().cast(), value.len());
        // SAFETY: paths and the name are NUL-terminated; `v` is readable
        // for `l` bytes.
        xattr_call(
            t,
            |p| p.to_vec(),
            |p| unsafe { libc::setxattr(p, ptr(&n), v, l, flags) as libc::ssize_t },
            |p| unsafe { libc::lsetxattr(p, ptr(&n), v, l, flags) as libc::ssize_t },
            |f| unsafe { libc::fsetxattr(f, ptr(&n), v, l, flags) as libc::ssize_t },
        )
        .map(|_| ())
    }

    fn listxattr(&self, t: XattrTarget<'_>, list: &mut [u8]) -> SysResult<usize> {
        let held = self.xattr_target(t, Need::Read)?;
        let t = held.as_ref().map_or(t, |h| XattrTarget::Path {
            path: &h.path,
            follow: true,
        });
        let (v, l) = (list.as_mut_ptr().cast(), list.len());
        // SAFETY: paths are NUL-terminated; `v` is writable for `l` bytes.
        xattr_call(
            t,
            |p| self.map(p).into_owned(),
            |p| unsafe { libc::listxattr(p, v, l) },
            |p| unsafe { libc::llistxattr(p, v, l) },
            |f| unsafe { libc::flistxattr(f, v, l) },
        )
    }

    fn removexattr(&self, t: XattrTarget<'_>, name: &[u8]) -> SysResult<()> {
        let held = self.xattr_target(t, Need::Write)?;
        let t = held.as_ref().map_or(t, |h| XattrTarget::Path {
            path: &h.path,
            follow: true,
        });
        let n = cpath(name)?;
        // SAFETY: paths and the name are NUL-terminated.
        xattr_call(
            t,
            |p| p.to_vec(),
            |p| unsafe { libc::removexattr(p, ptr(&n)) as libc::ssize_t },
            |p| unsafe { libc::lremovexattr(p, ptr(&n)) as libc::ssize_t },
            |f| unsafe { libc::fremovexattr(f, ptr(&n)) as libc::ssize_t },
        )
        .map(|_| ())
    }

    fn sync(&self) {
        // SAFETY: no memory is involved.
        unsafe { libc::sync() }
    }

    fn syncfs(&self, fd: i32) -> SysResult<()> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::syncfs(fd) }).map(|_| ())
    }

    fn rw2(
        &self,
        fd: i32,
        buf: &mut [u8],
        offset: i64,
        flags: i32,
        write: bool,
    ) -> SysResult<usize> {
        let iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: one iovec over `buf`, read (pwritev2) or filled (preadv2).
        let r = unsafe {
            if write {
                libc::pwritev2(fd, &iov, 1, offset, flags)
            } else {
                libc::preadv2(fd, &iov, 1, offset, flags)
            }
        };
        check_size(r)
    }

    fn set_id(&self, call: SetId) -> SysResult<u64> {
        // SAFETY: no memory is involved. glibc's wrappers apply the change
        // to every thread of pvm, as the guest's own libc does for its
        // threads; the setfs* calls are per thread in Linux and here.
        let r = unsafe {
            match call {
                SetId::Uid(v) => libc::setuid(v) as i64,
                SetId::Gid(v) => libc::setgid(v) as i64,
                SetId::ReUid(r, e) => libc::setreuid(r, e) as i64,
                SetId::ReGid(r, e) => libc::setregid(r, e) as i64,
                SetId::FsUid(v) => return Ok(libc::setfsuid(v) as u32 as u64),
                SetId::FsGid(v) => return Ok(libc::setfsgid(v) as u32 as u64),
            }
        };
        check_long(r).map(|_| 0)
    }

    fn sync_file_range(&self, fd: i32, offset: i64, nbytes: i64, flags: u32) -> SysResult<()> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::sync_file_range(fd, offset, nbytes, flags) }).map(|_| ())
    }

    fn readahead(&self, fd: i32, offset: i64, count: usize) -> SysResult<()> {
        // SAFETY: no memory is involved.
        check_long(unsafe { libc::syscall(libc::SYS_readahead, fd, offset, count) }).map(|_| ())
    }

    fn openat2(
        &self,
        dirfd: i32,
        path: &[u8],
        flags: i32,
        mode: u32,
        resolve: u64,
    ) -> SysResult<i32> {
        if let Some(sb) = sandbox::get() {
            // RESOLVE_BENEATH, RESOLVE_IN_ROOT: an absolute path is the
            // guest directory's business (refused, or below it), not the
            // sysroot's.
            let path = if resolve & 0x18 != 0 {
                std::borrow::Cow::Borrowed(path)
            } else {
                self.map(path)
            };
            return sb.open2(dirfd, &path, flags, mode, resolve);
        }
        let p = cpath(path)?;
        let how: [u64; 3] = [flags as u32 as u64, mode as u64, resolve];
        // SAFETY: `p` is NUL-terminated and `how` is a 24-byte open_how.
        check_long(unsafe {
            libc::syscall(libc::SYS_openat2, dirfd, ptr(&p), how.as_ptr(), 24usize)
        })
        .map(|fd| fd as i32)
    }

    fn inotify_init1(&self, flags: i32) -> SysResult<i32> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::inotify_init1(flags) })
    }

    fn inotify_add_watch(&self, fd: i32, path: &[u8], mask: u32) -> SysResult<i32> {
        // A watch reads: it shows the names of files as they change, so
        // under --sandbox the object must be readable. Once resolved, its
        // /proc/self/fd name is followed to it whatever IN_DONT_FOLLOW said.
        let follow = mask & libc::IN_DONT_FOLLOW == 0;
        let t = self.target_path(libc::AT_FDCWD, path, follow, Need::Read)?;
        let mask = if sandbox::get().is_some() {
            mask & !libc::IN_DONT_FOLLOW
        } else {
            mask
        };
        let p = cpath(&t.path)?;
        // SAFETY: `p` is NUL-terminated.
        check(unsafe { libc::inotify_add_watch(fd, ptr(&p), mask) })
    }

    fn ipc_get(&self, kind: IpcKind, key: i32, arg: u64, flags: i32) -> SysResult<i32> {
        crate::ipc::get(kind, key, arg, flags)
    }

    fn ipc_ctl(
        &self,
        kind: IpcKind,
        id: i32,
        semnum: i32,
        cmd: i32,
        arg: IpcCtl<'_>,
    ) -> SysResult<i64> {
        crate::ipc::ctl(kind, id, semnum, cmd, arg)
    }

    fn msgsnd(&self, id: i32, msg: &[u8], flags: i32) -> SysResult<()> {
        crate::ipc::msgsnd(id, msg, flags)
    }

    fn msgrcv(&self, id: i32, buf: &mut [u8], typ: i64, flags: i32) -> SysResult<usize> {
        crate::ipc::msgrcv(id, buf, typ, flags)
    }

    fn semop(&self, id: i32, ops: &[SemBuf], timeout: Option<Timespec>) -> SysResult<()> {
        crate::ipc::semop(id, ops, timeout)
    }

    fn shm_attach(&self, id: i32, addr: *mut u8, len: usize, readonly: bool) -> SysResult<()> {
        crate::ipc::shm_attach(id, addr, len, readonly)
    }

    fn mq_open(&self, name: &[u8], flags: i32, mode: u32, attr: Option<&MqAttr>) -> SysResult<i32> {
        crate::ipc::mq_open(name, flags, mode, attr)
    }

    fn mq_unlink(&self, name: &[u8]) -> SysResult<()> {
        crate::ipc::mq_unlink(name)
    }

    fn mq_timedsend(
        &self,
        fd: i32,
        msg: &[u8],
        prio: u32,
        deadline: Option<Timespec>,
    ) -> SysResult<()> {
        crate::ipc::mq_timedsend(fd, msg, prio, deadline)
    }

    fn mq_timedreceive(
        &self,
        fd: i32,
        buf: &mut [u8],
        deadline: Option<Timespec>,
    ) -> SysResult<(usize, u32)> {
        crate::ipc::mq_timedreceive(fd, buf, deadline)
    }

    fn mq_notify(&self, fd: i32, notice: Option<&MqNotify>) -> SysResult<()> {
        crate::ipc::mq_notify(fd, notice)
    }

    fn mq_getsetattr(&self, fd: i32, new: Option<&MqAttr>) -> SysResult<MqAttr> {
        crate::ipc::mq_getsetattr(fd, new)
    }

    fn inotify_rm_watch(&self, fd: i32, wd: i32) -> SysResult<()> {
        // SAFETY: no memory is involved.
        check(unsafe { libc::inotify_rm_watch(fd, wd) }).map(|_| ())
    }

    fn ioprio(&self, tid: i32, set: Option<i32>) -> SysResult<i32> {
        const IOPRIO_WHO_PROCESS: i32 = 1;
        // SAFETY: no memory is involved.
        unsafe {
            if let Some(v) = set {
                check_long(libc::syscall(
                    libc::SYS_ioprio_set,
                    IOPRIO_WHO_PROCESS,
                    tid,
                    v,
                ))?;
            }
            check_long(libc::syscall(libc::SYS_ioprio_get, IOPRIO_WHO_PROCESS, tid))
                .map(|v| v as i32)
        }
    }

    fn pidfd_open(&self, pid: i32, flags: u32) -> SysResult<i32> {
        // SAFETY: no memory is involved.
        check_long(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, flags) }).map(|fd| fd as i32)
    }

    fn pidfd_pid(&self, fd: i32) -> SysResult<i32> {
        if let Some(pid) = pidfd_info_pid(fd) {
            return Ok(pid);
        }
        // The kernel tells a pidfd's process only in its fdinfo (before
        // Linux 6.13's PIDFD_GET_INFO).
        let info =
            std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).map_err(|_| Errno::EBADF)?;
        let Some(pid) = info.lines().find_map(|l| l.strip_prefix("Pid:")) else {
            // A descriptor of a /proc/PID directory is a pidfd too (the
            // form before pidfd_open).
            let link =
                std::fs::read_link(format!("/proc/self/fd/{fd}")).map_err(|_| Errno::EBADF)?;
            return link
                .to_str()
                .and_then(|l| l.strip_prefix("/proc/"))
                .and_then(|p| p.parse::<i32>().ok())
                .filter(|&p| p > 0)
                .ok_or(Errno::EBADF);
        };
        let pid: i32 = pid.trim().parse().map_err(|_| Errno::EBADF)?;
        // -1: the process is gone (and reaped).
        Ok(pid.max(0))
    }

    fn pidfd_send_signal(&self, fd: i32, sig: i32) -> SysResult<()> {
        if sandbox::get().is_some() {
            // As `kill`: only processes of the guest's own tree.
            crate::proc::sandbox_kill_check(self.pidfd_pid(fd)?)?;
        }
        // SAFETY: no siginfo is passed.
        check_long(unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                fd,
                sig,
                std::ptr::null_mut::<u8>(),
                0u32,
            )
        })
        .map(|_| ())
    }

    fn mknodat(&self, dirfd: i32, path: &[u8], mode: u32, dev: u64) -> SysResult<()> {
        let n = self.named(dirfd, path, Need::Write)?;
        let (dirfd, p) = (n.dirfd, cpath(&n.path)?);
        // SAFETY: `p` is NUL-terminated.
        check(unsafe { libc::mknodat(dirfd, ptr(&p), mode, dev) }).map(|_| ())
    }

    fn setresid(&self, uid: bool, ids: [u32; 3]) -> SysResult<()> {
        // SAFETY: no memory is involved. glibc's wrappers apply the change
        // to every thread of pvm, as the guest's own libc does for its
        // threads.
        let r = unsafe {
            if uid {
                libc::setresuid(ids[0], ids[1], ids[2])
            } else {
                libc::setresgid(ids[0], ids[1], ids[2])
            }
        };
        check(r).map(|_| ())
    }

    fn getresid(&self, uid: bool) -> [u32; 3] {
        let mut v = [0u32; 3];
        let [a, b, c] = &mut v;
        // SAFETY: three writable ids; these calls cannot fail then.
        unsafe {
            if uid {
                libc::getresuid(a, b, c);
            } else {
                libc::getresgid(a, b, c);
            }
        }
        v
    }

    fn getgroups(&self, list: &mut [u32]) -> SysResult<usize> {
        // SAFETY: `list` is writable for its length (0: only the count).
        check(unsafe { libc::getgroups(list.len() as libc::c_int, list.as_mut_ptr()) })
            .map(|n| n as usize)
    }

    fn setgroups(&self, list: &[u32]) -> SysResult<()> {
        // SAFETY: `list` is readable for its length.
        check(unsafe { libc::setgroups(list.len(), list.as_ptr()) }).map(|_| ())
    }

    fn getpriority(&self, which: i32, who: i32) -> SysResult<i32> {
        // SAFETY: no memory is involved. The raw call returns 20 - nice.
        let r = unsafe { libc::syscall(libc::SYS_getpriority, which, who) };
        check_long(r).map(|v| 20 - v as i32)
    }

    fn setpriority(&self, which: i32, who: i32, nice: i32) -> SysResult<()> {
        // SAFETY: no memory is involved.
        check_long(unsafe { libc::syscall(libc::SYS_setpriority, which, who, nice) }).map(|_| ())
    }

    fn clock_gettime(&self, clock: i32) -> SysResult<Timespec> {
        // SAFETY: `t` is written by the call.
        let mut t: libc::timespec = unsafe { std::mem::zeroed() };
        check(unsafe { libc::clock_gettime(clock, &mut t) })?;
        Ok(ts(&t))
    }

    fn clock_getres(&self, clock: i32) -> SysResult<Timespec> {
        // SAFETY: `t` is written by the call.
        let mut t: libc::timespec = unsafe { std::mem::zeroed() };
        check(unsafe { libc::clock_getres(clock, &mut t) })?;
        Ok(ts(&t))
    }

    fn sleep(&self, d: Timespec) -> SysResult<()> {
        let now = || self.clock_gettime(libc::CLOCK_MONOTONIC);
        let start = now()?;
        let end = (start.sec as i128 * 1_000_000_000 + start.nsec as i128)
            .saturating_add(d.sec as i128 * 1_000_000_000 + d.nsec as i128);
        loop {
            let t = now()?;
            let left = end - (t.sec as i128 * 1_000_000_000 + t.nsec as i128);
            if left <= 0 {
                return Ok(());
            }
            let req = libc::timespec {
                tv_sec: (left / 1_000_000_000).min(i64::MAX as i128) as i64,
                tv_nsec: (left % 1_000_000_000) as i64,
            };
            // A signal the core catches ends the sleep (the guest's
            // handler may run), even one caught just before it began;
            // any other only interrupted it.
            // SAFETY: no descriptors; `req` and the mask are valid.
            let r = crate::signals::interruptible(|mask| unsafe {
                libc::ppoll(std::ptr::null_mut(), 0, &req, mask)
            });
            match r {
                None => return Err(Errno::EINTR),
                Some(r) if r < 0 => match errno() {
                    Errno::EINTR if crate::signals::pending() => return Err(Errno::EINTR),
                    Errno::EINTR => {}
                    e => return Err(e),
                },
                Some(_) => {}
            }
        }
    }

    fn set_signal_action(&self, signo: i32, action: HostSigAction) {
        crate::signals::set_action(signo, action);
    }

    fn take_signal(&self) -> Option<HostSignal> {
        crate::signals::take()
    }

    fn wait_signal(&self) {
        crate::signals::wait();
    }

    fn setitimer(&self, which: i32, new: Option<ITimer>) -> SysResult<ITimer> {
        crate::signals::setitimer(which, new)
    }

    fn set_wakeup(&self, at: Option<u64>, tid: i32) {
        crate::wakeup::set(at, tid);
    }

    fn fork(&self, exit_signal: i32, wait_exec: bool, cgroup: Option<i32>) -> SysResult<i32> {
        crate::proc::fork(exit_signal, wait_exec, cgroup)
    }

    fn vfork(&self, child: &mut dyn FnMut() -> ProcessEnd, cgroup: Option<i32>) -> SysResult<i32> {
        crate::proc::vfork(child, cgroup)
    }

    fn thread_cgroup(&self, cgroup: i32) -> SysResult<()> {
        crate::proc::thread_cgroup(cgroup)
    }

    fn execve(&self, req: ExecRequest) -> Errno {
        crate::proc::execve(self, req)
    }

    fn wait4(&self, pid: i32, options: i32) -> SysResult<Option<WaitInfo>> {
        crate::proc::wait4(pid, options)
    }

    fn waitid(&self, idtype: i32, id: i32, options: i32) -> SysResult<Option<WaitInfo>> {
        crate::proc::waitid(idtype, id, options)
    }

    fn kill(&self, pid: i32, sig: i32) -> SysResult<()> {
        if sandbox::get().is_some() {
            crate::proc::sandbox_kill_check(pid)?;
        }
        crate::proc::kill(pid, sig)?;
        crate::signals::kill_own_group(pid, sig);
        Ok(())
    }

    fn tgkill(&self, tgid: i32, tid: i32, sig: i32) -> SysResult<()> {
        if sandbox::get().is_some() {
            crate::proc::sandbox_kill_check(tgid)?;
        }
        crate::tree::send_counted(tgid, sig >= vm_core::sigstate::SIGRTMIN, || {
            // SAFETY: no memory is involved.
            check_long(unsafe { libc::syscall(libc::SYS_tgkill, tgid, tid, sig) }).map(|_| ())
        })
    }

    fn sigqueue(&self, pid: i32, tid: Option<i32>, sig: i32, info: &[u8; 128]) -> SysResult<()> {
        if sandbox::get().is_some() {
            crate::proc::sandbox_kill_check(pid)?;
        }
        // riscv64's siginfo_t is x86-64's: the kernel reads the same
        // 128 bytes (and refuses a si_code the caller may not give).
        let mut copy = *info;
        let p = copy.as_mut_ptr();
        // A real-time `sigqueue` may be refused (`kill`'s SI_USER loses
        // its information past the limit instead; the other codes a
        // process may give are not counted here).
        let code = i32::from_le_bytes([info[8], info[9], info[10], info[11]]);
        let counted = sig >= vm_core::sigstate::SIGRTMIN && code == libc::SI_QUEUE;
        crate::tree::send_counted(pid, counted, || {
            // SAFETY: `p` points to 128 bytes, a whole siginfo_t, which the
            // kernel only reads.
            check_long(unsafe {
                match tid {
                    None => libc::syscall(libc::SYS_rt_sigqueueinfo, pid, sig, p),
                    Some(t) => libc::syscall(libc::SYS_rt_tgsigqueueinfo, pid, t, sig, p),
                }
            })
            .map(|_| ())
        })
    }

    fn publish_queued(&self, n: usize) {
        crate::tree::publish_queued(n);
    }

    fn others_queued(&self) -> u64 {
        crate::tree::others_queued()
    }

    fn publish_sem_waits(&self, waits: &[(vm_core::process::SemWait, u32)]) {
        crate::tree::publish_sem_waits(waits);
    }

    fn others_sem_waiters(&self, wait: vm_core::process::SemWait) -> u64 {
        crate::tree::others_sem_waiters(wait)
    }

    fn tree_counters(&self) -> Option<&vm_core::limits::TreeCounters> {
        crate::tree::counters()
    }

    fn setpgid(&self, pid: i32, pgid: i32) -> SysResult<()> {
        crate::proc::setpgid(pid, pgid)
    }

    fn getpgid(&self, pid: i32) -> SysResult<i32> {
        crate::proc::getpgid(pid)
    }

    fn setsid(&self) -> SysResult<i32> {
        crate::proc::setsid()
    }

    fn getsid(&self, pid: i32) -> SysResult<i32> {
        crate::proc::getsid(pid)
    }

    fn tcgetpgrp(&self, fd: i32) -> SysResult<i32> {
        crate::proc::tcgetpgrp(fd)
    }

    fn tcsetpgrp(&self, fd: i32, pgrp: i32) -> SysResult<()> {
        crate::proc::tcsetpgrp(fd, pgrp)
    }

    fn pdeathsig(&self, set: Option<i32>) -> SysResult<i32> {
        crate::proc::pdeathsig(set)
    }

    fn children_cpu_time(&self) -> SysResult<Timespec> {
        crate::proc::children_cpu_time()
    }

    fn rusage(&self, who: vm_core::host::RusageWho) -> SysResult<[i64; 18]> {
        crate::proc::rusage(who)
    }

    fn set_child_signal_flags(&self, nocldstop: bool, nocldwait: bool) {
        crate::signals::set_child_flags(nocldstop, nocldwait);
    }

    fn random(&self, buf: &mut [u8]) -> SysResult<usize> {
        loop {
            // SAFETY: `buf` is writable for its length.
            let r = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
            match check_size(r) {
                Err(Errno::EINTR) => continue,
                other => return other,
            }
        }
    }

    fn ids(&self) -> Ids {
        // SAFETY: these calls cannot fail and touch no memory.
        unsafe {
            Ids {
                pid: libc::getpid(),
                ppid: libc::getppid(),
                uid: libc::getuid(),
                euid: libc::geteuid(),
                gid: libc::getgid(),
                egid: libc::getegid(),
            }
        }
    }

    fn gettid(&self) -> i32 {
        // SAFETY: cannot fail.
        unsafe { libc::gettid() }
    }

    fn uname(&self) -> HostUname {
        // SAFETY: `u` is written by the call.
        let mut u: libc::utsname = unsafe { std::mem::zeroed() };
        if unsafe { libc::uname(&mut u) } != 0 {
            return HostUname::default();
        }
        HostUname {
            sysname: field(&u.sysname),
            nodename: field(&u.nodename),
            release: field(&u.release),
            version: field(&u.version),
            domainname: field(&u.domainname),
        }
    }

    fn sysinfo(&self) -> SysInfo {
        // SAFETY: `s` is written by the call.
        let mut s: libc::sysinfo = unsafe { std::mem::zeroed() };
        if unsafe { libc::sysinfo(&mut s) } != 0 {
            return SysInfo::default();
        }
        SysInfo {
            uptime: s.uptime,
            loads: s.loads,
            totalram: s.totalram,
            freeram: s.freeram,
            sharedram: s.sharedram,
            bufferram: s.bufferram,
            totalswap: s.totalswap,
            freeswap: s.freeswap,
            procs: s.procs,
            mem_unit: s.mem_unit,
        }
    }

    fn prlimit(&self, resource: u32, new: Option<(u64, u64)>) -> SysResult<(u64, u64)> {
        // --max-open-files holds even for a guest with the privilege to
        // raise a hard limit.
        if let (Some(cap), Some((cur, max))) = (self.nofile_cap(), new)
            && resource == libc::RLIMIT_NOFILE
            && (cur > cap || max > cap)
        {
            return Err(Errno::EPERM);
        }
        // pvm's own descriptors are above the guest's hard limit, which
        // pvm keeps (`fdrange`).
        if resource == libc::RLIMIT_NOFILE
            && let Some(old) = crate::fdrange::guest_limit()
        {
            return match new {
                None => Ok(old),
                Some((cur, max)) => crate::fdrange::set_guest_limit(cur, max).map_err(Errno),
            };
        }
        if resource == libc::RLIMIT_SIGPENDING
            && let Some(limit) = sigpending_prlimit(new)
        {
            return limit;
        }
        let n = new.map(|(cur, max)| libc::rlimit64 {
            rlim_cur: cur,
            rlim_max: max,
        });
        // SAFETY: `old` is written by the call; `n` is null or one rlimit.
        let mut old: libc::rlimit64 = unsafe { std::mem::zeroed() };
        let np = n.as_ref().map_or(std::ptr::null(), |n| n as *const _);
        let r = unsafe { libc::syscall(libc::SYS_prlimit64, 0, resource, np, &mut old as *mut _) };
        check_long(r)?;
        Ok((old.rlim_cur, old.rlim_max))
    }

    fn cpu_count(&self) -> usize {
        // The host's CPUs, not the ones pvm may run on: a guest's affinity
        // mask is its own (see `get_affinity`).
        // SAFETY: sysconf has no memory effects.
        let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
        if n > 0 {
            n as usize
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }

    fn getcpu(&self) -> SysResult<(u32, u32)> {
        let (mut cpu, mut node) = (0u32, 0u32);
        // SAFETY: two writable u32s; the third argument is unused.
        check_long(unsafe {
            libc::syscall(
                libc::SYS_getcpu,
                &mut cpu,
                &mut node,
                std::ptr::null_mut::<u8>(),
            )
        })?;
        Ok((cpu, node))
    }

    fn mincore(&self, host: *mut u8, len: usize, vec: &mut [u8]) -> SysResult<()> {
        // SAFETY: the core passes a page-aligned range inside the guest
        // reservation (pvm's own mapping) and a vector of one byte per
        // page; mincore only reads page-table state.
        check(unsafe { libc::mincore(host.cast(), len, vec.as_mut_ptr()) }).map(|_| ())
    }

    fn pagemap(&self, host: *mut u8, out: &mut [u64]) -> SysResult<()> {
        // pvm's own pagemap at the guest pages' host addresses: the bits
        // Linux shows for them (present, swapped, file, exclusive,
        // soft-dirty). Frame and swap numbers are cleared below, so the
        // guest learns no more than an unprivileged process would.
        let read = std::fs::File::open("/proc/self/pagemap").and_then(|f| {
            use std::os::unix::fs::FileExt;
            let mut buf = vec![0u8; out.len() * 8];
            f.read_exact_at(&mut buf, (host as u64 / 4096) * 8)?;
            Ok(buf)
        });
        match read {
            Ok(buf) => {
                for (e, b) in out.iter_mut().zip(buf.chunks_exact(8)) {
                    let v = u64::from_le_bytes(b.try_into().expect("8-byte chunk"));
                    *e = v & !((1u64 << 55) - 1);
                }
                Ok(())
            }
            // Without /proc (a sandbox's Landlock rules, a chroot): the
            // present bit from mincore.
            Err(_) => {
                let mut v = vec![0u8; out.len()];
                self.mincore(host, out.len() * 4096, &mut v)?;
                for (e, r) in out.iter_mut().zip(v) {
                    *e = if r & 1 != 0 { 1 << 63 } else { 0 };
                }
                Ok(())
            }
        }
    }

    fn capget(&self, version: u32, pid: i32) -> SysResult<[[u32; 3]; 2]> {
        let mut hdr = [version, pid as u32];
        let mut data = [0u32; 6];
        // SAFETY: a header of two u32s and two data records of three.
        check_long(unsafe {
            libc::syscall(libc::SYS_capget, hdr.as_mut_ptr(), data.as_mut_ptr())
        })?;
        Ok([[data[0], data[1], data[2]], [data[3], data[4], data[5]]])
    }

    fn capset(&self, version: u32, sets: [[u32; 3]; 2]) -> SysResult<()> {
        let mut hdr = [version, 0u32];
        let data = [
            sets[0][0], sets[0][1], sets[0][2], sets[1][0], sets[1][1], sets[1][2],
        ];
        // SAFETY: as in capget; the data is only read.
        check_long(unsafe { libc::syscall(libc::SYS_capset, hdr.as_mut_ptr(), data.as_ptr()) })
            .map(|_| ())
    }

    fn set_affinity(&self, tid: i32, mask: &[u8]) -> SysResult<()> {
        // SAFETY: `mask` is readable for its length.
        check_long(unsafe {
            libc::syscall(libc::SYS_sched_setaffinity, tid, mask.len(), mask.as_ptr())
        })
        .map(|_| ())
    }

    fn get_affinity(&self, tid: i32, mask: &mut [u8]) -> SysResult<usize> {
        // SAFETY: `mask` is writable for its length.
        check_long(unsafe {
            libc::syscall(
                libc::SYS_sched_getaffinity,
                tid,
                mask.len(),
                mask.as_mut_ptr(),
            )
        })
        .map(|n| n as usize)
    }

    fn sched_policy(&self, tid: i32, set: Option<(i32, i32)>) -> SysResult<(i32, i32)> {
        if let Some((policy, prio)) = set {
            let p = libc::sched_param {
                sched_priority: prio,
            };
            // SAFETY: `p` is a valid sched_param.
            let r = unsafe {
                if policy == -1 {
                    libc::syscall(libc::SYS_sched_setparam, tid, &p)
                } else {
                    libc::syscall(libc::SYS_sched_setscheduler, tid, policy, &p)
                }
            };
            check_long(r)?;
        }
        let mut p = libc::sched_param { sched_priority: 0 };
        // SAFETY: `p` is writable; no other memory is involved.
        let policy = check_long(unsafe { libc::syscall(libc::SYS_sched_getscheduler, tid) })?;
        check_long(unsafe { libc::syscall(libc::SYS_sched_getparam, tid, &mut p) })?;
        Ok((policy as i32, p.sched_priority))
    }

    fn rr_interval(&self, tid: i32) -> SysResult<Timespec> {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is writable.
        check_long(unsafe { libc::syscall(libc::SYS_sched_rr_get_interval, tid, &mut t) })?;
        Ok(Timespec {
            sec: t.tv_sec,
            nsec: t.tv_nsec,
        })
    }

    fn log(&self, args: std::fmt::Arguments<'_>) {
        crate::logging::line(args.to_string());
    }

    fn log_host_code(&self, addr: u64, code: &[u8]) {
        crate::logging::host_code(addr, code);
    }
}

/// The pid a pidfd names through `ioctl(PIDFD_GET_INFO)` (Linux 6.13+;
/// it needs no `/proc`, which Landlock hides under `--sandbox`): `None`
/// where the kernel lacks it or `fd` is no pidfd, 0 for a reaped process.
fn pidfd_info_pid(fd: i32) -> Option<i32> {
    /// `struct pidfd_info`, version 0 (64 bytes).
    #[repr(C)]
    #[derive(Default)]
    struct PidfdInfo {
        mask: u64,
        cgroupid: u64,
        pid: u32,
        tgid: u32,
        ppid: u32,
        ids: [u32; 8],
        exit_code: i32,
    }
    const PIDFD_INFO_PID: u64 = 1;
    // _IOWR(0xFF, 11, struct pidfd_info)
    const PIDFD_GET_INFO: libc::c_ulong = 0xC040_FF0B;
    let mut info = PidfdInfo {
        mask: PIDFD_INFO_PID,
        ..Default::default()
    };
    // SAFETY: the kernel fills at most the 64 bytes of `info`.
    let r = unsafe { libc::ioctl(fd, PIDFD_GET_INFO, &mut info as *mut PidfdInfo) };
    if r == 0 && info.mask & PIDFD_INFO_PID != 0 {
        return Some(info.pid as i32);
    }
    // ESRCH: the process is gone (and reaped).
    (r != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)).then_some(0)
}

/// A NUL-free byte string for messages.
pub fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(CStr::from_bytes_until_nul(b).map_or(b, |c| c.to_bytes())).into_owned()
}

/// The descriptors of the `SCM_RIGHTS` messages in ancillary data
/// `control` (x86-64 `struct cmsghdr`: a 64-bit length, level, type, the
/// data aligned to 8).
fn rights(control: &[u8]) -> impl Iterator<Item = i32> + '_ {
    let mut at = 0usize;
    let mut fds: Vec<i32> = Vec::new();
    while at + 16 <= control.len() {
        let len = u64::from_le_bytes(control[at..at + 8].try_into().unwrap_or_default()) as usize;
        let level = i32::from_le_bytes(control[at + 8..at + 12].try_into().unwrap_or_default());
        let kind = i32::from_le_bytes(control[at + 12..at + 16].try_into().unwrap_or_default());
        if len < 16 || at + len > control.len() {
            break;
        }
        if level == libc::SOL_SOCKET && kind == libc::SCM_RIGHTS {
            fds.extend(
                control[at + 16..at + len]
                    .chunks_exact(4)
                    .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            );
        }
        at += len.div_ceil(8) * 8;
    }
    fds.into_iter()
}

/// `prlimit(RLIMIT_SIGPENDING, new)` with the soft limit the guest's
/// own, kept in the process tree's state (`tree::sigpending_limit`)
/// and not given to the host: the host's counts every signal of the
/// user on the machine, pvm's own kicks and timers included, which a
/// guest's low limit must not refuse (nor other users' processes make
/// the guest's signals refused). The hard limit is the host's, so that
/// raising it needs the privilege it needs. `None` without a tree: the
/// host's limits, as for any other resource.
fn sigpending_prlimit(new: Option<(u64, u64)>) -> Option<SysResult<(u64, u64)>> {
    let kept = crate::tree::sigpending_limit();
    if !crate::tree::in_tree() {
        return None;
    }
    let host = |n: Option<libc::rlimit64>| -> SysResult<libc::rlimit64> {
        // SAFETY: `old` is written by the call; `n` is null or one rlimit.
        let mut old: libc::rlimit64 = unsafe { std::mem::zeroed() };
        let np = n.as_ref().map_or(std::ptr::null(), |n| n as *const _);
        let r = unsafe {
            libc::syscall(
                libc::SYS_prlimit64,
                0,
                libc::RLIMIT_SIGPENDING,
                np,
                &mut old as *mut _,
            )
        };
        check_long(r).map(|_| old)
    };
    Some((|| {
        let old = host(None)?;
        let soft = kept.unwrap_or(old.rlim_cur);
        if let Some((cur, max)) = new {
            if cur > max {
                return Err(Errno::EINVAL);
            }
            host(Some(libc::rlimit64 {
                rlim_cur: old.rlim_cur.min(max),
                rlim_max: max,
            }))?;
            crate::tree::set_sigpending_limit(cur);
        } else if kept.is_none() {
            crate::tree::set_sigpending_limit(soft);
        }
        Ok((soft, old.rlim_max))
    })())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm_core::host::AT_FDCWD;

    static HOST: LinuxHost = LinuxHost::new();

    #[test]
    fn files_round_trip() {
        let dir = std::env::temp_dir().join(format!("pvm-host-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let d = dir.as_os_str().as_encoded_bytes();
        HOST.mkdirat(AT_FDCWD, d, 0o755).unwrap();
        let mut f = d.to_vec();
        f.extend_from_slice(b"/a");
        let fd = HOST
            .openat(AT_FDCWD, &f, libc::O_CREAT | libc::O_RDWR, 0o600)
            .unwrap();
        assert_eq!(HOST.write(fd, b"hello").unwrap(), 5);
        let mut b = [0u8; 5];
        assert_eq!(HOST.pread(fd, &mut b, 0).unwrap(), 5);
        assert_eq!(&b, b"hello");
        let st = HOST.fstatat(fd, b"", vm_core::host::AT_EMPTY_PATH).unwrap();
        assert_eq!((st.size, st.mode & 0o777), (5, 0o600));
        assert_eq!(st.mode & vm_core::abi::S_IFMT, vm_core::abi::S_IFREG);
        assert_eq!(
            HOST.fcntl(fd, libc::F_GETFL, 0).unwrap() as i32 & 3,
            libc::O_RDWR
        );
        let mut lock = Flock {
            l_type: libc::F_WRLCK as i16,
            ..Default::default()
        };
        HOST.fcntl_lock(fd, libc::F_GETLK, &mut lock).unwrap();
        assert_eq!(lock.l_type, libc::F_UNLCK as i16);
        assert_eq!(HOST.tcgetattr(fd), Err(Errno::ENOTTY));
        HOST.close(fd).unwrap();
        assert_eq!(HOST.close(fd), Err(Errno::EBADF));
        let mut dirent = [0u8; 4096];
        let dfd = HOST
            .openat(AT_FDCWD, d, libc::O_RDONLY | libc::O_DIRECTORY, 0)
            .unwrap();
        assert!(HOST.getdents64(dfd, &mut dirent).unwrap() > 0);
        HOST.close(dfd).unwrap();
        HOST.unlinkat(AT_FDCWD, &f, 0).unwrap();
        HOST.unlinkat(AT_FDCWD, d, libc::AT_REMOVEDIR).unwrap();
        assert_eq!(HOST.fstatat(AT_FDCWD, &f, 0), Err(Errno::ENOENT));
    }

    #[test]
    fn sysroot_maps_existing_absolute_paths() {
        let host = LinuxHost::new();
        let dir = std::env::temp_dir().join(format!("pvm-sysroot-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        std::fs::write(dir.join("lib/only-here.so"), b"x").unwrap();
        host.set_sysroot(dir.as_os_str().as_encoded_bytes());
        let mapped = host.map(b"/lib/only-here.so");
        assert!(mapped.starts_with(dir.as_os_str().as_encoded_bytes()));
        assert_eq!(&*host.map(b"/etc/passwd"), b"/etc/passwd");
        assert_eq!(&*host.map(b"lib/only-here.so"), b"lib/only-here.so");
        assert_eq!(&*host.map(b"/"), b"/");
        assert!(host.fstatat(AT_FDCWD, b"/lib/only-here.so", 0).is_ok());
        // The kernel's file systems and run-time state are the host's,
        // even where the sysroot has (empty) directories of those names.
        for d in ["proc", "sys", "dev", "run", "tmp"] {
            std::fs::create_dir_all(dir.join(d).join("self")).unwrap();
        }
        for p in [
            &b"/proc"[..],
            b"/proc/self",
            b"//proc/self",
            b"/dev/null",
            b"/tmp",
            b"/run/",
        ] {
            assert_eq!(&*host.map(p), p);
        }
        assert!(
            host.map(b"/lib")
                .starts_with(dir.as_os_str().as_encoded_bytes())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn memory_reserve_protect_discard() {
        let p = HOST.reserve(1 << 20).unwrap();
        HOST.protect(p, 4096, HostProt::READ | HostProt::WRITE)
            .unwrap();
        // SAFETY: the page was just made writable.
        unsafe { p.write(7) };
        HOST.discard(p, 4096).unwrap();
        HOST.protect(p, 4096, HostProt::READ).unwrap();
        // SAFETY: readable again, and discarded to zero.
        assert_eq!(unsafe { p.read() }, 0);
    }

    #[test]
    fn epoll_eventfd_timerfd() {
        let ep = HOST.epoll_create1(libc::EPOLL_CLOEXEC).unwrap();
        let ev = HOST.eventfd2(0, libc::EFD_NONBLOCK).unwrap();
        let data = 0x1122_3344_5566_7788;
        HOST.epoll_ctl(
            ep,
            libc::EPOLL_CTL_ADD,
            ev,
            Some(EpollEvent {
                events: libc::EPOLLIN as u32,
                data,
            }),
        )
        .unwrap();
        let mut out = [EpollEvent::default(); 4];
        let zero = Some(Timespec::default());
        assert_eq!(HOST.epoll_wait(ep, &mut out, zero).unwrap(), 0);
        HOST.write(ev, &5u64.to_le_bytes()).unwrap();
        assert_eq!(HOST.epoll_wait(ep, &mut out, zero).unwrap(), 1);
        // The packed x86-64 layout came back field by field.
        assert_eq!(out[0].events, libc::EPOLLIN as u32);
        assert_eq!(out[0].data, data);
        let tfd = HOST.timerfd_create(libc::CLOCK_MONOTONIC, 0).unwrap();
        let t = ITimer {
            interval: Timespec { sec: 2, nsec: 0 },
            value: Timespec { sec: 100, nsec: 0 },
        };
        assert_eq!(
            HOST.timerfd_settime(tfd, 0, Some(t)).unwrap(),
            ITimer::default()
        );
        let cur = HOST.timerfd_settime(tfd, 0, None).unwrap();
        assert_eq!(cur.interval, t.interval);
        assert!(cur.value.sec > 90 && cur.value.sec <= 100);
        assert_eq!(
            HOST.epoll_ctl(ep, libc::EPOLL_CTL_DEL, tfd, None),
            Err(Errno(libc::ENOENT))
        );
        for fd in [ep, ev, tfd] {
            HOST.close(fd).unwrap();
        }
    }

    #[test]
    fn socketpair_passes_descriptors() {
        let [a, b] = HOST
            .socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0)
            .unwrap();
        let [r, w] = HOST.pipe2(0).unwrap();
        // One cmsghdr (len 20: 16 + one int), padded to 24.
        let mut control = [0u8; 24];
        control[..8].copy_from_slice(&20u64.to_le_bytes());
        control[8..12].copy_from_slice(&libc::SOL_SOCKET.to_le_bytes());
        control[12..16].copy_from_slice(&libc::SCM_RIGHTS.to_le_bytes());
        control[16..20].copy_from_slice(&r.to_le_bytes());
        let msg = SendMsg {
            name: &[],
            data: b"x",
            control: &control,
        };
        assert_eq!(HOST.sendmsg(a, &msg, 0).unwrap(), 1);
        let (mut data, mut ctl) = ([0u8; 4], [0u8; 64]);
        let mut rm = RecvMsg {
            name: &mut [],
            data: &mut data,
            control: &mut ctl,
            name_len: 0,
            control_len: 0,
            flags: 0,
        };
        assert_eq!(HOST.recvmsg(b, &mut rm, 0).unwrap(), 1);
        assert_eq!(rm.control_len, 24);
        let got = i32::from_le_bytes(ctl[16..20].try_into().unwrap());
        assert!(got >= 0 && got != r);
        HOST.write(w, b"through").unwrap();
        let mut buf = [0u8; 7];
        assert_eq!(HOST.read(got, &mut buf).unwrap(), 7);
        assert_eq!(&buf, b"through");
        let mut name = [0u8; 128];
        assert_eq!(HOST.sockname(a, false, &mut name).unwrap(), 2);
        assert_eq!(HOST.shutdown(r, 0), Err(Errno::ENOTSOCK));
        for fd in [a, b, r, w, got] {
            HOST.close(fd).unwrap();
        }
    }

    #[test]
    fn xattrs_and_ioctls() {
        let dir = std::env::temp_dir().join(format!("pvm-xattr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("f");
        std::fs::write(&f, b"abc").unwrap();
        let p = f.as_os_str().as_encoded_bytes();
        let t = XattrTarget::Path {
            path: p,
            follow: true,
        };
        match HOST.setxattr(t, b"user.pvm", b"v1", 0) {
            // A file system without user xattrs says so; nothing to test.
            Err(Errno::ENOTSUP) => {}
            r => {
                r.unwrap();
                let mut v = [0u8; 8];
                assert_eq!(HOST.getxattr(t, b"user.pvm", &mut []).unwrap(), 2);
                assert_eq!(HOST.getxattr(t, b"user.pvm", &mut v).unwrap(), 2);
                assert_eq!(&v[..2], b"v1");
                let mut list = [0u8; 64];
                let n = HOST.listxattr(t, &mut list).unwrap();
                assert!(list[..n].split(|&c| c == 0).any(|x| x == b"user.pvm"));
                HOST.removexattr(t, b"user.pvm").unwrap();
                assert_eq!(HOST.getxattr(t, b"user.pvm", &mut v), Err(Errno::ENODATA));
            }
        }
        let fd = HOST.openat(AT_FDCWD, p, libc::O_RDONLY, 0).unwrap();
        let mut n = [0u8; 4];
        HOST.ioctl_ptr(fd, libc::FIONREAD as u32, &mut n).unwrap();
        assert_eq!(i32::from_le_bytes(n), 3);
        HOST.close(fd).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn misc() {
        let mut cwd = [0u8; 4096];
        let n = HOST.getcwd(&mut cwd).unwrap();
        assert_eq!(
            &cwd[..n],
            std::env::current_dir()
                .unwrap()
                .as_os_str()
                .as_encoded_bytes()
        );
        assert!(HOST.clock_gettime(1).unwrap().sec > 0 || HOST.clock_gettime(1).is_ok());
        assert_eq!(HOST.clock_gettime(12345), Err(Errno::EINVAL));
        assert_eq!(&HOST.uname().sysname[..6], b"Linux\0");
        assert!(HOST.cpu_count() >= 1);
        let [r, w] = HOST.pipe2(libc::O_CLOEXEC).unwrap();
        assert_eq!(HOST.write(w, b"x").unwrap(), 1);
        let mut b = [0u8; 4];
        assert_eq!(HOST.read(r, &mut b).unwrap(), 1);
        HOST.close(r).unwrap();
        HOST.close(w).unwrap();
    }
}
