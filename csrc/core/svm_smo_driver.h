// The SMO outer loop, written once for every backend (ThunderSVM's split: one
// driver, primitives with a CPU body and a CUDA body). The driver owns the
// working-set size and selection, the stop rules (global gap, iteration and
// step limits, the stall rule, NaN), the per-row bounds C_t and the model
// building; a backend owns where the buffers live, the precision of the kernel
// rows and how it computes each primitive.
//
// A Backend provides (each call but max_working_set also takes std::string* msg
// last, returns a dsdkStatus_t and fills msg on error):
//   host_labels(const int32_t** y)       the n labels (+1 / -1) in host memory
//   max_working_set(int64_t n, bool automatic) -> int64_t
//                                        the largest q the backend can hold
//                                        (automatic: q was not the caller's)
//   start(const double* C, int64_t q)    alpha = 0, G = -1, bounds C (host, n
//                                        values, valid until the run ends)
//   status(SmoRoundStatus*)              gap of the current iterate, steps of
//                                        the last local solve
//   host_state(const double** alpha, const double** G)
//                                        host copies of the iterate, valid until
//                                        the next call of any primitive
//   use_working_set(const int64_t* ws, int64_t m)
//                                        the next round's set, chosen by the
//                                        driver (core/svm_smo_working_set.h):
//                                        m <= q distinct indices in host
//                                        memory, read during the call
//   kernel_rows()                        the set's kernel rows and m x m block
//   local_smo(double tol, int64_t cap, bool whole)
//                                        WSS3 SMO on the set (smo_local_eps /
//                                        smo_local_done decide when it stops)
//   update_gradient()                    G += the set's alpha change, all n rows
// A backend may queue work asynchronously between two status() calls.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/hd.h"
#include "core/svm_params.h"
#include "core/svm_smo_working_set.h"
#include "core/svm_wss.h"

namespace dsdk {

// What the driver reads after every round.
struct SmoRoundStatus {
  double gap = 0.0;   // max_{I_up} -yG - min_{I_low} -yG (-inf when a set is empty)
  int64_t steps = 0;  // pair steps the last local solve took
};

// Working-set size when the caller leaves it to us: large enough that a round's
// GEMM is efficient and the inner solver makes real progress, small enough that
// rounds stay cheap. Small problems take small sets, so that only the kernel
// rows SMO touches are computed, as LIBSVM does (one thread, 45 digits pairs of
// ~270 rows: 100-115 ms with q = 64 against 165-175 ms with the whole problem;
// breast_cancer's 426 rows: 0.26 ms against 0.47 ms; 1500 synthetic rows:
// 78 ms with q = 128 against 123 ms with q = 512).
inline int64_t smo_auto_working_set(int64_t n) {
  if (n < 1024) return 64;
  if (n < 4096) return 128;
  return n < 20000 ? 512 : 1024;
}

// q: the caller's (even, > 0) or the automatic one, at most the backend's cap,
// then even and in [2, n].
inline int64_t smo_working_set_size(int requested, int64_t n, int64_t cap) {
  int64_t q = requested > 0 ? requested : smo_auto_working_set(n);
  q = std::min(q, cap) / 2 * 2;
  return std::max<int64_t>(2, std::min(q, n / 2 * 2));
}

// The local solve stops when its gap falls below this (computed from its first
// gap, gap0): max(tol, gap0 / 10), ThunderSVM's coarse solve, since the gradient
// outside the set goes stale; tol when the set is the whole problem.
DSDK_HD double smo_local_eps(double tol, double gap0, bool whole) {
  return whole ? tol : (0.1 * gap0 > tol ? 0.1 * gap0 : tol);
}

DSDK_HD bool smo_local_done(double gap, double eps, int64_t steps, int64_t cap) {
  return !(gap >= eps) || steps >= cap;
}

// Exact C-SVC dual by working-set SMO (LIBSVM's rules: WSS3 pairs, stop on the
// maximal violation gap, rho from free SVs) on n rows; p.max_iter bounds the
// rounds. out: the support vectors (ascending), coef = y alpha, bias = -rho,
// the dual objective 1/2 a'Qa - e'a = 1/2 sum_t a_t (G_t - 1).
template <class Backend>
dsdkStatus_t smo_solve(Backend& b, const SVMParams& p, int64_t n, SVMResult* out,
                       std::string* msg) {
  dsdkStatus_t st;
  const int32_t* y = nullptr;
  if ((st = b.host_labels(&y, msg)) != DSDK_STATUS_SUCCESS) return st;
  std::vector<double> C(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) C[size_t(t)] = row_C(p, t, y[t]);
  const int64_t q =
      smo_working_set_size(p.working_set, n, b.max_working_set(n, p.working_set == 0));
  if ((st = b.start(C.data(), q, msg)) != DSDK_STATUS_SUCCESS) return st;
  // LIBSVM's guard against endless loops, counted in SMO steps; the local
  // solve's own bound.
  const int64_t step_limit = std::max<int64_t>(10000000, 100 * n);
  const int64_t inner_cap = 100 * q;
  // A set that holds every variable is the whole problem: solve it to tol.
  const bool whole = q == n;

  SmoWorkingSet ws(n, q);
  const double *alpha = nullptr, *G = nullptr;
  SmoRoundStatus rs;
  if ((st = b.status(&rs, msg)) != DSDK_STATUS_SUCCESS) return st;
  int64_t outer = 0, steps = 0;
  bool converged = false, stalled = false;
  for (;;) {
    if (std::isnan(rs.gap)) {
      if (msg) *msg = "SMO: the gradient became NaN (check X for inf/NaN)";
      return DSDK_STATUS_EXECUTION_FAILED;
    }
    if (rs.gap < p.tol) {
      converged = true;
      break;
    }
    if ((p.max_iter >= 0 && outer >= p.max_iter) || steps >= step_limit) break;
    // A round that made no step keeps nothing: a fresh set holds the maximal
    // violating pair (for q >= 2), so the next round makes progress.
    if ((st = b.host_state(&alpha, &G, msg)) != DSDK_STATUS_SUCCESS) return st;
    ws.next(y, alpha, G, C.data(), stalled);
    if ((st = b.use_working_set(ws.data(), ws.size(), msg)) != DSDK_STATUS_SUCCESS ||
        (st = b.kernel_rows(msg)) != DSDK_STATUS_SUCCESS ||
        (st = b.local_smo(p.tol, inner_cap, whole, msg)) != DSDK_STATUS_SUCCESS ||
        (st = b.update_gradient(msg)) != DSDK_STATUS_SUCCESS ||
        (st = b.status(&rs, msg)) != DSDK_STATUS_SUCCESS)
      return st;
    // Even a fresh set cannot move: rounding has stalled the solver.
    if (rs.steps == 0 && stalled) break;
    stalled = rs.steps == 0;
    steps += rs.steps;
    ++outer;
  }

  if ((st = b.host_state(&alpha, &G, msg)) != DSDK_STATUS_SUCCESS) return st;
  RhoAccumulator<double> rho;
  double obj = 0.0;
  out->index.clear();
  out->coef.clear();
  for (int64_t t = 0; t < n; ++t) {
    const double a = alpha[t];
    rho.add(y[t], a, C[size_t(t)], G[t]);
    obj += a * (G[t] - 1.0);
    if (a > 0.0) {
      out->index.push_back(t);
      out->coef.push_back(y[t] * a);
    }
  }
  out->bias = -rho.rho();
  out->objective = 0.5 * obj;
  out->iterations = outer;
  out->converged = converged;
  return DSDK_STATUS_SUCCESS;
}

}  // namespace dsdk
