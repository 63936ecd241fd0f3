// Least-recently-used cache of whole kernel rows K(x_i, X) for the SMO solver.
// The rows of the current working set are pinned (never evicted during the
// round that requested them), so the pool always holds at least the largest
// request; beyond that its size is bounded by the caller's cache bytes.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "cpu/svm_kernel.h"

namespace dsdk {
namespace cpu {

template <typename T>
class RowCache {
 public:
  // Pool of max(min_rows, cache_bytes / row bytes) rows, at most n.
  RowCache(KernelRows<T>* engine, int64_t n, int64_t min_rows, size_t cache_bytes)
      : engine_(engine), n_(n), slot_of_(size_t(n), -1) {
    int64_t by_bytes = int64_t(cache_bytes / (size_t(n) * sizeof(T)));
    slots_ = std::min<int64_t>(n, std::max<int64_t>(min_rows, by_bytes));
    // Left uninitialised: pages are touched only when a row lands there.
    pool_.reset(new T[size_t(slots_) * size_t(n)]);
    owner_.assign(size_t(slots_), -1);
    last_use_.assign(size_t(slots_), 0);
  }

  // rows[r] = K(x_{idx[r]}, X) for r < m (m <= the pool's rows, idx distinct);
  // computes the missing rows in one batch. Pointers stay valid until the
  // next call.
  void get(const int64_t* idx, int64_t m, const T** rows) {
    ++epoch_;
    missing_.clear();
    for (int64_t r = 0; r < m; ++r) {
      int64_t s = slot_of_[size_t(idx[r])];
      if (s >= 0) {
        last_use_[size_t(s)] = epoch_;
        rows[r] = &pool_[size_t(s) * size_t(n_)];
      } else {
        missing_.push_back(r);
      }
    }
    if (missing_.empty()) return;
    // Victims: never-used slots first, then the least recently used among
    // those this request does not pin.
    victims_.clear();
    for (int64_t s = 0; s < slots_; ++s)
      if (last_use_[size_t(s)] != epoch_) victims_.push_back(s);
    const size_t need = missing_.size();
    std::nth_element(
        victims_.begin(), victims_.begin() + (need - 1), victims_.end(),
        [&](int64_t a, int64_t b) { return last_use_[size_t(a)] < last_use_[size_t(b)]; });
    fill_idx_.clear();
    fill_dst_.clear();
    for (size_t k = 0; k < need; ++k) {
      int64_t s = victims_[k], r = missing_[k];
      if (owner_[size_t(s)] >= 0) slot_of_[size_t(owner_[size_t(s)])] = -1;
      owner_[size_t(s)] = idx[r];
      slot_of_[size_t(idx[r])] = s;
      last_use_[size_t(s)] = epoch_;
      T* row = &pool_[size_t(s) * size_t(n_)];
      rows[r] = row;
      fill_idx_.push_back(idx[r]);
      fill_dst_.push_back(row);
    }
    engine_->compute(fill_idx_.data(), int64_t(fill_idx_.size()), fill_dst_.data());
  }

 private:
  KernelRows<T>* engine_;
  int64_t n_, slots_ = 0;
  uint64_t epoch_ = 0;
  std::unique_ptr<T[]> pool_;
  std::vector<int64_t> slot_of_, owner_, missing_, victims_, fill_idx_;
  std::vector<uint64_t> last_use_;
  std::vector<T*> fill_dst_;
};

}  // namespace cpu
}  // namespace dsdk
