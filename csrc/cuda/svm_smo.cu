// The CUDA backend of the SMO driver (core/svm_smo_driver.h), in the style of
// ThunderSVM (Wen et al., JMLR 2018): every outer iteration takes the driver's
// working set of q variables, computes the kernel rows it lacks by GEMM, solves
// the q-variable subproblem with LIBSVM's WSS3 SMO inside one thread block, and
// then updates the gradient of all n variables.
//
// Working set: the driver's (core/svm_smo_working_set.h, the CPU's rule). Each
// of the q row slots holds the kernel row of the sample last computed there;
// a member whose row is still in a slot keeps it (the kept half of the set, as
// in ThunderSVM), and the new members' rows are computed into the free slots,
// one GEMM per run of consecutive slots (one run in an ordinary round).
//
// Precision: kernel values are float32 (as the data); alpha and the gradient
// are float64, like LIBSVM, because the gradient accumulates over the run.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/svm_backends.h"
#include "core/svm_smo_driver.h"
#include "core/svm_wss.h"
#include "cuda/svm_common.cuh"

namespace dsdk {
namespace cuda {
namespace {

using svm::ArgBest;
using svm::DeviceBuffer;

constexpr double kInf = __builtin_huge_val();
constexpr int kThreads = 256;
constexpr int kMaxQ = 1024;  // the subproblem is one block, one thread per variable

// State the host reads after every outer iteration (one small copy): the
// optimality gap as ordered keys of max_{I_up} -yG and min_{I_low} -yG
// (0 and ~0 mean "set empty"), and the SMO steps of the last subproblem.
struct SmoStatus {
  unsigned long long up_key;
  unsigned long long low_key;
  long long steps;
};

__global__ void init_kernel(int64_t n, double* alpha, double* G) {
  for (int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; t < n;
       t += int64_t(gridDim.x) * blockDim.x) {
    alpha[t] = 0.0;
    G[t] = -1.0;  // G = Q alpha - e at alpha = 0
  }
}

// Exclusive rank of this thread's flag among the set flags of the block, and
// their total. Contains __syncthreads(); blockDim.x a multiple of 32.
__device__ int block_flag_scan(bool flag, int* total, int* s_warp /* 33 */) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int nwarps = blockDim.x >> 5;
  const unsigned bits = __ballot_sync(0xffffffffu, flag);
  const int in_warp = __popc(bits & ((1u << lane) - 1u));
  if (lane == 0) s_warp[warp] = __popc(bits);
  __syncthreads();
  if (warp == 0) {
    const int v = lane < nwarps ? s_warp[lane] : 0;
    int incl = v;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
      const int u = __shfl_up_sync(0xffffffffu, incl, o);
      if (lane >= o) incl += u;
    }
    s_warp[lane] = incl - v;  // every lane read its entry before the shuffles
    if (lane == 31) s_warp[32] = incl;
  }
  __syncthreads();
  const int rank = s_warp[warp] + in_warp;
  *total = s_warp[32];
  __syncthreads();
  return rank;
}

// Ksub[p, r] = K(x_ws[p], x_ws[r]) taken from the kernel rows (the row of
// ws[p] is in slot[p]), so that the subproblem reads its m x m matrix
// contiguously.
__global__ void gather_sub_kernel(int m, int64_t n, const int32_t* ws, const int32_t* slot,
                                  const float* rows, float* Ksub) {
  const int64_t mm = int64_t(m) * m;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < mm;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = e / m, r = e % m;
    Ksub[e] = rows[int64_t(slot[p]) * n + ws[r]];
  }
}

// The m-variable subproblem: LIBSVM's SMO with WSS3 over the working set,
// thread r owning variable ws[r], until smo_local_done. Ties go to the lower
// position, as on the CPU.
// Writes alpha, delta[r] = y_r * (alpha_new - alpha_old), the step count, and
// resets the gap keys for update_gradient_kernel.
__global__ void __launch_bounds__(kMaxQ)
    local_smo_kernel(int m, const int32_t* ws, const int32_t* y, double* alpha, const double* G,
                     const float* Ksub, const double* Cs, double tol, long long max_steps,
                     bool whole, double* delta, SmoStatus* status) {
  __shared__ ArgBest s_arg[33];
  __shared__ double s_val[33];
  __shared__ double s_a[2], s_g[2], s_c[2], s_d;
  __shared__ int s_y[2];

  const int r = threadIdx.x;
  const bool valid = r < m;
  const int32_t t = valid ? ws[r] : 0;
  const int yr = valid ? y[t] : 1;
  const double C = valid ? Cs[t] : 0.0;
  double a = valid ? alpha[t] : 0.0;
  double g = valid ? G[t] : 0.0;
  const double a0 = a;
  const double Krr = valid ? double(Ksub[int64_t(r) * m + r]) : 0.0;

  double local_eps = 0.0;
  long long steps = 0;
  for (;;) {
    const double f = -double(yr) * g;
    const bool in_low = valid && smo_in_low(yr, a, C);
    ArgBest up{valid && smo_in_up(yr, a, C) ? f : -kInf, r};
    up = svm::block_reduce(up, svm::MaxArg(), ArgBest{-kInf, INT_MAX}, s_arg);
    const double low = svm::block_reduce(in_low ? f : kInf, svm::MinOp(), kInf, s_val);
    const double gap = up.v - low;
    if (steps == 0) local_eps = smo_local_eps(tol, gap, whole);
    if (smo_local_done(gap, local_eps, steps, max_steps)) break;

    const int i = up.i;
    const float* Ki = Ksub + int64_t(i) * m;
    const double Kii = Ki[i];
    ArgBest cand{kInf, INT_MAX};
    if (in_low && f < up.v) cand = ArgBest{wss3_score(up.v, f, Kii, Krr, double(Ki[r])), r};
    cand = svm::block_reduce(cand, svm::MinArg(), ArgBest{kInf, INT_MAX}, s_arg);
    if (cand.i == INT_MAX) break;  // no j with b > 0: cannot happen while gap > 0
    const int j = cand.i;
    const float* Kj = Ksub + int64_t(j) * m;

    if (r == i || r == j) {
      const int s = r == i ? 0 : 1;
      s_a[s] = a;
      s_g[s] = g;
      s_c[s] = C;
      s_y[s] = yr;
    }
    __syncthreads();
    if (r == 0) {
      double ai = s_a[0], aj = s_a[1];
      s_d = smo_pair_step(s_y[0], s_y[1], s_g[0], s_g[1], Kii, double(Kj[j]), double(Ki[j]),
                          s_c[0], s_c[1], &ai, &aj);
      s_a[0] = ai;
      s_a[1] = aj;
    }
    __syncthreads();
    const double dstep = s_d;
    if (!(dstep > 0.0)) break;  // uniform: every thread read the same s_d
    if (r == i) a = s_a[0];
    if (r == j) a = s_a[1];
    if (valid) g += double(yr) * dstep * (double(Ki[r]) - double(Kj[r]));
    ++steps;
    // s_a/s_g/s_d are rewritten only after the next reductions' barriers.
  }

  if (valid) {
    alpha[t] = a;
    delta[r] = double(yr) * (a - a0);
  }
  if (r == 0) {
    status->steps = steps;
    status->up_key = 0ull;
    status->low_key = ~0ull;
  }
}

// G_t += y_t sum_p delta[p] K(x_ws[p], x_t) over all t (p ascending, the CPU's
// order), then the optimality gap of the new point into status (grid-wide
// atomics on ordered keys). Each block first lists the variables that moved, so
// that only their rows (slot[p]) are read.
__global__ void __launch_bounds__(kThreads)
    update_gradient_kernel(int64_t n, int m, const double* delta, const int32_t* slot,
                           const float* rows, const int32_t* y, const double* alpha, double* G,
                           const double* C, SmoStatus* status) {
  __shared__ double s_delta[kMaxQ];
  __shared__ int s_slot[kMaxQ];
  __shared__ int s_warp[33];
  __shared__ double s_val[33];
  int moved = 0;
  for (int base = 0; base < m; base += blockDim.x) {
    const int p = base + threadIdx.x;
    const double dp = p < m ? delta[p] : 0.0;
    int total;
    const int rank = block_flag_scan(dp != 0.0, &total, s_warp);
    if (dp != 0.0) {
      s_slot[moved + rank] = slot[p];
      s_delta[moved + rank] = dp;
    }
    moved += total;
  }
  __syncthreads();
  double up = -kInf, low = kInf;
  for (int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; t < n;
       t += int64_t(gridDim.x) * blockDim.x) {
    double acc = 0.0;
    for (int k = 0; k < moved; ++k) acc += s_delta[k] * double(rows[int64_t(s_slot[k]) * n + t]);
    const int yt = y[t];
    const double g = G[t] + double(yt) * acc;
    G[t] = g;
    const double f = -double(yt) * g, a = alpha[t];
    if (smo_in_up(yt, a, C[t])) up = fmax(up, f);
    if (smo_in_low(yt, a, C[t])) low = fmin(low, f);
  }
  up = svm::block_reduce(up, svm::MaxOp(), -kInf, s_val);
  low = svm::block_reduce(low, svm::MinOp(), kInf, s_val);
  if (threadIdx.x == 0) {
    if (up > -kInf) atomicMax(&status->up_key, svm::ordered_key(up));
    if (low < kInf) atomicMin(&status->low_key, svm::ordered_key(low));
  }
}

double decode_up(unsigned long long k) { return k == 0ull ? -kInf : svm::key_to_double(k); }
double decode_low(unsigned long long k) { return k == ~0ull ? kInf : svm::key_to_double(k); }

// The CUDA primitives of the SMO driver (core/svm_smo_driver.h): every buffer
// on the device, float32 kernel rows, float64 alpha and gradient; each round is
// queued on the stream, and status() and host_state() wait for it.
class SmoCuda {
 public:
  SmoCuda(const SVMParams& p, int64_t n, int64_t d, const float* X, const int32_t* y,
          cudaStream_t s)
      : n_(n), d_(d), X_(X), y_(y), kf_{p.kernel, float(p.gamma), float(p.coef0), p.degree},
        grid_(svm::grid_for(n, kThreads)), s_(s) {}

  dsdkStatus_t host_labels(const int32_t** y, std::string* msg) {
    yh_.resize(size_t(n_));
    DSDK_SVM_TRY(svm::exec_status(cudaMemcpyAsync(yh_.data(), y_, yh_.size() * sizeof(int32_t),
                                                  cudaMemcpyDeviceToHost, s_),
                                  "SMO: copy labels", msg));
    DSDK_SVM_TRY(svm::exec_status(cudaStreamSynchronize(s_), "SMO: copy labels", msg));
    *y = yh_.data();
    return DSDK_STATUS_SUCCESS;
  }

  // At most kMaxQ (the subproblem is one block); an automatic q also keeps its
  // q x n kernel rows within half of the free device memory.
  int64_t max_working_set(int64_t n, bool automatic) const {
    int64_t cap = kMaxQ;
    if (!automatic) return cap;
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) {
      const int64_t fit = int64_t(0.5 * double(free_b) / (double(n) * sizeof(float)));
      cap = std::min(cap, std::max<int64_t>(4, fit));
    } else {
      (void)cudaGetLastError();
    }
    return cap;
  }

  dsdkStatus_t start(const double* C, int64_t q, std::string* msg) {
    q_ = int(q);
    slot_of_.assign(size_t(n_), -1);
    slot_sample_.assign(size_t(q_), -1);
    DSDK_SVM_TRY(alloc(msg));
    DSDK_SVM_TRY(svm::exec_status(
        cudaMemcpyAsync(C_.get(), C, C_.bytes(), cudaMemcpyHostToDevice, s_), "SMO: copy C", msg));
    init_kernel<<<grid_, kThreads, 0, s_>>>(n_, alpha_.get(), G_.get());
    DSDK_SVM_TRY(launch_status("SMO: init", msg));
    // Gap at alpha = 0: the gradient pass with no moved variable (q = 0).
    DSDK_SVM_TRY(svm::exec_status(cudaMemsetAsync(status_.get(), 0, sizeof(SmoStatus), s_),
                                  "SMO: reset status", msg));
    DSDK_SVM_TRY(svm::exec_status(cudaMemsetAsync(&status_.get()->low_key, 0xff, 8, s_),
                                  "SMO: reset gap", msg));
    update_gradient_kernel<<<grid_, kThreads, 0, s_>>>(n_, 0, delta_.get(), plan_slot(),
                                                       rows_.get(), y_, alpha_.get(), G_.get(),
                                                       C_.get(), status_.get());
    return launch_status("SMO: initial gap", msg);
  }

  dsdkStatus_t status(SmoRoundStatus* rs, std::string* msg) {
    SmoStatus h{};
    DSDK_SVM_TRY(svm::exec_status(
        cudaMemcpyAsync(&h, status_.get(), sizeof h, cudaMemcpyDeviceToHost, s_),
        "SMO: read status", msg));
    DSDK_SVM_TRY(svm::exec_status(cudaStreamSynchronize(s_), "SMO: outer iteration", msg));
    rs->gap = decode_up(h.up_key) - decode_low(h.low_key);
    rs->steps = h.steps;
    return DSDK_STATUS_SUCCESS;
  }

  dsdkStatus_t host_state(const double** alpha, const double** G, std::string* msg) {
    alpha_h_.resize(size_t(n_));
    G_h_.resize(size_t(n_));
    DSDK_SVM_TRY(svm::exec_status(cudaMemcpyAsync(alpha_h_.data(), alpha_.get(), alpha_.bytes(),
                                                  cudaMemcpyDeviceToHost, s_),
                                  "SMO: copy alpha", msg));
    DSDK_SVM_TRY(svm::exec_status(
        cudaMemcpyAsync(G_h_.data(), G_.get(), G_.bytes(), cudaMemcpyDeviceToHost, s_),
        "SMO: copy gradient", msg));
    DSDK_SVM_TRY(svm::exec_status(cudaStreamSynchronize(s_), "SMO: copy iterate", msg));
    *alpha = alpha_h_.data();
    *G = G_h_.data();
    return DSDK_STATUS_SUCCESS;
  }

  // Slots on the host: members whose row is in a slot keep it, the others take
  // the free slots in ascending order (the row last computed there is dropped).
  // The plan goes to the device in one copy: ws, slot per position, and the
  // sample per slot that the GEMM runs read.
  dsdkStatus_t use_working_set(const int64_t* ws, int64_t m, std::string* msg) {
    m_ = int(m);
    int32_t* plan_ws = plan_h_.data();
    int32_t* plan_slot = plan_ws + q_;
    int32_t* plan_rows = plan_slot + q_;
    slot_used_.assign(size_t(q_), 0);
    for (int u = 0; u < m_; ++u) {
      const int32_t t = int32_t(ws[u]), s = slot_of_[size_t(t)];
      plan_ws[u] = t;
      plan_slot[u] = s;
      if (s >= 0) slot_used_[size_t(s)] = 1;
    }
    slot_fresh_.assign(size_t(q_), 0);
    int free_slot = 0;
    for (int u = 0; u < m_; ++u) {
      if (plan_slot[u] >= 0) continue;
      while (slot_used_[size_t(free_slot)]) ++free_slot;  // m <= q: one is free
      const int32_t t = plan_ws[u], old = slot_sample_[size_t(free_slot)];
      if (old >= 0) slot_of_[size_t(old)] = -1;
      slot_sample_[size_t(free_slot)] = t;
      slot_of_[size_t(t)] = free_slot;
      slot_used_[size_t(free_slot)] = 1;
      slot_fresh_[size_t(free_slot)] = 1;
      plan_slot[u] = free_slot;
      plan_rows[free_slot] = t;
    }
    runs_.clear();
    for (int s = 0; s < q_; ++s) {
      if (!slot_fresh_[size_t(s)]) continue;
      if (!runs_.empty() && runs_.back().first + runs_.back().second == s)
        ++runs_.back().second;
      else
        runs_.push_back({s, 1});
    }
    return svm::exec_status(cudaMemcpyAsync(plan_.get(), plan_h_.data(), plan_.bytes(),
                                            cudaMemcpyHostToDevice, s_),
                            "SMO: copy working set", msg);
  }

  dsdkStatus_t kernel_rows(std::string* msg) {
    svm::GemmOperand A, B;
    A.data = X_;
    A.ld = d_;
    B.data = X_;
    B.ld = d_;
    for (const auto& run : runs_) {
      A.rows = plan_.get() + 2 * q_ + run.first;
      DSDK_SVM_TRY(svm::launch_kernel_gemm(kf_, run.second, n_, d_, A, B,
                                           rows_.get() + int64_t(run.first) * n_, n_, s_, msg));
    }
    gather_sub_kernel<<<svm::grid_for(int64_t(m_) * m_, kThreads), kThreads, 0, s_>>>(
        m_, n_, plan_.get(), plan_slot(), rows_.get(), Ksub_.get());
    return launch_status("SMO: gather working-set kernel", msg);
  }

  dsdkStatus_t local_smo(double tol, int64_t cap, bool whole, std::string* msg) {
    const int sub_threads = (m_ + 31) / 32 * 32;
    local_smo_kernel<<<1, sub_threads, 0, s_>>>(m_, plan_.get(), y_, alpha_.get(), G_.get(),
                                                Ksub_.get(), C_.get(), tol, cap, whole,
                                                delta_.get(), status_.get());
    return launch_status("SMO: subproblem", msg);
  }

  dsdkStatus_t update_gradient(std::string* msg) {
    update_gradient_kernel<<<grid_, kThreads, 0, s_>>>(n_, m_, delta_.get(), plan_slot(),
                                                       rows_.get(), y_, alpha_.get(), G_.get(),
                                                       C_.get(), status_.get());
    return launch_status("SMO: gradient update", msg);
  }

 private:
  dsdkStatus_t alloc(std::string* msg) {
    const size_t un = size_t(n_), uq = size_t(q_);
    plan_h_.assign(3 * uq, 0);
    DSDK_SVM_TRY(alpha_.alloc(un, "SMO: alpha", msg));
    DSDK_SVM_TRY(G_.alloc(un, "SMO: gradient", msg));
    DSDK_SVM_TRY(C_.alloc(un, "SMO: bounds C", msg));
    DSDK_SVM_TRY(plan_.alloc(3 * uq, "SMO: working set", msg));
    DSDK_SVM_TRY(delta_.alloc(uq, "SMO: alpha steps", msg));
    DSDK_SVM_TRY(rows_.alloc(uq * un, "SMO: kernel rows (q x n floats)", msg));
    DSDK_SVM_TRY(Ksub_.alloc(uq * uq, "SMO: working-set kernel", msg));
    return status_.alloc(1, "SMO: status", msg);
  }
  const int32_t* plan_slot() const { return plan_.get() + q_; }

  int64_t n_, d_;
  const float* X_;
  const int32_t* y_;
  KernelFn<float> kf_;
  unsigned grid_;
  cudaStream_t s_;
  int q_ = 2, m_ = 0;
  DeviceBuffer<double> alpha_, G_, C_, delta_;
  DeviceBuffer<int32_t> plan_;  // ws (q), slot per position (q), sample per slot (q)
  DeviceBuffer<float> rows_, Ksub_;  // q slots of n; m x m
  DeviceBuffer<SmoStatus> status_;
  std::vector<int32_t> yh_, plan_h_;
  std::vector<int32_t> slot_of_, slot_sample_;  // sample -> slot, slot -> sample (-1: none)
  std::vector<char> slot_used_, slot_fresh_;  // per slot, this round
  std::vector<std::pair<int, int>> runs_;  // (first slot, count) of rows to compute
  std::vector<double> alpha_h_, G_h_;
};

}  // namespace

dsdkStatus_t svm_smo_train(const SVMParams& p, int64_t n, int64_t d, const float* X,
                           const int32_t* y, void* stream, SVMResult* out, std::string* msg) {
  (void)cudaGetLastError();  // a stale error from unrelated work is not ours
  if (n > int64_t(INT32_MAX)) {
    if (msg) *msg = "SMO: n exceeds 2^31 - 1 samples (int32 sample indices)";
    return DSDK_STATUS_NOT_SUPPORTED;
  }
  const cudaStream_t s = static_cast<cudaStream_t>(stream);
  DSDK_SVM_TRY(svm::check_training_data(n, d, X, y, s, msg));
  SmoCuda backend(p, n, d, X, y, s);
  return smo_solve(backend, p, n, out, msg);
}

}  // namespace cuda
}  // namespace dsdk
