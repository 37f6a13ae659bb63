// The guest closes every descriptor it can name but its stdout
// (close_range 3..~0, then close() of each number up to 65536): the VM
// keeps working, as it holds no descriptor among the guest's: new code
// still translates, a thread starts, memory maps, a file opens, and a
// child runs the program again through /proc/self/exe.
//@ no-qemu: qemu-user cannot execute a RISC-V program from the guest without binfmt_misc
#include "esc.h"
#include <pthread.h>
#include <sys/wait.h>

static void *thr(void *x) { return (char *)x + 1; }

__attribute__((noinline)) static int fresh(int x) { return x * 3 + 1; }

int main(int argc, char **argv) {
    if (argc > 1) {
        printf("child ran: %s\n", argv[1]);
        return 0;
    }
    fflush(stdout);
    res("close_range", syscall(SYS_close_range, 3, ~0u, 0));
    close(0);
    close(2);
    for (int fd = 3; fd < 65536; fd++)
        close(fd);
    int n = open("/dev/null", O_RDONLY);
    printf("lowest free fd: %d\n", n);
    printf("fresh code: %d\n", fresh(4));
    pthread_t t;
    void *r = NULL;
    int ok = pthread_create(&t, NULL, thr, (void *)41) == 0 && pthread_join(t, &r) == 0;
    printf("thread: %s %ld\n", ok ? "ran" : "failed", (long)r);
    char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap: %s\n", m != MAP_FAILED ? "ok" : "failed");
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        execl("/proc/self/exe", "x", "yes", (char *)NULL);
        _exit(99);
    }
    int st;
    waitpid(c, &st, 0);
    printf("child status: %d\n", WEXITSTATUS(st));
    return 0;
}
