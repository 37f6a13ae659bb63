// A signal that arrives while a process is in execve is not lost: its
// default action (terminate) takes the process, in the old image or the
// new one. The child execs itself again and again, each time with 1 MiB
// of arguments (execve's work before the point of no return takes a while);
// the parent sends one SIGTERM at a moment that moves across the chain,
// and the child must die of it every time, never finish the chain.
//@ no-qemu: qemu-riscv64 cannot execve a RISC-V program without binfmt_misc; the expectation is this program's output built for the host and run natively
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 40
#define TRIALS 24
#define PIECES 10
#define PIECE 100000

static char big[PIECE + 1];

static void chain(char *self, int left) {
    if (left == 0)
        _exit(0); // the chain ended: the SIGTERM was lost
    char n[16];
    snprintf(n, sizeof n, "%d", left - 1);
    char *argv[3 + PIECES + 1] = {self, "chain", n};
    for (int i = 0; i < PIECES; i++)
        argv[3 + i] = big;
    execv("/proc/self/exe", argv);
    perror("execv");
    _exit(2);
}

int main(int argc, char **argv) {
    memset(big, 'x', PIECE);
    if (argc > 2 && strcmp(argv[1], "chain") == 0)
        chain(argv[0], atoi(argv[2]));
    int killed = 0, finished = 0, other = 0;
    for (int t = 0; t < TRIALS; t++) {
        pid_t pid = fork();
        if (pid == 0)
            chain(argv[0], ROUNDS);
        // From 1 ms to about 50 ms into the chain.
        struct timespec d = {0, 1000000L + t * 2000000L};
        nanosleep(&d, NULL);
        kill(pid, SIGTERM);
        int st;
        waitpid(pid, &st, 0);
        if (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM)
            killed++;
        else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            finished++;
        else
            other++;
    }
    printf("killed by SIGTERM: %d of %d, chain finished: %d, other: %d\n", killed, TRIALS,
           finished, other);
    return 0;
}
