// The loopback interface as programs list it: getifaddrs() and
// if_nameindex() (glibc asks an AF_NETLINK NETLINK_ROUTE socket for
// RTM_GETLINK and RTM_GETADDR dumps), the SIOCGIF* ioctls (SIOCGIFCONF,
// SIOCGIFINDEX, SIOCGIFNAME, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFNETMASK,
// SIOCGIFMTU, SIOCGIFHWADDR), and the netlink conversation itself (port
// ids, sequence numbers, NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR, a peek at
// a datagram's size). A machine has other interfaces too: only what is
// about `lo` (index 1) is printed.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *ntop(const struct sockaddr *sa) {
    static char buf[4][64];
    static int k;
    char *b = buf[k++ % 4];
    if (!sa)
        return "(none)";
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, b, 64);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, b, 64);
    else
        snprintf(b, 64, "family %d", sa->sa_family);
    return b;
}

static void list_ifaddrs(void) {
    struct ifaddrs *ifa;
    if (getifaddrs(&ifa) != 0) {
        printf("getifaddrs: %s\n", strerror(errno));
        return;
    }
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
        if (strcmp(i->ifa_name, "lo") != 0)
            continue;
        int fam = i->ifa_addr ? i->ifa_addr->sa_family : -1;
        printf("getifaddrs lo: flags %#x family %s", i->ifa_flags,
               fam == AF_PACKET  ? "AF_PACKET"
               : fam == AF_INET  ? "AF_INET"
               : fam == AF_INET6 ? "AF_INET6"
                                 : "?");
        if (fam == AF_PACKET) {
            const struct sockaddr_ll *ll = (const struct sockaddr_ll *)i->ifa_addr;
            printf(" ifindex %d hatype %d halen %d addr", ll->sll_ifindex, ll->sll_hatype,
                   ll->sll_halen);
            for (int k = 0; k < ll->sll_halen; k++)
                printf("%s%02x", k ? ":" : " ", ll->sll_addr[k]);
            printf("\n");
        } else {
            printf(" addr %s netmask %s broadcast %s\n", ntop(i->ifa_addr), ntop(i->ifa_netmask),
                   ntop(i->ifa_broadaddr));
        }
    }
    freeifaddrs(ifa);
}

static void list_nameindex(void) {
    struct if_nameindex *ni = if_nameindex();
    if (!ni) {
        printf("if_nameindex: %s\n", strerror(errno));
        return;
    }
    int los = 0;
    for (struct if_nameindex *p = ni; p->if_index; p++)
        if (strcmp(p->if_name, "lo") == 0) {
            los++;
            printf("if_nameindex: %u %s\n", p->if_index, p->if_name);
        }
    printf("if_nameindex entries named lo: %d\n", los);
    if_freenameindex(ni);
}

static void ifreq_calls(int s, const char *what) {
    struct ifreq r;
    printf("-- on %s\n", what);
#define REQ(name) (memset(&r, 0, sizeof r), strcpy(r.ifr_name, name), &r)
    int rc = ioctl(s, SIOCGIFINDEX, REQ("lo"));
    printf("SIOCGIFINDEX lo: %d index %d\n", rc, r.ifr_ifindex);
    rc = ioctl(s, SIOCGIFINDEX, REQ("pvm-none0"));
    printf("SIOCGIFINDEX pvm-none0: %d %s\n", rc, rc ? strerror(errno) : "");
    memset(&r, 0, sizeof r);
    r.ifr_ifindex = 1;
    rc = ioctl(s, SIOCGIFNAME, &r);
    printf("SIOCGIFNAME 1: %d %s\n", rc, r.ifr_name);
    memset(&r, 0, sizeof r);
    r.ifr_ifindex = 0;
    rc = ioctl(s, SIOCGIFNAME, &r);
    printf("SIOCGIFNAME 0: %d %s\n", rc, rc ? strerror(errno) : r.ifr_name);
    rc = ioctl(s, SIOCGIFFLAGS, REQ("lo"));
    printf("SIOCGIFFLAGS lo: %d flags %#x\n", rc, (unsigned short)r.ifr_flags);
    rc = ioctl(s, SIOCGIFMTU, REQ("lo"));
    printf("SIOCGIFMTU lo: %d mtu %d\n", rc, r.ifr_mtu);
    rc = ioctl(s, SIOCGIFHWADDR, REQ("lo"));
    printf("SIOCGIFHWADDR lo: %d family %d addr %02x%02x%02x%02x%02x%02x\n", rc,
           r.ifr_hwaddr.sa_family, (unsigned char)r.ifr_hwaddr.sa_data[0],
           (unsigned char)r.ifr_hwaddr.sa_data[1], (unsigned char)r.ifr_hwaddr.sa_data[2],
           (unsigned char)r.ifr_hwaddr.sa_data[3], (unsigned char)r.ifr_hwaddr.sa_data[4],
           (unsigned char)r.ifr_hwaddr.sa_data[5]);
    rc = ioctl(s, SIOCGIFADDR, REQ("lo"));
    printf("SIOCGIFADDR lo: %d %s\n", rc, rc ? strerror(errno) : ntop(&r.ifr_addr));
    rc = ioctl(s, SIOCGIFNETMASK, REQ("lo"));
    printf("SIOCGIFNETMASK lo: %d %s\n", rc, rc ? strerror(errno) : ntop(&r.ifr_netmask));
    rc = ioctl(s, SIOCGIFFLAGS, REQ("pvm-none0"));
    printf("SIOCGIFFLAGS pvm-none0: %d %s\n", rc, rc ? strerror(errno) : "");

    struct ifconf c = {.ifc_len = 0, .ifc_buf = NULL};
    rc = ioctl(s, SIOCGIFCONF, &c);
    printf("SIOCGIFCONF size: %d whole entries %d some %d\n", rc,
           c.ifc_len % (int)sizeof(struct ifreq) == 0, c.ifc_len > 0);
    int want = c.ifc_len;
    struct ifreq *all = calloc(want / sizeof(struct ifreq) + 1, sizeof(struct ifreq));
    c.ifc_len = want;
    c.ifc_req = all;
    rc = ioctl(s, SIOCGIFCONF, &c);
    printf("SIOCGIFCONF: %d same length %d\n", rc, c.ifc_len == want);
    for (int k = 0; k < c.ifc_len / (int)sizeof(struct ifreq); k++)
        if (strcmp(all[k].ifr_name, "lo") == 0)
            printf("SIOCGIFCONF lo: %s\n", ntop(&all[k].ifr_addr));
    // Room for less than one entry: none, and the length says so.
    c.ifc_len = sizeof(struct ifreq) - 1;
    rc = ioctl(s, SIOCGIFCONF, &c);
    printf("SIOCGIFCONF short: %d len %d\n", rc, c.ifc_len);
    free(all);
}

static unsigned seq = 100;

static void nl_send(int s, int type, int flags, const void *body, size_t blen) {
    char buf[256] = {0};
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    h->nlmsg_len = NLMSG_LENGTH(blen);
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST | flags;
    h->nlmsg_seq = ++seq;
    memcpy(NLMSG_DATA(h), body, blen);
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    ssize_t n = sendto(s, buf, h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
    if (n != (ssize_t)h->nlmsg_len)
        printf("sendto: %zd %s\n", n, strerror(errno));
}

static void show_link(struct nlmsghdr *h) {
    struct ifinfomsg *ifi = NLMSG_DATA(h);
    if (ifi->ifi_index != 1)
        return;
    printf("  RTM_NEWLINK index 1 type %d flags %#x multi %d", ifi->ifi_type, ifi->ifi_flags,
           !!(h->nlmsg_flags & NLM_F_MULTI));
    int len = IFLA_PAYLOAD(h);
    for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFLA_IFNAME)
            printf(" name %s", (char *)RTA_DATA(a));
        else if (a->rta_type == IFLA_MTU)
            printf(" mtu %u", *(unsigned *)RTA_DATA(a));
        else if (a->rta_type == IFLA_ADDRESS)
            printf(" address of %d bytes", (int)RTA_PAYLOAD(a));
    }
    printf("\n");
}

static void show_addr(struct nlmsghdr *h) {
    struct ifaddrmsg *ifa = NLMSG_DATA(h);
    if (ifa->ifa_index != 1)
        return;
    printf("  RTM_NEWADDR index 1 family %d prefix %d scope %d flags %#x multi %d",
           ifa->ifa_family, ifa->ifa_prefixlen, ifa->ifa_scope, ifa->ifa_flags,
           !!(h->nlmsg_flags & NLM_F_MULTI));
    int len = IFA_PAYLOAD(h);
    for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        char b[64];
        if (a->rta_type == IFA_ADDRESS || a->rta_type == IFA_LOCAL) {
            inet_ntop(ifa->ifa_family, RTA_DATA(a), b, sizeof b);
            printf(" %s %s", a->rta_type == IFA_ADDRESS ? "address" : "local", b);
        } else if (a->rta_type == IFA_LABEL)
            printf(" label %s", (char *)RTA_DATA(a));
    }
    printf("\n");
}

// Read replies to the last request until NLMSG_DONE, NLMSG_ERROR or a
// reply that is not part of a dump.
static void nl_recv(int s, unsigned portid) {
    char buf[32768];
    for (;;) {
        struct sockaddr_nl from;
        struct iovec iov = {buf, sizeof buf};
        struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
                           .msg_iovlen = 1};
        ssize_t peek = recv(s, buf, 1, MSG_PEEK | MSG_TRUNC);
        ssize_t n = recvmsg(s, &m, 0);
        if (n < 0) {
            printf("  recvmsg: %s\n", strerror(errno));
            return;
        }
        if (peek != n)
            printf("  peeked %zd, read %zd\n", peek, n);
        if (m.msg_namelen != sizeof from || from.nl_family != AF_NETLINK || from.nl_pid != 0)
            printf("  not from the kernel: namelen %u pid %u\n", m.msg_namelen, from.nl_pid);
        if (m.msg_flags & MSG_TRUNC)
            printf("  truncated\n");
        int more = 0;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_seq != seq || h->nlmsg_pid != portid)
                printf("  seq %u pid %u: not ours\n", h->nlmsg_seq, h->nlmsg_pid);
            more = h->nlmsg_flags & NLM_F_MULTI;
            switch (h->nlmsg_type) {
            case NLMSG_DONE:
                printf("  NLMSG_DONE len %u multi %d error %d\n", h->nlmsg_len, !!more,
                       *(int *)NLMSG_DATA(h));
                return;
            case NLMSG_ERROR: {
                struct nlmsgerr *e = NLMSG_DATA(h);
                printf("  NLMSG_ERROR %s, request type %d seq ok %d\n",
                       e->error ? strerror(-e->error) : "ack", e->msg.nlmsg_type,
                       e->msg.nlmsg_seq == seq);
                return;
            }
            case RTM_NEWLINK:
                show_link(h);
                break;
            case RTM_NEWADDR:
                show_addr(h);
                break;
            default:
                printf("  type %d\n", h->nlmsg_type);
            }
        }
        if (!more)
            return;
    }
}

static void netlink_calls(void) {
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    printf("netlink socket: %d\n", s >= 0);
    struct sockaddr_nl me = {.nl_family = AF_NETLINK};
    int rc = bind(s, (struct sockaddr *)&me, sizeof me);
    printf("bind: %d\n", rc);
    socklen_t len = sizeof me;
    memset(&me, 0, sizeof me);
    rc = getsockname(s, (struct sockaddr *)&me, &len);
    printf("getsockname: %d len %u family %d port is pid %d\n", rc, len, me.nl_family,
           me.nl_pid == (unsigned)getpid());
    int t2 = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
    struct sockaddr_nl other = {.nl_family = AF_NETLINK, .nl_pid = me.nl_pid};
    rc = bind(t2, (struct sockaddr *)&other, sizeof other);
    printf("bind to a port in use: %d %s\n", rc, rc ? strerror(errno) : "");
    close(t2);

    struct rtgenmsg g = {.rtgen_family = AF_UNSPEC};
    printf("RTM_GETLINK dump:\n");
    nl_send(s, RTM_GETLINK, NLM_F_DUMP, &g, sizeof g);
    nl_recv(s, me.nl_pid);
    printf("RTM_GETADDR dump:\n");
    nl_send(s, RTM_GETADDR, NLM_F_DUMP, &g, sizeof g);
    nl_recv(s, me.nl_pid);
    struct ifaddrmsg a6 = {.ifa_family = AF_INET6};
    printf("RTM_GETADDR dump of AF_INET6:\n");
    nl_send(s, RTM_GETADDR, NLM_F_DUMP, &a6, sizeof a6);
    nl_recv(s, me.nl_pid);
    struct ifinfomsg one = {.ifi_family = AF_UNSPEC, .ifi_index = 1};
    printf("RTM_GETLINK of index 1:\n");
    nl_send(s, RTM_GETLINK, 0, &one, sizeof one);
    nl_recv(s, me.nl_pid);
    one.ifi_index = 999999;
    printf("RTM_GETLINK of index 999999:\n");
    nl_send(s, RTM_GETLINK, 0, &one, sizeof one);
    nl_recv(s, me.nl_pid);
    close(s);

    s = socket(AF_NETLINK, SOCK_RAW, 12345);
    printf("socket of an unknown netlink protocol: %d %s\n", s, s < 0 ? strerror(errno) : "");
}

int main(void) {
    list_ifaddrs();
    list_nameindex();
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    ifreq_calls(s, "AF_INET");
    close(s);
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    ifreq_calls(s, "AF_UNIX");
    close(s);
    int p[2];
    pipe(p);
    struct ifreq r;
    memset(&r, 0, sizeof r);
    strcpy(r.ifr_name, "lo");
    int rc = ioctl(p[0], SIOCGIFFLAGS, &r);
    printf("SIOCGIFFLAGS on a pipe: %d %s\n", rc, strerror(errno));
    netlink_calls();
    return 0;
}
