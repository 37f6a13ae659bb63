// The calls the own-descriptor probes make (tests/guests/sbx_ownfd_calls.c
// under --sandbox, tests/gdb/gdbfds.c under the GDB stub): each names a
// descriptor number in an argument, inside a structure or through its
// /proc/self/fd entry. pvm's own descriptors (above the hard
// RLIMIT_NOFILE the guest is shown; from 900 up before) must get, for
// every call, the answer a number that is not open gets (FIRST, never
// open in these guests): each call is made on FIRST..LAST and on the 128
// numbers from the hard limit up. Calls that would change a file if they reached
// one of pvm's (chmod, truncate, execve...) are `harmful`: only the
// sandbox probe makes them, whose descriptors are its roots' and whose
// rules refuse those calls anyway. The link calls make their links in the
// working directory (which must be writable) and remove them again.
#ifndef OWNFD_CALLS_H
#define OWNFD_CALLS_H
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define FIRST 880
#define LAST 1023

static int procfd = -1; // open("/proc/self/fd")

// The answer as text: "ok" or the errno's name.
static const char *ans(long r) {
    if (r < 0) {
        const char *s = strerrorname_np(errno);
        return s ? s : "E?";
    }
    return "ok";
}

// An AF_UNIX address call naming `path`: 0 connect, 1 bind (a stream
// socket), 2 sendto, 3 sendmsg (a datagram socketpair, which --sandbox
// allows).
static long unix_addr(int n, int how, const char *path) {
    (void)n;
    struct sockaddr_un a = {AF_UNIX, ""};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    long r;
    if (how < 2) {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (s < 0)
            return s;
        r = how ? bind(s, (struct sockaddr *)&a, sizeof a) : connect(s, (struct sockaddr *)&a, sizeof a);
        int e = errno;
        close(s);
        errno = e;
        return r;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
        return -1;
    if (how == 2) {
        r = sendto(sv[0], "x", 1, MSG_DONTWAIT, (struct sockaddr *)&a, sizeof a);
    } else {
        struct iovec iov = {"x", 1};
        struct msghdr m = {.msg_name = &a, .msg_namelen = sizeof a, .msg_iov = &iov, .msg_iovlen = 1};
        r = sendmsg(sv[0], &m, MSG_DONTWAIT);
    }
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    errno = e;
    return r;
}

// Call `what` (0, 1, ...) on number `n`: its answer, or NULL past the last.
static const char *call(int what, int n) {
    static char out[128];
    char p[96], q[96], sx[256]; // sx: a struct statx
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
    case 25: r = syscall(SYS_statx, AT_FDCWD, p, 0, 0xfff, sx); break;
    case 26: { struct pollfd f = {n, POLLIN, 0}; r = poll(&f, 1, 0); snprintf(out, sizeof out, "%s %x", ans(r), f.revents); return out; }
    case 27: {
        // A bitmap as big as it takes (past FD_SETSIZE too).
        unsigned long *s = calloc(n / 64 + 1, sizeof *s);
        s[n / 64] |= 1UL << (n % 64);
        struct timespec t = {0, 0};
        r = syscall(SYS_pselect6, n + 1, s, NULL, NULL, &t, NULL);
        free(s);
        break;
    }
    case 28: { int e = epoll_create1(0); struct epoll_event ev = {EPOLLIN, {0}}; r = epoll_ctl(e, EPOLL_CTL_ADD, n, &ev); close(e); break; }
    case 29: { int s[2]; socketpair(AF_UNIX, SOCK_DGRAM, 0, s); r = setsockopt(s[0], SOL_SOCKET, SO_ATTACH_BPF, &n, sizeof n); close(s[0]); close(s[1]); break; }
    // Symbolic links the guest makes (in its working directory) to the
    // entry, to the directories above it, and chains of them.
    case 30: symlink(p, "lnk"); r = stat("lnk", &st); unlink("lnk"); break;
    case 31: symlink(p, "lnk"); r = open("lnk", O_RDONLY); if (r >= 0) close(r); unlink("lnk"); break;
    case 32: symlink(p, "lnk"); r = open("lnk", O_PATH); if (r >= 0) close(r); unlink("lnk"); break;
    case 33: symlink(p, "lnk"); symlink("lnk", "lnk2"); r = access("lnk2", F_OK); unlink("lnk2"); unlink("lnk"); break;
    case 34: symlink("/proc/self/fd", "lnkd"); snprintf(q, sizeof q, "lnkd/%d", n); r = readlink(q, p, sizeof p); unlink("lnkd"); break;
    case 35: symlink("/proc/self/fd", "lnkd"); snprintf(q, sizeof q, "lnkd/%d", n); r = stat(q, &st); unlink("lnkd"); break;
    case 36: symlink("/dev/fd", "lnkd"); snprintf(q, sizeof q, "lnkd/%d", n); r = stat(q, &st); unlink("lnkd"); break;
    case 37: symlink("/proc/self", "lnkd"); snprintf(q, sizeof q, "lnkd/fd/%d", n); r = open(q, O_RDONLY); if (r >= 0) close(r); unlink("lnkd"); break;
    case 38: symlink("/proc", "lnkd"); snprintf(q, sizeof q, "lnkd/self/fd/%d/x", n); r = stat(q, &st); unlink("lnkd"); break;
    case 39: snprintf(q, sizeof q, "../../../../../../../../proc/self/fd/%d", n); symlink(q, "lnk"); r = syscall(SYS_statx, AT_FDCWD, "lnk", 0, 0xfff, sx); unlink("lnk"); break;
    case 40: symlink(p, "lnk"); r = statfs("lnk", &sf); unlink("lnk"); break;
    // AF_UNIX addresses that name the entry (directly, below it, through
    // a link).
    case 42: r = unix_addr(n, 0, p); break;
    case 43: r = unix_addr(n, 1, p); break;
    case 44: r = unix_addr(n, 2, p); break;
    case 45: r = unix_addr(n, 3, p); break;
    case 46: r = unix_addr(n, 0, q); break;
    case 47: r = unix_addr(n, 2, q); break;
    case 48: symlink(p, "lnk"); r = unix_addr(n, 0, "lnk"); unlink("lnk"); break;
    case 49: symlink(p, "lnk"); r = unix_addr(n, 3, "lnk"); unlink("lnk"); break;
    case 41: symlink(p, "lnk"); { char *av[] = {"x", NULL}; r = execve("lnk", av, av + 1); } unlink("lnk"); break;
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
    "statx fd entry", "poll", "select", "epoll_ctl add", "SO_ATTACH_BPF",
    "stat link to fd entry", "open link to fd entry", "open O_PATH link to fd entry",
    "access link to link to fd entry", "readlink through link to fd dir",
    "stat through link to fd dir", "stat through link to /dev/fd",
    "open through link to /proc/self", "stat below, through link to /proc",
    "statx relative link to fd entry", "statfs link to fd entry",
    "execve link to fd entry",
    "connect to fd entry", "bind to fd entry", "sendto fd entry",
    "sendmsg to fd entry", "connect below fd entry", "sendto below fd entry",
    "connect to link to fd entry", "sendmsg to link to fd entry",
};

// Calls that change what they reach (see above).
static inline int harmful(int what) {
    return what == 8 || what == 9 || what == 17 || what == 18 || what == 19 || what == 24 || what == 41;
}

// The numbers `open` gives with a soft RLIMIT_NOFILE of 1100, until it
// fails: on Linux the lowest free ones, skipping only those already open,
// up to EMFILE at 1100 (pvm's own descriptors must not take any).
static const char *consecutive(void) {
    static char out[96];
    static int fds[1100];
    struct rlimit old, rl;
    if (getrlimit(RLIMIT_NOFILE, &old))
        return "getrlimit failed";
    rl = old;
    rl.rlim_cur = 1100;
    if (setrlimit(RLIMIT_NOFILE, &rl))
        return "setrlimit failed";
    int prev = -1, n = 0, gap = 0, f;
    while (n < 1100 && (f = open("/dev/null", O_RDONLY)) >= 0) {
        // A number skipped must be one the guest has open (inherited).
        for (int k = prev + 1; prev >= 0 && k < f; k++)
            if (fcntl(k, F_GETFD) < 0)
                gap = 1;
        prev = f;
        fds[n++] = f;
    }
    const char *e = ans(-1);
    while (n > 0)
        close(fds[--n]);
    setrlimit(RLIMIT_NOFILE, &old);
    snprintf(out, sizeof out, "%s, %s at %d", gap ? "with a gap" : "consecutive", e, prev + 1);
    return out;
}

// The first number past the guest's hard RLIMIT_NOFILE (at most 2^20,
// Linux's largest nr_open).
static inline int hard_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_max > (1u << 20))
        return 1 << 20;
    return (int)rl.rlim_max;
}

// Does call `what` answer for each number in (FIRST, LAST] and in
// [hard limit, hard limit + 128) as for FIRST (select: see below)?
static inline int as_closed(int what) {
    char ref[128];
    snprintf(ref, sizeof ref, "%s", call(what, FIRST));
    int h = hard_limit();
    for (int n = FIRST + 1; n < h + 128; n++) {
        if (n == LAST + 1 && h > LAST)
            n = h;
        // select looks only up to the end of the descriptor table, which
        // reaches past FIRST but not the hard limit: past it, compare
        // with a number far past it (a closed one, not pvm's).
        if (what == 27 && n == h)
            snprintf(ref, sizeof ref, "%s", call(what, h + 4096));
        if (strcmp(call(what, n), ref))
            return 0;
    }
    return 1;
}
#endif

