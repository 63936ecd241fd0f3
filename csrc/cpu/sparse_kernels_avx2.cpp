// AVX2+FMA build of the sparse row kernel (8 floats / 4 doubles a vector).
// Built as cpu/isa_build.h describes.
#include <cstdint>
#include <cstring>

#include "cpu/isa_build.h"
#include "cpu/sparse_kernels.h"

#if DSDK_X86_ISA
DSDK_ISA_BEGIN("avx2,fma")
#include "cpu/sparse_row_body.h"

namespace dsdk {
namespace cpu {
template <typename T>
const SparseKernels<T>* avx2_sparse_kernels() {
  static const SparseKernels<T> k = SparseRow<T, 32>::table("avx2");
  return &k;
}
}  // namespace cpu
}  // namespace dsdk
DSDK_ISA_END

#else
DSDK_ISA_NONE(SparseKernels, avx2_sparse_kernels)
#endif

DSDK_ISA_INSTANTIATE(SparseKernels, avx2_sparse_kernels)
