// POSIX per-process timers (timer_create and friends), as real programs use
// them: the kernel's errors, the default notification (SIGALRM carrying the
// timer id), SIGEV_SIGNAL with a value taken by a handler and by
// sigwaitinfo, SIGEV_NONE with timer_gettime, TIMER_ABSTIME, the old value,
// a periodic timer whose blocked signal collects overruns (si_overrun and
// timer_getoverrun agree), SIGEV_THREAD_ID to one thread, glibc's
// SIGEV_THREAD (its helper thread takes signal 32 with SI_TIMER), and the
// CPU-time clocks. Times only bound the output ("remaining <= 1 s: yes").
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000L

static const char *err(long r) {
    if (r != -1)
        return "ok";
    switch (errno) {
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EPERM: return "EPERM";
    default: return strerror(errno);
    }
}

static long raw_create(long clock, void *sev, void *id) {
    return syscall(SYS_timer_create, clock, sev, id);
}

static struct itimerspec its(long value_ns, long interval_ns) {
    struct itimerspec t = {
        .it_interval = {interval_ns / 1000000000L, interval_ns % 1000000000L},
        .it_value = {value_ns / 1000000000L, value_ns % 1000000000L},
    };
    return t;
}

static long ns(struct timespec t) { return t.tv_sec * 1000000000L + t.tv_nsec; }

static volatile sig_atomic_t hits;
static volatile int got_code, got_int, got_tid, got_overrun;
static volatile pid_t got_thread;
// The first signal's si_overrun and timer_getoverrun (read in the handler,
// before the next period can change it), when `watched` is set.
static timer_t watched;
static volatile int watching, first_overrun, first_getoverrun;

static void on_sig(int sig, siginfo_t *si, void *uc) {
    (void)sig, (void)uc;
    if (watching) {
        watching = 0;
        first_overrun = si->si_overrun;
        first_getoverrun = timer_getoverrun(watched);
    }
    got_code = si->si_code;
    got_int = si->si_value.sival_int;
    got_tid = si->si_timerid;
    got_overrun = si->si_overrun;
    got_thread = gettid();
    hits++;
}

static void handle(int sig) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO;
    sigaction(sig, &sa, NULL);
}

// Wait (with `sig` unblocked) until the handler ran `n` times in all.
static void wait_hits(int n) {
    sigset_t none;
    sigemptyset(&none);
    while (hits < n)
        sigsuspend(&none);
}

static void block(int sig, int how) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(how, &s, NULL);
}

// qemu-user hands out ids of its own (0x0caf0000 | slot) but reports the
// host kernel's in si_timerid and the default si_value; for the first
// timer of a process those are the slot.
static int names(int v, timer_t id) {
    return v == (int)(intptr_t)id || v == ((int)(intptr_t)id & 0xffff);
}

static void errors(void) {
    int id;
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    printf("bad clock: %s\n", err(raw_create(99, NULL, &id)));
    printf("clock device: %s\n", err(raw_create(-1 << 3 | 3, NULL, &id)));
    printf("thread CPU clock of type 3: %s\n", err(raw_create(-1, NULL, &id)));
    printf("MONOTONIC_RAW: %s\n", err(raw_create(CLOCK_MONOTONIC_RAW, NULL, &id)));
    printf("REALTIME_COARSE: %s\n", err(raw_create(CLOCK_REALTIME_COARSE, NULL, &id)));
    printf("bad sigevent pointer: %s\n", err(raw_create(CLOCK_MONOTONIC, (void *)8, &id)));
    printf("bad id pointer: %s\n", err(raw_create(CLOCK_MONOTONIC, NULL, (void *)8)));
    ev.sigev_notify = 99;
    printf("bad sigev_notify: %s\n", err(raw_create(CLOCK_MONOTONIC, &ev, &id)));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = 0;
    printf("signal 0: %s\n", err(raw_create(CLOCK_MONOTONIC, &ev, &id)));
    ev.sigev_signo = 65;
    printf("signal 65: %s\n", err(raw_create(CLOCK_MONOTONIC, &ev, &id)));
    ev.sigev_notify = SIGEV_THREAD | SIGEV_THREAD_ID;
    ev.sigev_signo = SIGUSR1;
    ev._sigev_un._tid = gettid();
    printf("SIGEV_THREAD | SIGEV_THREAD_ID: %s\n", err(raw_create(CLOCK_MONOTONIC, &ev, &id)));
    ev.sigev_notify = SIGEV_SIGNAL | SIGEV_THREAD_ID;
    ev._sigev_un._tid = 0x3ffffff0;
    printf("thread id of no thread: %s\n", err(raw_create(CLOCK_MONOTONIC, &ev, &id)));
    printf("settime of no timer: %s\n",
           err(syscall(SYS_timer_settime, 0x7654321, 0, &(struct itimerspec){0}, NULL)));
    printf("gettime of no timer: %s\n",
           err(syscall(SYS_timer_gettime, 0x7654321, &(struct itimerspec){0})));
    printf("getoverrun of no timer: %s\n", err(syscall(SYS_timer_getoverrun, 0x7654321)));
    printf("delete of no timer: %s\n", err(syscall(SYS_timer_delete, 0x7654321)));
}

static void default_notification(void) {
    timer_t t;
    handle(SIGALRM);
    printf("create (default sigevent): %s\n", err(timer_create(CLOCK_MONOTONIC, NULL, &t)));
    struct itimerspec v = its(5 * MS, 0), cur;
    printf("settime: %s\n", err(timer_settime(t, 0, &v, NULL)));
    wait_hits(1);
    printf("SIGALRM: si_code SI_TIMER: %s, si_value names the timer: %s, si_timerid too: %s, "
           "si_overrun %d\n",
           got_code == SI_TIMER ? "yes" : "no", names(got_int, t) ? "yes" : "no",
           names(got_tid, t) ? "yes" : "no", got_overrun);
    timer_gettime(t, &cur);
    printf("after expiry: value %ld interval %ld\n", ns(cur.it_value), ns(cur.it_interval));
    printf("getoverrun: %d\n", timer_getoverrun(t));
    printf("delete: %s\n", err(timer_delete(t)));
    printf("gettime after delete: %s\n", err(timer_gettime(t, &cur)));
    printf("delete again: %s\n", err(timer_delete(t)));
}

static void signal_with_value(void) {
    timer_t a, b;
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGRTMIN + 2;
    ev.sigev_value.sival_int = 4242;
    timer_create(CLOCK_REALTIME, &ev, &a);
    timer_create(CLOCK_BOOTTIME, &ev, &b);
    printf("two timers have distinct ids: %s\n", a != b ? "yes" : "no");
    // Taken by sigwaitinfo while blocked.
    block(SIGRTMIN + 2, SIG_BLOCK);
    struct itimerspec v = its(3 * MS, 0);
    timer_settime(b, 0, &v, NULL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGRTMIN + 2);
    siginfo_t si;
    int sig = sigwaitinfo(&s, &si);
    printf("sigwaitinfo: SIGRTMIN+%d code %s value %d overrun %d\n", sig - SIGRTMIN,
           si.si_code == SI_TIMER ? "SI_TIMER" : "other", si.si_value.sival_int, si.si_overrun);
    // An absolute time already past fires at once.
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    v = its(ns(now) - 1000 * MS, 0);
    printf("abstime in the past: %s\n", err(timer_settime(a, TIMER_ABSTIME, &v, NULL)));
    sig = sigwaitinfo(&s, &si);
    printf("  fired at once: SIGRTMIN+%d value %d\n", sig - SIGRTMIN, si.si_value.sival_int);
    block(SIGRTMIN + 2, SIG_UNBLOCK);
    timer_delete(a);
    timer_delete(b);
}

static void sigev_none_and_settime(void) {
    timer_t t;
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_NONE;
    printf("SIGEV_NONE: %s\n", err(timer_create(CLOCK_MONOTONIC, &ev, &t)));
    struct itimerspec v = its(900 * MS, 100 * MS), old, cur;
    timer_settime(t, 0, &v, NULL);
    timer_gettime(t, &cur);
    printf("  gettime: interval %ld, 0 < value <= 900 ms: %s\n", ns(cur.it_interval),
           ns(cur.it_value) > 0 && ns(cur.it_value) <= 900 * MS ? "yes" : "no");
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    v = its(ns(now) + 2000 * MS, 0);
    timer_settime(t, TIMER_ABSTIME, &v, &old);
    printf("  old value: interval %ld, 0 < value <= 900 ms: %s\n", ns(old.it_interval),
           ns(old.it_value) > 0 && ns(old.it_value) <= 900 * MS ? "yes" : "no");
    timer_gettime(t, &cur);
    printf("  abstime +2 s: interval %ld, 1 s < value <= 2 s: %s\n", ns(cur.it_interval),
           ns(cur.it_value) > 1000 * MS && ns(cur.it_value) <= 2000 * MS ? "yes" : "no");
    // A one-shot SIGEV_NONE timer that expired reports 0.
    v = its(1, 0);
    timer_settime(t, 0, &v, NULL);
    usleep(2000);
    timer_gettime(t, &cur);
    printf("  expired one-shot: value %ld\n", ns(cur.it_value));
    // Periodic SIGEV_NONE: moved past now, overruns counted only at delivery.
    v = its(1 * MS, 1 * MS);
    timer_settime(t, 0, &v, NULL);
    usleep(5000);
    timer_gettime(t, &cur);
    printf("  periodic: 0 < value <= 1 ms: %s\n",
           ns(cur.it_value) > 0 && ns(cur.it_value) <= 1 * MS ? "yes" : "no");
    v = its(0, 0);
    timer_settime(t, 0, &v, &old);
    printf("  disarm: old interval %ld\n", ns(old.it_interval));
    timer_gettime(t, &cur);
    printf("  disarmed: interval %ld\n", ns(cur.it_interval));
    struct itimerspec bad = its(0, 0);
    bad.it_value.tv_nsec = 1000000000;
    printf("  nsec 1e9: %s\n", err(timer_settime(t, 0, &bad, NULL)));
    bad = its(0, 0);
    bad.it_interval.tv_sec = -1;
    printf("  negative interval: %s\n", err(timer_settime(t, 0, &bad, NULL)));
    printf("  no new value: %s\n", err(syscall(SYS_timer_settime, t, 0, NULL, NULL)));
    timer_delete(t);
}

static void periodic(void) {
    timer_t t;
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    ev.sigev_value.sival_int = 7;
    timer_create(CLOCK_MONOTONIC, &ev, &t);
    handle(SIGUSR1);
    // Blocked: one signal stays queued, the missed periods become overruns.
    block(SIGUSR1, SIG_BLOCK);
    hits = 0;
    watched = t;
    watching = 1;
    struct itimerspec v = its(1 * MS, 1 * MS), cur;
    timer_settime(t, 0, &v, NULL);
    usleep(30000);
    timer_gettime(t, &cur);
    printf("periodic, blocked: 0 < value <= 1 ms: %s\n",
           ns(cur.it_value) > 0 && ns(cur.it_value) <= 1 * MS ? "yes" : "no");
    sigset_t pend;
    sigpending(&pend);
    printf("  pending: %s, handler ran: %d\n", sigismember(&pend, SIGUSR1) ? "yes" : "no", hits);
    block(SIGUSR1, SIG_UNBLOCK);
    printf("  unblocked: handler ran: %s, value %d, overrun >= 10: %s, getoverrun agrees: %s\n",
           hits >= 1 ? "yes" : "no", got_int, first_overrun >= 10 ? "yes" : "no",
           first_getoverrun == first_overrun ? "yes" : "no");
    // Unblocked: the handler runs at every period.
    wait_hits(4);
    printf("  more periods: yes\n");
    v = its(0, 0);
    timer_settime(t, 0, &v, NULL);
    timer_gettime(t, &cur);
    printf("  disarmed: value %ld interval %ld\n", ns(cur.it_value), ns(cur.it_interval));
    timer_delete(t);
}

static pid_t worker_tid;
static volatile int stop;

static void *worker(void *arg) {
    (void)arg;
    worker_tid = gettid();
    sigset_t none;
    sigemptyset(&none);
    while (!stop)
        sigsuspend(&none);
    return NULL;
}

static void thread_id(void) {
    pthread_t th;
    handle(SIGUSR2);
    pthread_create(&th, NULL, worker, NULL);
    while (!__atomic_load_n(&worker_tid, __ATOMIC_ACQUIRE))
        usleep(1000);
    timer_t t;
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL | SIGEV_THREAD_ID;
    ev.sigev_signo = SIGUSR2;
    ev.sigev_value.sival_int = 99;
    ev._sigev_un._tid = worker_tid;
    printf("SIGEV_THREAD_ID: %s\n", err(timer_create(CLOCK_MONOTONIC, &ev, &t)));
    hits = 0;
    got_thread = 0;
    struct itimerspec v = its(3 * MS, 0);
    timer_settime(t, 0, &v, NULL);
    // This thread sleeps with SIGUSR2 unblocked: the target still takes it.
    for (int i = 0; i < 1000 && !hits; i++)
        usleep(1000);
    printf("  taken by the target thread: %s, value %d, code %s\n",
           got_thread == worker_tid ? "yes" : "no", got_int,
           got_code == SI_TIMER ? "SI_TIMER" : "other");
    stop = 1;
    pthread_kill(th, SIGUSR2);
    pthread_join(th, NULL);
    timer_delete(t);
}

static sem_t done;
static volatile int thread_value;
static volatile pid_t thread_ran_on;

static void notify(union sigval v) {
    thread_value = v.sival_int;
    thread_ran_on = gettid();
    sem_post(&done);
}

static void sigev_thread(void) {
    sem_init(&done, 0, 0);
    timer_t t;
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = notify;
    ev.sigev_value.sival_int = 31337;
    printf("SIGEV_THREAD: %s\n", err(timer_create(CLOCK_MONOTONIC, &ev, &t)));
    struct itimerspec v = its(2 * MS, 2 * MS);
    timer_settime(t, 0, &v, NULL);
    struct timespec until;
    int ok = 0;
    for (int i = 0; i < 3; i++) {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 2;
        ok += sem_timedwait(&done, &until) == 0;
    }
    v = its(0, 0);
    timer_settime(t, 0, &v, NULL);
    printf("  ran 3 times: %s, value %d, on another thread: %s\n", ok == 3 ? "yes" : "no",
           thread_value, thread_ran_on != gettid() ? "yes" : "no");
    printf("  delete: %s\n", err(timer_delete(t)));
}

static void cpu_clocks(void) {
    static const struct {
        clockid_t clock;
        const char *name;
    } clocks[] = {{CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME"},
                  {CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME"}};
    handle(SIGVTALRM);
    for (int i = 0; i < 2; i++) {
        timer_t t;
        struct sigevent ev;
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = SIGEV_SIGNAL;
        ev.sigev_signo = SIGVTALRM;
        ev.sigev_value.sival_int = i;
        printf("%s: %s\n", clocks[i].name, err(timer_create(clocks[i].clock, &ev, &t)));
        struct timespec start, end, wall0, wall;
        clock_gettime(clocks[i].clock, &start);
        clock_gettime(CLOCK_MONOTONIC, &wall0);
        hits = 0;
        struct itimerspec v = its(15 * MS, 0);
        timer_settime(t, 0, &v, NULL);
        volatile unsigned long x = 0;
        do {
            for (int k = 0; k < 1000; k++)
                x += k;
            clock_gettime(CLOCK_MONOTONIC, &wall);
        } while (!hits && ns(wall) - ns(wall0) < 3000 * MS);
        clock_gettime(clocks[i].clock, &end);
        printf("  fired: %s, value %d, after >= 15 ms of CPU time: %s\n", hits ? "yes" : "no",
               got_int, ns(end) - ns(start) >= 15 * MS ? "yes" : "no");
        timer_delete(t);
    }
}

// The first thread ends (pthread_exit) while another waits for a
// process-directed timer signal: the timer still wakes it. A timer aimed
// at a thread that has ended since sends nothing. (The last thread ends the
// process with exit: glibc's SIGEV_THREAD helper thread never ends.)
static timer_t late_timer, orphan_timer;

static void *last_thread(void *arg) {
    (void)arg;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGRTMIN + 5);
    siginfo_t si;
    int sig = sigwaitinfo(&s, &si);
    printf("after the first thread ended: SIGRTMIN+%d value %d\n", sig - SIGRTMIN,
           si.si_value.sival_int);
    sigset_t pend;
    sigpending(&pend);
    printf("  nothing from the ended thread's timer: %s\n",
           sigismember(&pend, SIGRTMIN + 6) ? "no" : "yes");
    exit(0);
}

static int go[2];

static void *short_thread(void *arg) {
    *(volatile pid_t *)arg = gettid();
    char c;
    read(go[0], &c, 1);
    return NULL;
}

static void leader_exits(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGRTMIN + 5);
    sigaddset(&s, SIGRTMIN + 6);
    sigprocmask(SIG_BLOCK, &s, NULL);
    volatile pid_t tid = 0;
    pthread_t th;
    pipe(go);
    pthread_create(&th, NULL, short_thread, (void *)&tid);
    while (!tid)
        usleep(1000);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL | SIGEV_THREAD_ID;
    ev.sigev_signo = SIGRTMIN + 6;
    ev._sigev_un._tid = tid;
    printf("timer for a thread: %s\n", err(timer_create(CLOCK_MONOTONIC, &ev, &orphan_timer)));
    write(go[1], "g", 1);
    pthread_join(th, NULL);
    struct itimerspec v = its(1 * MS, 0);
    timer_settime(orphan_timer, 0, &v, NULL);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGRTMIN + 5;
    ev.sigev_value.sival_int = 55;
    timer_create(CLOCK_MONOTONIC, &ev, &late_timer);
    pthread_create(&th, NULL, last_thread, NULL);
    v = its(20 * MS, 0);
    timer_settime(late_timer, 0, &v, NULL);
    pthread_exit(NULL);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    default_notification();
    errors();
    signal_with_value();
    sigev_none_and_settime();
    periodic();
    thread_id();
    sigev_thread();
    cpu_clocks();
    leader_exits();
}
