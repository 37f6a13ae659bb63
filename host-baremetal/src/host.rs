//! `HostOs` for the unikernel: memory from [`crate::memory`], files,
//! pipes, event objects and socket pairs from the in-kernel
//! [`host_baremetal::fs::Fs`], System V IPC and POSIX message queues
//! from [`crate::ipc`], signals and interval timers from
//! [`host_baremetal::signals`], time from [`crate::clock`], entropy from
//! [`crate::random`], and the serial console.
//!
//! Nothing guest-visible is decided here: this layer forwards, answers
//! the identity questions (pid, uname) a machine with one process and no
//! users answers, and blocks. A call the file system answers with
//! `EAGAIN` on a descriptor without `O_NONBLOCK` (a read of an empty pipe,
//! a full socket), and `poll`, `epoll_wait`, sleeps and signal waits, wait
//! here ([`BareMetal::block`]): the CPU halts from timer tick to tick, and
//! after each looks again at the descriptors, the deadline and the signals
//! (a timer may have fired); a signal for the core ends the wait with
//! `EINTR`, and the core restarts the call or not, as Linux decides.

use crate::pagecache::PageCache;
use crate::procs::Proc;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::{self, Write as _};
use host_baremetal::fs::{Console, Fs, MAX_FDS, MAX_FDS_HARD};
use host_baremetal::signals::Now;
use vm_core::abi::{AT_EMPTY_PATH, F_GETFL, FIONREAD, O_APPEND, O_TRUNC, POLLIN, POLLOUT};
use vm_core::host::*;

/// The serial console: stdout on COM1, stderr on COM2.
#[derive(Debug)]
pub struct SerialConsole;

impl Console for SerialConsole {
    fn stdout(&self, data: &[u8]) {
        crate::serial::COM1.lock().write_bytes(data);
    }
    fn stderr(&self, data: &[u8]) {
        crate::serial::COM2.lock().write_bytes(data);
    }
}

/// The unikernel host: one value for every guest process, which finds
/// the calling process's state ([`crate::procs::Proc`]) through the
/// running task ([`crate::task::current`]).
#[derive(Debug)]
pub struct BareMetal {
    /// How exec'd programs are run (the boot options).
    run: spin::Mutex<RunConfig>,
}

static GLOBAL: spin::Once<&'static BareMetal> = spin::Once::new();

/// The host, once [`BareMetal::install`] made it.
pub fn global() -> &'static BareMetal {
    GLOBAL.get().expect("the host is installed")
}

/// What every program a process execs is run with: the boot's sysroot and
/// engine options.
#[derive(Clone, Debug, Default)]
pub struct RunConfig {
    pub sysroot: Option<Vec<u8>>,
    pub options: vm_core::process::Options,
    /// False when the boot named an engine there is none of.
    pub engine_ok: bool,
}

impl RunConfig {
    /// `Some(self)` unless the boot named an unknown engine.
    pub fn engine_ok(self) -> Option<RunConfig> {
        self.engine_ok.then_some(self)
    }
}

/// `[addr, addr+len)` shows pages of a file's page cache (shared, or
/// copy-on-write for a private mapping): the mapping holds the cache,
/// which lives while any mapping of the file does.
#[derive(Clone, Debug)]
pub struct SharedMap {
    cache: Arc<PageCache>,
    addr: u64,
    len: u64,
    /// The file offset `addr` shows (page aligned).
    offset: u64,
    /// `MAP_PRIVATE` (copy-on-write) rather than `MAP_SHARED`.
    private: bool,
}

impl SharedMap {
    /// The part `[s, e)` of this mapping (inside it), at `to`.
    fn part(&self, s: u64, e: u64, to: u64) -> SharedMap {
        SharedMap {
            cache: self.cache.clone(),
            addr: to,
            len: e - s,
            offset: self.offset + (s - self.addr),
            private: self.private,
        }
    }
}

impl BareMetal {
    /// Show `cache`'s file from byte `offset` at `[addr, addr+len)` (just
    /// mapped fresh) with protection `prot`: a shared mapping shows the
    /// cache as it is, a `private` one copy-on-write. Recorded in the
    /// process's file mappings (which follow the file's size).
    fn map_cache(
        &self,
        cache: Arc<PageCache>,
        addr: *mut u8,
        len: usize,
        offset: u64,
        prot: HostProt,
        private: bool,
    ) -> SysResult<()> {
        // The other mappings of the file first catch up with its size.
        resized(core::slice::from_ref(&cache));
        if private {
            cache.map_private(addr as u64, len as u64, offset, prot)?;
        } else {
            crate::memory::protect(addr, len, prot)?;
            cache.map(addr as u64, len as u64, offset)?;
        }
        self.p().shared.lock().push(SharedMap {
            cache,
            addr: addr as u64,
            len: len as u64,
            offset,
            private,
        });
        Ok(())
    }

    /// Linux's default limits for a first process.
    fn default_limits() -> [(u64, u64); 16] {
        const INF: u64 = u64::MAX;
        let mut limits = [(INF, INF); 16];
        limits[3] = (8 << 20, INF); // RLIMIT_STACK
        limits[4] = (0, INF); // RLIMIT_CORE
        limits[6] = (63_535, 63_535); // RLIMIT_NPROC
        limits[7] = (MAX_FDS as u64, MAX_FDS_HARD as u64); // RLIMIT_NOFILE
        limits[8] = (8 << 20, 8 << 20); // RLIMIT_MEMLOCK
        limits[11] = (63_535, 63_535); // RLIMIT_SIGPENDING
        limits[12] = (819_200, 819_200); // RLIMIT_MSGQUEUE
        limits[13] = (0, 0); // RLIMIT_NICE
        limits[14] = (0, 0); // RLIMIT_RTPRIO
        limits
    }

    /// Make this host new again with `fs` and `run` (the next job of a
    /// batch boot, see `main.rs`): a new process table whose first
    /// process runs on the boot task, every other task of the last job
    /// gone, the old file system and its open files dropped.
    pub fn reset(&self, fs: Fs, run: RunConfig) {
        let root = crate::procs::reset(fs, Self::default_limits());
        crate::task::reset(root);
        self.ipc_reset();
        *self.run.lock() = run;
    }

    /// A host around the file system, whose first process gets Linux's
    /// default limits and runs on the boot task.
    pub fn new(fs: Fs, run: RunConfig) -> BareMetal {
        let root = crate::procs::init(fs, Self::default_limits());
        crate::task::init(root);
        BareMetal {
            run: spin::Mutex::new(run),
        }
    }

    /// How this job's programs run (sysroot, engine, strace).
    pub fn run(&self) -> RunConfig {
        self.run.lock().clone()
    }

    /// Make `self` the host every task finds with [`global`].
    pub fn install(self) -> &'static BareMetal {
        let host: &'static BareMetal = alloc::boxed::Box::leak(alloc::boxed::Box::new(self));
        GLOBAL.call_once(|| host);
        host
    }

    /// The calling process's state.
    pub fn p(&self) -> Arc<Proc> {
        crate::task::current()
    }

    /// Is a signal waiting for the core (a timer may just have fired)?
    fn signalled(&self) -> bool {
        let p = self.p();
        p.signals.lock().pending(now()) || Self::woken(&p)
    }

    /// Has the process's wake-up time (`HostOs::set_wakeup`, for the
    /// core's POSIX timers) come? It is used up: the core asks again for
    /// the next one once it has looked at its timers.
    fn woken(p: &Proc) -> bool {
        use core::sync::atomic::Ordering;
        let at = p.wakeup.load(Ordering::Acquire);
        at != u64::MAX
            && crate::clock::uptime_ns() >= at
            && p.wakeup
                .compare_exchange(at, u64::MAX, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }

    /// Block (halted between timer ticks) until `ready()`, a signal for
    /// the core (`EINTR`), or `deadline` (ns since boot). True when
    /// `ready()` ended it.
    pub(crate) fn block(
        &self,
        deadline: Option<u64>,
        mut ready: impl FnMut() -> bool,
    ) -> SysResult<bool> {
        let mut signal = false;
        let done = crate::clock::wait_until(deadline, || {
            if ready() {
                return true;
            }
            signal = self.signalled();
            signal
        });
        if signal { Err(Errno::EINTR) } else { Ok(done) }
    }

    /// Is `fd` ready for `events` now?
    fn ready(&self, fd: i32, events: i16) -> bool {
        let mut p = [PollFd {
            fd,
            events,
            revents: 0,
        }];
        self.p().fs.lock().poll(&mut p) > 0
    }

    /// A read or write on `fd` that found it not ready: with `O_NONBLOCK`
    /// that is `EAGAIN`, else wait until it is ready for `events` (or a
    /// signal comes: `EINTR`; or a socket's `SO_RCVTIMEO` passes:
    /// `EAGAIN`), for the call to run again.
    fn wait_ready(&self, fd: i32, events: i16) -> SysResult<()> {
        self.wait_sock(fd, events, 0)
    }

    /// A call on `fd` that found it not ready: `EAGAIN` with `O_NONBLOCK`
    /// or `MSG_DONTWAIT` in `flags`, else wait until it is ready for
    /// `events`, a signal comes (`EINTR`) or, for a socket's receive, its
    /// `SO_RCVTIMEO` passes (`EAGAIN`, as Linux).
    fn wait_sock(&self, fd: i32, events: i16, flags: i32) -> SysResult<()> {
        if flags & MSG_DONTWAIT != 0 || self.p().fs.lock().nonblocking(fd)? {
            return Err(Errno::EAGAIN);
        }
        let timeout = if events == POLLIN {
            self.p().fs.lock().sock_rcvtimeo(fd)
        } else {
            None
        };
        let deadline = timeout.map(crate::clock::deadline_after).transpose()?;
        if self.block(deadline, || self.ready(fd, events))? {
            Ok(())
        } else {
            Err(Errno::EAGAIN)
        }
    }

    /// The parent of the calling process (a child the core is building).
    fn parent(&self) -> Option<Arc<Proc>> {
        crate::procs::ids(self.p().pid).and_then(|(pp, _, _)| crate::procs::live(pp))
    }

    /// A fork gave `[to, to+len)` of the calling process (the child)
    /// the pages of `[from, from+len)` of `parent`: its file mappings
    /// there are the child's too (holding their page caches).
    fn inherit_maps(&self, parent: &Proc, from: u64, to: u64, len: u64) {
        let mine: Vec<SharedMap> = parent
            .shared
            .lock()
            .iter()
            .filter_map(|m| {
                let s = m.addr.max(from);
                let e = (m.addr + m.len).min(from + len);
                (s < e).then(|| m.part(s, e, to + (s - from)))
            })
            .collect();
        self.p().shared.lock().extend(mine);
    }

    /// How much of `buf` (guest memory handed to a read or write of `fd`)
    /// the call may use: all of it, unless it reaches a page gone past
    /// its file's end ([`crate::memory::gone_from`]). Then, as Linux: a
    /// regular file's read or write copies the bytes before that page
    /// (`EFAULT` when there are none); a pipe's or socket's fails with
    /// `EFAULT` (its copy of a message is all or nothing).
    fn guest_len(&self, fd: i32, buf: &[u8]) -> SysResult<usize> {
        match crate::memory::gone_from(buf.as_ptr() as u64, buf.len()) {
            None => Ok(buf.len()),
            Some(n) if n > 0 && self.p().fs.lock().file_ref(fd).is_ok() => Ok(n),
            Some(_) => Err(Errno::EFAULT),
        }
    }

    /// Run a file call on `fd` that reads or writes the bytes `at` says
    /// with the page cache of its file ([`crate::pagecache`]) written
    /// back to the file there first, and loaded again from it there after
    /// when the call `changes` the file. Nothing to do for a descriptor
    /// that is no mapped file.
    fn coherent<T>(&self, fd: i32, at: At, changes: bool, call: impl FnOnce(&mut Fs) -> T) -> T {
        let p = self.p();
        let caches = match p.fs.lock().file_ref(fd) {
            Ok(file) => crate::pagecache::caches(&file),
            Err(_) => Vec::new(),
        };
        if caches.is_empty() {
            return call(&mut p.fs.lock());
        }
        let bytes = match at {
            At::Off(off, len) => u64::try_from(off)
                .ok()
                .map(|o| (o, o.saturating_add(len as u64))),
            At::Pos(len) => {
                let mut fs = p.fs.lock();
                // An O_APPEND write lands at the end: the whole file then.
                let append = fs
                    .fcntl(fd, F_GETFL, 0)
                    .is_ok_and(|f| f & i64::from(O_APPEND) != 0);
                match fs.lseek(fd, 0, 1) {
                    Ok(pos) if !(changes && append) => {
                        let pos = pos as u64;
                        Some((pos, pos.saturating_add(len as u64)))
                    }
                    _ => None,
                }
            }
            At::Whole => None,
        };
        caches.iter().for_each(|c| c.flush(bytes));
        let before = caches.iter().map(|c| c.size()).max().unwrap_or(0);
        let r = call(&mut p.fs.lock());
        if changes {
            // What the file grew by (a hole before the bytes written
            // included) reads as the file now says, too.
            let after = caches.iter().map(|c| c.size()).max().unwrap_or(0);
            caches.iter().for_each(|c| {
                c.refresh(bytes);
                if after > before && bytes.is_some() {
                    c.refresh(Some((before, after)));
                }
            });
            resized(&caches);
        }
        r
    }
}

/// The files of `caches` may have changed size: where one's last page
/// moved ([`PageCache::resized`]), every mapping of it, in every process,
/// follows. The pages now wholly past the end are gone (a touch is
/// `SIGBUS`, a host call given them `EFAULT`), as Linux unmaps them at a
/// truncation; those the file grew over again show its pages again.
fn resized(caches: &[Arc<PageCache>]) {
    const PAGE: u64 = 4096;
    for c in caches {
        let Some((old, new)) = c.resized() else {
            continue;
        };
        for p in crate::procs::all() {
            for m in p.shared.lock().iter() {
                if !Arc::ptr_eq(&m.cache, c) {
                    continue;
                }
                let first = m.offset / PAGE;
                let end = first + m.len / PAGE;
                let (s, e) = if new < old {
                    (first.max(new), end)
                } else {
                    (first.max(old), end.min(new))
                };
                if s >= e {
                    continue;
                }
                let at = m.addr + (s - first) * PAGE;
                let len = (e - s) * PAGE;
                // Out of frames for a page back: it stays gone (a touch
                // is SIGBUS rather than the machine's end).
                let _ = if new < old {
                    crate::memory::file_pages_gone(at, len)
                } else {
                    crate::memory::file_pages_back(at, len, c.handle(), s, m.private)
                };
            }
        }
    }
}

/// `EFAULT` if `buf` (guest memory handed to a host call) reaches a page
/// gone past its file's end ([`crate::memory::gone_from`]).
fn no_gone(buf: &[u8]) -> SysResult<()> {
    match crate::memory::gone_from(buf.as_ptr() as u64, buf.len()) {
        Some(_) => Err(Errno::EFAULT),
        None => Ok(()),
    }
}

/// Which bytes of a file a call reads or writes ([`BareMetal::coherent`]).
enum At {
    /// `len` bytes from the descriptor's position (`read`, `write`).
    Pos(usize),
    /// `len` bytes from an offset (`pread`, `pwrite`).
    Off(i64, usize),
    /// Any (`ftruncate`, `fallocate`).
    Whole,
}

/// The timers' clocks now.
fn now() -> Now {
    Now {
        real: crate::clock::uptime_ns(),
        cpu: crate::clock::cpu_ns(),
    }
}

use vm_core::abi::MSG_DONTWAIT;

fn field(s: &str) -> [u8; 65] {
    let mut f = [0u8; 65];
    let n = s.len().min(64);
    f[..n].copy_from_slice(&s.as_bytes()[..n]);
    f
}

impl HostOs for BareMetal {
    fn fd_table_end(&self, n: usize) -> Option<usize> {
        Some(self.p().fs.lock().table_end(n))
    }

    fn reserve(&self, size: usize) -> SysResult<*mut u8> {
        // A guest address space of the calling process (the child, while
        // the core builds one for a fork).
        let at = crate::memory::reserve(size)?;
        let size = (size as u64 + 4095) & !4095;
        self.p().spaces.lock().push((at as u64, size));
        Ok(at)
    }
    fn protect(&self, addr: *mut u8, len: usize, prot: HostProt) -> SysResult<()> {
        crate::memory::protect(addr, len, prot)
    }
    fn pagemap(&self, host: *mut u8, out: &mut [u64]) -> SysResult<()> {
        // A touched page is present, and exclusively mapped unless a fork
        // shares its frame (copy-on-write or `MAP_SHARED`); no soft-dirty
        // tracking.
        let mut b = alloc::vec![false; out.len()];
        let mut x = alloc::vec![false; out.len()];
        crate::memory::backed(host, &mut b)?;
        crate::memory::exclusive(host, &mut x)?;
        for ((e, b), x) in out.iter_mut().zip(b).zip(x) {
            *e = match (b, x) {
                (false, _) => 0,
                (true, false) => 1 << 63,
                (true, true) => (1 << 63) | (1 << 56),
            };
        }
        Ok(())
    }
    fn discard(&self, addr: *mut u8, len: usize) -> SysResult<()> {
        // Unmapping part of a shared file mapping: the rest of it stays
        // (split if needed); a file's last mapping gone writes its page
        // cache back (the cache's drop).
        let (start, end) = (addr as u64, addr as u64 + len as u64);
        let p = self.p();
        let mut shared = p.shared.lock();
        let mut kept = Vec::new();
        let mut gone = Vec::new();
        for m in shared.drain(..) {
            let (ms, me) = (m.addr, m.addr + m.len);
            if me <= start || ms >= end {
                kept.push(m);
                continue;
            }
            if ms < start {
                kept.push(m.part(ms, start, ms));
            }
            if me > end {
                kept.push(m.part(end, me, end));
            }
            gone.push(m);
        }
        *shared = kept;
        drop(shared);
        drop(gone);
        self.shm_unmapped(start, end);
        crate::memory::discard(addr, len)
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
        let file = self.p().fs.lock().file_ref(fd)?;
        let offset = u64::try_from(offset).map_err(|_| Errno::EINVAL)?;
        let cache = crate::pagecache::of(&file)?;
        self.map_cache(cache, addr, len, offset, prot, !shared)
    }

    fn extend_file_map(&self, at: *mut u8, len: usize, prot: HostProt) -> SysResult<()> {
        // The file mapping holding the last page before `at` goes on
        // with the file's next pages.
        let at64 = at as u64;
        let (cache, offset, private) = self
            .p()
            .shared
            .lock()
            .iter()
            .find(|m| m.addr < at64 && at64 <= m.addr + m.len)
            .map(|m| (m.cache.clone(), m.offset + (at64 - m.addr), m.private))
            .ok_or(Errno::ENODEV)?;
        self.map_cache(cache, at, len, offset, prot, private)
    }

    fn move_pages(&self, from: *mut u8, to: *mut u8, len: usize) -> SysResult<()> {
        let (from, to, len) = (from as u64, to as u64, len as u64);
        crate::memory::move_pages(from, to, len)?;
        // The file mappings and shared memory attachments there move
        // along (the core unmaps `from` next, which then holds none).
        let p = self.p();
        let mut shared = p.shared.lock();
        let mut moved = Vec::new();
        for m in shared.drain(..) {
            let (ms, me) = (m.addr, m.addr + m.len);
            let (s, e) = (ms.max(from), me.min(from + len));
            if s >= e {
                moved.push(m);
                continue;
            }
            if ms < s {
                moved.push(m.part(ms, s, ms));
            }
            if me > e {
                moved.push(m.part(e, me, e));
            }
            moved.push(m.part(s, e, to + (s - from)));
        }
        *shared = moved;
        drop(shared);
        self.shm_moved(from, to, len);
        Ok(())
    }

    fn alloc_code(&self, size: usize) -> SysResult<*mut u8> {
        crate::memory::alloc_code(size)
    }

    fn openat(&self, dirfd: i32, path: &[u8], flags: i32, mode: u32) -> SysResult<i32> {
        let p = self.p();
        let fd = p.fs.lock().openat(dirfd, path, flags, mode)?;
        // O_TRUNC may have emptied a mapped file: its page cache reads
        // as zeroes now (what the mappings held is gone with the bytes,
        // so there was nothing to write back first).
        if flags & O_TRUNC != 0
            && let Ok(file) = p.fs.lock().file_ref(fd)
        {
            let caches = crate::pagecache::caches(&file);
            caches.iter().for_each(|c| c.refresh(None));
            resized(&caches);
        }
        Ok(fd)
    }
    fn close(&self, fd: i32) -> SysResult<()> {
        self.p().fs.lock().close(fd)
    }
    fn read(&self, fd: i32, buf: &mut [u8]) -> SysResult<usize> {
        let n = self.guest_len(fd, buf)?;
        let buf = &mut buf[..n];
        loop {
            match self.coherent(fd, At::Pos(buf.len()), false, |fs| fs.read(fd, buf)) {
                Err(Errno::EAGAIN) => self.wait_ready(fd, POLLIN)?,
                r => return r,
            }
        }
    }
    fn write(&self, fd: i32, buf: &[u8]) -> SysResult<usize> {
        let buf = &buf[..self.guest_len(fd, buf)?];
        loop {
            match self.coherent(fd, At::Pos(buf.len()), true, |fs| fs.write(fd, buf)) {
                Err(Errno::EAGAIN) => self.wait_ready(fd, POLLOUT)?,
                r => return r,
            }
        }
    }
    fn pread(&self, fd: i32, buf: &mut [u8], offset: i64) -> SysResult<usize> {
        let n = self.guest_len(fd, buf)?;
        let buf = &mut buf[..n];
        self.coherent(fd, At::Off(offset, buf.len()), false, |fs| {
            fs.pread(fd, buf, offset)
        })
    }
    fn pwrite(&self, fd: i32, buf: &[u8], offset: i64) -> SysResult<usize> {
        let buf = &buf[..self.guest_len(fd, buf)?];
        self.coherent(fd, At::Off(offset, buf.len()), true, |fs| {
            fs.pwrite(fd, buf, offset)
        })
    }
    fn lseek(&self, fd: i32, offset: i64, whence: i32) -> SysResult<i64> {
        self.p().fs.lock().lseek(fd, offset, whence)
    }
    fn fstatat(&self, dirfd: i32, path: &[u8], flags: i32) -> SysResult<FileStat> {
        self.p().fs.lock().fstatat(dirfd, path, flags)
    }
    fn faccessat(&self, dirfd: i32, path: &[u8], mode: i32, flags: i32) -> SysResult<()> {
        self.p().fs.lock().faccessat(dirfd, path, mode, flags)
    }
    fn readlinkat(&self, dirfd: i32, path: &[u8], buf: &mut [u8]) -> SysResult<usize> {
        self.p().fs.lock().readlinkat(dirfd, path, buf)
    }
    fn getdents64(&self, fd: i32, buf: &mut [u8]) -> SysResult<usize> {
        self.p().fs.lock().getdents64(fd, buf)
    }
    fn mkdirat(&self, dirfd: i32, path: &[u8], mode: u32) -> SysResult<()> {
        self.p().fs.lock().mkdirat(dirfd, path, mode)
    }
    fn unlinkat(&self, dirfd: i32, path: &[u8], flags: i32) -> SysResult<()> {
        self.p().fs.lock().unlinkat(dirfd, path, flags)
    }
    fn renameat2(
        &self,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: u32,
    ) -> SysResult<()> {
        self.p()
            .fs
            .lock()
            .renameat2(olddirfd, oldpath, newdirfd, newpath, flags)
    }
    fn symlinkat(&self, target: &[u8], newdirfd: i32, linkpath: &[u8]) -> SysResult<()> {
        self.p().fs.lock().symlinkat(target, newdirfd, linkpath)
    }
    fn linkat(
        &self,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: i32,
    ) -> SysResult<()> {
        self.p()
            .fs
            .lock()
            .linkat(olddirfd, oldpath, newdirfd, newpath, flags)
    }
    fn fchmodat(&self, dirfd: i32, path: &[u8], mode: u32) -> SysResult<()> {
        self.p().fs.lock().fchmodat(dirfd, path, mode)
    }
    fn fchmod(&self, fd: i32, mode: u32) -> SysResult<()> {
        self.p().fs.lock().fchmod(fd, mode)
    }
    fn utimensat(
        &self,
        dirfd: i32,
        path: &[u8],
        times: Option<[Timespec; 2]>,
        flags: i32,
    ) -> SysResult<()> {
        self.p().fs.lock().utimensat(dirfd, path, times, flags)
    }
    fn ftruncate(&self, fd: i32, len: i64) -> SysResult<()> {
        self.coherent(fd, At::Whole, true, |fs| fs.ftruncate(fd, len))
    }
    fn fsync(&self, fd: i32) -> SysResult<()> {
        self.p().fs.lock().fsync(fd)
    }
    fn fcntl(&self, fd: i32, cmd: i32, arg: i64) -> SysResult<i64> {
        self.p().fs.lock().fcntl(fd, cmd, arg)
    }
    fn fcntl_lock(&self, fd: i32, cmd: i32, lock: &mut Flock) -> SysResult<()> {
        // One process: no lock can conflict with another's. F_GETLK and
        // F_OFD_GETLK answer "nothing would block" as Linux does then.
        self.p().fs.lock().check_fd(fd)?;
        if cmd == 5 || cmd == 36 {
            lock.l_type = 2; // F_UNLCK
        }
        Ok(())
    }
    fn poll(&self, fds: &mut [PollFd], timeout: Option<Timespec>) -> SysResult<usize> {
        // Halted between ticks; a poll that nothing can end (no timeout,
        // no timer, nothing that becomes ready by itself) idles the CPU
        // for good, as Linux blocks such a process.
        let deadline = timeout.map(crate::clock::deadline_after).transpose()?;
        let mut n = 0;
        self.block(deadline, || {
            n = self.p().fs.lock().poll(fds);
            n > 0
        })?;
        Ok(n)
    }
    fn statfs(&self, fd: i32, path: &[u8]) -> SysResult<StatFs> {
        let st = if path.is_empty() {
            self.p().fs.lock().fstatat(fd, b"", AT_EMPTY_PATH)?
        } else {
            self.p().fs.lock().fstatat(AT_FDCWD, path, 0)?
        };
        let (total, free) = crate::memory::usage();
        // The ramdisk and /tmp both live in RAM: report a ramfs, read-only
        // (ST_RDONLY) outside the writable directories.
        Ok(StatFs {
            fs_type: 0x8584_58f6, // RAMFS_MAGIC
            bsize: 4096,
            blocks: total / 4096,
            bfree: free / 4096,
            bavail: free / 4096,
            files: 0,
            ffree: 0,
            fsid: [st.dev as i32, 0],
            namelen: 255,
            frsize: 4096,
            flags: if st.dev == 1 { 1 } else { 0 },
        })
    }
    fn dup(&self, fd: i32) -> SysResult<i32> {
        self.p().fs.lock().dup(fd)
    }
    fn dup3(&self, oldfd: i32, newfd: i32, flags: i32) -> SysResult<i32> {
        self.p().fs.lock().dup3(oldfd, newfd, flags)
    }
    fn pipe2(&self, flags: i32) -> SysResult<[i32; 2]> {
        self.p().fs.lock().pipe2(flags)
    }
    fn epoll_create1(&self, flags: i32) -> SysResult<i32> {
        self.p().fs.lock().epoll_create1(flags)
    }
    fn epoll_ctl(&self, epfd: i32, op: i32, fd: i32, event: Option<EpollEvent>) -> SysResult<()> {
        self.p().fs.lock().epoll_ctl(epfd, op, fd, event)
    }
    fn epoll_wait(
        &self,
        epfd: i32,
        events: &mut [EpollEvent],
        timeout: Option<Timespec>,
    ) -> SysResult<usize> {
        let deadline = timeout.map(crate::clock::deadline_after).transpose()?;
        let mut r = Ok(0);
        self.block(deadline, || {
            r = self.p().fs.lock().epoll_wait(epfd, events);
            r != Ok(0)
        })?;
        r
    }
    fn pidfd_open(&self, pid: i32, flags: u32) -> SysResult<i32> {
        self.p().fs.lock().pidfd_open(pid, flags as i32)
    }
    fn pidfd_pid(&self, fd: i32) -> SysResult<i32> {
        self.p().fs.lock().pidfd_pid(fd)
    }
    fn pidfd_send_signal(&self, fd: i32, sig: i32) -> SysResult<()> {
        match self.pidfd_pid(fd)? {
            0 => Err(Errno::ESRCH),
            pid => self.kill(pid, sig),
        }
    }
    fn eventfd2(&self, initval: u32, flags: i32) -> SysResult<i32> {
        self.p().fs.lock().eventfd2(initval, flags)
    }
    fn timerfd_create(&self, clock: i32, flags: i32) -> SysResult<i32> {
        self.p().fs.lock().timerfd_create(clock, flags)
    }
    fn timerfd_settime(&self, fd: i32, flags: i32, new: Option<ITimer>) -> SysResult<ITimer> {
        self.p().fs.lock().timerfd_settime(fd, flags, new)
    }
    fn socket(&self, domain: i32, ty: i32, protocol: i32) -> SysResult<i32> {
        self.p().fs.lock().socket(domain, ty, protocol)
    }
    fn socketpair(&self, domain: i32, ty: i32, protocol: i32) -> SysResult<[i32; 2]> {
        self.p().fs.lock().socketpair(domain, ty, protocol)
    }
    fn bind(&self, fd: i32, addr: &[u8]) -> SysResult<()> {
        self.p().fs.lock().bind(fd, addr)
    }
    fn connect(&self, fd: i32, addr: &[u8]) -> SysResult<()> {
        // A full backlog: wait for room, as Linux does, unless O_NONBLOCK.
        let mut r = self.p().fs.lock().connect(fd, addr);
        let nonblocking = self.p().fs.lock().nonblocking(fd)?;
        if r == Err(Errno::EAGAIN) && !nonblocking {
            self.block(None, || {
                r = self.p().fs.lock().connect(fd, addr);
                r != Err(Errno::EAGAIN)
            })?;
        }
        r
    }
    fn listen(&self, fd: i32, backlog: i32) -> SysResult<()> {
        self.p().fs.lock().listen(fd, backlog)
    }
    fn accept4(&self, fd: i32, addr: &mut [u8], flags: i32) -> SysResult<(i32, usize)> {
        loop {
            // The descriptor table is not held while waiting.
            let r = self.p().fs.lock().accept4(fd, addr, flags);
            match r {
                Err(Errno::EAGAIN) => self.wait_sock(fd, POLLIN, 0)?,
                r => return r,
            }
        }
    }
    fn sockname(&self, fd: i32, peer: bool, addr: &mut [u8]) -> SysResult<usize> {
        self.p().fs.lock().sockname(fd, peer, addr)
    }
    fn sendmsg(&self, fd: i32, msg: &SendMsg<'_>, flags: i32) -> SysResult<usize> {
        for b in [msg.name, msg.data, msg.control] {
            no_gone(b)?;
        }
        loop {
            // The descriptor table is not held while waiting.
            let r = self.p().fs.lock().sendmsg(fd, msg, flags);
            match r {
                Err(Errno::EAGAIN) => self.wait_sock(fd, POLLOUT, flags)?,
                r => return r,
            }
        }
    }
    fn recvmsg(&self, fd: i32, msg: &mut RecvMsg<'_>, flags: i32) -> SysResult<usize> {
        for b in [&*msg.name, &*msg.data, &*msg.control] {
            no_gone(b)?;
        }
        loop {
            // The descriptor table is not held while waiting.
            let r = self.p().fs.lock().recvmsg(fd, msg, flags);
            match r {
                Err(Errno::EAGAIN) => self.wait_sock(fd, POLLIN, flags)?,
                r => return r,
            }
        }
    }
    fn shutdown(&self, fd: i32, how: i32) -> SysResult<()> {
        self.p().fs.lock().shutdown(fd, how)
    }
    fn setsockopt(&self, fd: i32, level: i32, name: i32, value: &[u8]) -> SysResult<()> {
        self.p().fs.lock().setsockopt(fd, level, name, value)
    }
    fn getsockopt(&self, fd: i32, level: i32, name: i32, value: &mut [u8]) -> SysResult<usize> {
        self.p().fs.lock().getsockopt(fd, level, name, value)
    }
    fn rw2(
        &self,
        fd: i32,
        buf: &mut [u8],
        offset: i64,
        flags: i32,
        write: bool,
    ) -> SysResult<usize> {
        // RWF_HIPRI, RWF_DSYNC and RWF_SYNC change nothing in memory;
        // RWF_NOWAIT: what would block is EAGAIN; RWF_APPEND: at the end
        // of the file whatever the offset (the position moves only when
        // the call uses it, offset -1).
        use vm_core::abi::{RWF_APPEND, RWF_NOWAIT};
        if write {
            if flags & RWF_APPEND != 0 {
                if offset != -1 {
                    let end = self.p().fs.lock().fstatat(fd, b"", AT_EMPTY_PATH)?.size;
                    return self.pwrite(fd, buf, end);
                }
                match self.lseek(fd, 0, 2) {
                    Ok(_) | Err(Errno::ESPIPE) => {}
                    Err(e) => return Err(e),
                }
            }
            return match (offset, flags & RWF_NOWAIT != 0) {
                (-1, true) => self.coherent(fd, At::Pos(buf.len()), true, |fs| fs.write(fd, buf)),
                (-1, false) => self.write(fd, buf),
                (at, _) => self.pwrite(fd, buf, at),
            };
        }
        match (offset, flags & RWF_NOWAIT != 0) {
            (-1, true) => self.coherent(fd, At::Pos(buf.len()), false, |fs| fs.read(fd, buf)),
            (-1, false) => self.read(fd, buf),
            (at, _) => self.pread(fd, buf, at),
        }
    }
    fn flock(&self, fd: i32, op: i32) -> SysResult<()> {
        use vm_core::abi::LOCK_NB;
        let mut r = Ok(());
        // A conflicting lock without LOCK_NB waits (for a signal: only
        // this process could release it).
        self.block(None, || {
            r = self.p().fs.lock().flock(fd, op);
            r != Err(Errno::EAGAIN) || op & LOCK_NB != 0
        })?;
        r
    }
    fn sendfile(
        &self,
        out_fd: i32,
        in_fd: i32,
        offset: Option<&mut i64>,
        count: usize,
    ) -> SysResult<usize> {
        self.copy_range(false, in_fd, offset, out_fd, None, count, 0)
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
        // copy_file_range takes no flags; splice's SPLICE_F_* are hints.
        if !splice && flags != 0 {
            return Err(Errno::EINVAL);
        }
        let mut buf = vec![0u8; len.min(1 << 20)];
        let n = match &off_in {
            Some(o) => self.pread(fd_in, &mut buf, **o)?,
            None => self.read(fd_in, &mut buf)?,
        };
        let w = match &off_out {
            Some(o) => self.pwrite(fd_out, &buf[..n], **o)?,
            None => self.write(fd_out, &buf[..n])?,
        };
        if let Some(o) = off_in {
            *o += w as i64;
        }
        if let Some(o) = off_out {
            *o += w as i64;
        }
        Ok(w)
    }
    fn tee(&self, fd_in: i32, fd_out: i32, len: usize, _flags: u32) -> SysResult<usize> {
        let data = self.p().fs.lock().pipe_peek(fd_in, len)?;
        self.write(fd_out, &data)
    }
    fn fallocate(&self, fd: i32, mode: i32, offset: i64, len: i64) -> SysResult<()> {
        self.coherent(fd, At::Whole, true, |fs| {
            fs.fallocate(fd, mode, offset, len)
        })
    }
    fn close_range(&self, first: u32, last: u32, flags: u32) -> SysResult<()> {
        self.p().fs.lock().close_range(first, last, flags)
    }
    fn fchownat(&self, dirfd: i32, path: &[u8], uid: u32, gid: u32, flags: i32) -> SysResult<()> {
        self.p().fs.lock().fchownat(dirfd, path, uid, gid, flags)
    }
    fn getxattr(&self, t: XattrTarget<'_>, name: &[u8], value: &mut [u8]) -> SysResult<usize> {
        self.p().fs.lock().getxattr(t, name, value)
    }
    fn setxattr(&self, t: XattrTarget<'_>, name: &[u8], value: &[u8], flags: i32) -> SysResult<()> {
        self.p().fs.lock().setxattr(t, name, value, flags)
    }
    fn listxattr(&self, t: XattrTarget<'_>, list: &mut [u8]) -> SysResult<usize> {
        self.p().fs.lock().listxattr(t, list)
    }
    fn removexattr(&self, t: XattrTarget<'_>, name: &[u8]) -> SysResult<()> {
        self.p().fs.lock().removexattr(t, name)
    }
    fn getgroups(&self, list: &mut [u32]) -> SysResult<usize> {
        let p = self.p();
        let g = p.groups.lock();
        if !list.is_empty() {
            list.get_mut(..g.len())
                .ok_or(Errno::EINVAL)?
                .copy_from_slice(&g);
        }
        Ok(g.len())
    }
    fn setgroups(&self, list: &[u32]) -> SysResult<()> {
        // The guest is root.
        *self.p().groups.lock() = list.to_vec();
        Ok(())
    }
    fn getpriority(&self, which: i32, who: i32) -> SysResult<i32> {
        match (which, who) {
            (0..=2, 0 | 2) => Ok(self.p().nice.load(core::sync::atomic::Ordering::Relaxed)),
            (0..=2, _) => Err(Errno::ESRCH),
            _ => Err(Errno::EINVAL),
        }
    }
    fn setpriority(&self, which: i32, who: i32, nice: i32) -> SysResult<()> {
        self.getpriority(which, who)?;
        // Root may also lower it; Linux clamps to -20..=19.
        self.p()
            .nice
            .store(nice.clamp(-20, 19), core::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
    fn ipc_get(&self, kind: IpcKind, key: i32, arg: u64, flags: i32) -> SysResult<i32> {
        BareMetal::ipc_get(self, kind, key, arg, flags)
    }
    fn ipc_ctl(
        &self,
        kind: IpcKind,
        id: i32,
        semnum: i32,
        cmd: i32,
        arg: IpcCtl<'_>,
    ) -> SysResult<i64> {
        BareMetal::ipc_ctl(self, kind, id, semnum, cmd, arg)
    }
    fn msgsnd(&self, id: i32, msg: &[u8], flags: i32) -> SysResult<()> {
        self.ipc_msgsnd(id, msg, flags)
    }
    fn msgrcv(&self, id: i32, buf: &mut [u8], typ: i64, flags: i32) -> SysResult<usize> {
        self.ipc_msgrcv(id, buf, typ, flags)
    }
    fn semop(&self, id: i32, ops: &[SemBuf], timeout: Option<Timespec>) -> SysResult<()> {
        self.ipc_semop(id, ops, timeout)
    }
    fn shm_attach(&self, id: i32, addr: *mut u8, len: usize, readonly: bool) -> SysResult<()> {
        self.ipc_shm_attach(id, addr, len, readonly)
    }
    fn mq_open(&self, name: &[u8], flags: i32, mode: u32, attr: Option<&MqAttr>) -> SysResult<i32> {
        self.ipc_mq_open(name, flags, mode, attr)
    }
    fn mq_unlink(&self, name: &[u8]) -> SysResult<()> {
        self.ipc_mq_unlink(name)
    }
    fn mq_timedsend(
        &self,
        fd: i32,
        msg: &[u8],
        prio: u32,
        deadline: Option<Timespec>,
    ) -> SysResult<()> {
        self.ipc_mq_send(fd, msg, prio, deadline)
    }
    fn mq_timedreceive(
        &self,
        fd: i32,
        buf: &mut [u8],
        deadline: Option<Timespec>,
    ) -> SysResult<(usize, u32)> {
        self.ipc_mq_receive(fd, buf, deadline)
    }
    fn mq_notify(&self, fd: i32, notice: Option<&MqNotify>) -> SysResult<()> {
        self.ipc_mq_notify(fd, notice)
    }
    fn mq_getsetattr(&self, fd: i32, new: Option<&MqAttr>) -> SysResult<MqAttr> {
        self.ipc_mq_getsetattr(fd, new)
    }
    fn memfd_create(&self, name: &[u8], flags: u32) -> SysResult<i32> {
        self.p().fs.lock().memfd_create(name, flags)
    }
    fn tcgetattr(&self, fd: i32) -> SysResult<Termios> {
        Err(self.p().fs.lock().not_a_tty(fd))
    }
    fn tcsetattr(&self, fd: i32, _action: u32, _termios: &Termios) -> SysResult<()> {
        Err(self.p().fs.lock().not_a_tty(fd))
    }
    fn winsize(&self, fd: i32) -> SysResult<WinSize> {
        Err(self.p().fs.lock().not_a_tty(fd))
    }
    fn ioctl_ptr(&self, fd: i32, req: u32, buf: &mut [u8]) -> SysResult<i32> {
        if req == FIONREAD && buf.len() == 4 {
            let n = self.p().fs.lock().pipe_bytes(fd)?;
            buf.copy_from_slice(&n.to_le_bytes());
            return Ok(0);
        }
        if host_baremetal::fs::is_ifreq(req) {
            return self.p().fs.lock().netif_ioctl(fd, req, buf);
        }
        Err(self.p().fs.lock().not_a_tty(fd))
    }
    fn ifconf(&self, fd: i32, buf: Option<&mut [u8]>) -> SysResult<usize> {
        self.p().fs.lock().ifconf(fd, buf)
    }
    fn getcwd(&self, buf: &mut [u8]) -> SysResult<usize> {
        self.p().fs.lock().getcwd(buf)
    }
    fn chdir(&self, path: &[u8]) -> SysResult<()> {
        self.p().fs.lock().chdir(path)
    }
    fn fchdir(&self, fd: i32) -> SysResult<()> {
        self.p().fs.lock().fchdir(fd)
    }
    fn umask(&self, mask: u32) -> u32 {
        self.p().fs.lock().umask(mask)
    }

    fn clock_gettime(&self, clock: i32) -> SysResult<Timespec> {
        match clock {
            // CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID: this
            // process's task's time.
            2 | 3 => {
                let ns = self.p().cpu_ns();
                Ok(Timespec {
                    sec: (ns / 1_000_000_000) as i64,
                    nsec: (ns % 1_000_000_000) as i64,
                })
            }
            _ => crate::clock::gettime(clock),
        }
    }
    fn clock_getres(&self, clock: i32) -> SysResult<Timespec> {
        crate::clock::getres(clock)
    }
    fn sleep(&self, duration: Timespec) -> SysResult<()> {
        let deadline = crate::clock::deadline_after(duration)?;
        self.block(Some(deadline), || false).map(|_| ())
    }
    fn random(&self, buf: &mut [u8]) -> SysResult<usize> {
        // The bytes before a gone page, as Linux copies out.
        let n = match crate::memory::gone_from(buf.as_ptr() as u64, buf.len()) {
            Some(0) => return Err(Errno::EFAULT),
            Some(n) => n,
            None => buf.len(),
        };
        crate::random::fill(&mut buf[..n]);
        Ok(n)
    }
    fn ids(&self) -> Ids {
        // The machine's only user runs every process; the first one's
        // parent is the kernel's notional init.
        let pid = self.p().pid;
        Ids {
            pid,
            ppid: crate::procs::ids(pid).map_or(1, |(ppid, _, _)| ppid),
            uid: 0,
            euid: 0,
            gid: 0,
            egid: 0,
        }
    }
    fn gettid(&self) -> i32 {
        self.p().pid
    }
    fn uname(&self) -> HostUname {
        HostUname {
            sysname: field("Linux"),
            nodename: field("pvm"),
            release: field("6.1.0-pvm"),
            version: field("#1 pvm-baremetal"),
            domainname: field("(none)"),
        }
    }
    fn sysinfo(&self) -> SysInfo {
        let (total, free) = crate::memory::usage();
        SysInfo {
            uptime: (crate::clock::uptime_ns() / 1_000_000_000) as i64,
            loads: [0; 3],
            totalram: total,
            freeram: free,
            sharedram: 0,
            bufferram: 0,
            totalswap: 0,
            freeswap: 0,
            procs: crate::procs::count() as u16,
            mem_unit: 1,
        }
    }
    fn cpu_count(&self) -> usize {
        1
    }

    fn prlimit(&self, resource: u32, new: Option<(u64, u64)>) -> SysResult<(u64, u64)> {
        let p = self.p();
        let mut limits = p.limits.lock();
        let slot = limits.get_mut(resource as usize).ok_or(Errno::EINVAL)?;
        let old = *slot;
        if let Some((soft, hard)) = new {
            if soft > hard {
                return Err(Errno::EINVAL);
            }
            // The guest is root, so it may raise hard limits, except where
            // the kernel has a fixed ceiling.
            if resource == 7 {
                if hard > MAX_FDS_HARD as u64 {
                    return Err(Errno::EPERM);
                }
                self.p().fs.lock().set_fd_limit(soft as usize)?;
            }
            *slot = (soft, hard);
        }
        Ok(old)
    }

    fn set_signal_action(&self, signo: i32, action: HostSigAction) {
        self.p().signals.lock().set_action(signo, action);
    }
    fn take_signal(&self) -> Option<HostSignal> {
        self.p().signals.lock().take(now())
    }
    fn wait_signal(&self) {
        let _ = self.block(None, || false);
    }
    fn setitimer(&self, which: i32, new: Option<ITimer>) -> SysResult<ITimer> {
        self.p().signals.lock().setitimer(which, new, now())
    }

    fn yield_now(&self) {
        crate::task::yield_now();
    }
    fn release(&self, addr: *mut u8, size: usize) -> bool {
        let p = self.p();
        // Its shared file mappings end with it (a file's last one writes
        // its page cache back).
        let (start, end) = (addr as u64, addr as u64 + size as u64);
        let gone: Vec<SharedMap> = {
            let mut shared = p.shared.lock();
            let (gone, kept): (Vec<SharedMap>, Vec<SharedMap>) = shared
                .drain(..)
                .partition(|m| m.addr >= start && m.addr + m.len <= end);
            *shared = kept;
            gone
        };
        drop(gone);
        p.spaces.lock().retain(|&(start, _)| start != addr as u64);
        self.shm_unmapped(start, end);
        match crate::memory::release(addr, size) {
            Ok(bytes) => {
                p.maxrss
                    .fetch_max(bytes, core::sync::atomic::Ordering::Relaxed);
                true
            }
            Err(_) => false,
        }
    }
    fn free_code(&self, addr: *mut u8, size: usize) {
        // The frames go back, and the range is handed out again (many
        // processes, and a batch boot's many guests, each have a cache).
        let len = (size + 4095) & !4095;
        let _ = crate::memory::release(addr, len);
    }
    fn copy_pages(&self, from: *const u8, to: *mut u8, len: usize) -> SysResult<()> {
        let (from, to, len) = (from as u64, to as u64, len as u64);
        crate::memory::copy_pages(from, to, len)?;
        // A private file mapping's copy still sees the file's changes in
        // the pages neither side wrote.
        if let Some(parent) = self.parent() {
            self.inherit_maps(&parent, from, to, len);
        }
        Ok(())
    }
    fn share_pages(&self, from: *const u8, to: *mut u8, len: usize) -> SysResult<()> {
        let (from, to, len) = (from as u64, to as u64, len as u64);
        crate::memory::share_pages(from, to, len)?;
        let Some(parent) = self.parent() else {
            return Ok(());
        };
        self.shm_forked(&parent, from, to, len);
        self.inherit_maps(&parent, from, to, len);
        Ok(())
    }
    fn builds_children(&self) -> bool {
        true
    }
    fn new_tid(&self) -> Option<i32> {
        let tid = crate::procs::new_id();
        self.p().threads.lock().push(tid);
        Some(tid)
    }
    fn thread_ended(&self, tid: i32) {
        self.p().threads.lock().retain(|&t| t != tid);
        self.p().names.lock().retain(|t| t.0 != tid);
    }
    fn thread_named(&self, tid: i32, name: &[u8]) {
        let mut n = [0u8; 16];
        let len = name.len().min(15);
        n[..len].copy_from_slice(&name[..len]);
        let p = self.p();
        let mut names = p.names.lock();
        names.retain(|t| t.0 != tid);
        names.push((tid, n));
    }
    fn spawn_process(
        &self,
        exit_signal: i32,
        wait_exec: bool,
        make: &mut dyn FnMut(
            i32,
        )
            -> SysResult<alloc::boxed::Box<dyn FnOnce() -> ProcessEnd + Send>>,
    ) -> SysResult<i32> {
        self.fork_child(exit_signal, wait_exec, make)
    }
    fn vfork(&self, child: &mut dyn FnMut() -> ProcessEnd, cgroup: Option<i32>) -> SysResult<i32> {
        if cgroup.is_some() {
            // No cgroup file system: no descriptor names a cgroup directory.
            return Err(Errno::EBADF);
        }
        self.vfork_child(child)
    }
    fn serve_peers(&self, server: alloc::sync::Weak<dyn PeerServer>) {
        *self.p().server.lock() = Some(server);
    }
    fn peer(
        &self,
        pid: i32,
        ask: PeerAsk,
        addr: u64,
        len: u64,
        data: &[u8],
    ) -> Option<SysResult<Vec<u8>>> {
        // One kernel, one page table: the other process's guest memory
        // and core are reachable from here. Its task is parked where it
        // gave the CPU away (tasks switch only at points they choose,
        // holding no kernel lock), and its core is shared between
        // threads anyway (a Linux pvm answers from a helper thread), so
        // its answer is taken here, on the reader's task.
        let target = crate::procs::live(pid)?;
        let server = target.server.lock().as_ref()?.upgrade()?;
        Some(server.answer(ask, addr, len, data))
    }
    fn execve(&self, req: ExecRequest) -> Errno {
        self.exec_request(req)
    }
    fn wait4(&self, pid: i32, options: i32) -> SysResult<Option<WaitInfo>> {
        let which = match pid {
            -1 => crate::procs::Which::Any,
            0 => crate::procs::Which::Group(0),
            p if p < 0 => crate::procs::Which::Group(-p),
            p => crate::procs::Which::Pid(p),
        };
        let want = crate::procs::Want {
            exited: true,
            stopped: options & 2 != 0,
            continued: options & 8 != 0,
            keep: false,
        };
        self.wait_child(which, want, options & 1 != 0)
    }
    fn waitid(&self, idtype: i32, id: i32, options: i32) -> SysResult<Option<WaitInfo>> {
        let which = match idtype {
            0 => crate::procs::Which::Any,
            1 if id > 0 => crate::procs::Which::Pid(id),
            2 if id >= 0 => crate::procs::Which::Group(id),
            // P_PIDFD: the process it names (`ECHILD` once reaped).
            3 => match self.pidfd_pid(id)? {
                0 => return Err(Errno::ECHILD),
                pid => crate::procs::Which::Pid(pid),
            },
            _ => return Err(Errno::EINVAL),
        };
        let want = crate::procs::Want {
            exited: options & 4 != 0,
            stopped: options & 2 != 0,
            continued: options & 8 != 0,
            keep: options & 0x0100_0000 != 0,
        };
        self.wait_child(which, want, options & 1 != 0)
    }
    fn kill(&self, pid: i32, sig: i32) -> SysResult<()> {
        crate::procs::kill(self.p().pid, pid, sig)
    }
    fn tgkill(&self, tgid: i32, tid: i32, sig: i32) -> SysResult<()> {
        if tgid <= 0 || tid <= 0 {
            return Err(Errno::EINVAL);
        }
        crate::procs::send(self.p().pid, tgid, sig, vm_core::sigstate::SI_TKILL, 0)
    }
    fn sigqueue(&self, pid: i32, _tid: Option<i32>, sig: i32, info: &[u8; 128]) -> SysResult<()> {
        let code = i32::from_le_bytes(info[8..12].try_into().unwrap_or_default());
        // Another process may not be sent a kernel's or kill's si_code
        // (Linux's rule).
        if code >= 0 || code == vm_core::sigstate::SI_TKILL {
            return Err(Errno::EPERM);
        }
        if pid <= 0 {
            return Err(Errno::EINVAL);
        }
        let value = u64::from_le_bytes(info[24..32].try_into().unwrap_or_default());
        crate::procs::send(self.p().pid, pid, sig, code, value)
    }
    fn setpgid(&self, pid: i32, pgid: i32) -> SysResult<()> {
        crate::procs::setpgid(self.p().pid, pid, pgid)
    }
    fn getpgid(&self, pid: i32) -> SysResult<i32> {
        crate::procs::group_of(self.p().pid, pid, false)
    }
    fn setsid(&self) -> SysResult<i32> {
        crate::procs::setsid(self.p().pid)
    }
    fn getsid(&self, pid: i32) -> SysResult<i32> {
        crate::procs::group_of(self.p().pid, pid, true)
    }
    fn pdeathsig(&self, set: Option<i32>) -> SysResult<i32> {
        let p = self.p();
        if let Some(sig) = set {
            p.pdeathsig
                .store(sig, core::sync::atomic::Ordering::Relaxed);
        }
        Ok(p.pdeathsig.load(core::sync::atomic::Ordering::Relaxed))
    }
    fn children_cpu_time(&self) -> SysResult<Timespec> {
        let ns = crate::procs::children_cpu(self.p().pid);
        Ok(Timespec {
            sec: (ns / 1_000_000_000) as i64,
            nsec: (ns % 1_000_000_000) as i64,
        })
    }
    fn rusage(&self, who: vm_core::host::RusageWho) -> SysResult<[i64; 18]> {
        use vm_core::host::RusageWho;
        let p = self.p();
        // All of a guest's time is user time here; the largest resident
        // size is the largest of its address spaces so far (Linux gives a
        // thread its process's); its minor faults are the pages backed on
        // first touch while it ran; no other counter is kept.
        let (ns, maxrss, minflt) = match who {
            RusageWho::Process | RusageWho::Thread => (
                p.cpu_ns(),
                p.maxrss
                    .load(core::sync::atomic::Ordering::Relaxed)
                    .max(p.memory().resident),
                p.minflt(),
            ),
            RusageWho::Children => {
                let (maxrss, minflt) = crate::procs::children_mem(p.pid);
                (crate::procs::children_cpu(p.pid), maxrss, minflt)
            }
        };
        let mut ru = [0i64; 18];
        ru[0] = (ns / 1_000_000_000) as i64;
        ru[1] = (ns % 1_000_000_000 / 1000) as i64;
        ru[8] = minflt as i64;
        ru[4] = (maxrss / 1024) as i64;
        Ok(ru)
    }
    fn publish_queued(&self, n: usize) {
        self.p()
            .queued
            .store(n as u64, core::sync::atomic::Ordering::Relaxed);
    }
    fn others_queued(&self) -> u64 {
        // RLIMIT_SIGPENDING counts the user's: every other process's
        // (the machine's one user), and the signals sent to this one that
        // its core has not taken yet.
        let me = self.p();
        crate::procs::user_queued(Some(me.pid)) + me.signals.lock().queued_count()
    }
    fn publish_sem_waits(&self, waits: &[(vm_core::process::SemWait, u32)]) {
        let p = self.p();
        let mut mine = p.sem_waits.lock();
        mine.clear();
        mine.extend_from_slice(waits);
    }
    fn others_sem_waiters(&self, wait: vm_core::process::SemWait) -> u64 {
        crate::procs::sem_waiters(wait, self.p().pid)
    }
    fn set_child_signal_flags(&self, nocldstop: bool, nocldwait: bool) {
        let p = self.p();
        p.nocldstop
            .store(nocldstop, core::sync::atomic::Ordering::Relaxed);
        p.nocldwait
            .store(nocldwait, core::sync::atomic::Ordering::Relaxed);
    }
    fn set_wakeup(&self, at: Option<u64>, _tid: i32) {
        // The process's threads take turns on its task: whichever of them
        // waits is the one to wake.
        self.p().wakeup.store(
            at.unwrap_or(u64::MAX),
            core::sync::atomic::Ordering::Release,
        );
    }

    fn log(&self, args: fmt::Arguments<'_>) {
        let mut port = crate::serial::COM2.lock();
        let _ = port.write_fmt(args);
        let _ = port.write_str("\n");
    }
}
