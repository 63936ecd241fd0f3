// Times the CUDA sparse convolutions through the C API: the direct sparse and the
// im2col-tile forms from a packed device filter (dsdkSparseConvolutionForward), or the
// dense masked implicit GEMM (algo 0). Uniform random masks with an exact kept count.
//   build/gpu/bench_sparse_cuda serve
// reads lines
//   conv n c hw k stride sparsity% algo dtype reps   (3x3, pad 1; algo = dsdkConvAlgo_t,
//                                                     dtype = dsdkDataType_t)
// and answers each with "median_ms best_ms" of `reps` runs timed with CUDA events after
// one warm-up; benchmarks/cpp/sparse_cuda_vs_cudnn.py drives it against torch (cuDNN).
#include <cstdio>
#include <cstdlib>

#ifndef DSDK_WITH_CUDA
int main() {
  std::fprintf(stderr, "bench_sparse_cuda: built without the CUDA backend\n");
  return 1;
}
#else
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "dsdkern/dsdkern.h"

namespace {

void ok(dsdkHandle_t h, dsdkStatus_t s) {
  if (s != DSDK_STATUS_SUCCESS) {
    std::fprintf(stderr, "error: %s\n", dsdkGetLastErrorMessage(h));
    std::exit(1);
  }
}

void cuda_ok(cudaError_t e) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "CUDA error: %s\n", cudaGetErrorString(e));
    std::exit(1);
  }
}

// n values uniform in [-1, 1) stored as dsdkDataType_t t, on the device.
void* device_uniform(size_t n, dsdkDataType_t t, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1, 1);
  const size_t es = t == DSDK_DATA_DOUBLE ? 8 : t == DSDK_DATA_FLOAT ? 4 : 2;
  std::vector<unsigned char> host(n * es);
  for (size_t i = 0; i < n; ++i) {
    const float f = u(rng);
    unsigned char* d = &host[i * es];
    if (t == DSDK_DATA_DOUBLE) { const double v = f; std::memcpy(d, &v, 8); }
    else if (t == DSDK_DATA_FLOAT) std::memcpy(d, &f, 4);
    else if (t == DSDK_DATA_HALF) { const __half v = __float2half_rn(f); std::memcpy(d, &v, 2); }
    else { const __nv_bfloat16 v = __float2bfloat16_rn(f); std::memcpy(d, &v, 2); }
  }
  void* p = nullptr;
  cuda_ok(cudaMalloc(&p, std::max<size_t>(host.size(), 1)));
  cuda_ok(cudaMemcpy(p, host.data(), host.size(), cudaMemcpyHostToDevice));
  return p;
}

// Exactly round(n * sparsity%) entries pruned, at random places.
void* device_mask(size_t n, int sparsity, std::mt19937& rng) {
  std::vector<uint8_t> m(n, 1);
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), size_t(0));
  std::shuffle(idx.begin(), idx.end(), rng);
  for (size_t i = 0; i < n * size_t(sparsity) / 100; ++i) m[idx[i]] = 0;
  void* p = nullptr;
  cuda_ok(cudaMalloc(&p, n));
  cuda_ok(cudaMemcpy(p, m.data(), n, cudaMemcpyHostToDevice));
  return p;
}

template <class F>
void report(F&& once, int reps) {
  cudaEvent_t a, b;
  cuda_ok(cudaEventCreate(&a));
  cuda_ok(cudaEventCreate(&b));
  once();
  std::vector<float> t;
  for (int i = 0; i < reps; ++i) {
    cuda_ok(cudaEventRecord(a));
    once();
    cuda_ok(cudaEventRecord(b));
    cuda_ok(cudaEventSynchronize(b));
    float ms = 0;
    cuda_ok(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms);
  }
  std::sort(t.begin(), t.end());
  std::printf("%.4f %.4f\n", t[t.size() / 2], t[0]);
  std::fflush(stdout);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
}

void conv(dsdkHandle_t h, int n, int c, int hw, int k, int stride, int sparsity, int algo_id,
          int dtype, int reps) {
  const dsdkDataType_t t = dsdkDataType_t(dtype);
  const dsdkConvAlgo_t algo = dsdkConvAlgo_t(algo_id);
  std::mt19937 rng(1234);
  const int out = (hw + 2 - 3) / stride + 1;
  dsdkTensorDescriptor_t xd, yd;
  dsdkFilterDescriptor_t wd;
  dsdkConvolutionDescriptor_t cd;
  dsdkCreateTensorDescriptor(&xd);
  dsdkCreateTensorDescriptor(&yd);
  dsdkCreateFilterDescriptor(&wd);
  dsdkCreateConvolutionDescriptor(&cd);
  ok(h, dsdkSetTensor4dDescriptor(xd, t, n, c, hw, hw));
  ok(h, dsdkSetTensor4dDescriptor(yd, t, n, k, out, out));
  ok(h, dsdkSetFilter4dDescriptor(wd, t, k, c, 3, 3));
  ok(h, dsdkSetConvolution2dDescriptor(cd, 1, 1, stride, stride, 1, 1, 1));
  void* x = device_uniform(size_t(n) * c * hw * hw, t, rng);
  void* w = device_uniform(size_t(k) * c * 9, t, rng);
  void* y = device_uniform(size_t(n) * k * out * out, t, rng);
  const uint8_t* mask = static_cast<const uint8_t*>(device_mask(size_t(k) * c * 9, sparsity, rng));
  const float one = 1, zero = 0;
  const double one_d = 1, zero_d = 0;
  const void* alpha = t == DSDK_DATA_DOUBLE ? static_cast<const void*>(&one_d) : &one;
  const void* beta = t == DSDK_DATA_DOUBLE ? static_cast<const void*>(&zero_d) : &zero;
  size_t bytes = 0;
  void* ws = nullptr;
  if (algo == DSDK_CONV_ALGO_IMPLICIT_GEMM) {
    ok(h, dsdkGetConvolutionWorkspaceSize(h, DSDK_CONV_FORWARD, xd, wd, cd, yd, algo, &bytes));
    if (bytes) cuda_ok(cudaMalloc(&ws, bytes));
    report([&] {
      ok(h, dsdkMaskedConvolutionForward(h, alpha, xd, x, wd, w, mask, cd, algo, ws, bytes, beta,
                                         yd, y));
    }, reps);
  } else {
    dsdkSparseFilter_t f = nullptr;
    ok(h, dsdkCreateSparseFilter(h, &f, wd, w, mask, cd));
    ok(h, dsdkGetSparseConvolutionForwardWorkspaceSize(h, xd, f, cd, yd, algo, &bytes));
    if (bytes) cuda_ok(cudaMalloc(&ws, bytes));
    report([&] {
      ok(h, dsdkSparseConvolutionForward(h, alpha, xd, x, f, cd, algo, ws, bytes, beta, yd, y));
    }, reps);
    dsdkDestroySparseFilter(f);
  }
  cudaFree(ws);
  cudaFree(x);
  cudaFree(w);
  cudaFree(y);
  cudaFree(const_cast<uint8_t*>(mask));
  dsdkDestroyTensorDescriptor(xd);
  dsdkDestroyTensorDescriptor(yd);
  dsdkDestroyFilterDescriptor(wd);
  dsdkDestroyConvolutionDescriptor(cd);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "serve") != 0) {
    std::fprintf(stderr, "usage: %s serve   (then lines on stdin, see the source)\n", argv[0]);
    return 2;
  }
  dsdkHandle_t h = nullptr;
  if (dsdkCreate(&h, DSDK_BACKEND_CUDA) != DSDK_STATUS_SUCCESS) {
    std::fprintf(stderr, "no CUDA handle: %s\n", h ? dsdkGetLastErrorMessage(h) : "");
    return 1;
  }
  char line[256];
  while (std::fgets(line, sizeof line, stdin)) {
    char what[16];
    int n, c, hw, k, stride, sp, algo, dtype, reps;
    if (std::sscanf(line, "%15s %d %d %d %d %d %d %d %d %d", what, &n, &c, &hw, &k, &stride, &sp,
                    &algo, &dtype, &reps) == 10 &&
        std::strcmp(what, "conv") == 0) {
      conv(h, n, c, hw, k, stride, sp, algo, dtype, reps);
    } else {
      std::fprintf(stderr, "bad request: %s", line);
      return 2;
    }
  }
  dsdkDestroy(h);
  return 0;
}
#endif
