// Plain SVM parameters and results shared by the C API and the solvers.
#pragma once
#include <cstdint>
#include <vector>

#include "dsdkern/dsdkern.h"

namespace dsdk {

struct SVMComm;  // core/svm_comm.h

struct SVMParams {
  dsdkSVMKernel_t kernel = DSDK_SVM_KERNEL_RBF;
  double C = 1.0, gamma = 1.0, coef0 = 0.0;
  int degree = 3;
  double tol = 1e-3;
  int64_t max_iter = -1;
  size_t cache_bytes = size_t(200) << 20;
  double weight_pos = 1.0, weight_neg = 1.0;
  int working_set = 0;  // SMO q, 0 = automatic
  int max_basis = 0;    // SPSVM, 0 = automatic
  int candidates = 0;   // SPSVM candidate batch, 0 = automatic
  uint64_t seed = 0;
  // n host multipliers of C, one per training row (LIBSVM's instance weights),
  // or null for all ones. Valid only during the training call.
  const double* sample_weight = nullptr;
  // Data-parallel training: X and y are this rank's shard and every sum over
  // the rows goes through comm->sum. Null: one process. Valid only during the
  // training call.
  const SVMComm* comm = nullptr;
};

// The bound on alpha_i (SMO) or the loss weight of row i (SPSVM):
// C * the class weight of y_i * the row's sample weight.
inline double row_C(const SVMParams& p, int64_t i, int32_t y) {
  const double c = p.C * (y > 0 ? p.weight_pos : p.weight_neg);
  return p.sample_weight ? c * p.sample_weight[i] : c;
}

struct SVMResult {
  std::vector<int64_t> index;  // sorted ascending
  std::vector<double> coef;
  double bias = 0.0;
  double objective = 0.0;
  int64_t iterations = 0;
  bool converged = true;
};

}  // namespace dsdk
