#include "torch/dtypes.h"

namespace dsdk_torch {

// dtype_name and dsdk_dtype are defined once, in common.cpp (h-linear's extraction of the
// same helpers).
void check_dtype(const char* op, const char* name, at::ScalarType t, const char* backend,
                 std::initializer_list<at::ScalarType> dtypes) {
  bool supported = false;
  std::string list;
  for (auto d : dtypes) {
    supported = supported || d == t;
    list += (list.empty() ? "" : ", ") + dtype_name(d);
  }
  TORCH_CHECK(supported, op, ": ", name, " dtype ", dtype_name(t), " is not supported on ",
              backend, " (supported: ", list, ")");
}

}  // namespace dsdk_torch
