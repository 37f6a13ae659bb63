// The state letter of another process's threads in /proc/<pid>/task/<tid>/stat
// and status: a thread that spins is running (R), one blocked in read and
// one waiting on a futex sleep (S), while the main thread waits in
// pthread_join (S). pvm must show each thread's own state also when it
// runs them in turn on one host thread (--threads one: the suite's
// `1cpu` engines), whose host state is one for all.
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int report[2], go[2];
static volatile int stop;
static sem_t sem;

static void say(void) {
    int tid = (int)syscall(SYS_gettid);
    write(report[1], &tid, sizeof tid);
}

static void *spinner(void *x) {
    (void)x;
    say();
    while (!stop)
        ;
    return NULL;
}

static void *reader(void *x) {
    (void)x;
    say();
    char c;
    read(go[0], &c, 1);
    stop = 1;
    sem_post(&sem);
    return NULL;
}

static void *waiter(void *x) {
    (void)x;
    say();
    sem_wait(&sem);
    return NULL;
}

static void child(void) {
    pthread_t t[3];
    void *(*f[3])(void *) = {spinner, reader, waiter};
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, f[i], NULL);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    _exit(0);
}

static char stat_state(pid_t c, int tid) {
    char path[96], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", c, tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return '?';
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *r = strrchr(buf, ')');
    return r && r[1] == ' ' ? r[2] : '?';
}

static char status_state(pid_t c, int tid) {
    char path[96], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/task/%d/status", c, tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return '?';
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *s = strstr(buf, "\nState:");
    return s ? s[8] == '\t' || s[8] == ' ' ? s[9] : s[8] : '?';
}

int main(void) {
    if (pipe(report) || pipe(go) || sem_init(&sem, 1, 0))
        return 1;
    pid_t c = fork();
    if (c == 0)
        child();
    int tids[4] = {c};
    for (int i = 1; i < 4; i++)
        if (read(report[0], &tids[i], sizeof(int)) != sizeof(int))
            return 1;
    static const char *names[4] = {"main (in pthread_join)", "spinner", "reader (in read)",
                                   "waiter (in sem_wait)"};
    static const char want[4] = {'S', 'R', 'S', 'S'};
    // The threads that block get there soon after they report: look
    // until all are as expected, for at most two seconds.
    char st[4], su[4];
    for (int tries = 0; tries < 2000; tries++) {
        int ok = 1;
        for (int i = 0; i < 4; i++) {
            st[i] = stat_state(c, tids[i]);
            su[i] = status_state(c, tids[i]);
            ok &= st[i] == want[i] && su[i] == want[i];
        }
        if (ok)
            break;
        usleep(1000);
    }
    for (int i = 0; i < 4; i++)
        printf("%s: stat %c, status %c\n", names[i], st[i], su[i]);
    write(go[1], "g", 1);
    int s;
    waitpid(c, &s, 0);
    printf("child: exited %d\n", WIFEXITED(s) ? WEXITSTATUS(s) : -1);
    return 0;
}
