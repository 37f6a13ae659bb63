// RLIMIT_MSGQUEUE counts a user's message queues by the bytes they may
// take for as long as they live: a queue unlinked while still open counts
// until its last descriptor closes (Linux frees its bytes with the
// inode). Queues are made until the limit refuses one (EMFILE), then all
// are unlinked but kept open: another is still refused; once one of them
// is closed, another is made.
//@ alone: the host counts message-queue bytes for the whole user, and this takes them all: another case's queues running meanwhile (this one's other variant, say) would be refused, or leave this one none (a full test once printed "none made")
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX 64

static char names[MAX + 1][64];

static mqd_t make(int i) {
    struct mq_attr at = {.mq_maxmsg = 10, .mq_msgsize = 8192};
    snprintf(names[i], sizeof names[i], "/pvm-bytes-%d-%d", getpid(), i);
    return mq_open(names[i], O_RDWR | O_CREAT | O_EXCL, 0600, &at);
}

int main(void) {
    mqd_t q[MAX + 1];
    int n = 0;
    while (n < MAX && (q[n] = make(n)) >= 0)
        n++;
    printf("made until refused: %s\n", n == MAX ? "never refused" : n == 0 ? "none made" : strerrorname_np(errno));
    for (int i = 0; i < n; i++)
        mq_unlink(names[i]);
    mqd_t x = make(MAX);
    printf("another while the unlinked ones are open: %s\n", x < 0 ? strerrorname_np(errno) : "made");
    if (x >= 0) {
        mq_close(x);
        mq_unlink(names[MAX]);
    }
    if (n > 0)
        mq_close(q[--n]);
    x = make(MAX);
    printf("another after one closed: %s\n", x < 0 ? strerrorname_np(errno) : "made");
    if (x >= 0) {
        mq_close(x);
        mq_unlink(names[MAX]);
    }
    for (int i = 0; i < n; i++)
        mq_close(q[i]);
    return 0;
}
