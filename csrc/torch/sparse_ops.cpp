#include "torch/sparse_ops.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/DeviceGuard.h>
#include <torch/csrc/jit/python/pybind_utils.h>

#include <algorithm>
#include <cmath>

#include "torch/bindings.h"
#include "torch/common.h"
#include "torch/linear.h"
#include "torch/sparse_choice.h"

namespace dsdk_torch {
namespace {

constexpr const char* kAuto = "auto";
constexpr const char* kDenseTorch = "dense_torch";

bool has(const std::optional<at::Tensor>& t) { return t.has_value() && t->defined(); }

void check_algo(const char* op, std::string_view algo, const std::vector<std::string>& names) {
  if (std::find(names.begin(), names.end(), algo) != names.end()) return;
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "\"" : ", \"") + n + "\"";
  TORCH_CHECK_VALUE(false, op, ": algo must be one of ", list, ", got \"", std::string(algo),
                    "\"");
}

// Sparsity in 5 % steps: problems within one step share a measured winner.
int64_t sparsity_bucket(double sparsity) { return int64_t(std::lround(sparsity * 20.0)); }

// Workspace bytes of a packed-filter algorithm, or false when it cannot run the problem.
bool packed_workspace(dsdkHandle_t h, const Descriptors& d, dsdkSparseFilter_t f,
                      dsdkConvAlgo_t algo, size_t* bytes) {
  return dsdkGetSparseConvolutionForwardWorkspaceSize(h, d.x.p, f, d.conv.p, d.y.p, algo,
                                                      bytes) == DSDK_STATUS_SUCCESS;
}

at::Tensor packed_conv(dsdkHandle_t h, const at::Tensor& input, const at::Tensor& weight,
                       dsdkSparseFilter_t f, const std::optional<at::Tensor>& bias,
                       const ConvGeometry& g, dsdkConvAlgo_t algo) {
  const char* op = "sparse_conv2d";
  at::Tensor out = at::empty({input.size(0), weight.size(0), g.output_hw[0], g.output_hw[1]},
                             like_input(input));
  Descriptors d(input, weight, out, g);
  size_t bytes = 0;
  check_dsdk(dsdkGetSparseConvolutionForwardWorkspaceSize(h, d.x.p, f, d.conv.p, d.y.p, algo,
                                                          &bytes),
             h, op, "dsdkGetSparseConvolutionForwardWorkspaceSize");
  at::Tensor ws = workspace_tensor(bytes, input.options());
  const Scalars one_zero(input.scalar_type(), 1.0, 0.0);
  const at::Tensor b = bias_of(bias);
  check_dsdk(dsdkSparseConvolutionBiasForward(h, one_zero.alpha(), d.x.p, input.const_data_ptr(),
                                              f, d.conv.p, algo, ws.data_ptr(), bytes,
                                              one_zero.beta(),
                                              b.defined() ? b.const_data_ptr() : nullptr, d.y.p,
                                              out.data_ptr()),
             h, op, "dsdkSparseConvolutionBiasForward");
  return out;
}

at::Tensor packed_linear(dsdkHandle_t h, const at::Tensor& input, dsdkSparseMatrix_t mat,
                         const std::optional<at::Tensor>& bias, int64_t out_features) {
  const char* op = "sparse_linear";
  at::Tensor x = rows_of(input);
  const int64_t rows = x.size(0), in = x.size(1);
  // The kernel reads X row-major with a leading dimension.
  if (x.stride(1) != 1 || (rows > 1 && x.stride(0) < in)) x = x.contiguous();
  const int64_t ldx = rows > 1 ? x.stride(0) : std::max<int64_t>(in, 1);
  at::Tensor y = at::empty({rows, out_features}, input.options());
  // The bias enters as beta * Y, saving a pass over the output.
  if (has(bias)) y.copy_(bias->expand({rows, out_features}));
  size_t bytes = 0;
  check_dsdk(dsdkGetSparseGemmWorkspaceSize(h, mat, rows, &bytes), h, op,
             "dsdkGetSparseGemmWorkspaceSize");
  at::Tensor ws = workspace_tensor(bytes, input.options());
  const Scalars s(input.scalar_type(), 1.0, has(bias) ? 1.0 : 0.0);
  check_dsdk(dsdkSparseGemm(h, s.alpha(), rows, x.const_data_ptr(), ldx, mat, ws.data_ptr(),
                            bytes, s.beta(), y.data_ptr(), out_features),
             h, op, "dsdkSparseGemm");
  return y.view(output_shape(input, out_features));
}

// The fixed algorithm's result (check_algo has vouched for the name).
at::Tensor run_named(const std::vector<SparseCandidate>& candidates, std::string_view algo) {
  auto it = std::find_if(candidates.begin(), candidates.end(),
                         [&](const SparseCandidate& c) { return algo == c.name; });
  TORCH_INTERNAL_ASSERT(it != candidates.end(), "no candidate named ", std::string(algo));
  return it->run();
}

// The key of "auto": the problem and the sparsity bucket of the mask.
at::Tensor run_auto(const std::vector<SparseCandidate>& candidates, ChoiceKey key, double sparsity,
                    const at::Device& device, SyncFn sync) {
  key.add("sparsity_bucket", sparsity_bucket(sparsity));
  return candidates[choose_sparse(key, device, sync, candidates)].run();
}

}  // namespace

const std::vector<std::string>& sparse_conv_algorithms() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v{kAuto, kDenseTorch};
    for (int a = 0; a < DSDK_CONV_ALGO_COUNT; ++a)
      v.emplace_back(dsdkGetConvolutionAlgorithmName(dsdkConvAlgo_t(a)));
    return v;
  }();
  return names;
}

const std::vector<std::string>& sparse_linear_algorithms() {
  static const std::vector<std::string> names{kAuto, kDenseTorch, "masked_gemm", "sparse_gemm"};
  return names;
}

at::Tensor sparse_conv_forward(dsdkHandle_t h, SyncFn sync, const at::Tensor& input,
                               const at::Tensor& weight, const at::Tensor& mask,
                               const std::optional<at::Tensor>& bias, const ConvGeometry& g,
                               std::string_view algo, SparseWeight& cache) {
  const char* op = "sparse_conv2d";
  check_algo(op, algo, sparse_conv_algorithms());
  if (input.size(0) == 0)
    return at::empty({0, weight.size(0), g.output_hw[0], g.output_hw[1]}, like_input(input));

  std::vector<SparseCandidate> candidates;
  candidates.push_back({kDenseTorch,
                        [&] {
                          return at::convolution(input, cache.dense(weight, mask, g.groups),
                                                 bias, g.stride, g.padding, g.dilation, false,
                                                 {0, 0}, g.groups)
                              .contiguous(input.suggest_memory_format());
                        },
                        {}});
  for (int a = 0; a < DSDK_CONV_ALGO_COUNT; ++a) {
    const auto id = dsdkConvAlgo_t(a);
    const char* name = dsdkGetConvolutionAlgorithmName(id);
    if (id == DSDK_CONV_ALGO_IMPLICIT_GEMM) {
      candidates.push_back(
          {name, [&, id] { return dsdk_masked_conv_forward(h, input, weight, mask, bias, g, id); },
           {}});
      continue;
    }
    // The other algorithms run from the packed filter, built on their first use.
    candidates.push_back(
        {name,
         [&, id] {
           return packed_conv(h, input, weight, cache.filter(h, weight, mask, g.groups).get(),
                              bias, g, id);
         },
         [&, id] {
           at::Tensor out = at::empty(
               {input.size(0), weight.size(0), g.output_hw[0], g.output_hw[1]}, like_input(input));
           Descriptors d(input, weight, out, g);
           size_t bytes = 0;
           return packed_workspace(h, d, cache.filter(h, weight, mask, g.groups).get(), id,
                                   &bytes);
         }});
  }

  if (algo != kAuto) return run_named(candidates, algo);
  ChoiceKey key = conv_key("sparse_conv2d forward", input, "input", weight, "weight", g);
  key.add("bias", int64_t(has(bias)));
  return run_auto(candidates, std::move(key), cache.sparsity(weight, mask, g.groups),
                  input.device(), sync);
}

at::Tensor sparse_linear_forward(dsdkHandle_t h, SyncFn sync, const at::Tensor& input,
                                 const at::Tensor& weight, const at::Tensor& mask,
                                 const std::optional<at::Tensor>& bias, std::string_view algo,
                                 SparseWeight& cache) {
  const char* op = "sparse_linear";
  check_algo(op, algo, sparse_linear_algorithms());
  const int64_t out = weight.size(0);
  std::vector<SparseCandidate> candidates{
      {kDenseTorch,
       [&] { return at::linear(input, cache.dense(weight, mask, 1), bias).contiguous(); },
       {}},
      {"masked_gemm", [&] { return masked_linear_forward(h, input, weight, mask, bias); }, {}},
      {"sparse_gemm",
       [&] { return packed_linear(h, input, cache.matrix(h, weight, mask).get(), bias, out); },
       [&] {
         size_t bytes = 0;
         return dsdkGetSparseGemmWorkspaceSize(h, cache.matrix(h, weight, mask).get(),
                                               rows_of(input).size(0),
                                               &bytes) == DSDK_STATUS_SUCCESS;
       }}};

  if (algo != kAuto) return run_named(candidates, algo);
  ChoiceKey key("sparse_linear forward", input);
  key.add("input", input).add("weight", weight.sizes()).add("bias", int64_t(has(bias)));
  return run_auto(candidates, std::move(key), cache.sparsity(weight, mask, 1), input.device(),
                  sync);
}

at::Tensor sparse_conv2d_on(const SparseBackend& b, const at::Tensor& input,
                            const at::Tensor& weight, const at::Tensor& mask,
                            const std::optional<at::Tensor>& bias, at::IntArrayRef stride,
                            at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups,
                            c10::string_view algo, const c10::intrusive_ptr<SparseWeight>& cache) {
  const char* op = "sparse_conv2d";
  ConvGeometry g = check_masked_conv(op, input, weight, mask, bias, nullptr, stride, padding,
                                     dilation, groups, b.name, b.dtypes);
  c10::DeviceGuard guard(input.device());
  return sparse_conv_forward(b.handle(input.device(), op), b.sync, input, weight, mask, bias, g,
                             std::string_view(algo.data(), algo.size()), *cache);
}

at::Tensor sparse_linear_on(const SparseBackend& b, const at::Tensor& input,
                            const at::Tensor& weight, const at::Tensor& mask,
                            const std::optional<at::Tensor>& bias, c10::string_view algo,
                            const c10::intrusive_ptr<SparseWeight>& cache) {
  const char* op = "sparse_linear";
  check_masked_linear(op, input, weight, mask, bias, nullptr, b.name, b.dtypes);
  c10::DeviceGuard guard(input.device());
  return sparse_linear_forward(b.handle(input.device(), op), b.sync, input, weight, mask, bias,
                               std::string_view(algo.data(), algo.size()), *cache);
}

namespace {

// The registered op `name` (schemas.cpp), typed for a call through the C++ dispatcher.
template <typename Sig>
c10::TypedOperatorHandle<Sig> dispatcher_op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Sig>();
}

using CachePtr = c10::intrusive_ptr<SparseWeight>;

CachePtr cache_from(pybind11::handle cache) {
  return torch::jit::toCustomClass<SparseWeight>(cache);
}

}  // namespace

void register_sparse_bindings(pybind11::module_& m) {
  // torch.ops' Python entry asks every argument for a __torch_function__, and on the
  // SparseWeight (a ScriptObject) that lookup fails by a C++ exception turned into an
  // AttributeError: 5-6 us of a 15 us call, on every call. These entries go to the same ops
  // through the C++ dispatcher (every dispatch key and mode still applies); the masked layers
  // take them only where torch.ops would find no __torch_function__ to honour either
  // (dsdkern.ops._layer_entry decides).
  m.def(
      "sparse_conv2d_dispatch",
      [](const at::Tensor& input, const at::Tensor& weight, const at::Tensor& mask,
         const std::optional<at::Tensor>& bias, std::vector<int64_t> stride,
         std::vector<int64_t> padding, std::vector<int64_t> dilation, int64_t groups,
         const std::string& algo, pybind11::handle cache) {
        static const auto op = dispatcher_op<at::Tensor(
            const at::Tensor&, const at::Tensor&, const at::Tensor&,
            const std::optional<at::Tensor>&, at::IntArrayRef, at::IntArrayRef, at::IntArrayRef,
            int64_t, c10::string_view, const CachePtr&)>("dsdkern::sparse_conv2d");
        CachePtr c = cache_from(cache);
        pybind11::gil_scoped_release no_gil;
        return op.call(input, weight, mask, bias, stride, padding, dilation, groups, algo, c);
      },
      "torch.ops.dsdkern.sparse_conv2d without torch's Python-side __torch_function__ "
      "handling.");
  m.def(
      "sparse_linear_dispatch",
      [](const at::Tensor& input, const at::Tensor& weight, const at::Tensor& mask,
         const std::optional<at::Tensor>& bias, const std::string& algo,
         pybind11::handle cache) {
        static const auto op = dispatcher_op<at::Tensor(
            const at::Tensor&, const at::Tensor&, const at::Tensor&,
            const std::optional<at::Tensor>&, c10::string_view, const CachePtr&)>(
            "dsdkern::sparse_linear");
        CachePtr c = cache_from(cache);
        pybind11::gil_scoped_release no_gil;
        return op.call(input, weight, mask, bias, algo, c);
      },
      "torch.ops.dsdkern.sparse_linear without torch's Python-side __torch_function__ "
      "handling.");
  m.def("sparse_conv_algorithms", [] { return sparse_conv_algorithms(); },
        "The algo names sparse_conv2d (MaskedConv2d.algo) accepts.");
  m.def("sparse_linear_algorithms", [] { return sparse_linear_algorithms(); },
        "The algo names sparse_linear (MaskedLinear.algo) accepts.");
  register_sparse_choice_bindings(m);
}

}  // namespace dsdk_torch
