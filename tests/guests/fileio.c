// File I/O in a fresh temporary directory: the system calls behind stdio
// and the directory functions.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define CHECK(x)                                                                         \
    do {                                                                                 \
        if (!(x)) {                                                                      \
            printf("FAILED line %d: %s (errno %d %s)\n", __LINE__, #x, errno, strerror(errno)); \
            return 1;                                                                    \
        }                                                                                \
    } while (0)

static int cmpname(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
    char tmpl[] = "pvmtest-XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    CHECK(chdir(dir) == 0);
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    printf("cwd ends with dir: %s\n", strcmp(cwd + strlen(cwd) - strlen(dir), dir) == 0 ? "yes" : "no");

    int fd = open("a.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(fd >= 0);
    const char *msg = "hello file\nsecond line\n";
    CHECK(write(fd, msg, strlen(msg)) == (ssize_t)strlen(msg));
    struct iovec iov[2] = {{"vec1 ", 5}, {"vec2\n", 5}};
    CHECK(writev(fd, iov, 2) == 10);
    CHECK(pwrite(fd, "H", 1, 0) == 1);
    CHECK(fsync(fd) == 0);
    CHECK(close(fd) == 0);

    struct stat st;
    CHECK(stat("a.txt", &st) == 0);
    printf("size %lld regular %d mode %o nlink %lu\n", (long long)st.st_size, S_ISREG(st.st_mode),
           st.st_mode & 0777, (unsigned long)st.st_nlink);

    fd = open("a.txt", O_RDONLY);
    CHECK(fd >= 0);
    char buf[128] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    printf("read %zd: %s", n, buf);
    CHECK(lseek(fd, 6, SEEK_SET) == 6);
    memset(buf, 0, sizeof buf);
    CHECK(read(fd, buf, 4) == 4);
    printf("after seek: '%s'\n", buf);
    printf("seek end: %lld cur: %lld\n", (long long)lseek(fd, 0, SEEK_END), (long long)lseek(fd, -5, SEEK_CUR));
    memset(buf, 0, sizeof buf);
    CHECK(pread(fd, buf, 6, 11) == 6);
    printf("pread: '%s'\n", buf);
    char b1[5] = {0}, b2[6] = {0};
    struct iovec riov[2] = {{b1, 4}, {b2, 5}};
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(readv(fd, riov, 2) == 9);
    printf("readv: '%s' '%s'\n", b1, b2);
    CHECK(fstat(fd, &st) == 0);
    printf("fstat size %lld\n", (long long)st.st_size);
    printf("read at eof: %zd\n", (lseek(fd, 0, SEEK_END), read(fd, buf, 10)));
    CHECK(close(fd) == 0);
    printf("close again: %d errno EBADF %d\n", close(fd), errno == EBADF);

    printf("open missing: %d ENOENT %d\n", open("missing", O_RDONLY), errno == ENOENT);
    printf("O_EXCL on existing: %d EEXIST %d\n", open("a.txt", O_CREAT | O_EXCL | O_WRONLY, 0644), errno == EEXIST);

    CHECK(rename("a.txt", "b.txt") == 0);
    printf("old name gone: %d\n", access("a.txt", F_OK) != 0);
    printf("new name readable: %d\n", access("b.txt", R_OK) == 0);
    CHECK(truncate("b.txt", 5) == 0);
    CHECK(stat("b.txt", &st) == 0);
    printf("truncated size %lld\n", (long long)st.st_size);
    fd = open("b.txt", O_RDWR);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, 100000) == 0);
    CHECK(fstat(fd, &st) == 0);
    printf("extended size %lld\n", (long long)st.st_size);
    CHECK(lseek(fd, 99990, SEEK_SET) == 99990);
    n = read(fd, buf, 20);
    printf("hole reads %zd bytes, first %d\n", n, buf[0]);
    int fl = fcntl(fd, F_GETFL);
    printf("F_GETFL accmode O_RDWR: %d\n", (fl & O_ACCMODE) == O_RDWR);
    CHECK(fcntl(fd, F_SETFD, FD_CLOEXEC) == 0);
    printf("FD_CLOEXEC: %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
    int fd2 = fcntl(fd, F_DUPFD, 50);
    printf("F_DUPFD >= 50: %d\n", fd2 >= 50);
    close(fd2);
    close(fd);

    CHECK(mkdir("sub", 0755) == 0);
    printf("mkdir again EEXIST: %d\n", mkdir("sub", 0755) == -1 && errno == EEXIST);
    CHECK(symlink("b.txt", "link") == 0);
    n = readlink("link", buf, sizeof buf);
    printf("readlink: %.*s\n", (int)n, buf);
    CHECK(lstat("link", &st) == 0);
    printf("lstat is link: %d\n", S_ISLNK(st.st_mode));
    CHECK(link("b.txt", "hard") == 0);
    CHECK(stat("b.txt", &st) == 0);
    printf("nlink after link: %lu\n", (unsigned long)st.st_nlink);
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "sub/f%02d", i);
        int f = open(name, O_CREAT | O_WRONLY, 0600);
        CHECK(f >= 0);
        close(f);
    }

    DIR *d = opendir(".");
    CHECK(d != NULL);
    char *names[64];
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && count < 64) names[count++] = strdup(e->d_name);
    closedir(d);
    qsort(names, count, sizeof *names, cmpname);
    printf("entries:");
    for (int i = 0; i < count; i++) printf(" %s", names[i]);
    printf("\n");
    d = opendir("sub");
    CHECK(d != NULL);
    int files = 0;
    while ((e = readdir(d)) != NULL) files += e->d_type == DT_REG;
    closedir(d);
    printf("sub has %d regular files\n", files);

    FILE *fp = fopen("stdio.txt", "w+");
    CHECK(fp != NULL);
    for (int i = 0; i < 1000; i++) fprintf(fp, "line %d %s\n", i, i % 2 ? "odd" : "even");
    rewind(fp);
    char line[64];
    int lines = 0;
    long total = 0;
    while (fgets(line, sizeof line, fp)) {
        lines++;
        total += strlen(line);
    }
    printf("stdio: %d lines %ld bytes ftell %ld\n", lines, total, ftell(fp));
    CHECK(fseek(fp, 10, SEEK_SET) == 0);
    printf("fgetc after fseek: %c\n", fgetc(fp));
    fclose(fp);

    printf("rmdir non-empty fails: %d\n", rmdir("sub") == -1);
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "sub/f%02d", i);
        CHECK(unlink(name) == 0);
    }
    CHECK(rmdir("sub") == 0);
    CHECK(unlink("link") == 0 && unlink("hard") == 0 && unlink("b.txt") == 0 && unlink("stdio.txt") == 0);
    printf("unlink missing ENOENT: %d\n", unlink("b.txt") == -1 && errno == ENOENT);
    CHECK(chdir("..") == 0);
    CHECK(rmdir(dir) == 0);
    printf("done\n");
    return 0;
}
