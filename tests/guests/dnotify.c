// F_NOTIFY (dnotify) and file leases: the commands reach the host and the
// SIGIO a watched directory's change raises reaches the guest's handler.
// CPython's test_fcntl.test_fcntl_64_bit skips itself when F_NOTIFY gives
// EINVAL.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_sig(int sig) { got = sig; }

static void show(const char *what, long r) {
    if (r < 0)
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %ld\n", what, r);
}

static int wait_signal(void) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 300 && !got; i++)
        nanosleep(&ts, NULL);
    int s = got;
    got = 0;
    return s;
}

int main(void) {
    if (mkdir("watched", 0755) != 0) {
        perror("mkdir");
        return 1;
    }
    int dfd = open("watched", O_RDONLY | O_DIRECTORY);
    signal(SIGIO, on_sig);

    show("F_NOTIFY DN_DELETE", fcntl(dfd, F_NOTIFY, DN_DELETE));
    // DN_MULTISHOT is bit 31: the argument is a long (CPython's check).
    show("F_NOTIFY DN_CREATE|DN_MULTISHOT",
         fcntl(dfd, F_NOTIFY, (long)(DN_CREATE | DN_MULTISHOT)));
    close(open("watched/a", O_CREAT | O_WRONLY, 0644));
    printf("create a: %s\n", wait_signal() == SIGIO ? "SIGIO" : "no signal");
    close(open("watched/b", O_CREAT | O_WRONLY, 0644));
    printf("create b (multishot): %s\n", wait_signal() == SIGIO ? "SIGIO" : "no signal");
    show("F_NOTIFY 0 (off)", fcntl(dfd, F_NOTIFY, 0));
    close(open("watched/c", O_CREAT | O_WRONLY, 0644));
    printf("create c (off): %s\n", wait_signal() == SIGIO ? "SIGIO" : "no signal");

    int f = open("watched/a", O_RDONLY);
    show("F_NOTIFY on a file", fcntl(f, F_NOTIFY, DN_DELETE));
    show("F_NOTIFY bad fd", fcntl(-1, F_NOTIFY, DN_DELETE));
    show("F_GETLEASE", fcntl(f, F_GETLEASE));
    show("F_SETLEASE F_RDLCK", fcntl(f, F_SETLEASE, F_RDLCK));
    printf("F_GETLEASE is F_RDLCK: %s\n", fcntl(f, F_GETLEASE) == F_RDLCK ? "yes" : "no");
    show("F_SETLEASE F_UNLCK", fcntl(f, F_SETLEASE, F_UNLCK));
    printf("F_GETLEASE is F_UNLCK: %s\n", fcntl(f, F_GETLEASE) == F_UNLCK ? "yes" : "no");
    show("F_SETLEASE bad type", fcntl(f, F_SETLEASE, 7));
    show("F_GETLEASE bad fd", fcntl(-1, F_GETLEASE));
    return 0;
}
