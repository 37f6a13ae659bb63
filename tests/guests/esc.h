// Shared helpers of the escape probes (tests/guests/esc_*.c): each probe
// tries one route out of the guest (see SECURITY.md) and prints, line by
// line, what the guest got: "ok", a value, or the errno's name. Its
// expectation is what Linux answers a process that owns only the guest's
// memory.
#ifndef ESC_H
#define ESC_H
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline const char *en(int e) {
    const char *s = strerrorname_np(e);
    return s ? s : "E?";
}

// "what: ok" or "what: ENAME".
static inline void res(const char *what, long r) {
    if (r < 0)
        printf("%s: %s\n", what, en(errno));
    else
        printf("%s: ok\n", what);
}

// "what: N" or "what: ENAME".
static inline void resn(const char *what, long r) {
    if (r < 0)
        printf("%s: %s\n", what, en(errno));
    else
        printf("%s: %ld\n", what, r);
}

// The whole of a file (NUL-terminated, length in *len), or NULL with errno.
static inline char *slurp(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap + 1);
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0) {
            int e = errno;
            close(fd);
            free(b);
            errno = e;
            return NULL;
        }
        if (r == 0)
            break;
        n += r;
    }
    close(fd);
    b[n] = 0;
    if (len)
        *len = n;
    return b;
}

// One line of /proc/self/maps.
struct map {
    unsigned long start, end, off, ino;
    char perms[5];
    char name[256];
};

// Parse a maps text into at most `max` entries; -1 when a line is not in
// Linux's format.
static inline int parse_maps(const char *text, struct map *m, int max) {
    int n = 0;
    const char *p = text;
    while (*p && n < max) {
        const char *nl = strchr(p, '\n');
        if (!nl)
            return -1;
        unsigned int dmaj, dmin;
        int used = 0;
        struct map *e = &m[n];
        if (sscanf(p, "%lx-%lx %4s %lx %x:%x %lu%n", &e->start, &e->end, e->perms, &e->off,
                   &dmaj, &dmin, &e->ino, &used) != 7)
            return -1;
        const char *q = p + used;
        while (q < nl && *q == ' ')
            q++;
        size_t k = nl - q < 255 ? (size_t)(nl - q) : 255;
        memcpy(e->name, q, k);
        e->name[k] = 0;
        if (e->start >= e->end || e->start % 4096 || e->end % 4096)
            return -1;
        n++;
        p = nl + 1;
    }
    return n;
}

// The entry of `m` holding `addr`, or NULL.
static inline struct map *find_map(struct map *m, int n, unsigned long addr) {
    for (int i = 0; i < n; i++)
        if (m[i].start <= addr && addr < m[i].end)
            return &m[i];
    return NULL;
}

// Read the guest's own /proc/self/maps (path given) into `m`.
static inline int read_maps(const char *path, struct map *m, int max) {
    char *t = slurp(path, NULL);
    if (!t)
        return -1;
    int n = parse_maps(t, m, max);
    free(t);
    return n;
}

// Addresses no process should be able to reach memory through: the
// kernel half, non-canonical values, the top of the 47-bit user range
// (where a 64-bit host keeps its stacks and libraries), and ones that
// wrap.
static const unsigned long HOSTILE[] = {
    0x0ul,
    0x1ul,
    0xffful,
    0x7ffffffff000ul,
    0x7fffffffffffull,
    0x555555554000ul,
    0x7f0000000000ul,
    0x800000000000ul,
    0x8000000000000000ul,
    0xffffffff80000000ul,
    0xfffffffffffff000ul,
    0xffffffffffffffffull,
};
#define NHOSTILE (sizeof HOSTILE / sizeof HOSTILE[0])

// A readable and writable page followed by an inaccessible one: buffers
// that start at `page + 4096 - k` end past what the guest may touch.
static inline char *edge_page(void) {
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    mprotect(p + 4096, 4096, PROT_NONE);
    return p;
}

// A forked child that stores `value` in `*word`, then waits in pause()
// until killed; returns once the store is done (its pid, or -1).
static inline pid_t paused_child(volatile long *word, long value) {
    int p[2];
    if (pipe(p))
        return -1;
    pid_t c = fork();
    if (c == 0) {
        *word = value;
        write(p[1], "x", 1);
        for (;;)
            pause();
    }
    char x;
    if (c > 0 && read(p[0], &x, 1) != 1)
        c = -1;
    close(p[0]);
    close(p[1]);
    return c;
}

#endif
