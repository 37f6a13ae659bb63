//! Regular files open as [`Object`]s: the ramdisk's (copied on first
//! write), `/tmp`'s, memfds (with their seals) and `/proc`'s snapshots
//! ([`RegularFile`]); a symbolic link open with `O_PATH` ([`Symlink`]);
//! and `ftruncate` of a node ([`Fs::truncate_node`]). Positions, `lseek`,
//! `fstat` and the rest are the trait's defaults for an inode.

use super::object::*;
use super::*;

/// A regular file.
#[derive(Debug)]
pub(super) struct RegularFile(pub(super) Arc<Node>);

/// A symbolic link, open only as `O_PATH` (so neither read nor written).
#[derive(Debug)]
pub(super) struct Symlink(pub(super) Arc<Node>);

impl Object for RegularFile {
    fn read(&self, _fs: &Fs, pos: &mut u64, buf: &mut [u8]) -> SysResult<usize> {
        let n = self.0.lock();
        let Kind::File(d) = &n.kind else {
            return Err(Errno::EBADF);
        };
        let got = copy_out(d.bytes(), *pos, buf);
        *pos += got as u64;
        Ok(got)
    }
    fn write(&self, fs: &Fs, pos: &mut u64, append: bool, buf: &[u8]) -> SysResult<usize> {
        let mut n = self.0.lock();
        let now = (fs.clock)();
        let seals = n.seals.unwrap_or(0);
        let Kind::File(d) = &mut n.kind else {
            return Err(Errno::EBADF);
        };
        let v = d.owned();
        let at = if append { v.len() as u64 } else { *pos };
        let end = at.checked_add(buf.len() as u64).ok_or(Errno::EFBIG)?;
        let end = usize::try_from(end).map_err(|_| Errno::EFBIG)?;
        if seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0
            || (seals & F_SEAL_GROW != 0 && end > v.len())
        {
            return Err(Errno::EPERM);
        }
        let at = at as usize;
        if end > v.len() {
            v.try_reserve(end - v.len()).map_err(|_| Errno::ENOSPC)?;
            v.resize(end, 0);
        }
        v[at..end].copy_from_slice(buf);
        *pos = end as u64;
        n.mtime = now;
        n.ctime = now;
        Ok(buf.len())
    }
    fn mapping(&self) -> SysResult<FileRef> {
        Ok(FileRef(self.0.clone()))
    }
    fn inode(&self) -> Option<&Arc<Node>> {
        Some(&self.0)
    }
    fn kind(&self) -> &'static str {
        "file"
    }
}

impl Object for Symlink {
    fn inode(&self) -> Option<&Arc<Node>> {
        Some(&self.0)
    }
    fn kind(&self) -> &'static str {
        "symlink"
    }
}

impl Fs {
    /// `ftruncate` of `node` through a descriptor open for writing: a
    /// read-only node is `EROFS`, anything but a regular file `EINVAL`,
    /// and a memfd's seals may forbid it (`EPERM`).
    pub(super) fn truncate_node(&self, node: &Arc<Node>, len: i64) -> SysResult<()> {
        let mut n = node.lock();
        if !n.writable {
            return Err(Errno::EROFS);
        }
        let now = (self.clock)();
        let seals = n.seals.unwrap_or(0);
        match &mut n.kind {
            Kind::File(d) => {
                let len = usize::try_from(len).map_err(|_| Errno::EFBIG)?;
                let v = d.owned();
                if (seals & F_SEAL_SHRINK != 0 && len < v.len())
                    || (seals & F_SEAL_GROW != 0 && len > v.len())
                {
                    return Err(Errno::EPERM);
                }
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
}
