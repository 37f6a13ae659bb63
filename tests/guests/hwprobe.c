// riscv_hwprobe (syscall 258) as Linux answers it on an RV64GC machine
// (see vm-core/src/syscall/hwprobe.rs for the machine). The expectation is
// written by hand from the kernel's sys_hwprobe.c (RISCV_HWPROBE_MAX_KEY 14,
// as in Linux 6.16) and Documentation/arch/riscv/hwprobe.rst: every key
// Linux knows, unknown keys, the CPU-set argument and the
// RISCV_HWPROBE_WHICH_CPUS mode.
//@ no-qemu: qemu-riscv64 7.2 predates riscv_hwprobe and returns ENOSYS
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct pair {
    int64_t key;
    uint64_t value;
};

static const char *names[] = {
    "MVENDORID", "MARCHID", "MIMPID", "BASE_BEHAVIOR", "IMA_EXT_0",
    "CPUPERF_0", "ZICBOZ_BLOCK_SIZE", "HIGHEST_VIRT_ADDRESS", "TIME_CSR_FREQ",
    "MISALIGNED_SCALAR_PERF", "MISALIGNED_VECTOR_PERF", "VENDOR_EXT_THEAD_0",
    "ZICBOM_BLOCK_SIZE", "VENDOR_EXT_SIFIVE_0", "VENDOR_EXT_MIPS_0",
};

static long hwprobe(struct pair *p, long n, long setsize, void *cpus, long flags) {
    long r = syscall(258, p, n, setsize, cpus, flags);
    return r < 0 ? -errno : r;
}

int main(void) {
    struct pair p[17];
    for (int k = 0; k < 15; k++) p[k] = (struct pair){k, 77};
    p[15] = (struct pair){12345, 77};
    p[16] = (struct pair){-5, 77};
    printf("riscv_hwprobe: %ld\n", hwprobe(p, 17, 0, NULL, 0));
    for (int k = 0; k < 15; k++) {
        if (k == 7) {
            // The top of the user address space depends on the VM (qemu:
            // 2^38 or more; Linux Sv39: 2^38 - 1...): print its shape only.
            uint64_t v = p[k].value;
            printf("%2lld %-22s all ones below a power of two: %d, >= 2^32: %d\n",
                   (long long)p[k].key, names[k], (v & (v + 1)) == 0, v >= (1ull << 32));
            continue;
        }
        printf("%2lld %-22s %#llx\n", (long long)p[k].key, names[k], (unsigned long long)p[k].value);
    }
    for (int k = 15; k < 17; k++)
        printf("unknown key: %lld value %llu\n", (long long)p[k].key, (unsigned long long)p[k].value);

    uint64_t ext = p[4].value;
    printf("FD %d C %d V %d Zca %d Zcd %d Zcf %d Zaamo %d Zalrsc %d Zicntr %d Zihpm %d Zba %d Zbb %d\n",
           (int)(ext & 1), (int)(ext >> 1 & 1), (int)(ext >> 2 & 1), (int)(ext >> 43 & 1),
           (int)(ext >> 45 & 1), (int)(ext >> 46 & 1), (int)(ext >> 56 & 1), (int)(ext >> 57 & 1),
           (int)(ext >> 50 & 1), (int)(ext >> 51 & 1), (int)(ext >> 3 & 1), (int)(ext >> 4 & 1));

    // The time CSR advances at the frequency key 8 reports.
    uint64_t t0, t1;
    __asm__ volatile("rdtime %0" : "=r"(t0));
    usleep(100000);
    __asm__ volatile("rdtime %0" : "=r"(t1));
    double secs = (double)(t1 - t0) / (double)p[8].value;
    printf("rdtime over 100 ms at TIME_CSR_FREQ: %d\n", secs > 0.09 && secs < 1.0);

    // The CPU set: CPU 0 alone is fine; a set with no online CPU is not.
    uint8_t set[128];
    memset(set, 0, sizeof set);
    set[0] = 1;
    struct pair q = {4, 0};
    printf("cpu 0 only: %ld ext %s\n", hwprobe(&q, 1, sizeof set, set, 0), q.value == ext ? "same" : "differs");
    set[0] = 0;
    printf("empty set: %ld\n", hwprobe(&q, 1, sizeof set, set, 0));
    printf("set size without set: %ld\n", hwprobe(&q, 1, 8, NULL, 0));
    printf("set without size: %ld\n", hwprobe(&q, 1, 0, set, 0));
    printf("bad flags: %ld\n", hwprobe(&q, 1, 0, NULL, 2));
    printf("bad pairs: %ld\n", hwprobe((struct pair *)8, 1, 0, NULL, 0));
    printf("no pairs: %ld\n", hwprobe(NULL, 0, 0, NULL, 0));

    // WHICH_CPUS: an empty set stands for all online CPUs; CPU 0 stays
    // when every pair matches and goes otherwise.
    struct pair w[2] = {{4, 3}, {3, 1}};
    memset(set, 0, sizeof set);
    long r = hwprobe(w, 2, sizeof set, set, 1);
    printf("which_cpus FD|C and IMA: %ld cpu0 %d\n", r, set[0] & 1);
    w[0] = (struct pair){4, 1 << 2};
    memset(set, 0, sizeof set);
    set[0] = 1;
    r = hwprobe(w, 2, sizeof set, set, 1);
    printf("which_cpus V: %ld cpu0 %d\n", r, set[0] & 1);
    w[0] = (struct pair){9, 3};
    set[0] = 1;
    r = hwprobe(w, 1, sizeof set, set, 1);
    printf("which_cpus misaligned fast: %ld cpu0 %d\n", r, set[0] & 1);
    w[0] = (struct pair){99, 3};
    w[1] = (struct pair){3, 1};
    set[0] = 1;
    r = hwprobe(w, 2, sizeof set, set, 1);
    printf("which_cpus unknown key: %ld cpu0 %d key %lld value %llu\n", r, set[0] & 1,
           (long long)w[0].key, (unsigned long long)w[0].value);
    printf("which_cpus without set: %ld\n", hwprobe(w, 1, 0, NULL, 1));
    printf("which_cpus bad flags: %ld\n", hwprobe(w, 1, sizeof set, set, 3));
    return 0;
}
