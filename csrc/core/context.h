// The handle's state and the one way the core reports an error.
#pragma once
#include <cstring>
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

// The int a C caller passed for an enum parameter, read without an enum-typed
// load: a value outside the enumerators is exactly what the checks look for.
template <class E>
int enum_value(const E& e) {
  static_assert(sizeof(E) == sizeof(int), "C enums are int-sized");
  int v;
  std::memcpy(&v, &e, sizeof v);
  return v;
}

size_t dtype_size(dsdkDataType_t t);

// *a, *b = the host scalars alpha, beta (double for DOUBLE data, float otherwise).
dsdkStatus_t read_scalars(dsdkHandle_t h, const char* api, dsdkDataType_t t, const void* alpha,
                          const void* beta, double* a, double* b);
// BAD_PARAM unless `bytes` bytes at `ws` cover the `need` a kernel asked for.
dsdkStatus_t check_workspace(dsdkHandle_t h, const char* api, size_t need, const void* ws,
                             size_t bytes);
const char* dtype_name(dsdkDataType_t t);
// A kernel's status and message turned into the call's result (`api` prefixes the message).
dsdkStatus_t kernel_result(dsdkHandle_t h, const char* api, dsdkStatus_t st,
                           const std::string& msg);

}  // namespace dsdk
