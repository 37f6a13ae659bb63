// Calls real programs make that are easy to forget: getcpu, the mlock
// family, mincore, sync_file_range, readahead, openat2 (with RESOLVE_
// flags and its strict checks), capget (libcap's version probe), inotify,
// ioprio_get/ioprio_set, and
// pidfd_open / pidfd_send_signal to a child and to this process.
// The expected output is this program built for x86-64 and run natively.
//@ no-qemu: qemu-riscv64 7.2 has no mlock2 or openat2 (ENOSYS)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err(long r) { return r < 0 ? strerror(errno) : "ok"; }

static long openat2_(int dirfd, const char *p, struct open_how *h, size_t n) {
    return syscall(SYS_openat2, dirfd, p, h, n);
}

int main(void) {
    unsigned cpu = 99, node = 99;
    long r = syscall(SYS_getcpu, &cpu, &node, NULL);
    printf("getcpu %s cpu-in-range %d node %u\n", err(r), cpu < (unsigned)sysconf(_SC_NPROCESSORS_ONLN), node);

    long pg = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    m[0] = 1;
    printf("mlock %s munlock %s\n", err(mlock(m, 2 * pg)), err(munlock(m, 2 * pg)));
    errno = 0;
    printf("mlock2 bad flags %s\n", err(syscall(SYS_mlock2, m, pg, 8)));
    munmap(m + 2 * pg, pg);
    errno = 0;
    printf("mlock over a hole %s\n", err(mlock(m, 4 * pg)));
    errno = 0;
    printf("mlockall(0) %s munlockall %s\n", err(mlockall(0)), err(munlockall()));
    unsigned char vec[4] = {9, 9, 9, 9};
    r = mincore(m, 2 * pg, vec);
    printf("mincore %s first page resident %d\n", err(r), vec[0] & 1);
    errno = 0;
    printf("mincore unaligned %s\n", err(mincore(m + 1, pg, vec)));
    errno = 0;
    printf("mincore hole %s\n", err(mincore(m, 4 * pg, vec)));

    int fd = open("data", O_RDWR | O_CREAT | O_TRUNC, 0600);
    write(fd, "hello\n", 6);
    printf("sync_file_range %s\n", err(sync_file_range(fd, 0, 6, SYNC_FILE_RANGE_WRITE)));
    errno = 0;
    printf("sync_file_range bad flags %s\n", err(sync_file_range(fd, 0, 6, 64)));
    printf("readahead %s\n", err(readahead(fd, 0, 4096)));
    close(fd);

    mkdir("dir", 0700);
    struct open_how h;
    memset(&h, 0, sizeof h);
    h.flags = O_RDONLY;
    r = openat2_(AT_FDCWD, "data", &h, sizeof h);
    printf("openat2 plain %s\n", err(r));
    if (r >= 0) {
        char b[8] = {0};
        read((int)r, b, 5);
        printf("read %s\n", b);
        close((int)r);
    }
    int dfd = open("dir", O_RDONLY | O_DIRECTORY);
    h.resolve = RESOLVE_BENEATH;
    errno = 0;
    printf("openat2 beneath ../data %s\n", err(openat2_(dfd, "../data", &h, sizeof h)));
    errno = 0;
    printf("openat2 beneath /etc %s\n", err(openat2_(dfd, "/etc/passwd", &h, sizeof h)));
    h.resolve = 0;
    h.mode = 0600;
    errno = 0;
    printf("openat2 mode without O_CREAT %s\n", err(openat2_(AT_FDCWD, "data", &h, sizeof h)));
    h.mode = 0;
    h.flags = 1u << 30;
    errno = 0;
    printf("openat2 unknown flag %s\n", err(openat2_(AT_FDCWD, "data", &h, sizeof h)));
    h.flags = O_RDONLY;
    errno = 0;
    printf("openat2 short %s\n", err(openat2_(AT_FDCWD, "data", &h, 16)));
    char big[64];
    memset(big, 0, sizeof big);
    memcpy(big, &h, sizeof h);
    big[40] = 1;
    errno = 0;
    printf("openat2 non-zero tail %s\n", err(openat2_(AT_FDCWD, "data", (struct open_how *)big, 64)));
    unlink("data");
    rmdir("dir");

    struct __user_cap_header_struct hdr = {0, 0};
    r = syscall(SYS_capget, &hdr, NULL);
    printf("capget probe %s version %#x\n", err(r), hdr.version);
    struct __user_cap_data_struct data[2];
    hdr.version = _LINUX_CAPABILITY_VERSION_3;
    hdr.pid = 0;
    printf("capget v3 %s\n", err(syscall(SYS_capget, &hdr, data)));

    int ino = inotify_init1(IN_CLOEXEC);
    printf("inotify_init1 %s\n", err(ino));
    int wd = inotify_add_watch(ino, ".", IN_CREATE | IN_DELETE);
    printf("add_watch %s\n", err(wd));
    close(open("watched", O_CREAT | O_WRONLY, 0600));
    unlink("watched");
    char evbuf[4096];
    long n = read(ino, evbuf, sizeof evbuf);
    for (long off = 0; off < n;) {
        struct inotify_event *e = (struct inotify_event *)(evbuf + off);
        printf("event %s %s\n", e->mask & IN_CREATE ? "create" : e->mask & IN_DELETE ? "delete" : "other",
               e->len ? e->name : "");
        off += (long)sizeof *e + e->len;
    }
    printf("rm_watch %s\n", err(inotify_rm_watch(ino, wd)));
    errno = 0;
    printf("rm_watch again %s\n", err(inotify_rm_watch(ino, wd)));
    close(ino);
    errno = 0;
    printf("inotify_init1 bad flags %s\n", err(inotify_init1(1)));

    long prio = syscall(SYS_ioprio_get, 1, 0);
    printf("ioprio_get %s\n", err(prio));
    long want = (2L << 13) | 4; /* best effort, level 4 */
    printf("ioprio_set %s\n", err(syscall(SYS_ioprio_set, 1, 0, want)));
    printf("ioprio now %ld\n", syscall(SYS_ioprio_get, 1, 0));
    errno = 0;
    printf("ioprio bad which %s\n", err(syscall(SYS_ioprio_get, 9, 0)));

    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(3);
    }
    int pfd = (int)syscall(SYS_pidfd_open, child, 0);
    printf("pidfd_open %s\n", err(pfd));
    printf("pidfd_send_signal TERM %s\n", err(syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0)));
    int st;
    waitpid(child, &st, 0);
    printf("child signalled %d sig %d\n", WIFSIGNALED(st), WTERMSIG(st));
    errno = 0;
    printf("signal to reaped child %s\n", err(syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0)));
    close(pfd);
    int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
    printf("pidfd to self, signal 0: %s\n", err(syscall(SYS_pidfd_send_signal, self, 0, NULL, 0)));
    errno = 0;
    printf("pidfd_open(-1) %s\n", err(syscall(SYS_pidfd_open, -1, 0)));
    return 0;
}
