// Backend-independent half of the masked_conv ops: argument checking, dsdk descriptors
// built from tensors, cached handles, and the forward/backward bodies that call the C API
// or, where the measured choice (choice.h) finds it faster, torch's dense kernels on W ⊙ M.
// ops_cpu.cpp and ops_cuda.cpp only add what differs per backend (dtypes, threads, stream).
#pragma once
#include <ATen/ATen.h>

#include <array>
#include <initializer_list>
#include <optional>
#include <tuple>

#include "dsdkern/dsdkern.h"
#include "torch/choice.h"

namespace dsdk_torch {

// stride/padding/dilation/groups of one call, checked and normalised to pairs.
struct ConvGeometry {
  std::array<int64_t, 2> stride, padding, dilation;
  int64_t groups;
  std::array<int64_t, 2> output_hw;  // output height and width, both >= 1
};

// An owned dsdk descriptor, destroyed with the owner.
template <class T, dsdkStatus_t (*Destroy)(T)>
struct Owned {
  T p = nullptr;
  Owned() = default;
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() {
    if (p) Destroy(p);
  }
};

// Descriptors of one direction's call: x/y carry their tensors' own strides (so sliced,
// transposed and channels_last tensors are read in place), the filter is packed KCRS.
struct Descriptors {
  Owned<dsdkTensorDescriptor_t, dsdkDestroyTensorDescriptor> x, y;
  Owned<dsdkFilterDescriptor_t, dsdkDestroyFilterDescriptor> w;
  Owned<dsdkConvolutionDescriptor_t, dsdkDestroyConvolutionDescriptor> conv;

  Descriptors(const at::Tensor& xt, const at::Tensor& wt, const at::Tensor& yt,
              const ConvGeometry& g);
  static void set_tensor(dsdkTensorDescriptor_t d, dsdkDataType_t t, const at::Tensor& v,
                         const char* name);
};

// An uninitialised byte tensor of at least `bytes` on opts' device: a dsdk workspace for
// the duration of one call (on CPU the calling thread's reused buffer; do not keep it).
at::Tensor workspace_tensor(size_t bytes, const at::TensorOptions& opts);

// Options of an output laid out like `input` (its suggest_memory_format()).
at::TensorOptions like_input(const at::Tensor& input);

// Checks every argument of masked_conv (and of masked_conv_backward when grad_output is
// given) and returns the geometry. `op` prefixes every message; each message names the
// argument at fault. `dtypes` are the input dtypes the calling backend supports.
ConvGeometry check_masked_conv(const char* op, const at::Tensor& input, const at::Tensor& weight,
                               const at::Tensor& mask, const std::optional<at::Tensor>& bias,
                               const at::Tensor* grad_output, at::IntArrayRef stride,
                               at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups,
                               const char* backend, std::initializer_list<at::ScalarType> dtypes);

// The dsdk handle of the calling thread for this backend and device, created on first use
// and destroyed when the thread exits. A handle carries its last error message, so it is
// never shared between threads. For CUDA the caller holds a guard on `device`.
dsdkHandle_t thread_handle(dsdkBackend_t backend, int device);

// The bias as the dsdk bias entries read it (contiguous), undefined when there is none.
at::Tensor bias_of(const std::optional<at::Tensor>& bias);

// Throws a RuntimeError carrying the handle's last message unless `status` is SUCCESS.
void check_dsdk(dsdkStatus_t status, dsdkHandle_t handle, const char* op, const char* call);

// A choice key of one convolution direction: `direction`, the two operands' sizes and strides,
// and the geometry (what decides which candidate is faster).
ChoiceKey conv_key(const char* direction, const at::Tensor& a, const char* a_name,
                   const at::Tensor& b, const char* b_name, const ConvGeometry& g);

// conv2d(input, weight ⊙ mask, bias) through the measured choice (choice.h) between
// dsdkMaskedConvolutionForward on `handle` (configured by the caller: threads or stream) and
// at::convolution on weight ⊙ mask; `sync` waits for the device. Arguments must have passed
// check_masked_conv. All tensors are on one device; the output follows
// input.suggest_memory_format().
at::Tensor masked_conv_forward(dsdkHandle_t handle, SyncFn sync, const at::Tensor& input,
                               const at::Tensor& weight, const at::Tensor& mask,
                               const std::optional<at::Tensor>& bias, const ConvGeometry& g);

// conv2d(input, weight ⊙ mask, bias) by dsdkMaskedConvolutionForward with `algo` on `handle`,
// no choice; arguments as for masked_conv_forward.
at::Tensor dsdk_masked_conv_forward(dsdkHandle_t handle, const at::Tensor& input,
                                    const at::Tensor& weight, const at::Tensor& mask,
                                    const std::optional<at::Tensor>& bias, const ConvGeometry& g,
                                    dsdkConvAlgo_t algo);

// (grad_input, grad_weight ⊙ mask, grad_bias); an entry whose output_mask is false is an
// undefined tensor (None in Python). Backward-data and backward-filter are chosen
// separately, between dsdk's kernels and at::convolution_backward.
std::tuple<at::Tensor, at::Tensor, at::Tensor> masked_conv_backward(
    dsdkHandle_t handle, SyncFn sync, const at::Tensor& grad_output, const at::Tensor& input,
    const at::Tensor& weight, const at::Tensor& mask, const ConvGeometry& g,
    std::array<bool, 3> output_mask);

}  // namespace dsdk_torch
