// C++ threads: std::thread, std::async/future, std::atomic, std::mutex with
// std::condition_variable, thread_local with a destructor.
//@ cflags: -pthread
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

static std::atomic<long> dtors{0};
struct Tracker {
    long v = 0;
    ~Tracker() { dtors += 1; }
};
thread_local Tracker tracker;

static long sum_range(long a, long b) {
    long s = 0;
    for (long i = a; i < b; i++) s += i * i % 7;
    tracker.v = s;
    return s;
}

int main() {
    std::vector<std::future<long>> fs;
    for (int i = 0; i < 4; i++) fs.push_back(std::async(std::launch::async, sum_range, i * 100000L, (i + 1) * 100000L));
    long total = 0;
    for (auto &f : fs) total += f.get();
    std::printf("async total %ld (serial %ld)\n", total, sum_range(0, 400000));

    std::atomic<int> counter{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 8; i++)
        ts.emplace_back([&] { for (int j = 0; j < 10000; j++) counter.fetch_add(1, std::memory_order_relaxed); });
    for (auto &t : ts) t.join();
    std::printf("atomic counter %d\n", counter.load());

    std::mutex m;
    std::condition_variable cv;
    int turn = 0;
    std::vector<int> order;
    std::vector<std::thread> ping;
    for (int id = 0; id < 3; id++)
        ping.emplace_back([&, id] {
            for (int round = 0; round < 100; round++) {
                std::unique_lock<std::mutex> l(m);
                cv.wait(l, [&] { return turn % 3 == id; });
                order.push_back(id);
                turn++;
                cv.notify_all();
            }
        });
    for (auto &t : ping) t.join();
    bool ok = order.size() == 300;
    for (size_t i = 0; i < order.size(); i++) ok &= order[i] == (int)(i % 3);
    std::printf("round robin in order: %s\n", ok ? "yes" : "no");
    std::printf("thread_local destructors ran: %ld\n", dtors.load());
    return 0;
}
