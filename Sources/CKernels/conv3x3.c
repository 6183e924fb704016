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
    static int lanes = -1;   // the CPU does not change; racing first callers write the same value
    if (lanes < 0) {
        __builtin_cpu_init();
        lanes = __builtin_cpu_supports("avx512f") ? 8
              : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 4 : 0;
    }
    return lanes;
}

static long round_up(long n, long m) { return (n + m - 1) / m * m; }

// Output pixels per tile of the forward kernels (forward8: 3 × 16, forward4: 3 × 8).
static int tile(int lanes) { return lanes == 8 ? 48 : 24; }

long lc_conv3x3_rows(int h, int w, int lanes) { return round_up((long)h * (w + 2), tile(lanes)); }

long lc_conv3x3_plane(int h, int w, int lanes) {
    return round_up(lc_conv3x3_rows(h, w, lanes) + 2 * (w + 2) + 18, 16);
}

void lc_conv_taps_pack(const float *w, float *packed, int oout, int cin, int lanes, int transposed,
                       const int *taps, int ntaps) {
    int opad = (int)round_up(oout, lanes);
    for (int o = 0; o < opad; o++)
        for (int c = 0; c < cin; c++)
            for (int t = 0; t < ntaps; t++) {
                float v = 0;
                if (o < oout) v = transposed ? w[((long)c * oout + o) * 9 + taps[t]] : w[((long)o * cin + c) * 9 + taps[t]];
                packed[(((long)(o / lanes) * cin + c) * ntaps + t) * lanes + o % lanes] = v;
            }
}

void lc_conv3x3_pack(const float *w, float *packed, int oout, int cin, int lanes, int flip) {
    int taps[9];
    for (int t = 0; t < 9; t++) taps[t] = flip ? 8 - t : t;
    lc_conv_taps_pack(w, packed, oout, cin, lanes, flip, taps, 9);
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

// Both kernels below read a channel's input at `nt` taps: offs[t] floats from the output pixel's
// flat index q, within the channel's planes (channels `cs` apart). Stride 1 has one zero-bordered
// plane per channel and taps ky·Wp + kx; stride 2 has four phase planes per channel (see
// lc_conv3x3_phase) and each tap reads the plane of its phase at a shift of 0 or 1.

// 4 output channels × 24 pixels (12 accumulators of 8).
AVX2 static inline __attribute__((always_inline))
void forward4(const float *xp, long cs, const long *offs, int nt, const float *packed, float *out, long qpad,
              long q_end, int cin, int opad) {
    for (long q0 = 0; q0 < q_end; q0 += 24) {
        for (int ob = 0; ob < opad / 4; ob++) {
            __m256 a[4][3];
            for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) a[i][j] = _mm256_setzero_ps();
            const float *wc = packed + (long)ob * cin * nt * 4;
            for (int c = 0; c < cin; c++) {
                const float *xc = xp + c * cs + q0;
                for (int t = 0; t < nt; t++, wc += 4) {
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
AVX512 static inline __attribute__((always_inline))
void forward8(const float *xp, long cs, const long *offs, int nt, const float *packed, float *out, long qpad,
              long q_end, int cin, int opad) {
    for (long q0 = 0; q0 < q_end; q0 += 48) {
        for (int ob = 0; ob < opad / 8; ob++) {
            __m512 a[8][3];
            for (int i = 0; i < 8; i++) for (int j = 0; j < 3; j++) a[i][j] = _mm512_setzero_ps();
            const float *wc = packed + (long)ob * cin * nt * 8;
            for (int c = 0; c < cin; c++) {
                const float *xc = xp + c * cs + q0;
                for (int t = 0; t < nt; t++, wc += 8) {
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

// Nine taps (every 3×3 forward, and dx of stride 1) get a tap loop of known length.
AVX2 static void forward4_9(const float *xp, long cs, const long *offs, const float *packed, float *out, long qpad,
                            long q_end, int cin, int opad) { forward4(xp, cs, offs, 9, packed, out, qpad, q_end, cin, opad); }
AVX2 static void forward4_n(const float *xp, long cs, const long *offs, int nt, const float *packed, float *out, long qpad,
                            long q_end, int cin, int opad) { forward4(xp, cs, offs, nt, packed, out, qpad, q_end, cin, opad); }
AVX512 static void forward8_9(const float *xp, long cs, const long *offs, const float *packed, float *out, long qpad,
                              long q_end, int cin, int opad) { forward8(xp, cs, offs, 9, packed, out, qpad, q_end, cin, opad); }
AVX512 static void forward8_n(const float *xp, long cs, const long *offs, int nt, const float *packed, float *out, long qpad,
                              long q_end, int cin, int opad) { forward8(xp, cs, offs, nt, packed, out, qpad, q_end, cin, opad); }

void lc_conv_taps_forward(const float *xp, long cs, const long *offs, int ntaps, const float *packed, float *out,
                          long qpad, long q_end, int cin, int opad, int lanes) {
    if (lanes == 8) {
        if (ntaps == 9) forward8_9(xp, cs, offs, packed, out, qpad, q_end, cin, opad);
        else forward8_n(xp, cs, offs, ntaps, packed, out, qpad, q_end, cin, opad);
    } else {
        if (ntaps == 9) forward4_9(xp, cs, offs, packed, out, qpad, q_end, cin, opad);
        else forward4_n(xp, cs, offs, ntaps, packed, out, qpad, q_end, cin, opad);
    }
}

static void stride1_offsets(long wp, long offs[9]) {
    for (int t = 0; t < 9; t++) offs[t] = (t / 3) * wp + t % 3;
}

void lc_conv3x3_forward(const float *xp, long ps, const float *packed, float *out, long qpad,
                        int cin, int opad, int h, int w, int lanes) {
    long offs[9];
    stride1_offsets(w + 2, offs);
    lc_conv_taps_forward(xp, ps, offs, 9, packed, out, qpad, (long)h * (w + 2), cin, opad, lanes);
}

// 4 output channels × 3 taps, reduced over the image's pixels 8 at a time.
AVX2 static void weight_grad4(const float *xp, long cs, const long *offs, const float *dyq, long ps, float *dw,
                              int cin, int opad, long q_end) {
    const long q8 = round_up(q_end, 8);
    for (int ob = 0; ob < opad / 4; ob++) {
        const float *d0 = dyq + (long)(ob * 4) * ps;
        for (int c = 0; c < cin; c++) {
            for (int g = 0; g < 3; g++) {
                const float *xa = xp + c * cs + offs[3 * g], *xb = xp + c * cs + offs[3 * g + 1], *xc = xp + c * cs + offs[3 * g + 2];
                __m256 a[4][3];
                for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) a[i][j] = _mm256_setzero_ps();
                for (long q = 0; q < q8; q += 8) {
                    __m256 x0 = _mm256_loadu_ps(xa + q), x1 = _mm256_loadu_ps(xb + q), x2 = _mm256_loadu_ps(xc + q);
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
                        dw[((long)(ob * 4 + i) * cin + c) * 9 + 3 * g + j] += _mm_cvtss_f32(s);
                    }
            }
        }
    }
}

// 8 output channels × 3 taps, 16 pixels at a time.
AVX512 static void weight_grad8(const float *xp, long cs, const long *offs, const float *dyq, long ps, float *dw,
                                int cin, int opad, long q_end) {
    const long q16 = round_up(q_end, 16);
    for (int ob = 0; ob < opad / 8; ob++) {
        const float *d0 = dyq + (long)(ob * 8) * ps;
        for (int c = 0; c < cin; c++) {
            for (int g = 0; g < 3; g++) {
                const float *xa = xp + c * cs + offs[3 * g], *xb = xp + c * cs + offs[3 * g + 1], *xc = xp + c * cs + offs[3 * g + 2];
                __m512 a[8][3];
                for (int i = 0; i < 8; i++) for (int j = 0; j < 3; j++) a[i][j] = _mm512_setzero_ps();
                for (long q = 0; q < q16; q += 16) {
                    __m512 x0 = _mm512_loadu_ps(xa + q), x1 = _mm512_loadu_ps(xb + q), x2 = _mm512_loadu_ps(xc + q);
                    for (int i = 0; i < 8; i++) {
                        __m512 d = _mm512_loadu_ps(d0 + i * ps + q);
                        a[i][0] = _mm512_fmadd_ps(d, x0, a[i][0]);
                        a[i][1] = _mm512_fmadd_ps(d, x1, a[i][1]);
                        a[i][2] = _mm512_fmadd_ps(d, x2, a[i][2]);
                    }
                }
                for (int i = 0; i < 8; i++)
                    for (int j = 0; j < 3; j++)
                        dw[((long)(ob * 8 + i) * cin + c) * 9 + 3 * g + j] += _mm512_reduce_add_ps(a[i][j]);
            }
        }
    }
}

void lc_conv_taps_weight_grad(const float *xp, long cs, const long *offs, const float *dyq, long ps, float *dw,
                              int cin, int opad, long q_end, int lanes) {
    if (lanes == 8) weight_grad8(xp, cs, offs, dyq, ps, dw, cin, opad, q_end);
    else weight_grad4(xp, cs, offs, dyq, ps, dw, cin, opad, q_end);
}

void lc_conv3x3_weight_grad(const float *xp, const float *dyp, long ps, float *dw, int cin, int opad, int h, int w, int lanes) {
    long offs[9];
    stride1_offsets(w + 2, offs);
    lc_conv_taps_weight_grad(xp, ps, offs, dyp + (w + 2) + 1, ps, dw, cin, opad, (long)h * (w + 2), lanes);
}

void lc_conv3x3_phase(const float *x, float *planes, long pps, int c, int h, int w, int ho, int wo) {
    const long wp = wo + 2;
    for (int ci = 0; ci < c; ci++)
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++) {
                float *p = planes + ((long)ci * 4 + 2 * a + b) * pps;
                const float *xc = x + (long)ci * h * w;
                int v_lo = b == 0 ? 1 : 0, v_hi = (w - b) / 2 < wo ? (w - b) / 2 : wo;
                for (int u = 0; u <= ho; u++) {
                    int i = 2 * u + a - 1;
                    if (i < 0 || i >= h) continue;
                    const float *row = xc + (long)i * w;
                    for (int v = v_lo; v <= v_hi; v++) p[u * wp + v] = row[2 * v + b - 1];
                }
            }
}

void lc_conv3x3_unphase(const float *dp, long phase_stride, long qpad, float *dx, int c, int h, int w, int wo) {
    const long wp = wo + 2;
    for (int ci = 0; ci < c; ci++)
        for (int i = 0; i < h; i++) {
            const long a = (i + 1) & 1, row = (long)ci * qpad + ((i + 1) >> 1) * wp;
            const float *even = dp + (2 * a + 1) * phase_stride + row;   // j = 2m: phase b = 1, v = m
            const float *odd = dp + (2 * a) * phase_stride + row + 1;    // j = 2m + 1: phase b = 0, v = m + 1
            float *out = dx + ((long)ci * h + i) * w;
            int j = 0;
            for (; j + 1 < w; j += 2) { out[j] = even[j / 2]; out[j + 1] = odd[j / 2]; }
            if (j < w) out[j] = even[j / 2];
        }
}
