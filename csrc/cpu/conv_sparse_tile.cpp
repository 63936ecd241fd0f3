// Sparse weights × dense lowered-input tiles (the im2col-tile form), forward, float and
// double.
//
// Over the padded input of cpu/sparse_padded_input.h, the lowered matrix of one group
// is B[tap][j] = input[j + off(tap)] (tap = CSR column, j = flattened output lane). For
// each tile of `tile` lanes of a work item (split_work) and each group, the thread
// copies that tile of every row of B into a dense taps x tile panel (one aligned copy
// per row) and runs each output channel's whole CSR row over the panel with the tile's
// accumulators in registers, storing the row's outputs once. Against the direct
// algorithm this trades one copy of the panel for aligned loads, no partial sums and
// no offset table (the kernel's loads bound it, one per multiply-add plus the entry's
// own); the copy is paid once for (k / groups) · density multiply-adds per element, so
// it wins on the deep layers with many output channels (512->512 7x7 here). The panel
// is sized to one core's L2 (1 MiB, the best of 0.5 / 1 / 2 MiB measured on Zen 5).
#include <algorithm>
#include <cstring>

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
// register tile, no more than a whole image's lanes.
int64_t max_tile(const ConvShape& sh, size_t elem) {
  const int64_t line = max_lanes(elem), len = padded_input(sh, elem, sh.p).len;
  const int64_t fit = int64_t(kPanelBytes / (size_t(sh.crs()) * elem)) / line * line;
  return std::min(std::clamp(fit, line, kSparseMaxVectors * line), (len + line - 1) / line * line);
}

// Workspace: [packed filter, when the call brings a dense one][tap offsets][per thread:
// a padded band (at most the whole image), a panel and one row of accumulators].
struct Layout {
  size_t csr, tabs, band, per_thread, total;
  int64_t tile;
};

Layout layout(const ConvFwdArgs& a, int nt) {
  const ConvShape& sh = a.sh;
  const size_t elem = dtype_size(a.dtype);
  const PaddedInput g = padded_input(sh, elem, sh.p);
  Layout l;
  l.tile = max_tile(sh, elem);
  l.csr = a.sparse ? 0 : csr_bytes(a.dtype, sh.k, sh.crs(), int64_t(sh.k) * sh.crs());
  l.tabs = line_up(size_t(sh.crs()) * sizeof(int32_t));
  l.band = line_up(size_t(g.image + g.tail) * elem);
  l.per_thread = l.band + line_up(size_t(sh.crs() + 1) * size_t(l.tile) * elem);
  l.total = kLine + l.csr + l.tabs + size_t(std::max(nt, 1)) * l.per_thread;
  return l;
}

template <typename T, typename I>
dsdkStatus_t run(const ConvFwdArgs& a, const CsrView& w, char* ws, const Layout& l, int nt) {
  const ConvShape& sh = a.sh;
  const int threads = threads_for(w.nnz * int64_t(sh.p) * sh.q * sh.n + int64_t(sh.n) * sh.c *
                                      sh.h * sh.w, nt);
  const WorkSplit split = split_work(sh, sizeof(T), threads);
  const PaddedInput g = padded_input(sh, sizeof(T), split.rows);
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
  tap_offsets(sh, g, off);

  const int cg = sh.c_per_group();
  const T alpha = T(a.alpha), beta = T(a.beta);
  const T* x = static_cast<const T*>(a.x);
  T* y = static_cast<T*>(a.y);
  const T* val = static_cast<const T*>(w.val);
  const I* col = static_cast<const I*>(w.col);
  for_each_item(sh, g, split, x, a.xs, ws + l.csr + l.tabs, l.per_thread, threads,
                [&](T* img, int n, int64_t p0, int64_t len, int gi, int k0, int k1) {
    T* panel = reinterpret_cast<T*>(reinterpret_cast<char*>(img) + l.band);
    T* acc = panel + taps * tile;
    for (int64_t t = 0; t * tile < len; ++t) {
      const T* base = img + int64_t(gi) * cg * g.chan + t * tile;
      for (int64_t e = 0; e < taps; ++e)
        std::memcpy(panel + e * tile, base + off[e], size_t(tile) * sizeof(T));
      for (int k = k0; k < k1; ++k) {
        const int64_t e0 = w.row_ptr[k];
        std::fill(acc, acc + tile, T(0));
        row(panel, nullptr, val + e0, col + e0, w.row_ptr[k + 1] - e0, nv, acc);
        store_lanes(sh, g, acc, t * tile, tile, len, y + n * a.ys.n + k * a.ys.c + p0 * a.ys.h,
                    a.ys, alpha, beta, bias_of<T>(a, k));
      }
    }
  });
  return DSDK_STATUS_SUCCESS;
}

}  // namespace

size_t sparse_tile_workspace(const ConvFwdArgs& a, int nt) { return layout(a, nt).total; }

dsdkStatus_t sparse_tile_fwd(const ConvFwdArgs& a, void* ws, size_t, int nt, std::string*) {
  return with_packed_filter(a, ws, nt, layout,
                            [](auto z, auto i) { return run<decltype(z), decltype(i)>; });
}

}  // namespace cpu
}  // namespace dsdk
