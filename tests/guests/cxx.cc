// C++: iostreams, exceptions, the standard containers, virtual dispatch,
//@ stderr
//@ variants: static dynamic
// static constructors and destructors.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

struct Global {
    Global() { std::cout << "static constructor\n"; }
    ~Global() { std::cout << "static destructor\n"; }
} global;

struct Shape {
    virtual ~Shape() = default;
    virtual double area() const = 0;
    virtual std::string name() const = 0;
};
struct Square : Shape {
    double s;
    explicit Square(double s) : s(s) {}
    double area() const override { return s * s; }
    std::string name() const override { return "square"; }
};
struct Circle : Shape {
    double r;
    explicit Circle(double r) : r(r) {}
    double area() const override { return 3.141592653589793 * r * r; }
    std::string name() const override { return "circle"; }
};

struct MyError : std::runtime_error {
    int code;
    MyError(const std::string &m, int c) : std::runtime_error(m), code(c) {}
};

static int depth(int n) {
    if (n == 0) throw MyError("bottom reached", 7);
    return depth(n - 1) + 1;
}

int main() {
    std::vector<std::unique_ptr<Shape>> shapes;
    for (int i = 1; i <= 3; i++) {
        shapes.push_back(std::make_unique<Square>(i));
        shapes.push_back(std::make_unique<Circle>(i * 0.5));
    }
    std::sort(shapes.begin(), shapes.end(), [](auto &a, auto &b) { return a->area() < b->area(); });
    for (auto &s : shapes) std::cout << s->name() << " " << std::fixed << std::setprecision(4) << s->area() << "\n";

    try {
        depth(50);
    } catch (const MyError &e) {
        std::cout << "caught MyError: " << e.what() << " code " << e.code << "\n";
    }
    try {
        std::vector<int> v(3);
        (void)v.at(10);
    } catch (const std::out_of_range &e) {
        std::cout << "caught out_of_range\n";
    }
    try {
        throw 42;
    } catch (int x) {
        std::cout << "caught int " << x << "\n";
    }
    try {
        try {
            throw std::logic_error("inner");
        } catch (...) {
            std::cout << "rethrowing\n";
            throw;
        }
    } catch (const std::exception &e) {
        std::cout << "outer caught " << e.what() << "\n";
    }

    std::map<std::string, int> counts;
    std::istringstream in("the cat and the dog and the bird");
    std::string w;
    while (in >> w) counts[w]++;
    for (auto &[k, v] : counts) std::cout << k << "=" << v << " ";
    std::cout << "\n";
    std::unordered_map<int, int> sq;
    for (int i = 0; i < 1000; i++) sq[i] = i * i;
    long long total = 0;
    for (auto &[k, v] : sq) total += v;
    std::cout << "sum of squares " << total << "\n";
    std::vector<int> v(100);
    std::iota(v.begin(), v.end(), 1);
    std::cout << "accumulate " << std::accumulate(v.begin(), v.end(), 0LL) << "\n";
    std::string s = "Hello";
    s += ", C++ world";
    std::reverse(s.begin(), s.end());
    std::cout << s << " size " << s.size() << "\n";
    std::ostringstream os;
    os << std::hex << 255 << " " << std::dec << 3.5 << " " << std::scientific << 12345.678;
    std::cout << os.str() << "\n";
    std::cerr << "to stderr\n";
    return 0;
}
