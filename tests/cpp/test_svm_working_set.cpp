// The SMO working-set rule (core/svm_smo_working_set.h) that every backend
// runs: on random iterates with distinct -yG, against a reference that fully
// sorts I_up and I_low and interleaves them; with ties (every -yG equal, as
// at alpha = 0), the set's invariants: q distinct members, the previous
// newest half kept in order, and a fresh set holding the maximal violating pair.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "check.h"
#include "core/svm_smo_working_set.h"

namespace {

struct Iterate {
  std::vector<int32_t> y;
  std::vector<double> alpha, G, C;
};

// alpha at 0, at C_t or free in about equal parts; G with distinct -yG unless
// tied, then G = -1 everywhere.
Iterate make_iterate(int64_t n, std::mt19937& rng, bool tied) {
  Iterate it;
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int64_t t = 0; t < n; ++t) {
    it.y.push_back(u(rng) < 0.5 ? 1 : -1);
    it.C.push_back(0.5 + u(rng));
    const double r = u(rng);
    it.alpha.push_back(tied || r < 0.34 ? 0.0 : r < 0.67 ? it.C.back() : u(rng) * it.C.back());
    it.G.push_back(tied ? -1.0 : 4.0 * u(rng) - 2.0);
  }
  it.y[0] = 1;  // both classes whatever the draw
  it.y[1] = -1;
  return it;
}

// Samples of one side outside `kept`, best first (largest -yG for I_up).
std::vector<int64_t> ranked(const Iterate& it, const std::vector<char>& kept, bool up) {
  std::vector<int64_t> v;
  for (int64_t t = 0; t < int64_t(it.y.size()); ++t) {
    const bool in = up ? dsdk::smo_in_up(it.y[size_t(t)], it.alpha[size_t(t)], it.C[size_t(t)])
                       : dsdk::smo_in_low(it.y[size_t(t)], it.alpha[size_t(t)], it.C[size_t(t)]);
    if (in && !kept[size_t(t)]) v.push_back(t);
  }
  auto f = [&](int64_t t) { return -it.y[size_t(t)] * it.G[size_t(t)]; };
  std::sort(v.begin(), v.end(),
            [&](int64_t a, int64_t b) { return up ? f(a) > f(b) : f(a) < f(b); });
  return v;
}

// The rule spelled out: want new members, I_up's and I_low's rankings read in
// turn (a sample already taken is passed over), then the kept ones.
std::vector<int64_t> reference(const Iterate& it, const std::vector<int64_t>& prev, int64_t q,
                               bool fresh) {
  std::vector<char> taken(it.y.size(), 0);
  const size_t keep = fresh ? 0 : std::min(size_t(q / 2), prev.size());
  for (size_t k = 0; k < keep; ++k) taken[size_t(prev[k])] = 1;
  const std::vector<int64_t> up = ranked(it, taken, true), low = ranked(it, taken, false);
  std::vector<int64_t> out;
  const size_t want = size_t(q) - keep;
  for (size_t k = 0; out.size() < want && k < std::max(up.size(), low.size()); ++k)
    for (const std::vector<int64_t>* side : {&up, &low})
      if (out.size() < want && k < side->size() && !taken[size_t((*side)[k])]) {
        taken[size_t((*side)[k])] = 1;
        out.push_back((*side)[k]);
      }
  out.insert(out.end(), prev.begin(), prev.begin() + long(keep));
  return out;
}

std::vector<int64_t> members(const dsdk::SmoWorkingSet& ws) {
  return std::vector<int64_t>(ws.data(), ws.data() + ws.size());
}

void distinct_rounds() {
  std::mt19937 rng(5);
  for (int64_t n : {6, 37, 300})
    for (int64_t q : {2, 4, 16, 64}) {
      if (q > n) continue;
      dsdk::SmoWorkingSet ws(n, q);
      std::vector<int64_t> prev;
      for (int round = 0; round < 6; ++round) {
        const Iterate it = make_iterate(n, rng, false);
        const bool fresh = round == 0 || round == 4;
        ws.next(it.y.data(), it.alpha.data(), it.G.data(), it.C.data(), fresh);
        const std::vector<int64_t> got = members(ws);
        CHECK(got == reference(it, prev, q, fresh));
        prev = got;
      }
    }
}

void tied_rounds() {
  std::mt19937 rng(9);
  for (int64_t n : {5, 40, 257})
    for (int64_t q : {2, 4, 32}) {
      if (q > n) continue;
      const Iterate it = make_iterate(n, rng, true);
      dsdk::SmoWorkingSet ws(n, q);
      std::vector<int64_t> prev;
      for (int round = 0; round < 4; ++round) {
        const bool fresh = round == 0 || round == 3;
        ws.next(it.y.data(), it.alpha.data(), it.G.data(), it.C.data(), fresh);
        const std::vector<int64_t> got = members(ws);
        CHECK(int64_t(got.size()) == q);
        std::vector<int64_t> sorted = got;
        std::sort(sorted.begin(), sorted.end());
        CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
        CHECK(sorted.front() >= 0 && sorted.back() < n);
        if (!fresh)
          CHECK(std::equal(prev.begin(), prev.begin() + q / 2, got.end() - q / 2));
        // At alpha = 0 I_up is the positive rows and I_low the negative ones,
        // all tied: a fresh set holds rows of both.
        bool pos = false, neg = false;
        for (int64_t t : got) (it.y[size_t(t)] > 0 ? pos : neg) = true;
        if (fresh) CHECK(pos && neg);
        prev = got;
      }
    }
}

}  // namespace

int main() {
  distinct_rounds();
  tied_rounds();
  return check::report("test_svm_working_set");
}
