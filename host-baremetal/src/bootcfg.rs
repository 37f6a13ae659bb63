//! The boot record `cargo xtask qemu` packs into the ramdisk as
//! [`BOOT_RECORD`]: which program to run, its argv and environment, the
//! starting directory and options.
//!
//! Format: a sequence of NUL-terminated `key=value` records, in order
//! (`arg` and `env` repeat). Keys: `program` (path of the executable
//! inside the ramdisk), `arg`, `env`, `cwd`, `sysroot`, `option`
//! (`strace`, `engine=interp|jit`, `selftest`, `selftest-status=N`,
//! `selftest-fault`).

use alloc::vec::Vec;

/// Where the boot record lives in the ramdisk.
pub const BOOT_RECORD: &[u8] = b".pvm/boot";
/// In a batch boot (several guests, one after the other), the member
/// whose bytes are the mark written after each job's output; the jobs'
/// records are `.pvm/boot.K` and their stdin `.pvm/stdin.K`.
pub const BATCH_RECORD: &[u8] = b".pvm/batch";
/// Optional file whose bytes are the guest's stdin.
pub const STDIN_FILE: &[u8] = b".pvm/stdin";

/// What to run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootConfig {
    pub program: Vec<u8>,
    pub argv: Vec<Vec<u8>>,
    pub env: Vec<Vec<u8>>,
    pub cwd: Vec<u8>,
    pub sysroot: Option<Vec<u8>>,
    pub options: Vec<Vec<u8>>,
}

/// A malformed boot record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BootConfigError {
    /// A record without `=` or with an unknown key.
    BadRecord(Vec<u8>),
    /// The last record has no NUL terminator.
    Unterminated,
    /// No `program` record.
    NoProgram,
}

impl core::fmt::Display for BootConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BootConfigError::BadRecord(r) => write!(
                f,
                "bad boot record {:?}",
                core::str::from_utf8(r).unwrap_or("(not UTF-8)")
            ),
            BootConfigError::Unterminated => write!(f, "boot record not NUL-terminated"),
            BootConfigError::NoProgram => write!(f, "boot record names no program"),
        }
    }
}

impl BootConfig {
    /// Parse a boot record.
    pub fn parse(bytes: &[u8]) -> Result<BootConfig, BootConfigError> {
        let mut cfg = BootConfig {
            cwd: b"/".to_vec(),
            ..BootConfig::default()
        };
        if bytes.is_empty() {
            return Err(BootConfigError::NoProgram);
        }
        let Some((&0, body)) = bytes.split_last() else {
            return Err(BootConfigError::Unterminated);
        };
        for rec in body.split(|&c| c == 0) {
            let eq = rec
                .iter()
                .position(|&c| c == b'=')
                .ok_or_else(|| BootConfigError::BadRecord(rec.to_vec()))?;
            let (key, value) = (&rec[..eq], rec[eq + 1..].to_vec());
            match key {
                b"program" => cfg.program = value,
                b"arg" => cfg.argv.push(value),
                b"env" => cfg.env.push(value),
                b"cwd" => cfg.cwd = value,
                b"sysroot" => cfg.sysroot = Some(value),
                b"option" => cfg.options.push(value),
                _ => return Err(BootConfigError::BadRecord(rec.to_vec())),
            }
        }
        if cfg.program.is_empty() && !cfg.has_option(b"selftest") {
            return Err(BootConfigError::NoProgram);
        }
        Ok(cfg)
    }

    /// Is the flag option `name` set?
    pub fn has_option(&self, name: &[u8]) -> bool {
        self.options.iter().any(|o| o == name)
    }

    /// Value of an option `name=value`.
    pub fn option_value(&self, name: &[u8]) -> Option<&[u8]> {
        self.options.iter().find_map(|o| {
            o.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(b"="))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records_in_order() {
        let rec = b"program=/w/hello\0arg=hello\0arg=a b\0arg=\0env=A=1\0cwd=/w\0option=strace\0option=selftest-status=7\0";
        let c = BootConfig::parse(rec).unwrap();
        assert_eq!(c.program, b"/w/hello");
        assert_eq!(c.argv, [&b"hello"[..], b"a b", b""]);
        assert_eq!(c.env, [&b"A=1"[..]]);
        assert_eq!(c.cwd, b"/w");
        assert!(c.has_option(b"strace"));
        assert!(!c.has_option(b"selftest"));
        assert_eq!(c.option_value(b"selftest-status"), Some(&b"7"[..]));
        assert_eq!(c.sysroot, None);
    }

    #[test]
    fn rejects_malformed_records() {
        assert_eq!(BootConfig::parse(b""), Err(BootConfigError::NoProgram));
        assert_eq!(
            BootConfig::parse(b"program=x"),
            Err(BootConfigError::Unterminated)
        );
        assert_eq!(
            BootConfig::parse(b"program=x\0junk\0"),
            Err(BootConfigError::BadRecord(b"junk".to_vec()))
        );
        assert_eq!(
            BootConfig::parse(b"colour=red\0"),
            Err(BootConfigError::BadRecord(b"colour=red".to_vec()))
        );
        assert_eq!(
            BootConfig::parse(b"arg=x\0"),
            Err(BootConfigError::NoProgram)
        );
        assert!(BootConfig::parse(b"option=selftest\0").is_ok());
    }
}
