// --sandbox with the run's directory read-only (--allow-read): no way to
// create, change or remove a file there or anywhere else.
//@ variants: static
//@ pvm-args: --sandbox --allow-read {dir}
//@ no-qemu: qemu-riscv64 has no sandbox: the expectation is Linux's answer under pvm's rules
#define _GNU_SOURCE
#include "sbx.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

int main(void) {
    struct stat st;
    SHOW("stat .", stat(".", &st));
    SHOW("create here", open("new", O_CREAT | O_WRONLY, 0644));
    SHOW("open . O_TMPFILE", open(".", O_TMPFILE | O_WRONLY, 0600));
    SHOW("mkdir here", mkdir("d", 0755));
    SHOW("symlink here", symlink("x", "l"));
    SHOW("chmod .", chmod(".", 0700));
    SHOW("utimes .", utimes(".", NULL));
    SHOW("create ../pvm-sbx-probe", open("../pvm-sbx-probe", O_CREAT | O_WRONLY, 0644));
    SHOW("mkdir ../pvm-sbx-probe.d", mkdir("../pvm-sbx-probe.d", 0755));
    // Probes that would do no harm if the sandbox failed: an open for
    // appending that writes nothing, and changes to files that do not
    // exist (the sandbox refuses before looking: EACCES, not ENOENT).
    SHOW("open /etc/passwd for appending", open("/etc/passwd", O_WRONLY | O_APPEND));
    SHOW("truncate /tmp/pvm-sbx-none/f", truncate("/tmp/pvm-sbx-none/f", 0));
    SHOW("unlink /tmp/pvm-sbx-none/f", unlink("/tmp/pvm-sbx-none/f"));
    SHOW("rename /tmp/pvm-sbx-none/f", rename("/tmp/pvm-sbx-none/f", "stolen"));
    SHOW("link /etc/passwd", link("/etc/passwd", "stolen"));
    SHOW("open /dev/null for writing", open("/dev/null", O_WRONLY));
    return 0;
}
