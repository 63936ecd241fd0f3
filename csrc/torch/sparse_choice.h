// "auto" of the sparse ops: a measured choice among every candidate that can run a problem
// (dsdk's sparse algorithms on the packed W ⊙ M, dsdk's masked kernel, torch's dense kernel on
// the cached W ⊙ M), like cudnn.benchmark. The first call per key times every candidate on the
// real arguments (measure_ms, choice.h) and caches the fastest, process-wide; later calls with
// that key run it. Dense candidates are always among them, so "auto" is never slower than dense
// by more than the measurement's noise.
#pragma once
#include <ATen/ATen.h>
#include <torch/extension.h>

#include <functional>
#include <vector>

#include "torch/choice.h"

namespace dsdk_torch {

struct SparseCandidate {
  const char* name;  // the layer's algo name ("dense_torch", "direct_sparse", ...)
  std::function<at::Tensor()> run;
  std::function<bool()> can_run;  // asked only before measuring or forcing; empty: always
};

// The index into `candidates` (not empty) that runs for `key`: the forced name (from
// force_sparse_algorithm; a ValueError when it is not among those that can run), the cached
// winner, or, on the key's first call, the fastest of those that can run after timing them.
// Thread-safe; concurrent first calls may both measure, and the first result stored stays.
size_t choose_sparse(const ChoiceKey& key, const at::Device& device, SyncFn sync,
                     const std::vector<SparseCandidate>& candidates);

// sparse_algorithm_choices, sparse_algorithm_measurements, clear_sparse_algorithm_choices and
// force_sparse_algorithm (dsdkern.ops wraps them).
void register_sparse_choice_bindings(pybind11::module_& m);

}  // namespace dsdk_torch
