// Direct sparse convolution (Park et al., ICLR 2017), forward, float and double.
//
// Over the padded input of cpu/sparse_padded_input.h, where output lane j reads element
// j + off(c, r, s) of tap (c, r, s), an output channel's CSR row (W ⊙ M, column = tap,
// so sorted by input channel) times those runs is the sparse row kernel
// (cpu/sparse_kernels.h) over a tile of j, the tile's accumulators in registers; the
// row is applied one input-channel block at a time (see run) so that the input stays
// in L1. The kernel reads each entry's offset off(c, r, s) from a table made once per
// input form (core/entry_offsets.h: kept by a packed filter, else made in the
// workspace). OpenMP runs over the work items of split_work (images × bands of output
// rows × output-channel parts).
#include <algorithm>

#include "core/context.h"
#include "core/entry_offsets.h"
#include "core/conv_backends.h"
#include "core/sparse_csr.h"
#include "cpu/sparse_kernels.h"
#include "cpu/sparse_padded_input.h"
#include "cpu/threads.h"

namespace dsdk {
namespace cpu {
namespace {

// L1 shares of a work item: its partial output tiles and its block of input rows. They
// exceed Zen 5's 48 KB L1 together and still beat 16 + 24 KB, the sizes that fit: more
// entries per call of the row kernel. ResNet-18 3x3 layers, batch 1, 2 threads, quiet
// machine: 0.97-1.04x the time at 90 % sparse, 0.98-1.02x at 80 % (and with the torch ops'
// reused workspace, 1.03-1.04x faster on every layer). Under load from other processes
// (about one core free) 32 + 32 and 24 + 32 gained too; 48 + 24, 32 + 40 and 24 + 24 did
// not, 16 + 96 was 1.14x slower.
constexpr size_t kPartialBytes = 40 * 1024, kInputBytes = 32 * 1024;
constexpr int kMaxKb = 256;
// Workspace: [packed filter, when the call brings a dense one][tap offsets][entry offsets,
// when no packed filter keeps them][per thread: a padded band (at most the whole image)
// and its partial tiles].
struct Layout {
  size_t csr, tab, entries, band, per_thread, total;
};

Layout layout(const ConvFwdArgs& a, int nt) {
  const ConvShape& sh = a.sh;
  const size_t elem = dtype_size(a.dtype);
  const PaddedInput g = padded_input(sh, elem, sh.p);
  Layout l;
  l.csr = a.sparse ? 0 : csr_bytes(a.dtype, sh.k, sh.crs(), int64_t(sh.k) * sh.crs());
  l.tab = line_up(size_t(sh.crs()) * sizeof(int32_t));
  const int64_t cap = a.sparse ? a.sparse->nnz : int64_t(sh.k) * sh.crs();
  l.entries = a.offsets ? 0 : line_up(size_t(cap) * sizeof(int32_t));
  l.band = line_up(size_t(g.image + g.tail) * elem);
  l.per_thread = l.band + kPartialBytes;
  l.total = kLine + l.csr + l.tab + l.entries + size_t(std::max(nt, 1)) * l.per_thread;
  return l;
}

// The first entry of the ascending columns [e, end) that is >= hi, or end. Binary
// and branch-free: a linear scan would read every entry once more, and the kernel is
// bound by its loads (one per multiply-add; on 7x7 images the scan was an eighth).
template <typename I>
const I* first_at_least(const I* e, const I* end, int64_t hi) {
  int64_t n = end - e;
  if (n == 0) return e;
  while (n > 1) {
    const int64_t half = n / 2;
    e = e[half] < hi ? e + half : e;
    n -= half;
  }
  return e + (*e < hi);
}

template <typename T, typename I>
dsdkStatus_t run(const ConvFwdArgs& a, const CsrView& w, char* ws, const Layout& l, int nt) {
  const ConvShape& sh = a.sh;
  const int threads = threads_for(w.nnz * int64_t(sh.p) * sh.q * sh.n + int64_t(sh.n) * sh.c *
                                      sh.h * sh.w, nt);
  const WorkSplit split = split_work(sh, sizeof(T), threads);
  const PaddedInput g = padded_input(sh, sizeof(T), split.rows);
  const SparseKernels<T>& kern = sparse_kernels<T>();
  const SparseRowOffsetFn<T> row = kern.row_offsets;
  const int lanes = kern.lanes;
  const int64_t nvt = (g.len + lanes - 1) / lanes;
  const int64_t ntiles = (nvt + kSparseMaxVectors - 1) / kSparseMaxVectors;
  const int nv = int((nvt + ntiles - 1) / ntiles);
  const int64_t tile = int64_t(nv) * lanes;

  int32_t* tab = reinterpret_cast<int32_t*>(ws + l.csr);
  tap_offsets(sh, g, tab);
  const I* col = static_cast<const I*>(w.col);
  auto fill = [&](int32_t* off) {
    for (int64_t e = 0; e < w.nnz; ++e) off[e] = tab[col[e]];
  };
  EntryOffsets::Table kept;  // held while the call runs
  const int32_t* off;
  if (a.offsets) {
    kept = a.offsets->get({g.chan, g.plane, g.ws, sh.stride_h, sh.stride_w, sh.dil_h, sh.dil_w},
                          w.nnz, fill);
    off = kept->data();
  } else {
    int32_t* own = reinterpret_cast<int32_t*>(ws + l.csr + l.tab);
    fill(own);
    off = own;
  }

  // Per output channel block of kb, the input rows are read in blocks of cb input
  // channels, small enough to stay in L1 while all kb channels' entries in them are
  // applied (the whole tile's rows, read once per output channel, would come from
  // L2); the kb partial tiles stay in L1 too.
  const int kg = sh.k_per_group(), cg = sh.c_per_group();
  const int64_t taps = int64_t(sh.r) * sh.s;
  const int kb = std::max(1, std::min({kg, kMaxKb, int(kPartialBytes / (size_t(tile) * sizeof(T)))}));
  const int64_t span = int64_t(sh.stride_h) * sh.stride_w *
                       (tile + int64_t(sh.r - 1) * sh.dil_h / sh.stride_h * g.ws + sh.s);
  const int cb = std::max(1, std::min(cg, int(kInputBytes / (size_t(span) * sizeof(T)))));
  const T alpha = T(a.alpha), beta = T(a.beta);
  const T* x = static_cast<const T*>(a.x);
  T* y = static_cast<T*>(a.y);
  const T* val = static_cast<const T*>(w.val);
  for_each_item(sh, g, split, x, a.xs, ws + l.csr + l.tab + l.entries, l.per_thread, threads,
                [&](T* img, int n, int64_t p0, int64_t len, int gi, int kp0, int kp1) {
    T* partial = reinterpret_cast<T*>(reinterpret_cast<char*>(img) + l.band);
    const I* cursor[kMaxKb];
    for (int64_t t = 0; t * tile < len; ++t) {
      const T* base = img + int64_t(gi) * cg * g.chan + t * tile;
      for (int k0 = kp0; k0 < kp1; k0 += kb) {
        const int k1 = std::min(kp1, k0 + kb);
        std::fill(partial, partial + size_t(k1 - k0) * tile, T(0));
        for (int k = k0; k < k1; ++k) cursor[k - k0] = col + w.row_ptr[k];
        for (int c0 = 0; c0 < cg; c0 += cb) {
          const int64_t hi = std::min(cg, c0 + cb) * taps;
          for (int k = k0; k < k1; ++k) {
            const I* e0 = cursor[k - k0];
            const I* e1 = first_at_least(e0, col + w.row_ptr[k + 1], hi);
            cursor[k - k0] = e1;
            if (e1 > e0)
              row(base, off + (e0 - col), val + (e0 - col), e1 - e0, nv,
                  partial + size_t(k - k0) * tile);
          }
        }
        for (int k = k0; k < k1; ++k)
          store_lanes(sh, g, partial + size_t(k - k0) * tile, t * tile, tile, len,
                      y + n * a.ys.n + k * a.ys.c + p0 * a.ys.h, a.ys, alpha, beta,
                      bias_of<T>(a, k));
      }
    }
  });
  return DSDK_STATUS_SUCCESS;
}

}  // namespace

size_t direct_sparse_workspace(const ConvFwdArgs& a, int nt) { return layout(a, nt).total; }

dsdkStatus_t direct_sparse_fwd(const ConvFwdArgs& a, void* ws, size_t, int nt, std::string*) {
  return with_packed_filter(a, ws, nt, layout,
                            [](auto z, auto i) { return run<decltype(z), decltype(i)>; });
}

}  // namespace cpu
}  // namespace dsdk
