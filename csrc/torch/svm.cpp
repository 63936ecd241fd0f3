// Placeholder until the svm bindings land.
#include "torch/bindings.h"

namespace dsdk_torch {
void register_svm_bindings(pybind11::module_&) {}
}  // namespace dsdk_torch
