//! Logs of what the engines did (`-d ITEMS` / `--log ITEMS`, qemu's
//! spelling): which items are on, and their lines, written through
//! [`HostOs::log`] (the host sends them to stderr or to the `-D` file).
//!
//! The items are checked where the thing happens once, never per guest
//! instruction: `in_asm` and `out_asm` when a block is decoded or
//! translated, `cache` at a flush, `page` at a change of the guest's
//! mappings, `unimp` at an unknown system call or illegal instruction,
//! `exec` at each entry of a block from the run loop (with `exec` on, the
//! engines neither chain blocks nor build regions, so every block entry
//! passes there). With no item on, each of those places costs one relaxed
//! load of [`MASK`].
//!
//! One mask per pvm process (a process VM runs one guest process), set
//! once by the host before the guest starts.

use crate::host::HostOs;
use core::sync::atomic::{AtomicU32, Ordering};

/// Guest code as decoded, disassembled (objdump style).
pub const IN_ASM: u32 = 1 << 0;
/// Host code each translation became.
pub const OUT_ASM: u32 = 1 << 1;
/// Each block entered, with its guest pc.
pub const EXEC: u32 = 1 << 2;
/// Code cache flushes.
pub const CACHE: u32 = 1 << 3;
/// Guest mappings made, changed and removed.
pub const PAGE: u32 = 1 << 4;
/// System calls, as `--strace`.
pub const STRACE: u32 = 1 << 5;
/// Unknown system calls and illegal instructions.
pub const UNIMP: u32 = 1 << 6;

/// Item names and their bits, in the order `-d help` lists them.
pub const ITEMS: &[(&str, u32, &str)] = &[
    (
        "in_asm",
        IN_ASM,
        "guest code of each block decoded or translated",
    ),
    ("out_asm", OUT_ASM, "host code each translation became"),
    (
        "exec",
        EXEC,
        "each block entered, with its guest pc (no chaining)",
    ),
    ("cache", CACHE, "code cache flushes"),
    ("page", PAGE, "guest mappings (mmap, mprotect, munmap, brk)"),
    ("strace", STRACE, "system calls, as --strace"),
    (
        "unimp",
        UNIMP,
        "unknown system calls and illegal instructions",
    ),
];

/// The items on.
pub static MASK: AtomicU32 = AtomicU32::new(0);

/// Turn these items on (the host, before the guest starts).
pub fn enable(items: u32) {
    MASK.fetch_or(items, Ordering::Relaxed);
}

/// Is `item` on?
#[inline(always)]
pub fn on(item: u32) -> bool {
    MASK.load(Ordering::Relaxed) & item != 0
}

/// Parse `ITEM[,ITEM]...` (`all` for every item).
pub fn parse(s: &str) -> Result<u32, alloc::string::String> {
    let mut m = 0;
    for w in s.split(',').filter(|w| !w.is_empty()) {
        if w == "all" {
            m |= ITEMS.iter().fold(0, |a, i| a | i.1);
            continue;
        }
        match ITEMS.iter().find(|i| i.0 == w) {
            Some(i) => m |= i.1,
            None => {
                let names: alloc::vec::Vec<&str> = ITEMS.iter().map(|i| i.0).collect();
                return Err(alloc::format!(
                    "unknown log item {w:?} (items: {}, all)",
                    names.join(", ")
                ));
            }
        }
    }
    Ok(m)
}

/// A `page` line: what happened to `[addr, addr+len)`.
pub fn page(host: &dyn HostOs, what: &str, addr: u64, len: u64, perm: Option<crate::memory::Perm>) {
    use crate::memory::Perm;
    let p = perm.map_or(*b"---", |p| {
        [
            if p.contains(Perm::READ) { b'r' } else { b'-' },
            if p.contains(Perm::WRITE) { b'w' } else { b'-' },
            if p.contains(Perm::EXEC) { b'x' } else { b'-' },
        ]
    });
    let p = core::str::from_utf8(&p).unwrap_or("???");
    host.log(format_args!(
        "page: {what} {addr:#x}..{:#x} {p}",
        addr.wrapping_add(len)
    ));
}

/// Log one guest instruction (an `in_asm` line).
pub fn inst(host: &dyn HostOs, pc: u64, inst: crate::decode::Inst, len: u8) {
    host.log(format_args!("  {pc:#x}:  ({len} bytes)  {inst}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items() {
        assert_eq!(parse("in_asm,exec").unwrap(), IN_ASM | EXEC);
        assert_eq!(parse("").unwrap(), 0);
        assert_eq!(parse("all").unwrap(), 0x7f);
        assert!(parse("in_asm,bogus").is_err());
    }
}
