// Another guest process's memory through /proc/PID/mem is its guest
// memory only: reads and writes at guest addresses outside its mappings,
// past the guest's address space or at what would be host addresses
// (pvm's code, heap and stacks) fail with EIO; its maps name no address
// past the guest's space; process_vm_readv/writev into it stay refused.
//@ no-qemu: under qemu-user a parent reads its child's (qemu's) host memory through /proc/PID/mem
#include "esc.h"
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>

volatile long secret = 1234;

int main(void) {
    pid_t c = paused_child(&secret, 5678);
    if (c < 0)
        return 1;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", c);
    int fd = open(path, O_RDWR);
    res("child mem", fd);
    long v = 0;
    resn("read the child's secret", pread(fd, &v, 8, (long)&secret));
    printf("secret: %ld\n", v);
    static const unsigned long far[] = {
        0x1000,              // below every mapping
        0x1000000000UL,      // 64 GiB: past the guest's space
        0x1000010000UL,      // past its guard region
        0x555555554000UL,    // where a host PIE would be
        0x7ffff7dd0000UL,    // where host libraries would be
        0x7ffffffde000UL,    // where a host stack would be
        0xffffffffffff0000UL,
    };
    for (unsigned i = 0; i < sizeof far / sizeof far[0]; i++) {
        char b[8];
        char what[64];
        // (lseek: a mem file's offsets are unsigned, which pread's are not)
        snprintf(what, sizeof what, "read at %#lx", far[i]);
        lseek(fd, (off_t)far[i], SEEK_SET);
        resn(what, read(fd, b, 8));
        snprintf(what, sizeof what, "write at %#lx", far[i]);
        lseek(fd, (off_t)far[i], SEEK_SET);
        resn(what, write(fd, "xxxxxxxx", 8));
    }
    close(fd);
    snprintf(path, sizeof path, "/proc/%d/maps", c);
    size_t len = 0;
    char *maps = slurp(path, &len);
    unsigned long top = 0;
    for (char *l = maps; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
        unsigned long s, e;
        if (sscanf(l, "%lx-%lx", &s, &e) == 2 && e > top)
            top = e;
    }
    printf("maps: %s, all below 64 GiB: %s\n", maps ? "read" : en(errno),
           maps && top && top <= 0x1000000000UL ? "yes" : "no");
    struct iovec l = {&v, 8}, r = {(void *)&secret, 8};
    res("process_vm_readv child", syscall(SYS_process_vm_readv, c, &l, 1, &r, 1, 0));
    res("process_vm_writev child", syscall(SYS_process_vm_writev, c, &l, 1, &r, 1, 0));
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    res("process_vm_readv reaped", syscall(SYS_process_vm_readv, c, &l, 1, &r, 1, 0));
    return 0;
}
