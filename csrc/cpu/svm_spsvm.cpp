// Sparse primal SVM (Keerthi, Chapelle, DeCoste 2006, "Building SVMs with
// reduced classifier complexity"): f(x) = sum_{s in S} beta_s K(x, x_s) + b,
// minimising F = 1/2 beta' K_SS beta + 1/2 sum_i c_i max(0, 1 - y_i f(x_i))^2
// (c_i = C times the class weight) while the basis S grows greedily.
//
// Bias by augmentation: z_i = [1, K(x_i, x_S)], w = [b, beta], the bias left
// unregularised. R ((1 + max basis) x n, float32 for either input type, see
// svm_spsvm_train) holds the z_i as columns: row 0 is all ones, row 1 + s is
// K(x_{S_s}, X), so that every pass over it is contiguous and every GEMM on it
// is in the A B' form.
// With the active set I = {i : y_i f(x_i) < 1} the Hessian is
//   H = diag(0, K_SS) + M,  M = sum_{i in I} c_i z_i z_i' (lower triangle kept),
// and each Newton step solves H d = -grad F by Cholesky, then takes an exact
// line search along d. M and v = sum_{i in I} c_i y_i z_i are kept up to date
// incrementally by GEMMs in float32 accumulated into double (new basis columns
// add a border over I; a change of I adds or removes the rows that moved), so
// that during the rounds the gradient costs O(|S|^2):
// grad F = diag(0, K_SS) w + M w - v. The final Newton steps recompute it
// from f(x_i) over all points, so the end point does not depend on M's
// rounding (M is then only the Hessian approximation of an exact method).
//
// Each round draws random points outside S, scores each by the decrease
// g^2 / (2h) that one Newton step on its own coefficient would give with the
// current active set, and adds the best k of them. Keerthi adds one function
// per round from 59 candidates (the best of 59 random points is in the top
// 5 % with probability 0.95). Here every round costs passes over all n points
// (the f update, the border GEMM), so rounds must be few: k = |S| / 8 (at
// least 1, at most 96), and the batch grows with k (59, or 6 k when larger)
// so that the chosen ones still come from the top of a large sample. One
// Newton step per round (the next round continues from there); after the
// last round, Newton steps run to convergence. Stops at max_basis, when no
// candidate helps, or when F fell by less than tol / 10 (relative) while the
// basis grew by 10 %. (On make_classification-like data, 30000 points: 54
// rounds to 1024 functions; within 0.1 point of the accuracy of one at a time.)
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <type_traits>
#include <vector>

#include "core/svm_backends.h"
#include "core/svm_spsvm_policy.h"
#include "cpu/cholesky.h"
#include "cpu/gemm.h"
#include "cpu/svm_kernel.h"
#include "cpu/vmath.h"

namespace dsdk {
namespace cpu {
namespace {

constexpr double kNewtonStop = 1e-3;    // stop when a step would gain < this * tol * F
constexpr int64_t kGatherChunk = 8192;  // moved points gathered per GEMM of an M update
constexpr int64_t kPointChunk = 2048;   // points per cache block of the f update
constexpr int64_t kTriangleBlock = 128; // rows per GEMM of a lower-triangle update

using spsvm::kNewtonFinal;
using spsvm::kNewtonPerRound;

template <typename T>
class SpsvmSolver {
 public:
  SpsvmSolver(const SVMParams& p, int64_t n, int64_t d, const T* X, const int32_t* y,
              int threads)
      : p_(p), n_(n), y_(y), threads_(threads),
        engine_(make_kernel_fn<T>(p), X, n, d, threads),
        c_(size_t(n)), o_(size_t(n), 0.0), e_(size_t(n)), active_(size_t(n), 1), rng_(p.seed) {
    max_basis_ =
        p.max_basis > 0 ? std::min<int64_t>(p.max_basis, n) : spsvm::auto_max_basis(n);
    kappa_ = p.candidates > 0 ? p.candidates : 0;
    ld_ = max_basis_ + 1;
    for (int64_t i = 0; i < n; ++i)
      c_[size_t(i)] = row_C(p, i, y[i]);
    R_.reset(new T[size_t(ld_) * size_t(n)]);
    std::fill(R_.get(), R_.get() + n, T(1));
    yd_.assign(y, y + n);
    M_.assign(size_t(ld_ * ld_), 0.0);
    kss_.assign(size_t(max_basis_ * max_basis_), 0.0);
    v_.assign(size_t(ld_), 0.0);
    w_.assign(size_t(ld_), 0.0);
    pool_.resize(size_t(n));
    std::iota(pool_.begin(), pool_.end(), int64_t(0));
    pos_ = pool_;
    // The largest scratch up front: growing it round by round would copy and
    // page-fault it again and again.
    const int64_t kappa_max = std::min<int64_t>(n, spsvm::max_candidates(kappa_));
    rows_.reserve(size_t(kappa_max) * size_t(n));
    rw_.reserve(size_t(std::min<int64_t>(n, spsvm::kMaxPerRound)) * size_t(n));
  }

  void run(SVMResult* out) {
    // f = 0 to start: every point is active, M = [sum c], v = [sum c y].
    for (int64_t i = 0; i < n_; ++i) {
      M_[0] += c_[size_t(i)];
      v_[0] += c_[size_t(i)] * y_[i];
    }
    objective();
    newton(kNewtonPerRound, false);
    double F = objective();
    int64_t rounds = 0, m_check = 0;
    double F_check = F;
    bool converged = true;
    while (m_ < max_basis_) {
      if (p_.max_iter >= 0 && rounds >= p_.max_iter) {
        converged = false;
        break;
      }
      const int64_t k = spsvm::growth(m_, max_basis_);
      if (!grow(k)) break;
      ++rounds;
      newton(kNewtonPerRound, false);
      F = objective();
      if (m_ - m_check >= std::max<int64_t>(1, m_check / 10)) {
        if (F_check - F < 0.1 * p_.tol * F) break;
        F_check = F;
        m_check = m_;
      }
    }
    newton(kNewtonFinal, true);
    F = objective();
    finish(out, F, rounds, converged);
  }

 private:
  void pool_swap(int64_t a, int64_t b) {
    std::swap(pool_[size_t(a)], pool_[size_t(b)]);
    pos_[size_t(pool_[size_t(a)])] = a;
    pos_[size_t(pool_[size_t(b)])] = b;
  }

  // e_i = c_i (f_i - y_i) on I, 0 elsewhere: the loss part of the gradient
  // with respect to f(x_i).
  void loss_derivative() {
    for (int64_t i = 0; i < n_; ++i)
      e_[size_t(i)] = active_[size_t(i)] ? c_[size_t(i)] * (o_[size_t(i)] - y_[i]) : 0.0;
  }

  // Adds up to k basis functions chosen among random non-basis points.
  // Returns false when none would lower the objective.
  bool grow(int64_t k) {
    const int64_t avail = int64_t(pool_.size());
    const int64_t want = spsvm::candidates(k, kappa_);
    const int64_t nc = std::min(want, avail);
    if (nc == 0) return false;
    cand_.resize(size_t(nc));
    for (int64_t t = 0; t < nc; ++t) {
      std::uniform_int_distribution<int64_t> pick(t, avail - 1);
      pool_swap(t, pick(rng_));
      cand_[size_t(t)] = pool_[size_t(t)];
    }
    rows_.resize(size_t(nc) * size_t(n_));
    row_ptr_.resize(size_t(nc));
    for (int64_t t = 0; t < nc; ++t) row_ptr_[size_t(t)] = &rows_[size_t(t) * size_t(n_)];
    engine_.compute(cand_.data(), nc, row_ptr_.data());

    // One Newton step on beta_j alone: g = (f(x_j) - b) + sum_i e_i K_ij,
    // h = K_jj + sum_I c_i K_ij^2; it lowers F by g^2 / (2 h).
    loss_derivative();
    ca_.resize(size_t(n_));
    for (int64_t i = 0; i < n_; ++i) ca_[size_t(i)] = active_[size_t(i)] ? c_[size_t(i)] : 0.0;
    score_.resize(size_t(nc));
#pragma omp parallel for num_threads(threads_for(nc * n_, threads_)) schedule(dynamic, 1)
    for (int64_t t = 0; t < nc; ++t) {
      double g, h;
      weighted_sums(row_ptr_[size_t(t)], e_.data(), ca_.data(), n_, &g, &h);
      const int64_t j = cand_[size_t(t)];
      g += o_[size_t(j)] - w_[0];
      h += double(engine_.self(j));
      score_[size_t(t)] = h > 0 ? g * g / (2 * h) : 0.0;
    }
    order_.resize(size_t(nc));
    std::iota(order_.begin(), order_.end(), int64_t(0));
    const int64_t take = std::min(k, nc);
    std::partial_sort(
        order_.begin(), order_.begin() + take, order_.end(),
        [this](int64_t a, int64_t b) { return score_[size_t(a)] > score_[size_t(b)]; });
    const double best = score_[size_t(order_[0])];
    if (!(best > 0)) return false;
    chosen_.clear();
    for (int64_t r = 0; r < take && score_[size_t(order_[size_t(r)])] >= 1e-12 * best; ++r)
      chosen_.push_back(order_[size_t(r)]);
    const int64_t added = int64_t(chosen_.size()), c0 = 1 + m_, cols = c0 + added;
    // The new rows of R, and the same weighted by c_i on I (0 off I).
    rw_.resize(size_t(added) * size_t(n_));
#pragma omp parallel for num_threads(threads_for(added * n_, threads_)) schedule(static)
    for (int64_t a = 0; a < added; ++a) {
      const T* src = row_ptr_[size_t(chosen_[size_t(a)])];
      T* r = row(c0 + a);
      T* rw = &rw_[size_t(a) * size_t(n_)];
      for (int64_t i = 0; i < n_; ++i) {
        r[i] = src[i];
        rw[i] = T(ca_[size_t(i)]) * src[i];
      }
    }
    for (int64_t a = 0; a < added; ++a) {
      const int64_t j = cand_[size_t(chosen_[size_t(a)])];
      basis_.push_back(j);
      pool_swap(pos_[size_t(j)], int64_t(pool_.size()) - 1);
      pool_.pop_back();
    }
    m_ += added;
    extend_gram(m_ - added);
    // Border of M and v: M[c0:cols, 0:cols] += (W R[c0:cols]) R[0:cols]' (its
    // lower part), v[c0:cols] += (W R[c0:cols]) y; over all points, W is 0 off I.
    tmp_.resize(size_t(added * cols));
    gemm<T>(false, true, added, cols, n_, T(1), rw_.data(), n_, R_.get(), n_, T(0), tmp_.data(),
            cols, threads_for(cols * added * n_, threads_));
    for (int64_t b = 0; b < added; ++b)
      for (int64_t a = 0; a <= c0 + b; ++a)
        M_[size_t((c0 + b) * ld_ + a)] += double(tmp_[size_t(b * cols + a)]);
    for (int64_t b = 0; b < added; ++b)
      v_[size_t(c0 + b)] += dot_mixed(&rw_[size_t(b) * size_t(n_)], yd_.data(), n_);
    return true;
  }

  // M += sum_{i in moved} sign_i c_i z_i z_i', v += sum sign_i c_i y_i z_i
  // (sign +1 when i joined I): the moved columns of R gathered (rows of R read
  // in ascending order), then GEMMs for the lower triangle, by block rows.
  void update_active(const std::vector<int64_t>& moved) {
    const int64_t cols = 1 + m_;
    for (int64_t s = 0; s < int64_t(moved.size()); s += kGatherChunk) {
      const int64_t cnt = std::min<int64_t>(kGatherChunk, int64_t(moved.size()) - s);
      const int64_t* mv = &moved[size_t(s)];
      wts_.resize(size_t(cnt));
      ymv_.resize(size_t(cnt));
      for (int64_t r = 0; r < cnt; ++r) {
        wts_[size_t(r)] = (active_[size_t(mv[r])] ? 1.0 : -1.0) * c_[size_t(mv[r])];
        ymv_[size_t(r)] = y_[mv[r]];
      }
      g_.resize(size_t(cols * cnt));
      gw_.resize(size_t(cols * cnt));
#pragma omp parallel for num_threads(threads_for(cols * cnt, threads_)) schedule(static)
      for (int64_t a = 0; a < cols; ++a) {
        const T* r = row(a);
        T* g = &g_[size_t(a * cnt)];
        T* gw = &gw_[size_t(a * cnt)];
        for (int64_t q = 0; q < cnt; ++q) {
          g[q] = r[mv[q]];
          gw[q] = T(wts_[size_t(q)]) * g[q];
        }
      }
      tmp_.resize(size_t(kTriangleBlock * cols));
      for (int64_t i0 = 0; i0 < cols; i0 += kTriangleBlock) {
        const int64_t rows = std::min(kTriangleBlock, cols - i0), width = i0 + rows;
        gemm<T>(false, true, rows, width, cnt, T(1), &g_[size_t(i0 * cnt)], cnt, gw_.data(), cnt,
                T(0), tmp_.data(), width, threads_for(rows * width * cnt, threads_));
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t b = 0; b <= i0 + r; ++b)
            M_[size_t((i0 + r) * ld_ + b)] += double(tmp_[size_t(r * width + b)]);
      }
      for (int64_t a = 0; a < cols; ++a)
        v_[size_t(a)] += dot_mixed(&gw_[size_t(a * cnt)], ymv_.data(), cnt);
    }
  }

  T* row(int64_t a) { return R_.get() + size_t(a) * size_t(n_); }

  // Rows and columns s0 .. m-1 of K_SS (double, stride max_basis) from R;
  // K(x_s, x_t) and K(x_t, x_s) come from different GEMM tiles and may round
  // differently, so each pair is averaged.
  void extend_gram(int64_t s0) {
    for (int64_t s = s0; s < m_; ++s) {
      const T* rs = row(1 + s);
      const int64_t bs = basis_[size_t(s)];
      for (int64_t t = 0; t <= s; ++t) {
        const double a = 0.5 * (double(rs[basis_[size_t(t)]]) + double(row(1 + t)[bs]));
        kss_[size_t(s * max_basis_ + t)] = kss_[size_t(t * max_basis_ + s)] = a;
      }
    }
  }

  // grad F = diag(0, K_SS) w + sum_I c_i (f_i - y_i) z_i into grad_. exact:
  // from f over all points (one pass over R); otherwise M w - v, which equals
  // it up to the rounding of M and v.
  void gradient(bool exact) {
    const int64_t cols = 1 + m_;
    grad_.assign(size_t(cols), 0.0);
    if (exact) {
      loss_derivative();
#pragma omp parallel for num_threads(threads_for(cols * n_, threads_)) schedule(dynamic, 8)
      for (int64_t a = 0; a < cols; ++a) grad_[size_t(a)] = dot_mixed(row(a), e_.data(), n_);
    } else {
      // M w from the lower triangle: row a's part below the diagonal serves
      // both M[a, :a] w[:a] and, transposed, M[:a, a] w[a].
      for (int64_t a = 0; a < cols; ++a) {
        const double* ma = &M_[size_t(a * ld_)];
        grad_[size_t(a)] += dot_mixed(ma, w_.data(), a + 1) - v_[size_t(a)];
        axpy_mixed(w_[size_t(a)], ma, grad_.data(), a);
      }
    }
    for (int64_t s = 0; s < m_; ++s)
      grad_[size_t(s + 1)] += dot_mixed(&kss_[size_t(s * max_basis_)], w_.data() + 1, m_);
  }

  // dir_ = -H^{-1} grad_; false when H stays indefinite even with jitter.
  bool newton_direction() {
    const int64_t m1 = m_ + 1;
    double diag = 0;
    for (int64_t a = 0; a < m1; ++a) diag += M_[size_t(a * ld_ + a)];
    for (int64_t s = 0; s < m_; ++s) diag += kss_[size_t(s * max_basis_ + s)];
    diag /= double(m1);
    double jitter = 1e-10 * diag;
    H_.resize(size_t(m1 * m1));
    for (int attempt = 0; attempt < 8; ++attempt, jitter *= 100) {
      for (int64_t a = 0; a < m1; ++a)
        for (int64_t b = 0; b <= a; ++b) H_[size_t(a * m1 + b)] = M_[size_t(a * ld_ + b)];
      for (int64_t s = 0; s < m_; ++s)
        for (int64_t t = 0; t <= s; ++t)
          H_[size_t((s + 1) * m1 + t + 1)] += kss_[size_t(s * max_basis_ + t)];
      for (int64_t a = 0; a < m1; ++a) H_[size_t(a * m1 + a)] += jitter;
      if (cholesky_factor(H_.data(), m1, m1, threads_for(m1 * m1 * m1 / 3, threads_))) {
        dir_.resize(size_t(m1));
        for (int64_t a = 0; a < m1; ++a) dir_[size_t(a)] = -grad_[size_t(a)];
        cholesky_solve(H_.data(), m1, m1, dir_.data());
        return true;
      }
    }
    return false;
  }

  // Up to `cap` Newton steps with exact line search; stops early once a full
  // step leaves the active set unchanged (the minimiser for this S) or the
  // step would gain less than kNewtonStop * tol * F.
  void newton(int cap, bool exact_gradient) {
    const int64_t m1 = m_ + 1;
    std::vector<int64_t> moved;
    for (int it = 0; it < cap; ++it) {
      gradient(exact_gradient);
      if (!newton_direction()) return;
      // Newton decrement: a full step would lower F by about -g'd / 2.
      double decrement = 0;
      for (int64_t a = 0; a < m1; ++a) decrement -= grad_[size_t(a)] * dir_[size_t(a)];
      if (!(decrement > 0) || 0.5 * decrement <= kNewtonStop * p_.tol * objective_) return;
      // Change of f along the direction, for every point, in chunks of points
      // that stay in cache while the rows of R stream by.
      df_.resize(size_t(n_));
      const int64_t nchunks = (n_ + kPointChunk - 1) / kPointChunk;
#pragma omp parallel for num_threads(threads_for(m1 * n_, threads_)) schedule(static)
      for (int64_t c = 0; c < nchunks; ++c) {
        const int64_t i0 = c * kPointChunk, len = std::min(kPointChunk, n_ - i0);
        double* df = &df_[size_t(i0)];
        std::fill(df, df + len, 0.0);
        for (int64_t a = 0; a < m1; ++a) axpy_mixed(dir_[size_t(a)], row(a) + i0, df, len);
      }
      const double t = line_search();
      if (!(t > 0)) return;
      for (int64_t a = 0; a < m1; ++a) w_[size_t(a)] += t * dir_[size_t(a)];
      moved.clear();
      for (int64_t i = 0; i < n_; ++i) {
        o_[size_t(i)] += t * df_[size_t(i)];
        const char now = y_[i] * o_[size_t(i)] < 1.0;
        if (now != active_[size_t(i)]) moved.push_back(i);
        active_[size_t(i)] = now;
      }
      update_active(moved);
      if (moved.empty() && std::fabs(t - 1.0) < 1e-6) return;
    }
  }

  // Minimises F(w + t d) over t >= 0, a convex piecewise quadratic: Newton on
  // its derivative, safeguarded by bisection, ends in a few O(n) passes.
  double line_search() {
    // Regulariser along d: 1/2 (beta + t db)' K (beta + t db) -> p1 t + 1/2 p2 t^2.
    double p1 = 0, p2 = 0;
    for (int64_t s = 0; s < m_; ++s) {
      const double* ks = &kss_[size_t(s * max_basis_)];
      const double kb = dot_mixed(ks, w_.data() + 1, m_), kd = dot_mixed(ks, dir_.data() + 1, m_);
      p1 += dir_[size_t(s + 1)] * kb;
      p2 += dir_[size_t(s + 1)] * kd;
    }
    double lo = 0, hi = std::numeric_limits<double>::infinity(), t = 1.0;
    for (int it = 0; it < 60; ++it) {
      double g = p1 + t * p2, h = p2;
#pragma omp parallel for num_threads(threads_for(n_, threads_)) reduction(+ : g, h) schedule(static)
      for (int64_t i = 0; i < n_; ++i) {
        const double oi = o_[size_t(i)] + t * df_[size_t(i)];
        if (y_[i] * oi < 1.0) {
          const double ci = c_[size_t(i)], di = df_[size_t(i)];
          g += ci * (oi - y_[i]) * di;
          h += ci * di * di;
        }
      }
      if (g == 0) return t;
      if (g < 0) lo = t;
      else hi = t;
      double tn = h > 0 ? t - g / h : 2 * t;
      if (!(tn > lo && tn < hi)) tn = std::isfinite(hi) ? 0.5 * (lo + hi) : 2 * std::max(t, lo);
      if (std::fabs(tn - t) <= 1e-12 * std::max(1.0, t)) return tn;
      t = tn;
    }
    return lo > 0 ? lo : t;
  }

  double objective() {
    objective_ = objective_value();
    return objective_;
  }

  double objective_value() {
    double reg = 0;
    for (int64_t s = 0; s < m_; ++s) {
      reg += w_[size_t(s + 1)] * dot_mixed(&kss_[size_t(s * max_basis_)], w_.data() + 1, m_);
    }
    double loss = 0;
#pragma omp parallel for num_threads(threads_for(n_, threads_)) reduction(+ : loss) schedule(static)
    for (int64_t i = 0; i < n_; ++i) {
      const double xi = 1.0 - y_[i] * o_[size_t(i)];
      if (xi > 0) loss += c_[size_t(i)] * xi * xi;
    }
    return 0.5 * (reg + loss);
  }

  void finish(SVMResult* out, double F, int64_t rounds, bool converged) {
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
    out->objective = F;
    out->iterations = rounds;
    out->converged = converged;
  }

  const SVMParams& p_;
  int64_t n_;
  const int32_t* y_;
  int threads_;
  KernelRows<T> engine_;
  int64_t max_basis_ = 0, kappa_ = 0, ld_ = 1, m_ = 0;
  double objective_ = std::numeric_limits<double>::infinity();  // F at the last objective()
  std::unique_ptr<T[]> R_;             // ld x n: [1; K(x_S, X)]
  std::vector<double> c_, o_, e_, yd_;  // per point: C_i, f(x_i), loss derivative, y_i
  std::vector<char> active_;           // y_i f(x_i) < 1
  std::vector<double> M_, v_, w_;      // ld x ld, ld, ld
  std::vector<int64_t> basis_, pool_;  // S in insertion order; points not in S
  std::vector<int64_t> pos_;           // position of each point in pool_
  std::mt19937_64 rng_;
  // Scratch.
  std::vector<int64_t> cand_, order_, chosen_;
  std::vector<T> rows_, rw_, tmp_, g_, gw_;
  std::vector<T*> row_ptr_;
  std::vector<double> kss_;            // K_SS, max_basis x max_basis
  std::vector<double> ca_, wts_, ymv_, score_, H_, grad_, dir_, df_;
};

}  // namespace

// Double input trains on a float copy: the solver is approximate by design
// (its error is that of a sparse basis, far above float rounding), and float
// kernel columns halve the memory traffic and double the GEMM rate of every
// pass; its Newton systems, gradients and objective accumulate in double.
template <typename T>
dsdkStatus_t svm_spsvm_train(const SVMParams& p, int64_t n, int64_t d, const T* X,
                             const int32_t* y, int num_threads, SVMResult* out, std::string* msg) {
  if constexpr (std::is_same_v<T, float>) {
    (void)msg;
    SpsvmSolver<float> solver(p, n, d, X, y, num_threads);
    solver.run(out);
    return DSDK_STATUS_SUCCESS;
  } else {
    const std::vector<float> Xf = rounded_to_float(X, n * d, num_threads);
    return svm_spsvm_train<float>(p, n, d, Xf.data(), y, num_threads, out, msg);
  }
}

template dsdkStatus_t svm_spsvm_train<float>(const SVMParams&, int64_t, int64_t, const float*,
                                             const int32_t*, int, SVMResult*, std::string*);
template dsdkStatus_t svm_spsvm_train<double>(const SVMParams&, int64_t, int64_t, const double*,
                                              const int32_t*, int, SVMResult*, std::string*);

}  // namespace cpu
}  // namespace dsdk
