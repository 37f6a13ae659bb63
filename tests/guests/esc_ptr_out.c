// Calls that write a structure back (fstat, statx, statfs, uname,
// sysinfo, getrusage, times, clock_gettime, gettimeofday, getcwd,
// getrandom, pipe2, getresuid, getgroups, prlimit, sched_getaffinity)
// given hostile output pointers fail with EFAULT and write nothing of the
// VM's.
#include "esc.h"
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>

int main(void) {
    for (unsigned i = 1; i < NHOSTILE; i++) {
        void *p = (void *)HOSTILE[i];
        printf("%#lx:", HOSTILE[i]);
#define T(name, call) printf(" " name " %s", (call) < 0 ? en(errno) : "ok")
        T("fstat", syscall(SYS_fstat, 0, p));
        T("statx", syscall(SYS_statx, AT_FDCWD, ".", 0, 0x7ff, p));
        T("statfs", syscall(SYS_statfs, ".", p));
        T("uname", syscall(SYS_uname, p));
        T("sysinfo", syscall(SYS_sysinfo, p));
        T("getrusage", syscall(SYS_getrusage, 0, p));
        T("clock_gettime", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, p));
        T("gettimeofday", syscall(SYS_gettimeofday, p, NULL));
        T("getcwd", syscall(SYS_getcwd, p, 64));
        T("getrandom", syscall(SYS_getrandom, p, 16, 0));
        T("pipe2", syscall(SYS_pipe2, p, 0));
        T("getresuid", syscall(SYS_getresuid, p, p, p));
        T("prlimit", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, p));
        T("getaffinity", syscall(SYS_sched_getaffinity, 0, 128, p));
        printf("\n");
    }
    return 0;
}
