// Times the project's own dense kernels that the SPSVM solver spends its time
// in, on the shapes it uses at 100000 points (benchmarks/cpp/linalg_vs_torch.py
// runs the same shapes through torch's BLAS/LAPACK and prints the ratio):
//   border    float GEMM, C[96 x 2305] = A[96 x n] B[2305 x n]^T (A B' form)
//   cand      float GEMM, C[576 x n]  = A[576 x 50] B[n x 50]^T  (candidate dot products)
//   cholesky  double Cholesky factorisation of a 2305 x 2305 SPD matrix
// Prints "name seconds" lines, the best of `reps` runs each.
//
//   g++ -O3 -fopenmp -Icsrc/include -Icsrc benchmarks/cpp/bench_linalg.cpp \
//       build/libdsdkern.a -o build/bench_linalg
//   (or: cmake -S . -B build && cmake --build build, which builds it too)
//   build/bench_linalg [threads=2] [reps=5] [n=100000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "cpu/cholesky.h"
#include "cpu/gemm.h"

namespace {

template <class F>
double best_of(int reps, F&& f) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    best = std::min(best, dt.count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  const int64_t n = argc > 3 ? std::atoll(argv[3]) : 100000;
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  using dsdk::cpu::gemm;

  {
    const int64_t m = 96, cols = 2305;
    std::vector<float> A(size_t(m * n)), B(size_t(cols * n)), C(size_t(m * cols));
    for (float& v : A) v = u(rng);
    for (float& v : B) v = u(rng);
    const double s = best_of(reps, [&] {
      gemm<float>(false, true, m, cols, n, 1.0f, A.data(), n, B.data(), n, 0.0f, C.data(), cols,
                  threads);
    });
    std::printf("border %.6f\n", s);
  }
  {
    const int64_t m = 576, d = 50;
    std::vector<float> A(size_t(m * d)), B(size_t(n * d)), C(size_t(m * n));
    for (float& v : A) v = u(rng);
    for (float& v : B) v = u(rng);
    const double s = best_of(reps, [&] {
      gemm<float>(false, true, m, n, d, 1.0f, A.data(), d, B.data(), d, 0.0f, C.data(), n,
                  threads);
    });
    std::printf("cand %.6f\n", s);
  }
  {
    const int64_t k = 2305;
    // SPD: G G^T / k + I from a random G.
    std::vector<double> G(size_t(k * k)), S(size_t(k * k)), W(size_t(k * k));
    std::uniform_real_distribution<double> ud(-1.0, 1.0);
    for (double& v : G) v = ud(rng);
    gemm<double>(false, true, k, k, k, 1.0 / double(k), G.data(), k, G.data(), k, 0.0, S.data(), k,
                 threads);
    for (int64_t i = 0; i < k; ++i) S[size_t(i * k + i)] += 1.0;
    bool ok = true;
    const double s = best_of(reps, [&] {
      W = S;
      ok = ok && dsdk::cpu::cholesky_factor(W.data(), k, k, threads);
    });
    if (!ok) {
      std::printf("cholesky failed\n");
      return 1;
    }
    std::printf("cholesky %.6f\n", s);
  }
  return 0;
}
