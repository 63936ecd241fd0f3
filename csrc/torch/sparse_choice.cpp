#include "torch/sparse_choice.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace dsdk_torch {
namespace {

struct Entry {
  std::string winner;
  std::vector<std::pair<std::string, double>> times_ms;  // every candidate's best run
  std::string key;                                       // ChoiceKey::str(), for the listing
};

// Directions are string literals: compared by content, never copied.
using MapKey = std::pair<std::string_view, std::vector<int64_t>>;

struct Cache {
  std::mutex lock;
  std::map<MapKey, Entry> entries;
  int64_t measurements = 0;
  std::string forced;  // "" = measure
};

Cache& cache() {
  static Cache c;
  return c;
}

size_t index_of(const std::vector<SparseCandidate>& candidates, const std::string& name) {
  for (size_t i = 0; i < candidates.size(); ++i)
    if (name == candidates[i].name) return i;
  return candidates.size();
}

bool can_run(const SparseCandidate& c) { return !c.can_run || c.can_run(); }

}  // namespace

size_t choose_sparse(const ChoiceKey& key, const at::Device& device, SyncFn sync,
                     const std::vector<SparseCandidate>& candidates) {
  Cache& c = cache();
  MapKey k(key.direction(), key.values());
  std::string forced;
  {
    std::lock_guard<std::mutex> guard(c.lock);
    forced = c.forced;
    auto it = c.entries.find(k);
    if (forced.empty() && it != c.entries.end()) {
      size_t i = index_of(candidates, it->second.winner);
      if (i < candidates.size()) return i;
    }
  }
  // Asked and measured without the lock: the candidates may take seconds.
  std::vector<size_t> runnable;
  std::string names;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!can_run(candidates[i])) continue;
    runnable.push_back(i);
    names += std::string(names.empty() ? "" : ", ") + candidates[i].name;
  }
  if (!forced.empty()) {
    size_t i = index_of(candidates, forced);
    TORCH_CHECK_VALUE(std::find(runnable.begin(), runnable.end(), i) != runnable.end(),
                      key.direction(), ": the forced algorithm \"", forced,
                      "\" cannot run this problem (candidates: ", names, ")");
    return i;
  }
  std::vector<double> ms = measure_ms(
      runnable.size(), [&](size_t j) { (void)candidates[runnable[j]].run(); }, device, sync);
  Entry e;
  size_t best = 0;
  for (size_t j = 0; j < runnable.size(); ++j) {
    e.times_ms.emplace_back(candidates[runnable[j]].name, ms[j]);
    if (ms[j] < ms[best]) best = j;
  }
  best = runnable[best];
  e.winner = candidates[best].name;
  e.key = key.str();
  std::lock_guard<std::mutex> guard(c.lock);
  ++c.measurements;
  auto stored = c.entries.emplace(std::move(k), std::move(e)).first;
  size_t i = index_of(candidates, stored->second.winner);
  return i < candidates.size() ? i : best;
}

void register_sparse_choice_bindings(pybind11::module_& m) {
  m.def(
      "sparse_algorithm_choices",
      []() {
        Cache& c = cache();
        std::lock_guard<std::mutex> guard(c.lock);
        pybind11::list out;
        for (const auto& [k, e] : c.entries) {
          pybind11::dict times;
          for (const auto& [name, ms] : e.times_ms) times[pybind11::str(name)] = ms;
          out.append(pybind11::dict(pybind11::arg("key") = e.key,
                                    pybind11::arg("algorithm") = e.winner,
                                    pybind11::arg("times_ms") = times));
        }
        return out;
      },
      "The cached winners of the sparse ops' \"auto\", each a dict of key, algorithm and "
      "times_ms (candidate name -> best measured milliseconds).");
  m.def(
      "sparse_algorithm_measurements",
      []() {
        Cache& c = cache();
        std::lock_guard<std::mutex> guard(c.lock);
        return c.measurements;
      },
      "How many times a sparse-op key has been measured since the process started.");
  m.def(
      "clear_sparse_algorithm_choices",
      []() {
        Cache& c = cache();
        std::lock_guard<std::mutex> guard(c.lock);
        c.entries.clear();
      },
      "Forgets the cached winners of the sparse ops' \"auto\".");
  m.def(
      "force_sparse_algorithm",
      [](const std::string& name) {
        Cache& c = cache();
        std::lock_guard<std::mutex> guard(c.lock);
        c.forced = name;
      },
      "Makes \"auto\" run the candidate `name` without measuring ('' = measure again).");
}

}  // namespace dsdk_torch
