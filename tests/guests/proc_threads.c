// fork from a multi-threaded process: the child has only the forking
// thread (from a secondary thread here), can create threads of its own and
// exits with its own status; the parent's threads go on meanwhile.
//@ cflags: -pthread
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int stop;
static volatile long spins;
static void *spinner(void *a) { (void)a; while (!stop) spins++; return NULL; }
static void *child_worker(void *a) { return (void *)((long)a * 2); }

static void *forker(void *a) {
    (void)a;
    // Fork while the spinner runs (on a loaded machine it may not have
    // run at all yet when the forker is done).
    while (spins == 0)
        sched_yield();
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        pthread_t t;
        void *r;
        pthread_create(&t, NULL, child_worker, (void *)21);
        pthread_join(t, &r);
        printf("child: worker gave %ld\n", (long)r);
        fflush(stdout);
        _exit(7);
    }
    int st;
    waitpid(p, &st, 0);
    printf("parent: child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return NULL;
}

int main(void) {
    pthread_t s, f;
    pthread_create(&s, NULL, spinner, NULL);
    pthread_create(&f, NULL, forker, NULL);
    pthread_join(f, NULL);
    stop = 1;
    pthread_join(s, NULL);
    printf("spinner ran: %s\n", spins > 0 ? "yes" : "no");
    return 0;
}
