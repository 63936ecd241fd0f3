// Autograd kernels of the dsdkern ops, in C++ so that a training step pays no Python per
// layer call (benchmarks/RESULTS.md, "Training step"). A forward runs the op below the
// autograd key; a backward calls the backward op through the dispatcher, so that
// torch.compile traces both as the ops they are. The fake kernels stay in dsdkern/ops.py.
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/library.h>

#include <functional>
#include <string>

namespace dsdk_torch {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using Grads = std::tuple<at::Tensor, at::Tensor, at::Tensor>;

using ConvFn = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                          const std::optional<at::Tensor>&, at::IntArrayRef, at::IntArrayRef,
                          at::IntArrayRef, int64_t);
using ConvBackwardFn = Grads(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                             const at::Tensor&, at::IntArrayRef, at::IntArrayRef,
                             at::IntArrayRef, int64_t, std::array<bool, 3>);
using LinearFn = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                            const std::optional<at::Tensor>&);
using LinearBackwardFn = Grads(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                               const at::Tensor&, std::array<bool, 3>);

template <class Fn>
c10::TypedOperatorHandle<Fn> find_op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Fn>();
}

bool defined(const std::optional<at::Tensor>& t) { return t.has_value() && t->defined(); }

// The output mask of a forward op's backward; the autograd edges are input, weight, mask
// and (when given) bias.
std::array<bool, 3> grads_needed(const AutogradContext* ctx, bool has_bias) {
  return {ctx->needs_input_grad(0), ctx->needs_input_grad(1),
          has_bias && ctx->needs_input_grad(3)};
}

// A backward op's autograd kernel: runs `run` below autograd and records a node that
// refuses double backward, as torch does for ops without a formula. A custom Function
// cannot return undefined tensors, so the Function returns only the requested gradients
// and call() puts the undefined ones back.
struct RefusedBackward : torch::autograd::Function<RefusedBackward> {
  static variable_list forward(AutogradContext* ctx, at::TensorList inputs, const char* op,
                               const std::function<Grads()>& run,
                               std::array<bool, 3> output_mask) {
    ctx->saved_data["op"] = std::string(op);
    at::AutoDispatchBelowADInplaceOrView below;
    Grads g = run();
    variable_list out;
    if (output_mask[0]) out.push_back(std::get<0>(g));
    if (output_mask[1]) out.push_back(std::get<1>(g));
    if (output_mask[2]) out.push_back(std::get<2>(g));
    return out;
  }

  static variable_list backward(AutogradContext* ctx, const variable_list&) {
    TORCH_CHECK(false, ctx->saved_data["op"].toStringRef(),
                ": double backward (gradients of gradients) is not supported");
  }

  static Grads call(at::TensorList inputs, const char* op, const std::function<Grads()>& run,
                    std::array<bool, 3> output_mask) {
    variable_list v = apply(inputs, op, run, output_mask);
    std::array<at::Tensor, 3> g;
    size_t next = 0;
    for (size_t i = 0; i < 3; ++i)
      if (output_mask[i]) g[i] = v[next++];
    return {g[0], g[1], g[2]};
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
                             dilation[1], groups, defined(bias)};
    at::AutoDispatchBelowADInplaceOrView below;
    return op.call(input, weight, mask, bias, stride, padding, dilation, groups);
  }

  // One gradient per forward argument.
  static variable_list backward(AutogradContext* ctx, const variable_list& grads) {
    static auto op = find_op<ConvBackwardFn>("dsdkern::masked_conv_backward");
    auto saved = ctx->get_saved_variables();
    std::vector<int64_t> geo = ctx->saved_data["geometry"].toIntVector();
    at::IntArrayRef stride(&geo[0], 2), padding(&geo[2], 2), dilation(&geo[4], 2);
    auto [gi, gw, gb] = op.call(grads[0], saved[0], saved[1], saved[2], stride, padding,
                                dilation, geo[6], grads_needed(ctx, geo[7] != 0));
    return {gi, gw, at::Tensor(), gb, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

struct MaskedLinear : torch::autograd::Function<MaskedLinear> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input,
                            const at::Tensor& weight, const at::Tensor& mask,
                            const std::optional<at::Tensor>& bias) {
    static auto op = find_op<LinearFn>("dsdkern::masked_linear");
    ctx->save_for_backward({input, weight, mask});
    ctx->saved_data["has_bias"] = defined(bias);
    at::AutoDispatchBelowADInplaceOrView below;
    return op.call(input, weight, mask, bias);
  }

  static variable_list backward(AutogradContext* ctx, const variable_list& grads) {
    static auto op = find_op<LinearBackwardFn>("dsdkern::masked_linear_backward");
    auto saved = ctx->get_saved_variables();
    auto [gi, gw, gb] = op.call(grads[0], saved[0], saved[1], saved[2],
                                grads_needed(ctx, ctx->saved_data["has_bias"].toBool()));
    return {gi, gw, at::Tensor(), gb};
  }
};

at::Tensor masked_conv_autograd(const at::Tensor& input, const at::Tensor& weight,
                                const at::Tensor& mask, const std::optional<at::Tensor>& bias,
                                at::IntArrayRef stride, at::IntArrayRef padding,
                                at::IntArrayRef dilation, int64_t groups) {
  return MaskedConv::apply(input, weight, mask, bias, stride, padding, dilation, groups);
}

Grads masked_conv_backward_autograd(const at::Tensor& grad_output, const at::Tensor& input,
                                    const at::Tensor& weight, const at::Tensor& mask,
                                    at::IntArrayRef stride, at::IntArrayRef padding,
                                    at::IntArrayRef dilation, int64_t groups,
                                    std::array<bool, 3> output_mask) {
  static auto op = find_op<ConvBackwardFn>("dsdkern::masked_conv_backward");
  return RefusedBackward::call(
      {grad_output, input, weight, mask}, "masked_conv",
      [&] {
        return op.call(grad_output, input, weight, mask, stride, padding, dilation, groups,
                       output_mask);
      },
      output_mask);
}

at::Tensor masked_linear_autograd(const at::Tensor& input, const at::Tensor& weight,
                                  const at::Tensor& mask, const std::optional<at::Tensor>& bias) {
  return MaskedLinear::apply(input, weight, mask, bias);
}

Grads masked_linear_backward_autograd(const at::Tensor& grad_output, const at::Tensor& input,
                                      const at::Tensor& weight, const at::Tensor& mask,
                                      std::array<bool, 3> output_mask) {
  static auto op = find_op<LinearBackwardFn>("dsdkern::masked_linear_backward");
  return RefusedBackward::call(
      {grad_output, input, weight, mask}, "masked_linear",
      [&] { return op.call(grad_output, input, weight, mask, output_mask); }, output_mask);
}

}  // namespace
}  // namespace dsdk_torch

TORCH_LIBRARY_IMPL(dsdkern, Autograd, m) {
  m.impl("masked_conv", &dsdk_torch::masked_conv_autograd);
  m.impl("masked_conv_backward", &dsdk_torch::masked_conv_backward_autograd);
  m.impl("masked_linear", &dsdk_torch::masked_linear_autograd);
  m.impl("masked_linear_backward", &dsdk_torch::masked_linear_backward_autograd);
}
