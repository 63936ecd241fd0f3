// Kernel SVM entry points: descriptor and model lifecycle, argument checks
// that name the bad argument, dispatch to the CPU or CUDA solvers.
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "core/context.h"
#include "core/svm_backends.h"
#include "core/svm_comm.h"
#include "core/svm_descriptor.h"
#include "cpu/threads.h"

namespace dsdk {
namespace {

const char* kernel_name(dsdkSVMKernel_t k) {
  switch (k) {
    case DSDK_SVM_KERNEL_LINEAR: return "linear";
    case DSDK_SVM_KERNEL_POLY: return "poly";
    case DSDK_SVM_KERNEL_RBF: return "rbf";
    case DSDK_SVM_KERNEL_SIGMOID: return "sigmoid";
    case DSDK_SVM_KERNEL_MAX_ENUM: break;
  }
  return "unknown";
}

bool positive(double v) { return std::isfinite(v) && v > 0.0; }

bool valid_kernel(int k) {
  return k == DSDK_SVM_KERNEL_LINEAR || k == DSDK_SVM_KERNEL_POLY || k == DSDK_SVM_KERNEL_RBF ||
         k == DSDK_SVM_KERNEL_SIGMOID;
}

// The parameters that define the kernel function (all that the kernel matrix needs).
dsdkStatus_t check_kernel(dsdkHandle_t h, const char* api, const dsdkSVMStruct& desc) {
  if (!valid_kernel(desc.kernel))
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: kernel %d is not a dsdkSVMKernel_t", api,
                desc.kernel);
  const SVMParams& p = desc.params;
  if (p.kernel != DSDK_SVM_KERNEL_LINEAR && !positive(p.gamma))
    return fail(h, DSDK_STATUS_BAD_PARAM,
                "%s: gamma must be a finite value > 0 for the %s kernel, got %g", api,
                kernel_name(p.kernel), p.gamma);
  if ((p.kernel == DSDK_SVM_KERNEL_POLY || p.kernel == DSDK_SVM_KERNEL_SIGMOID) &&
      !std::isfinite(p.coef0))
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: coef0 must be finite, got %g", api, p.coef0);
  if (p.kernel == DSDK_SVM_KERNEL_POLY && p.degree < 1)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: degree must be >= 1 for the poly kernel, got %d",
                api, p.degree);
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t check_training(dsdkHandle_t h, const char* api, const dsdkSVMStruct& desc) {
  dsdkStatus_t st = check_kernel(h, api, desc);
  if (st != DSDK_STATUS_SUCCESS) return st;
  const SVMParams& p = desc.params;
  if (!positive(p.C)) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: C must be > 0, got %g", api, p.C);
  if (!positive(p.tol))
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: tol must be > 0, got %g", api, p.tol);
  if (p.max_iter < -1)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: maxIter must be >= 0 or -1 (no limit), got %lld",
                api, (long long)p.max_iter);
  if (!positive(p.weight_pos))
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: weightPositive must be > 0, got %g", api,
                p.weight_pos);
  if (!positive(p.weight_neg))
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: weightNegative must be > 0, got %g", api,
                p.weight_neg);
  if (p.working_set < 0 || p.working_set % 2 != 0)
    return fail(h, DSDK_STATUS_BAD_PARAM,
                "%s: workingSetSize must be even and >= 2, or 0 (automatic), got %d", api,
                p.working_set);
  if (p.max_basis < 0)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: maxBasis must be >= 1, or 0 (automatic), got %d",
                api, p.max_basis);
  if (p.candidates < 0)
    return fail(h, DSDK_STATUS_BAD_PARAM,
                "%s: candidates must be >= 1, or 0 (automatic), got %d", api, p.candidates);
  return DSDK_STATUS_SUCCESS;
}

// BAD_PARAM for a value outside dsdkDataType_t, NOT_SUPPORTED for one the
// backend has no kernels for.
dsdkStatus_t check_dtype(dsdkHandle_t h, const char* api, const dsdkDataType_t& dtype) {
  const int v = enum_value(dtype);
  if (v != DSDK_DATA_FLOAT && v != DSDK_DATA_DOUBLE && v != DSDK_DATA_HALF &&
      v != DSDK_DATA_BFLOAT16)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: dtype %d is not a dsdkDataType_t", api, v);
  const dsdkDataType_t t = dtype;
  const bool ok = h->backend == DSDK_BACKEND_CPU
                      ? (t == DSDK_DATA_FLOAT || t == DSDK_DATA_DOUBLE)
                      : t == DSDK_DATA_FLOAT;
  if (!ok)
    return fail(h, DSDK_STATUS_NOT_SUPPORTED, "%s: dtype %s is not supported by the %s backend",
                api, dtype_name(t), h->backend == DSDK_BACKEND_CPU ? "CPU" : "CUDA");
  return DSDK_STATUS_SUCCESS;
}

// BAD_PARAM naming `name` unless v >= lo.
dsdkStatus_t check_at_least(dsdkHandle_t h, const char* api, const char* name, int64_t v,
                            int64_t lo) {
  if (v >= lo) return DSDK_STATUS_SUCCESS;
  return fail(h, DSDK_STATUS_BAD_PARAM, "%s: %s must be >= %lld, got %lld", api, name,
              (long long)lo, (long long)v);
}

// BAD_PARAM naming the first null pointer among (name, pointer) pairs.
dsdkStatus_t check_not_null(dsdkHandle_t h, const char* api,
                            std::initializer_list<std::pair<const char*, const void*>> ptrs) {
  for (const auto& [name, ptr] : ptrs)
    if (!ptr) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: %s is NULL", api, name);
  return DSDK_STATUS_SUCCESS;
}

// The descriptor's sample weights against the training call: one per row,
// finite and > 0, and only where the backend implements them (CUDA: SMO).
dsdkStatus_t check_sample_weights(dsdkHandle_t h, const char* api, const dsdkSVMStruct& desc,
                                  dsdkSVMSolver_t solver, int64_t n) {
  const std::vector<double>& w = desc.sample_weight;
  if (w.empty()) return DSDK_STATUS_SUCCESS;
  if (h->backend != DSDK_BACKEND_CPU && solver != DSDK_SVM_SOLVER_SMO)
    return fail(h, DSDK_STATUS_NOT_SUPPORTED,
                "%s: sample weights are not supported by the CUDA backend's SPSVM solver", api);
  if (int64_t(w.size()) != n)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: %lld sample weights were set for n = %lld rows",
                api, (long long)w.size(), (long long)n);
  for (size_t i = 0; i < w.size(); ++i)
    if (!positive(w[i]))
      return fail(h, DSDK_STATUS_BAD_PARAM,
                  "%s: sample weight %zu must be a finite value > 0, got %g", api, i, w[i]);
  return DSDK_STATUS_SUCCESS;
}

// Runs f(T{}) with T the host element type of a CPU call's dtype (FLOAT or
// DOUBLE, already checked).
template <class F>
auto with_host_type(dsdkDataType_t t, F&& f) {
  return t == DSDK_DATA_DOUBLE ? f(double{}) : f(float{});
}

template <typename T>
bool all_finite(const T* X, int64_t count, int threads) {
  int64_t bad = 0;
#pragma omp parallel for num_threads(cpu::threads_for(count, threads)) reduction(+ : bad) \
    schedule(static)
  for (int64_t i = 0; i < count; ++i) bad += std::isfinite(X[i]) ? 0 : 1;
  return bad == 0;
}

dsdkStatus_t check_finite(dsdkHandle_t h, const char* api, dsdkDataType_t t, int64_t count,
                          const void* X) {
  const bool finite = with_host_type(t, [&](auto tag) {
    return all_finite(static_cast<const decltype(tag)*>(X), count, h->num_threads);
  });
  if (!finite) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: X contains NaN or infinity", api);
  return DSDK_STATUS_SUCCESS;
}

// Host-side checks of the training data (CPU handles: the data is host memory):
// labels +1 or -1, counted into *pos and *neg, and X finite.
dsdkStatus_t check_host_data(dsdkHandle_t h, const char* api, dsdkDataType_t t, int64_t n,
                             int64_t d, const void* X, const int32_t* y, int64_t* pos,
                             int64_t* neg) {
  *pos = *neg = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (y[i] == 1) ++*pos;
    else if (y[i] == -1) ++*neg;
    else
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: y[%lld] = %d, labels must be +1 or -1", api,
                  (long long)i, int(y[i]));
  }
  return check_finite(h, api, t, n * d, X);
}

dsdkStatus_t check_both_classes(dsdkHandle_t h, const char* api, int64_t pos, int64_t neg) {
  if (pos > 0 && neg > 0) return DSDK_STATUS_SUCCESS;
  return fail(h, DSDK_STATUS_BAD_PARAM,
              "%s: y holds only the %s class; both +1 and -1 are needed", api, pos ? "+1" : "-1");
}

// The arguments dsdkSVMTrain and dsdkSVMTrainOneVsOne share, checked alike;
// min_n is 0 for one rank's shard (X and y may then be NULL).
dsdkStatus_t check_train_call(dsdkHandle_t h, const char* api, const dsdkSVMStruct& desc,
                              dsdkSVMSolver_t solver, dsdkDataType_t dtype, int64_t n, int64_t d,
                              const void* X, const int32_t* y, const char* y_name,
                              int64_t min_n) {
  dsdkStatus_t st = check_training(h, api, desc);
  if (st != DSDK_STATUS_SUCCESS) return st;
  const int solver_value = enum_value(solver);
  if (solver_value != DSDK_SVM_SOLVER_SMO && solver_value != DSDK_SVM_SOLVER_SPSVM)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: solver %d is not a dsdkSVMSolver_t", api,
                solver_value);
  if ((st = check_dtype(h, api, dtype)) != DSDK_STATUS_SUCCESS ||
      (st = check_at_least(h, api, "n", n, min_n)) != DSDK_STATUS_SUCCESS ||
      (st = check_at_least(h, api, "d", d, 1)) != DSDK_STATUS_SUCCESS ||
      (n > 0 && (st = check_not_null(h, api, {{"X", X}, {y_name, y}})) != DSDK_STATUS_SUCCESS))
    return st;
  return check_sample_weights(h, api, desc, solver, n);
}

// Class codes of dsdkSVMTrainOneVsOne: in [0, k), every class present.
dsdkStatus_t check_class_labels(dsdkHandle_t h, const char* api, int64_t n, const int32_t* labels,
                                int k) {
  std::vector<int64_t> count(size_t(k), 0);
  for (int64_t i = 0; i < n; ++i) {
    if (labels[i] < 0 || labels[i] >= k)
      return fail(h, DSDK_STATUS_BAD_PARAM,
                  "%s: labels[%lld] = %d, class codes must be in [0, numClasses = %d)", api,
                  (long long)i, int(labels[i]), k);
    ++count[size_t(labels[i])];
  }
  for (int c = 0; c < k; ++c)
    if (count[size_t(c)] == 0)
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: labels hold no row of class %d", api, c);
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t train(dsdkHandle_t h, const char* api, const SVMParams& p, dsdkSVMSolver_t solver,
                   dsdkDataType_t t, int64_t n, int64_t d, const void* X, const int32_t* y,
                   SVMResult* res) {
  std::string msg;
  dsdkStatus_t st = DSDK_STATUS_SUCCESS;
  if (h->backend == DSDK_BACKEND_CPU) {
    const int th = h->num_threads;
    try {
      st = with_host_type(t, [&](auto tag) {
        const auto* x = static_cast<const decltype(tag)*>(X);
        return solver == DSDK_SVM_SOLVER_SMO ? cpu::svm_smo_train(p, n, d, x, y, th, res, &msg)
                                             : cpu::svm_spsvm_train(p, n, d, x, y, th, res, &msg);
      });
    } catch (const SVMCommError& e) {  // an exchange of data-parallel training failed
      return fail(h, DSDK_STATUS_EXECUTION_FAILED, "%s: %s", api, e.what());
    }
  } else {
#ifdef DSDK_WITH_CUDA
    const float* x = static_cast<const float*>(X);
    st = solver == DSDK_SVM_SOLVER_SMO
             ? cuda::svm_smo_train(p, n, d, x, y, h->stream, res, &msg)
             : cuda::svm_spsvm_train(p, n, d, x, y, h->num_threads, h->stream, res, &msg);
#else
    return fail(h, DSDK_STATUS_NOT_SUPPORTED, "%s: built without the CUDA backend", api);
#endif
  }
  if (st != DSDK_STATUS_SUCCESS) return fail(h, st, "%s: %s", api, msg.c_str());
  return DSDK_STATUS_SUCCESS;
}

// dsdkSVMTrain's checks of one call: on a communicator, this rank's verdict
// joins the agreement check (every rank then fails alike, none waits in an
// exchange) and *comm learns where the shard's rows sit.
dsdkStatus_t check_train(dsdkHandle_t h, const char* api, const dsdkSVMStruct& desc,
                         dsdkSVMSolver_t solver, dsdkDataType_t dtype, int64_t n, int64_t d,
                         const void* X, const int32_t* y, SVMComm* comm) {
  *comm = desc.comm;
  const bool sharded = comm->distributed();
  if (sharded && (comm->rank < 0 || comm->rank >= comm->world))
    return fail(h, DSDK_STATUS_BAD_PARAM,
                "%s: the communicator's rank must be in [0, worldSize = %d), got %d", api,
                comm->world, comm->rank);
  int64_t pos = 0, neg = 0;
  dsdkStatus_t st = check_train_call(h, api, desc, solver, dtype, n, d, X, y, "y", sharded ? 0 : 2);
  if (st == DSDK_STATUS_SUCCESS && h->backend == DSDK_BACKEND_CPU) {
    st = check_host_data(h, api, dtype, n, d, X, y, &pos, &neg);
    if (st == DSDK_STATUS_SUCCESS && !sharded) st = check_both_classes(h, api, pos, neg);
  }
  if (!sharded) return st;
  return agree_on_training(h, api, desc.params, {st, h->backend, solver, dtype, n, d, pos, neg, h->num_threads},
                           comm);
}

}  // namespace
}  // namespace dsdk

using dsdk::fail;
using dsdk::succeed;

extern "C" {

dsdkStatus_t dsdkCreateSVMDescriptor(dsdkSVMDescriptor_t* desc) {
  if (!desc) return DSDK_STATUS_BAD_PARAM;
  *desc = new (std::nothrow) dsdkSVMStruct;
  return *desc ? DSDK_STATUS_SUCCESS : DSDK_STATUS_ALLOC_FAILED;
}

dsdkStatus_t dsdkDestroySVMDescriptor(dsdkSVMDescriptor_t desc) {
  if (!desc) return DSDK_STATUS_BAD_PARAM;
  delete desc;
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkSetSVMDescriptor(dsdkSVMDescriptor_t desc, dsdkSVMKernel_t kernel, double C,
                                  double gamma, double coef0, int degree, double tol,
                                  int64_t maxIter, size_t cacheBytes) {
  if (!desc) return DSDK_STATUS_BAD_PARAM;
  dsdk::SVMParams& p = desc->params;
  desc->kernel = dsdk::enum_value(kernel);
  if (dsdk::valid_kernel(desc->kernel)) p.kernel = kernel;
  p.C = C;
  p.gamma = gamma;
  p.coef0 = coef0;
  p.degree = degree;
  p.tol = tol;
  p.max_iter = maxIter;
  p.cache_bytes = cacheBytes;
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkSetSVMClassWeights(dsdkSVMDescriptor_t desc, double weightPositive,
                                    double weightNegative) {
  if (!desc) return DSDK_STATUS_BAD_PARAM;
  desc->params.weight_pos = weightPositive;
  desc->params.weight_neg = weightNegative;
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkSetSVMSampleWeights(dsdkSVMDescriptor_t desc, int64_t n, const double* weights) {
  if (!desc || n < 0) return DSDK_STATUS_BAD_PARAM;
  try {
    if (n == 0 || !weights) desc->sample_weight.clear();
    else desc->sample_weight.assign(weights, weights + n);
  } catch (const std::bad_alloc&) {
    return DSDK_STATUS_ALLOC_FAILED;
  }
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkSetSVMCommunicator(dsdkSVMDescriptor_t desc, dsdkSVMAllReduceFn allReduce,
                                    void* userData, int rank, int worldSize) {
  if (!desc) return DSDK_STATUS_BAD_PARAM;
  desc->comm = dsdk::SVMComm{};
  desc->comm.all_reduce = allReduce;
  desc->comm.user_data = userData;
  desc->comm.rank = rank;
  desc->comm.world = worldSize;
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkSetSVMSolverOptions(dsdkSVMDescriptor_t desc, int workingSetSize, int maxBasis,
                                     int candidates, uint64_t seed) {
  if (!desc) return DSDK_STATUS_BAD_PARAM;
  desc->params.working_set = workingSetSize;
  desc->params.max_basis = maxBasis;
  desc->params.candidates = candidates;
  desc->params.seed = seed;
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkSVMTrain(dsdkHandle_t h, dsdkSVMDescriptor_t desc, dsdkSVMSolver_t solver,
                          dsdkDataType_t dtype, int64_t n, int64_t d, const void* X,
                          const int32_t* y, dsdkSVMModel_t* model) {
  static const char* api = "dsdkSVMTrain";
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  return dsdk::guarded(h, api, [&]() -> dsdkStatus_t {
    if (!model) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: model is NULL", api);
    *model = nullptr;
    if (!desc) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: desc is NULL", api);
    const dsdk::SVMParams& p = desc->params;
    dsdk::SVMComm comm;
    dsdkStatus_t st = dsdk::check_train(h, api, *desc, solver, dtype, n, d, X, y, &comm);
    if (st != DSDK_STATUS_SUCCESS) return st;
    auto* m = new dsdkSVMModelStruct;
    m->params = p;  // without the weights: the model outlives them
    m->n = comm.distributed() ? comm.n_global : n;
    m->d = d;
    dsdk::SVMParams run = p;
    if (!desc->sample_weight.empty()) run.sample_weight = desc->sample_weight.data();
    if (comm.distributed()) run.comm = &comm;
    st = dsdk::train(h, api, run, solver, dtype, n, d, X, y, &m->result);
    if (st != DSDK_STATUS_SUCCESS) {
      delete m;
      return st;
    }
    *model = m;
    return succeed(h);
  });
}

dsdkStatus_t dsdkSVMTrainOneVsOne(dsdkHandle_t h, dsdkSVMDescriptor_t desc,
                                  dsdkSVMSolver_t solver, dsdkDataType_t dtype, int64_t n,
                                  int64_t d, const void* X, const int32_t* labels, int numClasses,
                                  const double* classWeights, dsdkSVMModel_t* models) {
  static const char* api = "dsdkSVMTrainOneVsOne";
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  return dsdk::guarded(h, api, [&]() -> dsdkStatus_t {
    if (!models) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: models is NULL", api);
    if (numClasses < 2)
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: numClasses must be >= 2, got %d", api,
                  numClasses);
    const int64_t n_pairs = int64_t(numClasses) * (numClasses - 1) / 2;
    for (int64_t q = 0; q < n_pairs; ++q) models[q] = nullptr;
    if (!desc) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: desc is NULL", api);
    if (h->backend != DSDK_BACKEND_CPU)
      return fail(h, DSDK_STATUS_NOT_SUPPORTED, "%s: needs a CPU handle", api);
    if (desc->comm.distributed())
      return fail(h, DSDK_STATUS_NOT_SUPPORTED,
                  "%s: does not train over a communicator; train each pair with dsdkSVMTrain",
                  api);
    dsdkStatus_t st = dsdk::check_train_call(h, api, *desc, solver, dtype, n, d, X, labels,
                                             "labels", 2);
    if (st != DSDK_STATUS_SUCCESS) return st;
    if ((st = dsdk::check_class_labels(h, api, n, labels, numClasses)) != DSDK_STATUS_SUCCESS)
      return st;
    for (int c = 0; classWeights && c < numClasses; ++c)
      if (!dsdk::positive(classWeights[c]))
        return fail(h, DSDK_STATUS_BAD_PARAM, "%s: classWeights[%d] must be > 0, got %g", api,
                    c, classWeights[c]);
    if ((st = dsdk::check_finite(h, api, dtype, n * d, X)) != DSDK_STATUS_SUCCESS) return st;
    dsdk::SVMParams run = desc->params;
    if (!desc->sample_weight.empty()) run.sample_weight = desc->sample_weight.data();
    std::vector<dsdk::SVMResult> results;
    std::string msg;
    st = dsdk::with_host_type(dtype, [&](auto tag) {
      return dsdk::cpu::svm_train_pairs(run, solver, n, d, static_cast<const decltype(tag)*>(X),
                                        labels, numClasses, classWeights, h->num_threads,
                                        &results, &msg);
    });
    if (st != DSDK_STATUS_SUCCESS) return fail(h, st, "%s: %s", api, msg.c_str());
    std::vector<std::unique_ptr<dsdkSVMModelStruct>> out(static_cast<size_t>(n_pairs));
    int q = 0;
    for (int i = 0; i < numClasses; ++i)
      for (int j = i + 1; j < numClasses; ++j, ++q) {
        out[size_t(q)].reset(new dsdkSVMModelStruct);
        dsdkSVMModelStruct& m = *out[size_t(q)];
        m.params = desc->params;  // without the weights: the model outlives them
        m.params.weight_pos = classWeights ? classWeights[i] : 1.0;
        m.params.weight_neg = classWeights ? classWeights[j] : 1.0;
        m.n = n;
        m.d = d;
        m.result = std::move(results[size_t(q)]);
      }
    for (q = 0; q < n_pairs; ++q) models[q] = out[size_t(q)].release();
    return succeed(h);
  });
}

dsdkStatus_t dsdkDestroySVMModel(dsdkSVMModel_t model) {
  if (!model) return DSDK_STATUS_BAD_PARAM;
  delete model;
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkSVMModelGetInfo(dsdkSVMModel_t model, dsdkSVMModelInfo_t* info) {
  if (!model || !info) return DSDK_STATUS_BAD_PARAM;
  const dsdk::SVMResult& r = model->result;
  info->nSupport = int64_t(r.index.size());
  info->bias = r.bias;
  info->objective = r.objective;
  info->iterations = r.iterations;
  info->converged = r.converged ? 1 : 0;
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkSVMModelGetSupport(dsdkSVMModel_t model, int64_t* index, double* coef) {
  if (!model) return DSDK_STATUS_BAD_PARAM;
  const dsdk::SVMResult& r = model->result;
  if (r.index.empty()) return DSDK_STATUS_SUCCESS;
  if (!index || !coef) return DSDK_STATUS_BAD_PARAM;
  for (size_t k = 0; k < r.index.size(); ++k) {
    index[k] = r.index[k];
    coef[k] = r.coef[k];
  }
  return DSDK_STATUS_SUCCESS;
}

dsdkStatus_t dsdkSVMDecisionFunction(dsdkHandle_t h, dsdkSVMModel_t model, dsdkDataType_t dtype,
                                     int64_t n, int64_t d, const void* X, int64_t m,
                                     const void* Z, void* out) {
  static const char* api = "dsdkSVMDecisionFunction";
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  return dsdk::guarded(h, api, [&]() -> dsdkStatus_t {
    if (!model) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: model is NULL", api);
    dsdkStatus_t st = dsdk::check_dtype(h, api, dtype);
    if (st != DSDK_STATUS_SUCCESS) return st;
    if (n != model->n)
      return fail(h, DSDK_STATUS_BAD_PARAM,
                  "%s: n must be the number of training rows (%lld), got %lld", api,
                  (long long)model->n, (long long)n);
    if (d != model->d)
      return fail(h, DSDK_STATUS_BAD_PARAM,
                  "%s: d must be the training data's number of features (%lld), got %lld", api,
                  (long long)model->d, (long long)d);
    if ((st = dsdk::check_at_least(h, api, "m", m, 0)) != DSDK_STATUS_SUCCESS) return st;
    if (m == 0) return succeed(h);
    if ((st = dsdk::check_not_null(h, api, {{"X", X}, {"Z", Z}, {"out", out}})) !=
        DSDK_STATUS_SUCCESS)
      return st;
    const dsdk::SVMParams& p = model->params;
    const dsdk::SVMResult& r = model->result;
    std::string msg;
    if (h->backend == DSDK_BACKEND_CPU) {
      st = dsdk::with_host_type(dtype, [&](auto tag) {
        using T = decltype(tag);
        return dsdk::cpu::svm_decision_function(p, r, d, static_cast<const T*>(X), m,
                                                static_cast<const T*>(Z), static_cast<T*>(out),
                                                h->num_threads, &msg);
      });
    } else {
#ifdef DSDK_WITH_CUDA
      st = dsdk::cuda::svm_decision_function(p, r, d, static_cast<const float*>(X), m,
                                             static_cast<const float*>(Z),
                                             static_cast<float*>(out), h->stream, &msg);
#else
      return fail(h, DSDK_STATUS_NOT_SUPPORTED, "%s: built without the CUDA backend", api);
#endif
    }
    if (st != DSDK_STATUS_SUCCESS) return fail(h, st, "%s: %s", api, msg.c_str());
    return succeed(h);
  });
}

dsdkStatus_t dsdkSVMPredictOneVsOne(dsdkHandle_t h, dsdkSVMDescriptor_t desc,
                                    dsdkDataType_t dtype, int numClasses,
                                    const int64_t* nSupport, int64_t d, const void* SV,
                                    const double* dualCoef, const double* intercept, int64_t m,
                                    const void* Z, double* decision, int32_t* winner) {
  static const char* api = "dsdkSVMPredictOneVsOne";
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  return dsdk::guarded(h, api, [&]() -> dsdkStatus_t {
    if (!desc) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: desc is NULL", api);
    if (h->backend != DSDK_BACKEND_CPU)
      return fail(h, DSDK_STATUS_NOT_SUPPORTED, "%s: needs a CPU handle", api);
    dsdkStatus_t st = dsdk::check_kernel(h, api, *desc);
    if (st != DSDK_STATUS_SUCCESS || (st = dsdk::check_dtype(h, api, dtype)) != DSDK_STATUS_SUCCESS)
      return st;
    if (numClasses < 2)
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: numClasses must be >= 2, got %d", api,
                  numClasses);
    if ((st = dsdk::check_at_least(h, api, "d", d, 1)) != DSDK_STATUS_SUCCESS ||
        (st = dsdk::check_at_least(h, api, "m", m, 0)) != DSDK_STATUS_SUCCESS ||
        (st = dsdk::check_not_null(h, api, {{"nSupport", nSupport}, {"intercept", intercept}})) !=
            DSDK_STATUS_SUCCESS)
      return st;
    int64_t nsv = 0;
    for (int c = 0; c < numClasses; ++c) {
      if (nSupport[c] < 0)
        return fail(h, DSDK_STATUS_BAD_PARAM, "%s: nSupport[%d] must be >= 0, got %lld", api, c,
                    (long long)nSupport[c]);
      nsv += nSupport[c];
    }
    if (nsv > 0 && (st = dsdk::check_not_null(h, api, {{"SV", SV}, {"dualCoef", dualCoef}})) !=
                       DSDK_STATUS_SUCCESS)
      return st;
    if (m == 0) return succeed(h);
    if ((st = dsdk::check_not_null(h, api, {{"Z", Z}})) != DSDK_STATUS_SUCCESS) return st;
    if (!decision && !winner)
      return fail(h, DSDK_STATUS_BAD_PARAM, "%s: decision and winner are both NULL", api);
    std::string msg;
    st = dsdk::with_host_type(dtype, [&](auto tag) {
      using T = decltype(tag);
      return dsdk::cpu::svm_predict_ovo(desc->params, numClasses, nSupport, d,
                                        static_cast<const T*>(SV), dualCoef, intercept, m,
                                        static_cast<const T*>(Z), decision, winner,
                                        h->num_threads, &msg);
    });
    if (st != DSDK_STATUS_SUCCESS) return fail(h, st, "%s: %s", api, msg.c_str());
    return succeed(h);
  });
}

dsdkStatus_t dsdkSVMKernelMatrix(dsdkHandle_t h, dsdkSVMDescriptor_t desc, dsdkDataType_t dtype,
                                 int64_t n, int64_t m, int64_t d, const void* X, const void* Z,
                                 void* K) {
  static const char* api = "dsdkSVMKernelMatrix";
  if (!h) return DSDK_STATUS_NOT_INITIALIZED;
  return dsdk::guarded(h, api, [&]() -> dsdkStatus_t {
    if (!desc) return fail(h, DSDK_STATUS_BAD_PARAM, "%s: desc is NULL", api);
    const dsdk::SVMParams& p = desc->params;
    dsdkStatus_t st = dsdk::check_kernel(h, api, *desc);
    if (st != DSDK_STATUS_SUCCESS) return st;
    st = dsdk::check_dtype(h, api, dtype);
    if (st != DSDK_STATUS_SUCCESS) return st;
    if ((st = dsdk::check_at_least(h, api, "n", n, 0)) != DSDK_STATUS_SUCCESS ||
        (st = dsdk::check_at_least(h, api, "m", m, 0)) != DSDK_STATUS_SUCCESS ||
        (st = dsdk::check_at_least(h, api, "d", d, 1)) != DSDK_STATUS_SUCCESS)
      return st;
    if (n == 0 || m == 0) return succeed(h);
    if ((st = dsdk::check_not_null(h, api, {{"X", X}, {"Z", Z}, {"K", K}})) !=
        DSDK_STATUS_SUCCESS)
      return st;
    std::string msg;
    if (h->backend == DSDK_BACKEND_CPU) {
      st = dsdk::with_host_type(dtype, [&](auto tag) {
        using T = decltype(tag);
        return dsdk::cpu::svm_kernel_matrix(p, n, m, d, static_cast<const T*>(X),
                                            static_cast<const T*>(Z), static_cast<T*>(K),
                                            h->num_threads, &msg);
      });
    } else {
#ifdef DSDK_WITH_CUDA
      st = dsdk::cuda::svm_kernel_matrix(p, n, m, d, static_cast<const float*>(X),
                                         static_cast<const float*>(Z), static_cast<float*>(K),
                                         h->stream, &msg);
#else
      return fail(h, DSDK_STATUS_NOT_SUPPORTED, "%s: built without the CUDA backend", api);
#endif
    }
    if (st != DSDK_STATUS_SUCCESS) return fail(h, st, "%s: %s", api, msg.c_str());
    return succeed(h);
  });
}

}  // extern "C"
