// Dense Cholesky factorisation and solves in double precision, for the SPSVM
// Newton systems (symmetric positive definite, a few hundred to a few thousand
// unknowns).
#pragma once
#include <cstdint>

namespace dsdk {
namespace cpu {

// In place A = L L^T for the n x n row-major A (leading dimension lda); reads
// and writes the lower triangle only (the strict upper triangle is left as
// scratch). Blocked right-looking: unblocked factor of a diagonal block,
// triangular solve of the panel below it, GEMM update of the trailing lower
// block rows. Returns false when a pivot is not positive (A not numerically
// positive definite); A is then garbage.
bool cholesky_factor(double* A, int64_t n, int64_t lda, int num_threads);

// Border update: rows 0 .. n0 - 1 of the n1 x n1 row-major A hold the factor
// L of its leading block already, rows n0 .. n1 - 1 hold A's (lower
// triangle); makes those rows L's too (the new rows solved against L by
// blocks, GEMM-rich, then the trailing Schur complement factored), in
// O(n0^2 (n1 - n0)) instead of O(n1^3). False as cholesky_factor.
bool cholesky_border(double* A, int64_t n0, int64_t n1, int64_t lda, int num_threads);

// Solves L L^T x = b in place (b: n values) with the factor from cholesky_factor.
void cholesky_solve(const double* L, int64_t n, int64_t lda, double* b);

}  // namespace cpu
}  // namespace dsdk
