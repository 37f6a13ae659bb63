// Processes talking through pipes: a pipeline of three forked processes
// (a producer, a filter, a consumer) carrying more than a pipe holds, so
// each stage blocks on the next; a child that blocks reading until the
// parent writes; a writer that gets EPIPE once its reader is gone; and
// many short-lived children in a row (every one reaped, its status
// intact), which the host must give back the resources of.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void check(int ok, const char *what) {
    if (!ok) {
        printf("FAILED: %s (errno %s)\n", what, strerror(errno));
        exit(1);
    }
}

static void show(const char *what, int st) {
    if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by %s\n", what, strsignal(WTERMSIG(st)));
}

// Write all of `buf`, through short writes.
static void put(int fd, const char *buf, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        check(w > 0, "write");
        buf += w;
        n -= (size_t)w;
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int st;

    // producer | filter | consumer: 50,000 lines (289 KB) "n\n"; the filter keeps
    // the multiples of 3, the consumer sums them.
    enum { LINES = 50000 };
    int a[2], b[2];
    check(pipe(a) == 0 && pipe(b) == 0, "pipe");
    pid_t producer = fork();
    if (producer == 0) {
        close(a[0]);
        close(b[0]);
        close(b[1]);
        char line[32];
        for (int i = 1; i <= LINES; i++) {
            int n = snprintf(line, sizeof line, "%d\n", i);
            put(a[1], line, (size_t)n);
        }
        _exit(0);
    }
    pid_t filter = fork();
    if (filter == 0) {
        close(a[1]);
        close(b[0]);
        FILE *in = fdopen(a[0], "r");
        FILE *out = fdopen(b[1], "w");
        long v, kept = 0;
        while (fscanf(in, "%ld", &v) == 1)
            if (v % 3 == 0) {
                fprintf(out, "%ld\n", v);
                kept++;
            }
        fclose(out);
        _exit(kept == LINES / 3 ? 0 : 2);
    }
    pid_t consumer = fork();
    if (consumer == 0) {
        close(a[0]);
        close(a[1]);
        close(b[1]);
        FILE *in = fdopen(b[0], "r");
        long v, sum = 0, n = 0;
        while (fscanf(in, "%ld", &v) == 1) {
            sum += v;
            n++;
        }
        printf("consumer: %ld numbers, sum %ld\n", n, sum);
        _exit(0);
    }
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    // Reap in the order they end, whatever it is.
    int ended = 0, all_zero = 1;
    pid_t p;
    while ((p = wait(&st)) > 0) {
        ended++;
        all_zero = all_zero && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
                   (p == producer || p == filter || p == consumer);
    }
    printf("pipeline: %d stages ended, all with 0: %s\n", ended, all_zero ? "yes" : "no");

    // A child blocks reading until the parent writes, and answers.
    int up[2], down[2];
    check(pipe(up) == 0 && pipe(down) == 0, "pipe");
    p = fork();
    if (p == 0) {
        char c;
        check(read(down[0], &c, 1) == 1, "child read");
        c = (char)(c + 1);
        put(up[1], &c, 1);
        _exit(0);
    }
    usleep(20000);
    put(down[1], "a", 1);
    char c = 0;
    check(read(up[0], &c, 1) == 1, "parent read");
    waitpid(p, &st, 0);
    printf("child answered: %c\n", c);

    // EPIPE (and SIGPIPE) once the reader is gone.
    int q[2];
    check(pipe(q) == 0, "pipe");
    p = fork();
    if (p == 0) {
        close(q[1]);
        _exit(0);
    }
    close(q[0]);
    waitpid(p, &st, 0);
    signal(SIGPIPE, SIG_IGN);
    errno = 0;
    ssize_t w = write(q[1], "x", 1);
    printf("write with no reader: %zd %s\n", w, errno == EPIPE ? "EPIPE" : "?");
    signal(SIGPIPE, SIG_DFL);
    p = fork();
    if (p == 0) {
        write(q[1], "x", 1);
        _exit(0);
    }
    waitpid(p, &st, 0);
    show("writer with no reader", st);

    // Many children in a row, each reaped.
    long sum = 0;
    int bad = 0;
    for (int i = 0; i < 50; i++) {
        p = fork();
        if (p == 0)
            _exit(i % 100);
        if (waitpid(p, &st, 0) != p || !WIFEXITED(st))
            bad++;
        else
            sum += WEXITSTATUS(st);
    }
    printf("50 children: status sum %ld, bad %d\n", sum, bad);
    errno = 0;
    printf("none left: %d %s\n", wait(&st), errno == ECHILD ? "ECHILD" : "?");
    return 0;
}
