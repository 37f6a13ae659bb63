// Process and system queries a runtime makes at start-up.
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct utsname u;
    uname(&u);
    printf("sysname %s machine %s\n", u.sysname, u.machine);
    printf("pid positive: %d ppid positive: %d tid==pid: %d\n", getpid() > 0, getppid() > 0, gettid() == getpid());
    printf("uid==euid: %d gid==egid: %d\n", getuid() == geteuid(), getgid() == getegid());
    struct rlimit rl;
    printf("getrlimit stack: %d cur>0 %d\n", getrlimit(RLIMIT_STACK, &rl), rl.rlim_cur > 0);
    printf("getrlimit nofile: %d\n", getrlimit(RLIMIT_NOFILE, &rl));
    struct sysinfo si;
    printf("sysinfo: %d totalram>0 %d\n", sysinfo(&si), si.totalram > 0);
    cpu_set_t set;
    CPU_ZERO(&set);
    printf("sched_getaffinity: %d cpus>0 %d\n", sched_getaffinity(0, sizeof set, &set), CPU_COUNT(&set) > 0);
    printf("nprocs>0: %d\n", sysconf(_SC_NPROCESSORS_ONLN) > 0);
    printf("sched_yield: %d\n", sched_yield());
    printf("isatty(1): %d\n", isatty(1));
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    printf("/proc/self/exe names the program: %d\n", n > 0 && strstr(exe, "sysinfo") != NULL);
    printf("AT_PAGESZ %lu AT_HWCAP IMAFDC %d\n", getauxval(AT_PAGESZ),
           (getauxval(AT_HWCAP) & 0x112d) == 0x112d);
    printf("AT_ENTRY nonzero %d AT_PHNUM nonzero %d AT_EXECFN names program %d\n", getauxval(AT_ENTRY) != 0,
           getauxval(AT_PHNUM) != 0, strstr((char *)getauxval(AT_EXECFN), "sysinfo") != NULL);
    printf("AT_SECURE %lu\n", getauxval(AT_SECURE));
    char host[256];
    printf("gethostname: %d\n", gethostname(host, sizeof host));
    (void)argc;
    (void)argv;
    return 0;
}
