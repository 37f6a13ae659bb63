// sigqueue() (rt_sigqueueinfo) with a value, and real-time signals: while
// blocked, several instances queue (a standard signal is pending once)
// and are delivered in order when unblocked; sigwaitinfo takes one.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int values[16];
static volatile int nvalues;
static volatile int code_ok = 1, pid_ok = 1;
static volatile int usr1_runs;

static void on_rt(int sig, siginfo_t *si, void *ctx) {
    (void)sig;
    (void)ctx;
    if (nvalues < 16) values[nvalues++] = si->si_value.sival_int;
    if (si->si_code != SI_QUEUE) code_ok = 0;
    if (si->si_pid != getpid()) pid_ok = 0;
}

static void on_usr1(int sig, siginfo_t *si, void *ctx) {
    (void)sig;
    (void)si;
    (void)ctx;
    usr1_runs++;
}

int main(void) {
    int rt = SIGRTMIN + 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO;
    sigaction(rt, &sa, NULL);
    sa.sa_sigaction = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);

    union sigval v = {.sival_int = 7};
    sigqueue(getpid(), rt, v);
    printf("immediate: %d value %d\n", nvalues, values[0]);

    sigset_t block, none;
    sigemptyset(&none);
    sigemptyset(&block);
    sigaddset(&block, rt);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, NULL);
    nvalues = 0;
    for (int i = 1; i <= 3; i++) {
        v.sival_int = 100 + i;
        sigqueue(getpid(), rt, v);
        sigqueue(getpid(), SIGUSR1, v);
    }
    sigprocmask(SIG_SETMASK, &none, NULL);
    printf("queued real-time: %d runs:", nvalues);
    for (int i = 0; i < nvalues; i++) printf(" %d", values[i]);
    printf("\nstandard signal runs: %d\n", usr1_runs);
    printf("si_code SI_QUEUE: %d, si_pid: %d\n", code_ok, pid_ok);

    sigprocmask(SIG_BLOCK, &block, NULL);
    v.sival_int = 55;
    sigqueue(getpid(), rt, v);
    siginfo_t si;
    int got = sigwaitinfo(&block, &si);
    printf("sigwaitinfo: right signal %d, value %d, code %d\n", got == rt, si.si_value.sival_int,
           si.si_code == SI_QUEUE);
    return 0;
}
