// Test data and the reference of dsdkMagnitudeMask, shared by the CPU and CUDA tests:
// TOPK by a stable sort of the indices on |w| (descending), so that ties keep the lower
// index; THRESHOLD by a plain comparison in double.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

namespace mask_ref {

// The indices by |w| descending, ties by index; its first `keep` entries are the TOPK mask.
struct Ranking {
  std::vector<int64_t> order;
  explicit Ranking(const std::vector<double>& w) : order(w.size()) {
    std::iota(order.begin(), order.end(), int64_t(0));
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return std::fabs(w[size_t(a)]) > std::fabs(w[size_t(b)]);
    });
  }
  std::vector<uint8_t> topk(int64_t keep) const {
    std::vector<uint8_t> m(order.size(), 0);
    for (int64_t j = 0; j < keep; ++j) m[size_t(order[size_t(j)])] = 1;
    return m;
  }
};

inline std::vector<uint8_t> threshold(const std::vector<double>& w, double t) {
  std::vector<uint8_t> m(w.size());
  for (size_t i = 0; i < w.size(); ++i) m[i] = std::fabs(w[i]) >= t;
  return m;
}

enum class Kind { kNormal, kCoarse, kIntegers, kEqual, kZeros, kSpecial };
constexpr Kind kKinds[] = {Kind::kNormal,  Kind::kCoarse, Kind::kIntegers,
                           Kind::kEqual,   Kind::kZeros,  Kind::kSpecial};

// n values of one kind, each rounded by `round` to what the caller's type stores: normal
// draws, normal draws in steps of 2^-10 (ties spread over many magnitudes), small
// integers of both signs (many ties), one repeated value, +-0.0, and a mix with
// infinities, tiny and huge values.
template <class Round>
std::vector<double> make(Kind kind, int64_t n, uint32_t seed, Round round) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0.0, 0.05);
  std::uniform_int_distribution<int> small(-4, 4);
  const double special[] = {std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(), 0.0, -0.0, 0.5, -0.5,
                            std::ldexp(1.0, -30), 65504.0, -65504.0, 3.0};
  std::vector<double> w(static_cast<size_t>(n));
  for (auto& v : w) {
    switch (kind) {
      case Kind::kNormal: v = g(rng); break;
      case Kind::kCoarse: v = std::ldexp(std::round(std::ldexp(g(rng), 10)), -10); break;
      case Kind::kIntegers: v = small(rng); break;
      case Kind::kEqual: v = (rng() & 1) ? -0.25 : 0.25; break;
      case Kind::kZeros: v = (rng() & 1) ? -0.0 : 0.0; break;
      case Kind::kSpecial: v = special[rng() % 10]; break;
    }
    v = round(v);
  }
  return w;
}

// keep values worth testing for n entries.
inline std::vector<int64_t> keeps(int64_t n, uint32_t seed) {
  std::vector<int64_t> k = {0, n};
  if (n >= 1) k.insert(k.end(), {1, n - 1, n / 2, n / 3, int64_t(std::mt19937(seed)() % uint32_t(n))});
  std::sort(k.begin(), k.end());
  k.erase(std::unique(k.begin(), k.end()), k.end());
  return k;
}

}  // namespace mask_ref
