// Another process's threads in /proc: a parent lists /proc/<child>/task
// of a forked child that made three threads, reads each task's stat
// (its tid, name and state), the child's status and stat thread counts
// and a task's status, then lets the child end. pvm must show them also
// when it runs the child's threads in turn on one host thread (--threads
// one: the suite's `1cpu` engines, and the bare-metal host), whose host
// procfs knows only one.
//@ no-qemu: qemu-user's own helper thread shows in the child's task/ listing, and its comm is qemu's
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 3

static int go[2];   // the threads block reading it
static int ready[2]; // the child says its threads are up

static void *worker(void *x) {
    long i = (long)x;
    if (i == 1)
        prctl(PR_SET_NAME, "worker-one");
    char c;
    if (read(go[0], &c, 1) != 1)
        return (void *)1;
    return NULL;
}

static void child(void) {
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    write(ready[1], "r", 1);
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        if (r)
            _exit(3);
    }
    _exit(0);
}

static int slurp(const char *path, char *buf, size_t n) {
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t got = fread(buf, 1, n - 1, f);
    buf[got] = 0;
    fclose(f);
    return (int)got;
}

// "pid (comm) S ...": the pid, the name and the state of a stat line.
static int parse_stat(const char *s, int *pid, char *name, char *state) {
    const char *l = strchr(s, '('), *r = strrchr(s, ')');
    if (!l || !r || r < l || r[1] != ' ')
        return -1;
    *pid = atoi(s);
    snprintf(name, 32, "%.*s", (int)(r - l - 1), l + 1);
    *state = r[2];
    return 0;
}

// Field `n` (from 1) of a stat line, counted after the name.
static long stat_field(const char *s, int n) {
    const char *p = strrchr(s, ')');
    if (!p)
        return -1;
    p += 2;
    for (int f = 3; f < n && p; f++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return p ? atol(p) : -1;
}

static long status_value(const char *text, const char *key) {
    const char *p = strstr(text, key);
    return p ? atol(p + strlen(key)) : -1;
}

static char own_comm[32];

// One look at the child's threads; returns how many are asleep (all of
// them once they wait for `go`). `print`: 0 never, 1 always, 2 only when
// every thread is asleep in this look (the report is of one instant).
static int look(pid_t c, int print) {
    char path[96], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/task", c);
    DIR *d = opendir(path);
    if (!d) {
        printf("task: cannot open\n");
        return -1;
    }
    int n = 0, lead = 0, others = 0, asleep = 0, tids_ok = 0, named = 0, program = 0, bad = 0;
    int tids[64];
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        int tid = atoi(e->d_name);
        if (n < 64)
            tids[n] = tid;
        n++;
        if (tid == c)
            lead++;
        else
            others++;
        snprintf(path, sizeof path, "/proc/%d/task/%d/stat", c, tid);
        int pid;
        char name[32], state;
        if (slurp(path, buf, sizeof buf) < 0 || parse_stat(buf, &pid, name, &state) < 0) {
            bad++;
            continue;
        }
        tids_ok += pid == tid;
        asleep += state == 'S';
        if (!strcmp(name, "worker-one"))
            named++;
        else if (!strcmp(name, own_comm))
            program++;
        else if (print)
            printf("task %s: unexpected name %s\n", e->d_name, name);
    }
    closedir(d);
    if (!print || (print == 2 && asleep != THREADS + 1))
        return asleep;
    printf("task/: %d entries (the child %d, other threads %d)\n", n, lead, others);
    printf("task stat: %d name their own tid, %d unreadable\n", tids_ok, bad);
    printf("task names: %d the program's, %d worker-one\n", program, named);
    printf("task states: %d asleep\n", asleep);
    // A thread's own files.
    int other = 0;
    for (int i = 0; i < n && i < 64; i++)
        if (tids[i] != c)
            other = tids[i];
    snprintf(path, sizeof path, "/proc/%d/task/%d/status", c, other);
    if (slurp(path, buf, sizeof buf) < 0) {
        printf("a thread's status: cannot open\n");
    } else {
        printf("a thread's status: Pid is its tid: %s, Tgid is the child: %s, Threads: %ld\n",
               status_value(buf, "\nPid:") == other ? "yes" : "no",
               status_value(buf, "\nTgid:") == c ? "yes" : "no", status_value(buf, "\nThreads:"));
    }
    snprintf(path, sizeof path, "/proc/%d/task/%d/fd", c, other);
    DIR *fd = opendir(path);
    printf("a thread's fd/: %s\n", fd ? "opens" : "missing");
    if (fd)
        closedir(fd);
    // The process's counts.
    snprintf(path, sizeof path, "/proc/%d/status", c);
    if (slurp(path, buf, sizeof buf) >= 0)
        printf("status: Threads: %ld\n", status_value(buf, "\nThreads:"));
    snprintf(path, sizeof path, "/proc/%d/stat", c);
    if (slurp(path, buf, sizeof buf) >= 0)
        printf("stat: num_threads %ld\n", stat_field(buf, 20));
    snprintf(path, sizeof path, "/proc/%d/task/%d", c, c + 100000);
    printf("no such thread's dir: %s\n", opendir(path) ? "opens" : "missing");
    return asleep;
}

int main(void) {
    if (slurp("/proc/self/comm", own_comm, sizeof own_comm) < 0)
        return 1;
    own_comm[strcspn(own_comm, "\n")] = 0;
    if (pipe(go) || pipe(ready))
        return 1;
    pid_t c = fork();
    if (c == 0)
        child();
    char r;
    if (read(ready[0], &r, 1) != 1)
        return 1;
    // Wait until every thread sleeps (a thread just made may still run),
    // and report that look: a second look could catch a thread that woke
    // for a moment (under --threads one, the host thread all of them
    // share). After two seconds, report whatever the last look saw.
    for (int i = 0; look(c, 2) != THREADS + 1; i++) {
        if (i == 2000) {
            look(c, 1);
            break;
        }
        usleep(1000);
    }
    write(go[1], "ggg", THREADS);
    int st;
    waitpid(c, &st, 0);
    printf("child: exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
