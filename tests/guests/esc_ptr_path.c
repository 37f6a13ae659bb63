// Path arguments at hostile addresses: open, stat, access, readlink,
// mkdir, unlink, rename, chdir, execve all fail with EFAULT; a path that
// runs into an inaccessible page before its NUL is EFAULT too.
#include "esc.h"
#include <sys/stat.h>

int main(void) {
    char *edge = edge_page();
    memset(edge, 'a', 4096);
    unsigned long bad[NHOSTILE + 1];
    memcpy(bad, HOSTILE, sizeof HOSTILE);
    bad[NHOSTILE] = (unsigned long)(edge + 4096 - 8);
    for (unsigned i = 0; i < NHOSTILE + 1; i++) {
        const char *p = (const char *)bad[i];
        struct stat st;
        char l[16];
        printf("%s:", i == NHOSTILE ? "unterminated at a page edge" : "hostile");
        errno = 0;
        printf(" open %s", open(p, O_RDONLY) < 0 ? en(errno) : "ok");
        printf(" stat %s", stat(p, &st) < 0 ? en(errno) : "ok");
        printf(" access %s", access(p, F_OK) < 0 ? en(errno) : "ok");
        printf(" readlink %s", readlink(p, l, sizeof l) < 0 ? en(errno) : "ok");
        printf(" mkdir %s", mkdir(p, 0700) < 0 ? en(errno) : "ok");
        printf(" unlink %s", unlink(p) < 0 ? en(errno) : "ok");
        printf(" rename %s", rename(p, "x") < 0 ? en(errno) : "ok");
        printf(" chdir %s", chdir(p) < 0 ? en(errno) : "ok");
        char *argv[] = {"x", NULL};
        printf(" execve %s\n", execve(p, argv, argv + 1) < 0 ? en(errno) : "ok");
    }
    return 0;
}
