// pipe2(O_NONBLOCK) filled and drained, poll/select on a full pipe, and
// the descriptor ioctls: FIONBIO, FIONREAD, FIOCLEX/FIONCLEX, FIOASYNC.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <unistd.h>

int main(void) {
    int p[2];
    printf("pipe2: %d\n", pipe2(p, O_NONBLOCK | O_CLOEXEC));
    char buf[4096];
    printf("empty read: %zd EAGAIN %d\n", read(p[0], buf, sizeof buf), errno == EAGAIN);
    int avail = -1;
    printf("FIONREAD empty: %d %d\n", ioctl(p[0], FIONREAD, &avail), avail);
    memset(buf, 'x', sizeof buf);
    long total = 0;
    ssize_t n;
    while ((n = write(p[1], buf, sizeof buf)) > 0) total += n;
    printf("filled: %d EAGAIN %d\n", total >= 4096, errno == EAGAIN);
    ioctl(p[0], FIONREAD, &avail);
    printf("FIONREAD full: %d\n", avail == total);
    struct pollfd pw = {.fd = p[1], .events = POLLOUT};
    printf("poll full: %d\n", poll(&pw, 1, 0));
    fd_set w;
    FD_ZERO(&w);
    FD_SET(p[1], &w);
    struct timeval tv = {0, 0};
    printf("select full: %d\n", select(p[1] + 1, NULL, &w, NULL, &tv));
    printf("drain one: %zd\n", read(p[0], buf, sizeof buf));
    printf("poll after: %d revents %#x\n", poll(&pw, 1, 0), pw.revents);
    long got = 4096;
    while ((n = read(p[0], buf, sizeof buf)) > 0) got += n;
    printf("drained all: %d\n", got == total);

    int one = 1, zero = 0;
    printf("FIONBIO off: %d nonblock %d\n", ioctl(p[0], FIONBIO, &zero),
           (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0);
    printf("FIONBIO on: %d nonblock %d\n", ioctl(p[0], FIONBIO, &one),
           (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0);
    printf("FIONCLEX: %d cloexec %d\n", ioctl(p[0], FIONCLEX), fcntl(p[0], F_GETFD) & FD_CLOEXEC);
    printf("FIOCLEX: %d cloexec %d\n", ioctl(p[0], FIOCLEX), fcntl(p[0], F_GETFD) & FD_CLOEXEC);
    printf("FIOASYNC on: %d async %d\n", ioctl(p[0], FIOASYNC, &one),
           (fcntl(p[0], F_GETFL) & O_ASYNC) != 0);
    printf("FIOASYNC off: %d async %d\n", ioctl(p[0], FIOASYNC, &zero),
           (fcntl(p[0], F_GETFL) & O_ASYNC) != 0);
    printf("FIONBIO bad fd: %d EBADF %d\n", ioctl(99, FIONBIO, &one), errno == EBADF);
    printf("FIONBIO bad ptr: %d EFAULT %d\n", ioctl(p[0], FIONBIO, (int *)8), errno == EFAULT);
    write(p[1], "abc", 3);
    ioctl(p[0], FIONREAD, &avail);
    printf("FIONREAD 3: %d\n", avail);
    close(p[1]);
    printf("read: %zd then eof %zd\n", read(p[0], buf, sizeof buf), read(p[0], buf, sizeof buf));
    return 0;
}
