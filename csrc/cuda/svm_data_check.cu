// Validation of device-resident training data. The C API checks labels and
// finiteness itself for host data; device data is checked here, in one pass,
// with the same messages.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>

#include "cuda/svm_common.cuh"

namespace dsdk {
namespace cuda {
namespace svm {
namespace {

struct DataFacts {
  unsigned long long n_pos, n_neg;
  unsigned long long first_bad_label;  // sample index, ~0 when none
  unsigned long long first_nonfinite;  // element index into X, ~0 when none
};

__global__ void data_facts_kernel(int64_t n, int64_t count_x, const float* X, const int32_t* y,
                                  DataFacts* facts) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t start = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  unsigned long long pos = 0, neg = 0;
  for (int64_t t = start; t < n; t += stride) {
    const int32_t v = y[t];
    if (v == 1) ++pos;
    else if (v == -1) ++neg;
    else atomicMin(&facts->first_bad_label, static_cast<unsigned long long>(t));
  }
  for (int64_t e = start; e < count_x; e += stride)
    if (!isfinite(X[e])) atomicMin(&facts->first_nonfinite, static_cast<unsigned long long>(e));
  if (pos) atomicAdd(&facts->n_pos, pos);
  if (neg) atomicAdd(&facts->n_neg, neg);
}

}  // namespace

dsdkStatus_t check_training_data(int64_t n, int64_t d, const float* X, const int32_t* y,
                                 cudaStream_t s, std::string* msg) {
  DeviceBuffer<DataFacts> facts;
  DSDK_SVM_TRY(facts.alloc(1, "data check", msg));
  DataFacts h{0, 0, ~0ull, ~0ull};
  DSDK_SVM_TRY(exec_status(
      cudaMemcpyAsync(facts.get(), &h, sizeof h, cudaMemcpyHostToDevice, s), "data check", msg));
  constexpr int kThreads = 256;
  data_facts_kernel<<<grid_for(n * d, kThreads), kThreads, 0, s>>>(n, n * d, X, y, facts.get());
  DSDK_SVM_TRY(launch_status("data check", msg));
  DSDK_SVM_TRY(exec_status(
      cudaMemcpyAsync(&h, facts.get(), sizeof h, cudaMemcpyDeviceToHost, s), "data check", msg));
  DSDK_SVM_TRY(exec_status(cudaStreamSynchronize(s), "data check", msg));
  char buf[160];
  if (h.first_bad_label != ~0ull) {
    int32_t v = 0;
    DSDK_SVM_TRY(exec_status(cudaMemcpy(&v, y + h.first_bad_label, sizeof v,
                                        cudaMemcpyDeviceToHost),
                             "data check", msg));
    std::snprintf(buf, sizeof buf, "y[%llu] = %d, labels must be +1 or -1", h.first_bad_label,
                  int(v));
  } else if (h.n_pos == 0 || h.n_neg == 0) {
    std::snprintf(buf, sizeof buf, "y holds only the %s class; both +1 and -1 are needed",
                  h.n_pos ? "+1" : "-1");
  } else if (h.first_nonfinite != ~0ull) {
    std::snprintf(buf, sizeof buf, "X contains NaN or infinity");
  } else {
    return DSDK_STATUS_SUCCESS;
  }
  if (msg) *msg = buf;
  return DSDK_STATUS_BAD_PARAM;
}

}  // namespace svm
}  // namespace cuda
}  // namespace dsdk
