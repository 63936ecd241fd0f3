// Portable microkernel and im2col packer, and the run-time choice among the ISAs.
#include <algorithm>
#include <atomic>

#include "cpu/gemm_kernels.h"

namespace dsdk {
namespace cpu {
namespace {

constexpr int kMr = 4, kNr = 8;

template <typename T>
void tile_generic(int64_t kc, const T* a, const T* b, const TileOut<T>& out, int m, int n) {
  T acc[kMr * kNr] = {};
  for (int64_t k = 0; k < kc; ++k, a += kMr, b += kNr)
    for (int i = 0; i < kMr; ++i)
      for (int j = 0; j < kNr; ++j) acc[i * kNr + j] += a[i] * b[j];
  store_tile_scalar(acc, kNr, out, m, n);
}

template <typename T>
const Microkernel<T> kGeneric{"generic",       kMr,
                              kNr,             256,
                              512,             tile_generic<T>,
                              pack_im2col_generic<T>, pack_rows_generic<T>};

Isa detect() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return Isa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
#endif
  return Isa::kGeneric;
}

std::atomic<int> g_limit{int(Isa::kAvx512)};

}  // namespace

template <typename T>
void pack_im2col_generic(const Im2colTile<T>& t, T* dst) {
  const int nr = t.width;
  const int np = (t.nc + nr - 1) / nr;
  for (int p = 0; p < np; ++p) {
    T* pd = dst + p * t.kc * nr;
    for (int64_t k = 0; k < t.kc; ++k) {
      T* row = pd + k * nr;
      std::fill(row, row + nr, T(0));
      const Im2colTap tap = t.taps[k];
      for (int si = t.panel_seg[p]; si < t.panel_seg[p + 1]; ++si) {
        const Im2colSeg& sg = t.segs[si];
        const int h = sg.h0 + tap.dh;
        if (unsigned(h) >= unsigned(t.H)) continue;
        const int w0 = sg.w0 + tap.dw;
        int lo, hi;
        valid_lanes(w0, t.wstep, t.W, sg.len, &lo, &hi);
        const T* sp = t.src + sg.base + tap.off + h * t.hs + int64_t(w0) * t.ws;
        const int64_t step = int64_t(t.wstep) * t.ws;
        for (int l = lo; l < hi; ++l) row[sg.lane + l] = sp[l * step];
      }
    }
  }
}

template <typename T>
void pack_rows_generic(const T* src, int64_t ld, const uint8_t* mask, int rows, int width,
                       int64_t K, T* dst, int64_t dst_stride) {
  for (int i = 0; i < width; ++i) {
    const T* s = src + i * ld;
    const uint8_t* m = mask ? mask + i * ld : nullptr;
    T* d = dst + i;
    if (i >= rows)
      for (int64_t k = 0; k < K; ++k) d[k * dst_stride] = T(0);
    else if (m)
      for (int64_t k = 0; k < K; ++k) d[k * dst_stride] = m[k] ? s[k] : T(0);
    else
      for (int64_t k = 0; k < K; ++k) d[k * dst_stride] = s[k];
  }
}

template <typename T>
const Microkernel<T>* generic_kernel() {
  return &kGeneric<T>;
}

Isa force_isa(Isa isa) {
  g_limit.store(int(isa));
  return std::min(detect(), isa);
}

Isa active_isa() {
  static const Isa best = detect();
  return std::min(best, Isa(g_limit.load()));
}

template <typename T>
const Microkernel<T>& microkernel() {
  const Isa use = active_isa();
  if (use == Isa::kAvx512 && avx512_kernel<T>()) return *avx512_kernel<T>();
  if (use >= Isa::kAvx2 && avx2_kernel<T>()) return *avx2_kernel<T>();
  return kGeneric<T>;
}

template void pack_im2col_generic<float>(const Im2colTile<float>&, float*);
template void pack_im2col_generic<double>(const Im2colTile<double>&, double*);
template void pack_rows_generic<float>(const float*, int64_t, const uint8_t*, int, int, int64_t,
                                       float*, int64_t);
template void pack_rows_generic<double>(const double*, int64_t, const uint8_t*, int, int, int64_t,
                                        double*, int64_t);
template const Microkernel<float>* generic_kernel<float>();
template const Microkernel<double>* generic_kernel<double>();
template const Microkernel<float>& microkernel<float>();
template const Microkernel<double>& microkernel<double>();

}  // namespace cpu
}  // namespace dsdk
