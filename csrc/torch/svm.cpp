// Python bindings of the SVM C API on torch tensors: binary and one-vs-one
// training, one-vs-one prediction and kernel matrices, for the estimator
// (python/dsdkern/svm.py).
#include <ATen/Parallel.h>

#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "dsdkern/dsdkern.h"
#include "torch/bindings.h"
#include "torch/svm_dist.h"

#ifdef DSDK_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#endif

namespace py = pybind11;

namespace dsdk_torch {
namespace {

// Turns a failed status into a Python exception carrying the library's message
// (and `cause`, what made it fail outside the library, if any): ValueError for
// a bad argument, MemoryError for a failed allocation, RuntimeError otherwise.
void check(dsdkStatus_t st, dsdkHandle_t h, const char* call, const std::string& cause = {}) {
  if (st == DSDK_STATUS_SUCCESS) return;
  std::string msg = std::string(call) + " failed (" + dsdkGetErrorString(st) + ")";
  const char* detail = h ? dsdkGetLastErrorMessage(h) : "";
  if (detail && *detail) msg += ": " + std::string(detail);
  if (!cause.empty()) msg += ": " + cause;
  if (st == DSDK_STATUS_BAD_PARAM) throw py::value_error(msg);
  if (st == DSDK_STATUS_ALLOC_FAILED) {
    PyErr_SetString(PyExc_MemoryError, msg.c_str());
    throw py::error_already_set();
  }
  throw std::runtime_error(msg);
}

struct HandleDeleter {
  void operator()(dsdkContext* h) const { dsdkDestroy(h); }
};
struct DescDeleter {
  void operator()(dsdkSVMStruct* d) const { dsdkDestroySVMDescriptor(d); }
};
struct ModelDeleter {
  void operator()(dsdkSVMModelStruct* m) const { dsdkDestroySVMModel(m); }
};
using Handle = std::unique_ptr<dsdkContext, HandleDeleter>;
using Desc = std::unique_ptr<dsdkSVMStruct, DescDeleter>;
using Model = std::unique_ptr<dsdkSVMModelStruct, ModelDeleter>;

// A handle on the tensor's device: a CUDA handle bound to torch's current
// stream (so the work orders with the caller's kernels), or a CPU handle. Both
// get num_threads host threads (<= 0: torch's intra-op thread count, so that a
// comparison with torch is like for like); on CUDA they serve the host's share
// of the work. Call under a device guard.
Handle make_handle(const at::Tensor& like, int64_t num_threads) {
  dsdkHandle_t raw = nullptr;
  if (like.is_cuda()) {
#ifdef DSDK_WITH_CUDA
    check(dsdkCreate(&raw, DSDK_BACKEND_CUDA), nullptr, "dsdkCreate(CUDA)");
#else
    throw py::value_error("dsdkern was built without its CUDA backend; pass CPU tensors");
#endif
  } else {
    TORCH_CHECK_VALUE(like.is_cpu(),
                      "dsdkern SVM: tensors must live on the CPU or a CUDA device, got ",
                      like.device());
    check(dsdkCreate(&raw, DSDK_BACKEND_CPU), nullptr, "dsdkCreate(CPU)");
  }
  Handle h(raw);
#ifdef DSDK_WITH_CUDA
  if (like.is_cuda()) {
    cudaStream_t stream = at::cuda::getCurrentCUDAStream(like.get_device()).stream();
    check(dsdkSetStream(h.get(), stream), h.get(), "dsdkSetStream");
  }
#endif
  int threads = num_threads > 0 ? int(num_threads) : at::get_num_threads();
  check(dsdkSetNumThreads(h.get(), threads), h.get(), "dsdkSetNumThreads");
  return h;
}

dsdkSVMKernel_t parse_kernel(const std::string& k) {
  if (k == "linear") return DSDK_SVM_KERNEL_LINEAR;
  if (k == "poly") return DSDK_SVM_KERNEL_POLY;
  if (k == "rbf") return DSDK_SVM_KERNEL_RBF;
  if (k == "sigmoid") return DSDK_SVM_KERNEL_SIGMOID;
  throw py::value_error("kernel must be 'linear', 'poly', 'rbf' or 'sigmoid', got '" + k + "'");
}

dsdkSVMSolver_t parse_solver(const std::string& s) {
  if (s == "smo") return DSDK_SVM_SOLVER_SMO;
  if (s == "spsvm") return DSDK_SVM_SOLVER_SPSVM;
  throw py::value_error("solver must be 'smo' or 'spsvm', got '" + s + "'");
}

dsdkDataType_t data_type(const at::Tensor& t, const char* name) {
  if (t.scalar_type() == at::kFloat) return DSDK_DATA_FLOAT;
  if (t.scalar_type() == at::kDouble) return DSDK_DATA_DOUBLE;
  throw py::type_error(std::string(name) + " must be float32 or float64, got " +
                       std::string(c10::toString(t.scalar_type())));
}

void check_matrix(const at::Tensor& t, const char* name) {
  TORCH_CHECK_VALUE(t.dim() == 2, name, " must be 2-D, got ", t.dim(), "-D");
  TORCH_CHECK_VALUE(t.is_contiguous(), name, " must be C-contiguous (row-major)");
}

Desc make_desc(dsdkHandle_t h, dsdkSVMKernel_t kernel, double C, double gamma, double coef0,
               int64_t degree, double tol, int64_t max_iter, int64_t cache_bytes) {
  dsdkSVMDescriptor_t raw = nullptr;
  check(dsdkCreateSVMDescriptor(&raw), h, "dsdkCreateSVMDescriptor");
  Desc d(raw);
  TORCH_CHECK_VALUE(degree >= 0 && degree <= INT32_MAX, "degree out of range: ", degree);
  TORCH_CHECK_VALUE(cache_bytes >= 0, "cache_bytes must be >= 0, got ", cache_bytes);
  check(dsdkSetSVMDescriptor(d.get(), kernel, C, gamma, coef0, int(degree), tol, max_iter,
                             size_t(cache_bytes)),
        h, "dsdkSetSVMDescriptor");
  return d;
}

// A descriptor for the calls that only evaluate the kernel: C, tol, max_iter
// and the cache play no part there; valid placeholders.
Desc kernel_desc(dsdkHandle_t h, dsdkSVMKernel_t kernel, double gamma, double coef0,
                 int64_t degree) {
  return make_desc(h, kernel, 1.0, gamma, coef0, degree, 1e-3, -1, 0);
}

// The checks train and train_ovo share: X, its labels (int32, one per row,
// on X's device), the solver options and the sample weights.
void check_train_inputs(const at::Tensor& X, const at::Tensor& y, const char* y_name,
                        int64_t working_set, int64_t max_basis, int64_t candidates,
                        const std::optional<at::Tensor>& sample_weight) {
  check_matrix(X, "X");
  TORCH_CHECK_VALUE(y.dim() == 1 && y.size(0) == X.size(0), y_name, " must be 1-D with ",
                    X.size(0), " labels (one per row of X), got shape ", y.sizes());
  TORCH_CHECK_TYPE(y.scalar_type() == at::kInt, y_name, " must be int32, got ", y.scalar_type());
  TORCH_CHECK_VALUE(y.device() == X.device(), y_name, " must be on X's device (", X.device(),
                    "), got ", y.device());
  TORCH_CHECK_VALUE(y.is_contiguous(), y_name, " must be contiguous");
  TORCH_CHECK_VALUE(working_set >= 0 && max_basis >= 0 && candidates >= 0 &&
                        working_set <= INT32_MAX && max_basis <= INT32_MAX &&
                        candidates <= INT32_MAX,
                    "working_set, max_basis and candidates must be in [0, 2^31)");
  if (sample_weight) {
    const at::Tensor& w = *sample_weight;
    TORCH_CHECK_VALUE(w.dim() == 1 && w.size(0) == X.size(0), "sample_weight must be 1-D with ",
                      X.size(0), " weights (one per row of X), got shape ", w.sizes());
    TORCH_CHECK_TYPE(w.scalar_type() == at::kDouble, "sample_weight must be float64, got ",
                     w.scalar_type());
    TORCH_CHECK_VALUE(w.is_cpu() && w.is_contiguous(),
                      "sample_weight must be a contiguous CPU tensor");
  }
}

// A training descriptor with the solver options and sample weights set.
Desc make_train_desc(dsdkHandle_t h, const std::string& kernel, double C, double gamma,
                     double coef0, int64_t degree, double tol, int64_t max_iter,
                     int64_t cache_bytes, int64_t working_set, int64_t max_basis,
                     int64_t candidates, uint64_t seed,
                     const std::optional<at::Tensor>& sample_weight) {
  Desc d = make_desc(h, parse_kernel(kernel), C, gamma, coef0, degree, tol, max_iter, cache_bytes);
  check(dsdkSetSVMSolverOptions(d.get(), int(working_set), int(max_basis), int(candidates), seed),
        h, "dsdkSetSVMSolverOptions");
  if (sample_weight)
    check(dsdkSetSVMSampleWeights(d.get(), sample_weight->size(0),
                                  sample_weight->data_ptr<double>()),
          h, "dsdkSetSVMSampleWeights");
  return d;
}

// (index, coef, bias, objective, iterations, converged) of a trained model.
py::tuple model_tuple(dsdkSVMModel_t model, dsdkHandle_t h) {
  dsdkSVMModelInfo_t info{};
  check(dsdkSVMModelGetInfo(model, &info), h, "dsdkSVMModelGetInfo");
  at::Tensor index = at::empty({info.nSupport}, at::kLong);
  at::Tensor coef = at::empty({info.nSupport}, at::kDouble);
  check(dsdkSVMModelGetSupport(model, index.data_ptr<int64_t>(), coef.data_ptr<double>()), h,
        "dsdkSVMModelGetSupport");
  return py::make_tuple(index, coef, info.bias, info.objective, info.iterations,
                        info.converged != 0);
}

py::tuple train(const at::Tensor& X, const at::Tensor& y, const std::string& kernel, double C,
                double gamma, double coef0, int64_t degree, double tol, int64_t max_iter,
                int64_t cache_bytes, double weight_pos, double weight_neg,
                const std::string& solver, int64_t working_set, int64_t max_basis,
                int64_t candidates, uint64_t seed, int64_t num_threads,
                const std::optional<at::Tensor>& sample_weight, const std::string& process_group) {
  check_train_inputs(X, y, "y", working_set, max_basis, candidates, sample_weight);
  dsdkDataType_t dtype = data_type(X, "X");
  dsdkSVMSolver_t solver_id = parse_solver(solver);

#ifdef DSDK_WITH_CUDA
  c10::OptionalDeviceGuard guard;
  if (X.is_cuda()) guard.reset_device(X.device());
#endif
  Handle h = make_handle(X, num_threads);
  Desc d = make_train_desc(h.get(), kernel, C, gamma, coef0, degree, tol, max_iter, cache_bytes,
                           working_set, max_basis, candidates, seed, sample_weight);
  check(dsdkSetSVMClassWeights(d.get(), weight_pos, weight_neg), h.get(), "dsdkSetSVMClassWeights");
  std::optional<ProcessGroupCommunicator> comm;
  if (!process_group.empty()) comm.emplace(process_group).attach(d.get());

  dsdkSVMModel_t raw = nullptr;
  dsdkStatus_t st;
  {
    py::gil_scoped_release nogil;
    st = dsdkSVMTrain(h.get(), d.get(), solver_id, dtype, X.size(0), X.size(1), X.data_ptr(),
                      y.data_ptr<int32_t>(), &raw);
  }
  Model model(raw);
  check(st, h.get(), "dsdkSVMTrain", comm ? comm->error() : std::string());
  return model_tuple(model.get(), h.get());
}

py::list train_ovo(const at::Tensor& X, const at::Tensor& labels, int64_t num_classes,
                   const std::optional<at::Tensor>& class_weight, const std::string& kernel,
                   double C, double gamma, double coef0, int64_t degree, double tol,
                   int64_t max_iter, int64_t cache_bytes, const std::string& solver,
                   int64_t working_set, int64_t max_basis, int64_t candidates, uint64_t seed,
                   int64_t num_threads, const std::optional<at::Tensor>& sample_weight) {
  check_train_inputs(X, labels, "labels", working_set, max_basis, candidates, sample_weight);
  TORCH_CHECK_VALUE(X.is_cpu(), "svm_train_ovo trains on the CPU; X is on ", X.device());
  TORCH_CHECK_VALUE(num_classes >= 2 && num_classes <= 65536,
                    "num_classes must be in [2, 65536], got ", num_classes);
  if (class_weight) {
    const at::Tensor& w = *class_weight;
    TORCH_CHECK_VALUE(w.dim() == 1 && w.size(0) == num_classes && w.is_cpu() &&
                          w.is_contiguous() && w.scalar_type() == at::kDouble,
                      "class_weight must be a contiguous float64 CPU tensor of ", num_classes,
                      " values, got shape ", w.sizes(), " and dtype ", w.scalar_type());
  }
  dsdkDataType_t dtype = data_type(X, "X");
  dsdkSVMSolver_t solver_id = parse_solver(solver);
  Handle h = make_handle(X, num_threads);
  Desc d = make_train_desc(h.get(), kernel, C, gamma, coef0, degree, tol, max_iter, cache_bytes,
                           working_set, max_basis, candidates, seed, sample_weight);
  const int64_t n_pairs = num_classes * (num_classes - 1) / 2;
  std::vector<dsdkSVMModel_t> raw(static_cast<size_t>(n_pairs), nullptr);
  dsdkStatus_t st;
  {
    py::gil_scoped_release nogil;
    st = dsdkSVMTrainOneVsOne(h.get(), d.get(), solver_id, dtype, X.size(0), X.size(1),
                              X.data_ptr(), labels.data_ptr<int32_t>(), int(num_classes),
                              class_weight ? class_weight->data_ptr<double>() : nullptr,
                              raw.data());
  }
  std::vector<Model> models;
  for (dsdkSVMModel_t m : raw) models.emplace_back(m);
  check(st, h.get(), "dsdkSVMTrainOneVsOne");
  py::list out;
  for (const Model& m : models) out.append(model_tuple(m.get(), h.get()));
  return out;
}

at::Tensor kernel_matrix(const at::Tensor& X, const at::Tensor& Z, const std::string& kernel,
                         double gamma, double coef0, int64_t degree, int64_t num_threads) {
  check_matrix(X, "X");
  check_matrix(Z, "Z");
  dsdkDataType_t dtype = data_type(X, "X");
  TORCH_CHECK_TYPE(Z.scalar_type() == X.scalar_type(), "Z must have X's dtype (",
                   X.scalar_type(), "), got ", Z.scalar_type());
  TORCH_CHECK_VALUE(Z.device() == X.device(), "Z must be on X's device (", X.device(), "), got ",
                    Z.device());
  TORCH_CHECK_VALUE(Z.size(1) == X.size(1), "X and Z must have the same number of features, got ",
                    X.size(1), " and ", Z.size(1));
  dsdkSVMKernel_t kernel_id = parse_kernel(kernel);

#ifdef DSDK_WITH_CUDA
  c10::OptionalDeviceGuard guard;
  if (X.is_cuda()) guard.reset_device(X.device());
#endif
  at::Tensor K = at::empty({X.size(0), Z.size(0)}, X.options());
  if (K.numel() == 0) return K;
  Handle h = make_handle(X, num_threads);
  Desc d = kernel_desc(h.get(), kernel_id, gamma, coef0, degree);
  dsdkStatus_t st;
  {
    py::gil_scoped_release nogil;
    st = dsdkSVMKernelMatrix(h.get(), d.get(), dtype, X.size(0), Z.size(0), X.size(1),
                             X.data_ptr(), Z.data_ptr(), K.data_ptr());
  }
  check(st, h.get(), "dsdkSVMKernelMatrix");
  return K;
}

// (winner int32[m], decision float64[m, pairs] or None) of a one-vs-one model
// laid out as sklearn's SVC (dsdkSVMPredictOneVsOne).
py::tuple predict_ovo(const at::Tensor& Z, const at::Tensor& SV, const at::Tensor& n_support,
                      const at::Tensor& dual_coef, const at::Tensor& intercept,
                      const std::string& kernel, double gamma, double coef0, int64_t degree,
                      bool with_decision, int64_t num_threads) {
  check_matrix(Z, "Z");
  check_matrix(SV, "SV");
  dsdkDataType_t dtype = data_type(Z, "Z");
  TORCH_CHECK_VALUE(Z.is_cpu() && SV.is_cpu(), "svm_predict_ovo runs on the CPU; Z is on ",
                    Z.device(), " and SV on ", SV.device());
  TORCH_CHECK_TYPE(SV.scalar_type() == Z.scalar_type(), "SV must have Z's dtype (",
                   Z.scalar_type(), "), got ", SV.scalar_type());
  TORCH_CHECK_VALUE(SV.size(1) == Z.size(1), "Z and SV must have the same number of features, "
                    "got ", Z.size(1), " and ", SV.size(1));
  const int64_t k = n_support.numel();
  TORCH_CHECK_VALUE(k >= 2 && k <= 65536 && n_support.dim() == 1 &&
                        n_support.scalar_type() == at::kLong && n_support.is_cpu() &&
                        n_support.is_contiguous(),
                    "n_support must be a contiguous int64 CPU vector of 2 to 65536 counts");
  const int64_t pairs = k * (k - 1) / 2;
  auto check_f64 = [](const at::Tensor& t, const char* name, at::IntArrayRef shape) {
    TORCH_CHECK_VALUE(t.sizes() == shape && t.scalar_type() == at::kDouble && t.is_cpu() &&
                          t.is_contiguous(),
                      name, " must be a contiguous float64 CPU tensor of shape ", shape,
                      ", got shape ", t.sizes(), " and dtype ", t.scalar_type());
  };
  check_f64(dual_coef, "dual_coef", {k - 1, SV.size(0)});
  check_f64(intercept, "intercept", {pairs});
  at::Tensor winner = at::empty({Z.size(0)}, at::kInt);
  at::Tensor decision = with_decision ? at::empty({Z.size(0), pairs}, at::kDouble) : at::Tensor();
  Handle h = make_handle(Z, num_threads);
  Desc d = kernel_desc(h.get(), parse_kernel(kernel), gamma, coef0, degree);
  dsdkStatus_t st;
  {
    py::gil_scoped_release nogil;
    st = dsdkSVMPredictOneVsOne(h.get(), d.get(), dtype, int(k), n_support.data_ptr<int64_t>(),
                                Z.size(1), SV.data_ptr(), dual_coef.data_ptr<double>(),
                                intercept.data_ptr<double>(), Z.size(0), Z.data_ptr(),
                                with_decision ? decision.data_ptr<double>() : nullptr,
                                winner.data_ptr<int32_t>());
  }
  check(st, h.get(), "dsdkSVMPredictOneVsOne");
  return py::make_tuple(winner, with_decision ? py::cast(decision) : py::none());
}

}  // namespace

void register_svm_bindings(py::module_& m) {
  m.def("svm_train", &train,
        "Binary kernel SVM training (dsdkSVMTrain). X: [n, d] contiguous float32/float64 "
        "(CUDA: float32) on the CPU or a CUDA device; y: [n] int32 labels +1/-1 on X's device. "
        "Returns (index int64[nSV] into X's rows, coef float64[nSV], bias, objective, "
        "iterations, converged) with f(x) = sum coef[j] K(x, X[index[j]]) + bias. "
        "num_threads <= 0 uses torch's intra-op thread count. sample_weight: None or [n] "
        "float64 CPU multipliers of C per row, each > 0 (CPU handles only). process_group: "
        "'' to train alone, or a registered torch.distributed group's name: X and y are then "
        "this rank's shard of the rows (possibly empty) and index numbers the rows of the "
        "shards concatenated in rank order (spsvm on the CPU; see dsdkSetSVMCommunicator).",
        py::arg("X"), py::arg("y"), py::arg("kernel") = "rbf", py::arg("C") = 1.0,
        py::arg("gamma") = 1.0, py::arg("coef0") = 0.0, py::arg("degree") = 3,
        py::arg("tol") = 1e-3, py::arg("max_iter") = -1,
        py::arg("cache_bytes") = int64_t(200) << 20, py::arg("weight_pos") = 1.0,
        py::arg("weight_neg") = 1.0, py::arg("solver") = "smo", py::arg("working_set") = 0,
        py::arg("max_basis") = 0, py::arg("candidates") = 0, py::arg("seed") = 0,
        py::arg("num_threads") = 0, py::arg("sample_weight") = py::none(),
        py::arg("process_group") = "");
  m.def("svm_train_ovo", &train_ovo,
        "One-vs-one training of every class pair in one call (dsdkSVMTrainOneVsOne), CPU "
        "only. X: [n, d] contiguous float32/float64; labels: [n] int32 class codes in "
        "[0, num_classes), every class present; class_weight: None or [num_classes] float64. "
        "Returns a list over the pairs (0,1), (0,2), ..., (1,2), ... of svm_train's tuples, "
        "index being rows of X; pair p's seed is seed + p.",
        py::arg("X"), py::arg("labels"), py::arg("num_classes"),
        py::arg("class_weight") = py::none(), py::arg("kernel") = "rbf", py::arg("C") = 1.0,
        py::arg("gamma") = 1.0, py::arg("coef0") = 0.0, py::arg("degree") = 3,
        py::arg("tol") = 1e-3, py::arg("max_iter") = -1,
        py::arg("cache_bytes") = int64_t(200) << 20, py::arg("solver") = "smo",
        py::arg("working_set") = 0, py::arg("max_basis") = 0, py::arg("candidates") = 0,
        py::arg("seed") = 0, py::arg("num_threads") = 0, py::arg("sample_weight") = py::none());
  m.def("svm_predict_ovo", &predict_ovo,
        "One-vs-one prediction in one call (dsdkSVMPredictOneVsOne), CPU only. Z: [m, d] and "
        "SV: [nSV, d] contiguous, same dtype (float32/float64), SV grouped by class; "
        "n_support: [k] int64; dual_coef: [k - 1, nSV] float64 (LIBSVM's layout); intercept: "
        "[k (k - 1) / 2] float64. Returns (winner int32[m]: the class by vote, ties to the "
        "lowest, decision float64[m, k (k - 1) / 2] of the pairs (0,1), (0,2), ... or None "
        "unless with_decision).",
        py::arg("Z"), py::arg("SV"), py::arg("n_support"), py::arg("dual_coef"),
        py::arg("intercept"), py::arg("kernel") = "rbf", py::arg("gamma") = 1.0,
        py::arg("coef0") = 0.0, py::arg("degree") = 3, py::arg("with_decision") = false,
        py::arg("num_threads") = 0);
  m.def("svm_kernel_matrix", &kernel_matrix,
        "K[i, j] = kernel(X[i], Z[j]) (dsdkSVMKernelMatrix). X: [n, d], Z: [m, d], same dtype "
        "and device; returns K: [n, m] of that dtype on that device.",
        py::arg("X"), py::arg("Z"), py::arg("kernel") = "rbf", py::arg("gamma") = 1.0,
        py::arg("coef0") = 0.0, py::arg("degree") = 3, py::arg("num_threads") = 0);
}

}  // namespace dsdk_torch
