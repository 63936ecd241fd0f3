// The GEMM core shared by the three convolution directions. Per group, a block owns a
// BM x BN tile of C = A * B (A: M x K, B: K x N) and walks K in BK-deep slices: each
// slice is fetched from global memory into registers while the previous one is
// multiplied out of shared memory (two shared buffers, one barrier per slice), and
// every thread accumulates a TM x TN register tile. Where A and B come from and where
// C goes are policies of an `Op` (conv_operands.cuh), so the lowered matrices of the
// convolution are never materialised.
#pragma once
#include <cuda_runtime.h>

#include <climits>
#include <cstdint>
#include <string>

#include "cuda/cuda_check.cuh"

namespace dsdk {
namespace cuda {

template <int BM_, int BN_, int BK_, int TM_, int TN_, int Pad_, int MinBlocks_>
struct TileConfig {
  static constexpr int BM = BM_, BN = BN_, BK = BK_, TM = TM_, TN = TN_;
  // Row padding of the shared slices: with it, the K-fast stores of a warp land in
  // distinct banks (BK rows of BM + Pad floats).
  static constexpr int kPad = Pad_;
  // Resident blocks per SM that the register allocation must allow with float
  // accumulators (__launch_bounds__; double ones get half). Left to itself ptxas caps
  // the gather-heavy variants low enough to spill.
  static constexpr int kMinBlocks = MinBlocks_;
  static constexpr int kThreads = (BM / TM) * (BN / TN);
  static_assert(BM % TM == 0 && BN % TN == 0, "register tile must divide the block tile");
};

// Regular layers: 64 x 64 tiles, 4 x 4 outputs per thread.
using LargeTile = TileConfig<64, 64, 16, 4, 4, 2, 2>;
// Depthwise and narrow grouped layers, whose M (or, for the filter gradient, N) is a
// handful of channels or taps: 16 x 16 tiles, one output per thread, deeper slices.
using SmallTile = TileConfig<16, 16, 32, 1, 1, 1, 4>;

// Whether a problem with M rows and N columns per group runs on SmallTile.
inline bool use_small_tile(int64_t m, int64_t n) {
  return m <= SmallTile::BM || n <= SmallTile::BN;
}

// Which element of a BK x MN operand slice thread t holds as its i-th register.
// K-fast: consecutive threads walk the reduction index (operands contiguous in it, such
// as packed filters); MN-fast: consecutive threads walk the rows/columns (operands
// contiguous in the output pixel). Each thread keeps one k (K-fast) or one row (MN-fast).
template <class Cfg, int MN, bool KFast>
struct SliceMap {
  static constexpr int kThreads = Cfg::kThreads, BK = Cfg::BK;
  static constexpr int kPerThread = MN * BK / kThreads;
  static_assert((MN * BK) % kThreads == 0, "slice must split evenly over the threads");
  static_assert(KFast ? kThreads % BK == 0 : kThreads % MN == 0,
                "threads must cover whole slice rows");
  __device__ static int k(int t, int i) { return KFast ? t % BK : t / MN + i * (kThreads / MN); }
  __device__ static int mn(int t, int i) { return KFast ? t / BK + i * (kThreads / BK) : t % MN; }
};

// How the blocks of one launch map onto the problem: blockIdx.x = group * tiles_n +
// column tile (the large dimension goes in x), blockIdx.y = row tile, blockIdx.z =
// reduction split.
struct GemmGrid {
  int m;            // rows of C per group
  int64_t n;        // columns of C per group
  int64_t k;        // reduction length
  int64_t tiles_n;  // ceil(n / BN)
  int64_t k_chunk;  // reduction length per split (a multiple of BK when there are several)
};

template <class Cfg, class Acc, class ALoader, class BLoader>
__device__ __forceinline__ void gemm_mainloop(ALoader& a, BLoader& b, int64_t steps,
                                              Acc (&acc)[Cfg::TM][Cfg::TN]) {
  using AMap = typename ALoader::Map;
  using BMap = typename BLoader::Map;
  constexpr int BM = Cfg::BM, BN = Cfg::BN, BK = Cfg::BK, TM = Cfg::TM, TN = Cfg::TN;
  __shared__ Acc sa[2][BK][BM + Cfg::kPad];
  __shared__ Acc sb[2][BK][BN + Cfg::kPad];

#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = Acc(0);
  if (steps <= 0) return;  // block-uniform: no thread reaches a barrier

  const int t = threadIdx.x;
  const int tx = t % (BN / TN), ty = t / (BN / TN);
  Acc ra[AMap::kPerThread], rb[BMap::kPerThread];
  auto stage = [&](int buf) {
#pragma unroll
    for (int i = 0; i < AMap::kPerThread; ++i) sa[buf][AMap::k(t, i)][AMap::mn(t, i)] = ra[i];
#pragma unroll
    for (int i = 0; i < BMap::kPerThread; ++i) sb[buf][BMap::k(t, i)][BMap::mn(t, i)] = rb[i];
  };

  a.load(ra);
  b.load(rb);
  stage(0);
  __syncthreads();
  for (int64_t step = 0; step < steps; ++step) {
    const int cur = int(step & 1);
    const bool more = step + 1 < steps;
    if (more) {  // the next slice's global loads overlap this slice's arithmetic
      a.load(ra);
      b.load(rb);
    }
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      Acc av[TM], bv[TN];
#pragma unroll
      for (int i = 0; i < TM; ++i) av[i] = sa[cur][kk][ty + i * (BM / TM)];
#pragma unroll
      for (int j = 0; j < TN; ++j) bv[j] = sb[cur][kk][tx + j * (BN / TN)];
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = fma(av[i], bv[j], acc[i][j]);
    }
    // The other buffer was last read before the previous barrier, so it is free now;
    // the barrier below publishes it and retires this one.
    if (more) stage(cur ^ 1);
    __syncthreads();
  }
}

// One launch of an implicit GEMM. Op supplies Cfg, Acc, Params, and the ALoader /
// BLoader / Epilogue policies:
//   ALoader(p, group, m0, k_begin), BLoader(p, group, n0, k_begin): load(regs) fetches
//     the current BK slice (zeros outside the matrix) and moves to the next one;
//   Epilogue(p, group, split): column(n) prepares column n, store(m, column, value)
//     writes C[m, n].
// Thread (ty, tx) owns rows ty + i * BM/TM and columns tx + j * BN/TN, so a warp's
// stores cover consecutive columns.
template <class Op>
__global__ void __launch_bounds__(Op::Cfg::kThreads,
                                  Op::Cfg::kMinBlocks / int(sizeof(typename Op::Acc) / 4))
    implicit_gemm_kernel(const typename Op::Params p, const GemmGrid grid) {
  using Cfg = typename Op::Cfg;
  using Acc = typename Op::Acc;
  const int64_t bx = blockIdx.x;
  const int group = int(bx / grid.tiles_n);
  const int64_t n0 = (bx - int64_t(group) * grid.tiles_n) * Cfg::BN;
  const int m0 = int(blockIdx.y) * Cfg::BM;
  const int64_t k_begin = int64_t(blockIdx.z) * grid.k_chunk;
  const int64_t k_len = (grid.k - k_begin < grid.k_chunk ? grid.k - k_begin : grid.k_chunk);
  const int64_t steps = (k_len + Cfg::BK - 1) / Cfg::BK;

  typename Op::ALoader a(p, group, m0, k_begin);
  typename Op::BLoader b(p, group, n0, k_begin);
  Acc acc[Cfg::TM][Cfg::TN];
  gemm_mainloop<Cfg>(a, b, steps, acc);

  typename Op::Epilogue ep(p, group, int(blockIdx.z));
  const int tx = threadIdx.x % (Cfg::BN / Cfg::TN), ty = threadIdx.x / (Cfg::BN / Cfg::TN);
#pragma unroll
  for (int j = 0; j < Cfg::TN; ++j) {
    const int64_t n = n0 + tx + j * (Cfg::BN / Cfg::TN);
    if (n >= grid.n) continue;
    const auto column = ep.column(n);
#pragma unroll
    for (int i = 0; i < Cfg::TM; ++i) {
      const int m = m0 + ty + i * (Cfg::BM / Cfg::TM);
      if (m < grid.m) ep.store(m, column, acc[i][j]);
    }
  }
}

// Launches implicit_gemm_kernel<Op> over `groups` x the tiles of `grid` x `splits`
// reduction splits (grid.tiles_n is filled in here); NOT_SUPPORTED past the CUDA grid
// limits, the launch's status otherwise.
template <class Op>
dsdkStatus_t launch_gemm(const char* kernel, const typename Op::Params& p, int groups,
                         GemmGrid grid, int64_t splits, cudaStream_t stream, std::string* msg) {
  using Cfg = typename Op::Cfg;
  grid.tiles_n = (grid.n + Cfg::BN - 1) / Cfg::BN;
  const int64_t gx = int64_t(groups) * grid.tiles_n, gy = (int64_t(grid.m) + Cfg::BM - 1) / Cfg::BM;
  if (gx > INT_MAX || gy > 65535 || splits > 65535)
    return fail(msg, DSDK_STATUS_NOT_SUPPORTED,
                "%s: a grid of %lld x %lld x %lld blocks exceeds the CUDA limits", kernel,
                static_cast<long long>(gx), static_cast<long long>(gy),
                static_cast<long long>(splits));
  implicit_gemm_kernel<Op><<<dim3(unsigned(gx), unsigned(gy), unsigned(splits)), Cfg::kThreads,
                             0, stream>>>(p, grid);
  return launch_status(kernel, msg);
}

}  // namespace cuda
}  // namespace dsdk
