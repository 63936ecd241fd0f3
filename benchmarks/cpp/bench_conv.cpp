// Times the CPU masked convolution through the C API on ResNet-18's 3x3 layers
// (pad 1, stride 1, float32, NCHW).
//   g++ -O3 -fopenmp -Icsrc/include -Icsrc benchmarks/cpp/bench_conv.cpp build/libdsdkern.a -o build/bench_conv
//   (or: cmake -S . -B build && cmake --build build, which builds it too)
//   build/bench_conv [threads=2] [reps=10] [dir=f|d|w|all] [sparsity%=0]
// prints the median and best time per layer and the GFLOP/s of the best (dense-equivalent
// FLOPs: 2 * n * k * p * q * c * r * s).
//   build/bench_conv serve
// reads lines "n c hw k dir reps threads" and answers each with the best of `reps` timed
// runs in ms (after one warm-up run); compare_torch.py drives it.
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
  int n, c, hw, k;
};

const Layer kLayers[] = {
    {1, 64, 56, 64}, {1, 128, 28, 128}, {1, 256, 14, 256}, {1, 512, 7, 512}, {1, 256, 56, 256},
    {8, 64, 56, 64}, {8, 128, 28, 128}, {8, 256, 14, 256}, {8, 512, 7, 512}, {8, 256, 56, 256},
};

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Sorted wall times (ms) of `reps` runs of one direction (0 fwd, 1 bwd data, 2 bwd filter).
std::vector<double> time_layer(dsdkHandle_t h, const Layer& L, int dir, int reps, int sparsity,
                               std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1, 1);
  std::uniform_int_distribution<int> pct(0, 99);
  std::vector<float> x(size_t(L.n) * L.c * L.hw * L.hw), w(size_t(L.k) * L.c * 9),
      y(size_t(L.n) * L.k * L.hw * L.hw);
  std::vector<uint8_t> mask(w.size());
  for (auto& v : x) v = u(rng);
  for (auto& v : w) v = u(rng);
  for (auto& v : y) v = u(rng);
  for (auto& m : mask) m = pct(rng) >= sparsity;
  const uint8_t* mp = sparsity ? mask.data() : nullptr;
  dsdkTensorDescriptor_t xD, yD;
  dsdkFilterDescriptor_t wD;
  dsdkConvolutionDescriptor_t cD;
  dsdkCreateTensorDescriptor(&xD);
  dsdkCreateTensorDescriptor(&yD);
  dsdkCreateFilterDescriptor(&wD);
  dsdkCreateConvolutionDescriptor(&cD);
  dsdkSetTensor4dDescriptor(xD, DSDK_DATA_FLOAT, L.n, L.c, L.hw, L.hw);
  dsdkSetTensor4dDescriptor(yD, DSDK_DATA_FLOAT, L.n, L.k, L.hw, L.hw);
  dsdkSetFilter4dDescriptor(wD, DSDK_DATA_FLOAT, L.k, L.c, 3, 3);
  dsdkSetConvolution2dDescriptor(cD, 1, 1, 1, 1, 1, 1, 1);
  size_t bytes = 0;
  dsdkGetConvolutionWorkspaceSize(h, dsdkConvDirection_t(dir), xD, wD, cD, yD,
                                  DSDK_CONV_ALGO_IMPLICIT_GEMM, &bytes);
  std::vector<char> ws(bytes);
  const float alpha = 1, beta = 0;
  const dsdkConvAlgo_t algo = DSDK_CONV_ALGO_IMPLICIT_GEMM;
  auto once = [&]() {
    dsdkStatus_t s =
        dir == 0 ? dsdkMaskedConvolutionForward(h, &alpha, xD, x.data(), wD, w.data(), mp, cD,
                                                algo, ws.data(), bytes, &beta, yD, y.data())
        : dir == 1
            ? dsdkMaskedConvolutionBackwardData(h, &alpha, wD, w.data(), mp, yD, y.data(), cD,
                                                algo, ws.data(), bytes, &beta, xD, x.data())
            : dsdkMaskedConvolutionBackwardFilter(h, &alpha, xD, x.data(), yD, y.data(), cD,
                                                  algo, ws.data(), bytes, &beta, wD, w.data(),
                                                  mp);
    if (s != DSDK_STATUS_SUCCESS) {
      std::fprintf(stderr, "error: %s\n", dsdkGetLastErrorMessage(h));
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
  dsdkDestroyTensorDescriptor(xD);
  dsdkDestroyTensorDescriptor(yD);
  dsdkDestroyFilterDescriptor(wD);
  dsdkDestroyConvolutionDescriptor(cD);
  return t;
}

int serve(dsdkHandle_t h) {
  std::mt19937 rng(1);
  Layer L;
  int dir, reps, threads;
  while (std::scanf("%d %d %d %d %d %d %d", &L.n, &L.c, &L.hw, &L.k, &dir, &reps, &threads) ==
         7) {
    dsdkSetNumThreads(h, threads);
    std::printf("%.4f\n", time_layer(h, L, dir, std::max(reps, 1), 0, rng)[0]);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  dsdkHandle_t h;
  dsdkCreate(&h, DSDK_BACKEND_CPU);
  if (argc > 1 && std::strcmp(argv[1], "serve") == 0) {
    const int rc = serve(h);
    dsdkDestroy(h);
    return rc;
  }
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 10;
  const char* dirs = argc > 3 ? argv[3] : "f";
  const int sparsity = argc > 4 ? std::atoi(argv[4]) : 0;
  dsdkSetNumThreads(h, threads);
  std::mt19937 rng(1);
  std::printf("threads %d, reps %d, sparsity %d%%\n", threads, reps, sparsity);
  std::printf("%-22s %-4s %10s %10s %9s\n", "layer", "dir", "median_ms", "best_ms", "GFLOP/s");
  for (const Layer& L : kLayers) {
    const double flops = 2.0 * L.n * L.k * L.hw * L.hw * double(L.c) * 9;
    for (int d = 0; d < 3; ++d) {
      const char tag = "fdw"[d];
      if (std::strcmp(dirs, "all") != 0 && !std::strchr(dirs, tag)) continue;
      const std::vector<double> t = time_layer(h, L, d, reps, sparsity, rng);
      char name[64];
      std::snprintf(name, sizeof name, "n%d c%d %dx%d k%d", L.n, L.c, L.hw, L.hw, L.k);
      std::printf("%-22s %-4c %10.3f %10.3f %9.1f\n", name, tag, t[t.size() / 2], t[0],
                  flops / t[0] / 1e6);
      std::fflush(stdout);
    }
  }
  dsdkDestroy(h);
  return 0;
}
