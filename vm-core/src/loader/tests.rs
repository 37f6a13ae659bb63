//! Loader tests: small RISC-V ELF files built in memory, written to temp
//! files and loaded through the std-backed [`TestHost`]; each bad-input case
//! mutates a valid file.

extern crate std;

use super::elf::*;
use super::stack::*;
use super::*;
use crate::testhost::TestHost;
use alloc::format;
use alloc::string::ToString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

// ---- building test ELF files ---------------------------------------------

/// `li a0, 42; li a7, 93; ecall`
const CODE: [u32; 3] = [0x02a0_0513, 0x05d0_0893, 0x0000_0073];
const CODE_OFF: u64 = 0x200;
const INTERP_OFF: u64 = 0x180;
const DATA_OFF: u64 = 0x1008;
const DATA: [u8; 16] = *b"pvm-loader-data!";
const FILE_LEN: usize = 0x1100;
const EXEC_BASE: u64 = 0x10000;

/// Indexes of the program headers in [`TestElf`] files.
const PH_PHDR: usize = 0;
const PH_TEXT: usize = 1;
const PH_DATA: usize = 2;
const PH_STACK: usize = 3;
const PH_INTERP: usize = 4;

/// A minimal valid RISC-V ELF file, mutable field by field.
#[derive(Clone)]
struct TestElf {
    bytes: Vec<u8>,
}

impl TestElf {
    /// `ET_EXEC` at 0x10000 or `ET_DYN` at 0, optionally with `PT_INTERP`.
    /// Program headers: PHDR, LOAD text (R X, file 0..0x300), LOAD data
    /// (RW, 16 file bytes at 0x1008, bss to 3 pages), GNU_STACK (RW), and
    /// INTERP last when asked for.
    fn new(e_type: u16, interp: Option<&[u8]>) -> TestElf {
        let base = if e_type == ET_EXEC { EXEC_BASE } else { 0 };
        let phnum: u16 = if interp.is_some() { 5 } else { 4 };
        let mut b = vec![0u8; FILE_LEN];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2; // ELFCLASS64
        b[5] = 1; // ELFDATA2LSB
        b[6] = 1; // EV_CURRENT
        let mut e = TestElf { bytes: b };
        e.put16(16, e_type);
        e.put16(18, EM_RISCV);
        e.put32(20, 1);
        e.put64(24, base + CODE_OFF); // e_entry
        e.put64(32, 64); // e_phoff
        e.put32(48, 0x1 | EF_RISCV_FLOAT_ABI_DOUBLE); // RVC, lp64d: gcc's 0x5
        e.put16(52, 64);
        e.put16(54, PHDR_SIZE as u16);
        e.put16(56, phnum);
        let table = phnum as u64 * PHDR_SIZE as u64;
        e.set_ph(PH_PHDR, PT_PHDR, PF_R, 64, base + 64, table, table);
        e.set_ph(PH_TEXT, PT_LOAD, PF_R | PF_X, 0, base, 0x300, 0x300);
        e.set_ph(
            PH_DATA,
            PT_LOAD,
            PF_R | PF_W,
            DATA_OFF,
            base + 0x2000 + DATA_OFF,
            16,
            0x3000,
        );
        e.set_ph(PH_STACK, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
        if let Some(path) = interp {
            let n = path.len() as u64 + 1;
            e.set_ph(
                PH_INTERP,
                PT_INTERP,
                PF_R,
                INTERP_OFF,
                base + INTERP_OFF,
                n,
                n,
            );
            let o = INTERP_OFF as usize;
            e.bytes[o..o + path.len()].copy_from_slice(path);
        }
        for (i, w) in CODE.iter().enumerate() {
            e.put32(CODE_OFF as usize + 4 * i, *w);
        }
        let d = DATA_OFF as usize;
        e.bytes[d..d + 16].copy_from_slice(&DATA);
        // File bytes after the data segment's file part: they must not
        // show up in its bss.
        for x in &mut e.bytes[d + 16..] {
            *x = 0xee;
        }
        e
    }

    fn put16(&mut self, at: usize, v: u16) {
        self.bytes[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }
    fn put32(&mut self, at: usize, v: u32) {
        self.bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn put64(&mut self, at: usize, v: u64) {
        self.bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }

    fn ph(i: usize) -> usize {
        64 + i * PHDR_SIZE
    }

    #[allow(clippy::too_many_arguments)]
    fn set_ph(
        &mut self,
        i: usize,
        t: u32,
        flags: u32,
        off: u64,
        vaddr: u64,
        filesz: u64,
        memsz: u64,
    ) {
        let o = Self::ph(i);
        self.put32(o, t);
        self.put32(o + 4, flags);
        self.put64(o + 8, off);
        self.put64(o + 16, vaddr);
        self.put64(o + 24, vaddr);
        self.put64(o + 32, filesz);
        self.put64(o + 40, memsz);
        self.put64(o + 48, 0x1000);
    }

    fn ph_type(&mut self, i: usize, t: u32) -> &mut Self {
        let o = Self::ph(i);
        self.put32(o, t);
        self
    }
    fn ph_flags(&mut self, i: usize, f: u32) -> &mut Self {
        let o = Self::ph(i) + 4;
        self.put32(o, f);
        self
    }
    fn ph_offset(&mut self, i: usize, v: u64) -> &mut Self {
        let o = Self::ph(i) + 8;
        self.put64(o, v);
        self
    }
    fn ph_vaddr(&mut self, i: usize, v: u64) -> &mut Self {
        let o = Self::ph(i) + 16;
        self.put64(o, v);
        self
    }
    fn ph_filesz(&mut self, i: usize, v: u64) -> &mut Self {
        let o = Self::ph(i) + 32;
        self.put64(o, v);
        self
    }
    fn ph_memsz(&mut self, i: usize, v: u64) -> &mut Self {
        let o = Self::ph(i) + 40;
        self.put64(o, v);
        self
    }
}

// ---- temp files -------------------------------------------------------------

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A temp directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("pvm-loader-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    /// Write `bytes` to `name` (parents created) with permission `mode`.
    fn file(&self, name: &str, bytes: &[u8], mode: u32) -> PathBuf {
        let p = self.0.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn bytes_of(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

// ---- running the loader -----------------------------------------------------

const SPACE: u64 = 1 << 32;

struct Run {
    host: &'static TestHost,
    mem: GuestMemory,
}

impl Run {
    fn new(size: u64) -> Run {
        let host = TestHost::leak();
        let mem = GuestMemory::new(host, size).unwrap();
        Run { host, mem }
    }

    fn load_with(&self, path: &Path, sysroot: Option<&[u8]>) -> Result<Loaded, LoadError> {
        let p = bytes_of(path);
        let cfg = LoadConfig {
            path: &p,
            argv: &[b"prog", b"arg one"],
            envp: &[b"HOME=/home/x", b"LANG=C"],
            sysroot,
            execfn: &p,
            interp_from: None,
        };
        let r = load(&self.mem, &cfg);
        assert_eq!(self.host.open_files(), 0, "the loader leaked a descriptor");
        r
    }

    fn load(&self, path: &Path) -> Result<Loaded, LoadError> {
        self.load_with(path, None)
    }

    fn u64(&self, addr: u64) -> u64 {
        self.mem.read_u64(addr).unwrap()
    }

    fn cstr(&self, addr: u64) -> Vec<u8> {
        self.mem.read_cstr(addr, 4096).unwrap()
    }

    fn bytes(&self, addr: u64, len: usize) -> Vec<u8> {
        let mut v = vec![0u8; len];
        self.mem.read_bytes(addr, &mut v).unwrap();
        v
    }

    /// The auxv as (key, value) pairs, without AT_NULL.
    fn auxv(&self, sp: u64) -> Vec<(u64, u64)> {
        let argc = self.u64(sp);
        let mut a = sp + 8 * (argc + 2);
        while self.u64(a) != 0 {
            a += 8;
        }
        a += 8;
        let mut out = Vec::new();
        while self.u64(a) != AT_NULL {
            out.push((self.u64(a), self.u64(a + 8)));
            a += 16;
        }
        out
    }
}

fn aux(v: &[(u64, u64)], key: u64) -> u64 {
    v.iter().find(|(k, _)| *k == key).map(|(_, v)| *v).unwrap()
}

/// Load `elf` (written as an executable file) into a fresh 4 GiB space.
fn try_load(elf: &TestElf) -> Result<(Run, Loaded), LoadError> {
    try_load_bytes(&elf.bytes, 0o755)
}

fn try_load_bytes(bytes: &[u8], mode: u32) -> Result<(Run, Loaded), LoadError> {
    let dir = TempDir::new();
    let p = dir.file("prog", bytes, mode);
    let run = Run::new(SPACE);
    let l = run.load(&p)?;
    Ok((run, l))
}

fn load_err(elf: &TestElf) -> LoadError {
    let e = try_load(elf).map(|(_, l)| l).unwrap_err();
    let msg = e.to_string();
    assert!(
        !msg.contains('\n') && !msg.is_empty(),
        "bad message {msg:?}"
    );
    assert_eq!(
        e.exit_code(),
        if matches!(e, LoadError::NotFound) {
            127
        } else {
            126
        }
    );
    e
}

// ---- good files ---------------------------------------------------------------

#[test]
fn static_exec_maps_segments_and_builds_the_stack() {
    let elf = TestElf::new(ET_EXEC, None);
    let dir = TempDir::new();
    let path = dir.file("prog", &elf.bytes, 0o755);
    let run = Run::new(SPACE);
    let l = run.load(&path).unwrap();
    let layout = Layout::for_size(SPACE);

    assert_eq!(l.entry, EXEC_BASE + CODE_OFF);
    assert_eq!((l.exe_entry, l.exe_base, l.interp_base), (l.entry, 0, None));
    // Text: read+exec, with the code and the headers in it.
    assert_eq!(run.mem.perm(EXEC_BASE), Perm::READ | Perm::EXEC);
    assert_eq!(run.mem.fetch_u16(l.entry).unwrap(), 0x0513);
    assert_eq!(run.bytes(EXEC_BASE, 0x300), elf.bytes[..0x300].to_vec());
    // Beyond the text's file size, its page is zero.
    assert_eq!(run.bytes(EXEC_BASE + 0x300, 0xd00), vec![0u8; 0xd00]);
    // Data: read-write, file bytes then zeroed bss (not the 0xee file tail).
    let data = EXEC_BASE + 0x2000 + DATA_OFF;
    assert_eq!(run.mem.perm(data), Perm::READ | Perm::WRITE);
    assert_eq!(run.bytes(data, 16), DATA.to_vec());
    let bss_len = (page_up(data + 0x3000) - data - 16) as usize;
    assert_eq!(run.bytes(data + 16, bss_len), vec![0u8; bss_len]);
    assert_eq!(run.mem.perm(page_down(data) - 1), Perm::empty());
    assert_eq!(run.mem.perm(page_up(data + 0x3000)), Perm::empty());

    // brk and the mmap area.
    let brk = page_up(data + 0x3000);
    assert_eq!(l.brk, brk);
    {
        let maps = run.mem.maps.lock();
        assert_eq!((maps.brk_start, maps.brk), (brk, brk));
        assert_eq!(maps.mmap_top, layout.mmap_top);
        assert!(maps.mmap_min > brk + (1 << 28) && maps.mmap_min < maps.mmap_top);
        assert!(maps.covers(layout.stack_top - layout.stack_size, layout.stack_top));
    }
    assert_eq!(layout.stack_top, SPACE);
    assert_eq!(layout.stack_size, 8 << 20);
    assert_eq!(
        run.mem.perm(SPACE - 1),
        Perm::READ | Perm::WRITE,
        "GNU_STACK RW gives a non-executable stack"
    );

    // The stack, word by word.
    let sp = l.sp;
    assert_eq!(sp % 16, 0);
    assert!(sp > SPACE - layout.stack_size);
    assert_eq!(run.u64(sp), 2);
    assert_eq!(run.cstr(run.u64(sp + 8)), b"prog");
    assert_eq!(run.cstr(run.u64(sp + 16)), b"arg one");
    assert_eq!(run.u64(sp + 24), 0);
    assert_eq!(run.cstr(run.u64(sp + 32)), b"HOME=/home/x");
    assert_eq!(run.cstr(run.u64(sp + 40)), b"LANG=C");
    assert_eq!(run.u64(sp + 48), 0);
    // Strings are contiguous: argv then envp, then execfn, then 8 zeroes.
    assert_eq!(run.u64(sp + 16), run.u64(sp + 8) + 5);
    assert_eq!(run.u64(sp + 32), run.u64(sp + 16) + 8);
    assert_eq!(run.u64(sp + 40), run.u64(sp + 32) + 13);
    let execfn = run.u64(sp + 40) + 7;
    assert_eq!(run.cstr(execfn), bytes_of(&path));
    assert_eq!(execfn + bytes_of(&path).len() as u64 + 1, SPACE - 8);
    assert_eq!(run.u64(SPACE - 8), 0);

    let auxv = run.auxv(sp);
    let keys: Vec<u64> = auxv.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        keys,
        [
            AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE, AT_FLAGS,
            AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE, AT_RANDOM, AT_EXECFN
        ]
    );
    // The pointer table ends right where the auxv ends: sp + 8 * (argc + envc + 3) + 16 * 17.
    assert_eq!(run.u64(sp + 56 + 16 * 16), AT_NULL);
    let hwcap = (1 << 8) | (1 << 12) | 1 | (1 << 5) | (1 << 3) | (1 << 2);
    assert_eq!(aux(&auxv, AT_HWCAP), hwcap);
    assert_eq!(aux(&auxv, AT_PAGESZ), 4096);
    assert_eq!(aux(&auxv, AT_CLKTCK), 100);
    assert_eq!(aux(&auxv, AT_PHDR), EXEC_BASE + 64);
    assert_eq!(aux(&auxv, AT_PHENT), 56);
    assert_eq!(aux(&auxv, AT_PHNUM), 4);
    assert_eq!(aux(&auxv, AT_BASE), 0);
    assert_eq!(aux(&auxv, AT_FLAGS), 0);
    assert_eq!(aux(&auxv, AT_ENTRY), l.exe_entry);
    let ids = run.host.ids();
    assert_eq!(aux(&auxv, AT_UID), ids.uid as u64);
    assert_eq!(aux(&auxv, AT_EUID), ids.euid as u64);
    assert_eq!(aux(&auxv, AT_GID), ids.gid as u64);
    assert_eq!(aux(&auxv, AT_EGID), ids.egid as u64);
    assert_eq!(aux(&auxv, AT_SECURE), 0);
    assert_eq!(aux(&auxv, AT_EXECFN), execfn);
    let random = aux(&auxv, AT_RANDOM);
    let mut expect = [0u8; 16];
    run.host.random(&mut expect).unwrap();
    assert_eq!(run.bytes(random, 16), expect.to_vec());
    assert_eq!(random, (run.u64(sp + 8) & !15) - 16);
    // AT_PHDR really points at the program headers.
    let table = 4 * PHDR_SIZE;
    assert_eq!(
        run.bytes(aux(&auxv, AT_PHDR), table),
        elf.bytes[64..64 + table].to_vec()
    );
}

#[test]
fn static_pie_loads_at_the_dyn_base() {
    let elf = TestElf::new(ET_DYN, None);
    let (run, l) = try_load(&elf).unwrap();
    let base = Layout::for_size(SPACE).dyn_base;
    assert_eq!(base % PAGE_SIZE, 0);
    assert_eq!(l.exe_base, base);
    assert_eq!(l.entry, base + CODE_OFF);
    assert_eq!(run.mem.fetch_u16(l.entry).unwrap(), 0x0513);
    assert_eq!(run.bytes(base + 0x2000 + DATA_OFF, 16), DATA.to_vec());
    let auxv = run.auxv(l.sp);
    assert_eq!(aux(&auxv, AT_PHDR), base + 64);
    assert_eq!(aux(&auxv, AT_ENTRY), base + CODE_OFF);
    assert_eq!(aux(&auxv, AT_BASE), 0);
    assert_eq!(l.brk, base + 0x7000);
}

#[test]
fn default_layout_puts_pie_at_1_gib() {
    let l = Layout::for_size(ADDRESS_SPACE_SIZE);
    assert_eq!(l.dyn_base, 0x4000_0000);
    assert_eq!(l.stack_top, ADDRESS_SPACE_SIZE);
    assert_eq!(l.mmap_top, ADDRESS_SPACE_SIZE - (9 << 20));
    let small = Layout::for_size(1 << 24);
    assert_eq!(small.stack_size, 1 << 20);
    assert!(small.dyn_base < small.mmap_top);
}

#[test]
fn small_address_space_still_loads() {
    let elf = TestElf::new(ET_DYN, None);
    let dir = TempDir::new();
    let p = dir.file("prog", &elf.bytes, 0o755);
    let run = Run::new(1 << 24);
    let l = run.load(&p).unwrap();
    assert_eq!(l.exe_base, (1 << 24) / 64);
    assert!(l.sp < 1 << 24 && l.sp > (1 << 24) - (1 << 20));
}

#[test]
fn interpreter_is_loaded_from_the_sysroot_top_down() {
    let dir = TempDir::new();
    let ld = TestElf::new(ET_DYN, None);
    dir.file("root/lib/ld-test.so.1", &ld.bytes, 0o644);
    let prog = TestElf::new(ET_DYN, Some(b"/lib/ld-test.so.1"));
    let p = dir.file("prog", &prog.bytes, 0o755);
    let run = Run::new(SPACE);
    let root = bytes_of(&dir.path().join("root"));
    let l = run.load_with(&p, Some(&root)).unwrap();
    let layout = Layout::for_size(SPACE);

    let ib = l.interp_base.unwrap();
    // Top-down from mmap_top: the interpreter's 7 pages end right there.
    assert_eq!(ib, layout.mmap_top - 0x7000);
    assert_eq!(l.entry, ib + CODE_OFF);
    assert_eq!(l.exe_entry, layout.dyn_base + CODE_OFF);
    assert_eq!(run.mem.fetch_u16(l.entry).unwrap(), 0x0513);
    assert_eq!(run.bytes(ib + 0x2000 + DATA_OFF, 16), DATA.to_vec());
    let auxv = run.auxv(l.sp);
    assert_eq!(aux(&auxv, AT_BASE), ib);
    assert_eq!(aux(&auxv, AT_ENTRY), l.exe_entry);
    assert_eq!(aux(&auxv, AT_PHNUM), 5);
    assert_eq!(aux(&auxv, AT_PHDR), layout.dyn_base + 64);
    // brk is the program's, not the interpreter's.
    assert_eq!(l.brk, layout.dyn_base + 0x7000);
    // The next mmap goes below the interpreter (or into the 2-page hole
    // between its segments, as on Linux).
    assert_eq!(run.mem.maps.lock().find_free(0x3000), Some(ib - 0x3000));
    assert_eq!(run.mem.maps.lock().find_free(0x2000), Some(ib + 0x1000));
}

#[test]
fn interpreter_falls_back_to_the_plain_path() {
    let dir = TempDir::new();
    let ld = TestElf::new(ET_DYN, None);
    let ldp = dir.file("ld.so", &ld.bytes, 0o644);
    let prog = TestElf::new(ET_EXEC, Some(&bytes_of(&ldp)));
    let p = dir.file("prog", &prog.bytes, 0o755);
    let run = Run::new(SPACE);
    let empty_root = bytes_of(&dir.path().join("nothing-here"));
    let l = run.load_with(&p, Some(&empty_root)).unwrap();
    assert!(l.interp_base.is_some());
    assert_eq!(l.exe_entry, EXEC_BASE + CODE_OFF);
    assert_eq!(l.entry, l.interp_base.unwrap() + CODE_OFF);
}

#[test]
fn phdr_address_without_pt_phdr_comes_from_the_covering_load() {
    let mut elf = TestElf::new(ET_EXEC, None);
    elf.ph_type(PH_PHDR, 4); // PT_NOTE
    let (run, l) = try_load(&elf).unwrap();
    assert_eq!(aux(&run.auxv(l.sp), AT_PHDR), EXEC_BASE + 64);
}

#[test]
fn soft_and_single_float_abis_are_accepted() {
    for flags in [0x1, 0x0, 0x3] {
        let mut elf = TestElf::new(ET_EXEC, None);
        elf.put32(48, flags);
        assert!(try_load(&elf).is_ok(), "e_flags {flags:#x}");
    }
}

#[test]
fn prot_none_segment_and_exec_stack() {
    let mut elf = TestElf::new(ET_EXEC, None);
    elf.ph_flags(PH_DATA, 0)
        .ph_flags(PH_STACK, PF_R | PF_W | PF_X);
    let (run, _) = try_load(&elf).unwrap();
    let data = EXEC_BASE + 0x2000 + DATA_OFF;
    assert_eq!(run.mem.perm(data), Perm::empty());
    assert!(run.mem.read_u8(data).is_err());
    // Still a mapping (PROT_NONE), not a hole.
    assert!(
        run.mem
            .maps
            .lock()
            .covers(page_down(data), page_up(data + 0x3000))
    );
    assert_eq!(
        run.mem.perm(SPACE - 1),
        Perm::READ | Perm::WRITE | Perm::EXEC
    );
}

#[test]
fn segments_sharing_a_page_get_both_permissions_and_bytes() {
    let mut elf = TestElf::new(ET_EXEC, None);
    // Data right after the text in the same page (file offset 0x300).
    elf.ph_offset(PH_DATA, 0x300)
        .ph_vaddr(PH_DATA, EXEC_BASE + 0x300)
        .ph_filesz(PH_DATA, 0x20)
        .ph_memsz(PH_DATA, 0x2000);
    let (run, l) = try_load(&elf).unwrap();
    assert_eq!(
        run.mem.perm(EXEC_BASE),
        Perm::READ | Perm::WRITE | Perm::EXEC
    );
    assert_eq!(run.mem.perm(EXEC_BASE + 0x1000), Perm::READ | Perm::WRITE);
    assert_eq!(run.mem.fetch_u16(l.entry).unwrap(), 0x0513);
    assert_eq!(
        run.bytes(EXEC_BASE + 0x300, 0x20),
        elf.bytes[0x300..0x320].to_vec()
    );
    assert_eq!(run.bytes(EXEC_BASE + 0x320, 0x10), vec![0u8; 0x10]);
    assert_eq!(l.brk, EXEC_BASE + 0x3000);
}

#[test]
fn page_ranges_merge_shared_pages() {
    let s = |start, end, perm| Placed {
        start,
        end,
        offset: 0,
        filesz: 0,
        perm,
    };
    let (r, w, x) = (Perm::READ, Perm::WRITE, Perm::EXEC);
    let segs = [
        s(0x1000, 0x1010, r),
        s(0x1020, 0x1030, w),
        s(0x1040, 0x3800, x),
        s(0x3900, 0x5000, r),
    ];
    assert_eq!(
        page_ranges(&segs),
        [
            (0x1000, 0x2000, r | w | x),
            (0x2000, 0x3000, x),
            (0x3000, 0x4000, x | r),
            (0x4000, 0x5000, r)
        ]
    );
}

// ---- bad files ------------------------------------------------------------------

#[test]
fn missing_file_directory_and_special_files() {
    let dir = TempDir::new();
    let run = Run::new(1 << 24);
    let e = run.load(&dir.path().join("no-such-file")).unwrap_err();
    assert_eq!((e.clone(), e.exit_code()), (LoadError::NotFound, 127));
    assert_eq!(e.to_string(), "No such file or directory");
    let e = run.load(dir.path()).unwrap_err();
    assert_eq!((e.clone(), e.exit_code()), (LoadError::IsDirectory, 126));
    assert_eq!(
        run.load(Path::new("/dev/null")).unwrap_err(),
        LoadError::NotRegularFile
    );
}

#[test]
fn file_without_execute_permission() {
    let elf = TestElf::new(ET_EXEC, None);
    let e = try_load_bytes(&elf.bytes, 0o644).map(|_| ()).unwrap_err();
    assert_eq!(e, LoadError::NotExecutable);
    assert_eq!(e.exit_code(), 126);
}

#[test]
fn unreadable_file() {
    let elf = TestElf::new(ET_EXEC, None);
    let dir = TempDir::new();
    let p = dir.file("prog", &elf.bytes, 0o311);
    if std::fs::File::open(&p).is_ok() {
        // Root reads any file. Check as an unprivileged user instead: run
        // this test again under util-linux's setpriv as `nobody`.
        assert!(
            std::env::var_os("PVM_TEST_UNPRIVILEGED").is_none(),
            "mode 0311 is readable even without privileges"
        );
        // A copy of this test binary that `nobody` can run wherever the
        // build directory is (it may sit under a private home).
        let exe = dir.file(
            "test-binary",
            &std::fs::read(std::env::current_exe().unwrap()).unwrap(),
            0o755,
        );
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let status = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&exe)
            .args(["--exact", "loader::tests::unreadable_file", "--quiet"])
            .env("PVM_TEST_UNPRIVILEGED", "1")
            .current_dir("/")
            .status()
            .expect("setpriv (util-linux) runs this check unprivileged when tests run as root");
        assert!(status.success(), "the unprivileged run failed: {status}");
        return;
    }
    assert_eq!(
        Run::new(1 << 24).load(&p).unwrap_err(),
        LoadError::PermissionDenied
    );
}

#[test]
fn not_elf_and_short_files() {
    for bytes in [
        &b""[..],
        b"\x7fEL",
        b"#!/bin/sh\necho hi\n",
        b"\x7fELX\x02\x01",
    ] {
        let e = try_load_bytes(bytes, 0o755).map(|_| ()).unwrap_err();
        assert_eq!(e, LoadError::NotElf, "{bytes:?}");
        assert_eq!(e.to_string(), "not an ELF file (bad magic number)");
    }
    let elf = TestElf::new(ET_EXEC, None);
    for n in [4, 5, 6, 40, 63] {
        let e = try_load_bytes(&elf.bytes[..n], 0o755)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(e, LoadError::TooShort { size: n as u64 });
    }
}

#[test]
fn wrong_class_and_byte_order() {
    let mut elf = TestElf::new(ET_EXEC, None);
    elf.bytes[4] = 1;
    let e = load_err(&elf);
    assert_eq!(e, LoadError::Elf32 { machine: Some(243) });
    assert_eq!(e.to_string(), "32-bit ELF (RV32?) is not supported");
    elf.put16(18, 3);
    assert_eq!(
        load_err(&elf).to_string(),
        "32-bit ELF for x86 (i386), not a RISC-V 64 program"
    );
    // A 52-byte ELF32 file is still reported as ELF32.
    let e = try_load_bytes(&elf.bytes[..52], 0o755)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(e, LoadError::Elf32 { machine: Some(3) });

    let mut elf = TestElf::new(ET_EXEC, None);
    elf.bytes[4] = 9;
    assert_eq!(load_err(&elf), LoadError::BadClass(9));
    let mut elf = TestElf::new(ET_EXEC, None);
    elf.bytes[5] = 2;
    assert_eq!(load_err(&elf), LoadError::BigEndian);
    assert!(LoadError::BigEndian.to_string().contains("big-endian"));
    elf.bytes[5] = 0;
    assert_eq!(load_err(&elf), LoadError::BadByteOrder(0));
}

#[test]
fn wrong_machine_is_named() {
    for (m, name) in [
        (62, "x86-64"),
        (183, "AArch64"),
        (40, "ARM"),
        (258, "LoongArch"),
    ] {
        let mut elf = TestElf::new(ET_EXEC, None);
        elf.put16(18, m);
        let e = load_err(&elf);
        assert_eq!(e, LoadError::WrongMachine(m));
        assert_eq!(
            e.to_string(),
            format!("ELF for {name} (machine {m}), not RISC-V")
        );
    }
}

#[test]
fn not_an_executable_type() {
    for (t, msg) in [
        (1, "relocatable object (ET_REL), not an executable"),
        (4, "core dump (ET_CORE), not an executable"),
        (0, "ELF type 0x0 is not an executable"),
        (0xfe00, "ELF type 0xfe00 is not an executable"),
    ] {
        let mut elf = TestElf::new(ET_EXEC, None);
        elf.put16(16, t);
        let e = load_err(&elf);
        assert_eq!(e, LoadError::NotExecutableType(t));
        assert_eq!(e.to_string(), msg);
    }
}

#[test]
fn quad_float_abi_is_refused() {
    let mut elf = TestElf::new(ET_EXEC, None);
    elf.put32(48, 0x7);
    assert_eq!(load_err(&elf), LoadError::QuadFloatAbi);
}

#[test]
fn corrupt_program_header_table() {
    let mut elf = TestElf::new(ET_EXEC, None);
    elf.put16(56, 0);
    assert_eq!(load_err(&elf), LoadError::NoProgramHeaders);

    let mut elf = TestElf::new(ET_EXEC, None);
    elf.put16(54, 32);
    assert_eq!(load_err(&elf), LoadError::BadPhentsize(32));

    let mut elf = TestElf::new(ET_EXEC, None);
    elf.put16(56, 2000);
    assert_eq!(load_err(&elf), LoadError::TooManyProgramHeaders(2000));

    let mut elf = TestElf::new(ET_EXEC, None);
    elf.put16(56, 100); // 100 * 56 bytes from offset 64 > 0x1100
    assert_eq!(
        load_err(&elf),
        LoadError::ProgramHeadersOutsideFile {
            offset: 64,
            size: 5600,
            file_size: FILE_LEN as u64
        }
    );
    for off in [FILE_LEN as u64 - 10, u64::MAX - 8] {
        let mut elf = TestElf::new(ET_EXEC, None);
        elf.put64(32, off);
        assert!(matches!(
            load_err(&elf),
            LoadError::ProgramHeadersOutsideFile { .. }
        ));
    }
    // An unaligned table is fine (xmas-elf would assert on it).
    let mut elf = TestElf::new(ET_EXEC, None);
    elf.ph_type(PH_PHDR, 4)
        .ph_filesz(PH_TEXT, 0x600)
        .ph_memsz(PH_TEXT, 0x600);
    let table = elf.bytes[64..64 + 4 * PHDR_SIZE].to_vec();
    elf.bytes[0x401..0x401 + table.len()].copy_from_slice(&table);
    elf.put64(32, 0x401);
    let (run, l) = try_load(&elf).unwrap();
    assert_eq!(aux(&run.auxv(l.sp), AT_PHDR), EXEC_BASE + 0x401);
}

#[test]
fn segments_outside_the_file() {
    let mut elf = TestElf::new(ET_EXEC, None);
    // 16 file bytes starting 8 before the end of the file.
    elf.ph_offset(PH_DATA, FILE_LEN as u64 - 8);
    elf.ph_vaddr(
        PH_DATA,
        EXEC_BASE + 0x2000 + ((FILE_LEN as u64 - 8) & 0xfff),
    );
    assert_eq!(
        load_err(&elf),
        LoadError::SegmentOutsideFile {
            index: PH_DATA,
            offset: FILE_LEN as u64 - 8,
            filesz: 16,
            file_size: FILE_LEN as u64
        }
    );
    let mut elf = TestElf::new(ET_EXEC, None);
    elf.ph_offset(PH_TEXT, u64::MAX - 0x100);
    assert!(matches!(
        load_err(&elf),
        LoadError::SegmentOutsideFile { index: PH_TEXT, .. }
    ));
    let mut elf = TestElf::new(ET_EXEC, Some(b"/lib/ld.so"));
    elf.ph_filesz(PH_INTERP, 0x10_0000);
    assert!(matches!(
        load_err(&elf),
        LoadError::SegmentOutsideFile {
            index: PH_INTERP,
            ..
        }
    ));
}

#[test]
fn filesz_larger_than_memsz() {
    let mut elf = TestElf::new(ET_EXEC, None);
    elf.ph_memsz(PH_DATA, 8);
    assert_eq!(
        load_err(&elf),
        LoadError::FileSizeExceedsMemSize {
            index: PH_DATA,
            filesz: 16,
            memsz: 8
        }
    );
}

#[test]
fn segments_outside_the_address_space() {
    let cases: [(u64, u64); 4] = [
        (u64::MAX - 0xfff, 0x2000),    // wraps around
        (EXEC_BASE + 0x3008, 1 << 40), // absurd size
        (SPACE - 0x1ff8, 0x10),        // inside the stack
        (0x8, 0x10),                   // page zero
    ];
    for (vaddr, memsz) in cases {
        let mut elf = TestElf::new(ET_EXEC, None);
        elf.ph_vaddr(PH_DATA, vaddr).ph_memsz(PH_DATA, memsz);
        let e = load_err(&elf);
        assert!(
            matches!(
                e,
                LoadError::SegmentOutsideAddressSpace { index: PH_DATA, .. }
            ),
            "{vaddr:#x}: {e:?}"
        );
    }
    // A PIE whose span is larger than the space below the mmap area.
    let mut elf = TestElf::new(ET_DYN, None);
    elf.ph_memsz(PH_DATA, SPACE);
    assert!(matches!(
        load_err(&elf),
        LoadError::SegmentOutsideAddressSpace { .. }
    ));
}

#[test]
fn misaligned_segment() {
    let mut elf = TestElf::new(ET_EXEC, None);
    elf.ph_vaddr(PH_DATA, EXEC_BASE + 0x2010);
    assert_eq!(
        load_err(&elf),
        LoadError::MisalignedSegment {
            index: PH_DATA,
            offset: DATA_OFF,
            vaddr: EXEC_BASE + 0x2010
        }
    );
}

#[test]
fn overlapping_segments() {
    let mut elf = TestElf::new(ET_EXEC, None);
    elf.ph_vaddr(PH_DATA, EXEC_BASE + (DATA_OFF & 0xfff)); // 0x10008: inside the text
    assert_eq!(
        load_err(&elf),
        LoadError::SegmentsOverlap {
            first: PH_TEXT,
            second: PH_DATA
        }
    );
}

#[test]
fn no_loadable_segments() {
    let mut elf = TestElf::new(ET_EXEC, None);
    elf.ph_type(PH_TEXT, 4).ph_type(PH_DATA, 4);
    assert_eq!(load_err(&elf), LoadError::NoLoadableSegments);
    // Empty PT_LOADs do not count.
    let mut elf = TestElf::new(ET_EXEC, None);
    elf.ph_type(PH_DATA, 4);
    elf.ph_filesz(PH_TEXT, 0).ph_memsz(PH_TEXT, 0);
    assert_eq!(load_err(&elf), LoadError::NoLoadableSegments);
}

#[test]
fn bad_interpreter_path() {
    // Not NUL terminated.
    let mut elf = TestElf::new(ET_EXEC, Some(b"/lib/ld.so"));
    elf.bytes[INTERP_OFF as usize + 10] = b'x';
    assert_eq!(load_err(&elf), LoadError::BadInterpreterPath);
    // Empty.
    let mut elf = TestElf::new(ET_EXEC, Some(b"/lib/ld.so"));
    elf.ph_filesz(PH_INTERP, 1);
    assert_eq!(load_err(&elf), LoadError::BadInterpreterPath);
    // A NUL inside.
    let mut elf = TestElf::new(ET_EXEC, Some(b"/lib/ld.so"));
    elf.bytes[INTERP_OFF as usize + 3] = 0;
    assert_eq!(load_err(&elf), LoadError::BadInterpreterPath);
}

#[test]
fn missing_interpreter_is_named() {
    let elf = TestElf::new(ET_EXEC, Some(b"/nonexistent/ld-pvm-test.so.1"));
    let e = load_err(&elf);
    assert_eq!(
        e,
        LoadError::InterpreterNotFound {
            path: b"/nonexistent/ld-pvm-test.so.1".to_vec(),
            sysroot: None
        }
    );
    assert_eq!(e.exit_code(), 126);
    assert_eq!(
        e.to_string(),
        "interpreter /nonexistent/ld-pvm-test.so.1 not found (give a sysroot with -L or PVM_SYSROOT)"
    );
    // Control characters in the path are escaped: the message stays one
    // line (found by the loader fuzz target).
    let odd = TestElf::new(ET_EXEC, Some(b"/no/ld\n%llu\t.so"));
    assert_eq!(
        load_err(&odd).to_string(),
        "interpreter /no/ld\\n%llu\\t.so not found (give a sysroot with -L or PVM_SYSROOT)"
    );
    let dir = TempDir::new();
    let p = dir.file("prog", &elf.bytes, 0o755);
    let e = Run::new(SPACE)
        .load_with(&p, Some(b"/my/root"))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "interpreter /nonexistent/ld-pvm-test.so.1 not found (in sysroot /my/root nor in /)"
    );
}

#[test]
fn bad_interpreters_are_reported_with_their_path() {
    let dir = TempDir::new();
    let text = dir.file("root/lib/ld.so", b"not an elf file at all", 0o755);
    let prog = TestElf::new(ET_EXEC, Some(b"/lib/ld.so"));
    let p = dir.file("prog", &prog.bytes, 0o755);
    let root = bytes_of(&dir.path().join("root"));
    let run = Run::new(SPACE);
    let e = run.load_with(&p, Some(&root)).unwrap_err();
    assert_eq!(
        e,
        LoadError::BadInterpreter {
            path: bytes_of(&text),
            error: Box::new(LoadError::NotElf)
        }
    );
    assert_eq!(e.exit_code(), 126);
    assert_eq!(
        e.to_string(),
        format!(
            "interpreter {}: not an ELF file (bad magic number)",
            text.display()
        )
    );

    // An x86-64 interpreter, a directory, and one too big for the mmap area.
    let mut ld = TestElf::new(ET_DYN, None);
    ld.put16(18, 62);
    dir.file("root/lib/ld.so", &ld.bytes, 0o755);
    let e = Run::new(SPACE).load_with(&p, Some(&root)).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("ld.so: ELF for x86-64 (machine 62), not RISC-V"),
        "{e}"
    );
    std::fs::remove_file(dir.path().join("root/lib/ld.so")).unwrap();
    std::fs::create_dir(dir.path().join("root/lib/ld.so")).unwrap();
    let e = Run::new(SPACE).load_with(&p, Some(&root)).unwrap_err();
    assert!(
        matches!(&e, LoadError::BadInterpreter { error, .. } if **error == LoadError::IsDirectory)
    );
    std::fs::remove_dir(dir.path().join("root/lib/ld.so")).unwrap();
    let mut ld = TestElf::new(ET_DYN, None);
    ld.ph_memsz(PH_DATA, 3 << 30);
    dir.file("root/lib/ld.so", &ld.bytes, 0o755);
    let e = Run::new(SPACE).load_with(&p, Some(&root)).unwrap_err();
    assert!(
        matches!(&e, LoadError::BadInterpreter { error, .. } if **error == LoadError::Memory(Errno::ENOMEM)),
        "{e:?}"
    );
}

#[test]
fn argument_list_too_long() {
    let elf = TestElf::new(ET_EXEC, None);
    let dir = TempDir::new();
    let p = dir.file("prog", &elf.bytes, 0o755);
    let big = vec![b'x'; 100_000];
    let env: Vec<&[u8]> = (0..30).map(|_| &big[..]).collect();
    let pb = bytes_of(&p);
    let cfg = LoadConfig {
        path: &pb,
        argv: &[b"prog"],
        envp: &env,
        sysroot: None,
        execfn: &pb,
        interp_from: None,
    };
    let run = Run::new(SPACE);
    let e = load(&run.mem, &cfg).unwrap_err();
    assert_eq!(
        (e.to_string(), e.exit_code()),
        ("argument list too long".to_string(), 126)
    );
}

#[test]
fn a_file_that_shrinks_while_loading() {
    let elf = TestElf::new(ET_EXEC, None);
    let dir = TempDir::new();
    let p = dir.file("prog", &elf.bytes, 0o755);
    let host = TestHost::leak();
    let f = HostFile::open(host, &bytes_of(&p), true).unwrap();
    assert_eq!(f.size, FILE_LEN as u64);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(100)
        .unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(
        f.read_exact_at(DATA_OFF, &mut buf),
        Err(LoadError::FileChanged)
    );
    drop(f);
    assert_eq!(host.open_files(), 0);
}

#[test]
fn every_message_is_one_line() {
    let all = [
        LoadError::Io(Errno::EIO),
        LoadError::FileChanged,
        LoadError::Memory(Errno::ENOMEM),
        LoadError::PermissionDenied,
    ];
    for e in all {
        let m = e.to_string();
        assert!(!m.is_empty() && !m.contains('\n'));
        assert_eq!(e.exit_code(), 126);
    }
}

/// Truncations at every length and random byte flips in the headers never
/// panic, never leak a descriptor, and a failure is always a `LoadError`.
#[test]
fn corrupt_files_never_panic() {
    let dir = TempDir::new();
    let ld = TestElf::new(ET_DYN, None);
    dir.file("root/lib/ld.so", &ld.bytes, 0o755);
    let root = bytes_of(&dir.path().join("root"));
    let bases = [
        TestElf::new(ET_EXEC, None),
        TestElf::new(ET_DYN, Some(b"/lib/ld.so")),
    ];
    let p = dir.path().join("prog");
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut outcomes = [0usize; 2];
    let mut check = |bytes: &[u8]| {
        std::fs::write(&p, bytes).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        let run = Run::new(1 << 24);
        let r = run.load_with(&p, Some(&root));
        outcomes[r.is_ok() as usize] += 1;
        if let Err(e) = r {
            assert!(!e.to_string().contains('\n'));
        }
    };
    for base in &bases {
        for n in (0..base.bytes.len()).step_by(13) {
            check(&base.bytes[..n]);
        }
        for _ in 0..800 {
            let mut b = base.bytes.clone();
            for _ in 0..1 + rnd() % 4 {
                // Mostly the header and program headers, sometimes anywhere.
                let r = rnd();
                let at = if r % 8 == 0 {
                    (r >> 8) as usize % b.len()
                } else {
                    (r >> 8) as usize % 0x200
                };
                b[at] = match (r >> 40) % 4 {
                    0 => 0,
                    1 => 0xff,
                    2 => b[at] ^ (1 << ((r >> 48) % 8)),
                    _ => (r >> 52) as u8,
                };
            }
            check(&b);
        }
    }
    // Both outcomes happened: the mutations are neither all harmless nor
    // all fatal.
    assert!(outcomes[0] > 100 && outcomes[1] > 100, "{outcomes:?}");
}

// ---- real binaries ------------------------------------------------------------

/// Compile a small program with the cross compiler (`cargo xtask setup`
/// installs it; without it the test fails, naming it).
fn cross_compile(dir: &TempDir, name: &str, extra: &[&str]) -> PathBuf {
    let src = dir.file("t.c", b"int main(void) { return 42; }\n", 0o644);
    let out = dir.path().join(name);
    let status = std::process::Command::new("riscv64-linux-gnu-gcc")
        .args(extra)
        .arg("-O2")
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .status();
    match status {
        Ok(s) if s.success() => out,
        Ok(s) => panic!("riscv64-linux-gnu-gcc failed: {s}"),
        Err(e) => panic!("riscv64-linux-gnu-gcc is needed (cargo xtask setup): {e}"),
    }
}

#[test]
fn real_static_binary() {
    let dir = TempDir::new();
    let p = cross_compile(&dir, "static", &["-static"]);
    let file = std::fs::read(&p).unwrap();
    let run = Run::new(SPACE);
    let l = run.load(&p).unwrap();
    let entry = u64::from_le_bytes(file[24..32].try_into().unwrap());
    let phoff = u64::from_le_bytes(file[32..40].try_into().unwrap()) as usize;
    let phnum = u16::from_le_bytes(file[56..58].try_into().unwrap()) as usize;
    assert_eq!((l.entry, l.interp_base), (entry, None));
    assert_eq!(run.mem.perm(entry), Perm::READ | Perm::EXEC);
    let auxv = run.auxv(l.sp);
    assert_eq!(aux(&auxv, AT_PHNUM), phnum as u64);
    // glibc finds PT_TLS through AT_PHDR: it must show the real table.
    let table = phnum * PHDR_SIZE;
    assert_eq!(
        run.bytes(aux(&auxv, AT_PHDR), table),
        file[phoff..phoff + table].to_vec()
    );
    assert_eq!(run.u64(l.sp), 2);
}

#[test]
fn real_dynamic_binary_with_the_debian_sysroot() {
    let root = b"/usr/riscv64-linux-gnu";
    assert!(
        Path::new("/usr/riscv64-linux-gnu/lib/ld-linux-riscv64-lp64d.so.1").exists(),
        "the riscv64 sysroot (Debian's libc6-riscv64-cross, cargo xtask setup) is missing"
    );
    let dir = TempDir::new();
    let p = cross_compile(&dir, "dyn", &[]);
    // 16 GiB: the test host's calloc must stay below the machine's memory.
    let size = 1 << 34;
    let run = Run::new(size);
    let l = run.load_with(&p, Some(root)).unwrap();
    let ib = l.interp_base.unwrap();
    assert_eq!(run.bytes(ib, 4), b"\x7fELF".to_vec());
    let base = Layout::for_size(size).dyn_base;
    assert_eq!(l.exe_base, base);
    assert_ne!(l.entry, l.exe_entry);
    assert_eq!(run.mem.perm(l.entry), Perm::READ | Perm::EXEC);
    let auxv = run.auxv(l.sp);
    assert_eq!(aux(&auxv, AT_BASE), ib);
    assert_eq!(aux(&auxv, AT_PHDR), base + 0x40);
}

fn placed(start: u64, end: u64, offset: u64, filesz: u64) -> Placed {
    Placed {
        start,
        end,
        offset,
        filesz,
        perm: Perm::READ,
    }
}

#[test]
fn file_pages_are_whole_unshared_pages_inside_the_file() {
    // Code at 0x10000 (offset 0), data at 0x23d90 (offset 0x12d90) with a
    // bss: separate pages, both mapped; the data's first page starts
    // before it, at file offset 0x12000.
    let segs = [
        placed(0x10000, 0x22738, 0, 0x12738),
        placed(0x23d90, 0x40000, 0x12d90, 0x5000),
    ];
    assert_eq!(file_pages(&segs, 0, 0x20000), Some((0x10000, 0, 0x13000)));
    assert_eq!(
        file_pages(&segs, 1, 0x20000),
        Some((0x23000, 0x12000, 0x6000))
    );
    // The file ends before the data's last byte: copied (and the copy
    // reports the short file).
    assert_eq!(file_pages(&segs, 1, 0x17d8f), None);
    // A page shared by both segments is left to the copy, on both sides.
    let shared = [
        placed(0x10000, 0x12738, 0, 0x2738),
        placed(0x12d90, 0x15000, 0x2d90, 0x1000),
    ];
    assert_eq!(file_pages(&shared, 0, 0x10000), Some((0x10000, 0, 0x2000)));
    assert_eq!(
        file_pages(&shared, 1, 0x10000),
        Some((0x13000, 0x3000, 0x1000))
    );
    // Only the shared page: nothing to map.
    let one = [
        placed(0x10000, 0x10738, 0, 0x738),
        placed(0x10d90, 0x11000, 0xd90, 0x100),
    ];
    assert_eq!(file_pages(&one, 0, 0x10000), None);
    assert_eq!(file_pages(&one, 1, 0x10000), None);
    // Offset not congruent with the address, or no file bytes: copied.
    assert_eq!(
        file_pages(&[placed(0x10000, 0x11000, 0x10, 0x800)], 0, 0x10000),
        None
    );
    assert_eq!(
        file_pages(&[placed(0x10000, 0x11000, 0, 0)], 0, 0x10000),
        None
    );
}
