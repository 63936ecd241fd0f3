// dsdk::cpu::gemm against a naive triple loop: every transpose combination, padded
// leading dimensions, edge sizes (0, 1, around the register and cache blocks),
// beta = 0 over NaN, float and double, several thread counts, every ISA the CPU has.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "check.h"
#include "cpu/gemm.h"
#include "cpu/gemm_kernels.h"

namespace {

struct Case {
  bool ta, tb;
  int64_t M, N, K;
  double alpha, beta;
  int threads;
};

template <typename T>
void run(const Case& c, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  // Leading dimensions with padding; op(A) is M x K.
  const int64_t ar = c.ta ? c.K : c.M, ac = c.ta ? c.M : c.K;
  const int64_t br = c.tb ? c.N : c.K, bc = c.tb ? c.K : c.N;
  const int64_t lda = ac + 3, ldb = bc + 1, ldc = c.N + 5;
  std::vector<T> A(size_t(std::max<int64_t>(ar * lda, 1))), B(size_t(std::max<int64_t>(br * ldb, 1)));
  std::vector<T> C(size_t(std::max<int64_t>(c.M * ldc, 1)));
  for (auto& v : A) v = T(u(rng));
  for (auto& v : B) v = T(u(rng));
  for (auto& v : C) v = T(u(rng));
  std::vector<T> C0 = C;
  if (c.beta == 0)
    for (int64_t i = 0; i < c.M; ++i)
      for (int64_t j = 0; j < c.N; ++j) C[i * ldc + j] = std::numeric_limits<T>::quiet_NaN();
  dsdk::cpu::gemm<T>(c.ta, c.tb, c.M, c.N, c.K, T(c.alpha), A.data(), lda, B.data(), ldb,
                     T(c.beta), C.data(), ldc, c.threads);
  const double eps = sizeof(T) == 4 ? 2e-6 : 1e-14;
  int bad = 0;
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      const size_t o = size_t(i * ldc + j);
      if (j >= c.N) {  // padding between rows stays untouched
        if (C[o] != C0[o] && bad++ < 3) std::printf("  wrote padding C[%lld,%lld]\n", (long long)i, (long long)j);
        continue;
      }
      double acc = 0, mag = 0;
      for (int64_t k = 0; k < c.K; ++k) {
        const double a = c.ta ? A[k * lda + i] : A[i * lda + k];
        const double b = c.tb ? B[j * ldb + k] : B[k * ldb + j];
        acc += a * b;
        mag += std::fabs(a * b);
      }
      const double want = c.alpha * acc + (c.beta == 0 ? 0.0 : c.beta * double(C0[o]));
      const double tol = eps * (16 + 8 * std::fabs(c.alpha) * mag + std::fabs(c.beta * C0[o]));
      if (!(std::fabs(double(C[o]) - want) <= tol) && bad++ < 3)
        std::printf("  C[%lld,%lld] got %.9g want %.9g\n", (long long)i, (long long)j,
                    double(C[o]), want);
    }
  if (bad) {
    std::printf("case %s ta%d tb%d M%lld N%lld K%lld alpha %g beta %g threads %d\n",
                sizeof(T) == 4 ? "float" : "double", c.ta, c.tb, (long long)c.M, (long long)c.N,
                (long long)c.K, c.alpha, c.beta, c.threads);
    ++check::failures();
  }
}

}  // namespace

int main() {
  using dsdk::cpu::Isa;
  std::mt19937 rng(99);
  const int64_t sizes[] = {0, 1, 2, 5, 12, 13, 31, 33, 64, 100, 257};
  std::uniform_int_distribution<int> d(0, 1 << 30);
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kGeneric}) {
    if (dsdk::cpu::force_isa(isa) != isa) continue;
    std::printf("kernels: %s\n", dsdk::cpu::microkernel<float>().isa);
    for (int it = 0; it < (isa == Isa::kAvx512 ? 300 : 120); ++it) {
      Case c{bool(d(rng) & 1), bool(d(rng) & 1), sizes[d(rng) % 11], sizes[d(rng) % 11],
             sizes[d(rng) % 11], (d(rng) % 3) ? 1.0 : -0.5, double(d(rng) % 3) * 0.5,
             1 + d(rng) % 3};
      run<float>(c, rng);
      run<double>(c, rng);
    }
    // Past the cache blocks (K > kc, N > nc, M > mc), and the SVM solvers' shape
    // (kernel rows X_ws . X^T: small K, transB).
    for (const Case& c : {Case{false, false, 400, 600, 300, 1.0, 0.0, 2},
                          Case{true, true, 130, 1100, 270, 0.5, 1.0, 3},
                          Case{false, true, 300, 3000, 50, 1.0, 0.0, 2}}) {
      run<float>(c, rng);
      run<double>(c, rng);
    }
  }
  dsdk::cpu::force_isa(Isa::kAvx512);
  return check::report("test_gemm_cpu");
}
