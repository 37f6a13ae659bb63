// preadv2/pwritev2 with RWF_* flags, which glibc cannot emulate.
//@ no-qemu: qemu-riscv64 has no preadv2/pwritev2 (ENOSYS); this output is what the same program gives natively on x86-64 Linux
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void) {
    char path[] = "/tmp/pvm-rw2-XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    write(fd, "0123456789", 10);
    char a1[3] = {0}, a2[4] = {0};
    struct iovec iv[2] = {{a1, 2}, {a2, 3}};
    ssize_t n = preadv2(fd, iv, 2, 1, RWF_HIPRI);
    printf("preadv2 hipri: %zd '%s' '%s'\n", n, a1, a2);
    lseek(fd, 4, SEEK_SET);
    memset(a1, 0, 3);
    memset(a2, 0, 4);
    n = preadv2(fd, iv, 2, -1, RWF_HIPRI);
    printf("preadv2 pos: %zd '%s' '%s' pos %ld\n", n, a1, a2, (long)lseek(fd, 0, SEEK_CUR));
    struct iovec wv[2] = {{"AB", 2}, {"C", 1}};
    printf("pwritev2 dsync: %zd\n", pwritev2(fd, wv, 2, 0, RWF_DSYNC));
    printf("pwritev2 append: %zd\n", pwritev2(fd, wv, 1, 0, RWF_APPEND));
    char buf[16] = {0};
    pread(fd, buf, sizeof buf - 1, 0);
    printf("file: '%s'\n", buf);
    n = pwritev2(fd, wv, 1, 0, 0x1000);
    printf("bad flags: %zd EOPNOTSUPP %d\n", n, errno == EOPNOTSUPP);
    n = preadv2(fd, iv, 1, -5, RWF_HIPRI);
    printf("bad offset: %zd EINVAL %d\n", n, errno == EINVAL);
    n = preadv2(99, iv, 1, 0, RWF_HIPRI);
    printf("bad fd: %zd EBADF %d\n", n, errno == EBADF);
    return 0;
}
