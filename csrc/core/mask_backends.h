// What every magnitude-mask backend implements. The C API layer (core/magnitude_mask.cpp)
// validates the arguments (mode, dtype, n, keep, threshold, workspace), then dispatches
// here; the kernels check the data (NaN) themselves, since that needs a pass over it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "dsdkern/dsdkern.h"

namespace dsdk {

// One dsdkMagnitudeMask call; w, workspace and mask live on the backend's device.
struct MagnitudeMaskArgs {
  dsdkMaskMode_t mode;
  dsdkDataType_t dtype;
  int64_t n;
  const void* w;
  int64_t keep;       // TOPK, in [0, n]
  double threshold;   // THRESHOLD, >= 0
  void* workspace;    // at least the backend's workspace size
  uint8_t* mask;
};

namespace cpu {
// FLOAT, DOUBLE; runs on num_threads OpenMP threads.
size_t magnitude_mask_workspace(dsdkMaskMode_t mode, int64_t n);
dsdkStatus_t magnitude_mask(const MagnitudeMaskArgs& a, int num_threads, std::string* msg);
}  // namespace cpu

namespace cuda {
// FLOAT, DOUBLE, HALF, BFLOAT16; runs on `stream` and synchronises it.
size_t magnitude_mask_workspace(dsdkMaskMode_t mode, dsdkDataType_t dtype, int64_t n);
dsdkStatus_t magnitude_mask(const MagnitudeMaskArgs& a, void* stream, std::string* msg);
}  // namespace cuda
}  // namespace dsdk
