// Winograd F(2×2, 3×3) transforms (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016) for 3×3 stride-1 padding-1 convolutions, and their adjoints for the two
// gradients. See ckernels.h for the layouts; the products between the transforms are sgemm calls.
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
//   Aᵀ = [1 1 1 0; 0 1 −1 −1];  Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A.
// The tile transforms run on 16 images at once (a vector lane per image): each image block's
// planes are first transposed (16 × 16 blocks in registers) into a zero-bordered [rows][cols][16]
// buffer, and results transposed back the same way.
#include "ckernels.h"
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX512 __attribute__((target("avx512f,avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

typedef float v16 __attribute__((vector_size(64), aligned(4)));
#define LD(p) (*(const v16 *)(p))
#define ST(p, v) (*(v16 *)(p) = (v))

static int tiles(int n) { return (n + 1) / 2; }

// The weight transforms run 16 kernels at once, each 3×3 (or 4×4) kernel first copied into a
// lane of a [9][16] (or [16][16]) block; the tail of fewer than 16 goes through the same block.
INLINE void weight_body(const float *w, float *u, int o, int c) {
    const long oc = (long)o * c;
    for (long k0 = 0; k0 < oc; k0 += 16) {
        const int n = oc - k0 < 16 ? (int)(oc - k0) : 16;
        float blk[9][16] = {{0}};
#pragma clang loop vectorize(disable)
        for (int l = 0; l < n; l++)
            for (int j = 0; j < 9; j++) blk[j][l] = w[(k0 + l) * 9 + j];
        v16 g[9], t[4][3], out[16];
        for (int j = 0; j < 9; j++) g[j] = LD(blk[j]);
        for (int j = 0; j < 3; j++) {   // G · g
            t[0][j] = g[j];
            t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
            t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
            t[3][j] = g[6 + j];
        }
        for (int r = 0; r < 4; r++) {   // (G · g) · Gᵀ
            out[4 * r + 0] = t[r][0];
            out[4 * r + 1] = 0.5f * (t[r][0] + t[r][1] + t[r][2]);
            out[4 * r + 2] = 0.5f * (t[r][0] - t[r][1] + t[r][2]);
            out[4 * r + 3] = t[r][2];
        }
        for (int x = 0; x < 16; x++) {
            if (n == 16) ST(u + x * oc + k0, out[x]);
            else for (int l = 0; l < n; l++) u[x * oc + k0 + l] = out[x][l];
        }
    }
}

INLINE void weight_adjoint_body(const float *du, float *dw, int o, int c) {
    const long oc = (long)o * c;
    for (long k0 = 0; k0 < oc; k0 += 16) {
        const int n = oc - k0 < 16 ? (int)(oc - k0) : 16;
        v16 d[4][4], t[3][4];
        for (int x = 0; x < 16; x++) {
            if (n == 16) d[x / 4][x % 4] = LD(du + x * oc + k0);
            else {
                float lane[16] = {0};
                for (int l = 0; l < n; l++) lane[l] = du[x * oc + k0 + l];
                d[x / 4][x % 4] = LD(lane);
            }
        }
        for (int j = 0; j < 4; j++) {   // Gᵀ · dU
            t[0][j] = d[0][j] + 0.5f * (d[1][j] + d[2][j]);
            t[1][j] = 0.5f * (d[1][j] - d[2][j]);
            t[2][j] = 0.5f * (d[1][j] + d[2][j]) + d[3][j];
        }
        float blk[9][16];
        for (int r = 0; r < 3; r++) {   // (Gᵀ · dU) · G
            ST(blk[3 * r + 0], t[r][0] + 0.5f * (t[r][1] + t[r][2]));
            ST(blk[3 * r + 1], 0.5f * (t[r][1] - t[r][2]));
            ST(blk[3 * r + 2], 0.5f * (t[r][1] + t[r][2]) + t[r][3]);
        }
#pragma clang loop vectorize(disable)
        for (int l = 0; l < n; l++)
            for (int j = 0; j < 9; j++) dw[(k0 + l) * 9 + j] = blk[j][l];
    }
}

long lc_wino_scratch(int h, int w) { return (2L * tiles(h) + 2) * (2L * tiles(w) + 2) * 16 + (long)h * w; }

#define STAGE(b, lo0, lo1, lo2, lo3, lo4, lo5, lo6, lo7, lo8, lo9, lo10, lo11, lo12, lo13, lo14, lo15, \
              hi0, hi1, hi2, hi3, hi4, hi5, hi6, hi7, hi8, hi9, hi10, hi11, hi12, hi13, hi14, hi15)    \
    for (int i = 0; i < 16; i++) {                                                                     \
        if (i & b) continue;                                                                           \
        v16 lo = __builtin_shufflevector(r[i], r[i + b], lo0, lo1, lo2, lo3, lo4, lo5, lo6, lo7, lo8,  \
                                         lo9, lo10, lo11, lo12, lo13, lo14, lo15);                     \
        v16 hi = __builtin_shufflevector(r[i], r[i + b], hi0, hi1, hi2, hi3, hi4, hi5, hi6, hi7, hi8,  \
                                         hi9, hi10, hi11, hi12, hi13, hi14, hi15);                     \
        r[i] = lo; r[i + b] = hi;                                                                      \
    }

// r[l][k] → r[k][l]: the off-diagonal blocks of 8, then 4, 2 and 1 swapped.
INLINE void transpose16(v16 r[16]) {
    STAGE(8, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23,
             8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31)
    STAGE(4, 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27,
             4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31)
    STAGE(2, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29,
             2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31)
    STAGE(1, 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30,
             1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31)
}

// Images 0 … n − 1 (n ≤ 16) of x [·][C][H][W], channel ci, into the lanes of buf [·][cols][16] at
// row/column offset `off` (lanes from n on get `zeros`, H·W zero floats); other positions untouched.
INLINE void gather(const float *x, int n, int c, int ci, int h, int w, float *buf, int cols, int off, const float *zeros) {
    const float *pl[16];
    for (int l = 0; l < 16; l++) pl[l] = l < n ? x + ((long)l * c + ci) * h * w : zeros;
    const int hw = h * w;
    int p = 0;
    for (; p + 16 <= hw; p += 16) {
        v16 r[16];
        for (int l = 0; l < 16; l++) r[l] = LD(pl[l] + p);
        transpose16(r);
        for (int k = 0; k < 16; k++) {
            int y = (p + k) / w, xx = (p + k) % w;
            ST(buf + ((y + off) * cols + xx + off) * 16, r[k]);
        }
    }
    for (; p < hw; p++) {
        float *dst = buf + ((p / w + off) * cols + p % w + off) * 16;
        for (int l = 0; l < 16; l++) dst[l] = pl[l][p];
    }
}

// The inverse: lanes 0 … n − 1 of buf [·][cols][16] (from row/column `off`) into the images' planes.
INLINE void scatter(const float *buf, int cols, int off, float *x, int n, int c, int ci, int h, int w) {
    float *pl[16];
    for (int l = 0; l < 16; l++) pl[l] = x + ((long)(l < n ? l : 0) * c + ci) * h * w;
    const int hw = h * w;
    int p = 0;
    for (; p + 16 <= hw; p += 16) {
        v16 r[16];
        for (int k = 0; k < 16; k++) {
            int y = (p + k) / w, xx = (p + k) % w;
            r[k] = LD(buf + ((y + off) * cols + xx + off) * 16);
        }
        transpose16(r);
        for (int l = 0; l < n; l++) ST(pl[l] + p, r[l]);
    }
    for (; p < hw; p++) {
        const float *src = buf + ((p / w + off) * cols + p % w + off) * 16;
        for (int l = 0; l < n; l++) pl[l][p] = src[l];
    }
}

// V[ξ][ci][tile·gp + lane] = Bᵀ d B, d the tile's 4×4 patch of the zero-bordered planes in buf.
INLINE void input_tiles(const float *buf, int pw, int th, int tw, float *v, long xi, long gp) {
    for (int i = 0; i < th; i++)
        for (int j = 0; j < tw; j++) {
            v16 d[4][4], t[4][4];
            for (int r = 0; r < 4; r++)
                for (int k = 0; k < 4; k++) d[r][k] = LD(buf + ((2 * i + r) * pw + 2 * j + k) * 16);
            for (int k = 0; k < 4; k++) {
                t[0][k] = d[0][k] - d[2][k];
                t[1][k] = d[1][k] + d[2][k];
                t[2][k] = d[2][k] - d[1][k];
                t[3][k] = d[1][k] - d[3][k];
            }
            float *out = v + (long)(i * tw + j) * gp;
            for (int r = 0; r < 4; r++) {
                ST(out + (4 * r + 0) * xi, t[r][0] - t[r][2]);
                ST(out + (4 * r + 1) * xi, t[r][1] + t[r][2]);
                ST(out + (4 * r + 2) * xi, t[r][2] - t[r][1]);
                ST(out + (4 * r + 3) * xi, t[r][1] - t[r][3]);
            }
        }
}

INLINE void input_body(const float *x, float *v, long ldv, int n, int c, int h, int w, float *buf) {
    const int th = tiles(h), tw = tiles(w), ph = 2 * th + 2, pw = 2 * tw + 2;
    const long gp = ldv / ((long)th * tw), xi = (long)c * ldv;
    float *zeros = buf + (long)ph * pw * 16;
    memset(buf, 0, sizeof(float) * ((long)ph * pw * 16 + h * w));   // the borders stay zero
    for (int ci = 0; ci < c; ci++)
        for (int b = 0; b * 16 < n; b++) {
            int lanes = n - b * 16 < 16 ? n - b * 16 : 16;
            gather(x + (long)b * 16 * c * h * w, lanes, c, ci, h, w, buf, pw, 1, zeros);
            input_tiles(buf, pw, th, tw, v + (long)ci * ldv + b * 16, xi, gp);
        }
}

INLINE void input_adjoint_body(const float *dv, long ldv, float *dx, int n, int c, int h, int w, float *buf) {
    const int th = tiles(h), tw = tiles(w), ph = 2 * th + 2, pw = 2 * tw + 2;
    const long gp = ldv / ((long)th * tw), xi = (long)c * ldv;
    for (int ci = 0; ci < c; ci++)
        for (int b = 0; b * 16 < n; b++) {
            int lanes = n - b * 16 < 16 ? n - b * 16 : 16;
            memset(buf, 0, sizeof(float) * ph * pw * 16);
            const float *vc = dv + (long)ci * ldv + b * 16;
            for (int i = 0; i < th; i++)
                for (int j = 0; j < tw; j++) {
                    const float *in = vc + (long)(i * tw + j) * gp;
                    v16 d[4][4], t[4][4];
                    for (int x = 0; x < 16; x++) d[x / 4][x % 4] = LD(in + x * xi);
                    for (int k = 0; k < 4; k++) {   // B · dV
                        t[0][k] = d[0][k];
                        t[1][k] = d[1][k] - d[2][k] + d[3][k];
                        t[2][k] = d[1][k] + d[2][k] - d[0][k];
                        t[3][k] = -d[3][k];
                    }
                    for (int r = 0; r < 4; r++) {   // (B · dV) · Bᵀ, added onto the patch
                        float *a = buf + ((2 * i + r) * pw + 2 * j) * 16;
                        ST(a, LD(a) + t[r][0]);
                        ST(a + 16, LD(a + 16) + t[r][1] - t[r][2] + t[r][3]);
                        ST(a + 32, LD(a + 32) + t[r][1] + t[r][2] - t[r][0]);
                        ST(a + 48, LD(a + 48) - t[r][3]);
                    }
                }
            scatter(buf, pw, 1, dx + (long)b * 16 * c * h * w, lanes, c, ci, h, w);
        }
}

INLINE void output_body(const float *m, long ldm, float *y, int n, int o, int h, int w, float *buf) {
    const int th = tiles(h), tw = tiles(w), pw = 2 * tw;
    const long gp = ldm / ((long)th * tw), xi = (long)o * ldm;
    for (int oi = 0; oi < o; oi++)
        for (int b = 0; b * 16 < n; b++) {
            int lanes = n - b * 16 < 16 ? n - b * 16 : 16;
            const float *mo = m + (long)oi * ldm + b * 16;
            for (int i = 0; i < th; i++)
                for (int j = 0; j < tw; j++) {
                    const float *in = mo + (long)(i * tw + j) * gp;
                    v16 d[4][4], t[2][4];
                    for (int x = 0; x < 16; x++) d[x / 4][x % 4] = LD(in + x * xi);
                    for (int k = 0; k < 4; k++) {
                        t[0][k] = d[0][k] + d[1][k] + d[2][k];
                        t[1][k] = d[1][k] - d[2][k] - d[3][k];
                    }
                    for (int r = 0; r < 2; r++) {
                        float *a = buf + ((2 * i + r) * pw + 2 * j) * 16;
                        ST(a, t[r][0] + t[r][1] + t[r][2]);
                        ST(a + 16, t[r][1] - t[r][2] - t[r][3]);
                    }
                }
            scatter(buf, pw, 0, y + (long)b * 16 * o * h * w, lanes, o, oi, h, w);
        }
}

INLINE void output_adjoint_body(const float *dy, float *dm, long ldm, int n, int o, int h, int w, float *buf) {
    const int th = tiles(h), tw = tiles(w), pw = 2 * tw;
    const long gp = ldm / ((long)th * tw), xi = (long)o * ldm;
    float *zeros = buf + (long)(2 * th + 2) * (2 * tw + 2) * 16;
    memset(buf, 0, sizeof(float) * ((long)(2 * th + 2) * (2 * tw + 2) * 16 + h * w));   // odd sizes: the last row/column stay zero
    for (int oi = 0; oi < o; oi++)
        for (int b = 0; b * 16 < n; b++) {
            int lanes = n - b * 16 < 16 ? n - b * 16 : 16;
            gather(dy + (long)b * 16 * o * h * w, lanes, o, oi, h, w, buf, pw, 0, zeros);
            float *mo = dm + (long)oi * ldm + b * 16;
            for (int i = 0; i < th; i++)
                for (int j = 0; j < tw; j++) {
                    v16 e[2][2], t[4][2];
                    for (int r = 0; r < 2; r++)
                        for (int k = 0; k < 2; k++) e[r][k] = LD(buf + ((2 * i + r) * pw + 2 * j + k) * 16);
                    for (int k = 0; k < 2; k++) {   // A · dY
                        t[0][k] = e[0][k];
                        t[1][k] = e[0][k] + e[1][k];
                        t[2][k] = e[0][k] - e[1][k];
                        t[3][k] = -e[1][k];
                    }
                    float *out = mo + (long)(i * tw + j) * gp;
                    for (int r = 0; r < 4; r++) {   // (A · dY) · Aᵀ
                        ST(out + (4 * r + 0) * xi, t[r][0]);
                        ST(out + (4 * r + 1) * xi, t[r][0] + t[r][1]);
                        ST(out + (4 * r + 2) * xi, t[r][0] - t[r][1]);
                        ST(out + (4 * r + 3) * xi, -t[r][1]);
                    }
                }
        }
}

// Each transform compiled for AVX-512 and for AVX2, chosen by the caller's `lanes` (8 or 4, as
// lc_conv3x3_lanes() gives).
#define DISPATCH(name, params, args)                                   \
    AVX512 static void name##_512 params { name##_body args; }          \
    AVX2 static void name##_256 params { name##_body args; }            \
    void lc_wino_##name(WITH_LANES params) {                            \
        if (lanes == 8) name##_512 args; else name##_256 args;          \
    }
#define WITH_LANES(...) __VA_ARGS__, int lanes

DISPATCH(weight, (const float *w, float *u, int o, int c), (w, u, o, c))
DISPATCH(weight_adjoint, (const float *du, float *dw, int o, int c), (du, dw, o, c))
DISPATCH(input, (const float *x, float *v, long ldv, int n, int c, int h, int w, float *buf), (x, v, ldv, n, c, h, w, buf))
DISPATCH(input_adjoint, (const float *dv, long ldv, float *dx, int n, int c, int h, int w, float *buf), (dv, ldv, dx, n, c, h, w, buf))
DISPATCH(output, (const float *m, long ldm, float *y, int n, int o, int h, int w, float *buf), (m, ldm, y, n, o, h, w, buf))
DISPATCH(output_adjoint, (const float *dy, float *dm, long ldm, int n, int o, int h, int w, float *buf), (dy, dm, ldm, n, o, h, w, buf))
