// C++: virtual calls through a vector of shapes, std::map and std::vector
// updates, and an exception thrown and caught off the hot path.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

struct Shape {
    virtual ~Shape() = default;
    virtual uint64_t area() const = 0;
    virtual void grow(uint32_t k) = 0;
    virtual int kind() const = 0;
};

struct Rect : Shape {
    uint32_t w, h;
    Rect(uint32_t w, uint32_t h) : w(w), h(h) {}
    uint64_t area() const override { return uint64_t(w) * h; }
    void grow(uint32_t k) override { w = (w + k) % 1000 + 1; }
    int kind() const override { return 0; }
};

struct Tri : Shape {
    uint32_t b, h;
    Tri(uint32_t b, uint32_t h) : b(b), h(h) {}
    uint64_t area() const override { return uint64_t(b) * h / 2; }
    void grow(uint32_t k) override { h = (h * 3 + k) % 997 + 1; }
    int kind() const override { return 1; }
};

struct Circle : Shape {
    uint32_t r;
    explicit Circle(uint32_t r) : r(r) {}
    uint64_t area() const override { return uint64_t(r) * r * 314 / 100; }
    void grow(uint32_t k) override { r = (r + k * 7) % 500 + 1; }
    int kind() const override { return 2; }
};

static uint32_t rng = 2463534242u;
static uint32_t next() {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static uint64_t validate(uint64_t a) {
    if (a % 1000003 == 7) throw std::runtime_error("unlucky area");
    return a;
}

int main(int argc, char **argv) {
    long rounds = argc > 1 ? atol(argv[1]) : 600;
    std::vector<std::unique_ptr<Shape>> shapes;
    for (int i = 0; i < 20000; i++) {
        uint32_t x = next();
        switch (x % 3) {
        case 0: shapes.emplace_back(new Rect(x % 100 + 1, (x >> 8) % 100 + 1)); break;
        case 1: shapes.emplace_back(new Tri(x % 90 + 1, (x >> 8) % 90 + 1)); break;
        default: shapes.emplace_back(new Circle(x % 50 + 1)); break;
        }
    }
    std::map<uint32_t, uint64_t> by_bucket;
    std::vector<uint64_t> hist(64);
    uint64_t total = 0, thrown = 0;
    for (long r = 0; r < rounds; r++) {
        for (auto &s : shapes) {
            s->grow(uint32_t(r));
            uint64_t a;
            try {
                a = validate(s->area());
            } catch (const std::runtime_error &) {
                thrown++;
                a = 1;
            }
            total += a * (s->kind() + 1);
            by_bucket[uint32_t(a % 4099)] += a;
            hist[a % 64]++;
        }
        if (r % 8 == 7) {
            // Drop the small buckets: map erase and re-insertion.
            for (auto it = by_bucket.begin(); it != by_bucket.end();)
                it = it->second < 100000 ? by_bucket.erase(it) : std::next(it);
        }
    }
    uint64_t mix = 0;
    for (auto &kv : by_bucket) mix = mix * 31 + kv.first * 7 + kv.second;
    for (auto h : hist) mix = mix * 17 + h;
    std::printf("total %llu buckets %zu thrown %llu mix %llu\n", (unsigned long long)total,
                by_bucket.size(), (unsigned long long)thrown, (unsigned long long)mix);
    return 0;
}
