// /proc/self/mem reads and writes the guest's own memory at guest
// addresses, as on Linux: a write through it is seen by the program, a
// read gives what the program stored, lseek takes guest addresses.
#include "esc.h"

volatile long global = 0x1122334455667788;

int main(void) {
    int fd = open("/proc/self/mem", O_RDWR);
    res("open", fd);
    long v = 0;
    resn("pread global", pread(fd, &v, sizeof v, (off_t)(uintptr_t)&global));
    printf("value read: %s\n", v == global ? "same" : "different");
    long w = 0x0102030405060708;
    resn("pwrite global", pwrite(fd, &w, sizeof w, (off_t)(uintptr_t)&global));
    printf("program sees the write: %s\n", global == w ? "yes" : "no");
    off_t o = lseek(fd, (off_t)(uintptr_t)&global, SEEK_SET);
    printf("lseek to a guest address: %s\n", o == (off_t)(uintptr_t)&global ? "yes" : "no");
    global = 77;
    v = 0;
    resn("read at position", read(fd, &v, sizeof v));
    printf("read value: %ld\n", v);
    printf("position moved: %s\n",
           lseek(fd, 0, SEEK_CUR) == (off_t)(uintptr_t)&global + 8 ? "yes" : "no");
    char stackbuf[32] = "on the stack";
    char got[32] = {0};
    resn("pread stack", pread(fd, got, sizeof got, (off_t)(uintptr_t)stackbuf));
    printf("stack: %s\n", got);
    close(fd);
    return 0;
}
