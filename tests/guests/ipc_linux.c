// IPC answers where qemu-riscv64 7.2 is no oracle, checked against Linux
// (this source built for and run on an x86-64 Linux host gives the same
// lines): mq_notify (qemu has none) by signal, with the sender's pid and
// the registered value, one notification per registration, EBUSY for a
// second registrant, glibc's SIGEV_THREAD (a netlink socket and a cookie
// the kernel reads from the caller's memory); stores to bad pointers
// after the fact (qemu drops their EFAULT); and the IPC_64 bit in a ctl
// command, which asm-generic Linux (riscv64 as x86-64) rejects with
// EINVAL where qemu strips it.
//@ no-qemu: qemu-riscv64 7.2 has no mq_notify (ENOSYS), ignores EFAULT from the stores of mq_timedreceive and mq_getsetattr, and strips IPC_64 from ctl commands
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ipc.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int notified = -1;

static void on_thread(union sigval v) {
    pthread_mutex_lock(&mu);
    notified = v.sival_int;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char name[64];
    snprintf(name, sizeof name, "/pvm-ipc-linux-%d", getpid());
    struct mq_attr at = {0, 4, 32, 0, {0}};
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &at);
    if (q < 0) {
        printf("mq_open: %s\n", en(errno));
        return 1;
    }
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);

    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    ev.sigev_value.sival_int = 42;
    res("notify", mq_notify(q, &ev));
    res("notify again", mq_notify(q, &ev));
    pid_t c = fork();
    if (c == 0) {
        mqd_t cq = mq_open(name, O_WRONLY);
        res("child's notify", mq_notify(cq, &ev));
        _exit(mq_send(cq, "hello", 6, 1) == 0 ? 0 : 1);
    }
    siginfo_t si;
    int sig = sigwaitinfo(&usr1, &si);
    printf("signal %d code %s value %d from child %d\n", sig,
           si.si_code == SI_MESGQ ? "SI_MESGQ" : "other", si.si_value.sival_int,
           si.si_pid == c);
    int st;
    waitpid(c, &st, 0);
    printf("child: %d\n", WEXITSTATUS(st));
    char buf[32];
    unsigned prio;
    res("receive", mq_receive(q, buf, sizeof buf, &prio));
    // One notification per registration: the next message raises none.
    res("send", mq_send(q, "again", 6, 1));
    struct timespec zero = {0, 0};
    res("no second signal", sigtimedwait(&usr1, &si, &zero));
    res("receive", mq_receive(q, buf, sizeof buf, &prio));
    res("notify none", mq_notify(q, NULL));

    // glibc's SIGEV_THREAD: a helper thread fed by a netlink socket.
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = on_thread;
    ev.sigev_value.sival_int = 77;
    res("notify thread", mq_notify(q, &ev));
    res("send", mq_send(q, "t", 2, 1));
    pthread_mutex_lock(&mu);
    while (notified < 0)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    printf("thread got %d\n", notified);

    // Stores after the fact.
    void *bad = (void *)0x7ff0000000000000UL;
    res("receive bad prio ptr", syscall(SYS_mq_timedreceive, q, buf, 32, bad, NULL));
    res("getsetattr bad old", syscall(SYS_mq_getsetattr, q, NULL, bad));
    res("getsetattr bad new", syscall(SYS_mq_getsetattr, q, bad, NULL));
    res("notify bad ptr", syscall(SYS_mq_notify, q, bad));
    ev.sigev_notify = 99;
    res("notify bad kind", mq_notify(q, &ev));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = 99;
    res("notify bad signal", mq_notify(q, &ev));
    res("notify not a queue", mq_notify(1, NULL));
    mq_close(q);
    mq_unlink(name);

    // The IPC_64 bit (0x100): riscv64's glibc never sets it, and Linux
    // there takes it for an unknown command.
    int m = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    int s = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    int h = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    char ds[256];
    res("msgctl ipc64", syscall(SYS_msgctl, m, IPC_STAT | 0x100, ds));
    res("semctl ipc64", syscall(SYS_semctl, s, 0, IPC_STAT | 0x100, ds));
    res("shmctl ipc64", syscall(SYS_shmctl, h, IPC_STAT | 0x100, ds));
    res("msgctl", syscall(SYS_msgctl, m, IPC_RMID, 0));
    res("semctl", syscall(SYS_semctl, s, 0, IPC_RMID, 0));
    res("shmctl", syscall(SYS_shmctl, h, IPC_RMID, 0));
    return 0;
}
