// The GEMM paths of csrc/cuda/svm_kernel.cu that the C API does not reach
// directly, under the emulator, against a double reference: split-K (plain,
// with per-column weights, alpha/beta, a workspace that caps the number of
// slices, gathered inner indices) and kernel rows of a gathered set with
// absent (-1) members, whose output rows must stay untouched.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "cuda/svm_common.cuh"

namespace {

using dsdk::cuda::svm::GemmOperand;
int failures = 0;

template <class T>
T* to_device(const std::vector<T>& h) {
  void* p = nullptr;
  cudaMalloc(&p, h.size() * sizeof(T));
  cudaMemcpy(p, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice);
  return static_cast<T*>(p);
}

template <class T>
std::vector<T> to_host(const T* d, size_t count) {
  std::vector<T> h(count);
  cudaMemcpy(h.data(), d, count * sizeof(T), cudaMemcpyDeviceToHost);
  return h;
}

void report(bool ok, const char* what, double err) {
  failures += ok ? 0 : 1;
  std::printf("%s: max error %.2e%s\n", what, err, ok ? "" : "  FAILED");
}

// out = alpha * sum_k w(c(k)) A[:, c(k)] B[:, c(k)]^T + beta * out with
// c(k) = gather ? a permutation-like map into [0, d) : k.
void gemm_nt_case(int64_t m, int64_t n, int64_t kdim, int64_t d, bool gather, bool weights,
                  float alpha, float beta, size_t ws_elems, const char* what) {
  std::mt19937 rng(unsigned(m * 7 + n * 3 + kdim));
  std::normal_distribution<float> g;
  std::vector<float> A(static_cast<size_t>(m * d)), B(static_cast<size_t>(n * d));
  std::vector<float> w(static_cast<size_t>(d)), out(static_cast<size_t>(m * n));
  for (float& v : A) v = g(rng);
  for (float& v : B) v = g(rng);
  for (float& v : w) v = std::fabs(g(rng)) + 0.5f;
  for (float& v : out) v = g(rng);
  std::vector<int32_t> cols(static_cast<size_t>(kdim));
  for (int64_t k = 0; k < kdim; ++k) cols[size_t(k)] = int32_t(gather ? (k * 7919) % d : k);
  float *dA = to_device(A), *dB = to_device(B), *dw = to_device(w), *dout = to_device(out);
  int32_t* dcols = to_device(cols);
  float* ws = nullptr;
  if (ws_elems) cudaMalloc(reinterpret_cast<void**>(&ws), ws_elems * sizeof(float));
  GemmOperand a, b;
  a.data = dA;
  a.ld = d;
  b.data = dB;
  b.ld = d;
  std::string msg;
  const dsdkStatus_t st = dsdk::cuda::svm::launch_gemm_nt(
      m, n, kdim, a, b, gather ? dcols : nullptr, weights ? dw : nullptr, alpha, beta, dout, n,
      ws, ws_elems, nullptr, &msg);
  const std::vector<float> got = to_host(dout, out.size());
  double worst = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0, s_abs = 0;
      for (int64_t k = 0; k < kdim; ++k) {
        const int64_t c = cols[size_t(k)];
        const double t = (weights ? w[size_t(c)] : 1.0) * A[size_t(i * d + c)] *
                         B[size_t(j * d + c)];
        s += t;
        s_abs += std::fabs(t);
      }
      const double ref = alpha * s + (beta != 0.f ? beta * out[size_t(i * n + j)] : 0.0);
      const double err = std::fabs(got[size_t(i * n + j)] - ref) / (1.0 + std::fabs(alpha) * s_abs);
      worst = std::max(worst, err);
    }
  if (st != DSDK_STATUS_SUCCESS) std::printf("%s: %s\n", what, msg.c_str());
  report(st == DSDK_STATUS_SUCCESS && worst < 1e-5, what, worst);
  cudaFree(dA);
  cudaFree(dB);
  cudaFree(dw);
  cudaFree(dout);
  cudaFree(dcols);
  cudaFree(ws);
}

void absent_rows_case() {
  const int64_t q = 6, n = 300, d = 5;
  std::mt19937 rng(3);
  std::normal_distribution<float> g;
  std::vector<float> X(static_cast<size_t>(n * d)), out(static_cast<size_t>(q * n), 42.f);
  for (float& v : X) v = g(rng);
  const std::vector<int32_t> rows{17, -1, 299, -1, 0, 5};
  float *dX = to_device(X), *dout = to_device(out);
  int32_t* drows = to_device(rows);
  GemmOperand a, b;
  a.data = dX;
  a.ld = d;
  a.rows = drows;
  b.data = dX;
  b.ld = d;
  const dsdk::KernelFn<float> f{DSDK_SVM_KERNEL_RBF, 0.3f, 0.f, 3};
  std::string msg;
  const dsdkStatus_t st =
      dsdk::cuda::svm::launch_kernel_gemm(f, q, n, d, a, b, dout, n, nullptr, &msg);
  const std::vector<float> got = to_host(dout, out.size());
  double worst = 0;
  bool untouched = true;
  for (int64_t r = 0; r < q; ++r)
    for (int64_t j = 0; j < n; ++j) {
      const float v = got[size_t(r * n + j)];
      if (rows[size_t(r)] < 0) {
        untouched = untouched && v == 42.f;
        continue;
      }
      double d2 = 0;
      for (int64_t k = 0; k < d; ++k) {
        const double t = double(X[size_t(rows[size_t(r)] * d + k)]) - X[size_t(j * d + k)];
        d2 += t * t;
      }
      worst = std::max(worst, std::fabs(v - std::exp(-0.3 * d2)));
    }
  report(st == DSDK_STATUS_SUCCESS && untouched && worst < 1e-5,
         "RBF rows of a gathered set with absent members (left untouched)", worst);
  cudaFree(dX);
  cudaFree(dout);
  cudaFree(drows);
}

}  // namespace

int main() {
  const size_t big_ws = size_t(1) << 22;
  gemm_nt_case(5, 3, 5000, 5000, false, false, 1.f, 0.f, big_ws, "split-K");
  gemm_nt_case(37, 41, 9000, 9001, false, true, 1.f, 0.f, big_ws, "split-K, weights");
  gemm_nt_case(37, 41, 9000, 9001, false, true, 0.5f, 2.f, big_ws, "split-K, alpha, beta");
  gemm_nt_case(37, 41, 9000, 9001, false, true, 0.5f, 2.f, 3 * 37 * 41,
               "split-K, 3 slices of workspace");
  gemm_nt_case(130, 129, 3000, 3000, true, true, 1.f, 0.f, big_ws, "split-K, gathered columns");
  gemm_nt_case(130, 129, 300, 1000, true, true, 1.f, 1.f, big_ws, "gathered columns, beta 1");
  gemm_nt_case(7, 7, 3, 3, false, false, 1.f, 0.f, 0, "tiny, no workspace");
  absent_rows_case();
  std::printf("gemm_check: %s\n", failures ? "FAILED" : "all checks passed");
  return failures ? 1 : 0;
}
