// Two threads mmap/munmap at once; each fills its mapping with its id and
// checks it afterwards. Overlapping placements (a find-then-map race in the
// address-space calls) show as foreign bytes.
//@ cflags: -pthread
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
static int bad;
static void *run(void *arg) {
    int id = (int)(long)arg;
    for (int i = 0; i < 3000; i++) {
        size_t len = (size_t)(1 + (i % 7)) << 16;
        unsigned char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) { __atomic_add_fetch(&bad, 1, 0); continue; }
        memset(p, id, len);
        for (size_t k = 0; k < len; k += 4096) if (p[k] != id) { __atomic_add_fetch(&bad, 1, 0); break; }
        munmap(p, len);
    }
    return 0;
}
int main(void) {
    pthread_t t[2];
    for (long i = 0; i < 2; i++) pthread_create(&t[i], 0, run, (void *)(i + 1));
    for (int i = 0; i < 2; i++) pthread_join(t[i], 0);
    printf("bad %d\n", bad);
    return 0;
}
