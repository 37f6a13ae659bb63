// Loopback TCP as Linux's state machine shows it to a program: a
// non-blocking connect is EINPROGRESS and completes (poll POLLOUT,
// SO_ERROR 0; connect again: 0, then EISCONN); a connect to a port nobody
// listens on is ECONNREFUSED, and non-blocking EINPROGRESS then SO_ERROR
// ECONNREFUSED (read once); the side that closes first keeps its port
// in TIME_WAIT: binding it again is EADDRINUSE, and SO_REUSEADDR helps
// only when the closed socket had it too (a server restarting on its
// port), as Linux's bind conflict rule says.
//
// Every socket here is bound to a loopback address of this run's own
// (127.X.Y.1, from the pid), not 127.0.0.1: the checks bind again to a
// port after it was released, and the guests run beside others that take
// ephemeral ports on 127.0.0.1 all the time, so on the shared address
// another program could take the port in between (seen once in a full run).
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned own_addr;

static struct sockaddr_in lo(int port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(own_addr)};
    return a;
}

// A client socket bound to this run's address (port chosen by the kernel),
// so that its port too is this address's and nobody else's.
static int client(int flags) {
    int s = socket(AF_INET, SOCK_STREAM | flags, 0);
    struct sockaddr_in a = lo(0);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0)
        printf("bind client to own address: %s\n", strerror(errno));
    return s;
}

static int port_of(int s) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &len);
    return ntohs(a.sin_port);
}

static int listener(int reuse) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (reuse)
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
    struct sockaddr_in a = lo(0);
    bind(s, (struct sockaddr *)&a, sizeof a);
    listen(s, 4);
    return s;
}

static const char *err(int rc) {
    return rc == 0 ? "ok" : strerror(errno);
}

static int so_error(int s) {
    int e = -1;
    socklen_t len = sizeof e;
    getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &len);
    return e;
}

// Bind a fresh socket to 127.0.0.1:port, with or without SO_REUSEADDR.
static void try_bind(const char *what, int port, int reuse) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (reuse)
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
    struct sockaddr_in a = lo(port);
    int rc = bind(s, (struct sockaddr *)&a, sizeof a);
    printf("%s%s: %s\n", what, reuse ? " with SO_REUSEADDR" : "", err(rc));
    close(s);
}

static void drain_eof(int s) {
    char c;
    struct pollfd p = {.fd = s, .events = POLLIN};
    poll(&p, 1, 5000);
    printf("  peer reads end of file: %d\n", read(s, &c, 1) == 0);
}

int main(void) {
    unsigned pid = (unsigned)getpid();
    own_addr = (127u << 24) | ((100 + pid % 150) << 16) | ((pid / 150 % 250 + 1) << 8) | 1;
    // A non-blocking connect that completes.
    int ls = listener(0);
    int port = port_of(ls);
    int c = client(SOCK_NONBLOCK);
    struct sockaddr_in a = lo(port);
    int rc = connect(c, (struct sockaddr *)&a, sizeof a);
    printf("non-blocking connect: %d %s\n", rc, err(rc));
    struct pollfd p = {.fd = c, .events = POLLOUT};
    rc = poll(&p, 1, 5000);
    printf("poll: %d revents %#x\n", rc, p.revents);
    printf("SO_ERROR: %d\n", so_error(c));
    rc = connect(c, (struct sockaddr *)&a, sizeof a);
    printf("connect again: %s\n", err(rc));
    rc = connect(c, (struct sockaddr *)&a, sizeof a);
    printf("and again: %s\n", err(rc));
    int s = accept(ls, NULL, NULL);
    printf("accepted: %d\n", s >= 0);

    // The client closes first: its port is in TIME_WAIT once the server
    // has closed too.
    int cport = port_of(c);
    close(c);
    drain_eof(s);
    close(s);
    usleep(100000);
    try_bind("bind to the port of the client that closed first", cport, 0);
    try_bind("bind to the port of the client that closed first", cport, 1);

    // The server closes first: its listening port stays taken after the
    // listener is gone, but a server with SO_REUSEADDR may have it again.
    close(ls);
    ls = listener(1);
    port = port_of(ls);
    c = client(0);
    a = lo(port);
    rc = connect(c, (struct sockaddr *)&a, sizeof a);
    printf("blocking connect: %s\n", err(rc));
    s = accept(ls, NULL, NULL);
    close(s);
    drain_eof(c);
    close(c);
    close(ls);
    usleep(100000);
    try_bind("bind to the port of the server that closed first", port, 0);
    try_bind("bind to the port of the server that closed first", port, 1);

    // The side that closed second holds nothing.
    ls = listener(0);
    port = port_of(ls);
    c = client(0);
    a = lo(port);
    connect(c, (struct sockaddr *)&a, sizeof a);
    cport = port_of(c);
    s = accept(ls, NULL, NULL);
    close(s);
    drain_eof(c);
    close(c);
    close(ls);
    usleep(100000);
    try_bind("bind to the port of the client that closed second", cport, 0);

    // Nobody listens: refused, at once or through SO_ERROR.
    ls = listener(0);
    port = port_of(ls);
    close(ls);
    c = client(0);
    a = lo(port);
    rc = connect(c, (struct sockaddr *)&a, sizeof a);
    printf("blocking connect to a closed port: %s\n", err(rc));
    close(c);
    c = client(SOCK_NONBLOCK);
    rc = connect(c, (struct sockaddr *)&a, sizeof a);
    printf("non-blocking connect to a closed port: %d %s\n", rc, err(rc));
    p.fd = c;
    p.events = POLLOUT;
    rc = poll(&p, 1, 5000);
    printf("poll: %d revents%s%s%s\n", rc, p.revents & POLLOUT ? " POLLOUT" : "",
           p.revents & POLLERR ? " POLLERR" : "", p.revents & POLLHUP ? " POLLHUP" : "");
    int e = so_error(c);
    printf("SO_ERROR: %s\n", e ? strerror(e) : "0");
    printf("SO_ERROR again: %d\n", so_error(c));
    close(c);
    return 0;
}
