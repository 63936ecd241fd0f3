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

void check_operand_devices(const char* op, const at::Tensor& input, const at::Tensor& weight,
                           const at::Tensor& mask, const at::Tensor* bias,
                           const at::Tensor* grad_output) {
  check_same_device(op, input, weight, "weight");
  check_same_device(op, input, mask, "mask");
  if (bias) check_same_device(op, input, *bias, "bias");
  if (grad_output) check_same_device(op, input, *grad_output, "grad_output");
}

void check_operand_dtypes(const char* op, const at::Tensor& input, const at::Tensor& weight,
                          const at::Tensor& mask, const at::Tensor* bias,
                          const at::Tensor* grad_output, const char* backend,
                          std::initializer_list<at::ScalarType> dtypes) {
  TORCH_CHECK(mask.scalar_type() == at::kBool || mask.scalar_type() == at::kByte, op,
              ": mask must be bool or uint8, got ", dtype_name(mask.scalar_type()));
  TORCH_CHECK(mask.sizes() == weight.sizes(), op, ": mask shape ", mask.sizes(),
              " must equal weight shape ", weight.sizes());
  check_same_dtype(op, input, weight, "weight");
  if (bias) check_same_dtype(op, input, *bias, "bias");
  if (grad_output) check_same_dtype(op, input, *grad_output, "grad_output");
  check_dtype(op, "input", input.scalar_type(), backend, dtypes);
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
