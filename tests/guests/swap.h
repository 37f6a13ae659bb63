// Shared by the probes that race pvm's link walk against another process
// (esc_fd_linkrace.c, esc_fd_execrace.c, esc_fd_walkrace.c): a scratch
// directory, a child process (the flipper) that swaps pairs of names in it
// until it is killed, whether a swapped name is the link into /proc now,
// and the pairs of the last-component shape (fK: a link to nothing, gK: a
// link to /proc/self/fd/(lim+K)).
#ifndef SWAP_H
#define SWAP_H
#include "race.h"
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>

// Numbers past the guest's hard limit each shape tries (pvm's own are
// the lowest there).
#define SPAN 16

static char dir[64];
static int dirfd_;
// The pairs the flipper swaps: renameat2(RENAME_EXCHANGE), or, without
// `exchange`, a rename there and back (the second name is missing half
// the time).
static int nswap, exchange = 1;
static const char *swap_a[SPAN], *swap_b[SPAN];

// A new scratch directory from the mkdtemp template `tmpl`, open at
// dirfd_; 0, or -1 with errno.
static inline int swap_dir(const char *tmpl) {
    strcpy(dir, tmpl);
    if (!mkdtemp(dir))
        return -1;
    dirfd_ = open(dir, O_PATH | O_DIRECTORY);
    return dirfd_ < 0 ? -1 : 0;
}

// The flipper: a child process (under the GDB stub the guest's threads
// take turns on one host thread, processes do not), swapping until killed
// (or its parent ends: an exec that ran something else never kills it).
static inline pid_t flipper(void) {
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;)
        for (int i = 0; i < nswap; i++)
            if (exchange) {
                syscall(SYS_renameat2, dirfd_, swap_a[i], dirfd_, swap_b[i], 2 /* RENAME_EXCHANGE */);
            } else {
                renameat(dirfd_, swap_a[i], dirfd_, swap_b[i]);
                renameat(dirfd_, swap_b[i], dirfd_, swap_a[i]);
            }
}

// Is `probe` (relative to the directory, or absolute) the link into /proc
// now?
static inline int linked(const char *probe) {
    char t[64];
    ssize_t n = readlinkat(dirfd_, probe, t, sizeof t);
    return n > 5 && memcmp(t, "/proc", 5) == 0;
}

// The last-component pairs, swapped: fK (names[2K]) a link to `gone`, gK
// (names[2K+1]) a link to /proc/self/fd/(lim+K).
static inline void link_pairs(char names[][16], int lim, const char *gone) {
    for (int k = 0; k < SPAN; k++) {
        sprintf(names[2 * k], "f%d", k);
        sprintf(names[2 * k + 1], "g%d", k);
        symlinkat(gone, dirfd_, names[2 * k]);
        char t[64];
        sprintf(t, "/proc/self/fd/%d", lim + k);
        symlinkat(t, dirfd_, names[2 * k + 1]);
        swap_a[k] = names[2 * k], swap_b[k] = names[2 * k + 1];
    }
    nswap = SPAN;
}
#endif
