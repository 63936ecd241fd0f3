// AVX-512 build of the sparse row and dot kernels (16 floats / 8 doubles a vector).
// Built as cpu/isa_build.h describes.
#include <cstdint>
#include <cstring>

#include "cpu/isa_build.h"
#include "cpu/sparse_kernels.h"

#if DSDK_X86_ISA
#include <immintrin.h>

DSDK_ISA_BEGIN("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "cpu/sparse_row_body.h"
// GCC 12's gather and widening intrinsics start from _mm*_undefined_*(), which trips
// these.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace dsdk {
namespace cpu {
namespace {
// x[col[0..L)] by one gather instruction (ElementGather's interface). Column indices
// are below 2^31 (dsdkCreateSparseMatrix refuses wider matrices), so the gathers'
// signed 32-bit indices hold them.
template <typename T>
struct Gather512;
template <>
struct Gather512<float> {
  static __m512i index(const uint16_t* c) {
    return _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c)));
  }
  static __m512i index(const uint32_t* c) { return _mm512_loadu_si512(c); }
  template <typename I>
  static __m512 gather(const float* x, const I* c) {
    return _mm512_i32gather_ps(index(c), x, 4);
  }
};
template <>
struct Gather512<double> {
  static __m256i index(const uint16_t* c) {
    return _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c)));
  }
  static __m256i index(const uint32_t* c) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c));
  }
  template <typename I>
  static __m512d gather(const double* x, const I* c) {
    return _mm512_i32gather_pd(index(c), x, 8);
  }
};
}  // namespace

template <typename T>
const SparseKernels<T>* avx512_sparse_kernels() {
  static const SparseKernels<T> k = SparseRow<T, 64, Gather512<T>>::table("avx512");
  return &k;
}
}  // namespace cpu
}  // namespace dsdk
#pragma GCC diagnostic pop
DSDK_ISA_END

#else
DSDK_ISA_NONE(SparseKernels, avx512_sparse_kernels)
#endif

DSDK_ISA_INSTANTIATE(SparseKernels, avx512_sparse_kernels)
