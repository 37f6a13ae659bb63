// /proc/self/maps shows the guest's own mappings in Linux's format, at
// guest addresses: its code, data, heap, stack and an mmap are each in a
// line with the right permissions, the code's line names the program, and
// nothing of the VM's own layout (its binary, its heap, host libraries)
// appears.
#include "esc.h"

int global = 42;

int main(int argc, char **argv) {
    static struct map m[512];
    int n = read_maps("/proc/self/maps", m, 512);
    printf("parsed: %s\n", n > 0 ? "yes" : "no");
    if (n <= 0)
        return 1;
    int local = 1;
    char *heap = malloc(100);
    char *mm = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    n = read_maps("/proc/self/maps", m, 512);
    struct map *c = find_map(m, n, (unsigned long)&main);
    struct map *d = find_map(m, n, (unsigned long)&global);
    struct map *h = find_map(m, n, (unsigned long)heap);
    struct map *s = find_map(m, n, (unsigned long)&local);
    struct map *a = find_map(m, n, (unsigned long)mm);
    printf("code: %.3s\n", c ? c->perms : "---");
    printf("data: %.2s\n", d ? d->perms : "--");
    printf("heap: %.2s\n", h ? h->perms : "--");
    printf("stack: %.2s %s\n", s ? s->perms : "--", s ? s->name : "?");
    printf("mmap: %.3s\n", a ? a->perms : "---");
    char exe[4096] = {0};
    readlink("/proc/self/exe", exe, sizeof exe - 1);
    printf("code names the program: %s\n", c && strcmp(c->name, exe) == 0 ? "yes" : "no");
    int sorted = 1, foreign = 0;
    for (int i = 0; i < n; i++) {
        if (i && m[i].start < m[i - 1].end)
            sorted = 0;
        if (strstr(m[i].name, "pvm") || strstr(m[i].name, "x86_64") || strstr(m[i].name, "qemu"))
            foreign++;
    }
    printf("sorted, no overlap: %s\n", sorted ? "yes" : "no");
    printf("lines naming the VM or the host: %d\n", foreign);
    return 0;
}
