// Under --sandbox another guest process's memory is out of reach: its
// /proc/PID/mem, maps, pagemap and auxv are refused, and so is
// process_vm_readv/writev into it; the sandbox's path rules refuse the
// rest of its /proc directory too (its status). (Without the sandbox a
// tree member's files are the guest's view: proc_child_view,
// esc_proc_other.)
//@ variants: static
//@ pvm-args: --sandbox
//@ no-qemu: qemu-user has no sandbox; under it a parent reads its child's memory through the host
#include "esc.h"
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>

volatile long secret = 1234;

int main(void) {
    pid_t c = paused_child(&secret, 5678);
    if (c < 0)
        return 1;
    char path[64];
    static const char *names[] = {"mem", "maps", "pagemap", "auxv", "smaps", "map_files"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "/proc/%d/%s", c, names[i]);
        int fd = open(path, O_RDONLY);
        printf("child %s: %s\n", names[i], fd < 0 ? en(errno) : "opened");
        if (fd >= 0)
            close(fd);
    }
    snprintf(path, sizeof path, "/proc/%d/task/%d/mem", c, c);
    res("child task mem", open(path, O_RDONLY));
    snprintf(path, sizeof path, "/proc/%d/status", c);
    res("child status", open(path, O_RDONLY));
    long v = 0;
    struct iovec l = {&v, 8}, r = {(void *)&secret, 8};
    res("process_vm_readv child", syscall(SYS_process_vm_readv, c, &l, 1, &r, 1, 0));
    res("process_vm_writev child", syscall(SYS_process_vm_writev, c, &l, 1, &r, 1, 0));
    res("process_vm_readv parent", syscall(SYS_process_vm_readv, getppid(), &l, 1, &r, 1, 0));
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    res("process_vm_readv reaped", syscall(SYS_process_vm_readv, c, &l, 1, &r, 1, 0));
    return 0;
}
