// --sandbox: the program an execve runs is the file pvm checked. pvm checks
// the program (readable under the rules, a RISC-V program) and then starts
// a new pvm for it; that pvm used to be given the path only, open it again
// and make whatever it named then its program's allowed place. Here a
// child process swaps "x" between a copy of this program and a link to
// /bin/true (outside the allowed directory, not a RISC-V program) with
// renameat2(RENAME_EXCHANGE) in a tight loop, while the probe runs "x"
// again and again: each run either is this program (status 7) or is
// refused by the execve (EACCES: status 8). Anything else is a new pvm
// that got a file the check did not see (it loaded /bin/true, or failed
// to: 126). Bounded: 0.8 s once both outcomes came by, 8 s at most.
//@ variants: static
//@ pvm-args: --sandbox --allow-write {dir}
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is Linux's answer under pvm's rules
#define _GNU_SOURCE
#include "sbx.h"
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "child"))
        return 7;
    // x: a copy of this program; y: a link out.
    int in = open("/proc/self/exe", O_RDONLY);
    int out = open("x", O_CREAT | O_WRONLY, 0755);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        write(out, buf, n);
    close(in);
    close(out);
    symlink("/bin/true", "y");
    pid_t flipper = fork();
    if (flipper == 0)
        for (;;)
            syscall(SYS_renameat2, AT_FDCWD, "x", AT_FDCWD, "y", 2 /* RENAME_EXCHANGE */);
    long ran = 0, refused = 0, other = 0;
    double start = now(), t;
    while ((t = now()) < start + 8) {
        if (ran && refused && t > start + 0.8)
            break;
        pid_t c = fork();
        if (c == 0) {
            execv("x", (char *[]){"x", "child", NULL});
            _exit(errno == EACCES ? 8 : 9);
        }
        int st;
        waitpid(c, &st, 0);
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (code == 7)
            ran++;
        else if (code == 8)
            refused++;
        else
            other++;
    }
    kill(flipper, SIGKILL);
    waitpid(flipper, NULL, 0);
    printf("ran: %s, refused: %s, a file the check did not see: %ld\n", ran ? "yes" : "no",
           refused ? "yes" : "no", other);
    return 0;
}
