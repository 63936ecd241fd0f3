// AVX2 build of the max-pooling plane kernel (8 floats / 4 doubles a vector).
// Built as cpu/isa_build.h describes: the body's headers first, outside the ISA region.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "cpu/isa_build.h"
#include "cpu/max_pool_kernels.h"

#if DSDK_X86_ISA
DSDK_ISA_BEGIN("avx2")
#include "cpu/max_pool_body.h"

namespace dsdk {
namespace cpu {
template <typename T>
const MaxPoolKernels<T>* avx2_max_pool_kernels() {
  static const MaxPoolKernels<T> k = max_pool_table<T>("avx2");
  return &k;
}
}  // namespace cpu
}  // namespace dsdk
DSDK_ISA_END

#else
DSDK_ISA_NONE(MaxPoolKernels, avx2_max_pool_kernels)
#endif

DSDK_ISA_INSTANTIATE(MaxPoolKernels, avx2_max_pool_kernels)
