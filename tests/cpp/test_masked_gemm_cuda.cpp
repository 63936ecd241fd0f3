// dsdkMaskedGemm on a CUDA handle against a naive double reference on the host (fed the
// same rounded inputs): every transpose combination, both grid orientations (m > n runs
// transposed), padded leading dimensions whose padding must stay untouched, masks on B
// and C, beta = 0 over NaN and beta != 0, k = 0, float, double, half and bfloat16, on a
// created stream and the legacy default one; then the CUDA-only BAD_PARAM paths.
// Without a GPU it skips (exit 77, check::cuda_handle_or_skip).
#include <cstdio>

#ifndef DSDK_WITH_CUDA
#include "check.h"

int main() { check::cuda_handle_or_skip("test_masked_gemm_cuda"); }
#else
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

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

using dtypes::decode;
using dtypes::elem_size;
using dtypes::encode;

struct Case {
  bool ta, tb;
  int64_t m, n, k;
  int sparsity_b, sparsity_c;  // percent pruned; -1 = no mask
  double alpha, beta;
};

const dsdkDataType_t kTypes[] = {DSDK_DATA_FLOAT, DSDK_DATA_DOUBLE, DSDK_DATA_HALF,
                                 DSDK_DATA_BFLOAT16};

// Host values, already rounded to t, and their device encoding.
struct Matrix {
  std::vector<double> v;
  std::vector<unsigned char> bytes;
  void fill(dsdkDataType_t t, size_t count, std::mt19937& rng) {
    std::uniform_real_distribution<double> u(-1, 1);
    v.resize(count);
    bytes.resize(count * elem_size(t));
    for (size_t i = 0; i < count; ++i) {
      encode(t, u(rng), &bytes[i * elem_size(t)]);
      v[i] = decode(t, &bytes[i * elem_size(t)]);
    }
  }
};

std::vector<uint8_t> make_mask(size_t size, int sparsity, std::mt19937& rng) {
  std::vector<uint8_t> m(size, 1);
  std::uniform_int_distribution<int> pct(0, 99);
  for (auto& b : m) b = pct(rng) >= sparsity ? uint8_t(1 + pct(rng) % 200) : 0;
  return m;
}

void run(dsdkHandle_t h, dsdkDataType_t t, const Case& c, cudaStream_t stream,
         std::mt19937& rng) {
  CHECK_OK(dsdkSetStream(h, stream));
  const int64_t ar = c.ta ? c.k : c.m, ac = c.ta ? c.m : c.k;
  const int64_t br = c.tb ? c.n : c.k, bc = c.tb ? c.k : c.n;
  const int64_t lda = ac + 1, ldb = bc + 2, ldc = c.n + 3;
  const size_t es = elem_size(t);
  Matrix A, B, C;
  A.fill(t, size_t(ar * lda), rng);
  B.fill(t, size_t(br * ldb), rng);
  C.fill(t, size_t(c.m * ldc), rng);
  std::vector<double> C0 = C.v;
  if (c.beta == 0)
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j)
        encode(t, std::numeric_limits<double>::quiet_NaN(), &C.bytes[size_t(i * ldc + j) * es]);
  std::vector<uint8_t> mb, mc;
  if (c.sparsity_b >= 0) mb = make_mask(B.v.size(), c.sparsity_b, rng);
  if (c.sparsity_c >= 0) mc = make_mask(C.v.size(), c.sparsity_c, rng);

  DeviceBuffer dA, dB, dC, dmb, dmc;
  CUDA_OK(dA.upload(A.bytes.data(), A.bytes.size()));
  CUDA_OK(dB.upload(B.bytes.data(), B.bytes.size()));
  CUDA_OK(dC.upload(C.bytes.data(), C.bytes.size()));
  CUDA_OK(dmb.upload(mb.data(), mb.size()));
  CUDA_OK(dmc.upload(mc.data(), mc.size()));
  size_t bytes = 1;
  CHECK_OK(dsdkGetMaskedGemmWorkspaceSize(h, t, c.m, c.n, c.k, &bytes));
  CHECK(bytes == 0);
  const float af = float(c.alpha), bf = float(c.beta);
  const double ad = c.alpha, bd = c.beta;
  const bool dbl = t == DSDK_DATA_DOUBLE;
  CHECK_OK(dsdkMaskedGemm(h, t, c.ta ? DSDK_OP_T : DSDK_OP_N, c.tb ? DSDK_OP_T : DSDK_OP_N, c.m,
                          c.n, c.k, dbl ? static_cast<const void*>(&ad) : &af, dA.ptr, lda,
                          dB.ptr, ldb, mb.empty() ? nullptr : static_cast<uint8_t*>(dmb.ptr),
                          dbl ? static_cast<const void*>(&bd) : &bf, dC.ptr, ldc,
                          mc.empty() ? nullptr : static_cast<uint8_t*>(dmc.ptr), nullptr, 0));
  CUDA_OK(cudaStreamSynchronize(stream));
  std::vector<unsigned char> got(C.bytes.size());
  CUDA_OK(cudaMemcpy(got.data(), dC.ptr, got.size(), cudaMemcpyDeviceToHost));

  const double rtol = t == DSDK_DATA_DOUBLE ? 1e-12 : t == DSDK_DATA_FLOAT ? 1e-5
                      : t == DSDK_DATA_HALF ? 2e-3 : 1.6e-2;
  int bad = 0;
  for (int64_t i = 0; i < c.m; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      const size_t o = size_t(i * ldc + j);
      const double g = decode(t, &got[o * es]);
      if (j >= c.n) {  // padding between rows stays untouched
        if (std::memcmp(&got[o * es], &C.bytes[o * es], es) != 0 && bad++ < 3)
          std::printf("  wrote padding C[%lld,%lld]\n", (long long)i, (long long)j);
        continue;
      }
      double acc = 0, mag = 0;
      for (int64_t p = 0; p < c.k; ++p) {
        const double a = c.ta ? A.v[size_t(p * lda + i)] : A.v[size_t(i * lda + p)];
        const size_t bo = size_t(c.tb ? j * ldb + p : p * ldb + j);
        const double b = (mb.empty() || mb[bo]) ? B.v[bo] : 0.0;
        acc += a * b;
        mag += std::fabs(a * b);
      }
      if (!mc.empty() && !mc[o]) acc = mag = 0;
      const double want = c.alpha * acc + (c.beta == 0 ? 0.0 : c.beta * C0[o]);
      const double tol = rtol * (1 + std::fabs(c.alpha) * mag + std::fabs(c.beta * C0[o]));
      if (!(std::fabs(g - want) <= tol) && bad++ < 3)
        std::printf("  C[%lld,%lld] got %.9g want %.9g\n", (long long)i, (long long)j, g, want);
    }
  if (bad) {
    std::printf("case dtype %d ta%d tb%d m%lld n%lld k%lld maskB %d maskC %d alpha %g beta %g\n",
                int(t), c.ta, c.tb, (long long)c.m, (long long)c.n, (long long)c.k, c.sparsity_b,
                c.sparsity_c, c.alpha, c.beta);
    ++check::failures();
  }
}

void check_cuda_paths(dsdkHandle_t h) {
  DeviceBuffer buf;
  std::vector<unsigned char> zeros(4096, 0);
  if (buf.upload(zeros.data(), zeros.size()) != cudaSuccess) {
    ++check::failures();
    return;
  }
  char* base = static_cast<char*>(buf.ptr);
  const float one = 1.0f, zero = 0.0f;
  // A float operand one byte off its element alignment is refused, naming it.
  CHECK_STATUS(dsdkMaskedGemm(h, DSDK_DATA_FLOAT, DSDK_OP_N, DSDK_OP_N, 4, 4, 4, &one, base + 1,
                              4, base + 512, 4, nullptr, &zero, base + 1024, 4, nullptr, nullptr,
                              0),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "A is not aligned");
  CHECK_STATUS(dsdkMaskedGemm(h, DSDK_DATA_HALF, DSDK_OP_N, DSDK_OP_N, 4, 4, 4, &one, base, 4,
                              base + 512, 4, nullptr, &zero, base + 1025, 4, nullptr, nullptr, 0),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "C is not aligned");
  CHECK_STATUS(dsdkMaskedGemm(h, DSDK_DATA_FLOAT, DSDK_OP_N, DSDK_OP_T, 4, 4, 4, &one, base, 4,
                              base + 512, 3, nullptr, &zero, base + 1024, 4, nullptr, nullptr, 0),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "ldb");
}

}  // namespace

int main() {
  dsdkHandle_t h = check::cuda_handle_or_skip("test_masked_gemm_cuda");
  cudaStream_t stream = nullptr;
  if (cudaStreamCreate(&stream) != cudaSuccess) {
    std::printf("cudaStreamCreate failed\n");
    return 1;
  }
  std::mt19937 rng(4242);
  // Small tiles (m or n <= 16), large tiles, past one tile each way, m > n (transposed
  // grid), k = 0, k past several slices; each with every transpose combination.
  const Case shapes[] = {
      {false, false, 1, 300, 70, 50, -1, 1.0, 0.0},  {false, false, 130, 7, 33, -1, -1, 1.0, 1.0},
      {false, false, 70, 129, 100, 90, 50, -0.5, 0.5}, {false, false, 200, 65, 17, 0, -1, 2.0, 0.0},
      {false, false, 33, 45, 0, -1, 30, 1.0, 0.5},   {false, false, 65, 66, 130, 100, -1, 1.0, 1.0},
  };
  int combination = 0;
  for (Case c : shapes)
    for (int tr = 0; tr < 4; ++tr)
      for (dsdkDataType_t t : kTypes) {
        c.ta = tr & 1;
        c.tb = tr & 2;
        run(h, t, c, combination++ % 2 ? nullptr : stream, rng);
      }
  check_cuda_paths(h);
  cudaStreamDestroy(stream);
  dsdkDestroy(h);
  return check::report("test_masked_gemm_cuda");
}
#endif  // DSDK_WITH_CUDA
