// Every thread blocks SIGUSR1; one thread kill()s the process while the
// main thread waits in sigwait(): the waiter must be woken and take it
// (CPython's test_sigwait_thread), and sigtimedwait in a thread takes a
// signal sent to the process too.
//@ cflags: -pthread
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static void *kill_later(void *arg) {
    (void)arg;
    usleep(50000);
    kill(getpid(), SIGUSR1);
    return NULL;
}

static void *timed_waiter(void *arg) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    struct timespec t = {5, 0};
    *(int *)arg = sigtimedwait(&s, NULL, &t);
    return NULL;
}

int main(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    pthread_t t;
    pthread_create(&t, NULL, kill_later, NULL);
    sigset_t w;
    sigemptyset(&w);
    sigaddset(&w, SIGUSR1);
    int got = 0;
    sigwait(&w, &got);
    pthread_join(t, NULL);
    printf("sigwait took %s\n", got == SIGUSR1 ? "SIGUSR1" : "something else");

    int r = 0;
    pthread_create(&t, NULL, timed_waiter, &r);
    usleep(50000);
    kill(getpid(), SIGUSR2);
    pthread_join(t, NULL);
    printf("sigtimedwait in a thread took %s\n", r == SIGUSR2 ? "SIGUSR2" : "something else");
    sigpending(&w);
    printf("nothing left pending: %s\n", sigismember(&w, SIGUSR1) || sigismember(&w, SIGUSR2) ? "no" : "yes");
    return 0;
}
