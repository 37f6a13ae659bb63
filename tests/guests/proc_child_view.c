// Another process's /proc/<pid> as Linux shows it to its parent (same
// user): the child's own cmdline, environ, auxv, exe, maps, statm and
// memory lines of status, and its memory through mem (read, and written
// through a read-only page). The child reads its own files first and
// leaves them in memory it shares with the parent; the parent reads the
// same files through /proc/<child> and compares.
//@ args: one two
//@ env: PROC_VIEW=seen
//@ no-qemu: qemu-user shows another process's /proc files as the host has them (qemu's command line, executable, memory and maps)
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define FILES 6
static const char *names[FILES] = {"cmdline", "environ", "auxv", "maps", "statm", "exe"};

struct shared {
    long len[FILES];
    char text[FILES][65536];
    char status[4096];
    unsigned long area; // the child's mapping
};

static struct shared *sh;

static long slurp_fd(int fd, char *buf, long n) {
    long got = 0, r;
    while (got < n - 1 && (r = read(fd, buf + got, n - 1 - got)) > 0)
        got += r;
    buf[got] = 0;
    return got;
}

static long slurp(const char *path, char *buf, long n) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    long got = slurp_fd(fd, buf, n);
    close(fd);
    return got;
}

// The memory lines of a status text, in order.
static void mem_lines(const char *status, char *out, size_t n) {
    out[0] = 0;
    static const char *keys[] = {"VmSize:", "VmRSS:", "VmData:", "VmStk:", "VmExe:"};
    for (unsigned i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *p = strstr(status, keys[i]);
        if (!p)
            continue;
        size_t l = strcspn(p, "\n") + 1;
        strncat(out, p, l < n - strlen(out) - 1 ? l : n - strlen(out) - 1);
    }
}

static void read_files(const char *dir, char text[FILES][65536], long len[FILES], char *status) {
    char path[96];
    for (int i = 0; i < FILES; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!strcmp(names[i], "exe")) {
            len[i] = readlink(path, text[i], 65535);
            if (len[i] >= 0)
                text[i][len[i]] = 0;
        } else {
            len[i] = slurp(path, text[i], 65536);
        }
    }
    char st[4096];
    snprintf(path, sizeof path, "%s/status", dir);
    if (slurp(path, st, sizeof st) < 0)
        st[0] = 0;
    mem_lines(st, status, 4096);
}

/// The numbers of `a` and `b` in order (statm's fields, or status's
/// "Key: N kB" values): equal, but for the resident ones (`loose` is a
/// bit per number), which may differ by 64 pages (256 kB): pages the
/// child's code first runs in while the parent reads come and go.
static int same_numbers(const char *a, const char *b, unsigned loose, long unit) {
    for (int i = 0;; i++) {
        while (*a && !(*a >= '0' && *a <= '9'))
            a++;
        while (*b && !(*b >= '0' && *b <= '9'))
            b++;
        if (!*a || !*b)
            return !*a && !*b && i > 0;
        char *ea, *eb;
        long x = strtol(a, &ea, 10), y = strtol(b, &eb, 10);
        long d = x > y ? x - y : y - x;
        if (d != 0 && !(loose >> i & 1 && d * unit <= 64 * 4096))
            return 0;
        a = ea;
        b = eb;
    }
}

static int go[2], ready[2];

static void child(void) {
    char *a = mmap(NULL, 5 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED)
        _exit(2);
    strcpy(a, "child's secret");
    strcpy(a + 4096, "read-only page");
    mprotect(a + 4096, 4096, PROT_READ);
    sh->area = (unsigned long)a;
    read_files("/proc/self", sh->text, sh->len, sh->status);
    write(ready[1], "r", 1);
    char c;
    read(go[0], &c, 1);
    // The parent wrote through the read-only page.
    _exit(strcmp(a + 4096, "written by parent") ? 3 : 0);
}

static char mine[FILES][65536];

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED || pipe(go) || pipe(ready))
        return 1;
    pid_t c = fork();
    if (c == 0)
        child();
    char r;
    if (read(ready[0], &r, 1) != 1)
        return 1;
    char dir[32];
    snprintf(dir, sizeof dir, "/proc/%d", c);
    static char text[FILES][65536], status[4096];
    long len[FILES];
    read_files(dir, text, len, status);
    for (int i = 0; i < FILES; i++) {
        int same = len[i] == sh->len[i] && !memcmp(text[i], sh->text[i], len[i]);
        // statm: size, resident, shared, text, lib, data, dt (pages).
        if (!strcmp(names[i], "statm") && len[i] > 0 && sh->len[i] > 0)
            same = same_numbers(text[i], sh->text[i], 1 << 1 | 1 << 2, 4096);
        printf("%s: %s\n", names[i], len[i] < 0 ? "unreadable" : same ? "the child's own" : "differs");
    }
    // VmSize, VmRSS, VmData, VmStk, VmExe (kB).
    printf("status memory lines: %s\n",
           status[0] && same_numbers(status, sh->status, 1 << 1, 1024) ? "the child's own" : "differ");
    // What they hold, independently of the child's view.
    long n = 0;
    for (long i = 0; i < len[0]; i++)
        n += text[0][i] == 0;
    const char *last = len[0] > 4 ? text[0] + len[0] - 4 : "";
    printf("cmdline: %ld words, last %s\n", n, last);
    int env = 0;
    for (long i = 0; i < len[1]; i += strlen(text[1] + i) + 1)
        env |= !strcmp(text[1] + i, "PROC_VIEW=seen");
    printf("environ has PROC_VIEW=seen: %s\n", env ? "yes" : "no");
    long pagesz = 0;
    for (long i = 0; i + 16 <= len[2]; i += 16)
        if (*(long *)(text[2] + i) == 6)
            pagesz = *(long *)(text[2] + i + 8);
    printf("auxv AT_PAGESZ: %ld\n", pagesz);
    long myexe = readlink("/proc/self/exe", mine[0], 65535);
    printf("exe is this program: %s\n",
           myexe > 0 && myexe == len[5] && !memcmp(mine[0], text[5], myexe) ? "yes" : "no");
    char want[64];
    snprintf(want, sizeof want, "%lx-%lx r--p", sh->area + 4096, sh->area + 8192);
    printf("maps has the read-only page: %s\n", strstr(text[3], want) ? "yes" : "no");
    snprintf(want, sizeof want, "%lx-%lx rw-p", sh->area, sh->area + 4096);
    printf("maps has the writable page: %s\n", strstr(text[3], want) ? "yes" : "no");
    long pages = atol(text[4]);
    printf("statm size below 1 GiB: %s\n", pages > 0 && pages < (1L << 18) ? "yes" : "no");
    // mem: read the child's secret, write through its read-only page.
    snprintf(dir, sizeof dir, "/proc/%d/mem", c);
    int m = open(dir, O_RDWR);
    if (m < 0) {
        printf("mem: cannot open\n");
    } else {
        char buf[32] = {0};
        long got = pread(m, buf, 15, sh->area);
        printf("mem read: %ld %s\n", got, buf);
        got = pwrite(m, "written by parent", 18, sh->area + 4096);
        printf("mem write: %ld\n", got);
        got = pread(m, buf, 8, 0x1000);
        printf("mem read of an unmapped page: %s\n", got < 0 ? "error" : "data");
        close(m);
    }
    write(go[1], "g", 1);
    int st;
    waitpid(c, &st, 0);
    printf("child: exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
