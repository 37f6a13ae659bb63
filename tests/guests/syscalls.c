// Less common system calls glibc programs make directly or indirectly:
// statx, TIOCGWINSZ, an unknown system call, riscv_flush_icache, futex
// without other threads, prlimit, umask, getrusage.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    int fd = open("statx.txt", O_CREAT | O_WRONLY | O_TRUNC, 0640);
    write(fd, "0123456789", 10);
    close(fd);
    struct statx sx;
    int r = statx(AT_FDCWD, "statx.txt", 0, STATX_BASIC_STATS, &sx);
    printf("statx: %d size %llu mode %o regular %d mask has size %d\n", r, (unsigned long long)sx.stx_size,
           sx.stx_mode & 0777, S_ISREG(sx.stx_mode), (sx.stx_mask & STATX_SIZE) != 0);
    r = statx(AT_FDCWD, "no-such-file", 0, STATX_BASIC_STATS, &sx);
    printf("statx missing: %d ENOENT %d\n", r, errno == ENOENT);
    struct stat st;
    printf("fstatat: %d size %lld\n", fstatat(AT_FDCWD, "statx.txt", &st, 0), (long long)st.st_size);
    printf("faccessat W_OK: %d\n", faccessat(AT_FDCWD, "statx.txt", W_OK, 0));
    unlink("statx.txt");

    struct winsize ws;
    r = ioctl(1, TIOCGWINSZ, &ws);
    printf("TIOCGWINSZ on a pipe: %d ENOTTY %d\n", r, errno == ENOTTY);
    errno = 0;
    long u = syscall(999);
    printf("unknown syscall 999: %ld ENOSYS %d\n", u, errno == ENOSYS);
    errno = 0;
    u = syscall(244 + 15);
    printf("riscv_flush_icache (259): %ld\n", u);

    uint32_t word = 5;
    printf("futex wake, no waiters: %ld\n", syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
    errno = 0;
    long w = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 6, NULL, NULL, 0);
    printf("futex wait, value differs: %ld EAGAIN %d\n", w, errno == EAGAIN);
    struct timespec to = {0, 10 * 1000 * 1000};
    errno = 0;
    w = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 5, &to, NULL, 0);
    printf("futex wait, times out: %ld ETIMEDOUT %d\n", w, errno == ETIMEDOUT);

    struct rlimit old, lim = {1000, 1000};
    printf("prlimit set nofile: %d\n", prlimit(0, RLIMIT_NOFILE, NULL, &old) == 0 && setrlimit(RLIMIT_NOFILE, &lim) == 0);
    getrlimit(RLIMIT_NOFILE, &lim);
    printf("nofile now %llu\n", (unsigned long long)lim.rlim_cur);
    mode_t m = umask(022);
    printf("umask round trip: %d\n", umask(m) == 022);
    struct rusage ru;
    printf("getrusage: %d\n", getrusage(RUSAGE_SELF, &ru));
    pid_t tid = syscall(SYS_set_tid_address, NULL);
    printf("set_tid_address returns the tid: %d\n", tid == gettid());
    return 0;
}
