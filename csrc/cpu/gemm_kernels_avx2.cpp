// AVX2+FMA microkernel (6 x 16 floats / 6 x 8 doubles: 12 ymm accumulators) for CPUs
// without AVX-512. Compiled for AVX2 by pragma; only reached after a CPUID check.
#include <cstdint>

#include "cpu/gemm_kernels.h"
#include "cpu/isa_build.h"

#if DSDK_X86_ISA
#include <immintrin.h>

DSDK_ISA_BEGIN("avx2,fma")

namespace dsdk {
namespace cpu {
namespace {

constexpr int kMr = 6;

template <typename T>
struct Vec;

template <>
struct Vec<float> {
  using R = __m256;
  static constexpr int L = 8;
  static R zero() { return _mm256_setzero_ps(); }
  static R set1(float x) { return _mm256_set1_ps(x); }
  static R load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, R v) { _mm256_storeu_ps(p, v); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static R mul(R a, R b) { return _mm256_mul_ps(a, b); }
  static R add(R a, R b) { return _mm256_add_ps(a, b); }
};

template <>
struct Vec<double> {
  using R = __m256d;
  static constexpr int L = 4;
  static R zero() { return _mm256_setzero_pd(); }
  static R set1(double x) { return _mm256_set1_pd(x); }
  static R load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, R v) { _mm256_storeu_pd(p, v); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
  static R mul(R a, R b) { return _mm256_mul_pd(a, b); }
  static R add(R a, R b) { return _mm256_add_pd(a, b); }
};

// kBias: o has a bias (a template argument, so that the update without one stays as
// lean as it was).
template <typename T, bool kBias>
void tile_b(int64_t kc, const T* a, const T* b, const TileOut<T>& o, int m, int n) {
  using V = Vec<T>;
  constexpr int L = V::L, NR = 2 * L;
  typename V::R acc[kMr][2];
#pragma GCC unroll 6
  for (int i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = V::zero();
  for (int64_t k = 0; k < kc; ++k) {
    const typename V::R b0 = V::load(b), b1 = V::load(b + L);
#pragma GCC unroll 6
    for (int i = 0; i < kMr; ++i) {
      const typename V::R ai = V::set1(a[i]);
      acc[i][0] = V::fma(ai, b0, acc[i][0]);
      acc[i][1] = V::fma(ai, b1, acc[i][1]);
    }
    a += kMr;
    b += NR;
  }
  if (!o.row_off && !o.col_off && !o.cmask && o.cs == 1 && n == NR) {
    const typename V::R va = V::set1(o.alpha), vb = V::set1(o.beta);
    for (int i = 0; i < m; ++i) {
      T* cr = o.c + i * o.rs;
      typename V::R x0 = V::mul(acc[i][0], va), x1 = V::mul(acc[i][1], va);
      if (kBias && o.row_bias) {
        const typename V::R bi = V::set1(o.row_bias[i]);
        x0 = V::add(x0, bi);
        x1 = V::add(x1, bi);
      }
      if (kBias && o.col_bias) {
        x0 = V::add(x0, V::load(o.col_bias));
        x1 = V::add(x1, V::load(o.col_bias + L));
      }
      if (o.beta != T(0)) {
        x0 = V::fma(vb, V::load(cr), x0);
        x1 = V::fma(vb, V::load(cr + L), x1);
      }
      V::store(cr, x0);
      V::store(cr + L, x1);
    }
    return;
  }
  T buf[kMr * NR];
  for (int i = 0; i < kMr; ++i) {
    V::store(buf + i * NR, acc[i][0]);
    V::store(buf + i * NR + L, acc[i][1]);
  }
  store_tile_scalar(buf, NR, o, m, n);
}

template <typename T>
void tile(int64_t kc, const T* a, const T* b, const TileOut<T>& o, int m, int n) {
  if (o.row_bias || o.col_bias) tile_b<T, true>(kc, a, b, o, m, n);
  else tile_b<T, false>(kc, a, b, o, m, n);
}

template <typename T>
void pack_im2col(const Im2colTile<T>& t, T* dst) {
  pack_im2col_generic(t, dst);
}

template <typename T>
const Microkernel<T> kAvx2{"avx2", kMr, 2 * Vec<T>::L, 256, 512, tile<T>, pack_im2col<T>,
                           pack_rows_generic<T>};

}  // namespace

template <typename T>
const Microkernel<T>* avx2_kernel() {
  return &kAvx2<T>;
}

}  // namespace cpu
}  // namespace dsdk

DSDK_ISA_END

#else
DSDK_ISA_NONE(Microkernel, avx2_kernel)
#endif

DSDK_ISA_INSTANTIATE(Microkernel, avx2_kernel)
