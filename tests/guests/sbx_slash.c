// --sandbox: a slash or a "." after the last name of a path. Linux then
// needs a directory there (ENOTDIR for a file or a link to one) and, for
// the calls that work on a name (unlink, rmdir, rename, link, mkdir,
// mknod, symlink), answers for the name itself: "unlink f/" is ENOTDIR,
// "rmdir d/." EINVAL, "mkdir d/." EEXIST; none of them removes or renames
// anything. A link out of the allowed directory with a slash after it is
// followed by the calls that follow (EACCES) and left alone by the others
// (their Linux answer). pvm resolved the name's directory and dropped the
// slash and the ".": "unlink f/" removed f, "rmdir d/." removed d.
// Every line but those of "out" (a link to /tmp) is Linux's own answer
// without a sandbox (an x86-64 build of this file, run natively, gives
// the same lines except "out": ok).
//@ variants: static
//@ pvm-args: --sandbox --allow-write {dir}
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is Linux's answer under pvm's rules
#define _GNU_SOURCE
#include "sbx.h"
#include <fcntl.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

int main(void) {
    struct stat st;
    struct statfs sf;
    char buf[256];
    close(open("f", O_CREAT | O_WRONLY, 0644));
    mkdir("d", 0755);
    symlink("d", "ld");
    symlink("f", "lf");
    symlink("/tmp", "out");
    // Calls that look the object up.
    SHOW("open f/", open("f/", O_RDONLY));
    SHOW("open f/.", open("f/.", O_RDONLY));
    SHOW("open lf/", open("lf/", O_RDONLY));
    SHOW("open ld/", open("ld/", O_RDONLY));
    SHOW("open ld/.", open("ld/.", O_RDONLY));
    SHOW("open out/", open("out/", O_RDONLY));
    SHOW("open out/.", open("out/.", O_RDONLY));
    SHOW("stat f/", stat("f/", &st));
    SHOW("lstat f/", lstat("f/", &st));
    SHOW("lstat lf/", lstat("lf/", &st));
    SHOW("lstat ld/", lstat("ld/", &st));
    SHOW("lstat out/", lstat("out/", &st));
    SHOW("lstat out", lstat("out", &st));
    SHOW("readlink lf", readlink("lf", buf, sizeof buf));
    SHOW("readlink lf/", readlink("lf/", buf, sizeof buf));
    SHOW("readlink ld/", readlink("ld/", buf, sizeof buf));
    SHOW("readlink d/.", readlink("d/.", buf, sizeof buf));
    SHOW("readlink f/.", readlink("f/.", buf, sizeof buf));
    SHOW("readlink out/", readlink("out/", buf, sizeof buf));
    SHOW("access f/", access("f/", F_OK));
    SHOW("chmod f/", chmod("f/", 0644));
    SHOW("truncate f/", truncate("f/", 0));
    SHOW("statfs f/", statfs("f/", &sf));
    SHOW("statfs out/", statfs("out/", &sf));
    int here = open(".", O_PATH | O_DIRECTORY);
    SHOW("chdir f/", chdir("f/"));
    SHOW("chdir out/", chdir("out/"));
    fchdir(here); // (back, where Linux went)
    SHOW("getxattr f/", getxattr("f/", "user.x", buf, sizeof buf));
    SHOW("lgetxattr lf/", lgetxattr("lf/", "user.x", buf, sizeof buf));
    SHOW("utimensat f/", utimensat(AT_FDCWD, "f/", NULL, 0));
    SHOW("chown f/", chown("f/", getuid(), getgid()));
    int in = inotify_init1(0);
    SHOW("inotify f/", inotify_add_watch(in, "f/", IN_ALL_EVENTS));
    SHOW("inotify out/", inotify_add_watch(in, "out/", IN_ALL_EVENTS));
    // Calls that work on the name.
    SHOW("unlink f/", unlink("f/"));
    SHOW("unlink lf/", unlink("lf/"));
    SHOW("unlink ld/", unlink("ld/"));
    SHOW("unlink out/", unlink("out/"));
    SHOW("unlink d/..", unlink("d/.."));
    SHOW("rmdir ld/", rmdir("ld/"));
    SHOW("rmdir out/", rmdir("out/"));
    SHOW("rmdir d/.", rmdir("d/."));
    SHOW("rmdir d/..", rmdir("d/.."));
    SHOW("rmdir f/.", rmdir("f/."));
    SHOW("rmdir d/f/..", rmdir("d/f/.."));
    SHOW("rename f/ g", rename("f/", "g"));
    SHOW("rename lf/ g", rename("lf/", "g"));
    SHOW("rename out/ g", rename("out/", "g"));
    SHOW("rename f g/", rename("f", "g/"));
    SHOW("rename d/. e", rename("d/.", "e"));
    SHOW("rename ld/ e", rename("ld/", "e"));
    SHOW("link f/ h", link("f/", "h"));
    SHOW("link f h/", link("f", "h/"));
    SHOW("link f d/.", link("f", "d/."));
    SHOW("link out/ h", link("out/", "h"));
    SHOW("symlink x s/", symlink("x", "s/"));
    SHOW("symlink x d/..", symlink("x", "d/.."));
    SHOW("symlink x out/", symlink("x", "out/"));
    SHOW("mkdir d/.", mkdir("d/.", 0755));
    SHOW("mkdir out/", mkdir("out/", 0755));
    SHOW("mknod p/", mknod("p/", S_IFIFO | 0644, 0));
    SHOW("open c/ O_CREAT", open("c/", O_CREAT | O_WRONLY, 0644));
    // Nothing was removed, renamed or made by the calls above.
    SHOW("stat f", stat("f", &st));
    SHOW("lstat lf", lstat("lf", &st));
    SHOW("lstat ld", lstat("ld", &st));
    SHOW("stat d", stat("d", &st));
    SHOW("lstat out", lstat("out", &st));
    SHOW("stat g", stat("g", &st));
    SHOW("stat e", stat("e", &st));
    SHOW("stat h", stat("h", &st));
    // And the plain forms still work.
    SHOW("mkdir n/", mkdir("n/", 0755));
    SHOW("rename n/ m/", rename("n/", "m/"));
    SHOW("rmdir m/", rmdir("m/"));
    SHOW("rmdir d/", rmdir("d/"));
    SHOW("unlink f", unlink("f"));
    return 0;
}
