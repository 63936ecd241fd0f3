// Tensor-to-C-API helpers every op area shares: dtype names and mapping, the
// device/dtype checks whose messages name the argument, mask bytes, alpha/beta.
#pragma once
#include <ATen/ATen.h>

#include <initializer_list>
#include <string>

#include "dsdkern/dsdkern.h"

namespace dsdk_torch {

// "torch.float32": the spelling Python users see, shared with the fake kernels' messages.
std::string dtype_name(at::ScalarType t);
// "<op>: <name> dtype torch.int64 is not supported on CPU (supported: torch.float32, ...)"
// unless t is one of `dtypes`, the dtypes the calling backend implements.
void check_dtype(const char* op, const char* name, at::ScalarType t, const char* backend,
                 std::initializer_list<at::ScalarType> dtypes);

void check_same_device(const char* op, const at::Tensor& input, const at::Tensor& t,
                       const char* name);
void check_same_dtype(const char* op, const at::Tensor& input, const at::Tensor& t,
                      const char* name);

// The operand checks masked_conv and masked_linear share (`op` prefixes every message,
// which names the argument): every tensor on input's device; then, after the caller's
// shape checks, mask bool/uint8 of weight's shape, weight/bias/grad_output of input's
// dtype, and that dtype one of the backend's `dtypes`. bias and grad_output may be null.
void check_operand_devices(const char* op, const at::Tensor& input, const at::Tensor& weight,
                           const at::Tensor& mask, const at::Tensor* bias,
                           const at::Tensor* grad_output);
void check_operand_dtypes(const char* op, const at::Tensor& input, const at::Tensor& weight,
                          const at::Tensor& mask, const at::Tensor* bias,
                          const at::Tensor* grad_output, const char* backend,
                          std::initializer_list<at::ScalarType> dtypes);

dsdkDataType_t dsdk_dtype(at::ScalarType t);

// The C API reads masks as uint8; a bool tensor has the same bytes.
at::Tensor mask_bytes(const at::Tensor& mask);

// alpha and beta in the host type the C API reads for this dtype (double for float64,
// float otherwise).
struct Scalars {
  float f[2];
  double d[2];
  bool dbl;
  Scalars(at::ScalarType t, double alpha, double beta)
      : f{float(alpha), float(beta)}, d{alpha, beta}, dbl(t == at::kDouble) {}
  const void* alpha() const { return dbl ? static_cast<const void*>(&d[0]) : &f[0]; }
  const void* beta() const { return dbl ? static_cast<const void*>(&d[1]) : &f[1]; }
};

}  // namespace dsdk_torch
