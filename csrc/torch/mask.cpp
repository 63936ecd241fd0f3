#include "torch/mask.h"

#include "torch/conv_common.h"
#include "torch/common.h"

namespace dsdk_torch {

void check_mask_args(const char* op, const at::Tensor& weight, const MaskRequest& r,
                     const char* backend, std::initializer_list<at::ScalarType> dtypes) {
  check_dtype(op, "weight", weight.scalar_type(), backend, dtypes);
  if (r.mode == DSDK_MASK_TOPK) {
    TORCH_CHECK(r.keep >= 0 && r.keep <= weight.numel(), op,
                ": keep must be in [0, weight.numel() = ", weight.numel(), "], got ", r.keep);
  } else {
    TORCH_CHECK(r.threshold >= 0.0, op, ": threshold must be >= 0, got ", r.threshold);
  }
}

at::Tensor magnitude_mask(dsdkHandle_t h, const char* op, const at::Tensor& weight,
                          const MaskRequest& r) {
  at::Tensor w = weight.contiguous();
  at::Tensor mask = at::empty(weight.sizes(), weight.options().dtype(at::kBool));
  const dsdkDataType_t t = dsdk_dtype(w.scalar_type());
  size_t bytes = 0;
  check_dsdk(dsdkGetMagnitudeMaskWorkspaceSize(h, r.mode, t, w.numel(), &bytes), h, op,
             "dsdkGetMagnitudeMaskWorkspaceSize");
  at::Tensor ws = at::empty({int64_t(bytes)}, weight.options().dtype(at::kByte));
  // A bool tensor holds one byte per element, 0 or 1: what the C API writes.
  check_dsdk(dsdkMagnitudeMask(h, r.mode, t, w.numel(), w.const_data_ptr(), r.keep, r.threshold,
                               ws.data_ptr(), bytes,
                               static_cast<uint8_t*>(mask.data_ptr())),
             h, op, "dsdkMagnitudeMask");
  return mask;
}

}  // namespace dsdk_torch
