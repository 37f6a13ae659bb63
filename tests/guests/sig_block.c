// Blocked and pending signals: raise() while blocked, sigpending,
// delivery on unblock (two at once nest: the later-delivered one runs
// first), sigsuspend, sigtimedwait, SA_RESETHAND, SA_NODEFER,
// kill() to itself, and SIGCHLD/SIGURG's default of ignoring.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char order[64];
static volatile int norder;
static volatile int depth, max_depth, calls;

static void note(int sig) {
    if (norder < 60) order[norder++] = sig == SIGUSR1 ? '1' : sig == SIGUSR2 ? '2' : '?';
}

static void on_sig(int sig) {
    note(sig);
}

// A SIGUSR2 raised in a SIGUSR1 handler runs at once, nested.
static void raise_usr2(int sig) {
    note(sig);
    raise(SIGUSR2);
    note(sig);
}

// Raises its own signal until it has run three times.
static void reenter(int sig) {
    calls++;
    depth++;
    if (depth > max_depth) max_depth = depth;
    if (calls < 3) raise(sig);
    depth--;
}

static void install(int sig, void (*h)(int), int flags, int masked) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (masked) sigaddset(&sa.sa_mask, masked);
    sigaction(sig, &sa, NULL);
}

int main(void) {
    install(SIGUSR1, on_sig, 0, 0);
    install(SIGUSR2, on_sig, 0, 0);
    sigset_t both, none, pend;
    sigemptyset(&none);
    sigemptyset(&both);
    sigaddset(&both, SIGUSR1);
    sigaddset(&both, SIGUSR2);

    sigprocmask(SIG_BLOCK, &both, NULL);
    raise(SIGUSR2);
    raise(SIGUSR1);
    raise(SIGUSR1);
    sigpending(&pend);
    printf("pending: usr1 %d usr2 %d, ran: %d\n", sigismember(&pend, SIGUSR1),
           sigismember(&pend, SIGUSR2), norder);
    sigprocmask(SIG_SETMASK, &none, NULL);
    order[norder] = 0;
    printf("after unblock, handlers ran in order: %s\n", order);
    sigpending(&pend);
    printf("pending now: %d\n", sigismember(&pend, SIGUSR1) + sigismember(&pend, SIGUSR2));

    // sa_mask: SIGUSR2 is blocked while SIGUSR1's handler runs.
    // (sa_mask has its own test, sig_samask: qemu-riscv64 ignores it.)
    install(SIGUSR1, raise_usr2, 0, 0);
    norder = 0;
    raise(SIGUSR1);
    order[norder] = 0;
    printf("without sa_mask SIGUSR2 nests: %s\n", order);

    // sigsuspend: wait with SIGUSR1 unblocked, the old mask comes back.
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, SIGUSR1);
    sigprocmask(SIG_BLOCK, &one, NULL);
    norder = 0;
    kill(getpid(), SIGUSR1);
    int r = sigsuspend(&none);
    int e = errno;
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("sigsuspend: %d %s, ran %d, usr1 blocked again %d\n", r, e == EINTR ? "EINTR" : "?",
           norder, sigismember(&now, SIGUSR1));

    // sigtimedwait takes a blocked signal without running its handler.
    norder = 0;
    raise(SIGUSR1);
    siginfo_t si;
    struct timespec ts = {0, 0};
    int got = sigtimedwait(&one, &si, &ts);
    // (glibc reports the kernel's SI_TKILL as SI_USER here.)
    printf("sigtimedwait: %d (SIGUSR1 %d), code %d, pid ok %d, ran %d\n", got, got == SIGUSR1,
           si.si_code, si.si_pid == getpid(), norder);
    got = sigtimedwait(&one, &si, &ts);
    printf("sigtimedwait again: %d %s\n", got, errno == EAGAIN ? "EAGAIN" : "?");
    sigprocmask(SIG_SETMASK, &none, NULL);

    // SA_RESETHAND: one run, then the default disposition.
    install(SIGUSR2, on_sig, SA_RESETHAND, 0);
    norder = 0;
    raise(SIGUSR2);
    struct sigaction cur;
    sigaction(SIGUSR2, NULL, &cur);
    printf("resethand: ran %d, now SIG_DFL %d\n", norder, cur.sa_handler == SIG_DFL);

    // SA_NODEFER: the handler can be re-entered by its own signal.
    install(SIGUSR2, reenter, SA_NODEFER, 0);
    raise(SIGUSR2);
    printf("nodefer: %d runs, depth %d\n", calls, max_depth);
    install(SIGUSR1, reenter, 0, 0);
    max_depth = calls = 0;
    raise(SIGUSR1);
    printf("deferred: %d runs, depth %d\n", calls, max_depth);

    // Default-ignored signals do nothing.
    raise(SIGCHLD);
    raise(SIGURG);
    raise(SIGWINCH);
    printf("default-ignored signals: still here\n");
    return 0;
}
