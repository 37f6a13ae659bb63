// 1000 threads created and joined (in waves of 50 live at once), rwlocks,
// semaphores, TLS destructors (pthread_key_create), pthread_once, and C11
// atomics updated from every thread.
//@ cflags: -pthread
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_long hits;
static atomic_long destructed;
static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_int once_runs;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long shared_table[16];
static sem_t sem;
static atomic_int in_sem, max_in_sem;

static void destroy(void *p) {
    atomic_fetch_add(&destructed, (long)p);
}
static void init_once(void) { atomic_fetch_add(&once_runs, 1); }

static void *worker(void *arg) {
    long id = (long)arg;
    pthread_once(&once, init_once);
    pthread_setspecific(key, (void *)1);
    atomic_fetch_add(&hits, id);
    if (id % 10 == 0) {
        pthread_rwlock_wrlock(&rw);
        shared_table[id % 16] += 1;
        pthread_rwlock_unlock(&rw);
    } else {
        pthread_rwlock_rdlock(&rw);
        volatile long x = shared_table[id % 16];
        (void)x;
        pthread_rwlock_unlock(&rw);
    }
    sem_wait(&sem);
    int now = atomic_fetch_add(&in_sem, 1) + 1;
    int m = atomic_load(&max_in_sem);
    while (now > m && !atomic_compare_exchange_weak(&max_in_sem, &m, now)) {}
    atomic_fetch_sub(&in_sem, 1);
    sem_post(&sem);
    return NULL;
}

int main(void) {
    pthread_key_create(&key, destroy);
    sem_init(&sem, 0, 3);
    pthread_t t[50];
    long id = 0;
    for (int wave = 0; wave < 20; wave++) {
        for (int i = 0; i < 50; i++, id++)
            if (pthread_create(&t[i], NULL, worker, (void *)id) != 0) {
                printf("create failed\n");
                return 1;
            }
        for (int i = 0; i < 50; i++) pthread_join(t[i], NULL);
    }
    long sum = 0;
    for (int i = 0; i < 16; i++) sum += shared_table[i];
    printf("threads %ld, id sum %ld (want %ld)\n", id, atomic_load(&hits), id * (id - 1) / 2);
    printf("destructors %ld, once %d, writes %ld\n", atomic_load(&destructed), atomic_load(&once_runs), sum);
    printf("semaphore bound held: %s\n", atomic_load(&max_in_sem) <= 3 ? "yes" : "no");
    return 0;
}
