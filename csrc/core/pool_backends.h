// What a max-pooling backend implements. The C API layer (core/pool.cpp) validates the
// descriptors and the output shape, then dispatches here.
#pragma once
#include <cstdint>

#include "dsdkern/dsdkern.h"

namespace dsdk {

// One 2-D pooling plane geometry: the input's and output's extents, the window and how
// it steps. Every value is already checked (output >= 1, pad <= window / 2).
struct PoolShape {
  int64_t h, w, out_h, out_w;
  int64_t win_h, win_w, pad_h, pad_w, stride_h, stride_w, dil_h, dil_w;
};

// One dsdkMaxPoolingForward call on n * c planes; strides in elements, data on the host.
struct MaxPoolArgs {
  dsdkDataType_t dtype;  // FLOAT or DOUBLE
  int64_t n, c;
  PoolShape s;
  const void* x;
  int64_t xs_n, xs_c, xs_h, xs_w;
  void* y;
  int64_t ys_n, ys_c, ys_h, ys_w;
};

namespace cpu {
// Runs on num_threads OpenMP threads; allocates one row buffer per thread.
dsdkStatus_t max_pool_forward(const MaxPoolArgs& a, int num_threads);
}  // namespace cpu
}  // namespace dsdk
