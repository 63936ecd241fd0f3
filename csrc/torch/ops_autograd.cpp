// Autograd kernels of the dsdkern ops, in C++ so that a training step pays no Python per
// layer call (benchmarks/RESULTS.md, "Training step"). A forward runs the op below the
// autograd key; a backward calls the backward op through the dispatcher, so that
// torch.compile traces both as the ops they are. The fake kernels stay in dsdkern/ops.py.
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/library.h>

namespace dsdk_torch {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

using ConvFn = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                          const std::optional<at::Tensor>&, at::IntArrayRef, at::IntArrayRef,
                          at::IntArrayRef, int64_t);
using ConvBackwardFn = std::tuple<at::Tensor, at::Tensor, at::Tensor>(
    const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, at::IntArrayRef,
    at::IntArrayRef, at::IntArrayRef, int64_t, std::array<bool, 3>);

template <class Fn>
c10::TypedOperatorHandle<Fn> find_op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Fn>();
}

// A custom Function cannot return undefined tensors, so the backward op's Function returns
// only the requested gradients and unpacked() puts the undefined ones back.
variable_list requested(const std::tuple<at::Tensor, at::Tensor, at::Tensor>& g,
                        std::array<bool, 3> output_mask) {
  variable_list out;
  if (output_mask[0]) out.push_back(std::get<0>(g));
  if (output_mask[1]) out.push_back(std::get<1>(g));
  if (output_mask[2]) out.push_back(std::get<2>(g));
  return out;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> unpacked(const variable_list& v,
                                                       std::array<bool, 3> output_mask) {
  std::array<at::Tensor, 3> g;
  size_t next = 0;
  for (size_t i = 0; i < 3; ++i)
    if (output_mask[i]) g[i] = v[next++];
  return {g[0], g[1], g[2]};
}

// Backward of the backward op: refused, as torch refuses for ops without a formula.
struct MaskedConvBackward : torch::autograd::Function<MaskedConvBackward> {
  static variable_list forward(AutogradContext*, const at::Tensor& grad_output,
                               const at::Tensor& input, const at::Tensor& weight,
                               const at::Tensor& mask, at::IntArrayRef stride,
                               at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups,
                               std::array<bool, 3> output_mask) {
    static auto op = find_op<ConvBackwardFn>("dsdkern::masked_conv_backward");
    at::AutoDispatchBelowADInplaceOrView below;
    auto grads = op.call(grad_output, input, weight, mask, stride, padding, dilation, groups,
                         output_mask);
    return requested(grads, output_mask);
  }

  static variable_list backward(AutogradContext*, const variable_list&) {
    TORCH_CHECK(false, "masked_conv: double backward (gradients of gradients) is not supported");
  }
};

struct MaskedConv : torch::autograd::Function<MaskedConv> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input,
                            const at::Tensor& weight, const at::Tensor& mask,
                            const std::optional<at::Tensor>& bias, at::IntArrayRef stride,
                            at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups) {
    static auto op = find_op<ConvFn>("dsdkern::masked_conv");
    ctx->save_for_backward({input, weight, mask});
    ctx->saved_data["geometry"] =
        std::vector<int64_t>{stride[0], stride[1], padding[0], padding[1], dilation[0],
                             dilation[1], groups, bias.has_value() && bias->defined()};
    at::AutoDispatchBelowADInplaceOrView below;
    return op.call(input, weight, mask, bias, stride, padding, dilation, groups);
  }

  // One gradient per forward argument; the edges are input, weight, mask and bias (if any).
  static variable_list backward(AutogradContext* ctx, const variable_list& grads) {
    static auto op = find_op<ConvBackwardFn>("dsdkern::masked_conv_backward");
    auto saved = ctx->get_saved_variables();
    std::vector<int64_t> geo = ctx->saved_data["geometry"].toIntVector();
    const bool has_bias = geo[7] != 0;
    std::array<bool, 3> output_mask{ctx->needs_input_grad(0), ctx->needs_input_grad(1),
                                    has_bias && ctx->needs_input_grad(3)};
    at::IntArrayRef stride(&geo[0], 2), padding(&geo[2], 2), dilation(&geo[4], 2);
    auto [gi, gw, gb] = op.call(grads[0], saved[0], saved[1], saved[2], stride, padding,
                                dilation, geo[6], output_mask);
    return {gi, gw, at::Tensor(), gb, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor masked_conv_autograd(const at::Tensor& input, const at::Tensor& weight,
                                const at::Tensor& mask, const std::optional<at::Tensor>& bias,
                                at::IntArrayRef stride, at::IntArrayRef padding,
                                at::IntArrayRef dilation, int64_t groups) {
  return MaskedConv::apply(input, weight, mask, bias, stride, padding, dilation, groups);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> masked_conv_backward_autograd(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    const at::Tensor& mask, at::IntArrayRef stride, at::IntArrayRef padding,
    at::IntArrayRef dilation, int64_t groups, std::array<bool, 3> output_mask) {
  return unpacked(MaskedConvBackward::apply(grad_output, input, weight, mask, stride, padding,
                                            dilation, groups, output_mask),
                  output_mask);
}

}  // namespace
}  // namespace dsdk_torch

TORCH_LIBRARY_IMPL(dsdkern, Autograd, m) {
  m.impl("masked_conv", &dsdk_torch::masked_conv_autograd);
  m.impl("masked_conv_backward", &dsdk_torch::masked_conv_backward_autograd);
}
