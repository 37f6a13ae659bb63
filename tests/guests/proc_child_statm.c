// /proc/<pid>/statm, status and stat of another process (a child) show
// that process's memory, not the reader's: the child maps 32 MiB and
// touches 16 MiB of it while the parent, which maps nothing, watches its
// figures grow; once the child is a zombie its memory figures are gone.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAPPED (32L << 20)
#define TOUCHED (16L << 20)

struct mem {
    long statm[7];
    int nstatm;
    long vm_size_kb, vm_rss_kb; // -1: no such line
    long vsize, rss;            // stat fields 23 and 24
    int stat_pid;
};

static int slurp(const char *path, char *buf, size_t n) {
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t got = fread(buf, 1, n - 1, f);
    buf[got] = 0;
    fclose(f);
    return (int)got;
}

static long status_kb(const char *text, const char *key) {
    const char *p = strstr(text, key);
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static struct mem read_mem(pid_t pid) {
    struct mem m;
    memset(&m, 0, sizeof m);
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/statm", pid);
    if (slurp(path, buf, sizeof buf) >= 0)
        m.nstatm = sscanf(buf, "%ld %ld %ld %ld %ld %ld %ld", &m.statm[0],
                          &m.statm[1], &m.statm[2], &m.statm[3], &m.statm[4],
                          &m.statm[5], &m.statm[6]);
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    m.vm_size_kb = m.vm_rss_kb = -1;
    if (slurp(path, buf, sizeof buf) >= 0) {
        m.vm_size_kb = status_kb(buf, "\nVmSize:");
        m.vm_rss_kb = status_kb(buf, "\nVmRSS:");
    }
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (slurp(path, buf, sizeof buf) > 0) {
        m.stat_pid = atoi(buf);
        // Fields from 3 on follow the last ')'.
        char *p = strrchr(buf, ')');
        for (int field = 3; p && field <= 24; field++) {
            p = strchr(p + 1, ' ');
            if (p && field == 23)
                m.vsize = strtol(p + 1, NULL, 10);
            if (p && field == 24)
                m.rss = strtol(p + 1, NULL, 10);
        }
    }
    return m;
}

static void recv1(int fd) {
    char c;
    if (read(fd, &c, 1) != 1)
        _exit(99);
}

static void send1(int fd) {
    if (write(fd, "x", 1) != 1)
        _exit(98);
}

static const char *yes(int c) { return c ? "yes" : "no"; }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    long pg = sysconf(_SC_PAGESIZE);
    int to_child[2], to_parent[2];
    if (pipe(to_child) || pipe(to_parent))
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        send1(to_parent[1]);
        recv1(to_child[0]);
        char *p = mmap(NULL, MAPPED, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            _exit(2);
        for (long i = 0; i < TOUCHED; i += pg)
            p[i] = 1;
        send1(to_parent[1]);
        recv1(to_child[0]);
        _exit(0);
    }
    recv1(to_parent[0]);
    struct mem a = read_mem(pid);
    send1(to_child[1]);
    recv1(to_parent[0]);
    struct mem b = read_mem(pid);

    long touched = TOUCHED / pg;
    printf("statm has 7 fields: %s, %s\n", yes(a.nstatm == 7),
           yes(b.nstatm == 7));
    printf("size >= resident: %s\n",
           yes(a.statm[0] >= a.statm[1] && b.statm[0] >= b.statm[1]));
    printf("size covers the 32 MiB mapping: %s\n",
           yes(b.statm[0] * pg >= MAPPED));
    printf("resident grew by the 16 MiB touched: %s\n",
           yes(b.statm[1] - a.statm[1] >= touched));
    printf("status VmRSS grew likewise: %s\n",
           yes(a.vm_rss_kb >= 0 && b.vm_rss_kb - a.vm_rss_kb >= TOUCHED / 1024));
    printf("status VmSize >= VmRSS: %s\n",
           yes(b.vm_size_kb >= b.vm_rss_kb && b.vm_rss_kb > 0));
    printf("status VmSize covers the mapping: %s\n",
           yes(b.vm_size_kb * 1024 >= MAPPED));
    printf("stat is the child's: %s\n", yes(b.stat_pid == pid));
    printf("stat rss grew likewise: %s\n", yes(b.rss - a.rss >= touched));
    printf("stat vsize covers the mapping: %s\n", yes(b.vsize >= MAPPED));

    // A zombie (waited for with WNOWAIT, so it stays one) has no memory.
    send1(to_child[1]);
    siginfo_t si;
    if (waitid(P_PID, pid, &si, WEXITED | WNOWAIT))
        return 3;
    struct mem z = read_mem(pid);
    int zeros = z.nstatm == 7;
    for (int i = 0; i < 7; i++)
        zeros = zeros && z.statm[i] == 0;
    printf("zombie statm all zero: %s\n", yes(zeros));
    printf("zombie status has VmSize: %s\n", yes(z.vm_size_kb >= 0));
    printf("zombie stat vsize and rss: %ld %ld\n", z.vsize, z.rss);
    int st;
    waitpid(pid, &st, 0);
    printf("child exit: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
