// CPU masked convolution as implicit GEMM on the packed engine (gemm_kernels.h).
//
// Forward and backward-data are one driver, `run_lowered`: per group, C[M x N] =
// A[M x K] * B[K x N] with A = the masked weights (packed once per call, shared by the
// threads) and B = the lowered input, of which only kc x nc tiles are ever built, per
// thread, straight into packed panels. Columns are output pixels of all images in a row
// (so small images still fill tiles).
//  - forward: rows = output channels, K = (c, r, s), columns = (image, p, q).
//  - backward data, gather form: the input pixels are split by their phase
//    (h mod stride_h, w mod stride_w); within a phase the taps that reach it are fixed
//    and the dy pixel they read moves by one per column, so each phase is an ordinary
//    lowered GEMM over (m, r, s) with no zero taps and no scatter.
// Backward filter: per group, dW[M x crs] = dY[M x pixels] * lowered(x)^T, reduced over
// the pixels of all images in kc blocks, the mask applied in the tile update.
#include <algorithm>
#include <cstdint>
#include <cstring>

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

// ---------------------------------------------------------------------------------------
// Forward / backward data: the lowered GEMM.

// One lowered GEMM per group. Column t of the grid is (image n, row a, column b),
// t = (n * ga + a) * gb + b; it reads source pixel (a * h_mul + h_add + tap.dh,
// b * w_mul + w_add + tap.dw) and writes out + n * on + (a * oa_mul + oa_add) * oh +
// (b * ob_mul + ob_add) * ow.
template <typename T>
struct Lowered {
  int groups, M;
  int64_t K;
  const T* apk;  // [g][row panel][K][mr]
  const Im2colTap* taps;
  const T* src;
  int64_t src_gs, sn, hs, ws;
  int H, W, wstep;
  int nimg, ga, gb, h_mul, h_add, w_mul, w_add;
  T* out;
  int64_t out_gs, rs, on, oh, ow;
  int oa_mul, oa_add, ob_mul, ob_add;
  T alpha, beta;
};

// Per-thread buffers of run_lowered.
template <typename T>
struct TileBufs {
  T* b;  // kc x nc packed
  Im2colSeg* segs;
  int* panel_seg;
  int64_t* col_off;
  uint8_t* contiguous;  // per panel: columns are consecutive in memory
};

template <typename T>
int64_t tile_nc(const Microkernel<T>& k, int64_t cols) {
  return std::min<int64_t>(k.nc, round_up(std::max<int64_t>(cols, 1), k.nr));
}

template <typename T, class C>
void carve_tile_bufs(C& cv, const Microkernel<T>& k, int64_t nc, TileBufs<T>* t) {
  const int64_t np = nc / k.nr;
  t->b = cv.template take<T>(k.kc * nc);
  t->segs = cv.template take<Im2colSeg>(nc);
  t->panel_seg = cv.template take<int>(np + 1);
  t->col_off = cv.template take<int64_t>(nc);
  t->contiguous = cv.template take<uint8_t>(np);
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
    for (int j = p * nr + 1; j < pend; ++j) contig = contig && tb.col_off[j] == tb.col_off[j - 1] + 1;
    tb.contiguous[p] = contig;
  }
  tb.panel_seg[np] = si;
  return np;
}

template <typename T>
void run_lowered(const Microkernel<T>& k, const Lowered<T>& L, TileBufs<T>& tb, int tid, int nth) {
  const int64_t N = int64_t(L.nimg) * L.ga * L.gb;
  if (N == 0) return;
  const int64_t mp = ceil_div(L.M, k.mr), np = ceil_div(N, k.nr);
  const WorkSplit ws = choose_split(L.groups, mp, np, nth, kPackCost);
  const int64_t items = ws.items();
  const int64_t nc_max = tile_nc(k, N);
  for (int64_t it = chunk_begin(items, nth, tid); it < chunk_begin(items, nth, tid + 1); ++it) {
    const int g = int(it / (int64_t(ws.tm) * ws.tn));
    const int64_t im = (it / ws.tn) % ws.tm, in = it % ws.tn;
    const int64_t p0 = chunk_begin(mp, ws.tm, im), p1 = chunk_begin(mp, ws.tm, im + 1);
    const int64_t c0 = chunk_begin(np, ws.tn, in) * k.nr;
    const int64_t c1 = std::min(N, chunk_begin(np, ws.tn, in + 1) * k.nr);
    const T* apk = L.apk + int64_t(g) * mp * L.K * k.mr;
    T* out = L.out + g * L.out_gs;
    Im2colTile<T> tile{L.src + g * L.src_gs, L.hs, L.ws, L.H, L.W, L.wstep, nullptr, 0,
                       tb.segs, tb.panel_seg, 0};
    for (int64_t j0 = c0; j0 < c1; j0 += nc_max) {
      const int nc = int(std::min(nc_max, c1 - j0));
      const int tp = build_tile(L, k.nr, j0, nc, tb);
      tile.nc = nc;
      for (int64_t pc = 0; pc == 0 || pc < L.K; pc += k.kc) {
        const int64_t kc = std::min(k.kc, L.K - pc);
        tile.taps = L.taps + pc;
        tile.kc = kc;
        k.pack_im2col(tile, tb.b);
        const T beta = pc == 0 ? L.beta : T(1);
        for (int64_t ip = p0; ip < p1; ++ip) {
          const int m0 = int(ip * k.mr);
          const int rows = std::min(k.mr, L.M - m0);
          const T* a = apk + (ip * L.K + pc) * k.mr;
          T* crow = out + m0 * L.rs;
          for (int jp = 0; jp < tp; ++jp) {
            const int n = std::min(k.nr, nc - jp * k.nr);
            const int64_t* co = tb.col_off + jp * k.nr;
            if (tb.contiguous[jp])
              k.tile(kc, a, tb.b + jp * kc * k.nr, crow + co[0], L.rs, nullptr, nullptr, L.alpha,
                     beta, rows, n);
            else
              k.tile(kc, a, tb.b + jp * kc * k.nr, crow, L.rs, co, nullptr, L.alpha, beta, rows, n);
          }
        }
      }
    }
  }
}

// Workspace of a lowered GEMM family: the packed A of every group, the taps, and
// per-thread tile buffers.
template <typename T, class C>
void carve_lowered(C& cv, const Microkernel<T>& k, int groups, int M, int64_t K_max, int64_t N,
                   int nt, T** apk, Im2colTap** taps, TileBufs<T>* per_thread) {
  *apk = cv.template take<T>(int64_t(groups) * round_up(M, k.mr) * K_max);
  *taps = cv.template take<Im2colTap>(std::max<int64_t>(K_max, 1));
  const int64_t nc = tile_nc(k, N);
  for (int t = 0; t < nt; ++t) {
    TileBufs<T> dummy;
    carve_tile_bufs(cv, k, nc, per_thread ? &per_thread[t] : &dummy);
  }
}

// Packs rows [m0, m0 + mr) of A(g) (zero past M) for k in [0, K): dst[k * mr + i] =
// src(i, k), reading weights through `at`, which applies the mask.
template <typename T, class F>
void pack_a_panel(int mr, int M, int m0, int64_t K, T* dst, F&& at) {
  const int rows = std::min(mr, M - m0);
  for (int i = 0; i < mr; ++i)
    for (int64_t kk = 0; kk < K; ++kk) dst[kk * mr + i] = i < rows ? at(m0 + i, kk) : T(0);
}

template <typename T>
T masked(const T* w, const uint8_t* mask, int64_t i) {
  return (mask && !mask[i]) ? T(0) : w[i];
}

template <typename T>
int64_t fwd_ws(const ConvShape& sh, int nt, void* base, T** apk, Im2colTap** taps,
               TileBufs<T>* tb) {
  const Microkernel<T>& k = microkernel<T>();
  Carver cv(base);
  carve_lowered(cv, k, sh.groups, sh.k_per_group(), sh.crs(), int64_t(sh.n) * sh.p * sh.q, nt,
                apk, taps, tb);
  return int64_t(cv.size());
}

// Per-axis tap lists of every backward-data phase (see phase_taps).
struct PhaseTaps {
  int* count;  // [stride]
  int* tap;    // [stride][filter]
  int* shift;  // [stride][filter]
};

template <class C>
void carve_phase_taps(C& cv, int stride, int filt, PhaseTaps* pt) {
  pt->count = cv.template take<int>(stride);
  pt->tap = cv.template take<int>(int64_t(stride) * filt);
  pt->shift = cv.template take<int>(int64_t(stride) * filt);
}

template <typename T>
int64_t bwd_data_ws(const ConvShape& sh, int nt, void* base, T** apk, Im2colTap** taps,
                    TileBufs<T>* tb, PhaseTaps* ph, PhaseTaps* pw) {
  const Microkernel<T>& k = microkernel<T>();
  Carver cv(base);
  PhaseTaps dummy;
  carve_phase_taps(cv, sh.stride_h, sh.r, ph ? ph : &dummy);
  carve_phase_taps(cv, sh.stride_w, sh.s, pw ? pw : &dummy);
  // The largest phase: every pixel of one (h mod stride, w mod stride) class.
  const int64_t cols = int64_t(sh.n) * ceil_div(sh.h, sh.stride_h) * ceil_div(sh.w, sh.stride_w);
  carve_lowered(cv, k, sh.groups, sh.c_per_group(), int64_t(sh.k_per_group()) * sh.r * sh.s,
                cols, nt, apk, taps, tb);
  return int64_t(cv.size());
}

constexpr int kMaxThreads = 256;

template <typename T>
dsdkStatus_t fwd(const ConvFwdArgs& a, void* ws, size_t bytes, int nt, std::string* msg) {
  const ConvShape& sh = a.sh;
  const Microkernel<T>& k = microkernel<T>();
  nt = std::min(nt, kMaxThreads);
  T* apk;
  Im2colTap* taps;
  TileBufs<T> tb[kMaxThreads];
  if (size_t(fwd_ws<T>(sh, nt, nullptr, &apk, &taps, nullptr)) > bytes) {
    *msg = "workspace is smaller than the size query reports";
    return DSDK_STATUS_BAD_PARAM;
  }
  fwd_ws<T>(sh, nt, ws, &apk, &taps, tb);
  const int cg = sh.c_per_group(), kg = sh.k_per_group();
  const int64_t crs = sh.crs(), mp = ceil_div(kg, k.mr);
  const T* w = static_cast<const T*>(a.w);
  Lowered<T> L{sh.groups, kg, crs, apk, taps,
               static_cast<const T*>(a.x), cg * a.xs.c, a.xs.n, a.xs.h, a.xs.w,
               sh.h, sh.w, sh.stride_w,
               sh.n, sh.p, sh.q, sh.stride_h, -sh.pad_h, sh.stride_w, -sh.pad_w,
               static_cast<T*>(a.y), kg * a.ys.c, a.ys.c, a.ys.n, a.ys.h, a.ys.w,
               1, 0, 1, 0, T(a.alpha), T(a.beta)};
#pragma omp parallel num_threads(nt)
  {
    const int tid = thread_id(), nth = team_size();
    for (int64_t kk = tid; kk < crs; kk += nth) {
      const Tap t = split_crs(kk, sh.r, sh.s);
      taps[kk] = Im2colTap{t.c * a.xs.c, t.r * sh.dil_h, t.s * sh.dil_w};
    }
    const int64_t panels = int64_t(sh.groups) * mp;
    for (int64_t pi = chunk_begin(panels, nth, tid); pi < chunk_begin(panels, nth, tid + 1); ++pi) {
      const int64_t g = pi / mp, ip = pi % mp;
      pack_a_panel<T>(k.mr, kg, int(ip * k.mr), crs, apk + pi * crs * k.mr,
                      [&](int m, int64_t kk) { return masked(w, a.mask, (g * kg + m) * crs + kk); });
    }
#pragma omp barrier
    run_lowered(k, L, tb[tid], tid, nth);
  }
  return DSDK_STATUS_SUCCESS;
}

// Taps of the backward-data phases along one axis: filter index t reaches input
// positions rho (mod stride) iff (rho + pad - t * dil) is a multiple of stride; the dy
// index is then i + (rho + pad - t * dil) / stride for the phase's i-th position.
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
dsdkStatus_t bwd_data(const ConvBwdDataArgs& a, void* ws, size_t bytes, int nt, std::string* msg) {
  const ConvShape& sh = a.sh;
  const Microkernel<T>& k = microkernel<T>();
  nt = std::min(nt, kMaxThreads);
  T* apk;
  Im2colTap* taps;
  TileBufs<T> tb[kMaxThreads];
  PhaseTaps ph, pw;
  if (size_t(bwd_data_ws<T>(sh, nt, nullptr, &apk, &taps, nullptr, nullptr, nullptr)) > bytes) {
    *msg = "workspace is smaller than the size query reports";
    return DSDK_STATUS_BAD_PARAM;
  }
  bwd_data_ws<T>(sh, nt, ws, &apk, &taps, tb, &ph, &pw);
  phase_taps(sh.pad_h, sh.r, sh.stride_h, sh.dil_h, &ph);
  phase_taps(sh.pad_w, sh.s, sh.stride_w, sh.dil_w, &pw);
  const int cg = sh.c_per_group(), kg = sh.k_per_group();
  const int64_t mp = ceil_div(cg, k.mr);
  const T* w = static_cast<const T*>(a.w);
#pragma omp parallel num_threads(nt)
  {
    const int tid = thread_id(), nth = team_size();
    for (int rh = 0; rh < std::min(sh.stride_h, sh.h); ++rh)
      for (int rw = 0; rw < std::min(sh.stride_w, sh.w); ++rw) {
        const int nr = ph.count[rh], ns = pw.count[rw];
        const int* tr = ph.tap + rh * sh.r;
        const int* ts = pw.tap + rw * sh.s;
        const int64_t K = int64_t(kg) * nr * ns;
        for (int64_t kk = tid; kk < K; kk += nth) {
          const int m = int(kk / (nr * ns)), j = int(kk % (nr * ns));
          taps[kk] = Im2colTap{m * a.dys.c, ph.shift[rh * sh.r + j / ns],
                               pw.shift[rw * sh.s + j % ns]};
        }
        const int64_t panels = int64_t(sh.groups) * mp;
        for (int64_t pi = chunk_begin(panels, nth, tid); pi < chunk_begin(panels, nth, tid + 1);
             ++pi) {
          const int64_t g = pi / mp, ip = pi % mp;
          pack_a_panel<T>(k.mr, cg, int(ip * k.mr), K, apk + pi * K * k.mr,
                          [&](int c, int64_t kk) {
                            const int m = int(kk / (nr * ns)), j = int(kk % (nr * ns));
                            const int64_t wi = ((g * kg + m) * cg + c) * int64_t(sh.r) * sh.s +
                                               tr[j / ns] * sh.s + ts[j % ns];
                            return masked(w, a.mask, wi);
                          });
        }
#pragma omp barrier
        const Lowered<T> L{sh.groups, cg, K, apk, taps,
                           static_cast<const T*>(a.dy), kg * a.dys.c, a.dys.n, a.dys.h, a.dys.w,
                           sh.p, sh.q, 1,
                           sh.n, int(ceil_div(sh.h - rh, sh.stride_h)),
                           int(ceil_div(sh.w - rw, sh.stride_w)), 1, 0, 1, 0,
                           static_cast<T*>(a.dx), cg * a.dxs.c, a.dxs.c, a.dxs.n, a.dxs.h,
                           a.dxs.w, sh.stride_h, rh, sh.stride_w, rw, T(a.alpha), T(a.beta)};
        run_lowered(k, L, tb[tid], tid, nth);
#pragma omp barrier
      }
  }
  return DSDK_STATUS_SUCCESS;
}

// ---------------------------------------------------------------------------------------
// Backward filter.

template <typename T>
struct FilterBufs {
  T* b;  // kc pixels x nc taps, packed
  T* a;  // kc pixels x mr channels of dy, packed
  int64_t* xbase;
  int64_t* ybase;
  int* h0;
  int* w0;
};

template <typename T>
int64_t bwd_filter_ws(const ConvShape& sh, int nt, void* base, FilterBufs<T>* fb) {
  const Microkernel<T>& k = microkernel<T>();
  Carver cv(base);
  const int64_t nc = tile_nc(k, sh.crs());
  for (int t = 0; t < nt; ++t) {
    FilterBufs<T> d;
    FilterBufs<T>& f = fb ? fb[t] : d;
    f.b = cv.take<T>(k.kc * nc);
    f.a = cv.take<T>(k.kc * k.mr);
    f.xbase = cv.take<int64_t>(k.kc);
    f.ybase = cv.take<int64_t>(k.kc);
    f.h0 = cv.take<int>(k.kc);
    f.w0 = cv.take<int>(k.kc);
  }
  return int64_t(cv.size());
}

template <typename T>
dsdkStatus_t bwd_filter(const ConvBwdFilterArgs& a, void* ws, size_t bytes, int nt,
                        std::string* msg) {
  const ConvShape& sh = a.sh;
  const Microkernel<T>& k = microkernel<T>();
  nt = std::min(nt, kMaxThreads);
  FilterBufs<T> fb[kMaxThreads];
  if (size_t(bwd_filter_ws<T>(sh, nt, nullptr, nullptr)) > bytes) {
    *msg = "workspace is smaller than the size query reports";
    return DSDK_STATUS_BAD_PARAM;
  }
  bwd_filter_ws<T>(sh, nt, ws, fb);
  const int cg = sh.c_per_group(), kg = sh.k_per_group();
  const int64_t crs = sh.crs();
  const int64_t pix = int64_t(sh.n) * sh.p * sh.q;
  const int64_t mp = ceil_div(kg, k.mr), np = ceil_div(crs, k.nr);
  const int64_t nc_max = tile_nc(k, crs);
  const T* x = static_cast<const T*>(a.x);
  const T* dy = static_cast<const T*>(a.dy);
  T* dw = static_cast<T*>(a.dw);
  const T alpha = T(a.alpha);
#pragma omp parallel num_threads(nt)
  {
    const int tid = thread_id(), nth = team_size();
    FilterBufs<T>& f = fb[tid];
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
      const T* xg = x ? x + int64_t(g) * cg * a.xs.c : nullptr;
      const T* dyg = dy ? dy + int64_t(g) * kg * a.dys.c : nullptr;
      for (int64_t j0 = c0; j0 < c1; j0 += nc_max) {
        const int nc = int(std::min(nc_max, c1 - j0));
        const int tp = int(ceil_div(nc, k.nr));
        for (int64_t pc = 0; pc == 0 || pc < pix; pc += k.kc) {
          const int64_t kc = std::min(k.kc, pix - pc);
          for (int64_t i = 0; i < kc; ++i) {
            const int64_t t = pc + i;
            const int q = int(t % sh.q), p = int((t / sh.q) % sh.p), n = int(t / (int64_t(sh.p) * sh.q));
            f.xbase[i] = n * a.xs.n;
            f.ybase[i] = n * a.dys.n + p * a.dys.h + q * a.dys.w;
            f.h0[i] = p * sh.stride_h - sh.pad_h;
            f.w0[i] = q * sh.stride_w - sh.pad_w;
          }
          // B[pixel][tap] for the tile's taps.
          for (int jp = 0; jp < tp; ++jp) {
            T* bp = f.b + jp * kc * k.nr;
            for (int j = 0; j < k.nr; ++j) {
              const int64_t kk = j0 + jp * k.nr + j;
              if (kk >= j0 + nc) {
                for (int64_t i = 0; i < kc; ++i) bp[i * k.nr + j] = T(0);
                continue;
              }
              const Tap tap = split_crs(kk, sh.r, sh.s);
              const int64_t coff = tap.c * a.xs.c;
              const int dh = tap.r * sh.dil_h, dwd = tap.s * sh.dil_w;
              for (int64_t i = 0; i < kc; ++i) {
                const int h = f.h0[i] + dh, wv = f.w0[i] + dwd;
                bp[i * k.nr + j] = (inside(h, sh.h) && inside(wv, sh.w))
                                       ? xg[f.xbase[i] + coff + h * a.xs.h + wv * a.xs.w]
                                       : T(0);
              }
            }
          }
          const T beta = pc == 0 ? T(a.beta) : T(1);
          for (int64_t ip = p0; ip < p1; ++ip) {
            const int m0 = int(ip * k.mr);
            const int rows = std::min(k.mr, kg - m0);
            for (int i = 0; i < k.mr; ++i) {
              const int64_t yo = int64_t(m0 + i) * a.dys.c;
              for (int64_t kk = 0; kk < kc; ++kk)
                f.a[kk * k.mr + i] = i < rows ? dyg[f.ybase[kk] + yo] : T(0);
            }
            for (int jp = 0; jp < tp; ++jp) {
              const int n = std::min(k.nr, nc - jp * k.nr);
              const int64_t off = m0 * crs + j0 + jp * k.nr;
              k.tile(kc, f.a, f.b + jp * kc * k.nr, dwg + off, crs, nullptr,
                     mg ? mg + off : nullptr, alpha, beta, rows, n);
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
    T* apk;
    Im2colTap* taps;
    if (dir == DSDK_CONV_FORWARD) return size_t(fwd_ws<T>(sh, nt, nullptr, &apk, &taps, nullptr));
    if (dir == DSDK_CONV_BACKWARD_DATA)
      return size_t(bwd_data_ws<T>(sh, nt, nullptr, &apk, &taps, nullptr, nullptr, nullptr));
    return size_t(bwd_filter_ws<T>(sh, nt, nullptr, nullptr));
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
