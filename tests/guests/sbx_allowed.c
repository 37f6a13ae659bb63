// --sandbox changes nothing inside the allowed directory: every file
// operation a program makes there answers as on Linux without a sandbox
// (qemu-riscv64, which has none, is the oracle), under pvm's own checks,
// Landlock and seccomp together.
//@ pvm-args: --sandbox --allow-write {dir}
#define _GNU_SOURCE
#include "sbx.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <unistd.h>

int main(void) {
    struct stat st;
    struct statfs sf;
    char buf[256];
    int fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0644);
    SHOW("create f", fd);
    SHOW("write f", write(fd, "hello\n", 6));
    SHOW("fstat f", fstat(fd, &st));
    close(fd);
    SHOW("chmod f", chmod("f", 0600));
    stat("f", &st);
    printf("mode: %o\n", st.st_mode & 0777);
    SHOW("utimes f", utimes("f", NULL));
    SHOW("truncate f", truncate("f", 3));
    stat("f", &st);
    printf("size: %ld\n", (long)st.st_size);
    SHOW("access f W_OK", access("f", W_OK));
    SHOW("statfs .", statfs(".", &sf));
    SHOW("mkdir d", mkdir("d", 0755));
    SHOW("rename f d/g", rename("f", "d/g"));
    SHOW("link d/g h", link("d/g", "h"));
    SHOW("symlink d/g s", symlink("d/g", "s"));
    ssize_t n = readlink("s", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("readlink s: %s\n", buf);
    fd = open("s", O_RDONLY);
    n = read(fd, buf, sizeof buf);
    printf("read through s: %zd\n", n);
    close(fd);
    SHOW("linkat follow s", linkat(AT_FDCWD, "s", AT_FDCWD, "h2", AT_SYMLINK_FOLLOW));
    SHOW("mkfifo p", mkfifo("p", 0600));
    SHOW("lstat p", lstat("p", &st));
    printf("fifo: %s\n", S_ISFIFO(st.st_mode) ? "yes" : "no");
    SHOW("chdir d", chdir("d"));
    SHOW("stat ../h", stat("../h", &st));
    SHOW("chdir ..", chdir(".."));
    DIR *dir = opendir(".");
    int count = 0;
    struct dirent *e;
    while ((e = readdir(dir)))
        count++;
    closedir(dir);
    printf("entries: %d\n", count);
    SHOW("unlink h", unlink("h"));
    SHOW("unlink h2", unlink("h2"));
    SHOW("unlink s", unlink("s"));
    SHOW("unlink p", unlink("p"));
    SHOW("unlink d/g", unlink("d/g"));
    SHOW("rmdir d", rmdir("d"));
    return 0;
}
