// Extended attributes, ownership and the other file calls on temporary
// files in /tmp: xattr family, chown family, flock, fallocate, sendfile,
// copy_file_range, splice, tee, close_range, preadv2 without flags, sync,
// and the id and priority calls.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

static char dir[] = "/tmp/pvm-fileops-XXXXXX";

static char *at(const char *name) {
    static char buf[2][128];
    static int i;
    i ^= 1;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    int fd = open(at("f"), O_CREAT | O_RDWR, 0644);
    write(fd, "0123456789", 10);

    // Extended attributes.
    printf("setxattr: %d\n", setxattr(at("f"), "user.pvm", "value", 5, 0));
    printf("create again: %d EEXIST %d\n", setxattr(at("f"), "user.pvm", "v", 1, XATTR_CREATE),
           errno == EEXIST);
    printf("fsetxattr: %d\n", fsetxattr(fd, "user.two", "2", 1, 0));
    char v[32] = {0};
    printf("size query: %zd\n", getxattr(at("f"), "user.pvm", NULL, 0));
    printf("getxattr: %zd '%s'\n", getxattr(at("f"), "user.pvm", v, sizeof v), v);
    printf("too small: %zd ERANGE %d\n", getxattr(at("f"), "user.pvm", v, 2), errno == ERANGE);
    memset(v, 0, sizeof v);
    printf("fgetxattr: %zd '%s'\n", fgetxattr(fd, "user.two", v, sizeof v), v);
    char list[64];
    ssize_t n = listxattr(at("f"), list, sizeof list);
    int seen_pvm = 0, seen_two = 0;
    for (char *p = list; p < list + n; p += strlen(p) + 1) {
        seen_pvm |= strcmp(p, "user.pvm") == 0;
        seen_two |= strcmp(p, "user.two") == 0;
    }
    printf("listxattr: %zd both %d size query %zd\n", n, seen_pvm && seen_two,
           flistxattr(fd, NULL, 0));
    printf("removexattr: %d\n", removexattr(at("f"), "user.pvm"));
    printf("missing: %zd ENODATA %d\n", getxattr(at("f"), "user.pvm", v, sizeof v), errno == ENODATA);
    printf("fremovexattr: %d\n", fremovexattr(fd, "user.two"));
    symlink("f", at("link"));
    printf("lgetxattr on link: %zd ENODATA or EPERM %d\n", lgetxattr(at("link"), "user.x", v, 4),
           errno == ENODATA || errno == EPERM);
    printf("empty name: %zd ERANGE %d\n", getxattr(at("f"), "", v, 4), errno == ERANGE);
    printf("no file: %zd ENOENT %d\n", getxattr(at("none"), "user.x", v, 4), errno == ENOENT);

    // Ownership: to oneself always works; to another user only as root.
    printf("fchown self: %d\n", fchown(fd, getuid(), getgid()));
    printf("chown -1: %d\n", chown(at("f"), -1, -1));
    printf("lchown link: %d\n", lchown(at("link"), getuid(), -1));
    printf("fchownat nofollow: %d\n", fchownat(AT_FDCWD, at("link"), -1, getgid(), AT_SYMLINK_NOFOLLOW));
    int r = chown(at("f"), 4321, 4321);
    struct stat st;
    stat(at("f"), &st);
    printf("chown other: %s\n", geteuid() == 0 ? (r == 0 && st.st_uid == 4321 ? "ok" : "bad")
                                                : (r == -1 && errno == EPERM ? "ok" : "bad"));
    printf("fchownat bad flags: %d EINVAL %d\n", fchownat(AT_FDCWD, at("f"), 0, 0, 0x8000),
           errno == EINVAL);
    printf("fchown bad fd: %d EBADF %d\n", fchown(99, 0, 0), errno == EBADF);

    // flock: a second open file description conflicts.
    int fd2 = open(at("f"), O_RDONLY);
    printf("flock ex: %d\n", flock(fd, LOCK_EX | LOCK_NB));
    printf("flock other: %d EWOULDBLOCK %d\n", flock(fd2, LOCK_SH | LOCK_NB), errno == EWOULDBLOCK);
    printf("unlock, then: %d %d\n", flock(fd, LOCK_UN), flock(fd2, LOCK_SH | LOCK_NB));

    // fallocate grows the file.
    printf("fallocate: %d\n", fallocate(fd, 0, 0, 8192));
    fstat(fd, &st);
    printf("size: %ld\n", (long)st.st_size);
    printf("fallocate bad len: %d EINVAL %d\n", fallocate(fd, 0, 0, 0), errno == EINVAL);
    ftruncate(fd, 10);

    // sendfile to a pipe, with and without an offset.
    int p[2];
    pipe(p);
    off_t off = 2;
    printf("sendfile: %zd off %ld\n", sendfile(p[1], fd, &off, 4), (long)off);
    lseek(fd, 7, SEEK_SET);
    printf("sendfile pos: %zd pos now %ld\n", sendfile(p[1], fd, NULL, 100), (long)lseek(fd, 0, SEEK_CUR));
    char buf[32] = {0};
    printf("pipe has: %zd '%s'\n", read(p[0], buf, sizeof buf), buf);

    // copy_file_range between files.
    int out = open(at("g"), O_CREAT | O_RDWR | O_TRUNC, 0600);
    loff_t in_off = 5, out_off = 0;
    printf("copy_file_range: %zd offsets %ld %ld\n",
           copy_file_range(fd, &in_off, out, &out_off, 5, 0), (long)in_off, (long)out_off);
    memset(buf, 0, sizeof buf);
    pread(out, buf, sizeof buf, 0);
    printf("copied: '%s'\n", buf);
    printf("copy bad flags: %zd EINVAL %d\n", copy_file_range(fd, NULL, out, NULL, 1, 1),
           errno == EINVAL);

    // splice from a pipe into a file; tee between pipes.
    write(p[1], "spliced", 7);
    loff_t so = 3;
    printf("splice: %zd off %ld\n", splice(p[0], NULL, out, &so, 7, 0), (long)so);
    memset(buf, 0, sizeof buf);
    pread(out, buf, sizeof buf, 0);
    printf("file now: '%s'\n", buf);
    int q[2];
    pipe(q);
    write(p[1], "teed", 4);
    printf("tee: %zd\n", tee(p[0], q[1], 4, 0));
    memset(buf, 0, sizeof buf);
    read(q[0], buf, 4);
    printf("copy '%s'", buf);
    memset(buf, 0, sizeof buf);
    read(p[0], buf, 4);
    printf(" original '%s'\n", buf);

    // preadv2/pwritev2 with flags and with the file position (-1).
    char a1[3] = {0}, a2[4] = {0};
    struct iovec iv[2] = {{a1, 2}, {a2, 3}};
    lseek(fd, 0, SEEK_SET);
    memset(a1, 0, 3);
    memset(a2, 0, 4);
    printf("preadv2 pos: %zd '%s' '%s' pos %ld\n", preadv2(fd, iv, 2, -1, 0), a1, a2,
           (long)lseek(fd, 0, SEEK_CUR));

    // close_range closes a range, or marks it close-on-exec.
    int a = dup(fd), b = dup(fd), c = dup(fd);
    printf("close_range cloexec: %d flag %d\n", (int)syscall(SYS_close_range, a, a, 4),
           fcntl(a, F_GETFD) & FD_CLOEXEC);
    printf("close_range: %d\n", (int)syscall(SYS_close_range, a, c, 0));
    printf("closed: %d %d %d\n", fcntl(a, F_GETFD) == -1, fcntl(b, F_GETFD) == -1,
           fcntl(c, F_GETFD) == -1);
    printf("close_range bad: %d EINVAL %d\n", (int)syscall(SYS_close_range, 5, 4, 0), errno == EINVAL);

    sync();
    printf("syncfs: %d\n", syncfs(fd));

    // Ids and groups.
    uid_t ru, eu, su;
    getresuid(&ru, &eu, &su);
    printf("getresuid: %d\n", ru == getuid() && eu == geteuid());
    printf("setresuid keep: %d\n", setresuid(-1, -1, -1));
    printf("setresgid keep: %d\n", setresgid(-1, -1, -1));
    int ng = getgroups(0, NULL);
    gid_t gs[256];
    printf("getgroups: %d\n", getgroups(256, gs) == ng);
    r = setgroups(ng, gs);
    printf("setgroups same: %s\n", geteuid() == 0 ? (r == 0 ? "ok" : "bad")
                                                  : (r == -1 && errno == EPERM ? "ok" : "bad"));
    printf("getgroups too small: %d\n", ng > 0 ? getgroups(ng - 1 > 0 ? ng - 1 : 0, gs) : -1);

    // Priority: raising the nice value is always allowed.
    errno = 0;
    int before = getpriority(PRIO_PROCESS, 0);
    int ok = errno == 0;
    printf("setpriority +1: %d\n", setpriority(PRIO_PROCESS, 0, before + 1));
    printf("getpriority: %d\n", ok && getpriority(PRIO_PROCESS, 0) == before + 1);
    printf("bad which: %d EINVAL %d\n", getpriority(99, 0), errno == EINVAL);

    unlink(at("link"));
    unlink(at("f"));
    unlink(at("g"));
    rmdir(dir);
    return 0;
}
