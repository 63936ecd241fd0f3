// Row-major GEMM on the packed engine: each thread takes a block of C (choose_split) and
// runs the BLIS loops on it: column tile (nc) > K block (kc, pack B, masked) > row block
// (mc, pack A) > micro-tiles (C masked in the tile update). A C of a few rows streams B
// instead (gemm_few_rows). Buffers come from the caller's workspace; plain gemm
// allocates one.
#include "cpu/gemm.h"

#include <algorithm>
#include <vector>

#include "cpu/gemm_blocking.h"
#include "cpu/gemm_kernels.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace dsdk {
namespace cpu {
namespace {

// Rows of A packed per block: an mc x kc block stays in L2 while B panels stream by.
constexpr int64_t kMcPanels = 32;

// op(X) is rows x cols; trans: op(X)[i, j] = X[j * ld + i], else X[i * ld + j].
// Packs op(X)[i0 .. i0 + rows, j0 .. j0 + cols) into panels of `width` rows,
// dst[(p * cols + j) * width + i], zero-padded; this is A's layout (rows = M) and, with
// the roles of the indices swapped, B's (rows = N of op(B)^T). Entries whose byte in
// `mask` (optional, laid out like X) is zero are packed as zero.
template <typename T>
void pack_panels(const Microkernel<T>& k, const T* x, const uint8_t* mask, int64_t ld,
                 bool trans, int64_t i0, int64_t rows, int64_t j0, int64_t cols, int width,
                 T* dst) {
  const int64_t panels = (rows + width - 1) / width;
  if (!trans) {
    // Row i of a panel is contiguous in X: a transposing pack per panel.
    for (int64_t p = 0; p < panels; ++p) {
      const int64_t r0 = i0 + p * width;
      const int nrow = int(std::min<int64_t>(width, rows - p * width));
      k.pack_rows(x + r0 * ld + j0, ld, mask ? mask + r0 * ld + j0 : nullptr, nrow, width, cols,
                  dst + p * cols * width, width);
    }
    return;
  }
  // Column j of every panel is contiguous in X: plain copies, one source row at a time
  // across all panels (a stream the prefetcher follows, where panel by panel would hop
  // rows).
  for (int64_t j = 0; j < cols; ++j) {
    const int64_t o = (j0 + j) * ld + i0;
    const T* __restrict s = x + o;
    const uint8_t* __restrict m = mask ? mask + o : nullptr;
    for (int64_t p = 0; p < panels; ++p) {
      const int nrow = int(std::min<int64_t>(width, rows - p * width));
      const T* __restrict sp = s + p * width;
      T* __restrict dj = dst + (p * cols + j) * width;
      if (m) {
        // Loading unconditionally lets the select vectorise (a branch per element
        // mispredicts on random masks).
        const uint8_t* __restrict mp = m + p * width;
        for (int i = 0; i < nrow; ++i) {
          const T v = sp[i];
          dj[i] = mp[i] ? v : T(0);
        }
      } else {
        for (int i = 0; i < nrow; ++i) dj[i] = sp[i];
      }
      for (int i = nrow; i < width; ++i) dj[i] = T(0);
    }
  }
}

// Elements of one thread's packing buffers: a block of A (up to mc x kc) and a tile of
// B (up to kc x nc), each no larger than the product needs.
struct PackSizes {
  int64_t a, b;
  int64_t per_thread() const { return a + b; }
};

template <typename T>
PackSizes pack_sizes(const Microkernel<T>& k, int64_t M, int64_t N, int64_t K) {
  const int64_t kc_max = std::max<int64_t>(std::min<int64_t>(k.kc, K), 1);
  const auto round_up = [](int64_t v, int64_t m) { return (std::max<int64_t>(v, 1) + m - 1) / m * m; };
  return {std::min(kMcPanels * k.mr, round_up(M, k.mr)) * kc_max,
          std::min(round_up(k.nc, k.nr), round_up(N, k.nr)) * kc_max};
}

// One carve serves the size query and the compute call.
template <typename T>
T* carve_buffers(Carver& cv, const PackSizes& ps, int num_threads) {
  return cv.take<T>(ps.per_thread() * std::max(1, num_threads));
}

// At most this many rows of C run on gemm_few_rows: the packed engine's mr-row tiles
// would mostly multiply zero padding, and packing B would cost more than the single
// pass over it that the product needs (GEMV-like shapes: a linear layer at batch 1).
constexpr int64_t kFewRows = 4;

// Workspace of gemm_few_rows: op(A) as contiguous rows, and (transB == false) one
// accumulator row per row of C.
template <typename T>
void carve_few_rows(Carver& cv, int64_t M, int64_t N, int64_t K, T** ap, T** acc) {
  *ap = cv.take<T>(M * K);
  *acc = cv.take<T>(M * N);
}

// C = alpha * (op(A) · op(B ⊙ maskB)) ⊙ maskC + beta * C streaming B once: dot products
// with B's rows (transB) or row-by-row updates of accumulators (not transB), columns of
// C split over the threads.
template <typename T>
void gemm_few_rows(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha,
                   const T* A, int64_t lda, const T* B, int64_t ldb, const uint8_t* maskB,
                   T beta, T* C, int64_t ldc, const uint8_t* maskC, void* workspace, int nt) {
  Carver cv(workspace);
  T* ap;
  T* acc;
  carve_few_rows(cv, M, N, K, &ap, &acc);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t p = 0; p < K; ++p) ap[i * K + p] = transA ? A[p * lda + i] : A[i * lda + p];
  const auto store = [&](int64_t i, int64_t j, T v) {
    const int64_t o = i * ldc + j;
    const T r = (maskC && !maskC[o]) ? T(0) : alpha * v;
    C[o] = beta == T(0) ? r : r + beta * C[o];
  };
#pragma omp parallel num_threads(nt)
  {
#if defined(_OPENMP)
    const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
#else
    const int tid = 0, nth = 1;
#endif
    const int64_t n0 = chunk_begin(N, nth, tid), n1 = chunk_begin(N, nth, tid + 1);
    if (transB) {
      for (int64_t j = n0; j < n1; ++j) {
        const T* __restrict b = B + j * ldb;
        const uint8_t* __restrict m = maskB ? maskB + j * ldb : nullptr;
        for (int64_t i = 0; i < M; ++i) {
          const T* __restrict a = ap + i * K;
          T sum = T(0);
          if (m) {
#pragma omp simd reduction(+ : sum)
            for (int64_t p = 0; p < K; ++p) {
              const T v = b[p];
              sum += a[p] * (m[p] ? v : T(0));
            }
          } else {
#pragma omp simd reduction(+ : sum)
            for (int64_t p = 0; p < K; ++p) sum += a[p] * b[p];
          }
          store(i, j, sum);
        }
      }
    } else {
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = n0; j < n1; ++j) acc[i * N + j] = T(0);
      for (int64_t p = 0; p < K; ++p) {
        const T* __restrict b = B + p * ldb;
        const uint8_t* __restrict m = maskB ? maskB + p * ldb : nullptr;
        for (int64_t i = 0; i < M; ++i) {
          const T a = ap[i * K + p];
          T* __restrict c = acc + i * N;
          if (m) {
#pragma omp simd
            for (int64_t j = n0; j < n1; ++j) {
              const T v = b[j];
              c[j] += a * (m[j] ? v : T(0));
            }
          } else {
#pragma omp simd
            for (int64_t j = n0; j < n1; ++j) c[j] += a * b[j];
          }
        }
      }
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = n0; j < n1; ++j) store(i, j, acc[i * N + j]);
    }
  }
}

}  // namespace

template <typename T>
size_t gemm_masked_workspace(int64_t M, int64_t N, int64_t K, int num_threads) {
  Carver cv(nullptr);
  if (M <= kFewRows) {
    T *ap, *acc;
    carve_few_rows(cv, M, N, K, &ap, &acc);
  } else {
    carve_buffers<T>(cv, pack_sizes(microkernel<T>(), M, N, K), num_threads);
  }
  return cv.size();
}

template <typename T>
void gemm_masked(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                 int64_t lda, const T* B, int64_t ldb, const uint8_t* maskB, T beta, T* C,
                 int64_t ldc, const uint8_t* maskC, void* workspace, int num_threads) {
  if (M <= 0 || N <= 0) return;
  const int nt = std::max(1, num_threads);
  if (M <= kFewRows)
    return gemm_few_rows(transA, transB, M, N, K, alpha, A, lda, B, ldb, maskB, beta, C, ldc,
                         maskC, workspace, nt);
  const Microkernel<T>& k = microkernel<T>();
  // Columns are dealt to threads in vectors (half a panel; half-width tiles are cheap).
  const int unit = k.nr / 2;
  const int64_t mp = (M + k.mr - 1) / k.mr, np = (N + unit - 1) / unit;
  const int64_t mc = kMcPanels * k.mr;
  const PackSizes ps = pack_sizes(k, M, N, K);
  Carver cv(workspace);
  T* buf = carve_buffers<T>(cv, ps, nt);
#pragma omp parallel num_threads(nt)
  {
#if defined(_OPENMP)
    const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
#else
    const int tid = 0, nth = 1;
#endif
    T* abuf = buf + tid * ps.per_thread();
    T* bbuf = abuf + ps.a;
    const WorkSplit ws = choose_split(1, mp, np, nth, 0.25);
    const int64_t items = ws.items();
    for (int64_t it = chunk_begin(items, nth, tid); it < chunk_begin(items, nth, tid + 1); ++it) {
      const int64_t im = it / ws.tn, in = it % ws.tn;
      const int64_t m0 = chunk_begin(mp, ws.tm, im) * k.mr;
      const int64_t m1 = std::min(M, chunk_begin(mp, ws.tm, im + 1) * k.mr);
      const int64_t n0 = chunk_begin(np, ws.tn, in) * unit;
      const int64_t n1 = std::min(N, chunk_begin(np, ws.tn, in + 1) * unit);
      for (int64_t jc = n0; jc < n1; jc += k.nc) {
        const int64_t nc = std::min(k.nc, n1 - jc);
        for (int64_t pc = 0; pc == 0 || pc < K; pc += k.kc) {
          const int64_t kc = std::min(k.kc, K - pc);
          // op(B)[pc.., jc..] as panels of nr columns = op(B)^T rows.
          pack_panels(k, B, maskB, ldb, !transB, jc, nc, pc, kc, k.nr, bbuf);
          const T b = pc == 0 ? beta : T(1);
          for (int64_t ic = m0; ic < m1; ic += mc) {
            const int64_t mcur = std::min(mc, m1 - ic);
            pack_panels(k, A, static_cast<const uint8_t*>(nullptr), lda, transA, ic, mcur, pc,
                        kc, k.mr, abuf);
            for (int64_t jr = 0; jr < nc; jr += k.nr) {
              const int n = int(std::min<int64_t>(k.nr, nc - jr));
              for (int64_t ir = 0; ir < mcur; ir += k.mr) {
                const int m = int(std::min<int64_t>(k.mr, mcur - ir));
                const int64_t off = (ic + ir) * ldc + jc + jr;
                const TileOut<T> o{C + off, ldc, 1, nullptr, nullptr,
                                   maskC ? maskC + off : nullptr, alpha, b};
                k.tile(kc, abuf + ir * kc, bbuf + jr * kc, o, m, n);
              }
            }
          }
        }
      }
    }
  }
}

template <typename T>
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc, int num_threads) {
  if (M <= 0 || N <= 0) return;
  std::vector<char> ws(gemm_masked_workspace<T>(M, N, K, num_threads));
  gemm_masked(transA, transB, M, N, K, alpha, A, lda, B, ldb, nullptr, beta, C, ldc, nullptr,
              ws.data(), num_threads);
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t, int);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t, int);
template size_t gemm_masked_workspace<float>(int64_t, int64_t, int64_t, int);
template size_t gemm_masked_workspace<double>(int64_t, int64_t, int64_t, int);
template void gemm_masked<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                                 int64_t, const float*, int64_t, const uint8_t*, float, float*,
                                 int64_t, const uint8_t*, void*, int);
template void gemm_masked<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                  int64_t, const double*, int64_t, const uint8_t*, double,
                                  double*, int64_t, const uint8_t*, void*, int);

}  // namespace cpu
}  // namespace dsdk
