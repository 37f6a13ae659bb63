// --sandbox: a path is walked as Linux walks it, component by component
// on the real file system, and the allowed set is checked on the object
// reached. `..` is the real parent of what came before it: `f/..` of a
// file is ENOTDIR, `link/..` is the parent of the link's target (which
// may be outside the allowed directory, or back inside it), and
// RESOLVE_NO_SYMLINKS sees a link followed by `..`. Links that leave the
// allowed directory and come back (absolute, or through its parent) reach
// what Linux reaches; those that stay out are refused. pvm used to take
// `..` lexically (`l/../m` was `m`; `self/..` was the directory itself).
//@ variants: static
//@ pvm-args: --sandbox --allow-write {dir}
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is Linux's answer under pvm's rules (checked natively on x86-64 where the rules allow the same)
#define _GNU_SOURCE
#include "sbx.h"
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

static int nr(const char *p, unsigned long long resolve) {
    struct open_how how = {.flags = O_RDONLY, .resolve = resolve};
    return syscall(SYS_openat2, AT_FDCWD, p, &how, sizeof how);
}

int main(void) {
    char cwd[4096], p[8192];
    struct stat st;
    if (!getcwd(cwd, sizeof cwd))
        return 1;
    const char *name = strrchr(cwd, '/') + 1;
    mkdir("a", 0755);
    mkdir("a/b", 0755);
    close(open("a/m", O_CREAT | O_WRONLY, 0644));
    close(open("f", O_CREAT | O_WRONLY, 0644));
    symlink("a/b", "l");
    symlink(".", "self");
    symlink("/etc", "out");
    symlink("f", "lf");
    symlink("loop", "loop");
    symlink("a/created", "dang");
    snprintf(p, sizeof p, "%s/a/b", cwd);
    symlink(p, "abs");
    snprintf(p, sizeof p, "../%s/a/b", name);
    symlink(p, "upin");

    // `..` after a file.
    SHOW("open f/..", open("f/..", O_RDONLY));
    SHOW("stat f/..", stat("f/..", &st));
    SHOW("stat f/../a", stat("f/../a", &st));
    SHOW("mkdir f/../x", mkdir("f/../x", 0755));
    SHOW("open f/.", open("f/.", O_RDONLY));
    SHOW("open lf/", open("lf/", O_RDONLY));
    SHOW("open lf/..", open("lf/..", O_RDONLY));
    // `..` after a link: the parent of its target.
    SHOW("stat l/../m", stat("l/../m", &st));
    SHOW("open l/../m", open("l/../m", O_RDONLY));
    SHOW("stat l/../b", stat("l/../b", &st));
    SHOW("create l/../new", open("l/../new", O_CREAT | O_WRONLY, 0644));
    SHOW("stat a/new", stat("a/new", &st));
    SHOW("mkdir l/../d2", mkdir("l/../d2", 0755));
    SHOW("stat a/d2", stat("a/d2", &st));
    SHOW("rmdir l/../d2", rmdir("l/../d2"));
    SHOW("chdir l/..", chdir("l/.."));
    char here[4096];
    printf("cwd ends in /a: %s\n", getcwd(here, sizeof here) && !strcmp(strrchr(here, '/'), "/a") ? "yes" : "no");
    SHOW("chdir ..", chdir(".."));
    // A link to the directory itself: its `..` is the parent, outside.
    SHOW("stat self/..", stat("self/..", &st));
    snprintf(p, sizeof p, "self/../%s/a/m", name);
    SHOW("stat self/../DIR/a/m", stat(p, &st));
    // A link out, then `..`: still out.
    SHOW("stat out/..", stat("out/..", &st));
    SHOW("open out/../etc/passwd", open("out/../etc/passwd", O_RDONLY));
    // Links that leave and come back in.
    SHOW("stat abs/../m", stat("abs/../m", &st));
    SHOW("open abs", open("abs", O_RDONLY | O_DIRECTORY));
    SHOW("stat upin/../m", stat("upin/../m", &st));
    snprintf(p, sizeof p, "%s/../%s/a/m", cwd, name);
    SHOW("stat CWD/../DIR/a/m", stat(p, &st));
    snprintf(p, sizeof p, "/../..%s/a/m", cwd);
    SHOW("stat /../..CWD/a/m", stat(p, &st));
    SHOW("stat a/b/../../f", stat("a/b/../../f", &st));
    // RESOLVE_NO_SYMLINKS sees the link before `..`.
    SHOW("openat2 l/../m no-symlinks", nr("l/../m", RESOLVE_NO_SYMLINKS));
    SHOW("openat2 a/b/../m no-symlinks", nr("a/b/../m", RESOLVE_NO_SYMLINKS));
    SHOW("openat2 l/../m", nr("l/../m", 0));
    // Links at the end.
    SHOW("open loop", open("loop", O_RDONLY));
    SHOW("create through dang", open("dang", O_CREAT | O_WRONLY, 0644));
    SHOW("stat a/created", stat("a/created", &st));
    SHOW("create excl on lf", open("lf", O_CREAT | O_EXCL | O_WRONLY, 0644));
    SHOW("open nofollow lf", open("lf", O_RDONLY | O_NOFOLLOW));
    SHOW("open nofollow l/", open("l/", O_RDONLY | O_NOFOLLOW));
    SHOW("unlink l/", unlink("l/"));
    SHOW("lstat l", lstat("l", &st));
    return 0;
}
