use super::*;
use crate::archive::tests::archive;
use alloc::boxed::Box;
use std::sync::Mutex;

#[derive(Default)]
struct TestConsole {
    out: Mutex<Vec<u8>>,
    err: Mutex<Vec<u8>>,
}
impl Console for TestConsole {
    fn stdout(&self, data: &[u8]) {
        self.out.lock().unwrap().extend_from_slice(data);
    }
    fn stderr(&self, data: &[u8]) {
        self.err.lock().unwrap().extend_from_slice(data);
    }
}

fn clock() -> Timespec {
    Timespec {
        sec: 1_800_000_000,
        nsec: 5,
    }
}

fn entropy(buf: &mut [u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = (i as u8) ^ 0x5a;
    }
}

const RDONLY: i32 = 0;
const RDWR_CREAT: i32 = O_RDWR | O_CREAT;

fn fs_with(stdin: &'static [u8]) -> (Fs, &'static TestConsole) {
    let a = archive(&[
        (b"./etc", 0o040755, b""),
        (b"./etc/motd", 0o100644, b"hello from the ramdisk\n"),
        (b"work/bin/prog", 0o100755, b"\x7fELF..."),
        (b"work/link-to-motd", 0o120777, b"../etc/motd"),
        (b"work/abs-link", 0o120777, b"/etc"),
        (b"work/loop", 0o120777, b"loop"),
    ]);
    let a: &'static [u8] = Box::leak(a.into_boxed_slice());
    let console: &'static TestConsole = Box::leak(Box::default());
    (Fs::new(a, stdin, console, clock, entropy).unwrap(), console)
}

fn fs() -> Fs {
    fs_with(b"").0
}

fn read_all(fs: &mut Fs, fd: i32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 7];
    loop {
        let n = fs.read(fd, &mut buf).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn names(fs: &mut Fs, path: &[u8]) -> Vec<Vec<u8>> {
    let fd = fs.openat(AT_FDCWD, path, O_DIRECTORY, 0).unwrap();
    let mut out = Vec::new();
    // A small buffer forces several getdents64 calls.
    let mut buf = [0u8; 48];
    loop {
        let n = fs.getdents64(fd, &mut buf).unwrap();
        if n == 0 {
            break;
        }
        let mut at = 0;
        while at < n {
            let reclen = u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
            assert_eq!(reclen % 8, 0);
            let name = &buf[at + 19..at + reclen];
            let len = name.iter().position(|&c| c == 0).unwrap();
            out.push(name[..len].to_vec());
            at += reclen;
        }
    }
    fs.close(fd).unwrap();
    out
}

#[test]
fn reads_ramdisk_files_and_follows_symlinks() {
    let mut fs = fs();
    let fd = fs.openat(AT_FDCWD, b"/etc/motd", RDONLY, 0).unwrap();
    assert_eq!(fd, 3, "0..=2 are the console");
    assert_eq!(read_all(&mut fs, fd), b"hello from the ramdisk\n");
    let fd = fs
        .openat(AT_FDCWD, b"/work/link-to-motd", RDONLY, 0)
        .unwrap();
    assert_eq!(read_all(&mut fs, fd), b"hello from the ramdisk\n");
    let fd = fs
        .openat(AT_FDCWD, b"/work/abs-link/motd", RDONLY, 0)
        .unwrap();
    assert_eq!(read_all(&mut fs, fd), b"hello from the ramdisk\n");
    let st = fs.fstatat(AT_FDCWD, b"/work/bin/prog", 0).unwrap();
    assert_eq!(st.mode, S_IFREG | 0o755);
    assert_eq!(st.size, 7);
    let st = fs
        .fstatat(AT_FDCWD, b"/work/link-to-motd", AT_SYMLINK_NOFOLLOW)
        .unwrap();
    assert_eq!(st.mode & S_IFMT, S_IFLNK);
    let mut buf = [0u8; 64];
    let n = fs
        .readlinkat(AT_FDCWD, b"/work/link-to-motd", &mut buf)
        .unwrap();
    assert_eq!(&buf[..n], b"../etc/motd");
    assert_eq!(
        fs.readlinkat(AT_FDCWD, b"/etc/motd", &mut buf),
        Err(Errno::EINVAL)
    );
}

#[test]
fn path_errors_match_linux() {
    let mut fs = fs();
    let e = |fs: &mut Fs, p: &[u8], f: i32| fs.openat(AT_FDCWD, p, f, 0o644).unwrap_err();
    assert_eq!(e(&mut fs, b"/nope", RDONLY), Errno::ENOENT);
    assert_eq!(e(&mut fs, b"", RDONLY), Errno::ENOENT);
    assert_eq!(e(&mut fs, b"/etc/motd/x", RDONLY), Errno::ENOTDIR);
    assert_eq!(e(&mut fs, b"/etc/motd/", RDONLY), Errno::ENOTDIR);
    assert_eq!(e(&mut fs, b"/etc/motd", O_DIRECTORY), Errno::ENOTDIR);
    assert_eq!(e(&mut fs, b"/work/loop", RDONLY), Errno::ELOOP);
    assert_eq!(e(&mut fs, b"/work/link-to-motd", O_NOFOLLOW), Errno::ELOOP);
    assert_eq!(e(&mut fs, b"/etc/motd", O_WRONLY), Errno::EROFS);
    assert_eq!(e(&mut fs, b"/etc/new", RDWR_CREAT), Errno::EROFS);
    assert_eq!(e(&mut fs, b"/etc", O_RDWR), Errno::EISDIR);
    assert_eq!(e(&mut fs, b"/etc/motd", RDWR_CREAT | O_EXCL), Errno::EEXIST);
    let long = [b'a'; 300];
    assert_eq!(e(&mut fs, &long, RDONLY), Errno::ENAMETOOLONG);
    assert_eq!(fs.read(99, &mut [0; 4]), Err(Errno::EBADF));
    assert_eq!(fs.close(-1), Err(Errno::EBADF));
    assert_eq!(fs.mkdirat(AT_FDCWD, b"/etc/d", 0o755), Err(Errno::EROFS));
    assert_eq!(fs.unlinkat(AT_FDCWD, b"/etc/motd", 0), Err(Errno::EROFS));
}

#[test]
fn tmp_files_can_be_written_truncated_and_appended() {
    let mut fs = fs();
    let fd = fs.openat(AT_FDCWD, b"/tmp/f", RDWR_CREAT, 0o666).unwrap();
    assert_eq!(fs.write(fd, b"hello world"), Ok(11));
    assert_eq!(fs.lseek(fd, 0, 0), Ok(0));
    assert_eq!(read_all(&mut fs, fd), b"hello world");
    // Writing past the end leaves a zero-filled gap.
    assert_eq!(fs.lseek(fd, 2, 2), Ok(13));
    assert_eq!(fs.write(fd, b"!"), Ok(1));
    let mut buf = [9u8; 20];
    assert_eq!(fs.pread(fd, &mut buf, 0), Ok(14));
    assert_eq!(&buf[..14], b"hello world\0\0!");
    assert_eq!(fs.pwrite(fd, b"J", 0), Ok(1));
    assert_eq!(fs.lseek(fd, 0, 1), Ok(14), "pwrite keeps the offset");
    let st = fs.fstatat(fd, b"", AT_EMPTY_PATH).unwrap();
    assert_eq!(st.mode, S_IFREG | 0o644, "umask 022 applied");
    assert_eq!(st.size, 14);
    assert_eq!(st.mtime, clock());
    assert_eq!(fs.ftruncate(fd, 5), Ok(()));
    assert_eq!(fs.fstatat(AT_FDCWD, b"/tmp/f", 0).unwrap().size, 5);
    fs.close(fd).unwrap();
    let fd = fs
        .openat(AT_FDCWD, b"/tmp/f", O_WRONLY | O_APPEND, 0)
        .unwrap();
    assert_eq!(fs.write(fd, b"!!"), Ok(2));
    fs.close(fd).unwrap();
    let fd = fs.openat(AT_FDCWD, b"/tmp/f", RDONLY, 0).unwrap();
    assert_eq!(read_all(&mut fs, fd), b"Jello!!");
    assert_eq!(fs.write(fd, b"x"), Err(Errno::EBADF), "opened read-only");
    let fd = fs
        .openat(AT_FDCWD, b"/tmp/f", O_WRONLY | O_TRUNC, 0)
        .unwrap();
    assert_eq!(
        fs.read(fd, &mut buf),
        Err(Errno::EBADF),
        "opened write-only"
    );
    assert_eq!(fs.fstatat(AT_FDCWD, b"/tmp/f", 0).unwrap().size, 0);
    assert_eq!(fs.lseek(fd, -1, 0), Err(Errno::EINVAL));
    assert_eq!(fs.lseek(1, 0, 0), Err(Errno::ESPIPE));
}

#[test]
fn directories_rename_unlink_and_listing() {
    let mut fs = fs();
    fs.mkdirat(AT_FDCWD, b"/tmp/d", 0o755).unwrap();
    assert_eq!(fs.mkdirat(AT_FDCWD, b"/tmp/d", 0o755), Err(Errno::EEXIST));
    for name in [&b"/tmp/d/b"[..], b"/tmp/d/a", b"/tmp/d/c"] {
        let fd = fs.openat(AT_FDCWD, name, RDWR_CREAT, 0o600).unwrap();
        fs.close(fd).unwrap();
    }
    assert_eq!(
        names(&mut fs, b"/tmp/d"),
        [&b"."[..], b"..", b"a", b"b", b"c"]
    );
    assert_eq!(
        fs.unlinkat(AT_FDCWD, b"/tmp/d", AT_REMOVEDIR),
        Err(Errno::ENOTEMPTY)
    );
    assert_eq!(fs.unlinkat(AT_FDCWD, b"/tmp/d", 0), Err(Errno::EISDIR));
    assert_eq!(
        fs.unlinkat(AT_FDCWD, b"/tmp/d/a", AT_REMOVEDIR),
        Err(Errno::ENOTDIR)
    );
    fs.renameat2(AT_FDCWD, b"/tmp/d/a", AT_FDCWD, b"/tmp/d/z", 0)
        .unwrap();
    assert_eq!(
        fs.renameat2(
            AT_FDCWD,
            b"/tmp/d/b",
            AT_FDCWD,
            b"/tmp/d/c",
            RENAME_NOREPLACE
        ),
        Err(Errno::EEXIST)
    );
    fs.renameat2(AT_FDCWD, b"/tmp/d/b", AT_FDCWD, b"/tmp/d/c", 0)
        .unwrap();
    assert_eq!(names(&mut fs, b"/tmp/d"), [&b"."[..], b"..", b"c", b"z"]);
    assert_eq!(
        fs.renameat2(AT_FDCWD, b"/tmp/d", AT_FDCWD, b"/tmp/d/inner", 0),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        fs.renameat2(AT_FDCWD, b"/etc/motd", AT_FDCWD, b"/tmp/m", 0),
        Err(Errno::EROFS)
    );
    // An open file outlives its name.
    let fd = fs.openat(AT_FDCWD, b"/tmp/d/c", O_RDWR, 0).unwrap();
    fs.unlinkat(AT_FDCWD, b"/tmp/d/c", 0).unwrap();
    assert_eq!(fs.write(fd, b"still here"), Ok(10));
    assert_eq!(fs.fstatat(fd, b"", AT_EMPTY_PATH).unwrap().nlink, 0);
    fs.unlinkat(AT_FDCWD, b"/tmp/d/z", 0).unwrap();
    let tmp_links = fs.fstatat(AT_FDCWD, b"/tmp", 0).unwrap().nlink;
    fs.unlinkat(AT_FDCWD, b"/tmp/d", AT_REMOVEDIR).unwrap();
    assert_eq!(
        fs.fstatat(AT_FDCWD, b"/tmp", 0).unwrap().nlink,
        tmp_links - 1
    );
    assert_eq!(names(&mut fs, b"/tmp"), [&b"."[..], b".."]);
    let root = names(&mut fs, b"/");
    for n in [&b"dev"[..], b"etc", b"tmp", b"work"] {
        assert!(root.iter().any(|r| r == n), "{n:?} in {root:?}");
    }
}

#[test]
fn links_and_modes_in_tmp() {
    let mut fs = fs();
    let fd = fs.openat(AT_FDCWD, b"/tmp/f", RDWR_CREAT, 0o644).unwrap();
    fs.write(fd, b"data").unwrap();
    fs.symlinkat(b"f", AT_FDCWD, b"/tmp/s").unwrap();
    fs.linkat(AT_FDCWD, b"/tmp/f", AT_FDCWD, b"/tmp/h", 0)
        .unwrap();
    assert_eq!(fs.fstatat(AT_FDCWD, b"/tmp/f", 0).unwrap().nlink, 2);
    let s = fs.openat(AT_FDCWD, b"/tmp/s", RDONLY, 0).unwrap();
    assert_eq!(read_all(&mut fs, s), b"data");
    fs.fchmodat(AT_FDCWD, b"/tmp/h", 0o600).unwrap();
    assert_eq!(
        fs.fstatat(AT_FDCWD, b"/tmp/f", 0).unwrap().mode,
        S_IFREG | 0o600
    );
    fs.fchmod(fd, 0o640).unwrap();
    assert_eq!(
        fs.fstatat(fd, b"", AT_EMPTY_PATH).unwrap().mode & 0o777,
        0o640
    );
    assert_eq!(
        fs.fchmodat(AT_FDCWD, b"/etc/motd", 0o600),
        Err(Errno::EROFS)
    );
    assert_eq!(
        fs.faccessat(AT_FDCWD, b"/etc/motd", 2, 0),
        Err(Errno::EROFS)
    );
    assert_eq!(
        fs.faccessat(AT_FDCWD, b"/etc/motd", 1, 0),
        Err(Errno::EACCES)
    );
    assert_eq!(fs.faccessat(AT_FDCWD, b"/work/bin/prog", 1, 0), Ok(()));
    let t = Timespec { sec: 7, nsec: 8 };
    fs.utimensat(
        AT_FDCWD,
        b"/tmp/f",
        Some([
            t,
            Timespec {
                sec: 0,
                nsec: UTIME_OMIT,
            },
        ]),
        0,
    )
    .unwrap();
    let st = fs.fstatat(AT_FDCWD, b"/tmp/f", 0).unwrap();
    assert_eq!((st.atime, st.mtime), (t, clock()));
    assert_eq!(
        fs.linkat(AT_FDCWD, b"/tmp", AT_FDCWD, b"/tmp/dirlink", 0),
        Err(Errno::EPERM)
    );
}

#[test]
fn relative_paths_cwd_and_dirfds() {
    let mut fs = fs();
    fs.set_initial_cwd(b"/work/new/dir").unwrap();
    let mut buf = [0u8; 64];
    let n = fs.getcwd(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"/work/new/dir");
    assert_eq!(fs.getcwd(&mut [0u8; 4]), Err(Errno::ERANGE));
    let fd = fs
        .openat(AT_FDCWD, b"../../link-to-motd", RDONLY, 0)
        .unwrap();
    assert_eq!(read_all(&mut fs, fd), b"hello from the ramdisk\n");
    fs.chdir(b"/work/abs-link").unwrap();
    let n = fs.getcwd(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"/etc", "symlinks resolve physically");
    assert_eq!(fs.chdir(b"motd"), Err(Errno::ENOTDIR));
    // The starting directory takes new entries; its parent does not.
    assert_eq!(fs.mkdirat(AT_FDCWD, b"/work/new/dir/sub", 0o755), Ok(()));
    assert_eq!(
        fs.mkdirat(AT_FDCWD, b"/work/new/sub", 0o755),
        Err(Errno::EROFS)
    );
    let dir = fs.openat(AT_FDCWD, b"/work/bin", O_DIRECTORY, 0).unwrap();
    assert!(fs.fstatat(dir, b"prog", 0).is_ok());
    assert!(fs.fstatat(dir, b"../bin/./prog", 0).is_ok());
    assert_eq!(
        fs.fstatat(3, b"x", 0),
        Err(Errno::ENOTDIR),
        "fd 3 is a file"
    );
    fs.fchdir(dir).unwrap();
    let n = fs.getcwd(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"/work/bin");
    assert!(fs.fstatat(AT_FDCWD, b"/..", 0).is_ok(), "/.. is /");
    assert_eq!(fs.umask(0o077), 0o022);
}

#[test]
fn console_stdin_dup_and_fcntl() {
    let (mut fs, console) = fs_with(b"line one\nline two\n");
    assert_eq!(read_all(&mut fs, 0), b"line one\nline two\n");
    assert_eq!(fs.write(1, b"out"), Ok(3));
    assert_eq!(fs.write(2, b"err"), Ok(3));
    assert_eq!(fs.write(0, b"x"), Err(Errno::EBADF));
    let d = fs.dup(1).unwrap();
    assert_eq!(d, 3);
    fs.write(d, b"!").unwrap();
    assert_eq!(fs.dup3(2, 10, O_CLOEXEC), Ok(10));
    fs.write(10, b"?").unwrap();
    assert_eq!(fs.fcntl(10, F_GETFD, 0), Ok(FD_CLOEXEC));
    assert_eq!(fs.fcntl(3, F_GETFD, 0), Ok(0));
    assert_eq!(fs.fcntl(1, F_DUPFD, 20), Ok(20));
    assert_eq!(fs.fcntl(1, F_GETFL, 0), Ok(i64::from(O_WRONLY)));
    assert_eq!(fs.dup3(1, 1, 0), Err(Errno::EINVAL));
    assert_eq!(fs.fcntl(1, 99, 0), Err(Errno::EINVAL));
    assert_eq!(*console.out.lock().unwrap(), b"out!");
    assert_eq!(*console.err.lock().unwrap(), b"err?");
    assert_eq!(fs.not_a_tty(1), Errno::ENOTTY);
    assert_eq!(fs.not_a_tty(50), Errno::EBADF);
    assert_eq!(
        fs.fstatat(1, b"", AT_EMPTY_PATH).unwrap().mode & S_IFMT,
        S_IFIFO
    );
}

#[test]
fn pipes_and_devices() {
    let mut fs = fs();
    let [r, w] = fs.pipe2(O_CLOEXEC).unwrap();
    assert_eq!(fs.write(w, b"through the pipe"), Ok(16));
    let mut buf = [0u8; 7];
    assert_eq!(fs.read(r, &mut buf), Ok(7));
    assert_eq!(&buf, b"through");
    assert_eq!(fs.lseek(r, 0, 0), Err(Errno::ESPIPE));
    let mut rest = [0u8; 32];
    assert_eq!(fs.read(r, &mut rest), Ok(9));
    assert_eq!(
        fs.read(r, &mut rest),
        Err(Errno::EAGAIN),
        "empty, writer open"
    );
    fs.close(w).unwrap();
    assert_eq!(fs.read(r, &mut rest), Ok(0), "empty, no writer: EOF");
    let [r2, w2] = fs.pipe2(0).unwrap();
    fs.close(r2).unwrap();
    assert_eq!(fs.write(w2, b"x"), Err(Errno::EPIPE));
    let null = fs.openat(AT_FDCWD, b"/dev/null", O_RDWR, 0).unwrap();
    assert_eq!(fs.write(null, b"gone"), Ok(4));
    assert_eq!(fs.read(null, &mut rest), Ok(0));
    let zero = fs.openat(AT_FDCWD, b"/dev/zero", RDONLY, 0).unwrap();
    rest.fill(1);
    assert_eq!(fs.read(zero, &mut rest), Ok(32));
    assert_eq!(rest, [0; 32]);
    let urandom = fs.openat(AT_FDCWD, b"/dev/urandom", RDONLY, 0).unwrap();
    assert_eq!(fs.read(urandom, &mut rest[..3]), Ok(3));
    assert_eq!(rest[..3], [0x5a, 0x5b, 0x58]);
    let st = fs.fstatat(AT_FDCWD, b"/dev/null", 0).unwrap();
    let [pr, pw] = fs.pipe2(0).unwrap();
    let mut p = [
        vm_core::host::PollFd {
            fd: pr,
            events: 1,
            revents: 0,
        },
        vm_core::host::PollFd {
            fd: pw,
            events: 4,
            revents: 0,
        },
        vm_core::host::PollFd {
            fd: 77,
            events: 1,
            revents: 0,
        },
        vm_core::host::PollFd {
            fd: -1,
            events: 1,
            revents: 0,
        },
    ];
    assert_eq!(fs.poll(&mut p), 2, "writable pipe end and a bad fd");
    assert_eq!(
        [p[0].revents, p[1].revents, p[2].revents, p[3].revents],
        [0, 4, 0x20, 0]
    );
    fs.write(pw, b"x").unwrap();
    fs.close(pw).unwrap();
    assert_eq!(fs.poll(&mut p[..1]), 1);
    assert_eq!(p[0].revents, 0x11, "data and hang-up");
    assert_eq!((st.mode & S_IFMT, st.rdev), (S_IFCHR, 0x103));
}

/// What each kind of open file answers for an operation it lacks (the
/// `Object` trait's defaults and the access-mode checks before them), as
/// Linux answers.
#[test]
fn each_kind_answers_what_it_lacks_as_linux() {
    let mut fs = fs();
    let [r, w] = fs.pipe2(0).unwrap();
    let file = fs.openat(AT_FDCWD, b"/tmp/f", RDWR_CREAT, 0o644).unwrap();
    let dir = fs.openat(AT_FDCWD, b"/etc", O_DIRECTORY, 0).unwrap();
    let null = fs.openat(AT_FDCWD, b"/dev/null", O_RDWR, 0).unwrap();
    let ev = fs.eventfd2(0, O_NONBLOCK).unwrap();
    let ep = fs.epoll_create1(0).unwrap();
    let [s, _] = fs.socketpair(1, 1, 0).unwrap();
    let mut buf = [0u8; 64];
    // Positions: ESPIPE where there is none.
    for fd in [0, 1, r, w, ev, ep, s] {
        assert_eq!(fs.lseek(fd, 0, 0), Err(Errno::ESPIPE), "lseek {fd}");
        assert_eq!(fs.pwrite(fd, b"x", 0), Err(Errno::ESPIPE), "pwrite {fd}");
    }
    for fd in [0, r, ev, s] {
        assert_eq!(fs.pread(fd, &mut buf, 0), Err(Errno::ESPIPE), "pread {fd}");
    }
    assert_eq!(fs.pread(w, &mut buf, 0), Err(Errno::EBADF), "a write end");
    assert_eq!(fs.lseek(file, 3, 0), Ok(3));
    assert_eq!(fs.lseek(null, 9, 0), Ok(0), "a device stays at 0");
    assert_eq!(fs.lseek(dir, 0, 0), Ok(0));
    // Reading and writing what cannot be.
    assert_eq!(fs.read(w, &mut buf), Err(Errno::EBADF));
    assert_eq!(fs.write(r, b"x"), Err(Errno::EBADF));
    assert_eq!(fs.read(dir, &mut buf), Err(Errno::EISDIR));
    assert_eq!(fs.pread(dir, &mut buf, 0), Err(Errno::EISDIR));
    assert_eq!(fs.read(ep, &mut buf), Err(Errno::EINVAL));
    assert_eq!(fs.write(ep, b"12345678"), Err(Errno::EINVAL));
    // Listing, FIONREAD, ftruncate.
    for fd in [file, r, ev, null, 0] {
        assert_eq!(fs.getdents64(fd, &mut buf), Err(Errno::ENOTDIR), "{fd}");
    }
    for fd in [dir, null, ev, ep] {
        assert_eq!(fs.pipe_bytes(fd), Err(Errno::ENOTTY), "FIONREAD {fd}");
    }
    assert_eq!(fs.pipe_bytes(w), Ok(0));
    assert_eq!(fs.ftruncate(w, 0), Err(Errno::EINVAL));
    assert_eq!(fs.ftruncate(ev, 0), Err(Errno::EINVAL));
    assert_eq!(fs.ftruncate(file, 5), Ok(()));
    // Inode calls on what has no inode.
    let xattr = vm_core::host::XattrTarget::Fd(r);
    assert_eq!(fs.getxattr(xattr, b"user.a", &mut []), Err(Errno::ENOTSUP));
    assert_eq!(fs.fallocate(w, 0, 0, 1), Err(Errno::ESPIPE));
    assert_eq!(fs.fchmod(r, 0o600), Ok(()), "nothing to keep");
    // fstat: pipes, anonymous inodes, sockets.
    let mode = |fs: &mut Fs, fd| fs.fstatat(fd, b"", AT_EMPTY_PATH).unwrap().mode;
    assert_eq!(mode(&mut fs, r) & S_IFMT, S_IFIFO);
    assert_eq!(mode(&mut fs, ev), 0o600);
    assert_eq!(mode(&mut fs, s) & S_IFMT, S_IFSOCK);
    assert_eq!(mode(&mut fs, dir) & S_IFMT, S_IFDIR);
}

/// `(name, d_type)` of each entry `getdents64` lists in `path`.
fn entries(fs: &mut Fs, path: &[u8]) -> Vec<(Vec<u8>, u8)> {
    let fd = fs.openat(AT_FDCWD, path, O_DIRECTORY, 0).unwrap();
    let mut buf = [0u8; 4096];
    let n = fs.getdents64(fd, &mut buf).unwrap();
    assert_eq!(fs.getdents64(fd, &mut buf), Ok(0), "one call lists it all");
    fs.close(fd).unwrap();
    let mut out = Vec::new();
    let mut at = 0;
    while at < n {
        let reclen = u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
        let name = &buf[at + 19..at + reclen];
        let len = name.iter().position(|&c| c == 0).unwrap();
        out.push((name[..len].to_vec(), buf[at + 18]));
        at += reclen;
    }
    out
}

/// What each kind of node (directory, regular file, symlink, device)
/// is and answers for what it lacks (the `NodeKind` trait's defaults),
/// as Linux answers.
#[test]
fn each_kind_of_node_answers_what_it_lacks_as_linux() {
    let mut fs = fs();
    // d_type: DT_DIR 4, DT_REG 8, DT_LNK 10, DT_CHR 2.
    let dt = |fs: &mut Fs, dir: &[u8], name: &[u8]| {
        let e = entries(fs, dir);
        e.iter().find(|(n, _)| n == name).map(|(_, t)| *t)
    };
    assert_eq!(dt(&mut fs, b"/", b"etc"), Some(4));
    assert_eq!(dt(&mut fs, b"/", b"."), Some(4));
    assert_eq!(dt(&mut fs, b"/etc", b"motd"), Some(8));
    assert_eq!(dt(&mut fs, b"/work", b"link-to-motd"), Some(10));
    assert_eq!(dt(&mut fs, b"/dev", b"zero"), Some(2));
    assert_eq!(dt(&mut fs, b"/dev", b"stdin"), Some(10));
    // Types, sizes, st_rdev, links.
    let st = |fs: &mut Fs, p: &[u8]| fs.fstatat(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW).unwrap();
    let link = st(&mut fs, b"/work/link-to-motd");
    assert_eq!((link.mode & S_IFMT, link.size), (S_IFLNK, 11));
    let motd = st(&mut fs, b"/etc/motd");
    assert_eq!(
        (motd.mode & S_IFMT, motd.size, motd.nlink),
        (S_IFREG, 23, 1)
    );
    let zero = st(&mut fs, b"/dev/zero");
    assert_eq!(
        (zero.mode & S_IFMT, zero.size, zero.rdev),
        (S_IFCHR, 0, 0x105)
    );
    let etc = st(&mut fs, b"/etc");
    assert_eq!(
        (etc.mode & S_IFMT, etc.size, etc.rdev, etc.nlink),
        (S_IFDIR, 4096, 0, 2)
    );
    // A lookup or a new entry under what is not a directory: ENOTDIR.
    assert_eq!(
        fs.openat(AT_FDCWD, b"/etc/motd/x", 0, 0),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        fs.openat(AT_FDCWD, b"/dev/null/x", 0, 0),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        fs.mkdirat(AT_FDCWD, b"/etc/motd/d", 0o755),
        Err(Errno::ENOTDIR)
    );
    // The contents of what is not a regular file.
    assert_eq!(fs.read_whole(b"/etc"), Err(Errno::EISDIR));
    assert_eq!(fs.read_whole(b"/dev/zero"), Err(Errno::EINVAL));
    assert_eq!(fs.read_whole(b"/etc/motd").unwrap().len(), 23);
    // A device opens for writing on a read-only tree; a file there not.
    let null = fs.openat(AT_FDCWD, b"/dev/null", O_RDWR, 0).unwrap();
    assert_eq!(
        fs.openat(AT_FDCWD, b"/etc/motd", O_RDWR, 0),
        Err(Errno::EROFS)
    );
    assert_eq!(
        fs.ftruncate(null, 0),
        Err(Errno::EROFS),
        "read-only node first"
    );
    assert_eq!(fs.fallocate(null, 0, 0, 1), Err(Errno::EROFS));
    // On a writable tree: a symlink takes no user xattrs, nor is
    // truncated or allocated as a file.
    fs.symlinkat(b"/etc/motd", AT_FDCWD, b"/tmp/l").unwrap();
    let l = vm_core::host::XattrTarget::Path {
        path: b"/tmp/l",
        follow: false,
    };
    assert_eq!(fs.setxattr(l, b"user.a", b"v", 0), Err(Errno::EPERM));
    fs.mkdirat(AT_FDCWD, b"/tmp/d", 0o755).unwrap();
    let d = vm_core::host::XattrTarget::Path {
        path: b"/tmp/d",
        follow: false,
    };
    assert_eq!(fs.setxattr(d, b"user.a", b"v", 0), Ok(()));
    assert_eq!(fs.read_whole(b"/tmp/d"), Err(Errno::EISDIR));
    assert_eq!(fs.unlinkat(AT_FDCWD, b"/tmp/l/x", 0), Err(Errno::ENOTDIR));
}

#[test]
fn a_forked_table_shares_open_files_and_pipes() {
    let mut parent = fs();
    let [r, w] = parent.pipe2(0).unwrap();
    let [cr, cw] = parent.pipe2(O_CLOEXEC).unwrap();
    let f = parent
        .openat(AT_FDCWD, b"/tmp/shared", O_CREAT | O_RDWR, 0o644)
        .unwrap();
    let mut child = parent.fork();
    // The child writes, the parent reads: one pipe, two tables.
    child.close(r).unwrap();
    assert_eq!(child.write(w, b"from the child"), Ok(14));
    let mut buf = [0u8; 32];
    assert_eq!(parent.read(r, &mut buf), Ok(14));
    assert_eq!(&buf[..14], b"from the child");
    // End of file only once every table closed the write end.
    parent.close(w).unwrap();
    assert_eq!(parent.read(r, &mut buf), Err(Errno::EAGAIN));
    child.close_all();
    assert_eq!(parent.read(r, &mut buf), Ok(0));
    // The file offset is shared too, and so is the tree.
    let mut child = parent.fork();
    assert_eq!(child.write(f, b"abc"), Ok(3));
    assert_eq!(parent.lseek(f, 0, 1), Ok(3));
    assert!(child.fstatat(AT_FDCWD, b"/tmp/shared", 0).is_ok());
    let made = child
        .openat(AT_FDCWD, b"/tmp/made-by-child", O_CREAT | O_RDWR, 0o644)
        .unwrap();
    let ino_child = child.fstatat(made, b"", AT_EMPTY_PATH).unwrap().ino;
    let ino_file = parent.fstatat(f, b"", AT_EMPTY_PATH).unwrap().ino;
    assert_ne!(ino_child, ino_file, "one inode counter for every table");
    assert!(parent.fstatat(AT_FDCWD, b"/tmp/made-by-child", 0).is_ok());
    // execve closes the close-on-exec descriptors of that table only.
    child.close_on_exec();
    assert_eq!(child.check_fd(cr), Err(Errno::EBADF));
    assert_eq!(child.check_fd(cw), Err(Errno::EBADF));
    assert_eq!(child.check_fd(f), Ok(()));
    assert_eq!(parent.check_fd(cr), Ok(()));
}

#[test]
fn file_refs_read_and_write_within_the_file() {
    let mut fs = fs();
    let fd = fs.openat(AT_FDCWD, b"/tmp/m", RDWR_CREAT, 0o644).unwrap();
    fs.write(fd, b"0123456789").unwrap();
    let r = fs.file_ref(fd).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(r.read_at(4, &mut buf), 6);
    assert_eq!(&buf[..6], b"456789");
    r.write_within(8, b"abcdef");
    assert_eq!(fs.pread(fd, &mut buf, 0), Ok(10), "no growth");
    assert_eq!(&buf[..10], b"01234567ab");
    assert!(matches!(fs.file_ref(1), Err(Errno::EACCES)));
    let d = fs.openat(AT_FDCWD, b"/tmp", O_DIRECTORY, 0).unwrap();
    assert!(matches!(fs.file_ref(d), Err(Errno::ENODEV)));
    // A ramdisk file is copied on first write, the archive untouched.
    let ro = fs.openat(AT_FDCWD, b"/etc/motd", RDONLY, 0).unwrap();
    let r = fs.file_ref(ro).unwrap();
    r.write_within(0, b"J");
    assert_eq!(fs.pread(ro, &mut buf, 0), Ok(16));
    assert_eq!(&buf[..5], b"Jello");
}

#[test]
fn descriptor_limit() {
    let mut fs = fs();
    let mut last = 0;
    for _ in 3..MAX_FDS {
        last = fs.openat(AT_FDCWD, b"/etc/motd", RDONLY, 0).unwrap();
    }
    assert_eq!(last as usize, MAX_FDS - 1);
    assert_eq!(
        fs.openat(AT_FDCWD, b"/etc/motd", RDONLY, 0),
        Err(Errno::EMFILE)
    );
    fs.close(100).unwrap();
    assert_eq!(fs.dup(0), Ok(100), "lowest free descriptor");
    fs.set_fd_limit(MAX_FDS + 1).unwrap();
    assert_eq!(fs.dup(0), Ok(MAX_FDS as i32));
    fs.set_fd_limit(50).unwrap();
    assert_eq!(fs.dup(0), Err(Errno::EMFILE));
    assert_eq!(fs.dup3(0, 60, 0), Err(Errno::EBADF));
    assert_eq!(fs.set_fd_limit(MAX_FDS_HARD + 1), Err(Errno::EPERM));
}

#[test]
fn bad_archives_are_errors() {
    let console: &'static TestConsole = Box::leak(Box::default());
    let a = archive(&[(b"file", 0o100644, b"x"), (b"file/under", 0o100644, b"y")]);
    let a: &'static [u8] = Box::leak(a.into_boxed_slice());
    assert!(matches!(
        Fs::new(a, b"", console, clock, entropy),
        Err(BuildError::NotADirectory(_))
    ));
    assert!(matches!(
        Fs::new(&[b'x'; 200], b"", console, clock, entropy),
        Err(BuildError::Archive(_))
    ));
    let a = archive(&[(b"../escape", 0o100644, b"x")]);
    let a: &'static [u8] = Box::leak(a.into_boxed_slice());
    assert!(Fs::new(a, b"", console, clock, entropy).is_err());
}

mod events {
    use super::*;
    use core::sync::atomic::{AtomicU64, Ordering};
    use vm_core::host::{EpollEvent, ITimer, PollFd};

    static MONO: AtomicU64 = AtomicU64::new(0);
    fn mono() -> u64 {
        MONO.load(Ordering::Relaxed)
    }
    const NONBLOCK: i32 = O_NONBLOCK;

    fn readable(fs: &Fs, fd: i32) -> bool {
        let mut p = [PollFd {
            fd,
            events: 1,
            revents: 0,
        }];
        fs.poll(&mut p) == 1 && p[0].revents == 1
    }

    #[test]
    fn eventfd_counts_and_semaphores() {
        let mut fs = fs();
        let e = fs.eventfd2(0, NONBLOCK).unwrap();
        let mut b = [0u8; 8];
        assert_eq!(fs.read(e, &mut b), Err(Errno::EAGAIN));
        assert!(!readable(&fs, e));
        assert_eq!(fs.write(e, &3u64.to_le_bytes()), Ok(8));
        assert_eq!(fs.write(e, &4u64.to_le_bytes()), Ok(8));
        assert!(readable(&fs, e));
        assert_eq!(fs.read(e, &mut b), Ok(8));
        assert_eq!(u64::from_le_bytes(b), 7);
        assert_eq!(fs.write(e, &u64::MAX.to_le_bytes()), Err(Errno::EINVAL));
        assert_eq!(fs.write(e, &[1, 2]), Err(Errno::EINVAL));
        assert_eq!(fs.write(e, &(u64::MAX - 1).to_le_bytes()), Ok(8));
        assert_eq!(fs.write(e, &1u64.to_le_bytes()), Err(Errno::EAGAIN));
        let s = fs.eventfd2(2, 1).unwrap();
        assert!(!fs.nonblocking(s).unwrap());
        fs.read(s, &mut b).unwrap();
        assert_eq!(u64::from_le_bytes(b), 1);
        fs.read(s, &mut b).unwrap();
        assert_eq!(fs.read(s, &mut b), Err(Errno::EAGAIN));
    }

    #[test]
    fn timerfds_count_expirations() {
        let mut fs = fs();
        fs.set_monotonic(mono);
        MONO.store(1_000, Ordering::Relaxed);
        let t = fs.timerfd_create(1, NONBLOCK).unwrap();
        let ms = |n: i64| Timespec {
            sec: 0,
            nsec: n * 1_000_000,
        };
        let old = fs
            .timerfd_settime(
                t,
                0,
                Some(ITimer {
                    interval: ms(5),
                    value: ms(20),
                }),
            )
            .unwrap();
        assert_eq!(old, ITimer::default());
        let mut b = [0u8; 8];
        assert_eq!(fs.read(t, &mut b), Err(Errno::EAGAIN));
        MONO.store(1_000 + 30_000_000, Ordering::Relaxed);
        assert!(readable(&fs, t));
        assert_eq!(fs.read(t, &mut b), Ok(8));
        assert_eq!(u64::from_le_bytes(b), 3); // at 20, 25 and 30 ms
        let cur = fs.timerfd_settime(t, 0, None).unwrap();
        assert_eq!((cur.interval, cur.value), (ms(5), ms(5)));
        // Absolute on the monotonic clock; then disarm.
        fs.timerfd_settime(
            t,
            1,
            Some(ITimer {
                interval: Timespec::default(),
                value: ms(40),
            }),
        )
        .unwrap();
        let left = fs.timerfd_settime(t, 0, None).unwrap().value;
        assert_eq!(left.nsec, 10_000_000 - 1_000);
        fs.timerfd_settime(t, 0, Some(ITimer::default())).unwrap();
        assert_eq!(fs.timerfd_settime(t, 0, None).unwrap(), ITimer::default());
        let e = fs.eventfd2(0, 0).unwrap();
        assert_eq!(fs.timerfd_settime(e, 0, None), Err(Errno::EINVAL));
    }

    #[test]
    fn epoll_levels_edges_oneshots_and_closed_descriptors() {
        let mut fs = fs();
        let ep = fs.epoll_create1(O_CLOEXEC).unwrap();
        let e = fs.eventfd2(0, NONBLOCK).unwrap();
        let ev = |events, data| Some(EpollEvent { events, data });
        let mut out = [EpollEvent::default(); 4];
        assert_eq!(fs.epoll_ctl(ep, 1, e, ev(1, 7)), Ok(()));
        assert_eq!(fs.epoll_ctl(ep, 1, e, ev(1, 7)), Err(Errno::EEXIST));
        assert_eq!(fs.epoll_ctl(ep, 1, ep, ev(1, 7)), Err(Errno::EINVAL));
        assert_eq!(fs.epoll_ctl(ep, 1, 99, ev(1, 7)), Err(Errno::EBADF));
        assert_eq!(fs.epoll_ctl(e, 1, ep, ev(1, 7)), Err(Errno::EINVAL));
        let f = fs.openat(AT_FDCWD, b"/etc/motd", 0, 0).unwrap();
        assert_eq!(fs.epoll_ctl(ep, 1, f, ev(1, 7)), Err(Errno::EPERM));
        assert_eq!(fs.epoll_wait(ep, &mut out), Ok(0));
        fs.write(e, &1u64.to_le_bytes()).unwrap();
        assert!(readable(&fs, ep));
        // Level-triggered: reported while ready.
        assert_eq!(fs.epoll_wait(ep, &mut out), Ok(1));
        assert_eq!(out[0], EpollEvent { events: 1, data: 7 });
        assert_eq!(fs.epoll_wait(ep, &mut out), Ok(1));
        // Edge-triggered: once per becoming ready.
        fs.epoll_ctl(ep, 3, e, ev(1 | 1 << 31, 8)).unwrap();
        assert_eq!(fs.epoll_wait(ep, &mut out), Ok(1));
        assert_eq!(fs.epoll_wait(ep, &mut out), Ok(0));
        // One-shot: once until modified.
        fs.epoll_ctl(ep, 3, e, ev(1 | 1 << 30, 9)).unwrap();
        assert_eq!(fs.epoll_wait(ep, &mut out), Ok(1));
        assert_eq!(fs.epoll_wait(ep, &mut out), Ok(0));
        fs.epoll_ctl(ep, 3, e, ev(1, 10)).unwrap();
        assert_eq!(fs.epoll_wait(ep, &mut out), Ok(1));
        // A closed descriptor leaves the set.
        fs.close(e).unwrap();
        assert_eq!(fs.epoll_wait(ep, &mut out), Ok(0));
        assert_eq!(fs.epoll_ctl(ep, 2, e, None), Err(Errno::EBADF));
        let e2 = fs.eventfd2(0, 0).unwrap();
        assert_eq!(fs.epoll_ctl(ep, 2, e2, None), Err(Errno::ENOENT));
        assert_eq!(fs.epoll_ctl(ep, 3, e2, ev(1, 1)), Err(Errno::ENOENT));
    }
}

mod sockets {
    use super::*;
    use vm_core::host::{PollFd, RecvMsg, SendMsg};

    fn recv(
        fs: &mut Fs,
        fd: i32,
        data: &mut [u8],
        control: &mut [u8],
        flags: i32,
    ) -> SysResult<(usize, usize, i32)> {
        let mut m = RecvMsg {
            name: &mut [],
            data,
            control,
            name_len: 0,
            control_len: 0,
            flags: 0,
        };
        let n = fs.recvmsg(fd, &mut m, flags)?;
        Ok((n, m.control_len, m.flags))
    }

    #[test]
    fn stream_pairs_pass_bytes_descriptors_and_end_of_file() {
        let mut fs = fs();
        let [a, b] = fs.socketpair(1, 1 | O_NONBLOCK, 0).unwrap();
        assert_eq!(fs.write(a, b"hello "), Ok(6));
        assert_eq!(fs.write(a, b"world"), Ok(5));
        assert_eq!(fs.pipe_bytes(b), Ok(11));
        let mut buf = [0u8; 32];
        assert_eq!(fs.read(b, &mut buf[..4]), Ok(4));
        assert_eq!(fs.read(b, &mut buf), Ok(7));
        assert_eq!(&buf[..7], b"o world");
        assert_eq!(fs.read(b, &mut buf), Err(Errno::EAGAIN));
        // SCM_RIGHTS: the receiver gets a new descriptor for the file.
        let [pr, pw] = fs.pipe2(0).unwrap();
        let mut ctl = [0u8; 24];
        ctl[..8].copy_from_slice(&20u64.to_le_bytes());
        ctl[8..12].copy_from_slice(&1i32.to_le_bytes());
        ctl[12..16].copy_from_slice(&1i32.to_le_bytes());
        ctl[16..20].copy_from_slice(&pr.to_le_bytes());
        let msg = SendMsg {
            name: &[],
            data: b"fd",
            control: &ctl,
        };
        assert_eq!(fs.sendmsg(a, &msg, 0), Ok(2));
        fs.close(pr).unwrap();
        let mut rctl = [0u8; 24];
        let (n, clen, flags) = recv(&mut fs, b, &mut buf, &mut rctl, 0x4000_0000).unwrap();
        assert_eq!((n, clen, flags), (2, 24, 0x4000_0000));
        let got = i32::from_le_bytes(rctl[16..20].try_into().unwrap());
        assert_eq!(fs.fcntl(got, 1, 0), Ok(1));
        fs.write(pw, b"x").unwrap();
        assert_eq!(fs.read(got, &mut buf), Ok(1));
        // A bad descriptor in SCM_RIGHTS sends nothing.
        let mut badctl = ctl;
        badctl[16..20].copy_from_slice(&77i32.to_le_bytes());
        let bad = SendMsg {
            control: &badctl,
            ..msg
        };
        assert_eq!(fs.sendmsg(a, &bad, 0), Err(Errno::EBADF));
        // Shutdown and close: end of file, then EPIPE.
        fs.shutdown(a, 1).unwrap();
        assert_eq!(fs.read(b, &mut buf), Ok(0));
        assert_eq!(fs.write(a, b"x"), Err(Errno::EPIPE));
        fs.close(b).unwrap();
        assert_eq!(fs.shutdown(pw, 0), Err(Errno::ENOTSOCK));
        assert_eq!(fs.shutdown(b, 0), Err(Errno::EBADF));
    }

    #[test]
    fn datagrams_keep_boundaries_and_options_answer() {
        let mut fs = fs();
        let [a, b] = fs.socketpair(1, 2, 0).unwrap();
        fs.write(a, b"first message").unwrap();
        fs.write(a, b"second").unwrap();
        let mut small = [0u8; 5];
        let (n, _, flags) = recv(&mut fs, b, &mut small, &mut [], 0).unwrap();
        assert_eq!((n, &small, flags & 0x20), (5, b"first", 0x20));
        let mut buf = [0u8; 2];
        assert_eq!(recv(&mut fs, b, &mut buf, &mut [], 0x20).unwrap().0, 6);
        let mut v = [0u8; 16];
        assert_eq!(fs.getsockopt(a, 1, 3, &mut v), Ok(4));
        assert_eq!(v[0], 2);
        assert_eq!(fs.getsockopt(a, 1, 17, &mut v), Ok(12));
        assert_eq!(fs.getsockopt(a, 1, 9999, &mut v), Err(Errno::ENOPROTOOPT));
        assert_eq!(fs.sockname(a, false, &mut v), Ok(2));
        assert_eq!(fs.socketpair(2, 1, 0), Err(Errno::ENOTSUP));
        assert_eq!(fs.socketpair(99, 1, 0), Err(Errno::EAFNOSUPPORT));
        fs.close(b).unwrap();
        assert_eq!(fs.write(a, b"x"), Err(Errno(111)));
    }

    fn sun(path: &[u8]) -> Vec<u8> {
        let mut a = vec![1u8, 0];
        a.extend_from_slice(path);
        a.push(0);
        a
    }

    #[test]
    fn named_unix_streams_listen_connect_and_accept() {
        let mut fs = fs();
        let addr = sun(b"/tmp/s");
        let l = fs.socket(1, 1 | O_NONBLOCK, 0).unwrap();
        let c = fs.socket(1, 1, 0).unwrap();
        assert_eq!(fs.connect(c, &addr), Err(Errno::ENOENT));
        assert_eq!(fs.listen(l, 1), Err(Errno::EINVAL));
        assert_eq!(fs.bind(l, &addr), Ok(()));
        // The socket inode: S_IFSOCK, not to be opened.
        let st = fs.fstatat(AT_FDCWD, b"/tmp/s", 0).unwrap();
        assert_eq!(st.mode & S_IFMT, S_IFSOCK);
        assert_eq!(fs.openat(AT_FDCWD, b"/tmp/s", 0, 0), Err(Errno::ENXIO));
        assert_eq!(fs.bind(c, &addr), Err(Errno::EADDRINUSE));
        assert_eq!(fs.connect(c, &addr), Err(Errno::ECONNREFUSED));
        fs.listen(l, 0).unwrap();
        assert_eq!(fs.accept4(l, &mut [], 0), Err(Errno::EAGAIN));
        let mut p = [PollFd {
            fd: l,
            events: vm_core::abi::POLLIN,
            revents: 0,
        }];
        assert_eq!(fs.poll(&mut p), 0);
        assert_eq!(fs.connect(c, &addr), Ok(()));
        assert_eq!(fs.connect(c, &addr), Err(Errno::EISCONN));
        // A backlog of 0 takes one; the next waits.
        let c2 = fs.socket(1, 1, 0).unwrap();
        assert_eq!(fs.connect(c2, &addr), Err(Errno::EAGAIN));
        assert_eq!(fs.poll(&mut p), 1);
        fs.write(c, b"hi").unwrap();
        let mut name = [0u8; 16];
        let (s, len) = fs.accept4(l, &mut name, O_CLOEXEC).unwrap();
        assert_eq!((len, &name[..2]), (2, &[1u8, 0][..]));
        let mut buf = [0u8; 8];
        assert_eq!(fs.read(s, &mut buf), Ok(2));
        assert_eq!(fs.sockname(s, false, &mut name), Ok(9));
        assert_eq!(&name[..9], &addr[..]);
        assert_eq!(fs.sockname(c, true, &mut name), Ok(9));
        assert_eq!(fs.sockname(l, true, &mut name), Err(Errno::ENOTCONN));
        fs.close(c).unwrap();
        assert_eq!(fs.read(s, &mut buf), Ok(0));
        // Closed: the path stays, and refuses.
        fs.close(l).unwrap();
        assert_eq!(fs.connect(c2, &addr), Err(Errno::ECONNREFUSED));
        fs.unlinkat(AT_FDCWD, b"/tmp/s", 0).unwrap();
        assert_eq!(fs.connect(c2, &addr), Err(Errno::ENOENT));
    }

    #[test]
    fn datagrams_by_name_and_the_abstract_namespace() {
        let mut fs = fs();
        let a = fs.socket(1, 2, 0).unwrap();
        let b = fs.socket(1, 2, 0).unwrap();
        let abs = [1u8, 0, 0, b'x'];
        assert_eq!(fs.bind(a, &abs), Ok(()));
        assert_eq!(fs.bind(b, &abs), Err(Errno::EADDRINUSE));
        assert_eq!(fs.bind(b, &[1, 0]), Ok(()));
        let mut name = [0u8; 16];
        assert_eq!(fs.sockname(b, false, &mut name), Ok(8));
        assert_eq!(name[2], 0);
        let msg = SendMsg {
            name: &abs,
            data: b"dgram",
            control: &[],
        };
        assert_eq!(fs.sendmsg(b, &msg, 0), Ok(5));
        let mut data = [0u8; 8];
        let mut from = [0u8; 16];
        let mut m = RecvMsg {
            name: &mut from,
            data: &mut data,
            control: &mut [],
            name_len: 0,
            control_len: 0,
            flags: 0,
        };
        assert_eq!(fs.recvmsg(a, &mut m, 0), Ok(5));
        assert_eq!(m.name_len, 8);
        assert_eq!(
            fs.sendmsg(a, &SendMsg { name: &[], ..msg }, 0),
            Err(Errno::ENOTCONN)
        );
        let s = fs.socket(1, 1, 0).unwrap();
        assert_eq!(fs.connect(s, &abs), Err(Errno::EPROTOTYPE));
        fs.close(a).unwrap();
        assert_eq!(fs.sendmsg(b, &msg, 0), Err(Errno::ECONNREFUSED));
    }

    #[test]
    fn loopback_tcp_and_udp() {
        let mut fs = fs();
        let lo = [2u8, 0, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        let l = fs.socket(2, 1, 0).unwrap();
        assert_eq!(fs.bind(l, &lo[..8]), Err(Errno::EINVAL));
        let far = [2u8, 0, 0, 80, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(fs.bind(l, &far), Err(Errno::EADDRNOTAVAIL));
        fs.bind(l, &lo).unwrap();
        let mut name = [0u8; 16];
        assert_eq!(fs.sockname(l, false, &mut name), Ok(16));
        assert_ne!(&name[2..4], &[0, 0]);
        let x = fs.socket(2, 1, 0).unwrap();
        assert_eq!(fs.bind(x, &name), Err(Errno::EADDRINUSE));
        let c = fs.socket(2, 1, 0).unwrap();
        assert_eq!(fs.connect(c, &name), Err(Errno::ECONNREFUSED));
        fs.listen(l, 5).unwrap();
        assert_eq!(fs.connect(c, &name), Ok(()));
        let mut peer = [0u8; 16];
        let (s, len) = fs.accept4(l, &mut peer, 0).unwrap();
        let mut mine = [0u8; 16];
        fs.sockname(c, false, &mut mine).unwrap();
        assert_eq!((len, peer), (16, mine));
        fs.write(c, b"tcp").unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(fs.read(s, &mut buf), Ok(3));
        let mut v = [0u8; 4];
        assert_eq!(fs.setsockopt(s, 6, 1, &1i32.to_le_bytes()), Ok(()));
        assert_eq!(fs.getsockopt(s, 6, 1, &mut v), Ok(4));
        assert_eq!(v, 1i32.to_le_bytes());
        assert_eq!(fs.connect(c, &name), Err(Errno::EISCONN));
        // UDP: the sender gets a port, the receiver its address.
        let u1 = fs.socket(2, 2, 0).unwrap();
        let u2 = fs.socket(2, 2, 0).unwrap();
        fs.bind(u1, &lo).unwrap();
        fs.sockname(u1, false, &mut name).unwrap();
        let msg = SendMsg {
            name: &name,
            data: b"udp",
            control: &[],
        };
        assert_eq!(fs.sendmsg(u2, &msg, 0), Ok(3));
        let mut from = [0u8; 16];
        let mut m = RecvMsg {
            name: &mut from,
            data: &mut buf,
            control: &mut [],
            name_len: 0,
            control_len: 0,
            flags: 0,
        };
        assert_eq!(fs.recvmsg(u1, &mut m, 0), Ok(3));
        assert_eq!((m.name_len, &from[4..8]), (16, &[127u8, 0, 0, 1][..]));
        let far_msg = SendMsg { name: &far, ..msg };
        assert_eq!(fs.sendmsg(u2, &far_msg, 0), Err(Errno::ENETUNREACH));
        // A connected UDP socket sends where it connected.
        let nameless = SendMsg { name: &[], ..msg };
        assert_eq!(fs.sendmsg(u1, &nameless, 0), Err(Errno::EDESTADDRREQ));
        fs.sockname(u2, false, &mut from).unwrap();
        assert_eq!(fs.connect(u1, &from), Ok(()));
        assert_eq!(fs.sendmsg(u1, &nameless, 0), Ok(3));
        assert_eq!(fs.read(u2, &mut buf), Ok(3));
    }
}

mod fileops {
    use super::*;
    use vm_core::host::XattrTarget;

    #[test]
    fn xattrs_owners_flocks_and_ranges() {
        let mut fs = fs();
        let fd = fs.openat(AT_FDCWD, b"/tmp/f", RDWR_CREAT, 0o644).unwrap();
        let p = XattrTarget::Path {
            path: b"/tmp/f",
            follow: true,
        };
        assert_eq!(fs.setxattr(p, b"user.a", b"value", 0), Ok(()));
        assert_eq!(fs.setxattr(p, b"user.a", b"v", 1), Err(Errno::EEXIST));
        assert_eq!(fs.setxattr(p, b"user.b", b"v", 2), Err(Errno::ENODATA));
        assert_eq!(fs.setxattr(p, b"other.a", b"v", 0), Err(Errno::ENOTSUP));
        let mut v = [0u8; 8];
        assert_eq!(fs.getxattr(XattrTarget::Fd(fd), b"user.a", &mut []), Ok(5));
        assert_eq!(fs.getxattr(p, b"user.a", &mut v[..2]), Err(Errno::ERANGE));
        assert_eq!(fs.getxattr(p, b"user.a", &mut v), Ok(5));
        assert_eq!(fs.getxattr(p, b"", &mut v), Err(Errno::ERANGE));
        assert_eq!(fs.listxattr(p, &mut []), Ok(7));
        assert_eq!(fs.removexattr(p, b"user.a"), Ok(()));
        assert_eq!(fs.removexattr(p, b"user.a"), Err(Errno::ENODATA));
        let ro = XattrTarget::Path {
            path: b"/etc/motd",
            follow: true,
        };
        assert_eq!(fs.setxattr(ro, b"user.a", b"v", 0), Err(Errno::EROFS));
        // Owners.
        fs.fchownat(AT_FDCWD, b"/tmp/f", 4321, u32::MAX, 0).unwrap();
        let st = fs.fstatat(fd, b"", AT_EMPTY_PATH).unwrap();
        assert_eq!((st.uid, st.gid), (4321, 0));
        assert_eq!(
            fs.fchownat(AT_FDCWD, b"/tmp/f", 0, 0, 0x8000),
            Err(Errno::EINVAL)
        );
        // flock between descriptions; closing the last descriptor unlocks.
        let fd2 = fs.openat(AT_FDCWD, b"/tmp/f", RDONLY, 0).unwrap();
        assert_eq!(fs.flock(fd, 2 | 4), Ok(()));
        assert_eq!(fs.flock(fd2, 1 | 4), Err(Errno::EAGAIN));
        let dup = fs.dup(fd).unwrap();
        fs.close(fd).unwrap();
        assert_eq!(fs.flock(fd2, 1 | 4), Err(Errno::EAGAIN));
        fs.close(dup).unwrap();
        assert_eq!(fs.flock(fd2, 1 | 4), Ok(()));
        // fallocate, close_range.
        let fd = fs.openat(AT_FDCWD, b"/tmp/f", O_RDWR, 0).unwrap();
        assert_eq!(fs.fallocate(fd, 0, 0, 8192), Ok(()));
        assert_eq!(fs.fstatat(fd, b"", AT_EMPTY_PATH).unwrap().size, 8192);
        assert_eq!(fs.fallocate(fd, 0, 0, 0), Err(Errno::EINVAL));
        let (a, b) = (fs.dup(fd).unwrap(), fs.dup(fd).unwrap());
        fs.close_range(a as u32, a as u32, 4).unwrap();
        assert_eq!(fs.fcntl(a, 1, 0), Ok(1));
        fs.close_range(a as u32, b as u32, 0).unwrap();
        assert_eq!(fs.fcntl(b, 1, 0), Err(Errno::EBADF));
        assert_eq!(fs.close_range(5, 4, 0), Err(Errno::EINVAL));
    }
}

/// A process table of two processes (pids 2 and 5) and a zombie (6)
/// for `/proc`.
struct TwoProcs;
impl ProcSource for TwoProcs {
    fn pids(&self) -> Vec<i32> {
        vec![2, 5, 6]
    }
    fn facts(&self, pid: i32, me: i32) -> Option<ProcFacts> {
        let exe = match pid {
            2 => b"/work/bin/prog".to_vec(),
            5 => b"/work/bin/other-program-name".to_vec(),
            6 => {
                return Some(ProcFacts {
                    ppid: 2,
                    pgid: 2,
                    sid: 1,
                    state: b'Z',
                    ..ProcFacts::default()
                });
            }
            _ => return None,
        };
        Some(ProcFacts {
            ppid: if pid == 2 { 1 } else { 2 },
            pgid: 2,
            sid: 1,
            state: if pid == me { b'R' } else { b'S' },
            exe,
            cmdline: b"prog\0arg\0".to_vec(),
            cpu_ns: 1_500_000_000,
            start_ns: 0,
            threads: if pid == 2 { vec![9] } else { Vec::new() },
            names: if pid == 2 {
                vec![(9, *b"worker\0\0\0\0\0\0\0\0\0\0")]
            } else {
                Vec::new()
            },
            cwd: (pid != me).then(|| b"/tmp".to_vec()),
            umask: None,
            fds: (pid != me).then(|| vec![(0, b"/dev/ttyS0".to_vec())]),
            mem: Some(MemFigures {
                size: (pid as u64) << 20,
                resident: 40 << 12,
                text: 10 << 12,
                data: 300 << 12,
            }),
        })
    }
    fn uptime_ns(&self) -> u64 {
        12_340_000_000
    }
    fn memory(&self) -> (u64, u64) {
        (64 << 20, 16 << 20)
    }
    fn cpus(&self) -> usize {
        1
    }
}

fn text(fs: &mut Fs, path: &[u8]) -> String {
    let fd = fs.openat(AT_FDCWD, path, RDONLY, 0).unwrap();
    let t = read_all(fs, fd);
    fs.close(fd).unwrap();
    String::from_utf8(t).unwrap()
}

fn link(fs: &mut Fs, path: &[u8]) -> SysResult<Vec<u8>> {
    let mut b = [0u8; 256];
    let n = fs.readlinkat(AT_FDCWD, path, &mut b)?;
    Ok(b[..n].to_vec())
}

#[test]
fn proc_lists_processes_and_descriptors() {
    let mut fs = fs();
    fs.set_proc(2, &TwoProcs);
    let root = names(&mut fs, b"/proc");
    for want in [
        &b"self"[..],
        b"thread-self",
        b"2",
        b"5",
        b"meminfo",
        b"uptime",
    ] {
        assert!(root.iter().any(|n| n == want), "{want:?} in {root:?}");
    }
    assert_eq!(link(&mut fs, b"/proc/self").unwrap(), b"2");
    let own = names(&mut fs, b"/proc/self");
    for want in [&b"fd"[..], b"task", b"exe", b"status", b"maps", b"mem"] {
        assert!(own.iter().any(|n| n == want), "{want:?} in {own:?}");
    }
    assert_eq!(link(&mut fs, b"/proc/thread-self").unwrap(), b"2/task/2");
    assert_eq!(link(&mut fs, b"/proc/self/exe").unwrap(), b"/work/bin/prog");
    assert_eq!(link(&mut fs, b"/proc/self/cwd").unwrap(), b"/");
    assert_eq!(link(&mut fs, b"/proc/5/cwd").unwrap(), b"/tmp");
    assert_eq!(link(&mut fs, b"/proc/5/fd/0").unwrap(), b"/dev/ttyS0");
    assert_eq!(
        fs.openat(AT_FDCWD, b"/proc/7", RDONLY, 0),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        fs.openat(AT_FDCWD, b"/proc/05", RDONLY, 0),
        Err(Errno::ENOENT)
    );
    // The descriptor directory lists exactly the open descriptors.
    let null = fs.openat(AT_FDCWD, b"/dev/null", RDONLY, 0).unwrap();
    let fds = names(&mut fs, b"/proc/self/fd");
    assert_eq!(fds, [&b"."[..], b"..", b"0", b"1", b"2", b"3", b"4"]);
    assert_eq!(link(&mut fs, b"/proc/self/fd/3").unwrap(), b"/dev/null");
    fs.close(null).unwrap();
    assert_eq!(link(&mut fs, b"/proc/2/fd/3"), Err(Errno::ENOENT));
    assert_eq!(
        names(&mut fs, b"/proc/self/task"),
        [&b"."[..], b"..", b"2", b"9"]
    );
    assert!(text(&mut fs, b"/proc/self/task/9/status").contains("\nPid:\t9\n"));
    // A thread's own name, else the program's.
    assert_eq!(text(&mut fs, b"/proc/self/task/9/comm"), "worker\n");
    assert!(text(&mut fs, b"/proc/self/task/9/stat").starts_with("9 (worker) "));
    assert!(text(&mut fs, b"/proc/self/task/9/status").starts_with("Name:\tworker\n"));
    assert_eq!(text(&mut fs, b"/proc/self/task/2/comm"), "prog\n");
    assert!(text(&mut fs, b"/proc/self/status").contains("\nThreads:\t2\n"));
    assert_eq!(
        fs.openat(AT_FDCWD, b"/proc/self/task/8", RDONLY, 0),
        Err(Errno::ENOENT)
    );
    // The process's lines: pid, state, parent, group, session, CPU time.
    let stat = text(&mut fs, b"/proc/self/stat");
    assert!(stat.starts_with("2 (prog) R 1 2 1 0 -1 "), "{stat}");
    assert_eq!(stat.split_whitespace().count(), 52);
    assert_eq!(stat.split_whitespace().nth(13), Some("150"));
    let other = text(&mut fs, b"/proc/5/stat");
    assert!(other.starts_with("5 (other-program-n) S 2 "), "{other}");
    let status = text(&mut fs, b"/proc/self/status");
    assert!(status.contains("\nPid:\t2\nPPid:\t1\n"), "{status}");
    assert!(status.contains("\nVmRSS:"), "{status}");
    // Another process's memory figures, in pages in statm and stat, kB
    // in status; none for a zombie.
    assert_eq!(text(&mut fs, b"/proc/5/statm"), "1280 40 0 10 0 300 0\n");
    let other = text(&mut fs, b"/proc/5/status");
    assert!(other.contains("\nVmSize:\t    5120 kB\n"), "{other}");
    assert!(other.contains("\nVmRSS:\t     160 kB\n"), "{other}");
    assert!(other.contains("\nVmData:\t    1200 kB\n"), "{other}");
    let stat5 = text(&mut fs, b"/proc/5/stat");
    let f: Vec<&str> = stat5.split_whitespace().collect();
    assert_eq!((f[22], f[23]), ("5242880", "40"), "{stat5}");
    assert_eq!(text(&mut fs, b"/proc/6/statm"), "0 0 0 0 0 0 0\n");
    assert!(!text(&mut fs, b"/proc/6/status").contains("Vm"));
    assert_eq!(text(&mut fs, b"/proc/self/cmdline"), "prog\0arg\0");
    assert_eq!(text(&mut fs, b"/proc/5/comm"), "other-program-n\n");
    assert_eq!(text(&mut fs, b"/proc/uptime"), "12.34 12.34\n");
    assert!(text(&mut fs, b"/proc/meminfo").starts_with("MemTotal:          65536 kB\n"));
    // Everything is on procfs's device, read-only but for mem.
    let st = fs.fstatat(AT_FDCWD, b"/proc/self/maps", 0).unwrap();
    assert_eq!(st.dev, procfs::DEV);
    assert_eq!(
        st.ino,
        fs.fstatat(AT_FDCWD, b"/proc/2/maps", 0).unwrap().ino
    );
    assert_eq!(
        fs.openat(AT_FDCWD, b"/proc/self/status", O_WRONLY, 0),
        Err(Errno::EACCES)
    );
    let mem = fs.openat(AT_FDCWD, b"/proc/self/mem", O_RDWR, 0).unwrap();
    fs.close(mem).unwrap();
}

#[test]
fn proc_fd_links_reopen_the_descriptors_file() {
    let mut fs = fs();
    fs.set_proc(2, &TwoProcs);
    // A memfd: its link names it, deleted; following the link opens the
    // same file with an offset and access mode of its own.
    let m = fs.memfd_create(b"probe", 0).unwrap();
    assert_eq!(fs.write(m, b"memfd bytes").unwrap(), 11);
    let p = format!("/proc/self/fd/{m}");
    assert_eq!(
        link(&mut fs, p.as_bytes()).unwrap(),
        b"/memfd:probe (deleted)"
    );
    let r = fs.openat(AT_FDCWD, p.as_bytes(), RDONLY, 0).unwrap();
    assert_eq!(read_all(&mut fs, r), b"memfd bytes");
    assert_eq!(fs.write(r, b"x"), Err(Errno::EBADF));
    let again = format!("/proc/self/fd/{r}");
    assert_eq!(
        link(&mut fs, again.as_bytes()).unwrap(),
        b"/memfd:probe (deleted)"
    );
    fs.close(m).unwrap();
    // The reopened descriptor keeps the file.
    let r2 = fs.openat(AT_FDCWD, again.as_bytes(), O_RDWR, 0).unwrap();
    assert_eq!(fs.write(r2, b"M").unwrap(), 1);
    assert_eq!(fs.pread(r, &mut [0u8; 5], 0).ok(), Some(5));
    // fdinfo: position and flags (O_LARGEFILE, as Linux's 64-bit open).
    let info = text(&mut fs, format!("/proc/self/fdinfo/{r2}").as_bytes());
    assert!(info.starts_with("pos:\t1\nflags:\t0100002\n"), "{info}");
    // A directory descriptor leads to the directory, by its path.
    let d = fs.openat(AT_FDCWD, b"/etc", O_DIRECTORY, 0).unwrap();
    let motd = format!("/proc/self/fd/{d}/motd");
    assert_eq!(text(&mut fs, motd.as_bytes()), "hello from the ramdisk\n");
    // A pipe's link names it; a socket has nothing to reopen.
    let [pr, _pw] = fs.pipe2(0).unwrap();
    let pp = format!("/proc/self/fd/{pr}");
    assert!(link(&mut fs, pp.as_bytes()).unwrap().starts_with(b"pipe:["));
    let [s, _] = fs.socketpair(1, 1, 0).unwrap();
    let sp = format!("/proc/self/fd/{s}");
    assert!(
        link(&mut fs, sp.as_bytes())
            .unwrap()
            .starts_with(b"socket:[")
    );
    assert_eq!(
        fs.openat(AT_FDCWD, sp.as_bytes(), O_RDWR, 0),
        Err(Errno::ENXIO)
    );
    // Another process's links are text only.
    assert_eq!(
        link(&mut fs, b"/proc/5/exe").unwrap(),
        b"/work/bin/other-program-name"
    );
}

#[test]
fn proc_fd_links_of_pipes_and_the_console_reopen_them() {
    let mut fs = fs();
    fs.set_proc(2, &TwoProcs);
    let [r, w] = fs.pipe2(0).unwrap();
    // The write end reopened for reading is the pipe's read end.
    let r2 = fs
        .openat(AT_FDCWD, format!("/proc/self/fd/{w}").as_bytes(), RDONLY, 0)
        .unwrap();
    let w2 = fs
        .openat(AT_FDCWD, format!("/dev/fd/{r}").as_bytes(), O_WRONLY, 0)
        .unwrap();
    assert_eq!(fs.write(w2, b"through").unwrap(), 7);
    let mut b = [0u8; 16];
    assert_eq!(fs.read(r2, &mut b).unwrap(), 7);
    assert_eq!(&b[..7], b"through");
    assert_eq!(
        fs.fstatat(AT_FDCWD, format!("/proc/self/fd/{r}").as_bytes(), 0)
            .unwrap()
            .mode
            & S_IFMT,
        S_IFIFO
    );
    let p = format!("/proc/self/fd/{r}");
    assert_eq!(
        fs.openat(AT_FDCWD, p.as_bytes(), O_RDWR, 0),
        Err(Errno::ENXIO)
    );
    // Closing every writer but the reopened one keeps the pipe open.
    fs.close(w).unwrap();
    fs.close(w2).unwrap();
    assert_eq!(fs.read(r, &mut b).unwrap(), 0);
    // /dev/stdout is the console.
    let out = fs.openat(AT_FDCWD, b"/dev/stdout", O_WRONLY, 0).unwrap();
    assert_eq!(fs.write(out, b"x").unwrap(), 1);
    assert_eq!(
        fs.openat(AT_FDCWD, b"/dev/stdout", RDONLY, 0),
        Err(Errno::ENXIO)
    );
    assert_eq!(
        fs.openat(AT_FDCWD, b"/proc/self/fd/1/x", RDONLY, 0),
        Err(Errno::ENOTDIR)
    );
}

/// The monotonic clock of [`tcp_time_wait_holds_the_port_of_who_closes_first`].
static TW_NOW: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);

fn tw_now() -> u64 {
    TW_NOW.load(core::sync::atomic::Ordering::Relaxed)
}

fn sin(port: u16) -> Vec<u8> {
    let mut a = vec![2u8, 0];
    a.extend_from_slice(&port.to_be_bytes());
    a.extend_from_slice(&[127, 0, 0, 1]);
    a.resize(16, 0);
    a
}

#[test]
fn tcp_time_wait_holds_the_port_of_who_closes_first() {
    use vm_core::abi::{SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET};
    let mut fs = fs();
    fs.set_monotonic(tw_now);
    let ls = fs.socket(2, SOCK_STREAM, 0).unwrap();
    fs.bind(ls, &sin(0)).unwrap();
    fs.listen(ls, 1).unwrap();
    let mut a = [0u8; 16];
    fs.sockname(ls, false, &mut a).unwrap();
    let port = u16::from_be_bytes([a[2], a[3]]);
    let c = fs.socket(2, SOCK_STREAM | O_NONBLOCK, 0).unwrap();
    assert_eq!(fs.connect(c, &sin(port)), Err(Errno::EINPROGRESS));
    assert_eq!(fs.connect(c, &sin(port)), Ok(()));
    assert_eq!(fs.connect(c, &sin(port)), Err(Errno::EISCONN));
    let s = fs.accept4(ls, &mut [], 0).unwrap().0;
    fs.sockname(c, false, &mut a).unwrap();
    let cport = u16::from_be_bytes([a[2], a[3]]);
    // The client closes first, then the server.
    fs.close(c).unwrap();
    fs.close(s).unwrap();
    fs.close(ls).unwrap();
    let again = |fs: &mut Fs, port: u16, reuse: bool| {
        let t = fs.socket(2, SOCK_STREAM, 0).unwrap();
        if reuse {
            fs.setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &1i32.to_le_bytes())
                .unwrap();
        }
        let r = fs.bind(t, &sin(port));
        fs.close(t).unwrap();
        r
    };
    assert_eq!(again(&mut fs, cport, false), Err(Errno::EADDRINUSE));
    assert_eq!(again(&mut fs, cport, true), Err(Errno::EADDRINUSE));
    // The server closed second: its port is free.
    assert_eq!(again(&mut fs, port, false), Ok(()));
    // 60 s later the client's is too.
    TW_NOW.store(60_000_000_002, core::sync::atomic::Ordering::Relaxed);
    assert_eq!(again(&mut fs, cport, false), Ok(()));
    // Refused, non-blocking: EINPROGRESS, then SO_ERROR once.
    let c = fs.socket(2, SOCK_STREAM | O_NONBLOCK, 0).unwrap();
    assert_eq!(fs.connect(c, &sin(port)), Err(Errno::EINPROGRESS));
    let mut e = [0u8; 4];
    fs.getsockopt(c, SOL_SOCKET, vm_core::abi::SO_ERROR, &mut e)
        .unwrap();
    assert_eq!(i32::from_le_bytes(e), Errno::ECONNREFUSED.0);
    fs.getsockopt(c, SOL_SOCKET, vm_core::abi::SO_ERROR, &mut e)
        .unwrap();
    assert_eq!(i32::from_le_bytes(e), 0);
}

#[test]
fn netlink_dumps_the_loopback() {
    use vm_core::abi::{AF_NETLINK, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, RTM_GETLINK, SOCK_RAW};
    let mut fs = fs();
    let s = fs.socket(AF_NETLINK, SOCK_RAW, 0).unwrap();
    let mut req = vec![0u8; 20];
    req[..4].copy_from_slice(&20u32.to_le_bytes());
    req[4..6].copy_from_slice(&RTM_GETLINK.to_le_bytes());
    req[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_le_bytes());
    req[8..12].copy_from_slice(&7u32.to_le_bytes());
    assert_eq!(fs.write(s, &req).unwrap(), 20);
    let mut buf = vec![0u8; 4096];
    let n = fs.read(s, &mut buf).unwrap();
    // One RTM_NEWLINK of index 1 named lo, for our port and sequence.
    assert_eq!(u32::from_le_bytes(buf[..4].try_into().unwrap()) as usize, n);
    assert_eq!(u16::from_le_bytes([buf[4], buf[5]]), 16);
    assert_eq!(u32::from_le_bytes(buf[8..12].try_into().unwrap()), 7);
    let mut me = [0u8; 12];
    fs.sockname(s, false, &mut me).unwrap();
    assert_eq!(buf[12..16], me[4..8]);
    assert_eq!(i32::from_le_bytes(buf[20..24].try_into().unwrap()), 1);
    assert!(buf[..n].windows(3).any(|w| w == b"lo\0"));
    let n = fs.read(s, &mut buf).unwrap();
    assert_eq!(n, 20);
    assert_eq!(u16::from_le_bytes([buf[4], buf[5]]), NLMSG_DONE);
    assert_eq!(fs.read(s, &mut buf), Err(Errno::EAGAIN));
    assert_eq!(
        fs.socket(AF_NETLINK, SOCK_RAW, 9),
        Err(Errno::EPROTONOSUPPORT)
    );
}

/// A host for the IPC namespace that never waits.
struct NoWait;

impl vm_core::ipc::IpcEnv for NoWait {
    fn caller(&self) -> vm_core::ipc::Caller {
        vm_core::ipc::Caller {
            pid: 2,
            uid: 0,
            gid: 0,
        }
    }
    fn realtime(&self) -> Timespec {
        clock()
    }
    fn now_ns(&self) -> u64 {
        0
    }
    fn wait(&self, _d: Option<u64>, _ready: &mut dyn FnMut() -> bool) -> SysResult<bool> {
        Err(Errno::EINTR)
    }
    fn shm_create(&self, _size: u64) -> SysResult<u64> {
        Err(Errno::ENOMEM)
    }
    fn shm_destroy(&self, _handle: u64) {}
    fn mq_signal(&self, _pid: i32, _signo: i32, _value: u64, _sender: vm_core::ipc::Caller) {}
}

#[test]
fn message_queue_descriptors() {
    use vm_core::abi::{AF_NETLINK, NOTIFY_REMOVED, NOTIFY_WOKENUP, POLLIN, POLLOUT, SOCK_RAW};
    use vm_core::ipc::mq::Notice;
    static IPC: vm_core::ipc::Ipc = vm_core::ipc::Ipc::new();
    let mut fs = fs();
    let q = IPC
        .mq_open(&NoWait, b"q", O_CREAT | O_RDWR, 0o600, None)
        .unwrap();
    let fd = fs.mq_install(&IPC, q, b"q", O_RDWR | O_NONBLOCK).unwrap();
    let d = fs.mq_desc(fd).unwrap();
    assert_eq!(d.flags & O_NONBLOCK, O_NONBLOCK);
    fs.set_nonblock(fd, false).unwrap();
    assert_eq!(fs.mq_desc(fd).unwrap().flags & O_NONBLOCK, 0);
    assert_eq!(fs.mq_desc(1).err(), Some(Errno::EBADF));
    let mut p = [vm_core::host::PollFd {
        fd,
        events: POLLIN | POLLOUT,
        revents: 0,
    }];
    fs.poll(&mut p);
    assert_eq!(p[0].revents, POLLOUT);
    // SIGEV_THREAD: the cookie reaches the netlink socket when a message
    // comes, and a second registration's removal says so when the
    // descriptor goes.
    assert_eq!(fs.notice_sink(1).err(), Some(Errno::ENOTSOCK));
    let s = fs.socket(AF_NETLINK, SOCK_RAW, 0).unwrap();
    let mut cookie = [7u8; 32];
    let sink = fs.notice_sink(s).unwrap();
    let notice = Notice::Thread { sink, cookie };
    IPC.mq_notify(&NoWait, &d.queue, Some(notice))
        .unwrap();
    IPC.mq_send(&NoWait, &d.queue, true, b"m", 1, None).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(fs.read(s, &mut buf), Ok(32));
    cookie[31] = NOTIFY_WOKENUP;
    assert_eq!(buf[..32], cookie);
    fs.poll(&mut p);
    assert_eq!(p[0].revents, POLLIN | POLLOUT);
    let sink = fs.notice_sink(s).unwrap();
    let notice = Notice::Thread { sink, cookie };
    IPC.mq_notify(&NoWait, &d.queue, Some(notice))
        .unwrap();
    drop(d);
    fs.close(fd).unwrap();
    assert_eq!(fs.read(s, &mut buf), Ok(32));
    assert_eq!(buf[31], NOTIFY_REMOVED);
}

/// What the kernel's page caches key on: descriptors of one file (opened
/// twice, or dup'ed) give the same `FileRef`, another file does not, and
/// the size and bytes are the file's as it changes.
#[test]
fn file_refs_name_the_file_not_the_descriptor() {
    let mut fs = fs();
    let a = fs
        .openat(AT_FDCWD, b"/tmp/m", O_RDWR | O_CREAT, 0o600)
        .unwrap();
    let b = fs.openat(AT_FDCWD, b"/tmp/m", O_RDWR, 0).unwrap();
    let m = fs.memfd_create(b"other", 0).unwrap();
    let (ra, rb, rm) = (
        fs.file_ref(a).unwrap(),
        fs.file_ref(b).unwrap(),
        fs.file_ref(m).unwrap(),
    );
    assert!(ra.same(&rb) && rb.same(&ra));
    assert!(!ra.same(&rm));
    assert_eq!(ra.size(), 0);
    fs.pwrite(b, b"hello", 3).unwrap();
    assert_eq!(ra.size(), 8);
    let mut buf = [0u8; 8];
    assert_eq!(ra.read_at(3, &mut buf), 5);
    assert_eq!(&buf[..5], b"hello");
    // A mapping's write-back never grows the file.
    ra.write_within(6, b"XYZW");
    assert_eq!(ra.size(), 8);
    assert_eq!(rb.read_at(0, &mut buf), 8);
    assert_eq!(&buf, b"\0\0\0helXY");
}
