// Calls that would load code into the kernel, watch or fault other
// memory, or take another process's descriptors: bpf, perf_event_open,
// userfaultfd, kexec_load, init_module, finit_module, process_madvise,
// remap_file_pages: ENOSYS, as under qemu-user.
#include "esc.h"

int main(void) {
    char attr[128] = {0};
    res("bpf", syscall(SYS_bpf, 5, attr, 128));
    res("perf_event_open", syscall(SYS_perf_event_open, attr, 0, -1, -1, 0));
    res("userfaultfd", syscall(SYS_userfaultfd, 0));
    res("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
    res("init_module", syscall(SYS_init_module, attr, 128, ""));
    res("finit_module", syscall(SYS_finit_module, 0, "", 0));
    res("process_madvise", syscall(SYS_process_madvise, 0, NULL, 0, 0, 0));
    res("remap_file_pages", syscall(SYS_remap_file_pages, 0, 4096, 0, 0, 0));
    return 0;
}
