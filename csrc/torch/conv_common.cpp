#include "torch/conv_common.h"

#include "torch/common.h"

#include <climits>
#include <map>
#include <string>
#include <utility>

namespace dsdk_torch {
namespace {

// The masked calls' algorithm: the sparse ones run from a packed filter (sparse_ops.cpp).
constexpr dsdkConvAlgo_t kAlgo = DSDK_CONV_ALGO_IMPLICIT_GEMM;

std::array<int64_t, 2> pair_arg(const char* op, at::IntArrayRef v, const char* name,
                                int64_t min, const char* rule) {
  TORCH_CHECK(v.size() == 2, op, ": ", name, " must have 2 elements (height, width), got ",
              v.size());
  TORCH_CHECK(v[0] >= min && v[1] >= min, op, ": ", name, " must be ", rule, ", got ", v);
  return {v[0], v[1]};
}

void check_fits_int(const char* op, const at::Tensor& t, const char* name) {
  for (int64_t s : t.sizes())
    TORCH_CHECK(s <= INT_MAX, op, ": ", name, " shape ", t.sizes(),
                " exceeds the 32-bit sizes of the dsdk descriptors");
}

// A caller-owned workspace as a byte tensor on the data's device.
at::Tensor workspace(dsdkHandle_t h, dsdkConvDirection_t dir, const Descriptors& d,
                     const at::TensorOptions& opts, const char* op,
                     dsdkConvAlgo_t algo = kAlgo) {
  size_t bytes = 0;
  check_dsdk(dsdkGetConvolutionWorkspaceSize(h, dir, d.x.p, d.w.p, d.conv.p, d.y.p, algo, &bytes),
             h, op, "dsdkGetConvolutionWorkspaceSize");
  return workspace_tensor(bytes, opts);
}

}  // namespace

Descriptors::Descriptors(const at::Tensor& xt, const at::Tensor& wt, const at::Tensor& yt,
                         const ConvGeometry& g) {
  dsdkDataType_t t = dsdk_dtype(xt.scalar_type());
  TORCH_CHECK(dsdkCreateTensorDescriptor(&x.p) == DSDK_STATUS_SUCCESS &&
                  dsdkCreateTensorDescriptor(&y.p) == DSDK_STATUS_SUCCESS &&
                  dsdkCreateFilterDescriptor(&w.p) == DSDK_STATUS_SUCCESS &&
                  dsdkCreateConvolutionDescriptor(&conv.p) == DSDK_STATUS_SUCCESS,
              "dsdkern: could not allocate dsdk descriptors");
  set_tensor(x.p, t, xt, "input");
  set_tensor(y.p, t, yt, "output");
  TORCH_CHECK(dsdkSetFilter4dDescriptor(w.p, t, int(wt.size(0)), int(wt.size(1)),
                                        int(wt.size(2)), int(wt.size(3))) ==
                  DSDK_STATUS_SUCCESS,
              "dsdkern: dsdkSetFilter4dDescriptor rejected weight of shape ", wt.sizes());
  TORCH_CHECK(dsdkSetConvolution2dDescriptor(
                  conv.p, int(g.padding[0]), int(g.padding[1]), int(g.stride[0]),
                  int(g.stride[1]), int(g.dilation[0]), int(g.dilation[1]),
                  int(g.groups)) == DSDK_STATUS_SUCCESS,
              "dsdkern: dsdkSetConvolution2dDescriptor rejected the convolution geometry");
}

void Descriptors::set_tensor(dsdkTensorDescriptor_t d, dsdkDataType_t t, const at::Tensor& v,
                             const char* name) {
  auto s = v.strides();
  TORCH_CHECK(dsdkSetTensor4dDescriptorEx(d, t, int(v.size(0)), int(v.size(1)),
                                          int(v.size(2)), int(v.size(3)), s[0], s[1], s[2],
                                          s[3]) == DSDK_STATUS_SUCCESS,
              "dsdkern: dsdkSetTensor4dDescriptorEx rejected ", name, " of shape ", v.sizes(),
              " and strides ", s);
}

at::Tensor workspace_tensor(size_t bytes, const at::TensorOptions& opts) {
  const at::TensorOptions bytes_opts =
      opts.dtype(at::kByte).memory_format(at::MemoryFormat::Contiguous);
  if (!opts.device().is_cpu()) return at::empty({int64_t(bytes)}, bytes_opts);
  // On CPU one buffer per thread, grown to the largest workspace asked for and reused
  // while no caller holds it, so that the padded input and partial sums of the sparse
  // convolutions land in memory that is already in the caches: with the larger work item
  // blocks of cpu/conv_direct_sparse.cpp, ResNet-18's sparse 3x3 layers ran 1.03-1.04x
  // faster at batch 1 (2 threads), against 1.00-1.04x for the blocks alone. CUDA's caching
  // allocator already hands back warm memory.
  thread_local at::Tensor cached;
  if (cached.defined() && cached.use_count() > 1) return at::empty({int64_t(bytes)}, bytes_opts);
  if (!cached.defined() || size_t(cached.numel()) < bytes)
    cached = at::empty({int64_t(bytes)}, bytes_opts);
  return cached;
}

at::TensorOptions like_input(const at::Tensor& input) {
  return input.options().memory_format(input.suggest_memory_format());
}

at::Tensor bias_of(const std::optional<at::Tensor>& bias) {
  return bias.has_value() && bias->defined() ? bias->contiguous() : at::Tensor();
}

void check_dsdk(dsdkStatus_t status, dsdkHandle_t handle, const char* op, const char* call) {
  TORCH_CHECK(status == DSDK_STATUS_SUCCESS, op, ": ", call, " failed with ",
              dsdkGetErrorString(status), ": ", dsdkGetLastErrorMessage(handle));
}

ConvGeometry check_masked_conv(const char* op, const at::Tensor& input, const at::Tensor& weight,
                               const at::Tensor& mask, const std::optional<at::Tensor>& bias,
                               const at::Tensor* grad_output, at::IntArrayRef stride,
                               at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups,
                               const char* backend, std::initializer_list<at::ScalarType> dtypes) {
  const bool has_bias = bias.has_value() && bias->defined();
  const at::Tensor* bias_t = has_bias ? &*bias : nullptr;
  check_operand_devices(op, input, weight, mask, bias_t, grad_output);

  TORCH_CHECK(input.dim() == 4, op, ": input must be a 4-D tensor [N, C, H, W], got shape ",
              input.sizes());
  TORCH_CHECK(weight.dim() == 4, op,
              ": weight must be a 4-D tensor [out_channels, in_channels/groups, kH, kW], got "
              "shape ",
              weight.sizes());
  check_operand_dtypes(op, input, weight, mask, bias_t, grad_output, backend, dtypes);

  ConvGeometry g;
  g.stride = pair_arg(op, stride, "stride", 1, "positive");
  g.padding = pair_arg(op, padding, "padding", 0, "non-negative");
  g.dilation = pair_arg(op, dilation, "dilation", 1, "positive");
  TORCH_CHECK(groups >= 1, op, ": groups must be positive, got ", groups);
  g.groups = groups;

  const int64_t C = input.size(1), K = weight.size(0);
  TORCH_CHECK(C >= 1 && input.size(2) >= 1 && input.size(3) >= 1, op,
              ": input must have non-zero channels, height and width, got shape ",
              input.sizes());
  for (int64_t s : weight.sizes())
    TORCH_CHECK(s >= 1, op, ": weight must have non-zero size in every dimension, got shape ",
                weight.sizes());
  check_fits_int(op, input, "input");
  check_fits_int(op, weight, "weight");
  TORCH_CHECK(g.padding[0] <= INT_MAX && g.padding[1] <= INT_MAX && g.stride[0] <= INT_MAX &&
                  g.stride[1] <= INT_MAX && g.dilation[0] <= INT_MAX &&
                  g.dilation[1] <= INT_MAX && groups <= INT_MAX,
              op, ": stride, padding, dilation and groups must fit in 32 bits");

  TORCH_CHECK(C % groups == 0, op, ": input channels (", C, ") must be divisible by groups (",
              groups, ")");
  TORCH_CHECK(K % groups == 0, op, ": weight out_channels (", K,
              ") must be divisible by groups (", groups, ")");
  TORCH_CHECK(weight.size(1) * groups == C, op, ": weight in_channels per group (",
              weight.size(1), ") times groups (", groups, ") must equal input channels (", C,
              ")");
  if (has_bias)
    TORCH_CHECK(bias->dim() == 1 && bias->size(0) == K, op,
                ": bias must be a 1-D tensor of weight.size(0) = ", K,
                " elements, got shape ", bias->sizes());

  auto& out = g.output_hw;
  for (int i = 0; i < 2; ++i) {
    int64_t span = input.size(2 + i) + 2 * g.padding[i] - g.dilation[i] * (weight.size(2 + i) - 1) - 1;
    out[i] = span < 0 ? 0 : span / g.stride[i] + 1;
  }
  TORCH_CHECK(out[0] >= 1 && out[1] >= 1, op, ": output size would be ", out[0], "x", out[1],
              ": input (", input.size(2), "x", input.size(3), ", padding ", g.padding[0], "x",
              g.padding[1], ") is smaller than the dilated weight (", weight.size(2), "x",
              weight.size(3), ", dilation ", g.dilation[0], "x", g.dilation[1], ")");
  if (grad_output) {
    std::array<int64_t, 4> want{input.size(0), K, out[0], out[1]};
    TORCH_CHECK(grad_output->sizes() == at::IntArrayRef(want), op, ": grad_output shape ",
                grad_output->sizes(), " must equal the output shape ", at::IntArrayRef(want));
  }
  return g;
}

dsdkHandle_t thread_handle(dsdkBackend_t backend, int device) {
  struct Cache {
    std::map<std::pair<int, int>, dsdkHandle_t> handles;
    ~Cache() {
      for (auto& kv : handles) dsdkDestroy(kv.second);
    }
  };
  thread_local Cache cache;
  auto key = std::make_pair(int(backend), device);
  auto it = cache.handles.find(key);
  if (it != cache.handles.end()) return it->second;
  dsdkHandle_t h = nullptr;
  dsdkStatus_t st = dsdkCreate(&h, backend);
  TORCH_CHECK(st == DSDK_STATUS_SUCCESS, "dsdkern: dsdkCreate failed with ",
              dsdkGetErrorString(st));
  cache.handles.emplace(key, h);
  return h;
}

at::Tensor dsdk_masked_conv_forward(dsdkHandle_t h, const at::Tensor& input,
                                    const at::Tensor& weight, const at::Tensor& mask,
                                    const std::optional<at::Tensor>& bias, const ConvGeometry& g,
                                    dsdkConvAlgo_t algo) {
  const char* op = "masked_conv";
  std::array<int64_t, 4> shape{input.size(0), weight.size(0), g.output_hw[0], g.output_hw[1]};
  at::Tensor out = at::empty(shape, like_input(input));
  if (input.size(0) == 0) return out;

  at::Tensor w = weight.contiguous(), m = mask_bytes(mask);
  Descriptors d(input, w, out, g);
  at::Tensor ws = workspace(h, DSDK_CONV_FORWARD, d, input.options(), op, algo);
  const Scalars one_zero(input.scalar_type(), 1.0, 0.0);
  const at::Tensor b = bias_of(bias);
  check_dsdk(dsdkMaskedConvolutionBiasForward(
                 h, one_zero.alpha(), d.x.p, input.const_data_ptr(), d.w.p, w.const_data_ptr(),
                 m.const_data_ptr<uint8_t>(), d.conv.p, algo, ws.data_ptr(), size_t(ws.numel()),
                 one_zero.beta(), b.defined() ? b.const_data_ptr() : nullptr, d.y.p,
                 out.data_ptr()),
             h, op, "dsdkMaskedConvolutionBiasForward");
  return out;
}

namespace {

// The dsdk candidates of each direction (the forward one is dsdk_masked_conv_forward).
at::Tensor dsdk_backward_data(dsdkHandle_t h, const at::Tensor& grad_output,
                              const at::Tensor& input, const at::Tensor& weight,
                              const at::Tensor& mask, const ConvGeometry& g) {
  at::Tensor grad_input = at::empty(input.sizes(), like_input(input));
  if (input.size(0) == 0) return grad_input;
  at::Tensor w = weight.contiguous(), m = mask_bytes(mask);
  Descriptors d(grad_input, w, grad_output, g);
  const char* op = "masked_conv_backward";
  at::Tensor ws = workspace(h, DSDK_CONV_BACKWARD_DATA, d, input.options(), op);
  const Scalars one_zero(input.scalar_type(), 1.0, 0.0);
  check_dsdk(dsdkMaskedConvolutionBackwardData(
                 h, one_zero.alpha(), d.w.p, w.const_data_ptr(), m.const_data_ptr<uint8_t>(),
                 d.y.p, grad_output.const_data_ptr(), d.conv.p, kAlgo, ws.data_ptr(),
                 size_t(ws.numel()), one_zero.beta(), d.x.p, grad_input.data_ptr()),
             h, op, "dsdkMaskedConvolutionBackwardData");
  return grad_input;
}

at::Tensor dsdk_backward_filter(dsdkHandle_t h, const at::Tensor& grad_output,
                                const at::Tensor& input, const at::Tensor& weight,
                                const at::Tensor& mask, const ConvGeometry& g) {
  if (input.size(0) == 0) return at::zeros(weight.sizes(), weight.options());
  at::Tensor grad_weight = at::empty(weight.sizes(), weight.options()), m = mask_bytes(mask);
  Descriptors d(input, grad_weight, grad_output, g);
  const char* op = "masked_conv_backward";
  at::Tensor ws = workspace(h, DSDK_CONV_BACKWARD_FILTER, d, input.options(), op);
  const Scalars one_zero(input.scalar_type(), 1.0, 0.0);
  check_dsdk(dsdkMaskedConvolutionBackwardFilter(
                 h, one_zero.alpha(), d.x.p, input.const_data_ptr(), d.y.p,
                 grad_output.const_data_ptr(), d.conv.p, kAlgo, ws.data_ptr(),
                 size_t(ws.numel()), one_zero.beta(), d.w.p, grad_weight.data_ptr(),
                 m.const_data_ptr<uint8_t>()),
             h, op, "dsdkMaskedConvolutionBackwardFilter");
  return grad_weight;
}

// The torch candidates: torch's dense kernels on W ⊙ M. Their outputs are brought to the
// layouts of the dsdk candidates (and of the fake kernels), so the choice never shows.
at::Tensor masked_weight(const at::Tensor& weight, const at::Tensor& mask) {
  return weight * mask;
}

at::Tensor torch_forward(const at::Tensor& input, const at::Tensor& weight,
                         const at::Tensor& mask, const std::optional<at::Tensor>& bias,
                         const ConvGeometry& g) {
  return at::convolution(input, masked_weight(weight, mask), bias, g.stride, g.padding,
                         g.dilation, false, {0, 0}, g.groups)
      .contiguous(input.suggest_memory_format());
}

// One of backward-data (output 0) or backward-filter (output 1) of at::convolution_backward.
at::Tensor torch_backward(const at::Tensor& grad_output, const at::Tensor& input,
                          const at::Tensor& weight, const ConvGeometry& g, int which) {
  auto grads = at::convolution_backward(grad_output, input, weight, std::nullopt, g.stride,
                                        g.padding, g.dilation, false, {0, 0}, g.groups,
                                        {which == 0, which == 1, false});
  return which == 0 ? std::get<0>(grads).contiguous(input.suggest_memory_format())
                    : std::get<1>(grads).contiguous();
}

}  // namespace

ChoiceKey conv_key(const char* direction, const at::Tensor& a, const char* a_name,
                   const at::Tensor& b, const char* b_name, const ConvGeometry& g) {
  ChoiceKey key(direction, a);
  key.add(a_name, a).add(b_name, b).add("stride", g.stride).add("padding", g.padding);
  key.add("dilation", g.dilation).add("groups", g.groups);
  return key;
}

at::Tensor masked_conv_forward(dsdkHandle_t h, SyncFn sync, const at::Tensor& input,
                               const at::Tensor& weight, const at::Tensor& mask,
                               const std::optional<at::Tensor>& bias, const ConvGeometry& g) {
  const bool has_bias = bias.has_value() && bias->defined();
  ChoiceKey key = conv_key("masked_conv forward", input, "input", weight, "weight", g);
  key.add("bias", int64_t(has_bias));
  return run_chosen(
      key, input.device(), sync,
      [&] { return dsdk_masked_conv_forward(h, input, weight, mask, bias, g, kAlgo); },
      [&] { return torch_forward(input, weight, mask, bias, g); });
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> masked_conv_backward(
    dsdkHandle_t h, SyncFn sync, const at::Tensor& grad_output, const at::Tensor& input,
    const at::Tensor& weight, const at::Tensor& mask, const ConvGeometry& g,
    std::array<bool, 3> output_mask) {
  at::Tensor grad_input, grad_weight, grad_bias;
  if (output_mask[0]) {
    ChoiceKey key = conv_key("masked_conv backward-data", grad_output, "grad_output", input,
                             "input", g);
    key.add("weight", weight.sizes());
    grad_input = run_chosen(
        key, input.device(), sync,
        [&] { return dsdk_backward_data(h, grad_output, input, weight, mask, g); },
        [&] { return torch_backward(grad_output, input, masked_weight(weight, mask), g, 0); });
  }
  if (output_mask[1]) {
    ChoiceKey key = conv_key("masked_conv backward-filter", grad_output, "grad_output", input,
                             "input", g);
    key.add("weight", weight.sizes());
    grad_weight = run_chosen(
        key, input.device(), sync,
        [&] { return dsdk_backward_filter(h, grad_output, input, weight, mask, g); },
        [&] { return torch_backward(grad_output, input, weight, g, 1).mul_(mask); });
  }
  if (output_mask[2]) grad_bias = grad_output.sum({0, 2, 3});
  return {grad_input, grad_weight, grad_bias};
}

}  // namespace dsdk_torch
