// A loopback TCP echo in one thread: listen on port 0, learn the port
// with getsockname, a non-blocking connect, accept4, poll, send/recv,
// sendto/recvfrom with addresses, socket options; and a UDP round trip.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    printf("SO_REUSEADDR: %d\n", setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    printf("bind: %d\n", bind(ls, (struct sockaddr *)&a, sizeof a));
    printf("listen: %d\n", listen(ls, 4));
    socklen_t len = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &len);
    printf("port assigned: %d len %u addr %s\n", ntohs(a.sin_port) != 0, len, inet_ntoa(a.sin_addr));

    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int r = connect(c, (struct sockaddr *)&a, sizeof a);
    printf("connect: in progress or done %d\n", r == 0 || errno == EINPROGRESS);
    struct pollfd p = {.fd = c, .events = POLLOUT};
    printf("poll connected: %d\n", poll(&p, 1, 5000));
    int err = -1;
    len = sizeof err;
    getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
    printf("SO_ERROR: %d\n", err);

    struct sockaddr_in peer;
    len = sizeof peer;
    int s = accept4(ls, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
    printf("accept4: %d len %u family %d cloexec %d\n", s >= 0, len, peer.sin_family,
           fcntl(s, F_GETFD) & FD_CLOEXEC);
    struct sockaddr_in mine;
    len = sizeof mine;
    getsockname(c, (struct sockaddr *)&mine, &len);
    printf("peer is the client: %d\n", mine.sin_port == peer.sin_port);
    len = sizeof peer;
    getpeername(c, (struct sockaddr *)&peer, &len);
    printf("client's peer is the server: %d\n", peer.sin_port == a.sin_port);

    printf("TCP_NODELAY: %d\n", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on));
    int nd = 0;
    len = sizeof nd;
    getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &nd, &len);
    printf("TCP_NODELAY read back: %d\n", nd != 0);
    struct linger lg = {1, 5};
    printf("SO_LINGER: %d\n", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    memset(&lg, 0, sizeof lg);
    len = sizeof lg;
    getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &len);
    printf("linger back: %d %d len %u\n", lg.l_onoff, lg.l_linger, len);
    struct timeval tv = {2, 500000};
    printf("SO_RCVTIMEO: %d\n", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    memset(&tv, 0, sizeof tv);
    len = sizeof tv;
    getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, &len);
    printf("rcvtimeo back: %ld.%06ld len %u\n", (long)tv.tv_sec, (long)tv.tv_usec, len);

    const char *msg = "hello over tcp";
    printf("send: %zd\n", send(c, msg, strlen(msg), 0));
    char buf[64] = {0};
    ssize_t n = recv(s, buf, sizeof buf, 0);
    printf("server got: %zd '%s'\n", n, buf);
    printf("echo: %zd\n", send(s, buf, n, 0));
    memset(buf, 0, sizeof buf);
    p.events = POLLIN;
    poll(&p, 1, 5000);
    struct sockaddr_in from = {0};
    len = sizeof from;
    n = recvfrom(c, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
    printf("client got: %zd '%s' addrlen %u\n", n, buf, len);
    printf("peek: %zd EAGAIN %d\n", recv(c, buf, 1, MSG_PEEK | MSG_DONTWAIT), errno == EAGAIN);
    close(c);
    printf("eof after close: %zd\n", recv(s, buf, sizeof buf, 0));
    printf("connect refused: ");
    int c2 = socket(AF_INET, SOCK_STREAM, 0);
    close(ls);
    printf("%d ECONNREFUSED %d\n", connect(c2, (struct sockaddr *)&a, sizeof a), errno == ECONNREFUSED);
    close(s);

    // UDP: sendto and recvfrom carry the addresses.
    int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(u1, (struct sockaddr *)&ua, sizeof ua);
    len = sizeof ua;
    getsockname(u1, (struct sockaddr *)&ua, &len);
    printf("udp sendto: %zd\n", sendto(u2, "datagram", 8, 0, (struct sockaddr *)&ua, sizeof ua));
    struct sockaddr_in src;
    len = sizeof src;
    memset(buf, 0, sizeof buf);
    n = recvfrom(u1, buf, sizeof buf, 0, (struct sockaddr *)&src, &len);
    struct sockaddr_in u2a;
    socklen_t l2 = sizeof u2a;
    getsockname(u2, (struct sockaddr *)&u2a, &l2);
    printf("udp recvfrom: %zd '%s' from the sender %d len %u\n", n, buf,
           src.sin_port == u2a.sin_port && src.sin_addr.s_addr == htonl(INADDR_LOOPBACK), len);
    printf("short addrlen: ");
    sendto(u2, "x", 1, 0, (struct sockaddr *)&ua, sizeof ua);
    len = 4;
    memset(&src, 0, sizeof src);
    n = recvfrom(u1, buf, sizeof buf, 0, (struct sockaddr *)&src, &len);
    printf("%zd len %u family %d port untouched %d\n", n, len, src.sin_family, src.sin_port == 0);
    printf("bad addrlen: %d EINVAL %d\n", bind(u2, (struct sockaddr *)&ua, 1000), errno == EINVAL);
    return 0;
}
