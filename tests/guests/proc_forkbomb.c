// A fork bomb under RLIMIT_NPROC: every process forks until fork fails;
// forks past the limit fail with EAGAIN, no more processes live at once
// than the limit allows, every process is reaped, and the machine still
// forks afterwards. The bare-metal kernel enforces the limit itself; on
// Linux pvm's --max-processes holds it (root is not bound by
// RLIMIT_NPROC there).
//@ variants: static
//@ pvm-args: --max-processes 8
//@ no-qemu: as root RLIMIT_NPROC does not bind on Linux, and qemu-riscv64 has no process limit of its own
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIMIT 8
#define CAP 200 // forks in all, should no limit hold

struct shared {
    int forks, live, max_live, first_errno;
};
static struct shared *sh;

static void started(void) {
    int l = __atomic_add_fetch(&sh->live, 1, __ATOMIC_SEQ_CST);
    int m = __atomic_load_n(&sh->max_live, __ATOMIC_SEQ_CST);
    while (l > m && !__atomic_compare_exchange_n(&sh->max_live, &m, l, 0, __ATOMIC_SEQ_CST,
                                                 __ATOMIC_SEQ_CST))
        ;
}

static void bomb(void) {
    pid_t kids[CAP];
    int n = 0;
    while (__atomic_add_fetch(&sh->forks, 1, __ATOMIC_SEQ_CST) <= CAP) {
        pid_t p = fork();
        if (p == 0) {
            started();
            n = 0;
            continue; // the child bombs on
        }
        if (p < 0) {
            int zero = 0;
            __atomic_compare_exchange_n(&sh->first_errno, &zero, errno, 0, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST);
            break;
        }
        kids[n++] = p;
    }
    for (int i = 0; i < n; i++)
        waitpid(kids[i], NULL, 0);
}

int main(void) {
    sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return 1;
    struct rlimit old, r;
    getrlimit(RLIMIT_NPROC, &old);
    r = old;
    r.rlim_cur = LIMIT;
    if (setrlimit(RLIMIT_NPROC, &r))
        return 2;
    pid_t me = getpid();
    started();
    bomb();
    if (getpid() != me) {
        __atomic_sub_fetch(&sh->live, 1, __ATOMIC_SEQ_CST);
        _exit(0);
    }
    setrlimit(RLIMIT_NPROC, &old);
    printf("a fork failed: %s\n", sh->first_errno ? strerrorname_np(sh->first_errno) : "none");
    printf("live processes within the limit: %s\n", sh->max_live <= LIMIT ? "yes" : "no");
    printf("every process reaped: %s\n", sh->live == 1 && waitpid(-1, NULL, WNOHANG) < 0 ? "yes" : "no");
    pid_t p = fork();
    if (p == 0)
        _exit(7);
    int st = 0;
    waitpid(p, &st, 0);
    printf("forks afterwards: %s\n", p > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7 ? "yes" : "no");
    return 0;
}
