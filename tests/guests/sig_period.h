// The period of the sig_timer_* tests' periodic timer: 20 us, or four
// times what one signal's round trip (raise, handler, return) takes here
// when that is longer. A signal whose round trip outlasts the period finds
// the next expiry already due on every return, so the program would spend
// its life in the handler (Linux behaves so too); under QEMU's TCG, the
// bare-metal host's round trip comes close to 20 us. The tests are about
// which calls may fail with EINTR while signals come often, not about how
// fast a host takes them.
#include <signal.h>
#include <time.h>

static long sig_timer_period_ns(int signo) {
    const int k = 200;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < k; i++)
        raise(signo);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long each = ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec)) / k;
    long p = 4 * each;
    return p < 20000 ? 20000 : p > 999999999 ? 999999999 : p;
}
