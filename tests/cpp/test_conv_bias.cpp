// The bias forward entries (dsdkMaskedConvolutionBiasForward,
// dsdkSparseConvolutionBiasForward) on the CPU: for every forward algorithm, both data
// types and every ISA this CPU has, a call with a bias against the same call without
// one plus a reference add of bias[k], over NCHW, channels_last and strided outputs
// (every other column of a wider buffer, whose gaps must stay untouched), beta 0 and
// not, shapes that reach both orientations of the implicit GEMM's micro-tiles; a NULL
// bias gives the entries without bias bit for bit; then the new entries' bad arguments.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "check.h"
#include "cpu/gemm_kernels.h"
#include "dsdkern/dsdkern.h"

namespace {

enum Layout { kNchw, kNhwc, kStridedW };
const char* const kLayoutNames[] = {"NCHW", "NHWC", "strided-w"};

struct Case {
  int n, c, h, w, k, r, s, groups, pad, stride;
  Layout layout;
  int sparsity;  // percent of the mask that is zero
  double alpha, beta;
  int threads;
  int p() const { return (h + 2 * pad - r) / stride + 1; }
  int q() const { return (w + 2 * pad - s) / stride + 1; }
};

struct Strides {
  int64_t n, c, h, w;
};

// y's strides for the layout, and the elements its buffer spans.
Strides y_strides(const Case& cs, size_t* span) {
  const int64_t P = cs.p(), Q = cs.q(), K = cs.k;
  Strides s{};
  switch (cs.layout) {
    case kNchw: s = {K * P * Q, P * Q, Q, 1}; break;
    case kNhwc: s = {P * Q * K, 1, Q * K, K}; break;
    case kStridedW: s = {K * P * 2 * Q, P * 2 * Q, 2 * Q, 2}; break;
  }
  *span = size_t(cs.n) * s.n;
  return s;
}

struct Descs {
  dsdkTensorDescriptor_t x, y;
  dsdkFilterDescriptor_t w;
  dsdkConvolutionDescriptor_t conv;
  Descs(const Case& cs, const Strides& ys, dsdkDataType_t t) {
    dsdkCreateTensorDescriptor(&x);
    dsdkCreateTensorDescriptor(&y);
    dsdkCreateFilterDescriptor(&w);
    dsdkCreateConvolutionDescriptor(&conv);
    dsdkSetTensor4dDescriptor(x, t, cs.n, cs.c, cs.h, cs.w);
    dsdkSetTensor4dDescriptorEx(y, t, cs.n, cs.k, cs.p(), cs.q(), ys.n, ys.c, ys.h, ys.w);
    dsdkSetFilter4dDescriptor(w, t, cs.k, cs.c / cs.groups, cs.r, cs.s);
    dsdkSetConvolution2dDescriptor(conv, cs.pad, cs.pad, cs.stride, cs.stride, 1, 1, cs.groups);
  }
  ~Descs() {
    dsdkDestroyTensorDescriptor(x);
    dsdkDestroyTensorDescriptor(y);
    dsdkDestroyFilterDescriptor(w);
    dsdkDestroyConvolutionDescriptor(conv);
  }
};

template <typename T>
struct Data {
  std::vector<T> x, w, bias, y0;
  std::vector<uint8_t> mask;
};

template <typename T>
Data<T> make_data(const Case& cs, size_t y_span, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::uniform_int_distribution<int> pct(0, 99);
  Data<T> d;
  d.x.resize(size_t(cs.n) * cs.c * cs.h * cs.w);
  for (auto& v : d.x) v = T(u(rng));
  d.w.resize(size_t(cs.k) * (cs.c / cs.groups) * cs.r * cs.s);
  d.mask.resize(d.w.size());
  for (size_t i = 0; i < d.w.size(); ++i) {
    d.w[i] = T(u(rng));
    d.mask[i] = pct(rng) >= cs.sparsity;
  }
  d.bias.resize(cs.k);
  for (auto& v : d.bias) v = T(4 * u(rng));
  d.y0.resize(y_span);
  for (auto& v : d.y0) v = T(u(rng));
  return d;
}

// One forward call: the masked entries (f null) or the packed ones, with or without the
// bias entry (bias_entry false: the entry without bias; bias may then be anything).
template <typename T>
dsdkStatus_t forward(dsdkHandle_t h, const Case& cs, const Descs& d, const Data<T>& dt,
                     dsdkConvAlgo_t algo, dsdkSparseFilter_t f, bool bias_entry, const T* bias,
                     std::vector<T>* y) {
  const T alpha = T(cs.alpha), beta = T(cs.beta);
  size_t bytes = 0;
  dsdkStatus_t st =
      f ? dsdkGetSparseConvolutionForwardWorkspaceSize(h, d.x, f, d.conv, d.y, algo, &bytes)
        : dsdkGetConvolutionWorkspaceSize(h, DSDK_CONV_FORWARD, d.x, d.w, d.conv, d.y, algo,
                                          &bytes);
  if (st != DSDK_STATUS_SUCCESS) return st;
  std::vector<char> ws(bytes);
  if (f && bias_entry)
    return dsdkSparseConvolutionBiasForward(h, &alpha, d.x, dt.x.data(), f, d.conv, algo,
                                            ws.data(), bytes, &beta, bias, d.y, y->data());
  if (f)
    return dsdkSparseConvolutionForward(h, &alpha, d.x, dt.x.data(), f, d.conv, algo, ws.data(),
                                        bytes, &beta, d.y, y->data());
  if (bias_entry)
    return dsdkMaskedConvolutionBiasForward(h, &alpha, d.x, dt.x.data(), d.w, dt.w.data(),
                                            dt.mask.data(), d.conv, algo, ws.data(), bytes,
                                            &beta, bias, d.y, y->data());
  return dsdkMaskedConvolutionForward(h, &alpha, d.x, dt.x.data(), d.w, dt.w.data(),
                                      dt.mask.data(), d.conv, algo, ws.data(), bytes, &beta,
                                      d.y, y->data());
}

// got == plain + bias[k] at every output element (to rounding), y0 in the gaps of y.
template <typename T>
bool biased(const Case& cs, const Strides& ys, const Data<T>& dt, const std::vector<T>& plain,
            const std::vector<T>& got) {
  std::vector<uint8_t> covered(got.size(), 0);
  const double eps = std::numeric_limits<T>::epsilon();
  for (int in = 0; in < cs.n; ++in)
    for (int ik = 0; ik < cs.k; ++ik)
      for (int ip = 0; ip < cs.p(); ++ip)
        for (int iq = 0; iq < cs.q(); ++iq) {
          const int64_t at = in * ys.n + ik * ys.c + ip * ys.h + iq * ys.w;
          covered[at] = 1;
          const double want = double(plain[at]) + double(dt.bias[ik]);
          // The two calls round differently only where the bias enters (with the first
          // block of a split reduction, whose partial sums are of the inputs' size).
          const double tol = 32 * eps * (std::fabs(double(plain[at])) + std::fabs(dt.bias[ik]) +
                                         std::fabs(cs.beta * dt.y0[at]) + 1);
          if (!(std::fabs(double(got[at]) - want) <= tol)) {
            std::printf("  y[%d,%d,%d,%d] = %.9g, want %.9g + %.9g\n", in, ik, ip, iq,
                        double(got[at]), double(plain[at]), double(dt.bias[ik]));
            return false;
          }
        }
  for (size_t i = 0; i < got.size(); ++i)
    if (!covered[i] && std::memcmp(&got[i], &dt.y0[i], sizeof(T)) != 0) {
      std::printf("  a gap of y (element %zu) was written\n", i);
      return false;
    }
  return true;
}

void print_case(const Case& cs, dsdkConvAlgo_t algo, bool packed, const char* type,
                const char* what) {
  std::printf("FAILED %s %s %s (%s): n%d c%d %dx%d k%d %dx%d g%d pad%d stride%d %s sp%d "
              "alpha %g beta %g threads %d\n",
              dsdkGetConvolutionAlgorithmName(algo), packed ? "packed" : "masked", type, what,
              cs.n, cs.c, cs.h, cs.w, cs.k, cs.r, cs.s, cs.groups, cs.pad, cs.stride,
              kLayoutNames[cs.layout], cs.sparsity, cs.alpha, cs.beta, cs.threads);
  ++check::failures();
}

template <typename T>
void run_case(dsdkHandle_t h, const Case& cs, dsdkDataType_t t, std::mt19937& rng) {
  size_t span = 0;
  const Strides ys = y_strides(cs, &span);
  const Descs d(cs, ys, t);
  const Data<T> dt = make_data<T>(cs, span, rng);
  const char* type = t == DSDK_DATA_FLOAT ? "float" : "double";
  CHECK_OK(dsdkSetNumThreads(h, cs.threads));
  dsdkSparseFilter_t f = nullptr;
  CHECK_OK(dsdkCreateSparseFilter(h, &f, d.w, dt.w.data(), dt.mask.data(), d.conv));
  for (int id = 0; id < DSDK_CONV_ALGO_COUNT; ++id) {
    const auto algo = dsdkConvAlgo_t(id);
    for (bool packed : {false, true}) {
      if (packed && algo == DSDK_CONV_ALGO_IMPLICIT_GEMM) continue;  // needs the dense filter
      dsdkSparseFilter_t ff = packed ? f : nullptr;
      std::vector<T> plain = dt.y0, with = dt.y0, null_bias = dt.y0;
      CHECK_OK(forward<T>(h, cs, d, dt, algo, ff, false, nullptr, &plain));
      CHECK_OK(forward<T>(h, cs, d, dt, algo, ff, true, dt.bias.data(), &with));
      CHECK_OK(forward<T>(h, cs, d, dt, algo, ff, true, nullptr, &null_bias));
      if (!biased(cs, ys, dt, plain, with)) print_case(cs, algo, packed, type, "bias");
      if (std::memcmp(plain.data(), null_bias.data(), plain.size() * sizeof(T)) != 0)
        print_case(cs, algo, packed, type, "NULL bias differs from the entry without bias");
    }
  }
  CHECK_OK(dsdkDestroySparseFilter(f));
}

void run_grid(dsdkHandle_t h, std::mt19937& rng) {
  auto pick = [&](std::initializer_list<int> v) {
    return *(v.begin() + std::uniform_int_distribution<int>(0, int(v.size()) - 1)(rng));
  };
  for (int i = 0; i < 24; ++i) {
    Case cs{};
    cs.r = cs.s = pick({1, 3});
    cs.groups = pick({1, 1, 2});
    cs.c = cs.groups * pick({1, 3, 8});
    cs.k = cs.groups * pick({1, 5, 16, 40});
    cs.n = pick({1, 1, 2});
    cs.h = pick({3, 7, 12});
    cs.w = pick({3, 7, 13});
    cs.pad = pick({0, 1});
    cs.stride = pick({1, 1, 2});
    cs.layout = Layout(pick({kNchw, kNhwc, kStridedW}));
    cs.sparsity = pick({0, 50, 90});
    cs.alpha = pick({0, 1}) ? -0.5 : 1.0;
    cs.beta = i % 2 ? 0.75 : 0.0;
    cs.threads = pick({1, 2});
    if (cs.p() < 1 || cs.q() < 1) continue;
    if (i % 2) run_case<float>(h, cs, DSDK_DATA_FLOAT, rng);
    else run_case<double>(h, cs, DSDK_DATA_DOUBLE, rng);
  }
  // Many pixels: the implicit GEMM's micro-tiles take output channels as rows; and one
  // image of 3x3 outputs with many channels, which it runs transposed (channels as the
  // vector columns), NCHW and channels_last.
  for (Layout l : {kNchw, kNhwc, kStridedW}) {
    run_case<float>(h, Case{1, 16, 20, 20, 24, 3, 3, 1, 1, 1, l, 50, 1.0, 0.75, 2},
                    DSDK_DATA_FLOAT, rng);
    run_case<float>(h, Case{1, 32, 3, 3, 72, 3, 3, 1, 1, 1, l, 50, 1.0, 0.0, 1},
                    DSDK_DATA_FLOAT, rng);
    run_case<double>(h, Case{1, 32, 3, 3, 40, 3, 3, 1, 1, 1, l, 50, -0.5, 0.75, 2},
                     DSDK_DATA_DOUBLE, rng);
  }
}

// The bad arguments of the bias entries return a status and name the argument.
void test_bad_params(dsdkHandle_t h, std::mt19937& rng) {
  const Case cs{1, 4, 6, 6, 4, 3, 3, 1, 1, 1, kNchw, 50, 1.0, 0.0, 1};
  size_t span = 0;
  const Strides ys = y_strides(cs, &span);
  const Descs d(cs, ys, DSDK_DATA_FLOAT);
  const Data<float> dt = make_data<float>(cs, span, rng);
  std::vector<float> y = dt.y0;
  const float one = 1, zero = 0;
  const dsdkConvAlgo_t ig = DSDK_CONV_ALGO_IMPLICIT_GEMM, ds = DSDK_CONV_ALGO_DIRECT_SPARSE;
  size_t bytes = 0;
  CHECK_OK(dsdkGetConvolutionWorkspaceSize(h, DSDK_CONV_FORWARD, d.x, d.w, d.conv, d.y, ds,
                                           &bytes));
  std::vector<char> ws(bytes);
  auto masked = [&](dsdkHandle_t hh, const void* a, const void* xp, dsdkTensorDescriptor_t yd,
                    void* yp, dsdkConvAlgo_t algo, size_t wsb) {
    return dsdkMaskedConvolutionBiasForward(hh, a, d.x, xp, d.w, dt.w.data(), dt.mask.data(),
                                            d.conv, algo, ws.data(), wsb, &zero, dt.bias.data(),
                                            yd, yp);
  };
  CHECK_STATUS(masked(nullptr, &one, dt.x.data(), d.y, y.data(), ds, bytes),
               DSDK_STATUS_NOT_INITIALIZED);
  CHECK_STATUS(masked(h, nullptr, dt.x.data(), d.y, y.data(), ds, bytes), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "dsdkMaskedConvolutionBiasForward");
  CHECK_MESSAGE(h, "alpha");
  CHECK_STATUS(masked(h, &one, dt.x.data(), nullptr, y.data(), ds, bytes), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "yDesc");
  CHECK_STATUS(masked(h, &one, nullptr, d.y, y.data(), ds, bytes), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "x is NULL");
  CHECK_STATUS(masked(h, &one, dt.x.data(), d.y, nullptr, ds, bytes), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "y is NULL");
  CHECK_STATUS(masked(h, &one, dt.x.data(), d.y, y.data(), ds, bytes - 1), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "workspaceSizeInBytes");
  CHECK_STATUS(masked(h, &one, dt.x.data(), d.y, y.data(), dsdkConvAlgo_t(99), bytes),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "algo");

  dsdkSparseFilter_t f = nullptr;
  CHECK_OK(dsdkCreateSparseFilter(h, &f, d.w, dt.w.data(), dt.mask.data(), d.conv));
  auto packed = [&](dsdkSparseFilter_t ff, const void* xp, void* yp, dsdkConvAlgo_t algo) {
    return dsdkSparseConvolutionBiasForward(h, &one, d.x, xp, ff, d.conv, algo, ws.data(),
                                            ws.size(), &zero, dt.bias.data(), d.y, yp);
  };
  CHECK_OK(packed(f, dt.x.data(), y.data(), ds));
  CHECK_STATUS(packed(nullptr, dt.x.data(), y.data(), ds), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "dsdkSparseConvolutionBiasForward");
  CHECK_MESSAGE(h, "filter");
  CHECK_STATUS(packed(f, nullptr, y.data(), ds), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "x is NULL");
  CHECK_STATUS(packed(f, dt.x.data(), nullptr, ds), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "y is NULL");
  CHECK_STATUS(packed(f, dt.x.data(), y.data(), ig), DSDK_STATUS_NOT_SUPPORTED);
  CHECK_MESSAGE(h, "packed");
  CHECK_STATUS(dsdkSparseConvolutionBiasForward(nullptr, &one, d.x, dt.x.data(), f, d.conv, ds,
                                                ws.data(), ws.size(), &zero, dt.bias.data(), d.y,
                                                y.data()),
               DSDK_STATUS_NOT_INITIALIZED);
  CHECK_OK(dsdkDestroySparseFilter(f));
}

}  // namespace

int main() {
  using dsdk::cpu::Isa;
  dsdkHandle_t h;
  CHECK_OK(dsdkCreate(&h, DSDK_BACKEND_CPU));
  std::mt19937 rng(909);
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kGeneric}) {
    if (dsdk::cpu::force_isa(isa) != isa) continue;
    std::printf("isa level %d\n", int(isa));
    run_grid(h, rng);
  }
  dsdk::cpu::force_isa(Isa::kAvx512);
  test_bad_params(h, rng);
  CHECK_OK(dsdkDestroy(h));
  return check::report("test_conv_bias");
}
