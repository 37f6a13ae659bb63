// Robust mutexes: the kernel's owner-died handling at thread and process
// exit (set_robust_list, the list walk of handle_futex_death). A thread
// that exits holding a robust mutex leaves it to the next locker with
// EOWNERDEAD; pthread_mutex_consistent makes it usable again, and a mutex
// left inconsistent (unlocked without consistent) is ENOTRECOVERABLE. The
// same across processes: a child that dies by a signal while holding a
// process-shared robust mutex in a MAP_SHARED page. A waiter already
// blocked on the mutex when its owner exits is woken by the kernel. And
// when a process ends by exit_group, the robust mutexes held by its other
// threads (one blocked in a system call, one computing) are told too;
// and when a process calls execve, those of all its threads (the caller's
// included) are, as its other threads die and its memory goes.
//@ no-qemu: qemu-user answers set_robust_list with ENOSYS (it cannot walk the guest's list at thread death), so glibc refuses robust mutexes (ENOTSUP); the expectation is the x86-64 build's native output
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t m;

static void *hold_and_exit(void *arg) {
    (void)arg;
    pthread_mutex_lock(&m);
    return NULL; // exits holding it
}

static const char *name(int rc) {
    switch (rc) {
    case 0:
        return "0";
    case EOWNERDEAD:
        return "EOWNERDEAD";
    case ENOTRECOVERABLE:
        return "ENOTRECOVERABLE";
    default:
        return strerror(rc);
    }
}

static pthread_mutex_t *gate;

static void *hold_until_told(void *arg) {
    int *fds = arg;
    pthread_mutex_lock(&m);
    char c = 'x';
    write(fds[1], &c, 1); // holding it now
    read(fds[2], &c, 1);  // wait to be told to exit
    return NULL;
}

static void *blocked_locker(void *arg) {
    int *rc = arg;
    *rc = pthread_mutex_lock(&m);
    if (*rc == EOWNERDEAD)
        pthread_mutex_consistent(&m);
    pthread_mutex_unlock(&m);
    return NULL;
}

static pthread_mutex_t *held[2];
static int told[2];

// Child thread: take its shared mutex, say so, then block or compute for
// good (until the process's exit_group).
static void *hold_until_exit_group(void *arg) {
    long k = (long)arg;
    pthread_mutex_lock(held[k]);
    write(told[1], "x", 1);
    if (k == 0) {
        for (;;)
            pause();
    }
    volatile unsigned long n = 0;
    for (;;)
        n++;
    return NULL;
}

// In a child: start the two holders and wait until both hold theirs.
static void start_holders(void) {
    for (long k = 0; k < 2; k++) {
        pthread_t h;
        char c;
        pthread_create(&h, NULL, hold_until_exit_group, (void *)k);
        read(told[0], &c, 1);
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "exec-target"))
        return 7;
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    printf("init: %s\n", name(pthread_mutex_init(&m, &a)));

    // A thread exits holding it: the next locker is told.
    pthread_t t;
    pthread_create(&t, NULL, hold_and_exit, NULL);
    pthread_join(t, NULL);
    int rc = pthread_mutex_lock(&m);
    printf("lock after the owner thread exited: %s\n", name(rc));
    printf("consistent: %s\n", name(pthread_mutex_consistent(&m)));
    printf("unlock: %s\n", name(pthread_mutex_unlock(&m)));
    printf("lock again: %s\n", name(pthread_mutex_lock(&m)));
    pthread_mutex_unlock(&m);

    // Left inconsistent: unusable for good.
    pthread_create(&t, NULL, hold_and_exit, NULL);
    pthread_join(t, NULL);
    rc = pthread_mutex_lock(&m);
    printf("lock after another owner exited: %s\n", name(rc));
    pthread_mutex_unlock(&m); // without consistent
    printf("lock of a mutex left inconsistent: %s\n", name(pthread_mutex_lock(&m)));
    pthread_mutex_destroy(&m);

    // A waiter blocked in the kernel when the owner exits is woken.
    pthread_mutex_init(&m, &a);
    int p1[2], p2[2];
    pipe(p1);
    pipe(p2);
    int fds[3] = {p1[0], p1[1], p2[0]};
    pthread_t owner, waiter;
    pthread_create(&owner, NULL, hold_until_told, fds);
    char c;
    read(p1[0], &c, 1);
    int wrc = -1;
    pthread_create(&waiter, NULL, blocked_locker, &wrc);
    usleep(100000); // the waiter blocks on the held mutex
    write(p2[1], &c, 1);
    pthread_join(owner, NULL);
    pthread_join(waiter, NULL);
    printf("waiter blocked when the owner exited: %s\n", name(wrc));
    pthread_mutex_destroy(&m);

    // Across processes: a child killed while holding a shared robust mutex.
    gate = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(gate, &a);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(gate);
        raise(SIGKILL);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child killed by signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    rc = pthread_mutex_lock(gate);
    printf("lock after the owner process died: %s\n", name(rc));
    if (rc == EOWNERDEAD)
        pthread_mutex_consistent(gate);
    pthread_mutex_unlock(gate);
    printf("lock again: %s\n", name(pthread_mutex_lock(gate)));
    pthread_mutex_unlock(gate);

    // Across processes: a child ends by exit_group while two of its other
    // threads hold shared robust mutexes.
    held[0] = gate + 1;
    held[1] = gate + 2;
    pthread_mutex_init(held[0], &a);
    pthread_mutex_init(held[1], &a);
    pipe(told);
    pid = fork();
    if (pid == 0) {
        start_holders();
        _exit(3);
    }
    waitpid(pid, &st, 0);
    printf("child exited with %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    for (int k = 0; k < 2; k++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 5;
        rc = pthread_mutex_timedlock(held[k], &ts);
        printf("lock of the mutex the child's %s thread held: %s\n",
               k == 0 ? "blocked" : "computing", name(rc));
        if (rc == EOWNERDEAD)
            pthread_mutex_consistent(held[k]);
        pthread_mutex_unlock(held[k]);
    }

    // Across processes: a child execs while its two other threads and
    // itself hold shared robust mutexes.
    pthread_mutex_t *execing = gate + 3;
    pthread_mutex_init(execing, &a);
    pid = fork();
    if (pid == 0) {
        start_holders();
        pthread_mutex_lock(execing);
        execl("/proc/self/exe", argv[0], "exec-target", (char *)NULL);
        _exit(99);
    }
    waitpid(pid, &st, 0);
    printf("exec'd child exited with %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    pthread_mutex_t *after_exec[3] = {held[0], held[1], execing};
    static const char *const who[3] = {"blocked", "computing", "exec'ing"};
    for (int k = 0; k < 3; k++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 5;
        rc = pthread_mutex_timedlock(after_exec[k], &ts);
        printf("lock of the mutex the exec'd child's %s thread held: %s\n", who[k], name(rc));
        if (rc == EOWNERDEAD)
            pthread_mutex_consistent(after_exec[k]);
        pthread_mutex_unlock(after_exec[k]);
    }
    return 0;
}
