// --timeout: a guest blocked in a system call (and its child, blocked
// too) is ended at the deadline: status 203 for the whole tree.
//@ variants: static
//@ pvm-args: --timeout 1
//@ status: 203
//@ no-qemu: qemu-riscv64 has no wall-clock limit
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    printf("sleeping\n");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        sleep(30);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("woke up (the limit did not hold)\n");
    return 1;
}
