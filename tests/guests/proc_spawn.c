// posix_spawn, system and popen (glibc runs them with clone(CLONE_VM |
// CLONE_VFORK) and a child stack of its own), running host programs
// (/bin/sh, echo): exit statuses, file actions, spawn attributes, a
// command killed by a signal, pipes both ways, and the parent's state
// (registers, signal handlers) intact afterwards.
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

extern char **environ;

static void show(const char *what, int st) {
    if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by %s\n", what, strsignal(WTERMSIG(st)));
}

static volatile int usr1;
static void on_usr1(int s) { usr1++; }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGUSR1, on_usr1);
    int st;
    pid_t pid;

    // posix_spawn of the shell with an exit status.
    char *sh_args[] = {"sh", "-c", "echo spawned shell says $0-$1; exit 5", "zero", "one", NULL};
    int r = posix_spawn(&pid, "/bin/sh", NULL, NULL, sh_args, environ);
    waitpid(pid, &st, 0);
    printf("posix_spawn: %d\n", r);
    show("spawned sh", st);

    // posix_spawnp through PATH, with stdout redirected to a file.
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "spawn.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char *echo_args[] = {"echo", "into", "a", "file", NULL};
    r = posix_spawnp(&pid, "echo", &fa, NULL, echo_args, environ);
    posix_spawn_file_actions_destroy(&fa);
    waitpid(pid, &st, 0);
    show("spawnp echo", st);
    char buf[256] = {0};
    int fd = open("spawn.txt", O_RDONLY);
    read(fd, buf, sizeof buf - 1);
    close(fd);
    printf("file holds: %s", buf);

    // A process group of its own and a reset signal disposition.
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setpgroup(&at, 0);
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGUSR1);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
    char *pg_args[] = {"sh", "-c",
                       "[ \"$(cut -d' ' -f5 /proc/$$/stat)\" = $$ ] && echo own group;"
                       "kill -USR1 $$; echo not reached",
                       NULL};
    r = posix_spawn(&pid, "/bin/sh", NULL, &at, pg_args, environ);
    posix_spawnattr_destroy(&at);
    waitpid(pid, &st, 0);
    show("child killed by its SIGUSR1", st);

    // system(): the exit status, a signal, and the handler of the
    // parent still in place afterwards.
    st = system("echo from system; exit 3");
    show("system", st);
    st = system("kill -TERM $$");
    show("system killed", st);
    printf("system(NULL): %s\n", system(NULL) ? "a shell" : "none");
    raise(SIGUSR1);
    printf("parent's handler ran: %d\n", usr1);

    // popen both ways.
    FILE *f = popen("echo one; echo two; exit 4", "r");
    char line[64];
    while (fgets(line, sizeof line, f))
        printf("popen read: %s", line);
    show("pclose", pclose(f));
    f = popen("tr a-z A-Z", "w");
    fputs("upper case via popen\n", f);
    show("pclose writer", pclose(f));

    // vfork + execve of a host program, then vfork + _exit.
    pid = vfork();
    if (pid == 0) {
        char *a[] = {"echo", "vfork", "exec", NULL};
        execve("/bin/echo", a, environ);
        _exit(127);
    }
    waitpid(pid, &st, 0);
    show("vfork+execve", st);
    pid = vfork();
    if (pid == 0)
        _exit(21);
    waitpid(pid, &st, 0);
    show("vfork+_exit", st);
    return 0;
}
