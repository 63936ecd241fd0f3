// Packed sparse filters and matrices (create, info, destroy) and the sparse GEMM entry
// points. The sparse convolution's compute calls are in conv.cpp, on the convolution
// dispatch path.
#include <new>

#include "core/context.h"
#include "core/sparse_backends.h"
#include "core/sparse_objects.h"

namespace dsdk {
namespace {

dsdkStatus_t check_dtype(dsdkHandle_t h, const char* api, const char* what, dsdkDataType_t t) {
  if (h->backend == DSDK_BACKEND_CUDA && enum_value(t) >= DSDK_DATA_FLOAT &&
      enum_value(t) <= DSDK_DATA_BFLOAT16)
    return DSDK_STATUS_SUCCESS;
  if (t != DSDK_DATA_FLOAT && t != DSDK_DATA_DOUBLE)
    return fail(h, DSDK_STATUS_NOT_SUPPORTED, "%s: %s is %s; FLOAT and DOUBLE are supported", api,
                what, dtype_name(t));
  return DSDK_STATUS_SUCCESS;
}

// Packs w ⊙ mask (rows x cols) into `mem`, sized to the kept count.
CsrView pack(dsdkHandle_t h, dsdkDataType_t t, int64_t rows, int64_t cols, const void* w,
             const uint8_t* mask, std::vector<unsigned char>* mem) {
  const int64_t nnz = cpu::csr_count(mask, rows, cols, h->num_threads);
  mem->resize(csr_bytes(t, rows, cols, nnz));
  return cpu::csr_pack(t, rows, cols, w, mask, nnz, mem->data(), h->num_threads);
}

// ---- CUDA handles: the packed operands in device memory -----------------------
// Packed on the device (cuda/sparse_pack.cu) rather than on the host after a copy: w
// and mask are already there, so the dense weight never crosses to the host, and one
// bitwise copy kernel serves the 16-bit types that the host packer does not know.
#ifdef DSDK_WITH_CUDA
dsdkStatus_t pack_on_device(dsdkHandle_t h, const char* api, dsdkDataType_t t, int64_t rows,
                            int64_t cols, const void* w, const char* wname, const uint8_t* mask,
                            CsrView* csr, SparsePlace* place) {
  std::string msg;
  dsdkStatus_t st = cuda::require_device_pointer(w, wname, &msg);
  if (st == DSDK_STATUS_SUCCESS && mask) st = cuda::require_device_pointer(mask, "mask", &msg);
  if (st == DSDK_STATUS_SUCCESS)
    st = cuda::csr_create(t, rows, cols, w, mask, h->stream, csr, &place->dev, &place->dev_bytes,
                          &msg);
  if (st != DSDK_STATUS_SUCCESS) return fail(h, st, "%s: %s", api, msg.c_str());
  place->backend = DSDK_BACKEND_CUDA;
  place->device = h->device;
  return DSDK_STATUS_SUCCESS;
}
#endif

// Packs w ⊙ mask into `o` where the handle computes (messages call w `wname`).
template <class Obj>
dsdkStatus_t pack_into(dsdkHandle_t h, const char* api, dsdkDataType_t t, int64_t rows,
                       int64_t cols, const void* w, const char* wname, const uint8_t* mask,
                       Obj* o) {
#ifdef DSDK_WITH_CUDA
  if (h->backend == DSDK_BACKEND_CUDA)
    return pack_on_device(h, api, t, rows, cols, w, wname, mask, &o->csr, &o->place);
#else
  (void)api;
  (void)wname;
#endif
  o->csr = pack(h, t, rows, cols, w, mask, &o->mem);
  return DSDK_STATUS_SUCCESS;
}

void release(const SparsePlace& place) {
#ifdef DSDK_WITH_CUDA
  if (place.dev) cuda::free_device(place.dev);
#else
  (void)place;
#endif
}

const char* backend_name(dsdkBackend_t b) { return b == DSDK_BACKEND_CUDA ? "CUDA" : "CPU"; }

template <class Obj>
dsdkStatus_t info(const Obj* o, int64_t* nnz, size_t* bytes) {
  if (!o || !nnz || !bytes) return DSDK_STATUS_BAD_PARAM;
  *nnz = o->csr.nnz;
  *bytes = o->place.backend == DSDK_BACKEND_CUDA ? o->place.dev_bytes : o->mem.size();
  return DSDK_STATUS_SUCCESS;
}

}  // namespace

dsdkStatus_t check_place(dsdkHandle_t h, const char* api, const char* what,
                         const SparsePlace& place) {
  if (place.backend != h->backend)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: %s was packed on a %s handle, this is a %s handle",
                api, what, backend_name(place.backend), backend_name(h->backend));
  if (place.backend == DSDK_BACKEND_CUDA && place.device != h->device)
    return fail(h, DSDK_STATUS_BAD_PARAM,
                "%s: %s was packed on CUDA device %d, this handle's device is %d", api, what,
                place.device, h->device);
  return DSDK_STATUS_SUCCESS;
}

}  // namespace dsdk

using namespace dsdk;

extern "C" {

dsdkStatus_t dsdkCreateSparseFilter(dsdkHandle_t h, dsdkSparseFilter_t* out,
                                    dsdkFilterDescriptor_t wD, const void* w,
                                    const uint8_t* mask, dsdkConvolutionDescriptor_t cv) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  static const char* api = "dsdkCreateSparseFilter";
  return guarded(h, api, [&]() -> dsdkStatus_t {
    if (!out) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: filter is NULL", api);
    if (!wD || !wD->set) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: wDesc is NULL or not set", api);
    if (!cv || !cv->set) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: convDesc is NULL or not set", api);
    if (!w) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: w is NULL", api);
    dsdkStatus_t st = check_dtype(h, api, "wDesc", wD->dtype);
    if (st != DSDK_STATUS_SUCCESS) return st;
    if (wD->k % cv->groups != 0)
      return fail(h, DSDK_STATUS_BAD_PARAM,
                  "%s: wDesc output channels (%d) are not divisible by groups (%d)", api, wD->k,
                  cv->groups);
    auto* f = new dsdkSparseFilterStruct{*wD, cv->groups, {}, {}, {}, {}};
    st = pack_into(h, api, wD->dtype, wD->k, int64_t(wD->c) * wD->r * wD->s, w, "w", mask, f);
    if (st != DSDK_STATUS_SUCCESS) {
      delete f;
      return st;
    }
    *out = f;
    return succeed(h);
  });
}

dsdkStatus_t dsdkGetSparseFilterInfo(dsdkSparseFilter_t f, int64_t* nnz, size_t* bytes) {
  return info(f, nnz, bytes);
}

dsdkStatus_t dsdkDestroySparseFilter(dsdkSparseFilter_t f) {
  if (!f) return DSDK_STATUS_BAD_PARAM;
  release(f->place);
  delete f;
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkCreateSparseMatrix(dsdkHandle_t h, dsdkSparseMatrix_t* out, dsdkDataType_t t,
                                    int64_t rows, int64_t cols, const void* W,
                                    const uint8_t* mask) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  static const char* api = "dsdkCreateSparseMatrix";
  return guarded(h, api, [&]() -> dsdkStatus_t {
    if (!out) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: matrix is NULL", api);
    dsdkStatus_t st = check_dtype(h, api, "dtype", t);
    if (st != DSDK_STATUS_SUCCESS) return st;
    if (rows < 1 || cols < 1)
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: rows (%lld) and cols (%lld) must be >= 1", api,
                  (long long)rows, (long long)cols);
    if (cols > INT32_MAX)
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: cols (%lld) exceeds 2^31 - 1", api,
                  (long long)cols);
    if (!W) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: W is NULL", api);
    auto* m = new dsdkSparseMatrixStruct{};
    st = pack_into(h, api, t, rows, cols, W, "W", mask, m);
    if (st != DSDK_STATUS_SUCCESS) {
      delete m;
      return st;
    }
    *out = m;
    return succeed(h);
  });
}

dsdkStatus_t dsdkGetSparseMatrixInfo(dsdkSparseMatrix_t m, int64_t* nnz, size_t* bytes) {
  return info(m, nnz, bytes);
}

dsdkStatus_t dsdkDestroySparseMatrix(dsdkSparseMatrix_t m) {
  if (!m) return DSDK_STATUS_BAD_PARAM;
  release(m->place);
  delete m;
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkGetSparseGemmWorkspaceSize(dsdkHandle_t h, dsdkSparseMatrix_t mat, int64_t m,
                                            size_t* bytes) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  static const char* api = "dsdkGetSparseGemmWorkspaceSize";
  return guarded(h, api, [&]() -> dsdkStatus_t {
    if (!mat) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: matrix is NULL", api);
    if (!bytes) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: sizeInBytes is NULL", api);
    if (m < 0) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: m (%lld) is negative", api, (long long)m);
    dsdkStatus_t st = check_place(h, api, "matrix", mat->place);
    if (st != DSDK_STATUS_SUCCESS) return st;
    if (h->backend == DSDK_BACKEND_CUDA) {  // the CUDA kernel needs no workspace
      *bytes = 0;
      return succeed(h);
    }
    std::string why;
    if (!cpu::sparse_gemm_fits(mat->csr, m, &why))
      return fail(h, DSDK_STATUS_NOT_SUPPORTED, "%s: %s", api, why.c_str());
    *bytes = cpu::sparse_gemm_workspace(mat->csr, m);
    return succeed(h);
  });
}

dsdkStatus_t dsdkSparseGemm(dsdkHandle_t h, const void* alpha, int64_t m, const void* X,
                            int64_t ldx, dsdkSparseMatrix_t mat, void* ws, size_t wsBytes,
                            const void* beta, void* Y, int64_t ldy) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  static const char* api = "dsdkSparseGemm";
  return guarded(h, api, [&]() -> dsdkStatus_t {
    if (!mat) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: matrix is NULL", api);
    dsdkStatus_t st = check_place(h, api, "matrix", mat->place);
    if (st != DSDK_STATUS_SUCCESS) return st;
    const CsrView& w = mat->csr;
    if (m < 0) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: m (%lld) is negative", api, (long long)m);
    if (ldx < w.cols)
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: ldx (%lld) is less than the matrix's cols (%lld)",
                  api, (long long)ldx, (long long)w.cols);
    if (ldy < w.rows)
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: ldy (%lld) is less than the matrix's rows (%lld)",
                  api, (long long)ldy, (long long)w.rows);
    SparseGemmArgs a{&w, m, X, ldx, Y, ldy, 0.0, 0.0};
    st = read_scalars(h, api, w.dtype, alpha, beta, &a.alpha, &a.beta);
    if (st != DSDK_STATUS_SUCCESS) return st;
    std::string msg;
#ifdef DSDK_WITH_CUDA
    if (h->backend == DSDK_BACKEND_CUDA) {
      if (m == 0) return succeed(h);
      if (!X) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: X is NULL", api);
      if (!Y) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: Y is NULL", api);
      return kernel_result(h, api, cuda::sparse_gemm(a, h->stream, &msg), msg);
    }
#endif
    if (!cpu::sparse_gemm_fits(w, m, &msg))
      return fail(h, DSDK_STATUS_NOT_SUPPORTED, "%s: %s", api, msg.c_str());
    st = check_workspace(h, api, cpu::sparse_gemm_workspace(w, m), ws, wsBytes);
    if (st != DSDK_STATUS_SUCCESS) return st;
    if (m == 0) return succeed(h);
    if (!X) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: X is NULL", api);
    if (!Y) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: Y is NULL", api);
    st = cpu::sparse_gemm(a, ws, wsBytes, h->num_threads, &msg);
    if (st != DSDK_STATUS_SUCCESS) return fail(h, st, "%s: %s", api, msg.c_str());
    return succeed(h);
  });
}

}  // extern "C"
