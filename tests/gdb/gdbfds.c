// The GDB stub test's descriptor guest (xtask/src/gdbtest.rs): the stub's
// own descriptors (its connection, the files gdb opened) are not the
// guest's. None is open for the guest, none is listed in /proc/self/fd or
// /proc/self/fdinfo, each answers EBADF (read, fstat, fcntl, lseek, dup,
// close, passing it in SCM_RIGHTS), POLLNVAL to poll, and has no /proc
// entry (ENOENT); every call of ../guests/ownfd_calls.h that leaves files
// as they are (symbolic links to the entries too) answers for each as for a closed number; dup2 over every
// number and
// close_range of everything leave the stub working: gdb's breakpoint on
// `done` still stops the guest afterwards.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "../guests/ownfd_calls.h"

/* Send descriptor `fd` over `sock` (SCM_RIGHTS). */
static int pass_fd(int sock, int fd) {
    char byte = 'x';
    struct iovec iov = {&byte, 1};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.b;
    m.msg_controllen = sizeof u.b;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return sendmsg(sock, &m, 0);
}

static int listed(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int self = dirfd(d), n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && atoi(e->d_name) != self)
            n++;
    closedir(d);
    return n;
}

__attribute__((noinline)) int done(int x) { return x + 2; }

int main(void) {
    int open_n = 0, high = 0;
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) >= 0) {
            open_n++;
            if (fd >= 900)
                high++;
        }
    // pvm's own are past the hard limit the guest is shown.
    for (int fd = hard_limit() > 4096 ? hard_limit() : 4096; fd < hard_limit() + 128; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            high++;
    printf("open at 900 and above (past the hard limit too): %d\n", high);
    printf("new descriptors: %s\n", consecutive());
    printf("fd lists the open ones: %s\n", listed("/proc/self/fd") == open_n ? "yes" : "no");
    printf("fdinfo lists the open ones: %s\n", listed("/proc/self/fdinfo") == open_n ? "yes" : "no");
    printf("thread-self fd lists them: %s\n", listed("/proc/thread-self/fd") == open_n ? "yes" : "no");
    int answered = 0, sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    // From 900 to 1023 and the 128 numbers from the hard limit up.
    for (int fd = 900; fd < hard_limit() + 128; fd++) {
        if (fd == 1024 && hard_limit() > 1024)
            fd = hard_limit();
        char c, p[64], t[256];
        struct stat st;
        if (fcntl(fd, F_GETFD) >= 0)
            continue;
        errno = 0;
        if (read(fd, &c, 0) != -1 || errno != EBADF)
            answered++;
        if (fstat(fd, &st) != -1 || errno != EBADF)
            answered++;
        if (fcntl(fd, F_GETFL) != -1 || errno != EBADF)
            answered++;
        if (lseek(fd, 0, SEEK_CUR) != -1 || errno != EBADF)
            answered++;
        if (dup(fd) != -1 || errno != EBADF)
            answered++;
        if (close(fd) != -1 || errno != EBADF)
            answered++;
        if (pass_fd(sv[0], fd) != -1 || errno != EBADF)
            answered++;
        struct pollfd pf = {fd, POLLIN | POLLOUT, 0};
        if (poll(&pf, 1, 0) != 1 || pf.revents != POLLNVAL)
            answered++;
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        if (readlink(p, t, sizeof t) != -1 || errno != ENOENT)
            answered++;
        if (open(p, O_RDONLY) != -1 || errno != ENOENT)
            answered++;
        if (open(p, O_PATH | O_NOFOLLOW) != -1 || errno != ENOENT)
            answered++;
        snprintf(p, sizeof p, "/proc/self/fdinfo/%d", fd);
        if (open(p, O_RDONLY) != -1 || errno != ENOENT)
            answered++;
        snprintf(p, sizeof p, "%d", fd);
        int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
        if (faccessat(dfd, p, F_OK, AT_SYMLINK_NOFOLLOW) != -1 || errno != ENOENT)
            answered++;
        close(dfd);
    }
    printf("closed numbers that answered otherwise: %d\n", answered);
    procfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    // The link calls make their links in the working directory.
    char tmp[] = "/tmp/pvm-gdbfds-XXXXXX", home[4096];
    if (!getcwd(home, sizeof home) || !mkdtemp(tmp) || chdir(tmp))
        return 9;
    // Its own descriptors stay reachable through /dev/fd and links to it
    // (bash's process substitution opens /dev/fd/63).
    int pp[2], own_ok = 0;
    char pb[96], got[4] = "";
    if (pipe(pp) == 0 && write(pp[1], "abc", 3) == 3 && symlink("/dev/fd", "lnkd") == 0) {
        snprintf(pb, sizeof pb, "lnkd/%d", pp[0]);
        int r = open(pb, O_RDONLY);
        own_ok = r >= 0 && read(r, got, 3) == 3 && !memcmp(got, "abc", 3);
        close(r);
        unlink("lnkd");
    }
    close(pp[0]);
    close(pp[1]);
    printf("a pipe of its own opens through a link to /dev/fd: %s\n", own_ok ? "yes" : "no");
    int differ = 0;
    for (int w = 0; call(w, FIRST); w++)
        if (!harmful(w) && !as_closed(w)) {
            printf("answered otherwise: %s\n", names[w]);
            differ++;
        }
    close(procfd);
    if (chdir(home) || rmdir(tmp))
        return 9;
    printf("calls that answered otherwise: %d\n", differ);
    printf("a descriptor of its own passes: %s\n", pass_fd(sv[0], sv[1]) == 1 ? "yes" : "no");
    // dup2 over every number: each either takes it or is refused with
    // EBADF (a number the guest may not have); none disturbs the stub.
    int other = 0;
    for (int fd = 3; fd < 1024; fd++)
        if (dup2(1, fd) != fd && errno != EBADF)
            other++;
    printf("dup2 failures other than EBADF: %d\n", other);
    fflush(stdout);
    syscall(SYS_close_range, 3, ~0u, 0);
    for (int fd = 3; fd < 4096; fd++)
        close(fd);
    printf("done: %d\n", done(3));
    return 5;
}
