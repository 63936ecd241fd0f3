// CPU masked convolution (all three directions) against a naive direct convolution
// written here, through the public C API: strides/padding/dilation/groups, masks,
// NCHW / channels_last / sliced-view layouts, alpha/beta (beta = 0 over NaN), float
// and double, several thread counts.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <vector>

#include "check.h"
#include "cpu/gemm_kernels.h"
#include "dsdkern/dsdkern.h"

namespace {

struct Case {
  int n, c, h, w, k, r, s, groups;
  int pad_h, pad_w, stride_h, stride_w, dil_h, dil_w;
  int layout;       // 0 NCHW, 1 channels_last, 2 sliced view
  int sparsity;     // percent of the mask that is zero
  double alpha, beta;
  int threads;
  int p() const { return (h + 2 * pad_h - dil_h * (r - 1) - 1) / stride_h + 1; }
  int q() const { return (w + 2 * pad_w - dil_w * (s - 1) - 1) / stride_w + 1; }
};

// A 4-D activation in a buffer bigger than the view: cells outside the view keep a
// sentinel so that writes outside it are caught.
struct Tensor4 {
  int n, c, h, w;
  int64_t ns, cs, hs, ws, offset;
  std::vector<double> buf;  // values in double; converted per dtype when run
  int64_t at(int in, int ic, int ih, int iw) const {
    return offset + in * ns + ic * cs + ih * hs + iw * ws;
  }
};

Tensor4 make_tensor(int n, int c, int h, int w, int layout) {
  Tensor4 t{n, c, h, w, 0, 0, 0, 0, 0, {}};
  if (layout == 0) {
    t.ws = 1; t.hs = w; t.cs = int64_t(h) * w; t.ns = int64_t(c) * h * w;
    t.buf.assign(size_t(n) * c * h * w, 0.0);
  } else if (layout == 1) {
    t.cs = 1; t.ws = c; t.hs = int64_t(w) * c; t.ns = int64_t(h) * w * c;
    t.buf.assign(size_t(n) * c * h * w, 0.0);
  } else {
    // View [:, 1:c+1, 1:h+1, 1:2w+1:2] of a packed [n, c+2, h+1, 2w+2] buffer.
    int C = c + 2, H = h + 1, W = 2 * w + 2;
    t.ws = 2; t.hs = W; t.cs = int64_t(H) * W; t.ns = int64_t(C) * H * W;
    t.offset = n > 0 ? t.cs + t.hs + 1 : 0;
    t.buf.assign(size_t(n) * C * H * W, 0.0);
  }
  return t;
}

const double kSentinel = 12345.0;

void fill(Tensor4& t, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (auto& v : t.buf) v = kSentinel;
  for (int a = 0; a < t.n; ++a)
    for (int b = 0; b < t.c; ++b)
      for (int e = 0; e < t.h; ++e)
        for (int f = 0; f < t.w; ++f) t.buf[t.at(a, b, e, f)] = u(rng);
}

// Reference results in double: y = conv(x, w⊙m), dx = conv_transpose(dy, w⊙m),
// dw = (x ⋆ dy)⊙m, each with its sum of |terms| for the tolerance.
struct Ref {
  std::vector<double> val, mag;
};

Ref ref_fwd(const Case& cs, const Tensor4& x, const std::vector<double>& w,
            const std::vector<uint8_t>& m) {
  int P = cs.p(), Q = cs.q(), cg = cs.c / cs.groups, kg = cs.k / cs.groups;
  Ref out{std::vector<double>(size_t(cs.n) * cs.k * P * Q, 0.0),
          std::vector<double>(size_t(cs.n) * cs.k * P * Q, 0.0)};
  for (int in = 0; in < cs.n; ++in)
    for (int ik = 0; ik < cs.k; ++ik)
      for (int ip = 0; ip < P; ++ip)
        for (int iq = 0; iq < Q; ++iq) {
          double acc = 0, mag = 0;
          int g = ik / kg;
          for (int ic = 0; ic < cg; ++ic)
            for (int ir = 0; ir < cs.r; ++ir)
              for (int is = 0; is < cs.s; ++is) {
                int hh = ip * cs.stride_h - cs.pad_h + ir * cs.dil_h;
                int ww = iq * cs.stride_w - cs.pad_w + is * cs.dil_w;
                if (hh < 0 || hh >= cs.h || ww < 0 || ww >= cs.w) continue;
                size_t wi = ((size_t(ik) * cg + ic) * cs.r + ir) * cs.s + is;
                if (!m[wi]) continue;
                double t = w[wi] * x.buf[x.at(in, g * cg + ic, hh, ww)];
                acc += t;
                mag += std::fabs(t);
              }
          size_t o = ((size_t(in) * cs.k + ik) * P + ip) * Q + iq;
          out.val[o] = acc;
          out.mag[o] = mag;
        }
  return out;
}

Ref ref_bwd_data(const Case& cs, const Tensor4& dy, const std::vector<double>& w,
                 const std::vector<uint8_t>& m) {
  int P = cs.p(), Q = cs.q(), cg = cs.c / cs.groups, kg = cs.k / cs.groups;
  size_t total = size_t(cs.n) * cs.c * cs.h * cs.w;
  Ref out{std::vector<double>(total, 0.0), std::vector<double>(total, 0.0)};
  // Scatter form (the kernel uses the gather form), so the two are independent.
  for (int in = 0; in < cs.n; ++in)
    for (int ik = 0; ik < cs.k; ++ik)
      for (int ip = 0; ip < P; ++ip)
        for (int iq = 0; iq < Q; ++iq) {
          int g = ik / kg;
          double d = dy.buf[dy.at(in, ik, ip, iq)];
          for (int ic = 0; ic < cg; ++ic)
            for (int ir = 0; ir < cs.r; ++ir)
              for (int is = 0; is < cs.s; ++is) {
                int hh = ip * cs.stride_h - cs.pad_h + ir * cs.dil_h;
                int ww = iq * cs.stride_w - cs.pad_w + is * cs.dil_w;
                if (hh < 0 || hh >= cs.h || ww < 0 || ww >= cs.w) continue;
                size_t wi = ((size_t(ik) * cg + ic) * cs.r + ir) * cs.s + is;
                if (!m[wi]) continue;
                size_t o = ((size_t(in) * cs.c + g * cg + ic) * cs.h + hh) * cs.w + ww;
                out.val[o] += w[wi] * d;
                out.mag[o] += std::fabs(w[wi] * d);
              }
        }
  return out;
}

Ref ref_bwd_filter(const Case& cs, const Tensor4& x, const Tensor4& dy,
                   const std::vector<uint8_t>& m) {
  int P = cs.p(), Q = cs.q(), cg = cs.c / cs.groups, kg = cs.k / cs.groups;
  size_t total = size_t(cs.k) * cg * cs.r * cs.s;
  Ref out{std::vector<double>(total, 0.0), std::vector<double>(total, 0.0)};
  for (int ik = 0; ik < cs.k; ++ik)
    for (int ic = 0; ic < cg; ++ic)
      for (int ir = 0; ir < cs.r; ++ir)
        for (int is = 0; is < cs.s; ++is) {
          size_t wi = ((size_t(ik) * cg + ic) * cs.r + ir) * cs.s + is;
          if (!m[wi]) continue;
          int g = ik / kg;
          double acc = 0, mag = 0;
          for (int in = 0; in < cs.n; ++in)
            for (int ip = 0; ip < P; ++ip)
              for (int iq = 0; iq < Q; ++iq) {
                int hh = ip * cs.stride_h - cs.pad_h + ir * cs.dil_h;
                int ww = iq * cs.stride_w - cs.pad_w + is * cs.dil_w;
                if (hh < 0 || hh >= cs.h || ww < 0 || ww >= cs.w) continue;
                double t = x.buf[x.at(in, g * cg + ic, hh, ww)] * dy.buf[dy.at(in, ik, ip, iq)];
                acc += t;
                mag += std::fabs(t);
              }
          out.val[wi] = acc;
          out.mag[wi] = mag;
        }
  return out;
}

template <typename T>
std::vector<T> to(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

// Blocked float accumulation reorders sums: allow a few ulps of the terms' magnitude.
template <typename T>
double tolerance(const Case& cs, double magnitude, double prior) {
  const double eps = std::is_same<T, float>::value ? 2e-6 : 1e-14;
  return eps * (16 + 8 * std::fabs(cs.alpha) * magnitude + std::fabs(cs.beta * prior));
}

// Checks one direction's output buffer: inside the view against the reference,
// outside it untouched.
template <typename T>
int compare_tensor(const char* what, const Case& cs, const Tensor4& t, const std::vector<T>& got,
                   const std::vector<double>& before, const Ref& ref) {
  int bad = 0;
  std::vector<char> seen(got.size(), 0);
  for (int a = 0; a < t.n; ++a)
    for (int b = 0; b < t.c; ++b)
      for (int e = 0; e < t.h; ++e)
        for (int f = 0; f < t.w; ++f) {
          int64_t idx = t.at(a, b, e, f);
          seen[idx] = 1;
          size_t o = ((size_t(a) * t.c + b) * t.h + e) * t.w + f;
          double want = cs.alpha * ref.val[o] + (cs.beta == 0 ? 0.0 : cs.beta * before[idx]);
          double tol = tolerance<T>(cs, ref.mag[o], before[idx]);
          if (!(std::fabs(double(got[idx]) - want) <= tol) && bad++ < 3)
            std::printf("  %s [%d,%d,%d,%d] got %.9g want %.9g\n", what, a, b, e, f,
                        double(got[idx]), want);
        }
  for (size_t i = 0; i < got.size(); ++i)
    if (!seen[i] && double(got[i]) != kSentinel && bad++ < 3)
      std::printf("  %s wrote outside the view at %zu\n", what, i);
  return bad;
}

void describe(const Case& cs, const char* dt) {
  std::printf(
      "case %s n%d c%d %dx%d k%d %dx%d g%d pad %d,%d stride %d,%d dil %d,%d layout %d sparsity "
      "%d alpha %g beta %g threads %d\n",
      dt, cs.n, cs.c, cs.h, cs.w, cs.k, cs.r, cs.s, cs.groups, cs.pad_h, cs.pad_w, cs.stride_h,
      cs.stride_w, cs.dil_h, cs.dil_w, cs.layout, cs.sparsity, cs.alpha, cs.beta, cs.threads);
}

// Runs the three directions through the C API with exactly the workspace the query asks for.
template <typename T>
void run_case(dsdkHandle_t h, const Case& cs, std::mt19937& rng) {
  const dsdkDataType_t dt = std::is_same<T, float>::value ? DSDK_DATA_FLOAT : DSDK_DATA_DOUBLE;
  const char* dtn = std::is_same<T, float>::value ? "float" : "double";
  const int P = cs.p(), Q = cs.q(), cg = cs.c / cs.groups;
  CHECK_OK(dsdkSetNumThreads(h, cs.threads));

  Tensor4 x = make_tensor(cs.n, cs.c, cs.h, cs.w, cs.layout);
  Tensor4 y = make_tensor(cs.n, cs.k, P, Q, cs.layout);
  fill(x, rng);
  fill(y, rng);  // dy for the backward passes, y's prior value for forward
  const size_t wn = size_t(cs.k) * cg * cs.r * cs.s;
  std::vector<double> w(wn), dw0(wn);
  std::vector<uint8_t> mask(wn);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::uniform_int_distribution<int> pct(0, 99);
  for (size_t i = 0; i < wn; ++i) {
    w[i] = u(rng);
    dw0[i] = u(rng);
    mask[i] = pct(rng) >= cs.sparsity ? 1 : 0;
  }
  const bool dense = cs.sparsity == 0 && (wn % 2 == 0);  // exercise mask == NULL too
  const uint8_t* mp = dense ? nullptr : mask.data();
  std::vector<uint8_t> ones(wn, 1);
  const std::vector<uint8_t>& eff = dense ? ones : mask;

  dsdkTensorDescriptor_t xD, yD;
  dsdkFilterDescriptor_t wD;
  dsdkConvolutionDescriptor_t cD;
  CHECK_OK(dsdkCreateTensorDescriptor(&xD));
  CHECK_OK(dsdkCreateTensorDescriptor(&yD));
  CHECK_OK(dsdkCreateFilterDescriptor(&wD));
  CHECK_OK(dsdkCreateConvolutionDescriptor(&cD));
  CHECK_OK(dsdkSetTensor4dDescriptorEx(xD, dt, cs.n, cs.c, cs.h, cs.w, x.ns, x.cs, x.hs, x.ws));
  CHECK_OK(dsdkSetTensor4dDescriptorEx(yD, dt, cs.n, cs.k, P, Q, y.ns, y.cs, y.hs, y.ws));
  CHECK_OK(dsdkSetFilter4dDescriptor(wD, dt, cs.k, cg, cs.r, cs.s));
  CHECK_OK(dsdkSetConvolution2dDescriptor(cD, cs.pad_h, cs.pad_w, cs.stride_h, cs.stride_w,
                                          cs.dil_h, cs.dil_w, cs.groups));
  const T alpha = T(cs.alpha), beta = T(cs.beta);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  int bad = 0;

  for (int dir = 0; dir < 3; ++dir) {
    size_t bytes = 0;
    CHECK_OK(dsdkGetConvolutionWorkspaceSize(h, dsdkConvDirection_t(dir), xD, wD, cD, yD,
                                             DSDK_CONV_ALGO_IMPLICIT_GEMM, &bytes));
    // Exactly the reported size, so that sanitizer builds catch overruns.
    void* ws = bytes ? std::malloc(bytes) : nullptr;
    std::vector<T> xv = to<T>(x.buf), yv = to<T>(y.buf), wv = to<T>(w), dwv = to<T>(dw0);
    std::vector<double> before;
    if (dir == 0) {
      before = y.buf;
      if (cs.beta == 0) {
        for (int a = 0; a < y.n; ++a)
          for (int b = 0; b < y.c; ++b)
            for (int e = 0; e < y.h; ++e)
              for (int f = 0; f < y.w; ++f) yv[y.at(a, b, e, f)] = T(nan);
      }
      CHECK_OK(dsdkMaskedConvolutionForward(h, &alpha, xD, xv.data() + x.offset, wD, wv.data(),
                                            mp, cD, DSDK_CONV_ALGO_IMPLICIT_GEMM, ws, bytes,
                                            &beta, yD, yv.data() + y.offset));
      if (cs.n > 0) bad += compare_tensor("y", cs, y, yv, before, ref_fwd(cs, x, w, eff));
    } else if (dir == 1) {
      before = x.buf;
      if (cs.beta == 0) {
        for (int a = 0; a < x.n; ++a)
          for (int b = 0; b < x.c; ++b)
            for (int e = 0; e < x.h; ++e)
              for (int f = 0; f < x.w; ++f) xv[x.at(a, b, e, f)] = T(nan);
      }
      CHECK_OK(dsdkMaskedConvolutionBackwardData(h, &alpha, wD, wv.data(), mp, yD,
                                                 yv.data() + y.offset, cD,
                                                 DSDK_CONV_ALGO_IMPLICIT_GEMM, ws, bytes, &beta,
                                                 xD, xv.data() + x.offset));
      if (cs.n > 0) bad += compare_tensor("dx", cs, x, xv, before, ref_bwd_data(cs, y, w, eff));
    } else {
      if (cs.beta == 0)
        for (auto& v : dwv) v = T(nan);
      CHECK_OK(dsdkMaskedConvolutionBackwardFilter(h, &alpha, xD, xv.data() + x.offset, yD,
                                                   yv.data() + y.offset, cD,
                                                   DSDK_CONV_ALGO_IMPLICIT_GEMM, ws, bytes, &beta,
                                                   wD, dwv.data(), mp));
      Ref ref = ref_bwd_filter(cs, x, y, eff);
      int b = 0;
      for (size_t i = 0; i < wn; ++i) {
        double want = cs.alpha * ref.val[i] + (cs.beta == 0 ? 0.0 : cs.beta * dw0[i]);
        double tol = tolerance<T>(cs, ref.mag[i], dw0[i]);
        if (!(std::fabs(double(dwv[i]) - want) <= tol) && b++ < 3)
          std::printf("  dw[%zu] got %.9g want %.9g\n", i, double(dwv[i]), want);
      }
      bad += b;
    }
    std::free(ws);
  }
  if (bad) {
    describe(cs, dtn);
    ++check::failures();
  }
  dsdkDestroyTensorDescriptor(xD);
  dsdkDestroyTensorDescriptor(yD);
  dsdkDestroyFilterDescriptor(wD);
  dsdkDestroyConvolutionDescriptor(cD);
}

void run_both(dsdkHandle_t h, const Case& cs, std::mt19937& rng) {
  run_case<float>(h, cs, rng);
  run_case<double>(h, cs, rng);
}

// One pass of the grid with the kernels of one instruction set.
void run_grid(dsdkHandle_t h, std::mt19937& rng, int random_cases) {
  // Random grid over the small-problem space.
  std::uniform_int_distribution<int> d(0, 1 << 30);
  auto pick = [&](std::initializer_list<int> v) { return *(v.begin() + d(rng) % v.size()); };
  for (int it = 0; it < random_cases; ++it) {
    Case cs{};
    cs.groups = pick({1, 1, 2, 3, -1});  // -1: depthwise
    int cg = pick({1, 2, 3, 5});
    int kg = pick({1, 2, 4, 7});
    if (cs.groups == -1) {
      cs.groups = pick({3, 4});
      cg = 1;
      kg = pick({1, 2});
    }
    cs.c = cg * cs.groups;
    cs.k = kg * cs.groups;
    cs.n = pick({0, 1, 1, 2, 3});
    cs.r = pick({1, 2, 3, 5});
    cs.s = pick({1, 2, 3, 5});
    cs.pad_h = pick({0, 1, 2});
    cs.pad_w = pick({0, 1, 2});
    cs.stride_h = pick({1, 1, 2, 3});
    cs.stride_w = pick({1, 1, 2, 3});
    cs.dil_h = pick({1, 1, 2});
    cs.dil_w = pick({1, 1, 2});
    cs.h = pick({1, 3, 6, 9, 13});
    cs.w = pick({1, 4, 7, 11, 17, 40});
    if (cs.p() < 1 || cs.q() < 1) continue;
    cs.layout = pick({0, 1, 2});
    cs.sparsity = pick({0, 0, 50, 90, 100});
    cs.alpha = pick({1, 1, 2}) * (it % 7 == 0 ? -0.5 : 1.0);
    cs.beta = pick({0, 0, 1, 3}) * 0.5;
    cs.threads = pick({1, 2, 2, 2, 3});
    run_both(h, cs, rng);
  }

  // Problems big enough to cross every cache block of the engine (K > KC, N > NC,
  // M > MR, several tiles per thread) in each layout, plus batch/small-image tiling.
  const Case big[] = {
      {1, 70, 20, 23, 45, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1.0, 0.0, 2},
      {2, 70, 20, 23, 45, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 50, 1.0, 0.5, 2},
      {1, 70, 20, 23, 45, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2, 0, 0.5, 0.0, 2},
      {3, 64, 7, 7, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1.0, 0.0, 2},
      {5, 40, 5, 5, 50, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 90, 1.0, 1.0, 3},
      {2, 32, 30, 30, 16, 1, 1, 1, 0, 0, 2, 2, 1, 1, 0, 0, 1.0, 0.0, 2},
      {2, 24, 17, 19, 24, 3, 3, 24, 1, 1, 1, 1, 1, 1, 0, 0, 1.0, 0.0, 2},
      {1, 20, 33, 65, 30, 5, 3, 2, 2, 1, 2, 1, 1, 2, 0, 50, 1.0, 0.0, 2},
      {1, 3, 40, 40, 20, 7, 7, 1, 3, 3, 2, 2, 1, 1, 0, 0, 1.0, 0.0, 2},
  };
  for (const Case& cs : big) run_both(h, cs, rng);
}

}  // namespace

int main() {
  using dsdk::cpu::Isa;
  dsdkHandle_t h;
  CHECK_OK(dsdkCreate(&h, DSDK_BACKEND_CPU));
  std::mt19937 rng(1234);
  // Every kernel set this CPU can run, best first (the workspace query follows the choice).
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kGeneric}) {
    if (dsdk::cpu::force_isa(isa) != isa) continue;
    std::printf("kernels: %s\n", dsdk::cpu::microkernel<float>().isa);
    run_grid(h, rng, isa == Isa::kAvx512 ? 300 : 100);
  }
  dsdk::cpu::force_isa(Isa::kAvx512);
  CHECK_OK(dsdkDestroy(h));
  return check::report("test_conv_cpu");
}
