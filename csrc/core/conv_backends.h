// What every convolution backend implements. A CPU kernel and its CUDA twin share these
// signatures; the C API layer (core/*.cpp) validates, then dispatches here.
// Kernels return a status and, on failure, write a message into *msg.
#pragma once
#include <cstddef>
#include <string>

#include "core/conv_params.h"

namespace dsdk {
namespace cpu {
// Masked implicit GEMM. Data types: FLOAT, DOUBLE.
size_t conv_implicit_gemm_workspace(dsdkConvDirection_t dir, const ConvShape& sh,
                                    dsdkDataType_t dtype, int num_threads);
dsdkStatus_t conv_implicit_gemm_fwd(const ConvFwdArgs& a, void* ws, size_t ws_bytes,
                                    int num_threads, std::string* msg);
dsdkStatus_t conv_implicit_gemm_bwd_data(const ConvBwdDataArgs& a, void* ws, size_t ws_bytes,
                                         int num_threads, std::string* msg);
dsdkStatus_t conv_implicit_gemm_bwd_filter(const ConvBwdFilterArgs& a, void* ws,
                                           size_t ws_bytes, int num_threads, std::string* msg);

// Direct sparse convolution, forward. Data types: FLOAT, DOUBLE. Packs a.w ⊙ a.mask
// into the workspace when a.sparse is null. Shapes it takes: padded_input_fits
// (cpu/sparse_padded_input.h), as for sparse_tile.
size_t direct_sparse_workspace(const ConvFwdArgs& a, int num_threads);
dsdkStatus_t direct_sparse_fwd(const ConvFwdArgs& a, void* ws, size_t ws_bytes, int num_threads,
                               std::string* msg);

// Sparse weights × dense lowered-input tiles (im2col-tile), forward. Data types: FLOAT,
// DOUBLE. Packs a.w ⊙ a.mask into the workspace when a.sparse is null.
size_t sparse_tile_workspace(const ConvFwdArgs& a, int num_threads);
dsdkStatus_t sparse_tile_fwd(const ConvFwdArgs& a, void* ws, size_t ws_bytes, int num_threads,
                             std::string* msg);
}  // namespace cpu

namespace cuda {
// Tiled shared-memory implicit GEMM. Data types: FLOAT, DOUBLE, HALF, BFLOAT16
// (float accumulation for the 16-bit types). Launches on `stream`.
size_t conv_implicit_gemm_workspace(dsdkConvDirection_t dir, const ConvShape& sh,
                                    dsdkDataType_t dtype);
dsdkStatus_t conv_implicit_gemm_fwd(const ConvFwdArgs& a, void* ws, size_t ws_bytes,
                                    void* stream, std::string* msg);
dsdkStatus_t conv_implicit_gemm_bwd_data(const ConvBwdDataArgs& a, void* ws, size_t ws_bytes,
                                         void* stream, std::string* msg);
dsdkStatus_t conv_implicit_gemm_bwd_filter(const ConvBwdFilterArgs& a, void* ws,
                                           size_t ws_bytes, void* stream, std::string* msg);
// The sparse convolutions, forward (conv_direct_sparse.cu: padded input in the
// workspace, one thread per output pixel; conv_sparse_tile.cu: lowered-input tiles in
// shared memory). Data types: FLOAT, DOUBLE, HALF, BFLOAT16 (float accumulation for the
// 16-bit types). They run from a packed device filter (a.sparse) or pack a.w ⊙ a.mask
// into the workspace first. Launch on `stream`.
bool direct_sparse_fits(const ConvShape& sh, std::string* why);
size_t direct_sparse_workspace(const ConvFwdArgs& a);
dsdkStatus_t direct_sparse_fwd(const ConvFwdArgs& a, void* ws, size_t ws_bytes, void* stream,
                               std::string* msg);
bool sparse_tile_fits(const ConvShape& sh, std::string* why);
size_t sparse_tile_workspace(const ConvFwdArgs& a);
dsdkStatus_t sparse_tile_fwd(const ConvFwdArgs& a, void* ws, size_t ws_bytes, void* stream,
                             std::string* msg);
// Device management used by the handle and by Find's timing.
dsdkStatus_t current_device(int* device, std::string* msg);
dsdkStatus_t synchronize(void* stream, std::string* msg);
}  // namespace cuda
}  // namespace dsdk
