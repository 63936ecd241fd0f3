// SVM descriptor and model contents. The C API hands out pointers to these.
#pragma once
#include "core/svm_params.h"

// Holds the parameters as set; they are checked when a call uses them
// (dsdkSVMTrain, dsdkSVMKernelMatrix), where the handle can carry a message
// naming the bad one.
struct dsdkSVMStruct {
  dsdk::SVMParams params;  // params.kernel is set only when kernel is a valid value
  int kernel = DSDK_SVM_KERNEL_RBF;  // the kernel value as the caller passed it
};

struct dsdkSVMModelStruct {
  dsdk::SVMResult result;
};
