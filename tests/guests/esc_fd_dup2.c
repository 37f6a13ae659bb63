// dup2 of the guest's stdout over every descriptor number up to the
// limit: nothing of the VM is replaced (it holds none there), so the
// program keeps running, translating, mapping, starting threads, and the
// numbers past RLIMIT_NOFILE give EBADF.
#include "esc.h"
#include <pthread.h>
#include <sys/resource.h>

static void *thr(void *x) { return (char *)x + 1; }

__attribute__((noinline)) static int fresh(int x) { return x * 5; }

int main(void) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int lim = rl.rlim_cur > 4096 ? 4096 : (int)rl.rlim_cur;
    int bad = 0;
    for (int fd = 3; fd < lim; fd++)
        if (dup2(1, fd) != fd)
            bad++;
    printf("dup2 over every number below the limit failed: %d\n", bad);
    resn("dup2 at the limit", dup2(1, (int)rl.rlim_cur));
    resn("dup3 at -1", dup3(1, -1, 0));
    printf("fresh code: %d\n", fresh(9));
    pthread_t t;
    void *r = NULL;
    pthread_create(&t, NULL, thr, (void *)1);
    pthread_join(t, &r);
    printf("thread: %ld\n", (long)r);
    char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    m[5] = 1;
    printf("mmap: ok\n");
    for (int fd = 3; fd < lim; fd++)
        close(fd);
    return 0;
}
