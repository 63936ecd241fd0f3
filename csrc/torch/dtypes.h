// torch dtypes as dsdk sees them: the dsdk data type, the spelling Python users see,
// and the "dtype not supported on <backend>" check that names the argument.
#pragma once
#include <ATen/ATen.h>

#include <initializer_list>
#include <string>

#include "dsdkern/dsdkern.h"

namespace dsdk_torch {

// "torch.float32".
std::string dtype_name(at::ScalarType t);

// The dsdk data type of a floating dtype (FLOAT, DOUBLE, HALF, BFLOAT16).
dsdkDataType_t dsdk_dtype(at::ScalarType t);

// "<op>: <name> dtype torch.int64 is not supported on CPU (supported: torch.float32, ...)"
// unless t is one of `dtypes`.
void check_dtype(const char* op, const char* name, at::ScalarType t, const char* backend,
                 std::initializer_list<at::ScalarType> dtypes);

}  // namespace dsdk_torch
