// The one GEMM of the CUDA SVM code: out = epilogue(A * B^T) with both
// operands row-major and the inner dimension contiguous (X Z^T, K_SI K_IS),
// tiled through shared memory, with optional row and inner-dimension gathers.
// The kernel-function epilogue makes kernel rows and kernel matrices one pass.
#include <cuda_runtime.h>

#include <algorithm>

#include "core/svm_backends.h"
#include "cuda/svm_common.cuh"

namespace dsdk {
namespace cuda {
namespace svm {
namespace {

// 128 x 128 output tile per block, 8 x 8 per thread, 8-deep slices of the
// inner dimension staged k-major in shared memory.
constexpr int kBM = 128, kBN = 128, kBK = 8, kThreads = 256;
constexpr int64_t kMaxGridY = 65535;
constexpr int64_t kMinSplitK = 1024;  // inner indices per split-K slice, at least

struct GemmArgs {
  int64_t m, n, kdim;
  int64_t row_base;  // first output row of this launch (grid.y is limited)
  GemmOperand A, B;
  const int32_t* cols;
  const float* kscale;
  float* out;
  int64_t ldo;
  // Split-K: block z sums inner indices [z kslice, (z + 1) kslice) into
  // out + z out_zstride. Without a split, kslice >= kdim and gridDim.z = 1.
  int64_t kslice, out_zstride;
};

__device__ __forceinline__ int64_t source_row(const GemmOperand& op, int64_t r, int64_t count) {
  if (r >= count) return -1;
  return op.rows ? int64_t(op.rows[r]) : r;
}

struct KernelEpilogue {
  KernelFn<float> f;
  __device__ float operator()(float dot, float na, float nb, const float*) const {
    return kernel_value(f, dot, na, nb);
  }
};

struct RawEpilogue {  // split-K partial sums; splitk_reduce_kernel finishes them
  __device__ float operator()(float dot, float, float, const float*) const { return dot; }
};

struct LinearEpilogue {
  float alpha, beta;
  __device__ float operator()(float dot, float, float, const float* old) const {
    return beta == 0.f ? alpha * dot : alpha * dot + beta * *old;
  }
};

// kNorms: also sum |A_i|^2 and |B_j|^2 from the staged tiles, in the order the
// dot products are summed (threads 0..127 take A rows, 128..255 B rows).
template <class Epi, bool kNorms>
__global__ void __launch_bounds__(kThreads) gemm_nt_kernel(GemmArgs g, Epi epi) {
  __shared__ float As[kBK][kBM + 4];  // +4: conflict-free transposing stores
  __shared__ float Bs[kBK][kBN + 4];
  __shared__ float normA[kNorms ? kBM : 1], normB[kNorms ? kBN : 1];

  const int tid = threadIdx.x;
  const int tx = tid & 15, ty = tid >> 4;  // compute: rows ty + 16 i, cols tx + 16 j
  const int lk = tid & 7, lr = tid >> 3;   // load: inner offset lk, rows lr + 32 r
  const int64_t row0 = g.row_base + int64_t(blockIdx.y) * kBM;
  const int64_t col0 = int64_t(blockIdx.x) * kBN;
  const int64_t kbegin = int64_t(blockIdx.z) * g.kslice;
  const int64_t kend = g.kdim - kbegin < g.kslice ? g.kdim : kbegin + g.kslice;
  float* const out = g.out + int64_t(blockIdx.z) * g.out_zstride;

  const float* arow[4];
  const float* brow[4];
#pragma unroll
  for (int r = 0; r < 4; ++r) {
    const int64_t sa = source_row(g.A, row0 + lr + 32 * r, g.m);
    const int64_t sb = source_row(g.B, col0 + lr + 32 * r, g.n);
    arow[r] = sa >= 0 ? g.A.data + sa * g.A.ld : nullptr;
    brow[r] = sb >= 0 ? g.B.data + sb * g.B.ld : nullptr;
  }

  float ra[4], rb[4];
  auto fetch = [&](int64_t k0) {
    const int64_t k = k0 + lk;
    int64_t c = -1;
    if (k < kend) c = g.cols ? int64_t(g.cols[k]) : k;
    const float w = (g.kscale && c >= 0) ? __ldg(g.kscale + c) : 1.f;
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      ra[r] = (arow[r] && c >= 0) ? w * __ldg(arow[r] + c) : 0.f;
      rb[r] = (brow[r] && c >= 0) ? __ldg(brow[r] + c) : 0.f;
    }
  };

  float acc[8][8];
#pragma unroll
  for (int i = 0; i < 8; ++i)
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[i][j] = 0.f;
  float nrm = 0.f;

  fetch(kbegin);
  for (int64_t k0 = kbegin; k0 < kend; k0 += kBK) {
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      As[lk][lr + 32 * r] = ra[r];
      Bs[lk][lr + 32 * r] = rb[r];
    }
    __syncthreads();
    if (k0 + kBK < kend) fetch(k0 + kBK);  // in flight while this slice is used
    if (kNorms) {
#pragma unroll
      for (int kk = 0; kk < kBK; ++kk) {
        const float v = tid < kBM ? As[kk][tid] : Bs[kk][tid - kBM];
        nrm = fmaf(v, v, nrm);
      }
    }
#pragma unroll
    for (int kk = 0; kk < kBK; ++kk) {
      float a[8], b[8];
#pragma unroll
      for (int i = 0; i < 8; ++i) a[i] = As[kk][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 8; ++j) b[j] = Bs[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 8; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
  if (kNorms) {
    if (tid < kBM) normA[tid] = nrm;
    else normB[tid - kBM] = nrm;
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int64_t r = row0 + ty + 16 * i;
    if (source_row(g.A, r, g.m) < 0) continue;
    float* orow = out + r * g.ldo;
    const float na = kNorms ? normA[ty + 16 * i] : 0.f;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const int64_t c = col0 + tx + 16 * j;
      if (source_row(g.B, c, g.n) < 0) continue;
      const float nb = kNorms ? normB[tx + 16 * j] : 0.f;
      orow[c] = epi(acc[i][j], na, nb, orow + c);
    }
  }
}

// out[r * ldo + c] = alpha * sum_z ws[z][r][c] + beta * out[r * ldo + c], the z
// summed in order (deterministic).
__global__ void splitk_reduce_kernel(int64_t m, int64_t n, int64_t splits, const float* ws,
                                     float alpha, float beta, float* out, int64_t ldo) {
  const int64_t total = m * n;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    float acc = 0.f;
    for (int64_t z = 0; z < splits; ++z) acc += ws[z * total + e];
    float* o = out + (e / n) * ldo + e % n;
    *o = beta == 0.f ? alpha * acc : alpha * acc + beta * *o;
  }
}

template <bool kNorms, class Epi>
dsdkStatus_t launch(GemmArgs g, Epi epi, unsigned splits, cudaStream_t s, const char* what,
                    std::string* msg) {
  if (g.m <= 0 || g.n <= 0) return DSDK_STATUS_SUCCESS;
  const int64_t tiles_x = ceil_div(g.n, kBN), tiles_y = ceil_div(g.m, kBM);
  if (tiles_x > int64_t(0x7fffffff)) {
    if (msg) *msg = std::string(what) + ": too many output columns for one grid";
    return DSDK_STATUS_NOT_SUPPORTED;
  }
  // grid.y is capped at 65535, so tall outputs go in several launches.
  for (int64_t ty0 = 0; ty0 < tiles_y; ty0 += kMaxGridY) {
    const int64_t ny = tiles_y - ty0 < kMaxGridY ? tiles_y - ty0 : kMaxGridY;
    g.row_base = ty0 * kBM;
    gemm_nt_kernel<Epi, kNorms>
        <<<dim3(unsigned(tiles_x), unsigned(ny), splits), kThreads, 0, s>>>(g, epi);
    DSDK_SVM_TRY(launch_status(what, msg));
  }
  return DSDK_STATUS_SUCCESS;
}

}  // namespace

dsdkStatus_t launch_kernel_gemm(const KernelFn<float>& f, int64_t m, int64_t n, int64_t d,
                                const GemmOperand& A, const GemmOperand& B, float* out,
                                int64_t ldo, cudaStream_t s, std::string* msg) {
  const GemmArgs g{m, n, d, 0, A, B, nullptr, nullptr, out, ldo, d, 0};
  const KernelEpilogue epi{f};
  if (kernel_needs_norms(f)) return launch<true>(g, epi, 1, s, "kernel GEMM", msg);
  return launch<false>(g, epi, 1, s, "kernel GEMM", msg);
}

dsdkStatus_t launch_gemm_nt(int64_t m, int64_t n, int64_t kdim, const GemmOperand& A,
                            const GemmOperand& B, const int32_t* cols, const float* kscale,
                            float alpha, float beta, float* out, int64_t ldo, float* ws,
                            size_t ws_elems, cudaStream_t s, std::string* msg) {
  if (m <= 0 || n <= 0) return DSDK_STATUS_SUCCESS;
  // A small output over a long inner dimension (the SPSVM Newton matrix: a few
  // hundred squared over up to n samples) leaves most SMs idle: split the
  // inner dimension so that the grid covers the device about twice.
  int64_t splits = 1;
  if (ws && !A.rows && !B.rows) {
    int dev = 0, sms = 0;
    DSDK_SVM_TRY(exec_status(cudaGetDevice(&dev), "GEMM: device", msg));
    DSDK_SVM_TRY(exec_status(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev),
                             "GEMM: device", msg));
    const int64_t tiles = ceil_div(n, kBN) * ceil_div(m, kBM);
    splits = std::min<int64_t>(ceil_div(2 * int64_t(sms), tiles), kdim / kMinSplitK);
    splits = std::min<int64_t>(splits, int64_t(ws_elems / size_t(m * n)));
    splits = std::max<int64_t>(1, std::min<int64_t>(splits, 65535));
  }
  if (splits == 1) {
    const GemmArgs g{m, n, kdim, 0, A, B, cols, kscale, out, ldo, kdim, 0};
    return launch<false>(g, LinearEpilogue{alpha, beta}, 1, s, "GEMM", msg);
  }
  const int64_t kslice = ceil_div(ceil_div(kdim, splits), kBK) * kBK;
  splits = ceil_div(kdim, kslice);  // no empty slice
  const GemmArgs g{m, n, kdim, 0, A, B, cols, kscale, ws, n, kslice, m * n};
  DSDK_SVM_TRY(launch<false>(g, RawEpilogue{}, unsigned(splits), s, "GEMM (split-K)", msg));
  splitk_reduce_kernel<<<grid_for(m * n, kThreads), kThreads, 0, s>>>(m, n, splits, ws, alpha,
                                                                      beta, out, ldo);
  return launch_status("GEMM (split-K reduce)", msg);
}

}  // namespace svm

dsdkStatus_t svm_kernel_matrix(const SVMParams& p, int64_t n, int64_t m, int64_t d,
                               const float* X, const float* Z, float* K, void* stream,
                               std::string* msg) {
  (void)cudaGetLastError();  // a stale error from unrelated work is not ours
  const KernelFn<float> f{p.kernel, float(p.gamma), float(p.coef0), p.degree};
  svm::GemmOperand A, B;
  A.data = X;
  A.ld = d;
  B.data = Z;
  B.ld = d;
  return svm::launch_kernel_gemm(f, n, m, d, A, B, K, m, static_cast<cudaStream_t>(stream), msg);
}

}  // namespace cuda
}  // namespace dsdk
