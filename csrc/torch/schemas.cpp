// Every schema of the dsdkern op library, in this one TORCH_LIBRARY block. Kernels
// register per backend (ops_cpu.cpp, ops_cuda.cpp) and for autograd (ops_autograd.cpp);
// fake kernels live in the Python module named by set_python_module before each area's defs.
#include <torch/library.h>

#include "torch/sparse_weight.h"

TORCH_LIBRARY(dsdkern, m) {
  // Masked convolution: conv2d(input, weight ⊙ mask, bias); mask is bool/uint8 of
  // weight's shape. The backward op returns (grad_input, grad_weight ⊙ mask, grad_bias),
  // None where output_mask is false.
  m.set_python_module("dsdkern.ops");
  m.def(
      "masked_conv(Tensor input, Tensor weight, Tensor mask, Tensor? bias, int[2] stride, "
      "int[2] padding, int[2] dilation, int groups) -> Tensor",
      {at::Tag::pt2_compliant_tag});
  m.def(
      "masked_conv_backward(Tensor grad_output, Tensor input, Tensor weight, Tensor mask, "
      "int[2] stride, int[2] padding, int[2] dilation, int groups, bool[3] output_mask) "
      "-> (Tensor, Tensor, Tensor)",
      {at::Tag::pt2_compliant_tag});
  // Masked linear: linear(input, weight ⊙ mask, bias), input [..., in_features], weight
  // and mask [out_features, in_features]. Backward as for masked_conv.
  m.def("masked_linear(Tensor input, Tensor weight, Tensor mask, Tensor? bias) -> Tensor",
        {at::Tag::pt2_compliant_tag});
  m.def(
      "masked_linear_backward(Tensor grad_output, Tensor input, Tensor weight, Tensor mask, "
      "bool[3] output_mask) -> (Tensor, Tensor, Tensor)",
      {at::Tag::pt2_compliant_tag});

  // Pruning masks (bool, weight's shape; flat indices in row-major order):
  // magnitude_mask keeps the `keep` entries of largest |weight|, ties to the lower flat
  // index; threshold_mask keeps |weight| >= threshold.
  m.def("magnitude_mask(Tensor weight, int keep) -> Tensor", {at::Tag::pt2_compliant_tag});
  m.def("threshold_mask(Tensor weight, float threshold) -> Tensor",
        {at::Tag::pt2_compliant_tag});

  // Max pooling as torch's max_pool2d (no indices, not differentiable): input [N, C, H, W]
  // or [C, H, W]; -inf padding, NaN propagates. CPU only.
  m.def(
      "max_pool2d(Tensor input, int[2] kernel_size, int[2] stride, int[2] padding, "
      "int[2] dilation, bool ceil_mode) -> Tensor",
      {at::Tag::pt2_compliant_tag});

  // Sparse execution (inference): the forward of a masked layer by a named algorithm or the
  // measured "auto" (csrc/torch/sparse_ops.h lists the names). `cache` is the layer's
  // SparseWeight, which keeps the packed W ⊙ M and the dense W ⊙ M between calls and rebuilds
  // them when weight or mask changed. Not differentiable.
  dsdk_torch::register_sparse_weight_class();
  m.def(
      "sparse_conv2d(Tensor input, Tensor weight, Tensor mask, Tensor? bias, int[2] stride, "
      "int[2] padding, int[2] dilation, int groups, str algo, "
      "__torch__.torch.classes.dsdkern.SparseWeight cache) -> Tensor",
      {at::Tag::pt2_compliant_tag});
  m.def(
      "sparse_linear(Tensor input, Tensor weight, Tensor mask, Tensor? bias, str algo, "
      "__torch__.torch.classes.dsdkern.SparseWeight cache) -> Tensor",
      {at::Tag::pt2_compliant_tag});
}
