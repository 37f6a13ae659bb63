// --sandbox holds descriptors of its own (the allowed roots, from 900 up)
// in the guest's table. For the guest they are not open: every call that
// names one, in any argument, inside a structure or through its
// /proc/self/fd entry, must answer exactly what it answers for a number
// that is not open. For each call this compares the answer for every
// number from 880 to 1023 with the answer for 880 (never open here).
//@ variants: static
//@ pvm-args: --sandbox --allow-write {dir}
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is that pvm's descriptors look closed
#define _GNU_SOURCE
#include "sbx.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define FIRST 880
#define LAST 1023

static int procfd; // open("/proc/self/fd") or -1

// The answer as text: "ok" (with a value where it says something) or the errno.
static const char *ans(long r) {
    static char b[64];
    if (r < 0)
        return errname(errno);
    snprintf(b, sizeof b, "ok");
    return b;
}

static const char *call(int what, int n) {
    static char out[128];
    char p[96], q[96];
    struct stat st;
    struct statfs sf;
    long r;
    snprintf(p, sizeof p, "/proc/self/fd/%d", n);
    snprintf(q, sizeof q, "/proc/self/fd/%d/x", n);
    errno = 0;
    switch (what) {
    case 0: r = syscall(SYS_finit_module, n, "", 0); break;
    case 1: r = syscall(SYS_open_tree, n, "x", 0); break;
    case 2: r = syscall(SYS_fspick, n, "x", 0); break;
    case 3: r = waitid(P_PIDFD, n, NULL, WEXITED | WNOHANG); break;
    case 4: r = openat(n, "x", O_RDONLY); break;
    case 5: r = fstatat(n, "", &st, AT_EMPTY_PATH); break;
    case 6: r = stat(p, &st); break;
    case 7: r = open(p, O_RDONLY); if (r >= 0) close(r); break;
    case 8: r = chmod(p, 0755); break;
    case 9: r = truncate(p, 0); break;
    case 10: { int in = inotify_init1(0); r = inotify_add_watch(in, p, IN_ALL_EVENTS); close(in); break; }
    case 11: r = mkdir(p, 0700); break;
    case 12: r = rmdir(p); break;
    case 13: r = readlink(p, q, sizeof q); break;
    case 14: r = chdir(p); break;
    case 15: r = statfs(p, &sf); break;
    case 16: r = getxattr(p, "user.x", q, sizeof q); break;
    case 17: r = utimensat(AT_FDCWD, p, NULL, 0); break;
    case 18: r = fchownat(AT_FDCWD, p, 0, 0, 0); break;
    case 19: r = linkat(AT_FDCWD, p, AT_FDCWD, "lnk", AT_SYMLINK_FOLLOW); unlink("lnk"); break;
    case 20: r = stat(q, &st); break;
    case 21: r = open(q, O_RDONLY); if (r >= 0) close(r); break;
    case 22: snprintf(q, sizeof q, "%d", n); r = procfd < 0 ? -1 : fstatat(procfd, q, &st, 0); break;
    case 23: r = access(p, F_OK); break;
    case 24: { char *av[] = {"x", NULL}; r = execve(p, av, av + 1); break; }
    case 25: r = syscall(SYS_statx, AT_FDCWD, p, 0, 0xfff, q); break;
    case 26: { struct pollfd f = {n, POLLIN, 0}; r = poll(&f, 1, 0); snprintf(out, sizeof out, "%s %x", ans(r), f.revents); return out; }
    case 27: { fd_set s; FD_ZERO(&s); FD_SET(n, &s); struct timeval t = {0, 0}; r = select(n + 1, &s, NULL, NULL, &t); break; }
    case 28: { int e = epoll_create1(0); struct epoll_event ev = {EPOLLIN, {0}}; r = epoll_ctl(e, EPOLL_CTL_ADD, n, &ev); close(e); break; }
    default: return NULL;
    }
    snprintf(out, sizeof out, "%s", ans(r));
    return out;
}

static const char *names[] = {
    "finit_module", "open_tree", "fspick", "waitid P_PIDFD", "openat dirfd",
    "fstatat empty path", "stat fd entry", "open fd entry", "chmod fd entry",
    "truncate fd entry", "inotify_add_watch fd entry", "mkdir fd entry",
    "rmdir fd entry", "readlink fd entry", "chdir fd entry", "statfs fd entry",
    "getxattr fd entry", "utimensat fd entry", "fchownat fd entry",
    "linkat fd entry", "stat below fd entry", "open below fd entry",
    "fstatat in /proc/self/fd", "access fd entry", "execve fd entry",
    "statx fd entry", "poll", "select", "epoll_ctl add",
};

int main(void) {
    procfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    int open_n = 0;
    for (int n = FIRST; n <= LAST; n++)
        if (fcntl(n, F_GETFD) >= 0)
            open_n++;
    printf("open from %d to %d: %d\n", FIRST, LAST, open_n);
    for (int w = 0; call(w, FIRST); w++) {
        char ref[128];
        snprintf(ref, sizeof ref, "%s", call(w, FIRST));
        int same = 1;
        for (int n = FIRST + 1; n <= LAST && same; n++)
            if (strcmp(call(w, n), ref))
                same = 0;
        printf("%s: %s\n", names[w], same ? "as for a closed number" : "differs");
        fflush(stdout);
    }
    return 0;
}
