// Data-parallel SVM training through the C API's communicator
// (dsdkSetSVMCommunicator), torch-free: threads play the ranks and sum
// through an in-process all-reduce. Checks the agreement step: a bad shard,
// mismatched settings or an unsupported solver fail on every rank alike,
// and nothing waits forever (every exchange has a deadline).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "dsdkern/dsdkern.h"

namespace {

// `world` threads as ranks: an all-reduce returns when every rank has added
// its buffer, each getting the same sum (EXECUTION_FAILED after a deadline,
// so that a rank left alone in an exchange shows up as a failure, not a hang).
class ThreadWorld {
 public:
  ThreadWorld(int world, int deadline_s) : world_(world), deadline_s_(deadline_s) {}

  dsdkStatus_t sum(void* buf, int64_t count, dsdkDataType_t t) {
    std::unique_lock<std::mutex> lock(mu_);
    if (arrived_ == 0) acc_.assign(size_t(count), 0.0);
    if (int64_t(acc_.size()) != count) return DSDK_STATUS_BAD_PARAM;
    for (int64_t i = 0; i < count; ++i)
      acc_[size_t(i)] += t == DSDK_DATA_DOUBLE ? static_cast<double*>(buf)[i]
                                               : double(static_cast<float*>(buf)[i]);
    const int64_t gen = generation_;
    if (++arrived_ == world_) {
      result_ = acc_;
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
    } else if (!cv_.wait_for(lock, std::chrono::seconds(deadline_s_),
                             [&] { return generation_ != gen; })) {
      return DSDK_STATUS_EXECUTION_FAILED;
    }
    for (int64_t i = 0; i < count; ++i) {
      if (t == DSDK_DATA_DOUBLE) static_cast<double*>(buf)[i] = result_[size_t(i)];
      else static_cast<float*>(buf)[i] = float(result_[size_t(i)]);
    }
    return DSDK_STATUS_SUCCESS;
  }

  const int world_, deadline_s_;
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  int64_t generation_ = 0;
  std::vector<double> acc_, result_;
};

// One rank's end of a ThreadWorld (the communicator's user data); its
// exchange number fail_at (counting from 0, the agreement check) fails.
struct Endpoint {
  ThreadWorld* world;
  int fail_at = -1, calls = 0;

  static dsdkStatus_t all_reduce(void* buf, int64_t count, dsdkDataType_t t, void* self) {
    auto* e = static_cast<Endpoint*>(self);
    if (e->calls++ == e->fail_at) return DSDK_STATUS_EXECUTION_FAILED;
    return e->world->sum(buf, count, t);
  }
};

dsdkStatus_t failing_all_reduce(void*, int64_t, dsdkDataType_t, void*) {
  return DSDK_STATUS_EXECUTION_FAILED;
}

// One rank's training call: its shard, its settings, and what came back.
struct Rank {
  int64_t n = 0, d = 3;
  std::vector<double> X;
  std::vector<int32_t> y;
  double C = 1.0;
  dsdkSVMSolver_t solver = DSDK_SVM_SOLVER_SPSVM;
  int claimed_rank = -1;  // -1: the thread's own index
  int fail_at = -1;  // Endpoint::fail_at
  int threads = 1;
  dsdkStatus_t status = DSDK_STATUS_SUCCESS;
  std::string message;
  // The trained model, when there is one.
  dsdkSVMModelInfo_t info{};
  std::vector<int64_t> index;
  std::vector<double> coef;
};

// Reads a trained model into r (info, support indices and coefficients).
void read_model(dsdkSVMModel_t model, Rank* r) {
  CHECK_OK(dsdkSVMModelGetInfo(model, &r->info));
  r->index.resize(size_t(r->info.nSupport));
  r->coef.resize(size_t(r->info.nSupport));
  CHECK_OK(dsdkSVMModelGetSupport(model, r->index.data(), r->coef.data()));
}

void set_up(dsdkSVMDescriptor_t desc, const Rank& r) {
  dsdkSetSVMDescriptor(desc, DSDK_SVM_KERNEL_RBF, r.C, 0.5, 0.0, 3, 1e-3, -1, 1 << 20);
  dsdkSetSVMSolverOptions(desc, 0, 16, 0, 7);
}

Rank shard(int64_t n, int64_t d, unsigned seed, int32_t only_label = 0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  Rank r;
  r.n = n;
  r.d = d;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t label = only_label ? only_label : (i % 2 ? 1 : -1);
    r.y.push_back(label);
    for (int64_t c = 0; c < d; ++c) r.X.push_back(g(rng) + label);
  }
  return r;
}

// Runs every rank's dsdkSVMTrain on its own thread over one ThreadWorld.
void train_all(std::vector<Rank>& ranks) {
  bool failing = false;
  for (const Rank& r : ranks) failing |= r.fail_at >= 0;
  ThreadWorld world(int(ranks.size()), failing ? 2 : 60);
  std::vector<std::thread> threads;
  for (size_t r = 0; r < ranks.size(); ++r)
    threads.emplace_back([&, r] {
      Rank& me = ranks[r];
      dsdkHandle_t h = nullptr;
      dsdkSVMDescriptor_t desc = nullptr;
      dsdkSVMModel_t model = nullptr;
      dsdkCreate(&h, DSDK_BACKEND_CPU);
      dsdkSetNumThreads(h, me.threads);
      dsdkCreateSVMDescriptor(&desc);
      set_up(desc, me);
      Endpoint end{&world, me.fail_at};
      dsdkSetSVMCommunicator(desc, &Endpoint::all_reduce, &end,
                             me.claimed_rank >= 0 ? me.claimed_rank : int(r), int(ranks.size()));
      me.status = dsdkSVMTrain(h, desc, me.solver, DSDK_DATA_DOUBLE, me.n, me.d,
                               me.n ? me.X.data() : nullptr, me.n ? me.y.data() : nullptr,
                               &model);
      me.message = dsdkGetLastErrorMessage(h);
      if (model) read_model(model, &me);
      dsdkDestroySVMModel(model);
      dsdkDestroySVMDescriptor(desc);
      dsdkDestroy(h);
    });
  for (std::thread& t : threads) t.join();
}

bool contains(const std::string& s, const char* word) { return s.find(word) != std::string::npos; }

// Every rank returned `expected`, and every message names `word`.
void check_all(const std::vector<Rank>& ranks, dsdkStatus_t expected, const char* word) {
  for (const Rank& r : ranks) {
    CHECK(r.status == expected);
    CHECK(contains(r.message, word));
    if (r.status != expected || !contains(r.message, word))
      std::printf("  got %s: %s (expected %s naming '%s')\n", dsdkGetErrorString(r.status),
                  r.message.c_str(), dsdkGetErrorString(expected), word);
  }
}

void test_bad_shard_fails_on_every_rank() {
  std::vector<Rank> ranks{shard(20, 3, 1), shard(20, 3, 2)};
  ranks[1].X[5] = std::numeric_limits<double>::quiet_NaN();
  train_all(ranks);
  check_all(ranks, DSDK_STATUS_BAD_PARAM, "");
  CHECK(contains(ranks[1].message, "NaN"));     // its own reason
  CHECK(contains(ranks[0].message, "rank 1"));  // the others name it
}

void test_mismatched_features_fail_on_every_rank() {
  std::vector<Rank> ranks{shard(20, 3, 1), shard(20, 4, 2)};
  train_all(ranks);
  check_all(ranks, DSDK_STATUS_BAD_PARAM, "d (4)");
}

void test_mismatched_settings_fail_on_every_rank() {
  std::vector<Rank> ranks{shard(20, 3, 1), shard(20, 3, 2)};
  ranks[1].C = 2.0;
  train_all(ranks);
  check_all(ranks, DSDK_STATUS_BAD_PARAM, "rank 1's C");
}

void test_mismatched_threads_fail_on_every_rank() {
  std::vector<Rank> ranks{shard(20, 3, 1), shard(20, 3, 2)};
  ranks[0].threads = 2;
  train_all(ranks);
  check_all(ranks, DSDK_STATUS_BAD_PARAM, "rank 1's threads");
}

void test_smo_is_refused_on_every_rank() {
  std::vector<Rank> ranks{shard(20, 3, 1), shard(20, 3, 2)};
  for (Rank& r : ranks) r.solver = DSDK_SVM_SOLVER_SMO;
  train_all(ranks);
  check_all(ranks, DSDK_STATUS_NOT_SUPPORTED, "SPSVM");
}

void test_classes_are_counted_over_all_ranks() {
  std::vector<Rank> ranks{shard(10, 3, 1, 1), shard(10, 3, 2, 1)};
  train_all(ranks);
  check_all(ranks, DSDK_STATUS_BAD_PARAM, "only the +1 class");
}

void test_every_rank_must_be_claimed_once() {
  std::vector<Rank> ranks{shard(20, 3, 1), shard(20, 3, 2)};
  ranks[1].claimed_rank = 0;
  train_all(ranks);
  check_all(ranks, DSDK_STATUS_BAD_PARAM, "claimed rank");
}

// An exchange that fails on one rank during training fails the call there;
// the other rank, left waiting, fails at the communicator's deadline (as a
// c10d timeout would), and neither returns a model.
void test_failed_exchange_during_training() {
  std::vector<Rank> ranks{shard(60, 3, 1), shard(60, 3, 2)};
  ranks[1].fail_at = 3;
  train_all(ranks);
  check_all(ranks, DSDK_STATUS_EXECUTION_FAILED, "all-reduce failed");
  for (const Rank& r : ranks) CHECK(r.index.empty());
}

// A communicator whose exchange fails, a rank outside the world, and the
// one-vs-one call, which does not train over a communicator: one thread.
void test_single_rank_refusals() {
  const Rank r = shard(20, 3, 1);
  dsdkHandle_t h = nullptr;
  dsdkSVMDescriptor_t desc = nullptr;
  dsdkSVMModel_t model = nullptr;
  CHECK_OK(dsdkCreate(&h, DSDK_BACKEND_CPU));
  CHECK_OK(dsdkCreateSVMDescriptor(&desc));
  CHECK_OK(dsdkSetSVMCommunicator(desc, &failing_all_reduce, nullptr, 0, 2));
  CHECK_STATUS(dsdkSVMTrain(h, desc, DSDK_SVM_SOLVER_SPSVM, DSDK_DATA_DOUBLE, r.n, r.d,
                            r.X.data(), r.y.data(), &model),
               DSDK_STATUS_EXECUTION_FAILED);
  CHECK_MESSAGE(h, "all-reduce failed");
  CHECK(model == nullptr);
  CHECK_OK(dsdkSetSVMCommunicator(desc, &failing_all_reduce, nullptr, 2, 2));
  CHECK_STATUS(dsdkSVMTrain(h, desc, DSDK_SVM_SOLVER_SPSVM, DSDK_DATA_DOUBLE, r.n, r.d,
                            r.X.data(), r.y.data(), &model),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(h, "rank must be in [0, worldSize = 2)");
  std::vector<int32_t> labels(size_t(r.n));
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = r.y[i] > 0;
  dsdkSVMModel_t models[1] = {nullptr};
  CHECK_OK(dsdkSetSVMCommunicator(desc, &failing_all_reduce, nullptr, 0, 2));
  CHECK_STATUS(dsdkSVMTrainOneVsOne(h, desc, DSDK_SVM_SOLVER_SPSVM, DSDK_DATA_DOUBLE, r.n, r.d,
                                    r.X.data(), labels.data(), 2, nullptr, models),
               DSDK_STATUS_NOT_SUPPORTED);
  CHECK_MESSAGE(h, "communicator");
  dsdkDestroySVMDescriptor(desc);
  dsdkDestroy(h);
}

// The ranks' shards concatenated in rank order, and the single-process fit of it.
Rank concatenated(const std::vector<Rank>& ranks) {
  Rank all;
  all.d = ranks[0].d;
  for (const Rank& r : ranks) {
    all.n += r.n;
    all.X.insert(all.X.end(), r.X.begin(), r.X.end());
    all.y.insert(all.y.end(), r.y.begin(), r.y.end());
  }
  dsdkHandle_t h = nullptr;
  dsdkSVMDescriptor_t desc = nullptr;
  dsdkSVMModel_t model = nullptr;
  CHECK_OK(dsdkCreate(&h, DSDK_BACKEND_CPU));
  CHECK_OK(dsdkSetNumThreads(h, 1));
  CHECK_OK(dsdkCreateSVMDescriptor(&desc));
  set_up(desc, all);
  CHECK_OK(dsdkSVMTrain(h, desc, DSDK_SVM_SOLVER_SPSVM, DSDK_DATA_DOUBLE, all.n, all.d,
                        all.X.data(), all.y.data(), &model));
  if (model) read_model(model, &all);
  dsdkDestroySVMModel(model);
  dsdkDestroySVMDescriptor(desc);
  dsdkDestroy(h);
  return all;
}

// Shards of uneven sizes, one of them empty: every rank gets the same model,
// and it is the single-process model of the concatenation up to rounding
// (the ranks add the same terms in another order; the same basis is chosen,
// and the Newton steps stop at 1e-3 tol of F, far above that rounding). With
// n rows beyond the candidate-scoring sample (every stride-th row when n >
// 16384), the last shard starts at an odd row, so its sample is offset.
void check_ranks_train_the_model_of_all_rows(std::vector<Rank> ranks) {
  train_all(ranks);
  const Rank all = concatenated(ranks);
  for (const Rank& r : ranks) {
    CHECK(r.status == DSDK_STATUS_SUCCESS);
    CHECK(r.index == ranks[0].index);
    CHECK(r.coef == ranks[0].coef);  // bit for bit
    CHECK(r.info.bias == ranks[0].info.bias);
  }
  CHECK(ranks[0].info.nSupport > 4);
  CHECK(ranks[0].index == all.index);
  double scale = 0;
  for (double c : all.coef) scale = std::max(scale, std::fabs(c));
  // The objective agrees to 1e-8, but the final Newton steps stop once a step
  // would gain less than 1e-3 tol of F, and near the optimum F moves with the
  // square of the coefficients' error, so the coefficients agree less closely:
  // 4e-6 of the largest in the sanitizer build (its rounding differs from -O2's). A
  // row counted twice or missed moves them by far more than 1e-4.
  for (size_t j = 0; j < all.coef.size() && j < ranks[0].coef.size(); ++j)
    CHECK_NEAR(ranks[0].coef[j], all.coef[j], 1e-4 * scale);
  CHECK_NEAR(ranks[0].info.bias, all.info.bias, 1e-6 * std::max(1.0, std::fabs(all.info.bias)));
  CHECK_NEAR(ranks[0].info.objective, all.info.objective, 1e-8 * all.info.objective);
}

void test_ranks_train_the_model_of_all_rows() {
  check_ranks_train_the_model_of_all_rows({shard(130, 4, 1), shard(0, 4, 2), shard(70, 4, 3)});
  check_ranks_train_the_model_of_all_rows(
      {shard(16501, 4, 4), shard(0, 4, 5), shard(16500, 4, 6)});
}

}  // namespace

int main() {
  test_ranks_train_the_model_of_all_rows();
  test_bad_shard_fails_on_every_rank();
  test_mismatched_features_fail_on_every_rank();
  test_mismatched_settings_fail_on_every_rank();
  test_mismatched_threads_fail_on_every_rank();
  test_smo_is_refused_on_every_rank();
  test_classes_are_counted_over_all_ranks();
  test_every_rank_must_be_claimed_once();
  test_single_rank_refusals();
  test_failed_exchange_during_training();
  return check::report("test_svm_comm");
}
