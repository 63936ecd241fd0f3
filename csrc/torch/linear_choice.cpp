#include "torch/linear_choice.h"

#include "torch/linear.h"

namespace dsdk_torch {

at::Tensor chosen_linear_forward(dsdkHandle_t h, SyncFn sync, const at::Tensor& input,
                                 const at::Tensor& weight, const at::Tensor& mask,
                                 const std::optional<at::Tensor>& bias) {
  ChoiceKey key("masked_linear forward", input);
  key.add("input", input).add("weight", weight.sizes());
  key.add("bias", int64_t(bias.has_value() && bias->defined()));
  return run_chosen(
      key, input.device(), sync, [&] { return masked_linear_forward(h, input, weight, mask, bias); },
      [&] { return at::linear(input, weight * mask, bias).contiguous(); });
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> chosen_linear_backward(
    dsdkHandle_t h, SyncFn sync, const at::Tensor& grad_output, const at::Tensor& input,
    const at::Tensor& weight, const at::Tensor& mask, std::array<bool, 3> output_mask) {
  at::Tensor grad_input, grad_weight, grad_bias;
  if (output_mask[0]) {
    ChoiceKey key("masked_linear backward-data", grad_output);
    key.add("grad_output", grad_output).add("weight", weight);
    grad_input = run_chosen(
        key, input.device(), sync,
        [&] {
          return std::get<0>(
              masked_linear_backward(h, grad_output, input, weight, mask, {true, false, false}));
        },
        [&] { return at::matmul(grad_output, weight * mask).contiguous(); });
  }
  if (output_mask[1]) {
    ChoiceKey key("masked_linear backward-filter", grad_output);
    key.add("grad_output", grad_output).add("input", input);
    grad_weight = run_chosen(
        key, input.device(), sync,
        [&] {
          return std::get<1>(
              masked_linear_backward(h, grad_output, input, weight, mask, {false, true, false}));
        },
        // einsum sums over every leading dimension, none and empty ones included.
        [&] { return at::einsum("...o,...i->oi", {grad_output, input}).contiguous().mul_(mask); });
  }
  if (output_mask[2])
    grad_bias = std::get<2>(
        masked_linear_backward(h, grad_output, input, weight, mask, {false, false, true}));
  return {grad_input, grad_weight, grad_bias};
}

}  // namespace dsdk_torch
