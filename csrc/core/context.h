// The handle's state and the one way the core reports an error.
#pragma once
#include <string>

#include "dsdkern/dsdkern.h"

struct dsdkContext {
  dsdkBackend_t backend = DSDK_BACKEND_CPU;
  int num_threads = 1;
  void* stream = nullptr;  // cudaStream_t for the CUDA backend
  int device = 0;
  std::string last_error;
};

namespace dsdk {

// Records a printf-style message on the handle (when there is one) and returns `status`.
dsdkStatus_t fail(dsdkHandle_t h, dsdkStatus_t status, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

inline dsdkStatus_t succeed(dsdkHandle_t h) {
  if (h) h->last_error.clear();
  return DSDK_STATUS_SUCCESS;
}

// Runs `body` (returning dsdkStatus_t), turning any C++ exception into a status so
// that nothing escapes through the C boundary.
template <class F>
dsdkStatus_t guarded(dsdkHandle_t h, const char* api, F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(h, DSDK_STATUS_ALLOC_FAILED, "%s: out of host memory", api);
  } catch (const std::exception& e) {
    return fail(h, DSDK_STATUS_INTERNAL_ERROR, "%s: %s", api, e.what());
  } catch (...) {
    return fail(h, DSDK_STATUS_INTERNAL_ERROR, "%s: unknown C++ exception", api);
  }
}

size_t dtype_size(dsdkDataType_t t);  // 0 for a value that is no dsdkDataType_t
const char* dtype_name(dsdkDataType_t t);

// Checks shared by the compute entry points (`api` prefixes every message):
// alpha/beta read as host double for DOUBLE and host float otherwise;
dsdkStatus_t read_scaling(dsdkHandle_t h, const char* api, dsdkDataType_t t, const void* alpha,
                          const void* beta, double* a, double* b);
// a caller's workspace of `bytes` against the `need` of the kernel;
dsdkStatus_t check_caller_workspace(dsdkHandle_t h, const char* api, size_t need, const void* ws,
                                    size_t bytes);
// a kernel's status and message turned into the call's result.
dsdkStatus_t kernel_result(dsdkHandle_t h, const char* api, dsdkStatus_t st,
                           const std::string& msg);

}  // namespace dsdk
