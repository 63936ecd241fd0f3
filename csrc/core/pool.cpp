// Max pooling: output shape, the checks that name the bad argument, dispatch to the CPU
// kernel.
#include "core/context.h"
#include "core/descriptors.h"
#include "core/pool_backends.h"

namespace dsdk {
namespace {

// torch's pooling_output_shape: floor division, rounded up under ceil_mode unless the
// last window would start in the trailing padding.
int64_t output_extent(int64_t in, int64_t win, int64_t pad, int64_t stride, int64_t dil,
                      bool ceil_mode) {
  const int64_t span = in + 2 * pad - dil * (win - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  int64_t out = (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

// The plane geometry of pooling x with p, or the failure naming what is wrong.
dsdkStatus_t plane_shape(dsdkHandle_t h, const char* api, dsdkPoolingDescriptor_t p,
                         dsdkTensorDescriptor_t x, PoolShape* s) {
  if (!p || !p->set) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: poolDesc is NULL or not set", api);
  if (!x || !x->set) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: xDesc is NULL or not set", api);
  if (p->pad_h > p->win_h / 2 || p->pad_w > p->win_w / 2)
    return fail(h, DSDK_STATUS_BAD_PARAM,
                "%s: padding (%d, %d) must be at most half of the window (%d, %d)", api,
                p->pad_h, p->pad_w, p->win_h, p->win_w);
  *s = PoolShape{x->h, x->w, 0, 0, p->win_h, p->win_w, p->pad_h, p->pad_w,
                 p->stride_h, p->stride_w, p->dil_h, p->dil_w};
  s->out_h = output_extent(s->h, s->win_h, s->pad_h, s->stride_h, s->dil_h, p->ceil_mode);
  s->out_w = output_extent(s->w, s->win_w, s->pad_w, s->stride_w, s->dil_w, p->ceil_mode);
  if (s->out_h < 1 || s->out_w < 1)
    return fail(h, DSDK_STATUS_BAD_PARAM,
                "%s: the output of xDesc's %d x %d plane would be empty (%lld x %lld)", api,
                x->h, x->w, (long long)s->out_h, (long long)s->out_w);
  return DSDK_STATUS_SUCCESS;
}

}  // namespace
}  // namespace dsdk

using namespace dsdk;

extern "C" {

dsdkStatus_t dsdkGetPooling2dForwardOutputDim(dsdkHandle_t h, dsdkPoolingDescriptor_t poolDesc,
                                              dsdkTensorDescriptor_t xDesc, int* n, int* c,
                                              int* oh, int* ow) {
  const char* api = "dsdkGetPooling2dForwardOutputDim";
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  return guarded(h, api, [&]() -> dsdkStatus_t {
    if (!n || !c || !oh || !ow)
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: an output pointer (n, c, h, w) is NULL", api);
    PoolShape s;
    const dsdkStatus_t st = plane_shape(h, api, poolDesc, xDesc, &s);
    if (st != DSDK_STATUS_SUCCESS) return st;
    *n = xDesc->n;
    *c = xDesc->c;
    *oh = int(s.out_h);
    *ow = int(s.out_w);
    return succeed(h);
  });
}

dsdkStatus_t dsdkMaxPoolingForward(dsdkHandle_t h, dsdkPoolingDescriptor_t poolDesc,
                                   dsdkTensorDescriptor_t xDesc, const void* x,
                                   dsdkTensorDescriptor_t yDesc, void* y) {
  const char* api = "dsdkMaxPoolingForward";
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  return guarded(h, api, [&]() -> dsdkStatus_t {
    if (h->backend != DSDK_BACKEND_CPU)
      return fail(h, DSDK_STATUS_NOT_SUPPORTED,
                  "%s: max pooling has no CUDA kernel (use cuDNN's pooling)", api);
    PoolShape s;
    dsdkStatus_t st = plane_shape(h, api, poolDesc, xDesc, &s);
    if (st != DSDK_STATUS_SUCCESS) return st;
    if (!yDesc || !yDesc->set)
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: yDesc is NULL or not set", api);
    if (xDesc->dtype != DSDK_DATA_FLOAT && xDesc->dtype != DSDK_DATA_DOUBLE)
      return fail(h, DSDK_STATUS_NOT_SUPPORTED, "%s: xDesc dtype %s is not supported on CPU",
                  api, dtype_name(xDesc->dtype));
    if (yDesc->dtype != xDesc->dtype)
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: yDesc dtype %s must equal xDesc dtype %s",
                  api, dtype_name(yDesc->dtype), dtype_name(xDesc->dtype));
    if (yDesc->n != xDesc->n || yDesc->c != xDesc->c || yDesc->h != s.out_h ||
        yDesc->w != s.out_w)
      return fail(h, DSDK_STATUS_BAD_PARAM,
                  "%s: yDesc is %d x %d x %d x %d but the output is %d x %d x %lld x %lld", api,
                  yDesc->n, yDesc->c, yDesc->h, yDesc->w, xDesc->n, xDesc->c,
                  (long long)s.out_h, (long long)s.out_w);
    if (xDesc->n > 0 && !x) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: x is NULL", api);
    if (xDesc->n > 0 && !y) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: y is NULL", api);
    const MaxPoolArgs a{xDesc->dtype, xDesc->n, xDesc->c, s,
                        x, xDesc->ns, xDesc->cs, xDesc->hs, xDesc->ws,
                        y, yDesc->ns, yDesc->cs, yDesc->hs, yDesc->ws};
    return kernel_result(h, api, cpu::max_pool_forward(a, h->num_threads), "");
  });
}

}  // extern "C"
