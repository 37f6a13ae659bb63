// IPC calls given guest memory on a page gone past its file's end (a file
// mapping longer than its file) answer as Linux does: msgsnd and
// mq_send whose message reaches into the page fail with EFAULT and queue
// nothing; a msgrcv or mq_receive into it fails with EFAULT (the message
// is taken off the queue first, and lost); a write from it is EFAULT.
// No signal is raised and the program goes on.
// (An x86-64 build of this file gives the same output natively.)
//@ no-qemu: qemu-riscv64 itself dies in its own copies of such memory (an assertion in cpu_exec after the host SIGBUS); the expectation is the x86-64 build's native output
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <unistd.h>
#include "ipc.h"
#include "sig_bus.h"

int main(void) {
    char *gone = gone_page("sigbus_ipc.bin", NULL), *end = gone - 16; // 16 bytes before it

    int p[2];
    if (pipe(p))
        return 3;
    res("write from the gone page", write(p[1], gone, 8));

    int q = msgget(IPC_PRIVATE, 0600);
    if (q < 0)
        return 4;
    long *ty = (long *)end;
    *ty = 1; // the type inside the file, the text reaching into the gone page
    res("msgsnd, text across into the gone page", msgsnd(q, end, 32, IPC_NOWAIT));
    res("msgsnd, text inside the file", msgsnd(q, end, 8, IPC_NOWAIT));
    struct msqid_ds ds;
    msgctl(q, IPC_STAT, &ds);
    printf("messages queued: %ld\n", (long)ds.msg_qnum);
    res("msgrcv into the gone page", msgrcv(q, gone, 8, 0, IPC_NOWAIT));
    msgctl(q, IPC_STAT, &ds);
    printf("messages queued after: %ld\n", (long)ds.msg_qnum);
    msgctl(q, IPC_RMID, NULL);

    struct mq_attr a = {.mq_maxmsg = 4, .mq_msgsize = 64};
    mqd_t mq = mq_open("/pvm_sigbus_ipc", O_RDWR | O_CREAT | O_NONBLOCK, 0600, &a);
    if (mq == (mqd_t)-1) {
        res("mq_open", -1);
        return 5;
    }
    mq_unlink("/pvm_sigbus_ipc");
    res("mq_send from the gone page", mq_send(mq, gone, 8, 1));
    res("mq_send across into the gone page", mq_send(mq, end, 32, 1));
    res("mq_send inside the file", mq_send(mq, end, 16, 1));
    mq_getattr(mq, &a);
    printf("mq messages: %ld\n", a.mq_curmsgs);
    unsigned prio = 0;
    res("mq_receive into the gone page", mq_receive(mq, gone, 64, &prio));
    mq_getattr(mq, &a);
    printf("mq messages after: %ld\n", a.mq_curmsgs);
    mq_close(mq);
    printf("still running\n");
    return 0;
}
