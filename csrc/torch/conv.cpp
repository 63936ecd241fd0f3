// Placeholder until the conv bindings land.
#include "torch/bindings.h"

namespace dsdk_torch {
void register_conv_bindings(pybind11::module_&) {}
}  // namespace dsdk_torch
