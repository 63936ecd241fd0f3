// W ⊙ M in compressed sparse rows: the packed operand of the sparse algorithms
// (direct sparse convolution, sparse GEMM). Row i keeps the kept entries
// [row_ptr[i], row_ptr[i + 1]) of val and col, in column order. Column indices are
// 16-bit when every column fits (cols <= 65536), halving their memory traffic.
#pragma once
#include <cstddef>
#include <cstdint>

#include "dsdkern/dsdkern.h"

namespace dsdk {

// The sparse algorithms' buffers (CSR parts, workspace parts) start on 64-byte lines.
constexpr size_t kLine = 64;
inline size_t line_up(size_t bytes) { return (bytes + kLine - 1) / kLine * kLine; }
inline char* line_up(void* p) {
  return reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(p) + kLine - 1) / kLine * kLine);
}

// Column indices fit 16 bits up to 65536 columns.
inline bool csr_col16(int64_t cols) { return cols <= 65536; }

struct CsrView {
  dsdkDataType_t dtype;
  int64_t rows, cols, nnz;
  const int64_t* row_ptr;
  const void* val;  // nnz values of dtype
  const void* col;  // nnz uint16 (col16()) or uint32 column indices
  bool col16() const { return csr_col16(cols); }
};

// Bytes of a rows x cols CSR with room for nnz_cap entries.
size_t csr_bytes(dsdkDataType_t t, int64_t rows, int64_t cols, int64_t nnz_cap);

namespace cpu {
// Entries of a rows x cols mask that are kept (all of them when mask is null).
int64_t csr_count(const uint8_t* mask, int64_t rows, int64_t cols, int num_threads);
// Packs w ⊙ mask (rows x cols row-major host arrays of dtype t; mask optional: all kept)
// into mem, which holds csr_bytes(t, rows, cols, cap) bytes with cap >= the kept count.
CsrView csr_pack(dsdkDataType_t t, int64_t rows, int64_t cols, const void* w,
                 const uint8_t* mask, int64_t cap, void* mem, int num_threads);
}  // namespace cpu

}  // namespace dsdk
