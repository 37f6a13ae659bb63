// pthreads: create/join with results, a mutex-protected counter, condition
// variables (a bounded producer/consumer queue), __thread TLS, detached
// threads and a barrier; every printed value is deterministic.
//@ cflags: -pthread
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#define N 4
#define ITERS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static __thread long tls_value = 7;

static void *adder(void *arg) {
    long id = (long)arg;
    tls_value += id;
    for (int i = 0; i < ITERS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return (void *)(tls_value * 100);
}

#define QCAP 8
static int queue[QCAP];
static int qhead, qlen;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;

static void *producer(void *arg) {
    (void)arg;
    for (int i = 1; i <= 5000; i++) {
        pthread_mutex_lock(&qlock);
        while (qlen == QCAP) pthread_cond_wait(&not_full, &qlock);
        queue[(qhead + qlen) % QCAP] = i;
        qlen++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&qlock);
    }
    return NULL;
}

static void *consumer(void *arg) {
    long *sum = arg;
    for (int i = 0; i < 2500; i++) {
        pthread_mutex_lock(&qlock);
        while (qlen == 0) pthread_cond_wait(&not_empty, &qlock);
        *sum += queue[qhead];
        qhead = (qhead + 1) % QCAP;
        qlen--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&qlock);
    }
    return NULL;
}

static pthread_barrier_t barrier;
static int arrived[N];

static void *at_barrier(void *arg) {
    long id = (long)arg;
    arrived[id] = 1;
    pthread_barrier_wait(&barrier);
    // Past the barrier every thread sees every arrival.
    int all = 1;
    for (int i = 0; i < N; i++) all &= arrived[i];
    return (void *)(long)all;
}

static volatile int detached_done;
static void *detached(void *arg) {
    (void)arg;
    __atomic_store_n(&detached_done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void *tid_of(void *arg) {
    *(long *)arg = syscall(SYS_gettid);
    return NULL;
}

int main(void) {
    pthread_t t[N];
    for (long i = 0; i < N; i++) pthread_create(&t[i], NULL, adder, (void *)i);
    long total = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        pthread_join(t[i], &r);
        total += (long)r;
    }
    printf("counter %ld (want %d)\n", counter, N * ITERS);
    printf("tls results %ld, main tls %ld\n", total, tls_value);

    long s1 = 0, s2 = 0;
    pthread_t p, c1, c2;
    pthread_create(&c1, NULL, consumer, &s1);
    pthread_create(&c2, NULL, consumer, &s2);
    pthread_create(&p, NULL, producer, NULL);
    pthread_join(p, NULL);
    pthread_join(c1, NULL);
    pthread_join(c2, NULL);
    printf("queue sum %ld (want %d)\n", s1 + s2, 5000 * 5001 / 2);

    pthread_barrier_init(&barrier, NULL, N);
    for (long i = 0; i < N; i++) pthread_create(&t[i], NULL, at_barrier, (void *)i);
    int ok = 1;
    for (int i = 0; i < N; i++) {
        void *r;
        pthread_join(t[i], &r);
        ok &= (int)(long)r;
    }
    printf("barrier: %s\n", ok ? "all arrived" : "missing");

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t d;
    pthread_create(&d, &attr, detached, NULL);
    while (!__atomic_load_n(&detached_done, __ATOMIC_SEQ_CST)) sched_yield();
    printf("detached thread ran\n");

    long tid = 0;
    pthread_create(&t[0], NULL, tid_of, &tid);
    pthread_join(t[0], NULL);
    printf("thread tid differs from pid: %s\n", tid != getpid() && tid > 0 ? "yes" : "no");
    printf("main tid is pid: %s\n", syscall(SYS_gettid) == getpid() ? "yes" : "no");
    return 0;
}
