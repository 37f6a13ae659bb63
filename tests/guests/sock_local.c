// Local sockets between processes: a server and a forked client over a
// named AF_UNIX stream socket (bind makes an S_IFSOCK file, listen with a
// backlog, blocking and non-blocking accept4, getsockname/getpeername,
// SO_PEERCRED naming the other process, SCM_RIGHTS across processes,
// shutdown), the errnos of connect and bind (ENOENT, ECONNREFUSED,
// EADDRINUSE, EPROTOTYPE), the abstract namespace and autobind, AF_UNIX
// datagrams by path, poll and epoll readiness of a listener, the same
// server and client over loopback TCP, and SO_RCVTIMEO.
//@ variants: static
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *en(int e) {
    switch (e) {
    case 0: return "0";
    case ENOENT: return "ENOENT";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EADDRINUSE: return "EADDRINUSE";
    case EPROTOTYPE: return "EPROTOTYPE";
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    case ENOTCONN: return "ENOTCONN";
    case EISCONN: return "EISCONN";
    case ENXIO: return "ENXIO";
    case EPIPE: return "EPIPE";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return strerror(e);
    }
}

#define SHOW(what, call)                                                                     \
    do {                                                                                     \
        errno = 0;                                                                           \
        long r_ = (long)(call);                                                              \
        printf("%s: %s\n", what, r_ < 0 ? en(errno) : "ok");                                 \
    } while (0)

static struct sockaddr_un un(const char *path, socklen_t *len) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, path);
    *len = offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
    return a;
}

static void full_write(int fd, const void *p, size_t n) {
    if (write(fd, p, n) != (ssize_t)n)
        printf("short write\n");
}

// The client side of the stream test, in a child: connect, talk, send a
// descriptor, check its peer's credentials.
static int unix_client(const char *path) {
    socklen_t len;
    struct sockaddr_un a = un(path, &len);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, len) != 0)
        return 10;
    struct ucred cr;
    socklen_t cl = sizeof cr;
    getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
    if (cr.pid != getppid())
        return 11;
    struct sockaddr_un p;
    socklen_t pl = sizeof p;
    getpeername(c, (struct sockaddr *)&p, &pl);
    if (pl != len || strcmp(p.sun_path, path) != 0)
        return 12;
    full_write(c, "ping", 4);
    char buf[16] = {0};
    if (read(c, buf, sizeof buf) != 4 || strcmp(buf, "pong") != 0)
        return 13;
    // A pipe's read end travels to the server.
    int pfd[2];
    pipe(pfd);
    char one = 'x';
    struct iovec iov = {&one, 1};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } ctl = {0};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                       .msg_controllen = sizeof ctl.b};
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &pfd[0], sizeof(int));
    if (sendmsg(c, &m, 0) != 1)
        return 14;
    close(pfd[0]);
    full_write(pfd[1], "through the passed pipe", 23);
    close(pfd[1]);
    shutdown(c, SHUT_WR);
    if (read(c, buf, sizeof buf) != 0)
        return 15;
    close(c);
    return 0;
}

static void unix_stream(void) {
    const char *path = "srv.sock";
    unlink(path);
    socklen_t len;
    struct sockaddr_un a = un(path, &len);
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    SHOW("connect to a missing path", connect(l, (struct sockaddr *)&a, len));
    SHOW("listen before bind", listen(l, 1));
    SHOW("bind", bind(l, (struct sockaddr *)&a, len));
    struct stat st;
    stat(path, &st);
    printf("stat: socket %d perm %o\n", S_ISSOCK(st.st_mode), st.st_mode & 0777);
    SHOW("open of the socket file", open(path, O_RDONLY));
    SHOW("bind again", bind(l, (struct sockaddr *)&a, len));
    int other = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW("bind a taken path", bind(other, (struct sockaddr *)&a, len));
    SHOW("connect before listen", connect(other, (struct sockaddr *)&a, len));
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    SHOW("datagram connect to a stream", connect(d, (struct sockaddr *)&a, len));
    close(d);
    struct sockaddr_un n;
    socklen_t nl = sizeof n;
    getsockname(l, (struct sockaddr *)&n, &nl);
    printf("getsockname: len %u path %s\n", nl, n.sun_path);
    nl = sizeof n;
    SHOW("getpeername of a listener", getpeername(l, (struct sockaddr *)&n, &nl));
    SHOW("listen", listen(l, 2));
    int on = 0;
    socklen_t ol = sizeof on;
    getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol);
    printf("SO_ACCEPTCONN: %d\n", on);
    fcntl(l, F_SETFL, O_NONBLOCK);
    SHOW("accept with none waiting", accept4(l, NULL, NULL, 0));
    struct pollfd p = {.fd = l, .events = POLLIN | POLLOUT};
    printf("poll of an idle listener: %d\n", poll(&p, 1, 0));
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
    epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
    fcntl(l, F_SETFL, 0);

    // Two clients fill the backlog before anyone accepts.
    int c1 = socket(AF_UNIX, SOCK_STREAM, 0), c2 = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW("connect 1", connect(c1, (struct sockaddr *)&a, len));
    SHOW("connect 2", connect(c2, (struct sockaddr *)&a, len));
    SHOW("connect a connected one", connect(c2, (struct sockaddr *)&a, len));
    p.revents = 0;
    printf("poll with clients waiting: %d revents %#x\n", poll(&p, 1, 0), p.revents);
    struct epoll_event got;
    printf("epoll: %d data %u\n", epoll_wait(ep, &got, 1, 0), got.data.u32);
    full_write(c1, "early", 5);
    struct sockaddr_un peer;
    socklen_t pl = sizeof peer;
    int s1 = accept4(l, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    printf("accept4: %d peer len %u family %d nonblock %d cloexec %d\n", s1 >= 0, pl,
           peer.sun_family, (fcntl(s1, F_GETFL) & O_NONBLOCK) != 0,
           (fcntl(s1, F_GETFD) & FD_CLOEXEC) != 0);
    char buf[64] = {0};
    printf("data sent before accept: %zd '%s'\n", read(s1, buf, sizeof buf), buf);
    SHOW("read of an empty nonblocking one", read(s1, buf, sizeof buf));
    nl = sizeof n;
    getsockname(s1, (struct sockaddr *)&n, &nl);
    printf("accepted socket's name: len %u path %s\n", nl, n.sun_path);
    int s2 = accept(l, NULL, NULL);
    close(c1);
    printf("eof from a closed client: %zd\n", read(s1, buf, sizeof buf));
    close(s1);
    close(s2);
    close(c2);

    // A client process.
    pid_t pid = fork();
    if (pid == 0)
        _exit(unix_client(path));
    int s = accept(l, NULL, NULL);
    struct ucred cr;
    socklen_t cl = sizeof cr;
    getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
    printf("SO_PEERCRED is the child: %d len %u\n", cr.pid == pid, cl);
    memset(buf, 0, sizeof buf);
    printf("server got: %zd '%s'\n", read(s, buf, sizeof buf), buf);
    full_write(s, "pong", 4);
    char one;
    struct iovec iov = {&one, 1};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                       .msg_controllen = sizeof ctl.b};
    ssize_t r = recvmsg(s, &m, 0);
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    int fd = -1;
    if (h && h->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(h), sizeof fd);
    printf("recvmsg: %zd fd passed %d\n", r, fd >= 0);
    memset(buf, 0, sizeof buf);
    ssize_t k = 0, t;
    while ((t = read(fd, buf + k, sizeof buf - 1 - k)) > 0)
        k += t;
    printf("through it: %zd '%s'\n", k, buf);
    printf("eof after the client's shutdown: %zd\n", read(s, buf, sizeof buf));
    close(s);
    int st2;
    waitpid(pid, &st2, 0);
    printf("client status: %d\n", WEXITSTATUS(st2));
    close(l);
    SHOW("connect after the listener closed", connect(other, (struct sockaddr *)&a, len));
    unlink(path);
    SHOW("connect after unlink", connect(other, (struct sockaddr *)&a, len));
    close(other);
    int fdr = open("plain", O_CREAT | O_WRONLY, 0644);
    close(fdr);
    struct sockaddr_un pa = un("plain", &len);
    int c3 = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW("connect to a regular file", connect(c3, (struct sockaddr *)&pa, len));
    close(c3);
}

static void unix_abstract_dgram(void) {
    // The abstract namespace: no file, the name's bytes as given.
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, "\0pvm-abstract", 13);
    socklen_t len = offsetof(struct sockaddr_un, sun_path) + 13;
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW("bind abstract", bind(l, (struct sockaddr *)&a, len));
    int x = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW("bind the same abstract name", bind(x, (struct sockaddr *)&a, len));
    listen(l, 1);
    SHOW("connect abstract", connect(x, (struct sockaddr *)&a, len));
    int s = accept(l, NULL, NULL);
    struct sockaddr_un n;
    socklen_t nl = sizeof n;
    getpeername(x, (struct sockaddr *)&n, &nl);
    printf("abstract peer: len %u match %d\n", nl, nl == len && memcmp(&n, &a, len) == 0);
    close(s);
    close(x);
    close(l);
    int y = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW("connect to a closed abstract name", connect(y, (struct sockaddr *)&a, len));
    close(y);

    // Autobind: a bare family gives an abstract name of 5 hex digits.
    int z = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un fam = {.sun_family = AF_UNIX};
    SHOW("autobind", bind(z, (struct sockaddr *)&fam, sizeof(sa_family_t)));
    nl = sizeof n;
    getsockname(z, (struct sockaddr *)&n, &nl);
    printf("autobound: len %u abstract %d\n", nl, n.sun_path[0] == 0);

    // Datagrams by path, with the sender's name.
    socklen_t l1, l2;
    unlink("d1.sock");
    unlink("d2.sock");
    struct sockaddr_un a1 = un("d1.sock", &l1), a2 = un("d2.sock", &l2);
    int d1 = socket(AF_UNIX, SOCK_DGRAM, 0), d2 = socket(AF_UNIX, SOCK_DGRAM, 0);
    bind(d1, (struct sockaddr *)&a1, l1);
    bind(d2, (struct sockaddr *)&a2, l2);
    pid_t pid = fork();
    if (pid == 0) {
        ssize_t w = sendto(d2, "from the child", 14, 0, (struct sockaddr *)&a1, l1);
        _exit(w == 14 ? 0 : 1);
    }
    char buf[64] = {0};
    struct sockaddr_un from;
    socklen_t fl = sizeof from;
    ssize_t r = recvfrom(d1, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    printf("datagram: %zd '%s' from len %u %s\n", r, buf, fl, from.sun_path);
    int st;
    waitpid(pid, &st, 0);
    SHOW("send unconnected", send(z, "x", 1, 0));
    SHOW("connect datagram", connect(z, (struct sockaddr *)&a1, l1));
    SHOW("send connected", send(z, "y", 1, 0));
    fl = sizeof from;
    r = recvfrom(d1, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    printf("from the autobound one: %zd len %u abstract %d\n", r, fl, from.sun_path[0] == 0);
    int s1 = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW("stream connect to a datagram socket", connect(s1, (struct sockaddr *)&a1, l1));
    close(d1);
    SHOW("send to a closed one", sendto(d2, "z", 1, 0, (struct sockaddr *)&a1, l1));
    unlink("d1.sock");
    unlink("d2.sock");
    close(d2);
    close(z);
    close(s1);
}

static void tcp(void) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    SHOW("tcp bind", bind(l, (struct sockaddr *)&a, sizeof a));
    SHOW("tcp listen", listen(l, 4));
    socklen_t len = sizeof a;
    getsockname(l, (struct sockaddr *)&a, &len);
    int x = socket(AF_INET, SOCK_STREAM, 0);
    SHOW("tcp bind a taken port", bind(x, (struct sockaddr *)&a, sizeof a));
    close(x);
    pid_t pid = fork();
    if (pid == 0) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a) != 0)
            _exit(10);
        char big[100000];
        memset(big, 'q', sizeof big);
        size_t done = 0;
        while (done < sizeof big) {
            ssize_t w = write(c, big + done, sizeof big - done);
            if (w <= 0)
                _exit(11);
            done += w;
        }
        shutdown(c, SHUT_WR);
        char buf[16] = {0};
        if (read(c, buf, sizeof buf) <= 0 || strcmp(buf, "100000") != 0)
            _exit(12);
        _exit(0);
    }
    struct sockaddr_in peer;
    len = sizeof peer;
    int s = accept(l, (struct sockaddr *)&peer, &len);
    printf("tcp accept: %d len %u loopback %d\n", s >= 0, len,
           peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    char buf[4096];
    long total = 0;
    ssize_t n;
    while ((n = read(s, buf, sizeof buf)) > 0)
        total += n;
    printf("tcp server read %ld\n", total);
    char msg[16];
    snprintf(msg, sizeof msg, "%ld", total);
    full_write(s, msg, strlen(msg));
    int st;
    waitpid(pid, &st, 0);
    printf("tcp client status: %d\n", WEXITSTATUS(st));
    close(s);
    close(l);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    SHOW("tcp connect to a closed port", connect(c, (struct sockaddr *)&a, sizeof a));
    close(c);

    // SO_RCVTIMEO bounds a blocking receive: EAGAIN when it passes.
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct timeval tv = {0, 200000};
    setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SHOW("recv past SO_RCVTIMEO", recv(sv[0], buf, sizeof buf, 0));
    SHOW("read past SO_RCVTIMEO", read(sv[0], buf, sizeof buf));
    int ul = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un ta = {.sun_family = AF_UNIX};
    bind(ul, (struct sockaddr *)&ta, sizeof(sa_family_t));
    listen(ul, 1);
    setsockopt(ul, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SHOW("accept past SO_RCVTIMEO", accept(ul, NULL, NULL));
    close(ul);
    close(sv[0]);
    close(sv[1]);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    unix_stream();
    unix_abstract_dgram();
    tcp();
    return 0;
}
