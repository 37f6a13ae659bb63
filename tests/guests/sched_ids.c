// Scheduling and credential calls CPython's test_posix and test_os use:
// priority ranges, the policy and parameter of this thread, CPU affinity
// that reads back as set (on this thread and on another one), the
// round-robin interval, setuid/setreuid/setregid/setfsuid keeping the
// ids, and mknodat of a FIFO (with EPERM for a directory and EINVAL for
// a type Linux does not know).
//@ cflags: -pthread
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int count(cpu_set_t *s) { return CPU_COUNT(s); }

static void *other(void *arg) {
    (void)arg;
    cpu_set_t s;
    CPU_ZERO(&s);
    sched_getaffinity(0, sizeof s, &s);
    printf("thread: %d cpu(s), cpu0 %d\n", count(&s), CPU_ISSET(0, &s));
    return NULL;
}

int main(void) {
    printf("prio fifo %d..%d rr %d..%d other %d..%d\n", sched_get_priority_min(SCHED_FIFO),
           sched_get_priority_max(SCHED_FIFO), sched_get_priority_min(SCHED_RR),
           sched_get_priority_max(SCHED_RR), sched_get_priority_min(SCHED_OTHER),
           sched_get_priority_max(SCHED_OTHER));
    errno = 0;
    printf("prio bad %d errno %s\n", sched_get_priority_max(77), strerror(errno));
    printf("policy %d\n", sched_getscheduler(0));
    struct sched_param sp = {.sched_priority = 5};
    printf("getparam %d prio %d\n", sched_getparam(0, &sp), sp.sched_priority);
    sp.sched_priority = 0;
    printf("setscheduler other %d\n", sched_setscheduler(0, SCHED_OTHER, &sp));
    sp.sched_priority = 3;
    errno = 0;
    printf("setscheduler other prio 3: %d %s\n", sched_setscheduler(0, SCHED_OTHER, &sp),
           strerror(errno));

    printf("getscheduler of the parent %d\n", sched_getscheduler(getppid()) >= 0);
    errno = 0;
    printf("getscheduler(-1) %d %s\n", sched_getscheduler(-1), strerror(errno));
    cpu_set_t all, one;
    CPU_ZERO(&all);
    errno = 0;
    printf("getaffinity(-1) %d %s\n", sched_getaffinity(-1, sizeof all, &all), strerror(errno));
    printf("getaffinity %d\n", sched_getaffinity(0, sizeof all, &all));
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    printf("all online cpus in the mask: %d\n", count(&all) == n);
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    printf("setaffinity {0} %d\n", sched_setaffinity(0, sizeof one, &one));
    cpu_set_t got;
    CPU_ZERO(&got);
    sched_getaffinity(0, sizeof got, &got);
    printf("reads back %d cpu(s), cpu0 %d\n", count(&got), CPU_ISSET(0, &got));
    pthread_t t;
    pthread_create(&t, NULL, other, NULL); /* a new thread inherits it */
    pthread_join(t, NULL);
    printf("restore %d\n", sched_setaffinity(0, sizeof all, &all));
    CPU_ZERO(&got);
    sched_getaffinity(0, sizeof got, &got);
    printf("restored %d\n", CPU_EQUAL(&got, &all));
    CPU_ZERO(&one);
    errno = 0;
    printf("empty mask %d %s\n", sched_setaffinity(0, sizeof one, &one), strerror(errno));

    struct timespec ts = {7, 7};
    int r = sched_rr_get_interval(0, &ts);
    printf("rr interval %d sane %d\n", r, ts.tv_sec == 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000);

    uid_t u = getuid(), eu = geteuid();
    gid_t g = getgid(), eg = getegid();
    printf("setreuid(-1,-1) %d setregid(-1,-1) %d\n", setreuid(-1, -1), setregid(-1, -1));
    printf("setreuid(same) %d setregid(same) %d\n", setreuid(u, eu), setregid(g, eg));
    printf("setuid(self) %d setgid(self) %d\n", setuid(eu), setgid(eg));
    printf("ids kept %d\n", getuid() == u && geteuid() == eu && getgid() == g && getegid() == eg);
    printf("setfsuid(-1) gives euid %d setfsgid(-1) gives egid %d\n",
           setfsuid(-1) == (int)eu, setfsgid(-1) == (int)eg);

    unlink("fifo");
    printf("mkfifo %d\n", mkfifo("fifo", 0600));
    struct stat st;
    printf("stat %d fifo %d\n", stat("fifo", &st), S_ISFIFO(st.st_mode));
    errno = 0;
    printf("again %d %s\n", mkfifo("fifo", 0600), strerror(errno));
    unlink("fifo");
    printf("mknod reg %d\n", mknodat(AT_FDCWD, "plain", S_IFREG | 0600, 0));
    printf("stat %d reg %d\n", stat("plain", &st), S_ISREG(st.st_mode));
    unlink("plain");
    errno = 0;
    printf("mknod dir %d %s\n", mknodat(AT_FDCWD, "d", S_IFDIR | 0700, 0), strerror(errno));
    errno = 0;
    printf("mknod bad type %d %s\n", mknodat(AT_FDCWD, "x", 0170000 | 0600, 0), strerror(errno));
    return 0;
}
