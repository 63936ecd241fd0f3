// AVX-512 microkernel (12 x 32 floats / 12 x 16 doubles: 24 zmm accumulators, B
// loaded as two vectors per k, A broadcast) and the masked-load im2col packer.
// Compiled for AVX-512 by pragma, so the library needs no global -march; only
// reached after a CPUID check (gemm_kernels_generic.cpp).
#include <algorithm>
#include <cstdint>

#include "cpu/gemm_kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi,bmi2")
// GCC 12's own shuffle intrinsics start from _mm512_undefined_*(), which trips this.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

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
  static R mask_load(R v, M m, const float* p) { return _mm512_mask_loadu_ps(v, m, p); }
  static void store(float* p, R v) { _mm512_storeu_ps(p, v); }
  static void mask_store(float* p, M m, R v) { _mm512_mask_storeu_ps(p, m, v); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  static R maskz_mov(M m, R v) { return _mm512_maskz_mov_ps(m, v); }
  static M lanes(int n) { return n >= L ? M(0xFFFF) : M((1u << n) - 1); }
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
  static R mask_load(R v, M m, const double* p) { return _mm512_mask_loadu_pd(v, m, p); }
  static void store(double* p, R v) { _mm512_storeu_pd(p, v); }
  static void mask_store(double* p, M m, R v) { _mm512_mask_storeu_pd(p, m, v); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  static R mul(R a, R b) { return _mm512_mul_pd(a, b); }
  static R maskz_mov(M m, R v) { return _mm512_maskz_mov_pd(m, v); }
  static M lanes(int n) { return n >= L ? M(0xFF) : M((1u << n) - 1); }
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

// MRR rows (<= kMr) by NV vectors of the packed panels (row stride kMr, column
// stride 2 * L), accumulated over kc in registers, then the C update.
template <typename T, int MRR, int NV>
void tile_mn(int64_t kc, const T* a, const T* b, const TileOut<T>& o, int n) {
  using V = Vec<T>;
  constexpr int L = V::L, NR = 2 * L;
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
  if (!o.row_off && !o.col_off && o.cs == 1) {
    // Rows of C are vectors.
#pragma GCC unroll 16
    for (int i = 0; i < MRR; ++i) {
      T* cr = o.c + i * o.rs;
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) {
        const int left = n - v * L;
        if (left <= 0) break;
        const typename V::M mk = V::lanes(left);
        typename V::R x = V::mul(acc[i][v], va);
        if (o.cmask) x = V::maskz_mov(V::nonzero_bytes(mk, o.cmask + i * o.rs + v * L), x);
        if (o.beta != T(0)) x = V::fma(vb, V::maskz_load(mk, cr + v * L), x);
        V::mask_store(cr + v * L, mk, x);
      }
    }
    return;
  }
  if (!o.row_off && !o.col_off && o.rs == 1 && !o.cmask) {
    // Columns of C are vectors (the transposed orientation): transpose L x L blocks.
#pragma GCC unroll 2
    for (int rb = 0; rb < MRR; rb += L) {
      const typename V::M mk = V::lanes(MRR - rb);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) {
        typename V::R r[L];
#pragma GCC unroll 16
        for (int i = 0; i < L; ++i) r[i] = rb + i < MRR ? acc[rb + i][v] : V::zero();
        transpose(r);
        const int cols = n - v * L < L ? n - v * L : L;
        for (int j = 0; j < cols; ++j) {
          T* cc = o.c + rb + (v * L + j) * o.cs;
          typename V::R x = V::mul(r[j], va);
          if (o.beta != T(0)) x = V::fma(vb, V::maskz_load(mk, cc), x);
          V::mask_store(cc, mk, x);
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

template <typename T, int MRR>
void tile_m(int64_t kc, const T* a, const T* b, const TileOut<T>& o, int n) {
  if (n > Vec<T>::L) tile_mn<T, MRR, 2>(kc, a, b, o, n);
  else tile_mn<T, MRR, 1>(kc, a, b, o, n);
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
  if (t.ws != 1 || t.wstep != 1 || (NR != 2 * L && NR > L)) return pack_im2col_generic(t, dst);
  const int np = (t.nc + NR - 1) / NR;
  const int64_t total = np * t.kc * NR;
  for (int p = 0; p < np; ++p) {
    T* pd = dst + p * t.kc * NR;
    const Im2colSeg* s0 = t.segs + t.panel_seg[p];
    const Im2colSeg* s1 = t.segs + t.panel_seg[p + 1];
    for (int64_t k = 0; k < t.kc; ++k) {
      const Im2colTap tap = t.taps[k];
      typename V::R v0 = V::zero(), v1 = V::zero();
      for (const Im2colSeg* sg = s0; sg != s1; ++sg) {
        const int h = sg->h0 + tap.dh;
        if (unsigned(h) >= unsigned(t.H)) continue;
        const int w0 = sg->w0 + tap.dw;
        const int lo = w0 >= 0 ? 0 : -w0;
        const int hi = t.W - w0 < sg->len ? t.W - w0 : sg->len;
        if (lo >= hi) continue;
        // Panel lane j reads source column w0 + j - lane; only valid lanes are loaded.
        const T* rp = t.src + (sg->base + tap.off + h * t.hs + w0 - sg->lane);
        const uint64_t bits = ((uint64_t(1) << (hi - lo)) - 1) << (sg->lane + lo);
        v0 = V::mask_load(v0, typename V::M(bits), rp);
        if (NR > L) v1 = V::mask_load(v1, typename V::M(bits >> L), rp + L);
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
        _mm_prefetch(reinterpret_cast<const char*>(src + o) + 512, _MM_HINT_T0);
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
#pragma GCC pop_options

#else

namespace dsdk {
namespace cpu {
template <typename T>
const Microkernel<T>* avx512_kernel() {
  return nullptr;
}
}  // namespace cpu
}  // namespace dsdk

#endif

namespace dsdk {
namespace cpu {
template const Microkernel<float>* avx512_kernel<float>();
template const Microkernel<double>* avx512_kernel<double>();
}  // namespace cpu
}  // namespace dsdk
