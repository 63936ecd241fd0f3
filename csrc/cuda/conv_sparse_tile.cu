// The im2col-tile form of the sparse convolution on CUDA, forward: sparse weights (CSR
// over the lowered c·r·s axis) times a dense tile of the lowered input, for deep layers
// with many output channels.
//
// A block owns 64 output pixels (flattened over images × p × q) and 32 output channels of
// one group. It walks the lowered axis 32 taps at a time: the block stages the tile's
// 32 × 64 lowered-input slice in shared memory (read from x with its strides, zero where
// a tap falls into the padding), then each of the 32 channels' CSR rows applies the
// entries that fall in the slice. A thread owns one pixel and 8 channels (256 threads:
// 64 pixels × 4 channel lanes); the 32 threads of a warp share their channels, so the
// row entries are broadcast loads and the slice reads are conflict-free. Each staged
// input value serves every channel with an entry at that tap: the reuse that the direct
// form leaves to the cache. Rows walk their entries with a cursor each, in column order.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>

#include "core/conv_backends.h"
#include "core/conv_index.h"
#include "core/context.h"
#include "core/sparse_backends.h"
#include "cuda/cuda_check.cuh"
#include "cuda/numeric.cuh"
#include "cuda/sparse_pack.cuh"
#include "cuda/static_switch.cuh"

namespace dsdk {
namespace cuda {
namespace {

constexpr int kPixels = 64, kLanes = 4, kPerThread = 8, kChunk = 32;
constexpr int kThreads = kPixels * kLanes;
constexpr int kChannels = kLanes * kPerThread;  // per block
constexpr int kMaxGridY = 65535;

template <class T>
struct TileParams {
  const T* __restrict__ x; Strides4 xs;
  const int64_t* __restrict__ row_ptr;
  const T* __restrict__ val;
  const void* __restrict__ col;
  T* y; Strides4 ys;
  int64_t total;  // n * p * q
  int pq, q, h, w, cg, kg, groups, kblocks, crs, r, s;
  int pad_h, pad_w, stride_h, stride_w, dil_h, dil_w;
  acc_t<T> alpha, beta;
  const T* __restrict__ bias;  // k elements, or null
};

template <class T, class I, bool kBetaZero>
__global__ void __launch_bounds__(kThreads) sparse_tile_kernel(const TileParams<T> p) {
  using Acc = acc_t<T>;
  __shared__ Acc slice[kChunk][kPixels];
  const I* __restrict__ col = static_cast<const I*>(p.col);
  const int pix = threadIdx.x % kPixels, lane = threadIdx.x / kPixels;
  const int64_t j = int64_t(blockIdx.x) * kPixels + pix;
  const bool valid = j < p.total;
  int64_t img = 0;
  int oh = 0, ow = 0;
  if (valid) {
    img = j / p.pq;
    const int at = int(j - img * p.pq);
    oh = at / p.q;
    ow = at - oh * p.q;
  }
  for (int gb = blockIdx.y; gb < p.groups * p.kblocks; gb += gridDim.y) {
    const int g = gb / p.kblocks;
    const int k0 = g * p.kg + (gb - g * p.kblocks) * kChannels, kend = g * p.kg + p.kg;
    const T* __restrict__ xg = p.x + img * p.xs.n + int64_t(g) * p.cg * p.xs.c;
    int64_t cur[kPerThread], end[kPerThread];
    Acc acc[kPerThread];
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      const int k = k0 + lane + kLanes * i;
      cur[i] = k < kend ? p.row_ptr[k] : 0;
      end[i] = k < kend ? p.row_ptr[k + 1] : 0;
      acc[i] = Acc(0);
    }
    for (int c0 = 0; c0 < p.crs; c0 += kChunk) {
      __syncthreads();  // the previous slice is consumed
      // A thread stages its own pixel's taps lane, lane + kLanes, ... of the slice.
      for (int t = lane; t < kChunk; t += kLanes) {
        const int kk = c0 + t;
        Acc v = Acc(0);
        if (valid && kk < p.crs) {
          const Tap tp = split_crs32(kk, p.r, p.s);
          const int hi = input_coord(oh, tp.r, p.stride_h, p.pad_h, p.dil_h);
          const int wi = input_coord(ow, tp.s, p.stride_w, p.pad_w, p.dil_w);
          if (inside(hi, p.h) && inside(wi, p.w))
            v = to_acc(xg[tp.c * p.xs.c + hi * p.xs.h + wi * p.xs.w]);
        }
        slice[t][pix] = v;
      }
      __syncthreads();
      const int c1 = c0 + kChunk;
#pragma unroll
      for (int i = 0; i < kPerThread; ++i) {
        for (; cur[i] < end[i]; ++cur[i]) {
          const int kk = int(col[cur[i]]);
          if (kk >= c1) break;
          acc[i] += to_acc(p.val[cur[i]]) * slice[kk - c0][pix];
        }
      }
    }
    if (valid) {
      T* yp = p.y + img * p.ys.n + oh * p.ys.h + ow * p.ys.w;
#pragma unroll
      for (int i = 0; i < kPerThread; ++i) {
        const int k = k0 + lane + kLanes * i;
        if (k < kend) {
          T* out = yp + int64_t(k) * p.ys.c;
          Acc v = p.alpha * acc[i];
          if constexpr (!kBetaZero) v += p.beta * to_acc(*out);
          if (p.bias) v += to_acc(p.bias[k]);
          *out = from_acc<T>(v);
        }
      }
    }
  }
}

}  // namespace

bool sparse_tile_fits(const ConvShape& sh, std::string* why) {
  if (sh.crs() > INT32_MAX - kChunk) {
    *why = "c/groups * r * s exceeds 2^31 - 33";
    return false;
  }
  if (ceil_div(int64_t(sh.n) * sh.p * sh.q, kPixels) > INT32_MAX) {
    *why = "n * p * q exceeds what one grid covers";
    return false;
  }
  return true;
}

size_t sparse_tile_workspace(const ConvFwdArgs& a) {
  const size_t csr = filter_csr_bytes(a);
  return csr ? kLine + line_up(csr) : 0;  // kLine: to align the pointer
}

dsdkStatus_t sparse_tile_fwd(const ConvFwdArgs& a, void* ws, size_t, void* stream,
                             std::string* msg) {
  const ConvShape& sh = a.sh;
  const cudaStream_t strm = static_cast<cudaStream_t>(stream);
  CsrView w;
  const dsdkStatus_t st = sparse_operands(a, ws, stream, &w, nullptr, msg);
  if (st != DSDK_STATUS_SUCCESS) return st;
  const int64_t total = int64_t(sh.n) * sh.p * sh.q;
  const int kblocks = int(ceil_div(sh.k_per_group(), kChannels));
  const unsigned gx = unsigned(ceil_div(total, kPixels));
  const unsigned gy = unsigned(std::min<int64_t>(int64_t(sh.groups) * kblocks, kMaxGridY));
  return dtype_switch(a.dtype, [&](auto tag) -> dsdkStatus_t {
    using T = typename decltype(tag)::type;
    const dsdkStatus_t s = check_aligned_xy<T>(a, msg);
    if (s != DSDK_STATUS_SUCCESS) return s;
    const TileParams<T> p{static_cast<const T*>(a.x), a.xs, w.row_ptr,
                          static_cast<const T*>(w.val), w.col, static_cast<T*>(a.y), a.ys,
                          total, sh.p * sh.q, sh.q, sh.h, sh.w, sh.c_per_group(),
                          sh.k_per_group(), sh.groups, kblocks, int(sh.crs()), sh.r,
                          sh.s, sh.pad_h, sh.pad_w, sh.stride_h, sh.stride_w, sh.dil_h,
                          sh.dil_w, acc_t<T>(a.alpha), acc_t<T>(a.beta),
                          static_cast<const T*>(a.bias)};
    return col_switch(w, [&](auto idx) {
      using I = decltype(idx);
      return bool_switch(a.beta == 0.0, [&](auto beta_zero) {
        sparse_tile_kernel<T, I, decltype(beta_zero)::value>
            <<<dim3(gx, gy), kThreads, 0, strm>>>(p);
        return launch_status("conv forward sparse_tile_kernel", msg);
      });
    });
  });
}

}  // namespace cuda
}  // namespace dsdk
