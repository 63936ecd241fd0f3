// dsdkMaxPoolingForward on the CPU against a direct loop over each window (written from
// the definition: taps at i * stride - pad + k * dilation, out-of-range taps skipped,
// -inf when none is in range, NaN wins): windows, strides, paddings, dilations, ceil
// mode, strided (channels_last-like) x and y, NaN and inf entries, 1 and 2 threads,
// float and double, every ISA the CPU has; every bad argument returns its status and
// names itself.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "check.h"
#include "cpu/gemm_kernels.h"

namespace {

struct Geometry {
  int win_h, win_w, pad_h, pad_w, stride_h, stride_w, dil_h, dil_w, ceil_mode;
};

// The max over the window at (i, j) of plane x (h x w, packed), by the definition.
template <class T>
T window_max(const std::vector<T>& x, int h, int w, const Geometry& g, int i, int j) {
  T best = -std::numeric_limits<T>::infinity();
  for (int a = 0; a < g.win_h; ++a)
    for (int b = 0; b < g.win_w; ++b) {
      const int r = i * g.stride_h - g.pad_h + a * g.dil_h;
      const int c = j * g.stride_w - g.pad_w + b * g.dil_w;
      if (r < 0 || r >= h || c < 0 || c >= w) continue;
      const T v = x[size_t(r) * w + c];
      if (std::isnan(v) || v > best) best = v;
      if (std::isnan(best)) return best;
    }
  return best;
}

struct Pool {
  dsdkHandle_t h = nullptr;
  dsdkTensorDescriptor_t xd = nullptr, yd = nullptr;
  dsdkPoolingDescriptor_t pd = nullptr;
  Pool() {
    CHECK_OK(dsdkCreate(&h, DSDK_BACKEND_CPU));
    CHECK_OK(dsdkCreateTensorDescriptor(&xd));
    CHECK_OK(dsdkCreateTensorDescriptor(&yd));
    CHECK_OK(dsdkCreatePoolingDescriptor(&pd));
  }
  ~Pool() {
    dsdkDestroyPoolingDescriptor(pd);
    dsdkDestroyTensorDescriptor(yd);
    dsdkDestroyTensorDescriptor(xd);
    dsdkDestroy(h);
  }
};

// Pools n x c planes of h x w (x packed NCHW, or NHWC when `nhwc`; y likewise) and
// compares every output with window_max.
template <class T>
void check_case(Pool& p, int n, int c, int h, int w, const Geometry& g, bool nhwc,
                uint32_t seed) {
  const dsdkDataType_t dt = sizeof(T) == 8 ? DSDK_DATA_DOUBLE : DSDK_DATA_FLOAT;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<T> x(size_t(n) * c * h * w);
  for (auto& v : x) v = T(u(rng));
  if (x.size() > 7) {
    x[3] = std::numeric_limits<T>::quiet_NaN();
    x[x.size() / 2] = std::numeric_limits<T>::infinity();
    x[x.size() - 2] = -std::numeric_limits<T>::infinity();
  }
  // x is filled as NCHW-packed values; an NHWC run stores the same values transposed.
  auto strides = [&](int hh, int ww, int64_t* s) {
    if (nhwc) { s[0] = int64_t(hh) * ww * c; s[1] = 1; s[2] = int64_t(ww) * c; s[3] = c; }
    else { s[0] = int64_t(c) * hh * ww; s[1] = int64_t(hh) * ww; s[2] = ww; s[3] = 1; }
  };
  int64_t xs[4], ys[4];
  strides(h, w, xs);
  std::vector<T> xstore(x.size());
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < c; ++b)
      for (int r = 0; r < h; ++r)
        for (int q = 0; q < w; ++q)
          xstore[size_t(a * xs[0] + b * xs[1] + r * xs[2] + q * xs[3])] =
              x[((size_t(a) * c + b) * h + r) * w + q];
  CHECK_OK(dsdkSetTensor4dDescriptorEx(p.xd, dt, n, c, h, w, xs[0], xs[1], xs[2], xs[3]));
  CHECK_OK(dsdkSetPooling2dDescriptor(p.pd, g.win_h, g.win_w, g.pad_h, g.pad_w, g.stride_h,
                                      g.stride_w, g.dil_h, g.dil_w, g.ceil_mode));
  int on, oc, oh, ow;
  CHECK_OK(dsdkGetPooling2dForwardOutputDim(p.h, p.pd, p.xd, &on, &oc, &oh, &ow));
  strides(oh, ow, ys);
  CHECK_OK(dsdkSetTensor4dDescriptorEx(p.yd, dt, on, oc, oh, ow, ys[0], ys[1], ys[2], ys[3]));
  for (int threads : {1, 2}) {
    CHECK_OK(dsdkSetNumThreads(p.h, threads));
    std::vector<T> y(size_t(on) * oc * oh * ow, T(12345));
    CHECK_OK(dsdkMaxPoolingForward(p.h, p.pd, p.xd, xstore.data(), p.yd, y.data()));
    int bad = 0;
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < c; ++b) {
        const std::vector<T> plane(x.begin() + (size_t(a) * c + b) * h * w,
                                   x.begin() + (size_t(a) * c + b + 1) * h * w);
        for (int i = 0; i < oh; ++i)
          for (int j = 0; j < ow; ++j) {
            const T want = window_max(plane, h, w, g, i, j);
            const T got = y[size_t(a * ys[0] + b * ys[1] + i * ys[2] + j * ys[3])];
            bad += !(got == want || (std::isnan(got) && std::isnan(want)));
          }
      }
    if (bad) {
      std::printf("  %d wrong: %dx%d k%dx%d p%d,%d s%d,%d d%d,%d ceil%d nhwc%d threads%d\n", bad,
                  h, w, g.win_h, g.win_w, g.pad_h, g.pad_w, g.stride_h, g.stride_w, g.dil_h,
                  g.dil_w, g.ceil_mode, int(nhwc), threads);
      CHECK(bad == 0);
    }
  }
}

void check_values() {
  Pool p;
  uint32_t seed = 1;
  for (int k = 1; k <= 4; ++k)
    for (int s = 1; s <= 3; ++s)
      for (int pad = 0; pad <= k / 2; ++pad)
        for (int d = 1; d <= 2; ++d)
          for (int ceil_mode = 0; ceil_mode <= 1; ++ceil_mode) {
            const Geometry g{k, k, pad, pad, s, s, d, d, ceil_mode};
            check_case<float>(p, 2, 3, 9, 11, g, false, seed++);
            check_case<double>(p, 1, 2, 8, 7, g, true, seed++);
          }
  check_case<float>(p, 1, 64, 112, 112, {3, 3, 1, 1, 2, 2, 1, 1, 0}, false, 7);  // ResNet stem
  check_case<float>(p, 1, 2, 10, 13, {2, 5, 1, 2, 3, 1, 2, 1, 1}, false, 8);     // non-square
  check_case<float>(p, 0, 3, 9, 9, {3, 3, 1, 1, 2, 2, 1, 1, 0}, false, 9);       // no images
}

void check_bad_arguments() {
  Pool p;
  float x[64] = {}, y[64] = {};
  CHECK_STATUS(dsdkSetPooling2dDescriptor(p.pd, 0, 3, 0, 0, 1, 1, 1, 1, 0), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetPooling2dDescriptor(p.pd, 3, 3, -1, 0, 1, 1, 1, 1, 0),
               DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetPooling2dDescriptor(p.pd, 3, 3, 0, 0, 0, 1, 1, 1, 0), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetPooling2dDescriptor(p.pd, 3, 3, 0, 0, 1, 1, 1, 0, 0), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetPooling2dDescriptor(p.pd, 3, 3, 0, 0, 1, 1, 1, 1, 2), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetPooling2dDescriptor(nullptr, 3, 3, 0, 0, 1, 1, 1, 1, 0),
               DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkMaxPoolingForward(nullptr, p.pd, p.xd, x, p.yd, y),
               DSDK_STATUS_NOT_INITIALIZED);

  // Descriptors not set yet.
  CHECK_STATUS(dsdkMaxPoolingForward(p.h, p.pd, p.xd, x, p.yd, y), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "poolDesc");
  CHECK_OK(dsdkSetPooling2dDescriptor(p.pd, 3, 3, 1, 1, 2, 2, 1, 1, 0));
  CHECK_STATUS(dsdkMaxPoolingForward(p.h, p.pd, p.xd, x, p.yd, y), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "xDesc");
  CHECK_OK(dsdkSetTensor4dDescriptor(p.xd, DSDK_DATA_FLOAT, 1, 1, 8, 8));
  CHECK_STATUS(dsdkMaxPoolingForward(p.h, p.pd, p.xd, x, p.yd, y), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "yDesc");

  // y of the wrong shape, then the wrong dtype.
  CHECK_OK(dsdkSetTensor4dDescriptor(p.yd, DSDK_DATA_FLOAT, 1, 1, 5, 4));
  CHECK_STATUS(dsdkMaxPoolingForward(p.h, p.pd, p.xd, x, p.yd, y), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "yDesc");
  CHECK_OK(dsdkSetTensor4dDescriptor(p.yd, DSDK_DATA_DOUBLE, 1, 1, 4, 4));
  CHECK_STATUS(dsdkMaxPoolingForward(p.h, p.pd, p.xd, x, p.yd, y), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "yDesc dtype");
  CHECK_OK(dsdkSetTensor4dDescriptor(p.yd, DSDK_DATA_FLOAT, 1, 1, 4, 4));
  CHECK_OK(dsdkMaxPoolingForward(p.h, p.pd, p.xd, x, p.yd, y));
  CHECK_STATUS(dsdkMaxPoolingForward(p.h, p.pd, p.xd, nullptr, p.yd, y), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "x is NULL");
  CHECK_STATUS(dsdkMaxPoolingForward(p.h, p.pd, p.xd, x, p.yd, nullptr), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "y is NULL");

  // Half data: no CPU kernel.
  CHECK_OK(dsdkSetTensor4dDescriptor(p.xd, DSDK_DATA_HALF, 1, 1, 8, 8));
  CHECK_STATUS(dsdkMaxPoolingForward(p.h, p.pd, p.xd, x, p.yd, y), DSDK_STATUS_NOT_SUPPORTED);
  CHECK_MESSAGE(p.h, "dtype");
  CHECK_OK(dsdkSetTensor4dDescriptor(p.xd, DSDK_DATA_FLOAT, 1, 1, 8, 8));

  // Padding above half the window, then a window larger than the padded input.
  int n, c, oh, ow;
  CHECK_OK(dsdkSetPooling2dDescriptor(p.pd, 3, 2, 1, 2, 1, 1, 1, 1, 0));
  CHECK_STATUS(dsdkGetPooling2dForwardOutputDim(p.h, p.pd, p.xd, &n, &c, &oh, &ow),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "padding");
  CHECK_OK(dsdkSetPooling2dDescriptor(p.pd, 5, 5, 0, 0, 1, 1, 3, 3, 0));
  CHECK_STATUS(dsdkGetPooling2dForwardOutputDim(p.h, p.pd, p.xd, &n, &c, &oh, &ow),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "empty");
  CHECK_STATUS(dsdkGetPooling2dForwardOutputDim(p.h, p.pd, p.xd, nullptr, &c, &oh, &ow),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "NULL");

  int got[9];
  CHECK_OK(dsdkSetPooling2dDescriptor(p.pd, 3, 2, 1, 0, 2, 1, 1, 2, 1));
  CHECK_OK(dsdkGetPooling2dDescriptor(p.pd, &got[0], &got[1], &got[2], &got[3], &got[4], &got[5],
                                      &got[6], &got[7], &got[8]));
  CHECK(got[0] == 3 && got[1] == 2 && got[2] == 1 && got[3] == 0 && got[4] == 2 &&
        got[5] == 1 && got[6] == 1 && got[7] == 2 && got[8] == 1);
}

}  // namespace

int main() {
  using dsdk::cpu::Isa;
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kGeneric}) {
    if (dsdk::cpu::force_isa(isa) != isa) continue;
    std::printf("isa level %d\n", int(isa));
    check_values();
  }
  dsdk::cpu::force_isa(Isa::kAvx512);
  check_bad_arguments();
  return check::report("test_pool");
}
