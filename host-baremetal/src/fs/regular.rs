//! Regular file and symbolic link nodes ([`FileNode`], [`LinkNode`]),
//! and regular files open as [`Object`]s: the ramdisk's (copied on first
//! write), `/tmp`'s, memfds (with their seals) and `/proc`'s snapshots
//! ([`RegularFile`]); a symbolic link open with `O_PATH` ([`Symlink`]);
//! and `ftruncate` of a node ([`Fs::truncate_node`]). Positions, `lseek`,
//! `fstat` and the rest are the trait's defaults for an inode.

use super::object::*;
use super::*;

/// A regular file node: its bytes.
#[derive(Debug)]
pub(super) struct FileNode(Data);

/// A symbolic link node: its text.
#[derive(Debug)]
pub(super) struct LinkNode(Vec<u8>);

/// A new regular file holding `data`.
pub(super) fn file_node(data: Data) -> Kind {
    alloc::boxed::Box::new(FileNode(data))
}

/// A new symbolic link to `text`.
pub(super) fn link_node(text: Vec<u8>) -> Kind {
    alloc::boxed::Box::new(LinkNode(text))
}

impl NodeKind for FileNode {
    fn type_bits(&self) -> u32 {
        S_IFREG
    }
    fn size(&self) -> u64 {
        self.0.bytes().len() as u64
    }
    fn user_xattrs(&self) -> bool {
        true
    }
    fn open(&self, node: Arc<Node>) -> Arc<dyn Object> {
        Arc::new(RegularFile(node))
    }
    fn contents(&self) -> SysResult<&[u8]> {
        Ok(self.0.bytes())
    }
    fn contents_mut(&mut self) -> SysResult<&mut Vec<u8>> {
        Ok(self.0.owned())
    }
}

impl NodeKind for LinkNode {
    fn type_bits(&self) -> u32 {
        S_IFLNK
    }
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
    /// Only as `O_PATH` (anything else is refused before).
    fn open(&self, node: Arc<Node>) -> Arc<dyn Object> {
        Arc::new(Symlink(node))
    }
    fn link_text(&self) -> Option<&[u8]> {
        Some(&self.0)
    }
}

/// A regular file.
#[derive(Debug)]
pub(super) struct RegularFile(pub(super) Arc<Node>);

/// A symbolic link, open only as `O_PATH` (so neither read nor written).
#[derive(Debug)]
pub(super) struct Symlink(pub(super) Arc<Node>);

impl Object for RegularFile {
    fn read(&self, _fs: &Fs, pos: &mut u64, buf: &mut [u8]) -> SysResult<usize> {
        let n = self.0.lock();
        let got = copy_out(n.kind.contents()?, *pos, buf);
        *pos += got as u64;
        Ok(got)
    }
    fn write(&self, fs: &Fs, pos: &mut u64, append: bool, buf: &[u8]) -> SysResult<usize> {
        let mut n = self.0.lock();
        let now = (fs.clock)();
        let seals = n.seals.unwrap_or(0);
        let v = n.kind.contents_mut()?;
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
        let v = n.kind.contents_mut()?;
        let len = usize::try_from(len).map_err(|_| Errno::EFBIG)?;
        if (seals & F_SEAL_SHRINK != 0 && len < v.len())
            || (seals & F_SEAL_GROW != 0 && len > v.len())
        {
            return Err(Errno::EPERM);
        }
        if len > v.len() {
            v.try_reserve(len - v.len()).map_err(|_| Errno::ENOSPC)?;
        }
        v.resize(len, 0);
        n.mtime = now;
        n.ctime = now;
        Ok(())
    }
}
