// The sparse primal SVM's CPU primitives under the shared driver
// (core/svm_spsvm_driver.h, which holds the algorithm).
//
// R ((1 + cap) x n, float32 for either input type, see svm_spsvm_train) holds
// the z_i as columns: row 0 is all ones, row 1 + s is K(x_{S_s}, X), so that
// every pass over it is contiguous and every GEMM on it is in the A B' form.
// The products summed into the Newton matrix are float32 GEMMs accumulated
// into double; passes over R accumulate in double (vmath.h's *_mixed).
#include <algorithm>
#include <cmath>
#include <memory>
#include <type_traits>
#include <vector>

#include "core/svm_backends.h"
#include "core/svm_comm.h"
#include "core/svm_spsvm_driver.h"
#include "core/svm_spsvm_policy.h"
#include "cpu/cholesky.h"
#include "cpu/gemm.h"
#include "cpu/svm_kernel.h"
#include "cpu/vmath.h"

namespace dsdk {
namespace cpu {
namespace {

constexpr int64_t kGatherChunk = 8192;   // moved points gathered per GEMM of an M update
constexpr int64_t kPointChunk = 2048;    // points per cache block of the f update
constexpr int64_t kTriangleBlock = 128;  // rows per GEMM of a lower-triangle update
// The border GEMM runs over the gathered active points when they are at most
// this fraction of all: the gather costs a read of R, the GEMM saves n - |I|
// of its inner dimension.
constexpr double kGatherActive = 0.5;

// Every n-sized vector of the solver, and R. The stride-th points (the
// candidates' scoring set) are a strided copy of X, so that their kernel rows
// come from one GEMM too.
template <typename T>
class CpuBackend {
 public:
  CpuBackend(const SVMParams& p, int64_t n, int64_t d, const T* X, const int32_t* y,
             int threads)
      : comm_(p.comm ? *p.comm : SVMComm::alone(n)), n_(n), d_(d), X_(X), y_(y),
        threads_(threads), stride_(spsvm::score_stride(comm_.n_global)),
        sub0_(comm_.first_multiple(stride_)),
        nsub_(n > sub0_ ? (n - sub0_ + stride_ - 1) / stride_ : 0),
        Xsub_(strided(X, n, d, stride_, sub0_)),
        engine_(make_kernel_fn<T>(p), X, n, d, threads),
        sub_(make_kernel_fn<T>(p), stride_ > 1 ? Xsub_.data() : X, nsub_, d, threads),
        c_(size_t(n)), yd_(y, y + n), o_(size_t(n), 0.0), e_(size_t(n)), df_(size_t(n)),
        active_(size_t(n), 1) {
    for (int64_t i = 0; i < n; ++i) c_[size_t(i)] = row_C(p, i, y[i]);
    const int64_t N = comm_.n_global;
    const int64_t cap = spsvm::basis_cap(p.max_basis, N);
    R_.reset(new T[size_t(cap + 1) * size_t(n)]);
    std::fill(R_.get(), R_.get() + n, T(1));
  }

  int64_t total_rows() const { return comm_.n_global; }
  int processes() const { return comm_.distributed() ? comm_.world : 1; }
  // A failed exchange throws SVMCommError, which dsdkSVMTrain reports.
  dsdkStatus_t reduce(double* v, int64_t count, std::string*) {
    comm_.sum(v, count);
    return DSDK_STATUS_SUCCESS;
  }

  dsdkStatus_t start(double out[2], std::string*) {
    out[0] = out[1] = 0;
    for (int64_t i = 0; i < n_; ++i) {
      out[0] += c_[size_t(i)];
      out[1] += c_[size_t(i)] * y_[i];
    }
    return DSDK_STATUS_SUCCESS;
  }

  dsdkStatus_t score(const int64_t* cand, int64_t nc, int64_t stride, double* out,
                     std::string* msg) {
    const dsdkStatus_t st = spsvm::check_score_stride(stride, stride_, msg);
    if (st != DSDK_STATUS_SUCCESS) return st;
    pts_.resize(size_t(nc * d_));
    comm_.gather_rows(X_, n_, d_, cand, nc, pts_.data());
    // (.data() + offset, never &v[offset]: a rank's shard may hold no scoring rows.)
    rows_.resize(size_t(nc) * size_t(nsub_));
    ptr_.resize(size_t(nc));
    for (int64_t t = 0; t < nc; ++t) ptr_[size_t(t)] = rows_.data() + size_t(t) * size_t(nsub_);
    sub_.compute_points(pts_.data(), nc, ptr_.data());
    loss_derivative();
    es_.resize(size_t(nsub_));
    cs_.resize(size_t(nsub_));
    for (int64_t q = 0; q < nsub_; ++q) {
      const size_t i = size_t(sub0_ + q * stride_);
      es_[size_t(q)] = e_[i];
      cs_[size_t(q)] = active_[i] ? c_[i] : 0.0;
    }
#pragma omp parallel for num_threads(threads_for(nc * nsub_, threads_)) schedule(dynamic, 1)
    for (int64_t t = 0; t < nc; ++t) {
      double* q = out + 4 * t;
      weighted_sums(ptr_[size_t(t)], es_.data(), cs_.data(), nsub_, &q[0], &q[1]);
      const int64_t i = comm_.local(cand[t], n_);  // the owner alone adds f and K_jj
      q[2] = i >= 0 ? o_[size_t(i)] : 0.0;
      q[3] = i >= 0 ? double(engine_.self(i)) : 0.0;
    }
    return DSDK_STATUS_SUCCESS;
  }

  dsdkStatus_t add_basis(const int64_t* basis, int64_t m, int64_t k, double* gram,
                         double* border, double* vb, std::string*) {
    const int64_t c0 = 1 + m, cols = c0 + k, m1 = m + k;
    ptr_.resize(size_t(k));
    for (int64_t b = 0; b < k; ++b) ptr_[size_t(b)] = row(c0 + b);
    pts_.resize(size_t(k * d_));
    comm_.gather_rows(X_, n_, d_, basis + m, k, pts_.data());
    engine_.compute_points(pts_.data(), k, ptr_.data());
    // Each reading of R at a basis point's column comes from that point's owner.
    for (int64_t b = 0; b < k; ++b) {
      const T* rb = row(c0 + b);
      const int64_t jb = comm_.local(basis[m + b], n_);
      for (int64_t a = 0; a < m1; ++a) {
        const int64_t ja = comm_.local(basis[a], n_);
        gram[b * m1 + a] = 0.5 * ((ja >= 0 ? double(rb[ja]) : 0.0) +
                                  (jb >= 0 ? double(row(1 + a)[jb]) : 0.0));
      }
    }
    // border = (W R_new) R[0:cols]' with W = c_i on I: over the gathered
    // active points when they are few enough to pay for the gather (it reads
    // R once; the GEMM then runs |I| / n of the flops), else over all points
    // with W = 0 off I.
    act_.clear();
    for (int64_t i = 0; i < n_; ++i)
      if (active_[size_t(i)]) act_.push_back(i);
    const int64_t na = int64_t(act_.size());
    const bool gather = double(na) <= kGatherActive * double(n_);
    const int64_t len = gather ? na : n_;
    rw_.resize(size_t(k) * size_t(len));
    if (gather) {
      ga_.resize(size_t(cols) * size_t(na));
      yact_.resize(size_t(na));
      for (int64_t q = 0; q < na; ++q) yact_[size_t(q)] = y_[act_[size_t(q)]];
#pragma omp parallel for num_threads(threads_for(cols * na, threads_)) schedule(static)
      for (int64_t a = 0; a < cols; ++a) {
        const T* r = row(a);
        T* g = ga_.data() + size_t(a) * size_t(na);
        for (int64_t q = 0; q < na; ++q) g[q] = r[act_[size_t(q)]];
      }
#pragma omp parallel for num_threads(threads_for(k * na, threads_)) schedule(static)
      for (int64_t b = 0; b < k; ++b) {
        const T* g = ga_.data() + size_t(c0 + b) * size_t(na);
        T* rw = rw_.data() + size_t(b) * size_t(na);
        for (int64_t q = 0; q < na; ++q) rw[q] = T(c_[size_t(act_[size_t(q)])]) * g[q];
      }
    } else {
#pragma omp parallel for num_threads(threads_for(k * n_, threads_)) schedule(static)
      for (int64_t b = 0; b < k; ++b) {
        const T* r = row(c0 + b);
        T* rw = rw_.data() + size_t(b) * size_t(n_);
        for (int64_t i = 0; i < n_; ++i) rw[i] = active_[size_t(i)] ? T(c_[size_t(i)]) * r[i] : T(0);
      }
    }
    tmp_.resize(size_t(k * cols));
    gemm<T>(false, true, k, cols, len, T(1), rw_.data(), len, gather ? ga_.data() : R_.get(), len,
            T(0), tmp_.data(), cols, threads_for(cols * k * len, threads_));
    const double* yv = gather ? yact_.data() : yd_.data();
    for (int64_t b = 0; b < k; ++b) {
      for (int64_t a = 0; a <= c0 + b; ++a) border[b * cols + a] = double(tmp_[size_t(b * cols + a)]);
      vb[b] = dot_mixed(rw_.data() + size_t(b) * size_t(len), yv, len);
    }
    return DSDK_STATUS_SUCCESS;
  }

  dsdkStatus_t gradient(int64_t cols, double* g, std::string*) {
    loss_derivative();
#pragma omp parallel for num_threads(threads_for(cols * n_, threads_)) schedule(dynamic, 8)
    for (int64_t a = 0; a < cols; ++a) g[a] = dot_mixed(row(a), e_.data(), n_);
    return DSDK_STATUS_SUCCESS;
  }

  // In chunks of points that stay in cache while the rows of R stream by.
  dsdkStatus_t direction(const double* dir, int64_t cols, std::string*) {
    const int64_t nchunks = (n_ + kPointChunk - 1) / kPointChunk;
#pragma omp parallel for num_threads(threads_for(cols * n_, threads_)) schedule(static)
    for (int64_t c = 0; c < nchunks; ++c) {
      const int64_t i0 = c * kPointChunk, len = std::min(kPointChunk, n_ - i0);
      double* df = df_.data() + size_t(i0);
      std::fill(df, df + len, 0.0);
      for (int64_t a = 0; a < cols; ++a) axpy_mixed(dir[a], row(a) + i0, df, len);
    }
    return DSDK_STATUS_SUCCESS;
  }

  dsdkStatus_t line_sums(double t, double out[2], std::string*) {
    double g = 0, h = 0;
#pragma omp parallel for num_threads(threads_for(n_, threads_)) reduction(+ : g, h) schedule(static)
    for (int64_t i = 0; i < n_; ++i) {
      const double oi = o_[size_t(i)] + t * df_[size_t(i)];
      if (y_[i] * oi < 1.0) {
        const double ci = c_[size_t(i)], di = df_[size_t(i)];
        g += ci * (oi - y_[i]) * di;
        h += ci * di * di;
      }
    }
    out[0] = g;
    out[1] = h;
    return DSDK_STATUS_SUCCESS;
  }

  dsdkStatus_t step(double t, double out[2], std::string*) {
    moved_.clear();
    double loss = 0;
    for (int64_t i = 0; i < n_; ++i) {
      const double oi = o_[size_t(i)] += t * df_[size_t(i)];
      const double xi = 1.0 - y_[i] * oi;
      const char now = xi > 0;
      if (now) loss += c_[size_t(i)] * xi * xi;
      if (now != active_[size_t(i)]) moved_.push_back(i);
      active_[size_t(i)] = now;
    }
    out[0] = double(moved_.size());
    out[1] = loss;
    return DSDK_STATUS_SUCCESS;
  }

  // The moved columns of R gathered (rows of R read in ascending order), then
  // GEMMs for the lower triangle, by block rows.
  dsdkStatus_t moved_products(int64_t cols, double* dM, int64_t ldm, double* dv, std::string*) {
    for (int64_t s = 0; s < int64_t(moved_.size()); s += kGatherChunk) {
      const int64_t cnt = std::min<int64_t>(kGatherChunk, int64_t(moved_.size()) - s);
      const int64_t* mv = moved_.data() + size_t(s);
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
        T* g = g_.data() + size_t(a * cnt);
        T* gw = gw_.data() + size_t(a * cnt);
        for (int64_t q = 0; q < cnt; ++q) {
          g[q] = r[mv[q]];
          gw[q] = T(wts_[size_t(q)]) * g[q];
        }
      }
      tmp_.resize(size_t(kTriangleBlock * cols));
      for (int64_t i0 = 0; i0 < cols; i0 += kTriangleBlock) {
        const int64_t rows = std::min(kTriangleBlock, cols - i0), width = i0 + rows;
        gemm<T>(false, true, rows, width, cnt, T(1), g_.data() + size_t(i0 * cnt), cnt,
                gw_.data(), cnt, T(0), tmp_.data(), width,
                threads_for(rows * width * cnt, threads_));
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t b = 0; b <= i0 + r; ++b)
            dM[(i0 + r) * ldm + b] += double(tmp_[size_t(r * width + b)]);
      }
      for (int64_t a = 0; a < cols; ++a)
        dv[a] += dot_mixed(gw_.data() + size_t(a * cnt), ymv_.data(), cnt);
    }
    return DSDK_STATUS_SUCCESS;
  }

 private:
  // Rows i0, i0 + stride, ... of X (empty when stride is 1).
  static std::vector<T> strided(const T* X, int64_t n, int64_t d, int64_t stride, int64_t i0) {
    std::vector<T> out;
    if (stride == 1) return out;
    out.reserve(size_t((n - i0 + stride - 1) / stride * d));
    for (int64_t i = i0; i < n; i += stride) out.insert(out.end(), X + i * d, X + (i + 1) * d);
    return out;
  }

  T* row(int64_t a) { return R_.get() + size_t(a) * size_t(n_); }

  // e_i = c_i (f_i - y_i) on I, 0 elsewhere: the loss part of the gradient
  // with respect to f(x_i).
  void loss_derivative() {
    for (int64_t i = 0; i < n_; ++i)
      e_[size_t(i)] = active_[size_t(i)] ? c_[size_t(i)] * (o_[size_t(i)] - y_[i]) : 0.0;
  }

  SVMComm comm_;  // this rank's rows among all ranks' (one process: all of them)
  int64_t n_, d_;
  const T* X_;
  const int32_t* y_;
  int threads_;
  int64_t stride_, sub0_, nsub_;  // scoring set: local rows sub0_ + q stride_, q < nsub_
  std::vector<T> Xsub_;  // every stride-th row of X (empty when stride is 1)
  KernelRows<T> engine_, sub_;
  std::unique_ptr<T[]> R_;                   // (1 + cap) x n: [1; K(x_S, X)]
  std::vector<double> c_, yd_, o_, e_, df_;  // per point: C_i, y_i, f(x_i), loss derivative, step of f
  std::vector<char> active_;                 // y_i f(x_i) < 1
  std::vector<int64_t> moved_;               // points whose activity the last step changed
  std::vector<int64_t> act_;                 // the active points, for the border
  // Scratch.
  std::vector<T> pts_, rows_, rw_, tmp_, g_, gw_, ga_;
  std::vector<T*> ptr_;
  std::vector<double> es_, cs_, wts_, ymv_, yact_;
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
    CpuBackend<float> backend(p, n, d, X, y, num_threads);
    spsvm::Driver<CpuBackend<float>> driver(
        p, &backend, spsvm::Factorizer{cholesky_border, cholesky_solve, num_threads});
    return driver.run(out, msg);
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
