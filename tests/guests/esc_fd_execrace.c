// pvm's own descriptors (the GDB stub's) sit just above the guest's hard
// RLIMIT_NOFILE and their /proc/self/fd and fdinfo entries must never be
// reached, by `execve` and `openat2` with RESOLVE_* flags either (the
// calls esc_fd_linkrace leaves out). pvm decides whether a path reaches
// one by resolving it link by link; this probe races that decision: a
// child process swaps a directory of the path with a symbolic link
// (renameat2 RENAME_EXCHANGE, atomic) in a tight loop while the parent
// calls execve, execveat (from the directory and by absolute path) and
// openat2(RESOLVE_NO_MAGICLINKS) on the path, for each of the 16 numbers
// past the hard limit in turn (pvm's are the lowest there). Three shapes:
// a directory in the middle ("x/N", x a directory or a link to
// /proc/self/fd; openat2 of a magic link it reaches is ELOOP), the last
// component ("fK": a link to nothing or a link to /proc/self/fd/N) and a
// directory in the middle of an fdinfo path ("u/N", u a directory or a
// link to /proc/self/fdinfo, whose entries openat2 opens). And a name
// openat2 creates ("mK", O_CREAT, no resolve flags and
// RESOLVE_NO_MAGICLINKS), which the child renames a link to
// /proc/self/fd/N or fdinfo/N onto and away again: anything opened that is
// not a file of the directory counts. No process has
// a descriptor there that the guest can see, so every answer but ENOENT
// is a reach of pvm's (qemu-riscv64 and plain pvm hold none there: 0).
// Then, without a race, the names an exec looks up itself: a `#!` line's
// interpreter and a program's PT_INTERP naming /proc/self/fd/N (ENOENT on
// Linux: no such descriptor; ENOEXEC too for a RISC-V program on a host
// that does not run one, as under qemu-riscv64 without binfmt_misc).
// Bounded: 0.8 s of racing per shape once both states came by, 5 s at most.
//@ variants: dynamic
#include "esc.h"
#include "swap.h"
#include <elf.h>
#include <sys/resource.h>
#include <time.h>

#define ROUNDS 200000

static char *const args[] = {"esc_fd_execrace", "reached", NULL};
static char *const env[] = {NULL};

struct open_how_ {
    uint64_t flags, mode, resolve;
};

// Did a call that returned `r` reach something: any answer but ENOENT
// (or ENOSYS: qemu-riscv64 7 has neither execveat nor openat2)?
static int reach(long r) { return r >= 0 || (errno != ENOENT && errno != ENOSYS); }

// One try of every call on `rel` (relative to the directory) and `abs`:
// how many reached something.
static int try_all(const char *rel, const char *abs) {
    int hits = reach(execve(abs, args, env));
    hits += reach(syscall(SYS_execveat, AT_FDCWD, abs, args, env, 0));
    hits += reach(syscall(SYS_execveat, dirfd_, rel, args, env, 0));
    struct open_how_ how = {O_RDONLY | O_CLOEXEC, 0, 0x02 /* RESOLVE_NO_MAGICLINKS */};
    long fd = syscall(SYS_openat2, dirfd_, rel, &how, sizeof how);
    if (fd >= 0)
        close(fd);
    return hits + reach(fd);
}

static dev_t dir_dev;

// Did an open that created its file when missing reach something else
// than a file in the directory?
static int elsewhere(long fd) {
    if (fd < 0)
        return 0;
    struct stat st;
    fstat(fd, &st);
    close(fd);
    return st.st_dev != dir_dev;
}

// openat2 with O_CREAT (no resolve flags, and RESOLVE_NO_MAGICLINKS) of a
// name that is missing or a link into /proc: how many reached /proc.
static int try_create(const char *rel, const char *abs) {
    (void)abs;
    struct open_how_ how = {O_RDONLY | O_CREAT | O_CLOEXEC, 0600, 0};
    int hits = elsewhere(syscall(SYS_openat2, dirfd_, rel, &how, sizeof how));
    how.resolve = 0x02; // RESOLVE_NO_MAGICLINKS
    return hits + elsewhere(syscall(SYS_openat2, dirfd_, rel, &how, sizeof how));
}

static int (*trier)(const char *, const char *) = try_all;

// Race `path(lim, i, buf)` (the i-th number's path, relative to the
// directory) against a flipper; `probe` is the swapped name, to see both
// states come by.
static void race(const char *what, void (*path)(int, int, char *), int lim, const char *probe) {
    pid_t child = flipper();
    long reached = 0;
    int seen[2] = {0, 0};
    char rel[64], abs[128];
    double start = now(), t;
    for (int r = 0; r < ROUNDS && (t = now()) < start + 5; r++) {
        if (seen[0] && seen[1] && t > start + 0.8)
            break;
        path(lim, r % SPAN, rel);
        sprintf(abs, "%s/%s", dir, rel);
        reached += trier(rel, abs);
        seen[linked(probe)] = 1;
    }
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    printf("%s: both states seen: %s, reached: %ld\n", what, seen[0] && seen[1] ? "yes" : "no",
           reached);
}

static void middle(int lim, int k, char *b) { sprintf(b, "x/%d", lim + k); }
static void last(int lim, int k, char *b) {
    (void)lim;
    sprintf(b, "f%d", k);
}
static void info(int lim, int k, char *b) { sprintf(b, "u/%d", lim + k); }
static void made(int lim, int k, char *b) {
    (void)lim;
    sprintf(b, "m%d", k);
}

static char names[2 * SPAN][16], more[2 * SPAN][16];

// Exec each of the SPAN files "NAMEk": how many answered other than
// ENOENT (and ENOEXEC, a RISC-V program the host does not run).
static int exec_each(const char *name) {
    int hits = 0;
    for (int k = 0; k < SPAN; k++) {
        char p[128];
        sprintf(p, "%s/%s%d", dir, name, k);
        execve(p, args, env);
        hits += errno != ENOENT && errno != ENOEXEC;
    }
    return hits;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "reached")) {
        printf("an exec ran a descriptor of pvm's\n");
        return 1;
    }
    // Each line out before an exec that should have failed runs something.
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int lim = rl.rlim_max > 0x7fff0000 ? 0x7fff0000 : (int)rl.rlim_max;
    if (swap_dir("/tmp/pvm-execrace-XXXXXX") < 0) {
        perror("mkdtemp");
        return 1;
    }
    char p[256];

    // x: a directory, y: a link to /proc/self/fd; swapped.
    mkdirat(dirfd_, "x", 0755);
    symlinkat("/proc/self/fd", dirfd_, "y");
    swap_a[0] = "x", swap_b[0] = "y", nswap = 1;
    race("a directory in the middle", middle, lim, "x");

    // fK: a link to nothing, gK: a link to /proc/self/fd/(lim+K); swapped.
    link_pairs(names, lim, "/nonexistent-pvm-execrace");
    race("the last component", last, lim, "f0");

    // u: a directory, v: a link to /proc/self/fdinfo; swapped.
    mkdirat(dirfd_, "u", 0755);
    symlinkat("/proc/self/fdinfo", dirfd_, "v");
    swap_a[0] = "u", swap_b[0] = "v", nswap = 1;
    race("an fdinfo directory in the middle", info, lim, "u");

    // mK: missing, or (renamed there from cK and back) a link to
    // /proc/self/fd/(lim+K) (even K) or /proc/self/fdinfo/(lim+K) (odd K),
    // while openat2 creates it.
    struct stat dst;
    fstat(dirfd_, &dst);
    dir_dev = dst.st_dev;
    for (int k = 0; k < SPAN; k++) {
        sprintf(more[2 * k], "c%d", k);
        sprintf(more[2 * k + 1], "m%d", k);
        char t[64];
        sprintf(t, "/proc/self/%s/%d", k % 2 ? "fdinfo" : "fd", lim + k);
        symlinkat(t, dirfd_, more[2 * k]);
        swap_a[k] = more[2 * k], swap_b[k] = more[2 * k + 1];
    }
    nswap = SPAN, exchange = 0, trier = try_create;
    race("a name openat2 creates", made, lim, "m0");

    // sK: a script whose interpreter is /proc/self/fd/(lim+K).
    for (int k = 0; k < SPAN; k++) {
        sprintf(p, "s%d", k);
        int fd = openat(dirfd_, p, O_CREAT | O_WRONLY | O_TRUNC, 0755);
        dprintf(fd, "#!/proc/self/fd/%d\n", lim + k);
        close(fd);
    }
    printf("a script's interpreter: reached: %d\n", exec_each("s"));

    // iK: this program with PT_INTERP /proc/self/fd/(lim+K), padded with
    // "./" to the length of the real one.
    size_t n;
    char *me;
    char *interp = self_interp(&me, &n);
    if (!interp) {
        printf("no PT_INTERP\n");
        return 1;
    }
    size_t il = strlen(interp);
    for (int k = 0; k < SPAN; k++) {
        char num[16], t[256] = "/proc/self/fd/";
        int nl = sprintf(num, "%d", lim + k);
        while (strlen(t) + nl + 2 <= il)
            strcat(t, "./");
        if (strlen(t) + nl < il)
            strcat(t, "/");
        strcat(t, num);
        memcpy(interp, t, il + 1);
        sprintf(p, "i%d", k);
        int fd = openat(dirfd_, p, O_CREAT | O_WRONLY | O_TRUNC, 0755);
        write(fd, me, n);
        close(fd);
    }
    printf("a program's PT_INTERP: reached: %d\n", exec_each("i"));

    // Clean up.
    for (int k = 0; k < SPAN; k++) {
        unlinkat(dirfd_, names[2 * k], 0);
        unlinkat(dirfd_, names[2 * k + 1], 0);
        unlinkat(dirfd_, more[2 * k], 0);
        unlinkat(dirfd_, more[2 * k + 1], 0);
        sprintf(p, "s%d", k);
        unlinkat(dirfd_, p, 0);
        sprintf(p, "i%d", k);
        unlinkat(dirfd_, p, 0);
    }
    const char *both[] = {"x", "y", "u", "v"};
    for (int i = 0; i < 4; i++) {
        unlinkat(dirfd_, both[i], AT_REMOVEDIR);
        unlinkat(dirfd_, both[i], 0);
    }
    close(dirfd_);
    printf("cleaned up: %s\n", rmdir(dir) == 0 ? "yes" : en(errno));
    return 0;
}
