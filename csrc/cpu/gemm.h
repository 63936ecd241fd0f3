// Dense and masked GEMM on the CPU, for callers whose operands are ordinary row-major
// matrices (the SVM solvers' kernel rows and Newton systems, dsdkMaskedGemm).
#pragma once
#include <cstddef>
#include <cstdint>

namespace dsdk {
namespace cpu {

// C = alpha * op(A) * op(B) + beta * C, all row-major, op(A) is M x K, op(B) is K x N.
// op(A)[m, k] = transA ? A[k * lda + m] : A[m * lda + k]; likewise B.
// beta == 0 never reads C. Runs on num_threads OpenMP threads. T = float or double.
// Allocates its packing buffers.
template <typename T>
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc, int num_threads);

// Workspace bytes gemm_masked needs for an M x N x K product on num_threads threads with
// the kernels now in use (microkernel<T>()).
template <typename T>
size_t gemm_masked_workspace(int64_t M, int64_t N, int64_t K, int num_threads);

// C = alpha * (op(A) * op(B ⊙ maskB)) ⊙ maskC + beta * C, as gemm above; maskB (uint8,
// laid out like B with ldb) is applied while B is packed, maskC (laid out like C with
// ldc) in the tile update, where a zero byte leaves beta * C. Either mask may be null.
// `workspace` holds gemm_masked_workspace(M, N, K, num_threads) bytes; nothing is allocated.
template <typename T>
void gemm_masked(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                 int64_t lda, const T* B, int64_t ldb, const uint8_t* maskB, T beta, T* C,
                 int64_t ldc, const uint8_t* maskC, void* workspace, int num_threads);

}  // namespace cpu
}  // namespace dsdk
