// CUDA masked GEMM on the convolution's tiles (implicit_gemm.cuh): both operands are
// strided matrices read by one loader, the masks are applied as B is loaded and as C is
// stored. Row-major C = op(A) · op(B) has its larger dimension put on the grid's x axis
// (2^31 blocks; y allows 65535): when m > n the kernel computes Cᵀ = op(B)ᵀ · op(A)ᵀ,
// which only swaps the operands and C's strides. Whether each operand is contiguous
// along k picks its slice map (coalesced loads either way).
#include <cuda_runtime.h>

#include <climits>
#include <cstdint>
#include <type_traits>

#include "core/gemm_backends.h"
#include "cuda/cuda_check.cuh"
#include "cuda/implicit_gemm.cuh"
#include "cuda/numeric.cuh"
#include "cuda/static_switch.cuh"

namespace dsdk {
namespace cuda {
namespace {

// One GEMM operand as the kernel sees it: element (i, kk) of an extent x k matrix at
// p[i * mn_stride + kk * k_stride]; a zero byte of mask (same offsets, optional) reads 0.
template <class T>
struct StridedOperand {
  const T* __restrict__ p;
  const uint8_t* __restrict__ mask;
  int64_t mn_stride, k_stride, extent;
};

template <class T>
struct MaskedGemmParams {
  StridedOperand<T> a, b;  // the kernel's M x K and N x K operands
  int64_t k;
  T* c;
  int64_t c_ms, c_ns;  // strides of the kernel's (m, n) in C
  const uint8_t* __restrict__ mask_c;
  acc_t<T> alpha, beta;
};

template <class Cfg, int MN, bool KFast, class T>
struct StridedLoader {
  using Map = SliceMap<Cfg, MN, KFast>;
  using Acc = acc_t<T>;
  StridedOperand<T> o;
  int64_t mn0, k0, k;
  __device__ StridedLoader(const StridedOperand<T>& op, int64_t mn0_, int64_t k_begin, int64_t k_)
      : o(op), mn0(mn0_), k0(k_begin), k(k_) {}
  __device__ void load(Acc (&v)[Map::kPerThread]) {
#pragma unroll
    for (int i = 0; i < Map::kPerThread; ++i) {
      const int64_t mn = mn0 + Map::mn(threadIdx.x, i), kk = k0 + Map::k(threadIdx.x, i);
      Acc val = Acc(0);
      if (mn < o.extent && kk < k) {
        const int64_t off = mn * o.mn_stride + kk * o.k_stride;
        if (!o.mask || o.mask[off]) val = to_acc(o.p[off]);
      }
      v[i] = val;
    }
    k0 += Cfg::BK;
  }
};

template <class T, class Tile, bool AKFast, bool BKFast>
struct MaskedGemmOp {
  using Cfg = Tile;
  using Acc = acc_t<T>;
  using Params = MaskedGemmParams<T>;

  struct ALoader : StridedLoader<Cfg, Cfg::BM, AKFast, T> {
    __device__ ALoader(const Params& p, int, int m0, int64_t k_begin)
        : StridedLoader<Cfg, Cfg::BM, AKFast, T>(p.a, m0, k_begin, p.k) {}
  };
  struct BLoader : StridedLoader<Cfg, Cfg::BN, BKFast, T> {
    __device__ BLoader(const Params& p, int, int64_t n0, int64_t k_begin)
        : StridedLoader<Cfg, Cfg::BN, BKFast, T>(p.b, n0, k_begin, p.k) {}
  };

  struct Epilogue {
    T* c;
    int64_t c_ms, c_ns;
    const uint8_t* __restrict__ mask_c;
    Acc alpha, beta;
    __device__ Epilogue(const Params& p, int, int)
        : c(p.c), c_ms(p.c_ms), c_ns(p.c_ns), mask_c(p.mask_c), alpha(p.alpha), beta(p.beta) {}
    __device__ int64_t column(int64_t n) const { return n * c_ns; }
    __device__ void store(int m, int64_t col, Acc v) const {
      const int64_t off = m * c_ms + col;
      Acc r = (mask_c && !mask_c[off]) ? Acc(0) : alpha * v;
      if (beta != Acc(0)) r += beta * to_acc(c[off]);  // beta == 0 never reads C
      c[off] = from_acc<T>(r);
    }
  };
};

template <bool kSmall>
using TileFor = std::conditional_t<kSmall, SmallTile, LargeTile>;

}  // namespace

size_t masked_gemm_workspace(dsdkDataType_t, int64_t, int64_t, int64_t) { return 0; }

dsdkStatus_t masked_gemm(const GemmArgs& a, void*, size_t, void* stream, std::string* msg) {
  if (a.m == 0 || a.n == 0) return DSDK_STATUS_SUCCESS;
  return dtype_switch(a.dtype, [&](auto tag) -> dsdkStatus_t {
    using T = typename decltype(tag)::type;
    dsdkStatus_t s = check_aligned<T>(a.a, "A", msg);
    if (s == DSDK_STATUS_SUCCESS) s = check_aligned<T>(a.b, "B", msg);
    if (s == DSDK_STATUS_SUCCESS) s = check_aligned<T>(a.c, "C", msg);
    if (s != DSDK_STATUS_SUCCESS) return s;
    // op(A)[i, kk] and op(B)ᵀ[j, kk] as strided operands.
    const StridedOperand<T> opa{static_cast<const T*>(a.a), nullptr, a.trans_a ? 1 : a.lda,
                                a.trans_a ? a.lda : 1, a.m};
    const StridedOperand<T> opb{static_cast<const T*>(a.b), a.mask_b, a.trans_b ? a.ldb : 1,
                                a.trans_b ? 1 : a.ldb, a.n};
    const bool swap = a.m > a.n;
    MaskedGemmParams<T> p{swap ? opb : opa, swap ? opa : opb, a.k, static_cast<T*>(a.c),
                          swap ? 1 : a.ldc, swap ? a.ldc : 1, a.mask_c, acc_t<T>(a.alpha),
                          acc_t<T>(a.beta)};
    const int64_t rows = p.a.extent, cols = p.b.extent;
    if (rows > INT_MAX)
      return fail(msg, DSDK_STATUS_NOT_SUPPORTED,
                  "min(m, n) = %lld exceeds what the CUDA GEMM indexes (%d)", (long long)rows,
                  INT_MAX);
    const GemmGrid grid{int(rows), cols, a.k, 0, a.k};
    return bool_switch(p.a.k_stride == 1, [&](auto a_kfast) {
      return bool_switch(p.b.k_stride == 1, [&](auto b_kfast) {
        return bool_switch(use_small_tile(rows, cols), [&](auto small) {
          using Op = MaskedGemmOp<T, TileFor<decltype(small)::value>, decltype(a_kfast)::value,
                                  decltype(b_kfast)::value>;
          return launch_gemm<Op>("masked_gemm implicit_gemm_kernel", p, 1, grid, 1,
                                 static_cast<cudaStream_t>(stream), msg);
        });
      });
    });
  });
}

}  // namespace cuda
}  // namespace dsdk
