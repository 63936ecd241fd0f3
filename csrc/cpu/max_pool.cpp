// Max pooling on the CPU, one (image, channel) plane per task.
//
// Each output row is two passes over a row buffer. The vertical pass takes, for every
// input column, the max over the window's valid input rows; it stores the result
// split by stride phase (column q of the padded row goes to phase q % stride, slot
// q / stride), so that the horizontal pass, which takes window tap k of output j from
// padded column j * stride + k * dilation, reads phase (k * dilation) % stride at slot
// j + (k * dilation) / stride: a unit-stride read for every stride and dilation, which
// the compiler vectorises. Padding columns are -inf and stay so (the vertical pass
// writes the input's columns only). Stride 1 and 2 along w and a unit-stride w axis get
// their own instantiations; the rest runs the same code with run-time strides.
#include <omp.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "core/pool_backends.h"
#include "cpu/threads.h"

namespace dsdk {
namespace cpu {
namespace {

// torch's rule: a NaN in the window wins (and stays once it is the running max).
template <class T>
inline T nan_max(T acc, T v) {
  return (v > acc || v != v) ? v : acc;
}

int64_t ceil_div(int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; }

template <class T>
struct Plane {
  const PoolShape& s;
  int64_t phase_len;  // slots per stride phase of the padded row
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

  // buf: the phases, then out_w slots for an output row with a non-unit stride.
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
dsdkStatus_t run(const MaxPoolArgs& a, int num_threads) {
  const PoolShape& s = a.s;
  const int64_t padded_w = (s.out_w - 1) * s.stride_w + (s.win_w - 1) * s.dil_w + 1;
  const Plane<T> plane{s, ceil_div(padded_w, s.stride_w), a.xs_h, a.xs_w, a.ys_h, a.ys_w};
  const int64_t planes = a.n * a.c;
  const int64_t work = planes * (s.h * s.w + s.out_h * s.out_w * s.win_h * s.win_w);
  const int threads = int(std::min<int64_t>(threads_for(work, num_threads), planes));
  const int64_t per_thread = s.stride_w * plane.phase_len + s.out_w;
  std::vector<T> bufs(size_t(threads * per_thread), -std::numeric_limits<T>::infinity());
  const T* x = static_cast<const T*>(a.x);
  T* y = static_cast<T*>(a.y);
  const bool unit = a.xs_w == 1;
  auto body = [&](auto sw, auto unit_w, const T* xp, T* yp, T* buf) {
    plane.template run<decltype(sw)::value, decltype(unit_w)::value>(xp, yp, buf);
  };
  using One = std::integral_constant<int, 1>;
  using Two = std::integral_constant<int, 2>;
  using Any = std::integral_constant<int, 0>;
  using Yes = std::true_type;
  using No = std::false_type;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t pl = 0; pl < planes; ++pl) {
    const int64_t ni = pl / a.c, ci = pl % a.c;
    const T* xp = x + ni * a.xs_n + ci * a.xs_c;
    T* yp = y + ni * a.ys_n + ci * a.ys_c;
    T* buf = bufs.data() + omp_get_thread_num() * per_thread;
    if (s.stride_w == 1 && unit) body(One{}, Yes{}, xp, yp, buf);
    else if (s.stride_w == 2 && unit) body(Two{}, Yes{}, xp, yp, buf);
    else if (unit) body(Any{}, Yes{}, xp, yp, buf);
    else body(Any{}, No{}, xp, yp, buf);
  }
  return DSDK_STATUS_SUCCESS;
}

}  // namespace

dsdkStatus_t max_pool_forward(const MaxPoolArgs& a, int num_threads) {
  if (a.n == 0) return DSDK_STATUS_SUCCESS;
  return a.dtype == DSDK_DATA_DOUBLE ? run<double>(a, num_threads)
                                     : run<float>(a, num_threads);
}

}  // namespace cpu
}  // namespace dsdk
