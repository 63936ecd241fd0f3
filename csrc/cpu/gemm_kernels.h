// The instruction-set-specific pieces of the CPU GEMM engine: a register-blocked
// microkernel, the im2col tile packer and the transposing panel packer, chosen once at
// run time (AVX-512, AVX2+FMA or portable C++). Everything else (blocking loops,
// threading, tile bookkeeping) is plain C++ in the drivers (gemm.cpp,
// conv_implicit_gemm.cpp).
//
// Packed operand layouts (row-major micro-panels, as in BLIS):
//   A: panels of mr rows:    a[k * mr + i]  (i < mr, zero-padded past the last row)
//   B: panels of nr columns: b[k * nr + j]  (j < nr, zero-padded past the last column)
#pragma once
#include <cstdint>

namespace dsdk {
namespace cpu {

// One run of consecutive columns of an im2col tile, inside one panel, that read one
// source row: panel column `lane + l` (l < len) reads source column
// w0 + tap.dw + l * wstep of source row h0 + tap.dh, at src + base + tap.off (plus
// row/column strides); zero outside the source.
struct Im2colSeg {
  int64_t base;
  int lane, len;
  int h0, w0;
};

// Per packed row k: channel offset (elements) and the tap's shift in source rows/columns.
struct Im2colTap {
  int64_t off;
  int dh, dw;
};

// A tile of kc rows x nc columns of the lowered matrix, packed into ceil(nc / width)
// panels of `width` columns: dst[(p * kc + k) * width + j]. Columns past nc are zeroed.
template <typename T>
struct Im2colTile {
  const T* src;
  int64_t hs, ws;  // element strides of source rows and columns
  int H, W;        // source extent
  int wstep;       // source columns advanced per tile column
  const Im2colTap* taps;
  int64_t kc;
  const Im2colSeg* segs;
  const int* panel_seg;  // segments of panel p: [panel_seg[p], panel_seg[p + 1])
  int nc, width;
};

// Where a micro-tile goes: element (i, j) is c[row(i) + col(j)] with
// row(i) = row_off ? row_off[i] : i * rs and col(j) = col_off ? col_off[j] : j * cs.
// The update is C = (alpha * (A·B) + bias) * cmask + beta * C, cmask (optional, uint8,
// same offsets as C) zeroing masked products; beta == 0 never reads C. bias (the
// convolution's, per output channel; none if both null) is row_bias[i] or col_bias[j].
template <typename T>
struct TileOut {
  T* c;
  int64_t rs, cs;
  const int64_t* row_off;
  const int64_t* col_off;
  const uint8_t* cmask;
  T alpha, beta;
  const T* row_bias = nullptr;
  const T* col_bias = nullptr;
};

// The m x n (m <= mr, n <= nr) corner of the kc-long product of an A and a B panel,
// applied to `out`.
template <typename T>
using TileFn = void (*)(int64_t kc, const T* a, const T* b, const TileOut<T>& out, int m, int n);
template <typename T>
using PackIm2colFn = void (*)(const Im2colTile<T>& t, T* dst);
// Transposing pack: dst[k * dst_stride + i] = src[i * ld + k] for i < rows, zero for
// rows <= i < width, k < K; entries whose mask byte (mask[i * ld + k], optional) is
// zero read as zero. Packs weight panels (A) and transposes lowered tiles.
template <typename T>
using PackRowsFn = void (*)(const T* src, int64_t ld, const uint8_t* mask, int rows, int width,
                            int64_t K, T* dst, int64_t dst_stride);

template <typename T>
struct Microkernel {
  const char* isa;
  int mr, nr;      // register block
  int64_t kc, nc;  // cache block: reduction depth and B tile width (L1/L2 sized)
  TileFn<T> tile;
  PackIm2colFn<T> pack_im2col;
  PackRowsFn<T> pack_rows;
};

enum class Isa { kGeneric = 0, kAvx2 = 1, kAvx512 = 2 };

// The kernels in use: the best the CPU supports, unless force_isa chose a lower one.
template <typename T>
const Microkernel<T>& microkernel();

// The ISA the kernels use now: the best the CPU supports, at most force_isa's level.
Isa active_isa();

// Restricts kernel selection to `isa` or below (for tests and benchmarks); returns the
// level actually in use. Not thread-safe with running kernels.
Isa force_isa(Isa isa);

// Per-ISA tables (defined in gemm_kernels_*.cpp); nullptr when not compiled in.
template <typename T>
const Microkernel<T>* avx512_kernel();
template <typename T>
const Microkernel<T>* avx2_kernel();
template <typename T>
const Microkernel<T>* generic_kernel();

// The portable im2col packer, which the vector ISAs also use for unusual strides.
template <typename T>
void pack_im2col_generic(const Im2colTile<T>& t, T* dst);

template <typename T>
void pack_rows_generic(const T* src, int64_t ld, const uint8_t* mask, int rows, int width,
                       int64_t K, T* dst, int64_t dst_stride);

// Lanes l in [*lo, *hi) of a run of `len` columns starting at source column w0 and
// advancing by `step` that fall inside [0, W).
inline void valid_lanes(int w0, int step, int W, int len, int* lo, int* hi) {
  int a = w0 >= 0 ? 0 : (-w0 + step - 1) / step;
  int b = W - w0 <= 0 ? 0 : (W - w0 + step - 1) / step;
  *lo = a;
  *hi = b < len ? b : len;
}

// The scalar form of the tile update (see TileOut), from an unscaled m x n accumulator
// tile acc[i * ld + j]; kernels use it for scattered outputs.
template <typename T>
inline void store_tile_scalar(const T* acc, int ld, const TileOut<T>& o, int m, int n) {
  for (int i = 0; i < m; ++i) {
    const int64_t row = o.row_off ? o.row_off[i] : i * o.rs;
    for (int j = 0; j < n; ++j) {
      const int64_t off = row + (o.col_off ? o.col_off[j] : j * o.cs);
      const T bias = o.row_bias ? o.row_bias[i] : o.col_bias ? o.col_bias[j] : T(0);
      const T v = (o.cmask && !o.cmask[off]) ? T(0) : o.alpha * acc[i * ld + j] + bias;
      o.c[off] = o.beta == T(0) ? v : v + o.beta * o.c[off];
    }
  }
}

}  // namespace cpu
}  // namespace dsdk
