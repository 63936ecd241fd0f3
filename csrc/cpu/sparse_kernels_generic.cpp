// Portable build of the sparse row kernel (16-byte vectors, which every x86-64 and
// AArch64 CPU has) and the run-time choice among the ISAs, which follows the GEMM
// microkernels' (gemm_kernels.h: active_isa, force_isa).
#include <cstdint>
#include <cstring>

#include "cpu/gemm_kernels.h"
#include "cpu/sparse_kernels.h"
#include "cpu/sparse_row_body.h"

namespace dsdk {
namespace cpu {

template <typename T>
const SparseKernels<T>* generic_sparse_kernels() {
  static const SparseKernels<T> k = SparseRow<T, 16>::table("generic");
  return &k;
}

template <typename T>
const SparseKernels<T>& sparse_kernels() {
  const Isa use = active_isa();
  if (use == Isa::kAvx512 && avx512_sparse_kernels<T>()) return *avx512_sparse_kernels<T>();
  if (use >= Isa::kAvx2 && avx2_sparse_kernels<T>()) return *avx2_sparse_kernels<T>();
  return *generic_sparse_kernels<T>();
}

template const SparseKernels<float>* generic_sparse_kernels<float>();
template const SparseKernels<double>* generic_sparse_kernels<double>();
template const SparseKernels<float>& sparse_kernels<float>();
template const SparseKernels<double>& sparse_kernels<double>();

}  // namespace cpu
}  // namespace dsdk
