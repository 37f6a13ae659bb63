// What the IPC guests (ipc_*.c) print for a call: its result, or the
// name of the errno it failed with.
#ifndef IPC_H
#define IPC_H
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *en(int e) {
    const char *s = strerrorname_np(e);
    return s ? s : "E?";
}

static void res(const char *what, long r) {
    if (r < 0)
        printf("%s: %s\n", what, en(errno));
    else
        printf("%s: %ld\n", what, r);
}

#endif
