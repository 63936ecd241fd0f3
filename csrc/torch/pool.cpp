#include "torch/pool.h"

#include <limits>

#include "torch/common.h"
#include "torch/conv_common.h"

namespace dsdk_torch {
namespace {

// Each pair has 2 elements in [low, INT_MAX].
void check_pairs(const char* op, at::IntArrayRef kernel_size, at::IntArrayRef stride,
                 at::IntArrayRef padding, at::IntArrayRef dilation) {
  struct Arg {
    const char* name;
    at::IntArrayRef v;
    int64_t low;
    const char* rule;
  };
  for (const Arg& a : {Arg{"kernel_size", kernel_size, 1, "positive"},
                       Arg{"stride", stride, 1, "positive"},
                       Arg{"padding", padding, 0, "non-negative"},
                       Arg{"dilation", dilation, 1, "positive"}}) {
    TORCH_CHECK(a.v.size() == 2, op, ": ", a.name, " must have 2 elements (height, width), got ",
                a.v.size());
    TORCH_CHECK(a.v[0] >= a.low && a.v[1] >= a.low, op, ": ", a.name, " must be ", a.rule,
                ", got ", a.v);
    TORCH_CHECK(a.v[0] <= std::numeric_limits<int>::max() &&
                    a.v[1] <= std::numeric_limits<int>::max(),
                op, ": ", a.name, " is too large, got ", a.v);
  }
}

}  // namespace

at::Tensor max_pool2d(dsdkHandle_t h, const char* op, const at::Tensor& input,
                      at::IntArrayRef kernel_size, at::IntArrayRef stride,
                      at::IntArrayRef padding, at::IntArrayRef dilation, bool ceil_mode,
                      const char* backend, std::initializer_list<at::ScalarType> dtypes) {
  TORCH_CHECK(input.dim() == 3 || input.dim() == 4, op,
              ": input must be a 3-D [C, H, W] or 4-D [N, C, H, W] tensor, got shape ",
              input.sizes());
  check_dtype(op, "input", input.scalar_type(), backend, dtypes);
  check_pairs(op, kernel_size, stride, padding, dilation);
  const at::Tensor x = input.dim() == 3 ? input.unsqueeze(0) : input;
  TORCH_CHECK(x.size(1) >= 1 && x.size(2) >= 1 && x.size(3) >= 1, op,
              ": input must have non-zero channels, height and width, got shape ",
              input.sizes());
  Owned<dsdkTensorDescriptor_t, dsdkDestroyTensorDescriptor> xd, yd;
  Owned<dsdkPoolingDescriptor_t, dsdkDestroyPoolingDescriptor> pd;
  TORCH_CHECK(dsdkCreateTensorDescriptor(&xd.p) == DSDK_STATUS_SUCCESS &&
                  dsdkCreateTensorDescriptor(&yd.p) == DSDK_STATUS_SUCCESS &&
                  dsdkCreatePoolingDescriptor(&pd.p) == DSDK_STATUS_SUCCESS,
              op, ": out of memory creating dsdk descriptors");
  const dsdkDataType_t t = dsdk_dtype(x.scalar_type());
  Descriptors::set_tensor(xd.p, t, x, "input");
  TORCH_CHECK(dsdkSetPooling2dDescriptor(pd.p, int(kernel_size[0]), int(kernel_size[1]),
                                         int(padding[0]), int(padding[1]), int(stride[0]),
                                         int(stride[1]), int(dilation[0]), int(dilation[1]),
                                         ceil_mode) == DSDK_STATUS_SUCCESS,
              op, ": dsdkSetPooling2dDescriptor rejected the pooling geometry");
  int n, c, oh, ow;
  // Names padding above half the window, or an empty output.
  check_dsdk(dsdkGetPooling2dForwardOutputDim(h, pd.p, xd.p, &n, &c, &oh, &ow), h, op,
             "dsdkGetPooling2dForwardOutputDim");
  at::Tensor y = at::empty({n, c, oh, ow}, x.options());
  Descriptors::set_tensor(yd.p, t, y, "output");
  check_dsdk(dsdkMaxPoolingForward(h, pd.p, xd.p, x.const_data_ptr(), yd.p, y.data_ptr()), h, op,
             "dsdkMaxPoolingForward");
  return input.dim() == 3 ? y.squeeze(0) : y;
}

}  // namespace dsdk_torch
