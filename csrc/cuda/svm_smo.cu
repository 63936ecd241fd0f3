// The CUDA backend of the SMO driver (core/svm_smo_driver.h), in the style of
// ThunderSVM (Wen et al., JMLR 2018): every outer iteration picks q variables
// by their violation of the optimality conditions, computes their q kernel rows
// with one GEMM, solves the q-variable subproblem with LIBSVM's WSS3 SMO inside
// one thread block, and then updates the gradient of all n variables.
//
// Working set: the first iteration takes q fresh variables (q/2 of the most
// violating in I_up, the rest from I_low). After that half of the set is kept
// (the half chosen most recently, whose kernel rows stay in their slot of the
// row buffer) and q/2 fresh ones replace the older half. Because the kept half
// is excluded from the fresh pick but still in the set, the globally most
// violating pair is always in the working set, so every outer iteration makes
// progress (a round that still takes no step is followed by a fresh set, as
// on the CPU). With q < 4 there is no half to keep and all q are picked afresh.
//
// Precision: kernel values are float32 (as the data); alpha and the gradient
// are float64, like LIBSVM, because the gradient accumulates over the run.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <vector>

#include <cub/device/device_radix_sort.cuh>

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

// Sort input: key -y_t G_t (float64, so the order is exactly the one the
// gap and the subproblem see), value t.
__global__ void sort_keys_kernel(int64_t n, const int32_t* y, const double* G, double* keys,
                                 int32_t* idx) {
  for (int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; t < n;
       t += int64_t(gridDim.x) * blockDim.x) {
    keys[t] = -double(y[t]) * G[t];
    idx[t] = int32_t(t);
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

// Walks the sorted order (from the largest key when from_top) and appends to
// dst the first `target` samples that satisfy `pred` and are not marked in
// in_ws, marking them. Returns how many it appended.
template <class Pred>
__device__ int pick(int64_t n, const int32_t* sorted, bool from_top, int target, Pred pred,
                    uint8_t* in_ws, int32_t* dst, int* s_warp) {
  int count = 0;
  for (int64_t base = 0; base < n && count < target; base += blockDim.x) {
    const int64_t k = base + threadIdx.x;
    int32_t t = -1;
    bool ok = false;
    if (k < n) {
      t = sorted[from_top ? n - 1 - k : k];
      ok = !in_ws[t] && pred(t);
    }
    int total;
    const int rank = block_flag_scan(ok, &total, s_warp);
    if (ok && count + rank < target) {
      dst[count + rank] = t;
      in_ws[t] = 1;
    }
    count += total < target - count ? total : target - count;
    __syncthreads();  // the marks and slots written above are seen by all
  }
  return count;
}

// One block. Fills the fresh part of the working set: all q slots when
// `fresh_all`, else the q/2 slots of half `slot_new` (the older half), as the
// CPU solver does: the most violating of I_up and of I_low that are not in the
// kept half, then (when one side runs short) more of the other side, then the
// older members that are still not taken; -1 where nothing is left.
// in_ws is all zero on entry and on exit.
constexpr int kSelectThreads = 1024;
__global__ void __launch_bounds__(kSelectThreads)
    select_kernel(int64_t n, const int32_t* sorted, const int32_t* y, const double* alpha,
                  const double* C, int32_t* ws, int q, int fresh_all, int slot_new,
                  uint8_t* in_ws) {
  __shared__ int s_warp[33];
  const int h = q / 2;
  int32_t* dst = fresh_all ? ws : ws + slot_new * h;
  const int n_new = fresh_all ? q : h;
  if (!fresh_all) {
    const int32_t* kept = ws + (1 - slot_new) * h;
    for (int p = threadIdx.x; p < h; p += blockDim.x)
      if (kept[p] >= 0) in_ws[kept[p]] = 1;
  }
  // The older members, read before the picks overwrite their slots.
  int32_t older[(kMaxQ / 2 + kSelectThreads - 1) / kSelectThreads];
  for (int k = 0, p = threadIdx.x; p < h; ++k, p += blockDim.x)
    older[k] = fresh_all ? -1 : dst[p];
  __syncthreads();
  auto up = [&](int32_t t) { return smo_in_up(y[t], alpha[t], C[t]); };
  auto low = [&](int32_t t) { return smo_in_low(y[t], alpha[t], C[t]); };
  // Largest -yG in I_up, smallest -yG in I_low. A sample in both sets (free)
  // goes to the side that reaches it first.
  int got = pick(n, sorted, true, n_new / 2, up, in_ws, dst, s_warp);
  got += pick(n, sorted, false, n_new - got, low, in_ws, dst + got, s_warp);
  got += pick(n, sorted, true, n_new - got, up, in_ws, dst + got, s_warp);
  // Slots [got, n_new) were not written. Each older member lands in the slot
  // it already had when that slot is still free (its row is recomputed).
  for (int k = 0, p = threadIdx.x; p < h; ++k, p += blockDim.x) {
    if (p < got) continue;
    const int32_t t = older[k];
    dst[p] = (t >= 0 && !in_ws[t]) ? t : -1;
  }
  for (int p = h + threadIdx.x; p < n_new; p += blockDim.x)
    if (p >= got) dst[p] = -1;
  __syncthreads();
  for (int p = threadIdx.x; p < q; p += blockDim.x)
    if (ws[p] >= 0) in_ws[ws[p]] = 0;
}

// Ksub[p, r] = K(x_ws[p], x_ws[r]) taken from the kernel rows, so that the
// subproblem reads its q x q matrix contiguously.
__global__ void gather_sub_kernel(int q, int64_t n, const int32_t* ws, const float* rows,
                                  float* Ksub) {
  const int64_t qq = int64_t(q) * q;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < qq;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = e / q, r = e % q;
    const int32_t tp = ws[p], tr = ws[r];
    Ksub[e] = (tp >= 0 && tr >= 0) ? rows[p * n + tr] : 0.f;
  }
}

// The q-variable subproblem: LIBSVM's SMO with WSS3 over the working set,
// thread r owning variable ws[r], until smo_local_done.
// Writes alpha, delta[r] = y_r * (alpha_new - alpha_old), the step count, and
// resets the gap keys for update_gradient_kernel.
__global__ void __launch_bounds__(kMaxQ)
    local_smo_kernel(int q, const int32_t* ws, const int32_t* y, double* alpha, const double* G,
                     const float* Ksub, const double* Cs, double tol, long long max_steps,
                     bool whole, double* delta, SmoStatus* status) {
  __shared__ ArgBest s_arg[33];
  __shared__ double s_val[33];
  __shared__ double s_a[2], s_g[2], s_c[2], s_d;
  __shared__ int s_y[2];

  const int r = threadIdx.x;
  const bool valid = r < q && ws[r] >= 0;
  const int32_t t = valid ? ws[r] : 0;
  const int yr = valid ? y[t] : 1;
  const double C = valid ? Cs[t] : 0.0;
  double a = valid ? alpha[t] : 0.0;
  double g = valid ? G[t] : 0.0;
  const double a0 = a;
  const double Krr = valid ? double(Ksub[int64_t(r) * q + r]) : 0.0;

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
    const float* Ki = Ksub + int64_t(i) * q;
    const double Kii = Ki[i];
    ArgBest cand{kInf, INT_MAX};
    if (in_low && f < up.v) cand = ArgBest{wss3_score(up.v, f, Kii, Krr, double(Ki[r])), r};
    cand = svm::block_reduce(cand, svm::MinArg(), ArgBest{kInf, INT_MAX}, s_arg);
    if (cand.i == INT_MAX) break;  // no j with b > 0: cannot happen while gap > 0
    const int j = cand.i;
    const float* Kj = Ksub + int64_t(j) * q;

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
  } else if (r < q) {
    delta[r] = 0.0;
  }
  if (r == 0) {
    status->steps = steps;
    status->up_key = 0ull;
    status->low_key = ~0ull;
  }
}

// G_t += y_t sum_p delta[p] K(x_ws[p], x_t) over all t, then the optimality
// gap of the new point into status (grid-wide atomics on ordered keys). Each
// block first lists the variables that moved, so that only their rows are read.
__global__ void __launch_bounds__(kThreads)
    update_gradient_kernel(int64_t n, int q, const double* delta, const float* rows,
                           const int32_t* y, const double* alpha, double* G, const double* C,
                           SmoStatus* status) {
  __shared__ double s_delta[kMaxQ];
  __shared__ int s_pos[kMaxQ];
  __shared__ int s_warp[33];
  __shared__ double s_val[33];
  int moved = 0;
  for (int base = 0; base < q; base += blockDim.x) {
    const int p = base + threadIdx.x;
    const double dp = p < q ? delta[p] : 0.0;
    int total;
    const int rank = block_flag_scan(dp != 0.0, &total, s_warp);
    if (dp != 0.0) {
      s_pos[moved + rank] = p;
      s_delta[moved + rank] = dp;
    }
    moved += total;
  }
  __syncthreads();
  double up = -kInf, low = kInf;
  for (int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; t < n;
       t += int64_t(gridDim.x) * blockDim.x) {
    double acc = 0.0;
    for (int k = 0; k < moved; ++k) acc += s_delta[k] * double(rows[int64_t(s_pos[k]) * n + t]);
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
// queued on the stream and status() is its one synchronisation.
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
    DSDK_SVM_TRY(alloc(msg));
    DSDK_SVM_TRY(svm::exec_status(
        cudaMemcpyAsync(C_.get(), C, C_.bytes(), cudaMemcpyHostToDevice, s_), "SMO: copy C", msg));
    init_kernel<<<grid_, kThreads, 0, s_>>>(n_, alpha_.get(), G_.get());
    DSDK_SVM_TRY(launch_status("SMO: init", msg));
    DSDK_SVM_TRY(svm::exec_status(cudaMemsetAsync(in_ws_.get(), 0, in_ws_.bytes(), s_),
                                  "SMO: clear marks", msg));
    // Gap at alpha = 0: the gradient pass with no moved variable (q = 0).
    DSDK_SVM_TRY(svm::exec_status(cudaMemsetAsync(status_.get(), 0, sizeof(SmoStatus), s_),
                                  "SMO: reset status", msg));
    DSDK_SVM_TRY(svm::exec_status(cudaMemsetAsync(&status_.get()->low_key, 0xff, 8, s_),
                                  "SMO: reset gap", msg));
    update_gradient_kernel<<<grid_, kThreads, 0, s_>>>(n_, 0, delta_.get(), rows_.get(), y_,
                                                       alpha_.get(), G_.get(), C_.get(),
                                                       status_.get());
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

  // Sorted by -yG, then the select kernel: all q slots fresh in the first
  // round, after a stalled one or for q < 4; otherwise the older half.
  dsdkStatus_t select(bool fresh, std::string* msg) {
    sort_keys_kernel<<<grid_, kThreads, 0, s_>>>(n_, y_, G_.get(), keys_in_.get(), idx_in_.get());
    DSDK_SVM_TRY(launch_status("SMO: sort keys", msg));
    size_t tmp = sort_tmp_bytes_;
    DSDK_SVM_TRY(svm::exec_status(
        cub::DeviceRadixSort::SortPairs(sort_tmp_.get(), tmp, keys_in_.get(), keys_out_.get(),
                                        idx_in_.get(), idx_out_.get(), int(n_), 0, 64, s_),
        "SMO: sort by violation", msg));
    fresh_all_ = fresh || q_ < 4 || round_ == 0;
    slot_new_ = int((round_ + 1) % 2);  // round 1 replaces half 0
    ++round_;
    select_kernel<<<1, kSelectThreads, 0, s_>>>(n_, idx_out_.get(), y_, alpha_.get(), C_.get(),
                                                ws_.get(), q_, fresh_all_ ? 1 : 0, slot_new_,
                                                in_ws_.get());
    return launch_status("SMO: select working set", msg);
  }

  // Rows only for the fresh slots: the kept half's rows are still in theirs.
  dsdkStatus_t kernel_rows(std::string* msg) {
    const int h = q_ / 2;
    const int first = fresh_all_ ? 0 : slot_new_ * h;
    const int count = fresh_all_ ? q_ : h;
    svm::GemmOperand A, B;
    A.data = X_;
    A.ld = d_;
    A.rows = ws_.get() + first;
    B.data = X_;
    B.ld = d_;
    DSDK_SVM_TRY(svm::launch_kernel_gemm(kf_, count, n_, d_, A, B,
                                         rows_.get() + int64_t(first) * n_, n_, s_, msg));
    gather_sub_kernel<<<svm::grid_for(int64_t(q_) * q_, kThreads), kThreads, 0, s_>>>(
        q_, n_, ws_.get(), rows_.get(), Ksub_.get());
    return launch_status("SMO: gather working-set kernel", msg);
  }

  dsdkStatus_t local_smo(double tol, int64_t cap, bool whole, std::string* msg) {
    const int sub_threads = (q_ + 31) / 32 * 32;
    local_smo_kernel<<<1, sub_threads, 0, s_>>>(q_, ws_.get(), y_, alpha_.get(), G_.get(),
                                                Ksub_.get(), C_.get(), tol, cap, whole,
                                                delta_.get(), status_.get());
    return launch_status("SMO: subproblem", msg);
  }

  dsdkStatus_t update_gradient(std::string* msg) {
    update_gradient_kernel<<<grid_, kThreads, 0, s_>>>(n_, q_, delta_.get(), rows_.get(), y_,
                                                       alpha_.get(), G_.get(), C_.get(),
                                                       status_.get());
    return launch_status("SMO: gradient update", msg);
  }

  dsdkStatus_t final_state(const double** alpha, const double** G, std::string* msg) {
    alpha_h_.resize(size_t(n_));
    G_h_.resize(size_t(n_));
    DSDK_SVM_TRY(svm::exec_status(cudaMemcpyAsync(alpha_h_.data(), alpha_.get(), alpha_.bytes(),
                                                  cudaMemcpyDeviceToHost, s_),
                                  "SMO: copy alpha", msg));
    DSDK_SVM_TRY(svm::exec_status(
        cudaMemcpyAsync(G_h_.data(), G_.get(), G_.bytes(), cudaMemcpyDeviceToHost, s_),
        "SMO: copy gradient", msg));
    DSDK_SVM_TRY(svm::exec_status(cudaStreamSynchronize(s_), "SMO: final copy", msg));
    *alpha = alpha_h_.data();
    *G = G_h_.data();
    return DSDK_STATUS_SUCCESS;
  }

 private:
  dsdkStatus_t alloc(std::string* msg) {
    const size_t un = size_t(n_), uq = size_t(q_);
    DSDK_SVM_TRY(alpha_.alloc(un, "SMO: alpha", msg));
    DSDK_SVM_TRY(G_.alloc(un, "SMO: gradient", msg));
    DSDK_SVM_TRY(C_.alloc(un, "SMO: bounds C", msg));
    DSDK_SVM_TRY(keys_in_.alloc(un, "SMO: sort keys", msg));
    DSDK_SVM_TRY(keys_out_.alloc(un, "SMO: sort keys", msg));
    DSDK_SVM_TRY(idx_in_.alloc(un, "SMO: sort values", msg));
    DSDK_SVM_TRY(idx_out_.alloc(un, "SMO: sort values", msg));
    DSDK_SVM_TRY(in_ws_.alloc(un, "SMO: working-set marks", msg));
    DSDK_SVM_TRY(ws_.alloc(uq, "SMO: working set", msg));
    DSDK_SVM_TRY(delta_.alloc(uq, "SMO: alpha steps", msg));
    DSDK_SVM_TRY(rows_.alloc(uq * un, "SMO: kernel rows (q x n floats)", msg));
    DSDK_SVM_TRY(Ksub_.alloc(uq * uq, "SMO: working-set kernel", msg));
    DSDK_SVM_TRY(status_.alloc(1, "SMO: status", msg));
    DSDK_SVM_TRY(svm::exec_status(
        cub::DeviceRadixSort::SortPairs(nullptr, sort_tmp_bytes_, keys_in_.get(), keys_out_.get(),
                                        idx_in_.get(), idx_out_.get(), int(n_)),
        "SMO: sort workspace query", msg));
    return sort_tmp_.alloc(sort_tmp_bytes_, "SMO: sort workspace", msg);
  }

  int64_t n_, d_;
  const float* X_;
  const int32_t* y_;
  KernelFn<float> kf_;
  unsigned grid_;
  cudaStream_t s_;
  int q_ = 2, slot_new_ = 0;
  bool fresh_all_ = true;
  int64_t round_ = 0;
  DeviceBuffer<double> alpha_, G_, C_, keys_in_, keys_out_, delta_;
  DeviceBuffer<int32_t> idx_in_, idx_out_, ws_;
  DeviceBuffer<uint8_t> in_ws_, sort_tmp_;
  DeviceBuffer<float> rows_, Ksub_;
  DeviceBuffer<SmoStatus> status_;
  size_t sort_tmp_bytes_ = 0;
  std::vector<int32_t> yh_;
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
