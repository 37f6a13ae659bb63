// Host signals the guest ignores or blocks with the default action do not
// kill it: an ignored SIGALRM neither interrupts a sleep nor ends it; a
// blocked default SIGALRM (from a periodic timer) does not cut a sleep
// short and stays pending (sigtimedwait takes it); then one
// with the default action kills the guest (status 128 + 14).
//@ status: 142
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void arm(int usec) {
    struct itimerval it = {{0, 0}, {0, usec}};
    setitimer(ITIMER_REAL, &it, NULL);
}

int main(void) {
    signal(SIGALRM, SIG_IGN);
    arm(50000);
    struct timespec req = {0, 100000000};
    int r = nanosleep(&req, NULL);
    printf("ignored: nanosleep %d\n", r);

    signal(SIGALRM, SIG_DFL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGALRM);
    sigprocmask(SIG_BLOCK, &s, NULL);
    // A periodic timer: each expiry interrupts pvm's host sleep, which
    // must still end on time.
    struct itimerval every = {{0, 10000}, {0, 10000}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &every, NULL);
    r = nanosleep(&req, NULL);
    int pr = poll(NULL, 0, 100);
    setitimer(ITIMER_REAL, &off, NULL);
    sigset_t pend;
    sigpending(&pend);
    printf("blocked: nanosleep %d poll %d pending %d\n", r, pr, sigismember(&pend, SIGALRM));
    siginfo_t si;
    struct timespec zero = {0, 0};
    r = sigtimedwait(&s, &si, &zero);
    printf("sigtimedwait: %d code %#x\n", r, si.si_code);

    // Waiting for it with sigwait while blocked.
    arm(50000);
    int sig = 0;
    r = sigwait(&s, &sig);
    printf("sigwait: %d sig %d\n", r, sig);

    sigprocmask(SIG_UNBLOCK, &s, NULL);
    fflush(stdout);
    arm(50000);
    for (;;)
        pause();
}
