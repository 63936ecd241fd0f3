// dsdkMaskedGemm on a CPU handle against a naive double reference written here: every
// transpose combination, padded leading dimensions, masks on B and on C, alpha/beta
// (beta = 0 over NaN), k = 0, odd sizes around the register and cache blocks, float and
// double, several thread counts, every ISA the CPU has; then every BAD_PARAM path.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "check.h"
#include "cpu/gemm_kernels.h"
#include "dsdkern/dsdkern.h"

namespace {

struct Case {
  bool ta, tb;
  int64_t m, n, k;
  int sparsity_b, sparsity_c;  // percent of the mask that is zero; -1 = no mask
  double alpha, beta;
  int threads;
};

template <typename T>
dsdkDataType_t dtype_of() {
  return sizeof(T) == 8 ? DSDK_DATA_DOUBLE : DSDK_DATA_FLOAT;
}

std::vector<uint8_t> make_mask(size_t size, int sparsity, std::mt19937& rng) {
  std::vector<uint8_t> m(size, 1);
  std::uniform_int_distribution<int> pct(0, 99);
  for (auto& v : m) v = pct(rng) >= sparsity ? uint8_t(1 + pct(rng) % 200) : 0;
  return m;
}

template <typename T>
void run(dsdkHandle_t h, const Case& c, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  const int64_t ar = c.ta ? c.k : c.m, ac = c.ta ? c.m : c.k;
  const int64_t br = c.tb ? c.n : c.k, bc = c.tb ? c.k : c.n;
  const int64_t lda = ac + 2, ldb = bc + 3, ldc = c.n + 1;
  std::vector<T> A(size_t(std::max<int64_t>(ar * lda, 1))), B(size_t(std::max<int64_t>(br * ldb, 1)));
  std::vector<T> C(size_t(std::max<int64_t>(c.m * ldc, 1)));
  for (auto& v : A) v = T(u(rng));
  for (auto& v : B) v = T(u(rng));
  for (auto& v : C) v = T(u(rng));
  std::vector<uint8_t> mb, mc;
  if (c.sparsity_b >= 0) mb = make_mask(B.size(), c.sparsity_b, rng);
  if (c.sparsity_c >= 0) mc = make_mask(C.size(), c.sparsity_c, rng);
  std::vector<T> C0 = C;
  if (c.beta == 0)
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j) C[size_t(i * ldc + j)] = std::numeric_limits<T>::quiet_NaN();

  CHECK_OK(dsdkSetNumThreads(h, c.threads));
  size_t bytes = 0;
  CHECK_OK(dsdkGetMaskedGemmWorkspaceSize(h, dtype_of<T>(), c.m, c.n, c.k, &bytes));
  std::vector<char> ws(bytes);
  const T alpha = T(c.alpha), beta = T(c.beta);
  CHECK_OK(dsdkMaskedGemm(h, dtype_of<T>(), c.ta ? DSDK_OP_T : DSDK_OP_N,
                          c.tb ? DSDK_OP_T : DSDK_OP_N, c.m, c.n, c.k, &alpha, A.data(), lda,
                          B.data(), ldb, mb.empty() ? nullptr : mb.data(), &beta, C.data(), ldc,
                          mc.empty() ? nullptr : mc.data(), ws.data(), bytes));

  const double eps = sizeof(T) == 4 ? 2e-6 : 1e-14;
  int bad = 0;
  for (int64_t i = 0; i < c.m; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      const size_t o = size_t(i * ldc + j);
      if (j >= c.n) {  // padding between rows stays untouched
        if (C[o] != C0[o] && bad++ < 3)
          std::printf("  wrote padding C[%lld,%lld]\n", (long long)i, (long long)j);
        continue;
      }
      double acc = 0, mag = 0;
      for (int64_t p = 0; p < c.k; ++p) {
        const double a = c.ta ? A[size_t(p * lda + i)] : A[size_t(i * lda + p)];
        const size_t bo = size_t(c.tb ? j * ldb + p : p * ldb + j);
        const double b = (mb.empty() || mb[bo]) ? double(B[bo]) : 0.0;
        acc += a * b;
        mag += std::fabs(a * b);
      }
      if (!mc.empty() && !mc[o]) acc = 0;
      const double want = c.alpha * acc + (c.beta == 0 ? 0.0 : c.beta * double(C0[o]));
      const double tol = eps * (16 + 8 * std::fabs(c.alpha) * mag + std::fabs(c.beta * C0[o]));
      if (!(std::fabs(double(C[o]) - want) <= tol) && bad++ < 3)
        std::printf("  C[%lld,%lld] got %.9g want %.9g\n", (long long)i, (long long)j,
                    double(C[o]), want);
    }
  if (bad) {
    std::printf("case %s ta%d tb%d m%lld n%lld k%lld maskB %d maskC %d alpha %g beta %g threads %d\n",
                sizeof(T) == 4 ? "float" : "double", c.ta, c.tb, (long long)c.m, (long long)c.n,
                (long long)c.k, c.sparsity_b, c.sparsity_c, c.alpha, c.beta, c.threads);
    ++check::failures();
  }
}

void check_bad_params(dsdkHandle_t h) {
  float one = 1.0f, zero = 0.0f;
  std::vector<float> A(64, 1.0f), B(64, 1.0f), C(64, 0.0f);
  size_t bytes = 0;
  CHECK_OK(dsdkGetMaskedGemmWorkspaceSize(h, DSDK_DATA_FLOAT, 4, 4, 4, &bytes));
  std::vector<char> ws(bytes);
  // The valid call, then one argument spoilt at a time; `word` is what the message names.
  struct Bad {
    dsdkDataType_t dtype;
    int ta, tb;
    int64_t m, n, k;
    const void* alpha;
    const void* a;
    int64_t lda;
    const void* b;
    int64_t ldb;
    const void* beta;
    void* c;
    int64_t ldc;
    void* ws;
    size_t ws_bytes;
    dsdkStatus_t want;
    const char* word;
  };
  const Bad ok{DSDK_DATA_FLOAT, 0, 0, 4, 4, 4, &one, A.data(), 4, B.data(), 4, &zero, C.data(), 4,
               ws.data(), bytes, DSDK_STATUS_SUCCESS, ""};
  std::vector<Bad> cases;
  auto with = [&](auto f, dsdkStatus_t want, const char* word) {
    Bad b = ok;
    f(b);
    b.want = want;
    b.word = word;
    cases.push_back(b);
  };
  with([](Bad& b) { b.dtype = dsdkDataType_t(17); }, DSDK_STATUS_BAD_PARAM, "dtype");
  with([](Bad& b) { b.dtype = DSDK_DATA_HALF; }, DSDK_STATUS_NOT_SUPPORTED, "float16");
  with([](Bad& b) { b.dtype = DSDK_DATA_BFLOAT16; }, DSDK_STATUS_NOT_SUPPORTED, "bfloat16");
  with([](Bad& b) { b.ta = 2; }, DSDK_STATUS_BAD_PARAM, "transA");
  with([](Bad& b) { b.tb = -1; }, DSDK_STATUS_BAD_PARAM, "transB");
  with([](Bad& b) { b.m = -1; }, DSDK_STATUS_BAD_PARAM, "m must");
  with([](Bad& b) { b.n = -2; }, DSDK_STATUS_BAD_PARAM, "n must");
  with([](Bad& b) { b.k = -3; }, DSDK_STATUS_BAD_PARAM, "k must");
  with([](Bad& b) { b.lda = 3; }, DSDK_STATUS_BAD_PARAM, "lda");
  with([](Bad& b) { b.ta = 1; b.m = 5; b.lda = 4; }, DSDK_STATUS_BAD_PARAM, "lda");
  with([](Bad& b) { b.ldb = 2; }, DSDK_STATUS_BAD_PARAM, "ldb");
  with([](Bad& b) { b.tb = 1; b.k = 5; b.ldb = 4; b.lda = 5; }, DSDK_STATUS_BAD_PARAM, "ldb");
  with([](Bad& b) { b.ldc = 0; }, DSDK_STATUS_BAD_PARAM, "ldc");
  with([](Bad& b) { b.ldc = INT64_MAX / 2; }, DSDK_STATUS_BAD_PARAM, "ldc");
  with([](Bad& b) { b.alpha = nullptr; }, DSDK_STATUS_BAD_PARAM, "alpha");
  with([](Bad& b) { b.beta = nullptr; }, DSDK_STATUS_BAD_PARAM, "beta");
  with([](Bad& b) { b.a = nullptr; }, DSDK_STATUS_BAD_PARAM, "A is NULL");
  with([](Bad& b) { b.b = nullptr; }, DSDK_STATUS_BAD_PARAM, "B is NULL");
  with([](Bad& b) { b.c = nullptr; }, DSDK_STATUS_BAD_PARAM, "C is NULL");
  with([](Bad& b) { b.ws = nullptr; }, DSDK_STATUS_BAD_PARAM, "workspace is NULL");
  with([](Bad& b) { b.ws_bytes -= 1; }, DSDK_STATUS_BAD_PARAM, "workspaceSizeInBytes");
  // Empty products touch no buffer: NULL A/B with k = 0, NULL everything with m = 0.
  with([](Bad& b) { b.k = 0; b.a = nullptr; b.b = nullptr; }, DSDK_STATUS_SUCCESS, "");
  with([](Bad& b) { b.m = 0; b.a = b.b = nullptr; b.c = nullptr; }, DSDK_STATUS_SUCCESS, "");
  for (const Bad& b : cases) {
    CHECK_STATUS(dsdkMaskedGemm(h, b.dtype, dsdkOperation_t(b.ta), dsdkOperation_t(b.tb), b.m,
                                b.n, b.k, b.alpha, b.a, b.lda, b.b, b.ldb, nullptr, b.beta, b.c,
                                b.ldc, nullptr, b.ws, b.ws_bytes),
                 b.want);
    if (b.want != DSDK_STATUS_SUCCESS) {
      CHECK_MESSAGE(h, b.word);
      CHECK_MESSAGE(h, "dsdkMaskedGemm");
    }
  }
  CHECK_STATUS(dsdkMaskedGemm(nullptr, DSDK_DATA_FLOAT, DSDK_OP_N, DSDK_OP_N, 4, 4, 4, &one,
                              A.data(), 4, B.data(), 4, nullptr, &zero, C.data(), 4, nullptr,
                              ws.data(), bytes),
               DSDK_STATUS_NOT_INITIALIZED);
  // The workspace query checks what decides the size.
  CHECK_STATUS(dsdkGetMaskedGemmWorkspaceSize(h, DSDK_DATA_FLOAT, 4, 4, 4, nullptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "sizeInBytes");
  CHECK_STATUS(dsdkGetMaskedGemmWorkspaceSize(h, DSDK_DATA_FLOAT, 4, -1, 4, &bytes),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "n must");
  CHECK_STATUS(dsdkGetMaskedGemmWorkspaceSize(h, DSDK_DATA_HALF, 4, 4, 4, &bytes),
               DSDK_STATUS_NOT_SUPPORTED);
  CHECK_MESSAGE(h, "dsdkGetMaskedGemmWorkspaceSize");
}

}  // namespace

int main() {
  using dsdk::cpu::Isa;
  dsdkHandle_t h = nullptr;
  CHECK_OK(dsdkCreate(&h, DSDK_BACKEND_CPU));
  std::mt19937 rng(20261201);
  const int64_t sizes[] = {0, 1, 3, 7, 13, 31, 33, 65, 100};
  const int sparsities[] = {-1, 0, 50, 90, 100};
  std::uniform_int_distribution<int> d(0, 1 << 30);
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kGeneric}) {
    if (dsdk::cpu::force_isa(isa) != isa) continue;
    std::printf("kernels: %s\n", dsdk::cpu::microkernel<float>().isa);
    for (int it = 0; it < 120; ++it) {
      Case c{bool(it & 1), bool(it & 2), sizes[d(rng) % 9], sizes[d(rng) % 9], sizes[d(rng) % 9],
             sparsities[d(rng) % 5], (it % 7 == 0) ? sparsities[d(rng) % 5] : -1,
             (d(rng) % 3) ? 1.0 : -0.5, double(d(rng) % 3) * 0.5, 1 + d(rng) % 3};
      run<float>(h, c, rng);
      run<double>(h, c, rng);
    }
    // Past the cache blocks (k > kc, n > nc, m > mc), with both masks, and the shapes of
    // masked_linear: forward (transB), backward data (plain), backward weight (transA,
    // mask on C).
    for (const Case& c : {Case{false, true, 129, 600, 300, 50, -1, 1.0, 0.0, 2},
                          Case{false, false, 7, 300, 650, 90, -1, 1.0, 1.0, 2},
                          Case{true, false, 300, 270, 129, -1, 50, 1.0, 0.0, 2},
                          Case{true, true, 450, 530, 270, 30, 60, -0.5, 0.5, 3}}) {
      run<float>(h, c, rng);
      run<double>(h, c, rng);
    }
  }
  dsdk::cpu::force_isa(Isa::kAvx512);
  check_bad_params(h);
  CHECK_OK(dsdkDestroy(h));
  return check::report("test_masked_gemm");
}
