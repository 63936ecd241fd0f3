// dsdkMagnitudeMask: argument checks that name the bad argument, workspace rules, and
// dispatch to the CPU or CUDA kernel (which checks the data for NaN).
#include "core/context.h"
#include "core/mask_backends.h"

namespace dsdk {
namespace {

constexpr const char* kApi = "dsdkMagnitudeMask";

// Mode, dtype (valid, and implemented by the handle's backend) and n.
dsdkStatus_t check_problem(dsdkHandle_t h, const char* api, const dsdkMaskMode_t& mode,
                           const dsdkDataType_t& dtype, int64_t n) {
  const int m = enum_value(mode), t = enum_value(dtype);
  if (m != DSDK_MASK_TOPK && m != DSDK_MASK_THRESHOLD)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: mode %d is not a dsdkMaskMode_t", api, m);
  if (t < DSDK_DATA_FLOAT || t > DSDK_DATA_BFLOAT16)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: dtype %d is not a dsdkDataType_t", api, t);
  const bool cpu = h->backend == DSDK_BACKEND_CPU;
  if (cpu && t != DSDK_DATA_FLOAT && t != DSDK_DATA_DOUBLE)
    return fail(h, DSDK_STATUS_NOT_SUPPORTED, "%s: dtype %s is not supported by the CPU backend",
                api, dtype_name(dtype));
  if (n < 0) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: n must be >= 0, got %lld", api, (long long)n);
  return DSDK_STATUS_SUCCESS;
}

size_t workspace_size(dsdkHandle_t h, dsdkMaskMode_t mode, dsdkDataType_t dtype, int64_t n) {
#ifdef DSDK_WITH_CUDA
  if (h->backend == DSDK_BACKEND_CUDA) return cuda::magnitude_mask_workspace(mode, dtype, n);
#endif
  (void)h;
  return cpu::magnitude_mask_workspace(mode, dtype, n);
}

}  // namespace
}  // namespace dsdk

using namespace dsdk;

extern "C" {

dsdkStatus_t dsdkGetMagnitudeMaskWorkspaceSize(dsdkHandle_t h, dsdkMaskMode_t mode,
                                               dsdkDataType_t dtype, int64_t n,
                                               size_t* sizeInBytes) {
  const char* api = "dsdkGetMagnitudeMaskWorkspaceSize";
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  return guarded(h, api, [&]() -> dsdkStatus_t {
    if (!sizeInBytes) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: sizeInBytes is NULL", api);
    dsdkStatus_t st = check_problem(h, api, mode, dtype, n);
    if (st != DSDK_STATUS_SUCCESS) return st;
    *sizeInBytes = workspace_size(h, mode, dtype, n);
    return succeed(h);
  });
}

dsdkStatus_t dsdkMagnitudeMask(dsdkHandle_t h, dsdkMaskMode_t mode, dsdkDataType_t dtype,
                               int64_t n, const void* w, int64_t keep, double threshold,
                               void* workspace, size_t workspaceSizeInBytes, uint8_t* mask) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  return guarded(h, kApi, [&]() -> dsdkStatus_t {
    dsdkStatus_t st = check_problem(h, kApi, mode, dtype, n);
    if (st != DSDK_STATUS_SUCCESS) return st;
    if (n > 0 && !w) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: w is NULL", kApi);
    if (n > 0 && !mask) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: mask is NULL", kApi);
    if (mode == DSDK_MASK_TOPK && (keep < 0 || keep > n))
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: keep must be in [0, n = %lld], got %lld", kApi,
                  (long long)n, (long long)keep);
    if (mode == DSDK_MASK_THRESHOLD && !(threshold >= 0.0))
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: threshold must be >= 0, got %g", kApi,
                  threshold);
    st = check_workspace(h, kApi, workspace_size(h, mode, dtype, n), workspace,
                         workspaceSizeInBytes);
    if (st != DSDK_STATUS_SUCCESS) return st;

    const MagnitudeMaskArgs a{mode, dtype, n, w, keep, threshold, workspace, mask};
    std::string msg;
#ifdef DSDK_WITH_CUDA
    if (h->backend == DSDK_BACKEND_CUDA) st = cuda::magnitude_mask(a, h->stream, &msg);
    else
#endif
      st = cpu::magnitude_mask(a, h->num_threads, &msg);
    return kernel_result(h, kApi, st, msg);
  });
}

}  // extern "C"
