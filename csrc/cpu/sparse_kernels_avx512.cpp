// AVX-512 build of the sparse row and dot kernels (16 floats / 8 doubles a vector).
// Built as cpu/isa_build.h describes.
#include <cstdint>
#include <cstring>

#include "cpu/isa_build.h"
#include "cpu/sparse_kernels.h"

#if DSDK_X86_ISA
#include <immintrin.h>

DSDK_ISA_BEGIN("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "cpu/sparse_gather.h"
#include "cpu/sparse_row_body.h"
// GCC 12's 256-to-512-bit cast and insert intrinsics start from _mm512_undefined_*(),
// which trips these.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace dsdk {
namespace cpu {
namespace {
// x[col[0..L)] from four quads (ElementGather's interface).
template <typename T>
struct Gather512;
template <>
struct Gather512<float> {
  template <typename I>
  static __m512 gather(const float* x, const I* c) {
    const __m256 lo = _mm256_insertf128_ps(_mm256_castps128_ps256(quad(x, c)), quad(x, c + 4), 1);
    const __m256 hi =
        _mm256_insertf128_ps(_mm256_castps128_ps256(quad(x, c + 8)), quad(x, c + 12), 1);
    return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
  }
};
template <>
struct Gather512<double> {
  template <typename I>
  static __m512d gather(const double* x, const I* c) {
    return _mm512_insertf64x4(_mm512_castpd256_pd512(quad(x, c)), quad(x, c + 4), 1);
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
