// Calls that would load code into the kernel or watch or fault other
// memory: bpf, perf_event_open, userfaultfd, process_madvise,
// remap_file_pages: ENOSYS, as under qemu-user (loading modules and
// kexec are EPERM: the admin_eperm guest).
#include "esc.h"

int main(void) {
    char attr[128] = {0};
    res("bpf", syscall(SYS_bpf, 5, attr, 128));
    res("perf_event_open", syscall(SYS_perf_event_open, attr, 0, -1, -1, 0));
    res("userfaultfd", syscall(SYS_userfaultfd, 0));
    res("process_madvise", syscall(SYS_process_madvise, 0, NULL, 0, 0, 0));
    res("remap_file_pages", syscall(SYS_remap_file_pages, 0, 4096, 0, 0, 0));
    return 0;
}
