// CUDA kernels of the dsdkern ops: each call runs on the input's device and on torch's
// current stream there, so it orders with the surrounding torch work without syncs.
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "torch/conv_common.h"

namespace dsdk_torch {
namespace {

constexpr const char* kBackend = "CUDA";
constexpr std::initializer_list<at::ScalarType> kConvDtypes = {at::kFloat, at::kDouble,
                                                               at::kHalf, at::kBFloat16};

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
                                     dilation, groups, kBackend, kConvDtypes);
  c10::cuda::CUDAGuard guard(input.device());
  return masked_conv_forward(cuda_handle(input.device(), op), sync_stream, input, weight, mask, bias, g);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> masked_conv_backward_cuda(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    const at::Tensor& mask, at::IntArrayRef stride, at::IntArrayRef padding,
    at::IntArrayRef dilation, int64_t groups, std::array<bool, 3> output_mask) {
  const char* op = "masked_conv_backward";
  ConvGeometry g = check_masked_conv(op, input, weight, mask, std::nullopt, &grad_output,
                                     stride, padding, dilation, groups, kBackend, kConvDtypes);
  c10::cuda::CUDAGuard guard(input.device());
  return masked_conv_backward(cuda_handle(input.device(), op), sync_stream, grad_output, input, weight, mask,
                              g, output_mask);
}

}  // namespace
}  // namespace dsdk_torch

TORCH_LIBRARY_IMPL(dsdkern, CUDA, m) {
  m.impl("masked_conv", &dsdk_torch::masked_conv_cuda);
  m.impl("masked_conv_backward", &dsdk_torch::masked_conv_backward_cuda);
}
