// Shared by the sandbox and limit probes (sbx_*.c, lim_*.c): print what a
// call gave as "what: ok" or "what: ERRNO", so the expected output holds
// no numbers that vary between hosts.
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *errname(int e) {
    switch (e) {
    case 0: return "ok";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENOEXEC: return "ENOEXEC";
    case ELOOP: return "ELOOP";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    default: return strerror(e);
    }
}

// Report a call that returns -1 and sets errno on failure.
#define SHOW(what, call)                                                   \
    do {                                                                   \
        errno = 0;                                                         \
        long r_ = (long)(call);                                            \
        printf("%s: %s\n", what, r_ < 0 ? errname(errno) : "ok");          \
        fflush(stdout);                                                    \
    } while (0)
