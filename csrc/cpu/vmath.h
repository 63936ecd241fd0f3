// Elementwise exp and tanh over arrays, vectorised (the SVM kernel rows spend
// most of their non-GEMM time here; std::exp per element is several times slower).
// Accuracy: a few ulp for float, about 1e-15 relative for double, over the
// whole range (results underflow to a tiny normal number below about -87 for
// float and -708 for double, and saturate above 88 / 709).
#pragma once
#include <cstdint>

namespace dsdk {
namespace cpu {

// x[i] = exp(x[i]) for i < n.
void vexp(float* x, int64_t n);
void vexp(double* x, int64_t n);
// x[i] = tanh(x[i]) for i < n.
void vtanh(float* x, int64_t n);
void vtanh(double* x, int64_t n);

}  // namespace cpu
}  // namespace dsdk
