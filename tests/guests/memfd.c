// memfd_create: a file in memory, mapped shared, sealed; its name in
// /proc/self/fd.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
    int fd = memfd_create("pvm-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    printf("memfd: %d cloexec %d\n", fd >= 0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
    char link[64], path[128] = {0};
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    readlink(link, path, sizeof path - 1);
    printf("name: %s\n", path);
    printf("write: %zd\n", write(fd, "in memory", 9));
    printf("ftruncate: %d\n", ftruncate(fd, 4096));
    struct stat st;
    fstat(fd, &st);
    printf("size %ld regular %d\n", (long)st.st_size, S_ISREG(st.st_mode));
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("mapped: %d '%.9s'\n", m != MAP_FAILED, m);
    memcpy(m, "IN", 2);
    char b[10] = {0};
    pread(fd, b, 9, 0);
    printf("write through map seen by pread: '%s'\n", b);
    munmap(m, 4096);
    printf("seal write: %d\n", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW));
    printf("seals: %#x\n", fcntl(fd, F_GET_SEALS));
    printf("write sealed: %zd EPERM %d\n", write(fd, "x", 1), errno == EPERM);
    printf("shrink sealed: %d EPERM %d\n", ftruncate(fd, 10), errno == EPERM);
    int plain = memfd_create("plain", 0);
    printf("no sealing: %d EPERM %d\n", fcntl(plain, F_ADD_SEALS, F_SEAL_WRITE), errno == EPERM);
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    printf("long name: %d EINVAL %d\n", memfd_create(longname, 0), errno == EINVAL);
    printf("bad flags: %d EINVAL %d\n", memfd_create("x", 0x100), errno == EINVAL);
    return 0;
}
