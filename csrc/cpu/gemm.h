// Plain dense GEMM on the CPU, for callers whose operands are ordinary
// row-major matrices (the SVM solvers' kernel rows, Newton systems).
#pragma once
#include <cstdint>

namespace dsdk {
namespace cpu {

// C = alpha * op(A) * op(B) + beta * C, all row-major, op(A) is M x K, op(B) is K x N.
// op(A)[m, k] = transA ? A[k * lda + m] : A[m * lda + k]; likewise B.
// beta == 0 never reads C. Runs on num_threads OpenMP threads. T = float or double.
template <typename T>
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc, int num_threads);

}  // namespace cpu
}  // namespace dsdk
