//! Process descriptors (`pidfd_open`): a descriptor naming one process of
//! the kernel's table, readable (`POLLIN`) once that process has ended
//! (a zombie, or reaped), as Linux's. The core's `pidfd_send_signal`
//! asks which process it names ([`Fs::pidfd_pid`]) and signals it as
//! `kill` does; `waitid(P_PIDFD)` waits for it.

use super::object::*;
use super::*;

/// The descriptor's object: the pid it names.
#[derive(Debug)]
pub(super) struct PidFd {
    pid: i32,
}

impl Object for PidFd {
    fn kind(&self) -> &'static str {
        "pidfd"
    }
    fn poll(&self, fs: &Fs, _depth: u32) -> i16 {
        match fs.process_state(self.pid) {
            Some(b'Z') | None => POLLIN,
            Some(_) => 0,
        }
    }
}

impl Fs {
    /// `pidfd_open(pid, flags)`: `ESRCH` for no such process (nor
    /// zombie); the descriptor is close-on-exec, as Linux makes it.
    pub fn pidfd_open(&mut self, pid: i32, flags: i32) -> SysResult<i32> {
        if self.process_state(pid).is_none() {
            return Err(Errno::ESRCH);
        }
        self.install_object(Arc::new(PidFd { pid }), O_CLOEXEC | (flags & O_NONBLOCK))
    }

    /// The pid pidfd `fd` names (0 once the process is reaped); `EBADF`
    /// for a descriptor that is not a pidfd.
    pub fn pidfd_pid(&self, fd: i32) -> SysResult<i32> {
        let o = self.object::<PidFd>(fd, Errno::EBADF)?;
        let pid = o.as_any().downcast_ref::<PidFd>().map_or(0, |p| p.pid);
        Ok(if self.process_state(pid).is_some() {
            pid
        } else {
            0
        })
    }
}
