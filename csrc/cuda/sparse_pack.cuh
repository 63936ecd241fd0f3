// The CUDA sparse kernels' shared host helpers (sparse_pack.cu): the filter operand of
// a sparse convolution, packed on the device when the call brings a dense one, the
// column index type as a template argument, and their grid arithmetic. The packed
// objects' packing (csr_create) is declared in core/sparse_backends.h.
#pragma once
#include <cstdint>
#include <string>

#include "core/conv_params.h"
#include "core/sparse_csr.h"
#include "cuda/cuda_check.cuh"

namespace dsdk {
namespace cuda {

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// A CSR operand's column index type (16 or 32 bits) as a template argument:
// f(uint16_t{}) or f(uint32_t{}).
template <class F>
auto col_switch(const CsrView& w, F&& f) {
  return w.col16() ? f(uint16_t{}) : f(uint32_t{});
}

// The filter operand of a sparse convolution forward call: the packed filter (a.sparse,
// device CSR), or a.w ⊙ a.mask packed into the front of the workspace, whose bytes
// (from a 64-byte line) this gives.
size_t filter_csr_bytes(const ConvFwdArgs& a);
// Checks that a.x, a.y and a.bias (when given) are device memory, then *w = that CSR and *rest (when rest is
// not null) = the workspace after it (64-byte aligned).
dsdkStatus_t sparse_operands(const ConvFwdArgs& a, void* ws, void* stream, CsrView* w,
                             char** rest, std::string* msg);
// Then, once the data type T is known: a.x, a.y and a.bias (null passes) aligned to it.
template <typename T>
dsdkStatus_t check_aligned_xy(const ConvFwdArgs& a, std::string* msg) {
  dsdkStatus_t s = check_aligned<T>(a.x, "x", msg);
  if (s == DSDK_STATUS_SUCCESS) s = check_aligned<T>(a.y, "y", msg);
  return s == DSDK_STATUS_SUCCESS ? check_aligned<T>(a.bias, "bias", msg) : s;
}

}  // namespace cuda
}  // namespace dsdk
