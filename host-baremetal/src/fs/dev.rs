//! Character devices and the console, each an [`Object`]: `/dev/null`
//! (reads end at once), `/dev/zero` (zeros), `/dev/urandom` and
//! `/dev/random` (the kernel's entropy, never blocking, as Linux's now),
//! all of which take any write and stay at position 0; and descriptors 0,
//! 1 and 2: stdin reads the file the runner packed, stdout and stderr go
//! to the [`Console`]. The console is not a terminal (`ENOTTY`, the
//! trait's default), and looks like the pipes a test harness connects.
//!
//! Not here: `/dev/tty` (no process has a controlling terminal, so its
//! `open` would be `ENXIO` on Linux too), `/dev/full`.

use super::object::*;
use super::pipe::pipe_stat;
use super::*;
use vm_core::abi::O_RDONLY;

/// Which device a `/dev` node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Device {
    Null,
    Zero,
    /// `/dev/urandom` and `/dev/random` (which no longer blocks on Linux).
    Random,
}

/// A device node: a character device, writable on any file system.
impl NodeKind for Device {
    fn type_bits(&self) -> u32 {
        S_IFCHR
    }
    /// Major 1, Linux's minors.
    fn rdev(&self) -> u64 {
        match self {
            Device::Null => (1 << 8) | 3,
            Device::Zero => (1 << 8) | 5,
            Device::Random => (1 << 8) | 9,
        }
    }
    fn writable_anywhere(&self) -> bool {
        true
    }
    fn open(&self, node: Arc<Node>) -> Arc<dyn Object> {
        match self {
            Device::Null => Arc::new(Null(node)),
            Device::Zero => Arc::new(Zero(node)),
            Device::Random => Arc::new(Random(node)),
        }
    }
}

/// `/dev/null`.
#[derive(Debug)]
pub(super) struct Null(Arc<Node>);
/// `/dev/zero`.
#[derive(Debug)]
pub(super) struct Zero(Arc<Node>);
/// `/dev/urandom`, `/dev/random`.
#[derive(Debug)]
pub(super) struct Random(Arc<Node>);

/// What every device does alike: its node, any write taken whole, a
/// position that stays 0.
macro_rules! device_common {
    () => {
        fn inode(&self) -> Option<&Arc<Node>> {
            Some(&self.0)
        }
        fn write(&self, _fs: &Fs, _pos: &mut u64, _append: bool, buf: &[u8]) -> SysResult<usize> {
            Ok(buf.len())
        }
        fn seek(&self, pos: &mut u64, _offset: i64, _whence: i32) -> SysResult<i64> {
            *pos = 0;
            Ok(0)
        }
        fn kind(&self) -> &'static str {
            "device"
        }
    };
}

impl Object for Null {
    device_common!();
    fn read(&self, _fs: &Fs, _pos: &mut u64, _buf: &mut [u8]) -> SysResult<usize> {
        Ok(0)
    }
}

impl Object for Zero {
    device_common!();
    fn read(&self, _fs: &Fs, _pos: &mut u64, buf: &mut [u8]) -> SysResult<usize> {
        buf.fill(0);
        Ok(buf.len())
    }
}

impl Object for Random {
    device_common!();
    fn read(&self, fs: &Fs, _pos: &mut u64, buf: &mut [u8]) -> SysResult<usize> {
        (fs.entropy)(buf);
        Ok(buf.len())
    }
}

/// Descriptor 0: the stdin file, read from the description's position.
#[derive(Debug)]
pub(super) struct Stdin(pub(super) &'static [u8]);

/// Descriptors 1 and 2: the console's output (`true`: stderr).
#[derive(Debug)]
pub(super) struct ConsoleOut(pub(super) bool);

/// What the console's descriptors share: the serial line they are
/// (`/proc/self/fd` shows it).
macro_rules! console_common {
    () => {
        fn link_name(&self, _path: &[u8]) -> Vec<u8> {
            b"/dev/ttyS0".to_vec()
        }
        fn kind(&self) -> &'static str {
            "console"
        }
    };
}

impl Object for Stdin {
    console_common!();
    fn read(&self, _fs: &Fs, pos: &mut u64, buf: &mut [u8]) -> SysResult<usize> {
        let n = copy_out(self.0, *pos, buf);
        *pos += n as u64;
        Ok(n)
    }
    fn stat(&self, _fs: &Fs) -> FileStat {
        FileStat {
            size: 0,
            ..pipe_stat(self.0.len() as u64 ^ 0x5eed)
        }
    }
    /// Reading on from where the descriptor is (the position goes along).
    fn reopen(&self, acc: i32) -> SysResult<Arc<dyn Object>> {
        match acc {
            O_RDONLY => Ok(Arc::new(Stdin(self.0))),
            _ => Err(Errno::ENXIO),
        }
    }
}

impl Object for ConsoleOut {
    console_common!();
    fn write(&self, fs: &Fs, _pos: &mut u64, _append: bool, buf: &[u8]) -> SysResult<usize> {
        if self.0 {
            fs.console.stderr(buf);
        } else {
            fs.console.stdout(buf);
        }
        Ok(buf.len())
    }
    fn stat(&self, _fs: &Fs) -> FileStat {
        pipe_stat(if self.0 { 0x1002 } else { 0x1001 })
    }
    fn reopen(&self, acc: i32) -> SysResult<Arc<dyn Object>> {
        match acc {
            O_WRONLY => Ok(Arc::new(ConsoleOut(self.0))),
            _ => Err(Errno::ENXIO),
        }
    }
}
