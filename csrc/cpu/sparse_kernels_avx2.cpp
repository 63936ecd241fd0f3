// AVX2+FMA build of the sparse row and dot kernels (8 floats / 4 doubles a vector).
// Built as cpu/isa_build.h describes.
#include <cstdint>
#include <cstring>

#include "cpu/isa_build.h"
#include "cpu/sparse_kernels.h"

#if DSDK_X86_ISA
#include <immintrin.h>

DSDK_ISA_BEGIN("avx2,fma")
#include "cpu/sparse_gather.h"
#include "cpu/sparse_row_body.h"

namespace dsdk {
namespace cpu {
namespace {
// x[col[0..L)] from quads, as in sparse_kernels_avx512.cpp.
template <typename T>
struct Gather256;
template <>
struct Gather256<float> {
  template <typename I>
  static __m256 gather(const float* x, const I* c) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(quad(x, c)), quad(x, c + 4), 1);
  }
};
template <>
struct Gather256<double> {
  template <typename I>
  static __m256d gather(const double* x, const I* c) {
    return quad(x, c);
  }
};
}  // namespace

template <typename T>
const SparseKernels<T>* avx2_sparse_kernels() {
  static const SparseKernels<T> k = SparseRow<T, 32, Gather256<T>>::table("avx2");
  return &k;
}
}  // namespace cpu
}  // namespace dsdk
DSDK_ISA_END

#else
DSDK_ISA_NONE(SparseKernels, avx2_sparse_kernels)
#endif

DSDK_ISA_INSTANTIATE(SparseKernels, avx2_sparse_kernels)
