// A standard descriptor the parent closes stays closed in the program it
// runs: posix_spawn with a close action, and fork + close + execve, of this
// same program (a RISC-V guest: under pvm, a new pvm), which reports what
// it finds at descriptors 0, 1 and 2.
//@ no-qemu: qemu-riscv64 cannot execve a RISC-V program without binfmt_misc; the expectation is the output of this program built for the host and run natively
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void report(void) {
    char line[128];
    int n = 0;
    for (int fd = 0; fd < 3; fd++) {
        struct stat st;
        int r = fstat(fd, &st);
        n += snprintf(line + n, sizeof line - n, " fd%d %s", fd, r == 0 ? "open" : strerror(errno));
    }
    /* stdout may be the closed one: report on whichever is open */
    int out = fcntl(1, F_GETFD) >= 0 ? 1 : 2;
    dprintf(out, "child:%s\n", line);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        report();
        return 0;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    char self[4096];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    self[k > 0 ? k : 0] = 0;
    char *args[] = {argv[0], "child", NULL};
    for (int fd = 0; fd < 2; fd++) {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addclose(&fa, fd);
        pid_t pid;
        int r = posix_spawn(&pid, self, &fa, NULL, args, environ);
        int st = 0;
        if (r == 0) waitpid(pid, &st, 0);
        printf("spawn closing fd%d: %s, status %d\n", fd, r ? strerror(r) : "ok", WEXITSTATUS(st));
        posix_spawn_file_actions_destroy(&fa);
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(0);
        fcntl(2, F_SETFD, FD_CLOEXEC);
        execv(self, args);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("fork+exec closing fd0, fd2 close-on-exec: status %d\n", WEXITSTATUS(st));
    return 0;
}
