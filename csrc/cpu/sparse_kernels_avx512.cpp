// AVX-512 build of the sparse row kernel (16 floats / 8 doubles a vector).
// Compiled for the ISA by pragma (headers first, so that no inline function of theirs
// becomes ISA code); only reached after the CPUID check of sparse_kernels_generic.cpp.
#include <cstdint>
#include <cstring>

#include "cpu/sparse_kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "cpu/sparse_row_body.h"

namespace dsdk {
namespace cpu {
template <typename T>
const SparseKernels<T>* avx512_sparse_kernels() {
  static const SparseKernels<T> k = SparseRow<T, 64>::table("avx512");
  return &k;
}
}  // namespace cpu
}  // namespace dsdk
#pragma GCC pop_options

#else

namespace dsdk {
namespace cpu {
template <typename T>
const SparseKernels<T>* avx512_sparse_kernels() {
  return nullptr;
}
}  // namespace cpu
}  // namespace dsdk

#endif

namespace dsdk {
namespace cpu {
template const SparseKernels<float>* avx512_sparse_kernels<float>();
template const SparseKernels<double>* avx512_sparse_kernels<double>();
}  // namespace cpu
}  // namespace dsdk
