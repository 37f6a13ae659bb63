// A pseudo-terminal through /dev/ptmx: TIOCGPTN (ptsname), TIOCSPTLCK
// (unlockpt), openpty, terminal attributes and window size on it, and
// data both ways.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int main(void) {
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    printf("posix_openpt: %d\n", m >= 0);
    unsigned n = 12345;
    printf("TIOCGPTN: %d\n", ioctl(m, TIOCGPTN, &n) == 0 && n != 12345);
    const char *name = ptsname(m);
    char expect[32];
    snprintf(expect, sizeof expect, "/dev/pts/%u", n);
    printf("ptsname matches: %d\n", name && strcmp(name, expect) == 0);
    printf("open locked: %d EIO %d\n", open(name, O_RDWR | O_NOCTTY), errno == EIO);
    printf("grantpt: %d unlockpt: %d\n", grantpt(m), unlockpt(m));
    int s = open(name, O_RDWR | O_NOCTTY);
    printf("slave: %d isatty %d\n", s >= 0, isatty(s));
    struct termios t;
    printf("tcgetattr: %d icanon %d\n", tcgetattr(s, &t), (t.c_lflag & ICANON) != 0);
    struct winsize ws = {.ws_row = 24, .ws_col = 80};
    printf("TIOCSWINSZ: %d\n", ioctl(m, TIOCSWINSZ, &ws));
    memset(&ws, 0, sizeof ws);
    ioctl(s, TIOCGWINSZ, &ws);
    printf("winsize: %dx%d\n", ws.ws_col, ws.ws_row);
    cfmakeraw(&t);
    printf("raw: %d\n", tcsetattr(s, TCSANOW, &t));
    printf("to slave: %zd\n", write(m, "ping", 4));
    char buf[16] = {0};
    printf("slave reads: %zd '%s'\n", read(s, buf, sizeof buf), buf);
    printf("to master: %zd\n", write(s, "pong", 4));
    int avail = 0;
    usleep(10000);
    ioctl(m, FIONREAD, &avail);
    printf("FIONREAD on master: %d\n", avail);
    memset(buf, 0, sizeof buf);
    printf("master reads: %zd '%s'\n", read(m, buf, sizeof buf), buf);
    printf("TCFLSH: %d\n", tcflush(s, TCIOFLUSH));
    close(s);
    close(m);

    int am, as;
    char nm[64];
    printf("openpty: %d\n", openpty(&am, &as, nm, NULL, NULL));
    printf("openpty name: %d\n", strncmp(nm, "/dev/pts/", 9) == 0);
    write(am, "x\n", 2);
    memset(buf, 0, sizeof buf);
    printf("canonical line: %zd\n", read(as, buf, sizeof buf));
    return 0;
}
