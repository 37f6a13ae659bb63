// Floating-point corner cases through C: fenv rounding modes and flags,
// NaN/inf/subnormal printing, fmin/fmax with signed zeros, and saturating
// conversions through inline fcvt (where a C cast would be undefined).
//@ cflags: -lm
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#pragma STDC FENV_ACCESS ON

static uint64_t bits(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}
static uint32_t fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static double from_bits(uint64_t u) {
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static void flags(const char *what) {
    int f = fetestexcept(FE_ALL_EXCEPT);
    printf("%-28s flags:%s%s%s%s%s\n", what, f & FE_INVALID ? " invalid" : "", f & FE_DIVBYZERO ? " divbyzero" : "",
           f & FE_OVERFLOW ? " overflow" : "", f & FE_UNDERFLOW ? " underflow" : "", f & FE_INEXACT ? " inexact" : "");
    feclearexcept(FE_ALL_EXCEPT);
}

int main(void) {
    volatile double one = 1.0, three = 3.0, zero = 0.0, big = DBL_MAX, tiny = DBL_MIN, m1 = -1.0;
    int modes[] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};
    const char *names[] = {"nearest", "towardzero", "downward", "upward"};
    for (int i = 0; i < 4; i++) {
        fesetround(modes[i]);
        volatile double q = one / three, nq = -one / three;
        volatile float fq = (float)one / (float)three;
        volatile double s = 0.1 + 0.2;
        printf("%-10s get=%d 1/3=%016llx -1/3=%016llx f=%08x 0.1+0.2=%.17g rint(2.5)=%g rint(-2.5)=%g "
               "nearbyint(0.5)=%g lrint(-1.5)=%ld\n",
               names[i], fegetround() == modes[i], (unsigned long long)bits(q), (unsigned long long)bits(nq),
               fbits(fq), s, rint(2.5), rint(-2.5), nearbyint(0.5), lrint(-1.5));
        volatile double two = 2.0;
        volatile double sq = sqrt(two);
        volatile double fm = fma(one / three, three, -one);
        printf("%-10s sqrt2=%016llx fma=%.17g big*2=%g\n", names[i], (unsigned long long)bits(sq), fm, big * 2);
    }
    fesetround(FE_TONEAREST);
    feclearexcept(FE_ALL_EXCEPT);
    flags("clean");
    volatile double r = one / three;
    flags("1/3");
    r = one / zero;
    flags("1/0");
    r = zero / zero;
    flags("0/0");
    r = big * 2.0;
    flags("DBL_MAX*2");
    r = tiny / 3.0;
    flags("DBL_MIN/3");
    r = sqrt(m1);
    flags("sqrt(-1)");
    r = one + 1.0;
    flags("1+1");
    (void)r;
    volatile long conv = (long)(volatile double){1e30};
    (void)conv;
    flags("(long)1e30");
    feraiseexcept(FE_OVERFLOW | FE_INEXACT);
    flags("feraiseexcept(OF|NX)");
    fenv_t env;
    fegetenv(&env);
    fesetround(FE_UPWARD);
    fesetenv(&env);
    printf("fesetenv restores rounding: %d\n", fegetround() == FE_TONEAREST);

    double specials[] = {INFINITY, -INFINITY, NAN, -NAN, 0.0, -0.0, DBL_MIN, DBL_MIN / 2, 4.9406564584124654e-324,
                         -4.9406564584124654e-324, DBL_MAX, DBL_EPSILON};
    for (unsigned i = 0; i < sizeof specials / sizeof *specials; i++) {
        double d = specials[i];
        printf("%016llx %g %.17g %a isnan %d isinf %d fpclassify %d signbit %d\n", (unsigned long long)bits(d), d, d,
               d, isnan(d) != 0, isinf(d) != 0, fpclassify(d), signbit(d) != 0);
    }
    printf("subnormal float %.9g %a\n", FLT_MIN / 4, FLT_MIN / 4);
    printf("fmin(0,-0) sign %d fmin(-0,0) sign %d fmax(0,-0) sign %d fmax(-0,0) sign %d\n", signbit(fmin(0.0, -0.0)) != 0,
           signbit(fmin(-0.0, 0.0)) != 0, signbit(fmax(0.0, -0.0)) != 0, signbit(fmax(-0.0, 0.0)) != 0);
    printf("fmin(nan,1)=%g fmax(1,nan)=%g fmin(nan,nan) isnan %d\n", fmin(NAN, 1.0), fmax(1.0, NAN),
           isnan(fmin(NAN, NAN)) != 0);
    printf("fminf(-0,0) sign %d fmaxf(-0,0) sign %d\n", signbit(fminf(-0.0f, 0.0f)) != 0,
           signbit(fmaxf(-0.0f, 0.0f)) != 0);

    // Saturating conversions: fcvt clamps and raises invalid.
    double cv[] = {1e30, -1e30, NAN, INFINITY, -INFINITY, 2147483647.5, -2147483648.5, 4294967295.7, -0.9, -1.0,
                   9.3e18, 1.8446744073709552e19, 2.5, -2.5};
    for (unsigned i = 0; i < sizeof cv / sizeof *cv; i++) {
        double d = cv[i];
        int64_t l;
        uint64_t lu;
        int32_t w;
        uint32_t wu;
        feclearexcept(FE_ALL_EXCEPT);
        __asm__ volatile("fcvt.l.d %0, %1, rtz" : "=r"(l) : "f"(d));
        __asm__ volatile("fcvt.lu.d %0, %1, rtz" : "=r"(lu) : "f"(d));
        __asm__ volatile("fcvt.w.d %0, %1, rtz" : "=r"(w) : "f"(d));
        __asm__ volatile("fcvt.wu.d %0, %1, rtz" : "=r"(wu) : "f"(d));
        int fl = fetestexcept(FE_ALL_EXCEPT);
        printf("fcvt %-24.17g l=%lld lu=%llu w=%d wu=%u invalid=%d inexact=%d\n", d, (long long)l,
               (unsigned long long)lu, w, wu, !!(fl & FE_INVALID), !!(fl & FE_INEXACT));
    }
    printf("nan payload: %016llx\n", (unsigned long long)bits(from_bits(0x7ff0000000000001ULL) + 1.0));
    printf("float overflow to inf: %g, double to float: %a\n", (float)(volatile double){1e300},
           (float)(volatile double){1.0000000596046448});
    return 0;
}
