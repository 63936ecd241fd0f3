// x[col[0..4)] as one 128-bit (float) or 256-bit (double) vector from scalar loads: the
// pieces of the AVX files' gather policies for SparseDotFn (sparse_row_body.h). On the
// AMD EPYC development machine the hardware gathers (vgatherdps) ran the batch-1
// sparse GEMV 1.6x slower than these loads; the column indices come from one or two
// 64-bit words split by shifts, which leaves the load ports to x. Included by
// sparse_kernels_avx2.cpp and sparse_kernels_avx512.cpp under their target pragma.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace dsdk {
namespace cpu {
namespace {

struct Columns4 {
  uint32_t c0, c1, c2, c3;
};

inline Columns4 columns4(const uint16_t* col) {
  uint64_t w;
  std::memcpy(&w, col, sizeof w);
  return {uint32_t(w & 0xffff), uint32_t((w >> 16) & 0xffff), uint32_t((w >> 32) & 0xffff),
          uint32_t(w >> 48)};
}

inline Columns4 columns4(const uint32_t* col) {
  uint64_t a, b;
  std::memcpy(&a, col, sizeof a);
  std::memcpy(&b, col + 2, sizeof b);
  return {uint32_t(a), uint32_t(a >> 32), uint32_t(b), uint32_t(b >> 32)};
}

template <typename I>
__m128 quad(const float* x, const I* col) {
  const Columns4 c = columns4(col);
  return _mm_set_ps(x[c.c3], x[c.c2], x[c.c1], x[c.c0]);
}

template <typename I>
__m256d quad(const double* x, const I* col) {
  const Columns4 c = columns4(col);
  return _mm256_set_pd(x[c.c3], x[c.c2], x[c.c1], x[c.c0]);
}

}  // namespace
}  // namespace cpu
}  // namespace dsdk
