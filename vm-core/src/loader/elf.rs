//! ELF validation: turn the untrusted bytes of an ELF header and its
//! program header table into an [`ElfImage`] every later step may trust.
//!
//! Parsing uses `xmas-elf`, but only on buffers this module has already
//! checked: `xmas-elf` indexes and casts without bounds or alignment checks
//! of its own (`zero::read` asserts both), so it panics on a short or
//! misaligned table. Every byte handed to it here is first copied into an
//! 8-byte-aligned buffer of exactly the size it will read.
//!
//! The checks follow Linux's `load_elf_binary` (magic, `e_machine`,
//! `e_type`, `e_phentsize`, table size) and add the ones Linux leaves to
//! `mmap` failing later (segments inside the file, ordered, not
//! overlapping, inside the address space), so that each bad file gets one
//! precise [`LoadError`].

use super::LoadError;
use alloc::vec;
use alloc::vec::Vec;
use xmas_elf::header::{self, Class, Data, HeaderPt2, Machine, Type};
use xmas_elf::program::{self, ProgramHeader};

/// Size of an ELF64 file header.
pub const EHDR_SIZE: usize = 64;
/// Size of an ELF64 program header.
pub const PHDR_SIZE: usize = 56;
/// Linux refuses program header tables larger than this (`elf_read_phdrs`).
pub const MAX_PHDR_TABLE: usize = 65536;

pub const EM_RISCV: u16 = 243;
/// The host's machine (pvm translates to x86-64): the one ELF machine
/// besides RISC-V that `execve` runs, natively.
pub const EM_X86_64: u16 = 62;
pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;

pub const PT_LOAD: u32 = 1;
pub const PT_INTERP: u32 = 3;
pub const PT_PHDR: u32 = 6;
pub const PT_GNU_STACK: u32 = 0x6474_e551;

pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;

/// `e_flags` bits of the RISC-V psABI.
pub const EF_RISCV_FLOAT_ABI: u32 = 0x6;
#[cfg(test)]
pub const EF_RISCV_FLOAT_ABI_DOUBLE: u32 = 0x4;
pub const EF_RISCV_FLOAT_ABI_QUAD: u32 = 0x6;

/// One program header, copied out of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phdr {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
}

/// A validated ELF file: header fields and program headers.
#[derive(Clone, Debug)]
pub struct ElfImage {
    pub e_type: u16,
    pub entry: u64,
    pub phoff: u64,
    pub phnum: u16,
    pub phdrs: Vec<Phdr>,
}

impl ElfImage {
    /// Size in bytes of the program header table.
    pub fn phdrs_table_len(&self) -> usize {
        self.phnum as usize * PHDR_SIZE
    }

    /// The `PT_LOAD` segments with a non-empty memory image, in file order.
    pub fn loads(&self) -> impl Iterator<Item = (usize, &Phdr)> {
        self.phdrs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.p_type == PT_LOAD && p.memsz != 0)
    }
}

/// A buffer whose bytes start at an 8-byte-aligned address, as
/// `zero::read` (inside `xmas-elf`) asserts.
struct Aligned {
    storage: Vec<u8>,
    start: usize,
    len: usize,
}

impl Aligned {
    fn new(bytes: &[u8]) -> Aligned {
        let mut storage = vec![0u8; bytes.len() + 8];
        // `align_offset` on a byte pointer is always below 8 at run time;
        // `min` keeps the slice below in range even if it were not, and
        // `bytes()` would then just be misaligned (checked by the caller).
        let start = storage.as_ptr().align_offset(8).min(8);
        storage[start..start + bytes.len()].copy_from_slice(bytes);
        Aligned {
            storage,
            start,
            len: bytes.len(),
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.storage[self.start..self.start + self.len]
    }

    /// Whether xmas-elf may read from this buffer without panicking.
    fn is_aligned(&self) -> bool {
        (self.bytes().as_ptr() as usize).is_multiple_of(8)
    }
}

/// Name of an `e_machine` value, for "wrong machine" messages.
pub fn machine_name(m: u16) -> &'static str {
    match m {
        0 => "no machine",
        2 => "SPARC",
        3 => "x86 (i386)",
        8 => "MIPS",
        20 => "PowerPC",
        21 => "PowerPC64",
        22 => "S/390",
        40 => "ARM",
        42 => "SuperH",
        43 => "SPARC V9",
        50 => "IA-64",
        62 => "x86-64",
        183 => "AArch64",
        243 => "RISC-V",
        247 => "BPF",
        258 => "LoongArch",
        _ => "an unknown machine",
    }
}

/// Validate the file header (`head` holds the first bytes of the file,
/// up to [`EHDR_SIZE`]; `file_size` is the whole file's size). Returns the
/// header fields; the program headers are read and checked by
/// [`parse_phdrs`].
pub fn parse_header(head: &[u8], file_size: u64) -> Result<ElfImage, LoadError> {
    if head.len() < 4 || head[..4] != header::MAGIC {
        return Err(LoadError::NotElf);
    }
    // Class and byte order are checked before anything is read through
    // xmas-elf, so each gets its own message (and a 52-byte ELF32 file is
    // reported as ELF32, not as truncated).
    match head.get(4) {
        Some(2) => {}
        Some(1) => {
            let machine = head.get(18..20).map(|b| u16::from_le_bytes([b[0], b[1]]));
            return Err(LoadError::Elf32 { machine });
        }
        Some(&c) => return Err(LoadError::BadClass(c)),
        None => return Err(LoadError::TooShort { size: file_size }),
    }
    match head.get(5) {
        Some(1) => {}
        Some(2) => return Err(LoadError::BigEndian),
        Some(&d) => return Err(LoadError::BadByteOrder(d)),
        None => return Err(LoadError::TooShort { size: file_size }),
    }
    if head.len() < EHDR_SIZE {
        return Err(LoadError::TooShort { size: file_size });
    }
    let buf = Aligned::new(&head[..EHDR_SIZE]);
    if !buf.is_aligned() {
        return Err(LoadError::NotElf);
    }
    // Cannot fail or panic: 64 aligned bytes with a valid magic and class.
    let hdr = header::parse_header(buf.bytes()).map_err(|_| LoadError::NotElf)?;
    if hdr.pt1.class() != Class::SixtyFour || hdr.pt1.data() != Data::LittleEndian {
        return Err(LoadError::NotElf);
    }
    let HeaderPt2::Header64(h) = hdr.pt2 else {
        return Err(LoadError::NotElf);
    };
    let machine = h.machine.as_machine();
    if machine != Machine::RISC_V {
        let raw = match machine {
            Machine::Other(m) => m,
            _ => u16::from_le_bytes([head[18], head[19]]),
        };
        return Err(LoadError::WrongMachine(raw));
    }
    let e_type = match h.type_.as_type() {
        Type::Executable => ET_EXEC,
        Type::SharedObject => ET_DYN,
        Type::None => return Err(LoadError::NotExecutableType(0)),
        Type::Relocatable => return Err(LoadError::NotExecutableType(1)),
        Type::Core => return Err(LoadError::NotExecutableType(4)),
        Type::ProcessorSpecific(t) => return Err(LoadError::NotExecutableType(t)),
    };
    if h.flags & EF_RISCV_FLOAT_ABI == EF_RISCV_FLOAT_ABI_QUAD {
        return Err(LoadError::QuadFloatAbi);
    }
    let phnum = h.ph_count as usize;
    let phentsize = h.ph_entry_size as usize;
    if phnum == 0 {
        return Err(LoadError::NoProgramHeaders);
    }
    if phentsize != PHDR_SIZE {
        return Err(LoadError::BadPhentsize(h.ph_entry_size));
    }
    let table = phnum * PHDR_SIZE;
    if table > MAX_PHDR_TABLE {
        return Err(LoadError::TooManyProgramHeaders(h.ph_count));
    }
    let phoff = h.ph_offset;
    if phoff
        .checked_add(table as u64)
        .is_none_or(|end| end > file_size)
    {
        return Err(LoadError::ProgramHeadersOutsideFile {
            offset: phoff,
            size: table as u64,
            file_size,
        });
    }
    Ok(ElfImage {
        e_type,
        entry: h.entry_point,
        phoff,
        phnum: h.ph_count,
        phdrs: Vec::new(),
    })
}

/// Decode and validate the program header table (`table` holds exactly
/// `phnum * PHDR_SIZE` bytes read from `img.phoff`).
pub fn parse_phdrs(img: &mut ElfImage, table: &[u8], file_size: u64) -> Result<(), LoadError> {
    if table.is_empty() || !table.len().is_multiple_of(PHDR_SIZE) || table.len() > MAX_PHDR_TABLE {
        return Err(LoadError::NoProgramHeaders);
    }
    let count = table.len() / PHDR_SIZE;
    // A synthetic image for xmas-elf: a minimal ELF64 header whose table
    // sits right after it at offset 64 (8-aligned), followed by the table.
    // xmas-elf then reads exactly the bytes this function checked.
    let mut synth = Vec::with_capacity(EHDR_SIZE + table.len());
    synth.extend_from_slice(&header::MAGIC);
    synth.extend_from_slice(&[2, 1, 1, 0]);
    synth.resize(16, 0);
    synth.extend_from_slice(&ET_EXEC.to_le_bytes()); // e_type
    synth.extend_from_slice(&EM_RISCV.to_le_bytes()); // e_machine
    synth.extend_from_slice(&1u32.to_le_bytes()); // e_version
    synth.extend_from_slice(&0u64.to_le_bytes()); // e_entry
    synth.extend_from_slice(&(EHDR_SIZE as u64).to_le_bytes()); // e_phoff
    synth.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    synth.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    synth.extend_from_slice(&(EHDR_SIZE as u16).to_le_bytes()); // e_ehsize
    synth.extend_from_slice(&(PHDR_SIZE as u16).to_le_bytes()); // e_phentsize
    synth.extend_from_slice(&(count as u16).to_le_bytes()); // e_phnum
    synth.extend_from_slice(&[0; 6]); // e_shentsize, e_shnum, e_shstrndx
    synth.extend_from_slice(table);
    let buf = Aligned::new(&synth);
    if !buf.is_aligned() {
        return Err(LoadError::NoProgramHeaders);
    }
    let hdr = header::parse_header(buf.bytes()).map_err(|_| LoadError::NoProgramHeaders)?;
    let mut phdrs = Vec::with_capacity(count);
    for i in 0..count {
        let ph = program::parse_program_header(buf.bytes(), hdr, i as u16)
            .map_err(|_| LoadError::NoProgramHeaders)?;
        let ProgramHeader::Ph64(p) = ph else {
            return Err(LoadError::NoProgramHeaders);
        };
        // The raw type: xmas-elf's enum rejects values it does not know,
        // which Linux simply ignores.
        let raw = &table[i * PHDR_SIZE..i * PHDR_SIZE + 4];
        phdrs.push(Phdr {
            p_type: u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]),
            flags: p.flags.0,
            offset: p.offset,
            vaddr: p.virtual_addr,
            filesz: p.file_size,
            memsz: p.mem_size,
            align: p.align,
        });
    }
    img.phdrs = phdrs;
    check_segments(img, file_size)
}

/// The per-segment checks that do not depend on where the image goes.
fn check_segments(img: &ElfImage, file_size: u64) -> Result<(), LoadError> {
    let page = crate::memory::PAGE_SIZE;
    for (index, p) in img.phdrs.iter().enumerate() {
        let file_backed = p.p_type == PT_LOAD || p.p_type == PT_INTERP;
        if file_backed && (p.offset.checked_add(p.filesz)).is_none_or(|end| end > file_size) {
            return Err(LoadError::SegmentOutsideFile {
                index,
                offset: p.offset,
                filesz: p.filesz,
                file_size,
            });
        }
        if p.p_type != PT_LOAD {
            continue;
        }
        if p.filesz > p.memsz {
            return Err(LoadError::FileSizeExceedsMemSize {
                index,
                filesz: p.filesz,
                memsz: p.memsz,
            });
        }
        if p.vaddr.checked_add(p.memsz).is_none() {
            return Err(LoadError::SegmentOutsideAddressSpace {
                index,
                vaddr: p.vaddr,
                memsz: p.memsz,
            });
        }
        if p.filesz != 0 && p.offset % page != p.vaddr % page {
            return Err(LoadError::MisalignedSegment {
                index,
                offset: p.offset,
                vaddr: p.vaddr,
            });
        }
    }
    let mut loads: Vec<(usize, &Phdr)> = img.loads().collect();
    if loads.is_empty() {
        return Err(LoadError::NoLoadableSegments);
    }
    loads.sort_by_key(|(_, p)| p.vaddr);
    for w in loads.windows(2) {
        let ((i, a), (j, b)) = (w[0], w[1]);
        if a.vaddr + a.memsz > b.vaddr {
            return Err(LoadError::SegmentsOverlap {
                first: i.min(j),
                second: i.max(j),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_buffer_is_aligned_and_exact() {
        let data: Vec<u8> = (0..13).collect();
        let a = Aligned::new(&data);
        assert_eq!(a.bytes(), &data[..]);
        assert_eq!(a.bytes().as_ptr() as usize % 8, 0);
    }

    #[test]
    fn machine_names() {
        assert_eq!(machine_name(62), "x86-64");
        assert_eq!(machine_name(183), "AArch64");
        assert_eq!(machine_name(0x1234), "an unknown machine");
    }
}
