// Direct sparse convolution (Park et al., ICLR 2017), forward, float and double.
//
// The input is copied once per call into a zero-padded, stride-decomposed form: for
// stride (sh, sw) each channel becomes sh * sw planes, plane (a, b) holding padded rows
// a, a + sh, ... and columns b, b + sw, ... with one row pitch `ws` for all of them. A
// filter tap (c, r, s) then reads plane ((r·dh) % sh, (s·dw) % sw) shifted by
// ((r·dh) / sh, (s·dw) / sw), so output pixel (oh, ow), flattened as j = oh·ws + ow,
// reads element j + off(c, r, s) for every tap: a contiguous run in j whatever the
// stride, dilation or padding. An output channel's CSR row (W ⊙ M, column = tap, so
// sorted by input channel) times those runs is the sparse row kernel
// (cpu/sparse_kernels.h) over a tile of j, the tile's accumulators in registers; the
// row is applied one input-channel block at a time (see run) so that the input stays
// in L1. Lanes with ow >= q are computed and dropped. OpenMP runs over images ×
// groups × tiles × output-channel blocks.
#include <algorithm>
#include <climits>
#include <cstring>

#include <omp.h>

#include "core/context.h"
#include "core/conv_backends.h"
#include "core/sparse_csr.h"
#include "cpu/gemm_kernels.h"
#include "cpu/sparse_kernels.h"
#include "cpu/threads.h"

namespace dsdk {
namespace cpu {
namespace {

// L1 shares of a work item: its partial output tiles and its block of input rows.
constexpr size_t kPartialBytes = 16 * 1024, kInputBytes = 24 * 1024;
constexpr int kMaxKb = 256;
// Vector lanes of the widest ISA, so that workspace sizes do not depend on the ISA.
int64_t max_lanes(size_t elem) { return int64_t(64 / elem); }

struct Geometry {
  int64_t hs, ws, plane;  // plane extent and its size
  int64_t chan;           // elements of one input channel: sh * sw planes
  int64_t image;          // elements of one image
  int64_t len;            // flattened output lanes of one image: p * ws
  int64_t tail;           // zeros after the last image, covering the tiles' overrun
};

Geometry geometry(const ConvShape& sh, size_t elem) {
  Geometry g;
  const int64_t hp = sh.h + 2 * int64_t(sh.pad_h), wp = sh.w + 2 * int64_t(sh.pad_w);
  g.hs = (hp + sh.stride_h - 1) / sh.stride_h;
  g.ws = (wp + sh.stride_w - 1) / sh.stride_w;
  g.plane = g.hs * g.ws;
  g.chan = g.plane * sh.stride_h * sh.stride_w;
  g.image = g.chan * sh.c;
  g.len = int64_t(sh.p) * g.ws;
  g.tail = 2 * g.len + 2 * kSparseMaxVectors * max_lanes(elem);
  return g;
}

// Workspace: [packed filter, when the call brings a dense one][tap offsets][one padded
// image][per-thread partial tiles].
struct Layout {
  size_t csr, tab, images, partials, total;
};

Layout layout(const ConvFwdArgs& a, int nt) {
  const ConvShape& sh = a.sh;
  const size_t elem = dtype_size(a.dtype);
  const Geometry g = geometry(sh, elem);
  Layout l;
  l.csr = a.sparse ? 0 : csr_bytes(a.dtype, sh.k, sh.crs(), int64_t(sh.k) * sh.crs());
  l.tab = line_up(size_t(sh.crs()) * sizeof(int32_t));
  l.images = line_up(size_t(g.image + g.tail) * elem);
  l.partials = size_t(std::max(nt, 1)) * kPartialBytes;  // one kb x tile block per thread
  l.total = kLine + l.csr + l.tab + l.images + l.partials;  // kLine: to align the pointer
  return l;
}

template <typename T>
void pad_image(const ConvShape& sh, const Geometry& g, const T* x, const Strides4& xs, int c,
               T* dst) {
  for (int a = 0; a < sh.stride_h; ++a)
    for (int b = 0; b < sh.stride_w; ++b) {
      T* d = dst + (int64_t(a) * sh.stride_w + b) * g.plane;
      int lo, hi;
      valid_lanes(b - sh.pad_w, sh.stride_w, sh.w, int(g.ws), &lo, &hi);
      for (int64_t i = 0; i < g.hs; ++i) {
        T* row = d + i * g.ws;
        const int64_t hr = a + i * sh.stride_h - sh.pad_h;
        if (hr < 0 || hr >= sh.h || lo >= hi) {
          std::fill(row, row + g.ws, T(0));
          continue;
        }
        std::fill(row, row + lo, T(0));
        std::fill(row + hi, row + g.ws, T(0));
        const T* s = x + c * xs.c + hr * xs.h + (b + int64_t(lo) * sh.stride_w - sh.pad_w) * xs.w;
        const int64_t step = int64_t(sh.stride_w) * xs.w;
        if (step == 1)
          std::memcpy(row + lo, s, size_t(hi - lo) * sizeof(T));
        else
          for (int l = lo; l < hi; ++l) row[l] = s[(l - lo) * step];
      }
    }
}

// y[k] lanes [j0, j0 + n) of the flattened output from acc, with alpha and beta.
template <typename T>
void store(const ConvShape& sh, const Geometry& g, const T* acc, int64_t j0, int64_t n, T* yk,
           const Strides4& ys, T alpha, T beta) {
  const int64_t j1 = std::min(g.len, j0 + n);
  for (int64_t j = j0; j < j1;) {
    const int64_t oh = j / g.ws, ow = j % g.ws;
    const int64_t end = std::min(j1, (oh + 1) * g.ws);
    const int64_t owe = std::min<int64_t>(sh.q, ow + (end - j));
    T* yr = yk + oh * ys.h;
    const T* ar = acc + (j - j0) - ow;
    for (int64_t o = ow; o < owe; ++o) {
      const T v = alpha * ar[o];
      yr[o * ys.w] = beta == T(0) ? v : v + beta * yr[o * ys.w];
    }
    j = end;
  }
}

template <typename T, typename I>
dsdkStatus_t run(const ConvFwdArgs& a, const CsrView& w, char* ws, const Layout& l, int nt) {
  const ConvShape& sh = a.sh;
  const Geometry g = geometry(sh, sizeof(T));
  const SparseKernels<T>& kern = sparse_kernels<T>();
  const SparseRowFn<T, I> row = row_fn(kern, I());
  const int lanes = kern.lanes;
  const int64_t nvt = (g.len + lanes - 1) / lanes;
  const int64_t ntiles = (nvt + kSparseMaxVectors - 1) / kSparseMaxVectors;
  const int nv = int((nvt + ntiles - 1) / ntiles);
  const int64_t tile = int64_t(nv) * lanes;

  int32_t* tab = reinterpret_cast<int32_t*>(ws + l.csr);
  for (int c = 0; c < sh.c_per_group(); ++c)
    for (int r = 0; r < sh.r; ++r)
      for (int s = 0; s < sh.s; ++s) {
        const int rr = r * sh.dil_h, ss = s * sh.dil_w;
        tab[(int64_t(c) * sh.r + r) * sh.s + s] = int32_t(
            c * g.chan + (int64_t(rr % sh.stride_h) * sh.stride_w + ss % sh.stride_w) * g.plane +
            int64_t(rr / sh.stride_h) * g.ws + ss / sh.stride_w);
      }
  T* img = reinterpret_cast<T*>(ws + l.csr + l.tab);
  std::fill(img + g.image, img + g.image + g.tail, T(0));

  // A work item is one tile of kb output channels. Its input rows are read in blocks
  // of cb input channels, small enough to stay in L1 while all kb channels' entries in
  // them are applied (the whole tile's rows, read once per output channel, would come
  // from L2); the kb partial tiles stay in L1 too.
  const int kg = sh.k_per_group(), cg = sh.c_per_group();
  const int64_t taps = int64_t(sh.r) * sh.s;
  const int kb = std::max(1, std::min({kg, kMaxKb, int(kPartialBytes / (size_t(tile) * sizeof(T)))}));
  const int64_t span = int64_t(sh.stride_h) * sh.stride_w *
                       (tile + int64_t(sh.r - 1) * sh.dil_h / sh.stride_h * g.ws + sh.s);
  const int cb = std::max(1, std::min(cg, int(kInputBytes / (size_t(span) * sizeof(T)))));
  const int64_t kblocks = (kg + kb - 1) / kb;
  const int64_t items = int64_t(sh.groups) * ntiles * kblocks;  // per image
  const T alpha = T(a.alpha), beta = T(a.beta);
  const T* x = static_cast<const T*>(a.x);
  T* y = static_cast<T*>(a.y);
  const T* val = static_cast<const T*>(w.val);
  const I* col = static_cast<const I*>(w.col);
  const int threads = threads_for(w.nnz * g.len * sh.n + int64_t(sh.n) * g.image, nt);
  T* partials = reinterpret_cast<T*>(ws + l.csr + l.tab + l.images);

  // One image at a time, so that its padded copy stays in L2 while its tiles run.
#pragma omp parallel num_threads(threads)
  {
    T* partial = partials + size_t(omp_get_thread_num()) * kb * tile;
    const I* cursor[kMaxKb];
    for (int n = 0; n < sh.n; ++n) {
#pragma omp for schedule(static)
      for (int c = 0; c < sh.c; ++c)
        pad_image(sh, g, x + n * a.xs.n, a.xs, c, img + c * g.chan);
#pragma omp for schedule(dynamic)
      for (int64_t it = 0; it < items; ++it) {
        const int64_t kbi = it % kblocks, t = (it / kblocks) % ntiles, gi = it / kblocks / ntiles;
        const T* base = img + gi * cg * g.chan + t * tile;
        const int k0 = int(gi * kg + kbi * kb), k1 = std::min(int(gi * kg) + kg, k0 + kb);
        std::fill(partial, partial + size_t(k1 - k0) * tile, T(0));
        for (int k = k0; k < k1; ++k) cursor[k - k0] = col + w.row_ptr[k];
        for (int c0 = 0; c0 < cg; c0 += cb) {
          const int64_t hi = std::min(cg, c0 + cb) * taps;
          for (int k = k0; k < k1; ++k) {
            const I* e0 = cursor[k - k0];
            const I* end = col + w.row_ptr[k + 1];
            const I* e1 = e0;
            while (e1 < end && *e1 < hi) ++e1;
            cursor[k - k0] = e1;
            if (e1 > e0)
              row(base, tab, val + (e0 - col), e0, e1 - e0, nv, partial + size_t(k - k0) * tile);
          }
        }
        for (int k = k0; k < k1; ++k)
          store(sh, g, partial + size_t(k - k0) * tile, t * tile, tile,
                y + n * a.ys.n + k * a.ys.c, a.ys, alpha, beta);
      }
    }
  }
  return DSDK_STATUS_SUCCESS;
}

}  // namespace

bool direct_sparse_fits(const ConvShape& sh, std::string* why) {
  const Geometry g = geometry(sh, sizeof(float));  // float: the most lanes, the longest tail
  if (g.chan * sh.c_per_group() + g.tail > INT32_MAX) {
    if (why) *why = "a group's padded input exceeds 2^31 elements (32-bit tap offsets)";
    return false;
  }
  return true;
}

size_t direct_sparse_workspace(const ConvFwdArgs& a, int num_threads) {
  return layout(a, num_threads).total;
}

dsdkStatus_t direct_sparse_fwd(const ConvFwdArgs& a, void* ws, size_t, int nt, std::string*) {
  const Layout l = layout(a, nt);
  char* base = line_up(ws);
  CsrView w = a.sparse ? *a.sparse
                       : csr_pack(a.dtype, a.sh.k, a.sh.crs(), a.w, a.mask,
                                  int64_t(a.sh.k) * a.sh.crs(), base, nt);
  auto go = [&](auto z) {
    using T = decltype(z);
    return w.col16() ? run<T, uint16_t>(a, w, base, l, nt) : run<T, uint32_t>(a, w, base, l, nt);
  };
  return a.dtype == DSDK_DATA_DOUBLE ? go(double()) : go(float());
}

}  // namespace cpu
}  // namespace dsdk
