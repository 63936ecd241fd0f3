// Sparse × dense GEMM for linear layers on CUDA: Y = alpha * X · (W ⊙ M)^T + beta * Y with
// W ⊙ M in CSR (one row per output feature).
//
// One warp per output feature: its lanes stride over the feature's CSR row (coalesced
// value and index loads) and gather the matching columns of up to kRows rows of X at once,
// so that each entry loaded serves kRows products; a butterfly reduction then sums the
// lanes, and lane i writes Y's row i. One row of X (m = 1) is the CSR matrix-vector
// product; larger batches loop over chunks of rows.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "core/sparse_backends.h"
#include "cuda/cuda_check.cuh"
#include "cuda/numeric.cuh"
#include "cuda/sparse_pack.cuh"
#include "cuda/static_switch.cuh"

namespace dsdk {
namespace cuda {
namespace {

constexpr int kWarp = 32, kWarps = 4, kThreads = kWarp * kWarps;
constexpr int64_t kMaxGridX = 0x7fffffff, kMaxGridY = 65535;

template <class T>
struct GemmParams {
  const int64_t* __restrict__ row_ptr;
  const T* __restrict__ val;
  const void* __restrict__ col;
  const T* __restrict__ x; int64_t ldx;
  T* y; int64_t ldy;
  int64_t m, rows;
  acc_t<T> alpha, beta;
};

template <class T, class I, int kRows, bool kBetaZero>
__global__ void __launch_bounds__(kThreads) sparse_gemm_kernel(const GemmParams<T> p) {
  using Acc = acc_t<T>;
  const I* __restrict__ col = static_cast<const I*>(p.col);
  const int lane = threadIdx.x % kWarp;
  const int64_t n = int64_t(blockIdx.x) * kWarps + threadIdx.x / kWarp;
  if (n >= p.rows) return;  // the whole warp
  const int64_t e0 = p.row_ptr[n], e1 = p.row_ptr[n + 1];
  for (int64_t m0 = int64_t(blockIdx.y) * kRows; m0 < p.m; m0 += int64_t(gridDim.y) * kRows) {
    const int rows = p.m - m0 < kRows ? int(p.m - m0) : kRows;
    const T* __restrict__ x = p.x + m0 * p.ldx;
    Acc acc[kRows];
#pragma unroll
    for (int i = 0; i < kRows; ++i) acc[i] = Acc(0);
    for (int64_t e = e0 + lane; e < e1; e += kWarp) {
      const Acc v = to_acc(p.val[e]);
      const int64_t c = col[e];
#pragma unroll
      for (int i = 0; i < kRows; ++i)
        if (i < rows) acc[i] += v * to_acc(x[i * p.ldx + c]);
    }
#pragma unroll
    for (int i = 0; i < kRows; ++i)
#pragma unroll
      for (int d = kWarp / 2; d > 0; d /= 2) acc[i] += __shfl_xor_sync(0xffffffffu, acc[i], d);
#pragma unroll
    for (int i = 0; i < kRows; ++i)
      if (lane == i && i < rows) {
        T* out = p.y + (m0 + i) * p.ldy + n;
        Acc r = p.alpha * acc[i];
        if constexpr (!kBetaZero) r += p.beta * to_acc(*out);
        *out = from_acc<T>(r);
      }
  }
}

// f(std::integral_constant<int, rows>{}): rows of X per warp pass, for a batch of m.
template <class F>
dsdkStatus_t rows_switch(int64_t m, F&& f) {
  if (m == 1) return f(std::integral_constant<int, 1>{});
  if (m <= 4) return f(std::integral_constant<int, 4>{});
  return f(std::integral_constant<int, 8>{});
}

}  // namespace

dsdkStatus_t sparse_gemm(const SparseGemmArgs& a, void* stream, std::string* msg) {
  const CsrView& w = *a.w;
  if (ceil_div(w.rows, kWarps) > kMaxGridX)
    return fail(msg, DSDK_STATUS_NOT_SUPPORTED, "the matrix's rows (%lld) exceed one grid",
                static_cast<long long>(w.rows));
  dsdkStatus_t st = require_device_pointer(a.x, "X", msg);
  if (st == DSDK_STATUS_SUCCESS) st = require_device_pointer(a.y, "Y", msg);
  if (st != DSDK_STATUS_SUCCESS) return st;
  const cudaStream_t strm = static_cast<cudaStream_t>(stream);
  return dtype_switch(w.dtype, [&](auto tag) -> dsdkStatus_t {
    using T = typename decltype(tag)::type;
    dsdkStatus_t s = check_aligned<T>(a.x, "X", msg);
    if (s == DSDK_STATUS_SUCCESS) s = check_aligned<T>(a.y, "Y", msg);
    if (s != DSDK_STATUS_SUCCESS) return s;
    const GemmParams<T> p{w.row_ptr, static_cast<const T*>(w.val), w.col,
                          static_cast<const T*>(a.x), a.ldx, static_cast<T*>(a.y), a.ldy,
                          a.m, w.rows, acc_t<T>(a.alpha), acc_t<T>(a.beta)};
    return col_switch(w, [&](auto idx) {
      using I = decltype(idx);
      return rows_switch(a.m, [&](auto rows) {
        constexpr int kRows = decltype(rows)::value;
        const dim3 grid(unsigned(ceil_div(w.rows, kWarps)),
                        unsigned(std::min(ceil_div(a.m, kRows), kMaxGridY)));
        return bool_switch(a.beta == 0.0, [&](auto beta_zero) {
          sparse_gemm_kernel<T, I, kRows, decltype(beta_zero)::value>
              <<<grid, kThreads, 0, strm>>>(p);
          return launch_status("sparse_gemm_kernel", msg);
        });
      });
    });
  });
}

}  // namespace cuda
}  // namespace dsdk
