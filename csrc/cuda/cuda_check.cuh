// Turns a CUDA runtime error, or a precondition of a kernel, into the backend's status
// and message.
#pragma once
#include <cuda_runtime.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>

#include "dsdkern/dsdkern.h"

namespace dsdk {
namespace cuda {

// SUCCESS for cudaSuccess; otherwise `status`, with "<what>: <error name> (<error text>)"
// in *msg.
inline dsdkStatus_t cuda_status(cudaError_t err, const char* what, dsdkStatus_t status,
                                std::string* msg) {
  if (err == cudaSuccess) return DSDK_STATUS_SUCCESS;
  if (msg)
    *msg = std::string(what) + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")";
  return status;
}

// Status of the launch just issued. Faults inside the kernel surface later, at the next
// synchronising call.
inline dsdkStatus_t launch_status(const char* kernel, std::string* msg) {
  return cuda_status(cudaGetLastError(), kernel, DSDK_STATUS_EXECUTION_FAILED, msg);
}

// Writes the printf-style message into *msg (when there is one) and returns `st`.
inline dsdkStatus_t fail(std::string* msg, dsdkStatus_t st, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
inline dsdkStatus_t fail(std::string* msg, dsdkStatus_t st, const char* fmt, ...) {
  if (msg) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    *msg = buf;
  }
  return st;
}

// BAD_PARAM unless `ptr` is aligned to T (the kernels load whole elements).
template <class T>
dsdkStatus_t check_aligned(const void* ptr, const char* name, std::string* msg) {
  if (reinterpret_cast<uintptr_t>(ptr) % alignof(T) == 0) return DSDK_STATUS_SUCCESS;
  return fail(msg, DSDK_STATUS_BAD_PARAM, "%s is not aligned to its element size (%zu bytes)",
              name, alignof(T));
}

}  // namespace cuda
}  // namespace dsdk
