// Indirect routes to /proc/self/maps and /proc/self/mem land on the
// guest's view too: through /proc/self/root, a symbolic link, a directory
// descriptor of /proc/self, and a working directory inside /proc.
#include "esc.h"

int main(void);
volatile long global = 1;

static void maps(const char *how, int dirfd, const char *path) {
    int fd = openat(dirfd, path, O_RDONLY);
    static struct map m[512];
    static char t[1 << 16];
    ssize_t n = fd < 0 ? -1 : read(fd, t, sizeof t - 1);
    if (fd >= 0)
        close(fd);
    if (n < 0) {
        printf("%s maps: %s\n", how, en(errno));
        return;
    }
    t[n] = 0;
    int k = parse_maps(t, m, 512);
    printf("%s maps hold main: %s\n", how, k > 0 && find_map(m, k, (unsigned long)&main) ? "yes" : "no");
}

static void mem(const char *how, int dirfd, const char *path) {
    int fd = openat(dirfd, path, O_RDWR);
    long v = global + 1;
    if (fd < 0 || pwrite(fd, &v, 8, (off_t)(uintptr_t)&global) != 8) {
        printf("%s mem: %s\n", how, en(errno));
    } else {
        printf("%s mem wrote global: %s\n", how, global == v ? "yes" : "no");
    }
    if (fd >= 0)
        close(fd);
}

int main(void) {
    maps("root", AT_FDCWD, "/proc/self/root/proc/self/maps");
    mem("root", AT_FDCWD, "/proc/self/root/proc/self/mem");
    char link[64];
    snprintf(link, sizeof link, "esc-link-%d", getpid());
    symlink("/proc/self/maps", link);
    maps("symlink", AT_FDCWD, link);
    unlink(link);
    symlink("/proc/self/mem", link);
    mem("symlink", AT_FDCWD, link);
    unlink(link);
    int d = open("/proc/self", O_RDONLY | O_DIRECTORY);
    maps("dirfd", d, "maps");
    mem("dirfd", d, "mem");
    int pd = open("/proc", O_RDONLY | O_DIRECTORY);
    maps("proc dirfd", pd, "self/maps");
    char cwd[4096];
    getcwd(cwd, sizeof cwd);
    chdir("/proc/self");
    maps("cwd", AT_FDCWD, "maps");
    mem("cwd", AT_FDCWD, "./mem");
    chdir("/proc");
    maps("cwd dotdot", AT_FDCWD, "self/../self/maps");
    chdir(cwd);
    maps("double slash", AT_FDCWD, "//proc//self///maps");
    return 0;
}
