// Other /proc/self files that would show the VM's registers, stack or
// layout: map_files names only guest ranges, syscall shows no host
// address, stack (kernel stack) is refused as Linux refuses it to an
// unprivileged process, numa_maps names no host range.
//@ no-qemu: qemu-user shows the host's files here
#include "esc.h"
#include <dirent.h>

int main(void) {
    static struct map m[512];
    int n = read_maps("/proc/self/maps", m, 512);
    DIR *d = opendir("/proc/self/map_files");
    if (!d) {
        printf("map_files: %s\n", en(errno));
    } else {
        int foreign = 0, all = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            unsigned long a, b;
            if (sscanf(e->d_name, "%lx-%lx", &a, &b) == 2) {
                all++;
                if (!find_map(m, n, a))
                    foreign++;
            }
        }
        printf("map_files entries outside the guest: %d\n", foreign);
        closedir(d);
    }
    char *s = slurp("/proc/self/syscall", NULL);
    unsigned long f[9] = {0};
    if (s)
        sscanf(s, "%lu %lx %lx %lx %lx %lx %lx %lx %lx", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8]);
    n = read_maps("/proc/self/maps", m, 512);
    printf("syscall: number %lu, sp in a guest mapping: %s, pc in a guest mapping: %s\n", f[0],
           find_map(m, n, f[7]) ? "yes" : "no", find_map(m, n, f[8]) ? "yes" : "no");
    char *st = slurp("/proc/self/stack", NULL);
    printf("stack: %s\n", st ? "readable" : en(errno));
    char *nm = slurp("/proc/self/numa_maps", NULL);
    int bad = 0;
    for (char *l = nm; l && *l; l = strchr(l, '\n') + 1) {
        unsigned long a = strtoul(l, NULL, 16);
        if (!find_map(m, n, a))
            bad++;
        if (!strchr(l, '\n'))
            break;
    }
    printf("numa_maps lines outside the guest: %d\n", bad);
    return 0;
}
