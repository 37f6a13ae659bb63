// /proc/self/fd lists exactly the guest's descriptors: the ones fcntl
// says are open, each readlink-able; a closed number is ENOENT there.
#include "esc.h"
#include <dirent.h>

static int listed(int want) {
    DIR *d = opendir("/proc/self/fd");
    int self = dirfd(d), n = 0, found = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd == self)
            continue;
        n++;
        if (fd == want)
            found = 1;
        if (fcntl(fd, F_GETFD) < 0)
            printf("listed but not open: %d\n", fd);
    }
    closedir(d);
    return want >= 0 ? found : n;
}

int main(void) {
    int open_now = 0;
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            open_now++;
    printf("listed count equals open count: %s\n", listed(-1) == open_now ? "yes" : "no");
    int a = open("/dev/null", O_RDONLY);
    printf("new descriptor listed: %s\n", listed(a) ? "yes" : "no");
    char p[64], t[256] = {0};
    snprintf(p, sizeof p, "/proc/self/fd/%d", a);
    readlink(p, t, sizeof t - 1);
    printf("its link: %s\n", t);
    close(a);
    printf("closed descriptor listed: %s\n", listed(a) ? "yes" : "no");
    resn("readlink closed", readlink(p, t, sizeof t));
    resn("open closed", open(p, O_RDONLY));
    snprintf(p, sizeof p, "/proc/self/fdinfo/%d", a);
    resn("fdinfo closed", open(p, O_RDONLY));
    return 0;
}
