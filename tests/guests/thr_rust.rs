// Rust std threads, cross-built for riscv64gc-unknown-linux-gnu: spawn/join
// with results, named threads, mpsc (several producers, one consumer; and a
// bounded sync_channel), Arc<Mutex>, Arc<RwLock>, Condvar, Barrier,
// AtomicU64, thread::scope, thread_local!, park/unpark, and a panic in a
// thread caught by join (unwinding on a second thread). Every printed value
// is independent of scheduling.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Condvar, Mutex, RwLock};
use std::thread;

/// A small deterministic hash, so the work is not optimized away.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

fn spawn_join() {
    let handles: Vec<thread::JoinHandle<u64>> = (0..4u64)
        .map(|i| thread::spawn(move || (1..=20_000u64).map(|k| mix(k * 4 + i) % 1000).sum()))
        .collect();
    let results: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let want: Vec<u64> = (0..4u64)
        .map(|i| (1..=20_000u64).map(|k| mix(k * 4 + i) % 1000).sum())
        .collect();
    println!(
        "spawn/join: {results:?} (same as computed in main: {})",
        if results == want { "yes" } else { "no" }
    );

    let named = thread::Builder::new()
        .name("worker-7".into())
        .stack_size(256 * 1024)
        .spawn(|| thread::current().name().map(String::from))
        .unwrap();
    println!("named thread: {:?}", named.join().unwrap());
    let main_id = thread::current().id();
    let other = thread::spawn(move || thread::current().id() != main_id);
    println!("thread ids differ: {}", yes(other.join().unwrap()));
}

fn channels() {
    const PRODUCERS: u64 = 4;
    const PER: u64 = 5_000;
    let (tx, rx) = mpsc::channel::<(usize, u64)>();
    for p in 0..PRODUCERS {
        let tx = tx.clone();
        thread::spawn(move || {
            for i in 0..PER {
                tx.send((p as usize, mix(p * PER + i) % 10_007)).unwrap();
            }
        });
    }
    drop(tx);
    let mut per = [0u64; PRODUCERS as usize];
    let mut count = 0;
    // Ends when every producer has dropped its sender.
    for (p, v) in rx {
        per[p] += v;
        count += 1;
    }
    let want: u64 = (0..PRODUCERS * PER).map(|k| mix(k) % 10_007).sum();
    println!(
        "mpsc: {count} messages, per producer {per:?}, total {} (want {want})",
        per.iter().sum::<u64>()
    );

    // A bounded channel: the producer blocks while the buffer is full; order
    // from one producer is preserved.
    let (stx, srx) = mpsc::sync_channel::<u64>(2);
    let prod = thread::spawn(move || {
        for i in 0..1000 {
            stx.send(i).unwrap();
        }
    });
    let mut in_order = true;
    let mut last = None;
    let mut sum = 0;
    for v in srx {
        in_order &= last.is_none_or(|l| v == l + 1);
        last = Some(v);
        sum += v;
    }
    prod.join().unwrap();
    println!("sync_channel: sum {sum}, in order: {}", yes(in_order));

    // Replies over a channel carried in the request.
    let (req_tx, req_rx) = mpsc::channel::<(u64, mpsc::Sender<u64>)>();
    let server = thread::spawn(move || {
        let mut served = 0;
        for (x, reply) in req_rx {
            reply.send(x * x).unwrap();
            served += 1;
        }
        served
    });
    let mut total = 0;
    for x in 1..=50 {
        let (rtx, rrx) = mpsc::channel();
        req_tx.send((x, rtx)).unwrap();
        total += rrx.recv().unwrap();
    }
    drop(req_tx);
    println!(
        "request/reply: served {}, sum of squares {total}",
        server.join().unwrap()
    );
}

fn locks() {
    let counter = Arc::new(Mutex::new(0u64));
    let log = Arc::new(Mutex::new(Vec::new()));
    let hs: Vec<_> = (0..4u64)
        .map(|t| {
            let (counter, log) = (Arc::clone(&counter), Arc::clone(&log));
            thread::spawn(move || {
                for _ in 0..10_000 {
                    *counter.lock().unwrap() += 1;
                }
                log.lock().unwrap().push(t);
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let mut log = log.lock().unwrap().clone();
    log.sort();
    println!(
        "Arc<Mutex>: counter {} (want 40000), threads logged {log:?}, strong count {}",
        *counter.lock().unwrap(),
        Arc::strong_count(&counter)
    );

    // Writers move value between accounts; readers check the invariant
    // (the total never changes) under the read lock.
    let bank = Arc::new(RwLock::new(BTreeMap::from([(0u32, 5_000i64), (1, 5_000)])));
    let broken = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let mut hs = Vec::new();
    for w in 0..2u64 {
        let bank = Arc::clone(&bank);
        hs.push(thread::spawn(move || {
            for i in 0..3_000u64 {
                let mut b = bank.write().unwrap();
                let amount = (mix(w * 10_000 + i) % 7) as i64 + 1;
                let (from, to) = if (i + w) % 2 == 0 { (0, 1) } else { (1, 0) };
                *b.get_mut(&from).unwrap() -= amount;
                *b.get_mut(&to).unwrap() += amount;
                if i % 1000 == 999 {
                    b.insert(2 + (w * 3 + i / 1000) as u32, 0);
                }
            }
        }));
    }
    for _ in 0..2 {
        let (bank, broken, reads) = (Arc::clone(&bank), Arc::clone(&broken), Arc::clone(&reads));
        hs.push(thread::spawn(move || {
            for _ in 0..3_000 {
                let b = bank.read().unwrap();
                if b.values().sum::<i64>() != 10_000 {
                    broken.store(true, Ordering::Relaxed);
                }
                reads.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for h in hs {
        h.join().unwrap();
    }
    let b = bank.read().unwrap();
    println!(
        "Arc<RwLock>: {} reads, invariant held: {}, total {}, accounts {}",
        reads.load(Ordering::Relaxed),
        yes(!broken.load(Ordering::Relaxed)),
        b.values().sum::<i64>(),
        b.len()
    );

    // Condvar: workers wait for a start signal, then the main thread waits
    // until all have finished.
    let state = Arc::new((Mutex::new((false, 0u32)), Condvar::new()));
    let hs: Vec<_> = (0..3)
        .map(|_| {
            let state = Arc::clone(&state);
            thread::spawn(move || {
                let (m, cv) = &*state;
                let mut g = cv.wait_while(m.lock().unwrap(), |s| !s.0).unwrap();
                g.1 += 1;
                cv.notify_all();
            })
        })
        .collect();
    {
        let (m, cv) = &*state;
        m.lock().unwrap().0 = true;
        cv.notify_all();
        let g = cv.wait_while(m.lock().unwrap(), |s| s.1 < 3).unwrap();
        println!("Condvar: {} workers finished", g.1);
    }
    for h in hs {
        h.join().unwrap();
    }
}

fn barrier_atomics() {
    const N: usize = 4;
    const ROUNDS: usize = 50;
    let barrier = Arc::new(Barrier::new(N));
    let slots: Arc<Vec<AtomicU64>> = Arc::new((0..N).map(|_| AtomicU64::new(0)).collect());
    let leaders = Arc::new(AtomicU64::new(0));
    let mismatches = Arc::new(AtomicU64::new(0));
    let hs: Vec<_> = (0..N)
        .map(|t| {
            let (barrier, slots) = (Arc::clone(&barrier), Arc::clone(&slots));
            let (leaders, mismatches) = (Arc::clone(&leaders), Arc::clone(&mismatches));
            thread::spawn(move || {
                for r in 0..ROUNDS {
                    slots[t].store((r * N + t) as u64, Ordering::Relaxed);
                    if barrier.wait().is_leader() {
                        leaders.fetch_add(1, Ordering::Relaxed);
                    }
                    // Every thread sees every slot of this round.
                    for (u, s) in slots.iter().enumerate() {
                        if s.load(Ordering::Relaxed) != (r * N + u) as u64 {
                            mismatches.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    barrier.wait();
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    println!(
        "Barrier: {ROUNDS} rounds, leaders {} (want {ROUNDS}), stale reads {}",
        leaders.load(Ordering::Relaxed),
        mismatches.load(Ordering::Relaxed)
    );

    let total = Arc::new(AtomicU64::new(0));
    let max = Arc::new(AtomicU64::new(0));
    let hs: Vec<_> = (0..4u64)
        .map(|t| {
            let (total, max) = (Arc::clone(&total), Arc::clone(&max));
            thread::spawn(move || {
                for i in 0..25_000u64 {
                    total.fetch_add(i & 7, Ordering::Relaxed);
                    let v = mix(t * 25_000 + i) % 1_000_000;
                    max.fetch_max(v, Ordering::AcqRel);
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let want_max = (0..100_000u64).map(|k| mix(k) % 1_000_000).max().unwrap();
    // A compare-exchange loop on one shared word.
    let cas = Arc::new(AtomicU64::new(1));
    let hs: Vec<_> = (0..2)
        .map(|_| {
            let cas = Arc::clone(&cas);
            thread::spawn(move || {
                for _ in 0..10_000 {
                    let mut cur = cas.load(Ordering::Relaxed);
                    loop {
                        let next = cur.wrapping_mul(3) % 1_000_003;
                        match cas.compare_exchange_weak(
                            cur,
                            next,
                            Ordering::AcqRel,
                            Ordering::Relaxed,
                        ) {
                            Ok(_) => break,
                            Err(seen) => cur = seen,
                        }
                    }
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let want_cas = (0..20_000).fold(1u64, |c, _| c.wrapping_mul(3) % 1_000_003);
    println!(
        "AtomicU64: total {} (want {}), max right: {}, cas chain right: {}",
        total.load(Ordering::Relaxed),
        4 * (0..25_000u64).map(|i| i & 7).sum::<u64>(),
        yes(max.load(Ordering::Relaxed) == want_max),
        yes(cas.load(Ordering::Relaxed) == want_cas)
    );
}

fn scoped() {
    let mut data: Vec<u64> = (0..40_000u64).map(mix).collect();
    let want: u64 = data.iter().map(|v| v % 977).sum();
    // Borrow the data immutably from several threads.
    let sums: Vec<u64> = thread::scope(|s| {
        let hs: Vec<_> = data
            .chunks(10_000)
            .map(|c| s.spawn(move || c.iter().map(|v| v % 977).sum::<u64>()))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Then mutably, a chunk per thread.
    thread::scope(|s| {
        for (k, c) in data.chunks_mut(10_000).enumerate() {
            s.spawn(move || {
                for v in c.iter_mut() {
                    *v = *v % 1000 + k as u64;
                }
            });
        }
    });
    let after: u64 = data.iter().sum();
    let want_after: u64 = (0..40_000u64).map(|i| mix(i) % 1000 + i / 10_000).sum();
    println!(
        "thread::scope: chunk sums {sums:?} total right: {}, after mutation right: {}",
        yes(sums.iter().sum::<u64>() == want),
        yes(after == want_after)
    );
}

thread_local! {
    static CALLS: Cell<u32> = const { Cell::new(0) };
}

fn tls_park_panic() {
    CALLS.with(|c| c.set(100));
    let hs: Vec<_> = (1..=3u32)
        .map(|n| {
            thread::spawn(move || {
                for _ in 0..n {
                    CALLS.with(|c| c.set(c.get() + 1));
                }
                CALLS.with(Cell::get)
            })
        })
        .collect();
    let got: Vec<u32> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    println!(
        "thread_local!: threads saw {got:?}, main still {}",
        CALLS.with(Cell::get)
    );

    // park/unpark: the parked thread runs on only after the flag is set.
    let flag = Arc::new(AtomicBool::new(false));
    let f2 = Arc::clone(&flag);
    let parked = thread::spawn(move || {
        while !f2.load(Ordering::Acquire) {
            thread::park();
        }
        "unparked"
    });
    flag.store(true, Ordering::Release);
    parked.thread().unpark();
    println!("park/unpark: {}", parked.join().unwrap());

    // A panic unwinds its own thread only; join reports it with its payload.
    std::panic::set_hook(Box::new(|_| {}));
    let guard = Arc::new(Mutex::new(0));
    let g2 = Arc::clone(&guard);
    let code = CALLS.with(Cell::get);
    let r = thread::spawn(move || {
        let _held = g2.lock().unwrap();
        panic!("deliberate {code}");
    })
    .join();
    let msg = r.as_ref().err().and_then(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
    });
    let _ = std::panic::take_hook();
    println!(
        "panic in a thread: join gave Err: {}, payload {msg:?}, mutex poisoned: {}",
        yes(r.is_err()),
        yes(guard.is_poisoned())
    );
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn main() {
    spawn_join();
    channels();
    locks();
    barrier_atomics();
    scoped();
    tls_park_panic();
    let n = thread::available_parallelism().map_or(0, |n| n.get());
    println!("available_parallelism at least 1: {}", yes(n >= 1));
}
