// --sandbox: every riscv64 system call that takes a path, on a path
// outside the allowed directory ("/tmp/pvm-sbx-absent", which does not
// exist: a call the host looked up would say ENOENT; /etc for those that
// read) and through a link inside it that leads out ("out" -> /tmp, "etc"
// -> /etc), each argument position in turn. Each is EACCES (the sandbox's
// rule, as a security module answers), or what Linux answers any
// unprivileged process before it looks at the path (EPERM for chroot,
// acct, swapon, mount..., ENOSYS where pvm has no such call), never
// ENOENT or success. The calls without a directory argument (truncate,
// statfs, chdir, the path *xattr calls, inotify_add_watch) are resolved
// by the sandbox to a descriptor too; a symbolic link's text (symlinkat's
// target) is not a lookup and may point anywhere. "etc/" (the link with
// a slash after it): the calls that work on a name answer for the link
// itself as Linux does (ENOTDIR, EEXIST, EADDRINUSE), without following
// it; pvm dropped the slash, and "unlink etc/" removed the link.
//@ variants: static
//@ pvm-args: --sandbox --allow-write {dir}
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is Linux's answer under pvm's rules
#define _GNU_SOURCE
#include "sbx.h"
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#define ABSENT "/tmp/pvm-sbx-absent"

static void unix_addr(const char *what, const char *path, int bind_it) {
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    int pair[2];
    if (s < 0 && socketpair(AF_UNIX, SOCK_DGRAM, 0, pair) == 0)
        s = pair[0];
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, path);
    if (bind_it)
        SHOW(what, bind(s, (struct sockaddr *)&a, sizeof a));
    else
        SHOW(what, sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof a));
    close(s);
}

int main(void) {
    struct stat st;
    struct statfs sf;
    char buf[256];
    symlink("/tmp", "out");
    symlink("/etc", "etc");
    close(open("f", O_CREAT | O_WRONLY, 0644));
    int in = inotify_init1(0);
    const char *outs[] = {ABSENT, "out/pvm-sbx-absent", "/etc/passwd", "etc/passwd", "/etc",
                          "etc/"};
    for (unsigned i = 0; i < sizeof outs / sizeof *outs; i++) {
        const char *p = outs[i];
        printf("-- %s\n", p);
        SHOW("openat", open(p, O_RDONLY));
        SHOW("openat O_CREAT", open(p, O_CREAT | O_WRONLY, 0644));
        SHOW("newfstatat", stat(p, &st));
        SHOW("newfstatat nofollow", lstat(p, &st));
        SHOW("statx", statx(AT_FDCWD, p, 0, STATX_BASIC_STATS, (struct statx *)buf));
        SHOW("faccessat", access(p, F_OK));
        SHOW("faccessat2", syscall(SYS_faccessat2, AT_FDCWD, p, R_OK, AT_EACCESS));
        SHOW("readlinkat", readlink(p, buf, sizeof buf));
        SHOW("mkdirat", mkdir(p, 0755));
        SHOW("mknodat", mknod(p, S_IFIFO | 0644, 0));
        SHOW("unlinkat", unlink(p));
        SHOW("unlinkat rmdir", rmdir(p));
        SHOW("fchmodat", chmod(p, 0644));
        SHOW("fchownat", chown(p, getuid(), getgid()));
        SHOW("utimensat", utimensat(AT_FDCWD, p, NULL, 0));
        SHOW("truncate", truncate(p, 0));
        SHOW("statfs", statfs(p, &sf));
        SHOW("chdir", chdir(p));
        SHOW("getxattr", getxattr(p, "user.x", buf, sizeof buf));
        SHOW("lgetxattr", lgetxattr(p, "user.x", buf, sizeof buf));
        SHOW("setxattr", setxattr(p, "user.x", "1", 1, 0));
        SHOW("lsetxattr", lsetxattr(p, "user.x", "1", 1, 0));
        SHOW("listxattr", listxattr(p, buf, sizeof buf));
        SHOW("llistxattr", llistxattr(p, buf, sizeof buf));
        SHOW("removexattr", removexattr(p, "user.x"));
        SHOW("lremovexattr", lremovexattr(p, "user.x"));
        SHOW("inotify_add_watch", inotify_add_watch(in, p, IN_ALL_EVENTS));
        SHOW("renameat2 from", rename(p, "g"));
        SHOW("renameat2 to", rename("f", p));
        SHOW("linkat from", link(p, "h"));
        SHOW("linkat from follow", linkat(AT_FDCWD, p, AT_FDCWD, "h", AT_SYMLINK_FOLLOW));
        SHOW("linkat to", link("f", p));
        SHOW("symlinkat to", symlink("f", p));
        SHOW("execve", execve(p, (char *[]){"x", NULL}, (char *[]){NULL}));
        SHOW("execveat", syscall(SYS_execveat, AT_FDCWD, p, (char *[]){"x", NULL},
                                 (char *[]){NULL}, 0));
        SHOW("openat2", syscall(SYS_openat2, AT_FDCWD, p,
                                &(struct {
                                    unsigned long long f, m, r;
                                }){O_RDONLY, 0, 0},
                                24));
        unix_addr("bind", p, 1);
        unix_addr("sendto", p, 0);
        SHOW("chroot", chroot(p));
        SHOW("acct", acct(p));
        SHOW("swapon", syscall(SYS_swapon, p, 0));
        SHOW("swapoff", syscall(SYS_swapoff, p));
        SHOW("mount", syscall(SYS_mount, "none", p, "tmpfs", 0, NULL));
        SHOW("umount2", syscall(SYS_umount2, p, 0));
        SHOW("pivot_root", syscall(SYS_pivot_root, p, p));
        SHOW("open_tree", syscall(SYS_open_tree, AT_FDCWD, p, 0));
        SHOW("name_to_handle_at", syscall(SYS_name_to_handle_at, AT_FDCWD, p, buf, buf, 0));
    }
    // A link's text is not looked up: it may name anything.
    SHOW("symlinkat text", symlink(ABSENT, "text"));
    // Nothing was made or changed outside: the current directory holds
    // only what the probe made.
    SHOW("stat " ABSENT, stat(ABSENT, &st));
    return 0;
}
