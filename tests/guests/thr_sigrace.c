// A signal sent to a thread that is about to block in a system call must
// interrupt it, however close to the call it arrives: the handler runs
// (the call returns EINTR, as without SA_RESTART) and is never held back
// until the call ends for another reason. The thread blocks in turn in a
// pipe read, a futex wait and nanosleep, each far longer than the test,
// while the main thread signals it again as soon as its handler has run;
// a signal lost in the window before a call blocks shows as a stall.
//@ cflags: -pthread
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 3000

static atomic_int handled;
static atomic_int done;
static atomic_int exited;
static int fds[2];
static unsigned futex_word;

static void on_usr1(int sig) {
    (void)sig;
    atomic_fetch_add(&handled, 1);
}

static void *blocker(void *arg) {
    long kind = (long)arg;
    while (!atomic_load(&done)) {
        if (kind == 0) {
            char c;
            if (read(fds[0], &c, 1) == 1)
                break;
        } else if (kind == 1) {
            struct timespec t = {100, 0};
            syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, &t, NULL, 0);
        } else {
            struct timespec t = {100, 0};
            nanosleep(&t, NULL);
        }
    }
    atomic_store(&exited, 1);
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL); // no SA_RESTART
    if (pipe(fds) != 0)
        return 1;
    const char *names[] = {"read", "futex", "nanosleep"};
    for (long kind = 0; kind < 3; kind++) {
        atomic_store(&handled, 0);
        atomic_store(&done, 0);
        pthread_t t;
        pthread_create(&t, NULL, blocker, (void *)kind);
        int stalls = 0;
        for (int i = 0; i < ROUNDS; i++) {
            int before = atomic_load(&handled);
            pthread_kill(t, SIGUSR1);
            double start = now();
            while (atomic_load(&handled) == before) {
                if (now() - start > 5.0) {
                    stalls++;
                    break;
                }
                sched_yield();
            }
            if (stalls)
                break;
        }
        // Stop the blocker: a signal handled just before it enters its
        // next call does not end that call (as on Linux), so keep sending.
        atomic_store(&done, 1);
        while (!atomic_load(&exited)) {
            pthread_kill(t, SIGUSR1);
            usleep(1000);
        }
        pthread_join(t, NULL);
        atomic_store(&exited, 0);
        printf("%s: %s\n", names[kind], stalls ? "a signal was held back" : "every signal handled at once");
    }
    return 0;
}
