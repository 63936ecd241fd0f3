// Index arithmetic of the implicit-GEMM view of a convolution, shared by the
// CPU kernels and their CUDA twins (so the CPU tests exercise it).
//
// Forward, per image and group g:   Y[m, pq] = sum_kk  A[m, kk] * B[kk, pq]
//   m in [0, k/groups), kk = (c', r', s') in [0, crs), pq = (p', q') output pixel,
//   A = (w ⊙ mask) of the group, B[kk, pq] = x[c, h_in, w_in] (0 outside the image).
// Backward data (gather form, no scatter races):
//   dX[c', hw] = sum_(m, r', s') W[m, c', r', s'] * dY[m, p', q'] where
//   h_in = p' * stride - pad + r' * dil, i.e. p' = (h_in + pad - r' * dil) / stride
//   when that divides exactly and lies in [0, p).
// Backward filter:  dW[m, kk] = sum_(image, pq) dY[m, pq] * B[kk, pq].
#pragma once
#include <cstdint>

#include "core/conv_params.h"
#include "core/hd.h"

namespace dsdk {

struct Tap {
  int c, r, s;  // channel within the group, filter row, filter column
};

DSDK_HD Tap split_crs(int64_t kk, int r, int s) {
  Tap t;
  t.s = int(kk % s);
  int64_t rest = kk / s;
  t.r = int(rest % r);
  t.c = int(rest / r);
  return t;
}

// split_crs for GPU inner loops, where 64-bit division is emulated and several times
// slower; the caller guarantees kk < 2^31.
DSDK_HD Tap split_crs32(int kk, int r, int s) {
  Tap t;
  t.s = kk % s;
  int rest = kk / s;
  t.r = rest % r;
  t.c = rest / r;
  return t;
}

// Input row/column that output position o reads through filter tap t.
DSDK_HD int input_coord(int o, int t, int stride, int pad, int dil) {
  return o * stride - pad + t * dil;
}

// Output row/column that input position i feeds through filter tap t, or -1.
DSDK_HD int output_coord(int i, int t, int stride, int pad, int dil, int out_size) {
  int num = i + pad - t * dil;
  if (num < 0 || num % stride != 0) return -1;
  int o = num / stride;
  return o < out_size ? o : -1;
}

DSDK_HD bool inside(int v, int size) { return unsigned(v) < unsigned(size); }

// Output extent of one spatial dimension (0 when the input is too small).
DSDK_HD int conv_out_size(int in, int pad, int filt, int stride, int dil) {
  // C division truncates toward zero: a span of -2 with stride 3 would give 1, not 0.
  int span = in + 2 * pad - dil * (filt - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

}  // namespace dsdk
