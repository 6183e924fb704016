#ifndef LOSSCAPE_CKERNELS_H
#define LOSSCAPE_CKERNELS_H

// Direct 3×3, stride-1, padding-1 convolution kernels (Tensor's conv2d uses them for thin layers
// on wide planes, where im2col + sgemm spends more time copying and packing than multiplying).
//
// Layout: an image's C planes are zero-bordered and flat, `ps` floats apart: pixel (y, x) at
// (y + 1)·Wp + x + 1 with Wp = W + 2, zeros at the borders and up to `ps`. An output pixel (y, x)
// is q = y·Wp + x of a flat row; the two columns x = W, W + 1 of each row are computed and dropped.

/// The widest kernels this CPU runs: 8 (AVX-512F), 4 (AVX2 and FMA) or 0 (neither: use im2col).
int lc_conv3x3_lanes(void);
/// The forward kernel's output row length qpad for an H×W image: H·Wp rounded up to its tile.
long lc_conv3x3_rows(int h, int w, int lanes);
/// The floats a padded plane needs for an H×W image: ps (at least `lc_conv3x3_plane`).
long lc_conv3x3_plane(int h, int w, int lanes);

/// Packs w [Oout][Cin][3][3] (or, `flip` ≠ 0, the weight of the transposed convolution: w is
/// [Cin][Oout][3][3] and taps are reversed, which makes dx = conv(dY, w̃)) into [Opad/lanes][Cin][9][lanes],
/// zero for output channels ≥ Oout. Opad = Oout rounded up to `lanes`.
void lc_conv3x3_pack(const float *w, float *packed, int oout, int cin, int lanes, int flip);

/// Copies image [C][H][W] into the interiors of its padded planes (borders must already be zero).
void lc_conv3x3_pad(const float *x, float *xp, long ps, int c, int h, int w);

/// out[o][q] for o < Opad and q < tile-rounded H·Wp, rows `qpad` apart, from padded input planes.
void lc_conv3x3_forward(const float *xp, long ps, const float *packed, float *out, long qpad,
                        int cin, int opad, int h, int w, int lanes);

/// The valid pixels of out[o][q] (rows qpad apart) into y [O][H][W].
void lc_conv3x3_unpad(const float *out, long qpad, float *y, int o, int h, int w);

/// dw[o][c][3][3] += Σ_q dy[o][q] · xp[c][q + tap]: dy is the padded plane of the output gradient
/// (so dy + Wp + 1 is it at q with zeros in the dropped columns), o < opad (a multiple of `lanes`).
void lc_conv3x3_weight_grad(const float *xp, const float *dyp, long ps, float *dw, int cin, int opad, int h, int w, int lanes);

// The same kernels over any 3×3 tap pattern, for stride 2 as well. A tap t reads a channel's
// input at offs[t] floats from the output pixel's flat index q; channels are `cs` apart.

/// lc_conv3x3_pack over the taps `taps` (indices 0…8 into the 3×3 kernel) only: packed
/// [Opad/lanes][Cin][ntaps][lanes]; `transposed` ≠ 0 reads w as [Cin][Oout][3][3].
void lc_conv_taps_pack(const float *w, float *packed, int oout, int cin, int lanes, int transposed,
                       const int *taps, int ntaps);
/// out[o][q] = Σ_c Σ_t packed[o][c][t] · xp[c·cs + q + offs[t]] for q < q_end rounded up to the tile.
void lc_conv_taps_forward(const float *xp, long cs, const long *offs, int ntaps, const float *packed, float *out,
                          long qpad, long q_end, int cin, int opad, int lanes);
/// dw[o][c][t] += Σ_q dyq[o·ps + q] · xp[c·cs + q + offs[t]] over the 9 taps, q < q_end rounded up
/// to the vector width; dyq must be zero at the dropped columns and past q_end.
void lc_conv_taps_weight_grad(const float *xp, long cs, const long *offs, const float *dyq, long ps, float *dw,
                              int cin, int opad, long q_end, int lanes);

/// Stride 2: an image's channel ci becomes four phase planes at planes + (4·ci + 2a + b)·pps, each
/// Wo + 2 wide: plane (a, b) holds x[2u + a − 1][2v + b − 1] at u·(Wo + 2) + v for u ≤ Ho, v ≤ Wo,
/// so tap (ky, kx) of output pixel (y, x) is plane (ky mod 2, kx mod 2) at (y + ky/2, x + kx/2).
/// Only positions inside x are written; the planes must start zeroed.
void lc_conv3x3_phase(const float *x, float *planes, long pps, int c, int h, int w, int ho, int wo);
/// The inverse gather for dx: dx[ci][i][j] = dp[(2a + b)·phase_stride + ci·qpad + u·(Wo + 2) + v]
/// with (a, u) = ((i + 1) mod 2, (i + 1)/2) and (b, v) likewise from j.
void lc_conv3x3_unphase(const float *dp, long phase_stride, long qpad, float *dx, int c, int h, int w, int wo);

// Winograd F(2×2, 3×3) for 3×3 stride-1 padding-1 convolutions (winograd.c). An H×W image has
// tiles = ⌈H/2⌉·⌈W/2⌉ tiles of 2×2 output pixels, row-major. A group of n images is padded to gp,
// a multiple of 16, and has T = tiles·gp columns, image-minor: tile k of image b is column k·gp + b.
// Transformed tensors are [16][rows][T] (ξ = 4r + k of the 4×4 transform first): V[ξ][C][T] for the
// input, U[ξ][O][C] for the weight, M[ξ][O][T] for the output, so that M[ξ] = U[ξ]·V[ξ]. `buf` is
// scratch of lc_wino_scratch(H, W) floats. The transforms are compiled for AVX-512 and AVX2: `lanes` is
// 8 or 4, as lc_conv3x3_lanes() gives for this CPU.

/// U = G g Gᵀ for w [O][C][3][3].
void lc_wino_weight(const float *w, float *u, int o, int c, int lanes);
/// dw [O][C][3][3] = Gᵀ dU G (the adjoint of lc_wino_weight), written.
void lc_wino_weight_adjoint(const float *du, float *dw, int o, int c, int lanes);
/// Floats of scratch the tile transforms need for H×W images.
long lc_wino_scratch(int h, int w);
/// V[ξ][c][t] = (Bᵀ d B)[ξ] for the n images x [n][C][H][W], d the 4×4 patch of tile t's input (zero
/// outside the image; padded images are zero); ldv = T.
void lc_wino_input(const float *x, float *v, long ldv, int n, int c, int h, int w, float *buf, int lanes);
/// dx [n][C][H][W] = Σ over the tiles of B dV Bᵀ on their 4×4 patches (the adjoint of lc_wino_input), written.
void lc_wino_input_adjoint(const float *dv, long ldv, float *dx, int n, int c, int h, int w, float *buf, int lanes);
/// y [n][O][H][W] = Aᵀ m A for each tile (its pixels inside the image).
void lc_wino_output(const float *m, long ldm, float *y, int n, int o, int h, int w, float *buf, int lanes);
/// dM[ξ][o][t] = (A dY Aᵀ)[ξ] (the adjoint of lc_wino_output; dY is zero outside the image).
void lc_wino_output_adjoint(const float *dy, float *dm, long ldm, int n, int o, int h, int w, float *buf, int lanes);

/// Asks the caches for the `bytes` bytes at p (one prefetch per 64-byte line): for sweeps over
/// short planes far apart, which the hardware prefetchers pick up too late.
static inline void lc_prefetch(const void *p, long bytes) {
    for (long i = 0; i < bytes; i += 64) __builtin_prefetch((const char *)p + i, 0, 3);
}

#endif
