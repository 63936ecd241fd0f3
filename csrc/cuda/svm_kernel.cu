// The one GEMM of the CUDA SVM code: out = epilogue(A * B^T) with both
// operands row-major and the inner dimension contiguous (X Z^T, K_SI K_IS),
// tiled through shared memory, with optional row and inner-dimension gathers.
// The kernel-function epilogue makes kernel rows and kernel matrices one pass.
#include <cuda_runtime.h>

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

struct GemmArgs {
  int64_t m, n, kdim;
  int64_t row_base;  // first output row of this launch (grid.y is limited)
  GemmOperand A, B;
  const int32_t* cols;
  const float* kscale;
  float* out;
  int64_t ldo;
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
    if (k < g.kdim) c = g.cols ? int64_t(g.cols[k]) : k;
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

  fetch(0);
  for (int64_t k0 = 0; k0 < g.kdim; k0 += kBK) {
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      As[lk][lr + 32 * r] = ra[r];
      Bs[lk][lr + 32 * r] = rb[r];
    }
    __syncthreads();
    if (k0 + kBK < g.kdim) fetch(k0 + kBK);  // in flight while this slice is used
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
    float* orow = g.out + r * g.ldo;
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

template <bool kNorms, class Epi>
dsdkStatus_t launch(GemmArgs g, Epi epi, cudaStream_t s, const char* what, std::string* msg) {
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
    gemm_nt_kernel<Epi, kNorms><<<dim3(unsigned(tiles_x), unsigned(ny)), kThreads, 0, s>>>(g, epi);
    DSDK_SVM_TRY(launch_status(what, msg));
  }
  return DSDK_STATUS_SUCCESS;
}

}  // namespace

dsdkStatus_t launch_kernel_gemm(const KernelFn<float>& f, int64_t m, int64_t n, int64_t d,
                                const GemmOperand& A, const GemmOperand& B, float* out,
                                int64_t ldo, cudaStream_t s, std::string* msg) {
  const GemmArgs g{m, n, d, 0, A, B, nullptr, nullptr, out, ldo};
  const KernelEpilogue epi{f};
  if (kernel_needs_norms(f)) return launch<true>(g, epi, s, "kernel GEMM", msg);
  return launch<false>(g, epi, s, "kernel GEMM", msg);
}

dsdkStatus_t launch_gemm_nt(int64_t m, int64_t n, int64_t kdim, const GemmOperand& A,
                            const GemmOperand& B, const int32_t* cols, const float* kscale,
                            float alpha, float beta, float* out, int64_t ldo, cudaStream_t s,
                            std::string* msg) {
  const GemmArgs g{m, n, kdim, 0, A, B, cols, kscale, out, ldo};
  return launch<false>(g, LinearEpilogue{alpha, beta}, s, "GEMM", msg);
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
