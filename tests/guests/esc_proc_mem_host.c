// /proc/self/mem reaches nothing outside the guest's mappings: reads and
// writes at addresses no mapping covers (holes between mappings, the top
// of a 64-bit host's user range, the kernel half, values that wrap) fail
// with EIO, and every readable line of /proc/self/maps reads the same
// bytes through the file as the program reads directly.
//@ no-qemu: the holes between qemu-user's guest mappings hold qemu's own memory, which its /proc/self/mem reads
#include "esc.h"

int main(void) {
    static struct map m[512];
    // Let malloc grow the heap first, so the maps read below stay true.
    free(slurp("/proc/self/smaps", NULL));
    free(slurp("/proc/self/smaps", NULL));
    int n = read_maps("/proc/self/maps", m, 512);
    int fd = open("/proc/self/mem", O_RDWR);
    int same = 0, differ = 0, holes = 0, eio = 0, other = 0;
    for (int i = 0; i < n; i++) {
        if (m[i].perms[0] == 'r' && strcmp(m[i].name, "[vvar]") && strcmp(m[i].name, "[vsyscall]")) {
            unsigned char b[16];
            if (pread(fd, b, 16, m[i].start) == 16 && memcmp(b, (void *)m[i].start, 16) == 0)
                same++;
            else
                differ++;
        }
        // The page after each mapping, when no mapping holds it.
        unsigned long after = m[i].end;
        if (!find_map(m, n, after) && after < 0x7fffffff0000ul) {
            char c;
            holes++;
            if (pread(fd, &c, 1, after) < 0 && errno == EIO)
                eio++;
            else
                other++;
        }
    }
    printf("readable mappings read the same: %s\n", same > 0 && differ == 0 ? "yes" : "no");
    printf("holes after mappings: EIO %s\n", holes > 0 && other == 0 ? "all" : "not all");
    for (unsigned i = 0; i < NHOSTILE; i++) {
        unsigned long a = HOSTILE[i];
        if (find_map(m, n, a))
            continue;
        char buf[8] = "hostile";
        errno = 0;
        ssize_t r = pread(fd, buf, 8, (off_t)a);
        ssize_t w = pwrite(fd, buf, 8, (off_t)a);
        printf("%#lx: read %s write %s\n", a, r < 0 ? en(errno) : "ok", w < 0 ? en(errno) : "ok");
    }
    return 0;
}
