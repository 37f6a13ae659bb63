// Double precision: a blocked matrix multiply C = A * B and a check of
// one row against a plain dot product.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1024;
    double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n),
           *c = calloc((size_t)n * n, sizeof(double));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            a[i * n + j] = (double)((i * 7 + j * 3) % 17) / 16.0 - 0.5;
            b[i * n + j] = (double)((i * 5 + j * 11) % 13) / 12.0 + 0.25;
        }
    enum { BS = 32 };
    for (int ii = 0; ii < n; ii += BS)
        for (int kk = 0; kk < n; kk += BS)
            for (int jj = 0; jj < n; jj += BS)
                for (int i = ii; i < ii + BS && i < n; i++)
                    for (int k = kk; k < kk + BS && k < n; k++) {
                        double aik = a[i * n + k];
                        for (int j = jj; j < jj + BS && j < n; j++) c[i * n + j] += aik * b[k * n + j];
                    }
    double trace = 0, total = 0;
    for (int i = 0; i < n; i++) {
        trace += c[i * n + i];
        for (int j = 0; j < n; j++) total += c[i * n + j] * ((i ^ j) & 3);
    }
    double row = 0;
    for (int j = 0; j < n; j++) {
        double d = 0;
        for (int k = 0; k < n; k++) d += a[(n / 3) * n + k] * b[k * n + j];
        row += d - c[(n / 3) * n + j];
    }
    printf("n %d trace %.10e weighted %.10e row-error %.3e\n", n, trace, total, row);
    return 0;
}
