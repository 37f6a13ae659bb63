// Calls that administer the machine answer EPERM for a guest, even when
// pvm runs as root: a guest never holds the host's administrative
// capabilities (see docs/syscalls.md). Every call here is harmless if it
// did go through (the current host name, the current time, paths that
// do not exist), so a broken pvm cannot damage the host running this.
//@ no-qemu: qemu-riscv64 forwards these to the host (as root they succeed)
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long r) {
    printf("%-14s %s\n", what, r < 0 ? strerror(errno) : "succeeded");
    errno = 0;
}

int main(void) {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    show("sethostname", sethostname(host, strlen(host)));
    show("setdomainname", setdomainname("", 0));
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    show("clock_settime", clock_settime(CLOCK_REALTIME, &now));
    struct timeval tv;
    gettimeofday(&tv, NULL);
    show("settimeofday", settimeofday(&tv, NULL));
    show("mount", mount("none", "/nonexistent-pvm", "tmpfs", 0, NULL));
    show("umount2", umount2("/nonexistent-pvm", 0));
    show("swapon", swapon("/nonexistent-pvm", 0));
    show("swapoff", swapoff("/nonexistent-pvm"));
    show("chroot", chroot("/"));
    show("pivot_root", syscall(SYS_pivot_root, "/nonexistent-a", "/nonexistent-b"));
    show("acct", acct("/nonexistent-pvm"));
    show("delete_module", syscall(SYS_delete_module, "nonexistent_pvm", 0));
    show("init_module", syscall(SYS_init_module, NULL, 0, ""));
    show("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
    show("reboot", syscall(SYS_reboot, 0, 0, 0, NULL)); /* bad magic too */
    show("vhangup", vhangup());
    return 0;
}
