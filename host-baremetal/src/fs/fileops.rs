//! The other file calls on nodes: extended attributes (`user.`,
//! `trusted.`, `security.` namespaces; not on symlinks' `user.` names, as
//! Linux), ownership (`fchownat`: the guest is root, so any owner), `flock`
//! (between open file descriptions: a lock goes with the last descriptor of
//! its description), `fallocate` (mode 0: grow), `close_range`, and what
//! `tee` needs from a pipe (its bytes, not taken).

use super::*;
use vm_core::host::XattrTarget;

use vm_core::abi::{
    CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_UNSHARE, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN, XATTR_CREATE,
    XATTR_REPLACE, XATTR_SIZE_MAX,
};

/// Who holds a node's `flock`: open file descriptions by address.
#[derive(Debug, Default)]
pub(super) struct FlockState {
    exclusive: bool,
    holders: Vec<usize>,
}

impl FlockState {
    pub(super) fn release(&mut self, holder: usize) {
        self.holders.retain(|&h| h != holder);
    }
}

impl Fs {
    /// The node an xattr call works on.
    fn xattr_node(&self, t: XattrTarget<'_>) -> SysResult<Arc<Node>> {
        match t {
            XattrTarget::Path { path, follow } => self.resolve(AT_FDCWD, path, follow)?.existing(),
            XattrTarget::Fd(fd) => self.inode_of(fd, InodeCall::Xattr),
        }
    }

    fn xattr_name(n: &Inode, name: &[u8]) -> SysResult<()> {
        if name.is_empty() || name.len() > 255 {
            return Err(Errno::ERANGE);
        }
        let user = name.starts_with(b"user.");
        if !(user || name.starts_with(b"trusted.") || name.starts_with(b"security.")) {
            return Err(Errno::ENOTSUP);
        }
        if user && !n.kind.user_xattrs() {
            return Err(Errno::EPERM);
        }
        Ok(())
    }

    /// `getxattr` and its forms (empty `value`: the size only).
    pub fn getxattr(&self, t: XattrTarget<'_>, name: &[u8], value: &mut [u8]) -> SysResult<usize> {
        let node = self.xattr_node(t)?;
        let n = node.lock();
        Self::xattr_name(&n, name)?;
        let v = n.xattrs.get(name).ok_or(Errno::ENODATA)?;
        if value.is_empty() {
            return Ok(v.len());
        }
        let dst = value.get_mut(..v.len()).ok_or(Errno::ERANGE)?;
        dst.copy_from_slice(v);
        Ok(v.len())
    }

    /// `setxattr` and its forms.
    pub fn setxattr(
        &self,
        t: XattrTarget<'_>,
        name: &[u8],
        value: &[u8],
        flags: i32,
    ) -> SysResult<()> {
        if flags & !(XATTR_CREATE | XATTR_REPLACE) != 0 {
            return Err(Errno::EINVAL);
        }
        if value.len() > XATTR_SIZE_MAX {
            return Err(Errno::E2BIG);
        }
        let node = self.xattr_node(t)?;
        let mut n = node.lock();
        Self::xattr_name(&n, name)?;
        if !n.writable {
            return Err(Errno::EROFS);
        }
        let exists = n.xattrs.contains_key(name);
        if flags & XATTR_CREATE != 0 && exists {
            return Err(Errno::EEXIST);
        }
        if flags & XATTR_REPLACE != 0 && !exists {
            return Err(Errno::ENODATA);
        }
        n.xattrs.insert(name.to_vec(), value.to_vec());
        n.ctime = (self.clock)();
        Ok(())
    }

    /// `listxattr` and its forms (empty `list`: the size only).
    pub fn listxattr(&self, t: XattrTarget<'_>, list: &mut [u8]) -> SysResult<usize> {
        let node = self.xattr_node(t)?;
        let n = node.lock();
        let mut all = Vec::new();
        for k in n.xattrs.keys() {
            all.extend_from_slice(k);
            all.push(0);
        }
        if list.is_empty() {
            return Ok(all.len());
        }
        let dst = list.get_mut(..all.len()).ok_or(Errno::ERANGE)?;
        dst.copy_from_slice(&all);
        Ok(all.len())
    }

    /// `removexattr` and its forms.
    pub fn removexattr(&self, t: XattrTarget<'_>, name: &[u8]) -> SysResult<()> {
        let node = self.xattr_node(t)?;
        let mut n = node.lock();
        Self::xattr_name(&n, name)?;
        if !n.writable {
            return Err(Errno::EROFS);
        }
        n.xattrs.remove(name).map(|_| ()).ok_or(Errno::ENODATA)
    }

    /// `fchownat(dirfd, path, uid, gid, flags)` (`u32::MAX` keeps one).
    pub fn fchownat(
        &mut self,
        dirfd: i32,
        path: &[u8],
        uid: u32,
        gid: u32,
        flags: i32,
    ) -> SysResult<()> {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL);
        }
        let node = if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
            match self.attr_inode(dirfd)? {
                Some(n) => n,
                None => return Ok(()),
            }
        } else {
            self.resolve(dirfd, path, flags & AT_SYMLINK_NOFOLLOW == 0)?
                .existing()?
        };
        let mut n = node.lock();
        if uid == u32::MAX && gid == u32::MAX {
            return Ok(());
        }
        if !n.writable {
            return Err(Errno::EROFS);
        }
        if uid != u32::MAX {
            n.uid = uid;
        }
        if gid != u32::MAX {
            n.gid = gid;
        }
        n.ctime = (self.clock)();
        Ok(())
    }

    /// `flock(fd, op)` (`EAGAIN` is `EWOULDBLOCK`: a conflicting lock
    /// without `LOCK_NB` waits in the kernel's `host.rs`).
    pub fn flock(&mut self, fd: i32, op: i32) -> SysResult<()> {
        let file = self.file(fd)?;
        let f = file.lock();
        // The description's address, as its `Drop` names it.
        let me = &*f as *const OpenFile as usize;
        let Some(node) = f.obj.inode() else {
            return Err(InodeCall::Flock.without_inode());
        };
        let mut n = node.lock();
        let st = &mut n.flock;
        match op & !LOCK_NB {
            LOCK_UN => st.release(me),
            LOCK_SH | LOCK_EX => {
                let ex = op & !LOCK_NB == LOCK_EX;
                let others = st.holders.iter().any(|&h| h != me);
                if others && (ex || st.exclusive) {
                    return Err(Errno::EAGAIN);
                }
                st.release(me);
                st.holders.push(me);
                st.exclusive = ex;
            }
            _ => return Err(Errno::EINVAL),
        }
        Ok(())
    }

    /// `fallocate(fd, mode, offset, len)`: mode 0 makes the file at least
    /// `offset + len` long.
    pub fn fallocate(&mut self, fd: i32, mode: i32, offset: i64, len: i64) -> SysResult<()> {
        if offset < 0 || len <= 0 {
            return Err(Errno::EINVAL);
        }
        let file = self.file(fd)?;
        let f = file.lock();
        if !f.writable() {
            return Err(Errno::EBADF);
        }
        let Some(node) = f.obj.inode() else {
            return Err(InodeCall::Fallocate.without_inode());
        };
        if mode != 0 {
            return Err(Errno::ENOTSUP);
        }
        let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
        let end = usize::try_from(end).map_err(|_| Errno::EFBIG)?;
        let mut n = node.lock();
        if !n.writable {
            return Err(Errno::EROFS);
        }
        // Anything but a regular file: ENODEV (a directory cannot be
        // open for writing).
        let v = n.kind.contents_mut().map_err(|_| Errno::ENODEV)?;
        if end > v.len() {
            v.try_reserve(end - v.len()).map_err(|_| Errno::ENOSPC)?;
            v.resize(end, 0);
        }
        Ok(())
    }

    /// `close_range(first, last, flags)`.
    pub fn close_range(&mut self, first: u32, last: u32, flags: u32) -> SysResult<()> {
        if last < first || flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 {
            return Err(Errno::EINVAL);
        }
        let end = (last as usize).saturating_add(1).min(self.fds.len());
        let mut gone = Vec::new();
        for slot in self.fds.iter_mut().take(end).skip(first as usize) {
            if flags & CLOSE_RANGE_CLOEXEC != 0 {
                if let Some(fd) = slot {
                    fd.cloexec = true;
                }
            } else {
                gone.push(slot.take());
            }
        }
        for fd in gone {
            self.flush(fd);
        }
        Ok(())
    }

    /// Up to `len` bytes a pipe's read end holds, not taken (`tee`).
    pub fn pipe_peek(&self, fd: i32, len: usize) -> SysResult<Vec<u8>> {
        let obj = self.file(fd)?.lock().obj.clone();
        obj.peek(len)
    }
}
