// The sparse primal SVM's CUDA primitives under the shared driver
// (core/svm_spsvm_driver.h, which holds the algorithm; the host runs it and
// solves the Newton systems in double on host_threads OpenMP threads).
//
// The device holds everything of size n: R ((1 + cap) x n float32, row 0 the
// bias's ones, row 1 + s K(x_{S_s}, X)), the candidates' kernel rows over the
// scoring points, f and its step (double), the active flags. Kernel rows are
// kernel GEMMs; the Newton matrix's border and its active-set updates are
// float32 GEMMs over the gathered active (or moved) points, accumulated into
// double on the host; every other sum is double, per block, added on the host
// in a fixed order (deterministic).
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <vector>

#include <cub/device/device_select.cuh>

#include "core/svm_backends.h"
#include "core/svm_spsvm_driver.h"
#include "core/svm_spsvm_policy.h"
#include "cpu/cholesky.h"
#include "cuda/svm_common.cuh"

namespace dsdk {
namespace cuda {
namespace {

using svm::DeviceBuffer;

constexpr int kThreads = 256;
constexpr int kMaxSumChunks = 64;

#define GRID_STRIDE(t, n)                                                       \
  for (int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; t < (n); \
       t += int64_t(gridDim.x) * blockDim.x)

// f = 0, so every point is active; row 0 of R is the bias's ones.
__global__ void prepare_kernel(int64_t n, const int32_t* y, double Cp, double Cn, float* ones,
                               float* cw, float* yf, int32_t* iota, double* o, uint8_t* active) {
  GRID_STRIDE(t, n) {
    ones[t] = 1.f;
    cw[t] = float(y[t] > 0 ? Cp : Cn);
    yf[t] = float(y[t]);
    iota[t] = int32_t(t);
    o[t] = 0.0;
    active[t] = 1;
  }
}

// For row r = blockIdx.y of `rows` (element q of a row is point q * stride)
// over chunk blockIdx.x of its len elements, the sums over the active points
// of c (f - y) K, c K^2 and c y K.
__global__ void __launch_bounds__(kThreads)
    row_sums_kernel(int64_t len, int64_t chunk, int64_t stride, const float* rows, int64_t ld,
                    const int32_t* y, const float* cw, const double* o, double* partial) {
  __shared__ double s_val[33];
  const float* row = rows + int64_t(blockIdx.y) * ld;
  const int64_t begin = int64_t(blockIdx.x) * chunk;
  const int64_t end = begin + chunk < len ? begin + chunk : len;
  double g = 0.0, h = 0.0, u = 0.0;
  for (int64_t q = begin + threadIdx.x; q < end; q += blockDim.x) {
    const int64_t i = q * stride;
    const double yi = double(y[i]);
    if (yi * o[i] < 1.0) {
      const double k = double(row[q]), ci = double(cw[i]);
      g += ci * (o[i] - yi) * k;
      h += ci * k * k;
      u += ci * yi * k;
    }
  }
  g = svm::block_reduce(g, svm::SumOp(), 0.0, s_val);
  h = svm::block_reduce(h, svm::SumOp(), 0.0, s_val);
  u = svm::block_reduce(u, svm::SumOp(), 0.0, s_val);
  if (threadIdx.x == 0) {
    double* p = partial + (int64_t(blockIdx.y) * gridDim.x + blockIdx.x) * 3;
    p[0] = g;
    p[1] = h;
    p[2] = u;
  }
}

// f(x_c) and K(x_c, x_c) of each candidate.
__global__ void self_kernel(int nc, int64_t d, const float* X, const int32_t* cand,
                            const double* o, KernelFn<float> kf, double* out) {
  GRID_STRIDE(c, nc) {
    const float* x = X + int64_t(cand[c]) * d;
    float sq = 0.f;
    for (int64_t k = 0; k < d; ++k) sq += x[k] * x[k];
    out[2 * c] = o[cand[c]];
    out[2 * c + 1] = double(kernel_self(kf, sq));
  }
}

// gram[b * (m + k) + a] = K(x_{S_{m+b}}, x_{S_a}), the two readings of R averaged.
__global__ void gram_kernel(int64_t n, int m, int k, const float* R, const int32_t* basis,
                            double* gram) {
  const int m1 = m + k;
  const int64_t total = int64_t(k) * m1;
  GRID_STRIDE(e, total) {
    const int64_t b = e / m1, a = e % m1;
    gram[e] = 0.5 * (double(R[(1 + m + b) * n + basis[a]]) + double(R[(1 + a) * n + basis[m + b]]));
  }
}

// df_t = sum_a dir[a] R[a, t] over the first cols rows.
__global__ void direction_kernel(int64_t n, int cols, const float* R, const double* dir,
                                 double* df) {
  GRID_STRIDE(t, n) {
    double acc = 0.0;
    for (int a = 0; a < cols; ++a) acc += dir[a] * double(R[int64_t(a) * n + t]);
    df[t] = acc;
  }
}

// Per block, over A(t) = {y (f + t df) < 1}: c (f + t df - y) df and c df^2.
__global__ void __launch_bounds__(kThreads)
    line_kernel(int64_t n, double t, const int32_t* y, const float* cw, const double* o,
                const double* df, double* partial) {
  __shared__ double s_val[33];
  double g = 0.0, h = 0.0;
  GRID_STRIDE(i, n) {
    const double oi = o[i] + t * df[i], yi = double(y[i]);
    if (yi * oi < 1.0) {
      const double c = double(cw[i]);
      g += c * (oi - yi) * df[i];
      h += c * df[i] * df[i];
    }
  }
  g = svm::block_reduce(g, svm::SumOp(), 0.0, s_val);
  h = svm::block_reduce(h, svm::SumOp(), 0.0, s_val);
  if (threadIdx.x == 0) {
    partial[2 * blockIdx.x] = g;
    partial[2 * blockIdx.x + 1] = h;
  }
}

// f += t df and the new active flags; a point that joined (left) I gets the
// signed weight +c (-c) and its changed flag. Per block: points moved, loss.
__global__ void __launch_bounds__(kThreads)
    step_kernel(int64_t n, double t, const int32_t* y, const float* cw, const double* df,
                double* o, uint8_t* active, uint8_t* changed, float* sw, double* partial) {
  __shared__ double s_val[33];
  double moved = 0.0, loss = 0.0;
  GRID_STRIDE(i, n) {
    const double oi = o[i] + t * df[i];
    o[i] = oi;
    const double xi = 1.0 - double(y[i]) * oi;
    const uint8_t now = xi > 0.0 ? 1 : 0;
    if (now) loss += double(cw[i]) * xi * xi;
    const uint8_t ch = now != active[i] ? 1 : 0;
    moved += double(ch);
    changed[i] = ch;
    sw[i] = now ? cw[i] : -cw[i];
    active[i] = now;
  }
  moved = svm::block_reduce(moved, svm::SumOp(), 0.0, s_val);
  loss = svm::block_reduce(loss, svm::SumOp(), 0.0, s_val);
  if (threadIdx.x == 0) {
    partial[2 * blockIdx.x] = moved;
    partial[2 * blockIdx.x + 1] = loss;
  }
}

class CudaBackend {
 public:
  CudaBackend(const SVMParams& p, int64_t n, int64_t d, const float* X, const int32_t* y,
              cudaStream_t s)
      : p_(p), n_(n), d_(d), X_(X), y_(y), s_(s),
        kf_{p.kernel, float(p.gamma), float(p.coef0), p.degree},
        cap_(spsvm::basis_cap(p.max_basis, n)),
        stride_(spsvm::score_stride(n)), nsub_((n + stride_ - 1) / stride_),
        grid_(svm::grid_for(n, kThreads)) {}

  int64_t total_rows() const { return n_; }
  int processes() const { return 1; }
  dsdkStatus_t reduce(double*, int64_t, std::string*) { return DSDK_STATUS_SUCCESS; }

  dsdkStatus_t start(double out[2], std::string* msg) {
    DSDK_SVM_TRY(alloc(msg));
    prepare_kernel<<<grid_, kThreads, 0, s_>>>(n_, y_, p_.C * p_.weight_pos, p_.C * p_.weight_neg,
                                               R_.get(), cw_.get(), yf_.get(), iota_.get(),
                                               o_.get(), active_.get());
    DSDK_SVM_TRY(launch_status("SPSVM: prepare", msg));
    DSDK_SVM_TRY(row_sums(R_.get(), n_, 1, n_, 1, msg));  // over the ones: {-sum c y, sum c, sum c y}
    out[0] = sums_[1];
    out[1] = sums_[2];
    return DSDK_STATUS_SUCCESS;
  }

  dsdkStatus_t score(const int64_t* cand, int64_t nc, int64_t stride, double* out,
                     std::string* msg) {
    DSDK_SVM_TRY(spsvm::check_score_stride(stride, stride_, msg));
    ids_.assign(cand, cand + nc);
    DSDK_SVM_TRY(to_device(cand_dev_.get(), ids_.data(), ids_.size(), "SPSVM: candidates", msg));
    svm::GemmOperand A, B;
    A.data = X_;
    A.ld = d_;
    A.rows = cand_dev_.get();
    B.data = X_;
    B.ld = d_;
    B.rows = stride_ > 1 ? sub_idx_.get() : nullptr;
    DSDK_SVM_TRY(svm::launch_kernel_gemm(kf_, nc, nsub_, d_, A, B, Kc_.get(), nsub_, s_, msg));
    self_kernel<<<svm::grid_for(nc, kThreads), kThreads, 0, s_>>>(
        int(nc), d_, X_, cand_dev_.get(), o_.get(), kf_, self_.get());
    DSDK_SVM_TRY(launch_status("SPSVM: candidate scores", msg));
    std::vector<double> self(size_t(2 * nc));
    DSDK_SVM_TRY(to_host(self.data(), self_.get(), self.size(), "SPSVM: candidate scores", msg));
    DSDK_SVM_TRY(row_sums(Kc_.get(), nsub_, stride_, nsub_, int(nc), msg));
    for (int64_t t = 0; t < nc; ++t) {
      out[4 * t] = sums_[size_t(3 * t)];
      out[4 * t + 1] = sums_[size_t(3 * t + 1)];
      out[4 * t + 2] = self[size_t(2 * t)];
      out[4 * t + 3] = self[size_t(2 * t + 1)];
    }
    return DSDK_STATUS_SUCCESS;
  }

  dsdkStatus_t add_basis(const int64_t* basis, int64_t m, int64_t k, double* gram,
                         double* border, double* vb, std::string* msg) {
    const int64_t m1 = m + k, cols = 1 + m1;
    ids_.assign(basis, basis + m1);
    DSDK_SVM_TRY(to_device(basis_dev_.get(), ids_.data(), ids_.size(), "SPSVM: basis", msg));
    float* fresh = R_.get() + (1 + m) * n_;
    svm::GemmOperand A, B;
    A.data = X_;
    A.ld = d_;
    A.rows = basis_dev_.get() + m;
    B.data = X_;
    B.ld = d_;
    DSDK_SVM_TRY(svm::launch_kernel_gemm(kf_, k, n_, d_, A, B, fresh, n_, s_, msg));
    gram_kernel<<<svm::grid_for(k * m1, kThreads), kThreads, 0, s_>>>(
        n_, int(m), int(k), R_.get(), basis_dev_.get(), gram_.get());
    DSDK_SVM_TRY(launch_status("SPSVM: basis kernel", msg));
    DSDK_SVM_TRY(to_host(gram, gram_.get(), size_t(k * m1), "SPSVM: basis kernel", msg));
    int n_act = 0;
    DSDK_SVM_TRY(select(active_.get(), act_idx_.get(), &n_act, msg));
    DSDK_SVM_TRY(products(k, cols, fresh, act_idx_.get(), n_act, cw_.get(), msg));
    for (int64_t b = 0; b < k; ++b) {
      for (int64_t a = 0; a <= 1 + m + b; ++a) border[b * cols + a] = double(hM_[size_t(b * cols + a)]);
      vb[b] = double(hv_[size_t(b)]);
    }
    return DSDK_STATUS_SUCCESS;
  }

  dsdkStatus_t gradient(int64_t cols, double* g, std::string* msg) {
    DSDK_SVM_TRY(row_sums(R_.get(), n_, 1, n_, int(cols), msg));
    for (int64_t a = 0; a < cols; ++a) g[a] = sums_[size_t(3 * a)];
    return DSDK_STATUS_SUCCESS;
  }

  dsdkStatus_t direction(const double* dir, int64_t cols, std::string* msg) {
    DSDK_SVM_TRY(to_device(dir_dev_.get(), dir, size_t(cols), "SPSVM: direction", msg));
    direction_kernel<<<grid_, kThreads, 0, s_>>>(n_, int(cols), R_.get(), dir_dev_.get(),
                                                 df_.get());
    return launch_status("SPSVM: direction", msg);
  }

  dsdkStatus_t line_sums(double t, double out[2], std::string* msg) {
    line_kernel<<<grid_, kThreads, 0, s_>>>(n_, t, y_, cw_.get(), o_.get(), df_.get(),
                                            part_.get());
    DSDK_SVM_TRY(launch_status("SPSVM: line search", msg));
    return block_sums(out, "SPSVM: line search", msg);
  }

  dsdkStatus_t step(double t, double out[2], std::string* msg) {
    step_kernel<<<grid_, kThreads, 0, s_>>>(n_, t, y_, cw_.get(), df_.get(), o_.get(),
                                            active_.get(), changed_.get(), sw_.get(), part_.get());
    DSDK_SVM_TRY(launch_status("SPSVM: step", msg));
    return block_sums(out, "SPSVM: step", msg);
  }

  dsdkStatus_t moved_products(int64_t cols, double* dM, int64_t ldm, double* dv,
                              std::string* msg) {
    int n_mv = 0;
    DSDK_SVM_TRY(select(changed_.get(), act_idx_.get(), &n_mv, msg));
    DSDK_SVM_TRY(products(cols, cols, R_.get(), act_idx_.get(), n_mv, sw_.get(), msg));
    for (int64_t a = 0; a < cols; ++a) {
      for (int64_t b = 0; b <= a; ++b) dM[a * ldm + b] += double(hM_[size_t(a * cols + b)]);
      dv[a] += double(hv_[size_t(a)]);
    }
    return DSDK_STATUS_SUCCESS;
  }

 private:
  dsdkStatus_t alloc(std::string* msg) {
    const size_t un = size_t(n_), nr = size_t(cap_) + 1;
    const size_t kappa = size_t(std::min<int64_t>(spsvm::max_candidates(p_.candidates), n_));
    DSDK_SVM_TRY(R_.alloc(nr * un, "SPSVM: basis kernel rows ((maxBasis + 1) x n)", msg));
    DSDK_SVM_TRY(Kc_.alloc(kappa * size_t(nsub_), "SPSVM: candidate kernel rows", msg));
    DSDK_SVM_TRY(o_.alloc(un, "SPSVM: outputs", msg));
    DSDK_SVM_TRY(df_.alloc(un, "SPSVM: Newton output step", msg));
    DSDK_SVM_TRY(cw_.alloc(un, "SPSVM: sample weights", msg));
    DSDK_SVM_TRY(yf_.alloc(un, "SPSVM: labels", msg));
    DSDK_SVM_TRY(sw_.alloc(un, "SPSVM: signed weights", msg));
    DSDK_SVM_TRY(iota_.alloc(un, "SPSVM: sample ids", msg));
    DSDK_SVM_TRY(act_idx_.alloc(un, "SPSVM: selected points", msg));
    DSDK_SVM_TRY(active_.alloc(un, "SPSVM: active flags", msg));
    DSDK_SVM_TRY(changed_.alloc(un, "SPSVM: changed flags", msg));
    DSDK_SVM_TRY(n_sel_.alloc(1, "SPSVM: selected count", msg));
    DSDK_SVM_TRY(M_.alloc(nr * nr, "SPSVM: Newton matrix products", msg));
    DSDK_SVM_TRY(v_.alloc(nr, "SPSVM: Newton vector products", msg));
    // Split-K partial sums: enough for ~2 blocks per SM on any current GPU
    // (a few hundred 128 x 128 tiles) plus two slices of the largest matrix.
    DSDK_SVM_TRY(split_.alloc((size_t(1) << 23) + 2 * nr * nr, "SPSVM: split-K workspace", msg));
    DSDK_SVM_TRY(gram_.alloc(size_t(spsvm::kMaxPerRound) * nr, "SPSVM: basis kernel", msg));
    DSDK_SVM_TRY(dir_dev_.alloc(nr, "SPSVM: Newton direction", msg));
    DSDK_SVM_TRY(basis_dev_.alloc(nr, "SPSVM: basis", msg));
    DSDK_SVM_TRY(cand_dev_.alloc(kappa, "SPSVM: candidates", msg));
    DSDK_SVM_TRY(self_.alloc(2 * kappa, "SPSVM: candidate scores", msg));
    chunks_ = int(std::min<int64_t>(kMaxSumChunks, svm::ceil_div(n_, 4 * kThreads)));
    DSDK_SVM_TRY(row_part_.alloc(std::max(kappa, nr) * size_t(chunks_) * 3, "SPSVM: row sums", msg));
    DSDK_SVM_TRY(part_.alloc(size_t(grid_) * 2, "SPSVM: block sums", msg));
    if (stride_ > 1) {
      DSDK_SVM_TRY(sub_idx_.alloc(size_t(nsub_), "SPSVM: scoring points", msg));
      std::vector<int32_t> sub(static_cast<size_t>(nsub_));
      for (int64_t q = 0; q < nsub_; ++q) sub[size_t(q)] = int32_t(q * stride_);
      DSDK_SVM_TRY(to_device(sub_idx_.get(), sub.data(), sub.size(), "SPSVM: scoring points", msg));
      DSDK_SVM_TRY(sync("SPSVM: scoring points", msg));  // `sub` is freed on return
    }
    DSDK_SVM_TRY(svm::exec_status(
        cub::DeviceSelect::Flagged(nullptr, select_bytes_, iota_.get(), active_.get(),
                                   act_idx_.get(), n_sel_.get(), int(n_)),
        "SPSVM: select workspace query", msg));
    return select_tmp_.alloc(select_bytes_, "SPSVM: select workspace", msg);
  }

  dsdkStatus_t sync(const char* what, std::string* msg) {
    return svm::exec_status(cudaStreamSynchronize(s_), what, msg);
  }
  template <class T>
  dsdkStatus_t to_host(T* dst, const T* src, size_t count, const char* what, std::string* msg) {
    return svm::exec_status(
        cudaMemcpyAsync(dst, src, count * sizeof(T), cudaMemcpyDeviceToHost, s_), what, msg);
  }
  // Pageable source: the copy is staged before the call returns, so the host
  // buffer may change right after.
  template <class T>
  dsdkStatus_t to_device(T* dst, const T* src, size_t count, const char* what,
                         std::string* msg) {
    return svm::exec_status(
        cudaMemcpyAsync(dst, src, count * sizeof(T), cudaMemcpyHostToDevice, s_), what, msg);
  }

  // sums_[3 r + {0, 1, 2}] = row_sums_kernel's sums of row r < count of
  // `rows` (len elements each, ld apart, element q at point q * stride); synchronises.
  dsdkStatus_t row_sums(const float* rows, int64_t len, int64_t stride, int64_t ld, int count,
                        std::string* msg) {
    const int64_t chunk = svm::ceil_div(len, chunks_);
    for (int r0 = 0; r0 < count; r0 += 65535) {  // grid.y <= 65535 rows per launch
      const int rc = std::min(count - r0, 65535);
      row_sums_kernel<<<dim3(unsigned(chunks_), unsigned(rc)), kThreads, 0, s_>>>(
          len, chunk, stride, rows + int64_t(r0) * ld, ld, y_, cw_.get(), o_.get(),
          row_part_.get() + size_t(r0) * size_t(chunks_) * 3);
      DSDK_SVM_TRY(launch_status("SPSVM: row sums", msg));
    }
    std::vector<double> part(size_t(count) * size_t(chunks_) * 3);
    DSDK_SVM_TRY(to_host(part.data(), row_part_.get(), part.size(), "SPSVM: row sums", msg));
    DSDK_SVM_TRY(sync("SPSVM: row sums", msg));
    sums_.assign(size_t(count) * 3, 0.0);
    for (int r = 0; r < count; ++r)
      for (int q = 0; q < chunks_; ++q)
        for (int j = 0; j < 3; ++j) sums_[size_t(3 * r + j)] += part[(size_t(r) * chunks_ + q) * 3 + j];
    return DSDK_STATUS_SUCCESS;
  }

  // out = the two per-block sums of part_, added in block order; synchronises.
  dsdkStatus_t block_sums(double out[2], const char* what, std::string* msg) {
    std::vector<double> part(size_t(grid_) * 2);
    DSDK_SVM_TRY(to_host(part.data(), part_.get(), part.size(), what, msg));
    DSDK_SVM_TRY(sync(what, msg));
    out[0] = out[1] = 0.0;
    for (unsigned b = 0; b < grid_; ++b) {
      out[0] += part[2 * size_t(b)];
      out[1] += part[2 * size_t(b) + 1];
    }
    return DSDK_STATUS_SUCCESS;
  }

  // idx = the points whose flag is set, *count of them.
  dsdkStatus_t select(const uint8_t* flags, int32_t* idx, int* count, std::string* msg) {
    size_t bytes = select_bytes_;
    DSDK_SVM_TRY(svm::exec_status(
        cub::DeviceSelect::Flagged(select_tmp_.get(), bytes, iota_.get(), flags, idx,
                                   n_sel_.get(), int(n_), s_),
        "SPSVM: select points", msg));
    DSDK_SVM_TRY(to_host(count, n_sel_.get(), 1, "SPSVM: select points", msg));
    return sync("SPSVM: select points", msg);
  }

  // hM_ (rows x cols) = sum_q w_q A[r, i_q] R[a, i_q], hv_ (rows) = sum_q w_q A[r, i_q] y_{i_q}
  // over the cnt points idx (w = weights[i]); A: rows rows of n floats.
  dsdkStatus_t products(int64_t rows, int64_t cols, const float* A, const int32_t* idx, int cnt,
                        const float* weights, std::string* msg) {
    hM_.assign(size_t(rows * cols), 0.f);
    hv_.assign(size_t(rows), 0.f);
    if (cnt == 0) return DSDK_STATUS_SUCCESS;
    svm::GemmOperand a, r, yrow;
    a.data = A;
    a.ld = n_;
    r.data = R_.get();
    r.ld = n_;
    yrow.data = yf_.get();
    yrow.ld = n_;
    DSDK_SVM_TRY(svm::launch_gemm_nt(rows, cols, cnt, a, r, idx, weights, 1.f, 0.f, M_.get(), cols,
                                     split_.get(), split_.size(), s_, msg));
    DSDK_SVM_TRY(svm::launch_gemm_nt(rows, 1, cnt, a, yrow, idx, weights, 1.f, 0.f, v_.get(), 1,
                                     split_.get(), split_.size(), s_, msg));
    DSDK_SVM_TRY(to_host(hM_.data(), M_.get(), hM_.size(), "SPSVM: Newton matrix", msg));
    DSDK_SVM_TRY(to_host(hv_.data(), v_.get(), hv_.size(), "SPSVM: Newton matrix", msg));
    return sync("SPSVM: Newton matrix", msg);
  }

  const SVMParams& p_;
  int64_t n_, d_;
  const float* X_;
  const int32_t* y_;
  cudaStream_t s_;
  KernelFn<float> kf_;
  int64_t cap_, stride_, nsub_;
  unsigned grid_;
  int chunks_ = 1;
  size_t select_bytes_ = 0;
  std::vector<int32_t> ids_;
  std::vector<double> sums_;
  std::vector<float> hM_, hv_;

  DeviceBuffer<float> R_, Kc_, cw_, yf_, sw_, M_, v_, split_;
  DeviceBuffer<double> o_, df_, gram_, dir_dev_, self_, row_part_, part_;
  DeviceBuffer<int32_t> iota_, act_idx_, n_sel_, basis_dev_, cand_dev_, sub_idx_;
  DeviceBuffer<uint8_t> active_, changed_, select_tmp_;
};

#undef GRID_STRIDE

}  // namespace

dsdkStatus_t svm_spsvm_train(const SVMParams& p, int64_t n, int64_t d, const float* X,
                             const int32_t* y, int host_threads, void* stream, SVMResult* out,
                             std::string* msg) {
  (void)cudaGetLastError();  // a stale error from unrelated work is not ours
  if (n > int64_t(INT32_MAX)) {
    if (msg) *msg = "SPSVM: n exceeds 2^31 - 1 samples (int32 sample indices)";
    return DSDK_STATUS_NOT_SUPPORTED;
  }
  const cudaStream_t s = static_cast<cudaStream_t>(stream);
  DSDK_SVM_TRY(svm::check_training_data(n, d, X, y, s, msg));
  CudaBackend backend(p, n, d, X, y, s);
  spsvm::Driver<CudaBackend> driver(
      p, &backend,
      spsvm::Factorizer{cpu::cholesky_border, cpu::cholesky_solve, std::max(1, host_threads)});
  return driver.run(out, msg);
}

}  // namespace cuda
}  // namespace dsdk
