// AVX2+FMA build of the sparse row and dot kernels (8 floats / 4 doubles a vector).
// Built as cpu/isa_build.h describes.
#include <cstdint>
#include <cstring>

#include "cpu/isa_build.h"
#include "cpu/sparse_kernels.h"

#if DSDK_X86_ISA
#include <immintrin.h>

DSDK_ISA_BEGIN("avx2,fma")
#include "cpu/sparse_row_body.h"
// GCC 12's gather and widening intrinsics start from _mm*_undefined_*(), which trips
// these.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace dsdk {
namespace cpu {
namespace {
// x[col[0..L)] by one gather instruction, as in sparse_kernels_avx512.cpp.
template <typename T>
struct Gather256;
template <>
struct Gather256<float> {
  static __m256i index(const uint16_t* c) {
    return _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c)));
  }
  static __m256i index(const uint32_t* c) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c));
  }
  template <typename I>
  static __m256 gather(const float* x, const I* c) {
    return _mm256_i32gather_ps(x, index(c), 4);
  }
};
template <>
struct Gather256<double> {
  static __m128i index(const uint16_t* c) {
    return _mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c)));
  }
  static __m128i index(const uint32_t* c) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(c));
  }
  template <typename I>
  static __m256d gather(const double* x, const I* c) {
    return _mm256_i32gather_pd(x, index(c), 8);
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
#pragma GCC diagnostic pop
DSDK_ISA_END

#else
DSDK_ISA_NONE(SparseKernels, avx2_sparse_kernels)
#endif

DSDK_ISA_INSTANTIATE(SparseKernels, avx2_sparse_kernels)
