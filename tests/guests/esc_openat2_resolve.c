// openat2's RESOLVE_* flags (RESOLVE_BENEATH, RESOLVE_IN_ROOT,
// RESOLVE_NO_SYMLINKS, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_XDEV) answer
// as Linux's: the cases of openat2_cases.h, and /proc (pvm's emulation
// answered /proc/self/status whatever the flags; RESOLVE_BENEATH together
// with RESOLVE_IN_ROOT is EINVAL). sbx_openat2_resolve runs the same
// cases under --sandbox.
//@ variants: static
//@ no-qemu: qemu-riscv64 8 has no openat2 (ENOSYS): the expectation is an x86-64 build of this file run natively
#include "openat2_cases.h"

int main(void) {
    cases();
    // Magic links: /proc's are refused with RESOLVE_NO_MAGICLINKS.
    try2("no_magiclinks", AT_FDCWD, "/proc/self/cwd/d/f", O_RDONLY, RESOLVE_NO_MAGICLINKS);
    try2("no_magiclinks", AT_FDCWD, "/proc/self/cwd/d/f", O_RDONLY, 0);
    // Crossing into another file system.
    try2("no_xdev", AT_FDCWD, "/proc/self/status", O_RDONLY, RESOLVE_NO_XDEV);
    try2("no_xdev", AT_FDCWD, "/proc/self/status", O_RDONLY, 0);
    try2("beneath", AT_FDCWD, "/proc/self/status", O_RDONLY, RESOLVE_BENEATH);
    int p = open("/proc", O_PATH | O_DIRECTORY);
    try2("beneath /proc", p, "self/status", O_RDONLY, RESOLVE_BENEATH);
    try2("no_magiclinks /proc", p, "self/status", O_RDONLY, RESOLVE_NO_MAGICLINKS);
    try2("no_symlinks /proc", p, "self/status", O_RDONLY, RESOLVE_NO_SYMLINKS);
    try2("in_root /proc", p, "/self/status", O_RDONLY, RESOLVE_IN_ROOT);
    return 0;
}
