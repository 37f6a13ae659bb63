//! Path resolution: `dirfd` and the working directory, `.`/`..`, symlink
//! walking (at most 40 links, `ELOOP`), trailing slashes; the one place
//! the Linux-visible choices of a lookup are made.

use super::*;

/// Result of resolving a path.
pub(super) struct Resolved {
    /// Directory that holds (or would hold) the last component.
    pub(super) parent: Arc<Node>,
    /// Absolute path of `parent`.
    pub(super) parent_path: Vec<u8>,
    /// The last component (empty when the path named `/`).
    pub(super) name: Vec<u8>,
    /// The object, if it exists.
    pub(super) node: Option<Arc<Node>>,
    /// The path ended with a slash: the object must be a directory.
    pub(super) trailing_slash: bool,
}

impl Resolved {
    pub(super) fn path(&self) -> Vec<u8> {
        join(&self.parent_path, &self.name)
    }
    pub(super) fn existing(&self) -> SysResult<Arc<Node>> {
        let node = self.node.clone().ok_or(Errno::ENOENT)?;
        if self.trailing_slash && !node.lock().is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok(node)
    }
}

pub(super) fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if name.is_empty() {
        return p;
    }
    if p.last() != Some(&b'/') {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

impl Fs {
    /// Absolute path of the directory `dirfd` stands for.
    pub(super) fn base_path(&self, dirfd: i32, path: &[u8]) -> SysResult<Vec<u8>> {
        if path.first() == Some(&b'/') {
            return Ok(b"/".to_vec());
        }
        if dirfd == AT_FDCWD {
            return Ok(self.cwd.clone());
        }
        let file = self.file(dirfd)?;
        let f = file.lock();
        match f.obj.inode() {
            Some(n) if n.lock().is_dir() => Ok(f.dir_path.clone()),
            _ => Err(Errno::ENOTDIR),
        }
    }

    pub(super) fn resolve(
        &self,
        dirfd: i32,
        path: &[u8],
        follow_last: bool,
    ) -> SysResult<Resolved> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        if path.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let base = self.base_path(dirfd, path)?;
        let mut budget = MAXSYMLINKS;
        // A stack of (name, dir) from the root: ".." pops, like the kernel's
        // walk, so symlinked directories resolve physically.
        let mut stack: Vec<(Vec<u8>, Arc<Node>)> = Vec::new();
        self.walk(&mut stack, &base, true, &mut budget)?;
        self.walk_last(stack, path, follow_last, &mut budget)
    }

    pub(super) fn current(&self, stack: &[(Vec<u8>, Arc<Node>)]) -> Arc<Node> {
        stack
            .last()
            .map_or_else(|| self.root.clone(), |(_, n)| n.clone())
    }

    pub(super) fn stack_path(stack: &[(Vec<u8>, Arc<Node>)]) -> Vec<u8> {
        if stack.is_empty() {
            return b"/".to_vec();
        }
        let mut p = Vec::new();
        for (name, _) in stack {
            p.push(b'/');
            p.extend_from_slice(name);
        }
        p
    }

    pub(super) fn lookup(&self, dir: &Arc<Node>, name: &[u8]) -> SysResult<Option<Arc<Node>>> {
        let d = dir.lock();
        if let Some(tag) = Self::proc_dir(&d) {
            drop(d);
            return Ok(self.proc_lookup(tag, name));
        }
        Ok(d.kind.entries()?.get(name).cloned())
    }

    /// Walk every component of `path` (all must exist and be followed).
    pub(super) fn walk(
        &self,
        stack: &mut Vec<(Vec<u8>, Arc<Node>)>,
        path: &[u8],
        absolute_reset: bool,
        budget: &mut u32,
    ) -> SysResult<()> {
        if path.first() == Some(&b'/') && absolute_reset {
            stack.clear();
        }
        for comp in path.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
            self.step(stack, comp, budget)?;
        }
        Ok(())
    }

    pub(super) fn step(
        &self,
        stack: &mut Vec<(Vec<u8>, Arc<Node>)>,
        comp: &[u8],
        budget: &mut u32,
    ) -> SysResult<()> {
        if comp.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        match comp {
            b"." => {
                if !self.current(stack).lock().is_dir() {
                    return Err(Errno::ENOTDIR);
                }
            }
            b".." => {
                stack.pop();
            }
            _ => {
                let dir = self.current(stack);
                let node = self.lookup(&dir, comp)?.ok_or(Errno::ENOENT)?;
                match self.fd_target(&node) {
                    None => {}
                    Some(Ok(procfs::FdTarget::Path(p))) => {
                        if *budget == 0 {
                            return Err(Errno::ELOOP);
                        }
                        *budget -= 1;
                        return self.walk(stack, &p, true, budget);
                    }
                    // A file, not a directory: what follows fails.
                    Some(Ok(procfs::FdTarget::Node(n, _))) => {
                        stack.push((comp.to_vec(), n));
                        return Ok(());
                    }
                    Some(Ok(procfs::FdTarget::Object)) => return Err(Errno::ENOTDIR),
                    Some(Err(e)) => return Err(e),
                }
                let target = node.lock().link_text().map(<[u8]>::to_vec);
                match target {
                    Some(t) => {
                        if *budget == 0 {
                            return Err(Errno::ELOOP);
                        }
                        *budget -= 1;
                        self.walk(stack, &t, true, budget)?;
                    }
                    None => stack.push((comp.to_vec(), node)),
                }
            }
        }
        Ok(())
    }

    pub(super) fn walk_last(
        &self,
        mut stack: Vec<(Vec<u8>, Arc<Node>)>,
        path: &[u8],
        follow_last: bool,
        budget: &mut u32,
    ) -> SysResult<Resolved> {
        if path.first() == Some(&b'/') {
            stack.clear();
        }
        let trailing_slash = path.last() == Some(&b'/');
        let comps: Vec<&[u8]> = path
            .split(|&c| c == b'/')
            .filter(|c| !c.is_empty())
            .collect();
        let Some((&last, init)) = comps.split_last() else {
            // "/" (or "///"): the root.
            return Ok(Resolved {
                parent: self.root.clone(),
                parent_path: b"/".to_vec(),
                name: Vec::new(),
                node: Some(self.root.clone()),
                trailing_slash: false,
            });
        };
        for comp in init {
            self.step(&mut stack, comp, budget)?;
        }
        if !self.current(&stack).lock().is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if last.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        if last == b"." || last == b".." {
            self.step(&mut stack, last, budget)?;
            let node = self.current(&stack);
            let name = stack.last().map(|(n, _)| n.clone()).unwrap_or_default();
            if !stack.is_empty() {
                stack.pop();
            }
            return Ok(Resolved {
                parent: self.current(&stack),
                parent_path: Self::stack_path(&stack),
                name,
                node: Some(node),
                trailing_slash: true,
            });
        }
        let parent = self.current(&stack);
        let node = self.lookup(&parent, last)?;
        if let Some(n) = &node
            && (follow_last || trailing_slash)
        {
            match self.fd_target(n) {
                None => {}
                Some(Ok(procfs::FdTarget::Path(p))) => {
                    if *budget == 0 {
                        return Err(Errno::ELOOP);
                    }
                    *budget -= 1;
                    let mut r = self.walk_last(stack, &p, true, budget)?;
                    r.trailing_slash |= trailing_slash;
                    return Ok(r);
                }
                // The descriptor's own file, named as it was opened.
                Some(Ok(procfs::FdTarget::Node(n, path))) => {
                    let (dir, name) = match path.iter().rposition(|&b| b == b'/') {
                        Some(0) | None => (&b"/"[..], path.strip_prefix(b"/").unwrap_or(&path)),
                        Some(i) => (&path[..i], &path[i + 1..]),
                    };
                    return Ok(Resolved {
                        parent: self.root.clone(),
                        parent_path: dir.to_vec(),
                        name: name.to_vec(),
                        node: Some(n),
                        trailing_slash,
                    });
                }
                // The link itself: `open` reopens what it stands for.
                Some(Ok(procfs::FdTarget::Object)) => {
                    return Ok(Resolved {
                        parent,
                        parent_path: Self::stack_path(&stack),
                        name: last.to_vec(),
                        node: Some(n.clone()),
                        trailing_slash,
                    });
                }
                Some(Err(e)) => return Err(e),
            }
        }
        let link = node
            .as_ref()
            .and_then(|n| n.lock().link_text().map(<[u8]>::to_vec));
        if let Some(target) = link
            && (follow_last || trailing_slash)
        {
            if *budget == 0 {
                return Err(Errno::ELOOP);
            }
            *budget -= 1;
            let mut r = self.walk_last(stack, &target, true, budget)?;
            r.trailing_slash |= trailing_slash;
            return Ok(r);
        }
        Ok(Resolved {
            parent,
            parent_path: Self::stack_path(&stack),
            name: last.to_vec(),
            node,
            trailing_slash,
        })
    }

    /// Resolve for creating `path`: it must not exist and its directory
    /// must be writable.
    pub(super) fn for_create(&self, dirfd: i32, path: &[u8]) -> SysResult<Resolved> {
        let r = self.resolve(dirfd, path, false)?;
        if r.node.is_some() {
            return Err(Errno::EEXIST);
        }
        if !r.parent.lock().writable {
            return Err(Errno::EROFS);
        }
        Ok(r)
    }

    pub(super) fn touch_dir(&self, dir: &Arc<Node>) {
        let now = (self.clock)();
        let mut d = dir.lock();
        d.mtime = now;
        d.ctime = now;
    }
}
