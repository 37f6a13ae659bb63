// --sandbox without --allow-net: no socket of any family (a path socket
// would reach outside), while socketpair (which reaches nothing outside
// the guest) works.
//@ variants: static
//@ pvm-args: --sandbox
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is Linux's answer under pvm's rules
#define _GNU_SOURCE
#include "sbx.h"
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

int main(void) {
    int sv[2];
    SHOW("socket AF_INET", socket(AF_INET, SOCK_STREAM, 0));
    SHOW("socket AF_INET6 UDP", socket(AF_INET6, SOCK_DGRAM, 0));
    SHOW("socket AF_UNIX", socket(AF_UNIX, SOCK_STREAM, 0));
    SHOW("socket AF_NETLINK", socket(16, SOCK_RAW, 0));
    SHOW("socketpair AF_UNIX", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    SHOW("send", write(sv[0], "x", 1));
    char c;
    SHOW("recv", read(sv[1], &c, 1));
    return 0;
}
