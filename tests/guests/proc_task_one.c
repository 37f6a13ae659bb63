// /proc/self/task and /proc/<pid>/task list every guest thread, and each
// thread's directory is there, also when pvm runs the threads in turn on
// one host thread (--threads one: the suite's `1cpu` engines, and the
// bare-metal host), whose host procfs knows only one.
//@ no-qemu: qemu-user's own helper thread shows in its task/ listing
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pid_t tid2;
static pthread_barrier_t bar;

// The numeric entries of `dir`: "main" (the pid), "second", or "other";
// how many.
static int count(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void list(const char *what, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        printf("%s: cannot open\n", what);
        return;
    }
    int n = 0, mainn = 0, second = 0, other = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        n++;
        int t = atoi(e->d_name);
        if (t == getpid())
            mainn++;
        else if (t == tid2 && tid2)
            second++;
        else
            other++;
        if (e->d_type != DT_DIR)
            printf("%s: %s is not a directory entry\n", what, e->d_name);
    }
    closedir(d);
    printf("%s: %d entries (main %d, second thread %d, other %d)\n", what, n, mainn, second, other);
}

static const char *st(const char *p) {
    struct stat s;
    if (stat(p, &s) < 0)
        return "missing";
    return S_ISDIR(s.st_mode) ? "directory" : "not a directory";
}

static void *worker(void *x) {
    (void)x;
    tid2 = gettid();
    char p[64];
    snprintf(p, sizeof p, "/proc/self/task/%d", gettid());
    printf("own task dir from the thread: %s\n", st(p));
    printf("thread-self from the thread: %s\n", st("/proc/thread-self"));
    printf("thread-self/fd from the thread: %s\n", st("/proc/thread-self/fd"));
    pthread_barrier_wait(&bar);
    pthread_barrier_wait(&bar);
    return NULL;
}

int main(void) {
    char p[96];
    snprintf(p, sizeof p, "/proc/%d/task", getpid());
    list("one thread, self", "/proc/self/task");
    list("one thread, pid", p);
    pthread_barrier_init(&bar, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_barrier_wait(&bar);
    list("two threads, self", "/proc/self/task");
    list("two threads, pid", p);
    snprintf(p, sizeof p, "/proc/self/task/%d", tid2);
    printf("second thread's dir: %s\n", st(p));
    snprintf(p, sizeof p, "/proc/self/task/%d/fd", tid2);
    printf("second thread's fd dir: %s\n", st(p));
    snprintf(p, sizeof p, "/proc/self/task/%d/comm", tid2);
    FILE *f = fopen(p, "r");
    printf("second thread's comm: %s\n", f ? "opens" : "missing");
    if (f)
        fclose(f);
    snprintf(p, sizeof p, "/proc/self/task/%d", getpid() + 100000);
    printf("no such thread's dir: %s\n", st(p));
    pthread_barrier_wait(&bar);
    pthread_join(t, NULL);
    // A joined thread leaves the list soon after it cleared its tid (on
    // Linux too, it is still on its way out when the join returns).
    for (int i = 0; i < 1000 && count("/proc/self/task") != 1; i++)
        usleep(1000);
    list("after join", "/proc/self/task");
    return 0;
}
