// The state letter of each thread in /proc/self/task/<tid>/stat and
// status when pvm runs the guest's threads in turn on one host thread
// (--threads one; the host's procfs has one state for all of them): a
// thread waiting in a futex is sleeping (S) while the thread that reads
// is running (R), and its stat starts with its own id. Steady under load: the reader waits until the other
// thread has announced its wait, then looks until it shows S (a bounded
// number of looks, yielding in between; it gets there in a moment on
// Linux, and pvm answers for a waiting thread at once).
//@ pvm-args: --threads one
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static atomic_int word, tid2;

static void *waiter(void *x) {
    (void)x;
    atomic_store(&tid2, (int)syscall(SYS_gettid));
    atomic_store(&word, 1);
    while (atomic_load(&word) == 1)
        syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
    return NULL;
}

// The state letter of thread `tid` in its stat file ('s') or status ('u').
static char state(int tid, char which) {
    char path[96], buf[4096];
    snprintf(path, sizeof path, "/proc/self/task/%d/%s", tid, which == 's' ? "stat" : "status");
    FILE *f = fopen(path, "r");
    if (!f)
        return '?';
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    if (which == 's') {
        char *r = strrchr(buf, ')');
        return r && r[1] == ' ' ? r[2] : '?';
    }
    char *s = strstr(buf, "\nState:");
    if (!s)
        return '?';
    s += 7;
    while (*s == ' ' || *s == '\t')
        s++;
    return *s;
}

int main(void) {
    pthread_t t;
    pthread_create(&t, NULL, waiter, NULL);
    while (atomic_load(&word) != 1)
        sched_yield();
    int me = (int)syscall(SYS_gettid), other = atomic_load(&tid2);
    char st = '?', su = '?';
    int tries;
    for (tries = 0; tries < 10000; tries++) {
        st = state(other, 's');
        su = state(other, 'u');
        if (st == 'S' && su == 'S')
            break;
        sched_yield();
    }
    printf("waiting thread: stat %c, status %c\n", st, su);
    printf("reading thread: stat %c, status %c\n", state(me, 's'), state(me, 'u'));
    char path[64], buf[256] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", other);
    FILE *f = fopen(path, "r");
    if (f) {
        fgets(buf, sizeof buf, f);
        fclose(f);
    }
    int first = 0;
    sscanf(buf, "%d", &first);
    printf("its stat starts with its thread id: %s\n", first == other ? "yes" : "no");
    atomic_store(&word, 2);
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    pthread_join(t, NULL);
    printf("joined\n");
    return 0;
}
