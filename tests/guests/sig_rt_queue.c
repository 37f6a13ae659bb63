// Real-time signals from another process queue, one instance each with
// its own siginfo, as Linux keeps them: a child blocks two real-time
// signals, its parent sends one of them with sigqueue eight times (values
// 0..7) and the other with kill three times, then the child unblocks them
// one at a time and its handler sees every instance in the order sent. A standard signal sent three times is pending once.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 8

static volatile sig_atomic_t got[64], gsig[64], gcode[64], gpid_ok[64], n;
static pid_t parent;

static void on_sig(int s, siginfo_t *si, void *uc) {
    (void)uc;
    if (n < 64) {
        gsig[n] = s;
        gcode[n] = si->si_code;
        got[n] = si->si_code == SI_QUEUE ? si->si_value.sival_int : -1;
        gpid_ok[n] = si->si_pid == parent;
        n++;
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int rt_q = SIGRTMIN + 1, rt_k = SIGRTMIN + 3;
    int ready[2], go[2];
    pipe(ready);
    pipe(go);
    parent = getpid();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO;
    sigaction(rt_q, &sa, NULL);
    sigaction(rt_k, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, rt_q);
    sigaddset(&block, rt_k);
    sigaddset(&block, SIGUSR1);
    pid_t c = fork();
    if (c == 0) {
        sigprocmask(SIG_BLOCK, &block, NULL);
        write(ready[1], "r", 1);
        char b;
        read(go[0], &b, 1);
        sigset_t pend;
        sigpending(&pend);
        printf("child: pending before unblocking: rt_q %d, rt_k %d, SIGUSR1 %d\n",
               sigismember(&pend, rt_q), sigismember(&pend, rt_k), sigismember(&pend, SIGUSR1));
        // One signal at a time: each instance's handler runs to its end
        // before the next (the signal is blocked while its handler runs).
        int order[3] = {rt_q, rt_k, SIGUSR1};
        for (int i = 0; i < 3; i++) {
            sigset_t one;
            sigemptyset(&one);
            sigaddset(&one, order[i]);
            sigprocmask(SIG_UNBLOCK, &one, NULL);
        }
        printf("child: %d deliveries\n", (int)n);
        for (int i = 0; i < n; i++)
            printf("  %s %s value %d from parent %s\n",
                   gsig[i] == rt_q ? "rt_q" : gsig[i] == rt_k ? "rt_k" : "SIGUSR1",
                   gcode[i] == SI_QUEUE ? "SI_QUEUE" : gcode[i] == SI_USER ? "SI_USER" : "other",
                   (int)got[i], gpid_ok[i] ? "yes" : "no");
        _exit(0);
    }
    char b;
    read(ready[0], &b, 1);
    for (int i = 0; i < 3; i++)
        kill(c, rt_k);
    for (int i = 0; i < 3; i++)
        kill(c, SIGUSR1);
    int fails = 0;
    for (int i = 0; i < N; i++)
        fails += sigqueue(c, rt_q, (union sigval){.sival_int = i}) != 0;
    printf("parent: %d sigqueue calls failed\n", fails);
    write(go[1], "g", 1);
    int st;
    waitpid(c, &st, 0);
    printf("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
