// Masked GEMM entry points: validate sizes, leading dimensions, scalars, buffers and the
// workspace, build the kernels' GemmArgs, dispatch to the handle's backend.
#include <cstdint>

#include "core/context.h"
#include "core/gemm_backends.h"

namespace dsdk {
namespace {

const char* backend_name(dsdkHandle_t h) {
  return h->backend == DSDK_BACKEND_CPU ? "CPU" : "CUDA";
}

dsdkStatus_t check_dtype(dsdkHandle_t h, const char* api, const dsdkDataType_t& t) {
  const int v = enum_value(t);
  if (v < DSDK_DATA_FLOAT || v > DSDK_DATA_BFLOAT16)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: dtype %d is not a dsdkDataType_t", api, v);
  if (h->backend == DSDK_BACKEND_CPU && t != DSDK_DATA_FLOAT && t != DSDK_DATA_DOUBLE)
    return fail(h, DSDK_STATUS_NOT_SUPPORTED, "%s: dtype %s is not supported on the %s backend",
                api, dtype_name(t), backend_name(h));
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t check_sizes(dsdkHandle_t h, const char* api, int64_t m, int64_t n, int64_t k) {
  if (m < 0) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: m must be >= 0, got %lld", api, (long long)m);
  if (n < 0) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: n must be >= 0, got %lld", api, (long long)n);
  if (k < 0) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: k must be >= 0, got %lld", api, (long long)k);
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t check_op(dsdkHandle_t h, const char* api, const dsdkOperation_t& op,
                      const char* name) {
  const int v = enum_value(op);
  if (v != DSDK_OP_N && v != DSDK_OP_T)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: %s is %d, not DSDK_OP_N or DSDK_OP_T", api, name,
                v);
  return DSDK_STATUS_SUCCESS;
}

// A row-major matrix of rows x cols stored with leading dimension ld.
dsdkStatus_t check_ld(dsdkHandle_t h, const char* api, const char* name, int64_t ld,
                      int64_t rows, int64_t cols) {
  const int64_t low = cols > 1 ? cols : 1;
  if (ld < low)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: %s is %lld but must be >= %lld", api, name,
                (long long)ld, (long long)low);
  if (rows > 0 && ld > INT64_MAX / 8 / rows)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: %s (%lld) times %lld rows overflows", api, name,
                (long long)ld, (long long)rows);
  return DSDK_STATUS_SUCCESS;
}

size_t workspace_of(dsdkHandle_t h, dsdkDataType_t t, int64_t m, int64_t n, int64_t k) {
#ifdef DSDK_WITH_CUDA
  if (h->backend == DSDK_BACKEND_CUDA) return cuda::masked_gemm_workspace(t, m, n, k);
#endif
  return cpu::masked_gemm_workspace(t, m, n, k, h->num_threads);
}

}  // namespace
}  // namespace dsdk

using namespace dsdk;

extern "C" {

dsdkStatus_t dsdkGetMaskedGemmWorkspaceSize(dsdkHandle_t h, dsdkDataType_t dtype, int64_t m,
                                            int64_t n, int64_t k, size_t* bytes) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  static const char* api = "dsdkGetMaskedGemmWorkspaceSize";
  return guarded(h, api, [&]() -> dsdkStatus_t {
    if (!bytes) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: sizeInBytes is NULL", api);
    dsdkStatus_t st = check_dtype(h, api, dtype);
    if (st == DSDK_STATUS_SUCCESS) st = check_sizes(h, api, m, n, k);
    if (st != DSDK_STATUS_SUCCESS) return st;
    *bytes = workspace_of(h, dtype, m, n, k);
    return succeed(h);
  });
}

dsdkStatus_t dsdkMaskedGemm(dsdkHandle_t h, dsdkDataType_t dtype, dsdkOperation_t transA,
                            dsdkOperation_t transB, int64_t m, int64_t n, int64_t k,
                            const void* alpha, const void* A, int64_t lda, const void* B,
                            int64_t ldb, const uint8_t* maskB, const void* beta, void* C,
                            int64_t ldc, const uint8_t* maskC, void* ws, size_t wsBytes) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  static const char* api = "dsdkMaskedGemm";
  return guarded(h, api, [&]() -> dsdkStatus_t {
    dsdkStatus_t st = check_dtype(h, api, dtype);
    if (st == DSDK_STATUS_SUCCESS) st = check_op(h, api, transA, "transA");
    if (st == DSDK_STATUS_SUCCESS) st = check_op(h, api, transB, "transB");
    if (st == DSDK_STATUS_SUCCESS) st = check_sizes(h, api, m, n, k);
    if (st != DSDK_STATUS_SUCCESS) return st;
    const bool ta = transA == DSDK_OP_T, tb = transB == DSDK_OP_T;
    st = check_ld(h, api, "lda", lda, ta ? k : m, ta ? m : k);
    if (st == DSDK_STATUS_SUCCESS) st = check_ld(h, api, "ldb", ldb, tb ? n : k, tb ? k : n);
    if (st == DSDK_STATUS_SUCCESS) st = check_ld(h, api, "ldc", ldc, m, n);
    if (st != DSDK_STATUS_SUCCESS) return st;
    GemmArgs args{dtype, ta, tb, m, n, k, A, lda, B, ldb, maskB, C, ldc, maskC, 0.0, 0.0};
    st = read_scalars(h, api, dtype, alpha, beta, &args.alpha, &args.beta);
    if (st == DSDK_STATUS_SUCCESS)
      st = check_workspace(h, api, workspace_of(h, dtype, m, n, k), ws, wsBytes);
    if (st != DSDK_STATUS_SUCCESS) return st;
    if (m == 0 || n == 0) return succeed(h);
    if (!C) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: C is NULL", api);
    if (k > 0 && !A) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: A is NULL", api);
    if (k > 0 && !B) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: B is NULL", api);
    std::string msg;
#ifdef DSDK_WITH_CUDA
    if (h->backend == DSDK_BACKEND_CUDA)
      return kernel_result(h, api, cuda::masked_gemm(args, ws, wsBytes, h->stream, &msg), msg);
#endif
    return kernel_result(h, api, cpu::masked_gemm(args, ws, wsBytes, h->num_threads, &msg), msg);
  });
}

}  // extern "C"
