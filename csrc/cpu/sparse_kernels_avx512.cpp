// AVX-512 build of the sparse row kernel (16 floats / 8 doubles a vector).
// Built as cpu/isa_build.h describes.
#include <cstdint>
#include <cstring>

#include "cpu/isa_build.h"
#include "cpu/sparse_kernels.h"

#if DSDK_X86_ISA
DSDK_ISA_BEGIN("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "cpu/sparse_row_body.h"

namespace dsdk {
namespace cpu {
template <typename T>
const SparseKernels<T>* avx512_sparse_kernels() {
  static const SparseKernels<T> k = SparseRow<T, 64>::table("avx512");
  return &k;
}
}  // namespace cpu
}  // namespace dsdk
DSDK_ISA_END

#else
DSDK_ISA_NONE(SparseKernels, avx512_sparse_kernels)
#endif

DSDK_ISA_INSTANTIATE(SparseKernels, avx512_sparse_kernels)
