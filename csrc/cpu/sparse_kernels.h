// The inner kernel of the sparse algorithms (sparse convolutions, sparse GEMM): one
// sparse row times a dense panel, vectorised over the panel's contiguous lanes,
//   acc[l] += sum_e val[e] * base[tab[col[e]] + l]   for l < nv * lanes,
// with the nv accumulator vectors held in registers for the whole row. `tab` turns a
// column index into an element offset into `base` (a (padded) input image, or a
// transposed GEMM operand), so one kernel serves all; a null tab means the offset
// col[e] · nv · lanes (a dense panel of nv-vector rows, the im2col-tile form). Compiled
// once per ISA (sparse_kernels_*.cpp) and chosen at run time like the GEMM
// microkernels.
#pragma once
#include <cstdint>

#include <cstddef>

namespace dsdk {
namespace cpu {

// Vectors per register tile (the accumulators of one call): 16 of AVX-512's 32
// registers, so that the per-entry loads (column, offset, value) are spread over
// more multiply-adds; 1.1-1.2x faster than 8 on the conv and linear layers.
constexpr int kSparseMaxVectors = 16;

template <typename T, typename I>
using SparseRowFn = void (*)(const T* base, const int32_t* tab, const T* val, const I* col,
                             int64_t nnz, int nv, T* acc);

// The same with the start of each entry's run given: acc[l] += sum_e val[e] * base[off[e] + l]
// (the direct convolution's entries, their tap offsets looked up once per filter).
template <typename T>
using SparseRowOffsetFn = void (*)(const T* base, const int32_t* off, const T* val, int64_t nnz,
                                   int nv, T* acc);

// The sparse GEMV's inner kernel: sum_e val[e] * x[col[e]] over one CSR row, x dense
// (a gather; x stays in L1). Reads val and col a few KB ahead of use, so that a matrix
// evicted from the caches streams from DRAM while the row computes.
template <typename T, typename I>
using SparseDotFn = T (*)(const T* x, const T* val, const I* col, int64_t nnz);

template <typename T>
struct SparseKernels {
  const char* isa;
  int lanes;  // elements per vector
  SparseRowFn<T, uint16_t> row16;
  SparseRowFn<T, uint32_t> row32;
  SparseRowOffsetFn<T> row_offsets;
  SparseDotFn<T, uint16_t> dot16;
  SparseDotFn<T, uint32_t> dot32;
};

// The row and dot kernels for column indices of type I.
template <typename T>
SparseRowFn<T, uint16_t> row_fn(const SparseKernels<T>& k, uint16_t) {
  return k.row16;
}
template <typename T>
SparseRowFn<T, uint32_t> row_fn(const SparseKernels<T>& k, uint32_t) {
  return k.row32;
}
template <typename T>
SparseDotFn<T, uint16_t> dot_fn(const SparseKernels<T>& k, uint16_t) {
  return k.dot16;
}
template <typename T>
SparseDotFn<T, uint32_t> dot_fn(const SparseKernels<T>& k, uint32_t) {
  return k.dot32;
}

// The kernels of the ISA in use (see force_isa).
template <typename T>
const SparseKernels<T>& sparse_kernels();

template <typename T>
const SparseKernels<T>* avx512_sparse_kernels();
template <typename T>
const SparseKernels<T>* avx2_sparse_kernels();
template <typename T>
const SparseKernels<T>* generic_sparse_kernels();

}  // namespace cpu
}  // namespace dsdk
