// Decision values of trained SVMs on the CPU: the support (basis) vectors are
// gathered once, then the queries go through in row blocks: a kernel block by
// svm_kernel_matrix, then weighted row sums per query, accumulated in double
// (one per binary model, or one per class pair of a one-vs-one model).
#include <omp.h>

#include <algorithm>
#include <vector>

#include "core/svm_backends.h"
#include "cpu/threads.h"
#include "cpu/vmath.h"

namespace dsdk {
namespace cpu {
namespace {
// Query rows per block: a kernel block of about 64 MiB.
template <typename T>
int64_t query_block(int64_t m, int64_t nsv) {
  const int64_t row_bytes = std::max<int64_t>(1, nsv) * int64_t(sizeof(T));
  return std::max<int64_t>(1, std::min<int64_t>(m, (int64_t(64) << 20) / row_bytes));
}
}  // namespace

template <typename T>
dsdkStatus_t svm_decision_function(const SVMParams& p, const SVMResult& model, int64_t d,
                                   const T* X, int64_t m, const T* Z, T* out, int num_threads,
                                   std::string* msg) {
  const int64_t nsv = int64_t(model.index.size());
  if (nsv == 0) {
    std::fill(out, out + m, T(model.bias));
    return DSDK_STATUS_SUCCESS;
  }
  std::vector<T> sv(size_t(nsv) * size_t(d));
  for (int64_t j = 0; j < nsv; ++j)
    std::copy(X + model.index[size_t(j)] * d, X + (model.index[size_t(j)] + 1) * d,
              &sv[size_t(j) * size_t(d)]);
  const int64_t block = query_block<T>(m, nsv);
  std::vector<T> K(size_t(block) * size_t(nsv));
  const double* coef = model.coef.data();
  for (int64_t r0 = 0; r0 < m; r0 += block) {
    const int64_t rows = std::min(block, m - r0);
    const dsdkStatus_t st =
        svm_kernel_matrix<T>(p, rows, nsv, d, Z + r0 * d, sv.data(), K.data(), num_threads, msg);
    if (st != DSDK_STATUS_SUCCESS) return st;
#pragma omp parallel for num_threads(threads_for(rows * nsv, num_threads)) schedule(static)
    for (int64_t i = 0; i < rows; ++i) {
      const T* k = &K[size_t(i) * size_t(nsv)];
      double s = model.bias;
      for (int64_t j = 0; j < nsv; ++j) s += coef[j] * double(k[j]);
      out[r0 + i] = T(s);
    }
  }
  return DSDK_STATUS_SUCCESS;
}

template <typename T>
dsdkStatus_t svm_predict_ovo(const SVMParams& p, int k, const int64_t* n_support, int64_t d,
                             const T* SV, const double* dual_coef, const double* intercept,
                             int64_t m, const T* Z, double* decision, int32_t* winner,
                             int num_threads, std::string* msg) {
  std::vector<int64_t> start(size_t(k) + 1, 0);
  for (int c = 0; c < k; ++c) start[size_t(c) + 1] = start[size_t(c)] + n_support[c];
  const int64_t nsv = start[size_t(k)], pairs = int64_t(k) * (k - 1) / 2;
  const int64_t block = query_block<T>(m, nsv);
  std::vector<T> K(size_t(block) * size_t(nsv));
  // A thread team pays off only above ~2^24 products, for the kernel block
  // (rows x nsv x d) and for the SIMD pair sums (rows x nsv x (k - 1)): below,
  // on a loaded machine its join waits a scheduler slice for a descheduled
  // thread (2 threads, load 12: breast_cancer's 143 x 101 x 30 kernel 20-26 ms,
  // digits' 450 x 600 x 9 pair sums 36-52 ms; one thread: 0.2 and 1.6 ms).
  constexpr int64_t kTeamWork = int64_t(1) << 24;
  const int kernel_team = block * nsv * d < kTeamWork ? 1 : num_threads;
  const int team = block * nsv * (k - 1) < kTeamWork ? 1 : num_threads;
  // Vote counts per thread.
  std::vector<int64_t> votes(size_t(team) * size_t(k));
  for (int64_t r0 = 0; r0 < m; r0 += block) {
    const int64_t rows = std::min(block, m - r0);
    if (nsv > 0) {
      const dsdkStatus_t st =
          svm_kernel_matrix<T>(p, rows, nsv, d, Z + r0 * d, SV, K.data(), kernel_team, msg);
      if (st != DSDK_STATUS_SUCCESS) return st;
    }
#pragma omp parallel num_threads(team)
    {
      int64_t* v = &votes[size_t(omp_get_thread_num()) * size_t(k)];
#pragma omp for schedule(static)
      for (int64_t i = 0; i < rows; ++i) {
        const T* Ki = K.data() + size_t(i) * size_t(nsv);
        std::fill(v, v + k, 0);
        int64_t pi = 0;
        for (int a = 0; a < k; ++a)
          for (int b = a + 1; b < k; ++b, ++pi) {
            // A vector of class a keeps its coefficient for (a, b) in row b - 1,
            // one of class b in row a.
            const double* ca = dual_coef + size_t(b - 1) * size_t(nsv);
            const double* cb = dual_coef + size_t(a) * size_t(nsv);
            const int64_t sa = start[size_t(a)], sb = start[size_t(b)];
            const double f = intercept[pi] + dot_mixed(Ki + sa, ca + sa, n_support[a]) +
                             dot_mixed(Ki + sb, cb + sb, n_support[b]);
            if (decision) decision[size_t(r0 + i) * size_t(pairs) + size_t(pi)] = f;
            ++v[f > 0 ? a : b];
          }
        if (winner) winner[r0 + i] = int32_t(std::max_element(v, v + k) - v);  // first maximum
      }
    }
  }
  return DSDK_STATUS_SUCCESS;
}

template dsdkStatus_t svm_predict_ovo<float>(const SVMParams&, int, const int64_t*, int64_t,
                                             const float*, const double*, const double*,
                                             int64_t, const float*, double*, int32_t*, int,
                                             std::string*);
template dsdkStatus_t svm_predict_ovo<double>(const SVMParams&, int, const int64_t*, int64_t,
                                              const double*, const double*, const double*,
                                              int64_t, const double*, double*, int32_t*, int,
                                              std::string*);
template dsdkStatus_t svm_decision_function<float>(const SVMParams&, const SVMResult&, int64_t,
                                                   const float*, int64_t, const float*, float*,
                                                   int, std::string*);
template dsdkStatus_t svm_decision_function<double>(const SVMParams&, const SVMResult&, int64_t,
                                                    const double*, int64_t, const double*,
                                                    double*, int, std::string*);

}  // namespace cpu
}  // namespace dsdk
