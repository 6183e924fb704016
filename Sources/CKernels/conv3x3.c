// Direct 3×3 stride-1 padding-1 convolution (see ckernels.h for the layout). Each kernel keeps a
// block of output channels × pixels in registers and sweeps input channels and taps, so nothing is
// copied but the zero-bordered planes. Compiled for AVX2/AVX-512 by function attributes; callers
// ask lc_conv3x3_lanes() first.
#include "ckernels.h"
#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX512 __attribute__((target("avx512f,avx2,fma")))

int lc_conv3x3_lanes(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 8;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 4;
    return 0;
}

static long round_up(long n, long m) { return (n + m - 1) / m * m; }

// Output pixels per tile of the forward kernels (forward8: 3 × 16, forward4: 3 × 8).
static int tile(int lanes) { return lanes == 8 ? 48 : 24; }

long lc_conv3x3_rows(int h, int w, int lanes) { return round_up((long)h * (w + 2), tile(lanes)); }

long lc_conv3x3_plane(int h, int w, int lanes) {
    return round_up(lc_conv3x3_rows(h, w, lanes) + 2 * (w + 2) + 18, 16);
}

void lc_conv3x3_pack(const float *w, float *packed, int oout, int cin, int lanes, int flip) {
    int opad = (int)round_up(oout, lanes);
    for (int o = 0; o < opad; o++)
        for (int c = 0; c < cin; c++)
            for (int t = 0; t < 9; t++) {
                float v = 0;
                if (o < oout) v = flip ? w[((long)c * oout + o) * 9 + 8 - t] : w[((long)o * cin + c) * 9 + t];
                packed[(((long)(o / lanes) * cin + c) * 9 + t) * lanes + o % lanes] = v;
            }
}

void lc_conv3x3_pad(const float *x, float *xp, long ps, int c, int h, int w) {
    long wp = w + 2;
    for (int ci = 0; ci < c; ci++)
        for (int y = 0; y < h; y++)
            memcpy(xp + ci * ps + (y + 1) * wp + 1, x + ((long)ci * h + y) * w, sizeof(float) * w);
}

void lc_conv3x3_unpad(const float *out, long qpad, float *y, int o, int h, int w) {
    long wp = w + 2;
    for (int oi = 0; oi < o; oi++)
        for (int r = 0; r < h; r++)
            memcpy(y + ((long)oi * h + r) * w, out + oi * qpad + r * wp, sizeof(float) * w);
}

// 4 output channels × 24 pixels (12 accumulators of 8).
AVX2 static void forward4(const float *xp, long ps, const float *packed, float *out, long qpad,
                          int cin, int opad, int h, int w) {
    const long wp = w + 2, q_end = (long)h * wp;
    long offs[9];
    for (int t = 0; t < 9; t++) offs[t] = (t / 3) * wp + t % 3;
    for (long q0 = 0; q0 < q_end; q0 += 24) {
        for (int ob = 0; ob < opad / 4; ob++) {
            __m256 a[4][3];
            for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) a[i][j] = _mm256_setzero_ps();
            const float *wc = packed + (long)ob * cin * 36;
            for (int c = 0; c < cin; c++) {
                const float *xc = xp + c * ps + q0;
                for (int t = 0; t < 9; t++, wc += 4) {
                    const float *s = xc + offs[t];
                    __m256 x0 = _mm256_loadu_ps(s), x1 = _mm256_loadu_ps(s + 8), x2 = _mm256_loadu_ps(s + 16);
                    for (int i = 0; i < 4; i++) {
                        __m256 b = _mm256_broadcast_ss(wc + i);
                        a[i][0] = _mm256_fmadd_ps(b, x0, a[i][0]);
                        a[i][1] = _mm256_fmadd_ps(b, x1, a[i][1]);
                        a[i][2] = _mm256_fmadd_ps(b, x2, a[i][2]);
                    }
                }
            }
            for (int i = 0; i < 4; i++) {
                float *o = out + (long)(ob * 4 + i) * qpad + q0;
                _mm256_storeu_ps(o, a[i][0]); _mm256_storeu_ps(o + 8, a[i][1]); _mm256_storeu_ps(o + 16, a[i][2]);
            }
        }
    }
}

// 8 output channels × 48 pixels (24 accumulators of 16).
AVX512 static void forward8(const float *xp, long ps, const float *packed, float *out, long qpad,
                            int cin, int opad, int h, int w) {
    const long wp = w + 2, q_end = (long)h * wp;
    long offs[9];
    for (int t = 0; t < 9; t++) offs[t] = (t / 3) * wp + t % 3;
    for (long q0 = 0; q0 < q_end; q0 += 48) {
        for (int ob = 0; ob < opad / 8; ob++) {
            __m512 a[8][3];
            for (int i = 0; i < 8; i++) for (int j = 0; j < 3; j++) a[i][j] = _mm512_setzero_ps();
            const float *wc = packed + (long)ob * cin * 72;
            for (int c = 0; c < cin; c++) {
                const float *xc = xp + c * ps + q0;
                for (int t = 0; t < 9; t++, wc += 8) {
                    const float *s = xc + offs[t];
                    __m512 x0 = _mm512_loadu_ps(s), x1 = _mm512_loadu_ps(s + 16), x2 = _mm512_loadu_ps(s + 32);
                    for (int i = 0; i < 8; i++) {
                        __m512 b = _mm512_set1_ps(wc[i]);
                        a[i][0] = _mm512_fmadd_ps(b, x0, a[i][0]);
                        a[i][1] = _mm512_fmadd_ps(b, x1, a[i][1]);
                        a[i][2] = _mm512_fmadd_ps(b, x2, a[i][2]);
                    }
                }
            }
            for (int i = 0; i < 8; i++) {
                float *o = out + (long)(ob * 8 + i) * qpad + q0;
                _mm512_storeu_ps(o, a[i][0]); _mm512_storeu_ps(o + 16, a[i][1]); _mm512_storeu_ps(o + 32, a[i][2]);
            }
        }
    }
}

void lc_conv3x3_forward(const float *xp, long ps, const float *packed, float *out, long qpad,
                        int cin, int opad, int h, int w, int lanes) {
    if (lanes == 8) forward8(xp, ps, packed, out, qpad, cin, opad, h, w);
    else forward4(xp, ps, packed, out, qpad, cin, opad, h, w);
}

// 4 output channels × the 3 taps of one kernel row, reduced over the image's pixels 8 at a time.
AVX2 static void weight_grad4(const float *xp, const float *dyp, long ps, float *dw, int cin, int opad, int h, int w) {
    const long wp = w + 2, q8 = round_up((long)h * wp, 8);
    const float *dyq = dyp + wp + 1;
    for (int ob = 0; ob < opad / 4; ob++) {
        const float *d0 = dyq + (long)(ob * 4) * ps;
        for (int c = 0; c < cin; c++) {
            for (int ky = 0; ky < 3; ky++) {
                const float *xc = xp + c * ps + ky * wp;
                __m256 a[4][3];
                for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) a[i][j] = _mm256_setzero_ps();
                for (long q = 0; q < q8; q += 8) {
                    __m256 x0 = _mm256_loadu_ps(xc + q), x1 = _mm256_loadu_ps(xc + q + 1), x2 = _mm256_loadu_ps(xc + q + 2);
                    for (int i = 0; i < 4; i++) {
                        __m256 d = _mm256_loadu_ps(d0 + i * ps + q);
                        a[i][0] = _mm256_fmadd_ps(d, x0, a[i][0]);
                        a[i][1] = _mm256_fmadd_ps(d, x1, a[i][1]);
                        a[i][2] = _mm256_fmadd_ps(d, x2, a[i][2]);
                    }
                }
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 3; j++) {
                        __m128 s = _mm_add_ps(_mm256_castps256_ps128(a[i][j]), _mm256_extractf128_ps(a[i][j], 1));
                        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
                        s = _mm_add_ss(s, _mm_movehdup_ps(s));
                        dw[((long)(ob * 4 + i) * cin + c) * 9 + ky * 3 + j] += _mm_cvtss_f32(s);
                    }
            }
        }
    }
}

// 8 output channels × the 3 taps of one kernel row, 16 pixels at a time.
AVX512 static void weight_grad8(const float *xp, const float *dyp, long ps, float *dw, int cin, int opad, int h, int w) {
    const long wp = w + 2, q16 = round_up((long)h * wp, 16);
    const float *dyq = dyp + wp + 1;
    for (int ob = 0; ob < opad / 8; ob++) {
        const float *d0 = dyq + (long)(ob * 8) * ps;
        for (int c = 0; c < cin; c++) {
            for (int ky = 0; ky < 3; ky++) {
                const float *xc = xp + c * ps + ky * wp;
                __m512 a[8][3];
                for (int i = 0; i < 8; i++) for (int j = 0; j < 3; j++) a[i][j] = _mm512_setzero_ps();
                for (long q = 0; q < q16; q += 16) {
                    __m512 x0 = _mm512_loadu_ps(xc + q), x1 = _mm512_loadu_ps(xc + q + 1), x2 = _mm512_loadu_ps(xc + q + 2);
                    for (int i = 0; i < 8; i++) {
                        __m512 d = _mm512_loadu_ps(d0 + i * ps + q);
                        a[i][0] = _mm512_fmadd_ps(d, x0, a[i][0]);
                        a[i][1] = _mm512_fmadd_ps(d, x1, a[i][1]);
                        a[i][2] = _mm512_fmadd_ps(d, x2, a[i][2]);
                    }
                }
                for (int i = 0; i < 8; i++)
                    for (int j = 0; j < 3; j++)
                        dw[((long)(ob * 8 + i) * cin + c) * 9 + ky * 3 + j] += _mm512_reduce_add_ps(a[i][j]);
            }
        }
    }
}

void lc_conv3x3_weight_grad(const float *xp, const float *dyp, long ps, float *dw, int cin, int opad, int h, int w, int lanes) {
    if (lanes == 8) weight_grad8(xp, dyp, ps, dw, cin, opad, h, w);
    else weight_grad4(xp, dyp, ps, dw, cin, opad, h, w);
}
