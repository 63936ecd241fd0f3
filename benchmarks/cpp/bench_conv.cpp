// Times the CPU masked convolution through the C API on ResNet-18's 3x3 layers.
//   g++ -O3 -fopenmp -Icsrc/include -Icsrc benchmarks/cpp/bench_conv.cpp build/libdsdkern.a -o bench_conv
//   ./bench_conv [threads=2] [reps=10] [dir=f|d|w|all] [sparsity%=0]
// Prints the median and best time per layer and GFLOP/s of the best (dense-equivalent
// FLOPs: 2 * n * k * p * q * c/groups * r * s).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "dsdkern/dsdkern.h"

namespace {

struct Layer {
  int n, c, hw, k, r, pad, stride;
};

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 10;
  const char* dirs = argc > 3 ? argv[3] : "f";
  const int sparsity = argc > 4 ? std::atoi(argv[4]) : 0;
  const Layer layers[] = {
      {1, 64, 56, 64, 3, 1, 1},   {1, 128, 28, 128, 3, 1, 1}, {1, 256, 14, 256, 3, 1, 1},
      {1, 512, 7, 512, 3, 1, 1},  {1, 256, 56, 256, 3, 1, 1}, {8, 64, 56, 64, 3, 1, 1},
      {8, 128, 28, 128, 3, 1, 1}, {8, 256, 14, 256, 3, 1, 1}, {8, 512, 7, 512, 3, 1, 1},
      {8, 256, 56, 256, 3, 1, 1},
  };
  dsdkHandle_t h;
  dsdkCreate(&h, DSDK_BACKEND_CPU);
  dsdkSetNumThreads(h, threads);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  std::printf("threads %d, reps %d, sparsity %d%%\n", threads, reps, sparsity);
  std::printf("%-22s %-4s %10s %10s %9s\n", "layer", "dir", "median_ms", "best_ms", "GFLOP/s");
  for (const Layer& L : layers) {
    const int P = (L.hw + 2 * L.pad - L.r) / L.stride + 1;
    std::vector<float> x(size_t(L.n) * L.c * L.hw * L.hw), w(size_t(L.k) * L.c * L.r * L.r),
        y(size_t(L.n) * L.k * P * P);
    std::vector<uint8_t> mask(w.size());
    std::uniform_int_distribution<int> pct(0, 99);
    for (auto& v : x) v = u(rng);
    for (auto& v : w) v = u(rng);
    for (auto& v : y) v = u(rng);
    for (auto& m : mask) m = pct(rng) >= sparsity;
    dsdkTensorDescriptor_t xD, yD;
    dsdkFilterDescriptor_t wD;
    dsdkConvolutionDescriptor_t cD;
    dsdkCreateTensorDescriptor(&xD);
    dsdkCreateTensorDescriptor(&yD);
    dsdkCreateFilterDescriptor(&wD);
    dsdkCreateConvolutionDescriptor(&cD);
    dsdkSetTensor4dDescriptor(xD, DSDK_DATA_FLOAT, L.n, L.c, L.hw, L.hw);
    dsdkSetTensor4dDescriptor(yD, DSDK_DATA_FLOAT, L.n, L.k, P, P);
    dsdkSetFilter4dDescriptor(wD, DSDK_DATA_FLOAT, L.k, L.c, L.r, L.r);
    dsdkSetConvolution2dDescriptor(cD, L.pad, L.pad, L.stride, L.stride, 1, 1, 1);
    const double flops = 2.0 * L.n * L.k * P * P * double(L.c) * L.r * L.r;
    for (int d = 0; d < 3; ++d) {
      const char tag = "fdw"[d];
      if (std::strcmp(dirs, "all") != 0 && !std::strchr(dirs, tag)) continue;
      size_t bytes = 0;
      dsdkGetConvolutionWorkspaceSize(h, dsdkConvDirection_t(d), xD, wD, cD, yD,
                                      DSDK_CONV_ALGO_IMPLICIT_GEMM, &bytes);
      std::vector<char> ws(bytes);
      const float alpha = 1, beta = 0;
      auto once = [&]() {
        dsdkStatus_t s;
        if (d == 0)
          s = dsdkMaskedConvolutionForward(h, &alpha, xD, x.data(), wD, w.data(),
                                           sparsity ? mask.data() : nullptr, cD,
                                           DSDK_CONV_ALGO_IMPLICIT_GEMM, ws.data(), bytes, &beta,
                                           yD, y.data());
        else if (d == 1)
          s = dsdkMaskedConvolutionBackwardData(h, &alpha, wD, w.data(),
                                                sparsity ? mask.data() : nullptr, yD, y.data(),
                                                cD, DSDK_CONV_ALGO_IMPLICIT_GEMM, ws.data(),
                                                bytes, &beta, xD, x.data());
        else
          s = dsdkMaskedConvolutionBackwardFilter(h, &alpha, xD, x.data(), yD, y.data(), cD,
                                                  DSDK_CONV_ALGO_IMPLICIT_GEMM, ws.data(), bytes,
                                                  &beta, wD, w.data(),
                                                  sparsity ? mask.data() : nullptr);
        if (s != DSDK_STATUS_SUCCESS) {
          std::printf("error: %s\n", dsdkGetLastErrorMessage(h));
          std::exit(1);
        }
      };
      once();
      std::vector<double> t;
      for (int i = 0; i < reps; ++i) {
        const double t0 = now_ms();
        once();
        t.push_back(now_ms() - t0);
      }
      std::sort(t.begin(), t.end());
      char name[64];
      std::snprintf(name, sizeof name, "n%d c%d %dx%d k%d", L.n, L.c, L.hw, L.hw, L.k);
      std::printf("%-22s %-4c %10.3f %10.3f %9.1f\n", name, tag, t[t.size() / 2], t[0],
                  flops / t[0] / 1e6);
      std::fflush(stdout);
    }
    dsdkDestroyTensorDescriptor(xD);
    dsdkDestroyTensorDescriptor(yD);
    dsdkDestroyFilterDescriptor(wD);
    dsdkDestroyConvolutionDescriptor(cD);
  }
  dsdkDestroy(h);
  return 0;
}
