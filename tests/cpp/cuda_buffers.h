// Device memory for the CUDA tests: an owning buffer, and CUDA_OK, which counts a failed
// CUDA call (with its error string) as a test failure and leaves the test function.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>

#include "check.h"

#define CUDA_OK(expr)                                                                   \
  do {                                                                                  \
    cudaError_t e_ = (expr);                                                            \
    if (e_ != cudaSuccess) {                                                            \
      std::printf("%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr,                  \
                  cudaGetErrorString(e_));                                              \
      ++check::failures();                                                              \
      return;                                                                           \
    }                                                                                   \
  } while (0)

struct DeviceBuffer {
  void* ptr = nullptr;
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
  cudaError_t alloc(size_t bytes) {
    if (ptr) cudaFree(ptr);
    ptr = nullptr;
    return cudaMalloc(&ptr, std::max<size_t>(bytes, 1));
  }
  // Allocates and copies the host bytes in.
  cudaError_t upload(const void* src, size_t bytes) {
    cudaError_t e = alloc(bytes);
    return e != cudaSuccess || bytes == 0 ? e : cudaMemcpy(ptr, src, bytes, cudaMemcpyHostToDevice);
  }
};
