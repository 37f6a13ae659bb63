// GETNCNT and GETZCNT count the waiters in semop of other processes too,
// among them a multi-threaded child's threads: one waiting for a
// semaphore to grow, one for another to be zero, while the child's main
// thread waits for them. The parent looks until it sees each counted,
// then lets them go; the counts drop to zero once they are done. A second
// child killed while its thread waits leaves no count behind. Also where
// a process's guest threads take turns on one host thread (the
// bare-metal host), where a waiting thread does not block in the host.
//@ cflags: -pthread
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
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
    semop(s, &b, 1);
    return NULL;
}

static void *zero(void *arg) {
    (void)arg;
    struct sembuf b = {1, 0, 0};
    semop(s, &b, 1);
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

// A child whose threads wait in `fns` (NULL-ended); its main thread
// joins them.
static pid_t child(void *(*const *fns)(void *)) {
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    pthread_t t[4];
    int n = 0;
    for (; fns[n]; n++)
        pthread_create(&t[n], NULL, fns[n], NULL);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    _exit(0);
}

int main(void) {
    s = semget(IPC_PRIVATE, 2, 0600);
    if (s < 0)
        return 1;
    unsigned short init[2] = {0, 1};
    union semun u = {.array = init};
    semctl(s, 0, SETALL, u);
    fflush(stdout);

    static void *(*const both[])(void *) = {grow, zero, NULL};
    pid_t pid = child(both);
    res("ncnt of sem 0 with a child's thread waiting", until(0, GETNCNT, 1));
    res("zcnt of sem 1 with another", until(1, GETZCNT, 1));
    res("zcnt of sem 0", semctl(s, 0, GETZCNT));
    res("ncnt of sem 1", semctl(s, 1, GETNCNT));
    struct sembuf up = {0, 1, 0};
    semop(s, &up, 1);
    res("ncnt of sem 0 after a post", until(0, GETNCNT, 0));
    res("zcnt of sem 1 still", semctl(s, 1, GETZCNT));
    struct sembuf down = {1, -1, 0};
    semop(s, &down, 1);
    res("zcnt of sem 1 after it went to zero", until(1, GETZCNT, 0));
    int st;
    waitpid(pid, &st, 0);
    printf("child: %s %d\n", WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));

    // A child killed while its thread waits.
    static void *(*const one[])(void *) = {grow, NULL};
    pid = child(one);
    res("ncnt of sem 0 with a thread of a second child", until(0, GETNCNT, 1));
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    printf("second child: %s %d\n", WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    res("ncnt of sem 0 once it is gone", until(0, GETNCNT, 0));
    res("value of sem 0", semctl(s, 0, GETVAL));
    semctl(s, 0, IPC_RMID);
    return 0;
}
