// CSR packing of W ⊙ M on the device: one warp per row counts its kept entries, one
// block scans the counts into row_ptr, and one warp per row fills the row in column
// order (a ballot over 32 columns at a time gives each kept entry its slot). The values
// are copied bit for bit, so one kernel serves every data type of a size.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>

#include "core/context.h"
#include "core/sparse_backends.h"
#include "cuda/cuda_check.cuh"
#include "cuda/sparse_pack.cuh"

namespace dsdk {
namespace cuda {
namespace {

constexpr int kWarp = 32, kRowThreads = 256, kScanThreads = 256;
constexpr int64_t kMaxRowBlocks = 65535;

cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

__device__ __forceinline__ bool kept(const uint8_t* mask, int64_t at) {
  return !mask || mask[at] != 0;
}

// row_ptr[i + 1] = kept entries of row i.
__global__ void csr_count_kernel(int64_t rows, int64_t cols, const uint8_t* __restrict__ mask,
                                 int64_t* row_ptr) {
  const int lane = threadIdx.x % kWarp;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / kWarp);
  for (int64_t i = int64_t(blockIdx.x) * (blockDim.x / kWarp) + threadIdx.x / kWarp; i < rows;
       i += warps) {
    int n = 0;  // cols < 2^31 (csr_create and the convolutions' fits check)
    for (int64_t j = lane; j < cols; j += kWarp) n += kept(mask, i * cols + j);
#pragma unroll
    for (int d = kWarp / 2; d > 0; d /= 2) n += __shfl_xor_sync(0xffffffffu, n, d);
    if (lane == 0) row_ptr[i + 1] = n;
  }
}

// Inclusive scan of row_ptr[1..rows] in place, row_ptr[0] = 0; one block, each thread
// owning a contiguous run of rows.
__global__ void csr_scan_kernel(int64_t rows, int64_t* row_ptr) {
  __shared__ int64_t part[kScanThreads];
  const int64_t per = (rows + kScanThreads - 1) / kScanThreads;
  const int64_t lo0 = int64_t(threadIdx.x) * per;
  const int64_t lo = lo0 < rows ? lo0 : rows, hi = lo + per < rows ? lo + per : rows;
  int64_t sum = 0;
  for (int64_t i = lo; i < hi; ++i) sum += row_ptr[i + 1];
  part[threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.x == 0) {
    int64_t run = 0;
    for (int t = 0; t < kScanThreads; ++t) {
      const int64_t v = part[t];
      part[t] = run;
      run += v;
    }
    row_ptr[0] = 0;
  }
  __syncthreads();
  int64_t run = part[threadIdx.x];
  for (int64_t i = lo; i < hi; ++i) {
    run += row_ptr[i + 1];
    row_ptr[i + 1] = run;
  }
}

// Element bits of the values (E: 2, 4 or 8 bytes) and the column index type I.
template <class E, class I>
__global__ void csr_fill_kernel(int64_t rows, int64_t cols, const E* __restrict__ w,
                                const uint8_t* __restrict__ mask,
                                const int64_t* __restrict__ row_ptr, E* val, I* col) {
  const int lane = threadIdx.x % kWarp;
  const unsigned below = (1u << lane) - 1u;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / kWarp);
  for (int64_t i = int64_t(blockIdx.x) * (blockDim.x / kWarp) + threadIdx.x / kWarp; i < rows;
       i += warps) {
    int64_t at = row_ptr[i];
    for (int64_t j0 = 0; j0 < cols; j0 += kWarp) {
      const int64_t j = j0 + lane;
      const bool keep = j < cols && kept(mask, i * cols + j);
      const unsigned ballot = __ballot_sync(0xffffffffu, keep);
      if (keep) {
        const int64_t e = at + __popc(ballot & below);
        val[e] = w[i * cols + j];
        col[e] = I(j);
      }
      at += __popc(ballot);
    }
  }
}

unsigned row_blocks(int64_t rows) {
  return unsigned(std::min<int64_t>((rows + kRowThreads / kWarp - 1) / (kRowThreads / kWarp),
                                    kMaxRowBlocks));
}

// The view over `mem` (csr_bytes(t, rows, cols, cap) bytes): row_ptr, values, columns.
CsrView csr_layout(dsdkDataType_t t, int64_t rows, int64_t cols, int64_t cap, void* mem) {
  char* p = static_cast<char*>(mem);
  const char* val = p + line_up(size_t(rows + 1) * sizeof(int64_t));
  const char* col = val + line_up(size_t(cap) * dtype_size(t));
  return CsrView{t, rows, cols, cap, reinterpret_cast<int64_t*>(p), val, col};
}

dsdkStatus_t count_rows(int64_t rows, int64_t cols, const uint8_t* mask, int64_t* row_ptr,
                        cudaStream_t s, std::string* msg) {
  csr_count_kernel<<<row_blocks(rows), kRowThreads, 0, s>>>(rows, cols, mask, row_ptr);
  dsdkStatus_t st = launch_status("csr_count_kernel", msg);
  if (st != DSDK_STATUS_SUCCESS) return st;
  csr_scan_kernel<<<1, kScanThreads, 0, s>>>(rows, row_ptr);
  return launch_status("csr_scan_kernel", msg);
}

template <class E>
dsdkStatus_t fill_as(const CsrView& v, const void* w, const uint8_t* mask, cudaStream_t s,
                     std::string* msg) {
  const E* src = static_cast<const E*>(w);
  E* val = static_cast<E*>(const_cast<void*>(v.val));
  return col_switch(v, [&](auto idx) {
    using I = decltype(idx);
    csr_fill_kernel<E, I><<<row_blocks(v.rows), kRowThreads, 0, s>>>(
        v.rows, v.cols, src, mask, v.row_ptr, val, static_cast<I*>(const_cast<void*>(v.col)));
    return launch_status("csr_fill_kernel", msg);
  });
}

dsdkStatus_t fill(const CsrView& v, const void* w, const uint8_t* mask, cudaStream_t s,
                  std::string* msg) {
  switch (dtype_size(v.dtype)) {
    case 2: return fill_as<uint16_t>(v, w, mask, s, msg);
    case 4: return fill_as<uint32_t>(v, w, mask, s, msg);
    default: return fill_as<uint64_t>(v, w, mask, s, msg);
  }
}

// Packs w ⊙ mask (rows x cols, device) into `mem` (csr_bytes(t, rows, cols, rows * cols)
// bytes), asynchronously; the view's nnz is that capacity, the kept count stays on the
// device in row_ptr[rows].
dsdkStatus_t csr_pack_async(dsdkDataType_t t, int64_t rows, int64_t cols, const void* w,
                            const uint8_t* mask, void* mem, void* stream, CsrView* out,
                            std::string* msg) {
  const CsrView v = csr_layout(t, rows, cols, rows * cols, mem);
  const cudaStream_t s = as_stream(stream);
  dsdkStatus_t st = count_rows(rows, cols, mask, const_cast<int64_t*>(v.row_ptr), s, msg);
  if (st == DSDK_STATUS_SUCCESS) st = fill(v, w, mask, s, msg);
  if (st == DSDK_STATUS_SUCCESS) *out = v;
  return st;
}

}  // namespace

dsdkStatus_t csr_create(dsdkDataType_t t, int64_t rows, int64_t cols, const void* w,
                        const uint8_t* mask, void* stream, CsrView* out, void** mem,
                        size_t* bytes, std::string* msg) {
  if (cols > INT32_MAX)
    return fail(msg, DSDK_STATUS_NOT_SUPPORTED, "a row of %lld entries exceeds 2^31 - 1",
                static_cast<long long>(cols));
  const cudaStream_t s = as_stream(stream);
  // The counts go to a scratch row_ptr first: the kept count sizes the allocation.
  int64_t* scratch = nullptr;
  dsdkStatus_t st = cuda_status(cudaMalloc(&scratch, size_t(rows + 1) * sizeof(int64_t)),
                                "cudaMalloc", DSDK_STATUS_ALLOC_FAILED, msg);
  if (st != DSDK_STATUS_SUCCESS) return st;
  int64_t nnz = 0;
  void* p = nullptr;
  st = count_rows(rows, cols, mask, scratch, s, msg);
  if (st == DSDK_STATUS_SUCCESS)
    st = cuda_status(cudaMemcpyAsync(&nnz, scratch + rows, sizeof nnz, cudaMemcpyDeviceToHost, s),
                     "cudaMemcpyAsync", DSDK_STATUS_EXECUTION_FAILED, msg);
  if (st == DSDK_STATUS_SUCCESS)
    st = cuda_status(cudaStreamSynchronize(s), "cudaStreamSynchronize",
                     DSDK_STATUS_EXECUTION_FAILED, msg);
  const size_t need = csr_bytes(t, rows, cols, nnz);
  if (st == DSDK_STATUS_SUCCESS)
    st = cuda_status(cudaMalloc(&p, need), "cudaMalloc", DSDK_STATUS_ALLOC_FAILED, msg);
  CsrView v{};
  if (st == DSDK_STATUS_SUCCESS) {
    v = csr_layout(t, rows, cols, nnz, p);
    st = cuda_status(cudaMemcpyAsync(const_cast<int64_t*>(v.row_ptr), scratch,
                                     size_t(rows + 1) * sizeof(int64_t),
                                     cudaMemcpyDeviceToDevice, s),
                     "cudaMemcpyAsync", DSDK_STATUS_EXECUTION_FAILED, msg);
  }
  if (st == DSDK_STATUS_SUCCESS) st = fill(v, w, mask, s, msg);
  // The scratch row_ptr is freed only once the copy out of it is done.
  if (st == DSDK_STATUS_SUCCESS)
    st = cuda_status(cudaStreamSynchronize(s), "cudaStreamSynchronize",
                     DSDK_STATUS_EXECUTION_FAILED, msg);
  cudaFree(scratch);
  if (st != DSDK_STATUS_SUCCESS) {
    cudaFree(p);
    return st;
  }
  *out = v;
  *mem = p;
  *bytes = need;
  return DSDK_STATUS_SUCCESS;
}

void free_device(void* p) { cudaFree(p); }

dsdkStatus_t require_device_pointer(const void* p, const char* what, std::string* msg) {
  cudaPointerAttributes at{};
  const cudaError_t e = cudaPointerGetAttributes(&at, p);
  if (e != cudaSuccess) {
    cudaGetLastError();  // leave no error pending for the caller's next CUDA call
    return cuda_status(e, what, DSDK_STATUS_BAD_PARAM, msg);
  }
  if (at.type == cudaMemoryTypeDevice || at.type == cudaMemoryTypeManaged ||
      (at.type == cudaMemoryTypeHost && at.devicePointer != nullptr))
    return DSDK_STATUS_SUCCESS;
  return fail(msg, DSDK_STATUS_BAD_PARAM,
              "%s is host memory; a CUDA handle takes device (or managed) memory", what);
}


size_t filter_csr_bytes(const ConvFwdArgs& a) {
  return a.sparse ? 0 : csr_bytes(a.dtype, a.sh.k, a.sh.crs(), int64_t(a.sh.k) * a.sh.crs());
}

dsdkStatus_t sparse_operands(const ConvFwdArgs& a, void* ws, void* stream, CsrView* w,
                             char** rest, std::string* msg) {
  dsdkStatus_t st = require_device_pointer(a.x, "x", msg);
  if (st == DSDK_STATUS_SUCCESS) st = require_device_pointer(a.y, "y", msg);
  if (st == DSDK_STATUS_SUCCESS && a.bias) st = require_device_pointer(a.bias, "bias", msg);
  if (st != DSDK_STATUS_SUCCESS) return st;
  char* base = line_up(ws);
  if (rest) *rest = base + line_up(filter_csr_bytes(a));
  if (a.sparse) {
    *w = *a.sparse;
    return DSDK_STATUS_SUCCESS;
  }
  st = require_device_pointer(a.w, "w", msg);
  if (st == DSDK_STATUS_SUCCESS && a.mask) st = require_device_pointer(a.mask, "mask", msg);
  if (st != DSDK_STATUS_SUCCESS) return st;
  return csr_pack_async(a.dtype, a.sh.k, a.sh.crs(), a.w, a.mask, base, stream, w, msg);
}

}  // namespace cuda
}  // namespace dsdk
