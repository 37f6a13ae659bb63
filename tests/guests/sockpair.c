// AF_UNIX socketpairs: stream and datagram, SCM_RIGHTS descriptor passing,
// SCM_CREDENTIALS, shutdown, socket options and names.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(void) {
    int sv[2];
    printf("socketpair: %d\n", socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    printf("cloexec: %d\n", fcntl(sv[0], F_GETFD) & FD_CLOEXEC);
    int pipefd[2];
    pipe(pipefd);

    // Send the pipe's read end with two bytes of data.
    char data[2] = {'f', 'd'};
    struct iovec iov = {.iov_base = data, .iov_len = 2};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                         .msg_controllen = sizeof ctl.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pipefd[0], sizeof(int));
    printf("sendmsg: %zd\n", sendmsg(sv[0], &msg, 0));

    char rbuf[16] = {0};
    struct iovec riov[2] = {{rbuf, 1}, {rbuf + 8, 8}};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } rctl;
    struct msghdr rmsg = {.msg_iov = riov, .msg_iovlen = 2, .msg_control = rctl.buf,
                          .msg_controllen = sizeof rctl.buf};
    ssize_t n = recvmsg(sv[1], &rmsg, MSG_CMSG_CLOEXEC);
    printf("recvmsg: %zd data %c%c flags %d controllen %zu\n", n, rbuf[0], rbuf[8], rmsg.msg_flags,
           (size_t)rmsg.msg_controllen);
    struct cmsghdr *rc = CMSG_FIRSTHDR(&rmsg);
    int got = -1;
    if (rc && rc->cmsg_level == SOL_SOCKET && rc->cmsg_type == SCM_RIGHTS)
        memcpy(&got, CMSG_DATA(rc), sizeof got);
    printf("got a new fd: %d cloexec %d\n", got > pipefd[1], got >= 0 && (fcntl(got, F_GETFD) & FD_CLOEXEC));
    write(pipefd[1], "via passed fd", 13);
    char pbuf[32] = {0};
    printf("read through it: %zd '%s'\n", read(got, pbuf, sizeof pbuf), pbuf);

    // Credentials: the receiver asks for them, the sender names itself.
    int on = 1;
    printf("SO_PASSCRED: %d\n", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(struct ucred))];
    } cctl;
    memset(&cctl, 0, sizeof cctl);
    struct ucred uc = {.pid = getpid(), .uid = getuid(), .gid = getgid()};
    msg.msg_control = cctl.buf;
    msg.msg_controllen = sizeof cctl.buf;
    c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS;
    c->cmsg_len = CMSG_LEN(sizeof uc);
    memcpy(CMSG_DATA(c), &uc, sizeof uc);
    printf("sendmsg creds: %zd\n", sendmsg(sv[0], &msg, 0));
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(struct ucred))];
    } rcc;
    riov[0].iov_len = 16;
    rmsg.msg_iovlen = 1;
    rmsg.msg_control = rcc.buf;
    rmsg.msg_controllen = sizeof rcc.buf;
    n = recvmsg(sv[1], &rmsg, 0);
    rc = CMSG_FIRSTHDR(&rmsg);
    struct ucred ruc = {0};
    if (rc && rc->cmsg_type == SCM_CREDENTIALS) memcpy(&ruc, CMSG_DATA(rc), sizeof ruc);
    printf("recv creds: %zd pid ok %d uid ok %d gid ok %d\n", n, ruc.pid == getpid(),
           ruc.uid == getuid(), ruc.gid == getgid());
    struct ucred peer;
    socklen_t len = sizeof peer;
    printf("SO_PEERCRED: %d pid ok %d len %u\n",
           getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &peer, &len), peer.pid == getpid(), len);
    int type = 0;
    len = sizeof type;
    getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len);
    printf("SO_TYPE stream: %d len %u\n", type == SOCK_STREAM, len);
    struct sockaddr_un sun;
    len = sizeof sun;
    printf("getsockname: %d family %d len %u\n", getsockname(sv[0], (struct sockaddr *)&sun, &len),
           sun.sun_family, len);
    len = sizeof sun;
    printf("getpeername: %d len %u\n", getpeername(sv[0], (struct sockaddr *)&sun, &len), len);

    // shutdown: the peer reads end of file; sending then breaks.
    printf("shutdown: %d\n", shutdown(sv[0], SHUT_WR));
    printf("peer reads eof: %zd\n", recv(sv[1], rbuf, sizeof rbuf, 0));
    printf("send after shutdown: %zd EPIPE %d\n", send(sv[0], "x", 1, MSG_NOSIGNAL), errno == EPIPE);

    // Datagrams keep their boundaries; a short buffer truncates.
    int dv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, dv);
    send(dv[0], "first message", 13, 0);
    send(dv[0], "second", 6, 0);
    char small[5] = {0};
    struct iovec siov = {small, 5};
    struct msghdr smsg = {.msg_iov = &siov, .msg_iovlen = 1};
    n = recvmsg(dv[1], &smsg, 0);
    printf("truncated: %zd '%.5s' MSG_TRUNC %d\n", n, small, (smsg.msg_flags & MSG_TRUNC) != 0);
    n = recv(dv[1], rbuf, sizeof rbuf, MSG_TRUNC);
    printf("second: %zd\n", n);
    printf("nothing: %zd EAGAIN %d\n", recv(dv[1], rbuf, sizeof rbuf, MSG_DONTWAIT), errno == EAGAIN);
    printf("not a socket: %d ENOTSOCK %d\n", shutdown(pipefd[0], SHUT_RD), errno == ENOTSOCK);
    printf("bad fd: %zd EBADF %d\n", send(99, "x", 1, 0), errno == EBADF);
    printf("bad family: %d EAFNOSUPPORT %d\n", socket(12345, SOCK_STREAM, 0), errno == EAFNOSUPPORT);
    return 0;
}
