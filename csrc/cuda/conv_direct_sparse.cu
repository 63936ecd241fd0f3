// Direct sparse convolution (Park et al., ICLR 2017) on CUDA, forward.
//
// The input is first copied into the workspace zero-padded, [n][c][h + 2 pad_h][w + 2
// pad_w], so that tap (c, r, s) of output pixel (oh, ow) is element
//   base(oh, ow) + off(c, r, s),  base = oh·stride_h·wp + ow·stride_w,
//   off = c·plane + r·dil_h·wp + s·dil_w,
// an offset that depends on the tap alone and needs no bounds check. A block owns 128
// output pixels (flattened over images × p × q, one per thread, so a warp reads 32
// neighbouring pixels: coalesced at stride 1) and a run of output channels of one group
// (more when the grid has blocks enough without them); it stages their CSR entries, with
// their offsets, in shared memory chunk by chunk, and every thread runs them over its
// pixel, accumulating in float (double for double).
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

constexpr int kThreads = 128;     // output pixels per block, one per thread
constexpr int kMaxChannels = 64;  // output channels per block, at most
// Enough blocks to fill an H100 (132 SMs) several times over before a block takes
// more channels.
constexpr int64_t kTargetBlocks = 1024;
constexpr int kMaxGridY = 65535;
constexpr int kPadThreads = 256;
constexpr int64_t kPadMaxBlocks = 8192;

struct Padded {
  int64_t hp, wp, plane, elements;  // elements: the whole batch
};

Padded padded(const ConvShape& sh) {
  Padded p;
  p.hp = sh.h + 2 * int64_t(sh.pad_h);
  p.wp = sh.w + 2 * int64_t(sh.pad_w);
  p.plane = p.hp * p.wp;
  p.elements = int64_t(sh.n) * sh.c * p.plane;
  return p;
}

template <class T>
struct DirectParams {
  const T* __restrict__ xp;  // padded input
  const int64_t* __restrict__ row_ptr;
  const T* __restrict__ val;
  const void* __restrict__ col;
  T* y; Strides4 ys;
  int64_t total;  // n * p * q
  int pq, q, c, cg, kg, groups, kb, kblocks;
  int wp, plane, r, s, stride_h, stride_w, dil_h, dil_w;
  acc_t<T> alpha, beta;
  const T* __restrict__ bias;  // k elements, or null
};

template <class T>
__global__ void pad_kernel(const T* __restrict__ x, Strides4 xs, int64_t count, int c, int h,
                           int w, int pad_h, int pad_w, int hp, int wp, T* __restrict__ xp) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < count; e += stride) {
    const int64_t row = e / wp, plane = row / hp, img = plane / c;
    const int hi = int(row - plane * hp) - pad_h, wi = int(e - row * wp) - pad_w;
    const int ch = int(plane - img * c);
    T v = from_acc<T>(acc_t<T>(0));
    if (hi >= 0 && hi < h && wi >= 0 && wi < w) v = x[img * xs.n + ch * xs.c + hi * xs.h + wi * xs.w];
    xp[e] = v;
  }
}

template <class T, class I, bool kBetaZero>
__global__ void __launch_bounds__(kThreads) direct_sparse_kernel(const DirectParams<T> p) {
  using Acc = acc_t<T>;
  __shared__ Acc s_val[kThreads];
  __shared__ int s_off[kThreads];
  const I* __restrict__ col = static_cast<const I*>(p.col);
  const int64_t j = int64_t(blockIdx.x) * kThreads + threadIdx.x;
  const bool valid = j < p.total;
  int64_t base = 0;
  T* yp = p.y;
  if (valid) {
    const int64_t img = j / p.pq;
    const int pix = int(j - img * p.pq);
    const int oh = pix / p.q, ow = pix - oh * p.q;
    base = img * p.c * p.plane + int64_t(oh) * p.stride_h * p.wp + int64_t(ow) * p.stride_w;
    yp = p.y + img * p.ys.n + oh * p.ys.h + ow * p.ys.w;
  }
  for (int gb = blockIdx.y; gb < p.groups * p.kblocks; gb += gridDim.y) {
    const int g = gb / p.kblocks;
    const int k0 = g * p.kg + (gb - g * p.kblocks) * p.kb;
    const int k1 = k0 + p.kb < g * p.kg + p.kg ? k0 + p.kb : g * p.kg + p.kg;
    const T* __restrict__ xg = p.xp + base + int64_t(g) * p.cg * p.plane;
    // The block's rows are one contiguous run of entries: it is staged in chunks of
    // kThreads whatever the rows' lengths, and a row is stored when the run passes
    // its end (empty rows at once), so short rows cost no barriers of their own.
    const int64_t e_end = p.row_ptr[k1];
    int k = k0;
    int64_t row_end = p.row_ptr[k0 + 1];
    Acc acc0 = Acc(0), acc1 = Acc(0);  // two chains, to hide the load latency
    auto store_rows_ending_at = [&](int64_t e) {
      for (; k < k1 && row_end == e; ++k) {
        if (valid) {
          T* out = yp + int64_t(k) * p.ys.c;
          Acc v = p.alpha * (acc0 + acc1);
          if constexpr (!kBetaZero) v += p.beta * to_acc(*out);
          if (p.bias) v += to_acc(p.bias[k]);
          *out = from_acc<T>(v);
        }
        acc0 = acc1 = Acc(0);
        if (k + 1 < k1) row_end = p.row_ptr[k + 2];
      }
    };
    store_rows_ending_at(p.row_ptr[k0]);
    for (int64_t c0 = p.row_ptr[k0]; c0 < e_end; c0 += kThreads) {
      const int n = e_end - c0 < kThreads ? int(e_end - c0) : kThreads;
      __syncthreads();  // the previous chunk is consumed
      if (threadIdx.x < n) {
        const Tap t = split_crs32(int(col[c0 + threadIdx.x]), p.r, p.s);
        s_val[threadIdx.x] = to_acc(p.val[c0 + threadIdx.x]);
        s_off[threadIdx.x] = t.c * p.plane + t.r * p.dil_h * p.wp + t.s * p.dil_w;
      }
      __syncthreads();
      for (int e = 0; e < n;) {
        const int seg = row_end - c0 < n ? int(row_end - c0) : n;  // this row's part
        if (valid) {
          for (; e + 2 <= seg; e += 2) {
            acc0 += s_val[e] * to_acc(xg[s_off[e]]);
            acc1 += s_val[e + 1] * to_acc(xg[s_off[e + 1]]);
          }
          if (e < seg) acc0 += s_val[e] * to_acc(xg[s_off[e]]);
        }
        e = seg;
        store_rows_ending_at(c0 + e);
      }
    }
  }
}

struct Layout {
  size_t csr, padded, total;
};

Layout layout(const ConvFwdArgs& a) {
  const size_t elem = dtype_size(a.dtype);
  Layout l;
  l.csr = line_up(filter_csr_bytes(a));
  l.padded = line_up(size_t(padded(a.sh).elements) * elem);
  l.total = kLine + l.csr + l.padded;  // kLine: to align the pointer
  return l;
}

}  // namespace

bool direct_sparse_fits(const ConvShape& sh, std::string* why) {
  const Padded pd = padded(sh);
  if (pd.plane * sh.c_per_group() > INT32_MAX || pd.wp > INT32_MAX) {
    *why = "a group's padded input exceeds 2^31 elements (32-bit tap offsets)";
    return false;
  }
  if (sh.crs() > INT32_MAX) {
    *why = "c/groups * r * s exceeds 2^31 - 1";
    return false;
  }
  if (ceil_div(int64_t(sh.n) * sh.p * sh.q, kThreads) > INT32_MAX) {
    *why = "n * p * q exceeds what one grid covers";
    return false;
  }
  return true;
}

size_t direct_sparse_workspace(const ConvFwdArgs& a) { return layout(a).total; }

dsdkStatus_t direct_sparse_fwd(const ConvFwdArgs& a, void* ws, size_t, void* stream,
                               std::string* msg) {
  const ConvShape& sh = a.sh;
  const cudaStream_t strm = static_cast<cudaStream_t>(stream);
  CsrView w;
  char* rest = nullptr;
  const dsdkStatus_t st = sparse_operands(a, ws, stream, &w, &rest, msg);
  if (st != DSDK_STATUS_SUCCESS) return st;
  const Padded pd = padded(sh);
  const int64_t total = int64_t(sh.n) * sh.p * sh.q;
  const int64_t gx = ceil_div(total, kThreads);
  const int kg = sh.k_per_group();
  const int kb = int(std::max<int64_t>(
      1, std::min<int64_t>({kMaxChannels, kg, int64_t(kg) * sh.groups * gx / kTargetBlocks})));
  const int kblocks = int(ceil_div(kg, kb));
  const unsigned gy = unsigned(std::min<int64_t>(int64_t(sh.groups) * kblocks, kMaxGridY));
  return dtype_switch(a.dtype, [&](auto tag) -> dsdkStatus_t {
    using T = typename decltype(tag)::type;
    dsdkStatus_t s = check_aligned_xy<T>(a, msg);
    if (s != DSDK_STATUS_SUCCESS) return s;
    T* xp = reinterpret_cast<T*>(rest);
    const unsigned pad_blocks =
        unsigned(std::min(ceil_div(pd.elements, kPadThreads), kPadMaxBlocks));
    pad_kernel<T><<<pad_blocks, kPadThreads, 0, strm>>>(
        static_cast<const T*>(a.x), a.xs, pd.elements, sh.c, sh.h, sh.w, sh.pad_h, sh.pad_w,
        int(pd.hp), int(pd.wp), xp);
    s = launch_status("conv forward direct_sparse pad_kernel", msg);
    if (s != DSDK_STATUS_SUCCESS) return s;
    const DirectParams<T> p{xp, w.row_ptr, static_cast<const T*>(w.val), w.col,
                            static_cast<T*>(a.y), a.ys, total, sh.p * sh.q, sh.q, sh.c,
                            sh.c_per_group(), kg, sh.groups, kb, kblocks, int(pd.wp),
                            int(pd.plane), sh.r, sh.s, sh.stride_h, sh.stride_w,
                            sh.dil_h, sh.dil_w, acc_t<T>(a.alpha), acc_t<T>(a.beta),
                            static_cast<const T*>(a.bias)};
    return col_switch(w, [&](auto idx) {
      using I = decltype(idx);
      return bool_switch(a.beta == 0.0, [&](auto beta_zero) {
        direct_sparse_kernel<T, I, decltype(beta_zero)::value>
            <<<dim3(unsigned(gx), gy), kThreads, 0, strm>>>(p);
        return launch_status("conv forward direct_sparse_kernel", msg);
      });
    });
  });
}

}  // namespace cuda
}  // namespace dsdk
