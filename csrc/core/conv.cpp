// Masked convolution entry points: validate descriptors and buffers, build the
// kernels' plain argument structs, dispatch through the algorithm registry.
#include <algorithm>
#include <chrono>
#include <vector>

#include "core/context.h"
#include "core/conv_backends.h"
#include "core/conv_index.h"
#include "core/descriptors.h"

namespace dsdk {
namespace {

// One registered algorithm: its workspace query and its three directions per backend.
struct ConvAlgorithm {
  dsdkConvAlgo_t id;
  const char* name;
  size_t (*cpu_workspace)(dsdkConvDirection_t, const ConvShape&, dsdkDataType_t, int);
  dsdkStatus_t (*cpu_fwd)(const ConvFwdArgs&, void*, size_t, int, std::string*);
  dsdkStatus_t (*cpu_bwd_data)(const ConvBwdDataArgs&, void*, size_t, int, std::string*);
  dsdkStatus_t (*cpu_bwd_filter)(const ConvBwdFilterArgs&, void*, size_t, int, std::string*);
#ifdef DSDK_WITH_CUDA
  size_t (*cuda_workspace)(dsdkConvDirection_t, const ConvShape&, dsdkDataType_t);
  dsdkStatus_t (*cuda_fwd)(const ConvFwdArgs&, void*, size_t, void*, std::string*);
  dsdkStatus_t (*cuda_bwd_data)(const ConvBwdDataArgs&, void*, size_t, void*, std::string*);
  dsdkStatus_t (*cuda_bwd_filter)(const ConvBwdFilterArgs&, void*, size_t, void*, std::string*);
#endif
};

const ConvAlgorithm kAlgorithms[] = {
    {DSDK_CONV_ALGO_IMPLICIT_GEMM, "implicit_gemm", cpu::conv_implicit_gemm_workspace,
     cpu::conv_implicit_gemm_fwd, cpu::conv_implicit_gemm_bwd_data,
     cpu::conv_implicit_gemm_bwd_filter,
#ifdef DSDK_WITH_CUDA
     cuda::conv_implicit_gemm_workspace, cuda::conv_implicit_gemm_fwd,
     cuda::conv_implicit_gemm_bwd_data, cuda::conv_implicit_gemm_bwd_filter
#endif
    },
};
static_assert(sizeof(kAlgorithms) / sizeof(kAlgorithms[0]) == DSDK_CONV_ALGO_COUNT,
              "every dsdkConvAlgo_t needs a registry entry");

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

dsdkStatus_t read_scalars(dsdkHandle_t h, const char* api, dsdkDataType_t t, const void* alpha,
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

const ConvAlgorithm* find_algo(dsdkHandle_t h, const char* api, dsdkConvAlgo_t algo) {
  for (const auto& a : kAlgorithms)
    if (a.id == algo) return &a;
  fail(h, DSDK_STATUS_BAD_PARAM, "%s: algo %d is not a registered algorithm", api, int(algo));
  return nullptr;
}

size_t workspace_of(dsdkHandle_t h, const ConvAlgorithm& a, dsdkConvDirection_t dir,
                    const ConvShape& sh, dsdkDataType_t t) {
#ifdef DSDK_WITH_CUDA
  if (h->backend == DSDK_BACKEND_CUDA) return a.cuda_workspace(dir, sh, t);
#endif
  return a.cpu_workspace(dir, sh, t, h->num_threads);
}

dsdkStatus_t check_workspace(dsdkHandle_t h, const char* api, size_t need, const void* ws,
                             size_t bytes) {
  if (need > bytes)
    return fail(h, DSDK_STATUS_BAD_PARAM,
                "%s: workspaceSizeInBytes is %zu but the algorithm needs %zu", api, bytes, need);
  if (need > 0 && !ws) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: workspace is NULL", api);
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t finish(dsdkHandle_t h, const char* api, dsdkStatus_t st, const std::string& msg) {
  if (st == DSDK_STATUS_SUCCESS) return succeed(h);
  return fail(h, st, "%s: %s", api, msg.c_str());
}

// The three directions, after validation; shared by the public calls and Find.
dsdkStatus_t run_fwd(dsdkHandle_t h, const ConvAlgorithm& a, const ConvFwdArgs& args, void* ws,
                     size_t bytes, std::string* msg) {
#ifdef DSDK_WITH_CUDA
  if (h->backend == DSDK_BACKEND_CUDA) return a.cuda_fwd(args, ws, bytes, h->stream, msg);
#endif
  return a.cpu_fwd(args, ws, bytes, h->num_threads, msg);
}
dsdkStatus_t run_bwd_data(dsdkHandle_t h, const ConvAlgorithm& a, const ConvBwdDataArgs& args,
                          void* ws, size_t bytes, std::string* msg) {
#ifdef DSDK_WITH_CUDA
  if (h->backend == DSDK_BACKEND_CUDA) return a.cuda_bwd_data(args, ws, bytes, h->stream, msg);
#endif
  return a.cpu_bwd_data(args, ws, bytes, h->num_threads, msg);
}
dsdkStatus_t run_bwd_filter(dsdkHandle_t h, const ConvAlgorithm& a, const ConvBwdFilterArgs& args,
                            void* ws, size_t bytes, std::string* msg) {
#ifdef DSDK_WITH_CUDA
  if (h->backend == DSDK_BACKEND_CUDA) return a.cuda_bwd_filter(args, ws, bytes, h->stream, msg);
#endif
  return a.cpu_bwd_filter(args, ws, bytes, h->num_threads, msg);
}

#define DSDK_REQUIRE(h, cond, api, what) \
  if (!(cond)) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: %s is NULL", api, what)

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
  for (const auto& a : kAlgorithms)
    if (a.id == algo) return a.name;
  return "unknown";
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
    const ConvAlgorithm* a = find_algo(h, api, algo);
    if (!a) return DSDK_STATUS_BAD_PARAM;
    *bytes = workspace_of(h, *a, dir, sh, x->dtype);
    return succeed(h);
  });
}

dsdkStatus_t dsdkMaskedConvolutionForward(dsdkHandle_t h, const void* alpha,
                                          dsdkTensorDescriptor_t xD, const void* x,
                                          dsdkFilterDescriptor_t wD, const void* w,
                                          const uint8_t* mask, dsdkConvolutionDescriptor_t cv,
                                          dsdkConvAlgo_t algo, void* ws, size_t wsBytes,
                                          const void* beta, dsdkTensorDescriptor_t yD, void* y) {
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  static const char* api = "dsdkMaskedConvolutionForward";
  return guarded(h, api, [&]() -> dsdkStatus_t {
    if (!yD) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: yDesc is NULL", api);
    ConvShape sh;
    dsdkStatus_t st = make_shape(h, api, xD, "xDesc", wD, "wDesc", cv, yD, "yDesc", &sh);
    if (st != DSDK_STATUS_SUCCESS) return st;
    ConvFwdArgs args{sh, xD->dtype, x, strides(xD), w, mask, y, strides(yD), 0.0, 0.0};
    st = read_scalars(h, api, xD->dtype, alpha, beta, &args.alpha, &args.beta);
    if (st != DSDK_STATUS_SUCCESS) return st;
    const ConvAlgorithm* a = find_algo(h, api, algo);
    if (!a) return DSDK_STATUS_BAD_PARAM;
    st = check_workspace(h, api, workspace_of(h, *a, DSDK_CONV_FORWARD, sh, xD->dtype), ws, wsBytes);
    if (st != DSDK_STATUS_SUCCESS) return st;
    if (sh.n == 0) return succeed(h);
    DSDK_REQUIRE(h, x, api, "x");
    DSDK_REQUIRE(h, w, api, "w");
    DSDK_REQUIRE(h, y, api, "y");
    std::string msg;
    return finish(h, api, run_fwd(h, *a, args, ws, wsBytes, &msg), msg);
  });
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
    ConvBwdDataArgs args{sh, dxD->dtype, w, mask, dy, strides(dyD), dx, strides(dxD), 0.0, 0.0};
    st = read_scalars(h, api, dxD->dtype, alpha, beta, &args.alpha, &args.beta);
    if (st != DSDK_STATUS_SUCCESS) return st;
    const ConvAlgorithm* a = find_algo(h, api, algo);
    if (!a) return DSDK_STATUS_BAD_PARAM;
    st = check_workspace(h, api, workspace_of(h, *a, DSDK_CONV_BACKWARD_DATA, sh, dxD->dtype), ws,
                         wsBytes);
    if (st != DSDK_STATUS_SUCCESS) return st;
    if (sh.n == 0) return succeed(h);
    DSDK_REQUIRE(h, w, api, "w");
    DSDK_REQUIRE(h, dy, api, "dy");
    DSDK_REQUIRE(h, dx, api, "dx");
    std::string msg;
    return finish(h, api, run_bwd_data(h, *a, args, ws, wsBytes, &msg), msg);
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
    ConvBwdFilterArgs args{sh, xD->dtype, x, strides(xD), dy, strides(dyD), dw, mask, 0.0, 0.0};
    st = read_scalars(h, api, xD->dtype, alpha, beta, &args.alpha, &args.beta);
    if (st != DSDK_STATUS_SUCCESS) return st;
    const ConvAlgorithm* a = find_algo(h, api, algo);
    if (!a) return DSDK_STATUS_BAD_PARAM;
    st = check_workspace(h, api, workspace_of(h, *a, DSDK_CONV_BACKWARD_FILTER, sh, xD->dtype), ws,
                         wsBytes);
    if (st != DSDK_STATUS_SUCCESS) return st;
    DSDK_REQUIRE(h, dw, api, "dw");
    if (sh.n > 0) {
      DSDK_REQUIRE(h, x, api, "x");
      DSDK_REQUIRE(h, dy, api, "dy");
    }
    // An empty batch still defines dw (= beta * dw), so the kernel runs.
    std::string msg;
    return finish(h, api, run_bwd_filter(h, *a, args, ws, wsBytes, &msg), msg);
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

    std::vector<dsdkConvAlgoPerf_t> all;
    for (const auto& a : kAlgorithms) {
      dsdkConvAlgoPerf_t p{a.id, DSDK_STATUS_SUCCESS, -1.0f, workspace_of(h, a, dir, sh, xD->dtype)};
      if (p.memory > wsBytes || (p.memory > 0 && !ws)) {
        p.status = DSDK_STATUS_ALLOC_FAILED;
        all.push_back(p);
        continue;
      }
      const double one = 1.0;
      ConvFwdArgs fa{sh, xD->dtype, x, strides(xD), w, mask, y, strides(yD), one, 0.0};
      ConvBwdDataArgs da{sh, xD->dtype, w, mask, y, strides(yD), x, strides(xD), one, 0.0};
      ConvBwdFilterArgs fi{sh, xD->dtype, x, strides(xD), y, strides(yD), w, mask, one, 0.0};
      std::string msg;
      auto once = [&]() -> dsdkStatus_t {
        dsdkStatus_t s = dir == DSDK_CONV_FORWARD       ? run_fwd(h, a, fa, ws, wsBytes, &msg)
                         : dir == DSDK_CONV_BACKWARD_DATA ? run_bwd_data(h, a, da, ws, wsBytes, &msg)
                                                          : run_bwd_filter(h, a, fi, ws, wsBytes, &msg);
#ifdef DSDK_WITH_CUDA
        if (s == DSDK_STATUS_SUCCESS && h->backend == DSDK_BACKEND_CUDA)
          s = cuda::synchronize(h->stream, &msg);
#endif
        return s;
      };
      if (sh.n == 0 && dir != DSDK_CONV_BACKWARD_FILTER) {
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

}  // extern "C"
