// The max_pool2d op's body: argument checks naming the argument, descriptors from the
// tensor, and the dsdkMaxPoolingForward call. CPU only (ops_cpu.cpp registers it); on CUDA
// dsdkern.nn.MaxPool2d uses torch's (cuDNN's) pooling.
#pragma once
#include <ATen/ATen.h>

#include <initializer_list>

#include "dsdkern/dsdkern.h"

namespace dsdk_torch {

// max_pool2d of input [N, C, H, W] or unbatched [C, H, W] (any strides) into a contiguous
// output, by torch's MaxPool2d rules (-inf padding, NaN propagates, ceil_mode). Every
// message starts with `op` and names the argument; `dtypes` are the backend's.
at::Tensor max_pool2d(dsdkHandle_t handle, const char* op, const at::Tensor& input,
                      at::IntArrayRef kernel_size, at::IntArrayRef stride,
                      at::IntArrayRef padding, at::IntArrayRef dilation, bool ceil_mode,
                      const char* backend, std::initializer_list<at::ScalarType> dtypes);

}  // namespace dsdk_torch
