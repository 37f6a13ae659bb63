//! The initial process stack, laid out byte for byte as Linux riscv64
//! builds it (`fs/exec.c` copies the strings, `create_elf_tables` in
//! `fs/binfmt_elf.c` the rest).
//!
//! From the top of the stack down:
//! * 8 zero bytes (Linux starts at `STACK_TOP - sizeof(void *)`);
//! * the `AT_EXECFN` string;
//! * the envp strings, then below them the argv strings (so in memory
//!   `argv[0]` is lowest and the strings are contiguous, argv then envp);
//! * padding down to 16 bytes (`arch_align_stack`, without randomisation);
//! * the 16 `AT_RANDOM` bytes (riscv has no `AT_PLATFORM` string);
//! * padding so that `sp` is 16-byte aligned, then upwards from `sp`:
//!   `argc`, `argv[]`, NULL, `envp[]`, NULL, the auxv pairs ending in
//!   `AT_NULL`.
//!
//! The image is built in a host buffer and written to the guest in one go.

use super::LoadError;
use alloc::vec;
use alloc::vec::Vec;

pub use crate::abi::{
    AT_BASE, AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_EXECFN, AT_FLAGS, AT_GID, AT_HWCAP, AT_NULL,
    AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM, AT_RANDOM, AT_SECURE, AT_UID,
};

/// Linux's `MAX_ARG_STRLEN`: the longest single argument or environment
/// string `execve` accepts (32 pages).
pub use crate::abi::MAX_ARG_STRLEN;

/// The finished stack: `bytes` go at guest address `sp` and end at the
/// stack top.
#[derive(Clone, Debug)]
pub struct StackImage {
    pub sp: u64,
    pub bytes: Vec<u8>,
}

/// Lay out the stack below `top` (exclusive, 16-byte aligned). `aux` is
/// the auxiliary vector without `AT_NULL`; the values of its `AT_RANDOM`
/// and `AT_EXECFN` entries are filled in here. The whole image must fit in
/// `limit` bytes, as Linux limits the argument area to a quarter of the
/// stack rlimit.
pub fn build(
    top: u64,
    argv: &[&[u8]],
    envp: &[&[u8]],
    execfn: &[u8],
    random: [u8; 16],
    aux: &[(u64, u64)],
    limit: u64,
) -> Result<StackImage, LoadError> {
    let too_long = || LoadError::ArgumentsTooLong;
    if argv
        .iter()
        .chain(envp)
        .chain(core::iter::once(&execfn))
        .any(|s| s.len() >= MAX_ARG_STRLEN)
    {
        return Err(too_long());
    }
    let strings: u64 = argv.iter().chain(envp).map(|s| s.len() as u64 + 1).sum();
    let fixed = 8 + execfn.len() as u64 + 1 + strings + 16 + 16;
    let words = 1 + argv.len() as u64 + 1 + envp.len() as u64 + 1 + 2 * (aux.len() as u64 + 1);
    let total = fixed + 8 * words + 16;
    if total > limit || total > top {
        return Err(too_long());
    }

    let execfn_addr = top - 8 - (execfn.len() as u64 + 1);
    let strings_addr = execfn_addr - strings;
    let random_addr = (strings_addr & !15) - 16;
    let aux_words = 2 * (aux.len() as u64 + 1);
    let items = 1 + argv.len() as u64 + 1 + envp.len() as u64 + 1;
    let sp = (random_addr - aux_words * 8 - items * 8) & !15;

    let mut bytes = vec![0u8; (top - sp) as usize];
    let at = |addr: u64| (addr - sp) as usize;
    let put = |bytes: &mut Vec<u8>, addr: u64, data: &[u8]| {
        let i = at(addr);
        bytes[i..i + data.len()].copy_from_slice(data);
    };

    put(&mut bytes, execfn_addr, execfn);
    let mut ptrs = Vec::with_capacity(argv.len() + envp.len());
    let mut s = strings_addr;
    for arg in argv.iter().chain(envp) {
        put(&mut bytes, s, arg);
        ptrs.push(s);
        s += arg.len() as u64 + 1;
    }
    put(&mut bytes, random_addr, &random);

    let mut table: Vec<u64> = Vec::with_capacity(words as usize);
    table.push(argv.len() as u64);
    table.extend_from_slice(&ptrs[..argv.len()]);
    table.push(0);
    table.extend_from_slice(&ptrs[argv.len()..]);
    table.push(0);
    for &(key, value) in aux {
        let value = match key {
            AT_RANDOM => random_addr,
            AT_EXECFN => execfn_addr,
            _ => value,
        };
        table.extend_from_slice(&[key, value]);
    }
    table.extend_from_slice(&[AT_NULL, 0]);
    for (i, w) in table.iter().enumerate() {
        put(&mut bytes, sp + 8 * i as u64, &w.to_le_bytes());
    }
    Ok(StackImage { sp, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(img: &StackImage, addr: u64) -> u64 {
        let i = (addr - img.sp) as usize;
        u64::from_le_bytes(img.bytes[i..i + 8].try_into().unwrap())
    }

    fn cstr(img: &StackImage, addr: u64) -> &[u8] {
        let i = (addr - img.sp) as usize;
        let end = img.bytes[i..].iter().position(|&b| b == 0).unwrap();
        &img.bytes[i..i + end]
    }

    /// The value of auxv entry `key`.
    fn aux(img: &StackImage, key: u64) -> u64 {
        let argc = word(img, img.sp);
        let mut a = img.sp + 8 * (argc + 2);
        while word(img, a) != 0 {
            a += 8;
        }
        a += 8;
        loop {
            let k = word(img, a);
            if k == key {
                return word(img, a + 8);
            }
            assert_ne!(k, AT_NULL, "no auxv entry {key}");
            a += 16;
        }
    }

    #[test]
    fn layout_matches_linux() {
        let top = 0x1_0000_0000;
        let random: [u8; 16] = core::array::from_fn(|i| i as u8 + 1);
        let auxv = [(AT_PAGESZ, 4096), (AT_RANDOM, 0), (AT_EXECFN, 0)];
        let img = build(
            top,
            &[b"prog", b"a b"],
            &[b"X=1"],
            b"/bin/prog",
            random,
            &auxv,
            1 << 20,
        )
        .unwrap();
        let (execfn_addr, random_addr) = (aux(&img, AT_EXECFN), aux(&img, AT_RANDOM));
        assert_eq!(img.sp % 16, 0);
        assert_eq!(img.sp + img.bytes.len() as u64, top);
        // The top 8 bytes are zero, execfn sits right below them.
        assert_eq!(word(&img, top - 8), 0);
        assert_eq!(execfn_addr, top - 8 - 10);
        assert_eq!(cstr(&img, execfn_addr), b"/bin/prog");
        // argv and envp strings are contiguous, ending at execfn.
        let strings = execfn_addr - (5 + 4 + 4);
        assert_eq!(
            &img.bytes[(strings - img.sp) as usize..][..13],
            b"prog\0a b\0X=1\0"
        );
        assert_eq!(random_addr, (strings & !15) - 16);
        assert_eq!(&img.bytes[(random_addr - img.sp) as usize..][..16], &random);
        // The pointer table.
        let sp = img.sp;
        assert_eq!(word(&img, sp), 2);
        assert_eq!(word(&img, sp + 8), strings);
        assert_eq!(word(&img, sp + 16), strings + 5);
        assert_eq!(word(&img, sp + 24), 0);
        assert_eq!(word(&img, sp + 32), strings + 9);
        assert_eq!(word(&img, sp + 40), 0);
        let auxv = sp + 48;
        assert_eq!([word(&img, auxv), word(&img, auxv + 8)], [AT_PAGESZ, 4096]);
        assert_eq!(
            [word(&img, auxv + 16), word(&img, auxv + 24)],
            [AT_RANDOM, random_addr]
        );
        assert_eq!(
            [word(&img, auxv + 32), word(&img, auxv + 40)],
            [AT_EXECFN, execfn_addr]
        );
        assert_eq!([word(&img, auxv + 48), word(&img, auxv + 56)], [AT_NULL, 0]);
        // Linux: sp = (random - auxv words - items) & ~15, no extra gap.
        assert_eq!(sp, (random_addr - 8 * 8 - 6 * 8) & !15);
    }

    #[test]
    fn empty_lists_and_limits() {
        let img = build(0x10000, &[], &[], b"", [0; 16], &[], 4096).unwrap();
        assert_eq!(word(&img, img.sp), 0);
        assert_eq!(word(&img, img.sp + 8), 0);
        assert_eq!(word(&img, img.sp + 16), 0);
        assert_eq!(word(&img, img.sp + 24), AT_NULL);

        let big = vec![b'x'; 3000];
        let err = build(0x10000, &[&big, &big], &[], b"p", [0; 16], &[], 4096);
        assert_eq!(err.unwrap_err(), LoadError::ArgumentsTooLong);
        let huge = vec![b'x'; MAX_ARG_STRLEN];
        let err = build(1 << 30, &[&huge], &[], b"p", [0; 16], &[], 1 << 30);
        assert_eq!(err.unwrap_err(), LoadError::ArgumentsTooLong);
        // A stack top too low for the image is refused, not wrapped.
        let err = build(64, &[b"a"], &[], b"p", [0; 16], &[], 4096);
        assert_eq!(err.unwrap_err(), LoadError::ArgumentsTooLong);
    }
}
