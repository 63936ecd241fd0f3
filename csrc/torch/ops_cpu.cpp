// CPU kernels of the dsdkern ops. dsdk runs on torch's intra-op thread count, so a
// comparison with torch's own CPU kernels is like for like.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "torch/conv_common.h"
#include "torch/linear.h"
#include "torch/linear_choice.h"
#include "torch/mask.h"
#include "torch/pool.h"
#include "torch/sparse_ops.h"

namespace dsdk_torch {
namespace {

constexpr const char* kBackend = "CPU";
constexpr std::initializer_list<at::ScalarType> kDtypes = {at::kFloat, at::kDouble};

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
                                     dilation, groups, kBackend, kDtypes);
  return masked_conv_forward(cpu_handle(op), nullptr, input, weight, mask, bias, g);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> masked_conv_backward_cpu(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    const at::Tensor& mask, at::IntArrayRef stride, at::IntArrayRef padding,
    at::IntArrayRef dilation, int64_t groups, std::array<bool, 3> output_mask) {
  const char* op = "masked_conv_backward";
  ConvGeometry g = check_masked_conv(op, input, weight, mask, std::nullopt, &grad_output,
                                     stride, padding, dilation, groups, kBackend, kDtypes);
  return masked_conv_backward(cpu_handle(op), nullptr, grad_output, input, weight, mask, g,
                              output_mask);
}

at::Tensor masked_linear_cpu(const at::Tensor& input, const at::Tensor& weight,
                             const at::Tensor& mask, const std::optional<at::Tensor>& bias) {
  const char* op = "masked_linear";
  check_masked_linear(op, input, weight, mask, bias, nullptr, kBackend, kDtypes);
  return chosen_linear_forward(cpu_handle(op), nullptr, input, weight, mask, bias);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> masked_linear_backward_cpu(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    const at::Tensor& mask, std::array<bool, 3> output_mask) {
  const char* op = "masked_linear_backward";
  check_masked_linear(op, input, weight, mask, std::nullopt, &grad_output, kBackend,
                      kDtypes);
  return chosen_linear_backward(cpu_handle(op), nullptr, grad_output, input, weight, mask,
                                output_mask);
}

at::Tensor magnitude_mask_cpu(const at::Tensor& weight, int64_t keep) {
  const char* op = "magnitude_mask";
  const MaskRequest r{DSDK_MASK_TOPK, keep, 0.0};
  check_mask_args(op, weight, r, kBackend, kDtypes);
  return magnitude_mask(cpu_handle(op), op, weight, r);
}

at::Tensor threshold_mask_cpu(const at::Tensor& weight, double threshold) {
  const char* op = "threshold_mask";
  const MaskRequest r{DSDK_MASK_THRESHOLD, 0, threshold};
  check_mask_args(op, weight, r, kBackend, kDtypes);
  return magnitude_mask(cpu_handle(op), op, weight, r);
}

at::Tensor max_pool2d_cpu(const at::Tensor& input, at::IntArrayRef kernel_size,
                          at::IntArrayRef stride, at::IntArrayRef padding,
                          at::IntArrayRef dilation, bool ceil_mode) {
  const char* op = "max_pool2d";
  return max_pool2d(cpu_handle(op), op, input, kernel_size, stride, padding, dilation,
                    ceil_mode, kBackend, kDtypes);
}

const SparseBackend kSparse{kBackend, kDtypes,
                           [](const at::Device&, const char* op) { return cpu_handle(op); },
                           nullptr};

}  // namespace
}  // namespace dsdk_torch

TORCH_LIBRARY_IMPL(dsdkern, CPU, m) {
  m.impl("masked_conv", &dsdk_torch::masked_conv_cpu);
  m.impl("masked_conv_backward", &dsdk_torch::masked_conv_backward_cpu);
  m.impl("masked_linear", &dsdk_torch::masked_linear_cpu);
  m.impl("masked_linear_backward", &dsdk_torch::masked_linear_backward_cpu);
  m.impl("magnitude_mask", &dsdk_torch::magnitude_mask_cpu);
  m.impl("threshold_mask", &dsdk_torch::threshold_mask_cpu);
  m.impl("max_pool2d", &dsdk_torch::max_pool2d_cpu);
  dsdk_torch::register_sparse_weight_class();  // before the kernels that take it
  m.impl("sparse_conv2d", &dsdk_torch::sparse_conv2d_kernel<dsdk_torch::kSparse>);
  m.impl("sparse_linear", &dsdk_torch::sparse_linear_kernel<dsdk_torch::kSparse>);
}
