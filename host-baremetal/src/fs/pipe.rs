//! Pipes: a bounded byte queue (64 KiB, as Linux) and its two kinds of
//! end, [`PipeRead`] and [`PipeWrite`], each an [`Object`] that counts
//! itself in the queue's readers or writers while it lives (for
//! end-of-file, `EPIPE` and `POLLHUP`); `FIONREAD` on either end.

use super::object::*;
use super::*;
use vm_core::abi::O_RDONLY;

#[derive(Debug, Default)]
pub(super) struct Pipe {
    pub(super) buf: VecDeque<u8>,
    pub(super) readers: usize,
    pub(super) writers: usize,
}

type Shared = Arc<spin::Mutex<Pipe>>;

/// The stat of a pipe (and of the console, which looks like the pipes a
/// test harness connects).
pub(super) fn pipe_stat(ino: u64) -> FileStat {
    FileStat {
        dev: 3,
        ino,
        mode: S_IFIFO | 0o600,
        nlink: 1,
        blksize: 4096,
        ..FileStat::default()
    }
}

fn pipe_ino(p: &Shared) -> u64 {
    Arc::as_ptr(p) as *const u8 as usize as u64
}

/// The read end of a pipe.
#[derive(Debug)]
pub(super) struct PipeRead(Shared);

/// The write end of a pipe.
#[derive(Debug)]
pub(super) struct PipeWrite(Shared);

impl PipeRead {
    fn open(p: &Shared) -> Arc<dyn Object> {
        p.lock().readers += 1;
        Arc::new(PipeRead(p.clone()))
    }
}

impl PipeWrite {
    fn open(p: &Shared) -> Arc<dyn Object> {
        p.lock().writers += 1;
        Arc::new(PipeWrite(p.clone()))
    }
}

impl Drop for PipeRead {
    fn drop(&mut self) {
        self.0.lock().readers -= 1;
    }
}

impl Drop for PipeWrite {
    fn drop(&mut self) {
        self.0.lock().writers -= 1;
    }
}

/// What both ends answer alike, from the queue they share: its stat,
/// `FIONREAD` (the bytes it holds), its `/proc/self/fd` name, and a
/// reopen through that link, which opens the end the access mode names,
/// as Linux's FIFO open of the pipe's inode does.
macro_rules! pipe_end_common {
    () => {
        fn stat(&self, _fs: &Fs) -> FileStat {
            pipe_stat(pipe_ino(&self.0))
        }
        fn bytes_ready(&self) -> SysResult<usize> {
            Ok(self.0.lock().buf.len())
        }
        fn reopen(&self, acc: i32) -> SysResult<Arc<dyn Object>> {
            match acc {
                O_RDONLY => Ok(PipeRead::open(&self.0)),
                O_WRONLY => Ok(PipeWrite::open(&self.0)),
                _ => Err(Errno::ENXIO),
            }
        }
        fn link_name(&self, _path: &[u8]) -> Vec<u8> {
            anon_name("pipe", Arc::as_ptr(&self.0) as *const u8)
        }
        fn kind(&self) -> &'static str {
            "pipe"
        }
    };
}

impl Object for PipeRead {
    pipe_end_common!();
    fn read(&self, _fs: &Fs, _pos: &mut u64, buf: &mut [u8]) -> SysResult<usize> {
        let mut p = self.0.lock();
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
        Ok(n)
    }
    /// Readable with data or without writers (`POLLHUP`).
    fn poll(&self, _fs: &Fs, _depth: u32) -> i16 {
        let pipe = self.0.lock();
        let mut r = 0;
        if !pipe.buf.is_empty() {
            r |= POLLIN;
        }
        if pipe.writers == 0 {
            r |= POLLHUP;
        }
        r
    }
    fn peek(&self, len: usize) -> SysResult<Vec<u8>> {
        Ok(self.0.lock().buf.iter().take(len).copied().collect())
    }
}

impl Object for PipeWrite {
    pipe_end_common!();
    fn write(&self, _fs: &Fs, _pos: &mut u64, _append: bool, buf: &[u8]) -> SysResult<usize> {
        let mut p = self.0.lock();
        if p.readers == 0 {
            return Err(Errno::EPIPE);
        }
        let room = PIPE_CAPACITY - p.buf.len();
        if room == 0 && !buf.is_empty() {
            return Err(Errno::EAGAIN);
        }
        let n = buf.len().min(room);
        p.buf.extend(&buf[..n]);
        Ok(n)
    }
    /// Writable with room; `POLLERR` without readers.
    fn poll(&self, _fs: &Fs, _depth: u32) -> i16 {
        let pipe = self.0.lock();
        if pipe.readers == 0 {
            POLLERR
        } else if pipe.buf.len() < PIPE_CAPACITY {
            POLLOUT
        } else {
            0
        }
    }
}

impl Fs {
    pub fn pipe2(&mut self, flags: i32) -> SysResult<[i32; 2]> {
        if flags & !(O_CLOEXEC | O_NONBLOCK | 0o40000/* O_DIRECT */) != 0 {
            return Err(Errno::EINVAL);
        }
        let pipe: Shared = Arc::default();
        let cloexec = flags & O_CLOEXEC != 0;
        let status = flags & O_NONBLOCK;
        let r = self.install(PipeRead::open(&pipe), status, Vec::new(), cloexec)?;
        match self.install(
            PipeWrite::open(&pipe),
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

    /// `ioctl(fd, FIONREAD)`: the bytes a pipe holds (either end), a
    /// socket's next read; `ENOTTY` for anything else.
    pub fn pipe_bytes(&self, fd: i32) -> SysResult<i32> {
        let obj = self.file(fd)?.lock().obj.clone();
        obj.bytes_ready().map(|n| n.min(i32::MAX as usize) as i32)
    }
}
