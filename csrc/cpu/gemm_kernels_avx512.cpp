// AVX-512 microkernel (12 x 32 floats / 12 x 16 doubles: 24 zmm accumulators, B
// loaded as two vectors per k, A broadcast) and the masked-load im2col packer.
// Compiled for AVX-512 by pragma, so the library needs no global -march; only
// reached after a CPUID check (gemm_kernels_generic.cpp).
#include <algorithm>
#include <cstdint>

#include "cpu/gemm_kernels.h"
#include "cpu/isa_build.h"

#if DSDK_X86_ISA
#include <immintrin.h>

DSDK_ISA_BEGIN("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi,bmi2")
// GCC 12's own shuffle intrinsics start from _mm512_undefined_*(), which trips this.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace dsdk {
namespace cpu {
namespace {

constexpr int kMr = 12;

template <typename T>
struct Vec;

template <>
struct Vec<float> {
  using R = __m512;
  using M = __mmask16;
  static constexpr int L = 16;
  static R zero() { return _mm512_setzero_ps(); }
  static R set1(float x) { return _mm512_set1_ps(x); }
  static R load(const float* p) { return _mm512_loadu_ps(p); }
  static R maskz_load(M m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
  static R bor(R a, R b) { return _mm512_or_ps(a, b); }
  static void store(float* p, R v) { _mm512_storeu_ps(p, v); }
  static void mask_store(float* p, M m, R v) { _mm512_mask_storeu_ps(p, m, v); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  static R add(R a, R b) { return _mm512_add_ps(a, b); }
  static R maskz_mov(M m, R v) { return _mm512_maskz_mov_ps(m, v); }
  static M lanes(int n) { return n >= L ? M(0xFFFF) : M((1u << n) - 1); }
  // Lanes i (under m) of p[idx[i]]; the second vector of a panel uses idx1.
  static R mask_gather(R v, M m, __m512i idx, const float* p) {
    return _mm512_mask_i32gather_ps(v, m, idx, p, 4);
  }
  static __m512i upper_index(__m512i, __m512i idx1) { return idx1; }
  // Lanes (under m) whose byte in p is non-zero.
  static M nonzero_bytes(M m, const uint8_t* p) {
    __m128i b = _mm_maskz_loadu_epi8(m, p);
    return _mm_mask_test_epi8_mask(m, b, b);
  }
};

template <>
struct Vec<double> {
  using R = __m512d;
  using M = __mmask8;
  static constexpr int L = 8;
  static R zero() { return _mm512_setzero_pd(); }
  static R set1(double x) { return _mm512_set1_pd(x); }
  static R load(const double* p) { return _mm512_loadu_pd(p); }
  static R maskz_load(M m, const double* p) { return _mm512_maskz_loadu_pd(m, p); }
  static R bor(R a, R b) { return _mm512_or_pd(a, b); }
  static void store(double* p, R v) { _mm512_storeu_pd(p, v); }
  static void mask_store(double* p, M m, R v) { _mm512_mask_storeu_pd(p, m, v); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  static R mul(R a, R b) { return _mm512_mul_pd(a, b); }
  static R add(R a, R b) { return _mm512_add_pd(a, b); }
  static R maskz_mov(M m, R v) { return _mm512_maskz_mov_pd(m, v); }
  static M lanes(int n) { return n >= L ? M(0xFF) : M((1u << n) - 1); }
  // 8 lanes: the low half of the 16 indices, or their high half for the second vector.
  static R mask_gather(R v, M m, __m512i idx, const double* p) {
    return _mm512_mask_i32gather_pd(v, m, _mm512_castsi512_si256(idx), p, 8);
  }
  static __m512i upper_index(__m512i idx0, __m512i) {
    return _mm512_castsi256_si512(_mm512_extracti64x4_epi64(idx0, 1));
  }
  static M nonzero_bytes(M m, const uint8_t* p) {
    __m128i b = _mm_maskz_loadu_epi8(__mmask16(m), p);
    return M(_mm_mask_test_epi8_mask(__mmask16(m), b, b));
  }
};

// In-register transposes of a square block of vectors (r[i] = row i in, column i out).
inline void transpose(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  // u[4b + c], 128-bit lane l: column 4l + c of rows 4b..4b+3.
  for (int b = 0; b < 16; b += 4) {
    const __m512d t0 = _mm512_castps_pd(t[b]), t1 = _mm512_castps_pd(t[b + 1]);
    const __m512d t2 = _mm512_castps_pd(t[b + 2]), t3 = _mm512_castps_pd(t[b + 3]);
    u[b] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
    u[b + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
    u[b + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
    u[b + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
  }
  for (int c = 0; c < 4; ++c) {
    const __m512 v = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
    const __m512 v2 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
    const __m512 w = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    const __m512 w2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
    r[c] = _mm512_shuffle_f32x4(v, w, 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(v, w, 0xDD);
    r[4 + c] = _mm512_shuffle_f32x4(v2, w2, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(v2, w2, 0xDD);
  }
}

inline void transpose(__m512d r[8]) {
  __m512d t[8];
  // t[2a + c], 128-bit lane l: column 2l + c of rows 2a, 2a+1.
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm512_unpacklo_pd(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_pd(r[i], r[i + 1]);
  }
  for (int c = 0; c < 2; ++c) {
    const __m512d v = _mm512_shuffle_f64x2(t[c], t[2 + c], 0x88);
    const __m512d v2 = _mm512_shuffle_f64x2(t[c], t[2 + c], 0xDD);
    const __m512d w = _mm512_shuffle_f64x2(t[4 + c], t[6 + c], 0x88);
    const __m512d w2 = _mm512_shuffle_f64x2(t[4 + c], t[6 + c], 0xDD);
    r[c] = _mm512_shuffle_f64x2(v, w, 0x88);
    r[4 + c] = _mm512_shuffle_f64x2(v, w, 0xDD);
    r[2 + c] = _mm512_shuffle_f64x2(v2, w2, 0x88);
    r[6 + c] = _mm512_shuffle_f64x2(v2, w2, 0xDD);
  }
}

// Up to kMaxRuns runs of consecutive offsets over lanes [0, n): run r is lanes
// [start[r], start[r + 1]), lane j of it at offset shift[r] + j. No offsets = one run.
constexpr int kMaxRuns = 4;
struct Runs {
  int count;
  int start[kMaxRuns + 1];
  int64_t shift[kMaxRuns];
};

inline bool find_runs(const int64_t* off, int n, Runs* r) {
  r->count = 1;
  r->start[0] = 0;
  r->shift[0] = off ? off[0] : 0;
  for (int j = 1; off && j < n; ++j) {
    if (off[j] == off[j - 1] + 1) continue;
    if (r->count == kMaxRuns) return false;
    r->start[r->count] = j;
    r->shift[r->count++] = off[j] - j;
  }
  r->start[r->count] = n;
  return true;
}

inline uint64_t run_bits(int lo, int hi) { return ((uint64_t(1) << (hi - lo)) - 1) << lo; }

// MRR rows (<= kMr) by NV vectors of the packed panels (row stride kMr, column
// stride 2 * L), accumulated over kc in registers, then the C update; kBias: o has a
// bias (a template argument, so that the update without one stays as lean as it was).
template <typename T, int MRR, int NV, bool kBias>
void tile_mn(int64_t kc, const T* a, const T* b, const TileOut<T>& o, int n) {
  using V = Vec<T>;
  constexpr int L = V::L, NR = 2 * L;
  if (!o.row_off && !o.col_off && o.cs == 1) {
    // The C rows are touched only after the k loop: start fetching them now.
#pragma GCC unroll 16
    for (int i = 0; i < MRR; ++i) {
      const char* cr = reinterpret_cast<const char*>(o.c + i * o.rs);
      _mm_prefetch(cr, _MM_HINT_T0);
      _mm_prefetch(cr + NV * L * sizeof(T) - 1, _MM_HINT_T0);
    }
  }
  typename V::R acc[MRR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MRR; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();
  for (int64_t k = 0; k < kc; ++k) {
    typename V::R bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) bv[v] = V::load(b + v * L);
#pragma GCC unroll 16
    for (int i = 0; i < MRR; ++i) {
      typename V::R ai = V::set1(a[i]);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[i][v] = V::fma(ai, bv[v], acc[i][v]);
    }
    a += kMr;
    b += NR;
  }
  const typename V::R va = V::set1(o.alpha), vb = V::set1(o.beta);
  Runs runs;
  if ((o.col_off || o.cs == 1) && find_runs(o.col_off, n, &runs)) {
    // Rows of C are vectors, in up to kMaxRuns pieces (pixel panels that cross an image
    // or a padded row).
#pragma GCC unroll 16
    for (int i = 0; i < MRR; ++i) {
      const int64_t ro = o.row_off ? o.row_off[i] : i * o.rs;
      const typename V::R bi = kBias && o.row_bias ? V::set1(o.row_bias[i]) : V::zero();
      for (int r = 0; r < runs.count; ++r) {
        // Lane j of the run sits at ro + shift + j.
        const int64_t base = ro + runs.shift[r];
        const uint64_t bits = run_bits(runs.start[r], runs.start[r + 1]);
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) {
          const typename V::M mk = typename V::M(bits >> (v * L));
          if (!mk) continue;
          T* cp = o.c + base + v * L;
          typename V::R x = V::mul(acc[i][v], va);
          if (kBias) x = V::add(x, o.col_bias ? V::maskz_load(mk, o.col_bias + v * L) : bi);
          if (o.cmask) x = V::maskz_mov(V::nonzero_bytes(mk, o.cmask + base + v * L), x);
          if (o.beta != T(0)) x = V::fma(vb, V::maskz_load(mk, cp), x);
          V::mask_store(cp, mk, x);
        }
      }
    }
    return;
  }
  if (!o.col_off && !o.cmask && (o.row_off || o.rs == 1) && find_runs(o.row_off, MRR, &runs)) {
    // Columns of C are vectors (the transposed orientation): transpose L x L blocks.
#pragma GCC unroll 2
    for (int rb = 0; rb < MRR; rb += L) {
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) {
        typename V::R r[L];
#pragma GCC unroll 16
        for (int i = 0; i < L; ++i) r[i] = rb + i < MRR ? acc[rb + i][v] : V::zero();
        transpose(r);
        const int cols = n - v * L < L ? n - v * L : L;
        for (int j = 0; j < cols; ++j) {
          typename V::R x0 = V::mul(r[j], va);
          if (kBias && o.col_bias) x0 = V::add(x0, V::set1(o.col_bias[v * L + j]));
          for (int q = 0; q < runs.count; ++q) {
            const uint64_t bits = run_bits(runs.start[q], runs.start[q + 1]) >> rb;
            const typename V::M mk = typename V::M(bits);
            if (!mk) continue;
            T* cp = o.c + runs.shift[q] + rb + (v * L + j) * o.cs;
            typename V::R x = x0;
            if (kBias && o.row_bias) x = V::add(x, V::maskz_load(mk, o.row_bias + rb));
            if (o.beta != T(0)) x = V::fma(vb, V::maskz_load(mk, cp), x);
            V::mask_store(cp, mk, x);
          }
        }
      }
    }
    return;
  }
  T buf[MRR * NR];
  for (int i = 0; i < MRR; ++i)
    for (int v = 0; v < NV; ++v) V::store(buf + i * NR + v * L, acc[i][v]);
  store_tile_scalar(buf, NR, o, MRR, n);
}

template <typename T, int MRR, bool kBias>
void tile_m(int64_t kc, const T* a, const T* b, const TileOut<T>& o, int n) {
  if (n > Vec<T>::L) tile_mn<T, MRR, 2, kBias>(kc, a, b, o, n);
  else tile_mn<T, MRR, 1, kBias>(kc, a, b, o, n);
}

template <typename T, int MRR>
void tile_m(int64_t kc, const T* a, const T* b, const TileOut<T>& o, int n) {
  if (o.row_bias || o.col_bias) tile_m<T, MRR, true>(kc, a, b, o, n);
  else tile_m<T, MRR, false>(kc, a, b, o, n);
}

template <typename T>
void tile(int64_t kc, const T* a, const T* b, const TileOut<T>& o, int m, int n) {
  switch (m) {
#define DSDK_TILE_CASE(M) \
  case M: return tile_m<T, M>(kc, a, b, o, n);
    DSDK_TILE_CASE(1) DSDK_TILE_CASE(2) DSDK_TILE_CASE(3) DSDK_TILE_CASE(4)
    DSDK_TILE_CASE(5) DSDK_TILE_CASE(6) DSDK_TILE_CASE(7) DSDK_TILE_CASE(8)
    DSDK_TILE_CASE(9) DSDK_TILE_CASE(10) DSDK_TILE_CASE(11) DSDK_TILE_CASE(12)
#undef DSDK_TILE_CASE
    default: return;
  }
}

// Unit-stride source rows: each segment is one masked load per vector of a panel row.
// Panels of 2L columns are stored whole; narrower ones (<= L, the transposed
// orientation's pixel panels) with full-vector stores that spill into the next row.
template <typename T>
void pack_im2col(const Im2colTile<T>& t, T* dst) {
  using V = Vec<T>;
  constexpr int L = V::L;
  const int NR = t.width;
  if (NR != 2 * L && NR > L) return pack_im2col_generic(t, dst);
  // Strided source columns (conv stride, channels_last) are gathered: lane j reads
  // element (j - lane) * step of the segment's first column.
  const int64_t step = int64_t(t.wstep) * t.ws;
  if (step != 1 && (step < 0 || step * 2 * L > (int64_t(1) << 30)))
    return pack_im2col_generic(t, dst);
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i idx0 = _mm512_mullo_epi32(iota, _mm512_set1_epi32(int(step)));
  const __m512i idx1 = _mm512_add_epi32(idx0, _mm512_set1_epi32(int(step) * L));
  const int np = (t.nc + NR - 1) / NR;
  const int64_t total = np * t.kc * NR;
  for (int p = 0; p < np; ++p) {
    T* pd = dst + p * t.kc * NR;
    const Im2colSeg* s0 = t.segs + t.panel_seg[p];
    const Im2colSeg* s1 = t.segs + t.panel_seg[p + 1];
    for (int64_t k = 0; k < t.kc; ++k) {
      const Im2colTap tap = t.taps[k];
      typename V::R v0 = V::zero(), v1 = V::zero();
      if (step == 1) {
        // Branch-free (boundary taps are frequent and unpredictable): an invalid row or
        // column range just gives an empty mask, and the row pointer is clamped to row 0.
        for (const Im2colSeg* sg = s0; sg != s1; ++sg) {
          const int h = sg->h0 + tap.dh;
          const bool hv = unsigned(h) < unsigned(t.H);
          const int w0 = sg->w0 + tap.dw;
          const int lo = std::max(0, -w0), hi = std::min(sg->len, t.W - w0);
          const uint64_t bits = hv && lo < hi ? run_bits(sg->lane + lo, sg->lane + hi) : 0;
          // Panel lane j reads source column w0 + j - lane; only valid lanes are loaded.
          const T* rp = t.src + (sg->base + tap.off + (hv ? h : 0) * t.hs + w0 - sg->lane);
          v0 = V::bor(v0, V::maskz_load(typename V::M(bits), rp));
          if (NR > L) v1 = V::bor(v1, V::maskz_load(typename V::M(bits >> L), rp + L));
        }
      } else {
        for (const Im2colSeg* sg = s0; sg != s1; ++sg) {
          const int h = sg->h0 + tap.dh;
          if (unsigned(h) >= unsigned(t.H)) continue;
          const int w0 = sg->w0 + tap.dw;
          int lo, hi;
          valid_lanes(w0, t.wstep, t.W, sg->len, &lo, &hi);
          if (lo >= hi) continue;
          const uint64_t bits = run_bits(sg->lane + lo, sg->lane + hi);
          const T* rp = t.src + (sg->base + tap.off + h * t.hs + w0 * t.ws - sg->lane * step);
          v0 = V::mask_gather(v0, typename V::M(bits), idx0, rp);
          if (NR > L)
            v1 = V::mask_gather(v1, typename V::M(bits >> L), V::upper_index(idx0, idx1), rp);
        }
      }
      T* d = pd + k * NR;
      if (NR > L) {
        V::store(d, v0);
        V::store(d + L, v1);
      } else if ((d - dst) + L <= total) {
        V::store(d, v0);
      } else {
        V::mask_store(d, V::lanes(NR), v0);
      }
    }
  }
}

// Blocks of L rows x L columns: masked loads, one transpose, `width`-lane stores.
template <typename T>
void pack_rows(const T* src, int64_t ld, const uint8_t* mask, int rows, int width, int64_t K,
               T* dst, int64_t dst_stride) {
  using V = Vec<T>;
  constexpr int L = V::L;
  const bool spill = width < L && dst_stride == width;
  for (int i0 = 0; i0 < width; i0 += L) {
    const int nrow = std::max(0, std::min(L, rows - i0));
    const typename V::M wmask = V::lanes(std::min(L, width - i0));
    for (int64_t k0 = 0; k0 < K; k0 += L) {
      const int kl = int(std::min<int64_t>(L, K - k0));
      const typename V::M kmask = V::lanes(kl);
      typename V::R r[L];
#pragma GCC unroll 16
      for (int i = 0; i < L; ++i) {
        if (i >= nrow) {
          r[i] = V::zero();
          continue;
        }
        const int64_t o = (i0 + i) * ld + k0;
        // Weight rows are long strided streams; fetch a few lines ahead of each.
        _mm_prefetch(reinterpret_cast<const char*>(src + o) + 1024, _MM_HINT_T0);
        const typename V::M m = mask ? V::nonzero_bytes(kmask, mask + o) : kmask;
        r[i] = V::maskz_load(m, src + o);
      }
      transpose(r);
      T* d = dst + k0 * dst_stride + i0;
      // Masked stores that straddle cache lines are slow: a narrow panel is written
      // with full vectors whose spill into the following rows their stores overwrite.
      for (int j = 0; j < kl; ++j) {
        const bool fits = width - i0 >= L || (spill && (k0 + j) * dst_stride + L <= K * dst_stride);
        if (fits) V::store(d + j * dst_stride, r[j]);
        else V::mask_store(d + j * dst_stride, wmask, r[j]);
      }
    }
  }
}

template <typename T>
const Microkernel<T> kAvx512{"avx512", kMr,       2 * Vec<T>::L, 256,
                             512,      tile<T>,   pack_im2col<T>, pack_rows<T>};

}  // namespace

template <typename T>
const Microkernel<T>* avx512_kernel() {
  return &kAvx512<T>;
}

}  // namespace cpu
}  // namespace dsdk

#pragma GCC diagnostic pop
DSDK_ISA_END

#else
DSDK_ISA_NONE(Microkernel, avx512_kernel)
#endif

DSDK_ISA_INSTANTIATE(Microkernel, avx512_kernel)
