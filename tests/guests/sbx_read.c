// --sandbox: reading outside the allowed directories fails with EACCES
// (open, stat, opendir, readlink, access, chdir, statfs, xattrs, inotify
// watches: a watch shows the names of files as they change), while
// the allowed directory, the sysroot (the dynamic variant's libc), the
// program itself and /dev/null stay readable.
//@ pvm-args: --sandbox --allow-write {dir}
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is Linux's answer under pvm's rules (EACCES, as a security module gives)
#define _GNU_SOURCE
#include "sbx.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/inotify.h>
#include <sys/xattr.h>
#include <unistd.h>

int main(int argc, char **argv) {
    (void)argc;
    struct stat st;
    struct statfs sf;
    char buf[256];
    SHOW("open /etc/passwd", open("/etc/passwd", O_RDONLY));
    SHOW("open /etc/hostname O_PATH", open("/etc/hostname", O_PATH));
    SHOW("stat /etc/passwd", stat("/etc/passwd", &st));
    SHOW("lstat /", lstat("/", &st));
    SHOW("opendir /", opendir("/") ? 0 : -1);
    SHOW("readlink /proc/1/exe", readlink("/proc/1/exe", buf, sizeof buf));
    SHOW("access /etc/passwd", access("/etc/passwd", R_OK));
    SHOW("statfs /etc", statfs("/etc", &sf));
    SHOW("getxattr /etc/passwd", getxattr("/etc/passwd", "user.x", buf, sizeof buf));
    SHOW("chdir /etc", chdir("/etc"));
    int ifd = inotify_init1(IN_CLOEXEC);
    SHOW("inotify_add_watch /etc", inotify_add_watch(ifd, "/etc", IN_ALL_EVENTS));
    SHOW("open /etc/../etc/passwd", open("/etc/../etc/passwd", O_RDONLY));
    // What is allowed.
    int fd = open("mine", O_CREAT | O_WRONLY, 0644);
    SHOW("create mine", fd);
    SHOW("write mine", write(fd, "data\n", 5));
    close(fd);
    fd = open("mine", O_RDONLY);
    SHOW("read mine", read(fd, buf, sizeof buf));
    close(fd);
    SHOW("stat .", stat(".", &st));
    SHOW("opendir .", opendir(".") ? 0 : -1);
    SHOW("inotify_add_watch .", inotify_add_watch(ifd, ".", IN_ALL_EVENTS) > 0 ? 0 : -1);
    SHOW("open /dev/null", open("/dev/null", O_RDWR));
    SHOW("open own program", open(argv[0], O_RDONLY));
    SHOW("write own program", open(argv[0], O_WRONLY));
    return 0;
}
