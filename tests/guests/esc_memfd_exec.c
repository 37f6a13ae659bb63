// memfd_create + execveat: a memfd holding the guest program runs it
// again (as a RISC-V program, under the VM), one holding garbage is
// ENOEXEC, one holding a script with a missing interpreter ENOENT, and a
// bad descriptor EBADF.
//@ no-qemu: qemu-user cannot execute a RISC-V program through execveat without binfmt_misc
#include "esc.h"
#include <sys/wait.h>

static int fill(const char *from, const char *data) {
    int m = memfd_create("probe", 0);
    if (from) {
        int f = open(from, O_RDONLY);
        char b[65536];
        ssize_t k;
        while ((k = read(f, b, sizeof b)) > 0)
            write(m, b, k);
        close(f);
    } else {
        write(m, data, strlen(data));
    }
    return m;
}

static void run(const char *what, int fd) {
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        char *argv[] = {"probe", "child", NULL};
        char *envp[] = {NULL};
        syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
        printf("%s: %s\n", what, en(errno));
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
}

int main(int argc, char **argv) {
    (void)argv;
    if (argc > 1) {
        printf("the program ran from a memfd\n");
        return 0;
    }
    run("self", fill("/proc/self/exe", NULL));
    run("garbage", fill(NULL, "\x7f" "ELF garbage garbage garbage garbage garbage garbage garbage garbage"));
    run("script", fill(NULL, "#!/nonexistent/interpreter\n"));
    run("bad fd", 999);
    return 0;
}
