// Resident memory as a process sees its own: /proc/self/statm, stat,
// status and smaps count the pages it touched (not every page it mapped),
// give pages back on MADV_DONTNEED, and after a fork show the pages parent
// and child still share as shared, not private; getrusage's ru_maxrss and
// fault counters count them too. Sizes are checked within margins (a
// transparent huge page may bring in up to 2 MiB more).
//@ no-qemu: qemu-riscv64 makes up /proc/self/stat with no resident page (its statm and status are its own host process's)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024L * 1024)
#define LEN (64 * MIB)
#define SLACK (3 * MIB)

static const char *yes(int c) { return c ? "yes" : "no"; }

static char buf[1 << 20];

static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/// Resident bytes by statm.
static long statm_rss(void) {
    long size, res;
    char *s = slurp("/proc/self/statm");
    if (!s || sscanf(s, "%ld %ld", &size, &res) != 2)
        return -1;
    return res * sysconf(_SC_PAGESIZE);
}

/// Resident bytes by stat (field 24).
static long stat_rss(void) {
    char *s = slurp("/proc/self/stat");
    if (!s)
        return -1;
    char *p = strrchr(s, ')');
    long v = -1;
    for (int field = 2; p && field < 24; field++)
        p = strchr(p + 1, ' ');
    if (p)
        v = atol(p + 1);
    return v * sysconf(_SC_PAGESIZE);
}

/// A `status` line's value in bytes.
static long status_kb(const char *key) {
    char *s = slurp("/proc/self/status");
    char *p = s ? strstr(s, key) : NULL;
    return p ? atol(p + strlen(key)) * 1024 : -1;
}

/// Field `key` (bytes) of the smaps entry that starts at `at`.
static long smaps_field(void *at, const char *key) {
    char *s = slurp("/proc/self/smaps");
    char head[32];
    snprintf(head, sizeof head, "%lx-", (unsigned long)at);
    char *e = s;
    while (e && strncmp(e, head, strlen(head)) != 0) {
        e = strchr(e, '\n');
        if (e)
            e++;
    }
    if (!e)
        return -1;
    char *p = strstr(e, key);
    return p ? atol(p + strlen(key)) * 1024 : -1;
}

static void touch(char *p, long len, char v) {
    for (long i = 0; i < len; i += 4096)
        p[i] = v;
}

int main(void) {
    long r0 = statm_rss();
    // Inaccessible pages on both sides keep the mapping its own smaps
    // entry (an anonymous neighbour with its permissions would merge).
    char *g = mmap(NULL, LEN + 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g == MAP_FAILED)
        return 1;
    char *m = g + 4096;
    if (mprotect(m, LEN, PROT_READ | PROT_WRITE) != 0)
        return 1;
    long r1 = statm_rss();
    printf("statm: an untouched mapping is not resident: %s\n", yes(r1 - r0 < SLACK));
    struct rusage ru0;
    getrusage(RUSAGE_SELF, &ru0);
    touch(m, 16 * MIB, 1);
    long r2 = statm_rss();
    printf("statm: 16 MiB touched are resident: %s\n",
           yes(r2 - r1 >= 16 * MIB && r2 - r1 < 16 * MIB + SLACK));
    long st = stat_rss(), vm = status_kb("\nVmRSS:");
    printf("stat and status agree with statm: %s %s\n", yes(labs(st - r2) < SLACK),
           yes(labs(vm - r2) < SLACK));
    printf("status: RssAnon holds them: %s\n", yes(status_kb("\nRssAnon:") >= 16 * MIB));
    printf("status: VmHWM >= VmRSS: %s\n", yes(status_kb("\nVmHWM:") >= status_kb("\nVmRSS:")));
    long rss = smaps_field(m, "\nRss:"), pd = smaps_field(m, "\nPrivate_Dirty:");
    long an = smaps_field(m, "\nAnonymous:"), size = smaps_field(m, "\nSize:");
    printf("smaps: Size is the mapping: %s\n", yes(size == LEN));
    printf("smaps: Rss, Private_Dirty, Anonymous are what was touched: %s %s %s\n",
           yes(rss >= 16 * MIB && rss < 16 * MIB + SLACK), yes(pd >= 16 * MIB && pd <= rss),
           yes(an == rss));
    struct rusage ru1;
    getrusage(RUSAGE_SELF, &ru1);
    printf("getrusage: ru_maxrss counts them: %s\n", yes(ru1.ru_maxrss * 1024 >= 16 * MIB));
    printf("getrusage: minor faults counted: %s\n", yes(ru1.ru_minflt > ru0.ru_minflt));
    madvise(m, 8 * MIB, MADV_DONTNEED);
    long r3 = statm_rss();
    printf("MADV_DONTNEED gives 8 MiB back: %s\n", yes(r2 - r3 >= 8 * MIB - SLACK));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        long crss = smaps_field(m, "\nRss:"), cpd = smaps_field(m, "\nPrivate_Dirty:");
        long csd = smaps_field(m, "\nShared_Dirty:");
        printf("child: the parent's pages are resident, shared, not private: %s %s %s\n",
               yes(crss >= 8 * MIB), yes(cpd < SLACK), yes(csd >= 8 * MIB - SLACK));
        touch(m + 8 * MIB, 4 * MIB, 2);
        cpd = smaps_field(m, "\nPrivate_Dirty:");
        printf("child: pages it wrote are its own: %s\n", yes(cpd >= 4 * MIB && cpd < 4 * MIB + SLACK));
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    struct rusage kids;
    getrusage(RUSAGE_CHILDREN, &kids);
    printf("getrusage(RUSAGE_CHILDREN): the child's ru_maxrss: %s\n", yes(kids.ru_maxrss > 0));
    printf("child exited 0: %s\n", yes(WIFEXITED(status) && WEXITSTATUS(status) == 0));
    return 0;
}
