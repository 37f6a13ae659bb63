// RLIMIT_SIGPENDING bounds the real-time signals queued for the process,
// as Linux bounds them: with the limit set to 4 (setrlimit, read back
// with getrlimit and prlimit64), four sigqueue calls queue and the fifth
// fails with EAGAIN, as do rt_tgsigqueueinfo and tgkill; kill of a
// real-time signal still succeeds, its siginfo lost (delivered as from
// pid 0), and kill of a standard signal is never refused. Once the queue
// is taken (sigtimedwait, in order), sigqueue works again.
//@ no-qemu: qemu-user keeps one instance of each pending signal and no count: it never refuses (the expectation is the x86-64 build's native output)
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *err(long r) { return r == 0 ? "0" : strerrorname_np(errno); }

static long tgsigqueue(int sig, int v) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = sig;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_int = v;
    return syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), sig, &si);
}

int main(void) {
    sigset_t set;
    sigemptyset(&set);
    for (int s = SIGRTMIN; s <= SIGRTMIN + 3; s++)
        sigaddset(&set, s);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);

    struct rlimit rl;
    getrlimit(RLIMIT_SIGPENDING, &rl);
    rl.rlim_cur = 4;
    printf("setrlimit: %s\n", err(setrlimit(RLIMIT_SIGPENDING, &rl)));
    getrlimit(RLIMIT_SIGPENDING, &rl);
    printf("getrlimit: %ld\n", (long)rl.rlim_cur);
    struct rlimit old;
    prlimit(0, RLIMIT_SIGPENDING, NULL, &old);
    printf("prlimit: %ld\n", (long)old.rlim_cur);

    int i;
    long r = 0;
    for (i = 0; i < 10; i++) {
        r = sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = i});
        if (r)
            break;
    }
    printf("sigqueue: %d queued, then %s\n", i, err(r));
    printf("rt_tgsigqueueinfo: %s\n", err(tgsigqueue(SIGRTMIN + 1, 50)));
    printf("tgkill: %s\n", err(syscall(SYS_tgkill, getpid(), gettid(), SIGRTMIN + 1)));
    printf("kill of a real-time signal: %s\n", err(kill(getpid(), SIGRTMIN + 2)));
    printf("kill of it again: %s\n", err(kill(getpid(), SIGRTMIN + 2)));
    printf("kill of SIGUSR1: %s\n", err(kill(getpid(), SIGUSR1)));

    struct timespec zero = {0, 0};
    siginfo_t si;
    int s;
    while ((s = sigtimedwait(&set, &si, &zero)) > 0) {
        if (s == SIGUSR1)
            printf("took SIGUSR1, code %d, from us: %d\n", si.si_code, si.si_pid == getpid());
        else
            printf("took SIGRTMIN+%d, code %d, value %d, from us: %d, from pid 0: %d\n",
                   s - SIGRTMIN, si.si_code, si.si_code == SI_QUEUE ? si.si_value.sival_int : -1,
                   si.si_pid == getpid(), si.si_pid == 0);
    }
    printf("after taking them: sigqueue %s, rt_tgsigqueueinfo %s\n",
           err(sigqueue(getpid(), SIGRTMIN + 3, (union sigval){.sival_int = 7})),
           err(tgsigqueue(SIGRTMIN + 3, 8)));
    rl.rlim_cur = 6;
    setrlimit(RLIMIT_SIGPENDING, &rl);
    for (i = 0; i < 10; i++) {
        r = sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = i});
        if (r)
            break;
    }
    printf("limit 6, two queued already: %d more, then %s\n", i, err(r));
    return 0;
}
