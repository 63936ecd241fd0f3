// Pieces of LIBSVM-faithful SMO shared by the CPU solver and its CUDA twin:
// membership of the index sets, the second-order (WSS3) score, the clipped
// two-variable step and the bias (rho) rule.
//
// Problem (LIBSVM's C-SVC dual): min f(a) = 1/2 a'Qa - e'a, 0 <= a_t <= C_t,
// y'a = 0, Q_st = y_s y_t K_st; G = Qa - e is the gradient. With
// I_up = {t : a_t < C_t, y_t = +1  or  a_t > 0, y_t = -1} and
// I_low = {t : a_t < C_t, y_t = -1  or  a_t > 0, y_t = +1},
// a is optimal when max_{I_up} -y G <= min_{I_low} -y G; the stopping rule is
// m(a) - M(a) = max_{I_up}(-y G) + max_{I_low}(y G) < tol.
// Working-set selection (Fan, Chen, Lin 2005, WSS3): i = argmax_{I_up} -y_i G_i,
// then j = argmin over t in I_low with -y_t G_t < -y_i G_i of -b_it^2 / a_it,
// b_it = -y_i G_i + y_t G_t > 0, a_it = K_ii + K_tt - 2 K_it (tau when <= 0).
#pragma once
#include "core/hd.h"

namespace dsdk {

// Curvature floor for non-PSD kernels (sigmoid) and duplicate points.
constexpr double kSmoTau = 1e-12;

template <typename T>
DSDK_HD bool smo_in_up(int y, T alpha, T C) {
  return y > 0 ? alpha < C : alpha > T(0);
}

template <typename T>
DSDK_HD bool smo_in_low(int y, T alpha, T C) {
  return y > 0 ? alpha > T(0) : alpha < C;
}

// a_it of the pair, floored at tau.
template <typename T>
DSDK_HD T smo_curvature(T Kii, T Ktt, T Kit) {
  T a = Kii + Ktt - T(2) * Kit;
  return a > T(0) ? a : T(kSmoTau);
}

// WSS3 score of candidate t for the fixed i: -b^2 / a (smaller is better), where
// gmax = -y_i G_i and minus_yG_t = -y_t G_t. Only meaningful when b > 0, i.e.
// t in I_low and minus_yG_t < gmax.
template <typename T>
DSDK_HD T wss3_score(T gmax, T minus_yG_t, T Kii, T Ktt, T Kit) {
  T b = gmax - minus_yG_t;
  return -(b * b) / smo_curvature(Kii, Ktt, Kit);
}

// The two-variable step on (i in I_up, j in I_low): moves along
// a_i += y_i d, a_j -= y_j d (which keeps y'a fixed) by the minimiser
// d = b / a of the one-dimensional quadratic, clipped to the box. Writes the
// new alphas (landing exactly on a bound when clipped) and returns d >= 0;
// then G_t += y_t d (K_ti - K_tj) for every t.
template <typename T>
DSDK_HD T smo_pair_step(int yi, int yj, T Gi, T Gj, T Kii, T Kjj, T Kij, T Ci, T Cj, T* alpha_i,
                        T* alpha_j) {
  T b = T(yj) * Gj - T(yi) * Gi;
  T d = b / smo_curvature(Kii, Kjj, Kij);
  if (!(d > T(0))) return T(0);
  // Room before a_i or a_j hits a bound in the direction of travel.
  T room_i = yi > 0 ? Ci - *alpha_i : *alpha_i;
  T room_j = yj > 0 ? *alpha_j : Cj - *alpha_j;
  T ai_new, aj_new;
  if (d >= room_i && room_i <= room_j) {
    d = room_i;
    ai_new = yi > 0 ? Ci : T(0);
    aj_new = d >= room_j ? (yj > 0 ? T(0) : Cj) : *alpha_j - T(yj) * d;
  } else if (d >= room_j) {
    d = room_j;
    aj_new = yj > 0 ? T(0) : Cj;
    ai_new = *alpha_i + T(yi) * d;
  } else {
    ai_new = *alpha_i + T(yi) * d;
    aj_new = *alpha_j - T(yj) * d;
  }
  *alpha_i = ai_new;
  *alpha_j = aj_new;
  return d;
}

// LIBSVM's rho: the mean of y_t G_t over free alphas (0 < a_t < C_t); with none,
// the midpoint of the interval that the bounded ones leave. The decision
// function is sum_t y_t a_t K(x, x_t) - rho. Accumulate per thread or block,
// merge, then read rho().
template <typename T>
struct RhoAccumulator {
  T sum_free = T(0);
  long long n_free = 0;
  T ub = T(3.0e38), lb = T(-3.0e38);  // +-infinity that float also represents

  DSDK_HD void add(int y, T alpha, T C, T G) {
    T yG = T(y) * G;
    if (alpha >= C) {
      if (y < 0) ub = ub < yG ? ub : yG;
      else lb = lb > yG ? lb : yG;
    } else if (alpha <= T(0)) {
      if (y > 0) ub = ub < yG ? ub : yG;
      else lb = lb > yG ? lb : yG;
    } else {
      sum_free += yG;
      ++n_free;
    }
  }
  DSDK_HD void merge(const RhoAccumulator& o) {
    sum_free += o.sum_free;
    n_free += o.n_free;
    ub = ub < o.ub ? ub : o.ub;
    lb = lb > o.lb ? lb : o.lb;
  }
  DSDK_HD T rho() const { return n_free > 0 ? sum_free / T(n_free) : (ub + lb) / T(2); }
};

}  // namespace dsdk
