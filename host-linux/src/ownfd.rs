//! Descriptors pvm holds for itself in the guest's descriptor table: the
//! sandbox's roots (`sandbox`) and the GDB stub's connection and files
//! (`gdb`). The guest cannot see, use, close or replace them: the core
//! answers `EBADF` for them and leaves them out of `/proc/self/fd`
//! (`HostOs::is_own_fd`, `vm_core::syscall::ownfd`), and `close_range`
//! goes around them.

use crate::sandbox;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Descriptors registered by [`hold`] (the sandbox keeps its own list).
static HELD: Mutex<Vec<i32>> = Mutex::new(Vec::new());
/// Is [`HELD`] non-empty?
static ANY: AtomicBool = AtomicBool::new(false);

/// `fd` is pvm's own from now on.
pub fn hold(fd: i32) {
    let mut h = HELD.lock().unwrap_or_else(|e| e.into_inner());
    if !h.contains(&fd) {
        h.push(fd);
    }
    ANY.store(true, Ordering::Release);
}

/// `fd` is about to be closed (or handed on): no longer pvm's own.
pub fn release(fd: i32) {
    let mut h = HELD.lock().unwrap_or_else(|e| e.into_inner());
    h.retain(|&f| f != fd);
    ANY.store(!h.is_empty(), Ordering::Release);
}

/// Might any descriptor be pvm's own?
pub fn any() -> bool {
    ANY.load(Ordering::Acquire) || sandbox::get().is_some()
}

/// Is `fd` pvm's own?
pub fn is_own(fd: i32) -> bool {
    if fd < 0 {
        return false;
    }
    sandbox::is_own_fd(fd)
        || (ANY.load(Ordering::Acquire)
            && HELD.lock().unwrap_or_else(|e| e.into_inner()).contains(&fd))
}

/// pvm's own descriptors in `[first, last]`, in order.
pub fn own_in(first: u32, last: u32) -> Vec<u32> {
    let mut v = sandbox::own_fds_in(first, last);
    if ANY.load(Ordering::Acquire) {
        let h = HELD.lock().unwrap_or_else(|e| e.into_inner());
        v.extend(
            h.iter()
                .map(|&f| f as u32)
                .filter(|&f| f >= first && f <= last),
        );
    }
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_descriptors_come_and_go() {
        hold(2001);
        hold(2003);
        assert!(is_own(2001) && is_own(2003) && !is_own(2002) && !is_own(-1));
        assert_eq!(own_in(2000, 2002), [2001]);
        assert_eq!(own_in(2000, 3000), [2001, 2003]);
        release(2001);
        release(2003);
        assert!(!is_own(2001) && own_in(2000, 3000).is_empty());
    }
}
