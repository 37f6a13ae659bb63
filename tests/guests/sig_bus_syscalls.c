// System calls given guest memory on pages gone under a file mapping (its
// file truncated under it) answer as Linux does: EFAULT when nothing could
// be copied, else the count of bytes copied before the gone page, for
// calls whose data pvm copies itself (writev's and sendmsg's gather,
// readv's scatter, socket addresses, socket options, extended attribute
// values, the move of mremap) as for those the host kernel
// copies (read, write, send, recv); no signal is raised and pvm goes on.
// (An x86-64 build of this file gives the same output natively.)
//@ no-qemu: qemu-riscv64 itself dies in its own copies of such memory (an assertion in cpu_exec after the host SIGBUS); the expectation is the x86-64 build's native output
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

static void show(const char *what, long r) {
    printf("%s: %ld %s\n", what, r, r < 0 ? strerrorname_np(errno) : "");
}

static int p[2], s[2];

// Empty the pipe and the socket pair (what an earlier call left there).
static void drain(void) {
    char b[256];
    while (read(p[0], b, sizeof b) > 0)
        ;
    while (recv(s[1], b, sizeof b, MSG_DONTWAIT) > 0)
        ;
}

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    int fd = open("sigbus_sys.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
    static char buf[4 * 4096];
    memset(buf, 'a', sizeof buf);
    if (fd < 0 || write(fd, buf, 4 * page) != 4 * page)
        return 1;
    char *m = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        return 2;
    if (ftruncate(fd, page))
        return 3;
    char *gone = m + page, *end = m + page - 4; // 4 bytes before the gone page
    if (pipe2(p, O_NONBLOCK) || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, s))
        return 4;
    show("write from the gone page", write(p[1], gone, 8));
    drain();
    show("write across into it", write(p[1], end, 8));
    drain();
    struct iovec v[2] = {{m, 4}, {gone, 4}};
    show("writev, second part gone", writev(p[1], v, 2));
    drain();
    struct iovec w[2] = {{gone, 4}, {m, 4}};
    show("writev, first part gone", writev(p[1], w, 2));
    drain();
    struct iovec x[2] = {{m, 4}, {end, 8}};
    show("writev, second part across", writev(p[1], x, 2));
    drain();
    int f2 = open("sigbus_sys2.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
    show("pwritev to a file, second part gone", pwritev(f2, v, 2, 0));
    show("pwritev to a file, first part gone", pwritev(f2, w, 2, 0));
    show("pwrite to a file across into it", pwrite(f2, end, 8, 0));
    unlink("sigbus_sys2.bin");
    write(p[1], "0123456789abcdef", 16);
    show("read into the gone page", read(p[0], gone, 4));
    show("readv, second part gone", readv(p[0], v, 2));
    drain();
    write(p[1], "0123456789abcdef", 16);
    show("readv, first part gone", readv(p[0], w, 2));
    drain();
    show("send from the gone page", send(s[0], gone, 4, 0));
    drain();
    struct msghdr h = {.msg_iov = v, .msg_iovlen = 2};
    show("sendmsg, second part gone", sendmsg(s[0], &h, 0));
    drain();
    h.msg_iov = w;
    show("sendmsg, first part gone", sendmsg(s[0], &h, 0));
    drain();
    send(s[0], "xyz", 3, 0);
    show("recv into the gone page", recv(s[1], gone, 4, 0));
    drain();
    show("sendto, address in the gone page", sendto(s[0], m, 4, 0, (struct sockaddr *)gone, sizeof(struct sockaddr_un)));
    show("connect, address in the gone page", connect(s[0], (struct sockaddr *)gone, sizeof(struct sockaddr_un)));
    show("setsockopt, value in the gone page", setsockopt(s[0], SOL_SOCKET, SO_RCVBUF, gone, 4));
    show("setxattr, value in the gone page", setxattr("sigbus_sys.bin", "user.x", gone, 4, 0));
    unlink("sigbus_sys.bin");
    // Moved by mremap: the part inside the file keeps its bytes.
    char *n = mremap(m, 4 * page, 8 * page, MREMAP_MAYMOVE);
    printf("mremap: %s, first byte %c\n", n == MAP_FAILED ? strerrorname_np(errno) : "moved", n == MAP_FAILED ? '-' : n[0]);
    return 0;
}
