// Exact C-SVC dual by SMO with LIBSVM's rules (WSS3 pair selection, stopping on
// the maximal violation gap, rho from free SVs), parallelised in the manner of
// ThunderSVM: each outer round picks a working set of q variables (half new
// violators, half kept from the previous round), fetches their kernel rows in
// one GEMM batch through an LRU row cache, solves the q-variable subproblem by
// sequential WSS3 SMO on the q x q block, then applies the change to the whole
// gradient in parallel. The global LIBSVM gap decides when to stop.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/svm_backends.h"
#include "core/svm_wss.h"
#include "cpu/svm_kernel.h"
#include "cpu/svm_row_cache.h"

namespace dsdk {
namespace cpu {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Working-set size when the caller leaves it to us: large enough that a round's
// GEMM is efficient and the inner solver makes real progress, small enough that
// rounds stay cheap. Small problems take small sets, so that only the kernel
// rows SMO touches are computed, as LIBSVM does (one thread, 45 digits pairs of
// ~270 rows: 100-115 ms with q = 64 against 165-175 ms with the whole problem;
// breast_cancer's 426 rows: 0.26 ms against 0.47 ms; 1500 synthetic rows:
// 78 ms with q = 128 against 123 ms with q = 512).
int64_t auto_working_set(int64_t n) {
  if (n < 1024) return 64;
  if (n < 4096) return 128;
  return n < 20000 ? 512 : 1024;
}

struct Candidate {
  double f;  // -y G
  int64_t i;
};

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

  // WSS3 SMO restricted to the set until its own gap falls below
  // max(tol, 0.1 * its initial gap) (tol when `whole`: the set is the whole
  // problem) or `cap` steps; returns the steps taken.
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
      if (i < 0 || gmin == kInf) break;
      if (it == 0 && !whole) eps_local = std::max(tol, 0.1 * (gmax - gmin));
      if (gmax - gmin < eps_local || it >= cap) break;
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

template <typename T>
class SmoSolver {
 public:
  SmoSolver(const SVMParams& p, int64_t n, int64_t d, const T* X, const int32_t* y, int threads)
      : p_(p), n_(n), y_(y), threads_(threads),
        engine_(make_kernel_fn<T>(p), X, n, d, threads),
        alpha_(size_t(n), 0.0), G_(size_t(n), -1.0), C_(size_t(n)), kdiag_(size_t(n)),
        in_ws_(size_t(n), 0) {
    for (int64_t t = 0; t < n; ++t) {
      C_[size_t(t)] = row_C(p, t, y[t]);
      kdiag_[size_t(t)] = double(engine_.self(t));
    }
    int64_t q = p.working_set > 0 ? p.working_set : auto_working_set(n);
    q_ = std::max<int64_t>(2, std::min(q, n / 2 * 2));
  }

  void run(SVMResult* out) {
    RowCache<T> cache(&engine_, n_, q_, p_.cache_bytes);
    // LIBSVM's guard against endless loops, counted in SMO steps.
    const int64_t step_limit = std::max<int64_t>(10000000, 100 * n_);
    const int64_t inner_cap = 100 * q_;
    std::vector<const T*> rows;
    int64_t outer = 0, steps = 0;
    bool converged = false, stalled = false;
    for (;;) {
      // A round that made no step keeps nothing: a fresh set holds the maximal
      // violating pair (for q >= 2), so the next round makes progress.
      double gap = select_working_set(stalled);
      if (gap < p_.tol) {
        converged = true;
        break;
      }
      if ((p_.max_iter >= 0 && outer >= p_.max_iter) || steps >= step_limit) break;
      const int64_t m = int64_t(ws_.size());
      rows.resize(size_t(m));
      cache.get(ws_.data(), m, rows.data());
      build_subproblem(rows.data());
      // A set that holds every variable is the whole problem: solve it to tol.
      const int64_t taken = sub_.solve(p_.tol, inner_cap, m == n_);
      // Even a fresh set cannot move: rounding has stalled the solver.
      if (taken == 0 && stalled) break;
      stalled = taken == 0;
      steps += taken;
      update_gradient(rows.data());
      ++outer;
    }
    finish(out, outer, converged);
  }

 private:
  // Builds the next working set in ws_ (newest first) and returns the global
  // gap max_{I_up} -yG - min_{I_low} -yG of the current iterate. fresh: keep
  // nothing of the previous set.
  double select_working_set(bool fresh) {
    const int64_t half = q_ / 2;
    // The previous round's newest half stays (FIFO: a variable spends two rounds).
    prev_.assign(ws_.begin(), ws_.end());
    for (int64_t t : prev_) in_ws_[size_t(t)] = 0;
    const int64_t keep_first = fresh ? 0 : std::min<int64_t>(half, int64_t(prev_.size()));
    for (int64_t k = 0; k < keep_first; ++k) in_ws_[size_t(prev_[size_t(k)])] = 1;

    up_.clear();
    low_.clear();
    double gmax = -kInf, gmin = kInf;
    for (int64_t t = 0; t < n_; ++t) {
      const double f = -y_[t] * G_[size_t(t)];
      const bool up = smo_in_up(y_[t], alpha_[size_t(t)], C_[size_t(t)]);
      const bool low = smo_in_low(y_[t], alpha_[size_t(t)], C_[size_t(t)]);
      if (up) gmax = std::max(gmax, f);
      if (low) gmin = std::min(gmin, f);
      if (in_ws_[size_t(t)]) continue;
      if (up) up_.push_back({f, t});
      if (low) low_.push_back({f, t});
    }
    const double gap = gmax - gmin;
    if (gap < p_.tol) {
      for (int64_t k = 0; k < keep_first; ++k) in_ws_[size_t(prev_[size_t(k)])] = 0;
      ws_.clear();
      return gap;
    }
    const int64_t want = q_ - keep_first;
    auto top = [want](std::vector<Candidate>& v, bool largest) {
      auto cmp = [largest](const Candidate& a, const Candidate& b) {
        return largest ? a.f > b.f : a.f < b.f;
      };
      size_t k = size_t(std::min<int64_t>(want, int64_t(v.size())));
      std::partial_sort(v.begin(), v.begin() + k, v.end(), cmp);
      v.resize(k);
    };
    top(up_, true);
    top(low_, false);
    ws_.clear();
    size_t a = 0, b = 0;
    // Alternate between the most violating of I_up and of I_low.
    while (int64_t(ws_.size()) < want && (a < up_.size() || b < low_.size())) {
      if (a < up_.size()) {
        int64_t t = up_[a++].i;
        if (!in_ws_[size_t(t)]) {
          in_ws_[size_t(t)] = 1;
          ws_.push_back(t);
        }
      }
      if (int64_t(ws_.size()) < want && b < low_.size()) {
        int64_t t = low_[b++].i;
        if (!in_ws_[size_t(t)]) {
          in_ws_[size_t(t)] = 1;
          ws_.push_back(t);
        }
      }
    }
    for (int64_t k = 0; k < keep_first; ++k) ws_.push_back(prev_[size_t(k)]);
    // Short of new violators: keep more of the previous set.
    for (size_t k = size_t(keep_first);
         !fresh && k < prev_.size() && int64_t(ws_.size()) < q_; ++k) {
      int64_t t = prev_[k];
      if (!in_ws_[size_t(t)]) {
        in_ws_[size_t(t)] = 1;
        ws_.push_back(t);
      }
    }
    return gap;
  }

  // When the set is the whole problem its block is the rows the cache has just
  // provided, short enough to gather; otherwise one GEMM is cheaper than
  // gathering it from m long rows (KernelRows::block).
  void build_subproblem(const T* const* rows) {
    const int64_t m = int64_t(ws_.size());
    sub_.resize(m);
    if (m == n_) {
      for (int64_t u = 0; u < m; ++u)
        for (int64_t v = 0; v < m; ++v) sub_.K[size_t(u * m + v)] = rows[u][ws_[size_t(v)]];
    } else {
      engine_.block(ws_.data(), m, sub_.K.data());
    }
    for (int64_t u = 0; u < m; ++u) {
      const int64_t t = ws_[size_t(u)];
      sub_.alpha[size_t(u)] = alpha_[size_t(t)];
      sub_.G[size_t(u)] = G_[size_t(t)];
      sub_.C[size_t(u)] = C_[size_t(t)];
      sub_.kdiag[size_t(u)] = kdiag_[size_t(t)];
      sub_.y[size_t(u)] = y_[t];
    }
  }

  // G_t += y_t sum_u (delta alpha_u) y_u K(x_u, x_t) over the changed variables,
  // in column chunks so that the accumulator stays in L1.
  void update_gradient(const T* const* rows) {
    changed_rows_.clear();
    changed_coef_.clear();
    for (size_t u = 0; u < ws_.size(); ++u) {
      const int64_t t = ws_[u];
      const double da = sub_.alpha[u] - alpha_[size_t(t)];
      alpha_[size_t(t)] = sub_.alpha[u];
      if (da != 0.0) {
        changed_rows_.push_back(rows[u]);
        changed_coef_.push_back(da * y_[t]);
      }
    }
    const int64_t nc = int64_t(changed_rows_.size());
    if (nc == 0) return;
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
  }

  void finish(SVMResult* out, int64_t outer, bool converged) {
    RhoAccumulator<double> rho;
    double obj = 0.0;
    out->index.clear();
    out->coef.clear();
    for (int64_t t = 0; t < n_; ++t) {
      const double a = alpha_[size_t(t)];
      rho.add(y_[t], a, C_[size_t(t)], G_[size_t(t)]);
      obj += a * (G_[size_t(t)] - 1.0);
      if (a > 0.0) {
        out->index.push_back(t);
        out->coef.push_back(y_[t] * a);
      }
    }
    out->bias = -rho.rho();
    out->objective = 0.5 * obj;
    out->iterations = outer;
    out->converged = converged;
  }

  const SVMParams& p_;
  int64_t n_, q_ = 2;
  const int32_t* y_;
  int threads_;
  KernelRows<T> engine_;
  std::vector<double> alpha_, G_, C_, kdiag_;
  std::vector<char> in_ws_;
  std::vector<int64_t> ws_, prev_;
  std::vector<Candidate> up_, low_;
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
  (void)msg;
  SmoSolver<T> solver(p, n, d, X, y, num_threads);
  solver.run(out);
  return DSDK_STATUS_SUCCESS;
}

template dsdkStatus_t svm_smo_train<float>(const SVMParams&, int64_t, int64_t, const float*,
                                           const int32_t*, int, SVMResult*, std::string*);
template dsdkStatus_t svm_smo_train<double>(const SVMParams&, int64_t, int64_t, const double*,
                                            const int32_t*, int, SVMResult*, std::string*);

}  // namespace cpu
}  // namespace dsdk
