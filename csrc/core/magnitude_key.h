// |w| as an unsigned integer that orders exactly like |w|: the value's bits with the
// sign bit cleared (IEEE formats order non-negative values like their bit patterns).
// -0.0 and +0.0 get the same key, infinity the largest finite-or-not key, and a NaN a
// key above infinity's, so one integer compare both ranks and spots NaNs. Shared by the
// CPU and CUDA mask kernels so that both rank the same way.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/hd.h"
#include "dsdkern/dsdkern.h"

namespace dsdk {

// Key type and infinity's key per storage format; kBits = key bits in use.
template <dsdkDataType_t D> struct MagnitudeKey;
template <> struct MagnitudeKey<DSDK_DATA_FLOAT> {
  using Key = uint32_t;
  static constexpr Key kInf = 0x7f800000u;
  static constexpr int kBits = 31;
};
template <> struct MagnitudeKey<DSDK_DATA_DOUBLE> {
  using Key = uint64_t;
  static constexpr Key kInf = 0x7ff0000000000000ull;
  static constexpr int kBits = 63;
};
template <> struct MagnitudeKey<DSDK_DATA_HALF> {
  using Key = uint16_t;
  static constexpr Key kInf = 0x7c00u;
  static constexpr int kBits = 15;
};
template <> struct MagnitudeKey<DSDK_DATA_BFLOAT16> {
  using Key = uint16_t;
  static constexpr Key kInf = 0x7f80u;
  static constexpr int kBits = 15;
};

// The key of a value given its raw bits.
template <dsdkDataType_t D>
DSDK_HD typename MagnitudeKey<D>::Key magnitude_key(typename MagnitudeKey<D>::Key bits) {
  using Key = typename MagnitudeKey<D>::Key;
  return Key(bits & Key(~Key(0) >> 1));
}

template <dsdkDataType_t D>
DSDK_HD bool key_is_nan(typename MagnitudeKey<D>::Key key) {
  return key > MagnitudeKey<D>::kInf;
}

// The value (>= 0, possibly infinite) whose key this is; host only, for the
// threshold search below.
template <dsdkDataType_t D>
double key_value(typename MagnitudeKey<D>::Key key) {
  if constexpr (D == DSDK_DATA_FLOAT) {
    float f;
    std::memcpy(&f, &key, sizeof f);
    return f;
  } else if constexpr (D == DSDK_DATA_DOUBLE) {
    double d;
    std::memcpy(&d, &key, sizeof d);
    return d;
  } else if constexpr (D == DSDK_DATA_BFLOAT16) {
    const uint32_t bits = uint32_t(key) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  } else {
    const int exponent = key >> 10, mantissa = key & 0x3ff;
    if (exponent == 31) return INFINITY;
    if (exponent == 0) return std::ldexp(double(mantissa), -24);
    return std::ldexp(double(1024 + mantissa), exponent - 25);
  }
}

// The smallest key whose value is >= threshold (threshold >= 0, not NaN), so that
// |w| >= threshold <=> key(w) >= threshold_key(threshold) in every format.
template <dsdkDataType_t D>
typename MagnitudeKey<D>::Key threshold_key(double threshold) {
  using Key = typename MagnitudeKey<D>::Key;
  Key lo = 0, hi = MagnitudeKey<D>::kInf;  // key_value(hi) = inf >= threshold
  while (lo < hi) {
    const Key mid = Key(lo + (hi - lo) / 2);
    if (key_value<D>(mid) >= threshold) hi = mid;
    else lo = Key(mid + 1);
  }
  return lo;
}

}  // namespace dsdk
