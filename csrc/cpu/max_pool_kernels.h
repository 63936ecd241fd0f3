// The per-plane max-pooling kernel, compiled once per ISA (max_pool_avx2.cpp, and the
// portable build in max_pool.cpp) from max_pool_body.h and chosen at run time like the
// GEMM microkernels (gemm_kernels.h: active_isa, force_isa).
#pragma once
#include <cstdint>

#include "core/pool_backends.h"

namespace dsdk {
namespace cpu {

// Pools plane `plane` (image plane / c, channel plane % c) of a; buf holds
// max_pool_buffer_elems(a.s) elements, all -inf before the first call of a call sequence
// (the kernel keeps its padding slots so).
template <typename T>
using MaxPoolPlaneFn = void (*)(const MaxPoolArgs& a, int64_t plane, T* buf);

template <typename T>
struct MaxPoolKernels {
  const char* isa;
  MaxPoolPlaneFn<T> plane;
};

// Slots per stride phase of the padded input row.
inline int64_t max_pool_phase_len(const PoolShape& s) {
  const int64_t padded_w = (s.out_w - 1) * s.stride_w + (s.win_w - 1) * s.dil_w + 1;
  return (padded_w + s.stride_w - 1) / s.stride_w;
}

// The row buffer: the stride phases, then one output row.
inline int64_t max_pool_buffer_elems(const PoolShape& s) {
  return s.stride_w * max_pool_phase_len(s) + s.out_w;
}

template <typename T>
const MaxPoolKernels<T>* avx2_max_pool_kernels();
template <typename T>
const MaxPoolKernels<T>* generic_max_pool_kernels();

}  // namespace cpu
}  // namespace dsdk
