// The bodies of SparseRowFn and SparseDotFn (cpu/sparse_kernels.h), written once over
// GCC vector types of `Bytes` bytes; each sparse_kernels_*.cpp includes it under its own
// target pragma, so the same source becomes AVX-512, AVX2+FMA or SSE2 code.
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cpu/sparse_kernels.h"

namespace dsdk {
namespace cpu {
namespace {

// How SparseDotFn loads x[col[0..L)] into a vector: element by element here; the AVX
// files pass a policy with the same interface that assembles it from the 128- or
// 256-bit pieces of cpu/sparse_gather.h.
template <typename T, int Bytes>
struct ElementGather {
  typedef T V __attribute__((vector_size(Bytes)));
  template <typename I>
  static V gather(const T* x, const I* col) {
    V g;
#pragma GCC unroll 16
    for (int l = 0; l < Bytes / int(sizeof(T)); ++l) g[l] = x[col[l]];
    return g;
  }
};

// Entries that SparseDotFn reads ahead: 4 KB of float values, 2 KB of 16-bit columns,
// past the 4 KB page where the hardware prefetcher stops. On a 4096 x 9216 matrix at 90 %
// evicted from the caches, 2 threads: 0.40 ms against 0.67 ms without; 2048 and 4096
// gained nothing further.
constexpr int64_t kDotAhead = 1024;

template <typename T, int Bytes, typename Gather = ElementGather<T, Bytes>>
struct SparseRow {
  typedef T V __attribute__((vector_size(Bytes)));
  static constexpr int L = Bytes / int(sizeof(T));

  static V load(const T* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }

  // Where entry e's run of lanes starts in base, for each addressing of SparseRowFn and
  // SparseRowOffsetFn: through the tap table, as a row of a dense panel of NV-vector rows
  // (no table: one load per entry fewer), or as the entry's own offset.
  template <typename I>
  struct ByTable {
    const int32_t* tab;
    const I* col;
    int64_t operator()(int64_t e) const { return tab[col[e]]; }
  };
  template <int NV, typename I>
  struct ByPanel {
    const I* col;
    int64_t operator()(int64_t e) const { return int64_t(col[e]) * (NV * L); }
  };
  struct ByOffset {
    const int32_t* off;
    int64_t operator()(int64_t e) const { return off[e]; }
  };

  // Few vectors per row would leave one FMA latency chain per vector; S interleaved
  // accumulator sets keep at least four chains in flight.
  template <int NV, class At>
  static void tile(const T* base, At at, const T* val, int64_t nnz, T* acc) {
    constexpr int S = NV >= 4 ? 1 : (NV == 1 ? 4 : 2);
    V a[S][NV] = {};
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) a[0][v] = load(acc + v * L);
    int64_t e = 0;
    for (; e + S <= nnz; e += S) {
#pragma GCC unroll 4
      for (int u = 0; u < S; ++u) {
        const V w = val[e + u] - V{};  // x - 0 folds to a broadcast; 0 + x does not (-0)
        const T* p = base + at(e + u);
#pragma GCC unroll 16
        for (int v = 0; v < NV; ++v) a[u][v] += w * load(p + v * L);
      }
    }
    for (; e < nnz; ++e) {
      const V w = val[e] - V{};
      const T* p = base + at(e);
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) a[0][v] += w * load(p + v * L);
    }
#pragma GCC unroll 4
    for (int u = 1; u < S; ++u)
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) a[0][v] += a[u][v];
    // One store per vector: copying the whole array would make GCC keep it on the
    // stack, a spill and reload of every accumulator per call.
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) std::memcpy(acc + v * L, &a[0][v], sizeof(V));
  }

  // tile<nv> with the addressing at_of(std::integral_constant<int, nv>()) gives.
  template <class AtOf>
  static void rows(const T* base, AtOf at_of, const T* val, int64_t nnz, int nv, T* acc) {
#define DSDK_TILE(n) tile<n>(base, at_of(std::integral_constant<int, n>()), val, nnz, acc)
    switch (nv) {
      case 1: return DSDK_TILE(1);
      case 2: return DSDK_TILE(2);
      case 3: return DSDK_TILE(3);
      case 4: return DSDK_TILE(4);
      case 5: return DSDK_TILE(5);
      case 6: return DSDK_TILE(6);
      case 7: return DSDK_TILE(7);
      case 8: return DSDK_TILE(8);
      case 9: return DSDK_TILE(9);
      case 10: return DSDK_TILE(10);
      case 11: return DSDK_TILE(11);
      case 12: return DSDK_TILE(12);
      case 13: return DSDK_TILE(13);
      case 14: return DSDK_TILE(14);
      case 15: return DSDK_TILE(15);
      default: return DSDK_TILE(kSparseMaxVectors);
    }
#undef DSDK_TILE
  }

  template <typename I>
  static void run(const T* base, const int32_t* tab, const T* val, const I* col, int64_t nnz,
                  int nv, T* acc) {
    if (tab) return rows(base, [&](auto) { return ByTable<I>{tab, col}; }, val, nnz, nv, acc);
    return rows(base, [&](auto n) { return ByPanel<decltype(n)::value, I>{col}; }, val, nnz, nv,
                acc);
  }

  static void run_offsets(const T* base, const int32_t* off, const T* val, int64_t nnz, int nv,
                          T* acc) {
    return rows(base, [&](auto) { return ByOffset{off}; }, val, nnz, nv, acc);
  }

  // Every 64-byte line of the N bytes from p.
  template <int N>
  static void prefetch(const void* p) {
#pragma GCC unroll 4
    for (int b = 0; b < N; b += 64) __builtin_prefetch(static_cast<const char*>(p) + b);
  }

  // Two accumulators (2 L entries a step): two independent add chains.
  template <typename I>
  static T dot(const T* x, const T* val, const I* col, int64_t nnz) {
    V a0 = {}, a1 = {};
    int64_t e = 0;
    for (; e + 2 * L <= nnz; e += 2 * L) {
      prefetch<2 * L * int(sizeof(T))>(val + e + kDotAhead);
      prefetch<2 * L * int(sizeof(I))>(col + e + kDotAhead);
      a0 += load(val + e) * V(Gather::gather(x, col + e));
      a1 += load(val + e + L) * V(Gather::gather(x, col + e + L));
    }
    if (e + L <= nnz) {
      a0 += load(val + e) * V(Gather::gather(x, col + e));
      e += L;
    }
    a0 += a1;
    T s = 0;
#pragma GCC unroll 16
    for (int l = 0; l < L; ++l) s += a0[l];
    for (; e < nnz; ++e) s += val[e] * x[col[e]];
    return s;
  }

  static SparseKernels<T> table(const char* isa) {
    return SparseKernels<T>{isa, L, run<uint16_t>, run<uint32_t>, run_offsets, dot<uint16_t>,
                            dot<uint32_t>};
  }
};

}  // namespace
}  // namespace cpu
}  // namespace dsdk
