// --sandbox: `..` is the real parent of the directory the walk stands in,
// even while another process renames the directories around it, and
// RESOLVE_NO_XDEV holds at a `..` over a mount point. pvm's walk knew
// where it stood by a path, and opened the directory a `..` (or a
// directory descriptor, or the working directory, where a relative path
// starts) reaches again by that path from its root: a child process
// renaming "a" to "c" and back made "../f" from inside "a/b" fail
// (ENOENT) where Linux always finds "a/f" (b's parent is that directory,
// whatever its name). Here: openat(b, "../f") and, with the working
// directory in "a/b", open("../f"), while the child renames; each must
// always succeed (Linux's answer, an x86-64 build of this file run
// natively), through b's parent 16 times over. Then openat2 from /dev/pts (a mount) of "../null": found,
// and EXDEV with RESOLVE_NO_XDEV. Bounded: 0.8 s of racing per shape once
// both names came by, 5 s at most.
//@ variants: static
//@ pvm-args: --sandbox --allow-write {dir} --allow-read /dev
//@ no-qemu: qemu-riscv64 has no sandbox (nor openat2): the expectation is Linux's answer, an x86-64 build run natively
#define _GNU_SOURCE
#include "race.h"
#include <stdint.h>
#include <sys/stat.h>

static char top[4096];

// Race `try` (0: it succeeded) against a child renaming "a" to "c" and
// back in `top`.
static void race(const char *what, int (*try)(void)) {
    pid_t flipper = fork();
    if (flipper == 0) {
        int d = open(top, O_PATH | O_DIRECTORY);
        for (;;) {
            renameat(d, "a", d, "c");
            renameat(d, "c", d, "a");
        }
    }
    int d = open(top, O_PATH | O_DIRECTORY);
    long ok = 0, failed = 0;
    int seen[2] = {0, 0};
    double start = now(), t;
    while ((t = now()) < start + 5) {
        if (seen[0] && seen[1] && t > start + 0.8)
            break;
        if (try() == 0)
            ok++;
        else
            failed++;
        seen[faccessat(d, "a", F_OK, 0) == 0] = 1;
    }
    kill(flipper, SIGKILL);
    waitpid(flipper, NULL, 0);
    renameat(d, "c", d, "a");
    close(d);
    printf("%s: both names seen: %s, found: %s, failed: %ld\n", what,
           seen[0] && seen[1] ? "yes" : "no", ok ? "yes" : "no", failed);
}

static int b;

// "../f" through b's parent 16 times (each `..` a chance to miss it).
#define UP4 "../b/../b/../b/../b/"
#define UP UP4 UP4 UP4 UP4 "../f"

static int from_descriptor(void) {
    int fd = openat(b, UP, O_RDONLY);
    return fd < 0 ? -1 : close(fd);
}

static int from_cwd(void) {
    int fd = open(UP, O_RDONLY);
    return fd < 0 ? -1 : close(fd);
}

struct how {
    uint64_t flags, mode, resolve;
};

static void xdev(const char *what, int dir, uint64_t resolve) {
    struct how h = {O_RDONLY, 0, resolve};
    long fd = syscall(SYS_openat2, dir, "../null", &h, sizeof h);
    printf("%s: %s\n", what, fd >= 0 ? "ok" : strerrorname_np(errno));
    if (fd >= 0)
        close(fd);
}

int main(void) {
    if (!getcwd(top, sizeof top))
        return 1;
    mkdir("a", 0755);
    mkdir("a/b", 0755);
    close(open("a/f", O_CREAT | O_WRONLY, 0644));
    b = open("a/b", O_PATH | O_DIRECTORY);
    race("openat(b, \"../b/\" x 15 \"../f\")", from_descriptor);
    if (chdir("a/b"))
        return 2;
    race("open(\"../b/\" x 15 \"../f\") from b", from_cwd);
    chdir(top);

    int pts = open("/dev/pts", O_PATH | O_DIRECTORY);
    xdev("/dev/pts: ../null", pts, 0);
    xdev("/dev/pts: ../null, RESOLVE_NO_XDEV", pts, 0x01);
    return 0;
}
