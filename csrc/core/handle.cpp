// Handle lifecycle, status strings and the last-error message.
#include <cstdarg>
#include <cstdio>
#include <new>

#include "core/context.h"
#include "core/conv_backends.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace dsdk {

dsdkStatus_t fail(dsdkHandle_t h, dsdkStatus_t status, const char* fmt, ...) {
  if (h) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    h->last_error = buf;
  }
  return status;
}

size_t dtype_size(dsdkDataType_t t) {
  switch (t) {
    case DSDK_DATA_FLOAT: return 4;
    case DSDK_DATA_DOUBLE: return 8;
    case DSDK_DATA_HALF:
    case DSDK_DATA_BFLOAT16: return 2;
    case DSDK_DATA_MAX_ENUM: break;
  }
  return 0;
}

const char* dtype_name(dsdkDataType_t t) {
  switch (t) {
    case DSDK_DATA_FLOAT: return "float32";
    case DSDK_DATA_DOUBLE: return "float64";
    case DSDK_DATA_HALF: return "float16";
    case DSDK_DATA_BFLOAT16: return "bfloat16";
    case DSDK_DATA_MAX_ENUM: break;
  }
  return "unknown";
}

dsdkStatus_t read_scaling(dsdkHandle_t h, const char* api, dsdkDataType_t t, const void* alpha,
                          const void* beta, double* a, double* b) {
  if (!alpha) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: alpha is NULL", api);
  if (!beta) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: beta is NULL", api);
  if (t == DSDK_DATA_DOUBLE) {
    *a = *static_cast<const double*>(alpha);
    *b = *static_cast<const double*>(beta);
  } else {
    *a = *static_cast<const float*>(alpha);
    *b = *static_cast<const float*>(beta);
  }
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t check_caller_workspace(dsdkHandle_t h, const char* api, size_t need, const void* ws,
                                    size_t bytes) {
  if (need > bytes)
    return fail(h, DSDK_STATUS_BAD_PARAM,
                "%s: workspaceSizeInBytes is %zu but the call needs %zu", api, bytes, need);
  if (need > 0 && !ws) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: workspace is NULL", api);
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t kernel_result(dsdkHandle_t h, const char* api, dsdkStatus_t st,
                           const std::string& msg) {
  if (st == DSDK_STATUS_SUCCESS) return succeed(h);
  return fail(h, st, "%s: %s", api, msg.c_str());
}

}  // namespace dsdk

using dsdk::fail;
using dsdk::succeed;

extern "C" {

int dsdkHasCudaBackend(void) {
#ifdef DSDK_WITH_CUDA
  return 1;
#else
  return 0;
#endif
}

dsdkStatus_t dsdkCreate(dsdkHandle_t* handle, dsdkBackend_t backend) {
  if (!handle) return DSDK_STATUS_BAD_PARAM;
  *handle = nullptr;
  if (backend != DSDK_BACKEND_CPU && backend != DSDK_BACKEND_CUDA) return DSDK_STATUS_BAD_PARAM;
#ifndef DSDK_WITH_CUDA
  if (backend == DSDK_BACKEND_CUDA) return DSDK_STATUS_NOT_SUPPORTED;
#endif
  auto* h = new (std::nothrow) dsdkContext;
  if (!h) return DSDK_STATUS_ALLOC_FAILED;
  h->backend = backend;
#if defined(_OPENMP)
  h->num_threads = omp_get_max_threads();
#endif
#ifdef DSDK_WITH_CUDA
  if (backend == DSDK_BACKEND_CUDA) {
    std::string msg;
    dsdkStatus_t st = dsdk::cuda::current_device(&h->device, &msg);
    if (st != DSDK_STATUS_SUCCESS) {
      delete h;
      return st;
    }
  }
#endif
  *handle = h;
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkDestroy(dsdkHandle_t handle) {
  if (!handle) return DSDK_STATUS_BAD_PARAM;
  delete handle;
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkGetBackend(dsdkHandle_t h, dsdkBackend_t* backend) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  if (!backend) return fail(h, DSDK_STATUS_BAD_PARAM, "dsdkGetBackend: backend is NULL");
  *backend = h->backend;
  return succeed(h);
}

dsdkStatus_t dsdkSetNumThreads(dsdkHandle_t h, int numThreads) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  if (numThreads < 1)
    return fail(h, DSDK_STATUS_BAD_PARAM, "dsdkSetNumThreads: numThreads must be >= 1, got %d",
                numThreads);
  h->num_threads = numThreads;
  return succeed(h);
}

dsdkStatus_t dsdkGetNumThreads(dsdkHandle_t h, int* numThreads) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  if (!numThreads) return fail(h, DSDK_STATUS_BAD_PARAM, "dsdkGetNumThreads: numThreads is NULL");
  *numThreads = h->num_threads;
  return succeed(h);
}

dsdkStatus_t dsdkSetStream(dsdkHandle_t h, void* stream) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  if (h->backend != DSDK_BACKEND_CUDA)
    return fail(h, DSDK_STATUS_BAD_PARAM, "dsdkSetStream: handle is not a CUDA handle");
  h->stream = stream;
  return succeed(h);
}

dsdkStatus_t dsdkGetStream(dsdkHandle_t h, void** stream) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  if (!stream) return fail(h, DSDK_STATUS_BAD_PARAM, "dsdkGetStream: stream is NULL");
  *stream = h->stream;
  return succeed(h);
}

const char* dsdkGetErrorString(dsdkStatus_t s) {
  switch (s) {
    case DSDK_STATUS_SUCCESS: return "DSDK_STATUS_SUCCESS";
    case DSDK_STATUS_NOT_INITIALIZED: return "DSDK_STATUS_NOT_INITIALIZED";
    case DSDK_STATUS_ALLOC_FAILED: return "DSDK_STATUS_ALLOC_FAILED";
    case DSDK_STATUS_BAD_PARAM: return "DSDK_STATUS_BAD_PARAM";
    case DSDK_STATUS_INTERNAL_ERROR: return "DSDK_STATUS_INTERNAL_ERROR";
    case DSDK_STATUS_ARCH_MISMATCH: return "DSDK_STATUS_ARCH_MISMATCH";
    case DSDK_STATUS_EXECUTION_FAILED: return "DSDK_STATUS_EXECUTION_FAILED";
    case DSDK_STATUS_NOT_SUPPORTED: return "DSDK_STATUS_NOT_SUPPORTED";
    case DSDK_STATUS_MAX_ENUM: break;
  }
  return "DSDK_STATUS_UNKNOWN";
}

const char* dsdkGetLastErrorMessage(dsdkHandle_t h) {
  return h ? h->last_error.c_str() : "handle is NULL";
}

}  // extern "C"
