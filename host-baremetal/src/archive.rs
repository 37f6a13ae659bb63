//! Reader for the ramdisk archive: the cpio "newc" format (`070701`), as
//! written by `cpio -H newc` and by `cargo xtask qemu`.
//!
//! Each member is a 110-byte ASCII header (magic plus 13 eight-digit hex
//! fields), the NUL-terminated name padded to a multiple of 4 bytes
//! (counting from the header start), then the data, padded likewise. The
//! member named `TRAILER!!!` ends the archive. Entries borrow from the
//! archive bytes: nothing is copied.

/// One archive member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Path inside the archive, without the NUL (leading `./` or `/` kept as
    /// written; the file system strips them).
    pub name: &'a [u8],
    /// File type and permission bits (`S_IFMT | 0o7777`).
    pub mode: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: u32,
    /// File contents (a symlink's target for symlinks).
    pub data: &'a [u8],
}

/// Why an archive could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveError {
    /// A header, name or data runs past the end of the archive.
    Truncated { offset: usize },
    /// A header does not start with `070701`.
    BadMagic { offset: usize },
    /// A header field is not 8 hex digits, or the name is not NUL-terminated.
    BadHeader { offset: usize },
}

impl core::fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ArchiveError::Truncated { offset } => {
                write!(f, "archive truncated (member at byte {offset})")
            }
            ArchiveError::BadMagic { offset } => {
                write!(f, "not a newc cpio member at byte {offset}")
            }
            ArchiveError::BadHeader { offset } => {
                write!(f, "corrupt cpio header at byte {offset}")
            }
        }
    }
}

const MAGIC: &[u8; 6] = b"070701";
const HEADER_LEN: usize = 110;
const TRAILER: &[u8] = b"TRAILER!!!";

/// Iterator over the members of a newc archive. After an error it yields
/// nothing more.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
    done: bool,
}

/// Read the members of `bytes`.
pub fn read(bytes: &[u8]) -> Reader<'_> {
    Reader {
        bytes,
        offset: 0,
        done: false,
    }
}

fn hex_field(field: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    for &c in field {
        let d = (c as char).to_digit(16)?;
        v = (v << 4) | d;
    }
    Some(v)
}

fn align4(x: usize) -> Option<usize> {
    x.checked_add(3).map(|v| v & !3)
}

impl<'a> Reader<'a> {
    fn next_entry(&mut self) -> Result<Option<Entry<'a>>, ArchiveError> {
        let start = self.offset;
        let truncated = ArchiveError::Truncated { offset: start };
        let bad = ArchiveError::BadHeader { offset: start };
        let header = self
            .bytes
            .get(start..start.checked_add(HEADER_LEN).ok_or(truncated)?)
            .ok_or(truncated)?;
        if &header[..6] != MAGIC {
            return Err(ArchiveError::BadMagic { offset: start });
        }
        let field = |i: usize| hex_field(&header[6 + 8 * i..14 + 8 * i]).ok_or(bad);
        // Fields we do not use (inode, owner, devices, checksum) must still
        // be well formed: anything else means the offsets have gone astray.
        for i in 0..13 {
            field(i)?;
        }
        let mode = field(1)?;
        let mtime = field(5)?;
        let filesize = field(6)? as usize;
        let namesize = field(11)? as usize;
        if namesize == 0 {
            return Err(bad);
        }
        let name_start = start + HEADER_LEN;
        let name_end = name_start.checked_add(namesize).ok_or(truncated)?;
        let name = self.bytes.get(name_start..name_end).ok_or(truncated)?;
        let (&nul, name) = name.split_last().ok_or(bad)?;
        if nul != 0 || name.contains(&0) {
            return Err(bad);
        }
        let data_start = align4(name_end).ok_or(truncated)?;
        let data_end = data_start.checked_add(filesize).ok_or(truncated)?;
        let data = self.bytes.get(data_start..data_end).ok_or(truncated)?;
        self.offset = align4(data_end).ok_or(truncated)?;
        if name == TRAILER {
            return Ok(None);
        }
        Ok(Some(Entry {
            name,
            mode,
            mtime,
            data,
        }))
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Entry<'a>, ArchiveError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_entry() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// A newc writer for tests (xtask has its own, std-only, for real
    /// images; `cpio -o -H newc` archives are checked below as well).
    pub(crate) fn write_member(out: &mut Vec<u8>, name: &[u8], mode: u32, data: &[u8]) {
        let fields = [
            1,
            mode,
            0,
            0,
            1,
            1_700_000_000,
            data.len() as u32,
            0,
            0,
            0,
            0,
            name.len() as u32 + 1,
            0,
        ];
        out.extend_from_slice(MAGIC);
        for f in fields {
            out.extend_from_slice(alloc::format!("{f:08X}").as_bytes());
        }
        out.extend_from_slice(name);
        out.push(0);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        out.extend_from_slice(data);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    }

    pub(crate) fn archive(members: &[(&[u8], u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, mode, data) in members {
            write_member(&mut out, name, *mode, data);
        }
        write_member(&mut out, TRAILER, 0, b"");
        out
    }

    #[test]
    fn reads_members_in_order() {
        let a = archive(&[
            (b"dir", 0o040755, b""),
            (b"dir/file", 0o100644, b"hello"),
            (b"dir/link", 0o120777, b"file"),
            (b"empty", 0o100600, b""),
        ]);
        let entries: Vec<Entry<'_>> = read(&a).map(|e| e.unwrap()).collect();
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[0].name, b"dir");
        assert_eq!(entries[0].mode, 0o040755);
        assert_eq!(entries[1].name, b"dir/file");
        assert_eq!(entries[1].data, b"hello");
        assert_eq!(entries[1].mtime, 1_700_000_000);
        assert_eq!(entries[2].data, b"file");
        assert_eq!(entries[3].data, b"");
    }

    #[test]
    fn every_name_and_data_length_round_trips() {
        // Exercise all padding combinations of name and data lengths.
        for nl in 1..9usize {
            for dl in 0..9usize {
                let name: Vec<u8> = (0..nl).map(|i| b'a' + i as u8).collect();
                let data: Vec<u8> = (0..dl).map(|i| i as u8).collect();
                let a = archive(&[(&name, 0o100644, &data), (b"next", 0o100644, b"x")]);
                let e: Vec<_> = read(&a).map(|e| e.unwrap()).collect();
                assert_eq!(e.len(), 2);
                assert_eq!(e[0].name, &name[..]);
                assert_eq!(e[0].data, &data[..]);
                assert_eq!(e[1].name, b"next");
            }
        }
    }

    #[test]
    fn truncation_is_an_error_not_a_panic() {
        let a = archive(&[(b"file", 0o100644, b"0123456789")]);
        for cut in 0..a.len() {
            let r: Vec<_> = read(&a[..cut]).collect();
            if cut == 0 {
                assert!(matches!(
                    r[..],
                    [Err(ArchiveError::Truncated { offset: 0 })]
                ));
                continue;
            }
            // Either an error, or (cut inside the trailer) the file then an error.
            assert!(r.iter().any(|e| e.is_err()), "cut at {cut}: {r:?}");
            assert!(r.len() <= 2);
        }
    }

    #[test]
    fn bad_magic_and_bad_fields() {
        let mut a = archive(&[(b"file", 0o100644, b"x")]);
        a[0] = b'1';
        assert_eq!(
            read(&a).next(),
            Some(Err(ArchiveError::BadMagic { offset: 0 }))
        );
        let mut a = archive(&[(b"file", 0o100644, b"x")]);
        a[10] = b'z';
        assert_eq!(
            read(&a).next(),
            Some(Err(ArchiveError::BadHeader { offset: 0 }))
        );
        // Name size pointing past the NUL.
        let mut a = archive(&[(b"file", 0o100644, b"x")]);
        a[6 + 8 * 11..6 + 8 * 12].copy_from_slice(b"00000003");
        assert!(matches!(
            read(&a).next(),
            Some(Err(ArchiveError::BadHeader { .. }))
        ));
        // Huge sizes do not overflow.
        let mut a = archive(&[(b"file", 0o100644, b"x")]);
        a[6 + 8 * 6..6 + 8 * 7].copy_from_slice(b"FFFFFFFF");
        assert!(matches!(
            read(&a).next(),
            Some(Err(ArchiveError::Truncated { .. }))
        ));
    }

    #[test]
    fn reads_archives_made_by_cpio() {
        use std::process::{Command, Stdio};
        // GNU cpio is the reference writer; skip quietly where it is absent.
        let dir = std::env::temp_dir().join(alloc::format!("pvm-cpio-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/a.txt"), b"alpha\n").unwrap();
        std::fs::write(dir.join("b"), b"").unwrap();
        let child = Command::new("cpio")
            .args(["-o", "-H", "newc", "--quiet"])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            std::fs::remove_dir_all(&dir).unwrap();
            return;
        };
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"sub\nsub/a.txt\nb\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let entries: Vec<_> = read(&out.stdout).map(|e| e.unwrap()).collect();
        let names: Vec<&[u8]> = entries.iter().map(|e| e.name).collect();
        assert_eq!(names, [&b"sub"[..], b"sub/a.txt", b"b"]);
        assert_eq!(entries[0].mode & 0o170000, 0o040000);
        assert_eq!(entries[1].data, b"alpha\n");
    }
}
