// The input form shared by the CPU sparse convolutions (direct, im2col-tile), how a
// call is split among threads, and their common entry: pack the filter when the call
// brings a dense one, pick the types.
//
// The input is copied into a zero-padded, stride-decomposed form: for stride (sh, sw)
// each channel becomes sh * sw planes, plane (a, b) holding padded rows a, a + sh, ...
// and columns b, b + sw, ... with one row pitch `ws` for all of them. A filter tap
// (c, r, s) then reads plane ((r·dh) % sh, (s·dw) % sw) shifted by ((r·dh) / sh,
// (s·dw) / sw), so output pixel (oh, ow), flattened as j = oh·ws + ow, reads element
// j + off(c, r, s) for every tap: a contiguous run in j whatever the stride, dilation
// or padding. Lanes with ow >= q are computed and dropped by store_lanes.
//
// The copy is made per band of output rows (the rows the band reads), by the thread
// that computes the band, into its own buffer: threads share no input and meet at no
// barrier, and at batch > 1 each thread simply takes whole images.
#pragma once
#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>

#include <omp.h>

#include "core/conv_params.h"
#include "core/sparse_csr.h"
#include "cpu/gemm_kernels.h"
#include "cpu/sparse_kernels.h"

namespace dsdk {
namespace cpu {

// Vector lanes of the widest ISA, so that workspace sizes do not depend on the ISA.
inline int64_t max_lanes(size_t elem) { return int64_t(64 / elem); }

struct PaddedInput {
  int64_t hs, ws, plane;  // plane extent and its size
  int64_t chan;           // elements of one input channel: sh * sw planes
  int64_t image;          // elements of one band of one image, all channels
  int64_t len;            // flattened output lanes of a band: rows * ws
  int64_t tail;           // zeros after the band, covering the register tiles' overrun
};

// The form of a band of `rows` output rows (sh.p: the whole image).
inline PaddedInput padded_input(const ConvShape& sh, size_t elem, int64_t rows) {
  PaddedInput g;
  const int64_t wp = sh.w + 2 * int64_t(sh.pad_w);
  g.hs = rows + int64_t(sh.r - 1) * sh.dil_h / sh.stride_h;
  g.ws = (wp + sh.stride_w - 1) / sh.stride_w;
  g.plane = g.hs * g.ws;
  g.chan = g.plane * sh.stride_h * sh.stride_w;
  g.image = g.chan * sh.c;
  g.len = rows * g.ws;
  g.tail = 2 * g.len + 2 * kSparseMaxVectors * max_lanes(elem);
  return g;
}

// Work items of a call: `parts` parts of the output channels of `bands` bands of
// `rows` output rows (the last band of an image may have fewer) of each image.
// Bands split large images at batch 1; parts split small ones, whose whole padded
// copy each part then makes (cheaper than the pixels a narrow band would waste).
struct WorkSplit {
  int64_t rows, bands, parts;
  int64_t items(int n) const { return int64_t(n) * bands * parts; }
};

inline WorkSplit split_work(const ConvShape& sh, size_t elem, int threads) {
  WorkSplit w{sh.p, 1, 1};
  if (threads == 1 || sh.n >= 2 * threads || sh.n % threads == 0) return w;
  // A band of fewer lanes than two full register tiles would waste lanes in its tiles.
  const int64_t ws = padded_input(sh, elem, sh.p).ws;
  const int64_t min_rows = (2 * kSparseMaxVectors * max_lanes(elem) + ws - 1) / ws;
  const int64_t want = (2 * threads + sh.n - 1) / sh.n;
  w.bands = std::max<int64_t>(1, std::min<int64_t>(want, sh.p / min_rows));
  w.rows = (sh.p + w.bands - 1) / w.bands;
  w.bands = (sh.p + w.rows - 1) / w.rows;
  const int64_t units = int64_t(sh.n) * w.bands;
  if (units < 2 * threads)
    w.parts = std::min<int64_t>(sh.k_per_group(), (2 * threads + units - 1) / units);
  return w;
}

// Whether 32-bit tap offsets address a group's padded input (and the tiles' overrun).
inline bool padded_input_fits(const ConvShape& sh, std::string* why) {
  // Float: the most lanes, the longest tail; the whole image: the largest band.
  const PaddedInput g = padded_input(sh, sizeof(float), sh.p);
  if (g.chan * sh.c_per_group() + g.tail > INT32_MAX) {
    if (why) *why = "a group's padded input exceeds 2^31 elements (32-bit tap offsets)";
    return false;
  }
  return true;
}

// off(c, r, s) of every tap of one group, indexed like a CSR column (c·r·s + r·s + s);
// the divisions once per (r, s), not per tap.
inline void tap_offsets(const ConvShape& sh, const PaddedInput& g, int32_t* tab) {
  const int taps = sh.r * sh.s;
  for (int r = 0; r < sh.r; ++r)
    for (int s = 0; s < sh.s; ++s) {
      const int rr = r * sh.dil_h, ss = s * sh.dil_w;
      tab[r * sh.s + s] = int32_t(
          (int64_t(rr % sh.stride_h) * sh.stride_w + ss % sh.stride_w) * g.plane +
          int64_t(rr / sh.stride_h) * g.ws + ss / sh.stride_w);
    }
  for (int c = 1; c < sh.c_per_group(); ++c)
    for (int t = 0; t < taps; ++t) tab[c * taps + t] = int32_t(c * g.chan + tab[t]);
}

// Channel c of image x (strides xs) into its sh * sw planes at dst, for the band
// whose first output row is p0. Each row is written once: zeros where it reads padding,
// the image row between (a memset of the whole channel first wrote it twice: the
// ResNet-18 layers ran 0.99-1.03x faster without, batch 1). Plain loops, not library
// calls: rows are short (9 elements at 7x7).
template <typename T>
void pad_channel(const ConvShape& sh, const PaddedInput& g, const T* x, const Strides4& xs, int c,
                 int64_t p0, T* dst) {
  for (int a = 0; a < sh.stride_h; ++a)
    for (int b = 0; b < sh.stride_w; ++b) {
      T* d = dst + (int64_t(a) * sh.stride_w + b) * g.plane;
      int lo, hi;
      valid_lanes(b - sh.pad_w, sh.stride_w, sh.w, int(g.ws), &lo, &hi);
      lo = std::min(lo, int(g.ws));
      hi = std::max(lo, hi);
      const int64_t step = int64_t(sh.stride_w) * xs.w;
      for (int64_t i = 0; i < g.hs; ++i) {
        T* row = d + i * g.ws;
        const int64_t hr = a + (p0 + i) * sh.stride_h - sh.pad_h;
        if (hr < 0 || hr >= sh.h) {
          std::memset(row, 0, size_t(g.ws) * sizeof(T));
          continue;
        }
        for (int l = 0; l < lo; ++l) row[l] = T(0);
        const T* s = x + c * xs.c + hr * xs.h + (b + int64_t(lo) * sh.stride_w - sh.pad_w) * xs.w;
        if (step == 1)
          for (int l = lo; l < hi; ++l) row[l] = s[l - lo];
        else
          for (int l = lo; l < hi; ++l) row[l] = s[(l - lo) * step];
        for (int64_t l = hi; l < g.ws; ++l) row[l] = T(0);
      }
    }
}

// Every channel of the band of image x from output row p0, and the zero tail.
template <typename T>
void pad_band(const ConvShape& sh, const PaddedInput& g, const T* x, const Strides4& xs,
              int64_t p0, T* dst) {
  for (int c = 0; c < sh.c; ++c) pad_channel(sh, g, x, xs, c, p0, dst + c * g.chan);
  std::memset(dst + g.image, 0, size_t(g.tail) * sizeof(T));
}

// Output channel k's bias of a forward call, 0 without one.
template <typename T>
T bias_of(const ConvFwdArgs& a, int k) {
  return a.bias ? static_cast<const T*>(a.bias)[k] : T(0);
}

// Lanes [j0, j0 + n) of a band's flattened output (lanes < len) from acc into yk,
// the band's first row of output channel k, with alpha, beta and the channel's bias
// (0 without one).
template <typename T>
void store_lanes(const ConvShape& sh, const PaddedInput& g, const T* acc, int64_t j0, int64_t n,
                 int64_t len, T* yk, const Strides4& ys, T alpha, T beta, T bias) {
  const int64_t j1 = std::min(len, j0 + n);
  // One division per call, not per output row: it cost as much as the stores.
  int64_t oh = j0 / g.ws, ow = j0 % g.ws;
  for (int64_t j = j0; j < j1; j += g.ws - ow, ow = 0, ++oh) {
    const int64_t owe = std::min<int64_t>(sh.q, ow + (j1 - j));
    T* yr = yk + oh * ys.h;
    const T* ar = acc + (j - j0) - ow;
    // Unit-stride rows (NCHW) as loops the compiler vectorises.
    if (ys.w == 1 && beta == T(0))
      for (int64_t o = ow; o < owe; ++o) yr[o] = alpha * ar[o] + bias;
    else if (ys.w == 1)
      for (int64_t o = ow; o < owe; ++o) yr[o] = alpha * ar[o] + beta * yr[o] + bias;
    else
      for (int64_t o = ow; o < owe; ++o) {
        const T v = alpha * ar[o] + bias;
        yr[o * ys.w] = beta == T(0) ? v : v + beta * yr[o * ys.w];
      }
  }
}

// Runs the work items of `split` on `threads` threads, thread t's padded band at
// scratch + t * per_thread: for each item and group, body(img, n, p0, len, gi, k0, k1)
// with img the padded band of image n from output row p0 (len lanes), and [k0, k1)
// the item's part of group gi's output channels, when not empty. A thread pads a band
// once for its consecutive items of the band's parts.
template <typename T, class Body>
void for_each_item(const ConvShape& sh, const PaddedInput& g, const WorkSplit& split,
                   const T* x, const Strides4& xs, char* scratch, size_t per_thread, int threads,
                   Body&& body) {
  const int kg = sh.k_per_group();
#pragma omp parallel num_threads(threads)
  {
    T* img = reinterpret_cast<T*>(scratch + size_t(omp_get_thread_num()) * per_thread);
    int64_t padded = -1;  // the band (image · bands + band) in img
#pragma omp for schedule(dynamic)
    for (int64_t it = 0; it < split.items(sh.n); ++it) {
      const int64_t part = it % split.parts, nb = it / split.parts;
      const int n = int(nb / split.bands);
      const int64_t p0 = nb % split.bands * split.rows;
      const int64_t len = std::min<int64_t>(split.rows, sh.p - p0) * g.ws;
      if (padded != nb) pad_band(sh, g, x + n * xs.n, xs, p0, img);
      padded = nb;
      for (int gi = 0; gi < sh.groups; ++gi) {
        const int k0 = gi * kg + int(part * kg / split.parts);
        const int k1 = gi * kg + int((part + 1) * kg / split.parts);
        if (k0 < k1) body(img, n, p0, len, gi, k0, k1);
      }
    }
  }
}

// Runs run(T(), I())(a, csr, base, l, nt) with T the data type, I the column index
// type, base the workspace ws aligned and l = layout(a, nt): on a.sparse or on
// a.w ⊙ a.mask packed into the first csr_bytes(...) of base.
template <class Layout, class RunOf>
dsdkStatus_t with_packed_filter(const ConvFwdArgs& a, void* ws, int nt,
                                Layout (*layout)(const ConvFwdArgs&, int), RunOf run) {
  const Layout l = layout(a, nt);
  char* base = line_up(ws);
  const CsrView w = a.sparse ? *a.sparse
                             : csr_pack(a.dtype, a.sh.k, a.sh.crs(), a.w, a.mask,
                                        int64_t(a.sh.k) * a.sh.crs(), base, nt);
  auto go = [&](auto z) {
    return w.col16() ? run(z, uint16_t())(a, w, base, l, nt)
                     : run(z, uint32_t())(a, w, base, l, nt);
  };
  return a.dtype == DSDK_DATA_DOUBLE ? go(double()) : go(float());
}

}  // namespace cpu
}  // namespace dsdk
