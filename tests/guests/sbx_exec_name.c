// --sandbox: a program started by the guest's execve sees the names Linux
// gives it, whatever name it was started by (a link to it, a relative
// path, the name the first program was started by): argv[0] and
// AT_EXECFN as the guest gave them, /proc/self/exe its real path; and it
// may open itself by each of those names, as the file checked by the
// exec. pvm allowed the new program only under its real path: started as
// `pvm --sandbox ... /tmp/link/sbx_exec_name.static` (link -> the
// directory of the build), the program re-executing itself by that name
// could not open its AT_EXECFN (EACCES).
//@ variants: static
//@ pvm-args: --sandbox --allow-write {dir}
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is Linux's answer (checked natively on x86-64)
#define _GNU_SOURCE
#include "sbx.h"
#include <fcntl.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void copy(const char *from, const char *to) {
    int in = open(from, O_RDONLY), out = open(to, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        write(out, buf, n);
    close(in);
    close(out);
}

static void run(const char *path, const char *argv0, const char *real) {
    pid_t pid = fork();
    if (pid == 0) {
        execl(path, argv0, "child", path, real, (char *)0);
        printf("execve %s: %s\n", path, errname(errno));
        _exit(9);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    printf("exit: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(int argc, char **argv) {
    char cwd[4096], p[8192], exe[8192];
    if (!getcwd(cwd, sizeof cwd))
        return 1;
    if (argc > 3) {
        // argv[2]: the path the parent gave execve; argv[3]: its real path.
        const char *fn = (const char *)getauxval(AT_EXECFN);
        printf("argv[0]: %s\n", argv[0]);
        printf("AT_EXECFN is the path given: %s\n", fn && !strcmp(fn, argv[2]) ? "yes" : "no");
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
        printf("/proc/self/exe is its real path: %s\n", !strcmp(exe, argv[3]) ? "yes" : "no");
        SHOW("open AT_EXECFN", open(fn, O_RDONLY));
        SHOW("open /proc/self/exe", open("/proc/self/exe", O_RDONLY));
        SHOW("open its real path", open(exe, O_RDONLY));
        return 7;
    }
    mkdir("real", 0755);
    copy("/proc/self/exe", "real/prog");
    symlink("real/prog", "x");
    char real[8192];
    snprintf(real, sizeof real, "%s/real/prog", cwd);
    run("x", "named-by-guest", real);
    run("./real/../x", "dotdot", real);
    snprintf(p, sizeof p, "%s/x", cwd);
    run(p, "absolute", real);
    // The name this program was started by (a link outside the allowed
    // directory, when pvm was given one).
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    run(argv[0], "itself", exe);
    return 0;
}
