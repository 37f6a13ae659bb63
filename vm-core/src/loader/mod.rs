//! Loader: ELF images into guest memory, and the initial process stack.
//!
//! [`load`] does what Linux's `execve` does for an ELF file, for a fresh
//! [`GuestMemory`]: it opens the program through the [`HostOs`], validates
//! it ([`elf`]), maps its `PT_LOAD` segments with their permissions, loads
//! the dynamic linker named by `PT_INTERP` (from the sysroot first, like
//! `qemu-user -L`), sets up the heap and `mmap` areas, and builds the
//! initial stack ([`stack`]).
//!
//! The address-space layout ([`Layout`]) is derived from the guest memory
//! size, so a bare-metal host with a smaller space gets the same shape:
//!
//! ```text
//! 0 ... ET_EXEC segments (where linked) | ET_DYN base = size/64 (1 GiB)
//!       brk heap from the page after the program, growing up
//!       mmap_min = brk_start + a quarter of the room up to mmap_top
//!       mmap area, placed top-down from mmap_top (the interpreter first)
//!       guard gap (1 MiB)
//!       stack (8 MiB, fully mapped read-write; no grow-down emulation)
//! size
//! ```
//!
//! Decisions where Linux leaves room:
//! * Float ABI (`e_flags`): Linux does not look at it. Soft-float (lp64),
//!   single (lp64f) and double (lp64d) programs all run on RV64GC, since
//!   the ABI only decides how the program's own code passes arguments; a
//!   dynamically linked non-lp64d program simply asks for an interpreter
//!   (`ld-linux-riscv64-lp64.so.1`) that the sysroot lacks. Only the quad
//!   ABI is refused: it needs the Q extension, which pvm does not have.
//! * The main program must be executable (`st_mode & 0o111`), as for
//!   `execve` and `qemu-user`; the interpreter need not be.
//! * A missing interpreter exits with 127, like a missing program: the
//!   shell reports `execve`'s `ENOENT` that way.
//! * The stack is executable only when `PT_GNU_STACK` asks for it.
//! * On an error the address space is left partly filled: the caller is
//!   expected to give up on it (the host exits).

mod elf;
pub use elf::{EM_RISCV, EM_X86_64};
mod stack;

use crate::abi::{O_CLOEXEC, O_RDONLY, S_IFDIR, S_IFMT, S_IFREG};
use crate::host::{AT_EMPTY_PATH, AT_FDCWD, Errno, HostOs};
use crate::memory::{GuestMemory, PAGE_SIZE, Perm, page_down, page_up};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use elf::{ElfImage, Phdr};

/// Default guest address space size (64 GiB).
pub const ADDRESS_SPACE_SIZE: u64 = 1 << 36;

/// What to load, and the process's initial arguments.
#[derive(Clone, Copy, Debug)]
pub struct LoadConfig<'a> {
    /// Program path as the user gave it (opened through HostOs, AT_FDCWD).
    pub path: &'a [u8],
    /// The arguments, `argv[0]` included.
    pub argv: &'a [&'a [u8]],
    /// The environment, `VAR=VAL` strings.
    pub envp: &'a [&'a [u8]],
    /// Prefix for the `PT_INTERP` path (tried first, then the plain path).
    pub sysroot: Option<&'a [u8]>,
    /// The `AT_EXECFN` string.
    pub execfn: &'a [u8],
    /// Where the interpreter is loaded from, when not from `PT_INTERP`'s
    /// path (a host that holds the file an `execve` checked, see
    /// [`probe`]).
    pub interp_from: Option<&'a [u8]>,
}

/// Where things went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// First guest pc: the interpreter's entry, or the program's.
    pub entry: u64,
    /// Initial stack pointer (16-byte aligned, pointing at `argc`).
    pub sp: u64,
    /// The program's own entry (`AT_ENTRY`).
    pub exe_entry: u64,
    /// Load bias of the program: what was added to its `p_vaddr`s (0 for
    /// `ET_EXEC`).
    pub exe_base: u64,
    /// Load bias of the interpreter (`AT_BASE`), if there is one.
    pub interp_base: Option<u64>,
    /// Initial program break (page after the program's highest segment).
    pub brk: u64,
}

/// Why a program cannot be loaded. `Display` gives one line without the
/// file name (the host prefixes `pvm: <path>: `).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The file does not exist.
    NotFound,
    /// Opening the file was refused.
    PermissionDenied,
    IsDirectory,
    /// A device, FIFO, socket...
    NotRegularFile,
    /// No execute permission bit is set.
    NotExecutable,
    /// Any other host error while opening or reading.
    Io(Errno),
    /// The file got shorter while it was being read.
    FileChanged,
    /// No ELF magic number.
    NotElf,
    /// ELF magic, but the file ends inside the ELF header.
    TooShort {
        size: u64,
    },
    /// An ELF32 file; `machine` is its `e_machine` when the file has one.
    Elf32 {
        machine: Option<u16>,
    },
    BadClass(u8),
    BigEndian,
    BadByteOrder(u8),
    /// `e_machine` is not RISC-V.
    WrongMachine(u16),
    /// `e_type` is neither `ET_EXEC` nor `ET_DYN`.
    NotExecutableType(u16),
    QuadFloatAbi,
    NoProgramHeaders,
    BadPhentsize(u16),
    TooManyProgramHeaders(u16),
    ProgramHeadersOutsideFile {
        offset: u64,
        size: u64,
        file_size: u64,
    },
    SegmentOutsideFile {
        index: usize,
        offset: u64,
        filesz: u64,
        file_size: u64,
    },
    FileSizeExceedsMemSize {
        index: usize,
        filesz: u64,
        memsz: u64,
    },
    /// The segment wraps around or does not fit where it must go.
    SegmentOutsideAddressSpace {
        index: usize,
        vaddr: u64,
        memsz: u64,
    },
    MisalignedSegment {
        index: usize,
        offset: u64,
        vaddr: u64,
    },
    SegmentsOverlap {
        first: usize,
        second: usize,
    },
    NoLoadableSegments,
    /// `PT_INTERP` is empty, too long or not NUL-terminated.
    BadInterpreterPath,
    InterpreterNotFound {
        path: Vec<u8>,
        sysroot: Option<Vec<u8>>,
    },
    BadInterpreter {
        path: Vec<u8>,
        error: Box<LoadError>,
    },
    /// The strings do not fit the argument area of the stack.
    ArgumentsTooLong,
    /// Mapping guest memory failed.
    Memory(Errno),
}

impl LoadError {
    /// The exit status a shell would give: 127 when the program does not
    /// exist, 126 when it exists but cannot be executed (a missing
    /// interpreter included: the file the user named is there).
    pub fn exit_code(&self) -> i32 {
        match self {
            LoadError::NotFound => 127,
            _ => 126,
        }
    }
}

/// A path from the file, for a one-line message: invalid UTF-8 replaced,
/// control characters (a mutated `PT_INTERP` may hold a newline) escaped.
fn lossy(path: &[u8]) -> String {
    let mut s = String::new();
    for c in String::from_utf8_lossy(path).chars() {
        if c.is_control() {
            s.extend(c.escape_default());
        } else {
            s.push(c);
        }
    }
    s
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use LoadError::*;
        match self {
            NotFound => write!(f, "No such file or directory"),
            PermissionDenied => write!(f, "Permission denied"),
            IsDirectory => write!(f, "Is a directory"),
            NotRegularFile => write!(f, "not a regular file"),
            NotExecutable => write!(f, "Permission denied (not executable)"),
            Io(e) => write!(f, "cannot read the file: {e}"),
            FileChanged => write!(f, "the file changed while it was being loaded"),
            NotElf => write!(f, "not an ELF file (bad magic number)"),
            TooShort { size } => write!(
                f,
                "truncated ELF file: {size} bytes, shorter than the 64-byte ELF header"
            ),
            Elf32 {
                machine: None | Some(elf::EM_RISCV),
            } => {
                write!(f, "32-bit ELF (RV32?) is not supported")
            }
            Elf32 { machine: Some(m) } => write!(
                f,
                "32-bit ELF for {}, not a RISC-V 64 program",
                elf::machine_name(*m)
            ),
            BadClass(c) => write!(f, "invalid ELF class {c}"),
            BigEndian => write!(
                f,
                "big-endian ELF is not supported (RISC-V Linux is little-endian)"
            ),
            BadByteOrder(d) => write!(f, "invalid ELF byte order {d}"),
            WrongMachine(m) => write!(
                f,
                "ELF for {} (machine {m}), not RISC-V",
                elf::machine_name(*m)
            ),
            NotExecutableType(1) => write!(f, "relocatable object (ET_REL), not an executable"),
            NotExecutableType(4) => write!(f, "core dump (ET_CORE), not an executable"),
            NotExecutableType(t) => write!(f, "ELF type {t:#x} is not an executable"),
            QuadFloatAbi => write!(
                f,
                "quad-float ABI (lp64q) needs the Q extension, which pvm does not implement"
            ),
            NoProgramHeaders => write!(f, "no program headers"),
            BadPhentsize(n) => write!(f, "corrupt ELF header: program header size {n}, not 56"),
            TooManyProgramHeaders(n) => write!(f, "too many program headers ({n})"),
            ProgramHeadersOutsideFile {
                offset,
                size,
                file_size,
            } => write!(
                f,
                "program header table ({size} bytes at offset {offset:#x}) lies outside the file ({file_size} bytes)"
            ),
            SegmentOutsideFile {
                index,
                offset,
                filesz,
                file_size,
            } => write!(
                f,
                "segment {index}: file range {offset:#x}+{filesz:#x} lies outside the file ({file_size} bytes)"
            ),
            FileSizeExceedsMemSize {
                index,
                filesz,
                memsz,
            } => write!(
                f,
                "segment {index}: file size {filesz:#x} is larger than its memory size {memsz:#x}"
            ),
            SegmentOutsideAddressSpace {
                index,
                vaddr,
                memsz,
            } => write!(
                f,
                "segment {index} (address {vaddr:#x}, size {memsz:#x}) does not fit in the guest address space"
            ),
            MisalignedSegment {
                index,
                offset,
                vaddr,
            } => write!(
                f,
                "segment {index}: file offset {offset:#x} and address {vaddr:#x} differ modulo the page size"
            ),
            SegmentsOverlap { first, second } => {
                write!(f, "segments {first} and {second} overlap")
            }
            NoLoadableSegments => write!(f, "no loadable segments"),
            BadInterpreterPath => write!(f, "invalid interpreter path (PT_INTERP)"),
            InterpreterNotFound {
                path,
                sysroot: Some(root),
            } => write!(
                f,
                "interpreter {} not found (in sysroot {} nor in /)",
                lossy(path),
                lossy(root)
            ),
            InterpreterNotFound {
                path,
                sysroot: None,
            } => write!(
                f,
                "interpreter {} not found (give a sysroot with -L or PVM_SYSROOT)",
                lossy(path)
            ),
            BadInterpreter { path, error } => write!(f, "interpreter {}: {error}", lossy(path)),
            ArgumentsTooLong => write!(f, "argument list too long"),
            Memory(e) => write!(f, "cannot map the program: {e}"),
        }
    }
}

/// The address-space shape for a guest memory of a given size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Lowest address a segment may occupy (page 0 stays unmapped).
    pub min_addr: u64,
    /// Where an `ET_DYN` program's first page goes.
    pub dyn_base: u64,
    /// Top of the `mmap` area.
    pub mmap_top: u64,
    /// Stack: `[stack_top - stack_size, stack_top)`.
    pub stack_top: u64,
    pub stack_size: u64,
}

const MIB: u64 = 1 << 20;

impl Layout {
    /// The layout for an address space of `size` bytes (page aligned).
    pub fn for_size(size: u64) -> Layout {
        let size = page_down(size);
        let stack_size = (8 * MIB).min(page_down(size / 16));
        let guard = MIB.min(page_down(size / 64));
        Layout {
            min_addr: PAGE_SIZE,
            dyn_base: page_down(size / 64).max(PAGE_SIZE),
            mmap_top: size - stack_size - guard,
            stack_top: size,
            stack_size,
        }
    }
}

/// An open file on the host, closed on drop.
struct HostFile {
    host: &'static dyn HostOs,
    fd: i32,
    size: u64,
    /// Closed when dropped (not a descriptor the caller lent).
    owned: bool,
}

impl Drop for HostFile {
    fn drop(&mut self) {
        if self.owned {
            let _ = self.host.close(self.fd);
        }
    }
}

impl HostFile {
    fn open(
        host: &'static dyn HostOs,
        path: &[u8],
        need_exec: bool,
    ) -> Result<HostFile, LoadError> {
        let fd = host
            .openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0)
            .map_err(open_error)?;
        Self::checked(host, fd, need_exec, true)
    }

    /// The file open at `fd`, which the caller keeps (and closes).
    fn of_fd(host: &'static dyn HostOs, fd: i32, need_exec: bool) -> Result<HostFile, LoadError> {
        Self::checked(host, fd, need_exec, false)
    }

    /// Its descriptor, which the caller now owns.
    fn into_fd(mut self) -> i32 {
        self.owned = false;
        self.fd
    }

    fn checked(
        host: &'static dyn HostOs,
        fd: i32,
        need_exec: bool,
        owned: bool,
    ) -> Result<HostFile, LoadError> {
        // From here on, every early return below closes `fd` if owned.
        let mut file = HostFile {
            host,
            fd,
            size: 0,
            owned,
        };
        let st = host
            .fstatat(fd, b"", AT_EMPTY_PATH)
            .map_err(LoadError::Io)?;
        match st.mode & S_IFMT {
            S_IFDIR => return Err(LoadError::IsDirectory),
            S_IFREG => {}
            _ => return Err(LoadError::NotRegularFile),
        }
        if need_exec && st.mode & 0o111 == 0 {
            return Err(LoadError::NotExecutable);
        }
        file.size = st.size.max(0) as u64;
        Ok(file)
    }

    /// Fill `buf` from `offset`; the caller checked the range against
    /// `size`, so a short read means the file changed under us.
    fn read_exact_at(&self, mut offset: u64, mut buf: &mut [u8]) -> Result<(), LoadError> {
        while !buf.is_empty() {
            let off = i64::try_from(offset).map_err(|_| LoadError::FileChanged)?;
            match self.host.pread(self.fd, buf, off) {
                Ok(0) => return Err(LoadError::FileChanged),
                Ok(n) => {
                    let n = n.min(buf.len());
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
                Err(Errno::EINTR) => {}
                Err(e) => return Err(LoadError::Io(e)),
            }
        }
        Ok(())
    }

    /// Read and validate the ELF header and program headers.
    fn read_elf(&self) -> Result<ElfImage, LoadError> {
        let mut head = vec![0u8; (self.size.min(elf::EHDR_SIZE as u64)) as usize];
        self.read_exact_at(0, &mut head)?;
        let mut img = elf::parse_header(&head, self.size)?;
        let mut table = vec![0u8; img.phdrs_table_len()];
        self.read_exact_at(img.phoff, &mut table)?;
        elf::parse_phdrs(&mut img, &table, self.size)?;
        Ok(img)
    }

    /// The NUL-terminated path in a `PT_INTERP` segment, without the NUL.
    fn read_interp_path(&self, p: &Phdr) -> Result<Vec<u8>, LoadError> {
        // Linux's limit is PATH_MAX; the range was checked against the file.
        if p.filesz < 2 || p.filesz > 4096 {
            return Err(LoadError::BadInterpreterPath);
        }
        let mut path = vec![0u8; p.filesz as usize];
        self.read_exact_at(p.offset, &mut path)?;
        if path.pop() != Some(0) || path.contains(&0) {
            return Err(LoadError::BadInterpreterPath);
        }
        Ok(path)
    }
}

fn perm_of(flags: u32) -> Perm {
    let mut p = Perm::empty();
    if flags & elf::PF_R != 0 {
        p |= Perm::READ;
    }
    if flags & elf::PF_W != 0 {
        p |= Perm::WRITE;
    }
    if flags & elf::PF_X != 0 {
        p |= Perm::EXEC;
    }
    p
}

/// A segment placed in the guest: `[start, end)` in bytes, where its file
/// bytes come from, and its permission.
#[derive(Clone, Copy, Debug)]
struct Placed {
    start: u64,
    end: u64,
    offset: u64,
    filesz: u64,
    perm: Perm,
}

/// An image's `PT_LOAD` segments at their guest addresses.
#[derive(Debug)]
struct Placement {
    /// Added to every `p_vaddr`.
    bias: u64,
    segs: Vec<Placed>,
    /// Page-aligned bounds of everything placed.
    lo: u64,
    hi: u64,
}

/// Lowest page and page-aligned end of the image's loadable segments
/// (`check_segments` proved there is at least one and no overflow).
fn extent(img: &ElfImage) -> (u64, u64) {
    let lo = img
        .loads()
        .map(|(_, p)| page_down(p.vaddr))
        .min()
        .unwrap_or(0);
    let hi = img
        .loads()
        .map(|(_, p)| page_up(p.vaddr + p.memsz))
        .max()
        .unwrap_or(0);
    (lo, hi)
}

/// Put the image's first page at `base` (or where it was linked when
/// `base` is `None`) and check every segment lies in `[min, max)`.
fn place(img: &ElfImage, base: Option<u64>, min: u64, max: u64) -> Result<Placement, LoadError> {
    let (lo, _) = extent(img);
    let base = base.unwrap_or(lo);
    let bias = base.wrapping_sub(lo);
    let mut segs = Vec::new();
    for (index, p) in img.loads() {
        let outside = LoadError::SegmentOutsideAddressSpace {
            index,
            vaddr: p.vaddr.wrapping_add(bias),
            memsz: p.memsz,
        };
        let start = base.checked_add(p.vaddr - lo).ok_or(outside.clone())?;
        let end = start.checked_add(p.memsz).ok_or(outside.clone())?;
        if page_down(start) < min || page_up(end) > max {
            return Err(outside);
        }
        segs.push(Placed {
            start,
            end,
            offset: p.offset,
            filesz: p.filesz,
            perm: perm_of(p.flags),
        });
    }
    segs.sort_by_key(|s| s.start);
    let lo = segs.first().map_or(base, |s| page_down(s.start));
    let hi = segs.last().map_or(base, |s| page_up(s.end));
    Ok(Placement { bias, segs, lo, hi })
}

/// The pages to map for sorted, non-overlapping segments: where two
/// segments share a page, that page gets the union of their permissions.
fn page_ranges(segs: &[Placed]) -> Vec<(u64, u64, Perm)> {
    let mut out: Vec<(u64, u64, Perm)> = Vec::new();
    for s in segs {
        let (mut ps, pe) = (page_down(s.start), page_up(s.end));
        if let Some(last) = out.last_mut()
            && last.1 > ps
        {
            // Only the boundary page can be shared (byte ranges do not
            // overlap), so split it off the previous range.
            let shared = last.2 | s.perm;
            last.1 -= PAGE_SIZE;
            if last.0 == last.1 {
                out.pop();
            }
            out.push((ps, ps + PAGE_SIZE, shared));
            ps += PAGE_SIZE;
        }
        if ps < pe {
            out.push((ps, pe, s.perm));
        }
    }
    out
}

/// The part of `seg`'s file bytes `[seg.start, seg.start + filesz)` that
/// can be the host's copy-on-write mapping of the file, as `(guest page,
/// file offset, bytes)`: whole pages that no other segment shares, whose
/// file offset is page aligned with the guest address (as ELF requires),
/// and that the file holds entirely. The rest is copied. The last mapped
/// page may run past `filesz`: its tail is zeroed after.
fn file_pages(segs: &[Placed], i: usize, file_size: u64) -> Option<(u64, u64, u64)> {
    let seg = &segs[i];
    if seg.filesz == 0 || !seg.start.wrapping_sub(seg.offset).is_multiple_of(PAGE_SIZE) {
        return None;
    }
    let mut lo = page_down(seg.start);
    let mut hi = page_up(seg.start + seg.filesz);
    // A page shared with the segment before or after holds bytes of both.
    if i > 0 && segs[i - 1].end > lo {
        lo += PAGE_SIZE;
    }
    if let Some(next) = segs.get(i + 1)
        && page_down(next.start) < hi
    {
        hi -= PAGE_SIZE;
    }
    // A page wholly past the file's end would raise `SIGBUS` on the host
    // (the last page's bytes past the end read as zero).
    if lo >= hi || seg.offset.checked_add(seg.filesz)? > file_size {
        return None;
    }
    let off = if lo <= seg.start {
        seg.offset.checked_sub(seg.start - lo)?
    } else {
        seg.offset + (lo - seg.start)
    };
    Some((lo, off, hi - lo))
}

/// Map the placed segments and fill them with their file bytes: whole
/// pages of a segment as the host's copy-on-write mapping of the file
/// where it can (see [`file_pages`]; only the pages the program touches
/// are ever read), the rest copied. Pages start zeroed, so the bss (and
/// the tail of a partly file-backed page) reads as zero.
fn map_segments(mem: &GuestMemory, file: &HostFile, pl: &Placement) -> Result<(), LoadError> {
    let ranges = page_ranges(&pl.segs);
    let rw = Perm::READ | Perm::WRITE;
    for &(s, e, _) in &ranges {
        // Mapped writable while the file's bytes are written in (so
        // `write_bytes_privileged` need not lift and restore the
        // protection of each chunk); every range gets its real permission
        // after.
        mem.map(s, e - s, rw, true).map_err(LoadError::Memory)?;
    }
    let mut buf = vec![0u8; 64 * 1024];
    for (i, seg) in pl.segs.iter().enumerate() {
        // Guest bytes [seg.start, seg.start + filesz) minus a mapped
        // middle [mapped.0, mapped.1) are copied.
        let mut mapped = (seg.start, seg.start);
        if let Some((page, off, len)) = file_pages(&pl.segs, i, file.size)
            && mem.back_with_file(page, len, rw, file.fd, off).is_ok()
        {
            let file_end = seg.start + seg.filesz;
            mapped = (page.max(seg.start), (page + len).min(file_end));
            // The mapped last page's bytes past `filesz` (bss, or the file's
            // next bytes) read as zero, as when copied.
            if page + len > file_end {
                let zeros = vec![0u8; (page + len - file_end) as usize];
                mem.write_bytes_privileged(file_end, &zeros)
                    .map_err(|_| LoadError::Memory(Errno::EFAULT))?;
            }
        }
        for (from, to) in [(seg.start, mapped.0), (mapped.1, seg.start + seg.filesz)] {
            let mut at = from;
            while at < to {
                let n = (to - at).min(buf.len() as u64) as usize;
                file.read_exact_at(seg.offset + (at - seg.start), &mut buf[..n])?;
                mem.write_bytes_privileged(at, &buf[..n])
                    .map_err(|_| LoadError::Memory(Errno::EFAULT))?;
                at += n as u64;
            }
        }
    }
    for &(s, e, perm) in &ranges {
        mem.protect(s, e - s, perm).map_err(LoadError::Memory)?;
    }
    // The file behind each segment's file pages, for /proc/self/maps.
    for seg in &pl.segs {
        let start = page_down(seg.start);
        let end = page_up(seg.start + seg.filesz);
        if end > start
            && let Some(n) =
                crate::syscall::procfs::map_name(file.host, file.fd, end, page_down(seg.offset))
        {
            mem.maps.lock().set_name(start, n);
        }
    }
    mem.invalidate_code();
    Ok(())
}

/// Guest address of the program headers (`AT_PHDR`): `PT_PHDR` if there
/// is one, else the `PT_LOAD` whose file range covers `e_phoff` (as Linux
/// does since 5.18), else `bias + e_phoff` (older Linux).
fn phdr_addr(img: &ElfImage, bias: u64) -> u64 {
    if let Some(p) = img.phdrs.iter().find(|p| p.p_type == elf::PT_PHDR) {
        return p.vaddr.wrapping_add(bias);
    }
    let table = img.phdrs_table_len() as u64;
    img.loads()
        .find(|(_, p)| p.offset <= img.phoff && img.phoff + table <= p.offset + p.filesz)
        .map(|(_, p)| (p.vaddr + (img.phoff - p.offset)).wrapping_add(bias))
        .unwrap_or(img.phoff.wrapping_add(bias))
}

/// `AT_HWCAP`: one bit per single-letter extension, `1 << (letter - 'A')`.
pub const HWCAP_RV64GC: u64 = {
    let mut v = 0;
    let letters = *b"IMAFDC";
    let mut i = 0;
    while i < letters.len() {
        v |= 1 << (letters[i] - b'A');
        i += 1;
    }
    v
};

/// The loader's error for a failed `open` of a file it loads.
fn open_error(e: Errno) -> LoadError {
    match e {
        Errno::ENOENT => LoadError::NotFound,
        Errno::EACCES => LoadError::PermissionDenied,
        Errno::EISDIR => LoadError::IsDirectory,
        e => LoadError::Io(e),
    }
}

/// Open the interpreter: `sysroot + path` first, then `path` itself.
fn open_interp(
    host: &'static dyn HostOs,
    path: &[u8],
    sysroot: Option<&[u8]>,
) -> Result<(HostFile, Vec<u8>), LoadError> {
    let bad = |p: &[u8], error| LoadError::BadInterpreter {
        path: p.to_vec(),
        error: Box::new(error),
    };
    if let Some(root) = sysroot {
        let mut full = root.to_vec();
        while full.last() == Some(&b'/') {
            full.pop();
        }
        if path.first() != Some(&b'/') {
            full.push(b'/');
        }
        full.extend_from_slice(path);
        match HostFile::open(host, &full, false) {
            Ok(f) => return Ok((f, full)),
            Err(LoadError::NotFound) => {}
            Err(e) => return Err(bad(&full, e)),
        }
    }
    match HostFile::open(host, path, false) {
        Ok(f) => Ok((f, path.to_vec())),
        Err(LoadError::NotFound) => Err(LoadError::InterpreterNotFound {
            path: path.to_vec(),
            sysroot: sysroot.map(|s| s.to_vec()),
        }),
        Err(e) => Err(bad(path, e)),
    }
}

/// Load the interpreter below `mmap_top` (top-down, as `mmap` would place
/// it) and return its load bias and entry point.
fn load_interp(
    mem: &GuestMemory,
    file: &HostFile,
    layout: &Layout,
) -> Result<(u64, u64), LoadError> {
    let img = file.read_elf()?;
    let (lo, hi) = extent(&img);
    let pl = if img.e_type == elf::ET_DYN {
        let base = {
            let maps = mem.maps.lock();
            // find_free may return a range below mmap_min when it scans past
            // lower mappings: check the floor here too.
            maps.find_free(hi - lo).filter(|&b| b >= maps.mmap_min)
        }
        .ok_or(LoadError::Memory(Errno::ENOMEM))?;
        place(&img, Some(base), layout.min_addr, layout.mmap_top)?
    } else {
        let pl = place(&img, None, layout.min_addr, layout.mmap_top)?;
        if mem.maps.lock().overlaps(pl.lo, pl.hi) {
            return Err(LoadError::Memory(Errno::EEXIST));
        }
        pl
    };
    map_segments(mem, file, &pl)?;
    Ok((pl.bias, img.entry.wrapping_add(pl.bias)))
}

/// Check, as `execve` does before its point of no return, that the file
/// open at `fd` is a RISC-V program [`load`] would accept into an address
/// space of `space` bytes: executable, valid headers, segments that fit,
/// and an interpreter that exists and is valid (opened by `open`, as the
/// caller looks a path up: through the host, so with its path rules, e.g.
/// a sysroot; the descriptor is close-on-exec). Nothing is mapped. The
/// interpreter checked, if there is one, is returned open (close-on-exec;
/// the caller closes it), for a host that loads the new program to load
/// that file ([`LoadConfig::interp_from`]) rather than look its name up
/// again.
pub fn probe(
    host: &'static dyn HostOs,
    fd: i32,
    space: u64,
    open: &mut dyn FnMut(&[u8]) -> crate::host::SysResult<i32>,
) -> Result<Option<i32>, LoadError> {
    let layout = Layout::for_size(space);
    let file = HostFile::of_fd(host, fd, true)?;
    let img = file.read_elf()?;
    let base = (img.e_type == elf::ET_DYN).then_some(layout.dyn_base);
    let pl = place(&img, base, layout.min_addr, layout.mmap_top)?;
    if pl.hi >= layout.mmap_top {
        return Err(LoadError::NoLoadableSegments);
    }
    if let Some(p) = img.phdrs.iter().find(|p| p.p_type == elf::PT_INTERP) {
        let ipath = file.read_interp_path(p)?;
        let opened = open(&ipath).map_err(open_error);
        let ifile = match opened.and_then(|fd| HostFile::checked(host, fd, false, true)) {
            Ok(f) => f,
            Err(LoadError::NotFound) => {
                return Err(LoadError::InterpreterNotFound {
                    path: ipath,
                    sysroot: None,
                });
            }
            Err(e) => {
                return Err(LoadError::BadInterpreter {
                    path: ipath,
                    error: Box::new(e),
                });
            }
        };
        let full = ipath;
        let bad = |e| LoadError::BadInterpreter {
            path: full.clone(),
            error: Box::new(e),
        };
        let iimg = ifile.read_elf().map_err(bad)?;
        let (lo, hi) = extent(&iimg);
        let ibase = (iimg.e_type == elf::ET_DYN).then_some(layout.min_addr);
        if iimg.e_type == elf::ET_DYN && hi - lo > layout.mmap_top - layout.min_addr {
            return Err(bad(LoadError::Memory(Errno::ENOMEM)));
        }
        place(&iimg, ibase, layout.min_addr, layout.mmap_top).map_err(bad)?;
        return Ok(Some(ifile.into_fd()));
    }
    Ok(None)
}

/// Load the program `cfg.path` (and its interpreter) into the fresh
/// address space `mem` and build its initial stack. Also sets `mem.maps`'
/// `brk_start`, `brk`, `mmap_top` and `mmap_min`.
pub fn load(mem: &GuestMemory, cfg: &LoadConfig<'_>) -> Result<Loaded, LoadError> {
    let host = mem.host();
    let layout = Layout::for_size(mem.size());

    let file = HostFile::open(host, cfg.path, true)?;
    let img = file.read_elf()?;
    let base = (img.e_type == elf::ET_DYN).then_some(layout.dyn_base);
    let pl = place(&img, base, layout.min_addr, layout.mmap_top)?;
    let brk_start = pl.hi;
    if brk_start >= layout.mmap_top {
        let (index, p) = img.loads().last().ok_or(LoadError::NoLoadableSegments)?;
        return Err(LoadError::SegmentOutsideAddressSpace {
            index,
            vaddr: p.vaddr.wrapping_add(pl.bias),
            memsz: p.memsz,
        });
    }
    map_segments(mem, &file, &pl)?;
    let exe_entry = img.entry.wrapping_add(pl.bias);
    {
        let mut maps = mem.maps.lock();
        maps.brk_start = brk_start;
        maps.brk = brk_start;
        maps.mmap_top = layout.mmap_top;
        maps.mmap_min = brk_start + page_down((layout.mmap_top - brk_start) / 4);
    }

    let exec_stack = img
        .phdrs
        .iter()
        .any(|p| p.p_type == elf::PT_GNU_STACK && p.flags & elf::PF_X != 0);
    let stack_perm = if exec_stack {
        Perm::READ | Perm::WRITE | Perm::EXEC
    } else {
        Perm::READ | Perm::WRITE
    };
    let stack_bottom = layout.stack_top - layout.stack_size;
    mem.map(stack_bottom, layout.stack_size, stack_perm, true)
        .map_err(LoadError::Memory)?;

    let interp = match img.phdrs.iter().find(|p| p.p_type == elf::PT_INTERP) {
        Some(p) => {
            let path = file.read_interp_path(p)?;
            let (ifile, full) = match cfg.interp_from {
                // The file an `execve` checked, whatever `path` names now.
                Some(from) => (
                    HostFile::open(host, from, false).map_err(|e| LoadError::BadInterpreter {
                        path: path.clone(),
                        error: Box::new(e),
                    })?,
                    path,
                ),
                None => open_interp(host, &path, cfg.sysroot)?,
            };
            let loaded = load_interp(mem, &ifile, &layout).map_err(|e| match e {
                LoadError::BadInterpreter { .. } => e,
                e => LoadError::BadInterpreter {
                    path: full,
                    error: Box::new(e),
                },
            })?;
            Some(loaded)
        }
        None => None,
    };
    drop(file);

    let ids = host.ids();
    let mut random = [0u8; 16];
    let mut got = 0;
    while got < random.len() {
        match host.random(&mut random[got..]) {
            Ok(0) => return Err(LoadError::Io(Errno::EIO)),
            Ok(n) => got += n,
            Err(Errno::EINTR) => {}
            Err(e) => return Err(LoadError::Io(e)),
        }
    }
    // Linux's order (create_elf_tables; riscv adds no AT_PLATFORM).
    let aux = [
        (stack::AT_HWCAP, HWCAP_RV64GC),
        (stack::AT_PAGESZ, PAGE_SIZE),
        (stack::AT_CLKTCK, 100),
        (stack::AT_PHDR, phdr_addr(&img, pl.bias)),
        (stack::AT_PHENT, elf::PHDR_SIZE as u64),
        (stack::AT_PHNUM, img.phdrs.len() as u64),
        (stack::AT_BASE, interp.map_or(0, |(b, _)| b)),
        (stack::AT_FLAGS, 0),
        (stack::AT_ENTRY, exe_entry),
        (stack::AT_UID, ids.uid as u64),
        (stack::AT_EUID, ids.euid as u64),
        (stack::AT_GID, ids.gid as u64),
        (stack::AT_EGID, ids.egid as u64),
        (stack::AT_SECURE, 0),
        (stack::AT_RANDOM, 0),
        (stack::AT_EXECFN, 0),
    ];
    let image = stack::build(
        layout.stack_top,
        cfg.argv,
        cfg.envp,
        cfg.execfn,
        random,
        &aux,
        layout.stack_size / 4,
    )?;
    mem.write_bytes(image.sp, &image.bytes)
        .map_err(|_| LoadError::Memory(Errno::EFAULT))?;

    Ok(Loaded {
        entry: interp.map_or(exe_entry, |(_, e)| e),
        sp: image.sp,
        exe_entry,
        exe_base: pl.bias,
        interp_base: interp.map(|(b, _)| b),
        brk: brk_start,
    })
}

#[cfg(test)]
mod tests;
