// /proc/self/status shows the guest: Name, Pid/Tgid/PPid, Uid, one
// thread, the guest's blocked and caught signals, and memory sizes that
// are the guest's (not the VM's multi-gigabyte reservation).
//@ no-qemu: qemu-user shows its own /proc/self/status (its name, its threads)
#include "esc.h"
#include <signal.h>

static void h(int s) { (void)s; }

static const char *field(const char *t, const char *name) {
    static char v[256];
    const char *p = strstr(t, name);
    if (!p)
        return "missing";
    p += strlen(name);
    while (*p == ' ' || *p == '\t')
        p++;
    size_t k = strcspn(p, "\n");
    if (k > 255)
        k = 255;
    memcpy(v, p, k);
    v[k] = 0;
    return v;
}

int main(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGUSR2, h);
    signal(SIGHUP, SIG_IGN);
    char *t = slurp("/proc/self/status", NULL);
    if (!t)
        return 1;
    printf("Name: %s\n", field(t, "\nName:") == NULL ? "?" : field(t, "Name:"));
    printf("Pid mine: %s\n", atoi(field(t, "\nPid:")) == getpid() ? "yes" : "no");
    printf("Tgid mine: %s\n", atoi(field(t, "\nTgid:")) == getpid() ? "yes" : "no");
    printf("PPid mine: %s\n", atoi(field(t, "\nPPid:")) == getppid() ? "yes" : "no");
    printf("Uid mine: %s\n", atoi(field(t, "\nUid:")) == (int)getuid() ? "yes" : "no");
    printf("Threads: %s\n", field(t, "\nThreads:"));
    printf("SigBlk: %s\n", field(t, "\nSigBlk:"));
    printf("SigIgn has SIGHUP: %s\n", strtoull(field(t, "\nSigIgn:"), NULL, 16) & 1 ? "yes" : "no");
    printf("SigCgt has SIGUSR2: %s\n", strtoull(field(t, "\nSigCgt:"), NULL, 16) & (1 << 11) ? "yes" : "no");
    long vmsize = atol(field(t, "\nVmSize:")), rss = atol(field(t, "\nVmRSS:"));
    printf("VmSize under 1 GiB: %s\n", vmsize > 0 && vmsize < (1 << 20) ? "yes" : "no");
    printf("VmRSS present and <= VmSize: %s\n", rss > 0 && rss <= vmsize ? "yes" : "no");
    return 0;
}
