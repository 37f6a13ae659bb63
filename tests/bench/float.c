// Floating point: n-body steps (double), a Mandelbrot count and a float
// matrix multiply.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define NB 5
static double px[NB], py[NB], pz[NB], vx[NB], vy[NB], vz[NB], mass[NB];

static void step(double dt) {
    for (int i = 0; i < NB; i++)
        for (int j = i + 1; j < NB; j++) {
            double dx = px[i] - px[j], dy = py[i] - py[j], dz = pz[i] - pz[j];
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * sqrt(d2));
            vx[i] -= dx * mass[j] * mag; vy[i] -= dy * mass[j] * mag; vz[i] -= dz * mass[j] * mag;
            vx[j] += dx * mass[i] * mag; vy[j] += dy * mass[i] * mag; vz[j] += dz * mass[i] * mag;
        }
    for (int i = 0; i < NB; i++) { px[i] += dt * vx[i]; py[i] += dt * vy[i]; pz[i] += dt * vz[i]; }
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 6000000;
    for (int i = 0; i < NB; i++) {
        px[i] = i * 1.1; py[i] = i * 0.7 - 1; pz[i] = i * 0.3; vx[i] = 0.01 * i; vy[i] = -0.02 * i; vz[i] = 0.005;
        mass[i] = 1.0 + i * 0.5;
    }
    for (long k = 0; k < n; k++) step(0.001);
    int inside = 0;
    for (int y = 0; y < 300; y++)
        for (int x = 0; x < 300; x++) {
            double cr = -2.0 + x * 3.0 / 300, ci = -1.5 + y * 3.0 / 300, zr = 0, zi = 0;
            int it = 0;
            while (it < 200 && zr * zr + zi * zi < 4) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                it++;
            }
            inside += it == 200;
        }
    enum { M = 120 };
    static float A[M][M], B[M][M], C[M][M];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) { A[i][j] = (i + j) * 0.01f; B[i][j] = (i - j) * 0.02f; }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            float s = 0;
            for (int k = 0; k < M; k++) s += A[i][k] * B[k][j];
            C[i][j] = s;
        }
    printf("%.9f %.9f %d %.6f\n", px[0], vy[3], inside, C[17][42]);
    return 0;
}
