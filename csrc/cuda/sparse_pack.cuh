// Packing W ⊙ M into CSR on the device (the layout of core/sparse_csr.h), for the
// masked calls of the sparse convolutions, which pack into their workspace, and for the
// packed objects (sparse_pack.cu, csr_create).
#pragma once
#include <cstdint>
#include <string>

#include "core/sparse_csr.h"

namespace dsdk {
namespace cuda {

// Packs w ⊙ mask (rows x cols row-major device arrays of dtype t; mask optional) into
// `mem`, device memory of csr_bytes(t, rows, cols, rows * cols) bytes on a 64-byte line;
// asynchronous on `stream`. The view's nnz is that capacity (the kept count stays on the
// device, in row_ptr[rows]).
dsdkStatus_t csr_pack_async(dsdkDataType_t t, int64_t rows, int64_t cols, const void* w,
                            const uint8_t* mask, void* mem, void* stream, CsrView* out,
                            std::string* msg);

// A CSR operand's column index type (16 or 32 bits) as a template argument:
// f(uint16_t{}) or f(uint32_t{}).
template <class F>
auto col_switch(const CsrView& w, F&& f) {
  return w.col16() ? f(uint16_t{}) : f(uint32_t{});
}

}  // namespace cuda
}  // namespace dsdk

#include "core/conv_params.h"

namespace dsdk {
namespace cuda {

// The filter operand of a sparse convolution forward call: the packed filter (a.sparse,
// device CSR), or a.w ⊙ a.mask packed into the front of the workspace, whose bytes
// (from a 64-byte line) this gives.
size_t filter_csr_bytes(const ConvFwdArgs& a);
// *w = that CSR; *rest = the workspace after it (64-byte aligned).
dsdkStatus_t filter_csr(const ConvFwdArgs& a, void* ws, void* stream, CsrView* w, char** rest,
                        std::string* msg);

}  // namespace cuda
}  // namespace dsdk
