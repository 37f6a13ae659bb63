// select (pselect6) with a bit set for a descriptor that is not open:
// Linux looks only up to the end of the process's descriptor table
// (64 entries to start with, growing to 128, 256, 512... when a number
// past it is used, and never shrinking; a fork's child gets a table just
// big enough for what is open), so a closed number inside the table is
// EBADF and one past it is ignored. pvm's own descriptors (the GDB
// stub's, --sandbox's roots, sbx_fd_select) make the host's table much
// bigger than the guest's would be: the answer must still be the one
// Linux gives a process that owns only the guest's descriptors. Each
// line is the answer for the number(s) named; poll is EBADF-free
// (POLLNVAL) whatever the table's size. The expectation is the output of
// the same program built for x86-64 and run natively (Linux 6.18).
//@ no-qemu: qemu-riscv64 7.2 passes close_range to the host, closes its own descriptors and then fails its fork (an assertion in cpu_exec)
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// select(n + 1) with bit n set in the read set (a bitmap of any size),
// no wait.
static const char *sel(int n) {
    static char out[64];
    size_t words = (size_t)n / 64 + 1;
    unsigned long *set = calloc(words, sizeof *set);
    set[n / 64] |= 1UL << (n % 64);
    struct timespec z = {0, 0};
    long r = syscall(SYS_pselect6, n + 1, set, NULL, NULL, &z, NULL);
    if (r < 0)
        snprintf(out, sizeof out, "%s", strerrorname_np(errno));
    else
        snprintf(out, sizeof out, "%ld (bit %s)", r, set[n / 64] ? "left" : "cleared");
    free(set);
    return out;
}

static void line(const char *when, int n) {
    printf("%s: select %d: %s\n", when, n, sel(n));
}

// A number used and closed again: the table grows to hold it.
static void grow(int n) {
    if (dup2(1, n) != n)
        printf("dup2 %d: %s\n", n, strerrorname_np(errno));
    close(n);
}

int main(void) {
    // Start from a known table: nothing open past 2, then a fork, whose
    // child's table is the smallest (64).
    close_range(3, ~0U, 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid > 0) {
        int st;
        waitpid(pid, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
    }
    int pp[2];
    if (pipe(pp) || write(pp[1], "x", 1) != 1)
        return 1;
    printf("a pipe with data: select %d: %s\n", pp[0], sel(pp[0]));
    line("64-entry table", 63);
    line("64-entry table", 64);
    line("64-entry table", 880);
    struct pollfd p = {880, POLLIN, 0};
    int r = poll(&p, 1, 0);
    printf("poll 880: %d %#x\n", r, p.revents);
    grow(100);
    line("after 100", 100);
    line("after 100", 127);
    line("after 100", 128);
    grow(300);
    line("after 300", 300);
    line("after 300", 511);
    line("after 300", 512);
    line("after 300", 1000);
    // Past FD_SETSIZE, with a bigger bitmap: up to the guest's hard
    // limit and past it (where pvm keeps its own descriptors).
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    // The soft limit up to the hard one, so that dup2 to 2000 below does
    // not depend on the soft limit the test was started with.
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    int hard = rl.rlim_max > 65536 ? 65536 : (int)rl.rlim_max;
    line("after 300", 4000);
    printf("after 300: select hard limit - 1: %s\n", sel(hard - 1));
    printf("after 300: select hard limit: %s\n", sel(hard));
    printf("after 300: select hard limit + 10: %s\n", sel(hard + 10));
    // A fork's child: a table for what is open (up to 2): 64 again.
    fflush(stdout);
    if (fork() == 0) {
        line("fork's child", 63);
        line("fork's child", 100);
        fflush(stdout);
        _exit(0);
    }
    wait(NULL);
    // The parent's table is as big as before.
    line("parent again", 100);
    grow(2000);
    line("after 2000", 2047);
    line("after 2000", 2048);
    printf("after 2000: select hard limit - 1: %s\n", sel(hard - 1));
    return 0;
}
