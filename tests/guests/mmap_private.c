// Private file mappings (which pvm backs with the host's copy-on-write
// mapping of the file): writes stay in the mapping and out of the file and
// of a forked child's copy; file changes show through pages not yet
// written; the last page reads as zero past the file's end; unmapping and
// mapping anonymous memory there gives zeroes, not the file again.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    int fd = open("private.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
    char buf[3 * 4096 + 100];
    for (unsigned i = 0; i < sizeof buf; i++) buf[i] = (char)(i % 251 + 1);
    write(fd, buf, sizeof buf);
    // Four pages over a file of three pages and 100 bytes.
    unsigned char *m = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    printf("mapped: %d\n", m != MAP_FAILED);
    printf("bytes: %d %d %d\n", m[0], m[page + 7], m[3 * page + 99]);
    int tail = 1;
    for (long i = 3 * page + 100; i < 4 * page; i++) tail &= m[i] == 0;
    printf("past the end reads zero: %d\n", tail);
    m[5] = 77;
    unsigned char c;
    pread(fd, &c, 1, 5);
    printf("write stays private: mapping %d file %d\n", m[5], c);
    // The file changes under a page never written: Linux shows it.
    pwrite(fd, "\xee", 1, 2 * page + 1);
    pwrite(fd, "\xee", 1, 6);
    printf("file change shows in untouched page: %d, not in written page: %d\n", m[2 * page + 1],
           m[6]);
    pid_t pid = fork();
    if (pid == 0) {
        m[page] = 99;
        _exit(m[5] == 77 && m[page] == 99 ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child saw its own copy: %d; parent still %d\n", WEXITSTATUS(st) == 0, m[page]);
    printf("read-only: %d\n", mprotect(m, page, PROT_READ));
    printf("still %d\n", m[5]);
    printf("writable again: %d\n", mprotect(m, page, PROT_READ | PROT_WRITE));
    m[0] = 1;
    unsigned char *a = mmap(m, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("anonymous over it: %d zero %d %d\n", a == m, a[5], a[page + 7]);
    munmap(m, 4 * page);
    unsigned char *again = mmap(NULL, page, PROT_READ, MAP_PRIVATE, fd, 0);
    printf("mapped again: %d %d\n", again[5], again[6]);
    close(fd);
    unlink("private.bin");
    return 0;
}
