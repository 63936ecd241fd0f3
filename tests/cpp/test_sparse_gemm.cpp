// Sparse GEMM from a packed matrix (dsdkCreateSparseMatrix + dsdkSparseGemm) against a
// naive double-precision Y = alpha * X (W ⊙ M)^T + beta * Y written here: a seeded
// grid over batch sizes (0, 1, around the vector and panel widths), shapes (including
// more columns than 16-bit indices address), sparsities 0-100 % and empty rows, leading
// dimensions past the width, alpha/beta (beta = 0 over NaN), float and double, thread
// counts and every ISA this CPU has; then the argument checks.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "check.h"
#include "cpu/gemm_kernels.h"
#include "dsdkern/dsdkern.h"

namespace {

struct Case {
  int64_t m, rows, cols, ldx, ldy;
  int sparsity;
  bool empty_rows;
  double alpha, beta;
  int threads;
};

template <typename T>
void run_case(dsdkHandle_t h, const Case& cs, std::mt19937& rng) {
  const dsdkDataType_t t = sizeof(T) == 4 ? DSDK_DATA_FLOAT : DSDK_DATA_DOUBLE;
  std::uniform_real_distribution<double> u(-1, 1);
  std::uniform_int_distribution<int> pct(0, 99);
  std::vector<T> x(size_t(std::max<int64_t>(cs.m, 1) * cs.ldx)), w(size_t(cs.rows * cs.cols)),
      y(size_t(std::max<int64_t>(cs.m, 1) * cs.ldy));
  std::vector<uint8_t> mask(w.size());
  for (auto& v : x) v = T(u(rng));
  for (size_t i = 0; i < w.size(); ++i) {
    w[i] = T(u(rng));
    mask[i] = pct(rng) >= cs.sparsity && !(cs.empty_rows && (i / cs.cols) % 4 == 2);
  }
  for (auto& v : y) v = cs.beta == 0 ? std::numeric_limits<T>::quiet_NaN() : T(u(rng));
  const std::vector<T> y0 = y;
  CHECK_OK(dsdkSetNumThreads(h, cs.threads));
  dsdkSparseMatrix_t s = nullptr;
  CHECK_OK(dsdkCreateSparseMatrix(h, &s, t, cs.rows, cs.cols, w.data(), mask.data()));
  int64_t nnz = -1, kept = 0;
  size_t bytes = 0;
  CHECK_OK(dsdkGetSparseMatrixInfo(s, &nnz, &bytes));
  for (uint8_t m : mask) kept += m != 0;
  CHECK(nnz == kept);
  CHECK_OK(dsdkGetSparseGemmWorkspaceSize(h, s, cs.m, &bytes));
  std::vector<char> ws(bytes);
  const T alpha = T(cs.alpha), beta = T(cs.beta);
  CHECK_OK(dsdkSparseGemm(h, &alpha, cs.m, x.data(), cs.ldx, s, ws.data(), bytes, &beta,
                          y.data(), cs.ldy));
  const double eps = std::numeric_limits<T>::epsilon();
  bool good = true;
  for (int64_t i = 0; i < cs.m && good; ++i)
    for (int64_t n = 0; n < cs.ldy && good; ++n) {
      const size_t at = size_t(i * cs.ldy + n);
      if (n >= cs.rows) {  // past the matrix's rows: untouched
        good = std::memcmp(&y[at], &y0[at], sizeof(T)) == 0;
        continue;
      }
      double acc = 0, mag = 0;
      for (int64_t k = 0; k < cs.cols; ++k) {
        if (!mask[n * cs.cols + k]) continue;
        const double p = double(x[i * cs.ldx + k]) * double(w[n * cs.cols + k]);
        acc += p;
        mag += std::fabs(p);
      }
      const double b = cs.beta == 0 ? 0.0 : cs.beta * double(y0[at]);
      const double want = cs.alpha * acc + b;
      const double tol = 64 * eps * (std::fabs(cs.alpha) * mag + std::fabs(b)) + 1e-30;
      good = std::fabs(double(y[at]) - want) <= tol;
      if (!good) std::printf("  Y[%lld,%lld] = %.9g, want %.9g\n", (long long)i, (long long)n,
                             double(y[at]), want);
    }
  if (!good) {
    std::printf("FAILED %s: m%lld rows%lld cols%lld ldx%lld ldy%lld sp%d%s alpha %g beta %g "
                "threads %d\n", sizeof(T) == 4 ? "float" : "double", (long long)cs.m,
                (long long)cs.rows, (long long)cs.cols, (long long)cs.ldx, (long long)cs.ldy,
                cs.sparsity, cs.empty_rows ? " empty-rows" : "", cs.alpha, cs.beta, cs.threads);
    ++check::failures();
  }
  CHECK_OK(dsdkDestroySparseMatrix(s));
}

void run_grid(dsdkHandle_t h, std::mt19937& rng, int cases) {
  auto pick = [&](std::initializer_list<int> v) {
    return *(v.begin() + std::uniform_int_distribution<int>(0, int(v.size()) - 1)(rng));
  };
  for (int i = 0; i < cases; ++i) {
    Case cs{};
    cs.m = pick({0, 1, 1, 2, 3, 7, 8, 15, 16, 17, 33, 64, 65, 130});
    cs.rows = pick({1, 5, 16, 37});
    cs.cols = pick({1, 3, 17, 64, 300});
    cs.ldx = cs.cols + pick({0, 0, 3});
    cs.ldy = cs.rows + pick({0, 0, 2});
    cs.sparsity = pick({0, 50, 90, 99, 100});
    cs.empty_rows = pick({0, 0, 1});
    cs.alpha = pick({0, 1, 1}) ? 1.0 : -1.5;
    cs.beta = pick({0, 0, 1}) ? 0.5 : 0.0;
    cs.threads = pick({1, 2, 3});
    if (i % 2) run_case<float>(h, cs, rng);
    else run_case<double>(h, cs, rng);
  }
  // More columns than 16-bit indices address: the 32-bit path, one row and a batch.
  for (int64_t m : {1, 5}) {
    const Case wide{m, 3, 70000, 70000, 3, 90, false, 1.0, 0.0, 2};
    run_case<float>(h, wide, rng);
  }
}

void test_bad_params(dsdkHandle_t h) {
  const std::vector<float> w(12, 1.0f), x(8, 1.0f);
  std::vector<float> y(6);
  const float one = 1, zero = 0;
  dsdkSparseMatrix_t s = nullptr;
  CHECK_STATUS(dsdkCreateSparseMatrix(nullptr, &s, DSDK_DATA_FLOAT, 3, 4, w.data(), nullptr),
               DSDK_STATUS_NOT_INITIALIZED);
  CHECK_STATUS(dsdkCreateSparseMatrix(h, nullptr, DSDK_DATA_FLOAT, 3, 4, w.data(), nullptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "matrix");
  CHECK_STATUS(dsdkCreateSparseMatrix(h, &s, DSDK_DATA_FLOAT, 0, 4, w.data(), nullptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "rows");
  CHECK_STATUS(dsdkCreateSparseMatrix(h, &s, DSDK_DATA_FLOAT, 3, -1, w.data(), nullptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "cols");
  CHECK_STATUS(dsdkCreateSparseMatrix(h, &s, DSDK_DATA_FLOAT, 3, 4, nullptr, nullptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "W is NULL");
  CHECK_STATUS(dsdkCreateSparseMatrix(h, &s, DSDK_DATA_BFLOAT16, 3, 4, w.data(), nullptr),
               DSDK_STATUS_NOT_SUPPORTED);
  CHECK_MESSAGE(h, "dtype");
  CHECK_STATUS(dsdkCreateSparseMatrix(h, &s, dsdkDataType_t(42), 3, 4, w.data(), nullptr),
               DSDK_STATUS_NOT_SUPPORTED);
  CHECK_STATUS(dsdkGetSparseMatrixInfo(nullptr, nullptr, nullptr), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkDestroySparseMatrix(nullptr), DSDK_STATUS_BAD_PARAM);

  CHECK_OK(dsdkCreateSparseMatrix(h, &s, DSDK_DATA_FLOAT, 3, 4, w.data(), nullptr));
  size_t bytes = 0;
  CHECK_OK(dsdkGetSparseGemmWorkspaceSize(h, s, 2, &bytes));
  CHECK(bytes > 0);
  std::vector<char> ws(bytes);
  CHECK_STATUS(dsdkGetSparseGemmWorkspaceSize(h, nullptr, 2, &bytes), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "matrix");
  CHECK_STATUS(dsdkGetSparseGemmWorkspaceSize(h, s, -1, &bytes), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "m (-1)");
  CHECK_STATUS(dsdkGetSparseGemmWorkspaceSize(h, s, 2, nullptr), DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "sizeInBytes");
  auto gemm = [&](const void* a, int64_t m, const void* xp, int64_t ldx, dsdkSparseMatrix_t mat,
                  void* wsp, size_t wsb, const void* b, void* yp, int64_t ldy) {
    return dsdkSparseGemm(h, a, m, xp, ldx, mat, wsp, wsb, b, yp, ldy);
  };
  CHECK_OK(gemm(&one, 2, x.data(), 4, s, ws.data(), bytes, &zero, y.data(), 3));
  for (float v : y) CHECK(v == 4.0f);
  CHECK_STATUS(gemm(&one, 2, x.data(), 4, nullptr, ws.data(), bytes, &zero, y.data(), 3),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "matrix");
  CHECK_STATUS(gemm(&one, -2, x.data(), 4, s, ws.data(), bytes, &zero, y.data(), 3),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "m (-2)");
  CHECK_STATUS(gemm(&one, 2, x.data(), 3, s, ws.data(), bytes, &zero, y.data(), 3),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "ldx");
  CHECK_STATUS(gemm(&one, 2, x.data(), 4, s, ws.data(), bytes, &zero, y.data(), 2),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "ldy");
  CHECK_STATUS(gemm(nullptr, 2, x.data(), 4, s, ws.data(), bytes, &zero, y.data(), 3),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "alpha");
  CHECK_STATUS(gemm(&one, 2, x.data(), 4, s, ws.data(), bytes, nullptr, y.data(), 3),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "beta");
  CHECK_STATUS(gemm(&one, 2, x.data(), 4, s, ws.data(), bytes - 1, &zero, y.data(), 3),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "workspaceSizeInBytes");
  CHECK_STATUS(gemm(&one, 2, x.data(), 4, s, nullptr, bytes, &zero, y.data(), 3),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "workspace is NULL");
  CHECK_STATUS(gemm(&one, 2, nullptr, 4, s, ws.data(), bytes, &zero, y.data(), 3),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "X is NULL");
  CHECK_STATUS(gemm(&one, 2, x.data(), 4, s, ws.data(), bytes, &zero, nullptr, 3),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "Y is NULL");
  // An empty batch touches nothing and needs no buffers.
  CHECK_OK(gemm(&one, 0, nullptr, 4, s, nullptr, 0, &zero, nullptr, 3));
  CHECK_OK(dsdkDestroySparseMatrix(s));
}

}  // namespace

int main() {
  using dsdk::cpu::Isa;
  dsdkHandle_t h;
  CHECK_OK(dsdkCreate(&h, DSDK_BACKEND_CPU));
  std::mt19937 rng(77);
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kGeneric}) {
    if (dsdk::cpu::force_isa(isa) != isa) continue;
    std::printf("isa level %d\n", int(isa));
    run_grid(h, rng, isa == Isa::kAvx512 ? 300 : 100);
  }
  dsdk::cpu::force_isa(Isa::kAvx512);
  test_bad_params(h);
  CHECK_OK(dsdkDestroy(h));
  return check::report("test_sparse_gemm");
}
