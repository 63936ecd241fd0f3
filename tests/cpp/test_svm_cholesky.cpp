// SPSVM's Cholesky (csrc/cpu/cholesky.h): the border update, which grows a
// factor by new rows, against a naive unblocked factorisation of the whole
// matrix, over sizes that cross the blocking; an indefinite border is reported.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "check.h"
#include "cpu/cholesky.h"

namespace {

// A = B B' / n + I: symmetric positive definite, n x n row-major.
std::vector<double> spd(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> B(size_t(n * n)), A(size_t(n * n), 0.0);
  for (double& b : B) b = g(rng);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t k = 0; k < n; ++k) s += B[size_t(i * n + k)] * B[size_t(j * n + k)];
      A[size_t(i * n + j)] = s / double(n) + (i == j ? 1.0 : 0.0);
    }
  return A;
}

// Textbook Cholesky–Banachiewicz, lower triangle.
std::vector<double> naive_factor(const std::vector<double>& A, int64_t n) {
  std::vector<double> L(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double s = A[size_t(i * n + j)];
      for (int64_t k = 0; k < j; ++k) s -= L[size_t(i * n + k)] * L[size_t(j * n + k)];
      L[size_t(i * n + j)] = i == j ? std::sqrt(s) : s / L[size_t(j * n + j)];
    }
  return L;
}

void test_border(int64_t n0, int64_t n1, int64_t step) {
  std::printf("cholesky border: %lld -> %lld in steps of %lld\n", (long long)n0, (long long)n1,
              (long long)step);
  const std::vector<double> A = spd(n1, unsigned(n0 + 7 * n1));
  const std::vector<double> ref = naive_factor(A, n1);
  const int64_t lda = n1 + 5;  // a padded leading dimension
  std::vector<double> W(size_t(n1 * lda), -1.0);
  for (int64_t i = 0; i < n1; ++i)
    for (int64_t j = 0; j <= i; ++j) W[size_t(i * lda + j)] = A[size_t(i * n1 + j)];
  CHECK(dsdk::cpu::cholesky_border(W.data(), 0, n0, lda, 2));
  for (int64_t r = n0; r < n1; r += step)
    CHECK(dsdk::cpu::cholesky_border(W.data(), r, std::min(n1, r + step), lda, 2));
  double err = 0;
  for (int64_t i = 0; i < n1; ++i)
    for (int64_t j = 0; j <= i; ++j)
      err = std::max(err, std::fabs(W[size_t(i * lda + j)] - ref[size_t(i * n1 + j)]));
  std::printf("  max |L - L_naive| = %.2e\n", err);
  CHECK(err < 1e-10);
  // The factor solves A x = b.
  std::vector<double> b(static_cast<size_t>(n1)), x(static_cast<size_t>(n1));
  for (int64_t i = 0; i < n1; ++i) b[size_t(i)] = x[size_t(i)] = std::sin(double(i));
  dsdk::cpu::cholesky_solve(W.data(), n1, lda, x.data());
  double res = 0;
  for (int64_t i = 0; i < n1; ++i) {
    double s = -b[size_t(i)];
    for (int64_t j = 0; j < n1; ++j) s += A[size_t(i * n1 + j)] * x[size_t(j)];
    res = std::max(res, std::fabs(s));
  }
  CHECK(res < 1e-9);
}

void test_indefinite_border() {
  std::printf("cholesky border: an indefinite border is reported\n");
  const int64_t n = 150;
  std::vector<double> A = spd(n, 3);
  A[size_t((n - 1) * n + n - 1)] = -1.0;  // a negative diagonal in the border
  CHECK(dsdk::cpu::cholesky_border(A.data(), 0, 100, n, 2));
  CHECK(!dsdk::cpu::cholesky_border(A.data(), 100, n, n, 2));
}

}  // namespace

int main() {
  test_border(0, 1, 1);
  test_border(1, 40, 7);
  test_border(90, 300, 96);   // crosses the 96-wide blocks
  test_border(200, 450, 250); // one wide border
  test_indefinite_border();
  return check::report("test_svm_cholesky");
}
