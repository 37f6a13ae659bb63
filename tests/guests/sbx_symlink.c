// --sandbox: symbolic links inside an allowed directory cannot lead out
// of it (absolute targets, ../ chains, links to links), but links that
// stay inside work; hard links from outside are refused.
//@ variants: static
//@ pvm-args: --sandbox --allow-write {dir}
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is Linux's answer under pvm's rules
#define _GNU_SOURCE
#include "sbx.h"
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
    struct stat st;
    char buf[256];
    SHOW("symlink abs", symlink("/etc/passwd", "abs"));
    SHOW("symlink up", symlink("../../../../../../../../etc/passwd", "up"));
    SHOW("symlink root", symlink("/", "root"));
    SHOW("symlink chain", symlink("up", "chain"));
    SHOW("open abs", open("abs", O_RDONLY));
    SHOW("open up", open("up", O_RDONLY));
    SHOW("open chain", open("chain", O_RDONLY));
    SHOW("open root/etc/passwd", open("root/etc/passwd", O_RDONLY));
    SHOW("opendir root", open("root", O_RDONLY | O_DIRECTORY));
    SHOW("stat abs", stat("abs", &st));
    SHOW("lstat abs", lstat("abs", &st));
    ssize_t n = readlink("abs", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("readlink abs: %s\n", buf);
    SHOW("create through root", open("root/tmp/pvm-sbx-escape-probe", O_CREAT | O_WRONLY, 0644));
    SHOW("chdir root", chdir("root"));
    SHOW("link abs target", link("/etc/passwd", "hard"));
    SHOW("linkat follow abs", linkat(AT_FDCWD, "abs", AT_FDCWD, "hard2", AT_SYMLINK_FOLLOW));
    // Links that stay inside.
    SHOW("mkdir sub", mkdir("sub", 0755));
    int fd = open("sub/f", O_CREAT | O_WRONLY, 0644);
    SHOW("create sub/f", fd);
    close(fd);
    SHOW("symlink inside", symlink("sub/f", "in"));
    SHOW("symlink dir", symlink("sub", "d"));
    SHOW("open in", open("in", O_RDONLY));
    SHOW("open d/f", open("d/f", O_RDONLY));
    SHOW("open sub/../in", open("sub/../in", O_RDONLY));
    return 0;
}
