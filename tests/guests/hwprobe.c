// riscv_hwprobe (syscall 258) as Linux answers it on an RV64GC machine.
// The expectation is written by hand from the kernel's ABI
// (Documentation/arch/riscv/hwprobe.rst): base behaviour IMA, F+D and C
// present, V absent, unknown keys answered with key -1.
//@ no-qemu: qemu-riscv64 7.2 predates riscv_hwprobe and returns ENOSYS
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

struct pair {
    int64_t key;
    uint64_t value;
};

int main(void) {
    struct pair p[3] = {{3, 0}, {4, 0}, {12345, 77}};
    long r = syscall(258, p, 3, 0, NULL, 0);
    printf("riscv_hwprobe: %ld\n", r);
    printf("base behavior IMA: %d\n", p[0].key == 3 && p[0].value == 1);
    printf("IMA_EXT_0 key kept: %d\n", p[1].key == 4);
    printf("FD: %d C: %d V: %d\n", (int)(p[1].value & 1), (int)((p[1].value >> 1) & 1), (int)((p[1].value >> 2) & 1));
    printf("unknown key: %lld value %llu\n", (long long)p[2].key, (unsigned long long)p[2].value);
    printf("bad flags: %ld\n", syscall(258, p, 1, 0, NULL, 1) < 0);
    return 0;
}
