// Magnitude masks on the GPU. TOPK sorts (key, index) pairs with cub's stable radix sort
// on the inverted magnitude keys (core/magnitude_key.h), so that the largest |w| come
// first and equal ones stay in index order; the first `keep` indices are the kept ones.
// This is the CPU kernel's definition of the mask (lower index first among ties)
// reached by a different route, so both backends return the same mask. THRESHOLD is one
// elementwise pass. Both look for NaN in the same pass that reads w, and the call waits
// for that answer.
#include <cuda_runtime.h>

#include <cstdint>
#include <cub/device/device_radix_sort.cuh>
#include <string>
#include <type_traits>

#include "core/magnitude_key.h"
#include "core/mask_backends.h"
#include "cuda/cuda_check.cuh"

namespace dsdk {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 4096;
constexpr size_t kAlign = 256;
constexpr unsigned long long kNoNaN = ~0ull;

unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return unsigned(b < 1 ? 1 : b < kMaxBlocks ? b : kMaxBlocks);
}

size_t aligned(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

// f(std::integral_constant<dsdkDataType_t, D>{}) for the call's dtype.
template <class F>
dsdkStatus_t key_switch(dsdkDataType_t t, F&& f) {
  switch (t) {
    case DSDK_DATA_FLOAT: return f(std::integral_constant<dsdkDataType_t, DSDK_DATA_FLOAT>{});
    case DSDK_DATA_DOUBLE: return f(std::integral_constant<dsdkDataType_t, DSDK_DATA_DOUBLE>{});
    case DSDK_DATA_HALF: return f(std::integral_constant<dsdkDataType_t, DSDK_DATA_HALF>{});
    case DSDK_DATA_BFLOAT16:
      return f(std::integral_constant<dsdkDataType_t, DSDK_DATA_BFLOAT16>{});
    case DSDK_DATA_MAX_ENUM: break;
  }
  return DSDK_STATUS_NOT_SUPPORTED;
}

// The TOPK workspace, carved in this order from the caller's buffer: the NaN flag, the
// sort's keys and indices (in and out), cub's temporary storage.
template <dsdkDataType_t D>
struct SortSpace {
  using Key = typename MagnitudeKey<D>::Key;
  unsigned long long* first_nan;
  Key *keys_in, *keys_out;
  uint32_t *idx_in, *idx_out;
  void* temp;
  size_t temp_bytes = 0;
  size_t total = 0;

  SortSpace(int64_t n, void* base, cudaError_t* err) {
    const size_t count = size_t(n);
    *err = cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, static_cast<const Key*>(nullptr),
                                           static_cast<Key*>(nullptr),
                                           static_cast<const uint32_t*>(nullptr),
                                           static_cast<uint32_t*>(nullptr), n, 0,
                                           MagnitudeKey<D>::kBits);
    char* p = static_cast<char*>(base);
    auto take = [&](size_t bytes) {
      char* at = p ? p + total : nullptr;
      total += aligned(bytes);
      return at;
    };
    first_nan = reinterpret_cast<unsigned long long*>(take(sizeof(unsigned long long)));
    keys_in = reinterpret_cast<Key*>(take(count * sizeof(Key)));
    keys_out = reinterpret_cast<Key*>(take(count * sizeof(Key)));
    idx_in = reinterpret_cast<uint32_t*>(take(count * sizeof(uint32_t)));
    idx_out = reinterpret_cast<uint32_t*>(take(count * sizeof(uint32_t)));
    temp = take(temp_bytes);
  }
};

template <dsdkDataType_t D>
__device__ typename MagnitudeKey<D>::Key load_key(const typename MagnitudeKey<D>::Key* w,
                                                  int64_t i, unsigned long long* first_nan) {
  const auto k = magnitude_key<D>(w[i]);
  if (key_is_nan<D>(k)) atomicMin(first_nan, static_cast<unsigned long long>(i));
  return k;
}

// Sort input: the inverted key (ascending = |w| descending) and the index.
template <dsdkDataType_t D>
__global__ void sort_input_kernel(int64_t n, const typename MagnitudeKey<D>::Key* w,
                                  typename MagnitudeKey<D>::Key* keys, uint32_t* idx,
                                  unsigned long long* first_nan) {
  using Key = typename MagnitudeKey<D>::Key;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    keys[i] = Key(~load_key<D>(w, i, first_nan));
    idx[i] = uint32_t(i);
  }
}

__global__ void scatter_kept_kernel(int64_t keep, const uint32_t* idx, uint8_t* mask) {
  for (int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; j < keep;
       j += int64_t(gridDim.x) * blockDim.x)
    mask[idx[j]] = 1;
}

// mask = key >= lo; keep == 0 and keep == n of TOPK are lo = ~0 and lo = 0.
template <dsdkDataType_t D>
__global__ void compare_kernel(int64_t n, const typename MagnitudeKey<D>::Key* w,
                               typename MagnitudeKey<D>::Key lo, uint8_t* mask,
                               unsigned long long* first_nan) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    mask[i] = load_key<D>(w, i, first_nan) >= lo;
}

dsdkStatus_t exec(cudaError_t e, const char* what, std::string* msg) {
  return cuda_status(e, what, DSDK_STATUS_EXECUTION_FAILED, msg);
}

#define DSDK_MASK_TRY(expr)                                  \
  do {                                                       \
    dsdkStatus_t dsdk_mask_st_ = (expr);                     \
    if (dsdk_mask_st_ != DSDK_STATUS_SUCCESS) return dsdk_mask_st_; \
  } while (0)

template <dsdkDataType_t D>
dsdkStatus_t run(const MagnitudeMaskArgs& a, cudaStream_t s, std::string* msg) {
  using Key = typename MagnitudeKey<D>::Key;
  const Key* w = static_cast<const Key*>(a.w);
  const int64_t n = a.n;
  // The NaN flag opens the workspace in both modes.
  auto* flag = static_cast<unsigned long long*>(a.workspace);
  const unsigned long long none = kNoNaN;
  DSDK_MASK_TRY(exec(cudaMemcpyAsync(flag, &none, sizeof none, cudaMemcpyHostToDevice, s),
                     "NaN flag upload", msg));

  if (a.mode == DSDK_MASK_TOPK && a.keep > 0 && a.keep < n) {
    cudaError_t err = cudaSuccess;
    SortSpace<D> sp(n, a.workspace, &err);
    DSDK_MASK_TRY(exec(err, "cub::DeviceRadixSort size query", msg));
    DSDK_MASK_TRY(exec(cudaMemsetAsync(a.mask, 0, size_t(n), s), "mask clear", msg));
    sort_input_kernel<D><<<blocks_for(n), kThreads, 0, s>>>(n, w, sp.keys_in, sp.idx_in, flag);
    DSDK_MASK_TRY(launch_status("sort_input_kernel", msg));
    DSDK_MASK_TRY(exec(cub::DeviceRadixSort::SortPairs(sp.temp, sp.temp_bytes, sp.keys_in,
                                                       sp.keys_out, sp.idx_in, sp.idx_out, n, 0,
                                                       MagnitudeKey<D>::kBits, s),
                       "cub::DeviceRadixSort::SortPairs", msg));
    scatter_kept_kernel<<<blocks_for(a.keep), kThreads, 0, s>>>(a.keep, sp.idx_out, a.mask);
    DSDK_MASK_TRY(launch_status("scatter_kept_kernel", msg));
  } else {
    const Key lo = a.mode == DSDK_MASK_THRESHOLD ? threshold_key<D>(a.threshold)
                   : a.keep == 0                 ? Key(~Key(0))
                                                 : Key(0);
    compare_kernel<D><<<blocks_for(n), kThreads, 0, s>>>(n, w, lo, a.mask, flag);
    DSDK_MASK_TRY(launch_status("compare_kernel", msg));
  }

  unsigned long long first_nan = kNoNaN;
  DSDK_MASK_TRY(exec(cudaMemcpyAsync(&first_nan, flag, sizeof first_nan,
                                     cudaMemcpyDeviceToHost, s),
                     "NaN flag download", msg));
  DSDK_MASK_TRY(exec(cudaStreamSynchronize(s), "magnitude mask", msg));
  if (first_nan == kNoNaN) return DSDK_STATUS_SUCCESS;
  if (msg) *msg = "w[" + std::to_string(first_nan) + "] is NaN";
  return DSDK_STATUS_BAD_PARAM;
}

}  // namespace

size_t magnitude_mask_workspace(dsdkMaskMode_t mode, dsdkDataType_t dtype, int64_t n) {
  if (n == 0) return 0;
  if (mode == DSDK_MASK_THRESHOLD) return sizeof(unsigned long long);  // the NaN flag alone
  size_t bytes = 0;
  key_switch(dtype, [&](auto d) {
    cudaError_t err = cudaSuccess;
    bytes = SortSpace<decltype(d)::value>(n, nullptr, &err).total;
    return DSDK_STATUS_SUCCESS;
  });
  return bytes;
}

dsdkStatus_t magnitude_mask(const MagnitudeMaskArgs& a, void* stream, std::string* msg) {
  if (a.n == 0) return DSDK_STATUS_SUCCESS;
  if (a.n > int64_t(UINT32_MAX)) {
    if (msg) *msg = "n = " + std::to_string(a.n) + " exceeds the CUDA kernel's 2^32 - 1 entries";
    return DSDK_STATUS_NOT_SUPPORTED;
  }
  return key_switch(a.dtype,
                    [&](auto d) { return run<decltype(d)::value>(a, static_cast<cudaStream_t>(stream), msg); });
}

}  // namespace cuda
}  // namespace dsdk
