// Pipes, dup/dup2/dup3, nonblocking reads and stdout redirection.
//@ stderr
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    int p[2];
    if (pipe(p) != 0) return 1;
    const char *m = "through the pipe";
    printf("write %zd\n", write(p[1], m, strlen(m)));
    char buf[64] = {0};
    printf("read %zd '%s'\n", read(p[0], buf, sizeof buf), buf);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    ssize_t n = read(p[0], buf, sizeof buf);
    printf("empty nonblocking read: %zd EAGAIN %d\n", n, errno == EAGAIN);
    // A large write fills the pipe in pieces; read it back in order.
    static char big[50000], back[50000];
    for (int i = 0; i < 50000; i++) big[i] = (char)(i * 7);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) & ~O_NONBLOCK);
    size_t w = 0, r = 0;
    while (r < sizeof big) {
        if (w < sizeof big) {
            ssize_t k = write(p[1], big + w, (sizeof big - w) > 4096 ? 4096 : sizeof big - w);
            if (k > 0) w += k;
        }
        ssize_t k = read(p[0], back + r, sizeof back - r);
        if (k > 0) r += k;
    }
    printf("big transfer ok: %d\n", memcmp(big, back, sizeof big) == 0);

    fflush(stdout);
    int saved = dup(1);
    printf("dup gives new fd: %d\n", saved > 2);
    fflush(stdout);
    dup2(p[1], 1);
    printf("this goes into the pipe");
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    memset(buf, 0, sizeof buf);
    n = read(p[0], buf, sizeof buf);
    printf("captured %zd: '%s'\n", n, buf);
    int q = dup3(p[0], 20, O_CLOEXEC);
    printf("dup3 -> %d cloexec %d\n", q, fcntl(q, F_GETFD) & FD_CLOEXEC);
    printf("dup2 same fd: %d\n", dup2(p[0], p[0]) == p[0]);
    printf("dup2 bad fd: %d EBADF %d\n", dup2(99, 5), errno == EBADF);
    close(p[1]);
    printf("read after writer closed: %zd\n", read(p[0], buf, 1));
    int p2[2];
    pipe2(p2, O_CLOEXEC | O_NONBLOCK);
    printf("pipe2 flags: cloexec %d nonblock %d\n", fcntl(p2[0], F_GETFD) & FD_CLOEXEC,
           (fcntl(p2[1], F_GETFL) & O_NONBLOCK) != 0);
    write(2, "stderr line\n", 12);
    return 0;
}
