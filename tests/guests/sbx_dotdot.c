// --sandbox: `..` cannot climb out of the allowed directory, however it
// is spelled: relative, absolute through the directory's own path, from
// a directory descriptor, or after chdir.
//@ variants: static
//@ pvm-args: --sandbox --allow-write {dir}
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is Linux's answer under pvm's rules
#define _GNU_SOURCE
#include "sbx.h"
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

int main(void) {
    char cwd[4096], p[8192];
    struct stat st;
    if (!getcwd(cwd, sizeof cwd))
        return 1;
    SHOW("open ../../../../etc/passwd", open("../../../../etc/passwd", O_RDONLY));
    SHOW("stat ..", stat("..", &st));
    snprintf(p, sizeof p, "%s/../../../../../etc/passwd", cwd);
    SHOW("open CWD/../../etc/passwd", open(p, O_RDONLY));
    snprintf(p, sizeof p, "%s/..", cwd);
    SHOW("opendir CWD/..", open(p, O_RDONLY | O_DIRECTORY));
    int dfd = open(".", O_RDONLY | O_DIRECTORY);
    SHOW("open dirfd .", dfd);
    SHOW("openat dirfd ../x", openat(dfd, "../x", O_CREAT | O_WRONLY, 0644));
    SHOW("mkdir sub", mkdir("sub", 0755));
    SHOW("chdir sub", chdir("sub"));
    SHOW("open ../../etc/passwd from sub", open("../../etc/passwd", O_RDONLY));
    SHOW("create ../ok from sub", open("../ok", O_CREAT | O_WRONLY, 0644));
    SHOW("chdir ../..", chdir("../.."));
    SHOW("chdir ..", chdir(".."));
    SHOW("stat ok", stat("ok", &st));
    // openat2: the guest's own RESOLVE_* flags hold on top of the sandbox.
    struct open_how how = {.flags = O_RDONLY, .resolve = RESOLVE_BENEATH};
    SHOW("openat2 ok beneath", syscall(SYS_openat2, AT_FDCWD, "ok", &how, sizeof how));
    SHOW("openat2 sub/../ok beneath", syscall(SYS_openat2, AT_FDCWD, "sub/../ok", &how, sizeof how));
    SHOW("openat2 ../x beneath", syscall(SYS_openat2, AT_FDCWD, "../x", &how, sizeof how));
    how.resolve = 0;
    SHOW("openat2 ../../etc/passwd", syscall(SYS_openat2, AT_FDCWD, "../../etc/passwd", &how, sizeof how));
    how.resolve = RESOLVE_IN_ROOT;
    SHOW("openat2 /ok in root", syscall(SYS_openat2, AT_FDCWD, "/ok", &how, sizeof how));
    return 0;
}
