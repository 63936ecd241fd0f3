// Device management for the CUDA backend: the handle's device and Find's synchronisation.
#include <cuda_runtime.h>

#include "core/conv_backends.h"
#include "cuda/cuda_check.cuh"

namespace dsdk {
namespace cuda {

dsdkStatus_t current_device(int* device, std::string* msg) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    // No driver or no device: a clean NOT_SUPPORTED, and no error left pending for the
    // caller's next CUDA call.
    cudaGetLastError();
    return cuda_status(err, "cudaGetDeviceCount", DSDK_STATUS_NOT_SUPPORTED, msg);
  }
  if (count == 0) {
    if (msg) *msg = "cudaGetDeviceCount: no CUDA device is visible";
    return DSDK_STATUS_NOT_SUPPORTED;
  }
  return cuda_status(cudaGetDevice(device), "cudaGetDevice", DSDK_STATUS_EXECUTION_FAILED, msg);
}

dsdkStatus_t synchronize(void* stream, std::string* msg) {
  return cuda_status(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)),
                     "cudaStreamSynchronize", DSDK_STATUS_EXECUTION_FAILED, msg);
}

}  // namespace cuda
}  // namespace dsdk
