// read, write, pread, pwrite with buffers at hostile addresses (NULL, the
// top of the 47-bit range, the kernel half, values that wrap) fail with
// EFAULT; a buffer whose tail runs into an inaccessible page moves the
// bytes before it (a short count), as Linux does.
//@ no-qemu: qemu-user checks a whole buffer before the call (EFAULT) where Linux moves the bytes before the bad page
#include "esc.h"

int main(void) {
    int fd = open("/proc/self/exe", O_RDONLY);
    int w = open("/dev/null", O_WRONLY);
    for (unsigned i = 0; i < NHOSTILE; i++) {
        unsigned long a = HOSTILE[i];
        errno = 0;
        long r1 = read(fd, (void *)a, 64);
        int e1 = errno;
        long r2 = pread(fd, (void *)a, 64, 0);
        int e2 = errno;
        long r3 = write(w, (void *)a, 64);
        int e3 = errno;
        printf("%#lx: read %s pread %s write %s\n", a, r1 < 0 ? en(e1) : "ok", r2 < 0 ? en(e2) : "ok",
               r3 < 0 ? en(e3) : "ok");
    }
    char *p = edge_page();
    resn("read into the last 16 bytes + beyond", pread(fd, p + 4096 - 16, 64, 0));
    char tmp[64];
    snprintf(tmp, sizeof tmp, "esc-ptr-rw-%d", getpid());
    int f = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600);
    unlink(tmp);
    resn("write from the last 16 bytes + beyond", write(f, p + 4096 - 16, 64));
    resn("read from wrapping end", read(fd, (void *)0xfffffffffffffff0ul, 64));
    return 0;
}
