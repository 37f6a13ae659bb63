// sigsuspend and pause in one thread while another thread, which must get
// the CPU meanwhile (with --threads one: on the same host thread), sends
// the signal: to the waiting thread (pthread_kill) and to the process
// (kill), which only the waiting thread leaves unblocked.
//@ cflags: -pthread
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_t waiter;
static volatile sig_atomic_t got;
static volatile int ready, resumed;

static void on_usr(int s) { got = s; }

static void *sender(void *arg) {
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* process signals go to main */
    for (int round = 0; round < 3; round++) {
        while (ready != round + 1) sched_yield();
        usleep(20000);
        if (round == 0)
            pthread_kill(waiter, SIGUSR1);
        else if (round == 1)
            kill(getpid(), SIGUSR2);
        else /* SIGUSR1 is unblocked now: one may come before pause() */
            while (!resumed) {
                kill(getpid(), SIGUSR1);
                usleep(50000);
            }
    }
    return NULL;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigset_t block, old, wait;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGUSR2);
    sigprocmask(SIG_BLOCK, &block, &old);
    waiter = pthread_self();
    pthread_t t;
    pthread_create(&t, NULL, sender, NULL);

    sigemptyset(&wait);
    ready = 1;
    int r = sigsuspend(&wait);
    printf("sigsuspend %d got %d\n", r, got);
    sigprocmask(SIG_SETMASK, NULL, &old);
    printf("mask restored: usr1 blocked %d\n", sigismember(&old, SIGUSR1));

    got = 0;
    ready = 2;
    r = sigsuspend(&wait);
    printf("sigsuspend %d got %d (process-directed)\n", r, got);

    sigprocmask(SIG_UNBLOCK, &block, NULL);
    got = 0;
    ready = 3;
    r = pause();
    resumed = 1;
    printf("pause %d got %d\n", r, got);
    pthread_join(t, NULL);
    return 0;
}
