// The body of MaxPoolPlaneFn (cpu/max_pool_kernels.h), written once; each max_pool*.cpp
// includes it under its own target pragma (internal linkage, so the copies never mix).
//
// Each output row is two passes over a row buffer. The vertical pass takes, for every
// input column, the max over the window's valid input rows; it stores the result split
// by stride phase (column q of the padded row goes to phase q % stride, slot
// q / stride), so that the horizontal pass, which takes window tap k of output j from
// padded column j * stride + k * dilation, reads phase (k * dilation) % stride at slot
// j + (k * dilation) / stride: a unit-stride read for every stride and dilation, which
// the compiler vectorises. Padding columns are -inf and stay so (the vertical pass
// writes the input's columns only). Stride 1 and 2 along w with a unit-stride w axis get
// their own instantiations; the rest runs the same code with run-time strides.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "cpu/max_pool_kernels.h"

namespace dsdk {
namespace cpu {
namespace {

// torch's rule: a NaN in the window wins (and stays once it is the running max).
template <class T>
inline T nan_max(T acc, T v) {
  return (v > acc || v != v) ? v : acc;
}

inline int64_t ceil_div(int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; }

template <class T>
struct PoolPlane {
  const PoolShape& s;
  int64_t phase_len;
  int64_t xs_h, xs_w, ys_h, ys_w;

  // Slot range [begin, end) of phase p that holds input columns.
  void columns(int64_t p, int64_t* begin, int64_t* end) const {
    const int64_t q_end = std::min(s.pad_w + s.w, (s.out_w - 1) * s.stride_w +
                                                      (s.win_w - 1) * s.dil_w + 1);
    *begin = ceil_div(s.pad_w - p, s.stride_w);
    *end = std::max(*begin, ceil_div(q_end - p, s.stride_w));
  }

  // SW: the w stride when known at compile time (0: s.stride_w); UnitW: xs_w == 1.
  template <int SW, bool UnitW>
  void vertical(const T* x, int64_t i, T* buf) const {
    const int64_t sw = SW ? SW : s.stride_w, step = sw * (UnitW ? 1 : xs_w);
    const int64_t r0 = i * s.stride_h - s.pad_h;
    const int64_t k_lo = r0 < 0 ? ceil_div(-r0, s.dil_h) : 0;
    const int64_t k_hi = std::min(s.win_h, ceil_div(s.h - r0, s.dil_h));
    for (int64_t p = 0; p < sw; ++p) {
      int64_t jb, je;
      columns(p, &jb, &je);
      T* dst = buf + p * phase_len;
      if (k_lo >= k_hi) {  // the window covers padding rows only
        std::fill(dst + jb, dst + je, -std::numeric_limits<T>::infinity());
        continue;
      }
      // Input column of slot j is p + sw * j - pad_w.
      const int64_t col0 = (p - s.pad_w) * (UnitW ? 1 : xs_w);
      const T* row = x + (r0 + k_lo * s.dil_h) * xs_h + col0;
      for (int64_t j = jb; j < je; ++j) dst[j] = row[j * step];
      for (int64_t k = k_lo + 1; k < k_hi; ++k) {
        row = x + (r0 + k * s.dil_h) * xs_h + col0;
        for (int64_t j = jb; j < je; ++j) dst[j] = nan_max(dst[j], row[j * step]);
      }
    }
  }

  void horizontal(const T* buf, T* out) const {
    const int64_t ow = s.out_w;
    std::copy(buf, buf + ow, out);
    for (int64_t k = 1; k < s.win_w; ++k) {
      const int64_t q = k * s.dil_w;
      const T* src = buf + (q % s.stride_w) * phase_len + q / s.stride_w;
      for (int64_t j = 0; j < ow; ++j) out[j] = nan_max(out[j], src[j]);
    }
  }

  template <int SW, bool UnitW>
  void run(const T* x, T* y, T* buf) const {
    T* row_out = buf + s.stride_w * phase_len;
    for (int64_t i = 0; i < s.out_h; ++i) {
      vertical<SW, UnitW>(x, i, buf);
      T* yi = y + i * ys_h;
      if (ys_w == 1) {
        horizontal(buf, yi);
      } else {
        horizontal(buf, row_out);
        for (int64_t j = 0; j < s.out_w; ++j) yi[j * ys_w] = row_out[j];
      }
    }
  }
};

template <class T>
void pool_plane(const MaxPoolArgs& a, int64_t plane, T* buf) {
  const PoolPlane<T> p{a.s, max_pool_phase_len(a.s), a.xs_h, a.xs_w, a.ys_h, a.ys_w};
  const int64_t ni = plane / a.c, ci = plane % a.c;
  const T* x = static_cast<const T*>(a.x) + ni * a.xs_n + ci * a.xs_c;
  T* y = static_cast<T*>(a.y) + ni * a.ys_n + ci * a.ys_c;
  const bool unit = a.xs_w == 1;
  if (a.s.stride_w == 1 && unit) p.template run<1, true>(x, y, buf);
  else if (a.s.stride_w == 2 && unit) p.template run<2, true>(x, y, buf);
  else if (unit) p.template run<0, true>(x, y, buf);
  else p.template run<0, false>(x, y, buf);
}

template <class T>
MaxPoolKernels<T> max_pool_table(const char* isa) {
  return MaxPoolKernels<T>{isa, &pool_plane<T>};
}

}  // namespace
}  // namespace cpu
}  // namespace dsdk
