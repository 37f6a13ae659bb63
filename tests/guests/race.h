// Shared by the --sandbox exec race probes (sbx_exec_race.c,
// sbx_interp_race.c): a child process swaps two names with
// renameat2(RENAME_EXCHANGE) in a tight loop while the probe runs "x"
// ("x child", which exits 7) again and again in a child of its own, and
// counts how each run ended: it ran (7), the execve refused it (8), or
// anything else (a new pvm that got a file the check did not see).
// Also what the probes that rewrite their own PT_INTERP share
// (esc_fd_execrace.c).
#ifndef RACE_H
#define RACE_H
#define _GNU_SOURCE
#include "esc.h"
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

// This program's own file (in *image, its length in *len) and the
// dynamic linker its PT_INTERP names, inside it; NULL for a program
// without one, or one that cannot be read.
static inline char *self_interp(char **image, size_t *len) {
    char *me = slurp("/proc/self/exe", len);
    *image = me;
    if (!me)
        return NULL;
    Elf64_Ehdr *eh = (Elf64_Ehdr *)me;
    for (int i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr *ph = (Elf64_Phdr *)(me + eh->e_phoff + i * eh->e_phentsize);
        if (ph->p_type == PT_INTERP)
            return me + ph->p_offset;
    }
    return NULL;
}

// A new executable file `path` holding `n` bytes of `b`.
static inline int spit(const char *path, const char *b, size_t n) {
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    if (fd < 0)
        return -1;
    write(fd, b, n);
    return close(fd);
}

struct runs {
    long ran, refused, other;
};

// Race: swap `a` and `b` in a child process while running "x child" in
// a child each time; a failed execve is a refusal when it failed with
// `refused_errno` (any errno when 0). Bounded: 0.8 s once both a run and
// a refusal came by, 8 s at most.
static inline struct runs exec_race(const char *a, const char *b, int refused_errno) {
    pid_t flipper = fork();
    if (flipper == 0)
        for (;;)
            syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */);
    struct runs r = {0, 0, 0};
    double start = now(), t;
    while ((t = now()) < start + 8) {
        if (r.ran && r.refused && t > start + 0.8)
            break;
        pid_t c = fork();
        if (c == 0) {
            execv("x", (char *[]){"x", "child", NULL});
            _exit(!refused_errno || errno == refused_errno ? 8 : 9);
        }
        int st;
        waitpid(c, &st, 0);
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (code == 7)
            r.ran++;
        else if (code == 8)
            r.refused++;
        else
            r.other++;
    }
    kill(flipper, SIGKILL);
    waitpid(flipper, NULL, 0);
    return r;
}
#endif
