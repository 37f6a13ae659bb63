//! The descriptor table: descriptors ([`Fd`]: close-on-exec and an open
//! file description), open file descriptions ([`OpenFile`], shared by
//! `dup`ed descriptors and across `fork`: the object, offset, status
//! flags), descriptor allocation under `RLIMIT_NOFILE`, `close`, `dup`,
//! `dup3`, `fcntl`. What a description refers to is an
//! `Arc<dyn Object>` ([`super::object`]).

use super::*;

/// An open file description (shared by `dup`ed descriptors).
#[derive(Debug)]
pub(super) struct OpenFile {
    /// What it is open on.
    pub(super) obj: Arc<dyn Object>,
    /// Access mode and status flags (`O_APPEND`, `O_NONBLOCK`, `O_PATH`).
    pub(super) flags: i32,
    pub(super) offset: u64,
    /// The absolute path it was opened by: for `*at` calls relative to a
    /// directory, and what `/proc/self/fd/N` names.
    pub(super) dir_path: Vec<u8>,
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        // Its flock goes with it (a pipe end counts itself out as its
        // object drops).
        let me = self as *const OpenFile as usize;
        if let Some(n) = self.obj.inode() {
            n.lock().flock.release(me);
        }
    }
}

impl OpenFile {
    pub(super) fn readable(&self) -> bool {
        self.flags & O_PATH == 0 && self.flags & O_ACCMODE != O_WRONLY
    }
    pub(super) fn writable(&self) -> bool {
        self.flags & O_PATH == 0 && matches!(self.flags & O_ACCMODE, O_WRONLY | O_RDWR)
    }
}

#[derive(Clone, Debug)]
pub(super) struct Fd {
    pub(super) file: Arc<spin::Mutex<OpenFile>>,
    pub(super) cloexec: bool,
}

impl Fs {
    pub(super) fn install(
        &mut self,
        obj: Arc<dyn Object>,
        flags: i32,
        dir_path: Vec<u8>,
        cloexec: bool,
    ) -> SysResult<i32> {
        let file = Arc::new(spin::Mutex::new(OpenFile {
            obj,
            flags,
            offset: 0,
            dir_path,
        }));
        self.install_fd(Fd { file, cloexec }, 0)
    }

    pub(super) fn install_fd(&mut self, fd: Fd, min: usize) -> SysResult<i32> {
        let slot = (min..self.fd_limit)
            .find(|&i| self.fds.get(i).is_none_or(|f| f.is_none()))
            .ok_or(Errno::EMFILE)?;
        if slot >= self.fds.len() {
            self.fds.resize(slot + 1, None);
        }
        self.fds[slot] = Some(fd);
        Ok(slot as i32)
    }

    pub(super) fn fd(&self, fd: i32) -> SysResult<&Fd> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.fds.get(i))
            .and_then(|f| f.as_ref())
            .ok_or(Errno::EBADF)
    }

    pub(super) fn file(&self, fd: i32) -> SysResult<Arc<spin::Mutex<OpenFile>>> {
        Ok(self.fd(fd)?.file.clone())
    }

    /// A forked child's view: the same tree, a copy of this descriptor
    /// table whose descriptors share their open file descriptions (offsets,
    /// status flags, pipe ends) with this one's, as `fork` gives; the same
    /// working directory, umask and descriptor limit.
    pub fn fork(&self) -> Fs {
        // The child's table holds what is open (Linux sizes it for the
        // highest descriptor inherited, not for the parent's old ones).
        let open = self
            .fds
            .iter()
            .rposition(|f| f.is_some())
            .map_or(0, |i| i + 1);
        Fs {
            root: self.root.clone(),
            fds: self.fds[..open].to_vec(),
            fd_limit: self.fd_limit,
            cwd: self.cwd.clone(),
            umask: self.umask,
            next_ino: self.next_ino.clone(),
            console: self.console,
            clock: self.clock,
            monotonic: self.monotonic,
            entropy: self.entropy,
            pid: self.pid,
            procs: self.procs,
            names: self.names.clone(),
        }
    }

    /// `execve`: close the descriptors marked close-on-exec.
    pub fn close_on_exec(&mut self) {
        for slot in &mut self.fds {
            if slot.as_ref().is_some_and(|f| f.cloexec) {
                let gone = slot.take();
                if let Some(fd) = gone {
                    let obj = fd.file.lock().obj.clone();
                    obj.flush(self.pid);
                }
            }
        }
    }

    /// The end of the process: every descriptor closes (pipe ends go, so
    /// readers see end-of-file).
    pub fn close_all(&mut self) {
        for fd in core::mem::take(&mut self.fds) {
            self.flush(fd);
        }
    }

    /// `min(n, size)`, `size` being the entries Linux's table would have:
    /// `fds` only grows while the process lives (a close leaves its slot),
    /// as Linux's table does, so its length is the highest descriptor the
    /// table has had to hold (see [`HostOs::fd_table_end`]).
    ///
    /// [`HostOs::fd_table_end`]: vm_core::host::HostOs::fd_table_end
    pub fn table_end(&self, n: usize) -> usize {
        let size = self
            .fds
            .len()
            .checked_sub(1)
            .map_or(64, vm_core::host::linux_fd_table_size);
        n.min(size)
    }

    pub fn close(&mut self, fd: i32) -> SysResult<()> {
        self.fd(fd)?;
        let gone = self.fds[fd as usize].take();
        self.flush(gone);
        Ok(())
    }

    /// Descriptor `fd` (taken out of the table) is closed by this process:
    /// its object hears of it ([`Object::flush`]).
    pub(super) fn flush(&self, fd: Option<Fd>) {
        if let Some(fd) = fd {
            let obj = fd.file.lock().obj.clone();
            obj.flush(self.pid);
        }
    }

    /// `Ok` when `fd` is open, else `EBADF`.
    pub fn check_fd(&self, fd: i32) -> SysResult<()> {
        self.fd(fd).map(|_| ())
    }

    /// Does a read or write on `fd` that would block fail with `EAGAIN`
    /// (`O_NONBLOCK`) rather than wait?
    pub fn nonblocking(&self, fd: i32) -> SysResult<bool> {
        Ok(self.file(fd)?.lock().flags & O_NONBLOCK != 0)
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
            F_ADD_SEALS | F_GET_SEALS => {
                let f = entry.file.lock();
                let Some(node) = f.obj.inode() else {
                    return Err(InodeCall::Seals.without_inode());
                };
                let mut n = node.lock();
                let seals = n.seals.as_mut().ok_or(Errno::EINVAL)?;
                if cmd == F_GET_SEALS {
                    return Ok(i64::from(*seals));
                }
                if *seals & F_SEAL_SEAL != 0 {
                    return Err(Errno::EPERM);
                }
                if !f.writable() {
                    return Err(Errno::EPERM);
                }
                // F_SEAL_SEAL, SHRINK, GROW, WRITE, FUTURE_WRITE.
                if arg & !0x1f != 0 {
                    return Err(Errno::EINVAL);
                }
                *seals |= arg as u32;
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
        let gone = self.fds[slot].replace(Fd {
            file: entry.file,
            cloexec: flags & O_CLOEXEC != 0,
        });
        self.flush(gone);
        Ok(newfd)
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
}
