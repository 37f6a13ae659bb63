// printf of integers, floats and strings in many formats.
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

int main(void) {
    int ints[] = {0, 1, -1, 42, -42, 1000000, INT_MAX, INT_MIN};
    for (unsigned i = 0; i < sizeof ints / sizeof *ints; i++)
        printf("[%d] [%5d] [%-5d|] [%05d] [%+d] [%x] [%X] [%o] [%#x] [%u]\n", ints[i], ints[i], ints[i], ints[i],
               ints[i], ints[i], ints[i], ints[i], ints[i], (unsigned)ints[i]);
    long long ll[] = {0, LLONG_MAX, LLONG_MIN, 1234567890123456789LL, -987654321987LL};
    for (unsigned i = 0; i < sizeof ll / sizeof *ll; i++)
        printf("%lld %llx %llu %20lld|%-20lld|\n", ll[i], ll[i], (unsigned long long)ll[i], ll[i], ll[i]);
    printf("%" PRIu64 " %" PRIx64 " %" PRId32 " %zu %td\n", UINT64_MAX, UINT64_MAX, INT32_MIN, sizeof(long double),
           (ptrdiff_t)-5);
    printf("%hhd %hd %hhu %hu\n", (signed char)200, (short)70000, (unsigned char)300, (unsigned short)70000);
    double ds[] = {0.0, -0.0, 1.0, -1.5, 3.141592653589793, 2.718281828459045, 1e300, 1e-300, 123456789.125,
                   0.1, 1.0 / 3.0, DBL_MAX, DBL_MIN, 5e-324, HUGE_VAL, -HUGE_VAL, NAN};
    for (unsigned i = 0; i < sizeof ds / sizeof *ds; i++)
        printf("%f | %.3f | %e | %.10e | %g | %.17g | %a | %10.2f | %-10.1e|\n", ds[i], ds[i], ds[i], ds[i], ds[i],
               ds[i], ds[i], ds[i], ds[i]);
    float fs[] = {1.1f, FLT_MAX, FLT_MIN, 1e-45f, 16777217.0f};
    for (unsigned i = 0; i < sizeof fs / sizeof *fs; i++) printf("%.9g %a\n", fs[i], fs[i]);
    long double ld = 1.0L / 3.0L;
    printf("long double %.30Lf %La\n", ld, ld);
    printf("[%s] [%10s] [%-10s] [%.3s] [%c] [%%]\n", "str", "right", "left", "truncate", 'x');
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%s-%d-%.2f", "snprintf", 7, 2.5);
    printf("%s (%d)\n", buf, n);
    n = snprintf(buf, 8, "%s", "a long string that is cut");
    printf("%s (%d)\n", buf, n);
    printf("%p\n", (void *)0);
    printf("%ls\n", L"wide");
    double sum = 0;
    for (int i = 1; i <= 1000; i++) sum += 1.0 / i;
    printf("harmonic(1000) = %.15f\n", sum);
    return 0;
}
