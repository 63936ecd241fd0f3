// One-vs-one training of every class pair in one call: the rows of each pair
// are gathered once, and the pairs are scheduled so that small ones (where a
// thread team costs more than it saves, and on a loaded machine its barriers
// wait for descheduled threads) train side by side on one thread each, while
// large ones train one after another on all threads.
#include <algorithm>
#include <new>
#include <vector>

#include "core/svm_backends.h"
#include "cpu/threads.h"

namespace dsdk {
namespace cpu {
namespace {

// Rows below which a pair trains single-threaded alongside other pairs: at
// this size one pair's whole kernel matrix is a few GEMM tiles' worth of work.
constexpr int64_t kSmallPairRows = 4096;
// The small pairs share a thread team only when their kernel work (sum of
// rows^2 * d) is worth one: below, a team's start and join cost more than the
// whole training (wine: 3 pairs of ~90 rows train in about 0.1 ms), and on a
// loaded machine a join can wait a scheduler slice for a descheduled thread.
constexpr int64_t kTeamWork = int64_t(1) << 24;

struct Pair {
  int i, j;
  std::vector<int64_t> rows;  // ascending rows of X in class i or j
};

template <typename T>
dsdkStatus_t train_pair(const SVMParams& base, dsdkSVMSolver_t solver, int64_t d, const T* X,
                        const int32_t* labels, const double* class_weights, const Pair& pr,
                        int pair_index, int threads, SVMResult* out, std::string* msg) {
  const int64_t m = int64_t(pr.rows.size());
  std::vector<T> Xp(static_cast<size_t>(m * d));
  std::vector<int32_t> yp(static_cast<size_t>(m));
  std::vector<double> wp(base.sample_weight ? size_t(m) : 0);
  for (int64_t r = 0; r < m; ++r) {
    const int64_t t = pr.rows[size_t(r)];
    std::copy(X + t * d, X + (t + 1) * d, Xp.begin() + r * d);
    yp[size_t(r)] = labels[t] == pr.i ? 1 : -1;
    if (base.sample_weight) wp[size_t(r)] = base.sample_weight[t];
  }
  SVMParams p = base;
  p.weight_pos = class_weights ? class_weights[pr.i] : 1.0;
  p.weight_neg = class_weights ? class_weights[pr.j] : 1.0;
  p.seed = base.seed + uint64_t(pair_index);
  p.sample_weight = base.sample_weight ? wp.data() : nullptr;
  const dsdkStatus_t st =
      solver == DSDK_SVM_SOLVER_SMO
          ? svm_smo_train(p, m, d, Xp.data(), yp.data(), threads, out, msg)
          : svm_spsvm_train(p, m, d, Xp.data(), yp.data(), threads, out, msg);
  for (int64_t& idx : out->index) idx = pr.rows[size_t(idx)];  // rows of the pair -> rows of X
  return st;
}

}  // namespace

template <typename T>
dsdkStatus_t svm_train_pairs(const SVMParams& p, dsdkSVMSolver_t solver, int64_t n, int64_t d,
                             const T* X, const int32_t* labels, int k,
                             const double* class_weights, int num_threads,
                             std::vector<SVMResult>* out, std::string* msg) {
  std::vector<std::vector<int64_t>> of_class(static_cast<size_t>(k));
  for (int64_t t = 0; t < n; ++t) of_class[size_t(labels[t])].push_back(t);
  std::vector<Pair> pairs;
  for (int i = 0; i < k; ++i)
    for (int j = i + 1; j < k; ++j) {
      Pair pr{i, j, {}};
      const auto &a = of_class[size_t(i)], &b = of_class[size_t(j)];
      pr.rows.resize(a.size() + b.size());
      std::merge(a.begin(), a.end(), b.begin(), b.end(), pr.rows.begin());
      pairs.push_back(std::move(pr));
    }
  const int np = int(pairs.size());
  out->assign(size_t(np), SVMResult{});
  std::vector<dsdkStatus_t> status(size_t(np), DSDK_STATUS_SUCCESS);
  std::vector<std::string> messages(static_cast<size_t>(np));
  std::vector<int> small;
  int64_t small_work = 0;
  for (int q = 0; q < np; ++q) {
    const int64_t m = int64_t(pairs[size_t(q)].rows.size());
    if (m < kSmallPairRows) {
      small.push_back(q);
      small_work += m * m * d;
      continue;
    }
    status[size_t(q)] = train_pair(p, solver, d, X, labels, class_weights, pairs[size_t(q)], q,
                                   num_threads, &(*out)[size_t(q)], &messages[size_t(q)]);
  }
  const int ns = int(small.size());
  const int team = small_work < kTeamWork ? 1 : std::max(1, std::min(num_threads, ns));
  // One thread each; no exception may leave the parallel region.
#pragma omp parallel for num_threads(team) schedule(dynamic, 1)
  for (int s = 0; s < ns; ++s) {
    const int q = small[size_t(s)];
    try {
      status[size_t(q)] = train_pair(p, solver, d, X, labels, class_weights, pairs[size_t(q)],
                                     q, 1, &(*out)[size_t(q)], &messages[size_t(q)]);
    } catch (const std::bad_alloc&) {
      status[size_t(q)] = DSDK_STATUS_ALLOC_FAILED;
      messages[size_t(q)] = "out of host memory";
    } catch (...) {
      status[size_t(q)] = DSDK_STATUS_INTERNAL_ERROR;
      messages[size_t(q)] = "unexpected C++ exception";
    }
  }
  for (int q = 0; q < np; ++q)
    if (status[size_t(q)] != DSDK_STATUS_SUCCESS) {
      *msg = "pair (" + std::to_string(pairs[size_t(q)].i) + ", " +
             std::to_string(pairs[size_t(q)].j) + "): " + messages[size_t(q)];
      return status[size_t(q)];
    }
  return DSDK_STATUS_SUCCESS;
}

template dsdkStatus_t svm_train_pairs<float>(const SVMParams&, dsdkSVMSolver_t, int64_t, int64_t,
                                             const float*, const int32_t*, int, const double*,
                                             int, std::vector<SVMResult>*, std::string*);
template dsdkStatus_t svm_train_pairs<double>(const SVMParams&, dsdkSVMSolver_t, int64_t,
                                              int64_t, const double*, const int32_t*, int,
                                              const double*, int, std::vector<SVMResult>*,
                                              std::string*);

}  // namespace cpu
}  // namespace dsdk
