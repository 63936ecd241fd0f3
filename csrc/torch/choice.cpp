#include "torch/choice.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <string_view>
#include <utility>

#include "torch/bindings.h"

namespace dsdk_torch {
namespace {

constexpr const char* kEnvVar = "DSDKERN_ALGORITHM_CHOICE";
// Mode values index this table; kUnset until the environment has been read.
constexpr std::array<const char*, 3> kModeNames = {"auto", "dsdk", "torch"};
constexpr int kAuto = 0, kForceDsdk = 1, kUnset = -1;

std::atomic<int> g_mode{kUnset};

int parse_mode(const std::string& s, const char* what) {
  auto it = std::find(kModeNames.begin(), kModeNames.end(), s);
  TORCH_CHECK(it != kModeNames.end(), what, " must be \"auto\", \"dsdk\" or \"torch\", got \"",
              s, "\"");
  return int(it - kModeNames.begin());
}

int mode() {
  int m = g_mode.load();
  if (m != kUnset) return m;
  const char* env = std::getenv(kEnvVar);
  int from_env = env ? parse_mode(env, kEnvVar) : kAuto;
  g_mode.compare_exchange_strong(m, from_env);  // a concurrent set_mode wins
  return g_mode.load();
}

const char* algorithm_name(Algorithm a) { return a == Algorithm::kDsdk ? "dsdk" : "torch"; }

struct Entry {
  Algorithm algorithm;
  double dsdk_ms, torch_ms;  // best measured run of each candidate
  std::string key;           // ChoiceKey::str(), for the listing
};

// Directions are string literals: compared by content, never copied.
using MapKey = std::pair<std::string_view, std::vector<int64_t>>;

struct Cache {
  std::mutex lock;
  std::map<MapKey, Entry> entries;
  int64_t measurements = 0;  // times any key was measured, for tests of the caching
};

Cache& cache() {
  static Cache c;
  return c;
}

double time_ms(const std::function<void(size_t)>& run, size_t i, const at::Device& device,
               SyncFn sync) {
  if (sync) sync(device);
  auto t0 = std::chrono::steady_clock::now();
  run(i);
  if (sync) sync(device);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

Entry measure(const std::function<void(Algorithm)>& run, const at::Device& device, SyncFn sync) {
  constexpr Algorithm both[2] = {Algorithm::kDsdk, Algorithm::kTorch};
  std::vector<double> best = measure_ms(2, [&](size_t i) { run(both[i]); }, device, sync);
  return {best[1] < best[0] ? Algorithm::kTorch : Algorithm::kDsdk, best[0], best[1], {}};
}

}  // namespace

std::vector<double> measure_ms(size_t n, const std::function<void(size_t)>& run,
                               const at::Device& device, SyncFn sync) {
  constexpr int kRounds = 5;
  for (size_t i = 0; i < n; ++i) time_ms(run, i, device, sync);
  std::vector<double> best(n, std::numeric_limits<double>::infinity());
  for (int round = 0; round < kRounds; ++round)
    for (size_t i = 0; i < n; ++i) best[i] = std::min(best[i], time_ms(run, i, device, sync));
  return best;
}

ChoiceKey::ChoiceKey(const char* direction, const at::Tensor& like) : direction_(direction) {
  values_ = {int64_t(like.device().type()), like.device().index(),
             int64_t(like.scalar_type()), like.device().is_cpu() ? at::get_num_threads() : 0};
}

ChoiceKey& ChoiceKey::add(const char* name, const at::Tensor& t) {
  values_.push_back(t.defined() ? t.dim() : -1);
  if (t.defined()) {
    values_.insert(values_.end(), t.sizes().begin(), t.sizes().end());
    values_.insert(values_.end(), t.strides().begin(), t.strides().end());
  }
  fields_.emplace_back(name, Kind::kTensor);
  return *this;
}

ChoiceKey& ChoiceKey::add(const char* name, at::IntArrayRef v) {
  values_.push_back(int64_t(v.size()));
  values_.insert(values_.end(), v.begin(), v.end());
  fields_.emplace_back(name, Kind::kList);
  return *this;
}

ChoiceKey& ChoiceKey::add(const char* name, int64_t v) {
  values_.push_back(v);
  fields_.emplace_back(name, Kind::kInt);
  return *this;
}

std::string ChoiceKey::str() const {
  std::ostringstream s;
  auto type = c10::DeviceType(values_[0]);
  s << direction_ << " " << c10::Device(type, c10::DeviceIndex(values_[1])) << " "
    << c10::toString(at::ScalarType(values_[2]));
  if (type == c10::DeviceType::CPU) s << " threads=" << values_[3];
  size_t i = 4;
  auto list = [&](int64_t n) {
    at::IntArrayRef v(values_.data() + i, size_t(n));
    i += size_t(n);
    return v;
  };
  for (const auto& [name, kind] : fields_) {
    s << " " << name << "=";
    if (kind == Kind::kInt) {
      s << values_[i++];
    } else if (kind == Kind::kList) {
      s << list(values_[i++]);
    } else {
      int64_t dim = values_[i++];
      if (dim < 0) {
        s << "none";
      } else {
        s << list(dim);
        s << "/" << list(dim);
      }
    }
  }
  return s.str();
}

Algorithm choose(const ChoiceKey& key, const at::Device& device, SyncFn sync,
                 const std::function<void(Algorithm)>& run) {
  int m = mode();
  if (m != kAuto) return m == kForceDsdk ? Algorithm::kDsdk : Algorithm::kTorch;
  Cache& c = cache();
  MapKey k(key.direction(), key.values());
  {
    std::lock_guard<std::mutex> guard(c.lock);
    auto it = c.entries.find(k);
    if (it != c.entries.end()) return it->second.algorithm;
  }
  // Measured without the lock: the candidates run torch ops that may take seconds.
  Entry e = measure(run, device, sync);
  e.key = key.str();
  std::lock_guard<std::mutex> guard(c.lock);
  ++c.measurements;
  return c.entries.emplace(std::move(k), std::move(e)).first->second.algorithm;
}

void register_choice_bindings(pybind11::module_& m) {
  m.def(
      "set_algorithm_choice",
      [](const std::string& mode) { g_mode.store(parse_mode(mode, "algorithm choice")); },
      "Sets the algorithm choice mode: 'auto', 'dsdk' or 'torch'.");
  m.def(
      "algorithm_choice", []() { return std::string(kModeNames[mode()]); },
      "The algorithm choice mode in force.");
  m.def(
      "algorithm_choices",
      []() {
        Cache& c = cache();
        std::lock_guard<std::mutex> guard(c.lock);
        pybind11::list out;
        for (const auto& [k, e] : c.entries)
          out.append(pybind11::dict(pybind11::arg("key") = e.key,
                                    pybind11::arg("algorithm") = algorithm_name(e.algorithm),
                                    pybind11::arg("dsdk_ms") = e.dsdk_ms,
                                    pybind11::arg("torch_ms") = e.torch_ms));
        return out;
      },
      "The cached choices, ordered by direction, each a dict of key, algorithm, dsdk_ms, torch_ms.");
  m.def(
      "algorithm_measurements",
      []() {
        Cache& c = cache();
        std::lock_guard<std::mutex> guard(c.lock);
        return c.measurements;
      },
      "How many times a key has been measured since the process started.");
  m.def(
      "clear_algorithm_choices",
      []() {
        Cache& c = cache();
        std::lock_guard<std::mutex> guard(c.lock);
        c.entries.clear();
      },
      "Forgets every cached choice, so that the next call per key measures again.");
}

}  // namespace dsdk_torch
