#include "torch/dtypes.h"

namespace dsdk_torch {

std::string dtype_name(at::ScalarType t) {
  return "torch." + std::string(c10::getDtypeNames(t).first);
}

dsdkDataType_t dsdk_dtype(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return DSDK_DATA_FLOAT;
    case at::kDouble: return DSDK_DATA_DOUBLE;
    case at::kHalf: return DSDK_DATA_HALF;
    case at::kBFloat16: return DSDK_DATA_BFLOAT16;
    default: TORCH_CHECK(false, "dsdkern: dtype ", t, " has no dsdk data type");
  }
}

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
