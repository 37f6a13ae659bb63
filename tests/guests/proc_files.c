// Ordinary uses of /proc: a descriptor reopened through /proc/self/fd
// (an offset and access mode of its own; a pipe's other end), the fd/,
// fdinfo/ and cwd links, /proc's listing of processes, a child's stat
// line, and the system files programs read (meminfo, uptime, loadavg,
// stat).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *slurp(const char *path) {
    static char buf[1 << 16];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    size_t n = 0;
    ssize_t k;
    while (n < sizeof buf - 1 && (k = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += k;
    close(fd);
    buf[n] = 0;
    return buf;
}

static int listed(const char *dir, const char *name) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d)))
        if (!strcmp(e->d_name, name))
            found = 1;
    if (d)
        closedir(d);
    return found;
}

int main(void) {
    char p[64], t[256] = {0}, b[16] = {0};
    int m = memfd_create("pf", 0);
    write(m, "hello world", 11);
    lseek(m, 6, SEEK_SET);
    snprintf(p, sizeof p, "/proc/self/fd/%d", m);
    readlink(p, t, sizeof t - 1);
    printf("memfd link: %s\n", t);
    int r = open(p, O_RDONLY);
    read(r, b, 5);
    printf("reopened reads from 0: %s\n", b);
    printf("reopened is read-only: %s\n", write(r, "x", 1) < 0 && errno == EBADF ? "yes" : "no");
    memset(b, 0, sizeof b);
    read(m, b, 5);
    printf("original offset kept: %s\n", b);
    struct stat a, c;
    fstat(m, &a);
    stat(p, &c);
    printf("same file: %s\n", a.st_ino == c.st_ino && a.st_dev == c.st_dev ? "yes" : "no");
    snprintf(t, sizeof t, "%d", m);
    printf("listed in fd/: %s\n", listed("/proc/self/fd", t) ? "yes" : "no");
    snprintf(p, sizeof p, "/proc/self/fdinfo/%d", r);
    char *info = slurp(p);
    printf("fdinfo pos: %ld\n", info && strstr(info, "pos:") ? strtol(strstr(info, "pos:") + 4, NULL, 10) : -1L);
    close(r);
    close(m);

    int q[2];
    pipe(q);
    snprintf(p, sizeof p, "/proc/self/fd/%d", q[1]);
    int qr = open(p, O_RDONLY);
    write(q[1], "piped", 5);
    memset(b, 0, sizeof b);
    read(qr, b, 5);
    printf("a pipe's write end reopened for reading: %s\n", b);
    close(qr);
    close(q[0]);
    close(q[1]);

    char cwd[4096] = {0}, l[4096] = {0};
    getcwd(cwd, sizeof cwd);
    readlink("/proc/self/cwd", l, sizeof l - 1);
    printf("cwd link is getcwd: %s\n", strcmp(cwd, l) == 0 ? "yes" : "no");
    int d = open("/proc/self", O_RDONLY | O_DIRECTORY);
    char *st = NULL;
    int sfd = openat(d, "status", O_RDONLY);
    if (sfd >= 0) {
        static char sb[8192];
        ssize_t n = read(sfd, sb, sizeof sb - 1);
        sb[n > 0 ? n : 0] = 0;
        st = strstr(sb, "\nPPid:");
        close(sfd);
    }
    printf("status through a dirfd has PPid: %s\n", st && atoi(st + 6) == getppid() ? "yes" : "no");
    close(d);

    snprintf(t, sizeof t, "%d", getpid());
    printf("/proc lists self and my pid: %s\n", listed("/proc", "self") && listed("/proc", t) ? "yes" : "no");
    int pp[2];
    pipe(pp);
    pid_t kid = fork();
    if (kid == 0) {
        char x;
        read(pp[0], &x, 1);
        _exit(0);
    }
    snprintf(p, sizeof p, "/proc/%d/stat", kid);
    char *ks = slurp(p);
    char state = 0;
    int ppid = 0;
    if (ks && strrchr(ks, ')'))
        sscanf(strrchr(ks, ')') + 2, "%c %d", &state, &ppid);
    printf("child's stat: parent is me: %s\n", ppid == getpid() ? "yes" : "no");
    write(pp[1], "x", 1);
    waitpid(kid, NULL, 0);
    printf("reaped child gone: %s\n", access(p, F_OK) < 0 && errno == ENOENT ? "yes" : "no");

    char *mi = slurp("/proc/meminfo");
    long total = mi && strstr(mi, "MemTotal:") ? atol(strstr(mi, "MemTotal:") + 9) : 0;
    long avail = mi && strstr(mi, "MemFree:") ? atol(strstr(mi, "MemFree:") + 8) : -1;
    printf("meminfo: total > 0: %s, free <= total: %s\n", total > 0 ? "yes" : "no",
           avail >= 0 && avail <= total ? "yes" : "no");
    double up = -1, idle = -1;
    char *u = slurp("/proc/uptime");
    if (u)
        sscanf(u, "%lf %lf", &up, &idle);
    printf("uptime: %s\n", up > 0 && idle >= 0 ? "two numbers" : "bad");
    float l1, l5, l15;
    int run, all, last;
    char *la = slurp("/proc/loadavg");
    printf("loadavg fields: %d\n", la ? sscanf(la, "%f %f %f %d/%d %d", &l1, &l5, &l15, &run, &all, &last) : -1);
    char *s = slurp("/proc/stat");
    printf("stat starts with cpu: %s\n", s && strncmp(s, "cpu ", 4) == 0 ? "yes" : "no");
    return 0;
}
