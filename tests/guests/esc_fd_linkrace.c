// pvm's own descriptors (the GDB stub's, the sandbox's roots) sit just
// above the guest's hard RLIMIT_NOFILE and their /proc/self/fd and fdinfo
// entries must never be reached. pvm decides whether a path reaches one by
// resolving it link by link; this probe races that decision: a child process
// swaps a directory of the path with a symbolic link (renameat2
// RENAME_EXCHANGE, atomic) in a tight loop while the parent opens, stats,
// readlinks and accesses through the path, and calls statfs, getxattr and
// chdir (no directory argument) on it, each of the 16 numbers past the
// hard limit in turn (pvm's are the lowest there). Three shapes: a
// directory in the middle ("x/N", x a directory or a link to
// /proc/self/fd), the last component ("fK": a link to nothing or a link to
// /proc/self/fd/N; only the calls that follow it count) and a link
// followed by ".." ("u/../fd/N", u a directory or a link to
// /proc/self/fdinfo). No process has a descriptor
// there that the guest can see, so every success is a reach of pvm's
// (qemu-riscv64 and plain pvm hold none there: 0). Each shape also reads
// the swapped name, to show that both states came by while it raced.
// Bounded: 0.8 s of racing per shape once both states came by, 5 s at most.
#include "esc.h"
#include "swap.h"
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>

#define ROUNDS 200000

static int here; // the starting directory, to come back to

// One try of every call on `p`: how many reached something (`follow`:
// only the calls that follow a link in the last component count, as the
// link itself may be there).
static int try_all(const char *p, int follow) {
    int hits = 0;
    char buf[256];
    struct stat st;
    int fd = open(p, O_RDONLY | O_NONBLOCK);
    if (fd >= 0) {
        hits++;
        close(fd);
    }
    fd = open(p, O_PATH);
    if (fd >= 0) {
        hits++;
        close(fd);
    }
    hits += stat(p, &st) == 0;
    hits += access(p, F_OK) == 0;
    // Calls without a directory argument: reaching a descriptor's entry
    // shows as success or as what its object answers (no attribute, not a
    // directory), never ENOENT.
    struct statfs sf;
    hits += statfs(p, &sf) == 0;
    errno = 0;
    hits += getxattr(p, "user.pvm", buf, sizeof buf) >= 0 || errno == ENODATA ||
            errno == ENOTSUP;
    if (chdir(p) == 0) {
        hits++;
        fchdir(here);
    } else {
        hits += errno == ENOTDIR;
    }
    if (!follow) {
        hits += lstat(p, &st) == 0;
        hits += readlink(p, buf, sizeof buf) >= 0;
    }
    return hits;
}

// Race `path(lim, i, buf)` (the i-th number's path) against a flipper;
// `probe` is the swapped name, to see both states come by.
static void race(const char *what, void (*path)(int, int, char *), int lim, int follow,
                 const char *probe) {
    pid_t child = flipper();
    long reached = 0;
    int seen[2] = {0, 0};
    char p[256];
    // 0.8 s once both states came by (the child may take a while to
    // start on a loaded machine), 5 s at most.
    double start = now(), t;
    for (int r = 0; r < ROUNDS && (t = now()) < start + 5; r++) {
        if (seen[0] && seen[1] && t > start + 0.8)
            break;
        path(lim, r % SPAN, p);
        reached += try_all(p, follow);
        seen[linked(probe)] = 1;
    }
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    printf("%s: both states seen: %s, reached: %ld\n", what, seen[0] && seen[1] ? "yes" : "no",
           reached);
}

static void middle(int lim, int k, char *b) { sprintf(b, "%s/x/%d", dir, lim + k); }
static void last(int lim, int k, char *b) {
    (void)lim;
    sprintf(b, "%s/f%d", dir, k);
}
static void dotdot(int lim, int k, char *b) { sprintf(b, "%s/u/../fd/%d", dir, lim + k); }

static char names[2 * SPAN][16];

int main(void) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int lim = rl.rlim_max > 0x7fff0000 ? 0x7fff0000 : (int)rl.rlim_max;
    if (swap_dir("/tmp/pvm-linkrace-XXXXXX") < 0) {
        perror("mkdtemp");
        return 1;
    }
    int d = dirfd_;
    here = open(".", O_PATH | O_DIRECTORY);
    char p[256];

    // x: a directory, y: a link to /proc/self/fd; swapped.
    mkdirat(d, "x", 0755);
    symlinkat("/proc/self/fd", d, "y");
    swap_a[0] = "x", swap_b[0] = "y", nswap = 1;
    sprintf(p, "%s/x", dir);
    race("a directory in the middle", middle, lim, 0, p);

    // fK: a link to nothing, gK: a link to /proc/self/fd/(lim+K); swapped.
    link_pairs(names, lim, "/nonexistent-pvm-linkrace");
    sprintf(p, "%s/f0", dir);
    race("the last component", last, lim, 1, p);

    // u: a directory, v: a link to /proc/self/fdinfo; swapped. Through
    // the directory "u/../fd" is dir/fd, which does not exist.
    mkdirat(d, "u", 0755);
    symlinkat("/proc/self/fdinfo", d, "v");
    swap_a[0] = "u", swap_b[0] = "v", nswap = 1;
    sprintf(p, "%s/u", dir);
    race("a link then ..", dotdot, lim, 0, p);

    // Clean up.
    for (int k = 0; k < SPAN; k++) {
        sprintf(p, "f%d", k);
        unlinkat(d, p, 0);
        sprintf(p, "g%d", k);
        unlinkat(d, p, 0);
    }
    unlinkat(d, "x", AT_REMOVEDIR);
    unlinkat(d, "y", 0);
    unlinkat(d, "x", 0);
    unlinkat(d, "y", AT_REMOVEDIR);
    unlinkat(d, "u", AT_REMOVEDIR);
    unlinkat(d, "v", 0);
    unlinkat(d, "u", 0);
    unlinkat(d, "v", AT_REMOVEDIR);
    close(d);
    printf("cleaned up: %s\n", rmdir(dir) == 0 ? "yes" : en(errno));
    return 0;
}
