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

// ---- CUDA: the packed operands in device memory, and the sparse GEMM on them ----
namespace dsdk {
namespace cuda {
// Packs w ⊙ mask (rows x cols row-major device arrays of dtype t, mask optional: every
// entry kept) into a device allocation sized to the kept count, which *mem then owns
// (release it with free_device). Synchronises `stream` once, to learn that count.
dsdkStatus_t csr_create(dsdkDataType_t t, int64_t rows, int64_t cols, const void* w,
                        const uint8_t* mask, void* stream, CsrView* out, void** mem,
                        size_t* bytes, std::string* msg);
void free_device(void* p);
// BAD_PARAM (naming `what`) when p is not memory the device can read: host memory
// that is neither registered nor managed.
dsdkStatus_t require_device_pointer(const void* p, const char* what, std::string* msg);

// The sparse GEMM of SparseGemmArgs on the device (X, Y device; w a device CSR). Data
// types: FLOAT, DOUBLE, HALF, BFLOAT16 (float accumulation for the 16-bit types). It
// needs no workspace.
dsdkStatus_t sparse_gemm(const SparseGemmArgs& a, void* stream, std::string* msg);
}  // namespace cuda
}  // namespace dsdk
