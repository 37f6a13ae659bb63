// --max-open-files: RLIMIT_NOFILE that the guest cannot raise; opening
// past it fails with EMFILE (as Linux's limit does) and the guest goes on.
//@ variants: static
//@ pvm-args: --max-open-files 32
//@ no-qemu: qemu-riscv64 has no descriptor limit of its own
#include "sbx.h"
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

int main(void) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    printf("limit: %ld %ld\n", (long)rl.rlim_cur, (long)rl.rlim_max);
    int n = 0, fd;
    while ((fd = open("/dev/null", O_RDONLY)) >= 0)
        n++;
    printf("open past the limit: %s\n", errname(errno));
    printf("opened between 20 and 32: %s\n", n >= 20 && n < 32 ? "yes" : "no");
    SHOW("dup past the limit", dup(0));
    SHOW("dup2 to 40", dup2(0, 40));
    rl.rlim_cur = rl.rlim_max = 4096;
    SHOW("raise the limit", setrlimit(RLIMIT_NOFILE, &rl));
    rl.rlim_cur = 16;
    rl.rlim_max = 32;
    SHOW("lower the soft limit", setrlimit(RLIMIT_NOFILE, &rl));
    return 0;
}
