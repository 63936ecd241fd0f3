// The working-set rule of the SMO outer loop (core/svm_smo_driver.h), host
// code that every backend runs alike: the backend hands over a host copy of
// alpha and G each round and receives the set, so a problem takes the same
// working sets on every backend.
//
// Why on the host: among equal -yG (every variable ties at alpha = 0) the order
// is the one std::partial_sort leaves, which a device sort does not reproduce,
// and the CPU solver's results are defined by it.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/svm_wss.h"

namespace dsdk {

class SmoWorkingSet {
 public:
  // n variables, sets of at most q (even, >= 2).
  SmoWorkingSet(int64_t n, int64_t q) : n_(n), q_(q), in_ws_(size_t(n), 0) {}

  // The next set from the iterate (y, alpha, G, C: n host values each), newest
  // first: the most violating of I_up (largest -yG) and of I_low (smallest -yG)
  // not kept, one of each in turn (a free variable counts for the side that
  // reaches it first); then the previous round's newest q/2 (FIFO: a variable
  // spends two rounds); then, when the new ones run short (a row with C_t = 0
  // is in neither set), more of the previous set. fresh keeps nothing, so the
  // set holds the maximal violating pair. The set has fewer than q members
  // only when fresh and short of candidates.
  void next(const int32_t* y, const double* alpha, const double* G, const double* C, bool fresh) {
    const int64_t half = q_ / 2;
    prev_.assign(ws_.begin(), ws_.end());
    for (int64_t t : prev_) in_ws_[size_t(t)] = 0;
    const int64_t keep_first = fresh ? 0 : std::min<int64_t>(half, int64_t(prev_.size()));
    for (int64_t k = 0; k < keep_first; ++k) in_ws_[size_t(prev_[size_t(k)])] = 1;

    up_.clear();
    low_.clear();
    for (int64_t t = 0; t < n_; ++t) {
      if (in_ws_[size_t(t)]) continue;
      const double f = -y[t] * G[t];
      if (smo_in_up(y[t], alpha[t], C[t])) up_.push_back({f, t});
      if (smo_in_low(y[t], alpha[t], C[t])) low_.push_back({f, t});
    }
    const int64_t want = q_ - keep_first;
    top(up_, want, true);
    top(low_, want, false);
    ws_.clear();
    size_t a = 0, b = 0;
    while (int64_t(ws_.size()) < want && (a < up_.size() || b < low_.size())) {
      if (a < up_.size()) take(up_[a++].i);
      if (int64_t(ws_.size()) < want && b < low_.size()) take(low_[b++].i);
    }
    for (int64_t k = 0; k < keep_first; ++k) ws_.push_back(prev_[size_t(k)]);
    for (size_t k = size_t(keep_first); !fresh && k < prev_.size() && int64_t(ws_.size()) < q_;
         ++k)
      take(prev_[k]);
  }

  // The set: size() sample indices in [0, n), distinct, valid until next().
  const int64_t* data() const { return ws_.data(); }
  int64_t size() const { return int64_t(ws_.size()); }

 private:
  struct Candidate {
    double f;  // -y G
    int64_t i;
  };

  // The best min(want, |v|) of v by f (largest first when largest), in order.
  static void top(std::vector<Candidate>& v, int64_t want, bool largest) {
    auto cmp = [largest](const Candidate& a, const Candidate& b) {
      return largest ? a.f > b.f : a.f < b.f;
    };
    const size_t k = size_t(std::min<int64_t>(want, int64_t(v.size())));
    std::partial_sort(v.begin(), v.begin() + k, v.end(), cmp);
    v.resize(k);
  }

  void take(int64_t t) {
    if (in_ws_[size_t(t)]) return;
    in_ws_[size_t(t)] = 1;
    ws_.push_back(t);
  }

  int64_t n_, q_;
  std::vector<char> in_ws_;  // member of the set being built (or kept)
  std::vector<int64_t> ws_, prev_;
  std::vector<Candidate> up_, low_;
};

}  // namespace dsdk
