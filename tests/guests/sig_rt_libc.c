// Signals 32 and 33, which the C library keeps for itself (SIGCANCEL,
// SIGSETXID), sent from another process reach the process as Linux
// delivers them: a child that blocks both (with the system call itself:
// glibc's sigprocmask leaves them out) takes kill's 32 and sigqueue's 33
// and 32 with their siginfo, lowest first and in order sent, with
// sigtimedwait; a child whose
// 32 (then one whose 33) has its default action dies of it.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long bits(int a, int b) { return 1UL << (a - 1) | 1UL << (b - 1); }

// The kernel's sigaction (no SA_RESTORER needed for SIG_DFL).
struct ksa {
    unsigned long handler, flags, restorer, mask;
};

static void report(const char *who, int st) {
    if (WIFSIGNALED(st))
        printf("%s: killed by signal %d\n", who, WTERMSIG(st));
    else
        printf("%s: exited %d\n", who, WEXITSTATUS(st));
}

// A child that gives `sig` its default action and waits; `sig` kills it.
static void dies_of(int sig) {
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        struct ksa sa = {0, 0, 0, 0};
        if (syscall(SYS_rt_sigaction, sig, &sa, NULL, 8))
            _exit(2);
        write(p[1], "r", 1);
        for (int i = 0; i < 50; i++)
            usleep(100000);
        _exit(1);
    }
    char ch;
    read(p[0], &ch, 1);
    kill(c, sig);
    int st;
    waitpid(c, &st, 0);
    char who[64];
    snprintf(who, sizeof who, "child with %d at its default", sig);
    report(who, st);
    close(p[0]);
    close(p[1]);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int p[2], q[2];
    pipe(p);
    pipe(q);
    pid_t parent = getpid();
    pid_t c = fork();
    if (c == 0) {
        unsigned long set = bits(32, 33);
        if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 8))
            _exit(2);
        write(p[1], "r", 1);
        // All three are pending before the first is taken.
        char go;
        read(q[0], &go, 1);
        for (int i = 0; i < 3; i++) {
            siginfo_t si;
            struct timespec ts = {5, 0};
            long s = syscall(SYS_rt_sigtimedwait, &set, &si, &ts, 8);
            if (s < 0) {
                printf("sigtimedwait: nothing\n");
                _exit(3);
            }
            printf("took %ld, code %s, from the parent: %s, value %d\n", s,
                   si.si_code == SI_USER ? "SI_USER" : si.si_code == SI_QUEUE ? "SI_QUEUE" : "other",
                   si.si_pid == parent ? "yes" : "no",
                   si.si_code == SI_QUEUE ? si.si_value.sival_int : -1);
        }
        _exit(0);
    }
    char ch;
    read(p[0], &ch, 1);
    kill(c, 32);
    sigqueue(c, 33, (union sigval){.sival_int = 77});
    sigqueue(c, 32, (union sigval){.sival_int = 78});
    write(q[1], "g", 1);
    int st;
    waitpid(c, &st, 0);
    report("child that blocks them", st);
    dies_of(32);
    dies_of(33);
    return 0;
}
