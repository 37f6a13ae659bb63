//! Calls that change the tree: `mkdirat`, `unlinkat`, `renameat2`,
//! `symlinkat`, `linkat`, modes and times.

use super::*;

impl Fs {
    pub fn mkdirat(&mut self, dirfd: i32, path: &[u8], mode: u32) -> SysResult<()> {
        let r = self.for_create(dirfd, path)?;
        let now = (self.clock)();
        let node = self.new_node(
            mode & !self.umask,
            true,
            now,
            dir_node(Arc::downgrade(&r.parent)),
        );
        self.insert_child(&r.parent, &r.name, node)
            .map_err(|_| Errno::ENOTDIR)?;
        r.parent.lock().nlink += 1;
        self.touch_dir(&r.parent);
        Ok(())
    }

    pub fn unlinkat(&mut self, dirfd: i32, path: &[u8], flags: i32) -> SysResult<()> {
        let r = self.resolve(dirfd, path, false)?;
        let node = r.node.clone().ok_or(Errno::ENOENT)?;
        if Arc::ptr_eq(&node, &self.root) || r.name.is_empty() {
            return Err(Errno::EBUSY);
        }
        let (is_dir, empty) = {
            let n = node.lock();
            match n.kind.entries() {
                Ok(entries) => (true, entries.is_empty()),
                Err(_) => (false, true),
            }
        };
        if flags & AT_REMOVEDIR != 0 {
            if !is_dir {
                return Err(Errno::ENOTDIR);
            }
            if r.name == b"." {
                return Err(Errno::EINVAL);
            }
            if !empty {
                return Err(Errno::ENOTEMPTY);
            }
        } else if is_dir {
            return Err(Errno::EISDIR);
        } else if r.trailing_slash {
            return Err(Errno::ENOTDIR);
        }
        if !r.parent.lock().writable {
            return Err(Errno::EROFS);
        }
        if let Ok(entries) = r.parent.lock().kind.entries_mut() {
            entries.remove(&r.name);
        }
        if is_dir {
            r.parent.lock().nlink -= 1;
        } else {
            let mut n = node.lock();
            n.nlink = n.nlink.saturating_sub(1);
            n.ctime = (self.clock)();
        }
        self.touch_dir(&r.parent);
        Ok(())
    }

    pub fn renameat2(
        &mut self,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: u32,
    ) -> SysResult<()> {
        if flags & !RENAME_NOREPLACE != 0 {
            return Err(Errno::EINVAL);
        }
        let from = self.resolve(olddirfd, oldpath, false)?;
        let node = from.node.clone().ok_or(Errno::ENOENT)?;
        let to = self.resolve(newdirfd, newpath, false)?;
        if from.name.is_empty() || to.name.is_empty() {
            return Err(Errno::EBUSY);
        }
        if !from.parent.lock().writable || !to.parent.lock().writable {
            return Err(Errno::EROFS);
        }
        let is_dir = node.lock().is_dir();
        if (from.trailing_slash || to.trailing_slash) && !is_dir {
            return Err(Errno::ENOTDIR);
        }
        if let Some(target) = &to.node {
            if Arc::ptr_eq(target, &node) {
                return Ok(());
            }
            if flags & RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            let t = target.lock();
            match (t.kind.entries(), is_dir) {
                (Ok(entries), true) if !entries.is_empty() => {
                    return Err(Errno::ENOTEMPTY);
                }
                (Ok(_), false) => return Err(Errno::EISDIR),
                (_, true) if !t.is_dir() => return Err(Errno::ENOTDIR),
                _ => {}
            }
        }
        if is_dir {
            // A directory cannot move below itself.
            let old = from.path();
            let new = to.path();
            if new.starts_with(&old) && new.get(old.len()) == Some(&b'/') {
                return Err(Errno::EINVAL);
            }
        }
        if let Ok(entries) = from.parent.lock().kind.entries_mut() {
            entries.remove(&from.name);
        }
        let replaced = match to.parent.lock().kind.entries_mut() {
            Ok(entries) => entries.insert(to.name.clone(), node.clone()),
            Err(_) => None,
        };
        if is_dir {
            // A directory's kind always takes a parent.
            let _ = node.lock().kind.set_parent(Arc::downgrade(&to.parent));
            if !Arc::ptr_eq(&from.parent, &to.parent) {
                from.parent.lock().nlink -= 1;
                if replaced.is_none() {
                    to.parent.lock().nlink += 1;
                }
            } else if replaced.is_some() {
                to.parent.lock().nlink -= 1;
            }
        }
        if let Some(old) = replaced {
            let mut o = old.lock();
            o.nlink = o.nlink.saturating_sub(1);
        }
        node.lock().ctime = (self.clock)();
        self.touch_dir(&from.parent);
        self.touch_dir(&to.parent);
        Ok(())
    }

    pub fn symlinkat(&mut self, target: &[u8], newdirfd: i32, linkpath: &[u8]) -> SysResult<()> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        let r = self.for_create(newdirfd, linkpath)?;
        let now = (self.clock)();
        let node = self.new_node(0o777, true, now, link_node(target.to_vec()));
        self.insert_child(&r.parent, &r.name, node)
            .map_err(|_| Errno::ENOTDIR)?;
        self.touch_dir(&r.parent);
        Ok(())
    }

    pub fn linkat(
        &mut self,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: i32,
    ) -> SysResult<()> {
        let from = if oldpath.is_empty() && flags & AT_EMPTY_PATH != 0 {
            self.inode_of(olddirfd, InodeCall::Link)?
        } else {
            self.resolve(olddirfd, oldpath, flags & AT_SYMLINK_FOLLOW != 0)?
                .existing()?
        };
        if from.lock().is_dir() {
            return Err(Errno::EPERM);
        }
        let to = self.for_create(newdirfd, newpath)?;
        if !from.lock().writable {
            return Err(Errno::EXDEV);
        }
        self.insert_child(&to.parent, &to.name, from.clone())
            .map_err(|_| Errno::ENOTDIR)?;
        let now = (self.clock)();
        let mut n = from.lock();
        n.nlink += 1;
        n.ctime = now;
        drop(n);
        self.touch_dir(&to.parent);
        Ok(())
    }

    pub(super) fn set_mode(&self, node: &Arc<Node>, mode: u32) -> SysResult<()> {
        let mut n = node.lock();
        if !n.writable {
            return Err(Errno::EROFS);
        }
        n.perm = mode & 0o7777;
        n.ctime = (self.clock)();
        Ok(())
    }

    pub fn fchmodat(&mut self, dirfd: i32, path: &[u8], mode: u32) -> SysResult<()> {
        let node = self.resolve(dirfd, path, true)?.existing()?;
        self.set_mode(&node, mode)
    }

    pub fn fchmod(&mut self, fd: i32, mode: u32) -> SysResult<()> {
        let Some(node) = self.attr_inode(fd)? else {
            return Ok(());
        };
        self.set_mode(&node, mode)
    }

    pub fn utimensat(
        &mut self,
        dirfd: i32,
        path: &[u8],
        times: Option<[Timespec; 2]>,
        flags: i32,
    ) -> SysResult<()> {
        let node = if path.is_empty() {
            match self.attr_inode(dirfd)? {
                Some(n) => n,
                None => return Ok(()),
            }
        } else {
            self.resolve(dirfd, path, flags & AT_SYMLINK_NOFOLLOW == 0)?
                .existing()?
        };
        let now = (self.clock)();
        let mut n = node.lock();
        if !n.writable {
            return Err(Errno::EROFS);
        }
        let [a, m] = times.unwrap_or(
            [Timespec {
                sec: 0,
                nsec: UTIME_NOW,
            }; 2],
        );
        let inode = &mut *n;
        for (t, slot) in [(a, &mut inode.atime), (m, &mut inode.mtime)] {
            match t.nsec {
                UTIME_OMIT => {}
                UTIME_NOW => *slot = now,
                ns if (0..1_000_000_000).contains(&ns) => *slot = t,
                _ => return Err(Errno::EINVAL),
            }
        }
        n.ctime = now;
        Ok(())
    }
}
