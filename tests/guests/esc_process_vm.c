// process_vm_readv/writev on the guest's own pid move guest memory only,
// as Linux does for a process reading itself: guest addresses work,
// hostile remote addresses give EFAULT, a partial remote range a short
// count, unknown flags EINVAL, a missing pid ESRCH.
//@ no-qemu: qemu-riscv64 7.2 does not implement process_vm_readv/writev (ENOSYS)
#include "esc.h"
#include <sys/uio.h>

long global = 0x1234;

int main(void) {
    pid_t me = getpid();
    long v = 0;
    struct iovec l = {&v, 8}, r = {&global, 8};
    resn("readv own global", process_vm_readv(me, &l, 1, &r, 1, 0));
    printf("value: %#lx\n", v);
    v = 0x5678;
    resn("writev own global", process_vm_writev(me, &l, 1, &r, 1, 0));
    printf("global: %#lx\n", global);
    for (unsigned i = 0; i < NHOSTILE; i++) {
        struct iovec h = {(void *)HOSTILE[i], 8};
        errno = 0;
        long a = process_vm_readv(me, &l, 1, &h, 1, 0);
        int ea = errno;
        long b = process_vm_writev(me, &l, 1, &h, 1, 0);
        int eb = errno;
        long c = process_vm_readv(me, &h, 1, &r, 1, 0);
        int ec = errno;
        printf("%#lx: remote read %s remote write %s local %s\n", HOSTILE[i], a < 0 ? en(ea) : "ok",
               b < 0 ? en(eb) : "ok", c < 0 ? en(ec) : "ok");
    }
    char *p = edge_page();
    char big[64];
    struct iovec lb = {big, 64}, edge = {p + 4096 - 16, 64};
    resn("remote range ending in a hole", process_vm_readv(me, &lb, 1, &edge, 1, 0));
    resn("flags 1", process_vm_readv(me, &l, 1, &r, 1, 1));
    resn("pid 0x7ffffff0", process_vm_readv(0x7ffffff0, &l, 1, &r, 1, 0));
    resn("pid -1", process_vm_readv(-1, &l, 1, &r, 1, 0));
    resn("iovcnt 1025", process_vm_readv(me, &l, 1025, &r, 1, 0));
    return 0;
}
