// The sparse primal SVM's outer loop (Keerthi, Chapelle, DeCoste 2006,
// "Building SVMs with reduced classifier complexity"), written once for every
// backend: f(x) = sum_{s in S} beta_s K(x, x_s) + b minimises
//   F = 1/2 beta' K_SS beta + 1/2 sum_i c_i max(0, 1 - y_i f(x_i))^2
// (c_i: C times the class and sample weights) while the basis S grows greedily.
//
// Bias by augmentation: z_i = [1, K(x_i, x_S)], w = [b, beta], the bias left
// unregularised. With the active set I = {i : y_i f(x_i) < 1} the Hessian is
//   H = diag(0, K_SS) + M,  M = sum_{i in I} c_i z_i z_i',
// and each Newton step solves H d = -grad F, then takes an exact line search.
// M and v = sum_{i in I} c_i y_i z_i are kept up to date incrementally (new
// basis functions add a border over I; a change of I adds or removes the
// points that moved), so that during the rounds the gradient costs O(|S|^2):
// grad F = diag(0, K_SS) w + M w - v. The final Newton steps take the exact
// gradient from f over all points, so the end point does not depend on the
// rounding of M.
//
// The Cholesky factor of H grows with the basis by a border update (new rows
// solved against the old factor, then the small Schur complement factored):
// O(|S|^2 k) per round instead of O(|S|^3). A change of I leaves the factor
// describing an older H; the factor is rebuilt from M once the points that
// moved since its last rebuild exceed kRefreshFraction of n, when the border
// update finds it indefinite, and at every step of the final Newton phase
// that follows a change of I.
// A stale factor still yields a descent direction (it is positive definite)
// and the line search is exact, so it costs steps, never accuracy.
//
// Each round draws random points outside S (kCandidatesPerAdded per function
// added), scores each by the decrease g^2 / (2h) that a Newton step on its
// coefficient alone would give, and adds the best. The scores are estimated on
// every score_stride-th point (at most about kScorePoints of them): a score
// only ranks candidates, and the full kernel rows are computed for the chosen
// ones only. The basis stops growing when F fell by less than kStopFactor * tol
// (relative) while the basis grew by kCheckGrowth, when no candidate lowers F,
// or at the cap, which only bounds memory (policy.h).
//
// ---- The backend (a class; every vector of n values lives on its device) ----
//
// Points have global ids 0 .. total_rows() - 1; a backend holds some of them
// (all, or a data-parallel backend's shard), and computes kernel rows of any
// point (candidates and basis functions are named by global id). Every
// output below is a sum over the backend's local points (for values of one
// point: that point's owner contributes it, the others 0), so that reduce()
// sums it over processes; the driver calls reduce() on each before use. Row 0 of the basis
// rows R is all ones (the bias), row 1 + s is K(x_{S_s}, X). Every primitive
// returns a dsdkStatus_t and sets *msg on failure.
//
//   int64_t total_rows() const;
//   dsdkStatus_t reduce(double* v, int64_t count, std::string* msg);
//     in place, v <- the sum of v over processes (one process: nothing to do).
//   dsdkStatus_t start(double out[2], std::string* msg);
//     f = 0 and every point active; out = {sum c_i, sum c_i y_i}.
//   dsdkStatus_t score(const int64_t* cand, int64_t nc, int64_t stride, double* out,
//                      std::string* msg);
//     over the points P whose local index is a multiple of stride, and
//     e_i = c_i (f_i - y_i) on I, 0 off I: out[4t] = sum_{P,I} e_i K(x_i, x_cand[t]),
//     out[4t+1] = sum_{P,I} c_i K^2, out[4t+2] = f(x_cand[t]),
//     out[4t+3] = K(x_cand[t], x_cand[t]).
//   dsdkStatus_t add_basis(const int64_t* basis, int64_t m, int64_t k, double* gram,
//                          double* border, double* vb, std::string* msg);
//     appends rows K(x_basis[m + b], X), b < k, as rows 1 + m + b of R
//     (basis: the m + k ids of S, new ones last); cols = 1 + m + k:
//     gram[b * (m + k) + a] = K(x_{S_{m+b}}, x_{S_a}), a < m + k (the two
//     readings of R, row of one at the column of the other, averaged: the
//     result is symmetric), border[b * cols + a] = sum_I c_i R[1+m+b, i] R[a, i]
//     for a <= 1 + m + b, vb[b] = sum_I c_i y_i R[1+m+b, i].
//   dsdkStatus_t gradient(int64_t cols, double* g, std::string* msg);
//     g[a] = sum_I e_i R[a, i], a < cols.
//   dsdkStatus_t direction(const double* dir, int64_t cols, std::string* msg);
//     df_i = sum_{a < cols} dir[a] R[a, i]: the change of f along dir.
//   dsdkStatus_t line_sums(double t, double out[2], std::string* msg);
//     with f_i(t) = f_i + t df_i and A(t) = {i : y_i f_i(t) < 1}:
//     out = {sum_A c_i (f_i(t) - y_i) df_i, sum_A c_i df_i^2}.
//   dsdkStatus_t step(double t, double out[2], std::string* msg);
//     f += t df, I recomputed; out = {points that joined or left I,
//     sum_I c_i (1 - y_i f_i)^2 after the step}.
//   dsdkStatus_t moved_products(int64_t cols, double* dM, int64_t ldm, double* dv,
//                               std::string* msg);
//     for the points of the last step that joined (s_i = +1) or left (s_i = -1) I:
//     dM[a * ldm + b] += sum s_i c_i R[a, i] R[b, i] (b <= a < cols),
//     dv[a] += sum s_i c_i y_i R[a, i].
//   int processes() const;
//     how many processes share the points; with one, reduce() must be the
//     identity, and the driver lets moved_products add into M itself.
//
// Differences between backends that must stay are theirs to name: the
// precision of R and of the products summed into border and dM (float on
// both, accumulated into double on the host), where the Newton solve runs
// (host, double, here).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/svm_params.h"
#include "core/svm_spsvm_policy.h"

namespace dsdk {
namespace spsvm {

// Dense double-precision Cholesky the driver runs on the host, supplied by the
// caller (csrc/cpu/cholesky.h: cholesky_border, cholesky_solve).
struct Factorizer {
  // Rows n0 .. n1 - 1 of the n1 x n1 row-major A (lower triangle, leading
  // dimension lda) become those of its factor L, rows 0 .. n0 - 1 holding
  // L's already; false when a pivot is not positive.
  bool (*border)(double* A, int64_t n0, int64_t n1, int64_t lda, int num_threads);
  // Solves L L' x = b in place.
  void (*solve)(const double* L, int64_t n, int64_t lda, double* b);
  int num_threads;
};

#define DSDK_SPSVM_TRY(expr)                               \
  do {                                                     \
    const dsdkStatus_t st_ = (expr);                       \
    if (st_ != DSDK_STATUS_SUCCESS) return st_;            \
  } while (0)

// A backend's guard in score: stride must be the one it sized its scoring buffers for
// (score_stride of its rows); an internal error otherwise.
inline dsdkStatus_t check_score_stride(int64_t stride, int64_t sized_for, std::string* msg) {
  if (stride == sized_for) return DSDK_STATUS_SUCCESS;
  if (msg) *msg = "SPSVM: scoring stride differs from the policy's";
  return DSDK_STATUS_INTERNAL_ERROR;
}

template <class Backend>
class Driver {
 public:
  Driver(const SVMParams& p, Backend* be, const Factorizer& fz)
      : p_(p), be_(be), fz_(fz), N_(be->total_rows()), rng_(p.seed) {
    cap_ = basis_cap(p.max_basis, N_);
    stride_ = score_stride(N_);
    reserve(0);
    pool_.resize(size_t(N_));
    std::iota(pool_.begin(), pool_.end(), int64_t(0));
    pos_ = pool_;
  }

  // The model of the first cap basis functions at most (cap: the caller's
  // maxBasis or policy's max_basis).
  dsdkStatus_t run(SVMResult* out, std::string* msg) {
    double s[2];
    DSDK_SPSVM_TRY(be_->start(s, msg));
    DSDK_SPSVM_TRY(be_->reduce(s, 2, msg));
    M_[0] = s[0];
    v_[0] = s[1];
    loss_ = s[0];  // every xi_i = 1 at f = 0
    objective_ = 0.5 * loss_;
    DSDK_SPSVM_TRY(newton(kNewtonPerRound, false, msg));
    int64_t rounds = 0, m_check = 0;
    double F_check = objective_;
    bool converged = true;
    while (m_ < cap_) {
      if (p_.max_iter >= 0 && rounds >= p_.max_iter) {
        converged = false;
        break;
      }
      bool grew = false;
      DSDK_SPSVM_TRY(grow(growth(m_, cap_), &grew, msg));
      if (!grew) break;
      ++rounds;
      DSDK_SPSVM_TRY(newton(kNewtonPerRound, false, msg));
      if (m_ - m_check >= std::max<int64_t>(1, int64_t(kCheckGrowth * double(m_check)))) {
        if (F_check - objective_ < kStopFactor * p_.tol * objective_) break;
        F_check = objective_;
        m_check = m_;
      }
    }
    DSDK_SPSVM_TRY(newton(kNewtonFinal, true, msg));
    finish(out, rounds, converged);
    return DSDK_STATUS_SUCCESS;
  }

 private:
  // Room for a basis of m (the matrices grow with the basis, not to the cap
  // up front: most bases stop far below it). Stride ld_ for all of them.
  void reserve(int64_t m) {
    if (m + 1 <= ld_) return;
    const int64_t ld = std::min(cap_ + 1, std::max({2 * ld_, m + 1, int64_t(64)}));
    for (std::vector<double>* a : {&M_, &L_, &kss_}) {
      std::vector<double> b(size_t(ld * ld), 0.0);
      for (int64_t r = 0; r < ld_; ++r)
        std::copy_n(a->data() + r * ld_, ld_, b.data() + r * ld);
      a->swap(b);
    }
    v_.resize(size_t(ld), 0.0);
    w_.resize(size_t(ld), 0.0);
    ld_ = ld;
  }

  void pool_swap(int64_t a, int64_t b) {
    std::swap(pool_[size_t(a)], pool_[size_t(b)]);
    pos_[size_t(pool_[size_t(a)])] = a;
    pos_[size_t(pool_[size_t(b)])] = b;
  }

  double reg_slope(int64_t s, const double* x) const {  // (K_SS x_S)_s, x laid out [b, x_S]
    const double* ks = &kss_[size_t(s * ld_)];
    double acc = 0;
    for (int64_t t = 0; t < m_; ++t) acc += ks[t] * x[t + 1];
    return acc;
  }

  // Adds up to k basis functions chosen among random points outside S;
  // *grew = false when none would lower F.
  dsdkStatus_t grow(int64_t k, bool* grew, std::string* msg) {
    *grew = false;
    const int64_t avail = int64_t(pool_.size());
    const int64_t nc = std::min(candidates(k, p_.candidates), avail);
    if (nc == 0) return DSDK_STATUS_SUCCESS;
    cand_.resize(size_t(nc));
    for (int64_t t = 0; t < nc; ++t) {
      std::uniform_int_distribution<int64_t> pick(t, avail - 1);
      pool_swap(t, pick(rng_));
      cand_[size_t(t)] = pool_[size_t(t)];
    }
    sums_.resize(size_t(4 * nc));
    DSDK_SPSVM_TRY(be_->score(cand_.data(), nc, stride_, sums_.data(), msg));
    DSDK_SPSVM_TRY(be_->reduce(sums_.data(), 4 * nc, msg));
    // A Newton step on beta_j alone: g = (f(x_j) - b) + sum_I e_i K_ij,
    // h = K_jj + sum_I c_i K_ij^2 lowers F by g^2 / (2 h); the sums over
    // every stride-th point stand for stride times as many.
    score_.resize(size_t(nc));
    const double scale = double(stride_);
    for (int64_t t = 0; t < nc; ++t) {
      const double* q = &sums_[size_t(4 * t)];
      const double g = (q[2] - w_[0]) + scale * q[0], h = q[3] + scale * q[1];
      score_[size_t(t)] = h > 0 && std::isfinite(g) ? g * g / (2 * h) : 0.0;
    }
    order_.resize(size_t(nc));
    std::iota(order_.begin(), order_.end(), int64_t(0));
    const int64_t take = std::min(k, nc);
    std::partial_sort(order_.begin(), order_.begin() + take, order_.end(),
                      [this](int64_t a, int64_t b) { return score_[size_t(a)] > score_[size_t(b)]; });
    const double best = score_[size_t(order_[0])];
    if (!(best > 0)) return DSDK_STATUS_SUCCESS;
    const int64_t m0 = m_;
    for (int64_t r = 0; r < take && score_[size_t(order_[size_t(r)])] >= 1e-12 * best; ++r) {
      const int64_t j = cand_[size_t(order_[size_t(r)])];
      basis_.push_back(j);
      pool_swap(pos_[size_t(j)], int64_t(pool_.size()) - 1);
      pool_.pop_back();
    }
    const int64_t added = int64_t(basis_.size()) - m0, m1 = m0 + added, cols = 1 + m1;
    reserve(m1);
    gram_.assign(size_t(added * m1), 0.0);
    border_.assign(size_t(added * cols), 0.0);
    vb_.assign(size_t(added), 0.0);
    DSDK_SPSVM_TRY(be_->add_basis(basis_.data(), m0, added, gram_.data(), border_.data(),
                                  vb_.data(), msg));
    // One reduce for the three (a data-parallel backend pays one latency).
    gram_.insert(gram_.end(), border_.begin(), border_.end());
    gram_.insert(gram_.end(), vb_.begin(), vb_.end());
    DSDK_SPSVM_TRY(be_->reduce(gram_.data(), int64_t(gram_.size()), msg));
    const double* border = gram_.data() + added * m1;
    const double* vb = border + added * cols;
    for (int64_t b = 0; b < added; ++b) {
      const int64_t s = m0 + b;
      for (int64_t a = 0; a < m1; ++a) {
        kss_[size_t(s * ld_ + a)] = kss_[size_t(a * ld_ + s)] = gram_[size_t(b * m1 + a)];
      }
      for (int64_t a = 0; a <= 1 + s; ++a)
        M_[size_t((1 + s) * ld_ + a)] += border[b * cols + a];
      v_[size_t(1 + s)] += vb[b];
    }
    m_ = m1;
    *grew = true;
    return DSDK_STATUS_SUCCESS;
  }

  // Rows r0 .. 1 + m - 1 of H = M + diag(0, K_SS) + ridge into L_.
  void assemble(int64_t r0, double ridge) {
    for (int64_t a = r0; a <= m_; ++a) {
      double* la = &L_[size_t(a * ld_)];
      const double* ma = &M_[size_t(a * ld_)];
      for (int64_t b = 0; b <= a; ++b) la[b] = ma[b];
      if (a > 0)
        for (int64_t b = 1; b <= a; ++b) la[b] += kss_[size_t((a - 1) * ld_ + b - 1)];
      la[a] += ridge;
    }
  }

  // Brings the factor up to the current basis: a border update when the
  // factor is fresh enough (and the update succeeds), otherwise a rebuild
  // with the ridge retry (1e-10 of the mean diagonal, then 100x larger while H
  // stays numerically indefinite). False when no ridge helps.
  bool factor(bool fresh) {
    const int64_t m1 = m_ + 1;
    if (!fresh && factored_ > 0 && moved_since_ <= kRefreshFraction * double(N_)) {
      if (factored_ == m1) return true;
      assemble(factored_, ridge_);
      if (fz_.border(L_.data(), factored_, m1, ld_, fz_.num_threads)) {
        factored_ = m1;
        return true;
      }
    }
    double diag = 0;
    for (int64_t a = 0; a < m1; ++a) diag += M_[size_t(a * ld_ + a)];
    for (int64_t s = 0; s < m_; ++s) diag += kss_[size_t(s * ld_ + s)];
    diag /= double(m1);
    if (!(diag > 0) || !std::isfinite(diag)) diag = 1.0;
    ridge_ = 1e-10 * diag;
    moved_since_ = 0;
    for (int attempt = 0; attempt < 8; ++attempt, ridge_ *= 100) {
      assemble(0, ridge_);
      if (fz_.border(L_.data(), 0, m1, ld_, fz_.num_threads)) {
        factored_ = m1;
        return true;
      }
    }
    factored_ = 0;
    return false;
  }

  // grad F into grad_: exact (a pass over all points) or M w - v.
  dsdkStatus_t gradient(bool exact, std::string* msg) {
    const int64_t cols = 1 + m_;
    grad_.assign(size_t(cols), 0.0);
    if (exact) {
      DSDK_SPSVM_TRY(be_->gradient(cols, grad_.data(), msg));
      DSDK_SPSVM_TRY(be_->reduce(grad_.data(), cols, msg));
    } else {
      // M w from the lower triangle: row a's part below the diagonal serves
      // both M[a, :a] w[:a] and, transposed, M[:a, a] w[a].
      for (int64_t a = 0; a < cols; ++a) {
        const double* ma = &M_[size_t(a * ld_)];
        double acc = -v_[size_t(a)];
        for (int64_t b = 0; b <= a; ++b) acc += ma[b] * w_[size_t(b)];
        grad_[size_t(a)] += acc;
        for (int64_t b = 0; b < a; ++b) grad_[size_t(b)] += ma[b] * w_[size_t(a)];
      }
    }
    for (int64_t s = 0; s < m_; ++s) grad_[size_t(s + 1)] += reg_slope(s, w_.data());
    return DSDK_STATUS_SUCCESS;
  }

  // Up to `cap` Newton steps with exact line search; stops early once a full
  // step leaves the active set unchanged (the minimiser for this S) or the
  // step would gain less than kNewtonStop * tol * F (its Newton decrement).
  dsdkStatus_t newton(int cap, bool exact, std::string* msg) {
    const int64_t m1 = m_ + 1;
    for (int it = 0; it < cap; ++it) {
      DSDK_SPSVM_TRY(gradient(exact, msg));
      if (!factor(exact && moved_since_ > 0)) {
        if (msg) *msg = "SPSVM: the Newton system is not positive definite";
        return DSDK_STATUS_EXECUTION_FAILED;
      }
      dir_.resize(size_t(m1));
      for (int64_t a = 0; a < m1; ++a) dir_[size_t(a)] = -grad_[size_t(a)];
      fz_.solve(L_.data(), m1, ld_, dir_.data());
      double decrement = 0;  // a full step would lower F by about decrement / 2
      for (int64_t a = 0; a < m1; ++a) decrement -= grad_[size_t(a)] * dir_[size_t(a)];
      if (!(decrement > 0) || 0.5 * decrement <= kNewtonStop * p_.tol * objective_) break;
      DSDK_SPSVM_TRY(be_->direction(dir_.data(), m1, msg));
      double t = 0;
      DSDK_SPSVM_TRY(line_search(&t, msg));
      if (!(t > 0)) break;
      for (int64_t a = 0; a < m1; ++a) w_[size_t(a)] += t * dir_[size_t(a)];
      double q[2];
      DSDK_SPSVM_TRY(be_->step(t, q, msg));
      DSDK_SPSVM_TRY(be_->reduce(q, 2, msg));
      loss_ = q[1];
      if (q[0] > 0) {
        DSDK_SPSVM_TRY(moved_products(msg));
        moved_since_ += q[0];
      }
      double reg = 0;
      for (int64_t s = 0; s < m_; ++s) reg += w_[size_t(s + 1)] * reg_slope(s, w_.data());
      objective_ = 0.5 * (reg + loss_);
      if (q[0] == 0 && std::fabs(t - 1.0) < kUnitStep) break;
    }
    return DSDK_STATUS_SUCCESS;
  }

  // M and v follow the points that moved in the last step; the cols^2 scratch
  // and its reduction are paid only by several processes.
  dsdkStatus_t moved_products(std::string* msg) {
    const int64_t cols = 1 + m_;
    if (be_->processes() == 1) return be_->moved_products(cols, M_.data(), ld_, v_.data(), msg);
    dM_.assign(size_t(cols * (cols + 1)), 0.0);
    double* dv = dM_.data() + cols * cols;
    DSDK_SPSVM_TRY(be_->moved_products(cols, dM_.data(), cols, dv, msg));
    DSDK_SPSVM_TRY(be_->reduce(dM_.data(), int64_t(dM_.size()), msg));
    for (int64_t a = 0; a < cols; ++a) {
      for (int64_t b = 0; b <= a; ++b) M_[size_t(a * ld_ + b)] += dM_[size_t(a * cols + b)];
      v_[size_t(a)] += dv[a];
    }
    return DSDK_STATUS_SUCCESS;
  }

  // Minimises F(w + t d) over t >= 0, a convex piecewise quadratic: Newton on
  // its derivative, safeguarded by bisection; ends in a few passes over f.
  dsdkStatus_t line_search(double* step, std::string* msg) {
    // Regulariser along d: 1/2 (beta + t db)' K (beta + t db) -> p1 t + 1/2 p2 t^2.
    double p1 = 0, p2 = 0;
    for (int64_t s = 0; s < m_; ++s) {
      p1 += dir_[size_t(s + 1)] * reg_slope(s, w_.data());
      p2 += dir_[size_t(s + 1)] * reg_slope(s, dir_.data());
    }
    double lo = 0, hi = std::numeric_limits<double>::infinity(), t = 1.0;
    for (int it = 0; it < kMaxLineSteps; ++it) {
      double q[2];
      DSDK_SPSVM_TRY(be_->line_sums(t, q, msg));
      DSDK_SPSVM_TRY(be_->reduce(q, 2, msg));
      const double g = p1 + t * p2 + q[0], h = p2 + q[1];
      if (g == 0) break;
      if (g < 0) lo = t;
      else hi = t;
      double tn = h > 0 ? t - g / h : 2 * t;
      if (!(tn > lo && tn < hi)) tn = std::isfinite(hi) ? 0.5 * (lo + hi) : 2 * std::max(t, lo);
      if (std::fabs(tn - t) <= 1e-12 * std::max(1.0, t)) {
        t = tn;
        break;
      }
      t = tn;
      if (it + 1 == kMaxLineSteps) t = lo;  // out of steps: the largest known to descend
    }
    *step = t;
    return DSDK_STATUS_SUCCESS;
  }

  void finish(SVMResult* out, int64_t rounds, bool converged) const {
    std::vector<int64_t> ord(static_cast<size_t>(m_));
    std::iota(ord.begin(), ord.end(), int64_t(0));
    std::sort(ord.begin(), ord.end(),
              [this](int64_t a, int64_t b) { return basis_[size_t(a)] < basis_[size_t(b)]; });
    out->index.clear();
    out->coef.clear();
    for (int64_t s : ord) {
      out->index.push_back(basis_[size_t(s)]);
      out->coef.push_back(w_[size_t(s + 1)]);
    }
    out->bias = w_[0];
    out->objective = objective_;
    out->iterations = rounds;
    out->converged = converged;
  }

  const SVMParams& p_;
  Backend* be_;
  Factorizer fz_;
  int64_t N_, cap_ = 1, ld_ = 0, stride_ = 1, m_ = 0;
  int64_t factored_ = 0;   // rows of L_ that are a factor
  double moved_since_ = 0;  // points that changed I since L_ was last rebuilt
  double ridge_ = 0, loss_ = 0, objective_ = 0;
  std::mt19937_64 rng_;
  std::vector<double> M_, L_, kss_, v_, w_;  // ld x ld (K_SS: rows 0 .. m - 1), ld
  std::vector<int64_t> basis_, pool_, pos_;  // S in insertion order; points not in S; place in pool_
  // Scratch.
  std::vector<int64_t> cand_, order_;
  std::vector<double> sums_, score_, gram_, border_, vb_, grad_, dir_, dM_;
};

#undef DSDK_SPSVM_TRY

}  // namespace spsvm
}  // namespace dsdk
