// Shared by the SIGBUS probes (tests/guests/sig_bus_*.c): a handler that
// records the signal, its si_code and si_addr and jumps back to the
// probe, the line each probe prints for what it caught, and the set-up
// of the probes of a file truncated under its mappings (a file of pages,
// a touch of one address).
#ifndef SIG_BUS_H
#define SIG_BUS_H
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf back;
static volatile int sig, code;
static void *volatile addr;

static void on_bus(int s, siginfo_t *si, void *uc) {
    (void)uc;
    sig = s;
    code = si->si_code;
    addr = si->si_addr;
    siglongjmp(back, 1);
}

// Catch signal `s` with `on_bus`.
static inline void catch_signal(int s) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO;
    sigaction(s, &sa, NULL);
}

// Catch SIGBUS with `on_bus`.
static inline void catch_bus(void) { catch_signal(SIGBUS); }

// Forget the last signal caught.
static inline void clear_bus(void) {
    sig = code = 0;
    addr = NULL;
}

// "what: SIGBUS, BUS_ADRERR, at <where>", where names `at` when si_addr
// was `at`.
static inline void report_bus(const char *what, void *at, const char *where) {
    printf("%s: %s, %s, at %s\n", what, sig == SIGBUS ? "SIGBUS" : "another signal",
           code == BUS_ADRERR ? "BUS_ADRERR" : "another code",
           addr == at ? where : "another address");
}

// Read (or, when `w`, write 5 to) p[0]: what happened ("no signal (the
// byte read)", SIGSEGV where the probe catches it, or `report_bus`).
static inline void touch_byte(const char *what, unsigned char *p, int w) {
    clear_bus();
    int v = -1;
    if (!sigsetjmp(back, 1)) {
        if (w)
            *(volatile unsigned char *)p = 5;
        else
            v = *(volatile unsigned char *)p;
        printf("%s: no signal (%d)\n", what, v);
        return;
    }
    if (sig == SIGSEGV)
        printf("%s: SIGSEGV\n", what);
    else
        report_bus(what, p, "the address touched");
}

// A new file `name` of `n` pages of 7s, open read-write (-1 if not).
static inline int pages_file(const char *name, int n) {
    long page = sysconf(_SC_PAGESIZE);
    char *buf = malloc(n * page);
    memset(buf, 7, n * page);
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
    int ok = fd >= 0 && write(fd, buf, n * page) == n * page;
    free(buf);
    return ok ? fd : -1;
}

// The second of two pages mapped MAP_SHARED over a new one-page file
// `name` (unlinked, left open in *fd_out unless it is NULL): gone from the
// start, the first page ending just before it. Ends the probe with status
// 2 if it cannot be made.
static inline char *gone_page(const char *name, int *fd_out) {
    long page = sysconf(_SC_PAGESIZE);
    int fd = pages_file(name, 1);
    if (fd < 0)
        exit(2);
    if (fd_out)
        *fd_out = fd;
    unlink(name);
    char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        exit(2);
    return m + page;
}
#endif
