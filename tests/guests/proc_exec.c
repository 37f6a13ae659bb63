// execve of RISC-V programs (this program itself, through the path
// /proc/self/exe names), of #! scripts with a RISC-V and a host
// interpreter, and of host programs; what survives execve (argv[0],
// the environment, descriptors without close-on-exec, ignored signals,
// the mask, pending signals); execve's errors (the caller lives on);
// posix_spawn of a missing program (ENOENT) and of this program; vfork's
// shared memory; a pipeline of three processes; a child that execs and
// is killed by a signal.
//@ no-qemu: qemu-riscv64 cannot execve a RISC-V program without binfmt_misc, and turns vfork into fork (posix_spawn cannot report ENOENT); the expectation is the output of this program built for the host and run natively
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static char self[4096];

static void show(const char *what, int st) {
    if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by %s\n", what, strsignal(WTERMSIG(st)));
}

static const char *disposition(int s) {
    struct sigaction sa;
    sigaction(s, NULL, &sa);
    return sa.sa_handler == SIG_IGN ? "ignored" : sa.sa_handler == SIG_DFL ? "default" : "handled";
}

static void on_usr1(int s) { (void)s; }

// What the exec'd program sees.
static int child_main(int argc, char **argv) {
    const char *mode = argv[1];
    if (!strcmp(mode, "show")) {
        printf("  argv:");
        for (int i = 0; i < argc; i++)
            printf(" [%s]", argv[i]);
        printf("\n  FOO=%s\n", getenv("FOO") ? getenv("FOO") : "(unset)");
        printf("  fd 10 %s, fd 11 %s\n", fcntl(10, F_GETFD) >= 0 ? "open" : "closed",
               fcntl(11, F_GETFD) >= 0 ? "open" : "closed");
        printf("  SIGUSR1 %s, SIGUSR2 %s, SIGPIPE %s\n", disposition(SIGUSR1),
               disposition(SIGUSR2), disposition(SIGPIPE));
        sigset_t m, p;
        sigprocmask(SIG_BLOCK, NULL, &m);
        sigpending(&p);
        printf("  SIGINT blocked %d, SIGTERM blocked %d, SIGTERM pending %d\n",
               sigismember(&m, SIGINT), sigismember(&m, SIGTERM), sigismember(&p, SIGTERM));
        return 0;
    }
    if (!strcmp(mode, "script-arg")) {
        printf("  interpreter is this program: %s\n",
               strcmp(argv[0], self) == 0 ? "yes" : argv[0]);
        printf("  args:");
        for (int i = 1; i < argc; i++)
            printf(" [%s]", argv[i]);
        printf("\n");
        return 0;
    }
    if (!strcmp(mode, "exit"))
        return atoi(argv[2]);
    if (!strcmp(mode, "die")) {
        signal(SIGTERM, SIG_DFL);
        raise(SIGTERM);
        return 1;
    }
    if (!strcmp(mode, "produce")) {
        for (int i = 1; i <= 5; i++)
            printf("line %d of the pipeline\n", i);
        return 0;
    }
    if (!strcmp(mode, "upper")) {
        int c;
        while ((c = getchar()) != EOF)
            putchar(c >= 'a' && c <= 'z' ? c - 32 : c);
        return 0;
    }
    if (!strcmp(mode, "count")) {
        char line[256];
        int n = 0;
        while (fgets(line, sizeof line, stdin))
            if (n++ == 0)
                printf("  first: %s", line);
        printf("  %d lines\n", n);
        return 0;
    }
    printf("unknown mode %s\n", mode);
    return 2;
}

static int raise_first;

static void run(const char *what, const char *path, char **argv, char **envp) {
    printf("%s\n", what);
    pid_t p = fork();
    if (p == 0) {
        if (raise_first)
            raise(SIGTERM); // blocked: pending across execve
        execve(path, argv, envp);
        printf("  execve failed: %s\n", strerror(errno));
        _exit(127);
    }
    int st;
    waitpid(p, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        show("  status", st);
}

static void try_exec(const char *what, const char *path) {
    char *argv[] = {(char *)path, NULL};
    errno = 0;
    int r = execve(path, argv, environ);
    printf("execve %s: %d %s\n", what, r, strerror(errno));
}

static void write_file(const char *name, const void *data, size_t len, int mode) {
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, mode);
    write(fd, data, len);
    close(fd);
    chmod(name, mode);
}

int main(int argc, char **argv) {
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    if (argc == 0 || !argv[0][0]) {
        // Started with an empty argv: Linux gives it one empty argument.
        printf("  started with argc %d\n", argc);
        return 0;
    }
    if (argc > 1)
        return child_main(argc, argv);
    setvbuf(stdout, NULL, _IONBF, 0);

    // What survives execve.
    int f = open(".", O_RDONLY);
    dup2(f, 10);
    fcntl(f, F_DUPFD_CLOEXEC, 11);
    close(f);
    signal(SIGUSR2, SIG_IGN);
    signal(SIGUSR1, on_usr1);
    signal(SIGPIPE, SIG_IGN);
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGINT);
    sigaddset(&m, SIGTERM);
    sigprocmask(SIG_BLOCK, &m, NULL);
    raise_first = 1;
    char *env[] = {"FOO=bar baz", "PATH=/usr/bin:/bin", NULL};
    char *show_args[] = {"custom argv0", "show", "two words", "", NULL};
    run("exec of this program:", self, show_args, env);
    signal(SIGPIPE, SIG_DFL);
    char *env0[] = {NULL};
    run("exec through /proc/self/exe:", "/proc/self/exe", show_args, env0);
    char *no_args[] = {NULL};
    printf("exec without arguments:\n");
    pid_t p = fork();
    if (p == 0) {
        execve(self, no_args, env0);
        _exit(127);
    }
    int st;
    waitpid(p, &st, 0);
    show("  status", st);
    sigprocmask(SIG_UNBLOCK, &m, NULL);
    raise_first = 0;

    // #! scripts.
    char script[5000];
    int len = snprintf(script, sizeof script, "#!%s script-arg\nignored\n", self);
    write_file("riscv-script", script, len, 0755);
    char *sargs[] = {"riscv-script", "x", "y z", NULL};
    run("script with this program as interpreter:", "./riscv-script", sargs, environ);
    const char sh[] = "#!/bin/sh -e\necho \"  host shell script: $0 $1\"\nexit 6\n";
    write_file("sh-script", sh, sizeof sh - 1, 0755);
    char *shargs[] = {"sh-script", "arg", NULL};
    run("script with a host interpreter:", "./sh-script", shargs, environ);
    char *echo[] = {"echo", "  a host program", NULL};
    run("host program:", "/bin/echo", echo, environ);

    // Errors: the caller goes on.
    try_exec("of a missing file", "./no-such-file");
    write_file("not-executable", "#!/bin/sh\n", 10, 0644);
    try_exec("of a file without x", "./not-executable");
    try_exec("of a directory", ".");
    write_file("garbage", "hello\n", 6, 0755);
    try_exec("of garbage", "./garbage");
    int fd = open(self, O_RDONLY);
    char head[40];
    read(fd, head, sizeof head);
    close(fd);
    write_file("truncated", head, sizeof head, 0755);
    try_exec("of a truncated ELF", "./truncated");
    unsigned char arm[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
    arm[16] = 2;  // ET_EXEC
    arm[18] = 40; // EM_ARM
    arm[52] = 64;
    arm[54] = 56;
    write_file("other-machine", arm, sizeof arm, 0755);
    try_exec("of another machine's ELF", "./other-machine");
    write_file("bad-interp", "#!/no/such/interpreter\n", 23, 0755);
    try_exec("of a script whose interpreter is missing", "./bad-interp");
    write_file("empty-interp", "#!\n", 3, 0755);
    try_exec("of a script without interpreter", "./empty-interp");

    // posix_spawn: a missing program, this program.
    char *missing[] = {"missing", NULL};
    int r = posix_spawn(&p, "./no-such-program", NULL, NULL, missing, environ);
    printf("posix_spawn of a missing program: %s\n", strerror(r));
    char *exit9[] = {"me", "exit", "9", NULL};
    r = posix_spawn(&p, self, NULL, NULL, exit9, environ);
    waitpid(p, &st, 0);
    printf("posix_spawn of this program: %d, ", r);
    show("child", st);

    // vfork shares memory until the child execs or exits.
    volatile int shared = 1;
    p = vfork();
    if (p == 0) {
        shared = 2;
        _exit(0);
    }
    waitpid(p, &st, 0);
    printf("vfork child's write seen by the parent: %d\n", shared);

    // A child that execs and is killed by a signal.
    char *die[] = {"me", "die", NULL};
    run("exec'd child killed by a signal:", self, die, environ);

    // A pipeline of three processes: produce | upper | count.
    printf("pipeline:\n");
    int a[2], b[2];
    pipe(a);
    pipe(b);
    char *stages[3][3] = {{"p", "produce", NULL}, {"u", "upper", NULL}, {"c", "count", NULL}};
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            if (i > 0)
                dup2(i == 1 ? a[0] : b[0], 0);
            if (i < 2)
                dup2(i == 0 ? a[1] : b[1], 1);
            close(a[0]), close(a[1]), close(b[0]), close(b[1]);
            execv(self, stages[i]);
            _exit(127);
        }
    }
    close(a[0]), close(a[1]), close(b[0]), close(b[1]);
    for (int i = 0; i < 3; i++) {
        waitpid(kids[i], &st, 0);
        if (st != 0)
            show("  stage", st);
    }
    return 0;
}
