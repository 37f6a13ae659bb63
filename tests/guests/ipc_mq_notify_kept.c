// mq_notify by signal with the signals pvm keeps on the host for itself:
// 64 (SIGRTMAX, which pvm uses to interrupt its own threads), SIGPIPE
// (a broken pipe's), and SIGUSR1 as a control. Each notice reaches the
// guest's handler as Linux gives it: si_code SI_MESGQ, the value asked
// for, the sender's pid (this process, which sent the message). A
// thread blocked in a read while another notice comes shows that pvm's
// own use of 64 still works.
//@ no-qemu: qemu-riscv64 7.2 has no mq_notify (ENOSYS); the expectation is the x86-64 build's native output
//@ cflags: -pthread
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile int got_signo, got_code, got_value, got_pid;

static void on_sig(int s, siginfo_t *si, void *uc) {
    (void)uc;
    got_signo = s;
    got_code = si->si_code;
    got_value = si->si_value.sival_int;
    got_pid = si->si_pid;
}

static int pipefd[2];

static void *reader(void *arg) {
    (void)arg;
    char c;
    long n = read(pipefd[0], &c, 1);
    return (void *)n;
}

static void notice(mqd_t q, int signo, int value) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(signo, &sa, NULL);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = signo;
    ev.sigev_value.sival_int = value;
    got_signo = 0;
    if (mq_notify(q, &ev) != 0) {
        printf("signal %d: mq_notify %s\n", signo, strerrorname_np(errno));
        return;
    }
    if (mq_send(q, "m", 1, 0) != 0)
        printf("mq_send %s\n", strerrorname_np(errno));
    for (int i = 0; i < 2000 && got_signo == 0; i++)
        usleep(1000);
    printf("signal %d: got %d, si_code %d (SI_MESGQ %d), value %d, from us %d\n", signo,
           got_signo, got_code, SI_MESGQ, got_value, got_pid == getpid());
    char buf[16];
    mq_receive(q, buf, sizeof buf, NULL);
}

int main(void) {
    char name[64];
    snprintf(name, sizeof name, "/pvm-notify-kept-%d", getpid());
    struct mq_attr a = {.mq_maxmsg = 4, .mq_msgsize = 8};
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
    if (q < 0)
        return 1;
    mq_unlink(name);
    notice(q, SIGUSR1, 11);
    notice(q, SIGRTMAX, 64);
    notice(q, SIGPIPE, 13);
    // A second thread blocked in read; a notice of 64 comes, then the
    // pipe is written: the read ends with the byte.
    pipe(pipefd);
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    usleep(20000);
    notice(q, SIGRTMAX, 65);
    write(pipefd[1], "x", 1);
    void *r;
    pthread_join(t, &r);
    printf("the reader read %ld\n", (long)r);
    return 0;
}
