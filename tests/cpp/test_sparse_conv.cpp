// The sparse convolutions (forward: DSDK_CONV_ALGO_DIRECT_SPARSE and
// DSDK_CONV_ALGO_SPARSE_TILE) against a naive double-precision convolution written
// here, through the public C API, both ways in: the masked call (packs into the
// workspace) and a packed filter (dsdkCreateSparseFilter +
// dsdkSparseConvolutionForward). A seeded random grid over strides, padding,
// dilation, groups (depthwise too), 1x1 / 3x3 / 5x5 filters, batch 0 / 1 / odd, NCHW
// and channels_last, sparsities 0-100 % and masks with whole empty output channels,
// alpha/beta, float and double, thread counts and every ISA this CPU has, for each
// algorithm; then Find, and the argument checks of the new calls.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "check.h"
#include "cpu/gemm_kernels.h"
#include "dsdkern/dsdkern.h"

namespace {

struct Case {
  int n, c, h, w, k, r, s, groups, pad_h, pad_w, stride_h, stride_w, dil_h, dil_w;
  bool channels_last;
  int sparsity;         // percent of the mask that is zero
  bool empty_channels;  // every third output channel fully pruned
  double alpha, beta;
  int threads;
  // Floor, not truncation: a filter wider than the padded input leaves no output.
  static int extent(int span, int stride) { return span < 0 ? 0 : span / stride + 1; }
  int p() const { return extent(h + 2 * pad_h - dil_h * (r - 1) - 1, stride_h); }
  int q() const { return extent(w + 2 * pad_w - dil_w * (s - 1) - 1, stride_w); }
};

const dsdkConvAlgo_t kSparseAlgos[] = {DSDK_CONV_ALGO_DIRECT_SPARSE, DSDK_CONV_ALGO_SPARSE_TILE};

struct Strides {
  int64_t n, c, h, w;
};

Strides strides_of(int c, int h, int w, bool cl) {
  if (cl) return {int64_t(h) * w * c, 1, int64_t(w) * c, c};
  return {int64_t(c) * h * w, int64_t(h) * w, w, 1};
}

struct Problem {
  Case cs;
  std::vector<double> x, w, y0, ref, mag;  // x, y in their layout; ref/mag NCHW
  std::vector<uint8_t> mask;
  Strides xs, ys;
};

// A random problem of case cs; with same_filter, its weights and mask instead of new ones
// (a filter of the same k, c / groups, r and s).
Problem make_problem(const Case& cs, std::mt19937& rng, const Problem* same_filter = nullptr) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::uniform_int_distribution<int> pct(0, 99);
  Problem pr{cs, {}, {}, {}, {}, {}, {}, {}, {}};
  const int P = cs.p(), Q = cs.q(), cg = cs.c / cs.groups, kg = cs.k / cs.groups;
  pr.xs = strides_of(cs.c, cs.h, cs.w, cs.channels_last);
  pr.ys = strides_of(cs.k, P, Q, cs.channels_last);
  pr.x.resize(size_t(cs.n) * cs.c * cs.h * cs.w);
  for (auto& v : pr.x) v = u(rng);
  const size_t crs = size_t(cg) * cs.r * cs.s;
  pr.w.resize(cs.k * crs);
  pr.mask.resize(pr.w.size());
  for (size_t i = 0; i < pr.w.size(); ++i) {
    pr.w[i] = u(rng);
    pr.mask[i] = pct(rng) >= cs.sparsity && !(cs.empty_channels && (i / crs) % 3 == 1);
  }
  if (same_filter) {
    pr.w = same_filter->w;
    pr.mask = same_filter->mask;
  }
  pr.y0.resize(size_t(cs.n) * cs.k * P * Q);
  for (auto& v : pr.y0) v = u(rng);
  pr.ref.assign(pr.y0.size(), 0.0);
  pr.mag.assign(pr.y0.size(), 0.0);
  for (int in = 0; in < cs.n; ++in)
    for (int ik = 0; ik < cs.k; ++ik)
      for (int ip = 0; ip < P; ++ip)
        for (int iq = 0; iq < Q; ++iq) {
          double acc = 0, mag = 0;
          const int g = ik / kg;
          for (int ic = 0; ic < cg; ++ic)
            for (int ir = 0; ir < cs.r; ++ir)
              for (int is = 0; is < cs.s; ++is) {
                const int hh = ip * cs.stride_h - cs.pad_h + ir * cs.dil_h;
                const int ww = iq * cs.stride_w - cs.pad_w + is * cs.dil_w;
                if (hh < 0 || hh >= cs.h || ww < 0 || ww >= cs.w) continue;
                const size_t wi = ik * crs + (size_t(ic) * cs.r + ir) * cs.s + is;
                if (!pr.mask[wi]) continue;
                const double t = pr.w[wi] * pr.x[in * pr.xs.n + (g * cg + ic) * pr.xs.c +
                                                 hh * pr.xs.h + ww * pr.xs.w];
                acc += t;
                mag += std::fabs(t);
              }
          const size_t o = ((size_t(in) * cs.k + ik) * P + ip) * Q + iq;
          pr.ref[o] = acc;
          pr.mag[o] = mag;
        }
  return pr;
}

struct Descs {
  dsdkTensorDescriptor_t x, y;
  dsdkFilterDescriptor_t w;
  dsdkConvolutionDescriptor_t conv;
  Descs(const Problem& pr, dsdkDataType_t t) {
    const Case& cs = pr.cs;
    dsdkCreateTensorDescriptor(&x);
    dsdkCreateTensorDescriptor(&y);
    dsdkCreateFilterDescriptor(&w);
    dsdkCreateConvolutionDescriptor(&conv);
    dsdkSetTensor4dDescriptorEx(x, t, cs.n, cs.c, cs.h, cs.w, pr.xs.n, pr.xs.c, pr.xs.h, pr.xs.w);
    dsdkSetTensor4dDescriptorEx(y, t, cs.n, cs.k, cs.p(), cs.q(), pr.ys.n, pr.ys.c, pr.ys.h,
                                pr.ys.w);
    dsdkSetFilter4dDescriptor(w, t, cs.k, cs.c / cs.groups, cs.r, cs.s);
    dsdkSetConvolution2dDescriptor(conv, cs.pad_h, cs.pad_w, cs.stride_h, cs.stride_w, cs.dil_h,
                                   cs.dil_w, cs.groups);
  }
  ~Descs() {
    dsdkDestroyTensorDescriptor(x);
    dsdkDestroyTensorDescriptor(y);
    dsdkDestroyFilterDescriptor(w);
    dsdkDestroyConvolutionDescriptor(conv);
  }
};

// got (in y's layout) against alpha * ref + beta * y0; true when every element is close.
template <typename T>
bool matches(const Problem& pr, const std::vector<T>& got, double alpha, double beta) {
  const Case& cs = pr.cs;
  const int P = cs.p(), Q = cs.q();
  const double eps = std::numeric_limits<T>::epsilon();
  for (int in = 0; in < cs.n; ++in)
    for (int ik = 0; ik < cs.k; ++ik)
      for (int ip = 0; ip < P; ++ip)
        for (int iq = 0; iq < Q; ++iq) {
          const size_t o = ((size_t(in) * cs.k + ik) * P + ip) * Q + iq;
          const int64_t at = in * pr.ys.n + ik * pr.ys.c + ip * pr.ys.h + iq * pr.ys.w;
          const double y0 = T(pr.y0[at]);
          const double want = alpha * pr.ref[o] + (beta == 0 ? 0.0 : beta * y0);
          const double tol = 64 * eps * (std::fabs(alpha) * pr.mag[o] + std::fabs(beta * y0)) + 1e-30;
          if (!(std::fabs(double(got[at]) - want) <= tol)) {
            std::printf("  y[%d,%d,%d,%d] = %.9g, want %.9g\n", in, ik, ip, iq, double(got[at]),
                        want);
            return false;
          }
        }
  return true;
}

template <typename T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

// The starting output: y0, or NaN where beta == 0 must not read it.
template <typename T>
std::vector<T> start(const Problem& pr, double beta) {
  std::vector<T> y = cast<T>(pr.y0);
  if (beta == 0)
    for (auto& v : y) v = std::numeric_limits<T>::quiet_NaN();
  return y;
}

void print_case(const Case& cs, const char* algo, const char* how, const char* type) {
  std::printf("FAILED %s %s %s: n%d c%d %dx%d k%d %dx%d g%d pad%d,%d stride%d,%d dil%d,%d %s "
              "sp%d%s alpha %g beta %g threads %d\n",
              algo, how, type, cs.n, cs.c, cs.h, cs.w, cs.k, cs.r, cs.s, cs.groups, cs.pad_h,
              cs.pad_w, cs.stride_h, cs.stride_w, cs.dil_h, cs.dil_w, cs.channels_last ? "NHWC" : "NCHW",
              cs.sparsity, cs.empty_channels ? " empty-channels" : "", cs.alpha, cs.beta,
              cs.threads);
}

template <typename T>
void run_case(dsdkHandle_t h, const Problem& pr, dsdkDataType_t t, dsdkConvAlgo_t algo) {
  const Case& cs = pr.cs;
  Descs d(pr, t);
  const std::vector<T> x = cast<T>(pr.x), w = cast<T>(pr.w);
  const T alpha = T(cs.alpha), beta = T(cs.beta);
  CHECK_OK(dsdkSetNumThreads(h, cs.threads));
  const char* type = t == DSDK_DATA_FLOAT ? "float" : "double";

  size_t bytes = 0;
  CHECK_OK(dsdkGetConvolutionWorkspaceSize(h, DSDK_CONV_FORWARD, d.x, d.w, d.conv, d.y,
                                           algo, &bytes));
  std::vector<char> ws(bytes);
  std::vector<T> y = start<T>(pr, cs.beta);
  CHECK_OK(dsdkMaskedConvolutionForward(h, &alpha, d.x, x.data(), d.w, w.data(), pr.mask.data(),
                                        d.conv, algo, ws.data(), bytes,
                                        &beta, d.y, y.data()));
  if (!matches(pr, y, cs.alpha, cs.beta)) {
    print_case(cs, dsdkGetConvolutionAlgorithmName(algo), "masked", type);
    ++check::failures();
  }

  dsdkSparseFilter_t f = nullptr;
  CHECK_OK(dsdkCreateSparseFilter(h, &f, d.w, w.data(), pr.mask.data(), d.conv));
  int64_t nnz = -1;
  size_t fbytes = 0;
  CHECK_OK(dsdkGetSparseFilterInfo(f, &nnz, &fbytes));
  int64_t kept = 0;
  for (uint8_t m : pr.mask) kept += m != 0;
  CHECK(nnz == kept);
  CHECK(fbytes >= size_t(nnz) * (sizeof(T) + 2));
  CHECK_OK(dsdkGetSparseConvolutionForwardWorkspaceSize(h, d.x, f, d.conv, d.y,
                                                        algo, &bytes));
  std::vector<char> ws2(bytes);
  y = start<T>(pr, cs.beta);
  CHECK_OK(dsdkSparseConvolutionForward(h, &alpha, d.x, x.data(), f, d.conv,
                                        algo, ws2.data(), bytes, &beta,
                                        d.y, y.data()));
  if (!matches(pr, y, cs.alpha, cs.beta)) {
    print_case(cs, dsdkGetConvolutionAlgorithmName(algo), "packed", type);
    ++check::failures();
  }
  CHECK_OK(dsdkDestroySparseFilter(f));
}

template <typename T>
void run_case(dsdkHandle_t h, const Problem& pr, dsdkDataType_t t) {
  for (dsdkConvAlgo_t algo : kSparseAlgos) run_case<T>(h, pr, t, algo);
}

Case random_case(std::mt19937& rng) {
  auto pick = [&](std::initializer_list<int> v) {
    return *(v.begin() + std::uniform_int_distribution<int>(0, int(v.size()) - 1)(rng));
  };
  Case cs{};
  cs.r = cs.s = pick({1, 3, 3, 5});
  if (pick({0, 0, 1})) cs.s = pick({1, 3});  // non-square filters too
  cs.groups = pick({1, 1, 2, 0});             // 0: depthwise
  const int cg = pick({1, 2, 3, 5});
  const int kg = pick({1, 2, 4});
  cs.c = cs.groups == 0 ? pick({3, 8}) : cg * cs.groups;
  if (cs.groups == 0) cs.groups = cs.c;
  cs.k = cs.groups * (cs.groups == cs.c ? pick({1, 2}) : kg);
  cs.n = pick({0, 1, 1, 3});
  cs.h = pick({5, 7, 12, 17});
  cs.w = pick({4, 7, 13, 20});
  cs.pad_h = pick({0, 1, 2});
  cs.pad_w = pick({0, 1, 2});
  cs.stride_h = pick({1, 1, 2});
  cs.stride_w = pick({1, 1, 2});
  cs.dil_h = pick({1, 1, 2});
  cs.dil_w = pick({1, 1, 2});
  cs.channels_last = pick({0, 1});
  cs.sparsity = pick({0, 50, 90, 99, 100});
  cs.empty_channels = pick({0, 0, 1});
  cs.alpha = pick({1, 1, 2}) == 2 ? -0.5 : 1.0;
  cs.beta = pick({0, 0, 1}) ? 0.75 : 0.0;
  cs.threads = pick({1, 2, 3});
  return cs;
}

void run_grid(dsdkHandle_t h, std::mt19937& rng, int cases) {
  for (int i = 0; i < cases; ++i) {
    Case cs = random_case(rng);
    if (cs.p() < 1 || cs.q() < 1) continue;
    const Problem pr = make_problem(cs, rng);
    if (i % 2) run_case<float>(h, pr, DSDK_DATA_FLOAT);
    else run_case<double>(h, pr, DSDK_DATA_DOUBLE);
  }
  // A wider layer: several register tiles per output row, two images, 90 % sparse.
  const Case big{2, 64, 23, 30, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, 90, true, 1.0, 0.0, 2};
  run_case<float>(h, make_problem(big, rng), DSDK_DATA_FLOAT);
  // Many output channels over a one-lane output: more channels than a work item takes.
  const Case narrow{1, 2, 1, 1, 300, 1, 1, 1, 0, 0, 1, 1, 1, 1, false, 50, false, 1.0, 0.0, 1};
  run_case<float>(h, make_problem(narrow, rng), DSDK_DATA_FLOAT);
  // Work split among threads (cpu/sparse_padded_input.h: split_work): one image in
  // bands of output rows; strided and dilated bands, channels_last, with parts of the
  // output channels too; an odd batch of small images in output-channel parts.
  const Case bands{1, 8, 64, 40, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, 50, true, 1.0, 0.0, 2};
  run_case<float>(h, make_problem(bands, rng), DSDK_DATA_FLOAT);
  const Case strided{1, 4, 90, 50, 12, 5, 5, 1, 2, 2, 2, 2, 2, 2, true, 50, false, -0.5, 0.75, 3};
  run_case<double>(h, make_problem(strided, rng), DSDK_DATA_DOUBLE);
  const Case parts{3, 64, 7, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, 90, true, 1.0, 0.0, 2};
  run_case<float>(h, make_problem(parts, rng), DSDK_DATA_FLOAT);
  // Output-channel parts of whole images on several threads: one image on 2 threads,
  // two grouped images on 3.
  const Case parts1{1, 64, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, 90, true, 1.0, 0.0, 2};
  run_case<float>(h, make_problem(parts1, rng), DSDK_DATA_FLOAT);
  const Case parts2{2, 32, 12, 12, 48, 3, 3, 2, 1, 1, 1, 1, 1, 1, true, 50, false, -0.5, 0.75, 3};
  run_case<double>(h, make_problem(parts2, rng), DSDK_DATA_DOUBLE);
  // More taps than 16-bit column indices address (c·r·s = 73728): the 32-bit path.
  const Case deep{1, 8192, 3, 4, 3, 3, 3, 1, 1, 0, 1, 1, 1, 1, false, 50, false, 1.0, 0.5, 2};
  run_case<double>(h, make_problem(deep, rng), DSDK_DATA_DOUBLE);
}

// The packed filter's call of pr with algo on h (float), true when it matches.
bool packed_matches(dsdkHandle_t h, dsdkSparseFilter_t f, const Problem& pr, dsdkConvAlgo_t algo) {
  const Case& cs = pr.cs;
  Descs d(pr, DSDK_DATA_FLOAT);
  const std::vector<float> x = cast<float>(pr.x);
  const float alpha = float(cs.alpha), beta = float(cs.beta);
  if (dsdkSetNumThreads(h, cs.threads) != DSDK_STATUS_SUCCESS) return false;
  size_t bytes = 0;
  if (dsdkGetSparseConvolutionForwardWorkspaceSize(h, d.x, f, d.conv, d.y, algo, &bytes) !=
      DSDK_STATUS_SUCCESS)
    return false;
  std::vector<char> ws(bytes);
  std::vector<float> y = start<float>(pr, cs.beta);
  return dsdkSparseConvolutionForward(h, &alpha, d.x, x.data(), f, d.conv, algo, ws.data(), bytes,
                                      &beta, d.y, y.data()) == DSDK_STATUS_SUCCESS &&
         matches(pr, y, cs.alpha, cs.beta);
}

// One packed filter run on inputs of other forms in turn (sizes, batches, thread counts
// and so bands of rows, strides, dilation): the entry offsets it keeps for the direct
// algorithm (core/entry_offsets.h) follow each form. Then two threads share it, each on
// its own form and handle.
void test_filter_across_input_forms(dsdkHandle_t h, std::mt19937& rng) {
  //                 n  c  h   w   k  r  s  g pad  stride dil  NHWC  sp empty alpha beta thr
  const Case first{1, 32, 40, 40, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, 70, false, 1.0, 0.0, 2};
  const Problem a = make_problem(first, rng);
  std::vector<Problem> forms;
  for (Case cs : {Case{1, 32, 40, 40, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, 70, false, 1.0, 0.0, 1},
                  Case{1, 32, 23, 17, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, 70, false, 1.0, 0.0, 1},
                  Case{3, 32, 40, 40, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, 70, false, 1.0, 0.5, 2},
                  Case{1, 32, 40, 40, 48, 3, 3, 1, 1, 1, 2, 2, 1, 1, false, 70, false, 1.0, 0.0, 2},
                  Case{1, 32, 40, 40, 48, 3, 3, 1, 2, 2, 1, 1, 2, 2, false, 70, false, -0.5, 0.0, 2}})
    forms.push_back(make_problem(cs, rng, &a));
  forms.push_back(a);
  Descs d(a, DSDK_DATA_FLOAT);
  const std::vector<float> w = cast<float>(a.w);
  dsdkSparseFilter_t f = nullptr;
  CHECK_OK(dsdkCreateSparseFilter(h, &f, d.w, w.data(), a.mask.data(), d.conv));
  for (dsdkConvAlgo_t algo : kSparseAlgos) {
    CHECK(packed_matches(h, f, a, algo));
    for (const Problem& pr : forms)
      if (!packed_matches(h, f, pr, algo)) {
        print_case(pr.cs, dsdkGetConvolutionAlgorithmName(algo), "packed, form after form", "float");
        ++check::failures();
      }
  }
  bool ok[2] = {true, true};
  std::thread t[2];
  for (int i = 0; i < 2; ++i)
    t[i] = std::thread([&, i] {
      dsdkHandle_t own = nullptr;
      if (dsdkCreate(&own, DSDK_BACKEND_CPU) != DSDK_STATUS_SUCCESS) {
        ok[i] = false;
        return;
      }
      for (int r = 0; r < 20; ++r)
        ok[i] = packed_matches(own, f, forms[i], DSDK_CONV_ALGO_DIRECT_SPARSE) && ok[i];
      dsdkDestroy(own);
    });
  for (std::thread& th : t) th.join();
  CHECK(ok[0] && ok[1]);
  CHECK_OK(dsdkDestroySparseFilter(f));
}

// Find runs every algorithm forward; whichever it ranks first (and each other one it
// ranks) computes the right y.
void test_find(dsdkHandle_t h, std::mt19937& rng) {
  const Case cs{1, 16, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, false, 90, false, 1.0, 0.0, 2};
  const Problem pr = make_problem(cs, rng);
  Descs d(pr, DSDK_DATA_FLOAT);
  std::vector<float> x = cast<float>(pr.x), w = cast<float>(pr.w), y(pr.y0.size());
  size_t most = 0;
  for (int id = 0; id < DSDK_CONV_ALGO_COUNT; ++id) {
    size_t b = 0;
    CHECK_OK(dsdkGetConvolutionWorkspaceSize(h, DSDK_CONV_FORWARD, d.x, d.w, d.conv, d.y,
                                             dsdkConvAlgo_t(id), &b));
    most = std::max(most, b);
  }
  std::vector<char> ws(most);
  dsdkConvAlgoPerf_t perf[DSDK_CONV_ALGO_COUNT];
  int returned = 0;
  CHECK_OK(dsdkFindConvolutionAlgorithm(h, DSDK_CONV_FORWARD, d.x, x.data(), d.w, w.data(),
                                        pr.mask.data(), d.conv, d.y, y.data(),
                                        DSDK_CONV_ALGO_COUNT, &returned, perf, ws.data(),
                                        ws.size()));
  CHECK(returned == DSDK_CONV_ALGO_COUNT);
  const float one = 1, zero = 0;
  for (int i = 0; i < returned; ++i) {
    CHECK(perf[i].status == DSDK_STATUS_SUCCESS);
    std::fill(y.begin(), y.end(), std::numeric_limits<float>::quiet_NaN());
    CHECK_OK(dsdkMaskedConvolutionForward(h, &one, d.x, x.data(), d.w, w.data(), pr.mask.data(),
                                          d.conv, perf[i].algo, ws.data(), ws.size(), &zero, d.y,
                                          y.data()));
    CHECK(matches(pr, y, 1.0, 0.0));
  }
  // Backward directions: the sparse algorithms do not run there.
  CHECK_OK(dsdkFindConvolutionAlgorithm(h, DSDK_CONV_BACKWARD_DATA, d.x, x.data(), d.w, w.data(),
                                        pr.mask.data(), d.conv, d.y, y.data(),
                                        DSDK_CONV_ALGO_COUNT, &returned, perf, ws.data(),
                                        ws.size()));
  CHECK(returned == DSDK_CONV_ALGO_COUNT);
  for (int i = 0; i < returned; ++i)
    if (perf[i].algo != DSDK_CONV_ALGO_IMPLICIT_GEMM)
      CHECK(perf[i].status == DSDK_STATUS_NOT_SUPPORTED);
}

void test_bad_params(dsdkHandle_t h, std::mt19937& rng) {
  const Case cs{1, 4, 6, 6, 4, 3, 3, 2, 1, 1, 1, 1, 1, 1, false, 50, false, 1.0, 0.0, 1};
  const Problem pr = make_problem(cs, rng);
  Descs d(pr, DSDK_DATA_FLOAT);
  std::vector<float> x = cast<float>(pr.x), w = cast<float>(pr.w), y(pr.y0.size());
  const float one = 1, zero = 0;
  dsdkSparseFilter_t f = nullptr;

  CHECK_STATUS(dsdkCreateSparseFilter(nullptr, &f, d.w, w.data(), nullptr, d.conv),
               DSDK_STATUS_NOT_INITIALIZED);
  CHECK_STATUS(dsdkCreateSparseFilter(h, nullptr, d.w, w.data(), nullptr, d.conv),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "filter");
  CHECK_STATUS(dsdkCreateSparseFilter(h, &f, nullptr, w.data(), nullptr, d.conv),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "wDesc");
  CHECK_STATUS(dsdkCreateSparseFilter(h, &f, d.w, nullptr, nullptr, d.conv), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "w is NULL");
  CHECK_STATUS(dsdkCreateSparseFilter(h, &f, d.w, w.data(), nullptr, nullptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "convDesc");
  dsdkConvolutionDescriptor_t g3;
  dsdkCreateConvolutionDescriptor(&g3);
  dsdkSetConvolution2dDescriptor(g3, 1, 1, 1, 1, 1, 1, 3);
  CHECK_STATUS(dsdkCreateSparseFilter(h, &f, d.w, w.data(), nullptr, g3), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "groups");
  dsdkFilterDescriptor_t half;
  dsdkCreateFilterDescriptor(&half);
  dsdkSetFilter4dDescriptor(half, DSDK_DATA_HALF, 4, 2, 3, 3);
  CHECK_STATUS(dsdkCreateSparseFilter(h, &f, half, w.data(), nullptr, d.conv),
               DSDK_STATUS_NOT_SUPPORTED);
  CHECK_MESSAGE(h, "wDesc");
  CHECK_STATUS(dsdkGetSparseFilterInfo(nullptr, nullptr, nullptr), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkDestroySparseFilter(nullptr), DSDK_STATUS_BAD_PARAM);

  CHECK_OK(dsdkCreateSparseFilter(h, &f, d.w, w.data(), pr.mask.data(), d.conv));
  size_t bytes = 0;
  const dsdkConvAlgo_t ds = DSDK_CONV_ALGO_DIRECT_SPARSE;
  CHECK_OK(dsdkGetSparseConvolutionForwardWorkspaceSize(h, d.x, f, d.conv, d.y, ds, &bytes));
  std::vector<char> ws(bytes);
  CHECK_STATUS(dsdkGetSparseConvolutionForwardWorkspaceSize(h, d.x, f, d.conv, d.y,
                                                            DSDK_CONV_ALGO_IMPLICIT_GEMM, &bytes),
               DSDK_STATUS_NOT_SUPPORTED);
  CHECK_MESSAGE(h, "implicit_gemm");
  CHECK_STATUS(dsdkGetSparseConvolutionForwardWorkspaceSize(h, d.x, f, d.conv, d.y, ds, nullptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "sizeInBytes");
  auto fwd = [&](const void* a, dsdkTensorDescriptor_t xd, const void* xp, dsdkSparseFilter_t ff,
                 dsdkConvolutionDescriptor_t cv, dsdkConvAlgo_t algo, void* wsp, size_t wsb,
                 void* yp) {
    return dsdkSparseConvolutionForward(h, a, xd, xp, ff, cv, algo, wsp, wsb, &zero, d.y, yp);
  };
  CHECK_OK(fwd(&one, d.x, x.data(), f, d.conv, ds, ws.data(), bytes, y.data()));
  CHECK_STATUS(fwd(&one, d.x, x.data(), nullptr, d.conv, ds, ws.data(), bytes, y.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "filter");
  CHECK_STATUS(fwd(nullptr, d.x, x.data(), f, d.conv, ds, ws.data(), bytes, y.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "alpha");
  CHECK_STATUS(fwd(&one, d.x, x.data(), f, d.conv, ds, ws.data(), bytes - 1, y.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "workspaceSizeInBytes");
  CHECK_STATUS(fwd(&one, d.x, x.data(), f, d.conv, ds, nullptr, bytes, y.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "workspace is NULL");
  CHECK_STATUS(fwd(&one, d.x, nullptr, f, d.conv, ds, ws.data(), bytes, y.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "x is NULL");
  CHECK_STATUS(fwd(&one, d.x, x.data(), f, d.conv, ds, ws.data(), bytes, nullptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "y is NULL");
  CHECK_STATUS(fwd(&one, d.x, x.data(), f, d.conv, dsdkConvAlgo_t(99), ws.data(), bytes, y.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "algo");
  CHECK_STATUS(fwd(&one, d.x, x.data(), f, d.conv, DSDK_CONV_ALGO_IMPLICIT_GEMM, ws.data(), bytes,
                   y.data()),
               DSDK_STATUS_NOT_SUPPORTED);
  CHECK_MESSAGE(h, "packed");
  // The filter was packed for 2 groups; a 1-group convolution of the same input does
  // not fit it.
  dsdkConvolutionDescriptor_t g1;
  dsdkCreateConvolutionDescriptor(&g1);
  dsdkSetConvolution2dDescriptor(g1, 1, 1, 1, 1, 1, 1, 1);
  CHECK_STATUS(fwd(&one, d.x, x.data(), f, g1, ds, ws.data(), bytes, y.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "filter");
  dsdkTensorDescriptor_t xd;
  dsdkCreateTensorDescriptor(&xd);
  dsdkSetTensor4dDescriptor(xd, DSDK_DATA_DOUBLE, 1, 4, 6, 6);
  CHECK_STATUS(fwd(&one, xd, x.data(), f, d.conv, ds, ws.data(), bytes, y.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "xDesc");
  // The masked path: backward directions are not the direct algorithm's.
  CHECK_STATUS(dsdkMaskedConvolutionBackwardData(h, &one, d.w, w.data(), pr.mask.data(), d.y,
                                                 y.data(), d.conv, ds, ws.data(), bytes, &zero,
                                                 d.x, x.data()),
               DSDK_STATUS_NOT_SUPPORTED);
  CHECK_MESSAGE(h, "forward");
  CHECK_STATUS(dsdkGetConvolutionWorkspaceSize(h, DSDK_CONV_BACKWARD_FILTER, d.x, d.w, d.conv,
                                               d.y, ds, &bytes),
               DSDK_STATUS_NOT_SUPPORTED);
  CHECK_MESSAGE(h, "direct_sparse");
  CHECK_OK(dsdkDestroySparseFilter(f));
  dsdkDestroyTensorDescriptor(xd);
  dsdkDestroyConvolutionDescriptor(g1);
  dsdkDestroyConvolutionDescriptor(g3);
  dsdkDestroyFilterDescriptor(half);
}

}  // namespace

int main() {
  using dsdk::cpu::Isa;
  dsdkHandle_t h;
  CHECK_OK(dsdkCreate(&h, DSDK_BACKEND_CPU));
  std::mt19937 rng(2024);
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kGeneric}) {
    if (dsdk::cpu::force_isa(isa) != isa) continue;
    std::printf("isa level %d\n", int(isa));
    run_grid(h, rng, isa == Isa::kAvx512 ? 200 : 80);
  }
  dsdk::cpu::force_isa(Isa::kAvx512);
  test_find(h, rng);
  test_filter_across_input_forms(h, rng);
  test_bad_params(h, rng);
  CHECK_OK(dsdkDestroy(h));
  return check::report("test_sparse_conv");
}
