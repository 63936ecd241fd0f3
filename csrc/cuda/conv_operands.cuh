// The convolution as three implicit GEMMs (index map in core/conv_index.h), as operand
// loaders and epilogues for implicit_gemm_kernel. Per group g:
//   forward        Y[m, j]  = sum_kk (W ⊙ M)[m, kk] * X̂[kk, j]     M = k/groups, j = (img, p, q)
//   backward data  dX[c, j] = sum_kk (W ⊙ M)ᵀ[c, kk] * dŶ[kk, j]    kk = (m, r, s), j = (img, h, w)
//   backward filter dW[m, kk] = sum_j dY[m, j] * X̂ᵀ[j, kk]          j = (img, p, q), reduced
// X̂ and dŶ are read straight from x / dy with their strides (zero outside the image or
// where a tap does not hit an output position); the mask is applied as W is loaded.
#pragma once
#include <cstdint>

#include "core/conv_index.h"
#include "core/conv_params.h"
#include "cuda/implicit_gemm.cuh"
#include "cuda/numeric.cuh"

namespace dsdk {
namespace cuda {

// ConvShape plus the products the kernels index with; the host checks that every
// product fits comfortably in int (conv_implicit_gemm.cu, make_geom).
struct ConvGeom {
  int n, c, h, w, k, r, s, groups, cg, kg, p, q;
  int pad_h, pad_w, stride_h, stride_w, dil_h, dil_w;
  int rs, crs, krs, pq, hw;  // r*s, cg*r*s, kg*r*s, p*q, h*w
};

template <class T>
struct FwdParams {
  ConvGeom geo;
  const T* __restrict__ x; Strides4 xs;
  const T* __restrict__ w;
  const uint8_t* __restrict__ mask;
  T* y; Strides4 ys;
  acc_t<T> alpha, beta;
  const T* __restrict__ bias;  // k elements, or null
};

template <class T>
struct BwdDataParams {
  ConvGeom geo;
  const T* __restrict__ w;
  const uint8_t* __restrict__ mask;
  const T* __restrict__ dy; Strides4 dys;
  T* dx; Strides4 dxs;
  acc_t<T> alpha, beta;
};

// The GEMM writes raw per-split sums; bwd_filter_finish_kernel applies alpha, mask, beta.
template <class T>
struct BwdFilterParams {
  ConvGeom geo;
  const T* __restrict__ x; Strides4 xs;
  const T* __restrict__ dy; Strides4 dys;
  acc_t<T>* partial;  // [split][k][crs]
};

// The reduction index j = img * pq + pix of the filter gradient, advanced BK at a time
// without 64-bit division.
struct PixelCursor {
  int img, pix;
  __device__ PixelCursor(int64_t j, int pq) {
    const int64_t i = j / pq;
    img = int(i);
    pix = int(j - i * pq);
  }
  __device__ void advance(int step, int pq) {
    pix += step;
    if (pix >= pq) {  // crossed into a later image; pq may be smaller than step
      const int d = pix / pq;
      img += d;
      pix -= d * pq;
    }
  }
};

template <class T, class Tile, bool kMask, bool kBetaZero>
struct FwdOp {
  using Cfg = Tile;
  using Acc = acc_t<T>;
  using Params = FwdParams<T>;

  // A[m, kk] = (w ⊙ mask)[g*kg + m, kk]: filter rows, contiguous in kk.
  struct ALoader {
    using Map = SliceMap<Cfg, Cfg::BM, true>;
    const T* __restrict__ w;
    const uint8_t* __restrict__ mask;
    int m0, kg, crs, k0;
    __device__ ALoader(const Params& p, int group, int m0_, int64_t k_begin)
        : w(p.w + int64_t(group) * p.geo.kg * p.geo.crs), mask(nullptr), m0(m0_),
          kg(p.geo.kg), crs(p.geo.crs), k0(int(k_begin)) {
      if constexpr (kMask) mask = p.mask + int64_t(group) * p.geo.kg * p.geo.crs;
    }
    __device__ void load(Acc (&v)[Map::kPerThread]) {
      const int kk = k0 + Map::k(threadIdx.x, 0);
#pragma unroll
      for (int i = 0; i < Map::kPerThread; ++i) {
        const int m = m0 + Map::mn(threadIdx.x, i);
        Acc val = Acc(0);
        if (m < kg && kk < crs) {
          const int64_t off = int64_t(m) * crs + kk;
          if (!kMask || mask[off]) val = to_acc(w[off]);
        }
        v[i] = val;
      }
      k0 += Cfg::BK;
    }
  };

  // B[kk, j] = x[img, g*cg + c, h, w] read through tap kk = (c, r, s) of output pixel j
  // (the im2col matrix, never built); each thread keeps one pixel.
  struct BLoader {
    using Map = SliceMap<Cfg, Cfg::BN, false>;
    const T* __restrict__ x;  // image and first channel of the group; null past the last pixel
    Strides4 xs;
    ConvGeom geo;
    int op, oq, k0;
    __device__ BLoader(const Params& p, int group, int64_t n0, int64_t k_begin)
        : x(nullptr), xs(p.xs), geo(p.geo), op(0), oq(0), k0(int(k_begin)) {
      const int64_t j = n0 + Map::mn(threadIdx.x, 0);
      if (j < int64_t(geo.n) * geo.pq) {
        const int64_t img = j / geo.pq;
        const int pix = int(j - img * geo.pq);
        op = pix / geo.q;
        oq = pix - op * geo.q;
        x = p.x + img * xs.n + int64_t(group) * geo.cg * xs.c;
      }
    }
    __device__ void load(Acc (&v)[Map::kPerThread]) {
#pragma unroll
      for (int i = 0; i < Map::kPerThread; ++i) {
        const int kk = k0 + Map::k(threadIdx.x, i);
        Acc val = Acc(0);
        if (x && kk < geo.crs) {
          const Tap t = split_crs32(kk, geo.r, geo.s);
          const int hi = input_coord(op, t.r, geo.stride_h, geo.pad_h, geo.dil_h);
          const int wi = input_coord(oq, t.s, geo.stride_w, geo.pad_w, geo.dil_w);
          if (inside(hi, geo.h) && inside(wi, geo.w))
            val = to_acc(x[t.c * xs.c + hi * xs.h + wi * xs.w]);
        }
        v[i] = val;
      }
      k0 += Cfg::BK;
    }
  };

  struct Epilogue {
    T* y;  // first channel of the group
    const T* bias;  // the group's first channel's, or null
    Strides4 ys;
    int pq, q;
    Acc alpha, beta;
    __device__ Epilogue(const Params& p, int group, int)
        : y(p.y + int64_t(group) * p.geo.kg * p.ys.c),
          bias(p.bias ? p.bias + int64_t(group) * p.geo.kg : nullptr), ys(p.ys), pq(p.geo.pq),
          q(p.geo.q), alpha(p.alpha), beta(p.beta) {}
    __device__ T* column(int64_t j) const {
      const int64_t img = j / pq;
      const int pix = int(j - img * pq);
      const int op = pix / q;
      return y + img * ys.n + op * ys.h + (pix - op * q) * ys.w;
    }
    __device__ void store(int m, T* col, Acc v) const {
      T* out = col + m * ys.c;
      Acc r = alpha * v;
      if constexpr (!kBetaZero) r += beta * to_acc(*out);
      if (bias) r += to_acc(bias[m]);
      *out = from_acc<T>(r);
    }
  };
};

template <class T, class Tile, bool kMask, bool kBetaZero>
struct BwdDataOp {
  using Cfg = Tile;
  using Acc = acc_t<T>;
  using Params = BwdDataParams<T>;

  // A[c, kk] = (w ⊙ mask)[g*kg + m, c, r, s] with kk = (m, r, s): runs of r*s contiguous taps.
  struct ALoader {
    using Map = SliceMap<Cfg, Cfg::BM, true>;
    const T* __restrict__ w;
    const uint8_t* __restrict__ mask;
    int m0, cg, rs, krs, k0;
    __device__ ALoader(const Params& p, int group, int m0_, int64_t k_begin)
        : w(p.w + int64_t(group) * p.geo.kg * p.geo.crs), mask(nullptr), m0(m0_),
          cg(p.geo.cg), rs(p.geo.rs), krs(p.geo.krs), k0(int(k_begin)) {
      if constexpr (kMask) mask = p.mask + int64_t(group) * p.geo.kg * p.geo.crs;
    }
    __device__ void load(Acc (&v)[Map::kPerThread]) {
      const int kk = k0 + Map::k(threadIdx.x, 0);
      const int m = kk / rs, tap = kk - m * rs;
#pragma unroll
      for (int i = 0; i < Map::kPerThread; ++i) {
        const int c = m0 + Map::mn(threadIdx.x, i);
        Acc val = Acc(0);
        if (c < cg && kk < krs) {
          const int64_t off = (int64_t(m) * cg + c) * rs + tap;
          if (!kMask || mask[off]) val = to_acc(w[off]);
        }
        v[i] = val;
      }
      k0 += Cfg::BK;
    }
  };

  // B[kk, j] = dy[img, g*kg + m, p', q'] where input pixel (h, w) of column j is fed by
  // output pixel (p', q') through tap (r, s); zero where no output pixel does.
  struct BLoader {
    using Map = SliceMap<Cfg, Cfg::BN, false>;
    const T* __restrict__ dy;  // image and first channel of the group; null past the last pixel
    Strides4 dys;
    ConvGeom geo;
    int hi, wi, k0;
    __device__ BLoader(const Params& p, int group, int64_t n0, int64_t k_begin)
        : dy(nullptr), dys(p.dys), geo(p.geo), hi(0), wi(0), k0(int(k_begin)) {
      const int64_t j = n0 + Map::mn(threadIdx.x, 0);
      if (j < int64_t(geo.n) * geo.hw) {
        const int64_t img = j / geo.hw;
        const int pix = int(j - img * geo.hw);
        hi = pix / geo.w;
        wi = pix - hi * geo.w;
        dy = p.dy + img * dys.n + int64_t(group) * geo.kg * dys.c;
      }
    }
    __device__ void load(Acc (&v)[Map::kPerThread]) {
#pragma unroll
      for (int i = 0; i < Map::kPerThread; ++i) {
        const int kk = k0 + Map::k(threadIdx.x, i);
        Acc val = Acc(0);
        if (dy && kk < geo.krs) {
          const Tap t = split_crs32(kk, geo.r, geo.s);  // t.c is the output channel m
          const int op = output_coord(hi, t.r, geo.stride_h, geo.pad_h, geo.dil_h, geo.p);
          const int oq = output_coord(wi, t.s, geo.stride_w, geo.pad_w, geo.dil_w, geo.q);
          if (op >= 0 && oq >= 0) val = to_acc(dy[t.c * dys.c + op * dys.h + oq * dys.w]);
        }
        v[i] = val;
      }
      k0 += Cfg::BK;
    }
  };

  struct Epilogue {
    T* dx;  // first channel of the group
    Strides4 dxs;
    int hw, w;
    Acc alpha, beta;
    __device__ Epilogue(const Params& p, int group, int)
        : dx(p.dx + int64_t(group) * p.geo.cg * p.dxs.c), dxs(p.dxs), hw(p.geo.hw), w(p.geo.w),
          alpha(p.alpha), beta(p.beta) {}
    __device__ T* column(int64_t j) const {
      const int64_t img = j / hw;
      const int pix = int(j - img * hw);
      const int hi = pix / w;
      return dx + img * dxs.n + hi * dxs.h + (pix - hi * w) * dxs.w;
    }
    __device__ void store(int c, T* col, Acc v) const {
      T* out = col + c * dxs.c;
      Acc r = alpha * v;
      if constexpr (!kBetaZero) r += beta * to_acc(*out);
      *out = from_acc<T>(r);
    }
  };
};

template <class T, class Tile>
struct BwdFilterOp {
  using Cfg = Tile;
  using Acc = acc_t<T>;
  using Params = BwdFilterParams<T>;

  // A[m, j] = dy[img, g*kg + m, p, q]; every register of a thread shares one j.
  struct ALoader {
    using Map = SliceMap<Cfg, Cfg::BM, true>;
    const T* __restrict__ dy;  // first channel of the group
    Strides4 dys;
    int m0, kg, n, pq, q;
    PixelCursor at;
    __device__ ALoader(const Params& p, int group, int m0_, int64_t k_begin)
        : dy(p.dy + int64_t(group) * p.geo.kg * p.dys.c), dys(p.dys), m0(m0_), kg(p.geo.kg),
          n(p.geo.n), pq(p.geo.pq), q(p.geo.q),
          at(k_begin + Map::k(threadIdx.x, 0), p.geo.pq) {}
    __device__ void load(Acc (&v)[Map::kPerThread]) {
      const bool valid = at.img < n;
      const int op = at.pix / q, oq = at.pix - op * q;
      const int64_t base = int64_t(at.img) * dys.n + op * dys.h + oq * dys.w;
#pragma unroll
      for (int i = 0; i < Map::kPerThread; ++i) {
        const int m = m0 + Map::mn(threadIdx.x, i);
        v[i] = valid && m < kg ? to_acc(dy[base + m * dys.c]) : Acc(0);
      }
      at.advance(Cfg::BK, pq);
    }
  };

  // B[j, kk] = x[img, g*cg + c, h, w] for tap kk = (c, r, s): a thread's columns are fixed,
  // so their taps are split once.
  struct BLoader {
    using Map = SliceMap<Cfg, Cfg::BN, true>;
    const T* __restrict__ x;  // first channel of the group
    Strides4 xs;
    ConvGeom geo;
    int64_t chan[Map::kPerThread];  // channel offset of each column; -1 past the last tap
    int tap_r[Map::kPerThread], tap_s[Map::kPerThread];
    PixelCursor at;
    __device__ BLoader(const Params& p, int group, int64_t n0, int64_t k_begin)
        : x(p.x + int64_t(group) * p.geo.cg * p.xs.c), xs(p.xs), geo(p.geo),
          at(k_begin + Map::k(threadIdx.x, 0), p.geo.pq) {
#pragma unroll
      for (int i = 0; i < Map::kPerThread; ++i) {
        const int64_t col = n0 + Map::mn(threadIdx.x, i);
        chan[i] = -1;
        tap_r[i] = tap_s[i] = 0;
        if (col < geo.crs) {
          const Tap t = split_crs32(int(col), geo.r, geo.s);
          chan[i] = t.c * xs.c;
          tap_r[i] = t.r;
          tap_s[i] = t.s;
        }
      }
    }
    __device__ void load(Acc (&v)[Map::kPerThread]) {
      const bool valid = at.img < geo.n;
      const int op = at.pix / geo.q, oq = at.pix - op * geo.q;
      const int64_t base = int64_t(at.img) * xs.n;
#pragma unroll
      for (int i = 0; i < Map::kPerThread; ++i) {
        Acc val = Acc(0);
        if (valid && chan[i] >= 0) {
          const int hi = input_coord(op, tap_r[i], geo.stride_h, geo.pad_h, geo.dil_h);
          const int wi = input_coord(oq, tap_s[i], geo.stride_w, geo.pad_w, geo.dil_w);
          if (inside(hi, geo.h) && inside(wi, geo.w))
            val = to_acc(x[base + chan[i] + hi * xs.h + wi * xs.w]);
        }
        v[i] = val;
      }
      at.advance(Cfg::BK, geo.pq);
    }
  };

  struct Epilogue {
    Acc* part;  // this split's [k][crs] slab, at the group's first filter
    int crs;
    __device__ Epilogue(const Params& p, int group, int split)
        : part(p.partial + (int64_t(split) * p.geo.k + int64_t(group) * p.geo.kg) * p.geo.crs),
          crs(p.geo.crs) {}
    __device__ int64_t column(int64_t kk) const { return kk; }
    __device__ void store(int m, int64_t kk, Acc v) const { part[int64_t(m) * crs + kk] = v; }
  };
};

// dw = alpha * (sum of the splits' partial sums ⊙ mask) + beta * dw over the k*crs filter
// elements; with no splits (empty batch) the sum is zero.
template <class T, bool kMask, bool kBetaZero>
__global__ void bwd_filter_finish_kernel(const acc_t<T>* __restrict__ partial, int splits,
                                         int64_t count, const uint8_t* __restrict__ mask, T* dw,
                                         acc_t<T> alpha, acc_t<T> beta) {
  using Acc = acc_t<T>;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < count; e += stride) {
    Acc v = Acc(0);
    if (!kMask || mask[e]) {
      Acc sum = Acc(0);
      for (int sp = 0; sp < splits; ++sp) sum += partial[sp * count + e];
      v = alpha * sum;
    }
    if constexpr (!kBetaZero) v += beta * to_acc(dw[e]);
    dw[e] = from_acc<T>(v);
  }
}

}  // namespace cuda
}  // namespace dsdk
