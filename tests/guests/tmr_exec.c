// execve deletes the process's POSIX timers, even an armed one: the new
// image finds no timer by the old id, and no SIGALRM comes (its default
// action would kill it). The timer is armed for half a second so that a
// slow execve (the unikernel under TCG on a loaded machine takes tens of
// milliseconds) still deletes it before it fires: a timer that fires first
// leaves a SIGALRM pending, which execve keeps, on Linux too.
//@ no-qemu: qemu-riscv64 cannot execve a RISC-V program without binfmt_misc; the expectation is the output of this program built for the host and run natively
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct itimerspec cur;
    if (argc == 3 && strcmp(argv[1], "exec") == 0) {
        timer_t t = (timer_t)(intptr_t)atoi(argv[2]);
        int r = timer_gettime(t, &cur);
        printf("after execve: gettime of the old timer: %s\n",
               r == 0 ? "ok" : errno == EINVAL ? "EINVAL" : strerror(errno));
        usleep(800000);
        printf("after execve: no SIGALRM came\n");
        return 0;
    }
    timer_t t;
    printf("timer_create: %s\n", timer_create(CLOCK_MONOTONIC, NULL, &t) == 0 ? "ok" : "failed");
    struct itimerspec v = {.it_value = {0, 500 * 1000000}};
    printf("armed for 500 ms: %s\n", timer_settime(t, 0, &v, NULL) == 0 ? "ok" : "failed");
    char id[16];
    snprintf(id, sizeof id, "%d", (int)(intptr_t)t);
    execl("/proc/self/exe", argv[0], "exec", id, (char *)NULL);
    printf("execl failed: %s\n", strerror(errno));
    return 1;
}
