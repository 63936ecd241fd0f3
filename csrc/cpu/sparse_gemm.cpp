// Sparse × dense GEMM for linear layers: Y = alpha * X · (W ⊙ M)^T + beta * Y with W ⊙ M
// in CSR (one row per output feature).
//
// One input row (m = 1) is a gather: each output feature is a dot product of its CSR
// row with x, which stays in L1 (the dot kernel of cpu/sparse_kernels.h). A batch is
// transposed once into panels of up to kPanel rows, X^T[k][0..panel), so that a CSR row times a panel is the sparse row
// kernel (cpu/sparse_kernels.h) with the panel's lanes in registers; W streams from
// memory once per panel.
#include <algorithm>
#include <climits>
#include <iterator>

#include <omp.h>

#include "core/context.h"
#include "core/sparse_backends.h"
#include "cpu/sparse_kernels.h"
#include "cpu/threads.h"

namespace dsdk {
namespace cpu {
namespace {


// Panel width in rows of X: a multiple of every ISA's lane count, at most four
// AVX-512 vectors, so that a panel of X^T stays in L2 for long rows.
int64_t panel_of(int64_t m, size_t elem) {
  const int64_t lmax = int64_t(64 / elem);
  return std::min((m + lmax - 1) / lmax * lmax, 4 * lmax);
}

struct Layout {
  int64_t panel, panels;
  size_t tab, xt, total;
};

Layout layout(const CsrView& w, int64_t m) {
  Layout l{};
  if (m <= 1) return l;
  const size_t elem = dtype_size(w.dtype);
  l.panel = panel_of(m, elem);
  l.panels = (m + l.panel - 1) / l.panel;
  l.tab = line_up(size_t(w.cols) * sizeof(int32_t));
  l.xt = line_up(size_t(l.panels * l.panel * w.cols) * elem);
  l.total = kLine + l.tab + l.xt;
  return l;
}

template <typename T>
T finish(T acc, T alpha, T beta, const T* y) {
  return beta == T(0) ? alpha * acc : alpha * acc + beta * *y;
}

// The first row of thread t's share when `threads` split the rows evenly by entries: a
// matrix with uneven rows would otherwise leave one core idle while the other streams.
int64_t first_row(const CsrView& w, int t, int threads) {
  const int64_t target = w.nnz / threads * t + w.nnz % threads * t / threads;
  return std::lower_bound(w.row_ptr, w.row_ptr + w.rows, target) - w.row_ptr;
}

template <typename T, typename I>
void gemv(const SparseGemmArgs& a, int nt) {
  const CsrView& w = *a.w;
  const SparseDotFn<T, I> dot = dot_fn(sparse_kernels<T>(), I());
  const T* x = static_cast<const T*>(a.x);
  const T* val = static_cast<const T*>(w.val);
  const I* col = static_cast<const I*>(w.col);
  T* y = static_cast<T*>(a.y);
  const T alpha = T(a.alpha), beta = T(a.beta);
  const int threads = threads_for(w.nnz, nt);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
    const int64_t end = t + 1 == team ? w.rows : first_row(w, t + 1, team);
    for (int64_t n = t == 0 ? 0 : first_row(w, t, team); n < end; ++n) {
      const int64_t e = w.row_ptr[n];
      y[n] = finish(dot(x, val + e, col + e, w.row_ptr[n + 1] - e), alpha, beta, y + n);
    }
  }
}

template <typename T, typename I>
void gemm(const SparseGemmArgs& a, char* ws, const Layout& l, int nt) {
  const CsrView& w = *a.w;
  const SparseKernels<T>& kern = sparse_kernels<T>();
  const SparseRowFn<T, I> row = row_fn(kern, I());
  const int lanes = kern.lanes;
  const T* x = static_cast<const T*>(a.x);
  const T* val = static_cast<const T*>(w.val);
  const I* col = static_cast<const I*>(w.col);
  T* y = static_cast<T*>(a.y);
  const T alpha = T(a.alpha), beta = T(a.beta);
  int32_t* tab = reinterpret_cast<int32_t*>(ws);
  T* xt = reinterpret_cast<T*>(ws + l.tab);
  const int64_t K = w.cols;
  for (int64_t k = 0; k < K; ++k) tab[k] = int32_t(k * l.panel);
  const int threads = threads_for(w.nnz * a.m, nt);

#pragma omp parallel num_threads(threads)
  {
#pragma omp for schedule(static)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t p = 0; p < l.panels; ++p) {
        T* d = xt + (p * K + k) * l.panel;
        for (int64_t i = 0; i < l.panel; ++i) {
          const int64_t r = p * l.panel + i;
          d[i] = r < a.m ? x[r * a.ldx + k] : T(0);
        }
      }
    alignas(64) T acc[kSparseMaxVectors * 64 / sizeof(T)];
#pragma omp for schedule(static) collapse(2)
    for (int64_t p = 0; p < l.panels; ++p)
      for (int64_t n = 0; n < w.rows; ++n) {
        const int64_t r0 = p * l.panel, rows = std::min(l.panel, a.m - r0);
        const int64_t e0 = w.row_ptr[n], nnz = w.row_ptr[n + 1] - e0;
        const T* base = xt + p * K * l.panel;
        for (int64_t v0 = 0; v0 * lanes < rows; v0 += kSparseMaxVectors) {
          const int64_t i0 = v0 * lanes, span = std::min<int64_t>(rows - i0, kSparseMaxVectors * lanes);
          std::fill(std::begin(acc), std::end(acc), T(0));
          row(base + i0, tab, val + e0, col + e0, nnz, int((span + lanes - 1) / lanes), acc);
          for (int64_t i = 0; i < span; ++i) {
            T* yp = y + (r0 + i0 + i) * a.ldy + n;
            *yp = finish(acc[i], alpha, beta, yp);
          }
        }
      }
  }
}

}  // namespace

size_t sparse_gemm_workspace(const CsrView& w, int64_t m) { return layout(w, m).total; }

bool sparse_gemm_fits(const CsrView& w, int64_t m, std::string* why) {
  if (m > 1 && w.cols * panel_of(m, sizeof(float)) > INT32_MAX) {
    if (why) *why = "cols x panel width exceeds 2^31 (32-bit offsets)";
    return false;
  }
  return true;
}

dsdkStatus_t sparse_gemm(const SparseGemmArgs& a, void* ws, size_t, int nt, std::string*) {
  const Layout l = layout(*a.w, a.m);
  char* base = line_up(ws);
  auto go = [&](auto z) {
    using T = decltype(z);
    if (a.m == 1) {
      if (a.w->col16()) gemv<T, uint16_t>(a, nt);
      else gemv<T, uint32_t>(a, nt);
    } else if (a.w->col16()) {
      gemm<T, uint16_t>(a, base, l, nt);
    } else {
      gemm<T, uint32_t>(a, base, l, nt);
    }
  };
  if (a.w->dtype == DSDK_DATA_DOUBLE) go(double());
  else go(float());
  return DSDK_STATUS_SUCCESS;
}

}  // namespace cpu
}  // namespace dsdk
