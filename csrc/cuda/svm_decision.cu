// Decision values of a trained binary SVM on the GPU: the query rows go
// through in blocks; each block is one fused kernel GEMM against the support
// (basis) vectors, gathered from the training data by index inside the GEMM,
// then one weighted row sum per query (a block per row, summed in double).
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <vector>

#include "core/svm_backends.h"
#include "cuda/svm_common.cuh"

namespace dsdk {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65535;

__global__ void weighted_rows_kernel(int64_t rows, int64_t nsv, const float* K,
                                     const double* coef, double bias, float* out) {
  __shared__ double scratch[33];
  for (int64_t i = blockIdx.x; i < rows; i += gridDim.x) {
    const float* k = K + i * nsv;
    double s = 0.0;
    for (int64_t j = threadIdx.x; j < nsv; j += blockDim.x) s += coef[j] * double(k[j]);
    s = svm::block_reduce(s, svm::SumOp(), 0.0, scratch);
    if (threadIdx.x == 0) out[i] = float(s + bias);
  }
}

__global__ void fill_kernel(int64_t m, float v, float* out) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < m;
       i += int64_t(gridDim.x) * blockDim.x)
    out[i] = v;
}

}  // namespace

dsdkStatus_t svm_decision_function(const SVMParams& p, const SVMResult& model, int64_t d,
                                   const float* X, int64_t m, const float* Z, float* out,
                                   void* stream, std::string* msg) {
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  const int64_t nsv = int64_t(model.index.size());
  if (nsv == 0) {
    fill_kernel<<<svm::grid_for(m, kThreads), kThreads, 0, s>>>(m, float(model.bias), out);
    return launch_status("SVM decision: fill", msg);
  }
  std::vector<int32_t> idx(static_cast<size_t>(nsv));
  for (int64_t j = 0; j < nsv; ++j) {
    if (model.index[size_t(j)] > INT_MAX) {
      if (msg) *msg = "SVM decision: training row indices above 2^31 are not supported on CUDA";
      return DSDK_STATUS_NOT_SUPPORTED;
    }
    idx[size_t(j)] = int32_t(model.index[size_t(j)]);
  }
  const int64_t block =
      std::max<int64_t>(1, std::min<int64_t>(m, (int64_t(64) << 20) / (nsv * 4)));
  svm::DeviceBuffer<int32_t> idx_dev;
  svm::DeviceBuffer<double> coef_dev;
  svm::DeviceBuffer<float> K;
  DSDK_SVM_TRY(idx_dev.alloc(size_t(nsv), "SVM decision: support indices", msg));
  DSDK_SVM_TRY(coef_dev.alloc(size_t(nsv), "SVM decision: coefficients", msg));
  DSDK_SVM_TRY(K.alloc(size_t(block) * size_t(nsv), "SVM decision: kernel block", msg));
  // Pageable sources: the copies are staged before the calls return.
  DSDK_SVM_TRY(svm::exec_status(cudaMemcpyAsync(idx_dev.get(), idx.data(), nsv * sizeof(int32_t),
                                                cudaMemcpyHostToDevice, s),
                                "SVM decision: support indices", msg));
  DSDK_SVM_TRY(svm::exec_status(cudaMemcpyAsync(coef_dev.get(), model.coef.data(),
                                                nsv * sizeof(double), cudaMemcpyHostToDevice, s),
                                "SVM decision: coefficients", msg));
  const KernelFn<float> f{p.kernel, float(p.gamma), float(p.coef0), p.degree};
  svm::GemmOperand sv;
  sv.data = X;
  sv.ld = d;
  sv.rows = idx_dev.get();
  for (int64_t r0 = 0; r0 < m; r0 += block) {
    const int64_t rows = std::min(block, m - r0);
    svm::GemmOperand q;
    q.data = Z + r0 * d;
    q.ld = d;
    DSDK_SVM_TRY(svm::launch_kernel_gemm(f, rows, nsv, d, q, sv, K.get(), nsv, s, msg));
    weighted_rows_kernel<<<unsigned(std::min(rows, kMaxBlocks)), kThreads, 0, s>>>(
        rows, nsv, K.get(), coef_dev.get(), model.bias, out + r0);
    DSDK_SVM_TRY(launch_status("SVM decision: weighted rows", msg));
  }
  // The buffers are freed on return (cudaFree waits for the kernels).
  return DSDK_STATUS_SUCCESS;
}

}  // namespace cuda
}  // namespace dsdk
