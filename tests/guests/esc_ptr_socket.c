// Socket calls with hostile pointers: socketpair's result, bind and
// connect addresses, sendto/recvfrom buffers and addresses, sendmsg and
// recvmsg headers, getsockopt/setsockopt values, getsockname: EFAULT.
#include "esc.h"
#include <sys/socket.h>
#define T(name, call) printf(" " name " %s", (call) < 0 ? en(errno) : "ok")

int main(void) {
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    for (unsigned i = 1; i < NHOSTILE; i++) {
        void *p = (void *)HOSTILE[i];
        int len = 16;
        printf("%#lx:", HOSTILE[i]);
        T("socketpair", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, p));
        T("bind", syscall(SYS_bind, sv[0], p, 16));
        T("connect", syscall(SYS_connect, sv[0], p, 16));
        T("sendto buf", syscall(SYS_sendto, sv[0], p, 16, MSG_DONTWAIT, NULL, 0));
        T("sendmsg", syscall(SYS_sendmsg, sv[0], p, MSG_DONTWAIT));
        T("recvmsg", syscall(SYS_recvmsg, sv[1], p, MSG_DONTWAIT));
        T("getsockopt", syscall(SYS_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, p, &len));
        T("setsockopt", syscall(SYS_setsockopt, sv[0], SOL_SOCKET, SO_RCVBUF, p, 4));
        T("getsockname", syscall(SYS_getsockname, sv[0], p, &len));
        printf("\n");
    }
    return 0;
}
