// Blocked Cholesky; the trailing update is dsdk::cpu::gemm, so it runs at GEMM speed.
#include "cpu/cholesky.h"

#include <algorithm>
#include <cmath>

#include "cpu/gemm.h"
#include "cpu/threads.h"
#include "cpu/vmath.h"

namespace dsdk {
namespace cpu {
namespace {

constexpr int64_t kBlock = 96;
// Rows of the trailing update per GEMM: larger than kBlock so that the GEMMs
// are few and efficient, at the price of also updating the upper triangle of
// each diagonal chunk (scratch, never read).
constexpr int64_t kTrailRows = 4 * kBlock;

// Unblocked factor of the nb x nb diagonal block at A (left-looking, rows).
bool factor_block(double* A, int64_t nb, int64_t lda) {
  for (int64_t j = 0; j < nb; ++j) {
    double* rj = A + j * lda;
    const double s = rj[j] - dot_mixed(rj, rj, j);
    if (!(s > 0.0)) return false;
    const double ljj = std::sqrt(s);
    rj[j] = ljj;
    for (int64_t i = j + 1; i < nb; ++i) {
      double* ri = A + i * lda;
      ri[j] = (ri[j] - dot_mixed(ri, rj, j)) / ljj;
    }
  }
  return true;
}

}  // namespace

bool cholesky_factor(double* A, int64_t n, int64_t lda, int num_threads) {
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
    const int64_t nb = std::min(kBlock, n - j0);
    double* D = A + j0 * lda + j0;
    if (!factor_block(D, nb, lda)) return false;
    const int64_t below = n - j0 - nb;
    if (below == 0) break;
    // Panel: L21 = A21 L11^{-T}, row by row (rows are independent).
    double* P = A + (j0 + nb) * lda + j0;
#pragma omp parallel for num_threads(threads_for(below * nb * nb, num_threads)) schedule(static)
    for (int64_t i = 0; i < below; ++i) {
      double* r = P + i * lda;
      for (int64_t j = 0; j < nb; ++j) {
        const double* lj = D + j * lda;
        r[j] = (r[j] - dot_mixed(r, lj, j)) / lj[j];
      }
    }
    // Trailing lower part, by row chunks: A[chunk, j0+nb .. chunk end] -= L21_chunk L21^T.
    for (int64_t i0 = 0; i0 < below; i0 += kTrailRows) {
      const int64_t rows = std::min(kTrailRows, below - i0);
      const int nt = threads_for(rows * (i0 + rows) * nb, num_threads);
      gemm<double>(false, true, rows, i0 + rows, nb, -1.0, P + i0 * lda, lda, P, lda, 1.0,
                   A + (j0 + nb + i0) * lda + (j0 + nb), lda, nt);
    }
  }
  return true;
}

bool cholesky_border(double* A, int64_t n0, int64_t n1, int64_t lda, int num_threads) {
  const int64_t k = n1 - n0;
  if (k <= 0) return true;
  double* P = A + n0 * lda;  // the new rows, k x n0: P <- P L^{-T}
  for (int64_t j0 = 0; j0 < n0; j0 += kBlock) {
    const int64_t nb = std::min(kBlock, n0 - j0);
    if (j0 > 0)
      gemm<double>(false, true, k, nb, j0, -1.0, P, lda, A + j0 * lda, lda, 1.0, P + j0, lda,
                   threads_for(k * nb * j0, num_threads));
    const double* D = A + j0 * lda + j0;
#pragma omp parallel for num_threads(threads_for(k * nb * nb, num_threads)) schedule(static)
    for (int64_t i = 0; i < k; ++i) {
      double* r = P + i * lda + j0;
      for (int64_t j = 0; j < nb; ++j) {
        const double* lj = D + j * lda;
        r[j] = (r[j] - dot_mixed(r, lj, j)) / lj[j];
      }
    }
  }
  double* T = A + n0 * lda + n0;  // Schur complement A22 - P P^T, then its factor
  if (n0 > 0)
    gemm<double>(false, true, k, k, n0, -1.0, P, lda, P, lda, 1.0, T, lda,
                 threads_for(k * k * n0, num_threads));
  return cholesky_factor(T, k, lda, num_threads);
}

void cholesky_solve(const double* L, int64_t n, int64_t lda, double* b) {
  for (int64_t i = 0; i < n; ++i) {
    const double* r = L + i * lda;
    b[i] = (b[i] - dot_mixed(r, b, i)) / r[i];
  }
  // L^T x = y, walking L by rows (row i of L is column i of L^T).
  for (int64_t i = n - 1; i >= 0; --i) {
    const double* r = L + i * lda;
    const double xi = b[i] / r[i];
    b[i] = xi;
    axpy_mixed(-xi, r, b, i);
  }
}

}  // namespace cpu
}  // namespace dsdk
