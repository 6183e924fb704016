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

#endif
