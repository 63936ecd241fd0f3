// SVM C API on the CPU: argument checks, SMO optimality checked independently
// (feasibility, KKT gap and dual objective recomputed from the returned alphas
// with a naive kernel), kernel matrix against a naive loop, SPSVM on a
// separable problem, one-vs-one prediction against naive votes; float and double.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "check.h"
#include "dsdkern/dsdkern.h"

namespace {

struct Data {
  int64_t n = 0, d = 0;
  std::vector<double> X;
  std::vector<int32_t> y;
};

// Two Gaussian blobs whose centres are `sep` apart along every axis.
Data blobs(int64_t n, int64_t d, double sep, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  Data D;
  D.n = n;
  D.d = d;
  D.X.resize(size_t(n * d));
  D.y.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    D.y[size_t(i)] = (i % 3 == 0) ? -1 : 1;  // unbalanced on purpose
    for (int64_t c = 0; c < d; ++c)
      D.X[size_t(i * d + c)] = g(rng) + 0.5 * sep * D.y[size_t(i)];
  }
  return D;
}

double naive_kernel(dsdkSVMKernel_t k, const double* a, const double* b, int64_t d, double gamma,
                    double coef0, int degree) {
  double dot = 0, d2 = 0;
  for (int64_t c = 0; c < d; ++c) {
    dot += a[c] * b[c];
    d2 += (a[c] - b[c]) * (a[c] - b[c]);
  }
  switch (k) {
    case DSDK_SVM_KERNEL_LINEAR: return dot;
    case DSDK_SVM_KERNEL_POLY: return std::pow(gamma * dot + coef0, degree);
    case DSDK_SVM_KERNEL_RBF: return std::exp(-gamma * d2);
    case DSDK_SVM_KERNEL_SIGMOID: return std::tanh(gamma * dot + coef0);
  }
  return 0;
}

struct Fit {
  dsdkSVMModelInfo_t info{};
  std::vector<int64_t> index;
  std::vector<double> coef;
};

template <typename T>
dsdkStatus_t train(dsdkHandle_t h, dsdkSVMDescriptor_t desc, dsdkSVMSolver_t solver,
                   const Data& D, Fit* fit) {
  std::vector<T> X(D.X.begin(), D.X.end());
  const dsdkDataType_t t = sizeof(T) == 8 ? DSDK_DATA_DOUBLE : DSDK_DATA_FLOAT;
  dsdkSVMModel_t model = nullptr;
  dsdkStatus_t st = dsdkSVMTrain(h, desc, solver, t, D.n, D.d, X.data(), D.y.data(), &model);
  if (st != DSDK_STATUS_SUCCESS) return st;
  CHECK_OK(dsdkSVMModelGetInfo(model, &fit->info));
  fit->index.resize(size_t(fit->info.nSupport));
  fit->coef.resize(size_t(fit->info.nSupport));
  CHECK_OK(dsdkSVMModelGetSupport(model, fit->index.data(), fit->coef.data()));
  CHECK_OK(dsdkDestroySVMModel(model));
  return st;
}

// Recomputes everything SMO claims from alpha alone and checks LIBSVM's
// optimality conditions: box, y'a = 0, gap max_up(-yG) - min_low(-yG) <= tol,
// the dual objective, and that free SVs sit on the margin with the bias.
void check_smo_optimal(const Data& D, const Fit& fit, dsdkSVMKernel_t kern, double C,
                       double gamma, double coef0, int degree, double tol, double wpos,
                       double wneg, double slack, const double* sample_weight = nullptr) {
  const int64_t n = D.n, d = D.d;
  const size_t N = size_t(n);
  std::vector<double> alpha(N, 0.0);
  CHECK(std::is_sorted(fit.index.begin(), fit.index.end()));
  for (size_t k = 0; k < fit.index.size(); ++k) {
    const int64_t i = fit.index[k];
    CHECK(i >= 0 && i < n);
    CHECK(fit.coef[k] * D.y[size_t(i)] > 0);  // coef = y alpha with alpha > 0
    alpha[size_t(i)] = std::fabs(fit.coef[k]);
  }
  double ya = 0, box_violation = 0;
  std::vector<double> Ci(N);
  for (int64_t i = 0; i < n; ++i) {
    Ci[size_t(i)] = (D.y[size_t(i)] > 0 ? C * wpos : C * wneg) *
                    (sample_weight ? sample_weight[i] : 1.0);
    ya += D.y[size_t(i)] * alpha[size_t(i)];
    box_violation = std::max(box_violation, alpha[size_t(i)] - Ci[size_t(i)]);
  }
  CHECK_NEAR(ya, 0.0, 1e-8 * C * n);
  CHECK(box_violation <= 1e-12 * C);
  // G = Q alpha - e, objective = 1/2 a'Qa - e'a, decision values f = sum y_j a_j K_ij + bias.
  std::vector<double> G(N), f(N);
  double obj = 0;
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t j = 0; j < n; ++j)
      if (alpha[size_t(j)] > 0)
        s += D.y[size_t(j)] * alpha[size_t(j)] *
             naive_kernel(kern, &D.X[size_t(i * d)], &D.X[size_t(j * d)], d, gamma, coef0, degree);
    G[size_t(i)] = D.y[size_t(i)] * s - 1.0;
    f[size_t(i)] = s + fit.info.bias;
    obj += 0.5 * alpha[size_t(i)] * D.y[size_t(i)] * s - alpha[size_t(i)];
  }
  double m_up = -1e300, m_low = 1e300;
  for (int64_t i = 0; i < n; ++i) {
    const double v = -D.y[size_t(i)] * G[size_t(i)], a = alpha[size_t(i)];
    const bool up = D.y[size_t(i)] > 0 ? a < Ci[size_t(i)] : a > 0;
    const bool low = D.y[size_t(i)] > 0 ? a > 0 : a < Ci[size_t(i)];
    if (up) m_up = std::max(m_up, v);
    if (low) m_low = std::min(m_low, v);
  }
  if (!(m_up - m_low <= tol * slack))
    std::printf("  KKT gap %g > %g * %g\n", m_up - m_low, tol, slack);
  CHECK(m_up - m_low <= tol * slack);
  CHECK(fit.info.converged == 1);
  CHECK_NEAR(fit.info.objective, obj, 1e-6 * std::fabs(obj) + 1e-9);
  // Free SVs: y_i f(x_i) = 1 up to the stopping tolerance.
  for (int64_t i = 0; i < n; ++i) {
    const double a = alpha[size_t(i)];
    if (a > 1e-8 * C && a < Ci[size_t(i)] * (1 - 1e-8)) {
      const double m = D.y[size_t(i)] * f[size_t(i)];
      if (!(std::fabs(m - 1.0) <= tol * slack)) {
        std::printf("  free SV %lld has margin %g\n", (long long)i, m);
        CHECK(false);
        break;
      }
    }
  }
}

void expect_bad(dsdkHandle_t h, dsdkStatus_t st, const char* word) {
  CHECK_STATUS(st, DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, word);
}

void test_bad_params(dsdkHandle_t h) {
  Data D = blobs(20, 3, 2.0, 1);
  std::vector<float> Xf(D.X.begin(), D.X.end());
  dsdkSVMDescriptor_t desc;
  CHECK_OK(dsdkCreateSVMDescriptor(&desc));
  dsdkSVMModel_t model = nullptr;
  auto set = [&](dsdkSVMKernel_t k, double C, double gamma, int degree, double tol,
                 int64_t maxIter) {
    CHECK_OK(dsdkSetSVMDescriptor(desc, k, C, gamma, 0.0, degree, tol, maxIter, 1 << 20));
    CHECK_OK(dsdkSetSVMClassWeights(desc, 1.0, 1.0));
    CHECK_OK(dsdkSetSVMSolverOptions(desc, 0, 0, 0, 0));
  };
  auto run = [&](dsdkSVMSolver_t s = DSDK_SVM_SOLVER_SMO) {
    return dsdkSVMTrain(h, desc, s, DSDK_DATA_FLOAT, D.n, D.d, Xf.data(), D.y.data(), &model);
  };
  const auto RBF = DSDK_SVM_KERNEL_RBF;

  set(RBF, 0.0, 0.5, 3, 1e-3, -1);
  expect_bad(h, run(), "C");
  set(RBF, -1.0, 0.5, 3, 1e-3, -1);
  expect_bad(h, run(), "C");
  set(RBF, 1.0, 0.0, 3, 1e-3, -1);
  expect_bad(h, run(), "gamma");
  set(DSDK_SVM_KERNEL_SIGMOID, 1.0, -1.0, 3, 1e-3, -1);
  expect_bad(h, run(), "gamma");
  set(DSDK_SVM_KERNEL_POLY, 1.0, 0.5, 0, 1e-3, -1);
  expect_bad(h, run(), "degree");
  set(RBF, 1.0, 0.5, 3, 0.0, -1);
  expect_bad(h, run(), "tol");
  set(RBF, 1.0, 0.5, 3, 1e-3, -2);
  expect_bad(h, run(), "maxIter");
  set(dsdkSVMKernel_t(7), 1.0, 0.5, 3, 1e-3, -1);
  expect_bad(h, run(), "kernel");
  // gamma is ignored by the linear kernel.
  set(DSDK_SVM_KERNEL_LINEAR, 1.0, 0.0, 3, 1e-3, -1);
  CHECK_OK(run());
  CHECK_OK(dsdkDestroySVMModel(model));

  set(RBF, 1.0, 0.5, 3, 1e-3, -1);
  CHECK_OK(dsdkSetSVMClassWeights(desc, 0.0, 1.0));
  expect_bad(h, run(), "weightPositive");
  CHECK_OK(dsdkSetSVMClassWeights(desc, 1.0, -2.0));
  expect_bad(h, run(), "weightNegative");
  CHECK_OK(dsdkSetSVMClassWeights(desc, 1.0, 1.0));
  CHECK_OK(dsdkSetSVMSolverOptions(desc, 3, 0, 0, 0));
  expect_bad(h, run(), "workingSetSize");
  CHECK_OK(dsdkSetSVMSolverOptions(desc, -2, 0, 0, 0));
  expect_bad(h, run(), "workingSetSize");
  CHECK_OK(dsdkSetSVMSolverOptions(desc, 0, -1, 0, 0));
  expect_bad(h, run(DSDK_SVM_SOLVER_SPSVM), "maxBasis");
  CHECK_OK(dsdkSetSVMSolverOptions(desc, 0, 0, -1, 0));
  expect_bad(h, run(DSDK_SVM_SOLVER_SPSVM), "candidates");
  CHECK_OK(dsdkSetSVMSolverOptions(desc, 0, 0, 0, 0));
  expect_bad(h, run(dsdkSVMSolver_t(5)), "solver");
  std::vector<double> w(size_t(D.n), 1.0);
  CHECK_OK(dsdkSetSVMSampleWeights(desc, D.n - 1, w.data()));
  expect_bad(h, run(), "sample weights");
  w[3] = 0.0;
  CHECK_OK(dsdkSetSVMSampleWeights(desc, D.n, w.data()));
  expect_bad(h, run(DSDK_SVM_SOLVER_SPSVM), "sample weight 3");
  w[3] = std::numeric_limits<double>::quiet_NaN();
  CHECK_OK(dsdkSetSVMSampleWeights(desc, D.n, w.data()));
  expect_bad(h, run(), "sample weight 3");
  CHECK_STATUS(dsdkSetSVMSampleWeights(desc, -1, w.data()), DSDK_STATUS_BAD_PARAM);
  CHECK_OK(dsdkSetSVMSampleWeights(desc, 0, nullptr));
  CHECK_OK(run());
  CHECK_OK(dsdkDestroySVMModel(model));

  // Arguments of the call itself.
  auto train = [&](dsdkDataType_t t, int64_t n, int64_t d, const void* X, const int32_t* y,
                   dsdkSVMModel_t* m) {
    return dsdkSVMTrain(h, desc, DSDK_SVM_SOLVER_SMO, t, n, d, X, y, m);
  };
  expect_bad(h, train(DSDK_DATA_FLOAT, D.n, D.d, Xf.data(), D.y.data(), nullptr), "model");
  expect_bad(h, dsdkSVMTrain(h, nullptr, DSDK_SVM_SOLVER_SMO, DSDK_DATA_FLOAT, D.n, D.d,
                             Xf.data(), D.y.data(), &model), "desc");
  CHECK(model == nullptr);
  expect_bad(h, train(dsdkDataType_t(9), D.n, D.d, Xf.data(), D.y.data(), &model), "dtype");
  CHECK_STATUS(train(DSDK_DATA_HALF, D.n, D.d, Xf.data(), D.y.data(), &model),
               DSDK_STATUS_NOT_SUPPORTED);
  CHECK_MESSAGE(h, "dtype");
  expect_bad(h, train(DSDK_DATA_FLOAT, 1, D.d, Xf.data(), D.y.data(), &model), "n must");
  expect_bad(h, train(DSDK_DATA_FLOAT, D.n, 0, Xf.data(), D.y.data(), &model), "d must");
  expect_bad(h, train(DSDK_DATA_FLOAT, D.n, D.d, nullptr, D.y.data(), &model), "X");
  expect_bad(h, train(DSDK_DATA_FLOAT, D.n, D.d, Xf.data(), nullptr, &model), "y");
  std::vector<int32_t> y = D.y;
  y[4] = 0;
  expect_bad(h, train(DSDK_DATA_FLOAT, D.n, D.d, Xf.data(), y.data(), &model), "y[4]");
  std::fill(y.begin(), y.end(), 1);
  expect_bad(h, train(DSDK_DATA_FLOAT, D.n, D.d, Xf.data(), y.data(), &model), "y");
  std::vector<float> Xbad = Xf;
  Xbad[7] = std::numeric_limits<float>::quiet_NaN();
  expect_bad(h, train(DSDK_DATA_FLOAT, D.n, D.d, Xbad.data(), D.y.data(), &model), "X");
  std::vector<double> Xbad_d = D.X;
  Xbad_d[11] = std::numeric_limits<double>::infinity();
  expect_bad(h, train(DSDK_DATA_DOUBLE, D.n, D.d, Xbad_d.data(), D.y.data(), &model), "X");
  CHECK(model == nullptr);
  CHECK_STATUS(dsdkSVMTrain(nullptr, desc, DSDK_SVM_SOLVER_SMO, DSDK_DATA_FLOAT, D.n, D.d,
                            Xf.data(), D.y.data(), &model),
               DSDK_STATUS_NOT_INITIALIZED);

  // Kernel matrix.
  std::vector<float> K(size_t(D.n * D.n));
  auto km = [&](dsdkSVMDescriptor_t ds, dsdkDataType_t t, int64_t n, int64_t m, int64_t d,
                const void* X, const void* Z, void* out) {
    return dsdkSVMKernelMatrix(h, ds, t, n, m, d, X, Z, out);
  };
  expect_bad(h, km(nullptr, DSDK_DATA_FLOAT, D.n, D.n, D.d, Xf.data(), Xf.data(), K.data()),
             "desc");
  set(RBF, 1.0, -0.5, 3, 1e-3, -1);
  expect_bad(h, km(desc, DSDK_DATA_FLOAT, D.n, D.n, D.d, Xf.data(), Xf.data(), K.data()), "gamma");
  // C and tol are not kernel parameters: the kernel matrix does not look at them.
  set(RBF, -1.0, 0.5, 3, -1.0, -1);
  CHECK_OK(km(desc, DSDK_DATA_FLOAT, D.n, D.n, D.d, Xf.data(), Xf.data(), K.data()));
  expect_bad(h, km(desc, dsdkDataType_t(99), D.n, D.n, D.d, Xf.data(), Xf.data(), K.data()),
             "dtype");
  expect_bad(h, km(desc, DSDK_DATA_FLOAT, -1, D.n, D.d, Xf.data(), Xf.data(), K.data()), "n must");
  expect_bad(h, km(desc, DSDK_DATA_FLOAT, D.n, -1, D.d, Xf.data(), Xf.data(), K.data()), "m must");
  expect_bad(h, km(desc, DSDK_DATA_FLOAT, D.n, D.n, 0, Xf.data(), Xf.data(), K.data()), "d must");
  expect_bad(h, km(desc, DSDK_DATA_FLOAT, D.n, D.n, D.d, nullptr, Xf.data(), K.data()), "X");
  expect_bad(h, km(desc, DSDK_DATA_FLOAT, D.n, D.n, D.d, Xf.data(), nullptr, K.data()), "Z");
  expect_bad(h, km(desc, DSDK_DATA_FLOAT, D.n, D.n, D.d, Xf.data(), Xf.data(), nullptr), "K");
  CHECK_OK(km(desc, DSDK_DATA_FLOAT, 0, D.n, D.d, nullptr, nullptr, nullptr));

  // Descriptor and model functions without a handle report BAD_PARAM.
  CHECK_STATUS(dsdkCreateSVMDescriptor(nullptr), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkDestroySVMDescriptor(nullptr), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetSVMDescriptor(nullptr, RBF, 1, 1, 0, 3, 1e-3, -1, 0), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetSVMClassWeights(nullptr, 1, 1), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkSetSVMSolverOptions(nullptr, 0, 0, 0, 0), DSDK_STATUS_BAD_PARAM);
  CHECK_STATUS(dsdkDestroySVMModel(nullptr), DSDK_STATUS_BAD_PARAM);
  dsdkSVMModelInfo_t info;
  CHECK_STATUS(dsdkSVMModelGetInfo(nullptr, &info), DSDK_STATUS_BAD_PARAM);
  CHECK_OK(dsdkDestroySVMDescriptor(desc));
}

template <typename T>
void test_smo_optimal(dsdkHandle_t h) {
  const bool dbl = sizeof(T) == 8;
  Data D = blobs(300, 5, 1.0, 7);
  dsdkSVMDescriptor_t desc;
  CHECK_OK(dsdkCreateSVMDescriptor(&desc));
  struct Case {
    dsdkSVMKernel_t k;
    double C, gamma, coef0;
    int degree;
    double wpos, wneg;
    int ws;
  };
  const Case cases[] = {
      {DSDK_SVM_KERNEL_RBF, 1.0, 0.2, 0.0, 3, 1.0, 1.0, 0},
      {DSDK_SVM_KERNEL_RBF, 10.0, 0.5, 0.0, 3, 2.0, 0.5, 0},
      {DSDK_SVM_KERNEL_RBF, 1.0, 0.2, 0.0, 3, 1.0, 1.0, 2},   // plain SMO, one pair per round
      {DSDK_SVM_KERNEL_RBF, 1.0, 0.2, 0.0, 3, 1.0, 1.0, 16},  // many rounds, cache churn
      {DSDK_SVM_KERNEL_LINEAR, 0.5, 1.0, 0.0, 3, 1.0, 1.0, 0},
      {DSDK_SVM_KERNEL_POLY, 1.0, 0.2, 1.0, 3, 1.0, 1.0, 0},
      {DSDK_SVM_KERNEL_SIGMOID, 1.0, 0.01, 0.0, 3, 1.0, 1.0, 0},
  };
  // Double input: tol 1e-6 keeps double kernel rows, tol 1e-3 trains on float
  // rows (as float input does). Float kernel values limit what can be proved:
  // they perturb G by ~1e-7 * sum(alpha), so those runs get more slack.
  std::vector<double> tols = {1e-3};
  if (dbl) tols.push_back(1e-6);
  for (double tol : tols) {
    const double slack = tol < 1e-4 ? 1.01 : 1.5;
    for (const Case& c : cases) {
      CHECK_OK(dsdkSetSVMDescriptor(desc, c.k, c.C, c.gamma, c.coef0, c.degree, tol, -1,
                                    size_t(1) << 16));  // tiny cache: rows get evicted
      CHECK_OK(dsdkSetSVMClassWeights(desc, c.wpos, c.wneg));
      CHECK_OK(dsdkSetSVMSolverOptions(desc, c.ws, 0, 0, 0));
      Fit fit;
      CHECK_OK(train<T>(h, desc, DSDK_SVM_SOLVER_SMO, D, &fit));
      CHECK(fit.info.nSupport > 0);
      check_smo_optimal(D, fit, c.k, c.C, c.gamma, c.coef0, c.degree, tol, c.wpos, c.wneg,
                        slack);
    }
  }
  // A round limit stops the solver without an error.
  CHECK_OK(dsdkSetSVMDescriptor(desc, DSDK_SVM_KERNEL_RBF, 1.0, 0.2, 0.0, 3, 1e-6, 1, 0));
  CHECK_OK(dsdkSetSVMClassWeights(desc, 1.0, 1.0));
  CHECK_OK(dsdkSetSVMSolverOptions(desc, 4, 0, 0, 0));
  Fit fit;
  CHECK_OK(train<T>(h, desc, DSDK_SVM_SOLVER_SMO, D, &fit));
  CHECK(fit.info.converged == 0);
  CHECK(fit.info.iterations == 1);
  CHECK_OK(dsdkDestroySVMDescriptor(desc));
}

// The same problem in float and double, 1 and 2 threads: same optimum.
void test_smo_precisions_agree(dsdkHandle_t h) {
  Data D = blobs(400, 8, 0.8, 3);
  dsdkSVMDescriptor_t desc;
  CHECK_OK(dsdkCreateSVMDescriptor(&desc));
  CHECK_OK(dsdkSetSVMDescriptor(desc, DSDK_SVM_KERNEL_RBF, 2.0, 0.1, 0, 3, 1e-4, -1, 1 << 24));
  Fit fd, ff, f1;
  CHECK_OK(train<double>(h, desc, DSDK_SVM_SOLVER_SMO, D, &fd));
  CHECK_OK(train<float>(h, desc, DSDK_SVM_SOLVER_SMO, D, &ff));
  CHECK_OK(dsdkSetNumThreads(h, 1));
  CHECK_OK(train<double>(h, desc, DSDK_SVM_SOLVER_SMO, D, &f1));
  CHECK_OK(dsdkSetNumThreads(h, 2));
  CHECK_NEAR(ff.info.objective, fd.info.objective, 1e-5 * std::fabs(fd.info.objective));
  CHECK_NEAR(f1.info.objective, fd.info.objective, 1e-9 * std::fabs(fd.info.objective));
  CHECK_NEAR(ff.info.bias, fd.info.bias, 1e-3);
  CHECK_OK(dsdkDestroySVMDescriptor(desc));
}

template <typename T>
void test_kernel_matrix(dsdkHandle_t h) {
  const bool dbl = sizeof(T) == 8;
  Data A = blobs(37, 11, 1.0, 5), B = blobs(1500, 11, 1.0, 6);  // odd sizes, several tiles
  std::vector<T> X(A.X.begin(), A.X.end()), Z(B.X.begin(), B.X.end());
  // Round the inputs to T so that the reference sees the same points.
  std::vector<double> Xr(X.begin(), X.end()), Zr(Z.begin(), Z.end());
  std::vector<T> K(size_t(A.n * B.n));
  dsdkSVMDescriptor_t desc;
  CHECK_OK(dsdkCreateSVMDescriptor(&desc));
  const dsdkSVMKernel_t kinds[] = {DSDK_SVM_KERNEL_LINEAR, DSDK_SVM_KERNEL_POLY,
                                   DSDK_SVM_KERNEL_RBF, DSDK_SVM_KERNEL_SIGMOID};
  for (dsdkSVMKernel_t k : kinds) {
    const double gamma = 0.07, coef0 = 0.3;
    const int degree = 3;
    CHECK_OK(dsdkSetSVMDescriptor(desc, k, 1.0, gamma, coef0, degree, 1e-3, -1, 0));
    CHECK_OK(dsdkSVMKernelMatrix(h, desc, dbl ? DSDK_DATA_DOUBLE : DSDK_DATA_FLOAT, A.n, B.n,
                                 A.d, X.data(), Z.data(), K.data()));
    double worst = 0;
    for (int64_t i = 0; i < A.n; ++i)
      for (int64_t j = 0; j < B.n; ++j) {
        const double ref = naive_kernel(k, &Xr[size_t(i * A.d)], &Zr[size_t(j * B.d)], A.d,
                                        gamma, coef0, degree);
        const double err = std::fabs(double(K[size_t(i * B.n + j)]) - ref) / (1.0 + std::fabs(ref));
        worst = std::max(worst, err);
      }
    if (!(worst < (dbl ? 1e-12 : 2e-5))) std::printf("  kernel %d: error %g\n", int(k), worst);
    CHECK(worst < (dbl ? 1e-12 : 2e-5));
  }
  CHECK_OK(dsdkDestroySVMDescriptor(desc));
}

// Separable blobs: the sparse primal solver must classify its training set perfectly.
template <typename T>
void test_spsvm_separable(dsdkHandle_t h) {
  Data D = blobs(600, 4, 3.0, 11);
  dsdkSVMDescriptor_t desc;
  CHECK_OK(dsdkCreateSVMDescriptor(&desc));
  CHECK_OK(dsdkSetSVMDescriptor(desc, DSDK_SVM_KERNEL_RBF, 10.0, 0.25, 0, 3, 1e-3, -1, 0));
  Fit fit;
  CHECK_OK(train<T>(h, desc, DSDK_SVM_SOLVER_SPSVM, D, &fit));
  CHECK(fit.info.nSupport > 0 && fit.info.nSupport < D.n);
  CHECK(std::is_sorted(fit.index.begin(), fit.index.end()));
  int64_t correct = 0;
  for (int64_t i = 0; i < D.n; ++i) {
    double s = fit.info.bias;
    for (size_t k = 0; k < fit.index.size(); ++k)
      s += fit.coef[k] * naive_kernel(DSDK_SVM_KERNEL_RBF, &D.X[size_t(i * D.d)],
                                      &D.X[size_t(fit.index[k] * D.d)], D.d, 0.25, 0, 3);
    correct += (s > 0 ? 1 : -1) == D.y[size_t(i)];
  }
  if (correct != D.n)
    std::printf("  spsvm: %lld / %lld correct\n", (long long)correct, (long long)D.n);
  CHECK(correct == D.n);
  CHECK(fit.info.objective > 0);
  CHECK_OK(dsdkDestroySVMDescriptor(desc));
}

// Degenerate inputs: two points; many exact duplicates with opposite labels
// (singular kernel blocks, a non-PSD-looking curvature of zero); a linear
// kernel in SPSVM (K_SS of rank d, so the Newton system needs its jitter).
template <typename T>
void test_degenerate(dsdkHandle_t h) {
  dsdkSVMDescriptor_t desc;
  CHECK_OK(dsdkCreateSVMDescriptor(&desc));
  CHECK_OK(dsdkSetSVMDescriptor(desc, DSDK_SVM_KERNEL_RBF, 1.0, 0.5, 0, 3, 1e-3, -1, 0));
  Data two;
  two.n = 2;
  two.d = 1;
  two.X = {-1.0, 1.0};
  two.y = {-1, 1};
  for (dsdkSVMSolver_t s : {DSDK_SVM_SOLVER_SMO, DSDK_SVM_SOLVER_SPSVM}) {
    Fit fit;
    CHECK_OK(train<T>(h, desc, s, two, &fit));
    double f0 = fit.info.bias, f1 = fit.info.bias;
    for (size_t k = 0; k < fit.index.size(); ++k) {
      const double xk = two.X[size_t(fit.index[k])];
      f0 += fit.coef[k] * std::exp(-0.5 * (xk + 1) * (xk + 1));
      f1 += fit.coef[k] * std::exp(-0.5 * (xk - 1) * (xk - 1));
    }
    CHECK(f0 < 0 && f1 > 0);
  }
  // 40 copies of one point per label plus a separable remainder.
  Data dup = blobs(120, 3, 3.0, 21);
  for (int64_t i = 0; i < 80; ++i) {
    for (int64_t c = 0; c < dup.d; ++c) dup.X[size_t(i * dup.d + c)] = 0.25;
    dup.y[size_t(i)] = i < 40 ? 1 : -1;
  }
  Fit fit;
  CHECK_OK(train<T>(h, desc, DSDK_SVM_SOLVER_SMO, dup, &fit));
  check_smo_optimal(dup, fit, DSDK_SVM_KERNEL_RBF, 1.0, 0.5, 0, 3, 1e-3, 1, 1,
                    sizeof(T) == 8 ? 1.01 : 1.5);
  CHECK_OK(train<T>(h, desc, DSDK_SVM_SOLVER_SPSVM, dup, &fit));
  CHECK(std::isfinite(fit.info.objective) && std::isfinite(fit.info.bias));
  Data lin = blobs(300, 4, 4.0, 23);
  CHECK_OK(dsdkSetSVMDescriptor(desc, DSDK_SVM_KERNEL_LINEAR, 10.0, 1, 0, 3, 1e-3, -1, 0));
  CHECK_OK(train<T>(h, desc, DSDK_SVM_SOLVER_SPSVM, lin, &fit));
  int64_t correct = 0;
  for (int64_t i = 0; i < lin.n; ++i) {
    double s = fit.info.bias;
    for (size_t k = 0; k < fit.index.size(); ++k)
      s += fit.coef[k] * naive_kernel(DSDK_SVM_KERNEL_LINEAR, &lin.X[size_t(i * lin.d)],
                                      &lin.X[size_t(fit.index[k] * lin.d)], lin.d, 1, 0, 3);
    correct += (s > 0 ? 1 : -1) == lin.y[size_t(i)];
  }
  CHECK(correct == lin.n);
  CHECK_OK(dsdkDestroySVMDescriptor(desc));
}

}  // namespace

// The decision function against sum_j coef_j K(z, x_j) + bias from the
// model's own support set and a naive double kernel, for both solvers and a
// non-RBF kernel, on query points the model never saw; and its checks.
template <typename T>
void test_decision_function(dsdkHandle_t h) {
  const dsdkDataType_t t = sizeof(T) == 8 ? DSDK_DATA_DOUBLE : DSDK_DATA_FLOAT;
  Data D = blobs(240, 4, 1.2, 11), Q = blobs(77, 4, 1.2, 12);
  std::vector<T> X(D.X.begin(), D.X.end()), Z(Q.X.begin(), Q.X.end());
  dsdkSVMDescriptor_t desc;
  CHECK_OK(dsdkCreateSVMDescriptor(&desc));
  struct Case {
    dsdkSVMKernel_t k;
    dsdkSVMSolver_t solver;
  };
  const Case cases[] = {{DSDK_SVM_KERNEL_RBF, DSDK_SVM_SOLVER_SMO},
                        {DSDK_SVM_KERNEL_RBF, DSDK_SVM_SOLVER_SPSVM},
                        {DSDK_SVM_KERNEL_POLY, DSDK_SVM_SOLVER_SMO}};
  for (const Case& c : cases) {
    const double gamma = 0.3, coef0 = 1.0;
    const int degree = 2;
    CHECK_OK(dsdkSetSVMDescriptor(desc, c.k, 1.0, gamma, coef0, degree, 1e-3, -1, 1 << 20));
    dsdkSVMModel_t model = nullptr;
    CHECK_OK(dsdkSVMTrain(h, desc, c.solver, t, D.n, D.d, X.data(), D.y.data(), &model));
    dsdkSVMModelInfo_t info{};
    CHECK_OK(dsdkSVMModelGetInfo(model, &info));
    std::vector<int64_t> index(size_t(info.nSupport));
    std::vector<double> coef(size_t(info.nSupport));
    CHECK_OK(dsdkSVMModelGetSupport(model, index.data(), coef.data()));
    // The descriptor changes after training; the model keeps its own kernel.
    CHECK_OK(dsdkSetSVMDescriptor(desc, DSDK_SVM_KERNEL_LINEAR, 5.0, 9.0, 0.0, 3, 1e-3, -1, 0));
    std::vector<T> out(size_t(Q.n));
    CHECK_OK(dsdkSVMDecisionFunction(h, model, t, D.n, D.d, X.data(), Q.n, Z.data(),
                                     out.data()));
    const double rel = sizeof(T) == 8 ? 1e-9 : 1e-4;
    for (int64_t i = 0; i < Q.n; ++i) {
      double want = info.bias, scale = std::fabs(info.bias);
      for (size_t j = 0; j < index.size(); ++j) {
        const double kv = naive_kernel(c.k, &Q.X[size_t(i * Q.d)], &D.X[size_t(index[j] * D.d)],
                                       D.d, gamma, coef0, degree);
        want += coef[j] * kv;
        scale += std::fabs(coef[j] * kv);
      }
      CHECK_NEAR(double(out[size_t(i)]), want, rel * scale + 1e-12);
    }
    // Bad arguments name themselves; m = 0 is a no-op.
    expect_bad(h, dsdkSVMDecisionFunction(h, model, t, D.n - 1, D.d, X.data(), Q.n, Z.data(),
                                          out.data()), "n must");
    expect_bad(h, dsdkSVMDecisionFunction(h, model, t, D.n, D.d + 1, X.data(), Q.n, Z.data(),
                                          out.data()), "d must");
    expect_bad(h, dsdkSVMDecisionFunction(h, model, t, D.n, D.d, X.data(), -1, Z.data(),
                                          out.data()), "m must");
    expect_bad(h, dsdkSVMDecisionFunction(h, model, t, D.n, D.d, nullptr, Q.n, Z.data(),
                                          out.data()), "X");
    expect_bad(h, dsdkSVMDecisionFunction(h, model, t, D.n, D.d, X.data(), Q.n, nullptr,
                                          out.data()), "Z");
    expect_bad(h, dsdkSVMDecisionFunction(h, model, t, D.n, D.d, X.data(), Q.n, Z.data(),
                                          nullptr), "out");
    expect_bad(h, dsdkSVMDecisionFunction(h, model, dsdkDataType_t(99), D.n, D.d, X.data(), Q.n,
                                          Z.data(), out.data()), "dtype");
    CHECK_OK(dsdkSVMDecisionFunction(h, model, t, D.n, D.d, nullptr, 0, nullptr, nullptr));
    CHECK_OK(dsdkDestroySVMModel(model));
  }
  expect_bad(h, dsdkSVMDecisionFunction(h, nullptr, t, D.n, D.d, X.data(), Q.n, Z.data(),
                                        nullptr), "model");
  CHECK_STATUS(dsdkSVMDecisionFunction(nullptr, nullptr, t, 0, 0, nullptr, 0, nullptr, nullptr),
               DSDK_STATUS_NOT_INITIALIZED);
  CHECK_OK(dsdkDestroySVMDescriptor(desc));
}

// Per-row C (sample weights): the SMO solution satisfies the KKT conditions
// with the bound C * class weight * w_i, C = 100 with all weights 0.01 is the
// C = 1 problem, and SPSVM trains with them.
void test_sample_weights(dsdkHandle_t h) {
  const Data D = blobs(300, 4, 1.5, 5);
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> u(0.2, 3.0);
  std::vector<double> w(size_t(D.n));
  for (double& v : w) v = u(rng);
  dsdkSVMDescriptor_t desc;
  CHECK_OK(dsdkCreateSVMDescriptor(&desc));
  CHECK_OK(dsdkSetSVMDescriptor(desc, DSDK_SVM_KERNEL_RBF, 2.0, 0.3, 0.0, 3, 1e-4, -1, 0));
  CHECK_OK(dsdkSetSVMClassWeights(desc, 1.5, 0.5));
  CHECK_OK(dsdkSetSVMSampleWeights(desc, D.n, w.data()));
  Fit fit;
  CHECK_OK(train<double>(h, desc, DSDK_SVM_SOLVER_SMO, D, &fit));
  check_smo_optimal(D, fit, DSDK_SVM_KERNEL_RBF, 2.0, 0.3, 0.0, 3, 1e-4, 1.5, 0.5, 1.01,
                    w.data());
  Fit sp;
  CHECK_OK(train<double>(h, desc, DSDK_SVM_SOLVER_SPSVM, D, &sp));
  CHECK(sp.info.nSupport > 0);

  std::vector<double> hundredth(size_t(D.n), 0.01);
  CHECK_OK(dsdkSetSVMClassWeights(desc, 1.0, 1.0));
  CHECK_OK(dsdkSetSVMDescriptor(desc, DSDK_SVM_KERNEL_RBF, 100.0, 0.3, 0.0, 3, 1e-4, -1, 0));
  CHECK_OK(dsdkSetSVMSampleWeights(desc, D.n, hundredth.data()));
  Fit scaled, plain;
  CHECK_OK(train<double>(h, desc, DSDK_SVM_SOLVER_SMO, D, &scaled));
  CHECK_OK(dsdkSetSVMSampleWeights(desc, 0, nullptr));
  CHECK_OK(dsdkSetSVMDescriptor(desc, DSDK_SVM_KERNEL_RBF, 1.0, 0.3, 0.0, 3, 1e-4, -1, 0));
  CHECK_OK(train<double>(h, desc, DSDK_SVM_SOLVER_SMO, D, &plain));
  CHECK(scaled.index == plain.index);
  CHECK_NEAR(scaled.info.objective, plain.info.objective, 1e-9 * std::fabs(plain.info.objective));
  CHECK_OK(dsdkDestroySVMDescriptor(desc));
}

// dsdkSVMTrainOneVsOne against one dsdkSVMTrain per pair on that pair's rows
// (the reference): the same support vectors (as rows of X), coefficients,
// bias and objective for every pair, both solvers, with class and sample
// weights; pairs trained side by side must not differ from pairs trained alone.
void test_one_vs_one(dsdkHandle_t h) {
  const int k = 4;
  // 6 pairs of 400 rows x 20 features: enough kernel work that the pairs train
  // side by side (cpu/svm_pairs.cpp's kTeamWork).
  const Data B = blobs(800, 20, 0.5, 11);
  std::mt19937 rng(13);
  std::uniform_real_distribution<double> u(0.3, 2.0);
  std::vector<int32_t> labels(size_t(B.n));
  std::vector<double> w(size_t(B.n));
  for (int64_t i = 0; i < B.n; ++i) {
    labels[size_t(i)] = int32_t((i * 7) % k);
    w[size_t(i)] = u(rng);
  }
  const double cw[k] = {1.0, 2.0, 0.5, 1.5};
  dsdkSVMDescriptor_t desc;
  CHECK_OK(dsdkCreateSVMDescriptor(&desc));
  CHECK_OK(dsdkSetSVMDescriptor(desc, DSDK_SVM_KERNEL_RBF, 1.5, 0.2, 0.0, 3, 1e-3, -1, 1 << 20));
  CHECK_OK(dsdkSetSVMSolverOptions(desc, 0, 0, 0, 7));
  CHECK_OK(dsdkSetSVMSampleWeights(desc, B.n, w.data()));
  for (dsdkSVMSolver_t solver : {DSDK_SVM_SOLVER_SMO, DSDK_SVM_SOLVER_SPSVM}) {
    dsdkSVMModel_t models[k * (k - 1) / 2];
    CHECK_OK(dsdkSVMTrainOneVsOne(h, desc, solver, DSDK_DATA_DOUBLE, B.n, B.d, B.X.data(),
                                  labels.data(), k, cw, models));
    int p = 0;
    for (int i = 0; i < k; ++i)
      for (int j = i + 1; j < k; ++j, ++p) {
        Data D;
        std::vector<int64_t> rows;
        std::vector<double> wp;
        for (int64_t t = 0; t < B.n; ++t) {
          const int32_t c = labels[size_t(t)];
          if (c != i && c != j) continue;
          rows.push_back(t);
          D.y.push_back(c == i ? 1 : -1);
          wp.push_back(w[size_t(t)]);
          D.X.insert(D.X.end(), B.X.begin() + t * B.d, B.X.begin() + (t + 1) * B.d);
        }
        D.n = int64_t(rows.size());
        D.d = B.d;
        dsdkSVMDescriptor_t one;
        CHECK_OK(dsdkCreateSVMDescriptor(&one));
        CHECK_OK(dsdkSetSVMDescriptor(one, DSDK_SVM_KERNEL_RBF, 1.5, 0.2, 0.0, 3, 1e-3, -1,
                                      1 << 20));
        CHECK_OK(dsdkSetSVMSolverOptions(one, 0, 0, 0, 7 + uint64_t(p)));
        CHECK_OK(dsdkSetSVMClassWeights(one, cw[i], cw[j]));
        CHECK_OK(dsdkSetSVMSampleWeights(one, D.n, wp.data()));
        Fit ref;
        CHECK_OK(train<double>(h, one, solver, D, &ref));
        CHECK_OK(dsdkDestroySVMDescriptor(one));
        dsdkSVMModelInfo_t info{};
        CHECK_OK(dsdkSVMModelGetInfo(models[p], &info));
        std::vector<int64_t> index(size_t(info.nSupport));
        std::vector<double> coef(size_t(info.nSupport));
        CHECK_OK(dsdkSVMModelGetSupport(models[p], index.data(), coef.data()));
        CHECK(info.nSupport == ref.info.nSupport);
        for (size_t s = 0; s < index.size() && s < ref.index.size(); ++s) {
          CHECK(index[s] == rows[size_t(ref.index[s])]);
          CHECK_NEAR(coef[s], ref.coef[s], 1e-9 * (1 + std::fabs(ref.coef[s])));
        }
        CHECK_NEAR(info.bias, ref.info.bias, 1e-9);
        CHECK_NEAR(info.objective, ref.info.objective, 1e-9 * std::fabs(ref.info.objective));
        // The pair's model predicts on X with the whole n (its indices are rows of X).
        std::vector<double> f(3);
        CHECK_OK(dsdkSVMDecisionFunction(h, models[p], DSDK_DATA_DOUBLE, B.n, B.d, B.X.data(), 3,
                                         B.X.data(), f.data()));
        CHECK_OK(dsdkDestroySVMModel(models[p]));
      }
  }
  // Bad arguments: nothing is returned.
  dsdkSVMModel_t models[k * (k - 1) / 2];
  auto ovo = [&](const int32_t* lab, int classes, const double* weights) {
    return dsdkSVMTrainOneVsOne(h, desc, DSDK_SVM_SOLVER_SMO, DSDK_DATA_DOUBLE, B.n, B.d,
                                B.X.data(), lab, classes, weights, models);
  };
  expect_bad(h, ovo(labels.data(), 1, nullptr), "numClasses");
  expect_bad(h, ovo(nullptr, k, nullptr), "labels");
  std::vector<int32_t> bad = labels;
  bad[5] = k;
  expect_bad(h, ovo(bad.data(), k, nullptr), "labels[5]");
  bad = labels;
  for (int32_t& c : bad) c = c == 2 ? 1 : c;
  expect_bad(h, ovo(bad.data(), k, nullptr), "class 2");
  CHECK(models[0] == nullptr);
  const double neg[k] = {1.0, 1.0, -1.0, 1.0};
  expect_bad(h, ovo(labels.data(), k, neg), "classWeights[2]");
  expect_bad(h, dsdkSVMTrainOneVsOne(h, desc, DSDK_SVM_SOLVER_SMO, DSDK_DATA_DOUBLE, B.n, B.d,
                                     B.X.data(), labels.data(), k, nullptr, nullptr),
             "models");
  CHECK_OK(dsdkDestroySVMDescriptor(desc));
}

// dsdkSVMPredictOneVsOne against the votes computed here from a naive double
// kernel, on a random one-vs-one model (any coefficients define one; a class
// without support vectors included), with more queries than one 64 MiB kernel
// block holds; then its bad arguments.
template <typename T>
void test_predict_one_vs_one(dsdkHandle_t h) {
  constexpr int k = 4, pairs = k * (k - 1) / 2;
  const int64_t n_support[k] = {700, 0, 900, 500};
  const int64_t nsv = 2100, d = 3, m = 8100;
  const dsdkDataType_t dt = sizeof(T) == 4 ? DSDK_DATA_FLOAT : DSDK_DATA_DOUBLE;
  const double gamma = 0.4;
  std::mt19937 rng(31);
  std::normal_distribution<double> g(0.0, 1.0);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  // Inputs rounded to T once; the reference reads the rounded values in double.
  std::vector<T> SV(size_t(nsv * d)), Z(size_t(m * d));
  for (T& v : SV) v = T(g(rng));
  for (T& v : Z) v = T(g(rng));
  std::vector<double> dual((k - 1) * size_t(nsv)), intercept(pairs);
  for (double& v : dual) v = u(rng);
  for (double& v : intercept) v = 0.5 * u(rng);
  const std::vector<double> SVd(SV.begin(), SV.end()), Zd(Z.begin(), Z.end());

  dsdkSVMDescriptor_t desc;
  CHECK_OK(dsdkCreateSVMDescriptor(&desc));
  CHECK_OK(dsdkSetSVMDescriptor(desc, DSDK_SVM_KERNEL_RBF, 1.0, gamma, 0.0, 3, 1e-3, -1, 0));
  std::vector<double> dec(size_t(m) * pairs);
  std::vector<int32_t> win(static_cast<size_t>(m)), win_only(static_cast<size_t>(m), -1);
  CHECK_OK(dsdkSVMPredictOneVsOne(h, desc, dt, k, n_support, d, SV.data(), dual.data(),
                                  intercept.data(), m, Z.data(), dec.data(), win.data()));
  CHECK_OK(dsdkSVMPredictOneVsOne(h, desc, dt, k, n_support, d, SV.data(), dual.data(),
                                  intercept.data(), m, Z.data(), nullptr, win_only.data()));
  CHECK(win_only == win);

  int64_t start[k + 1] = {0};
  for (int c = 0; c < k; ++c) start[c + 1] = start[c] + n_support[c];
  // Float kernel values err by ~1e-7 each, summed over ~1600 coefficients <= 1.
  const double tol = sizeof(T) == 4 ? 2e-4 : 1e-10;
  double worst = 0;
  int64_t decided = 0;
  std::vector<double> K(static_cast<size_t>(nsv));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t s = 0; s < nsv; ++s)
      K[size_t(s)] = naive_kernel(DSDK_SVM_KERNEL_RBF, &Zd[size_t(i * d)], &SVd[size_t(s * d)],
                                  d, gamma, 0.0, 3);
    int votes[k] = {0};
    bool close = false;
    int p = 0;
    for (int a = 0; a < k; ++a)
      for (int b = a + 1; b < k; ++b, ++p) {
        double f = intercept[size_t(p)];
        for (int64_t s = start[a]; s < start[a + 1]; ++s)
          f += dual[size_t((b - 1) * nsv + s)] * K[size_t(s)];
        for (int64_t s = start[b]; s < start[b + 1]; ++s)
          f += dual[size_t(a * nsv + s)] * K[size_t(s)];
        worst = std::max(worst, std::fabs(f - dec[size_t(i * pairs + p)]));
        close = close || std::fabs(f) <= tol;
        ++votes[f > 0 ? a : b];
      }
    if (close) continue;  // a vote within rounding of 0 may go either way
    ++decided;
    CHECK(win[size_t(i)] == int32_t(std::max_element(votes, votes + k) - votes));
  }
  std::printf("predict one-vs-one (%s): worst |f - f_ref| = %.3g, %lld of %lld rows voted\n",
              sizeof(T) == 4 ? "float" : "double", worst, (long long)decided, (long long)m);
  CHECK(worst <= tol);
  CHECK(decided >= m - 10);

  auto predict = [&](dsdkSVMDescriptor_t dd, dsdkDataType_t t, int classes, const int64_t* ns,
                     const void* sv, const void* z, double* out, int32_t* w) {
    return dsdkSVMPredictOneVsOne(h, dd, t, classes, ns, d, sv, dual.data(), intercept.data(), m,
                                  z, out, w);
  };
  expect_bad(h, predict(nullptr, dt, k, n_support, SV.data(), Z.data(), dec.data(), win.data()),
             "desc");
  expect_bad(h, predict(desc, dsdkDataType_t(9), k, n_support, SV.data(), Z.data(), dec.data(),
                        win.data()),
             "dtype");
  expect_bad(h, predict(desc, dt, 1, n_support, SV.data(), Z.data(), dec.data(), win.data()),
             "numClasses");
  const int64_t negative[k] = {700, -1, 900, 500};
  expect_bad(h, predict(desc, dt, k, negative, SV.data(), Z.data(), dec.data(), win.data()),
             "nSupport[1]");
  expect_bad(h, predict(desc, dt, k, nullptr, SV.data(), Z.data(), dec.data(), win.data()),
             "nSupport");
  expect_bad(h, predict(desc, dt, k, n_support, nullptr, Z.data(), dec.data(), win.data()), "SV");
  expect_bad(h, predict(desc, dt, k, n_support, SV.data(), nullptr, dec.data(), win.data()), "Z");
  expect_bad(h, predict(desc, dt, k, n_support, SV.data(), Z.data(), nullptr, nullptr),
             "both NULL");
  CHECK_OK(dsdkSetSVMDescriptor(desc, DSDK_SVM_KERNEL_RBF, 1.0, -1.0, 0.0, 3, 1e-3, -1, 0));
  expect_bad(h, predict(desc, dt, k, n_support, SV.data(), Z.data(), dec.data(), win.data()),
             "gamma");
  CHECK_OK(dsdkDestroySVMDescriptor(desc));
}

int main() {
  dsdkHandle_t h;
  CHECK_OK(dsdkCreate(&h, DSDK_BACKEND_CPU));
  CHECK_OK(dsdkSetNumThreads(h, 2));
  test_bad_params(h);
  test_sample_weights(h);
  test_one_vs_one(h);
  test_smo_optimal<double>(h);
  test_smo_optimal<float>(h);
  test_smo_precisions_agree(h);
  test_kernel_matrix<double>(h);
  test_kernel_matrix<float>(h);
  test_spsvm_separable<double>(h);
  test_spsvm_separable<float>(h);
  test_degenerate<double>(h);
  test_degenerate<float>(h);
  test_decision_function<double>(h);
  test_decision_function<float>(h);
  test_predict_one_vs_one<double>(h);
  test_predict_one_vs_one<float>(h);
  CHECK_OK(dsdkDestroy(h));
  return check::report("test_svm");
}
