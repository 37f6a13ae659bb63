// /proc/self/task/<tid>/ and /proc/thread-self/ of the guest's threads
// show the guest: maps of the process, mem at guest addresses, the
// program as exe, the thread's name in comm.
//@ no-qemu: qemu-user emulates only /proc/self/exe and /proc/<pid>/exe; task/<tid>/exe and thread-self/exe show qemu itself
#include "esc.h"
#include <pthread.h>
#include <sys/prctl.h>

int main(void);
volatile long global = 5;
static pid_t tid2;
static pthread_barrier_t bar;

static void *worker(void *x) {
    (void)x;
    prctl(PR_SET_NAME, "worker");
    tid2 = gettid();
    pthread_barrier_wait(&bar);
    pthread_barrier_wait(&bar);
    return NULL;
}

static void show(const char *who, const char *dir) {
    char p[128];
    static struct map m[512];
    snprintf(p, sizeof p, "%s/maps", dir);
    int n = read_maps(p, m, 512);
    printf("%s maps hold main: %s\n", who, n > 0 && find_map(m, n, (unsigned long)&main) ? "yes" : "no");
    snprintf(p, sizeof p, "%s/mem", dir);
    int fd = open(p, O_RDONLY);
    long v = 0;
    pread(fd, &v, 8, (off_t)(uintptr_t)&global);
    close(fd);
    printf("%s mem reads global: %ld\n", who, v);
    snprintf(p, sizeof p, "%s/exe", dir);
    char e[4096] = {0}, me[4096] = {0};
    readlink(p, e, sizeof e - 1);
    readlink("/proc/self/exe", me, sizeof me - 1);
    printf("%s exe is the program: %s\n", who, strcmp(e, me) == 0 ? "yes" : "no");
    snprintf(p, sizeof p, "%s/comm", dir);
    char *c = slurp(p, NULL);
    printf("%s comm: %s", who, c ? c : "?\n");
}

int main(void) {
    pthread_t t;
    pthread_barrier_init(&bar, NULL, 2);
    prctl(PR_SET_NAME, "esc-main");
    pthread_create(&t, NULL, worker, NULL);
    pthread_barrier_wait(&bar);
    char d[64];
    snprintf(d, sizeof d, "/proc/self/task/%d", gettid());
    show("main task", d);
    snprintf(d, sizeof d, "/proc/self/task/%d", tid2);
    show("worker task", d);
    show("thread-self", "/proc/thread-self");
    pthread_barrier_wait(&bar);
    pthread_join(t, NULL);
    return 0;
}
