// Shared by the SIGBUS probes (tests/guests/sig_bus_*.c): a handler that
// records the signal, its si_code and si_addr and jumps back to the
// probe, and the line each probe prints for what it caught.
#ifndef SIG_BUS_H
#define SIG_BUS_H
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

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

// Catch SIGBUS with `on_bus`.
static void catch_bus(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &sa, NULL);
}

// Forget the last signal caught.
static void clear_bus(void) {
    sig = code = 0;
    addr = NULL;
}

// "what: SIGBUS, BUS_ADRERR, at <where>", where names `at` when si_addr
// was `at`.
static void report_bus(const char *what, void *at, const char *where) {
    printf("%s: %s, %s, at %s\n", what, sig == SIGBUS ? "SIGBUS" : "another signal",
           code == BUS_ADRERR ? "BUS_ADRERR" : "another code",
           addr == at ? where : "another address");
}
#endif
