// Python-facing functions of the torch layer, one registrar per area.
#pragma once
#include <torch/extension.h>

namespace dsdk_torch {
void register_conv_bindings(pybind11::module_& m);  // conv.cpp
void register_svm_bindings(pybind11::module_& m);   // svm.cpp
void register_choice_bindings(pybind11::module_& m);  // choice.cpp
void register_sparse_bindings(pybind11::module_& m);  // sparse_ops.cpp
}  // namespace dsdk_torch
