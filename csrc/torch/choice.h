// Measured choice between dsdk's own kernel and torch's dense kernel on W ⊙ M, per problem
// (like cudnn.benchmark): the first call with a key times both candidates on the real
// arguments, caches the faster, and every later call with that key runs the cached one.
// A mode set from Python or from DSDKERN_ALGORITHM_CHOICE forces either candidate.
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace dsdk_torch {

enum class Algorithm { kDsdk, kTorch };

// The key of one call: its direction ("masked_conv forward", ...) followed by everything
// that decides which candidate is faster. Built with the add() overloads on every call, so
// it is a flat list of integers; str() spells it out only for measured keys.
class ChoiceKey {
 public:
  // Starts with direction (a string literal), dtype, device and (on CPU) torch's intra-op
  // thread count.
  ChoiceKey(const char* direction, const at::Tensor& like);
  ChoiceKey& add(const char* name, const at::Tensor& t);  // sizes and strides, or "none"
  ChoiceKey& add(const char* name, at::IntArrayRef v);
  ChoiceKey& add(const char* name, int64_t v);
  std::string str() const;

  const char* direction() const { return direction_; }
  const std::vector<int64_t>& values() const { return values_; }

 private:
  enum class Kind { kTensor, kList, kInt };
  const char* direction_;
  std::vector<int64_t> values_;
  std::vector<std::pair<const char*, Kind>> fields_;
};

// Waits for the work queued on the candidates' device (nullptr where calls are synchronous),
// so that a measurement times the whole run.
using SyncFn = void (*)(const at::Device&);

// Best time in milliseconds of each of `n` candidates, `run(i)` running candidate i: each runs
// once untimed (one-off setup: oneDNN primitives, allocator growth, packing), then the best of
// five interleaved rounds, as a loaded machine delays single runs by far more than candidates
// differ. The sparse ops' choice (sparse_choice.h) times its candidates with this too.
std::vector<double> measure_ms(size_t n, const std::function<void(size_t)>& run,
                               const at::Device& device, SyncFn sync);

// The algorithm that runs for `key`: the forced one, the cached one, or, on the key's first
// call, the faster after timing `run(kDsdk)` and `run(kTorch)` (each warmed up once, then
// the best of five interleaved runs). Thread-safe; concurrent first calls may both measure,
// and the first result stored stays.
Algorithm choose(const ChoiceKey& key, const at::Device& device, SyncFn sync,
                 const std::function<void(Algorithm)>& run);

// Runs the chosen candidate and returns its result.
template <class Dsdk, class Torch>
auto run_chosen(const ChoiceKey& key, const at::Device& device, SyncFn sync, Dsdk&& dsdk,
                Torch&& torch_path) {
  auto timed = [&](Algorithm a) { a == Algorithm::kDsdk ? (void)dsdk() : (void)torch_path(); };
  return choose(key, device, sync, timed) == Algorithm::kDsdk ? dsdk() : torch_path();
}

}  // namespace dsdk_torch
