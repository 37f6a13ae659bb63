// A child that becomes another user (setresgid, setresuid, as
// subprocess's user= and group= do) and then execs a RISC-V program: the
// new program runs as that user. pvm's tree state (a System V segment of
// the first user's, mode 0600) cannot be attached by the new user; a
// tree without limits goes on without it. Needs root to change users:
// as another user it prints "not root" and fails.
//@ no-qemu: qemu-riscv64 cannot execve a RISC-V program without binfmt_misc; the expectation is the output of this program built for the host and run natively
#define _GNU_SOURCE
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("child: uid %d euid %d gid %d\n", (int)getuid(), (int)geteuid(), (int)getgid());
        return 7;
    }
    if (geteuid() != 0) {
        printf("not root\n");
        return 1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
            setresuid(65534, 65534, 65534) != 0) {
            perror("set ids");
            _exit(1);
        }
        char *args[] = {argv[0], "child", NULL};
        execv("/proc/self/exe", args);
        perror("execv");
        _exit(1);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("parent: child %s %d\n", WIFEXITED(st) ? "exited" : "killed",
           WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    return 0;
}
