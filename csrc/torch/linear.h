// Backend-independent half of the masked_linear ops: argument checking and the forward /
// backward bodies on dsdkMaskedGemm. ops_cpu.cpp and ops_cuda.cpp add the handle (threads
// or stream) and their dtypes.
#pragma once
#include <ATen/ATen.h>

#include <array>
#include <initializer_list>
#include <optional>
#include <tuple>
#include <vector>

#include "dsdkern/dsdkern.h"

namespace dsdk_torch {

// [..., n] as a [rows, n] view where it can be one, a copy otherwise.
at::Tensor rows_of(const at::Tensor& t);
// The output shape [..., out] of a linear layer on `input` [..., in].
std::vector<int64_t> output_shape(const at::Tensor& input, int64_t out);

// Checks every argument of masked_linear (and of masked_linear_backward when grad_output
// is given); `op` prefixes every message and each message names the argument at fault.
// `dtypes` are the input dtypes the calling backend supports.
void check_masked_linear(const char* op, const at::Tensor& input, const at::Tensor& weight,
                         const at::Tensor& mask, const std::optional<at::Tensor>& bias,
                         const at::Tensor* grad_output, const char* backend,
                         std::initializer_list<at::ScalarType> dtypes);

// linear(input, weight ⊙ mask, bias): input [..., in], weight/mask [out, in], bias [out];
// the output is [..., out], contiguous. Arguments must have passed check_masked_linear.
at::Tensor masked_linear_forward(dsdkHandle_t handle, const at::Tensor& input,
                                 const at::Tensor& weight, const at::Tensor& mask,
                                 const std::optional<at::Tensor>& bias);

// (grad_input [..., in], grad_weight ⊙ mask [out, in], grad_bias [out]); an entry whose
// output_mask is false is an undefined tensor (None in Python).
std::tuple<at::Tensor, at::Tensor, at::Tensor> masked_linear_backward(
    dsdkHandle_t handle, const at::Tensor& grad_output, const at::Tensor& input,
    const at::Tensor& weight, const at::Tensor& mask, std::array<bool, 3> output_mask);

}  // namespace dsdk_torch
