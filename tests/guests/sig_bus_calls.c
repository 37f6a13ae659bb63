// More system calls given guest memory on a page gone past its file's
// end (a file mapping longer than its file) answer as Linux does: a futex
// wait there is EFAULT (a private wake needs no page: 0); results the
// kernel stores there (clock_gettime, fstat, pipe2, getcwd, uname, a read
// from a pipe) and a path read from there (openat) are EFAULT. No signal
// is raised and the program goes on.
// (An x86-64 build of this file gives the same output natively.)
//@ no-qemu: qemu-riscv64 itself dies in its own copies of such memory (an assertion in cpu_exec after the host SIGBUS); the expectation is the x86-64 build's native output
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sig_bus.h"

static void show(const char *what, long r) {
    printf("%s: %ld %s\n", what, r, r < 0 ? strerrorname_np(errno) : "");
}

int main(void) {
    int fd;
    char *g = gone_page("sig_bus_calls.bin", &fd);
    struct timespec ts = {0, 1000};
    show("futex wait private", syscall(SYS_futex, g, FUTEX_WAIT_PRIVATE, 0, &ts, 0, 0));
    show("futex wait shared", syscall(SYS_futex, g, FUTEX_WAIT, 0, &ts, 0, 0));
    show("futex wake private", syscall(SYS_futex, g, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0));
    show("clock_gettime", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, g));
    show("fstat", syscall(SYS_fstat, fd, g));
    show("pipe2", syscall(SYS_pipe2, g, 0));
    show("getcwd", syscall(SYS_getcwd, g, 100));
    show("uname", syscall(SYS_uname, g));
    int p[2];
    if (pipe(p))
        return 3;
    write(p[1], "abc", 3);
    show("read pipe into gone", read(p[0], g, 3));
    show("open path in gone", syscall(SYS_openat, AT_FDCWD, g, O_RDONLY));
    printf("alive\n");
    return 0;
}
