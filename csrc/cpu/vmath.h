// Vectorisable exp and tanh (the SVM kernel rows spend most of their non-GEMM
// time here; std::exp per element is several times slower).
//
// exp by range reduction: x = k ln2 + r with |r| <= ln2/2, exp(x) = 2^k e^r,
// e^r from a Taylor polynomial (degree 7 for float, 12 for double) and 2^k
// built in the exponent bits. Rounding x/ln2 to k adds a magic number, so the
// scalar functions are free of calls and branches and loops over them
// vectorise. Accuracy: about 1e-7 relative for float, 4e-16 for double;
// arguments are clamped to [-87, 88] (float) and [-708, 709] (double), so the
// result never underflows to a denormal or overflows.
//
// DSDK_SIMD_CLONES on a function with such a loop builds AVX-512, AVX2 and
// baseline versions of it and picks one at load time (the library is compiled
// for baseline x86-64).
#pragma once
#include <cstdint>
#include <cstring>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define DSDK_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DSDK_SIMD_CLONES
#endif

namespace dsdk {
namespace cpu {

inline float exp_fast(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float k = (x * 1.44269504088896341f + magic) - magic;
  float r = x - k * 0.693359375f;
  r = r - k * -2.12194440e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (int32_t(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline double exp_fast(double x) {
  x = x < -708.0 ? -708.0 : (x > 709.0 ? 709.0 : x);
  const double magic = 6755399441055744.0;  // 1.5 * 2^52
  const double t = x * 1.4426950408889634074 + magic;
  const double k = t - magic;
  double r = x - k * 6.93147180369123816490e-01;
  r = r - k * 1.90821492927058770002e-10;
  double p = 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // The low bits of t hold k (two's complement within the magic's mantissa),
  // so 2^k is built with integer ops only (no double -> int64 conversion,
  // which AVX2 lacks).
  int64_t tb, mb;
  std::memcpy(&tb, &t, sizeof tb);
  std::memcpy(&mb, &magic, sizeof mb);
  const int64_t bits = (tb - mb + 1023) << 52;
  double scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// tanh(x) = 1 - 2 / (exp(2x) + 1); near 0 that keeps absolute (not relative)
// accuracy, which is what a kernel value needs.
template <typename T>
inline T tanh_fast(T x) {
  return T(1) - T(2) / (exp_fast(T(2) * x) + T(1));
}

// sum_i x[i] * y[i] and acc[i] += a * x[i], with x in the input precision and
// y, acc in double (the SPSVM solver's passes over its kernel columns).
double dot_mixed(const float* x, const double* y, int64_t n);
double dot_mixed(const double* x, const double* y, int64_t n);
void axpy_mixed(double a, const float* x, double* acc, int64_t n);
void axpy_mixed(double a, const double* x, double* acc, int64_t n);
// *sa = sum_i a[i] x[i] and *sb = sum_i b[i] x[i]^2 in one pass.
void weighted_sums(const float* x, const double* a, const double* b, int64_t n, double* sa,
                   double* sb);
void weighted_sums(const double* x, const double* a, const double* b, int64_t n, double* sa,
                   double* sb);

// x[i] = exp(x[i]) / tanh(x[i]) for i < n.
void vexp(float* x, int64_t n);
void vexp(double* x, int64_t n);
void vtanh(float* x, int64_t n);
void vtanh(double* x, int64_t n);

}  // namespace cpu
}  // namespace dsdk
