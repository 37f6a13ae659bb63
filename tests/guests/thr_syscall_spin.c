// A thread that waits for another by making system calls in a loop (a
// spin on `getppid`, no sched_yield, no futex): where guest threads take
// turns on one CPU, the waiter must still be preempted, although each of
// its calls starts the engine's instruction budget over.
//@ cflags: -pthread
//@ timeout: 30
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static atomic_int flag;

static void *setter(void *arg) {
    (void)arg;
    atomic_store(&flag, 1);
    return NULL;
}

int main(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, setter, NULL) != 0) return 1;
    while (!atomic_load(&flag)) syscall(SYS_getppid);
    pthread_join(t, NULL);
    // (Before the fix the loop never ended there: the run timed out.)
    printf("the other thread ran\n");
    return 0;
}
