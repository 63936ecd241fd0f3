// Kernel blocks as GEMM + elementwise kernel function; svm_kernel_matrix entry point.
#include "cpu/svm_kernel.h"

#include <algorithm>
#include <cstring>

#include "core/svm_backends.h"
#include "cpu/gemm.h"
#include "cpu/vmath.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace dsdk {
namespace cpu {

namespace {

// out[i] = |X[i]|^2 for the n rows of the n x d row-major X.
template <typename T>
void squared_norms(const T* X, int64_t n, int64_t d, T* out, int num_threads) {
#pragma omp parallel for num_threads(threads_for(n * d, num_threads)) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const T* x = X + i * d;
    T s = T(0);
    for (int64_t c = 0; c < d; ++c) s += x[c] * x[c];
    out[i] = s;
  }
}

// Stage 1 and 2 of the kernel function fused in one pass, so the row is read
// and written once; the switch on the kind sits outside the loops.
template <typename T>
inline void finish_row(const KernelFn<T>& k, const T* dots, int64_t cols, T sq_row,
                       const T* sq_cols, T* out) {
  switch (k.kind) {
    case DSDK_SVM_KERNEL_LINEAR:
      for (int64_t c = 0; c < cols; ++c) out[c] = dots[c];
      break;
    case DSDK_SVM_KERNEL_RBF:
      for (int64_t c = 0; c < cols; ++c)
        out[c] = exp_fast(kernel_arg(k, dots[c], sq_row, sq_cols[c]));
      break;
    case DSDK_SVM_KERNEL_POLY:
      for (int64_t c = 0; c < cols; ++c) out[c] = kernel_value(k, dots[c], T(0), T(0));
      break;
    case DSDK_SVM_KERNEL_SIGMOID:
      for (int64_t c = 0; c < cols; ++c) out[c] = tanh_fast(kernel_arg(k, dots[c], T(0), T(0)));
      break;
    case DSDK_SVM_KERNEL_MAX_ENUM:  // rejected by the C API before any kernel runs
      break;
  }
}

// One row of kernel values from one row of dot products: out[c] = K(x, z_c)
// given dots[c] = <x, z_c>; out may alias dots. sq_row / sq_cols are the
// squared norms (read only for RBF).
DSDK_SIMD_CLONES void kernel_finish_row(const KernelFn<float>& k, const float* dots, int64_t cols,
                                        float sq_row, const float* sq_cols, float* out) {
  finish_row(k, dots, cols, sq_row, sq_cols, out);
}
DSDK_SIMD_CLONES void kernel_finish_row(const KernelFn<double>& k, const double* dots,
                                        int64_t cols, double sq_row, const double* sq_cols,
                                        double* out) {
  finish_row(k, dots, cols, sq_row, sq_cols, out);
}

}  // namespace

template <typename T>
KernelRows<T>::KernelRows(const KernelFn<T>& k, const T* X, int64_t n, int64_t d,
                          int num_threads)
    : k_(k), X_(X), n_(n), d_(d), threads_(num_threads), sq_(n) {
  squared_norms(X, n, d, sq_.data(), num_threads);
}

template <typename T>
void KernelRows<T>::gather(const int64_t* idx, int64_t m) {
  a_.resize(size_t(m * d_));
  a_sq_.resize(size_t(m));
  for (int64_t r = 0; r < m; ++r) {
    std::memcpy(&a_[size_t(r * d_)], X_ + idx[r] * d_, size_t(d_) * sizeof(T));
    a_sq_[size_t(r)] = sq_[size_t(idx[r])];
  }
}

template <typename T>
void KernelRows<T>::block(const int64_t* idx, int64_t m, T* out) {
  if (m <= 0) return;
  gather(idx, m);
  const int nt = threads_for(m * m * d_, threads_);
  gemm<T>(false, true, m, m, d_, T(1), a_.data(), d_, a_.data(), d_, T(0), out, m, nt);
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t r = 0; r < m; ++r)
    kernel_finish_row(k_, out + r * m, m, a_sq_[size_t(r)], a_sq_.data(), out + r * m);
}

template <typename T>
void KernelRows<T>::compute(const int64_t* idx, int64_t m, T* const* dst) {
  if (m <= 0) return;
  gather(idx, m);
  rows_of_gathered(m, dst);
}

template <typename T>
void KernelRows<T>::compute_points(const T* A, int64_t m, T* const* dst) {
  if (m <= 0) return;
  a_.assign(A, A + m * d_);
  a_sq_.resize(size_t(m));
  squared_norms(A, m, d_, a_sq_.data(), 1);
  rows_of_gathered(m, dst);
}

template <typename T>
void KernelRows<T>::rows_of_gathered(int64_t m, T* const* dst) {
  // Column tiles of about 1 MiB of dot products per thread (stays in L2 between
  // the GEMM and the kernel function), a multiple of 16 columns.
  int64_t tile = (int64_t(1) << 20) / (int64_t(sizeof(T)) * m);
  tile = std::max<int64_t>(64, std::min<int64_t>(tile / 16 * 16, n_));
  const int64_t ntiles = (n_ + tile - 1) / tile;
  const int nt = int(std::min<int64_t>(threads_for(m * n_ * d_, threads_), ntiles));
  staging_.resize(size_t(nt) * size_t(m * tile));
#pragma omp parallel num_threads(nt)
  {
#if defined(_OPENMP)
    T* st = staging_.data() + size_t(omp_get_thread_num()) * size_t(m * tile);
#else
    T* st = staging_.data();
#endif
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < ntiles; ++t) {
      const int64_t c0 = t * tile, nc = std::min(tile, n_ - c0);
      gemm<T>(false, true, m, nc, d_, T(1), a_.data(), d_, X_ + c0 * d_, d_, T(0), st, nc, 1);
      for (int64_t r = 0; r < m; ++r)
        kernel_finish_row(k_, st + r * nc, nc, a_sq_[size_t(r)], sq_.data() + c0, dst[r] + c0);
    }
  }
}

template <typename T>
dsdkStatus_t svm_kernel_matrix(const SVMParams& p, int64_t n, int64_t m, int64_t d, const T* X,
                               const T* Z, T* K, int num_threads, std::string*) {
  const KernelFn<T> k = make_kernel_fn<T>(p);
  std::vector<T> sqx, sqz;
  if (kernel_needs_norms(k)) {
    sqx.resize(size_t(n));
    sqz.resize(size_t(m));
    squared_norms(X, n, d, sqx.data(), num_threads);
    squared_norms(Z, m, d, sqz.data(), num_threads);
  }
  // 2-D tiles written straight into K; each thread runs whole tiles.
  const int64_t tr = 64, tc = 1024;
  const int64_t nr = (n + tr - 1) / tr, nc = (m + tc - 1) / tc;
#pragma omp parallel for num_threads(threads_for(n * m * d, num_threads)) schedule(dynamic, 1)
  for (int64_t t = 0; t < nr * nc; ++t) {
    const int64_t r0 = (t / nc) * tr, c0 = (t % nc) * tc;
    const int64_t rows = std::min(tr, n - r0), cols = std::min(tc, m - c0);
    T* out = K + r0 * m + c0;
    gemm<T>(false, true, rows, cols, d, T(1), X + r0 * d, d, Z + c0 * d, d, T(0), out, m, 1);
    for (int64_t r = 0; r < rows; ++r)
      kernel_finish_row(k, out + r * m, cols, sqx.empty() ? T(0) : sqx[size_t(r0 + r)],
                        sqz.empty() ? nullptr : sqz.data() + c0, out + r * m);
  }
  return DSDK_STATUS_SUCCESS;
}

std::vector<float> rounded_to_float(const double* X, int64_t count, int num_threads) {
  std::vector<float> out(static_cast<size_t>(count));
#pragma omp parallel for num_threads(threads_for(count, num_threads)) schedule(static)
  for (int64_t i = 0; i < count; ++i) out[size_t(i)] = float(X[i]);
  return out;
}

#define DSDK_INSTANTIATE(T)                                                                    \
  template class KernelRows<T>;                                                                \
  template dsdkStatus_t svm_kernel_matrix<T>(const SVMParams&, int64_t, int64_t, int64_t,      \
                                             const T*, const T*, T*, int, std::string*);
DSDK_INSTANTIATE(float)
DSDK_INSTANTIATE(double)
#undef DSDK_INSTANTIATE

}  // namespace cpu
}  // namespace dsdk
