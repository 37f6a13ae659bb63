// Each POSIX timer a process creates counts against RLIMIT_SIGPENDING,
// as Linux counts it (`timer_create` preallocates the timer's queued
// signal): with the soft limit lowered, `timer_create` fails with EAGAIN
// once the user's queued signals plus timers reach it, whatever the
// timer notifies (SIGEV_SIGNAL or SIGEV_NONE); `timer_delete` gives the
// slot back; a real-time signal queued by `sigqueue` takes a slot from
// the timers and gives it back when taken; a timer's own signal, once
// it fires, takes no second slot; a child process (the same user)
// counts its parent's timers, and its own end with its image at execve.
//
// Linux counts per user, across every process of the user, so a native
// run counts whatever else that user has queued (its other processes'
// timers among them): the output never prints how many timers were made,
// only how the count moves from there (the oracle is the x86-64 build
// run natively, the user's other processes idle meanwhile).
//@ no-qemu: qemu-user emulates timer_create with host timers of its own and keeps one instance of each pending signal: it counts neither (the expectation is the x86-64 build's native output)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX 4096
static timer_t timers[MAX];
static int ntimers;

static const char *err(int r) { return r == 0 ? "0" : strerrorname_np(errno); }

// Create a timer notifying `how` (SIGEV_SIGNAL with SIGRTMIN, or
// SIGEV_NONE) into timers[ntimers]: 0 or -1 with errno.
static int make(int how) {
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = how;
    ev.sigev_signo = SIGRTMIN;
    if (ntimers == MAX) {
        errno = E2BIG;
        return -1;
    }
    int r = timer_create(CLOCK_MONOTONIC, &ev, &timers[ntimers]);
    if (r == 0)
        ntimers++;
    return r;
}

static void drop_last(void) {
    if (ntimers > 0)
        timer_delete(timers[--ntimers]);
}

// Create timers until one fails: how many were made, the failure's
// errno in *e.
static int fill(int how, int *e) {
    int n = 0;
    while (make(how) == 0)
        n++;
    *e = errno;
    return n;
}

static int take(int sig) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    struct timespec t = {1, 0};
    return sigtimedwait(&s, NULL, &t);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        // The image a child execs: it waits for its parent to close the
        // pipe on fd 3.
        char c;
        while (read(3, &c, 1) > 0)
            ;
        return 0;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigaddset(&set, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &set, NULL);

    struct rlimit rl;
    getrlimit(RLIMIT_SIGPENDING, &rl);
    rl.rlim_cur = rl.rlim_max < 256 ? rl.rlim_max : 256;
    printf("setrlimit: %s\n", err(setrlimit(RLIMIT_SIGPENDING, &rl)));

    int e;
    int n = fill(SIGEV_SIGNAL, &e);
    printf("timers made until the limit: %s, then %s\n", n > 0 && n <= 256 ? "some" : "none or too many",
           strerrorname_np(e));
    printf("one more: %s\n", err(make(SIGEV_SIGNAL)));

    drop_last();
    printf("after a delete: %s\n", err(make(SIGEV_SIGNAL)));
    printf("and one more: %s\n", err(make(SIGEV_SIGNAL)));

    drop_last();
    printf("after a delete, a SIGEV_NONE timer: %s\n", err(make(SIGEV_NONE)));
    printf("and another: %s\n", err(make(SIGEV_NONE)));

    // sigqueue takes the same slots.
    printf("sigqueue at the limit: %s\n", err(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 1})));
    drop_last();
    printf("after a delete, sigqueue: %s\n", err(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 2})));
    printf("then a timer: %s\n", err(make(SIGEV_SIGNAL)));
    printf("the signal taken: %s\n", take(SIGRTMIN + 1) == SIGRTMIN + 1 ? "yes" : strerrorname_np(errno));
    printf("then a timer: %s\n", err(make(SIGEV_SIGNAL)));

    // A timer's signal queued when it fires takes no second slot.
    struct itimerspec it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_nsec = 1000000;
    printf("arm the first timer: %s\n", err(timer_settime(timers[0], 0, &it, NULL)));
    printf("its signal: %s\n", take(SIGRTMIN) == SIGRTMIN ? "taken" : strerrorname_np(errno));
    drop_last();
    printf("one slot free, arm it again: %s\n", err(timer_settime(timers[0], 0, &it, NULL)));
    struct timespec ms10 = {0, 10000000};
    sigset_t pend;
    for (int i = 0; i < 200; i++) {
        sigpending(&pend);
        if (sigismember(&pend, SIGRTMIN))
            break;
        nanosleep(&ms10, NULL);
    }
    printf("its signal pending: %s\n", sigismember(&pend, SIGRTMIN) ? "yes" : "no");
    printf("with it pending, one more timer: %s\n", err(make(SIGEV_SIGNAL)));
    printf("and sigqueue: %s\n", err(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 3})));
    printf("its signal: %s\n", take(SIGRTMIN) == SIGRTMIN ? "taken" : strerrorname_np(errno));

    // A child counts its parent's timers (the same user's).
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        ntimers = 0;
        printf("child: a timer: %s\n", err(make(SIGEV_SIGNAL)));
        printf("child: sigqueue: %s\n", err(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 4})));
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    drop_last();
    drop_last();
    pid = fork();
    if (pid == 0) {
        ntimers = 0;
        printf("child, two slots free: a timer: %s\n", err(make(SIGEV_SIGNAL)));
        printf("child: sigqueue: %s\n", err(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 5})));
        printf("child: another timer: %s\n", err(make(SIGEV_SIGNAL)));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, &st, 0);
    printf("after the child ended, its timer and signal gone: %s\n", err(make(SIGEV_SIGNAL)));
    printf("and %s\n", err(make(SIGEV_SIGNAL)));
    printf("then %s\n", err(make(SIGEV_SIGNAL)));

    // A child's timers end with its image at execve.
    drop_last();
    drop_last();
    int p[2];
    if (pipe(p) || dup2(p[0], 3) != 3)
        printf("pipe failed\n");
    int ready[2];
    if (pipe(ready))
        printf("pipe failed\n");
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        ntimers = 0;
        close(p[1]);
        close(ready[0]);
        make(SIGEV_SIGNAL);
        make(SIGEV_SIGNAL);
        printf("child before execve: two timers made, then %s\n", err(make(SIGEV_SIGNAL)));
        fflush(stdout);
        fcntl(ready[1], F_SETFD, FD_CLOEXEC);
        execl("/proc/self/exe", argv[0], "wait", (char *)NULL);
        _exit(127);
    }
    close(ready[1]);
    char c;
    // The ready pipe closes at the child's execve.
    while (read(ready[0], &c, 1) > 0)
        ;
    close(ready[0]);
    // Its image is running (or about to): the slots come back then.
    int got = -1;
    for (int i = 0; i < 500 && got != 0; i++) {
        got = make(SIGEV_SIGNAL);
        if (got != 0)
            nanosleep(&ms10, NULL);
    }
    printf("after the child's execve, a timer: %s\n", err(got));
    printf("and %s\n", err(make(SIGEV_SIGNAL)));
    printf("then %s\n", err(make(SIGEV_SIGNAL)));
    close(p[1]);
    close(p[0]);
    close(3);
    waitpid(pid, &st, 0);
    printf("the exec'd child: %s %d\n", WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));

    // Every timer deleted: as many can be made again.
    int had = ntimers;
    while (ntimers > 0)
        drop_last();
    n = fill(SIGEV_NONE, &e);
    printf("all deleted, made again: %s, then %s\n", n == had ? "as many" : "another number", strerrorname_np(e));
    while (ntimers > 0)
        drop_last();
    return 0;
}
