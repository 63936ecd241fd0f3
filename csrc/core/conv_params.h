// Plain parameter structs handed from the C API to the CPU and CUDA kernels.
// No descriptors, no torch: sizes, strides (in elements), pointers, scalars.
#pragma once
#include <cstdint>

#include "dsdkern/dsdkern.h"

namespace dsdk {

struct CsrView;
class EntryOffsets;

struct ConvShape {
  int n, c, h, w;  // input batch, channels, height, width
  int k, r, s;     // output channels and filter taps (the filter is k x c/groups x r x s)
  int groups;
  int pad_h, pad_w, stride_h, stride_w, dil_h, dil_w;
  int p, q;        // output height and width
  int c_per_group() const { return c / groups; }
  int k_per_group() const { return k / groups; }
  // Reduction length of one group's forward GEMM: c/groups * r * s.
  int64_t crs() const { return int64_t(c / groups) * r * s; }
};

struct Strides4 {
  int64_t n, c, h, w;
};

// y = alpha * conv(x, w ⊙ mask) + beta * y + bias[k]   (mask and bias may be null)
struct ConvFwdArgs {
  ConvShape sh;
  dsdkDataType_t dtype;
  const void* x; Strides4 xs;
  const void* w;  // packed KCRS
  const uint8_t* mask;
  void* y; Strides4 ys;
  double alpha, beta;
  // W ⊙ M already packed (dsdkSparseConvolutionForward): w and mask are then null.
  const CsrView* sparse = nullptr;
  // The packed filter's kept entry offsets (with sparse), for the CPU direct algorithm.
  EntryOffsets* offsets = nullptr;
  // k elements of dtype, added in each algorithm's store (null: none).
  const void* bias = nullptr;
};

// dx = alpha * conv_transpose(dy, w ⊙ mask) + beta * dx
struct ConvBwdDataArgs {
  ConvShape sh;
  dsdkDataType_t dtype;
  const void* w;
  const uint8_t* mask;
  const void* dy; Strides4 dys;
  void* dx; Strides4 dxs;
  double alpha, beta;
};

// dw = alpha * ((x ⋆ dy) ⊙ mask) + beta * dw   (dw packed KCRS, mask may be null)
struct ConvBwdFilterArgs {
  ConvShape sh;
  dsdkDataType_t dtype;
  const void* x; Strides4 xs;
  const void* dy; Strides4 dys;
  void* dw;
  const uint8_t* mask;
  double alpha, beta;
};

}  // namespace dsdk
