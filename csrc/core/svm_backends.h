// What every SVM backend implements. The C API layer (core/svm.cpp) validates
// arguments, then dispatches here. Pointers live on the backend's device
// (X, y, Z, K); SVMResult is host memory. Labels y are +1 / -1.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/svm_params.h"

namespace dsdk {
namespace cpu {
// T = float or double. Runs on num_threads OpenMP threads.
template <typename T>
dsdkStatus_t svm_smo_train(const SVMParams& p, int64_t n, int64_t d, const T* X,
                           const int32_t* y, int num_threads, SVMResult* out, std::string* msg);
template <typename T>
dsdkStatus_t svm_spsvm_train(const SVMParams& p, int64_t n, int64_t d, const T* X,
                             const int32_t* y, int num_threads, SVMResult* out, std::string* msg);
// Every one-vs-one pair (i, j), i < j, of k classes (labels: n codes in
// [0, k), each class present), in LIBSVM's order; (*out)[p].index are rows of X.
template <typename T>
dsdkStatus_t svm_train_pairs(const SVMParams& p, dsdkSVMSolver_t solver, int64_t n, int64_t d,
                             const T* X, const int32_t* labels, int k,
                             const double* class_weights, int num_threads,
                             std::vector<SVMResult>* out, std::string* msg);
// K[i, j] = kernel(X[i], Z[j]); X: n x d, Z: m x d, K: n x m, all row-major.
template <typename T>
dsdkStatus_t svm_kernel_matrix(const SVMParams& p, int64_t n, int64_t m, int64_t d, const T* X,
                               const T* Z, T* K, int num_threads, std::string* msg);
// out[i] = sum_j model.coef[j] K(Z[i], X[model.index[j]]) + model.bias, i < m;
// X: the training data (rows model.index are read), Z: m x d.
template <typename T>
dsdkStatus_t svm_decision_function(const SVMParams& p, const SVMResult& model, int64_t d,
                                   const T* X, int64_t m, const T* Z, T* out, int num_threads,
                                   std::string* msg);
// LIBSVM's one-vs-one prediction (dsdkSVMPredictOneVsOne): SV nsv x d grouped
// by class (n_support[c] rows each), dual_coef (k - 1) x nsv, intercept per
// pair; decision (m x pairs) and winner (m) may each be null.
template <typename T>
dsdkStatus_t svm_predict_ovo(const SVMParams& p, int k, const int64_t* n_support, int64_t d,
                             const T* SV, const double* dual_coef, const double* intercept,
                             int64_t m, const T* Z, double* decision, int32_t* winner,
                             int num_threads, std::string* msg);
}  // namespace cpu

namespace cuda {
// float32 only; launches on `stream` (a cudaStream_t).
dsdkStatus_t svm_smo_train(const SVMParams& p, int64_t n, int64_t d, const float* X,
                           const int32_t* y, void* stream, SVMResult* out, std::string* msg);
// The host solves SPSVM's Newton systems on host_threads OpenMP threads.
dsdkStatus_t svm_spsvm_train(const SVMParams& p, int64_t n, int64_t d, const float* X,
                             const int32_t* y, int host_threads, void* stream, SVMResult* out,
                             std::string* msg);
dsdkStatus_t svm_kernel_matrix(const SVMParams& p, int64_t n, int64_t m, int64_t d,
                               const float* X, const float* Z, float* K, void* stream,
                               std::string* msg);
dsdkStatus_t svm_decision_function(const SVMParams& p, const SVMResult& model, int64_t d,
                                   const float* X, int64_t m, const float* Z, float* out,
                                   void* stream, std::string* msg);
}  // namespace cuda
}  // namespace dsdk
