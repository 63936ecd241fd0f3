// SVM descriptor and model contents. The C API hands out pointers to these.
#pragma once
#include <vector>

#include "core/svm_comm.h"
#include "core/svm_params.h"

// Holds the parameters as set; they are checked when a call uses them
// (dsdkSVMTrain, dsdkSVMKernelMatrix), where the handle can carry a message
// naming the bad one.
struct dsdkSVMStruct {
  dsdk::SVMParams params;  // params.kernel is set only when kernel is a valid value
  int kernel = DSDK_SVM_KERNEL_RBF;  // the kernel value as the caller passed it
  std::vector<double> sample_weight;  // empty: all ones
  dsdk::SVMComm comm;                 // as set by dsdkSetSVMCommunicator
};

// A trained model: the solution and what its decision function needs to
// know of the training call (the kernel, and the shape of X, whose rows
// result.index names).
struct dsdkSVMModelStruct {
  dsdk::SVMResult result;
  dsdk::SVMParams params;
  int64_t n = 0, d = 0;
};
