// The masked_linear ops behind the measured choice (choice.h): dsdk's masked GEMM
// (linear.h) or torch's dense kernels on W ⊙ M, chosen per direction.
#pragma once
#include <ATen/ATen.h>

#include <array>
#include <optional>
#include <tuple>

#include "dsdkern/dsdkern.h"
#include "torch/choice.h"

namespace dsdk_torch {

// linear(input, weight ⊙ mask, bias) as masked_linear_forward on `handle` or at::linear on
// weight ⊙ mask; shapes as there ([..., in] -> [..., out], contiguous), all tensors on one
// device; `sync` waits for that device. Arguments must have passed check_masked_linear.
at::Tensor chosen_linear_forward(dsdkHandle_t handle, SyncFn sync, const at::Tensor& input,
                                 const at::Tensor& weight, const at::Tensor& mask,
                                 const std::optional<at::Tensor>& bias);

// masked_linear_backward's (grad_input, grad_weight ⊙ mask, grad_bias), backward-data and
// backward-filter each chosen between dsdk's masked GEMM and torch's matmul / mm.
std::tuple<at::Tensor, at::Tensor, at::Tensor> chosen_linear_backward(
    dsdkHandle_t handle, SyncFn sync, const at::Tensor& grad_output, const at::Tensor& input,
    const at::Tensor& weight, const at::Tensor& mask, std::array<bool, 3> output_mask);

}  // namespace dsdk_torch
