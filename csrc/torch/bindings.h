// Python-facing functions of the torch layer, one registrar per area.
#pragma once
#include <torch/extension.h>

namespace dsdk_torch {
void register_conv_bindings(pybind11::module_& m);  // conv.cpp
void register_svm_bindings(pybind11::module_& m);   // svm.cpp
}  // namespace dsdk_torch
