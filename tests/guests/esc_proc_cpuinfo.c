// /proc/cpuinfo is a RISC-V machine's, as riscv_hwprobe describes it: one
// "processor" block per CPU, an rv64 ISA string with i, m, a, f, d and c,
// and nothing of the host's CPU.
//@ no-qemu: qemu-riscv64 7.2 shows the host's /proc/cpuinfo
#include "esc.h"

int main(void) {
    char *t = slurp("/proc/cpuinfo", NULL);
    if (!t) {
        printf("cpuinfo: %s\n", en(errno));
        return 1;
    }
    int procs = 0;
    for (char *p = t; (p = strstr(p, "processor")); p++)
        procs++;
    printf("processors match sysconf: %s\n", procs == sysconf(_SC_NPROCESSORS_CONF) ? "yes" : "no");
    char *isa = strstr(t, "\nisa");
    char isastr[64] = {0};
    if (isa) {
        isa = strchr(isa, ':') + 2;
        memcpy(isastr, isa, strcspn(isa, "\n_") < 63 ? strcspn(isa, "\n_") : 63);
    }
    printf("isa starts with rv64imafdc: %s\n", strncmp(isastr, "rv64imafdc", 10) == 0 ? "yes" : "no");
    printf("has hart lines: %s\n", strstr(t, "\nhart") ? "yes" : "no");
    printf("mentions the host: %s\n",
           strstr(t, "GenuineIntel") || strstr(t, "AuthenticAMD") || strstr(t, "x86") || strstr(t, "flags\t") ? "yes" : "no");
    return 0;
}
