// POSIX message queues: mq_open with attributes, O_EXCL, priority order,
// a full queue with O_NONBLOCK (EAGAIN) and mq_setattr, an empty one,
// EMSGSIZE, timeouts (ETIMEDOUT), a blocking receive cut short by a
// signal, a message from a forked child, mq_unlink, and hostile
// arguments: bad descriptors, names and pointers outside the guest's
// memory (EFAULT, never a crash).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ipc.h"

static struct timespec in_ms(int ms) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += ms * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char name[64];
    snprintf(name, sizeof name, "/pvm-ipc-mq-%d", getpid());
    struct mq_attr at = {0, 4, 64, 0, {0}};
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &at);
    if (q < 0) {
        printf("mq_open: %s\n", en(errno));
        return 1;
    }
    res("excl again", mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &at));
    struct mq_attr got;
    res("getattr", mq_getattr(q, &got));
    printf("flags %ld maxmsg %ld msgsize %ld curmsgs %ld\n", got.mq_flags, got.mq_maxmsg,
           got.mq_msgsize, got.mq_curmsgs);
    res("send low", mq_send(q, "low", 4, 1));
    res("send high", mq_send(q, "high", 5, 9));
    res("send mid", mq_send(q, "mid", 4, 5));
    res("send mid2", mq_send(q, "mid2", 5, 5));
    struct mq_attr nb = {O_NONBLOCK, 0, 0, 0, {0}};
    res("setattr", mq_setattr(q, &nb, &got));
    printf("old flags %ld curmsgs %ld\n", got.mq_flags, got.mq_curmsgs);
    res("send full", mq_send(q, "x", 2, 0));
    struct timespec t = in_ms(50);
    res("timedsend full nonblock", mq_timedsend(q, "x", 2, 0, &t));
    char buf[64];
    unsigned prio;
    res("small buffer", mq_receive(q, buf, 10, &prio));
    for (int i = 0; i < 4; i++) {
        ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
        printf("got %zd '%s' prio %u\n", n, n > 0 ? buf : "", prio);
    }
    res("empty nonblock", mq_receive(q, buf, sizeof buf, &prio));
    nb.mq_flags = 0;
    res("setattr blocking", mq_setattr(q, &nb, NULL));
    t = in_ms(100);
    res("timed receive", mq_timedreceive(q, buf, sizeof buf, &prio, &t));
    struct timespec past = {1, 0};
    res("past deadline", mq_timedreceive(q, buf, sizeof buf, &prio, &past));
    struct timespec badns = {1, 2000000000L};
    res("bad nanoseconds", mq_timedreceive(q, buf, sizeof buf, &prio, &badns));

    // A message from a forked child wakes a blocked receive.
    pid_t c = fork();
    if (c == 0) {
        mqd_t cq = mq_open(name, O_WRONLY);
        usleep(100000);
        _exit(mq_send(cq, "from child", 11, 3) == 0 ? 0 : 1);
    }
    ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
    printf("from child: %zd '%s' prio %u\n", n, buf, prio);
    int st;
    waitpid(c, &st, 0);
    printf("child: %d\n", WEXITSTATUS(st));

    // A blocking receive cut short by SIGALRM (no SA_RESTART).
    alarm_in(100000);
    res("interrupted", mq_receive(q, buf, sizeof buf, &prio));

    // Hostile arguments.
    void *bad = (void *)0x7ff0000000000000UL;
    res("send bad ptr", mq_send(q, bad, 4, 0));
    res("send too long", mq_send(q, buf, 65, 0));
    res("send bad prio", mq_send(q, buf, 1, 1u << 31));
    res("send bad timeout ptr", syscall(SYS_mq_timedsend, q, "z", 2, 0, bad));
    // Two messages, so that a receive that fails to store one (Linux
    // takes it off the queue first) never leaves the next one waiting.
    res("mq_send", mq_send(q, "y", 2, 0));
    res("mq_send", mq_send(q, "z", 2, 0));
    res("receive bad ptr", syscall(SYS_mq_timedreceive, q, bad, 64, NULL, NULL));
    res("not a queue", mq_send(1, "x", 2, 0));
    res("bad fd", mq_send(-1, "x", 2, 0));
    res("open bad name ptr", syscall(SYS_mq_open, bad, O_RDONLY, 0, NULL));
    res("open bad attr ptr", syscall(SYS_mq_open, "pvm-ipc-x", O_RDWR | O_CREAT, 0600, bad));
    struct mq_attr huge = {0, 1L << 40, 64, 0, {0}};
    res("open huge maxmsg", mq_open("/pvm-ipc-x", O_RDWR | O_CREAT, 0600, &huge));
    res("open missing", mq_open("/pvm-ipc-missing-queue", O_RDONLY));
    res("open slash name", mq_open("/a/b", O_RDWR | O_CREAT, 0600, NULL));
    res("close", mq_close(q));
    res("unlink", mq_unlink(name));
    res("unlink again", mq_unlink(name));
    res("unlink bad ptr", syscall(SYS_mq_unlink, bad));
    return 0;
}
