// Times the CPU sparse algorithms through the C API, float32: a sparse convolution
// (direct or im2col-tile) from a packed filter (dsdkSparseConvolutionForward) or the
// dense masked implicit GEMM, and the sparse GEMM from a packed matrix. Uniform random
// masks.
//   build/bench_sparse serve
// reads lines
//   conv n c hw k stride sparsity% algo reps threads      (3x3, pad 1; algo = dsdkConvAlgo_t)
//   linear m rows cols sparsity% reps threads               (Y[m, rows] = X[m, cols] W^T)
//   isa level                  (0 generic, 1 AVX2, 2 AVX-512: the highest kernels to use;
//                               answered with the level in use)
// and answers each with "median_ms best_ms" of `reps` timed runs after one warm-up;
// benchmarks/sparse_vs_torch.py drives it against torch.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cpu/gemm_kernels.h"
#include "dsdkern/dsdkern.h"

namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void ok(dsdkHandle_t h, dsdkStatus_t s) {
  if (s != DSDK_STATUS_SUCCESS) {
    std::fprintf(stderr, "error: %s\n", dsdkGetLastErrorMessage(h));
    std::exit(1);
  }
}

template <class F>
void report(F&& once, int reps) {
  once();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const double t0 = now_ms();
    once();
    t.push_back(now_ms() - t0);
  }
  std::sort(t.begin(), t.end());
  std::printf("%.4f %.4f\n", t[t.size() / 2], t[0]);
  std::fflush(stdout);
}

std::vector<float> uniform(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (auto& e : v) e = u(rng);
  return v;
}

std::vector<uint8_t> random_mask(size_t n, int sparsity, std::mt19937& rng) {
  std::uniform_int_distribution<int> pct(0, 9999);
  std::vector<uint8_t> m(n);
  for (auto& e : m) e = pct(rng) >= sparsity * 100;
  return m;
}

void conv(dsdkHandle_t h, int n, int c, int hw, int k, int stride, int sparsity, int algo,
          int reps, std::mt19937& rng) {
  const int out = (hw + 2 - 3) / stride + 1;
  std::vector<float> x = uniform(size_t(n) * c * hw * hw, rng), w = uniform(size_t(k) * c * 9, rng),
                     y(size_t(n) * k * out * out);
  std::vector<uint8_t> mask = random_mask(w.size(), sparsity, rng);
  dsdkTensorDescriptor_t xD, yD;
  dsdkFilterDescriptor_t wD;
  dsdkConvolutionDescriptor_t cD;
  dsdkCreateTensorDescriptor(&xD);
  dsdkCreateTensorDescriptor(&yD);
  dsdkCreateFilterDescriptor(&wD);
  dsdkCreateConvolutionDescriptor(&cD);
  dsdkSetTensor4dDescriptor(xD, DSDK_DATA_FLOAT, n, c, hw, hw);
  dsdkSetTensor4dDescriptor(yD, DSDK_DATA_FLOAT, n, k, out, out);
  dsdkSetFilter4dDescriptor(wD, DSDK_DATA_FLOAT, k, c, 3, 3);
  dsdkSetConvolution2dDescriptor(cD, 1, 1, stride, stride, 1, 1, 1);
  const float alpha = 1, beta = 0;
  const dsdkConvAlgo_t a = dsdkConvAlgo_t(algo);
  size_t bytes = 0;
  if (a == DSDK_CONV_ALGO_IMPLICIT_GEMM) {
    ok(h, dsdkGetConvolutionWorkspaceSize(h, DSDK_CONV_FORWARD, xD, wD, cD, yD, a, &bytes));
    std::vector<char> ws(bytes);
    report([&] { ok(h, dsdkMaskedConvolutionForward(h, &alpha, xD, x.data(), wD, w.data(),
                                                    mask.data(), cD, a, ws.data(), bytes, &beta,
                                                    yD, y.data())); },
           reps);
  } else {
    dsdkSparseFilter_t f;
    ok(h, dsdkCreateSparseFilter(h, &f, wD, w.data(), mask.data(), cD));
    ok(h, dsdkGetSparseConvolutionForwardWorkspaceSize(h, xD, f, cD, yD, a, &bytes));
    std::vector<char> ws(bytes);
    report([&] { ok(h, dsdkSparseConvolutionForward(h, &alpha, xD, x.data(), f, cD, a, ws.data(),
                                                    bytes, &beta, yD, y.data())); },
           reps);
    dsdkDestroySparseFilter(f);
  }
  dsdkDestroyTensorDescriptor(xD);
  dsdkDestroyTensorDescriptor(yD);
  dsdkDestroyFilterDescriptor(wD);
  dsdkDestroyConvolutionDescriptor(cD);
}

void linear(dsdkHandle_t h, int m, int rows, int cols, int sparsity, int reps, std::mt19937& rng) {
  std::vector<float> x = uniform(size_t(m) * cols, rng), w = uniform(size_t(rows) * cols, rng),
                     y(size_t(m) * rows);
  std::vector<uint8_t> mask = random_mask(w.size(), sparsity, rng);
  dsdkSparseMatrix_t s;
  ok(h, dsdkCreateSparseMatrix(h, &s, DSDK_DATA_FLOAT, rows, cols, w.data(), mask.data()));
  size_t bytes = 0;
  ok(h, dsdkGetSparseGemmWorkspaceSize(h, s, m, &bytes));
  std::vector<char> ws(bytes);
  const float alpha = 1, beta = 0;
  report([&] { ok(h, dsdkSparseGemm(h, &alpha, m, x.data(), cols, s, ws.data(), bytes, &beta,
                                    y.data(), rows)); },
         reps);
  dsdkDestroySparseMatrix(s);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "serve") != 0) {
    std::fprintf(stderr, "usage: bench_sparse serve  (see the header of bench_sparse.cpp)\n");
    return 2;
  }
  dsdkHandle_t h;
  dsdkCreate(&h, DSDK_BACKEND_CPU);
  std::mt19937 rng(1);
  char kind[16];
  while (std::scanf("%15s", kind) == 1) {
    if (std::strcmp(kind, "conv") == 0) {
      int n, c, hw, k, stride, sp, algo, reps, th;
      if (std::scanf("%d %d %d %d %d %d %d %d %d", &n, &c, &hw, &k, &stride, &sp, &algo, &reps,
                     &th) != 9)
        break;
      dsdkSetNumThreads(h, th);
      conv(h, n, c, hw, k, stride, sp, algo, std::max(reps, 1), rng);
    } else if (std::strcmp(kind, "linear") == 0) {
      int m, rows, cols, sp, reps, th;
      if (std::scanf("%d %d %d %d %d %d", &m, &rows, &cols, &sp, &reps, &th) != 6) break;
      dsdkSetNumThreads(h, th);
      linear(h, m, rows, cols, sp, std::max(reps, 1), rng);
    } else if (std::strcmp(kind, "isa") == 0) {
      int level;
      if (std::scanf("%d", &level) != 1) break;
      std::printf("%d\n", int(dsdk::cpu::force_isa(dsdk::cpu::Isa(level))));
      std::fflush(stdout);
    } else {
      break;
    }
  }
  dsdkDestroy(h);
  return 0;
}
