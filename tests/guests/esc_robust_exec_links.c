// A process that execs with process-shared robust mutexes held must not
// show another process sharing them anything but what its own glibc
// wrote: the robust list's links live inside the mutexes (in a MAP_SHARED
// page here), and Linux leaves them as they are across the exec (it only
// reads them, to mark each lock owner-died). pvm hands the lists to the
// host kernel at exec; the probe checks that no link ever names a host
// address of pvm's reservation instead.
// Process A takes three robust mutexes in a shared page and execs (with
// success) a program that waits; process B, sharing the page, reads every
// mutex's list links all along A's exec and once the new program runs:
// each must keep the value it had while A held the locks (guest
// addresses A's glibc put there). Then B gets each lock with EOWNERDEAD.
//@ no-qemu: qemu-user answers set_robust_list with ENOSYS (it cannot walk the guest's list), so glibc refuses robust mutexes (ENOTSUP); the expectation is the x86-64 build's native output
//@ timeout: 60
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N 3

struct shared {
    pthread_mutex_t m[N];
};

static const char *name(int rc) {
    switch (rc) {
    case 0: return "0";
    case EBUSY: return "EBUSY";
    case EOWNERDEAD: return "EOWNERDEAD";
    case ENOTRECOVERABLE: return "ENOTRECOVERABLE";
    default: return strerror(rc);
    }
}

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

// The links B can see, one pair per mutex.
static void links(struct shared *sh, void *out[N][2]) {
    for (int i = 0; i < N; i++) {
        out[i][0] = *(void *volatile *)&sh->m[i].__data.__list.__next;
        out[i][1] = *(void *volatile *)&sh->m[i].__data.__list.__prev;
    }
}

// How many links differ from the ones A's glibc wrote.
static int changed(struct shared *sh, void *want[N][2]) {
    void *now[N][2];
    links(sh, now);
    int bad = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < 2; j++)
            bad += now[i][j] != want[i][j];
    return bad;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "waiter")) {
        // The program A execs: says it runs, waits to be told to end.
        int up = atoi(argv[2]), down = atoi(argv[3]);
        char c = 'e';
        if (write(up, &c, 1) != 1) return 11;
        if (read(down, &c, 1) != 1) return 12;
        return 0;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) return 1;
    for (int i = 0; i < N; i++) {
        pthread_mutexattr_t at;
        pthread_mutexattr_init(&at);
        pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
        pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
        if (pthread_mutex_init(&sh->m[i], &at)) return 2;
    }
    int up[2], cmd[2], down[2];
    if (pipe(up) || pipe(cmd) || pipe(down)) return 3;
    pid_t a = fork();
    if (a < 0) return 4;
    if (a == 0) {
        close(up[0]);
        close(cmd[1]);
        close(down[1]);
        for (int i = 0; i < N; i++)
            if (pthread_mutex_lock(&sh->m[i])) _exit(20);
        char c = 'l';
        if (write(up[1], &c, 1) != 1) _exit(21);
        if (read(cmd[0], &c, 1) != 1) _exit(22);
        char ups[16], downs[16];
        snprintf(ups, sizeof ups, "%d", up[1]);
        snprintf(downs, sizeof downs, "%d", down[0]);
        execl("/proc/self/exe", "/proc/self/exe", "waiter", ups, downs, (char *)NULL);
        _exit(23);
    }
    close(up[1]);
    close(cmd[0]);
    close(down[0]);
    char c;
    if (read(up[0], &c, 1) != 1 || c != 'l') return 5;
    void *want[N][2];
    links(sh, want);
    int linked = 0;
    for (int i = 0; i < N; i++) linked += want[i][0] != NULL;
    printf("A holds %d robust locks, %d of them linked in its list\n", N, linked);

    // During the exec: read the links until the new program says it runs.
    if (write(cmd[1], "x", 1) != 1) return 7;
    long reads = 0, bad_during = 0, end = now_ns() + 30000000000L;
    for (;;) {
        bad_during += changed(sh, want) != 0;
        reads++;
        // Mostly without blocking; every 64th look waits a millisecond,
        // for a host where processes take turns on one CPU.
        struct pollfd pf = {up[0], POLLIN, 0};
        if (poll(&pf, 1, reads % 64 ? 0 : 1) == 1 && read(up[0], &c, 1) == 1) break;
        if (now_ns() > end) {
            printf("the exec'd program never started\n");
            return 8;
        }
    }
    fprintf(stderr, "%ld reads during the exec\n", reads);
    printf("reads during the exec that found a link changed: %ld\n", bad_during);
    printf("links changed after the exec: %d\n", changed(sh, want));

    for (int i = 0; i < N; i++) {
        int rc = pthread_mutex_trylock(&sh->m[i]);
        printf("lock %d after the exec: %s\n", i, name(rc));
        if (rc == EOWNERDEAD) {
            pthread_mutex_consistent(&sh->m[i]);
            pthread_mutex_unlock(&sh->m[i]);
        } else if (rc == 0) {
            pthread_mutex_unlock(&sh->m[i]);
        }
    }
    if (write(down[1], "x", 1) != 1) return 9;
    int st;
    if (waitpid(a, &st, 0) != a) return 10;
    printf("A's new program ended with status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
    return 0;
}
