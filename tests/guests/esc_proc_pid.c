// /proc/<own pid>/ is /proc/self/: the same guest maps, mem and exe;
// /proc/<pid>/task/<tid>/ too.
#include "esc.h"

volatile long global = 9;

int main(void) {
    char d[64], p[128];
    snprintf(d, sizeof d, "/proc/%d", getpid());
    static struct map m[512];
    snprintf(p, sizeof p, "%s/maps", d);
    int n = read_maps(p, m, 512);
    printf("maps hold main: %s\n", n > 0 && find_map(m, n, (unsigned long)&main) ? "yes" : "no");
    char *a = slurp(p, NULL), *b = slurp("/proc/self/maps", NULL);
    printf("same as self: %s\n", a && b && strcmp(a, b) == 0 ? "yes" : "no");
    snprintf(p, sizeof p, "%s/mem", d);
    int fd = open(p, O_RDWR);
    long w = 10;
    resn("pwrite", pwrite(fd, &w, 8, (off_t)(uintptr_t)&global));
    printf("global: %ld\n", global);
    snprintf(p, sizeof p, "%s/task/%d/mem", d, gettid());
    fd = open(p, O_RDONLY);
    long v = 0;
    resn("task mem pread", pread(fd, &v, 8, (off_t)(uintptr_t)&global));
    printf("value: %ld\n", v);
    snprintf(p, sizeof p, "%s/exe", d);
    char e[4096] = {0}, me[4096] = {0};
    readlink(p, e, sizeof e - 1);
    readlink("/proc/self/exe", me, sizeof me - 1);
    printf("exe same: %s\n", strcmp(e, me) == 0 ? "yes" : "no");
    return 0;
}
