// CPU masked convolution, first correct version: direct loops over the implicit-GEMM
// index space (the packed engine replaces the bodies).
#include <cstdint>

#include "core/conv_backends.h"
#include "core/conv_index.h"

namespace dsdk {
namespace cpu {
namespace {

template <typename T>
T masked_w(const T* w, const uint8_t* mask, int64_t i) {
  return (mask && !mask[i]) ? T(0) : w[i];
}

template <typename T>
void fwd(const ConvFwdArgs& a, int nt) {
  const ConvShape& sh = a.sh;
  const T* x = static_cast<const T*>(a.x);
  const T* w = static_cast<const T*>(a.w);
  T* y = static_cast<T*>(a.y);
  const int cg = sh.c_per_group(), kg = sh.k_per_group();
  const T alpha = T(a.alpha), beta = T(a.beta);
#pragma omp parallel for collapse(2) num_threads(nt) schedule(static)
  for (int n = 0; n < sh.n; ++n)
    for (int k = 0; k < sh.k; ++k) {
      const int g = k / kg;
      for (int p = 0; p < sh.p; ++p)
        for (int q = 0; q < sh.q; ++q) {
          T acc = 0;
          for (int c = 0; c < cg; ++c)
            for (int r = 0; r < sh.r; ++r) {
              int hi = input_coord(p, r, sh.stride_h, sh.pad_h, sh.dil_h);
              if (!inside(hi, sh.h)) continue;
              for (int s = 0; s < sh.s; ++s) {
                int wi = input_coord(q, s, sh.stride_w, sh.pad_w, sh.dil_w);
                if (!inside(wi, sh.w)) continue;
                int64_t wi_idx = ((int64_t(k) * cg + c) * sh.r + r) * sh.s + s;
                acc += masked_w(w, a.mask, wi_idx) *
                       x[n * a.xs.n + (int64_t(g) * cg + c) * a.xs.c + hi * a.xs.h + wi * a.xs.w];
              }
            }
          T& out = y[n * a.ys.n + k * a.ys.c + p * a.ys.h + q * a.ys.w];
          out = beta == T(0) ? alpha * acc : alpha * acc + beta * out;
        }
    }
}

template <typename T>
void bwd_data(const ConvBwdDataArgs& a, int nt) {
  const ConvShape& sh = a.sh;
  const T* dy = static_cast<const T*>(a.dy);
  const T* w = static_cast<const T*>(a.w);
  T* dx = static_cast<T*>(a.dx);
  const int cg = sh.c_per_group(), kg = sh.k_per_group();
  const T alpha = T(a.alpha), beta = T(a.beta);
#pragma omp parallel for collapse(2) num_threads(nt) schedule(static)
  for (int n = 0; n < sh.n; ++n)
    for (int c = 0; c < sh.c; ++c) {
      const int g = c / cg, cl = c % cg;
      for (int hi = 0; hi < sh.h; ++hi)
        for (int wi = 0; wi < sh.w; ++wi) {
          T acc = 0;
          for (int m = g * kg; m < (g + 1) * kg; ++m)
            for (int r = 0; r < sh.r; ++r) {
              int p = output_coord(hi, r, sh.stride_h, sh.pad_h, sh.dil_h, sh.p);
              if (p < 0) continue;
              for (int s = 0; s < sh.s; ++s) {
                int q = output_coord(wi, s, sh.stride_w, sh.pad_w, sh.dil_w, sh.q);
                if (q < 0) continue;
                int64_t w_idx = ((int64_t(m) * cg + cl) * sh.r + r) * sh.s + s;
                acc += masked_w(w, a.mask, w_idx) *
                       dy[n * a.dys.n + m * a.dys.c + p * a.dys.h + q * a.dys.w];
              }
            }
          T& out = dx[n * a.dxs.n + c * a.dxs.c + hi * a.dxs.h + wi * a.dxs.w];
          out = beta == T(0) ? alpha * acc : alpha * acc + beta * out;
        }
    }
}

template <typename T>
void bwd_filter(const ConvBwdFilterArgs& a, int nt) {
  const ConvShape& sh = a.sh;
  const T* x = static_cast<const T*>(a.x);
  const T* dy = static_cast<const T*>(a.dy);
  T* dw = static_cast<T*>(a.dw);
  const int cg = sh.c_per_group(), kg = sh.k_per_group();
  const int64_t crs = sh.crs();
  const T alpha = T(a.alpha), beta = T(a.beta);
#pragma omp parallel for collapse(2) num_threads(nt) schedule(static)
  for (int k = 0; k < sh.k; ++k)
    for (int64_t kk = 0; kk < crs; ++kk) {
      const int g = k / kg;
      const Tap t = split_crs(kk, sh.r, sh.s);
      const int c = g * cg + t.c;
      T acc = 0;
      for (int n = 0; n < sh.n; ++n)
        for (int p = 0; p < sh.p; ++p) {
          int hi = input_coord(p, t.r, sh.stride_h, sh.pad_h, sh.dil_h);
          if (!inside(hi, sh.h)) continue;
          for (int q = 0; q < sh.q; ++q) {
            int wi = input_coord(q, t.s, sh.stride_w, sh.pad_w, sh.dil_w);
            if (!inside(wi, sh.w)) continue;
            acc += x[n * a.xs.n + c * a.xs.c + hi * a.xs.h + wi * a.xs.w] *
                   dy[n * a.dys.n + k * a.dys.c + p * a.dys.h + q * a.dys.w];
          }
        }
      const int64_t idx = int64_t(k) * crs + kk;
      T v = (a.mask && !a.mask[idx]) ? T(0) : alpha * acc;
      dw[idx] = beta == T(0) ? v : v + beta * dw[idx];
    }
}

}  // namespace

size_t conv_implicit_gemm_workspace(dsdkConvDirection_t, const ConvShape&, dsdkDataType_t, int) {
  return 0;
}

dsdkStatus_t conv_implicit_gemm_fwd(const ConvFwdArgs& a, void*, size_t, int nt, std::string*) {
  if (a.dtype == DSDK_DATA_DOUBLE) fwd<double>(a, nt);
  else fwd<float>(a, nt);
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t conv_implicit_gemm_bwd_data(const ConvBwdDataArgs& a, void*, size_t, int nt,
                                         std::string*) {
  if (a.dtype == DSDK_DATA_DOUBLE) bwd_data<double>(a, nt);
  else bwd_data<float>(a, nt);
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t conv_implicit_gemm_bwd_filter(const ConvBwdFilterArgs& a, void*, size_t, int nt,
                                           std::string*) {
  if (a.dtype == DSDK_DATA_DOUBLE) bwd_filter<double>(a, nt);
  else bwd_filter<float>(a, nt);
  return DSDK_STATUS_SUCCESS;
}

}  // namespace cpu
}  // namespace dsdk
