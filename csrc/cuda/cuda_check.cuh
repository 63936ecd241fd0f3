// Turns a CUDA runtime error into the backend's status and message.
#pragma once
#include <cuda_runtime.h>

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

}  // namespace cuda
}  // namespace dsdk
