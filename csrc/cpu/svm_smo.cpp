// The CPU backend of the SMO driver (core/svm_smo_driver.h), parallelised in
// the manner of ThunderSVM: each outer round takes the driver's working set of
// q variables (core/svm_smo_working_set.h), fetches their kernel rows in one
// GEMM batch through an LRU row cache, solves the q-variable subproblem by
// sequential WSS3 SMO on the q x q block, then applies the change to the whole
// gradient in parallel.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "core/svm_backends.h"
#include "core/svm_smo_driver.h"
#include "core/svm_wss.h"
#include "cpu/svm_kernel.h"
#include "cpu/svm_row_cache.h"

namespace dsdk {
namespace cpu {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// One outer round's subproblem: q variables, their q x q kernel block, and the
// parts of the global state that the inner SMO reads and writes.
template <typename T>
struct SubProblem {
  int64_t q = 0;
  std::vector<T> K;                 // q x q, K[u][v] = K(x_ws[u], x_ws[v])
  std::vector<double> alpha, G, C, kdiag;
  std::vector<int> y;

  void resize(int64_t m) {
    q = m;
    K.resize(size_t(m * m));
    alpha.resize(size_t(m));
    G.resize(size_t(m));
    C.resize(size_t(m));
    kdiag.resize(size_t(m));
    y.resize(size_t(m));
  }

  // WSS3 SMO restricted to the set until smo_local_done; returns the steps taken.
  int64_t solve(double tol, int64_t cap, bool whole) {
    double eps_local = tol;
    int64_t it = 0;
    for (;; ++it) {
      double gmax = -kInf, gmin = kInf;
      int64_t i = -1;
      for (int64_t u = 0; u < q; ++u) {
        const double f = -y[size_t(u)] * G[size_t(u)];
        if (smo_in_up(y[size_t(u)], alpha[size_t(u)], C[size_t(u)]) && f > gmax) {
          gmax = f;
          i = u;
        }
        if (smo_in_low(y[size_t(u)], alpha[size_t(u)], C[size_t(u)]) && f < gmin) gmin = f;
      }
      // An empty I_up or I_low makes the gap -inf: done.
      const double gap = gmax - gmin;
      if (it == 0) eps_local = smo_local_eps(tol, gap, whole);
      if (smo_local_done(gap, eps_local, it, cap)) break;
      const T* Ki = &K[size_t(i * q)];
      const double kii = kdiag[size_t(i)];
      double best = kInf;
      int64_t j = -1;
      for (int64_t v = 0; v < q; ++v) {
        const double f = -y[size_t(v)] * G[size_t(v)];
        if (f < gmax && smo_in_low(y[size_t(v)], alpha[size_t(v)], C[size_t(v)])) {
          const double s = wss3_score(gmax, f, kii, kdiag[size_t(v)], double(Ki[v]));
          if (s < best) {
            best = s;
            j = v;
          }
        }
      }
      if (j < 0) break;
      const T* Kj = &K[size_t(j * q)];
      const double d = smo_pair_step(y[size_t(i)], y[size_t(j)], G[size_t(i)], G[size_t(j)], kii,
                                     kdiag[size_t(j)], double(Ki[j]), C[size_t(i)], C[size_t(j)],
                                     &alpha[size_t(i)], &alpha[size_t(j)]);
      if (!(d > 0)) break;
      for (int64_t u = 0; u < q; ++u)
        G[size_t(u)] += y[size_t(u)] * d * (double(Ki[u]) - double(Kj[u]));
    }
    return it;
  }
};

// The CPU primitives of the SMO driver (core/svm_smo_driver.h): host buffers,
// kernel rows of type T through an LRU row cache, alpha and the gradient in double.
template <typename T>
class SmoCpu {
 public:
  SmoCpu(const SVMParams& p, int64_t n, int64_t d, const T* X, const int32_t* y, int threads)
      : n_(n), y_(y), threads_(threads), cache_bytes_(p.cache_bytes),
        engine_(make_kernel_fn<T>(p), X, n, d, threads), kdiag_(size_t(n)) {
    for (int64_t t = 0; t < n; ++t) kdiag_[size_t(t)] = double(engine_.self(t));
  }

  dsdkStatus_t host_labels(const int32_t** y, std::string*) {
    *y = y_;
    return DSDK_STATUS_SUCCESS;
  }
  // The row cache holds any q (it pins at least the working set).
  int64_t max_working_set(int64_t n, bool) const { return n; }

  dsdkStatus_t start(const double* C, int64_t q, std::string*) {
    C_ = C;
    q_ = q;
    alpha_.assign(size_t(n_), 0.0);
    G_.assign(size_t(n_), -1.0);
    cache_.reset(new RowCache<T>(&engine_, n_, q_, cache_bytes_));
    return DSDK_STATUS_SUCCESS;
  }

  dsdkStatus_t status(SmoRoundStatus* s, std::string*) {
    double gmax = -kInf, gmin = kInf;
    for (int64_t t = 0; t < n_; ++t) {
      const double f = -y_[t] * G_[size_t(t)];
      if (smo_in_up(y_[t], alpha_[size_t(t)], C_[t])) gmax = std::max(gmax, f);
      if (smo_in_low(y_[t], alpha_[size_t(t)], C_[t])) gmin = std::min(gmin, f);
    }
    s->gap = gmax - gmin;
    s->steps = taken_;
    return DSDK_STATUS_SUCCESS;
  }

  dsdkStatus_t host_state(const double** alpha, const double** G, std::string*) {
    *alpha = alpha_.data();
    *G = G_.data();
    return DSDK_STATUS_SUCCESS;
  }

  dsdkStatus_t use_working_set(const int64_t* ws, int64_t m, std::string*) {
    ws_.assign(ws, ws + m);
    return DSDK_STATUS_SUCCESS;
  }

  // When the set is the whole problem its block is the rows the cache has just
  // provided, short enough to gather; otherwise one GEMM is cheaper than
  // gathering it from m long rows (KernelRows::block).
  dsdkStatus_t kernel_rows(std::string*) {
    const int64_t m = int64_t(ws_.size());
    rows_.resize(size_t(m));
    cache_->get(ws_.data(), m, rows_.data());
    sub_.resize(m);
    if (m == n_) {
      for (int64_t u = 0; u < m; ++u)
        for (int64_t v = 0; v < m; ++v)
          sub_.K[size_t(u * m + v)] = rows_[size_t(u)][ws_[size_t(v)]];
    } else {
      engine_.block(ws_.data(), m, sub_.K.data());
    }
    for (int64_t u = 0; u < m; ++u) {
      const int64_t t = ws_[size_t(u)];
      sub_.alpha[size_t(u)] = alpha_[size_t(t)];
      sub_.G[size_t(u)] = G_[size_t(t)];
      sub_.C[size_t(u)] = C_[t];
      sub_.kdiag[size_t(u)] = kdiag_[size_t(t)];
      sub_.y[size_t(u)] = y_[t];
    }
    return DSDK_STATUS_SUCCESS;
  }

  dsdkStatus_t local_smo(double tol, int64_t cap, bool whole, std::string*) {
    taken_ = sub_.solve(tol, cap, whole);
    return DSDK_STATUS_SUCCESS;
  }

  // G_t += y_t sum_u (delta alpha_u) y_u K(x_u, x_t) over the changed variables,
  // in column chunks so that the accumulator stays in L1.
  dsdkStatus_t update_gradient(std::string*) {
    changed_rows_.clear();
    changed_coef_.clear();
    for (size_t u = 0; u < ws_.size(); ++u) {
      const int64_t t = ws_[u];
      const double da = sub_.alpha[u] - alpha_[size_t(t)];
      alpha_[size_t(t)] = sub_.alpha[u];
      if (da != 0.0) {
        changed_rows_.push_back(rows_[u]);
        changed_coef_.push_back(da * y_[t]);
      }
    }
    const int64_t nc = int64_t(changed_rows_.size());
    if (nc == 0) return DSDK_STATUS_SUCCESS;
    constexpr int64_t kChunk = 512;
    const int64_t nchunks = (n_ + kChunk - 1) / kChunk;
#pragma omp parallel for num_threads(threads_for(nc * n_, threads_)) schedule(static)
    for (int64_t c = 0; c < nchunks; ++c) {
      const int64_t t0 = c * kChunk, len = std::min(kChunk, n_ - t0);
      double acc[kChunk];
      for (int64_t k = 0; k < len; ++k) acc[k] = 0.0;
      for (int64_t u = 0; u < nc; ++u) {
        const T* r = changed_rows_[size_t(u)] + t0;
        const double w = changed_coef_[size_t(u)];
        for (int64_t k = 0; k < len; ++k) acc[k] += w * double(r[k]);
      }
      for (int64_t k = 0; k < len; ++k) G_[size_t(t0 + k)] += y_[t0 + k] * acc[k];
    }
    return DSDK_STATUS_SUCCESS;
  }

 private:
  int64_t n_, q_ = 2, taken_ = 0;
  const int32_t* y_;
  int threads_;
  size_t cache_bytes_;
  KernelRows<T> engine_;
  std::unique_ptr<RowCache<T>> cache_;
  const double* C_ = nullptr;
  std::vector<double> alpha_, G_, kdiag_;
  std::vector<int64_t> ws_;
  std::vector<const T*> rows_;
  SubProblem<T> sub_;
  std::vector<const T*> changed_rows_;
  std::vector<double> changed_coef_;
};

}  // namespace

// Double input at an ordinary tolerance (tol >= kFloatRowsTol) trains on
// float kernel rows, as LIBSVM does (it caches kernel values as float): the
// input is rounded to float once, the rows then cost half the memory traffic
// and the GEMM runs at twice the rate (30000 x 50 benchmark: 1.2 s against
// 2.3 s, same objective to 2e-8 relative). alpha, the gradient, rho and the
// objective stay in double either way. Float rows perturb the gradient by
// about 1e-7 sum(alpha), so tighter tolerances keep double rows.
constexpr double kFloatRowsTol = 1e-4;

template <typename T>
dsdkStatus_t svm_smo_train(const SVMParams& p, int64_t n, int64_t d, const T* X,
                           const int32_t* y, int num_threads, SVMResult* out, std::string* msg) {
  if constexpr (std::is_same_v<T, double>) {
    if (p.tol >= kFloatRowsTol) {
      const std::vector<float> Xf = rounded_to_float(X, n * d, num_threads);
      return svm_smo_train<float>(p, n, d, Xf.data(), y, num_threads, out, msg);
    }
  }
  SmoCpu<T> backend(p, n, d, X, y, num_threads);
  return smo_solve(backend, p, n, out, msg);
}

template dsdkStatus_t svm_smo_train<float>(const SVMParams&, int64_t, int64_t, const float*,
                                           const int32_t*, int, SVMResult*, std::string*);
template dsdkStatus_t svm_smo_train<double>(const SVMParams&, int64_t, int64_t, const double*,
                                            const int32_t*, int, SVMResult*, std::string*);

}  // namespace cpu
}  // namespace dsdk
