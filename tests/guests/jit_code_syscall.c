// Data and code in one RWX page, with system calls writing into the data:
// one thread keeps generating a function into the page, flushing and
// calling it until it is hot (so the translator translates it and
// write-protects the page on the host), while another thread keeps asking
// the kernel to fill buffers in the same page (read from a pipe, pread
// from a file, getdents64, getrandom, clock_gettime, the word that
// FUTEX_WAKE_OP changes, msgrcv, mq_timedreceive, recvfrom, read and
// readv on a datagram socket, read of an eventfd: these take the message
// or the count before they copy it out, so a refused copy cannot simply be
// made again). The page is always writable for the guest, so
// every call must succeed: a host call the host kernel refuses with EFAULT
// because the page was code-protected at that moment is made again, never
// returned to the guest.
//@ cflags: -pthread
//@ no-qemu: qemu-riscv64 has the same race (it write-protects pages holding translated code and hands guest buffers to the host kernel): one run in three gave a pread EFAULT
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/msg.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define ROUNDS 400
#define CALLS 40000

typedef long (*fn)(long);
static char *page;
static atomic_int done;

static void flush(void *start, void *end) { syscall(259, start, end, 0); }

// addi a0, a0, imm ; ret
static void emit_addi(uint32_t *code, int imm) {
    code[0] = ((uint32_t)(imm & 0xfff) << 20) | (10 << 15) | (10 << 7) | 0x13;
    code[1] = 0x00008067;
}

#define KINDS 12
static const char *names[KINDS] = {"read",          "pread",         "getdents64",
                                   "getrandom",     "clock_gettime", "futex wake_op",
                                   "msgrcv",        "mq_timedreceive", "recvfrom (datagram)",
                                   "read (datagram)", "readv (datagram)", "read (eventfd)"};
static long fails[KINDS], calls[KINDS], first_errno[KINDS];

static void note(int k, long r) {
    calls[k]++;
    if (r < 0) {
        if (!fails[k]) first_errno[k] = -r;
        fails[k]++;
    }
}

static void *calls_loop(void);

// The calls, then `done` (whatever they found).
static void *caller(void *arg) {
    (void)arg;
    void *r = calls_loop();
    atomic_store(&done, 1);
    return r;
}

static void *calls_loop(void) {
    int p[2];
    if (pipe(p) != 0) return NULL;
    char tmpl[] = "/tmp/pvm_jit_code_syscall_XXXXXX";
    int f = mkstemp(tmpl);
    if (f < 0) return NULL;
    unlink(tmpl);
    static const char text[] = "0123456789abcdef0123456789abcdef";
    if (write(f, text, 32) != 32) return NULL;
    int dir = open("/", O_RDONLY | O_DIRECTORY);
    if (dir < 0) return NULL;
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (q < 0) return NULL;
    char mqname[64];
    snprintf(mqname, sizeof mqname, "/pvm_jit_code_syscall_%d", (int)getpid());
    struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 64};
    mqd_t mq = mq_open(mqname, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    if (mq == (mqd_t)-1) return NULL;
    mq_unlink(mqname);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0) return NULL;
    int efd = eventfd(0, EFD_NONBLOCK);
    if (efd < 0) return NULL;
    struct {
        long type;
        char text[32];
    } msg = {.type = 7};
    memcpy(msg.text, text, 32);
    // Buffers in the code page, away from the functions at 0 and 256.
    char *rbuf = page + 1024, *pbuf = page + 1536, *dbuf = page + 2048;
    char *gbuf = page + 3584, *mbuf = page + 3072, *qbuf = page + 3200, *sbuf = page + 3328;
    char *dgbuf = page + 1088, *vbuf = page + 1216, *ebuf = page + 1344;
    struct timespec *ts = (struct timespec *)(page + 3840);
    // FUTEX_WAKE_OP adds 1 to the second word (and wakes no one).
    uint32_t *w1 = (uint32_t *)(page + 3968), *w2 = (uint32_t *)(page + 3972);
    int wake_op = FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0);
    int rounds = 0;
    while (rounds < CALLS) {
        long r;
        if (write(p[1], text, 16) != 16) return NULL;
        r = syscall(SYS_read, p[0], rbuf, 16);
        note(0, r < 0 ? -errno : (r == 16 && !memcmp(rbuf, text, 16) ? 0 : -1000));
        r = syscall(SYS_pread64, f, pbuf, 32, 0);
        note(1, r < 0 ? -errno : (r == 32 && !memcmp(pbuf, text, 32) ? 0 : -1000));
        lseek(dir, 0, SEEK_SET);
        r = syscall(SYS_getdents64, dir, dbuf, 1024);
        note(2, r < 0 ? -errno : (r > 0 ? 0 : -1000));
        r = syscall(SYS_getrandom, gbuf, 64, 0);
        note(3, r < 0 ? -errno : (r == 64 ? 0 : -1000));
        r = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, ts);
        note(4, r < 0 ? -errno : 0);
        uint32_t before = *w2;
        r = syscall(SYS_futex, w1, FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG, 1, 1, w2, wake_op);
        note(5, r < 0 ? -errno : (r == 0 && *w2 == before + 1 ? 0 : -1000));
        // Each message sent is there to take: a failed receive loses it.
        if (msgsnd(q, &msg, 32, 0) != 0) return NULL;
        r = syscall(SYS_msgrcv, q, mbuf, 32, 0, IPC_NOWAIT);
        note(6, r < 0 ? -errno : (r == 32 && !memcmp(mbuf + 8, text, 32) ? 0 : -1000));
        if (mq_send(mq, text, 20, 3) != 0) return NULL;
        unsigned prio = 0;
        r = syscall(SYS_mq_timedreceive, mq, qbuf, 64, &prio, NULL);
        note(7, r < 0 ? -errno : (r == 20 && prio == 3 && !memcmp(qbuf, text, 20) ? 0 : -1000));
        if (send(sv[0], text, 24, 0) != 24) return NULL;
        r = syscall(SYS_recvfrom, sv[1], sbuf, 64, MSG_DONTWAIT, NULL, NULL);
        note(8, r < 0 ? -errno : (r == 24 && !memcmp(sbuf, text, 24) ? 0 : -1000));
        if (send(sv[0], text, 24, 0) != 24) return NULL;
        r = syscall(SYS_read, sv[1], dgbuf, 64);
        note(9, r < 0 ? -errno : (r == 24 && !memcmp(dgbuf, text, 24) ? 0 : -1000));
        if (send(sv[0], text, 24, 0) != 24) return NULL;
        struct iovec iov = {.iov_base = vbuf, .iov_len = 64};
        r = syscall(SYS_readv, sv[1], &iov, 1);
        note(10, r < 0 ? -errno : (r == 24 && !memcmp(vbuf, text, 24) ? 0 : -1000));
        if (eventfd_write(efd, 5) != 0) return NULL;
        r = syscall(SYS_read, efd, ebuf, 8);
        note(11, r < 0 ? -errno : (r == 8 && *(uint64_t *)ebuf == 5 ? 0 : -1000));
        rounds++;
    }
    close(p[0]);
    close(p[1]);
    close(f);
    close(dir);
    msgctl(q, IPC_RMID, NULL);
    mq_close(mq);
    close(sv[0]);
    close(sv[1]);
    close(efd);
    return NULL;
}

int main(void) {
    page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return 1;
    pthread_t t;
    if (pthread_create(&t, NULL, caller, NULL) != 0) return 1;
    int bad = 0;
    int r;
    for (r = 0; r < ROUNDS || !atomic_load(&done); r++) {
        // Two functions, alternating, so one is always being rewritten
        // while the other may still be translated.
        uint32_t *code = (uint32_t *)(page + 256 * (r % 2));
        emit_addi(code, r % 1024);
        flush(code, code + 2);
        fn f = (fn)code;
        long got = 0;
        for (int i = 0; i < 300; i++) got = f(1000);
        if (got != 1000 + r % 1024 && bad++ < 5) printf("round %d: got %ld\n", r, got);
        // Where guest threads take turns on one CPU, let the caller run.
        sched_yield();
    }
    pthread_join(t, NULL);
    for (int k = 0; k < KINDS; k++) {
        if (!calls[k]) {
            printf("%s: never called\n", names[k]);
            bad++;
        } else if (fails[k]) {
            printf("%s: %ld of %ld calls failed (first: errno %ld)\n", names[k], fails[k],
                   calls[k], first_errno[k]);
            bad++;
        } else {
            printf("%s: every call succeeded\n", names[k]);
        }
    }
    printf("%s: at least %d rounds of code\n", bad ? "FAIL" : "ok", ROUNDS);
    return bad != 0;
}
