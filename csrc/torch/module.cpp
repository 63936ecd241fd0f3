// The Python module dsdkern._C. Custom ops register themselves through
// TORCH_LIBRARY when the module loads; plain functions are bound here.
#include "dsdkern/dsdkern.h"
#include "torch/bindings.h"

PYBIND11_MODULE(_C, m) {
  m.doc() = "dsdkern kernels";
  m.def("has_cuda_backend", []() { return dsdkHasCudaBackend() != 0; },
        "True when the library was built with its CUDA backend.");
  dsdk_torch::register_conv_bindings(m);
  dsdk_torch::register_svm_bindings(m);
  dsdk_torch::register_choice_bindings(m);
  dsdk_torch::register_sparse_bindings(m);
}
