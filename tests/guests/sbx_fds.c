// --sandbox: the descriptors pvm keeps for the allowed directories cannot
// be replaced, closed or used by the guest: dup2 onto them fails, a
// close_range over everything leaves them, and files stay reachable as
// the rules say (no more, no less) afterwards.
//@ variants: static
//@ pvm-args: --sandbox --allow-write {dir}
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is Linux's answer under pvm's rules
#define _GNU_SOURCE
#include "sbx.h"
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    int refused = 0;
    for (int n = 3; n < 2048; n++) {
        if (n == dir)
            continue;
        if (dup2(dir, n) < 0 && errno == EBADF)
            refused++;
    }
    printf("dup2 onto pvm's descriptors refused: %s\n", refused > 0 ? "yes" : "no");
    SHOW("close_range 3..", syscall(SYS_close_range, 3, ~0U, 0));
    int fd = open("mine", O_CREAT | O_WRONLY, 0644);
    SHOW("create after close_range", fd);
    SHOW("open /etc/passwd after close_range", open("/etc/passwd", O_RDONLY));
    SHOW("open /dev/null after close_range", open("/dev/null", O_RDONLY));
    return 0;
}
