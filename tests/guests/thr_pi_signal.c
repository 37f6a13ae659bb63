// A thread blocked on a priority-inheritance mutex that a signal
// interrupts goes on waiting once its handler has run, whether or not the
// handler has SA_RESTART: Linux restarts FUTEX_LOCK_PI
// (-ERESTARTNOINTR), and glibc's pthread_mutex_lock counts on it (any
// other error but ESRCH and EDEADLK it takes for "locked"). The holder
// marks its critical section; the waiter must never find it marked.
// Then a trylock and a timed lock, which may fail only as Linux lets them
// (EBUSY, ETIMEDOUT), and four threads counting under one PI mutex.
//@ cflags: -pthread
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t m;
static atomic_int inside;
static atomic_int handled;
static atomic_int waiting;

static void on_usr1(int sig) {
    (void)sig;
    atomic_fetch_add(&handled, 1);
}

static void pause_ms(int ms) {
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) == -1 && errno == EINTR) {
    }
}

static long count;

static void *counter(void *arg) {
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&m);
        long c = count;
        if ((i & 255) == 0) {
            sched_yield(); // others find the lock held
        }
        count = c + 1;
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static void *waiter(void *arg) {
    (void)arg;
    atomic_store(&waiting, 1);
    int r = pthread_mutex_lock(&m);
    int seen = atomic_load(&inside);
    printf("waiter: lock %s, holder's section %s\n", r ? strerror(r) : "ok",
           seen ? "still marked (not exclusive)" : "over");
    if (r == 0) {
        atomic_store(&inside, 1);
        atomic_store(&inside, 0);
        r = pthread_mutex_unlock(&m);
        printf("waiter: unlock %s\n", r ? strerror(r) : "ok");
    }
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    if (pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT) != 0) {
        puts("no PTHREAD_PRIO_INHERIT");
        return 1;
    }
    // glibc asks the kernel (FUTEX_UNLOCK_PI) whether it has PI futexes:
    // ENOTSUP here without them.
    int r = pthread_mutex_init(&m, &a);
    printf("PI mutex: %s\n", r ? strerror(r) : "ok");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1; // no SA_RESTART
    sigaction(SIGUSR1, &sa, NULL);

    pthread_mutex_lock(&m);
    atomic_store(&inside, 1);
    pthread_t t;
    pthread_create(&t, NULL, waiter, NULL);
    while (!atomic_load(&waiting)) {
        pause_ms(1);
    }
    for (int i = 0; i < 5; i++) {
        pause_ms(40);
        pthread_kill(t, SIGUSR1);
        // The next one only once this one's handler has run: on a loaded
        // machine the waiter may not run for longer than the pause, and
        // two pending SIGUSR1s are one.
        while (atomic_load(&handled) < i + 1) {
            pause_ms(1);
        }
    }
    pause_ms(40);
    r = pthread_mutex_trylock(&m);
    printf("holder: trylock of its own PI mutex: %s\n", r == EBUSY ? "EBUSY" : strerror(r));
    atomic_store(&inside, 0);
    pthread_mutex_unlock(&m);
    pthread_join(t, NULL);
    printf("handler ran %s\n", atomic_load(&handled) == 5 ? "5 times" : "a wrong number of times");

    // A timed lock of a held PI mutex, interrupted too, ends at its time.
    pthread_mutex_lock(&m);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += 150 * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    r = pthread_mutex_timedlock(&m, &dl);
    printf("holder: relock %s\n", r == EDEADLK ? "EDEADLK" : r ? strerror(r) : "ok");
    pthread_mutex_unlock(&m);

    pthread_t c[4];
    for (int i = 0; i < 4; i++) {
        pthread_create(&c[i], NULL, counter, NULL);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(c[i], NULL);
    }
    printf("count %ld (expected 80000)\n", count);
    return 0;
}
