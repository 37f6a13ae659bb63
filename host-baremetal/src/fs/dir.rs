//! Directory nodes ([`DirNode`]: their entries and their parent) and
//! directories open as [`Object`]s ([`Directory`]: the tree's own,
//! listing their entries; `/proc`'s listing what procfs makes, see
//! [`super::procfs::ProcDir`]), and `getdents64`, which writes any
//! directory's listing as `linux_dirent64` records from the description's
//! position (the index of the next entry).

use super::object::*;
use super::*;

/// `d_type` of a directory.
pub(super) const DT_DIR: u8 = 4;

/// A directory node: its entries, and the directory holding it.
#[derive(Debug)]
pub(super) struct DirNode {
    entries: Entries,
    parent: Weak<Node>,
}

/// A new, empty directory under `parent`.
pub(super) fn dir_node(parent: Weak<Node>) -> Kind {
    alloc::boxed::Box::new(DirNode {
        entries: BTreeMap::new(),
        parent,
    })
}

impl NodeKind for DirNode {
    fn type_bits(&self) -> u32 {
        S_IFDIR
    }
    fn size(&self) -> u64 {
        4096.max(self.entries.len() as u64 * 32)
    }
    fn user_xattrs(&self) -> bool {
        true
    }
    fn open(&self, node: Arc<Node>) -> Arc<dyn Object> {
        Arc::new(Directory(node))
    }
    fn entries(&self) -> SysResult<&Entries> {
        Ok(&self.entries)
    }
    fn entries_mut(&mut self) -> SysResult<&mut Entries> {
        Ok(&mut self.entries)
    }
    fn parent(&self) -> Option<Arc<Node>> {
        self.parent.upgrade()
    }
    fn set_parent(&mut self, parent: Weak<Node>) -> SysResult<()> {
        self.parent = parent;
        Ok(())
    }
    /// Reading a directory's bytes (the kernel's own start-up files).
    fn contents(&self) -> SysResult<&[u8]> {
        Err(Errno::EISDIR)
    }
}

/// A directory of the tree.
#[derive(Debug)]
pub(super) struct Directory(pub(super) Arc<Node>);

impl Directory {
    /// `.` and `..` of the directory `n`.
    pub(super) fn dots(n: &Inode) -> [DirEntry; 2] {
        let parent = n.kind.parent().map_or(n.ino, |p| p.lock().ino);
        [
            (b".".to_vec(), n.ino, DT_DIR),
            (b"..".to_vec(), parent, DT_DIR),
        ]
    }
}

impl Object for Directory {
    fn read(&self, _fs: &Fs, _pos: &mut u64, _buf: &mut [u8]) -> SysResult<usize> {
        Err(Errno::EISDIR)
    }
    fn write(&self, _fs: &Fs, _pos: &mut u64, _append: bool, _buf: &[u8]) -> SysResult<usize> {
        Err(Errno::EISDIR)
    }
    /// Only rewinding a directory stream is meaningful.
    fn seek(&self, pos: &mut u64, offset: i64, whence: i32) -> SysResult<i64> {
        if whence == 0 && offset == 0 {
            *pos = 0;
            return Ok(0);
        }
        Err(Errno::EINVAL)
    }
    fn list(&self, _fs: &Fs) -> SysResult<Vec<DirEntry>> {
        let n = self.0.lock();
        let entries = n.kind.entries()?;
        let mut out = Vec::with_capacity(entries.len() + 2);
        out.extend(Self::dots(&n));
        for (name, child) in entries {
            let c = child.lock();
            out.push((name.clone(), c.ino, c.dtype()));
        }
        Ok(out)
    }
    fn inode(&self) -> Option<&Arc<Node>> {
        Some(&self.0)
    }
    fn kind(&self) -> &'static str {
        "directory"
    }
}

impl Fs {
    pub fn getdents64(&mut self, fd: i32, buf: &mut [u8]) -> SysResult<usize> {
        let file = self.file(fd)?;
        // The names are made before the descriptor is locked (listing a
        // /proc directory of descriptors may look at this one).
        let obj = file.lock().obj.clone();
        let listed = obj.list(self)?;
        let mut f = file.lock();
        let mut used = 0;
        let mut index = f.offset as usize;
        while let Some((name, ino, dtype)) = listed.get(index) {
            let reclen = (19 + name.len() + 1).next_multiple_of(8);
            if used + reclen > buf.len() {
                if used == 0 {
                    return Err(Errno::EINVAL);
                }
                break;
            }
            let rec = &mut buf[used..used + reclen];
            rec.fill(0);
            rec[0..8].copy_from_slice(&ino.to_le_bytes());
            rec[8..16].copy_from_slice(&(index as i64 + 1).to_le_bytes());
            rec[16..18].copy_from_slice(&(reclen as u16).to_le_bytes());
            rec[18] = *dtype;
            rec[19..19 + name.len()].copy_from_slice(name);
            used += reclen;
            index += 1;
        }
        f.offset = index as u64;
        Ok(used)
    }
}
