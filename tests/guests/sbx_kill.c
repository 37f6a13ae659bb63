// --sandbox: signals reach only the guest's own processes: kill of init,
// of pvm's parent, of every process (signal 0 only: never a real one
// here) is EPERM; the guest's own children and itself are fine.
//@ variants: static
//@ pvm-args: --sandbox
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is Linux's answer under pvm's rules
#define _GNU_SOURCE
#include "sbx.h"
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    SHOW("kill 1 SIGCONT", kill(1, SIGCONT));
    SHOW("kill 1 sig 0", kill(1, 0));
    SHOW("kill parent sig 0", kill(getppid(), 0));
    SHOW("kill -1 sig 0", kill(-1, 0));
    SHOW("kill self sig 0", kill(getpid(), 0));
    // pidfd_send_signal follows the same rule.
    int init = syscall(SYS_pidfd_open, 1, 0);
    SHOW("pidfd_open 1", init);
    SHOW("pidfd_send_signal 1 sig 0", syscall(SYS_pidfd_send_signal, init, 0, NULL, 0));
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    SHOW("kill child sig 0", kill(pid, 0));
    int child = syscall(SYS_pidfd_open, pid, 0);
    SHOW("pidfd_send_signal child sig 0", syscall(SYS_pidfd_send_signal, child, 0, NULL, 0));
    SHOW("kill child SIGTERM", kill(pid, SIGTERM));
    int status = 0;
    waitpid(pid, &status, 0);
    printf("child killed by: %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return 0;
}
