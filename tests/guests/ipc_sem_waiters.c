// GETNCNT and GETZCNT count the threads of the caller's own process that
// wait in semop: one waiting for a semaphore to grow, one for another to
// be zero, one whose call of two operations waits on its second (Linux
// counts a waiter on the semaphore of the first operation that cannot go
// on, and there only). The main thread looks until it sees each counted,
// then lets them go; the counts drop to zero once they are done. Also
// where guest threads take turns on one host thread (jit-1cpu, the
// bare-metal host), where a waiting thread does not block in the host.
//@ cflags: -pthread
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <unistd.h>
#include "ipc.h"

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static int s;

static void *grow(void *arg) {
    (void)arg;
    struct sembuf b = {0, -1, 0};
    res("grow waiter done", semop(s, &b, 1));
    return NULL;
}

static void *zero(void *arg) {
    (void)arg;
    struct sembuf b = {1, 0, 0};
    res("zero waiter done", semop(s, &b, 1));
    return NULL;
}

static void *second(void *arg) {
    (void)arg;
    // Sem 2 is zero, so the first goes on; sem 3 cannot go down.
    struct sembuf b[2] = {{2, 0, 0}, {3, -2, 0}};
    res("two-op waiter done", semop(s, b, 2));
    return NULL;
}

// Look until semaphore `num`'s count `cmd` is `want` (at most 5 s).
static int until(int num, int cmd, int want) {
    int n = -1;
    for (int i = 0; i < 5000; i++) {
        n = semctl(s, num, cmd);
        if (n == want)
            break;
        usleep(1000);
    }
    return n;
}

int main(void) {
    s = semget(IPC_PRIVATE, 4, 0600);
    if (s < 0)
        return 1;
    unsigned short init[4] = {0, 1, 0, 1};
    union semun u = {.array = init};
    semctl(s, 0, SETALL, u);
    res("ncnt before", semctl(s, 0, GETNCNT));
    res("zcnt before", semctl(s, 1, GETZCNT));

    pthread_t t[3];
    pthread_create(&t[0], NULL, grow, NULL);
    res("ncnt of sem 0 with a waiter", until(0, GETNCNT, 1));
    res("zcnt of sem 0", semctl(s, 0, GETZCNT));
    pthread_create(&t[1], NULL, zero, NULL);
    res("zcnt of sem 1 with a waiter", until(1, GETZCNT, 1));
    res("ncnt of sem 1", semctl(s, 1, GETNCNT));
    pthread_create(&t[2], NULL, second, NULL);
    res("ncnt of sem 3 with a two-op waiter", until(3, GETNCNT, 1));
    res("zcnt of sem 2 (its first op goes on)", semctl(s, 2, GETZCNT));
    res("ncnt of sem 2", semctl(s, 2, GETNCNT));
    res("ncnt of sem 0 still", semctl(s, 0, GETNCNT));

    struct sembuf up = {0, 1, 0};
    semop(s, &up, 1);
    pthread_join(t[0], NULL);
    res("ncnt of sem 0 after", semctl(s, 0, GETNCNT));
    struct sembuf down = {1, -1, 0};
    semop(s, &down, 1);
    pthread_join(t[1], NULL);
    res("zcnt of sem 1 after", semctl(s, 1, GETZCNT));
    struct sembuf up3 = {3, 1, 0};
    semop(s, &up3, 1);
    pthread_join(t[2], NULL);
    res("ncnt of sem 3 after", semctl(s, 3, GETNCNT));
    res("value of sem 3", semctl(s, 3, GETVAL));
    semctl(s, 0, IPC_RMID);
    return 0;
}
