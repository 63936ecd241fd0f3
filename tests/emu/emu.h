// Device side of the CUDA emulation, force-included (-include) into every
// transformed csrc/cuda file: the CUDA keywords become plain C++, __shared__
// variables become function statics (one block runs at a time), and the
// intrinsics the kernels use call into the scheduler (emu_runtime.cpp).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>

#undef __device__
#undef __global__
#undef __host__
#undef __forceinline__
#undef __shared__
#define __device__
#define __global__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)

// Set by the scheduler before it resumes a thread.
inline uint3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;

// Block barrier. Its identity is the source line of the call: the host
// compiler may duplicate a call site, nvcc may not.
void __syncthreads(int line = __builtin_LINE(), const char* file = __builtin_FILE());

// Runs body once per thread of every block (transform.py writes the calls).
void emu_launch(const std::function<void()>& body, dim3 grid, dim3 block, const char* kernel);

// Fills a __shared__ variable with 0xff bytes (NaN, -1) when a block first
// reaches its declaration, so that reading it before writing shows.
void emu_shared_init(void* p, size_t bytes);

// The lanes of `mask` in this thread's warp meet; returns what the op gives
// this lane (param: the xor mask or the up-shift).
enum EmuWarpOp { EMU_SHFL_XOR = 1, EMU_SHFL_UP, EMU_BALLOT };
uint64_t emu_warp_op(EmuWarpOp op, unsigned mask, uint64_t value, int size, int param, int width);

// Dies unless [p, p + bytes) lies inside one cudaMalloc'd allocation.
void emu_check_device(const void* p, size_t bytes, const char* what);

using std::fma;
using std::isfinite;

template <class T>
inline uint64_t emu_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "at most 8 bytes");
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof v);
  return b;
}
template <class T>
inline T emu_from_bits(uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

template <class T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  return emu_from_bits<T>(
      emu_warp_op(EMU_SHFL_XOR, mask, emu_bits(v), int(sizeof(T)), lane_mask, width));
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return emu_from_bits<T>(
      emu_warp_op(EMU_SHFL_UP, mask, emu_bits(v), int(sizeof(T)), int(delta), width));
}
inline unsigned __ballot_sync(unsigned mask, int pred) {
  return unsigned(emu_warp_op(EMU_BALLOT, mask, pred != 0, 4, 0, 32));
}

inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline long long __double_as_longlong(double v) { return emu_from_bits<long long>(emu_bits(v)); }
template <class T>
inline T __ldg(const T* p) {
  return *p;
}

// Threads are fibres that switch only at barriers and warp intrinsics, so a
// read-modify-write is never interrupted.
template <class T>
inline T atomicAdd(T* p, T v) {
  const T old = *p;
  *p = old + v;
  return old;
}
template <class T>
inline T atomicMin(T* p, T v) {
  const T old = *p;
  if (v < old) *p = v;
  return old;
}
template <class T>
inline T atomicMax(T* p, T v) {
  const T old = *p;
  if (v > old) *p = v;
  return old;
}
