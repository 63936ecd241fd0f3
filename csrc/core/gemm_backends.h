// What every masked-GEMM backend implements: the C API layer (core/gemm.cpp) validates,
// then dispatches here with a plain argument struct. Kernels return a status and, on
// failure, write a message into *msg.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "dsdkern/dsdkern.h"

namespace dsdk {

// C = alpha * (op(A) * op(B ⊙ mask_b)) ⊙ mask_c + beta * C, row-major, as dsdkMaskedGemm.
struct GemmArgs {
  dsdkDataType_t dtype;
  bool trans_a, trans_b;
  int64_t m, n, k;
  const void* a; int64_t lda;
  const void* b; int64_t ldb;
  const uint8_t* mask_b;  // laid out like B, may be null
  void* c; int64_t ldc;
  const uint8_t* mask_c;  // laid out like C, may be null
  double alpha, beta;
};

namespace cpu {
// Packed-panel GEMM (cpu/gemm.cpp) on up to num_threads threads. FLOAT, DOUBLE.
size_t masked_gemm_workspace(dsdkDataType_t dtype, int64_t m, int64_t n, int64_t k,
                             int num_threads);
dsdkStatus_t masked_gemm(const GemmArgs& a, void* ws, size_t ws_bytes, int num_threads,
                         std::string* msg);
}  // namespace cpu

namespace cuda {
// The conv tiles (cuda/implicit_gemm.cuh) on `stream`. FLOAT, DOUBLE, HALF, BFLOAT16.
size_t masked_gemm_workspace(dsdkDataType_t dtype, int64_t m, int64_t n, int64_t k);
dsdkStatus_t masked_gemm(const GemmArgs& a, void* ws, size_t ws_bytes, void* stream,
                         std::string* msg);
}  // namespace cuda
}  // namespace dsdk
