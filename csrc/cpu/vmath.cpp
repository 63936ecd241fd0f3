// Array forms of exp_fast / tanh_fast and mixed-precision dot / axpy, built
// for several instruction sets.
#include "cpu/vmath.h"

namespace dsdk {
namespace cpu {

DSDK_SIMD_CLONES void vexp(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = exp_fast(x[i]);
}
DSDK_SIMD_CLONES void vexp(double* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = exp_fast(x[i]);
}
DSDK_SIMD_CLONES void vtanh(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = tanh_fast(x[i]);
}
DSDK_SIMD_CLONES void vtanh(double* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = tanh_fast(x[i]);
}


// The simd reduction lets the compiler reorder the sum (it may not otherwise).
DSDK_SIMD_CLONES double dot_mixed(const float* x, const double* y, int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += double(x[i]) * y[i];
  return s;
}
DSDK_SIMD_CLONES double dot_mixed(const double* x, const double* y, int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}
DSDK_SIMD_CLONES void axpy_mixed(double a, const float* x, double* acc, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += a * double(x[i]);
}
DSDK_SIMD_CLONES void axpy_mixed(double a, const double* x, double* acc, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += a * x[i];
}

template <typename T>
inline void weighted_sums_impl(const T* x, const double* a, const double* b, int64_t n,
                               double* sa, double* sb) {
  double s1 = 0, s2 = 0;
#pragma omp simd reduction(+ : s1, s2)
  for (int64_t i = 0; i < n; ++i) {
    const double v = double(x[i]);
    s1 += a[i] * v;
    s2 += b[i] * v * v;
  }
  *sa = s1;
  *sb = s2;
}
DSDK_SIMD_CLONES void weighted_sums(const float* x, const double* a, const double* b, int64_t n,
                                    double* sa, double* sb) {
  weighted_sums_impl(x, a, b, n, sa, sb);
}
DSDK_SIMD_CLONES void weighted_sums(const double* x, const double* a, const double* b, int64_t n,
                                    double* sa, double* sb) {
  weighted_sums_impl(x, a, b, n, sa, sb);
}

}  // namespace cpu
}  // namespace dsdk
