// The C API's contract apart from kernel numerics: handle lifecycle, descriptor
// validation, every BAD_PARAM path of the convolution calls (each message must
// name the argument), workspace queries and the measured Find.
#include <algorithm>
#include <cmath>
#include <string>
#include <limits>
#include <vector>

#include "check.h"

namespace {

struct Problem {
  dsdkHandle_t h = nullptr;
  dsdkTensorDescriptor_t x = nullptr, y = nullptr;
  dsdkFilterDescriptor_t w = nullptr;
  dsdkConvolutionDescriptor_t conv = nullptr;
  // x: 2x4x6x5, w: 6x2x3x3, groups 2, pad 1, stride 1 -> y: 2x6x6x5
  std::vector<float> xs = std::vector<float>(2 * 4 * 6 * 5, 1.0f);
  std::vector<float> ws = std::vector<float>(6 * 2 * 3 * 3, 0.5f);
  std::vector<uint8_t> mask = std::vector<uint8_t>(6 * 2 * 3 * 3, 1);
  std::vector<float> ys = std::vector<float>(2 * 6 * 6 * 5, 0.0f);
  std::vector<unsigned char> workspace;

  Problem() {
    CHECK_OK(dsdkCreate(&h, DSDK_BACKEND_CPU));
    CHECK_OK(dsdkCreateTensorDescriptor(&x));
    CHECK_OK(dsdkCreateTensorDescriptor(&y));
    CHECK_OK(dsdkCreateFilterDescriptor(&w));
    CHECK_OK(dsdkCreateConvolutionDescriptor(&conv));
    CHECK_OK(dsdkSetTensor4dDescriptor(x, DSDK_DATA_FLOAT, 2, 4, 6, 5));
    CHECK_OK(dsdkSetFilter4dDescriptor(w, DSDK_DATA_FLOAT, 6, 2, 3, 3));
    CHECK_OK(dsdkSetConvolution2dDescriptor(conv, 1, 1, 1, 1, 1, 1, 2));
    CHECK_OK(dsdkSetTensor4dDescriptor(y, DSDK_DATA_FLOAT, 2, 6, 6, 5));
    size_t bytes = 0;
    for (int dir = 0; dir < 3; ++dir) {
      size_t b = 0;
      CHECK_OK(dsdkGetConvolutionWorkspaceSize(h, dsdkConvDirection_t(dir), x, w, conv, y,
                                               DSDK_CONV_ALGO_IMPLICIT_GEMM, &b));
      bytes = b > bytes ? b : bytes;
    }
    workspace.resize(bytes + 1);
  }
  ~Problem() {
    dsdkDestroyTensorDescriptor(x);
    dsdkDestroyTensorDescriptor(y);
    dsdkDestroyFilterDescriptor(w);
    dsdkDestroyConvolutionDescriptor(conv);
    dsdkDestroy(h);
  }
  dsdkStatus_t forward(const void* alpha, const void* beta, dsdkConvAlgo_t algo, void* wsp,
                       size_t wsb) {
    return dsdkMaskedConvolutionForward(h, alpha, x, xs.data(), w, ws.data(), mask.data(), conv,
                                        algo, wsp, wsb, beta, y, ys.data());
  }
};

void test_handle() {
  CHECK_STATUS(dsdkCreate(nullptr, DSDK_BACKEND_CPU), DSDK_STATUS_BAD_PARAM);
  dsdkHandle_t h = nullptr;
  CHECK_STATUS(dsdkCreate(&h, dsdkBackend_t(7)), DSDK_STATUS_BAD_PARAM);
  CHECK(h == nullptr);
  if (!dsdkHasCudaBackend()) {
    CHECK_STATUS(dsdkCreate(&h, DSDK_BACKEND_CUDA), DSDK_STATUS_NOT_SUPPORTED);
  } else if (dsdkCreate(&h, DSDK_BACKEND_CUDA) == DSDK_STATUS_SUCCESS) {
    void* stream = nullptr;
    CHECK_OK(dsdkGetStream(h, &stream));
    CHECK_OK(dsdkDestroy(h));
  }
  CHECK_STATUS(dsdkDestroy(nullptr), DSDK_STATUS_BAD_PARAM);

  CHECK_OK(dsdkCreate(&h, DSDK_BACKEND_CPU));
  dsdkBackend_t b;
  CHECK_OK(dsdkGetBackend(h, &b));
  CHECK(b == DSDK_BACKEND_CPU);
  CHECK_STATUS(dsdkGetBackend(h, nullptr), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "backend");
  CHECK_STATUS(dsdkSetNumThreads(h, 0), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "numThreads");
  CHECK_OK(dsdkSetNumThreads(h, 3));
  CHECK(std::string(dsdkGetLastErrorMessage(h)).empty());  // success clears the message
  int t = 0;
  CHECK_OK(dsdkGetNumThreads(h, &t));
  CHECK(t == 3);
  CHECK_STATUS(dsdkGetNumThreads(h, nullptr), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetStream(h, nullptr), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "CUDA");
  CHECK_STATUS(dsdkGetStream(h, nullptr), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetNumThreads(nullptr, 1), DSDK_STATUS_NOT_INITIALIZED);
  CHECK(std::string(dsdkGetErrorString(DSDK_STATUS_BAD_PARAM)) == "DSDK_STATUS_BAD_PARAM");
  CHECK(std::string(dsdkGetErrorString(dsdkStatus_t(99))) == "DSDK_STATUS_UNKNOWN");
  CHECK_OK(dsdkDestroy(h));
}

void test_descriptors() {
  dsdkTensorDescriptor_t t;
  CHECK_STATUS(dsdkCreateTensorDescriptor(nullptr), DSDK_STATUS_BAD_PARAM);
  CHECK_OK(dsdkCreateTensorDescriptor(&t));
  dsdkDataType_t dt;
  int n, c, h, w;
  int64_t s0, s1, s2, s3;
  CHECK_STATUS(dsdkGetTensor4dDescriptor(t, &dt, &n, &c, &h, &w, &s0, &s1, &s2, &s3),
               DSDK_STATUS_BAD_PARAM);  // not set yet
  CHECK_STATUS(dsdkSetTensor4dDescriptor(t, dsdkDataType_t(9), 1, 1, 1, 1), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetTensor4dDescriptor(t, DSDK_DATA_FLOAT, -1, 1, 1, 1), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetTensor4dDescriptor(t, DSDK_DATA_FLOAT, 1, 0, 1, 1), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetTensor4dDescriptor(t, DSDK_DATA_FLOAT, 1, 1, 0, 1), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetTensor4dDescriptor(t, DSDK_DATA_FLOAT, 1, 1, 1, 0), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetTensor4dDescriptorEx(t, DSDK_DATA_FLOAT, 1, 1, 1, 1, 1, -1, 1, 1),
               DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetTensor4dDescriptor(nullptr, DSDK_DATA_FLOAT, 1, 1, 1, 1), DSDK_STATUS_BAD_PARAM);
  CHECK_OK(dsdkSetTensor4dDescriptor(t, DSDK_DATA_DOUBLE, 0, 3, 4, 5));  // empty batch is valid
  CHECK_OK(dsdkGetTensor4dDescriptor(t, &dt, &n, &c, &h, &w, &s0, &s1, &s2, &s3));
  CHECK(dt == DSDK_DATA_DOUBLE && n == 0 && c == 3 && h == 4 && w == 5);
  CHECK(s0 == 60 && s1 == 20 && s2 == 5 && s3 == 1);
  CHECK_STATUS(dsdkGetTensor4dDescriptor(t, nullptr, &n, &c, &h, &w, &s0, &s1, &s2, &s3),
               DSDK_STATUS_BAD_PARAM);
  CHECK_OK(dsdkDestroyTensorDescriptor(t));
  CHECK_STATUS(dsdkDestroyTensorDescriptor(nullptr), DSDK_STATUS_BAD_PARAM);

  dsdkFilterDescriptor_t f;
  CHECK_OK(dsdkCreateFilterDescriptor(&f));
  int k, r, s;
  CHECK_STATUS(dsdkGetFilter4dDescriptor(f, &dt, &k, &c, &r, &s), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetFilter4dDescriptor(f, DSDK_DATA_FLOAT, 0, 1, 1, 1), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetFilter4dDescriptor(f, DSDK_DATA_FLOAT, 1, 0, 1, 1), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetFilter4dDescriptor(f, DSDK_DATA_FLOAT, 1, 1, 0, 1), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetFilter4dDescriptor(f, DSDK_DATA_FLOAT, 1, 1, 1, -2), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetFilter4dDescriptor(f, dsdkDataType_t(99), 1, 1, 1, 1), DSDK_STATUS_BAD_PARAM);
  CHECK_OK(dsdkSetFilter4dDescriptor(f, DSDK_DATA_HALF, 8, 3, 5, 1));
  CHECK_OK(dsdkGetFilter4dDescriptor(f, &dt, &k, &c, &r, &s));
  CHECK(dt == DSDK_DATA_HALF && k == 8 && c == 3 && r == 5 && s == 1);
  CHECK_OK(dsdkDestroyFilterDescriptor(f));

  dsdkConvolutionDescriptor_t cv;
  CHECK_OK(dsdkCreateConvolutionDescriptor(&cv));
  int ph, pw, sh, sw, dh, dw, g;
  CHECK_STATUS(dsdkGetConvolution2dDescriptor(cv, &ph, &pw, &sh, &sw, &dh, &dw, &g),
               DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetConvolution2dDescriptor(cv, -1, 0, 1, 1, 1, 1, 1), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetConvolution2dDescriptor(cv, 0, -1, 1, 1, 1, 1, 1), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetConvolution2dDescriptor(cv, 0, 0, 0, 1, 1, 1, 1), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetConvolution2dDescriptor(cv, 0, 0, 1, -1, 1, 1, 1), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetConvolution2dDescriptor(cv, 0, 0, 1, 1, 0, 1, 1), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetConvolution2dDescriptor(cv, 0, 0, 1, 1, 1, 0, 1), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetConvolution2dDescriptor(cv, 0, 0, 1, 1, 1, 1, 0), DSDK_STATUS_BAD_PARAM);
  CHECK_OK(dsdkSetConvolution2dDescriptor(cv, 2, 1, 3, 2, 2, 1, 4));
  CHECK_OK(dsdkGetConvolution2dDescriptor(cv, &ph, &pw, &sh, &sw, &dh, &dw, &g));
  CHECK(ph == 2 && pw == 1 && sh == 3 && sw == 2 && dh == 2 && dw == 1 && g == 4);
  CHECK_OK(dsdkDestroyConvolutionDescriptor(cv));
}

void test_output_dim() {
  Problem p;
  int n, c, h, w;
  CHECK_OK(dsdkGetConvolution2dForwardOutputDim(p.h, p.conv, p.x, p.w, &n, &c, &h, &w));
  CHECK(n == 2 && c == 6 && h == 6 && w == 5);
  CHECK_STATUS(dsdkGetConvolution2dForwardOutputDim(p.h, p.conv, p.x, p.w, nullptr, &c, &h, &w),
               DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkGetConvolution2dForwardOutputDim(nullptr, p.conv, p.x, p.w, &n, &c, &h, &w),
               DSDK_STATUS_NOT_INITIALIZED);
  // A filter larger than the padded input leaves an empty output.
  dsdkFilterDescriptor_t big;
  CHECK_OK(dsdkCreateFilterDescriptor(&big));
  CHECK_OK(dsdkSetFilter4dDescriptor(big, DSDK_DATA_FLOAT, 6, 2, 9, 3));
  CHECK_STATUS(dsdkGetConvolution2dForwardOutputDim(p.h, p.conv, p.x, big, &n, &c, &h, &w),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "output size");
  dsdkDestroyFilterDescriptor(big);
}

void test_conv_bad_params() {
  Problem p;
  const float one = 1.0f, zero = 0.0f;
  void* wsp = p.workspace.data();
  size_t wsb = p.workspace.size();
  CHECK_OK(p.forward(&one, &zero, DSDK_CONV_ALGO_IMPLICIT_GEMM, wsp, wsb));
  // 4 input channels per group of 2 (3x3, pad 1) with every weight 0.5 and x = 1:
  // the centre pixel sees 2 * 9 * 0.5 = 9.
  CHECK_NEAR(p.ys[0 * 30 + 2 * 5 + 2], 9.0, 1e-5);
  CHECK_NEAR(p.ys[0], 4 * 0.5 * 2, 1e-5);  // corner: 2x2 taps x 2 channels

  CHECK_STATUS(p.forward(nullptr, &zero, DSDK_CONV_ALGO_IMPLICIT_GEMM, wsp, wsb), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "alpha");
  CHECK_STATUS(p.forward(&one, nullptr, DSDK_CONV_ALGO_IMPLICIT_GEMM, wsp, wsb), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "beta");
  CHECK_STATUS(p.forward(&one, &zero, dsdkConvAlgo_t(42), wsp, wsb), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "algo");
  size_t need = 0;
  CHECK_OK(dsdkGetConvolutionWorkspaceSize(p.h, DSDK_CONV_FORWARD, p.x, p.w, p.conv, p.y,
                                           DSDK_CONV_ALGO_IMPLICIT_GEMM, &need));
  if (need > 0) {
    CHECK_STATUS(p.forward(&one, &zero, DSDK_CONV_ALGO_IMPLICIT_GEMM, wsp, need - 1),
                 DSDK_STATUS_BAD_PARAM);
    CHECK_MESSAGE(p.h, "workspaceSizeInBytes");
    CHECK_STATUS(p.forward(&one, &zero, DSDK_CONV_ALGO_IMPLICIT_GEMM, nullptr, wsb),
                 DSDK_STATUS_BAD_PARAM);
    CHECK_MESSAGE(p.h, "workspace");
  }
  auto fwd = [&](dsdkTensorDescriptor_t xd, const void* x, dsdkFilterDescriptor_t wd, const void* w,
                 dsdkConvolutionDescriptor_t cd, dsdkTensorDescriptor_t yd, void* y) {
    return dsdkMaskedConvolutionForward(p.h, &one, xd, x, wd, w, p.mask.data(), cd,
                                        DSDK_CONV_ALGO_IMPLICIT_GEMM, wsp, wsb, &zero, yd, y);
  };
  CHECK_STATUS(fwd(p.x, nullptr, p.w, p.ws.data(), p.conv, p.y, p.ys.data()), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "x is NULL");
  CHECK_STATUS(fwd(p.x, p.xs.data(), p.w, nullptr, p.conv, p.y, p.ys.data()), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "w is NULL");
  CHECK_STATUS(fwd(p.x, p.xs.data(), p.w, p.ws.data(), p.conv, p.y, nullptr), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "y is NULL");
  CHECK_STATUS(fwd(nullptr, p.xs.data(), p.w, p.ws.data(), p.conv, p.y, p.ys.data()), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "xDesc");
  CHECK_STATUS(fwd(p.x, p.xs.data(), nullptr, p.ws.data(), p.conv, p.y, p.ys.data()), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "wDesc");
  CHECK_STATUS(fwd(p.x, p.xs.data(), p.w, p.ws.data(), nullptr, p.y, p.ys.data()), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "convDesc");
  CHECK_STATUS(fwd(p.x, p.xs.data(), p.w, p.ws.data(), p.conv, nullptr, p.ys.data()), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "yDesc");

  dsdkTensorDescriptor_t other;
  CHECK_OK(dsdkCreateTensorDescriptor(&other));
  CHECK_STATUS(fwd(other, p.xs.data(), p.w, p.ws.data(), p.conv, p.y, p.ys.data()), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "not set");
  // Data types differ between x and w.
  CHECK_OK(dsdkSetTensor4dDescriptor(other, DSDK_DATA_DOUBLE, 2, 4, 6, 5));
  CHECK_STATUS(fwd(other, p.xs.data(), p.w, p.ws.data(), p.conv, p.y, p.ys.data()), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "wDesc is float32");
  // ... and between x and y.
  CHECK_STATUS(fwd(p.x, p.xs.data(), p.w, p.ws.data(), p.conv, other, p.ys.data()), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "yDesc");
  // Channels not divisible by groups.
  CHECK_OK(dsdkSetTensor4dDescriptor(other, DSDK_DATA_FLOAT, 2, 5, 6, 5));
  CHECK_STATUS(fwd(other, p.xs.data(), p.w, p.ws.data(), p.conv, p.y, p.ys.data()), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "divisible by groups");
  // Filter channels per group do not match the input.
  CHECK_OK(dsdkSetTensor4dDescriptor(other, DSDK_DATA_FLOAT, 2, 6, 6, 5));
  CHECK_STATUS(fwd(other, p.xs.data(), p.w, p.ws.data(), p.conv, p.y, p.ys.data()), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "input channels per group");
  // Output channels not divisible by groups.
  dsdkFilterDescriptor_t odd;
  CHECK_OK(dsdkCreateFilterDescriptor(&odd));
  CHECK_OK(dsdkSetFilter4dDescriptor(odd, DSDK_DATA_FLOAT, 5, 2, 3, 3));
  CHECK_STATUS(fwd(p.x, p.xs.data(), odd, p.ws.data(), p.conv, p.y, p.ys.data()), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "output channels");
  // y has the wrong shape.
  CHECK_OK(dsdkSetTensor4dDescriptor(other, DSDK_DATA_FLOAT, 2, 6, 5, 5));
  CHECK_STATUS(fwd(p.x, p.xs.data(), p.w, p.ws.data(), p.conv, other, p.ys.data()), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "yDesc is 2x6x5x5");
  // 16-bit types exist only on the CUDA backend.
  dsdkTensorDescriptor_t hx, hy;
  dsdkFilterDescriptor_t hw;
  CHECK_OK(dsdkCreateTensorDescriptor(&hx));
  CHECK_OK(dsdkCreateTensorDescriptor(&hy));
  CHECK_OK(dsdkCreateFilterDescriptor(&hw));
  CHECK_OK(dsdkSetTensor4dDescriptor(hx, DSDK_DATA_HALF, 2, 4, 6, 5));
  CHECK_OK(dsdkSetTensor4dDescriptor(hy, DSDK_DATA_HALF, 2, 6, 6, 5));
  CHECK_OK(dsdkSetFilter4dDescriptor(hw, DSDK_DATA_HALF, 6, 2, 3, 3));
  CHECK_STATUS(fwd(hx, p.xs.data(), hw, p.ws.data(), p.conv, hy, p.ys.data()), DSDK_STATUS_NOT_SUPPORTED);
  CHECK_MESSAGE(p.h, "float16");

  // Backward calls share the validation; spot-check their own argument names.
  CHECK_STATUS(dsdkMaskedConvolutionBackwardData(p.h, &one, p.w, p.ws.data(), p.mask.data(), nullptr,
                                                 p.ys.data(), p.conv, DSDK_CONV_ALGO_IMPLICIT_GEMM,
                                                 wsp, wsb, &zero, p.x, p.xs.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "dyDesc");
  CHECK_STATUS(dsdkMaskedConvolutionBackwardData(p.h, &one, p.w, p.ws.data(), p.mask.data(), p.y,
                                                 p.ys.data(), p.conv, DSDK_CONV_ALGO_IMPLICIT_GEMM,
                                                 wsp, wsb, &zero, p.x, nullptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "dx is NULL");
  CHECK_STATUS(dsdkMaskedConvolutionBackwardFilter(p.h, &one, p.x, p.xs.data(), p.y, p.ys.data(),
                                                   p.conv, DSDK_CONV_ALGO_IMPLICIT_GEMM, wsp, wsb,
                                                   &zero, odd, p.ws.data(), p.mask.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "dwDesc");
  CHECK_STATUS(dsdkMaskedConvolutionBackwardFilter(p.h, &one, p.x, p.xs.data(), p.y, nullptr,
                                                   p.conv, DSDK_CONV_ALGO_IMPLICIT_GEMM, wsp, wsb,
                                                   &zero, p.w, p.ws.data(), p.mask.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "dy is NULL");
  CHECK_STATUS(dsdkMaskedConvolutionForward(nullptr, &one, p.x, p.xs.data(), p.w, p.ws.data(),
                                            nullptr, p.conv, DSDK_CONV_ALGO_IMPLICIT_GEMM, wsp,
                                            wsb, &zero, p.y, p.ys.data()),
               DSDK_STATUS_NOT_INITIALIZED);

  // Workspace query.
  size_t bytes;
  CHECK_STATUS(dsdkGetConvolutionWorkspaceSize(p.h, DSDK_CONV_FORWARD, p.x, p.w, p.conv, p.y,
                                               DSDK_CONV_ALGO_IMPLICIT_GEMM, nullptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "sizeInBytes");
  CHECK_STATUS(dsdkGetConvolutionWorkspaceSize(p.h, dsdkConvDirection_t(5), p.x, p.w, p.conv, p.y,
                                               DSDK_CONV_ALGO_IMPLICIT_GEMM, &bytes),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "direction");
  CHECK_STATUS(dsdkGetConvolutionWorkspaceSize(p.h, DSDK_CONV_FORWARD, p.x, p.w, p.conv, p.y,
                                               dsdkConvAlgo_t(77), &bytes),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "algo");

  dsdkDestroyTensorDescriptor(other);
  dsdkDestroyTensorDescriptor(hx);
  dsdkDestroyTensorDescriptor(hy);
  dsdkDestroyFilterDescriptor(hw);
  dsdkDestroyFilterDescriptor(odd);
}

void test_alpha_beta() {
  Problem p;
  const float one = 1.0f, zero = 0.0f, two = 2.0f, half = 0.5f;
  void* wsp = p.workspace.data();
  size_t wsb = p.workspace.size();
  CHECK_OK(p.forward(&one, &zero, DSDK_CONV_ALGO_IMPLICIT_GEMM, wsp, wsb));
  std::vector<float> ref = p.ys;
  // beta = 0 never reads y: NaN there must not leak into the result.
  std::fill(p.ys.begin(), p.ys.end(), std::numeric_limits<float>::quiet_NaN());
  CHECK_OK(p.forward(&one, &zero, DSDK_CONV_ALGO_IMPLICIT_GEMM, wsp, wsb));
  bool same = true;
  for (size_t i = 0; i < ref.size(); ++i) same &= p.ys[i] == ref[i];
  CHECK(same);
  // y = 2 * conv + 0.5 * y_old with y_old = conv gives 2.5 * conv.
  CHECK_OK(p.forward(&two, &half, DSDK_CONV_ALGO_IMPLICIT_GEMM, wsp, wsb));
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) worst = std::fmax(worst, std::fabs(p.ys[i] - 2.5f * ref[i]));
  CHECK(worst < 1e-4);
}

void test_find() {
  Problem p;
  int count = 0;
  CHECK_OK(dsdkGetConvolutionAlgorithmMaxCount(p.h, &count));
  CHECK(count == DSDK_CONV_ALGO_COUNT);
  CHECK_STATUS(dsdkGetConvolutionAlgorithmMaxCount(p.h, nullptr), DSDK_STATUS_BAD_PARAM);
  CHECK(std::string(dsdkGetConvolutionAlgorithmName(DSDK_CONV_ALGO_IMPLICIT_GEMM)) == "implicit_gemm");
  CHECK(std::string(dsdkGetConvolutionAlgorithmName(dsdkConvAlgo_t(99))) == "unknown");
  std::vector<dsdkConvAlgoPerf_t> perf(count + 2);
  void* wsp = p.workspace.data();
  size_t wsb = p.workspace.size();
  for (int dir = 0; dir < 3; ++dir) {
    int returned = -1;
    CHECK_OK(dsdkFindConvolutionAlgorithm(p.h, dsdkConvDirection_t(dir), p.x, p.xs.data(), p.w,
                                          p.ws.data(), p.mask.data(), p.conv, p.y, p.ys.data(),
                                          int(perf.size()), &returned, perf.data(), wsp, wsb));
    CHECK(returned == count);
    for (int i = 0; i < returned; ++i) {
      // Forward-only algorithms report NOT_SUPPORTED in the backward directions, after
      // every algorithm that ran.
      if (perf[i].status != DSDK_STATUS_SUCCESS) {
        // (SPARSE_TILE has no CPU kernel until h-spconv's branch lands.)
        CHECK((dir != DSDK_CONV_FORWARD || perf[i].algo == DSDK_CONV_ALGO_SPARSE_TILE) &&
              perf[i].status == DSDK_STATUS_NOT_SUPPORTED);
        CHECK(perf[i].algo != DSDK_CONV_ALGO_IMPLICIT_GEMM);
        continue;
      }
      CHECK(perf[i].time >= 0.0f);
      if (i > 0) CHECK(perf[i - 1].status == DSDK_STATUS_SUCCESS && perf[i - 1].time <= perf[i].time);
    }
  }
  // Without a big enough workspace an algorithm that needs one reports ALLOC_FAILED.
  size_t need = 0;
  CHECK_OK(dsdkGetConvolutionWorkspaceSize(p.h, DSDK_CONV_FORWARD, p.x, p.w, p.conv, p.y,
                                           DSDK_CONV_ALGO_IMPLICIT_GEMM, &need));
  int returned = 0;
  CHECK_OK(dsdkFindConvolutionAlgorithm(p.h, DSDK_CONV_FORWARD, p.x, p.xs.data(), p.w, p.ws.data(),
                                        p.mask.data(), p.conv, p.y, p.ys.data(), 1, &returned,
                                        perf.data(), nullptr, 0));
  CHECK(returned == 1);
  CHECK(perf[0].status == (need > 0 ? DSDK_STATUS_ALLOC_FAILED : DSDK_STATUS_SUCCESS));
  CHECK(perf[0].memory == need);

  CHECK_STATUS(dsdkFindConvolutionAlgorithm(p.h, DSDK_CONV_FORWARD, p.x, p.xs.data(), p.w,
                                            p.ws.data(), nullptr, p.conv, p.y, p.ys.data(), 0,
                                            &returned, perf.data(), wsp, wsb),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "requestedCount");
  CHECK_STATUS(dsdkFindConvolutionAlgorithm(p.h, DSDK_CONV_FORWARD, p.x, p.xs.data(), p.w,
                                            p.ws.data(), nullptr, p.conv, p.y, p.ys.data(), 1,
                                            nullptr, perf.data(), wsp, wsb),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "returnedCount");
  CHECK_STATUS(dsdkFindConvolutionAlgorithm(p.h, DSDK_CONV_FORWARD, p.x, p.xs.data(), p.w,
                                            p.ws.data(), nullptr, p.conv, p.y, p.ys.data(), 1,
                                            &returned, nullptr, wsp, wsb),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "perfResults");
  CHECK_STATUS(dsdkFindConvolutionAlgorithm(p.h, dsdkConvDirection_t(3), p.x, p.xs.data(), p.w,
                                            p.ws.data(), nullptr, p.conv, p.y, p.ys.data(), 1,
                                            &returned, perf.data(), wsp, wsb),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "direction");
  CHECK_STATUS(dsdkFindConvolutionAlgorithm(p.h, DSDK_CONV_FORWARD, p.x, nullptr, p.w,
                                            p.ws.data(), nullptr, p.conv, p.y, p.ys.data(), 1,
                                            &returned, perf.data(), wsp, wsb),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(p.h, "x is NULL");
}

void test_empty_batch() {
  Problem p;
  dsdkTensorDescriptor_t x0, y0;
  CHECK_OK(dsdkCreateTensorDescriptor(&x0));
  CHECK_OK(dsdkCreateTensorDescriptor(&y0));
  CHECK_OK(dsdkSetTensor4dDescriptor(x0, DSDK_DATA_FLOAT, 0, 4, 6, 5));
  CHECK_OK(dsdkSetTensor4dDescriptor(y0, DSDK_DATA_FLOAT, 0, 6, 6, 5));
  const float one = 1.0f, zero = 0.0f;
  void* wsp = p.workspace.data();
  size_t wsb = p.workspace.size();
  // An empty batch needs no data pointers for forward and backward-data ...
  CHECK_OK(dsdkMaskedConvolutionForward(p.h, &one, x0, nullptr, p.w, p.ws.data(), nullptr, p.conv,
                                        DSDK_CONV_ALGO_IMPLICIT_GEMM, wsp, wsb, &zero, y0, nullptr));
  // ... and gives a zero weight gradient (beta = 0) even over garbage.
  std::vector<float> dw(p.ws.size(), std::numeric_limits<float>::quiet_NaN());
  CHECK_OK(dsdkMaskedConvolutionBackwardFilter(p.h, &one, x0, nullptr, y0, nullptr, p.conv,
                                               DSDK_CONV_ALGO_IMPLICIT_GEMM, wsp, wsb, &zero, p.w,
                                               dw.data(), nullptr));
  bool zeros = true;
  for (float v : dw) zeros &= v == 0.0f;
  CHECK(zeros);
  dsdkDestroyTensorDescriptor(x0);
  dsdkDestroyTensorDescriptor(y0);
}

}  // namespace

int main() {
  test_handle();
  test_descriptors();
  test_output_dim();
  test_conv_bad_params();
  test_alpha_beta();
  test_find();
  test_empty_batch();
  return check::report("test_api");
}
