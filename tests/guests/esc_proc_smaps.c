// /proc/self/smaps has the lines of /proc/self/maps as its headers, each
// with a Size that is the mapping's; smaps_rollup sums them.
//@ no-qemu: qemu-user shows the host's smaps
#include "esc.h"

int main(void) {
    static struct map m[512];
    // Let malloc grow the heap first, so the maps read below stay true.
    free(slurp("/proc/self/smaps", NULL));
    free(slurp("/proc/self/smaps", NULL));
    int n = read_maps("/proc/self/maps", m, 512);
    char *s = slurp("/proc/self/smaps", NULL);
    if (!s) {
        printf("smaps: %s\n", en(errno));
        return 1;
    }
    int headers = 0, sizes_ok = 0;
    for (char *l = s; *l; l = strchr(l, '\n') + 1) {
        unsigned long a, b;
        if (sscanf(l, "%lx-%lx ", &a, &b) == 2) {
            headers++;
            char *z = strstr(l, "\nSize:");
            if (z && strtoul(z + 6, NULL, 10) * 1024 == b - a && find_map(m, n, a))
                sizes_ok++;
        }
        if (!strchr(l, '\n'))
            break;
    }
    printf("headers match maps: %s\n", headers > 0 && headers >= n - 2 && headers <= n + 2 ? "yes" : "no");
    printf("sizes right: %s\n", sizes_ok == headers ? "yes" : "no");
    char *r = slurp("/proc/self/smaps_rollup", NULL);
    printf("rollup has Rss: %s\n", r && strstr(r, "\nRss:") ? "yes" : "no");
    return 0;
}
