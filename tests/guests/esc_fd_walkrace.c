// pvm's own descriptors (the GDB stub's) sit just above the guest's hard
// RLIMIT_NOFILE and their /proc/self/fd entries must never be reached.
// Under the stub pvm walks each path link by link and makes the call from
// what the walk found; this probe races that walk where the host kernel
// used to look a name up again after it (the shapes esc_fd_linkrace and
// esc_fd_execrace leave out): a child process swaps a name with a
// symbolic link into /proc (renameat2 RENAME_EXCHANGE) in a tight loop
// while the parent, for each of the 16 numbers past the hard limit in
// turn:
// - gives one string "x/N" twice to linkat(AT_SYMLINK_FOLLOW), from two
//   directories (x a directory, or a link to /proc/self/fd, in the
//   first; a plain directory in the second; renameat2 would be EXDEV
//   there before any last name is looked up);
// - looks at "dK/" (a slash after it) with the calls that follow a link
//   there only because of the slash (fstatat(AT_SYMLINK_NOFOLLOW),
//   openat(O_PATH | O_NOFOLLOW), readlinkat), dK a directory or a link to
//   /proc/self/fd/N (a descriptor's entry with a slash after it is
//   ENOTDIR: not a directory);
// - runs "e/N" in a child, e a directory holding a tiny x86-64 program
//   of that name (run natively, by qemu-riscv64 too) or a link to
//   /proc/self/fd.
// First, without a race, what the calls answer for names with a slash (or
// "/.") after them, in a directory of the probe's own: each as Linux
// (the walk once followed "l/" for rmdir, which removed the directory the
// link names).
// No process has a descriptor there that the guest can see, so every
// answer but ENOENT (and what a directory gives) is a reach of pvm's
// (qemu-riscv64 and plain pvm hold none there: 0).
// Bounded: 0.8 s of racing per shape once both states came by, 5 s at most.
//@ variants: dynamic
#include "esc.h"
#include "swap.h"
#include <elf.h>
#include <sys/resource.h>

#define ROUNDS 200000

static int other; // the second directory of the twice-given path
static dev_t dir_dev;

// Did a call that returned `r` reach something: any answer but ENOENT
static int reach(long r) { return r >= 0 || errno != ENOENT; }

// One string twice, from two directories (the first followed to what it
// names).
static int try_twice(const char *rel) {
    return reach(linkat(dirfd_, rel, other, rel, AT_SYMLINK_FOLLOW));
}

// A name with a slash after it: a directory of ours is fine (on the
// directory's device; readlink of one is EINVAL), the closed number's
// entry is ENOENT.
static int try_slash(const char *rel) {
    struct stat st;
    int hits = 0;
    if (fstatat(dirfd_, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
        hits += st.st_dev != dir_dev;
    else
        hits += errno != ENOENT;
    int fd = openat(dirfd_, rel, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        fstat(fd, &st);
        hits += st.st_dev != dir_dev;
        close(fd);
    } else {
        hits += errno != ENOENT;
    }
    char t[64];
    if (readlinkat(dirfd_, rel, t, sizeof t) >= 0)
        hits++;
    else
        hits += errno != ENOENT && errno != EINVAL;
    return hits;
}

static long ran;

// Run the program in a child: it ran (status 0), was not found (the
// link's closed number), or anything else.
static int try_exec(const char *rel) {
    char p[128];
    sprintf(p, "%s/%s", dir, rel);
    pid_t c = fork();
    if (c == 0) {
        execve(p, (char *[]){p, NULL}, (char *[]){NULL});
        _exit(errno == ENOENT ? 100 : 101);
    }
    int st;
    waitpid(c, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        ran++;
        return 0;
    }
    return !(WIFEXITED(st) && WEXITSTATUS(st) == 100);
}

// Race `path(lim, i, buf)` (the i-th number's path, relative to the
// directory) through `trier` against a flipper; `probe` is the swapped
// name, to see both states come by.
static void race(const char *what, int (*trier)(const char *), void (*path)(int, int, char *),
                 int lim, const char *probe) {
    pid_t child = flipper();
    long reached = 0;
    int seen[2] = {0, 0};
    char rel[64];
    double start = now(), t;
    for (int r = 0; r < ROUNDS && (t = now()) < start + 5; r++) {
        if (seen[0] && seen[1] && t > start + 0.8)
            break;
        path(lim, r % SPAN, rel);
        reached += trier(rel);
        seen[linked(probe)] = 1;
    }
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    printf("%s: both states seen: %s, reached: %ld\n", what, seen[0] && seen[1] ? "yes" : "no",
           reached);
}

static void middle(int lim, int k, char *b) { sprintf(b, "x/%d", lim + k); }
static void slash(int lim, int k, char *b) {
    (void)lim;
    sprintf(b, "d%d/", k);
}
static void program(int lim, int k, char *b) { sprintf(b, "e/%d", lim + k); }

// Each call on names with a slash or "/." after them, in the directory:
// d a directory, f a file, l a link to d, lf a link to f.
static void slashes(void) {
    int D = dirfd_;
    mkdirat(D, "d", 0755);
    close(openat(D, "f", O_CREAT | O_WRONLY, 0644));
    symlinkat("d", D, "l");
    symlinkat("f", D, "lf");
    struct stat st;
    char b[64];
    res("rmdir(\"d/.\")", unlinkat(D, "d/.", AT_REMOVEDIR));
    res("unlink(\"f/\")", unlinkat(D, "f/", 0));
    res("mkdir(\"d/.\")", mkdirat(D, "d/.", 0755));
    res("rename(\"d/.\", \"z\")", renameat(D, "d/.", D, "z"));
    res("rmdir(\"l/\")", unlinkat(D, "l/", AT_REMOVEDIR));
    res("unlink(\"l/\")", unlinkat(D, "l/", 0));
    res("rename(\"l/\", \"z\")", renameat(D, "l/", D, "z"));
    res("mkdir(\"l/\")", mkdirat(D, "l/", 0755));
    res("lstat(\"l/\")", fstatat(D, "l/", &st, AT_SYMLINK_NOFOLLOW));
    res("lstat(\"lf/\")", fstatat(D, "lf/", &st, AT_SYMLINK_NOFOLLOW));
    res("stat(\"d/./\")", fstatat(D, "d/./", &st, 0));
    res("readlink(\"l/\")", readlinkat(D, "l/", b, sizeof b));
    res("readlink(\"l\")", readlinkat(D, "l", b, sizeof b));
    int fd = openat(D, "l/", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    res("open(\"l/\", O_NOFOLLOW)", fd);
    if (fd >= 0)
        close(fd);
    res("open(\"f/\")", openat(D, "f/", O_RDONLY | O_CLOEXEC));
    res("link(\"f/\", \"g\")", linkat(D, "f/", D, "g", 0));
    res("link(\"l/\", \"g\")", linkat(D, "l/", D, "g", 0));
    res("link(\"f\", \"g/\")", linkat(D, "f", D, "g/", 0));
    res("rename(\"f\", \"z/\")", renameat(D, "f", D, "z/"));
    res("fchownat(\"l/\", AT_SYMLINK_NOFOLLOW)", fchownat(D, "l/", -1, -1, AT_SYMLINK_NOFOLLOW));
    unlinkat(D, "l", 0);
    unlinkat(D, "lf", 0);
    unlinkat(D, "f", 0);
    unlinkat(D, "g", 0);
    unlinkat(D, "d", AT_REMOVEDIR);
}

// The smallest x86-64 Linux program: exit(0).
static void tiny_x86_64(const char *path) {
    static const unsigned char code[] = {
        0xb8, 60, 0, 0, 0, // mov eax, 60 (exit)
        0x31, 0xff,        // xor edi, edi
        0x0f, 0x05,        // syscall
    };
    struct {
        Elf64_Ehdr eh;
        Elf64_Phdr ph;
        unsigned char code[sizeof code];
    } f;
    memset(&f, 0, sizeof f);
    memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
    f.eh.e_ident[EI_CLASS] = ELFCLASS64;
    f.eh.e_ident[EI_DATA] = ELFDATA2LSB;
    f.eh.e_ident[EI_VERSION] = EV_CURRENT;
    f.eh.e_type = ET_EXEC;
    f.eh.e_machine = EM_X86_64;
    f.eh.e_version = EV_CURRENT;
    f.eh.e_entry = 0x400000 + sizeof f.eh + sizeof f.ph;
    f.eh.e_phoff = sizeof f.eh;
    f.eh.e_ehsize = sizeof f.eh;
    f.eh.e_phentsize = sizeof f.ph;
    f.eh.e_phnum = 1;
    f.ph.p_type = PT_LOAD;
    f.ph.p_flags = PF_R | PF_X;
    f.ph.p_vaddr = f.ph.p_paddr = 0x400000;
    f.ph.p_filesz = f.ph.p_memsz = sizeof f;
    f.ph.p_align = 0x1000;
    memcpy(f.code, code, sizeof code);
    spit(path, (const char *)&f, sizeof f);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int lim = rl.rlim_max > 0x7fff0000 ? 0x7fff0000 : (int)rl.rlim_max;
    if (swap_dir("/tmp/pvm-walkrace-XXXXXX") < 0) {
        perror("mkdtemp");
        return 1;
    }
    struct stat dst;
    fstat(dirfd_, &dst);
    dir_dev = dst.st_dev;
    char p[256];
    slashes();

    // x: a directory, y: a link to /proc/self/fd; swapped. w/x: a
    // directory, the second place of the same string.
    mkdirat(dirfd_, "x", 0755);
    symlinkat("/proc/self/fd", dirfd_, "y");
    mkdirat(dirfd_, "w", 0755);
    mkdirat(dirfd_, "w/x", 0755);
    other = openat(dirfd_, "w", O_PATH | O_DIRECTORY);
    swap_a[0] = "x", swap_b[0] = "y", nswap = 1;
    race("a path given twice from two directories", try_twice, middle, lim, "x");

    // dK: a directory, lK: a link to /proc/self/fd/(lim+K); swapped.
    static char names[2 * SPAN][16];
    for (int k = 0; k < SPAN; k++) {
        sprintf(names[2 * k], "d%d", k);
        sprintf(names[2 * k + 1], "l%d", k);
        mkdirat(dirfd_, names[2 * k], 0755);
        char t[64];
        sprintf(t, "/proc/self/fd/%d", lim + k);
        symlinkat(t, dirfd_, names[2 * k + 1]);
        swap_a[k] = names[2 * k], swap_b[k] = names[2 * k + 1];
    }
    nswap = SPAN;
    race("a name with a slash after it", try_slash, slash, lim, "d0");

    // e: a directory of x86-64 programs named lim+K, h: a link to
    // /proc/self/fd; swapped.
    mkdirat(dirfd_, "e", 0755);
    for (int k = 0; k < SPAN; k++) {
        sprintf(p, "%s/e/%d", dir, lim + k);
        tiny_x86_64(p);
    }
    symlinkat("/proc/self/fd", dirfd_, "h");
    swap_a[0] = "e", swap_b[0] = "h", nswap = 1;
    race("a host program run natively", try_exec, program, lim, "e");
    printf("the host program ran: %s\n", ran ? "yes" : "no");

    // Clean up (each pair may be left either way round).
    for (int k = 0; k < SPAN; k++) {
        sprintf(p, "e/%d", lim + k);
        unlinkat(dirfd_, p, 0);
        sprintf(p, "h/%d", lim + k);
        unlinkat(dirfd_, p, 0);
    }
    for (int i = 0; i < 2 * SPAN; i++) {
        unlinkat(dirfd_, names[i], AT_REMOVEDIR);
        unlinkat(dirfd_, names[i], 0);
    }
    unlinkat(dirfd_, "w/x", AT_REMOVEDIR);
    unlinkat(dirfd_, "w", AT_REMOVEDIR);
    const char *both[] = {"x", "y", "e", "h"};
    for (int i = 0; i < 4; i++) {
        unlinkat(dirfd_, both[i], AT_REMOVEDIR);
        unlinkat(dirfd_, both[i], 0);
    }
    close(other);
    close(dirfd_);
    printf("cleaned up: %s\n", rmdir(dir) == 0 ? "yes" : en(errno));
    return 0;
}
