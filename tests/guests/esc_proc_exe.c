// /proc/self/exe (and its aliases) is the guest program: a RISC-V ELF,
// the same file as argv[0], wherever it is reached from.
//@ no-qemu: qemu-user emulates only /proc/self/exe and /proc/<pid>/exe; other aliases and stat show qemu itself
#include "esc.h"
#include <elf.h>
#include <sys/stat.h>

static void check(const char *label, const char *path, struct stat *me) {
    char e[4096] = {0};
    ssize_t n = readlink(path, e, sizeof e - 1);
    struct stat st;
    int same = n > 0 && stat(e, &st) == 0 && st.st_ino == me->st_ino && st.st_dev == me->st_dev;
    printf("%s: link names the program: %s\n", label, same ? "yes" : "no");
    int fd = open(path, O_RDONLY);
    Elf64_Ehdr h;
    memset(&h, 0, sizeof h);
    if (fd >= 0)
        read(fd, &h, sizeof h);
    printf("%s: open gives e_machine %d\n", label, h.e_machine);
    close(fd);
    printf("%s: stat is the program: %s\n", label,
           stat(path, &st) == 0 && st.st_ino == me->st_ino ? "yes" : "no");
}

int main(int argc, char **argv) {
    (void)argc;
    struct stat me;
    stat(argv[0], &me);
    char p[128];
    check("/proc/self/exe", "/proc/self/exe", &me);
    check("/proc/thread-self/exe", "/proc/thread-self/exe", &me);
    snprintf(p, sizeof p, "/proc/%d/exe", getpid());
    check("/proc/PID/exe", p, &me);
    snprintf(p, sizeof p, "/proc/self/task/%d/exe", gettid());
    check("/proc/self/task/TID/exe", p, &me);
    return 0;
}
