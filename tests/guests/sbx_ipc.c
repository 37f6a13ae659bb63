// --sandbox: System V IPC objects are the host's, reachable by key or id
// from any process of the user (another program's shared memory, its
// queues and semaphores), so the sandboxed guest gets none: every call
// answers ENOSYS, as a kernel built without CONFIG_SYSVIPC, which
// programs already handle. POSIX message queues live in the host's
// mqueue file system, which the sandbox does not allow (EACCES).
//@ variants: static
//@ pvm-args: --sandbox
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is Linux's answer under pvm's rules
#define _GNU_SOURCE
#include "sbx.h"
#include <fcntl.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

int main(void) {
    struct shmid_ds ds;
    char m[16] = {1};
    struct sembuf op = {0, 1, 0};
    SHOW("shmget private", shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600));
    SHOW("shmget by key", shmget(0x50766d, 4096, 0));
    SHOW("shm_info", shmctl(0, SHM_INFO, &ds));
    SHOW("shm_stat index 0", shmctl(0, SHM_STAT_ANY, &ds));
    SHOW("shmat id 0", (long)shmat(0, NULL, 0));
    SHOW("shmctl rmid id 0", shmctl(0, IPC_RMID, NULL));
    SHOW("msgget private", msgget(IPC_PRIVATE, IPC_CREAT | 0600));
    SHOW("msgsnd id 0", msgsnd(0, m, 4, IPC_NOWAIT));
    SHOW("msgrcv id 0", msgrcv(0, m, 4, 0, IPC_NOWAIT));
    SHOW("msgctl rmid id 0", msgctl(0, IPC_RMID, NULL));
    SHOW("semget private", semget(IPC_PRIVATE, 1, IPC_CREAT | 0600));
    SHOW("semop id 0", semop(0, &op, 1));
    SHOW("semctl rmid id 0", semctl(0, 0, IPC_RMID));
    SHOW("mq_open", mq_open("/pvm-sbx-ipc", O_RDWR | O_CREAT, 0600, NULL));
    SHOW("mq_unlink", mq_unlink("/pvm-sbx-ipc"));
    return 0;
}
