// Blocks of SVM kernel values on the CPU: a GEMM of the points' coordinates
// (dsdk::cpu::gemm) followed by the kernel function, vectorised over rows.
// Used by the SMO and SPSVM solvers and by the kernel-matrix entry point.
#pragma once
#include <cstdint>
#include <vector>

#include "core/svm_kernel_fn.h"
#include "core/svm_params.h"
#include "cpu/threads.h"

namespace dsdk {
namespace cpu {

// A float copy of count doubles (double input that a solver trains on float
// kernel rows), converted on num_threads threads.
std::vector<float> rounded_to_float(const double* X, int64_t count, int num_threads);

template <typename T>
KernelFn<T> make_kernel_fn(const SVMParams& p) {
  return KernelFn<T>{p.kernel, T(p.gamma), T(p.coef0), p.degree};
}

// Computes whole kernel rows K(X[idx[r]], X[0..n)) of one data set into
// caller-chosen destinations, in column tiles that each thread takes whole
// (GEMM of the tile, then the kernel function while the tile is hot in cache).
// Holds the data set's squared norms and reusable scratch.
template <typename T>
class KernelRows {
 public:
  KernelRows(const KernelFn<T>& k, const T* X, int64_t n, int64_t d, int num_threads);
  // dst[r] receives the n values of row idx[r], for r < m.
  void compute(const int64_t* idx, int64_t m, T* const* dst);
  // dst[r] receives the n values K(A[r], X[0..n)) for the m x d points A
  // (points of another set, such as the full data of a subsample).
  void compute_points(const T* A, int64_t m, T* const* dst);
  // The m x m block out[u * m + v] = K(X[idx[u]], X[idx[v]]) by one GEMM:
  // cheaper than gathering it from m whole rows, which would stream them from memory.
  void block(const int64_t* idx, int64_t m, T* out);
  // K(X[i], X[i]).
  T self(int64_t i) const { return kernel_self(k_, sq_[i]); }

 private:
  KernelFn<T> k_;
  const T* X_;
  int64_t n_, d_;
  int threads_;
  // a_ = rows idx of X, a_sq_ = their squared norms.
  void gather(const int64_t* idx, int64_t m);
  // dst[r] = K(a_[r], X), r < m.
  void rows_of_gathered(int64_t m, T* const* dst);

  std::vector<T> sq_;       // |X[i]|^2
  std::vector<T> a_;        // gathered rows, m x d
  std::vector<T> a_sq_;     // their squared norms
  std::vector<T> staging_;  // per-thread tile of dot products
};

}  // namespace cpu
}  // namespace dsdk
