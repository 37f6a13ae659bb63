// /proc/<pid>/fd of another process (a child): listed, its links named and
// opened; and reopening /proc/self/fd/N of an object without a file
// (eventfd, socket, timerfd, epoll): ENXIO, as on Linux.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

static void reopen(const char *what, int fd, int flags) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    int r = open(p, flags);
    printf("reopen %s: %s\n", what, r >= 0 ? "opened" : strerror(errno));
    if (r >= 0)
        close(r);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int e = eventfd(0, 0);
    reopen("eventfd", e, O_RDWR);
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    reopen("socket", sv[0], O_RDWR);
    int t = timerfd_create(CLOCK_MONOTONIC, 0);
    reopen("timerfd", t, O_RDONLY);
    int ep = epoll_create1(0);
    reopen("epoll", ep, O_RDONLY);
    close(e), close(sv[0]), close(sv[1]), close(t), close(ep);

    int go[2], ready[2];
    pipe(go);
    pipe(ready);
    pid_t c = fork();
    if (c == 0) {
        close(go[1]);
        close(ready[0]);
        int f = open("other_fd.tmp", O_RDWR | O_CREAT, 0600);
        dup2(f, 20);
        write(ready[1], "r", 1);
        char b;
        read(go[0], &b, 1);
        _exit(f >= 0 ? 0 : 1);
    }
    close(go[0]);
    close(ready[1]);
    char b;
    read(ready[0], &b, 1);

    char path[64], link[256];
    snprintf(path, sizeof path, "/proc/%d/fd", c);
    DIR *d = opendir(path);
    int n = 0, has20 = 0, hasgo = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        n++;
        int fd = atoi(de->d_name);
        has20 |= fd == 20;
        hasgo |= fd == go[0];
    }
    if (d)
        closedir(d);
    printf("child's fd/: listed %d, has 20: %d, has its pipe end: %d\n", n > 0, has20, hasgo);
    snprintf(path, sizeof path, "/proc/%d/fd/20", c);
    ssize_t k = readlink(path, link, sizeof link - 1);
    link[k > 0 ? k : 0] = 0;
    char *base = strrchr(link, '/');
    printf("child's fd 20: absolute %d, names %s\n", link[0] == '/', base ? base + 1 : "?");
    snprintf(path, sizeof path, "/proc/%d/fd/%d", c, go[0]);
    k = readlink(path, link, sizeof link - 1);
    link[k > 0 ? k : 0] = 0;
    printf("child's pipe end: %.6s\n", link);
    snprintf(path, sizeof path, "/proc/%d/fd/20", c);
    int r = open(path, O_RDONLY);
    printf("open the child's fd 20: %s\n", r >= 0 ? "opened" : strerror(errno));
    if (r >= 0)
        close(r);

    write(go[1], "g", 1);
    int st;
    waitpid(c, &st, 0);
    printf("child: %d\n", WEXITSTATUS(st));
    unlink("other_fd.tmp");
    return 0;
}
