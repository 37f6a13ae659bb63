// Network interface names and indexes, as if_nametoindex, if_indextoname
// and tools that print interfaces ask for them (SIOCGIFINDEX,
// SIOCGIFNAME, SIOCGIFFLAGS, SIOCGIFMTU on a socket): the loopback
// interface, which every Linux machine has, and a name that no machine
// has.
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    unsigned idx = if_nametoindex("lo");
    printf("lo has an index: %d\n", idx > 0);
    char name[IF_NAMESIZE] = {0};
    printf("and back: %s\n", if_indextoname(idx, name) ? name : strerror(errno));
    errno = 0;
    printf("no such interface: %u %s\n", if_nametoindex("pvm-nonexistent0"), strerror(errno));
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq r;
    memset(&r, 0, sizeof r);
    strcpy(r.ifr_name, "lo");
    printf("SIOCGIFFLAGS %d loopback %d up %d\n", ioctl(s, SIOCGIFFLAGS, &r),
           !!(r.ifr_flags & IFF_LOOPBACK), !!(r.ifr_flags & IFF_UP));
    memset(&r, 0, sizeof r);
    strcpy(r.ifr_name, "lo");
    printf("SIOCGIFMTU %d mtu>0 %d\n", ioctl(s, SIOCGIFMTU, &r), r.ifr_mtu > 0);
    close(s);
    return 0;
}
