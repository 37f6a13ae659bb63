// libm: exact double results printed with %.17g.
//@ cflags: -lm
#include <math.h>
#include <stdio.h>

int main(void) {
    double xs[] = {0.0, -0.0, 0.5, 1.0, -1.0, 2.0, 3.141592653589793, 10.0, 1e-10, 123.456, -7.25, 1e10};
    for (unsigned i = 0; i < sizeof xs / sizeof *xs; i++) {
        double x = xs[i];
        printf("x=%.17g\n", x);
        printf("  sin %.17g cos %.17g tan %.17g\n", sin(x), cos(x), tan(x));
        printf("  exp %.17g expm1 %.17g exp2 %.17g\n", exp(x), expm1(x), exp2(x));
        printf("  log %.17g log2 %.17g log10 %.17g log1p %.17g\n", log(x), log2(x), log10(x), log1p(x));
        printf("  sqrt %.17g cbrt %.17g pow(x,1.5) %.17g pow(2,x) %.17g\n", sqrt(x), cbrt(x), pow(x, 1.5),
               pow(2.0, x));
        printf("  atan %.17g asin %.17g acos %.17g sinh %.17g tanh %.17g\n", atan(x), asin(x), acos(x), sinh(x),
               tanh(x));
        printf("  floor %.17g ceil %.17g round %.17g trunc %.17g rint %.17g\n", floor(x), ceil(x), round(x),
               trunc(x), rint(x));
        printf("  fabs %.17g atan2(x,3) %.17g hypot(x,4) %.17g fmod(x,0.75) %.17g\n", fabs(x), atan2(x, 3.0),
               hypot(x, 4.0), fmod(x, 0.75));
        int e;
        double m = frexp(x, &e);
        printf("  frexp %.17g %d ldexp %.17g modf ", m, e, ldexp(x, 5));
        double ip, fp = modf(x, &ip);
        printf("%.17g %.17g lgamma %.17g erf %.17g\n", fp, ip, lgamma(x), erf(x));
    }
    float f = 0.7f;
    printf("float: sinf %.9g expf %.9g logf %.9g powf %.9g sqrtf %.9g\n", sinf(f), expf(f), logf(f), powf(f, 2.5f),
           sqrtf(f));
    printf("fma %.17g remainder %.17g copysign %.17g nextafter %.17g\n", fma(0.1, 10.0, -1.0),
           remainder(10.0, 3.0), copysign(3.0, -0.0), nextafter(1.0, 2.0));
    printf("lround %ld llrint %lld ilogb %d logb %.17g scalbn %.17g\n", lround(-2.5), llrint(2.5), ilogb(1000.0),
           logb(1000.0), scalbn(1.0, -1074));
    double s = 0;
    for (int i = 1; i < 100000; i++) s += sin(i) * log(i) / sqrt(i);
    printf("series %.17g\n", s);
    return 0;
}
