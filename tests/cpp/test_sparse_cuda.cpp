// The CUDA sparse algorithms through the public C API, against a naive double reference
// written here: the direct sparse convolution and the im2col-tile form, each from a
// packed device filter (dsdkCreateSparseFilter on a CUDA handle) and through the masked
// call (packing into the workspace), over strides 1-2, unequal padding, dilation, groups
// (depthwise included), 1x1/3x3/5x5, batch 0/1/odd, NCHW and channels_last, sparsity
// 0/50/90/99/100 % and masks with empty output channels, beta = 0 over a NaN output and
// beta != 0, with and without a bias (the bias entries), in float, double, half and
// bfloat16; the sparse GEMM over batch sizes,
// shapes (32-bit column indices included), leading dimensions and sparsities; then the
// refusals: host pointers, objects packed on the other backend, packed filters with the
// dense algorithm, and Find. The reference is fed the inputs rounded to the data type,
// and the bound is the storage rounding of the result plus the accumulator's rounding
// over the sum of the products' magnitudes.
// DSDK_TEST_QUICK=1 (the ASan emulator, memcheck) runs every (case, dtype, algorithm)
// with every 7th combination of the other axes. Without a GPU the test reports a skip
// (exit 77).
#include <cstdio>

#ifndef DSDK_WITH_CUDA
#include "check.h"

int main() { check::cuda_handle_or_skip("test_sparse_cuda"); }
#else
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "check.h"
#include "cuda_buffers.h"
#include "cuda_dtypes.h"
#include "dsdkern/dsdkern.h"

namespace {

using dtypes::elem_size;

struct Case {
  int n, c, h, w, k, r, s, pad_h, pad_w, stride_h, stride_w, dil_h, dil_w, groups;
};

const Case kCases[] = {
    // n  c   h   w   k  r  s  ph pw sh sw dh dw  g
    {2, 8, 9, 9, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1},    // 3x3 "same"
    {3, 6, 11, 10, 8, 3, 3, 1, 0, 2, 2, 1, 1, 2},   // stride 2, unequal padding, groups
    {1, 4, 10, 10, 6, 3, 3, 2, 2, 1, 1, 2, 2, 1},   // dilation, batch 1
    {1, 8, 8, 8, 8, 3, 3, 1, 1, 2, 2, 1, 1, 8},     // depthwise, stride 2
    {2, 4, 9, 9, 8, 5, 5, 2, 2, 1, 1, 1, 1, 1},     // 5x5
    {3, 40, 5, 5, 36, 1, 1, 0, 0, 1, 1, 1, 1, 1},   // 1x1, channels past one block
    {0, 4, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1},     // empty batch
    {1, 64, 6, 6, 70, 3, 3, 1, 1, 2, 1, 1, 1, 1},   // deep: many tap chunks, 3 channel blocks
    {5, 3, 7, 9, 5, 2, 3, 0, 1, 1, 2, 2, 1, 1},     // non-square, odd batch
    {1, 2, 32, 32, 512, 1, 1, 0, 0, 1, 1, 1, 1, 2}, // many pixels: several channels per block
};
const dsdkDataType_t kTypes[] = {DSDK_DATA_FLOAT, DSDK_DATA_DOUBLE, DSDK_DATA_HALF,
                                 DSDK_DATA_BFLOAT16};
const dsdkConvAlgo_t kAlgos[] = {DSDK_CONV_ALGO_DIRECT_SPARSE, DSDK_CONV_ALGO_SPARSE_TILE};
// Percent pruned; -1: 50 % with every third output channel empty.
const int kSparsities[] = {0, 50, 90, 99, 100, -1};

bool quick() { return std::getenv("DSDK_TEST_QUICK") != nullptr; }

struct Geom {
  int n, c, h, w;
  int64_t ns, cs, hs, ws;
  int64_t count() const { return int64_t(n) * c * h * w; }
  int64_t offset(int i, int j, int y, int x) const { return i * ns + j * cs + y * hs + x * ws; }
  int64_t storage() const { return n == 0 ? 0 : offset(n - 1, c - 1, h - 1, w - 1) + 1; }
};

Geom make_geom(bool channels_last, int n, int c, int h, int w) {
  if (channels_last) return {n, c, h, w, int64_t(h) * w * c, 1, int64_t(w) * c, c};
  return {n, c, h, w, int64_t(c) * h * w, int64_t(h) * w, w, 1};
}

struct Descriptors {
  dsdkTensorDescriptor_t x = nullptr, y = nullptr;
  dsdkFilterDescriptor_t w = nullptr;
  dsdkConvolutionDescriptor_t conv = nullptr;
  Descriptors(const Case& cs, dsdkDataType_t t, const Geom& xg, const Geom& yg) {
    dsdkCreateTensorDescriptor(&x);
    dsdkCreateTensorDescriptor(&y);
    dsdkCreateFilterDescriptor(&w);
    dsdkCreateConvolutionDescriptor(&conv);
    CHECK_OK(dsdkSetTensor4dDescriptorEx(x, t, xg.n, xg.c, xg.h, xg.w, xg.ns, xg.cs, xg.hs, xg.ws));
    CHECK_OK(dsdkSetTensor4dDescriptorEx(y, t, yg.n, yg.c, yg.h, yg.w, yg.ns, yg.cs, yg.hs, yg.ws));
    CHECK_OK(dsdkSetFilter4dDescriptor(w, t, cs.k, cs.c / cs.groups, cs.r, cs.s));
    CHECK_OK(dsdkSetConvolution2dDescriptor(conv, cs.pad_h, cs.pad_w, cs.stride_h, cs.stride_w,
                                            cs.dil_h, cs.dil_w, cs.groups));
  }
  ~Descriptors() {
    dsdkDestroyTensorDescriptor(x);
    dsdkDestroyTensorDescriptor(y);
    dsdkDestroyFilterDescriptor(w);
    dsdkDestroyConvolutionDescriptor(conv);
  }
};

std::vector<unsigned char> pack(dsdkDataType_t t, const Geom& g, const std::vector<double>& v) {
  const size_t es = elem_size(t);
  std::vector<unsigned char> out(size_t(g.storage()) * es, 0x5A);
  int64_t i = 0;
  for (int a = 0; a < g.n; ++a)
    for (int b = 0; b < g.c; ++b)
      for (int y = 0; y < g.h; ++y)
        for (int x = 0; x < g.w; ++x)
          dtypes::encode(t, v[size_t(i++)], &out[size_t(g.offset(a, b, y, x)) * es]);
  return out;
}

// Flat values (index order n, c, h, w) of a strided tensor.
std::vector<double> unpack(dsdkDataType_t t, const Geom& g, const std::vector<unsigned char>& s) {
  const size_t es = elem_size(t);
  std::vector<double> v;
  v.reserve(size_t(g.count()));
  for (int a = 0; a < g.n; ++a)
    for (int b = 0; b < g.c; ++b)
      for (int y = 0; y < g.h; ++y)
        for (int x = 0; x < g.w; ++x) v.push_back(dtypes::decode(t, &s[size_t(g.offset(a, b, y, x)) * es]));
  return v;
}

// Host scalars alpha and beta in the form the API reads for t.
struct Scalars {
  double ad, bd;
  float af, bf;
  Scalars(double a, double b) : ad(a), bd(b), af(float(a)), bf(float(b)) {}
  const void* alpha(dsdkDataType_t t) const { return t == DSDK_DATA_DOUBLE ? (const void*)&ad : &af; }
  const void* beta(dsdkDataType_t t) const { return t == DSDK_DATA_DOUBLE ? (const void*)&bd : &bf; }
};

// |got - want| <= storage rounding of want (subnormal spacing included) + 64
// accumulator roundings of the magnitude.
bool close(dsdkDataType_t t, double got, double want, double mag) {
  return std::fabs(got - want) <= dtypes::store_eps(t) * std::fabs(want) + dtypes::store_tiny(t) +
                                      64 * dtypes::acc_eps(t) * mag;
}

struct ConvProblem {
  const Case& cs;
  int p, q;
  std::vector<double> x, w, y0;  // flat NCHW / KCRS values, rounded to the data type
  std::vector<double> bias;      // k values, rounded; empty: no bias
  std::vector<uint8_t> mask;
  int64_t kept = 0;
};

void make_problem(ConvProblem* pr, dsdkDataType_t t, int sparsity, bool beta_nonzero,
                  bool bias, std::mt19937_64& rng) {
  const Case& cs = pr->cs;
  const int cg = cs.c / cs.groups;
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  pr->x.resize(size_t(cs.n) * cs.c * cs.h * cs.w);
  pr->w.resize(size_t(cs.k) * cg * cs.r * cs.s);
  pr->y0.resize(size_t(cs.n) * cs.k * pr->p * pr->q);
  for (double& v : pr->x) v = dtypes::round_to(t, uni(rng));
  for (double& v : pr->w) v = dtypes::round_to(t, uni(rng));
  for (double& v : pr->y0)
    v = beta_nonzero ? dtypes::round_to(t, uni(rng)) : std::numeric_limits<double>::quiet_NaN();
  pr->bias.assign(bias ? cs.k : 0, 0.0);
  for (double& v : pr->bias) v = dtypes::round_to(t, 4 * uni(rng));
  const int pct = sparsity < 0 ? 50 : sparsity;
  std::uniform_int_distribution<int> hundred(0, 99);
  pr->mask.assign(pr->w.size(), 0);
  const size_t crs = size_t(cg) * cs.r * cs.s;
  pr->kept = 0;
  for (size_t i = 0; i < pr->mask.size(); ++i) {
    const bool empty_channel = sparsity < 0 && (i / crs) % 3 == 1;
    if (!empty_channel && hundred(rng) >= pct) {
      pr->mask[i] = uint8_t(1 + rng() % 255);  // any non-zero byte keeps
      ++pr->kept;
    }
  }
}

// alpha * conv(x, w ⊙ mask) + beta * y0 + bias[k] in double, flat NCHW, with the
// products' magnitudes for the error bound.
void reference(const ConvProblem& pr, double alpha, double beta, std::vector<double>* out,
               std::vector<double>* mag) {
  const Case& cs = pr.cs;
  const int cg = cs.c / cs.groups, kg = cs.k / cs.groups;
  out->assign(pr.y0.size(), 0.0);
  mag->assign(pr.y0.size(), 0.0);
  for (int i = 0; i < cs.n; ++i)
    for (int k = 0; k < cs.k; ++k)
      for (int oh = 0; oh < pr.p; ++oh)
        for (int ow = 0; ow < pr.q; ++ow) {
          double acc = 0, m = 0;
          const int g = k / kg;
          for (int c = 0; c < cg; ++c)
            for (int r = 0; r < cs.r; ++r)
              for (int s = 0; s < cs.s; ++s) {
                const int hi = oh * cs.stride_h - cs.pad_h + r * cs.dil_h;
                const int wi = ow * cs.stride_w - cs.pad_w + s * cs.dil_w;
                const size_t wi_at = ((size_t(k) * cg + c) * cs.r + r) * cs.s + s;
                if (hi < 0 || hi >= cs.h || wi < 0 || wi >= cs.w || !pr.mask[wi_at]) continue;
                const double v =
                    pr.w[wi_at] * pr.x[((size_t(i) * cs.c + g * cg + c) * cs.h + hi) * cs.w + wi];
                acc += v;
                m += std::fabs(v);
              }
          const size_t at = ((size_t(i) * cs.k + k) * pr.p + oh) * pr.q + ow;
          const double b = beta == 0 ? 0.0 : beta * pr.y0[at];
          const double bias = pr.bias.empty() ? 0.0 : pr.bias[size_t(k)];
          (*out)[at] = alpha * acc + b + bias;
          // Each term rounds at its own size, whatever their sum.
          (*mag)[at] = std::fabs(alpha) * m + std::fabs(b) + std::fabs(bias);
        }
}

// One convolution: `packed` runs from dsdkCreateSparseFilter, otherwise through the
// masked call with the dense filter; `bias` through the bias entries.
void run_conv(dsdkHandle_t h, int ci, dsdkDataType_t t, dsdkConvAlgo_t algo, int sparsity,
              bool packed, bool channels_last, bool beta_nonzero, bool bias) {
  const Case& cs = kCases[ci];
  const int p = (cs.h + 2 * cs.pad_h - cs.dil_h * (cs.r - 1) - 1) / cs.stride_h + 1;
  const int q = (cs.w + 2 * cs.pad_w - cs.dil_w * (cs.s - 1) - 1) / cs.stride_w + 1;
  ConvProblem pr{cs, p, q, {}, {}, {}, {}, {}, 0};
  std::mt19937_64 rng(uint64_t(ci) * 1000003u + uint64_t(t) * 7919u + uint64_t(algo) * 131u +
                      uint64_t(sparsity + 1) * 17u + (packed ? 5u : 0u) +
                      (channels_last ? 3u : 0u) + (beta_nonzero ? 1u : 0u));
  make_problem(&pr, t, sparsity, beta_nonzero, bias, rng);
  const Scalars sc(beta_nonzero ? 0.75 : 1.25, beta_nonzero ? -0.5 : 0.0);
  char what[256];
  std::snprintf(what, sizeof what, "case %d, %s, %s, %d%% pruned%s, %s, %s, beta %g%s", ci,
                dtypes::name(t), dsdkGetConvolutionAlgorithmName(algo), sparsity < 0 ? 50 : sparsity,
                sparsity < 0 ? " + empty channels" : "", packed ? "packed filter" : "masked call",
                channels_last ? "channels_last" : "NCHW", sc.bd, bias ? ", bias" : "");

  const Geom xg = make_geom(channels_last, cs.n, cs.c, cs.h, cs.w);
  const Geom yg = make_geom(channels_last, cs.n, cs.k, p, q);
  const Geom wg = make_geom(false, cs.k, cs.c / cs.groups, cs.r, cs.s);
  const std::vector<unsigned char> hx = pack(t, xg, pr.x), hw = pack(t, wg, pr.w),
                                   hy = pack(t, yg, pr.y0);
  DeviceBuffer dx, dw, dy, dmask, dws, dbias;
  if (bias) {
    const std::vector<unsigned char> hb = pack(t, make_geom(false, 1, cs.k, 1, 1), pr.bias);
    CUDA_OK(dbias.upload(hb.data(), hb.size()));
  }
  CUDA_OK(dx.upload(hx.data(), hx.size()));
  CUDA_OK(dw.upload(hw.data(), hw.size()));
  CUDA_OK(dy.upload(hy.data(), hy.size()));
  CUDA_OK(dmask.upload(pr.mask.data(), pr.mask.size()));
  const uint8_t* mask = static_cast<const uint8_t*>(dmask.ptr);
  Descriptors d(cs, t, xg, yg);
  size_t ws_bytes = 0;
  dsdkStatus_t st;
  if (packed) {
    dsdkSparseFilter_t f = nullptr;
    CHECK_OK(dsdkCreateSparseFilter(h, &f, d.w, dw.ptr, mask, d.conv));
    if (!f) {
      std::printf("%s: dsdkCreateSparseFilter failed: %s\n", what, dsdkGetLastErrorMessage(h));
      return;
    }
    int64_t nnz = -1;
    size_t bytes = 0;
    CHECK_OK(dsdkGetSparseFilterInfo(f, &nnz, &bytes));
    CHECK(nnz == pr.kept && bytes > 0);
    CHECK_OK(dsdkGetSparseConvolutionForwardWorkspaceSize(h, d.x, f, d.conv, d.y, algo, &ws_bytes));
    if (ws_bytes) CUDA_OK(dws.alloc(ws_bytes));
    st = bias ? dsdkSparseConvolutionBiasForward(h, sc.alpha(t), d.x, dx.ptr, f, d.conv, algo,
                                                 dws.ptr, ws_bytes, sc.beta(t), dbias.ptr, d.y,
                                                 dy.ptr)
              : dsdkSparseConvolutionForward(h, sc.alpha(t), d.x, dx.ptr, f, d.conv, algo, dws.ptr,
                                             ws_bytes, sc.beta(t), d.y, dy.ptr);
    CHECK_OK(dsdkDestroySparseFilter(f));
  } else {
    CHECK_OK(dsdkGetConvolutionWorkspaceSize(h, DSDK_CONV_FORWARD, d.x, d.w, d.conv, d.y, algo,
                                             &ws_bytes));
    if (ws_bytes) CUDA_OK(dws.alloc(ws_bytes));
    st = bias ? dsdkMaskedConvolutionBiasForward(h, sc.alpha(t), d.x, dx.ptr, d.w, dw.ptr, mask,
                                                 d.conv, algo, dws.ptr, ws_bytes, sc.beta(t),
                                                 dbias.ptr, d.y, dy.ptr)
              : dsdkMaskedConvolutionForward(h, sc.alpha(t), d.x, dx.ptr, d.w, dw.ptr, mask,
                                             d.conv, algo, dws.ptr, ws_bytes, sc.beta(t), d.y,
                                             dy.ptr);
  }
  if (st != DSDK_STATUS_SUCCESS) {
    std::printf("%s: failed: %s\n", what, dsdkGetLastErrorMessage(h));
    ++check::failures();
    return;
  }
  CUDA_OK(cudaDeviceSynchronize());
  std::vector<unsigned char> got_bytes(hy.size());
  if (!got_bytes.empty())
    CUDA_OK(cudaMemcpy(got_bytes.data(), dy.ptr, got_bytes.size(), cudaMemcpyDeviceToHost));
  const std::vector<double> got = unpack(t, yg, got_bytes);
  std::vector<double> want, mag;
  reference(pr, sc.ad, sc.bd, &want, &mag);
  int64_t bad = 0, first = -1;
  for (size_t i = 0; i < want.size(); ++i)
    if (!close(t, got[i], want[i], mag[i])) {  // NaN fails too
      if (first < 0) first = int64_t(i);
      ++bad;
    }
  if (bad > 0) {
    std::printf("%s: %lld of %zu elements differ; first at %lld: got %.9g, reference %.9g\n", what,
                static_cast<long long>(bad), want.size(), static_cast<long long>(first),
                got[size_t(first)], want[size_t(first)]);
    ++check::failures();
  }
}

void conv_grid() {
  dsdkHandle_t h = check::cuda_handle_or_skip("test_sparse_cuda");
  int64_t combo = 0, runs = 0;
  const int stride = quick() ? 7 : 1;
  for (int ci = 0; ci < int(sizeof kCases / sizeof kCases[0]); ++ci)
    for (dsdkDataType_t t : kTypes)
      for (dsdkConvAlgo_t algo : kAlgos)
        for (int spi = 0; spi < int(sizeof kSparsities / sizeof kSparsities[0]); ++spi)
          for (int packed = 0; packed < 2; ++packed)
            for (int cl = 0; cl < 2; ++cl)
              for (int beta = 0; beta < 2; ++beta)
                if (combo++ % stride == 0) {
                  // Half the sparsities of each (case, way in) with a bias.
                  run_conv(h, ci, t, algo, kSparsities[spi], packed, cl, beta,
                           (ci + spi + packed) % 2 == 1);
                  ++runs;
                }
  std::printf("convolution: %lld runs\n", static_cast<long long>(runs));
  dsdkDestroy(h);
}

// ---- sparse GEMM ---------------------------------------------------------------

struct GemmCase {
  int64_t m, rows, cols, ldx, ldy;
  int sparsity;  // -1: 50 % with every fourth row empty
  double alpha, beta;
};

void run_gemm(dsdkHandle_t h, const GemmCase& gc, dsdkDataType_t t, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  std::uniform_int_distribution<int> hundred(0, 99);
  const int64_t mx = std::max<int64_t>(gc.m, 1);
  std::vector<double> x(size_t(mx * gc.ldx)), w(size_t(gc.rows * gc.cols)), y(size_t(mx * gc.ldy));
  std::vector<uint8_t> mask(w.size());
  int64_t kept = 0;
  for (double& v : x) v = dtypes::round_to(t, uni(rng));
  for (size_t i = 0; i < w.size(); ++i) {
    w[i] = dtypes::round_to(t, uni(rng));
    const bool empty = gc.sparsity < 0 && (i / gc.cols) % 4 == 2;
    mask[i] = !empty && hundred(rng) >= (gc.sparsity < 0 ? 50 : gc.sparsity);
    kept += mask[i];
  }
  for (double& v : y) v = gc.beta == 0 ? std::numeric_limits<double>::quiet_NaN()
                                       : dtypes::round_to(t, uni(rng));
  auto bytes_of = [&](const std::vector<double>& v) {
    std::vector<unsigned char> b(v.size() * elem_size(t));
    for (size_t i = 0; i < v.size(); ++i) dtypes::encode(t, v[i], &b[i * elem_size(t)]);
    return b;
  };
  const std::vector<unsigned char> hx = bytes_of(x), hw = bytes_of(w), hy = bytes_of(y);
  DeviceBuffer dx, dw, dy, dmask;
  CUDA_OK(dx.upload(hx.data(), hx.size()));
  CUDA_OK(dw.upload(hw.data(), hw.size()));
  CUDA_OK(dy.upload(hy.data(), hy.size()));
  CUDA_OK(dmask.upload(mask.data(), mask.size()));
  char what[200];
  std::snprintf(what, sizeof what, "sparse GEMM %s m%lld rows%lld cols%lld ldx%lld ldy%lld sp%d "
                "alpha %g beta %g", dtypes::name(t), (long long)gc.m, (long long)gc.rows,
                (long long)gc.cols, (long long)gc.ldx, (long long)gc.ldy, gc.sparsity, gc.alpha,
                gc.beta);
  dsdkSparseMatrix_t s = nullptr;
  CHECK_OK(dsdkCreateSparseMatrix(h, &s, t, gc.rows, gc.cols, dw.ptr,
                                  static_cast<const uint8_t*>(dmask.ptr)));
  if (!s) {
    std::printf("%s: dsdkCreateSparseMatrix failed: %s\n", what, dsdkGetLastErrorMessage(h));
    return;
  }
  int64_t nnz = -1;
  size_t ws = 1;
  CHECK_OK(dsdkGetSparseMatrixInfo(s, &nnz, &ws));
  CHECK(nnz == kept);
  CHECK_OK(dsdkGetSparseGemmWorkspaceSize(h, s, gc.m, &ws));
  CHECK(ws == 0);
  const Scalars sc(gc.alpha, gc.beta);
  const dsdkStatus_t st = dsdkSparseGemm(h, sc.alpha(t), gc.m, dx.ptr, gc.ldx, s, nullptr, 0,
                                         sc.beta(t), dy.ptr, gc.ldy);
  CHECK_OK(dsdkDestroySparseMatrix(s));
  if (st != DSDK_STATUS_SUCCESS) {
    std::printf("%s: failed: %s\n", what, dsdkGetLastErrorMessage(h));
    ++check::failures();
    return;
  }
  std::vector<unsigned char> got(hy.size());
  CUDA_OK(cudaMemcpy(got.data(), dy.ptr, got.size(), cudaMemcpyDeviceToHost));
  int64_t bad = 0;
  for (int64_t i = 0; i < gc.m; ++i)
    for (int64_t n = 0; n < gc.ldy; ++n) {
      const size_t at = size_t(i * gc.ldy + n);
      const unsigned char* g = &got[at * elem_size(t)];
      if (n >= gc.rows) {  // past the matrix's rows: untouched
        bad += std::memcmp(g, &hy[at * elem_size(t)], elem_size(t)) != 0;
        continue;
      }
      double acc = 0, mag = 0;
      for (int64_t k = 0; k < gc.cols; ++k) {
        if (!mask[size_t(n * gc.cols + k)]) continue;
        const double v = x[size_t(i * gc.ldx + k)] * w[size_t(n * gc.cols + k)];
        acc += v;
        mag += std::fabs(v);
      }
      const double b = gc.beta == 0 ? 0.0 : gc.beta * y[at];
      bad += !close(t, dtypes::decode(t, g), gc.alpha * acc + b, std::fabs(gc.alpha) * mag + std::fabs(b));
    }
  if (bad) {
    std::printf("%s: %lld elements wrong\n", what, (long long)bad);
    ++check::failures();
  }
}

void gemm_grid() {
  dsdkHandle_t h = check::cuda_handle_or_skip("test_sparse_cuda");
  std::mt19937 rng(4242);
  auto pick = [&](std::initializer_list<int> v) {
    return *(v.begin() + std::uniform_int_distribution<int>(0, int(v.size()) - 1)(rng));
  };
  const int cases = quick() ? 16 : 120;
  for (int i = 0; i < cases; ++i) {
    GemmCase gc{};
    gc.m = pick({0, 1, 1, 2, 3, 4, 5, 8, 9, 17, 40});
    gc.rows = pick({1, 5, 16, 37});
    gc.cols = pick({1, 3, 17, 64, 300});
    gc.ldx = gc.cols + pick({0, 0, 3});
    gc.ldy = gc.rows + pick({0, 0, 2});
    gc.sparsity = pick({0, 50, 90, 99, 100, -1});
    gc.alpha = pick({0, 1, 1}) ? 1.0 : -1.5;
    gc.beta = pick({0, 0, 1}) ? 0.5 : 0.0;
    run_gemm(h, gc, kTypes[i % 4], 77u + uint64_t(i));
  }
  // More columns than 16-bit indices address: the 32-bit path, one row and a batch.
  for (int64_t m : {1, 5}) run_gemm(h, GemmCase{m, 3, 70000, 70000, 3, 90, 1.0, 0.0}, DSDK_DATA_FLOAT, 9u + m);
  std::printf("sparse GEMM: %d cases\n", cases + 2);
  dsdkDestroy(h);
}

// ---- refusals and Find ---------------------------------------------------------

void api_paths() {
  dsdkHandle_t gpu = check::cuda_handle_or_skip("test_sparse_cuda");
  dsdkHandle_t cpu = nullptr;
  CHECK_OK(dsdkCreate(&cpu, DSDK_BACKEND_CPU));
  const Case& cs = kCases[0];
  const int p = cs.h, q = cs.w;  // 3x3, pad 1, stride 1
  const Geom xg = make_geom(false, cs.n, cs.c, cs.h, cs.w), yg = make_geom(false, cs.n, cs.k, p, q);
  const size_t wcount = size_t(cs.k) * cs.c * cs.r * cs.s;
  std::vector<float> hx(size_t(xg.count()), 0.5f), hw(wcount, 0.25f), hy(size_t(yg.count()));
  std::vector<uint8_t> hmask(wcount, 1);
  for (size_t i = 0; i < wcount; i += 3) hmask[i] = 0;
  DeviceBuffer x, w, y, mask, ws;
  CUDA_OK(x.upload(hx.data(), hx.size() * 4));
  CUDA_OK(w.upload(hw.data(), hw.size() * 4));
  CUDA_OK(y.upload(hy.data(), hy.size() * 4));
  CUDA_OK(mask.upload(hmask.data(), hmask.size()));
  const uint8_t* dmask = static_cast<const uint8_t*>(mask.ptr);
  Descriptors d(cs, DSDK_DATA_FLOAT, xg, yg);
  const float one = 1.0f, zero = 0.0f;

  // Host memory given to a CUDA handle is refused by name.
  dsdkSparseFilter_t f = nullptr;
  CHECK_STATUS(dsdkCreateSparseFilter(gpu, &f, d.w, hw.data(), dmask, d.conv), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(gpu, "w is host memory");
  CHECK(f == nullptr);
  CHECK_STATUS(dsdkCreateSparseFilter(gpu, &f, d.w, w.ptr, hmask.data(), d.conv), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(gpu, "mask is host memory");
  dsdkSparseFilter_t on_gpu = nullptr, on_cpu = nullptr;
  CHECK_OK(dsdkCreateSparseFilter(gpu, &on_gpu, d.w, w.ptr, dmask, d.conv));
  CHECK_OK(dsdkCreateSparseFilter(cpu, &on_cpu, d.w, hw.data(), hmask.data(), d.conv));
  size_t need = 0;
  CHECK_OK(dsdkGetSparseConvolutionForwardWorkspaceSize(gpu, d.x, on_gpu, d.conv, d.y,
                                                        DSDK_CONV_ALGO_DIRECT_SPARSE, &need));
  CUDA_OK(ws.alloc(need));
  CHECK_STATUS(dsdkSparseConvolutionForward(gpu, &one, d.x, hx.data(), on_gpu, d.conv,
                                            DSDK_CONV_ALGO_DIRECT_SPARSE, ws.ptr, need, &zero, d.y,
                                            y.ptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(gpu, "x is host memory");
  CHECK_STATUS(dsdkSparseConvolutionForward(gpu, &one, d.x, x.ptr, on_gpu, d.conv,
                                            DSDK_CONV_ALGO_SPARSE_TILE, nullptr, 0, &zero, d.y,
                                            hy.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(gpu, "y is host memory");
  const std::vector<float> hbias(size_t(cs.k), 1.0f);
  CHECK_STATUS(dsdkSparseConvolutionBiasForward(gpu, &one, d.x, x.ptr, on_gpu, d.conv,
                                                DSDK_CONV_ALGO_DIRECT_SPARSE, ws.ptr, need, &zero,
                                                hbias.data(), d.y, y.ptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(gpu, "bias is host memory");
  // An object runs only on the backend it was packed on.
  CHECK_STATUS(dsdkSparseConvolutionForward(gpu, &one, d.x, x.ptr, on_cpu, d.conv,
                                            DSDK_CONV_ALGO_DIRECT_SPARSE, ws.ptr, need, &zero, d.y,
                                            y.ptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(gpu, "filter was packed on a CPU handle");
  CHECK_STATUS(dsdkGetSparseConvolutionForwardWorkspaceSize(cpu, d.x, on_gpu, d.conv, d.y,
                                                            DSDK_CONV_ALGO_DIRECT_SPARSE, &need),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(cpu, "filter was packed on a CUDA handle");
  // The dense algorithm cannot run a packed filter; the sparse ones are forward only.
  CHECK_STATUS(dsdkSparseConvolutionForward(gpu, &one, d.x, x.ptr, on_gpu, d.conv,
                                            DSDK_CONV_ALGO_IMPLICIT_GEMM, ws.ptr, need, &zero, d.y,
                                            y.ptr),
               DSDK_STATUS_NOT_SUPPORTED);
  CHECK_MESSAGE(gpu, "implicit_gemm");
  CHECK_STATUS(dsdkGetConvolutionWorkspaceSize(gpu, DSDK_CONV_BACKWARD_DATA, d.x, d.w, d.conv, d.y,
                                               DSDK_CONV_ALGO_SPARSE_TILE, &need),
               DSDK_STATUS_NOT_SUPPORTED);
  CHECK_MESSAGE(gpu, "forward direction only");
  CHECK_OK(dsdkDestroySparseFilter(on_gpu));
  CHECK_OK(dsdkDestroySparseFilter(on_cpu));
  // The masked call packs the dense filter on the device: it must be there.
  CHECK_OK(dsdkGetConvolutionWorkspaceSize(gpu, DSDK_CONV_FORWARD, d.x, d.w, d.conv, d.y,
                                           DSDK_CONV_ALGO_SPARSE_TILE, &need));
  CUDA_OK(ws.alloc(need));
  CHECK_STATUS(dsdkMaskedConvolutionForward(gpu, &one, d.x, x.ptr, d.w, hw.data(), dmask, d.conv,
                                            DSDK_CONV_ALGO_SPARSE_TILE, ws.ptr, need, &zero, d.y,
                                            y.ptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(gpu, "w is host memory");
  CHECK_STATUS(dsdkMaskedConvolutionForward(gpu, &one, d.x, x.ptr, d.w, w.ptr, hmask.data(),
                                            d.conv, DSDK_CONV_ALGO_SPARSE_TILE, ws.ptr, need,
                                            &zero, d.y, y.ptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(gpu, "mask is host memory");

  // Find times every algorithm on the forward problem, and the winner is right.
  size_t most = 0;
  for (dsdkConvAlgo_t a : {DSDK_CONV_ALGO_IMPLICIT_GEMM, DSDK_CONV_ALGO_DIRECT_SPARSE,
                           DSDK_CONV_ALGO_SPARSE_TILE}) {
    CHECK_OK(dsdkGetConvolutionWorkspaceSize(gpu, DSDK_CONV_FORWARD, d.x, d.w, d.conv, d.y, a, &need));
    most = std::max(most, need);
  }
  CUDA_OK(ws.alloc(most));
  dsdkConvAlgoPerf_t perf[DSDK_CONV_ALGO_COUNT];
  int returned = 0;
  CHECK_OK(dsdkFindConvolutionAlgorithm(gpu, DSDK_CONV_FORWARD, d.x, x.ptr, d.w, w.ptr, dmask,
                                        d.conv, d.y, y.ptr, DSDK_CONV_ALGO_COUNT, &returned, perf,
                                        ws.ptr, most));
  CHECK(returned == DSDK_CONV_ALGO_COUNT);
  for (int i = 0; i < returned; ++i) CHECK(perf[i].status == DSDK_STATUS_SUCCESS);
  CHECK_OK(dsdkMaskedConvolutionForward(gpu, &one, d.x, x.ptr, d.w, w.ptr, dmask, d.conv,
                                        perf[0].algo, ws.ptr, most, &zero, d.y, y.ptr));
  std::vector<float> got(hy.size()), want(hy.size());
  CUDA_OK(cudaMemcpy(got.data(), y.ptr, got.size() * 4, cudaMemcpyDeviceToHost));
  {
    size_t cpu_ws = 0;
    CHECK_OK(dsdkGetConvolutionWorkspaceSize(cpu, DSDK_CONV_FORWARD, d.x, d.w, d.conv, d.y,
                                             DSDK_CONV_ALGO_IMPLICIT_GEMM, &cpu_ws));
    std::vector<char> cws(std::max<size_t>(cpu_ws, 1));
    CHECK_OK(dsdkMaskedConvolutionForward(cpu, &one, d.x, hx.data(), d.w, hw.data(), hmask.data(),
                                          d.conv, DSDK_CONV_ALGO_IMPLICIT_GEMM, cws.data(), cpu_ws,
                                          &zero, d.y, want.data()));
  }
  for (size_t i = 0; i < got.size(); ++i) CHECK_NEAR(got[i], want[i], 1e-5 * (1 + std::fabs(want[i])));

  // The sparse GEMM: host memory, and a matrix packed on the CPU.
  dsdkSparseMatrix_t m_cpu = nullptr, m_gpu = nullptr;
  CHECK_STATUS(dsdkCreateSparseMatrix(gpu, &m_gpu, DSDK_DATA_FLOAT, 4, 9, hw.data(), nullptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(gpu, "W is host memory");
  CHECK_STATUS(dsdkCreateSparseMatrix(gpu, &m_gpu, DSDK_DATA_FLOAT, 4, 9, w.ptr, hmask.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(gpu, "mask is host memory");
  CHECK(m_gpu == nullptr);
  CHECK_OK(dsdkCreateSparseMatrix(gpu, &m_gpu, DSDK_DATA_HALF, 4, 9, w.ptr, nullptr));
  CHECK_OK(dsdkCreateSparseMatrix(cpu, &m_cpu, DSDK_DATA_FLOAT, 4, 9, hw.data(), nullptr));
  const uint16_t hx16[9] = {};
  CHECK_STATUS(dsdkSparseGemm(gpu, &one, 1, hx16, 9, m_gpu, nullptr, 0, &zero, y.ptr, 4),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(gpu, "X is host memory");
  CHECK_STATUS(dsdkSparseGemm(gpu, &one, 1, x.ptr, 9, m_cpu, nullptr, 0, &zero, y.ptr, 4),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(gpu, "matrix was packed on a CPU handle");
  CHECK_STATUS(dsdkSparseGemm(cpu, &one, 1, hx.data(), 9, m_gpu, nullptr, 0, &zero, hy.data(), 4),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(cpu, "matrix was packed on a CUDA handle");
  CHECK_OK(dsdkDestroySparseMatrix(m_gpu));
  CHECK_OK(dsdkDestroySparseMatrix(m_cpu));
  dsdkDestroy(cpu);
  dsdkDestroy(gpu);
}

}  // namespace

int main() {
  conv_grid();
  gemm_grid();
  api_paths();
  return check::report("test_sparse_cuda");
}
#endif
