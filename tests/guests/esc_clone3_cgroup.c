// clone3 with CLONE_INTO_CGROUP: the child is created in the cgroup v2
// directory the descriptor names, as Linux does it, and the descriptor is
// checked as Linux checks it: an argument structure older than version 2
// or a number past INT_MAX is EINVAL, a closed number, a directory outside
// cgroupfs or a file inside it is EBADF. The child reports the cgroup it
// finds itself in (/proc/self/cgroup), also a CLONE_VM | CLONE_VFORK child.
// A thread (CLONE_THREAD) may be created only in the process's own cgroup
// (another domain's is EOPNOTSUPP, as cgroup v2 keeps a process's threads
// in one domain). The cgroup made for it is a new
// directory below the process's own (which needs the right to make one:
// root, or a delegated subtree).
//@ no-qemu: qemu-riscv64 7.2 has no clone3 (ENOSYS)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

static const char *name(long r) {
    if (r >= 0)
        return "ok";
    const char *s = strerrorname_np(errno);
    return s ? s : "E?";
}

// clone3 into `cg` (size `size`, extra flags `more`): in the child, write
// its cgroup line to the pipe and exit; in the parent, the answer.
static long spawn(uint64_t cg, size_t size, uint64_t more, int out) {
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_INTO_CGROUP | more;
    a.exit_signal = SIGCHLD;
    a.cgroup = cg;
    long pid = syscall(SYS_clone3, &a, size);
    if (pid == 0) {
        char b[512] = "";
        int f = open("/proc/self/cgroup", O_RDONLY);
        long n = f < 0 ? 0 : read(f, b, sizeof b - 1);
        // The cgroup v2 line, "0::PATH".
        char *l = strstr(b, "0::");
        if (n > 0 && l) {
            char *e = strchr(l, '\n');
            write(out, l + 3, e ? e - l - 3 : (long)strlen(l + 3));
        }
        _exit(7);
    }
    if (pid > 0) {
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 7)
            return -2;
    }
    return pid;
}

// clone3 with `flags` (CLONE_VM: the child runs `fn` on `stk` and must
// not return; else it exits at once), raw: the child touches no memory
// before it is on its own stack.
static long raw_clone3(struct clone_args *a, void (*fn)(void)) {
    long ret;
#ifdef __x86_64__
    __asm__ volatile("syscall\n test %%rax,%%rax\n jnz 1f\n test %%rdx,%%rdx\n jz 2f\n call *%%rdx\n"
                     "2: mov $60,%%eax\n xor %%edi,%%edi\n syscall\n1:"
                     : "=a"(ret)
                     : "0"(435L), "D"(a), "S"(sizeof *a), "d"(fn)
                     : "rcx", "r11", "memory");
#else
    register long a0 __asm__("a0") = (long)a;
    register long a1 __asm__("a1") = (long)sizeof *a;
    register long a7 __asm__("a7") = 435;
    register long t1 __asm__("t1") = (long)fn;
    __asm__ volatile("ecall\n bnez a0, 1f\n beqz t1, 2f\n jalr t1\n"
                     "2: li a7, 93\n li a0, 0\n ecall\n1:"
                     : "+r"(a0)
                     : "r"(a1), "r"(a7), "r"(t1)
                     : "memory");
    ret = a0;
#endif
    if (ret < 0) {
        errno = -ret;
        return -1;
    }
    return ret;
}

static char stk[1 << 16] __attribute__((aligned(16)));
static int out_fd;

// A CLONE_VM | CLONE_VFORK child: report its cgroup line and exit.
static void vm_child(void) {
    char b[512] = "";
    int f = open("/proc/self/cgroup", O_RDONLY);
    long n = f < 0 ? 0 : read(f, b, sizeof b - 1);
    char *l = strstr(b, "0::");
    if (n > 0 && l) {
        char *e = strchr(l, '\n');
        write(out_fd, l + 3, e ? e - l - 3 : (long)strlen(l + 3));
    }
    _exit(7);
}

// clone3 into `cg` as a thread (CLONE_THREAD) or a CLONE_VM | CLONE_VFORK
// child (which reports to `out`).
static long spawn_shared(int cg, int thread, int out) {
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_INTO_CGROUP | CLONE_VM |
              (thread ? CLONE_SIGHAND | CLONE_THREAD : CLONE_VFORK);
    a.exit_signal = thread ? 0 : SIGCHLD;
    a.cgroup = cg;
    a.stack = (uint64_t)(uintptr_t)stk;
    a.stack_size = sizeof stk;
    out_fd = out;
    long pid = raw_clone3(&a, thread ? NULL : vm_child);
    if (pid > 0 && !thread) {
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 7)
            return -2;
    }
    if (pid > 0 && thread)
        usleep(20000); // the thread has exited
    return pid;
}

// The mount point of cgroup v2 (from /proc/self/mountinfo) and this
// process's cgroup in it.
static int cgroup2(char *mnt, size_t mn, char *own, size_t on) {
    char line[1024];
    FILE *f = fopen("/proc/self/mountinfo", "r");
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        char m[512], fs[64];
        // id parent maj:min root mount-point options ... - fstype ...
        char *dash = strstr(line, " - ");
        if (!dash || sscanf(dash, " - %63s", fs) != 1 || strcmp(fs, "cgroup2"))
            continue;
        if (sscanf(line, "%*s %*s %*s %*s %511s", m) == 1) {
            snprintf(mnt, mn, "%s", m);
            found = 1;
            break;
        }
    }
    if (f)
        fclose(f);
    f = fopen("/proc/self/cgroup", "r");
    while (found && f && fgets(line, sizeof line, f))
        if (!strncmp(line, "0::", 3)) {
            line[strcspn(line, "\n")] = 0;
            snprintf(own, on, "%s", line + 3);
            found = 2;
        }
    if (f)
        fclose(f);
    return found == 2;
}

int main(void) {
    int p[2];
    char got[512], mnt[512], own[512], dir[1200], sub[1300];
    if (pipe(p))
        return 1;
    int root = open("/", O_RDONLY | O_DIRECTORY);
    printf("size 64 (no cgroup field): %s\n", name(spawn(root, 64, 0, p[1])));
    printf("size 80: %s\n", name(spawn(root, 80, 0, p[1])));
    printf("cgroup past INT_MAX: %s\n", name(spawn(1ULL << 31, sizeof(struct clone_args), 0, p[1])));
    printf("cgroup -1: %s\n", name(spawn(~0ULL, sizeof(struct clone_args), 0, p[1])));
    printf("closed descriptor: %s\n", name(spawn(880, sizeof(struct clone_args), 0, p[1])));
    printf("directory outside cgroupfs: %s\n", name(spawn(root, sizeof(struct clone_args), 0, p[1])));
    if (!cgroup2(mnt, sizeof mnt, own, sizeof own)) {
        printf("no cgroup v2 here\n");
        return 0;
    }
    snprintf(dir, sizeof dir, "%s%s", mnt, strcmp(own, "/") ? own : "");
    snprintf(sub, sizeof sub, "%s/cgroup.procs", dir);
    int file = open(sub, O_RDONLY);
    printf("file inside cgroupfs: %s\n", name(spawn(file, sizeof(struct clone_args), 0, p[1])));
    char leaf[64];
    snprintf(leaf, sizeof leaf, "pvm-esc-%d", getpid());
    snprintf(sub, sizeof sub, "%s/%s", dir, leaf);
    if (mkdir(sub, 0755)) {
        printf("cannot make a cgroup: %s\n", name(-1));
        return 0;
    }
    int cg = open(sub, O_RDONLY | O_DIRECTORY);
    memset(got, 0, sizeof got);
    long r = spawn(cg, sizeof(struct clone_args), 0, p[1]);
    if (r > 0)
        read(p[0], got, sizeof got - 1);
    char want[1200];
    snprintf(want, sizeof want, "%s/%s", strcmp(own, "/") ? own : "", leaf);
    printf("into a new cgroup: %s, child in it: %s\n", name(r), strcmp(got, want) ? got : "yes");
    memset(got, 0, sizeof got);
    r = spawn(cg, sizeof(struct clone_args), CLONE_VFORK, p[1]);
    if (r > 0)
        read(p[0], got, sizeof got - 1);
    printf("with CLONE_VFORK: %s, child in it: %s\n", name(r), strcmp(got, want) ? got : "yes");
    memset(got, 0, sizeof got);
    r = spawn_shared(cg, 0, p[1]);
    if (r > 0)
        read(p[0], got, sizeof got - 1);
    printf("with CLONE_VM | CLONE_VFORK: %s, child in it: %s\n", name(r), strcmp(got, want) ? got : "yes");
    printf("a thread into it: %s\n", name(spawn_shared(cg, 1, p[1])));
    int mine = open(dir, O_RDONLY | O_DIRECTORY);
    printf("a thread into the process's own cgroup: %s\n", name(spawn_shared(mine, 1, p[1])));
    close(mine);
    // The parent stayed where it was.
    char again[512] = "", now[512];
    cgroup2(mnt, sizeof mnt, again, sizeof again);
    printf("parent moved: %s\n", strcmp(again, own) ? "yes" : "no");
    close(cg);
    // The children are gone: the cgroup is empty again.
    snprintf(now, sizeof now, "%s", name(rmdir(sub)));
    printf("rmdir: %s\n", now);
    return 0;
}
