// Host encoding of the four data types for the CUDA tests: values travel as doubles and
// are stored as (or rounded to) float, double, half or bfloat16 bytes.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstddef>
#include <cstring>

#include "dsdkern/dsdkern.h"

namespace dtypes {

inline size_t elem_size(dsdkDataType_t t) {
  return t == DSDK_DATA_DOUBLE ? 8 : t == DSDK_DATA_FLOAT ? 4 : 2;
}

inline const char* name(dsdkDataType_t t) {
  return t == DSDK_DATA_FLOAT ? "float" : t == DSDK_DATA_DOUBLE ? "double"
                                        : t == DSDK_DATA_HALF ? "half" : "bfloat16";
}

inline void encode(dsdkDataType_t t, double v, unsigned char* dst) {
  switch (t) {
    case DSDK_DATA_FLOAT: { float f = float(v); std::memcpy(dst, &f, 4); break; }
    case DSDK_DATA_DOUBLE: std::memcpy(dst, &v, 8); break;
    case DSDK_DATA_HALF: { __half x = __float2half_rn(float(v)); std::memcpy(dst, &x, 2); break; }
    case DSDK_DATA_BFLOAT16: {
      __nv_bfloat16 x = __float2bfloat16_rn(float(v));
      std::memcpy(dst, &x, 2);
      break;
    }
    default: break;
  }
}

inline double decode(dsdkDataType_t t, const unsigned char* src) {
  switch (t) {
    case DSDK_DATA_FLOAT: { float f; std::memcpy(&f, src, 4); return f; }
    case DSDK_DATA_DOUBLE: { double d; std::memcpy(&d, src, 8); return d; }
    case DSDK_DATA_HALF: { __half x; std::memcpy(&x, src, 2); return __half2float(x); }
    case DSDK_DATA_BFLOAT16: { __nv_bfloat16 x; std::memcpy(&x, src, 2); return __bfloat162float(x); }
    default: return 0;
  }
}

inline double round_to(dsdkDataType_t t, double v) {
  unsigned char b[8];
  encode(t, v, b);
  return decode(t, b);
}

// Unit roundoff of storing in t, and of the accumulator the CUDA kernels use for t.
inline double store_eps(dsdkDataType_t t) {
  return t == DSDK_DATA_HALF ? 0x1p-11 : t == DSDK_DATA_BFLOAT16 ? 0x1p-8
                                       : t == DSDK_DATA_FLOAT ? 0x1p-24 : 0x1p-53;
}
inline double acc_eps(dsdkDataType_t t) { return t == DSDK_DATA_DOUBLE ? 0x1p-53 : 0x1p-24; }
// Spacing of t's subnormals: the rounding error of a result that small.
inline double store_tiny(dsdkDataType_t t) {
  return t == DSDK_DATA_HALF ? 0x1p-24 : t == DSDK_DATA_DOUBLE ? 0x1p-1074 : 0x1p-149;
}

}  // namespace dtypes
