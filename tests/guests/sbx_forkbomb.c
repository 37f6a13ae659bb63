// --sandbox's default process limit (64) contains a fork bomb: every
// process forks two children down to depth 10 (2047 processes without a
// limit); forks past the limit fail with EAGAIN, the tree ends and pvm
// stays responsive.
//@ variants: static
//@ pvm-args: --sandbox
//@ no-qemu: qemu-riscv64 has no process limit of its own
#include <errno.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

// Exit status: 1 if a fork in this subtree failed with EAGAIN.
static int bomb(int depth) {
    int failed = 0;
    pid_t kids[2];
    int n = 0;
    if (depth > 0) {
        for (int i = 0; i < 2; i++) {
            pid_t p = fork();
            if (p == 0)
                _exit(bomb(depth - 1));
            if (p < 0)
                failed |= errno == EAGAIN;
            else
                kids[n++] = p;
        }
    }
    for (int i = 0; i < n; i++) {
        int st = 0;
        waitpid(kids[i], &st, 0);
        failed |= WIFEXITED(st) && WEXITSTATUS(st) == 1;
    }
    return failed;
}

int main(void) {
    int failed = bomb(10);
    printf("fork bomb contained: %s\n", failed ? "yes" : "no");
    return 0;
}
