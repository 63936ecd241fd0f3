// CPU masked convolution as implicit GEMM on the packed engine (gemm_kernels.h).
//
// Forward and backward-data are one driver, `run_lowered`: per group, C[M x N] =
// A[M x K] * B[K x N] with A = the weights, masked while each thread packs its rows for
// the current K block, and B = the lowered input, of which only kc x nc tiles are ever
// built, per thread, straight into packed panels. Columns are the pixels of all images
// in a row, so small images still fill tiles. When pixels are few (or the output is
// channels_last) the product runs transposed: pixels become the broadcast rows and
// channels the vector columns.
//  - forward: rows = output channels, K = (c, r, s), columns = (image, p, q).
//  - backward data, gather form: the input pixels are split by their phase
//    (h mod stride_h, w mod stride_w); within a phase the taps that reach it are fixed
//    and the dy pixel they read moves by one per column, so each phase is an ordinary
//    lowered GEMM over (m, r, s) with no zero taps and no scatter.
// Backward filter: per group, dW[M x crs] = dY[M x pixels] * lowered(x)^T, reduced over
// the pixels of all images in kc blocks, the mask applied in the tile update.
// Workspace (all of it carved from the caller's buffer, nothing allocated): the tap
// table plus, per thread, one A block (channels x kc) and one lowered tile (kc x nc)
// with its column bookkeeping; see *_ws below.
#include <algorithm>
#include <cstdint>

#include "core/conv_backends.h"
#include "core/conv_index.h"
#include "cpu/gemm_blocking.h"
#include "cpu/gemm_kernels.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace dsdk {
namespace cpu {
namespace {

int thread_id() {
#if defined(_OPENMP)
  return omp_get_thread_num();
#else
  return 0;
#endif
}
int team_size() {
#if defined(_OPENMP)
  return omp_get_num_threads();
#else
  return 1;
#endif
}

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }
int64_t ceil_div(int64_t v, int64_t m) { return (v + m - 1) / m; }

// Split cost of packing one B column panel, in micro-tiles (see choose_split).
constexpr double kPackCost = 0.5;
// Workspaces are carved for at most this many threads.
constexpr int kMaxThreads = 256;

// ---------------------------------------------------------------------------------------
// Forward / backward data: the lowered GEMM.

// One lowered GEMM per group. Column t of the grid is (image n, row a, column b),
// t = (n * ga + a) * gb + b; it reads source pixel (a * h_mul + h_add + tap.dh,
// b * w_mul + w_add + tap.dw) and writes out + n * on + (a * oa_mul + oa_add) * oh +
// (b * ob_mul + ob_add) * ow. K is walked in blocks of kc. bias (optional, per row
// of C, indexed g * M + row) is added with the first K block.
template <typename T>
struct Lowered {
  int groups, M;
  int64_t K, kc;
  const Im2colTap* taps;
  const T* src;
  int64_t src_gs, sn, hs, ws;
  int H, W, wstep;
  int nimg, ga, gb, h_mul, h_add, w_mul, w_add;
  T* out;
  int64_t out_gs, rs, on, oh, ow;
  int oa_mul, oa_add, ob_mul, ob_add;
  T alpha, beta;
  const T* bias;
};

// Per-thread buffers of run_lowered.
template <typename T>
struct TileBufs {
  T* a;  // the thread's rows of A for one K block, packed
  T* b;  // kc x nc lowered tile, packed
  Im2colSeg* segs;
  int* panel_seg;
  int64_t* col_off;
  uint8_t* contiguous;  // per panel: its columns are consecutive in memory
};

// Pixels per lowered tile when its panels are `width` wide (a multiple of width).
template <typename T>
int64_t tile_cols(const Microkernel<T>& k, int64_t cols, int width) {
  return std::min<int64_t>(k.nc / width * width, round_up(std::max<int64_t>(cols, 1), width));
}

// Widest pixel tile either orientation builds for `cols` pixels.
template <typename T>
int64_t tile_nc(const Microkernel<T>& k, int64_t cols) {
  return std::max(tile_cols(k, cols, k.nr), tile_cols(k, cols, k.mr));
}

// Tile buffers for tiles of up to nc columns and A blocks of up to `rows` rows.
template <typename T>
void carve_tile_bufs(Carver& cv, const Microkernel<T>& k, int64_t nc, int64_t rows,
                     TileBufs<T>* t) {
  const int64_t np = ceil_div(nc, std::min(k.mr, k.nr));
  t->a = cv.take<T>(std::max(round_up(rows, k.mr), round_up(rows, k.nr)) * k.kc);
  t->b = cv.take<T>(k.kc * nc);
  t->segs = cv.take<Im2colSeg>(nc);
  t->panel_seg = cv.take<int>(np + 1);
  t->col_off = cv.take<int64_t>(nc);
  t->contiguous = cv.take<uint8_t>(np);
}

// Describes grid columns [j0, j0 + nc) as segments and output offsets.
template <typename T>
int build_tile(const Lowered<T>& L, int nr, int64_t j0, int nc, TileBufs<T>& tb) {
  const int np = int(ceil_div(nc, nr));
  int si = 0;
  for (int p = 0; p < np; ++p) {
    tb.panel_seg[p] = si;
    const int pend = std::min(nc, (p + 1) * nr);
    for (int j = p * nr; j < pend;) {
      const int64_t t = j0 + j;
      const int b = int(t % L.gb);
      const int64_t rest = t / L.gb;
      const int a = int(rest % L.ga);
      const int n = int(rest / L.ga);
      const int len = std::min<int>(L.gb - b, pend - j);
      tb.segs[si++] = Im2colSeg{n * L.sn, j - p * nr, len, a * L.h_mul + L.h_add,
                                b * L.w_mul + L.w_add};
      const int64_t row = n * L.on + int64_t(a * L.oa_mul + L.oa_add) * L.oh;
      for (int l = 0; l < len; ++l)
        tb.col_off[j + l] = row + int64_t((b + l) * L.ob_mul + L.ob_add) * L.ow;
      j += len;
    }
    bool contig = true;
    for (int j = p * nr + 1; j < pend; ++j)
      contig = contig && tb.col_off[j] == tb.col_off[j - 1] + 1;
    tb.contiguous[p] = contig;
  }
  tb.panel_seg[np] = si;
  return np;
}

// Relative cost of an m x n micro-tile per k step on a kernel with L-lane vectors:
// FMA count, but no less than the FMA latency chain or the loads allow.
double tile_cost(int64_t m, int64_t n, int L) {
  const double f = double(m) * double((n + L - 1) / L);
  return std::max({f, 4.0, (double(m) + double((n + L - 1) / L)) / 2.0});
}

// Cost of an M x N product cut into mr x nr micro-tiles.
double blocked_cost(int64_t M, int64_t N, int mr, int nr, int L) {
  const int64_t fm = M / mr, fn = N / nr, tm = M % mr, tn = N % nr;
  double c = double(fm) * (double(fn) * tile_cost(mr, nr, L) + (tn ? tile_cost(mr, tn, L) : 0));
  if (tm) c += double(fn) * tile_cost(tm, nr, L) + (tn ? tile_cost(tm, tn, L) : 0);
  return c;
}

// Whether the lowered GEMM should run transposed (pixels as the broadcast rows,
// channels as the vector columns): when the output's channels are contiguous and its
// pixels are not (channels_last), or when few pixels leave vector lanes idle (e.g. 7x7
// maps of one image). The transposed tile store costs a little, hence the margin.
template <typename T>
bool use_transposed(const Microkernel<T>& k, int64_t channels, int64_t pixels,
                    int64_t channel_stride, int64_t pixel_stride) {
  if (channel_stride == 1 && pixel_stride != 1) return true;
  const int L = k.nr / 2;
  return blocked_cost(pixels, channels, k.mr, k.nr, L) * 1.15 <
         blocked_cost(channels, pixels, k.mr, k.nr, L);
}

// This thread's share of the lowered GEMMs. pack_a(g, m0, rows, k0, kc, width, dst)
// packs weight rows [m0, m0 + rows) of group g (zero up to `width`) over K range
// [k0, k0 + kc) as [k][width]; the mask is applied there. Loop order: K block (pack
// the thread's weights once), pixel tile (pack the lowered input into L2), then
// micro-tiles with the broadcast operand's panel held in L1. Normally weights are the
// broadcast operand (mr channels) and pixels the vector one (nr); transposed, the
// other way round.
template <typename T, class PackA>
void run_lowered(const Microkernel<T>& k, const Lowered<T>& L, TileBufs<T>& tb, int tid, int nth,
                 bool transposed, PackA&& pack_a) {
  const int64_t N = int64_t(L.nimg) * L.ga * L.gb;
  if (N == 0) return;
  const int wp = transposed ? k.nr : k.mr;  // channels per weight panel
  const int xp = transposed ? k.mr : k.nr;  // pixels per lowered-input panel
  // Pixels are dealt to threads in vectors (half a normal panel), which the kernels'
  // half-width tiles finish at half cost.
  const int unit = transposed ? xp : xp / 2;
  const int64_t mp = ceil_div(L.M, wp), np = ceil_div(N, unit);
  const WorkSplit ws = choose_split(L.groups, mp, np, nth, kPackCost * unit / xp);
  const int64_t items = ws.items();
  const int64_t nc_max = tile_cols(k, N, xp);
  for (int64_t it = chunk_begin(items, nth, tid); it < chunk_begin(items, nth, tid + 1); ++it) {
    const int g = int(it / (int64_t(ws.tm) * ws.tn));
    const int64_t im = (it / ws.tn) % ws.tm, in = it % ws.tn;
    const int64_t p0 = chunk_begin(mp, ws.tm, im), p1 = chunk_begin(mp, ws.tm, im + 1);
    const int64_t c0 = chunk_begin(np, ws.tn, in) * unit;
    const int64_t c1 = std::min(N, chunk_begin(np, ws.tn, in + 1) * unit);
    if (c0 >= c1) continue;
    T* out = L.out + g * L.out_gs;
    const T* bias = L.bias ? L.bias + int64_t(g) * L.M : nullptr;
    Im2colTile<T> tile{L.src + g * L.src_gs, L.hs, L.ws, L.H, L.W, L.wstep, nullptr, 0,
                       tb.segs, tb.panel_seg, 0, xp};
    for (int64_t pc = 0; pc == 0 || pc < L.K; pc += L.kc) {
      const int64_t kc = std::min(L.kc, L.K - pc);
      for (int64_t ip = p0; ip < p1; ++ip) {
        const int m0 = int(ip * wp);
        pack_a(g, m0, std::min(wp, L.M - m0), pc, kc, wp, tb.a + (ip - p0) * kc * wp);
      }
      TileOut<T> o{nullptr, 0, 0, nullptr, nullptr, nullptr, L.alpha, pc == 0 ? L.beta : T(1)};
      const T* kbias = pc == 0 ? bias : nullptr;
      tile.taps = L.taps + pc;
      tile.kc = kc;
      for (int64_t j0 = c0; j0 < c1; j0 += nc_max) {
        const int nc = int(std::min(nc_max, c1 - j0));
        const int tp = build_tile(L, xp, j0, nc, tb);
        tile.nc = nc;
        k.pack_im2col(tile, tb.b);
        if (!transposed) {
          for (int64_t ip = p0; ip < p1; ++ip) {
            const int m0 = int(ip * wp);
            const int rows = std::min(wp, L.M - m0);
            const T* a = tb.a + (ip - p0) * kc * wp;
            for (int jp = 0; jp < tp; ++jp) {
              const int64_t* co = tb.col_off + jp * xp;
              const bool contig = tb.contiguous[jp];
              o.c = out + m0 * L.rs + (contig ? co[0] : 0);
              o.rs = L.rs;
              o.cs = 1;
              o.col_off = contig ? nullptr : co;
              o.row_bias = kbias ? kbias + m0 : nullptr;
              k.tile(kc, a, tb.b + jp * kc * xp, o, rows, std::min(xp, nc - jp * xp));
            }
          }
        } else {
          for (int jp = 0; jp < tp; ++jp) {
            const int64_t* co = tb.col_off + jp * xp;
            const bool contig = tb.contiguous[jp];
            const T* a = tb.b + jp * kc * xp;
            for (int64_t ip = p0; ip < p1; ++ip) {
              const int m0 = int(ip * wp);
              o.c = out + m0 * L.rs + (contig ? co[0] : 0);
              o.rs = 1;
              o.cs = L.rs;
              o.row_off = contig ? nullptr : co;
              o.col_bias = kbias ? kbias + m0 : nullptr;
              k.tile(kc, a, tb.a + (ip - p0) * kc * wp, o, std::min(xp, nc - jp * xp),
                     std::min(wp, L.M - m0));
            }
          }
        }
      }
    }
  }
}

template <typename T>
T masked(const T* w, const uint8_t* mask, int64_t i) {
  return (mask && !mask[i]) ? T(0) : w[i];
}

template <typename T>
int64_t fwd_ws(const ConvShape& sh, int nt, void* base, Im2colTap** taps, TileBufs<T>* tb) {
  const Microkernel<T>& k = microkernel<T>();
  Carver cv(base);
  *taps = cv.take<Im2colTap>(sh.crs());
  const int64_t nc = tile_nc(k, int64_t(sh.n) * sh.p * sh.q);
  for (int t = 0; t < nt; ++t) {
    TileBufs<T> d;
    carve_tile_bufs(cv, k, nc, sh.k_per_group(), tb ? &tb[t] : &d);
  }
  return int64_t(cv.size());
}

template <typename T>
dsdkStatus_t fwd(const ConvFwdArgs& a, void* ws, size_t bytes, int nt, std::string* msg) {
  const ConvShape& sh = a.sh;
  const Microkernel<T>& k = microkernel<T>();
  nt = std::min(nt, kMaxThreads);
  Im2colTap* taps;
  TileBufs<T> tb[kMaxThreads];
  if (size_t(fwd_ws<T>(sh, nt, nullptr, &taps, nullptr)) > bytes) {
    *msg = "workspace is smaller than the size query reports";
    return DSDK_STATUS_BAD_PARAM;
  }
  fwd_ws<T>(sh, nt, ws, &taps, tb);
  const int cg = sh.c_per_group(), kg = sh.k_per_group();
  const int64_t crs = sh.crs();
  const T* w = static_cast<const T*>(a.w);
  const Lowered<T> L{sh.groups, kg, crs, k.kc, taps,
                     static_cast<const T*>(a.x), cg * a.xs.c, a.xs.n, a.xs.h, a.xs.w,
                     sh.h, sh.w, sh.stride_w,
                     sh.n, sh.p, sh.q, sh.stride_h, -sh.pad_h, sh.stride_w, -sh.pad_w,
                     static_cast<T*>(a.y), kg * a.ys.c, a.ys.c, a.ys.n, a.ys.h, a.ys.w,
                     1, 0, 1, 0, T(a.alpha), T(a.beta), static_cast<const T*>(a.bias)};
  auto pack_a = [&](int g, int m0, int rows, int64_t k0, int64_t kc, int width, T* dst) {
    const int64_t o = (int64_t(g) * kg + m0) * crs + k0;
    k.pack_rows(w + o, crs, a.mask ? a.mask + o : nullptr, rows, width, kc, dst, width);
  };
  const bool transposed = use_transposed(k, kg, int64_t(sh.n) * sh.p * sh.q, a.ys.c, a.ys.w);
#pragma omp parallel num_threads(nt)
  {
    const int tid = thread_id(), nth = team_size();
    for (int64_t kk = tid; kk < crs; kk += nth) {
      const Tap t = split_crs(kk, sh.r, sh.s);
      taps[kk] = Im2colTap{t.c * a.xs.c, t.r * sh.dil_h, t.s * sh.dil_w};
    }
#pragma omp barrier
    run_lowered(k, L, tb[tid], tid, nth, transposed, pack_a);
  }
  return DSDK_STATUS_SUCCESS;
}

// Per-axis tap lists of every backward-data phase: filter index t reaches input
// positions rho (mod stride) iff (rho + pad - t * dil) is a multiple of stride; the dy
// index is then i + (rho + pad - t * dil) / stride for the phase's i-th position.
struct PhaseTaps {
  int* count;  // [stride]
  int* tap;    // [stride][filter]
  int* shift;  // [stride][filter]
};

void carve_phase_taps(Carver& cv, int stride, int filt, PhaseTaps* pt) {
  pt->count = cv.take<int>(stride);
  pt->tap = cv.take<int>(int64_t(stride) * filt);
  pt->shift = cv.take<int>(int64_t(stride) * filt);
}

void phase_taps(int pad, int filt, int stride, int dil, PhaseTaps* pt) {
  for (int rho = 0; rho < stride; ++rho) {
    int cnt = 0;
    for (int t = 0; t < filt; ++t) {
      const int num = rho + pad - t * dil;
      if (((num % stride) + stride) % stride != 0) continue;
      pt->tap[rho * filt + cnt] = t;
      pt->shift[rho * filt + cnt++] = num / stride;  // exact, so truncation is harmless
    }
    pt->count[rho] = cnt;
  }
}

template <typename T>
int64_t bwd_data_ws(const ConvShape& sh, int nt, void* base, Im2colTap** taps, TileBufs<T>* tb,
                    PhaseTaps* ph, PhaseTaps* pw) {
  const Microkernel<T>& k = microkernel<T>();
  Carver cv(base);
  PhaseTaps dummy;
  carve_phase_taps(cv, sh.stride_h, sh.r, ph ? ph : &dummy);
  carve_phase_taps(cv, sh.stride_w, sh.s, pw ? pw : &dummy);
  // Every (m, r, s) belongs to exactly one phase, so all phases' taps fit in k/g * r * s.
  *taps = cv.take<Im2colTap>(int64_t(sh.k_per_group()) * sh.r * sh.s);
  // The largest phase: every pixel of one (h mod stride, w mod stride) class.
  const int64_t cols = int64_t(sh.n) * ceil_div(sh.h, sh.stride_h) * ceil_div(sh.w, sh.stride_w);
  const int64_t nc = tile_nc(k, cols);
  for (int t = 0; t < nt; ++t) {
    TileBufs<T> d;
    carve_tile_bufs(cv, k, nc, sh.c_per_group(), tb ? &tb[t] : &d);
  }
  return int64_t(cv.size());
}

template <typename T>
dsdkStatus_t bwd_data(const ConvBwdDataArgs& a, void* ws, size_t bytes, int nt, std::string* msg) {
  const ConvShape& sh = a.sh;
  const Microkernel<T>& k = microkernel<T>();
  nt = std::min(nt, kMaxThreads);
  Im2colTap* taps;
  TileBufs<T> tb[kMaxThreads];
  PhaseTaps ph, pw;
  if (size_t(bwd_data_ws<T>(sh, nt, nullptr, &taps, nullptr, nullptr, nullptr)) > bytes) {
    *msg = "workspace is smaller than the size query reports";
    return DSDK_STATUS_BAD_PARAM;
  }
  bwd_data_ws<T>(sh, nt, ws, &taps, tb, &ph, &pw);
  phase_taps(sh.pad_h, sh.r, sh.stride_h, sh.dil_h, &ph);
  phase_taps(sh.pad_w, sh.s, sh.stride_w, sh.dil_w, &pw);
  const int cg = sh.c_per_group(), kg = sh.k_per_group();
  const int64_t rs = int64_t(sh.r) * sh.s;
  const T* w = static_cast<const T*>(a.w);
  const int phases_h = std::min(sh.stride_h, sh.h), phases_w = std::min(sh.stride_w, sh.w);
#pragma omp parallel num_threads(nt)
  {
    const int tid = thread_id(), nth = team_size();
    // Phase (rh, rw) owns taps[off, off + kg * nr * ns), K ordered as (m, r, s).
    int64_t off = 0;
    for (int rh = 0; rh < phases_h; ++rh)
      for (int rw = 0; rw < phases_w; ++rw) {
        const int nr = ph.count[rh], ns = pw.count[rw], tpm = nr * ns;
        for (int64_t kk = tid; kk < int64_t(kg) * tpm; kk += nth) {
          const int m = int(kk / tpm), j = int(kk % tpm);
          taps[off + kk] = Im2colTap{m * a.dys.c, ph.shift[rh * sh.r + j / ns],
                                     pw.shift[rw * sh.s + j % ns]};
        }
        off += int64_t(kg) * tpm;
      }
#pragma omp barrier
    off = 0;
    for (int rh = 0; rh < phases_h; ++rh)
      for (int rw = 0; rw < phases_w; ++rw) {
        const int nr = ph.count[rh], ns = pw.count[rw], tpm = nr * ns;
        const int* tr = ph.tap + rh * sh.r;
        const int* ts = pw.tap + rw * sh.s;
        // K blocks hold whole output channels when they can, so A packs per channel.
        const bool whole = tpm > 0 && tpm <= k.kc;
        const bool all_taps = whole && nr == sh.r && ns == sh.s;
        const int64_t K = int64_t(kg) * tpm;
        const Lowered<T> L{sh.groups, cg, K, whole ? k.kc / tpm * tpm : k.kc, taps + off,
                           static_cast<const T*>(a.dy), kg * a.dys.c, a.dys.n, a.dys.h, a.dys.w,
                           sh.p, sh.q, 1,
                           sh.n, int(ceil_div(sh.h - rh, sh.stride_h)),
                           int(ceil_div(sh.w - rw, sh.stride_w)), 1, 0, 1, 0,
                           static_cast<T*>(a.dx), cg * a.dxs.c, a.dxs.c, a.dxs.n, a.dxs.h,
                           a.dxs.w, sh.stride_h, rh, sh.stride_w, rw, T(a.alpha), T(a.beta),
                           nullptr};
        off += K;
        const int64_t cols = int64_t(L.nimg) * L.ga * L.gb;
        run_lowered(k, L, tb[tid], tid, nth, use_transposed(k, cg, cols, a.dxs.c, a.dxs.w),
                    [&](int g, int c0, int rows, int64_t k0, int64_t kc, int width, T* dst) {
          if (all_taps) {
            // The block is whole channels m, each r * s taps in weight order.
            for (int64_t m = k0 / tpm; m < (k0 + kc) / tpm; ++m) {
              const int64_t o = ((g * kg + m) * cg + c0) * rs;
              k.pack_rows(w + o, rs, a.mask ? a.mask + o : nullptr, rows, width, rs,
                          dst + (m * rs - k0) * width, width);
            }
            return;
          }
          for (int64_t kk = 0; kk < kc; ++kk) {
            const int64_t m = (k0 + kk) / tpm;
            const int j = int((k0 + kk) % tpm);
            const int64_t wi = ((g * kg + m) * cg + c0) * rs + tr[j / ns] * sh.s + ts[j % ns];
            for (int i = 0; i < width; ++i)
              dst[kk * width + i] = i < rows ? masked(w, a.mask, wi + i * rs) : T(0);
          }
        });
      }
  }
  return DSDK_STATUS_SUCCESS;
}

// ---------------------------------------------------------------------------------------
// Backward filter: per group, dW[m, tap] = sum over pixels of dY[m, pixel] * B[pixel, tap]
// with B the transposed lowered input. A B panel (kc pixels x nr taps) is built as an
// im2col tile (taps x pixels, the forward packer) and transposed in registers.

template <typename T>
struct FilterBufs {
  TileBufs<T> tb;  // pixel columns of the current block
  T* lowered;      // nr taps x kc pixels, in panels of nr pixels
  T* bpk;          // kc pixels x nc taps, packed
  T* apk;          // kc pixels x mr channels of dy, packed
};

template <typename T>
int64_t bwd_filter_ws(const ConvShape& sh, int nt, void* base, Im2colTap** taps,
                      FilterBufs<T>* fb) {
  const Microkernel<T>& k = microkernel<T>();
  Carver cv(base);
  *taps = cv.take<Im2colTap>(sh.crs());
  const int64_t nc = tile_nc(k, sh.crs()), kcp = round_up(k.kc, k.nr);
  for (int t = 0; t < nt; ++t) {
    FilterBufs<T> d;
    FilterBufs<T>& f = fb ? fb[t] : d;
    carve_tile_bufs(cv, k, kcp, 0, &f.tb);
    f.lowered = cv.take<T>(k.nr * kcp);
    f.bpk = cv.take<T>(k.kc * nc);
    f.apk = cv.take<T>(k.kc * k.mr);
  }
  return int64_t(cv.size());
}

template <typename T>
dsdkStatus_t bwd_filter(const ConvBwdFilterArgs& a, void* ws, size_t bytes, int nt,
                        std::string* msg) {
  const ConvShape& sh = a.sh;
  const Microkernel<T>& k = microkernel<T>();
  nt = std::min(nt, kMaxThreads);
  Im2colTap* taps;
  FilterBufs<T> fb[kMaxThreads];
  if (size_t(bwd_filter_ws<T>(sh, nt, nullptr, &taps, nullptr)) > bytes) {
    *msg = "workspace is smaller than the size query reports";
    return DSDK_STATUS_BAD_PARAM;
  }
  bwd_filter_ws<T>(sh, nt, ws, &taps, fb);
  const int cg = sh.c_per_group(), kg = sh.k_per_group();
  const int64_t crs = sh.crs(), pq = int64_t(sh.p) * sh.q, pix = sh.n * pq;
  const int64_t mp = ceil_div(kg, k.mr), np = ceil_div(crs, k.nr);
  const int64_t nc_max = tile_nc(k, crs);
  const T* x = static_cast<const T*>(a.x);
  const T* dy = static_cast<const T*>(a.dy);
  T* dw = static_cast<T*>(a.dw);
  const T alpha = T(a.alpha);
  // The forward view's pixel grid over x (only its segments are used here).
  const Lowered<T> grid{sh.groups, kg, crs, k.kc, nullptr, x, cg * a.xs.c, a.xs.n, a.xs.h,
                        a.xs.w, sh.h, sh.w, sh.stride_w, sh.n, sh.p, sh.q, sh.stride_h,
                        -sh.pad_h, sh.stride_w, -sh.pad_w, nullptr, 0, 0, 0, 0, 0, 1, 0, 1, 0,
                        alpha, T(a.beta), nullptr};
  // dy pixels that are consecutive in memory: a whole image, a row, or one at a time.
  const int64_t run_max = a.dys.w != 1 ? 1 : a.dys.h == sh.q ? pq : sh.q;
#pragma omp parallel num_threads(nt)
  {
    const int tid = thread_id(), nth = team_size();
    FilterBufs<T>& f = fb[tid];
    for (int64_t kk = tid; kk < crs; kk += nth) {
      const Tap t = split_crs(kk, sh.r, sh.s);
      taps[kk] = Im2colTap{t.c * a.xs.c, t.r * sh.dil_h, t.s * sh.dil_w};
    }
#pragma omp barrier
    const WorkSplit wsp = choose_split(sh.groups, mp, np, nth, kPackCost);
    const int64_t items = wsp.items();
    for (int64_t it = chunk_begin(items, nth, tid); it < chunk_begin(items, nth, tid + 1); ++it) {
      const int g = int(it / (int64_t(wsp.tm) * wsp.tn));
      const int64_t im = (it / wsp.tn) % wsp.tm, in = it % wsp.tn;
      const int64_t p0 = chunk_begin(mp, wsp.tm, im), p1 = chunk_begin(mp, wsp.tm, im + 1);
      const int64_t c0 = chunk_begin(np, wsp.tn, in) * k.nr;
      const int64_t c1 = std::min(crs, chunk_begin(np, wsp.tn, in + 1) * k.nr);
      T* dwg = dw + int64_t(g) * kg * crs;
      const uint8_t* mg = a.mask ? a.mask + int64_t(g) * kg * crs : nullptr;
      const T* dyg = dy ? dy + int64_t(g) * kg * a.dys.c : nullptr;
      Im2colTile<T> tile{x ? x + int64_t(g) * cg * a.xs.c : nullptr, a.xs.h, a.xs.w, sh.h, sh.w,
                         sh.stride_w, nullptr, 0, f.tb.segs, f.tb.panel_seg, 0, k.nr};
      for (int64_t j0 = c0; j0 < c1; j0 += nc_max) {
        const int nc = int(std::min(nc_max, c1 - j0));
        const int tp = int(ceil_div(nc, k.nr));
        for (int64_t pc = 0; pc == 0 || pc < pix; pc += k.kc) {
          const int kc = int(std::min(k.kc, pix - pc));
          if (kc > 0) build_tile(grid, k.nr, pc, kc, f.tb);
          const int pp = int(ceil_div(kc, k.nr));
          tile.nc = kc;
          for (int jp = 0; jp < tp; ++jp) {
            const int ntaps = std::min(k.nr, nc - jp * k.nr);
            tile.taps = taps + j0 + jp * k.nr;
            tile.kc = ntaps;
            k.pack_im2col(tile, f.lowered);
            T* bp = f.bpk + int64_t(jp) * kc * k.nr;
            for (int q = 0; q < pp; ++q)
              k.pack_rows(f.lowered + int64_t(q) * ntaps * k.nr, k.nr, nullptr, ntaps, k.nr,
                          std::min(k.nr, kc - q * k.nr), bp + int64_t(q) * k.nr * k.nr, k.nr);
          }
          const T beta = pc == 0 ? T(a.beta) : T(1);
          for (int64_t ip = p0; ip < p1; ++ip) {
            const int64_t m0 = ip * k.mr;
            const int rows = int(std::min<int64_t>(k.mr, kg - m0));
            for (int64_t t = pc; t < pc + kc;) {
              const int64_t n = t / pq, rem = t % pq;
              const int64_t run = std::min({pc + kc - t, run_max - rem % run_max, pq - rem});
              const int64_t o = n * a.dys.n + m0 * a.dys.c + (rem / sh.q) * a.dys.h +
                                (rem % sh.q) * a.dys.w;
              k.pack_rows(dyg + o, a.dys.c, nullptr, rows, k.mr, run, f.apk + (t - pc) * k.mr,
                          k.mr);
              t += run;
            }
            for (int jp = 0; jp < tp; ++jp) {
              const int n = std::min(k.nr, nc - jp * k.nr);
              const int64_t off = m0 * crs + j0 + jp * k.nr;
              const TileOut<T> o{dwg + off, crs, 1, nullptr, nullptr, mg ? mg + off : nullptr,
                                 alpha, beta};
              k.tile(kc, f.apk, f.bpk + int64_t(jp) * kc * k.nr, o, rows, n);
            }
          }
        }
      }
    }
  }
  return DSDK_STATUS_SUCCESS;
}

template <typename F>
auto by_dtype(dsdkDataType_t t, F&& f) {
  return t == DSDK_DATA_DOUBLE ? f(double()) : f(float());
}

}  // namespace

size_t conv_implicit_gemm_workspace(dsdkConvDirection_t dir, const ConvShape& sh,
                                    dsdkDataType_t dtype, int num_threads) {
  const int nt = std::min(std::max(num_threads, 1), kMaxThreads);
  return by_dtype(dtype, [&](auto z) -> size_t {
    using T = decltype(z);
    Im2colTap* taps;
    if (dir == DSDK_CONV_FORWARD) return size_t(fwd_ws<T>(sh, nt, nullptr, &taps, nullptr));
    if (dir == DSDK_CONV_BACKWARD_DATA)
      return size_t(bwd_data_ws<T>(sh, nt, nullptr, &taps, nullptr, nullptr, nullptr));
    return size_t(bwd_filter_ws<T>(sh, nt, nullptr, &taps, nullptr));
  });
}

dsdkStatus_t conv_implicit_gemm_fwd(const ConvFwdArgs& a, void* ws, size_t bytes, int nt,
                                    std::string* msg) {
  return by_dtype(a.dtype, [&](auto z) { return fwd<decltype(z)>(a, ws, bytes, nt, msg); });
}

dsdkStatus_t conv_implicit_gemm_bwd_data(const ConvBwdDataArgs& a, void* ws, size_t bytes, int nt,
                                         std::string* msg) {
  return by_dtype(a.dtype, [&](auto z) { return bwd_data<decltype(z)>(a, ws, bytes, nt, msg); });
}

dsdkStatus_t conv_implicit_gemm_bwd_filter(const ConvBwdFilterArgs& a, void* ws, size_t bytes,
                                           int nt, std::string* msg) {
  return by_dtype(a.dtype, [&](auto z) { return bwd_filter<decltype(z)>(a, ws, bytes, nt, msg); });
}

}  // namespace cpu
}  // namespace dsdk
