// Approximate kernel SVM by the sparse primal method of Keerthi, Chapelle and
// DeCoste (JMLR 2006) on the GPU:
//
//   min over beta, b of F = 1/2 beta' K_JJ beta + 1/2 sum_i C_i max(0, 1 - y_i o_i)^2,
//   o_i = sum_{k in J} beta_k K(x_i, x_k) + b,
//
// over a basis J of training points that grows greedily. Each round draws
// random candidates outside J, scores each by the decrease of F that a 1-D
// Newton step on its own coefficient would give, adds the best few, and takes
// Newton steps: H d = -grad F with H = diag(0, K_JJ) + Z_I' diag(C_I) Z_I over
// the active set I = {i : y_i o_i < 1}, Z_i = [1, K(x_i, x_J)] (the bias is the
// unregularised coefficient of a constant basis row of ones), each followed by
// an exact line search. The policy (basis size, candidates, growth per round,
// Newton steps, stopping) is the CPU solver's (csrc/cpu/svm_spsvm.cpp).
//
// The GPU does everything of size n: kernel rows of candidates and basis
// (kernel GEMM), H (a split-K GEMM over the active columns, float32), the
// gradient (float64 sums), outputs, active sets, candidate scores and
// line-search sums. The host solves the (|J|+1)-square system by Cholesky in
// float64 after copying H back: |J| is at most a few thousand, so that is
// O(|J|^3) on a small matrix against O(|J|^2 n) of GEMM on the device. H only
// has to approximate the Hessian: the gradient is exact, and the line search
// is exact along the direction, so float32 rounding in H costs steps, not
// accuracy.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include <cub/device/device_select.cuh>

#include "core/svm_backends.h"
#include "core/svm_spsvm_policy.h"
#include "cpu/cholesky.h"
#include "cpu/threads.h"
#include "cuda/svm_common.cuh"

namespace dsdk {
namespace cuda {
namespace {

using svm::DeviceBuffer;

constexpr int kThreads = 256;
using spsvm::kNewtonFinal;
using spsvm::kNewtonPerRound;
constexpr int kMaxLineSteps = 60;
constexpr int kMaxScoreChunks = 64;

#define GRID_STRIDE(t, n)                                                       \
  for (int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; t < (n); \
       t += int64_t(gridDim.x) * blockDim.x)

// Row 0 of the basis rows is the bias's constant row; o starts at 0, so every
// sample is active.
__global__ void prepare_kernel(int64_t n, const int32_t* y, double Cp, double Cn, float* ones,
                               float* cw, int32_t* iota, double* o, uint8_t* active) {
  GRID_STRIDE(t, n) {
    ones[t] = 1.f;
    cw[t] = float(y[t] > 0 ? Cp : Cn);
    iota[t] = int32_t(t);
    o[t] = 0.0;
    active[t] = 1;
  }
}

// out_t = sum_k beta[k] Kb[k, t] over the nr rows (bias row included).
__global__ void outputs_kernel(int64_t n, int nr, const float* Kb, const double* beta,
                               double* out) {
  GRID_STRIDE(t, n) {
    double acc = 0.0;
    for (int k = 0; k < nr; ++k) acc += beta[k] * double(Kb[int64_t(k) * n + t]);
    out[t] = acc;
  }
}

__global__ void step_outputs_kernel(int64_t n, double step, const double* delta, double* o) {
  GRID_STRIDE(t, n) o[t] += step * delta[t];
}

// Recomputes the active flags and counts how many changed.
__global__ void __launch_bounds__(kThreads)
    active_kernel(int64_t n, const int32_t* y, const double* o, uint8_t* active,
                  unsigned long long* flips) {
  __shared__ double s_val[33];
  double changed = 0.0;
  GRID_STRIDE(t, n) {
    const uint8_t now = double(y[t]) * o[t] < 1.0 ? 1 : 0;
    if (now != active[t]) changed += 1.0;
    active[t] = now;
  }
  changed = svm::block_reduce(changed, svm::SumOp(), 0.0, s_val);
  if (threadIdx.x == 0 && changed > 0.0)
    atomicAdd(flips, static_cast<unsigned long long>(changed));
}

// Along o(s) = o + s e, with A(s) the samples active at s: per block,
// P = sum_A C (o - y) e, Q = sum_A C e^2 and the loss
// L = 1/2 sum_A C (1 - y o(s))^2. The line derivative of F is then
// a0 + s a1 + P + s Q (a0, a1 from the regulariser, on the host).
__global__ void __launch_bounds__(kThreads)
    line_kernel(int64_t n, double s, const int32_t* y, const float* cw, const double* o,
                const double* delta, double* partial) {
  __shared__ double s_val[33];
  double P = 0.0, Q = 0.0, L = 0.0;
  GRID_STRIDE(t, n) {
    const double e = delta[t], yt = double(y[t]);
    const double m = 1.0 - yt * (o[t] + s * e);
    if (m > 0.0) {
      const double c = double(cw[t]);
      P += c * (o[t] - yt) * e;
      Q += c * e * e;
      L += 0.5 * c * m * m;
    }
  }
  P = svm::block_reduce(P, svm::SumOp(), 0.0, s_val);
  Q = svm::block_reduce(Q, svm::SumOp(), 0.0, s_val);
  L = svm::block_reduce(L, svm::SumOp(), 0.0, s_val);
  if (threadIdx.x == 0) {
    partial[3 * blockIdx.x + 0] = P;
    partial[3 * blockIdx.x + 1] = Q;
    partial[3 * blockIdx.x + 2] = L;
  }
}

// For row c = blockIdx.y of Kc over its chunk blockIdx.x of the samples:
// sum_I C_i (o_i - y_i) K_ci and sum_I C_i K_ci^2, the loss parts of the
// derivative and curvature of F in the coefficient of that row (candidate
// scores; with the basis rows, the gradient).
__global__ void __launch_bounds__(kThreads)
    score_partial_kernel(int64_t n, int64_t chunk, const float* Kc, const int32_t* y,
                         const float* cw, const double* o, double* partial) {
  __shared__ double s_val[33];
  const int c = blockIdx.y;
  const float* row = Kc + int64_t(c) * n;
  const int64_t begin = int64_t(blockIdx.x) * chunk;
  const int64_t end = begin + chunk < n ? begin + chunk : n;
  double g = 0.0, h = 0.0;
  for (int64_t t = begin + threadIdx.x; t < end; t += blockDim.x) {
    const double yt = double(y[t]);
    if (yt * o[t] < 1.0) {
      const double k = double(row[t]), ci = double(cw[t]);
      g += ci * (o[t] - yt) * k;
      h += ci * k * k;
    }
  }
  g = svm::block_reduce(g, svm::SumOp(), 0.0, s_val);
  h = svm::block_reduce(h, svm::SumOp(), 0.0, s_val);
  if (threadIdx.x == 0) {
    const int64_t at = (int64_t(c) * gridDim.x + blockIdx.x) * 2;
    partial[at] = g;
    partial[at + 1] = h;
  }
}

// The candidate's own parts: f(x_c) - b = K_cJ beta_J (the regulariser's
// slope) and K_cc.
__global__ void score_self_kernel(int64_t n, int nc, const float* Kc, const int32_t* cand,
                                  const double* o, double bias, double* out) {
  GRID_STRIDE(c, nc) {
    out[2 * c] = o[cand[c]] - bias;
    out[2 * c + 1] = double(Kc[c * n + cand[c]]);
  }
}

// KJJ[a, b] = K(x_J[a], x_J[b]) read from the basis rows, symmetrised:
// K(x_a, x_b) and K(x_b, x_a) may round differently, and the average of the
// two (the same float sum either way round) is exactly symmetric.
__global__ void gather_kjj_kernel(int64_t n, int nb, const float* Kbasis, const int32_t* basis,
                                  float* KJJ) {
  const int64_t total = int64_t(nb) * nb;
  GRID_STRIDE(e, total) {
    const int64_t a = e / nb, b = e % nb;
    KJJ[e] = 0.5f * (Kbasis[a * n + basis[b]] + Kbasis[b * n + basis[a]]);
  }
}

// Cholesky solve of the symmetric positive definite A x = b (lower triangle
// of the row-major m x m A), in float64 on the host (`threads` OpenMP
// threads), with the CPU solver's blocked factorisation: its trailing updates
// run as GEMMs, 0.11 s at |J| ~ 2300 on two cores, where an unblocked loop
// took 2 s per Newton step. Like the CPU solver, always
// adds a ridge of 1e-10 times the mean diagonal (the bias is unregularised)
// and retries with a 100x larger one while rounding (A was summed in float32)
// leaves it indefinite. L: the factor's storage, reused across calls.
bool cholesky_solve(const std::vector<double>& A, int m, const std::vector<double>& b,
                    int threads, std::vector<double>* L, std::vector<double>* x) {
  double mean_diag = 0.0;
  for (int i = 0; i < m; ++i) mean_diag += A[size_t(i) * m + i];
  mean_diag /= double(m);
  if (!(mean_diag > 0.0) || !std::isfinite(mean_diag)) mean_diag = 1.0;
  L->resize(A.size());
  double ridge = 1e-10 * mean_diag;
  for (int attempt = 0; attempt < 8; ++attempt, ridge *= 100.0) {
    for (int i = 0; i < m; ++i) {
      std::copy_n(&A[size_t(i) * m], i + 1, &(*L)[size_t(i) * m]);
      (*L)[size_t(i) * m + i] += ridge;
    }
    if (!cpu::cholesky_factor(L->data(), m, m, cpu::threads_for(int64_t(m) * m * m / 3, threads)))
      continue;
    x->assign(b.begin(), b.end());
    cpu::cholesky_solve(L->data(), m, m, x->data());
    return true;
  }
  return false;
}

class SpsvmSolver {
 public:
  SpsvmSolver(const SVMParams& p, int64_t n, int64_t d, const float* X, const int32_t* y,
              int host_threads, cudaStream_t s)
      : p_(p), n_(n), d_(d), X_(X), y_(y), s_(s), host_threads_(host_threads),
        kf_{p.kernel, float(p.gamma), float(p.coef0), p.degree}, rng_(p.seed) {
    mb_ = int(p.max_basis > 0 ? std::min<int64_t>(p.max_basis, n) : spsvm::auto_max_basis(n));
    kappa_max_ = int(std::min<int64_t>(spsvm::max_candidates(p.candidates), n));
    grid_ = svm::grid_for(n, kThreads);
    pool_.resize(size_t(n));
    std::iota(pool_.begin(), pool_.end(), int64_t(0));
    pos_ = pool_;
  }

  dsdkStatus_t run(SVMResult* out, std::string* msg) {
    DSDK_SVM_TRY(alloc(msg));
    prepare_kernel<<<grid_, kThreads, 0, s_>>>(n_, y_, p_.C * p_.weight_pos,
                                               p_.C * p_.weight_neg, Kb_.get(), cw_.get(),
                                               iota_.get(), o_.get(), active_.get());
    DSDK_SVM_TRY(launch_status("SPSVM: prepare", msg));
    beta_.assign(1, 0.0);
    DSDK_SVM_TRY(newton(kNewtonPerRound, msg));  // the bias alone
    int64_t rounds = 0, m_check = 0;
    double F_check = F_;
    bool converged = true;
    while (int64_t(basis_.size()) < mb_) {
      if (p_.max_iter >= 0 && rounds >= p_.max_iter) {
        converged = false;
        break;
      }
      const int64_t m = int64_t(basis_.size());
      // Small bases are built carefully, large ones many functions at a time.
      const int k = int(spsvm::growth(m, mb_));
      int added = 0;
      DSDK_SVM_TRY(grow(k, &added, msg));
      if (added == 0) break;  // no candidate lowers F
      ++rounds;
      DSDK_SVM_TRY(newton(kNewtonPerRound, msg));
      // Judge progress over rounds that grew the basis by >= 10 %.
      const int64_t grown = int64_t(basis_.size());
      if (grown - m_check >= std::max<int64_t>(1, m_check / 10)) {
        if (F_check - F_ < 0.1 * p_.tol * F_) break;
        F_check = F_;
        m_check = grown;
      }
    }
    DSDK_SVM_TRY(newton(kNewtonFinal, msg));
    finish(out, rounds, converged);
    return DSDK_STATUS_SUCCESS;
  }

 private:
  dsdkStatus_t alloc(std::string* msg) {
    const size_t un = size_t(n_), nr = size_t(mb_) + 1;
    DSDK_SVM_TRY(Kb_.alloc(nr * un, "SPSVM: basis kernel rows ((maxBasis + 1) x n)", msg));
    DSDK_SVM_TRY(Kc_.alloc(size_t(kappa_max_) * un, "SPSVM: candidate kernel rows", msg));
    DSDK_SVM_TRY(o_.alloc(un, "SPSVM: outputs", msg));
    DSDK_SVM_TRY(delta_.alloc(un, "SPSVM: Newton output step", msg));
    DSDK_SVM_TRY(cw_.alloc(un, "SPSVM: sample weights", msg));
    DSDK_SVM_TRY(iota_.alloc(un, "SPSVM: sample ids", msg));
    DSDK_SVM_TRY(act_idx_.alloc(un, "SPSVM: active set", msg));
    DSDK_SVM_TRY(active_.alloc(un, "SPSVM: active flags", msg));
    DSDK_SVM_TRY(n_active_.alloc(1, "SPSVM: active count", msg));
    DSDK_SVM_TRY(flips_.alloc(1, "SPSVM: active-set changes", msg));
    DSDK_SVM_TRY(H_.alloc(nr * nr, "SPSVM: Newton matrix", msg));
    // Split-K partial sums: enough for ~2 blocks per SM on any current GPU
    // (a few hundred 128 x 128 tiles) plus two slices of the largest matrix.
    DSDK_SVM_TRY(split_.alloc((size_t(1) << 23) + 2 * nr * nr, "SPSVM: split-K workspace", msg));
    DSDK_SVM_TRY(KJJ_.alloc(size_t(mb_) * size_t(mb_), "SPSVM: basis kernel", msg));
    DSDK_SVM_TRY(dir_dev_.alloc(nr, "SPSVM: Newton direction", msg));
    DSDK_SVM_TRY(basis_dev_.alloc(size_t(mb_), "SPSVM: basis", msg));
    DSDK_SVM_TRY(cand_dev_.alloc(size_t(kappa_max_), "SPSVM: candidates", msg));
    chunks_ = int(std::min<int64_t>(kMaxScoreChunks, svm::ceil_div(n_, 4 * kThreads)));
    // Row sums for candidates (scores) and for basis rows (gradient).
    const size_t rows = std::max(size_t(kappa_max_), nr);
    DSDK_SVM_TRY(row_part_.alloc(rows * size_t(chunks_) * 2, "SPSVM: row sums", msg));
    DSDK_SVM_TRY(score_self_.alloc(size_t(kappa_max_) * 2, "SPSVM: candidate scores", msg));
    DSDK_SVM_TRY(line_part_.alloc(size_t(grid_) * 3, "SPSVM: line search", msg));
    DSDK_SVM_TRY(svm::exec_status(
        cub::DeviceSelect::Flagged(nullptr, select_tmp_bytes_, iota_.get(), active_.get(),
                                   act_idx_.get(), n_active_.get(), int(n_)),
        "SPSVM: select workspace query", msg));
    return select_tmp_.alloc(select_tmp_bytes_, "SPSVM: select workspace", msg);
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
  // vector may change right after.
  template <class T>
  dsdkStatus_t to_device(T* dst, const T* src, size_t count, const char* what,
                         std::string* msg) {
    return svm::exec_status(
        cudaMemcpyAsync(dst, src, count * sizeof(T), cudaMemcpyHostToDevice, s_), what, msg);
  }

  // sums[2 r] = sum_I C_i (o_i - y_i) rows[r, i], sums[2 r + 1] = sum_I C_i rows[r, i]^2
  // for the first `count` rows (n floats apart) of `rows`; synchronises.
  dsdkStatus_t row_sums(const float* rows, int count, std::vector<double>* sums,
                        std::string* msg) {
    const int64_t chunk = svm::ceil_div(n_, chunks_);
    for (int r0 = 0; r0 < count; r0 += 65535) {  // grid.y <= 65535 rows per launch
      const int rc = std::min(count - r0, 65535);
      score_partial_kernel<<<dim3(unsigned(chunks_), unsigned(rc)), kThreads, 0, s_>>>(
          n_, chunk, rows + int64_t(r0) * n_, y_, cw_.get(), o_.get(),
          row_part_.get() + size_t(r0) * size_t(chunks_) * 2);
      DSDK_SVM_TRY(launch_status("SPSVM: row sums", msg));
    }
    std::vector<double> part(size_t(count) * size_t(chunks_) * 2);
    DSDK_SVM_TRY(to_host(part.data(), row_part_.get(), part.size(), "SPSVM: row sums", msg));
    DSDK_SVM_TRY(sync("SPSVM: row sums", msg));
    sums->assign(size_t(count) * 2, 0.0);
    for (int r = 0; r < count; ++r)
      for (int q = 0; q < chunks_; ++q) {  // fixed order: deterministic
        (*sums)[size_t(2 * r)] += part[(size_t(r) * chunks_ + q) * 2];
        (*sums)[size_t(2 * r + 1)] += part[(size_t(r) * chunks_ + q) * 2 + 1];
      }
    return DSDK_STATUS_SUCCESS;
  }

  void pool_swap(int64_t a, int64_t b) {
    std::swap(pool_[size_t(a)], pool_[size_t(b)]);
    pos_[size_t(pool_[size_t(a)])] = a;
    pos_[size_t(pool_[size_t(b)])] = b;
  }

  // Adds up to k basis functions, the best by score among random points
  // outside the basis (partial Fisher-Yates over the pool, as on the CPU).
  dsdkStatus_t grow(int k, int* added, std::string* msg) {
    *added = 0;
    const int64_t avail = int64_t(pool_.size());
    const int64_t want = spsvm::candidates(k, p_.candidates);
    const int nc = int(std::min<int64_t>(std::min<int64_t>(want, avail), kappa_max_));
    if (nc == 0) return DSDK_STATUS_SUCCESS;
    std::vector<int32_t> cand(static_cast<size_t>(nc));
    for (int t = 0; t < nc; ++t) {
      std::uniform_int_distribution<int64_t> pick(t, avail - 1);
      pool_swap(t, pick(rng_));
      cand[size_t(t)] = int32_t(pool_[size_t(t)]);
    }
    DSDK_SVM_TRY(to_device(cand_dev_.get(), cand.data(), cand.size(), "SPSVM: candidates", msg));

    svm::GemmOperand A, B;
    A.data = X_;
    A.ld = d_;
    A.rows = cand_dev_.get();
    B.data = X_;
    B.ld = d_;
    DSDK_SVM_TRY(svm::launch_kernel_gemm(kf_, nc, n_, d_, A, B, Kc_.get(), n_, s_, msg));
    score_self_kernel<<<svm::grid_for(nc, kThreads), kThreads, 0, s_>>>(
        n_, nc, Kc_.get(), cand_dev_.get(), o_.get(), beta_[0], score_self_.get());
    DSDK_SVM_TRY(launch_status("SPSVM: candidate scores", msg));
    std::vector<double> self(size_t(nc) * 2), sums;
    DSDK_SVM_TRY(to_host(self.data(), score_self_.get(), self.size(), "SPSVM: scores", msg));
    DSDK_SVM_TRY(row_sums(Kc_.get(), nc, &sums, msg));

    // Decrease of F by one Newton step on beta_c alone: g^2 / (2 h) with
    // g = K_cJ beta_J + sum_I C (o - y) K_c. and h = K_cc + sum_I C K_c.^2.
    std::vector<double> score(static_cast<size_t>(nc));
    for (int c = 0; c < nc; ++c) {
      const double g = self[size_t(2 * c)] + sums[size_t(2 * c)];
      const double h = self[size_t(2 * c + 1)] + sums[size_t(2 * c + 1)];
      score[size_t(c)] = h > 0.0 ? g * g / (2.0 * h) : 0.0;
    }
    std::vector<int> order(static_cast<size_t>(nc));
    std::iota(order.begin(), order.end(), 0);
    const int take = std::min(k, nc);
    std::partial_sort(order.begin(), order.begin() + take, order.end(),
                      [&](int a, int b) { return score[size_t(a)] > score[size_t(b)]; });
    const double best = score[size_t(order[0])];
    if (!(best > 0.0) || !std::isfinite(best)) return DSDK_STATUS_SUCCESS;
    const size_t m0 = basis_.size();
    for (int r = 0; r < take; ++r) {
      const int c = order[size_t(r)];
      if (score[size_t(c)] < 1e-12 * best) break;  // would do (relatively) nothing
      const int64_t slot = int64_t(basis_.size()) + 1;  // row 0 is the bias row
      DSDK_SVM_TRY(svm::exec_status(
          cudaMemcpyAsync(Kb_.get() + slot * n_, Kc_.get() + int64_t(c) * n_,
                          size_t(n_) * sizeof(float), cudaMemcpyDeviceToDevice, s_),
          "SPSVM: basis row", msg));
      basis_.push_back(cand[size_t(c)]);
      beta_.push_back(0.0);
      ++*added;
    }
    for (size_t r = m0; r < basis_.size(); ++r) {
      pool_swap(pos_[size_t(basis_[r])], int64_t(pool_.size()) - 1);
      pool_.pop_back();
    }
    return to_device(basis_dev_.get(), basis_.data(), basis_.size(), "SPSVM: basis", msg);
  }

  // Up to `cap` Newton steps with exact line search; stops once a full step
  // leaves the active set unchanged (the minimiser for this basis). Leaves F_.
  //
  // The host's share is kept to sequential O(|J|^2) passes (it runs once per
  // round at |J| in the thousands): K_JJ comes back symmetric, the Newton
  // matrix is assembled in its lower triangle only (all the Cholesky reads),
  // and the regulariser's quadratic forms come from two products per step,
  // K_JJ beta and K_JJ dir.
  dsdkStatus_t newton(int cap, std::string* msg) {
    const int nb = int(basis_.size()), nr = nb + 1;
    const size_t unb = size_t(nb), unr = size_t(nr);
    hKJJf_.resize(unb * unb);
    hKJJ_.resize(unb * unb);
    hHf_.resize(unr * unr);
    hH_.resize(unr * unr);
    if (nb > 0) {
      gather_kjj_kernel<<<svm::grid_for(int64_t(nb) * nb, kThreads), kThreads, 0, s_>>>(
          n_, nb, Kb_.get() + n_, basis_dev_.get(), KJJ_.get());
      DSDK_SVM_TRY(launch_status("SPSVM: basis kernel", msg));
      DSDK_SVM_TRY(to_host(hKJJf_.data(), KJJ_.get(), hKJJf_.size(), "SPSVM: basis kernel", msg));
      DSDK_SVM_TRY(sync("SPSVM: basis kernel", msg));
      std::copy(hKJJf_.begin(), hKJJf_.end(), hKJJ_.begin());
    }
    std::vector<double> kbeta, kdir, grad, dir, sums;
    kjj_times(beta_, &kbeta);
    double loss = 0.0;
    DSDK_SVM_TRY(loss_at(&loss, msg));
    F_ = 0.5 * dot_j(beta_, kbeta) + loss;
    svm::GemmOperand Z;  // row r < nr of Z' (row 0: the bias's ones)
    Z.data = Kb_.get();
    Z.ld = n_;

    for (int it = 0; it < cap; ++it) {
      size_t tmp = select_tmp_bytes_;
      DSDK_SVM_TRY(svm::exec_status(
          cub::DeviceSelect::Flagged(select_tmp_.get(), tmp, iota_.get(), active_.get(),
                                     act_idx_.get(), n_active_.get(), int(n_), s_),
          "SPSVM: active set", msg));
      int n_act = 0;
      DSDK_SVM_TRY(to_host(&n_act, n_active_.get(), 1, "SPSVM: active count", msg));
      DSDK_SVM_TRY(sync("SPSVM: active set", msg));
      DSDK_SVM_TRY(svm::launch_gemm_nt(nr, nr, n_act, Z, Z, act_idx_.get(), cw_.get(), 1.f, 0.f,
                                       H_.get(), nr, split_.get(), split_.size(), s_, msg));
      DSDK_SVM_TRY(to_host(hHf_.data(), H_.get(), hHf_.size(), "SPSVM: Newton matrix", msg));
      // grad = diag(0, K_JJ) beta + Z_I' diag(C_I) (o_I - y_I), the latter in float64.
      DSDK_SVM_TRY(row_sums(Kb_.get(), nr, &sums, msg));
      grad.assign(unr, 0.0);
      for (int r = 0; r < nr; ++r)
        grad[size_t(r)] = -(sums[size_t(2 * r)] + (r > 0 ? kbeta[size_t(r - 1)] : 0.0));
      // H = diag(0, K_JJ) + Z_I' diag(C_I) Z_I, lower triangle.
      for (int i = 0; i < nr; ++i) {
        const float* hf = &hHf_[size_t(i) * unr];
        double* h = &hH_[size_t(i) * unr];
        h[0] = double(hf[0]);
        const double* kjj = i > 0 ? &hKJJ_[size_t(i - 1) * unb] : nullptr;
        for (int j = 1; j <= i; ++j) h[j] = double(hf[j]) + kjj[j - 1];
      }
      if (!cholesky_solve(hH_, nr, grad, host_threads_, &hL_, &dir)) {
        if (msg) *msg = "SPSVM: the Newton system is not positive definite";
        return DSDK_STATUS_EXECUTION_FAILED;
      }
      DSDK_SVM_TRY(to_device(dir_dev_.get(), dir.data(), dir.size(), "SPSVM: direction", msg));
      outputs_kernel<<<grid_, kThreads, 0, s_>>>(n_, nr, Kb_.get(), dir_dev_.get(),
                                                 delta_.get());
      DSDK_SVM_TRY(launch_status("SPSVM: output step", msg));

      kjj_times(dir, &kdir);
      const double db = dot_j(dir, kbeta), dd = dot_j(dir, kdir);
      double step = 0.0;
      DSDK_SVM_TRY(line_search(db, dd, &step, &loss, msg));
      if (!(step > 0.0)) break;
      for (int i = 0; i < nr; ++i) beta_[size_t(i)] += step * dir[size_t(i)];
      for (int a = 0; a < nb; ++a) kbeta[size_t(a)] += step * kdir[size_t(a)];
      F_ = 0.5 * dot_j(beta_, kbeta) + loss;

      step_outputs_kernel<<<grid_, kThreads, 0, s_>>>(n_, step, delta_.get(), o_.get());
      DSDK_SVM_TRY(launch_status("SPSVM: outputs", msg));
      DSDK_SVM_TRY(svm::exec_status(
          cudaMemsetAsync(flips_.get(), 0, sizeof(unsigned long long), s_), "SPSVM: active set",
          msg));
      active_kernel<<<grid_, kThreads, 0, s_>>>(n_, y_, o_.get(), active_.get(), flips_.get());
      DSDK_SVM_TRY(launch_status("SPSVM: active set", msg));
      unsigned long long flips = 0;
      DSDK_SVM_TRY(to_host(&flips, flips_.get(), 1, "SPSVM: active set", msg));
      DSDK_SVM_TRY(sync("SPSVM: active set", msg));
      // The CPU asks for |step - 1| < 1e-6; H summed in float32 moves the
      // best step further from 1 than that.
      if (flips == 0 && std::fabs(step - 1.0) < 1e-3) break;
    }
    return DSDK_STATUS_SUCCESS;
  }

  // out = K_JJ v_J for a coefficient vector laid out [bias, v_J...] (|J| values).
  void kjj_times(const std::vector<double>& v, std::vector<double>* out) const {
    const size_t nb = v.size() - 1;
    out->assign(nb, 0.0);
    for (size_t a = 0; a < nb; ++a) {
      const double* row = &hKJJ_[a * nb];
      double s = 0.0;
      for (size_t b = 0; b < nb; ++b) s += row[b] * v[b + 1];
      (*out)[a] = s;
    }
  }

  // u_J' w for u laid out [bias, u_J...] and w = K_JJ v_J from kjj_times.
  static double dot_j(const std::vector<double>& u, const std::vector<double>& w) {
    double s = 0.0;
    for (size_t a = 0; a < w.size(); ++a) s += u[a + 1] * w[a];
    return s;
  }

  // Sums of line_kernel at s along o + s delta (in a fixed order: deterministic).
  dsdkStatus_t line_sums(double s, const double* delta, double* P, double* Q, double* L,
                         std::string* msg) {
    line_kernel<<<grid_, kThreads, 0, s_>>>(n_, s, y_, cw_.get(), o_.get(), delta,
                                            line_part_.get());
    DSDK_SVM_TRY(launch_status("SPSVM: line search", msg));
    std::vector<double> part(size_t(grid_) * 3);
    DSDK_SVM_TRY(to_host(part.data(), line_part_.get(), part.size(), "SPSVM: line search", msg));
    DSDK_SVM_TRY(sync("SPSVM: line search", msg));
    *P = *Q = *L = 0.0;
    for (unsigned b = 0; b < grid_; ++b) {
      *P += part[3 * size_t(b)];
      *Q += part[3 * size_t(b) + 1];
      *L += part[3 * size_t(b) + 2];
    }
    return DSDK_STATUS_SUCCESS;
  }

  // The loss part of F at the current outputs (s = 0: delta is not read for L).
  dsdkStatus_t loss_at(double* loss, std::string* msg) {
    double P, Q;
    return line_sums(0.0, o_.get(), &P, &Q, loss, msg);
  }

  // Minimises the convex piecewise quadratic F(beta + s dir) over s > 0 (the
  // regulariser contributes p1 + s p2 to its slope): Newton on the piecewise
  // linear slope, safeguarded by bisection, as on the CPU. Returns the step
  // and the loss there.
  dsdkStatus_t line_search(double p1, double p2, double* step, double* loss, std::string* msg) {
    double lo = 0.0, hi = HUGE_VAL, s = 1.0, P, Q, L;
    for (int it = 0; it < kMaxLineSteps; ++it) {
      DSDK_SVM_TRY(line_sums(s, delta_.get(), &P, &Q, &L, msg));
      *step = s;
      *loss = L;
      const double g = p1 + s * p2 + P + s * Q, h = p2 + Q;
      if (g == 0.0) return DSDK_STATUS_SUCCESS;
      if (g < 0.0) lo = s;
      else hi = s;
      double next = h > 0.0 ? s - g / h : 2.0 * s;
      if (!(next > lo && next < hi))
        next = std::isinf(hi) ? 2.0 * std::max(s, lo) : 0.5 * (lo + hi);
      if (std::fabs(next - s) <= 1e-12 * std::max(1.0, s)) return DSDK_STATUS_SUCCESS;
      s = next;
    }
    // Out of steps: the largest step known to descend, if any.
    if (lo > 0.0 && lo != *step) {
      DSDK_SVM_TRY(line_sums(lo, delta_.get(), &P, &Q, &L, msg));
      *step = lo;
      *loss = L;
    }
    return DSDK_STATUS_SUCCESS;
  }

  void finish(SVMResult* out, int64_t rounds, bool converged) {
    std::vector<size_t> order(basis_.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return basis_[a] < basis_[b]; });
    out->index.clear();
    out->coef.clear();
    for (size_t k : order) {
      out->index.push_back(int64_t(basis_[k]));
      out->coef.push_back(beta_[k + 1]);
    }
    out->bias = beta_[0];
    out->objective = F_;
    out->iterations = rounds;
    out->converged = converged;
  }

  const SVMParams& p_;
  int64_t n_, d_;
  const float* X_;
  const int32_t* y_;
  cudaStream_t s_;
  int host_threads_;  // for the Newton solves
  KernelFn<float> kf_;
  std::mt19937_64 rng_;
  std::vector<int64_t> pool_, pos_;  // points outside the basis; each point's place in pool_
  std::vector<int32_t> basis_;       // in insertion order
  std::vector<double> beta_;         // [bias, beta_J...]
  double F_ = 0.0;
  int mb_ = 1, kappa_max_ = 1, chunks_ = 1;
  unsigned grid_ = 1;
  size_t select_tmp_bytes_ = 0;

  // Host copies for the Newton systems and the factor, kept across rounds (tens of MB
  // at |J| ~ 2300: allocating and zeroing them every step costs milliseconds).
  std::vector<float> hKJJf_, hHf_;
  std::vector<double> hKJJ_, hH_, hL_;

  DeviceBuffer<float> Kb_, Kc_, cw_, H_, KJJ_, split_;
  DeviceBuffer<double> o_, delta_, dir_dev_, row_part_, score_self_, line_part_;
  DeviceBuffer<int32_t> iota_, act_idx_, n_active_, basis_dev_, cand_dev_;
  DeviceBuffer<uint8_t> active_, select_tmp_;
  DeviceBuffer<unsigned long long> flips_;
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
  SpsvmSolver solver(p, n, d, X, y, std::max(1, host_threads), s);
  return solver.run(out, msg);
}

}  // namespace cuda
}  // namespace dsdk
