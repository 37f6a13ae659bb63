// Signal delivery: handlers for raise(), SIGSEGV recovery with
// siglongjmp, and sigprocmask.
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t got;
static sigjmp_buf jb;

static void on_usr1(int sig) { got = sig; }
static void on_segv(int sig, siginfo_t *si, void *ctx) {
    (void)ctx;
    got = sig;
    if (si->si_addr == (void *)64) siglongjmp(jb, 1);
    siglongjmp(jb, 2);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("handler ran for SIGUSR1: %d\n", got == SIGUSR1);
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, &old);
    got = 0;
    raise(SIGUSR1);
    printf("blocked: handler not run yet: %d\n", got == 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: handler ran: %d\n", got == SIGUSR1);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    int r = sigsetjmp(jb, 1);
    if (r == 0) *(volatile int *)64 = 1;
    printf("recovered from SIGSEGV: %d (fault address right: %d)\n", got == SIGSEGV, r == 1);
    signal(SIGUSR1, SIG_IGN);
    raise(SIGUSR1);
    printf("ignored signal: still running\n");
    return 0;
}
