#include "torch/common.h"

namespace dsdk_torch {

std::string dtype_name(at::ScalarType t) {
  return "torch." + std::string(c10::getDtypeNames(t).first);
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

void check_same_device(const char* op, const at::Tensor& input, const at::Tensor& t,
                       const char* name) {
  TORCH_CHECK(t.device() == input.device(), op, ": ", name, " is on ", t.device(),
              " but input is on ", input.device(), "; all tensors must be on one device");
}

void check_same_dtype(const char* op, const at::Tensor& input, const at::Tensor& t,
                      const char* name) {
  TORCH_CHECK(t.scalar_type() == input.scalar_type(), op, ": ", name, " dtype (",
              dtype_name(t.scalar_type()), ") must match input dtype (",
              dtype_name(input.scalar_type()), ")");
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

at::Tensor mask_bytes(const at::Tensor& mask) {
  at::Tensor m = mask.contiguous();
  return m.scalar_type() == at::kBool ? m.view(at::kByte) : m;
}

}  // namespace dsdk_torch
