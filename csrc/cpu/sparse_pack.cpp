// Packing W ⊙ M into CSR (core/sparse_csr.h): count per row, prefix sum, fill; rows
// are independent, so both passes run over OpenMP threads.

#include "core/context.h"
#include "core/sparse_csr.h"
#include "cpu/threads.h"

namespace dsdk {
namespace {

size_t col_bytes(int64_t cols) { return csr_col16(cols) ? 2 : 4; }

template <typename T, typename I>
void fill_rows(int64_t rows, int64_t cols, const T* w, const uint8_t* mask,
               const int64_t* row_ptr, T* val, I* col, int nt) {
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t i = 0; i < rows; ++i) {
    int64_t e = row_ptr[i];
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t at = i * cols + j;
      if (mask && !mask[at]) continue;
      val[e] = w[at];
      col[e++] = I(j);
    }
  }
}

}  // namespace

size_t csr_bytes(dsdkDataType_t t, int64_t rows, int64_t cols, int64_t nnz_cap) {
  return line_up(size_t(rows + 1) * sizeof(int64_t)) + line_up(size_t(nnz_cap) * dtype_size(t)) +
         line_up(size_t(nnz_cap) * col_bytes(cols));
}

namespace cpu {

int64_t csr_count(const uint8_t* mask, int64_t rows, int64_t cols, int num_threads) {
  if (!mask) return rows * cols;
  int64_t n = 0;
  const int nt = threads_for(rows * cols, num_threads);
#pragma omp parallel for num_threads(nt) reduction(+ : n) schedule(static)
  for (int64_t i = 0; i < rows * cols; ++i) n += mask[i] != 0;
  return n;
}

CsrView csr_pack(dsdkDataType_t t, int64_t rows, int64_t cols, const void* w,
                 const uint8_t* mask, int64_t cap, void* mem, int num_threads) {
  char* p = static_cast<char*>(mem);
  int64_t* row_ptr = reinterpret_cast<int64_t*>(p);
  void* val = p + line_up(size_t(rows + 1) * sizeof(int64_t));
  void* col = static_cast<char*>(val) + line_up(size_t(cap) * dtype_size(t));
  const int nt = threads_for(rows * cols, num_threads);
  row_ptr[0] = 0;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t i = 0; i < rows; ++i) {
    int64_t n = cols;
    if (mask) {
      n = 0;
      for (int64_t j = 0; j < cols; ++j) n += mask[i * cols + j] != 0;
    }
    row_ptr[i + 1] = n;
  }
  for (int64_t i = 0; i < rows; ++i) row_ptr[i + 1] += row_ptr[i];
  auto fill = [&](auto z) {
    using T = decltype(z);
    if (csr_col16(cols))
      fill_rows(rows, cols, static_cast<const T*>(w), mask, row_ptr, static_cast<T*>(val),
                static_cast<uint16_t*>(col), nt);
    else
      fill_rows(rows, cols, static_cast<const T*>(w), mask, row_ptr, static_cast<T*>(val),
                static_cast<uint32_t*>(col), nt);
  };
  if (t == DSDK_DATA_DOUBLE) fill(double());
  else fill(float());
  return CsrView{t, rows, cols, row_ptr[rows], row_ptr, val, col};
}

}  // namespace cpu
}  // namespace dsdk
