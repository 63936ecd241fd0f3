// Row-major GEMM on the packed engine: each thread takes a block of C (choose_split) and
// runs the BLIS loops on it: column tile (nc) > K block (kc, pack B, masked) > row block
// (mc, pack A) > micro-tiles (C masked in the tile update). Packing buffers come from
// the caller's workspace; plain gemm allocates one.
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
  for (int64_t p = 0; p * width < rows; ++p) {
    const int64_t r0 = i0 + p * width;
    const int nrow = int(std::min<int64_t>(width, rows - p * width));
    T* d = dst + p * cols * width;
    if (!trans) {
      // Row i of the panel is contiguous in X: a transposing pack.
      k.pack_rows(x + r0 * ld + j0, ld, mask ? mask + r0 * ld + j0 : nullptr, nrow, width, cols,
                  d, width);
      continue;
    }
    // Column j of the panel is contiguous in X: plain copies.
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t o = (j0 + j) * ld + r0;
      const T* s = x + o;
      T* dj = d + j * width;
      if (mask) {
        const uint8_t* m = mask + o;
        for (int i = 0; i < nrow; ++i) dj[i] = m[i] ? s[i] : T(0);
      } else {
        for (int i = 0; i < nrow; ++i) dj[i] = s[i];
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

}  // namespace

template <typename T>
size_t gemm_masked_workspace(int64_t M, int64_t N, int64_t K, int num_threads) {
  Carver cv(nullptr);
  carve_buffers<T>(cv, pack_sizes(microkernel<T>(), M, N, K), num_threads);
  return cv.size();
}

template <typename T>
void gemm_masked(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                 int64_t lda, const T* B, int64_t ldb, const uint8_t* maskB, T beta, T* C,
                 int64_t ldc, const uint8_t* maskC, void* workspace, int num_threads) {
  if (M <= 0 || N <= 0) return;
  const Microkernel<T>& k = microkernel<T>();
  const int nt = std::max(1, num_threads);
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
