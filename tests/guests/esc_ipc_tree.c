// pvm keeps the limits of a process tree in a System V shared memory
// segment of its own (created by this very process, the tree's first):
// the guest must not find, attach, change or remove it. Every segment
// the kernel lists is looked at; none may have been created by this
// process before the guest made one.
//@ pvm-args: --max-processes 16
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

int main(void) {
    struct shm_info info;
    int max = shmctl(0, SHM_INFO, (struct shmid_ds *)&info);
    int mine = 0, attached = 0, removed = 0;
    for (int i = 0; i <= max; i++) {
        struct shmid_ds ds;
        int id = shmctl(i, SHM_STAT_ANY, &ds);
        if (id < 0 || ds.shm_cpid != getpid())
            continue;
        mine++;
        void *p = shmat(id, NULL, 0);
        if (p != (void *)-1) {
            attached++;
            shmdt(p);
        }
        if (shmctl(id, IPC_RMID, NULL) == 0)
            removed++;
    }
    printf("segments of mine: %d, attached %d, removed %d\n", mine, attached, removed);
    // Nor by guessing ids near one of the guest's own.
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    int found = 0;
    for (int d = -4096; d <= 4096; d++) {
        struct shmid_ds ds;
        if (d != 0 && id + d >= 0 && shmctl(id + d, IPC_STAT, &ds) == 0 &&
            ds.shm_cpid == getpid())
            found++;
    }
    printf("found by guessing: %d\n", found);
    shmctl(id, IPC_RMID, NULL);
    return 0;
}
