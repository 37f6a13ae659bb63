// Every descriptor the guest can reach is one the guest (or whoever
// started it) opened: none names the VM's binary, its code cache, an
// anonymous inode or memfd it did not make; reading each open descriptor
// number below 1024 that the guest did not open gives nothing of the VM.
//@ no-qemu: qemu-user keeps descriptors of its own open where the guest sees them
#include "esc.h"
#include <dirent.h>

int main(void) {
    int foreign = 0, n = 0;
    for (int fd = 0; fd < 65536; fd++) {
        if (fcntl(fd, F_GETFD) < 0)
            continue;
        n++;
        char p[64], t[512] = {0};
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        readlink(p, t, sizeof t - 1);
        if (strstr(t, "pvm") || strstr(t, "memfd:") || strstr(t, "anon_inode") || strstr(t, "qemu"))
            foreign++;
    }
    printf("descriptors naming the VM: %d\n", foreign);
    int mine = memfd_create("mine", 0);
    char p[64], t[512] = {0};
    snprintf(p, sizeof p, "/proc/self/fd/%d", mine);
    readlink(p, t, sizeof t - 1);
    printf("own memfd named: %s\n", t);
    return 0;
}
