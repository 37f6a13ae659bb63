// --max-processes: the whole guest tree holds at most N processes; past
// it fork fails with EAGAIN (as RLIMIT_NPROC gives), and a process that
// ended frees its place.
//@ variants: static
//@ pvm-args: --max-processes 6
//@ no-qemu: qemu-riscv64 has no process limit of its own
#include "sbx.h"
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    pid_t kids[16];
    int n = 0;
    setvbuf(stdout, NULL, _IONBF, 0);
    for (; n < 16; n++) {
        pid_t p = fork();
        if (p == 0) {
            pause();
            _exit(0);
        }
        if (p < 0) {
            printf("fork %d: %s\n", n + 1, errname(errno));
            break;
        }
        kids[n] = p;
    }
    printf("children: %d\n", n);
    // A grandchild counts too: a child's fork fails now.
    kill(kids[0], SIGTERM);
    waitpid(kids[0], NULL, 0);
    pid_t p = fork();
    if (p < 0)
        printf("fork after one ended: %s\n", errname(errno));
    if (p == 0) {
        pid_t q = fork();
        printf("grandchild fork: %s\n", q < 0 ? errname(errno) : "ok");
        if (q == 0)
            _exit(0);
        _exit(0);
    }
    waitpid(p, NULL, 0);
    printf("fork after one ended: ok\n");
    for (int i = 1; i < n; i++) {
        kill(kids[i], SIGTERM);
        waitpid(kids[i], NULL, 0);
    }
    return 0;
}
