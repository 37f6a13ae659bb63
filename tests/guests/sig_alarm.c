// SIGALRM from a host timer (setitimer ITIMER_REAL): a repeating timer
// interrupts a busy loop three times (the handler sees SI_KERNEL, as for
// the kernel's itimer), getitimer reports a disarmed timer afterwards, and
// a blocked SIGALRM stays pending until unblocked. alarm() works too.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t ticks;
static volatile int code = -1, pid = -1;

static void on_alarm(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    if (sig == SIGALRM) {
        ticks++;
        code = si->si_code;
        pid = si->si_pid;
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

// Spin (no system call but the clock) for `secs` or until `ticks` reaches `want`.
static void spin(double secs, int want) {
    double end = now() + secs;
    volatile unsigned long x = 0;
    while (ticks < want && now() < end)
        for (int i = 0; i < 10000; i++)
            x += i;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_alarm;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGALRM, &sa, NULL);

    struct itimerval it = {{0, 20000}, {0, 20000}};
    if (setitimer(ITIMER_REAL, &it, NULL) != 0)
        perror("setitimer");
    spin(10, 3);
    struct itimerval off = {{0, 0}, {0, 0}}, old;
    setitimer(ITIMER_REAL, &off, &old);
    printf("ticks >= 3: %s\n", ticks >= 3 ? "yes" : "no");
    printf("old interval: %ld.%06ld\n", (long)old.it_interval.tv_sec, (long)old.it_interval.tv_usec);
    printf("si_code: %#x si_pid: %d\n", code, pid);
    struct itimerval cur;
    getitimer(ITIMER_REAL, &cur);
    printf("disarmed: %s\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0 ? "yes" : "no");

    // Blocked: the timer fires, nothing runs, the signal waits.
    sigset_t s, pend;
    sigemptyset(&s);
    sigaddset(&s, SIGALRM);
    sigprocmask(SIG_BLOCK, &s, NULL);
    int before = ticks;
    struct itimerval once = {{0, 0}, {0, 10000}};
    setitimer(ITIMER_REAL, &once, NULL);
    spin(0.2, 1000);
    sigpending(&pend);
    printf("blocked: ran=%d pending=%d\n", ticks != before, sigismember(&pend, SIGALRM));
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    printf("unblocked: ran=%d\n", ticks - before);

    // alarm(): glibc turns it into setitimer.
    before = ticks;
    alarm(1);
    printf("alarm left: %u\n", alarm(1));
    spin(10, before + 1);
    printf("alarm ran: %d\n", ticks - before);
    return 0;
}
