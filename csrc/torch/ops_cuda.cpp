// CUDA kernels of the dsdkern ops: each call runs on the input's device and on torch's
// current stream there, so it orders with the surrounding torch work without syncs.
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "torch/conv_common.h"
#include "torch/linear.h"
#include "torch/linear_choice.h"
#include "torch/mask.h"
#include "torch/sparse_ops.h"

namespace dsdk_torch {
namespace {

constexpr const char* kBackend = "CUDA";
constexpr std::initializer_list<at::ScalarType> kDtypes = {at::kFloat, at::kDouble, at::kHalf,
                                                           at::kBFloat16};

// The caller holds a guard on `device`. check_masked_conv has put every tensor on the
// input's device, and the dispatcher only sends calls with a CUDA tensor here.
dsdkHandle_t cuda_handle(const at::Device& device, const char* op) {
  dsdkHandle_t h = thread_handle(DSDK_BACKEND_CUDA, device.index());
  check_dsdk(dsdkSetStream(h, at::cuda::getCurrentCUDAStream(device.index()).stream()), h, op,
             "dsdkSetStream");
  return h;
}

// A measured choice times whole runs: both candidates queue on the current stream.
void sync_stream(const at::Device& device) {
  at::cuda::getCurrentCUDAStream(device.index()).synchronize();
}

at::Tensor masked_conv_cuda(const at::Tensor& input, const at::Tensor& weight,
                            const at::Tensor& mask, const std::optional<at::Tensor>& bias,
                            at::IntArrayRef stride, at::IntArrayRef padding,
                            at::IntArrayRef dilation, int64_t groups) {
  const char* op = "masked_conv";
  ConvGeometry g = check_masked_conv(op, input, weight, mask, bias, nullptr, stride, padding,
                                     dilation, groups, kBackend, kDtypes);
  c10::cuda::CUDAGuard guard(input.device());
  return masked_conv_forward(cuda_handle(input.device(), op), sync_stream, input, weight, mask,
                             bias, g);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> masked_conv_backward_cuda(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    const at::Tensor& mask, at::IntArrayRef stride, at::IntArrayRef padding,
    at::IntArrayRef dilation, int64_t groups, std::array<bool, 3> output_mask) {
  const char* op = "masked_conv_backward";
  ConvGeometry g = check_masked_conv(op, input, weight, mask, std::nullopt, &grad_output,
                                     stride, padding, dilation, groups, kBackend, kDtypes);
  c10::cuda::CUDAGuard guard(input.device());
  return masked_conv_backward(cuda_handle(input.device(), op), sync_stream, grad_output, input,
                              weight, mask, g, output_mask);
}

at::Tensor masked_linear_cuda(const at::Tensor& input, const at::Tensor& weight,
                              const at::Tensor& mask, const std::optional<at::Tensor>& bias) {
  const char* op = "masked_linear";
  check_masked_linear(op, input, weight, mask, bias, nullptr, kBackend, kDtypes);
  c10::cuda::CUDAGuard guard(input.device());
  return chosen_linear_forward(cuda_handle(input.device(), op), sync_stream, input, weight, mask,
                               bias);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> masked_linear_backward_cuda(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    const at::Tensor& mask, std::array<bool, 3> output_mask) {
  const char* op = "masked_linear_backward";
  check_masked_linear(op, input, weight, mask, std::nullopt, &grad_output, kBackend,
                      kDtypes);
  c10::cuda::CUDAGuard guard(input.device());
  return chosen_linear_backward(cuda_handle(input.device(), op), sync_stream, grad_output, input,
                                weight, mask, output_mask);
}

at::Tensor magnitude_mask_cuda(const at::Tensor& weight, int64_t keep) {
  const char* op = "magnitude_mask";
  const MaskRequest r{DSDK_MASK_TOPK, keep, 0.0};
  check_mask_args(op, weight, r, kBackend, kDtypes);
  c10::cuda::CUDAGuard guard(weight.device());
  return magnitude_mask(cuda_handle(weight.device(), op), op, weight, r);
}

at::Tensor threshold_mask_cuda(const at::Tensor& weight, double threshold) {
  const char* op = "threshold_mask";
  const MaskRequest r{DSDK_MASK_THRESHOLD, 0, threshold};
  check_mask_args(op, weight, r, kBackend, kDtypes);
  c10::cuda::CUDAGuard guard(weight.device());
  return magnitude_mask(cuda_handle(weight.device(), op), op, weight, r);
}

const SparseBackend kSparse{kBackend, kDtypes, cuda_handle, sync_stream};

}  // namespace
}  // namespace dsdk_torch

TORCH_LIBRARY_IMPL(dsdkern, CUDA, m) {
  m.impl("masked_conv", &dsdk_torch::masked_conv_cuda);
  m.impl("masked_conv_backward", &dsdk_torch::masked_conv_backward_cuda);
  m.impl("masked_linear", &dsdk_torch::masked_linear_cuda);
  m.impl("masked_linear_backward", &dsdk_torch::masked_linear_backward_cuda);
  m.impl("magnitude_mask", &dsdk_torch::magnitude_mask_cuda);
  m.impl("threshold_mask", &dsdk_torch::threshold_mask_cuda);
  dsdk_torch::register_sparse_weight_class();  // before the kernels that take it
  m.impl("sparse_conv2d", &dsdk_torch::sparse_conv2d_kernel<dsdk_torch::kSparse>);
  m.impl("sparse_linear", &dsdk_torch::sparse_linear_kernel<dsdk_torch::kSparse>);
}
