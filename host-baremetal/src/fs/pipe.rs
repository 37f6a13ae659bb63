//! Pipes: a bounded byte queue (64 KiB, as Linux) with reader and
//! writer counts for end-of-file, `EPIPE` and `POLLHUP`; `FIONREAD`.

use super::*;

#[derive(Debug, Default)]
pub(super) struct Pipe {
    pub(super) buf: VecDeque<u8>,
    pub(super) readers: usize,
    pub(super) writers: usize,
}

impl Fs {
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

    /// `ioctl(fd, FIONREAD)`: the bytes a pipe holds (either end);
    /// ENOTTY for anything else.
    pub fn pipe_bytes(&self, fd: i32) -> SysResult<i32> {
        let file = self.file(fd)?;
        let f = file.lock();
        match &f.open {
            Open::PipeRead(p) | Open::PipeWrite(p) => Ok(p.lock().buf.len() as i32),
            Open::Object(o) => o
                .bytes_ready()
                .map(|n| n.min(i32::MAX as usize) as i32)
                .ok_or(Errno::ENOTTY),
            _ => Err(Errno::ENOTTY),
        }
    }
}
