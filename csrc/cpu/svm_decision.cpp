// Decision values of a trained binary SVM on the CPU: the support (basis)
// vectors are gathered from the training data once, then the queries go
// through in row blocks: a kernel block by svm_kernel_matrix, then one
// weighted row sum per query, accumulated in double.
#include <algorithm>
#include <vector>

#include "core/svm_backends.h"
#include "cpu/threads.h"

namespace dsdk {
namespace cpu {

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
  // Query rows per block: a kernel block of about 64 MiB.
  const int64_t block =
      std::max<int64_t>(1, std::min<int64_t>(m, (int64_t(64) << 20) / (nsv * int64_t(sizeof(T)))));
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

template dsdkStatus_t svm_decision_function<float>(const SVMParams&, const SVMResult&, int64_t,
                                                   const float*, int64_t, const float*, float*,
                                                   int, std::string*);
template dsdkStatus_t svm_decision_function<double>(const SVMParams&, const SVMResult&, int64_t,
                                                    const double*, int64_t, const double*,
                                                    double*, int, std::string*);

}  // namespace cpu
}  // namespace dsdk
