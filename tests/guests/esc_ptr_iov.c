// readv/writev/preadv with iovec arrays at hostile addresses, and with
// iovecs whose bases are hostile or whose lengths add up past 2^63.
#include "esc.h"
#include <sys/uio.h>

int main(void) {
    int fd = open("/proc/self/exe", O_RDONLY);
    int w = open("/dev/null", O_WRONLY);
    char buf[64];
    for (unsigned i = 0; i < NHOSTILE; i++) {
        unsigned long a = HOSTILE[i];
        errno = 0;
        long r1 = readv(fd, (struct iovec *)a, 1);
        int e1 = errno;
        struct iovec v = {(void *)a, 64};
        long r2 = readv(fd, &v, 1);
        int e2 = errno;
        long r3 = writev(w, &v, 1);
        int e3 = errno;
        printf("%#lx: iov array %s base read %s base write %s\n", a, r1 < 0 ? en(e1) : "ok",
               r2 < 0 ? en(e2) : "ok", r3 < 0 ? en(e3) : "ok");
    }
    void *k = (void *)0xffffffff80000000ul;
    struct iovec big[2] = {{k, 1ul << 62}, {k, 1ul << 62}};
    resn("lengths past 2^63", readv(fd, big, 2));
    struct iovec neg = {buf, -1ul};
    resn("negative length", writev(w, &neg, 1));
    resn("count 1025", readv(fd, big, 1025));
    resn("count -1", readv(fd, big, -1));
    struct iovec mix[2] = {{buf, 8}, {(void *)0xffffffff80000000ul, 8}};
    resn("good then hostile", preadv(fd, mix, 2, 0));
    return 0;
}
