// What the sparse GEMM backend implements (the direct sparse convolution is a
// convolution algorithm: core/conv_backends.h). Kernels return a status and, on
// failure, write a message into *msg.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/sparse_csr.h"

namespace dsdk {

// Y = alpha * X · W^T + beta * Y, W the packed rows x cols CSR; X: m x cols (ldx),
// Y: m x rows (ldy), row-major.
struct SparseGemmArgs {
  const CsrView* w;
  int64_t m;
  const void* x;
  int64_t ldx;
  void* y;
  int64_t ldy;
  double alpha, beta;
};

namespace cpu {
// Data types: FLOAT, DOUBLE.
size_t sparse_gemm_workspace(const CsrView& w, int64_t m);
// NOT_SUPPORTED (with why) when 32-bit offsets into the workspace cannot address it.
bool sparse_gemm_fits(const CsrView& w, int64_t m, std::string* why);
dsdkStatus_t sparse_gemm(const SparseGemmArgs& a, void* ws, size_t ws_bytes, int num_threads,
                         std::string* msg);
}  // namespace cpu

}  // namespace dsdk
