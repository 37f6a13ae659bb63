// AF_INET6 on the loopback (::1): TCP connect/accept with sockaddr_in6
// names, an IPv6 socket option, and a UDP datagram.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    int ls = socket(AF_INET6, SOCK_STREAM, 0);
    int on = 1;
    printf("IPV6_V6ONLY: %d\n", setsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on));
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    printf("bind ::1: %d\n", bind(ls, (struct sockaddr *)&a, sizeof a));
    listen(ls, 1);
    socklen_t len = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &len);
    char txt[64];
    inet_ntop(AF_INET6, &a.sin6_addr, txt, sizeof txt);
    printf("name: len %u family %d addr %s port set %d\n", len, a.sin6_family, txt, a.sin6_port != 0);
    int c = socket(AF_INET6, SOCK_STREAM, 0);
    printf("connect: %d\n", connect(c, (struct sockaddr *)&a, sizeof a));
    struct sockaddr_in6 p;
    len = sizeof p;
    int s = accept(ls, (struct sockaddr *)&p, &len);
    inet_ntop(AF_INET6, &p.sin6_addr, txt, sizeof txt);
    printf("accept: %d len %u from %s\n", s >= 0, len, txt);
    send(c, "six", 3, 0);
    char buf[8] = {0};
    printf("recv: %zd '%s'\n", recv(s, buf, sizeof buf, 0), buf);
    int v = 0;
    len = sizeof v;
    getsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len);
    printf("v6only back: %d\n", v);
    struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = a.sin6_port,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int c4 = socket(AF_INET, SOCK_STREAM, 0);
    printf("v4 to a v6only listener: %d ECONNREFUSED %d\n",
           connect(c4, (struct sockaddr *)&v4, sizeof v4), errno == ECONNREFUSED);

    int u1 = socket(AF_INET6, SOCK_DGRAM, 0), u2 = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 ua = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bind(u1, (struct sockaddr *)&ua, sizeof ua);
    len = sizeof ua;
    getsockname(u1, (struct sockaddr *)&ua, &len);
    printf("udp6 sendto: %zd\n", sendto(u2, "dgram6", 6, 0, (struct sockaddr *)&ua, sizeof ua));
    struct sockaddr_in6 src;
    len = sizeof src;
    memset(buf, 0, sizeof buf);
    ssize_t n = recvfrom(u1, buf, sizeof buf, 0, (struct sockaddr *)&src, &len);
    printf("udp6 recvfrom: %zd '%s' len %u loopback %d\n", n, buf, len,
           IN6_IS_ADDR_LOOPBACK(&src.sin6_addr));
    return 0;
}
