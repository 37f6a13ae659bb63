//! What a node of the tree is: one trait, [`NodeKind`], that each kind
//! of inode implements (directories: [`super::dir::DirNode`]; regular
//! files and symbolic links: [`super::regular::FileNode`],
//! [`super::regular::LinkNode`]; devices: [`super::dev::Device`]; socket
//! inodes: [`super::sockname::SockNode`]), as
//! [`super::object::Object`] is for open files. An [`Inode`] holds its
//! kind as a [`Kind`] next to what every node has (owner, mode, times,
//! links, xattrs), so the calls that change the tree (`mkdirat`,
//! `unlinkat`, `renameat2`, lookups) and the file calls on a node reach
//! each kind through the trait, and a new kind adds a type, not a case
//! to every call.
//!
//! The Linux-visible answers of a kind that lacks an operation are the
//! trait's defaults, here and nowhere else: `ENOTDIR` for the directory
//! operations (a lookup, an entry added or removed) on anything but a
//! directory; `EINVAL` for the contents of what is not a regular file
//! (`ftruncate` of a device; a directory says `EISDIR` instead); no
//! `user.*` xattrs but on regular files and directories (`EPERM`, in
//! `fileops`); size and `st_rdev` 0. The file type (`S_IF*`) is each
//! kind's own, and `d_type` follows from it as Linux's `IFTODT`.

use super::*;

/// A node's kind, as an [`Inode`] holds it.
pub(super) type Kind = alloc::boxed::Box<dyn NodeKind>;

/// A directory's entries by name.
pub(super) type Entries = BTreeMap<Vec<u8>, Arc<Node>>;

/// One kind of node of the tree.
pub(super) trait NodeKind: core::fmt::Debug + Send + Sync {
    /// Its file type, `S_IF*`.
    fn type_bits(&self) -> u32;
    /// `st_size`.
    fn size(&self) -> u64 {
        0
    }
    /// `st_rdev`.
    fn rdev(&self) -> u64 {
        0
    }
    /// May it be opened for writing on a read-only file system (a
    /// device may)?
    fn writable_anywhere(&self) -> bool {
        false
    }
    /// May it hold `user.*` extended attributes (Linux: regular files
    /// and directories only)?
    fn user_xattrs(&self) -> bool {
        false
    }
    /// The object an `open` of `node` (a node of this kind) gets.
    fn open(&self, node: Arc<Node>) -> Arc<dyn Object>;
    /// May it be opened other than with `O_PATH` (a socket inode may
    /// not: `ENXIO`)?
    fn openable(&self) -> SysResult<()> {
        Ok(())
    }
    /// The live socket bound to a socket inode (`connect` to its path).
    fn socket(&self) -> Option<Arc<super::socket::Sock>> {
        None
    }

    // ---- directories ----

    /// The entries of a directory.
    fn entries(&self) -> SysResult<&Entries> {
        Err(Errno::ENOTDIR)
    }
    fn entries_mut(&mut self) -> SysResult<&mut Entries> {
        Err(Errno::ENOTDIR)
    }
    /// The directory holding a directory (`..`; `None` at the root or
    /// for a directory of `/proc`, which is made on lookup).
    fn parent(&self) -> Option<Arc<Node>> {
        None
    }
    /// Move a directory under `parent`.
    fn set_parent(&mut self, _parent: Weak<Node>) -> SysResult<()> {
        Err(Errno::ENOTDIR)
    }

    // ---- regular files ----

    /// The bytes of a regular file.
    fn contents(&self) -> SysResult<&[u8]> {
        Err(Errno::EINVAL)
    }
    /// The bytes of a regular file, to change (a ramdisk file's are
    /// copied on the first change).
    fn contents_mut(&mut self) -> SysResult<&mut Vec<u8>> {
        Err(Errno::EINVAL)
    }

    // ---- symbolic links ----

    /// A symbolic link's text.
    fn link_text(&self) -> Option<&[u8]> {
        None
    }
}
