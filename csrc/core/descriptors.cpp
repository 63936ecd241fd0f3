// Create / set / get / destroy for tensor, filter, convolution and pooling descriptors.
// Setters validate their own arguments; cross-descriptor checks live in conv.cpp and pool.cpp.
#include <new>

#include "core/descriptors.h"

namespace {

bool valid_dtype(dsdkDataType_t t) {
  return t == DSDK_DATA_FLOAT || t == DSDK_DATA_DOUBLE || t == DSDK_DATA_HALF ||
         t == DSDK_DATA_BFLOAT16;
}

template <class T>
dsdkStatus_t create(T** out) {
  if (!out) return DSDK_STATUS_BAD_PARAM;
  *out = new (std::nothrow) T;
  return *out ? DSDK_STATUS_SUCCESS : DSDK_STATUS_ALLOC_FAILED;
}

template <class T>
dsdkStatus_t destroy(T* d) {
  if (!d) return DSDK_STATUS_BAD_PARAM;
  delete d;
  return DSDK_STATUS_SUCCESS;
}

}  // namespace

extern "C" {

dsdkStatus_t dsdkCreateTensorDescriptor(dsdkTensorDescriptor_t* d) { return create(d); }
dsdkStatus_t dsdkDestroyTensorDescriptor(dsdkTensorDescriptor_t d) { return destroy(d); }
dsdkStatus_t dsdkCreateFilterDescriptor(dsdkFilterDescriptor_t* d) { return create(d); }
dsdkStatus_t dsdkDestroyFilterDescriptor(dsdkFilterDescriptor_t d) { return destroy(d); }
dsdkStatus_t dsdkCreateConvolutionDescriptor(dsdkConvolutionDescriptor_t* d) { return create(d); }
dsdkStatus_t dsdkDestroyConvolutionDescriptor(dsdkConvolutionDescriptor_t d) { return destroy(d); }
dsdkStatus_t dsdkCreatePoolingDescriptor(dsdkPoolingDescriptor_t* d) { return create(d); }
dsdkStatus_t dsdkDestroyPoolingDescriptor(dsdkPoolingDescriptor_t d) { return destroy(d); }

dsdkStatus_t dsdkSetTensor4dDescriptorEx(dsdkTensorDescriptor_t d, dsdkDataType_t dtype, int n,
                                         int c, int h, int w, int64_t ns, int64_t cs, int64_t hs,
                                         int64_t ws) {
  if (!d || !valid_dtype(dtype) || n < 0 || c < 1 || h < 1 || w < 1 || ns < 0 || cs < 0 ||
      hs < 0 || ws < 0)
    return DSDK_STATUS_BAD_PARAM;
  *d = dsdkTensorStruct{true, dtype, n, c, h, w, ns, cs, hs, ws};
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkSetTensor4dDescriptor(dsdkTensorDescriptor_t d, dsdkDataType_t dtype, int n,
                                       int c, int h, int w) {
  return dsdkSetTensor4dDescriptorEx(d, dtype, n, c, h, w, int64_t(c) * h * w, int64_t(h) * w,
                                     w, 1);
}

dsdkStatus_t dsdkGetTensor4dDescriptor(dsdkTensorDescriptor_t d, dsdkDataType_t* dtype, int* n,
                                       int* c, int* h, int* w, int64_t* ns, int64_t* cs,
                                       int64_t* hs, int64_t* ws) {
  if (!d || !d->set || !dtype || !n || !c || !h || !w || !ns || !cs || !hs || !ws)
    return DSDK_STATUS_BAD_PARAM;
  *dtype = d->dtype;
  *n = d->n; *c = d->c; *h = d->h; *w = d->w;
  *ns = d->ns; *cs = d->cs; *hs = d->hs; *ws = d->ws;
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkSetFilter4dDescriptor(dsdkFilterDescriptor_t d, dsdkDataType_t dtype, int k,
                                       int c, int r, int s) {
  if (!d || !valid_dtype(dtype) || k < 1 || c < 1 || r < 1 || s < 1) return DSDK_STATUS_BAD_PARAM;
  *d = dsdkFilterStruct{true, dtype, k, c, r, s};
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkGetFilter4dDescriptor(dsdkFilterDescriptor_t d, dsdkDataType_t* dtype, int* k,
                                       int* c, int* r, int* s) {
  if (!d || !d->set || !dtype || !k || !c || !r || !s) return DSDK_STATUS_BAD_PARAM;
  *dtype = d->dtype;
  *k = d->k; *c = d->c; *r = d->r; *s = d->s;
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkSetConvolution2dDescriptor(dsdkConvolutionDescriptor_t d, int padH, int padW,
                                            int strideH, int strideW, int dilH, int dilW,
                                            int groups) {
  if (!d || padH < 0 || padW < 0 || strideH < 1 || strideW < 1 || dilH < 1 || dilW < 1 ||
      groups < 1)
    return DSDK_STATUS_BAD_PARAM;
  *d = dsdkConvolutionStruct{true, padH, padW, strideH, strideW, dilH, dilW, groups};
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkGetConvolution2dDescriptor(dsdkConvolutionDescriptor_t d, int* padH, int* padW,
                                            int* strideH, int* strideW, int* dilH, int* dilW,
                                            int* groups) {
  if (!d || !d->set || !padH || !padW || !strideH || !strideW || !dilH || !dilW || !groups)
    return DSDK_STATUS_BAD_PARAM;
  *padH = d->pad_h; *padW = d->pad_w; *strideH = d->stride_h; *strideW = d->stride_w;
  *dilH = d->dil_h; *dilW = d->dil_w; *groups = d->groups;
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkSetPooling2dDescriptor(dsdkPoolingDescriptor_t d, int winH, int winW, int padH,
                                        int padW, int strideH, int strideW, int dilH, int dilW,
                                        int ceilMode) {
  if (!d || winH < 1 || winW < 1 || padH < 0 || padW < 0 || strideH < 1 || strideW < 1 ||
      dilH < 1 || dilW < 1 || (ceilMode != 0 && ceilMode != 1))
    return DSDK_STATUS_BAD_PARAM;
  *d = dsdkPoolingStruct{true, winH, winW, padH, padW, strideH, strideW, dilH, dilW,
                         ceilMode == 1};
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkGetPooling2dDescriptor(dsdkPoolingDescriptor_t d, int* winH, int* winW,
                                        int* padH, int* padW, int* strideH, int* strideW,
                                        int* dilH, int* dilW, int* ceilMode) {
  if (!d || !d->set || !winH || !winW || !padH || !padW || !strideH || !strideW || !dilH ||
      !dilW || !ceilMode)
    return DSDK_STATUS_BAD_PARAM;
  *winH = d->win_h; *winW = d->win_w; *padH = d->pad_h; *padW = d->pad_w;
  *strideH = d->stride_h; *strideW = d->stride_w; *dilH = d->dil_h; *dilW = d->dil_w;
  *ceilMode = d->ceil_mode;
  return DSDK_STATUS_SUCCESS;
}

}  // extern "C"
