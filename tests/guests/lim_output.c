// --max-output: the guest's bytes to stdout and stderr (all its processes
// together) stop at the limit: exactly 1000 bytes arrive, then the guest
// is ended with status 204.
//@ variants: static
//@ pvm-args: --max-output 1000
//@ status: 204
//@ no-qemu: qemu-riscv64 has no output limit
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    char line[51];
    memset(line, 'x', 49);
    line[49] = '\n';
    // A child writes the first 400 bytes, through a duplicate of stdout.
    pid_t p = fork();
    if (p == 0) {
        int fd = dup(1);
        for (int i = 0; i < 8; i++)
            write(fd, line, 50);
        _exit(0);
    }
    waitpid(p, NULL, 0);
    for (int i = 0; i < 100; i++)
        write(1, line, 50);
    return 1;
}
