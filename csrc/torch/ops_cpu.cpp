// CPU kernels of the dsdkern ops. dsdk runs on torch's intra-op thread count, so a
// comparison with torch's own CPU kernels is like for like.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "torch/conv_common.h"
#include "torch/linear.h"
#include "torch/linear_choice.h"

namespace dsdk_torch {
namespace {

constexpr const char* kBackend = "CPU";
constexpr std::initializer_list<at::ScalarType> kConvDtypes = {at::kFloat, at::kDouble};

dsdkHandle_t cpu_handle(const char* op) {
  dsdkHandle_t h = thread_handle(DSDK_BACKEND_CPU, -1);
  check_dsdk(dsdkSetNumThreads(h, at::get_num_threads()), h, op, "dsdkSetNumThreads");
  return h;
}

at::Tensor masked_conv_cpu(const at::Tensor& input, const at::Tensor& weight,
                           const at::Tensor& mask, const std::optional<at::Tensor>& bias,
                           at::IntArrayRef stride, at::IntArrayRef padding,
                           at::IntArrayRef dilation, int64_t groups) {
  const char* op = "masked_conv";
  ConvGeometry g = check_masked_conv(op, input, weight, mask, bias, nullptr, stride, padding,
                                     dilation, groups, kBackend, kConvDtypes);
  return masked_conv_forward(cpu_handle(op), nullptr, input, weight, mask, bias, g);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> masked_conv_backward_cpu(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    const at::Tensor& mask, at::IntArrayRef stride, at::IntArrayRef padding,
    at::IntArrayRef dilation, int64_t groups, std::array<bool, 3> output_mask) {
  const char* op = "masked_conv_backward";
  ConvGeometry g = check_masked_conv(op, input, weight, mask, std::nullopt, &grad_output,
                                     stride, padding, dilation, groups, kBackend, kConvDtypes);
  return masked_conv_backward(cpu_handle(op), nullptr, grad_output, input, weight, mask, g,
                              output_mask);
}

at::Tensor masked_linear_cpu(const at::Tensor& input, const at::Tensor& weight,
                             const at::Tensor& mask, const std::optional<at::Tensor>& bias) {
  const char* op = "masked_linear";
  check_masked_linear(op, input, weight, mask, bias, nullptr, kBackend, kConvDtypes);
  return chosen_linear_forward(cpu_handle(op), nullptr, input, weight, mask, bias);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> masked_linear_backward_cpu(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    const at::Tensor& mask, std::array<bool, 3> output_mask) {
  const char* op = "masked_linear_backward";
  check_masked_linear(op, input, weight, mask, std::nullopt, &grad_output, kBackend,
                      kConvDtypes);
  return chosen_linear_backward(cpu_handle(op), nullptr, grad_output, input, weight, mask, output_mask);
}

}  // namespace
}  // namespace dsdk_torch

TORCH_LIBRARY_IMPL(dsdkern, CPU, m) {
  m.impl("masked_conv", &dsdk_torch::masked_conv_cpu);
  m.impl("masked_conv_backward", &dsdk_torch::masked_conv_backward_cpu);
  m.impl("masked_linear", &dsdk_torch::masked_linear_cpu);
  m.impl("masked_linear_backward", &dsdk_torch::masked_linear_backward_cpu);
}
