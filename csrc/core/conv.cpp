// Masked convolution entry points: validate descriptors and buffers, build the
// kernels' plain argument structs, dispatch through the algorithm registry.
#include <algorithm>
#include <chrono>
#include <vector>

#include "core/context.h"
#include "core/conv_algorithm.h"
#include "core/conv_backends.h"
#include "core/conv_index.h"
#include "core/descriptors.h"
#include "core/sparse_objects.h"

namespace dsdk {
namespace {

const char* const kAlgorithmNames[] = {"implicit_gemm", "direct_sparse", "sparse_tile"};
static_assert(sizeof(kAlgorithmNames) / sizeof(kAlgorithmNames[0]) == DSDK_CONV_ALGO_COUNT,
              "every dsdkConvAlgo_t needs a name");

bool supported_dtype(dsdkBackend_t b, dsdkDataType_t t) {
  if (b == DSDK_BACKEND_CPU) return t == DSDK_DATA_FLOAT || t == DSDK_DATA_DOUBLE;
  return true;
}

// Checks that x, w, conv and y describe one convolution; fills `sh`.
dsdkStatus_t make_shape(dsdkHandle_t h, const char* api, const dsdkTensorStruct* x,
                        const char* xname, const dsdkFilterStruct* w, const char* wname,
                        const dsdkConvolutionStruct* cv, const dsdkTensorStruct* y,
                        const char* yname, ConvShape* sh) {
  if (!x || !x->set) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: %s is NULL or not set", api, xname);
  if (!w || !w->set) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: %s is NULL or not set", api, wname);
  if (!cv || !cv->set) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: convDesc is NULL or not set", api);
  if (x->dtype != w->dtype)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: %s is %s but %s is %s", api, xname,
                dtype_name(x->dtype), wname, dtype_name(w->dtype));
  if (!supported_dtype(h->backend, x->dtype))
    return fail(h, DSDK_STATUS_NOT_SUPPORTED, "%s: data type %s is not supported on the %s backend",
                api, dtype_name(x->dtype), h->backend == DSDK_BACKEND_CPU ? "CPU" : "CUDA");
  if (x->c % cv->groups != 0)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: %s channels (%d) are not divisible by groups (%d)",
                api, xname, x->c, cv->groups);
  if (w->k % cv->groups != 0)
    return fail(h, DSDK_STATUS_BAD_PARAM,
                "%s: %s output channels (%d) are not divisible by groups (%d)", api, wname, w->k,
                cv->groups);
  if (w->c * cv->groups != x->c)
    return fail(h, DSDK_STATUS_BAD_PARAM,
                "%s: %s has %d input channels per group, %s has %d channels in %d groups", api,
                wname, w->c, xname, x->c, cv->groups);
  int p = conv_out_size(x->h, cv->pad_h, w->r, cv->stride_h, cv->dil_h);
  int q = conv_out_size(x->w, cv->pad_w, w->s, cv->stride_w, cv->dil_w);
  if (p < 1 || q < 1)
    return fail(h, DSDK_STATUS_BAD_PARAM,
                "%s: output size would be %dx%d: %s (%dx%d, padding %dx%d) is smaller than the "
                "dilated filter of %s (%dx%d, dilation %dx%d)",
                api, p, q, xname, x->h, x->w, cv->pad_h, cv->pad_w, wname, w->r, w->s, cv->dil_h,
                cv->dil_w);
  if (y) {
    if (!y->set) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: %s is not set", api, yname);
    if (y->dtype != x->dtype)
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: %s is %s but %s is %s", api, yname,
                  dtype_name(y->dtype), xname, dtype_name(x->dtype));
    if (y->n != x->n || y->c != w->k || y->h != p || y->w != q)
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: %s is %dx%dx%dx%d but the output is %dx%dx%dx%d",
                  api, yname, y->n, y->c, y->h, y->w, x->n, w->k, p, q);
  }
  *sh = ConvShape{x->n, x->c, x->h, x->w, w->k, w->r, w->s, cv->groups,
                  cv->pad_h, cv->pad_w, cv->stride_h, cv->stride_w, cv->dil_h, cv->dil_w, p, q};
  return DSDK_STATUS_SUCCESS;
}

Strides4 strides(const dsdkTensorStruct* t) { return Strides4{t->ns, t->cs, t->hs, t->ws}; }

// The registered algorithm `id` (a valid id) on the handle's backend, or nullptr.
const ConvAlgorithm* registered(dsdkHandle_t h, dsdkConvAlgo_t id) {
#ifdef DSDK_WITH_CUDA
  if (h->backend == DSDK_BACKEND_CUDA) return cuda::conv_algorithm(id);
#else
  (void)h;
#endif
  return cpu::conv_algorithm(id);
}

// The algorithm `algo` on the handle's backend; nullptr (with the message set) if none.
const ConvAlgorithm* find_algo(dsdkHandle_t h, const char* api, dsdkConvAlgo_t algo) {
  if (algo < 0 || algo >= DSDK_CONV_ALGO_COUNT) {
    fail(h, DSDK_STATUS_BAD_PARAM, "%s: algo %d is not a registered algorithm", api, int(algo));
    return nullptr;
  }
  const ConvAlgorithm* a = registered(h, algo);
  if (!a)
    fail(h, DSDK_STATUS_NOT_SUPPORTED, "%s: algo %s has no implementation on this backend", api,
         kAlgorithmNames[algo]);
  return a;
}

ConvExec exec_of(dsdkHandle_t h) { return ConvExec{h->num_threads, h->stream}; }

// The algorithm for `c`, checked to implement it (messages name `algo`).
dsdkStatus_t pick(dsdkHandle_t h, const char* api, const ConvCall& c, dsdkConvAlgo_t algo,
                  const ConvAlgorithm** out) {
  const ConvAlgorithm* a = find_algo(h, api, algo);
  if (!a) return algo < 0 || algo >= DSDK_CONV_ALGO_COUNT ? DSDK_STATUS_BAD_PARAM
                                                          : DSDK_STATUS_NOT_SUPPORTED;
  std::string why;
  dsdkStatus_t st = a->can_implement(c, &why);
  if (st != DSDK_STATUS_SUCCESS)
    return fail(h, st, "%s: algo %s cannot run this problem: %s", api, kAlgorithmNames[algo],
                why.c_str());
  *out = a;
  return DSDK_STATUS_SUCCESS;
}

#define DSDK_REQUIRE(h, cond, api, what) \
  if (!(cond)) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: %s is NULL", api, what)

// The data buffers a direction reads and writes; an empty batch needs only what it
// defines (dw = beta * dw).
dsdkStatus_t require_buffers(dsdkHandle_t h, const char* api, const ConvCall& c) {
  const bool any = c.shape().n > 0;
  switch (c.dir) {
    case DSDK_CONV_FORWARD:
      if (!any) return DSDK_STATUS_SUCCESS;
      DSDK_REQUIRE(h, c.fwd.x, api, "x");
      DSDK_REQUIRE(h, c.fwd.w || c.fwd.sparse, api, "w");
      DSDK_REQUIRE(h, c.fwd.y, api, "y");
      return DSDK_STATUS_SUCCESS;
    case DSDK_CONV_BACKWARD_DATA:
      if (!any) return DSDK_STATUS_SUCCESS;
      DSDK_REQUIRE(h, c.bwd_data.w, api, "w");
      DSDK_REQUIRE(h, c.bwd_data.dy, api, "dy");
      DSDK_REQUIRE(h, c.bwd_data.dx, api, "dx");
      return DSDK_STATUS_SUCCESS;
    default:
      DSDK_REQUIRE(h, c.bwd_filter.dw, api, "dw");
      if (any) {
        DSDK_REQUIRE(h, c.bwd_filter.x, api, "x");
        DSDK_REQUIRE(h, c.bwd_filter.dy, api, "dy");
      }
      return DSDK_STATUS_SUCCESS;
  }
}

bool has_work(const ConvCall& c) {
  return c.shape().n > 0 || c.dir == DSDK_CONV_BACKWARD_FILTER;
}

// The one path of every compute call, after its arguments became `c`:
// pick the algorithm → can_implement → workspace check → buffers → run.
dsdkStatus_t dispatch(dsdkHandle_t h, const char* api, const ConvCall& c, dsdkConvAlgo_t algo,
                      void* ws, size_t ws_bytes) {
  const ConvAlgorithm* a = nullptr;
  dsdkStatus_t st = pick(h, api, c, algo, &a);
  if (st != DSDK_STATUS_SUCCESS) return st;
  const ConvExec e = exec_of(h);
  st = check_workspace(h, api, a->workspace(c, e), ws, ws_bytes);
  if (st == DSDK_STATUS_SUCCESS) st = require_buffers(h, api, c);
  if (st != DSDK_STATUS_SUCCESS) return st;
  if (!has_work(c)) return succeed(h);
  std::string msg;
  return kernel_result(h, api, a->run(c, ws, ws_bytes, e, &msg), msg);
}

ConvCall forward_call(const ConvShape& sh, dsdkDataType_t t, const void* x, Strides4 xs,
                      const void* w, const uint8_t* mask, void* y, Strides4 ys, double alpha,
                      double beta, const void* bias = nullptr) {
  ConvCall c{};
  c.dir = DSDK_CONV_FORWARD;
  c.fwd = ConvFwdArgs{sh, t, x, xs, w, mask, y, ys, alpha, beta};
  c.fwd.bias = bias;
  return c;
}
ConvCall bwd_data_call(const ConvShape& sh, dsdkDataType_t t, const void* w, const uint8_t* mask,
                       const void* dy, Strides4 dys, void* dx, Strides4 dxs, double alpha,
                       double beta) {
  ConvCall c{};
  c.dir = DSDK_CONV_BACKWARD_DATA;
  c.bwd_data = ConvBwdDataArgs{sh, t, w, mask, dy, dys, dx, dxs, alpha, beta};
  return c;
}
ConvCall bwd_filter_call(const ConvShape& sh, dsdkDataType_t t, const void* x, Strides4 xs,
                         const void* dy, Strides4 dys, void* dw, const uint8_t* mask,
                         double alpha, double beta) {
  ConvCall c{};
  c.dir = DSDK_CONV_BACKWARD_FILTER;
  c.bwd_filter = ConvBwdFilterArgs{sh, t, x, xs, dy, dys, dw, mask, alpha, beta};
  return c;
}

// Find's call of `dir` on the forward problem's buffers (see dsdkFindConvolutionAlgorithm).
ConvCall find_call(dsdkConvDirection_t dir, const ConvShape& sh, dsdkDataType_t t, void* x,
                   Strides4 xs, void* w, const uint8_t* mask, void* y, Strides4 ys) {
  if (dir == DSDK_CONV_FORWARD) return forward_call(sh, t, x, xs, w, mask, y, ys, 1.0, 0.0);
  if (dir == DSDK_CONV_BACKWARD_DATA) return bwd_data_call(sh, t, w, mask, y, ys, x, xs, 1.0, 0.0);
  return bwd_filter_call(sh, t, x, xs, y, ys, w, mask, 1.0, 0.0);
}

// The forward call of a packed filter: the convolution's shape, with the filter's groups.
dsdkStatus_t sparse_forward_call(dsdkHandle_t h, const char* api, const dsdkTensorStruct* x,
                                 const void* xp, dsdkSparseFilter_t f,
                                 const dsdkConvolutionStruct* cv, const dsdkTensorStruct* y,
                                 void* yp, double alpha, double beta, const void* bias,
                                 ConvCall* c) {
  if (!f) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: filter is NULL", api);
  if (!y) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: yDesc is NULL", api);
  dsdkStatus_t st = check_place(h, api, "filter", f->place);
  if (st != DSDK_STATUS_SUCCESS) return st;
  ConvShape sh;
  st = make_shape(h, api, x, "xDesc", &f->desc, "filter", cv, y, "yDesc", &sh);
  if (st != DSDK_STATUS_SUCCESS) return st;
  if (cv->groups != f->groups)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: convDesc has %d groups but the filter was packed for %d",
                api, cv->groups, f->groups);
  *c = forward_call(sh, x->dtype, xp, strides(x), nullptr, nullptr, yp, strides(y), alpha, beta,
                    bias);
  c->fwd.sparse = &f->csr;
  c->fwd.offsets = &f->offsets;
  return DSDK_STATUS_SUCCESS;
}

// The forward entries with and without a bias (bias null: none), on `api`'s name.
dsdkStatus_t masked_forward(dsdkHandle_t h, const char* api, const void* alpha,
                            const dsdkTensorStruct* xD, const void* x, const dsdkFilterStruct* wD,
                            const void* w, const uint8_t* mask, const dsdkConvolutionStruct* cv,
                            dsdkConvAlgo_t algo, void* ws, size_t wsBytes, const void* beta,
                            const void* bias, const dsdkTensorStruct* yD, void* y) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  return guarded(h, api, [&]() -> dsdkStatus_t {
    if (!yD) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: yDesc is NULL", api);
    ConvShape sh;
    dsdkStatus_t st = make_shape(h, api, xD, "xDesc", wD, "wDesc", cv, yD, "yDesc", &sh);
    if (st != DSDK_STATUS_SUCCESS) return st;
    double a = 0.0, b = 0.0;
    st = read_scalars(h, api, xD->dtype, alpha, beta, &a, &b);
    if (st != DSDK_STATUS_SUCCESS) return st;
    return dispatch(h, api,
                    forward_call(sh, xD->dtype, x, strides(xD), w, mask, y, strides(yD), a, b,
                                 bias),
                    algo, ws, wsBytes);
  });
}

dsdkStatus_t sparse_forward(dsdkHandle_t h, const char* api, const void* alpha,
                            const dsdkTensorStruct* xD, const void* x, dsdkSparseFilter_t f,
                            const dsdkConvolutionStruct* cv, dsdkConvAlgo_t algo, void* ws,
                            size_t wsBytes, const void* beta, const void* bias,
                            const dsdkTensorStruct* yD, void* y) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  return guarded(h, api, [&]() -> dsdkStatus_t {
    if (!f) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: filter is NULL", api);
    double a = 0.0, b = 0.0;
    dsdkStatus_t st = read_scalars(h, api, f->desc.dtype, alpha, beta, &a, &b);
    if (st != DSDK_STATUS_SUCCESS) return st;
    ConvCall c;
    st = sparse_forward_call(h, api, xD, x, f, cv, yD, y, a, b, bias, &c);
    if (st != DSDK_STATUS_SUCCESS) return st;
    return dispatch(h, api, c, algo, ws, wsBytes);
  });
}

}  // namespace
}  // namespace dsdk

using namespace dsdk;

extern "C" {

dsdkStatus_t dsdkGetConvolution2dForwardOutputDim(dsdkHandle_t h, dsdkConvolutionDescriptor_t cv,
                                                  dsdkTensorDescriptor_t x,
                                                  dsdkFilterDescriptor_t w, int* n, int* c,
                                                  int* hh, int* ww) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  static const char* api = "dsdkGetConvolution2dForwardOutputDim";
  if (!n || !c || !hh || !ww) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: an output pointer is NULL", api);
  ConvShape sh;
  dsdkStatus_t st = make_shape(h, api, x, "xDesc", w, "wDesc", cv, nullptr, "", &sh);
  if (st != DSDK_STATUS_SUCCESS && st != DSDK_STATUS_NOT_SUPPORTED) return st;
  // The shape query answers for any data type, supported by this backend or not.
  if (st == DSDK_STATUS_NOT_SUPPORTED) {
    sh.n = x->n; sh.k = w->k;
    sh.p = conv_out_size(x->h, cv->pad_h, w->r, cv->stride_h, cv->dil_h);
    sh.q = conv_out_size(x->w, cv->pad_w, w->s, cv->stride_w, cv->dil_w);
  }
  *n = sh.n; *c = sh.k; *hh = sh.p; *ww = sh.q;
  return succeed(h);
}

dsdkStatus_t dsdkGetConvolutionAlgorithmMaxCount(dsdkHandle_t h, int* count) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  if (!count) return fail(h, DSDK_STATUS_BAD_PARAM, "dsdkGetConvolutionAlgorithmMaxCount: count is NULL");
  *count = DSDK_CONV_ALGO_COUNT;
  return succeed(h);
}

const char* dsdkGetConvolutionAlgorithmName(dsdkConvAlgo_t algo) {
  return algo >= 0 && algo < DSDK_CONV_ALGO_COUNT ? kAlgorithmNames[algo] : "unknown";
}

dsdkStatus_t dsdkGetConvolutionWorkspaceSize(dsdkHandle_t h, dsdkConvDirection_t dir,
                                             dsdkTensorDescriptor_t x, dsdkFilterDescriptor_t w,
                                             dsdkConvolutionDescriptor_t cv,
                                             dsdkTensorDescriptor_t y, dsdkConvAlgo_t algo,
                                             size_t* bytes) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  static const char* api = "dsdkGetConvolutionWorkspaceSize";
  return guarded(h, api, [&]() -> dsdkStatus_t {
    if (!bytes) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: sizeInBytes is NULL", api);
    if (dir < DSDK_CONV_FORWARD || dir > DSDK_CONV_BACKWARD_FILTER)
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: direction %d is not valid", api, int(dir));
    if (!y) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: yDesc is NULL", api);
    ConvShape sh;
    dsdkStatus_t st = make_shape(h, api, x, "xDesc", w, "wDesc", cv, y, "yDesc", &sh);
    if (st != DSDK_STATUS_SUCCESS) return st;
    const ConvCall c = find_call(dir, sh, x->dtype, nullptr, strides(x), nullptr, nullptr,
                                 nullptr, strides(y));
    const ConvAlgorithm* a = nullptr;
    st = pick(h, api, c, algo, &a);
    if (st != DSDK_STATUS_SUCCESS) return st;
    *bytes = a->workspace(c, exec_of(h));
    return succeed(h);
  });
}

dsdkStatus_t dsdkMaskedConvolutionForward(dsdkHandle_t h, const void* alpha,
                                          dsdkTensorDescriptor_t xD, const void* x,
                                          dsdkFilterDescriptor_t wD, const void* w,
                                          const uint8_t* mask, dsdkConvolutionDescriptor_t cv,
                                          dsdkConvAlgo_t algo, void* ws, size_t wsBytes,
                                          const void* beta, dsdkTensorDescriptor_t yD, void* y) {
  return masked_forward(h, "dsdkMaskedConvolutionForward", alpha, xD, x, wD, w, mask, cv, algo,
                        ws, wsBytes, beta, nullptr, yD, y);
}

dsdkStatus_t dsdkMaskedConvolutionBiasForward(dsdkHandle_t h, const void* alpha,
                                              dsdkTensorDescriptor_t xD, const void* x,
                                              dsdkFilterDescriptor_t wD, const void* w,
                                              const uint8_t* mask, dsdkConvolutionDescriptor_t cv,
                                              dsdkConvAlgo_t algo, void* ws, size_t wsBytes,
                                              const void* beta, const void* bias,
                                              dsdkTensorDescriptor_t yD, void* y) {
  return masked_forward(h, "dsdkMaskedConvolutionBiasForward", alpha, xD, x, wD, w, mask, cv,
                        algo, ws, wsBytes, beta, bias, yD, y);
}

dsdkStatus_t dsdkMaskedConvolutionBackwardData(dsdkHandle_t h, const void* alpha,
                                               dsdkFilterDescriptor_t wD, const void* w,
                                               const uint8_t* mask, dsdkTensorDescriptor_t dyD,
                                               const void* dy, dsdkConvolutionDescriptor_t cv,
                                               dsdkConvAlgo_t algo, void* ws, size_t wsBytes,
                                               const void* beta, dsdkTensorDescriptor_t dxD,
                                               void* dx) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  static const char* api = "dsdkMaskedConvolutionBackwardData";
  return guarded(h, api, [&]() -> dsdkStatus_t {
    if (!dyD) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: dyDesc is NULL", api);
    ConvShape sh;
    dsdkStatus_t st = make_shape(h, api, dxD, "dxDesc", wD, "wDesc", cv, dyD, "dyDesc", &sh);
    if (st != DSDK_STATUS_SUCCESS) return st;
    double a = 0.0, b = 0.0;
    st = read_scalars(h, api, dxD->dtype, alpha, beta, &a, &b);
    if (st != DSDK_STATUS_SUCCESS) return st;
    return dispatch(h, api,
                    bwd_data_call(sh, dxD->dtype, w, mask, dy, strides(dyD), dx, strides(dxD), a, b),
                    algo, ws, wsBytes);
  });
}

dsdkStatus_t dsdkMaskedConvolutionBackwardFilter(dsdkHandle_t h, const void* alpha,
                                                 dsdkTensorDescriptor_t xD, const void* x,
                                                 dsdkTensorDescriptor_t dyD, const void* dy,
                                                 dsdkConvolutionDescriptor_t cv,
                                                 dsdkConvAlgo_t algo, void* ws, size_t wsBytes,
                                                 const void* beta, dsdkFilterDescriptor_t dwD,
                                                 void* dw, const uint8_t* mask) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  static const char* api = "dsdkMaskedConvolutionBackwardFilter";
  return guarded(h, api, [&]() -> dsdkStatus_t {
    if (!dyD) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: dyDesc is NULL", api);
    ConvShape sh;
    dsdkStatus_t st = make_shape(h, api, xD, "xDesc", dwD, "dwDesc", cv, dyD, "dyDesc", &sh);
    if (st != DSDK_STATUS_SUCCESS) return st;
    double a = 0.0, b = 0.0;
    st = read_scalars(h, api, xD->dtype, alpha, beta, &a, &b);
    if (st != DSDK_STATUS_SUCCESS) return st;
    return dispatch(h, api,
                    bwd_filter_call(sh, xD->dtype, x, strides(xD), dy, strides(dyD), dw, mask, a, b),
                    algo, ws, wsBytes);
  });
}

dsdkStatus_t dsdkFindConvolutionAlgorithm(dsdkHandle_t h, dsdkConvDirection_t dir,
                                          dsdkTensorDescriptor_t xD, void* x,
                                          dsdkFilterDescriptor_t wD, void* w, const uint8_t* mask,
                                          dsdkConvolutionDescriptor_t cv,
                                          dsdkTensorDescriptor_t yD, void* y, int requested,
                                          int* returned, dsdkConvAlgoPerf_t* perf, void* ws,
                                          size_t wsBytes) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  static const char* api = "dsdkFindConvolutionAlgorithm";
  return guarded(h, api, [&]() -> dsdkStatus_t {
    if (requested < 1)
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: requestedCount must be >= 1, got %d", api, requested);
    if (!returned) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: returnedCount is NULL", api);
    if (!perf) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: perfResults is NULL", api);
    if (dir < DSDK_CONV_FORWARD || dir > DSDK_CONV_BACKWARD_FILTER)
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: direction %d is not valid", api, int(dir));
    if (!yD) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: yDesc is NULL", api);
    ConvShape sh;
    dsdkStatus_t st = make_shape(h, api, xD, "xDesc", wD, "wDesc", cv, yD, "yDesc", &sh);
    if (st != DSDK_STATUS_SUCCESS) return st;
    DSDK_REQUIRE(h, w, api, "w");
    DSDK_REQUIRE(h, y, api, "y");
    if (sh.n > 0) DSDK_REQUIRE(h, x, api, "x");

    const ConvCall c = find_call(dir, sh, xD->dtype, x, strides(xD), w, mask, y, strides(yD));
    const ConvExec e = exec_of(h);
    std::vector<dsdkConvAlgoPerf_t> all;
    for (int id = 0; id < DSDK_CONV_ALGO_COUNT; ++id) {
      dsdkConvAlgoPerf_t p{dsdkConvAlgo_t(id), DSDK_STATUS_NOT_SUPPORTED, -1.0f, 0};
      const ConvAlgorithm* a = registered(h, p.algo);
      std::string msg;
      if (!a || a->can_implement(c, &msg) != DSDK_STATUS_SUCCESS) {
        all.push_back(p);
        continue;
      }
      p.memory = a->workspace(c, e);
      if (p.memory > wsBytes || (p.memory > 0 && !ws)) {
        p.status = DSDK_STATUS_ALLOC_FAILED;
        all.push_back(p);
        continue;
      }
      auto once = [&]() -> dsdkStatus_t {
        dsdkStatus_t s = a->run(c, ws, wsBytes, e, &msg);
#ifdef DSDK_WITH_CUDA
        if (s == DSDK_STATUS_SUCCESS && h->backend == DSDK_BACKEND_CUDA)
          s = cuda::synchronize(h->stream, &msg);
#endif
        return s;
      };
      if (!has_work(c)) {
        p.status = DSDK_STATUS_SUCCESS;
        p.time = 0.0f;
        all.push_back(p);
        continue;
      }
      p.status = once();  // warm-up, and the status the algorithm reports
      if (p.status == DSDK_STATUS_SUCCESS) {
        std::vector<double> times;
        for (int rep = 0; rep < 5 && p.status == DSDK_STATUS_SUCCESS; ++rep) {
          auto t0 = std::chrono::steady_clock::now();
          p.status = once();
          times.push_back(std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - t0).count());
        }
        std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
        p.time = float(times[times.size() / 2]);
      }
      all.push_back(p);
    }
    std::stable_sort(all.begin(), all.end(), [](const dsdkConvAlgoPerf_t& a, const dsdkConvAlgoPerf_t& b) {
      bool ra = a.status == DSDK_STATUS_SUCCESS, rb = b.status == DSDK_STATUS_SUCCESS;
      if (ra != rb) return ra;
      return ra && a.time < b.time;
    });
    int count = std::min<int>(requested, int(all.size()));
    std::copy(all.begin(), all.begin() + count, perf);
    *returned = count;
    return succeed(h);
  });
}

dsdkStatus_t dsdkGetSparseConvolutionForwardWorkspaceSize(dsdkHandle_t h,
                                                          dsdkTensorDescriptor_t xD,
                                                          dsdkSparseFilter_t f,
                                                          dsdkConvolutionDescriptor_t cv,
                                                          dsdkTensorDescriptor_t yD,
                                                          dsdkConvAlgo_t algo, size_t* bytes) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  static const char* api = "dsdkGetSparseConvolutionForwardWorkspaceSize";
  return guarded(h, api, [&]() -> dsdkStatus_t {
    if (!bytes) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: sizeInBytes is NULL", api);
    ConvCall c;
    dsdkStatus_t st =
        sparse_forward_call(h, api, xD, nullptr, f, cv, yD, nullptr, 1.0, 0.0, nullptr, &c);
    if (st != DSDK_STATUS_SUCCESS) return st;
    const ConvAlgorithm* a = nullptr;
    st = pick(h, api, c, algo, &a);
    if (st != DSDK_STATUS_SUCCESS) return st;
    *bytes = a->workspace(c, exec_of(h));
    return succeed(h);
  });
}

dsdkStatus_t dsdkSparseConvolutionForward(dsdkHandle_t h, const void* alpha,
                                          dsdkTensorDescriptor_t xD, const void* x,
                                          dsdkSparseFilter_t f, dsdkConvolutionDescriptor_t cv,
                                          dsdkConvAlgo_t algo, void* ws, size_t wsBytes,
                                          const void* beta, dsdkTensorDescriptor_t yD, void* y) {
  return sparse_forward(h, "dsdkSparseConvolutionForward", alpha, xD, x, f, cv, algo, ws, wsBytes,
                        beta, nullptr, yD, y);
}

dsdkStatus_t dsdkSparseConvolutionBiasForward(dsdkHandle_t h, const void* alpha,
                                              dsdkTensorDescriptor_t xD, const void* x,
                                              dsdkSparseFilter_t f,
                                              dsdkConvolutionDescriptor_t cv, dsdkConvAlgo_t algo,
                                              void* ws, size_t wsBytes, const void* beta,
                                              const void* bias, dsdkTensorDescriptor_t yD,
                                              void* y) {
  return sparse_forward(h, "dsdkSparseConvolutionBiasForward", alpha, xD, x, f, cv, algo, ws,
                        wsBytes, beta, bias, yD, y);
}

}  // extern "C"
