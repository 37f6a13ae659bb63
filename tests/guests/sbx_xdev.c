// --sandbox: openat2's RESOLVE_NO_XDEV holds wherever the lookup crosses
// a mount, as Linux refuses it (EXDEV): a name outside every root that
// is a mount point (/dev, on the way from / to the root /dev/null), and
// an absolute symbolic link read on another mount than / (a link in
// /dev/shm to /dev/null: the jump to / leaves the tmpfs). pvm's walk goes
// by names outside the roots, and followed an absolute link to / without
// asking. Without the flag each opens. (A `..` outside every root over a
// mount point is checked the same way; no root of this run leads to one.)
//@ variants: static
//@ pvm-args: --sandbox --allow-write {dir} --allow-write /dev/shm
//@ no-qemu: qemu-riscv64 has no sandbox (nor openat2): the expectation is Linux's answer, an x86-64 build run natively
#include "esc.h"

struct open_how_ {
    uint64_t flags, mode, resolve;
};

static void try(const char *what, int dir, const char *p, uint64_t resolve) {
    struct open_how_ how = {O_RDONLY | O_CLOEXEC, 0, resolve};
    long fd = syscall(SYS_openat2, dir, p, &how, sizeof how);
    res(what, fd);
    if (fd >= 0)
        close(fd);
}

int main(void) {
    try("/dev/null", AT_FDCWD, "/dev/null", 0);
    try("/dev/null, RESOLVE_NO_XDEV", AT_FDCWD, "/dev/null", 0x01);
    int shm = open("/dev/shm", O_PATH | O_DIRECTORY);
    if (shm < 0) {
        printf("/dev/shm: %s\n", en(errno));
        return 1;
    }
    char name[64];
    sprintf(name, "pvm-sbx-xdev-%d", getpid());
    if (symlinkat("/dev/null", shm, name) < 0) {
        printf("symlink in /dev/shm: %s\n", en(errno));
        return 1;
    }
    try("/dev/shm: a link to /dev/null", shm, name, 0);
    try("/dev/shm: a link to /dev/null, RESOLVE_NO_XDEV", shm, name, 0x01);
    // A relative link stays on the mount.
    char file[80], rel[80];
    sprintf(file, "%s.f", name);
    sprintf(rel, "%s.rel", name);
    close(openat(shm, file, O_CREAT | O_WRONLY, 0600));
    symlinkat(file, shm, rel);
    try("/dev/shm: a relative link, RESOLVE_NO_XDEV", shm, rel, 0x01);
    unlinkat(shm, rel, 0);
    unlinkat(shm, file, 0);
    res("cleaned up", unlinkat(shm, name, 0));
    return 0;
}
