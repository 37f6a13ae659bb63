// The cases of esc_openat2_resolve (no sandbox) and sbx_openat2_resolve
// (--sandbox): openat2 with each RESOLVE_* flag of Linux's, on a tree
// made in the current directory:
//   f0              a file beside d
//   d/f             a file
//   d/sub/          a directory; d/sub/dot -> ".." (back to d)
//   d/up   -> ../f0 (leaves d)      d/abs  -> /f (absolute)
//   d/loop -> loop                  d/ld   -> sub (stays in d)
// Each line is what the call gave (the kernel's answer: qemu-riscv64
// forwards openat2 to the host's).
#define _GNU_SOURCE
#include "sbx.h"
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int d;

static void try2(const char *what, int dirfd, const char *path, long flags, long resolve) {
    struct open_how how = {.flags = flags, .mode = flags & O_CREAT ? 0644 : 0, .resolve = resolve};
    long r;
    // RESOLVE_BENEATH and RESOLVE_IN_ROOT through ".." fail with EAGAIN
    // when anything on the machine is renamed meanwhile: the caller is to
    // try again, as openat2(2) says.
    for (int i = 0; i < 1000; i++) {
        errno = 0;
        r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (r >= 0 || errno != EAGAIN)
            break;
    }
    printf("%s %s: %s\n", what, path, r < 0 ? errname(errno) : "ok");
    if (r >= 0)
        close(r);
}

static void cases(void) {
    char cwd[512], abs[600];
    close(open("f0", O_CREAT | O_WRONLY, 0644));
    mkdir("d", 0755);
    mkdir("d/sub", 0755);
    close(open("d/f", O_CREAT | O_WRONLY, 0644));
    symlink("..", "d/sub/dot");
    symlink("../f0", "d/up");
    symlink("/f", "d/abs");
    symlink("loop", "d/loop");
    symlink("sub", "d/ld");
    d = open("d", O_PATH | O_DIRECTORY);
    getcwd(cwd, sizeof cwd);
    snprintf(abs, sizeof abs, "%s/d/f", cwd);
    const long B = RESOLVE_BENEATH, R = RESOLVE_IN_ROOT, NS = RESOLVE_NO_SYMLINKS,
               NM = RESOLVE_NO_MAGICLINKS, NX = RESOLVE_NO_XDEV;
    const char *rel[] = {"f", "../f0", "up", "abs", "sub/..", "sub/../..", "sub/dot/f",
                         "sub/dot/..", "ld/dot/f", "loop", "/f", "../../f", ".", "..", "sub/"};
    struct {
        const char *name;
        long resolve;
    } modes[] = {{"beneath", B},          {"in_root", R},       {"no_symlinks", NS},
                 {"no_magiclinks", NM},   {"no_xdev", NX},      {"beneath|no_symlinks", B | NS},
                 {"in_root|no_xdev", R | NX}};
    for (unsigned m = 0; m < sizeof modes / sizeof *modes; m++)
        for (unsigned i = 0; i < sizeof rel / sizeof *rel; i++) {
            // (Whether an absolute link from here crosses a mount point
            // depends on the host's mounts.)
            if (modes[m].resolve == NX && !strcmp(rel[i], "abs"))
                continue;
            try2(modes[m].name, d, rel[i], O_RDONLY, modes[m].resolve);
        }
    // The absolute path of d/f: outside the anchor for RESOLVE_BENEATH,
    // below it (cwd/d/f under d) for RESOLVE_IN_ROOT (ENOENT).
    errno = 0;
    struct open_how hb = {.flags = O_RDONLY, .resolve = B}, hr = {.flags = O_RDONLY, .resolve = R};
    long r = syscall(SYS_openat2, d, abs, &hb, sizeof hb);
    printf("beneath CWD/d/f: %s\n", r < 0 ? errname(errno) : "ok");
    r = syscall(SYS_openat2, d, abs, &hr, sizeof hr);
    printf("in_root CWD/d/f: %s\n", r < 0 ? errname(errno) : "ok");
    // From the current directory.
    try2("cwd beneath", AT_FDCWD, "d/f", O_RDONLY, B);
    try2("cwd beneath", AT_FDCWD, "d/up", O_RDONLY, B);
    try2("cwd beneath", AT_FDCWD, "../x", O_RDONLY, B);
    try2("cwd in_root", AT_FDCWD, "d/abs", O_RDONLY, R);
    // The link itself, not followed.
    try2("no_symlinks nofollow", d, "up", O_PATH | O_NOFOLLOW, NS);
    try2("beneath nofollow", d, "up", O_PATH | O_NOFOLLOW, B);
    // Creating below the anchor and above it.
    try2("beneath creat", d, "new", O_CREAT | O_WRONLY, B);
    try2("beneath creat", d, "../new", O_CREAT | O_WRONLY, B);
    try2("in_root creat", d, "/new2", O_CREAT | O_WRONLY, R);
    try2("in_root creat", d, "abs2", O_CREAT | O_WRONLY, R);
    struct stat st;
    SHOW("stat d/new", stat("d/new", &st));
    SHOW("stat new", stat("new", &st));
    SHOW("stat d/new2", stat("d/new2", &st));
    // Flags Linux refuses.
    try2("beneath|in_root", d, "f", O_RDONLY, B | R);
    try2("unknown", d, "f", O_RDONLY, 0x40);
}
