// Winograd F(2×2, 3×3) transforms (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016) for 3×3 stride-1 padding-1 convolutions, and their adjoints for the two
// gradients. See ckernels.h for the layouts; the products between the transforms are sgemm calls.
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
//   Aᵀ = [1 1 1 0; 0 1 −1 −1];  Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A.
// The tile transforms run on 16 images at once (a vector lane per image): each image block's
// planes are first transposed into a zero-bordered [rows][cols][16] buffer.
#include "ckernels.h"
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX512 __attribute__((target("avx512f,avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

typedef float v16 __attribute__((vector_size(64), aligned(4)));
#define LD(p) (*(const v16 *)(p))
#define ST(p, v) (*(v16 *)(p) = (v))

static int tiles(int n) { return (n + 1) / 2; }

void lc_wino_weight(const float *w, float *u, int o, int c) {
    const long oc = (long)o * c;
    for (long k = 0; k < oc; k++) {
        const float *g = w + k * 9;
        float t[4][3];
        for (int j = 0; j < 3; j++) {
            t[0][j] = g[j];
            t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
            t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
            t[3][j] = g[6 + j];
        }
        for (int r = 0; r < 4; r++) {
            u[(4 * r + 0) * oc + k] = t[r][0];
            u[(4 * r + 1) * oc + k] = 0.5f * (t[r][0] + t[r][1] + t[r][2]);
            u[(4 * r + 2) * oc + k] = 0.5f * (t[r][0] - t[r][1] + t[r][2]);
            u[(4 * r + 3) * oc + k] = t[r][2];
        }
    }
}

void lc_wino_weight_adjoint(const float *du, float *dw, int o, int c) {
    const long oc = (long)o * c;
    for (long k = 0; k < oc; k++) {
        float d[4][4], t[3][4];
        for (int x = 0; x < 16; x++) d[x / 4][x % 4] = du[x * oc + k];
        for (int j = 0; j < 4; j++) {
            t[0][j] = d[0][j] + 0.5f * (d[1][j] + d[2][j]);
            t[1][j] = 0.5f * (d[1][j] - d[2][j]);
            t[2][j] = 0.5f * (d[1][j] + d[2][j]) + d[3][j];
        }
        float *g = dw + k * 9;
        for (int r = 0; r < 3; r++) {
            g[3 * r + 0] = t[r][0] + 0.5f * (t[r][1] + t[r][2]);
            g[3 * r + 1] = 0.5f * (t[r][1] - t[r][2]);
            g[3 * r + 2] = 0.5f * (t[r][1] + t[r][2]) + t[r][3];
        }
    }
}

long lc_wino_scratch(int h, int w) { return (2L * tiles(h) + 2) * (2L * tiles(w) + 2) * 16; }

// Images first … first + n (n ≤ 16) of x [·][C][H][W], channel ci, into lanes of buf [rows][cols][16]
// at row/column offset `off`, everything else zero.
INLINE void gather(const float *x, int n, int c, int ci, int h, int w, float *buf, int rows, int cols, int off) {
    memset(buf, 0, sizeof(float) * rows * cols * 16);
    for (int l = 0; l < n; l++) {
        const float *plane = x + ((long)l * c + ci) * h * w;
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++) buf[((y + off) * cols + xx + off) * 16 + l] = plane[y * w + xx];
    }
}

// The inverse: lanes of buf [rows][cols][16] (from row/column `off`) into the n images' planes.
INLINE void scatter(const float *buf, int rows, int cols, int off, float *x, int n, int c, int ci, int h, int w) {
    (void)rows;
    for (int l = 0; l < n; l++) {
        float *plane = x + ((long)l * c + ci) * h * w;
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++) plane[y * w + xx] = buf[((y + off) * cols + xx + off) * 16 + l];
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
    for (int ci = 0; ci < c; ci++)
        for (int b = 0; b * 16 < n; b++) {
            int lanes = n - b * 16 < 16 ? n - b * 16 : 16;
            gather(x + (long)b * 16 * c * h * w, lanes, c, ci, h, w, buf, ph, pw, 1);
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
            scatter(buf, ph, pw, 1, dx + (long)b * 16 * c * h * w, lanes, c, ci, h, w);
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
            scatter(buf, 2 * th, pw, 0, y + (long)b * 16 * o * h * w, lanes, o, oi, h, w);
        }
}

INLINE void output_adjoint_body(const float *dy, float *dm, long ldm, int n, int o, int h, int w, float *buf) {
    const int th = tiles(h), tw = tiles(w), pw = 2 * tw;
    const long gp = ldm / ((long)th * tw), xi = (long)o * ldm;
    for (int oi = 0; oi < o; oi++)
        for (int b = 0; b * 16 < n; b++) {
            int lanes = n - b * 16 < 16 ? n - b * 16 : 16;
            gather(dy + (long)b * 16 * o * h * w, lanes, o, oi, h, w, buf, 2 * th, pw, 0);
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

// Each transform compiled for AVX-512 and for AVX2, chosen at run time (the callers need one of
// them: lc_conv3x3_lanes() > 0).
#define DISPATCH(name, params, args)                                   \
    AVX512 static void name##_512 params { name##_body args; }          \
    AVX2 static void name##_256 params { name##_body args; }            \
    void lc_wino_##name params {                                        \
        if (lc_conv3x3_lanes() == 8) name##_512 args; else name##_256 args; \
    }

DISPATCH(input, (const float *x, float *v, long ldv, int n, int c, int h, int w, float *buf), (x, v, ldv, n, c, h, w, buf))
DISPATCH(input_adjoint, (const float *dv, long ldv, float *dx, int n, int c, int h, int w, float *buf), (dv, ldv, dx, n, c, h, w, buf))
DISPATCH(output, (const float *m, long ldm, float *y, int n, int o, int h, int w, float *buf), (m, ldm, y, n, o, h, w, buf))
DISPATCH(output_adjoint, (const float *dy, float *dm, long ldm, int n, int o, int h, int w, float *buf), (dy, dm, ldm, n, o, h, w, buf))
