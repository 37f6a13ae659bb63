// sendmmsg and recvmmsg, as glibc's DNS resolver and batching servers use
// them: a datagram socket pair and UDP on the loopback, msg_len of each
// message, MSG_WAITFORONE, a batch cut short by a bad message (the count
// of those that went through) or by a bad first one (the error), the
// timeout's checks, and vlen 0.
//@ no-qemu: qemu-riscv64 7.2 ignores recvmmsg's timeout (a zero one does not end the call after the first message, so the test blocks); the expectation is the output of this program built for the host and run natively
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *en(long r) { return r < 0 ? strerrorname_np(errno) : ""; }

static struct mmsghdr m[4];
static struct iovec iov[4];
static char buf[4][32];

static void fill(int n, struct sockaddr_in *to) {
    memset(m, 0, sizeof m);
    for (int i = 0; i < n; i++) {
        iov[i].iov_base = buf[i];
        iov[i].iov_len = sizeof buf[i];
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
        if (to) {
            m[i].msg_hdr.msg_name = &to[i];
            m[i].msg_hdr.msg_namelen = sizeof to[i];
        }
        m[i].msg_len = 12345;
    }
}

static void lens(const char *what, long r) {
    printf("%s: %ld %s lens", what, r, en(r));
    for (int i = 0; i < 4; i++)
        printf(" %u", m[i].msg_len);
    printf("\n");
}

int main(void) {
    int s[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, s))
        return 1;
    fill(3, NULL);
    strcpy(buf[0], "one");
    iov[0].iov_len = 3;
    strcpy(buf[1], "two!");
    iov[1].iov_len = 4;
    strcpy(buf[2], "three");
    iov[2].iov_len = 5;
    lens("sendmmsg of 3", sendmmsg(s[0], m, 3, 0));
    fill(4, NULL);
    lens("recvmmsg of up to 4, MSG_WAITFORONE", recvmmsg(s[1], m, 4, MSG_WAITFORONE, NULL));
    printf("got: %.*s %.*s %.*s\n", (int)m[0].msg_len, buf[0], (int)m[1].msg_len, buf[1],
           (int)m[2].msg_len, buf[2]);
    fill(2, NULL);
    lens("recvmmsg, nothing there, MSG_DONTWAIT", recvmmsg(s[1], m, 2, MSG_DONTWAIT, NULL));
    lens("sendmmsg, vlen 0", sendmmsg(s[0], m, 0, 0));
    // The second message's iovec is bad: the first goes through.
    fill(3, NULL);
    iov[0].iov_len = 2;
    iov[1].iov_base = (void *)8;
    lens("sendmmsg, second message bad", sendmmsg(s[0], m, 3, 0));
    fill(1, NULL);
    iov[0].iov_base = (void *)8;
    lens("sendmmsg, first message bad", sendmmsg(s[0], m, 1, 0));
    printf("sendmmsg, bad vector: %d %s\n", sendmmsg(s[0], (void *)8, 1, 0), en(-1));
    fill(4, NULL);
    struct timespec bad = {0, 1000000000};
    lens("recvmmsg, bad timeout", recvmmsg(s[1], m, 4, MSG_DONTWAIT, &bad));
    struct timespec t = {5, 0};
    lens("recvmmsg with a timeout", recvmmsg(s[1], m, 4, MSG_DONTWAIT, &t));
    printf("time left: %s\n", t.tv_sec <= 5 && t.tv_sec >= 3 ? "under 5 s" : "wrong");
    // Two more, then a timeout of zero: the call returns after the first.
    fill(2, NULL);
    iov[0].iov_len = iov[1].iov_len = 1;
    sendmmsg(s[0], m, 2, 0);
    fill(4, NULL);
    struct timespec zero = {0, 0};
    lens("recvmmsg, timeout 0", recvmmsg(s[1], m, 4, 0, &zero));
    fill(4, NULL);
    lens("recvmmsg, the one left", recvmmsg(s[1], m, 4, MSG_DONTWAIT, NULL));

    // UDP on the loopback: two datagrams to two sockets, names back.
    int u[3];
    struct sockaddr_in a[3];
    for (int i = 0; i < 3; i++) {
        u[i] = socket(AF_INET, SOCK_DGRAM, 0);
        memset(&a[i], 0, sizeof a[i]);
        a[i].sin_family = AF_INET;
        a[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t l = sizeof a[i];
        if (bind(u[i], (struct sockaddr *)&a[i], sizeof a[i]) ||
            getsockname(u[i], (struct sockaddr *)&a[i], &l))
            return 2;
    }
    struct sockaddr_in to[2] = {a[1], a[2]};
    fill(2, to);
    strcpy(buf[0], "to one");
    iov[0].iov_len = 6;
    strcpy(buf[1], "to two");
    iov[1].iov_len = 6;
    lens("UDP sendmmsg to two sockets", sendmmsg(u[0], m, 2, 0));
    for (int k = 1; k <= 2; k++) {
        struct sockaddr_in from[4];
        fill(4, from);
        long r = recvmmsg(u[k], m, 4, MSG_WAITFORONE, NULL);
        printf("socket %d: %ld %.*s from the sender: %s, namelen %u\n", k, r, (int)m[0].msg_len,
               buf[0], from[0].sin_port == a[0].sin_port ? "yes" : "no", m[0].msg_hdr.msg_namelen);
    }
    return 0;
}
