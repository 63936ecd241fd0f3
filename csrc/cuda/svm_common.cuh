// Building blocks of the CUDA SVM solvers: owned device buffers, block-wide
// reductions, and the fused kernel-GEMM launchers
// (defined in svm_kernel.cu, used by svm_smo.cu and svm_spsvm.cu).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <limits>
#include <string>

#include "core/svm_kernel_fn.h"
#include "core/svm_params.h"
#include "cuda/cuda_check.cuh"

namespace dsdk {
namespace cuda {
namespace svm {

// Runtime-API failures other than allocation (launch, copy, synchronisation:
// faults inside earlier kernels surface there) are EXECUTION_FAILED.
inline dsdkStatus_t exec_status(cudaError_t e, const char* what, std::string* msg) {
  return cuda_status(e, what, DSDK_STATUS_EXECUTION_FAILED, msg);
}

#define DSDK_SVM_TRY(expr)                                    \
  do {                                                        \
    dsdkStatus_t dsdk_svm_st_ = (expr);                       \
    if (dsdk_svm_st_ != DSDK_STATUS_SUCCESS) return dsdk_svm_st_; \
  } while (0)

// cudaMalloc'd array of `T`, freed on scope exit (also on every error path).
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { release(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // Frees what was held, then allocates `count` elements (count 0 holds nothing).
  dsdkStatus_t alloc(size_t count, const char* what, std::string* msg) {
    release();
    if (count == 0) return DSDK_STATUS_SUCCESS;
    if (count > std::numeric_limits<size_t>::max() / sizeof(T)) {
      if (msg) *msg = std::string(what) + ": size overflows size_t";
      return DSDK_STATUS_ALLOC_FAILED;
    }
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, count * sizeof(T));
    if (e != cudaSuccess) {
      (void)cudaGetLastError();  // not sticky: leave no error for the next launch
      return cuda_status(e, what, DSDK_STATUS_ALLOC_FAILED, msg);
    }
    p_ = static_cast<T*>(p);
    count_ = count;
    return DSDK_STATUS_SUCCESS;
  }
  T* get() const { return p_; }
  size_t size() const { return count_; }
  size_t bytes() const { return count_ * sizeof(T); }

 private:
  void release() {
    // cudaFree waits for the device, so no kernel still reads the buffer.
    if (p_) (void)cudaFree(p_);
    p_ = nullptr;
    count_ = 0;
  }
  T* p_ = nullptr;
  size_t count_ = 0;
};

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Grid for a grid-stride loop over `n` items with `threads` per block: enough
// blocks to fill the device, never more than the items need.
inline unsigned grid_for(int64_t n, int threads) {
  const int64_t cap = int64_t(132) * 16;  // ~16 resident blocks per SM on an H100
  int64_t b = ceil_div(n, threads);
  if (b < 1) b = 1;
  return static_cast<unsigned>(b < cap ? b : cap);
}

// ---- block-wide reductions (blockDim.x a multiple of 32, <= 1024) --------

struct ArgBest {  // a value and the (ws position / sample) index it came from
  double v;
  int i;
};

__device__ __forceinline__ ArgBest shfl_xor(ArgBest a, int lane_mask) {
  ArgBest b;
  b.v = __shfl_xor_sync(0xffffffffu, a.v, lane_mask);
  b.i = __shfl_xor_sync(0xffffffffu, a.i, lane_mask);
  return b;
}
__device__ __forceinline__ double shfl_xor(double a, int lane_mask) {
  return __shfl_xor_sync(0xffffffffu, a, lane_mask);
}

// Larger value wins; ties go to the smaller index so that every run picks the same.
struct MaxArg {
  __device__ ArgBest operator()(ArgBest a, ArgBest b) const {
    return (b.v > a.v || (b.v == a.v && b.i < a.i)) ? b : a;
  }
};
struct MinArg {
  __device__ ArgBest operator()(ArgBest a, ArgBest b) const {
    return (b.v < a.v || (b.v == a.v && b.i < a.i)) ? b : a;
  }
};
struct MaxOp {
  __device__ double operator()(double a, double b) const { return a > b ? a : b; }
};
struct MinOp {
  __device__ double operator()(double a, double b) const { return a < b ? a : b; }
};
struct SumOp {
  __device__ double operator()(double a, double b) const { return a + b; }
};

template <class T, class Op>
__device__ __forceinline__ T warp_reduce(T v, Op op) {
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) v = op(v, shfl_xor(v, m));
  return v;
}

// Reduces one value per thread over the whole block and returns the result to
// every thread. `scratch` holds 33 T in shared memory. `identity` is what an
// absent warp contributes. Contains __syncthreads(): call from all threads.
template <class T, class Op>
__device__ T block_reduce(T v, Op op, T identity, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int nwarps = (blockDim.x + 31) >> 5;
  v = warp_reduce(v, op);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    T w = lane < nwarps ? scratch[lane] : identity;
    w = warp_reduce(w, op);
    if (lane == 0) scratch[32] = w;
  }
  __syncthreads();
  T r = scratch[32];
  __syncthreads();  // scratch may be reused right away
  return r;
}

// Doubles mapped to unsigned 64-bit keys with the same order, so that a grid
// can take a max/min with atomicMax/atomicMin.
__device__ __forceinline__ unsigned long long ordered_key(double v) {
  const unsigned long long b = static_cast<unsigned long long>(__double_as_longlong(v));
  return (b >> 63) ? ~b : (b | 0x8000000000000000ull);
}
inline double key_to_double(unsigned long long k) {
  const unsigned long long b = (k >> 63) ? (k & 0x7fffffffffffffffull) : ~k;
  double v;
  static_assert(sizeof v == sizeof b, "double is 64-bit");
  __builtin_memcpy(&v, &b, sizeof v);
  return v;
}

// ---- fused kernel GEMM (svm_kernel.cu) ----------------------------------

// One operand of out = A * B^T: rows of a row-major matrix, optionally
// gathered. Row r of the operand is data[rows ? rows[r] : r] (leading
// dimension ld); rows[r] < 0 marks an absent row, whose output row (column)
// is left untouched. `out` must not overlap the operands.
struct GemmOperand {
  const float* data = nullptr;
  int64_t ld = 0;
  const int32_t* rows = nullptr;
};

// out[i * ldo + j] = kernel(<A_i, B_j>, |A_i|^2, |B_j|^2) for i < m, j < n,
// inner dimension d. The squared norms are summed inside the GEMM in the same
// order as the dot products, so K(x, x) of RBF is exactly 1.
dsdkStatus_t launch_kernel_gemm(const KernelFn<float>& f, int64_t m, int64_t n, int64_t d,
                                const GemmOperand& A, const GemmOperand& B, float* out,
                                int64_t ldo, cudaStream_t s, std::string* msg);

// out[i * ldo + j] = alpha * sum_k w(k) A_i[c(k)] B_j[c(k)] + beta * out[i * ldo + j]
// over k < kdim, where c(k) = cols ? cols[k] : k gathers the inner dimension
// (the active samples of SPSVM) and w(k) = kscale ? kscale[c(k)] : 1 weights
// it (their C_i). beta == 0 never reads out. `ws` (ws_elems floats, may be
// null) lets a small output over a long inner dimension be split over more
// blocks (split-K, summed in a fixed order); it is used only when neither
// operand gathers rows, and at most ws_elems / (m n) slices are made.
dsdkStatus_t launch_gemm_nt(int64_t m, int64_t n, int64_t kdim, const GemmOperand& A,
                            const GemmOperand& B, const int32_t* cols, const float* kscale,
                            float alpha, float beta, float* out, int64_t ldo, float* ws,
                            size_t ws_elems, cudaStream_t s, std::string* msg);

// The checks the C API makes on host data, made on the device (svm_data_check.cu):
// BAD_PARAM naming y when a label is not +1/-1 or a class is missing, naming X
// when it holds NaN or infinity. Synchronises the stream.
dsdkStatus_t check_training_data(int64_t n, int64_t d, const float* X, const int32_t* y,
                                 cudaStream_t s, std::string* msg);

}  // namespace svm
}  // namespace cuda
}  // namespace dsdk
