// fexecve of this same program through a close-on-exec descriptor (as
// CPython opens every file): the kernel opens the file before it closes
// such descriptors, so the exec works, and the descriptor is gone in the
// new program.
//@ no-qemu: qemu-riscv64 cannot execve a RISC-V program without binfmt_misc; the expectation is the output of this program built for the host and run natively
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc > 2) {
        int fd = atoi(argv[2]);
        printf("child ran; its descriptor %d is %s\n", fd,
               fcntl(fd, F_GETFD) < 0 ? "closed" : "open");
        return 0;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    char num[16];
    snprintf(num, sizeof num, "%d", fd);
    char *args[] = {argv[0], "child", num, NULL};
    pid_t pid = fork();
    if (pid == 0) {
        fexecve(fd, args, environ);
        printf("fexecve failed: %s\n", strerror(errno));
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("status %d\n", WEXITSTATUS(st));
    return 0;
}
