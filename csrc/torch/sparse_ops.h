// Backend-independent bodies of the sparse ops (sparse_conv2d, sparse_linear): the eval-time
// forward of a masked layer, run by a named algorithm or by "auto" (sparse_choice.h), with the
// layer's prepared forms of W ⊙ M cached in its SparseWeight. Not differentiable: the layers
// call them only when no gradient is needed. ops_cpu.cpp adds the checks, threads and dtypes.
#pragma once
#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsdkern/dsdkern.h"
#include "torch/choice.h"
#include "torch/conv_common.h"
#include "torch/sparse_weight.h"

namespace dsdk_torch {

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

}  // namespace dsdk_torch
