// RLIMIT_SIGPENDING across processes, as Linux counts it: the signals
// queued for every process of the receiver's real user count, against
// the receiver's own soft limit. Child A queues 3 real-time signals for
// itself (blocked); child B sets its limit to 5. The parent's sigqueue
// to B then queues 2 and fails with EAGAIN, as do rt_tgsigqueueinfo and
// tgkill. Once A has ended (its signals gone), 3 more queue for B.
// B then takes what it got: 5 signals, in order.
//@ no-qemu: qemu-user keeps one instance of each pending signal and no count: it never refuses (the expectation is the x86-64 build's native output, in a fresh user namespace: unshare -U -r, so that no other process of the user has signals queued)
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *err(long r) { return r == 0 ? "0" : strerrorname_np(errno); }

// Block every real-time signal this test uses.
static void block_rt(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGRTMIN);
    sigaddset(&s, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &s, NULL);
}

// Queue to `pid` until refused (at most `max`): how many queued, and the
// refusal's errno name.
static int queue_until(pid_t pid, int max, int base, const char **why) {
    int n = 0;
    *why = "none";
    for (; n < max; n++) {
        union sigval v = {.sival_int = base + n};
        if (sigqueue(pid, SIGRTMIN, v) != 0) {
            *why = strerrorname_np(errno);
            break;
        }
    }
    return n;
}

int main(void) {
    int to_a[2], to_b[2], from[2];
    if (pipe(to_a) || pipe(to_b) || pipe(from))
        return 1;
    block_rt();
    char c;
    pid_t a = fork();
    if (a == 0) {
        for (int i = 0; i < 3; i++) {
            union sigval v = {.sival_int = 100 + i};
            sigqueue(getpid(), SIGRTMIN + 1, v);
        }
        write(from[1], "a", 1);
        read(to_a[0], &c, 1);
        _exit(0);
    }
    pid_t b = fork();
    if (b == 0) {
        struct rlimit r;
        getrlimit(RLIMIT_SIGPENDING, &r);
        r.rlim_cur = 5;
        setrlimit(RLIMIT_SIGPENDING, &r);
        write(from[1], "b", 1);
        read(to_b[0], &c, 1);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGRTMIN);
        struct timespec zero = {0, 0};
        siginfo_t si;
        int n = 0;
        while (sigtimedwait(&s, &si, &zero) == SIGRTMIN) {
            printf("B took SIGRTMIN, code %d, value %d, from the parent: %d\n", si.si_code,
                   si.si_value.sival_int, si.si_pid == getppid());
            n++;
        }
        printf("B took %d\n", n);
        fflush(stdout);
        _exit(0);
    }
    read(from[0], &c, 1);
    read(from[0], &c, 1);
    const char *why;
    int n = queue_until(b, 10, 0, &why);
    printf("sigqueue to B, A holding 3: %d queued, then %s\n", n, why);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGRTMIN;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    long r = syscall(SYS_rt_tgsigqueueinfo, b, b, SIGRTMIN, &si);
    printf("rt_tgsigqueueinfo to B: %s\n", err(r));
    r = syscall(SYS_tgkill, b, b, SIGRTMIN);
    printf("tgkill to B: %s\n", err(r));
    // A ends: its queued signals no longer count.
    write(to_a[1], "x", 1);
    int st;
    waitpid(a, &st, 0);
    n = queue_until(b, 10, 10, &why);
    printf("after A ended: %d queued, then %s\n", n, why);
    fflush(stdout);
    write(to_b[1], "x", 1);
    waitpid(b, &st, 0);
    printf("B ended: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
