// A read that waits into a buffer on a page that is not executable when
// the call starts, while another thread makes the page executable, runs
// code there until it is hot (translated, and write-protected on the
// host where pvm protects code), and then lets the read complete: the
// host kernel writes new code bytes there. The next call into the page
// must run the new code (pvm's promise for writes into code: never the
// stale translation, with or without fence.i; x86-64 hardware keeps its
// instruction cache coherent the same way), and the read must return
// what it took (a datagram, an eventfd count: the host drops them when
// its copy out fails). One round per kind of descriptor: datagram
// socket (read, readv, recvfrom), eventfd, pipe.
//@ cflags: -pthread
//@ timeout: 120
//@ no-qemu: qemu-riscv64 write-protects pages holding translated code and hands the guest buffer to the host kernel, whose copy then fails: the read returns EFAULT and the datagram is lost (checked natively on x86-64 instead, where this program emits x86-64 code)
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define HOT 20000

typedef long (*fn)(long);

// Eight bytes of code that return the argument plus `imm`.
static uint64_t code_add(int imm) {
    uint8_t b[8];
#if defined(__riscv)
    uint32_t w[2];
    w[0] = ((uint32_t)(imm & 0xfff) << 20) | (10 << 15) | (10 << 7) | 0x13; // addi a0, a0, imm
    w[1] = 0x00008067;                                                      // ret
    memcpy(b, w, 8);
#elif defined(__x86_64__)
    // lea rax, [rdi + imm8]; ret; int3 x3
    uint8_t x[8] = {0x48, 0x8d, 0x47, (uint8_t)imm, 0xc3, 0xcc, 0xcc, 0xcc};
    memcpy(b, x, 8);
#else
#error "no code for this machine"
#endif
    uint64_t v;
    memcpy(&v, b, 8);
    return v;
}

enum kind { DGRAM_READ, DGRAM_READV, DGRAM_RECVFROM, EVENTFD, PIPE, KINDS };
static const char *names[KINDS] = {"read (datagram)", "readv (datagram)", "recvfrom (datagram)",
                                   "read (eventfd)", "read (pipe)"};

struct round {
    enum kind k;
    int rfd, wfd;
    char *page;
    volatile int started;
    long got;
    int err;
};

static void *reader(void *arg) {
    struct round *r = arg;
    r->started = 1;
    long n;
    switch (r->k) {
    case DGRAM_READV: {
        struct iovec iov = {r->page, 8};
        n = readv(r->rfd, &iov, 1);
        break;
    }
    case DGRAM_RECVFROM:
        n = recvfrom(r->rfd, r->page, 8, 0, NULL, NULL);
        break;
    default:
        n = read(r->rfd, r->page, 8);
        break;
    }
    r->got = n;
    r->err = n < 0 ? errno : 0;
    return NULL;
}

static long run_hot(char *page, long arg) {
    fn f = (fn)(void *)page;
    long s = 0;
    for (int i = 0; i < HOT; i++) s += f(arg) - arg;
    return s / HOT;
}

static int one(enum kind k) {
    struct round r = {.k = k};
    int fds[2];
    switch (k) {
    case EVENTFD:
        fds[0] = fds[1] = eventfd(0, 0);
        if (fds[0] < 0) return perror("eventfd"), 1;
        break;
    case PIPE:
        if (pipe(fds) != 0) return perror("pipe"), 1;
        break;
    default:
        if (socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) != 0) return perror("socketpair"), 1;
        break;
    }
    r.rfd = fds[0];
    r.wfd = fds[1];
    r.page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r.page == MAP_FAILED) return perror("mmap"), 1;
    pthread_t t;
    if (pthread_create(&t, NULL, reader, &r) != 0) return perror("pthread_create"), 1;
    while (!r.started) sched_yield();
    // Let the reader block in its call (the page is not executable yet).
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    // The page becomes code while the read waits: run it until hot.
    if (mprotect(r.page, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) return perror("mprotect"), 1;
    uint64_t old = code_add(1);
    memcpy(r.page, &old, 8);
    __builtin___clear_cache(r.page, r.page + 8);
    long before = run_hot(r.page, 5);
    // The read completes and writes new code into the page.
    uint64_t new = code_add(2);
    long w = write(r.wfd, &new, 8);
    if (w != 8) return perror("write"), 1;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    if (pthread_timedjoin_np(t, NULL, &until) != 0) {
        printf("%s: the read is still waiting: it lost what it took\n", names[k]);
        fflush(stdout);
        _exit(1);
    }
    if (r.got != 8) {
        printf("%s: read returned %ld (%s)\n", names[k], r.got, r.got < 0 ? strerror(r.err) : "short");
        return 1;
    }
    // No fence.i: a write into code is seen without it.
    long after = ((fn)(void *)r.page)(5) - 5;
    printf("%s: 8 bytes; the old code added %ld, the new code adds %ld\n", names[k], before, after);
    munmap(r.page, PAGE);
    close(fds[0]);
    if (fds[1] != fds[0]) close(fds[1]);
    return 0;
}

int main(void) {
    int bad = 0;
    for (int k = 0; k < KINDS; k++) bad |= one(k);
    return bad;
}
