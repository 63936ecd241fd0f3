// Descriptor contents. The C API hands out pointers to these.
#pragma once
#include <cstdint>

#include "dsdkern/dsdkern.h"

struct dsdkTensorStruct {
  bool set = false;
  dsdkDataType_t dtype = DSDK_DATA_FLOAT;
  int n = 0, c = 0, h = 0, w = 0;
  int64_t ns = 0, cs = 0, hs = 0, ws = 0;
};

struct dsdkFilterStruct {
  bool set = false;
  dsdkDataType_t dtype = DSDK_DATA_FLOAT;
  int k = 0, c = 0, r = 0, s = 0;
};

struct dsdkConvolutionStruct {
  bool set = false;
  int pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1, groups = 1;
};

struct dsdkPoolingStruct {
  bool set = false;
  int win_h = 1, win_w = 1, pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dil_h = 1,
      dil_w = 1;
  bool ceil_mode = false;
};
