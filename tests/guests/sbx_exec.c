// --sandbox: a host (x86-64) program cannot be run, even from an allowed
// directory; a RISC-V program (this one, again) can, and the pvm that
// runs it keeps the sandbox (it still cannot read /etc/passwd).
//@ variants: static
//@ pvm-args: --sandbox --allow-read /usr/bin
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is Linux's answer under pvm's rules
#define _GNU_SOURCE
#include "sbx.h"
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc > 1) {
        SHOW("child: open /etc/passwd", open("/etc/passwd", O_RDONLY));
        SHOW("child: execve /usr/bin/true", execl("/usr/bin/true", "true", (char *)0));
        return 7;
    }
    SHOW("execve /usr/bin/true", execl("/usr/bin/true", "true", (char *)0));
    SHOW("execve /bin/sh", execl("/bin/sh", "sh", "-c", "true", (char *)0));
    SHOW("execve /etc/passwd", execl("/etc/passwd", "x", (char *)0));
    pid_t pid = fork();
    if (pid == 0) {
        execl(argv[0], argv[0], "child", (char *)0);
        printf("re-exec: %s\n", errname(errno));
        _exit(9);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    printf("child exit: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}
