// Sparse weights × dense lowered-input tiles (the im2col-tile form), forward, float and
// double.
//
// Over the padded input of cpu/sparse_padded_input.h, the lowered matrix of one group
// is B[tap][j] = input[j + off(tap)] (tap = CSR column, j = flattened output lane). A
// work item takes one tile of `tile` lanes of one image and group, copies that tile of
// every row of B into a dense taps x tile panel (one aligned copy per row), and runs
// each output channel's whole CSR row over the panel with the tile's accumulators in
// registers, storing the row's outputs once. Against the direct algorithm this trades
// one copy of the panel for aligned loads and no partial sums; the copy is paid once
// for (k / groups) · density multiply-adds per element, so it can win on the deep layers
// with many output channels. The panel is sized to one core's L2 (1 MiB, the best
// of 0.5 / 1 / 2 MiB measured on Zen 5).
#include <algorithm>
#include <cstring>

#include <omp.h>

#include "core/context.h"
#include "core/conv_backends.h"
#include "core/sparse_csr.h"
#include "cpu/sparse_kernels.h"
#include "cpu/sparse_padded_input.h"
#include "cpu/threads.h"

namespace dsdk {
namespace cpu {
namespace {

constexpr size_t kPanelBytes = 1024 * 1024;

// Most lanes of a tile, whatever the ISA (a multiple of every ISA's vector): a panel
// within kPanelBytes, at least one 64-byte line per row, at most the widest ISA's
// register tile, no more than one image's lanes.
int64_t max_tile(const ConvShape& sh, size_t elem) {
  const int64_t line = max_lanes(elem), len = padded_input(sh, elem).len;
  const int64_t fit = int64_t(kPanelBytes / (size_t(sh.crs()) * elem)) / line * line;
  return std::min(std::clamp(fit, line, kSparseMaxVectors * line), (len + line - 1) / line * line);
}

// Workspace: [packed filter, when the call brings a dense one][tap offsets][panel row
// offsets][one padded image][per thread: a panel and one row of accumulators].
struct Layout {
  size_t csr, tabs, image, per_thread, total;
  int64_t tile;
};

Layout layout(const ConvFwdArgs& a, int nt) {
  const ConvShape& sh = a.sh;
  const size_t elem = dtype_size(a.dtype);
  const PaddedInput g = padded_input(sh, elem);
  Layout l;
  l.tile = max_tile(sh, elem);
  l.csr = a.sparse ? 0 : csr_bytes(a.dtype, sh.k, sh.crs(), int64_t(sh.k) * sh.crs());
  l.tabs = 2 * line_up(size_t(sh.crs()) * sizeof(int32_t));
  l.image = line_up(size_t(g.image + g.tail) * elem);
  l.per_thread = line_up(size_t(sh.crs() + 1) * size_t(l.tile) * elem);
  l.total = kLine + l.csr + l.tabs + l.image + size_t(std::max(nt, 1)) * l.per_thread;
  return l;
}

template <typename T, typename I>
dsdkStatus_t run(const ConvFwdArgs& a, const CsrView& w, char* ws, const Layout& l, int nt) {
  const ConvShape& sh = a.sh;
  const PaddedInput g = padded_input(sh, sizeof(T));
  const SparseKernels<T>& kern = sparse_kernels<T>();
  const SparseRowFn<T, I> row = row_fn(kern, I());
  const int lanes = kern.lanes;
  const int64_t nvt = (g.len + lanes - 1) / lanes;
  const int64_t nv_max = std::min<int64_t>(kSparseMaxVectors, l.tile / lanes);
  const int64_t ntiles = (nvt + nv_max - 1) / nv_max;
  const int nv = int((nvt + ntiles - 1) / ntiles);  // tiles of equal width
  const int64_t tile = int64_t(nv) * lanes;
  const int64_t taps = sh.crs();

  int32_t* off = reinterpret_cast<int32_t*>(ws + l.csr);
  int32_t* panel_row = off + l.tabs / 2 / sizeof(int32_t);
  tap_offsets(sh, g, off);
  for (int64_t e = 0; e < taps; ++e) panel_row[e] = int32_t(e * tile);
  T* img = reinterpret_cast<T*>(ws + l.csr + l.tabs);
  std::fill(img + g.image, img + g.image + g.tail, T(0));

  // Few tiles (small images at batch 1) would leave threads idle; their output
  // channels are then split into parts, each part copying its own panel.
  const int kg = sh.k_per_group(), cg = sh.c_per_group();
  const int threads = threads_for(w.nnz * g.len * sh.n + int64_t(sh.n) * g.image, nt);
  const int64_t tiles = int64_t(sh.groups) * ntiles;
  const int64_t parts = threads == 1 ? 1 : std::min<int64_t>(kg, (2 * threads + tiles - 1) / tiles);
  const int64_t items = tiles * parts;  // per image
  const T alpha = T(a.alpha), beta = T(a.beta);
  const T* x = static_cast<const T*>(a.x);
  T* y = static_cast<T*>(a.y);
  const T* val = static_cast<const T*>(w.val);
  const I* col = static_cast<const I*>(w.col);
  char* scratch = ws + l.csr + l.tabs + l.image;

  // One image at a time, so that its padded copy stays in L2 while its tiles run.
#pragma omp parallel num_threads(threads)
  {
    T* panel = reinterpret_cast<T*>(scratch + size_t(omp_get_thread_num()) * l.per_thread);
    T* acc = panel + taps * tile;
    for (int n = 0; n < sh.n; ++n) {
#pragma omp for schedule(static)
      for (int c = 0; c < sh.c; ++c)
        pad_channel(sh, g, x + n * a.xs.n, a.xs, c, img + c * g.chan);
#pragma omp for schedule(dynamic)
      for (int64_t it = 0; it < items; ++it) {
        const int64_t part = it % parts, t = (it / parts) % ntiles, gi = it / parts / ntiles;
        const T* base = img + gi * cg * g.chan + t * tile;
        for (int64_t e = 0; e < taps; ++e)
          std::memcpy(panel + e * tile, base + off[e], size_t(tile) * sizeof(T));
        const int k0 = int(gi * kg + part * kg / parts), k1 = int(gi * kg + (part + 1) * kg / parts);
        for (int k = k0; k < k1; ++k) {
          const int64_t e0 = w.row_ptr[k];
          std::fill(acc, acc + tile, T(0));
          row(panel, panel_row, val + e0, col + e0, w.row_ptr[k + 1] - e0, nv, acc);
          store_lanes(sh, g, acc, t * tile, tile, y + n * a.ys.n + k * a.ys.c, a.ys, alpha, beta);
        }
      }
    }
  }
  return DSDK_STATUS_SUCCESS;
}

}  // namespace

bool sparse_tile_fits(const ConvShape& sh, std::string* why) {
  if (!padded_input_fits(sh, why)) return false;
  if (sh.crs() * max_tile(sh, sizeof(float)) > INT32_MAX) {
    if (why) *why = "the lowered tile exceeds 2^31 elements (32-bit panel offsets)";
    return false;
  }
  return true;
}

size_t sparse_tile_workspace(const ConvFwdArgs& a, int num_threads) {
  return layout(a, num_threads).total;
}

dsdkStatus_t sparse_tile_fwd(const ConvFwdArgs& a, void* ws, size_t, int nt, std::string*) {
  const Layout l = layout(a, nt);
  char* base = line_up(ws);
  return with_packed_filter(a, base, nt, [&](auto z, auto i, const CsrView& w) {
    return run<decltype(z), decltype(i)>(a, w, base, l, nt);
  });
}

}  // namespace cpu
}  // namespace dsdk
