// Backend-independent half of the magnitude_mask / threshold_mask ops: argument checks
// and the body that calls dsdkMagnitudeMask. ops_cpu.cpp and ops_cuda.cpp add the
// backend's dtypes and its handle (threads or stream).
#pragma once
#include <ATen/ATen.h>

#include <initializer_list>

#include "dsdkern/dsdkern.h"

namespace dsdk_torch {

// One mask request: TOPK keeps `keep` entries of weight, THRESHOLD keeps |w| >= threshold.
struct MaskRequest {
  dsdkMaskMode_t mode;
  int64_t keep = 0;
  double threshold = 0.0;
};

// Checks weight's dtype against the backend's `dtypes` and the request's keep (in
// [0, weight.numel()]) or threshold (>= 0); messages start with `op` and name the argument.
void check_mask_args(const char* op, const at::Tensor& weight, const MaskRequest& r,
                     const char* backend, std::initializer_list<at::ScalarType> dtypes);

// The bool mask (contiguous, weight's shape; flat indices in row-major order) through
// dsdkMagnitudeMask on `handle`. Arguments must have passed check_mask_args.
at::Tensor magnitude_mask(dsdkHandle_t handle, const char* op, const at::Tensor& weight,
                          const MaskRequest& r);

}  // namespace dsdk_torch
