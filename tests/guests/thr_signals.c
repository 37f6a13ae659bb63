// Signals and threads: pthread_kill reaches the chosen thread's handler,
// per-thread masks decide which thread takes a process-directed kill(),
// pthread_cancel ends a thread blocked in a read, and exit_group from a
// secondary thread ends the process while the main thread waits in a
// futex (pthread_join).
//@ cflags: -pthread
//@ status: 3
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static volatile long handled_by;
static void on_usr1(int sig) { (void)sig; handled_by = syscall(SYS_gettid); }

static volatile long worker_tid;
static volatile int stop;

static void *spin_worker(void *arg) {
    (void)arg;
    worker_tid = syscall(SYS_gettid);
    while (!stop) sched_yield();
    return NULL;
}

static void *blocked_reader(void *arg) {
    int fd = *(int *)arg;
    char c;
    read(fd, &c, 1); // never returns: cancelled
    return (void *)1;
}

static void *unblocked_taker(void *arg) {
    (void)arg;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    worker_tid = syscall(SYS_gettid);
    while (!handled_by) sched_yield();
    return NULL;
}

static void *ender(void *arg) {
    (void)arg;
    printf("ender: exiting the whole process\n");
    fflush(stdout);
    exit(3);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);

    pthread_t t;
    pthread_create(&t, NULL, spin_worker, NULL);
    while (!worker_tid) sched_yield();
    pthread_kill(t, SIGUSR1);
    while (!handled_by) sched_yield();
    printf("pthread_kill handled by the target: %s\n", handled_by == worker_tid ? "yes" : "no");
    stop = 1;
    pthread_join(t, NULL);

    // Main blocks SIGUSR1; a process-directed kill must go to the thread
    // that does not.
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    handled_by = 0;
    worker_tid = 0;
    pthread_create(&t, NULL, unblocked_taker, NULL);
    while (!worker_tid) sched_yield();
    kill(getpid(), SIGUSR1);
    pthread_join(t, NULL);
    printf("kill() taken by the unblocked thread: %s\n", handled_by == worker_tid ? "yes" : "no");
    sigset_t pend;
    sigpending(&pend);
    printf("still pending in main: %s\n", sigismember(&pend, SIGUSR1) ? "yes" : "no");

    int p[2];
    pipe(p);
    pthread_create(&t, NULL, blocked_reader, &p[0]);
    usleep(20000);
    pthread_cancel(t);
    void *r;
    pthread_join(t, &r);
    printf("cancelled reader: %s\n", r == PTHREAD_CANCELED ? "yes" : "no");

    pthread_create(&t, NULL, ender, NULL);
    pthread_join(t, NULL);
    printf("never reached\n");
    return 0;
}
