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
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    // pvm's descriptors are above the hard limit the guest is shown: dup2
    // onto a number below the soft limit takes it, onto any other (pvm's
    // among them) is EBADF, as past any limit.
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    long taken = 0, refused = 0, other = 0;
    for (long n = 3; n < (long)rl.rlim_max + 128 && n < (1L << 20); n++) {
        if (n == dir)
            continue;
        int r = dup2(dir, n);
        if (n < (long)rl.rlim_cur && r == n)
            taken++;
        else if (n >= (long)rl.rlim_cur && r < 0 && errno == EBADF)
            refused++;
        else
            other++;
    }
    printf("dup2 below the soft limit takes the number: %s\n", taken > 0 && !other ? "yes" : "no");
    printf("dup2 onto pvm's descriptors refused: %s\n", refused >= 128 ? "yes" : "no");
    SHOW("close_range 3..", syscall(SYS_close_range, 3, ~0U, 0));
    int fd = open("mine", O_CREAT | O_WRONLY, 0644);
    SHOW("create after close_range", fd);
    SHOW("open /etc/passwd after close_range", open("/etc/passwd", O_RDONLY));
    SHOW("open /dev/null after close_range", open("/dev/null", O_RDONLY));
    return 0;
}
