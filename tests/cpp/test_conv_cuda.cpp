// The CUDA masked convolution against the CPU backend, through the public C API:
// forward, backward data and backward filter over strides, unequal padding, dilation,
// groups (depthwise included), non-square kernels, batch 0/1/odd, mask sparsity
// 0/50/90/100 % (and no mask), NCHW / channels_last / gapped strides, beta = 0 over a
// NaN output and beta != 0, forward with and without a bias (the bias entry), in float,
// double, half and bfloat16. The reference runs on
// packed NCHW copies (float for the 16-bit types, fed the same rounded inputs), so a
// layout bug cannot hide behind the same bug in the reference. Elements of a strided
// output that are not part of the tensor must come back untouched.
// Without a GPU the test checks that creating a CUDA handle fails cleanly, then reports a
// skip (exit 77); with a GPU, a CUDA handle that cannot be created fails the test.
#include <cstdio>

#ifndef DSDK_WITH_CUDA
#include "check.h"

int main() { check::cuda_handle_or_skip("test_conv_cuda"); }
#else
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdlib>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "check.h"
#include "cuda_buffers.h"
#include "cuda_dtypes.h"
#include "dsdkern/dsdkern.h"

namespace {

struct Case {
  int n, c, h, w, k, r, s, pad_h, pad_w, stride_h, stride_w, dil_h, dil_w, groups;
};

const Case kCases[] = {
    // n  c   h   w   k  r  s  ph pw sh sw dh dw  g
    {2, 3, 9, 11, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1},     // 3x3 "same"
    {3, 8, 13, 10, 12, 2, 5, 0, 2, 2, 1, 1, 1, 2},   // non-square kernel, unequal pad/stride, groups
    {1, 6, 12, 12, 6, 3, 3, 2, 1, 1, 2, 2, 1, 3},    // dilation, batch 1
    {2, 16, 10, 9, 16, 3, 3, 1, 1, 2, 2, 1, 1, 16},  // depthwise, stride 2
    {2, 8, 7, 8, 16, 5, 5, 2, 2, 1, 1, 1, 1, 8},     // depthwise, channel multiplier 2, 5x5
    {5, 70, 7, 7, 66, 1, 1, 0, 0, 1, 1, 1, 1, 1},    // 1x1, k and c just past a 64 tile
    {2, 32, 20, 20, 80, 3, 3, 1, 1, 1, 1, 1, 1, 1},  // several tiles each way, split reduction
    {7, 4, 16, 16, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1},    // long reduction, tiny filter
    {2, 5, 11, 9, 7, 1, 4, 1, 0, 3, 2, 1, 2, 1},     // 1x4 kernel, dilation, stride 3x2
    {1, 3, 5, 6, 4, 2, 2, 3, 3, 1, 1, 1, 1, 1},      // padding wider than the kernel
    {0, 8, 6, 6, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1},      // empty batch
    {3, 96, 6, 5, 72, 3, 2, 1, 0, 1, 1, 1, 1, 1},    // long c*r*s, non-square
    {1, 40, 9, 9, 40, 3, 3, 1, 1, 2, 2, 2, 2, 2},    // groups of 20 channels, stride + dilation
};

const dsdkDataType_t kTypes[] = {DSDK_DATA_FLOAT, DSDK_DATA_DOUBLE, DSDK_DATA_HALF,
                                 DSDK_DATA_BFLOAT16};
const char* kDirNames[] = {"forward", "backward-data", "backward-filter"};
enum Layout { kNCHW, kChannelsLast, kGapped, kLayouts };
const char* kLayoutNames[] = {"NCHW", "channels_last", "gapped"};
enum MaskMode { kNoMask, kMask0, kMask50, kMask90, kMask100, kMaskModes };
const char* kMaskNames[] = {"no mask", "0% pruned", "50% pruned", "90% pruned", "100% pruned"};

using dtypes::decode;
using dtypes::elem_size;
using dtypes::encode;
using dtypes::round_to;

// Error bound per element: rtol * |ref| + atol * (largest |ref| of the tensor). The
// 16-bit types store a float-accumulated result, so their rtol is the rounding step.
void tolerance(dsdkDataType_t t, double* rtol, double* atol) {
  switch (t) {
    case DSDK_DATA_FLOAT: *rtol = 1e-5; *atol = 1e-5; return;
    case DSDK_DATA_DOUBLE: *rtol = 1e-12; *atol = 1e-12; return;
    case DSDK_DATA_HALF: *rtol = 1e-3; *atol = 1e-4; return;
    case DSDK_DATA_BFLOAT16: *rtol = 8e-3; *atol = 1e-4; return;
  }
}

// A 4-d tensor's index space and element strides.
struct Geom {
  int n, c, h, w;
  int64_t ns, cs, hs, ws;
  int64_t count() const { return int64_t(n) * c * h * w; }
  int64_t offset(int i, int j, int y, int x) const { return i * ns + j * cs + y * hs + x * ws; }
  // Elements of storage the strides span (0 for an empty batch).
  int64_t storage() const { return n == 0 ? 0 : offset(n - 1, c - 1, h - 1, w - 1) + 1; }
};

Geom make_geom(Layout l, int n, int c, int h, int w) {
  switch (l) {
    case kChannelsLast: return {n, c, h, w, int64_t(h) * w * c, 1, int64_t(w) * c, c};
    case kGapped: {  // every other column, padded rows, channels and images
      const int64_t ws = 2, hs = 2 * int64_t(w) + 3, cs = h * hs + 5, ns = c * cs + 7;
      return {n, c, h, w, ns, cs, hs, ws};
    }
    default: return {n, c, h, w, int64_t(c) * h * w, int64_t(h) * w, w, 1};
  }
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

// Runs one direction with Find's buffer roles: x, w, y are the forward problem's buffers
// (backward data writes x from y; backward filter writes w from x and y). A forward
// call with a bias goes through the bias entry.
dsdkStatus_t run_direction(dsdkHandle_t h, dsdkConvDirection_t dir, const Descriptors& d,
                           void* x, void* w, const uint8_t* mask, void* y, void* ws,
                           size_t ws_bytes, const void* alpha, const void* beta,
                           const void* bias = nullptr) {
  const dsdkConvAlgo_t algo = DSDK_CONV_ALGO_IMPLICIT_GEMM;
  switch (dir) {
    case DSDK_CONV_FORWARD:
      if (bias)
        return dsdkMaskedConvolutionBiasForward(h, alpha, d.x, x, d.w, w, mask, d.conv, algo, ws,
                                                ws_bytes, beta, bias, d.y, y);
      return dsdkMaskedConvolutionForward(h, alpha, d.x, x, d.w, w, mask, d.conv, algo, ws,
                                          ws_bytes, beta, d.y, y);
    case DSDK_CONV_BACKWARD_DATA:
      return dsdkMaskedConvolutionBackwardData(h, alpha, d.w, w, mask, d.y, y, d.conv, algo, ws,
                                               ws_bytes, beta, d.x, x);
    case DSDK_CONV_BACKWARD_FILTER:
      return dsdkMaskedConvolutionBackwardFilter(h, alpha, d.x, x, d.y, y, d.conv, algo, ws,
                                                 ws_bytes, beta, d.w, w, mask);
  }
  return DSDK_STATUS_BAD_PARAM;
}

// Host storage of one tensor in `t` with geometry `g`; bytes outside the tensor hold a
// fixed pattern.
std::vector<unsigned char> pack(dsdkDataType_t t, const Geom& g, const std::vector<double>& v) {
  const size_t es = elem_size(t);
  std::vector<unsigned char> out(size_t(g.storage()) * es, 0x5A);
  int64_t i = 0;
  for (int a = 0; a < g.n; ++a)
    for (int b = 0; b < g.c; ++b)
      for (int y = 0; y < g.h; ++y)
        for (int x = 0; x < g.w; ++x) encode(t, v[size_t(i++)], &out[size_t(g.offset(a, b, y, x)) * es]);
  return out;
}

std::vector<double> unpack(dsdkDataType_t t, const Geom& g, const std::vector<unsigned char>& s) {
  const size_t es = elem_size(t);
  std::vector<double> v;
  v.reserve(size_t(g.count()));
  for (int a = 0; a < g.n; ++a)
    for (int b = 0; b < g.c; ++b)
      for (int y = 0; y < g.h; ++y)
        for (int x = 0; x < g.w; ++x) v.push_back(decode(t, &s[size_t(g.offset(a, b, y, x)) * es]));
  return v;
}

struct Handles {
  dsdkHandle_t cpu, gpu;
};

void run_case(const Handles& hs, int case_index, dsdkDataType_t t, dsdkConvDirection_t dir,
              Layout layout, MaskMode mm, bool beta_nonzero, bool bias, cudaStream_t stream) {
  const Case& cs = kCases[case_index];
  const int p = (cs.h + 2 * cs.pad_h - cs.dil_h * (cs.r - 1) - 1) / cs.stride_h + 1;
  const int q = (cs.w + 2 * cs.pad_w - cs.dil_w * (cs.s - 1) - 1) / cs.stride_w + 1;
  const int cg = cs.c / cs.groups;
  const Geom xg = make_geom(layout, cs.n, cs.c, cs.h, cs.w);
  const Geom yg = make_geom(layout, cs.n, cs.k, p, q);
  const Geom wg = make_geom(kNCHW, cs.k, cg, cs.r, cs.s);  // filters are always packed KCRS
  const Geom xr = make_geom(kNCHW, cs.n, cs.c, cs.h, cs.w), yr = make_geom(kNCHW, cs.n, cs.k, p, q);
  const Geom* geo[3] = {&xg, &wg, &yg};      // roles: 0 = x, 1 = w, 2 = y
  const Geom* ref_geo[3] = {&xr, &wg, &yr};
  const int out = dir == DSDK_CONV_FORWARD ? 2 : dir == DSDK_CONV_BACKWARD_DATA ? 0 : 1;

  std::mt19937_64 rng(uint64_t(case_index) * 1000003u + uint64_t(t) * 7919u + uint64_t(dir) * 131u +
                      uint64_t(layout) * 17u + uint64_t(mm) * 3u + (beta_nonzero ? 1u : 0u));
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  std::vector<double> vals[3];
  for (int role = 0; role < 3; ++role) {
    vals[role].resize(size_t(geo[role]->count()));
    for (double& v : vals[role])
      v = role == out && !beta_nonzero ? std::numeric_limits<double>::quiet_NaN()
                                       : round_to(t, uni(rng));
  }
  std::vector<uint8_t> mask(size_t(wg.count()), 1);
  const double keep = mm == kMask50 ? 0.5 : mm == kMask90 ? 0.1 : mm == kMask100 ? 0.0 : 1.0;
  std::bernoulli_distribution kept(keep);
  for (auto& m : mask) m = kept(rng) ? uint8_t(1 + rng() % 255) : 0;  // any non-zero keeps
  const uint8_t* host_mask = mm == kNoMask ? nullptr : mask.data();
  std::vector<double> bias_vals(bias ? cs.k : 0);
  for (double& v : bias_vals) v = round_to(t, 4 * uni(rng));
  const Geom bg = make_geom(kNCHW, 1, cs.k, 1, 1);

  const double alpha = beta_nonzero ? 0.75 : 1.25, beta = beta_nonzero ? -0.5 : 0.0;
  const float alpha_f = float(alpha), beta_f = float(beta);
  const void* alpha_p = t == DSDK_DATA_DOUBLE ? static_cast<const void*>(&alpha) : &alpha_f;
  const void* beta_p = t == DSDK_DATA_DOUBLE ? static_cast<const void*>(&beta) : &beta_f;

  char what[256];
  std::snprintf(what, sizeof what, "case %d, %s, %s, %s, %s, beta %g%s", case_index,
                kDirNames[dir], dtypes::name(t),
                kLayoutNames[layout], kMaskNames[mm], beta, bias ? ", bias" : "");

  // Reference: CPU backend, packed NCHW, float for the 16-bit types.
  const dsdkDataType_t rt = t == DSDK_DATA_DOUBLE ? DSDK_DATA_DOUBLE : DSDK_DATA_FLOAT;
  std::vector<double> ref;
  {
    std::vector<unsigned char> buf[3];
    for (int role = 0; role < 3; ++role) buf[role] = pack(rt, *ref_geo[role], vals[role]);
    for (auto& b : buf) b.resize(std::max<size_t>(b.size(), 8));
    Descriptors d(cs, rt, xr, yr);
    const void* ra = rt == DSDK_DATA_DOUBLE ? static_cast<const void*>(&alpha) : &alpha_f;
    const void* rb = rt == DSDK_DATA_DOUBLE ? static_cast<const void*>(&beta) : &beta_f;
    size_t ws_bytes = 0;
    CHECK_OK(dsdkGetConvolutionWorkspaceSize(hs.cpu, dir, d.x, d.w, d.conv, d.y,
                                             DSDK_CONV_ALGO_IMPLICIT_GEMM, &ws_bytes));
    std::vector<unsigned char> ws(std::max<size_t>(ws_bytes, 1));
    const std::vector<unsigned char> rbias =
        bias ? pack(rt, bg, bias_vals) : std::vector<unsigned char>();
    const dsdkStatus_t st = run_direction(hs.cpu, dir, d, buf[0].data(), buf[1].data(), host_mask,
                                          buf[2].data(), ws.data(), ws_bytes, ra, rb,
                                          bias ? rbias.data() : nullptr);
    if (st != DSDK_STATUS_SUCCESS) {
      std::printf("%s: CPU reference failed: %s\n", what, dsdkGetLastErrorMessage(hs.cpu));
      ++check::failures();
      return;
    }
    ref = unpack(rt, *ref_geo[out], buf[out]);
  }

  // CUDA backend on the strided layout.
  std::vector<unsigned char> host[3];
  DeviceBuffer dev[3], dmask, dws, dbias;
  if (bias) {
    const std::vector<unsigned char> hb = pack(t, bg, bias_vals);
    CUDA_OK(dbias.upload(hb.data(), hb.size()));
  }
  for (int role = 0; role < 3; ++role) {
    host[role] = pack(t, *geo[role], vals[role]);
    CUDA_OK(dev[role].alloc(host[role].size()));
    CUDA_OK(cudaMemcpy(dev[role].ptr, host[role].data(), host[role].size(), cudaMemcpyHostToDevice));
  }
  CUDA_OK(dmask.alloc(mask.size()));
  CUDA_OK(cudaMemcpy(dmask.ptr, mask.data(), mask.size(), cudaMemcpyHostToDevice));
  Descriptors d(cs, t, xg, yg);
  size_t ws_bytes = 0;
  CHECK_OK(dsdkGetConvolutionWorkspaceSize(hs.gpu, dir, d.x, d.w, d.conv, d.y,
                                           DSDK_CONV_ALGO_IMPLICIT_GEMM, &ws_bytes));
  if (ws_bytes > 0) CUDA_OK(dws.alloc(ws_bytes));
  CHECK_OK(dsdkSetStream(hs.gpu, stream));
  const dsdkStatus_t st = run_direction(hs.gpu, dir, d, dev[0].ptr, dev[1].ptr,
                                        host_mask ? static_cast<const uint8_t*>(dmask.ptr) : nullptr,
                                        dev[2].ptr, dws.ptr, ws_bytes, alpha_p, beta_p,
                                        dbias.ptr);
  if (st != DSDK_STATUS_SUCCESS) {
    std::printf("%s: CUDA backend failed: %s\n", what, dsdkGetLastErrorMessage(hs.gpu));
    ++check::failures();
    return;
  }
  CUDA_OK(cudaStreamSynchronize(stream));
  std::vector<unsigned char> got_bytes(host[out].size());
  CUDA_OK(cudaMemcpy(got_bytes.data(), dev[out].ptr, got_bytes.size(), cudaMemcpyDeviceToHost));
  const std::vector<double> got = unpack(t, *geo[out], got_bytes);

  double rtol, atol;
  tolerance(t, &rtol, &atol);
  double scale = 1e-3;
  for (double v : ref) scale = std::max(scale, std::fabs(v));
  int64_t bad = 0, first = -1;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double err = std::fabs(got[i] - ref[i]);
    if (!(err <= rtol * std::fabs(ref[i]) + atol * scale)) {  // NaN fails too
      if (first < 0) first = int64_t(i);
      ++bad;
    }
  }
  if (bad > 0) {
    std::printf("%s: %lld of %zu elements differ; first at %lld: got %.9g, reference %.9g\n", what,
                static_cast<long long>(bad), ref.size(), static_cast<long long>(first),
                got[size_t(first)], ref[size_t(first)]);
    ++check::failures();
  }
  // Storage between the output's elements is untouched.
  const Geom& og = *geo[out];
  const size_t es = elem_size(t);
  std::vector<char> in_tensor(size_t(og.storage()), 0);
  for (int a = 0; a < og.n; ++a)
    for (int b = 0; b < og.c; ++b)
      for (int y = 0; y < og.h; ++y)
        for (int x = 0; x < og.w; ++x) in_tensor[size_t(og.offset(a, b, y, x))] = 1;
  for (size_t e = 0; e < in_tensor.size(); ++e)
    if (!in_tensor[e] && std::memcmp(&got_bytes[e * es], &host[out][e * es], es) != 0) {
      std::printf("%s: storage element %zu between the output's elements was overwritten\n",
                  what, e);
      ++check::failures();
      break;
    }
}

// Paths around the kernels: a misaligned 16-bit pointer is refused by name, the filter
// gradient's workspace is required, and Find runs and times every direction.
void check_api_paths(const Handles& hs) {
  const Case& cs = kCases[6];
  const int p = cs.h, q = cs.w;  // 3x3, pad 1, stride 1
  const Geom xg = make_geom(kNCHW, cs.n, cs.c, cs.h, cs.w), yg = make_geom(kNCHW, cs.n, cs.k, p, q);
  const size_t wcount = size_t(cs.k) * cs.c * cs.r * cs.s;
  DeviceBuffer x, w, y, ws;
  CUDA_OK(x.alloc(size_t(xg.storage()) * 8 + 8));
  CUDA_OK(y.alloc(size_t(yg.storage()) * 8 + 8));
  CUDA_OK(w.alloc(wcount * 8 + 8));
  CUDA_OK(cudaMemset(x.ptr, 0, size_t(xg.storage()) * 8 + 8));
  CUDA_OK(cudaMemset(y.ptr, 0, size_t(yg.storage()) * 8 + 8));
  CUDA_OK(cudaMemset(w.ptr, 0, wcount * 8 + 8));
  CHECK_OK(dsdkSetStream(hs.gpu, nullptr));
  const float one = 1.0f, zero = 0.0f;

  {
    Descriptors d(cs, DSDK_DATA_HALF, xg, yg);
    void* odd = static_cast<char*>(x.ptr) + 1;
    CHECK_STATUS(run_direction(hs.gpu, DSDK_CONV_FORWARD, d, odd, w.ptr, nullptr, y.ptr, nullptr, 0,
                               &one, &zero),
                 DSDK_STATUS_BAD_PARAM);
    CHECK_MESSAGE(hs.gpu, "x is not aligned");
  }
  for (dsdkDataType_t t : kTypes) {
    Descriptors d(cs, t, xg, yg);
    const double one_d = 1.0, zero_d = 0.0;
    const void* a = t == DSDK_DATA_DOUBLE ? static_cast<const void*>(&one_d) : &one;
    const void* b = t == DSDK_DATA_DOUBLE ? static_cast<const void*>(&zero_d) : &zero;
    size_t need = 0;
    CHECK_OK(dsdkGetConvolutionWorkspaceSize(hs.gpu, DSDK_CONV_BACKWARD_FILTER, d.x, d.w, d.conv,
                                             d.y, DSDK_CONV_ALGO_IMPLICIT_GEMM, &need));
    CHECK(need > 0);  // partial sums of the split reduction
    CUDA_OK(ws.alloc(need));
    CHECK_STATUS(run_direction(hs.gpu, DSDK_CONV_BACKWARD_FILTER, d, x.ptr, w.ptr, nullptr, y.ptr,
                               ws.ptr, need - 1, a, b),
                 DSDK_STATUS_BAD_PARAM);
    for (int dir = 0; dir < 3; ++dir) {
      dsdkConvAlgoPerf_t perf[DSDK_CONV_ALGO_COUNT];
      int returned = 0;
      CHECK_OK(dsdkFindConvolutionAlgorithm(hs.gpu, dsdkConvDirection_t(dir), d.x, x.ptr, d.w, w.ptr,
                                            nullptr, d.conv, d.y, y.ptr, DSDK_CONV_ALGO_COUNT,
                                            &returned, perf, ws.ptr, need));
      CHECK(returned == DSDK_CONV_ALGO_COUNT);
      CHECK(returned > 0 && perf[0].status == DSDK_STATUS_SUCCESS && perf[0].time >= 0.0f);
    }
  }
}

}  // namespace

int main() {
  Handles hs{nullptr, check::cuda_handle_or_skip("test_conv_cuda")};
  CHECK_OK(dsdkCreate(&hs.cpu, DSDK_BACKEND_CPU));
  cudaStream_t stream = nullptr;
  if (cudaStreamCreate(&stream) != cudaSuccess) {
    std::printf("cudaStreamCreate failed\n");
    return 1;
  }

  // DSDK_TEST_QUICK=1 keeps every 7th combination (for compute-sanitizer runs).
  const int keep_every = std::getenv("DSDK_TEST_QUICK") ? 7 : 1;
  int combination = 0;
  const int num_cases = int(sizeof(kCases) / sizeof(kCases[0]));
  for (int ci = 0; ci < num_cases; ++ci)
    for (dsdkDataType_t t : kTypes)
      for (int dir = 0; dir < 3; ++dir)
        for (int mm = 0; mm < kMaskModes; ++mm)
          for (int b = 0; b < 2; ++b) {
            if (combination++ % keep_every != 0) continue;
            const int i = mm * 2 + b;
            // Layouts and streams (created / legacy default) rotate over the combinations;
            // half the mask modes of each forward case add a bias.
            run_case(hs, ci, t, dsdkConvDirection_t(dir), Layout((i + ci) % kLayouts),
                     MaskMode(mm), b == 1, dir == DSDK_CONV_FORWARD && (mm + ci) % 2 == 1,
                     (i + ci + dir) % 2 ? nullptr : stream);
          }
  check_api_paths(hs);

  cudaStreamDestroy(stream);
  dsdkDestroy(hs.cpu);
  dsdkDestroy(hs.gpu);
  return check::report("test_conv_cuda");
}
#endif  // DSDK_WITH_CUDA
