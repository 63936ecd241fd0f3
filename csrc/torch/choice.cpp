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
};

struct Cache {
  std::mutex lock;
  std::map<std::string, Entry> entries;
  int64_t measurements = 0;  // times any key was measured, for tests of the caching
};

Cache& cache() {
  static Cache c;
  return c;
}

double time_ms(const std::function<void(Algorithm)>& run, Algorithm a, const at::Device& device,
               SyncFn sync) {
  if (sync) sync(device);
  auto t0 = std::chrono::steady_clock::now();
  run(a);
  if (sync) sync(device);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

Entry measure(const std::function<void(Algorithm)>& run, const at::Device& device, SyncFn sync) {
  constexpr Algorithm both[2] = {Algorithm::kDsdk, Algorithm::kTorch};
  // The best of several interleaved runs: a loaded machine delays single runs by far more
  // than the candidates differ.
  constexpr int kRounds = 5;
  // The untimed first runs absorb one-off setup (oneDNN primitive creation, allocator growth).
  for (Algorithm a : both) time_ms(run, a, device, sync);
  double best[2] = {std::numeric_limits<double>::infinity(),
                    std::numeric_limits<double>::infinity()};
  for (int round = 0; round < kRounds; ++round)
    for (int i = 0; i < 2; ++i) best[i] = std::min(best[i], time_ms(run, both[i], device, sync));
  return {best[1] < best[0] ? Algorithm::kTorch : Algorithm::kDsdk, best[0], best[1]};
}

}  // namespace

ChoiceKey::ChoiceKey(const char* direction, const at::Tensor& like) {
  std::ostringstream s;
  s << direction << " " << like.device() << " " << c10::toString(like.scalar_type());
  if (like.device().is_cpu()) s << " threads=" << at::get_num_threads();
  text_ = s.str();
}

ChoiceKey& ChoiceKey::add(const char* name, const at::Tensor& t) {
  std::ostringstream s;
  s << " " << name << "=";
  if (t.defined())
    s << t.sizes() << "/" << t.strides();
  else
    s << "none";
  text_ += s.str();
  return *this;
}

ChoiceKey& ChoiceKey::add(const char* name, at::IntArrayRef v) {
  std::ostringstream s;
  s << " " << name << "=" << v;
  text_ += s.str();
  return *this;
}

ChoiceKey& ChoiceKey::add(const char* name, int64_t v) {
  text_ += " " + std::string(name) + "=" + std::to_string(v);
  return *this;
}

Algorithm choose(const ChoiceKey& key, const at::Device& device, SyncFn sync,
                 const std::function<void(Algorithm)>& run) {
  int m = mode();
  if (m != kAuto) return m == kForceDsdk ? Algorithm::kDsdk : Algorithm::kTorch;
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> guard(c.lock);
    auto it = c.entries.find(key.str());
    if (it != c.entries.end()) return it->second.algorithm;
  }
  // Measured without the lock: the candidates run torch ops that may take seconds.
  Entry e = measure(run, device, sync);
  std::lock_guard<std::mutex> guard(c.lock);
  ++c.measurements;
  return c.entries.emplace(key.str(), e).first->second.algorithm;
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
        for (const auto& [key, e] : c.entries)
          out.append(pybind11::dict(pybind11::arg("key") = key,
                                    pybind11::arg("algorithm") = algorithm_name(e.algorithm),
                                    pybind11::arg("dsdk_ms") = e.dsdk_ms,
                                    pybind11::arg("torch_ms") = e.torch_ms));
        return out;
      },
      "The cached choices, in key order, each a dict of key, algorithm, dsdk_ms, torch_ms.");
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
