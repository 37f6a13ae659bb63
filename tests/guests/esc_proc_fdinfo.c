// /proc/self/fdinfo/N of a guest descriptor says its position and flags.
#include "esc.h"

int main(void) {
    int fd = open("/proc/self/exe", O_RDONLY);
    lseek(fd, 123, SEEK_SET);
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fdinfo/%d", fd);
    char *t = slurp(p, NULL);
    if (!t) {
        printf("fdinfo: %s\n", en(errno));
        return 1;
    }
    long pos = -1;
    unsigned flags = 0;
    char *q = strstr(t, "pos:");
    if (q)
        pos = strtol(q + 4, NULL, 10);
    q = strstr(t, "flags:");
    if (q)
        flags = strtoul(q + 6, NULL, 8);
    printf("pos: %ld\n", pos);
    printf("access mode: %o\n", flags & 3);
    return 0;
}
