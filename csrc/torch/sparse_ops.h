// Backend-independent bodies of the sparse ops (sparse_conv2d, sparse_linear): the eval-time
// forward of a masked layer, run by a named algorithm or by "auto" (sparse_choice.h), with the
// layer's prepared forms of W ⊙ M cached in its SparseWeight. Not differentiable: the layers
// call them only when no gradient is needed. A backend file (ops_cpu.cpp, ops_cuda.cpp)
// supplies only a SparseBackend: its dtypes, its handle and its stream sync; the packed forms
// then live on that handle's device.
#pragma once
#include <ATen/ATen.h>
#include <c10/util/intrusive_ptr.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsdkern/dsdkern.h"
#include "torch/choice.h"
#include "torch/conv_common.h"
#include "torch/sparse_weight.h"

namespace dsdk_torch {

// What a backend contributes to the sparse ops' kernels.
struct SparseBackend {
  const char* name;                             // "CPU", "CUDA", for the checks' messages
  // The dtypes its kernels run; a list of static storage (it is not copied, only pointed at).
  std::initializer_list<at::ScalarType> dtypes;
  // The handle for an op on `device`, asked after the checks under a guard on `device`; a
  // CUDA handle is set to torch's current stream there.
  dsdkHandle_t (*handle)(const at::Device& device, const char* op);
  SyncFn sync;  // waits for the queued work before a measurement reads the clock (or null)
};

// The algo names sparse_conv2d accepts: "auto", "dense_torch" (torch's convolution on the
// cached W ⊙ M), then every registered dsdk convolution algorithm by its C API name
// ("implicit_gemm" runs the masked kernel, every other one runs from the packed filter).
const std::vector<std::string>& sparse_conv_algorithms();
// sparse_linear's: "auto", "dense_torch", "masked_gemm" (dsdkMaskedGemm), "sparse_gemm"
// (dsdkSparseGemm on the packed matrix).
const std::vector<std::string>& sparse_linear_algorithms();

// conv2d(input, weight ⊙ mask, bias) by `algo`; arguments must have passed check_masked_conv.
// input [N, C, H, W] any strides, weight KCRS, mask of its shape; the output [N, K, P, Q]
// follows input.suggest_memory_format(). A ValueError names `algo` when it is not one of
// sparse_conv_algorithms(); a fixed algorithm that cannot run the problem is a RuntimeError
// with dsdk's reason.
at::Tensor sparse_conv_forward(dsdkHandle_t handle, SyncFn sync, const at::Tensor& input,
                               const at::Tensor& weight, const at::Tensor& mask,
                               const std::optional<at::Tensor>& bias, const ConvGeometry& g,
                               std::string_view algo, SparseWeight& cache);

// linear(input, weight ⊙ mask, bias) by `algo`; arguments must have passed check_masked_linear.
// input [..., in] any strides -> [..., out], contiguous.
at::Tensor sparse_linear_forward(dsdkHandle_t handle, SyncFn sync, const at::Tensor& input,
                                 const at::Tensor& weight, const at::Tensor& mask,
                                 const std::optional<at::Tensor>& bias, std::string_view algo,
                                 SparseWeight& cache);

// The kernels of torch.ops.dsdkern.sparse_conv2d / sparse_linear (schemas.cpp) on backend B:
// the op's checks (check_masked_conv / check_masked_linear with B's name and dtypes), then
// the forwards above on B's handle, all on the input's device. Registered per backend as
// &sparse_conv2d_kernel<kB> (B a namespace-scope object), so no backend restates a body.
at::Tensor sparse_conv2d_on(const SparseBackend& b, const at::Tensor& input,
                            const at::Tensor& weight, const at::Tensor& mask,
                            const std::optional<at::Tensor>& bias, at::IntArrayRef stride,
                            at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups,
                            c10::string_view algo, const c10::intrusive_ptr<SparseWeight>& cache);
at::Tensor sparse_linear_on(const SparseBackend& b, const at::Tensor& input,
                            const at::Tensor& weight, const at::Tensor& mask,
                            const std::optional<at::Tensor>& bias, c10::string_view algo,
                            const c10::intrusive_ptr<SparseWeight>& cache);

template <const SparseBackend& B>
at::Tensor sparse_conv2d_kernel(const at::Tensor& input, const at::Tensor& weight,
                                const at::Tensor& mask, const std::optional<at::Tensor>& bias,
                                at::IntArrayRef stride, at::IntArrayRef padding,
                                at::IntArrayRef dilation, int64_t groups, c10::string_view algo,
                                const c10::intrusive_ptr<SparseWeight>& cache) {
  return sparse_conv2d_on(B, input, weight, mask, bias, stride, padding, dilation, groups, algo,
                          cache);
}

template <const SparseBackend& B>
at::Tensor sparse_linear_kernel(const at::Tensor& input, const at::Tensor& weight,
                                const at::Tensor& mask, const std::optional<at::Tensor>& bias,
                                c10::string_view algo,
                                const c10::intrusive_ptr<SparseWeight>& cache) {
  return sparse_linear_on(B, input, weight, mask, bias, algo, cache);
}

}  // namespace dsdk_torch
