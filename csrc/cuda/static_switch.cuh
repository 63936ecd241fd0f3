// Runtime flags become template parameters here, once, instead of in copy-pasted
// kernels: each switch calls `f` with a tag whose ::type / ::value is the flag.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <type_traits>

#include "dsdkern/dsdkern.h"

namespace dsdk {
namespace cuda {

template <class T>
struct TypeTag {
  using type = T;
};

// f(TypeTag<float | double | __half | __nv_bfloat16>{}).
template <class F>
dsdkStatus_t dtype_switch(dsdkDataType_t t, F&& f) {
  switch (t) {
    case DSDK_DATA_FLOAT: return f(TypeTag<float>{});
    case DSDK_DATA_DOUBLE: return f(TypeTag<double>{});
    case DSDK_DATA_HALF: return f(TypeTag<__half>{});
    case DSDK_DATA_BFLOAT16: return f(TypeTag<__nv_bfloat16>{});
  }
  return DSDK_STATUS_NOT_SUPPORTED;
}

// f(std::true_type{}) or f(std::false_type{}).
template <class F>
dsdkStatus_t bool_switch(bool b, F&& f) {
  return b ? f(std::true_type{}) : f(std::false_type{});
}

}  // namespace cuda
}  // namespace dsdk
